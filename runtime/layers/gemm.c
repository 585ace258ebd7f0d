/* gemm.c: the matrix products every dense and convolution layer is built on,
 * and the bias gradients' sums, launched as the device's kernel plan says:
 * clrun's own kernels (cl/gemm.cl on the cpu plan, cl/tiled.cl on the gpu
 * plan) or CLBlast (CLRUN_GEMM=clblast); long or few products split into
 * partial products that sum_splits adds in a fixed order (see layers.h). */
#include "layers/layers.h"

#include <limits.h>

#include "clblast.h"

/* A lone product's K is cut into chunks of this, when at least twice as long. */
enum { SPLIT_MIN_K = 256 };

/* A product kernel and the block of C each of its groups computes: on the cpu plan a work-item
 * a group, NN_TM x NN_TN or NT_TM x NT_TN (cl/gemm.cl); on the gpu plan TG x TG work-items,
 * TILE x TILE (cl/tiled.cl).  The loop iterations a work-item runs, for devices that end a
 * work-item's loops after so many in all (dev_loop_limit: rusticl's llvmpipe, 65,535): at most
 * loops_per_k a k step and loops_per_item an item, k counted in whole k_round steps; counted in
 * the kernel's source as if no loop were unrolled (rusticl's compiler unrolls none of them),
 * each loop's exit counting one. gemm_nn: by the product's shape (gemm_nn_for), up to four
 * register passes of 29 a k step (the k loop, 3 for B's vectors, 7 for A's rows, 6 x 3 for the
 * multiply-adds; A packed or not); gemm_nt: eight passes of 19 over 8 k steps, and an item's
 * last k steps that make no vector one at a time, at most 7 of 14 in each pass and 11 beside
 * them (with AVX-512 four passes of 31 over 16, at most 15 of 26 each), bounded by four times
 * the counts of the 4-row block it was (19 a k step, 1664 an item); conv_weight_grad: a pixel 6
 * in each of two passes of 4 rows (the pixel loop and 5 for the rows; 10 in one pass of 8), an
 * item 7 a pass beside them; gemm_tiled: a tile of TK k steps, 6 each in tile_multiply, beside
 * its loads (at most 2 x 65 with one work-item a group). */
typedef struct {
    const char *kernel;
    int tm, tn;
    int side; /* work-items along each side of a group */
    int loops_per_k, loops_per_item, k_round;
} GemmKernel;

static const GemmKernel gemm_nn = {"gemm_nn", 12, 32, 1, 0, 0, 1}, /* loops: gemm_nn_for */
                        gemm_nt = {"gemm_nt", 16, 4, 1, 19, 1664, 1},
                        conv_weight_grad = {"conv_weight_grad", 8, 16, 1, 24, 24, 1};

/* gemm_nn with its loop iterations for an M x N product whose B has b_cols
 * columns: a work-item's register passes over the rows and columns of its
 * block that lie in C, 31 a k step each (29, and the loads and stores of C
 * between k blocks), at least the 56 of AVX-512's one pass; or, for a B
 * narrower than a pass, the scalar path's rows x columns, 2 each an item. */
static GemmKernel gemm_nn_for(int M, int N, int b_cols)
{
    GemmKernel kn = gemm_nn;
    int rows = M < kn.tm ? M : kn.tm, cols = N < kn.tn ? N : kn.tn;
    if (b_cols < 16) {
        kn.loops_per_k = rows * cols, kn.loops_per_item = 2 * rows * cols;
    } else {
        int passes = (rows + 5) / 6 * ((cols + 15) / 16);
        kn.loops_per_k = 31 * passes > 56 ? 31 * passes : 56, kn.loops_per_item = 0;
    }
    return kn;
}

static GemmKernel gemm_tiled(const Plan *plan)
{
    return (GemmKernel){"gemm_tiled", plan->tile, plan->tile, plan->tile_group, 40, 2, 16};
}

/* Iterations a work-item's loops run beside those of its k steps and items
 * (the stores of its block), within this. */
enum { LOOPS_FIXED = 1024 };

/* An upper bound of the loop iterations a work-item of kn runs over `per`
 * items of K. */
static long work_item_loops(GemmKernel kn, int K, int per)
{
    long k = ((long)K + kn.k_round - 1) / kn.k_round * kn.k_round;
    return (long)per * (kn.loops_per_item + k * kn.loops_per_k) + LOOPS_FIXED;
}

/* *most = the most items of K, up to `items`, one work-item of kn may take in
 * a launch: all of them, unless the device ends loops short of what they
 * take (dev_loop_limit), then as many as fit, 0 when not one does. The limit
 * is probed only for launches that loop long. */
static int items_within_loop_limit(Graph *g, GemmKernel kn, int K, int items, int *most,
                                   Err *err)
{
    *most = items;
    long limit;
    int rc = dev_loop_limit_for(g->dev, work_item_loops(kn, K, items), &limit, err);
    if (rc || !limit)
        return rc;
    long fit = (limit - LOOPS_FIXED) / (work_item_loops(kn, K, 1) - LOOPS_FIXED);
    *most = fit < items ? (int)fit : items;
    return CLRUN_OK;
}

/* The most k steps of one product, up to K, a work-item of kn may take in a
 * launch (see items_within_loop_limit); 0 when not one fits. */
static int k_within_loop_limit(Graph *g, GemmKernel kn, int K, int *most, Err *err)
{
    int fits;
    int rc = items_within_loop_limit(g, kn, K, 1, &fits, err);
    *most = K;
    if (rc || fits)
        return rc;
    long k = (g->dev->loop_limit - LOOPS_FIXED - kn.loops_per_item) / kn.loops_per_k;
    *most = k > 0 ? (int)(k / kn.k_round * kn.k_round) : 0;
    return CLRUN_OK;
}

/* The error of a product whose k is too long for one work-item to loop over
 * on this device. */
static int too_long(Graph *g, GemmKernel kn, int K, Err *err)
{
    return err_set(err, CLRUN_ERUNTIME, "%s: %d steps of k take a work-item more loop iterations "
                   "than %s runs before it ends them (%ld); try another device (--device)",
                   kn.kernel, K, g->dev->name, g->dev->loop_limit);
}

/* The plan's kernels for products: gemm_nt when both operands run along k,
 * else gemm_nn (B's rows contiguous), or conv_weight_grad for A read from
 * images; the gpu plan's tiled kernel takes any strides. */
static GemmKernel kernel_of(const Graph *g, const GemmBatch *p)
{
    if (g->dev->plan.gpu)
        return gemm_tiled(&g->dev->plan);
    if (p->a_image)
        return conv_weight_grad;
    return p->b_sn != 1 ? gemm_nt : gemm_nn_for(p->M, p->N, p->b_cols);
}

/* Products go to CLBlast under the gpu plan with CLRUN_GEMM=clblast, a
 * split an item (its own summing is not deterministic), when it takes
 * their strides. */
static int through_clblast(const Graph *g, const GemmBatch *p)
{
    if (g->dev->plan.gemm != GEMM_CLBLAST || p->a_image)
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

/* The blocks of C a kernel computes an M x N product in. */
static int blocks_of(GemmKernel kn, int M, int N)
{
    return ((M + kn.tm - 1) / kn.tm) * ((N + kn.tn - 1) / kn.tn);
}

/* How a summed batch of products is cut: `per` items a split, the splits
 * computed side by side into partial products that sum_splits adds, or, when
 * those would outgrow the cache, one after another, each adding into C. */
typedef struct {
    int per;
    int in_turn;
} Splits;

/* How `items` products of M x N x K, to be added up, are split: all in one,
 * unless there are few output blocks, then enough splits that every core gets
 * work, about the plan's split target in all; or unless the items' B outgrows
 * the plan's slab, then as many as keep each split's B within it, in cache
 * while all the blocks use it (every block reads all of B: 3x faster on the
 * weight gradient of the Keras CNN's conv2d_2 on the cpu plan, 1.8x on
 * ResNet-18's 16 MB of dz rows, which a limit of half the last cache had let
 * 1152 blocks read each from there). When those splits' partial products would not
 * fit the cache (ResNet-18's deep weight gradients: 128 partials of 9 MB),
 * the splits run in turn, each at least SPLIT_MIN_K of k long, so that adding
 * into C costs little beside the products. */
static Splits split_items(const Plan *plan, GemmKernel kn, int M, int N, int K, int items)
{
    size_t item_bytes = (size_t)K * (size_t)N * sizeof(float);
    if (item_bytes * (size_t)items > plan->slab_bytes) {
        size_t per = plan->slab_bytes / item_bytes;
        per = per < 1 ? 1 : per > (size_t)items ? (size_t)items : per;
        size_t splits = ((size_t)items + per - 1) / per;
        if (splits * (size_t)M * (size_t)N * sizeof(float) <= plan->cache_bytes)
            return (Splits){(int)per, 0};
        size_t least = (SPLIT_MIN_K + (size_t)K - 1) / (size_t)K;
        per = per > least ? per : least;
        return (Splits){per > (size_t)items ? items : (int)per, 1};
    }
    int blocks = blocks_of(kn, M, N);
    int splits = (plan->split_target + blocks - 1) / blocks;
    splits = splits < items ? splits : items;
    return (Splits){(items + splits - 1) / splits, 0};
}

/* Partial products of `items` summed products at their largest, with any of
 * the plan's kernels; a smaller batch gives fewer items, or a smaller M or N
 * and no more than two split targets' worth of blocks. */
static size_t partial_floats(const Plan *plan, int M, int N, int K, int items)
{
    GemmKernel kernels[2] = {gemm_nn, gemm_nt};
    int n = 2;
    if (plan->gpu)
        kernels[0] = gemm_tiled(plan), n = 1;
    size_t most = 0;
    if (plan->gemm == GEMM_CLBLAST) /* CLBlast's summed products: an item a split */
        most = (size_t)items * (size_t)M * (size_t)N;
    for (int i = 0; i < n; i++) {
        Splits s = split_items(plan, kernels[i], M, N, K, items);
        size_t floats = s.in_turn ? 0 : (size_t)((items + s.per - 1) / s.per) * M * N;
        size_t small = (size_t)2 * plan->split_target * kernels[i].tm * kernels[i].tn;
        most = floats > most ? floats : most;
        most = small > most ? small : most;
    }
    return most;
}

void gemm_batch_reserve(Graph *g, const Plan *plan, int pass, int M, int N, int K, int items)
{
    graph_want_scratch(g, pass, SCRATCH_GEMM_P, partial_floats(plan, M, N, K, items));
}

/* A lone product's K as items: chunks of SPLIT_MIN_K when it is long enough
 * to be worth splitting. */
static int k_chunk(int K)
{
    return K < 2 * SPLIT_MIN_K ? K : SPLIT_MIN_K;
}

/* p's items of K, k_total of k in all, per_split items a split into C + s *
 * c_split, through the plan's kernel; all the splits, or only split `only`
 * (>= 0) when the splits run in turn, passed as the kernel's first split at
 * global offset zero (POCL compiles a kernel again for another offset). */
static int launch_items(Graph *g, const GemmBatch *p, int k_total, int per_split, int only,
                        cl_mem C, int ldc, int c_split, int accumulate, Err *err)
{
    if (per_split == 1 && through_clblast(g, p))
        return launch_clblast(g, p, k_total, C, ldc, c_split, accumulate, err);
    GemmKernel kn = kernel_of(g, p);
    int splits = only >= 0 ? 1 : (p->items + per_split - 1) / per_split;
    size_t side = (size_t)kn.side;
    size_t global[3] = {(size_t)(p->N + kn.tn - 1) / kn.tn * side,
                        (size_t)(p->M + kn.tm - 1) / kn.tm * side, (size_t)splits};
    size_t local[3] = {side, side, 1};
    int split0 = only >= 0 ? only : 0;
    cl_kernel k;
    int rc = dev_kernel(g->dev, kn.kernel, &k, err);
    if (rc)
        return rc;
    if (g->dev->plan.gpu)
        return DEV_LAUNCH(g->dev, k, 3, global, local, err, KA(p->M), KA(p->N), KA(p->K),
                          KA(k_total), KA(per_split), KA(split0), KA(p->A), KA(p->a_sm),
                          KA(p->a_sk), KA(p->a_item), KA(p->B), KA(p->b_sk), KA(p->b_sn),
                          KA(p->b_item), KA(C), KA(ldc), KA(c_split), KA(accumulate));
    if (p->a_image)
        return DEV_LAUNCH(g->dev, k, 3, global, local, err, KA(p->M), KA(p->N), KA(p->K),
                          KA(k_total), KA(per_split), KA(split0), KA(p->A), KA(p->a_item),
                          KA(p->B), KA(p->b_sk), KA(p->b_item), KA(p->b_cols), KA(C), KA(ldc),
                          KA(c_split), KA(accumulate), KA(*p->a_image));
    if (p->b_sn != 1)
        return DEV_LAUNCH(g->dev, k, 3, global, local, err, KA(p->M), KA(p->N), KA(p->K),
                          KA(k_total), KA(per_split), KA(split0), KA(p->A), KA(p->a_sm),
                          KA(p->a_item), KA(p->B), KA(p->b_sn), KA(p->b_item), KA(C), KA(ldc),
                          KA(c_split), KA(accumulate));
    int b_panel = p->b_panel ? p->b_panel : 16; /* 16: B's rows as they are */
    return DEV_LAUNCH(g->dev, k, 3, global, local, err, KA(p->M), KA(p->N), KA(p->K),
                      KA(k_total), KA(per_split), KA(split0), KA(p->A), KA(p->a_off),
                      KA(p->a_sm), KA(p->a_sk), KA(p->a_item), KA(p->a_panel), KA(p->B),
                      KA(p->b_off), KA(p->b_sk), KA(p->b_item), KA(p->b_cols), KA(b_panel),
                      KA(C), KA(ldc), KA(c_split), KA(accumulate));
}

/* C (+)= the sum of p's items, k_total of k in all, split after split, the
 * first adding into C as p says and the others to it. */
static int launch_in_turn(Graph *g, const GemmBatch *p, int k_total, int per, Err *err)
{
    int rc = CLRUN_OK;
    for (int s = 0; !rc && s * per < p->items; s++)
        rc = launch_items(g, p, k_total, per, s, p->C, p->ldc, 0, s ? 1 : p->accumulate, err);
    return rc;
}

/* C (+)= the sum of p's items, k_total of k in all: the splits' partial
 * products in scratch, added up in a fixed order, or the splits in turn, so
 * it is the same every run. */
static int launch_summed(Graph *g, const GemmBatch *p, int k_total, Err *err)
{
    Splits s = {1, 0};
    if (!through_clblast(g, p)) {
        GemmKernel kn = kernel_of(g, p);
        s = split_items(&g->dev->plan, kn, p->M, p->N, p->K, p->items);
        int most, rc = items_within_loop_limit(g, kn, p->K, s.per, &most, err);
        if (rc)
            return rc;
        if (!most)
            return too_long(g, kn, p->K, err);
        if (most < s.per) /* in turn: more splits, and no partial products to hold */
            s = (Splits){most, 1};
    }
    int splits = (p->items + s.per - 1) / s.per;
    if (splits == 1)
        return launch_items(g, p, k_total, s.per, -1, p->C, p->ldc, 0, p->accumulate, err);
    if (s.in_turn)
        return launch_in_turn(g, p, k_total, s.per, err);
    cl_mem part = g->scratch[SCRATCH_GEMM_P];
    /* packed operands lie at the scratch's end, after the partial products */
    size_t room = p->a_panel ? (size_t)p->a_off : g->scratch_floats[SCRATCH_GEMM_P];
    if (!part || room < (size_t)splits * p->M * p->N)
        return err_set(err, CLRUN_ERUNTIME, "internal: %d products of %dx%dx%d summed in %d "
                       "splits have no scratch (a reserve in the layer's setup)", p->items, p->M,
                       p->N, p->K, splits);
    int rc = launch_items(g, p, k_total, s.per, -1, part, p->N, p->M * p->N, 0, err);
    size_t g2[2] = {(size_t)p->N, (size_t)p->M};
    cl_kernel k;
    if (!rc && !(rc = dev_kernel(g->dev, "sum_splits", &k, err)))
        rc = DEV_LAUNCH(g->dev, k, 2, g2, NULL, err, KA(part), KA(splits), KA(p->M), KA(p->N),
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
    int k_total = p->items * p->K, rc = check_strides(p, err), fits = 1;
    if (!rc && !summed && !through_clblast(g, p))
        rc = items_within_loop_limit(g, kernel_of(g, p), p->K, 1, &fits, err);
    if (rc)
        return rc;
    if (!fits)
        return too_long(g, kernel_of(g, p), p->K, err);
    return summed ? launch_summed(g, p, k_total, err)
                  : launch_items(g, p, k_total, 1, -1, p->C, p->ldc, p->c_item, p->accumulate, err);
}

/* A lone product's operands are packed on the cpu plan, B into panels of
 * 16 columns and A into panels of 12 rows (gemm_nn's, cl/gemm.cl), when the
 * product is large enough that every panel serves several blocks: M and N at
 * least PACK_MIN where B's rows are contiguous; PACK_T_MIN where its columns
 * are (a dense layer's W^T), which pack_panels_t transposes for gemm_nn in
 * place of gemm_nt: the two packs' launches and passes over memory paid at
 * 256 x 256 x 1024 and beyond (80-122 GFLOP/s of CPU time against 76-108,
 * 512^3 92-111 against 65-71, 1024^3 113 against 69-88), not at the dense
 * layers' batch of 64 (64 x 128 x 9216: 34-59 against 80-102; the MLP's
 * 64 x 256 x 784 no faster, its training slower; bench/RESULTS.md). */
enum { PACK_MIN = 64, PACK_T_MIN = 256, A_PANEL_ROWS = 12 /* NN_TM */ };

static int packs(const Plan *plan, int M, int N, int b_sk, int b_sn)
{
    int least = b_sn == 1 ? PACK_MIN : b_sk == 1 ? PACK_T_MIN : INT_MAX;
    return !plan->gpu && M >= least && N >= least;
}

/* Floats of an operand packed in panels of `width` along n of its `n`
 * (K long each), and 16 to align it. */
static size_t packed_floats(int n, int width, int K)
{
    return (size_t)(n + width - 1) / width * width * (size_t)K + 16;
}

/* Floats of both operands packed: A's, then B's. */
static size_t operands_floats(int M, int N, int K)
{
    return packed_floats(M, A_PANEL_ROWS, K) + packed_floats(N, 16, K);
}

/* The scratch of a lone product: its partial products, then A and B packed. */
static size_t product_floats(const Plan *plan, int M, int N, int K, int b_sn)
{
    int chunk = k_chunk(K);
    size_t floats = partial_floats(plan, M, N, chunk, (K + chunk - 1) / chunk);
    return floats + (packs(plan, M, N, 0, b_sn) ? operands_floats(M, N, K) : 0);
}

void gemm_reserve(Graph *g, const Plan *plan, int pass, int M, int N, int K)
{
    graph_want_scratch(g, pass, SCRATCH_GEMM_P, product_floats(plan, M, N, K, 1));
}

/* Whether the scratch was reserved for an M x N x K product's operands
 * packed (not for a product no layer reserved). */
static int scratch_packs(const Graph *g, int M, int N, int K)
{
    return g->scratch[SCRATCH_GEMM_P] &&
           g->scratch_floats[SCRATCH_GEMM_P] >= product_floats(&g->dev->plan, M, N, K, 1);
}

/* Packs p's A and B (K of k) into panels at the end of the scratch, after
 * the partial products, each 64-byte aligned, and points p at them, B's rows
 * now contiguous (b_sn = 1) whichever way it was read. */
static int pack_operands(Graph *g, GemmBatch *p, int K, Err *err)
{
    size_t have = g->scratch_floats[SCRATCH_GEMM_P];
    int a_off = (int)((have - operands_floats(p->M, p->N, K) + 15) & ~(size_t)15);
    int b_off = (int)((a_off + packed_floats(p->M, A_PANEL_ROWS, K)) & ~(size_t)15);
    int a_panels = (p->M + A_PANEL_ROWS - 1) / A_PANEL_ROWS, b_panels = (p->N + 15) / 16;
    cl_mem part = g->scratch[SCRATCH_GEMM_P];
    int t = p->b_sn != 1; /* B transposed: a work-item a 16 x 16 tile */
    int b_step = t ? p->b_sn : p->b_sk; /* between B's columns, or its rows */
    size_t ga[2] = {(size_t)K, (size_t)a_panels};
    size_t gb[2] = {(size_t)b_panels, t ? (size_t)(K + 15) / 16 : (size_t)K};
    cl_kernel ka, kb;
    int rc = dev_kernel(g->dev, "pack_rows", &ka, err);
    if (!rc)
        rc = DEV_LAUNCH(g->dev, ka, 2, ga, NULL, err, KA(p->A), KA(p->a_sm), KA(p->a_sk), KA(p->M),
                        KA(K), KA(part), KA(a_off));
    if (!rc && !(rc = dev_kernel(g->dev, t ? "pack_panels_t" : "pack_panels", &kb, err)))
        rc = DEV_LAUNCH(g->dev, kb, 2, gb, NULL, err, KA(p->B), KA(b_step), KA(K), KA(p->N),
                        KA(part), KA(b_off));
    if (rc)
        return rc;
    p->A = p->B = part;
    p->a_off = a_off, p->a_sm = 1, p->a_sk = A_PANEL_ROWS, p->a_item = p->K * A_PANEL_ROWS;
    p->a_panel = K * A_PANEL_ROWS;
    p->b_off = b_off, p->b_sk = 16, p->b_sn = 1, p->b_item = p->K * 16;
    p->b_cols = b_panels * 16, p->b_panel = K * 16;
    return CLRUN_OK;
}

int gemm_prepare(Graph *g, Err *err)
{
    return g->dev->plan.gemm == GEMM_CLBLAST ? clblast_prepare(g->dev->id, err) : CLRUN_OK;
}

int launch_gemm(Graph *g, int M, int N, int K, cl_mem A, int a_sm, int a_sk, cl_mem B, int b_sk,
                int b_sn, cl_mem C, int ldc, int accumulate, Err *err)
{
    /* a long K is cut into chunks: items along the same matrices; not when
     * B is packed, within a quarter of the last cache, and there are blocks
     * enough for every core: then gemm_nn walks k in blocks itself, with no
     * partial products (1024^3: 145-155 GFLOP/s of CPU time against 86-130
     * in chunks). A larger B is read by every row block: in chunks, each
     * split's stays in cache while all of them do (2048^3 in one: 65-78
     * against 117-121). Where the device ends loops short, a work-item's
     * chunk stays within its limit. */
    const Plan *plan = &g->dev->plan;
    int pack = packs(plan, M, N, b_sk, b_sn) && scratch_packs(g, M, N, K);
    int whole = pack && blocks_of(gemm_nn, M, N) >= plan->split_target &&
                packed_floats(N, 16, K) * sizeof(float) <= plan->cache_bytes / 2;
    int chunk = whole ? K : k_chunk(K), most;
    GemmBatch shape = {.M = M, .N = N, .b_sn = pack ? 1 : b_sn, .b_cols = N};
    int rc = k_within_loop_limit(g, kernel_of(g, &shape), chunk, &most, err);
    if (rc)
        return rc;
    if (!most)
        return too_long(g, kernel_of(g, &shape), chunk, err);
    int capped = most < chunk;
    if (capped)
        chunk = k_chunk(K) < most ? k_chunk(K) : most;
    GemmBatch p = {.M = M, .N = N, .K = chunk, .items = (K + chunk - 1) / chunk,
                   .A = A, .a_sm = a_sm, .a_sk = a_sk, .a_item = chunk * a_sk,
                   .B = B, .b_sk = b_sk, .b_sn = b_sn, .b_item = chunk * b_sk, .b_cols = N,
                   .C = C, .ldc = ldc, .accumulate = accumulate};
    rc = check_strides(&p, err);
    if (!rc && pack)
        rc = pack_operands(g, &p, K, err);
    if (rc || !capped)
        return rc ? rc : launch_summed(g, &p, K, err);
    /* chunks the layer's scratch was not reserved for: splits of what a
     * work-item may loop over, in turn, which need no partial products */
    int per;
    rc = items_within_loop_limit(g, kernel_of(g, &p), chunk, p.items, &per, err);
    return rc ? rc : launch_in_turn(g, &p, K, per, err);
}

/* The gpu plan's bias gradients: a tree a channel, in a group of a power of
 * two from the plan's group size up to 256 (cl/tiled.cl's part[256]). */
static int sum_channels_tree(Graph *g, cl_mem in, cl_mem out, int N, int C, int P, Err *err)
{
    cl_kernel k;
    int rc = dev_kernel(g->dev, "sum_channels", &k, err);
    if (rc)
        return rc;
    size_t group = plan_reduction_group(&g->dev->plan, dev_limits(g->dev, k), (size_t)N * P, 256);
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
