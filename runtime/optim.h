/* optim.h: optimizers, one row per type in optim.c's table, each updating every
 * trainable parameter of a graph on the device from its gradient (kernels in
 * cl/optim.cl), and the learning rate each step uses.
 *
 * Settings common to every optimizer (the experiment's `optimizer:` map):
 *   name           sgd, adam, rmsprop or adadelta
 *   learning_rate  the base rate; required for sgd (as in PyTorch), else the
 *                  default given below
 *   weight_decay   L2 folded into the gradient, g = grad + weight_decay * p,
 *                  as PyTorch's weight_decay (also for Adam: this is Adam, not
 *                  AdamW). Keras' kernel_regularizer l2(k) adds k * p^2 to the
 *                  loss, which is weight_decay 2k here.
 *   decay          Keras' legacy time-based decay: the rate divided by
 *                  (1 + decay * iterations), iterations the steps taken
 *                  before this one (0 at the first)
 *   schedule       per epoch, as PyTorch's schedulers stepped once after each
 *                  epoch, with the epoch optim_begin_epoch last named (from 0):
 *                  {type: exponential, gamma: G}: lr * G^epoch (ExponentialLR)
 *                  {type: step, step_size: S, gamma: G}: lr * G^floor(epoch/S) (StepLR)
 * The rate of a step is learning_rate * schedule(epoch) / (1 + decay * iterations).
 * Parameters that are buffers (init.trainable == 0) are never touched.
 *
 * The rules, g being the gradient with the weight decay added, t the step
 * number counted from 1:
 *   sgd       momentum (0), nesterov (false): PyTorch's SGD.
 *             v = momentum*v + g; p -= lr * (nesterov ? g + momentum*v : v).
 *             Keras keeps the velocity with the rate inside (u = momentum*u -
 *             lr*g), which is the same while the rate is constant.
 *   adam      learning_rate (0.001), beta_1 (0.9), beta_2 (0.999),
 *             epsilon (1e-8): PyTorch's Adam, defaults and formula.
 *             m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 *             p -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps).
 *             Keras 2 folds both corrections into the rate instead,
 *             lr_t = lr * sqrt(1-b2^t) / (1-b1^t), p -= lr_t * m / (sqrt(v) + eps),
 *             which is PyTorch's rule with eps replaced by eps / sqrt(1-b2^t)
 *             (about 32 eps at the first step with b2 0.999), and defaults epsilon to
 *             1e-7. We follow PyTorch; the two differ only where sqrt(v_hat)
 *             is within a few of those epsilons.
 *   rmsprop   learning_rate (0.001), rho (0.9), epsilon (1e-7): Keras'
 *             defaults. PyTorch's RMSprop calls rho alpha and defaults to
 *             alpha 0.99, eps 1e-8; set those to match it.
 *             v = rho*v + (1-rho)*g^2; p -= lr * g / (sqrt(v) + eps): eps
 *             outside the sqrt in PyTorch and in Keras 2 without momentum.
 *   adadelta  learning_rate (1.0), rho (0.95), epsilon (1e-7).
 *             a = rho*a + (1-rho)*g^2; d = sqrt(ad + eps) / sqrt(a + eps) * g;
 *             ad = rho*ad + (1-rho)*d^2; p -= lr * d: the same rule in both.
 *             rho and epsilon are Keras' defaults (PyTorch: 0.9, 1e-6); the
 *             rate 1.0 is PyTorch's and the paper's (tf.keras: 0.001). */
#ifndef CLRUN_OPTIM_H
#define CLRUN_OPTIM_H

#include "graph.h"

#define OPTIM_MAX_STATE 2 /* state buffers per parameter */
#define OPTIM_RUN 64      /* elements a work-item of a cpu plan kernel (cl/optim.cl's) */

typedef struct Optimizer Optimizer;

/* One row of the optimizer table. */
typedef struct {
    const char *name;
    double learning_rate; /* the default; 0: learning_rate is required */
    const char *kernel[2]; /* in cl/optim.cl: the cpu plan's (a run of elements a
                            * work-item), the gpu plan's (an element a work-item) */
    int n_state;          /* zero-initialised buffers per parameter (at most OPTIM_MAX_STATE) */
    /* Reads and checks the optimizer's own keys. */
    int (*parse)(Optimizer *o, SpecNode *spec, Err *err);
    /* Enqueues the update of one parameter with its state s, at rate lr. */
    int (*launch)(Optimizer *o, Graph *g, Param *p, cl_mem *s, double lr, Err *err);
} OptimType;

typedef enum { SCHEDULE_NONE, SCHEDULE_EXPONENTIAL, SCHEDULE_STEP } ScheduleType;

struct Optimizer {
    const OptimType *type;
    double learning_rate, weight_decay, decay;
    struct {
        ScheduleType type;
        double gamma;
        long step_size;
    } schedule;
    double momentum;      /* sgd */
    int nesterov;         /* sgd */
    double beta_1, beta_2; /* adam */
    double rho;           /* rmsprop, adadelta */
    double epsilon;       /* adam, rmsprop, adadelta */
    long iterations;      /* steps taken since optim_setup */
    int epoch;            /* the epoch optim_begin_epoch last named */
    cl_kernel kernel;
    cl_mem *state;        /* [n_params * OPTIM_MAX_STATE], NULL for buffers; owned by the graph */
    int n_state;          /* parameters covered by state */
};

/* Reads the optimizer map (name: and its settings) and checks every key,
 * with file:line:col in each message. */
int optim_parse(Optimizer *o, SpecNode *spec, Err *err);
/* Creates the kernel and the zeroed state buffers in g; restarts the
 * iteration and epoch counts. */
int optim_setup(Optimizer *o, Graph *g, Err *err);
/* Sets the epoch (from 0) that the schedule uses for the following steps;
 * the trainer calls it before each epoch. */
int optim_begin_epoch(Optimizer *o, int epoch, Err *err);
/* The rate the next optim_step uses (for the history). */
double optim_learning_rate(const Optimizer *o);
/* Enqueues one update of every trainable parameter. */
int optim_step(Optimizer *o, Graph *g, Err *err);
void optim_free(Optimizer *o);

/* adam_step's arguments after its state buffers m and v, for step t (from 1)
 * at rate lr, for callers that run it on buffers of their own: each beta with
 * its rest 1 - beta, epsilon, and the bias corrections step = lr / (1 -
 * beta_1^t) and root2 = sqrt(1 - beta_2^t), computed in double and rounded. */
typedef struct {
    float beta_1, rest_1, beta_2, rest_2, eps, step, root2;
} AdamArgs;
AdamArgs optim_adam_args(double lr, double beta_1, double beta_2, double eps, long t);

#endif
