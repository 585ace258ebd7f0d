/* interrupt.h: Ctrl-C (SIGINT) and SIGTERM during a run. The first one is
 * noted, and the trainer stops at the next batch, keeping the checkpoint of
 * the last finished epoch, so the same command resumes; a second one ends
 * the process at once, as it would without clrun's handler. */
#ifndef CLRUN_INTERRUPT_H
#define CLRUN_INTERRUPT_H

/* Installs the handlers (the `run` command only: a sweep's workers get the
 * signal themselves, and its parent waits for them). */
void interrupt_install(void);

/* The signal that asked to stop (SIGINT or SIGTERM), or 0. */
int interrupt_signal(void);

#endif
