/* softmax.c: softmax and log_softmax over the features of each example
 * (kernels in cl/softmax.cl). */
#include <stdlib.h>

#include "layers/layers.h"

typedef struct {
    int log_output;
    cl_kernel fwd, bwd;
} Softmax;

static int softmax_make(Node *n, int log_output)
{
    Softmax *s = calloc(1, sizeof *s);
    n->state = s;
    s->log_output = log_output;
    return CLRUN_OK;
}

static int softmax_parse(Node *n, SpecNode *spec, Err *err)
{
    (void)spec;
    (void)err;
    return softmax_make(n, 0);
}

static int log_softmax_parse(Node *n, SpecNode *spec, Err *err)
{
    (void)spec;
    (void)err;
    return softmax_make(n, 1);
}

static int softmax_infer(Node *n, Graph *g, Err *err)
{
    (void)g;
    int rc = require_rank(n, 1, err);
    if (!rc)
        n->out_shape = n->inputs[0]->out_shape;
    return rc;
}

static int softmax_setup(Node *n, Graph *g, Err *err)
{
    Softmax *s = n->state;
    int rc = layer_kernel(g, n, "softmax_forward", &s->fwd, err);
    return rc ? rc : layer_kernel(g, n, "softmax_backward", &s->bwd, err);
}

static int softmax_forward(Node *n, Graph *g, Err *err)
{
    Softmax *s = n->state;
    int cols = n->out_shape.dim[0];
    size_t global[1] = {(size_t)g->batch};
    return DEV_LAUNCH(g->dev, s->fwd, 1, global, NULL, err, KA(n->inputs[0]->out), KA(n->out),
                      KA(g->batch), KA(cols), KA(s->log_output));
}

static int softmax_backward(Node *n, Graph *g, Err *err)
{
    Softmax *s = n->state;
    cl_mem dx = n->in_grad[0];
    int cols = n->out_shape.dim[0];
    size_t global[1] = {(size_t)g->batch};
    if (!dx)
        return CLRUN_OK;
    return DEV_LAUNCH(g->dev, s->bwd, 1, global, NULL, err, KA(n->grad), KA(n->out), KA(dx),
                      KA(g->batch), KA(cols), KA(s->log_output));
}

const LayerType layer_softmax = {"softmax", softmax_parse, softmax_infer, softmax_setup,
                                 softmax_forward, softmax_backward};
const LayerType layer_log_softmax = {"log_softmax", log_softmax_parse, softmax_infer,
                                     softmax_setup, softmax_forward, softmax_backward};
