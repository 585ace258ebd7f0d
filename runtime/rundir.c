/* rundir.c: run directories and their files (see rundir.h). */
#include "rundir.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/file.h"

int rundir_own_file(const char *name)
{
    static const char *const own[] = {
        /* the run's */
        "config.yaml*", "history.*", "steps.csv*", "loss_curve.*", "weights.safetensors*",
        "weights_best.*", "checkpoint.safetensors*", "checkpoint_best.safetensors*", "SUCCESS",
        ".lock", "output.log",
        /* a sweep's */
        "sweep.csv*", "results.csv", "sweep_*.*",
        /* the analyses' (runtime/analysis/) */
        "predictions.*", "misclassified.*", "confusion.*", "features_*.npy", "labels_*.npy",
        "filters_*.*", "feature_maps_*.*", "rdm_*.*", "rsa_*.*", "readout.*", "embeddings_*.npy",
        "distances.*", "neighbours*.*", "similarity_*.*", "factorized_*.*", "classes_*.txt",
        "data_preview.*", "decision_boundary.*",
    };
    for (size_t i = 0; i < sizeof own / sizeof own[0]; i++)
        if (fnmatch(own[i], name, FNM_PERIOD) == 0)
            return 1;
    return 0;
}

int rundir_path(const char *out, const char *name, const char *file, char *path, size_t size,
                Err *err)
{
    if (!out && (!*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0))
        return err_set(err, CLRUN_EINPUT, "%s: its name '%s' gives no run directory of its own "
                       "(runs/%s); rename the file, or give --out DIR", file, name, name);
    int len = out ? snprintf(path, size, "%s", out) : snprintf(path, size, "runs/%s", name);
    if (len < 0 || (size_t)len >= size)
        return err_set(err, CLRUN_EINPUT, "%s: the run directory's path is too long", file);
    return CLRUN_OK;
}

int rundir_make(const char *path, Err *err)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return err_set(err, CLRUN_ERUNTIME, "%s: cannot create directory: %s", tmp,
                               strerror(errno));
            if (!(*p = c))
                break;
        }
    }
    return CLRUN_OK;
}

int rundir_lock(const char *dir, int *fd, Err *err)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/.lock", dir);
    *fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (*fd < 0)
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot create: %s", path, strerror(errno));
    if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = errno == EWOULDBLOCK ? pread(*fd, pid, sizeof pid - 1, 0) : -1;
        pid[n > 0 ? n : 0] = 0;
        pid[strcspn(pid, "\n")] = 0;
        close(*fd);
        *fd = -1;
        return err_set(err, CLRUN_EINPUT, "%s is in use by another clrun (pid %s): wait for it to "
                       "finish, or give another --out", dir, pid[0] ? pid : "unknown");
    }
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(*fd, 0) != 0 || pwrite(*fd, pid, (size_t)len, 0) != len)
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write: %s", path, strerror(errno));
    return CLRUN_OK;
}

int rundir_mark_success(const char *dir, const RunMark *mark, Err *err)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/SUCCESS", dir);
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "finished\nsettings: %016llx\nepochs: %ld\npoint: %s\nweights: %s\n"
                      "result: %s\nkept_epoch: %ld\n", mark->settings, mark->epochs, mark->point,
                      mark->weights, mark->result, mark->kept_epoch) < 0 || fflush(f) != 0 ||
        fsync(fileno(f)) != 0) {
        int e = errno;
        if (f)
            fclose(f);
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write: %s", path, strerror(e));
    }
    return fclose(f) == 0 ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "%s: cannot write: %s", path,
                                               strerror(errno));
}

int rundir_finished(const char *dir, RunMark *mark)
{
    char path[PATH_MAX + 16], line[1100];
    snprintf(path, sizeof path, "%s/SUCCESS", dir);
    memset(mark, 0, sizeof *mark);
    Err ignored;
    FILE *f = access(path, F_OK) == 0 ? file_open_state(path, &ignored) : NULL;
    if (!f)
        return access(path, F_OK) == 0; /* there but unreadable: finished, settings unknown */
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = 0;
        if (strncmp(line, "settings: ", 10) == 0)
            mark->settings = strtoull(line + 10, NULL, 16);
        else if (strncmp(line, "epochs: ", 8) == 0)
            mark->epochs = strtol(line + 8, NULL, 10);
        else if (strncmp(line, "point: ", 7) == 0)
            snprintf(mark->point, sizeof mark->point, "%.1023s", line + 7);
        else if (strncmp(line, "weights: ", 9) == 0)
            snprintf(mark->weights, sizeof mark->weights, "%.1023s", line + 9);
        else if (strncmp(line, "result: ", 8) == 0)
            snprintf(mark->result, sizeof mark->result, "%.255s", line + 8);
        else if (strncmp(line, "kept_epoch: ", 12) == 0)
            mark->kept_epoch = strtol(line + 12, NULL, 10);
    }
    fclose(f);
    return 1;
}

int rundir_config(const char *dir, SpecNode *root, const char *source,
                  const char *const *run_kv, int n_kv, Err *err)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write: %s", tmp, strerror(errno));
    SpecNode *run = spec_get(root, "run");
    if (run) { /* a config.yaml given back to clrun: its old provenance is replaced below */
        for (int i = 0; run->kind != SPEC_SCALAR && i < run->n; i++)
            spec_free(run->items[i]);
        run->kind = SPEC_MAP, run->n = 0;
    }
    fprintf(f, "# Resolved by clrun from %s\n", source);
    spec_write(f, root, 0);
    fprintf(f, "run:\n");
    for (int i = 0; i < n_kv; i++) {
        fprintf(f, "  %s: ", run_kv[2 * i]);
        spec_write_quoted(f, run_kv[2 * i + 1]);
        fputc('\n', f);
    }
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write: %s", path, strerror(errno));
    }
    return CLRUN_OK;
}

int rundir_csv(const char *dir, const char *name, const char *header, Csv *out, Err *err)
{
    char path[PATH_MAX + 64];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = csv_open(out, path, "w", err);
    return rc ? rc : csv_header(out, header, err);
}

int rundir_csv_resume(const char *dir, const char *name, const char *header, long epochs,
                      void (*keep)(void *ctx, const char *row), void *ctx, Csv *out, Err *err)
{
    char path[PATH_MAX + 64], tmp[PATH_MAX + 72], *line = NULL;
    size_t cap = 0;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *in = fopen(path, "r"), *kept = fopen(tmp, "w");
    if (!kept) {
        if (in)
            fclose(in);
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write: %s", tmp, strerror(errno));
    }
    Csv head;
    csv_over(&head, kept, tmp);
    int rc = csv_header(&head, header, err);
    for (int first = 1; !rc && in && getline(&line, &cap, in) > 0; first = 0) {
        char *end = NULL;
        long epoch = strtol(line, &end, 10);
        if (!first && end != line && *end == ',' && epoch <= epochs && strchr(line, '\n')) {
            fputs(line, kept); /* a whole row this writer wrote before */
            keep(ctx, line);
        }
    }
    free(line);
    if (in)
        fclose(in);
    int bad = ferror(kept);
    if (fclose(kept) != 0 || bad || rc || rename(tmp, path) != 0) {
        unlink(tmp);
        return rc ? rc : err_set(err, CLRUN_ERUNTIME, "%s: cannot write: %s", path, strerror(errno));
    }
    return csv_open(out, path, "a", err);
}

void rundir_numbers(const char *row, double *v, int n)
{
    for (int i = 0; i < n; i++) {
        char *end;
        v[i] = strtod(row, &end);
        if (end == row || (*end && *end != ',' && *end != '\n' && *end != '\r'))
            v[i] = NAN;
        row = strchr(row, ',') ? strchr(row, ',') + 1 : row + strlen(row);
    }
}
