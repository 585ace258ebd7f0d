/* similarity.c: does the network judge similarity as people do? (seed 000)
 *
 * Draws `pairs` seeded random pairs of distinct test images of one class and
 * scores each pair by the cosine similarity of a layer's activations, for
 * each listed layer, min-max normalised across the pairs. It writes what
 * raters need: a numbered sheet of the pairs (similarity_sheet.png), a CSV
 * template with a column for one rater (similarity_ratings_template.csv: add
 * rater_2 and more beside it, or give one file per rater) and a
 * self-contained rating page (similarity_rating.html, rating_page.c).
 *
 * Given filled-in ratings (`ratings:`, one or more CSV files of that form,
 * 1 to 10 per pair and rater), it averages the raters per pair, normalises
 * the means the same way and writes Pearson r per layer
 * (similarity_people.csv), a scatter plot per layer (similarity_scatter.png)
 * and the sheet captioned with both scores (similarity_sheet_scored.png). The
 * ratings are checked before training (the pairs depend on the test data and
 * the seed alone) and read again before anything is written, so a bad file
 * fails in seconds and pointing `ratings:` at a file in the run directory is
 * safe. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "io/csv.h"
#include "analysis/ratings.h"
#include "analysis/stats.h"
#include "plot.h"
#include "rng.h"

#define SIMILARITY_MAX_LAYERS 8
#define SIMILARITY_MAX_FILES 8
#define SIMILARITY_MAX_PAIRS 500

typedef struct {
    Node *layers[SIMILARITY_MAX_LAYERS];
    int n_layers;
    long klass, pairs, seed;
    char ratings[SIMILARITY_MAX_FILES][PATH_MAX];
    int n_ratings;
} Similarity;

/* `ratings:` as one path or a list of them, each relative to its YAML file. */
static int ratings_parse(Similarity *s, SpecNode *spec, Err *err)
{
    SpecNode *node = spec_get(spec, "ratings");
    if (!node)
        return CLRUN_OK;
    int list = node->kind == SPEC_SEQ, n = list ? node->n : 1;
    if (n < 1 || n > SIMILARITY_MAX_FILES)
        return spec_error(node, err, "ratings must name 1 to %d CSV files", SIMILARITY_MAX_FILES);
    for (int i = 0; i < n; i++) {
        SpecNode *item = list ? node->items[i] : node;
        if (item->kind != SPEC_SCALAR)
            return spec_error(item, err, "ratings must be a CSV file or a list of them");
        int rc = spec_path(item, s->ratings[i], PATH_MAX, err);
        if (rc)
            return rc;
    }
    s->n_ratings = n;
    return CLRUN_OK;
}

static int similarity_parse(Analysis *a, SpecNode *spec, const Graph *g, Err *err)
{
    Similarity *s = calloc(1, sizeof *s);
    if (!(a->state = s))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    s->pairs = 20;
    int rc = analysis_layers(spec, "layers", g, s->layers, SIMILARITY_MAX_LAYERS, &s->n_layers, err);
    if (!rc) rc = spec_int(spec, "class", 1, 0, INT_MAX, &s->klass, err);
    /* a correlation needs at least 2 */
    if (!rc) rc = spec_int(spec, "pairs", 0, 2, SIMILARITY_MAX_PAIRS, &s->pairs, err);
    if (!rc) rc = spec_int(spec, "seed", 0, 0, LONG_MAX, &s->seed, err);
    return rc ? rc : ratings_parse(s, spec, err);
}

/* ---- the pairs and the network's scores ---- */

/* examples[p] and examples[pairs + p] (indices into the test set) are pair
 * p: 2 * pairs distinct examples of the class, in a seeded random order. */
static int draw_pairs(const Similarity *s, const Feed *test, int *examples, Err *err)
{
    const Dataset *ds = test->data->ds;
    int *of_class = malloc((size_t)(test->n ? test->n : 1) * sizeof *of_class), m = 0;
    if (!of_class)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int i = test->first; i < test->first + test->n; i++)
        if (ds->labels[i] == s->klass)
            of_class[m++] = i;
    int need = 2 * (int)s->pairs;
    if (m < need) {
        free(of_class);
        return err_set(err, CLRUN_EINPUT, "analysis similarity: class %ld has %d test examples; "
                       "%ld pairs need %d", s->klass, m, s->pairs, need);
    }
    uint64_t rng = (uint64_t)s->seed ^ 0x5041495253ull; /* "PAIRS" */
    for (int i = 0; i < need; i++) { /* a partial Fisher-Yates shuffle */
        int j = i + (int)rng_below(&rng, (uint64_t)(m - i)), t = of_class[i];
        of_class[i] = of_class[j];
        of_class[j] = t;
    }
    memcpy(examples, of_class, (size_t)need * sizeof *examples);
    free(of_class);
    return CLRUN_OK;
}

/* cosine[p] for each pair at one layer. */
static int score_layer(AnalysisContext *ctx, Node *layer, const int *examples, int pairs,
                       double *cosine, Err *err)
{
    Feed chosen = {0};
    float *acts = NULL;
    int *labels = NULL;
    size_t size = (size_t)shape_size(layer->out_shape);
    double *a = malloc(2 * size * sizeof *a), *b = a ? a + size : NULL;
    int rc = a ? feed_select(&chosen, "similarity pairs", ctx->g, ctx->test->data, examples,
                             2 * pairs, err)
               : err_set(err, CLRUN_ERUNTIME, "out of memory");
    if (!rc) rc = analysis_activations(ctx, &chosen, 2 * pairs, layer, &acts, &labels, err);
    for (int p = 0; !rc && p < pairs; p++) {
        for (size_t k = 0; k < size; k++) {
            a[k] = acts[(size_t)p * size + k];
            b[k] = acts[(size_t)(pairs + p) * size + k];
        }
        cosine[p] = stats_cosine(a, b, size);
    }
    feed_free(&chosen);
    free(acts);
    free(labels);
    free(a);
    return rc;
}

/* ---- outputs ---- */

/* The pairs as a figure: each pair side by side in one image, in colour when
 * the examples are RGB, else their first channel. */
static int draw_sheet(AnalysisContext *ctx, const char *file, const char *title,
                      const int *examples, int pairs, char (*captions)[64], Err *err)
{
    const Dataset *ds = ctx->test->data->ds;
    int h = ds->h, w = ds->w, gap = RATING_PAIR_GAP, pw = 2 * w + gap;
    int channels = dataset_picture_channels(ds);
    size_t picture = (size_t)channels * h * pw;
    float *imgs = malloc((size_t)pairs * picture * sizeof *imgs);
    const char **caps = malloc((size_t)pairs * sizeof *caps);
    unsigned char *pair = malloc((size_t)ds->c * h * pw);
    int rc = imgs && caps && pair ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int p = 0; !rc && p < pairs; p++) {
        rating_pair_image(ds, examples[p], examples[pairs + p], pair); /* planes, as held */
        for (size_t i = 0; i < picture; i++)
            imgs[(size_t)p * picture + i] = pair[i];
        caps[p] = captions[p];
    }
    char path[PATH_MAX], titled[256];
    analysis_path(ctx, file, path, sizeof path);
    snprintf(titled, sizeof titled, "%s%s", title, dataset_picture_note(ds));
    PlotImages im = {.title = titled, .n = pairs, .captions = caps,
                     .set = {{.images = imgs, .h = h, .w = pw, .channels = channels}}};
    if (!rc) rc = plot_images(path, &im, err);
    free(imgs);
    free(caps);
    free(pair);
    return rc;
}

/* One row per pair: its images, the network's scores per layer, the people's. */
static int write_pairs(AnalysisContext *ctx, const Similarity *s, const int *examples,
                       const double *cosine, const double *net, const Ratings *people, Err *err)
{
    int P = (int)s->pairs, first = ctx->test->first;
    char path[PATH_MAX];
    analysis_path(ctx, "similarity_pairs.csv", path, sizeof path);
    Csv f;
    int rc = csv_open(&f, path, "w", err);
    if (rc)
        return rc;
    csv_text(&f, "pair"), csv_text(&f, "image_a"), csv_text(&f, "image_b");
    for (int l = 0; l < s->n_layers; l++) {
        csv_textf(&f, "cosine_%s", s->layers[l]->name);
        csv_textf(&f, "net_%s", s->layers[l]->name);
    }
    if (people->raters)
        csv_text(&f, "human_mean"), csv_text(&f, "human");
    rc = csv_end_row(&f, err);
    for (int p = 0; p < P && !rc; p++) {
        csv_textf(&f, "%d", p + 1);
        csv_textf(&f, "%d", examples[p] - first);
        csv_textf(&f, "%d", examples[P + p] - first);
        for (int l = 0; l < s->n_layers; l++) {
            csv_number(&f, "%.6f", cosine[l * P + p]);
            csv_number(&f, "%.6f", net[l * P + p]);
        }
        if (people->raters) {
            csv_number(&f, "%.4f", people->mean[p]);
            csv_number(&f, "%.6f", people->normalized[p]);
        }
        rc = csv_end_row(&f, err);
    }
    int closed = csv_close(&f, err);
    return rc ? rc : closed;
}

static int write_template(AnalysisContext *ctx, const int *examples, int pairs, Err *err)
{
    char path[PATH_MAX];
    analysis_path(ctx, "similarity_ratings_template.csv", path, sizeof path);
    Csv f;
    int rc = csv_open(&f, path, "w", err);
    if (!rc) rc = csv_header(&f, "pair,image_a,image_b,rater_1", err);
    for (int p = 0; p < pairs && !rc; p++) {
        csv_textf(&f, "%d", p + 1);
        csv_textf(&f, "%d", examples[p] - ctx->test->first);
        csv_textf(&f, "%d", examples[pairs + p] - ctx->test->first);
        csv_text(&f, ""); /* the rater's column, to fill in */
        rc = csv_end_row(&f, err);
    }
    int closed = csv_close(&f, err);
    return rc ? rc : closed;
}

/* Pearson r per layer to similarity_people.csv and the terminal; one scatter
 * with a series per layer, each with its least-squares line. */
static int compare_with_people(AnalysisContext *ctx, const Similarity *s, const double *net,
                               const Ratings *people, Err *err)
{
    int P = (int)s->pairs, L = s->n_layers;
    char path[PATH_MAX], labels[SIMILARITY_MAX_LAYERS][96];
    PlotSeries series[SIMILARITY_MAX_LAYERS];
    analysis_path(ctx, "similarity_people.csv", path, sizeof path);
    Csv f;
    int rc = csv_open(&f, path, "w", err);
    if (!rc) rc = csv_header(&f, "layer,pearson_r,pairs,raters", err);
    for (int l = 0; l < L && !rc; l++) {
        double r = stats_pearson(net + l * P, people->normalized, (size_t)P);
        csv_text(&f, s->layers[l]->name);
        csv_number(&f, "%.6f", r);
        csv_textf(&f, "%d", P);
        csv_textf(&f, "%d", people->raters);
        rc = csv_end_row(&f, err);
        printf("Analysis similarity: %s against %d rater%s: Pearson r = %.3f%s\n",
               s->layers[l]->name, people->raters, people->raters == 1 ? "" : "s", r,
               isnan(r) ? " (the network's or the people's scores are all equal)" : "");
        snprintf(labels[l], sizeof labels[l], "%s (r = %.2f)", s->layers[l]->name, r);
        series[l] = (PlotSeries){.x = net + l * P, .y = people->normalized, .n = P,
                                 .label = labels[l], .markers = PLOT_MARKERS, .fit = 1};
    }
    int closed = csv_close(&f, err);
    if (rc || closed)
        return rc ? rc : closed;
    char title[96];
    snprintf(title, sizeof title, "Network and people on %d pairs (%d rater%s)", P,
             people->raters, people->raters == 1 ? "" : "s");
    PlotPanel panel = {.title = title, .xlabel = "network similarity (normalized)",
                       .ylabel = "human similarity (normalized)", .series = series, .n_series = L};
    analysis_path(ctx, "similarity_scatter.png", path, sizeof path);
    return plot_lines(path, &panel, 1, err);
}

/* The given ratings of the pairs this run draws, read into people (which
 * the caller frees); examples gets the pairs. */
static int read_ratings(const Similarity *s, AnalysisContext *ctx, int *examples, Ratings *people,
                        Err *err)
{
    int P = (int)s->pairs, rc = draw_pairs(s, ctx->test, examples, err);
    for (int i = 0; !rc && i < s->n_ratings; i++)
        rc = ratings_read(people, s->ratings[i], examples, ctx->test->first, P, err);
    if (!rc && people->raters) rc = ratings_finish(people, err);
    return rc;
}

/* Before training: the class is one of the test set's, and the ratings files
 * fit the pairs. */
static int similarity_check(Analysis *a, AnalysisContext *ctx, Err *err)
{
    Similarity *s = a->state;
    const Dataset *ds = ctx->test->data->ds;
    if (s->klass >= ds->classes)
        return spec_error(spec_get(a->spec, "class"), err, "class %ld is not a class of the test "
                          "set (0 to %d)", s->klass, ds->classes - 1);
    Ratings people = {0};
    int *examples = malloc((size_t)2 * s->pairs * sizeof *examples);
    int rc = examples ? read_ratings(s, ctx, examples, &people, err)
                      : err_set(err, CLRUN_ERUNTIME, "out of memory");
    ratings_free(&people);
    free(examples);
    return rc;
}

static int similarity_run(Analysis *a, AnalysisContext *ctx, Err *err)
{
    Similarity *s = a->state;
    int P = (int)s->pairs, L = s->n_layers;
    const Dataset *ds = ctx->test->data->ds;
    if (ds->h < 2 || ds->w < 2)
        return err_set(err, CLRUN_EINPUT, "analysis similarity: the test examples are not images");
    int *examples = malloc((size_t)2 * P * sizeof *examples);
    double *cosine = malloc((size_t)2 * L * P * sizeof *cosine), *net = cosine + L * P;
    char (*captions)[64] = malloc((size_t)P * sizeof *captions);
    Ratings people = {0};
    int rc = examples && cosine && captions ? read_ratings(s, ctx, examples, &people, err)
                                            : err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int l = 0; !rc && l < L; l++) {
        rc = score_layer(ctx, s->layers[l], examples, P, cosine + l * P, err);
        memcpy(net + l * P, cosine + l * P, (size_t)P * sizeof *net);
        stats_minmax(net + l * P, (size_t)P);
    }
    for (int p = 0; !rc && p < P; p++)
        snprintf(captions[p], sizeof captions[p], "Pair %d", p + 1);
    if (!rc) rc = draw_sheet(ctx, "similarity_sheet.png", "How similar do these two images look? "
                             "(1 to 10)", examples, P, captions, err);
    if (!rc) rc = write_template(ctx, examples, P, err);
    if (!rc) rc = rating_page_write(ctx, examples, P, err);
    if (!rc) rc = write_pairs(ctx, s, examples, cosine, net, &people, err);
    for (int p = 0; !rc && people.raters && p < P; p++)
        snprintf(captions[p], sizeof captions[p], "%d: net %.2f, human %.2f", p + 1, net[p],
                 people.normalized[p]);
    if (!rc && people.raters) rc = compare_with_people(ctx, s, net, &people, err);
    char title[128];
    snprintf(title, sizeof title, "Pairs scored by the network (%s) and by people",
             s->layers[0]->name);
    if (!rc && people.raters)
        rc = draw_sheet(ctx, "similarity_sheet_scored.png", title, examples, P, captions, err);
    ratings_free(&people);
    free(examples);
    free(cosine);
    free(captions);
    return rc;
}

const AnalysisType analysis_similarity = {"similarity", similarity_parse, similarity_run,
                                          similarity_check};
