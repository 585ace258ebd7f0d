/* data.cl: builds a batch on the device from the dataset uploaded once as bytes:
 * picks the examples named by the epoch's order, scales them to floats and
 * normalises, so no image crosses the bus during an epoch. */

__kernel void gather_u8(__global const uchar *pixels, __global const uchar *labels,
                        __global const int *order, int start, int rows, int size,
                        float scale, float shift, __global float *x, __global int *y)
{
    int j = get_global_id(0), r = get_global_id(1);
    if (j >= size || r >= rows)
        return;
    int e = order[start + r];
    x[r * size + j] = (float)pixels[(long)e * size + j] * scale + shift;
    if (j == 0)
        y[r] = labels[e];
}
