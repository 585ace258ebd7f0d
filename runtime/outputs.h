/* outputs.h: what a command is about to write, checked before work starts
 * against what it has read (io/file.h records every input) and against the
 * files of runs, so that no output replaces an input (the weights, data,
 * targets, the experiment) or a run's own file. Refusals are CLRUN_EINPUT. */
#ifndef CLRUN_OUTPUTS_H
#define CLRUN_OUTPUTS_H

#include "err.h"

/* A run writes its files into dir and into dir/subdirs[i] (its analyses'
 * directories): no input may lie in any of them. */
int outputs_check_dir(const char *dir, const char *const *subdirs, int n_subdirs, Err *err);

/* path, the command's `what` ("predictions CSV"), may not be an input, nor
 * one of the files that `also` names (inputs not yet read; NULL-terminated,
 * or NULL), nor, in a run's directory, one of that run's own files
 * (rundir_own_file). */
int outputs_check_file(const char *path, const char *what, const char *const *also, Err *err);

#endif
