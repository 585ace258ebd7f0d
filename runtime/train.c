/* train.c: the training loop (see train.h).
 *
 * The datasets go to the device once, as bytes; each epoch uploads only the
 * shuffled order, and every batch is gathered, normalised, trained and scored
 * on the device. Per-batch losses land in device-side metric slots read once
 * per epoch, so the host never waits inside an epoch except to pace the queue
 * and draw the progress bar. */
#include "train.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "data/dataset.h"
#include "device.h"
#include "graph.h"
#include "layers/loss.h"
#include "rng.h"

#define CLRUN_VERSION "0.1.0"
#define QUEUE_DEPTH 3 /* batches in flight before the host waits */

typedef struct {
    Dataset host;
    cl_mem pixels, labels, order;
    int *order_host;
} Split;

typedef struct {
    Experiment *e;
    Device dev;
    Graph g;
    Loss loss;
    Split train, test;
    cl_kernel gather;
    float scale, shift;   /* pixel byte -> normalised input */
    uint64_t rng;         /* shuffling */
    char dir[PATH_MAX];
    FILE *history;
    cl_event pace[QUEUE_DEPTH];
    double shown_at;      /* when the progress bar was last drawn */
} Trainer;

typedef struct {
    double loss, accuracy;
} Score;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

void train_data_root(char *out, size_t size)
{
    const char *env = getenv("CLRUN_ROOT");
    struct stat st;
    if (env && *env) {
        snprintf(out, size, "%s", env);
        return;
    }
    if (stat("data", &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(out, size, ".");
        return;
    }
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0) {
        snprintf(out, size, ".");
        return;
    }
    exe[len] = 0;
    /* build/clrun -> the repository root */
    snprintf(out, size, "%s", dirname(dirname(exe)));
}

/* ---- run directory ---- */

static int make_dirs(const char *path, Err *err)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1;; p++) {
        if (*p == '/' || !*p) {
            char c = *p;
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return err_set(err, CLRUN_ERUNTIME, "%s: cannot create directory: %s", tmp,
                               strerror(errno));
            if (!(*p = c))
                break;
        }
    }
    return CLRUN_OK;
}

static int write_config(Trainer *t, Err *err)
{
    char path[PATH_MAX + 32], tmp[PATH_MAX + 40];
    snprintf(path, sizeof path, "%s/config.yaml", t->dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f)
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write: %s", tmp, strerror(errno));
    SpecNode *run = spec_get(t->e->root, "run");
    if (run) /* a config.yaml given back to clrun: its old provenance is replaced below */
        run->kind = SPEC_MAP, run->n = 0;
    fprintf(f, "# Resolved by clrun %s from %s\n", CLRUN_VERSION, t->e->path);
    spec_write(f, t->e->root, 0);
    fprintf(f, "run:\n  clrun: %s\n  device: \"%s\"\n  platform: \"%s\"\n  driver: \"%s\"\n"
               "  opencl: \"%s\"\n  seed: %ld\n  train_data: \"%s\"\n  test_data: \"%s\"\n",
            CLRUN_VERSION, t->dev.name, t->dev.platform_name, t->dev.driver, t->dev.version,
            t->e->seed, t->train.host.source, t->test.host.source);
    int bad = ferror(f);
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write: %s", path, strerror(errno));
    }
    return CLRUN_OK;
}

static int open_history(Trainer *t, Err *err)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/history.csv", t->dir);
    if (!(t->history = fopen(path, "w")))
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write: %s", path, strerror(errno));
    fprintf(t->history, "epoch,loss,accuracy,val_loss,val_accuracy,test_loss,test_accuracy,"
                        "seconds,images_per_s\n");
    return fflush(t->history) ? err_set(err, CLRUN_ERUNTIME, "%s: %s", path, strerror(errno))
                              : CLRUN_OK;
}

/* ---- data ---- */

static int check_data(Trainer *t, Err *err)
{
    Shape in = t->g.nodes[0].out_shape;
    Dataset *d = &t->train.host;
    int out = graph_output(&t->g)->out_shape.dim[0];
    if (in.rank != 3 || in.dim[0] != d->c || in.dim[1] != d->h || in.dim[2] != d->w)
        return spec_error(t->g.nodes[0].spec, err,
                          "the model's input does not match %s images [%d, %d, %d]", t->e->dataset,
                          d->c, d->h, d->w);
    if (t->test.host.classes > d->classes)
        d->classes = t->test.host.classes;
    if (d->classes > out)
        return node_error(graph_output(&t->g), err,
                          "the model has %d outputs but %s has %d classes", out, t->e->dataset,
                          d->classes);
    return CLRUN_OK;
}

static int upload_split(Trainer *t, Split *s, const char *what, Err *err)
{
    Dataset *d = &s->host;
    size_t size = (size_t)d->c * d->h * d->w;
    s->order_host = malloc((size_t)d->n * sizeof *s->order_host);
    if (!s->order_host)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int i = 0; i < d->n; i++)
        s->order_host[i] = i;
    char name[64];
    snprintf(name, sizeof name, "%s images", what);
    /* graph_buffer counts floats; bytes are rounded up to whole floats */
    int rc = graph_buffer(&t->g, ((size_t)d->n * size + 3) / 4, name, &s->pixels, err);
    if (!rc) rc = graph_buffer(&t->g, ((size_t)d->n + 3) / 4, "labels", &s->labels, err);
    if (!rc) rc = graph_buffer(&t->g, (size_t)d->n, "example order", &s->order, err);
    if (!rc) rc = dev_write(&t->dev, s->pixels, 0, (size_t)d->n * size, d->pixels, err);
    if (!rc) rc = dev_write(&t->dev, s->labels, 0, (size_t)d->n, d->labels, err);
    if (!rc) rc = dev_write(&t->dev, s->order, 0, (size_t)d->n * sizeof(int), s->order_host, err);
    return rc;
}

static int shuffle(Trainer *t, Err *err)
{
    Split *s = &t->train;
    for (int i = s->host.n - 1; i > 0; i--) {
        int j = (int)rng_below(&t->rng, (uint64_t)i + 1), tmp = s->order_host[i];
        s->order_host[i] = s->order_host[j];
        s->order_host[j] = tmp;
    }
    return dev_write(&t->dev, s->order, 0, (size_t)s->host.n * sizeof(int), s->order_host, err);
}

static int gather(Trainer *t, Split *s, int start, int rows, Err *err)
{
    int size = s->host.c * s->host.h * s->host.w;
    size_t global[2] = {(size_t)size, (size_t)rows}, local[2] = {64, 1};
    t->g.batch = rows;
    dev_profile_tag(&t->dev, "%s", "data");
    return DEV_LAUNCH(&t->dev, t->gather, 2, global, local, err, KA(s->pixels), KA(s->labels),
                      KA(s->order), KA(start), KA(rows), KA(size), KA(t->scale), KA(t->shift),
                      KA(t->g.nodes[0].out), KA(t->loss.labels));
}

/* Keeps at most QUEUE_DEPTH batches queued: the device never starves, the
 * host never runs an epoch ahead, and progress means work done. */
static int pace(Trainer *t, int batch, Err *err)
{
    cl_event *slot = &t->pace[batch % QUEUE_DEPTH];
    if (*slot) {
        cl_int rc = clWaitForEvents(1, slot);
        clReleaseEvent(*slot);
        *slot = NULL;
        if (rc != CL_SUCCESS)
            return dev_check(rc, "clWaitForEvents", "training batch", err);
    }
    return dev_check(clEnqueueMarkerWithWaitList(t->dev.queue, 0, NULL, slot),
                     "clEnqueueMarkerWithWaitList", "training batch", err);
}

static void release_pace(Trainer *t)
{
    for (int i = 0; i < QUEUE_DEPTH; i++)
        if (t->pace[i]) {
            clReleaseEvent(t->pace[i]);
            t->pace[i] = NULL;
        }
}

/* ---- progress ---- */

static void progress(Trainer *t, int epoch, int done, int total, double started, int final)
{
    double elapsed = now() - started;
    if (!isatty(STDOUT_FILENO) || (!final && elapsed - t->shown_at < 0.25))
        return;
    t->shown_at = elapsed;
    double loss = 0, correct = 0;
    Err ignored;
    if (loss_totals(&t->loss, &t->g, done, &loss, &correct, &ignored))
        return;
    int seen = done * (int)t->e->batch_size;
    if (seen > t->train.host.n)
        seen = t->train.host.n;
    int width = 30, filled = total ? width * done / total : width;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '=' : i == filled ? '>' : '.';
    bar[width] = 0;
    printf("\rEpoch %d/%ld [%s] %d/%d - %.1fs - loss: %.4f - accuracy: %.4f ", epoch,
           t->e->epochs, bar, done, total, elapsed, loss / seen, correct / seen);
    fflush(stdout);
}

/* ---- epochs ---- */

static int batches(const Split *s, long batch_size)
{
    return (int)((s->host.n + batch_size - 1) / batch_size);
}

static int train_epoch(Trainer *t, int epoch, Score *score, Err *err)
{
    Graph *g = &t->g;
    int bs = (int)t->e->batch_size, total = batches(&t->train, bs), n = t->train.host.n;
    double started = now();
    int rc = t->e->shuffle ? shuffle(t, err) : CLRUN_OK;
    g->training = 1;
    t->shown_at = 0;
    for (int b = 0; b < total && !rc; b++) {
        int rows = b == total - 1 ? n - b * bs : bs;
        rc = gather(t, &t->train, b * bs, rows, err);
        if (!rc) rc = graph_forward(g, err);
        dev_profile_tag(&t->dev, "%s", "loss");
        if (!rc) rc = loss_compute(&t->loss, g, b, err);
        if (!rc) rc = graph_backward(g, err);
        dev_profile_tag(&t->dev, "%s", "optimizer");
        if (!rc) rc = optim_step(&t->e->optim, g, err);
        if (!rc) rc = pace(t, b, err);
        dev_profile_collect(&t->dev);
        g->step++;
        if (!rc && b >= QUEUE_DEPTH)
            progress(t, epoch, b + 1 - QUEUE_DEPTH, total, started, 0);
    }
    double sum = 0, correct = 0;
    if (!rc) rc = loss_totals(&t->loss, g, total, &sum, &correct, err);
    release_pace(t);
    if (!rc)
        progress(t, epoch, total, total, started, 1);
    score->loss = sum / n;
    score->accuracy = correct / n;
    return rc;
}

static int evaluate(Trainer *t, Split *s, Score *score, Err *err)
{
    Graph *g = &t->g;
    int bs = (int)t->e->batch_size, total = batches(s, bs), n = s->host.n;
    g->training = 0;
    int rc = CLRUN_OK;
    for (int b = 0; b < total && !rc; b++) {
        rc = gather(t, s, b * bs, b == total - 1 ? n - b * bs : bs, err);
        if (!rc) rc = graph_forward(g, err);
        dev_profile_tag(&t->dev, "%s", "loss");
        if (!rc) rc = loss_compute(&t->loss, g, b, err);
        dev_profile_collect(&t->dev);
    }
    double sum = 0, correct = 0;
    if (!rc) rc = loss_totals(&t->loss, g, total, &sum, &correct, err);
    score->loss = sum / n;
    score->accuracy = correct / n;
    return rc;
}

static int run_epochs(Trainer *t, Err *err)
{
    int rc = CLRUN_OK;
    Score test = {0, 0};
    for (int epoch = 1; epoch <= t->e->epochs && !rc; epoch++) {
        double started = now();
        Score train;
        rc = train_epoch(t, epoch, &train, err);
        double train_seconds = now() - started;
        if (!rc) rc = evaluate(t, &t->test, &test, err);
        if (rc)
            break;
        double seconds = now() - started, ips = t->train.host.n / train_seconds;
        printf("%sEpoch %d/%ld - %.1fs - %.0f img/s - loss: %.4f - accuracy: %.4f - test_loss: "
               "%.4f - test_accuracy: %.4f\n",
               isatty(STDOUT_FILENO) ? "\r\033[K" : "", epoch, t->e->epochs, seconds, ips,
               train.loss, train.accuracy, test.loss, test.accuracy);
        fflush(stdout);
        fprintf(t->history, "%d,%.6f,%.6f,NA,NA,%.6f,%.6f,%.3f,%.1f\n", epoch, train.loss,
                train.accuracy, test.loss, test.accuracy, seconds, ips);
        if (fflush(t->history))
            rc = err_set(err, CLRUN_ERUNTIME, "%s/history.csv: %s", t->dir, strerror(errno));
    }
    if (!rc && t->e->epochs == 0) /* evaluation of given weights only */
        rc = evaluate(t, &t->test, &test, err);
    if (!rc)
        printf("Test accuracy: %.4f (%.0f/%d), test loss: %.4f\n", test.accuracy,
               test.accuracy * t->test.host.n, t->test.host.n, test.loss);
    return rc;
}

/* ---- set-up ---- */

static int load_data(Trainer *t, Err *err)
{
    char root[PATH_MAX];
    train_data_root(root, sizeof root);
    int rc = dataset_open(&t->train.host, t->e->dataset, "train", root, err);
    if (!rc) rc = dataset_open(&t->test.host, t->e->dataset, "test", root, err);
    if (rc)
        return err_prefix(err, rc, "data.dataset '%s'", t->e->dataset);
    printf("Data: %s: %d training and %d test images\n", t->train.host.source, t->train.host.n,
           t->test.host.n);
    /* (v/255 - mean) / std as one multiply-add */
    t->scale = (float)(1.0 / (255.0 * t->e->std));
    t->shift = (float)(-t->e->mean / t->e->std);
    return CLRUN_OK;
}

/* model.weights is relative to the file that names it; --weights to the shell. */
static void weights_path(Trainer *t, const RunOptions *o, char *out, size_t size)
{
    out[0] = 0;
    if (o->weights) {
        snprintf(out, size, "%s", o->weights);
        return;
    }
    SpecNode *w = spec_get(t->e->model, "weights");
    if (!w || !t->g.weights)
        return;
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", w->file);
    if (t->g.weights[0] == '/' || w->line == 0)
        snprintf(out, size, "%s", t->g.weights);
    else
        snprintf(out, size, "%s/%s", dirname(dir), t->g.weights);
}

static int prepare_device(Trainer *t, const RunOptions *o, Err *err)
{
    int rc = dev_open_profiled(&t->dev, o->device, o->profile, err);
    if (rc)
        return rc;
    double started = now();
    if ((rc = dev_build(&t->dev, err)))
        return rc;
    printf("Device: %s (%s, driver %s); kernels %s in %.2fs\n", t->dev.name,
           t->dev.platform_name, t->dev.driver,
           t->dev.program_from_cache ? "loaded from cache" : "compiled", now() - started);
    int train_batches = batches(&t->train, t->e->batch_size);
    int test_batches = batches(&t->test, t->e->batch_size);
    rc = graph_setup(&t->g, &t->dev, (int)t->e->batch_size, (uint64_t)t->e->seed, err);
    if (!rc) rc = loss_setup(&t->loss, &t->g, train_batches > test_batches ? train_batches
                                                                            : test_batches, err);
    if (!rc) rc = optim_setup(&t->e->optim, &t->g, err);
    if (!rc) rc = dev_kernel(&t->dev, "gather_u8", &t->gather, err);
    char weights[PATH_MAX];
    weights_path(t, o, weights, sizeof weights);
    if (!rc && weights[0]) {
        rc = graph_load_weights(&t->g, weights, err);
        if (!rc)
            printf("Weights: %s\n", weights);
    }
    if (!rc) rc = upload_split(t, &t->train, "training", err);
    if (!rc) rc = upload_split(t, &t->test, "test", err);
    return rc;
}

static int prepare(Trainer *t, const RunOptions *o, Err *err)
{
    int rc = graph_build(&t->g, t->e->model, err);
    if (!rc) rc = loss_find(&t->loss, t->e->loss, t->e->loss_node, err);
    if (!rc) rc = spec_check_unused(t->e->root, "experiment", err);
    if (!rc) rc = load_data(t, err);
    if (!rc) rc = check_data(t, err);
    if (!rc) rc = prepare_device(t, o, err);
    if (o->out_dir)
        snprintf(t->dir, sizeof t->dir, "%s", o->out_dir);
    else
        snprintf(t->dir, sizeof t->dir, "runs/%s", t->e->name);
    if (!rc) rc = make_dirs(t->dir, err);
    if (!rc) rc = write_config(t, err);
    if (!rc) rc = open_history(t, err);
    return rc;
}

int train_run(Experiment *e, const RunOptions *o, Err *err)
{
    Trainer t;
    memset(&t, 0, sizeof t);
    t.e = e;
    t.rng = (uint64_t)e->seed ^ 0x53485546464c45ull; /* "SHUFFLE": apart from the init stream */
    int rc = prepare(&t, o, err);
    double started = now();
    if (!rc) rc = run_epochs(&t, err);
    if (!rc && o->profile && !(rc = dev_finish(&t.dev, err)))
        dev_profile_report(&t.dev, now() - started, stdout);
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/weights.safetensors", t.dir);
    if (!rc) rc = graph_save_weights(&t.g, path, err);
    if (!rc)
        printf("Run directory: %s\n", t.dir);
    if (t.history)
        fclose(t.history);
    release_pace(&t);
    graph_free(&t.g);
    dev_close(&t.dev);
    dataset_free(&t.train.host);
    dataset_free(&t.test.host);
    free(t.train.order_host);
    free(t.test.order_host);
    return rc;
}
