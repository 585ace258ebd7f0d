/* conv.c: conv2d. Forward is an implicit GEMM over the image with bias and
 * activation fused; backward works on dz in [N, O, OH*OW], a batch of
 * products an example each: the bias and weight gradients summed over the
 * batch (the weights' with a column matrix; on the cpu plan, with 16 filters
 * or more, as dW^T from dz turned to rows of filters), the input gradient as
 * the implicit GEMM of dz with the turned kernel or as products into a
 * column matrix, then col2im (kernels in cl/conv.cl, cl/gemm.cl). The gpu
 * plan has kernels of its own for the implicit GEMM and the column matrix,
 * with the same arguments (cl/tiled.cl); only their names and launch shapes
 * differ here. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"

typedef struct {
    long filters, kernel[2], stride[2];
    int same;          /* padding 'same': output = ceil(input / stride) */
    long pad[2];       /* explicit padding (top/left; bottom/right follow from the output size) */
    int act;
    int bias;          /* bias: false, for a convolution followed by batchnorm */
    ConvGeom geom;
    cl_kernel im2col, col2im, act_bwd, weights_b, weights_turned, implicit, implicit_wide,
        pad_planes, transpose;
    cl_mem ones; /* 16 ones: the B that sums dz's rows into the bias gradient */
} Conv;

/* The kernels of one plan: the implicit GEMM (16 and 32 channels a
 * work-item on the cpu plan; the gpu plan's tiles take any) and the column
 * matrix's. */
typedef struct {
    const char *implicit, *implicit_wide, *im2col, *col2im;
} ConvKernels;

static const ConvKernels cpu_kernels = {"conv_implicit", "conv_implicit_wide", "im2col", "col2im"},
                         gpu_kernels = {"conv_tiled", "conv_tiled", "im2col_items",
                                        "col2im_items"};

static int parse_pair(SpecNode *spec, const char *key, int required, long def, long out[2],
                      Err *err)
{
    long v[2] = {def, def};
    int n = 0;
    int rc = spec_ints(spec, key, required, 1, SPEC_SIZE_MAX, v, 2, &n, err);
    if (rc)
        return rc;
    if (n == 1)
        v[1] = v[0];
    out[0] = v[0];
    out[1] = v[1];
    return CLRUN_OK;
}

static int parse_padding(SpecNode *spec, Conv *c, Err *err)
{
    SpecNode *p = spec_get(spec, "padding");
    if (!p)
        return CLRUN_OK;
    if (p->kind == SPEC_SCALAR && strcmp(p->value, "same") == 0)
        c->same = 1;
    else if (p->kind == SPEC_SCALAR && strcmp(p->value, "valid") == 0)
        c->same = 0;
    else {
        long v[2] = {0, 0};
        int n = 0;
        if (p->kind == SPEC_MAP || (p->kind == SPEC_SCALAR && (p->quoted ||
                                    !(isdigit((unsigned char)p->value[0]) || p->value[0] == '-'))))
            return spec_error(p, err, "padding must be 'valid', 'same' or a number of pixels");
        if (spec_ints(spec, "padding", 1, 0, SPEC_SIZE_MAX, v, 2, &n, err))
            return CLRUN_EINPUT;
        c->pad[0] = v[0];
        c->pad[1] = n == 2 ? v[1] : v[0];
    }
    return CLRUN_OK;
}

static int conv_parse(Node *n, SpecNode *spec, Err *err)
{
    Conv *c = calloc(1, sizeof *c);
    n->state = c;
    int rc = spec_int(spec, "filters", 1, 1, SPEC_SIZE_MAX, &c->filters, err);
    if (!rc)
        rc = parse_pair(spec, "kernel_size", 1, 1, c->kernel, err);
    if (!rc)
        rc = parse_pair(spec, "stride", 0, 1, c->stride, err);
    if (!rc)
        rc = parse_padding(spec, c, err);
    if (!rc)
        rc = act_parse(spec, 0, &c->act, err);
    c->bias = 1;
    if (!rc)
        rc = spec_bool(spec, "bias", 0, &c->bias, err);
    return rc;
}

static int conv_infer(Node *n, Graph *g, Err *err)
{
    Conv *c = n->state;
    int rc = require_rank(n, 3, err);
    if (rc)
        return rc;
    Shape in = n->inputs[0]->out_shape;
    long oh, ow, ph, pw;
    window_axis(c->same, in.dim[1], c->kernel[0], c->stride[0], c->pad[0], &oh, &ph);
    window_axis(c->same, in.dim[2], c->kernel[1], c->stride[1], c->pad[1], &ow, &pw);
    if (!c->same && (in.dim[1] + 2 * c->pad[0] < c->kernel[0] ||
                     in.dim[2] + 2 * c->pad[1] < c->kernel[1]))
        return node_error(n, err, "kernel_size %ldx%ld does not fit input %dx%dx%d", c->kernel[0],
                          c->kernel[1], in.dim[0], in.dim[1], in.dim[2]);
    c->geom = (ConvGeom){0, in.dim[0], in.dim[1], in.dim[2], (cl_int)c->kernel[0],
                         (cl_int)c->kernel[1], (cl_int)c->stride[0], (cl_int)c->stride[1],
                         (cl_int)ph, (cl_int)pw, (cl_int)oh, (cl_int)ow};
    n->out_shape = (Shape){3, {(int)c->filters, (int)oh, (int)ow}};
    long area = c->kernel[0] * c->kernel[1];
    ParamInit w = {PARAM_WEIGHT, in.dim[0] * area, c->filters * area, 1}, b = w;
    b.role = PARAM_BIAS;
    long wdims[4] = {c->filters, in.dim[0], c->kernel[0], c->kernel[1]}, bdims[1] = {c->filters};
    rc = graph_add_param(g, n, "weight", 4, wdims, w, err);
    return rc || !c->bias ? rc : graph_add_param(g, n, "bias", 1, bdims, b, err);
}

static int round_up(long n, int to)
{
    return (int)((n + to - 1) / to * to);
}

/* The share of `width`-wide blocks that `n` channels fill. */
static double block_share(int n, int width)
{
    return (double)n / round_up(n, width);
}

/* Output channels a conv_implicit work-item computes: on the cpu plan 32
 * (conv_implicit_wide) when the plan has that block and `oc` fills 32-wide
 * blocks to at least 90%, else 16; B's rows are as wide as a whole number of
 * them. */
static int implicit_width(const Plan *plan, int oc)
{
    int wide = !plan->gpu && plan->conv_pixels_wide && oc >= 32 && block_share(oc, 32) >= 0.9;
    return wide ? 32 : 16;
}

/* The geometry of the input with its padding written out (pad_planes): just
 * the rows and columns the windows reach, no padding left. */
static ConvGeom padded_geom(ConvGeom f)
{
    ConvGeom p = f;
    p.h = (f.oh - 1) * f.sh + f.kh, p.w = (f.ow - 1) * f.sw + f.kw;
    p.ph = p.pw = 0;
    return p;
}

/* The input gradient of a stride-1 convolution as a convolution of dz: the
 * kernel turned, channels swapped, leading padding KH-1-PH, KW-1-PW. */
static ConvGeom turned_geom(ConvGeom f)
{
    return (ConvGeom){f.n, f.c, f.oh, f.ow, f.kh, f.kw, 1, 1, f.kh - 1 - f.ph, f.kw - 1 - f.pw,
                      f.h, f.w};
}

/* Whether the weight gradient is taken as dW^T = col . dz^T on this plan
 * (rows_weight_grad): on the cpu plan when there are 16 filters or more
 * filling at least 60% of conv_weight_grad's 16-wide blocks (LeNet's 20:
 * 1.15x the column matrix's; its 10 would need B widened, whose turning cost
 * more than it saved). */
static int rows_weight_grad_fits(const Plan *plan, int filters)
{
    return !plan->gpu && filters >= 16 && block_share(filters, 16) >= 0.6;
}

/* Whether the cpu plan's conv_implicit takes x of this geometry with its
 * padding written out first (pad_input). */
static int pads(const Plan *plan, ConvGeom geom)
{
    return !plan->gpu && (geom.ph || geom.pw);
}

/* Whether dx is taken as a convolution of dz with the turned kernel
 * (turned_input_grad) rather than through the column matrix: stride 1 on
 * the cpu plan when the input's channels fill at least 90% of
 * conv_implicit's 16-wide blocks (the Keras CNNs' and ResNet-18's 32-512
 * channels: their backward 1.1-1.2x faster than with the column matrix),
 * the rest the column matrix (LeNet's 10 channels: 20% slower turned). */
static int turned_fits(const Plan *plan, ConvGeom geom)
{
    return !plan->gpu && geom.sh == 1 && geom.sw == 1 && block_share(geom.c, 16) >= 0.9;
}

/* The scratch each pass takes, on this plan alone: what pages a pass never
 * touches would still keep other tensors out of its place in the arena. */
static void conv_scratch(Node *n, Graph *g, const Plan *plan)
{
    Conv *c = n->state;
    int k = c->geom.c * c->geom.kh * c->geom.kw, p = c->geom.oh * c->geom.ow;
    size_t cols = (size_t)g->max_batch * p, b = (size_t)k * round_up(c->filters, 32);
    ConvGeom turned = turned_geom(c->geom);
    size_t padded_x = (size_t)g->max_batch * c->geom.c * padded_geom(c->geom).h *
                      padded_geom(c->geom).w;
    /* forward: the weights as conv_implicit's B, the input padded */
    graph_want_scratch(g, MEM_FORWARD, SCRATCH_CONV_B, b);
    if (pads(plan, c->geom))
        graph_want_scratch(g, MEM_FORWARD, SCRATCH_COL, padded_x);
    /* dW: from dz as rows and the padded input, dW^T in CONV_B; or from the
     * column matrix */
    if (rows_weight_grad_fits(plan, (int)c->filters)) {
        graph_want_scratch(g, MEM_BACKWARD, SCRATCH_ROWS, cols * round_up(c->filters, 16));
        graph_want_scratch(g, MEM_BACKWARD, SCRATCH_CONV_B, b);
        if (pads(plan, c->geom))
            graph_want_scratch(g, MEM_BACKWARD, SCRATCH_COL, padded_x);
        gemm_batch_reserve(g, plan, MEM_BACKWARD, k, (int)c->filters, p, g->max_batch);
    } else {
        graph_want_scratch(g, MEM_BACKWARD, SCRATCH_COL, (size_t)k * cols);
        gemm_batch_reserve(g, plan, MEM_BACKWARD, (int)c->filters, k, p, g->max_batch);
    }
    gemm_batch_reserve(g, plan, MEM_BACKWARD, (int)c->filters, 1, p, g->max_batch); /* bias */
    if (n->inputs[0] == &g->nodes[0]) /* the input batch has no gradient */
        return;
    if (!turned_fits(plan, c->geom)) {
        graph_want_scratch(g, MEM_BACKWARD, SCRATCH_COL, (size_t)k * cols);
        return;
    }
    /* the turned weights as B, dz padded (in the slot of its rows for dW) */
    graph_want_scratch(g, MEM_BACKWARD, SCRATCH_CONV_B, (size_t)c->filters * c->geom.kh *
                                                          c->geom.kw * round_up(c->geom.c, 32));
    if (pads(plan, turned))
        graph_want_scratch(g, MEM_BACKWARD, SCRATCH_ROWS, (size_t)g->max_batch * c->filters *
                                                           padded_geom(turned).h *
                                                           padded_geom(turned).w);
}

static int conv_setup(Node *n, Graph *g, Err *err)
{
    Conv *c = n->state;
    c->geom.n = g->max_batch;
    const float ones[16] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    const ConvKernels *ks = g->dev->plan.gpu ? &gpu_kernels : &cpu_kernels;
    int rc = layer_kernel(g, n, ks->im2col, &c->im2col, err);
    if (!rc) rc = layer_kernel(g, n, ks->col2im, &c->col2im, err);
    if (!rc) rc = layer_kernel(g, n, "act_backward", &c->act_bwd, err);
    if (!rc) rc = layer_kernel(g, n, "conv_weights_b", &c->weights_b, err);
    if (!rc) rc = layer_kernel(g, n, "conv_weights_turned", &c->weights_turned, err);
    if (!rc) rc = layer_kernel(g, n, ks->implicit, &c->implicit, err);
    if (!rc) rc = layer_kernel(g, n, ks->implicit_wide, &c->implicit_wide, err);
    if (!rc) rc = layer_kernel(g, n, "pad_planes", &c->pad_planes, err);
    if (!rc) rc = layer_kernel(g, n, "transpose_items", &c->transpose, err);
    if (!rc) rc = graph_buffer(g, 16, "conv2d ones", &c->ones, err);
    if (!rc) rc = dev_write(g->dev, c->ones, 0, sizeof ones, ones, err);
    return rc;
}

/* The matrices of one batch: O filters, K = C*KH*KW rows of the column matrix,
 * P output pixels per example, NP = batch * P columns. */
typedef struct {
    ConvGeom geom;
    int O, K, P, NP;
} ConvBatch;

static ConvBatch conv_batch(const Conv *c, int batch)
{
    ConvBatch b = {c->geom, (int)c->filters, 0, 0, 0};
    b.geom.n = batch;
    b.K = b.geom.c * b.geom.kh * b.geom.kw;
    b.P = b.geom.oh * b.geom.ow;
    b.NP = batch * b.P;
    return b;
}

/* conv_implicit's launch: the plan's pixels of a plane x `width` channels a
 * work-item (implicit_width) on the cpu plan; a TILE of channels x
 * a TILE of the batch's pixels a group on the gpu plan. */
static void implicit_shape(const Plan *plan, ConvGeom geom, int b_cols, int width, size_t gi[3],
                           size_t li[3])
{
    if (plan->gpu) {
        size_t side = (size_t)plan->tile_group, tile = (size_t)plan->tile;
        size_t pixels = (size_t)geom.n * geom.oh * geom.ow;
        gi[0] = (pixels + tile - 1) / tile * side;
        gi[1] = ((size_t)b_cols + tile - 1) / tile * side;
        gi[2] = 1;
        li[0] = li[1] = side, li[2] = 1;
        return;
    }
    size_t pixels = (size_t)(width == 32 ? plan->conv_pixels_wide : plan->conv_pixels);
    gi[0] = ((size_t)geom.oh * geom.ow + pixels - 1) / pixels;
    gi[1] = (size_t)geom.n * b_cols / width, gi[2] = 1;
    li[0] = li[1] = li[2] = 1;
}

/* *x with its padding written out into scratch slot `slot`, and *geom its
 * geometry, as the cpu plan's conv_implicit takes them (its rows inside the
 * image were 1.3x faster than those it had to guard). */
static int pad_input(Node *n, Graph *g, int slot, cl_mem *x, ConvGeom *geom, Err *err)
{
    Conv *c = n->state;
    ConvGeom p = padded_geom(*geom);
    cl_mem xp = g->scratch[slot];
    size_t global[3], local[3];
    launch_planes(g, c->pad_planes, p.h, geom->c, geom->n, global, local);
    int rc = DEV_LAUNCH(g->dev, c->pad_planes, 3, global, local, err, KA(*x), KA(xp), KA(*geom), KA(p.h),
                        KA(p.w));
    *x = xp, *geom = p;
    return rc;
}

/* out = the implicit GEMM of x (geometry geom) with the layer's weights laid
 * out as B (b_rows x oc rounded up to whole blocks) by kernel `weights`
 * (conv_weights_b, or conv_weights_turned for the input gradient): on the
 * cpu plan in panels a work-item wide, as conv_implicit reads them, and a
 * padded x gets its padding written out first, into scratch slot pad_slot;
 * on the gpu plan as one matrix. */
static int launch_implicit(Node *n, Graph *g, cl_kernel weights, int b_rows, cl_mem x,
                           int pad_slot, ConvGeom geom, int oc, cl_mem bias, int act, cl_mem out,
                           Err *err)
{
    Conv *c = n->state;
    cl_mem w = node_param(g, n, 0)->value, b = g->scratch[SCRATCH_CONV_B];
    int width = implicit_width(&g->dev->plan, oc), b_cols = round_up(oc, width);
    int o = (int)c->filters, panel = g->dev->plan.gpu ? b_cols : width;
    size_t gb[2] = {(size_t)b_cols, (size_t)b_rows};
    size_t gi[3], li[3];
    implicit_shape(&g->dev->plan, geom, b_cols, width, gi, li);
    int rc = DEV_LAUNCH(g->dev, weights, 2, gb, NULL, err, KA(w), KA(b), KA(o), KA(c->geom.c),
                        KA(geom.kh), KA(geom.kw), KA(b_cols), KA(panel));
    if (!rc && pads(&g->dev->plan, geom))
        rc = pad_input(n, g, pad_slot, &x, &geom, err);
    cl_kernel k = width == 32 ? c->implicit_wide : c->implicit;
    return rc ? rc : DEV_LAUNCH(g->dev, k, 3, gi, li, err, KA(x), KA(b), KA(b_cols),
                                KA(bias), KA(out), KA(oc), KA(act), KA(geom));
}

static int conv_forward(Node *n, Graph *g, Err *err)
{
    Conv *c = n->state;
    ConvGeom geom = conv_batch(c, g->batch).geom;
    cl_mem bias = c->bias ? node_param(g, n, 1)->value : NULL;
    return launch_implicit(n, g, c->weights_b, geom.c * geom.kh * geom.kw, n->inputs[0]->out,
                           SCRATCH_COL, geom, (int)c->filters, bias, c->act, n->out, err);
}

/* A launch of the column matrix's kernels: over (rows, examples, 1) for
 * im2col and (dx rows, channels, examples) for col2im on the cpu plan, an
 * element a work-item on the gpu plan. */
static int layout_launch(Graph *g, cl_kernel k, const size_t cpu[3], size_t elements, cl_mem from,
                         cl_mem to, const ConvGeom *geom, Err *err)
{
    size_t one[1] = {elements};
    int gpu = g->dev->plan.gpu;
    return DEV_LAUNCH(g->dev, k, gpu ? 1 : 3, gpu ? one : cpu, NULL, err, KA(from), KA(to),
                      KA(*geom));
}

/* out = each of the items' rows x cols matrices of in turned (transpose_items,
 * 16 x 16 a work-item), in panels of 16 columns when panels is set. */
static int transpose(Graph *g, cl_kernel k, cl_mem in, cl_mem out, int rows, int cols, int items,
                     int panels, Err *err)
{
    size_t global[3] = {(size_t)(cols + 15) / 16, (size_t)(rows + 15) / 16, (size_t)items};
    size_t local[3] = {1, 1, 1};
    return DEV_LAUNCH(g->dev, k, 3, global, local, err, KA(in), KA(out), KA(rows), KA(cols),
                      KA(items), KA(panels));
}

/* dW[O, K] = the sum over examples of dz_n[O, P] . col_n[K, P]^T, gemm_nt's
 * sixteen sums along the pixels a block, with the column matrix built here. */
static int cols_weight_grad(Node *n, Graph *g, const ConvBatch *s, cl_mem col, Err *err)
{
    Conv *c = n->state;
    size_t gc[3] = {(size_t)s->K, (size_t)g->batch, 1};
    int rc = layout_launch(g, c->im2col, gc, (size_t)s->K * s->NP, n->inputs[0]->out, col,
                           &s->geom, err);
    GemmBatch p = {.M = s->O, .N = s->K, .K = s->P, .items = g->batch,
                   .A = n->grad, .a_sm = s->P, .a_sk = 1, .a_item = s->O * s->P,
                   .B = col, .b_sk = 1, .b_sn = s->P, .b_item = s->K * s->P,
                   .C = node_param(g, n, 0)->grad, .ldc = s->K};
    return rc ? rc : launch_gemm_batch(g, &p, 1, err);
}

/* The same dW turned: dW^T[K, O] = the sum over examples of col_n[K, P] .
 * dz_n^T[P, O], with dz's planes turned to rows of filters first and dW^T
 * turned back after, so that the products run on gemm_nn's micro-kernel
 * (16 filters a vector, the input's values broadcast) instead of gemm_nt's
 * sums along k, which end in sixteen reductions a block; conv_weight_grad
 * reads the column matrix from the input, its padding written out. */
static int rows_weight_grad(Node *n, Graph *g, const ConvBatch *s, Err *err)
{
    Conv *c = n->state;
    cl_mem x = n->inputs[0]->out, dz_rows = g->scratch[SCRATCH_ROWS];
    cl_mem dwt = g->scratch[SCRATCH_CONV_B];
    ConvGeom geom = s->geom;
    int rc = pads(&g->dev->plan, geom) ? pad_input(n, g, SCRATCH_COL, &x, &geom, err) : CLRUN_OK;
    int o16 = round_up(s->O, 16);
    if (!rc)
        rc = transpose(g, c->transpose, n->grad, dz_rows, s->O, s->P, g->batch, 1, err);
    GemmBatch p = {.M = s->K, .N = s->O, .K = s->P, .items = g->batch,
                   .A = x, .a_item = geom.c * geom.h * geom.w, .a_image = &geom,
                   .B = dz_rows, .b_sk = 16, .b_sn = 1, .b_item = s->P * o16, .b_cols = o16,
                   .C = dwt, .ldc = s->O};
    if (!rc)
        rc = launch_gemm_batch(g, &p, 1, err);
    return rc ? rc : transpose(g, c->transpose, dwt, node_param(g, n, 0)->grad, s->K, s->O, 1, 0,
                               err);
}

/* The bias and weight gradients, summed over the batch: db[O] = the sum of
 * dz over examples and pixels, and dW. */
static int param_grads(Node *n, Graph *g, const ConvBatch *s, cl_mem col, Err *err)
{
    Conv *c = n->state;
    int rc = CLRUN_OK;
    if (c->bias)
        rc = launch_sum_channels(g, n->grad, node_param(g, n, 1)->grad, g->batch, s->O, s->P,
                                 c->ones, err);
    if (rc)
        return rc;
    if (rows_weight_grad_fits(&g->dev->plan, s->O))
        return rows_weight_grad(n, g, s, err);
    return cols_weight_grad(n, g, s, col, err);
}

/* dx: dcol_n[K, P] = W^T[K, O] . dz_n[O, P] for each example, then col2im. */
static int columns_input_grad(Node *n, Graph *g, const ConvBatch *s, cl_mem col, cl_mem dx,
                              Err *err)
{
    Conv *c = n->state;
    GemmBatch p = {.M = s->K, .N = s->P, .K = s->O, .items = g->batch,
                   .A = node_param(g, n, 0)->value, .a_sm = 1, .a_sk = s->K,
                   .B = n->grad, .b_sk = s->P, .b_sn = 1, .b_item = s->O * s->P, .b_cols = s->P,
                   .C = col, .ldc = s->P, .c_item = s->K * s->P};
    int rc = launch_gemm_batch(g, &p, 0, err);
    size_t gx[3] = {(size_t)s->geom.h, (size_t)s->geom.c, (size_t)g->batch};
    size_t elements = (size_t)g->batch * s->geom.c * s->geom.h * s->geom.w;
    return rc ? rc : layout_launch(g, c->col2im, gx, elements, col, dx, &s->geom, err);
}

/* dx of a stride-1 convolution: dx[n, c, y, x] = the sum over o, i, j of
 * dz[n, o, y + PH - i, x + PW - j] w[o, c, i, j], a convolution of dz with
 * the turned kernel and leading padding KH-1-PH, KW-1-PW, which the implicit
 * GEMM computes without a column matrix or col2im (about a third of the
 * Keras CIFAR CNN's time went to those). */
static int turned_input_grad(Node *n, Graph *g, const ConvBatch *s, cl_mem dx, Err *err)
{
    Conv *c = n->state;
    ConvGeom f = s->geom, t = turned_geom(f);
    t.c = s->O;
    /* dz padded where its rows were: dW has them no more */
    return launch_implicit(n, g, c->weights_turned, s->O * f.kh * f.kw, n->grad, SCRATCH_ROWS,
                           t, f.c, NULL, ACT_LINEAR, dx, err);
}

static int input_grad(Node *n, Graph *g, const ConvBatch *s, cl_mem col, cl_mem dx, Err *err)
{
    if (turned_fits(&g->dev->plan, s->geom))
        return turned_input_grad(n, g, s, dx, err);
    return columns_input_grad(n, g, s, col, dx, err);
}

static int conv_backward(Node *n, Graph *g, Err *err)
{
    Conv *c = n->state;
    ConvBatch s = conv_batch(c, g->batch);
    cl_mem col = g->scratch[SCRATCH_COL], dx = n->in_grad[0];
    int count = g->batch * s.O * s.P, rc = CLRUN_OK;
    /* dz = dy * act'(y), in place: nothing reads this node's grad after it */
    if (c->act != ACT_LINEAR)
        rc = launch_act_backward(g, c->act_bwd, n->grad, n->out, n->grad, count, c->act, err);
    if (!rc)
        rc = param_grads(n, g, &s, col, err);
    /* the column matrix is free again once dW has it */
    return rc || !dx ? rc : input_grad(n, g, &s, col, dx, err);
}

/* dW needs the input; act' is taken from the output. */
static unsigned conv_memory(const Node *n)
{
    const Conv *c = n->state;
    return MEM_READS_INPUTS | (c->act != ACT_LINEAR ? MEM_READS_OUTPUT : 0);
}

const LayerType layer_conv2d = {"conv2d", conv_parse, conv_infer, conv_setup, conv_forward,
                                conv_backward, conv_memory, conv_scratch};
