/* gemm.cl: the matrix products every dense and convolution layer is built on.
 *
 * C[m, n] = sum_k A(m, k) * B(k, n)  (+ C[m, n] when accumulate)
 * with A(m, k) = A[m * a_sm + k * a_sk] and B(k, n) = B[k * b_sk + n * b_sn],
 * so the callers' transposes are strides. Two shapes of data cover every layer:
 * gemm_nn when B's rows are contiguous (b_sn = 1) and gemm_nt when both
 * operands run along k (a_sk = b_sk = 1). */

/* Each work-item computes an 8 x 16 block of C: per k, one 16-wide load of B,
 * eight broadcast values of A and eight 16-wide multiply-adds, held in
 * registers (a vector-register micro-kernel on CPUs). Rows past M are clamped
 * for loads and skipped for stores; the last columns, when N is not a
 * multiple of 16, take a scalar path. */
#define NN_TM 8
#define NN_TN 16

__kernel void gemm_nn(int M, int N, int K,
                      __global const float *A, int a_sm, int a_sk,
                      __global const float *B, int b_sk,
                      __global float *C, int ldc, int accumulate)
{
    int n0 = get_global_id(0) * NN_TN, m0 = get_global_id(1) * NN_TM;
    if (n0 >= N || m0 >= M)
        return;
    int arow[NN_TM];
    for (int i = 0; i < NN_TM; i++)
        arow[i] = min(m0 + i, M - 1) * a_sm;
    if (n0 + NN_TN <= N) {
        float16 acc[NN_TM];
        for (int i = 0; i < NN_TM; i++)
            acc[i] = (float16)(0.0f);
        for (int k = 0; k < K; k++) {
            float16 b = vload16(0, B + k * b_sk + n0);
            for (int i = 0; i < NN_TM; i++)
                acc[i] = fma((float16)(A[arow[i] + k * a_sk]), b, acc[i]);
        }
        for (int i = 0; i < NN_TM && m0 + i < M; i++) {
            __global float *c = C + (m0 + i) * ldc + n0;
            vstore16(accumulate ? vload16(0, c) + acc[i] : acc[i], 0, c);
        }
        return;
    }
    for (int i = 0; i < NN_TM && m0 + i < M; i++)
        for (int n = n0; n < N; n++) {
            float s = 0.0f;
            for (int k = 0; k < K; k++)
                s = fma(A[arow[i] + k * a_sk], B[k * b_sk + n], s);
            __global float *c = C + (m0 + i) * ldc + n;
            *c = accumulate ? *c + s : s;
        }
}

/* The same product when both operands run along k (a_sk = b_sk = 1), as in
 * x . W^T and in weight gradients: each work-item takes a 4x4 block of C and
 * walks k four at a time with vector loads, since neighbouring work-items
 * cannot share loads here. */
__kernel void gemm_nt(int M, int N, int K,
                      __global const float *A, int a_sm,
                      __global const float *B, int b_sn,
                      __global float *C, int ldc, int accumulate)
{
    int n0 = get_global_id(0) * 4, m0 = get_global_id(1) * 4;
    if (n0 >= N || m0 >= M)
        return;
    __global const float *a[4], *b[4];
    for (int i = 0; i < 4; i++) {
        a[i] = A + min(m0 + i, M - 1) * a_sm;
        b[i] = B + min(n0 + i, N - 1) * b_sn;
    }
    float4 acc[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            acc[i][j] = (float4)(0.0f);
    int k = 0;
    for (; k + 4 <= K; k += 4) {
        float4 av[4], bv[4];
        for (int i = 0; i < 4; i++) {
            av[i] = vload4(0, a[i] + k);
            bv[i] = vload4(0, b[i] + k);
        }
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                acc[i][j] = fma(av[i], bv[j], acc[i][j]);
    }
    for (int i = 0; i < 4 && m0 + i < M; i++)
        for (int j = 0; j < 4 && n0 + j < N; j++) {
            float s = (acc[i][j].x + acc[i][j].y) + (acc[i][j].z + acc[i][j].w);
            for (int t = k; t < K; t++)
                s = fma(a[i][t], b[j][t], s);
            __global float *c = C + (m0 + i) * ldc + n0 + j;
            *c = accumulate ? *c + s : s;
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
