/* sweep_run.c: running a sweep's points (see sweep_run.h).
 *
 * The parent writes the indices of the unfinished points into a pipe; each
 * worker reads one at a time (4-byte reads are atomic on a pipe), so fast
 * workers take more points. Workers die with the parent (PR_SET_PDEATHSIG):
 * killing a sweep stops it all, and running it again finishes what is left. */
#include "sweep_run.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "experiment.h"
#include "merge.h"
#include "rundir.h"

#define SWEEP_MAX_DEVICES 64

static int finished(const char *root, long i)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%ld/SUCCESS", root, i);
    return access(path, F_OK) == 0;
}

int sweep_run_point(const Sweep *s, long i, const char *root, const RunOptions *o, Err *err)
{
    if (sweep_check_index(s, i, err))
        return CLRUN_EINPUT;
    char dir[PATH_MAX], what[1024];
    snprintf(dir, sizeof dir, "%s/%ld", root, i);
    sweep_describe(s, i, what, sizeof what);
    if (finished(root, i)) {
        printf("Point %ld (%s): finished already (%s/SUCCESS)\n", i, what, dir);
        return CLRUN_OK;
    }
    printf("Point %ld of %ld: %s\n", i, s->count, what);
    char **overrides = NULL;
    int n = 0;
    Experiment e;
    int rc = sweep_overrides(s, i, &overrides, &n, err);
    if (!rc) {
        rc = experiment_load(&e, s->path, overrides, n, err);
        RunOptions po = *o;
        po.out_dir = dir;
        if (!rc) rc = train_run(&e, &po, err);
        experiment_free(&e);
    }
    for (int k = s->n_base; overrides && k < n; k++)
        free(overrides[k]);
    free(overrides);
    return rc;
}

/* ---- workers ---- */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Point i with its output in root/<i>/output.log; a line on the real stdout. */
static int worker_point(const Sweep *s, long i, const char *root, Device *dev, int saved_stdout)
{
    char dir[PATH_MAX], log[PATH_MAX + 16], what[1024];
    Err err = {""};
    snprintf(dir, sizeof dir, "%s/%ld", root, i);
    snprintf(log, sizeof log, "%s/output.log", dir);
    sweep_describe(s, i, what, sizeof what);
    double started = now();
    int rc = rundir_make(dir, &err), fd = rc ? -1 : open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        fflush(stdout);
        dup2(fd, STDOUT_FILENO);
        close(fd);
        RunOptions o = {.dev = dev};
        rc = sweep_run_point(s, i, root, &o, &err);
        if (rc)
            printf("clrun: %s\n", err.msg);
        fflush(stdout);
        dup2(saved_stdout, STDOUT_FILENO);
    } else if (!rc) {
        rc = err_set(&err, CLRUN_ERUNTIME, "%s: cannot write", log);
    }
    PointResult r;
    merge_read_point(dir, &r);
    if (rc)
        printf("Point %ld failed (%s): %s (log: %s)\n", i, what, err.msg, log);
    else
        printf("Point %ld done in %.1f s on %s: %s: test accuracy %.4f\n", i, now() - started,
               dev->name, what, r.final_test_accuracy);
    fflush(stdout);
    return rc;
}

static void worker(const Sweep *s, const char *root, const char *device, int queue)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
        _exit(1); /* the parent is gone already */
    Device dev;
    Err err = {""};
    memset(&dev, 0, sizeof dev);
    int rc = dev_open(&dev, device, &err);
    if (!rc) rc = dev_build(&dev, &err);
    if (rc) {
        printf("Worker on device %s: %s\n", device ? device : "(default)", err.msg);
        fflush(stdout);
        _exit(1);
    }
    int saved_stdout = dup(STDOUT_FILENO), failed = 0;
    int32_t i;
    while (read(queue, &i, sizeof i) == (ssize_t)sizeof i)
        failed |= worker_point(s, i, root, &dev, saved_stdout) != CLRUN_OK;
    dev_close(&dev);
    fflush(stdout);
    _exit(failed);
}

/* --device as specs: one, a comma-separated list, all of them, or the default (NULL). */
static int device_specs(const char *devices, char (*specs)[DEV_SPEC_MAX], int *n, Err *err)
{
    if (devices && strcmp(devices, "all") == 0)
        return dev_all(specs, SWEEP_MAX_DEVICES, n, err);
    *n = 0;
    for (const char *d = devices; d && *n < SWEEP_MAX_DEVICES;
         d = strchr(d, ',') ? strchr(d, ',') + 1 : NULL) {
        int len = (int)strcspn(d, ",");
        if (len == 0 || len >= DEV_SPEC_MAX)
            return err_set(err, CLRUN_EINPUT, "--device: '%s' is not a device list (0:0,0:1 or "
                           "all)", devices);
        snprintf(specs[(*n)++], DEV_SPEC_MAX, "%.*s", len, d);
    }
    return CLRUN_OK;
}

int sweep_run_all(const Sweep *s, const char *root, int jobs, const char *devices, Err *err)
{
    char specs[SWEEP_MAX_DEVICES][DEV_SPEC_MAX];
    int n_devices = 0, fds[2];
    int rc = device_specs(devices, specs, &n_devices, err);
    long pending = 0;
    for (long i = 0; i < s->count; i++)
        pending += !finished(root, i);
    if (rc)
        return rc;
    printf("Sweep %s: %ld points, %ld to run, %d worker%s, results in %s\n", s->name, s->count,
           pending, jobs, jobs == 1 ? "" : "s", root);
    fflush(stdout);
    if (pending && pipe(fds) != 0)
        return err_set(err, CLRUN_ERUNTIME, "pipe: %s", strerror(errno));
    pid_t pids[256];
    int n_workers = 0;
    for (int w = 0; pending && w < jobs && w < 256; w++) {
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[1]);
            worker(s, root, n_devices ? specs[w % n_devices] : NULL, fds[0]);
        }
        if (pid > 0)
            pids[n_workers++] = pid;
    }
    if (pending) {
        signal(SIGPIPE, SIG_IGN); /* workers that all died: a failed write, not our death */
        close(fds[0]);
        for (int32_t i = 0; i < s->count; i++)
            if (!finished(root, i) && write(fds[1], &i, sizeof i) != (ssize_t)sizeof i)
                break; /* every worker died: reported below */
        close(fds[1]);
    }
    int failed = pending && n_workers == 0;
    for (int w = 0; w < n_workers; w++) {
        int status = 0;
        waitpid(pids[w], &status, 0);
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    rc = merge_sweep(root, NULL, err);
    if (!rc && failed)
        rc = err_set(err, CLRUN_ERUNTIME, "sweep %s: some points failed (see the lines above and "
                     "each point's output.log); run the same command again to retry them", s->name);
    return rc;
}
