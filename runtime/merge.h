/* merge.h: the results of a sweep in one table and a few figures. `clrun
 * merge ROOT` reads ROOT/sweep.csv (the grid, written by `clrun sweep`) and
 * each point's ROOT/<i>/history.csv, config.yaml and SUCCESS, and writes
 * ROOT/results.csv (one row per point: index, every swept key, status, final
 * and best test and validation accuracy and loss, epochs, seconds, device),
 * ROOT/sweep_<key>.png (the metric against each key that takes more than one
 * value, one line per value of another such key, averaged over the rest) and,
 * when two keys vary, ROOT/sweep_heatmap.png. Points without SUCCESS are listed and kept in the
 * table as incomplete, never dropped. A point whose run records other swept
 * values than sweep.csv gives it (a grid edited after the run) is kept as
 * "other settings" without its numbers: never labelled with values it was not
 * trained with. */
#ifndef CLRUN_MERGE_H
#define CLRUN_MERGE_H

#include "err.h"

/* What one point's run directory says. Values a run does not have are NaN. */
typedef struct {
    int finished;  /* SUCCESS is there */
    int epochs;    /* rows of history.csv */
    double final_test_accuracy, best_test_accuracy, final_test_loss, best_test_loss;
    double final_val_accuracy, best_val_accuracy, final_val_loss, best_val_loss;
    double seconds; /* training and evaluation, summed over the epochs */
    char device[256];
    int started;   /* config.yaml is there */
    char point[1024]; /* the swept values it was trained with (config.yaml's run.sweep_point) */
    int other;     /* trained with other values than the grid's: its numbers are left out */
} PointResult;

void merge_read_point(const char *dir, PointResult *r);

/* metric: a column of results.csv (final_test_accuracy when NULL). Prints the
 * incomplete points; CLRUN_EINPUT when ROOT has no sweep.csv or the metric is
 * unknown. */
int merge_sweep(const char *root, const char *metric, Err *err);

#endif
