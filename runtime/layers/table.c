/* table.c: the layer table, one row per layer type, and the helpers every
 * layer file shares. */
#include "layers/layers.h"

#include <string.h>

static const LayerType *const table[] = {
    &layer_conv2d,
    &layer_maxpool2d,
    &layer_dense,
    &layer_flatten,
    &layer_dropout,
    &layer_relu,
    &layer_softmax,
    &layer_log_softmax,
    &layer_add,
    &layer_sigmoid,
    &layer_tanh,
    &layer_linear,
    &layer_dropout2d,
    &layer_avgpool2d,
    &layer_global_avgpool,
    &layer_batchnorm,
};

#define TABLE_SIZE (sizeof table / sizeof table[0])

const LayerType *layer_find(const char *name)
{
    for (size_t i = 0; i < TABLE_SIZE; i++)
        if (strcmp(table[i]->name, name) == 0)
            return table[i];
    return NULL;
}

unsigned layer_memory(const Node *n)
{
    if (!n->type)
        return 0;
    return n->type->memory ? n->type->memory(n) : MEM_READS_INPUTS | MEM_READS_OUTPUT;
}

void layer_names(char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = 0;
    for (size_t i = 0; i < TABLE_SIZE && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", table[i]->name);
}

static const char *const act_names[] = {"linear", "relu", "sigmoid", "tanh", "softmax"};

const char *act_name(int act)
{
    return act_names[act];
}

int act_parse(SpecNode *spec, int allow_softmax, int *act, Err *err)
{
    const char *name = NULL;
    int rc = spec_string(spec, "activation", 0, &name, err);
    *act = ACT_LINEAR;
    if (rc || !name)
        return rc;
    int last = allow_softmax ? ACT_SOFTMAX : ACT_TANH;
    for (int i = 0; i <= last; i++)
        if (strcmp(name, act_names[i]) == 0) {
            *act = i;
            return CLRUN_OK;
        }
    SpecNode *where = spec_get(spec, "activation");
    if (strcmp(name, "softmax") == 0 || strcmp(name, "log_softmax") == 0)
        return spec_error(where, err, "activation '%s' works over a flat vector of class "
                          "scores: add a {type: %s} layer after this one%s", name, name,
                          allow_softmax ? "" : " (a flatten between them)");
    return spec_error(where, err, "unknown activation '%s' (known: linear, relu, sigmoid, tanh%s)",
                      name, allow_softmax ? ", softmax" : "");
}

int layer_ends_in_softmax(const Node *n)
{
    return n->type == &layer_softmax || (n->type == &layer_dense && dense_has_softmax(n));
}

void layer_fuse_softmax(Node *n, cl_mem *logits, cl_mem *logits_grad)
{
    if (n->type == &layer_softmax)
        softmax_fuse(n, logits, logits_grad);
    else
        dense_fuse_softmax(n, logits, logits_grad);
}

int layer_kernel(Graph *g, Node *n, const char *name, cl_kernel *out, Err *err)
{
    int rc = dev_kernel(g->dev, name, out, err);
    return rc ? err_prefix(err, rc, "layer '%s'", n->name) : CLRUN_OK;
}

int single_input(Node *n, Err *err)
{
    if (n->n_inputs != 1)
        return node_error(n, err, "%s takes one input, got %d", n->type->name, n->n_inputs);
    return CLRUN_OK;
}

int require_rank(Node *n, int rank, Err *err)
{
    int rc = single_input(n, err);
    if (rc)
        return rc;
    Shape s = n->inputs[0]->out_shape;
    if (s.rank == rank)
        return CLRUN_OK;
    char buf[64];
    shape_format(s, buf, sizeof buf);
    if (rank == 1)
        return node_error(n, err, "%s needs a flat input, got %s: add a flatten layer before it",
                          n->type->name, buf);
    return node_error(n, err, "%s needs an input of rank %d (channels, height, width), got %s",
                      n->type->name, rank, buf);
}

void window_axis(int same, long in, long k, long stride, long pad, long *out, long *lead)
{
    if (same) {
        *out = (in + stride - 1) / stride;
        long total = (*out - 1) * stride + k - in;
        *lead = total > 0 ? total / 2 : 0;
    } else {
        *out = (in + 2 * pad - k) / stride + 1;
        *lead = pad;
    }
}

void launch_planes(const Graph *g, cl_kernel k, int w, int h, int planes, size_t global[3],
                   size_t local[3])
{
    plan_planes(&g->dev->plan, dev_limits(g->dev, k), w, h, local);
    global[0] = (size_t)w;
    global[1] = (size_t)h;
    global[2] = (size_t)planes;
}
