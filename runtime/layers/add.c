/* add.c: the element-wise sum of two or more inputs of one shape, for residual
 * connections (`inputs: [a, b]`). Kernel add_into in cl/add.cl. */
#include <stdlib.h>

#include "layers/layers.h"

static int add_infer(Node *n, Graph *g, Err *err)
{
    (void)g;
    if (n->n_inputs < 2)
        return node_error(n, err, "add needs two or more inputs: name them with inputs: [a, b]");
    Shape s = n->inputs[0]->out_shape;
    for (int i = 1; i < n->n_inputs; i++) {
        Shape t = n->inputs[i]->out_shape;
        int same = t.rank == s.rank;
        for (int d = 0; same && d < s.rank; d++)
            same = t.dim[d] == s.dim[d];
        if (!same) {
            char a[64], b[64];
            shape_format(s, a, sizeof a);
            shape_format(t, b, sizeof b);
            return node_error(n, err, "inputs '%s' %s and '%s' %s differ in shape",
                              n->inputs[0]->name, a, n->inputs[i]->name, b);
        }
    }
    n->out_shape = s;
    return CLRUN_OK;
}

static size_t bytes(Node *n, Graph *g)
{
    return (size_t)g->batch * (size_t)shape_size(n->out_shape) * sizeof(float);
}

static int copy(Graph *g, Node *n, cl_mem from, cl_mem to, Err *err)
{
    return dev_copy(g->dev, from, to, bytes(n, g), n->name, err);
}

static int add_forward(Node *n, Graph *g, Err *err)
{
    int count = g->batch * (int)shape_size(n->out_shape);
    size_t global[1] = {(size_t)count};
    int rc = copy(g, n, n->inputs[0]->out, n->out, err);
    for (int i = 1; i < n->n_inputs && !rc; i++)
        rc = DEV_LAUNCH(g->dev, g->add_into, 1, global, NULL, err, KA(n->out),
                        KA(n->inputs[i]->out), KA(count));
    return rc;
}

/* Each input receives the output's gradient unchanged. */
static int add_backward(Node *n, Graph *g, Err *err)
{
    int rc = CLRUN_OK;
    for (int i = 0; i < n->n_inputs && !rc; i++)
        if (n->in_grad[i])
            rc = copy(g, n, n->grad, n->in_grad[i], err);
    return rc;
}

/* Backward copies the output's gradient: it reads no values. */
static unsigned add_memory(const Node *n)
{
    (void)n;
    return 0;
}

const LayerType layer_add = {"add", NULL, add_infer, NULL, add_forward, add_backward, add_memory,
                             NULL};
