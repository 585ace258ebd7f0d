/* gemm.cl: the matrix products every dense and convolution layer is built on.
 *
 * C[m, n] = sum_k A(m, k) * B(k, n)  (+ C[m, n] when accumulate)
 * with A(m, k) = A[m * a_sm + k * a_sk] and B(k, n) = B[k * b_sk + n * b_sn],
 * so the callers' transposes are strides. gemm_nn needs B's rows contiguous
 * (b_sn = 1); a product whose operands both run along k (a_sk = b_sk = 1) is
 * one transpose away from it (launch_gemm). */

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
    if (n0 >= N || m0 >= M)
        return;
    int first = split * per_split, last = min(first + per_split, (k_total + K - 1) / K);
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
#pragma unroll
        for (int i = 0; i < NN_TM; i++) {
            if (m0 + i >= M)
                break;
            __global float *c = C + (m0 + i) * ldc + nb;
            if (nb == n0 && n0 + NN_TN <= N) {
                vstore16(accumulate ? vload16(0, c) + acc[i] : acc[i], 0, c);
                continue;
            }
            float v[NN_TN];
            vstore16(acc[i], 0, v);
            for (int j = n0 - nb; j < NN_TN && nb + j < N; j++)
                c[j] = accumulate ? c[j] + v[j] : v[j];
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

/* out[c * out_stride + r] = in[r * in_stride + c] (plus what out holds when
 * accumulate) for r below rows, and 0 for r from rows to rows_out (padding
 * for gemm_nn's vector path): the transposes that turn a product whose
 * operands both run along k into gemm_nn (launch_gemm). Work-items run along
 * c, so the reads are contiguous. */
__kernel void transpose(__global const float *in, int rows, int cols, int in_stride,
                        __global float *out, int out_stride, int rows_out, int accumulate)
{
    int c = get_global_id(0), r = get_global_id(1);
    if (c >= cols || r >= rows_out)
        return;
    float v = r < rows ? in[r * in_stride + c] : 0.0f;
    __global float *o = out + c * out_stride + r;
    *o = accumulate ? *o + v : v;
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
