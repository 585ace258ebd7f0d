/* check_factorized.c: the factorized readout (runtime/analysis/factorized.c,
 * cl/readout.cl) on the test device:
 *   - its kernels against a double-precision reference written here: the
 *     predictions, and the gradient of the loss against central differences
 *     of that reference, on shapes that are multiples of nothing and a batch
 *     that is a run of shuffled rows in the middle of idx;
 *   - a fit with the analysis' defaults recovering planted separable units (a Gaussian blob of a mask
 *     each, random channel weights, a little noise): masks match up to scale
 *     (and come out with the blob positive), held-out r is near 1, and the
 *     returned parameters predict as well when recomputed here;
 *   - the same seed giving the same bits, and a split that holds out too
 *     few items failing as bad input. */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/factorized.h"
#include "analysis/stats.h"
#include "rng.h"
#include "suites.h"
#include "testutil.h"

Suite *factorized_suite(void);

/* ---- kernels against the reference ---- */

enum { ITEMS = 5, ROWS = 3, FIRST = 1, C = 5, H = 4, W = 3, HW = H * W, N = 2 };
enum { COUNT = N * (HW + C + 1) };
static const int idx[ITEMS] = {4, 1, 3, 0, 2}; /* rows 1..3: items 1, 3, 0 */
static const double LS = 0.1, LC = 0.2;        /* large enough to show in the gradient */

/* Unit j's prediction for item `item`, theta laid out as in cl/readout.cl. */
static double ref_predict(const double *theta, const float *feats, int item, int j)
{
    const double *ws = theta + j * HW, *wc = theta + N * HW + j * C;
    const float *f = feats + item * C * HW;
    double s = theta[N * (HW + C) + j];
    for (int c = 0; c < C; c++)
        for (int p = 0; p < HW; p++)
            s += wc[c] * ws[p] * f[c * HW + p];
    return s;
}

static double ref_loss(const double *theta, const float *feats, const double *targets)
{
    double loss = 0;
    for (int i = 0; i < ROWS; i++)
        for (int j = 0; j < N; j++) {
            int item = idx[FIRST + i];
            double e = ref_predict(theta, feats, item, j) - targets[item * N + j];
            loss += e * e / ROWS;
        }
    for (int k = 0; k < N * (HW + C); k++)
        loss += (k < N * HW ? LS : LC) * theta[k] * theta[k];
    return loss;
}

START_TEST(kernels_match_the_reference_and_its_differences)
{
    float feats[ITEMS * C * HW];
    double targets[ITEMS * N], theta[COUNT], pred[ROWS * N], grad[COUNT];
    test_fill(feats, ITEMS * C * HW, 1, -1, 1);
    uint64_t state = 2;
    for (int k = 0; k < ITEMS * N; k++)
        targets[k] = 4 * rng_uniform(&state) - 2;
    for (int k = 0; k < COUNT; k++)
        theta[k] = rng_uniform(&state) - 0.5;
    Device d;
    test_device(&d);
    FactorizedModel m;
    Err err = {""};
    ck_assert_ok(factorized_open(&m, &d, feats, targets, ITEMS, C, HW, N, &err), err);
    ck_assert_int_eq(m.count, COUNT);
    ck_assert_ok(dev_write(&d, m.idx, 0, sizeof idx, idx, &err), err);
    test_put(&d, m.theta, theta, COUNT);
    ck_assert_ok(factorized_predict(&m, FIRST, ROWS, &err), err);
    ck_assert_ok(factorized_gradient(&m, FIRST, ROWS, LS, LC, &err), err);
    test_get(&d, m.pred, pred, ROWS * N);
    test_get(&d, m.grad, grad, COUNT);
    for (int i = 0; i < ROWS; i++)
        for (int j = 0; j < N; j++) {
            double want = ref_predict(theta, feats, idx[FIRST + i], j);
            ck_assert_msg(fabs(pred[i * N + j] - want) < 1e-5, "pred[%d][%d] = %.7f, want %.7f",
                          i, j, pred[i * N + j], want);
        }
    const double eps = 1e-4;
    for (int k = 0; k < COUNT; k++) {
        double keep = theta[k];
        theta[k] = keep + eps;
        double up = ref_loss(theta, feats, targets);
        theta[k] = keep - eps;
        double down = ref_loss(theta, feats, targets);
        theta[k] = keep;
        double want = (up - down) / (2 * eps);
        ck_assert_msg(fabs(grad[k] - want) < 1e-4 + 1e-4 * fabs(want),
                      "grad[%d] = %.7f, central difference %.7f", k, grad[k], want);
    }
    factorized_close(&m);
    dev_close(&d);
}
END_TEST

/* ---- planted units ---- */

enum { P_ITEMS = 400, P_C = 8, P_H = 8, P_W = 8, P_HW = P_H * P_W, P_N = 4 };

/* Features uniform in [-1, 1]; unit j has a Gaussian blob of a mask centred
 * somewhere of its own and random channel weights; targets are the model plus
 * uniform noise in +-0.05 (the signal's standard deviation is about 1). */
static void plant(float *feats, double *targets, double *masks)
{
    static const double centre[P_N][2] = {{2, 2}, {5.5, 5}, {1.5, 6}, {6, 1}};
    double wc[P_N][P_C], bias[P_N] = {0.5, -1, 2, 0};
    uint64_t state = 11;
    test_fill(feats, (size_t)P_ITEMS * P_C * P_HW, 10, -1, 1);
    for (int j = 0; j < P_N; j++) {
        for (int p = 0; p < P_HW; p++) {
            double dy = p / P_W - centre[j][0], dx = p % P_W - centre[j][1];
            masks[j * P_HW + p] = exp(-(dx * dx + dy * dy) / 2);
        }
        for (int c = 0; c < P_C; c++)
            wc[j][c] = 2 * rng_uniform(&state) - 1;
    }
    for (int i = 0; i < P_ITEMS; i++)
        for (int j = 0; j < P_N; j++) {
            double s = bias[j];
            for (int c = 0; c < P_C; c++)
                for (int p = 0; p < P_HW; p++)
                    s += wc[j][c] * masks[j * P_HW + p] * feats[(i * P_C + c) * P_HW + p];
            targets[i * P_N + j] = s + 0.1 * (rng_uniform(&state) - 0.5);
        }
}

/* Unit j's r over every item, predicted here from the returned parameters. */
static double host_r(const FactorizedFit *fit, const float *feats, const double *targets, int j)
{
    static double pred[P_ITEMS], actual[P_ITEMS];
    for (int i = 0; i < P_ITEMS; i++) {
        double s = fit->b[j];
        for (int c = 0; c < P_C; c++)
            for (int p = 0; p < P_HW; p++)
                s += fit->wc[j * P_C + c] * fit->ws[j * P_HW + p] *
                     feats[(i * P_C + c) * P_HW + p];
        pred[i] = s, actual[i] = targets[i * P_N + j];
    }
    return stats_pearson(pred, actual, P_ITEMS);
}

START_TEST(fit_recovers_planted_masks)
{
    static float feats[P_ITEMS * P_C * P_HW];
    static double targets[P_ITEMS * P_N], masks[P_N * P_HW];
    plant(feats, targets, masks);
    Device d;
    test_device(&d);
    FactorizedFit fit;
    Err err = {""};
    ck_assert_ok(factorized_fit(&d, feats, targets, P_ITEMS, P_C, P_HW, P_N,
                                &factorized_defaults, &fit, &err), err);
    ck_assert_int_eq(fit.train, 320);
    ck_assert_int_eq(fit.test, 80);
    for (int j = 0; j < P_N; j++) {
        double learned[P_HW];
        for (int p = 0; p < P_HW; p++)
            learned[p] = fit.ws[j * P_HW + p];
        double match = stats_pearson(learned, masks + j * P_HW, P_HW);
        ck_assert_msg(fabs(match) > 0.9, "unit %d: mask r %.3f", j, match);
        ck_assert_msg(match > 0, "unit %d: the mask's largest entry is not positive", j);
        ck_assert_msg(fit.r[j] > 0.95, "unit %d: held-out r %.3f", j, fit.r[j]);
        double all = host_r(&fit, feats, targets, j);
        ck_assert_msg(all > 0.95, "unit %d: the returned parameters predict at r %.3f", j, all);
    }
    factorized_fit_free(&fit);
    dev_close(&d);
}
END_TEST

START_TEST(same_seed_same_bits_and_too_small_a_split_fails)
{
    static float feats[P_ITEMS * P_C * P_HW];
    static double targets[P_ITEMS * P_N], masks[P_N * P_HW];
    plant(feats, targets, masks);
    FactorizedOptions o = factorized_defaults;
    o.epochs = 3;
    o.seed = 5;
    Device d;
    test_device(&d);
    FactorizedFit a, b;
    Err err = {""};
    ck_assert_ok(factorized_fit(&d, feats, targets, P_ITEMS, P_C, P_HW, P_N, &o, &a, &err), err);
    ck_assert_ok(factorized_fit(&d, feats, targets, P_ITEMS, P_C, P_HW, P_N, &o, &b, &err), err);
    size_t count = (size_t)P_N * (P_HW + P_C + 1);
    ck_assert_int_eq(memcmp(a.ws, b.ws, count * sizeof *a.ws), 0);
    ck_assert_int_eq(memcmp(a.r, b.r, P_N * sizeof *a.r), 0);
    factorized_fit_free(&a);
    factorized_fit_free(&b);
    o.train_fraction = 0.999; /* 399 items to fit, 1 held out: too few for an r */
    ck_assert_int_eq(factorized_fit(&d, feats, targets, P_ITEMS, P_C, P_HW, P_N, &o, &a, &err),
                     CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "399 to fit and 1 held out"), "%s", err.msg);
    dev_close(&d);
}
END_TEST

Suite *factorized_suite(void)
{
    Suite *s = suite_create("factorized");
    TCase *tc = tcase_create("factorized");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, kernels_match_the_reference_and_its_differences);
    /* fits of hundreds of steps, through the kernels of the test above and adam_step
     * (the optim suite checks it) */
    if (!test_tiny()) {
        tcase_add_test(tc, fit_recovers_planted_masks);
        tcase_add_test(tc, same_seed_same_bits_and_too_small_a_split_fails);
    }
    suite_add_tcase(s, tc);
    return s;
}
