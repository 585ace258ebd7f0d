/* optim.c: the optimizer table, the settings every optimizer shares (weight
 * decay, Keras' decay, per-epoch schedules) and the launches of the update
 * kernels in cl/optim.cl. The rules and whose conventions they follow are in
 * optim.h. State buffers belong to the graph, which frees them. */
#include "optim.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- reading settings ---- */

typedef enum { ABOVE_0, AT_LEAST_0, IN_0_1 } Range;

static int in_range(double v, Range range)
{
    if (!isfinite(v)) /* YAML's .inf and .nan */
        return 0;
    switch (range) {
    case ABOVE_0: return v > 0;
    case AT_LEAST_0: return v >= 0;
    default: return v >= 0 && v < 1;
    }
}

/* Reads a float (left at its default when absent and not required) and
 * fails at its key when it lies outside range. */
static int read_float(SpecNode *spec, const char *key, int required, Range range, double *out,
                      Err *err)
{
    static const char *const wanted[] = {"above 0", "at least 0", "in [0, 1)"};
    int rc = spec_float(spec, key, required, out, err);
    if (!rc && !in_range(*out, range))
        rc = spec_error(spec_get(spec, key), err, "%s must be %s, got %g", key, wanted[range],
                        *out);
    return rc;
}

static int parse_schedule(Optimizer *o, SpecNode *spec, Err *err)
{
    static const char *const types[] = {[SCHEDULE_EXPONENTIAL] = "exponential",
                                        [SCHEDULE_STEP] = "step"};
    SpecNode *s = NULL;
    const char *type = NULL;
    int rc = spec_map(spec, "schedule", 0, &s, err);
    if (rc || !s)
        return rc;
    rc = spec_string(s, "type", 1, &type, err);
    for (int i = SCHEDULE_EXPONENTIAL; !rc && i <= SCHEDULE_STEP; i++)
        if (strcmp(type, types[i]) == 0)
            o->schedule.type = (ScheduleType)i;
    if (!rc && o->schedule.type == SCHEDULE_NONE)
        rc = spec_error(spec_get(s, "type"), err,
                        "unknown schedule type '%s' (known: exponential, step)", type);
    if (!rc) rc = read_float(s, "gamma", 1, ABOVE_0, &o->schedule.gamma, err);
    if (!rc && o->schedule.type == SCHEDULE_STEP) {
        rc = spec_int(s, "step_size", 1, 1, INT_MAX, &o->schedule.step_size, err);
    }
    return rc;
}

/* ---- the rules: defaults and keys, then one launch per parameter ---- */

/* Launches o->kernel over p with (value, grad, n, lr, weight_decay) and then
 * the rule's own arguments: an element a work-item on the gpu plan, a run of
 * OPTIM_RUN on the cpu plan. A moving average's weight beta goes in with its
 * rest 1 - beta, both rounded from double, as PyTorch passes them (see
 * cl/optim.cl). */
static int launch(Optimizer *o, Graph *g, Param *p, double lr, int n_own, const KArg *own, Err *err)
{
    enum { COMMON = 5, MAX_OWN = 11 };
    KArg args[COMMON + MAX_OWN];
    float rate = (float)lr, wd = (float)o->weight_decay;
    int n = (int)p->count;
    size_t global[1] = {g->dev->plan.gpu ? p->count : (p->count + OPTIM_RUN - 1) / OPTIM_RUN};
    if (n_own > MAX_OWN)
        return err_set(err, CLRUN_ERUNTIME, "%s: %d kernel arguments of its own, at most %d",
                       o->type->kernel[g->dev->plan.gpu], n_own, MAX_OWN);
    args[0] = KA(p->value), args[1] = KA(p->grad), args[2] = KA(n);
    args[3] = KA(rate), args[4] = KA(wd);
    memcpy(args + COMMON, own, (size_t)n_own * sizeof *own);
    return dev_launch(g->dev, o->kernel, 1, global, NULL, COMMON + n_own, args, err);
}
#define LAUNCH(o, g, p, lr, err, ...) \
    launch((o), (g), (p), (lr), (int)(sizeof((KArg[]){__VA_ARGS__}) / sizeof(KArg)), \
           (KArg[]){__VA_ARGS__}, (err))

static int sgd_parse(Optimizer *o, SpecNode *spec, Err *err)
{
    int rc = read_float(spec, "momentum", 0, IN_0_1, &o->momentum, err);
    if (!rc) rc = spec_bool(spec, "nesterov", 0, &o->nesterov, err);
    if (!rc && o->nesterov && o->momentum == 0)
        rc = spec_error(spec_get(spec, "nesterov"), err, "nesterov needs a momentum above 0");
    return rc;
}

static int sgd_launch(Optimizer *o, Graph *g, Param *p, cl_mem *s, double lr, Err *err)
{
    float momentum = (float)o->momentum;
    return LAUNCH(o, g, p, lr, err, KA(s[0]), KA(momentum), KA(o->nesterov));
}

static int adam_parse(Optimizer *o, SpecNode *spec, Err *err)
{
    o->beta_1 = 0.9, o->beta_2 = 0.999, o->epsilon = 1e-8;
    int rc = read_float(spec, "beta_1", 0, IN_0_1, &o->beta_1, err);
    if (!rc) rc = read_float(spec, "beta_2", 0, IN_0_1, &o->beta_2, err);
    return rc ? rc : read_float(spec, "epsilon", 0, ABOVE_0, &o->epsilon, err);
}

/* The bias corrections go in as PyTorch computes them, in double on the host:
 * the step lr / (1 - b1^t) and sqrt(1 - b2^t). */
AdamArgs optim_adam_args(double lr, double beta_1, double beta_2, double eps, long t)
{
    return (AdamArgs){(float)beta_1, (float)(1 - beta_1), (float)beta_2, (float)(1 - beta_2),
                      (float)eps, (float)(lr / (1 - pow(beta_1, (double)t))),
                      (float)sqrt(1 - pow(beta_2, (double)t))};
}

static int adam_launch(Optimizer *o, Graph *g, Param *p, cl_mem *s, double lr, Err *err)
{
    AdamArgs a = optim_adam_args(lr, o->beta_1, o->beta_2, o->epsilon, o->iterations + 1);
    return LAUNCH(o, g, p, lr, err, KA(s[0]), KA(s[1]), KA(a.beta_1), KA(a.rest_1), KA(a.beta_2),
                  KA(a.rest_2), KA(a.eps), KA(a.step), KA(a.root2));
}

/* rmsprop and adadelta read the same keys; only their defaults differ. */
static int rho_epsilon_parse(SpecNode *spec, Optimizer *o, Err *err)
{
    int rc = read_float(spec, "rho", 0, IN_0_1, &o->rho, err);
    return rc ? rc : read_float(spec, "epsilon", 0, ABOVE_0, &o->epsilon, err);
}

static int rmsprop_parse(Optimizer *o, SpecNode *spec, Err *err)
{
    o->rho = 0.9, o->epsilon = 1e-7;
    return rho_epsilon_parse(spec, o, err);
}

static int adadelta_parse(Optimizer *o, SpecNode *spec, Err *err)
{
    o->rho = 0.95, o->epsilon = 1e-7;
    return rho_epsilon_parse(spec, o, err);
}

static int rmsprop_launch(Optimizer *o, Graph *g, Param *p, cl_mem *s, double lr, Err *err)
{
    float rho = (float)o->rho, rest = (float)(1 - o->rho), eps = (float)o->epsilon;
    return LAUNCH(o, g, p, lr, err, KA(s[0]), KA(rho), KA(rest), KA(eps));
}

static int adadelta_launch(Optimizer *o, Graph *g, Param *p, cl_mem *s, double lr, Err *err)
{
    float rho = (float)o->rho, rest = (float)(1 - o->rho), eps = (float)o->epsilon;
    return LAUNCH(o, g, p, lr, err, KA(s[0]), KA(s[1]), KA(rho), KA(rest), KA(eps));
}

static const OptimType optimizers[] = {
    {"sgd", 0, {"sgd_run", "sgd_step"}, 1, sgd_parse, sgd_launch},
    {"adam", 0.001, {"adam_run", "adam_step"}, 2, adam_parse, adam_launch},
    {"rmsprop", 0.001, {"rmsprop_run", "rmsprop_step"}, 1, rmsprop_parse, rmsprop_launch},
    {"adadelta", 1.0, {"adadelta_run", "adadelta_step"}, 2, adadelta_parse, adadelta_launch},
};

#define N_OPTIMIZERS (sizeof optimizers / sizeof optimizers[0])

/* ---- the interface ---- */

static int unknown_optimizer(SpecNode *spec, const char *name, Err *err)
{
    char known[128];
    size_t used = 0;
    for (size_t i = 0; i < N_OPTIMIZERS && used < sizeof known; i++)
        used += (size_t)snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                                 optimizers[i].name);
    return spec_error(spec_get(spec, "name"), err, "unknown optimizer '%s' (known: %s)", name,
                      known);
}

int optim_parse(Optimizer *o, SpecNode *spec, Err *err)
{
    memset(o, 0, sizeof *o);
    if (spec->kind != SPEC_MAP)
        return spec_error(spec, err, "optimizer must be a map such as {name: sgd, learning_rate: 0.01}");
    const char *name = NULL;
    int rc = spec_string(spec, "name", 1, &name, err);
    for (size_t i = 0; !rc && i < N_OPTIMIZERS; i++)
        if (strcmp(optimizers[i].name, name) == 0)
            o->type = &optimizers[i];
    if (!rc && !o->type)
        rc = unknown_optimizer(spec, name, err);
    if (!rc) {
        o->learning_rate = o->type->learning_rate;
        rc = read_float(spec, "learning_rate", o->learning_rate == 0, ABOVE_0, &o->learning_rate,
                        err);
    }
    if (!rc) rc = read_float(spec, "weight_decay", 0, AT_LEAST_0, &o->weight_decay, err);
    if (!rc) rc = read_float(spec, "decay", 0, AT_LEAST_0, &o->decay, err);
    if (!rc) rc = parse_schedule(o, spec, err);
    if (!rc) rc = o->type->parse(o, spec, err);
    return rc ? rc : spec_check_unused(spec, "optimizer", err);
}

int optim_setup(Optimizer *o, Graph *g, Err *err)
{
    o->iterations = 0;
    o->epoch = 0;
    free(o->state);
    o->n_state = 0;
    o->state = calloc((size_t)g->n_params * OPTIM_MAX_STATE + 1, sizeof *o->state);
    if (!o->state)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    o->n_state = g->n_params;
    int rc = dev_kernel(g->dev, o->type->kernel[g->dev->plan.gpu], &o->kernel, err);
    for (int i = 0; i < g->n_params && !rc; i++) {
        Param *p = &g->params[i];
        cl_mem *s = &o->state[i * OPTIM_MAX_STATE];
        for (int k = 0; k < o->type->n_state && p->init.trainable && !rc; k++) {
            rc = graph_buffer(g, p->count, "optimizer state", &s[k], err);
            if (!rc) rc = dev_fill_zero(g->dev, s[k], p->count * sizeof(float), err);
        }
    }
    return rc;
}

int optim_begin_epoch(Optimizer *o, int epoch, Err *err)
{
    if (epoch < 0)
        return err_set(err, CLRUN_ERUNTIME, "optimizer: epoch %d is negative", epoch);
    o->epoch = epoch;
    return CLRUN_OK;
}

static double schedule_factor(const Optimizer *o)
{
    switch (o->schedule.type) {
    case SCHEDULE_EXPONENTIAL: return pow(o->schedule.gamma, o->epoch);
    case SCHEDULE_STEP: return pow(o->schedule.gamma, (double)(o->epoch / o->schedule.step_size));
    default: return 1;
    }
}

double optim_learning_rate(const Optimizer *o)
{
    return o->learning_rate * schedule_factor(o) / (1 + o->decay * (double)o->iterations);
}

int optim_step(Optimizer *o, Graph *g, Err *err)
{
    double lr = optim_learning_rate(o);
    for (int i = 0; i < g->n_params; i++) {
        Param *p = &g->params[i];
        if (!p->init.trainable)
            continue;
        int rc = o->type->launch(o, g, p, &o->state[i * OPTIM_MAX_STATE], lr, err);
        if (rc)
            return rc;
    }
    o->iterations++;
    return CLRUN_OK;
}

void optim_free(Optimizer *o)
{
    free(o->state);
    o->state = NULL;
    o->n_state = 0;
}
