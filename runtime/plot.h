/* plot.h: figures as PNG files (line charts, heatmaps, image grids), drawn
 * with PLplot's pngcairo driver on a white background, 900x600 px, and
 * written atomically (to path.tmp, then renamed). Non-finite values in series
 * are skipped, and in heatmaps and images left undrawn (white). Functions return CLRUN_OK, CLRUN_EINPUT for bad arguments or
 * CLRUN_ERUNTIME when the file cannot be written; the message names the path. */
#ifndef CLRUN_PLOT_H
#define CLRUN_PLOT_H

#include "err.h"

/* One curve: n points, a legend label, and whether to draw markers instead of a line. */
typedef struct {
    const double *x, *y;
    int n;
    const char *label;
    int markers;
} PlotSeries;

/* A figure of one or more panels side by side, each with its title, axis labels and series. */
typedef struct {
    const char *title, *xlabel, *ylabel;
    const PlotSeries *series;
    int n_series;
} PlotPanel;

int plot_lines(const char *path, const PlotPanel *panels, int n_panels, Err *err);

/* A heatmap of rows x cols values (row-major, row 0 on top) with a colour bar
 * and optional row/column tick labels (may be NULL: indices are shown). */
int plot_heatmap(const char *path, const char *title, const double *values, int rows, int cols,
                 const char *const *row_labels, const char *const *col_labels, Err *err);

/* A grid of grayscale images (each h x w floats, any range: each image scaled
 * to its own min..max), with a caption under each (may be NULL), `cols` per row. */
int plot_images(const char *path, const char *title, const float *images, int n, int h, int w,
                int cols, const char *const *captions, Err *err);

#endif
