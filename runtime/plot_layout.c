/* plot_layout.c: where the parts of a figure go (see plot_layout.h): line
 * charts, heatmaps, image grids and decision boundaries. Pure arithmetic: plot.c draws what this
 * computes, and tests/check_plot.c checks it. */
#include "plot_layout.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum {
    MARGIN_LEFT = 110,  /* y tick labels and the y label */
    MARGIN_RIGHT = 25,
    MARGIN_TOP = 55,    /* the title */
    MARGIN_BOTTOM = 45, /* below the tick labels: the x label */
    LEGEND_LEAD = PLOT_LEGEND_SYMBOL + 44, /* px before a legend label: the symbol and gaps */
    LEGEND_ROW = 30,
    LEGEND_PAD = 12,
};
static const double LEGEND_TEXT_SCALE = 0.9, LEGEND_OFFSET = 0.02, MIN_TITLE_SCALE = 0.5;

/* Liang-Barsky clipping: whether any part of the segment lies in r. */
int plot_rect_meets_segment(const PlotRect *r, double x0, double y0, double x1, double y1)
{
    double dx = x1 - x0, dy = y1 - y0, t0 = 0.0, t1 = 1.0;
    double p[4] = {-dx, dx, -dy, dy}, q[4] = {x0 - r->x0, r->x1 - x0, y0 - r->y0, r->y1 - y0};
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0.0) {
            if (q[i] < 0.0)
                return 0;
            continue;
        }
        double t = q[i] / p[i];
        if (p[i] < 0.0 && t > t0)
            t0 = t;
        else if (p[i] > 0.0 && t < t1)
            t1 = t;
        if (t0 > t1)
            return 0;
    }
    return 1;
}

double plot_integer_step(double lo, double hi, int max_ticks)
{
    static const double mult[] = {1, 2, 5};
    if (max_ticks < 1)
        max_ticks = 1;
    for (double base = 1;; base *= 10)
        for (int i = 0; i < 3; i++) {
            double step = base * mult[i];
            if (floor(hi / step) - ceil(lo / step) + 1 <= max_ticks)
                return step;
        }
}

void plot_fit_labels(int count, double axis_px, size_t chars, int may_rotate, int *rotate,
                     int *stride)
{
    double slot = axis_px / (count > 0 ? count : 1), across = PLOT_CHAR_H + 2;
    *rotate = may_rotate && (double)chars * PLOT_CHAR_W + 8 > slot;
    double need = *rotate || !may_rotate ? across : (double)chars * PLOT_CHAR_W + 8;
    *stride = slot >= need ? 1 : (int)ceil(need / slot);
}

static int point_ok(const PlotSeries *s, int i)
{
    return isfinite(s->x[i]) && isfinite(s->y[i]);
}

int plot_marker_shape(int k, double xy[PLOT_MARKER_POINTS][2])
{
    static const double R = PLOT_MARKER_R - 0.5; /* the line's half width inside the radius */
    static const double pi = 3.14159265358979323846;
    int shape = ((k % PLOT_MARKER_SHAPES) + PLOT_MARKER_SHAPES) % PLOT_MARKER_SHAPES;
    /* vertices, and the angle of the first: circle, square, triangle, diamond, triangle down */
    static const int sides[PLOT_MARKER_SHAPES] = {16, 4, 3, 4, 3};
    static const double start[PLOT_MARKER_SHAPES] = {0, 45, 90, 0, -90};
    static const double reach[PLOT_MARKER_SHAPES] = {1.0, 0.85, 1.0, 1.0, 1.0};
    int n = sides[shape];
    for (int i = 0; i < n; i++) {
        double a = (start[shape] + 360.0 * i / n) * pi / 180;
        xy[i][0] = R * reach[shape] * cos(a), xy[i][1] = R * reach[shape] * sin(a);
    }
    xy[n][0] = xy[0][0], xy[n][1] = xy[0][1]; /* closed */
    return n + 1;
}

int plot_least_squares(const double *x, const double *y, int n, double *slope, double *intercept)
{
    double sx = 0, sy = 0, m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i]) && isfinite(y[i]))
            sx += x[i], sy += y[i], m++;
    if (m < 2)
        return 0;
    double mx = sx / m, my = sy / m, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i]) && isfinite(y[i]))
            sxx += (x[i] - mx) * (x[i] - mx), sxy += (x[i] - mx) * (y[i] - my);
    if (sxx <= 0)
        return 0;
    *slope = sxy / sxx, *intercept = my - *slope * mx;
    return 1;
}

/* How far point j reaches up and down: its error bar, or its band. */
static void point_reach(const PlotSeries *s, int j, double *lo, double *hi)
{
    double e = s->err && isfinite(s->err[j]) ? fabs(s->err[j]) : 0.0;
    *lo = s->y[j] - e, *hi = s->y[j] + e;
    if (s->lo && isfinite(s->lo[j]))
        *lo = fmin(*lo, s->lo[j]);
    if (s->hi && isfinite(s->hi[j]))
        *hi = fmax(*hi, s->hi[j]);
}

/* The data's extent: every finite point, and the ends of its error bars and bands. */
static void data_extent(const PlotPanel *p, PlotRect *d)
{
    *d = (PlotRect){INFINITY, -INFINITY, INFINITY, -INFINITY};
    for (int i = 0; i < p->n_series; i++) {
        const PlotSeries *s = &p->series[i];
        for (int j = 0; j < s->n; j++) {
            if (!point_ok(s, j))
                continue;
            double lo, hi;
            point_reach(s, j, &lo, &hi);
            d->x0 = fmin(d->x0, s->x[j]), d->x1 = fmax(d->x1, s->x[j]);
            d->y0 = fmin(d->y0, lo), d->y1 = fmax(d->y1, hi);
        }
    }
}

/* Widens lo..hi by pad px each side of an axis of `px` pixels, so that
 * markers at the ends are whole; a single value gets a width of its own. */
static void pad_axis(double *lo, double *hi, double px, double pad, double single)
{
    if (*lo > *hi) {
        *lo = 0.0, *hi = 1.0;
        return;
    }
    if (*hi - *lo <= 0.0) {
        double w = single > 0 ? single : fabs(*lo) > 0.0 ? fabs(*lo) * 0.05 : 0.5;
        *lo -= w, *hi += w;
        return;
    }
    double per_px = (*hi - *lo) / (px - 2 * pad);
    *lo -= pad * per_px, *hi += pad * per_px;
}

static size_t longest(const char *const *names, int n)
{
    size_t m = 0;
    for (int i = 0; names && i < n; i++)
        if (names[i] && strlen(names[i]) > m)
            m = strlen(names[i]);
    return m;
}

/* The x ticks and how their labels fit: rotated when side by side they
 * would overlap, and only every stride-th when even rotated they would.
 * Integer ticks lie within the data's x range d (no epoch 0 before epoch 1). */
static void x_ticks(const PlotPanel *p, const PlotRect *d, PlotLayout *l)
{
    double label_px;
    if (l->categorical) {
        l->first_tick = 0, l->tick_step = 1, l->n_ticks = p->n_x_names;
        label_px = (double)longest(p->x_names, p->n_x_names) * PLOT_CHAR_W;
    } else {
        /* the widest label's digits, and two digits' room between labels */
        int digits = (int)floor(log10(fmax(fabs(l->window.x0), fabs(l->window.x1)) + 1)) + 1;
        int fit = (int)(l->width / ((digits + 2) * PLOT_DIGIT_W));
        double lo = d->x0 <= d->x1 ? d->x0 : l->window.x0, hi = d->x0 <= d->x1 ? d->x1 : l->window.x1;
        l->tick_step = plot_integer_step(lo, hi, fit < 10 ? fit : 10);
        l->first_tick = ceil(lo / l->tick_step) * l->tick_step;
        l->n_ticks = (int)floor((hi - l->first_tick) / l->tick_step) + 1;
        label_px = digits * PLOT_CHAR_W;
    }
    double ticks_px = l->width * (l->n_ticks * l->tick_step) / (l->window.x1 - l->window.x0);
    plot_fit_labels(l->n_ticks, ticks_px, (size_t)(label_px / PLOT_CHAR_W), l->categorical,
                    &l->rotate_labels, &l->label_stride);
    l->bottom_px = (l->rotate_labels ? label_px + 15 : 30) + MARGIN_BOTTOM;
}

/* The legend: its size from the labels, then the first corner whose box
 * holds no point, marker, line or error bar; failing that, the window's top
 * is raised until the data lie below the box. */
static int legend_entries(const PlotPanel *p, size_t *widest)
{
    int n = 0;
    *widest = 0;
    for (int i = 0; i < p->n_series && n < PLOT_MAX_LEGEND; i++)
        if (p->series[i].label) {
            n++;
            if (strlen(p->series[i].label) > *widest)
                *widest = strlen(p->series[i].label);
        }
    return n;
}

/* The legend box in world coordinates for a corner, widened by a marker's
 * radius so that a marker near its edge counts as covered. */
static PlotRect legend_box(const PlotLayout *l, int top, int right, int padded)
{
    const PlotRect *w = &l->window;
    double sx = w->x1 - w->x0, sy = w->y1 - w->y0;
    double x0 = right ? 1 - LEGEND_OFFSET - l->legend_w : LEGEND_OFFSET;
    double y0 = top ? 1 - LEGEND_OFFSET - l->legend_h : LEGEND_OFFSET;
    double px = padded ? PLOT_MARKER_R / l->width : 0, py = padded ? PLOT_MARKER_R / l->height : 0;
    return (PlotRect){w->x0 + (x0 - px) * sx, w->x0 + (x0 + l->legend_w + px) * sx,
                      w->y0 + (y0 - py) * sy, w->y0 + (y0 + l->legend_h + py) * sy};
}

/* Whether the series' least-squares line, across its x range, meets r. */
static int fit_meets(const PlotSeries *s, const PlotRect *r)
{
    double slope, icpt, x0 = INFINITY, x1 = -INFINITY;
    if (!s->fit || !plot_least_squares(s->x, s->y, s->n, &slope, &icpt))
        return 0;
    for (int j = 0; j < s->n; j++)
        if (point_ok(s, j))
            x0 = fmin(x0, s->x[j]), x1 = fmax(x1, s->x[j]);
    return plot_rect_meets_segment(r, x0, icpt + slope * x0, x1, icpt + slope * x1);
}

static int covers_data(const PlotPanel *p, const PlotRect *r)
{
    for (int i = 0; i < p->n_series; i++) {
        const PlotSeries *s = &p->series[i];
        if (fit_meets(s, r))
            return 1;
        for (int j = 0; j < s->n; j++) {
            if (!point_ok(s, j))
                continue;
            double lo, hi;
            point_reach(s, j, &lo, &hi);
            if (plot_rect_meets_segment(r, s->x[j], lo, s->x[j], hi))
                return 1;
            int next = j + 1 < s->n && point_ok(s, j + 1);
            if (next && (s->markers != PLOT_MARKERS || s->lo || s->hi) &&
                plot_rect_meets_segment(r, s->x[j], s->y[j], s->x[j + 1], s->y[j + 1]))
                return 1;
            double lo1, hi1; /* the band's edges up to the next point */
            if (next && (s->lo || s->hi)) {
                point_reach(s, j + 1, &lo1, &hi1);
                if (plot_rect_meets_segment(r, s->x[j], lo, s->x[j + 1], lo1) ||
                    plot_rect_meets_segment(r, s->x[j], hi, s->x[j + 1], hi1))
                    return 1;
            }
        }
    }
    return 0;
}

static void place_legend(const PlotPanel *p, PlotLayout *l)
{
    size_t widest;
    int n = legend_entries(p, &widest);
    if (!(l->has_legend = n > 0))
        return;
    double w = LEGEND_LEAD + LEGEND_TEXT_SCALE * PLOT_CHAR_W * (double)widest + LEGEND_PAD;
    l->legend_w = fmin(w / l->width, 1 - 2 * LEGEND_OFFSET);
    l->legend_h = fmin((n * LEGEND_ROW + LEGEND_PAD) / l->height, 1 - 2 * LEGEND_OFFSET);
    static const int corners[4][2] = {{1, 1}, {1, 0}, {0, 1}, {0, 0}}; /* top right first */
    for (int c = 0; c < 4; c++) {
        PlotRect r = legend_box(l, corners[c][0], corners[c][1], 1);
        if (!covers_data(p, &r)) {
            l->legend_top = corners[c][0], l->legend_right = corners[c][1];
            l->legend = legend_box(l, l->legend_top, l->legend_right, 0);
            return;
        }
    }
    /* The data fill every corner: they keep the part of the height below
     * the box, less a marker's radius and a gap. */
    double below = 1 - l->legend_h - 2 * LEGEND_OFFSET - (PLOT_MARKER_R + 4) / l->height;
    PlotRect d;
    data_extent(p, &d);
    if (below > 0.1 && d.y1 >= d.y0)
        l->window.y1 = l->window.y0 + (d.y1 - l->window.y0) / below;
    l->legend_top = 1, l->legend_right = 1;
    l->legend = legend_box(l, 1, 1, 0);
}

static double title_scale(const char *title, double panel_px)
{
    double need = (double)(title ? strlen(title) : 0) * PLOT_CHAR_W;
    double s = need > 0 ? (panel_px - 20) / need : 1.0;
    return s > 1.0 ? 1.0 : s < MIN_TITLE_SCALE ? MIN_TITLE_SCALE : s;
}

void plot_layout(const PlotPanel *p, int n_panels, PlotLayout *l)
{
    memset(l, 0, sizeof *l);
    double pw = (double)PLOT_WIDTH / (n_panels > 0 ? n_panels : 1), ph = PLOT_HEIGHT;
    l->categorical = p->x_names && p->n_x_names > 0;
    l->integer_x = !l->categorical && p->integer_x;
    l->width = pw - MARGIN_LEFT - MARGIN_RIGHT;
    PlotRect d;
    data_extent(p, &d);
    double pad = PLOT_MARKER_R + 4;
    if (l->categorical)
        l->window.x0 = -0.5, l->window.x1 = p->n_x_names - 0.5;
    else {
        l->window.x0 = d.x0, l->window.x1 = d.x1;
        pad_axis(&l->window.x0, &l->window.x1, l->width, pad, l->integer_x ? 0.5 : 0);
    }
    l->bottom_px = 30 + MARGIN_BOTTOM;
    if (l->categorical || l->integer_x)
        x_ticks(p, &d, l);
    l->height = ph - MARGIN_TOP - l->bottom_px;
    l->window.y0 = d.y0, l->window.y1 = d.y1;
    pad_axis(&l->window.y0, &l->window.y1, l->height, pad, 0);
    l->viewport = (PlotRect){MARGIN_LEFT / pw, 1 - MARGIN_RIGHT / pw, l->bottom_px / ph,
                             1 - MARGIN_TOP / ph};
    l->title_scale = title_scale(p->title, pw);
    place_legend(p, l);
}

/* ---- heatmaps ---- */

enum {
    HEAT_TOP = 55, HEAT_RIGHT = 140, /* the colour bar and its labels */
    HEAT_GAP = 12, HEAT_AXIS_TITLE = 45, HEAT_BAR_GAP = 25, HEAT_BAR_W = 22,
};

void plot_heat_layout(const PlotHeatmap *h, PlotHeatLayout *l)
{
    memset(l, 0, sizeof *l);
    size_t row_chars = h->row_labels ? longest(h->row_labels, h->rows) : 4;
    size_t col_chars = h->col_labels ? longest(h->col_labels, h->cols) : 4;
    int col_labels = h->cols;
    if (h->groups) { /* a name a group, each over its block */
        col_labels = h->groups[h->rows - 1] + 1;
        row_chars = col_chars = longest(h->group_names, col_labels);
    }
    double left = HEAT_GAP + (double)row_chars * PLOT_CHAR_W + (h->ylabel ? HEAT_AXIS_TITLE : 0);
    double width = PLOT_WIDTH - left - HEAT_RIGHT;
    plot_fit_labels(col_labels, width, col_chars, 1, &l->rotate_cols, &l->col_stride);
    double bottom = HEAT_GAP + (l->rotate_cols ? (double)col_chars * PLOT_CHAR_W : PLOT_CHAR_H) +
                    (h->xlabel ? HEAT_AXIS_TITLE : 10);
    double height = PLOT_HEIGHT - HEAT_TOP - bottom;
    int rotate_rows;
    plot_fit_labels(h->groups ? col_labels : h->rows, height, row_chars, 0, &rotate_rows,
                    &l->row_stride);
    l->viewport = (PlotRect){left / PLOT_WIDTH, 1 - HEAT_RIGHT / (double)PLOT_WIDTH,
                             bottom / PLOT_HEIGHT, 1 - HEAT_TOP / (double)PLOT_HEIGHT};
    l->cell_w = width / h->cols, l->cell_h = height / h->rows;
    double bar_x = PLOT_WIDTH - HEAT_RIGHT + HEAT_BAR_GAP;
    l->colorbar = (PlotRect){bar_x, bar_x + HEAT_BAR_W, HEAT_TOP, PLOT_HEIGHT - bottom};
    l->title_scale = title_scale(h->title, PLOT_WIDTH);
    if (h->value_format) { /* the widest value, written as it will be */
        size_t chars = 0;
        char buf[64];
        for (long i = 0; i < (long)h->rows * h->cols; i++)
            if (isfinite(h->values[i])) {
                size_t n = (size_t)snprintf(buf, sizeof buf, h->value_format, h->values[i]);
                chars = n > chars ? n : chars;
            }
        double s = fmin(1.0, fmin((l->cell_w - 4) / ((double)chars * PLOT_CHAR_W + 1),
                                  (l->cell_h - 2) / PLOT_CHAR_H));
        l->value_scale = s >= 0.5 ? s : 0.0;
    }
}

/* ---- image grids ---- */

int plot_decimals(const double *v, int n, int digits)
{
    double least = INFINITY;
    for (int i = 0; i < n; i++)
        if (isfinite(v[i]) && v[i] != 0.0)
            least = fmin(least, fabs(v[i]));
    if (!isfinite(least))
        return 0;
    int d = digits - 1 - (int)floor(log10(least));
    return d < 0 ? 0 : d > 6 ? 6 : d;
}

enum {
    IMAGE_GAP = 6, IMAGE_MIN_THUMB = 90, IMAGE_MAX_HEIGHT = 2400,
    PAIR_GAP = 4,       /* px between the two images of a pair */
    COLORBAR_ROOM = 130, /* px right of the grid per column of colour bars: gap, bar, numbers, label */
    COLORBAR_GAP = 12, COLORBAR_W = 18,
};

int plot_grid_cols(int n, double aspect)
{
    if (n < 1)
        return 1;
    int c = (int)ceil(sqrt(n / (aspect > 0 ? aspect : 1.0)) - 1e-9);
    return c < 1 ? 1 : c > n ? n : c;
}

void plot_value_range(const float *v, size_t count, double *lo, double *hi, int *is_signed)
{
    double a = INFINITY, b = -INFINITY;
    for (size_t i = 0; i < count; i++)
        if (isfinite(v[i]))
            a = fmin(a, v[i]), b = fmax(b, v[i]);
    if (a > b)
        a = 0.0, b = 1.0;
    *is_signed = a < 0.0 && b > 0.0;
    if (*is_signed) {
        double m = fmax(-a, b);
        a = -m, b = m;
    }
    if (b <= a)
        b = a + 1.0;
    *lo = a, *hi = b;
}

static int shared(const PlotImageSet *s)
{
    return s->images && s->scale == PLOT_SCALE_SHARED;
}

/* The thumbnail size for `cols` columns in a figure of the given height. */
static void image_cells(PlotImagesLayout *l, int n, int h, int w, int cols, double height)
{
    l->cols = cols, l->rows = (n + cols - 1) / cols, l->height = height;
    l->cell_w = l->width / cols, l->cell_h = (height - l->top) / l->rows;
    double box_w = (l->cell_w - IMAGE_GAP - (l->parts - 1) * PAIR_GAP) / l->parts;
    double scale = fmin(box_w / w, (l->cell_h - IMAGE_GAP - l->caption) / h);
    scale = fmax(scale, 0.0);
    l->thumb_w = scale * w, l->thumb_h = scale * h;
}

/* One bar per shared set, side by side if two, spanning the grid's rows. */
static void place_colorbars(const PlotImages *im, PlotImagesLayout *l)
{
    double y0 = l->top + IMAGE_GAP, y1 = l->top + l->rows * l->cell_h - IMAGE_GAP - l->caption;
    y1 = fmax(y1, y0 + 60);
    for (int s = 0; s < 2; s++)
        if (shared(&im->set[s])) {
            double x0 = l->width + l->n_colorbars * COLORBAR_ROOM + COLORBAR_GAP;
            l->colorbar[l->n_colorbars++] = (PlotRect){x0, x0 + COLORBAR_W, y0, y1};
        }
}

void plot_images_layout(const PlotImages *im, double caption_scale, PlotImagesLayout *l)
{
    memset(l, 0, sizeof *l);
    int n = im->n, h = im->set[0].h, w = im->set[0].w;
    l->parts = im->set[1].images ? 2 : 1;
    int bars = shared(&im->set[0]) + shared(&im->set[1]);
    l->width = PLOT_WIDTH - bars * COLORBAR_ROOM;
    l->top = im->title ? 50 : IMAGE_GAP;
    l->caption = caption_scale > 0 ? caption_scale * 2.4 * PLOT_CHAR_H + 6 : 0; /* a line, gaps */
    int cols = im->cols > 0 ? im->cols : plot_grid_cols(n, (double)l->parts * w / h);
    image_cells(l, n, h, w, cols < n ? cols : n, PLOT_HEIGHT);
    /* Too flat: taller rows, up to what the width allows the thumbnails. */
    double box_w = (l->cell_w - IMAGE_GAP - (l->parts - 1) * PAIR_GAP) / l->parts;
    double wide = box_w / w * h, want = fmin(wide, IMAGE_MIN_THUMB);
    if (l->thumb_h < want) {
        double height = l->top + l->rows * (want + l->caption + IMAGE_GAP);
        image_cells(l, n, h, w, l->cols, fmin(height, IMAGE_MAX_HEIGHT));
    }
    place_colorbars(im, l);
    l->title_scale = title_scale(im->title, PLOT_WIDTH);
}

void plot_image_box(const PlotImagesLayout *l, int k, int part, PlotRect *box)
{
    int r = k / l->cols, col = k % l->cols;
    double span = l->parts * l->thumb_w + (l->parts - 1) * PAIR_GAP;
    double x0 = (col + 0.5) * l->cell_w - span / 2 + part * (l->thumb_w + PAIR_GAP);
    double spare = l->cell_h - l->caption - l->thumb_h; /* split above and below */
    double y0 = l->top + r * l->cell_h + spare / 2;
    *box = (PlotRect){x0, x0 + l->thumb_w, y0, y0 + l->thumb_h};
}

/* ---- decision boundaries ---- */

enum {
    BOUNDARY_TOP = 55, BOUNDARY_BOTTOM = 70, BOUNDARY_LEFT = 90, /* title, ticks, axis labels */
    BOUNDARY_BAR_GAP = 40, BOUNDARY_BAR_W = 22, BOUNDARY_BAR_H = 260,
    BOUNDARY_LEGEND_GAP = 40,
};

void plot_boundary_layout(const PlotBoundary *b, PlotBoundaryLayout *l)
{
    memset(l, 0, sizeof *l);
    double side = PLOT_HEIGHT - BOUNDARY_TOP - BOUNDARY_BOTTOM;
    l->area = (PlotRect){BOUNDARY_LEFT, BOUNDARY_LEFT + side, BOUNDARY_TOP, BOUNDARY_TOP + side};
    l->viewport = (PlotRect){l->area.x0 / PLOT_WIDTH, l->area.x1 / PLOT_WIDTH,
                             1 - l->area.y1 / PLOT_HEIGHT, 1 - l->area.y0 / PLOT_HEIGHT};
    /* the farthest point, and room for its marker: half * (1 - 2R/side) = reach */
    double reach = b->min_half > 0 ? b->min_half : 1.0;
    for (int i = 0; i < b->n_points; i++) {
        if (isfinite(b->x[i]))
            reach = fmax(reach, fabs(b->x[i]));
        if (isfinite(b->y[i]))
            reach = fmax(reach, fabs(b->y[i]));
    }
    l->half = reach / (1 - 2.0 * (PLOT_MARKER_R + 2) / side);
    double x0 = l->area.x1 + BOUNDARY_BAR_GAP;
    l->colorbar = (PlotRect){x0, x0 + BOUNDARY_BAR_W, l->area.y0, l->area.y0 + BOUNDARY_BAR_H};
    size_t chars = 0;
    for (int c = 0; c < 2; c++) {
        size_t n = b->class_names[c] ? strlen(b->class_names[c]) : 1;
        chars = n > chars ? n : chars;
    }
    l->legend_row = LEGEND_ROW;
    double want = LEGEND_PAD * 2 + 2 * PLOT_MARKER_R + 12 + (double)chars * PLOT_CHAR_W;
    double room = PLOT_WIDTH - 10 - x0;
    double y0 = l->colorbar.y1 + BOUNDARY_LEGEND_GAP;
    l->legend = (PlotRect){x0, x0 + fmin(want, room), y0, y0 + 2 * LEGEND_ROW + LEGEND_PAD};
    l->title_scale = title_scale(b->title, PLOT_WIDTH);
}
