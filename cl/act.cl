/* act.cl: element-wise activations (relu, sigmoid, tanh as layers or fused
 * into dense and conv2d), and the bias-plus-activation epilogue of dense's
 * products. */

/* Values a work-item: on the cpu plan eight, as one vector, which POCL keeps
 * vectorised where a value a work-item behind a switch on act ran 2-3x
 * slower; on the gpu plan one (the vector's tanh spills on gfx90a).
 * runtime/layers/act.c launches ceil(n / ACT_ITEMS) work-items. */
#if PLAN_GPU
#define ACT_ITEMS 1
#else
#define ACT_ITEMS 8
#endif

__kernel void act_forward(__global const float *x, __global float *y, int n, int act)
{
    int i = get_global_id(0) * ACT_ITEMS, end = min(i + ACT_ITEMS, n);
    if (ACT_ITEMS == 8 && end - i == 8) {
        vstore8(act_apply8(vload8(0, x + i), act), 0, y + i);
        return;
    }
    for (; i < end; i++)
        y[i] = act_apply(x[i], act);
}

/* dx = dy * act'(y); dx may be dy itself. Laid out as act_forward. */
__kernel void act_backward(__global const float *dy, __global const float *y,
                           __global float *dx, int n, int act)
{
    int i = get_global_id(0) * ACT_ITEMS, end = min(i + ACT_ITEMS, n);
    if (ACT_ITEMS == 8 && end - i == 8) {
        vstore8(vload8(0, dy + i) * act_grad8(vload8(0, y + i), act), 0, dx + i);
        return;
    }
    for (; i < end; i++)
        dx[i] = dy[i] * act_grad(y[i], act);
}

/* y[r, c] = act(y[r, c] + b[c]) in place: dense's epilogue after its GEMM. */
__kernel void bias_act_rows(__global float *y, __global const float *b, int rows, int cols, int act)
{
    int c = get_global_id(0), r = get_global_id(1);
    if (c < cols && r < rows)
        y[r * cols + c] = act_apply(y[r * cols + c] + b[c], act);
}
