/* rows.h: the row table written beside `clrun features`' arrays: which image
 * each row of them is, so that Python can line the rows up with the course's
 * own table of images (objects, categories, variations) by position.
 *
 * Each writer takes the examples [first, first + n) of a set, in the order
 * they were fed to the model, and writes a CSV file (io/csv.h) whole or not
 * at all (io/file.h's FileAtomic). */
#ifndef CLRUN_ROWS_H
#define CLRUN_ROWS_H

#include "data/dataset.h"
#include "err.h"

/* A table of images (dataset: table, or --images TABLE): its header and the
 * table's rows [first, first + n), every column as it stands. A table now
 * shorter than that (edited since it was read) is CLRUN_EINPUT naming it. */
int rows_copy_table(const char *out, const char *table, int first, int n, Err *err);

/* Image files: `path,label`, each example's file (paths[i] for example i)
 * and its class in ds (its name, else its number); `path` alone when ds has
 * a single unnamed class (a folder of images without class folders). */
int rows_write_files(const char *out, char *const *paths, const Dataset *ds, int first, int n,
                     Err *err);

/* A set without files (MNIST, CIFAR-10, the Playground): `index,label`, the
 * example's index in its set and its class as rows_write_files writes it. */
int rows_write_index(const char *out, const Dataset *ds, int first, int n, Err *err);

#endif
