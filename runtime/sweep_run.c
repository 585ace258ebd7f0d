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
#include <unistd.h>

#include "calibrate.h"
#include "clock.h"
#include "experiment.h"
#include "merge.h"
#include "rundir.h"

#define SWEEP_MAX_DEVICES 64

/* How a point's directory stands against the grid. */
typedef enum { POINT_NEW, POINT_DONE, POINT_OTHER } PointState;

/* Point i's experiment: the file with the base overrides and the point's values. */
static int point_experiment(const Sweep *s, long i, Experiment *e, Err *err)
{
    char **overrides = NULL;
    int n = 0;
    int rc = sweep_overrides(s, i, &overrides, &n, err);
    if (!rc)
        rc = experiment_load(e, s->path, overrides, n, err);
    for (int k = s->n_base; overrides && k < n; k++)
        free(overrides[k]);
    free(overrides);
    return rc;
}

/* A point is done only when its SUCCESS records the settings the grid gives
 * it now: a sweep edited and run again into the same root must not take an
 * old run for the new point (nor label it with the new values). */
static int point_state(const Sweep *s, long i, const char *root, PointState *state, RunMark *mark,
                       Err *err)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/%ld", root, i);
    *state = POINT_NEW;
    if (!rundir_finished(dir, mark))
        return CLRUN_OK;
    Experiment e;
    int rc = point_experiment(s, i, &e, err);
    if (!rc)
        *state = mark->settings == e.settings ? POINT_DONE : POINT_OTHER;
    experiment_free(&e);
    return rc;
}

int sweep_prepare(const Sweep *s, const char *root, long index, int overwrite, Err *err)
{
    int rc = CLRUN_OK;
    for (long i = index < 0 ? 0 : index; !rc && i < (index < 0 ? s->count : index + 1); i++) {
        PointState state;
        RunMark mark;
        char now[1024];
        rc = point_state(s, i, root, &state, &mark, err);
        sweep_describe(s, i, now, sizeof now);
        if (!rc && state == POINT_OTHER && !overwrite)
            rc = err_set(err, CLRUN_EINPUT, "%s/%ld holds a finished run of other settings (%s), "
                         "not point %ld of this grid (%s); it is left as it is: give another "
                         "--out, or --overwrite to train the point again", root, i,
                         mark.point[0] ? mark.point : "settings not recorded", i, now);
    }
    return rc ? rc : sweep_write_grid(s, root, err);
}

int sweep_run_point(const Sweep *s, long i, const char *root, const RunOptions *o, Err *err)
{
    if (sweep_check_index(s, i, err))
        return CLRUN_EINPUT;
    char dir[PATH_MAX], what[1024];
    snprintf(dir, sizeof dir, "%s/%ld", root, i);
    sweep_describe(s, i, what, sizeof what);
    PointState state;
    RunMark mark;
    int rc = point_state(s, i, root, &state, &mark, err);
    if (!rc && state == POINT_DONE) {
        printf("Point %ld (%s): finished already (%s/SUCCESS)\n", i, what, dir);
        return CLRUN_OK;
    }
    if (!rc && state == POINT_OTHER && !o->overwrite)
        return err_set(err, CLRUN_EINPUT, "%s holds a finished run of other settings (%s): give "
                       "--overwrite to train point %ld again", dir, mark.point, i);
    printf("Point %ld of %ld: %s\n", i, s->count, what);
    Experiment e;
    if (!rc) {
        rc = point_experiment(s, i, &e, err);
        RunOptions po = *o;
        po.out_dir = dir;
        po.point = what;
        if (!rc) rc = train_run(&e, &po, err);
        experiment_free(&e);
    }
    return rc;
}

/* ---- workers ---- */

/* Point i with its output in root/<i>/output.log; a line on the real stdout. */
static int worker_point(const Sweep *s, long i, const char *root, Device *dev, int overwrite,
                        int saved_stdout)
{
    char dir[PATH_MAX], log[PATH_MAX + 16], what[1024];
    Err err = {""};
    snprintf(dir, sizeof dir, "%s/%ld", root, i);
    snprintf(log, sizeof log, "%s/output.log", dir);
    sweep_describe(s, i, what, sizeof what);
    double started = clock_seconds();
    int rc = rundir_make(dir, &err), fd = rc ? -1 : open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd >= 0) {
        fflush(stdout);
        dup2(fd, STDOUT_FILENO);
        close(fd);
        RunOptions o = {.dev = dev, .overwrite = overwrite};
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
        printf("Point %ld done in %.1f s on %s: %s: test accuracy %.4f\n", i, clock_seconds() - started,
               dev->name, what, r.final_test_accuracy);
    fflush(stdout);
    return rc;
}

static void worker(const Sweep *s, const char *root, const char *device, int overwrite, int queue)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
        _exit(1); /* the parent is gone already */
    Device dev;
    Err err = {""};
    memset(&dev, 0, sizeof dev);
    int rc = calib_open(&dev, device, 0, &err);
    if (rc) {
        printf("Worker on device %s: %s\n", device ? device : "(default)", err.msg);
        fflush(stdout);
        _exit(1);
    }
    int saved_stdout = dup(STDOUT_FILENO), failed = 0;
    int32_t i;
    while (read(queue, &i, sizeof i) == (ssize_t)sizeof i)
        failed |= worker_point(s, i, root, &dev, overwrite, saved_stdout) != CLRUN_OK;
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

/* Marks the points left to run in todo; returns how many. */
static long points_to_run(const Sweep *s, const char *root, char *todo, Err *err)
{
    long pending = 0;
    for (long i = 0; i < s->count; i++) {
        PointState state;
        RunMark mark;
        if (point_state(s, i, root, &state, &mark, err))
            return -1;
        todo[i] = state != POINT_DONE;
        pending += todo[i];
    }
    return pending;
}

int sweep_run_all(const Sweep *s, const char *root, int jobs, const char *devices, int overwrite,
                  Err *err)
{
    char specs[SWEEP_MAX_DEVICES][DEV_SPEC_MAX];
    int n_devices = 0, fds[2];
    int rc = device_specs(devices, specs, &n_devices, err);
    char *todo = rc ? NULL : malloc((size_t)s->count);
    if (!rc && !todo)
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory");
    long pending = rc ? -1 : points_to_run(s, root, todo, err);
    if (pending < 0) {
        free(todo);
        return rc ? rc : CLRUN_EINPUT;
    }
    if (jobs > pending) /* a worker without a point would only open a device */
        jobs = pending ? (int)pending : 1;
    printf("Sweep %s: %ld points, %ld to run, %d worker%s, results in %s\n", s->name, s->count,
           pending, jobs, jobs == 1 ? "" : "s", root);
    fflush(stdout);
    if (pending && pipe(fds) != 0) {
        free(todo);
        return err_set(err, CLRUN_ERUNTIME, "pipe: %s", strerror(errno));
    }
    pid_t pids[256];
    int n_workers = 0;
    for (int w = 0; pending && w < jobs && w < 256; w++) {
        pid_t pid = fork();
        if (pid == 0) {
            close(fds[1]);
            worker(s, root, n_devices ? specs[w % n_devices] : NULL, overwrite, fds[0]);
        }
        if (pid > 0)
            pids[n_workers++] = pid;
    }
    if (pending) {
        signal(SIGPIPE, SIG_IGN); /* workers that all died: a failed write, not our death */
        close(fds[0]);
        for (int32_t i = 0; i < s->count; i++)
            if (todo[i] && write(fds[1], &i, sizeof i) != (ssize_t)sizeof i)
                break; /* every worker died: reported below */
        close(fds[1]);
    }
    int failed = pending && n_workers == 0;
    for (int w = 0; w < n_workers; w++) {
        int status = 0;
        waitpid(pids[w], &status, 0);
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    free(todo);
    rc = merge_sweep(root, NULL, err);
    if (!rc && failed)
        rc = err_set(err, CLRUN_ERUNTIME, "sweep %s: some points failed (see the lines above and "
                     "each point's output.log); run the same command again to retry them", s->name);
    return rc;
}
