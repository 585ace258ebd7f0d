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

/* The cpu plan's register blocks of the convolutions (cl/conv.cl), by the
 * device's native float vector: the first row whose width the device's
 * reaches, else the last. A block's accumulators and a tap's loads must fit
 * the vector registers. 16 floats: AVX-512's 32 zmm registers hold 8 pixels
 * x 32 channels (16 accumulators). 8 floats: AVX2's 16 ymm registers held
 * 8 x 16 with a third of its accumulators spilled every tap (objdump of
 * POCL's cached kernels); 6 x 16 (12 accumulators, 2 loads of B, a
 * broadcast: 15 registers, BLIS's Haswell block) spills nothing and
 * conv_implicit ran 1.15x 4 x 16's on the Keras CIFAR CNN (8 FMAs a tap
 * were too few against the loop's own instructions and the FMAs' latency),
 * and the 32-channel block, 2 x 32 there, ran no faster than 4 x 16 on
 * ResNet-18's layers. pixels_wide 0: no 32-channel block. */
static const struct {
    cl_uint floats;
    int pixels, pixels_wide, wgrad_rows;
} conv_blocks[] = {
    {16, 8, 8, 8},
    {8, 6, 0, 4},
};

static void set_conv_blocks(Plan *p, cl_uint floats)
{
    size_t i = 0, n = sizeof conv_blocks / sizeof conv_blocks[0];
    while (i + 1 < n && floats < conv_blocks[i].floats)
        i++;
    p->conv_pixels = conv_blocks[i].pixels;
    p->conv_pixels_wide = conv_blocks[i].pixels_wide;
    p->wgrad_rows = conv_blocks[i].wgrad_rows;
}

/* The build options, which carry the plan and its tile shape. -w: a build
 * that succeeds prints nothing (POCL's front end otherwise says "27 warnings
 * generated" at every cold start, of float16 arguments on an AVX2 target);
 * tools/gpu-resources compiles the kernels with warnings on. */
static void set_options(Plan *p)
{
    p->tile = 4 * p->tile_group;
    /* a plan without the 32-channel block still builds its kernel, never launched */
    int wide = p->conv_pixels_wide ? p->conv_pixels_wide : p->conv_pixels;
    snprintf(p->options, sizeof p->options,
             "-cl-std=CL1.2 -w -DPLAN_GPU=%d -DTG=%d -DTK=%d -DCI_TP=%d -DCI_TPW=%d -DCW_TM=%d",
             p->gpu, p->tile_group, TILE_K, p->conv_pixels, wide, p->wgrad_rows);
}

/* The largest tiled group from side x side down within most work-items and
 * local bytes of local memory: 16 x 16, else 8 x 8, ... down to one
 * work-item (4 x 4 outputs). */
static int tile_group_within(int side, size_t most, cl_ulong local)
{
    while (side > 1 && ((size_t)side * side > most ||
                        2ull * TILE_K * (4 * side + 1) * sizeof(float) > local))
        side /= 2;
    return side;
}

static size_t pow2_floor(size_t n)
{
    size_t p = 1;
    while (p * 2 <= n)
        p *= 2;
    return p;
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
    p->group = pow2_floor(f->max_work_group < 64 ? f->max_work_group : 64);
    p->tile_group = tile_group_within(tile_group_cap(f), f->max_work_group, f->local_mem);
    set_conv_blocks(p, f->vector_floats);
    set_options(p);
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

void plan_tiles_text(const Plan *p, char *buf, size_t size)
{
    if (p->gpu)
        snprintf(buf, size, "%dx%d by %dx%d work-items", p->tile, p->tile, p->tile_group,
                 p->tile_group);
    else
        snprintf(buf, size, "none");
}

const char *plan_hint(const Plan *p)
{
    return p->gpu ? ": try --kernels cpu" : "";
}

/* ---- launch shapes ---- */

size_t plan_group(const Plan *p, const KernelLimits *k)
{
    size_t want = p->group > k->multiple ? p->group : k->multiple;
    return pow2_floor(want < k->max_group ? want : k->max_group);
}

size_t plan_reduction_group(const Plan *p, const KernelLimits *k, size_t n, size_t most)
{
    most = most < k->max_group ? most : k->max_group;
    size_t group = plan_group(p, k);
    group = group < most ? group : pow2_floor(most);
    while (group < n && group * 2 <= most)
        group *= 2;
    return group;
}

/* The smallest power of two >= n, up to most. */
static size_t pow2_up(size_t n, size_t most)
{
    size_t p = 1;
    while (p < n && p * 2 <= most)
        p *= 2;
    return p;
}

void plan_planes(const Plan *p, const KernelLimits *k, int w, int h, size_t local[3])
{
    if (p->gpu) {
        size_t group = plan_group(p, k);
        local[0] = pow2_up((size_t)w, group);
        local[1] = pow2_up((size_t)h, group / local[0]);
        local[2] = group / local[0] / local[1];
        return;
    }
    /* One shape whatever the planes' size: POCL compiles a work-group
     * function for each (kernel, local size) at its first launch, 0.3-1.8 s
     * each, and a group a plane gave one a plane size (ResNet-18's pad_planes
     * had 8). The kernels skip the rounded-up edges. 16 x 16 keeps a plane
     * of up to 16 x 16 in one group, as before (POCL's cost is per group),
     * and what small planes leave idle costs a bounds check an item. */
    local[0] = pow2_floor(k->max_group < 16 ? k->max_group : 16);
    local[1] = pow2_floor(k->max_group / local[0] < 16 ? k->max_group / local[0] : 16);
    local[2] = 1;
}

const char *const *plan_tiled_kernels(void)
{
    static const char *const tiled[] = {"gemm_tiled", "conv_tiled", NULL};
    return tiled;
}

int plan_fit_tiles(Plan *p, size_t most)
{
    if ((size_t)p->tile_group * p->tile_group <= most)
        return 0;
    p->tile_group = tile_group_within(p->tile_group, most, ~0ull);
    set_options(p);
    return 1;
}
