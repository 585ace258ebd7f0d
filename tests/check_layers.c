/* check_layers.c: numerical tests of the layers, losses, SGD and dropout on
 * the test device (POCL unless CLRUN_DEVICE says otherwise), against plain
 * double-precision references written here, independent of the kernels:
 *   - every layer type's forward pass, and its input and parameter gradients
 *     against central differences of sum(dy * forward(x)), on shapes that are
 *     no multiple of any work-group size and with a batch smaller than the
 *     buffers' (rows past the batch must stay untouched); batchnorm in
 *     training (batch statistics) and evaluation; residual graphs whose
 *     layers feed several consumers;
 *   - nll and cross_entropy: per-batch loss sums, correct counts, gradients;
 *   - SGD steps (momentum, nesterov, weight decay) against PyTorch's rule;
 *   - dropout and dropout2d masks in training mode;
 *   - batchnorm's buffers, running statistics and bit-reproducibility;
 *   - the shape errors graph_build reports (no device needed).
 * Every model under test starts with `front`, a dropout of rate 0 (a copy with
 * buffers of its own), so the gradient with respect to the input of the
 * layers under test is front's grad. */
#include <check.h>
#include <limits.h>
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
#include "data/feed.h"
#include "testutil.h"

/* The layouts feed_batch_case gathers: channels of 1 x w values, with one
 * scale and shift for all (norm_channels 1) or a pair per channel. A plane
 * of 150 is two whole runs of the cpu plan's gather (64 values, in vectors)
 * and a part of one, starting at values that are no multiple of a run. */
static const struct {
    int c, w, norm_channels;
} feed_cases[] = {{3, 1, 1}, {3, 150, 3}, {1, 150, 1}};

/* Scales and shifts whose products are exact: the device may fuse the
 * multiply-add, the reference does not. */
static FeedNorm feed_case_norm(int channels)
{
    FeedNorm norm = {.channels = channels, .scale = {0.5f, 0.25f, 2.0f},
                     .shift = {-1.0f, 3.0f, 0.125f}};
    return norm;
}

/* A batch gathered on the device from a dataset of bytes and one of floats:
 * the examples the split's order names, scaled and shifted per channel, and
 * their labels. */
START_TEST(feed_gathers_a_batch_in_the_split_order)
{
    static const int order[4] = {5, 0, 3, 2};
    int c = feed_cases[_i].c, size = c * feed_cases[_i].w, plane = feed_cases[_i].w;
    FeedNorm norm = feed_case_norm(feed_cases[_i].norm_channels);
    char model[128];
    snprintf(model, sizeof model, "input: [%d]\nlayers: [{name: fc, type: dense, units: 2}]\n",
             size);
    unsigned char *pixels = malloc((size_t)(6 * size)), labels[6];
    float *values = malloc((size_t)(6 * size) * sizeof *values);
    double *x = malloc((size_t)(4 * size) * sizeof *x);
    for (int i = 0; i < 6 * size; i++)
        pixels[i] = (unsigned char)(i * 37 % 251), values[i] = (float)pixels[i] - 100.25f;
    for (int i = 0; i < 6; i++)
        labels[i] = (unsigned char)(9 - i);
    for (int floats = 0; floats < 2; floats++) {
        Device d;
        Graph g;
        SpecNode *spec;
        Err err = {""};
        test_device(&d);
        test_graph(&g, &spec, &d, model, 4, 1);
        Dataset ds = {.n = 6, .c = c, .h = 1, .w = plane, .labels = labels, .classes = 10};
        if (floats)
            ds.values = values;
        else
            ds.pixels = pixels;
        FeedData f;
        Feed split;
        cl_mem y;
        ck_assert_ok(feed_upload(&f, &g, &ds, &err), err);
        ck_assert_ok(feed_select(&split, "test", &g, &f, order, 4, &err), err);
        ck_assert_ok(graph_buffer(&g, 4, "labels", &y, &err), err);
        ck_assert_ok(feed_batch(&split, &g, 0, 4, &norm, y, &err), err);
        cl_int got[4];
        test_get(&d, g.nodes[0].out, x, (size_t)(4 * size));
        ck_assert_ok(dev_read(&d, y, 0, sizeof got, got, &err), err);
        for (int r = 0; r < 4; r++) {
            ck_assert_int_eq(got[r], labels[order[r]]);
            for (int j = 0; j < size; j++) {
                int at = size * order[r] + j, k = norm.channels > 1 ? j / plane : 0;
                float v = floats ? values[at] : (float)pixels[at];
                float want = v * norm.scale[k] + norm.shift[k];
                ck_assert_msg(x[size * r + j] == (double)want, "case %d, %s, row %d value %d: "
                              "%g, want %g", _i, floats ? "floats" : "bytes", r, j,
                              x[size * r + j], (double)want);
            }
        }
        feed_free(&split);
        test_close(&g, &d, spec);
    }
    free(pixels), free(values), free(x);
}
END_TEST

/* The non-finite check keeps the earliest code: a NaN in a later position of
 * an earlier batch beats an infinity of a later batch, values outside the
 * checked range and finite ones count for nothing, and the code decodes to
 * the layer and batch. */
START_TEST(nonfinite_check_keeps_the_earliest_place)
{
    Device d;
    Graph g;
    SpecNode *model;
    Err err = {""};
    test_device(&d);
    test_graph(&g, &model, &d, "input: [4]\nlayers: [{name: fc, type: dense, units: 3}]\n", 1, 1);
    ck_assert_ok(graph_nonfinite_on(&g, &err), err);
    g.training = 1;
    cl_int none = INT_MAX, found = 0;
    ck_assert_ok(dev_write(&d, g.nonfinite, 0, sizeof none, &none, &err), err);
    double v[200];
    for (int i = 0; i < 200; i++)
        v[i] = i - 100.5;
    cl_mem a, b;
    ck_assert_ok(graph_buffer(&g, 200, "a", &a, &err), err);
    ck_assert_ok(graph_buffer(&g, 200, "b", &b, &err), err);
    test_put(&d, a, v, 200);
    v[130] = NAN;
    v[10] = INFINITY; /* before the range checked below */
    test_put(&d, b, v, 200);
    g.check_batch = 2;
    ck_assert_ok(graph_nonfinite_check(&g, b, 50, 150, 1, &err), err); /* NaN: batch 2, pos 1 */
    g.check_batch = 0;
    ck_assert_ok(graph_nonfinite_check(&g, a, 0, 200, 0, &err), err); /* all finite */
    ck_assert_ok(graph_nonfinite_check(&g, b, 20, 150, 2, &err), err); /* NaN: batch 0, pos 2 */
    ck_assert_ok(dev_read(&d, g.nonfinite, 0, sizeof found, &found, &err), err);
    char what[160];
    int batch = -1;
    graph_nonfinite_describe(&g, found, what, sizeof what, &batch);
    ck_assert_int_eq(batch, 0);
    ck_assert_str_eq(what, "the loss"); /* position 2 of a two-node graph */
    g.training = 0; /* evaluation is not checked */
    ck_assert_ok(dev_write(&d, g.nonfinite, 0, sizeof none, &none, &err), err);
    ck_assert_ok(graph_nonfinite_check(&g, b, 0, 200, 1, &err), err);
    ck_assert_ok(dev_read(&d, g.nonfinite, 0, sizeof found, &found, &err), err);
    ck_assert_int_eq(found, INT_MAX);
    test_close(&g, &d, model);
}
END_TEST

/* A product launched with its split dimension padded (a local size above 1
 * there, or more groups than splits): the work-items past the last split
 * must write nothing, neither over C nor past it. Each kernel of both plans
 * computes one 3 x 5 x 4 product as one split, C followed by sentinels. */
static const struct {
    const char *kernel;
    int groups_x, side; /* groups along x (N = 5 columns), work-items a side (0: the plan's) */
    int z_local;
} split_cases[] = {{"gemm_nn", 1, 1, 4}, {"gemm_nt", 2, 1, 4}, {"gemm_tiled", 1, 0, 1}};

START_TEST(padded_splits_write_nothing)
{
    Device d;
    Graph g;
    SpecNode *model;
    Err err = {""};
    test_device(&d);
    test_graph(&g, &model, &d, "input: [2]\nlayers: [{name: d, type: dense, units: 2}]\n", 1, 1);
    enum { M = 3, N = 5, K = 4, PAD = 4 };
    double a[M * K], b[K * N], c[PAD * M * N], want[M * N] = {0};
    for (int i = 0; i < M * K; i++)
        a[i] = i % 7 - 3;
    for (int i = 0; i < K * N; i++)
        b[i] = i % 5 - 2;
    for (int i = 0; i < PAD * M * N; i++)
        c[i] = 99;
    int nt = strcmp(split_cases[_i].kernel, "gemm_nt") == 0; /* B as [N, K] */
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++)
            for (int k = 0; k < K; k++)
                want[m * N + n] += a[m * K + k] * b[nt ? n * K + k : k * N + n];
    cl_mem A, B, C;
    ck_assert_ok(graph_buffer(&g, M * K, "A", &A, &err), err);
    ck_assert_ok(graph_buffer(&g, K * N, "B", &B, &err), err);
    ck_assert_ok(graph_buffer(&g, PAD * M * N, "C", &C, &err), err);
    test_put(&d, A, a, M * K);
    test_put(&d, B, b, K * N);
    test_put(&d, C, c, PAD * M * N);
    cl_kernel k;
    ck_assert_ok(dev_kernel(&d, split_cases[_i].kernel, &k, &err), err);
    int m_ = M, n_ = N, k_ = K, one = 1, zero = 0, lda = K, ldb = N, ldbt = K, unit = 1;
    int cols = N, ldc = N, c_split = M * N, panel = 16;
    /* the tiled kernel's groups cover N = 5 whatever its tile; the split
     * dimension's local size stays within the kernel's limit (groups past
     * the split pad it where that is 1) */
    size_t side = split_cases[_i].side ? 1 : (size_t)d.plan.tile_group;
    size_t groups = split_cases[_i].side ? (size_t)split_cases[_i].groups_x
                                         : (size_t)(N + d.plan.tile - 1) / (size_t)d.plan.tile;
    size_t z = (size_t)split_cases[_i].z_local, most = dev_limits(&d, k)->max_group / side / side;
    size_t global[3] = {side * groups, side, PAD}, local[3] = {side, side, z < most ? z : most};
    int rc;
    if (strcmp(split_cases[_i].kernel, "gemm_nn") == 0)
        rc = DEV_LAUNCH(&d, k, 3, global, local, &err, KA(m_), KA(n_), KA(k_), KA(k_), KA(one),
                        KA(zero), KA(A), KA(zero), KA(lda), KA(unit), KA(zero), KA(zero), KA(B),
                        KA(zero), KA(ldb), KA(zero), KA(cols), KA(panel), KA(C), KA(ldc),
                        KA(c_split), KA(zero));
    else if (nt)
        rc = DEV_LAUNCH(&d, k, 3, global, local, &err, KA(m_), KA(n_), KA(k_), KA(k_), KA(one),
                        KA(zero), KA(A), KA(lda), KA(zero), KA(B), KA(ldbt), KA(zero), KA(C),
                        KA(ldc), KA(c_split), KA(zero));
    else
        rc = DEV_LAUNCH(&d, k, 3, global, local, &err, KA(m_), KA(n_), KA(k_), KA(k_), KA(one),
                        KA(zero), KA(A), KA(lda), KA(unit), KA(zero), KA(B), KA(ldb), KA(unit),
                        KA(zero), KA(C), KA(ldc), KA(c_split), KA(zero));
    ck_assert_ok(rc, err);
    test_get(&d, C, c, PAD * M * N);
    for (int i = 0; i < M * N; i++)
        ck_assert_msg(c[i] == want[i], "%s: C[%d] = %g, want %g", split_cases[_i].kernel, i, c[i],
                      want[i]);
    for (int i = M * N; i < PAD * M * N; i++)
        ck_assert_msg(c[i] == 99, "%s wrote %g past C, at %d", split_cases[_i].kernel, c[i], i);
    test_close(&g, &d, model);
}
END_TEST

Suite *layers_suite(void);

#define FD_EPS 1e-4
#define SENTINEL 1234.5 /* written past the batch: must survive every pass */

/* ---- references ---- */

typedef enum {
    REF_END,
    REF_CONV,
    REF_POOL,
    REF_AVGPOOL,
    REF_GLOBAL_AVGPOOL,
    REF_DENSE,
    REF_FLATTEN,
    REF_ACT,
    REF_SOFTMAX,
    REF_LOG_SOFTMAX,
    REF_BATCHNORM,
    REF_ADD,
    REF_COPY,
} RefKind;

#define REF_MAX_LAYERS 6

/* One layer of a reference model: a case sets the kind and hyperparameters,
 * ref_shape derives the rest from the layer's input shape. */
typedef struct {
    RefKind kind;
    int o;                /* conv2d filters, dense units */
    int kh, kw, sh, sw;   /* window and stride (conv2d, pools) */
    int same, padh, padw; /* padding 'same', else explicit padding */
    int act;              /* ACT_* of conv2d, dense and the activation layers */
    int nobias;           /* conv2d bias: false */
    double eps;           /* batchnorm epsilon */
    int training;         /* batchnorm: batch statistics (the case runs the graph in training) */
    int n_from, from[2];  /* inputs when not the layer before: 0 the model's, k the k-th layer's */
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
    case REF_AVGPOOL:
        L->oc = L->kind == REF_CONV ? L->o : c;
        ref_axis(L->same, h, L->kh, L->sh, L->padh, &L->oh, &L->ph);
        ref_axis(L->same, w, L->kw, L->sw, L->padw, &L->ow, &L->pw);
        break;
    case REF_DENSE:
    case REF_FLATTEN:
        L->oc = L->kind == REF_DENSE ? L->o : c * h * w;
        L->oh = L->ow = 1;
        break;
    case REF_GLOBAL_AVGPOOL:
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

/* The layer's tensors in graph order, their sizes and whether they are
 * trained: weight and bias; batchnorm's weight, bias, running mean and
 * running variance. Returns their number. */
static int ref_tensors(const RefLayer *L, size_t count[4], int trainable[4])
{
    if (L->kind == REF_BATCHNORM) {
        for (int i = 0; i < 4; i++) {
            count[i] = (size_t)L->c;
            trainable[i] = i < 2;
        }
        return 4;
    }
    if (!ref_weight_count(L))
        return 0;
    count[0] = ref_weight_count(L), count[1] = (size_t)L->oc;
    trainable[0] = trainable[1] = 1;
    return L->nobias ? 1 : 2;
}

/* Trainable entries (trainable 1) or buffer entries (0) of the layer. */
static size_t ref_tensor_sum(const RefLayer *L, int trainable)
{
    size_t count[4], sum = 0;
    int train[4], n = ref_tensors(L, count, train);
    for (int i = 0; i < n; i++)
        sum += train[i] == trainable ? count[i] : 0;
    return sum;
}

static size_t ref_param_count(const RefLayer *L)
{
    return ref_tensor_sum(L, 1) + ref_tensor_sum(L, 0);
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
    double z = L->nobias ? 0.0 : p[ref_weight_count(L) + (size_t)o];
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

/* The mean over the window: of the pixels inside the image for padding
 * 'same' (Keras), of the whole window, padding included, else (PyTorch). */
static double ref_avgpool_at(const RefLayer *L, const double *plane, int oy, int ox)
{
    double sum = 0;
    int inside = 0;
    for (int i = 0; i < L->kh; i++)
        for (int j = 0; j < L->kw; j++) {
            int iy = oy * L->sh - L->ph + i, ix = ox * L->sw - L->pw + j;
            if (iy >= 0 && iy < L->h && ix >= 0 && ix < L->w) {
                sum += plane[iy * L->w + ix];
                inside++;
            }
        }
    return sum / (L->same ? inside : L->kh * L->kw);
}

static double ref_plane_mean(const RefLayer *L, const double *plane)
{
    double sum = 0;
    for (int i = 0; i < L->h * L->w; i++)
        sum += plane[i];
    return sum / (L->h * L->w);
}

static void ref_pool(const RefLayer *L, int batch, const double *x, double *y, Trace *t)
{
    for (int plane = 0; plane < batch * L->c; plane++) {
        const double *xp = x + (size_t)plane * L->h * L->w;
        for (int oy = 0; oy < L->oh; oy++)
            for (int ox = 0; ox < L->ow; ox++) {
                double *out = &y[(plane * L->oh + oy) * L->ow + ox];
                if (L->kind == REF_POOL)
                    *out = ref_pool_at(L, xp, oy, ox, t);
                else if (L->kind == REF_AVGPOOL)
                    *out = ref_avgpool_at(L, xp, oy, ox);
                else
                    *out = ref_plane_mean(L, xp);
            }
    }
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

/* Channel c's mean and biased variance over the batch and the pixels. */
static void ref_bn_stats(const RefLayer *L, int batch, const double *x, int c, double *mean,
                         double *var)
{
    size_t P = (size_t)L->h * L->w, M = (size_t)batch * P;
    double sum = 0, sq = 0;
    for (int n = 0; n < batch; n++)
        for (size_t i = 0; i < P; i++)
            sum += x[(n * L->c + c) * P + i];
    *mean = sum / M;
    for (int n = 0; n < batch; n++)
        for (size_t i = 0; i < P; i++)
            sq += pow(x[(n * L->c + c) * P + i] - *mean, 2);
    *var = sq / M;
}

/* p: gamma, beta, running mean, running variance, each [C]. */
static void ref_batchnorm(const RefLayer *L, int batch, const double *x, const double *p,
                          double *y)
{
    size_t P = (size_t)L->h * L->w;
    const double *gamma = p, *beta = p + L->c, *run_mean = p + 2 * L->c, *run_var = p + 3 * L->c;
    for (int c = 0; c < L->c; c++) {
        double mean = run_mean[c], var = run_var[c];
        if (L->training)
            ref_bn_stats(L, batch, x, c, &mean, &var);
        for (int n = 0; n < batch; n++)
            for (size_t i = 0; i < P; i++) {
                size_t at = (n * L->c + c) * P + i;
                y[at] = (x[at] - mean) / sqrt(var + L->eps) * gamma[c] + beta[c];
            }
    }
}

/* in: the layer's inputs (two for add). */
static void ref_layer(const RefLayer *L, int batch, const double *const *in, const double *p,
                      double *y, Trace *t)
{
    const double *x = in[0];
    size_t count = (size_t)batch * ref_in_size(L);
    switch (L->kind) {
    case REF_CONV: ref_conv(L, batch, x, p, y, t); break;
    case REF_POOL:
    case REF_AVGPOOL:
    case REF_GLOBAL_AVGPOOL: ref_pool(L, batch, x, y, t); break;
    case REF_DENSE: ref_dense(L, batch, x, p, y, t); break;
    case REF_SOFTMAX: ref_softmax(L, batch, x, y, 0); break;
    case REF_LOG_SOFTMAX: ref_softmax(L, batch, x, y, 1); break;
    case REF_BATCHNORM: ref_batchnorm(L, batch, x, p, y); break;
    case REF_ACT:
        for (size_t i = 0; i < count; i++)
            y[i] = ref_act(x[i], L->act, t);
        break;
    case REF_ADD:
        for (size_t i = 0; i < count; i++)
            y[i] = x[i] + in[1][i];
        break;
    default: memcpy(y, x, count * sizeof *y); break; /* flatten, dropout in evaluation */
    }
}

/* Reference layers run on a batch: a chain, or a graph where layers name
 * their inputs (n_from), with every layer's output kept. */
typedef struct {
    RefLayer layers[REF_MAX_LAYERS];
    int n, batch;
    size_t in, out, params; /* per-example input and output sizes; all parameters */
    double *acts[REF_MAX_LAYERS]; /* each layer's output; the last one's goes to y */
    double *y;              /* the output, for objectives */
} RefNet;

/* Which output is input i of L, the layer at index k: 0 the model's input,
 * j the j-th layer's (so k is the layer before). */
static int ref_source(const RefLayer *L, int k, int i)
{
    return L->n_from ? L->from[i] : k;
}

static void ref_net_init(RefNet *r, const RefLayer *layers, int c, int h, int w, int batch)
{
    memset(r, 0, sizeof *r);
    for (r->n = 0; layers[r->n].kind != REF_END; r->n++) {
        RefLayer *L = &r->layers[r->n];
        *L = layers[r->n];
        int from = ref_source(L, r->n, 0);
        if (from)
            ref_shape(L, r->layers[from - 1].oc, r->layers[from - 1].oh, r->layers[from - 1].ow);
        else
            ref_shape(L, c, h, w);
        r->params += ref_param_count(L);
        r->acts[r->n] = malloc((size_t)batch * ref_out_size(L) * sizeof(double));
    }
    r->batch = batch;
    r->in = (size_t)c * h * w;
    r->out = ref_out_size(&r->layers[r->n - 1]);
    r->y = malloc((size_t)batch * r->out * sizeof(double));
}

static void ref_net_free(RefNet *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->acts[i]);
    free(r->y);
}

/* y = the layers applied to x with parameters P (each layer's, in order). */
static void ref_forward(RefNet *r, const double *x, const double *P, double *y, Trace *t)
{
    for (int k = 0; k < r->n; k++) {
        const RefLayer *L = &r->layers[k];
        const double *in[2];
        for (int i = 0; i < 2; i++) {
            int from = ref_source(L, k, i);
            in[i] = from ? r->acts[from - 1] : x;
        }
        ref_layer(L, r->batch, in, P, r->acts[k], t);
        P += ref_param_count(L);
    }
    memcpy(y, r->acts[r->n - 1], (size_t)r->batch * r->out * sizeof *y);
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
    double *y = o->net->y, s = 0;
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

/* Device copies in doubles, and tearing down (tests/testutil.h). */
#define put(t, m, v, n) test_put(&(t)->dev, m, v, n)
#define get(t, m, v, n) test_get(&(t)->dev, m, v, n)
#define net_close(t) test_close(&(t)->g, &(t)->dev, (t)->root)

/* A model of input `input` whose layers are front, then the YAML list items in layers. */
static void net_open(Net *t, const char *input, const char *layers, int max_batch)
{
    char yaml[4096];
    snprintf(yaml, sizeof yaml,
             "name: t\ninput: %s\nlayers:\n  - {name: front, type: dropout, rate: 0}\n%s", input,
             layers);
    /* the cases fill gradients with sentinels before backward and check
     * what lies past the batch, which takes a buffer of its own for each
     * tensor: the memory plan is checked against these passes by
     * check_memplan.c, training with it and without it */
    setenv("CLRUN_MEMPLAN", "0", 1);
    test_device(&t->dev);
    test_graph(&t->g, &t->root, &t->dev, yaml, max_batch, 7);
}

static void put_const(Net *t, cl_mem m, double value, size_t n)
{
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++)
        v[i] = value;
    put(t, m, v, n);
    free(v);
}

/* Every parameter's value (or grad: 0 for buffers, which have none),
 * concatenated in graph order. */
static void params_get(Net *t, double *all, int grad)
{
    for (int i = 0; i < t->g.n_params; i++) {
        Param *p = &t->g.params[i];
        if (grad && !p->grad)
            memset(all, 0, p->count * sizeof *all);
        else
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
    RefLayer ref[REF_MAX_LAYERS + 1]; /* ended by REF_END */
    int batch, max_batch;
} LayerCase;

#define IMG "[5, 7, 9]", 5, 7, 9
#define FLAT "[37]", 37, 1, 1
#define CONV(...) {.kind = REF_CONV, __VA_ARGS__}
#define WINDOW(KIND, K, S, P) \
    {.kind = KIND, .kh = K, .kw = K, .sh = S, .sw = S, .padh = P, .padw = P}
#define POOL(K, S, P) WINDOW(REF_POOL, K, S, P)
#define AVGPOOL(K, S, P) WINDOW(REF_AVGPOOL, K, S, P)
#define SAME(KIND, K, S) {.kind = KIND, .kh = K, .kw = K, .sh = S, .sw = S, .same = 1}
#define DENSE(U, ACT) {.kind = REF_DENSE, .o = U, .act = ACT}
#define DENSE_FROM(U, ACT, F) {.kind = REF_DENSE, .o = U, .act = ACT, .n_from = 1, .from = {F}}
#define ACT(A) {.kind = REF_ACT, .act = A}
#define BN(EPS, TRAINING) {.kind = REF_BATCHNORM, .eps = EPS, .training = TRAINING}
#define ADD(A, B) {.kind = REF_ADD, .n_from = 2, .from = {A, B}}
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
    {"conv2d same 3x3 20 filters, 19 wide: two channel blocks, edge and inner pixel blocks",
     "[3, 6, 19]", 3, 6, 19,
     "  - {name: conv, type: conv2d, filters: 20, kernel_size: 3, padding: same, activation: tanh}\n",
     {CONV(.o = 20, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .same = 1, .act = ACT_TANH)}, 3, 4},
    {"conv2d stride 2 to 4x4 planes, 24 filters, no bias: blocks of 8 pixels across rows",
     "[6, 8, 8]", 6, 8, 8,
     "  - {name: conv, type: conv2d, filters: 24, kernel_size: 3, stride: 2, padding: 1,"
     " bias: false}\n",
     {CONV(.o = 24, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .padh = 1, .padw = 1, .nobias = 1)}, 3, 4},
    {"conv2d same 3x3, 16 channels 8 wide: dx as the turned convolution of padded dz",
     "[16, 5, 8]", 16, 5, 8,
     "  - {name: conv, type: conv2d, filters: 6, kernel_size: 3, padding: same, activation: relu}\n",
     {CONV(.o = 6, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .same = 1, .act = ACT_RELU)}, 3, 4},
    {"conv2d valid 3x2, 16 channels 16 wide: dx turned, full padding",
     "[16, 4, 16]", 16, 4, 16,
     "  - {name: conv, type: conv2d, filters: 5, kernel_size: [3, 2], activation: tanh}\n",
     {CONV(.o = 5, .kh = 3, .kw = 2, .sh = 1, .sw = 1, .act = ACT_TANH)}, 3, 4},
    {"conv2d same 3x3, 16 filters: dW turned, from dz turned to rows", "[3, 6, 10]", 3, 6, 10,
     "  - {name: conv, type: conv2d, filters: 16, kernel_size: 3, padding: same, activation: relu}\n",
     {CONV(.o = 16, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .same = 1, .act = ACT_RELU)}, 3, 4},
    {"conv2d valid 2x3 stride [1, 2], 60 filters, no bias: 32 a work-item, part-filled blocks",
     "[4, 7, 19]", 4, 7, 19,
     "  - {name: conv, type: conv2d, filters: 60, kernel_size: [2, 3], stride: [1, 2],"
     " bias: false}\n",
     {CONV(.o = 60, .kh = 2, .kw = 3, .sh = 1, .sw = 2, .nobias = 1)}, 3, 4},
    {"conv2d 3x3 stride 2 padding 1, 16 filters: dW from the image, its padding written out",
     "[6, 9, 8]", 6, 9, 8,
     "  - {name: conv, type: conv2d, filters: 16, kernel_size: 3, stride: 2, padding: 1}\n",
     {CONV(.o = 16, .kh = 3, .kw = 3, .sh = 2, .sw = 2, .padh = 1, .padw = 1)}, 3, 4},
    {"conv2d same 3x3, 32 channels 8 wide: dx turned, 32 channels a work-item", "[32, 3, 8]", 32,
     3, 8,
     "  - {name: conv, type: conv2d, filters: 5, kernel_size: 3, padding: same, activation: tanh}\n",
     {CONV(.o = 5, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .same = 1, .act = ACT_TANH)}, 3, 4},
    {"conv2d stride 3 past kernel 2 padding 1, 11 wide: the last column unread", "[3, 7, 11]", 3,
     7, 11, "  - {name: conv, type: conv2d, filters: 5, kernel_size: 2, stride: 3, padding: 1}\n",
     {CONV(.o = 5, .kh = 2, .kw = 2, .sh = 3, .sw = 3, .padh = 1, .padw = 1)}, 3, 4},
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
    /* Keras' activation: softmax, without a loss to fuse with: the softmax's own backward */
    {"dense softmax", FLAT, "  - {name: fc, type: dense, units: 13, activation: softmax}\n",
     {DENSE(13, ACT_LINEAR), ONLY(REF_SOFTMAX)}, 3, 5},
    {"relu", IMG, "  - {name: act, type: relu}\n", {ACT(ACT_RELU)}, 3, 4},
    {"sigmoid", IMG, "  - {name: act, type: sigmoid}\n", {ACT(ACT_SIGMOID)}, 3, 4},
    {"tanh", FLAT, "  - {name: act, type: tanh}\n", {ACT(ACT_TANH)}, 3, 5},
    {"linear", IMG, "  - {name: act, type: linear}\n", {ACT(ACT_LINEAR)}, 3, 4},
    {"softmax", "[13]", 13, 1, 1, "  - {name: sm, type: softmax}\n", {ONLY(REF_SOFTMAX)}, 3, 4},
    {"log_softmax", "[13]", 13, 1, 1, "  - {name: lsm, type: log_softmax}\n",
     {ONLY(REF_LOG_SOFTMAX)}, 3, 4},
    {"flatten then dense", IMG,
     "  - {name: flat, type: flatten}\n"
     "  - {name: fc, type: dense, units: 13, activation: tanh}\n",
     {ONLY(REF_FLATTEN), DENSE(13, ACT_TANH)}, 3, 4},
    {"dropout in evaluation", IMG, "  - {name: drop, type: dropout, rate: 0.3}\n",
     {ONLY(REF_COPY)}, 3, 4},
    {"dropout2d in evaluation", IMG, "  - {name: drop, type: dropout2d, rate: 0.3}\n",
     {ONLY(REF_COPY)}, 3, 4},
    {"maxpool2d 3 stride 2 same", IMG,
     "  - {name: pool, type: maxpool2d, pool_size: 3, stride: 2, padding: same}\n",
     {SAME(REF_POOL, 3, 2)}, 3, 4},
    {"maxpool2d 2 same (padding at the end)", IMG,
     "  - {name: pool, type: maxpool2d, pool_size: 2, padding: same}\n", {SAME(REF_POOL, 2, 2)},
     3, 4},
    {"maxpool2d 3 stride 1 valid", IMG,
     "  - {name: pool, type: maxpool2d, pool_size: 3, stride: 1, padding: valid}\n",
     {POOL(3, 1, 0)}, 3, 4},
    {"avgpool2d 2", IMG, "  - {name: pool, type: avgpool2d, pool_size: 2}\n", {AVGPOOL(2, 2, 0)},
     3, 4},
    {"avgpool2d 3 stride 2 padding 1 (divides by 9)", IMG,
     "  - {name: pool, type: avgpool2d, pool_size: 3, stride: 2, padding: 1}\n",
     {AVGPOOL(3, 2, 1)}, 3, 4},
    {"avgpool2d 3 stride 2 same", IMG,
     "  - {name: pool, type: avgpool2d, pool_size: 3, stride: 2, padding: same}\n",
     {SAME(REF_AVGPOOL, 3, 2)}, 3, 4},
    {"avgpool2d 4 stride 3 same (uneven padding)", IMG,
     "  - {name: pool, type: avgpool2d, pool_size: 4, stride: 3, padding: same}\n",
     {SAME(REF_AVGPOOL, 4, 3)}, 3, 4},
    {"avgpool2d 3 stride 1 valid", IMG,
     "  - {name: pool, type: avgpool2d, pool_size: 3, stride: 1, padding: valid}\n",
     {AVGPOOL(3, 1, 0)}, 3, 4},
    {"global_avgpool", IMG, "  - {name: gap, type: global_avgpool}\n",
     {ONLY(REF_GLOBAL_AVGPOOL)}, 3, 4},
    {"batchnorm 2-D in training", IMG, "  - {name: bn, type: batchnorm}\n", {BN(1e-5, 1)}, 3, 4},
    {"batchnorm 1-D in training", FLAT, "  - {name: bn, type: batchnorm}\n", {BN(1e-5, 1)}, 3,
     5},
    /* more values per channel than a work-group has work-items (256 on POCL) */
    {"batchnorm 2-D in training, planes of 323", "[3, 17, 19]", 3, 17, 19,
     "  - {name: bn, type: batchnorm}\n", {BN(1e-5, 1)}, 3, 4},
    {"batchnorm 1-D in training, batch 300", "[7]", 7, 1, 1, "  - {name: bn, type: batchnorm}\n",
     {BN(1e-5, 1)}, 300, 301},
    {"batchnorm 2-D in evaluation", IMG, "  - {name: bn, type: batchnorm}\n", {BN(1e-5, 0)}, 3,
     4},
    {"batchnorm 1-D in evaluation, epsilon 0.01", FLAT,
     "  - {name: bn, type: batchnorm, epsilon: 0.01}\n", {BN(0.01, 0)}, 3, 5},
    {"conv2d, batchnorm, relu, global_avgpool, dense in training", IMG,
     "  - {name: conv, type: conv2d, filters: 6, kernel_size: 3, padding: same}\n"
     "  - {name: bn, type: batchnorm, momentum: 0.5}\n"
     "  - {name: act, type: relu}\n"
     "  - {name: gap, type: global_avgpool}\n"
     "  - {name: fc, type: dense, units: 7}\n",
     {CONV(.o = 6, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .same = 1), BN(1e-5, 1), ACT(ACT_RELU),
      ONLY(REF_GLOBAL_AVGPOOL), DENSE(7, ACT_LINEAR)},
     3, 4},
    /* front feeds a and b: its gradient is the sum of theirs */
    {"residual: dense a, dense b from front, add, dense", FLAT,
     "  - {name: a, type: dense, units: 11, activation: tanh}\n"
     "  - {name: b, type: dense, units: 11, inputs: [front]}\n"
     "  - {name: sum, type: add, inputs: [a, b]}\n"
     "  - {name: out, type: dense, units: 5}\n",
     {DENSE(11, ACT_TANH), DENSE_FROM(11, ACT_LINEAR, 0), ADD(1, 2),
      DENSE(5, ACT_LINEAR)},
     3, 5},
    {"residual: conv2d, add the input back, relu", IMG,
     "  - {name: conv, type: conv2d, filters: 5, kernel_size: 3, padding: same, activation: tanh}\n"
     "  - {name: sum, type: add, inputs: [conv, front]}\n"
     "  - {name: act, type: relu}\n",
     {CONV(.o = 5, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .same = 1, .act = ACT_TANH), ADD(1, 0),
      ACT(ACT_RELU)},
     3, 4},
    {"conv2d, maxpool2d, flatten, dense, log_softmax", "[3, 11, 10]", 3, 11, 10,
     "  - {name: conv, type: conv2d, filters: 5, kernel_size: 3, padding: same, activation: tanh}\n"
     "  - {name: pool, type: maxpool2d, pool_size: 2}\n"
     "  - {name: flat, type: flatten}\n"
     "  - {name: fc, type: dense, units: 13, activation: relu}\n"
     "  - {name: out, type: log_softmax}\n",
     {CONV(.o = 5, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .same = 1, .act = ACT_TANH),
      POOL(2, 2, 0), ONLY(REF_FLATTEN), DENSE(13, ACT_RELU), ONLY(REF_LOG_SOFTMAX)},
     3, 4},
    {"conv2d same 3x3, 5 channels, 20 filters: 45 rows of dW, the last block's second 4-row "
     "pass one row; 42 pixels, no whole 4- or 8-pixel last block; 2 panels of B",
     "[5, 6, 7]", 5, 6, 7,
     "  - {name: conv, type: conv2d, filters: 20, kernel_size: 3, padding: same, activation: relu}\n",
     {CONV(.o = 20, .kh = 3, .kw = 3, .sh = 1, .sw = 1, .same = 1, .act = ACT_RELU)}, 3, 4},
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
    char *trained; /* per entry of P: has a gradient (not a buffer) */
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
    long trained = 0, buffers = 0;
    for (int i = 0; i < run->ref.n; i++) {
        const RefLayer *L = &run->ref.layers[i];
        size_t count[4];
        int trainable[4], n = ref_tensors(L, count, trainable);
        for (int j = 0; j < n; j++, p++) {
            ck_assert_int_lt(p, run->net.g.n_params);
            ck_assert_uint_eq(run->net.g.params[p].count, count[j]);
            ck_assert_int_eq(run->net.g.params[p].init.trainable, trainable[j]);
        }
        trained += (long)ref_tensor_sum(L, 1);
        buffers += (long)ref_tensor_sum(L, 0);
    }
    ck_assert_int_eq(p, run->net.g.n_params);
    ck_assert_int_eq(graph_param_count(&run->net.g, 1), trained);
    ck_assert_int_eq(graph_param_count(&run->net.g, 0), buffers);
}

/* Parameters that start as constants (batchnorm's) get random values in
 * [0.5, 1.5] (a positive running variance), so that a test sees more than
 * gamma = 1 and beta = 0. */
static void randomize_constant_params(Net *t)
{
    for (int i = 0; i < t->g.n_params; i++) {
        Param *p = &t->g.params[i];
        if (p->init.role != PARAM_ONES && p->init.role != PARAM_ZEROS)
            continue;
        double *v = random_vec(p->count, 17 + (uint64_t)i, 0.5, 1.5);
        put(t, p->value, v, p->count);
        free(v);
    }
}

/* The graph runs in training mode when a reference layer uses batch statistics. */
static int ref_training(const RefNet *r)
{
    int training = 0;
    for (int i = 0; i < r->n; i++)
        training |= r->layers[i].training;
    return training;
}

/* Which entries of the concatenated parameters have gradients. */
static char *trained_entries(const Graph *g, size_t total)
{
    char *mask = malloc(total + 1), *at = mask;
    for (int i = 0; i < g->n_params; i++) {
        memset(at, g->params[i].init.trainable, g->params[i].count);
        at += g->params[i].count;
    }
    return mask;
}

static void layer_run_open(LayerRun *run, const LayerCase *lc)
{
    run->lc = lc;
    net_open(&run->net, lc->input, lc->layers, lc->max_batch);
    run->net.g.batch = lc->batch;
    ref_net_init(&run->ref, lc->ref, lc->c, lc->h, lc->w, lc->batch);
    run->net.g.training = ref_training(&run->ref);
    run->front = &run->net.g.nodes[1];
    run->out = graph_output(&run->net.g);
    check_shapes(run);
    run->nx = (size_t)lc->batch * run->ref.in;
    run->ny = (size_t)lc->batch * run->ref.out;
    run->x = random_vec(run->nx, 11, -1, 1);
    put(&run->net, run->net.g.nodes[0].out, run->x, run->nx);
    run->P = malloc((run->ref.params + 1) * sizeof *run->P);
    randomize_constant_params(&run->net);
    params_get(&run->net, run->P, 0);
    run->trained = trained_entries(&run->net.g, run->ref.params);
}

static void layer_run_close(LayerRun *run)
{
    free(run->x);
    free(run->P);
    free(run->trained);
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

/* The device's gradient for v (n entries of x or P) against central
 * differences, where mask is NULL or set. */
static void check_gradient(LayerRun *run, LayerObjective *obj, double *v, const double *got,
                           size_t n, const char *mask, const char *what)
{
    char label[160];
    double *want = malloc((n + 1) * sizeof *want);
    size_t kinks = fd_grad(layer_objective, obj, v, n, want);
    for (size_t i = 0; mask && i < n; i++)
        if (!mask[i])
            want[i] = NAN;
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
    check_gradient(run, &obj, run->x, dx, run->nx, NULL, "the input");
    if (run->ref.params)
        check_gradient(run, &obj, run->P, dP, run->ref.params, run->trained, "the parameters");
    free(dy);
    free(dx);
    free(dP);
}

/* The cases too slow for Oclgrind under the gpu plan (20-40 s each, against
 * 1-4 s for the rest: its groups of 64 work-items and a work-item per
 * element of im2col and col2im, all interpreted): cases 1 and 5 cover its
 * convolution kernels there, with stride, padding and edge tiles. */
static const int heavy_on_simulated_gpu[] = {0, 2, 3, 4, 20, 38, 40, 41};
#define N_HEAVY (int)(sizeof heavy_on_simulated_gpu / sizeof heavy_on_simulated_gpu[0])

static int simulated_gpu_plan(void)
{
    const char *plan = getenv("CLRUN_KERNELS");
    return test_tiny() && plan && strcmp(plan, "gpu") == 0;
}

/* The layer case of loop index i: every case, or the light ones. */
static int layer_case_at(int i)
{
    if (!simulated_gpu_plan())
        return i;
    for (int c = 0;; c++) {
        int heavy = 0;
        for (int h = 0; h < N_HEAVY; h++)
            heavy |= heavy_on_simulated_gpu[h] == c;
        if (!heavy && i-- == 0)
            return c;
    }
}

START_TEST(layer_forward_and_gradients)
{
    LayerRun run;
    layer_run_open(&run, &layer_cases[layer_case_at(_i)]);
    check_forward(&run);
    check_backward(&run);
    layer_run_close(&run);
}
END_TEST

/* The cases with a convolution, again with the cpu plan's register blocks
 * for 16-float vectors (AVX-512's: 8 pixels x 16 and 32 channels, 8-row
 * weight-gradient passes) whatever vector unit this machine has; the other
 * cases, and every case under the gpu plan, whose kernels have no such
 * blocks, return at once. */
START_TEST(conv_cases_with_16_float_blocks)
{
    const LayerCase *lc = &layer_cases[layer_case_at(_i)];
    if (!strstr(lc->layers, "conv2d"))
        return;
    setenv("CLRUN_VECTOR_FLOATS", "16", 1);
    LayerRun run;
    layer_run_open(&run, lc);
    if (!run.net.dev.plan.gpu) {
        ck_assert_int_eq(run.net.dev.plan.conv_pixels, 8);
        check_forward(&run);
        check_backward(&run);
    }
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

typedef struct {
    const char *input, *layer;
    size_t cols, group; /* per example; consecutive elements sharing a mask */
} DropCase;

static const DropCase drop_cases[] = {
    {"[997]", "  - {name: drop, type: dropout, rate: 0.3}\n", 997, 1},
    {"[37, 3, 9]", "  - {name: drop, type: dropout2d, rate: 0.3}\n", 999, 27},
};

#define DROP_ROWS 101
#define DROP_ROWS_TINY 11 /* test_tiny(): still 407 masks of dropout2d */

/* Forward at the graph's current seed and step; returns the output. */
static double *dropout_forward(Net *t, size_t n)
{
    Err err = {""};
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

/* Each element is dropped or scaled, a whole group at once; returns the
 * number of groups dropped. */
static size_t check_dropped_groups(const double *x, const double *y, size_t n, size_t group,
                                   float scale)
{
    size_t dropped = 0;
    for (size_t i = 0; i < n; i++) {
        ck_assert_msg(y[i] == 0 || y[i] == (float)x[i] * scale, "y[%zu] = %.9g, x = %.9g", i,
                      y[i], x[i]);
        ck_assert_msg((y[i] == 0) == (y[i - i % group] == 0),
                      "y[%zu] and the first of its group of %zu differ in their mask", i, group);
        dropped += i % group == 0 && y[i] == 0;
    }
    return dropped;
}

/* cl/prelude.cl's philox4x32 in C: word `word` of counter ctr under key. */
static uint32_t ref_philox(const uint32_t ctr[4], uint64_t key, int word)
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)c0 * 0xD2511F53u, p1 = (uint64_t)c2 * 0xCD9E8D57u;
        c0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, c1 = (uint32_t)p1;
        c2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1, c3 = (uint32_t)p0;
        k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
    }
    uint32_t out[4] = {c0, c1, c2, c3};
    return out[word];
}

/* Plain dropout's masks are cl/dropout.cl's: element i kept when word i % 4
 * of Philox's counter (i / 4, step, layer, "drop") gives a uniform >= rate
 * (dropout_apply8's vectors of eight counters are checked against it). */
static void check_masks_are_philox(const double *y, size_t n, uint64_t seed, uint32_t step,
                                   uint32_t layer, float rate)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t ctr[4] = {(uint32_t)(i / 4), step, layer, 0x64726f70u};
        float u = (float)(ref_philox(ctr, seed, (int)(i % 4)) >> 8) * (1.0f / 16777216.0f);
        ck_assert_msg((y[i] != 0) == (u >= rate), "y[%zu] = %g, Philox's uniform %g", i, y[i],
                      u);
    }
}

START_TEST(dropout_masks_in_training)
{
    const DropCase *dc = &drop_cases[_i];
    const double rate = 0.3;
    const float scale = 1.0f / (1.0f - (float)rate);
    int rows = test_tiny() ? DROP_ROWS_TINY : DROP_ROWS;
    size_t n = (size_t)rows * dc->cols, masks = n / dc->group;
    Net t;
    Err err = {""};
    net_open(&t, dc->input, dc->layer, rows);
    t.g.training = 1;
    double *x = random_vec(n, 41, 0.5, 1.5), *dy = random_vec(n, 42, 0.5, 1.5);
    double *dx = malloc(n * sizeof *dx);
    put(&t, t.g.nodes[0].out, x, n);
    double *y = dropout_forward(&t, n);

    size_t dropped = check_dropped_groups(x, y, n, dc->group, scale);
    if (dc->group == 1)
        check_masks_are_philox(y, n, t.g.seed, t.g.step,
                               (uint32_t)(graph_output(&t.g) - t.g.nodes), (float)rate);
    double sd = sqrt(masks * rate * (1 - rate));
    ck_assert_msg(fabs((double)dropped - masks * rate) < 5 * sd, "dropped %zu of %zu", dropped,
                  masks);

    put(&t, graph_output(&t.g)->grad, dy, n);
    run_ok(graph_backward(&t.g, &err), &err);
    get(&t, t.g.nodes[1].grad, dx, n);
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(dx[i] == (y[i] == 0 ? 0 : (float)dy[i] * scale),
                      "dx[%zu] = %.9g with y = %.9g, dy = %.9g", i, dx[i], y[i], dy[i]);

    double *again = dropout_forward(&t, n);
    ck_assert_uint_eq(masks_differ(y, again, n), 0);
    t.g.step = 1;
    double *next = dropout_forward(&t, n);
    /* two independent masks disagree on 2 * 0.3 * 0.7 = 42% of the elements */
    ck_assert_uint_gt(masks_differ(y, next, n), n * 35 / 100);
    t.g.step = 0;
    t.g.seed ^= 0x5eed;
    double *reseeded = dropout_forward(&t, n);
    ck_assert_uint_gt(masks_differ(y, reseeded, n), n * 35 / 100);
    t.g.seed ^= 0x5eed;
    double *back = dropout_forward(&t, n); /* a function of (seed, step), not of history */
    ck_assert_uint_eq(masks_differ(y, back, n), 0);
    free(x), free(dy), free(dx), free(y), free(again), free(next), free(reseeded), free(back);
    net_close(&t);
}
END_TEST

/* ---- batchnorm: buffers, running statistics, reproducibility ---- */

typedef struct {
    const char *input;
    int c, h, w;
} BnCase;

/* Planes of 143: a work-item of the reductions steps across examples.
 * Planes of 131,769 (last, as test_tiny() leaves them out): the cpu plan's
 * kernels would loop past llvmpipe's limit (dev_loop_limit) over a plane
 * and, at batch 4, over a channel's values, so batchnorm takes the gpu
 * plan's there (tests/rusticl-check). */
static const BnCase bn_cases[] = {
    {IMG}, {FLAT}, {"[5, 11, 13]", 5, 11, 13}, {"[2, 363, 363]", 2, 363, 363}};
#define N_BN_CASES (int)(sizeof bn_cases / sizeof bn_cases[0])

#define BN_MOMENTUM 0.3
#define BN_EPSILON 1e-3
#define BN_MAX_BATCH 4

/* PyTorch's names, trainable flags and the two counts. */
static void check_bn_params(Net *t, int channels)
{
    static const char *const names[] = {"bn.weight", "bn.bias", "bn.running_mean",
                                        "bn.running_var"};
    ck_assert_int_eq(t->g.n_params, 4);
    for (int i = 0; i < 4; i++) {
        Param *p = &t->g.params[i];
        ck_assert_str_eq(p->name, names[i]);
        ck_assert_uint_eq(p->count, (size_t)channels);
        ck_assert_int_eq(p->init.trainable, i < 2);
        ck_assert(i < 2 ? p->grad != NULL : p->grad == NULL);
    }
    ck_assert_int_eq(graph_param_count(&t->g, 1), 2 * channels);
    ck_assert_int_eq(graph_param_count(&t->g, 0), 2 * channels);
}

/* One training forward of a batch of x; moves the reference running
 * statistics as PyTorch does (the unbiased variance) and compares. */
static void bn_training_step(Net *t, const RefLayer *L, int batch, const double *x, double *run_mean,
                             double *run_var)
{
    Err err = {""};
    size_t M = (size_t)batch * L->h * L->w;
    double *got = malloc(2 * (size_t)L->c * sizeof *got);
    t->g.batch = batch;
    put(t, t->g.nodes[0].out, x, (size_t)batch * ref_in_size(L));
    run_ok(graph_forward(&t->g, &err), &err);
    for (int c = 0; c < L->c; c++) {
        double mean, var;
        ref_bn_stats(L, batch, x, c, &mean, &var);
        run_mean[c] = (1 - BN_MOMENTUM) * run_mean[c] + BN_MOMENTUM * mean;
        run_var[c] = (1 - BN_MOMENTUM) * run_var[c] + BN_MOMENTUM * var * M / (M - 1);
    }
    get(t, t->g.params[2].value, got, (size_t)L->c);
    get(t, t->g.params[3].value, got + L->c, (size_t)L->c);
    assert_close("running_mean", got, run_mean, (size_t)L->c, 1e-5, 1e-6);
    assert_close("running_var", got + L->c, run_var, (size_t)L->c, 1e-5, 1e-6);
    free(got);
}

/* Evaluation normalises by the running statistics the training steps left. */
static void check_bn_evaluation(Net *t, const RefLayer *L, int batch, const double *x)
{
    Err err = {""};
    RefLayer eval = *L;
    size_t n = (size_t)batch * ref_in_size(L);
    double *P = malloc(4 * (size_t)L->c * sizeof *P);
    double *y = malloc(n * sizeof *y), *want = malloc(n * sizeof *want);
    t->g.training = 0;
    t->g.batch = batch;
    put(t, t->g.nodes[0].out, x, n);
    run_ok(graph_forward(&t->g, &err), &err);
    get(t, graph_output(&t->g)->out, y, n);
    params_get(t, P, 0);
    eval.training = 0;
    ref_batchnorm(&eval, batch, x, P, want);
    assert_close("batchnorm in evaluation after training", y, want, n, 1e-5, 1e-6);
    free(P), free(y), free(want);
}

/* Forward and backward: the output, then the input's gradient, then the
 * parameters' (4 * channels entries, 0 for the buffers). */
static double *bn_pass(Net *t, size_t n, size_t channels)
{
    Err err = {""};
    double *all = malloc((2 * n + 4 * channels) * sizeof *all);
    run_ok(graph_forward(&t->g, &err), &err);
    run_ok(graph_backward(&t->g, &err), &err);
    get(t, graph_output(&t->g)->out, all, n);
    get(t, t->g.nodes[1].grad, all + n, n);
    params_get(t, all + 2 * n, 1);
    return all;
}

START_TEST(batchnorm_running_statistics)
{
    const BnCase *bc = &bn_cases[_i];
    RefLayer L = BN(BN_EPSILON, 1);
    ref_shape(&L, bc->c, bc->h, bc->w);
    Net t;
    Err err = {""};
    char layer[128];
    snprintf(layer, sizeof layer, "  - {name: bn, type: batchnorm, momentum: %g, epsilon: %g}\n",
             BN_MOMENTUM, BN_EPSILON);
    net_open(&t, bc->input, layer, BN_MAX_BATCH);
    check_bn_params(&t, bc->c);
    t.g.training = 1;
    size_t n = BN_MAX_BATCH * ref_in_size(&L);
    double *run_mean = calloc((size_t)bc->c, sizeof *run_mean);
    double *run_var = malloc((size_t)bc->c * sizeof *run_var);
    for (int c = 0; c < bc->c; c++)
        run_var[c] = 1;
    double *x1 = random_vec(n, 51, -1, 2), *x2 = random_vec(n, 52, -2, 1);
    bn_training_step(&t, &L, 3, x1, run_mean, run_var);
    bn_training_step(&t, &L, BN_MAX_BATCH, x2, run_mean, run_var);

    /* the same batch twice gives the same bits (the running statistics,
     * which move, play no part in training) */
    double *dy = random_vec(n, 53, -1, 1);
    put(&t, graph_output(&t.g)->grad, dy, n);
    double *first = bn_pass(&t, n, (size_t)bc->c), *second = bn_pass(&t, n, (size_t)bc->c);
    ck_assert_mem_eq(first, second, (2 * n + 4 * (size_t)bc->c) * sizeof *first);

    /* one value per channel has no variance: PyTorch refuses it too */
    t.g.batch = 1;
    int rc = graph_forward(&t.g, &err);
    if (L.h * L.w == 1)
        ck_assert_msg(rc == CLRUN_EINPUT && strstr(err.msg, "more than one value"), "%s", err.msg);
    else
        run_ok(rc, &err);

    check_bn_evaluation(&t, &L, 3, x1);
    free(run_mean), free(run_var), free(x1), free(x2), free(dy), free(first), free(second);
    net_close(&t);
}
END_TEST

/* ---- shape errors (no device) ---- */

typedef struct {
    const char *layer; /* on line 5, after a conv2d c1 giving [4, 5, 7] */
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
    {"  - {name: wide, type: avgpool2d, pool_size: 6, padding: valid}\n", "wide",
     {"does not fit"}},
    {"  - {name: pad, type: maxpool2d, pool_size: 2, padding: full}\n", "pad",
     {"'valid', 'same'"}},
    {"  - {name: pad, type: avgpool2d, pool_size: 3, padding: 2}\n", "pad", {"half of pool_size"}},
    {"  - {name: gap, type: global_avgpool, inputs: [c1, c1]}\n", "gap", {"one input, got 2"}},
    {"  - {name: bn, type: batchnorm, momentum: 1.5}\n", "bn", {"momentum"}},
    {"  - {name: bn, type: batchnorm, epsilon: 0}\n", "bn", {"epsilon"}},
    {"  - {name: drop, type: dropout2d, rate: 1}\n", "drop", {"rate"}},
    {"  - {name: sum, type: add, inputs: [c1, input]}\n", "sum",
     {"'c1' [4, 5, 7]", "'input' [3, 7, 9]", "differ in shape"}},
    {"  - {name: sum, type: add}\n", "sum", {"two or more inputs"}},
    {"  - {name: sum, type: add, inputs: [c1, nowhere]}\n", "sum",
     {"'nowhere'", "defined before"}},
    {"  - {name: sum, type: add, inputs: [c1, later]}\n  - {name: later, type: relu}\n", "sum",
     {"'later'", "defined before"}},
    {"  - {name: sum, type: add, inputs: [c1, sum]}\n", "sum", {"'sum'", "defined before"}},
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

/* ---- the GEMM every dense and convolution layer is built on ---- */

static const struct {
    int M, N, K, nt, accumulate; /* nt: both operands run along k */
    int cache_kb;                /* the plan's cache, when not the device's */
} gemm_cases[] = {
    /* light enough for Oclgrind under the gpu plan (N_GEMM_LIGHT) */
    {5, 37, 19, 0, 0, 0},     /* gemm_nn, tail columns */
    {9, 16, 3, 0, 1, 0},
    {13, 45, 33, 0, 1, 0},    /* the last block reads the 16 columns that end the row */
    {70, 66, 20, 0, 0, 0},    /* gpu: edge tiles along both sides */
    {3, 70, 40, 1, 1, 0},     /* gemm_nt, a short tile */
    {10, 25, 600, 1, 0, 0},   /* K cut into chunks, the last partial, summed in splits */
    /* the rest */
    {64, 256, 78, 1, 0, 0},   /* B transposed, padded */
    {3, 300, 40, 1, 1, 0},
    {10, 25, 5000, 1, 0, 0},  /* few output blocks, K split and summed */
    {20, 7, 3000, 1, 1, 0},
    {33, 20, 100, 1, 0, 0},   /* gemm_nt: two 16-row blocks and a block of one row */
    {29, 75, 70, 0, 1, 0},    /* gemm_nn: register passes of rows and columns cut by M and N */
    {14, 9, 50, 0, 0, 0},     /* gemm_nn: B narrower than a register pass, the scalar path */
    /* k long enough that a work-item over all of it would loop past rusticl's
     * limit (dev_loop_limit): each kernel's k within it there */
    {7, 9, 30000, 0, 1, 0},   /* gemm_nn's scalar path */
    {5, 33, 20000, 1, 1, 0},  /* gemm_nt */
    {72, 352, 400, 0, 0, 0},  /* B packed, walked whole by gemm_nn where loops may run */
    /* A and B packed (M and N of 64 or more): A's last 12-row panel and a
     * pass's 6 rows cut by M, B's last panel by N, k blocks and chunks cut by K */
    {77, 70, 300, 0, 1, 0},
    {65, 100, 700, 0, 0, 0},
    {70, 90, 1500, 0, 1, 64},
    /* B transposed (W^T) packed by pack_panels_t (M and N of 256 or more):
     * the last panel cut by N, the last 16 k steps by K, M not a multiple of
     * 12; walked whole, or in K chunks past a 64 KB cache */
    {257, 270, 300, 1, 1, 0},
    {260, 258, 700, 1, 0, 64},
    /* partial products past a 64 KB cache: the splits run in turn */
    {40, 300, 3000, 1, 1, 64},
    {33, 200, 1500, 0, 0, 64},
    /* last, as test_tiny() leaves it out */
    {24, 70, 65600, 0, 1, 0}, /* B past the cache: K split into chunks */
};
#define N_GEMM_CASES (int)(sizeof gemm_cases / sizeof gemm_cases[0])
#define N_GEMM_LIGHT 6

/* How many of the GEMM cases to run: all but the last (an 18 MB B) on a
 * simulated device (test_tiny), and only the light ones under the gpu plan
 * there, whose 256-item groups Oclgrind interprets one work-item at a time. */
static int gemm_case_count(void)
{
    if (!test_tiny())
        return N_GEMM_CASES;
    return simulated_gpu_plan() ? N_GEMM_LIGHT : N_GEMM_CASES - 1;
}

/* launch_gemm against a double-precision product, for every path it takes. */
START_TEST(gemm_matches_a_double_reference)
{
    Device d;
    Graph g;
    SpecNode *model;
    Err err = {""};
    int M = gemm_cases[_i].M, N = gemm_cases[_i].N, K = gemm_cases[_i].K;
    int nt = gemm_cases[_i].nt, acc = gemm_cases[_i].accumulate;
    test_device(&d);
    test_graph(&g, &model, &d, "input: [2]\nlayers: [{name: d, type: dense, units: 2}]\n", 1, 1);
    if (gemm_cases[_i].cache_kb)
        d.plan.cache_bytes = (size_t)gemm_cases[_i].cache_kb << 10;
    gemm_reserve(&g, &d.plan, MEM_FORWARD, M, N, K);
    ck_assert_ok(graph_buffer(&g, g.scratch_floats[SCRATCH_GEMM_P], "test scratch",
                              &g.scratch[SCRATCH_GEMM_P], &err), err);
    size_t na = (size_t)M * K, nb = (size_t)K * N, nc = (size_t)M * N;
    double *a = malloc(na * sizeof *a), *b = malloc(nb * sizeof *b), *c = malloc(nc * sizeof *c);
    double *got = malloc(nc * sizeof *got);
    ck_assert(a && b && c && got);
    uint64_t state = 11 + (uint64_t)_i;
    for (size_t i = 0; i < na; i++)
        a[i] = 2 * rng_uniform(&state) - 1;
    for (size_t i = 0; i < nb; i++)
        b[i] = 2 * rng_uniform(&state) - 1; /* [K, N], or [N, K] when nt */
    for (size_t i = 0; i < nc; i++)
        c[i] = 2 * rng_uniform(&state) - 1;
    cl_mem A, B, C;
    ck_assert_ok(graph_buffer(&g, na, "A", &A, &err), err);
    ck_assert_ok(graph_buffer(&g, nb, "B", &B, &err), err);
    ck_assert_ok(graph_buffer(&g, nc, "C", &C, &err), err);
    test_put(&d, A, a, na);
    test_put(&d, B, b, nb);
    test_put(&d, C, c, nc);
    int rc = nt ? launch_gemm(&g, M, N, K, A, K, 1, B, 1, K, C, N, acc, &err)
                : launch_gemm(&g, M, N, K, A, K, 1, B, N, 1, C, N, acc, &err);
    ck_assert_ok(rc, err);
    test_get(&d, C, got, nc);
    for (int m = 0; m < M; m++)
        for (int n = 0; n < N; n++) {
            double want = acc ? (double)(float)c[m * N + n] : 0, scale = 1;
            for (int k = 0; k < K; k++) {
                double x = (float)a[(size_t)m * K + k];
                double y = (float)(nt ? b[(size_t)n * K + k] : b[(size_t)k * N + n]);
                want += x * y;
                scale += fabs(x * y);
            }
            ck_assert_msg(fabs(got[m * N + n] - want) <= 1e-6 * scale, "case %d C[%d][%d] = %.9g, "
                          "want %.9g", _i, m, n, got[m * N + n], want);
        }
    free(a), free(b), free(c), free(got);
    test_close(&g, &d, model);
}
END_TEST

Suite *layers_suite(void)
{
    Suite *s = suite_create("layers");
    TCase *device = tcase_create("device");
    /* the first test of a fresh cache compiles the kernels */
    tcase_set_timeout(device, 120);
    tcase_add_loop_test(device, layer_forward_and_gradients, 0,
                        simulated_gpu_plan() ? N_LAYER_CASES - N_HEAVY : N_LAYER_CASES);
    tcase_add_loop_test(device, conv_cases_with_16_float_blocks, 0,
                        simulated_gpu_plan() ? N_LAYER_CASES - N_HEAVY : N_LAYER_CASES);
    tcase_add_loop_test(device, loss_sums_counts_and_gradients, 0,
                        (int)(sizeof loss_cases / sizeof loss_cases[0]));
    tcase_add_loop_test(device, sgd_matches_pytorch_for_two_steps, 0,
                        (int)(sizeof sgd_cases / sizeof sgd_cases[0]));
    tcase_add_loop_test(device, dropout_masks_in_training, 0,
                        (int)(sizeof drop_cases / sizeof drop_cases[0]));
    tcase_add_loop_test(device, batchnorm_running_statistics, 0,
                        test_tiny() ? N_BN_CASES - 1 : N_BN_CASES);
    /* the last product's 18 MB B takes minutes on a simulated device */
    tcase_add_test(device, nonfinite_check_keeps_the_earliest_place);
    tcase_add_loop_test(device, feed_gathers_a_batch_in_the_split_order, 0,
                        (int)(sizeof feed_cases / sizeof feed_cases[0]));
    suite_add_tcase(s, device);

    /* the products alone: tests/oclgrind-check runs them under the gpu plan with
     * GPU-sized groups too; the last case's 110 M multiply-adds take rusticl's
     * llvmpipe (0.004-0.03 GFLOP/s) one to three minutes, now that its loops
     * are kept within the driver's limit and run to the end */
    TCase *products = tcase_create("products");
    tcase_set_timeout(products, 600);
    tcase_add_loop_test(products, gemm_matches_a_double_reference, 0, gemm_case_count());
    tcase_add_loop_test(products, padded_splits_write_nothing, 0,
                        (int)(sizeof split_cases / sizeof split_cases[0]));
    suite_add_tcase(s, products);

    TCase *shapes = tcase_create("shapes");
    tcase_add_loop_test(shapes, shape_errors_name_file_line_and_layer, 0,
                        (int)(sizeof shape_cases / sizeof shape_cases[0]));
    suite_add_tcase(s, shapes);
    return s;
}
