/* optim.c: the optimizer table and SGD with momentum (kernels in cl/optim.cl).
 * State buffers belong to the graph, which frees them. */
#include "optim.h"

#include <stdlib.h>
#include <string.h>

static int sgd_parse(Optimizer *o, SpecNode *spec, Err *err)
{
    int rc = spec_float(spec, "momentum", 0, &o->momentum, err);
    if (!rc) rc = spec_bool(spec, "nesterov", 0, &o->nesterov, err);
    if (!rc && (o->momentum < 0 || o->momentum >= 1))
        rc = spec_error(spec_get(spec, "momentum"), err, "momentum must be in [0, 1)");
    if (!rc && o->nesterov && o->momentum == 0)
        rc = spec_error(spec_get(spec, "nesterov"), err, "nesterov needs a momentum above 0");
    return rc;
}

static int sgd_setup(Optimizer *o, Graph *g, Err *err)
{
    int rc = dev_kernel(g->dev, "sgd_step", &o->kernel, err);
    o->state = calloc((size_t)g->n_params, sizeof *o->state);
    if (!o->state)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    o->n_state = g->n_params;
    for (int i = 0; i < g->n_params && !rc; i++) {
        if (!g->params[i].init.trainable)
            continue;
        rc = graph_buffer(g, g->params[i].count, "SGD momentum", &o->state[i], err);
        if (!rc)
            rc = dev_fill_zero(g->dev, o->state[i], g->params[i].count * sizeof(float), err);
    }
    return rc;
}

static int sgd_step(Optimizer *o, Graph *g, Err *err)
{
    float lr = (float)o->learning_rate, mom = (float)o->momentum, wd = (float)o->weight_decay;
    for (int i = 0; i < g->n_params; i++) {
        Param *p = &g->params[i];
        if (!p->init.trainable)
            continue;
        int count = (int)p->count;
        size_t global[1] = {p->count};
        int rc = DEV_LAUNCH(g->dev, o->kernel, 1, global, NULL, err, KA(p->value), KA(p->grad),
                            KA(o->state[i]), KA(count), KA(lr), KA(mom), KA(wd), KA(o->nesterov));
        if (rc)
            return rc;
    }
    return CLRUN_OK;
}

static const OptimType optimizers[] = {
    {"sgd", sgd_parse, sgd_setup, sgd_step},
};

int optim_parse(Optimizer *o, SpecNode *spec, Err *err)
{
    memset(o, 0, sizeof *o);
    if (spec->kind != SPEC_MAP)
        return spec_error(spec, err, "optimizer must be a map such as {name: sgd, learning_rate: 0.01}");
    const char *name = NULL;
    int rc = spec_string(spec, "name", 1, &name, err);
    for (size_t i = 0; !rc && i < sizeof optimizers / sizeof optimizers[0]; i++)
        if (strcmp(optimizers[i].name, name) == 0)
            o->type = &optimizers[i];
    if (!rc && !o->type)
        rc = spec_error(spec_get(spec, "name"), err, "unknown optimizer '%s' (known: sgd)", name);
    if (!rc) rc = spec_float(spec, "learning_rate", 1, &o->learning_rate, err);
    if (!rc) rc = spec_float(spec, "weight_decay", 0, &o->weight_decay, err);
    if (!rc && !(o->learning_rate > 0))
        rc = spec_error(spec_get(spec, "learning_rate"), err, "learning_rate must be above 0");
    if (!rc && o->weight_decay < 0)
        rc = spec_error(spec_get(spec, "weight_decay"), err, "weight_decay must not be negative");
    if (!rc) rc = o->type->parse(o, spec, err);
    return rc ? rc : spec_check_unused(spec, "optimizer", err);
}

int optim_setup(Optimizer *o, Graph *g, Err *err)
{
    return o->type->setup(o, g, err);
}

int optim_step(Optimizer *o, Graph *g, Err *err)
{
    return o->type->step(o, g, err);
}

void optim_free(Optimizer *o)
{
    free(o->state);
    o->state = NULL;
}
