/* check_optim.c: the optimizers on the test device (POCL unless CLRUN_DEVICE
 * says otherwise):
 *   - every rule with its options (momentum, nesterov, weight_decay, Keras'
 *     decay, both schedules) for six epochs of two steps against the formulas
 *     of optim.h written out here in double precision, the learning rate of
 *     every step included, with one parameter made a buffer (not trainable),
 *     which must stay untouched;
 *   - PyTorch parity: tests/fixtures/optim_steps.safetensors (written by
 *     tools/make-optim-fixture) holds parameters, three steps of gradients and
 *     torch.optim's parameters after each step for cases of every optimizer,
 *     with ExponentialLR, StepLR and a LambdaLR standing for Keras' decay;
 *   - bad settings, rejected with the file and line of the key. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "io/safetensors.h"
#include "optim.h"
#include "rng.h"
#include "suites.h"
#include "testutil.h"

Suite *optim_suite(void);

#define FIXTURE "tests/fixtures/optim_steps.safetensors"
#define REGENERATE "; regenerate it with tools/make-optim-fixture"
#define EPOCHS 6
#define STEPS_PER_EPOCH 2

/* ---- a small model on the device ---- */

typedef struct {
    Device dev;
    Graph g;
    SpecNode *root;
    size_t n; /* parameter values in all, in graph order */
} Net;

/* Device copies in doubles, and tearing down (tests/testutil.h). */
#define put(t, m, v, n) test_put(&(t)->dev, m, v, n)
#define get(t, m, v, n) test_get(&(t)->dev, m, v, n)
#define net_close(t) test_close(&(t)->g, &(t)->dev, (t)->root)

static void net_open(Net *t, const char *yaml)
{
    test_device(&t->dev);
    test_graph(&t->g, &t->root, &t->dev, yaml, 1, 7);
    t->n = 0;
    for (int i = 0; i < t->g.n_params; i++)
        t->n += t->g.params[i].count;
}

/* Every parameter's value, concatenated in graph order. */
static void values_get(Net *t, double *all)
{
    for (int i = 0; i < t->g.n_params; i++) {
        get(t, t->g.params[i].value, all, t->g.params[i].count);
        all += t->g.params[i].count;
    }
}

/* Gradients (same layout) into the trainable parameters. */
static void grads_put(Net *t, const double *all)
{
    for (int i = 0; i < t->g.n_params; i++) {
        if (t->g.params[i].init.trainable)
            put(t, t->g.params[i].grad, all, t->g.params[i].count);
        all += t->g.params[i].count;
    }
}

/* Turns a parameter into a buffer, as a running mean is: no gradient. Its
 * grad buffer stays owned by the graph. */
static void make_buffer(Net *t, const char *name)
{
    for (int i = 0; i < t->g.n_params; i++)
        if (strcmp(t->g.params[i].name, name) == 0) {
            t->g.params[i].init.trainable = 0;
            t->g.params[i].grad = NULL;
            return;
        }
    ck_abort_msg("no parameter %s", name);
}

static void run_ok(int rc, const Err *err)
{
    ck_assert_msg(rc == CLRUN_OK, "%s", err->msg);
}

static void optimizer_open(Optimizer *o, SpecNode **spec, Net *t, const char *yaml)
{
    Err err = {""};
    *spec = test_spec(yaml);
    int rc = optim_parse(o, *spec, &err);
    if (!rc) rc = optim_setup(o, &t->g, &err);
    ck_assert_msg(rc == CLRUN_OK, "%s: %s", yaml, err.msg);
}

/* ---- the reference: optim.h's formulas in double ---- */

typedef enum { RULE_SGD, RULE_ADAM, RULE_RMSPROP, RULE_ADADELTA } Rule;

typedef struct {
    Rule rule;
    double lr, weight_decay, decay;
    ScheduleType schedule;
    double gamma;
    long step_size;
    double momentum;
    int nesterov;
    double beta_1, beta_2, rho, eps;
} RefOpt;

typedef struct {
    const char *yaml;
    RefOpt ref;
} OptimCase;

#define SGD(...) {.rule = RULE_SGD, __VA_ARGS__}
#define ADAM(...) {.rule = RULE_ADAM, __VA_ARGS__}
#define RMSPROP(...) {.rule = RULE_RMSPROP, __VA_ARGS__}
#define ADADELTA(...) {.rule = RULE_ADADELTA, __VA_ARGS__}

/* A case that leaves a setting out holds optim.h's default for it. */
static const OptimCase optim_cases[] = {
    {"{name: sgd, learning_rate: 0.1}", SGD(.lr = 0.1)},
    {"{name: sgd, learning_rate: 0.1, momentum: 0.5}", SGD(.lr = 0.1, .momentum = 0.5)},
    {"{name: sgd, learning_rate: 0.05, momentum: 0.9, nesterov: true, weight_decay: 0.01}",
     SGD(.lr = 0.05, .momentum = 0.9, .nesterov = 1, .weight_decay = 0.01)},
    {"{name: sgd, learning_rate: 0.2, decay: 0.3, schedule: {type: exponential, gamma: 0.7}}",
     SGD(.lr = 0.2, .decay = 0.3, .schedule = SCHEDULE_EXPONENTIAL, .gamma = 0.7)},
    {"{name: adam}", ADAM(.lr = 0.001, .beta_1 = 0.9, .beta_2 = 0.999, .eps = 1e-8)},
    {"{name: adam, learning_rate: 0.01, beta_1: 0.5, beta_2: 0.9, epsilon: 1e-4,"
     " weight_decay: 0.1}",
     ADAM(.lr = 0.01, .beta_1 = 0.5, .beta_2 = 0.9, .eps = 1e-4, .weight_decay = 0.1)},
    {"{name: adam, learning_rate: 0.01, decay: 0.1,"
     " schedule: {type: step, step_size: 2, gamma: 0.3}}",
     ADAM(.lr = 0.01, .beta_1 = 0.9, .beta_2 = 0.999, .eps = 1e-8, .decay = 0.1,
          .schedule = SCHEDULE_STEP, .step_size = 2, .gamma = 0.3)},
    {"{name: rmsprop}", RMSPROP(.lr = 0.001, .rho = 0.9, .eps = 1e-7)},
    {"{name: rmsprop, learning_rate: 0.01, rho: 0.5, epsilon: 1e-4, weight_decay: 0.05,"
     " decay: 0.2}",
     RMSPROP(.lr = 0.01, .rho = 0.5, .eps = 1e-4, .weight_decay = 0.05, .decay = 0.2)},
    {"{name: adadelta}", ADADELTA(.lr = 1.0, .rho = 0.95, .eps = 1e-7)},
    {"{name: adadelta, learning_rate: 0.5, rho: 0.8, epsilon: 1e-5, weight_decay: 0.1,"
     " schedule: {type: exponential, gamma: 0.5}}",
     ADADELTA(.lr = 0.5, .rho = 0.8, .eps = 1e-5, .weight_decay = 0.1,
              .schedule = SCHEDULE_EXPONENTIAL, .gamma = 0.5)},
    {"{name: adadelta, schedule: {type: step, step_size: 3, gamma: 0.1}}",
     ADADELTA(.lr = 1.0, .rho = 0.95, .eps = 1e-7, .schedule = SCHEDULE_STEP, .step_size = 3,
              .gamma = 0.1)},
};

#define N_OPTIM_CASES ((int)(sizeof optim_cases / sizeof optim_cases[0]))

/* The schedule's factor for the next epoch, chained as PyTorch's
 * ExponentialLR and StepLR step: times gamma at every epoch, or at every
 * step_size-th. */
static double ref_next_factor(const RefOpt *r, double factor, int next_epoch)
{
    if (r->schedule == SCHEDULE_EXPONENTIAL ||
        (r->schedule == SCHEDULE_STEP && next_epoch % r->step_size == 0))
        return factor * r->gamma;
    return factor;
}

/* One element's update at rate lr; t is the step counted from 1. */
static void ref_update(const RefOpt *r, double lr, long t, double *p, double *s0, double *s1,
                       double grad)
{
    double g = grad + r->weight_decay * *p;
    switch (r->rule) {
    case RULE_SGD:
        *s0 = r->momentum * *s0 + g;
        *p -= lr * (r->nesterov ? g + r->momentum * *s0 : *s0);
        break;
    case RULE_ADAM: {
        *s0 = r->beta_1 * *s0 + (1 - r->beta_1) * g;
        *s1 = r->beta_2 * *s1 + (1 - r->beta_2) * g * g;
        double m_hat = *s0 / (1 - pow(r->beta_1, (double)t));
        double v_hat = *s1 / (1 - pow(r->beta_2, (double)t));
        *p -= lr * m_hat / (sqrt(v_hat) + r->eps);
        break;
    }
    case RULE_RMSPROP:
        *s0 = r->rho * *s0 + (1 - r->rho) * g * g;
        *p -= lr * g / (sqrt(*s0) + r->eps);
        break;
    case RULE_ADADELTA: {
        *s0 = r->rho * *s0 + (1 - r->rho) * g * g;
        double d = sqrt(*s1 + r->eps) / sqrt(*s0 + r->eps) * g;
        *s1 = r->rho * *s1 + (1 - r->rho) * d * d;
        *p -= lr * d;
        break;
    }
    }
}

/* ---- steps against the reference ---- */

/* fc1.weight's 185 values are two whole runs of the cpu plan's kernels
 * (OPTIM_RUN, in vectors) and a part of one (element by element). */
#define MODEL                                                                  \
    "name: t\ninput: [37]\nlayers:\n"                                          \
    "  - {name: fc1, type: dense, units: 5, activation: tanh}\n"               \
    "  - {name: fc2, type: dense, units: 3}\n"

/* Uniform in [-1, 1) times 10^[-2, 0), rounded to floats so device and
 * reference see the same numbers. */
static void random_grads(double *g, size_t n, uint64_t seed)
{
    for (size_t i = 0; i < n; i++)
        g[i] = (float)((2 * rng_uniform(&seed) - 1) * pow(10, -2 * rng_uniform(&seed)));
}

/* The reference's step over the trainable elements; buffers keep their values. */
static void ref_step(const RefOpt *r, Net *t, double lr, long step, double *p, double *s0,
                     double *s1, const double *grad)
{
    size_t at = 0;
    for (int i = 0; i < t->g.n_params; i++) {
        const Param *q = &t->g.params[i];
        for (size_t j = at; q->init.trainable && j < at + q->count; j++)
            ref_update(r, lr, step, &p[j], &s0[j], &s1[j], grad[j]);
        at += q->count;
    }
}

static void check_values(Net *t, const char *what, const double *want, const double *before)
{
    double *got = malloc(t->n * sizeof *got);
    values_get(t, got);
    size_t at = 0;
    for (int i = 0; i < t->g.n_params; i++) {
        const Param *q = &t->g.params[i];
        for (size_t j = at; j < at + q->count; j++)
            if (q->init.trainable)
                ck_assert_msg(fabs(got[j] - want[j]) <= 1e-5 * fabs(want[j]) + 1e-6,
                              "%s: %s[%zu]: got %.9g, want %.9g", what, q->name, j - at, got[j],
                              want[j]);
            else
                ck_assert_msg(got[j] == before[j], "%s: buffer %s[%zu] changed from %.9g to %.9g",
                              what, q->name, j - at, before[j], got[j]);
        at += q->count;
    }
    free(got);
}

START_TEST(steps_match_the_formulas)
{
    const OptimCase *c = &optim_cases[_i];
    const RefOpt *r = &c->ref;
    Net t;
    Optimizer o;
    SpecNode *spec;
    Err err = {""};
    net_open(&t, MODEL);
    make_buffer(&t, "fc1.bias");
    optimizer_open(&o, &spec, &t, c->yaml);

    double *p = malloc(t.n * sizeof *p), *before = malloc(t.n * sizeof *before);
    double *s0 = calloc(t.n, sizeof *s0), *s1 = calloc(t.n, sizeof *s1);
    double *grad = malloc(t.n * sizeof *grad);
    values_get(&t, p);
    memcpy(before, p, t.n * sizeof *p);
    double factor = 1;
    long step = 0;
    for (int epoch = 0; epoch < EPOCHS; epoch++) {
        if (epoch > 0)
            factor = ref_next_factor(r, factor, epoch);
        run_ok(optim_begin_epoch(&o, epoch, &err), &err);
        for (int k = 0; k < STEPS_PER_EPOCH; k++) {
            double lr = r->lr * factor / (1 + r->decay * (double)step);
            double got_lr = optim_learning_rate(&o);
            ck_assert_msg(fabs(got_lr - lr) <= 1e-12 * lr,
                          "%s: epoch %d step %ld: rate %.17g, want %.17g", c->yaml, epoch, step,
                          got_lr, lr);
            random_grads(grad, t.n, 100 + (uint64_t)step);
            grads_put(&t, grad);
            run_ok(optim_step(&o, &t.g, &err), &err);
            ref_step(r, &t, lr, ++step, p, s0, s1, grad);
            char what[300];
            snprintf(what, sizeof what, "%s, epoch %d, step %ld", c->yaml, epoch, step);
            check_values(&t, what, p, before);
        }
    }
    free(p), free(before), free(s0), free(s1), free(grad);
    optim_free(&o);
    spec_free(spec);
    net_close(&t);
}
END_TEST

START_TEST(negative_epoch_is_refused)
{
    Net t;
    Optimizer o;
    SpecNode *spec;
    Err err = {""};
    net_open(&t, MODEL);
    optimizer_open(&o, &spec, &t, "{name: sgd, learning_rate: 0.1}");
    ck_assert_int_ne(optim_begin_epoch(&o, -1, &err), CLRUN_OK);
    ck_assert_ptr_nonnull(strstr(err.msg, "-1"));
    optim_free(&o);
    spec_free(spec);
    net_close(&t);
}
END_TEST

/* ---- PyTorch parity ---- */

#define PARITY_MODEL "name: t\ninput: [5]\nlayers:\n  - {name: fc, type: dense, units: 3}\n"
#define PARITY_STEPS 3
#define PARITY_RTOL 1e-5

static const StTensor *fixture_tensor(const StFile *f, const char *name, size_t count)
{
    const StTensor *x = st_find(f, name);
    ck_assert_msg(x != NULL, FIXTURE " has no tensor '%s'" REGENERATE, name);
    ck_assert_msg(x->count == count, FIXTURE ": '%s' has %zu values, expected %zu" REGENERATE,
                  name, x->count, count);
    return x;
}

static void put_tensor(Net *t, cl_mem m, const StFile *f, const char *name, size_t count)
{
    Err err = {""};
    const StTensor *x = fixture_tensor(f, name, count);
    int rc = dev_write(&t->dev, m, 0, count * sizeof(float), x->data, &err);
    ck_assert_ok(rc, err);
}

/* Every parameter within PARITY_RTOL of PyTorch's, relative to the larger of
 * |PyTorch| and 1e-3 (a few parameters end near zero). */
static void compare_tensor(Net *t, const Param *p, const StFile *f, const char *name)
{
    double *got = malloc(p->count * sizeof *got);
    get(t, p->value, got, p->count);
    const StTensor *want = fixture_tensor(f, name, p->count);
    for (size_t i = 0; i < p->count; i++) {
        double w = want->data[i];
        ck_assert_msg(fabs(got[i] - w) <= PARITY_RTOL * fmax(fabs(w), 1e-3),
                      "%s[%zu]: clrun %.9g, PyTorch %.9g (relative error %.3g)", name, i, got[i],
                      w, fabs(got[i] - w) / fabs(w));
    }
    free(got);
}

/* The case named by prefix: "adam" for adam.optimizer, adam.step1.fc.weight, ...
 * Returns the optimizer's name. */
static const char *run_parity_case(const StFile *f, const StTensor *config, const char *prefix)
{
    char yaml[512], name[300];
    ck_assert_uint_lt(config->count, sizeof yaml);
    for (size_t i = 0; i < config->count; i++)
        yaml[i] = (char)config->data[i];
    yaml[config->count] = 0;
    Net t;
    Optimizer o;
    SpecNode *spec;
    Err err = {""};
    net_open(&t, PARITY_MODEL);
    for (int i = 0; i < t.g.n_params; i++)
        put_tensor(&t, t.g.params[i].value, f, t.g.params[i].name, t.g.params[i].count);
    optimizer_open(&o, &spec, &t, yaml);
    for (int step = 1; step <= PARITY_STEPS; step++) {
        run_ok(optim_begin_epoch(&o, step - 1, &err), &err); /* one step per epoch */
        for (int i = 0; i < t.g.n_params; i++) {
            Param *p = &t.g.params[i];
            snprintf(name, sizeof name, "grad%d.%s", step, p->name);
            put_tensor(&t, p->grad, f, name, p->count);
        }
        run_ok(optim_step(&o, &t.g, &err), &err);
        for (int i = 0; i < t.g.n_params; i++) {
            snprintf(name, sizeof name, "%s.step%d.%s", prefix, step, t.g.params[i].name);
            compare_tensor(&t, &t.g.params[i], f, name);
        }
    }
    const char *type = o.type->name;
    optim_free(&o);
    spec_free(spec);
    net_close(&t);
    return type;
}

START_TEST(three_steps_match_pytorch)
{
    static const char *const every[] = {"sgd", "adam", "rmsprop", "adadelta"};
    int covered[4] = {0, 0, 0, 0};
    StFile f;
    Err err = {""};
    int rc = st_read(FIXTURE, &f, &err);
    ck_assert_msg(rc == CLRUN_OK, "%s" REGENERATE, err.msg);
    for (int i = 0; i < f.n; i++) {
        const char *name = f.t[i].name, *dot = strrchr(name, '.');
        if (!dot || strcmp(dot, ".optimizer") != 0)
            continue;
        char prefix[128];
        snprintf(prefix, sizeof prefix, "%.*s", (int)(dot - name), name);
        const char *type = run_parity_case(&f, &f.t[i], prefix);
        for (int k = 0; k < 4; k++)
            covered[k] |= strcmp(type, every[k]) == 0;
    }
    for (int k = 0; k < 4; k++)
        ck_assert_msg(covered[k], FIXTURE " has no case for %s" REGENERATE, every[k]);
    st_free(&f);
}
END_TEST

/* ---- bad settings ---- */

typedef struct {
    const char *yaml;
    int line;              /* where the message must point */
    const char *phrases[3];
} BadCase;

static const BadCase bad_cases[] = {
    {"name: adamw\n", 1, {"unknown optimizer 'adamw'", "sgd, adam, rmsprop, adadelta"}},
    {"name: sgd\nmomentum: 0.5\n", 1, {"learning_rate"}},
    {"name: sgd\nlearning_rate: 0\n", 2, {"learning_rate must be above 0"}},
    {"name: sgd\nlearning_rate: 0.1\nmomentum: 1\n", 3, {"momentum must be in [0, 1)"}},
    {"name: sgd\nlearning_rate: 0.1\nnesterov: true\n", 3, {"nesterov needs a momentum"}},
    {"name: sgd\nlearning_rate: 0.1\nbeta_1: 0.9\n", 3, {"unknown key 'beta_1'"}},
    {"name: adam\nbeta_1: 1.0\n", 2, {"beta_1 must be in [0, 1)", "got 1"}},
    {"name: adam\nbeta_2: -0.1\n", 2, {"beta_2 must be in [0, 1)"}},
    {"name: adam\nepsilon: 0\n", 2, {"epsilon must be above 0"}},
    {"name: adam\nrho: 0.9\n", 2, {"unknown key 'rho'"}},
    {"name: rmsprop\nrho: 1\n", 2, {"rho must be in [0, 1)"}},
    {"name: rmsprop\nalpha: 0.99\n", 2, {"unknown key 'alpha'"}},
    {"name: adadelta\nweight_decay: -1\n", 2, {"weight_decay must be at least 0"}},
    {"name: adadelta\nepsilon: abc\n", 2, {"'epsilon'"}},
    {"name: adam\ndecay: -0.1\n", 2, {"decay must be at least 0"}},
    {"name: adam\nschedule: 0.5\n", 2, {"'schedule'"}},
    {"name: adam\nschedule: {type: cosine, gamma: 0.5}\n", 2,
     {"unknown schedule type 'cosine'", "exponential, step"}},
    {"name: adam\nschedule: {gamma: 0.5}\n", 2, {"'type'"}},
    {"name: adam\nschedule: {type: step, gamma: 0.5}\n", 2, {"'step_size'"}},
    {"name: adam\nschedule:\n  type: step\n  step_size: 0\n  gamma: 0.5\n", 4,
     {"'step_size' must be between 1 and 2147483647, got 0"}},
    {"name: adam\nschedule:\n  type: exponential\n  gamma: 0\n", 4, {"gamma must be above 0"}},
    {"name: adam\nschedule:\n  type: exponential\n  gamma: 0.5\n  step_size: 2\n", 5,
     {"unknown key 'step_size'"}},
};

START_TEST(bad_settings_name_file_and_line)
{
    const BadCase *bc = &bad_cases[_i];
    SpecNode *spec = test_spec(bc->yaml);
    Optimizer o;
    Err err = {""};
    char where[600];
    ck_assert_int_eq(optim_parse(&o, spec, &err), CLRUN_EINPUT);
    snprintf(where, sizeof where, "%s:%d:", spec->file, bc->line);
    ck_assert_msg(strncmp(err.msg, where, strlen(where)) == 0, "'%s' does not start with '%s'",
                  err.msg, where);
    for (int i = 0; i < 3 && bc->phrases[i]; i++)
        ck_assert_msg(strstr(err.msg, bc->phrases[i]), "'%s' lacks '%s'", err.msg, bc->phrases[i]);
    optim_free(&o);
    spec_free(spec);
}
END_TEST

Suite *optim_suite(void)
{
    Suite *s = suite_create("optim");
    TCase *device = tcase_create("device");
    /* the first test of a fresh cache compiles the kernels */
    tcase_set_timeout(device, 120);
    tcase_add_loop_test(device, steps_match_the_formulas, 0, N_OPTIM_CASES);
    tcase_add_test(device, negative_epoch_is_refused);
    tcase_add_test(device, three_steps_match_pytorch);
    suite_add_tcase(s, device);

    TCase *settings = tcase_create("settings");
    tcase_add_loop_test(settings, bad_settings_name_file_and_line, 0,
                        (int)(sizeof bad_cases / sizeof bad_cases[0]));
    suite_add_tcase(s, settings);
    return s;
}
