/* softmax.c: softmax and log_softmax over the features of each example
 * (kernels in cl/softmax.cl). */
#include <stdlib.h>

#include "layers/layers.h"

typedef struct {
    int log_output;
    int fused; /* the loss differentiates through this softmax (layer_fuse_softmax) */
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

int launch_softmax(Graph *g, cl_kernel fwd, cl_mem x, cl_mem y, int cols, int log_output,
                   Err *err)
{
    size_t global[1] = {(size_t)g->batch};
    return DEV_LAUNCH(g->dev, fwd, 1, global, NULL, err, KA(x), KA(y), KA(g->batch), KA(cols),
                      KA(log_output));
}

int launch_softmax_backward(Graph *g, cl_kernel bwd, cl_mem dy, cl_mem y, cl_mem dx, int cols,
                            int log_output, Err *err)
{
    size_t global[1] = {(size_t)g->batch};
    return DEV_LAUNCH(g->dev, bwd, 1, global, NULL, err, KA(dy), KA(y), KA(dx), KA(g->batch),
                      KA(cols), KA(log_output));
}

static int softmax_forward(Node *n, Graph *g, Err *err)
{
    Softmax *s = n->state;
    return launch_softmax(g, s->fwd, n->inputs[0]->out, n->out, n->out_shape.dim[0],
                          s->log_output, err);
}

static int softmax_backward(Node *n, Graph *g, Err *err)
{
    Softmax *s = n->state;
    cl_mem dx = n->in_grad[0];
    if (!dx || s->fused) /* fused: the loss wrote dx itself */
        return CLRUN_OK;
    return launch_softmax_backward(g, s->bwd, n->grad, n->out, dx, n->out_shape.dim[0],
                                   s->log_output, err);
}

void softmax_fuse(Node *n, cl_mem *logits, cl_mem *logits_grad)
{
    Softmax *s = n->state;
    s->fused = 1;
    *logits = n->inputs[0]->out;
    /* no input gradient wanted: the loss still needs somewhere to write */
    *logits_grad = n->in_grad[0] ? n->in_grad[0] : n->grad;
}

/* Backward is written in terms of the output. */
static unsigned softmax_memory(const Node *n)
{
    (void)n;
    return MEM_READS_OUTPUT;
}

const LayerType layer_softmax = {"softmax", softmax_parse, softmax_infer, softmax_setup,
                                 softmax_forward, softmax_backward, softmax_memory, NULL};
const LayerType layer_log_softmax = {"log_softmax", log_softmax_parse, softmax_infer,
                                     softmax_setup, softmax_forward, softmax_backward,
                                     softmax_memory, NULL};
