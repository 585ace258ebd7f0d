/* calibrate.c: the kernel plan of a device by measurement (see calibrate.h). */
#include "calibrate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "graph.h"
#include "kcache.h"
#include "spec.h"

/* The calibration model: a dense layer of 384 inputs to 64 units, a batch
 * of 16: 0.79 MFLOP a forward, small enough for the slowest device measured
 * (rusticl's llvmpipe, 0.01 GFLOP/s) to take under 100 milliseconds. Only
 * the product each plan is built around is timed, because the cost of
 * calibrating is in compiling what it launches (POCL compiles a kernel's
 * work-group function at its first launch, 0.1-1 s each): a convolution
 * beside it tripled that, and chose the same plan on POCL and rusticl. Its
 * k is short enough that neither plan splits it (layers/gemm.c), which would
 * build the sum of the splits as well: 1,152 inputs did, and took 1.41-1.61 s
 * where 384 take 1.03-1.36 s, with the same choices (POCL cpu by 6-10x,
 * rusticl gpu by 3-4x). Each plan runs forwards until CAL_SECONDS have
 * passed, after one that compiles. */
enum { CAL_INPUTS = 384, CAL_UNITS = 64, CAL_BATCH = 16 };
#define CAL_SECONDS 0.05

static double calibration_flops(void)
{
    return 2.0 * CAL_BATCH * CAL_INPUTS * CAL_UNITS;
}

static SpecNode *calibration_model(Err *err)
{
    char yaml[256];
    snprintf(yaml, sizeof yaml, "name: calibration\ninput: [%d]\nlayers:\n"
             "  - {name: dense, type: dense, units: %d}\n", CAL_INPUTS, CAL_UNITS);
    return spec_load_text("(calibration model)", yaml, err);
}

/* Seconds a forward of the calibration model takes under plan gpu: as many
 * as fit in CAL_SECONDS, after one that compiles (POCL builds a kernel's
 * work-group function at its first launch). The program holds both plans'
 * kernels; d keeps its own plan. */
static int time_plan(Device *d, int gpu, double *each, Err *err)
{
    Plan kept = d->plan;
    Graph g;
    memset(&g, 0, sizeof g);
    SpecNode *model = calibration_model(err);
    int rc = model ? dev_set_plan(d, gpu, kept.tile_group, err) : CLRUN_ERUNTIME;
    if (!rc) rc = graph_build(&g, model, err);
    if (!rc) rc = graph_setup(&g, d, CAL_BATCH, 1, err);
    if (!rc) rc = dev_fill_zero(d, g.nodes[0].out, (size_t)CAL_BATCH * CAL_INPUTS * sizeof(float),
                                err);
    if (!rc) rc = graph_forward(&g, err);
    if (!rc) rc = dev_finish(d, err);
    double start = clock_seconds(), took = 0;
    int reps = 0;
    while (!rc && took < CAL_SECONDS) {
        rc = graph_forward(&g, err);
        if (!rc) rc = dev_finish(d, err);
        reps++;
        took = clock_seconds() - start;
    }
    *each = took / (reps ? reps : 1);
    graph_free(&g);
    spec_free(model);
    d->plan = kept;
    return rc ? err_prefix(err, rc, "calibrating the %s plan on %s", gpu ? "gpu" : "cpu",
                           d->name) : CLRUN_OK;
}

static int measure(Device *d, Calibration *c, Err *err)
{
    double start = clock_seconds();
    for (int gpu = 0; gpu < 2; gpu++) {
        double each;
        int rc = time_plan(d, gpu, &each, err);
        if (rc)
            return rc;
        c->gflops[gpu] = calibration_flops() / each * 1e-9;
    }
    c->gpu = c->gflops[1] > c->gflops[0];
    c->tile_group = d->plan.tile_group;
    c->seconds = clock_seconds() - start;
    return CLRUN_OK;
}

/* The cache entry of d's calibration: keyed by device, driver and kernel
 * source, as the program binaries are, but not by plan. */
static int entry_path(const Device *d, char *out, size_t size, Err *err)
{
    int rc;
    char *src = dev_program_source(err, &rc);
    if (!src)
        return rc ? rc : err_set(err, CLRUN_ERUNTIME, "out of memory");
    const char *key[] = {d->platform_name, d->name, d->driver, d->version, NULL};
    kcache_path(key, src, "plan", out, size);
    free(src);
    return CLRUN_OK;
}

static int read_entry(const char *path, Calibration *c)
{
    size_t size = 0;
    unsigned char *bytes = kcache_read(path, &size);
    char text[256] = "", plan[8] = "";
    if (bytes)
        memcpy(text, bytes, size < sizeof text - 1 ? size : sizeof text - 1);
    free(bytes);
    int ok = sscanf(text, "plan %7s cpu_gflops %lf gpu_gflops %lf seconds %lf tile_group %d",
                    plan, &c->gflops[0], &c->gflops[1], &c->seconds, &c->tile_group) == 5 &&
             (strcmp(plan, "cpu") == 0 || strcmp(plan, "gpu") == 0) && c->tile_group >= 1;
    c->gpu = strcmp(plan, "gpu") == 0;
    return ok;
}

static void write_entry(const char *path, const Calibration *c)
{
    char text[256];
    int n = snprintf(text, sizeof text, "plan %s cpu_gflops %.6g gpu_gflops %.6g seconds %.3f "
                     "tile_group %d\n", c->gpu ? "gpu" : "cpu", c->gflops[0], c->gflops[1],
                     c->seconds, c->tile_group);
    kcache_write(path, (const unsigned char *)text, (size_t)n);
}

int calib_get(Device *d, Calibration *c, int *found, Err *err)
{
    char path[4096];
    int rc = entry_path(d, path, sizeof path, err);
    if (rc)
        return rc;
    *found = read_entry(path, c);
    if (*found)
        return CLRUN_OK;
    if (!d->program && (rc = dev_build(d, err)))
        return rc;
    if (!(rc = measure(d, c, err)))
        write_entry(path, c);
    return rc;
}

static int plan_forced(void)
{
    const char *forced = getenv("CLRUN_KERNELS");
    return forced && *forced;
}

/* d opened, then built under its measured plan (or the forced one). */
static int build_calibrated(Device *d, Calibration *c, int *measured, Err *err)
{
    *measured = 0;
    if (plan_forced())
        return dev_build(d, err);
    int found, rc = calib_get(d, c, &found, err);
    *measured = !found;
    if (rc || (d->program && c->gpu == d->plan.gpu))
        return rc; /* measured in a build for the faster plan: it stays */
    rc = dev_set_plan(d, c->gpu, c->tile_group, err);
    return rc ? rc : dev_build(d, err);
}

static void say_calibrated(const Device *d, const Calibration *c)
{
    printf("Calibrated the kernel plans on %s (%s) in %.2fs: cpu plan %.3g GFLOP/s, gpu plan "
           "%.3g GFLOP/s; the %s plan from now on (--kernels overrides)\n", d->name,
           d->platform_name, c->seconds, c->gflops[0], c->gflops[1], c->gpu ? "gpu" : "cpu");
}

/* The index of the first GPU among specs, or -1. */
static int first_gpu(char (*specs)[DEV_SPEC_MAX], int n, Err *err, int *rc)
{
    for (int i = 0; i < n; i++) {
        Device d;
        if ((*rc = dev_open(&d, specs[i], err)))
            return -1;
        int gpu = (d.type & CL_DEVICE_TYPE_GPU) != 0;
        dev_close(&d);
        if (gpu)
            return i;
    }
    return -1;
}

/* The default device: the first GPU, else the fastest device by
 * calibration (the only one without asking). */
static int default_device(char *spec, Err *err)
{
    char specs[32][DEV_SPEC_MAX];
    int n = 0, rc = dev_all(specs, 32, &n, err);
    int best = rc ? -1 : first_gpu(specs, n, err, &rc);
    double fastest = -1;
    for (int i = 0; best < 0 && n > 1 && i < n && !rc; i++) {
        Device d;
        Calibration c;
        int found;
        if ((rc = dev_open(&d, specs[i], err)))
            break;
        if (!(rc = calib_get(&d, &c, &found, err)) && !found)
            say_calibrated(&d, &c);
        if (!rc && c.gflops[c.gpu] > fastest) {
            fastest = c.gflops[c.gpu];
            memcpy(spec, specs[i], DEV_SPEC_MAX);
        }
        dev_close(&d);
    }
    if (!rc && (best >= 0 || n == 1))
        memcpy(spec, specs[best >= 0 ? best : 0], DEV_SPEC_MAX);
    return rc;
}

int calib_open(Device *d, const char *spec, int profile, Err *err)
{
    char chosen[DEV_SPEC_MAX];
    int rc = CLRUN_OK, measured = 0;
    if (!spec || !*spec)
        spec = getenv("CLRUN_DEVICE");
    if (!spec || !*spec) {
        if ((rc = default_device(chosen, err)))
            return rc;
        spec = chosen;
    }
    Calibration c;
    if (!(rc = dev_open_profiled(d, spec, profile, err)))
        rc = build_calibrated(d, &c, &measured, err);
    if (!rc && measured)
        say_calibrated(d, &c);
    return rc;
}

int calib_list(FILE *out, Err *err)
{
    char specs[32][DEV_SPEC_MAX];
    int n = 0, rc = dev_all(specs, 32, &n, err);
    for (int i = 0; i < n && !rc; i++) {
        Device d;
        Calibration c = {0, {NAN, NAN}, 0, 0};
        int found = 1;
        char tiles[64];
        rc = dev_open(&d, specs[i], err);
        if (!rc && !(rc = calib_get(&d, &c, &found, err)) && !found)
            say_calibrated(&d, &c);
        if (!rc) /* the forced plan, or the measured one, with the fitted tiles */
            rc = dev_set_plan(&d, plan_forced() ? d.plan.gpu : c.gpu, c.tile_group, err);
        if (!rc) {
            plan_tiles_text(&d.plan, tiles, sizeof tiles);
            fprintf(out, "%s  %s  %s  (%s, driver %s, kernels %s, cpu %.3g GFLOP/s, gpu %.3g "
                    "GFLOP/s, tiles %s)\n", specs[i], dev_type_name(d.type), d.name,
                    d.platform_name, d.driver, plan_name(&d.plan), c.gflops[0], c.gflops[1],
                    tiles);
        }
        dev_close(&d);
    }
    return rc;
}
