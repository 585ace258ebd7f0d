/* act.c: element-wise activation layers (relu; the codes are shared with the
 * `activation:` key of dense and conv2d). Kernels in cl/act.cl. */
#include <stdlib.h>

#include "layers/layers.h"

typedef struct {
    int act;
    cl_kernel fwd, bwd;
} Act;

static int act_layer_parse(Node *n, int act)
{
    Act *a = calloc(1, sizeof *a);
    n->state = a;
    a->act = act;
    return CLRUN_OK;
}

static int relu_parse(Node *n, SpecNode *spec, Err *err)
{
    (void)spec;
    (void)err;
    return act_layer_parse(n, ACT_RELU);
}

static int act_infer(Node *n, Graph *g, Err *err)
{
    (void)g;
    int rc = single_input(n, err);
    if (!rc)
        n->out_shape = n->inputs[0]->out_shape;
    return rc;
}

static int act_setup(Node *n, Graph *g, Err *err)
{
    Act *a = n->state;
    int rc = layer_kernel(g, n, "act_forward", &a->fwd, err);
    return rc ? rc : layer_kernel(g, n, "act_backward", &a->bwd, err);
}

static int act_forward(Node *n, Graph *g, Err *err)
{
    Act *a = n->state;
    int count = g->batch * (int)shape_size(n->out_shape);
    size_t global[1] = {(size_t)count};
    return DEV_LAUNCH(g->dev, a->fwd, 1, global, NULL, err, KA(n->inputs[0]->out), KA(n->out),
                      KA(count), KA(a->act));
}

static int act_backward(Node *n, Graph *g, Err *err)
{
    Act *a = n->state;
    cl_mem dx = n->in_grad[0];
    int count = g->batch * (int)shape_size(n->out_shape);
    size_t global[1] = {(size_t)count};
    if (!dx)
        return CLRUN_OK;
    return DEV_LAUNCH(g->dev, a->bwd, 1, global, NULL, err, KA(n->grad), KA(n->out), KA(dx),
                      KA(count), KA(a->act));
}

const LayerType layer_relu = {"relu", relu_parse, act_infer, act_setup, act_forward, act_backward};
