/* memplan.h: the memory of a graph's activations and gradients, planned from
 * the graph before anything is allocated.
 *
 * clrun knows the whole schedule of a training step (forward of each node,
 * the loss, backward of each node from the last down), so each tensor gets a
 * lifetime: from the step that first writes it to the last step that reads
 * it. An activation that backward never reads (a batchnorm's output, an
 * add's) dies with the forward of its last consumer; a gradient lives from
 * the backward that writes it to the backward that consumes it. Tensors whose
 * lifetimes do not meet share memory: each gets an offset into a few arena
 * buffers, placed greedily, largest first, into the smallest gap that holds
 * it (best fit, as static graph compilers place theirs). graph_setup then
 * hands each tensor out as a sub-buffer of its arena.
 *
 * What is planned: every node's output and gradient, the gradients a layer
 * used by several others receives from the later ones, and each layer's
 * scratch (graph_want_scratch) for its forward and for its backward, which
 * live one step each and so fit in memory of tensors dead by then. Not
 * planned: the input batch (the feed writes it outside the schedule),
 * parameters, their gradients and optimizer state (live throughout), and the
 * layers' own small buffers. */
#ifndef CLRUN_MEMPLAN_H
#define CLRUN_MEMPLAN_H

#include <stddef.h>
#include <stdio.h>

#include "err.h"
#include "plan.h"

typedef struct Graph Graph;
typedef struct Node Node;

/* What a layer's backward reads besides the gradient of its output, and
 * whether its output is its input's buffer (LayerType.memory). */
enum {
    MEM_READS_INPUTS = 1, /* conv2d and dense (for dW), batchnorm */
    MEM_READS_OUTPUT = 2, /* activations, written in terms of their output */
    MEM_SHARES_INPUT = 4, /* flatten: no buffers of its own */
};

typedef enum { MEM_OUT, MEM_GRAD, MEM_EXTRA_GRAD, MEM_SCRATCH } MemKind;

/* MEM_SCRATCH's slot: the pass that uses it. */
enum { MEM_FORWARD, MEM_BACKWARD };

typedef struct {
    MemKind kind;
    int node;          /* whose output or gradient */
    int consumer;      /* MEM_EXTRA_GRAD: the node whose backward writes it */
    int slot;          /* MEM_EXTRA_GRAD: the consumer's input slot; MEM_SCRATCH: the pass */
    size_t bytes;
    int first, last;   /* the steps that write it first and read it last */
    size_t offset;     /* into the arenas, seen as one range */
} MemTensor;

typedef struct {
    MemTensor *t;
    int n;
    int steps;         /* steps of the schedule: 0 .. steps - 1 */
    size_t align;      /* every offset a multiple of this */
    size_t cap;        /* the most one arena may hold (0: no limit) */
    size_t total;      /* bytes of all arenas */
    size_t separate;   /* bytes the same tensors take in a buffer each */
} MemPlan;

/* The schedule of one training step of g: node i's forward (the input's
 * data is step 0), the loss, then node i's backward. */
int memplan_forward_step(const Graph *g, int node);
int memplan_loss_step(const Graph *g);
int memplan_backward_step(const Graph *g, int node);

/* Plans g's tensors for batches of `batch`: offsets multiples of align, no
 * tensor across a multiple of cap (each arena at most cap bytes; 0: one
 * arena). g needs only graph_build. */
int memplan_build(MemPlan *p, const Graph *g, int batch, size_t align, size_t cap, Err *err);
void memplan_free(MemPlan *p);
/* The tensor of that kind, node and (MEM_EXTRA_GRAD) consumer and slot, or
 * (MEM_SCRATCH) slot, or NULL. */
const MemTensor *memplan_find(const MemPlan *p, MemKind kind, int node, int consumer, int slot);
/* Where scratch slot s of n's pass starts in its scratch tensor, each slot
 * aligned; s = SCRATCH_SLOTS: the tensor's bytes. */
size_t memplan_scratch_at(const Node *n, int pass, int s, size_t align);
/* The most bytes of tensors live at one step (what no plan can go under). */
size_t memplan_live_peak(const MemPlan *p);

/* `clrun summary --batch N`: the planned bytes of g's tensors and of its
 * layers' scratch under the kernel plan of the device named, and what else
 * a training step holds (parameters, their gradients, optimizer state). */
int memplan_summary(Graph *g, const Plan *plan, const char *device, int batch, FILE *out,
                    Err *err);

/* CLRUN_MEMPLAN=0 turns the plan off: a buffer for each tensor, as before
 * (for comparing results and memory with and without it). */
int memplan_enabled(void);

#endif
