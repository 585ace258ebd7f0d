/* train.h: runs an experiment: data to the device, epochs of training with
 * evaluation on the test split, progress, history.csv, weights and config.yaml
 * in the run directory. */
#ifndef CLRUN_TRAIN_H
#define CLRUN_TRAIN_H

#include "analysis/analysis.h"
#include "device.h"
#include "experiment.h"

typedef struct {
    const char *device;   /* --device SPEC, or NULL */
    const char *out_dir;  /* --out DIR, or NULL for runs/<experiment>/ */
    const char *weights;  /* --weights FILE, or NULL for model.weights */
    int profile;          /* --profile: time every kernel, report per kernel and layer */
    int overwrite;        /* --overwrite: replace a finished run in the directory; without
                             it one is never touched */
    const char *point;    /* a sweep's point: its swept values ("key=value ..."), recorded
                             in config.yaml and SUCCESS; NULL for a plain run */
    Device *dev;          /* an opened, built device to use (and leave open), or NULL to
                             open the one `device` names */
} RunOptions;

int train_run(Experiment *e, const RunOptions *o, Err *err);

/* `clrun evaluate`: the loss and accuracy of the given weights (o->weights or
 * model.weights) on one split ("test", "val" or "train"), printed, and with
 * by_class each class's; nothing is written and the analyses do not run. */
int train_evaluate(Experiment *e, const RunOptions *o, const char *split, int by_class,
                   Err *err);

/* `clrun predict`: the class probabilities the weights give the images that
 * paths name (files, or folders of them), read as the experiment's data are
 * (invert: white and black swapped, for dark writing on a light page when
 * the data are light on dark), into a CSV file and a figure: o->out_dir
 * (--out FILE.csv) or predict/predictions.csv beside the weights
 * (predict_outputs). Images whose statistics are far from the training
 * data's are warned about. */
int train_predict(Experiment *e, const RunOptions *o, const char *const *paths, int n,
                  int invert, Err *err);

/* Commands that only run the trained model (`clrun features`): prepares it
 * as evaluate does (the graph on the device with o->weights or
 * model.weights, the data loaded and checked, no analyses) and hands use()
 * what the analyses see of it; with o->profile the time in each kernel is
 * printed after. */
typedef int (*TrainUse)(AnalysisContext *ctx, void *arg, Err *err);
int train_use_model(Experiment *e, const RunOptions *o, TrainUse use, void *arg, Err *err);

/* The directory datasets are found under: $CLRUN_ROOT, else the current
 * directory when it has data/, else the repository the binary was built in. */
void train_data_root(char *out, size_t size);

#endif
