/* csv.h: a table read from a CSV file (RFC 4180), for data the user lists
 * in a spreadsheet: images with their object, category and variation.
 *
 * Fields are separated by commas and records by CRLF or LF; a field in
 * double quotes may hold commas, line breaks and quotes written twice. The
 * first record names the columns. A UTF-8 byte order mark (what
 * spreadsheets write) is skipped, as are blank lines. Every row keeps the
 * line it starts on, so that messages about a row can name it. */
#ifndef CLRUN_IO_CSV_H
#define CLRUN_IO_CSV_H

#include <stddef.h>

#include "err.h"

typedef struct {
    char *path;         /* the file, for messages (owned) */
    int cols, rows;
    char **names;       /* cols column names */
    char **cells;       /* rows * cols fields, row by row */
    int *lines;         /* each row's first line in the file, from 1 */
    int header_line;    /* the header's (after blank lines, not always 1) */
    char *text;         /* the storage names and cells point into */
} CsvTable;

/* Reads path into t. A row whose field count differs from the header's, a
 * quote left open, text after a closing quote, the same column name twice
 * or a file without a header are CLRUN_EINPUT naming path and the line. An
 * empty column name (pandas' index column) is allowed. On failure t is
 * empty; csv_free is safe either way. */
int csv_read(CsvTable *t, const char *path, Err *err);

/* The index of the column called name, or -1. */
int csv_column(const CsvTable *t, const char *name);

/* Row r's field in column c. */
const char *csv_cell(const CsvTable *t, int r, int c);

/* The column names as "a, b, c" into out, for messages. */
void csv_names(const CsvTable *t, char *out, size_t size);

void csv_free(CsvTable *t);

#endif
