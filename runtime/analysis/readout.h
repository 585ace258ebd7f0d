/* readout.h: the linear readout's fitting (readout.c), apart from the
 * network: features and targets in, each split's score out. The analysis
 * `readout` runs it on a trained layer's features; bench/readout_bench.c
 * times it on synthetic data of the course's size. */
#ifndef CLRUN_READOUT_H
#define CLRUN_READOUT_H

#include <stddef.h>

#include "err.h"

typedef struct {
    long splits, seed, components; /* components: PLS's */
    double train_fraction, lambda; /* lambda: ridge's */
    int pls;                       /* PLS regression, else ridge */
} ReadoutFit;

/* X: n items x p units, Y: n x q targets (row-major). For each of o->splits
 * seeded random splits (the same for every X of n items), fits on
 * train_fraction of the items and scores the rest: the median over target
 * units of the Pearson r between prediction and target, into scores[s].
 * *undefined: the most units of any split left out of its median (r
 * undefined: constant on the held-out items). The splits are fitted on a
 * thread a processor; their orders are drawn before, so the scores are the
 * same bits however many threads there are. */
int readout_score(const ReadoutFit *o, const double *X, int n, int p, const double *Y, int q,
                  double *scores, size_t *undefined, Err *err);

#endif
