/* plot.c: figures as PNG files through PLplot's pngcairo driver, or as SVG
 * and PDF through svgcairo and pdfcairo.
 *
 * Every figure gets a fresh PLplot stream (plmkstrm ... plend1) and the caller's
 * current stream is restored afterwards. PLplot reports fatal errors through
 * plexit, which would end the process: while a figure is drawn, an exit handler
 * jumps back here instead, the stream is ended if possible and the call fails
 * with the message. Inputs are checked first so that this path stays rare. The
 * file is written to path.tmp and renamed onto path once PLplot has closed it. */
#include "plot.h"
#include "plot_layout.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <plplot/plplot.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

enum {
    COL_BG = 0,     /* white */
    COL_FG = 1,     /* black: axes and text */
    COL_GRID = 2,   /* light gray */
    COL_SERIES = 3, /* first of N_SERIES_COLORS */
    COL_MARK = 6,   /* tab10's red: what is wrong (a misclassified image) */
    COL_BAND = 15,  /* a translucent tint, set for each band */
    N_SERIES_COLORS = 10,
    COLORBAR_STEPS = 64,
};

/* cmap0: background, foreground, grid, then the "tab10" series colours. */
static const int palette[][3] = {
    {255, 255, 255}, {0, 0, 0},       {200, 200, 200}, {31, 119, 180}, {255, 127, 14},
    {44, 160, 44},   {214, 39, 40},   {148, 103, 189}, {140, 86, 75},  {227, 119, 194},
    {127, 127, 127}, {188, 189, 34},  {23, 190, 207},
};

/* The legend's symbols, Hershey glyphs of plot_marker_shape's shapes in its order. */
static const char *const legend_marker[PLOT_MARKER_SHAPES] = {"#(840)", "#(841)", "#(842)",
                                                              "#(843)", "#(844)"};
/* px per line of text in PLplot's plmtex displacements, with the font set here. */
static const double CHAR_PX = 15.5;

/* pngcairo's resolution when none is set, at which plot_layout.h's pixel
 * sizes hold; plot_set_dpi scales from it. */
static const double PNGCAIRO_DPI = 90.0;
static double plot_scale = 1.0;

void plot_set_dpi(int dpi)
{
    plot_scale = dpi >= PLOT_DPI_MIN && dpi <= PLOT_DPI_MAX ? dpi / (double)PLOT_DPI : 1.0;
}

static const char *const format_names[PLOT_FORMATS] = {"png", "svg", "pdf"};
static const char *const format_devices[PLOT_FORMATS] = {"pngcairo", "svgcairo", "pdfcairo"};
static int plot_format = PLOT_PNG;

void plot_set_format(int format)
{
    plot_format = format >= 0 && format < PLOT_FORMATS ? format : PLOT_PNG;
}

int plot_format_find(const char *name)
{
    for (int i = 0; i < PLOT_FORMATS; i++)
        if (strcmp(name, format_names[i]) == 0)
            return i;
    return -1;
}

void plot_file_path(const char *path, char *out, size_t size)
{
    const char *dot = strrchr(path, '.');
    int stem = dot && strcmp(dot, ".png") == 0 ? (int)(dot - path) : (int)strlen(path);
    snprintf(out, size, "%.*s.%s", stem, path, format_names[plot_format]);
}

typedef void (*DrawFn)(const void *ctx);

/* PLplot sizes text by the page's area (measured with pngcairo: 1.44 times
 * as wide at 1250 px tall as at 600): a figure taller than PLOT_HEIGHT would
 * get larger text, so its sizes are divided by the square root of the excess. */
static double text_base = 1.0;

static void set_text(double scale)
{
    plschr(0, scale * text_base);
}

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
static int draw_stream(const char *file, int nx, int height, DrawFn draw, const void *ctx)
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
    text_base = height > PLOT_HEIGHT ? sqrt((double)PLOT_HEIGHT / height) : 1.0;
    PLINT strm = -1;
    plmkstrm(&strm);
    if (strm < 0)
        on_plexit("cannot create a PLplot stream");
    stage = 1;
    plsdev(format_devices[plot_format]);
    plsfnam(file);
    /* More pixels per inch at the same size in inches: text, markers and
     * layout scale together; line widths are scaled where they are set. */
    plspage(PNGCAIRO_DPI * plot_scale, PNGCAIRO_DPI * plot_scale, (PLINT)lround(PLOT_WIDTH * plot_scale),
            (PLINT)lround(height * plot_scale), 0, 0);
    set_palette();
    plssub(nx, 1);
    plinit();
    plwidth(plot_scale);
    plfont(1);
    set_text(1.0);
    draw(ctx);
    stage = 2;
    plend1();
    plot_jump_armed = 0;
    plsstrm(prev);
    plsexit(NULL);
    plsabort(NULL);
    return 0;
}

/* Why a figure's file came out empty with no word from PLplot (cairo drops
 * write errors): a write of a block to tmp fails with the file system's own
 * reason, a full disk's "No space left on device" among them; NULL when the
 * file system takes it. */
static const char *write_failure(const char *tmp)
{
    static char reason[128];
    char block[4096] = {0};
    FILE *f = fopen(tmp, "wb");
    int failed = !f || fwrite(block, 1, sizeof block, f) != sizeof block || fflush(f) != 0 ||
                 fsync(fileno(f)) != 0;
    snprintf(reason, sizeof reason, "%s", strerror(errno));
    if (f)
        fclose(f);
    return failed ? reason : NULL;
}

/* Draws a figure PLOT_WIDTH x height px into path.tmp and renames it onto
 * path (its extension that of the format). */
static int render(const char *png_path, int nx, int height, DrawFn draw, const void *ctx,
                  Err *err)
{
    char path[PATH_MAX], tmp[PATH_MAX];
    plot_file_path(png_path, path, sizeof path);
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return err_set(err, CLRUN_EINPUT, "%s: path too long", path);
    FILE *f = fopen(tmp, "wb");
    if (!f)
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write figure: %s", path, strerror(errno));
    fclose(f);
    plot_msg[0] = '\0';
    int failed = draw_stream(tmp, nx, height, draw, ctx);
    struct stat st;
    if (failed || plot_msg[0] || stat(tmp, &st) != 0 || st.st_size == 0) {
        const char *reason = plot_msg[0] ? plot_msg : write_failure(tmp);
        remove(tmp);
        if (reason && !plot_msg[0])
            return err_set(err, CLRUN_ERUNTIME, "%s: cannot write figure: %s", path, reason);
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot draw figure: %s", path,
                       reason ? reason : "empty output");
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

/* px to world units along x and y, for shapes drawn at a size in px. */
typedef struct {
    double x, y;
} PxScale;

static PxScale px_scale(const PlotLayout *l)
{
    return (PxScale){(l->window.x1 - l->window.x0) / l->width,
                     (l->window.y1 - l->window.y0) / l->height};
}

/* Series k's marker shape, outlined about each point: drawn here rather than
 * as a font glyph, whose centre sits a few px off the point, so that the
 * layout's padding of PLOT_MARKER_R keeps it whole. */
static void draw_markers(const PlotSeries *s, int k, PxScale px)
{
    double shape[PLOT_MARKER_POINTS][2];
    PLFLT x[PLOT_MARKER_POINTS], y[PLOT_MARKER_POINTS];
    int m = plot_marker_shape(k, shape);
    for (int i = 0; i < s->n; i++) {
        if (!point_ok(s, i))
            continue;
        for (int v = 0; v < m; v++)
            x[v] = s->x[i] + shape[v][0] * px.x, y[v] = s->y[i] + shape[v][1] * px.y;
        plline(m, x, y);
    }
}

static void draw_error_bars(const PlotSeries *s)
{
    for (int i = 0; i < s->n; i++)
        if (point_ok(s, i) && isfinite(s->err[i])) {
            PLFLT x = s->x[i], lo = s->y[i] - fabs(s->err[i]), hi = s->y[i] + fabs(s->err[i]);
            plerry(1, &x, &lo, &hi);
        }
}

/* The band from lo to hi, each run of finite points one polygon, in a
 * translucent tint of the series' colour (COL_BAND) under its line. */
static void draw_band(const PlotSeries *s, int k)
{
    const int *c = palette[COL_SERIES + k % N_SERIES_COLORS];
    plscol0a(COL_BAND, c[0], c[1], c[2], 0.18);
    plcol0(COL_BAND);
    PLFLT *x = malloc(2 * (size_t)s->n * sizeof *x), *y = malloc(2 * (size_t)s->n * sizeof *y);
    for (int start = 0; x && y && start < s->n;) {
        int end = start, m = 0;
        while (end < s->n && isfinite(s->x[end]) && isfinite(s->lo[end]) && isfinite(s->hi[end]))
            end++;
        for (int i = start; i < end; i++)
            x[m] = s->x[i], y[m++] = s->hi[i];
        for (int i = end - 1; i >= start; i--)
            x[m] = s->x[i], y[m++] = s->lo[i];
        if (end - start >= 2)
            plfill(m, x, y);
        start = end + 1;
    }
    free(x);
    free(y);
}

/* The least-squares line across the series' x range, dashed. */
static void draw_fit(const PlotSeries *s)
{
    double slope, icpt;
    PLFLT x[2] = {INFINITY, -INFINITY}, y[2];
    if (!plot_least_squares(s->x, s->y, s->n, &slope, &icpt))
        return;
    for (int i = 0; i < s->n; i++)
        if (point_ok(s, i))
            x[0] = fmin(x[0], s->x[i]), x[1] = fmax(x[1], s->x[i]);
    y[0] = icpt + slope * x[0], y[1] = icpt + slope * x[1];
    pllsty(2);
    plline(2, x, y);
    pllsty(1);
}

static void draw_series(const PlotSeries *s, int k, PxScale px)
{
    if (s->markers != PLOT_MARKERS)
        draw_line(s);
    if (s->markers != PLOT_LINE)
        draw_markers(s, k, px);
    if (s->err)
        draw_error_bars(s);
    if (s->fit)
        draw_fit(s);
}

static void draw_legend(const PlotPanel *p, const PlotLayout *l)
{
    PLINT opts[PLOT_MAX_LEGEND], colors[PLOT_MAX_LEGEND], styles[PLOT_MAX_LEGEND];
    PLINT fg[PLOT_MAX_LEGEND], nsym[PLOT_MAX_LEGEND];
    PLFLT widths[PLOT_MAX_LEGEND], scales[PLOT_MAX_LEGEND];
    const char *labels[PLOT_MAX_LEGEND], *symbols[PLOT_MAX_LEGEND];
    int n = 0;
    for (int i = 0; i < p->n_series && n < PLOT_MAX_LEGEND; i++) {
        const PlotSeries *s = &p->series[i];
        if (!s->label)
            continue;
        opts[n] = (s->markers != PLOT_MARKERS ? PL_LEGEND_LINE : 0) |
                  (s->markers != PLOT_LINE ? PL_LEGEND_SYMBOL : 0);
        colors[n] = COL_SERIES + i % N_SERIES_COLORS;
        styles[n] = 1;
        fg[n] = COL_FG;
        nsym[n] = 1;
        widths[n] = 2.0 * plot_scale;
        scales[n] = 1.0;
        labels[n] = s->label;
        symbols[n] = legend_marker[i % PLOT_MARKER_SHAPES];
        n++;
    }
    if (!l->has_legend || n == 0)
        return;
    PLINT pos = PL_POSITION_INSIDE | (l->legend_top ? PL_POSITION_TOP : PL_POSITION_BOTTOM) |
                (l->legend_right ? PL_POSITION_RIGHT : PL_POSITION_LEFT);
    PLFLT w, h;
    pllegend(&w, &h, PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX, pos, 0.02, 0.02,
             PLOT_LEGEND_SYMBOL / l->width, COL_BG, COL_FG, 1, n, 1, n, opts, 1.0, 0.9, 2.0, 0.0,
             fg, labels, NULL, NULL, NULL, NULL, colors, styles, widths, colors, scales, nsym,
             symbols);
}

/* Label of x tick k: its category name, or its integer value. */
static const char *tick_text(const PlotPanel *p, const PlotLayout *l, int k, char *buf, size_t n)
{
    if (l->categorical)
        return text(p->x_names[k]);
    snprintf(buf, n, "%.0f", l->first_tick + k * l->tick_step);
    return buf;
}

/* Integer or category ticks on the x axis: grid lines, marks at both edges, labels. */
static void draw_x_ticks(const PlotPanel *p, const PlotLayout *l)
{
    const PlotRect *w = &l->window;
    double mark = (w->y1 - w->y0) * 8.0 / l->height; /* 8 px */
    for (int k = 0; k < l->n_ticks; k++) {
        double x = l->first_tick + k * l->tick_step, at = (x - w->x0) / (w->x1 - w->x0);
        plcol0(COL_GRID);
        pljoin(x, w->y0, x, w->y1);
        plcol0(COL_FG);
        pljoin(x, w->y0, x, w->y0 + mark);
        pljoin(x, w->y1, x, w->y1 - mark);
        if (k % l->label_stride)
            continue;
        char buf[32];
        const char *s = tick_text(p, l, k, buf, sizeof buf);
        if (l->rotate_labels)
            plmtex("bv", 0.6, at, 1.0, s);
        else
            plmtex("b", 1.6, at, 0.5, s);
    }
}

static void draw_panel(const PlotPanel *p, int n_panels)
{
    PlotLayout l;
    plot_layout(p, n_panels, &l);
    const PlotRect *w = &l.window;
    int custom_x = l.categorical || l.integer_x;
    pladv(0);
    plvpor(l.viewport.x0, l.viewport.x1, l.viewport.y0, l.viewport.y1);
    plwind(w->x0, w->x1, w->y0, w->y1);
    /* Plain numbers up to 7 digits (examples seen): PLplot's "(x10^4)" goes off the edge. */
    plsxax(7, 0);
    plsyax(5, 0);
    plcol0(COL_GRID);
    plwidth(plot_scale);
    plbox(custom_x ? "" : "g", 0, 0, "g", 0, 0);
    plcol0(COL_FG);
    plbox(custom_x ? "bc" : "bcnst", 0, 0, "bcnstv", 0, 0);
    if (custom_x)
        draw_x_ticks(p, &l);
    plmtex("b", (l.bottom_px - 22) / CHAR_PX, 0.5, 0.5, text(p->xlabel));
    plmtex("l", 5.8, 0.5, 0.5, text(p->ylabel)); /* clear of 5-character tick labels */
    set_text(l.title_scale);
    plmtex("t", 2.0 / l.title_scale, 0.5, 0.5, text(p->title));
    set_text(1.0);
    for (int i = 0; i < p->n_series; i++) /* bands under every line */
        if (p->series[i].lo && p->series[i].hi)
            draw_band(&p->series[i], i);
    plwidth(2.0 * plot_scale);
    for (int i = 0; i < p->n_series; i++) {
        plcol0(COL_SERIES + i % N_SERIES_COLORS);
        draw_series(&p->series[i], i, px_scale(&l));
    }
    plwidth(plot_scale);
    plcol0(COL_FG);
    draw_legend(p, &l);
}

typedef struct {
    const PlotPanel *panels;
    int n_panels;
} LinesCtx;

static void draw_lines(const void *ctx)
{
    const LinesCtx *c = ctx;
    for (int i = 0; i < c->n_panels; i++)
        draw_panel(&c->panels[i], c->n_panels);
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
    return render(path, n_panels, PLOT_HEIGHT, draw_lines, &ctx, err);
}

/* ---- images (heatmaps, and grids of gray or colour pictures) ---- */

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
        g->p = NULL, g->data = NULL;
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

/* Copies a row-major image (row 0 on top, doubles d or floats f) into g; puts
 * its finite range in r (lo < hi) unless `fixed` (r is then the range to
 * draw it in, shared with other images). Non-finite values go below that
 * range, where draw_image leaves them undrawn: the background shows, so a NaN
 * never passes for a real minimum. */
static void grid_fill(const Grid *g, const double *d, const float *f, Range *r, int fixed)
{
    size_t n = (size_t)g->nx * (size_t)g->ny;
    if (!fixed) {
        *r = (Range){INFINITY, -INFINITY};
        for (size_t i = 0; i < n; i++)
            range_add(r, image_value(d, f, i));
        if (r->lo > r->hi)
            *r = (Range){0.0, 0.0};
        if (r->hi <= r->lo)
            r->hi = r->lo + 1.0;
    }
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

/* Draws a colour picture, planes [3][ny][nx] (red, green, blue; row 0 on
 * top), into g. PLplot has no RGB image call, so cmap1 becomes the picture's
 * own palette, one entry a pixel (rgb: room for 3 * nx * ny of them), and
 * cell i holds i + 0.5, which plimagefr's linear map over 0..nx*ny sends to
 * entry i exactly. The three channels share one range, their finite min to
 * max: a photo normalised by mean and std keeps its hues, where a range per
 * channel would tint it. A pixel with a non-finite channel stays undrawn
 * (white), as in gray pictures. The caller sets cmap1 again before drawing
 * anything else with it. */
static void draw_colour_image(const Grid *g, const float *img, PLINT *rgb)
{
    size_t plane = (size_t)g->nx * (size_t)g->ny;
    Range r = {INFINITY, -INFINITY};
    for (size_t i = 0; i < 3 * plane; i++)
        range_add(&r, img[i]);
    if (r.lo > r.hi)
        r = (Range){0.0, 0.0};
    if (r.hi <= r.lo)
        r.hi = r.lo + 1.0;
    for (int row = 0; row < g->ny; row++)
        for (int x = 0; x < g->nx; x++) {
            size_t i = (size_t)row * (size_t)g->nx + (size_t)x;
            int finite = 1;
            for (int c = 0; c < 3; c++) {
                double v = img[c * plane + i];
                long level = isfinite(v) ? lround((v - r.lo) / (r.hi - r.lo) * 255.0) : 0;
                finite = finite && isfinite(v);
                rgb[c * plane + i] = level < 0 ? 0 : level > 255 ? 255 : (PLINT)level;
            }
            g->p[x][g->ny - 1 - row] = finite ? (double)i + 0.5 : -1.0;
        }
    for (int x = 0; x <= g->nx; x++) /* the extra point each way: outside the range, undrawn */
        g->p[x][g->ny] = -1.0;
    for (int y = 0; y <= g->ny; y++)
        g->p[g->nx][y] = -1.0;
    plscmap1(rgb, rgb + plane, rgb + 2 * plane, (PLINT)plane);
    draw_image(g, (Range){0.0, (double)plane});
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

/* Blue for negative, white for 0, red for positive (ColorBrewer's RdBu,
 * turned): for values on a symmetric scale. */
static void set_diverging(void)
{
    PLFLT pos[] = {0.0, 0.25, 0.5, 0.75, 1.0};
    PLFLT red[] = {0.129, 0.573, 1.0, 0.957, 0.698};
    PLFLT green[] = {0.400, 0.773, 1.0, 0.647, 0.094};
    PLFLT blue[] = {0.675, 0.871, 1.0, 0.510, 0.169};
    plscmap1n(256);
    plscmap1l(1, 5, pos, red, green, blue, NULL);
}

typedef struct {
    const PlotHeatmap *h;
    PlotHeatLayout layout;
    Grid grid;
    Range range;
} HeatCtx;

static const char *label_or_index(const char *const *labels, int i, char *buf, size_t n)
{
    if (labels)
        return text(labels[i]);
    snprintf(buf, n, "%d", i);
    return buf;
}

/* Where group g's block of rows starts and ends (rows of a group are together). */
static void group_span(const PlotHeatmap *h, int g, int *start, int *end)
{
    *start = 0;
    while (*start < h->rows && h->groups[*start] != g)
        (*start)++;
    *end = *start;
    while (*end < h->rows && h->groups[*end] == g)
        (*end)++;
}

/* The groups' names beside and under their blocks, and a thin line between blocks. */
static void heat_groups(const HeatCtx *c)
{
    const PlotHeatmap *h = c->h;
    int groups = h->groups[h->rows - 1] + 1;
    for (int g = 0; g < groups; g++) {
        int start, end;
        group_span(h, g, &start, &end);
        double mid = (start + end) / 2.0;
        if (g % c->layout.row_stride == 0)
            plmtex("lv", 0.7, 1.0 - mid / h->rows, 1.0, text(h->group_names[g]));
        if (g % c->layout.col_stride == 0) {
            if (c->layout.rotate_cols)
                plmtex("bv", 0.7, mid / h->cols, 1.0, text(h->group_names[g]));
            else
                plmtex("b", 1.5, mid / h->cols, 0.5, text(h->group_names[g]));
        }
        if (start == 0)
            continue;
        plcol0(COL_BG);
        pljoin(0, h->rows - start, h->cols, h->rows - start);
        pljoin(start, 0, start, h->rows);
        plcol0(COL_FG);
    }
}

/* The row labels (right-aligned, left of the cells) and the column labels
 * (under them, turned when they would overlap), every stride-th of each;
 * the groups' names instead where the rows are grouped. */
static void heat_labels(const HeatCtx *c)
{
    const PlotHeatmap *h = c->h;
    char buf[16];
    if (h->groups) {
        heat_groups(c);
        return;
    }
    for (int i = 0; i < h->rows; i += c->layout.row_stride)
        plmtex("lv", 0.7, 1.0 - (i + 0.5) / h->rows, 1.0,
               label_or_index(h->row_labels, i, buf, sizeof buf));
    for (int j = 0; j < h->cols; j += c->layout.col_stride) {
        const char *s = label_or_index(h->col_labels, j, buf, sizeof buf);
        if (c->layout.rotate_cols)
            plmtex("bv", 0.7, (j + 0.5) / h->cols, 1.0, s);
        else
            plmtex("b", 1.5, (j + 0.5) / h->cols, 0.5, s);
    }
}

/* The axis titles, outside the labels: their room is the viewport's margin. */
static void heat_axis_titles(const HeatCtx *c)
{
    const PlotRect *v = &c->layout.viewport;
    if (c->h->xlabel)
        plmtex("b", (v->y0 * PLOT_HEIGHT - 16) / CHAR_PX, 0.5, 0.5, c->h->xlabel);
    if (c->h->ylabel)
        plmtex("l", (v->x0 * PLOT_WIDTH - 16) / CHAR_PX, 0.5, 0.5, c->h->ylabel);
}

/* Each finite value in its cell: white on the dark end of viridis, black on the light. */
static void heat_values(const HeatCtx *c)
{
    const PlotHeatmap *h = c->h;
    if (!h->value_format || c->layout.value_scale <= 0)
        return;
    set_text(c->layout.value_scale);
    for (int i = 0; i < h->rows; i++)
        for (int j = 0; j < h->cols; j++) {
            double v = h->values[(size_t)i * h->cols + j];
            if (!isfinite(v))
                continue;
            char buf[64];
            snprintf(buf, sizeof buf, h->value_format, v);
            plcol0((v - c->range.lo) / (c->range.hi - c->range.lo) < 0.6 ? COL_BG : COL_FG);
            plptex(j + 0.5, h->rows - i - 0.5 - 0.15 * c->layout.value_scale * CHAR_PX /
                                                   c->layout.cell_h, 1.0, 0.0, 0.5, buf);
        }
    set_text(1.0);
    plcol0(COL_FG);
}

/* Sets the viewport to a rectangle in px from the top left of a figure
 * `height` px tall. */
static void viewport_px(const PlotRect *px, double height)
{
    plvpor(px->x0 / PLOT_WIDTH, px->x1 / PLOT_WIDTH, 1 - px->y1 / height, 1 - px->y0 / height);
}

/* A colour bar in bar (px, from plot_layout): the current colour map from
 * r.lo at the bottom to r.hi at the top, its ticks pointing out of the bar so
 * that none is drawn over the colours, numbers right of it, then label. */
static void draw_colorbar(const PlotRect *bar, double height, Range r, const char *label)
{
    PLFLT col[2][COLORBAR_STEPS + 1], *rows[2] = {col[0], col[1]};
    for (int i = 0; i <= COLORBAR_STEPS; i++)
        col[0][i] = col[1][i] = r.lo + (r.hi - r.lo) * (i + 0.5) / COLORBAR_STEPS;
    viewport_px(bar, height);
    plwind(0, 1, r.lo, r.hi);
    plimagefr((PLFLT_MATRIX)rows, 2, COLORBAR_STEPS + 1, 0, 1, r.lo, r.hi, r.lo, r.hi, r.lo, r.hi,
              NULL, NULL);
    plcol0(COL_FG);
    plwidth(plot_scale);
    plbox("bc", 0, 0, "bcimtv", 0, 0);
    if (label)
        plmtex("r", 5.2, 0.5, 0.5, label);
}

static void draw_heatmap(const void *ctx)
{
    const HeatCtx *c = ctx;
    const PlotRect *v = &c->layout.viewport;
    pladv(0);
    plvpor(v->x0, v->x1, v->y0, v->y1);
    plwind(0, c->grid.nx, 0, c->grid.ny);
    set_viridis();
    draw_image(&c->grid, c->range);
    plcol0(COL_FG);
    plbox("bc", 0, 0, "bc", 0, 0);
    heat_values(c);
    heat_labels(c);
    heat_axis_titles(c);
    set_text(c->layout.title_scale);
    plmtex("t", 1.5 / c->layout.title_scale, 0.5, 0.5, text(c->h->title));
    set_text(1.0);
    set_viridis();
    draw_colorbar(&c->layout.colorbar, PLOT_HEIGHT, c->range, NULL);
}

int plot_heatmap(const char *path, const PlotHeatmap *h, Err *err)
{
    if (!path || !*path)
        return err_set(err, CLRUN_EINPUT, "plot: no output path");
    if (!h || !h->values || h->rows < 1 || h->cols < 1)
        return err_set(err, CLRUN_EINPUT, "%s: a heatmap needs values, rows and columns", path);
    HeatCtx ctx = {.h = h};
    plot_heat_layout(h, &ctx.layout);
    if (grid_alloc(&ctx.grid, h->cols, h->rows) != 0)
        return err_set(err, CLRUN_ERUNTIME, "%s: out of memory", path);
    grid_fill(&ctx.grid, h->values, NULL, &ctx.range, 0);
    int rc = render(path, 1, PLOT_HEIGHT, draw_heatmap, &ctx, err);
    grid_free(&ctx.grid);
    return rc;
}

typedef struct {
    const PlotImages *im;
    PlotImagesLayout layout;
    double caption_scale;
    char (*captions)[96];  /* as drawn: numbered, or NULL for none */
    Grid grid[2];
    Range range[2];        /* of a set on a shared scale */
    int is_signed[2];
    PLINT *palette[2];     /* of a colour set: one picture's pixels as cmap1, else NULL */
} ImagesCtx;

static void set_image_colours(const ImagesCtx *c, int s)
{
    if (c->im->set[s].scale == PLOT_SCALE_SHARED && c->is_signed[s])
        set_diverging();
    else
        set_gray();
}

/* Image k of set s in its box, fitted to its own aspect; framed in red when marked. */
static void draw_part(const ImagesCtx *c, int k, int s)
{
    const PlotImageSet *set = &c->im->set[s];
    PlotRect b;
    plot_image_box(&c->layout, k, s, &b);
    double scale = fmin((b.x1 - b.x0) / set->w, (b.y1 - b.y0) / set->h);
    double cx = (b.x0 + b.x1) / 2, cy = (b.y0 + b.y1) / 2;
    b = (PlotRect){cx - scale * set->w / 2, cx + scale * set->w / 2, cy - scale * set->h / 2,
                   cy + scale * set->h / 2};
    viewport_px(&b, c->layout.height);
    plwind(0, set->w, 0, set->h);
    size_t plane = (size_t)set->h * (size_t)set->w;
    if (set->channels == 3) {
        draw_colour_image(&c->grid[s], set->images + (size_t)k * 3 * plane, c->palette[s]);
    } else {
        Range r = c->range[s];
        grid_fill(&c->grid[s], NULL, set->images + (size_t)k * plane, &r,
                  set->scale == PLOT_SCALE_SHARED);
        set_image_colours(c, s);
        draw_image(&c->grid[s], r);
    }
    int marked = c->im->marked && c->im->marked[k];
    plcol0(marked ? COL_MARK : COL_FG);
    plwidth((marked ? 4.0 : 1.0) * plot_scale);
    plbox("bc", 0, 0, "bc", 0, 0);
    plwidth(plot_scale);
}

/* Panel k's caption, under it and centred on it; red when marked. */
static void draw_caption(const ImagesCtx *c, int k)
{
    PlotRect first, last;
    plot_image_box(&c->layout, k, 0, &first);
    plot_image_box(&c->layout, k, c->layout.parts - 1, &last);
    first.x1 = last.x1;
    viewport_px(&first, c->layout.height);
    plcol0(c->im->marked && c->im->marked[k] ? COL_MARK : COL_FG);
    plmtex("b", 1.2, 0.5, 0.5, c->captions[k]);
}

static void draw_images(const void *ctx)
{
    const ImagesCtx *c = ctx;
    pladv(0);
    plcol0(COL_FG);
    if (c->im->title) {
        plvpor(0.0, 1.0, 0.0, 1.0);
        plwind(0.0, 1.0, 0.0, 1.0);
        set_text(c->layout.title_scale);
        plptex(0.5, 1 - 25 / c->layout.height, 1.0, 0.0, 0.5, c->im->title);
    }
    set_text(c->caption_scale > 0 ? c->caption_scale : 1.0);
    for (int k = 0; k < c->im->n; k++) {
        for (int s = 0; s < c->layout.parts; s++)
            draw_part(c, k, s);
        if (c->captions && c->captions[k][0])
            draw_caption(c, k);
    }
    set_text(1.0);
    for (int s = 0, bar = 0; s < 2; s++)
        if (c->im->set[s].images && c->im->set[s].scale == PLOT_SCALE_SHARED) {
            set_image_colours(c, s);
            draw_colorbar(&c->layout.colorbar[bar++], c->layout.height, c->range[s],
                          c->im->set[s].label);
        }
}

/* The captions as drawn: "k: caption", "k" alone, or the caption; NULL when
 * there are none. */
static char (*make_captions(const PlotImages *im))[96]
{
    if (!im->captions && !im->numbered)
        return NULL;
    char (*out)[96] = calloc((size_t)im->n, sizeof *out);
    for (int k = 0; out && k < im->n; k++) {
        const char *cap = im->captions && im->captions[k] ? im->captions[k] : NULL;
        if (im->numbered)
            snprintf(out[k], sizeof out[k], cap ? "%d: %s" : "%d", k, cap ? cap : "");
        else if (cap)
            snprintf(out[k], sizeof out[k], "%s", cap);
    }
    return out;
}

/* Character scale for the captions: smaller as the panels narrow, so that
 * neighbouring captions keep a gap between them. */
static double caption_scale(char (*captions)[96], int n, double cell_w)
{
    size_t longest = 0;
    for (int k = 0; captions && k < n; k++)
        if (strlen(captions[k]) > longest)
            longest = strlen(captions[k]);
    if (!captions)
        return 0.0;
    double fit = cell_w / ((double)longest * PLOT_CHAR_W + 24);
    return fit < 0.5 ? 0.5 : fit > 0.9 ? 0.9 : fit;
}

static int check_images(const char *path, const PlotImages *im, Err *err)
{
    if (!path || !*path)
        return err_set(err, CLRUN_EINPUT, "plot: no output path");
    if (!im || im->n < 1 || im->cols < 0)
        return err_set(err, CLRUN_EINPUT, "%s: an image grid needs images and columns", path);
    for (int s = 0; s < 2; s++) {
        const PlotImageSet *set = &im->set[s];
        if ((s == 0 || set->images) && (!set->images || set->h < 1 || set->w < 1))
            return err_set(err, CLRUN_EINPUT, "%s: image set %d needs images and sizes", path, s);
        if (set->channels != 0 && set->channels != 1 && set->channels != 3)
            return err_set(err, CLRUN_EINPUT, "%s: image set %d has %d channels (1 or 3 can be "
                           "drawn)", path, s, set->channels);
        /* values compare on one colour map; three of them in a pixel would not */
        if (set->channels == 3 && set->scale == PLOT_SCALE_SHARED)
            return err_set(err, CLRUN_EINPUT, "%s: image set %d: values on a shared scale are "
                           "drawn one channel at a time, not in colour", path, s);
    }
    return CLRUN_OK;
}

int plot_images(const char *path, const PlotImages *im, Err *err)
{
    int rc = check_images(path, im, err);
    if (rc)
        return rc;
    ImagesCtx ctx = {.im = im, .captions = make_captions(im)};
    plot_images_layout(im, 0.0, &ctx.layout);
    ctx.caption_scale = caption_scale(ctx.captions, im->n, ctx.layout.cell_w);
    plot_images_layout(im, ctx.caption_scale, &ctx.layout);
    int parts = ctx.layout.parts, ok = !(im->captions || im->numbered) || ctx.captions;
    for (int s = 0; s < parts; s++) {
        const PlotImageSet *set = &im->set[s];
        size_t plane = (size_t)set->h * (size_t)set->w, channels = set->channels == 3 ? 3 : 1;
        plot_value_range(set->images, (size_t)im->n * channels * plane, &ctx.range[s].lo,
                         &ctx.range[s].hi, &ctx.is_signed[s]);
        ok = ok && grid_alloc(&ctx.grid[s], set->w, set->h) == 0;
        if (ok && channels == 3)
            ok = (ctx.palette[s] = malloc(3 * plane * sizeof *ctx.palette[s])) != NULL;
    }
    rc = ok ? render(path, 1, (int)lround(ctx.layout.height), draw_images, &ctx, err)
            : err_set(err, CLRUN_ERUNTIME, "%s: out of memory", path);
    for (int s = 0; s < parts; s++) {
        grid_free(&ctx.grid[s]);
        free(ctx.palette[s]);
    }
    free(ctx.captions);
    return rc;
}

/* ---- decision boundaries ---- */

typedef struct {
    const PlotBoundary *b;
    PlotBoundaryLayout layout;
    Grid grid;          /* p at the cells' centres, p[x][y] with y = 0 at the bottom */
    PLFLT *centres;     /* the cells' centres along either axis */
} BoundaryCtx;

/* The colours of the classes, as the line charts' first two series. */
static const int class_colour[2] = {COL_SERIES + 1, COL_SERIES}; /* orange, blue */

/* Class 0's colour, light, at 0; white at 0.5; class 1's, light, at 1 (the
 * Playground's orange and blue): the shading stays behind the markers. */
static void set_classes_map(void)
{
    const int *a = palette[class_colour[0]], *z = palette[class_colour[1]];
    PLFLT pos[] = {0.0, 0.5, 1.0};
    PLFLT red[] = {(a[0] + 255) / 510.0, 1.0, (z[0] + 255) / 510.0};
    PLFLT green[] = {(a[1] + 255) / 510.0, 1.0, (z[1] + 255) / 510.0};
    PLFLT blue[] = {(a[2] + 255) / 510.0, 1.0, (z[2] + 255) / 510.0};
    plscmap1n(256);
    plscmap1l(1, 3, pos, red, green, blue, NULL);
}

/* Point (x, y)'s marker of class c, px in world units: filled, outlined. */
static void boundary_marker(double x, double y, int c, double px)
{
    double shape[PLOT_MARKER_POINTS][2];
    PLFLT vx[PLOT_MARKER_POINTS], vy[PLOT_MARKER_POINTS];
    int m = plot_marker_shape(c, shape);
    for (int v = 0; v < m; v++)
        vx[v] = x + shape[v][0] * px, vy[v] = y + shape[v][1] * px;
    plcol0(class_colour[c]);
    plfill(m, vx, vy);
    plcol0(COL_FG);
    plline(m, vx, vy);
}

static void boundary_legend(const BoundaryCtx *c)
{
    const PlotBoundaryLayout *l = &c->layout;
    const PlotRect *r = &l->legend;
    double w = r->x1 - r->x0, h = r->y1 - r->y0;
    viewport_px(r, PLOT_HEIGHT);
    plwind(0, w, h, 0); /* px, y down */
    plcol0(COL_FG);
    plwidth(plot_scale);
    PLFLT bx[] = {0, w, w, 0, 0}, by[] = {0, 0, h, h, 0};
    plline(5, bx, by);
    set_text(0.9);
    for (int k = 0; k < 2; k++) {
        double y = 12 + (k + 0.5) * l->legend_row, x = 12 + PLOT_MARKER_R;
        boundary_marker(x, y, k, 1.0); /* px are world units here */
        plcol0(COL_FG);
        plptex(x + PLOT_MARKER_R + 10, y, 1.0, 0.0, 0.0, text(c->b->class_names[k]));
    }
    set_text(1.0);
}

static void draw_boundary(const void *ctx)
{
    const BoundaryCtx *c = ctx;
    const PlotBoundary *b = c->b;
    const PlotBoundaryLayout *l = &c->layout;
    const PlotRect *v = &l->viewport;
    int n = c->grid.nx;
    double h = l->half;
    pladv(0);
    plvpor(v->x0, v->x1, v->y0, v->y1);
    plwind(-h, h, -h, h);
    set_classes_map();
    plimagefr((PLFLT_MATRIX)c->grid.p, n + 1, n + 1, -h, h, -h, h, 0.0, 1.0, 0.0, 1.0, NULL,
              NULL);
    PLcGrid centres = {c->centres, c->centres, NULL, n, n, 0};
    PLFLT boundary = 0.5;
    plcol0(COL_FG);
    plwidth(2.0 * plot_scale);
    plcont((PLFLT_MATRIX)c->grid.p, n, n, 1, n, 1, n, &boundary, 1, pltr1, &centres);
    plwidth(plot_scale);
    double px = 2 * h / (l->area.x1 - l->area.x0);
    for (int i = 0; i < b->n_points; i++)
        if (isfinite(b->x[i]) && isfinite(b->y[i]))
            boundary_marker(b->x[i], b->y[i], b->label[i] ? 1 : 0, px);
    plcol0(COL_FG);
    plbox("bcnst", 0, 0, "bcnstv", 0, 0);
    plmtex("b", 3.0, 0.5, 0.5, text(b->xlabel));
    plmtex("l", 3.5, 0.5, 0.5, text(b->ylabel));
    set_text(l->title_scale);
    plmtex("t", 1.5 / l->title_scale, 0.5, 0.5, text(b->title));
    set_text(1.0);
    char label[96];
    snprintf(label, sizeof label, "probability of %s", text(b->class_names[1]));
    set_classes_map();
    draw_colorbar(&l->colorbar, PLOT_HEIGHT, (Range){0.0, 1.0}, label);
    boundary_legend(c);
}

int plot_boundary(const char *path, const PlotBoundary *b, Err *err)
{
    if (!path || !*path)
        return err_set(err, CLRUN_EINPUT, "plot: no output path");
    if (!b || !b->decide || b->resolution < 2 || b->n_points < 0 ||
        (b->n_points && (!b->x || !b->y || !b->label)))
        return err_set(err, CLRUN_EINPUT, "%s: a decision boundary needs a decision function, "
                       "a resolution of 2 or more and its points", path);
    BoundaryCtx ctx = {.b = b};
    plot_boundary_layout(b, &ctx.layout);
    int n = b->resolution;
    double h = ctx.layout.half, *xy = malloc((size_t)n * n * 2 * sizeof *xy);
    double *p = malloc((size_t)n * n * sizeof *p);
    ctx.centres = malloc((size_t)n * sizeof *ctx.centres);
    int rc = xy && p && ctx.centres && grid_alloc(&ctx.grid, n, n) == 0
                 ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "%s: out of memory", path);
    for (int i = 0; !rc && i < n; i++)
        ctx.centres[i] = -h + (i + 0.5) * 2 * h / n;
    for (int y = 0; !rc && y < n; y++)
        for (int x = 0; x < n; x++)
            xy[2 * ((size_t)y * n + x)] = ctx.centres[x], xy[2 * ((size_t)y * n + x) + 1] =
                                                              ctx.centres[y];
    if (!rc) rc = b->decide(xy, n * n, p, b->ctx, err);
    for (int y = 0; !rc && y < n; y++)
        for (int x = 0; x < n; x++)
            ctx.grid.p[x][y] = p[(size_t)y * n + x];
    if (!rc) rc = render(path, 1, PLOT_HEIGHT, draw_boundary, &ctx, err);
    if (ctx.grid.p)
        grid_free(&ctx.grid);
    free(xy), free(p), free(ctx.centres);
    return rc;
}
