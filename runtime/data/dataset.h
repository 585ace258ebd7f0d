/* dataset.h: image classification datasets held in memory as bytes.
 *
 * Pixels stay as the files store them (one byte each); scaling to floats is
 * the consumer's business, so a 60,000-image set costs 47 MB, not 188 MB. */
#ifndef CLRUN_DATASET_H
#define CLRUN_DATASET_H

#include "err.h"

typedef struct {
    int n;                 /* examples */
    int c, h, w;           /* per-example shape (IDX 28x28 images: c=1) */
    unsigned char *pixels; /* n*c*h*w bytes, example-major, then c, h, w */
    unsigned char *labels; /* n */
    int classes;           /* 1 + the largest label */
    char source[512];      /* where it came from, for messages */
} Dataset;

/* Reads an IDX image file (magic 0x00000803) and its label file (0x00000801),
 * gzipped or plain. On failure ds is left empty (dataset_free is still safe). */
int idx_load(Dataset *ds, const char *images_path, const char *labels_path, Err *err);

/* Resolves a dataset name and split ("train" or "test") to files and loads them:
 *   "mnist":         <root>/data/mnist/ when all four full files are there,
 *                    else the bundled sample in <root>/data/mnist-sample/;
 *   "fashion-mnist": /usr/share/datasets/fashion-mnist (Debian's
 *                    dataset-fashion-mnist), else <root>/data/fashion-mnist/.
 * root is the directory datasets are looked up under (the repository root;
 * NULL means "."). */
int dataset_open(Dataset *ds, const char *name, const char *split, const char *root, Err *err);

void dataset_free(Dataset *ds);

#endif
