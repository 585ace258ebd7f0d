/* gemm.cl: the matrix products every dense and convolution layer is built on.
 *
 * C[m, n] = sum_k A(m, k) * B(k, n)  (+ C[m, n] when accumulate)
 * with A(m, k) = A[m * a_sm + k * a_sk] and B(k, n) = B[k * b_sk + n * b_sn],
 * so the callers' transposes are strides. gemm_nn takes B's rows contiguous
 * (b_sn = 1), gemm_nt both operands along k (a_sk = b_sk = 1). */

/* Each work-item computes a 12 x 32 block of C, in register passes shaped
 * for the vector unit the compiler targets (POCL defines the CPU's feature
 * macros): a pass keeps NN_MR rows x two NN_MW-wide vectors of C in
 * registers and, per k, loads two vectors of B, broadcasts NN_MR values of
 * A and issues 2 NN_MR multiply-adds. Enough independent accumulators keep
 * both FMA pipes busy through the FMA's latency (4 cycles x 2 pipes: at
 * least 8), and all of them, B's vectors and a broadcast fit the register
 * file: with AVX-512 one pass of 12 x 32 (24 of the 32 zmm registers), with
 * AVX2 and elsewhere four passes of 6 x 16 (12 of the 16 ymm; the former
 * 8 x 16 block in float16 took all 16 and spilled accumulators to the
 * stack every k step, as the disassembly of POCL's cached gemm_nn.so
 * showed). A pass's A rows and B columns stay in L1 for the next pass.
 * The loops over the block are unrolled so that the compiler keeps the
 * accumulators in registers, and A and B are walked by pointers.
 *
 * B is read from b_off on, either as it is (b_panel = 16) or packed by
 * pack_panels into panels of 16 columns, each k_total rows of 16 floats,
 * b_panel floats apart (b_sk = 16): a pass's B then lies in one run of
 * memory that the prefetchers follow, where rows of B a whole row apart
 * each touched another page (1024^3: 95 GFLOP/s of CPU time unpacked, and
 * 150 for a B of 32 columns, which is one run).
 *
 * A is read from a_off on, either at its strides (a_panel = 0) or, with B
 * packed, packed by pack_rows into panels of NN_TM rows, k-major (the
 * NN_TM values of a k step side by side), a_panel floats apart (a_sm = 1,
 * a_sk = NN_TM), as BLIS packs A: a pass then walks one pointer into A and
 * one into B, both by constants, and broadcasts at constant offsets. Read
 * at their strides, A's six rows took six pointers, which with the block's
 * and items' bookkeeping outnumbered x86-64's 16 general registers: the
 * AVX2 loop reloaded the row offsets from the stack every k step (6 movs
 * beside its 12 multiply-adds, in the disassembly of POCL's gemm_nn.so);
 * packed, its two k steps an iteration are 24 multiply-adds, 4 loads of B,
 * 12 broadcasts and three adds and a branch.
 *
 * Rows past M are clamped for loads (zero in a packed A) and skipped for
 * stores. B's rows hold b_cols >= N readable floats (zero padding past N,
 * when the caller made B).
 * A pass whose columns would read past b_cols reads the 2 NN_MW that end
 * there instead and stores only its own (at or past its first, below N);
 * only a B narrower than 2 NN_MW takes the scalar path.
 *
 * Items and splits: item i multiplies A + i * a_item by B + i * b_item over
 * min(K, k_total - i * K) of k, and split s = split0 + z (z along dimension 2)
 * sums items [s * per_split, (s + 1) * per_split) into C + z * c_split: splits
 * that run in turn pass theirs as split0, never as a global offset, which POCL
 * would compile the kernel once more for. One product is
 * one item; a long K cut into chunks is items along the same matrices
 * (a_item = K * a_sk); a batch of products is items with matrices of their
 * own, one a split, or several a split and the splits' partial products added
 * up by sum_splits. */
#define NN_TM 12
#define NN_TN 32
#if defined(__AVX512F__)
#define NN_MW 16
#define NN_MR 12
#define NN_NV 2
#else
#define NN_MW 8
#define NN_MR 6
#define NN_NV 2
#endif
#define NN_PW (NN_NV * NN_MW) /* a pass's columns */
#define NN_KC 256              /* k steps a block (see gemm_nn) */
#define NN_CAT_(a, b) a##b
#define NN_CAT(a, b) NN_CAT_(a, b)
#define NN_VEC NN_CAT(float, NN_MW)
#define NN_VLOAD NN_CAT(vload, NN_MW)
#define NN_VSTORE NN_CAT(vstore, NN_MW)

/* Stores a pass's rows m0.. (below M) of acc, computed from column nb, into
 * C's columns own.. (below N), adding to C when accumulate. */
static inline void nn_store(__global float *C, int ldc, NN_VEC acc[NN_MR][NN_NV], int m0, int M,
                            int own, int nb, int N, int accumulate)
{
    /* no break in the unrolled loop: acc is indexed by constants only, so it
     * stays in registers (a break left it in memory, stored every k step) */
#pragma unroll
    for (int i = 0; i < NN_MR; i++) {
        __global float *c = C + min(m0 + i, M - 1) * ldc + nb;
        if (m0 + i < M && nb == own && own + NN_PW <= N) {
#pragma unroll
            for (int j = 0; j < NN_NV; j++)
                NN_VSTORE(accumulate ? NN_VLOAD(j, c) + acc[i][j] : acc[i][j], j, c);
        } else if (m0 + i < M) {
            float v[NN_PW];
#pragma unroll
            for (int j = 0; j < NN_NV; j++)
                NN_VSTORE(acc[i][j], j, v);
            for (int j = own - nb; j < NN_PW && nb + j < N; j++)
                c[j] = accumulate ? c[j] + v[j] : v[j];
        }
    }
}

/* The items [first, last) of split `split`, per_split a split, of the
 * items of K that k_total makes; 0 for a split past the last (dimension 2
 * padded), which computes nothing. */
static inline int split_items(int K, int k_total, int per_split, int split, int *first,
                              int *last)
{
    int items = (k_total + K - 1) / K;
    *first = split * per_split;
    *last = min(*first + per_split, items);
    return *first < items;
}

/* Items along the same matrices (a long K cut into chunks): one run of k. */
static inline int nn_one_run(int K, int a_sk, int a_item, int b_sk, int b_item)
{
    return a_item == K * a_sk && b_item == K * b_sk;
}

/* acc = C's rows m0.. (below M), columns own.. (below N), as nn_store lays
 * them out from column nb: a pass's sum so far, for its next K block. */
static inline void nn_load(NN_VEC acc[NN_MR][NN_NV], __global const float *C, int ldc, int m0,
                           int M, int own, int nb, int N)
{
#pragma unroll
    for (int i = 0; i < NN_MR; i++) {
        __global const float *c = C + min(m0 + i, M - 1) * ldc + nb;
        if (nb == own && own + NN_PW <= N) {
#pragma unroll
            for (int j = 0; j < NN_NV; j++)
                acc[i][j] = NN_VLOAD(j, c);
        } else {
            float v[NN_PW];
            for (int j = 0; j < NN_PW; j++)
                v[j] = j >= own - nb && nb + j < N ? c[j] : 0.0f;
#pragma unroll
            for (int j = 0; j < NN_NV; j++)
                acc[i][j] = NN_VLOAD(j, v);
        }
    }
}

static inline void nn_zero(NN_VEC acc[NN_MR][NN_NV])
{
#pragma unroll
    for (int i = 0; i < NN_MR; i++)
#pragma unroll
        for (int j = 0; j < NN_NV; j++)
            acc[i][j] = (NN_VEC)(0.0f);
}

/* One k step of a register pass: B's vectors at bv[j] + bo, A's rows at
 * offset ao. */
static inline void nn_step(NN_VEC acc[NN_MR][NN_NV], __global const float *arow[NN_MR], int ao,
                           __global const float *bv[NN_NV], int bo)
{
    NN_VEC b[NN_NV];
#pragma unroll
    for (int j = 0; j < NN_NV; j++)
        b[j] = NN_VLOAD(0, bv[j] + bo);
#pragma unroll
    for (int i = 0; i < NN_MR; i++) {
        NN_VEC a = (NN_VEC)(arow[i][ao]);
#pragma unroll
        for (int j = 0; j < NN_NV; j++)
            acc[i][j] = fma(a, b[j], acc[i][j]);
    }
}

/* One k step of a register pass over packed operands (see gemm_nn): A's
 * rows at a[0..NN_MR), B's vectors at b + j NN_MW in its panel of 16, the
 * next panel b_panel on. With AVX2 both offsets are constants, so the k loop
 * walks one pointer into each operand. */
static inline void nn_step_packed(NN_VEC acc[NN_MR][NN_NV], __global const float *a,
                                  __global const float *b, int b_panel)
{
    NN_VEC bv[NN_NV];
#pragma unroll
    for (int j = 0; j < NN_NV; j++)
        bv[j] = NN_VLOAD(0, b + j * NN_MW / 16 * b_panel + j * NN_MW % 16);
#pragma unroll
    for (int i = 0; i < NN_MR; i++) {
        NN_VEC av = (NN_VEC)(a[i]);
#pragma unroll
        for (int j = 0; j < NN_NV; j++)
            acc[i][j] = fma(av, bv[j], acc[i][j]);
    }
}

/* One register pass: rows m0.. and the NN_PW columns from nb, over the k steps [k0, k1) of
 * items [first, last), added to acc. The items' k steps are one loop: nested loops kept a
 * second copy of the accumulators for the outer loop and spilled them every k step. Items along
 * the same matrices (a long K cut into chunks) are one run of k; items of matrices of their own
 * move to the next item's at an item's end, at the cost of the registers that takes. */
static inline void nn_pass(NN_VEC acc[NN_MR][NN_NV], int M, int K, int k_total, int first, int last,
                           int k0, int k1, int m0, int nb, __global const float *A, int a_sm,
                           int a_sk, int a_item, int a_panel, __global const float *B, int b_sk,
                           int b_item, int b_panel)
{
    if (a_panel) { /* both packed, items along the same matrices */
        __global const float *a =
            A + m0 / NN_TM * a_panel + m0 % NN_TM + first * a_item + k0 * NN_TM;
        __global const float *b = B + (nb >> 4) * b_panel + first * b_item + k0 * 16;
#pragma unroll 2
        for (int t = k0; t < k1; t++, a += NN_TM, b += 16)
            nn_step_packed(acc, a, b, b_panel);
        return;
    }
    __global const float *arow[NN_MR], *bv[NN_NV];
#pragma unroll
    for (int j = 0; j < NN_NV; j++) { /* column c in its panel of 16 */
        int c = nb + j * NN_MW;
        bv[j] = B + (c >> 4) * b_panel + (c & 15);
    }
#pragma unroll
    for (int i = 0; i < NN_MR; i++)
        arow[i] = A + min(m0 + i, M - 1) * a_sm;
    int item = first, kn = min(K, k_total - item * K);
    int ao = item * a_item + k0 * a_sk, bo = item * b_item + k0 * b_sk;
    if (nn_one_run(K, a_sk, a_item, b_sk, b_item)) {
        /* two k steps a loop: 1024^3 at 135 GFLOP/s of CPU time against 124
         * with one (measured alternately); four ran at 92-98 */
#pragma unroll 2
        for (int t = k0; t < k1; t++, ao += a_sk, bo += b_sk)
            nn_step(acc, arow, ao, bv, bo);
        return;
    }
    for (int t = k0, k = 0; t < k1; t++) { /* k0 = 0 here */
        nn_step(acc, arow, ao, bv, bo);
        ao += a_sk, bo += b_sk;
        if (++k == kn) { /* the next item's matrices */
            item++, k = 0;
            kn = min(K, k_total - item * K);
            ao = item * a_item, bo = item * b_item;
        }
    }
}

CPU_KERNEL void gemm_nn(int M, int N, int K, int k_total, int per_split, int split0,
                        __global const float *A, int a_off, int a_sm, int a_sk, int a_item,
                        int a_panel,
                        __global const float *B, int b_off, int b_sk, int b_item, int b_cols,
                        int b_panel, __global float *C, int ldc, int c_split, int accumulate)
{
    A += a_off, B += b_off;
    int n0 = get_global_id(0) * NN_TN, m0 = get_global_id(1) * NN_TM, z = get_global_id(2);
    int first, last;
    if (n0 >= N || m0 >= M || !split_items(K, k_total, per_split, split0 + z, &first, &last))
        return;
    C += z * c_split;
    if (b_cols >= NN_PW) {
        /* k in blocks of NN_KC, each pass's sum kept in C between them (its
         * k steps one multiply-add chain all the same): a pass's B, NN_KC
         * rows of NN_PW floats, stays in L1 for the block's next row pass */
        int steps = min(last * K, k_total) - first * K;
        int kc = nn_one_run(K, a_sk, a_item, b_sk, b_item) ? NN_KC : steps;
        for (int k0 = 0; k0 < steps; k0 += kc)
            for (int r = m0; r < m0 + NN_TM && r < M; r += NN_MR)
                for (int own = n0; own < n0 + NN_TN && own < N; own += NN_PW) {
                    int nb = min(own, b_cols - NN_PW); /* first column this pass computes */
                    NN_VEC acc[NN_MR][NN_NV];
                    if (k0)
                        nn_load(acc, C, ldc, r, M, own, nb, N);
                    else
                        nn_zero(acc);
                    nn_pass(acc, M, K, k_total, first, last, k0, min(k0 + kc, steps), r, nb, A,
                            a_sm, a_sk, a_item, a_panel, B, b_sk, b_item, b_panel);
                    nn_store(C, ldc, acc, r, M, own, nb, N, accumulate && !k0);
                }
        return;
    }
    for (int i = 0; i < NN_TM && m0 + i < M; i++)
        for (int n = n0; n < N; n++) {
            float s = 0.0f;
            for (int item = first; item < last; item++) {
                __global const float *a = A + item * a_item + (m0 + i) * a_sm;
                __global const float *b = B + item * b_item + n;
                for (int k = 0; k < min(K, k_total - item * K); k++)
                    s = fma(a[k * a_sk], b[k * b_sk], s);
            }
            __global float *c = C + (m0 + i) * ldc + n;
            *c = accumulate ? *c + s : s;
        }
}

/* Bp from bp_off, panel p (columns 16p.. 16p + 15), row k = B's row k there, zero past N:
 * gemm_nn's B in panels (see there), a work-item a panel's row. */
CPU_KERNEL void pack_panels(__global const float *B, int b_sk, int K, int N, __global float *Bp,
                            int bp_off)
{
    Bp += bp_off;
    int p = get_global_id(0), k = get_global_id(1);
    if (p * 16 >= N || k >= K)
        return;
    __global const float *b = B + k * b_sk + p * 16;
    __global float *out = Bp + ((size_t)p * K + k) * 16;
    if (p * 16 + 16 <= N) {
        vstore16(vload16(0, b), 0, out);
        return;
    }
    for (int j = 0; j < 16; j++)
        out[j] = p * 16 + j < N ? b[j] : 0.0f;
}

/* Bp as pack_panels packs it, from a B read along k (b_sk = 1, its columns
 * b_sn apart: a dense layer's W^T), zero past N: a work-item a 16 x 16 tile,
 * panel p's rows k0.. k0 + 15, its 16 columns loaded 16 wide along k and
 * written out a row at a time, as transpose_items does (cl/conv.cl); the
 * loops kept rolled, which POCL compiles quickly. K's last rows one by one. */
CPU_KERNEL void pack_panels_t(__global const float *B, int b_sn, int K, int N, __global float *Bp,
                              int bp_off)
{
    int p = get_global_id(0), k0 = get_global_id(1) * 16;
    if (p * 16 >= N || k0 >= K)
        return;
    __global const float *b = B + (size_t)p * 16 * b_sn + k0;
    __global float *out = Bp + bp_off + ((size_t)p * K + k0) * 16;
    int cols = min(16, N - p * 16);
    if (k0 + 16 > K) {
        for (int k = 0; k < K - k0; k++)
            for (int j = 0; j < 16; j++)
                out[k * 16 + j] = j < cols ? b[(size_t)j * b_sn + k] : 0.0f;
        return;
    }
    float t[16][16];
#pragma unroll 1
    for (int j = 0; j < 16; j++)
        vstore16(j < cols ? vload16(0, b + (size_t)j * b_sn) : (float16)(0.0f), 0, t[j]);
#pragma unroll 1
    for (int k = 0; k < 16; k++) {
        float v[16];
        for (int j = 0; j < 16; j++)
            v[j] = t[j][k];
        vstore16(vload16(0, v), 0, out + k * 16);
    }
}

/* Ap from ap_off, panel q (rows NN_TM q.. NN_TM q + NN_TM - 1), k-major:
 * Ap[(q K + k) NN_TM + i] = A(NN_TM q + i, k), zero past M: gemm_nn's A in
 * panels (see there), a work-item a panel's k. */
CPU_KERNEL void pack_rows(__global const float *A, int a_sm, int a_sk, int M, int K,
                          __global float *Ap, int ap_off)
{
    int k = get_global_id(0), q = get_global_id(1);
    if (k >= K || q * NN_TM >= M)
        return;
    __global float *out = Ap + ap_off + ((size_t)q * K + k) * NN_TM;
    for (int i = 0; i < NN_TM; i++) {
        int m = q * NN_TM + i;
        out[i] = m < M ? A[m * a_sm + k * a_sk] : 0.0f;
    }
}

/* C[m, n] (+)= the sum over s of P[s][m][n] (M x N each, rows ldp apart), in
 * split order, so a split product is the same every run. */
__kernel void sum_splits(__global const float *P, int splits, int M, int N, int ldp,
                         __global float *C, int ldc, int accumulate)
{
    int n = get_global_id(0), m = get_global_id(1);
    if (n >= N || m >= M)
        return;
    float s = 0.0f;
    for (int i = 0; i < splits; i++)
        s += P[(i * M + m) * ldp + n];
    __global float *c = C + m * ldc + n;
    *c = accumulate ? *c + s : s;
}

/* C[m, n] = the sum over k of A[m * lda + k] B[n * ldb + k], both operands
 * along k (x W^T of dense layers, conv2d's weight gradient dz col^T): each
 * work-item computes a 16 x 4 block of C as vectors of partial sums along k,
 * in register passes shaped like gemm_nn's: with AVX-512 passes of 4 rows,
 * sixteen 16-wide accumulators; with AVX2 and elsewhere passes of 2 rows,
 * eight 8-wide accumulators, B's four vectors and one of A in 13 of the 16
 * ymm registers (sixteen float16 accumulators, 32 ymm, spilled every k step
 * there). Each vector is added up at the end in a fixed order. Rows past M
 * or N are clamped for loads and skipped for stores. Items and splits as
 * gemm_nn's, with a_item and b_item the items' offsets.
 *
 * 16 rows, not 4: POCL runs each work-item as a work-group of its own, at a
 * cost per group that a 4 x 4 block's ~800 multiply-adds a k chunk did not
 * hide; a block's four B rows stay in L1 from pass to pass. The MLP's x W^T
 * (64 x 256 x 784) went from 58 to 78-110 GFLOP/s of CPU time, 2048 work-items
 * to 512 (measured alternately on a loaded machine), and its training
 * from 21,000-23,500 to 25,200-26,000 images/s. */
#define NT_TM 16
#define NT_TN 4
#if defined(__AVX512F__)
#define NT_MW 16
#define NT_PR 4
#else
#define NT_MW 8
#define NT_PR 2
#endif
#define NT_VEC NN_CAT(float, NT_MW)
#define NT_VLOAD NN_CAT(vload, NT_MW)

/* The sum of v's lanes in a fixed order (sum16's for 16). */
static inline float nt_sum(NT_VEC v)
{
#if NT_MW == 16
    return sum16(v);
#else
    float4 q = v.lo + v.hi;
    float2 d = q.lo + q.hi;
    return d.x + d.y;
#endif
}

/* One register pass of gemm_nt: rows m0.. (clamped below M) by the block's
 * four columns, over items [first, last), into C. */
static inline void nt_pass(int M, int N, int K, int k_total, int first, int last, int m0, int n0,
                           __global const float *A, int lda, int a_item,
                           __global const float *B, int ldb, int b_item, __global float *C,
                           int ldc, int accumulate)
{
    NT_VEC acc[NT_PR][NT_TN];
    float tail[NT_PR][NT_TN];
#pragma unroll
    for (int i = 0; i < NT_PR; i++)
#pragma unroll
        for (int j = 0; j < NT_TN; j++)
            acc[i][j] = (NT_VEC)(0.0f), tail[i][j] = 0.0f;
    for (int item = first; item < last; item++) {
        __global const float *a[NT_PR], *b[NT_TN];
#pragma unroll
        for (int i = 0; i < NT_PR; i++)
            a[i] = A + item * a_item + min(m0 + i, M - 1) * lda;
#pragma unroll
        for (int j = 0; j < NT_TN; j++)
            b[j] = B + item * b_item + min(n0 + j, N - 1) * ldb;
        int kn = min(K, k_total - item * K), kv = kn - kn % NT_MW;
        for (int k = 0; k < kv; k += NT_MW) {
            NT_VEC bv[NT_TN];
#pragma unroll
            for (int j = 0; j < NT_TN; j++)
                bv[j] = NT_VLOAD(0, b[j] + k);
#pragma unroll
            for (int i = 0; i < NT_PR; i++) {
                NT_VEC av = NT_VLOAD(0, a[i] + k);
#pragma unroll
                for (int j = 0; j < NT_TN; j++)
                    acc[i][j] = fma(av, bv[j], acc[i][j]);
            }
        }
        for (int k = kv; k < kn; k++)
#pragma unroll
            for (int i = 0; i < NT_PR; i++)
#pragma unroll
                for (int j = 0; j < NT_TN; j++)
                    tail[i][j] = fma(a[i][k], b[j][k], tail[i][j]);
    }
#pragma unroll
    for (int i = 0; i < NT_PR; i++)
#pragma unroll
        for (int j = 0; j < NT_TN; j++)
            if (m0 + i < M && n0 + j < N) {
                float s = nt_sum(acc[i][j]) + tail[i][j];
                __global float *c = C + (m0 + i) * ldc + n0 + j;
                *c = accumulate ? *c + s : s;
            }
}

CPU_KERNEL void gemm_nt(int M, int N, int K, int k_total, int per_split, int split0,
                        __global const float *A, int lda, int a_item,
                        __global const float *B, int ldb, int b_item,
                        __global float *C, int ldc, int c_split, int accumulate)
{
    int n0 = get_global_id(0) * NT_TN, m0 = get_global_id(1) * NT_TM, z = get_global_id(2);
    int first, last;
    if (n0 >= N || m0 >= M || !split_items(K, k_total, per_split, split0 + z, &first, &last))
        return;
    C += z * c_split;
    for (int r = m0; r < m0 + NT_TM && r < M; r += NT_PR)
        nt_pass(M, N, K, k_total, first, last, r, n0, A, lda, a_item, B, ldb, b_item, C, ldc,
                accumulate);
}

/* out[c] = sum over r of in[r * cols + c], in a fixed order: bias gradients of
 * dense and convolution layers, over the batch (and the pixels). */
CPU_KERNEL void sum_cols(__global const float *in, __global float *out, int rows, int cols)
{
    int c = get_global_id(0);
    if (c >= cols)
        return;
    float s = 0.0f;
    for (int r = 0; r < rows; r++)
        s += in[r * cols + c];
    out[c] = s;
}
