/* check_stats.c: tests for the analysis numbers (runtime/analysis/stats.c),
 * against values worked out by hand in the comments, ridge regression on
 * seeded synthetic linear data, and PLS regression against least squares, a
 * closed form and seeded latent-factor data. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "analysis/stats.h"
#include "rng.h"
#include "suites.h"
#include "testutil.h"

Suite *stats_suite(void);

#define TOL 1e-12

START_TEST(cosine)
{
    static const double a[] = {1, 2, 3}, b[] = {4, 5, 6}, z[] = {0, 0, 0};
    /* a.b = 32, |a|^2 = 14, |b|^2 = 77 */
    ck_assert_double_eq_tol(stats_cosine(a, b, 3), 32 / sqrt(14.0 * 77.0), TOL);
    ck_assert_double_eq_tol(stats_cosine(a, a, 3), 1, TOL);
    ck_assert_double_eq(stats_cosine(a, z, 3), 0);
}
END_TEST

START_TEST(pearson)
{
    static const double a[] = {1, 2, 3}, b[] = {1, 3, 2};
    /* deviations (-1, 0, 1) and (-1, 1, 0): covariance sum 1, squares 2 and 2 */
    ck_assert_double_eq_tol(stats_pearson(a, b, 3), 0.5, TOL);
    static const double up[] = {2, 4, 6, 8}, down[] = {7, 5, 3, 1}, flat[] = {3, 3, 3, 3};
    ck_assert_double_eq_tol(stats_pearson(up, up, 4), 1, TOL);
    ck_assert_double_eq_tol(stats_pearson(up, down, 4), -1, TOL);
    ck_assert(isnan(stats_pearson(up, flat, 4)));
    ck_assert(isnan(stats_pearson(up, up, 1)));
}
END_TEST

START_TEST(median)
{
    double odd[] = {5, 1, 3}, even[] = {4, 1, 3, 2}, nan[] = {NAN, 2, 1};
    ck_assert_double_eq(stats_median(odd, 3), 3);
    ck_assert_double_eq(stats_median(even, 4), 2.5);
    ck_assert_double_eq(stats_median(nan, 3), 2); /* NaN sorts last */
    ck_assert(isnan(stats_median(odd, 0)));
}
END_TEST

/* Undefined correlations (NaN) are left out of the median and counted. */
START_TEST(median_of_finite_values)
{
    double r[] = {NAN, 0.9, 0.1, NAN, 0.5, INFINITY}, none[] = {NAN, NAN};
    size_t left_out = 0;
    ck_assert_double_eq(stats_median_finite(r, 6, &left_out), 0.5);
    ck_assert_uint_eq(left_out, 3);
    ck_assert(isnan(stats_median_finite(none, 2, &left_out)));
    ck_assert_uint_eq(left_out, 2);
}
END_TEST

START_TEST(ranks)
{
    static const double x[] = {10, 20, 20, 30};
    double r[4];
    stats_rank(x, 4, r);
    ck_assert_double_eq(r[0], 1);
    ck_assert_double_eq(r[1], 2.5);
    ck_assert_double_eq(r[2], 2.5);
    ck_assert_double_eq(r[3], 4);
    static const double y[] = {5, NAN, -1, 5, 5};
    double s[5];
    stats_rank(y, 5, s);
    static const double want[] = {3, 5, 1, 3, 3};
    for (int i = 0; i < 5; i++)
        ck_assert_double_eq(s[i], want[i]);
}
END_TEST

START_TEST(spearman)
{
    /* ranks (1, 2.5, 2.5, 4) and (1, 3, 2, 4); deviations from 2.5:
     * (-1.5, 0, 0, 1.5) and (-1.5, 0.5, -0.5, 1.5): covariance sum 4.5, squares
     * 4.5 and 5, so r = 4.5 / sqrt(22.5) = sqrt(0.9). */
    static const double a[] = {1, 2, 2, 3}, b[] = {10, 30, 20, 40};
    ck_assert_double_eq_tol(stats_spearman(a, b, 4), sqrt(0.9), TOL);
    /* monotone but not linear */
    static const double c[] = {1, 2, 3, 4, 5}, d[] = {1, 8, 27, 64, 125};
    ck_assert_double_eq_tol(stats_spearman(c, d, 5), 1, TOL);
}
END_TEST

START_TEST(minmax)
{
    double x[] = {2, 4, 3, 6};
    stats_minmax(x, 4);
    ck_assert_double_eq(x[0], 0);
    ck_assert_double_eq(x[1], 0.5);
    ck_assert_double_eq(x[2], 0.25);
    ck_assert_double_eq(x[3], 1);
    double y[] = {7, 7, 7};
    stats_minmax(y, 3);
    for (int i = 0; i < 3; i++)
        ck_assert_double_eq(y[i], 0);
}
END_TEST

START_TEST(rdm)
{
    /* rows (1,2,3), (1,3,2), (3,2,1): r01 = 0.5, r02 = -1, r12 = -0.5 (each by
     * deviations from 2, as in the pearson test) */
    static const double f[] = {1, 2, 3, 1, 3, 2, 3, 2, 1};
    double m[9];
    ck_assert_int_eq(stats_rdm(f, 3, 3, m), CLRUN_OK);
    for (int i = 0; i < 3; i++) {
        ck_assert_double_eq(m[i * 3 + i], 0);
        for (int j = 0; j < 3; j++)
            ck_assert_double_eq(m[i * 3 + j], m[j * 3 + i]);
    }
    ck_assert_double_eq_tol(m[0 * 3 + 1], 0.5, TOL);
    ck_assert_double_eq_tol(m[0 * 3 + 2], 2, TOL);
    ck_assert_double_eq_tol(m[1 * 3 + 2], 1.5, TOL);
    ck_assert_int_eq(stats_rdm(f, 0, 3, m), CLRUN_EINPUT);
}
END_TEST

START_TEST(rdm_spearman)
{
    /* upper triangles (0.5, 2, 1.5) and (0.2, 0.3, 0.1): ranks (1, 3, 2) and
     * (2, 3, 1), deviations (-1, 1, 0) and (0, 1, -1): r = 1 / 2. The second
     * matrix's diagonal and lower triangle are junk that must be ignored. */
    static const double a[] = {0, 0.5, 2, 0.5, 0, 1.5, 2, 1.5, 0};
    static const double b[] = {9, 0.2, 0.3, -4, 9, 0.1, 100, -7, 9};
    ck_assert_double_eq_tol(stats_rdm_spearman(a, b, 3), 0.5, TOL);
    ck_assert_double_eq_tol(stats_rdm_spearman(a, a, 3), 1, TOL);
}
END_TEST

static uint64_t rng_state;

static double uniform(double lo, double hi)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return lo + (hi - lo) * (double)(z >> 11) / 9007199254740992.0;
}

enum { RN = 200, RP = 10, RQ = 3 };

static const double bt[RQ] = {0.5, -1, 2};

/* Y = X Wt + bt + noise in +-0.05, with X and Wt uniform in [-1, 1], seeded. */
static void linear_data(double *X, double *Y, double *Wt)
{
    rng_state = 42;
    for (int k = 0; k < RP * RQ; k++)
        Wt[k] = uniform(-1, 1);
    for (int k = 0; k < RN * RP; k++)
        X[k] = uniform(-1, 1);
    for (int i = 0; i < RN; i++)
        for (int c = 0; c < RQ; c++) {
            double s = bt[c] + uniform(-0.05, 0.05);
            for (int j = 0; j < RP; j++)
                s += X[i * RP + j] * Wt[j * RQ + c];
            Y[i * RQ + c] = s;
        }
}

START_TEST(ridge)
{
    static double X[RN * RP], Y[RN * RQ], Wt[RP * RQ], W[RP * RQ], P[RN * RQ];
    double b[RQ], col_y[RN], col_p[RN];
    linear_data(X, Y, Wt);
    Err err = {""};
    ck_assert_ok(stats_ridge(X, Y, RN, RP, RQ, 1e-3, W, b, &err), err);
    for (int k = 0; k < RP * RQ; k++)
        ck_assert_double_eq_tol(W[k], Wt[k], 0.03);
    for (int c = 0; c < RQ; c++) {
        ck_assert_double_eq_tol(b[c], bt[c], 0.03);
        for (int i = 0; i < RN; i++) {
            P[i * RQ + c] = b[c];
            for (int j = 0; j < RP; j++)
                P[i * RQ + c] += X[i * RP + j] * W[j * RQ + c];
            col_y[i] = Y[i * RQ + c];
            col_p[i] = P[i * RQ + c];
        }
        double r = stats_pearson(col_y, col_p, RN);
        ck_assert_msg(r > 0.95, "output %d: r = %g", c, r);
    }
}
END_TEST

/* More units than items: the dual's W satisfies the primal's normal
 * equations (Xc'Xc + lambda I) W = Xc'Yc, worked out here directly. */
START_TEST(ridge_with_more_units_than_items)
{
    enum { N = 12, P = 30, Q = 2 };
    static double X[N * P], Y[N * Q], W[P * Q];
    double b[Q], mx[P] = {0}, my[Q] = {0}, lambda = 0.5;
    uint64_t state = 7;
    for (int k = 0; k < N * P; k++)
        X[k] = 2 * rng_uniform(&state) - 1;
    for (int k = 0; k < N * Q; k++)
        Y[k] = 2 * rng_uniform(&state) - 1;
    Err err = {""};
    ck_assert_ok(stats_ridge(X, Y, N, P, Q, lambda, W, b, &err), err);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < P; j++)
            mx[j] += X[i * P + j] / N;
        for (int c = 0; c < Q; c++)
            my[c] += Y[i * Q + c] / N;
    }
    for (int j = 0; j < P; j++)
        for (int c = 0; c < Q; c++) {
            double lhs = lambda * W[j * Q + c], rhs = 0;
            for (int i = 0; i < N; i++) {
                double xj = X[i * P + j] - mx[j], fit = 0;
                for (int k = 0; k < P; k++)
                    fit += (X[i * P + k] - mx[k]) * W[k * Q + c];
                lhs += xj * fit;
                rhs += xj * (Y[i * Q + c] - my[c]);
            }
            ck_assert_double_eq_tol(lhs, rhs, 1e-9);
        }
    for (int c = 0; c < Q; c++) { /* the fit goes through the means */
        double at_mean = b[c];
        for (int j = 0; j < P; j++)
            at_mean += mx[j] * W[j * Q + c];
        ck_assert_double_eq_tol(at_mean, my[c], 1e-12);
    }
}
END_TEST

START_TEST(ridge_errors)
{
    /* the second column twice the first: singular without lambda */
    static const double X[] = {1, 2, 2, 4, 3, 6, 4, 8}, Y[] = {1, 2, 3, 4};
    double W[2], b[1];
    Err err = {""};
    ck_assert_int_eq(stats_ridge(X, Y, 4, 2, 1, 0, W, b, &err), CLRUN_ERUNTIME);
    ck_assert_ok(stats_ridge(X, Y, 4, 2, 1, 0.1, W, b, &err), err);
    ck_assert_int_eq(stats_ridge(X, Y, 4, 2, 1, -1, W, b, &err), CLRUN_EINPUT);
    ck_assert_int_eq(stats_ridge(X, Y, 0, 2, 1, 1, W, b, &err), CLRUN_EINPUT);
}
END_TEST

/* With as many components as full-rank X has columns, PLS spans all of X and
 * is ordinary least squares: ridge with lambda 0. Fewer components give a
 * different (shrunk) model. */
START_TEST(pls_with_every_component_is_least_squares)
{
    static double X[RN * RP], Y[RN * RQ], Wt[RP * RQ], Wp[RP * RQ], Wr[RP * RQ];
    double bp[RQ], br[RQ], most = 0;
    linear_data(X, Y, Wt);
    Err err = {""};
    ck_assert_ok(stats_pls(X, Y, RN, RP, RQ, RP, Wp, bp, &err), err);
    ck_assert_ok(stats_ridge(X, Y, RN, RP, RQ, 0, Wr, br, &err), err);
    for (int k = 0; k < RP * RQ; k++)
        ck_assert_double_eq_tol(Wp[k], Wr[k], 1e-8);
    for (int c = 0; c < RQ; c++)
        ck_assert_double_eq_tol(bp[c], br[c], 1e-8);
    ck_assert_ok(stats_pls(X, Y, RN, RP, RQ, 2, Wp, bp, &err), err);
    for (int k = 0; k < RP * RQ; k++)
        most = fmax(most, fabs(Wp[k] - Wr[k]));
    ck_assert_msg(most > 0.1, "2 components: largest difference from least squares %g", most);
}
END_TEST

/* One component for one target in closed form on centred data: w = X'y (its
 * length cancels), t = X w, coefficients w (t'y) / (t't), b = my - mx W. */
static void one_component(const double *X, const double *y, int n, int p, double *W, double *b)
{
    double mx[8] = {0}, my = 0, w[8] = {0}, t[8] = {0}, ty = 0, tt = 0;
    for (int i = 0; i < n; i++) {
        my += y[i] / n;
        for (int j = 0; j < p; j++)
            mx[j] += X[i * p + j] / n;
    }
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++)
            w[j] += (X[i * p + j] - mx[j]) * (y[i] - my);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < p; j++)
            t[i] += (X[i * p + j] - mx[j]) * w[j];
        ty += t[i] * (y[i] - my);
        tt += t[i] * t[i];
    }
    *b = my;
    for (int j = 0; j < p; j++) {
        W[j] = w[j] * ty / tt;
        *b -= mx[j] * W[j];
    }
}

START_TEST(pls_one_component_by_hand)
{
    /* Centred: X rows (-1.5, -1.5), (-0.5, -0.5), (0.5, 1.5), (1.5, 0.5), y
     * (-2, -1, 1, 2); X'y = (7, 6), t = X (7, 6) = (-19.5, -6.5, 12.5, 13.5),
     * t'y = 85, t't = 761: W = (7, 6) 85 / 761 = (595, 510) / 761 and b =
     * 3 - (2.5 * 595 + 1.5 * 510) / 761 = 3 - 2252.5 / 761. */
    static const double X[] = {1, 0, 2, 1, 3, 3, 4, 2}, y[] = {1, 2, 4, 5};
    double W[2], b, want_W[2], want_b;
    one_component(X, y, 4, 2, want_W, &want_b);
    ck_assert_double_eq_tol(want_W[0], 595 / 761.0, TOL);
    ck_assert_double_eq_tol(want_W[1], 510 / 761.0, TOL);
    ck_assert_double_eq_tol(want_b, 3 - 2252.5 / 761, TOL);
    Err err = {""};
    ck_assert_ok(stats_pls(X, y, 4, 2, 1, 1, W, &b, &err), err);
    ck_assert_double_eq_tol(W[0], want_W[0], TOL);
    ck_assert_double_eq_tol(W[1], want_W[1], TOL);
    ck_assert_double_eq_tol(b, want_b, TOL);
}
END_TEST

enum { LN = 200, LTRAIN = 150, LP = 50, LQ = 5, LK = 3 };

/* X (50 units) and Y (5 units) both driven by 3 latent factors, X noisily:
 * 3 components fitted on 150 rows predict every unit of the other 50. */
START_TEST(pls_recovers_latent_factors)
{
    static double Z[LN * LK], A[LK * LP], B[LK * LQ], X[LN * LP], Y[LN * LQ], W[LP * LQ];
    double b[LQ], pred[LN - LTRAIN], act[LN - LTRAIN];
    rng_state = 7;
    for (int k = 0; k < LN * LK; k++)
        Z[k] = uniform(-1, 1);
    for (int k = 0; k < LK * LP; k++)
        A[k] = uniform(-1, 1);
    for (int k = 0; k < LK * LQ; k++)
        B[k] = uniform(-1, 1);
    for (int i = 0; i < LN; i++) {
        for (int j = 0; j < LP; j++) {
            X[i * LP + j] = uniform(-0.5, 0.5);
            for (int k = 0; k < LK; k++)
                X[i * LP + j] += Z[i * LK + k] * A[k * LP + j];
        }
        for (int u = 0; u < LQ; u++) {
            Y[i * LQ + u] = uniform(-0.05, 0.05);
            for (int k = 0; k < LK; k++)
                Y[i * LQ + u] += Z[i * LK + k] * B[k * LQ + u];
        }
    }
    Err err = {""};
    ck_assert_ok(stats_pls(X, Y, LTRAIN, LP, LQ, LK, W, b, &err), err);
    for (int u = 0; u < LQ; u++) {
        for (int i = LTRAIN; i < LN; i++) {
            pred[i - LTRAIN] = b[u];
            for (int j = 0; j < LP; j++)
                pred[i - LTRAIN] += X[i * LP + j] * W[j * LQ + u];
            act[i - LTRAIN] = Y[i * LQ + u];
        }
        double r = stats_pearson(pred, act, LN - LTRAIN);
        ck_assert_msg(r > 0.95, "unit %d: r = %g", u, r);
    }
}
END_TEST

/* X of rank 2 (the third column the sum of the others) holds 2 components;
 * asked for 3, PLS stops at 2, which fit as least squares on the first two
 * columns does. X'Y = 0 (constant X) leaves no component: W 0, b mean(Y). */
START_TEST(pls_stops_when_exhausted)
{
    enum { N = 8 };
    double X[N * 3], X2[N * 2], Y[N * 2], W[3 * 2], b[2], W2[2 * 2], b2[2];
    rng_state = 11;
    for (int i = 0; i < N; i++) {
        X2[i * 2] = X[i * 3] = uniform(-1, 1);
        X2[i * 2 + 1] = X[i * 3 + 1] = uniform(-1, 1);
        X[i * 3 + 2] = X[i * 3] + X[i * 3 + 1];
        Y[i * 2] = uniform(-1, 1);
        Y[i * 2 + 1] = uniform(-1, 1);
    }
    Err err = {""};
    ck_assert_ok(stats_pls(X, Y, N, 3, 2, 3, W, b, &err), err);
    ck_assert_ok(stats_ridge(X2, Y, N, 2, 2, 0, W2, b2, &err), err);
    for (int i = 0; i < N; i++)
        for (int c = 0; c < 2; c++) {
            double got = b[c], want = b2[c];
            for (int j = 0; j < 3; j++)
                got += X[i * 3 + j] * W[j * 2 + c];
            for (int j = 0; j < 2; j++)
                want += X2[i * 2 + j] * W2[j * 2 + c];
            ck_assert_double_eq_tol(got, want, 1e-9);
        }
    static const double flat[] = {2, -1, 2, -1, 2, -1, 2, -1}, y[] = {1, 2, 3, 6};
    ck_assert_ok(stats_pls(flat, y, 4, 2, 1, 2, W, b, &err), err);
    ck_assert_double_eq(W[0], 0);
    ck_assert_double_eq(W[1], 0);
    ck_assert_double_eq_tol(b[0], 3, TOL);
}
END_TEST

START_TEST(pls_errors)
{
    static const double X[] = {1, 0, 2, 1, 3, 3, 4, 2}, y[] = {1, 2, 4, 5};
    double W[2], b[1];
    Err err = {""};
    ck_assert_int_eq(stats_pls(X, y, 4, 2, 1, 0, W, b, &err), CLRUN_EINPUT);
    ck_assert_int_eq(stats_pls(X, y, 4, 2, 1, 3, W, b, &err), CLRUN_EINPUT); /* above p */
    ck_assert_int_eq(stats_pls(X, y, 2, 2, 1, 2, W, b, &err), CLRUN_EINPUT); /* above n - 1 */
    ck_assert_str_eq(err.msg, "pls: 2 components; 2 rows of 2 columns allow 1 to 1");
    ck_assert_int_eq(stats_pls(X, y, 1, 2, 1, 1, W, b, &err), CLRUN_EINPUT);
    ck_assert_int_eq(stats_pls(X, y, 4, 0, 1, 1, W, b, &err), CLRUN_EINPUT);
    ck_assert_int_eq(stats_pls(X, y, 4, 2, 0, 1, W, b, &err), CLRUN_EINPUT);
    ck_assert_ok(stats_pls(X, y, 4, 2, 1, 2, W, b, &err), err);
}
END_TEST

Suite *stats_suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("stats");
    tcase_add_test(tc, cosine);
    tcase_add_test(tc, pearson);
    tcase_add_test(tc, median);
    tcase_add_test(tc, median_of_finite_values);
    tcase_add_test(tc, ridge_with_more_units_than_items);
    tcase_add_test(tc, ranks);
    tcase_add_test(tc, spearman);
    tcase_add_test(tc, minmax);
    tcase_add_test(tc, rdm);
    tcase_add_test(tc, rdm_spearman);
    tcase_add_test(tc, ridge);
    tcase_add_test(tc, ridge_errors);
    tcase_add_test(tc, pls_with_every_component_is_least_squares);
    tcase_add_test(tc, pls_one_component_by_hand);
    tcase_add_test(tc, pls_recovers_latent_factors);
    tcase_add_test(tc, pls_stops_when_exhausted);
    tcase_add_test(tc, pls_errors);
    suite_add_tcase(s, tc);
    return s;
}
