/* monitor.h: watching one metric over the epochs, as Keras' callbacks do:
 * train.early_stopping (EarlyStopping: stop when `monitor` has not improved
 * by more than min_delta for `patience` epochs) and train.save_best
 * (ModelCheckpoint with save_best_only: keep the weights of the best epoch);
 * early_stopping's restore_best_weights puts the best epoch's weights back
 * at the end of training, as Keras 3 does, stopped early or not.
 * Losses improve downwards, accuracies upwards. The state is a function of
 * the metrics so far, so a resumed run replays them and decides as an
 * uninterrupted one would. */
#ifndef CLRUN_MONITOR_H
#define CLRUN_MONITOR_H

#include "spec.h"

/* The metrics of an epoch, in history.csv's order. */
enum { MONITOR_LOSS, MONITOR_ACCURACY, MONITOR_VAL_LOSS, MONITOR_VAL_ACCURACY,
       MONITOR_TEST_LOSS, MONITOR_TEST_ACCURACY, MONITOR_METRICS };

typedef struct {
    int on;
    int metric;            /* MONITOR_* */
    long patience;         /* early stopping: epochs without improvement before it stops */
    double min_delta;      /* an improvement smaller than this does not count */
    int restore;           /* early stopping: restore_best_weights */
    const SpecNode *node;  /* for messages */
    double best;           /* NaN before the first epoch */
    int best_epoch;
    long wait;             /* epochs since the last improvement */
} Monitor;

/* Reads train.<key> (absent: m->on is 0). With `stopping`, patience (default
 * 0, Keras'), min_delta (0) and restore_best_weights (false) are read as well. */
int monitor_parse(Monitor *m, SpecNode *train, const char *key, int stopping, Err *err);

/* "val_loss" etc. */
const char *monitor_name(const Monitor *m);

/* The split the metric belongs to: 0 training, 1 validation, 2 test. */
int monitor_split(const Monitor *m);

/* Takes an epoch's metrics; 1 when they improved on the best so far. */
int monitor_update(Monitor *m, int epoch, const double metrics[MONITOR_METRICS]);

/* Whether early stopping says to stop now. */
int monitor_stop(const Monitor *m);

#endif
