/* table.c: the images a CSV table lists as a Dataset (see table_load in
 * dataset.h): a course's image set as a spreadsheet gives it, one row per
 * image with its object, category, variation and whatever else.
 *
 * The rows are checked before the first image is decoded, and every
 * message names the table's line, because with thousands of images the
 * useful answer to "what is wrong" is "these rows", all at once, before
 * minutes of decoding and not after.
 *
 * The table stays with the Dataset (dataset_column and its kin), since
 * analyses group the images by its other columns. */
#include "data/dataset.h"
#include "data/image.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/csv.h"

enum { TABLE_BAD_ROWS_SHOWN = 10, TABLE_MAX_CLASSES = 256 };

/* What table_load holds while it works. */
typedef struct {
    const char *table;
    CsvTable csv;
    int path_col, label_col;
    char **paths;           /* resolved, per row */
    int rows;               /* of paths (the table itself may go to the Dataset) */
    unsigned char *labels;  /* per row */
    const char **classes;   /* the sorted distinct labels, pointing into csv */
    int n_classes;
} Load;

static void load_free(Load *l)
{
    for (int r = 0; l->paths && r < l->rows; r++)
        free(l->paths[r]);
    free(l->paths);
    free(l->labels);
    free(l->classes);
    csv_free(&l->csv);
}

static int find_column(Load *l, const char *name, int *col, Err *err)
{
    if ((*col = csv_column(&l->csv, name)) >= 0)
        return CLRUN_OK;
    char names[2048];
    csv_names(&l->csv, names, sizeof names);
    return err_set(err, CLRUN_EINPUT, "%s:%d: no column '%s' (the columns are %s)", l->table,
                   l->csv.header_line, name, names);
}

/* cell, relative to the table's folder unless absolute. */
static int resolve(const char *table, const char *cell, char **out)
{
    DatasetPath dir = "", path;
    const char *slash = strrchr(table, '/');
    size_t len = slash ? (size_t)(slash - table) + 1 : 0; /* "/" kept for a table at the root */
    if (len >= sizeof dir)
        return -1;
    memcpy(dir, table, len);
    dir[len] = '\0';
    if (dataset_join(path, cell[0] == '/' ? NULL : dir, cell, NULL))
        return -1;
    return (*out = strdup(path)) ? 0 : -1;
}

/* Why row r cannot be loaded, into why; CLRUN_OK when it can. */
static int check_row(Load *l, int r, Err *why)
{
    const char *cell = csv_cell(&l->csv, r, l->path_col);
    if (!cell[0])
        return err_set(why, CLRUN_EINPUT, "no path in column '%s'", l->csv.names[l->path_col]);
    if (l->label_col >= 0 && !csv_cell(&l->csv, r, l->label_col)[0])
        return err_set(why, CLRUN_EINPUT, "no value in column '%s'", l->csv.names[l->label_col]);
    if (l->label_col >= 0 && strlen(csv_cell(&l->csv, r, l->label_col)) >= DATASET_NAME_MAX)
        return err_set(why, CLRUN_EINPUT, "the class name in column '%s' is over %d bytes",
                       l->csv.names[l->label_col], DATASET_NAME_MAX - 1);
    if (resolve(l->table, cell, &l->paths[r]))
        return err_set(why, CLRUN_EINPUT, "%s: path too long (or out of memory)", cell);
    return image_probe(l->paths[r], why);
}

/* Checks every row, naming up to TABLE_BAD_ROWS_SHOWN bad ones, one a line. */
static int check_rows(Load *l, Err *err)
{
    char rows[sizeof err->msg];
    int bad = 0;
    size_t len = 0;
    for (int r = 0; r < l->csv.rows; r++) {
        Err why = {""};
        if (check_row(l, r, &why) == CLRUN_OK || ++bad > TABLE_BAD_ROWS_SHOWN)
            continue;
        len += (size_t)snprintf(rows + len, sizeof rows - len, "\n  %s:%d: %s", l->table,
                                l->csv.lines[r], why.msg);
        len = len < sizeof rows ? len : sizeof rows - 1;
    }
    if (bad > TABLE_BAD_ROWS_SHOWN)
        snprintf(rows + len, sizeof rows - len, "\n  and %d more", bad - TABLE_BAD_ROWS_SHOWN);
    if (bad == 1)
        return err_set(err, CLRUN_EINPUT, "%s", rows + 3);
    if (bad > 1)
        return err_set(err, CLRUN_EINPUT, "%s: %d of %d rows cannot be loaded (nothing was):%s",
                       l->table, bad, l->csv.rows, rows);
    return CLRUN_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int class_of(const Load *l, const char *name)
{
    const char **hit = bsearch(&name, l->classes, (size_t)l->n_classes, sizeof *l->classes,
                               by_name);
    return (int)(hit - l->classes);
}

/* The label column's distinct values, sorted, and each row's index among them. */
static int label_rows(Load *l, Err *err)
{
    int rows = l->csv.rows;
    if (!(l->classes = malloc((size_t)rows * sizeof *l->classes)))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    if (l->label_col < 0) {
        l->n_classes = 1;
        l->classes[0] = "";
        memset(l->labels, 0, (size_t)rows);
        return CLRUN_OK;
    }
    for (int r = 0; r < rows; r++)
        l->classes[r] = csv_cell(&l->csv, r, l->label_col);
    qsort(l->classes, (size_t)rows, sizeof *l->classes, by_name);
    for (int r = 0; r < rows; r++)
        if (!l->n_classes || strcmp(l->classes[l->n_classes - 1], l->classes[r]))
            l->classes[l->n_classes++] = l->classes[r];
    if (l->n_classes > TABLE_MAX_CLASSES)
        return err_set(err, CLRUN_EINPUT, "%s: column '%s' holds %d different values; at most "
                       "%d classes are supported", l->table, l->csv.names[l->label_col],
                       l->n_classes, TABLE_MAX_CLASSES);
    for (int r = 0; r < rows; r++)
        l->labels[r] = (unsigned char)class_of(l, csv_cell(&l->csv, r, l->label_col));
    return CLRUN_OK;
}

static int read_table(Load *l, const TableOptions *topt, Err *err)
{
    int rc = csv_read(&l->csv, l->table, err);
    if (!rc) rc = find_column(l, topt->path_column, &l->path_col, err);
    l->label_col = -1;
    if (!rc && topt->label_column)
        rc = find_column(l, topt->label_column, &l->label_col, err);
    if (!rc && l->csv.rows == 0)
        rc = err_set(err, CLRUN_EINPUT, "%s: no rows under the header on line %d", l->table,
                     l->csv.header_line);
    if (rc)
        return rc;
    l->paths = calloc((size_t)l->csv.rows, sizeof *l->paths);
    l->rows = l->csv.rows;
    l->labels = malloc((size_t)l->csv.rows);
    if (!l->paths || !l->labels)
        return err_set(err, CLRUN_ERUNTIME, "out of memory for a table of %d rows", l->csv.rows);
    return CLRUN_OK;
}

/* Hands the table over to ds (the class names are copied out of it by now). */
static int keep_table(Dataset *ds, Load *l, Err *err)
{
    if (!(ds->table = malloc(sizeof *ds->table)))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    *ds->table = l->csv;
    memset(&l->csv, 0, sizeof l->csv);
    return CLRUN_OK;
}

int table_load(Dataset *ds, const char *table, const TableOptions *topt, const ImageOptions *opt,
               Err *err)
{
    memset(ds, 0, sizeof *ds);
    Load l = {.table = table};
    int failed = -1;
    int rc = read_table(&l, topt, err);
    if (!rc) rc = check_rows(&l, err);
    if (!rc) rc = label_rows(&l, err);
    if (!rc)
        rc = images_load_list(ds, (const char *const *)l.paths, l.labels, l.csv.rows, opt, table,
                              &failed, err);
    if (rc && failed >= 0)
        err_prefix(err, rc, "%s:%d", table, l.csv.lines[failed]);
    if (!rc) {
        ds->classes = l.n_classes;
        if (l.label_col >= 0)
            rc = dataset_set_class_names(ds, l.classes, l.n_classes, err);
    }
    if (!rc) rc = keep_table(ds, &l, err);
    load_free(&l);
    if (rc)
        dataset_free(ds);
    return rc;
}

/* ---- the kept table ---- */

int dataset_column(const Dataset *ds, const char *name)
{
    return ds->table ? csv_column(ds->table, name) : -1;
}

const char *dataset_value(const Dataset *ds, int i, int c)
{
    return csv_cell(ds->table, i, c);
}

int dataset_line(const Dataset *ds, int i)
{
    return ds->table && i < ds->table->rows ? ds->table->lines[i] : 0;
}

void dataset_columns(const Dataset *ds, char *out, size_t size)
{
    if (ds->table)
        csv_names(ds->table, out, size);
    else if (size)
        out[0] = '\0';
}
