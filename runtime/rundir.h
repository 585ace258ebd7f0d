/* rundir.h: a run directory and the files in it: created with its parents,
 * config.yaml written whole or not at all, CSV logs flushed row by row
 * (io/csv.h). */
#ifndef CLRUN_RUNDIR_H
#define CLRUN_RUNDIR_H

#include <stdio.h>

#include "err.h"
#include "io/csv.h"
#include "spec.h"

/* Whether a run or a sweep writes a file of this name into its directory:
 * its own files and every analysis' (figures in any plot.format). What a
 * command writes elsewhere (predict's CSV, a launch trace) must not take
 * such a name in a run's directory (outputs.h). */
int rundir_own_file(const char *name);

/* A command's directory: out (--out) when given, else runs/<name>, name
 * being the experiment's (its file's base name): one that is not a directory
 * of its own under runs/ ("." or "..", from files named "..yaml" or
 * "...yaml") is CLRUN_EINPUT naming the file. */
int rundir_path(const char *out, const char *name, const char *file, char *path, size_t size,
                Err *err);

/* mkdir -p */
int rundir_make(const char *path, Err *err);

/* Takes dir for this process: an exclusive flock on dir/.lock, held until
 * *fd is closed or the process ends (the kernel lets go of it even after
 * SIGKILL, so a stale lock never blocks a later run). A directory another
 * clrun holds is CLRUN_EINPUT naming that process's pid. */
int rundir_lock(const char *dir, int *fd, Err *err);

/* What dir/SUCCESS, written last by a run, records: the fingerprint of the
 * settings it was trained with (experiment.h), its train.epochs (what raising
 * them is measured against), for a sweep's point the point's swept values
 * ("key=value ..."), the weights it started from (--weights, which the
 * settings do not hold), its result line, which running the same command
 * again prints, and the epoch whose weights it keeps (not the last where
 * early_stopping.restore_best_weights restored the best). */
typedef struct {
    unsigned long long settings; /* 0: not recorded (a run of an older clrun) */
    long epochs;                 /* 0: not recorded */
    char point[1024];
    char weights[1024];          /* "" for none */
    char result[256];            /* "Test accuracy: ..."; "" when not recorded */
    long kept_epoch;             /* 0: the last one (or not recorded) */
} RunMark;

int rundir_mark_success(const char *dir, const RunMark *mark, Err *err);
/* Whether dir holds a finished run; *mark gets what its SUCCESS records. */
int rundir_finished(const char *dir, RunMark *mark);

/* Writes dir/config.yaml: the resolved experiment tree (its old `run:` block,
 * if it came from a config.yaml, replaced) and a `run:` block of the given
 * key/value pairs. Through a temporary file and a rename. */
int rundir_config(const char *dir, SpecNode *root, const char *source,
                  const char *const *run_kv, int n_kv, Err *err);

/* Opens dir/name for writing and writes the CSV header (names separated by
 * commas). */
int rundir_csv(const char *dir, const char *name, const char *header, Csv *out, Err *err);

/* For a run that carries on from a checkpoint after `epochs` epochs: keeps
 * dir/name's header and the rows whose first field (the epoch) is at most
 * epochs, hands each kept row to keep(ctx, row) and opens the file to append
 * more. A missing file starts again with the header. */
int rundir_csv_resume(const char *dir, const char *name, const char *header, long epochs,
                      void (*keep)(void *ctx, const char *row), void *ctx, Csv *out, Err *err);

/* The first n comma-separated fields of a CSV row as numbers; NA and
 * anything else that is not a number become NaN. */
void rundir_numbers(const char *row, double *v, int n);

#endif
