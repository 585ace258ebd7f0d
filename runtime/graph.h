/* graph.h: a model as a graph of nodes with inferred shapes, the parameters
 * and buffers it owns, and the forward and backward passes as kernel launches.
 *
 * Building is two-staged so `clrun summary` needs no device: graph_build
 * parses the model and infers every shape and parameter on the host;
 * graph_setup allocates the buffers on a device, creates kernels and
 * initialises the parameters. */
#ifndef CLRUN_GRAPH_H
#define CLRUN_GRAPH_H

#include <stdint.h>
#include <stdio.h>

#include "device.h"
#include "err.h"
#include "io/safetensors.h"
#include "memplan.h"
#include "spec.h"

#define SHAPE_MAX_RANK 3
#define NODE_MAX_INPUTS 4
#define NODE_MAX_PARAMS 4

/* The shape of one example (the batch dimension is not part of it). */
typedef struct {
    int rank;
    int dim[SHAPE_MAX_RANK];
} Shape;

/* The most values one example's tensor or one parameter may hold: kernels
 * index them with an int. */
#define GRAPH_MAX_VALUES 2147483647L

long shape_size(Shape s);
/* The product of n sizes, or -1 when it is above GRAPH_MAX_VALUES (checked
 * at every step, so it never wraps on the way). */
long graph_count(const long *dims, int n);
void shape_format(Shape s, char *buf, size_t size); /* "[10, 24, 24]" */

/* What a parameter is for, which decides how it starts: the model's `init:`
 * says whose defaults (PyTorch's or Keras') weights and biases follow. */
typedef enum {
    PARAM_WEIGHT, /* torch: U(+-1/sqrt(fan_in)); keras: Glorot U(+-sqrt(6/(fan_in+fan_out))) */
    PARAM_BIAS,   /* torch: U(+-1/sqrt(fan_in)); keras: 0 */
    PARAM_ONES,   /* batchnorm scale and running variance */
    PARAM_ZEROS,  /* batchnorm shift and running mean */
} ParamRole;

typedef struct {
    ParamRole role;
    long fan_in, fan_out;
    int trainable;      /* 0: a buffer such as a running mean, saved but not optimised */
} ParamInit;

typedef struct {
    char name[128];     /* PyTorch's state_dict name: "conv1.weight" */
    int ndim;
    long dims[4];       /* PyTorch layout: OIHW, [out, in], [out] */
    size_t count;
    ParamInit init;
    cl_mem value, grad; /* grad NULL for buffers */
} Param;

/* Scratch slots (one layer uses them at a time): conv2d's column matrix (or
 * its input padded), its weights as a GEMM operand, its dz in another layout
 * (turned to rows of channels for dW, then padded for dx), and the partial
 * products of split GEMMs. With a memory plan each layer's forward
 * and backward get slots of their own in the arenas; without one, every
 * layer shares a buffer a slot. */
enum { SCRATCH_COL, SCRATCH_CONV_B, SCRATCH_ROWS, SCRATCH_GEMM_P, SCRATCH_SLOTS };

typedef struct Node Node;
typedef struct Graph Graph;

/* One row of the layer table: everything a layer type does. */
typedef struct {
    const char *name;
    /* Reads the layer's own keys from its YAML map into n->state (may be NULL). */
    int (*parse)(Node *n, SpecNode *spec, Err *err);
    /* Sets n->out_shape from the inputs' shapes and declares parameters. */
    int (*infer)(Node *n, Graph *g, Err *err);
    /* Creates kernels and the layer's own buffers; it runs before the
     * memory plan, so no node has its output or gradient yet (may be NULL). */
    int (*setup)(Node *n, Graph *g, Err *err);
    /* Enqueue the pass; backward writes each input's grad (when it has one)
     * and every parameter's grad. NULL: nothing to launch. A layer that is
     * MEM_SHARES_INPUT (flatten) gets its input's buffers as its own. */
    int (*forward)(Node *n, Graph *g, Err *err);
    int (*backward)(Node *n, Graph *g, Err *err);
    /* What backward reads and which buffers are shared, for the memory plan
     * (MEM_READS_INPUTS | MEM_READS_OUTPUT | MEM_SHARES_INPUT, memplan.h).
     * NULL: backward reads its inputs and its output, which is always safe. */
    unsigned (*memory)(const Node *n);
    /* Asks for the scratch its passes take under plan at batches of
     * g->max_batch (graph_want_scratch). It needs no device, so the memory
     * check and `clrun summary --batch` count the scratch before anything
     * is allocated (may be NULL: none). */
    void (*scratch)(Node *n, Graph *g, const Plan *plan);
} LayerType;

struct Node {
    const LayerType *type;  /* NULL for the input node */
    char name[64];
    SpecNode *spec;         /* the layer's YAML map, for messages */
    Node *inputs[NODE_MAX_INPUTS];
    int n_inputs;
    Shape out_shape;
    int params[NODE_MAX_PARAMS]; /* indices into graph->params */
    int n_params;
    cl_mem out, grad;       /* [max_batch, size(out_shape)]; grad NULL where not needed */
    /* Where backward writes dLoss/dInput i: the input's own grad for its first
     * consumer, a buffer of the graph's for the others, which the graph adds
     * into the input's grad before that input's backward. NULL: not needed. */
    cl_mem in_grad[NODE_MAX_INPUTS];
    cl_mem *extra_grads;    /* those other consumers' buffers for this node's grad */
    int n_extra_grads;
    void *state;            /* the layer's hyperparameters, kernels and scratch */
    /* its scratch for forward and for backward (MEM_FORWARD, MEM_BACKWARD):
     * what its setup asked for (graph_want_scratch), and with a plan the slots */
    size_t scratch_floats[2][SCRATCH_SLOTS];
    cl_mem scratch[2][SCRATCH_SLOTS];
};

struct Graph {
    const char *name;
    const char *weights;    /* model.weights: a safetensors file to start from, or NULL */
    int keras_init;         /* model.init: keras (Glorot weights, zero biases), else torch */
    Node *nodes;            /* nodes[0] is the input */
    int n_nodes;
    Param *params;
    int n_params;
    Device *dev;            /* NULL until graph_setup */
    int max_batch;
    int batch;              /* examples in the current batch */
    int training;           /* dropout active, statistics updated */
    uint64_t seed;
    uint32_t step;          /* optimizer steps taken: keys dropout masks */
    cl_mem *owned;          /* every buffer, released by graph_free */
    int n_owned;
    MemPlan *mem;           /* where outputs and gradients live (memplan.h); NULL: a buffer each */
    cl_mem *arenas;         /* the plan's buffers, which the tensors are sub-buffers of */
    int n_arenas;
    Node *scratch_node;     /* the node whose scratch is asked for (graph_plan_scratch) */
    cl_mem scratch[SCRATCH_SLOTS];        /* the slots of the layer launching */
    size_t scratch_floats[SCRATCH_SLOTS]; /* and their sizes */
    cl_kernel add_into;     /* sums extra gradients */
    /* train.nan_check: while training, every node's output and gradients are
     * checked for NaN and infinity (graph_nonfinite_on) */
    cl_mem nonfinite;       /* the earliest check code that found one, INT_MAX for none */
    cl_kernel find_nonfinite;
    int check_batch;        /* the batch of the epoch, for the codes */
};

/* Non-finite checks (train.nan_check). Once on, each training batch's node
 * outputs (forward), the loss and the gradients (backward) are checked on the
 * device, and g->nonfinite keeps the code of the earliest tensor holding a NaN
 * or an infinity: codes grow with the batch (g->check_batch) and with the
 * order the tensors are computed in. */
int graph_nonfinite_on(Graph *g, Err *err);
/* Checks n values of buf from offset as the tensor at pos (graph_loss_pos for
 * the loss). */
int graph_nonfinite_check(Graph *g, cl_mem buf, int offset, int n, int pos, Err *err);
int graph_loss_pos(const Graph *g);
/* What code names: "the output of layer 'conv2' (forward)", and its batch. */
void graph_nonfinite_describe(const Graph *g, int code, char *out, size_t size, int *batch);

/* Parses and checks a model map (name, input, layers, weights?) and infers shapes. */
int graph_build(Graph *g, SpecNode *model, Err *err);
/* Allocates activations, gradients and parameters for batches up to max_batch,
 * creates kernels, and initialises the parameters from seed. */
int graph_setup(Graph *g, Device *dev, int max_batch, uint64_t seed, Err *err);
/* Asks every layer for its scratch under plan at batches of max_batch (the
 * table's scratch column), for the memory plan; graph_setup does it first. */
void graph_plan_scratch(Graph *g, const Plan *plan, int max_batch);
void graph_free(Graph *g);

/* Enqueue the passes for g->batch examples already in nodes[0].out; backward
 * expects the last node's grad to hold dLoss/dOutput. */
int graph_forward(Graph *g, Err *err);
/* Forward up to and including `last`, whose output then holds the batch's:
 * under the memory plan a layer's output may share memory with tensors
 * computed after it, so read a layer's output only after this (or after a
 * whole forward, for the last layer). */
int graph_forward_to(Graph *g, const Node *last, Err *err);
/* The forward of the batch fed, as far as the last of nodes, calling
 * visit(i, ctx, err) for nodes[i] as soon as it is computed: the way to read
 * several layers' outputs in one pass, since under the memory plan a later
 * layer may reuse an earlier one's memory. A visit's error stops the pass. */
typedef int (*GraphVisit)(int i, void *ctx, Err *err);
int graph_forward_visiting(Graph *g, Node *const *nodes, int n, GraphVisit visit, void *ctx,
                           Err *err);
int graph_backward(Graph *g, Err *err);

Node *graph_output(Graph *g);
/* Trainable parameters (as PyTorch's parameters() and the seeds count them),
 * or the buffers when trainable is 0. */
long graph_param_count(const Graph *g, int trainable);
void graph_summary(const Graph *g, FILE *out);

/* Every parameter tensor (PyTorch's state_dict name, shape, count, whether it
 * is trained) and the trainable and non-trainable totals, with thousands
 * separators: `clrun summary --tensors`, printed before graph_summary's table. */
void graph_summary_tensors(const Graph *g, FILE *out);

/* Parameter files (safetensors, PyTorch names and layouts). */
int graph_save_weights(Graph *g, const char *path, Err *err);
int graph_load_weights(Graph *g, const char *path, Err *err);
/* Buffer m, shaped as parameter p, mapped for reading into t (named name;
 * t->data is the mapping, with no copy on a CPU device) until
 * graph_unmap_tensors, and back from f's tensor `name` (checking its shape;
 * path names f in messages). Checkpoints keep optimizer state this way. */
int graph_map_tensor(Graph *g, const Param *p, const char *name, cl_mem m, StTensor *t, Err *err);
/* Unmaps t[0..n), mapped from mem[0..n) (those with data); returns rc, or
 * where rc is CLRUN_OK the first failure, in err. */
int graph_unmap_tensors(Graph *g, cl_mem *mem, StTensor *t, int n, int rc, Err *err);
int graph_write_tensor(Graph *g, const Param *p, const StFile *f, const char *name, cl_mem m,
                       const char *path, Err *err);

/* ---- for layer implementations ---- */

/* Whether input i of n sends its gradient to a buffer of its own, added into
 * the input's gradient later, because an earlier consumer (or an earlier
 * slot of n) writes that gradient itself. */
int graph_input_grad_shared(const Node *n, int i);
/* Declares a parameter named "<node>.<suffix>". */
int graph_add_param(Graph *g, Node *n, const char *suffix, int ndim, const long *dims,
                    ParamInit init, Err *err);
/* Asks for a scratch slot of at least this many floats for the layer's pass
 * (MEM_FORWARD, MEM_BACKWARD), from its scratch function; it is
 * g->scratch[slot] while that pass launches. */
void graph_want_scratch(Graph *g, int pass, int slot, size_t floats);
Param *node_param(Graph *g, Node *n, int i);
/* A device buffer of floats owned by the graph. */
int graph_buffer(Graph *g, size_t floats, const char *what, cl_mem *out, Err *err);
/* Node-prefixed error: "file:line:col: layer 'conv1': ..." */
int node_error(const Node *n, Err *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
