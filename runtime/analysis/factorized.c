/* factorized.c: the factorized readout (see factorized.h): its model on the
 * device, the fit, and the analysis `factorized_readout`, which fits target
 * responses (items x units; items as readout.c's, items.h: a table's images
 * or objects, where: selecting some) from a layer's feature maps and writes
 * each unit's held-out r, the masks and channel weights, and a grid of some
 * units' masks. */
#include "analysis/factorized.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/items.h"
#include "io/csv.h"
#include "analysis/stats.h"
#include "optim.h"
#include "plot.h"
#include "rng.h"

/* Enough for a few thousand items and the planted units of the tests: Adam
 * at 0.02 settles within a few hundred steps. */
const FactorizedOptions factorized_defaults = {.epochs = 100, .batch_size = 64,
                                               .learning_rate = 0.02, .ls = 1e-3, .lc = 1e-3,
                                               .train_fraction = 0.8};

/* ---- the model on the device ---- */

int factorized_open(FactorizedModel *m, Device *d, const float *features, const double *targets,
                    int items, int c, int hw, int units, Err *err)
{
    *m = (FactorizedModel){.dev = d, .items = items, .c = c, .hw = hw, .units = units,
                           .count = units * (hw + c + 1)};
    size_t n_feats = (size_t)items * c * hw, n_targets = (size_t)items * units;
    size_t n_theta = (size_t)m->count;
    const struct {
        cl_mem *mem;
        size_t count; /* of floats or ints, both 4 bytes */
        const char *what;
    } buffers[] = {
        {&m->feats, n_feats, "readout features"},  {&m->targets, n_targets, "readout targets"},
        {&m->idx, (size_t)items, "readout items"}, {&m->theta, n_theta, "readout parameters"},
        {&m->grad, n_theta, "readout gradient"},   {&m->adam_m, n_theta, "Adam's first moments"},
        {&m->adam_v, n_theta, "Adam's second moments"},
        {&m->pred, n_targets, "readout predictions"},
    };
    float *y = malloc((n_targets ? n_targets : 1) * sizeof *y);
    int rc = y ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (size_t i = 0; !rc && i < n_targets; i++)
        y[i] = (float)targets[i];
    if (!rc) rc = dev_kernel(d, "factorized_predict", &m->predict, err);
    if (!rc) rc = dev_kernel(d, "factorized_gradient", &m->gradient, err);
    if (!rc) rc = dev_kernel(d, "adam_step", &m->adam, err);
    for (size_t i = 0; !rc && i < sizeof buffers / sizeof buffers[0]; i++)
        rc = dev_alloc(d, buffers[i].count * sizeof(float), buffers[i].what, buffers[i].mem, err);
    if (!rc) rc = dev_write(d, m->feats, 0, n_feats * sizeof(float), features, err);
    if (!rc) rc = dev_write(d, m->targets, 0, n_targets * sizeof(float), y, err);
    if (!rc) rc = dev_fill_zero(d, m->adam_m, n_theta * sizeof(float), err);
    if (!rc) rc = dev_fill_zero(d, m->adam_v, n_theta * sizeof(float), err);
    free(y);
    return rc;
}

int factorized_predict(FactorizedModel *m, int first, int rows, Err *err)
{
    size_t global[1] = {(size_t)rows * m->units};
    return DEV_LAUNCH(m->dev, m->predict, 1, global, NULL, err, KA(m->feats), KA(m->idx),
                      KA(first), KA(rows), KA(m->theta), KA(m->pred), KA(m->c), KA(m->hw),
                      KA(m->units));
}

int factorized_gradient(FactorizedModel *m, int first, int rows, double ls, double lc, Err *err)
{
    size_t global[1] = {(size_t)m->count};
    float mask_penalty = (float)ls, channel_penalty = (float)lc;
    return DEV_LAUNCH(m->dev, m->gradient, 1, global, NULL, err, KA(m->feats), KA(m->idx),
                      KA(first), KA(rows), KA(m->theta), KA(m->pred), KA(m->targets),
                      KA(m->grad), KA(m->c), KA(m->hw), KA(m->units), KA(mask_penalty),
                      KA(channel_penalty));
}

/* Adam step t (from 1) with PyTorch's betas and epsilon. The penalties are in
 * the gradient already, so no weight decay: it would reach the biases too. */
static int adam_update(FactorizedModel *m, double lr, long t, Err *err)
{
    AdamArgs a = optim_adam_args(lr, 0.9, 0.999, 1e-8, t);
    size_t global[1] = {(size_t)m->count};
    float rate = (float)lr, no_decay = 0;
    return DEV_LAUNCH(m->dev, m->adam, 1, global, NULL, err, KA(m->theta), KA(m->grad),
                      KA(m->count), KA(rate), KA(no_decay), KA(m->adam_m), KA(m->adam_v),
                      KA(a.beta_1), KA(a.rest_1), KA(a.beta_2), KA(a.rest_2), KA(a.eps),
                      KA(a.step), KA(a.root2));
}

void factorized_close(FactorizedModel *m)
{
    dev_release(&m->feats), dev_release(&m->targets), dev_release(&m->idx);
    dev_release(&m->theta), dev_release(&m->grad), dev_release(&m->adam_m);
    dev_release(&m->adam_v), dev_release(&m->pred);
}

/* ---- the fit ---- */

/* Masks and channel weights small and random (both at zero would be a saddle
 * where neither moves), scaled so that the first predictions are of the
 * features' size; each bias at its unit's training mean, so that the first
 * steps shape the masks rather than chase offsets. */
static void init_theta(const FactorizedModel *m, const double *targets, const int *train_items,
                       int train, uint64_t *rng, float *theta)
{
    float *wc = theta + m->units * m->hw, *b = wc + m->units * m->c;
    for (int k = 0; k < m->units * m->hw; k++)
        theta[k] = (float)((2 * rng_uniform(rng) - 1) / sqrt(m->hw));
    for (int k = 0; k < m->units * m->c; k++)
        wc[k] = (float)((2 * rng_uniform(rng) - 1) / sqrt(m->c));
    for (int j = 0; j < m->units; j++) {
        double s = 0;
        for (int i = 0; i < train; i++)
            s += targets[(size_t)train_items[i] * m->units + j];
        b[j] = (float)(s / train);
    }
}

/* The training rows idx[0 .. train) reshuffled every epoch, in batches. */
static int train_epochs(FactorizedModel *m, const FactorizedOptions *o, int *order, int train,
                        uint64_t *rng, Err *err)
{
    long t = 0;
    int rc = CLRUN_OK, batch = (int)o->batch_size;
    for (long e = 0; !rc && e < o->epochs; e++) {
        rng_shuffle(rng, order, train);
        rc = dev_write(m->dev, m->idx, 0, (size_t)train * sizeof *order, order, err);
        for (int first = 0; !rc && first < train; first += batch) {
            int rows = train - first < batch ? train - first : batch;
            rc = factorized_predict(m, first, rows, err);
            if (!rc) rc = factorized_gradient(m, first, rows, o->ls, o->lc, err);
            if (!rc) rc = adam_update(m, o->learning_rate, ++t, err);
        }
    }
    return rc;
}

/* Each unit's Pearson r on the held-out rows idx[train .. items) = order[train ..). */
static int score(FactorizedModel *m, const double *targets, const int *order, int train,
                 double *r, Err *err)
{
    int test = m->items - train, units = m->units;
    float *pred = malloc((size_t)test * units * sizeof *pred);
    double *a = malloc((size_t)test * 2 * sizeof *a), *y = a ? a + test : NULL;
    int rc = pred && a ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "out of memory");
    if (!rc) rc = factorized_predict(m, train, test, err);
    if (!rc) rc = dev_read(m->dev, m->pred, 0, (size_t)test * units * sizeof *pred, pred, err);
    for (int j = 0; !rc && j < units; j++) {
        for (int i = 0; i < test; i++) {
            a[i] = pred[(size_t)i * units + j];
            y[i] = targets[(size_t)order[train + i] * units + j];
        }
        r[j] = stats_pearson(a, y, (size_t)test); /* NaN: a constant unit or prediction */
    }
    free(pred), free(a);
    return rc;
}

/* Flips ws_j and wc_j together, which changes no prediction, so that each
 * mask's largest entry in magnitude is positive and masks read alike. */
static void positive_masks(FactorizedFit *fit, int units, int c, int hw)
{
    for (int j = 0; j < units; j++) {
        float *ws = fit->ws + (size_t)j * hw, *wc = fit->wc + (size_t)j * c;
        int top = 0;
        for (int p = 1; p < hw; p++)
            top = fabsf(ws[p]) > fabsf(ws[top]) ? p : top;
        float sign = ws[top] < 0 ? -1 : 1;
        for (int p = 0; p < hw; p++)
            ws[p] *= sign;
        for (int k = 0; k < c; k++)
            wc[k] *= sign;
    }
}

int factorized_fit(Device *d, const float *features, const double *targets, int items, int c,
                   int hw, int units, const FactorizedOptions *o, FactorizedFit *fit, Err *err)
{
    memset(fit, 0, sizeof *fit);
    fit->train = (int)(items * o->train_fraction);
    fit->test = items - fit->train;
    if (fit->train < 1 || fit->test < 2)
        return err_set(err, CLRUN_EINPUT, "factorized readout: train_fraction %g of %d items "
                       "leaves %d to fit and %d held out (at least 1 and 2 needed)",
                       o->train_fraction, items, fit->train, fit->test);
    FactorizedModel m = {0};
    size_t count = (size_t)units * (hw + c + 1);
    int *order = malloc((size_t)items * sizeof *order);
    fit->ws = malloc(count * sizeof *fit->ws);
    fit->r = malloc((size_t)units * sizeof *fit->r);
    int rc = order && fit->ws && fit->r ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "out of memory");
    if (!rc) rc = factorized_open(&m, d, features, targets, items, c, hw, units, err);
    uint64_t rng = (uint64_t)o->seed ^ 0x4b4c494e4454ull; /* "KLINDT" */
    if (!rc) {
        fit->wc = fit->ws + (size_t)units * hw;
        fit->b = fit->wc + (size_t)units * c;
        for (int i = 0; i < items; i++)
            order[i] = i;
        rng_shuffle(&rng, order, items); /* the first fit->train are fitted */
        init_theta(&m, targets, order, fit->train, &rng, fit->ws);
        rc = dev_write(d, m.theta, 0, count * sizeof *fit->ws, fit->ws, err);
    }
    if (!rc) rc = dev_write(d, m.idx, 0, (size_t)items * sizeof *order, order, err);
    if (!rc) rc = train_epochs(&m, o, order, fit->train, &rng, err);
    if (!rc) rc = score(&m, targets, order, fit->train, fit->r, err);
    if (!rc) rc = dev_read(d, m.theta, 0, count * sizeof *fit->ws, fit->ws, err);
    if (!rc)
        positive_masks(fit, units, c, hw);
    factorized_close(&m);
    free(order);
    if (rc)
        factorized_fit_free(fit);
    return rc;
}

void factorized_fit_free(FactorizedFit *fit)
{
    free(fit->ws);
    free(fit->r);
    memset(fit, 0, sizeof *fit);
}

/* ---- the analysis ---- */

typedef struct {
    Node *layer;
    char targets[PATH_MAX];
    const SpecNode *targets_node;
    FactorizedOptions o;
    long masks; /* units whose masks the figure shows */
    int train;
    ItemsSpec items;
} FactorizedReadout;

/* The layer must have feature maps to put masks on. */
static int parse_layer(FactorizedReadout *f, SpecNode *spec, const Graph *g, Err *err)
{
    int rc = analysis_layer(spec, "layer", g, &f->layer, err);
    if (rc || f->layer->out_shape.rank == 3)
        return rc;
    char shape[64];
    shape_format(f->layer->out_shape, shape, sizeof shape);
    return spec_error(spec_get(spec, "layer"), err, "layer '%s' has output %s; a factorized "
                      "readout needs feature maps [channels, height, width]", f->layer->name,
                      shape);
}

static int factorized_parse(Analysis *a, SpecNode *spec, const Graph *g, Err *err)
{
    FactorizedReadout *f = calloc(1, sizeof *f);
    if (!(a->state = f))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    f->o = factorized_defaults;
    f->masks = 25;
    int rc = parse_layer(f, spec, g, err);
    const char *targets = NULL;
    if (!rc) rc = spec_string(spec, "targets", 1, &targets, err);
    if (!rc) rc = spec_path(spec_get(spec, "targets"), f->targets, PATH_MAX, err);
    f->targets_node = spec_get(spec, "targets");
    if (!rc) rc = analysis_split(spec, "split", &f->train, err);
    if (!rc) rc = spec_int(spec, "epochs", 0, 1, 100000, &f->o.epochs, err);
    if (!rc) rc = spec_int(spec, "batch_size", 0, 1, 100000, &f->o.batch_size, err);
    if (!rc) rc = spec_int(spec, "seed", 0, 0, LONG_MAX, &f->o.seed, err);
    if (!rc) rc = spec_float(spec, "learning_rate", 0, &f->o.learning_rate, err);
    if (!rc) rc = spec_float(spec, "ls", 0, &f->o.ls, err);
    if (!rc) rc = spec_float(spec, "lc", 0, &f->o.lc, err);
    if (!rc) rc = spec_float(spec, "train_fraction", 0, &f->o.train_fraction, err);
    if (!rc) rc = spec_int(spec, "masks", 0, 1, 100, &f->masks, err);
    if (!rc) rc = items_parse(&f->items, spec, ITEMS_EXAMPLE, err);
    if (!rc && (!(f->o.learning_rate > 0) || !(f->o.ls >= 0) || !(f->o.lc >= 0) ||
                !(f->o.train_fraction > 0 && f->o.train_fraction < 1)))
        rc = spec_error(spec, err, "learning_rate must be above 0, ls and lc at least 0 and "
                        "train_fraction in (0, 1)");
    return rc;
}

/* "<dir>/factorized_<what>_<layer>.<ext>" */
static void output_path(const AnalysisContext *ctx, const char *what, const Node *layer,
                        const char *ext, char *path)
{
    char name[128];
    snprintf(name, sizeof name, "factorized_%s_%s.%s", what, layer->name, ext);
    analysis_path(ctx, name, path, PATH_MAX);
}

static int write_scores(const FactorizedReadout *f, AnalysisContext *ctx,
                        const FactorizedFit *fit, int units, Err *err)
{
    char path[PATH_MAX];
    output_path(ctx, "readout", f->layer, "csv", path);
    Csv out;
    int rc = csv_open(&out, path, "w", err);
    if (!rc) rc = csv_header(&out, "unit,r", err);
    for (int j = 0; j < units && !rc; j++) {
        csv_textf(&out, "%d", j);
        /* NA: a unit constant on the held-out items has no correlation */
        csv_number(&out, "%.6f", isfinite(fit->r[j]) ? fit->r[j] : NAN);
        rc = csv_end_row(&out, err);
    }
    int closed = csv_close(&out, err);
    return rc ? rc : closed;
}

static int write_weights(const FactorizedReadout *f, AnalysisContext *ctx,
                         const FactorizedFit *fit, int units, Err *err)
{
    const Shape *s = &f->layer->out_shape;
    long masks[3] = {units, s->dim[1], s->dim[2]}, channels[2] = {units, s->dim[0]};
    char path[PATH_MAX];
    output_path(ctx, "masks", f->layer, "npy", path);
    int rc = npy_write_f32(path, fit->ws, 3, masks, err);
    output_path(ctx, "channels", f->layer, "npy", path);
    return rc ? rc : npy_write_f32(path, fit->wc, 2, channels, err);
}

static int by_number(const void *a, const void *b)
{
    return *(const int *)a - *(const int *)b;
}

/* The masks of f->masks seeded random units (all, when there are no more),
 * in unit order, each captioned with its held-out r. */
static int plot_masks(const FactorizedReadout *f, AnalysisContext *ctx, const FactorizedFit *fit,
                      int units, Err *err)
{
    int h = f->layer->out_shape.dim[1], w = f->layer->out_shape.dim[2];
    int n = f->masks < units ? (int)f->masks : units;
    int *pick = malloc((size_t)units * sizeof *pick);
    float *images = malloc((size_t)n * h * w * sizeof *images);
    char (*captions)[32] = malloc((size_t)n * sizeof *captions);
    const char **caption = malloc((size_t)n * sizeof *caption);
    if (!pick || !images || !captions || !caption) {
        free(pick), free(images), free(captions), free(caption);
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    }
    for (int j = 0; j < units; j++)
        pick[j] = j;
    uint64_t rng = (uint64_t)f->o.seed ^ 0x4d41534b53ull; /* "MASKS" */
    rng_shuffle(&rng, pick, units);
    qsort(pick, (size_t)n, sizeof *pick, by_number);
    for (int k = 0; k < n; k++) {
        memcpy(images + (size_t)k * h * w, fit->ws + (size_t)pick[k] * h * w,
               (size_t)h * w * sizeof *images);
        if (isfinite(fit->r[pick[k]])) /* a constant unit has no correlation */
            snprintf(captions[k], sizeof captions[k], "unit %d, r=%.2f", pick[k], fit->r[pick[k]]);
        else
            snprintf(captions[k], sizeof captions[k], "unit %d, r=NA", pick[k]);
        caption[k] = captions[k];
    }
    char path[PATH_MAX], title[128];
    output_path(ctx, "masks", f->layer, "png", path);
    snprintf(title, sizeof title, "Spatial masks on %s (factorized readout of %d items)",
             f->layer->name, fit->train + fit->test);
    PlotImages im = {.title = title, .n = n, .captions = caption,
                     .set = {{.images = images, .h = h, .w = w, .scale = PLOT_SCALE_SHARED,
                              .label = "mask weight"}}};
    int rc = plot_images(path, &im, err);
    free(pick), free(images), free(captions), free(caption);
    return rc;
}

/* The items' feature maps as the fit takes them, floats. */
static int item_maps(const FactorizedReadout *f, AnalysisContext *ctx, const Items *it,
                     float **out, Err *err)
{
    int dims = (int)shape_size(f->layer->out_shape);
    ItemsLayer one = {.layer = f->layer, .p = dims};
    int rc = items_features(ctx, f->train ? ctx->train : ctx->test, it, &one, 1, err);
    double *X = one.out;
    if (!rc && !(*out = malloc((size_t)it->n * dims * sizeof **out)))
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (size_t i = 0; !rc && i < (size_t)it->n * dims; i++)
        (*out)[i] = (float)X[i];
    free(X);
    return rc;
}

static int factorized_run(Analysis *a, AnalysisContext *ctx, Err *err)
{
    FactorizedReadout *f = a->state;
    const Shape *s = &f->layer->out_shape;
    Items it = {0};
    double *Y = NULL;
    float *maps = NULL;
    FactorizedFit fit = {0};
    int units = 0, rc = items_with_targets(&f->items, f->train ? ctx->train : ctx->test,
                                           f->targets, f->targets_node, &it, &Y, &units, err);
    int n = it.n;
    char path[PATH_MAX];
    analysis_path(ctx, "items.csv", path, sizeof path);
    if (!rc) rc = items_write(&it, path, err);
    if (!rc) {
        printf("Analysis factorized_readout: layer %s, %d items, %ld epochs\n", f->layer->name,
               n, f->o.epochs);
        fflush(stdout);
    }
    if (!rc) rc = item_maps(f, ctx, &it, &maps, err);
    if (!rc) rc = factorized_fit(ctx->g->dev, maps, Y, n, s->dim[0], s->dim[1] * s->dim[2],
                                 units, &f->o, &fit, err);
    if (!rc) rc = write_scores(f, ctx, &fit, units, err);
    if (!rc) rc = write_weights(f, ctx, &fit, units, err);
    if (!rc) rc = plot_masks(f, ctx, &fit, units, err);
    if (!rc) {
        size_t na;
        double median = stats_median_finite(fit.r, (size_t)units, &na);
        printf("Factorized readout of %s: median held-out r %.3f over %d units (%d items held "
               "out)", f->layer->name, median, units - (int)na, fit.test);
        if (na)
            printf("; %zu unit%s left out: constant target or prediction, r undefined (NA)", na,
                   na == 1 ? "" : "s");
        printf("\n");
    }
    factorized_fit_free(&fit);
    free(maps), free(Y);
    items_free(&it);
    return rc;
}

static int factorized_check(Analysis *a, AnalysisContext *ctx, Err *err)
{
    FactorizedReadout *f = a->state;
    Items it = {0};
    int units, rc = items_with_targets(&f->items, f->train ? ctx->train : ctx->test, f->targets,
                                       f->targets_node, &it, NULL, &units, err);
    items_free(&it);
    return rc;
}

const AnalysisType analysis_factorized_readout = {"factorized_readout", factorized_parse,
                                                  factorized_run, factorized_check};
