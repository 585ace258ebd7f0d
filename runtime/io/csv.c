/* csv.c: CSV files read and written (see csv.h).
 *
 * A file read is read whole and unquoted in place (a field never grows when
 * its quotes are taken out), so every name and cell points into one block
 * and the table is freed in a few calls. A file written is written a field
 * at a time, quoted only where csv.h's rule asks. */
#include "io/csv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/file.h"

/* Larger tables are surely a mistake (5,760 images take 300 KB). */
#define CSV_MAX_BYTES ((size_t)1 << 30)

static int slurp(const char *path, char **out, size_t *len, Err *err)
{
    FILE *fp = file_open(path, err);
    if (!fp)
        return CLRUN_EINPUT;
    size_t cap = 1 << 16, n = 0, got;
    char *buf = malloc(cap + 1);
    while (buf && (got = fread(buf + n, 1, cap - n, fp)) > 0) {
        n += got;
        if (n == cap && cap < CSV_MAX_BYTES) {
            char *more = realloc(buf, 2 * cap + 1);
            if (!more)
                free(buf);
            buf = more;
            cap *= 2;
        } else if (n == cap) {
            break;
        }
    }
    int failed = ferror(fp);
    fclose(fp);
    if (!buf)
        return err_set(err, CLRUN_ERUNTIME, "%s: out of memory", path);
    if (failed || n >= CSV_MAX_BYTES) {
        free(buf);
        return err_set(err, CLRUN_EINPUT, "%s: %s", path,
                       failed ? "read error" : "over 1 GiB: not a table of images");
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return CLRUN_OK;
}

/* ---- fields ---- */

/* Where the parser is: p reads, the unquoted text is written at the field's
 * start, line counts line breaks read so far. */
typedef struct {
    const char *path;
    char *p, *end;
    int line;
    char **fields; /* of the whole file, in order */
    int *lines;    /* per record */
    int n, cap, records, record_cap;
} Parser;

static int push(void **array, int *cap, int n, size_t each)
{
    if (n < *cap)
        return 0;
    int more = *cap ? 2 * *cap : 64;
    void *grown = realloc(*array, (size_t)more * each);
    if (!grown)
        return -1;
    *array = grown;
    *cap = more;
    return 0;
}

static int at_break(const Parser *ps)
{
    return ps->p < ps->end && (*ps->p == '\n' || (*ps->p == '\r' && ps->p[1] == '\n'));
}

/* Reads a quoted field from just after its opening quote; writes it from out. */
static int quoted(Parser *ps, char *out, Err *err)
{
    int opened = ps->line;
    for (;;) {
        if (ps->p >= ps->end)
            return err_set(err, CLRUN_EINPUT, "%s:%d: a quoted field is never closed", ps->path,
                           opened);
        char c = *ps->p++;
        if (c == '"' && ps->p < ps->end && *ps->p == '"') {
            ps->p++;
        } else if (c == '"') {
            break;
        } else if (c == '\n') {
            ps->line++;
        }
        *out++ = c;
    }
    if (ps->p < ps->end && *ps->p != ',' && !at_break(ps))
        return err_set(err, CLRUN_EINPUT, "%s:%d: text after a closing quote (a quote inside a "
                       "quoted field is written twice: \"\")", ps->path, ps->line);
    *out = '\0';
    return CLRUN_OK;
}

/* Reads one field at p into place; a quote inside an unquoted field is
 * taken as it stands, as Python's csv module takes it. */
static int field(Parser *ps, Err *err)
{
    char *start = ps->p;
    if (push((void **)&ps->fields, &ps->cap, ps->n, sizeof *ps->fields))
        return err_set(err, CLRUN_ERUNTIME, "%s: out of memory", ps->path);
    ps->fields[ps->n++] = start;
    if (ps->p < ps->end && *ps->p == '"') {
        ps->p++;
        return quoted(ps, start, err);
    }
    while (ps->p < ps->end && *ps->p != ',' && !at_break(ps))
        ps->p++;
    return CLRUN_OK;
}

/* Reads one record's fields (at least one) and the line break after it. */
static int record(Parser *ps, int *count, Err *err)
{
    int first = ps->n, rc;
    for (;;) {
        if ((rc = field(ps, err)))
            return rc;
        char *sep = ps->p; /* a comma, a line break or the end (the text's NUL) */
        if (sep < ps->end && *sep == ',') {
            ps->p++;
            *sep = '\0';
            continue;
        }
        if (at_break(ps)) {
            ps->p += *sep == '\r' ? 2 : 1;
            ps->line++;
        }
        *sep = '\0'; /* ends an unquoted field; a quoted one has ended before it */
        break;
    }
    *count = ps->n - first;
    return CLRUN_OK;
}

/* Checks a record's field count against the header's. */
static int check_width(const Parser *ps, int count, int cols, int line, Err *err)
{
    if (count == cols)
        return CLRUN_OK;
    return err_set(err, CLRUN_EINPUT, "%s:%d: %d field%s, but the header on line %d names %d "
                   "column%s", ps->path, line, count, count == 1 ? "" : "s", ps->lines[0], cols,
                   cols == 1 ? "" : "s");
}

/* Splits the whole text into records of cols fields each, cols being the
 * first record's; ps->lines gets each record's line. */
static int parse(Parser *ps, int *cols, Err *err)
{
    *cols = 0;
    while (ps->p < ps->end) {
        int first = ps->n, line = ps->line, count, rc = record(ps, &count, err);
        if (rc)
            return rc;
        if (count == 1 && ps->fields[first][0] == '\0') {
            ps->n = first; /* a blank line */
            continue;
        }
        if (push((void **)&ps->lines, &ps->record_cap, ps->records, sizeof *ps->lines))
            return err_set(err, CLRUN_ERUNTIME, "%s: out of memory", ps->path);
        ps->lines[ps->records++] = line;
        if (ps->records == 1)
            *cols = count;
        else if ((rc = check_width(ps, count, *cols, line, err)))
            return rc;
    }
    if (!ps->records)
        return err_set(err, CLRUN_EINPUT, "%s: empty; the first line must name the columns",
                       ps->path);
    return CLRUN_OK;
}

int csv_column(const CsvTable *t, const char *name)
{
    for (int c = 0; c < t->cols; c++)
        if (strcmp(t->names[c], name) == 0)
            return c;
    return -1;
}

const char *csv_cell(const CsvTable *t, int r, int c)
{
    return t->cells[(size_t)r * t->cols + c];
}

void csv_names(const CsvTable *t, char *out, size_t size)
{
    out[0] = '\0';
    for (int c = 0; c < t->cols; c++) {
        size_t len = strlen(out);
        snprintf(out + len, size - len, "%s'%s'", c ? ", " : "", t->names[c]);
    }
}

static int check_names(const CsvTable *t, Err *err)
{
    for (int c = 0; c < t->cols; c++)
        for (int d = 0; d < c; d++)
            if (t->names[c][0] && strcmp(t->names[c], t->names[d]) == 0)
                return err_set(err, CLRUN_EINPUT, "%s:%d: column '%s' is named twice", t->path,
                               t->header_line, t->names[c]);
    return CLRUN_OK;
}

int csv_read(CsvTable *t, const char *path, Err *err)
{
    memset(t, 0, sizeof *t);
    size_t len = 0;
    int rc = slurp(path, &t->text, &len, err);
    if (rc)
        return rc;
    int bom = len >= 3 && memcmp(t->text, "\xef\xbb\xbf", 3) == 0;
    Parser ps = {.path = path, .p = t->text + 3 * bom, .end = t->text + len, .line = 1};
    rc = parse(&ps, &t->cols, err);
    if (!rc && !(t->path = strdup(path)))
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory");
    if (rc) {
        free(ps.fields);
        free(ps.lines);
        csv_free(t);
        return rc;
    }
    /* the header is record 0: its names sit just before the rows' cells */
    t->rows = ps.records - 1;
    t->names = ps.fields;
    t->cells = ps.fields + t->cols;
    t->header_line = ps.lines[0];
    memmove(ps.lines, ps.lines + 1, (size_t)t->rows * sizeof *ps.lines);
    t->lines = ps.lines;
    if ((rc = check_names(t, err)))
        csv_free(t);
    return rc;
}

void csv_free(CsvTable *t)
{
    free(t->names);
    free(t->lines);
    free(t->text);
    free(t->path);
    memset(t, 0, sizeof *t);
}

/* ---- writing ---- */

int csv_open(Csv *c, const char *path, const char *mode, Err *err)
{
    memset(c, 0, sizeof *c);
    snprintf(c->path, sizeof c->path, "%s", path);
    if (!(c->f = fopen(path, mode)))
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write: %s", path, strerror(errno));
    c->own = 1;
    return CLRUN_OK;
}

void csv_over(Csv *c, FILE *f, const char *path)
{
    memset(c, 0, sizeof *c);
    c->f = f;
    snprintf(c->path, sizeof c->path, "%s", path);
}

void csv_text(Csv *c, const char *v)
{
    if (c->fields++)
        fputc(',', c->f);
    if (!strpbrk(v, ",\"\r\n")) {
        fputs(v, c->f);
        return;
    }
    fputc('"', c->f);
    for (; *v; v++) {
        if (*v == '"')
            fputc('"', c->f);
        fputc(*v, c->f);
    }
    fputc('"', c->f);
}

void csv_textf(Csv *c, const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    csv_text(c, text);
}

void csv_number(Csv *c, const char *fmt, double v)
{
    if (isnan(v))
        csv_text(c, "NA");
    else
        csv_textf(c, fmt, v);
}

int csv_header(Csv *c, const char *names, Err *err)
{
    for (const char *at = names; *at;) {
        size_t len = strcspn(at, ",");
        csv_textf(c, "%.*s", (int)len, at);
        at += len + (at[len] == ',');
    }
    return csv_end_row(c, err);
}

int csv_end_row(Csv *c, Err *err)
{
    fputc('\n', c->f);
    c->fields = 0;
    if (fflush(c->f) != 0 || ferror(c->f))
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write: %s", c->path, strerror(errno));
    return CLRUN_OK;
}

int csv_close(Csv *c, Err *err)
{
    if (!c->own || !c->f)
        return CLRUN_OK;
    int bad = ferror(c->f);
    int rc = fclose(c->f) != 0 || bad;
    c->f = NULL;
    return rc ? err_set(err, CLRUN_ERUNTIME, "%s: cannot write: %s", c->path, strerror(errno))
              : CLRUN_OK;
}
