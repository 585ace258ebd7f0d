/* gemm.cl: the matrix product every dense and convolution layer is built on.
 *
 * C[m, n] = sum_k A(m, k) * B(k, n)  (+ C[m, n] when accumulate)
 * with A(m, k) = A[m * a_sm + k * a_sk] and B(k, n) = B[k * b_sk + n * b_sn],
 * so one kernel serves every transpose. Each work-item computes GEMM_TM rows of
 * one column: neighbouring work-items read neighbouring columns of B (vector
 * loads on CPUs, coalesced on GPUs) and share the A values. Indices past the
 * edge are clamped for loads and skipped for stores, so the inner loop has no
 * branches. */
#define GEMM_TM 8

__kernel void gemm(int M, int N, int K,
                   __global const float *A, int a_sm, int a_sk,
                   __global const float *B, int b_sk, int b_sn,
                   __global float *C, int ldc, int accumulate)
{
    int n = get_global_id(0);
    int m0 = get_global_id(1) * GEMM_TM;
    if (n >= N || m0 >= M)
        return;
    float acc[GEMM_TM];
    int arow[GEMM_TM];
    for (int i = 0; i < GEMM_TM; i++) {
        acc[i] = 0.0f;
        arow[i] = min(m0 + i, M - 1) * a_sm;
    }
    __global const float *b = B + n * b_sn;
    for (int k = 0; k < K; k++) {
        float bk = b[k * b_sk];
        int ak = k * a_sk;
        for (int i = 0; i < GEMM_TM; i++)
            acc[i] = fma(A[arow[i] + ak], bk, acc[i]);
    }
    for (int i = 0; i < GEMM_TM && m0 + i < M; i++) {
        __global float *c = C + (m0 + i) * ldc + n;
        *c = accumulate ? *c + acc[i] : acc[i];
    }
}

/* out[r] = sum over c of in[r * cols + c]: bias gradients, in a fixed order. */
__kernel void sum_rows(__global const float *in, __global float *out, int rows, int cols)
{
    int r = get_global_id(0);
    if (r >= rows)
        return;
    float s = 0.0f;
    for (int c = 0; c < cols; c++)
        s += in[r * cols + c];
    out[r] = s;
}

/* out[c] = sum over r of in[r * cols + c]: dense bias gradients over the batch. */
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
