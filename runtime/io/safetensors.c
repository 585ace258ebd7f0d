/* safetensors.c: the safetensors format (see safetensors.h).
 *
 * Files may come from anywhere, so the reader is strict: the header is parsed
 * by a JSON parser that knows only the shapes safetensors uses, and the
 * tensors must tile the data exactly (no gaps, overlaps or trailing bytes, as
 * the format's specification requires), each holding exactly shape * dtype
 * size bytes. Anything else is an input error naming the file. */
#include "io/safetensors.h"

#include "io/file.h"

#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Real headers are kilobytes; this only stops a corrupt length from
 * allocating gigabytes. */
#define ST_MAX_HEADER (100u << 20)
/* More tensors than any model has; a header of many tiny ones is refused by
 * count before its names are compared. */
#define ST_MAX_TENSORS 65536

/* ---- bytes ---------------------------------------------------------------- */

static float bits_to_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* ---- dtypes --------------------------------------------------------------- */

static float get_f64(const unsigned char *p)
{
    uint64_t u = file_le(p, 8);
    double d;
    memcpy(&d, &u, sizeof d);
    /* Converting an out-of-range double to float is undefined in C. */
    if (d > FLT_MAX)
        return INFINITY;
    if (d < -FLT_MAX)
        return -INFINITY;
    return (float)d;
}

static float get_f32(const unsigned char *p)
{
    return bits_to_f32((uint32_t)file_le(p, 4));
}

static float get_f16(const unsigned char *p)
{
    unsigned h = (unsigned)file_le(p, 2);
    int exp = (int)(h >> 10 & 0x1f);
    unsigned mant = h & 0x3ff;
    float v;
    if (exp == 0)
        v = ldexpf((float)mant, -24);
    else if (exp == 31)
        v = mant ? NAN : INFINITY;
    else
        v = ldexpf((float)(mant | 0x400), exp - 25);
    return h & 0x8000 ? -v : v;
}

static float get_bf16(const unsigned char *p)
{
    return bits_to_f32((uint32_t)file_le(p, 2) << 16);
}

static float get_i64(const unsigned char *p) { return (float)(int64_t)file_le(p, 8); }
static float get_i32(const unsigned char *p) { return (float)(int32_t)file_le(p, 4); }
static float get_i16(const unsigned char *p) { return (float)(int16_t)file_le(p, 2); }
static float get_i8(const unsigned char *p) { return (float)(int8_t)p[0]; }
static float get_u8(const unsigned char *p) { return (float)p[0]; }
static float get_bool(const unsigned char *p) { return p[0] ? 1.0f : 0.0f; }

typedef struct {
    const char *name;
    size_t size;
    float (*get)(const unsigned char *p);
} Dtype;

static const Dtype dtypes[] = {
    {"F64", 8, get_f64}, {"F32", 4, get_f32}, {"F16", 2, get_f16}, {"BF16", 2, get_bf16},
    {"I64", 8, get_i64}, {"I32", 4, get_i32}, {"I16", 2, get_i16}, {"I8", 1, get_i8},
    {"U8", 1, get_u8},   {"BOOL", 1, get_bool},
};

static const Dtype *find_dtype(const char *name)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof dtypes[0]; i++)
        if (strcmp(dtypes[i].name, name) == 0)
            return &dtypes[i];
    return NULL;
}

/* ---- writing -------------------------------------------------------------- */

static void put_json_string(FILE *m, const char *s)
{
    fputc('"', m);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(m, "\\%c", c);
        else if (c < 0x20)
            fprintf(m, "\\u%04x", c);
        else
            fputc(c, m);
    }
    fputc('"', m);
}

/* The element count shape implies, or 0 with *ok cleared when a dimension is
 * negative or the product overflows. */
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

static int check_tensor(const StTensor *tensors, int i, const char *path, Err *err)
{
    const StTensor *t = &tensors[i];
    if (!memchr(t->name, '\0', sizeof t->name))
        return err_set(err, CLRUN_EINPUT, "%s: tensor %d: name is not terminated", path, i);
    if (strcmp(t->name, "__metadata__") == 0)
        return err_set(err, CLRUN_EINPUT, "%s: tensor %d: __metadata__ is reserved", path, i);
    if (t->ndim < 0 || t->ndim > ST_MAX_DIMS)
        return err_set(err, CLRUN_EINPUT, "%s: tensor '%s': %d dimensions (0 to %d allowed)", path,
                       t->name, t->ndim, ST_MAX_DIMS);
    int ok;
    size_t count = shape_count(t->shape, t->ndim, sizeof(float), &ok);
    if (!ok || count != t->count)
        return err_set(err, CLRUN_EINPUT, "%s: tensor '%s': count %zu does not match its shape",
                       path, t->name, t->count);
    if (count && !t->data)
        return err_set(err, CLRUN_EINPUT, "%s: tensor '%s': no data", path, t->name);
    for (int j = 0; j < i; j++)
        if (strcmp(tensors[j].name, t->name) == 0)
            return err_set(err, CLRUN_EINPUT, "%s: tensor name '%s' used twice", path, t->name);
    return CLRUN_OK;
}

/* The JSON header, padded with spaces so the data starts 8-byte aligned. */
static int build_header(const StTensor *t, int n, const char *const *meta_kv, int n_meta,
                        char **out, size_t *len, Err *err)
{
    FILE *m = open_memstream(out, len);
    if (!m)
        return err_set(err, CLRUN_ERUNTIME, "safetensors header: %s", strerror(errno));
    fputc('{', m);
    if (n_meta > 0) {
        fputs("\"__metadata__\":{", m);
        for (int i = 0; i < n_meta; i++) {
            fputs(i ? "," : "", m);
            put_json_string(m, meta_kv[2 * i]);
            fputc(':', m);
            put_json_string(m, meta_kv[2 * i + 1]);
        }
        fputc('}', m);
    }
    size_t offset = 0;
    for (int i = 0; i < n; i++) {
        fputs(i || n_meta > 0 ? "," : "", m);
        put_json_string(m, t[i].name);
        fputs(":{\"dtype\":\"F32\",\"shape\":[", m);
        for (int d = 0; d < t[i].ndim; d++)
            fprintf(m, "%s%ld", d ? "," : "", t[i].shape[d]);
        fprintf(m, "],\"data_offsets\":[%zu,%zu]}", offset, offset + t[i].count * sizeof(float));
        offset += t[i].count * sizeof(float);
    }
    fputc('}', m);
    for (long pos = ftell(m); pos % 8; pos++)
        fputc(' ', m);
    if (fclose(m) != 0) {
        free(*out);
        *out = NULL;
        return err_set(err, CLRUN_ERUNTIME, "safetensors header: out of memory");
    }
    return CLRUN_OK;
}

/* Encodes through a buffer, so the file is little-endian on any host. */
/* What one safetensors file holds, for file_write_atomic. */
typedef struct {
    const char *header;
    size_t header_len;
    const StTensor *t;
    int n;
} StOut;

static void write_st(FILE *fp, const void *ctx)
{
    const StOut *o = ctx;
    unsigned char len[8];
    file_put_le(len, o->header_len, 8);
    fwrite(len, 1, sizeof len, fp);
    fwrite(o->header, 1, o->header_len, fp);
    for (int i = 0; i < o->n; i++)
        file_put_u32s(fp, o->t[i].data, o->t[i].count);
}

int st_write(const char *path, const StTensor *tensors, int n, const char *const *meta_kv,
             int n_meta, Err *err)
{
    for (int i = 0; i < n; i++) {
        int rc = check_tensor(tensors, i, path, err);
        if (rc)
            return rc;
    }
    char *header;
    size_t header_len;
    int rc = build_header(tensors, n, meta_kv, n_meta, &header, &header_len, err);
    if (rc)
        return rc;
    StOut o = {header, header_len, tensors, n};
    rc = file_write_atomic(path, write_st, &o, err);
    free(header);
    return rc;
}

/* ---- the header's JSON ---------------------------------------------------- */

typedef struct {
    const char *s;
    size_t pos, len;
    const char *path;
    Err *err;
} Json;

static int json_fail(Json *j, const char *what)
{
    return err_set(j->err, CLRUN_EINPUT, "%s: bad safetensors header, at byte %zu of its JSON: %s",
                   j->path, j->pos, what);
}

static int json_peek(Json *j)
{
    while (j->pos < j->len) {
        char c = j->s[j->pos];
        if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
            return (unsigned char)c;
        j->pos++;
    }
    return -1;
}

static int json_expect(Json *j, char c)
{
    if (json_peek(j) == c) {
        j->pos++;
        return CLRUN_OK;
    }
    char what[16];
    snprintf(what, sizeof what, "expected '%c'", c);
    return json_fail(j, what);
}

static int hex4(Json *j, unsigned *out)
{
    if (j->len - j->pos < 4)
        return json_fail(j, "truncated \\u escape");
    *out = 0;
    for (int i = 0; i < 4; i++) {
        char c = j->s[j->pos++];
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return json_fail(j, "bad hex digit in \\u escape");
        *out = *out << 4 | (unsigned)d;
    }
    return CLRUN_OK;
}

/* A \u escape of four hex digits (after the "\u") as a code point, joining surrogate pairs. */
static int json_codepoint(Json *j, unsigned *cp)
{
    int rc = hex4(j, cp);
    if (rc || *cp < 0xd800 || *cp > 0xdfff)
        return rc;
    unsigned lo;
    if (*cp > 0xdbff || j->len - j->pos < 2 || j->s[j->pos] != '\\' || j->s[j->pos + 1] != 'u')
        return json_fail(j, "unpaired surrogate in \\u escape");
    j->pos += 2;
    if ((rc = hex4(j, &lo)))
        return rc;
    if (lo < 0xdc00 || lo > 0xdfff)
        return json_fail(j, "unpaired surrogate in \\u escape");
    *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
    return CLRUN_OK;
}

static int json_escape(Json *j, unsigned *cp)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (j->pos >= j->len)
        return json_fail(j, "unterminated string");
    char c = j->s[j->pos++];
    if (c == 'u')
        return json_codepoint(j, cp);
    const char *at = c ? strchr(from, c) : NULL;
    if (!at)
        return json_fail(j, "bad escape in string");
    *cp = (unsigned char)to[at - from];
    return CLRUN_OK;
}

/* Appends k bytes to out, keeping room for the NUL; out NULL only checks. */
static int put_bytes(Json *j, char *out, size_t cap, size_t *n, const unsigned char *b, size_t k)
{
    if (!out)
        return CLRUN_OK;
    if (*n + k >= cap)
        return json_fail(j, "string too long");
    memcpy(out + *n, b, k);
    *n += k;
    return CLRUN_OK;
}

static int put_utf8(Json *j, char *out, size_t cap, size_t *n, unsigned cp)
{
    static const unsigned char lead[] = {0, 0, 0xc0, 0xe0, 0xf0};
    unsigned char b[4];
    int k = cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    for (int i = k - 1; i > 0; i--, cp >>= 6)
        b[i] = (unsigned char)(0x80 | (cp & 0x3f));
    b[0] = (unsigned char)(lead[k] | cp);
    return put_bytes(j, out, cap, n, b, (size_t)k);
}

/* A string into out (cap bytes with the NUL), or checked and skipped when out
 * is NULL. Raw bytes, UTF-8 included, pass through; an escaped NUL is refused
 * because it would silently cut a C string short. */
static int json_string(Json *j, char *out, size_t cap)
{
    int rc = json_expect(j, '"');
    size_t n = 0;
    while (!rc) {
        if (j->pos >= j->len)
            return json_fail(j, "unterminated string");
        unsigned char c = (unsigned char)j->s[j->pos++];
        if (c == '"')
            break;
        if (c < 0x20)
            return json_fail(j, "control character in string");
        if (c != '\\') {
            rc = put_bytes(j, out, cap, &n, &c, 1);
            continue;
        }
        unsigned cp = 0;
        if (!(rc = json_escape(j, &cp)))
            rc = cp ? put_utf8(j, out, cap, &n, cp) : json_fail(j, "NUL in string");
    }
    if (out && !rc)
        out[n] = '\0';
    return rc;
}

/* A non-negative integer without sign, fraction or exponent: all that sizes
 * and offsets can be. */
static int json_uint(Json *j, uint64_t *v)
{
    int c = json_peek(j);
    if (c < '0' || c > '9')
        return json_fail(j, "expected a non-negative integer");
    if (c == '0' && j->pos + 1 < j->len && j->s[j->pos + 1] >= '0' && j->s[j->pos + 1] <= '9')
        return json_fail(j, "leading zero in number");
    *v = 0;
    while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9') {
        unsigned d = (unsigned)(j->s[j->pos] - '0');
        if (*v > (UINT64_MAX - d) / 10)
            return json_fail(j, "number too large");
        *v = *v * 10 + d;
        j->pos++;
    }
    char next = j->pos < j->len ? j->s[j->pos] : ' ';
    if (next == '.' || next == 'e' || next == 'E')
        return json_fail(j, "expected an integer");
    return CLRUN_OK;
}

/* A bracketed, comma-separated list, each item parsed by item. */
static int json_list(Json *j, char open, char close, int (*item)(Json *j, void *ctx), void *ctx)
{
    int rc = json_expect(j, open);
    if (!rc && json_peek(j) == close) {
        j->pos++;
        return CLRUN_OK;
    }
    while (!rc && !(rc = item(j, ctx))) {
        if (json_peek(j) == close) {
            j->pos++;
            break;
        }
        rc = json_expect(j, ',');
    }
    return rc;
}

typedef struct {
    uint64_t *out;
    int max, n;
} Uints;

static int uint_item(Json *j, void *ctx)
{
    Uints *u = ctx;
    if (u->n == u->max)
        return json_fail(j, "array too long");
    return json_uint(j, &u->out[u->n++]);
}

/* An array of at most max integers. */
static int json_uints(Json *j, uint64_t *out, int max, int *n)
{
    Uints u = {out, max, 0};
    int rc = json_list(j, '[', ']', uint_item, &u);
    *n = u.n;
    return rc;
}

/* Parses one member's value, given its key. */
typedef int (*MemberFn)(Json *j, const char *key, void *ctx);

typedef struct {
    MemberFn fn;
    void *ctx;
} Members;

static int member_item(Json *j, void *ctx)
{
    Members *m = ctx;
    char key[1024];
    int rc = json_string(j, key, sizeof key);
    if (!rc)
        rc = json_expect(j, ':');
    return rc ? rc : m->fn(j, key, m->ctx);
}

static int json_object(Json *j, MemberFn fn, void *ctx)
{
    Members m = {fn, ctx};
    return json_list(j, '{', '}', member_item, &m);
}

/* ---- reading -------------------------------------------------------------- */

/* A tensor as the header describes it, before its data is read. */
typedef struct {
    StTensor t;
    const Dtype *dtype;
    uint64_t begin, end;
    unsigned seen; /* SEEN_* fields present */
} Entry;

enum { SEEN_DTYPE = 1, SEEN_SHAPE = 2, SEEN_OFFSETS = 4, SEEN_ALL = 7 };

typedef struct {
    Entry *e;
    int n, cap;
    StMeta meta[ST_MAX_META];
    int n_meta;
} Entries;

__attribute__((format(printf, 4, 5))) static int tensor_fail(const char *path, Err *err,
                                                             const Entry *e, const char *fmt, ...)
{
    char what[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return err_set(err, CLRUN_EINPUT, "%s: tensor '%s': %s", path, e->t.name, what);
}

static int field_once(Json *j, Entry *e, unsigned bit, const char *key)
{
    if (e->seen & bit)
        return tensor_fail(j->path, j->err, e, "\"%s\" given twice", key);
    e->seen |= bit;
    return CLRUN_OK;
}

static int tensor_dtype(Json *j, Entry *e)
{
    char name[16];
    int rc = json_string(j, name, sizeof name);
    if (!rc && !(e->dtype = find_dtype(name)))
        return tensor_fail(j->path, j->err, e, "unknown dtype \"%s\"", name);
    return rc;
}

static int tensor_shape(Json *j, Entry *e)
{
    uint64_t dims[ST_MAX_DIMS];
    int rc = json_uints(j, dims, ST_MAX_DIMS, &e->t.ndim);
    for (int i = 0; !rc && i < e->t.ndim; i++) {
        if (dims[i] > LONG_MAX)
            return tensor_fail(j->path, j->err, e, "dimension %d too large", i);
        e->t.shape[i] = (long)dims[i];
    }
    return rc;
}

static int tensor_offsets(Json *j, Entry *e)
{
    uint64_t off[2];
    int n;
    int rc = json_uints(j, off, 2, &n);
    if (!rc && n != 2)
        return tensor_fail(j->path, j->err, e, "data_offsets must be [begin, end]");
    e->begin = off[0];
    e->end = off[1];
    return rc;
}

static int tensor_member(Json *j, const char *key, void *ctx)
{
    Entry *e = ctx;
    if (strcmp(key, "dtype") == 0)
        return field_once(j, e, SEEN_DTYPE, key) ? CLRUN_EINPUT : tensor_dtype(j, e);
    if (strcmp(key, "shape") == 0)
        return field_once(j, e, SEEN_SHAPE, key) ? CLRUN_EINPUT : tensor_shape(j, e);
    if (strcmp(key, "data_offsets") == 0)
        return field_once(j, e, SEEN_OFFSETS, key) ? CLRUN_EINPUT : tensor_offsets(j, e);
    return tensor_fail(j->path, j->err, e, "unknown field \"%s\"", key);
}

/* Metadata is free-form to the format, but its values must be strings. Each
 * is checked first; one that fits is then read again into a kept pair. */
static int metadata_member(Json *j, const char *key, void *ctx)
{
    Entries *es = ctx;
    size_t start = j->pos;
    int rc = json_string(j, NULL, 0);
    StMeta *m = &es->meta[es->n_meta];
    if (rc || es->n_meta == ST_MAX_META || strlen(key) >= sizeof m->key ||
        j->pos - start >= sizeof m->value)
        return rc;
    strcpy(m->key, key);
    j->pos = start;
    es->n_meta++;
    return json_string(j, m->value, sizeof m->value);
}

static int new_entry(Json *j, Entries *es, const char *name, Entry **out)
{
    if (strlen(name) >= sizeof es->e->t.name)
        return json_fail(j, "tensor name longer than 127 bytes");
    if (es->n == ST_MAX_TENSORS)
        return json_fail(j, "more than 65536 tensors");
    if (es->n == es->cap) {
        int cap = es->cap ? 2 * es->cap : 16;
        Entry *grown = realloc(es->e, (size_t)cap * sizeof *grown);
        if (!grown)
            return err_set(j->err, CLRUN_ERUNTIME, "%s: out of memory", j->path);
        es->e = grown;
        es->cap = cap;
    }
    *out = &es->e[es->n++];
    memset(*out, 0, sizeof **out);
    strcpy((*out)->t.name, name);
    return CLRUN_OK;
}

static int header_member(Json *j, const char *key, void *ctx)
{
    if (strcmp(key, "__metadata__") == 0)
        return json_object(j, metadata_member, ctx);
    Entry *e = NULL;
    int rc = new_entry(j, ctx, key, &e);
    if (!rc)
        rc = json_object(j, tensor_member, e);
    if (!rc && e->seen != SEEN_ALL)
        return tensor_fail(j->path, j->err, e, "needs dtype, shape and data_offsets");
    return rc;
}

static int parse_header(const char *s, size_t len, const char *path, Entries *es, Err *err)
{
    Json j = {s, 0, len, path, err};
    int rc = json_object(&j, header_member, es);
    if (!rc && json_peek(&j) != -1)
        return json_fail(&j, "more after the header's JSON object");
    return rc;
}

/* Reads the header length and the header; data_len is what follows it. */
static int read_header(FILE *fp, const char *path, char **header, size_t *len,
                       uint64_t *data_len, Err *err)
{
    struct stat st;
    unsigned char b[8];
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode))
        return err_set(err, CLRUN_EINPUT, "%s: not a regular file", path);
    uint64_t size = (uint64_t)st.st_size;
    if (fread(b, 1, sizeof b, fp) != sizeof b)
        return err_set(err, CLRUN_EINPUT, "%s: %llu bytes, too short for a safetensors file",
                       path, (unsigned long long)size);
    uint64_t n = file_le(b, 8);
    if (n > ST_MAX_HEADER)
        return err_set(err, CLRUN_EINPUT,
                       "%s: header length %llu is absurd (over %u bytes): not a safetensors file?",
                       path, (unsigned long long)n, ST_MAX_HEADER);
    if (n > size - 8)
        return err_set(err, CLRUN_EINPUT,
                       "%s: header length %llu runs past the end of the file (%llu bytes)", path,
                       (unsigned long long)n, (unsigned long long)size);
    *header = malloc(n ? n : 1);
    if (!*header)
        return err_set(err, CLRUN_ERUNTIME, "%s: out of memory for the header", path);
    if (fread(*header, 1, n, fp) != n)
        return err_set(err, CLRUN_EINPUT, "%s: read failed: %s", path, strerror(errno));
    *len = n;
    *data_len = size - 8 - n;
    return CLRUN_OK;
}

/* Offsets in order, inside the data, and as many bytes as shape and dtype need. */
static int check_entry(const char *path, Entry *e, uint64_t data_len, Err *err)
{
    unsigned long long b = e->begin, end = e->end;
    if (b > end)
        return tensor_fail(path, err, e, "data_offsets [%llu, %llu] end before they begin", b, end);
    if (end > data_len)
        return tensor_fail(path, err, e,
                           "data_offsets [%llu, %llu] run past the end of the data (%llu bytes)", b,
                           end, (unsigned long long)data_len);
    int ok;
    e->t.count = shape_count(e->t.shape, e->t.ndim, e->dtype->size, &ok);
    if (!ok)
        return tensor_fail(path, err, e, "shape too large");
    if (end - b != e->t.count * e->dtype->size)
        return tensor_fail(path, err, e,
                           "data_offsets [%llu, %llu] hold %llu bytes, but %zu %s values need %zu",
                           b, end, end - b, e->t.count, e->dtype->name,
                           e->t.count * e->dtype->size);
    return CLRUN_OK;
}

static int by_offset(const void *a, const void *b)
{
    const Entry *x = a, *y = b;
    if (x->begin != y->begin)
        return x->begin < y->begin ? -1 : 1;
    return (x->end > y->end) - (x->end < y->end);
}

static int by_name(const void *a, const void *b)
{
    return strcmp((*(const Entry *const *)a)->t.name, (*(const Entry *const *)b)->t.name);
}

/* No name twice: sorted, so that a header of many tensors costs n log n
 * comparisons, not n^2. */
static int check_names(const char *path, const Entries *es, Err *err)
{
    const Entry **sorted = malloc((size_t)(es->n ? es->n : 1) * sizeof *sorted);
    if (!sorted)
        return err_set(err, CLRUN_ERUNTIME, "%s: out of memory", path);
    for (int i = 0; i < es->n; i++)
        sorted[i] = &es->e[i];
    qsort(sorted, (size_t)es->n, sizeof *sorted, by_name);
    int rc = CLRUN_OK;
    for (int i = 1; i < es->n && !rc; i++)
        if (strcmp(sorted[i - 1]->t.name, sorted[i]->t.name) == 0)
            rc = err_set(err, CLRUN_EINPUT, "%s: duplicate tensor name '%s'", path,
                         sorted[i]->t.name);
    free(sorted);
    return rc;
}

/* Sorts the entries by offset and checks they tile the data exactly. */
static int check_layout(const char *path, Entries *es, uint64_t data_len, Err *err)
{
    int rc = check_names(path, es, err);
    if (rc)
        return rc;
    for (int i = 0; i < es->n; i++)
        if ((rc = check_entry(path, &es->e[i], data_len, err)))
            return rc;
    if (es->n > 1)
        qsort(es->e, (size_t)es->n, sizeof *es->e, by_offset);
    uint64_t at = 0;
    for (int i = 0; i < es->n; i++) {
        const Entry *e = &es->e[i];
        if (e->begin < at)
            return tensor_fail(path, err, e, "data overlaps tensor '%s'", es->e[i - 1].t.name);
        if (e->begin > at)
            return tensor_fail(path, err, e, "bytes %llu to %llu before it belong to no tensor",
                               (unsigned long long)at, (unsigned long long)e->begin);
        at = e->end;
    }
    if (at != data_len)
        return err_set(err, CLRUN_EINPUT, "%s: bytes %llu to %llu of the data belong to no tensor",
                       path, (unsigned long long)at, (unsigned long long)data_len);
    return CLRUN_OK;
}

static void convert(StTensor *t, const Dtype *dtype, const unsigned char *raw)
{
    for (size_t i = 0; i < t->count; i++)
        t->data[i] = dtype->get(raw + i * dtype->size);
}

/* Reads the tensors' data in file order (the layout is contiguous by now). */
static int read_data(FILE *fp, const char *path, Entries *es, Err *err)
{
    uint64_t max = 1;
    for (int i = 0; i < es->n; i++)
        if (es->e[i].end - es->e[i].begin > max)
            max = es->e[i].end - es->e[i].begin;
    unsigned char *raw = malloc((size_t)max);
    int rc = raw ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "%s: out of memory", path);
    for (int i = 0; !rc && i < es->n; i++) {
        Entry *e = &es->e[i];
        size_t bytes = (size_t)(e->end - e->begin);
        e->t.data = malloc((e->t.count ? e->t.count : 1) * sizeof(float));
        if (!e->t.data)
            rc = err_set(err, CLRUN_ERUNTIME, "%s: tensor '%s': out of memory", path, e->t.name);
        else if (fread(raw, 1, bytes, fp) != bytes)
            rc = err_set(err, CLRUN_EINPUT, "%s: read failed (did the file change?)", path);
        else
            convert(&e->t, e->dtype, raw);
    }
    free(raw);
    return rc;
}

static void free_entries(Entries *es)
{
    for (int i = 0; i < es->n; i++)
        free(es->e[i].t.data);
    free(es->e);
}

/* Hands the tensors, data and all, over to f. */
static int take_tensors(Entries *es, StFile *f, const char *path, Err *err)
{
    f->t = calloc(es->n ? (size_t)es->n : 1, sizeof *f->t);
    if (!f->t)
        return err_set(err, CLRUN_ERUNTIME, "%s: out of memory", path);
    for (int i = 0; i < es->n; i++)
        f->t[i] = es->e[i].t;
    f->n = es->n;
    memcpy(f->meta, es->meta, sizeof f->meta);
    f->n_meta = es->n_meta;
    free(es->e);
    return CLRUN_OK;
}

int st_read(const char *path, StFile *f, Err *err)
{
    memset(f, 0, sizeof *f);
    FILE *fp = file_open(path, err);
    if (!fp)
        return CLRUN_EINPUT;
    Entries es = {0};
    char *header = NULL;
    size_t header_len = 0;
    uint64_t data_len = 0;
    int rc = read_header(fp, path, &header, &header_len, &data_len, err);
    if (!rc)
        rc = parse_header(header, header_len, path, &es, err);
    if (!rc)
        rc = check_layout(path, &es, data_len, err);
    if (!rc)
        rc = read_data(fp, path, &es, err);
    if (!rc)
        rc = take_tensors(&es, f, path, err);
    if (rc)
        free_entries(&es);
    free(header);
    fclose(fp);
    return rc;
}

const char *st_meta(const StFile *f, const char *key)
{
    for (int i = 0; i < f->n_meta; i++)
        if (strcmp(f->meta[i].key, key) == 0)
            return f->meta[i].value;
    return NULL;
}

const StTensor *st_find(const StFile *f, const char *name)
{
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->t[i].name, name) == 0)
            return &f->t[i];
    return NULL;
}

void st_free(StFile *f)
{
    for (int i = 0; i < f->n; i++)
        free(f->t[i].data);
    free(f->t);
    memset(f, 0, sizeof *f);
}
