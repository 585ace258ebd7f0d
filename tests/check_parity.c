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
 * CLRUN_PARITY_REPORT=1 prints the worst errors of every tensor to stderr.
 *
 * The resnet18 case does the same for models/resnet18.yaml against
 * torchvision's resnet18 in evaluation mode, block by block:
 * tests/fixtures/resnet18_narrow.pt (written by tools/make-resnet18-fixture)
 * is torchvision's state_dict of a copy with every width divided by 16, random
 * weights and batchnorm statistics, converted here by tools/torch-to-safetensors
 * and loaded as a user's weights; resnet18_narrow_blocks.safetensors holds the
 * input batch and the output of the stem, of every block, of the pooling and
 * of fc. The model is models/resnet18.yaml narrowed to the fixture's widths by
 * overrides. Every block must agree within 1e-4 relative: its largest
 * difference over its largest value, and in the 2-norm.
 * CLRUN_RESNET18_FIXTURE=PREFIX compares with another fixture (make
 * parity-imagenet: torchvision's full widths at 224 x 224). */
#include <check.h>
#include <math.h>
#include <stdarg.h>
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
#include "text.h"

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

/* ---- torchvision's ResNet-18, block by block ---- */

#define RESNET_MODEL "models/resnet18.yaml"
#define RESNET_FIXTURE "tests/fixtures/resnet18_narrow"
#define RESNET_PARAMS "tests/fixtures/resnet18_torchvision_params.txt"
#define RESNET_REGENERATE \
    "; regenerate it with build/bench-venv/bin/python tools/make-resnet18-fixture"
#define BLOCK_TOL 1e-4

/* What tools/make-resnet18-fixture writes: clrun's layer names, torchvision's
 * module names (avgpool flattened, as clrun's global_avgpool gives it). */
static const char *const resnet_blocks[] = {
    "conv1",    "maxpool",  "layer1.0", "layer1.1", "layer2.0", "layer2.1",
    "layer3.0", "layer3.1", "layer4.0", "layer4.1", "avgpool",  "fc",
};
#define N_RESNET_BLOCKS (int)(sizeof resnet_blocks / sizeof resnet_blocks[0])

static const char *resnet_fixture(void)
{
    const char *prefix = getenv("CLRUN_RESNET18_FIXTURE");
    return prefix && *prefix ? prefix : RESNET_FIXTURE;
}

/* PREFIX.pt through tools/torch-to-safetensors, as a user converts theirs;
 * returns the path of the weights it wrote. */
static const char *convert_checkpoint(const char *prefix)
{
    static char path[512];
    const char *base = strrchr(prefix, '/');
    snprintf(path, sizeof path, "build/test-tmp/%s.safetensors", base ? base + 1 : prefix);
    char cmd[1536], out[2048];
    /* its listing of every tensor left out: a pipe that fills and closes
     * before it is written would fail the converter */
    snprintf(cmd, sizeof cmd,
             "mkdir -p build/test-tmp && { /usr/bin/python3 tools/torch-to-safetensors %s.pt %s "
             ">/dev/null; }", prefix, path);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s:\n%s", cmd, out);
    return path;
}

static void set(SpecNode *model, const char *fmt, ...)
{
    char assignment[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(assignment, sizeof assignment, fmt, ap);
    va_end(ap);
    Err err = {""};
    int rc = spec_override(model, assignment, &err);
    ck_assert_ok(rc, err);
}

/* models/resnet18.yaml at the fixture's widths: every convolution's filters
 * divided as the stem's are, the fixture's image size and classes. */
static void narrow_model(SpecNode *model, const StFile *weights, const StTensor *x)
{
    const StTensor *stem = st_find(weights, "conv1.weight"), *fc = st_find(weights, "fc.weight");
    ck_assert_msg(stem && fc && stem->ndim == 4 && fc->ndim == 2 && x->ndim == 4,
                  "%s: no conv1.weight [C, 3, 7, 7] and fc.weight [K, C] beside an input "
                  "[B, 3, S, S]" RESNET_REGENERATE, resnet_fixture());
    long width = stem->shape[0];
    ck_assert_msg(width >= 1 && 64 % width == 0, "conv1 has %ld filters, not a divisor of 64",
                  width);
    set(model, "input=[3, %ld, %ld]", x->shape[2], x->shape[3]);
    set(model, "layers.fc.units=%ld", fc->shape[0]);
    SpecNode *layers = spec_get(model, "layers");
    for (int i = 0; i < layers->n; i++) {
        SpecNode *type = spec_get(layers->items[i], "type");
        SpecNode *name = spec_get(layers->items[i], "name");
        if (strcmp(type->value, "conv2d") == 0)
            set(model, "layers.%s.filters=%ld", name->value,
                atol(spec_get(layers->items[i], "filters")->value) / (64 / width));
    }
}

static Node *node_named(Graph *g, const char *name)
{
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, name) == 0)
            return &g->nodes[i];
    ck_abort_msg(RESNET_MODEL " has no layer '%s'", name);
    return NULL;
}

/* clrun's output of one block against torchvision's: the largest difference
 * over the largest value, and the 2-norm of the difference over the
 * reference's (per-element relative errors mean nothing where relu leaves
 * zeros). Returns the first. */
static double compare_block(Graph *g, const StFile *f, const char *name)
{
    Node *n = node_named(g, name);
    size_t count = (size_t)g->batch * (size_t)shape_size(n->out_shape);
    const StTensor *want = fixture_tensor(f, "", name, count);
    float *got = malloc(count * sizeof *got);
    ck_assert_ptr_nonnull(got);
    Err err = {""};
    int rc = dev_read(g->dev, n->out, 0, count * sizeof *got, got, &err);
    ck_assert_ok(rc, err);
    double worst = -1, top = 0, diff2 = 0, want2 = 0;
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
        double d = fabs((double)got[i] - (double)want->data[i]);
        if (!(d <= worst)) { /* also catches NaN */
            worst = isnan(d) ? INFINITY : d;
            at = i;
        }
        top = fmax(top, fabs((double)want->data[i]));
        diff2 += d * d;
        want2 += (double)want->data[i] * want->data[i];
    }
    double rel = top > 0 ? worst / top : worst, norm = want2 > 0 ? sqrt(diff2 / want2) : sqrt(diff2);
    char index[64];
    format_index(index, sizeof index, at, want->ndim, want->shape);
    if (getenv("CLRUN_PARITY_REPORT"))
        fprintf(stderr, "parity: %-9s %-20s max error / max value %.3g, 2-norm %.3g\n", name,
                index, rel, norm);
    ck_assert_msg(rel <= BLOCK_TOL && norm <= BLOCK_TOL,
                  "block %s: relative error %.3g (largest difference %.3g at %s: clrun %.9g, "
                  "torchvision %.9g; largest value %.3g), %.3g in the 2-norm; tolerance %g",
                  name, rel, worst, index, (double)got[at], (double)want->data[at], top, norm,
                  BLOCK_TOL);
    free(got);
    return rel;
}

START_TEST(resnet18_blocks_match_torchvision)
{
    Err err = {""};
    char path[512];
    StFile blocks, weights;
    Device dev;
    Graph g;
    snprintf(path, sizeof path, "%s_blocks.safetensors", resnet_fixture());
    int rc = st_read(path, &blocks, &err);
    ck_assert_msg(rc == CLRUN_OK, "%s" RESNET_REGENERATE, err.msg);
    const char *converted = convert_checkpoint(resnet_fixture());
    rc = st_read(converted, &weights, &err);
    ck_assert_ok(rc, err);
    const StTensor *x = st_find(&blocks, "input");
    ck_assert_msg(x != NULL, "%s has no input" RESNET_REGENERATE, path);

    SpecNode *model = spec_load(RESNET_MODEL, &err);
    ck_assert_msg(model != NULL, "%s", err.msg);
    narrow_model(model, &weights, x);
    test_device(&dev);
    rc = graph_build(&g, model, &err);
    if (!rc) rc = graph_setup(&g, &dev, (int)x->shape[0], 1, &err);
    /* every tensor of torchvision's state_dict, num_batches_tracked ignored */
    if (!rc) rc = graph_load_weights(&g, converted, &err);
    ck_assert_ok(rc, err);
    g.training = 0; /* evaluation: batchnorm by the running statistics */
    g.batch = (int)x->shape[0];
    rc = dev_write(&dev, g.nodes[0].out, 0, x->count * sizeof(float), x->data, &err);
    if (!rc) rc = graph_forward(&g, &err);
    ck_assert_ok(rc, err);
    double worst = 0;
    for (int i = 0; i < N_RESNET_BLOCKS; i++)
        worst = fmax(worst, compare_block(&g, &blocks, resnet_blocks[i]));
    if (getenv("CLRUN_PARITY_REPORT"))
        fprintf(stderr, "parity: resnet18 at width %ld, %ldx%ld, batch %ld: worst block %.3g\n",
                (long)g.nodes[1].out_shape.dim[0], x->shape[2], x->shape[3], x->shape[0], worst);

    graph_free(&g);
    dev_close(&dev);
    spec_free(model);
    st_free(&weights);
    st_free(&blocks);
}
END_TEST

/* The count that ends a summary row ("9,408": thousands separated), or 0. */
static long row_count(const char *line, const char *end)
{
    while (end > line && end[-1] != ' ')
        end--;
    long n = 0;
    for (; (*end >= '0' && *end <= '9') || *end == ','; end++)
        if (*end != ',')
            n = 10 * n + (*end - '0');
    return n;
}

/* `clrun summary` counts each layer's parameters as torchvision counts its
 * module's (tools/make-resnet18-fixture --params wrote them), the same
 * layers and the same total. */
START_TEST(resnet18_summary_counts_as_torchvision)
{
    static char out[16384], table[8192];
    ck_assert_int_eq(clrun("summary " RESNET_MODEL, out, sizeof out), 0);
    test_read_file(RESNET_PARAMS, table, sizeof table);
    int modules = 0, layers = 0;
    char name[128];
    long want, got;
    for (const char *line = table; line && sscanf(line, "%127s %ld", name, &want) == 2;
         line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        char key[160];
        if (strcmp(name, "total") == 0) {
            char number[TEXT_NUMBER_MAX];
            snprintf(key, sizeof key, "Total params: %s\n", text_thousands(want, number));
            ck_assert_msg(strstr(out, key), "want '%s' in:\n%s", key, out);
            continue;
        }
        modules++;
        snprintf(key, sizeof key, "\n%s ", name);
        const char *row = strstr(out, key), *end = row ? strchr(row + 1, '\n') : NULL;
        ck_assert_msg(row && end, "no layer '%s' in:\n%s", name, out);
        got = row_count(row, end);
        ck_assert_msg(got == want, "layer %s: %ld parameters, torchvision's module %ld", name, got,
                      want);
    }
    /* and no layer of clrun's has parameters that torchvision has not */
    for (const char *line = strchr(out, '\n'); line && line[1]; line = strchr(line + 1, '\n')) {
        const char *end = strchr(line + 1, '\n');
        if (!end || strncmp(line + 1, "Buffers", 7) == 0 || strncmp(line + 1, "Total", 5) == 0 ||
            strncmp(line + 1, "Trainable", 9) == 0 || strncmp(line + 1, "Non-trainable", 13) == 0)
            continue;
        layers += row_count(line, end) > 0;
    }
    ck_assert_msg(layers == modules, "%d layers of " RESNET_MODEL " have parameters, %d modules "
                  "of torchvision's resnet18:\n%s", layers, modules, out);
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
    tc = tcase_create("resnet18");
    if (!getenv("CK_DEFAULT_TIMEOUT"))
        tcase_set_timeout(tc, 120);
    tcase_add_test(tc, resnet18_blocks_match_torchvision);
    tcase_add_test(tc, resnet18_summary_counts_as_torchvision);
    suite_add_tcase(s, tc);
    return s;
}
