/* plot.h: figures as PNG files (or SVG and PDF, plot_set_format) (line
 * charts, heatmaps, image grids, decision boundaries), drawn with PLplot's pngcairo driver on a white background, 900x600 px (twice
 * that at plot_set_dpi(200)), and
 * written atomically (to path.tmp, then renamed). Non-finite values in series
 * are skipped, and in heatmaps and images left undrawn (white). Functions return CLRUN_OK, CLRUN_EINPUT for bad arguments or
 * CLRUN_ERUNTIME when the file cannot be written; the message names the path. */
#ifndef CLRUN_PLOT_H
#define CLRUN_PLOT_H

#include <stddef.h>

#include "err.h"

/* The resolution of the figures drawn after it: PLOT_DPI (the default)
 * makes 900x600 px, 200 twice as many each way with everything drawn twice
 * as large (for print). Outside PLOT_DPI_MIN..PLOT_DPI_MAX: the default. */
enum { PLOT_DPI = 100, PLOT_DPI_MIN = 50, PLOT_DPI_MAX = 400 };
void plot_set_dpi(int dpi);

/* The file format of the figures drawn after it, through PLplot's cairo
 * drivers: PNG (pngcairo), or SVG and PDF for print (svgcairo, pdfcairo),
 * vector files of the same layout. Callers name their figures "x.png"; in
 * SVG and PDF the file is x.svg or x.pdf. */
enum { PLOT_PNG = 0, PLOT_SVG = 1, PLOT_PDF = 2, PLOT_FORMATS = 3 };
void plot_set_format(int format);
/* The format called name ("png", "svg", "pdf"), or -1. */
int plot_format_find(const char *name);
/* The path a figure named path ("x.png") is written to in the current format. */
void plot_file_path(const char *path, char *out, size_t size);

/* How a series is drawn: a line through its points, markers at them, or both. */
enum { PLOT_LINE = 0, PLOT_MARKERS = 1, PLOT_LINE_MARKERS = 2 };

/* One curve: n points, a legend label (NULL: none), how it is drawn, and
 * optionally an error bar of +-err[i] at each point, a shaded band from lo[i]
 * to hi[i] (the spread behind a mean), and with fit its least-squares line
 * across its x range (a scatter's trend). Each series has its own colour and
 * its own marker shape (plot_marker_shape), so that they differ in gray too. */
typedef struct {
    const double *x, *y;
    int n;
    const char *label;
    int markers;
    const double *err;
    const double *lo, *hi;
    int fit;
} PlotSeries;

/* A figure of one or more panels side by side, each with its title, axis
 * labels and series. The x axis is continuous; with integer_x its ticks are
 * integers (epochs); with x_names it has categories: x = k stands for
 * x_names[k], k < n_x_names, each named under its tick (layers, swept
 * values). The legend goes in a corner the data leave empty (plot_layout.h). */
typedef struct {
    const char *title, *xlabel, *ylabel;
    const PlotSeries *series;
    int n_series;
    int integer_x;
    const char *const *x_names;
    int n_x_names;
} PlotPanel;

int plot_lines(const char *path, const PlotPanel *panels, int n_panels, Err *err);

/* The words a figure shows for a setting's dotted key or a metric's name
 * (plot_label.c's table): "batch size" for train.batch_size, "dropout rate
 * of conv2_drop" for model.layers.conv2_drop.rate, "final test accuracy" for
 * final_test_accuracy; other names their last part, underscores as spaces.
 * Returns out. */
const char *plot_label(const char *name, char *out, size_t size);

/* A heatmap of rows x cols values (row-major, row 0 on top) with a colour
 * bar. Row and column labels may be NULL (indices are shown); labels that
 * would overlap are turned and thinned. ylabel names the rows, xlabel the
 * columns. With value_format (printf, e.g. "%.0f") each value is written in
 * its cell where it fits. A square map may instead have its rows (and
 * columns alike) in groups, such as an RDM's objects by category: groups[i]
 * is row i's group, rows of a group next to each other; then the groups'
 * names stand beside and under their blocks, which thin lines part. */
typedef struct {
    const char *title, *xlabel, *ylabel;
    const double *values;
    int rows, cols;
    const char *const *row_labels, *const *col_labels;
    const char *value_format;
    const int *groups;               /* [rows], or NULL */
    const char *const *group_names;  /* by group number */
} PlotHeatmap;

int plot_heatmap(const char *path, const PlotHeatmap *h, Err *err);

/* How an image grid maps values to colours. */
enum {
    /* pictures (digits, letters, photos): each image from its own min to its max, no colour
     * bar; gray, or in colour when the set has 3 channels (one range over all three, so
     * that a photo normalised by mean and std keeps its hues) */
    PLOT_SCALE_EACH = 0,
    /* values (weights, activations, masks): one scale for every image of the set and a colour
     * bar, so that sizes compare across panels; symmetric about 0 in a blue-white-red map
     * when the values have both signs, so that the sign reads at a glance */
    PLOT_SCALE_SHARED = 1,
};

/* n images of h x w floats (row-major, row 0 on top) and how they are coloured;
 * label names the values on the set's colour bar (may be NULL). channels: 0
 * or 1 for one plane an image; 3 for red, green and blue planes, each image
 * [3][h][w] as datasets hold them (pictures only: a set of values on a
 * shared scale with 3 channels is refused, not drawn as if it were a photo). */
typedef struct {
    const float *images;
    int h, w;
    int scale;
    const char *label;
    int channels;
} PlotImageSet;

/* A grid of n panels. A panel is image k of set[0], or, when set[1].images is
 * set, image k of set[0] with image k of set[1] beside it (a filter and its
 * output), each set on its own scale. cols: panels per row, 0 for a
 * near-square grid (plot_grid_cols). Under each panel its caption (captions
 * may be NULL), led by its number when numbered; marked[k] (may be NULL)
 * frames panel k and writes its caption in red (a wrong prediction). The
 * images are as large as the figure allows; it grows taller than 600 px when
 * many rows would make them small. Non-finite values are left white. */
typedef struct {
    const char *title;
    int n;
    PlotImageSet set[2];
    int cols;
    const char *const *captions;
    const unsigned char *marked;
    int numbered;
} PlotImages;

int plot_images(const char *path, const PlotImages *im, Err *err);

/* A two-class classifier's decision over the plane (the Playground's
 * picture): the probability of class 1 shaded from class 0's colour through
 * white at 0.5 to class 1's, the decision boundary (p = 0.5) drawn as a
 * line, and the points over it as markers of their class's colour and shape,
 * a legend naming the classes beside a colour bar. The view is a square,
 * the same scale on both axes, centred on 0, wide enough for every point's
 * marker and at least -min_half..min_half (the Playground's 6). decide
 * fills p[i] with the probability of class 1 at (xy[2i], xy[2i+1]) for n
 * points (the centres of the shaded cells); resolution cells a side. */
typedef int (*PlotDecide)(const double *xy, int n, double *p, void *ctx, Err *err);
typedef struct {
    const char *title, *xlabel, *ylabel;
    const double *x, *y;          /* n_points points */
    const unsigned char *label;   /* each point's class, 0 or 1 */
    int n_points;
    const char *class_names[2];
    double min_half;
    int resolution;
    PlotDecide decide;
    void *ctx;
} PlotBoundary;

int plot_boundary(const char *path, const PlotBoundary *b, Err *err);

/* The decimals (0 to 6) that write each of the n values with at least
 * `digits` significant digits: one format for a figure's numbers, so that
 * captions side by side have the same digits (41.9 beside 415.1, not 41.92
 * beside 415.1). Non-finite and zero values are skipped. */
int plot_decimals(const double *v, int n, int digits);

#endif
