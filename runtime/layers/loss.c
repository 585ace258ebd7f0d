/* loss.c: the loss table and its launches (kernels in cl/loss.cl). */
#include "layers/loss.h"

#include "layers/layers.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const LossType losses[] = {
    {"nll", "nll_loss", "log-probabilities (end the model with log_softmax)", 0, 0, "softmax"},
    {"cross_entropy", "cross_entropy_loss", "logits (no softmax at the end)", 0, 0, NULL},
    {"binary_cross_entropy", "binary_cross_entropy_loss",
     "probabilities (end the model with a sigmoid, or a softmax)", 2, 0, "log_softmax"},
    {"mse", "mse_loss", "values compared with the label, or its one-hot vector", INT_MAX, 0, NULL},
    {"categorical_crossentropy", "cross_entropy_loss",
     "probabilities from a softmax (Keras' meaning; fused with it)", 0, 1, NULL},
    {"sparse_categorical_crossentropy", "cross_entropy_loss",
     "probabilities from a softmax (Keras' meaning; fused with it)", 0, 1, NULL},
};

/* Spellings of other frameworks that clrun does not take, and its own. */
static const char *const other_spellings[][2] = {
    {"binary_crossentropy", "binary_cross_entropy"},
    {"mean_squared_error", "mse"},
    {"crossentropy", "cross_entropy"},
    {"CrossEntropyLoss", "cross_entropy"},
    {"NLLLoss", "nll"},
    {"BCELoss", "binary_cross_entropy"},
    {"MSELoss", "mse"},
};

#define N_LOSSES (sizeof losses / sizeof losses[0])

int loss_outputs_probabilities(const char *name)
{
    for (size_t i = 0; i < N_LOSSES; i++)
        if (strcmp(losses[i].name, name) == 0)
            return losses[i].on_softmax;
    return 0;
}

int loss_find(Loss *l, const char *name, const SpecNode *where, Err *err)
{
    memset(l, 0, sizeof *l);
    char known[128];
    size_t used = 0;
    for (size_t i = 0; i < N_LOSSES; i++) {
        if (strcmp(losses[i].name, name) == 0) {
            l->type = &losses[i];
            return CLRUN_OK;
        }
        if (used < sizeof known)
            used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                     losses[i].name);
    }
    for (size_t i = 0; i < sizeof other_spellings / sizeof other_spellings[0]; i++)
        if (strcmp(other_spellings[i][0], name) == 0)
            return spec_error(where, err, "unknown loss '%s': clrun spells it '%s' (known: %s)",
                              name, other_spellings[i][1], known);
    return spec_error(where, err, "unknown loss '%s' (known: %s)", name, known);
}

static int check_flat(const Node *out, Err *err)
{
    if (out->out_shape.rank != 1)
        return node_error(out, err, "the loss needs a flat output of class scores, got rank %d",
                          out->out_shape.rank);
    return CLRUN_OK;
}

int loss_check_outputs(const Loss *l, const Node *out, int classes, const char *dataset,
                       Err *err)
{
    int rc = check_flat(out, err);
    if (rc)
        return rc;
    if (l->type->on_softmax && !layer_ends_in_softmax(out))
        return node_error(out, err, "%s takes probabilities, as in Keras, but the model ends in "
                          "a %s layer, not a softmax: give it activation: softmax, add a "
                          "{type: softmax} layer, or use clrun's cross_entropy on logits",
                          l->type->name, out->type->name);
    if (l->type->wrong_last && strcmp(out->type->name, l->type->wrong_last) == 0)
        return node_error(out, err, "%s takes %s, but this %s layer gives %s", l->type->name,
                          l->type->input, out->type->name,
                          strcmp(out->type->name, "softmax") == 0 ? "probabilities"
                                                                  : "log-probabilities");
    int units = out->out_shape.dim[0], one = l->type->one_unit_classes;
    if (units == 1 && one) {
        if (classes <= one)
            return CLRUN_OK;
        return node_error(out, err, "%s on a single unit takes %d classes, but %s has %d: give "
                          "the model %d output units", l->type->name, one, dataset, classes,
                          classes);
    }
    if (units < classes)
        return node_error(out, err, "%s has %d classes but the model ends in %d units: %s needs "
                          "one unit per class", dataset, classes, units, l->type->name);
    return CLRUN_OK;
}

int loss_setup(Loss *l, Graph *g, int slots, Err *err)
{
    Node *out = graph_output(g);
    int rc = check_flat(out, err);
    if (rc)
        return rc;
    l->slots = slots;
    if (!out->grad) /* a model that only reshapes its input: nothing upstream wants the gradient */
        rc = graph_buffer(g, (size_t)g->max_batch * (size_t)shape_size(out->out_shape),
                          "output gradients", &out->grad, err);
    l->input = out->out;
    l->input_grad = out->grad;
    if (!rc && l->type->on_softmax)
        layer_fuse_softmax(out, &l->input, &l->input_grad);
    if (!rc) rc = dev_kernel(g->dev, l->type->kernel, &l->compute, err);
    if (!rc) rc = dev_kernel(g->dev, "metrics_sum", &l->sum, err);
    if (!rc) rc = graph_buffer(g, (size_t)g->max_batch, "labels", &l->labels, err);
    if (!rc) rc = graph_buffer(g, (size_t)g->max_batch, "per-example loss", &l->per_example, err);
    if (!rc) rc = graph_buffer(g, (size_t)g->max_batch, "correct predictions", &l->correct, err);
    if (!rc) rc = graph_buffer(g, 2 * (size_t)slots, "loss metrics", &l->metrics, err);
    return rc;
}

int loss_compute(Loss *l, Graph *g, int slot, Err *err)
{
    Node *out = graph_output(g);
    int cols = out->out_shape.dim[0];
    float scale = 1.0f / (float)g->batch;
    size_t rows[1] = {(size_t)g->batch}, one[1] = {1}, local1[1] = {1};
    int rc = DEV_LAUNCH(g->dev, l->compute, 1, rows, NULL, err, KA(l->input), KA(l->labels),
                        KA(l->input_grad), KA(l->per_example), KA(l->correct), KA(g->batch), KA(cols),
                        KA(scale));
    return rc ? rc : DEV_LAUNCH(g->dev, l->sum, 1, one, local1, err, KA(l->per_example),
                                KA(l->correct), KA(g->batch), KA(l->metrics), KA(slot));
}

int loss_totals(Loss *l, Graph *g, int n, double *loss, double *correct, Err *err)
{
    float *m = malloc(2 * (size_t)n * sizeof *m);
    if (!m)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    int rc = dev_read(g->dev, l->metrics, 0, 2 * (size_t)n * sizeof *m, m, err);
    *loss = *correct = 0;
    for (int i = 0; !rc && i < n; i++) {
        *loss += m[2 * i];
        *correct += m[2 * i + 1];
    }
    free(m);
    return rc;
}
