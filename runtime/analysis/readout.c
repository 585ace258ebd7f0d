/* readout.c: linear readout (seed 003): how well a layer's features predict
 * target responses (an .npy of items x units). Items are the split's
 * examples, or objects of a table averaged over their images (items.h:
 * items:, where:); without a table the targets' rows are the split's first
 * examples. Ridge or PLS regression from a seeded subsample of the layer's
 * units, over repeated random train/test splits of the items; the score of a
 * split is the median across target units of the Pearson r between
 * predicted and actual test responses. The fitting (readout.h) is apart from
 * the network, so that bench/readout_bench.c can time it at the course's
 * scale. */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/readout.h"

#include "analysis/analysis.h"
#include "analysis/items.h"
#include "analysis/stats.h"
#include "clock.h"
#include "io/csv.h"
#include "io/npy.h"
#include "plot.h"
#include "rng.h"

#define READOUT_MAX_LAYERS 32
#define READOUT_MAX_THREADS 16

typedef struct {
    Node *layers[READOUT_MAX_LAYERS];
    int n_layers;
    char targets[PATH_MAX];
    const SpecNode *targets_node;
    long units;
    ReadoutFit fit;
    int train;
    ItemsSpec items;
} Readout;

static int readout_parse(Analysis *a, SpecNode *spec, const Graph *g, Err *err)
{
    Readout *r = calloc(1, sizeof *r);
    if (!(a->state = r))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    ReadoutFit *o = &r->fit;
    o->splits = 5;
    o->train_fraction = 0.8;
    o->lambda = 1.0;
    o->components = 25;
    const char *method = "ridge";
    int rc = analysis_layers(spec, "layers", g, r->layers, READOUT_MAX_LAYERS, &r->n_layers, err);
    const char *targets = NULL;
    if (!rc) rc = spec_string(spec, "targets", 1, &targets, err);
    if (!rc) rc = spec_path(spec_get(spec, "targets"), r->targets, PATH_MAX, err);
    r->targets_node = spec_get(spec, "targets");
    if (!rc) rc = spec_int(spec, "units", 0, 0, INT_MAX, &r->units, err);
    if (!rc) rc = spec_int(spec, "splits", 0, 1, 1000, &o->splits, err);
    if (!rc) rc = spec_int(spec, "seed", 0, 0, LONG_MAX, &o->seed, err);
    if (!rc) rc = spec_float(spec, "train_fraction", 0, &o->train_fraction, err);
    if (!rc) rc = spec_string(spec, "method", 0, &method, err);
    o->pls = strcmp(method, "pls") == 0;
    if (!rc && !o->pls && strcmp(method, "ridge") != 0)
        rc = spec_error(spec_get(spec, "method"), err, "method must be ridge or pls, got '%s'",
                        method);
    /* only the chosen method's setting is read, so the other's is an unknown key */
    if (!rc) rc = o->pls ? spec_int(spec, "components", 0, 1, INT_MAX, &o->components, err)
                         : spec_float(spec, "lambda", 0, &o->lambda, err);
    if (!rc) rc = analysis_split(spec, "split", &r->train, err);
    if (!rc) rc = items_parse(&r->items, spec, ITEMS_EXAMPLE, err);
    if (!rc && (!(o->lambda >= 0) || !(o->train_fraction > 0 && o->train_fraction < 1)))
        rc = spec_error(spec, err, "lambda must be at least 0 and train_fraction in (0, 1)");
    return rc;
}

/* How many of a layer's dims units the readout uses: all, or `units`. */
static int layer_units(const Readout *r, int dims)
{
    return r->units > 0 && r->units < dims ? (int)r->units : dims;
}

/* The chosen feature units: all of them, or `units` of them drawn without replacement. */
static int pick_units(const Readout *r, int dims, int *cols)
{
    int p = layer_units(r, dims);
    for (int i = 0; i < dims; i++)
        cols[i] = i;
    uint64_t rng = (uint64_t)r->fit.seed ^ 0x554e495453ull; /* "UNITS" */
    for (int i = 0; i < p; i++) {
        int j = i + (int)rng_below(&rng, (uint64_t)(dims - i)), t = cols[i];
        cols[i] = cols[j];
        cols[j] = t;
    }
    return p;
}

/* The training items of a split of n. */
static int train_items(const ReadoutFit *o, int n)
{
    return (int)(n * o->train_fraction);
}

/* PLS components for a fit on ntr items of p units: those asked for, clamped
 * to min(p, ntr - 1), as many as ntr centred rows of p columns can hold, so a
 * narrow layer or few items lower the count rather than fail. */
static int pls_components(const ReadoutFit *o, int ntr, int p)
{
    long k = o->components < p ? o->components : p;
    return (int)(k < ntr - 1 ? k : ntr - 1);
}

/* Fits Y ~ X W + b on n items of p units by the chosen method. */
static int fit(const ReadoutFit *o, const double *X, const double *Y, int n, int p, int q,
               double *W, double *b, Err *err)
{
    if (o->pls)
        return stats_pls(X, Y, n, p, q, pls_components(o, n, p), W, b, err);
    return stats_ridge(X, Y, n, p, q, o->lambda, W, b, err);
}

/* One split, its items in `order` (the first train_items(o, n) are fitted):
 * the median r on the others; *undefined counts the units whose r is
 * undefined (constant on the test items, or predicted constant), which the
 * median leaves out. */
static int score_split(const ReadoutFit *o, const double *X, int n, int p, const double *Y, int q,
                       const int *order, double *score, size_t *undefined, Err *err)
{
    int ntr = train_items(o, n), nte = n - ntr;
    double *xtr = malloc((size_t)ntr * p * sizeof *xtr), *ytr = malloc((size_t)ntr * q * sizeof *ytr);
    double *W = malloc((size_t)p * q * sizeof *W), *b = malloc((size_t)q * sizeof *b);
    double *pred = malloc((size_t)nte * q * sizeof *pred);
    double *col = malloc((size_t)nte * 2 * sizeof *col), *act = col ? col + nte : NULL;
    double *rs = malloc((size_t)q * sizeof *rs);
    int rc = xtr && ytr && W && b && pred && col && rs
                 ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int i = 0; !rc && i < ntr; i++) {
        memcpy(xtr + (size_t)i * p, X + (size_t)order[i] * p, (size_t)p * sizeof *xtr);
        memcpy(ytr + (size_t)i * q, Y + (size_t)order[i] * q, (size_t)q * sizeof *ytr);
    }
    if (!rc) rc = fit(o, xtr, ytr, ntr, p, q, W, b, err);
    if (!rc)
        stats_predict(X, order + ntr, nte, p, q, W, b, pred);
    for (int u = 0; !rc && u < q; u++) {
        for (int i = 0; i < nte; i++) {
            col[i] = pred[(size_t)i * q + u];
            act[i] = Y[(size_t)order[ntr + i] * q + u];
        }
        rs[u] = stats_pearson(col, act, (size_t)nte); /* NaN: a constant unit or prediction */
    }
    if (!rc)
        *score = stats_median_finite(rs, (size_t)q, undefined);
    free(xtr), free(ytr), free(W), free(b), free(pred), free(col), free(rs);
    return rc;
}

/* The splits, shared by the threads that fit them: each takes the next. */
typedef struct {
    const ReadoutFit *o;
    const double *X, *Y;
    int n, p, q;
    const int *orders;  /* [splits, n] */
    double *scores;
    size_t *undefined;  /* [splits] */
    int next, rc;
    Err err;
    pthread_mutex_t lock;
} Splits;

static void *fit_splits(void *arg)
{
    Splits *w = arg;
    for (;;) {
        pthread_mutex_lock(&w->lock);
        int s = w->rc ? (int)w->o->splits : w->next++;
        pthread_mutex_unlock(&w->lock);
        if (s >= w->o->splits)
            return NULL;
        Err err = {""};
        int rc = score_split(w->o, w->X, w->n, w->p, w->Y, w->q, w->orders + (size_t)s * w->n,
                             &w->scores[s], &w->undefined[s], &err);
        pthread_mutex_lock(&w->lock);
        if (rc && !w->rc)
            w->rc = rc, w->err = err;
        pthread_mutex_unlock(&w->lock);
    }
}

/* Threads for the splits: one a processor, as the fits are independent. */
static int split_threads(long splits)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    cpus = cpus < 1 ? 1 : cpus > READOUT_MAX_THREADS ? READOUT_MAX_THREADS : cpus;
    return (int)(splits < cpus ? splits : cpus);
}

int readout_score(const ReadoutFit *o, const double *X, int n, int p, const double *Y, int q,
                  double *scores, size_t *undefined, Err *err)
{
    /* the orders drawn one after another from one generator, before any
     * thread starts: the same splits, and bits, however many threads fit them */
    uint64_t rng = (uint64_t)o->seed ^ 0x53504c495453ull; /* "SPLITS": the same splits per layer */
    int *orders = malloc((size_t)o->splits * n * sizeof *orders);
    size_t *und = calloc((size_t)o->splits, sizeof *und);
    if (!orders || !und) {
        free(orders), free(und);
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    }
    for (long s = 0; s < o->splits; s++) {
        int *order = orders + (size_t)s * n;
        for (int i = 0; i < n; i++)
            order[i] = i;
        rng_shuffle(&rng, order, n);
    }
    Splits w = {.o = o, .X = X, .Y = Y, .n = n, .p = p, .q = q, .orders = orders,
                .scores = scores, .undefined = und};
    pthread_mutex_init(&w.lock, NULL);
    pthread_t threads[READOUT_MAX_THREADS];
    int started = 0, wanted = split_threads(o->splits);
    while (started < wanted - 1 && pthread_create(&threads[started], NULL, fit_splits, &w) == 0)
        started++;
    fit_splits(&w); /* this thread too, so that a refused thread costs only speed */
    for (int t = 0; t < started; t++)
        pthread_join(threads[t], NULL);
    pthread_mutex_destroy(&w.lock);
    *undefined = 0; /* the most of any split */
    for (long s = 0; s < o->splits; s++)
        *undefined = und[s] > *undefined ? und[s] : *undefined;
    if (w.rc)
        *err = w.err;
    free(orders), free(und);
    return w.rc;
}

/* Every layer's sampled units' mean features per item, from one pass of the
 * images through the network (5,760 x 1,250 doubles a layer at the course's
 * size); layers[l].out and cols[l] for the caller to free. */
static int layer_features(const Readout *r, AnalysisContext *ctx, const Items *it,
                          ItemsLayer *layers, int **cols, Err *err)
{
    int rc = CLRUN_OK;
    for (int l = 0; l < r->n_layers && !rc; l++) {
        int dims = (int)shape_size(r->layers[l]->out_shape);
        if (!(cols[l] = malloc((size_t)dims * sizeof **cols)))
            rc = err_set(err, CLRUN_ERUNTIME, "out of memory");
        else
            layers[l] = (ItemsLayer){.layer = r->layers[l], .cols = cols[l],
                                     .p = pick_units(r, dims, cols[l])};
    }
    if (!rc) {
        printf("Analysis readout: the features of %d items at %d layers\n", it->n, r->n_layers);
        fflush(stdout);
        rc = items_features(ctx, r->train ? ctx->train : ctx->test, it, layers, r->n_layers,
                            err);
    }
    return rc;
}

/* The PLS components a layer's fits use, with targets for `items` items. */
static int layer_components(const Readout *r, const Node *layer, int items)
{
    int dims = (int)shape_size(layer->out_shape);
    return pls_components(&r->fit, train_items(&r->fit, items), layer_units(r, dims));
}

/* The figure's title: the method, and for PLS the components the layers used. */
static void plot_title(const Readout *r, int fewest, int most, char *out, size_t size)
{
    if (!r->fit.pls)
        snprintf(out, size, "Linear readout (ridge, lambda %g)", r->fit.lambda);
    else if (fewest < most)
        snprintf(out, size, "Linear readout (PLS, %d to %d components)", fewest, most);
    else
        snprintf(out, size, "Linear readout (PLS, %d components)", most);
}

static int write_results(const Readout *r, AnalysisContext *ctx, int items, const double *scores,
                         Err *err)
{
    int L = r->n_layers, S = (int)r->fit.splits, pls = r->fit.pls;
    double *x = malloc((size_t)L * 3 * sizeof *x), *mean = x + L, *sd = x + 2 * L;
    const char **names = malloc((size_t)L * sizeof *names);
    char path[PATH_MAX];
    analysis_path(ctx, "readout.csv", path, sizeof path);
    Csv f;
    int rc = x && names ? csv_open(&f, path, "w", err)
                        : err_set(err, CLRUN_ERUNTIME, "out of memory");
    if (rc) {
        free(x), free(names);
        return rc;
    }
    static const char *const header[] = {"layer", "method", "lambda", "components",
                                         "mean_median_r", "sd"};
    for (size_t h = 0; h < sizeof header / sizeof header[0]; h++)
        csv_text(&f, header[h]);
    for (int s = 0; s < S; s++)
        csv_textf(&f, "split_%d", s);
    rc = csv_end_row(&f, err);
    int fewest = INT_MAX, most = 0;
    for (int l = 0; l < L; l++) {
        double m = 0, v = 0;
        for (int s = 0; s < S; s++)
            m += scores[l * S + s] / S;
        for (int s = 0; s < S; s++)
            v += (scores[l * S + s] - m) * (scores[l * S + s] - m) / (S > 1 ? S - 1 : 1);
        x[l] = l, mean[l] = m, sd[l] = sqrt(v), names[l] = r->layers[l]->name;
        int k = pls ? layer_components(r, r->layers[l], items) : 0;
        fewest = k < fewest ? k : fewest, most = k > most ? k : most;
        csv_text(&f, r->layers[l]->name);
        csv_text(&f, pls ? "pls" : "ridge");
        csv_number(&f, "%g", pls ? NAN : r->fit.lambda); /* NA: what the method does not use */
        csv_number(&f, "%.0f", pls ? k : NAN);
        csv_number(&f, "%.6f", m);
        csv_number(&f, "%.6f", sd[l]);
        for (int s = 0; s < S; s++)
            csv_number(&f, "%.6f", scores[l * S + s]);
        if (!rc) rc = csv_end_row(&f, err);
    }
    int closed = csv_close(&f, err);
    rc = rc ? rc : closed;
    PlotSeries series = {.x = x, .y = mean, .n = L, .markers = PLOT_LINE_MARKERS, .err = sd,
                         .label = S > 1 ? "median r, mean and sd over splits" : "median r"};
    char title[80];
    plot_title(r, fewest, most, title, sizeof title);
    PlotPanel panel = {.title = title, .xlabel = "layer", .ylabel = "median Pearson r",
                       .series = &series, .n_series = 1, .x_names = names, .n_x_names = L};
    analysis_path(ctx, "readout.png", path, sizeof path);
    if (!rc) rc = plot_lines(path, &panel, 1, err);
    free(x), free(names);
    return rc;
}

static double mean_of(const double *x, long n)
{
    double m = 0;
    for (long i = 0; i < n; i++)
        m += x[i] / (double)n;
    return m;
}

static int readout_run(Analysis *a, AnalysisContext *ctx, Err *err)
{
    Readout *r = a->state;
    Items it = {0};
    double *Y = NULL, *scores = NULL;
    Feed *split = r->train ? ctx->train : ctx->test;
    int q = 0, rc = items_with_targets(&r->items, split, r->targets, r->targets_node, &it, &Y,
                                       &q, err);
    char path[PATH_MAX];
    analysis_path(ctx, "items.csv", path, sizeof path);
    if (!rc) rc = items_write(&it, path, err);
    if (!rc && !(scores = malloc((size_t)r->n_layers * r->fit.splits * sizeof *scores)))
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory");
    ItemsLayer layers[READOUT_MAX_LAYERS] = {{0}};
    int *cols[READOUT_MAX_LAYERS] = {0};
    if (!rc) rc = layer_features(r, ctx, &it, layers, cols, err);
    for (int l = 0; !rc && l < r->n_layers; l++) {
        /* a wide layer takes a while: say what is under way */
        printf("Analysis readout: layer %s (%d of %d), %d items, %ld splits\n",
               r->layers[l]->name, l + 1, r->n_layers, it.n, r->fit.splits);
        fflush(stdout);
        size_t undefined = 0;
        double started = clock_seconds();
        rc = readout_score(&r->fit, layers[l].out, it.n, layers[l].p, Y, q,
                           scores + l * r->fit.splits, &undefined, err);
        if (!rc)
            printf("Analysis readout: layer %s: median r %.3f (the mean over splits), %.1f s\n",
                   r->layers[l]->name, mean_of(scores + l * r->fit.splits, r->fit.splits),
                   clock_seconds() - started);
        if (!rc && undefined)
            printf("Analysis readout: layer %s: %zu target unit%s left out of the median: r is "
                   "undefined (the unit or its prediction is constant on the test items)\n",
                   r->layers[l]->name, undefined, undefined == 1 ? "" : "s");
    }
    for (int l = 0; l < r->n_layers; l++)
        free(layers[l].out), free(cols[l]);
    if (!rc) rc = write_results(r, ctx, it.n, scores, err);
    free(scores), free(Y);
    items_free(&it);
    return rc;
}

static int readout_check(Analysis *a, AnalysisContext *ctx, Err *err)
{
    Readout *r = a->state;
    Items it = {0};
    int q, rc = items_with_targets(&r->items, r->train ? ctx->train : ctx->test, r->targets,
                                   r->targets_node, &it, NULL, &q, err);
    items_free(&it);
    return rc;
}

const AnalysisType analysis_readout = {"readout", readout_parse, readout_run, readout_check};
