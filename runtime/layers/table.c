/* table.c: the layer table, one row per layer type, and the helpers every
 * layer file shares. */
#include "layers/layers.h"

#include "clblast.h"

#include <string.h>

static const LayerType *const table[] = {
    &layer_conv2d,
    &layer_maxpool2d,
    &layer_dense,
    &layer_flatten,
    &layer_dropout,
    &layer_relu,
    &layer_softmax,
    &layer_log_softmax,
    &layer_add,
    &layer_sigmoid,
    &layer_tanh,
    &layer_linear,
    &layer_dropout2d,
    &layer_avgpool2d,
    &layer_global_avgpool,
    &layer_batchnorm,
};

#define TABLE_SIZE (sizeof table / sizeof table[0])

const LayerType *layer_find(const char *name)
{
    for (size_t i = 0; i < TABLE_SIZE; i++)
        if (strcmp(table[i]->name, name) == 0)
            return table[i];
    return NULL;
}

void layer_names(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < TABLE_SIZE && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", table[i]->name);
}

static const char *const act_names[] = {"linear", "relu", "sigmoid", "tanh"};

const char *act_name(int act)
{
    return act_names[act];
}

int act_parse(SpecNode *spec, int *act, Err *err)
{
    const char *name = NULL;
    int rc = spec_string(spec, "activation", 0, &name, err);
    if (rc || !name) {
        *act = ACT_LINEAR;
        return rc;
    }
    for (int i = 0; i < (int)(sizeof act_names / sizeof act_names[0]); i++)
        if (strcmp(name, act_names[i]) == 0) {
            *act = i;
            return CLRUN_OK;
        }
    return spec_error(spec_get(spec, "activation"), err,
                      "unknown activation '%s' (known: linear, relu, sigmoid, tanh)", name);
}

int layer_kernel(Graph *g, Node *n, const char *name, cl_kernel *out, Err *err)
{
    int rc = dev_kernel(g->dev, name, out, err);
    return rc ? err_prefix(err, rc, "layer '%s'", n->name) : CLRUN_OK;
}

int single_input(Node *n, Err *err)
{
    if (n->n_inputs != 1)
        return node_error(n, err, "%s takes one input, got %d", n->type->name, n->n_inputs);
    return CLRUN_OK;
}

int require_rank(Node *n, int rank, Err *err)
{
    int rc = single_input(n, err);
    if (rc)
        return rc;
    Shape s = n->inputs[0]->out_shape;
    if (s.rank == rank)
        return CLRUN_OK;
    char buf[64];
    shape_format(s, buf, sizeof buf);
    if (rank == 1)
        return node_error(n, err, "%s needs a flat input, got %s: add a flatten layer before it",
                          n->type->name, buf);
    return node_error(n, err, "%s needs an input of rank %d (channels, height, width), got %s",
                      n->type->name, rank, buf);
}

void window_axis(int same, long in, long k, long stride, long pad, long *out, long *lead)
{
    if (same) {
        *out = (in + stride - 1) / stride;
        long total = (*out - 1) * stride + k - in;
        *lead = total > 0 ? total / 2 : 0;
    } else {
        *out = (in + 2 * pad - k) / stride + 1;
        *lead = pad;
    }
}

/* A lone product's K is cut into chunks of this, when at least twice as long. */
enum { SPLIT_MIN_K = 256 };

/* A product kernel and the block of C each of its groups computes: on the
 * cpu plan a work-item a group, NN_TM x NN_TN or NT_TM x NT_TN (cl/gemm.cl);
 * on the gpu plan TG x TG work-items, TILE x TILE (cl/tiled.cl). */
typedef struct {
    const char *kernel;
    int tm, tn;
    int side; /* work-items along each side of a group */
} GemmKernel;

static const GemmKernel gemm_nn = {"gemm_nn", 8, 16, 1}, gemm_nt = {"gemm_nt", 4, 4, 1};

static GemmKernel gemm_tiled(const Plan *plan)
{
    return (GemmKernel){"gemm_tiled", plan->tile, plan->tile, plan->tile_group};
}

/* The plan's kernels for products: gemm_nt when both operands run along k,
 * else gemm_nn (B's rows contiguous); the gpu plan's tiled kernel takes any
 * strides. */
static GemmKernel kernel_of(const Graph *g, const GemmBatch *p)
{
    if (g->dev->plan.gpu)
        return gemm_tiled(&g->dev->plan);
    return p->b_sn != 1 ? gemm_nt : gemm_nn;
}

/* Products go to CLBlast under the gpu plan with CLRUN_GEMM=clblast, a
 * split an item (its own summing is not deterministic), when it takes
 * their strides. */
static int through_clblast(const Graph *g, const GemmBatch *p)
{
    if (g->dev->plan.gemm != GEMM_CLBLAST)
        return 0;
    ClblastGemm c = {.M = p->M, .N = p->N, .K = p->K, .a_sm = p->a_sm, .a_sk = p->a_sk,
                     .b_sk = p->b_sk, .b_sn = p->b_sn, .ldc = p->ldc};
    return clblast_fits(&c);
}

/* p's items of K (the last of k_total - (items - 1) * K when shorter), each
 * into C + i * c_item, through CLBlast: a strided batch of the equal ones,
 * then the short one. */
static int launch_clblast(Graph *g, const GemmBatch *p, int k_total, cl_mem C, int ldc,
                          int c_item, int accumulate, Err *err)
{
    int whole = k_total / p->K;
    ClblastGemm c = {.M = p->M, .N = p->N, .K = p->K, .batch = whole,
                     .A = p->A, .a_sm = p->a_sm, .a_sk = p->a_sk, .a_item = (size_t)p->a_item,
                     .B = p->B, .b_sk = p->b_sk, .b_sn = p->b_sn, .b_item = (size_t)p->b_item,
                     .C = C, .ldc = ldc, .c_item = (size_t)c_item, .accumulate = accumulate};
    int rc = whole ? clblast_gemm(g->dev, &c, err) : CLRUN_OK;
    if (rc || whole == p->items)
        return rc;
    /* the short last item, as a batch of one */
    c.K = k_total - whole * p->K, c.batch = 1;
    c.a_off = (size_t)whole * p->a_item, c.b_off = (size_t)whole * p->b_item;
    c.c_off = (size_t)whole * c_item;
    return clblast_gemm(g->dev, &c, err);
}

/* How many of `items` products of M x N x K, to be added up, each split sums:
 * all, unless there are few output blocks, then enough splits that every
 * core gets work, about the plan's split target in all; or unless B outgrows
 * the cache, then as many as keep each split's B within the plan's slab, in
 * cache while all the blocks use it (3x faster on the weight gradient of the
 * Keras CNN's conv2d_2 on the cpu plan). */
static int items_per_split(const Plan *plan, GemmKernel kn, int M, int N, int K, int items)
{
    size_t item_bytes = (size_t)K * (size_t)N * sizeof(float);
    if (item_bytes * (size_t)items > plan->cache_bytes) {
        size_t per = plan->slab_bytes / item_bytes;
        return per < 1 ? 1 : per > (size_t)items ? items : (int)per;
    }
    int blocks = ((M + kn.tm - 1) / kn.tm) * ((N + kn.tn - 1) / kn.tn);
    int splits = (plan->split_target + blocks - 1) / blocks;
    splits = splits < items ? splits : items;
    return (items + splits - 1) / splits;
}

/* Partial products of `items` summed products at their largest, with any of
 * the plan's kernels; a smaller batch gives fewer items, or a smaller M or N
 * and no more than two split targets' worth of blocks. */
void gemm_batch_reserve(Graph *g, int M, int N, int K, int items)
{
    const Plan *plan = &g->dev->plan;
    GemmKernel kernels[2] = {gemm_nn, gemm_nt};
    int n = 2;
    if (plan->gpu)
        kernels[0] = gemm_tiled(plan), n = 1;
    size_t most = 0;
    if (plan->gemm == GEMM_CLBLAST) /* CLBlast's summed products: an item a split */
        most = (size_t)items * (size_t)M * (size_t)N;
    for (int i = 0; i < n; i++) {
        int per = items_per_split(plan, kernels[i], M, N, K, items);
        size_t floats = (size_t)((items + per - 1) / per) * (size_t)M * (size_t)N;
        size_t small = (size_t)2 * plan->split_target * kernels[i].tm * kernels[i].tn;
        most = floats > most ? floats : most;
        most = small > most ? small : most;
    }
    graph_want_scratch(g, SCRATCH_GEMM_P, most);
}

/* A lone product's K as items: chunks of SPLIT_MIN_K when it is long enough
 * to be worth splitting. */
static int k_chunk(int K)
{
    return K < 2 * SPLIT_MIN_K ? K : SPLIT_MIN_K;
}

/* p's items of K, k_total of k in all, per_split items a split into C + s *
 * c_split, through the plan's kernel. */
static int launch_items(Graph *g, const GemmBatch *p, int k_total, int per_split, cl_mem C,
                        int ldc, int c_split, int accumulate, Err *err)
{
    if (per_split == 1 && through_clblast(g, p))
        return launch_clblast(g, p, k_total, C, ldc, c_split, accumulate, err);
    GemmKernel kn = kernel_of(g, p);
    int splits = (p->items + per_split - 1) / per_split;
    size_t side = (size_t)kn.side;
    size_t global[3] = {(size_t)(p->N + kn.tn - 1) / kn.tn * side,
                        (size_t)(p->M + kn.tm - 1) / kn.tm * side, (size_t)splits};
    size_t local[3] = {side, side, 1};
    cl_kernel k;
    int rc = dev_kernel(g->dev, kn.kernel, &k, err);
    if (rc)
        return rc;
    if (g->dev->plan.gpu)
        return DEV_LAUNCH(g->dev, k, 3, global, local, err, KA(p->M), KA(p->N), KA(p->K),
                          KA(k_total), KA(per_split), KA(p->A), KA(p->a_sm), KA(p->a_sk),
                          KA(p->a_item), KA(p->B), KA(p->b_sk), KA(p->b_sn), KA(p->b_item), KA(C),
                          KA(ldc), KA(c_split), KA(accumulate));
    if (p->b_sn != 1)
        return DEV_LAUNCH(g->dev, k, 3, global, local, err, KA(p->M), KA(p->N), KA(p->K),
                          KA(k_total), KA(per_split), KA(p->A), KA(p->a_sm), KA(p->a_item),
                          KA(p->B), KA(p->b_sn), KA(p->b_item), KA(C), KA(ldc), KA(c_split),
                          KA(accumulate));
    return DEV_LAUNCH(g->dev, k, 3, global, local, err, KA(p->M), KA(p->N), KA(p->K),
                      KA(k_total), KA(per_split), KA(p->A), KA(p->a_sm), KA(p->a_sk),
                      KA(p->a_item), KA(p->B), KA(p->b_sk), KA(p->b_item), KA(p->b_cols), KA(C),
                      KA(ldc), KA(c_split), KA(accumulate));
}

/* C (+)= the sum of p's items, k_total of k in all: the splits' partial
 * products in scratch, added up in a fixed order, so it is the same every run. */
static int launch_summed(Graph *g, const GemmBatch *p, int k_total, Err *err)
{
    int per = through_clblast(g, p) ? 1
              : items_per_split(&g->dev->plan, kernel_of(g, p), p->M, p->N, p->K, p->items);
    int splits = (p->items + per - 1) / per;
    if (splits == 1)
        return launch_items(g, p, k_total, per, p->C, p->ldc, 0, p->accumulate, err);
    cl_mem part = g->scratch[SCRATCH_GEMM_P];
    if (!part || g->scratch_floats[SCRATCH_GEMM_P] < (size_t)splits * p->M * p->N)
        return err_set(err, CLRUN_ERUNTIME, "internal: %d products of %dx%dx%d summed in %d "
                       "splits have no scratch (a reserve in the layer's setup)", p->items, p->M,
                       p->N, p->K, splits);
    int rc = launch_items(g, p, k_total, per, part, p->N, p->M * p->N, 0, err);
    size_t g2[2] = {(size_t)p->N, (size_t)p->M}, l2[2] = {g->dev->plan.group, 1};
    cl_kernel k;
    if (!rc && !(rc = dev_kernel(g->dev, "sum_splits", &k, err)))
        rc = DEV_LAUNCH(g->dev, k, 2, g2, l2, err, KA(part), KA(splits), KA(p->M), KA(p->N),
                        KA(p->N), KA(p->C), KA(p->ldc), KA(p->accumulate));
    return rc;
}

static int check_strides(const GemmBatch *p, Err *err)
{
    if (p->b_sn == 1 || (p->a_sk == 1 && p->b_sk == 1))
        return CLRUN_OK;
    return err_set(err, CLRUN_ERUNTIME, "internal: no GEMM kernel for A strides (%d, %d) with B "
                   "strides (%d, %d)", p->a_sm, p->a_sk, p->b_sk, p->b_sn);
}

int launch_gemm_batch(Graph *g, const GemmBatch *p, int summed, Err *err)
{
    int k_total = p->items * p->K, rc = check_strides(p, err);
    if (rc)
        return rc;
    return summed ? launch_summed(g, p, k_total, err)
                  : launch_items(g, p, k_total, 1, p->C, p->ldc, p->c_item, p->accumulate, err);
}

void gemm_reserve(Graph *g, int M, int N, int K)
{
    int chunk = k_chunk(K);
    gemm_batch_reserve(g, M, N, chunk, (K + chunk - 1) / chunk);
}

int launch_gemm(Graph *g, int M, int N, int K, cl_mem A, int a_sm, int a_sk, cl_mem B, int b_sk,
                int b_sn, cl_mem C, int ldc, int accumulate, Err *err)
{
    /* a long K is cut into chunks: items along the same matrices */
    int chunk = k_chunk(K);
    GemmBatch p = {.M = M, .N = N, .K = chunk, .items = (K + chunk - 1) / chunk,
                   .A = A, .a_sm = a_sm, .a_sk = a_sk, .a_item = chunk * a_sk,
                   .B = B, .b_sk = b_sk, .b_sn = b_sn, .b_item = chunk * b_sk, .b_cols = N,
                   .C = C, .ldc = ldc, .accumulate = accumulate};
    int rc = check_strides(&p, err);
    return rc ? rc : launch_summed(g, &p, K, err);
}

/* The gpu plan's bias gradients: a tree a channel, in a group of a power of
 * two from the plan's group size up to 256 (cl/tiled.cl). */
static int sum_channels_tree(Graph *g, cl_mem in, cl_mem out, int N, int C, int P, Err *err)
{
    cl_kernel k;
    int rc = dev_kernel(g->dev, "sum_channels", &k, err);
    if (rc)
        return rc;
    size_t most = dev_group_limit(g->dev, k), group = g->dev->plan.group;
    while (group < 256 && group < (size_t)N * P && group * 2 <= most)
        group *= 2;
    size_t global[1] = {(size_t)C * group}, local[1] = {group};
    return DEV_LAUNCH(g->dev, k, 1, global, local, err, KA(in), KA(out), KA(N), KA(C), KA(P));
}

int launch_sum_channels(Graph *g, cl_mem in, cl_mem out, int N, int C, int P, cl_mem ones,
                        Err *err)
{
    if (g->dev->plan.gpu)
        return sum_channels_tree(g, in, out, N, C, P, err);
    cl_kernel k;
    int rc = CLRUN_OK;
    if (P == 1) { /* a column a work-item, down the rows */
        size_t global[1] = {(size_t)C};
        if (!(rc = dev_kernel(g->dev, "sum_cols", &k, err)))
            rc = DEV_LAUNCH(g->dev, k, 1, global, NULL, err, KA(in), KA(out), KA(N), KA(C));
        return rc;
    }
    /* products of each example's [C, P] with a vector of ones, summed */
    GemmBatch p = {.M = C, .N = 1, .K = P, .items = N, .A = in, .a_sm = P, .a_sk = 1,
                   .a_item = C * P, .B = ones, .b_sk = 0, .b_sn = 1, .b_cols = 16, .C = out,
                   .ldc = 1};
    return launch_gemm_batch(g, &p, 1, err);
}

/* The smallest power of two at least n, up to most. */
static size_t pow2_up(size_t n, size_t most)
{
    size_t p = 1;
    while (p < n && p < most)
        p *= 2;
    return p;
}

/* The gpu plan's groups over planes: the plan's group size, a block of x,
 * then y, then planes (small planes share a group, so none idles). */
static void planes_gpu(size_t group, int w, int h, size_t local[3])
{
    local[0] = pow2_up((size_t)w, group);
    local[1] = pow2_up((size_t)h, group / local[0]);
    local[2] = group / local[0] / local[1];
}

/* The cpu plan's: a whole plane to a work-group when the kernel allows it
 * (POCL's cost is per work-group, so they should be big), else a row, else
 * 64 of a row. */
static void planes_cpu(size_t most, int w, int h, size_t local[3])
{
    most = most < 1024 ? most : 1024;
    local[0] = (size_t)w <= most ? (size_t)w : 64;
    local[1] = (size_t)w * h <= most ? (size_t)h : 1;
    local[2] = 1;
}

void launch_planes(const Graph *g, cl_kernel k, int w, int h, int planes, size_t global[3],
                   size_t local[3])
{
    size_t most = dev_group_limit(g->dev, k), group = g->dev->plan.group;
    if (g->dev->plan.gpu)
        planes_gpu(group < most ? group : most, w, h, local);
    else
        planes_cpu(most, w, h, local);
    global[0] = (size_t)w;
    global[1] = (size_t)h;
    global[2] = (size_t)planes;
}
