/* loss.h: losses over the model's output and the integer labels of a batch.
 *
 * A loss writes dLoss/dOutput (for the batch mean) into the output node's grad
 * and adds the batch's summed loss and number of correct predictions into a
 * metrics slot on the device; the trainer reads the slots once per epoch. */
#ifndef CLRUN_LOSS_H
#define CLRUN_LOSS_H

#include "graph.h"

typedef struct {
    const char *name;
    const char *kernel;  /* in cl/loss.cl */
    const char *input;   /* what the model's output must be, for the docs and messages */
} LossType;

typedef struct {
    const LossType *type;
    cl_kernel compute, sum;
    cl_mem labels;       /* [max_batch] int, filled by the data pipeline */
    cl_mem per_example;  /* [max_batch] */
    cl_mem correct;      /* [max_batch] */
    cl_mem metrics;      /* [2 * slots]: loss sum, correct count */
    int slots;
} Loss;

/* Looks the name up; where locates it for the message. */
int loss_find(Loss *l, const char *name, const SpecNode *where, Err *err);
/* Allocates its buffers in the graph, with room for `slots` batches of metrics. */
int loss_setup(Loss *l, Graph *g, int slots, Err *err);
/* Enqueues loss and gradient for the current batch, recording into slot. */
int loss_compute(Loss *l, Graph *g, int slot, Err *err);
/* Reads the first n slots and returns their total loss and correct count. */
int loss_totals(Loss *l, Graph *g, int n, double *loss, double *correct, Err *err);

#endif
