/* neighbours.c: embeddings and nearest neighbours (seed 004): a layer's
 * activations for a folder of labelled reference images and a folder of new
 * labelled query images, the sum-of-squared-differences from every query to
 * every reference, and 1-NN and k-NN (majority of the k nearest, ties to the
 * nearest) predictions of each query's class from the reference labels. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "io/csv.h"
#include "data/data.h"
#include "io/npy.h"
#include "plot.h"


typedef struct {
    Node *layer;
    char reference[PATH_MAX], query[PATH_MAX];
    ImageOptions images;
    long k;
} Neighbours;

static int neighbours_parse(Analysis *a, SpecNode *spec, const Graph *g, Err *err)
{
    Neighbours *nb = calloc(1, sizeof *nb);
    if (!(a->state = nb))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    nb->k = 3;
    int rc = analysis_layer(spec, "layer", g, &nb->layer, err);
    if (!rc) rc = analysis_folder(spec, "reference", nb->reference, sizeof nb->reference, err);
    if (!rc) rc = analysis_folder(spec, "query", nb->query, sizeof nb->query, err);
    if (!rc) rc = data_image_options(&nb->images, spec, err);
    if (!rc) rc = spec_int(spec, "k", 0, 1, INT_MAX, &nb->k, err);
    return rc;
}

/* ---- running ---- */

static int set_load(FolderSet *s, const char *what, const char *dir, const Neighbours *nb,
                    AnalysisContext *ctx, Err *err)
{
    return analysis_folder_activations(ctx, what, dir, &nb->images, nb->layer, s, err);
}

static const char *name_of(const Dataset *ds, int c)
{
    return ds->class_names && c >= 0 && c < ds->classes ? ds->class_names[c] : "?";
}

/* Query labels as reference class indices (matched by name). */
static int match_labels(FolderSet *ref, FolderSet *query, Err *err)
{
    for (int i = 0; i < query->ds.n; i++) {
        const char *name = name_of(&query->ds, query->labels[i]);
        int found = dataset_class_index(&ref->ds, name);
        if (found < 0)
            return err_set(err, CLRUN_EINPUT, "analysis neighbours: query class '%s' (%s) is not "
                           "a class of the reference images (%s)", name, query->ds.source,
                           ref->ds.source);
        query->labels[i] = found;
    }
    return CLRUN_OK;
}

static int write_embeddings(AnalysisContext *ctx, const Node *layer, const FolderSet *s,
                            const char *which, Err *err)
{
    long shape[1 + SHAPE_MAX_RANK] = {s->ds.n};
    for (int d = 0; d < layer->out_shape.rank; d++)
        shape[1 + d] = layer->out_shape.dim[d];
    char name[200], path[PATH_MAX];
    snprintf(name, sizeof name, "embeddings_%s_%s.npy", layer->name, which);
    analysis_path(ctx, name, path, sizeof path);
    int rc = npy_write_f32(path, s->acts, 1 + layer->out_shape.rank, shape, err);
    snprintf(name, sizeof name, "labels_%s.npy", which);
    analysis_path(ctx, name, path, sizeof path);
    if (!rc) rc = npy_write_labels(path, s->labels, s->ds.n, err);
    return rc;
}

static int write_distances(AnalysisContext *ctx, const FolderSet *ref, const FolderSet *query,
                           const double *dist, Err *err)
{
    int nr = ref->ds.n, nq = query->ds.n;
    char (*names)[80] = calloc((size_t)(nr + nq), sizeof *names);
    const char **labels = calloc((size_t)(nr + nq), sizeof *labels);
    if (!names || !labels) {
        free(names);
        free(labels);
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    }
    for (int i = 0; i < nq; i++) {
        snprintf(names[i], sizeof names[i], "%d:%s", i, name_of(&ref->ds, query->labels[i]));
        labels[i] = names[i];
    }
    for (int j = 0; j < nr; j++) {
        snprintf(names[nq + j], sizeof names[0], "%d:%s", j, name_of(&ref->ds, ref->labels[j]));
        labels[nq + j] = names[nq + j];
    }
    char path[PATH_MAX];
    analysis_path(ctx, "distances.csv", path, sizeof path);
    int rc = analysis_write_matrix(path, "query\\reference", labels, nq, labels + nq, nr, dist,
                                   "%.9g", err);
    analysis_path(ctx, "distances.png", path, sizeof path);
    if (!rc)
        rc = plot_heatmap(path, &(PlotHeatmap){.title = "Sum of squared differences of embeddings",
                                               .xlabel = "reference", .ylabel = "query",
                                               .values = dist, .rows = nq, .cols = nr,
                                               .row_labels = labels, .col_labels = labels + nq},
                          err);
    free(names);
    free(labels);
    return rc;
}

/* order: reference indices by distance (ties by index); insertion sort. */
static void sort_row(const double *d, int n, int *order)
{
    for (int j = 0; j < n; j++) {
        int at = j;
        while (at > 0 && d[order[at - 1]] > d[j])
            at--;
        memmove(order + at + 1, order + at, (size_t)(j - at) * sizeof *order);
        order[at] = j;
    }
}

/* The majority class of the k nearest; among tied classes, the nearest one's. */
static int vote(const int *order, int k, const int *labels, int classes, int *count)
{
    memset(count, 0, (size_t)classes * sizeof *count);
    int best = labels[order[0]];
    for (int r = 0; r < k; r++)
        count[labels[order[r]]]++;
    for (int r = 0; r < k; r++)
        if (count[labels[order[r]]] > count[best])
            best = labels[order[r]];
    return best;
}

static int write_predictions(AnalysisContext *ctx, const FolderSet *ref, const FolderSet *query, int k,
                             const int *nn1, const int *knn, Err *err)
{
    int nq = query->ds.n, right1 = 0, rightk = 0;
    char path[PATH_MAX];
    analysis_path(ctx, "neighbours.csv", path, sizeof path);
    Csv f;
    int rc = csv_open(&f, path, "w", err);
    if (!rc) rc = csv_header(&f, "query,label,nn1,knn", err);
    for (int i = 0; !rc && i < nq; i++) {
        csv_textf(&f, "%d", i);
        csv_text(&f, name_of(&ref->ds, query->labels[i]));
        csv_text(&f, name_of(&ref->ds, nn1[i]));
        csv_text(&f, name_of(&ref->ds, knn[i]));
        rc = csv_end_row(&f, err);
        right1 += nn1[i] == query->labels[i];
        rightk += knn[i] == query->labels[i];
    }
    int closed = csv_close(&f, err);
    if (rc || closed)
        return rc ? rc : closed;
    double acc1 = (double)right1 / nq, acck = (double)rightk / nq;
    printf("Analysis neighbours: 1-NN accuracy %d/%d (%.2f%%), %d-NN accuracy %d/%d (%.2f%%)\n",
           right1, nq, 100 * acc1, k, rightk, nq, 100 * acck);
    analysis_path(ctx, "neighbours_accuracy.csv", path, sizeof path);
    rc = csv_open(&f, path, "w", err);
    if (!rc) rc = csv_header(&f, "method,k,correct,total,accuracy", err);
    const int ks[2] = {1, k}, right[2] = {right1, rightk};
    for (int m = 0; m < 2 && !rc; m++) {
        csv_text(&f, m ? "k-nn" : "1-nn");
        csv_textf(&f, "%d", ks[m]);
        csv_textf(&f, "%d", right[m]);
        csv_textf(&f, "%d", nq);
        csv_number(&f, "%.6f", (double)right[m] / nq);
        rc = csv_end_row(&f, err);
    }
    closed = csv_close(&f, err);
    return rc ? rc : closed;
}

/* The decimals that write the distances shown with 3 significant digits
 * or more, the same for every caption. */
static int neighbour_decimals(const double *dist, int nq, int nr, int cols, const int *orders)
{
    double *shown = malloc((size_t)nq * (cols - 1) * sizeof *shown);
    if (!shown)
        return 2;
    for (int i = 0; i < nq; i++)
        for (int c = 1; c < cols; c++)
            shown[i * (cols - 1) + c - 1] = dist[(size_t)i * nr + orders[(size_t)i * nr + c - 1]];
    int d = plot_decimals(shown, nq * (cols - 1), 3);
    free(shown);
    return d;
}

/* Each query image, then its k nearest reference images, those of another
 * class than the query's marked; in colour when the images are RGB. Both
 * folders were loaded to the model's input, so they share c, h and w. */
static int draw_neighbours(AnalysisContext *ctx, const FolderSet *ref, const FolderSet *query, int k,
                           const double *dist, const int *orders, Err *err)
{
    int nq = query->ds.n, nr = ref->ds.n, cols = k + 1, n = nq * cols;
    int h = ref->ds.h, w = ref->ds.w, channels = dataset_picture_channels(&ref->ds);
    size_t picture = (size_t)channels * h * w;
    float *imgs = malloc((size_t)n * picture * sizeof *imgs);
    char (*text)[64] = malloc((size_t)n * sizeof *text);
    const char **caps = malloc((size_t)n * sizeof *caps);
    unsigned char *wrong = calloc((size_t)n, 1);
    int rc = imgs && text && caps && wrong ? CLRUN_OK
                                           : err_set(err, CLRUN_ERUNTIME, "out of memory");
    int decimals = rc ? 0 : neighbour_decimals(dist, nq, nr, cols, orders);
    for (int i = 0; !rc && i < nq; i++)
        for (int c = 0; c < cols; c++) {
            int at = i * cols + c, j = c ? orders[(size_t)i * nr + c - 1] : i;
            dataset_picture(c ? &ref->ds : &query->ds, j, channels, imgs + (size_t)at * picture);
            if (c == 0)
                snprintf(text[at], sizeof text[at], "%d: %.40s", i,
                         name_of(&ref->ds, query->labels[i]));
            else
                snprintf(text[at], sizeof text[at], "%.30s %.*f", name_of(&ref->ds, ref->labels[j]),
                         decimals, dist[(size_t)i * nr + j]);
            wrong[at] = c && ref->labels[j] != query->labels[i];
            caps[at] = text[at];
        }
    char path[PATH_MAX], title[160];
    analysis_path(ctx, "neighbours.png", path, sizeof path);
    snprintf(title, sizeof title, "Queries and their %d nearest references by SSD (another class "
             "in red)%s", k, dataset_picture_note(&ref->ds));
    PlotImages im = {.title = title, .n = n, .cols = cols, .captions = caps, .marked = wrong,
                     .set = {{.images = imgs, .h = h, .w = w, .channels = channels}}};
    if (!rc) rc = plot_images(path, &im, err);
    free(imgs);
    free(text);
    free(caps);
    free(wrong);
    return rc;
}

static int check_k(const Analysis *a, int references, Err *err)
{
    const Neighbours *nb = a->state;
    if (nb->k <= references)
        return CLRUN_OK;
    return spec_error(spec_get(a->spec, "k"), err, "k is %ld but there are only %d reference "
                      "images", nb->k, references);
}

static int neighbours_run(Analysis *a, AnalysisContext *ctx, Err *err)
{
    Neighbours *nb = a->state;
    FolderSet ref = {0}, query = {0};
    int rc = set_load(&ref, "reference", nb->reference, nb, ctx, err);
    if (!rc) rc = set_load(&query, "query", nb->query, nb, ctx, err);
    if (!rc) rc = check_k(a, ref.ds.n, err);
    if (!rc) rc = match_labels(&ref, &query, err);
    int nr = ref.ds.n, nq = query.ds.n, k = (int)nb->k, classes = ref.ds.classes;
    size_t size = (size_t)shape_size(nb->layer->out_shape);
    double *dist = rc ? NULL : malloc((size_t)nq * nr * sizeof *dist);
    int *orders = rc ? NULL : malloc((size_t)nq * nr * sizeof *orders);
    int *nn1 = rc ? NULL : malloc((size_t)nq * sizeof *nn1);
    int *knn = rc ? NULL : malloc((size_t)nq * sizeof *knn);
    int *count = rc ? NULL : malloc((size_t)(classes ? classes : 1) * sizeof *count);
    if (!rc && (!dist || !orders || !nn1 || !knn || !count))
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory");
    if (!rc) rc = write_embeddings(ctx, nb->layer, &ref, "reference", err);
    if (!rc) rc = write_embeddings(ctx, nb->layer, &query, "query", err);
    for (int i = 0; !rc && i < nq; i++) {
        for (int j = 0; j < nr; j++) {
            const float *q = query.acts + (size_t)i * size, *r = ref.acts + (size_t)j * size;
            double ssd = 0;
            for (size_t e = 0; e < size; e++)
                ssd += ((double)q[e] - r[e]) * ((double)q[e] - r[e]);
            dist[(size_t)i * nr + j] = ssd;
        }
        int *order = orders + (size_t)i * nr;
        sort_row(dist + (size_t)i * nr, nr, order);
        nn1[i] = ref.labels[order[0]];
        knn[i] = vote(order, k, ref.labels, classes, count);
    }
    if (!rc) rc = write_distances(ctx, &ref, &query, dist, err);
    if (!rc) rc = write_predictions(ctx, &ref, &query, k, nn1, knn, err);
    if (!rc) rc = draw_neighbours(ctx, &ref, &query, k, dist, orders, err);
    free(dist);
    free(orders);
    free(nn1);
    free(knn);
    free(count);
    analysis_folder_free(&ref);
    analysis_folder_free(&query);
    return rc;
}

/* Every setting against the folders, before training: k against the
 * reference images, the query classes against the reference classes. */
static int neighbours_check(Analysis *a, AnalysisContext *ctx, Err *err)
{
    Neighbours *nb = a->state;
    Dataset ref, query;
    memset(&ref, 0, sizeof ref);
    memset(&query, 0, sizeof query);
    int rc = analysis_folder_check(ctx, "reference", nb->reference, &nb->images, &ref, err);
    if (!rc) rc = analysis_folder_check(ctx, "query", nb->query, &nb->images, &query, err);
    if (!rc) rc = check_k(a, ref.n, err);
    Err why;
    if (!rc && dataset_match_classes(&ref, &query, &why))
        rc = spec_error(spec_get(a->spec, "query"), err, "%s", why.msg);
    dataset_free(&ref);
    dataset_free(&query);
    return rc;
}

const AnalysisType analysis_neighbours = {"neighbours", neighbours_parse, neighbours_run,
                                          neighbours_check};
