/* plot.h: figures as PNG files (line charts, heatmaps, image grids), drawn
 * with PLplot's pngcairo driver on a white background, 900x600 px (twice
 * that at plot_set_dpi(200)), and
 * written atomically (to path.tmp, then renamed). Non-finite values in series
 * are skipped, and in heatmaps and images left undrawn (white). Functions return CLRUN_OK, CLRUN_EINPUT for bad arguments or
 * CLRUN_ERUNTIME when the file cannot be written; the message names the path. */
#ifndef CLRUN_PLOT_H
#define CLRUN_PLOT_H

#include "err.h"

/* The resolution of the figures drawn after it: PLOT_DPI (the default)
 * makes 900x600 px, 200 twice as many each way with everything drawn twice
 * as large (for print). Outside PLOT_DPI_MIN..PLOT_DPI_MAX: the default. */
enum { PLOT_DPI = 100, PLOT_DPI_MIN = 50, PLOT_DPI_MAX = 400 };
void plot_set_dpi(int dpi);

/* How a series is drawn: a line through its points, markers at them, or both. */
enum { PLOT_LINE = 0, PLOT_MARKERS = 1, PLOT_LINE_MARKERS = 2 };

/* One curve: n points, a legend label (NULL: none), how it is drawn, and
 * optionally an error bar of +-err[i] at each point. */
typedef struct {
    const double *x, *y;
    int n;
    const char *label;
    int markers;
    const double *err;
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

/* A heatmap of rows x cols values (row-major, row 0 on top) with a colour
 * bar. Row and column labels may be NULL (indices are shown); labels that
 * would overlap are turned and thinned. ylabel names the rows, xlabel the
 * columns. With value_format (printf, e.g. "%.0f") each value is written in
 * its cell where it fits. */
typedef struct {
    const char *title, *xlabel, *ylabel;
    const double *values;
    int rows, cols;
    const char *const *row_labels, *const *col_labels;
    const char *value_format;
} PlotHeatmap;

int plot_heatmap(const char *path, const PlotHeatmap *h, Err *err);

/* A grid of grayscale images (each h x w floats, any range: each image scaled
 * to its own min..max), with a caption under each (may be NULL), `cols` per
 * row (0: as many as make the images largest). The images are as large as
 * the figure allows; it grows taller than 600 px when many rows would make
 * them small. */
int plot_images(const char *path, const char *title, const float *images, int n, int h, int w,
                int cols, const char *const *captions, Err *err);

#endif
