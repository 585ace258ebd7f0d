/* memcheck.c: the memory a graph needs, checked before allocating (see memcheck.h). */
#include "memcheck.h"

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

/* Parameters and their gradients, plus up to two optimizer states (Adam's
 * moments), and each layer's activations, gradients and scratch for a whole
 * batch: as the memory plan places them, or a buffer each (and a shared
 * buffer a scratch slot) without it. */
static double bytes_needed(const Graph *g, int max_batch)
{
    double floats = 4.0 * (double)(graph_param_count(g, 1) + graph_param_count(g, 0));
    double tensors = 0;
    MemPlan plan;
    Err ignored;
    if (memplan_enabled() && memplan_build(&plan, g, max_batch, 1, 0, &ignored) == CLRUN_OK) {
        tensors = (double)plan.total;
        memplan_free(&plan);
    } else {
        for (int i = 0; i < g->n_nodes; i++)
            tensors += 2.0 * max_batch * (double)shape_size(g->nodes[i].out_shape) * sizeof(float);
        for (int s = 0; s < SCRATCH_SLOTS; s++)
            tensors += (double)g->scratch_floats[s] * sizeof(float);
    }
    return floats * sizeof(float) + tensors;
}

/* The process's address space in use now, from /proc/self/statm; 0 if unknown. */
static double bytes_in_use(void)
{
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%lu", &pages) != 1)
        pages = 0;
    if (f)
        fclose(f);
    return (double)pages * (double)sysconf(_SC_PAGESIZE);
}

int memcheck_graph(Graph *g, const Device *dev, int max_batch, Err *err)
{
    graph_plan_scratch(g, &dev->plan, max_batch);
    double need = bytes_needed(g, max_batch);
    cl_ulong global = 0;
    cl_device_type type = 0;
    clGetDeviceInfo(dev->id, CL_DEVICE_GLOBAL_MEM_SIZE, sizeof global, &global, NULL);
    clGetDeviceInfo(dev->id, CL_DEVICE_TYPE, sizeof type, &type, NULL);
    if (global && need > (double)global)
        return err_set(err, CLRUN_ERUNTIME, "the model needs %.0f bytes of device memory for "
                       "batches of %d, but %s has %llu: try a smaller train.batch_size or another "
                       "device with --device (or a smaller model)", need, max_batch, dev->name,
                       (unsigned long long)global);
    struct rlimit as;
    /* a GPU's memory is not the process's; a CPU device's is */
    if (!(type & CL_DEVICE_TYPE_CPU) || getrlimit(RLIMIT_AS, &as) != 0 ||
        as.rlim_cur == RLIM_INFINITY)
        return CLRUN_OK;
    double left = (double)as.rlim_cur - bytes_in_use();
    if (need > left)
        return err_set(err, CLRUN_ERUNTIME, "the model needs %.0f bytes of memory for batches of "
                       "%d, but this process may use only %.0f more (ulimit -v): try a smaller "
                       "train.batch_size or model, or raise the limit", need, max_batch,
                       left > 0 ? left : 0);
    return CLRUN_OK;
}
