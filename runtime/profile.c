/* profile.c: `clrun run --profile`: the time of every launch by kernel and
 * by layer and pass (see device.h's DevProfile). The driver's event
 * timestamps are used where they pass a check: a probe at dev_open times a
 * fill both by its event and on the host, and every later query must
 * answer and run forwards. Where they fail (rusticl 22.3 gives every command
 * start 2 and end 3), each launch is timed on the host instead, from its
 * enqueue to the end of a clFinish, and that is said once. */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "device.h"

/* Room for one more pending event and its tag; NULL when memory ran out (that
 * launch goes unprofiled). */
static cl_event *profile_slot(DevProfile *p, const char *kernel)
{
    if (p->n_pending == p->cap_pending) {
        int cap = p->cap_pending ? 2 * p->cap_pending : 1024;
        cl_event *ev = realloc(p->pending, (size_t)cap * sizeof *ev);
        if (ev)
            p->pending = ev;
        DevProfileRow *what = realloc(p->pending_what, (size_t)cap * sizeof *what);
        if (what)
            p->pending_what = what;
        if (!ev || !what)
            return NULL;
        p->cap_pending = cap;
    }
    DevProfileRow *what = &p->pending_what[p->n_pending];
    snprintf(what->kernel, sizeof what->kernel, "%s", kernel);
    memcpy(what->tag, p->tag, sizeof p->tag);
    return &p->pending[p->n_pending];
}

static void profile_add(DevProfile *p, const char *kernel, const char *tag, double seconds)
{
    int i = 0;
    while (i < p->n_rows && (strcmp(p->rows[i].kernel, kernel) || strcmp(p->rows[i].tag, tag)))
        i++;
    if (i == p->n_rows) {
        DevProfileRow *rows = realloc(p->rows, (size_t)(p->n_rows + 1) * sizeof *rows);
        if (!rows)
            return;
        p->rows = rows;
        memset(&rows[i], 0, sizeof rows[i]);
        snprintf(rows[i].kernel, sizeof rows[i].kernel, "%s", kernel);
        snprintf(rows[i].tag, sizeof rows[i].tag, "%s", tag);
        p->n_rows++;
    }
    p->rows[i].seconds += seconds;
    p->rows[i].launches++;
}

/* Host timing from here on, said once with the reason. */
static void profile_on_host(Device *d, const char *why)
{
    if (d->profile.host_timing)
        return;
    d->profile.host_timing = 1;
    fprintf(stderr, "clrun: %s (%s) gives no usable kernel timings (%s): --profile times each "
            "launch on the host instead, from its enqueue to the end of a clFinish\n", d->name,
            d->platform_name, why);
}

cl_event *dev_profile_event(Device *d, const char *name)
{
    DevProfile *p = &d->profile;
    if (!p->enabled)
        return NULL;
    if (!p->host_timing)
        return profile_slot(p, name);
    snprintf(p->host_kernel, sizeof p->host_kernel, "%s", name);
    p->host_start = clock_seconds();
    return NULL;
}

void dev_profile_enqueued(Device *d, cl_event *ev)
{
    DevProfile *p = &d->profile;
    if (ev) {
        p->n_pending++;
    } else if (p->enabled && p->host_timing) {
        clFinish(d->queue);
        profile_add(p, p->host_kernel, p->tag, clock_seconds() - p->host_start);
    }
}

/* An event's start and end in seconds, when the driver answers both. */
static int event_times(cl_event ev, double *start, double *end)
{
    cl_ulong s = 0, e = 0;
    if (clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof s, &s, NULL) ||
        clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof e, &e, NULL) || e < s)
        return 0;
    *start = 1e-9 * (double)s, *end = 1e-9 * (double)e;
    return 1;
}

void dev_profile_probe(Device *d)
{
    size_t bytes = 4u << 20;
    float zero = 0;
    cl_event ev = NULL;
    cl_mem m = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, bytes, NULL, NULL);
    double t0 = clock_seconds(), start = 0, end = 0;
    if (!m || clEnqueueFillBuffer(d->queue, m, &zero, sizeof zero, 0, bytes, 0, NULL, &ev) ||
        clWaitForEvents(1, &ev)) {
        profile_on_host(d, "the probe's fill failed");
    } else {
        double host = clock_seconds() - t0;
        if (!event_times(ev, &start, &end))
            profile_on_host(d, "clGetEventProfilingInfo failed or ran backwards");
        else if (end - start < host / 1000) {
            char why[128];
            snprintf(why, sizeof why, "a fill of 4 MiB took %.3g s by its timestamps, %.3g s "
                     "on the host", end - start, host);
            profile_on_host(d, why);
        }
    }
    if (ev)
        clReleaseEvent(ev);
    if (m)
        clReleaseMemObject(m);
}

void dev_profile_tag(Device *d, const char *fmt, const char *name)
{
    if (d->profile.enabled || d->trace)
        snprintf(d->profile.tag, sizeof d->profile.tag, fmt, name);
}

void dev_profile_collect(Device *d)
{
    DevProfile *p = &d->profile;
    if (p->n_pending == 0)
        return;
    int done = 0;
    for (; done < p->n_pending; done++) {
        cl_event ev = p->pending[done];
        cl_int status = CL_QUEUED;
        clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof status, &status, NULL);
        if (status > CL_COMPLETE)
            break; /* in-order queue: everything after it is unfinished too */
        double start = 0, end = 0;
        if (!event_times(ev, &start, &end))
            profile_on_host(d, "clGetEventProfilingInfo failed or ran backwards");
        profile_add(p, p->pending_what[done].kernel, p->pending_what[done].tag, end - start);
        clReleaseEvent(ev);
    }
    memmove(p->pending, p->pending + done, (size_t)(p->n_pending - done) * sizeof *p->pending);
    memmove(p->pending_what, p->pending_what + done,
            (size_t)(p->n_pending - done) * sizeof *p->pending_what);
    p->n_pending -= done;
}

static int by_time(const void *a, const void *b)
{
    double x = ((const DevProfileRow *)a)->seconds, y = ((const DevProfileRow *)b)->seconds;
    return (x < y) - (x > y);
}

/* Sums rows that share a kernel (by_kernel) or a tag into out, largest first. */
static int profile_group(const DevProfile *p, int by_kernel, DevProfileRow *out)
{
    int n = 0;
    for (int i = 0; i < p->n_rows; i++) {
        const char *key = by_kernel ? p->rows[i].kernel : p->rows[i].tag;
        int j = 0;
        while (j < n && strcmp(by_kernel ? out[j].kernel : out[j].tag, key))
            j++;
        if (j == n) {
            memset(&out[n], 0, sizeof out[n]);
            if (by_kernel)
                snprintf(out[n].kernel, sizeof out[n].kernel, "%s", key);
            else
                snprintf(out[n].tag, sizeof out[n].tag, "%s", key);
            n++;
        }
        out[j].seconds += p->rows[i].seconds;
        out[j].launches += p->rows[i].launches;
    }
    qsort(out, (size_t)n, sizeof *out, by_time);
    return n;
}

void dev_profile_report(Device *d, double wall_seconds, FILE *out)
{
    DevProfile *p = &d->profile;
    dev_profile_collect(d);
    DevProfileRow *group = malloc((size_t)(p->n_rows + 1) * sizeof *group);
    if (!group)
        return;
    double total = 0;
    for (int i = 0; i < p->n_rows; i++)
        total += p->rows[i].seconds;
    for (int by_kernel = 1; by_kernel >= 0; by_kernel--) {
        int n = profile_group(p, by_kernel, group);
        fprintf(out, "\n%-32s %10s %9s %7s\n", by_kernel ? "Kernel" : "Layer and pass", "seconds",
                "launches", "share");
        for (int i = 0; i < n; i++)
            fprintf(out, "%-32s %10.3f %9ld %6.1f%%\n", by_kernel ? group[i].kernel : group[i].tag,
                    group[i].seconds, group[i].launches,
                    total > 0 ? 100 * group[i].seconds / total : 0);
    }
    /* each kernel of each layer and pass: where a layer's time goes */
    memcpy(group, p->rows, (size_t)p->n_rows * sizeof *group);
    qsort(group, (size_t)p->n_rows, sizeof *group, by_time);
    fprintf(out, "\n%-48s %10s %9s %7s\n", "Layer and pass: kernel", "seconds", "launches",
            "share");
    for (int i = 0; i < p->n_rows; i++) {
        char what[sizeof group[i].tag + sizeof group[i].kernel + 2];
        snprintf(what, sizeof what, "%s: %s", group[i].tag, group[i].kernel);
        fprintf(out, "%-48s %10.3f %9ld %6.1f%%\n", what, group[i].seconds, group[i].launches,
                total > 0 ? 100 * group[i].seconds / total : 0);
    }
    fprintf(out, "\nIn kernels: %.3f s of %.3f s wall time (%.1f%% outside kernels)\n", total,
            wall_seconds, wall_seconds > 0 ? 100 * (1 - total / wall_seconds) : 0);
    free(group);
}

void dev_profile_free(Device *d)
{
    DevProfile *p = &d->profile;
    for (int i = 0; i < p->n_pending; i++)
        clReleaseEvent(p->pending[i]);
    free(p->pending);
    free(p->pending_what);
    free(p->rows);
    memset(p, 0, sizeof *p);
}
