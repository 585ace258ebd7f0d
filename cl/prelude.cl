/* prelude.cl: shared by every kernel file (it is placed first in the program):
 * activation codes and functions, and the Philox counter-based generator.
 * OpenCL C 1.2, no extensions. */

/* The qualifier of a kernel only the cpu plan launches (runtime/plan.c): one
 * work-item a group, with register blocks sized for CPU vectors. No GPU runs
 * one, so tools/gpu-resources compiles them with -DCPU_KERNEL=static, which
 * drops them from its register and spill check, and tests/check_plan.c's
 * build the same way finds the kernels the gpu plan may launch. */
#ifndef CPU_KERNEL
#define CPU_KERNEL __kernel
#endif

/* Activation codes: runtime/layers/act.h uses the same numbers. */
#define ACT_LINEAR 0
#define ACT_RELU 1
#define ACT_SIGMOID 2
#define ACT_TANH 3

static inline float act_apply(float x, int act)
{
    switch (act) {
    case ACT_RELU: return fmax(x, 0.0f);
    case ACT_SIGMOID: return 1.0f / (1.0f + exp(-x));
    case ACT_TANH: return tanh(x);
    default: return x;
    }
}

/* act_apply on eight values at once. */
static inline float8 act_apply8(float8 x, int act)
{
    switch (act) {
    case ACT_RELU: return fmax(x, 0.0f);
    case ACT_SIGMOID: return 1.0f / (1.0f + exp(-x));
    case ACT_TANH: return tanh(x);
    default: return x;
    }
}

/* Derivative written in terms of the activation's output y, so backward needs
 * only what forward kept. */
static inline float act_grad(float y, int act)
{
    switch (act) {
    case ACT_RELU: return y > 0.0f ? 1.0f : 0.0f;
    case ACT_SIGMOID: return y * (1.0f - y);
    case ACT_TANH: return 1.0f - y * y;
    default: return 1.0f;
    }
}

/* act_grad on eight values at once. */
static inline float8 act_grad8(float8 y, int act)
{
    switch (act) {
    case ACT_RELU: return y > 0.0f ? (float8)(1.0f) : (float8)(0.0f);
    case ACT_SIGMOID: return y * (1.0f - y);
    case ACT_TANH: return 1.0f - y * y;
    default: return (float8)(1.0f);
    }
}

/* log(sum(exp(x))) over one row, shifted by the maximum so it cannot overflow. */
static inline float row_logsumexp(__global const float *x, int cols)
{
    float mx = -INFINITY;
    for (int c = 0; c < cols; c++)
        mx = fmax(mx, x[c]);
    float sum = 0.0f;
    for (int c = 0; c < cols; c++)
        sum += exp(x[c] - mx);
    return mx + log(sum);
}

/* Philox4x32-10 (Salmon et al., SC'11): four random words from a 128-bit
 * counter and a 64-bit key, the same on every device, so a dropout mask is a
 * pure function of (seed, step, layer, element). */
static inline uint4 philox4x32(uint4 ctr, uint2 key)
{
    /* scalar words and 64-bit products rather than uint4 and mul_hi: POCL then
     * vectorises across work-items (dropout 4.5x faster) */
    uint c0 = ctr.x, c1 = ctr.y, c2 = ctr.z, c3 = ctr.w, k0 = key.x, k1 = key.y;
    for (int round = 0; round < 10; round++) {
        ulong p0 = (ulong)c0 * 0xD2511F53u, p1 = (ulong)c2 * 0xCD9E8D57u;
        uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0, hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
        c0 = hi1 ^ c1 ^ k0, c1 = lo1, c2 = hi0 ^ c3 ^ k1, c3 = lo0;
        k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
    }
    return (uint4)(c0, c1, c2, c3);
}

/* A uniform float in [0, 1) from 24 random bits. */
static inline float uniform01(uint bits)
{
    return (float)(bits >> 8) * (1.0f / 16777216.0f);
}

/* The sum of v's sixteen lanes in a fixed order (gemm_nt, the batchnorm
 * reductions of the cpu plan). The halves come through private memory rather
 * than as v.lo and v.hi (the same code once optimised): Oclgrind 21.10's
 * check of uninitialised values (tests/oclgrind-check) takes element 11 of
 * any vector shuffle, such as v.hi, for uninitialised, as it compares the
 * shuffle's mask with the wrong constant. */
static inline float sum16(float16 v)
{
    float halves[16];
    vstore16(v, 0, halves);
    float8 h = vload8(0, halves) + vload8(1, halves);
    float4 q = h.lo + h.hi;
    float2 d = q.lo + q.hi;
    return d.x + d.y;
}

/* Stores a block of 8 rows x 16 columns of C (rows ldc apart; C + accumulate
 * when accumulate), acc[i] the 16 columns from nb of row m0 + i, of which
 * those at or past n0 and below N are the block's own and rows past M are
 * skipped (gemm_nn and conv_weight_grad: a block at the end of a row computes
 * the 16 columns that end B's row). */
static inline void store_rows16(__global float *C, int ldc, const float16 *acc, int m0, int M,
                                int n0, int nb, int N, int accumulate)
{
#pragma unroll
    for (int i = 0; i < 8; i++) {
        if (m0 + i >= M)
            break;
        __global float *c = C + (m0 + i) * ldc + nb;
        if (nb == n0 && n0 + 16 <= N) {
            vstore16(accumulate ? vload16(0, c) + acc[i] : acc[i], 0, c);
            continue;
        }
        float v[16];
        vstore16(acc[i], 0, v);
        for (int j = n0 - nb; j < 16 && nb + j < N; j++)
            c[j] = accumulate ? c[j] + v[j] : v[j];
    }
}
