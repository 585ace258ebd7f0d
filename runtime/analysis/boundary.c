/* boundary.c: the Playground's own picture (seed 001f): a two-class
 * network's decision over the plane, its boundary at p = 0.5, and the
 * test points over it (decision_boundary.png). The grid's points become
 * inputs as the set's examples do (playground_feature, the trainer's
 * normalisation), so the picture is of the network as trained. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "plot.h"
#include "predict.h"

/* The Playground draws -6..6 on both axes. */
static const double PLAYGROUND_HALF = 6.0;

typedef struct {
    long resolution;
    int train;
} Boundary;

static int boundary_parse(Analysis *a, SpecNode *spec, const Graph *g, Err *err)
{
    (void)g;
    Boundary *b = calloc(1, sizeof *b);
    if (!(a->state = b))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    b->resolution = 100;
    int rc = spec_int(spec, "resolution", 0, 10, 500, &b->resolution, err);
    if (!rc) rc = analysis_split(spec, "split", &b->train, err);
    return rc;
}

/* Before training: the data must be the Playground's, two classes with
 * probabilities under the loss. */
static int boundary_check(Analysis *a, AnalysisContext *ctx, Err *err)
{
    if (!ctx->data || ctx->data->source != DATA_PLAYGROUND)
        return spec_error(a->spec, err, "a decision boundary is drawn over the plane of "
                          "dataset: playground, not of dataset: %s",
                          ctx->data ? ctx->data->dataset : "?");
    Node *out = graph_output(ctx->g);
    int units = (int)shape_size(out->out_shape);
    if (units > 2)
        return spec_error(a->spec, err, "a decision boundary needs 1 or 2 output units, got %d",
                          units);
    double probs[2];
    float zero[2] = {0, 0};
    Err why = {""};
    if (predict_probabilities(ctx->loss, zero, units, 2, probs, &why))
        return spec_error(a->spec, err, "%s", why.msg);
    return CLRUN_OK;
}

/* What decide needs: the graph, and the set's features for the grid. */
typedef struct {
    AnalysisContext *ctx;
    const PlaygroundOptions *opt;
} Decide;

/* The grid's points as a Dataset of the set's features, through the graph. */
static int decide(const double *xy, int n, double *p, void *arg, Err *err)
{
    const Decide *d = arg;
    const PlaygroundOptions *opt = d->opt;
    Graph *g = d->ctx->g;
    Dataset grid = {.n = n, .c = opt->n_features, .h = 1, .w = 1, .classes = 2};
    grid.values = malloc((size_t)n * opt->n_features * sizeof *grid.values);
    grid.labels = calloc((size_t)n, 1);
    int rc = grid.values && grid.labels ? CLRUN_OK
                                        : err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int i = 0; !rc && i < n; i++)
        for (int k = 0; k < opt->n_features; k++)
            grid.values[(size_t)i * opt->n_features + k] =
                (float)playground_feature(opt->features[k], xy[2 * i], xy[2 * i + 1]);
    FeedData data = {0};
    Feed split = {0};
    float *out = NULL;
    int *labels = NULL;
    Node *node = graph_output(g);
    int units = (int)shape_size(node->out_shape);
    if (!rc) rc = feed_upload(&data, g, &grid, err);
    if (!rc) rc = feed_split(&split, "grid", g, &data, 0, n, err);
    if (!rc) rc = analysis_activations(d->ctx, &split, n, node, &out, &labels, err);
    for (int i = 0; !rc && i < n; i++) {
        double probs[2];
        rc = predict_probabilities(d->ctx->loss, out + (size_t)i * units, units, 2, probs, err);
        p[i] = probs[1];
    }
    feed_free(&split);
    free(out);
    free(labels);
    dataset_free(&grid);
    return rc;
}

static int boundary_run(Analysis *a, AnalysisContext *ctx, Err *err)
{
    const Boundary *b = a->state;
    const Feed *split = b->train ? ctx->train : ctx->test;
    /* the split's points where they lie: the same set made again with x1, x2 */
    PlaygroundOptions plane = ctx->data->playground;
    plane.n_features = 2;
    plane.features[0] = PG_X1, plane.features[1] = PG_X2;
    Dataset points;
    int rc = playground_make(&points, &plane, b->train ? "train" : "test", err);
    if (rc)
        return rc;
    int n = split->n < points.n ? split->n : points.n;
    double *x = malloc((size_t)(n ? n : 1) * sizeof *x), *y = malloc((size_t)(n ? n : 1) * sizeof *y);
    rc = x && y ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int i = 0; !rc && i < n; i++) {
        x[i] = points.values[(size_t)(split->first + i) * 2];
        y[i] = points.values[(size_t)(split->first + i) * 2 + 1];
    }
    char title[128], path[PATH_MAX];
    snprintf(title, sizeof title, "Decision boundary (p = 0.5) and the %d %s points", n,
             split->name);
    Decide d = {ctx, &ctx->data->playground};
    PlotBoundary fig = {.title = title, .xlabel = "x1", .ylabel = "x2", .x = x, .y = y,
                        .label = points.labels + split->first, .n_points = n,
                        .class_names = {points.class_names ? points.class_names[0] : "0",
                                        points.class_names ? points.class_names[1] : "1"},
                        .min_half = PLAYGROUND_HALF, .resolution = (int)b->resolution,
                        .decide = decide, .ctx = &d};
    analysis_path(ctx, "decision_boundary.png", path, sizeof path);
    if (!rc) rc = plot_boundary(path, &fig, err);
    if (!rc)
        printf("Analysis decision_boundary: %s\n", path);
    free(x);
    free(y);
    dataset_free(&points);
    return rc;
}

const AnalysisType analysis_decision_boundary = {"decision_boundary", boundary_parse,
                                                  boundary_run, boundary_check};
