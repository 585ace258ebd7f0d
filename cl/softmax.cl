/* softmax.cl: softmax and log_softmax over the features of each example. */

__kernel void softmax_forward(__global const float *x, __global float *y, int rows, int cols,
                              int log_output)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    __global const float *xr = x + r * cols;
    __global float *yr = y + r * cols;
    float lse = row_logsumexp(xr, cols);
    for (int c = 0; c < cols; c++)
        yr[c] = log_output ? xr[c] - lse : exp(xr[c] - lse);
}

/* softmax: dx = y * (dy - sum(dy * y)); log_softmax: dx = dy - exp(y) * sum(dy). */
__kernel void softmax_backward(__global const float *dy, __global const float *y,
                               __global float *dx, int rows, int cols, int log_output)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    int o = r * cols;
    float s = 0.0f;
    for (int c = 0; c < cols; c++)
        s += log_output ? dy[o + c] : dy[o + c] * y[o + c];
    for (int c = 0; c < cols; c++)
        dx[o + c] = log_output ? dy[o + c] - exp(y[o + c]) * s : y[o + c] * (dy[o + c] - s);
}
