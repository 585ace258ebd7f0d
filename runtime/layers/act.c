/* act.c: element-wise activation layers relu, sigmoid, tanh and linear. A
 * layer's activation code is the one its type is named after, the same codes
 * as the `activation:` key of dense and conv2d. Kernels in cl/act.cl. */
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"

typedef struct {
    int act;
    cl_kernel fwd, bwd;
} Act;

/* Every row shares this parse: the type's name is the activation's name. */
static int act_layer_parse(Node *n, SpecNode *spec, Err *err)
{
    (void)spec;
    Act *a = calloc(1, sizeof *a);
    n->state = a;
    if (!a)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (a->act = ACT_LINEAR; a->act <= ACT_TANH; a->act++)
        if (strcmp(act_name(a->act), n->type->name) == 0)
            return CLRUN_OK;
    return node_error(n, err, "'%s' is no activation", n->type->name);
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

/* act_forward and act_backward's work-items: eight values each on the cpu
 * plan, one on the gpu plan (ACT_ITEMS in cl/act.cl). */
static size_t act_items(const Graph *g, int count)
{
    return g->dev->plan.gpu ? (size_t)count : ((size_t)count + 7) / 8;
}

static int act_forward(Node *n, Graph *g, Err *err)
{
    Act *a = n->state;
    int count = g->batch * (int)shape_size(n->out_shape);
    size_t global[1] = {act_items(g, count)};
    return DEV_LAUNCH(g->dev, a->fwd, 1, global, NULL, err, KA(n->inputs[0]->out), KA(n->out),
                      KA(count), KA(a->act));
}

int launch_act_backward(Graph *g, cl_kernel k, cl_mem dy, cl_mem y, cl_mem dx, int count, int act,
                        Err *err)
{
    size_t global[1] = {act_items(g, count)};
    return DEV_LAUNCH(g->dev, k, 1, global, NULL, err, KA(dy), KA(y), KA(dx), KA(count), KA(act));
}

/* The derivative is written in terms of the output (act_grad in cl/prelude.cl). */
static int act_backward(Node *n, Graph *g, Err *err)
{
    Act *a = n->state;
    cl_mem dx = n->in_grad[0];
    int count = g->batch * (int)shape_size(n->out_shape);
    return dx ? launch_act_backward(g, a->bwd, n->grad, n->out, dx, count, a->act, err)
              : CLRUN_OK;
}

/* Backward needs only the output: the input may go once forward is past. */
static unsigned act_memory(const Node *n)
{
    (void)n;
    return MEM_READS_OUTPUT;
}

#define ACT_ROW(NAME) \
    {NAME, act_layer_parse, act_infer, act_setup, act_forward, act_backward, act_memory, NULL}

const LayerType layer_relu = ACT_ROW("relu");
const LayerType layer_sigmoid = ACT_ROW("sigmoid");
const LayerType layer_tanh = ACT_ROW("tanh");
const LayerType layer_linear = ACT_ROW("linear");
