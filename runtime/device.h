/* device.h: OpenCL platforms and devices, selection, the command queue, the
 * program built from the embedded cl/ sources (cached on disk), kernels, and
 * error names.
 *
 * One Device holds one context, one in-order queue and one program; every
 * cl_kernel is created once (dev_kernel) and reused for every launch. */
#ifndef CLRUN_DEVICE_H
#define CLRUN_DEVICE_H

#include <stddef.h>
#include <stdio.h>

#include <CL/cl.h>

#include "err.h"
#include "plan.h"

#define DEV_MAX_KERNELS 64

/* Time spent in one kernel on behalf of one tag (a layer and pass), from
 * OpenCL event profiling (`clrun run --profile`), or, where the driver's
 * timestamps are unusable (rusticl 22.3 gives every command start 2 and end
 * 3), from the host: each launch timed to the end of its clFinish. */
typedef struct {
    char kernel[96];
    char tag[96];
    double seconds;
    long launches;
} DevProfileRow;

typedef struct {
    int enabled;
    char tag[96];           /* set by the caller before launches: "conv1 forward" */
    cl_event *pending;      /* launched, not yet counted */
    DevProfileRow *pending_what; /* their kernel and tag */
    int n_pending, cap_pending;
    DevProfileRow *rows;
    int n_rows;
    int host_timing;        /* the driver's timestamps failed a check: time on the host */
    double host_start;      /* host timing: when the launch being timed was enqueued */
    char host_kernel[96];
} DevProfile;

/* Where a built program came from: compiled and stored in clrun's cache,
 * loaded from it, or built by a driver that caches builds itself (POCL:
 * whether it compiled cannot be told). */
typedef enum { PROGRAM_COMPILED, PROGRAM_FROM_CACHE, PROGRAM_DRIVER_CACHE } ProgramOrigin;

typedef struct {
    cl_platform_id platform;
    cl_device_id id;
    cl_context ctx;
    cl_command_queue queue;
    cl_program program;
    char name[256];
    char platform_name[256];
    char driver[128];
    char version[128];
    cl_device_type type;
    size_t max_work_group;
    cl_ulong max_alloc;
    Plan plan;              /* the kernel plan: what runs the products, and its shapes */
    FILE *trace;            /* $CLRUN_TRACE_LAUNCHES: every launch's kernel and sizes */
    ProgramOrigin program_origin; /* where the last dev_build got its program */
    size_t group_cap;       /* $CLRUN_GROUP_LIMIT: every kernel's limit at most this (0: none) */
    struct {
        char name[64];
        cl_kernel kernel;
        KernelLimits limits;
    } kernels[DEV_MAX_KERNELS];
    int n_kernels;
    DevProfile profile;
    long loop_limit;        /* dev_loop_limit's answer once asked; -1 before */
} Device;

/* "compiled", "loaded from cache" or "built". */
const char *dev_program_origin(const Device *d);

/* One kernel argument: its size and a pointer to its value. */
typedef struct {
    size_t size;
    const void *value;
} KArg;
#define KA(x) ((KArg){sizeof(x), &(x)})
#define KA_LOCAL(bytes) ((KArg){(bytes), NULL})

/* "GPU", "CPU", "ACCELERATOR" or "OTHER". */
const char *dev_type_name(cl_device_type t);

/* The "P:D" spec of every device of every platform, at most max of them. */
enum { DEV_SPEC_MAX = 24 };
int dev_all(char (*specs)[DEV_SPEC_MAX], int max, int *n, Err *err);

/* Opens the device named by spec (NULL: $CLRUN_DEVICE, else the first GPU, else
 * the first device). spec is "P:D" or "P" by index, or case-insensitive name
 * substrings for platform and device ("pocl", "nvidia:0", ":titan"). Its
 * kernel plan follows its type, or $CLRUN_KERNELS and $CLRUN_GEMM (plan.h);
 * $CLRUN_TRACE_LAUNCHES names a file that gets a line per launch;
 * $CLRUN_GROUP_LIMIT=N lowers every kernel's work-group limit to N, as a
 * device with small limits would report them (rusticl: 32, Apple's CPU: 1). */
int dev_open(Device *d, const char *spec, Err *err);
/* As dev_open, with event profiling of every launch when profile is set:
 * the driver's timestamps where they pass a check (dev_build times a
 * probe both ways), else host timing, said once on stderr. */
int dev_open_profiled(Device *d, const char *spec, int profile, Err *err);

/* Names what the next launches are for, in the profile ("conv1 forward"). */
void dev_profile_tag(Device *d, const char *fmt, const char *name);
/* Counts the launches that have finished (all of them after dev_finish). */
void dev_profile_collect(Device *d);
/* For work enqueued by another library (CLBlast): an event to pass it, NULL
 * when not profiling, and once it has enqueued, the event's record. */
cl_event *dev_profile_event(Device *d, const char *name);
void dev_profile_enqueued(Device *d, cl_event *ev);
/* Prints time per kernel and per tag, and the share of wall time they cover. */
void dev_profile_report(Device *d, double wall_seconds, FILE *out);
/* Checks the driver's timestamps against the host's clock (dev_open does,
 * when profiling): host timing where they fail (profile.c). */
void dev_profile_probe(Device *d);
void dev_profile_free(Device *d);

/* What d's plan is chosen from, as it reports it. */
PlanFacts dev_plan_facts(const Device *d);
/* Gives d the cpu (gpu 0) or gpu plan, with $CLRUN_GEMM's backend and tiles
 * of at most tile_group^2 work-items (0: as the device allows; dev_build
 * fits them to the tiled kernels); dev_build then builds for it. */
int dev_set_plan(Device *d, int gpu, int tile_group, Err *err);

/* The whole program text (caller frees): every cl/ file in table order,
 * from the embedded copies or from $CLRUN_KERNEL_DIR for kernel
 * development. NULL with *rc set on failure. */
char *dev_program_source(Err *err, int *rc);

/* Builds the program from the embedded cl/ sources (or $CLRUN_KERNEL_DIR),
 * using the on-disk binary cache when it holds this exact build (a program
 * built before is released first). Where the tiled kernels allow fewer
 * work-items a group than their tiles need, the tiles shrink and the
 * program is built again (plan_fit_tiles). */
int dev_build(Device *d, Err *err);

/* The kernel of that name, created on first request and kept, with its
 * limits asked once; one that needs more local memory than the device has
 * is an error naming it. */
int dev_kernel(Device *d, const char *name, cl_kernel *out, Err *err);
/* How many loop iterations a work-item may run in all before the driver
 * stops its loops without a word, 0 where no limit was found: Mesa's
 * llvmpipe (rusticl's CPU device) ends every loop of a work-item once 65,535
 * iterations of all its loops have run (LP_MAX_TGSI_LOOP_ITERATIONS, a guard
 * against endless shaders), each loop's exit counting as one; a kernel then
 * finishes with partial sums. Measured once per device by a probe launch
 * (loop_probe in cl/check.cl), which looks for a limit below DEV_LOOP_PROBE;
 * a blocking read. Launches whose work-items loop more than
 * DEV_LOOPS_UNCHECKED times, llvmpipe's limit and the lowest known, ask;
 * shorter ones need not (and spare POCL the probe's compile, 0.1-0.5 s). */
enum { DEV_LOOP_PROBE = 1 << 17, DEV_LOOPS_UNCHECKED = 65535 };
int dev_loop_limit(Device *d, long *limit, Err *err);
/* *limit = the loop limit a work-item running `loops` iterations in all must
 * keep within on d, 0 where none can apply (asking dev_loop_limit only past
 * DEV_LOOPS_UNCHECKED). */
int dev_loop_limit_for(Device *d, long loops, long *limit, Err *err);
/* *fits = whether a work-item may run `loops` loop iterations in all on d. */
int dev_loops_fit(Device *d, long loops, int *fits, Err *err);
/* Kernel k's limits on this device (k from dev_kernel). */
const KernelLimits *dev_limits(const Device *d, cl_kernel k);
/* Work-items a group for launches of k over independent elements
 * (plan_group of its limits). */
size_t dev_group_size(const Device *d, cl_kernel k);

/* Sets the arguments and enqueues a 1-3 dimensional launch. The global size of
 * each dimension is rounded up to a multiple of the local size; kernels
 * guard against indices past their data. local NULL: groups of
 * dev_group_size along dimension 0. A local size past the kernel's limit is
 * an error naming the kernel, never a launch. Global ids start at zero: POCL
 * compiles a kernel again for a launch with a global offset, so a kernel
 * takes where to start as an argument. */
int dev_launch(Device *d, cl_kernel k, int dims, const size_t *global, const size_t *local,
               int nargs, const KArg *args, Err *err);
#define DEV_LAUNCH(d, k, dims, global, local, err, ...) \
    dev_launch((d), (k), (dims), (global), (local), \
               (int)(sizeof((KArg[]){__VA_ARGS__}) / sizeof(KArg)), (KArg[]){__VA_ARGS__}, (err))

/* Buffers: allocation with a message naming what it is for, host copies. */
int dev_alloc(Device *d, size_t bytes, const char *what, cl_mem *out, Err *err);
int dev_write(Device *d, cl_mem m, size_t offset, size_t bytes, const void *src, Err *err);
int dev_read(Device *d, cl_mem m, size_t offset, size_t bytes, void *dst, Err *err);
/* A read queued behind what is queued: dst holds the bytes once a later wait
 * (an event, dev_finish, a blocking read) has passed it; it must live that long. */
int dev_read_later(Device *d, cl_mem m, size_t bytes, void *dst, Err *err);
int dev_fill_zero(Device *d, cl_mem m, size_t bytes, Err *err);
/* The first bytes of m mapped for reading (*host, once what is queued has
 * run), and unmapped again. A CPU driver maps its buffers where they lie,
 * with no copy, which spares a host copy of large saves; others copy. */
int dev_map_read(Device *d, cl_mem m, size_t bytes, void **host, Err *err);
int dev_unmap(Device *d, cl_mem m, void *host, Err *err);
/* The first bytes of from into to (what names them in errors). */
int dev_copy(Device *d, cl_mem from, cl_mem to, size_t bytes, const char *what, Err *err);
int dev_finish(Device *d, Err *err);
void dev_release(cl_mem *m);

void dev_close(Device *d);

/* "CL_OUT_OF_RESOURCES" for -5, and so on. */
const char *dev_error_name(cl_int code);
/* Turns a failed OpenCL call into CLRUN_ERUNTIME "call(what): CL_NAME"; OK passes. */
int dev_check(cl_int rc, const char *call, const char *what, Err *err);

#endif
