/* inspect.c: looking at a trained network (seeds 002 and 004): its
 * predictions on the first test images and on the misclassified ones, the
 * confusion matrix, the first layer's filters, any layer's feature maps for
 * one image, and any layer's activations exported to .npy for other tools. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "io/npy.h"
#include "plot.h"

/* ---- shared pieces ---- */

/* The class of each row: the argmax of the output (or p >= 0.5 for one unit). */
static void classes_of(const float *out, int n, int units, int *pred)
{
    for (int i = 0; i < n; i++) {
        const float *row = out + (size_t)i * units;
        int best = 0;
        for (int c = 1; c < units; c++)
            if (row[c] > row[best])
                best = c;
        pred[i] = units == 1 ? row[0] >= 0.5f : best;
    }
}

static const char *class_name(const Dataset *ds, int c, char *buf, size_t size)
{
    if (ds->class_names)
        snprintf(buf, size, "%s", ds->class_names[c]);
    else
        snprintf(buf, size, "%d", c);
    return buf;
}

static int is_image(const Feed *s)
{
    return s->data->ds->h > 1 && s->data->ds->w > 1;
}

/* A grid of the listed examples of split with one caption each, the marked
 * ones in red; in colour when the examples are RGB, else their first channel. */
static int example_grid(AnalysisContext *ctx, const Feed *split, const char *file,
                        const char *title, const int *which, int n, char (*captions)[64],
                        const unsigned char *marked, Err *err)
{
    const Dataset *ds = split->data->ds;
    int channels = dataset_picture_channels(ds);
    size_t picture = (size_t)channels * ds->h * ds->w;
    float *imgs = malloc((size_t)(n ? n : 1) * picture * sizeof *imgs);
    const char **caps = malloc((size_t)(n ? n : 1) * sizeof *caps);
    if (!imgs || !caps) {
        free(imgs);
        free(caps);
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    }
    for (int k = 0; k < n; k++) {
        dataset_picture(ds, split->first + which[k], channels, imgs + (size_t)k * picture);
        caps[k] = captions[k];
    }
    char path[PATH_MAX], titled[160];
    analysis_path(ctx, file, path, sizeof path);
    snprintf(titled, sizeof titled, "%s%s", title, dataset_picture_note(ds));
    PlotImages im = {.title = titled, .n = n, .captions = caps, .marked = marked,
                     .set = {{.images = imgs, .h = ds->h, .w = ds->w, .channels = channels}}};
    int rc = plot_images(path, &im, err);
    free(imgs);
    free(caps);
    return rc;
}

/* ---- predictions: first test images, misclassified ones, confusion matrix ---- */

typedef struct {
    long count, misclassified;
} Predictions;

static int predictions_parse(Analysis *a, SpecNode *spec, const Graph *g, Err *err)
{
    (void)g;
    Predictions *p = calloc(1, sizeof *p);
    if (!(a->state = p))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    p->count = p->misclassified = 20;
    int rc = spec_int(spec, "count", 0, 0, 100, &p->count, err);
    if (!rc) rc = spec_int(spec, "misclassified", 0, 0, 100, &p->misclassified, err);
    return rc;
}

static int write_confusion(AnalysisContext *ctx, const int *labels, const int *pred, int n,
                           int classes, Err *err)
{
    const Dataset *ds = ctx->test->data->ds;
    double *m = calloc((size_t)classes * classes, sizeof *m);
    char (*names)[64] = calloc((size_t)classes, sizeof *names);
    const char **name_of = calloc((size_t)classes, sizeof *name_of);
    int rc = m && names && name_of ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int i = 0; !rc && i < n; i++)
        if (labels[i] < classes && pred[i] < classes)
            m[labels[i] * classes + pred[i]] += 1;
    for (int c = 0; !rc && c < classes; c++)
        name_of[c] = class_name(ds, c, names[c], sizeof names[c]);
    char path[PATH_MAX];
    analysis_path(ctx, "confusion.csv", path, sizeof path);
    if (!rc) rc = analysis_write_matrix(path, "label\\prediction", name_of, classes, name_of,
                                        classes, m, "%.0f", err);
    analysis_path(ctx, "confusion.png", path, sizeof path);
    if (!rc)
        rc = plot_heatmap(path, &(PlotHeatmap){.title = "Confusion matrix (test set, counts)",
                                               .xlabel = "predicted", .ylabel = "true",
                                               .values = m, .rows = classes, .cols = classes,
                                               .row_labels = name_of, .col_labels = name_of,
                                               .value_format = "%.0f"},
                          err);
    free(m);
    free(names);
    free(name_of);
    return rc;
}

/* The first `count` test examples, or the first `count` misclassified ones,
 * each captioned with its prediction and its true label, the wrong ones in red. */
static int prediction_grid(AnalysisContext *ctx, const int *labels, const int *pred, int n,
                           long count, int wrong_only, Err *err)
{
    const Dataset *ds = ctx->test->data->ds;
    size_t room = (size_t)(count ? count : 1);
    int *which = malloc(room * sizeof *which), k = 0;
    char (*captions)[64] = malloc(room * sizeof *captions);
    unsigned char *wrong = malloc(room);
    int rc = which && captions && wrong ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int i = 0; !rc && i < n && k < count; i++) {
        if (wrong_only && pred[i] == labels[i])
            continue;
        char p[64], l[64];
        snprintf(captions[k], 64, "pred %.20s, true %.20s", class_name(ds, pred[i], p, sizeof p),
                 class_name(ds, labels[i], l, sizeof l));
        wrong[k] = pred[i] != labels[i];
        which[k++] = i;
    }
    char title[96];
    snprintf(title, sizeof title, "%s (wrong predictions in red)",
             wrong_only ? "Misclassified test images" : "First test images");
    if (!rc && k > 0)
        rc = example_grid(ctx, ctx->test, wrong_only ? "misclassified.png" : "predictions.png",
                          title, which, k, captions, wrong, err);
    free(which);
    free(captions);
    free(wrong);
    return rc;
}

static int predictions_run(Analysis *a, AnalysisContext *ctx, Err *err)
{
    Predictions *p = a->state;
    Node *out = graph_output(ctx->g);
    int units = (int)shape_size(out->out_shape), n = ctx->test->n;
    float *acts = NULL;
    int *labels = NULL, *pred = malloc((size_t)(n ? n : 1) * sizeof *pred);
    int rc = pred ? analysis_activations(ctx, ctx->test, n, out, &acts, &labels, err)
                  : err_set(err, CLRUN_ERUNTIME, "out of memory");
    if (!rc) {
        classes_of(acts, n, units, pred);
        int classes = units == 1 ? 2 : units;
        rc = write_confusion(ctx, labels, pred, n, classes, err);
    }
    if (!rc && is_image(ctx->test))
        rc = prediction_grid(ctx, labels, pred, n, p->count, 0, err);
    if (!rc && is_image(ctx->test))
        rc = prediction_grid(ctx, labels, pred, n, p->misclassified, 1, err);
    free(acts);
    free(labels);
    free(pred);
    return rc;
}

const AnalysisType analysis_predictions = {"predictions", predictions_parse, predictions_run, NULL};

/* ---- preview: the first examples of a split with their labels (DS5220, part 0) ---- */

typedef struct {
    long count;
    int train;
} Preview;

static int preview_parse(Analysis *a, SpecNode *spec, const Graph *g, Err *err)
{
    (void)g;
    Preview *p = calloc(1, sizeof *p);
    if (!(a->state = p))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    p->count = 16;
    p->train = 1; /* what the network learns from */
    int rc = spec_int(spec, "count", 0, 1, 100, &p->count, err);
    if (!rc && spec_get(spec, "split")) rc = analysis_split(spec, "split", &p->train, err);
    return rc;
}

static int preview_run(Analysis *a, AnalysisContext *ctx, Err *err)
{
    const Preview *p = a->state;
    const Feed *split = p->train ? ctx->train : ctx->test;
    if (!is_image(split))
        return CLRUN_OK; /* the Playground's points: no images to show */
    int n = split->n < p->count ? split->n : (int)p->count;
    int *which = malloc((size_t)(n ? n : 1) * sizeof *which);
    char (*captions)[64] = malloc((size_t)(n ? n : 1) * sizeof *captions);
    int rc = which && captions ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "out of memory");
    const Dataset *ds = split->data->ds;
    for (int k = 0; !rc && k < n; k++) {
        which[k] = k;
        class_name(ds, ds->labels[split->first + k], captions[k], sizeof captions[k]);
    }
    char title[96];
    snprintf(title, sizeof title, "The first %d %s images and their labels", n, split->name);
    if (!rc && n > 0)
        rc = example_grid(ctx, split, "data_preview.png", title, which, n, captions, NULL, err);
    free(which);
    free(captions);
    return rc;
}

const AnalysisType analysis_preview = {"preview", preview_parse, preview_run, NULL};

/* ---- features: a layer's activations as .npy, labels beside them ---- */

typedef struct {
    Node *layer;
    int train;
    long limit;
    char folder[PATH_MAX]; /* an image folder instead of a split, when set */
    ImageOptions images;
} Features;

static int features_parse(Analysis *a, SpecNode *spec, const Graph *g, Err *err)
{
    Features *f = calloc(1, sizeof *f);
    if (!(a->state = f))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    int rc = analysis_layer(spec, "layer", g, &f->layer, err);
    if (!rc && spec_get(spec, "folder")) {
        if (spec_get(spec, "split"))
            return spec_error(spec_get(spec, "split"), err, "give a split or a folder, not both");
        rc = analysis_folder(spec, "folder", f->folder, sizeof f->folder, err);
        if (!rc) rc = data_image_options(&f->images, spec, err);
    } else if (!rc) {
        rc = analysis_split(spec, "split", &f->train, err);
    }
    if (!rc) rc = spec_int(spec, "limit", 0, 0, INT_MAX, &f->limit, err);
    return rc;
}

/* features_<layer>_<which>.npy, [n, layer shape] float32, and labels_<which>.npy. */
static int write_features(AnalysisContext *ctx, const Node *layer, const char *which,
                          const float *acts, const int *labels, int n, Err *err)
{
    long shape[1 + SHAPE_MAX_RANK] = {n};
    for (int d = 0; d < layer->out_shape.rank; d++)
        shape[1 + d] = layer->out_shape.dim[d];
    char name[PATH_MAX], path[PATH_MAX];
    snprintf(name, sizeof name, "features_%s_%s.npy", layer->name, which);
    analysis_path(ctx, name, path, sizeof path);
    int rc = npy_write_f32(path, acts, 1 + layer->out_shape.rank, shape, err);
    snprintf(name, sizeof name, "labels_%s.npy", which);
    analysis_path(ctx, name, path, sizeof path);
    return rc ? rc : npy_write_labels(path, labels, n, err);
}

/* The folder's images as features_<layer>_folder_<name>.npy and
 * labels_folder_<name>.npy, <name> its last component; its class names in
 * classes_folder_<name>.txt, one per line, in label order. */
static int folder_features(Features *f, AnalysisContext *ctx, Err *err)
{
    FolderSet set = {0};
    char base[128]; /* the folder's last component names the files */
    size_t end = strlen(f->folder);
    while (end > 1 && f->folder[end - 1] == '/')
        end--;
    size_t start = end;
    while (start > 0 && f->folder[start - 1] != '/')
        start--;
    snprintf(base, sizeof base, "folder_%.*s", (int)(end - start), f->folder + start);
    int rc = analysis_folder_activations(ctx, "feature", f->folder, &f->images, f->layer, &set, err);
    int n = f->limit > 0 && f->limit < set.ds.n ? (int)f->limit : set.ds.n;
    if (!rc) rc = write_features(ctx, f->layer, base, set.acts, set.labels, n, err);
    char name[PATH_MAX], path[PATH_MAX];
    snprintf(name, sizeof name, "classes_%s.txt", base);
    analysis_path(ctx, name, path, sizeof path);
    FILE *out = rc ? NULL : fopen(path, "w");
    if (!rc && !out)
        rc = err_set(err, CLRUN_ERUNTIME, "%s: cannot write", path);
    for (int c = 0; out && c < set.ds.classes; c++)
        fprintf(out, "%s\n", set.ds.class_names ? set.ds.class_names[c] : "?");
    if (out && fclose(out) != 0)
        rc = err_set(err, CLRUN_ERUNTIME, "%s: cannot write", path);
    analysis_folder_free(&set);
    return rc;
}

static int features_run(Analysis *a, AnalysisContext *ctx, Err *err)
{
    Features *f = a->state;
    if (f->folder[0])
        return folder_features(f, ctx, err);
    Feed *split = f->train ? ctx->train : ctx->test;
    int n = f->limit > 0 && f->limit < split->n ? (int)f->limit : split->n;
    float *acts = NULL;
    int *labels = NULL;
    int rc = analysis_activations(ctx, split, n, f->layer, &acts, &labels, err);
    if (!rc) rc = write_features(ctx, f->layer, f->train ? "train" : "test", acts, labels, n, err);
    free(acts);
    free(labels);
    return rc;
}

static int features_check(Analysis *a, AnalysisContext *ctx, Err *err)
{
    Features *f = a->state;
    return f->folder[0] ? analysis_folder_check(ctx, "feature", f->folder, &f->images, NULL, err)
                        : CLRUN_OK;
}

const AnalysisType analysis_features = {"features", features_parse, features_run,
                                        features_check};

/* ---- feature maps of a layer for one example ---- */

typedef struct {
    Node *layer;
    int train;
    long image;
} Maps;

static int maps_parse(Analysis *a, SpecNode *spec, const Graph *g, Err *err)
{
    Maps *m = calloc(1, sizeof *m);
    if (!(a->state = m))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    int rc = analysis_layer(spec, "layer", g, &m->layer, err);
    if (!rc) rc = analysis_split(spec, "split", &m->train, err);
    if (!rc) rc = spec_int(spec, "image", 0, 0, INT_MAX, &m->image, err);
    if (!rc && m->layer->out_shape.rank != 3)
        rc = spec_error(spec_get(spec, "layer"), err, "layer '%s' has no feature maps "
                        "(its output is not [channels, height, width])", m->layer->name);
    return rc;
}

/* The maps of layer for example `image` of the split into file, numbered, on
 * one scale; with filters, each map beside the filter that made it. */
static int draw_maps(AnalysisContext *ctx, Node *layer, Feed *split, long image, const char *file,
                     const PlotImageSet *filters, Err *err)
{
    if (image >= split->n)
        return err_set(err, CLRUN_EINPUT, "image %ld is past the %d examples of the %s split",
                       image, split->n, split->name);
    float *acts = NULL;
    int *labels = NULL;
    Shape s = layer->out_shape;
    int rc = analysis_activations(ctx, split, (int)image + 1, layer, &acts, &labels, err);
    char path[PATH_MAX], title[160];
    analysis_path(ctx, file, path, sizeof path);
    snprintf(title, sizeof title, filters ? "Filters of %s and their outputs for %s example %ld"
                                          : "Layer %s for %s example %ld", layer->name,
             split->name, image);
    size_t size = (size_t)shape_size(s);
    PlotImages im = {.title = title, .n = s.dim[0], .numbered = 1,
                     .set = {{.images = rc ? NULL : acts + (size_t)image * size, .h = s.dim[1],
                              .w = s.dim[2], .scale = PLOT_SCALE_SHARED, .label = "activation"}}};
    if (filters) /* each filter beside what it makes of the image */
        im.set[1] = im.set[0], im.set[0] = *filters;
    if (!rc)
        rc = plot_images(path, &im, err);
    free(acts);
    free(labels);
    return rc;
}

static int maps_run(Analysis *a, AnalysisContext *ctx, Err *err)
{
    Maps *m = a->state;
    char file[160];
    snprintf(file, sizeof file, "feature_maps_%s.png", m->layer->name);
    return draw_maps(ctx, m->layer, m->train ? ctx->train : ctx->test, m->image, file, NULL, err);
}

/* image: against the split, before training. */
static int maps_check(Analysis *a, AnalysisContext *ctx, Err *err)
{
    const Maps *m = a->state;
    const Feed *split = m->train ? ctx->train : ctx->test;
    if (m->image < split->n)
        return CLRUN_OK;
    return spec_error(spec_get(a->spec, "image"), err, "image %ld is past the %d examples of the "
                      "%s split", m->image, split->n, split->name);
}

const AnalysisType analysis_feature_maps = {"feature_maps", maps_parse, maps_run, maps_check};

/* ---- filters of a convolution, and what they make of one image ---- */

static int filters_parse(Analysis *a, SpecNode *spec, const Graph *g, Err *err)
{
    Maps *m = calloc(1, sizeof *m);
    if (!(a->state = m))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    m->image = -1;
    m->train = 1; /* seed 004 applies the filters to the first training image */
    int rc = analysis_layer(spec, "layer", g, &m->layer, err);
    if (!rc && strcmp(m->layer->type->name, "conv2d") != 0)
        rc = spec_error(spec_get(spec, "layer"), err, "layer '%s' is a %s, not a conv2d",
                        m->layer->name, m->layer->type->name);
    if (!rc) rc = spec_int(spec, "image", 0, 0, INT_MAX, &m->image, err);
    return rc;
}

/* The weights [O, I, KH, KW] of the layer, first input channel of each filter. */
static int filters_run(Analysis *a, AnalysisContext *ctx, Err *err)
{
    Maps *m = a->state;
    Param *w = node_param(ctx->g, m->layer, 0);
    int o = (int)w->dims[0], in = (int)w->dims[1], kh = (int)w->dims[2], kw = (int)w->dims[3];
    float *all = malloc(w->count * sizeof *all), *first = malloc((size_t)o * kh * kw * sizeof *first);
    int rc = all && first ? dev_read(ctx->g->dev, w->value, 0, w->count * sizeof *all, all, err)
                          : err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int f = 0; !rc && f < o; f++)
        memcpy(first + (size_t)f * kh * kw, all + (size_t)f * in * kh * kw,
               (size_t)kh * kw * sizeof *first);
    char file[160], path[PATH_MAX], title[160];
    snprintf(file, sizeof file, "filters_%s.png", m->layer->name);
    analysis_path(ctx, file, path, sizeof path);
    snprintf(title, sizeof title, "Filters of %s%s", m->layer->name,
             in > 1 ? " (first input channel)" : "");
    PlotImages im = {.title = title, .n = o, .numbered = 1,
                     .set = {{.images = first, .h = kh, .w = kw, .scale = PLOT_SCALE_SHARED,
                              .label = "weight"}}};
    if (!rc) rc = plot_images(path, &im, err);
    snprintf(file, sizeof file, "filters_%s_applied.png", m->layer->name);
    if (!rc && m->image >= 0)
        rc = draw_maps(ctx, m->layer, ctx->train, m->image, file, &im.set[0], err);
    free(all);
    free(first);
    return rc;
}

const AnalysisType analysis_filters = {"filters", filters_parse, filters_run, maps_check};
