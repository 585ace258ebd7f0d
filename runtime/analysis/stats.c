/* stats.c: similarity measures, ranks, RDMs, ridge and PLS regression (see
 * stats.h). Everything runs in double precision with two-pass (centred) sums,
 * and scratch space is freed before each function returns. */
#include "analysis/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Two doubles at once (GCC's and clang's vector extension): the build's
 * -O2 does not vectorise loops, and the products below are most of a PLS
 * fit's time. Loaded and stored through memcpy: no alignment is assumed. */
typedef double Pair __attribute__((vector_size(2 * sizeof(double))));

/* y += a x (n values), a pair at a time. */
static void add_scaled(double *restrict y, double a, const double *restrict x, size_t n)
{
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        Pair v, w;
        memcpy(&v, y + i, sizeof v), memcpy(&w, x + i, sizeof w);
        v += a * w;
        memcpy(y + i, &v, sizeof v);
    }
    for (; i < n; i++)
        y[i] += a * x[i];
}

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

double stats_median_finite(double *x, size_t n, size_t *left_out)
{
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i])) {
            double v = x[i];
            x[i] = x[kept];
            x[kept++] = v;
        }
    if (left_out)
        *left_out = n - kept;
    return stats_median(x, kept);
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

/* ---- ridge regression (cross products and intercepts shared with PLS) ----- */

/* S = Xc'Yc (p x q), Xc and Yc centred by mx and my. */
/* y += a[0] x0 + a[1] x1 + a[2] x2 + a[3] x3 (n values): four items' rows at
 * once, so that each value of y is loaded and stored once for four products
 * rather than once for each. */
static void add_scaled4(double *restrict y, const double *a, const double *const *x, size_t n)
{
    const double *restrict x0 = x[0], *restrict x1 = x[1], *restrict x2 = x[2];
    const double *restrict x3 = x[3];
    double a0 = a[0], a1 = a[1], a2 = a[2], a3 = a[3];
    size_t i = 0;
    for (; i + 2 <= n; i += 2) {
        Pair v, w0, w1, w2, w3;
        memcpy(&v, y + i, sizeof v);
        memcpy(&w0, x0 + i, sizeof v), memcpy(&w1, x1 + i, sizeof v);
        memcpy(&w2, x2 + i, sizeof v), memcpy(&w3, x3 + i, sizeof v);
        v += a0 * w0 + a1 * w1 + a2 * w2 + a3 * w3;
        memcpy(y + i, &v, sizeof v);
    }
    for (; i < n; i++)
        y[i] += a0 * x0[i] + a1 * x1[i] + a2 * x2[i] + a3 * x3[i];
}

static void cross_products(const double *X, const double *Y, size_t n, size_t p, size_t q,
                           const double *mx, const double *my, double *S)
{
    /* Xc'Yc = Xc'Y, Xc's columns summing to 0, so Y is used as it is. S
     * goes in blocks of rows that stay in cache while the items pass, four
     * at a time: the readout's 1,250 x 200 S (2 MB) would otherwise go to
     * memory and back once an item, the larger part of a PLS fit's time. */
    enum { ROWS = 16 };
    (void)my;
    for (size_t k = 0; k < p * q; k++)
        S[k] = 0;
    for (size_t j0 = 0; j0 < p; j0 += ROWS)
        for (size_t i = 0; i < n; i += 4) {
            const double *y[4];
            size_t m = n - i < 4 ? n - i : 4; /* items in this step; the others weigh 0 */
            for (size_t k = 0; k < 4; k++)
                y[k] = Y + (i + (k < m ? k : 0)) * q;
            for (size_t j = j0; j < j0 + ROWS && j < p; j++) {
                double a[4];
                for (size_t k = 0; k < 4; k++)
                    a[k] = k < m ? X[(i + k) * p + j] - mx[j] : 0;
                add_scaled4(S + j * q, a, y, q);
            }
        }
}

void stats_predict(const double *X, const int *rows, int n, int p, int q, const double *W,
                   const double *b, double *pred)
{
    for (int i = 0; i < n; i++) {
        const double *x = X + (size_t)rows[i] * p;
        double *y = pred + (size_t)i * q;
        memcpy(y, b, (size_t)q * sizeof *y);
        int k = 0;
        for (; k + 4 <= p; k += 4) {
            const double *w[4] = {W + (size_t)k * q, W + (size_t)(k + 1) * q,
                                  W + (size_t)(k + 2) * q, W + (size_t)(k + 3) * q};
            add_scaled4(y, x + k, w, (size_t)q);
        }
        for (; k < p; k++) {
            const double a[4] = {x[k], 0, 0, 0}, *w[4] = {W + (size_t)k * q, W, W, W};
            add_scaled4(y, a, w, (size_t)q);
        }
    }
}

/* A = Xc'Xc + lambda I (p x p) and W = Xc'Yc (p x q), Xc and Yc centred by mx, my. */
static void normal_equations(const double *X, const double *Y, size_t n, size_t p, size_t q,
                             double lambda, const double *mx, const double *my, double *A,
                             double *W)
{
    for (size_t k = 0; k < p * p; k++)
        A[k] = 0;
    for (size_t i = 0; i < n; i++) {
        const double *x = X + i * p;
        for (size_t j = 0; j < p; j++) {
            double xj = x[j] - mx[j];
            for (size_t k = j; k < p; k++)
                A[j * p + k] += xj * (x[k] - mx[k]);
        }
    }
    cross_products(X, Y, n, p, q, mx, my, W);
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

/* b = my - mx W: the fit goes through the means. */
static void intercepts(const double *mx, const double *my, const double *W, size_t p, size_t q,
                       double *b)
{
    for (size_t c = 0; c < q; c++) {
        b[c] = my[c];
        for (size_t j = 0; j < p; j++)
            b[c] -= mx[j] * W[j * q + c];
    }
}

/* The dual of ridge for p > n: with Xc, Yc centred, K = Xc Xc' + lambda I
 * (n x n), A = K^-1 Yc and W = Xc' A. The same W as the primal (the
 * push-through identity), at O(n^2 p) instead of O(p^2 n + p^3). */
static int ridge_dual(const double *X, const double *Y, size_t n, size_t p, size_t q,
                      double lambda, double *W, double *b, Err *err)
{
    double *Xc = malloc((n * p + n * n + n * q + p + q) * sizeof *Xc);
    if (!Xc)
        return err_set(err, CLRUN_ERUNTIME, "ridge: out of memory for n=%zu p=%zu", n, p);
    double *K = Xc + n * p, *A = K + n * n, *mx = A + n * q, *my = mx + p;
    column_means(X, n, p, mx);
    column_means(Y, n, q, my);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < p; j++)
            Xc[i * p + j] = X[i * p + j] - mx[j];
        for (size_t c = 0; c < q; c++)
            A[i * q + c] = Y[i * q + c] - my[c];
    }
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k <= i; k++) {
            double s = 0;
            for (size_t j = 0; j < p; j++)
                s += Xc[i * p + j] * Xc[k * p + j];
            K[i * n + k] = K[k * n + i] = s + (i == k ? lambda : 0);
        }
    int rc = CLRUN_OK;
    if (cholesky(K, n) != 0)
        rc = err_set(err, CLRUN_ERUNTIME, "ridge: Xc Xc' + lambda I is not positive definite "
                     "(lambda %g)", lambda);
    else {
        cholesky_solve(K, n, A, q);
        for (size_t j = 0; j < p * q; j++)
            W[j] = 0;
        for (size_t i = 0; i < n; i++)
            for (size_t j = 0; j < p; j++)
                for (size_t c = 0; c < q; c++)
                    W[j * q + c] += Xc[i * p + j] * A[i * q + c];
        intercepts(mx, my, W, p, q, b);
    }
    free(Xc);
    return rc;
}

int stats_ridge(const double *X, const double *Y, int n, int p, int q, double lambda, double *W,
                double *b, Err *err)
{
    if (n < 1 || p < 1 || q < 1)
        return err_set(err, CLRUN_EINPUT, "ridge: bad sizes n=%d p=%d q=%d", n, p, q);
    if (!(lambda >= 0) || !isfinite(lambda))
        return err_set(err, CLRUN_EINPUT, "ridge: lambda %g must be finite and >= 0", lambda);
    if (p > n && lambda > 0) /* centred, Xc'Xc is singular anyway: lambda > 0 is needed */
        return ridge_dual(X, Y, (size_t)n, (size_t)p, (size_t)q, lambda, W, b, err);
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
        intercepts(mx, my, W, np, nq, b);
    }
    free(A);
    return rc;
}

/* ---- PLS regression ------------------------------------------------------- */

/* SIMPLS (de Jong 1993) rather than NIPALS: it deflates the p x q cross-product
 * S = Xc'Yc instead of X itself, so the n x p data are never copied (the
 * readout's are items x 1250) and each component costs a power iteration on S
 * plus two passes over X, where NIPALS iterates over X and Y for each one.
 * With one target both give the same model (scikit-learn's); with several they
 * deflate differently after the first component, so coefficients differ
 * somewhat while predictions stay close. */

#define PLS_ITERATIONS 500  /* power iterations per component, scikit-learn's max_iter */
#define PLS_CONVERGED 1e-12 /* change in the unit direction that ends them */
#define PLS_EXHAUSTED 1e-10 /* S left, relative to the first component: rounding noise */
#define PLS_REFRESH 1e-6    /* M = S'S recomputed when its trace falls this far */

static double norm2(const double *x, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += x[i] * x[i];
    return sqrt(s);
}

/* a.b in four running sums (two pairs), which the processor keeps going at
 * once (one sum waits for each addition before the next); the readout's
 * fits spend much of their time in these. */
static double dot(const double *a, const double *b, size_t n)
{
    Pair s0 = {0, 0}, s1 = {0, 0};
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        Pair a0, a1, b0, b1;
        memcpy(&a0, a + i, sizeof a0), memcpy(&a1, a + i + 2, sizeof a1);
        memcpy(&b0, b + i, sizeof b0), memcpy(&b1, b + i + 2, sizeof b1);
        s0 += a0 * b0;
        s1 += a1 * b1;
    }
    double s = (s0[0] + s1[0]) + (s0[1] + s1[1]);
    for (; i < n; i++)
        s += a[i] * b[i];
    return s;
}

/* r = S c for the p x q S. */
static void times(const double *S, size_t p, size_t q, const double *c, double *r)
{
    for (size_t j = 0; j < p; j++)
        r[j] = dot(S + j * q, c, q);
}

/* c = S' r for the p x q S (c apart from S and r, so that the compiler
 * vectorises the row updates). */
static void times_transposed(const double *S, size_t p, size_t q, const double *r,
                             double *restrict c)
{
    for (size_t u = 0; u < q; u++)
        c[u] = 0;
    for (size_t j = 0; j < p; j++)
        add_scaled(c, r[j], S + j * q, q);
}

/* M = S'S (q x q) for the p x q S. */
static void gram(const double *S, size_t p, size_t q, double *M)
{
    for (size_t k = 0; k < q * q; k++)
        M[k] = 0;
    for (size_t j = 0; j < p; j++)
        for (size_t u = 0; u < q; u++)
            add_scaled(M + u * q, S[j * q + u], S + j * q, q);
}

static double trace(const double *M, size_t q)
{
    double t = 0;
    for (size_t u = 0; u < q; u++)
        t += M[u * q + u];
    return t;
}

/* The unit c maximising |S c| (S's dominant right singular vector) by power
 * iteration on M = S'S, from S's longest column; sets r = S c and returns
 * |r|, 0 when S is 0. M is q x q where S is p x q (the readout's 200 x 200
 * beside 1,250 x 200), so an iteration costs q^2 rather than 2pq, and
 * hundreds of them no longer outweigh the fit. Two nearly equal singular
 * values can leave the iteration unfinished at PLS_ITERATIONS; either
 * direction then covaries about as much, and since r stays in S's column
 * space the component is still orthogonal to the earlier ones. next is q
 * scratch. */
static double dominant_direction(const double *S, const double *M, size_t p, size_t q,
                                 double *c, double *next, double *r)
{
    size_t best = 0;
    for (size_t u = 1; u < q; u++)
        best = M[u * q + u] > M[best * q + best] ? u : best;
    double longest = M[best * q + best];
    for (size_t u = 0; u < q; u++)
        c[u] = u == best;
    for (int it = 0; longest > 0 && it < PLS_ITERATIONS; it++) {
        times_transposed(M, q, q, c, next); /* M c, M being symmetric: by rows, vectorised */
        double len = norm2(next, q), change = 0;
        if (!(len > 0))
            break; /* underflow or NaN: keep the last direction */
        for (size_t u = 0; u < q; u++) {
            next[u] /= len;
            change += (next[u] - c[u]) * (next[u] - c[u]);
            c[u] = next[u];
        }
        if (change < PLS_CONVERGED * PLS_CONVERGED)
            break;
    }
    times(S, p, q, c, r);
    return norm2(r, p);
}

/* Scores t = Xc r (n); returns |t|. */
static double scores(const double *X, size_t n, size_t p, const double *mx, const double *r,
                     double *t)
{
    double shift = dot(mx, r, p);
    for (size_t i = 0; i < n; i++)
        t[i] = dot(X + i * p, r, p) - shift;
    return norm2(t, n);
}

/* Loadings v = Xc't (p) and y = Yc't (q) of the unit scores t. */
static void loadings(const double *X, const double *Y, size_t n, size_t p, size_t q,
                     const double *mx, const double *my, const double *t, double *restrict v,
                     double *restrict y)
{
    for (size_t j = 0; j < p; j++)
        v[j] = 0;
    for (size_t u = 0; u < q; u++)
        y[u] = 0;
    double sum = 0; /* Xc't = X't - mx (1't): the rows as they are, then the means */
    for (size_t i = 0; i < n; i++) {
        add_scaled(v, t[i], X + i * p, p);
        add_scaled(y, t[i], Y + i * q, q);
        sum += t[i];
    }
    add_scaled(v, -sum, mx, p);
    add_scaled(y, -sum, my, q);
}

/* Makes v a unit vector orthogonal to the k orthonormal p-vectors in V. Gram-
 * Schmidt twice, because once loses orthogonality as components pile up and
 * the deflation of S relies on it. */
static void orthonormalise(double *v, const double *V, int k, size_t p)
{
    for (int pass = 0; pass < 2; pass++)
        for (int a = 0; a < k; a++) {
            const double *e = V + (size_t)a * p;
            double d = 0;
            for (size_t j = 0; j < p; j++)
                d += e[j] * v[j];
            for (size_t j = 0; j < p; j++)
                v[j] -= d * e[j];
        }
    double len = norm2(v, p);
    for (size_t j = 0; j < p; j++)
        v[j] /= len;
}

/* S -= v (v'S): removes from S what the unit loading v accounts for, and
 * from M = S'S likewise, M -= (S'v)(S'v)' ((I - vv') is a projection). When
 * M's trace (|S|^2) falls below PLS_REFRESH of what it was when last
 * computed, M is computed from S again: the downdates' rounding, relative to
 * the M they started from, would otherwise steer the last directions. *kept
 * is that trace. vs is q scratch. */
static void deflate(double *S, double *M, size_t p, size_t q, const double *v, double *vs,
                    double *kept)
{
    times_transposed(S, p, q, v, vs);
    for (size_t j = 0; j < p; j++)
        add_scaled(S + j * q, -v[j], vs, q);
    for (size_t u = 0; u < q; u++)
        add_scaled(M + u * q, -vs[u], vs, q);
    if (trace(M, q) < PLS_REFRESH * *kept) {
        gram(S, p, q, M);
        *kept = trace(M, q);
    }
}

int stats_pls(const double *X, const double *Y, int n, int p, int q, int components, double *W,
              double *b, Err *err)
{
    if (n < 2 || p < 1 || q < 1)
        return err_set(err, CLRUN_EINPUT, "pls: bad sizes n=%d p=%d q=%d (n must be at least 2)",
                       n, p, q);
    int most = p < n - 1 ? p : n - 1;
    if (components < 1 || components > most)
        return err_set(err, CLRUN_EINPUT,
                       "pls: %d components; %d rows of %d columns allow 1 to %d", components, n,
                       p, most);
    size_t nn = (size_t)n, np = (size_t)p, nq = (size_t)q, nk = (size_t)components;
    double *S = malloc((np * nq + nq * nq + nk * (2 * np + nq) + np + 3 * nq + nn) * sizeof *S);
    if (!S)
        return err_set(err, CLRUN_ERUNTIME, "pls: out of memory for p=%d q=%d", p, q);
    /* R holds the weights that give each component's scores from Xc, V the
     * orthonormalised X loadings, Q the Y loadings; one row per component. */
    double *M = S + np * nq, *R = M + nq * nq, *V = R + nk * np, *Q = V + nk * np;
    double *mx = Q + nk * nq;
    double *my = mx + np, *c = my + nq, *next = c + nq, *t = next + nq;
    column_means(X, nn, np, mx);
    column_means(Y, nn, nq, my);
    cross_products(X, Y, nn, np, nq, mx, my, S);
    gram(S, np, nq, M);
    int k = 0;
    double first = 0, kept = trace(M, nq);
    for (; k < components; k++) {
        double *r = R + k * np, *v = V + k * np, *y = Q + k * nq;
        double sigma = dominant_direction(S, M, np, nq, c, next, r);
        first = k ? first : sigma;
        double len = sigma > PLS_EXHAUSTED * first ? scores(X, nn, np, mx, r, t) : 0;
        if (!(len > 0))
            break; /* Y's covariance with X used up: more would fit rounding noise */
        for (size_t j = 0; j < np; j++)
            r[j] /= len;
        for (size_t i = 0; i < nn; i++)
            t[i] /= len;
        loadings(X, Y, nn, np, nq, mx, my, t, v, y);
        orthonormalise(v, V, k, np);
        deflate(S, M, np, nq, v, next, &kept);
    }
    /* Y ~ T Q' with T = Xc R, so W = R Q' over the k components made. */
    for (size_t j = 0; j < np; j++)
        for (size_t u = 0; u < nq; u++) {
            W[j * nq + u] = 0;
            for (int a = 0; a < k; a++)
                W[j * nq + u] += R[a * np + j] * Q[a * nq + u];
        }
    intercepts(mx, my, W, np, nq, b);
    free(S);
    return CLRUN_OK;
}
