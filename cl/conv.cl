/* conv.cl: 2-D convolution. Forward is an implicit GEMM (conv_implicit) that
 * reads the image where it lies; the gradients are batches of products
 * (gemm.cl) with a column matrix.
 *
 * Layouts: x is [N, C, H, W]; the column matrix is [N, C*KH*KW, OH*OW], a
 * row of output pixels per kernel offset for each example, so that im2col
 * and col2im run along rows of the image. */

typedef struct {
    int n, c, h, w;       /* input */
    int kh, kw, sh, sw, ph, pw;
    int oh, ow;           /* output size */
} ConvGeom;

/* The weights as the B operand of conv_implicit, C*KH*KW rows of b_cols
 * columns, zero past O: B[(c*KH + i)*KW + j][o] = w[o, c, i, j], stored in
 * panels of `panel` columns, each panel's rows one after the other (the
 * cpu plan's: a work-item reads its panel as one run of memory; rows of a
 * power-of-two length had its taps fight over a few cache sets), so that
 * with panel = b_cols it is the plain [rows, b_cols] matrix (the gpu
 * plan's). Launched as (b_cols, rows). */
__kernel void conv_weights_b(__global const float *w, __global float *b, int O, int C, int KH,
                             int KW, int b_cols, int panel)
{
    int o = get_global_id(0), row = get_global_id(1), rows = C * KH * KW;
    if (o >= b_cols || row >= rows)
        return;
    b[((o / panel) * rows + row) * panel + o % panel] = o < O ? w[o * rows + row] : 0.0f;
}

/* The weights as conv_implicit's B for the input gradient of a stride-1
 * convolution, itself a convolution of dz with the kernel turned by 180
 * degrees and channels swapped: O*KH*KW rows of b_cols columns, zero past C,
 * B[(o*KH + i)*KW + j][c] = w[o, c, KH-1-i, KW-1-j], in panels as
 * conv_weights_b's. Launched as (b_cols, rows). */
CPU_KERNEL void conv_weights_turned(__global const float *w, __global float *b, int O, int C,
                                    int KH, int KW, int b_cols, int panel)
{
    int c = get_global_id(0), row = get_global_id(1), area = KH * KW, rows = O * area;
    if (c >= b_cols || row >= rows)
        return;
    int o = row / area, i = (row - o * area) / KW, j = row - o * area - i * KW;
    b[((c / panel) * rows + row) * panel + c % panel] =
        c < C ? w[((o * C + c) * KH + KH - 1 - i) * KW + KW - 1 - j] : 0.0f;
}

/* Which conv_implicit computes: g's input [N, C, H, W] and output [N, OC, OH,
 * OW] (g.n, g.c, g.h, g.w, g.oh, g.ow), window and stride; the input's
 * padding is written out (pad_planes), so g has none and every tap lies
 * inside the image.
 *
 * The register block is the plan's (runtime/plan.c, build options): CI_TP
 * output pixels x 16 channels a work-item in conv_implicit, CI_TPW pixels x
 * 32 in conv_implicit_wide, the accumulators and a tap's B within the
 * device's vector registers (AVX-512's 32 hold 8 x 32, AVX2's 16 half as
 * many: the 8-pixel block spilled a third of its accumulators every tap
 * there). CI_TPMAX sizes the arrays both share. */
#define CI_TPMAX (CI_TP > CI_TPW ? CI_TP : CI_TPW)
#define CI_TO 16 /* output channels of a vector; a work-item computes 1 or 2 vectors */

/* y[n, o, oy, ox] = act(bias[o] + sum over c, i, j of
 *     x[n, c, oy*SH + i, ox*SW + j] * B[(c*KH + i)*KW + j][o]),
 * bias may be NULL, B in panels of V*16 columns (conv_weights_b). An
 * implicit GEMM: each work-item holds TP consecutive pixels of an output
 * plane (row after row, so a block may span rows and 4x4 maps fill every
 * lane) x V*16 channels in registers, the micro-kernel of gemm_nn (B rows 16
 * wide, broadcast image values), and reads the image where it lies instead
 * of a column matrix. Launched as (ceil(OH*OW / TP), N * b_cols / (V*16)),
 * one work-item a group; pixels past the plane are clamped for loads and
 * skipped for stores. TP and V are constants of each kernel below, so that
 * the compiler unrolls them away. */
static inline void conv_implicit_block(__global const float *x, __global const float *B,
                                       int b_cols, __global const float *bias,
                                       __global float *y, int OC, int act, ConvGeom g,
                                       const int TP, const int V)
{
    int P = g.oh * g.ow, p0 = get_global_id(0) * TP, nob = get_global_id(1);
    int ob = nob / g.n, n = nob - ob * g.n, o0 = ob * V * CI_TO;
    if (p0 >= P || o0 >= b_cols)
        return;
    int off[CI_TPMAX];
#pragma unroll
    for (int t = 0; t < TP; t++) {
        int p = min(p0 + t, P - 1), oy = p / g.ow;
        off[t] = oy * g.sh * g.w + (p - oy * g.ow) * g.sw;
    }
    float16 acc0[CI_TPMAX], acc1[CI_TPMAX];
    __global const float *px[CI_TPMAX], *xn = x + (size_t)n * g.c * g.h * g.w;
#pragma unroll
    for (int t = 0; t < TP; t++) {
        acc0[t] = acc1[t] = (float16)(0.0f);
        px[t] = xn + off[t];
    }
    /* one loop over the taps (c, i, j), the panel's rows in order, the
     * image offset of tap (c, i, j) kept as c*H*W + i*W + j: with the
     * window's rows as a loop of KW taps inside, the pixels' pointers were
     * set up in vector registers each row, and 6 pixels spilled on AVX2 */
    int taps = g.c * g.kh * g.kw, at = 0, i = 0, j = 0;
    __global const float *b = B + (size_t)ob * taps * V * CI_TO;
    for (int k = 0; k < taps; k++, b += V * CI_TO) {
        float16 bk0 = vload16(0, b), bk1 = V == 2 ? vload16(1, b) : bk0;
#pragma unroll
        for (int t = 0; t < TP; t++) {
            float16 v = (float16)(px[t][at]);
            acc0[t] = fma(v, bk0, acc0[t]);
            if (V == 2)
                acc1[t] = fma(v, bk1, acc1[t]);
        }
        at++;
        if (++j == g.kw) {
            j = 0, at += g.w - g.kw;
            if (++i == g.kh)
                i = 0, at += (g.h - g.kh) * g.w;
        }
    }
    /* turned to a run of TP pixels per channel */
    float v[CI_TPMAX][2 * CI_TO];
#pragma unroll
    for (int t = 0; t < TP; t++) {
        vstore16(acc0[t], 0, v[t]);
        if (V == 2)
            vstore16(acc1[t], 1, v[t]);
    }
    int run = min(TP, P - p0);
    for (int o = 0; o < V * CI_TO && o0 + o < OC; o++) {
        float add = bias ? bias[o0 + o] : 0.0f;
        __global float *out = y + (size_t)(n * OC + o0 + o) * P + p0;
        if (run == TP) {
#pragma unroll
            for (int t = 0; t < TP; t++)
                out[t] = act_apply(v[t][o] + add, act);
            continue;
        }
        for (int t = 0; t < run; t++)
            out[t] = act_apply(v[t][o] + add, act);
    }
}

/* 16 channels a work-item */
CPU_KERNEL void conv_implicit(__global const float *x, __global const float *B, int b_cols,
                              __global const float *bias, __global float *y, int OC, int act,
                              ConvGeom g)
{
    conv_implicit_block(x, B, b_cols, bias, y, OC, act, g, CI_TP, 1);
}

/* 32 channels a work-item: ten loads to sixteen multiply-adds a tap rather
 * than nine to eight with 8 pixels (1.1x on ResNet-18's convolutions on
 * AVX-512) */
CPU_KERNEL void conv_implicit_wide(__global const float *x, __global const float *B, int b_cols,
                                   __global const float *bias, __global float *y, int OC, int act,
                                   ConvGeom g)
{
    conv_implicit_block(x, B, b_cols, bias, y, OC, act, g, CI_TPW, 2);
}

/* xp[plane, y, x] = x[plane, y - PH, x - PW], or 0 outside the image: the
 * input of a padded convolution with its padding written out, HP x WP a
 * plane, as conv_implicit takes it (the cpu plan). A work-item writes a row
 * (loops the compiler vectorises; 2.5x a value a work-item). Launched as
 * (HP, C, N): no dimension grows with N * C (POCL compiles a kernel again
 * for a dimension 0 or 1 of 65,535 or more: 128 x 512 planes, ResNet-18's). */
CPU_KERNEL void pad_planes(__global const float *x, __global float *xp, ConvGeom g, int HP, int WP)
{
    int py = get_global_id(0), c = get_global_id(1), iy = py - g.ph;
    int plane = get_global_id(2) * g.c + c;
    if (py >= HP || c >= g.c || plane >= g.n * g.c)
        return;
    __global float *out = xp + ((size_t)plane * HP + py) * WP;
    int lead = min(g.pw, WP), run = iy >= 0 && iy < g.h ? clamp(WP - g.pw, 0, g.w) : 0;
    __global const float *in = x + ((size_t)plane * g.h + max(iy, 0)) * g.w;
    for (int px = 0; px < lead; px++)
        out[px] = 0.0f;
    for (int px = 0; px < run; px++)
        out[lead + px] = in[px];
    for (int px = lead + run; px < WP; px++)
        out[px] = 0.0f;
}

/* C (+)= the sum over items of A_i B_i, gemm_nn's product, items and splits
 * (cl/gemm.cl), B_i in panels of 16 columns (transpose_items), K rows of
 * b_sk floats each, b_cols a multiple of 16, with A the column matrix of a
 * convolution's input read where it lies: A(m, k) = x[c, oy*SH + i, ox*SW + j]
 * for row m = (c*KH + i)*KW + j and column k = oy*OW + ox (K = OH*OW), item
 * i's image at A + i * a_item with its padding written out (g has none). The
 * weight gradient dW^T = col . dz^T without the column matrix, which holds
 * the image KH*KW times over. Launched as gemm_nn, a block of 8 rows x 16
 * columns a work-item, summed in passes of CW_TM rows (the plan's: 8 where
 * the accumulators fit the vector registers, 4 with AVX2's sixteen, where 8
 * rows spilled), each pass reading the block's B again. */
CPU_KERNEL void conv_weight_grad(int M, int N, int K, int k_total, int per_split, int split0,
                                 __global const float *A, int a_item, __global const float *B,
                                 int b_sk, int b_item, int b_cols, __global float *C, int ldc,
                                 int c_split, int accumulate, ConvGeom g)
{
    int n0 = get_global_id(0) * 16, m0 = get_global_id(1) * 8, z = get_global_id(2);
    int items = (k_total + K - 1) / K, first = (split0 + z) * per_split;
    if (n0 >= N || m0 >= M || first >= items)
        return; /* past C, or a split past the last when dimension 2 is padded */
    int last = min(first + per_split, items), area = g.kh * g.kw, P = g.oh * g.ow;
    int nb = min(n0, b_cols - 16);
    for (int r0 = 0; r0 < 8 && m0 + r0 < M; r0 += CW_TM) {
        int row[CW_TM]; /* row t's first tap in an image */
#pragma unroll
        for (int t = 0; t < CW_TM; t++) {
            int m = min(m0 + r0 + t, M - 1), c = m / area, i = (m - c * area) / g.kw;
            row[t] = (c * g.h + i) * g.w + m - c * area - i * g.kw;
        }
        float16 acc[8]; /* the pass's rows in the first CW_TM, as store_rows16 takes them */
#pragma unroll
        for (int t = 0; t < CW_TM; t++)
            acc[t] = (float16)(0.0f);
        for (int item = first; item < last; item++) {
            __global const float *x = A + (size_t)item * a_item, *px[CW_TM];
            __global const float *b = B + (size_t)item * b_item + (size_t)(nb / 16) * K * b_sk;
#pragma unroll
            for (int t = 0; t < CW_TM; t++)
                px[t] = x + row[t];
            /* one loop over the pixels (oy, ox), the image offset kept as
             * oy*SH*W + ox*SW: a loop over a row of 4-32 pixels inside
             * spent more on setting up the rows' pointers than on the row */
            for (int k = 0, at = 0, ox = 0; k < P; k++, b += b_sk) {
                float16 bk = vload16(0, b);
#pragma unroll
                for (int t = 0; t < CW_TM; t++)
                    acc[t] = fma((float16)(px[t][at]), bk, acc[t]);
                at += g.sw;
                if (++ox == g.ow)
                    ox = 0, at += g.sh * g.w - g.ow * g.sw;
            }
        }
        store_rows16(C + z * c_split, ldc, acc, m0 + r0, min(M, m0 + r0 + CW_TM), n0, nb, N,
                     accumulate);
    }
}

/* out[item, c, r] = in[item, r, c]: each item's rows x cols matrix turned,
 * dz's [O, P] planes to rows of channels (the weight gradient's B operand)
 * and the weight gradient [C*KH*KW, O] back to [O, C*KH*KW]. With panels,
 * each item's turned matrix is stored in panels of 16 columns, each panel's
 * cols rows one after the other, columns past rows 0 (as conv_weight_grad
 * reads it); else as one [cols, rows] matrix. A work-item turns a tile of
 * 16 x 16, read and written 16 wide (a value a work-item, the stores went
 * one by one); tiles at the edges value by value. Its loops stay rolled:
 * unrolled, the tile's 256 values in 16 vectors made POCL spend 1.5-2.3 s
 * compiling the kernel at its first launch (a 30 KB .so), rolled 0.4-0.6 s
 * (13.5 KB), and it ran no slower (bench/RESULTS.md, "Cold start: the
 * compiles"). Launched as (ceil(cols / 16), ceil(rows / 16), items), one
 * work-item a group. */
#define TR_SIDE 16

CPU_KERNEL void transpose_items(__global const float *restrict in, __global float *restrict out,
                                int rows, int cols, int items, int panels)
{
    int c0 = get_global_id(0) * TR_SIDE, r0 = get_global_id(1) * TR_SIDE;
    int item = get_global_id(2);
    if (c0 >= cols || r0 >= rows || item >= items)
        return;
    int out_rows = panels ? (rows + TR_SIDE - 1) / TR_SIDE * TR_SIDE : rows;
    in += (size_t)item * rows * cols;
    out += (size_t)item * out_rows * cols;
    /* out's (c, r) for r in this tile's rows: o[c * step + r - r0] */
    __global float *o = out + (panels ? (size_t)r0 * cols : (size_t)r0);
    size_t step = panels ? TR_SIDE : rows;
    if (c0 + TR_SIDE > cols || r0 + TR_SIDE > rows) {
        for (int r = r0; r < min(out_rows, r0 + TR_SIDE); r++)
            for (int c = c0; c < min(cols, c0 + TR_SIDE); c++)
                o[c * step + r - r0] = r < rows ? in[(size_t)r * cols + c] : 0.0f;
        return;
    }
    float t[TR_SIDE][TR_SIDE];
#pragma unroll 1
    for (int r = 0; r < TR_SIDE; r++)
        vstore16(vload16(0, in + (size_t)(r0 + r) * cols + c0), 0, t[r]);
#pragma unroll 1
    for (int c = 0; c < TR_SIDE; c++) {
        float v[TR_SIDE];
        for (int r = 0; r < TR_SIDE; r++)
            v[r] = t[r][c];
        vstore16(vload16(0, v), 0, o + (c0 + c) * step);
    }
}

/* col[n, (c*KH + i)*KW + j, oy*OW + ox] = x[n, c, oy*SH - PH + i, ox*SW - PW + j],
 * or 0 outside the image: a row of output pixels per kernel offset. A
 * work-item writes a row, output row by output row, copying the run that
 * lands inside the image (a loop the compiler vectorises). Launched as
 * (C*KH*KW, N). */
CPU_KERNEL void im2col(__global const float *restrict x, __global float *restrict col, ConvGeom g)
{
    int row = get_global_id(0), n = get_global_id(1), area = g.kh * g.kw;
    if (row >= g.c * area || n >= g.n)
        return;
    int c = row / area, ki = (row - c * area) / g.kw, kj = row - c * area - ki * g.kw;
    int lead = g.pw - kj, first = min(g.ow, lead > 0 ? (lead + g.sw - 1) / g.sw : 0);
    int end = max(first, min(g.ow, (g.w - 1 + lead) / g.sw + 1));
    __global const float *xc = x + (size_t)(n * g.c + c) * g.h * g.w;
    __global float *out = col + ((size_t)n * g.c * area + row) * g.oh * g.ow;
    for (int oy = 0; oy < g.oh; oy++, out += g.ow) {
        int iy = oy * g.sh - g.ph + ki;
        if (iy < 0 || iy >= g.h) {
            for (int ox = 0; ox < g.ow; ox++)
                out[ox] = 0.0f;
            continue;
        }
        __global const float *xr = xc + iy * g.w - lead; /* pixel ox*SW of the run */
        for (int ox = 0; ox < first; ox++)
            out[ox] = 0.0f;
        if (g.sw == 1)
            for (int ox = first; ox < end; ox++)
                out[ox] = xr[ox];
        else
            for (int ox = first; ox < end; ox++)
                out[ox] = xr[ox * g.sw];
        for (int ox = end; ox < g.ow; ox++)
            out[ox] = 0.0f;
    }
}

/* dx[n, c, y, x] = the sum of dcol[n, (c*KH + i)*KW + j, oy*OW + ox] over the
 * kernel offsets (i, j) and outputs (oy, ox) that read it, dcol a row of
 * pixels per kernel offset for each example. A work-item sums a row of dx in
 * place, offset by offset, along the row (a loop the compiler vectorises);
 * no two work-items write one element. Launched as (H, C, N), as pad_planes. */
CPU_KERNEL void col2im(__global const float *restrict dcol, __global float *restrict dx, ConvGeom g)
{
    int iy = get_global_id(0), c = get_global_id(1), nc = get_global_id(2) * g.c + c;
    if (iy >= g.h || c >= g.c || nc >= g.n * g.c)
        return;
    __global float *out = dx + (nc * g.h + iy) * g.w;
    for (int ix = 0; ix < g.w; ix++)
        out[ix] = 0.0f;
    int P = g.oh * g.ow;
    for (int ki = 0; ki < g.kh; ki++) {
        int ty = iy + g.ph - ki;
        if (ty < 0 || ty % g.sh || ty / g.sh >= g.oh)
            continue;
        for (int kj = 0; kj < g.kw; kj++) {
            /* dx pixel ox*SW - PW + kj for the outputs ox that land inside */
            int lead = g.pw - kj, first = lead > 0 ? (lead + g.sw - 1) / g.sw : 0;
            int end = min(g.ow, (g.w - 1 + lead) / g.sw + 1);
            __global const float *d = dcol + ((size_t)(nc * g.kh + ki) * g.kw + kj) * P +
                                      ty / g.sh * g.ow;
            __global float *o = out - lead;
            if (g.sw == 1)
                for (int ox = first; ox < end; ox++)
                    o[ox] += d[ox];
            else
                for (int ox = first; ox < end; ox++)
                    o[ox * g.sw] += d[ox];
        }
    }
}
