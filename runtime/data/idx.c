/* idx.c: reads IDX files (the MNIST format) through zlib, which takes gzipped
 * and plain files alike.
 *
 * The files come from downloads and packages, so nothing in them is trusted:
 * every size is checked before it is used, and a damaged file is an input
 * error naming the file, never a crash or a partly filled dataset. */
#include "data/dataset.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <unistd.h>

#include "io/file.h"

#define IDX_IMAGES_MAGIC 0x00000803u /* unsigned bytes, 3 dimensions */
#define IDX_LABELS_MAGIC 0x00000801u /* unsigned bytes, 1 dimension */

/* Far above any dataset this loads (Fashion-MNIST train is 47 MB), and low
 * enough that a corrupt header cannot ask for an absurd allocation. */
#define IDX_MAX_BYTES ((uint64_t)1 << 31)

/* gzread counts in unsigned int; large chunks keep inflate's loop tight. */
#define IDX_CHUNK (1u << 24)
/* The first allocation for an array's bytes (a 10,000-image MNIST set is 7.8 MB). */
#define IDX_FIRST ((size_t)1 << 20)

typedef struct {
    gzFile gz;
    const char *path;
} IdxFile;

/* One IDX array: its dimensions and its bytes. */
typedef struct {
    uint32_t dims[3];
    unsigned char *data;
} IdxArray;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int idx_open(IdxFile *f, const char *path, Err *err)
{
    f->path = path;
    int fd = file_open_fd(path, err);
    if (fd < 0)
        return CLRUN_EINPUT;
    if (!(f->gz = gzdopen(fd, "rb"))) {
        close(fd);
        return err_set(err, CLRUN_ERUNTIME, "%s: out of memory", path);
    }
    gzbuffer(f->gz, 1u << 17);
    return CLRUN_OK;
}

/* Reads bytes [from, to) of a total-byte part into buf + from. A stream that
 * merely stops is reported as truncation with the counts, one that is damaged
 * as a gzip error. */
static int idx_read(IdxFile *f, unsigned char *buf, size_t from, size_t to, size_t total,
                    const char *what, Err *err)
{
    size_t got = from;
    while (got < to) {
        size_t want = to - got < IDX_CHUNK ? to - got : IDX_CHUNK;
        int r = gzread(f->gz, buf + got, (unsigned)want);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    int code;
    const char *msg = gzerror(f->gz, &code);
    if (code != Z_OK && code != Z_BUF_ERROR)
        return err_set(err, CLRUN_EINPUT, "%s: gzip error after %zu of %zu bytes of %s: %s",
                       f->path, got, total, what, msg);
    if (got < to)
        return err_set(err, CLRUN_EINPUT, "%s: truncated: expected %zu bytes of %s, got %zu",
                       f->path, total, what, got);
    return CLRUN_OK;
}

/* gzip checks its trailer (CRC and length) only when a read runs into it, so
 * a file is known to be intact only after trying to read past its end. */
static int idx_expect_end(IdxFile *f, Err *err)
{
    unsigned char extra;
    int r = gzread(f->gz, &extra, 1);
    int code;
    const char *msg = gzerror(f->gz, &code);
    if (r > 0)
        return err_set(err, CLRUN_EINPUT, "%s: data past the end its header declares", f->path);
    if (code == Z_BUF_ERROR)
        return err_set(err, CLRUN_EINPUT, "%s: truncated: the gzip stream ends before its trailer",
                       f->path);
    if (code != Z_OK)
        return err_set(err, CLRUN_EINPUT, "%s: gzip error: %s", f->path, msg);
    return CLRUN_OK;
}

/* The magic comes first and alone, so a file of the wrong kind is reported
 * as such even when it is too short for this kind's header. */
static int idx_header(IdxFile *f, uint32_t magic, int ndim, uint32_t *dims, Err *err)
{
    unsigned char b[12];
    int rc = idx_read(f, b, 0, 4, 4, "header", err);
    if (rc)
        return rc;
    uint32_t got = be32(b);
    if (got != magic)
        return err_set(err, CLRUN_EINPUT,
                       "%s: bad magic 0x%08x: not an IDX %s file (expected magic 0x%08x)", f->path,
                       got, magic == IDX_IMAGES_MAGIC ? "image" : "label", magic);
    if ((rc = idx_read(f, b, 0, 4 * (size_t)ndim, 4 * (size_t)ndim, "header", err)))
        return rc;
    for (int i = 0; i < ndim; i++) {
        dims[i] = be32(b + 4 * i);
        if (dims[i] == 0 || dims[i] > INT_MAX)
            return err_set(err, CLRUN_EINPUT, "%s: dimension %d is %u, must be 1 to %d", f->path,
                           i, dims[i], INT_MAX);
    }
    return CLRUN_OK;
}

/* The product of the dimensions, or 0 when it passes IDX_MAX_BYTES; checked
 * step by step because three 31-bit sizes can overflow 64 bits. */
static uint64_t idx_bytes(const uint32_t *dims, int ndim)
{
    uint64_t bytes = 1;
    for (int i = 0; i < ndim; i++) {
        if (bytes > IDX_MAX_BYTES / dims[i])
            return 0;
        bytes *= dims[i];
    }
    return bytes;
}

/* The buffer grows as the data arrives, doubling from IDX_FIRST, so a header
 * that declares more than the file holds costs no more memory than the file. */
static int idx_body(IdxFile *f, IdxArray *a, int ndim, const char *what, Err *err)
{
    uint64_t bytes = idx_bytes(a->dims, ndim);
    if (!bytes)
        return err_set(err, CLRUN_EINPUT, "%s: its dimensions ask for more than %llu bytes of %s",
                       f->path, (unsigned long long)IDX_MAX_BYTES, what);
    int rc = CLRUN_OK;
    for (size_t have = 0; !rc && have < bytes;) {
        size_t next = have ? 2 * have : IDX_FIRST;
        next = next < bytes ? next : (size_t)bytes;
        unsigned char *grown = realloc(a->data, next);
        if (!grown) {
            rc = err_set(err, CLRUN_ERUNTIME, "%s: out of memory for %zu bytes of %s", f->path,
                         next, what);
            break;
        }
        a->data = grown;
        rc = idx_read(f, a->data, have, next, (size_t)bytes, what, err);
        have = next;
    }
    if (!rc)
        rc = idx_expect_end(f, err);
    if (rc) {
        free(a->data);
        a->data = NULL;
    }
    return rc;
}

static int idx_read_array(const char *path, uint32_t magic, int ndim, const char *what,
                          IdxArray *a, Err *err)
{
    IdxFile f;
    memset(a, 0, sizeof *a);
    int rc = idx_open(&f, path, err);
    if (rc)
        return rc;
    rc = idx_header(&f, magic, ndim, a->dims, err);
    if (!rc)
        rc = idx_body(&f, a, ndim, what, err);
    gzclose_r(f.gz);
    return rc;
}

static int max_label(const unsigned char *labels, int n)
{
    int max = 0;
    for (int i = 0; i < n; i++)
        if (labels[i] > max)
            max = labels[i];
    return max;
}

int idx_load(Dataset *ds, const char *images_path, const char *labels_path, Err *err)
{
    IdxArray images, labels;
    memset(ds, 0, sizeof *ds);
    int rc = idx_read_array(images_path, IDX_IMAGES_MAGIC, 3, "pixels", &images, err);
    if (rc)
        return rc;
    rc = idx_read_array(labels_path, IDX_LABELS_MAGIC, 1, "labels", &labels, err);
    if (rc) {
        free(images.data);
        return rc;
    }
    if (labels.dims[0] != images.dims[0]) {
        free(images.data);
        free(labels.data);
        return err_set(err, CLRUN_EINPUT, "%s: %u labels, but %s holds %u images", labels_path,
                       labels.dims[0], images_path, images.dims[0]);
    }
    ds->n = (int)images.dims[0];
    ds->c = 1;
    ds->h = (int)images.dims[1];
    ds->w = (int)images.dims[2];
    ds->pixels = images.data;
    ds->labels = labels.data;
    ds->classes = 1 + max_label(ds->labels, ds->n);
    snprintf(ds->source, sizeof ds->source, "%s", images_path);
    return CLRUN_OK;
}
