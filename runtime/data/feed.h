/* feed.h: a dataset on the device and the batches drawn from it.
 *
 * The examples go to the device once, as the bytes (or floats) the dataset
 * holds; a split (training, validation, test) is a range of those examples
 * with its own visiting order; a batch is gathered, scaled and normalised by
 * a kernel, so no example crosses the bus during an epoch. */
#ifndef CLRUN_FEED_H
#define CLRUN_FEED_H

#include <stdint.h>

#include "data/dataset.h"
#include "graph.h"

enum { FEED_NORM_MAX = 3 };

/* How stored values become inputs: value * scale + shift, with one pair for
 * every channel (channels 1) or a pair per channel (channels 3, RGB). */
typedef struct {
    int channels;
    float scale[FEED_NORM_MAX], shift[FEED_NORM_MAX];
} FeedNorm;

/* (value / unit - mean[c]) / std[c] as one multiply-add per channel (unit:
 * 255 for bytes, 1 for floats); channels is 1 or FEED_NORM_MAX. */
void feed_norm(FeedNorm *n, int channels, const double *mean, const double *std, double unit);

/* One dataset's examples and labels on the device. */
typedef struct {
    const Dataset *ds;
    cl_mem examples, labels;
    cl_kernel gather;  /* gather_u8 or gather_f32, or their _run on the cpu plan */
    int size;          /* values per example */
} FeedData;

/* A split: examples [first, first + n) of one FeedData, in some order. */
typedef struct {
    const char *name;  /* "training", "validation", "test": for messages */
    FeedData *data;
    int first, n;
    cl_mem order;
    int *order_host;
} Feed;

/* Uploads ds into buffers owned by g. */
int feed_upload(FeedData *f, Graph *g, const Dataset *ds, Err *err);
/* A split of f in natural order. */
int feed_split(Feed *s, const char *name, Graph *g, FeedData *f, int first, int n, Err *err);
/* A split of the listed examples of f (indices into the whole set), in that
 * order; first is 0, so feed_stats does not apply to it. */
int feed_select(Feed *s, const char *name, Graph *g, FeedData *f, const int *examples, int n,
                Err *err);
/* A new random order for the split, uploaded: a Fisher-Yates shuffle of the
 * natural order from rng (as torch.randperm, independent of the last order,
 * so the generator's state alone decides it: what a checkpoint keeps). */
int feed_shuffle(Feed *s, Graph *g, uint64_t *rng, Err *err);
/* Fills the graph's input with rows examples from position start of the
 * split's order, normalised by norm (whose channels must be 1 or the
 * examples' c), their labels into labels, and sets g->batch. */
int feed_batch(Feed *s, Graph *g, int start, int rows, const FeedNorm *norm, cl_mem labels,
               Err *err);
void feed_free(Feed *s);

/* The mean and standard deviation of the split's values (bytes read as
 * value/255), for normalising by the training set's own statistics. */
void feed_stats(const Feed *s, double *mean, double *std);

#endif
