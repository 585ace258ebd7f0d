/* check_plot.c: tests for the plot module: each figure kind is written into a
 * fresh directory under /tmp, read back with libpng and checked for its size,
 * that it is neither blank nor flooded, and for the colours it should hold;
 * a path in a missing directory fails cleanly and leaves nothing behind. */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compare.h"
#include "plot.h"
#include "plot_layout.h"
#include "suites.h"
#include "testutil.h"

Suite *plot_suite(void);

/* Counts distinct colours (up to 4096 buckets of 4 bits per channel). */
static int distinct_colours(const TestPixels *p)
{
    static unsigned char seen[4096];
    memset(seen, 0, sizeof seen);
    int n = 0;
    for (int y = 0; y < p->h; y++)
        for (int x = 0; x < p->w; x++) {
            const unsigned char *c = test_pixel(p, x, y);
            int k = (c[0] >> 4) << 8 | (c[1] >> 4) << 4 | c[2] >> 4;
            n += !seen[k];
            seen[k] = 1;
        }
    return n;
}

/* Reads path and asserts the default size, a sane share of ink and a few colours. */
static TestPixels read_figure(const char *path)
{
    TestPixels p = test_read_png(path);
    ck_assert_int_eq(p.w, 900);
    ck_assert_int_eq(p.h, 600);
    double share = test_ink_share(&p);
    ck_assert_msg(share > 0.01 && share < 0.9, "non-white share %.3f", share);
    ck_assert_int_ge(distinct_colours(&p), 3);
    return p;
}

/* Whether some pixel is within tol of the colour (r, g, b). */
static int has_colour(const TestPixels *p, int r, int g, int b, int tol)
{
    for (int y = 0; y < p->h; y++)
        for (int x = 0; x < p->w; x++) {
            const unsigned char *c = test_pixel(p, x, y);
            if (abs(c[0] - r) <= tol && abs(c[1] - g) <= tol && abs(c[2] - b) <= tol)
                return 1;
        }
    return 0;
}

static void tmp_path(char path[PATH_MAX], const char *name)
{
    snprintf(path, PATH_MAX, "%s/%s", test_tmpdir, name);
}

START_TEST(lines_draw_two_coloured_series)
{
    enum { N = 50 };
    double x[N], a[N], b[N];
    for (int i = 0; i < N; i++) {
        x[i] = i;
        a[i] = sin(i * 0.2);
        b[i] = i % 7 == 3 ? NAN : cos(i * 0.2);
    }
    PlotSeries left[] = {{.x = x, .y = a, .n = N, .label = "train"},
                         {.x = x, .y = b, .n = N, .label = "valid", .markers = PLOT_MARKERS}};
    PlotSeries right[] = {{.x = x, .y = b, .n = N}, {.x = x, .y = a, .n = 0, .label = "empty"}};
    PlotPanel panels[] = {{.title = "loss", .xlabel = "step", .ylabel = "loss", .series = left,
                           .n_series = 2},
                          {.title = "accuracy", .xlabel = "step", .series = right, .n_series = 2}};
    char path[PATH_MAX];
    Err err;
    tmp_path(path, "lines.png");
    ck_assert_ok(plot_lines(path, panels, 2, &err), err);
    TestPixels p = read_figure(path);
    ck_assert(has_colour(&p, 31, 119, 180, 30));  /* first series colour */
    ck_assert(has_colour(&p, 255, 127, 14, 30));  /* second series colour */
    free(p.rgb);
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_int_ne(access(tmp, F_OK), 0);
}
END_TEST

START_TEST(lines_accept_empty_and_nan_series)
{
    double x[] = {NAN, 1.0, NAN}, y[] = {2.0, NAN, NAN};
    PlotSeries s[] = {{.x = x, .y = y, .n = 3, .label = "nan"}, {.markers = PLOT_MARKERS}};
    PlotPanel panels[] = {{.title = "empty", .series = s, .n_series = 2}, {.n_series = 0}};
    char path[PATH_MAX];
    Err err;
    tmp_path(path, "empty.png");
    ck_assert_ok(plot_lines(path, panels, 2, &err), err);
    TestPixels p = test_read_png(path);
    ck_assert_int_eq(p.w, 900);
    free(p.rgb);
    ck_assert_int_eq(plot_lines(path, panels, 0, &err), CLRUN_EINPUT);
}
END_TEST

/* The cells' extent in pixels from the top left, from the layout plot.c draws. */
static void heat_cells_px(const PlotHeatmap *h, double *x0, double *x1, double *y0, double *y1)
{
    PlotHeatLayout l;
    plot_heat_layout(h, &l);
    *x0 = l.viewport.x0 * PLOT_WIDTH, *x1 = l.viewport.x1 * PLOT_WIDTH;
    *y0 = (1 - l.viewport.y1) * PLOT_HEIGHT, *y1 = (1 - l.viewport.y0) * PLOT_HEIGHT;
}

START_TEST(heatmap_colours_follow_values)
{
    enum { R = 4, C = 5 };
    double v[R * C];
    for (int i = 0; i < R * C; i++)
        v[i] = i;
    const char *rows[] = {"a", "b", "c", "d"};
    char path[PATH_MAX];
    Err err;
    tmp_path(path, "heat.png");
    PlotHeatmap h = {.title = "confusion", .values = v, .rows = R, .cols = C, .row_labels = rows};
    ck_assert_ok(plot_heatmap(path, &h, &err), err);
    TestPixels p = read_figure(path);
    double x0, x1, y0, y1;
    heat_cells_px(&h, &x0, &x1, &y0, &y1);
    int cx_min = (int)(x0 + (x1 - x0) * 0.5 / C), cy_min = (int)(y0 + (y1 - y0) * 0.5 / R);
    int cx_max = (int)(x0 + (x1 - x0) * (C - 0.5) / C), cy_max = (int)(y0 + (y1 - y0) * (R - 0.5) / R);
    const unsigned char *lo = test_pixel(&p, cx_min, cy_min), *hi = test_pixel(&p, cx_max, cy_max);
    int diff = abs(lo[0] - hi[0]) + abs(lo[1] - hi[1]) + abs(lo[2] - hi[2]);
    ck_assert_msg(diff > 100, "min cell (%d,%d,%d) vs max cell (%d,%d,%d)", lo[0], lo[1], lo[2],
                  hi[0], hi[1], hi[2]);
    ck_assert(!test_is_white(lo) && !test_is_white(hi));
    free(p.rgb);
}
END_TEST

/* One hot cell in a corner lands in that cell and nowhere next to it; a NaN
 * cell (the last) is left undrawn, not painted as the minimum. */
START_TEST(heatmap_cells_sit_where_their_values_are)
{
    enum { R = 4, C = 5 };
    double v[R * C] = {0};
    v[0] = 1;
    v[R * C - 1] = NAN;
    char path[PATH_MAX];
    Err err;
    tmp_path(path, "hot.png");
    PlotHeatmap h = {.title = "one hot cell", .values = v, .rows = R, .cols = C};
    ck_assert_ok(plot_heatmap(path, &h, &err), err);
    TestPixels p = read_figure(path);
    double x0, x1, y0, y1;
    heat_cells_px(&h, &x0, &x1, &y0, &y1);
    const unsigned char *hot = test_pixel(&p, (int)(x0 + (x1 - x0) * 0.5 / C), (int)(y0 + (y1 - y0) * 0.5 / R));
    const unsigned char *right = test_pixel(&p, (int)(x0 + (x1 - x0) * 1.5 / C), (int)(y0 + (y1 - y0) * 0.5 / R));
    const unsigned char *below = test_pixel(&p, (int)(x0 + (x1 - x0) * 0.5 / C), (int)(y0 + (y1 - y0) * 1.5 / R));
    /* viridis: the maximum is yellow, the minimum dark purple */
    ck_assert_msg(hot[0] > 200 && hot[1] > 200, "cell (0, 0) is (%d,%d,%d)", hot[0], hot[1], hot[2]);
    ck_assert_msg(right[1] < 100 && below[1] < 100, "neighbours (%d,%d,%d) and (%d,%d,%d)", right[0],
                  right[1], right[2], below[0], below[1], below[2]);
    const unsigned char *nan = test_pixel(&p, (int)(x0 + (x1 - x0) * (C - 0.5) / C),
                                          (int)(y0 + (y1 - y0) * (R - 0.5) / R));
    ck_assert_msg(test_is_white(nan) && !test_is_white(below), "NaN cell (%d,%d,%d)", nan[0],
                  nan[1], nan[2]);
    free(p.rgb);
}
END_TEST

/* Near white: a thin line drawn between cells is blended into them. */
static int light(const unsigned char *c)
{
    return c[0] > 180 && c[1] > 180 && c[2] > 180;
}

/* An RDM of 6 items in groups of 2, 3 and 1: a light line where a group
 * starts (between cells, across and down), none inside a group; the cells
 * themselves keep their colours (all 0: viridis' dark end). */
START_TEST(heatmap_groups_part_their_blocks)
{
    enum { N = 6 };
    double v[N * N] = {0};
    const int groups[N] = {0, 0, 1, 1, 1, 2};
    const char *names[] = {"animals", "boats", "cars"};
    char path[PATH_MAX];
    Err err;
    tmp_path(path, "groups.png");
    PlotHeatmap h = {.title = "grouped", .values = v, .rows = N, .cols = N, .groups = groups,
                     .group_names = names};
    ck_assert_ok(plot_heatmap(path, &h, &err), err);
    TestPixels p = read_figure(path);
    double x0, x1, y0, y1;
    heat_cells_px(&h, &x0, &x1, &y0, &y1);
    double cw = (x1 - x0) / N, ch = (y1 - y0) / N;
    int mid_y = (int)(y0 + ch * 0.5); /* along the first row */
    for (int b = 1; b < N; b++) {
        int x = (int)(x0 + cw * b + 0.5), white = 0;
        for (int dx = -1; dx <= 1; dx++)
            white |= light(test_pixel(&p, x + dx, mid_y));
        int boundary = groups[b] != groups[b - 1];
        ck_assert_msg(white == boundary, "between columns %d and %d: %s", b - 1, b,
                      boundary ? "no line" : "a line inside a group");
    }
    int y = (int)(y0 + ch * 2 + 0.5), white = 0; /* between rows 1 and 2 */
    for (int dy = -1; dy <= 1; dy++)
        white |= light(test_pixel(&p, (int)(x0 + cw * 0.5), y + dy));
    ck_assert_msg(white, "no line between the first two groups' rows");
    ck_assert(!light(test_pixel(&p, (int)(x0 + cw * 0.5), (int)(y0 + ch * 0.5))));
    free(p.rgb);
}
END_TEST

START_TEST(images_show_dark_and_light_pixels)
{
    enum { N = 6, H = 8, W = 8 };
    float img[N * H * W];
    for (int k = 0; k < N; k++)
        for (int i = 0; i < H * W; i++)
            img[k * H * W + i] = (float)((((i / W) + (i % W)) % 2) * (k + 1) - 3.0);
    const char *captions[] = {"0", "1", "2", "3", "4", NULL};
    char path[PATH_MAX];
    Err err;
    tmp_path(path, "images.png");
    PlotImages im = {.title = "checkerboards", .n = N, .set = {{.images = img, .h = H, .w = W}},
                     .cols = 3, .captions = captions};
    ck_assert_ok(plot_images(path, &im, &err), err);
    TestPixels p = read_figure(path);
    ck_assert(has_colour(&p, 0, 0, 0, 10));
    ck_assert(has_colour(&p, 255, 255, 255, 5));
    long dark = 0;
    for (int y = 0; y < p.h; y++)
        for (int x = 0; x < p.w; x++)
            dark += test_pixel(&p, x, y)[0] < 20;
    ck_assert_int_gt(dark, 900 * 600 / 50);
    free(p.rgb);
}
END_TEST

/* Asserts that a write to a missing directory fails with the path and leaves nothing. */
static void assert_bad_path(int rc, const Err *err, const char *path)
{
    ck_assert_int_eq(rc, CLRUN_ERUNTIME);
    ck_assert_msg(strstr(err->msg, path) != NULL, "'%s' does not name '%s'", err->msg, path);
    char tmp[PATH_MAX + 8];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_int_ne(access(path, F_OK), 0);
    ck_assert_int_ne(access(tmp, F_OK), 0);
}

START_TEST(missing_directory_is_a_runtime_error)
{
    double x[] = {0, 1}, v[] = {1, 2, 3, 4};
    float img[4] = {0, 1, 1, 0};
    PlotSeries s = {.x = x, .y = x, .n = 2, .label = "s"};
    PlotPanel panel = {.title = "t", .xlabel = "x", .ylabel = "y", .series = &s, .n_series = 1};
    char path[PATH_MAX];
    Err err;
    tmp_path(path, "missing/fig.png");
    assert_bad_path(plot_lines(path, &panel, 1, &err), &err, path);
    PlotHeatmap h = {.title = "h", .values = v, .rows = 2, .cols = 2};
    assert_bad_path(plot_heatmap(path, &h, &err), &err, path);
    PlotImages im = {.n = 1, .set = {{.images = img, .h = 2, .w = 2}}, .cols = 1};
    assert_bad_path(plot_images(path, &im, &err), &err, path);
    /* A later figure still works: no stream was left half-initialised. */
    tmp_path(path, "after.png");
    ck_assert_ok(plot_lines(path, &panel, 1, &err), err);
}
END_TEST

/* A full disk (a tmpfs filled up; needs root to mount, else it is left out,
 * saying so): the message says so and names the figure, and leaves nothing. */
START_TEST(full_disk_is_named_as_such)
{
    char dir[PATH_MAX], cmd[PATH_MAX + 64], path[PATH_MAX + 16];
    snprintf(dir, sizeof dir, "%s/full", test_tmpdir);
    mkdir(dir, 0755);
    snprintf(cmd, sizeof cmd, "mount -t tmpfs -o size=256k tmpfs %s 2>/dev/null", dir);
    if (geteuid() != 0 || system(cmd) != 0) {
        fprintf(stderr, "full_disk_is_named_as_such: no tmpfs could be mounted (not root): "
                "left out\n");
        return;
    }
    snprintf(cmd, sizeof cmd, "dd if=/dev/zero of=%s/filler bs=4k 2>/dev/null", dir);
    int filled = system(cmd) != 0; /* dd stops at the full disk */
    double x[] = {0, 1};
    PlotSeries s = {.x = x, .y = x, .n = 2, .label = "s"};
    PlotPanel panel = {.title = "t", .xlabel = "x", .ylabel = "y", .series = &s, .n_series = 1};
    Err err;
    snprintf(path, sizeof path, "%s/history.png", dir);
    int rc = plot_lines(path, &panel, 1, &err);
    snprintf(cmd, sizeof cmd, "umount %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    ck_assert(filled);
    ck_assert_int_eq(rc, CLRUN_ERUNTIME);
    ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, "No space left on device"), "%s",
                  err.msg);
}
END_TEST

/* plot.dpi 200: twice the pixels each way, and everything drawn twice as
 * large, so the share of ink stays about the same (a little lower: the
 * anti-aliased edges of lines count for less); drawn at the old size on the
 * larger page it would fall to a third or less. */
START_TEST(dpi_200_draws_everything_twice_as_large)
{
    enum { N = 10 };
    double x[N], y[N];
    for (int i = 0; i < N; i++)
        x[i] = i + 1, y[i] = 1.0 / (i + 1);
    PlotSeries s = {.x = x, .y = y, .n = N, .label = "loss", .markers = PLOT_LINE_MARKERS};
    PlotPanel p = {.title = "Loss", .xlabel = "epoch", .ylabel = "loss", .series = &s,
                   .n_series = 1, .integer_x = 1};
    char path[PATH_MAX];
    Err err;
    double share[2];
    for (int k = 0; k < 2; k++) {
        plot_set_dpi(k ? 200 : PLOT_DPI);
        tmp_path(path, k ? "dpi200.png" : "dpi100.png");
        ck_assert_ok(plot_lines(path, &p, 1, &err), err);
        TestPixels px = test_read_png(path);
        ck_assert_int_eq(px.w, 900 * (k + 1));
        ck_assert_int_eq(px.h, 600 * (k + 1));
        share[k] = test_ink_share(&px);
        free(px.rgb);
    }
    plot_set_dpi(PLOT_DPI);
    ck_assert_msg(share[1] > 0.6 * share[0] && share[1] < 1.25 * share[0],
                  "ink %.4f at 100 dpi, %.4f at 200", share[0], share[1]);
}
END_TEST

/* ---- layout: computed, then checked against the data ---- */

/* Asserts that every point of p (with a marker's radius and its error bar)
 * lies inside the plot area, and that none lies under the legend box. */
static void assert_layout_clear(const PlotPanel *p, const PlotLayout *l)
{
    const PlotRect *w = &l->window;
    double rx = PLOT_MARKER_R * (w->x1 - w->x0) / l->width;
    double ry = PLOT_MARKER_R * (w->y1 - w->y0) / l->height;
    for (int i = 0; i < p->n_series; i++) {
        const PlotSeries *s = &p->series[i];
        for (int j = 0; j < s->n; j++) {
            double x = s->x[j], y = s->y[j], e = s->err ? s->err[j] : 0;
            ck_assert_msg(x - rx >= w->x0 && x + rx <= w->x1 && y - e - ry >= w->y0 &&
                              y + e + ry <= w->y1,
                          "point (%g, %g) of series %d is clipped by window %g..%g x %g..%g", x,
                          y, i, w->x0, w->x1, w->y0, w->y1);
            PlotRect under = {l->legend.x0 - rx, l->legend.x1 + rx, l->legend.y0 - ry,
                              l->legend.y1 + ry};
            ck_assert_msg(!l->has_legend || !plot_rect_meets_segment(&under, x, y - e, x, y + e),
                          "point (%g, %g) of series %d lies under the legend", x, y, i);
            if (s->markers != PLOT_MARKERS && j + 1 < s->n)
                ck_assert_msg(!plot_rect_meets_segment(&l->legend, x, y, s->x[j + 1], s->y[j + 1]),
                              "the line from point %d of series %d crosses the legend", j, i);
        }
    }
    ck_assert(l->legend.x0 >= w->x0 && l->legend.x1 <= w->x1);
    ck_assert(l->legend.y0 >= w->y0 && l->legend.y1 <= w->y1);
}

/* Accuracy curves rising into the top right (ds5220-cnn's history): the
 * legend goes to a corner they leave empty, here the top left. */
START_TEST(layout_legend_leaves_rising_curves_clear)
{
    enum { N = 10 };
    double x[N], a[N], b[N];
    for (int i = 0; i < N; i++)
        x[i] = i + 1, a[i] = 0.1 + 0.05 * i * i / 9.0, b[i] = 0.12 + 0.06 * i * i / 9.0;
    PlotSeries s[] = {{.x = x, .y = a, .n = N, .label = "training", .markers = PLOT_LINE_MARKERS},
                      {.x = x, .y = b, .n = N, .label = "test", .markers = PLOT_LINE_MARKERS}};
    PlotPanel p = {.title = "Accuracy", .series = s, .n_series = 2, .integer_x = 1};
    PlotLayout l;
    plot_layout(&p, 2, &l);
    assert_layout_clear(&p, &l);
    ck_assert(l.legend_top && !l.legend_right);
}
END_TEST

/* Data in every corner: the window's top is raised so the legend sits above them. */
START_TEST(layout_legend_rises_above_data_in_every_corner)
{
    enum { N = 41 };
    double x[N], y[N], sd[N];
    for (int i = 0; i < N; i++)
        x[i] = i, y[i] = i % 2, sd[i] = 0.05;
    PlotSeries s[] = {{.x = x, .y = y, .n = N, .label = "zigzag, a long label for the legend",
                       .markers = PLOT_LINE_MARKERS, .err = sd}};
    PlotPanel p = {.title = "zigzag", .series = s, .n_series = 1};
    PlotLayout l;
    plot_layout(&p, 1, &l);
    ck_assert(l.window.y1 > 1.2); /* raised: without the legend, 1.05 and a marker's radius */
    assert_layout_clear(&p, &l);
}
END_TEST

/* Epoch axes: integer ticks only, few enough that their labels never touch. */
START_TEST(layout_epoch_axes_have_integer_ticks)
{
    static const int epochs[] = {1, 2, 10, 300};
    for (int k = 0; k < 4; k++) {
        int n = epochs[k];
        double *x = malloc((size_t)n * sizeof *x), *y = malloc((size_t)n * sizeof *y);
        for (int i = 0; i < n; i++)
            x[i] = i + 1, y[i] = 1.0 / (i + 1);
        PlotSeries s = {.x = x, .y = y, .n = n, .label = "loss", .markers = PLOT_LINE_MARKERS};
        PlotPanel p = {.title = "Loss", .series = &s, .n_series = 1, .integer_x = 1};
        PlotLayout l;
        plot_layout(&p, 2, &l);
        ck_assert_int_ge(l.n_ticks, 1);
        ck_assert_double_eq(l.tick_step, floor(l.tick_step));
        ck_assert_double_eq(l.first_tick, floor(l.first_tick));
        double last = l.first_tick + (l.n_ticks - 1) * l.tick_step;
        ck_assert(l.first_tick >= l.window.x0 && last <= l.window.x1);
        ck_assert_msg(n > 1 || (l.n_ticks == 1 && l.first_tick == 1), "1 epoch: one tick, at 1");
        ck_assert_msg(n != 2 || (l.n_ticks == 2 && l.tick_step == 1), "2 epochs: ticks 1 and 2");
        double gap_px = l.tick_step / (l.window.x1 - l.window.x0) * l.width;
        ck_assert_msg(gap_px >= 4 * PLOT_CHAR_W, "%d epochs: ticks %.0f px apart", n, gap_px);
        /* dense enough to read an epoch off: every second one up to 10, and
         * at least 5 labelled ticks beyond (the issue: only 5 and 10 of 10) */
        ck_assert_msg(n > 10 || l.tick_step <= 2, "%d epochs: a tick every %g", n, l.tick_step);
        ck_assert_msg(n <= 10 || l.n_ticks / l.label_stride >= 5, "%d epochs: %d labelled ticks",
                      n, l.n_ticks / l.label_stride);
        assert_layout_clear(&p, &l);
        free(x);
        free(y);
    }
}
END_TEST

/* Categories: one tick each, named; long names turn, and when even turned
 * they would touch, only every stride-th is named. */
START_TEST(layout_categories_get_one_named_tick_each)
{
    const char *layers[] = {"conv1", "conv2", "fc1", "fc2"};
    double x[] = {0, 1, 2, 3}, y[] = {0.8, 0.78, 0.55, 0.66};
    PlotSeries s = {.x = x, .y = y, .n = 4, .label = "target", .markers = PLOT_LINE_MARKERS};
    PlotPanel p = {.title = "RSA", .series = &s, .n_series = 1, .x_names = layers, .n_x_names = 4};
    PlotLayout l;
    plot_layout(&p, 1, &l);
    ck_assert(l.categorical);
    ck_assert_int_eq(l.n_ticks, 4);
    ck_assert_double_eq(l.first_tick, 0);
    ck_assert_double_eq(l.tick_step, 1);
    ck_assert_int_eq(l.rotate_labels, 0);
    ck_assert_int_eq(l.label_stride, 1);
    assert_layout_clear(&p, &l);
    int rotate, stride;
    plot_fit_labels(27, 600, 8, 1, &rotate, &stride); /* 27 labels "26:gamma" */
    ck_assert(rotate && stride == 1);
    plot_fit_labels(200, 600, 8, 1, &rotate, &stride);
    ck_assert(rotate && 600.0 / 200 * stride >= PLOT_CHAR_H);
    plot_fit_labels(40, 500, 8, 0, &rotate, &stride); /* rows: never turned */
    ck_assert(!rotate && 500.0 / 40 * stride >= PLOT_CHAR_H);
}
END_TEST

/* A 9 x 27 heatmap with long labels keeps its labels inside the figure, and
 * a confusion matrix has room for its counts. */
START_TEST(layout_heatmap_fits_labels_and_counts)
{
    static double v[10 * 27];
    const char *cols[27], *rows[10];
    for (int i = 0; i < 27; i++)
        cols[i] = "26:gamma";
    for (int i = 0; i < 10; i++)
        rows[i] = "8:gamma", v[i * 10 + i] = 213;
    PlotHeatmap h = {.title = "distances", .xlabel = "reference", .ylabel = "query", .values = v,
                     .rows = 9, .cols = 27, .row_labels = rows, .col_labels = cols};
    PlotHeatLayout l;
    plot_heat_layout(&h, &l);
    ck_assert(l.rotate_cols);
    ck_assert(l.viewport.y0 * PLOT_HEIGHT >= 8 * PLOT_CHAR_W + 30); /* turned labels, title */
    ck_assert(l.viewport.x0 * PLOT_WIDTH >= 7 * PLOT_CHAR_W);
    PlotHeatmap confusion = {.title = "Confusion", .xlabel = "predicted", .ylabel = "true",
                             .values = v, .rows = 10, .cols = 10, .value_format = "%.0f"};
    plot_heat_layout(&confusion, &l);
    ck_assert(!l.rotate_cols);
    ck_assert(l.value_scale >= 0.8);
    ck_assert(l.value_scale * 3 * PLOT_CHAR_W <= l.cell_w);
}
END_TEST

/* Thumbnails: inside the figure, apart, and at least 80 px tall for the
 * neighbours grid (9 rows of 4 captioned letters) and 64 feature maps on one
 * scale (a colour bar beside them). */
START_TEST(layout_thumbnails_fill_the_figure)
{
    static float img[64 * 28 * 28];
    PlotImagesLayout l;
    PlotImages letters = {.title = "t", .n = 36, .set = {{.images = img, .h = 28, .w = 28}},
                          .cols = 4};
    plot_images_layout(&letters, 0.9, &l);
    ck_assert_int_eq(l.rows, 9);
    ck_assert(l.thumb_h >= 80 && l.thumb_w <= l.cell_w && l.thumb_h + l.caption <= l.cell_h);
    ck_assert(l.top + l.rows * l.cell_h <= l.height + 1e-9);
    ck_assert_int_eq(l.n_colorbars, 0);
    PlotImages maps = {.title = "t", .n = 64,
                       .set = {{.images = img, .h = 24, .w = 24, .scale = PLOT_SCALE_SHARED}}};
    plot_images_layout(&maps, 0, &l);
    ck_assert_int_eq(l.cols * l.rows >= 64, 1);
    ck_assert(l.thumb_h >= 55 && l.cols * l.cell_w <= l.width + 1e-9);
    ck_assert(l.height <= 1000);
    ck_assert_int_eq(l.n_colorbars, 1);
    ck_assert(l.colorbar[0].x0 >= l.width && l.colorbar[0].x1 + 5 * PLOT_CHAR_W <= PLOT_WIDTH);
}
END_TEST

/* Near-square grids: 9 panels 3 x 3 (not 4-4-1), 20 panels 5 x 4, 64 8 x 8;
 * panels twice as wide as tall (pairs) get half as many columns. */
START_TEST(layout_grids_are_near_square)
{
    static float img[20 * 28 * 28];
    ck_assert_int_eq(plot_grid_cols(9, 1), 3);
    ck_assert_int_eq(plot_grid_cols(20, 1), 5);
    ck_assert_int_eq(plot_grid_cols(64, 1), 8);
    ck_assert_int_eq(plot_grid_cols(1, 1), 1);
    ck_assert_int_eq(plot_grid_cols(10, 2), 3);
    PlotImages nine = {.title = "t", .n = 9, .set = {{.images = img, .h = 28, .w = 28}}};
    PlotImagesLayout l;
    plot_images_layout(&nine, 0.8, &l);
    ck_assert_int_eq(l.cols, 3);
    ck_assert_int_eq(l.rows, 3);
}
END_TEST

/* Pairs: each filter's box, then its output's, side by side in one panel,
 * apart, inside the grid; one colour bar for each set, right of the grid,
 * inside the figure and clear of each other. */
START_TEST(layout_pairs_sit_side_by_side)
{
    static float w[10 * 5 * 5], maps[10 * 24 * 24];
    PlotImages im = {.title = "t", .n = 10, .numbered = 1,
                     .set = {{.images = w, .h = 5, .w = 5, .scale = PLOT_SCALE_SHARED},
                             {.images = maps, .h = 24, .w = 24, .scale = PLOT_SCALE_SHARED}}};
    PlotImagesLayout l;
    plot_images_layout(&im, 0.9, &l);
    ck_assert_int_eq(l.parts, 2);
    ck_assert_int_eq(l.n_colorbars, 2);
    for (int k = 0; k < im.n; k++) {
        PlotRect a, b;
        plot_image_box(&l, k, 0, &a);
        plot_image_box(&l, k, 1, &b);
        ck_assert(a.x1 < b.x0 && b.x0 - a.x1 < 10 && a.y0 == b.y0);
        ck_assert(a.x0 >= 0 && b.x1 <= l.width && a.y0 >= l.top && a.y1 <= l.height);
        ck_assert(a.x1 - a.x0 >= 60);
    }
    ck_assert(l.colorbar[0].x1 < l.colorbar[1].x0 && l.colorbar[0].x0 >= l.width);
    ck_assert(l.colorbar[1].x1 + 5 * PLOT_CHAR_W <= PLOT_WIDTH);
}
END_TEST

/* One scale for values: symmetric about 0 when they have both signs, so the
 * sign reads from the colour; min..max otherwise. */
START_TEST(value_ranges_are_symmetric_when_signed)
{
    float signed_v[] = {-0.2f, 0.05f, NAN, 0.9f}, plain[] = {0.1f, 0.4f, INFINITY};
    double lo, hi;
    int is_signed;
    plot_value_range(signed_v, 4, &lo, &hi, &is_signed);
    ck_assert(is_signed);
    ck_assert_double_eq_tol(lo, -0.9, 1e-6);
    ck_assert_double_eq_tol(hi, 0.9, 1e-6);
    plot_value_range(plain, 3, &lo, &hi, &is_signed);
    ck_assert(!is_signed);
    ck_assert_double_eq_tol(lo, 0.1, 1e-6);
    ck_assert_double_eq_tol(hi, 0.4, 1e-6);
    plot_value_range(plain, 0, &lo, &hi, &is_signed);
    ck_assert(lo < hi);
    double d[] = {41.92, 415.1, 132.8, NAN, 0};
    ck_assert_int_eq(plot_decimals(d, 5, 3), 1);
    double small[] = {0.0123, 0.5};
    ck_assert_int_eq(plot_decimals(small, 2, 2), 3);
}
END_TEST

/* Mean colour of the pixels inside r (px), inset by `in` px. */
static void mean_colour(const TestPixels *p, PlotRect r, int in, double c[3])
{
    long n = 0;
    c[0] = c[1] = c[2] = 0;
    for (int y = (int)r.y0 + in; y < (int)r.y1 - in; y++)
        for (int x = (int)r.x0 + in; x < (int)r.x1 - in; x++, n++)
            for (int k = 0; k < 3; k++)
                c[k] += test_pixel(p, x, y)[k];
    for (int k = 0; k < 3; k++)
        c[k] /= n > 0 ? n : 1;
}

/* Whether some pixel 1 to `in` px outside r is near (r, g, b): a frame, not the image's own colours. */
static int frame_has(const TestPixels *p, PlotRect r, int in, int cr, int cg, int cb)
{
    for (int y = (int)r.y0 - in; y <= (int)r.y1 + in; y++)
        for (int x = (int)r.x0 - in; x <= (int)r.x1 + in; x++) {
            int inner = x >= r.x0 - 1 && x <= r.x1 + 1 && y >= r.y0 - 1 && y <= r.y1 + 1;
            if (inner || x < 0 || y < 0 || x >= p->w || y >= p->h)
                continue;
            const unsigned char *c = test_pixel(p, x, y);
            if (abs(c[0] - cr) < 40 && abs(c[1] - cg) < 40 && abs(c[2] - cb) < 40)
                return 1;
        }
    return 0;
}

/* A signed grid on one scale: the strong positive image red, the strong
 * negative one blue, the weak one near white (not stretched to its own
 * range), panel 1 framed in red and the others not; the colour bar holds
 * both ends and no tick mark inside it. */
START_TEST(images_share_one_signed_scale_and_mark_panels)
{
    enum { N = 4, H = 6, W = 6 };
    float img[N * H * W];
    static const float level[N] = {1.0f, -1.0f, 0.02f, -0.5f};
    for (int k = 0; k < N; k++)
        for (int i = 0; i < H * W; i++)
            img[k * H * W + i] = level[k] * (i == 0 ? 0.2f : 1.0f);
    unsigned char marked[N] = {0, 1, 0, 0};
    PlotImages im = {.title = "signed", .n = N, .numbered = 1, .marked = marked,
                     .set = {{.images = img, .h = H, .w = W, .scale = PLOT_SCALE_SHARED,
                              .label = "weight"}}};
    char path[PATH_MAX];
    Err err;
    tmp_path(path, "signed.png");
    ck_assert_ok(plot_images(path, &im, &err), err);
    TestPixels p = read_figure(path);
    PlotImagesLayout l;
    plot_images_layout(&im, 0.9, &l); /* the caption's size does not move the boxes much */
    ck_assert_int_eq(l.cols, 2);
    double c[N][3];
    for (int k = 0; k < N; k++) {
        PlotRect b;
        plot_image_box(&l, k, 0, &b);
        mean_colour(&p, b, 8, c[k]);
        ck_assert_msg(frame_has(&p, b, 4, 214, 39, 40) == (k == 1), "panel %d's frame", k);
    }
    ck_assert_msg(c[0][0] > 150 && c[0][2] < 100, "positive (%.0f,%.0f,%.0f)", c[0][0], c[0][1], c[0][2]);
    ck_assert_msg(c[1][2] > 150 && c[1][0] < 100, "negative (%.0f,%.0f,%.0f)", c[1][0], c[1][1], c[1][2]);
    ck_assert_msg(c[2][0] > 230 && c[2][1] > 230 && c[2][2] > 230, "weak (%.0f,%.0f,%.0f)",
                  c[2][0], c[2][1], c[2][2]);
    PlotRect bar = l.colorbar[0];
    PlotRect top = {bar.x0, bar.x1, bar.y0, bar.y0 + 12}, bottom = {bar.x0, bar.x1, bar.y1 - 12, bar.y1};
    double t[3], u[3];
    mean_colour(&p, top, 3, t);
    mean_colour(&p, bottom, 3, u);
    ck_assert_msg(t[0] > 150 && u[2] > 150, "bar ends (%.0f,%.0f,%.0f) (%.0f,%.0f,%.0f)", t[0],
                  t[1], t[2], u[0], u[1], u[2]);
    for (int y = (int)bar.y0 + 3; y < (int)bar.y1 - 3; y++)
        for (int x = (int)bar.x0 + 3; x < (int)bar.x1 - 3; x++) {
            const unsigned char *px = test_pixel(&p, x, y);
            ck_assert_msg(px[0] + px[1] + px[2] > 120, "a tick at (%d, %d) inside the bar", x, y);
        }
    free(p.rgb);
}
END_TEST

/* The colour of pixel (row, col) of panel k's image (h x w, fitted to its box
 * as plot.c fits it, row 0 on top), read back from the figure. */
static const unsigned char *panel_pixel(const TestPixels *p, const PlotImagesLayout *l, int k,
                                        int h, int w, int row, int col)
{
    PlotRect b;
    plot_image_box(l, k, 0, &b);
    double scale = fmin((b.x1 - b.x0) / w, (b.y1 - b.y0) / h);
    double x0 = (b.x0 + b.x1) / 2 - scale * w / 2, y0 = (b.y0 + b.y1) / 2 - scale * h / 2;
    return test_pixel(p, (int)(x0 + (col + 0.5) * scale), (int)(y0 + (row + 0.5) * scale));
}

static int near(const unsigned char *c, int r, int g, int b, int tol)
{
    return abs(c[0] - r) <= tol && abs(c[1] - g) <= tol && abs(c[2] - b) <= tol;
}

/* Three-channel pictures, planes [3][H][W]: stripes of pure red, green and
 * blue land in their rows in their colours; a normalised image (values
 * (v - 0.5) / 0.25, so -2 to 2) drawn on one range over its channels shows the
 * photo's orange and dark blue, not each channel stretched to its own range
 * (which would turn the dark blue bright); a NaN pixel stays white. */
START_TEST(images_in_colour_keep_their_hues)
{
    enum { N = 2, H = 6, W = 6, PLANE = H * W };
    float img[N * 3 * PLANE];
    static const float stripe[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    static const float orange[3] = {1, 0.5f, 0}, navy[3] = {0, 0, 0.5f};
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < PLANE; i++) {
            int row = i / W, col = i % W;
            img[c * PLANE + i] = stripe[row / 2][c];
            float v = col < W / 2 ? orange[c] : navy[c];
            img[3 * PLANE + c * PLANE + i] = (v - 0.5f) / 0.25f;
        }
    img[3 * PLANE + 1 * PLANE + 5 * W + 5] = NAN; /* green of the last pixel */
    PlotImages im = {.title = "colour", .n = N,
                     .set = {{.images = img, .h = H, .w = W, .channels = 3}}};
    char path[PATH_MAX];
    Err err;
    tmp_path(path, "colour.png");
    ck_assert_ok(plot_images(path, &im, &err), err);
    TestPixels p = read_figure(path);
    PlotImagesLayout l;
    plot_images_layout(&im, 0.0, &l); /* no captions: the boxes as drawn */
    static const int want[3][3] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}};
    for (int row = 0; row < H; row++)
        for (int col = 0; col < W; col++) {
            const unsigned char *c = panel_pixel(&p, &l, 0, H, W, row, col);
            const int *w = want[row / 2];
            ck_assert_msg(near(c, w[0], w[1], w[2], 8), "stripes (%d, %d): (%d,%d,%d)", row, col,
                          c[0], c[1], c[2]);
        }
    const unsigned char *o = panel_pixel(&p, &l, 1, H, W, 2, 1);
    const unsigned char *d = panel_pixel(&p, &l, 1, H, W, 2, 4);
    const unsigned char *nan = panel_pixel(&p, &l, 1, H, W, 5, 5);
    ck_assert_msg(near(o, 255, 128, 0, 8), "orange (%d,%d,%d)", o[0], o[1], o[2]);
    ck_assert_msg(near(d, 0, 0, 128, 8), "dark blue (%d,%d,%d)", d[0], d[1], d[2]);
    ck_assert_msg(test_is_white(nan), "NaN pixel (%d,%d,%d)", nan[0], nan[1], nan[2]);
    free(p.rgb);
}
END_TEST

/* One channel, as before: every pixel of a gradient gray (r = g = b), dark
 * to light along the row; and colour is refused where it would mislead: on a
 * shared scale of values, and for channel counts other than 1 and 3. */
START_TEST(images_of_one_channel_stay_gray)
{
    enum { H = 4, W = 8 };
    float img[H * W];
    for (int i = 0; i < H * W; i++)
        img[i] = (float)(i % W);
    PlotImages im = {.title = "gray", .n = 1, .set = {{.images = img, .h = H, .w = W}}};
    char path[PATH_MAX];
    Err err;
    tmp_path(path, "gray.png");
    ck_assert_ok(plot_images(path, &im, &err), err);
    TestPixels p = read_figure(path);
    PlotImagesLayout l;
    plot_images_layout(&im, 0.0, &l);
    int last = -1;
    for (int col = 0; col < W; col++) {
        const unsigned char *c = panel_pixel(&p, &l, 0, H, W, 1, col);
        ck_assert_msg(c[0] == c[1] && c[1] == c[2], "column %d: (%d,%d,%d)", col, c[0], c[1], c[2]);
        ck_assert_msg(c[0] > last, "column %d: %d after %d", col, c[0], last);
        last = c[0];
    }
    ck_assert(last > 245 && panel_pixel(&p, &l, 0, H, W, 1, 0)[0] < 10);
    free(p.rgb);
    static float three[3 * H * W];
    PlotImages shared = {.title = "values", .n = 1,
                         .set = {{.images = three, .h = H, .w = W, .channels = 3,
                                  .scale = PLOT_SCALE_SHARED}}};
    tmp_path(path, "shared-rgb.png");
    ck_assert_int_eq(plot_images(path, &shared, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "one channel at a time"), "%s", err.msg);
    shared.set[0].scale = PLOT_SCALE_EACH;
    shared.set[0].channels = 2;
    ck_assert_int_eq(plot_images(path, &shared, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "2 channels"), "%s", err.msg);
    ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

/* The heatmap's colour bar: no tick mark drawn over its colours. */
START_TEST(heatmap_colorbar_ticks_stay_outside)
{
    double v[12];
    for (int i = 0; i < 12; i++)
        v[i] = i * 0.37;
    PlotHeatmap h = {.title = "bar", .values = v, .rows = 3, .cols = 4};
    char path[PATH_MAX];
    Err err;
    tmp_path(path, "bar.png");
    ck_assert_ok(plot_heatmap(path, &h, &err), err);
    TestPixels p = read_figure(path);
    PlotHeatLayout l;
    plot_heat_layout(&h, &l);
    PlotRect bar = l.colorbar;
    long inked = 0;
    for (int y = (int)bar.y0 + 3; y < (int)bar.y1 - 3; y++)
        for (int x = (int)bar.x0 + 3; x < (int)bar.x1 - 3; x++) {
            const unsigned char *px = test_pixel(&p, x, y);
            ck_assert_msg(px[0] + px[1] + px[2] > 120, "a tick at (%d, %d) inside the bar", x, y);
            inked += !test_is_white(px);
        }
    ck_assert_int_gt(inked, 100);
    free(p.rgb);
}
END_TEST

/* Markers: each series its own shape, every vertex within the radius the
 * layout pads for. */
START_TEST(layout_markers_differ_and_fit_the_padding)
{
    double a[PLOT_MARKER_POINTS][2], b[PLOT_MARKER_POINTS][2];
    for (int k = 0; k < PLOT_MARKER_SHAPES; k++) {
        int n = plot_marker_shape(k, a);
        ck_assert(n >= 4 && n <= PLOT_MARKER_POINTS);
        ck_assert(a[0][0] == a[n - 1][0] && a[0][1] == a[n - 1][1]); /* closed */
        for (int v = 0; v < n; v++)
            ck_assert(hypot(a[v][0], a[v][1]) <= PLOT_MARKER_R);
        for (int j = 0; j < k; j++) {
            int m = plot_marker_shape(j, b), same = m == n;
            for (int v = 0; same && v < n; v++)
                same = fabs(a[v][0] - b[v][0]) < 1e-9 && fabs(a[v][1] - b[v][1]) < 1e-9;
            ck_assert_msg(!same, "series %d and %d share a marker", j, k);
        }
    }
}
END_TEST

/* The lowest and highest markers drawn whole: a gap of clear pixels between
 * them and the axes (the issue: a font glyph sat 3 px low and lost its
 * bottom to the axis). */
START_TEST(lines_markers_are_not_clipped)
{
    double x[] = {1, 2, 3, 4, 5}, y[] = {0.10, 0.40, 0.25, 0.60, 0.95};
    PlotSeries s = {.x = x, .y = y, .n = 5, .markers = PLOT_MARKERS};
    PlotPanel p = {.title = "markers", .series = &s, .n_series = 1, .integer_x = 1};
    char path[PATH_MAX];
    Err err;
    tmp_path(path, "markers.png");
    ck_assert_ok(plot_lines(path, &p, 1, &err), err);
    TestPixels px = read_figure(path);
    PlotLayout l;
    plot_layout(&p, 1, &l);
    int x0 = (int)lround(l.viewport.x0 * PLOT_WIDTH), x1 = (int)lround(l.viewport.x1 * PLOT_WIDTH);
    int top = (int)lround((1 - l.viewport.y1) * PLOT_HEIGHT);
    int bottom = (int)lround((1 - l.viewport.y0) * PLOT_HEIGHT);
    int lowest = 0, highest = PLOT_HEIGHT, left = PLOT_WIDTH, right = 0;
    for (int yy = top - 10; yy <= bottom + 10; yy++)
        for (int xx = x0 - 10; xx <= x1 + 10; xx++) {
            const unsigned char *c = test_pixel(&px, xx, yy);
            if (!(c[2] > 120 && c[0] < 120 && c[2] - c[0] > 60)) /* the first series' blue */
                continue;
            lowest = yy > lowest ? yy : lowest, highest = yy < highest ? yy : highest;
            left = xx < left ? xx : left, right = xx > right ? xx : right;
        }
    ck_assert_msg(bottom - lowest >= 3 && highest - top >= 3 && left - x0 >= 3 && x1 - right >= 3,
                  "markers span x %d..%d, y %d..%d in the box %d..%d x %d..%d", left, right,
                  highest, lowest, x0, x1, top, bottom);
    ck_assert(bottom - lowest <= 12); /* padded, not shrunk */
    free(px.rgb);
}
END_TEST

/* The least-squares line, and a scatter's legend kept off it. */
START_TEST(layout_fit_lines_are_least_squares)
{
    double x[] = {0, 1, 2, 3, NAN}, y[] = {1, 3, 5, 7, 2}, slope, icpt;
    ck_assert(plot_least_squares(x, y, 5, &slope, &icpt));
    ck_assert_double_eq_tol(slope, 2, 1e-12);
    ck_assert_double_eq_tol(icpt, 1, 1e-12);
    double same[] = {2, 2, 2};
    ck_assert(!plot_least_squares(same, y, 3, &slope, &icpt));
    enum { N = 30 };
    double sx[N], sy[N];
    for (int i = 0; i < N; i++) /* a cloud about y = x, sparse in the corners' middle */
        sx[i] = i / (N - 1.0), sy[i] = sx[i] + (i % 3 - 1) * 0.15;
    PlotSeries s = {.x = sx, .y = sy, .n = N, .markers = PLOT_MARKERS, .fit = 1, .label = "conv1"};
    PlotPanel p = {.title = "scatter", .series = &s, .n_series = 1};
    PlotLayout l;
    plot_layout(&p, 1, &l);
    ck_assert(plot_least_squares(sx, sy, N, &slope, &icpt));
    ck_assert(!plot_rect_meets_segment(&l.legend, 0, icpt, 1, icpt + slope));
    assert_layout_clear(&p, &l);
}
END_TEST

/* Bands: inside the window, whole, and clear of the legend. */
START_TEST(layout_bands_are_inside_and_clear)
{
    double x[] = {0, 1, 2, 3}, y[] = {0.5, 0.6, 0.7, 0.8}, lo[] = {0.1, 0.5, 0.6, 0.7},
           hi[] = {0.6, 0.65, 0.9, 0.99};
    const char *names[] = {"16", "32", "64", "128"};
    PlotSeries s = {.x = x, .y = y, .n = 4, .markers = PLOT_LINE_MARKERS, .lo = lo, .hi = hi,
                    .label = "epochs 1"};
    PlotPanel p = {.title = "sweep", .series = &s, .n_series = 1, .x_names = names,
                   .n_x_names = 4};
    PlotLayout l;
    plot_layout(&p, 1, &l);
    double ry = PLOT_MARKER_R * (l.window.y1 - l.window.y0) / l.height;
    ck_assert(l.window.y0 <= 0.1 - ry && l.window.y1 >= 0.99);
    for (int j = 0; j < 4; j++) {
        ck_assert(!plot_rect_meets_segment(&l.legend, x[j], lo[j], x[j], hi[j]));
        if (j < 3)
            ck_assert(!plot_rect_meets_segment(&l.legend, x[j], hi[j], x[j + 1], hi[j + 1]) &&
                      !plot_rect_meets_segment(&l.legend, x[j], lo[j], x[j + 1], lo[j + 1]));
    }
    assert_layout_clear(&p, &l);
}
END_TEST

/* The labels table: settings and metrics in words. */
START_TEST(labels_are_words)
{
    static const char *const cases[][2] = {
        {"train.batch_size", "batch size"},
        {"model.layers.conv2_drop.rate", "dropout rate of conv2_drop"},
        {"model.layers.fc1.units", "units of fc1"},
        {"model.layers.fc1.bias_init", "bias init of fc1"},
        {"final_test_accuracy", "final test accuracy"},
        {"best_val_loss", "best validation loss"},
        {"val_accuracy", "validation accuracy"},
        {"images_per_s", "images per second"},
        {"optimizer.learning_rate", "learning rate"},
        {"data.normalize.mean", "mean"},
        {"seconds", "seconds"},
    };
    char buf[96];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        ck_assert_str_eq(plot_label(cases[i][0], buf, sizeof buf), cases[i][1]);
}
END_TEST

/* A run directory with a history and a config of batch size `batch`. */
static int rects_meet(const PlotRect *a, const PlotRect *b)
{
    return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

static int rect_in_figure(const PlotRect *r)
{
    return r->x0 >= 0 && r->y0 >= 0 && r->x1 <= PLOT_WIDTH && r->y1 <= PLOT_HEIGHT &&
           r->x0 < r->x1 && r->y0 < r->y1;
}

/* A decision boundary: a square view on one scale, centred on 0, at least
 * the Playground's -6..6 and wide enough for the farthest point's whole
 * marker; the colour bar and the legend (wide enough for the class names)
 * right of it, apart, inside the figure. */
START_TEST(layout_boundary_is_square_and_holds_every_marker)
{
    double near_x[] = {1, -2}, near_y[] = {0.5, 3}, far_x[] = {9.5, 0}, far_y[] = {-1, -3};
    unsigned char label[] = {0, 1};
    const double *xs[] = {near_x, far_x}, *ys[] = {near_y, far_y};
    for (int i = 0; i < 2; i++) {
        PlotBoundary b = {.title = "boundary", .x = xs[i], .y = ys[i], .label = label,
                          .n_points = 2, .class_names = {"negative", "positive"},
                          .min_half = 6, .resolution = 10};
        PlotBoundaryLayout l;
        plot_boundary_layout(&b, &l);
        double w = l.area.x1 - l.area.x0, h = l.area.y1 - l.area.y0;
        ck_assert_double_eq_tol(w, h, 1e-9);
        ck_assert_double_eq_tol(l.viewport.x0 * PLOT_WIDTH, l.area.x0, 1e-9);
        ck_assert_double_eq_tol((1 - l.viewport.y1) * PLOT_HEIGHT, l.area.y0, 1e-9);
        ck_assert(l.half >= 6);
        double px = 2 * l.half / w; /* world units a px, the same both ways */
        for (int k = 0; k < 2; k++) {
            ck_assert_msg(fabs(xs[i][k]) + PLOT_MARKER_R * px <= l.half &&
                              fabs(ys[i][k]) + PLOT_MARKER_R * px <= l.half,
                          "point (%g, %g)'s marker leaves -%g..%g", xs[i][k], ys[i][k], l.half,
                          l.half);
        }
        ck_assert(i == 0 ? l.half < 6.5 : l.half > 9.5); /* padded, not more */
        ck_assert(rect_in_figure(&l.area) && rect_in_figure(&l.colorbar) &&
                  rect_in_figure(&l.legend));
        ck_assert(!rects_meet(&l.area, &l.colorbar) && !rects_meet(&l.area, &l.legend) &&
                  !rects_meet(&l.colorbar, &l.legend));
        ck_assert(l.colorbar.x0 - l.area.x1 >= 5 * PLOT_DIGIT_W / 2); /* the y ticks' room */
        ck_assert(l.legend.x1 - l.legend.x0 >= 2 * PLOT_MARKER_R + 8 * PLOT_CHAR_W);
        ck_assert(l.legend.y1 - l.legend.y0 >= 2 * l.legend_row);
        ck_assert_double_eq(l.title_scale, 1.0);
    }
}
END_TEST

/* p = 1 right of x = 1, else 0: blue tints right of the boundary, orange
 * left, in the plot area; a point of each class drawn in its colour. */
static int right_of_one(const double *xy, int n, double *p, void *ctx, Err *err)
{
    (void)ctx, (void)err;
    for (int i = 0; i < n; i++)
        p[i] = xy[2 * i] > 1.0;
    return CLRUN_OK;
}

START_TEST(boundary_shades_each_side_in_its_class_colour)
{
    double x[] = {-3, 4}, y[] = {2, -2};
    unsigned char label[] = {0, 1};
    PlotBoundary b = {.title = "boundary", .xlabel = "x1", .ylabel = "x2", .x = x, .y = y,
                      .label = label, .n_points = 2, .class_names = {"negative", "positive"},
                      .min_half = 6, .resolution = 60, .decide = right_of_one};
    char path[PATH_MAX];
    Err err;
    tmp_path(path, "boundary.png");
    ck_assert_ok(plot_boundary(path, &b, &err), err);
    TestPixels px = read_figure(path);
    PlotBoundaryLayout l;
    plot_boundary_layout(&b, &l);
    double side = l.area.x1 - l.area.x0, left[3], right[3];
    PlotRect far_left = {l.area.x0 + 5, l.area.x0 + side * 0.2, l.area.y0 + side * 0.8,
                         l.area.y1 - 5};
    PlotRect far_right = {l.area.x1 - side * 0.2, l.area.x1 - 5, l.area.y0 + 5,
                          l.area.y0 + side * 0.2};
    mean_colour(&px, far_left, 0, left);
    mean_colour(&px, far_right, 0, right);
    ck_assert_msg(left[0] > left[2] + 40, "left of the boundary %.0f,%.0f,%.0f: not orange",
                  left[0], left[1], left[2]);
    ck_assert_msg(right[2] > right[0] + 40, "right of the boundary %.0f,%.0f,%.0f: not blue",
                  right[0], right[1], right[2]);
    ck_assert(has_colour(&px, 255, 127, 14, 10) && has_colour(&px, 31, 119, 180, 10));
    free(px.rgb);
    b.decide = NULL;
    ck_assert_int_eq(plot_boundary(path, &b, &err), CLRUN_EINPUT);
}
END_TEST

static void fake_run(const char *dir, int batch, int epochs)
{
    char path[PATH_MAX + 16];
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "train:\n  batch_size: %d\n  epochs: %d\nrun:\n  device: x%d\n", batch, epochs,
            batch);
    fclose(f);
    snprintf(path, sizeof path, "%s/history.csv", dir);
    f = fopen(path, "w");
    fprintf(f, "epoch,loss,accuracy,val_loss,val_accuracy,test_loss,test_accuracy\n");
    for (int e = 1; e <= epochs; e++)
        fprintf(f, "%d,%g,%g,NA,NA,%g,%g\n", e, 1.0 / e, 1 - 0.5 / e, 1.2 / e, 1 - 0.6 / e);
    fclose(f);
}

/* clrun compare: the figure, named runs; a bad metric or a folder without a
 * history is an input error naming it. */
START_TEST(compare_overlays_runs)
{
    char a[PATH_MAX], b[PATH_MAX], out[PATH_MAX];
    tmp_path(a, "bs32");
    tmp_path(b, "bs128");
    fake_run(a, 32, 5);
    fake_run(b, 128, 8);
    tmp_path(out, "compare.png");
    const char *runs[] = {a, b};
    Err err = {""};
    ck_assert_ok(compare_runs(runs, 2, NULL, NULL, &err), err); /* beside the runs */
    TestPixels p = read_figure(out);
    ck_assert(has_colour(&p, 31, 119, 180, 30) && has_colour(&p, 255, 127, 14, 30));
    free(p.rgb);
    ck_assert_int_eq(compare_runs(runs, 2, "loss,nope", out, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "nope") != NULL, "%s", err.msg);
    const char *missing[] = {a, test_tmpdir};
    ck_assert_int_eq(compare_runs(missing, 2, NULL, out, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "history.csv") != NULL, "%s", err.msg);
}
END_TEST

Suite *plot_suite(void)
{
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("plot");
    tcase_add_checked_fixture(tc, test_tmpdir_make, test_tmpdir_remove);
    tcase_add_test(tc, lines_draw_two_coloured_series);
    tcase_add_test(tc, lines_accept_empty_and_nan_series);
    tcase_add_test(tc, heatmap_colours_follow_values);
    tcase_add_test(tc, heatmap_cells_sit_where_their_values_are);
    tcase_add_test(tc, heatmap_groups_part_their_blocks);
    tcase_add_test(tc, images_show_dark_and_light_pixels);
    tcase_add_test(tc, missing_directory_is_a_runtime_error);
    tcase_add_test(tc, full_disk_is_named_as_such);
    tcase_add_test(tc, dpi_200_draws_everything_twice_as_large);
    tcase_add_test(tc, layout_legend_leaves_rising_curves_clear);
    tcase_add_test(tc, layout_legend_rises_above_data_in_every_corner);
    tcase_add_test(tc, layout_epoch_axes_have_integer_ticks);
    tcase_add_test(tc, layout_categories_get_one_named_tick_each);
    tcase_add_test(tc, layout_heatmap_fits_labels_and_counts);
    tcase_add_test(tc, layout_thumbnails_fill_the_figure);
    tcase_add_test(tc, layout_grids_are_near_square);
    tcase_add_test(tc, layout_pairs_sit_side_by_side);
    tcase_add_test(tc, value_ranges_are_symmetric_when_signed);
    tcase_add_test(tc, images_share_one_signed_scale_and_mark_panels);
    tcase_add_test(tc, images_in_colour_keep_their_hues);
    tcase_add_test(tc, images_of_one_channel_stay_gray);
    tcase_add_test(tc, heatmap_colorbar_ticks_stay_outside);
    tcase_add_test(tc, layout_markers_differ_and_fit_the_padding);
    tcase_add_test(tc, lines_markers_are_not_clipped);
    tcase_add_test(tc, layout_fit_lines_are_least_squares);
    tcase_add_test(tc, layout_bands_are_inside_and_clear);
    tcase_add_test(tc, labels_are_words);
    tcase_add_test(tc, compare_overlays_runs);
    tcase_add_test(tc, layout_boundary_is_square_and_holds_every_marker);
    tcase_add_test(tc, boundary_shades_each_side_in_its_class_colour);
    suite_add_tcase(s, tc);
    return s;
}
