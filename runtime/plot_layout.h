/* plot_layout.h: where the parts of a figure go, computed without PLplot so
 * that tests can check it. Line charts: the data window with margins for
 * whole markers, integer and category ticks, and the legend box, placed in a
 * corner the data leave empty (or above the data, after raising the window's
 * top). Heatmaps: room for their labels, turned and thinned as needed.
 * Image grids: thumbnails as large as the figure allows. Decision
 * boundaries: a square view beside its colour bar and legend. Sizes are in pixels of
 * a figure at scale 1; text sizes are estimates on the generous side of what
 * PLplot draws with the font plot.c sets. */
#ifndef CLRUN_PLOT_LAYOUT_H
#define CLRUN_PLOT_LAYOUT_H

#include <stddef.h>

#include "plot.h"

enum {
    PLOT_WIDTH = 900,
    PLOT_HEIGHT = 600,
    PLOT_CHAR_W = 12,      /* px per character of axis and legend text, at most */
    PLOT_CHAR_H = 14,      /* px per line of text */
    PLOT_DIGIT_W = 10,     /* px per digit of a tick label, at most */
    PLOT_MARKER_R = 7,     /* px: the radius of a marker */
    PLOT_LEGEND_SYMBOL = 36, /* px: the width of a legend's line and marker */
    PLOT_MAX_LEGEND = 16,
};

/* A rectangle; in world coordinates for the legend. */
typedef struct {
    double x0, x1, y0, y1;
} PlotRect;

typedef struct {
    PlotRect viewport;     /* the plot area, as fractions of the panel (PLplot's plvpor) */
    double bottom_px;      /* below the plot area: tick labels and the x label */
    double width, height;  /* the plot area in px */
    PlotRect window;       /* the world coordinates the plot area shows */
    int has_legend;
    PlotRect legend;       /* the legend box in world coordinates */
    double legend_w, legend_h; /* its size as fractions of the plot area */
    int legend_top, legend_right; /* the corner it sits in */
    double title_scale;    /* character scale that fits the title on one line */
    /* x ticks: at first + k * step for k < n_ticks; labels are the category
     * names (every label_stride-th) or integers, vertical when rotated */
    int integer_x, categorical;
    double first_tick, tick_step;
    int n_ticks, label_stride, rotate_labels;
} PlotLayout;

/* The layout of panel p, one of n_panels side by side in a figure of the
 * default size. */
void plot_layout(const PlotPanel *p, int n_panels, PlotLayout *out);

/* Whether the segment from (x0, y0) to (x1, y1) crosses or touches r. */
int plot_rect_meets_segment(const PlotRect *r, double x0, double y0, double x1, double y1);

/* How `count` labels of at most `chars` characters fit along an axis of
 * `axis_px` pixels: side by side, else (when may_rotate) turned across the
 * axis, and then only every *stride-th one when even so they would touch. */
void plot_fit_labels(int count, double axis_px, size_t chars, int may_rotate, int *rotate,
                     int *stride);

/* The layout of a heatmap: where its cells go, and how its labels fit. */
typedef struct {
    PlotRect viewport;          /* the cells, as fractions of the figure */
    double cell_w, cell_h;      /* px */
    int rotate_cols, col_stride, row_stride;
    double title_scale;
    double value_scale;         /* character scale of the values in the cells; 0: none fit */
    PlotRect colorbar;          /* px from the top left (y0 above y1) */
} PlotHeatLayout;

/* The layout of the heatmap h in a figure of the default size. */
void plot_heat_layout(const PlotHeatmap *h, PlotHeatLayout *out);

/* The layout of an image grid (plot.h's PlotImages), each panel over a
 * caption line of caption_scale (0: none): panels as large as the width
 * allows, the figure taller than the default when a row would otherwise be
 * too flat, and a colour bar right of the grid for each set on a shared
 * scale. Rectangles are in px from the figure's top left (y0 above y1). */
typedef struct {
    int cols, rows, parts;    /* parts: images a panel (2 for pairs) */
    double width, height;     /* the grid's width (the figure's less its colour bars); the figure's height */
    double top;               /* px above the first row: the title */
    double cell_w, cell_h;    /* px per panel, its caption and the gaps included */
    double thumb_w, thumb_h;  /* px of one image's box */
    double caption;           /* px of a caption line */
    double title_scale;       /* character scale that fits the title on one line */
    int n_colorbars;
    PlotRect colorbar[2];     /* of set 0's shared scale, then set 1's */
} PlotImagesLayout;

void plot_images_layout(const PlotImages *im, double caption_scale, PlotImagesLayout *out);

/* Where image `part` of panel k goes, px from the top left; its caption
 * sits under the box of part 0 (centred on the panel). */
void plot_image_box(const PlotImagesLayout *l, int k, int part, PlotRect *box);

/* The layout of a decision boundary (plot.h's PlotBoundary): a square plot
 * area left in the figure, its window [-half, half] on both axes (every
 * point's marker whole inside it), and right of it a colour bar over the
 * legend (a row per class). px rectangles from the figure's top left (y0
 * above y1). */
typedef struct {
    PlotRect area;         /* the plot area, px */
    PlotRect viewport;     /* the same as fractions of the figure (PLplot's plvpor) */
    double half;           /* the window is -half..half on both axes */
    PlotRect colorbar;     /* px */
    PlotRect legend;       /* px */
    double legend_row;     /* px a class's row */
    double title_scale;
} PlotBoundaryLayout;

void plot_boundary_layout(const PlotBoundary *b, PlotBoundaryLayout *out);

/* The columns of a near-square grid of n panels, each `aspect` times as wide
 * as tall: ceil(sqrt(n / aspect)), so 9 panels are 3 x 3 and 20 are 5 x 4. */
int plot_grid_cols(int n, double aspect);

/* The range one colour scale gives count values (non-finite ones skipped):
 * -m..m, m the largest magnitude, when they have both signs (*is_signed = 1),
 * else their min..max; never empty (lo < hi). */
void plot_value_range(const float *v, size_t count, double *lo, double *hi, int *is_signed);

/* The outline of series k's marker, a closed polygon of at most
 * PLOT_MARKER_POINTS vertices in px about its centre, all within
 * PLOT_MARKER_R of it (the padding plot_layout leaves): a circle, square,
 * triangle, diamond or downward triangle, in turn. Returns the count. */
enum { PLOT_MARKER_SHAPES = 5, PLOT_MARKER_POINTS = 17 };
int plot_marker_shape(int k, double xy[PLOT_MARKER_POINTS][2]);

/* The least-squares line y = intercept + slope * x through the finite points;
 * 0 when there is none (fewer than two distinct x). */
int plot_least_squares(const double *x, const double *y, int n, double *slope,
                       double *intercept);

/* A tick step of 1, 2 or 5 times a power of ten (at least 1) that puts at
 * most max_ticks integer ticks in lo..hi. */
double plot_integer_step(double lo, double hi, int max_ticks);

#endif
