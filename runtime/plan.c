/* plan.c: chooses a device's kernel plan (see plan.h). */
#include "plan.h"

#include <stdio.h>
#include <string.h>

/* The tiled kernels' k step (TK in cl/tiled.cl): two tiles of TK x (tile + 1)
 * floats in local memory. */
enum { TILE_K = 16 };

/* Blocks a core should get: the cpu plan's blocks are work-items, 32 a core
 * balance uneven blocks (measured on 2 Zen 5 cores: 64); the gpu plan's are
 * work-groups, 4 a compute unit keep two of them resident while two wait. */
static int split_target(const Plan *p, cl_uint units)
{
    int per_unit = p->gpu ? 4 : 32;
    return (int)(units ? units : 2) * per_unit;
}

/* Devices whose tiled groups must be smaller than their limits allow, by a
 * substring of CL_DEVICE_NAME; tools/gpu-resources reads this table to
 * compile Intel's GPUs as the plan would. Measured with ocloc, Intel's
 * offline compiler: on the Data Center GPU Max (pvc) conv_tiled at SIMD32
 * in 16 x 16 groups spills 1,344 bytes a thread; in 8 x 8 groups it spills
 * nothing, still at SIMD32 with 128 registers a thread. The other way out,
 * -cl-intel-256-GRF-per-thread, holds for the whole program: every kernel
 * would run half the threads an EU, and it is an option of Intel's driver,
 * which another implementation of the same GPU need not accept. */
static const struct {
    const char *name;     /* a substring of CL_DEVICE_NAME */
    int tile_group;       /* the largest tile group */
} device_tiles[] = {
    {"Data Center GPU Max", 8},
};

/* The largest tile group the device's row allows; 16 without one. */
static int tile_group_cap(const PlanFacts *f)
{
    for (size_t i = 0; i < sizeof device_tiles / sizeof device_tiles[0]; i++)
        if (strstr(f->name, device_tiles[i].name))
            return device_tiles[i].tile_group;
    return 16;
}

/* The largest tiled group that fits the device and its row: 16 x 16, else
 * 8 x 8, 4 x 4. */
static void tile_shape(Plan *p, const PlanFacts *f)
{
    for (p->tile_group = tile_group_cap(f); p->tile_group > 4; p->tile_group /= 2) {
        size_t items = (size_t)p->tile_group * p->tile_group;
        cl_ulong local = 2ull * TILE_K * (4 * p->tile_group + 1) * sizeof(float);
        if (items <= f->max_work_group && local <= f->local_mem)
            break;
    }
    p->tile = 4 * p->tile_group;
}

static int parse_choice(const char *text, const char *a, const char *b, int dflt, int *out)
{
    if (!text || !*text)
        *out = dflt;
    else if (strcmp(text, a) == 0)
        *out = 0;
    else if (strcmp(text, b) == 0)
        *out = 1;
    else
        return 0;
    return 1;
}

int plan_choose(Plan *p, const PlanFacts *f, const char *forced, const char *gemm, Err *err)
{
    memset(p, 0, sizeof *p);
    int clblast = 0;
    if (!parse_choice(forced, "cpu", "gpu", !(f->type & CL_DEVICE_TYPE_CPU), &p->gpu))
        return err_set(err, CLRUN_EINPUT, "unknown kernel plan '%s' (--kernels or CLRUN_KERNELS: "
                       "cpu or gpu)", forced);
    if (!parse_choice(gemm, "own", "clblast", 0, &clblast))
        return err_set(err, CLRUN_EINPUT, "unknown GEMM backend '%s' (CLRUN_GEMM: own or "
                       "clblast)", gemm);
    if (clblast && !p->gpu)
        return err_set(err, CLRUN_EINPUT, "CLRUN_GEMM=clblast needs the gpu kernel plan "
                       "(--kernels gpu): on CPUs clrun's own products are 5-50x faster");
    p->gemm = clblast ? GEMM_CLBLAST : GEMM_OWN;
    p->split_target = split_target(p, f->compute_units);
    /* half the last cache: the other half holds A and C (16 MB of a 32 MB L3 here) */
    p->cache_bytes = f->cache_bytes >= (2u << 20) ? (size_t)f->cache_bytes / 2 : 16u << 20;
    p->slab_bytes = 512u << 10;
    p->group = f->max_work_group < 64 ? f->max_work_group : 64;
    tile_shape(p, f);
    snprintf(p->options, sizeof p->options, "-cl-std=CL1.2 -DPLAN_GPU=%d -DTG=%d -DTK=%d",
             p->gpu, p->tile_group, TILE_K);
    return CLRUN_OK;
}

const char *plan_name(const Plan *p)
{
    return p->gpu ? "gpu" : "cpu";
}

const char *plan_gemm_name(const Plan *p)
{
    return p->gemm == GEMM_CLBLAST ? "clblast" : "own";
}
