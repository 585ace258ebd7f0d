/* optim.cl: parameter updates, one work item per element. Every kernel starts
 * (p, grad, n, lr, weight_decay), then its state buffers and settings; the
 * rules and whose conventions they follow are written out in runtime/optim.h.
 * A moving average's weights come as beta and 1 - beta, both rounded from
 * double on the host as PyTorch rounds them: 1 - (float)0.999 is 1.3e-5 off
 * 0.001, enough to move an Adam step by 6e-6 of itself. */

/* The gradient with L2 weight decay folded in, as PyTorch's weight_decay. */
static inline float decayed_grad(__global const float *p, __global const float *grad, int i,
                          float weight_decay)
{
    return grad[i] + weight_decay * p[i];
}

/* PyTorch's SGD; with momentum 0, v is just g. */
__kernel void sgd_step(__global float *p, __global const float *grad, int n, float lr,
                       float weight_decay, __global float *v, float momentum, int nesterov)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float g = decayed_grad(p, grad, i, weight_decay);
    float vi = momentum * v[i] + g;
    v[i] = vi;
    p[i] -= lr * (nesterov ? g + momentum * vi : vi);
}

/* PyTorch's Adam: step = lr / (1 - b1^t) and root2 = sqrt(1 - b2^t) come from
 * the host, and eps is added after the correction of v, as PyTorch does. */
__kernel void adam_step(__global float *p, __global const float *grad, int n, float lr,
                        float weight_decay, __global float *m, __global float *v, float beta_1,
                        float rest_1, float beta_2, float rest_2, float eps, float step,
                        float root2)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float g = decayed_grad(p, grad, i, weight_decay);
    float mi = beta_1 * m[i] + rest_1 * g;
    float vi = beta_2 * v[i] + rest_2 * g * g;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step * mi / (sqrt(vi) / root2 + eps);
}

/* RMSprop without momentum: eps outside the square root. */
__kernel void rmsprop_step(__global float *p, __global const float *grad, int n, float lr,
                           float weight_decay, __global float *v, float rho, float rest,
                           float eps)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float g = decayed_grad(p, grad, i, weight_decay);
    float vi = rho * v[i] + rest * g * g;
    v[i] = vi;
    p[i] -= lr * g / (sqrt(vi) + eps);
}

/* Adadelta: acc holds the mean square of gradients, acc_d that of updates. */
__kernel void adadelta_step(__global float *p, __global const float *grad, int n, float lr,
                            float weight_decay, __global float *acc, __global float *acc_d,
                            float rho, float rest, float eps)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float g = decayed_grad(p, grad, i, weight_decay);
    float a = rho * acc[i] + rest * g * g;
    float d = sqrt(acc_d[i] + eps) / sqrt(a + eps) * g;
    acc[i] = a;
    acc_d[i] = rho * acc_d[i] + rest * d * d;
    p[i] -= lr * d;
}
