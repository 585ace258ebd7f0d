/* loss.cl: per-example losses with their gradients (scaled by 1/batch for the
 * mean), whether the prediction was right, and a fixed-order sum of both into
 * a metrics slot so an epoch needs no host round trip until it ends. */

static inline int argmax_row(__global const float *x, int cols)
{
    int best = 0;
    for (int c = 1; c < cols; c++)
        if (x[c] > x[best])
            best = c;
    return best;
}

/* Input: log-probabilities (log_softmax output). */
__kernel void nll_loss(__global const float *logp, __global const int *labels,
                       __global float *grad, __global float *loss, __global float *correct,
                       int rows, int cols, float scale)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    __global const float *x = logp + r * cols;
    int y = labels[r];
    loss[r] = -x[y];
    correct[r] = argmax_row(x, cols) == y;
    for (int c = 0; c < cols; c++)
        grad[r * cols + c] = c == y ? -scale : 0.0f;
}

/* Input: logits; softmax and negative log-likelihood in one, as PyTorch's CrossEntropyLoss. */
__kernel void cross_entropy_loss(__global const float *logits, __global const int *labels,
                                 __global float *grad, __global float *loss,
                                 __global float *correct, int rows, int cols, float scale)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    __global const float *x = logits + r * cols;
    int y = labels[r];
    float lse = row_logsumexp(x, cols);
    loss[r] = lse - x[y];
    correct[r] = argmax_row(x, cols) == y;
    for (int c = 0; c < cols; c++)
        grad[r * cols + c] = scale * (exp(x[c] - lse) - (c == y ? 1.0f : 0.0f));
}

/* The target of unit c for label y: the label itself on a single unit, else
 * one-hot. */
static inline float unit_target(int c, int cols, int y)
{
    return cols == 1 ? (float)y : (float)(c == y);
}

/* A single unit predicts class 1 from 0.5 up; several, their argmax. */
static inline float unit_correct(__global const float *x, int cols, int y)
{
    return cols == 1 ? (float)((x[0] >= 0.5f) == y) : (float)(argmax_row(x, cols) == y);
}

/* Keras' binary_crossentropy on probabilities: the mean over units of
 * -(t log p + (1-t) log(1-p)), p clipped to [1e-7, 1 - 1e-7] as Keras clips
 * with its backend epsilon (PyTorch's BCELoss does not clip p but clamps each
 * log at -100). A clipped unit's loss is constant there, so its gradient is 0. */
__kernel void binary_cross_entropy_loss(__global const float *prob, __global const int *labels,
                                        __global float *grad, __global float *loss,
                                        __global float *correct, int rows, int cols, float scale)
{
    const float eps = 1e-7f;
    int r = get_global_id(0);
    if (r >= rows)
        return;
    __global const float *x = prob + r * cols;
    int y = labels[r];
    float sum = 0.0f, unit_scale = scale / cols;
    for (int c = 0; c < cols; c++) {
        float t = unit_target(c, cols, y), p = clamp(x[c], eps, 1.0f - eps);
        sum -= t * log(p) + (1.0f - t) * log(1.0f - p);
        int clipped = x[c] < eps || x[c] > 1.0f - eps;
        grad[r * cols + c] = clipped ? 0.0f : unit_scale * (p - t) / (p * (1.0f - p));
    }
    loss[r] = sum / cols;
    correct[r] = unit_correct(x, cols, y);
}

/* Keras' mean_squared_error: the mean over units of (x - t)^2 per example,
 * so the batch mean is PyTorch's MSELoss with its default mean over all
 * elements. */
__kernel void mse_loss(__global const float *out, __global const int *labels,
                       __global float *grad, __global float *loss, __global float *correct,
                       int rows, int cols, float scale)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    __global const float *x = out + r * cols;
    int y = labels[r];
    float sum = 0.0f, unit_scale = 2.0f * scale / cols;
    for (int c = 0; c < cols; c++) {
        float d = x[c] - unit_target(c, cols, y);
        sum += d * d;
        grad[r * cols + c] = unit_scale * d;
    }
    loss[r] = sum / cols;
    correct[r] = unit_correct(x, cols, y);
}

/* metrics[2*slot] = sum of losses, metrics[2*slot + 1] = number correct. */
__kernel void metrics_sum(__global const float *loss, __global const float *correct, int rows,
                          __global float *metrics, int slot)
{
    if (get_global_id(0) != 0)
        return;
    float l = 0.0f, c = 0.0f;
    for (int r = 0; r < rows; r++) {
        l += loss[r];
        c += correct[r];
    }
    metrics[2 * slot] = l;
    metrics[2 * slot + 1] = c;
}
