/* conv.cl: 2-D convolution as im2col + GEMM (gemm.cl).
 *
 * Layouts: x is [N, C, H, W]; the column matrix is [N*OH*OW, C*KH*KW], a row
 * per output pixel, so the GEMM with the [OC, C*KH*KW] weights, Y^T = col W^T,
 * streams both operands along their rows and gives [N*OH*OW, OC], which
 * npo_to_nchw turns into [N, OC, OH, OW] while adding bias and activation. */

typedef struct {
    int n, c, h, w;       /* input */
    int kh, kw, sh, sw, ph, pw;
    int oh, ow;           /* output size */
} ConvGeom;

/* col[n*P + p, (c*KH + i)*KW + j] = x[n, c, oy*SH - PH + i, ox*SW - PW + j] or 0,
 * with p = oy*OW + ox. Launched as (OW, OH, N), an output plane of one
 * example to a work-group (launch_planes): each work-item writes its row of
 * the column matrix, contiguous, and nothing divides. */
__kernel void im2col(__global const float *x, __global float *col, ConvGeom g)
{
    int ox = get_global_id(0), oy = get_global_id(1), n = get_global_id(2);
    if (ox >= g.ow || oy >= g.oh || n >= g.n)
        return;
    __global float *out = col + ((size_t)(n * g.oh + oy) * g.ow + ox) * (g.c * g.kh * g.kw);
    int y0 = oy * g.sh - g.ph, x0 = ox * g.sw - g.pw;
    for (int c = 0; c < g.c; c++) {
        __global const float *xc = x + (size_t)(n * g.c + c) * g.h * g.w;
        for (int ki = 0; ki < g.kh; ki++) {
            int iy = y0 + ki;
            int inside = iy >= 0 && iy < g.h;
            for (int kj = 0; kj < g.kw; kj++) {
                int ix = x0 + kj;
                *out++ = inside && ix >= 0 && ix < g.w ? xc[iy * g.w + ix] : 0.0f;
            }
        }
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
    int K = g.c * g.kh * g.kw;
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
            s += dcol[((size_t)(n * g.oh + oy) * g.ow + ox) * K + row];
        }
    }
    dx[i] = s;
}

/* y[n, o, p] = act(t[n*P + p, o] + b[o]); b is NULL for a layer without bias */
__kernel void npo_to_nchw(__global const float *t, __global const float *b, __global float *y,
                          int N, int O, int P, int act)
{
    int p = get_global_id(0), no = get_global_id(1);
    if (p >= P || no >= N * O)
        return;
    int n = no / O, o = no % O;
    y[no * P + p] = act_apply(t[(n * P + p) * O + o] + (b ? b[o] : 0.0f), act);
}

/* t[n*P + p, o] = dy[n, o, p] * act'(y[n, o, p]) */
__kernel void nchw_to_npo(__global const float *dy, __global const float *y, __global float *t,
                          int N, int O, int P, int act)
{
    int p = get_global_id(0), no = get_global_id(1);
    if (p >= P || no >= N * O)
        return;
    int n = no / O, o = no % O;
    t[(n * P + p) * O + o] = dy[no * P + p] * act_grad(y[no * P + p], act);
}
