/* readout.cl: the factorized readout of Klindt et al. (2017). Unit j's
 * response to an item with features f [C, HW] (a layer's output, channels
 * then height times width) is
 *     pred_j = b_j + sum_c wc_j[c] sum_p ws_j[p] f[c, p],
 * a spatial mask ws_j times channel weights wc_j. The parameters of all N
 * units lie in one buffer, theta = [ws (N x HW) | wc (N x C) | b (N)], so one
 * adam_step updates them all; the gradient has the same layout.
 *
 * Items come as indices into every item's features, uploaded once: a batch
 * is the rows idx[first .. first + rows). One work item per output with loops
 * inside: no atomics, so every run gives the same bits. */

/* sum_p ws[p] f[ch, p]: channel ch seen through the mask. */
static inline float masked_channel(__global const float *f, __global const float *ws, int ch, int hw)
{
    float s = 0;
    for (int p = 0; p < hw; p++)
        s += ws[p] * f[ch * hw + p];
    return s;
}

/* sum_c wc[c] f[c, p]: the channels at position p, weighted. */
static inline float weighted_position(__global const float *f, __global const float *wc, int p, int c,
                               int hw)
{
    float s = 0;
    for (int ch = 0; ch < c; ch++)
        s += wc[ch] * f[ch * hw + p];
    return s;
}

/* The features of batch row i. */
static inline __global const float *item_features(__global const float *feats,
                                           __global const int *idx, int first, int i, int c,
                                           int hw)
{
    return feats + (long)idx[first + i] * c * hw;
}

/* pred [rows, N]: every unit's prediction for every row of the batch. */
__kernel void factorized_predict(__global const float *feats, __global const int *idx, int first,
                                 int rows, __global const float *theta, __global float *pred,
                                 int c, int hw, int units)
{
    int k = get_global_id(0);
    if (k >= rows * units)
        return;
    int i = k / units, j = k % units;
    __global const float *f = item_features(feats, idx, first, i, c, hw);
    __global const float *ws = theta + j * hw, *wc = theta + units * hw + j * c;
    float s = theta[units * (hw + c) + j];
    for (int ch = 0; ch < c; ch++)
        s += wc[ch] * masked_channel(f, ws, ch, hw);
    pred[k] = s;
}

/* The loss is (1/rows) sum_i sum_j (pred_ij - y_ij)^2 + ls |ws|^2 + lc |wc|^2:
 * the batch mean of each item's squared error summed over units, so every
 * unit's fit weighs its penalty the same whatever the number of units.
 * This is dLoss/dpred_ij. */
static inline float residual(__global const float *pred, __global const float *targets,
                      __global const int *idx, int first, int i, int j, int rows, int units)
{
    return 2.0f / rows * (pred[i * units + j] - targets[(long)idx[first + i] * units + j]);
}

/* grad [theta's size] from pred (factorized_predict on the same batch) and
 * the targets [items, N] of every item. */
__kernel void factorized_gradient(__global const float *feats, __global const int *idx,
                                  int first, int rows, __global const float *theta,
                                  __global const float *pred, __global const float *targets,
                                  __global float *grad, int c, int hw, int units, float ls,
                                  float lc)
{
    int k = get_global_id(0), n_ws = units * hw, n_wc = units * c;
    if (k >= n_ws + n_wc + units)
        return;
    float g = 0;
    if (k < n_ws) { /* ws_j[p] */
        int j = k / hw, p = k % hw;
        __global const float *wc = theta + n_ws + j * c;
        for (int i = 0; i < rows; i++)
            g += residual(pred, targets, idx, first, i, j, rows, units) *
                 weighted_position(item_features(feats, idx, first, i, c, hw), wc, p, c, hw);
        g += 2 * ls * theta[k];
    } else if (k < n_ws + n_wc) { /* wc_j[ch] */
        int j = (k - n_ws) / c, ch = (k - n_ws) % c;
        __global const float *ws = theta + j * hw;
        for (int i = 0; i < rows; i++)
            g += residual(pred, targets, idx, first, i, j, rows, units) *
                 masked_channel(item_features(feats, idx, first, i, c, hw), ws, ch, hw);
        g += 2 * lc * theta[k];
    } else { /* b_j */
        for (int i = 0; i < rows; i++)
            g += residual(pred, targets, idx, first, i, k - n_ws - n_wc, rows, units);
    }
    grad[k] = g;
}
