/* check_losses.c: binary_cross_entropy and mse on the test device (POCL
 * unless CLRUN_DEVICE says otherwise), on a single unit and on C units,
 * against the definitions of layers/loss.h written out here in double
 * precision: per-batch loss sums and correct counts through two metrics
 * slots, and the gradient written into the output's grad, both against its
 * closed form and against central differences of the batch-mean loss.
 * Probabilities at and past Keras' clip are checked on their own: the loss
 * is that of the clip, the gradient 0. On the host: unknown names, and
 * whether a model's output units fit the dataset's classes.
 * Keras' categorical_crossentropy and sparse_categorical_crossentropy, fused
 * with the softmax that ends the model, against the same model in clrun's
 * own spelling (logits and cross_entropy, same seed and weights) and against
 * log-sum-exp in double, on logits where log(softmax(x)) would be infinite.
 * Every model starts with `front`, a dropout of rate 0 (a copy), so the
 * output is whatever the test puts in, unless a softmax follows. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "layers/loss.h"
#include "predict.h"
#include "rng.h"
#include "suites.h"
#include "testutil.h"

Suite *losses_suite(void);

#define FD_EPS 1e-4
#define MAX_ROWS 6

/* Keras' clip, in float32 as the kernel and Keras compute it. */
static const double CLIP_LO = (double)1e-7f, CLIP_HI = (double)(1.0f - 1e-7f);

/* ---- the reference ---- */

typedef struct {
    const char *loss;
    int cols;
    const char *layers; /* after front */
    double lo, hi;      /* the range of the model's input */
    int classes;        /* labels are drawn below this */
} LossCase;

static const LossCase loss_cases[] = {
    {"binary_cross_entropy", 1, "", 0.05, 0.95, 2},
    {"binary_cross_entropy", 7, "", 0.05, 0.95, 7},
    {"binary_cross_entropy", 7, "  - {name: out, type: softmax}\n", -2, 2, 7},
    {"mse", 1, "", -1, 2, 3},
    {"mse", 7, "", -1, 2, 7},
};

static int is_bce(const char *loss)
{
    return strcmp(loss, "binary_cross_entropy") == 0;
}

/* The label itself on a single unit, else one-hot. */
static double ref_target(int c, int cols, int label)
{
    return cols == 1 ? label : c == label;
}

static double ref_unit_loss(const char *loss, double x, double t)
{
    if (!is_bce(loss))
        return (x - t) * (x - t);
    double p = fmin(fmax(x, CLIP_LO), CLIP_HI);
    return -(t * log(p) + (1 - t) * log(1 - p));
}

/* d ref_unit_loss / dx, worked out by hand; 0 where the clip holds p. */
static double ref_unit_grad(const char *loss, double x, double t)
{
    if (!is_bce(loss))
        return 2 * (x - t);
    return x < CLIP_LO || x > CLIP_HI ? 0 : (x - t) / (x * (1 - x));
}

static double ref_example_loss(const char *loss, const double *x, int cols, int label)
{
    double s = 0;
    for (int c = 0; c < cols; c++)
        s += ref_unit_loss(loss, x[c], ref_target(c, cols, label));
    return s / cols;
}

static int ref_argmax(const double *x, int cols)
{
    int best = 0;
    for (int c = 1; c < cols; c++)
        if (x[c] > x[best])
            best = c;
    return best;
}

/* A single unit predicts class 1 from 0.5 up; C units, their argmax. */
static int ref_prediction(const double *x, int cols)
{
    return cols == 1 ? x[0] >= 0.5 : ref_argmax(x, cols);
}

typedef struct {
    const char *loss;
    const double *z; /* the model's output for the batch */
    const int *labels;
    int rows, cols;
} Batch;

static double ref_mean_loss(const Batch *b)
{
    double s = 0;
    for (int r = 0; r < b->rows; r++)
        s += ref_example_loss(b->loss, b->z + r * b->cols, b->cols, b->labels[r]);
    return s / b->rows;
}

static void ref_mean_grad(const Batch *b, double *grad)
{
    for (int r = 0; r < b->rows; r++)
        for (int c = 0; c < b->cols; c++) {
            int i = r * b->cols + c;
            grad[i] = ref_unit_grad(b->loss, b->z[i], ref_target(c, b->cols, b->labels[r])) /
                      (b->cols * b->rows);
        }
}

/* Central differences of the batch-mean loss with respect to every output. */
static void fd_mean_grad(Batch *b, double *z, double *grad)
{
    for (int i = 0; i < b->rows * b->cols; i++) {
        double keep = z[i];
        z[i] = keep + FD_EPS;
        double up = ref_mean_loss(b);
        z[i] = keep - FD_EPS;
        double down = ref_mean_loss(b);
        z[i] = keep;
        grad[i] = (up - down) / (2 * FD_EPS);
    }
}

/* ---- the device ---- */

typedef struct {
    Device dev;
    Graph g;
    SpecNode *root;
    Loss loss;
} Net;

/* Device copies in doubles, and tearing down (tests/testutil.h). */
#define get(t, m, v, n) test_get(&(t)->dev, m, v, n)
#define net_close(t) test_close(&(t)->g, &(t)->dev, (t)->root)

static void run_ok(int rc, const Err *err)
{
    ck_assert_msg(rc == CLRUN_OK, "%s", err->msg);
}

static void net_open(Net *t, const char *loss, int cols, const char *layers)
{
    char yaml[1024];
    Err err = {""};
    snprintf(yaml, sizeof yaml,
             "name: t\ninput: [%d]\nlayers:\n  - {name: front, type: dropout, rate: 0}\n%s", cols,
             layers);
    test_device(&t->dev);
    test_graph(&t->g, &t->root, &t->dev, yaml, MAX_ROWS, 7);
    run_ok(loss_find(&t->loss, loss, t->root, &err), &err);
    run_ok(loss_setup(&t->loss, &t->g, 2, &err), &err);
}

/* Puts x (rows of floats) and labels in, runs forward and the loss into slot,
 * and reads the output into z and the gradient the loss wrote into grad. */
static void run_batch(Net *t, int slot, const float *x, const int *labels, int rows, double *z,
                      double *grad)
{
    Err err = {""};
    Node *out = graph_output(&t->g);
    size_t n = (size_t)rows * (size_t)out->out_shape.dim[0];
    t->g.batch = rows;
    run_ok(dev_write(&t->dev, t->g.nodes[0].out, 0, n * sizeof *x, x, &err), &err);
    run_ok(dev_write(&t->dev, t->loss.labels, 0, (size_t)rows * sizeof *labels, labels, &err),
           &err);
    run_ok(graph_forward(&t->g, &err), &err);
    run_ok(loss_compute(&t->loss, &t->g, slot, &err), &err);
    get(t, out->out, z, n);
    get(t, out->grad, grad, n);
}

static void assert_close(const char *what, const double *got, const double *want, size_t n,
                         double rel, double abs)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(fabs(got[i] - want[i]) <= rel * fabs(want[i]) + abs,
                      "%s[%zu]: got %.9g, want %.9g", what, i, got[i], want[i]);
}

/* The totals of the first n slots against the reference's. */
static void check_totals(Net *t, int n, double want_loss, int want_correct)
{
    Err err = {""};
    double loss, correct;
    run_ok(loss_totals(&t->loss, &t->g, n, &loss, &correct, &err), &err);
    ck_assert_msg(fabs(loss - want_loss) <= 1e-5 * fabs(want_loss),
                  "%d slots: loss sum %.9g, want %.9g", n, loss, want_loss);
    ck_assert_msg(correct == want_correct, "%d slots: %g correct, want %d", n, correct,
                  want_correct);
}

/* ---- tests ---- */

/* One batch of random outputs through the loss into slot: checks the
 * gradient and returns the reference loss sum; adds the correct count. */
static double random_batch(Net *t, const LossCase *lc, int slot, int rows, uint64_t seed,
                           int *correct)
{
    size_t n = (size_t)rows * lc->cols;
    float x[MAX_ROWS * 8];
    double z[MAX_ROWS * 8], got[MAX_ROWS * 8], want[MAX_ROWS * 8];
    int labels[MAX_ROWS];
    test_fill(x, n, seed, (float)lc->lo, (float)lc->hi);
    memset(labels, 0, sizeof labels);
    run_batch(t, slot, x, labels, rows, z, got); /* a first pass for the model's answers */
    for (int r = 0; r < rows; r++) { /* every other example labelled right, the others wrong */
        int answer = ref_prediction(z + r * lc->cols, lc->cols);
        int wrong = (answer + 1 + (int)rng_below(&seed, (uint32_t)lc->classes - 1)) % lc->classes;
        labels[r] = r % 2 ? wrong : answer;
    }
    run_batch(t, slot, x, labels, rows, z, got);

    Batch b = {lc->loss, z, labels, rows, lc->cols};
    for (int r = 0; r < rows; r++)
        *correct += ref_prediction(z + r * lc->cols, lc->cols) == labels[r];
    ref_mean_grad(&b, want);
    assert_close("gradient against its closed form", got, want, n, 1e-5, 1e-8);
    fd_mean_grad(&b, z, want);
    assert_close("gradient against central differences", got, want, n, 1e-4, 1e-7);
    return ref_mean_loss(&b) * rows;
}

START_TEST(loss_sums_counts_and_gradients)
{
    const LossCase *lc = &loss_cases[_i];
    Net t;
    net_open(&t, lc->loss, lc->cols, lc->layers);
    int correct0 = 0, correct = 0;
    double sum0 = random_batch(&t, lc, 0, 5, 21 + (uint64_t)_i, &correct0);
    correct = correct0;
    double sum1 = random_batch(&t, lc, 1, 3, 41 + (uint64_t)_i, &correct);
    ck_assert_int_gt(correct0, 0); /* some right and some wrong predictions */
    ck_assert_int_lt(correct, 8);
    check_totals(&t, 1, sum0, correct0);
    check_totals(&t, 2, sum0 + sum1, correct);
    net_close(&t);
}
END_TEST

/* Probabilities at 0 and 1 and past the clip, on one unit: each example's
 * loss is that of the clipped probability and its gradient 0. */
START_TEST(bce_clips_as_keras)
{
    static const float p[MAX_ROWS] = {0.0f, 0.0f, 1.0f, 1.0f, 1e-8f, 0.5f};
    static const int labels[MAX_ROWS] = {1, 0, 0, 1, 1, 1};
    const double want_loss[MAX_ROWS] = {-log(CLIP_LO), -log(1 - CLIP_LO), -log(1 - CLIP_HI),
                                        -log(CLIP_HI), -log(CLIP_LO), log(2)};
    double z[MAX_ROWS], got[MAX_ROWS], want[MAX_ROWS], loss[MAX_ROWS];
    Net t;
    net_open(&t, "binary_cross_entropy", 1, "");
    run_batch(&t, 0, p, labels, MAX_ROWS, z, got);
    get(&t, t.loss.per_example, loss, MAX_ROWS);
    /* 1 - p rounds to float: -log(1 - 1e-7) comes out as 1.19e-7, in Keras too */
    assert_close("per-example loss", loss, want_loss, MAX_ROWS, 1e-6, 2e-8);
    Batch b = {"binary_cross_entropy", z, labels, MAX_ROWS, 1};
    ref_mean_grad(&b, want);
    for (int r = 0; r < MAX_ROWS - 1; r++)
        ck_assert_msg(got[r] == 0, "p = %g: gradient %g past the clip", z[r], got[r]);
    assert_close("gradient", got, want, MAX_ROWS, 1e-6, 0);
    check_totals(&t, 1, ref_mean_loss(&b) * MAX_ROWS, 3); /* p = 0, 1 and 0.5 are right */
    net_close(&t);
}
END_TEST

/* ---- Keras' spellings, fused with the softmax ---- */

#define KERAS_ROWS 4
#define KERAS_UNITS 5

/* softmax, then -log p[label], in double through log-sum-exp; the gradient
 * of the batch mean with respect to the logits into grad. */
static double ref_softmax_nll(const double *z, int label, int cols, double rows, double *grad)
{
    double top = z[0], sum = 0;
    for (int c = 1; c < cols; c++)
        top = fmax(top, z[c]);
    for (int c = 0; c < cols; c++)
        sum += exp(z[c] - top);
    double lse = top + log(sum);
    for (int c = 0; c < cols; c++)
        grad[c] = (exp(z[c] - lse) - (c == label)) / rows;
    return lse - z[label];
}

/* One batch forward, loss and backward; the per-example losses and the
 * last layer's weight gradient come back in doubles. */
static void keras_pass(Net *t, const float *x, int cols, const int *labels, double *loss,
                       double *wgrad, size_t wcount)
{
    Err err = {""};
    t->g.batch = KERAS_ROWS;
    run_ok(dev_write(&t->dev, t->g.nodes[0].out, 0, (size_t)(KERAS_ROWS * cols) * sizeof *x, x,
                     &err), &err);
    run_ok(dev_write(&t->dev, t->loss.labels, 0, KERAS_ROWS * sizeof *labels, labels, &err),
           &err);
    run_ok(graph_forward(&t->g, &err), &err);
    run_ok(loss_compute(&t->loss, &t->g, 0, &err), &err);
    run_ok(graph_backward(&t->g, &err), &err);
    get(t, t->loss.per_example, loss, KERAS_ROWS);
    Node *out = graph_output(&t->g);
    get(t, node_param(&t->g, out, 0)->grad, wgrad, wcount);
}

static const char *const keras_losses[] = {"sparse_categorical_crossentropy",
                                           "categorical_crossentropy"};

/* A dense layer with activation: softmax under Keras' loss, against the same
 * dense layer giving logits to cross_entropy: the same losses within 1e-6
 * and the same weight gradients; the output is the softmax of those logits,
 * and the loss log-sum-exp's. */
START_TEST(keras_dense_softmax_matches_cross_entropy)
{
    enum { IN = 3 };
    static const int labels[KERAS_ROWS] = {0, 4, 2, 1};
    const size_t wcount = KERAS_UNITS * IN, n = KERAS_ROWS * KERAS_UNITS;
    char keras_layers[128], clrun_layers[128];
    snprintf(keras_layers, sizeof keras_layers,
             "  - {name: out, type: dense, units: %d, activation: softmax}\n", KERAS_UNITS);
    snprintf(clrun_layers, sizeof clrun_layers, "  - {name: out, type: dense, units: %d}\n",
             KERAS_UNITS);
    float x[KERAS_ROWS * IN];
    test_fill(x, KERAS_ROWS * IN, 5, -3, 3);
    double loss_k[KERAS_ROWS], loss_c[KERAS_ROWS], wg_k[KERAS_UNITS * IN], wg_c[KERAS_UNITS * IN];
    double probs[KERAS_ROWS * KERAS_UNITS], logits[KERAS_ROWS * KERAS_UNITS];
    double grad[KERAS_ROWS * KERAS_UNITS], want[KERAS_UNITS];
    Net k, c;
    net_open(&k, keras_losses[_i], IN, keras_layers);
    net_open(&c, "cross_entropy", IN, clrun_layers);
    keras_pass(&k, x, IN, labels, loss_k, wg_k, wcount);
    keras_pass(&c, x, IN, labels, loss_c, wg_c, wcount);
    get(&k, graph_output(&k.g)->out, probs, n);
    get(&c, graph_output(&c.g)->out, logits, n);
    assert_close("loss against cross_entropy", loss_k, loss_c, KERAS_ROWS, 0, 1e-6);
    assert_close("weight gradient against cross_entropy", wg_k, wg_c, wcount, 1e-6, 1e-8);
    for (int r = 0; r < KERAS_ROWS; r++) {
        double *z = logits + r * KERAS_UNITS, sum = 0;
        double ref = ref_softmax_nll(z, labels[r], KERAS_UNITS, KERAS_ROWS, want);
        assert_close("loss against log-sum-exp", loss_k + r, &ref, 1, 1e-6, 1e-7);
        for (int u = 0; u < KERAS_UNITS; u++)
            sum += exp(z[u]);
        for (int u = 0; u < KERAS_UNITS; u++)
            grad[u] = exp(z[u]) / sum;
        assert_close("softmax output", probs + r * KERAS_UNITS, grad, KERAS_UNITS, 1e-5, 1e-7);
    }
    net_close(&k);
    net_close(&c);
}
END_TEST

/* A softmax layer under Keras' loss on logits a thousand apart: the loss is
 * finite and log-sum-exp's (log(softmax(x)) would be log 0), and the
 * gradient reaching the softmax's input is softmax - one-hot over the batch. */
START_TEST(keras_softmax_layer_is_stable)
{
    static const float x[KERAS_ROWS * 3] = {1000, 0, -1000, 1000, 0, -1000, -50, 50, 0, 1, 2, 3};
    static const int labels[KERAS_ROWS] = {0, 2, 0, 1};
    double loss[KERAS_ROWS], z[KERAS_ROWS * 3], got[KERAS_ROWS * 3], want[3];
    Net t;
    Err err = {""};
    net_open(&t, keras_losses[_i], 3, "  - {name: out, type: softmax}\n");
    run_batch(&t, 0, x, labels, KERAS_ROWS, z, got);
    run_ok(graph_backward(&t.g, &err), &err);
    get(&t, t.loss.per_example, loss, KERAS_ROWS);
    get(&t, t.g.nodes[1].grad, got, KERAS_ROWS * 3); /* front's: the softmax's input */
    for (int r = 0; r < KERAS_ROWS; r++) {
        double zr[3] = {x[3 * r], x[3 * r + 1], x[3 * r + 2]};
        double ref = ref_softmax_nll(zr, labels[r], 3, KERAS_ROWS, want);
        ck_assert_msg(isfinite(loss[r]), "row %d: loss %g", r, loss[r]);
        assert_close("loss", loss + r, &ref, 1, 1e-6, 1e-6);
        assert_close("gradient of the logits", got + 3 * r, want, 3, 1e-5, 1e-8);
    }
    check_totals(&t, 1, loss[0] + loss[1] + loss[2] + loss[3], 1); /* only row 0 is right */
    net_close(&t);
}
END_TEST

/* predict's probabilities under Keras' names are the softmax's output as it
 * stands (no second softmax); a model of other units than classes has none. */
START_TEST(keras_losses_predict_the_softmax_output)
{
    static const float out[3] = {0.2f, 0.5f, 0.3f};
    double probs[3];
    Err err = {""};
    run_ok(predict_probabilities(keras_losses[_i], out, 3, 3, probs, &err), &err);
    for (int c = 0; c < 3; c++)
        ck_assert_double_eq(probs[c], out[c]);
    ck_assert_int_eq(predict_probabilities(keras_losses[_i], out, 3, 2, probs, &err),
                     CLRUN_EINPUT);
}
END_TEST

START_TEST(unknown_loss_lists_the_known)
{
    SpecNode *root = test_spec("loss: hinge\n");
    Loss l;
    Err err = {""};
    ck_assert_int_eq(loss_find(&l, "hinge", spec_get(root, "loss"), &err), CLRUN_EINPUT);
    char where[600];
    snprintf(where, sizeof where, "%s:1:", root->file);
    ck_assert_msg(strncmp(err.msg, where, strlen(where)) == 0, "'%s' does not start with '%s'",
                  err.msg, where);
    ck_assert_msg(strstr(err.msg, "'hinge'") &&
                      strstr(err.msg, "nll, cross_entropy, binary_cross_entropy, mse"),
                  "%s", err.msg);
    spec_free(root);
}
END_TEST

typedef struct {
    const char *loss;
    int units, classes;
    const char *phrase; /* in the message; NULL: accepted */
} FitCase;

static const FitCase fit_cases[] = {
    {"nll", 10, 10, NULL},
    {"cross_entropy", 12, 10, NULL}, /* units no label reaches are allowed, as in PyTorch */
    {"cross_entropy", 9, 10, "one unit per class"},
    {"nll", 1, 2, "one unit per class"},
    {"binary_cross_entropy", 1, 2, NULL},
    {"binary_cross_entropy", 1, 3, "give the model 3 output units"},
    {"binary_cross_entropy", 3, 3, NULL},
    {"binary_cross_entropy", 2, 3, "one unit per class"},
    {"mse", 1, 10, NULL}, /* the label itself is the target */
    {"mse", 4, 10, "one unit per class"},
};

/* No device: the check reads only the graph's shapes. */
START_TEST(output_units_fit_the_classes)
{
    const FitCase *fc = &fit_cases[_i];
    char yaml[256], where[600];
    snprintf(yaml, sizeof yaml,
             "name: t\ninput: [4]\nlayers:\n  - {name: hidden, type: dense, units: 5}\n"
             "  - {name: out, type: dense, units: %d}\n", fc->units);
    SpecNode *root = test_spec(yaml);
    Graph g;
    Loss l;
    Err err = {""};
    run_ok(graph_build(&g, root, &err), &err);
    run_ok(loss_find(&l, fc->loss, root, &err), &err);
    int rc = loss_check_outputs(&l, graph_output(&g), fc->classes, "data", &err);
    if (!fc->phrase) {
        run_ok(rc, &err);
    } else {
        ck_assert_int_eq(rc, CLRUN_EINPUT);
        snprintf(where, sizeof where, "%s:5:", root->file);
        ck_assert_msg(strncmp(err.msg, where, strlen(where)) == 0 && strstr(err.msg, "'out'") &&
                          strstr(err.msg, fc->phrase),
                      "'%s' does not start with '%s' or lacks 'out' or '%s'", err.msg, where,
                      fc->phrase);
    }
    graph_free(&g);
    spec_free(root);
}
END_TEST

Suite *losses_suite(void)
{
    Suite *s = suite_create("losses");
    TCase *device = tcase_create("device");
    /* the first test of a fresh cache compiles the kernels */
    tcase_set_timeout(device, 120);
    tcase_add_loop_test(device, loss_sums_counts_and_gradients, 0,
                        (int)(sizeof loss_cases / sizeof loss_cases[0]));
    tcase_add_test(device, bce_clips_as_keras);
    tcase_add_loop_test(device, keras_dense_softmax_matches_cross_entropy, 0, 2);
    tcase_add_loop_test(device, keras_softmax_layer_is_stable, 0, 2);
    suite_add_tcase(s, device);

    TCase *host = tcase_create("host");
    tcase_add_test(host, unknown_loss_lists_the_known);
    tcase_add_loop_test(host, keras_losses_predict_the_softmax_output, 0, 2);
    tcase_add_loop_test(host, output_units_fit_the_classes, 0,
                        (int)(sizeof fit_cases / sizeof fit_cases[0]));
    suite_add_tcase(s, host);
    return s;
}
