/* cifar.c: reads CIFAR-10 in its binary form (cifar-10-batches-bin/).
 *
 * A batch file is a run of 3073-byte records: one label byte (0-9), then a
 * 32x32 image as its R, G and B planes, row-major, which is exactly the
 * Dataset's [C,H,W] layout, so pixels are copied as they stand. Like the IDX
 * reader, nothing in a file is trusted: sizes and labels are checked, and a
 * bad file is an input error naming it. */
#include "data/dataset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/file.h"

enum {
    CIFAR_CLASSES = 10,
    CIFAR_PIXELS = CIFAR_RECORD - 1,
    CIFAR_TRAIN_FILES = 5,
    CIFAR_ALL_FILES = CIFAR_TRAIN_FILES + 1,
    /* 50,000 training images; anything far beyond is not CIFAR-10 */
    CIFAR_MAX_RECORDS = 1 << 20,
};

static const char *const cifar_files[CIFAR_ALL_FILES] = {
    "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
    "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin",
};

/* Tried in order under <root>; the first holding all six batches wins. */
static const char *const cifar_places[] = {
    "data/cifar10/cifar-10-batches-bin",
    "data/cifar10",
};
enum { CIFAR_N_PLACES = sizeof cifar_places / sizeof cifar_places[0] };

/* The archive's batches.meta.txt; batches_meta.txt is taken too. */
static const char *const meta_files[] = {"batches.meta.txt", "batches_meta.txt"};

static const char *const standard_names[CIFAR_CLASSES] = {
    "airplane", "automobile", "bird", "cat", "deer",
    "dog", "frog", "horse", "ship", "truck",
};

/* ---- reading batches ---- */

/* The number of records in path, from its size. */
static int batch_records(const char *path, FILE *fp, long *records, Err *err)
{
    struct stat st;
    if (fstat(fileno(fp), &st) != 0)
        return err_set(err, CLRUN_EINPUT, "%s: cannot stat: %s", path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return err_set(err, CLRUN_EINPUT, "%s: not a regular file", path);
    long long size = (long long)st.st_size;
    if (size == 0 || size % CIFAR_RECORD != 0)
        return err_set(err, CLRUN_EINPUT,
                       "%s: size %lld bytes is not a positive multiple of the %d-byte CIFAR-10 "
                       "record: not a CIFAR-10 binary batch, or damaged",
                       path, size, CIFAR_RECORD);
    if (size / CIFAR_RECORD > CIFAR_MAX_RECORDS)
        return err_set(err, CLRUN_EINPUT, "%s: %lld records, more than CIFAR-10 could hold", path,
                       size / CIFAR_RECORD);
    *records = (long)(size / CIFAR_RECORD);
    return CLRUN_OK;
}

/* Splits records from fp into labels and pixels, checking each label. */
static int batch_read(const char *path, FILE *fp, long records, unsigned char *pixels,
                      unsigned char *labels, Err *err)
{
    unsigned char rec[CIFAR_RECORD];
    for (long i = 0; i < records; i++) {
        if (fread(rec, 1, sizeof rec, fp) != sizeof rec)
            return err_set(err, CLRUN_EINPUT, "%s: read error in record %ld: %s", path, i,
                           ferror(fp) ? strerror(errno) : "file shrank while reading");
        if (rec[0] >= CIFAR_CLASSES)
            return err_set(err, CLRUN_EINPUT,
                           "%s: record %ld (byte %ld) has label %d; CIFAR-10 labels are 0 to 9",
                           path, i, i * CIFAR_RECORD, rec[0]);
        labels[i] = rec[0];
        memcpy(pixels + (size_t)i * CIFAR_PIXELS, rec + 1, CIFAR_PIXELS);
    }
    return CLRUN_OK;
}

/* Makes room for more records at the end of ds. */
static int grow(Dataset *ds, long more, const char *path, Err *err)
{
    size_t n = (size_t)ds->n + (size_t)more;
    unsigned char *pixels = realloc(ds->pixels, n * CIFAR_PIXELS);
    if (pixels)
        ds->pixels = pixels;
    unsigned char *labels = pixels ? realloc(ds->labels, n) : NULL;
    if (labels)
        ds->labels = labels;
    if (!pixels || !labels)
        return err_set(err, CLRUN_ERUNTIME, "%s: out of memory for %zu images", path, n);
    return CLRUN_OK;
}

/* Appends the records of one batch file to ds. */
static int batch_append(Dataset *ds, const char *path, Err *err)
{
    FILE *fp = file_open(path, err);
    if (!fp)
        return CLRUN_EINPUT;
    long records = 0;
    int rc = batch_records(path, fp, &records, err);
    if (!rc && ds->n + records > CIFAR_MAX_RECORDS)
        rc = err_set(err, CLRUN_EINPUT, "%s: more than %d records in all", path,
                     CIFAR_MAX_RECORDS);
    if (!rc)
        rc = grow(ds, records, path, err);
    if (!rc)
        rc = batch_read(path, fp, records, ds->pixels + (size_t)ds->n * CIFAR_PIXELS,
                        ds->labels + ds->n, err);
    if (!rc)
        ds->n += (int)records;
    fclose(fp);
    return rc;
}

int cifar_load_files(Dataset *ds, const char *const *files, int n_files, Err *err)
{
    memset(ds, 0, sizeof *ds);
    int rc = CLRUN_OK;
    for (int i = 0; i < n_files && !rc; i++)
        rc = batch_append(ds, files[i], err);
    if (!rc)
        rc = dataset_set_class_names(ds, standard_names, CIFAR_CLASSES, err);
    if (rc) {
        dataset_free(ds);
        return rc;
    }
    ds->c = 3;
    ds->h = ds->w = 32;
    ds->classes = CIFAR_CLASSES;
    snprintf(ds->source, sizeof ds->source, "%s", n_files ? files[0] : "");
    return CLRUN_OK;
}

/* ---- class names ---- */

/* Strips the line end and surrounding blanks in place. */
static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t len = strlen(s);
    while (len && strchr(" \t\r\n", s[len - 1]))
        s[--len] = '\0';
    return s;
}

/* Reads the ten class names (one a line; blank lines skipped) from path. */
static int meta_read(const char *path, FILE *fp, char names[CIFAR_CLASSES][DATASET_NAME_MAX],
                     Err *err)
{
    char line[256];
    int n = 0;
    while (n < CIFAR_CLASSES && fgets(line, sizeof line, fp)) {
        char *name = trim(line);
        if (*name)
            snprintf(names[n++], DATASET_NAME_MAX, "%.*s", DATASET_NAME_MAX - 1, name);
    }
    if (n < CIFAR_CLASSES)
        return err_set(err, CLRUN_EINPUT, "%s: names %d classes; CIFAR-10 has %d", path, n,
                       CIFAR_CLASSES);
    return CLRUN_OK;
}

/* Takes the class names from the first meta file in dir, if there is one. */
static int meta_names(Dataset *ds, const char *dir, Err *err)
{
    for (size_t i = 0; i < sizeof meta_files / sizeof meta_files[0]; i++) {
        DatasetPath path;
        if (dataset_join(path, dir, meta_files[i], NULL) || access(path, F_OK) != 0)
            continue;
        FILE *fp = file_open(path, err);
        if (!fp)
            return CLRUN_EINPUT;
        char names[CIFAR_CLASSES][DATASET_NAME_MAX];
        const char *list[CIFAR_CLASSES];
        int rc = meta_read(path, fp, names, err);
        fclose(fp);
        for (int k = 0; k < CIFAR_CLASSES; k++)
            list[k] = names[k];
        return rc ? rc : dataset_set_class_names(ds, list, CIFAR_CLASSES, err);
    }
    return CLRUN_OK;
}

/* ---- finding the files ---- */

/* Whether dir holds all six batches; when not, missing names the first absent. */
static int has_all(const char *dir, DatasetPath missing)
{
    for (int i = 0; i < CIFAR_ALL_FILES; i++)
        if (dataset_join(missing, dir, cifar_files[i], NULL) || access(missing, R_OK) != 0)
            return 0;
    return 1;
}

static int locate(const char *root, DatasetPath dir, Err *err)
{
    char missing[2 * sizeof(DatasetPath) + 8] = "";
    for (int i = 0; i < CIFAR_N_PLACES; i++) {
        DatasetPath path;
        if (dataset_join(dir, root, cifar_places[i], err))
            return CLRUN_EINPUT;
        if (has_all(dir, path))
            return CLRUN_OK;
        snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%s",
                 i ? " or " : "", path);
    }
    return err_set(err, CLRUN_EINPUT,
                   "dataset 'cifar10': cannot read %s; run tools/fetch-data cifar10 (it downloads "
                   "cifar-10-binary.tar.gz, 163 MB, from www.cs.toronto.edu; without network "
                   "access, unpack a copy of that archive into data/cifar10/)",
                   missing);
}

int cifar_open(Dataset *ds, const char *split, const char *root, Err *err)
{
    memset(ds, 0, sizeof *ds);
    int is_test;
    DatasetPath dir, paths[CIFAR_TRAIN_FILES];
    const char *files[CIFAR_TRAIN_FILES];
    if (dataset_split("cifar10", split, &is_test, err) || locate(root, dir, err))
        return CLRUN_EINPUT;
    int first = is_test ? CIFAR_TRAIN_FILES : 0, count = is_test ? 1 : CIFAR_TRAIN_FILES;
    int rc = CLRUN_OK;
    for (int i = 0; i < count && !rc; i++) {
        rc = dataset_join(paths[i], dir, cifar_files[first + i], err);
        files[i] = paths[i];
    }
    if (!rc)
        rc = cifar_load_files(ds, files, count, err);
    if (!rc)
        rc = meta_names(ds, dir, err);
    if (rc) {
        dataset_free(ds);
        return rc;
    }
    snprintf(ds->source, sizeof ds->source, "%.500s (CIFAR-10)", dir);
    return CLRUN_OK;
}
