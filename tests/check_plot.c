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
#include <unistd.h>

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
    ck_assert_ok(plot_images(path, "checkerboards", img, N, H, W, 3, captions, &err), err);
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
    assert_bad_path(plot_images(path, NULL, img, 1, 2, 2, 1, NULL, &err), &err, path);
    /* A later figure still works: no stream was left half-initialised. */
    tmp_path(path, "after.png");
    ck_assert_ok(plot_lines(path, &panel, 1, &err), err);
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
    tcase_add_test(tc, images_show_dark_and_light_pixels);
    tcase_add_test(tc, missing_directory_is_a_runtime_error);
    suite_add_tcase(s, tc);
    return s;
}
