/* data.cl: builds a batch on the device from a dataset uploaded once: picks
 * the examples named by the split's order, scales and normalises them
 * (value * scale + shift), so no example crosses the bus during an epoch. */

__kernel void gather_u8(__global const uchar *examples, __global const uchar *labels,
                        __global const int *order, int start, int rows, int size,
                        float scale, float shift, __global float *x, __global int *y)
{
    int j = get_global_id(0), r = get_global_id(1);
    if (j >= size || r >= rows)
        return;
    int e = order[start + r];
    x[r * size + j] = (float)examples[(long)e * size + j] * scale + shift;
    if (j == 0)
        y[r] = labels[e];
}

__kernel void gather_f32(__global const float *examples, __global const uchar *labels,
                         __global const int *order, int start, int rows, int size,
                         float scale, float shift, __global float *x, __global int *y)
{
    int j = get_global_id(0), r = get_global_id(1);
    if (j >= size || r >= rows)
        return;
    int e = order[start + r];
    x[r * size + j] = examples[(long)e * size + j] * scale + shift;
    if (j == 0)
        y[r] = labels[e];
}
