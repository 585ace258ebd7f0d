/* data.c: the data: section (see data.h): which source, its options, and the
 * settings the trainer takes from the same map.
 *
 * Each source reads only its own keys, so a key of another source (shape:
 * with dataset: cifar10) is left unread and spec_check_unused reports it. */
#include "data/data.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SIZE_MAX_SIDE = 4096, PG_MAX_POINTS = 10000000 };

typedef struct {
    const char *name;
    DataSource source;
    int (*parse)(DataSpec *d, SpecNode *data, Err *err); /* its own keys; NULL: none */
} Source;

static int parse_folder(DataSpec *d, SpecNode *data, Err *err);
static int parse_table(DataSpec *d, SpecNode *data, Err *err);
static int parse_playground(DataSpec *d, SpecNode *data, Err *err);

static const Source sources[] = {
    {"mnist", DATA_MNIST, NULL},
    {"fashion-mnist", DATA_FASHION_MNIST, NULL},
    {"cifar10", DATA_CIFAR10, NULL},
    {"folder", DATA_FOLDER, parse_folder},
    {"table", DATA_TABLE, parse_table},
    {"playground", DATA_PLAYGROUND, parse_playground},
};
enum { N_SOURCES = sizeof sources / sizeof sources[0] };

/* ---- helpers ---- */

/* An integer in [lo, hi] at key, when present. */
static int int_in(SpecNode *map, const char *key, long lo, long hi, long *out, Err *err)
{
    return spec_int(map, key, 0, lo, hi, out, err);
}

static int dir_key(SpecNode *data, const char *key, char **out, Err *err)
{
    const char *value = NULL;
    char path[PATH_MAX];
    int rc = spec_string(data, key, 1, &value, err);
    if (!rc) rc = spec_path(spec_get(data, key), path, sizeof path, err);
    if (!rc && !(*out = strdup(path)))
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory");
    return rc;
}

/* ---- folder ---- */

static int parse_size(ImageOptions *o, SpecNode *data, Err *err)
{
    long v[2];
    int n = 0;
    int rc = spec_ints(data, "size", 0, 1, SIZE_MAX_SIDE, v, 2, &n, err);
    if (rc || n == 0)
        return rc;
    o->height = (int)v[0];
    o->width = (int)v[n - 1];
    return CLRUN_OK;
}

/* resize: N is torchvision's Resize(N), the shorter side; [H, W] both. */
static int parse_resize(ImageOptions *o, SpecNode *data, Err *err)
{
    long v[2];
    int n = 0;
    int rc = spec_ints(data, "resize", 0, 1, SIZE_MAX_SIDE, v, 2, &n, err);
    if (rc || n == 0)
        return rc;
    if (n == 1)
        o->resize_short = (int)v[0];
    else
        o->resize_h = (int)v[0], o->resize_w = (int)v[1];
    return CLRUN_OK;
}

static int parse_crop(ImageOptions *o, SpecNode *data, Err *err)
{
    long v[2];
    int n = 0;
    int rc = spec_ints(data, "crop", 0, 1, SIZE_MAX_SIDE, v, 2, &n, err);
    if (rc || n == 0)
        return rc;
    o->crop_h = (int)v[0];
    o->crop_w = (int)v[n - 1];
    return CLRUN_OK;
}

int data_image_options(ImageOptions *o, SpecNode *map, Err *err)
{
    int rc = spec_bool(map, "grayscale", 0, &o->grayscale, err);
    if (!rc) rc = spec_bool(map, "invert", 0, &o->invert, err);
    if (!rc) rc = parse_resize(o, map, err);
    if (!rc) rc = parse_crop(o, map, err);
    return rc ? rc : parse_size(o, map, err);
}

static int parse_folder(DataSpec *d, SpecNode *data, Err *err)
{
    int rc = dir_key(data, "train", &d->train_dir, err);
    if (!rc) rc = dir_key(data, "test", &d->test_dir, err);
    return rc ? rc : data_image_options(&d->images, data, err);
}

/* ---- table ---- */

/* table: CSV for both splits, or train: CSV and test: CSV. */
static int parse_tables(DataSpec *d, SpecNode *data, Err *err)
{
    SpecNode *one = spec_get(data, "table");
    if (one && (spec_get(data, "train") || spec_get(data, "test")))
        return spec_error(one, err, "give either table: (one table for both splits) or train: "
                          "and test:, not both");
    if (!one)
        return dir_key(data, "train", &d->train_dir, err) ||
               dir_key(data, "test", &d->test_dir, err) ? CLRUN_EINPUT : CLRUN_OK;
    int rc = dir_key(data, "table", &d->train_dir, err);
    if (!rc && !(d->test_dir = strdup(d->train_dir)))
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory");
    return rc;
}

static int parse_table(DataSpec *d, SpecNode *data, Err *err)
{
    d->table.path_column = "path";
    int rc = parse_tables(d, data, err);
    if (!rc) rc = spec_string(data, "path", 0, &d->table.path_column, err);
    if (!rc) rc = spec_string(data, "label", 0, &d->table.label_column, err);
    return rc ? rc : data_image_options(&d->images, data, err);
}

/* ---- playground ---- */

static int parse_shape(PlaygroundOptions *p, SpecNode *data, Err *err)
{
    const char *name = NULL;
    int rc = spec_string(data, "shape", 0, &name, err);
    if (rc || !name)
        return rc;
    int shape = playground_shape_parse(name);
    if (shape < 0)
        return spec_error(spec_get(data, "shape"), err,
                          "unknown shape '%s' (known: spiral, circle, xor, gaussian)", name);
    p->shape = (PlaygroundShape)shape;
    return CLRUN_OK;
}

static int parse_feature(PlaygroundOptions *p, const SpecNode *item, Err *err)
{
    int f = item->kind == SPEC_SCALAR ? playground_feature_parse(item->value) : -1;
    if (f < 0)
        return spec_error(item, err, "unknown feature %s%s%s (known: x1, x2, x1_sq, x2_sq, x1x2, "
                          "sin_x1, sin_x2)", item->kind == SPEC_SCALAR ? "'" : "",
                          item->kind == SPEC_SCALAR ? item->value : "that is not a name",
                          item->kind == SPEC_SCALAR ? "'" : "");
    for (int i = 0; i < p->n_features; i++)
        if (p->features[i] == (PlaygroundFeature)f)
            return spec_error(item, err, "feature '%s' is listed twice", item->value);
    p->features[p->n_features++] = (PlaygroundFeature)f;
    return CLRUN_OK;
}

static int parse_features(PlaygroundOptions *p, SpecNode *data, Err *err)
{
    SpecNode *seq = NULL;
    int rc = spec_seq(data, "features", 0, &seq, err);
    if (rc || !seq)
        return rc;
    if (seq->n == 0)
        return spec_error(seq, err, "'features' must list at least one feature");
    p->n_features = 0;
    for (int i = 0; i < seq->n && !rc; i++)
        rc = parse_feature(p, seq->items[i], err);
    return rc;
}

static int parse_noise(PlaygroundOptions *p, SpecNode *data, Err *err)
{
    int rc = spec_float(data, "noise", 0, &p->noise, err);
    if (!rc && !(p->noise >= 0 && p->noise <= 50))
        rc = spec_error(spec_get(data, "noise"), err,
                        "'noise' is a percentage from 0 to 50 (the Playground's slider), got %g",
                        p->noise);
    return rc;
}

static int parse_playground(DataSpec *d, SpecNode *data, Err *err)
{
    PlaygroundOptions *p = &d->playground;
    long points = p->points, percent = p->train_percent, seed = 0;
    int rc = parse_shape(p, data, err);
    if (!rc) rc = int_in(data, "points", 2, PG_MAX_POINTS, &points, err);
    if (!rc) rc = parse_noise(p, data, err);
    if (!rc) rc = int_in(data, "train_percent", 1, 99, &percent, err);
    if (!rc) rc = int_in(data, "seed", 0, LONG_MAX, &seed, err);
    if (!rc) rc = parse_features(p, data, err);
    if (rc)
        return rc;
    p->points = (int)points;
    p->train_percent = (int)percent;
    p->seed = (uint64_t)seed;
    int total = playground_count(p);
    int cut = (int)((long long)total * p->train_percent / 100);
    if (cut == 0 || cut == total)
        return spec_error(spec_get(data, "points") ? spec_get(data, "points") : data, err,
                          "%d points split %d%% for training leave the %s split empty", total,
                          p->train_percent, cut ? "test" : "train");
    return CLRUN_OK;
}

/* ---- the trainer's settings ---- */

/* ImageNet's channel statistics, as torchvision's pretrained models want them. */
static const double imagenet_mean[DATA_NORM_MAX] = {0.485, 0.456, 0.406};
static const double imagenet_std[DATA_NORM_MAX] = {0.229, 0.224, 0.225};

/* normalize: {mean: M, std: S}, either one number or one per channel (RGB). */
static int parse_mean_std(DataSpec *d, SpecNode *node, Err *err)
{
    int n_mean = 0, n_std = 0;
    int rc = spec_floats(node, "mean", 1, d->mean, DATA_NORM_MAX, &n_mean, err);
    if (!rc) rc = spec_floats(node, "std", 1, d->std, DATA_NORM_MAX, &n_std, err);
    if (rc)
        return rc;
    if ((n_mean != 1 && n_mean != DATA_NORM_MAX) || n_std != n_mean)
        return spec_error(node, err, "'mean' and 'std' must be one number each or %d each (one "
                          "per channel: R, G, B), got %d and %d", DATA_NORM_MAX, n_mean, n_std);
    d->norm_channels = n_mean;
    for (int c = 0; c < n_std; c++)
        if (!(d->std[c] > 0))
            return spec_error(spec_get(node, "std"), err, "std must be above 0");
    return CLRUN_OK;
}

static int parse_normalize(DataSpec *d, SpecNode *data, Err *err)
{
    SpecNode *node = spec_get(data, "normalize");
    if (!(d->normalize_node = node))
        return CLRUN_OK;
    if (node->kind == SPEC_SCALAR && strcmp(node->value, "train") == 0) {
        d->normalize_train = 1;
        return CLRUN_OK;
    }
    if (node->kind == SPEC_SCALAR && strcmp(node->value, "imagenet") == 0) {
        d->norm_channels = DATA_NORM_MAX;
        memcpy(d->mean, imagenet_mean, sizeof d->mean);
        memcpy(d->std, imagenet_std, sizeof d->std);
        return CLRUN_OK;
    }
    if (node->kind != SPEC_MAP)
        return spec_error(node, err, "'normalize' must be {mean: M, std: S}, imagenet or train, "
                          "got %s%s%s", node->kind == SPEC_SCALAR ? "'" : "a list",
                          node->kind == SPEC_SCALAR ? node->value : "",
                          node->kind == SPEC_SCALAR ? "'" : "");
    return parse_mean_std(d, node, err);
}

static int parse_trainer(DataSpec *d, SpecNode *data, Err *err)
{
    int rc = parse_normalize(d, data, err);
    if (!rc) rc = spec_float(data, "validation_split", 0, &d->validation_split, err);
    if (!rc && !(d->validation_split >= 0 && d->validation_split < 1))
        rc = spec_error(spec_get(data, "validation_split"), err,
                        "'validation_split' must be at least 0 and below 1, got %g",
                        d->validation_split);
    if (!rc) rc = int_in(data, "limit", 1, INT_MAX, &d->limit, err);
    return rc;
}

/* ---- entry points ---- */

/* Nothing set: inputs as scaled, one normalisation for every channel. */
static void spec_defaults(DataSpec *d)
{
    memset(d, 0, sizeof *d);
    d->norm_channels = 1;
    d->std[0] = 1;
}

static int parse_source(DataSpec *d, SpecNode *data, const Source **out, Err *err)
{
    const char *name = NULL;
    int rc = spec_string(data, "dataset", 1, &name, err);
    if (rc)
        return rc;
    for (int i = 0; i < N_SOURCES; i++)
        if (strcmp(sources[i].name, name) == 0) {
            *out = &sources[i];
            d->source = sources[i].source;
            d->dataset = sources[i].name;
            return CLRUN_OK;
        }
    char known[256] = "";
    for (int i = 0; i < N_SOURCES; i++)
        snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                 sources[i].name);
    return spec_error(spec_get(data, "dataset"), err, "unknown dataset '%s' (known: %s)", name,
                      known);
}

int data_parse(DataSpec *d, SpecNode *data, Err *err)
{
    spec_defaults(d);
    playground_defaults(&d->playground);
    if (!data || data->kind != SPEC_MAP) {
        return data ? spec_error(data, err, "'data' must be a map")
                    : err_set(err, CLRUN_EINPUT, "no data: section");
    }
    d->node = data;
    const Source *source = NULL;
    int rc = parse_source(d, data, &source, err);
    if (!rc && source->parse)
        rc = source->parse(d, data, err);
    if (!rc)
        rc = parse_trainer(d, data, err);
    if (!rc)
        rc = spec_check_unused(data, "data", err);
    if (rc)
        data_spec_free(d);
    return rc;
}

int data_load(const DataSpec *d, const char *split, const char *root, Dataset *ds, Err *err)
{
    memset(ds, 0, sizeof *ds);
    int is_test;
    if (!d->dataset)
        return err_set(err, CLRUN_EINPUT, "no dataset: data_parse has not filled this DataSpec");
    switch (d->source) {
    case DATA_FOLDER:
        if (dataset_split("folder", split, &is_test, err))
            return CLRUN_EINPUT;
        return images_load(ds, is_test ? d->test_dir : d->train_dir, &d->images, err);
    case DATA_TABLE:
        if (dataset_split("table", split, &is_test, err))
            return CLRUN_EINPUT;
        return table_load(ds, is_test ? d->test_dir : d->train_dir, &d->table, &d->images, err);
    case DATA_PLAYGROUND:
        return playground_make(ds, &d->playground, split, err);
    default:
        return dataset_open(ds, d->dataset, split, root, err);
    }
}

void data_spec_free(DataSpec *d)
{
    free(d->train_dir);
    free(d->test_dir);
    spec_defaults(d);
}
