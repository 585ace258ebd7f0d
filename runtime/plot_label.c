/* plot_label.c: the words a figure shows for a setting or a metric
 * (plot_label in plot.h): "batch size" for train.batch_size, "dropout rate of
 * conv2_drop" for model.layers.conv2_drop.rate, "final test accuracy" for
 * final_test_accuracy. One table for every figure, so that sweeps, comparisons
 * and histories name things alike. */
#include <stdio.h>
#include <string.h>

#include "plot.h"

typedef struct {
    const char *name, *label;
} Label;

/* Settings by their dotted key. */
static const Label settings[] = {
    {"train.batch_size", "batch size"},       {"train.epochs", "epochs"},
    {"train.seed", "seed"},                   {"optimizer.learning_rate", "learning rate"},
    {"optimizer.momentum", "momentum"},       {"optimizer.name", "optimizer"},
    {"optimizer.weight_decay", "weight decay"}, {"data.limit", "training examples"},
    {"data.seed", "data seed"},               {"loss", "loss function"},
};

/* A layer's fields, for model.layers.NAME.FIELD: "<label> of NAME". */
static const Label fields[] = {
    {"rate", "dropout rate"}, {"units", "units"},         {"filters", "filters"},
    {"kernel_size", "kernel size"}, {"activation", "activation"}, {"pool_size", "pool size"},
    {"stride", "stride"},     {"padding", "padding"},
};

/* Words of metric names written out. */
static const Label words[] = {
    {"val", "validation"}, {"per_s", "per second"},
};

static const char *find(const Label *t, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(t[i].name) == len && strncmp(t[i].name, name, len) == 0)
            return t[i].label;
    return NULL;
}

#define FIND(t, name, len) find(t, sizeof t / sizeof t[0], name, len)

/* name with its underscores as spaces and its known words written out. */
static void words_of(const char *name, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    for (const char *p = name; *p && o + 1 < size;) {
        const char *w = NULL;
        for (size_t i = 0; i < sizeof words / sizeof words[0] && !w; i++) {
            size_t n = strlen(words[i].name);
            /* p[n] is read only once p's first n characters matched, none of them the end */
            if ((p == name || p[-1] == '_') && strncmp(p, words[i].name, n) == 0 &&
                (p[n] == '\0' || p[n] == '_'))
                w = words[i].label, p += n;
        }
        if (w)
            o += (size_t)snprintf(out + o, size - o, "%s", w);
        else
            out[o++] = *p == '_' ? ' ' : *p, out[o] = '\0', p++;
    }
}

const char *plot_label(const char *name, char *out, size_t size)
{
    const char *known = FIND(settings, name, strlen(name));
    static const char layers[] = "model.layers.";
    const char *dot = strrchr(name, '.');
    if (known)
        snprintf(out, size, "%s", known);
    else if (strncmp(name, layers, sizeof layers - 1) == 0 && dot > name + sizeof layers - 1) {
        const char *layer = name + sizeof layers - 1, *field = FIND(fields, dot + 1, strlen(dot + 1));
        char f[64];
        if (!field)
            words_of(dot + 1, f, sizeof f), field = f;
        snprintf(out, size, "%s of %.*s", field, (int)(dot - layer), layer);
    } else
        words_of(dot ? dot + 1 : name, out, size);
    return out;
}
