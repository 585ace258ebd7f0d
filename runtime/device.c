/* device.c: OpenCL device selection, program build with an on-disk binary cache
 * (where the driver keeps none of its own),
 * kernel table, launches and buffers (see device.h). */
#include "device.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cl_sources.h"
#include "kcache.h"

#define MAX_PLATFORMS 16
#define MAX_DEVICES 32

const char *dev_error_name(cl_int code)
{
    switch (code) {
#define E(x) case x: return #x;
        E(CL_SUCCESS) E(CL_DEVICE_NOT_FOUND) E(CL_DEVICE_NOT_AVAILABLE)
        E(CL_COMPILER_NOT_AVAILABLE) E(CL_MEM_OBJECT_ALLOCATION_FAILURE)
        E(CL_OUT_OF_RESOURCES) E(CL_OUT_OF_HOST_MEMORY) E(CL_PROFILING_INFO_NOT_AVAILABLE)
        E(CL_MEM_COPY_OVERLAP) E(CL_IMAGE_FORMAT_MISMATCH) E(CL_IMAGE_FORMAT_NOT_SUPPORTED)
        E(CL_BUILD_PROGRAM_FAILURE) E(CL_MAP_FAILURE) E(CL_MISALIGNED_SUB_BUFFER_OFFSET)
        E(CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST) E(CL_COMPILE_PROGRAM_FAILURE)
        E(CL_LINKER_NOT_AVAILABLE) E(CL_LINK_PROGRAM_FAILURE) E(CL_DEVICE_PARTITION_FAILED)
        E(CL_KERNEL_ARG_INFO_NOT_AVAILABLE) E(CL_INVALID_VALUE) E(CL_INVALID_DEVICE_TYPE)
        E(CL_INVALID_PLATFORM) E(CL_INVALID_DEVICE) E(CL_INVALID_CONTEXT)
        E(CL_INVALID_QUEUE_PROPERTIES) E(CL_INVALID_COMMAND_QUEUE) E(CL_INVALID_HOST_PTR)
        E(CL_INVALID_MEM_OBJECT) E(CL_INVALID_IMAGE_FORMAT_DESCRIPTOR) E(CL_INVALID_IMAGE_SIZE)
        E(CL_INVALID_SAMPLER) E(CL_INVALID_BINARY) E(CL_INVALID_BUILD_OPTIONS)
        E(CL_INVALID_PROGRAM) E(CL_INVALID_PROGRAM_EXECUTABLE) E(CL_INVALID_KERNEL_NAME)
        E(CL_INVALID_KERNEL_DEFINITION) E(CL_INVALID_KERNEL) E(CL_INVALID_ARG_INDEX)
        E(CL_INVALID_ARG_VALUE) E(CL_INVALID_ARG_SIZE) E(CL_INVALID_KERNEL_ARGS)
        E(CL_INVALID_WORK_DIMENSION) E(CL_INVALID_WORK_GROUP_SIZE) E(CL_INVALID_WORK_ITEM_SIZE)
        E(CL_INVALID_GLOBAL_OFFSET) E(CL_INVALID_EVENT_WAIT_LIST) E(CL_INVALID_EVENT)
        E(CL_INVALID_OPERATION) E(CL_INVALID_GL_OBJECT) E(CL_INVALID_BUFFER_SIZE)
        E(CL_INVALID_MIP_LEVEL) E(CL_INVALID_GLOBAL_WORK_SIZE) E(CL_INVALID_PROPERTY)
        E(CL_INVALID_IMAGE_DESCRIPTOR) E(CL_INVALID_COMPILER_OPTIONS) E(CL_INVALID_LINKER_OPTIONS)
        E(CL_INVALID_DEVICE_PARTITION_COUNT)
#undef E
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: return "unknown OpenCL error";
    }
}

int dev_check(cl_int rc, const char *call, const char *what, Err *err)
{
    if (rc == CL_SUCCESS)
        return CLRUN_OK;
    const char *hint = "";
    if (rc == CL_OUT_OF_RESOURCES || rc == CL_MEM_OBJECT_ALLOCATION_FAILURE ||
        rc == CL_INVALID_BUFFER_SIZE || rc == CL_OUT_OF_HOST_MEMORY)
        hint = " (the device ran out of memory or resources: try a smaller train.batch_size "
               "or another device with --device)";
    return err_set(err, CLRUN_ERUNTIME, "%s(%s): %s (%d)%s", call, what, dev_error_name(rc),
                   (int)rc, hint);
}

/* ---- enumeration and selection ---- */

typedef struct {
    cl_platform_id platforms[MAX_PLATFORMS];
    cl_uint n_platforms;
} Platforms;

static int get_platforms(Platforms *p, Err *err)
{
    cl_int rc = clGetPlatformIDs(MAX_PLATFORMS, p->platforms, &p->n_platforms);
    if (rc == -1001 || (rc == CL_SUCCESS && p->n_platforms == 0))
        return err_set(err, CLRUN_ERUNTIME,
                       "no OpenCL platform found: install a driver (make deps installs "
                       "pocl-opencl-icd for the CPU) and check /etc/OpenCL/vendors");
    return dev_check(rc, "clGetPlatformIDs", "platforms", err);
}

static cl_uint get_devices(cl_platform_id p, cl_device_id *out)
{
    cl_uint n = 0;
    if (clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, MAX_DEVICES, out, &n) != CL_SUCCESS)
        return 0;
    return n;
}

static void platform_text(cl_platform_id p, char *buf, size_t size)
{
    char name[256] = "", vendor[256] = "", version[256] = "";
    clGetPlatformInfo(p, CL_PLATFORM_NAME, sizeof name, name, NULL);
    clGetPlatformInfo(p, CL_PLATFORM_VENDOR, sizeof vendor, vendor, NULL);
    clGetPlatformInfo(p, CL_PLATFORM_VERSION, sizeof version, version, NULL);
    snprintf(buf, size, "%s %s %s", name, vendor, version);
}

const char *dev_type_name(cl_device_type t)
{
    if (t & CL_DEVICE_TYPE_GPU) return "GPU";
    if (t & CL_DEVICE_TYPE_CPU) return "CPU";
    if (t & CL_DEVICE_TYPE_ACCELERATOR) return "ACCELERATOR";
    return "OTHER";
}

/* What the kernel plan is chosen from. */
static PlanFacts device_facts(cl_device_id id)
{
    PlanFacts f = {0};
    clGetDeviceInfo(id, CL_DEVICE_TYPE, sizeof f.type, &f.type, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof f.max_work_group,
                    &f.max_work_group, NULL);
    clGetDeviceInfo(id, CL_DEVICE_LOCAL_MEM_SIZE, sizeof f.local_mem, &f.local_mem, NULL);
    clGetDeviceInfo(id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof f.compute_units, &f.compute_units,
                    NULL);
    clGetDeviceInfo(id, CL_DEVICE_GLOBAL_MEM_CACHE_SIZE, sizeof f.cache_bytes, &f.cache_bytes,
                    NULL);
    clGetDeviceInfo(id, CL_DEVICE_NATIVE_VECTOR_WIDTH_FLOAT, sizeof f.vector_floats,
                    &f.vector_floats, NULL);
    clGetDeviceInfo(id, CL_DEVICE_NAME, sizeof f.name - 1, f.name, NULL);
    return f;
}

/* $CLRUN_VECTOR_FLOATS: the native float vector width the plan takes the
 * device to have, so that the convolutions' register blocks of another
 * vector unit (AVX-512's on an AVX2 machine) can be tested and timed. */
static int vector_floats(PlanFacts *f, Err *err)
{
    const char *text = getenv("CLRUN_VECTOR_FLOATS");
    if (!text || !*text)
        return CLRUN_OK;
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (*end || errno || n < 1 || n > 64)
        return err_set(err, CLRUN_EINPUT, "CLRUN_VECTOR_FLOATS must be a whole number of "
                       "floats from 1 to 64, not '%s'", text);
    f->vector_floats = (cl_uint)n;
    return CLRUN_OK;
}

/* The plan of device id, as $CLRUN_KERNELS, $CLRUN_GEMM and
 * $CLRUN_VECTOR_FLOATS say. */
static int device_plan(cl_device_id id, Plan *plan, Err *err)
{
    PlanFacts f = device_facts(id);
    int rc = vector_floats(&f, err);
    return rc ? rc : plan_choose(plan, &f, getenv("CLRUN_KERNELS"), getenv("CLRUN_GEMM"), err);
}

PlanFacts dev_plan_facts(const Device *d)
{
    return device_facts(d->id);
}

int dev_set_plan(Device *d, int gpu, int tile_group, Err *err)
{
    Plan p;
    PlanFacts f = device_facts(d->id);
    int rc = vector_floats(&f, err);
    if (!rc)
        rc = plan_choose(&p, &f, gpu ? "gpu" : "cpu", getenv("CLRUN_GEMM"), err);
    if (rc)
        return rc;
    if (tile_group > 0)
        plan_fit_tiles(&p, (size_t)tile_group * (size_t)tile_group);
    d->plan = p;
    return CLRUN_OK;
}

int dev_all(char (*specs)[DEV_SPEC_MAX], int max, int *n, Err *err)
{
    Platforms ps;
    int rc = get_platforms(&ps, err);
    *n = 0;
    for (cl_uint p = 0; !rc && p < ps.n_platforms; p++) {
        cl_device_id ids[MAX_DEVICES];
        cl_uint count = get_devices(ps.platforms[p], ids);
        for (cl_uint d = 0; d < count && *n < max; d++)
            snprintf(specs[(*n)++], DEV_SPEC_MAX, "%u:%u", p, d);
    }
    if (!rc && *n == 0)
        rc = err_set(err, CLRUN_ERUNTIME, "no OpenCL devices (clrun devices lists them)");
    return rc;
}

static int contains_nocase(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    for (; *hay; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return n == 0;
}

static int is_index(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return 0;
    return 1;
}

/* Whether the digits of s name index i: compared as written, so that an
 * index past cl_uint (4294967296) matches nothing instead of wrapping to 0. */
static int index_is(const char *s, cl_uint i)
{
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    return errno != ERANGE && v == i;
}

/* Does device d of platform p (indices pi, di) match the two halves of a spec? */
static int spec_matches(const char *pspec, const char *dspec, cl_uint pi, cl_platform_id p,
                        cl_uint di, cl_device_id d)
{
    if (*pspec) {
        char ptext[800];
        platform_text(p, ptext, sizeof ptext);
        if (is_index(pspec) ? !index_is(pspec, pi) : !contains_nocase(ptext, pspec))
            return 0;
    }
    if (*dspec) {
        char name[256] = "";
        clGetDeviceInfo(d, CL_DEVICE_NAME, sizeof name, name, NULL);
        if (is_index(dspec) ? !index_is(dspec, di) : !contains_nocase(name, dspec))
            return 0;
    }
    return 1;
}

static int find_device(const char *spec, cl_platform_id *pout, cl_device_id *dout, Err *err)
{
    Platforms ps;
    int rc = get_platforms(&ps, err);
    if (rc)
        return rc;
    char pspec[128] = "", dspec[128] = "";
    if (spec) {
        const char *colon = strchr(spec, ':');
        snprintf(pspec, sizeof pspec, "%.*s", colon ? (int)(colon - spec) : (int)strlen(spec), spec);
        snprintf(dspec, sizeof dspec, "%s", colon ? colon + 1 : "");
    }
    /* Without a spec: the first GPU, else the first device (two passes). */
    for (int pass = spec ? 1 : 0; pass < 2; pass++)
        for (cl_uint p = 0; p < ps.n_platforms; p++) {
            cl_device_id ids[MAX_DEVICES];
            cl_uint n = get_devices(ps.platforms[p], ids);
            for (cl_uint d = 0; d < n; d++) {
                cl_device_type t = 0;
                clGetDeviceInfo(ids[d], CL_DEVICE_TYPE, sizeof t, &t, NULL);
                if (pass == 0 && !(t & CL_DEVICE_TYPE_GPU))
                    continue;
                if (spec && !spec_matches(pspec, dspec, p, ps.platforms[p], d, ids[d]))
                    continue;
                *pout = ps.platforms[p];
                *dout = ids[d];
                return CLRUN_OK;
            }
        }
    if (spec)
        return err_set(err, CLRUN_EINPUT,
                       "no OpenCL device matches '%s' (see `clrun devices`; a spec is P:D by "
                       "index or by name, e.g. 0:0 or pocl)", spec);
    return err_set(err, CLRUN_ERUNTIME, "no OpenCL device found on any platform");
}

/* $CLRUN_TRACE_LAUNCHES: a file that gets "kernel global local tag" per launch. */
static int open_trace(Device *d, Err *err)
{
    const char *path = getenv("CLRUN_TRACE_LAUNCHES");
    if (!path || !*path)
        return CLRUN_OK;
    if (!(d->trace = fopen(path, "a")))
        return err_set(err, CLRUN_EINPUT, "%s: cannot write the launch trace "
                       "(CLRUN_TRACE_LAUNCHES): %s", path, strerror(errno));
    return CLRUN_OK;
}

/* $CLRUN_GROUP_LIMIT: a cap on every kernel's work-group limit. */
static int group_cap(Device *d, Err *err)
{
    const char *text = getenv("CLRUN_GROUP_LIMIT");
    if (!text || !*text)
        return CLRUN_OK;
    char *end;
    errno = 0;
    long n = strtol(text, &end, 10);
    if (*end || errno || n < 1)
        return err_set(err, CLRUN_EINPUT, "CLRUN_GROUP_LIMIT must be a whole number of "
                       "work-items, 1 or more, not '%s'", text);
    d->group_cap = (size_t)n;
    return CLRUN_OK;
}

int dev_open(Device *d, const char *spec, Err *err)
{
    return dev_open_profiled(d, spec, 0, err);
}

int dev_open_profiled(Device *d, const char *spec, int profile, Err *err)
{
    memset(d, 0, sizeof *d);
    d->profile.enabled = profile;
    d->loop_limit = -1;
    if (!spec || !*spec)
        spec = getenv("CLRUN_DEVICE");
    if (spec && !*spec)
        spec = NULL;
    int rc = find_device(spec, &d->platform, &d->id, err);
    if (rc)
        return rc;
    clGetDeviceInfo(d->id, CL_DEVICE_NAME, sizeof d->name, d->name, NULL);
    clGetDeviceInfo(d->id, CL_DRIVER_VERSION, sizeof d->driver, d->driver, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_VERSION, sizeof d->version, d->version, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_TYPE, sizeof d->type, &d->type, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof d->max_work_group,
                    &d->max_work_group, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof d->max_alloc, &d->max_alloc, NULL);
    clGetPlatformInfo(d->platform, CL_PLATFORM_NAME, sizeof d->platform_name, d->platform_name,
                      NULL);
    if ((rc = device_plan(d->id, &d->plan, err)) || (rc = open_trace(d, err)) ||
        (rc = group_cap(d, err)))
        return rc;
    cl_int cle;
    d->ctx = clCreateContext(NULL, 1, &d->id, NULL, NULL, &cle);
    if ((rc = dev_check(cle, "clCreateContext", d->name, err)))
        return rc;
    d->queue = clCreateCommandQueue(d->ctx, d->id, profile ? CL_QUEUE_PROFILING_ENABLE : 0, &cle);
    rc = dev_check(cle, "clCreateCommandQueue", d->name, err);
    if (!rc && profile)
        dev_profile_probe(d);
    return rc;
}

/* ---- program build and binary cache ---- */

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
        buf = malloc((size_t)size + 1);
        if (buf && fread(buf, 1, (size_t)size, f) != (size_t)size) {
            free(buf);
            buf = NULL;
        }
    }
    fclose(f);
    if (buf) {
        buf[size] = 0;
        if (len)
            *len = (size_t)size;
    }
    return buf;
}

char *dev_program_source(Err *err, int *rc)
{
    const char *dir = getenv("CLRUN_KERNEL_DIR");
    size_t n = sizeof cl_sources / sizeof cl_sources[0], total = 1, used = 0;
    char **texts = calloc(n, sizeof *texts);
    *rc = CLRUN_OK;
    for (size_t i = 0; i < n && !*rc; i++) {
        if (dir && *dir) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, cl_sources[i].name);
            if (!(texts[i] = read_file(path, NULL)))
                *rc = err_set(err, CLRUN_EINPUT, "%s: cannot read kernel source (CLRUN_KERNEL_DIR): %s",
                              path, strerror(errno));
        } else {
            texts[i] = strdup(cl_sources[i].source);
        }
        if (texts[i])
            total += strlen(texts[i]) + 64;
    }
    char *src = *rc ? NULL : malloc(total);
    for (size_t i = 0; i < n; i++) {
        if (src)
            used += (size_t)sprintf(src + used, "#line 1 \"%s\"\n%s\n", cl_sources[i].name, texts[i]);
        free(texts[i]);
    }
    free(texts);
    return src;
}

/* The cache entry of this device and source. */
static void cache_path(const Device *d, const char *src, char *out, size_t size)
{
    const char *key[] = {d->platform_name, d->name, d->driver, d->version, d->plan.options, NULL};
    kcache_path(key, src, "bin", out, size);
}

/* Saving the binary is an optimisation: a failure only costs the next start. */
static void cache_store(const Device *d, const char *path)
{
    size_t size = 0;
    if (clGetProgramInfo(d->program, CL_PROGRAM_BINARY_SIZES, sizeof size, &size, NULL) ||
        size == 0)
        return;
    unsigned char *bin = malloc(size);
    if (bin && clGetProgramInfo(d->program, CL_PROGRAM_BINARIES, sizeof bin, &bin, NULL) == 0)
        kcache_write(path, bin, size);
    free(bin);
}

static int cache_load(Device *d, const char *path)
{
    size_t size = 0;
    unsigned char *bin = kcache_read(path, &size);
    if (!bin)
        return 0;
    cl_int status, rc;
    const unsigned char *cbin = bin;
    d->program = clCreateProgramWithBinary(d->ctx, 1, &d->id, &size, &cbin, &status, &rc);
    free(bin);
    if (rc == CL_SUCCESS && status == CL_SUCCESS &&
        clBuildProgram(d->program, 1, &d->id, d->plan.options, NULL, NULL) == CL_SUCCESS)
        return 1;
    if (d->program)
        clReleaseProgram(d->program);
    d->program = NULL;
    return 0; /* a stale or foreign binary: build from source */
}

static int build_failure(Device *d, cl_int rc, Err *err)
{
    size_t len = 0;
    clGetProgramBuildInfo(d->program, d->id, CL_PROGRAM_BUILD_LOG, 0, NULL, &len);
    char *log = malloc(len + 1);
    if (log) {
        log[0] = 0;
        clGetProgramBuildInfo(d->program, d->id, CL_PROGRAM_BUILD_LOG, len, log, NULL);
        log[len] = 0;
    }
    err_set(err, CLRUN_ERUNTIME, "clBuildProgram(cl/*.cl on %s): %s: clrun's kernels do not "
            "build on this device; try another with --device (clrun devices lists them). Build "
            "log:\n%s", d->name, dev_error_name(rc), log ? log : "(none)");
    free(log);
    return CLRUN_ERUNTIME;
}

/* POCL keeps its own cache of built programs and of each kernel's compiled
 * work-group functions ($POCL_CACHE_DIR), while exporting a program's binary
 * makes it first compile a generic work-group function of every kernel, one
 * that no launch uses: 9 s of a 12 s cold start. Other drivers get clrun's
 * cache of exported binaries. */
static int driver_caches_builds(const Device *d)
{
    return strstr(d->platform_name, "Portable Computing Language") != NULL;
}

static int build_program(Device *d, Err *err)
{
    int rc;
    char *src = dev_program_source(err, &rc);
    if (!src)
        return rc ? rc : err_set(err, CLRUN_ERUNTIME, "out of memory");
    char path[4096] = "";
    d->program_origin = PROGRAM_DRIVER_CACHE;
    if (!driver_caches_builds(d)) {
        cache_path(d, src, path, sizeof path);
        d->program_origin = cache_load(d, path) ? PROGRAM_FROM_CACHE : PROGRAM_COMPILED;
    }
    if (d->program_origin == PROGRAM_FROM_CACHE) {
        free(src);
        return CLRUN_OK;
    }
    cl_int cle;
    const char *csrc = src;
    d->program = clCreateProgramWithSource(d->ctx, 1, &csrc, NULL, &cle);
    free(src);
    if ((rc = dev_check(cle, "clCreateProgramWithSource", "cl/*.cl", err)))
        return rc;
    cle = clBuildProgram(d->program, 1, &d->id, d->plan.options, NULL, NULL);
    if (cle != CL_SUCCESS)
        return build_failure(d, cle, err);
    if (d->program_origin == PROGRAM_COMPILED)
        cache_store(d, path);
    return CLRUN_OK;
}

const char *dev_program_origin(const Device *d)
{
    switch (d->program_origin) {
    case PROGRAM_FROM_CACHE: return "loaded from cache";
    case PROGRAM_DRIVER_CACHE: return "built";
    default: return "compiled";
    }
}

static void release_program(Device *d)
{
    for (int i = 0; i < d->n_kernels; i++)
        clReleaseKernel(d->kernels[i].kernel);
    d->n_kernels = 0;
    if (d->program)
        clReleaseProgram(d->program);
    d->program = NULL;
}

/* The smallest work-group limit of the plan's tiled kernels as built. */
static int tiled_limit(Device *d, size_t *most, Err *err)
{
    *most = SIZE_MAX;
    for (const char *const *name = plan_tiled_kernels(); *name; name++) {
        cl_kernel k;
        int rc = dev_kernel(d, *name, &k, err);
        if (rc)
            return rc;
        size_t limit = dev_limits(d, k)->max_group;
        *most = limit < *most ? limit : *most;
    }
    return CLRUN_OK;
}

int dev_build(Device *d, Err *err)
{
    release_program(d);
    for (;;) {
        size_t most;
        int rc = build_program(d, err);
        if (!rc)
            rc = tiled_limit(d, &most, err);
        if (rc || !plan_fit_tiles(&d->plan, most))
            return rc;
        release_program(d);
    }
}

/* Kernel k's limits on d (capped by $CLRUN_GROUP_LIMIT); one that needs more
 * local memory than the device has, or allows no work-item, is an error. */
static int kernel_limits(Device *d, cl_kernel k, const char *name, KernelLimits *out, Err *err)
{
    cl_ulong has = 0;
    int rc = dev_check(clGetKernelWorkGroupInfo(k, d->id, CL_KERNEL_WORK_GROUP_SIZE,
                                                sizeof out->max_group, &out->max_group, NULL),
                       "clGetKernelWorkGroupInfo", name, err);
    /* optional answers: a driver that gives none leaves the defaults */
    clGetKernelWorkGroupInfo(k, d->id, CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE,
                             sizeof out->multiple, &out->multiple, NULL);
    clGetKernelWorkGroupInfo(k, d->id, CL_KERNEL_LOCAL_MEM_SIZE, sizeof out->local_mem,
                             &out->local_mem, NULL);
    clGetDeviceInfo(d->id, CL_DEVICE_LOCAL_MEM_SIZE, sizeof has, &has, NULL);
    if (d->group_cap && out->max_group > d->group_cap)
        out->max_group = d->group_cap;
    if (out->multiple < 1)
        out->multiple = 1;
    if (!rc && out->max_group < 1)
        rc = err_set(err, CLRUN_ERUNTIME, "kernel %s cannot run on %s: it allows no work-item "
                     "in a group (CL_KERNEL_WORK_GROUP_SIZE 0)%s", name, d->name,
                     plan_hint(&d->plan));
    if (!rc && out->local_mem > has)
        rc = err_set(err, CLRUN_ERUNTIME, "kernel %s needs %llu bytes of local memory, %s has "
                     "%llu%s", name, (unsigned long long)out->local_mem, d->name,
                     (unsigned long long)has, plan_hint(&d->plan));
    return rc;
}

int dev_kernel(Device *d, const char *name, cl_kernel *out, Err *err)
{
    for (int i = 0; i < d->n_kernels; i++)
        if (strcmp(d->kernels[i].name, name) == 0) {
            *out = d->kernels[i].kernel;
            return CLRUN_OK;
        }
    if (d->n_kernels == DEV_MAX_KERNELS)
        return err_set(err, CLRUN_ERUNTIME, "too many kernels (raise DEV_MAX_KERNELS)");
    cl_int cle;
    cl_kernel k = clCreateKernel(d->program, name, &cle);
    KernelLimits limits = {0, 1, 0};
    int rc = dev_check(cle, "clCreateKernel", name, err);
    if (!rc)
        rc = kernel_limits(d, k, name, &limits, err);
    if (rc) {
        if (k)
            clReleaseKernel(k);
        return rc;
    }
    snprintf(d->kernels[d->n_kernels].name, sizeof d->kernels[0].name, "%s", name);
    d->kernels[d->n_kernels].limits = limits;
    d->kernels[d->n_kernels++].kernel = k;
    *out = k;
    return CLRUN_OK;
}

int dev_loop_limit(Device *d, long *limit, Err *err)
{
    if (d->loop_limit >= 0) {
        *limit = d->loop_limit;
        return CLRUN_OK;
    }
    cl_kernel k;
    cl_mem out = NULL;
    int n = DEV_LOOP_PROBE;
    float count = 0;
    size_t one[1] = {1};
    int rc = dev_kernel(d, "loop_probe", &k, err);
    if (!rc)
        rc = dev_alloc(d, sizeof count, "the loop limit probe", &out, err);
    if (!rc)
        rc = DEV_LAUNCH(d, k, 1, one, one, err, KA(n), KA(out));
    if (!rc)
        rc = dev_read(d, out, 0, sizeof count, &count, err);
    dev_release(&out);
    if (rc)
        return err_prefix(err, rc, "probing the loop limit of %s", d->name);
    d->loop_limit = count < (float)n ? (long)count : 0;
    *limit = d->loop_limit;
    return CLRUN_OK;
}

int dev_loop_limit_for(Device *d, long loops, long *limit, Err *err)
{
    *limit = 0;
    return loops > DEV_LOOPS_UNCHECKED ? dev_loop_limit(d, limit, err) : CLRUN_OK;
}

int dev_loops_fit(Device *d, long loops, int *fits, Err *err)
{
    long limit;
    int rc = dev_loop_limit_for(d, loops, &limit, err);
    *fits = !limit || loops <= limit;
    return rc;
}

/* The kernel table's index of k (every kernel comes from dev_kernel), or -1. */
static int kernel_index(const Device *d, cl_kernel k)
{
    for (int i = 0; i < d->n_kernels; i++)
        if (d->kernels[i].kernel == k)
            return i;
    return -1;
}

const KernelLimits *dev_limits(const Device *d, cl_kernel k)
{
    static const KernelLimits unknown = {1, 1, 0};
    int i = kernel_index(d, k);
    return i >= 0 ? &d->kernels[i].limits : &unknown;
}

size_t dev_group_size(const Device *d, cl_kernel k)
{
    return plan_group(&d->plan, dev_limits(d, k));
}

/* ---- launches and buffers ---- */

static void kernel_name(cl_kernel k, char *buf, size_t size)
{
    buf[0] = 0;
    clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, size, buf, NULL);
}

static void trace_launch(Device *d, const char *name, int dims, const size_t *glob,
                         const size_t *loc)
{
    size_t g[3] = {1, 1, 1}, l[3] = {1, 1, 1};
    for (int i = 0; i < dims; i++)
        g[i] = glob[i], l[i] = loc[i];
    fprintf(d->trace, "%s %zux%zux%zu %zux%zux%zu %s\n", name, g[0], g[1], g[2], l[0], l[1],
            l[2], d->profile.tag[0] ? d->profile.tag : "-");
}

int dev_launch(Device *d, cl_kernel k, int dims, const size_t *global, const size_t *local,
               int nargs, const KArg *args, Err *err)
{
    for (int i = 0; i < nargs; i++) {
        cl_int cle = clSetKernelArg(k, (cl_uint)i, args[i].size, args[i].value);
        if (cle != CL_SUCCESS) {
            char name[64], what[96];
            kernel_name(k, name, sizeof name);
            snprintf(what, sizeof what, "%s, argument %d", name, i);
            return dev_check(cle, "clSetKernelArg", what, err);
        }
    }
    int at = kernel_index(d, k);
    const char *name = at >= 0 ? d->kernels[at].name : "a kernel not from dev_kernel";
    size_t most = dev_limits(d, k)->max_group;
    size_t loc[3] = {dev_group_size(d, k), 1, 1}, glob[3], items = 1;
    for (int i = 0; i < dims; i++) {
        if (local)
            loc[i] = local[i];
        if (global[i] == 0)
            return CLRUN_OK; /* nothing to do: an empty launch is not an error */
        glob[i] = (global[i] + loc[i] - 1) / loc[i] * loc[i];
        items *= loc[i];
    }
    if (items > most)
        return err_set(err, CLRUN_ERUNTIME, "clEnqueueNDRangeKernel(%s): work-groups of %zu "
                       "work-items, but %s allows %zu for this kernel%s", name, items, d->name,
                       most, plan_hint(&d->plan));
    if (d->trace)
        trace_launch(d, name, dims, glob, loc);
    cl_event *ev = dev_profile_event(d, name);
    cl_int cle = clEnqueueNDRangeKernel(d->queue, k, (cl_uint)dims, NULL, glob, loc, 0, NULL, ev);
    if (cle == CL_SUCCESS)
        dev_profile_enqueued(d, ev);
    return dev_check(cle, "clEnqueueNDRangeKernel", name, err);
}

int dev_alloc(Device *d, size_t bytes, const char *what, cl_mem *out, Err *err)
{
    if (bytes == 0)
        bytes = 4;
    if (bytes > d->max_alloc)
        return err_set(err, CLRUN_ERUNTIME,
                       "%s needs %.1f MiB but %s allows at most %.1f MiB in one buffer: try a "
                       "smaller train.batch_size or another device with --device",
                       what, bytes / 1048576.0, d->name, d->max_alloc / 1048576.0);
    cl_int cle;
    *out = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, bytes, NULL, &cle);
    return dev_check(cle, "clCreateBuffer", what, err);
}

int dev_write(Device *d, cl_mem m, size_t offset, size_t bytes, const void *src, Err *err)
{
    return dev_check(clEnqueueWriteBuffer(d->queue, m, CL_TRUE, offset, bytes, src, 0, NULL, NULL),
                     "clEnqueueWriteBuffer", "host to device", err);
}

int dev_read(Device *d, cl_mem m, size_t offset, size_t bytes, void *dst, Err *err)
{
    return dev_check(clEnqueueReadBuffer(d->queue, m, CL_TRUE, offset, bytes, dst, 0, NULL, NULL),
                     "clEnqueueReadBuffer", "device to host", err);
}

int dev_read_later(Device *d, cl_mem m, size_t bytes, void *dst, Err *err)
{
    return dev_check(clEnqueueReadBuffer(d->queue, m, CL_FALSE, 0, bytes, dst, 0, NULL, NULL),
                     "clEnqueueReadBuffer", "device to host, queued", err);
}

/* Oclgrind 21.10's check of uninitialised values (tests/oclgrind-check)
 * starts its record of a buffer afresh at every write from the host, and
 * clEnqueueFillBuffer writes one pattern at a time, so all the zeros but the
 * last would read as uninitialised; on Oclgrind they go as one write. */
static int write_zeros(Device *d, cl_mem m, size_t bytes, Err *err)
{
    void *zeros = calloc(1, bytes);
    if (!zeros)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    int rc = dev_write(d, m, 0, bytes, zeros, err);
    free(zeros);
    return rc;
}

int dev_fill_zero(Device *d, cl_mem m, size_t bytes, Err *err)
{
    if (strcmp(d->platform_name, "Oclgrind") == 0)
        return write_zeros(d, m, bytes, err);
    float zero = 0;
    return dev_check(clEnqueueFillBuffer(d->queue, m, &zero, sizeof zero, 0, bytes, 0, NULL, NULL),
                     "clEnqueueFillBuffer", "zero", err);
}

int dev_map_read(Device *d, cl_mem m, size_t bytes, void **host, Err *err)
{
    cl_int cle;
    *host = clEnqueueMapBuffer(d->queue, m, CL_TRUE, CL_MAP_READ, 0, bytes, 0, NULL, NULL, &cle);
    return dev_check(cle, "clEnqueueMapBuffer", "device to host, mapped", err);
}

int dev_unmap(Device *d, cl_mem m, void *host, Err *err)
{
    return dev_check(clEnqueueUnmapMemObject(d->queue, m, host, 0, NULL, NULL),
                     "clEnqueueUnmapMemObject", "device to host, mapped", err);
}

int dev_copy(Device *d, cl_mem from, cl_mem to, size_t bytes, const char *what, Err *err)
{
    return dev_check(clEnqueueCopyBuffer(d->queue, from, to, 0, 0, bytes, 0, NULL, NULL),
                     "clEnqueueCopyBuffer", what, err);
}

int dev_finish(Device *d, Err *err)
{
    return dev_check(clFinish(d->queue), "clFinish", "queue", err);
}

void dev_release(cl_mem *m)
{
    if (*m)
        clReleaseMemObject(*m);
    *m = NULL;
}

void dev_close(Device *d)
{
    if (d->trace)
        fclose(d->trace);
    d->trace = NULL;
    dev_profile_free(d);
    release_program(d);
    if (d->queue)
        clReleaseCommandQueue(d->queue);
    if (d->ctx)
        clReleaseContext(d->ctx);
    d->queue = NULL;
    d->ctx = NULL;
}
