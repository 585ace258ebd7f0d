/* loss.h: losses over the model's output and the integer labels of a batch.
 *
 * A loss writes dLoss/dOutput (for the batch mean) into the output node's grad
 * and adds the batch's summed loss and number of correct predictions into a
 * metrics slot on the device; the trainer reads the slots once per epoch.
 *
 * The losses (one row each in loss.c, kernels in cl/loss.cl):
 *   nll                   log-probabilities; -x[label]
 *   cross_entropy         logits; softmax and nll in one (PyTorch's CrossEntropyLoss)
 *   binary_cross_entropy  probabilities (sigmoid, or a softmax or sigmoid vector)
 *   mse                   any values
 *   categorical_crossentropy, sparse_categorical_crossentropy
 *                         Keras' names: probabilities from a softmax that ends
 *                         the model (a softmax layer, or a dense layer's
 *                         activation: softmax). The labels are class indices,
 *                         so both are Keras' sparse loss (categorical_crossentropy
 *                         on the label's one-hot vector is the same number).
 *                         The loss fuses with that softmax: cross_entropy on
 *                         its logits, stable where log(softmax(x)) is not.
 * binary_cross_entropy and mse compare every output unit with a target: on a
 * single unit the label itself (0 or 1 for binary_cross_entropy), on C units
 * the one-hot vector of the label. An example's loss is the mean over its
 * units, as in Keras' binary_crossentropy and mean_squared_error; the batch
 * mean of that is PyTorch's BCELoss and MSELoss with their mean over all
 * elements. binary_cross_entropy clips p to [1e-7, 1 - 1e-7] as Keras does.
 * A prediction is correct when a single unit is on the label's side of 0.5,
 * or when the argmax of C units is the label. */
#ifndef CLRUN_LOSS_H
#define CLRUN_LOSS_H

#include "graph.h"

typedef struct {
    const char *name;
    const char *kernel;  /* in cl/loss.cl */
    const char *input;   /* what the model's output must be, for the docs and messages */
    int one_unit_classes; /* the classes a single output unit can tell apart, its target
                             being the label itself; 0: one unit per class */
    int on_softmax;       /* reads the logits of the model's final softmax (fused) */
    const char *wrong_last; /* a last layer whose output is the wrong kind of input (nll
                               after softmax trains to a negative loss), or NULL */
} LossType;

typedef struct {
    const LossType *type;
    cl_kernel compute, sum;
    cl_mem labels;       /* [max_batch] int, filled by the data pipeline */
    cl_mem per_example;  /* [max_batch] */
    cl_mem correct;      /* [max_batch] */
    cl_mem metrics;      /* [2 * slots]: loss sum, correct count */
    cl_mem input, input_grad; /* what the kernel reads and differentiates: the output
                                 node's, or the logits of a fused softmax */
    int slots;
} Loss;

/* Whether the named loss takes probabilities and so leaves the model's
 * output as class probabilities (for predict). */
int loss_outputs_probabilities(const char *name);
/* Looks the name up; where locates it for the message. */
int loss_find(Loss *l, const char *name, const SpecNode *where, Err *err);
/* Checks, before anything runs, that the model's output out can take labels
 * 0 .. classes-1 of the named dataset under this loss: a flat output with a
 * unit per class, or a single unit where the loss allows one. */
int loss_check_outputs(const Loss *l, const Node *out, int classes, const char *dataset,
                       Err *err);
/* Allocates its buffers in the graph, with room for `slots` batches of metrics. */
int loss_setup(Loss *l, Graph *g, int slots, Err *err);
/* Enqueues loss and gradient for the current batch, recording into slot. */
int loss_compute(Loss *l, Graph *g, int slot, Err *err);
/* Reads the first n slots and returns their total loss and correct count. */
int loss_totals(Loss *l, Graph *g, int n, double *loss, double *correct, Err *err);

#endif
