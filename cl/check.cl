/* check.cl: the non-finite check of training (train.nan_check), and the
 * probe of a driver's loop limit (dev_loop_limit). */

#define CHECK_RUN 64 /* values a work-item checks: a loop the compiler vectorises */

/* *first = min(*first, code) when x[offset .. offset + n) holds a NaN or an
 * infinity: the trainer gives each checked tensor of each batch a code that
 * grows in the order they are computed, so *first names the earliest. */
CPU_KERNEL void find_nonfinite(__global const float *x, int offset, int n, __global int *first,
                               int code)
{
    int begin = get_global_id(0) * CHECK_RUN, end = min(n, begin + CHECK_RUN);
    int bad = 0;
    for (int i = begin; i < end; i++)
        bad |= !isfinite(x[offset + i]);
    if (bad)
        atomic_min(first, code);
}

/* *count = the iterations a loop of n ran: fewer than n where the driver cuts
 * a work-item's loops short (dev_loop_limit). A float sum, which compilers
 * do not fold into n as they would an integer count. */
__kernel void loop_probe(int n, __global float *count)
{
    float s = 0.0f;
    for (int i = 0; i < n; i++)
        s += 1.0f;
    *count = s;
}
