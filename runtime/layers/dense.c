/* dense.c: fully connected layer y = act(x W^T + b), W in PyTorch's [out, in]
 * layout (kernels in cl/gemm.cl and cl/act.cl; Keras' activation: softmax
 * over each row with cl/softmax.cl, its logits kept for a fused loss). */
#include <stdlib.h>

#include "layers/layers.h"

typedef struct {
    long units;
    int act;
    int in;
    int fused;      /* the loss differentiates through the softmax (layer_fuse_softmax) */
    cl_mem logits;  /* activation: softmax only: x W^T + b */
    cl_kernel bias_act, act_bwd, softmax_fwd, softmax_bwd;
} Dense;

static int dense_parse(Node *n, SpecNode *spec, Err *err)
{
    Dense *d = calloc(1, sizeof *d);
    n->state = d;
    int rc = spec_int(spec, "units", 1, 1, SPEC_SIZE_MAX, &d->units, err);
    return rc ? rc : act_parse(spec, 1, &d->act, err);
}

static int dense_infer(Node *n, Graph *g, Err *err)
{
    Dense *d = n->state;
    int rc = require_rank(n, 1, err);
    if (rc)
        return rc;
    d->in = n->inputs[0]->out_shape.dim[0];
    n->out_shape = (Shape){1, {(int)d->units}};
    long wdims[2] = {d->units, d->in}, bdims[1] = {d->units};
    rc = graph_add_param(g, n, "weight", 2, wdims, (ParamInit){PARAM_WEIGHT, d->in, d->units, 1},
                         err);
    return rc ? rc : graph_add_param(g, n, "bias", 1, bdims,
                                     (ParamInit){PARAM_BIAS, d->in, d->units, 1}, err);
}

static void dense_scratch(Node *n, Graph *g, const Plan *plan)
{
    Dense *d = n->state;
    gemm_reserve(g, plan, MEM_FORWARD, g->max_batch, (int)d->units, d->in); /* y = x W^T */
    gemm_reserve(g, plan, MEM_BACKWARD, (int)d->units, d->in, g->max_batch); /* dW = dz^T x */
    gemm_reserve(g, plan, MEM_BACKWARD, g->max_batch, d->in, (int)d->units); /* dx = dz W */
}

static int dense_setup(Node *n, Graph *g, Err *err)
{
    Dense *d = n->state;
    int rc = layer_kernel(g, n, "bias_act_rows", &d->bias_act, err);
    if (!rc)
        rc = layer_kernel(g, n, "act_backward", &d->act_bwd, err);
    if (rc || d->act != ACT_SOFTMAX)
        return rc;
    rc = layer_kernel(g, n, "softmax_forward", &d->softmax_fwd, err);
    if (!rc) rc = layer_kernel(g, n, "softmax_backward", &d->softmax_bwd, err);
    return rc ? rc : graph_buffer(g, (size_t)g->max_batch * (size_t)d->units, "dense logits",
                                  &d->logits, err);
}

int dense_has_softmax(const Node *n)
{
    return ((const Dense *)n->state)->act == ACT_SOFTMAX;
}

void dense_fuse_softmax(Node *n, cl_mem *logits, cl_mem *logits_grad)
{
    Dense *d = n->state;
    d->fused = 1;
    *logits = d->logits;
    *logits_grad = n->grad; /* backward takes it as dz */
}

static int dense_forward(Node *n, Graph *g, Err *err)
{
    Dense *d = n->state;
    int U = (int)d->units, I = d->in;
    Param *w = node_param(g, n, 0), *b = node_param(g, n, 1);
    int softmax = d->act == ACT_SOFTMAX, act = softmax ? ACT_LINEAR : d->act;
    cl_mem z = softmax ? d->logits : n->out;
    /* z[N, U] = x[N, I] . W[U, I]^T */
    int rc = launch_gemm(g, g->batch, U, I, n->inputs[0]->out, I, 1, w->value, 1, I, z, U, 0, err);
    size_t group = dev_group_size(g->dev, d->bias_act), across = group < 16 ? group : 16;
    size_t global[2] = {(size_t)U, (size_t)g->batch}, local[2] = {across, group / across};
    if (!rc)
        rc = DEV_LAUNCH(g->dev, d->bias_act, 2, global, local, err, KA(z), KA(b->value),
                        KA(g->batch), KA(U), KA(act));
    return rc || !softmax ? rc : launch_softmax(g, d->softmax_fwd, z, n->out, U, 0, err);
}

static int dense_backward(Node *n, Graph *g, Err *err)
{
    Dense *d = n->state;
    int U = (int)d->units, I = d->in, N = g->batch, count = N * U;
    Param *w = node_param(g, n, 0), *b = node_param(g, n, 1);
    int rc = CLRUN_OK;
    /* dz = dy * act'(y), in place: nothing reads this node's grad after it */
    if (d->act == ACT_SOFTMAX && !d->fused)
        rc = launch_softmax_backward(g, d->softmax_bwd, n->grad, n->out, n->grad, U, 0, err);
    else if (d->act != ACT_LINEAR && d->act != ACT_SOFTMAX)
        rc = launch_act_backward(g, d->act_bwd, n->grad, n->out, n->grad, count, d->act, err);
    if (!rc)
        rc = launch_sum_channels(g, n->grad, b->grad, N, U, 1, NULL, err);
    /* dW[U, I] = dz[N, U]^T . x[N, I] */
    if (!rc)
        rc = launch_gemm(g, U, I, N, n->grad, 1, U, n->inputs[0]->out, I, 1, w->grad, I, 0, err);
    cl_mem dx = n->in_grad[0];
    /* dx[N, I] = dz[N, U] . W[U, I] */
    if (!rc && dx)
        rc = launch_gemm(g, N, I, U, n->grad, U, 1, w->value, I, 1, dx, I, 0, err);
    return rc;
}

/* dW needs the input; act' (and softmax's) is taken from the output. */
static unsigned dense_memory(const Node *n)
{
    const Dense *d = n->state;
    return MEM_READS_INPUTS | (d->act != ACT_LINEAR ? MEM_READS_OUTPUT : 0);
}

const LayerType layer_dense = {"dense", dense_parse, dense_infer, dense_setup, dense_forward,
                               dense_backward, dense_memory, dense_scratch};
