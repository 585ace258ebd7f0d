/* tiled.cl: the gpu plan's kernels (runtime/plan.h): matrix products and the
 * convolution's forward pass as local-memory tiled GEMMs, the convolution's
 * layout kernels a work-item per element, and reductions as trees.
 *
 * A tiled kernel runs in groups of TG x TG work-items (TG 1 to 16, as the
 * kernel's limit on the device allows: runtime/plan.c) that compute a TILE x
 * TILE block of the output, 4 x 4 values a work-item, in steps of TK along k:
 * each step the group loads a TILE x TK tile of each operand into local
 * memory, consecutive work-items reading consecutive addresses whichever
 * operand stride is 1 (zeros past the edges), then every work-item does its
 * 4 x 4 x TK multiply-adds from local memory. Work-item (tx, ty) computes
 * rows ty + TG*i and columns tx + TG*j, so its neighbours in a warp store
 * neighbouring columns. Every output is summed along k in one fixed order,
 * so the same inputs give the same bits on every run. TG and TK come from
 * the plan's build options. ConvGeom is cl/conv.cl's, which comes first in
 * the program. */
#ifndef TG
#define TG 16
#endif
#ifndef TK
#define TK 16
#endif
#define TILE (4 * TG)
#define TG_ITEMS (TG * TG)
#define TILE_LOADS (TILE * TK / TG_ITEMS) /* elements a work-item loads per tile */
/* A group of one work-item needs no barrier, and POCL 3.1's work-group
 * compiler fails an assertion (ParallelRegion.cc:346) on these kernels'
 * barriers when it is built for groups of one. */
#if TG_ITEMS > 1
#define TILE_BARRIER() barrier(CLK_LOCAL_MEM_FENCE)
#else
#define TILE_BARRIER()
#endif

/* acc[i] (columns j = 0..3 as its components) += the sum over k of
 * as[k][ty + TG*i] * bs[k][tx + TG*j]. The sums are 4 float4 rows, not 16
 * scalars, and the kernels below step through k in a single loop, because a
 * CPU driver keeps every value that lives across a barrier in an array of
 * its own for each loop that carries it (POCL: 16 scalars in two nested
 * loops made gemm_tiled 3.3x the code and its first launch 2.6x the compile
 * time). GPU compilers keep either form in registers (tools/gpu-resources). */
static inline void tile_multiply(__local const float (*as)[TILE + 1], __local const float (*bs)[TILE + 1],
                          int tx, int ty, float4 acc[4])
{
    for (int k = 0; k < TK; k++) {
        float4 b = (float4)(bs[k][tx], bs[k][tx + TG], bs[k][tx + 2 * TG], bs[k][tx + 3 * TG]);
#pragma unroll
        for (int i = 0; i < 4; i++)
            acc[i] = fma((float4)(as[k][ty + TG * i]), b, acc[i]);
    }
}

/* One operand's TILE x TK tile at (row r0, k0) into t[k][r]: element (r, k)
 * at M[r * s_r + k * s_k], zero at or past rows or kn. Consecutive work-items
 * take consecutive k when s_k is 1, else consecutive rows. */
static inline void load_tile(__local float (*t)[TILE + 1], __global const float *M, int s_r, int s_k,
                      int r0, int rows, int k0, int kn, int lid)
{
    for (int l = 0; l < TILE_LOADS; l++) {
        int idx = lid + l * TG_ITEMS, r, k;
        if (s_k == 1)
            r = idx / TK, k = idx - r * TK;
        else
            k = idx / TILE, r = idx - k * TILE;
        int gr = r0 + r, gk = k0 + k;
        t[k][r] = gr < rows && gk < kn ? M[gr * s_r + gk * s_k] : 0.0f;
    }
}

/* tile_multiply's sums as a 4 x 4 array, for the stores at the edges. */
static inline void unpack_sums(const float4 acc[4], float sums[4][4])
{
#pragma unroll
    for (int i = 0; i < 4; i++)
        vstore4(acc[i], 0, sums[i]);
}

/* C[m, n] (+)= the sum over k of A(m, k) B(k, n), A(m, k) = A[m * a_sm + k *
 * a_sk] and B(k, n) = B[k * b_sk + n * b_sn], any strides: gemm_nn's and
 * gemm_nt's contract (cl/gemm.cl), items and splits alike. Launched as
 * (ceil(N / TILE) * TG, ceil(M / TILE) * TG, splits) in groups of (TG, TG, 1). */
__kernel void gemm_tiled(int M, int N, int K, int k_total, int per_split, int split0,
                         __global const float *A, int a_sm, int a_sk, int a_item,
                         __global const float *B, int b_sk, int b_sn, int b_item,
                         __global float *C, int ldc, int c_split, int accumulate)
{
    __local float as[TK][TILE + 1], bs[TK][TILE + 1];
    int tx = get_local_id(0), ty = get_local_id(1), lid = ty * TG + tx;
    int n0 = get_group_id(0) * TILE, m0 = get_group_id(1) * TILE, z = get_global_id(2);
    int items = (k_total + K - 1) / K, first = (split0 + z) * per_split;
    if (first >= items)
        return; /* the whole group: dimension 2 has groups of one split */
    int last = min(first + per_split, items);
    float4 acc[4] = {(float4)(0.0f), (float4)(0.0f), (float4)(0.0f), (float4)(0.0f)};
    /* every item in steps of TK along k, past a short last item's end too
       (its tiles load as zeros, which add nothing) */
    int steps = (K + TK - 1) / TK;
    for (int step = first * steps; step < last * steps; step++) {
        int item = step / steps, k0 = (step - item * steps) * TK;
        int kn = min(K, k_total - item * K);
        load_tile(as, A + item * a_item, a_sm, a_sk, m0, M, k0, kn, lid);
        load_tile(bs, B + item * b_item, b_sn, b_sk, n0, N, k0, kn, lid);
        TILE_BARRIER();
        tile_multiply(as, bs, tx, ty, acc);
        TILE_BARRIER();
    }
    C += z * c_split;
    float sums[4][4];
    unpack_sums(acc, sums);
#pragma unroll
    for (int i = 0; i < 4; i++)
#pragma unroll
        for (int j = 0; j < 4; j++) {
            int m = m0 + ty + TG * i, n = n0 + tx + TG * j;
            if (m < M && n < N) {
                __global float *c = C + m * ldc + n;
                *c = accumulate ? *c + sums[i][j] : sums[i][j];
            }
        }
}

/* The image tile of conv_tiled: element (k, pixel) of the implicit column
 * matrix, k = (c*KH + i)*KW + j, zero outside the image, past K or past the
 * batch's pixels. A work-item loads the same PIX_SLOTS pixels of every tile
 * (one from 4 x 4 work-items on; more in smaller groups), so they come
 * decoded (xn: its example's image, iy0/ix0: its window's corner; xn NULL
 * past the last pixel), and K_ROWS rows of k at a time. */
#define PIX_SLOTS (TILE > TG_ITEMS ? TILE / TG_ITEMS : 1)
#define K_ROWS (TG_ITEMS > TILE ? TG_ITEMS / TILE : 1)

typedef struct {
    __global const float *xn;
    int iy0, ix0;
} TilePixel;

static inline void load_image_tile(__local float (*t)[TILE + 1], const TilePixel *px, int k0,
                                   int K, ConvGeom g, int lid)
{
    int area = g.kh * g.kw;
#pragma unroll
    for (int s = 0; s < PIX_SLOTS; s++) {
        int p = lid % TILE + s * TG_ITEMS;
        for (int l = 0; l < TK / K_ROWS; l++) {
            int k = lid / TILE + l * K_ROWS, gk = k0 + k;
            float v = 0.0f;
            if (px[s].xn && gk < K) {
                int c = gk / area, r = gk - c * area, i = r / g.kw, j = r - i * g.kw;
                int iy = px[s].iy0 + i, ix = px[s].ix0 + j;
                if (iy >= 0 && iy < g.h && ix >= 0 && ix < g.w)
                    v = px[s].xn[(c * g.h + iy) * g.w + ix];
            }
            t[k][p] = v;
        }
    }
}

/* conv_implicit's contract (cl/conv.cl) as a tiled implicit GEMM, with the
 * padding read as 0 here rather than written out: rows are output channels
 * (B, the weights as [C*KH*KW, b_cols], is the row operand, read along its
 * contiguous channels), columns the batch's output pixels (the image read
 * where it lies), bias and activation applied on the way out. Launched as
 * (ceil(N*OH*OW / TILE) * TG, ceil(OC / TILE) * TG) in groups of (TG, TG). */
__kernel void conv_tiled(__global const float *x, __global const float *B, int b_cols,
                         __global const float *bias, __global float *y, int OC, int act,
                         ConvGeom g)
{
    __local float as[TK][TILE + 1], bs[TK][TILE + 1];
    int tx = get_local_id(0), ty = get_local_id(1), lid = ty * TG + tx;
    int p0 = get_group_id(0) * TILE, o0 = get_group_id(1) * TILE;
    int P = g.oh * g.ow, NP = g.n * P, K = g.c * g.kh * g.kw;
    /* this work-item's pixels in every image tile */
    TilePixel px[PIX_SLOTS];
#pragma unroll
    for (int s = 0; s < PIX_SLOTS; s++) {
        int pix = p0 + lid % TILE + s * TG_ITEMS, n = pix / P, op = pix - n * P;
        int oy = op / g.ow, ox = op - oy * g.ow;
        px[s].xn = pix < NP ? x + (size_t)n * g.c * g.h * g.w : 0;
        px[s].iy0 = oy * g.sh - g.ph, px[s].ix0 = ox * g.sw - g.pw;
    }
    float4 acc[4] = {(float4)(0.0f), (float4)(0.0f), (float4)(0.0f), (float4)(0.0f)};
    for (int k0 = 0; k0 < K; k0 += TK) {
        load_tile(as, B, 1, b_cols, o0, OC, k0, K, lid);
        load_image_tile(bs, px, k0, K, g, lid);
        TILE_BARRIER();
        tile_multiply(as, bs, tx, ty, acc);
        TILE_BARRIER();
    }
    float sums[4][4];
    unpack_sums(acc, sums);
#pragma unroll
    for (int j = 0; j < 4; j++) {
        int q = p0 + tx + TG * j;
        if (q >= NP)
            continue;
        int qn = q / P, qp = q - qn * P;
#pragma unroll
        for (int i = 0; i < 4; i++) {
            int o = o0 + ty + TG * i;
            if (o < OC)
                y[(size_t)(qn * OC + o) * P + qp] =
                    act_apply(sums[i][j] + (bias ? bias[o] : 0.0f), act);
        }
    }
}

/* im2col's contract (cl/conv.cl), a work-item per element of the column
 * matrix [N, C*KH*KW, OH*OW], pixels fastest. Launched as (N*K*P). */
__kernel void im2col_items(__global const float *restrict x, __global float *restrict col,
                           ConvGeom g)
{
    int P = g.oh * g.ow, area = g.kh * g.kw, K = g.c * area;
    int idx = get_global_id(0);
    if (idx >= g.n * K * P)
        return;
    int p = idx % P, row = idx / P % K, n = idx / P / K;
    int c = row / area, i = (row - c * area) / g.kw, j = row - c * area - i * g.kw;
    int oy = p / g.ow, ox = p - oy * g.ow;
    int iy = oy * g.sh - g.ph + i, ix = ox * g.sw - g.pw + j;
    col[idx] = iy >= 0 && iy < g.h && ix >= 0 && ix < g.w
                   ? x[((size_t)(n * g.c + c) * g.h + iy) * g.w + ix] : 0.0f;
}

/* col2im's contract (cl/conv.cl), a work-item per element of dx [N, C, H, W]
 * gathering the column entries that read it, kernel offsets in order.
 * Launched as (N*C*H*W). */
__kernel void col2im_items(__global const float *restrict dcol, __global float *restrict dx,
                           ConvGeom g)
{
    int idx = get_global_id(0);
    if (idx >= g.n * g.c * g.h * g.w)
        return;
    int xw = idx % g.w, yh = idx / g.w % g.h, nc = idx / g.w / g.h, P = g.oh * g.ow;
    float s = 0.0f;
    for (int i = 0; i < g.kh; i++) {
        int ty = yh + g.ph - i;
        if (ty < 0 || ty % g.sh || ty / g.sh >= g.oh)
            continue;
        for (int j = 0; j < g.kw; j++) {
            int tx = xw + g.pw - j;
            if (tx < 0 || tx % g.sw || tx / g.sw >= g.ow)
                continue;
            s += dcol[((size_t)(nc * g.kh + i) * g.kw + j) * P + ty / g.sh * g.ow + tx / g.sw];
        }
    }
    dx[idx] = s;
}

/* out[c] = the sum over n < N and p < P of in[(n*C + c)*P + p]: bias
 * gradients (dense: P = 1; conv2d: P pixels). A group a channel: each
 * work-item sums a strided share in order, then the group adds the shares
 * as a tree, the same order every run. Launched as (C * group) in groups of
 * a power of two up to 256. */
__kernel void sum_channels(__global const float *in, __global float *out, int N, int C, int P)
{
    __local float part[256];
    int lid = get_local_id(0), size = get_local_size(0), c = get_group_id(0);
    float s = 0.0f;
    for (int i = lid; i < N * P; i += size) {
        int n = i / P;
        s += in[(n * C + c) * P + i - n * P];
    }
    part[lid] = s;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = size / 2; width > 0; width /= 2) {
        if (lid < width)
            part[lid] += part[lid + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    if (lid == 0)
        out[c] = part[0];
}

/* find_nonfinite's contract (cl/check.cl) over a grid of any size: each
 * work-item strides over x, so neighbours read neighbouring values. */
__kernel void find_nonfinite_grid(__global const float *x, int offset, int n,
                                  __global int *first, int code)
{
    int bad = 0;
    for (int i = get_global_id(0); i < n; i += get_global_size(0))
        bad |= !isfinite(x[offset + i]);
    if (bad)
        atomic_min(first, code);
}
