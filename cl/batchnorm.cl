/* batchnorm.cl: batch normalisation of x laid out as [N, C, P] (P = 1 for a
 * [C] input, H*W for [C, H, W]), as PyTorch's BatchNorm1d/2d. The sums over
 * a channel's M = N*P values are taken by one work-group per channel with a
 * fixed tree, no atomics, so every run gives the same bits. stats holds the
 * mean and 1/sqrt(var + eps) of each channel that forward used, for backward. */

/* The largest work-group the reductions take: runtime/layers/batchnorm.c
 * uses the same number. */
#define BN_GROUP_MAX 256

/* The sum of every work-item's v, by a fixed tree (the local size is a power
 * of two), returned to all of them. */
static inline float bn_group_sum(float v, __local float *part)
{
    int l = get_local_id(0);
    part[l] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = get_local_size(0) / 2; width > 0; width /= 2) {
        if (l < width)
            part[l] += part[l + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float total = part[0];
    barrier(CLK_LOCAL_MEM_FENCE); /* before part is written again */
    return total;
}

/* Work-item l's walk over channel c's values l, l + L, l + 2L, ... (value
 * m = n*P + p lies at (n*C + c)*P + p), with one division at the start rather
 * than one per value: a step moves p by dp and at by jump, and when p passes
 * P, on by wrap over the example's other channels. */
typedef struct {
    int at, p, P;
    int dp, jump, wrap;
} BnWalk;

static inline BnWalk bn_walk(int l, int L, int c, int C, int P)
{
    BnWalk w = {((l / P) * C + c) * P + l % P, l % P, P, L % P, (L / P) * C * P + L % P,
                (C - 1) * P};
    return w;
}

static inline void bn_next(BnWalk *w)
{
    w->p += w->dp;
    w->at += w->jump;
    if (w->p >= w->P) {
        w->p -= w->P;
        w->at += w->wrap;
    }
}

/* One work-group per channel. Training: the batch's mean and biased variance
 * normalise, and the running statistics move towards the mean and the
 * unbiased variance (PyTorch). Evaluation: the running statistics normalise. */
__kernel void batchnorm_stats(__global const float *x, __global float *stats,
                              __global float *run_mean, __global float *run_var, int N, int C,
                              int P, float eps, float momentum, int training)
{
    __local float part[BN_GROUP_MAX];
    int c = get_group_id(0), l = get_local_id(0), L = get_local_size(0), M = N * P;
    if (!training) {
        if (l == 0) {
            stats[c] = run_mean[c];
            stats[C + c] = 1.0f / sqrt(run_var[c] + eps);
        }
        return;
    }
    float s = 0.0f;
    BnWalk w = bn_walk(l, L, c, C, P);
    for (int m = l; m < M; m += L, bn_next(&w))
        s += x[w.at];
    float mean = bn_group_sum(s, part) / (float)M;
    s = 0.0f;
    w = bn_walk(l, L, c, C, P);
    for (int m = l; m < M; m += L, bn_next(&w)) {
        float d = x[w.at] - mean;
        s += d * d;
    }
    float var = bn_group_sum(s, part) / (float)M;
    if (l == 0) {
        stats[c] = mean;
        stats[C + c] = 1.0f / sqrt(var + eps);
        run_mean[c] = (1.0f - momentum) * run_mean[c] + momentum * mean;
        run_var[c] = (1.0f - momentum) * run_var[c] + momentum * var * ((float)M / (float)(M - 1));
    }
}

/* The cpu plan's reductions: a work-item per channel (launched one a group)
 * walks the channel's planes with sixteen partial sums, added up in a fixed
 * order: (x - shift)^power summed (power 1 or 2), or with dy, the sums of dy
 * and of dy * (x - shift). */
static inline float bn_plane_sum(__global const float *x, int N, int C, int P, int c,
                                 float shift, int power)
{
    float16 acc = (float16)(0.0f);
    float tail = 0.0f;
    for (int n = 0; n < N; n++) {
        __global const float *v = x + ((size_t)n * C + c) * P;
        int p = 0;
        for (; p + 16 <= P; p += 16) {
            float16 d = vload16(0, v + p) - shift;
            acc += power == 2 ? d * d : d;
        }
        for (; p < P; p++) {
            float d = v[p] - shift;
            tail += power == 2 ? d * d : d;
        }
    }
    return sum16(acc) + tail;
}

/* The batch statistics of batchnorm_stats, and the running statistics'
 * update, with the cpu plan's reductions. */
CPU_KERNEL void batchnorm_stats_planes(__global const float *x, __global float *stats,
                                       __global float *run_mean, __global float *run_var, int N,
                                       int C, int P, float eps, float momentum, int training)
{
    int c = get_global_id(0), M = N * P;
    if (c >= C)
        return;
    if (!training) {
        stats[c] = run_mean[c];
        stats[C + c] = 1.0f / sqrt(run_var[c] + eps);
        return;
    }
    float mean = bn_plane_sum(x, N, C, P, c, 0.0f, 1) / (float)M;
    float var = bn_plane_sum(x, N, C, P, c, mean, 2) / (float)M;
    stats[c] = mean;
    stats[C + c] = 1.0f / sqrt(var + eps);
    run_mean[c] = (1.0f - momentum) * run_mean[c] + momentum * mean;
    run_var[c] = (1.0f - momentum) * run_var[c] + momentum * var * ((float)M / (float)(M - 1));
}

/* y = (x - mean) / sqrt(var + eps) * gamma + beta.
 *
 * The gpu plan: a work-item per value (p, plane). */
__kernel void batchnorm_forward(__global const float *x, __global float *y,
                                __global const float *stats, __global const float *gamma,
                                __global const float *beta, int planes, int C, int P)
{
    int p = get_global_id(0), plane = get_global_id(1);
    if (p >= P || plane >= planes)
        return;
    int c = plane % C, i = plane * P + p;
    y[i] = (x[i] - stats[c]) * stats[C + c] * gamma[c] + beta[c];
}

/* The cpu plan: a work-item per plane, one a group: the channel's numbers
 * are read once and the loop along the plane is one the compiler vectorises
 * (3x faster on POCL than a work-item per value). Launched as (C, N), so no
 * dimension grows with N * C: POCL compiles a kernel again for a global size
 * of 65,535 or more in dimension 0 or 1 (128 x 512 planes, ResNet-18's). */
CPU_KERNEL void batchnorm_forward_planes(__global const float *x, __global float *y,
                                         __global const float *stats, __global const float *gamma,
                                         __global const float *beta, int planes, int C, int P)
{
    int c = get_global_id(0), plane = get_global_id(1) * C + c;
    if (c >= C || plane >= planes)
        return;
    float mean = stats[c], inv = stats[C + c], g = gamma[c], b = beta[c];
    x += (size_t)plane * P, y += (size_t)plane * P;
    for (int p = 0; p < P; p++)
        y[p] = (x[p] - mean) * inv * g + b;
}

/* One work-group per channel: dbeta = sum of dy, dgamma = sum of dy * xhat. */
__kernel void batchnorm_param_grads(__global const float *dy, __global const float *x,
                                    __global const float *stats, __global float *dgamma,
                                    __global float *dbeta, int N, int C, int P)
{
    __local float part[BN_GROUP_MAX];
    int c = get_group_id(0), l = get_local_id(0), L = get_local_size(0), M = N * P;
    float mean = stats[c], inv = stats[C + c], sb = 0.0f, sg = 0.0f;
    BnWalk w = bn_walk(l, L, c, C, P);
    for (int m = l; m < M; m += L, bn_next(&w)) {
        sb += dy[w.at];
        sg += dy[w.at] * (x[w.at] - mean) * inv;
    }
    sb = bn_group_sum(sb, part);
    sg = bn_group_sum(sg, part);
    if (l == 0) {
        dbeta[c] = sb;
        dgamma[c] = sg;
    }
}

/* batchnorm_param_grads with the cpu plan's reductions. */
CPU_KERNEL void batchnorm_param_grads_planes(__global const float *dy, __global const float *x,
                                             __global const float *stats, __global float *dgamma,
                                             __global float *dbeta, int N, int C, int P)
{
    int c = get_global_id(0);
    if (c >= C)
        return;
    float mean = stats[c];
    float16 sb = (float16)(0.0f), sg = (float16)(0.0f);
    float tb = 0.0f, tg = 0.0f;
    for (int n = 0; n < N; n++) {
        size_t at = ((size_t)n * C + c) * P;
        __global const float *d = dy + at, *v = x + at;
        int p = 0;
        for (; p + 16 <= P; p += 16) {
            float16 g = vload16(0, d + p);
            sb += g;
            sg += g * (vload16(0, v + p) - mean);
        }
        for (; p < P; p++) {
            tb += d[p];
            tg += d[p] * (v[p] - mean);
        }
    }
    dbeta[c] = sum16(sb) + tb;
    dgamma[c] = (sum16(sg) + tg) * stats[C + c];
}

/* dx = gamma / sigma * (dy - (dbeta + xhat * dgamma) / M) in training, where
 * the batch's statistics depend on x; gamma / sigma * dy in evaluation. Laid
 * out as batchnorm_forward, and batchnorm_backward_planes as
 * batchnorm_forward_planes. */
__kernel void batchnorm_backward(__global const float *dy, __global const float *x,
                                 __global const float *stats, __global const float *gamma,
                                 __global const float *dgamma, __global const float *dbeta,
                                 __global float *dx, int N, int C, int P, int training)
{
    int p = get_global_id(0), plane = get_global_id(1);
    if (p >= P || plane >= N * C)
        return;
    int c = plane % C, i = plane * P + p;
    float g = dy[i];
    if (training)
        g -= (dbeta[c] + (x[i] - stats[c]) * stats[C + c] * dgamma[c]) / (float)(N * P);
    dx[i] = gamma[c] * stats[C + c] * g;
}

CPU_KERNEL void batchnorm_backward_planes(__global const float *dy, __global const float *x,
                                          __global const float *stats, __global const float *gamma,
                                          __global const float *dgamma,
                                          __global const float *dbeta, __global float *dx, int N,
                                          int C, int P, int training)
{
    int c = get_global_id(0), plane = get_global_id(1) * C + c;
    if (c >= C || plane >= N * C)
        return;
    float mean = stats[c], inv = stats[C + c], scale = gamma[c] * inv, M = (float)(N * P);
    float db = training ? dbeta[c] : 0.0f, dg = training ? dgamma[c] : 0.0f;
    size_t at = (size_t)plane * P;
    dy += at, x += at, dx += at;
    for (int p = 0; p < P; p++)
        dx[p] = scale * (dy[p] - (db + (x[p] - mean) * inv * dg) / M);
}
