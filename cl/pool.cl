/* pool.cl: max and average pooling over [N*C] planes (global average pooling
 * is average pooling with one window the size of the plane). Max pooling
 * remembers the winner of each window so backward can route the gradient to
 * it; average pooling recomputes each window's divisor. Every kernel runs on
 * (x, y, plane) of what it writes, a plane to a work-group (launch_planes),
 * so no work-item divides to find where it is. */

/* Mirrors PoolGeom in runtime/layers/pool.c: passed to kernels by value. */
typedef struct {
    int planes, h, w;
    int kh, kw, sh, sw;
    int ph, pw;      /* leading padding; the trailing follows from oh, ow */
    int oh, ow;
    int count_pad;   /* average: divide by kh*kw (PyTorch), else by the pixels inside */
} PoolGeom;

/* The input pixels of output o's window along one axis, clipped to the image:
 * [*first, returned end). */
static inline int window_span(int o, int s, int pad, int k, int len, int *first)
{
    int start = o * s - pad;
    *first = max(start, 0);
    return min(start + k, len);
}

/* The outputs whose windows hold input pixel i along one axis: [*lo, *hi]. */
static inline void windows_of(int i, int s, int pad, int k, int olen, int *lo, int *hi)
{
    *lo = max(0, (i + pad - k + s) / s);
    *hi = min(olen - 1, (i + pad) / s);
}

__kernel void maxpool_forward(__global const float *x, __global float *y, __global int *arg,
                              PoolGeom g)
{
    int ox = get_global_id(0), oy = get_global_id(1), plane = get_global_id(2);
    if (ox >= g.ow || oy >= g.oh || plane >= g.planes)
        return;
    int i = (plane * g.oh + oy) * g.ow + ox;
    __global const float *xp = x + plane * g.h * g.w;
    int y0, x0, y1 = window_span(oy, g.sh, g.ph, g.kh, g.h, &y0);
    int x1 = window_span(ox, g.sw, g.pw, g.kw, g.w, &x0);
    float best = -INFINITY;
    int where = -1;
    for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++) {
            float v = xp[iy * g.w + ix];
            if (v > best || where < 0) {
                best = v;
                where = iy * g.w + ix;
            }
        }
    y[i] = best;
    arg[i] = where;
}

/* maxpool_forward for 2x2 windows, stride 2, every window inside the image
 * (the usual pooling): straight-line code, which POCL vectorises across
 * work-items; the same winners, ties to the first in row-major order. */
__kernel void maxpool2_forward(__global const float *x, __global float *y, __global int *arg,
                               PoolGeom g)
{
    int ox = get_global_id(0), oy = get_global_id(1), plane = get_global_id(2);
    if (ox >= g.ow || oy >= g.oh || plane >= g.planes)
        return;
    int i = (plane * g.oh + oy) * g.ow + ox, at = 2 * oy * g.w + 2 * ox;
    __global const float *xp = x + plane * g.h * g.w;
    float best = xp[at], v;
    int where = at;
    v = xp[at + 1];
    where = v > best ? at + 1 : where, best = v > best ? v : best;
    v = xp[at + g.w];
    where = v > best ? at + g.w : where, best = v > best ? v : best;
    v = xp[at + g.w + 1];
    where = v > best ? at + g.w + 1 : where, best = v > best ? v : best;
    y[i] = best;
    arg[i] = where;
}

/* dx[plane, iy, ix] = sum of dy over the windows whose winner it was. */
__kernel void maxpool_backward(__global const float *dy, __global float *dx,
                               __global const int *arg, PoolGeom g)
{
    int ix = get_global_id(0), iy = get_global_id(1), plane = get_global_id(2);
    if (ix >= g.w || iy >= g.h || plane >= g.planes)
        return;
    int i = (plane * g.h + iy) * g.w + ix, here = iy * g.w + ix;
    int oy0, oy1, ox0, ox1;
    windows_of(iy, g.sh, g.ph, g.kh, g.oh, &oy0, &oy1);
    windows_of(ix, g.sw, g.pw, g.kw, g.ow, &ox0, &ox1);
    float s = 0.0f;
    for (int oy = oy0; oy <= oy1; oy++)
        for (int ox = ox0; ox <= ox1; ox++) {
            int o = (plane * g.oh + oy) * g.ow + ox;
            if (arg[o] == here)
                s += dy[o];
        }
    dx[i] = s;
}

/* The same when windows do not overlap (stride at least the window, as in
 * the usual 2x2 pooling): each output hands its gradient to its winner, which
 * no other window has, into dx zeroed beforehand. Runs on the outputs. */
__kernel void maxpool_backward_disjoint(__global const float *dy, __global float *dx,
                                        __global const int *arg, PoolGeom g)
{
    int ox = get_global_id(0), oy = get_global_id(1), plane = get_global_id(2);
    if (ox >= g.ow || oy >= g.oh || plane >= g.planes)
        return;
    int o = (plane * g.oh + oy) * g.ow + ox;
    if (arg[o] >= 0)
        dx[plane * g.h * g.w + arg[o]] = dy[o];
}

/* What output (oy, ox) of average pooling divides its sum by. */
static inline float avg_divisor(PoolGeom g, int oy, int ox)
{
    if (g.count_pad)
        return (float)(g.kh * g.kw);
    int y0, x0, y1 = window_span(oy, g.sh, g.ph, g.kh, g.h, &y0);
    int x1 = window_span(ox, g.sw, g.pw, g.kw, g.w, &x0);
    return (float)((y1 - y0) * (x1 - x0));
}

__kernel void avgpool_forward(__global const float *x, __global float *y, PoolGeom g)
{
    int ox = get_global_id(0), oy = get_global_id(1), plane = get_global_id(2);
    if (ox >= g.ow || oy >= g.oh || plane >= g.planes)
        return;
    int i = (plane * g.oh + oy) * g.ow + ox;
    __global const float *xp = x + plane * g.h * g.w;
    int y0, x0, y1 = window_span(oy, g.sh, g.ph, g.kh, g.h, &y0);
    int x1 = window_span(ox, g.sw, g.pw, g.kw, g.w, &x0);
    float s = 0.0f;
    for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++)
            s += xp[iy * g.w + ix];
    y[i] = s / avg_divisor(g, oy, ox);
}

/* dx[plane, iy, ix] = sum of dy / divisor over the windows holding it. */
__kernel void avgpool_backward(__global const float *dy, __global float *dx, PoolGeom g)
{
    int ix = get_global_id(0), iy = get_global_id(1), plane = get_global_id(2);
    if (ix >= g.w || iy >= g.h || plane >= g.planes)
        return;
    int i = (plane * g.h + iy) * g.w + ix;
    int oy0, oy1, ox0, ox1;
    windows_of(iy, g.sh, g.ph, g.kh, g.oh, &oy0, &oy1);
    windows_of(ix, g.sw, g.pw, g.kw, g.ow, &ox0, &ox1);
    float s = 0.0f;
    for (int oy = oy0; oy <= oy1; oy++)
        for (int ox = ox0; ox <= ox1; ox++)
            s += dy[(plane * g.oh + oy) * g.ow + ox] / avg_divisor(g, oy, ox);
    dx[i] = s;
}
