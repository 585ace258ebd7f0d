/* add.cl: element-wise sums: the add layer (residual connections) and the
 * graph's gathering of gradients from a layer's several consumers. */

/* y += x */
__kernel void add_into(__global float *y, __global const float *x, int n)
{
    int i = get_global_id(0);
    if (i < n)
        y[i] += x[i];
}
