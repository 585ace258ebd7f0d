/* checkpoint.h: what a run needs to carry on after it was stopped, or to be
 * extended after it finished, saved after every epoch as
 * <dir>/checkpoint.safetensors (written whole or not at all, and kept when
 * the run finishes): every parameter and buffer, the optimizer's state
 * buffers and step count, the dropout step, the epochs done and the shuffle
 * generator, and a fingerprint of the settings so that a run with other
 * settings never continues from it. */
#ifndef CLRUN_CHECKPOINT_H
#define CLRUN_CHECKPOINT_H

#include <stdint.h>

#include "graph.h"
#include "optim.h"

typedef struct {
    long epoch;        /* epochs completed */
    uint64_t rng;      /* the shuffle generator after them */
    uint64_t settings; /* checkpoint_fingerprint of the experiment */
} CheckpointInfo;

/* FNV-1a of the experiment tree as spec_write prints it, without its run:
 * and sweep: blocks. */
uint64_t checkpoint_fingerprint(const SpecNode *root);

int checkpoint_save(const char *dir, Graph *g, const Optimizer *o, const CheckpointInfo *info,
                    Err *err);

/* When dir holds a checkpoint with info->settings' fingerprint, restores g,
 * o and info from it and sets *found; without one (or for other settings,
 * which it says on stdout, naming the settings of root that differ from
 * dir/config.yaml's) leaves everything as it was, *found 0. A checkpoint
 * whose settings differ only in train.epochs is restored too: raising the
 * epochs of a stopped or finished run extends it (Keras' initial_epoch):
 * info->epoch comes in as the epochs the run asks for, and an extension asks
 * for at least as many as were done (fewer start over); its checkpoint is
 * saved again at once with info->settings, the new settings. A damaged
 * checkpoint is an error naming the file, never silently skipped. */
int checkpoint_load(const char *dir, const SpecNode *root, Graph *g, Optimizer *o,
                    CheckpointInfo *info, int *found, Err *err);

/* Whether root's settings differ from those of the run recorded in
 * dir/config.yaml in train.epochs alone (run: and sweep: aside, as for the
 * fingerprint); the dotted paths of all that differ go into diff. */
int checkpoint_epochs_only(const char *dir, const SpecNode *root, char *diff, size_t size);

/* Whether dir holds a checkpoint (a finished run keeps its last one, so that
 * raising its epochs can extend it). */
int checkpoint_present(const char *dir);

void checkpoint_remove(const char *dir);

#endif
