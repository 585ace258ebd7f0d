/* compare.h: `clrun compare`: several runs' histories overlaid in one figure
 * (the Keras assignment's Q9 and Q16 compare models so), named in its legend
 * by the settings in which their config.yaml differ, else by their folders. */
#ifndef CLRUN_COMPARE_H
#define CLRUN_COMPARE_H

#include "err.h"

enum { COMPARE_MAX_RUNS = 16, COMPARE_MAX_METRICS = 3 };

/* Draws `metrics` (a comma-separated list of history.csv columns, at most
 * COMPARE_MAX_METRICS; NULL: test_loss,test_accuracy), a panel each, with a
 * line per run of runs[0..n), into out (NULL: compare.png beside the first
 * run's folder). A run without history.csv, or a metric no run records, is
 * an input error naming it. */
int compare_runs(const char *const *runs, int n, const char *metrics, const char *out, Err *err);

#endif
