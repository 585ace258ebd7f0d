/* conv.cl: 2-D convolution as im2col + GEMM (gemm.cl).
 *
 * Layouts: x is [N, C, H, W]; the column matrix is [C*KH*KW, N*OH*OW] so one
 * GEMM with the [OC, C*KH*KW] weights gives [OC, N*OH*OW], which
 * cnp_to_nchw turns into [N, OC, OH, OW] while adding bias and activation. */

typedef struct {
    int n, c, h, w;       /* input */
    int kh, kw, sh, sw, ph, pw;
    int oh, ow;           /* output size */
} ConvGeom;

/* col[(c*KH + i)*KW + j, n*P + p] = x[n, c, oy*SH - PH + i, ox*SW - PW + j] or 0,
 * with p = oy*OW + ox. Launched as (OH, N, C*KH*KW): each work-item copies
 * one output row of OW floats for one kernel offset, a run the compiler can
 * vectorise (with stride 1 it is a shifted row of x), and the offset's
 * divisions are the same for the whole work-group. */
__kernel void im2col(__global const float *x, __global float *col, ConvGeom g)
{
    int oy = get_global_id(0), n = get_global_id(1), row = get_global_id(2);
    if (oy >= g.oh || n >= g.n || row >= g.c * g.kh * g.kw)
        return;
    int c = row / (g.kh * g.kw), r = row - c * g.kh * g.kw, ki = r / g.kw, kj = r - ki * g.kw;
    int iy = oy * g.sh - g.ph + ki, x0 = kj - g.pw;
    __global float *out = col + (size_t)row * g.n * g.oh * g.ow + ((size_t)n * g.oh + oy) * g.ow;
    if (iy < 0 || iy >= g.h) {
        for (int ox = 0; ox < g.ow; ox++)
            out[ox] = 0.0f;
        return;
    }
    __global const float *xr = x + ((size_t)(n * g.c + c) * g.h + iy) * g.w;
    for (int ox = 0; ox < g.ow; ox++) {
        int ix = ox * g.sw + x0;
        out[ox] = ix >= 0 && ix < g.w ? xr[ix] : 0.0f;
    }
}

/* dx[n, c, y, x] = sum of dcol over the (kernel offset, output) pairs that read
 * it: a gather, so no two work-items write one element. Launched as (W, H,
 * N*C), a plane to a work-group (launch_planes). */
__kernel void col2im(__global const float *dcol, __global float *dx, ConvGeom g)
{
    int ix = get_global_id(0), iy = get_global_id(1), nc = get_global_id(2);
    if (ix >= g.w || iy >= g.h || nc >= g.n * g.c)
        return;
    int n = nc / g.c, c = nc - n * g.c, i = (nc * g.h + iy) * g.w + ix;
    int P = g.oh * g.ow, cols = g.n * P;
    float s = 0.0f;
    for (int ki = 0; ki < g.kh; ki++) {
        int ty = iy + g.ph - ki;
        if (ty < 0 || ty % g.sh)
            continue;
        int oy = ty / g.sh;
        if (oy >= g.oh)
            continue;
        for (int kj = 0; kj < g.kw; kj++) {
            int tx = ix + g.pw - kj;
            if (tx < 0 || (g.sw != 1 && tx % g.sw))
                continue;
            int ox = g.sw == 1 ? tx : tx / g.sw; /* this one varies across the vector lanes */
            if (ox >= g.ow)
                continue;
            int row = (c * g.kh + ki) * g.kw + kj;
            s += dcol[row * cols + (n * g.oh + oy) * g.ow + ox];
        }
    }
    dx[i] = s;
}

/* y[n, o, p] = act(t[o, n*P + p] + b[o]); b is NULL for a layer without bias */
__kernel void cnp_to_nchw(__global const float *t, __global const float *b, __global float *y,
                          int N, int O, int P, int act)
{
    int p = get_global_id(0), no = get_global_id(1);
    if (p >= P || no >= N * O)
        return;
    int n = no / O, o = no % O;
    y[no * P + p] = act_apply(t[(o * N + n) * P + p] + (b ? b[o] : 0.0f), act);
}

/* t[o, n*P + p] = dy[n, o, p] * act'(y[n, o, p]) */
__kernel void nchw_to_cnp(__global const float *dy, __global const float *y, __global float *t,
                          int N, int O, int P, int act)
{
    int p = get_global_id(0), no = get_global_id(1);
    if (p >= P || no >= N * O)
        return;
    int n = no / O, o = no % O;
    t[(o * N + n) * P + p] = dy[no * P + p] * act_grad(y[no * P + p], act);
}
