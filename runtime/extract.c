/* extract.c: `clrun features` (see extract.h).
 *
 * The arrays can be far larger than memory (ResNet-18's conv1 on the
 * course's 5,760 images is 18 GB), so each layer's file is written batch by
 * batch as the model runs, through a temporary file renamed into place at
 * the end: an interrupted run leaves the earlier files as they were. */
#include "extract.h"

#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "interrupt.h"
#include "io/file.h"
#include "io/npy.h"
#include "outputs.h"
#include "predict.h"
#include "rows.h"
#include "rundir.h"
#include "text.h"

#define ROWS_FILE "images.csv"

/* ---- checks before the device opens ---- */

/* --layers a,b,c into job->names: none empty, none twice. */
static int split_layers(ExtractJob *job, const char *list, Err *err)
{
    const char *p = list;
    for (job->n_layers = 0;; p++) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= sizeof job->names[0])
            return err_set(err, CLRUN_EINPUT, "--layers %s: layer names are 1 to %zu characters, "
                           "separated by commas", list, sizeof job->names[0] - 1);
        if (job->n_layers == EXTRACT_MAX_LAYERS)
            return err_set(err, CLRUN_EINPUT, "--layers: at most %d layers", EXTRACT_MAX_LAYERS);
        char *name = job->names[job->n_layers];
        memcpy(name, p, len);
        name[len] = '\0';
        for (int i = 0; i < job->n_layers; i++)
            if (strcmp(job->names[i], name) == 0)
                return err_set(err, CLRUN_EINPUT, "--layers names '%s' twice", name);
        job->n_layers++;
        if (!*(p += len))
            return CLRUN_OK;
    }
}

static Node *find_node(Graph *g, const char *name)
{
    for (int i = 1; i < g->n_nodes; i++) /* nodes[0] is the input, not a layer */
        if (strcmp(g->nodes[i].name, name) == 0)
            return &g->nodes[i];
    return NULL;
}

/* An unknown name, with every layer the model has, in order. */
static int unknown_layer(const Graph *g, const char *name, Err *err)
{
    char known[8192];
    size_t len = 0;
    for (int i = 1; i < g->n_nodes && len < sizeof known; i++)
        len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", i > 1 ? ", " : "",
                                g->nodes[i].name);
    return err_set(err, CLRUN_EINPUT, "--layers: no layer named '%s' in the model %s; its layers "
                   "are %s", name, g->name ? g->name : "", known);
}

/* Every name in job against the model, built on the host only. */
static int check_layers(ExtractJob *job, const Experiment *e, Err *err)
{
    Graph g;
    memset(&g, 0, sizeof g);
    int rc = graph_build(&g, e->model, err);
    for (int i = 0; !rc && i < job->n_layers; i++)
        if (!find_node(&g, job->names[i]))
            rc = unknown_layer(&g, job->names[i], err);
    graph_free(&g);
    return rc;
}

/* The folder the files go to: --out, else features/ beside the weights. */
static int out_dir(ExtractJob *job, Err *err)
{
    const ExtractOptions *o = job->o;
    char weights[sizeof job->dir];
    snprintf(weights, sizeof weights, "%s", o->weights);
    int len = o->out ? snprintf(job->dir, sizeof job->dir, "%s", o->out)
                     : snprintf(job->dir, sizeof job->dir, "%s/features", dirname(weights));
    if (len < 0 || (size_t)len >= sizeof job->dir)
        return err_set(err, CLRUN_EINPUT, "%s: the features folder's path is too long",
                       o->out ? o->out : o->weights);
    return CLRUN_OK;
}

/* The file of layer i (i == n_layers: the row table) into path. */
static void file_of(const ExtractJob *job, int i, char *path, size_t size)
{
    if (i < job->n_layers)
        snprintf(path, size, "%s/%s.npy", job->dir, job->names[i]);
    else
        snprintf(path, size, "%s/%s", job->dir, ROWS_FILE);
}

/* No file about to be written may be an input: those read so far, and the
 * weights, images and data files read next. */
static int check_outputs(const ExtractJob *job, Err *err)
{
    const DataSpec *d = &job->e->data;
    const char *also[] = {job->o->weights, job->o->images ? job->o->images : "",
                          d->train_dir ? d->train_dir : "", d->test_dir ? d->test_dir : "", NULL};
    int rc = CLRUN_OK;
    for (int i = 0; !rc && i <= job->n_layers; i++) {
        char path[sizeof job->dir + 80];
        file_of(job, i, path, sizeof path);
        rc = outputs_check_file(path, i < job->n_layers ? "features file" : "row table", also,
                                err);
    }
    return rc;
}

int extract_check(ExtractJob *job, const ExtractOptions *o, const Experiment *e, Err *err)
{
    memset(job, 0, sizeof *job);
    job->o = o;
    job->e = e;
    struct stat st;
    int rc = split_layers(job, o->layers, err);
    if (!rc && strcmp(o->split, "test") != 0 && strcmp(o->split, "train") != 0)
        rc = err_set(err, CLRUN_EINPUT, "--split takes test or train, not '%s'", o->split);
    if (!rc && o->images && stat(o->images, &st) != 0)
        rc = err_set(err, CLRUN_EINPUT, "--images %s: no such table or folder", o->images);
    if (!rc) rc = check_layers(job, e, err);
    if (!rc) rc = out_dir(job, err);
    return rc ? rc : check_outputs(job, err);
}

/* ---- the images ---- */

/* What is fed: the experiment's split, or the images --images names. */
typedef struct {
    Feed *feed;
    Dataset ds;         /* --images' */
    ImageList list;     /* --images FOLDER's files, or the experiment's folder's */
    FeedData data;
    Feed own;
} Source;

static void source_free(Source *s)
{
    feed_free(&s->own);
    dataset_free(&s->ds);
    images_list_free(&s->list);
}

/* How --images are read: as the experiment's images are when its data are
 * images (to the model's size when its options leave the size open), else to
 * the model's input size and channels, as predict reads them. */
static ImageOptions image_options(const AnalysisContext *ctx)
{
    const DataSpec *d = ctx->data;
    ImageOptions o = predict_image_options(d, ctx->g, 0), model = o;
    if (d->source == DATA_FOLDER || d->source == DATA_TABLE)
        o = d->images;
    if (!o.height && !o.crop_h)
        o.height = model.height, o.width = model.width;
    return o;
}

/* --images FOLDER: its images (in class folders or not) in listing order. */
static int load_folder(Source *s, const char *dir, const ImageOptions *opt, Err *err)
{
    int failed = -1, rc = images_list(&s->list, dir, err);
    if (!rc)
        rc = images_load_list(&s->ds, (const char *const *)s->list.paths, s->list.labels,
                              s->list.n, opt, dir, &failed, err);
    if (rc && failed >= 0)
        err_prefix(err, rc, "%s", s->list.paths[failed]);
    s->ds.classes = s->list.n_classes;
    if (!rc && (s->list.n_classes > 1 || s->list.classes[0][0]))
        rc = dataset_set_class_names(&s->ds, (const char *const *)s->list.classes,
                                     s->list.n_classes, err);
    return rc;
}

/* The images must come out as the model's input. */
static int check_shape(const Graph *g, const Dataset *ds, const char *what, Err *err)
{
    Shape in = g->nodes[0].out_shape;
    if (in.rank == 3 && in.dim[0] == ds->c && in.dim[1] == ds->h && in.dim[2] == ds->w)
        return CLRUN_OK;
    char shape[64];
    shape_format(in, shape, sizeof shape);
    return err_set(err, CLRUN_EINPUT, "%s: the images come out [%d, %d, %d], but the model's input "
                   "is %s (the experiment's data options say how images are read: resize, crop, "
                   "size, grayscale)", what, ds->c, ds->h, ds->w, shape);
}

/* --images TABLE|FOLDER on the device, as a split of its own. */
static int load_images(AnalysisContext *ctx, const char *path, Source *s, Err *err)
{
    ImageOptions opt = image_options(ctx);
    TableOptions table = {"path", NULL};
    if (ctx->data->source == DATA_TABLE)
        table = ctx->data->table;
    struct stat st;
    int rc = stat(path, &st) == 0 && S_ISDIR(st.st_mode) ? load_folder(s, path, &opt, err)
                                                          : table_load(&s->ds, path, &table, &opt,
                                                                       err);
    if (!rc) rc = check_shape(ctx->g, &s->ds, path, err);
    if (!rc) rc = feed_upload(&s->data, ctx->g, &s->ds, err);
    if (!rc) rc = feed_split(&s->own, "images", ctx->g, &s->data, 0, s->ds.n, err);
    s->feed = &s->own;
    return rc;
}

/* Which image each row is, from where the images came. */
static int write_rows(const ExtractJob *job, const AnalysisContext *ctx, Source *s,
                      const char *path, Err *err)
{
    const DataSpec *d = ctx->data;
    const Feed *f = s->feed;
    const Dataset *ds = f->data->ds;
    const char *from = strcmp(job->o->split, "train") == 0 ? d->train_dir : d->test_dir;
    if (job->o->images)
        return s->list.paths ? rows_write_files(path, s->list.paths, ds, 0, f->n, err)
                             : rows_copy_table(path, job->o->images, 0, f->n, err);
    if (d->source == DATA_TABLE)
        return rows_copy_table(path, from, f->first, f->n, err);
    if (d->source != DATA_FOLDER)
        return rows_write_index(path, ds, f->first, f->n, err);
    int rc = images_list(&s->list, from, err);
    if (!rc && s->list.n < f->first + f->n)
        rc = err_set(err, CLRUN_EINPUT, "%s: %d images, but %d were read from it (was it changed "
                     "meanwhile?)", from, s->list.n, f->first + f->n);
    return rc ? rc : rows_write_files(path, s->list.paths, ds, f->first, f->n, err);
}

/* ---- the arrays ---- */

typedef struct {
    Node *nodes[EXTRACT_MAX_LAYERS];
    FileAtomic files[EXTRACT_MAX_LAYERS];
    float *host;        /* one batch of the largest layer */
    double started, shown;
} Arrays;

/* Opens each layer's file and writes its header: images x units. */
static int open_arrays(const ExtractJob *job, Graph *g, int n, Arrays *a, Err *err)
{
    size_t most = 1;
    int rc = CLRUN_OK;
    for (int i = 0; !rc && i < job->n_layers; i++) {
        char path[sizeof job->dir + 80];
        file_of(job, i, path, sizeof path);
        a->nodes[i] = find_node(g, job->names[i]);
        long shape[2] = {n, shape_size(a->nodes[i]->out_shape)};
        if ((size_t)shape[1] > most)
            most = (size_t)shape[1];
        rc = file_atomic_open(&a->files[i], path, err);
        if (!rc) rc = npy_begin_f32(a->files[i].fp, path, 2, shape, err);
    }
    if (!rc && !(a->host = malloc(most * (size_t)g->max_batch * sizeof *a->host)))
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory for a batch of features");
    return rc;
}

static void close_arrays(const ExtractJob *job, Arrays *a)
{
    for (int i = 0; i < job->n_layers; i++)
        file_atomic_abort(&a->files[i]); /* nothing left of those not committed */
    free(a->host);
}

/* Images done (before: those done at the last call), their rate and the
 * time left: redrawn on a terminal, a line each time a tenth of the way is
 * passed into a pipe or a log. */
static void progress(Arrays *a, int before, int done, int total)
{
    double t = clock_seconds() - a->started, rate = t > 0 ? done / t : 0;
    int tty = isatty(STDOUT_FILENO);
    if (done < total && (tty ? t - a->shown < 0.25
                             : (long)done * 10 / total == (long)before * 10 / total))
        return;
    a->shown = t;
    long left = rate > 0 ? lround((total - done) / rate) : 0;
    char d[TEXT_NUMBER_MAX], n[TEXT_NUMBER_MAX];
    printf("%sFeatures: %s/%s images, %.1f images/s, %ld:%02ld left%s", tty ? "\r" : "",
           text_thousands(done, d), text_thousands(total, n), rate, left / 60, left % 60,
           tty && done < total ? "\033[K" : "\n");
    fflush(stdout);
}

/* One batch's rows of the layers, appended as the forward reaches each
 * (graph_forward_visiting). */
typedef struct {
    Graph *g;
    Arrays *a;
    int rows;
} BatchRows;

static int append_layer(int i, void *ctx, Err *err)
{
    BatchRows *b = ctx;
    Arrays *a = b->a;
    size_t count = (size_t)b->rows * (size_t)shape_size(a->nodes[i]->out_shape);
    int rc = dev_read(b->g->dev, a->nodes[i]->out, 0, count * sizeof *a->host, a->host, err);
    if (!rc)
        file_put_u32s(a->files[i].fp, a->host, count);
    if (!rc && ferror(a->files[i].fp))
        rc = err_set(err, CLRUN_ERUNTIME, "%s: write failed", a->files[i].tmp);
    return rc;
}

/* Rows [start, start + rows) of every layer, read back and appended. */
static int write_batch(const ExtractJob *job, AnalysisContext *ctx, Feed *f, Arrays *a,
                       int start, int rows, Err *err)
{
    Graph *g = ctx->g;
    BatchRows b = {g, a, rows};
    int rc = feed_batch(f, g, start, rows, &ctx->norm, ctx->labels, err);
    return rc ? rc : graph_forward_visiting(g, a->nodes, job->n_layers, append_layer, &b, err);
}

static int write_arrays(const ExtractJob *job, AnalysisContext *ctx, Feed *f, Err *err)
{
    Arrays a;
    memset(&a, 0, sizeof a);
    Graph *g = ctx->g;
    g->training = 0;
    a.started = clock_seconds();
    int rc = open_arrays(job, g, f->n, &a, err);
    for (int start = 0; !rc && start < f->n; start += g->max_batch) {
        if (interrupt_signal()) {
            rc = err_set(err, CLRUN_ERUNTIME, "stopped after %d of %d images; no features file "
                         "was written", start, f->n);
            break;
        }
        int rows = f->n - start < g->max_batch ? f->n - start : g->max_batch;
        rc = write_batch(job, ctx, f, &a, start, rows, err);
        if (!rc)
            progress(&a, start, start + rows, f->n);
    }
    for (int i = 0; !rc && i < job->n_layers; i++)
        rc = file_atomic_commit(&a.files[i], err);
    close_arrays(job, &a);
    return rc;
}

/* What was written, a line a layer. */
static void report(const ExtractJob *job, Graph *g, int n, const char *rows)
{
    char count[TEXT_NUMBER_MAX], units[TEXT_NUMBER_MAX];
    printf("Features of %s images:\n", text_thousands(n, count));
    for (int i = 0; i < job->n_layers; i++) {
        char path[sizeof job->dir + 80], shape[64];
        Node *node = find_node(g, job->names[i]);
        file_of(job, i, path, sizeof path);
        shape_format(node->out_shape, shape, sizeof shape);
        printf("  %s: %s x %s (each image's %s, flattened in PyTorch's order)\n", path, count,
               text_thousands(shape_size(node->out_shape), units), shape);
    }
    printf("  %s: which image each row is\n", rows);
}

int extract_run(AnalysisContext *ctx, void *arg, Err *err)
{
    ExtractJob *job = arg;
    Source s;
    memset(&s, 0, sizeof s);
    s.feed = strcmp(job->o->split, "train") == 0 ? ctx->train : ctx->test;
    int rc = job->o->images ? load_images(ctx, job->o->images, &s, err) : CLRUN_OK;
    char rows[sizeof job->dir + 80];
    file_of(job, job->n_layers, rows, sizeof rows);
    if (!rc && s.feed->n == 0)
        rc = err_set(err, CLRUN_EINPUT, "the %s split has no images", s.feed->name);
    if (!rc) rc = check_outputs(job, err); /* now against every input read */
    if (!rc) rc = rundir_make(job->dir, err);
    if (!rc) rc = write_arrays(job, ctx, s.feed, err);
    if (!rc) rc = write_rows(job, ctx, &s, rows, err);
    if (!rc)
        report(job, ctx->g, s.feed->n, rows);
    source_free(&s);
    return rc;
}
