/* calibrate.h: a device's kernel plan chosen by measurement rather than by
 * its type. rusticl is a CPU by type, but its compiler vectorises across
 * work-items like a GPU's, and there the gpu plan is the faster one; POCL
 * is fastest under the cpu plan.
 *
 * At the first use of a device and driver (and kernel source), a small
 * convolution and dense product of the seed models' kinds run forward under
 * both plans (every build of the program holds both plans' product
 * kernels), timed on the host; the faster plan is kept in a cache entry
 * beside the kernel binaries (kcache.h, "<key>.plan"), so later runs only
 * read it. --kernels (CLRUN_KERNELS) still forces a plan. */
#ifndef CLRUN_CALIBRATE_H
#define CLRUN_CALIBRATE_H

#include <stdio.h>

#include "device.h"

typedef struct {
    int gpu;            /* the faster plan: 0 cpu, 1 gpu */
    double gflops[2];   /* each plan's forward, GFLOP/s (cpu, gpu) */
    double seconds;     /* what measuring took, compiles included */
    int tile_group;     /* the tiles fitted to its tiled kernels (plan.h) */
} Calibration;

/* Opens and builds the device named by spec (NULL: $CLRUN_DEVICE, else the
 * first GPU, else the fastest device by calibration) under its measured
 * plan, calibrating it first where no cache entry has it (said on stdout);
 * as dev_open_profiled + dev_build otherwise. */
int calib_open(Device *d, const char *spec, int profile, Err *err);

/* d's calibration: the cache entry's, or measured now and stored (with d's
 * program built for any plan). found says which. */
int calib_get(Device *d, Calibration *c, int *found, Err *err);

/* `clrun devices`: "P:D  TYPE  NAME  (PLATFORM, driver DRIVER, kernels PLAN,
 * cpu N GFLOP/s, gpu M GFLOP/s, tiles T)" for every device, each calibrated
 * where it was not yet. */
int calib_list(FILE *out, Err *err);

#endif
