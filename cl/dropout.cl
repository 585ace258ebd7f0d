/* dropout.cl: inverted dropout with masks from Philox keyed by (seed, step,
 * layer, mask index), recomputed in backward rather than stored. A mask
 * covers `group` consecutive elements: 1 for dropout, a channel's H*W pixels
 * for dropout2d. Each Philox call gives four words, so one work-item handles
 * four masks: for plain dropout four elements as one vector, straight-line
 * code that CPU compilers vectorise across work-items (2x faster on POCL
 * than the general loop, left for dropout2d and the end of the data).
 * dropout_apply8 is plain dropout's on the cpu plan: eight Philox calls a
 * work-item in vectors of its own. */

static inline int keep4(uint4 r, int lane, float rate)
{
    uint w = lane == 0 ? r.x : lane == 1 ? r.y : lane == 2 ? r.z : r.w;
    return uniform01(w) >= rate;
}

__kernel void dropout_apply(__global const float *in, __global float *out, int n, int group,
                            float rate, uint seed_lo, uint seed_hi, uint step, uint layer)
{
    int q = get_global_id(0);
    long first = (long)q * 4 * group;
    if (first >= n)
        return;
    uint4 r = philox4x32((uint4)((uint)q, step, layer, 0x64726f70u), (uint2)(seed_lo, seed_hi));
    float scale = 1.0f / (1.0f - rate);
    if (group == 1 && first + 4 <= n) {
        int4 keep = convert_float4(r >> 8) * (1.0f / 16777216.0f) >= (float4)(rate);
        vstore4(select((float4)(0.0f), vload4(q, in) * scale, keep), q, out);
        return;
    }
    for (int lane = 0; lane < 4; lane++) {
        int keep = keep4(r, lane, rate);
        long start = first + (long)lane * group, end = min(start + group, (long)n);
        for (long i = start; i < end; i++)
            out[i] = keep ? in[i] * scale : 0.0f;
    }
}

/* philox4x32 of eight counters at once, in lanes: the words of counter j in
 * lane j of c0..c3. */
static inline void philox4x32_8(uint8 *c0, uint8 *c1, uint8 *c2, uint8 *c3, uint2 key)
{
    uint k0 = key.x, k1 = key.y;
    for (int round = 0; round < 10; round++) {
        uint8 hi0 = mul_hi(*c0, (uint8)(0xD2511F53u)), lo0 = *c0 * 0xD2511F53u;
        uint8 hi1 = mul_hi(*c2, (uint8)(0xCD9E8D57u)), lo1 = *c2 * 0xCD9E8D57u;
        *c0 = hi1 ^ *c1 ^ k0, *c1 = lo1, *c2 = hi0 ^ *c3 ^ k1, *c3 = lo0;
        k0 += 0x9E3779B9u, k1 += 0xBB67AE85u;
    }
}

/* dropout_apply for group 1 (each element its own mask), the same masks:
 * 32 elements a work-item, counters q0 .. q0+7 as the lanes of vectors.
 * POCL compiled dropout_apply's Philox as scalar 64-bit products, 27 ns a
 * call on AVX2 (dropout was 5% of the Keras CIFAR CNN's time); in vectors
 * here. Launched as (ceil(n / 32)). */
CPU_KERNEL void dropout_apply8(__global const float *in, __global float *out, int n, float rate,
                               uint seed_lo, uint seed_hi, uint step, uint layer)
{
    int q0 = get_global_id(0) * 8;
    long first = (long)q0 * 4;
    if (first >= n)
        return;
    uint8 c0 = (uint)q0 + (uint8)(0, 1, 2, 3, 4, 5, 6, 7), c1 = (uint8)(step);
    uint8 c2 = (uint8)(layer), c3 = (uint8)(0x64726f70u);
    philox4x32_8(&c0, &c1, &c2, &c3, (uint2)(seed_lo, seed_hi));
    float scale = 1.0f / (1.0f - rate);
    /* kept: 24 random bits as in uniform01, lane j the mask of element 4j + word */
    int8 k0 = convert_float8(c0 >> 8) * (1.0f / 16777216.0f) >= (float8)(rate);
    int8 k1 = convert_float8(c1 >> 8) * (1.0f / 16777216.0f) >= (float8)(rate);
    int8 k2 = convert_float8(c2 >> 8) * (1.0f / 16777216.0f) >= (float8)(rate);
    int8 k3 = convert_float8(c3 >> 8) * (1.0f / 16777216.0f) >= (float8)(rate);
    int t[32];
    vstore8(k0, 0, t), vstore8(k1, 1, t), vstore8(k2, 2, t), vstore8(k3, 3, t);
    if (first + 32 <= n) {
#pragma unroll
        for (int j = 0; j < 8; j++) {
            int4 kj = (int4)(t[j], t[8 + j], t[16 + j], t[24 + j]);
            vstore4(select((float4)(0.0f), vload4(0, in + first + 4 * j) * scale, kj), 0,
                    out + first + 4 * j);
        }
        return;
    }
    for (int i = 0; i < n - first; i++)
        out[first + i] = t[(i % 4) * 8 + i / 4] ? in[first + i] * scale : 0.0f;
}
