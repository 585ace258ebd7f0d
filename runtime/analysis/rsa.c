/* rsa.c: representational similarity analysis (seed 003). For each named
 * layer, the representational dissimilarity matrix M(i, j) = 1 - Pearson of
 * the features of items i and j, where items are classes (features averaged
 * over each class's examples) or single examples ordered by class; then the
 * Spearman correlation of RDMs' upper triangles between every pair of layers,
 * and against target RDMs the user gives as .npy files. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/stats.h"
#include "io/npy.h"
#include "plot.h"

#define RSA_MAX_LAYERS 32
#define RSA_MAX_TARGETS 8
#define RSA_MAX_CLASS_LABELS 20 /* more classes than this: the heatmap shows indices */

typedef struct {
    Node *layers[RSA_MAX_LAYERS];
    int n_layers;
    int train, per_item;
    long limit;
    char targets[RSA_MAX_TARGETS][PATH_MAX];
    const SpecNode *target_nodes[RSA_MAX_TARGETS];
    int n_targets;
} Rsa;

static int parse_targets(Rsa *r, SpecNode *spec, Err *err)
{
    SpecNode *list = NULL;
    int rc = spec_seq(spec, "targets", 0, &list, err);
    if (rc || !list)
        return rc;
    if (list->n > RSA_MAX_TARGETS)
        return spec_error(list, err, "at most %d targets", RSA_MAX_TARGETS);
    for (int i = 0; !rc && i < list->n; i++) {
        if (list->items[i]->kind != SPEC_SCALAR)
            return spec_error(list->items[i], err, "a target is the path of an .npy RDM");
        r->target_nodes[r->n_targets] = list->items[i];
        rc = spec_path(list->items[i], r->targets[r->n_targets++], PATH_MAX, err);
    }
    return rc;
}

static int rsa_parse(Analysis *a, SpecNode *spec, const Graph *g, Err *err)
{
    Rsa *r = calloc(1, sizeof *r);
    if (!(a->state = r))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    const char *items = "class";
    r->limit = 1000;
    int rc = analysis_layers(spec, "layers", g, r->layers, RSA_MAX_LAYERS, &r->n_layers, err);
    if (!rc) rc = parse_targets(r, spec, err);
    if (!rc) rc = analysis_split(spec, "split", &r->train, err);
    if (!rc) rc = spec_int(spec, "limit", 0, 2, INT_MAX, &r->limit, err);
    if (!rc) rc = spec_string(spec, "items", 0, &items, err);
    r->per_item = strcmp(items, "example") == 0;
    if (!rc && !r->per_item && strcmp(items, "class") != 0)
        rc = spec_error(spec_get(spec, "items"), err, "items must be class or example, got '%s'",
                        items);
    return rc;
}

/* Features of the analysis' items for one layer: class means ([classes, dims],
 * classes = 1 + the largest label) or the examples sorted by label (stable). */
static int item_features(const Rsa *r, const float *acts, const int *labels, int n, int dims,
                         double **out, int *items, Err *err)
{
    int classes = 0;
    for (int i = 0; i < n; i++)
        classes = labels[i] + 1 > classes ? labels[i] + 1 : classes;
    *items = r->per_item ? n : classes;
    double *f = calloc((size_t)*items * (size_t)dims, sizeof *f);
    int *count = calloc((size_t)classes + 1, sizeof *count);
    if (!f || !count) {
        free(f);
        free(count);
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    }
    int row = 0;
    for (int c = 0; c < classes; c++)
        for (int i = 0; i < n; i++) {
            if (labels[i] != c)
                continue;
            double *dst = f + (size_t)(r->per_item ? row++ : c) * dims;
            for (int d = 0; d < dims; d++)
                dst[d] += acts[(size_t)i * dims + d];
            count[c]++;
        }
    for (int c = 0; !r->per_item && c < classes; c++)
        for (int d = 0; d < dims && count[c]; d++)
            f[(size_t)c * dims + d] /= count[c];
    free(count);
    *out = f;
    return CLRUN_OK;
}

/* The RDM as .npy and heatmap; class items are labelled with their names. */
static int write_rdm(AnalysisContext *ctx, const Rsa *r, const Node *layer, const double *rdm,
                     int items, Err *err)
{
    const Dataset *ds = (r->train ? ctx->train : ctx->test)->data->ds;
    char names[RSA_MAX_CLASS_LABELS][DATASET_NAME_MAX];
    const char *labels[RSA_MAX_CLASS_LABELS];
    int labelled = !r->per_item && items <= RSA_MAX_CLASS_LABELS;
    for (int c = 0; labelled && c < items; c++) {
        if (ds->class_names && c < ds->classes)
            snprintf(names[c], sizeof names[c], "%s", ds->class_names[c]);
        else
            snprintf(names[c], sizeof names[c], "%d", c);
        labels[c] = names[c];
    }
    float *f = malloc((size_t)items * items * sizeof *f);
    if (!f)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (size_t i = 0; i < (size_t)items * items; i++)
        f[i] = (float)rdm[i];
    char name[160], path[PATH_MAX], title[160];
    long shape[2] = {items, items};
    snprintf(name, sizeof name, "rdm_%s.npy", layer->name);
    analysis_path(ctx, name, path, sizeof path);
    int rc = npy_write_f32(path, f, 2, shape, err);
    free(f);
    snprintf(name, sizeof name, "rdm_%s.png", layer->name);
    analysis_path(ctx, name, path, sizeof path);
    snprintf(title, sizeof title, "RDM of %s (1 - Pearson), ordered by class", layer->name);
    const char *axis = r->per_item ? "example" : "class";
    PlotHeatmap h = {.title = title, .xlabel = axis, .ylabel = axis, .values = rdm, .rows = items,
                     .cols = items, .row_labels = labelled ? labels : NULL,
                     .col_labels = labelled ? labels : NULL};
    return rc ? rc : plot_heatmap(path, &h, err);
}

/* The RDM of every layer, each items x items, in rdms (caller frees). */
static int layer_rdms(const Rsa *r, AnalysisContext *ctx, double **rdms, int *items, Err *err)
{
    Feed *split = r->train ? ctx->train : ctx->test;
    int n = r->limit < split->n ? (int)r->limit : split->n, rc = CLRUN_OK;
    for (int l = 0; l < r->n_layers && !rc; l++) {
        float *acts = NULL;
        int *labels = NULL, dims = (int)shape_size(r->layers[l]->out_shape);
        double *features = NULL;
        rc = analysis_activations(ctx, split, n, r->layers[l], &acts, &labels, err);
        if (!rc) rc = item_features(r, acts, labels, n, dims, &features, items, err);
        if (!rc && !(rdms[l] = malloc((size_t)*items * *items * sizeof **rdms)))
            rc = err_set(err, CLRUN_ERUNTIME, "out of memory");
        if (!rc) rc = stats_rdm(features, *items, dims, rdms[l]);
        if (!rc) rc = write_rdm(ctx, r, r->layers[l], rdms[l], *items, err);
        free(acts);
        free(labels);
        free(features);
    }
    return rc;
}

/* Spearman of every layer's RDM with every target RDM, and the plot against layer. */
static int compare_targets(const Rsa *r, AnalysisContext *ctx, double **rdms, int items,
                           const char **names, Err *err)
{
    double *m = calloc((size_t)r->n_layers * r->n_targets + 1, sizeof *m);
    double *x = calloc((size_t)r->n_layers + 1, sizeof *x);
    double *y = calloc((size_t)r->n_layers * r->n_targets + 1, sizeof *y);
    PlotSeries series[RSA_MAX_TARGETS];
    const char *targets[RSA_MAX_TARGETS];
    int rc = m && x && y ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int t = 0; !rc && t < r->n_targets; t++) {
        NpyArray target;
        targets[t] = r->targets[t];
        rc = npy_read_finite(r->targets[t], &target, err);
        if (!rc && (target.ndim != 2 || target.shape[0] != items || target.shape[1] != items))
            rc = spec_error(r->target_nodes[t], err, "%s: the target RDM must be %d x %d",
                            r->targets[t], items, items);
        for (int l = 0; !rc && l < r->n_layers; l++) {
            x[l] = l;
            y[t * r->n_layers + l] = m[l * r->n_targets + t] =
                stats_rdm_spearman(rdms[l], target.data, items);
        }
        const char *base = strrchr(r->targets[t], '/');
        series[t] = (PlotSeries){.x = x, .y = y + t * r->n_layers, .n = r->n_layers,
                                 .label = base ? base + 1 : r->targets[t],
                                 .markers = PLOT_LINE_MARKERS};
        npy_free(&target);
    }
    char path[PATH_MAX];
    analysis_path(ctx, "rsa_targets.csv", path, sizeof path);
    if (!rc) rc = analysis_write_matrix(path, "layer", names, r->n_layers, targets,
                                            r->n_targets, m, "%.6f", err);
    PlotPanel panel = {.title = "RDM correlation with targets against layer", .xlabel = "layer",
                       .ylabel = "Spearman r", .series = series, .n_series = r->n_targets,
                       .x_names = names, .n_x_names = r->n_layers};
    analysis_path(ctx, "rsa_targets.png", path, sizeof path);
    if (!rc) rc = plot_lines(path, &panel, 1, err);
    free(m);
    free(x);
    free(y);
    return rc;
}

static int rsa_run(Analysis *a, AnalysisContext *ctx, Err *err)
{
    Rsa *r = a->state;
    double *rdms[RSA_MAX_LAYERS] = {0};
    const char *names[RSA_MAX_LAYERS];
    double pairs[RSA_MAX_LAYERS * RSA_MAX_LAYERS];
    int items = 0, rc = layer_rdms(r, ctx, rdms, &items, err);
    for (int i = 0; !rc && i < r->n_layers; i++) {
        names[i] = r->layers[i]->name;
        for (int j = 0; j < r->n_layers; j++)
            pairs[i * r->n_layers + j] = stats_rdm_spearman(rdms[i], rdms[j], items);
    }
    char path[PATH_MAX];
    analysis_path(ctx, "rsa_layers.csv", path, sizeof path);
    if (!rc) rc = analysis_write_matrix(path, "layer", names, r->n_layers, names,
                                            r->n_layers, pairs, "%.6f", err);
    analysis_path(ctx, "rsa_layers.png", path, sizeof path);
    if (!rc)
        rc = plot_heatmap(path, &(PlotHeatmap){.title = "Spearman correlation of layers' RDMs",
                                               .xlabel = "layer", .ylabel = "layer",
                                               .values = pairs, .rows = r->n_layers,
                                               .cols = r->n_layers, .row_labels = names,
                                               .col_labels = names, .value_format = "%.2f"},
                          err);
    if (!rc && r->n_targets)
        rc = compare_targets(r, ctx, rdms, items, names, err);
    for (int i = 0; i < r->n_layers; i++)
        free(rdms[i]);
    return rc;
}

/* Each target RDM, before training: a square matrix (its size against the
 * layers' RDMs is checked when they are made). */
static int rsa_check(Analysis *a, AnalysisContext *ctx, Err *err)
{
    (void)ctx;
    Rsa *r = a->state;
    int rc = CLRUN_OK;
    for (int t = 0; t < r->n_targets && !rc; t++) {
        NpyArray target;
        rc = npy_read_finite(r->targets[t], &target, err);
        if (!rc && (target.ndim != 2 || target.shape[0] != target.shape[1]))
            rc = spec_error(r->target_nodes[t], err, "%s: a target RDM must be a square matrix",
                            r->targets[t]);
        npy_free(&target);
    }
    return rc;
}

const AnalysisType analysis_rsa = {"rsa", rsa_parse, rsa_run, rsa_check};
