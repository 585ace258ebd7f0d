/* pool.c: maxpool2d over square windows (kernels in cl/pool.cl). */
#include <stdlib.h>

#include "layers/layers.h"

typedef struct {
    long size, stride, pad;
    int planes, h, w, oh, ow;
    cl_kernel fwd, bwd;
    cl_mem argmax; /* the winner of each window, for backward */
} Pool;

static int pool_parse(Node *n, SpecNode *spec, Err *err)
{
    Pool *p = calloc(1, sizeof *p);
    n->state = p;
    int rc = spec_int(spec, "pool_size", 1, &p->size, err);
    p->stride = p->size;
    if (!rc)
        rc = spec_int(spec, "stride", 0, &p->stride, err);
    if (!rc)
        rc = spec_int(spec, "padding", 0, &p->pad, err);
    if (rc)
        return rc;
    if (p->size < 1 || p->stride < 1)
        return node_error(n, err, "pool_size and stride must be at least 1");
    if (p->pad < 0 || p->pad * 2 > p->size)
        return node_error(n, err, "padding must be between 0 and half of pool_size");
    return CLRUN_OK;
}

static int pool_infer(Node *n, Graph *g, Err *err)
{
    (void)g;
    Pool *p = n->state;
    int rc = require_rank(n, 3, err);
    if (rc)
        return rc;
    Shape in = n->inputs[0]->out_shape;
    if (in.dim[1] + 2 * p->pad < p->size || in.dim[2] + 2 * p->pad < p->size)
        return node_error(n, err, "pool_size %ld does not fit input %dx%dx%d", p->size, in.dim[0],
                          in.dim[1], in.dim[2]);
    p->h = in.dim[1];
    p->w = in.dim[2];
    p->oh = (int)((p->h + 2 * p->pad - p->size) / p->stride + 1);
    p->ow = (int)((p->w + 2 * p->pad - p->size) / p->stride + 1);
    n->out_shape = (Shape){3, {in.dim[0], p->oh, p->ow}};
    return CLRUN_OK;
}

static int pool_setup(Node *n, Graph *g, Err *err)
{
    Pool *p = n->state;
    int rc = layer_kernel(g, n, "maxpool_forward", &p->fwd, err);
    if (!rc)
        rc = layer_kernel(g, n, "maxpool_backward", &p->bwd, err);
    /* ints and floats have the same size in OpenCL C */
    return rc ? rc : graph_buffer(g, (size_t)g->max_batch * shape_size(n->out_shape),
                                  "maxpool2d window winners", &p->argmax, err);
}

/* Forward (x -> y) and backward (dy -> dx) take the same arguments. */
static int pool_launch(Node *n, Graph *g, cl_kernel k, cl_mem from, cl_mem to, size_t items,
                       Err *err)
{
    Pool *p = n->state;
    int planes = g->batch * n->out_shape.dim[0], size = (int)p->size, stride = (int)p->stride;
    int pad = (int)p->pad;
    size_t global[1] = {items};
    return DEV_LAUNCH(g->dev, k, 1, global, NULL, err, KA(from), KA(to), KA(p->argmax),
                      KA(planes), KA(p->h), KA(p->w), KA(p->oh), KA(p->ow), KA(size), KA(stride),
                      KA(pad));
}

static int pool_forward(Node *n, Graph *g, Err *err)
{
    return pool_launch(n, g, ((Pool *)n->state)->fwd, n->inputs[0]->out, n->out,
                       (size_t)g->batch * shape_size(n->out_shape), err);
}

static int pool_backward(Node *n, Graph *g, Err *err)
{
    cl_mem dx = n->in_grad[0];
    if (!dx)
        return CLRUN_OK;
    return pool_launch(n, g, ((Pool *)n->state)->bwd, n->grad, dx,
                       (size_t)g->batch * shape_size(n->inputs[0]->out_shape), err);
}

const LayerType layer_maxpool2d = {"maxpool2d", pool_parse, pool_infer, pool_setup, pool_forward,
                                   pool_backward};
