/* stats.h: the numbers behind clrun's analyses (similarity of representations,
 * RDMs, linear read-outs), in double precision.
 *
 * Memory: every output goes into a buffer the caller provides and owns. Some
 * functions need scratch space (noted below); they allocate it themselves and
 * free it before returning, so nothing is ever left for the caller to free. */
#ifndef CLRUN_STATS_H
#define CLRUN_STATS_H

#include <stddef.h>

#include "err.h"

/* a.b / (|a| |b|), or 0 when either norm is 0. */
double stats_cosine(const double *a, const double *b, size_t n);

/* Pearson's correlation, or NaN when either variance is 0 (n < 2 included). */
double stats_pearson(const double *a, const double *b, size_t n);

/* 1-based ranks of x into ranks (n values), tied values sharing their average
 * rank; NaNs rank last, tied with each other. Scratch: n indices (should that
 * allocation fail it counts in O(n^2) instead, so it never fails). */
void stats_rank(const double *x, size_t n, double *ranks);

/* Spearman's correlation: Pearson of the ranks. NaN when either side is
 * constant, or when its scratch (2n doubles) cannot be allocated. */
double stats_spearman(const double *a, const double *b, size_t n);

/* The median of n values, sorting them in place (NaNs sort last); NaN when n is 0. */
double stats_median(double *x, size_t n);

/* The median of the finite values among x[0..n) (NaN when there are none),
 * reordering x; *left_out (may be NULL) gets the count of the others, such
 * as the undefined correlations of constant units. */
double stats_median_finite(double *x, size_t n, size_t *left_out);

/* Scales x in place to [0, 1]; all-equal input becomes all 0. */
void stats_minmax(double *x, size_t n);

/* The representational dissimilarity matrix of items rows of dims features
 * (row-major): rdm[i * items + j] = 1 - pearson(row i, row j), symmetric with
 * exact zeros on the diagonal; a pair with a constant row gets NaN. rdm holds
 * items * items doubles. Scratch: 2 * items doubles. Returns CLRUN_EINPUT for
 * items or dims below 1, CLRUN_ERUNTIME when out of memory. */
int stats_rdm(const double *features, int items, int dims, double *rdm);

/* Spearman of the upper triangles (i < j) of two items x items matrices; the
 * diagonal and lower triangle are ignored. Scratch: 4 doubles per pair. NaN
 * as for stats_spearman. */
double stats_rdm_spearman(const double *a, const double *b, int items);

/* Ridge regression with an intercept: X is n x p, Y is n x q (row-major).
 * Centres X and Y, solves (Xc'Xc + lambda I) W = Xc'Yc by Cholesky, and sets
 * b = mean(Y) - mean(X) W, so Y ~ X W + b. W is p x q, b is q (caller's).
 * With more units than items (p > n) and lambda > 0 it solves the same W in
 * its dual form, W = Xc'(Xc Xc' + lambda I)^-1 Yc, an n x n system: a conv
 * layer's 5,760 units on 1,600 items in seconds rather than minutes.
 * Scratch: p * p + p + q doubles (dual: n * (n + p + q) + p + q). CLRUN_EINPUT for bad sizes or a negative
 * lambda, CLRUN_ERUNTIME when the system is not positive definite (lambda 0
 * with collinear columns) or memory runs out. */
int stats_ridge(const double *X, const double *Y, int n, int p, int q, double lambda, double *W,
                double *b, Err *err);

/* pred (n x q) = the rows rows[0..n) of X (p columns) times W (p x q),
 * plus b: the predictions of a fit from stats_ridge or stats_pls, W's rows
 * four at a time so that each prediction is loaded and stored once for four. */
void stats_predict(const double *X, const int *rows, int n, int p, int q, const double *W,
                   const double *b, double *pred);

/* PLS2 regression (partial least squares, by SIMPLS) with an intercept: X is
 * n x p, Y is n x q (row-major), both centred but not scaled (scikit-learn's
 * PLSRegression(scale=False)). Each of `components` directions in X is the one
 * whose scores covary most with Y, their scores uncorrelated with those before;
 * Y is regressed on the scores and the result returned as W (p x q) and b (q),
 * Y ~ X W + b, like stats_ridge. components runs from 1 to min(p, n - 1); with
 * p of them on full-rank X the fit is least squares. Fewer are made when Xc'Yc
 * is used up first (the largest singular value of what is left below 1e-10 of
 * the first's, as when X has rank below components): W is 0 and b mean(Y) when
 * Xc'Yc is 0 from the start. Scratch: p * q + q * q + components * (2p + q) + p + 3q
 * + n doubles. CLRUN_EINPUT for bad sizes, CLRUN_ERUNTIME when memory runs
 * out. */
int stats_pls(const double *X, const double *Y, int n, int p, int q, int components, double *W,
              double *b, Err *err);

#endif
