/* csv.c: the CSV writer (see csv.h). */
#include "io/csv.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <string.h>

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
