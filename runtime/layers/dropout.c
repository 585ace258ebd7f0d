/* dropout.c: inverted dropout (PyTorch's and Keras' convention: kept values are
 * scaled by 1/(1-rate) in training, identity in evaluation), element-wise
 * (dropout) or of whole channels of [C, H, W] (dropout2d: PyTorch's Dropout2d,
 * Keras' SpatialDropout2D). The masks come from Philox keyed by (seed, step,
 * layer, mask index) and are recomputed in backward, so nothing is stored and
 * the same seed gives the same masks. Kernel in cl/dropout.cl. */
#include <stdlib.h>

#include "layers/layers.h"

typedef struct {
    double rate;
    cl_uint layer; /* the node's index: a different mask per layer */
    cl_int group;  /* consecutive elements sharing one mask */
    int vectors;   /* the cpu plan's masks of single elements: dropout_apply8 */
    cl_kernel apply;
} Dropout;

static int dropout_parse(Node *n, SpecNode *spec, Err *err)
{
    Dropout *d = calloc(1, sizeof *d);
    n->state = d;
    if (!d)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    d->rate = 0.5;
    int rc = spec_float(spec, "rate", 0, &d->rate, err);
    if (!rc && (d->rate < 0 || d->rate >= 1))
        rc = spec_error(spec_get(spec, "rate"), err, "rate must be in [0, 1), got %g", d->rate);
    return rc;
}

/* The output is the input's shape; group elements share each mask. */
static void dropout_shape(Node *n, Graph *g, int group)
{
    Dropout *d = n->state;
    d->layer = (cl_uint)(n - g->nodes);
    d->group = group;
    n->out_shape = n->inputs[0]->out_shape;
}

static int dropout_infer(Node *n, Graph *g, Err *err)
{
    int rc = single_input(n, err);
    if (!rc)
        dropout_shape(n, g, 1);
    return rc;
}

/* One mask per channel of each example: the channel's H*W pixels. */
static int dropout2d_infer(Node *n, Graph *g, Err *err)
{
    int rc = require_rank(n, 3, err);
    if (!rc)
        dropout_shape(n, g, n->inputs[0]->out_shape.dim[1] * n->inputs[0]->out_shape.dim[2]);
    return rc;
}

static int dropout_setup(Node *n, Graph *g, Err *err)
{
    Dropout *d = n->state;
    d->vectors = d->group == 1 && !g->dev->plan.gpu;
    return layer_kernel(g, n, d->vectors ? "dropout_apply8" : "dropout_apply", &d->apply, err);
}

/* The same mask for forward (x -> y) and backward (dy -> dx). */
static int dropout_run(Node *n, Graph *g, cl_mem from, cl_mem to, Err *err)
{
    Dropout *d = n->state;
    int count = g->batch * (int)shape_size(n->out_shape);
    if (!g->training || d->rate == 0)
        return dev_copy(g->dev, from, to, (size_t)count * sizeof(float), n->name, err);
    float rate = (float)d->rate;
    cl_uint lo = (cl_uint)g->seed, hi = (cl_uint)(g->seed >> 32), step = g->step;
    if (d->vectors) { /* 32 elements a work-item, vectors of 8 masks */
        size_t global[1] = {((size_t)count + 31) / 32};
        return DEV_LAUNCH(g->dev, d->apply, 1, global, NULL, err, KA(from), KA(to), KA(count),
                          KA(rate), KA(lo), KA(hi), KA(step), KA(d->layer));
    }
    size_t masks = (size_t)count / (size_t)d->group, global[1] = {(masks + 3) / 4};
    return DEV_LAUNCH(g->dev, d->apply, 1, global, NULL, err, KA(from), KA(to), KA(count),
                      KA(d->group), KA(rate), KA(lo), KA(hi), KA(step), KA(d->layer));
}

static int dropout_forward(Node *n, Graph *g, Err *err)
{
    return dropout_run(n, g, n->inputs[0]->out, n->out, err);
}

static int dropout_backward(Node *n, Graph *g, Err *err)
{
    cl_mem dx = n->in_grad[0];
    return dx ? dropout_run(n, g, n->grad, dx, err) : CLRUN_OK;
}

/* Backward recomputes the masks: it reads no values. */
static unsigned dropout_memory(const Node *n)
{
    (void)n;
    return 0;
}

const LayerType layer_dropout = {"dropout", dropout_parse, dropout_infer, dropout_setup,
                                 dropout_forward, dropout_backward, dropout_memory, NULL};
const LayerType layer_dropout2d = {"dropout2d", dropout_parse, dropout2d_infer, dropout_setup,
                                   dropout_forward, dropout_backward, dropout_memory, NULL};
