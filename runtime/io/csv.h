/* csv.h: the one way clrun writes CSV files. Fields are separated and
 * quoted here, per RFC 4180: a field holding a comma, a double quote or a
 * line break is written in double quotes, each quote doubled, so that a
 * class named `T-shirt, top` or `6"` stays one field. Rows end in "\n" (as
 * Python's csv module, pandas and R read them) and are flushed one by one,
 * so a log can be watched and a killed run leaves whole rows. */
#ifndef CLRUN_IO_CSV_H
#define CLRUN_IO_CSV_H

#include <stdio.h>

#include "err.h"

typedef struct {
    FILE *f;
    char path[4096]; /* for messages */
    int fields;      /* in the row being written */
    int own;         /* opened by csv_open: csv_close closes it */
} Csv;

/* Opens path with mode "w" (a new file) or "a" (rows added to it). */
int csv_open(Csv *c, const char *path, const char *mode, Err *err);
/* Writes into f, an open stream the caller closes (a temporary file it
 * renames into place); path names it in messages. */
void csv_over(Csv *c, FILE *f, const char *path);

/* One field of text, quoted when it needs to be. */
void csv_text(Csv *c, const char *text);
/* One field formatted as printf does, then as csv_text. */
void csv_textf(Csv *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A number formatted with fmt ("%.6f"); NaN is written NA. */
void csv_number(Csv *c, const char *fmt, double v);
/* A header: each comma-separated name of names as a field, then the row ends. */
int csv_header(Csv *c, const char *names, Err *err);
/* Ends the row and flushes it; a failed write names the file. */
int csv_end_row(Csv *c, Err *err);
/* Closes a file csv_open opened (safe on one never opened); names it on failure. */
int csv_close(Csv *c, Err *err);

#endif
