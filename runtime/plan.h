/* plan.h: the kernel plan of a device: which kernels run the products and
 * convolutions, and every device-shaped number (work-group shapes, tile
 * sizes, how many blocks a product should have, the cache a product's
 * operand should fit in).
 *
 * POCL runs fastest with one work-item a group and big register blocks (the
 * cpu plan); a GPU needs 64-256 work-items a group, local-memory tiles,
 * coalesced loads and few registers (the gpu plan). The plan is chosen from
 * the device type when it opens, its tiles from the device's limits and, for
 * the few devices plan.c has a row for, its name, the cpu plan's register
 * blocks of the convolutions from its native float vector width
 * ($CLRUN_VECTOR_FLOATS overrides it); $CLRUN_KERNELS (clrun's --kernels)
 * forces one, $CLRUN_GEMM picks the gpu plan's GEMM backend.
 *
 * Every launch is shaped from the plan and the kernel's own limits on the
 * device (KernelLimits), which can be far below the device's: rusticl
 * allows 32 work-items a group for every kernel, Apple's CPU device 1 for
 * kernels with barriers. */
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
    cl_uint vector_floats;    /* CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT: 16 AVX-512, 8 AVX2 */
} PlanFacts;

/* What the device says of one kernel, asked once when it is created:
 * CL_KERNEL_WORK_GROUP_SIZE, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE
 * and CL_KERNEL_LOCAL_MEM_SIZE. */
typedef struct {
    size_t max_group;
    size_t multiple;
    cl_ulong local_mem;
} KernelLimits;

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
    int conv_pixels;          /* cpu: output pixels of a conv_implicit work-item (16 channels) */
    int conv_pixels_wide;     /* ... of a conv_implicit_wide one (32 channels) */
    int wgrad_rows;           /* rows of a conv_weight_grad register pass (16 columns) */
    char options[192];        /* the program's build options, which carry the tile sizes */
} Plan;

/* Chooses the plan for a device: forced ("cpu", "gpu", NULL or "" for the
 * device's own) and gemm ("own", "clblast", NULL or "" for own). A bad name,
 * or CLBlast under the cpu plan, is CLRUN_EINPUT. */
int plan_choose(Plan *p, const PlanFacts *facts, const char *forced, const char *gemm, Err *err);

/* "cpu" or "gpu", and "own" or "clblast". */
const char *plan_name(const Plan *p);
const char *plan_gemm_name(const Plan *p);
/* The tiles, as config.yaml and `clrun devices` show them: "64x64 by 16x16
 * work-items" under the gpu plan, "none" under the cpu plan. */
void plan_tiles_text(const Plan *p, char *buf, size_t size);
/* What to add to a message about a kernel that cannot run as this plan
 * shapes it: the other plan where it could help, else nothing. */
const char *plan_hint(const Plan *p);

/* ---- launch shapes from the kernel's limits ---- */

/* Work-items a group for a launch over independent elements: the plan's
 * group size (at least the kernel's preferred multiple), within the
 * kernel's limit; a power of two, 1 at least. */
size_t plan_group(const Plan *p, const KernelLimits *k);

/* A tree reduction's group (cl/ kernels with a __local part[most]): a power
 * of two from plan_group up to n values, never past most or the kernel's
 * limit. */
size_t plan_reduction_group(const Plan *p, const KernelLimits *k, size_t n, size_t most);

/* A launch over planes of w x h values (global w x h x planes): under the
 * gpu plan plan_group's work-items, a block of x, then y, then planes;
 * under the cpu plan 16 x 16 work-items (within the kernel's limit) whatever
 * the planes' size, so that POCL compiles one work-group function a kernel. */
void plan_planes(const Plan *p, const KernelLimits *k, int w, int h, size_t local[3]);

/* The kernels that need exactly tile_group^2 work-items a group (NULL
 * terminated). Every build of the program holds them, whatever its plan,
 * and their tiles are fitted under both plans, so that a calibration can
 * time the gpu plan's products in a build for the cpu plan. */
const char *const *plan_tiled_kernels(void);

/* Brings the tiles within most, the smallest limit of the tiled kernels as
 * built: 1 when the tiles shrank (the program must be built again with the
 * new options), 0 when they fit. */
int plan_fit_tiles(Plan *p, size_t most);

#endif
