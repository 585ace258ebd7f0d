/* csv.h: CSV files (RFC 4180), the one place clrun reads and writes them.
 *
 * Fields are separated by commas and records by line breaks; a field
 * holding a comma, a double quote or a line break is written in double
 * quotes, each quote inside doubled, so that a class named `T-shirt, top`
 * or `6"` stays one field. The reader takes that form back.
 *
 * Reading (CsvTable): data the user lists in a spreadsheet, such as images
 * with their labels. Records end in CRLF or LF; the first record names the
 * columns. A UTF-8 byte order mark (what spreadsheets write) is skipped, as
 * are blank lines. Every row keeps the line it starts on, so that messages
 * about a row can name it.
 *
 * Writing (Csv): rows end in "\n" (as Python's csv module, pandas and R read
 * them) and are flushed one by one, so a log can be watched and a killed run
 * leaves whole rows. */
#ifndef CLRUN_IO_CSV_H
#define CLRUN_IO_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"

/* ---- reading ---- */

typedef struct {
    char *path;         /* the file, for messages (owned) */
    int cols, rows;
    char **names;       /* cols column names */
    char **cells;       /* rows * cols fields, row by row */
    int *lines;         /* each row's first line in the file, from 1 */
    int header_line;    /* the header's (after blank lines, not always 1) */
    char *text;         /* the storage names and cells point into */
} CsvTable;

/* Reads path into t (an input: io/file.h records it). A row whose field
 * count differs from the header's, a quote left open, text after a closing
 * quote, the same column name twice or a file without a header are
 * CLRUN_EINPUT naming path and the line. An empty column name (pandas'
 * index column) is allowed. On failure t is empty; csv_free is safe either
 * way. */
int csv_read(CsvTable *t, const char *path, Err *err);

/* The index of the column called name, or -1. */
int csv_column(const CsvTable *t, const char *name);

/* Row r's field in column c. */
const char *csv_cell(const CsvTable *t, int r, int c);

/* The column names as "a, b, c" into out, for messages. */
void csv_names(const CsvTable *t, char *out, size_t size);

void csv_free(CsvTable *t);

/* ---- writing ---- */

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
