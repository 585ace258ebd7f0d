/* clock.h: seconds on the monotonic clock, for durations (epochs, sweep
 * points, host-timed launches, the calibration), which a change of the
 * wall-clock time must not bend; and CPU seconds, for benchmarks on a
 * shared machine. */
#ifndef CLRUN_CLOCK_H
#define CLRUN_CLOCK_H

#include <time.h>

/* Seconds on clock id: CLOCK_MONOTONIC, or a process's or thread's CPU time. */
static inline double clock_seconds_on(clockid_t id)
{
    struct timespec t;
    clock_gettime(id, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline double clock_seconds(void)
{
    return clock_seconds_on(CLOCK_MONOTONIC);
}

#endif
