/* data.cl: builds a batch on the device from a dataset uploaded once: picks
 * the examples named by the split's order, scales and normalises them
 * (value * scale + shift), so no example crosses the bus during an epoch.
 * Kernels per stored type, bytes (images) and floats (generated sets): an
 * element a work-item (the gpu plan), and GATHER_RUN elements a work-item in
 * 16-wide vectors (the cpu plan: POCL runs each work-group as a task, and
 * an element a work-item cost 116 us a batch of 64 MNIST images). */

#define GATHER_RUN 64 /* elements a work-item of a _run kernel: four vectors of 16 */

/* Values [begin, end) of each example of the batch (a channel plane, or all
 * of them): work-item (q, r) value begin + q of row r. */
#define GATHER(NAME, TYPE)                                                               \
    __kernel void NAME(__global const TYPE *examples, __global const uchar *labels,     \
                       __global const int *order, int start, int rows, int size,        \
                       float scale, float shift, __global float *x, __global int *y,    \
                       int begin, int end)                                               \
    {                                                                                    \
        int j = begin + get_global_id(0), r = get_global_id(1);                          \
        if (j >= end || r >= rows)                                                       \
            return;                                                                      \
        int e = order[start + r];                                                        \
        x[r * size + j] = (float)examples[(long)e * size + j] * scale + shift;           \
        if (j == 0)                                                                      \
            y[r] = labels[e];                                                            \
    }

/* Values [begin, end) of each example of the batch (a channel plane, or all
 * of them): work-item (q, r) the run from begin + q * GATHER_RUN of row r. */
#define GATHER_RUNS(NAME, TYPE)                                                          \
    CPU_KERNEL void NAME(__global const TYPE *examples, __global const uchar *labels,    \
                         __global const int *order, int start, int rows, int size,       \
                         float scale, float shift, __global float *x, __global int *y,   \
                         int begin, int end)                                             \
    {                                                                                    \
        int j0 = begin + get_global_id(0) * GATHER_RUN, r = get_global_id(1);           \
        if (j0 >= end || r >= rows)                                                      \
            return;                                                                      \
        int e = order[start + r];                                                        \
        __global const TYPE *from = examples + (long)e * size;                           \
        __global float *to = x + (long)r * size;                                         \
        if (j0 + GATHER_RUN <= end)                                                      \
            for (int j = j0; j < j0 + GATHER_RUN; j += 16)                               \
                vstore16(convert_float16(vload16(0, from + j)) * scale + shift, 0, to + j); \
        else                                                                             \
            for (int j = j0; j < end; j++)                                               \
                to[j] = (float)from[j] * scale + shift;                                  \
        if (j0 == 0)                                                                     \
            y[r] = labels[e];                                                            \
    }

GATHER(gather_u8, uchar)
GATHER(gather_f32, float)
GATHER_RUNS(gather_u8_run, uchar)
GATHER_RUNS(gather_f32_run, float)
