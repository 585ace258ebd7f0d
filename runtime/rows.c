/* rows.c: the row table beside `clrun features`' arrays (see rows.h). */
#include "rows.h"

#include <stdio.h>

#include "io/csv.h"
#include "io/file.h"

/* One example's class as the table names it: its name in ds, else its number. */
static void label_field(Csv *c, const Dataset *ds, int i)
{
    int label = ds->labels ? ds->labels[i] : 0;
    if (ds->class_names)
        csv_text(c, ds->class_names[label]);
    else
        csv_textf(c, "%d", label);
}

/* Whether a set has classes worth a column: more than one, or named. */
static int has_labels(const Dataset *ds)
{
    return ds->classes > 1 || (ds->class_names && ds->class_names[0][0]);
}

/* A table's header and its rows [first, first + n) into c. */
static int copy_rows(Csv *c, const CsvTable *t, int first, int n, Err *err)
{
    for (int k = 0; k < t->cols; k++)
        csv_text(c, t->names[k]);
    int rc = csv_end_row(c, err);
    for (int r = first; !rc && r < first + n; r++) {
        for (int k = 0; k < t->cols; k++)
            csv_text(c, csv_cell(t, r, k));
        rc = csv_end_row(c, err);
    }
    return rc;
}

int rows_copy_table(const char *out, const char *table, int first, int n, Err *err)
{
    CsvTable t;
    FileAtomic f = {0};
    Csv c;
    int rc = csv_read(&t, table, err);
    if (!rc && t.rows < first + n)
        rc = err_set(err, CLRUN_EINPUT, "%s: %d rows, but %d images were read from it (was it "
                     "changed meanwhile?)", table, t.rows, first + n);
    if (!rc) rc = file_atomic_open(&f, out, err);
    if (!rc) {
        csv_over(&c, f.fp, out);
        rc = copy_rows(&c, &t, first, n, err);
    }
    if (!rc)
        rc = file_atomic_commit(&f, err);
    file_atomic_abort(&f);
    csv_free(&t);
    return rc;
}

/* The rows of examples [first, first + n): the file (when paths is given)
 * or the index, then the label (when the set has labels). */
static int write_examples(const char *out, char *const *paths, const Dataset *ds, int first, int n,
                          Err *err)
{
    FileAtomic f;
    Csv c;
    int labels = has_labels(ds), rc = file_atomic_open(&f, out, err);
    if (rc)
        return rc;
    csv_over(&c, f.fp, out);
    csv_text(&c, paths ? "path" : "index");
    if (labels)
        csv_text(&c, "label");
    rc = csv_end_row(&c, err);
    for (int i = first; !rc && i < first + n; i++) {
        if (paths)
            csv_text(&c, paths[i]);
        else
            csv_textf(&c, "%d", i);
        if (labels)
            label_field(&c, ds, i);
        rc = csv_end_row(&c, err);
    }
    if (!rc)
        return file_atomic_commit(&f, err);
    file_atomic_abort(&f);
    return rc;
}

int rows_write_files(const char *out, char *const *paths, const Dataset *ds, int first, int n,
                     Err *err)
{
    return write_examples(out, paths, ds, first, n, err);
}

int rows_write_index(const char *out, const Dataset *ds, int first, int n, Err *err)
{
    return write_examples(out, NULL, ds, first, n, err);
}
