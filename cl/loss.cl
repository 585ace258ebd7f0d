/* loss.cl: per-example losses with their gradients (scaled by 1/batch for the
 * mean), whether the prediction was right, and a fixed-order sum of both into
 * a metrics slot so an epoch needs no host round trip until it ends. */

inline int argmax_row(__global const float *x, int cols)
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
