/* pool.c: maxpool2d, avgpool2d and global_avgpool over square windows
 * (kernels in cl/pool.cl). `padding` is a number of pixels on each side
 * (PyTorch: average pooling divides by the whole window, padding included) or
 * 'valid' / 'same' (Keras: 'same' gives ceil(input / stride) outputs, and
 * average pooling divides by the pixels inside the image). Padding never wins
 * a max. global_avgpool is average pooling with one window per plane. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"

/* Mirrors PoolGeom in cl/pool.cl: passed to kernels by value. */
typedef struct {
    cl_int planes, h, w;
    cl_int kh, kw, sh, sw;
    cl_int ph, pw;
    cl_int oh, ow;
    cl_int count_pad;
} PoolGeom;

typedef struct {
    int avg;           /* average, else max */
    long size, stride;
    int same;          /* padding 'same', else pad pixels ('valid' is 0) */
    long pad;
    PoolGeom geom;     /* planes set per batch */
    cl_kernel fwd, bwd;
    cl_mem argmax;     /* max: the winner of each window, for backward */
    int disjoint;      /* max with windows that do not overlap: backward scatters */
} Pool;

static Pool *pool_new(Node *n, int avg, Err *err)
{
    Pool *p = calloc(1, sizeof *p);
    n->state = p;
    if (!p)
        err_set(err, CLRUN_ERUNTIME, "out of memory");
    else
        p->avg = avg;
    return p;
}

static int parse_padding(SpecNode *spec, Pool *p, Err *err)
{
    SpecNode *v = spec_get(spec, "padding");
    if (!v)
        return CLRUN_OK;
    if (v->kind == SPEC_SCALAR && (strcmp(v->value, "same") == 0 || strcmp(v->value, "valid") == 0)) {
        p->same = strcmp(v->value, "same") == 0;
        return CLRUN_OK;
    }
    if (v->kind != SPEC_SCALAR || v->quoted || !(isdigit((unsigned char)v->value[0]) ||
                                                 v->value[0] == '-'))
        return spec_error(v, err, "padding must be 'valid', 'same' or a number of pixels");
    if (spec_int(spec, "padding", 1, 0, SPEC_SIZE_MAX, &p->pad, err))
        return CLRUN_EINPUT;
    if (p->pad * 2 > p->size)
        return spec_error(v, err, "padding must be between 0 and half of pool_size");
    return CLRUN_OK;
}

static int pool_parse(Node *n, SpecNode *spec, int avg, Err *err)
{
    Pool *p = pool_new(n, avg, err);
    if (!p)
        return CLRUN_ERUNTIME;
    int rc = spec_int(spec, "pool_size", 1, 1, SPEC_SIZE_MAX, &p->size, err);
    p->stride = p->size;
    if (!rc)
        rc = spec_int(spec, "stride", 0, 1, SPEC_SIZE_MAX, &p->stride, err);
    return rc ? rc : parse_padding(spec, p, err);
}

static int maxpool_parse(Node *n, SpecNode *spec, Err *err)
{
    return pool_parse(n, spec, 0, err);
}

static int avgpool_parse(Node *n, SpecNode *spec, Err *err)
{
    return pool_parse(n, spec, 1, err);
}

static int global_parse(Node *n, SpecNode *spec, Err *err)
{
    (void)spec;
    return pool_new(n, 1, err) ? CLRUN_OK : CLRUN_ERUNTIME;
}

static int pool_infer(Node *n, Graph *g, Err *err)
{
    (void)g;
    Pool *p = n->state;
    int rc = require_rank(n, 3, err);
    if (rc)
        return rc;
    Shape in = n->inputs[0]->out_shape;
    if (!p->same && (in.dim[1] + 2 * p->pad < p->size || in.dim[2] + 2 * p->pad < p->size))
        return node_error(n, err, "pool_size %ld does not fit input %dx%dx%d", p->size, in.dim[0],
                          in.dim[1], in.dim[2]);
    PoolGeom *q = &p->geom;
    *q = (PoolGeom){0, in.dim[1], in.dim[2], (cl_int)p->size, (cl_int)p->size, (cl_int)p->stride,
                    (cl_int)p->stride, 0, 0, 0, 0, !p->same};
    long oh, ow, ph, pw;
    window_axis(p->same, q->h, q->kh, q->sh, p->pad, &oh, &ph);
    window_axis(p->same, q->w, q->kw, q->sw, p->pad, &ow, &pw);
    q->oh = (cl_int)oh, q->ow = (cl_int)ow, q->ph = (cl_int)ph, q->pw = (cl_int)pw;
    n->out_shape = (Shape){3, {in.dim[0], q->oh, q->ow}};
    return CLRUN_OK;
}

/* One window covering each plane: [N, C, 1, 1] is laid out as [N, C]. */
static int global_infer(Node *n, Graph *g, Err *err)
{
    (void)g;
    Pool *p = n->state;
    int rc = require_rank(n, 3, err);
    if (rc)
        return rc;
    Shape in = n->inputs[0]->out_shape;
    p->geom = (PoolGeom){0, in.dim[1], in.dim[2], in.dim[1], in.dim[2], 1, 1, 0, 0, 1, 1, 1};
    n->out_shape = (Shape){1, {in.dim[0]}};
    return CLRUN_OK;
}

static int pool_setup(Node *n, Graph *g, Err *err)
{
    Pool *p = n->state;
    p->disjoint = !p->avg && p->geom.sh >= p->geom.kh && p->geom.sw >= p->geom.kw;
    PoolGeom q = p->geom;
    int pairs = q.kh == 2 && q.kw == 2 && q.sh == 2 && q.sw == 2 && q.ph == 0 && q.pw == 0 &&
                2 * q.oh <= q.h && 2 * q.ow <= q.w;
    int rc = layer_kernel(g, n, p->avg ? "avgpool_forward" : pairs ? "maxpool2_forward"
                                : "maxpool_forward", &p->fwd, err);
    if (!rc)
        rc = layer_kernel(g, n, p->avg ? "avgpool_backward" : p->disjoint
                                ? "maxpool_backward_disjoint" : "maxpool_backward", &p->bwd, err);
    if (rc || p->avg)
        return rc;
    /* ints and floats have the same size in OpenCL C */
    return graph_buffer(g, (size_t)g->max_batch * shape_size(n->out_shape),
                        "maxpool2d window winners", &p->argmax, err);
}

/* Forward (x -> y) and backward (dy -> dx) take the same arguments; each
 * runs on the (x, y, plane) of the w x h planes it writes. */
static int pool_launch(Node *n, Graph *g, cl_kernel k, cl_mem from, cl_mem to, int w, int h,
                       Err *err)
{
    Pool *p = n->state;
    PoolGeom geom = p->geom;
    geom.planes = g->batch * n->inputs[0]->out_shape.dim[0];
    size_t global[3], local[3];
    launch_planes(g, k, w, h, geom.planes, global, local);
    if (p->avg)
        return DEV_LAUNCH(g->dev, k, 3, global, local, err, KA(from), KA(to), KA(geom));
    return DEV_LAUNCH(g->dev, k, 3, global, local, err, KA(from), KA(to), KA(p->argmax),
                      KA(geom));
}

static int pool_forward(Node *n, Graph *g, Err *err)
{
    Pool *p = n->state;
    return pool_launch(n, g, p->fwd, n->inputs[0]->out, n->out, p->geom.ow, p->geom.oh, err);
}

static int pool_backward(Node *n, Graph *g, Err *err)
{
    cl_mem dx = n->in_grad[0];
    if (!dx)
        return CLRUN_OK;
    Pool *p = n->state;
    if (!p->disjoint)
        return pool_launch(n, g, p->bwd, n->grad, dx, p->geom.w, p->geom.h, err);
    size_t bytes = (size_t)g->batch * shape_size(n->inputs[0]->out_shape) * sizeof(float);
    int rc = dev_fill_zero(g->dev, dx, bytes, err);
    return rc ? rc : pool_launch(n, g, p->bwd, n->grad, dx, p->geom.ow, p->geom.oh, err);
}

/* Backward reads no values: max pooling keeps its winners' indices (argmax),
 * average pooling needs none. */
static unsigned pool_memory(const Node *n)
{
    (void)n;
    return 0;
}

const LayerType layer_maxpool2d = {"maxpool2d", maxpool_parse, pool_infer, pool_setup,
                                   pool_forward, pool_backward, pool_memory, NULL};
const LayerType layer_avgpool2d = {"avgpool2d", avgpool_parse, pool_infer, pool_setup,
                                   pool_forward, pool_backward, pool_memory, NULL};
const LayerType layer_global_avgpool = {"global_avgpool", global_parse, global_infer, pool_setup,
                                        pool_forward, pool_backward, pool_memory, NULL};
