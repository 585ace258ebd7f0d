/* dataset.h: classification datasets held in memory, and the loaders that
 * fill them: IDX (MNIST, Fashion-MNIST), CIFAR-10 binary batches, folders of
 * PNG/JPEG images, CSV tables listing such images, and the TensorFlow
 * Playground's generated 2-D sets.
 *
 * Image pixels stay bytes (scaling to floats is the consumer's business, so a
 * 60,000-image set costs 47 MB, not 188 MB); sets whose features are real
 * numbers (the Playground's) hold floats instead. Choosing a loader from an
 * experiment's data: section is data.h's business. */
#ifndef CLRUN_DATASET_H
#define CLRUN_DATASET_H

#include <stdint.h>

#include "err.h"
#include "io/csv.h"

enum { DATASET_NAME_MAX = 64 }; /* bytes in a class name, with its NUL */

typedef struct {
    int n;                 /* examples */
    int c, h, w;           /* per-example shape (IDX 28x28 images: c=1; features: c, 1, 1) */
    unsigned char *pixels; /* n*c*h*w bytes, example-major, then c, h, w; or NULL */
    float *values;         /* n*c*h*w reals, same layout, instead of pixels; or NULL.
                              Exactly one of pixels and values is set. */
    unsigned char *labels; /* n */
    int classes;           /* how many classes there are (at least 1 + the largest label) */
    char (*class_names)[DATASET_NAME_MAX]; /* `classes` names, or NULL when unnamed */
    char source[512];      /* where it came from, for messages */
    CsvTable *table;       /* the table it was listed in, row i for example i (owned);
                              NULL for other sources: see dataset_column */
} Dataset;

/* ---- IDX (idx.c) ---- */

/* Reads an IDX image file (magic 0x00000803) and its label file (0x00000801),
 * gzipped or plain. On failure ds is left empty (dataset_free is still safe). */
int idx_load(Dataset *ds, const char *images_path, const char *labels_path, Err *err);

/* ---- CIFAR-10 binary (cifar.c) ---- */

enum { CIFAR_RECORD = 1 + 3 * 32 * 32 }; /* a label byte, then R, G and B planes */

/* Reads CIFAR-10 batch files (records of CIFAR_RECORD bytes) into one set of
 * 3x32x32 images with the ten CIFAR-10 classes; files[0..n_files-1] in order. */
int cifar_load_files(Dataset *ds, const char *const *files, int n_files, Err *err);

/* Finds the batches under <root>/data/cifar10/cifar-10-batches-bin/ or
 * <root>/data/cifar10/ (the first holding all six files) and loads split
 * ("train": data_batch_1..5.bin, "test": test_batch.bin). Class names come
 * from batches.meta.txt when it is there, else the standard ten. */
int cifar_open(Dataset *ds, const char *split, const char *root, Err *err);

/* ---- image folders (images.c) ---- */

typedef struct {
    int grayscale;        /* 1 channel of luma 0.299R + 0.587G + 0.114B; else 3 (RGB) */
    int invert;           /* v -> 255 - v, last */
    int height, width;    /* resize every image to this; 0, 0: keep (all must agree) */
    /* torchvision's evaluation transforms, first (see prep.h); 0: none */
    int resize_short;       /* Resize(N): the shorter side to N, PIL's bilinear */
    int resize_h, resize_w; /* Resize([H, W]) */
    int crop_h, crop_w;     /* CenterCrop([H, W]), zeros where the image is smaller */
} ImageOptions;

/* Loads dir/<class>/<image>: class folders sorted by name (bytewise) are
 * labels 0, 1, ...; files ending .png, .jpg or .jpeg (any case) are read as
 * PNG or JPEG by their contents; hidden entries and other files are skipped.
 * Each image is first resized and centre-cropped as torchvision does when
 * opt asks for it (PIL's pixels, see prep.h), then converted to the channels
 * asked for (alpha dropped, gray repeated into RGB), resized to height x
 * width (area averaging along an axis that shrinks, bilinear with pixel
 * centres aligned along one that grows), rounded half up once at the end in
 * exact integer arithmetic, then inverted. */
int images_load(Dataset *ds, const char *dir, const ImageOptions *opt, Err *err);

/* Loads the images that paths name (files, or folders whose image files are
 * taken in name order) as images_load converts them, all to opt's size
 * (required), labelled 0; *files gets their paths in order (ds->n strings,
 * each and the array freed by the caller). */
int images_load_files(Dataset *ds, const char *const *paths, int n, const ImageOptions *opt,
                      char ***files, Err *err);

/* Loads the n images paths names, in that order, as images_load converts
 * them, with labels (NULL: all 0) and one class; what names the set in
 * messages and ds->source. Without a size in opt every image must come out
 * the size of the first. On failure *failed is the index of the image at
 * fault, or -1 when no one image is. */
int images_load_list(Dataset *ds, const char *const *paths, const unsigned char *labels, int n,
                     const ImageOptions *opt, const char *what, int *failed, Err *err);

/* The image files of a folder in the order images_load reads them: class
 * folders by name, then their files by name, each with its class index; a
 * folder without class folders gives its own image files (by name) in one
 * unnamed class (n_classes 1, classes[0] ""). Paths are dir/class/file as
 * images_load opens them. */
typedef struct {
    char **paths;          /* n */
    unsigned char *labels; /* n */
    int n;
    char **classes;        /* n_classes names */
    int n_classes;
} ImageList;
int images_list(ImageList *l, const char *dir, Err *err);
void images_list_free(ImageList *l);

/* ---- tables of images (table.c) ---- */

typedef struct {
    const char *path_column;  /* the column holding image paths */
    const char *label_column; /* the column whose values are the classes; NULL: one class */
} TableOptions;

/* Loads the images a CSV table (see io/csv.h) lists, one example per row in
 * the table's order, converted as images_load converts them. Relative paths
 * are relative to the table's folder. Classes are the label column's
 * distinct values sorted by name (bytewise), as class folders are. Before
 * any image is decoded every row is checked (its path and label present,
 * the file there and starting as a PNG or JPEG) and the bad ones (up to ten)
 * are CLRUN_EINPUT naming table:line; a file that fails to decode later is
 * named by its line too. The table itself stays in ds->table. */
int table_load(Dataset *ds, const char *table, const TableOptions *topt, const ImageOptions *opt,
               Err *err);

/* A set's table kept as it was read (ds->table), so that analyses can group
 * and select examples by its other columns (object, category, variation):
 * example i is the table's row i. */

/* The index of ds's column called name; -1 when there is none, or no table. */
int dataset_column(const Dataset *ds, const char *name);
/* Example i's value in column c (a dataset_column index). */
const char *dataset_value(const Dataset *ds, int i, int c);
/* The table line example i was listed on, for messages; 0 without a table. */
int dataset_line(const Dataset *ds, int i);
/* The column names as "'a', 'b'" into out, for messages ("" without a table). */
void dataset_columns(const Dataset *ds, char *out, size_t size);

/* ---- TensorFlow Playground sets (playground.c) ---- */

typedef enum { PG_SPIRAL, PG_CIRCLE, PG_XOR, PG_GAUSSIAN } PlaygroundShape;

typedef enum {
    PG_X1, PG_X2, PG_X1_SQ, PG_X2_SQ, PG_X1X2, PG_SIN_X1, PG_SIN_X2, PG_N_FEATURES
} PlaygroundFeature;

typedef struct {
    PlaygroundShape shape;
    int points;          /* as the Playground's generators count them (500 there) */
    double noise;        /* percent, 0 to 50, as the Playground's slider */
    int train_percent;   /* the Playground's "ratio of training to test data" */
    uint64_t seed;
    int n_features;
    PlaygroundFeature features[PG_N_FEATURES];
} PlaygroundOptions;

/* Defaults: spiral, 500 points, noise 0, 50% train, seed 0, features x1, x2. */
void playground_defaults(PlaygroundOptions *opt);

/* Generates the set as the Playground does (its classify*Data generators,
 * then a shuffle of all points and a split at floor(n * train_percent / 100)),
 * with splitmix64 seeded from opt->seed in place of Math.random, and keeps
 * split ("train" or "test"): values with c = n_features, h = w = 1, labels 0
 * ("negative", the Playground's -1) and 1 ("positive"). A split left
 * empty is an input error. */
int playground_make(Dataset *ds, const PlaygroundOptions *opt, const char *split, Err *err);

/* How many points the generator makes: ceil(points / 2) of each class for
 * spiral, circle and gaussian, as the Playground's loops do; points for xor. */
int playground_count(const PlaygroundOptions *opt);

/* Feature f of the point (x, y), as the set's examples hold it: x, y, x^2,
 * y^2, xy, sin x, sin y (the Playground's inputs); also for points that are
 * not in the set (the decision boundary's grid). */
double playground_feature(PlaygroundFeature f, double x, double y);

/* Name <-> enum, for configuration and messages; NULL / -1 when unknown. */
const char *playground_shape_name(PlaygroundShape shape);
int playground_shape_parse(const char *name);
const char *playground_feature_name(PlaygroundFeature f);
int playground_feature_parse(const char *name);

/* ---- by name (sources.c) ---- */

/* Resolves a dataset name and split ("train" or "test") to files and loads them:
 *   "mnist":         <root>/data/mnist/ when all four full files are there,
 *                    else the bundled sample in <root>/data/mnist-sample/;
 *   "fashion-mnist": /usr/share/datasets/fashion-mnist (Debian's
 *                    dataset-fashion-mnist), else <root>/data/fashion-mnist/;
 *   "cifar10":       see cifar_open.
 * root is the directory datasets are looked up under (the repository root;
 * NULL means "."). */
int dataset_open(Dataset *ds, const char *name, const char *split, const char *root, Err *err);

/* ---- what the loaders share (dataset.c) ---- */

typedef char DatasetPath[4096];

/* dir/name into out, one '/' between however dir ends; name alone when dir
 * is NULL, empty or "."; a path too long is CLRUN_EINPUT (err may be NULL). */
int dataset_join(DatasetPath out, const char *dir, const char *name, Err *err);

/* Checks a split name: *is_test becomes 0 for "train", 1 for "test"; anything
 * else is an input error naming the dataset (what). */
int dataset_split(const char *what, const char *split, int *is_test, Err *err);

/* Gives ds n class names copied from names (NULL entries become ""). */
int dataset_set_class_names(Dataset *ds, const char *const *names, int n, Err *err);

/* The index of the class called name in ds, or -1 (also when ds is unnamed). */
int dataset_class_index(const Dataset *ds, const char *name);

/* Labels ds's examples with ref's class indices, matched by class name (two
 * folders list their classes each in their own order, and may lack some): a
 * class of ds that ref does not have is CLRUN_EINPUT naming it and both
 * sources. ds then has ref's classes and names. Sets without names are left
 * as they are. */
int dataset_match_classes(const Dataset *ref, Dataset *ds, Err *err);

/* The channels a figure of ds's examples shows: 3 (in colour) when they have
 * 3 (RGB), else 1, the first channel in gray (2 or 4 channels have no agreed
 * colours; dataset_picture_note says so in the figure's title). */
int dataset_picture_channels(const Dataset *ds);
/* " (first channel)" when a figure shows less than ds's channels, else "". */
const char *dataset_picture_note(const Dataset *ds);
/* Example i's first `channels` planes as floats (bytes as 0 to 255), [C][H][W]
 * as held, into out (channels * h * w floats). */
void dataset_picture(const Dataset *ds, int i, int channels, float *out);

/* Frees everything ds holds and empties it; safe on an empty Dataset. */
/* Keeps the first n examples (when there are more) and gives the others'
 * memory back: data.limit's 5,120 of Fashion-MNIST's 60,000 held the whole
 * 47 MB in a run's resident memory. The table, if any, stays whole. */
void dataset_truncate(Dataset *ds, int n);
void dataset_free(Dataset *ds);

#endif
