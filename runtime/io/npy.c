/* npy.c: the .npy format (see npy.h).
 *
 * The reader accepts only what NumPy itself writes for the supported dtypes:
 * the header dict is parsed by a small parser that knows the three keys, each
 * exactly once, and the data must be exactly shape * dtype size bytes. Any
 * other input is an error naming the file. */
#include "io/npy.h"

#include "io/file.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NPY_MAGIC "\x93NUMPY"
#define NPY_MAGIC_LEN 6
/* Real headers are under 200 bytes; this stops a corrupt length early. */
#define NPY_MAX_HEADER (1u << 20)

/* ---- bytes ---------------------------------------------------------------- */

static double get_f4(const unsigned char *p)
{
    uint32_t u = (uint32_t)file_le(p, 4);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static double get_f8(const unsigned char *p)
{
    uint64_t u = file_le(p, 8);
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

static double get_i4(const unsigned char *p) { return (double)(int32_t)file_le(p, 4); }
static double get_i8(const unsigned char *p) { return (double)(int64_t)file_le(p, 8); }
static double get_u1(const unsigned char *p) { return (double)p[0]; }

typedef struct {
    const char *descr;
    size_t size;
    double (*get)(const unsigned char *p);
} Dtype;

static const Dtype dtypes[] = {
    {"<f4", 4, get_f4}, {"<f8", 8, get_f8}, {"<i4", 4, get_i4},
    {"<i8", 8, get_i8}, {"|u1", 1, get_u1},
};

static const Dtype *find_dtype(const char *descr)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(dtypes[i].descr, descr) == 0)
            return &dtypes[i];
    return NULL;
}

/* The element count of shape, or 0 with *ok cleared when a dimension is
 * negative or count * elem_size overflows. */
static size_t shape_count(const long *shape, int ndim, size_t elem_size, int *ok)
{
    size_t count = 1;
    *ok = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0 || (shape[i] && count > SIZE_MAX / elem_size / (size_t)shape[i])) {
            *ok = 0;
            return 0;
        }
        count *= (size_t)shape[i];
    }
    return count;
}

/* ---- writing -------------------------------------------------------------- */

/* The version 1.0 preamble and header, padded so the data starts at a
 * multiple of 64 bytes; returns the total length. */
static size_t build_header(unsigned char *buf, size_t cap, const char *descr, int ndim,
                           const long *shape)
{
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (",
                     descr);
    for (int d = 0; d < ndim; d++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%s%ld", d ? ", " : "", shape[d]);
    n += snprintf(dict + n, sizeof dict - (size_t)n, "%s), }", ndim == 1 ? "," : "");
    size_t total = NPY_MAGIC_LEN + 4 + (size_t)n + 1;
    total = (total + 63) / 64 * 64;
    if (total > cap)
        return 0;
    size_t hlen = total - NPY_MAGIC_LEN - 4;
    memcpy(buf, NPY_MAGIC, NPY_MAGIC_LEN);
    buf[6] = 1;
    buf[7] = 0;
    file_put_le(buf + 8, hlen, 2);
    memset(buf + 10, ' ', hlen);
    memcpy(buf + 10, dict, (size_t)n);
    buf[total - 1] = '\n';
    return total;
}

/* What one .npy file holds, for file_write_atomic. */
typedef struct {
    const unsigned char *header;
    size_t header_len, count;
    const void *data;
} NpyOut;

static void write_npy(FILE *fp, const void *ctx)
{
    const NpyOut *o = ctx;
    fwrite(o->header, 1, o->header_len, fp);
    file_put_u32s(fp, o->data, o->count);
}

/* The header of an array of ndim dimensions of shape into buf (cap bytes),
 * its length into *len and the element count into *count. words: the 4-byte
 * words per element. */
static int make_header(unsigned char *buf, size_t cap, const char *path, const char *descr,
                       int words, int ndim, const long *shape, size_t *len, size_t *count,
                       Err *err)
{
    if (ndim < 0 || ndim > NPY_MAX_DIMS)
        return err_set(err, CLRUN_EINPUT, "%s: %d dimensions (0 to %d allowed)", path, ndim,
                       NPY_MAX_DIMS);
    int ok;
    *count = shape_count(shape, ndim, 4 * (size_t)words, &ok);
    if (!ok)
        return err_set(err, CLRUN_EINPUT, "%s: bad shape (negative or too large)", path);
    if (!(*len = build_header(buf, cap, descr, ndim, shape)))
        return err_set(err, CLRUN_ERUNTIME, "%s: header too long", path);
    return CLRUN_OK;
}

/* words: the 4-byte words per element (2 for '<i8', low word first). */
static int write_array(const char *path, const char *descr, const void *data, int words, int ndim,
                       const long *shape, Err *err)
{
    unsigned char header[640];
    size_t len, count;
    int rc = make_header(header, sizeof header, path, descr, words, ndim, shape, &len, &count,
                         err);
    if (!rc && count && !data)
        rc = err_set(err, CLRUN_EINPUT, "%s: no data", path);
    NpyOut o = {header, len, count * (size_t)words, data};
    return rc ? rc : file_write_atomic(path, write_npy, &o, err);
}

int npy_begin_f32(FILE *fp, const char *path, int ndim, const long *shape, Err *err)
{
    unsigned char header[640];
    size_t len, count;
    int rc = make_header(header, sizeof header, path, "<f4", 1, ndim, shape, &len, &count, err);
    if (!rc && fwrite(header, 1, len, fp) != len)
        rc = err_set(err, CLRUN_ERUNTIME, "%s: write failed", path);
    return rc;
}

int npy_write_f32(const char *path, const float *data, int ndim, const long *shape, Err *err)
{
    return write_array(path, "<f4", data, 1, ndim, shape, err);
}

int npy_write_i32(const char *path, const int32_t *data, int ndim, const long *shape, Err *err)
{
    return write_array(path, "<i4", data, 1, ndim, shape, err);
}

int npy_write_labels(const char *path, const int32_t *labels, long n, Err *err)
{
    uint32_t *words = malloc((size_t)(n > 0 ? n : 1) * 2 * sizeof *words);
    if (!words)
        return err_set(err, CLRUN_ERUNTIME, "%s: out of memory", path);
    for (long i = 0; i < n; i++) { /* int64 as two little-endian words, low first */
        uint64_t v = (uint64_t)(int64_t)labels[i];
        words[2 * i] = (uint32_t)v;
        words[2 * i + 1] = (uint32_t)(v >> 32);
    }
    int rc = write_array(path, "<i8", words, 2, 1, &n, err);
    free(words);
    return rc;
}

/* ---- the header dict ------------------------------------------------------ */

typedef struct {
    const char *s;
    size_t pos, len;
    const char *path;
    Err *err;
} Hdr;

static int hdr_fail(Hdr *h, const char *what)
{
    return err_set(h->err, CLRUN_EINPUT, "%s: bad .npy header, at byte %zu of its dict: %s",
                   h->path, h->pos, what);
}

static int hdr_peek(Hdr *h)
{
    while (h->pos < h->len && (h->s[h->pos] == ' ' || h->s[h->pos] == '\t'))
        h->pos++;
    return h->pos < h->len ? (unsigned char)h->s[h->pos] : -1;
}

static int hdr_expect(Hdr *h, char c)
{
    if (hdr_peek(h) == c) {
        h->pos++;
        return CLRUN_OK;
    }
    char what[24];
    snprintf(what, sizeof what, "expected '%c'", c);
    return hdr_fail(h, what);
}

/* A quoted string without escapes ('...' or "...") into out. */
static int hdr_string(Hdr *h, char *out, size_t cap)
{
    int q = hdr_peek(h);
    if (q != '\'' && q != '"')
        return hdr_fail(h, "expected a string");
    size_t start = ++h->pos;
    while (h->pos < h->len && h->s[h->pos] != q && h->s[h->pos] != '\\')
        h->pos++;
    if (h->pos >= h->len || h->s[h->pos] != q)
        return hdr_fail(h, "unterminated or escaped string");
    if (h->pos - start >= cap)
        return hdr_fail(h, "string too long");
    memcpy(out, h->s + start, h->pos - start);
    out[h->pos - start] = '\0';
    h->pos++;
    return CLRUN_OK;
}

static int hdr_bool(Hdr *h, int *out)
{
    hdr_peek(h);
    const char *p = h->s + h->pos;
    size_t left = h->len - h->pos;
    if (left >= 4 && memcmp(p, "True", 4) == 0)
        *out = 1;
    else if (left >= 5 && memcmp(p, "False", 5) == 0)
        *out = 0;
    else
        return hdr_fail(h, "expected True or False");
    h->pos += *out ? 4 : 5;
    return CLRUN_OK;
}

static int hdr_dim(Hdr *h, long *out)
{
    hdr_peek(h);
    long v = 0;
    size_t start = h->pos;
    while (h->pos < h->len && h->s[h->pos] >= '0' && h->s[h->pos] <= '9') {
        if (v > (LONG_MAX - 9) / 10)
            return hdr_fail(h, "dimension too large");
        v = v * 10 + (h->s[h->pos++] - '0');
    }
    if (h->pos == start)
        return hdr_fail(h, "expected a dimension");
    *out = v;
    return CLRUN_OK;
}

/* A tuple of non-negative integers: (), (n,), (a, b, ...) with an optional
 * trailing comma. */
static int hdr_shape(Hdr *h, NpyArray *a)
{
    int rc = hdr_expect(h, '(');
    a->ndim = 0;
    while (!rc && hdr_peek(h) != ')') {
        if (a->ndim == NPY_MAX_DIMS)
            return hdr_fail(h, "more than 8 dimensions");
        if ((rc = hdr_dim(h, &a->shape[a->ndim])))
            return rc;
        a->ndim++;
        if (hdr_peek(h) == ',')
            h->pos++;
        else if (hdr_peek(h) != ')')
            return hdr_fail(h, "expected ',' or ')'");
        else if (a->ndim == 1)
            return hdr_fail(h, "a 1-tuple needs its comma");
    }
    return rc ? rc : hdr_expect(h, ')');
}

/* One "key: value" pair; seen marks the keys already read. */
static int hdr_entry(Hdr *h, NpyArray *a, char *descr, size_t cap, int *fortran, int *seen)
{
    char key[32];
    int rc = hdr_string(h, key, sizeof key);
    if (!rc)
        rc = hdr_expect(h, ':');
    if (rc)
        return rc;
    static const char *const keys[] = {"descr", "fortran_order", "shape"};
    int k = 0;
    while (k < 3 && strcmp(key, keys[k]) != 0)
        k++;
    if (k == 3)
        return hdr_fail(h, "unknown key");
    if (*seen & 1 << k)
        return hdr_fail(h, "key given twice");
    *seen |= 1 << k;
    return k == 0 ? hdr_string(h, descr, cap) : k == 1 ? hdr_bool(h, fortran) : hdr_shape(h, a);
}

static int parse_header(Hdr *h, NpyArray *a, const Dtype **dtype)
{
    char descr[32];
    int fortran = 0, seen = 0;
    int rc = hdr_expect(h, '{');
    while (!rc && hdr_peek(h) != '}') {
        if ((rc = hdr_entry(h, a, descr, sizeof descr, &fortran, &seen)))
            return rc;
        if (hdr_peek(h) == ',')
            h->pos++;
        else if (hdr_peek(h) != '}')
            return hdr_fail(h, "expected ',' or '}'");
    }
    if (rc || (rc = hdr_expect(h, '}')))
        return rc;
    while (h->pos + 1 < h->len && h->s[h->pos] == ' ')
        h->pos++;
    if (h->pos + 1 != h->len || h->s[h->pos] != '\n')
        return hdr_fail(h, "the dict must be followed only by spaces and a newline");
    if (seen != 7)
        return hdr_fail(h, "needs descr, fortran_order and shape");
    if (fortran)
        return err_set(h->err, CLRUN_EINPUT, "%s: Fortran-order arrays are not supported",
                       h->path);
    if (!(*dtype = find_dtype(descr)))
        return err_set(h->err, CLRUN_EINPUT,
                       "%s: dtype '%s' is not supported ('<f4', '<f8', '<i4', '<i8', '|u1')",
                       h->path, descr);
    return CLRUN_OK;
}

/* ---- reading -------------------------------------------------------------- */

/* The preamble: magic, version and header length; *data_off receives where
 * the data starts. */
static int read_preamble(FILE *fp, const char *path, size_t *header_len, size_t *data_off,
                         Err *err)
{
    unsigned char pre[12];
    if (fread(pre, 1, 10, fp) != 10 || memcmp(pre, NPY_MAGIC, NPY_MAGIC_LEN) != 0)
        return err_set(err, CLRUN_EINPUT, "%s: not a .npy file (bad magic)", path);
    int major = pre[6], minor = pre[7];
    if (major < 1 || major > 3 || minor != 0)
        return err_set(err, CLRUN_EINPUT, "%s: .npy version %d.%d is not supported", path, major,
                       minor);
    size_t width = major == 1 ? 2 : 4;
    if (width == 4 && fread(pre + 10, 1, 2, fp) != 2)
        return err_set(err, CLRUN_EINPUT, "%s: truncated .npy preamble", path);
    *header_len = (size_t)file_le(pre + 8, (int)width);
    *data_off = 8 + width + *header_len;
    if (*header_len == 0 || *header_len > NPY_MAX_HEADER)
        return err_set(err, CLRUN_EINPUT, "%s: absurd .npy header length %zu", path,
                       *header_len);
    return CLRUN_OK;
}

static int read_data(FILE *fp, const char *path, const Dtype *dt, NpyArray *a, Err *err)
{
    a->data = malloc((a->count ? a->count : 1) * sizeof(double));
    if (!a->data)
        return err_set(err, CLRUN_ERUNTIME, "%s: out of memory for %zu values", path, a->count);
    unsigned char buf[8192];
    size_t per = sizeof buf / dt->size;
    for (size_t done = 0; done < a->count;) {
        size_t k = a->count - done < per ? a->count - done : per;
        if (fread(buf, dt->size, k, fp) != k)
            return err_set(err, CLRUN_EINPUT, "%s: read failed: %s", path, strerror(errno));
        for (size_t i = 0; i < k; i++)
            a->data[done + i] = dt->get(buf + i * dt->size);
        done += k;
    }
    return CLRUN_OK;
}

static int read_file(FILE *fp, const char *path, NpyArray *a, Err *err)
{
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode))
        return err_set(err, CLRUN_EINPUT, "%s: not a regular file", path);
    size_t header_len = 0, data_off = 0;
    int rc = read_preamble(fp, path, &header_len, &data_off, err);
    if (rc)
        return rc;
    if ((uint64_t)st.st_size < data_off)
        return err_set(err, CLRUN_EINPUT, "%s: truncated .npy header", path);
    char *text = malloc(header_len);
    if (!text)
        return err_set(err, CLRUN_ERUNTIME, "%s: out of memory", path);
    const Dtype *dt = NULL;
    Hdr h = {text, 0, header_len, path, err};
    if (fread(text, 1, header_len, fp) != header_len)
        rc = err_set(err, CLRUN_EINPUT, "%s: truncated .npy header", path);
    else
        rc = parse_header(&h, a, &dt);
    free(text);
    if (rc)
        return rc;
    int ok;
    a->count = shape_count(a->shape, a->ndim, dt->size, &ok);
    uint64_t have = (uint64_t)st.st_size - data_off;
    if (!ok || have != (uint64_t)a->count * dt->size)
        return err_set(err, CLRUN_EINPUT, "%s: %llu data bytes, but the shape needs %s", path,
                       (unsigned long long)have, ok ? "a different number" : "too many");
    return read_data(fp, path, dt, a, err);
}

int npy_read(const char *path, NpyArray *out, Err *err)
{
    memset(out, 0, sizeof *out);
    FILE *fp = file_open(path, err);
    if (!fp)
        return CLRUN_EINPUT;
    int rc = read_file(fp, path, out, err);
    fclose(fp);
    if (rc)
        npy_free(out);
    return rc;
}

int npy_read_finite(const char *path, NpyArray *out, Err *err)
{
    int rc = npy_read(path, out, err);
    size_t row = out->ndim > 0 && out->shape[0] > 0 ? out->count / (size_t)out->shape[0] : 1;
    for (size_t i = 0; !rc && i < out->count; i++)
        if (!isfinite(out->data[i]))
            rc = err_set(err, CLRUN_EINPUT, "%s: row %zu holds %s (value %zu of the row); missing "
                         "values are not guessed: remove the row or fill it in", path,
                         row ? i / row : 0, isnan(out->data[i]) ? "NaN" : "an infinity",
                         row ? i % row : 0);
    if (rc && out->data)
        npy_free(out);
    return rc;
}

void npy_free(NpyArray *out)
{
    free(out->data);
    memset(out, 0, sizeof *out);
}
