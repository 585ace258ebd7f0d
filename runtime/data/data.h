/* data.h: the data: section of an experiment, read in one place.
 *
 *   data:
 *     dataset: mnist | fashion-mnist | cifar10 | folder | table | playground  (required)
 *     # folder:     train: DIR, test: DIR (relative to the YAML file naming
 *     #             them), and the image options below
 *     # table:      table: CSV (both splits) or train: CSV, test: CSV;
 *     #             path: COLUMN (default path), label: COLUMN (default none:
 *     #             one class), and the image options below
 *     # images:     resize: N | [H, W]  torchvision's Resize (N: the shorter
 *     #                                  side), PIL's antialiased bilinear
 *     #             crop: N | [H, W]    torchvision's CenterCrop, after resize
 *     #             grayscale: BOOL, invert: BOOL, size: [H, W] or N (clrun's
 *     #             own exact resize, after resize and crop)
 *     # playground: shape: spiral|circle|xor|gaussian, points: N, noise: 0-50,
 *     #             train_percent: 1-99, seed: N, features: [x1, x2, x1_sq,
 *     #             x2_sq, x1x2, sin_x1, sin_x2]
 *     # for the trainer, with any dataset:
 *     normalize: {mean: M, std: S} | {mean: [R, G, B], std: [R, G, B]} | imagenet | train
 *     validation_split: F      # in [0, 1)
 *     limit: N                 # only the first N examples of each split
 *
 * data_parse checks every value and rejects unknown keys with file:line:col;
 * data_load then reads or generates a split. The trainer-level settings
 * (normalize, validation_split, limit) are parsed and checked here but
 * applied by the trainer: data_load ignores them. */
#ifndef CLRUN_DATA_H
#define CLRUN_DATA_H

#include "data/dataset.h"
#include "spec.h"

typedef enum {
    DATA_MNIST, DATA_FASHION_MNIST, DATA_CIFAR10, DATA_FOLDER, DATA_TABLE, DATA_PLAYGROUND
} DataSource;

enum { DATA_NORM_MAX = 3 }; /* per-channel normalisation: RGB */

typedef struct {
    DataSource source;
    const char *dataset;         /* the dataset's name (static storage) */
    const SpecNode *node;        /* the data: map, for errors; lives as long as its tree */
    const SpecNode *normalize_node; /* its normalize:, or NULL */
    /* folder and table */
    char *train_dir, *test_dir;  /* resolved paths (owned): folders, or tables */
    ImageOptions images;
    TableOptions table;          /* columns (names in the tree) */
    /* playground */
    PlaygroundOptions playground;
    /* for the trainer */
    int normalize_train;         /* normalize: train: the training split's own mean and std */
    int norm_channels;           /* 1: mean[0], std[0] for every channel; 3: per channel */
    double mean[DATA_NORM_MAX];  /* normalize: {mean, std}; else 0 and 1 (inputs as scaled) */
    double std[DATA_NORM_MAX];
    double validation_split;     /* fraction of train held out; 0: none */
    long limit;                  /* examples per split; 0: all */
} DataSpec;

/* Reads the data: map into d (which it owns afterwards: data_spec_free). Relative
 * folder paths resolve against the directory of the YAML file holding them
 * (the current directory for command-line overrides). Ends with
 * spec_check_unused(data, "data", err). On failure d holds nothing. */
int data_parse(DataSpec *d, SpecNode *data, Err *err);

/* Loads split ("train" or "test") of d into ds. root is where named datasets
 * are looked up (see dataset_open); folders and the Playground ignore it. */
int data_load(const DataSpec *d, const char *split, const char *root, Dataset *ds, Err *err);

void data_spec_free(DataSpec *d);

/* Reads `grayscale`, `invert`, `size` ([h, w] or one side), `resize` and
 * `crop` from map, as the image data sources and the neighbours analysis
 * take them. */
int data_image_options(ImageOptions *o, SpecNode *map, Err *err);

#endif
