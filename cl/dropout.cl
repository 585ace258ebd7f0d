/* dropout.cl: inverted dropout with masks from Philox keyed by (seed, step,
 * layer, mask index), recomputed in backward rather than stored. A mask
 * covers `group` consecutive elements: 1 for dropout, a channel's H*W pixels
 * for dropout2d. Each Philox call gives four words, so one work-item handles
 * four masks: for plain dropout four elements as one vector, straight-line
 * code that CPU compilers vectorise across work-items (2x faster on POCL
 * than the general loop, left for dropout2d and the end of the data). */

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
