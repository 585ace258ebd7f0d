/* dataset.c: maps dataset names to the places their files may be, and what
 * every Dataset shares (split names, class names, freeing).
 *
 * Each IDX name has places tried in order; the first holding all four files
 * wins, so train and test always come from the same copy of a dataset and a
 * half finished download is never mixed with the bundled sample. CIFAR-10
 * keeps its own places (cifar.c). */
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
    const char *const *class_names; /* NULL or ten names */
} Known;

static const char *const fashion_names[10] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};

static const Known known[] = {
    {"mnist",
     {{"data/mnist", 1, "full MNIST"}, {"data/mnist-sample", 1, "bundled 10,000-digit sample"}},
     "run tools/fetch-data mnist for the full set; the bundled sample belongs in "
     "data/mnist-sample/ (git checkout data/mnist-sample, or tools/make-mnist-sample)", NULL},
    {"fashion-mnist",
     {{"/usr/share/datasets/fashion-mnist", 0, "Debian's dataset-fashion-mnist"},
      {"data/fashion-mnist", 1, "Fashion-MNIST"}},
     "apt-get install dataset-fashion-mnist, or put the four files in data/fashion-mnist/",
     fashion_names},
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

typedef char Path[4096];

/* dir/file, or file alone when dir is NULL. */
static int join(Path out, const char *dir, const char *file, Err *err)
{
    int len = dir ? snprintf(out, sizeof(Path), "%s/%s", dir, file)
                  : snprintf(out, sizeof(Path), "%s", file);
    if (len < 0 || (size_t)len >= sizeof(Path))
        return err_set(err, CLRUN_EINPUT, "path too long: %s/%s", dir ? dir : ".", file);
    return CLRUN_OK;
}

/* Leaves root out when it is "." (or NULL), so messages read "data/mnist-sample". */
static int place_dir(Path out, const Place *p, const char *root, Err *err)
{
    int bare = !p->under_root || !root || !root[0] || strcmp(root, ".") == 0;
    return join(out, bare ? NULL : root, p->dir, err);
}

/* Whether all four files can be read; when not, path names the first missing. */
static int has_all(const char *dir, Path path)
{
    for (int i = 0; i < N_FILES; i++)
        if (join(path, dir, files[i], NULL) || access(path, R_OK) != 0)
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
static int locate(const Known *k, const char *root, Path dir, const Place **chosen, Err *err)
{
    char missing[2 * sizeof(Path)] = "";
    for (int i = 0; i < N_PLACES; i++) {
        Path path;
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

int dataset_split(const char *what, const char *split, int *is_test, Err *err)
{
    if (strcmp(split, "train") == 0 || strcmp(split, "test") == 0) {
        *is_test = strcmp(split, "test") == 0;
        return CLRUN_OK;
    }
    return err_set(err, CLRUN_EINPUT, "dataset '%s': unknown split '%s' (train or test)", what,
                   split);
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
    Path dir, images, labels;
    const Place *place = NULL;
    int rc = locate(k, root, dir, &place, err);
    if (!rc)
        rc = join(images, dir, files[first], err);
    if (!rc)
        rc = join(labels, dir, files[first + 1], err);
    if (!rc)
        rc = idx_load(ds, images, labels, err);
    if (!rc && k->class_names && ds->classes <= 10) {
        ds->classes = 10;
        rc = dataset_set_class_names(ds, k->class_names, 10, err);
    }
    if (!rc)
        snprintf(ds->source, sizeof ds->source, "%.400s (%.100s)", dir, place->what);
    else
        dataset_free(ds);
    return rc;
}

int dataset_set_class_names(Dataset *ds, const char *const *names, int n, Err *err)
{
    free(ds->class_names);
    ds->class_names = calloc((size_t)(n > 0 ? n : 1), sizeof *ds->class_names);
    if (!ds->class_names)
        return err_set(err, CLRUN_ERUNTIME, "out of memory for %d class names", n);
    for (int i = 0; i < n; i++)
        snprintf(ds->class_names[i], sizeof ds->class_names[i], "%.*s", DATASET_NAME_MAX - 1,
                 names[i] ? names[i] : "");
    return CLRUN_OK;
}

int dataset_class_index(const Dataset *ds, const char *name)
{
    for (int c = 0; ds->class_names && c < ds->classes; c++)
        if (strcmp(ds->class_names[c], name) == 0)
            return c;
    return -1;
}

int dataset_match_classes(const Dataset *ref, Dataset *ds, Err *err)
{
    if (!ref->class_names || !ds->class_names)
        return CLRUN_OK;
    int *to = calloc((size_t)ds->classes + 1, sizeof *to);
    if (!to)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    int rc = CLRUN_OK;
    for (int c = 0; c < ds->classes && !rc; c++)
        if ((to[c] = dataset_class_index(ref, ds->class_names[c])) < 0)
            rc = err_set(err, CLRUN_EINPUT, "class '%s' of %s is not a class of %s (classes "
                         "are matched by name)", ds->class_names[c], ds->source, ref->source);
    for (int i = 0; i < ds->n && !rc; i++)
        ds->labels[i] = (unsigned char)to[ds->labels[i]];
    if (!rc) {
        const char **names = calloc((size_t)ref->classes + 1, sizeof *names);
        for (int c = 0; names && c < ref->classes; c++)
            names[c] = ref->class_names[c];
        ds->classes = ref->classes;
        rc = names ? dataset_set_class_names(ds, names, ref->classes, err)
                   : err_set(err, CLRUN_ERUNTIME, "out of memory");
        free(names);
    }
    free(to);
    return rc;
}

void dataset_free(Dataset *ds)
{
    free(ds->pixels);
    free(ds->values);
    free(ds->labels);
    free(ds->class_names);
    memset(ds, 0, sizeof *ds);
}
