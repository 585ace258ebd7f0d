/* gemm.cl: the matrix products every dense and convolution layer is built on.
 *
 * C[m, n] = sum_k A(m, k) * B(k, n)  (+ C[m, n] when accumulate)
 * with A(m, k) = A[m * a_sm + k * a_sk] and B(k, n) = B[k * b_sk + n * b_sn],
 * so the callers' transposes are strides. gemm_nn takes B's rows contiguous
 * (b_sn = 1), gemm_nt both operands along k (a_sk = b_sk = 1). */

/* Each work-item computes an 8 x 16 block of C: per k, one 16-wide load of B,
 * eight broadcast values of A and eight 16-wide multiply-adds, held in
 * registers (a vector-register micro-kernel on CPUs). The loops over the
 * block are unrolled so that the compiler keeps the accumulators in registers
 * (rolled, POCL's LLVM kept them on the stack at a third of the speed), and A
 * and B are walked by pointers, which spares the multiplies. Rows past M are
 * clamped for loads and skipped for stores. B's rows hold b_cols >= N
 * readable floats (zero padding past N, when the caller made B). The last
 * block of a row, when it would read past b_cols, reads the 16 columns that
 * end there instead and stores only its own (at or past n0, below N); only a
 * B narrower than 16 takes the scalar path.
 *
 * Items and splits: item i multiplies A + i * a_item by B + i * b_item over
 * min(K, k_total - i * K) of k, and split s (dimension 2) sums items
 * [s * per_split, (s + 1) * per_split) into C + s * c_split. One product is
 * one item; a long K cut into chunks is items along the same matrices
 * (a_item = K * a_sk); a batch of products is items with matrices of their
 * own, one a split, or several a split and the splits' partial products added
 * up by sum_splits. */
#define NN_TM 8
#define NN_TN 16

__kernel void gemm_nn(int M, int N, int K, int k_total, int per_split,
                      __global const float *A, int a_sm, int a_sk, int a_item,
                      __global const float *B, int b_sk, int b_item, int b_cols,
                      __global float *C, int ldc, int c_split, int accumulate)
{
    int n0 = get_global_id(0) * NN_TN, m0 = get_global_id(1) * NN_TM, split = get_global_id(2);
    int items = (k_total + K - 1) / K, first = split * per_split;
    if (n0 >= N || m0 >= M || first >= items)
        return; /* past C, or a split past the last when dimension 2 is padded */
    int last = min(first + per_split, items);
    C += split * c_split;
    __global const float *arow[NN_TM];
    if (b_cols >= NN_TN) {
        int nb = min(n0, b_cols - NN_TN); /* first column this block computes */
        float16 acc[NN_TM];
#pragma unroll
        for (int i = 0; i < NN_TM; i++)
            acc[i] = (float16)(0.0f);
        for (int item = first; item < last; item++) {
#pragma unroll
            for (int i = 0; i < NN_TM; i++)
                arow[i] = A + item * a_item + min(m0 + i, M - 1) * a_sm;
            __global const float *b = B + item * b_item + nb;
            int kn = min(K, k_total - item * K);
            for (int k = 0; k < kn; k++, b += b_sk) {
                float16 bk = vload16(0, b);
#pragma unroll
                for (int i = 0; i < NN_TM; i++)
                    acc[i] = fma((float16)(arow[i][k * a_sk]), bk, acc[i]);
            }
        }
        store_rows16(C, ldc, acc, m0, M, n0, nb, N, accumulate);
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
 * work-item computes a 4 x 4 block of C as sixteen 16-wide vectors of
 * partial sums along k, eight 16-wide loads to sixteen multiply-adds, and
 * adds each vector up at the end in a fixed order. Rows past M or N are
 * clamped for loads and skipped for stores. Items and splits as gemm_nn's,
 * with a_item and b_item the items' offsets. */
#define NT_TM 4
#define NT_TN 4

__kernel void gemm_nt(int M, int N, int K, int k_total, int per_split,
                      __global const float *A, int lda, int a_item,
                      __global const float *B, int ldb, int b_item,
                      __global float *C, int ldc, int c_split, int accumulate)
{
    int n0 = get_global_id(0) * NT_TN, m0 = get_global_id(1) * NT_TM, split = get_global_id(2);
    int items = (k_total + K - 1) / K, first = split * per_split;
    if (n0 >= N || m0 >= M || first >= items)
        return; /* past C, or a split past the last when dimension 2 is padded */
    int last = min(first + per_split, items);
    C += split * c_split;
    float16 acc[NT_TM][NT_TN];
    float tail[NT_TM][NT_TN];
#pragma unroll
    for (int i = 0; i < NT_TM; i++)
#pragma unroll
        for (int j = 0; j < NT_TN; j++)
            acc[i][j] = (float16)(0.0f), tail[i][j] = 0.0f;
    for (int item = first; item < last; item++) {
        __global const float *a[NT_TM], *b[NT_TN];
#pragma unroll
        for (int i = 0; i < NT_TM; i++)
            a[i] = A + item * a_item + min(m0 + i, M - 1) * lda;
#pragma unroll
        for (int j = 0; j < NT_TN; j++)
            b[j] = B + item * b_item + min(n0 + j, N - 1) * ldb;
        int kn = min(K, k_total - item * K), kv = kn & ~15;
        for (int k = 0; k < kv; k += 16) {
            float16 av[NT_TM], bv[NT_TN];
#pragma unroll
            for (int i = 0; i < NT_TM; i++)
                av[i] = vload16(0, a[i] + k);
#pragma unroll
            for (int j = 0; j < NT_TN; j++)
                bv[j] = vload16(0, b[j] + k);
#pragma unroll
            for (int i = 0; i < NT_TM; i++)
#pragma unroll
                for (int j = 0; j < NT_TN; j++)
                    acc[i][j] = fma(av[i], bv[j], acc[i][j]);
        }
        for (int k = kv; k < kn; k++)
#pragma unroll
            for (int i = 0; i < NT_TM; i++)
#pragma unroll
                for (int j = 0; j < NT_TN; j++)
                    tail[i][j] = fma(a[i][k], b[j][k], tail[i][j]);
    }
    for (int i = 0; i < NT_TM && m0 + i < M; i++)
        for (int j = 0; j < NT_TN && n0 + j < N; j++) {
            float s = sum16(acc[i][j]) + tail[i][j];
            __global float *c = C + (m0 + i) * ldc + n0 + j;
            *c = accumulate ? *c + s : s;
        }
}

/* out[c] = sum over r of in[r * cols + c], in a fixed order: bias gradients of
 * dense and convolution layers, over the batch (and the pixels). */
__kernel void sum_cols(__global const float *in, __global float *out, int rows, int cols)
{
    int c = get_global_id(0);
    if (c >= cols)
        return;
    float s = 0.0f;
    for (int r = 0; r < rows; r++)
        s += in[r * cols + c];
    out[c] = s;
}
