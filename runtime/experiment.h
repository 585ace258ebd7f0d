/* experiment.h: an experiment file (model, data, optimizer, loss, train)
 * loaded, overridden from the command line and checked before anything runs. */
#ifndef CLRUN_EXPERIMENT_H
#define CLRUN_EXPERIMENT_H

#include "data/data.h"
#include "monitor.h"
#include "optim.h"
#include "spec.h"

typedef struct {
    SpecNode *root;        /* the resolved tree, written to config.yaml */
    const char *path;
    char name[128];        /* the file's base name: runs/<name>/ */
    SpecNode *model;       /* the model map (included from its file) */
    DataSpec data;
    Optimizer optim;
    const char *loss;
    const SpecNode *loss_node;
    long epochs, batch_size;
    long seed;
    int shuffle;
    int nan_check;         /* stop at the first NaN or infinity in training (default on) */
    long log_every;        /* steps.csv: the loss of every N-th batch; 0: none */
    Monitor early_stopping, save_best; /* train.early_stopping, train.save_best */
    SpecNode *analyses;    /* the `analyses:` list, read by the trainer, or NULL */
    long plot_dpi;         /* plot.dpi: the figures' resolution (plot.h's PLOT_DPI: 900x600 px) */
    int plot_format;       /* plot.format: png, svg or pdf (plot.h's PLOT_PNG ...) */
    double plot_loss_goal; /* plot.loss_goal: a line across history.png's loss panel; NAN: none */
    unsigned long long settings; /* checkpoint_fingerprint of the tree as loaded and
                                    overridden: what a finished run records, and what a
                                    sweep compares a point's run with */
} Experiment;

/* Loads path, includes the model file, applies KEY=VALUE overrides and checks
 * every section. A file that is itself a model (it has layers:) loads too,
 * with only e->model set: that is what `clrun summary` needs. */
int experiment_load(Experiment *e, const char *path, char *const *overrides, int n_overrides,
                    Err *err);
void experiment_free(Experiment *e);

/* An experiment's name: its file's base name without the extension
 * ("experiments/quickstart.yaml" -> "quickstart"), which names runs/<name>/. */
void experiment_name(const char *path, char *out, size_t size);

#endif
