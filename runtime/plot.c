/* plot.c: figures as PNG files through PLplot's pngcairo driver.
 *
 * Every figure gets a fresh PLplot stream (plmkstrm ... plend1) and the caller's
 * current stream is restored afterwards. PLplot reports fatal errors through
 * plexit, which would end the process: while a figure is drawn, an exit handler
 * jumps back here instead, the stream is ended if possible and the call fails
 * with the message. Inputs are checked first so that this path stays rare. The
 * file is written to path.tmp and renamed onto path once PLplot has closed it. */
#include "plot.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <plplot/plplot.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

enum {
    PLOT_WIDTH = 900,
    PLOT_HEIGHT = 600,
    COL_BG = 0,     /* white */
    COL_FG = 1,     /* black: axes and text */
    COL_GRID = 2,   /* light gray */
    COL_SERIES = 3, /* first of N_SERIES_COLORS */
    N_SERIES_COLORS = 10,
    MAX_LEGEND = 16,
    COLORBAR_STEPS = 64,
    MAX_TICK_LABELS = 30,
};

/* cmap0: background, foreground, grid, then the "tab10" series colours. */
static const int palette[][3] = {
    {255, 255, 255}, {0, 0, 0},       {200, 200, 200}, {31, 119, 180}, {255, 127, 14},
    {44, 160, 44},   {214, 39, 40},   {148, 103, 189}, {140, 86, 75},  {227, 119, 194},
    {127, 127, 127}, {188, 189, 34},  {23, 190, 207},
};

typedef void (*DrawFn)(const void *ctx);

static jmp_buf plot_jump;
static int plot_jump_armed;
static char plot_msg[512];

static void keep_message(const char *msg)
{
    if (plot_msg[0] == '\0')
        snprintf(plot_msg, sizeof plot_msg, "%s", msg && *msg ? msg : "PLplot error");
}

static int on_plexit(const char *msg)
{
    keep_message(msg);
    if (plot_jump_armed)
        longjmp(plot_jump, 1);
    return 1;
}

static void on_plabort(const char *msg)
{
    keep_message(msg);
}

static void set_palette(void)
{
    int n = (int)(sizeof palette / sizeof palette[0]);
    plscmap0n(16);
    for (int i = 0; i < n; i++)
        plscol0(i, palette[i][0], palette[i][1], palette[i][2]);
}

/* Opens a stream on file, draws, ends the stream; returns 0, or 1 after a
 * PLplot error (message in plot_msg). */
static int draw_stream(const char *file, int nx, DrawFn draw, const void *ctx)
{
    volatile int stage = 0; /* 1: stream made, 2: ending it */
    PLINT prev = 0;
    plgstrm(&prev);
    plsexit(on_plexit);
    plsabort(on_plabort);
    if (setjmp(plot_jump) != 0) {
        if (stage == 1) {
            stage = 2;
            plend1();
        }
        plot_jump_armed = 0;
        plsstrm(prev);
        plsexit(NULL);
        plsabort(NULL);
        return 1;
    }
    plot_jump_armed = 1;
    PLINT strm = -1;
    plmkstrm(&strm);
    if (strm < 0)
        on_plexit("cannot create a PLplot stream");
    stage = 1;
    plsdev("pngcairo");
    plsfnam(file);
    plspage(0, 0, PLOT_WIDTH, PLOT_HEIGHT, 0, 0);
    set_palette();
    plssub(nx, 1);
    plinit();
    plfont(1);
    plschr(0, 1.0);
    draw(ctx);
    stage = 2;
    plend1();
    plot_jump_armed = 0;
    plsstrm(prev);
    plsexit(NULL);
    plsabort(NULL);
    return 0;
}

/* Draws into path.tmp and renames it onto path. */
static int render(const char *path, int nx, DrawFn draw, const void *ctx, Err *err)
{
    char tmp[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return err_set(err, CLRUN_EINPUT, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write figure: %s", path, strerror(errno));
    fclose(f);
    plot_msg[0] = '\0';
    int failed = draw_stream(tmp, nx, draw, ctx);
    struct stat st;
    if (failed || plot_msg[0] || stat(tmp, &st) != 0 || st.st_size == 0) {
        remove(tmp);
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot draw figure: %s", path,
                       plot_msg[0] ? plot_msg : "empty output");
    }
    if (rename(tmp, path) != 0) {
        int e = errno;
        remove(tmp);
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write figure: %s", path, strerror(e));
    }
    return CLRUN_OK;
}

static const char *text(const char *s)
{
    return s ? s : "";
}

/* ---- line charts ---- */

typedef struct {
    double lo, hi;
} Range;

static void range_add(Range *r, double v)
{
    if (!isfinite(v))
        return;
    if (v < r->lo)
        r->lo = v;
    if (v > r->hi)
        r->hi = v;
}

/* Makes a drawable window from r: a default for no data, a width for one value, a margin. */
static void range_finish(Range *r, double margin)
{
    if (r->lo > r->hi) {
        r->lo = 0.0;
        r->hi = 1.0;
        return;
    }
    double span = r->hi - r->lo;
    if (span <= 0.0) {
        double pad = fabs(r->lo) > 0.0 ? fabs(r->lo) * 0.05 : 0.5;
        r->lo -= pad;
        r->hi += pad;
        return;
    }
    r->lo -= span * margin;
    r->hi += span * margin;
}

static int point_ok(const PlotSeries *s, int i)
{
    return isfinite(s->x[i]) && isfinite(s->y[i]);
}

/* Draws the finite runs of a series as lines. */
static void draw_line(const PlotSeries *s)
{
    int start = 0;
    while (start < s->n) {
        while (start < s->n && !point_ok(s, start))
            start++;
        int end = start;
        while (end < s->n && point_ok(s, end))
            end++;
        if (end - start >= 2)
            plline(end - start, s->x + start, s->y + start);
        start = end;
    }
}

static void draw_markers(const PlotSeries *s)
{
    for (int i = 0; i < s->n; i++)
        if (point_ok(s, i))
            plstring(1, s->x + i, s->y + i, "#(840)");
}

static void draw_legend(const PlotPanel *p)
{
    PLINT opts[MAX_LEGEND], colors[MAX_LEGEND], styles[MAX_LEGEND], fg[MAX_LEGEND], nsym[MAX_LEGEND];
    PLFLT widths[MAX_LEGEND], scales[MAX_LEGEND];
    const char *labels[MAX_LEGEND], *symbols[MAX_LEGEND];
    int n = 0;
    for (int i = 0; i < p->n_series && n < MAX_LEGEND; i++) {
        const PlotSeries *s = &p->series[i];
        if (!s->label)
            continue;
        opts[n] = s->markers ? PL_LEGEND_SYMBOL : PL_LEGEND_LINE;
        colors[n] = COL_SERIES + i % N_SERIES_COLORS;
        styles[n] = 1;
        fg[n] = COL_FG;
        nsym[n] = 1;
        widths[n] = 2.0;
        scales[n] = 1.0;
        labels[n] = s->label;
        symbols[n] = "#(840)";
        n++;
    }
    if (n == 0)
        return;
    PLFLT w, h;
    pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX,
             PL_POSITION_TOP | PL_POSITION_RIGHT | PL_POSITION_INSIDE, 0.02, 0.02, 0.08, COL_BG,
             COL_FG, 1, n, 1, n, opts, 1.0, 0.9, 2.0, 0.0, fg, labels, NULL, NULL, NULL, NULL,
             colors, styles, widths, colors, scales, nsym, symbols);
}

static void draw_panel(const PlotPanel *p)
{
    Range rx = {INFINITY, -INFINITY}, ry = {INFINITY, -INFINITY};
    for (int i = 0; i < p->n_series; i++) {
        const PlotSeries *s = &p->series[i];
        for (int j = 0; j < s->n; j++)
            if (point_ok(s, j)) {
                range_add(&rx, s->x[j]);
                range_add(&ry, s->y[j]);
            }
    }
    range_finish(&rx, 0.0);
    range_finish(&ry, 0.05);
    pladv(0);
    plvsta();
    plwind(rx.lo, rx.hi, ry.lo, ry.hi);
    plcol0(COL_GRID);
    plwidth(1.0);
    plbox("g", 0, 0, "g", 0, 0);
    plcol0(COL_FG);
    plbox("bcnst", 0, 0, "bcnstv", 0, 0);
    pllab(text(p->xlabel), text(p->ylabel), text(p->title));
    plwidth(2.0);
    for (int i = 0; i < p->n_series; i++) {
        plcol0(COL_SERIES + i % N_SERIES_COLORS);
        if (p->series[i].markers)
            draw_markers(&p->series[i]);
        else
            draw_line(&p->series[i]);
    }
    plwidth(1.0);
    plcol0(COL_FG);
    draw_legend(p);
}

typedef struct {
    const PlotPanel *panels;
    int n_panels;
} LinesCtx;

static void draw_lines(const void *ctx)
{
    const LinesCtx *c = ctx;
    for (int i = 0; i < c->n_panels; i++)
        draw_panel(&c->panels[i]);
}

static int check_panels(const char *path, const PlotPanel *panels, int n_panels, Err *err)
{
    if (n_panels < 1 || !panels)
        return err_set(err, CLRUN_EINPUT, "%s: a figure needs at least one panel", path);
    for (int i = 0; i < n_panels; i++) {
        const PlotPanel *p = &panels[i];
        if (p->n_series < 0 || (p->n_series > 0 && !p->series))
            return err_set(err, CLRUN_EINPUT, "%s: panel %d: bad series list", path, i);
        for (int j = 0; j < p->n_series; j++) {
            const PlotSeries *s = &p->series[j];
            if (s->n < 0 || (s->n > 0 && (!s->x || !s->y)))
                return err_set(err, CLRUN_EINPUT, "%s: panel %d, series %d: bad points", path, i, j);
        }
    }
    return CLRUN_OK;
}

int plot_lines(const char *path, const PlotPanel *panels, int n_panels, Err *err)
{
    if (!path || !*path)
        return err_set(err, CLRUN_EINPUT, "plot: no output path");
    int rc = check_panels(path, panels, n_panels, err);
    if (rc != CLRUN_OK)
        return rc;
    LinesCtx ctx = {panels, n_panels};
    return render(path, n_panels, draw_lines, &ctx, err);
}

/* ---- images (heatmaps and grayscale grids) ---- */

/* A PLplot matrix p[x][y] for an image of nx columns and ny rows. PLplot
 * colours the quad between grid points (x, y) and (x+1, y+1) by p[x][y], so
 * the matrix has one more point each way than the image has cells. */
typedef struct {
    PLFLT **p;
    PLFLT *data;
    int nx, ny;
} Grid;

static int grid_alloc(Grid *g, int nx, int ny)
{
    g->nx = nx;
    g->ny = ny;
    g->p = malloc((size_t)(nx + 1) * sizeof *g->p);
    g->data = calloc((size_t)(nx + 1) * (size_t)(ny + 1), sizeof *g->data);
    if (!g->p || !g->data) {
        free(g->p);
        free(g->data);
        return -1;
    }
    for (int x = 0; x <= nx; x++)
        g->p[x] = g->data + (size_t)x * (size_t)(ny + 1);
    return 0;
}

static void grid_free(Grid *g)
{
    free(g->p);
    free(g->data);
}

/* Value i of a row-major image held as doubles (d) or floats (f). */
static double image_value(const double *d, const float *f, size_t i)
{
    return d ? d[i] : (double)f[i];
}

/* Copies a row-major image (row 0 on top, doubles d or floats f) into g and
 * puts its finite range in r (lo < hi). Non-finite values go below that range,
 * where draw_image leaves them undrawn: the background shows, so a NaN never
 * passes for a real minimum. */
static void grid_fill(const Grid *g, const double *d, const float *f, Range *r)
{
    *r = (Range){INFINITY, -INFINITY};
    size_t n = (size_t)g->nx * (size_t)g->ny;
    for (size_t i = 0; i < n; i++)
        range_add(r, image_value(d, f, i));
    if (r->lo > r->hi)
        *r = (Range){0.0, 0.0};
    if (r->hi <= r->lo)
        r->hi = r->lo + 1.0;
    double missing = r->lo - (r->hi - r->lo);
    for (int row = 0; row < g->ny; row++)
        for (int x = 0; x < g->nx; x++) {
            double a = image_value(d, f, (size_t)row * (size_t)g->nx + (size_t)x);
            g->p[x][g->ny - 1 - row] = isfinite(a) ? a : missing;
        }
}

static void draw_image(const Grid *g, Range r)
{
    plimagefr((PLFLT_MATRIX)g->p, g->nx + 1, g->ny + 1, 0, g->nx, 0, g->ny, r.lo, r.hi, r.lo, r.hi,
              NULL, NULL);
}

static void set_viridis(void)
{
    PLFLT pos[] = {0.0, 0.25, 0.5, 0.75, 1.0};
    PLFLT red[] = {0.267, 0.231, 0.129, 0.369, 0.992};
    PLFLT green[] = {0.005, 0.322, 0.569, 0.788, 0.906};
    PLFLT blue[] = {0.329, 0.545, 0.549, 0.384, 0.145};
    plscmap1n(256);
    plscmap1l(1, 5, pos, red, green, blue, NULL);
}

static void set_gray(void)
{
    PLFLT pos[] = {0.0, 1.0}, level[] = {0.0, 1.0};
    plscmap1n(256);
    plscmap1l(1, 2, pos, level, level, level, NULL);
}

typedef struct {
    const char *title;
    const char *const *row_labels, *const *col_labels;
    Grid grid;
    Range range;
} HeatCtx;

/* Labels every stride-th tick along one side (given labels, or else indices). */
static void tick_labels(const char *side, int count, const char *const *labels, int rows_side)
{
    int stride = labels ? 1 : (count + MAX_TICK_LABELS - 1) / MAX_TICK_LABELS;
    for (int i = 0; i < count; i += stride) {
        char index[16];
        snprintf(index, sizeof index, "%d", i);
        const char *s = labels ? text(labels[i]) : index;
        if (rows_side)
            plmtex(side, 0.7, 1.0 - (i + 0.5) / count, 1.0, s);
        else /* staggered in two lines when there are many columns */
            plmtex(side, count > 6 && (i / stride) % 2 ? 2.7 : 1.5, (i + 0.5) / count, 0.5, s);
    }
}

static void draw_colorbar(Range r)
{
    PLFLT steps[COLORBAR_STEPS];
    for (int i = 0; i < COLORBAR_STEPS; i++)
        steps[i] = r.lo + (r.hi - r.lo) * i / (COLORBAR_STEPS - 1);
    const PLFLT *values[] = {steps};
    const char *axis_opts[] = {"bcvtm"};
    PLFLT ticks[] = {0.0}, w, h;
    PLINT sub_ticks[] = {0}, n_values[] = {COLORBAR_STEPS};
    plcolorbar(&w, &h, PL_COLORBAR_IMAGE, PL_POSITION_RIGHT | PL_POSITION_OUTSIDE, 0.03, 0.0, 0.04,
               1.0, COL_BG, COL_FG, 1, 0.0, 0.0, 0, 0.0, 0, NULL, NULL, 1, axis_opts, ticks,
               sub_ticks, n_values, values);
}

static void draw_heatmap(const void *ctx)
{
    const HeatCtx *c = ctx;
    pladv(0);
    plvpor(0.14, 0.82, 0.12, 0.9);
    plwind(0, c->grid.nx, 0, c->grid.ny);
    set_viridis();
    draw_image(&c->grid, c->range);
    plcol0(COL_FG);
    plbox("bc", 0, 0, "bc", 0, 0);
    tick_labels("b", c->grid.nx, c->col_labels, 0);
    tick_labels("lv", c->grid.ny, c->row_labels, 1);
    plmtex("t", 1.5, 0.5, 0.5, text(c->title));
    draw_colorbar(c->range);
}

int plot_heatmap(const char *path, const char *title, const double *values, int rows, int cols,
                 const char *const *row_labels, const char *const *col_labels, Err *err)
{
    if (!path || !*path)
        return err_set(err, CLRUN_EINPUT, "plot: no output path");
    if (!values || rows < 1 || cols < 1)
        return err_set(err, CLRUN_EINPUT, "%s: a heatmap needs values, rows and columns", path);
    HeatCtx ctx = {title, row_labels, col_labels, {0}, {0, 0}};
    if (grid_alloc(&ctx.grid, cols, rows) != 0)
        return err_set(err, CLRUN_ERUNTIME, "%s: out of memory", path);
    grid_fill(&ctx.grid, values, NULL, &ctx.range);
    int rc = render(path, 1, draw_heatmap, &ctx, err);
    grid_free(&ctx.grid);
    return rc;
}

typedef struct {
    const char *title;
    const float *images;
    int n, cols;
    const char *const *captions;
    Grid grid;
} ImagesCtx;

/* Sets the viewport of image k inside its cell of the grid below the title. */
static void image_viewport(const ImagesCtx *c, int k)
{
    int rows = (c->n + c->cols - 1) / c->cols;
    double top = c->title ? 0.92 : 0.99, cw = 1.0 / c->cols, ch = top / rows;
    double caption = c->captions ? 0.06 : 0.0;
    int r = k / c->cols, col = k % c->cols;
    double x0 = col * cw + 0.01, x1 = (col + 1) * cw - 0.01;
    double y1 = top - r * ch - 0.01, y0 = top - (r + 1) * ch + 0.01 + caption;
    if (y0 >= y1)
        y0 = y1 - 0.001;
    plvpas(x0, x1, y0, y1, (double)c->grid.ny / c->grid.nx);
}

/* Character scale for the captions: smaller as the columns narrow, so that
 * neighbouring captions do not run into each other. */
static double caption_scale(const ImagesCtx *c)
{
    size_t longest = 0;
    for (int k = 0; c->captions && k < c->n; k++)
        if (c->captions[k] && strlen(c->captions[k]) > longest)
            longest = strlen(c->captions[k]);
    double fit = 80.0 / (double)(longest * (size_t)c->cols + 1); /* ~80 characters fit across */
    return fit < 0.5 ? 0.5 : fit > 0.9 ? 0.9 : fit;
}

static void draw_images(const void *ctx)
{
    const ImagesCtx *c = ctx;
    size_t size = (size_t)c->grid.nx * (size_t)c->grid.ny;
    pladv(0);
    set_gray();
    plcol0(COL_FG);
    if (c->title) {
        plvpor(0.0, 1.0, 0.0, 1.0);
        plwind(0.0, 1.0, 0.0, 1.0);
        plptex(0.5, 0.96, 1.0, 0.0, 0.5, c->title);
    }
    plschr(0, caption_scale(c));
    for (int k = 0; k < c->n; k++) {
        Range r;
        grid_fill(&c->grid, NULL, c->images + (size_t)k * size, &r);
        image_viewport(c, k);
        plwind(0, c->grid.nx, 0, c->grid.ny);
        draw_image(&c->grid, r);
        plbox("bc", 0, 0, "bc", 0, 0);
        if (c->captions && c->captions[k])
            plmtex("b", 1.2, 0.5, 0.5, c->captions[k]);
    }
}

int plot_images(const char *path, const char *title, const float *images, int n, int h, int w,
                int cols, const char *const *captions, Err *err)
{
    if (!path || !*path)
        return err_set(err, CLRUN_EINPUT, "plot: no output path");
    if (!images || n < 1 || h < 1 || w < 1 || cols < 1)
        return err_set(err, CLRUN_EINPUT, "%s: an image grid needs images, sizes and columns", path);
    ImagesCtx ctx = {title, images, n, cols < n ? cols : n, captions, {0}};
    if (grid_alloc(&ctx.grid, w, h) != 0)
        return err_set(err, CLRUN_ERUNTIME, "%s: out of memory", path);
    int rc = render(path, 1, draw_images, &ctx, err);
    grid_free(&ctx.grid);
    return rc;
}
