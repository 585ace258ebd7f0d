/* stats.c: similarity measures, ranks, RDMs and ridge regression (see
 * stats.h). Everything runs in double precision with two-pass (centred) sums,
 * and scratch space is freed before each function returns. */
#include "analysis/stats.h"

#include <math.h>
#include <stdlib.h>

/* ---- basic measures ------------------------------------------------------- */

static double mean(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i];
    return n ? s / (double)n : 0;
}

static double clamp1(double r)
{
    return r > 1 ? 1 : r < -1 ? -1 : r;
}

double stats_cosine(const double *a, const double *b, size_t n)
{
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        ab += a[i] * b[i];
        aa += a[i] * a[i];
        bb += b[i] * b[i];
    }
    if (aa == 0 || bb == 0)
        return 0;
    return clamp1(ab / (sqrt(aa) * sqrt(bb)));
}

double stats_pearson(const double *a, const double *b, size_t n)
{
    double ma = mean(a, n), mb = mean(b, n);
    double ab = 0, aa = 0, bb = 0;
    for (size_t i = 0; i < n; i++) {
        double da = a[i] - ma, db = b[i] - mb;
        ab += da * db;
        aa += da * da;
        bb += db * db;
    }
    if (aa == 0 || bb == 0)
        return NAN;
    return clamp1(ab / (sqrt(aa) * sqrt(bb)));
}

/* ---- ranks ---------------------------------------------------------------- */

/* Orders numbers ascending with NaNs last and equal to each other. */
static int cmp_values(double u, double v)
{
    if (isnan(u))
        return isnan(v) ? 0 : 1;
    if (isnan(v))
        return -1;
    return (u > v) - (u < v);
}

static int cmp_index(const void *pa, const void *pb, void *ctx)
{
    const double *x = ctx;
    return cmp_values(x[*(const size_t *)pa], x[*(const size_t *)pb]);
}

/* Without scratch: each rank counts the smaller and equal values. */
static void rank_by_counting(const double *x, size_t n, double *ranks)
{
    for (size_t i = 0; i < n; i++) {
        size_t less = 0, equal = 0;
        for (size_t j = 0; j < n; j++) {
            int c = cmp_values(x[j], x[i]);
            less += c < 0;
            equal += c == 0;
        }
        ranks[i] = (double)less + (double)(equal + 1) / 2;
    }
}

void stats_rank(const double *x, size_t n, double *ranks)
{
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    if (!idx) {
        rank_by_counting(x, n, ranks);
        return;
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    qsort_r(idx, n, sizeof *idx, cmp_index, (void *)x);
    for (size_t k = 0; k < n;) {
        size_t m = k + 1;
        while (m < n && cmp_values(x[idx[m]], x[idx[k]]) == 0)
            m++;
        double avg = (double)(k + 1 + m) / 2; /* mean of the ranks k+1 .. m */
        for (size_t t = k; t < m; t++)
            ranks[idx[t]] = avg;
        k = m;
    }
    free(idx);
}

double stats_spearman(const double *a, const double *b, size_t n)
{
    double *ra = malloc((n ? 2 * n : 1) * sizeof *ra);
    if (!ra)
        return NAN;
    double *rb = ra + n;
    stats_rank(a, n, ra);
    stats_rank(b, n, rb);
    double r = stats_pearson(ra, rb, n);
    free(ra);
    return r;
}

static int cmp_doubles(const void *pa, const void *pb)
{
    return cmp_values(*(const double *)pa, *(const double *)pb);
}

double stats_median(double *x, size_t n)
{
    if (!n)
        return NAN;
    qsort(x, n, sizeof *x, cmp_doubles);
    return n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
}

void stats_minmax(double *x, size_t n)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    double range = hi - lo;
    for (size_t i = 0; i < n; i++)
        x[i] = range > 0 && isfinite(range) ? (x[i] - lo) / range : 0;
}

/* ---- RDMs ----------------------------------------------------------------- */

int stats_rdm(const double *features, int items, int dims, double *rdm)
{
    if (items < 1 || dims < 1)
        return CLRUN_EINPUT;
    size_t ni = (size_t)items, nd = (size_t)dims;
    double *mu = malloc(2 * ni * sizeof *mu);
    if (!mu)
        return CLRUN_ERUNTIME;
    double *norm = mu + ni;
    for (size_t i = 0; i < ni; i++) {
        const double *f = features + i * nd;
        mu[i] = mean(f, nd);
        double ss = 0;
        for (size_t d = 0; d < nd; d++)
            ss += (f[d] - mu[i]) * (f[d] - mu[i]);
        norm[i] = sqrt(ss);
    }
    for (size_t i = 0; i < ni; i++) {
        rdm[i * ni + i] = 0;
        const double *fi = features + i * nd;
        for (size_t j = i + 1; j < ni; j++) {
            const double *fj = features + j * nd;
            double s = 0;
            for (size_t d = 0; d < nd; d++)
                s += (fi[d] - mu[i]) * (fj[d] - mu[j]);
            double r = norm[i] > 0 && norm[j] > 0 ? clamp1(s / (norm[i] * norm[j])) : NAN;
            rdm[i * ni + j] = rdm[j * ni + i] = 1 - r;
        }
    }
    free(mu);
    return CLRUN_OK;
}

double stats_rdm_spearman(const double *a, const double *b, int items)
{
    if (items < 2)
        return NAN;
    size_t ni = (size_t)items, m = ni * (ni - 1) / 2, k = 0;
    double *ta = malloc(2 * m * sizeof *ta);
    if (!ta)
        return NAN;
    double *tb = ta + m;
    for (size_t i = 0; i < ni; i++)
        for (size_t j = i + 1; j < ni; j++, k++) {
            ta[k] = a[i * ni + j];
            tb[k] = b[i * ni + j];
        }
    double r = stats_spearman(ta, tb, m);
    free(ta);
    return r;
}

/* ---- ridge regression ----------------------------------------------------- */

/* A = Xc'Xc + lambda I (p x p) and W = Xc'Yc (p x q), Xc and Yc centred by mx, my. */
static void normal_equations(const double *X, const double *Y, size_t n, size_t p, size_t q,
                             double lambda, const double *mx, const double *my, double *A,
                             double *W)
{
    for (size_t k = 0; k < p * p; k++)
        A[k] = 0;
    for (size_t k = 0; k < p * q; k++)
        W[k] = 0;
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * p, *y = Y + i * q;
        for (size_t j = 0; j < p; j++) {
            double xj = x[j] - mx[j];
            for (size_t k = j; k < p; k++)
                A[j * p + k] += xj * (x[k] - mx[k]);
            for (size_t c = 0; c < q; c++)
                W[j * q + c] += xj * (y[c] - my[c]);
        }
    }
    for (size_t j = 0; j < p; j++) {
        A[j * p + j] += lambda;
        for (size_t k = 0; k < j; k++)
            A[j * p + k] = A[k * p + j];
    }
}

/* Overwrites the lower triangle of A with L, A = L L'; -1 when A is not
 * (numerically) positive definite. */
static int cholesky(double *A, size_t p)
{
    double scale = 0;
    for (size_t j = 0; j < p; j++)
        scale = A[j * p + j] > scale ? A[j * p + j] : scale;
    for (size_t j = 0; j < p; j++) {
        double d = A[j * p + j];
        for (size_t k = 0; k < j; k++)
            d -= A[j * p + k] * A[j * p + k];
        if (!(d > 1e-12 * scale))
            return -1;
        double l = sqrt(d);
        A[j * p + j] = l;
        for (size_t i = j + 1; i < p; i++) {
            double s = A[i * p + j];
            for (size_t k = 0; k < j; k++)
                s -= A[i * p + k] * A[j * p + k];
            A[i * p + j] = s / l;
        }
    }
    return 0;
}

/* Solves L L' w = w for each of the q columns of W in place. */
static void cholesky_solve(const double *L, size_t p, double *W, size_t q)
{
    for (size_t c = 0; c < q; c++) {
        for (size_t i = 0; i < p; i++) {
            double s = W[i * q + c];
            for (size_t k = 0; k < i; k++)
                s -= L[i * p + k] * W[k * q + c];
            W[i * q + c] = s / L[i * p + i];
        }
        for (size_t i = p; i-- > 0;) {
            double s = W[i * q + c];
            for (size_t k = i + 1; k < p; k++)
                s -= L[k * p + i] * W[k * q + c];
            W[i * q + c] = s / L[i * p + i];
        }
    }
}

static void column_means(const double *M, size_t n, size_t cols, double *mu)
{
    for (size_t c = 0; c < cols; c++)
        mu[c] = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < cols; c++)
            mu[c] += M[i * cols + c];
    for (size_t c = 0; c < cols; c++)
        mu[c] /= (double)n;
}

int stats_ridge(const double *X, const double *Y, int n, int p, int q, double lambda, double *W,
                double *b, Err *err)
{
    if (n < 1 || p < 1 || q < 1)
        return err_set(err, CLRUN_EINPUT, "ridge: bad sizes n=%d p=%d q=%d", n, p, q);
    if (!(lambda >= 0) || !isfinite(lambda))
        return err_set(err, CLRUN_EINPUT, "ridge: lambda %g must be finite and >= 0", lambda);
    size_t np = (size_t)p, nq = (size_t)q;
    double *A = malloc((np * np + np + nq) * sizeof *A);
    if (!A)
        return err_set(err, CLRUN_ERUNTIME, "ridge: out of memory for p=%d", p);
    double *mx = A + np * np, *my = mx + np;
    column_means(X, (size_t)n, np, mx);
    column_means(Y, (size_t)n, nq, my);
    normal_equations(X, Y, (size_t)n, np, nq, lambda, mx, my, A, W);
    int rc = CLRUN_OK;
    if (cholesky(A, np) != 0)
        rc = err_set(err, CLRUN_ERUNTIME,
                     "ridge: X'X + lambda I is not positive definite (lambda %g; "
                     "collinear or constant features need lambda > 0)",
                     lambda);
    else {
        cholesky_solve(A, np, W, nq);
        for (size_t c = 0; c < nq; c++) {
            b[c] = my[c];
            for (size_t j = 0; j < np; j++)
                b[c] -= mx[j] * W[j * nq + c];
        }
    }
    free(A);
    return rc;
}
