/* optim.h: optimizers, one row per type in optim.c's table, each updating every
 * parameter of a graph on the device from its gradient. */
#ifndef CLRUN_OPTIM_H
#define CLRUN_OPTIM_H

#include "graph.h"

typedef struct Optimizer Optimizer;

typedef struct {
    const char *name;
    int (*parse)(Optimizer *o, SpecNode *spec, Err *err);
    int (*setup)(Optimizer *o, Graph *g, Err *err);
    int (*step)(Optimizer *o, Graph *g, Err *err);
} OptimType;

struct Optimizer {
    const OptimType *type;
    double learning_rate, momentum, weight_decay;
    int nesterov;
    cl_kernel kernel;
    cl_mem *state;       /* per parameter: velocity */
    int n_state;
};

/* Reads the optimizer map (name: and its settings) and checks it. */
int optim_parse(Optimizer *o, SpecNode *spec, Err *err);
int optim_setup(Optimizer *o, Graph *g, Err *err);
/* Enqueues one update of every parameter. */
int optim_step(Optimizer *o, Graph *g, Err *err);
void optim_free(Optimizer *o);

#endif
