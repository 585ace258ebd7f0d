/* optim.cl: parameter updates. Every kernel starts (p, grad, n, lr,
 * weight_decay), then its state buffers and settings; the rules and whose
 * conventions they follow are written out in runtime/optim.h. A moving
 * average's weights come as beta and 1 - beta, both rounded from double on
 * the host as PyTorch rounds them: 1 - (float)0.999 is 1.3e-5 off 0.001,
 * enough to move an Adam step by 6e-6 of itself.
 *
 * Each rule is written once, as a macro over a type T (float or float16)
 * with a load LD and a store ST, and makes two kernels: NAME_step, one
 * element a work-item (the gpu plan: coalesced), and NAME_run, OPTIM_RUN
 * elements a work-item in float16 vectors (the cpu plan: POCL runs each
 * work-group as a task and compiled the one-element kernels to scalar code
 * at about 5 GB/s). Both do the same arithmetic on each element. */

#define OPTIM_RUN 64 /* elements a work-item of a _run kernel: four float16 */

#define ONE_LD(b, i) (b)[i]
#define ONE_ST(x, b, i) ((b)[i] = (x))
#define VEC_LD(b, i) vload16(0, (b) + (i))
#define VEC_ST(x, b, i) vstore16((x), 0, (b) + (i))

/* The gradient with L2 weight decay folded in, as PyTorch's weight_decay. */
#define DECAYED_GRAD(LD, i) (LD(grad, i) + weight_decay * LD(p, i))

/* The two kernels of a rule; the variadic part is its own arguments. */
#define OPTIM_KERNELS(NAME, RULE, ...)                                                      \
    __kernel void NAME##_step(__global float *p, __global const float *grad, int n,         \
                              float lr, float weight_decay, __VA_ARGS__)                    \
    {                                                                                       \
        int i = get_global_id(0);                                                           \
        if (i < n)                                                                          \
            RULE(float, ONE_LD, ONE_ST, i);                                                 \
    }                                                                                       \
    CPU_KERNEL void NAME##_run(__global float *p, __global const float *grad, int n,        \
                               float lr, float weight_decay, __VA_ARGS__)                   \
    {                                                                                       \
        int begin = get_global_id(0) * OPTIM_RUN, end = min(n, begin + OPTIM_RUN);         \
        if (end - begin == OPTIM_RUN) {                                                     \
            for (int i = begin; i < end; i += 16)                                           \
                RULE(float16, VEC_LD, VEC_ST, i);                                           \
            return;                                                                         \
        }                                                                                   \
        for (int i = begin; i < end; i++)                                                   \
            RULE(float, ONE_LD, ONE_ST, i);                                                 \
    }

/* PyTorch's SGD; with momentum 0, v is just g. */
#define SGD(T, LD, ST, i)                                                                   \
    do {                                                                                    \
        T g = DECAYED_GRAD(LD, i);                                                          \
        T vi = momentum * LD(v, i) + g;                                                     \
        ST(vi, v, i);                                                                       \
        ST(LD(p, i) - lr * (nesterov ? g + momentum * vi : vi), p, i);                      \
    } while (0)
OPTIM_KERNELS(sgd, SGD, __global float *v, float momentum, int nesterov)

/* PyTorch's Adam: step = lr / (1 - b1^t) and root2 = sqrt(1 - b2^t) come from
 * the host, and eps is added after the correction of v, as PyTorch does. */
#define ADAM(T, LD, ST, i)                                                                  \
    do {                                                                                    \
        T g = DECAYED_GRAD(LD, i);                                                          \
        T mi = beta_1 * LD(m, i) + rest_1 * g;                                              \
        T vi = beta_2 * LD(v, i) + rest_2 * g * g;                                          \
        ST(mi, m, i);                                                                       \
        ST(vi, v, i);                                                                       \
        ST(LD(p, i) - step * mi / (sqrt(vi) / root2 + eps), p, i);                          \
    } while (0)
OPTIM_KERNELS(adam, ADAM, __global float *m, __global float *v, float beta_1, float rest_1,
              float beta_2, float rest_2, float eps, float step, float root2)

/* RMSprop without momentum: eps outside the square root. */
#define RMSPROP(T, LD, ST, i)                                                               \
    do {                                                                                    \
        T g = DECAYED_GRAD(LD, i);                                                          \
        T vi = rho * LD(v, i) + rest * g * g;                                               \
        ST(vi, v, i);                                                                       \
        ST(LD(p, i) - lr * g / (sqrt(vi) + eps), p, i);                                     \
    } while (0)
OPTIM_KERNELS(rmsprop, RMSPROP, __global float *v, float rho, float rest, float eps)

/* Adadelta: acc holds the mean square of gradients, acc_d that of updates. */
#define ADADELTA(T, LD, ST, i)                                                              \
    do {                                                                                    \
        T g = DECAYED_GRAD(LD, i);                                                          \
        T a = rho * LD(acc, i) + rest * g * g;                                              \
        T d = sqrt(LD(acc_d, i) + eps) / sqrt(a + eps) * g;                                 \
        ST(a, acc, i);                                                                      \
        ST(rho * LD(acc_d, i) + rest * d * d, acc_d, i);                                    \
        ST(LD(p, i) - lr * d, p, i);                                                        \
    } while (0)
OPTIM_KERNELS(adadelta, ADADELTA, __global float *acc, __global float *acc_d, float rho,
              float rest, float eps)
