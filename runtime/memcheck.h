/* memcheck.h: what a graph will allocate, added up before it allocates
 * anything, against the device's global memory and, for a device that is
 * the host's CPU, the process's address-space limit (ulimit -v). A driver
 * that runs out half way may abort inside its own code; this refuses first,
 * with the bytes needed. */
#ifndef CLRUN_MEMCHECK_H
#define CLRUN_MEMCHECK_H

#include "device.h"
#include "graph.h"

/* CLRUN_ERUNTIME naming the bytes a graph built for batches of max_batch
 * needs (parameters, gradients, two optimizer states each, activations,
 * their gradients and the layers' scratch under dev's plan, which it asks
 * the layers for: graph_plan_scratch) when the device or the process cannot
 * hold them. */
int memcheck_graph(Graph *g, const Device *dev, int max_batch, Err *err);

#endif
