/* check_memplan.c: the memory plan (runtime/memplan.c) against a plain walk
 * over one training step's schedule written here from the layers' meaning,
 * and training with the plan against training without it, bit for bit. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "graph.h"
#include "memplan.h"
#include "suites.h"
#include "testutil.h"

/* ---- the reference walk ---- */

/* A tensor as the walk sees it: the first step that writes it and the last
 * that reads it. */
typedef struct {
    MemKind kind;
    int node, consumer, slot;
    size_t bytes;
    int first, last;
} Live;

typedef struct {
    Live t[512];
    int n;
    int steps;
} Walk;

static int is_type(const Node *n, const char *name)
{
    return n->type && strcmp(n->type->name, name) == 0;
}

/* Whether the layer's YAML gives it an activation other than linear. */
static int has_activation(const Node *n)
{
    SpecNode *a = spec_get(n->spec, "activation");
    return a && a->kind == SPEC_SCALAR && strcmp(a->value, "linear") != 0;
}

/* What backward reads, from what each layer computes: products need their
 * input (dW), batchnorm its input, activations their output. */
static int reads_input(const Node *n)
{
    return is_type(n, "conv2d") || is_type(n, "dense") || is_type(n, "batchnorm");
}

static int reads_output(const Node *n)
{
    static const char *const by_output[] = {"relu", "sigmoid", "tanh", "linear", "softmax",
                                            "log_softmax"};
    for (size_t i = 0; i < sizeof by_output / sizeof by_output[0]; i++)
        if (is_type(n, by_output[i]))
            return 1;
    return (is_type(n, "conv2d") || is_type(n, "dense")) && has_activation(n);
}

/* flatten is its input's buffers. */
static int owner(const Graph *g, int i)
{
    while (is_type(&g->nodes[i], "flatten"))
        i = (int)(g->nodes[i].inputs[0] - g->nodes);
    return i;
}

static Live *find(Walk *w, MemKind kind, int node, int consumer, int slot)
{
    for (int i = 0; i < w->n; i++)
        if (w->t[i].kind == kind && w->t[i].node == node &&
            (kind == MEM_OUT || kind == MEM_GRAD ||
             (w->t[i].consumer == consumer && w->t[i].slot == slot)))
            return &w->t[i];
    ck_assert_int_lt(w->n, 512);
    w->t[w->n] = (Live){kind, node, consumer, slot, 0, -1, -1};
    return &w->t[w->n++];
}

/* Records a write or read at step; bytes: the tensor's size (0: a read that does not say). */
static void use(Live *t, int step, size_t bytes)
{
    if (bytes)
        t->bytes = bytes;
    if (t->first < 0 || step < t->first)
        t->first = step;
    if (step > t->last)
        t->last = step;
}

/* The first (lowest) node that takes node i's buffers as an input, looking
 * through flattens. */
static int first_consumer(const Graph *g, int i)
{
    for (int c = i + 1; c < g->n_nodes; c++)
        if (!is_type(&g->nodes[c], "flatten"))
        for (int j = 0; j < g->nodes[c].n_inputs; j++)
                if (owner(g, (int)(g->nodes[c].inputs[j] - g->nodes)) == i)
                    return c;
    return -1;
}

/* The buffer that consumer c's backward writes input j's gradient into: the
 * input's own gradient when c is its first consumer and j its first slot
 * for it, else a buffer of the pair's. */
static Live *grad_written(Walk *w, const Graph *g, int c, int j)
{
    const Node *n = &g->nodes[c];
    int in = (int)(n->inputs[j] - g->nodes), first_slot = 1;
    for (int k = 0; k < j; k++)
        first_slot &= n->inputs[k] != n->inputs[j];
    if (first_consumer(g, owner(g, in)) == c && first_slot)
        return find(w, MEM_GRAD, owner(g, in), 0, 0);
    return find(w, MEM_EXTRA_GRAD, in, c, j);
}

/* The offsets' alignment the tests plan with. */
#define ALIGN 256

/* Each layer's scratch for a pass (what its setup asked for, each slot
 * aligned), live in that pass's step alone. */
static void walk_scratch(Walk *w, const Graph *g)
{
    int n = g->n_nodes;
    for (int i = 1; i < n; i++)
        for (int pass = MEM_FORWARD; pass <= MEM_BACKWARD; pass++) {
            size_t bytes = 0;
            for (int s = 0; s < SCRATCH_SLOTS; s++)
                bytes += (g->nodes[i].scratch_floats[pass][s] * sizeof(float) + ALIGN - 1) /
                         ALIGN * ALIGN;
            if (bytes)
                use(find(w, MEM_SCRATCH, i, 0, pass), pass == MEM_FORWARD ? i : 2 * n - i,
                    bytes);
        }
}

/* Steps: forward of node i at i, the loss at n, backward of node i at
 * 2n - i, the optimizer at 2n. Every write and read of a step is recorded. */
static void walk(Walk *w, const Graph *g, int batch)
{
    memset(w, 0, sizeof *w);
    int n = g->n_nodes, out = n - 1;
    w->steps = 2 * n + 1;
    size_t *bytes = calloc((size_t)n, sizeof *bytes);
    for (int i = 0; i < n; i++)
        bytes[i] = (size_t)batch * (size_t)shape_size(g->nodes[i].out_shape) * sizeof(float);
    for (int i = 1; i < n; i++) { /* forward */
        const Node *node = &g->nodes[i];
        if (is_type(node, "flatten"))
            continue;
        for (int j = 0; j < node->n_inputs; j++)
            if (owner(g, (int)(node->inputs[j] - g->nodes)) > 0)
                use(find(w, MEM_OUT, owner(g, (int)(node->inputs[j] - g->nodes)), 0, 0), i, 0);
        use(find(w, MEM_OUT, i, 0, 0), i, bytes[i]);
    }
    /* the loss reads the output (and a softmax's input, which it may fuse
     * with) and writes their gradients; the output is read after the step */
    int o = owner(g, out);
    use(find(w, MEM_OUT, o, 0, 0), 2 * n, bytes[o]);
    use(find(w, MEM_GRAD, o, 0, 0), n, bytes[o]);
    if (is_type(&g->nodes[out], "softmax") || is_type(&g->nodes[out], "log_softmax"))
        for (int j = 0; j < g->nodes[out].n_inputs; j++) {
            int in = owner(g, (int)(g->nodes[out].inputs[j] - g->nodes));
            if (in > 0) {
                use(find(w, MEM_OUT, in, 0, 0), n, bytes[in]);
                use(grad_written(w, g, out, j), n, bytes[in]);
            }
        }
    for (int i = n - 1; i >= 1; i--) { /* backward */
        const Node *node = &g->nodes[i];
        int step = 2 * n - i;
        if (is_type(node, "flatten")) { /* its consumers wrote its input's buffers */
            continue;
        }
        use(find(w, MEM_GRAD, i, 0, 0), step, bytes[i]);
        for (int c = i + 1; c < n; c++) /* the other consumers' gradients, added in */
            for (int j = 0; j < g->nodes[c].n_inputs; j++) {
                Live *e = find(w, MEM_EXTRA_GRAD, i, c, j);
                if (e->first >= 0)
                    use(e, step, bytes[i]);
                else
                    w->n--; /* nobody wrote one: not a tensor */
            }
        if (reads_output(node))
            use(find(w, MEM_OUT, i, 0, 0), step, bytes[i]);
        for (int j = 0; j < node->n_inputs; j++) {
            int in = (int)(node->inputs[j] - g->nodes);
            if (owner(g, in) == 0)
                continue;
            if (reads_input(node))
                use(find(w, MEM_OUT, owner(g, in), 0, 0), step, bytes[owner(g, in)]);
            use(grad_written(w, g, i, j), step, bytes[in]);
        }
    }
    walk_scratch(w, g);
    free(bytes);
}

/* The most bytes the walk has live at one step. */
static size_t walk_peak(const Walk *w)
{
    size_t peak = 0;
    for (int s = 0; s < w->steps; s++) {
        size_t live = 0;
        for (int i = 0; i < w->n; i++)
            if (w->t[i].first <= s && s <= w->t[i].last)
                live += w->t[i].bytes;
        peak = live > peak ? live : peak;
    }
    return peak;
}

/* ---- the plan against the walk ---- */

static const struct {
    const char *model;
    int batch;
} planned[] = {
    {"models/lenet.yaml", 64},
    {"models/keras-mlp-relu.yaml", 64},
    {"models/keras-cnn.yaml", 64},
    {"models/keras-cifar10.yaml", 32},
    {"models/resnet18-cifar.yaml", 128},
    {"models/resnet18.yaml", 4},
    {"models/ds5220-cnn.yaml", 50},
    {"models/lake-convnet.yaml", 16},
    {"tests/fixtures/memplan-shapes.yaml", 3},
};

/* The layers' scratch as they ask for it under each plan, on a CPU with
 * AVX2's vectors and on a GPU: no device is needed to plan it. */
static void plan_scratch(Graph *g, int gpu, int batch)
{
    PlanFacts facts = {gpu ? CL_DEVICE_TYPE_GPU : CL_DEVICE_TYPE_CPU, gpu ? 1024 : 4096,
                       gpu ? 65536 : 32768, gpu ? 40 : 2, 32u << 20, "test device", 8};
    Plan plan;
    Err err = {""};
    ck_assert_ok(plan_choose(&plan, &facts, NULL, NULL, &err), err);
    graph_plan_scratch(g, &plan, batch);
}

/* Every tensor the walk finds (the layers' scratch among them, under each
 * plan) is planned, lives at least as long, and shares no byte with one live
 * at the same step; the arenas hold no more than the most live at one step,
 * within 5%. */
static void check_plan_covers_the_walk(int i, int gpu)
{
    Err err = {""};
    SpecNode *root = spec_load(planned[i].model, &err);
    ck_assert_msg(root != NULL, "%s", err.msg);
    Graph g;
    memset(&g, 0, sizeof g);
    ck_assert_ok(graph_build(&g, root, &err), err);
    plan_scratch(&g, gpu, planned[i].batch);
    MemPlan p;
    ck_assert_ok(memplan_build(&p, &g, planned[i].batch, ALIGN, 0, &err), err);
    Walk *w = malloc(sizeof *w);
    walk(w, &g, planned[i].batch);
    ck_assert_int_eq(p.n, w->n);
    for (int j = 0; j < w->n; j++) {
        const Live *l = &w->t[j];
        const MemTensor *t = memplan_find(&p, l->kind, l->node, l->consumer, l->slot);
        ck_assert_msg(t != NULL, "%s: tensor %d of '%s' not planned", planned[i].model, l->kind,
                      g.nodes[l->node].name);
        ck_assert_msg(t->first <= l->first && t->last >= l->last && t->bytes == l->bytes,
                      "%s: tensor %d of '%s' planned for steps %d-%d, used %d-%d",
                      planned[i].model, l->kind, g.nodes[l->node].name, t->first, t->last,
                      l->first, l->last);
        ck_assert_uint_eq(t->offset % ALIGN, 0);
        for (int k = 0; k < j; k++) {
            const Live *m = &w->t[k];
            const MemTensor *u = memplan_find(&p, m->kind, m->node, m->consumer, m->slot);
            int meet = l->first <= m->last && m->first <= l->last;
            int overlap = t->offset < u->offset + u->bytes && u->offset < t->offset + t->bytes;
            ck_assert_msg(!(meet && overlap), "%s: '%s' and '%s' share memory while both live",
                          planned[i].model, g.nodes[l->node].name, g.nodes[m->node].name);
        }
    }
    size_t peak = walk_peak(w);
    ck_assert_msg(p.total >= peak && p.total <= peak + peak / 20,
                  "%s, %s plan: planned %zu bytes, %zu live at most", planned[i].model,
                  gpu ? "gpu" : "cpu", p.total, peak);
    ck_assert_msg(p.total < p.separate, "%s: the plan saves nothing", planned[i].model);
    free(w);
    memplan_free(&p);
    graph_free(&g);
    spec_free(root);
}

START_TEST(plan_covers_the_walk_and_packs_to_its_peak)
{
    check_plan_covers_the_walk(_i, 0);
    check_plan_covers_the_walk(_i, 1);
}
END_TEST

/* No tensor crosses an arena's end: with arenas of at most 3 MiB, ResNet-18
 * at batch 8 (tensors of 2 MiB) needs several, each tensor inside one. */
START_TEST(arenas_hold_whole_tensors)
{
    Err err = {""};
    SpecNode *root = spec_load("models/resnet18-cifar.yaml", &err);
    ck_assert_msg(root != NULL, "%s", err.msg);
    Graph g;
    memset(&g, 0, sizeof g);
    ck_assert_ok(graph_build(&g, root, &err), err);
    MemPlan p;
    size_t cap = 3 << 20;
    ck_assert_ok(memplan_build(&p, &g, 8, 128, cap, &err), err);
    ck_assert_uint_gt(p.total, cap);
    for (int i = 0; i < p.n; i++)
        ck_assert_uint_eq(p.t[i].offset / cap, (p.t[i].offset + p.t[i].bytes - 1) / cap);
    memplan_free(&p);
    /* a tensor larger than an arena is refused, naming its layer */
    ck_assert_int_eq(memplan_build(&p, &g, 8, 128, 1 << 20, &err), CLRUN_ERUNTIME);
    ck_assert_msg(strstr(err.msg, "layer 'conv1'") && strstr(err.msg, "train.batch_size"), "%s",
                  err.msg);
    graph_free(&g);
    spec_free(root);
}
END_TEST

/* `clrun summary --batch N` prints the plan's bytes before the layer table,
 * which still ends in the parameter count: the layers' scratch included, as
 * the device `run` would take plans it; a batch that is not a whole number
 * from 1 is refused, naming the option. */
START_TEST(summary_prints_the_planned_memory)
{
    Err err = {""};
    SpecNode *root = spec_load("models/resnet18-cifar.yaml", &err);
    ck_assert_msg(root != NULL, "%s", err.msg);
    Graph g;
    memset(&g, 0, sizeof g);
    ck_assert_ok(graph_build(&g, root, &err), err);
    MemPlan bare, p;
    ck_assert_ok(memplan_build(&bare, &g, 128, 128, 0, &err), err);
    Device d;
    ck_assert_ok(calib_open(&d, NULL, 0, &err), err);
    graph_plan_scratch(&g, &d.plan, 128);
    ck_assert_ok(memplan_build(&p, &g, 128, 128, 0, &err), err);
    ck_assert_uint_gt(p.total, bare.total); /* the convolutions' scratch */
    char out[16384];
    ck_assert_int_eq(clrun("summary experiments/cs375-resnet18.yaml --batch 128", out, sizeof out),
                     0);
    const char *what = "activations, gradients, scratch, planned";
    const char *line = strstr(out, what);
    double mib = 0;
    ck_assert_msg(strstr(out, "batches of 128") && strstr(out, d.name) && line &&
                  sscanf(line + strlen(what), "%lf", &mib) == 1,
                  "no planned memory in: %.300s", out);
    ck_assert_msg(fabs(mib - p.total / 1048576.0) <= 0.05, "summary says %.1f MiB, the plan %zu bytes",
                  mib, p.total);
    const char *total = strstr(out, "Total params: 11,173,962\n");
    ck_assert_msg(total && strcmp(total, "Total params: 11,173,962\n") == 0,
                  "the last line is not the parameter count");
    static const char *const bad[] = {"0", "x", "-3", "12x"};
    for (int i = 0; i < 4; i++) {
        char args[128];
        snprintf(args, sizeof args, "summary experiments/quickstart.yaml --batch %s", bad[i]);
        ck_assert_int_eq(clrun(args, out, sizeof out), 2);
        ck_assert_msg(strstr(out, "--batch") && strstr(out, bad[i]), "%.300s", out);
    }
    ck_assert_int_eq(clrun("summary experiments/quickstart.yaml --kernels gpu", out, sizeof out),
                     2);
    ck_assert_msg(strstr(out, "--batch"), "%.300s", out);
    dev_close(&d);
    memplan_free(&bare);
    memplan_free(&p);
    graph_free(&g);
    spec_free(root);
}
END_TEST

/* ---- training with and without the plan ---- */

/* Weights and checkpoint after training `args` with CLRUN_MEMPLAN=0 and with
 * the plan are the same bytes, and so are the run's files named in also
 * (NULL-terminated, may be NULL). */
static void same_weights(const char *name, const char *args, const char *const *also)
{
    char cmd[2048], out[8192];
    const char *modes[2] = {"CLRUN_MEMPLAN=0", "CLRUN_MEMPLAN=1"};
    for (int m = 0; m < 2; m++) {
        snprintf(cmd, sizeof cmd, "%s build/clrun run %s --out build/test-tmp/memplan-%s-%d "
                 "--overwrite", modes[m], args, name, m);
        ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s: %s", cmd, out);
    }
    /* the checkpoint holds the optimizer's state too */
    static const char *const files[] = {"weights.safetensors", "checkpoint.safetensors"};
    for (int f = 0; f < 2; f++) {
        snprintf(cmd, sizeof cmd, "cmp build/test-tmp/memplan-%s-0/%s build/test-tmp/memplan-%s-1/%s",
                 name, files[f], name, files[f]);
        ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s: %s differ: %s", name, files[f],
                      out);
    }
    for (; also && *also; also++) {
        snprintf(cmd, sizeof cmd, "cmp build/test-tmp/memplan-%s-0/%s build/test-tmp/memplan-%s-1/%s",
                 name, *also, name, *also);
        ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s: %s differ: %s", name, *also, out);
    }
}

START_TEST(quickstart_trains_the_same_bits_planned)
{
    same_weights("lenet", "experiments/quickstart.yaml train.epochs=1 data.limit=320", NULL);
}
END_TEST

/* Batchnorm, residual adds, a layer used three times, dropout, pooling, a
 * flatten and a softmax the loss fuses with. The RDMs of an analysis that
 * reads several layers in one pass, among them bn_b, whose memory later
 * layers reuse (the add reads nothing in backward), are the same too. */
START_TEST(residual_model_trains_the_same_bits_planned)
{
    static const char *const rdms[] = {"rsa/rdm_bn_b.npy", "rsa/rdm_sum.npy", "rsa/rdm_fc1.npy",
                                       NULL};
    same_weights("residual", "tests/fixtures/memplan-train.yaml "
                 "'analyses=[{name: rsa, type: rsa, layers: [fc1, bn_b, sum], items: example, "
                 "limit: 32}]'", rdms);
}
END_TEST

Suite *memplan_suite(void)
{
    Suite *s = suite_create("memplan");
    TCase *tc = tcase_create("plan");
    tcase_add_loop_test(tc, plan_covers_the_walk_and_packs_to_its_peak, 0,
                        (int)(sizeof planned / sizeof planned[0]));
    tcase_add_test(tc, arenas_hold_whole_tensors);
    tcase_add_test(tc, summary_prints_the_planned_memory);
    suite_add_tcase(s, tc);
    TCase *train = tcase_create("train");
    tcase_set_timeout(train, 600);
    tcase_add_test(train, quickstart_trains_the_same_bits_planned);
    tcase_add_test(train, residual_model_trains_the_same_bits_planned);
    suite_add_tcase(s, train);
    return s;
}
