/* dataset.c: what every loader and Dataset shares: paths joined, split
 * names, class names, examples as pictures for figures, freeing. The loaders (idx.c, cifar.c, images.c,
 * table.c, playground.c) and the names of datasets (sources.c) sit above it;
 * it calls none of them. */
#include "data/dataset.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int dataset_join(DatasetPath out, const char *dir, const char *name, Err *err)
{
    size_t keep = dir ? strlen(dir) : 0;
    while (keep > 1 && dir[keep - 1] == '/') /* "folder/" and "folder" give one path */
        keep--;
    int bare = !dir || !dir[0] || strcmp(dir, ".") == 0;
    int len = bare ? snprintf(out, sizeof(DatasetPath), "%s", name)
                   : snprintf(out, sizeof(DatasetPath), "%.*s%s%s", (int)keep, dir,
                              dir[keep - 1] == '/' ? "" : "/", name);
    if (len < 0 || (size_t)len >= sizeof(DatasetPath))
        return err_set(err, CLRUN_EINPUT, "path too long: %s/%s", dir ? dir : ".", name);
    return CLRUN_OK;
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

int dataset_picture_channels(const Dataset *ds)
{
    return ds->c == 3 ? 3 : 1;
}

const char *dataset_picture_note(const Dataset *ds)
{
    return ds->c > dataset_picture_channels(ds) ? " (first channel)" : "";
}

void dataset_picture(const Dataset *ds, int i, int channels, float *out)
{
    size_t size = (size_t)channels * ds->h * ds->w, at = (size_t)i * ds->c * ds->h * ds->w;
    for (size_t j = 0; j < size; j++)
        out[j] = ds->pixels ? ds->pixels[at + j] : ds->values[at + j];
}

/* p reallocated to bytes, or p where that failed (a smaller block: p still holds them). */
static void *shrunk(void *p, size_t bytes)
{
    void *q = p && bytes ? realloc(p, bytes) : NULL;
    return q ? q : p;
}

void dataset_truncate(Dataset *ds, int n)
{
    if (n >= ds->n)
        return;
    size_t values = (size_t)n * (size_t)ds->c * (size_t)ds->h * (size_t)ds->w;
    ds->n = n;
    ds->pixels = shrunk(ds->pixels, values);
    ds->values = shrunk(ds->values, values * sizeof *ds->values);
    ds->labels = shrunk(ds->labels, (size_t)n);
}

void dataset_free(Dataset *ds)
{
    free(ds->pixels);
    free(ds->values);
    free(ds->labels);
    free(ds->class_names);
    if (ds->table)
        csv_free(ds->table);
    free(ds->table);
    memset(ds, 0, sizeof *ds);
}
