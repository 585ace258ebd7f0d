/* rsa.c: representational similarity analysis (seed 003). For each named
 * layer, the representational dissimilarity matrix M(i, j) = 1 - Pearson of
 * the features of items i and j, where items are classes (features averaged
 * over each class's examples), single examples ordered by class, or the
 * values of a table column such as objects (items.h: items:, order:,
 * where:); then the Spearman correlation of RDMs' upper triangles between
 * every pair of layers, and against target RDMs the user gives as .npy files
 * (items x items, in items.csv's order, read as given). */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "analysis/items.h"
#include "analysis/stats.h"
#include "io/npy.h"
#include "plot.h"

#define RSA_MAX_LAYERS 32
#define RSA_MAX_TARGETS 8
#define RSA_PASS_BYTES (1024.0 * 1024 * 1024) /* item features held from one pass */
#define RSA_MAX_ITEM_LABELS 20 /* more items than this, ungrouped: the heatmap shows indices */

typedef struct {
    Node *layers[RSA_MAX_LAYERS];
    int n_layers;
    int train;
    long limit; /* the split's first examples looked at; 0: all */
    ItemsSpec items;
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
    int rc = analysis_layers(spec, "layers", g, r->layers, RSA_MAX_LAYERS, &r->n_layers, err);
    if (!rc) rc = parse_targets(r, spec, err);
    if (!rc) rc = analysis_split(spec, "split", &r->train, err);
    if (!rc) rc = items_parse(&r->items, spec, ITEMS_CLASS, err);
    /* a table's items want all its images; classes and examples the first 1000 */
    r->limit = items_use_table(&r->items) ? 0 : 1000;
    if (!rc) rc = spec_int(spec, "limit", 0, 2, INT_MAX, &r->limit, err);
    r->items.order_by_class = r->items.kind == ITEMS_EXAMPLE && !r->items.order;
    return rc;
}

/* What the RDM's rows are, for its axes and title. */
static const char *item_word(const Rsa *r)
{
    return r->items.kind == ITEMS_CLASS ? "class"
           : r->items.kind == ITEMS_EXAMPLE ? "example" : r->items.column;
}

/* The RDM as .npy and heatmap: grouped items with their groups' names over
 * the blocks, a few items with their own names, many with indices. */
static int write_rdm(AnalysisContext *ctx, const Rsa *r, const Items *it, const Node *layer,
                     const double *rdm, Err *err)
{
    int items = it->n, named = !it->groups && r->items.kind != ITEMS_EXAMPLE &&
                                items <= RSA_MAX_ITEM_LABELS;
    const char **labels = malloc((size_t)items * sizeof *labels);
    const char **groups = malloc((size_t)(it->groups + 1) * sizeof *groups);
    float *f = malloc((size_t)items * items * sizeof *f);
    if (!labels || !groups || !f) {
        free(labels), free(groups), free(f);
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    }
    for (int k = 0; k < items; k++)
        labels[k] = it->name[k];
    for (int g = 0; g < it->groups; g++)
        groups[g] = it->group_name[g];
    for (size_t i = 0; i < (size_t)items * items; i++)
        f[i] = (float)rdm[i];
    char name[160], path[PATH_MAX], title[160], by[96] = "";
    long shape[2] = {items, items};
    snprintf(name, sizeof name, "rdm_%s.npy", layer->name);
    analysis_path(ctx, name, path, sizeof path);
    int rc = npy_write_f32(path, f, 2, shape, err);
    snprintf(name, sizeof name, "rdm_%s.png", layer->name);
    analysis_path(ctx, name, path, sizeof path);
    if (it->groups)
        snprintf(by, sizeof by, ", by %s", r->items.order ? r->items.order : "class");
    snprintf(title, sizeof title, "RDM of %s (1 - Pearson), %d %s%s%s", layer->name, items,
             item_word(r), items == 1 ? "" : "s", by);
    PlotHeatmap h = {.title = title, .xlabel = item_word(r), .ylabel = item_word(r),
                     .values = rdm, .rows = items, .cols = items,
                     .row_labels = named ? labels : NULL, .col_labels = named ? labels : NULL,
                     .groups = it->groups ? it->group : NULL, .group_names = groups};
    if (!rc) rc = plot_heatmap(path, &h, err);
    free(labels), free(groups), free(f);
    return rc;
}

/* The examples the analysis looks at: the split's first `limit`, or all. */
static int examples_of(const Rsa *r, const Feed *split)
{
    return r->limit > 0 && r->limit < split->n ? (int)r->limit : split->n;
}

/* The RDMs of layers [first, first + n) from their item features. */
static int rdms_of(const Rsa *r, AnalysisContext *ctx, const Items *it, ItemsLayer *layers, int n,
                   int first, double **rdms, Err *err)
{
    int rc = items_features(ctx, r->train ? ctx->train : ctx->test, it, layers, n, err);
    for (int l = 0; l < n && !rc; l++) {
        double **rdm = &rdms[first + l];
        if (!(*rdm = malloc((size_t)it->n * it->n * sizeof **rdm)))
            rc = err_set(err, CLRUN_ERUNTIME, "out of memory");
        if (!rc) rc = stats_rdm(layers[l].out, it->n, layers[l].p, *rdm);
        if (!rc) rc = write_rdm(ctx, r, it, layers[l].layer, *rdm, err);
    }
    for (int l = 0; l < n; l++)
        free(layers[l].out);
    return rc;
}

/* The RDM of every layer, each it->n x it->n, in rdms (caller frees): the
 * layers whose item features fit in RSA_PASS_BYTES together from one pass
 * of the images through the network (a class or an object RDM: all of
 * them), the others a pass each. */
static int layer_rdms(const Rsa *r, AnalysisContext *ctx, const Items *it, double **rdms,
                      Err *err)
{
    ItemsLayer layers[RSA_MAX_LAYERS];
    int rc = CLRUN_OK;
    for (int first = 0, n = 0; first < r->n_layers && !rc; first += n) {
        double bytes = 0;
        for (n = 0; first + n < r->n_layers; n++) {
            int dims = (int)shape_size(r->layers[first + n]->out_shape);
            bytes += (double)it->n * dims * sizeof(double);
            if (n > 0 && bytes > RSA_PASS_BYTES)
                break;
            layers[n] = (ItemsLayer){.layer = r->layers[first + n], .p = dims};
        }
        printf("Analysis rsa: layer%s %s%s (%d of %d), %d examples as %d items\n",
               n > 1 ? "s" : "", r->layers[first]->name, n > 1 ? " and on" : "", first + n,
               r->n_layers, it->rows, it->n);
        fflush(stdout);
        rc = rdms_of(r, ctx, it, layers, n, first, rdms, err);
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
            rc = spec_error(r->target_nodes[t], err, "%s: the target RDM must be %d x %d, its "
                            "rows and columns the analysis' items in items.csv's order",
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
    Feed *split = r->train ? ctx->train : ctx->test;
    Items it;
    char path[PATH_MAX];
    int rc = items_make(&it, &r->items, split, examples_of(r, split), err), items = it.n;
    analysis_path(ctx, "items.csv", path, sizeof path);
    if (!rc) rc = items_write(&it, path, err);
    if (!rc) rc = layer_rdms(r, ctx, &it, rdms, err);
    for (int i = 0; !rc && i < r->n_layers; i++) {
        names[i] = r->layers[i]->name;
        for (int j = 0; j < r->n_layers; j++)
            pairs[i * r->n_layers + j] = stats_rdm_spearman(rdms[i], rdms[j], items);
    }
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
    items_free(&it);
    return rc;
}

/* The items and each target RDM, before training: an items x items matrix. */
static int rsa_check(Analysis *a, AnalysisContext *ctx, Err *err)
{
    Rsa *r = a->state;
    Feed *split = r->train ? ctx->train : ctx->test;
    Items it;
    int rc = items_make(&it, &r->items, split, examples_of(r, split), err);
    for (int t = 0; t < r->n_targets && !rc; t++) {
        NpyArray target;
        rc = npy_read_finite(r->targets[t], &target, err);
        if (!rc && (target.ndim != 2 || target.shape[0] != target.shape[1]))
            rc = spec_error(r->target_nodes[t], err, "%s: a target RDM must be a square matrix",
                            r->targets[t]);
        if (!rc && target.shape[0] != it.n)
            rc = spec_error(r->target_nodes[t], err, "%s is %ld x %ld; the analysis has %d "
                            "items (items: %s), so its RDMs are %d x %d", r->targets[t],
                            target.shape[0], target.shape[0], it.n, item_word(r), it.n, it.n);
        npy_free(&target);
    }
    items_free(&it);
    return rc;
}

const AnalysisType analysis_rsa = {"rsa", rsa_parse, rsa_run, rsa_check};
