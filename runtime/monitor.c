/* monitor.c: early stopping and the best epoch's weights (see monitor.h). */
#include "monitor.h"

#include <math.h>
#include <string.h>

static const char *const names[MONITOR_METRICS] = {"loss", "accuracy", "val_loss",
                                                   "val_accuracy", "test_loss", "test_accuracy"};

int monitor_parse(Monitor *m, SpecNode *train, const char *key, int stopping, Err *err)
{
    memset(m, 0, sizeof *m);
    m->best = NAN;
    SpecNode *map = NULL;
    int rc = spec_map(train, key, 0, &map, err);
    if (rc || !map)
        return rc;
    m->on = 1;
    m->node = map;
    const char *name = "val_loss";
    rc = spec_string(map, "monitor", 0, &name, err);
    m->metric = -1;
    for (int i = 0; !rc && i < MONITOR_METRICS; i++)
        if (strcmp(name, names[i]) == 0)
            m->metric = i;
    if (!rc && m->metric < 0)
        rc = spec_error(spec_get(map, "monitor"), err, "monitor '%s': one of loss, accuracy, "
                        "val_loss, val_accuracy, test_loss, test_accuracy", name);
    if (!rc && stopping) rc = spec_int(map, "patience", 0, 0, 1000000, &m->patience, err);
    if (!rc && stopping) rc = spec_float(map, "min_delta", 0, &m->min_delta, err);
    if (!rc && stopping) rc = spec_bool(map, "restore_best_weights", 0, &m->restore, err);
    if (!rc && (m->patience < 0 || !(m->min_delta >= 0)))
        rc = spec_error(map, err, "patience and min_delta must not be negative");
    return rc ? rc : spec_check_unused(map, key, err);
}

const char *monitor_name(const Monitor *m)
{
    return names[m->metric];
}

int monitor_split(const Monitor *m)
{
    return m->metric / 2;
}

int monitor_update(Monitor *m, int epoch, const double metrics[MONITOR_METRICS])
{
    double v = metrics[m->metric];
    int larger = m->metric % 2 == 1; /* accuracies */
    double gain = larger ? v - m->best : m->best - v;
    if (isfinite(v) && (isnan(m->best) || gain > m->min_delta)) {
        m->best = v;
        m->best_epoch = epoch;
        m->wait = 0;
        return 1;
    }
    m->wait++;
    return 0;
}

int monitor_stop(const Monitor *m)
{
    return m->on && m->wait > 0 && m->wait >= m->patience; /* Keras' rule */
}
