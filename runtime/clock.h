/* clock.h: seconds on the monotonic clock, for durations (epochs, sweep
 * points, host-timed launches, the calibration), which a change of the
 * wall-clock time must not bend. */
#ifndef CLRUN_CLOCK_H
#define CLRUN_CLOCK_H

#include <time.h>

static inline double clock_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#endif
