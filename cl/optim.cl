/* optim.cl: parameter updates. */

/* PyTorch's SGD: g += wd * p; v = momentum * v + g; p -= lr * (nesterov ? g + momentum * v : v).
 * With momentum 0, v is just g. */
__kernel void sgd_step(__global float *p, __global const float *grad, __global float *v, int n,
                       float lr, float momentum, float weight_decay, int nesterov)
{
    int i = get_global_id(0);
    if (i >= n)
        return;
    float g = grad[i] + weight_decay * p[i];
    float vi = momentum * v[i] + g;
    v[i] = vi;
    p[i] -= lr * (nesterov ? g + momentum * vi : vi);
}
