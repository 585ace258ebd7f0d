/* check_layers.c: numerical tests of the layers, losses, SGD and dropout on
 * the test device (POCL unless CLRUN_DEVICE says otherwise), against plain
 * double-precision references written here, independent of the kernels:
 *   - every layer type's forward pass, and its input and parameter gradients
 *     against central differences of sum(dy * forward(x)), on shapes that are
 *     no multiple of any work-group size and with a batch smaller than the
 *     buffers' (rows past the batch must stay untouched);
 *   - nll and cross_entropy: per-batch loss sums, correct counts, gradients;
 *   - SGD steps (momentum, nesterov, weight decay) against PyTorch's rule;
 *   - dropout masks in training mode;
 *   - the shape errors graph_build reports (no device needed).
 * Every model under test starts with `front`, a dropout of rate 0 (a copy with
 * buffers of its own), so the gradient with respect to the input of the
 * layers under test is front's grad. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "layers/layers.h"
#include "layers/loss.h"
#include "optim.h"
#include "rng.h"
#include "suites.h"
#include "testutil.h"

Suite *layers_suite(void);

#define FD_EPS 1e-4
#define SENTINEL 1234.5 /* written past the batch: must survive every pass */

/* ---- references ---- */

typedef enum {
    REF_END,
    REF_CONV,
    REF_POOL,
    REF_DENSE,
    REF_FLATTEN,
    REF_RELU,
    REF_SOFTMAX,
    REF_LOG_SOFTMAX,
    REF_COPY,
} RefKind;

/* One layer of a reference model: a case sets the kind and hyperparameters,
 * ref_shape derives the rest from the layer's input shape. */
typedef struct {
    RefKind kind;
    int o;                /* conv2d filters, dense units */
    int kh, kw, sh, sw;   /* window and stride (conv2d, maxpool2d) */
    int same, padh, padw; /* padding 'same', else explicit padding */
    int act;              /* ACT_* of conv2d and dense */
    int c, h, w;          /* derived: the input of one example (flat: h = w = 1) */
    int oc, oh, ow;       /* derived: the output of one example */
    int ph, pw;           /* derived: leading padding */
} RefLayer;

/* The discrete choices of a forward pass (relu signs, maxpool winners) as a
 * hash, and the smallest distance to changing one. */
typedef struct {
    uint64_t sig;
    double margin;
} Trace;

static Trace trace_start(void)
{
    return (Trace){0xcbf29ce484222325ull, INFINITY};
}

static void trace(Trace *t, uint64_t choice, double margin)
{
    t->sig = (t->sig ^ choice) * 0x100000001b3ull;
    if (margin < t->margin)
        t->margin = margin;
}

/* Output length and leading padding of one axis: TensorFlow's 'same'
 * (ceil(in / stride), the odd pixel of padding at the end), else explicit. */
static void ref_axis(int same, int in, int k, int s, int pad, int *out, int *lead)
{
    if (same) {
        *out = (in + s - 1) / s;
        int total = (*out - 1) * s + k - in;
        *lead = total > 0 ? total / 2 : 0;
    } else {
        *out = (in + 2 * pad - k) / s + 1;
        *lead = pad;
    }
}

static void ref_shape(RefLayer *L, int c, int h, int w)
{
    L->c = c, L->h = h, L->w = w;
    L->oc = c, L->oh = h, L->ow = w;
    switch (L->kind) {
    case REF_CONV:
    case REF_POOL:
        L->oc = L->kind == REF_CONV ? L->o : c;
        ref_axis(L->same, h, L->kh, L->sh, L->padh, &L->oh, &L->ph);
        ref_axis(L->same, w, L->kw, L->sw, L->padw, &L->ow, &L->pw);
        break;
    case REF_DENSE:
    case REF_FLATTEN:
        L->oc = L->kind == REF_DENSE ? L->o : c * h * w;
        L->oh = L->ow = 1;
        break;
    default:
        break;
    }
}

static size_t ref_in_size(const RefLayer *L)
{
    return (size_t)L->c * L->h * L->w;
}

static size_t ref_out_size(const RefLayer *L)
{
    return (size_t)L->oc * L->oh * L->ow;
}

/* Weights in PyTorch's layout (conv OIHW, dense [out, in]), then the bias. */
static size_t ref_weight_count(const RefLayer *L)
{
    if (L->kind == REF_CONV)
        return (size_t)L->oc * L->c * L->kh * L->kw;
    return L->kind == REF_DENSE ? (size_t)L->oc * L->c : 0;
}

static size_t ref_param_count(const RefLayer *L)
{
    size_t w = ref_weight_count(L);
    return w ? w + (size_t)L->oc : 0;
}

static double ref_act(double z, int act, Trace *t)
{
    switch (act) {
    case ACT_RELU:
        trace(t, z > 0, fabs(z));
        return z > 0 ? z : 0;
    case ACT_SIGMOID: return 1 / (1 + exp(-z));
    case ACT_TANH: return tanh(z);
    default: return z;
    }
}

/* The pre-activation of conv output (n, o, oy, ox). */
static double ref_conv_at(const RefLayer *L, const double *x, const double *p, int n, int o,
                          int oy, int ox)
{
    double z = p[ref_weight_count(L) + (size_t)o];
    for (int c = 0; c < L->c; c++)
        for (int i = 0; i < L->kh; i++)
            for (int j = 0; j < L->kw; j++) {
                int iy = oy * L->sh - L->ph + i, ix = ox * L->sw - L->pw + j;
                if (iy >= 0 && iy < L->h && ix >= 0 && ix < L->w)
                    z += p[((o * L->c + c) * L->kh + i) * L->kw + j] *
                         x[((n * L->c + c) * L->h + iy) * L->w + ix];
            }
    return z;
}

static void ref_conv(const RefLayer *L, int batch, const double *x, const double *p, double *y,
                     Trace *t)
{
    for (int n = 0; n < batch; n++)
        for (int o = 0; o < L->oc; o++)
            for (int oy = 0; oy < L->oh; oy++)
                for (int ox = 0; ox < L->ow; ox++)
                    y[((n * L->oc + o) * L->oh + oy) * L->ow + ox] =
                        ref_act(ref_conv_at(L, x, p, n, o, oy, ox), L->act, t);
}

/* Max over the window's pixels inside the image; padding never wins. */
static double ref_pool_at(const RefLayer *L, const double *plane, int oy, int ox, Trace *t)
{
    double best = -INFINITY, second = -INFINITY;
    int arg = -1;
    for (int i = 0; i < L->kh; i++)
        for (int j = 0; j < L->kw; j++) {
            int iy = oy * L->sh - L->ph + i, ix = ox * L->sw - L->pw + j;
            if (iy < 0 || iy >= L->h || ix < 0 || ix >= L->w)
                continue;
            double v = plane[iy * L->w + ix];
            if (v > best) {
                second = best;
                best = v;
                arg = iy * L->w + ix;
            } else if (v > second) {
                second = v;
            }
        }
    trace(t, (uint64_t)arg, best - second);
    return best;
}

static void ref_pool(const RefLayer *L, int batch, const double *x, double *y, Trace *t)
{
    for (int plane = 0; plane < batch * L->c; plane++)
        for (int oy = 0; oy < L->oh; oy++)
            for (int ox = 0; ox < L->ow; ox++)
                y[(plane * L->oh + oy) * L->ow + ox] =
                    ref_pool_at(L, x + (size_t)plane * L->h * L->w, oy, ox, t);
}

static void ref_dense(const RefLayer *L, int batch, const double *x, const double *p, double *y,
                      Trace *t)
{
    const double *bias = p + ref_weight_count(L);
    for (int n = 0; n < batch; n++)
        for (int o = 0; o < L->oc; o++) {
            double z = bias[o];
            for (int i = 0; i < L->c; i++)
                z += p[o * L->c + i] * x[n * L->c + i];
            y[n * L->oc + o] = ref_act(z, L->act, t);
        }
}

static double ref_logsumexp(const double *x, int n)
{
    double m = -INFINITY, s = 0;
    for (int i = 0; i < n; i++)
        m = fmax(m, x[i]);
    for (int i = 0; i < n; i++)
        s += exp(x[i] - m);
    return m + log(s);
}

static void ref_softmax(const RefLayer *L, int batch, const double *x, double *y, int log_output)
{
    for (int n = 0; n < batch; n++) {
        const double *xr = x + (size_t)n * L->c;
        double lse = ref_logsumexp(xr, L->c);
        for (int i = 0; i < L->c; i++)
            y[n * L->c + i] = log_output ? xr[i] - lse : exp(xr[i] - lse);
    }
}

static void ref_layer(const RefLayer *L, int batch, const double *x, const double *p, double *y,
                      Trace *t)
{
    size_t count = (size_t)batch * ref_in_size(L);
    switch (L->kind) {
    case REF_CONV: ref_conv(L, batch, x, p, y, t); break;
    case REF_POOL: ref_pool(L, batch, x, y, t); break;
    case REF_DENSE: ref_dense(L, batch, x, p, y, t); break;
    case REF_SOFTMAX: ref_softmax(L, batch, x, y, 0); break;
    case REF_LOG_SOFTMAX: ref_softmax(L, batch, x, y, 1); break;
    case REF_RELU:
        for (size_t i = 0; i < count; i++)
            y[i] = ref_act(x[i], ACT_RELU, t);
        break;
    default: memcpy(y, x, count * sizeof *y); break; /* flatten, dropout in evaluation */
    }
}

/* A chain of reference layers run on a batch, with its scratch buffers. */
typedef struct {
    RefLayer layers[6];
    int n, batch;
    size_t in, out, params; /* per-example input and output sizes; all parameters */
    double *buf[3];         /* two for intermediate activations, one for the output */
} RefNet;

static void ref_net_init(RefNet *r, const RefLayer *layers, int c, int h, int w, int batch)
{
    memset(r, 0, sizeof *r);
    size_t largest = (size_t)c * h * w;
    for (r->n = 0; layers[r->n].kind != REF_END; r->n++) {
        RefLayer *L = &r->layers[r->n];
        *L = layers[r->n];
        ref_shape(L, c, h, w);
        c = L->oc, h = L->oh, w = L->ow;
        r->params += ref_param_count(L);
        if (ref_out_size(L) > largest)
            largest = ref_out_size(L);
    }
    r->batch = batch;
    r->in = ref_in_size(&r->layers[0]);
    r->out = ref_out_size(&r->layers[r->n - 1]);
    for (int i = 0; i < 3; i++)
        r->buf[i] = malloc((size_t)batch * largest * sizeof(double));
}

static void ref_net_free(RefNet *r)
{
    for (int i = 0; i < 3; i++)
        free(r->buf[i]);
}

/* y = the chain applied to x with parameters P (each layer's weight, then bias). */
static void ref_forward(RefNet *r, const double *x, const double *P, double *y, Trace *t)
{
    const double *in = x;
    for (int i = 0; i < r->n; i++) {
        double *out = i == r->n - 1 ? y : r->buf[i % 2];
        ref_layer(&r->layers[i], r->batch, in, P, out, t);
        P += ref_param_count(&r->layers[i]);
        in = out;
    }
}

/* ---- finite differences ---- */

/* A scalar function of some doubles the caller perturbs; it records its
 * discrete choices in t. */
typedef double (*Objective)(void *ctx, Trace *t);

/* Central differences of f with respect to the n entries of v (which f reads
 * through ctx). An entry whose perturbation changes one of f's discrete
 * choices (a kink) gets NAN, which assert_close skips; returns their number. */
static size_t fd_grad(Objective f, void *ctx, double *v, size_t n, double *out)
{
    Trace base = trace_start();
    f(ctx, &base);
    size_t kinks = 0;
    for (size_t i = 0; i < n; i++) {
        double keep = v[i];
        Trace up = trace_start(), down = trace_start();
        v[i] = keep + FD_EPS;
        double fp = f(ctx, &up);
        v[i] = keep - FD_EPS;
        double fm = f(ctx, &down);
        v[i] = keep;
        if (up.sig != base.sig || down.sig != base.sig) {
            out[i] = NAN;
            kinks++;
        } else {
            out[i] = (fp - fm) / (2 * FD_EPS);
        }
    }
    return kinks;
}

/* sum(dy * forward(x, P)) */
typedef struct {
    RefNet *net;
    const double *x, *P, *dy;
} LayerObjective;

static double layer_objective(void *ctx, Trace *t)
{
    LayerObjective *o = ctx;
    double *y = o->net->buf[2], s = 0;
    ref_forward(o->net, o->x, o->P, y, t);
    for (size_t i = 0; i < (size_t)o->net->batch * o->net->out; i++)
        s += o->dy[i] * y[i];
    return s;
}

/* ---- comparisons and device buffers ---- */

/* |got - want| <= rel * |want| + abs everywhere but where want is NAN. */
static void assert_close(const char *what, const double *got, const double *want, size_t n,
                         double rel, double abs)
{
    for (size_t i = 0; i < n; i++)
        if (!isnan(want[i]))
            ck_assert_msg(fabs(got[i] - want[i]) <= rel * fabs(want[i]) + abs,
                          "%s[%zu]: got %.9g, want %.9g", what, i, got[i], want[i]);
}

static void assert_all(const char *what, const double *got, size_t n, double value)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(got[i] == value, "%s[%zu]: got %.9g, want %.9g (untouched)", what, i,
                      got[i], value);
}

/* Uniform in [lo, hi), rounded to floats so device and reference see the same numbers. */
static double *random_vec(size_t n, uint64_t seed, double lo, double hi)
{
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = (float)(lo + (hi - lo) * rng_uniform(&seed));
    return v;
}

typedef struct {
    Device dev;
    Graph g;
    SpecNode *root;
} Net;

/* A model of input `input` whose layers are front, then the YAML list items in layers. */
static void net_open(Net *t, const char *input, const char *layers, int max_batch)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "name: t\ninput: %s\nlayers:\n  - {name: front, type: dropout, rate: 0}\n%s", input,
             layers);
    test_device(&t->dev);
    test_graph(&t->g, &t->root, &t->dev, yaml, max_batch, 7);
}

static void net_close(Net *t)
{
    graph_free(&t->g);
    dev_close(&t->dev);
    spec_free(t->root);
}

static void put(Net *t, cl_mem m, const double *v, size_t n)
{
    Err err = {""};
    float *f = malloc(n * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)v[i];
    int rc = dev_write(&t->dev, m, 0, n * sizeof *f, f, &err);
    free(f);
    ck_assert_ok(rc, err);
}

static void put_const(Net *t, cl_mem m, double value, size_t n)
{
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = value;
    put(t, m, v, n);
    free(v);
}

static void get(Net *t, cl_mem m, double *v, size_t n)
{
    Err err = {""};
    float *f = malloc(n * sizeof *f);
    int rc = dev_read(&t->dev, m, 0, n * sizeof *f, f, &err);
    for (size_t i = 0; !rc && i < n; i++)
        v[i] = f[i];
    free(f);
    ck_assert_ok(rc, err);
}

/* Every parameter's value (or grad), concatenated in graph order. */
static void params_get(Net *t, double *all, int grad)
{
    for (int i = 0; i < t->g.n_params; i++) {
        Param *p = &t->g.params[i];
        get(t, grad ? p->grad : p->value, all, p->count);
        all += p->count;
    }
}

static void params_put(Net *t, const double *all, int grad)
{
    for (int i = 0; i < t->g.n_params; i++) {
        Param *p = &t->g.params[i];
        put(t, grad ? p->grad : p->value, all, p->count);
        all += p->count;
    }
}

static void run_ok(int rc, const Err *err)
{
    ck_assert_msg(rc == CLRUN_OK, "%s", err->msg);
}

/* ---- layers: forward and gradients ---- */

typedef struct {
    const char *name;
    const char *input;  /* the model's input: */
    int c, h, w;        /* the same for the reference (flat: h = w = 1) */
    const char *layers; /* YAML list items after front */
    RefLayer ref[6];    /* ended by REF_END */
    int batch, max_batch;
} LayerCase;

#define IMG "[5, 7, 9]", 5, 7, 9
#define FLAT "[37]", 37, 1, 1
#define CONV(...) {.kind = REF_CONV, __VA_ARGS__}
#define POOL(K, S, P) {.kind = REF_POOL, .kh = K, .kw = K, .sh = S, .sw = S, .padh = P, .padw = P}
#define DENSE(U, ACT) {.kind = REF_DENSE, .o = U, .act = ACT}
#define ONLY(KIND) {.kind = KIND}

static const LayerCase layer_cases[] = {
    {"conv2d valid 3x3 relu", IMG,
     "  - {name: conv, type: conv2d, filters: 6, kernel_size: 3, padding: valid, activation: relu}\n",
     {CONV(.o = 6, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .act = ACT_RELU)}, 3, 4},
    {"conv2d same 3x2 stride 2 tanh", IMG,
     "  - {name: conv, type: conv2d, filters: 5, kernel_size: [3, 2], stride: 2, padding: same,"
     " activation: tanh}\n",
     {CONV(.o = 5, .kh = 3, .kw = 2, .sh = 2, .sw = 2, .same = 1, .act = ACT_TANH)}, 3, 4},
    {"conv2d padding [1, 2] stride [2, 1] sigmoid", IMG,
     "  - {name: conv, type: conv2d, filters: 4, kernel_size: [2, 3], stride: [2, 1],"
     " padding: [1, 2], activation: sigmoid}\n",
     {CONV(.o = 4, .kh = 2, .kw = 3, .sh = 2, .sw = 1, .padh = 1, .padw = 2, .act = ACT_SIGMOID)},
     3, 4},
    {"conv2d same even 4x4 linear, full batch", IMG,
     "  - {name: conv, type: conv2d, filters: 3, kernel_size: 4, padding: same, activation: linear}\n",
     {CONV(.o = 3, .kh = 4, .kw = 4, .sh = 1, .sw = 1, .same = 1, .act = ACT_LINEAR)}, 3, 3},
    {"conv2d stride 3 past kernel 2 padding 1", IMG,
     "  - {name: conv, type: conv2d, filters: 5, kernel_size: 2, stride: 3, padding: 1}\n",
     {CONV(.o = 5, .kh = 2, .kw = 2, .sh = 3, .sw = 3, .padh = 1, .padw = 1)}, 3, 4},
    {"maxpool2d 2", IMG, "  - {name: pool, type: maxpool2d, pool_size: 2}\n", {POOL(2, 2, 0)}, 3,
     4},
    {"maxpool2d 3 stride 2 padding 1", IMG,
     "  - {name: pool, type: maxpool2d, pool_size: 3, stride: 2, padding: 1}\n", {POOL(3, 2, 1)},
     3, 4},
    {"maxpool2d 2 stride 3 padding 1", IMG,
     "  - {name: pool, type: maxpool2d, pool_size: 2, stride: 3, padding: 1}\n", {POOL(2, 3, 1)},
     3, 4},
    {"dense relu", FLAT, "  - {name: fc, type: dense, units: 13, activation: relu}\n",
     {DENSE(13, ACT_RELU)}, 3, 5},
    {"dense sigmoid", FLAT, "  - {name: fc, type: dense, units: 13, activation: sigmoid}\n",
     {DENSE(13, ACT_SIGMOID)}, 3, 5},
    {"dense tanh", FLAT, "  - {name: fc, type: dense, units: 13, activation: tanh}\n",
     {DENSE(13, ACT_TANH)}, 3, 5},
    {"dense linear", FLAT, "  - {name: fc, type: dense, units: 13, activation: linear}\n",
     {DENSE(13, ACT_LINEAR)}, 3, 5},
    {"dense without activation", FLAT, "  - {name: fc, type: dense, units: 13}\n",
     {DENSE(13, ACT_LINEAR)}, 5, 5},
    {"relu", IMG, "  - {name: act, type: relu}\n", {ONLY(REF_RELU)}, 3, 4},
    {"softmax", "[13]", 13, 1, 1, "  - {name: sm, type: softmax}\n", {ONLY(REF_SOFTMAX)}, 3, 4},
    {"log_softmax", "[13]", 13, 1, 1, "  - {name: lsm, type: log_softmax}\n",
     {ONLY(REF_LOG_SOFTMAX)}, 3, 4},
    {"flatten then dense", IMG,
     "  - {name: flat, type: flatten}\n"
     "  - {name: fc, type: dense, units: 13, activation: tanh}\n",
     {ONLY(REF_FLATTEN), DENSE(13, ACT_TANH)}, 3, 4},
    {"dropout in evaluation", IMG, "  - {name: drop, type: dropout, rate: 0.3}\n",
     {ONLY(REF_COPY)}, 3, 4},
    {"conv2d, maxpool2d, flatten, dense, log_softmax", "[3, 11, 10]", 3, 11, 10,
     "  - {name: conv, type: conv2d, filters: 5, kernel_size: 3, padding: same, activation: tanh}\n"
     "  - {name: pool, type: maxpool2d, pool_size: 2}\n"
     "  - {name: flat, type: flatten}\n"
     "  - {name: fc, type: dense, units: 13, activation: relu}\n"
     "  - {name: out, type: log_softmax}\n",
     {CONV(.o = 5, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .same = 1, .act = ACT_TANH),
      POOL(2, 2, 0), ONLY(REF_FLATTEN), DENSE(13, ACT_RELU), ONLY(REF_LOG_SOFTMAX)},
     3, 4},
};

#define N_LAYER_CASES ((int)(sizeof layer_cases / sizeof layer_cases[0]))

/* One case on the device: the model, its reference, the batch's input and
 * the parameters as the device initialised them. */
typedef struct {
    const LayerCase *lc;
    Net net;
    RefNet ref;
    Node *front, *out;
    double *x, *P;
    size_t nx, ny; /* floats of input and output in the batch */
} LayerRun;

/* The graph's shapes and parameters must be those of the reference. */
static void check_shapes(LayerRun *run)
{
    Shape s = run->out->out_shape;
    const RefLayer *last = &run->ref.layers[run->ref.n - 1];
    ck_assert_int_eq(shape_size(s), (long)run->ref.out);
    if (s.rank == 3) {
        ck_assert_int_eq(s.dim[0], last->oc);
        ck_assert_int_eq(s.dim[1], last->oh);
        ck_assert_int_eq(s.dim[2], last->ow);
    }
    int p = 0;
    for (int i = 0; i < run->ref.n; i++) {
        const RefLayer *L = &run->ref.layers[i];
        if (!ref_weight_count(L))
            continue;
        ck_assert_int_lt(p + 1, run->net.g.n_params);
        ck_assert_uint_eq(run->net.g.params[p++].count, ref_weight_count(L));
        ck_assert_uint_eq(run->net.g.params[p++].count, (size_t)L->oc);
    }
    ck_assert_int_eq(p, run->net.g.n_params);
}

static void layer_run_open(LayerRun *run, const LayerCase *lc)
{
    run->lc = lc;
    net_open(&run->net, lc->input, lc->layers, lc->max_batch);
    run->net.g.batch = lc->batch;
    run->net.g.training = 0;
    ref_net_init(&run->ref, lc->ref, lc->c, lc->h, lc->w, lc->batch);
    run->front = &run->net.g.nodes[1];
    run->out = graph_output(&run->net.g);
    check_shapes(run);
    run->nx = (size_t)lc->batch * run->ref.in;
    run->ny = (size_t)lc->batch * run->ref.out;
    run->x = random_vec(run->nx, 11, -1, 1);
    put(&run->net, run->net.g.nodes[0].out, run->x, run->nx);
    run->P = malloc((run->ref.params + 1) * sizeof *run->P);
    params_get(&run->net, run->P, 0);
}

static void layer_run_close(LayerRun *run)
{
    free(run->x);
    free(run->P);
    ref_net_free(&run->ref);
    net_close(&run->net);
}

/* Reads all max_batch rows of a buffer and checks that those past the batch
 * still hold SENTINEL. */
static double *get_rows(LayerRun *run, cl_mem m, size_t per_example, const char *what)
{
    size_t all = (size_t)run->lc->max_batch * per_example, used = run->lc->batch * per_example;
    double *v = malloc(all * sizeof *v);
    char label[160];
    get(&run->net, m, v, all);
    snprintf(label, sizeof label, "%s: %s past the batch", run->lc->name, what);
    assert_all(label, v + used, all - used, SENTINEL);
    return v;
}

static void check_forward(LayerRun *run)
{
    Err err = {""};
    char label[160];
    put_const(&run->net, run->out->out, SENTINEL, run->lc->max_batch * run->ref.out);
    run_ok(graph_forward(&run->net.g, &err), &err);
    double *y = get_rows(run, run->out->out, run->ref.out, "output");
    double *want = malloc(run->ny * sizeof *want);
    Trace t = trace_start();
    ref_forward(&run->ref, run->x, run->P, want, &t);
    ck_assert_msg(t.margin > 1e-5, "%s: an input is %g from a relu kink or maxpool tie: change the seed",
                  run->lc->name, t.margin);
    snprintf(label, sizeof label, "%s: output", run->lc->name);
    assert_close(label, y, want, run->ny, 1e-5, 1e-6);
    free(y);
    free(want);
}

/* The device's gradient for v (n entries of x or P) against central differences. */
static void check_gradient(LayerRun *run, LayerObjective *obj, double *v, const double *got,
                           size_t n, const char *what)
{
    char label[160];
    double *want = malloc((n + 1) * sizeof *want);
    size_t kinks = fd_grad(layer_objective, obj, v, n, want);
    ck_assert_msg(kinks * 20 <= n, "%s: %zu of %zu %s entries next to kinks", run->lc->name,
                  kinks, n, what);
    snprintf(label, sizeof label, "%s: gradient of %s", run->lc->name, what);
    assert_close(label, got, want, n, 1e-4, 1e-5);
    free(want);
}

static void check_backward(LayerRun *run)
{
    Err err = {""};
    double *dy = random_vec(run->ny, 13, -1, 1);
    put(&run->net, run->out->grad, dy, run->ny);
    put_const(&run->net, run->front->grad, SENTINEL, run->lc->max_batch * run->ref.in);
    run_ok(graph_backward(&run->net.g, &err), &err);
    double *dx = get_rows(run, run->front->grad, run->ref.in, "input gradient");
    double *dP = malloc((run->ref.params + 1) * sizeof *dP);
    params_get(&run->net, dP, 1);

    LayerObjective obj = {&run->ref, run->x, run->P, dy};
    check_gradient(run, &obj, run->x, dx, run->nx, "the input");
    if (run->ref.params)
        check_gradient(run, &obj, run->P, dP, run->ref.params, "the parameters");
    free(dy);
    free(dx);
    free(dP);
}

START_TEST(layer_forward_and_gradients)
{
    LayerRun run;
    layer_run_open(&run, &layer_cases[_i]);
    check_forward(&run);
    check_backward(&run);
    layer_run_close(&run);
}
END_TEST

/* ---- losses ---- */

typedef struct {
    const char *name;
    const char *layers; /* after front: the output the loss reads */
} LossCase;

static const LossCase loss_cases[] = {
    {"nll", "  - {name: out, type: log_softmax}\n"},
    {"cross_entropy", ""},
};

#define CLASSES 11

static int ref_argmax(const double *z, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (z[i] > z[best])
            best = i;
    return best;
}

/* One example's loss: nll reads log-probabilities, cross_entropy logits. */
static double ref_loss(const char *name, const double *z, int label)
{
    if (strcmp(name, "nll") == 0)
        return -z[label];
    return ref_logsumexp(z, CLASSES) - z[label];
}

/* d(mean loss)/dz, worked out by hand. */
static void ref_loss_grad(const char *name, const double *z, const int *labels, int rows,
                          double *grad)
{
    for (int r = 0; r < rows; r++) {
        const double *zr = z + r * CLASSES;
        double lse = ref_logsumexp(zr, CLASSES);
        for (int c = 0; c < CLASSES; c++) {
            double p = strcmp(name, "nll") == 0 ? 0 : exp(zr[c] - lse);
            grad[r * CLASSES + c] = (p - (c == labels[r])) / rows;
        }
    }
}

typedef struct {
    const char *name;
    const double *z;
    const int *labels;
    int rows;
} LossObjective;

static double mean_loss(void *ctx, Trace *t)
{
    (void)t;
    LossObjective *o = ctx;
    double s = 0;
    for (int r = 0; r < o->rows; r++)
        s += ref_loss(o->name, o->z + r * CLASSES, o->labels[r]);
    return s / o->rows;
}

/* One batch through the loss into slot: checks the gradient it writes and
 * returns the reference loss sum; adds the reference correct count. */
static double loss_batch(Net *t, Loss *l, const char *name, int slot, int rows, uint64_t seed,
                         int *correct)
{
    Err err = {""};
    size_t n = (size_t)rows * CLASSES;
    Node *out = graph_output(&t->g);
    double *x = random_vec(n, seed, -3, 3), *z = malloc(n * sizeof *z);
    double *got = malloc(n * sizeof *got), *want = malloc(n * sizeof *want);
    int labels[16];
    /* every other example labelled with its prediction, so both counts occur */
    for (int r = 0; r < rows; r++)
        labels[r] = r % 2 ? (int)rng_below(&seed, CLASSES) : ref_argmax(x + r * CLASSES, CLASSES);
    t->g.batch = rows;
    put(t, t->g.nodes[0].out, x, n);
    run_ok(dev_write(&t->dev, l->labels, 0, (size_t)rows * sizeof *labels, labels, &err), &err);
    run_ok(graph_forward(&t->g, &err), &err);
    run_ok(loss_compute(l, &t->g, slot, &err), &err);
    get(t, out->out, z, n);
    get(t, out->grad, got, n);

    LossObjective obj = {name, z, labels, rows};
    double sum = mean_loss(&obj, NULL) * rows;
    for (int r = 0; r < rows; r++)
        *correct += ref_argmax(z + r * CLASSES, CLASSES) == labels[r];
    ref_loss_grad(name, z, labels, rows, want);
    assert_close(name, got, want, n, 1e-5, 1e-7);
    ck_assert_int_eq(fd_grad(mean_loss, &obj, z, n, want), 0);
    assert_close(name, got, want, n, 1e-4, 1e-6);
    free(x), free(z), free(got), free(want);
    return sum;
}

START_TEST(loss_sums_counts_and_gradients)
{
    const LossCase *lc = &loss_cases[_i];
    Net t;
    Loss l;
    Err err = {""};
    net_open(&t, "[11]", lc->layers, 6);
    run_ok(loss_find(&l, lc->name, t.root, &err), &err);
    run_ok(loss_setup(&l, &t.g, 2, &err), &err);

    int correct0 = 0, correct = 0;
    double sum0 = loss_batch(&t, &l, lc->name, 0, 5, 21, &correct0);
    correct = correct0;
    double sum1 = loss_batch(&t, &l, lc->name, 1, 3, 22, &correct);
    ck_assert_int_gt(correct0, 0); /* some right and some wrong predictions */
    ck_assert_int_lt(correct, 8);

    double loss, right;
    run_ok(loss_totals(&l, &t.g, 1, &loss, &right, &err), &err);
    ck_assert_double_eq_tol(loss, sum0, 1e-5 * sum0);
    ck_assert_double_eq(right, correct0);
    run_ok(loss_totals(&l, &t.g, 2, &loss, &right, &err), &err);
    ck_assert_double_eq_tol(loss, sum0 + sum1, 1e-5 * (sum0 + sum1));
    ck_assert_double_eq(right, correct);
    net_close(&t);
}
END_TEST

/* ---- SGD ---- */

typedef struct {
    const char *yaml;
    double lr, momentum, weight_decay;
    int nesterov;
} SgdCase;

static const SgdCase sgd_cases[] = {
    {"{name: sgd, learning_rate: 0.1}", 0.1, 0, 0, 0},
    {"{name: sgd, learning_rate: 0.1, momentum: 0.5}", 0.1, 0.5, 0, 0},
    {"{name: sgd, learning_rate: 0.2, weight_decay: 0.1}", 0.2, 0, 0.1, 0},
    {"{name: sgd, learning_rate: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0.01}", 0.05,
     0.9, 0.01, 1},
};

/* PyTorch's SGD: g += wd*p; v = momentum*v + g; p -= lr*(nesterov ? g + momentum*v : v). */
static void ref_sgd_step(const SgdCase *s, double *p, double *v, const double *grad, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double g = grad[i] + s->weight_decay * p[i];
        v[i] = s->momentum * v[i] + g;
        p[i] -= s->lr * (s->nesterov ? g + s->momentum * v[i] : v[i]);
    }
}

START_TEST(sgd_matches_pytorch_for_two_steps)
{
    const SgdCase *s = &sgd_cases[_i];
    Net t;
    Err err = {""};
    Optimizer o;
    net_open(&t, "[13]", "  - {name: fc, type: dense, units: 7}\n", 1);
    SpecNode *spec = test_spec(s->yaml);
    run_ok(optim_parse(&o, spec, &err), &err);
    run_ok(optim_setup(&o, &t.g, &err), &err);

    size_t n = (size_t)graph_param_count(&t.g, 1);
    double *p = malloc(n * sizeof *p), *v = calloc(n, sizeof *v), *got = malloc(n * sizeof *got);
    params_get(&t, p, 0);
    for (int step = 0; step < 2; step++) {
        double *grad = random_vec(n, 31 + (uint64_t)step, -1, 1);
        params_put(&t, grad, 1);
        run_ok(optim_step(&o, &t.g, &err), &err);
        ref_sgd_step(s, p, v, grad, n);
        params_get(&t, got, 0);
        assert_close(s->yaml, got, p, n, 1e-5, 1e-6);
        free(grad);
    }
    free(p), free(v), free(got);
    optim_free(&o);
    spec_free(spec);
    net_close(&t);
}
END_TEST

/* ---- dropout in training ---- */

#define DROP_ROWS 101
#define DROP_COLS 997

/* Forward at the graph's current seed and step; returns the output. */
static double *dropout_forward(Net *t)
{
    Err err = {""};
    size_t n = (size_t)DROP_ROWS * DROP_COLS;
    double *y = malloc(n * sizeof *y);
    run_ok(graph_forward(&t->g, &err), &err);
    get(t, graph_output(&t->g)->out, y, n);
    return y;
}

static size_t masks_differ(const double *a, const double *b, size_t n)
{
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        d += (a[i] == 0) != (b[i] == 0);
    return d;
}

START_TEST(dropout_masks_in_training)
{
    const double rate = 0.3;
    const float scale = 1.0f / (1.0f - (float)rate);
    size_t n = (size_t)DROP_ROWS * DROP_COLS;
    Net t;
    Err err = {""};
    net_open(&t, "[997]", "  - {name: drop, type: dropout, rate: 0.3}\n", DROP_ROWS);
    t.g.training = 1;
    double *x = random_vec(n, 41, 0.5, 1.5), *dy = random_vec(n, 42, 0.5, 1.5);
    double *dx = malloc(n * sizeof *dx);
    put(&t, t.g.nodes[0].out, x, n);
    double *y = dropout_forward(&t);

    size_t dropped = 0;
    for (size_t i = 0; i < n; i++) {
        dropped += y[i] == 0;
        ck_assert_msg(y[i] == 0 || y[i] == (float)x[i] * scale, "y[%zu] = %.9g, x = %.9g", i,
                      y[i], x[i]);
    }
    double sd = sqrt(n * rate * (1 - rate));
    ck_assert_msg(fabs((double)dropped - n * rate) < 5 * sd, "dropped %zu of %zu", dropped, n);

    put(&t, graph_output(&t.g)->grad, dy, n);
    run_ok(graph_backward(&t.g, &err), &err);
    get(&t, t.g.nodes[1].grad, dx, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(dx[i] == (y[i] == 0 ? 0 : (float)dy[i] * scale),
                      "dx[%zu] = %.9g with y = %.9g, dy = %.9g", i, dx[i], y[i], dy[i]);

    double *again = dropout_forward(&t);
    ck_assert_uint_eq(masks_differ(y, again, n), 0);
    t.g.step = 1;
    double *next = dropout_forward(&t);
    /* two independent masks disagree on 2 * 0.3 * 0.7 = 42% of the elements */
    ck_assert_uint_gt(masks_differ(y, next, n), n * 35 / 100);
    t.g.step = 0;
    t.g.seed ^= 0x5eed;
    double *reseeded = dropout_forward(&t);
    ck_assert_uint_gt(masks_differ(y, reseeded, n), n * 35 / 100);
    t.g.seed ^= 0x5eed;
    double *back = dropout_forward(&t); /* a function of (seed, step), not of history */
    ck_assert_uint_eq(masks_differ(y, back, n), 0);
    free(x), free(dy), free(dx), free(y), free(again), free(next), free(reseeded), free(back);
    net_close(&t);
}
END_TEST

/* ---- shape errors (no device) ---- */

typedef struct {
    const char *layer; /* on line 5, after a conv2d giving [4, 5, 7] */
    const char *name;
    const char *phrases[3];
} ShapeCase;

/* Every message names the layer, also for an unknown type or a missing key. */
static const ShapeCase shape_cases[] = {
    {"  - {name: big, type: conv2d, filters: 4, kernel_size: [6, 2]}\n", "big", {"does not fit"}},
    {"  - {name: wide, type: maxpool2d, pool_size: 6}\n", "wide", {"does not fit"}},
    {"  - {name: fc, type: dense, units: 10}\n", "fc", {"flatten"}},
    {"  - {name: mystery, type: convolution, filters: 3}\n", "mystery",
     {"'convolution'", "conv2d", "log_softmax"}},
    {"  - {name: nofilters, type: conv2d, kernel_size: 3}\n", "nofilters", {"'filters'"}},
    {"  - {name: nosize, type: maxpool2d, stride: 2}\n", "nosize", {"'pool_size'"}},
};

START_TEST(shape_errors_name_file_line_and_layer)
{
    const ShapeCase *sc = &shape_cases[_i];
    char yaml[512], where[600], name[80];
    snprintf(yaml, sizeof yaml,
             "name: bad\ninput: [3, 7, 9]\nlayers:\n"
             "  - {name: c1, type: conv2d, filters: 4, kernel_size: 3}\n%s",
             sc->layer);
    SpecNode *root = test_spec(yaml);
    Graph g;
    Err err = {""};
    ck_assert_int_eq(graph_build(&g, root, &err), CLRUN_EINPUT);
    snprintf(where, sizeof where, "%s:5:", root->file);
    snprintf(name, sizeof name, "'%s'", sc->name);
    ck_assert_msg(strncmp(err.msg, where, strlen(where)) == 0, "'%s' does not start with '%s'",
                  err.msg, where);
    ck_assert_msg(strstr(err.msg, name), "'%s' does not name layer %s", err.msg, name);
    for (int i = 0; i < 3 && sc->phrases[i]; i++)
        ck_assert_msg(strstr(err.msg, sc->phrases[i]), "'%s' lacks '%s'", err.msg,
                      sc->phrases[i]);
    graph_free(&g);
    spec_free(root);
}
END_TEST

Suite *layers_suite(void)
{
    Suite *s = suite_create("layers");
    TCase *device = tcase_create("device");
    /* the first test of a fresh cache compiles the kernels */
    tcase_set_timeout(device, 120);
    tcase_add_loop_test(device, layer_forward_and_gradients, 0, N_LAYER_CASES);
    tcase_add_loop_test(device, loss_sums_counts_and_gradients, 0,
                        (int)(sizeof loss_cases / sizeof loss_cases[0]));
    tcase_add_loop_test(device, sgd_matches_pytorch_for_two_steps, 0,
                        (int)(sizeof sgd_cases / sizeof sgd_cases[0]));
    tcase_add_test(device, dropout_masks_in_training);
    suite_add_tcase(s, device);

    TCase *shapes = tcase_create("shapes");
    tcase_add_loop_test(shapes, shape_errors_name_file_line_and_layer, 0,
                        (int)(sizeof shape_cases / sizeof shape_cases[0]));
    suite_add_tcase(s, shapes);
    return s;
}
