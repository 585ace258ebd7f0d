/* ratings.h: people's similarity ratings of image pairs (the similarity
 * analysis, seed 000): the image of a pair, the self-contained rating page
 * raters fill in, and reading the CSV files that page and the template
 * produce. The CSV form: a header `pair,image_a,image_b,<rater>...`, then one
 * row per pair (numbered from 1; images as test-set indices) with a rating
 * from 1 (least similar) to 10 (most similar) per rater. */
#ifndef CLRUN_ANALYSIS_RATINGS_H
#define CLRUN_ANALYSIS_RATINGS_H

#include "analysis/analysis.h"

enum { RATING_PAIR_GAP = 4 }; /* pixels of mid-gray between the two images of a pair */

/* The two examples side by side: ds->c planes of h rows of 2w + gap bytes
 * (value sets scaled to 0..255 by their own range). */
void rating_pair_image(const Dataset *ds, int a, int b, unsigned char *out);

/* similarity_rating.html in the run directory: pair p shows test examples
 * examples[p] and examples[pairs + p]; a 1 to 10 choice per pair, the
 * rater's name, an optional CSV saved earlier to add a column to, and a
 * button that saves similarity_ratings.csv. No network, no other files. */
int rating_page_write(AnalysisContext *ctx, const int *examples, int pairs, Err *err);

typedef struct {
    int pairs, raters;
    double *sum;              /* per pair, over the raters read so far */
    double *mean, *normalized; /* per pair, after ratings_finish: mean, and min-max scaled */
} Ratings;

/* Adds the rater columns of the CSV file at path to r. Every pair must be
 * there once with the images the analysis drew (examples as for
 * rating_page_write, first the test split's first index) and every rating
 * a number from 1 to 10; otherwise CLRUN_EINPUT naming the file and line. */
int ratings_read(Ratings *r, const char *path, const int *examples, int first, int pairs, Err *err);
int ratings_finish(Ratings *r, Err *err);
void ratings_free(Ratings *r);

#endif
