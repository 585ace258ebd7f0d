/* pool.cl: max pooling over [N*C] planes, remembering the winner of each
 * window so backward can route the gradient to it. */

__kernel void maxpool_forward(__global const float *x, __global float *y, __global int *arg,
                              int planes, int H, int W, int OH, int OW,
                              int k, int s, int pad)
{
    int i = get_global_id(0);
    if (i >= planes * OH * OW)
        return;
    int ox = i % OW, oy = (i / OW) % OH, plane = i / (OW * OH);
    __global const float *xp = x + plane * H * W;
    float best = -INFINITY;
    int where = -1;
    for (int a = 0; a < k; a++) {
        int iy = oy * s - pad + a;
        if (iy < 0 || iy >= H)
            continue;
        for (int b = 0; b < k; b++) {
            int ix = ox * s - pad + b;
            if (ix < 0 || ix >= W)
                continue;
            float v = xp[iy * W + ix];
            if (v > best || where < 0) {
                best = v;
                where = iy * W + ix;
            }
        }
    }
    y[i] = best;
    arg[i] = where;
}

/* dx[plane, iy, ix] = sum of dy over the windows whose winner it was. */
__kernel void maxpool_backward(__global const float *dy, __global float *dx,
                               __global const int *arg, int planes, int H, int W, int OH, int OW,
                               int k, int s, int pad)
{
    int i = get_global_id(0);
    if (i >= planes * H * W)
        return;
    int ix = i % W, iy = (i / W) % H, plane = i / (W * H), here = iy * W + ix;
    int oy0 = max(0, (iy + pad - k + s) / s), oy1 = min(OH - 1, (iy + pad) / s);
    int ox0 = max(0, (ix + pad - k + s) / s), ox1 = min(OW - 1, (ix + pad) / s);
    float g = 0.0f;
    for (int oy = oy0; oy <= oy1; oy++)
        for (int ox = ox0; ox <= ox1; ox++) {
            int o = (plane * OH + oy) * OW + ox;
            if (arg[o] == here)
                g += dy[o];
        }
    dx[i] = g;
}
