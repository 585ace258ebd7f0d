/* check_stats.c: tests for the analysis numbers (runtime/analysis/stats.c),
 * against values worked out by hand in the comments, and ridge regression on
 * seeded synthetic linear data. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "analysis/stats.h"
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

START_TEST(ridge)
{
    static double X[RN * RP], Y[RN * RQ], Wt[RP * RQ], W[RP * RQ], P[RN * RQ];
    static const double bt[RQ] = {0.5, -1, 2};
    double b[RQ], col_y[RN], col_p[RN];
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

Suite *stats_suite(void)
{
    Suite *s = suite_create("stats");
    TCase *tc = tcase_create("stats");
    tcase_add_test(tc, cosine);
    tcase_add_test(tc, pearson);
    tcase_add_test(tc, median);
    tcase_add_test(tc, ranks);
    tcase_add_test(tc, spearman);
    tcase_add_test(tc, minmax);
    tcase_add_test(tc, rdm);
    tcase_add_test(tc, rdm_spearman);
    tcase_add_test(tc, ridge);
    tcase_add_test(tc, ridge_errors);
    suite_add_tcase(s, tc);
    return s;
}
