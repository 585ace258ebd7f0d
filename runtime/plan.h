/* plan.h: the kernel plan of a device: which kernels run the products and
 * convolutions, and every device-shaped number (work-group shapes, tile
 * sizes, how many blocks a product should have, the cache a product's
 * operand should fit in).
 *
 * POCL runs fastest with one work-item a group and big register blocks (the
 * cpu plan); a GPU needs 64-256 work-items a group, local-memory tiles,
 * coalesced loads and few registers (the gpu plan). The plan is chosen from
 * the device type when it opens, its tiles from the device's limits and, for
 * the few devices plan.c has a row for, its name; $CLRUN_KERNELS (clrun's
 * --kernels) forces one, $CLRUN_GEMM picks the gpu plan's GEMM backend. */
#ifndef CLRUN_PLAN_H
#define CLRUN_PLAN_H

#include <stddef.h>

#include <CL/cl.h>

#include "err.h"

/* What the plan is chosen from, as the device reports it. */
typedef struct {
    cl_device_type type;
    size_t max_work_group;
    cl_ulong local_mem;
    cl_uint compute_units;
    cl_ulong cache_bytes;     /* CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, 0 when unknown */
    char name[128];           /* CL_DEVICE_NAME, for the devices plan.c has numbers of */
} PlanFacts;

typedef enum { GEMM_OWN, GEMM_CLBLAST } GemmBackend;

typedef struct {
    int gpu;                  /* 0: the cpu plan, 1: the gpu plan */
    GemmBackend gemm;
    int split_target;         /* blocks of a product's output that keep every core busy */
    size_t cache_bytes;       /* a B larger than this falls out of the cache between row blocks */
    size_t slab_bytes;        /* the B each split of such a product should stay within */
    size_t group;             /* work-items of a group for launches over elements */
    int tile_group;           /* gpu: a tiled kernel's group is tile_group^2 work-items ... */
    int tile;                 /* ... computing tile x tile outputs (4 x 4 each) */
    char options[192];        /* the program's build options, which carry the tile sizes */
} Plan;

/* Chooses the plan for a device: forced ("cpu", "gpu", NULL or "" for the
 * device's own) and gemm ("own", "clblast", NULL or "" for own). A bad name,
 * or CLBlast under the cpu plan, is CLRUN_EINPUT. */
int plan_choose(Plan *p, const PlanFacts *facts, const char *forced, const char *gemm, Err *err);

/* "cpu" or "gpu", and "own" or "clblast". */
const char *plan_name(const Plan *p);
const char *plan_gemm_name(const Plan *p);

#endif
