/* data.cl: builds a batch on the device from a dataset uploaded once: picks
 * the examples named by the split's order, scales and normalises them
 * (value * scale + shift), so no example crosses the bus during an epoch.
 * One kernel per stored type: bytes (images) and floats (generated sets). */

#define GATHER(NAME, TYPE)                                                               \
    __kernel void NAME(__global const TYPE *examples, __global const uchar *labels,     \
                       __global const int *order, int start, int rows, int size,        \
                       float scale, float shift, __global float *x, __global int *y)     \
    {                                                                                    \
        int j = get_global_id(0), r = get_global_id(1);                                  \
        if (j >= size || r >= rows)                                                      \
            return;                                                                      \
        int e = order[start + r];                                                        \
        x[r * size + j] = (float)examples[(long)e * size + j] * scale + shift;           \
        if (j == 0)                                                                      \
            y[r] = labels[e];                                                            \
    }

GATHER(gather_u8, uchar)
GATHER(gather_f32, float)
