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
 * with p = oy*OW + ox. Launched as (OW, OH, C*KH*KW * N), an output plane to
 * a work-group (launch_planes): neighbouring work-items write neighbouring
 * columns, and the divisions are the same for the whole group. */
__kernel void im2col(__global const float *x, __global float *col, ConvGeom g)
{
    int ox = get_global_id(0), oy = get_global_id(1), z = get_global_id(2);
    int P = g.oh * g.ow;
    if (ox >= g.ow || oy >= g.oh || z >= g.c * g.kh * g.kw * g.n)
        return;
    int row = z / g.n, n = z - row * g.n, p = oy * g.ow + ox;
    int c = row / (g.kh * g.kw), r = row - c * g.kh * g.kw, ki = r / g.kw, kj = r - ki * g.kw;
    int iy = oy * g.sh - g.ph + ki, ix = ox * g.sw - g.pw + kj;
    float v = 0.0f;
    if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w)
        v = x[((n * g.c + c) * g.h + iy) * g.w + ix];
    col[(size_t)row * g.n * P + n * P + p] = v;
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
            if (tx < 0 || tx % g.sw)
                continue;
            int ox = tx / g.sw;
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
