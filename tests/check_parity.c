/* check_parity.c: clrun against PyTorch, number for number.
 *
 * tests/fixtures/lenet_sgd_step.safetensors (written by tools/make-parity-fixture)
 * holds PyTorch's LeNet of models/lenet.yaml with its initial weights, one
 * batch of the bundled MNIST sample, and PyTorch's losses, gradients and
 * parameters for two SGD steps (lr 0.01, momentum 0.5, the quickstart's) on
 * that batch. This suite starts clrun's graph from the same weights and batch,
 * takes the same two steps, and compares every loss, gradient and parameter,
 * so a wrong kernel, layout or update rule fails here with the tensor and the
 * element that went wrong.
 *
 * Tolerances: the loss within 1e-5 relative; every element of a gradient or
 * parameter within 1e-4 * max(1, |expected|), and every such tensor within
 * 1e-4 relative in the 2-norm (which catches a small error spread over a whole
 * tensor of small values, such as a gradient off by a constant factor). On
 * POCL the errors are around 1e-7.
 * CLRUN_PARITY_REPORT=1 prints the worst errors of every tensor to stderr. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "graph.h"
#include "io/safetensors.h"
#include "layers/loss.h"
#include "optim.h"
#include "suites.h"
#include "testutil.h"

Suite *parity_suite(void);

#define FIXTURE "tests/fixtures/lenet_sgd_step.safetensors"
#define MODEL "models/lenet.yaml"
#define SAMPLE "data/mnist-sample"
#define REGENERATE "; regenerate it with tools/make-parity-fixture"

/* What the fixture was made with (tools/make-parity-fixture). */
#define BATCH 64
#define STEPS 2
#define MEAN 0.1307
#define STD 0.3081
#define OPTIMIZER "{name: sgd, learning_rate: 0.01, momentum: 0.5}"

#define LOSS_RTOL 1e-5
#define TENSOR_TOL 1e-4

static void load_fixture(StFile *f)
{
    Err err = {""};
    int rc = st_read(FIXTURE, f, &err);
    ck_assert_msg(rc == CLRUN_OK, "%s" REGENERATE, err.msg);
}

/* The tensor named "<prefix><name>", which must have count elements. */
static const StTensor *fixture_tensor(const StFile *f, const char *prefix, const char *name,
                                      size_t count)
{
    char full[256];
    snprintf(full, sizeof full, "%s%s", prefix, name);
    const StTensor *t = st_find(f, full);
    ck_assert_msg(t != NULL, FIXTURE " has no tensor '%s'" REGENERATE, full);
    ck_assert_msg(t->count == count, FIXTURE ": '%s' has %zu values, expected %zu" REGENERATE,
                  full, t->count, count);
    return t;
}

/* "[3, 0, 4, 1]": a flat index in a row-major tensor of the given dims. */
static void format_index(char *buf, size_t size, size_t flat, int ndim, const long *dims)
{
    long idx[4] = {0, 0, 0, 0};
    for (int d = ndim - 1; d >= 0; d--) {
        idx[d] = (long)(flat % (size_t)dims[d]);
        flat /= (size_t)dims[d];
    }
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < ndim && used < size; d++)
        used += (size_t)snprintf(buf + used, size - used, "%s%ld", d ? ", " : "", idx[d]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

typedef struct {
    double worst_elem, worst_norm; /* the largest errors over all compared tensors */
    char worst_elem_what[256], worst_norm_what[160];
} Errors;

/* Compares clrun's values (got) with PyTorch's (want) for one tensor. */
static void compare(Errors *e, const char *what, const Param *p, const float *got,
                    const float *want)
{
    double worst = -1, diff2 = 0, want2 = 0;
    size_t at = 0;
    for (size_t i = 0; i < p->count; i++) {
        double d = fabs((double)got[i] - (double)want[i]);
        double scaled = d / fmax(1.0, fabs((double)want[i]));
        if (!(scaled <= worst)) { /* also catches NaN */
            worst = isnan(scaled) ? INFINITY : scaled;
            at = i;
        }
        diff2 += d * d;
        want2 += (double)want[i] * want[i];
    }
    double norm = want2 > 0 ? sqrt(diff2 / want2) : sqrt(diff2);
    if (isnan(norm))
        norm = INFINITY;
    char index[64];
    format_index(index, sizeof index, at, p->ndim, p->dims);
    if (getenv("CLRUN_PARITY_REPORT"))
        fprintf(stderr, "parity: %-22s element error %.3g at %s, norm error %.3g\n", what, worst,
                index, norm);
    if (worst > e->worst_elem) {
        e->worst_elem = worst;
        snprintf(e->worst_elem_what, sizeof e->worst_elem_what, "%s%s", what, index);
    }
    if (norm > e->worst_norm) {
        e->worst_norm = norm;
        snprintf(e->worst_norm_what, sizeof e->worst_norm_what, "%s", what);
    }
    ck_assert_msg(worst <= TENSOR_TOL,
                  "%s%s: clrun %.9g, PyTorch %.9g (error %.3g, tolerance %g * max(1, |PyTorch|))",
                  what, index, (double)got[at], (double)want[at], worst, TENSOR_TOL);
    ck_assert_msg(norm <= TENSOR_TOL,
                  "%s: relative error %.3g in the 2-norm (tolerance %g); worst element %s: "
                  "clrun %.9g, PyTorch %.9g",
                  what, norm, TENSOR_TOL, index, (double)got[at], (double)want[at]);
}

/* Reads a parameter's value or grad and compares it with fixture tensor prefix.name. */
static void compare_param(Errors *e, Graph *g, const StFile *f, const Param *p, cl_mem m,
                          const char *prefix)
{
    Err err = {""};
    float *got = malloc(p->count * sizeof *got);
    ck_assert_ptr_nonnull(got);
    int rc = dev_read(g->dev, m, 0, p->count * sizeof *got, got, &err);
    ck_assert_ok(rc, err);
    const StTensor *want = fixture_tensor(f, prefix, p->name, p->count);
    char what[160];
    snprintf(what, sizeof what, "%s%s", prefix, p->name);
    compare(e, what, p, got, want->data);
    free(got);
}

/* The bundled sample, also when dataset_open would pick a full MNIST in data/mnist/. */
static void open_sample(Dataset *ds)
{
    Err err = {""};
    int rc = dataset_open(ds, "mnist", "train", ".", &err);
    ck_assert_ok(rc, err);
    if (!strstr(ds->source, SAMPLE)) {
        dataset_free(ds);
        rc = idx_load(ds, SAMPLE "/train-images-idx3-ubyte.gz", SAMPLE "/train-labels-idx1-ubyte.gz",
                      &err);
        ck_assert_ok(rc, err);
    }
}

START_TEST(fixture_holds_the_bundled_sample)
{
    StFile f;
    Dataset ds;
    load_fixture(&f);
    open_sample(&ds);
    ck_assert_int_ge(ds.n, BATCH);
    ck_assert_int_eq(ds.c * ds.h * ds.w, 28 * 28);
    const StTensor *x = fixture_tensor(&f, "", "input", (size_t)BATCH * 28 * 28);
    const StTensor *y = fixture_tensor(&f, "", "target", BATCH);
    ck_assert_int_eq(x->ndim, 4);
    ck_assert_int_eq(y->ndim, 1);
    for (size_t i = 0; i < x->count; i++) {
        /* the fixture rounds the float64 value (v/255 - mean)/std to float32 */
        float want = (float)((ds.pixels[i] / 255.0 - MEAN) / STD);
        ck_assert_msg(x->data[i] == want,
                      "input of image %zu, pixel %zu: fixture %.9g, the sample gives %.9g "
                      "(pixel byte %d): the sample changed, so the fixture is stale" REGENERATE,
                      i / (28 * 28), i % (28 * 28), (double)x->data[i], (double)want, ds.pixels[i]);
    }
    for (int i = 0; i < BATCH; i++)
        ck_assert_msg(y->data[i] == ds.labels[i],
                      "label of image %d: fixture %g, the sample gives %d: the sample changed, "
                      "so the fixture is stale" REGENERATE,
                      i, (double)y->data[i], ds.labels[i]);
    dataset_free(&ds);
    st_free(&f);
}
END_TEST

START_TEST(two_sgd_steps_match_pytorch)
{
    Err err = {""};
    StFile f;
    Device dev;
    Graph g;
    Loss loss;
    Optimizer opt;
    Errors e = {0, 0, "", ""};
    load_fixture(&f);
    test_device(&dev);

    SpecNode *model = spec_load(MODEL, &err);
    ck_assert_msg(model != NULL, "%s", err.msg);
    int rc = graph_build(&g, model, &err);
    ck_assert_ok(rc, err);
    rc = graph_setup(&g, &dev, BATCH, 1, &err);
    ck_assert_ok(rc, err);
    rc = loss_find(&loss, "nll", model, &err);
    if (!rc) rc = loss_setup(&loss, &g, 1, &err);
    ck_assert_ok(rc, err);
    SpecNode *optim_spec = test_spec(OPTIMIZER);
    rc = optim_parse(&opt, optim_spec, &err);
    if (!rc) rc = optim_setup(&opt, &g, &err);
    ck_assert_ok(rc, err);

    /* PyTorch's initial weights, by name, in PyTorch's layouts */
    ck_assert_int_eq(g.n_params, 8);
    for (int i = 0; i < g.n_params; i++) {
        Param *p = &g.params[i];
        const StTensor *t = fixture_tensor(&f, "", p->name, p->count);
        ck_assert_int_eq(t->ndim, p->ndim);
        for (int d = 0; d < p->ndim; d++)
            ck_assert_msg(t->shape[d] == p->dims[d], "'%s' dimension %d: fixture %ld, clrun %ld",
                          p->name, d, t->shape[d], p->dims[d]);
        rc = dev_write(&dev, p->value, 0, p->count * sizeof(float), t->data, &err);
        ck_assert_ok(rc, err);
    }

    /* the batch: images into the input node, labels as int32 for the loss */
    const StTensor *x = fixture_tensor(&f, "", "input", (size_t)BATCH * 28 * 28);
    const StTensor *y = fixture_tensor(&f, "", "target", BATCH);
    int labels[BATCH];
    for (int i = 0; i < BATCH; i++)
        labels[i] = (int)y->data[i];
    g.batch = BATCH;
    rc = dev_write(&dev, g.nodes[0].out, 0, x->count * sizeof(float), x->data, &err);
    if (!rc) rc = dev_write(&dev, loss.labels, 0, sizeof labels, labels, &err);
    ck_assert_ok(rc, err);

    for (int step = 1; step <= STEPS; step++) {
        double sum = 0, correct = 0;
        rc = graph_forward(&g, &err);
        if (!rc) rc = loss_compute(&loss, &g, 0, &err);
        if (!rc) rc = loss_totals(&loss, &g, 1, &sum, &correct, &err);
        ck_assert_ok(rc, err);
        char name[32];
        snprintf(name, sizeof name, "loss%d", step);
        double mean = sum / BATCH, want = fixture_tensor(&f, "", name, 1)->data[0];
        double loss_err = fabs(mean - want) / fabs(want);
        if (getenv("CLRUN_PARITY_REPORT"))
            fprintf(stderr, "parity: %-22s clrun %.9g, PyTorch %.9g, relative error %.3g\n", name,
                    mean, want, loss_err);
        ck_assert_msg(loss_err <= LOSS_RTOL,
                      "step %d: loss %.9g, PyTorch %.9g (relative error %.3g, tolerance %g)", step,
                      mean, want, loss_err, LOSS_RTOL);

        rc = graph_backward(&g, &err);
        ck_assert_ok(rc, err);
        char prefix[16];
        snprintf(prefix, sizeof prefix, "grad%d.", step);
        for (int i = 0; i < g.n_params; i++)
            compare_param(&e, &g, &f, &g.params[i], g.params[i].grad, prefix);

        rc = optim_step(&opt, &g, &err);
        ck_assert_ok(rc, err);
        snprintf(prefix, sizeof prefix, "step%d.", step);
        for (int i = 0; i < g.n_params; i++)
            compare_param(&e, &g, &f, &g.params[i], g.params[i].value, prefix);
    }
    if (getenv("CLRUN_PARITY_REPORT"))
        fprintf(stderr, "parity: worst element error %.3g (%s), worst norm error %.3g (%s)\n",
                e.worst_elem, e.worst_elem_what, e.worst_norm, e.worst_norm_what);

    optim_free(&opt);
    graph_free(&g);
    spec_free(optim_spec);
    spec_free(model);
    dev_close(&dev);
    st_free(&f);
}
END_TEST

Suite *parity_suite(void)
{
    Suite *s = suite_create("parity");
    TCase *tc = tcase_create("parity");
    /* a cold kernel cache takes longer than Check's default 4 s to build */
    if (!getenv("CK_DEFAULT_TIMEOUT"))
        tcase_set_timeout(tc, 120);
    tcase_add_test(tc, fixture_holds_the_bundled_sample);
    tcase_add_test(tc, two_sgd_steps_match_pytorch);
    suite_add_tcase(s, tc);
    return s;
}
