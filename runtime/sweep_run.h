/* sweep_run.h: running a sweep's points. A point is an ordinary run into
 * ROOT/<i>/: one with SUCCESS is skipped, one without carries on from its
 * checkpoint, so a preempted array task or a killed sweep picks up where it
 * stopped. The whole grid runs in worker processes, each opening its device
 * and building its programs once for all the points it takes. */
#ifndef CLRUN_SWEEP_RUN_H
#define CLRUN_SWEEP_RUN_H

#include "sweep.h"
#include "train.h"

/* Checks the points a command will run (index, or all of them when index is
 * -1) against what root holds, then writes root/sweep.csv. A point whose
 * directory holds a run finished with other settings (the sweep was edited)
 * is CLRUN_EINPUT naming both, before anything is written, unless overwrite. */
int sweep_prepare(const Sweep *s, const char *root, long index, int overwrite, Err *err);

/* Runs point i into root/<i>/ with o's device (o->out_dir is ignored); a
 * point finished with the grid's settings is skipped. */
int sweep_run_point(const Sweep *s, long i, const char *root, const RunOptions *o, Err *err);

/* Runs every unfinished point with `jobs` workers spread over devices (a
 * device spec, a comma-separated list of them, "all", or NULL for the
 * default; never more workers than points to run), each point's output in root/<i>/output.log and a line per point
 * on stdout, then merges. CLRUN_ERUNTIME when a point failed. */
int sweep_run_all(const Sweep *s, const char *root, int jobs, const char *devices, int overwrite,
                  Err *err);

#endif
