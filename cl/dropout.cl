/* dropout.cl: inverted dropout with masks from Philox keyed by (seed, step,
 * layer), recomputed in backward rather than stored. Each Philox call gives
 * four words, so one work-item handles four elements. */

inline int keep4(uint4 r, int lane, float rate)
{
    uint w = lane == 0 ? r.x : lane == 1 ? r.y : lane == 2 ? r.z : r.w;
    return uniform01(w) >= rate;
}

__kernel void dropout_apply(__global const float *in, __global float *out, int n, float rate,
                            uint seed_lo, uint seed_hi, uint step, uint layer)
{
    int q = get_global_id(0);
    if (q * 4 >= n)
        return;
    uint4 r = philox4x32((uint4)((uint)q, step, layer, 0x64726f70u), (uint2)(seed_lo, seed_hi));
    float scale = 1.0f / (1.0f - rate);
    for (int lane = 0; lane < 4 && q * 4 + lane < n; lane++) {
        int i = q * 4 + lane;
        out[i] = keep4(r, lane, rate) ? in[i] * scale : 0.0f;
    }
}
