/* sources.c: maps dataset names to the places their files may be, and
 * loads them (dataset_open, see dataset.h).
 *
 * Each IDX name has places tried in order; the first holding all four files
 * wins, so train and test always come from the same copy of a dataset and a
 * half finished download is never mixed with the bundled sample. CIFAR-10
 * keeps its own places (cifar.c). What the loaders share (paths, splits,
 * class names) is dataset.c's, below both. */
#include "data/dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *dir;  /* relative to root when under_root */
    int under_root;
    const char *what; /* for Dataset.source */
} Place;

enum { N_PLACES = 2 };

typedef struct {
    const char *name;
    Place places[N_PLACES]; /* tried in order */
    const char *hint; /* what to do when no place has the files */
    int classes;      /* every label is below this */
    const char *const *class_names; /* NULL or `classes` names */
} Known;

static const char *const fashion_names[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};

static const Known known[] = {
    {"mnist",
     {{"data/mnist", 1, "full MNIST"}, {"data/mnist-sample", 1, "bundled 10,000-digit sample"}},
     "run tools/fetch-data mnist for the full set; the bundled sample belongs in "
     "data/mnist-sample/ (git checkout data/mnist-sample, or tools/make-mnist-sample)", 10, NULL},
    {"fashion-mnist",
     {{"/usr/share/datasets/fashion-mnist", 0, "Debian's dataset-fashion-mnist"},
      {"data/fashion-mnist", 1, "Fashion-MNIST"}},
     "apt-get install dataset-fashion-mnist, or put the four files in data/fashion-mnist/",
     10, fashion_names},
};
enum { N_KNOWN = sizeof known / sizeof known[0] };

/* Train images and labels, then test images and labels. */
enum { N_FILES = 4 };
static const char *const files[N_FILES] = {
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
};

/* Leaves root out when it is "." (or NULL), so messages read "data/mnist-sample". */
static int place_dir(DatasetPath out, const Place *p, const char *root, Err *err)
{
    int bare = !p->under_root || !root || !root[0] || strcmp(root, ".") == 0;
    return dataset_join(out, bare ? NULL : root, p->dir, err);
}

/* Whether all four files can be read; when not, path names the first missing. */
static int has_all(const char *dir, DatasetPath path)
{
    for (int i = 0; i < N_FILES; i++)
        if (dataset_join(path, dir, files[i], NULL) || access(path, R_OK) != 0)
            return 0;
    return 1;
}

static const Known *find_known(const char *name, Err *err)
{
    for (int i = 0; i < N_KNOWN; i++)
        if (strcmp(known[i].name, name) == 0)
            return &known[i];
    char names[256] = "";
    for (int i = 0; i < N_KNOWN; i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s, ", known[i].name);
    err_set(err, CLRUN_EINPUT, "unknown dataset '%s' (known: %scifar10)", name, names);
    return NULL;
}

/* Picks the first place holding all four files into dir. */
static int locate(const Known *k, const char *root, DatasetPath dir, const Place **chosen, Err *err)
{
    char missing[2 * sizeof(DatasetPath)] = "";
    for (int i = 0; i < N_PLACES; i++) {
        DatasetPath path;
        if (place_dir(dir, &k->places[i], root, err))
            return CLRUN_EINPUT;
        if (has_all(dir, path)) {
            *chosen = &k->places[i];
            return CLRUN_OK;
        }
        snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s",
                 i ? " and " : "", path);
    }
    return err_set(err, CLRUN_EINPUT, "dataset '%s': cannot read %s; %s", k->name, missing,
                   k->hint);
}

/* A label past the dataset's classes is a damaged byte: named by its file and
 * record (the label file's 8-byte header, then a byte a record), rather than
 * found later as a count of classes the model does not end in. */
static int check_labels(Dataset *ds, const char *path, const Known *k, Err *err)
{
    for (int i = 0; i < ds->n; i++)
        if (ds->labels[i] >= k->classes)
            return err_set(err, CLRUN_EINPUT, "%s: record %d (byte %d) has label %d; %s labels "
                           "are 0 to %d", path, i, 8 + i, ds->labels[i], k->name, k->classes - 1);
    ds->classes = k->classes;
    return CLRUN_OK;
}

int dataset_open(Dataset *ds, const char *name, const char *split, const char *root, Err *err)
{
    memset(ds, 0, sizeof *ds);
    if (strcmp(name, "cifar10") == 0)
        return cifar_open(ds, split, root, err);
    const Known *k = find_known(name, err);
    int is_test;
    if (!k)
        return CLRUN_EINPUT;
    if (dataset_split(name, split, &is_test, err))
        return CLRUN_EINPUT;
    int first = 2 * is_test;
    DatasetPath dir, images, labels;
    const Place *place = NULL;
    int rc = locate(k, root, dir, &place, err);
    if (!rc)
        rc = dataset_join(images, dir, files[first], err);
    if (!rc)
        rc = dataset_join(labels, dir, files[first + 1], err);
    if (!rc)
        rc = idx_load(ds, images, labels, err);
    if (!rc) rc = check_labels(ds, labels, k, err);
    if (!rc && k->class_names)
        rc = dataset_set_class_names(ds, k->class_names, k->classes, err);
    if (!rc)
        snprintf(ds->source, sizeof ds->source, "%.400s (%.100s)", dir, place->what);
    else
        dataset_free(ds);
    return rc;
}

