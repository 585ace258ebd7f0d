/* factorized.h: the factorized readout of Klindt et al. (2017) (seed 003).
 * Target unit j's response to an item whose frozen features are f [C, H, W]
 * is predicted as
 *     n_j = b_j + sum_{c,y,x} ws_j[y, x] wc_j[c] f[c, y, x],
 * a spatial mask times channel weights (H*W + C numbers a unit instead of
 * C*H*W). The fit minimises the batch mean of the squared error summed over
 * units plus ls |ws|^2 + lc |wc|^2 with Adam on the device (kernels in
 * cl/readout.cl, the update is optim.cl's adam_step), and is scored by each
 * unit's Pearson r on held-out items. The analysis `factorized_readout`
 * (analysis.h's table) runs it on a layer of the trained network. */
#ifndef CLRUN_FACTORIZED_H
#define CLRUN_FACTORIZED_H

#include "device.h"

typedef struct {
    long epochs, batch_size, seed;
    double learning_rate, ls, lc;
    double train_fraction; /* of the items, drawn at random; the others are held out */
} FactorizedOptions;

/* The analysis' defaults: 100 epochs of batches of 64 at rate 0.02, ls = lc =
 * 1e-3, 0.8 of the items fitted, seed 0. */
extern const FactorizedOptions factorized_defaults;

/* The model on the device: every item's features [items, c, hw] and targets
 * [items, units], uploaded once; idx, the item of each row (a batch is a run
 * of rows); the parameters theta = [ws (units x hw) | wc (units x c) | b
 * (units)], their gradient and Adam's two moments; pred [rows, units]. */
typedef struct {
    Device *dev;
    int items, c, hw, units;
    int count; /* entries of theta */
    cl_kernel predict, gradient, adam;
    cl_mem feats, targets, idx, theta, grad, adam_m, adam_v, pred;
} FactorizedModel;

/* Uploads features and targets and allocates the rest (theta and idx are
 * the caller's to write; Adam's moments start at zero). factorized_close
 * releases what it made, after a failure too. */
int factorized_open(FactorizedModel *m, Device *d, const float *features, const double *targets,
                    int items, int c, int hw, int units, Err *err);
/* pred for the rows first .. first + rows - 1 of idx. */
int factorized_predict(FactorizedModel *m, int first, int rows, Err *err);
/* grad of the loss over those rows; needs factorized_predict on them first. */
int factorized_gradient(FactorizedModel *m, int first, int rows, double ls, double lc, Err *err);
void factorized_close(FactorizedModel *m);

typedef struct {
    float *ws, *wc, *b; /* [units, hw], [units, c], [units], in one allocation at ws */
    double *r;          /* [units]: Pearson r on the held-out items, 0 where undefined */
    int train, test;    /* the items fitted and held out */
} FactorizedFit;

/* Fits every unit: a seeded split of the items, seeded initialisation and
 * shuffles (the same seed gives the same bits). Each mask comes out with its
 * largest entry positive (ws and wc may both flip sign without changing a
 * prediction). CLRUN_EINPUT when the split leaves no item to fit or fewer
 * than 2 held out. */
int factorized_fit(Device *d, const float *features, const double *targets, int items, int c,
                   int hw, int units, const FactorizedOptions *o, FactorizedFit *fit, Err *err);
void factorized_fit_free(FactorizedFit *fit);

#endif
