/* experiment.c: the experiment schema (see experiment.h). Each section's reader
 * takes what it knows and spec_check_unused rejects the rest with its line. */
#include "experiment.h"
#include "plot.h"

#include <limits.h>
#include <math.h>
#include <string.h>

#include "checkpoint.h"

static int read_train(Experiment *e, Err *err)
{
    SpecNode *train = NULL;
    e->epochs = 1;
    e->batch_size = 64;
    e->seed = 0;
    e->shuffle = 1;
    e->nan_check = 1;
    int rc = spec_map(e->root, "train", 1, &train, err);
    if (!rc) rc = spec_int(train, "epochs", 0, 0, 1000000, &e->epochs, err);
    if (!rc) rc = spec_int(train, "batch_size", 0, 1, 1 << 20, &e->batch_size, err);
    if (!rc) rc = spec_int(train, "seed", 0, 0, LONG_MAX, &e->seed, err);
    if (!rc) rc = spec_bool(train, "shuffle", 0, &e->shuffle, err);
    if (!rc) rc = spec_bool(train, "nan_check", 0, &e->nan_check, err);
    if (!rc) rc = spec_int(train, "log_every", 0, 0, INT_MAX, &e->log_every, err);
    if (!rc) rc = monitor_parse(&e->early_stopping, train, "early_stopping", 1, err);
    if (!rc) rc = monitor_parse(&e->save_best, train, "save_best", 0, err);
    return rc ? rc : spec_check_unused(train, "train", err);
}

/* plot: {dpi: N, format: png|svg|pdf, loss_goal: X}, optional */
static int read_plot(Experiment *e, Err *err)
{
    SpecNode *plot = NULL;
    const char *format = NULL;
    e->plot_dpi = PLOT_DPI;
    e->plot_format = PLOT_PNG;
    e->plot_loss_goal = NAN;
    int rc = spec_map(e->root, "plot", 0, &plot, err);
    if (rc || !plot)
        return rc;
    rc = spec_int(plot, "dpi", 0, PLOT_DPI_MIN, PLOT_DPI_MAX, &e->plot_dpi, err); /* 100: 900x600 */
    if (!rc) rc = spec_string(plot, "format", 0, &format, err);
    if (!rc) rc = spec_float(plot, "loss_goal", 0, &e->plot_loss_goal, err);
    if (!rc && spec_get(plot, "loss_goal") && !isfinite(e->plot_loss_goal))
        rc = spec_error(spec_get(plot, "loss_goal"), err, "loss_goal must be a finite number");
    if (!rc && format && (e->plot_format = plot_format_find(format)) < 0)
        rc = spec_error(spec_get(plot, "format"), err, "unknown figure format '%s' (known: png, "
                        "svg, pdf)", format);
    return rc ? rc : spec_check_unused(plot, "plot", err);
}

void experiment_name(const char *path, char *out, size_t size)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    snprintf(out, size, "%.*s", (int)(len < size ? len : size - 1), base);
}

static int read_experiment(Experiment *e, Err *err)
{
    SpecNode *optim = NULL;
    int rc = spec_map(e->root, "optimizer", 1, &optim, err);
    if (!rc) rc = optim_parse(&e->optim, optim, err);
    if (!rc) rc = spec_string(e->root, "loss", 1, &e->loss, err);
    e->loss_node = spec_get(e->root, "loss");
    SpecNode *data = NULL;
    if (!rc) rc = spec_map(e->root, "data", 1, &data, err);
    if (!rc) rc = data_parse(&e->data, data, err);
    if (!rc) rc = read_train(e, err);
    if (!rc) rc = read_plot(e, err);
    spec_mark_used(spec_get(e->root, "run"));   /* provenance a run wrote into config.yaml */
    spec_mark_used(spec_get(e->root, "sweep")); /* `clrun sweep`'s grid; `clrun run` runs the base */
    e->analyses = spec_get(e->root, "analyses");
    return rc;
}

int experiment_load(Experiment *e, const char *path, char *const *overrides, int n_overrides,
                    Err *err)
{
    memset(e, 0, sizeof *e);
    e->path = path;
    experiment_name(path, e->name, sizeof e->name);
    if (!(e->root = spec_load(path, err)))
        return CLRUN_EINPUT;
    int is_model = spec_get(e->root, "layers") != NULL;
    int rc = is_model ? CLRUN_OK : spec_include(e->root, "model", err);
    for (int i = 0; i < n_overrides && !rc; i++) {
        /* model.layers.x.units=... addresses a bare model file too */
        const char *o = overrides[i];
        if (is_model && strncmp(o, "model.", 6) == 0)
            o += 6;
        rc = spec_override(e->root, o, err);
    }
    if (rc)
        return rc;
    if (is_model) {
        e->model = e->root;
        return CLRUN_OK;
    }
    rc = spec_map(e->root, "model", 1, &e->model, err);
    e->settings = rc ? 0 : checkpoint_fingerprint(e->root);
    return rc ? rc : read_experiment(e, err);
}

void experiment_free(Experiment *e)
{
    optim_free(&e->optim);
    data_spec_free(&e->data);
    spec_free(e->root);
    e->root = NULL;
}
