/* sweep.h: a grid of variants of one experiment. The experiment's `sweep:`
 * block maps dotted keys (anything KEY=VALUE could override) to lists of
 * values, and a command-line KEY=a,b,c adds or replaces an axis (KEY=a of a
 * swept key leaves it that one value); the grid is
 * the product, numbered from 0 with the first key varying slowest. Point i
 * is the experiment with the base overrides and one value per key applied,
 * run into ROOT/<i>/ (ROOT by default runs/<experiment>). */
#ifndef CLRUN_SWEEP_H
#define CLRUN_SWEEP_H

#include <stddef.h>

#include "err.h"

#define SWEEP_MAX_KEYS 16
#define SWEEP_MAX_VALUES 256
#define SWEEP_MAX_POINTS 100000

typedef struct {
    char key[128];
    int line, col;                  /* where the sweep: block names the key; 0: the command line */
    int n;
    char *values[SWEEP_MAX_VALUES]; /* each as YAML flow text ("0.25", "[3, 3]", "'relu'") */
} SweepAxis;

typedef struct {
    const char *path;       /* the experiment file */
    char name[128];         /* its base name */
    SweepAxis axes[SWEEP_MAX_KEYS];
    int n_axes;
    long count;             /* points: the product of the value counts */
    char **base;            /* overrides every point gets */
    int n_base;
} Sweep;

/* Reads path's sweep: block and the command line's overrides (KEY=a,b,... is
 * an axis; any other KEY=VALUE applies to every point), and loads the
 * experiment and builds its model once per distinct value, so that a key it
 * does not know or a value it or the model refuses is an error (file and
 * line) before anything runs. */
int sweep_load(Sweep *s, const char *path, char *const *overrides, int n_overrides, Err *err);
void sweep_free(Sweep *s);

/* Whether point i is in the grid; an input error naming the file when not. */
int sweep_check_index(const Sweep *s, long i, Err *err);

/* The value index of each axis at point i. */
void sweep_choice(const Sweep *s, long i, int *choice);
/* "key=value key=value" of point i. */
void sweep_describe(const Sweep *s, long i, char *out, size_t size);
/* The base overrides then one per axis for point i (caller frees the array
 * and the strings after n_base). */
int sweep_overrides(const Sweep *s, long i, char ***out, int *n, Err *err);

/* ROOT/sweep.csv: index and each key's value for every point, for merging;
 * written through a temporary file, so concurrent array tasks are safe. */
int sweep_write_grid(const Sweep *s, const char *root, Err *err);

#endif
