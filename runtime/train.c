/* train.c: the training loop (see train.h).
 *
 * The datasets go to the device once (data/feed.h); every batch is gathered,
 * normalised, trained and scored there. Per-batch losses land in device-side
 * metric slots read once per epoch, so the host never waits inside an epoch
 * except to pace the queue and draw the progress bar. */
#include "train.h"
#include "interrupt.h"
#include "monitor.h"
#include "predict.h"
#include "text.h"
#include "version.h"

#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analysis/analysis.h"
#include "checkpoint.h"
#include "clock.h"
#include "data/feed.h"
#include "calibrate.h"
#include "device.h"
#include "graph.h"
#include "layers/loss.h"
#include "memcheck.h"
#include "outputs.h"
#include "plot.h"
#include "rundir.h"

#define QUEUE_DEPTH 3 /* batches in flight before the host waits */

typedef struct {
    Experiment *e;
    Device *dev;           /* own_dev, or a device the caller opened and keeps */
    Device own_dev;
    Graph g;
    Loss loss;
    AnalysisList analyses;
    Dataset train_ds, test_ds;
    FeedData train_data, test_data;
    Feed train, val, test; /* val.n is 0 without data.validation_split */
    FeedNorm norm;         /* stored value -> normalised input */
    uint64_t rng;          /* shuffling */
    long seen;             /* training examples seen, for steps.csv */
    long done;             /* epochs completed before this process (from a checkpoint) */
    uint64_t settings;     /* the experiment's settings fingerprint (e->settings) */
    char dir[PATH_MAX];
    int lock;              /* rundir_lock's descriptor, -1 before */
    const char *point;     /* RunOptions.point */
    Csv history, steps;    /* steps.f is NULL without train.log_every */
    float *slots;          /* per-batch metrics of the epoch, read back */
    double *curves;        /* per epoch: epoch, then loss and accuracy of training,
                              validation and test (history.png) */
    double *steps_xy;      /* steps.csv kept for loss_curve.png: examples seen, loss */
    int n_steps, cap_steps;
    cl_event pace[QUEUE_DEPTH];
    cl_int flags[QUEUE_DEPTH];  /* train.nan_check: g.nonfinite after the paced batches */
    double shown_at;       /* when the progress bar was last drawn */
    double first_batch;    /* with --profile: seconds from clrun's start to the first batch
                              done, 0 before it */
    double lr;             /* the learning rate at the end of the last epoch trained */
    char result[256];      /* the "Test accuracy: ..." line, recorded in SUCCESS */
    long kept_epoch;       /* restore_best_weights: the epoch restored (0: the last) */
} Trainer;

typedef struct {
    double loss, accuracy;
} Score;

/* v as the CSV logs record it ("%.6f") and a resumed run reads it back. */
static double as_recorded(double v)
{
    char text[64];
    snprintf(text, sizeof text, "%.6f", v);
    return strtod(text, NULL);
}

/* Seconds since this process started (to 1/100 s, from /proc/self/stat and
 * the boot clock), or -1 where that cannot be read. */
static double process_age(void)
{
    FILE *f = fopen("/proc/self/stat", "r");
    char buf[1024];
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = 0;
    char *field = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long long start = 0;
    /* after the name: state is field 3, starttime field 22 */
    if (!field || sscanf(field + 2, "%*c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s "
                                    "%*s %*s %*s %*s %llu", &start) != 1)
        return -1;
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9 - (double)start / (double)sysconf(_SC_CLK_TCK);
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

/* ---- queue pacing and progress ---- */

/* The error of a non-finite value found by the checks (code: g.nonfinite). */
static int nonfinite_error(Trainer *t, int code, int epoch, int total, Err *err)
{
    char what[200], kept[PATH_MAX + 80];
    int batch = 0;
    graph_nonfinite_describe(&t->g, code, what, sizeof what, &batch);
    if (epoch > 1)
        snprintf(kept, sizeof kept, "the checkpoint of epoch %d is kept in %s", epoch - 1, t->dir);
    else
        snprintf(kept, sizeof kept, "no epoch had finished, so there is no checkpoint");
    return err_set(err, CLRUN_ERUNTIME, "a NaN or infinity first appeared in %s, epoch %d, batch "
                   "%d of %d: training stopped; %s (a smaller learning rate often helps; "
                   "train.nan_check: false turns this check off)", what, epoch, batch + 1, total,
                   kept);
}

/* Keeps at most QUEUE_DEPTH batches queued: the device never starves, the
 * host never runs an epoch ahead, and progress means work done. With the
 * non-finite checks on, each batch is followed by a queued read of what they
 * found, looked at once the batch is done: training stops a few batches
 * after a NaN, without waiting on the device for it. */
static int pace(Trainer *t, int epoch, int batch, int total, Err *err)
{
    int at = batch % QUEUE_DEPTH;
    cl_event *slot = &t->pace[at];
    if (*slot) {
        cl_int rc = clWaitForEvents(1, slot);
        clReleaseEvent(*slot);
        *slot = NULL;
        if (rc != CL_SUCCESS)
            return dev_check(rc, "clWaitForEvents", "training batch", err);
        if (t->g.nonfinite && t->flags[at] != INT_MAX)
            return nonfinite_error(t, t->flags[at], epoch, total, err);
    }
    dev_profile_collect(t->dev);
    int rc = t->g.nonfinite ? dev_read_later(t->dev, t->g.nonfinite, sizeof t->flags[at],
                                             &t->flags[at], err)
                            : CLRUN_OK;
    return rc ? rc : dev_check(clEnqueueMarkerWithWaitList(t->dev->queue, 0, NULL, slot),
                               "clEnqueueMarkerWithWaitList", "training batch", err);
}

static void release_pace(Trainer *t)
{
    if (t->dev && t->dev->queue)
        clFinish(t->dev->queue); /* queued reads into t->flags land before anything goes */
    for (int i = 0; i < QUEUE_DEPTH; i++)
        if (t->pace[i]) {
            clReleaseEvent(t->pace[i]);
            t->pace[i] = NULL;
        }
}

static int batches(const Feed *s, long batch_size)
{
    return (int)((s->n + batch_size - 1) / batch_size);
}

static int rows_of(const Feed *s, long batch_size, int b)
{
    int total = batches(s, batch_size);
    return b == total - 1 ? s->n - b * (int)batch_size : (int)batch_size;
}

static void progress(Trainer *t, int epoch, int done, int total, double started, int final)
{
    double elapsed = clock_seconds() - started;
    if (!isatty(STDOUT_FILENO) || (!final && elapsed - t->shown_at < 0.25))
        return;
    t->shown_at = elapsed;
    double loss = 0, correct = 0;
    Err ignored;
    if (loss_totals(&t->loss, &t->g, done, &loss, &correct, &ignored))
        return;
    long seen = (long)done * t->e->batch_size;
    if (seen > t->train.n)
        seen = t->train.n;
    int width = 30, filled = total ? width * done / total : width;
    char bar[64], eta[48] = "";
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '=' : i == filled ? '>' : '.';
    bar[width] = 0;
    if (!final && done > 0) { /* the rest of the epoch at the pace so far */
        long left = lround(elapsed / done * (total - done));
        snprintf(eta, sizeof eta, " - ETA: %ld:%02ld", left / 60, left % 60);
    }
    printf("\rEpoch %d/%ld [%s] %d/%d - %.1fs%s - loss: %.4f - accuracy: %.4f\033[K", epoch,
           t->e->epochs, bar, done, total, elapsed, eta, loss / seen, correct / seen);
    fflush(stdout);
}

/* ---- epochs ---- */

/* Reads the epoch's per-batch metrics and sums them in batch order. */
static int read_slots(Trainer *t, int n, const Feed *s, Score *score, Err *err)
{
    int rc = dev_read(t->dev, t->loss.metrics, 0, 2 * (size_t)n * sizeof(float), t->slots, err);
    double loss = 0, correct = 0;
    for (int i = 0; !rc && i < n; i++) {
        loss += t->slots[2 * i];
        correct += t->slots[2 * i + 1];
    }
    score->loss = s->n ? loss / s->n : 0;
    score->accuracy = s->n ? correct / s->n : 0;
    return rc;
}

/* steps.csv: the loss of every log_every-th batch against the examples seen
 * before it, as seed 002 plots it. */
static int keep_step(Trainer *t, double seen, double loss, Err *err)
{
    if (t->n_steps == t->cap_steps) {
        int cap = t->cap_steps ? 2 * t->cap_steps : 256;
        double *grown = realloc(t->steps_xy, 2 * (size_t)cap * sizeof *grown);
        if (!grown)
            return err_set(err, CLRUN_ERUNTIME, "out of memory");
        t->steps_xy = grown;
        t->cap_steps = cap;
    }
    t->steps_xy[2 * t->n_steps] = seen;
    t->steps_xy[2 * t->n_steps++ + 1] = loss;
    return CLRUN_OK;
}

static int log_steps(Trainer *t, int epoch, int total, Err *err)
{
    int rc = CLRUN_OK;
    for (int b = 0; b < total && !rc; b++) {
        int rows = rows_of(&t->train, t->e->batch_size, b);
        double loss = t->slots[2 * b] / rows;
        if (t->steps.f && b % t->e->log_every == 0) {
            csv_textf(&t->steps, "%d", epoch);
            csv_textf(&t->steps, "%d", b);
            csv_textf(&t->steps, "%ld", t->seen);
            csv_number(&t->steps, "%.6f", loss);
            rc = csv_end_row(&t->steps, err);
            if (!rc) rc = keep_step(t, (double)t->seen, as_recorded(loss), err);
        }
        t->seen += rows;
    }
    return rc;
}

/* The stop a signal asked for: after the last finished epoch, whose
 * checkpoint is on disk. The progress bar's line is ended first. */
static int stopped(int epoch, Err *err)
{
    if (isatty(STDOUT_FILENO))
        putchar('\n');
    return err_set(err, CLRUN_ERUNTIME, "stopped after epoch %d; the same command resumes", epoch);
}

static int train_epoch(Trainer *t, int epoch, Score *score, Err *err)
{
    Graph *g = &t->g;
    int total = batches(&t->train, t->e->batch_size), bs = (int)t->e->batch_size;
    double started = clock_seconds();
    int rc = optim_begin_epoch(&t->e->optim, epoch - 1, err);
    if (!rc && t->e->shuffle)
        rc = feed_shuffle(&t->train, g, &t->rng, err);
    g->training = 1;
    t->shown_at = 0;
    const cl_int none = INT_MAX;
    if (!rc && g->nonfinite)
        rc = dev_write(t->dev, g->nonfinite, 0, sizeof none, &none, err);
    for (int b = 0; b < total && !rc; b++) {
        if (interrupt_signal()) {
            rc = stopped(epoch - 1, err);
            break;
        }
        g->check_batch = b;
        rc = feed_batch(&t->train, g, b * bs, rows_of(&t->train, bs, b), &t->norm,
                        t->loss.labels, err);
        if (!rc) rc = graph_forward(g, err);
        dev_profile_tag(t->dev, "%s", "loss");
        if (!rc) rc = loss_compute(&t->loss, g, b, err);
        if (!rc) rc = graph_nonfinite_check(g, t->loss.metrics, 2 * b, 1, graph_loss_pos(g), err);
        if (!rc) rc = graph_backward(g, err);
        dev_profile_tag(t->dev, "%s", "optimizer");
        if (!rc) rc = optim_step(&t->e->optim, g, err);
        if (!rc) rc = pace(t, epoch, b, total, err);
        /* start-up, as the user waits for it: to the first batch done */
        if (!rc && t->dev->profile.enabled && !t->first_batch && !(rc = dev_finish(t->dev, err)))
            t->first_batch = process_age();
        g->step++;
        if (!rc && b >= QUEUE_DEPTH)
            progress(t, epoch, b + 1 - QUEUE_DEPTH, total, started, 0);
    }
    if (!rc) rc = read_slots(t, total, &t->train, score, err);
    cl_int found = INT_MAX; /* the batches pace has not looked at yet */
    if (!rc && g->nonfinite)
        rc = dev_read(t->dev, g->nonfinite, 0, sizeof found, &found, err);
    if (!rc && found != INT_MAX)
        rc = nonfinite_error(t, found, epoch, total, err);
    release_pace(t);
    t->lr = optim_learning_rate(&t->e->optim);
    if (!rc)
        progress(t, epoch, total, total, started, 1);
    return rc ? rc : log_steps(t, epoch, total, err);
}

static int evaluate(Trainer *t, Feed *s, Score *score, Err *err)
{
    Graph *g = &t->g;
    int total = batches(s, t->e->batch_size), bs = (int)t->e->batch_size;
    g->training = 0;
    int rc = CLRUN_OK;
    for (int b = 0; b < total && !rc; b++) {
        rc = feed_batch(s, g, b * bs, rows_of(s, bs, b), &t->norm, t->loss.labels, err);
        if (!rc) rc = graph_forward(g, err);
        dev_profile_tag(t->dev, "%s", "loss");
        if (!rc) rc = loss_compute(&t->loss, g, b, err);
        dev_profile_collect(t->dev);
    }
    return rc ? rc : read_slots(t, total, s, score, err);
}

static int record_epoch(Trainer *t, int epoch, const Score *train, const Score *val,
                        const Score *test, double seconds, double ips, Err *err)
{
    char val_text[96] = "";
    int has_val = t->val.n > 0;
    if (has_val)
        snprintf(val_text, sizeof val_text, " - val_loss: %.4f - val_accuracy: %.4f", val->loss,
                 val->accuracy);
    printf("%sEpoch %d/%ld - %.1fs - %.0f img/s - loss: %.4f - accuracy: %.4f%s - test_loss: "
           "%.4f - test_accuracy: %.4f - lr: %.4g\n",
           isatty(STDOUT_FILENO) ? "\r\033[K" : "", epoch, t->e->epochs, seconds, ips, train->loss,
           train->accuracy, val_text, test->loss, test->accuracy, t->lr);
    fflush(stdout);
    Csv *h = &t->history;
    csv_textf(h, "%d", epoch);
    csv_number(h, "%.6f", train->loss);
    csv_number(h, "%.6f", train->accuracy);
    csv_number(h, "%.6f", has_val ? val->loss : NAN); /* NA: no validation split */
    csv_number(h, "%.6f", has_val ? val->accuracy : NAN);
    csv_number(h, "%.6f", test->loss);
    csv_number(h, "%.6f", test->accuracy);
    csv_number(h, "%.3f", seconds);
    csv_number(h, "%.1f", ips);
    csv_number(h, "%.6g", t->lr);
    return csv_end_row(h, err);
}

/* t->curves holds one array per curve, each with room for every epoch. */
/* epoch; loss and accuracy of training, validation, test; examples seen by the epoch's end */
enum { CURVE_EPOCH, CURVE_LOSS, CURVE_ACCURACY, CURVE_SEEN = 7, CURVES };

static double *curve(const Trainer *t, int k)
{
    return t->curves + (size_t)k * (size_t)(t->e->epochs + 1);
}

/* history.png: loss and accuracy per epoch for each split, redrawn every epoch
 * so it can be watched during a long run; markers show the epochs while
 * there are few enough to tell apart. */
enum { MARKED_EPOCHS = 30 };
static int plot_history(Trainer *t, int epochs, Err *err)
{
    static const char *const splits[] = {"training", "validation", "test"};
    PlotSeries loss[4], accuracy[3];
    int n = 0;
    for (int s = 0; s < 3; s++) {
        if (s == 1 && t->val.n == 0)
            continue;
        const double *x = curve(t, CURVE_EPOCH);
        int style = epochs <= MARKED_EPOCHS ? PLOT_LINE_MARKERS : PLOT_LINE;
        loss[n] = (PlotSeries){.x = x, .y = curve(t, CURVE_LOSS + 2 * s), .n = epochs,
                               .label = splits[s], .markers = style};
        accuracy[n] = loss[n];
        accuracy[n].y = curve(t, CURVE_ACCURACY + 2 * s);
        n++;
    }
    /* plot.loss_goal (the Playground's 0.1): a line across the epochs */
    double goal_x[2] = {1, epochs > 1 ? epochs : 1}, goal_y[2];
    char goal_label[64];
    int goal = isfinite(t->e->plot_loss_goal) && epochs > 0;
    if (goal) {
        goal_y[0] = goal_y[1] = t->e->plot_loss_goal;
        snprintf(goal_label, sizeof goal_label, "goal (%g)", t->e->plot_loss_goal);
        loss[n] = (PlotSeries){.x = goal_x, .y = goal_y, .n = 2, .label = goal_label,
                               .markers = PLOT_LINE};
    }
    PlotPanel panels[2] = {
        {.title = "Loss", .xlabel = "epoch", .ylabel = "loss", .series = loss,
         .n_series = n + goal, .integer_x = 1},
        {.title = "Accuracy", .xlabel = "epoch", .ylabel = "accuracy", .series = accuracy,
         .n_series = n, .integer_x = 1}};
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/history.png", t->dir);
    return plot_lines(path, panels, 2, err);
}

/* The curves hold the scores as history.csv records them, so a run resumed or
 * extended from that file draws the same figures and its monitors decide
 * alike, to the bit, as a run never stopped. */
static void keep_curves(Trainer *t, int epoch, const Score *train, const Score *val,
                        const Score *test)
{
    const Score *scores[3] = {train, val, test};
    curve(t, CURVE_EPOCH)[epoch - 1] = epoch;
    curve(t, CURVE_SEEN)[epoch - 1] = (double)epoch * t->train.n; /* every epoch sees them all */
    for (int s = 0; s < 3; s++) {
        curve(t, CURVE_LOSS + 2 * s)[epoch - 1] = as_recorded(scores[s]->loss);
        curve(t, CURVE_ACCURACY + 2 * s)[epoch - 1] = as_recorded(scores[s]->accuracy);
    }
}

/* loss_curve.png (seed 002): the training loss of every log_every-th batch
 * against the examples seen, and the test loss after each epoch as markers. */
static int plot_loss_curve(Trainer *t, int epochs, Err *err)
{
    int n = t->n_steps;
    double *x = malloc((size_t)(n ? n : 1) * sizeof *x), *y = malloc((size_t)(n ? n : 1) * sizeof *y);
    int rc = x && y ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int i = 0; !rc && i < n; i++) {
        x[i] = t->steps_xy[2 * i];
        y[i] = t->steps_xy[2 * i + 1];
    }
    PlotSeries series[2] = {
        {.x = x, .y = y, .n = n, .label = "training loss", .markers = PLOT_LINE},
        {.x = curve(t, CURVE_SEEN), .y = curve(t, CURVE_LOSS + 4), .n = epochs,
         .label = "test loss", .markers = PLOT_MARKERS}};
    PlotPanel panel = {.title = "Loss against examples seen", .xlabel = "examples seen",
                       .ylabel = "loss", .series = series, .n_series = 2};
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/loss_curve.png", t->dir);
    if (!rc) rc = plot_lines(path, &panel, 1, err);
    free(x);
    free(y);
    return rc;
}

/* An epoch's metrics, in history.csv's order, from the curves. */
static void epoch_metrics(const Trainer *t, int epoch, double m[MONITOR_METRICS])
{
    for (int k = 0; k < MONITOR_METRICS; k++)
        m[k] = curve(t, CURVE_LOSS + k)[epoch - 1];
}

/* weights_best.safetensors and weights_best.txt (the epoch and the value). */
static int save_best(Trainer *t, Err *err)
{
    const Monitor *m = &t->e->save_best;
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/weights_best.safetensors", t->dir);
    int rc = graph_save_weights(&t->g, path, err);
    snprintf(path, sizeof path, "%s/weights_best.txt", t->dir);
    FILE *f = rc ? NULL : fopen(path, "w");
    if (!rc && (!f || fprintf(f, "epoch %d\n%s %.6f\n", m->best_epoch, monitor_name(m),
                              m->best) < 0 || fclose(f) != 0))
        rc = err_set(err, CLRUN_ERUNTIME, "%s: cannot write", path);
    return rc;
}

/* Where early_stopping.restore_best_weights keeps its best epoch's weights:
 * on disk beside the checkpoint, so that a resumed run restores them too. It
 * is written before the epoch's checkpoint: a run killed between the two
 * trains that epoch again, to the same bits, and writes it again. */
static void restore_path(const Trainer *t, char *path, size_t size)
{
    snprintf(path, size, "%s/checkpoint_best.safetensors", t->dir);
}

/* After epoch: the best weights kept; 1 in *stop when early stopping says so. */
static int watch_epoch(Trainer *t, int epoch, int replay, int *stop, Err *err)
{
    double m[MONITOR_METRICS];
    epoch_metrics(t, epoch, m);
    Monitor *best = &t->e->save_best, *es = &t->e->early_stopping;
    int rc = CLRUN_OK;
    if (best->on && monitor_update(best, epoch, m) && !replay)
        rc = save_best(t, err);
    if (es->on && monitor_update(es, epoch, m) && es->restore && !replay && !rc) {
        char path[PATH_MAX + 32];
        restore_path(t, path, sizeof path);
        rc = graph_save_weights(&t->g, path, err);
    }
    *stop = monitor_stop(es);
    if (*stop && !replay)
        printf("Early stopping after epoch %d: %s has not improved by more than %g for %ld "
               "epoch%s (best %.4f at epoch %d)\n", epoch, monitor_name(es), es->min_delta,
               es->wait, es->wait == 1 ? "" : "s", es->best, es->best_epoch);
    return rc;
}

/* early_stopping.restore_best_weights, at the end of training (Keras 3's
 * on_train_end): the best epoch's weights back in the graph, and the test
 * score that of the weights kept. The checkpoint keeps the last epoch's, so
 * that raising train.epochs goes on from where training was. */
static int restore_best(Trainer *t, int last, Score *test, Err *err)
{
    const Monitor *es = &t->e->early_stopping;
    if (!es->on || !es->restore || es->best_epoch < 1 || es->best_epoch == last)
        return CLRUN_OK;
    char path[PATH_MAX + 32];
    restore_path(t, path, sizeof path);
    int rc = graph_load_weights(&t->g, path, err);
    if (!rc)
        printf("Restoring the weights of epoch %d, the best %s (%.4f)\n", es->best_epoch,
               monitor_name(es), es->best);
    t->kept_epoch = es->best_epoch;
    return rc ? rc : evaluate(t, &t->test, test, err);
}

static int run_epochs(Trainer *t, Err *err)
{
    int rc = CLRUN_OK, stop = 0;
    Score test = {0, 0};
    for (int epoch = 1; epoch <= t->done && !rc; epoch++) /* a resumed run decides alike */
        rc = watch_epoch(t, epoch, 1, &stop, err);
    int trained = 0;
    for (int epoch = (int)t->done + 1; epoch <= t->e->epochs && !rc && !stop; epoch++, trained++) {
        double started = clock_seconds();
        Score train, val = {0, 0};
        rc = train_epoch(t, epoch, &train, err);
        double train_seconds = clock_seconds() - started;
        if (!rc && t->val.n) rc = evaluate(t, &t->val, &val, err);
        if (!rc) rc = evaluate(t, &t->test, &test, err);
        if (!rc) rc = record_epoch(t, epoch, &train, &val, &test, clock_seconds() - started,
                                   t->train.n / train_seconds, err);
        if (!rc) {
            keep_curves(t, epoch, &train, &val, &test);
            rc = plot_history(t, epoch, err);
        }
        if (!rc && t->steps.f)
            rc = plot_loss_curve(t, epoch, err);
        if (!rc) rc = watch_epoch(t, epoch, 0, &stop, err);
        CheckpointInfo ck = {epoch, t->rng, t->settings};
        if (!rc) rc = checkpoint_save(t->dir, &t->g, &t->e->optim, &ck, err);
    }
    /* evaluation of given weights only, or training had ended before a stop */
    if (!rc && !trained)
        rc = evaluate(t, &t->test, &test, err);
    if (!rc) rc = restore_best(t, (int)t->done + trained, &test, err);
    snprintf(t->result, sizeof t->result, "Test accuracy: %.4f (%.0f/%d), test loss: %.4f",
             test.accuracy, test.accuracy * t->test.n, t->test.n, test.loss);
    if (!rc)
        printf("%s\n", t->result);
    return rc;
}

/* ---- set-up ---- */

static int check_data(Trainer *t, Err *err)
{
    Shape in = t->g.nodes[0].out_shape;
    Dataset *d = &t->train_ds;
    /* [C, H, W] images; [F] feature vectors (h = w = 1) */
    int fits = in.rank == 3 ? in.dim[0] == d->c && in.dim[1] == d->h && in.dim[2] == d->w
                            : in.rank == 1 && d->h == 1 && d->w == 1 && in.dim[0] == d->c;
    if (!fits)
        return spec_error(t->g.nodes[0].spec, err,
                          "the model's input does not match the %s examples [%d, %d, %d]",
                          t->e->data.dataset, d->c, d->h, d->w);
    int classes = d->classes > t->test_ds.classes ? d->classes : t->test_ds.classes;
    return loss_check_outputs(&t->loss, graph_output(&t->g), classes, t->e->data.dataset, err);
}

/* The examples that train: all of the training set but the last
 * validation_split of it (Keras' validation_split, taken before any shuffling). */
static int training_count(const Trainer *t)
{
    return (int)(t->train_ds.n * (1.0 - t->e->data.validation_split));
}

/* Splits the training set, uploads both sets and works out the normalisation. */
static int feed_data(Trainer *t, Err *err)
{
    Graph *g = &t->g;
    const DataSpec *d = &t->e->data;
    int n = t->train_ds.n, n_train = training_count(t);
    if (n_train < 1 || (d->validation_split > 0 && n_train == n))
        return spec_error(d->node, err, "validation_split %g leaves %d of %d examples for "
                          "training", d->validation_split, n_train, n);
    int rc = feed_upload(&t->train_data, g, &t->train_ds, err);
    if (!rc) rc = feed_upload(&t->test_data, g, &t->test_ds, err);
    if (!rc) rc = feed_split(&t->train, "training", g, &t->train_data, 0, n_train, err);
    if (!rc) rc = feed_split(&t->val, "validation", g, &t->train_data, n_train, n - n_train, err);
    if (!rc) rc = feed_split(&t->test, "test", g, &t->test_data, 0, t->test_ds.n, err);
    if (rc)
        return rc;
    double mean = d->mean[0], std = d->std[0];
    if (d->normalize_train) {
        feed_stats(&t->train, &mean, &std);
        printf("Normalisation from the training set: mean %.4f, std %.4f\n", mean, std);
    }
    /* bytes are pixels in [0, 255] */
    feed_norm(&t->norm, d->norm_channels, d->normalize_train ? &mean : d->mean,
              d->normalize_train ? &std : d->std, t->train_ds.pixels ? 255.0 : 1.0);
    return CLRUN_OK;
}

static int load_data(Trainer *t, Err *err)
{
    char root[PATH_MAX];
    train_data_root(root, sizeof root);
    const DataSpec *d = &t->e->data;
    int rc = data_load(d, "train", root, &t->train_ds, err);
    if (!rc) rc = data_load(d, "test", root, &t->test_ds, err);
    if (!rc) rc = dataset_match_classes(&t->train_ds, &t->test_ds, err);
    if (!rc && d->norm_channels > 1 && t->train_ds.c != d->norm_channels)
        rc = spec_error(d->normalize_node, err, "a mean and std per channel (%d), but the %s "
                        "examples have %d channel%s", d->norm_channels, d->dataset,
                        t->train_ds.c, t->train_ds.c == 1 ? "" : "s");
    if (rc)
        return rc;
    /* data.limit: the first N examples of each split, for quick trials */
    if (d->limit > 0) {
        dataset_truncate(&t->train_ds, (int)d->limit);
        dataset_truncate(&t->test_ds, (int)d->limit);
    }
    char train[TEXT_NUMBER_MAX], val[TEXT_NUMBER_MAX], test[TEXT_NUMBER_MAX], limit[96] = "";
    int n_train = training_count(t);
    if (d->limit > 0)
        snprintf(limit, sizeof limit, " (data.limit: the first %ld of the training and of the "
                 "test set)", d->limit);
    if (n_train < t->train_ds.n)
        printf("Data: %s: %s training, %s validation and %s test examples%s\n",
               t->train_ds.source, text_thousands(n_train, train), text_thousands(t->train_ds.n - n_train, val),
               text_thousands(t->test_ds.n, test), limit);
    else
        printf("Data: %s: %s training and %s test examples%s\n", t->train_ds.source,
               text_thousands(n_train, train), text_thousands(t->test_ds.n, test), limit);
    return CLRUN_OK;
}

/* model.weights is relative to the file that names it; --weights to the shell. */
static int weights_path(Trainer *t, const RunOptions *o, char *out, size_t size, Err *err)
{
    out[0] = 0;
    SpecNode *w = spec_get(t->e->model, "weights");
    int rc = w ? spec_path(w, out, size, err) : CLRUN_OK; /* marked a path for config.yaml */
    if (!rc && o->weights)
        snprintf(out, size, "%s", o->weights);
    return rc;
}

static int prepare_device(Trainer *t, const RunOptions *o, Err *err)
{
    double started = clock_seconds();
    int rc = CLRUN_OK;
    if (o->dev) {
        t->dev = o->dev;
    } else {
        t->dev = &t->own_dev;
        if ((rc = calib_open(t->dev, o->device, o->profile, err)))
            return rc;
    }
    printf("Device: %s (%s, driver %s); %s kernel plan, %s in %.2fs\n", t->dev->name,
           t->dev->platform_name, t->dev->driver, plan_name(&t->dev->plan),
           dev_program_origin(t->dev), clock_seconds() - started);
    long bs = t->e->batch_size, most = (t->train_ds.n + bs - 1) / bs;
    if ((t->test_ds.n + bs - 1) / bs > most)
        most = (t->test_ds.n + bs - 1) / bs;
    t->slots = malloc(2 * (size_t)most * sizeof *t->slots);
    t->curves = calloc(CURVES * (size_t)(t->e->epochs + 1), sizeof *t->curves);
    if (!t->slots || !t->curves)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    rc = memcheck_graph(&t->g, t->dev, (int)bs, err);
    if (!rc) rc = graph_setup(&t->g, t->dev, (int)bs, (uint64_t)t->e->seed, err);
    if (!rc) rc = loss_setup(&t->loss, &t->g, (int)most, err);
    if (!rc) rc = optim_setup(&t->e->optim, &t->g, err);
    if (!rc && t->e->nan_check) rc = graph_nonfinite_on(&t->g, err);
    char weights[PATH_MAX];
    if (!rc) rc = weights_path(t, o, weights, sizeof weights, err);
    if (!rc && weights[0]) {
        rc = graph_load_weights(&t->g, weights, err);
        if (!rc)
            printf("Weights: %s\n", weights);
    } else if (!rc && t->e->epochs == 0) {
        printf("Weights: none given; evaluating the untrained initial parameters (--weights FILE "
               "to evaluate trained ones)\n");
    }
    return rc ? rc : feed_data(t, err);
}

/* A history.csv row of an epoch done before a stop, back into the curves. */
static void keep_history_row(void *ctx, const char *row)
{
    Trainer *t = ctx;
    double v[7];
    rundir_numbers(row, v, 7);
    int epoch = (int)v[0];
    if (epoch < 1 || epoch > t->done)
        return;
    Score train = {v[1], v[2]}, val = {v[3], v[4]}, test = {v[5], v[6]};
    keep_curves(t, epoch, &train, &val, &test);
}

/* A steps.csv row (epoch, batch, examples seen, loss), back into the loss curve. */
static void keep_steps_row(void *ctx, const char *row)
{
    Trainer *t = ctx;
    double seen = 0, loss = 0;
    Err ignored;
    if (sscanf(row, "%*d,%*d,%lf,%lf", &seen, &loss) == 2)
        keep_step(t, seen, loss, &ignored);
}

static int write_outputs_start(Trainer *t, Err *err)
{
    char seed[32], tiles[64];
    snprintf(seed, sizeof seed, "%ld", t->e->seed);
    plan_tiles_text(&t->dev->plan, tiles, sizeof tiles);
    const char *kv[] = {"clrun", CLRUN_VERSION, "device", t->dev->name,
                        "platform", t->dev->platform_name, "driver", t->dev->driver,
                        "opencl", t->dev->version, "kernels", plan_name(&t->dev->plan),
                        "tiles", tiles, "gemm", plan_gemm_name(&t->dev->plan), "seed", seed,
                        "train_data", t->train_ds.source, "test_data", t->test_ds.source,
                        "sweep_point", t->point};
    static const char history[] = "epoch,loss,accuracy,val_loss,val_accuracy,test_loss,"
                                  "test_accuracy,seconds,images_per_s,lr";
    static const char steps[] = "epoch,batch,examples_seen,loss";
    int rc = rundir_config(t->dir, t->e->root, t->e->path, kv, t->point ? 12 : 11, err);
    if (!rc && t->done)
        rc = rundir_csv_resume(t->dir, "history.csv", history, t->done, keep_history_row, t,
                               &t->history, err);
    else if (!rc)
        rc = rundir_csv(t->dir, "history.csv", history, &t->history, err);
    if (!rc && t->e->log_every > 0 && t->done)
        rc = rundir_csv_resume(t->dir, "steps.csv", steps, t->done, keep_steps_row, t, &t->steps,
                               err);
    else if (!rc && t->e->log_every > 0)
        rc = rundir_csv(t->dir, "steps.csv", steps, &t->steps, err);
    return rc;
}

/* A run in a directory with a checkpoint for the same settings carries on from
 * it; whatever it finds, the directory is then no longer a finished run. A
 * checkpoint it cannot use leaves a finished run's SUCCESS as it was. */
static int resume(Trainer *t, Err *err)
{
    char success[PATH_MAX + 16];
    snprintf(success, sizeof success, "%s/SUCCESS", t->dir);
    t->settings = t->e->settings;
    CheckpointInfo ck = {t->e->epochs, t->rng, t->settings}; /* epochs asked for, for now */
    int found = 0, rc = t->e->epochs > 0 ? checkpoint_load(t->dir, t->e->root, &t->g,
                                                           &t->e->optim, &ck, &found, err)
                                         : CLRUN_OK;
    if (!rc && found && ck.epoch > t->e->epochs)
        rc = err_set(err, CLRUN_EINPUT, "%s/checkpoint.safetensors: %ld epochs done, more than "
                     "the %ld asked for", t->dir, ck.epoch, t->e->epochs);
    if (!rc)
        unlink(success);
    if (rc || !found)
        return rc;
    t->done = ck.epoch;
    t->rng = ck.rng;
    t->seen = t->done * t->train.n;
    printf("Resuming after epoch %ld from %s/checkpoint.safetensors\n", t->done, t->dir);
    return CLRUN_OK;
}

/* A finished run is never touched without --overwrite: running its command
 * again (and stopping it) would otherwise leave neither run whole. The one
 * change it takes is more epochs (Keras' initial_epoch): resume() carries it
 * on from the checkpoint it kept. With --overwrite a run, finished or
 * stopped, starts over, so its checkpoint goes. */
static int keep_finished(const Trainer *t, const RunOptions *o, Err *err)
{
    const char *dir = t->dir;
    RunMark mark;
    if (o->overwrite) {
        checkpoint_remove(dir);
        return CLRUN_OK;
    }
    if (!rundir_finished(dir, &mark))
        return CLRUN_OK;
    char diff[1024] = ""; /* stays empty for the same settings */
    long from = mark.epochs, to = t->e->epochs;
    int epochs_only = mark.settings != t->e->settings &&
                      checkpoint_epochs_only(dir, t->e->root, diff, sizeof diff);
    if (!epochs_only && !diff[0])
        return err_set(err, CLRUN_EINPUT, "%s holds a finished run (%s/SUCCESS); it is left as it "
                       "is: give another --out, or --overwrite to replace it", dir, dir);
    if (!epochs_only)
        return err_set(err, CLRUN_EINPUT, "%s holds a finished run of other settings (those that "
                       "differ: %s); it is left as it is: give another --out, or --overwrite to "
                       "replace it (raising train.epochs alone extends it)", dir, diff);
    if (to <= from)
        return err_set(err, CLRUN_EINPUT, "%s holds a finished run of %ld epochs, and train.epochs "
                       "%ld does not raise them (those that differ: %s); it is left as it is: "
                       "raise train.epochs to extend it, give another --out, or --overwrite to "
                       "replace it", dir, from, to, diff);
    if (!checkpoint_present(dir))
        return err_set(err, CLRUN_EINPUT, "%s holds a finished run of %ld epochs without a "
                       "checkpoint.safetensors to extend it from (deleted, or never written: by "
                       "an older clrun, or with train.epochs=0); it is left as it is: give "
                       "another --out, or --overwrite to train it again", dir, from);
    printf("Extending the finished run in %s from %ld to %ld epochs (only train.epochs "
           "differs)\n", dir, from, to);
    return CLRUN_OK;
}

/* What the analyses see of the trainer. */
static AnalysisContext analysis_context(Trainer *t)
{
    return (AnalysisContext){&t->g, &t->train, &t->test, t->norm, t->loss.labels, t->dir,
                             &t->e->data, t->e->loss};
}

/* The launch trace the device is about to append to (--trace-launches) is
 * an output like the run's: never an input, the weights read next among them. */
static int check_trace(Trainer *t, const RunOptions *o, Err *err)
{
    const char *trace = getenv("CLRUN_TRACE_LAUNCHES");
    char weights[PATH_MAX];
    int rc = trace && *trace ? weights_path(t, o, weights, sizeof weights, err) : CLRUN_OK;
    const char *also[] = {weights, t->e->path, NULL};
    return rc || !trace || !*trace ? rc : outputs_check_file(trace, "launch trace", also, err);
}

/* No input may lie where the run writes: its directory and its analyses'. */
static int check_run_dir(const Trainer *t, Err *err)
{
    const char **subdirs = calloc((size_t)t->analyses.n + 1, sizeof *subdirs);
    if (!subdirs)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    int n = 0;
    for (int i = 0; i < t->analyses.n; i++)
        if (t->analyses.items[i].subdir[0])
            subdirs[n++] = t->analyses.items[i].subdir;
    int rc = outputs_check_dir(t->dir, subdirs, n, err);
    free(subdirs);
    return rc;
}

/* The model on the device with its weights, and the data, checked: all an
 * evaluation needs. Analyses are read (and checked) only when `analyses` is set. */
static int prepare_model(Trainer *t, const RunOptions *o, int analyses, Err *err)
{
    int rc = graph_build(&t->g, t->e->model, err);
    if (!rc && analyses)
        rc = analysis_parse_list(&t->analyses, t->e->analyses, &t->g, err);
    else
        spec_mark_used(t->e->analyses);
    if (!rc) rc = loss_find(&t->loss, t->e->loss, t->e->loss_node, err);
    if (!rc) rc = spec_check_unused(t->e->root, "experiment", err);
    if (!rc) rc = load_data(t, err);
    if (!rc) rc = check_data(t, err);
    if (!rc) rc = check_trace(t, o, err);
    return rc ? rc : prepare_device(t, o, err);
}

/* A monitored metric needs its split; watching the test set is selection on it. */
static int check_monitors(const Trainer *t, Err *err)
{
    const Monitor *ms[2] = {&t->e->early_stopping, &t->e->save_best};
    for (int i = 0; i < 2; i++) {
        if (!ms[i]->on)
            continue;
        if (monitor_split(ms[i]) == 1 && t->val.n == 0)
            return spec_error(ms[i]->node, err, "monitor %s needs a validation split "
                              "(data.validation_split)", monitor_name(ms[i]));
        if (monitor_split(ms[i]) == 2)
            printf("Note: monitoring %s chooses by the test set, so the test score is no longer "
                   "an unbiased estimate; monitor val_* with data.validation_split instead\n",
                   monitor_name(ms[i]));
    }
    return CLRUN_OK;
}

static int prepare(Trainer *t, const RunOptions *o, Err *err)
{
    int rc = rundir_path(o->out_dir, t->e->name, t->e->path, t->dir, sizeof t->dir, err);
    if (!rc) rc = prepare_model(t, o, 1, err);
    if (!rc) rc = check_monitors(t, err);
    AnalysisContext ctx = analysis_context(t);
    if (!rc) rc = analysis_check_list(&t->analyses, &ctx, err);
    if (!rc) rc = check_run_dir(t, err);
    if (!rc) rc = rundir_make(t->dir, err);
    if (!rc) rc = rundir_lock(t->dir, &t->lock, err);
    if (!rc) rc = keep_finished(t, o, err);
    if (!rc) rc = resume(t, err);
    return rc ? rc : write_outputs_start(t, err);
}

static void trainer_free(Trainer *t)
{
    if (t->lock >= 0)
        close(t->lock);
    Err ignored; /* every row was flushed and checked as it was written */
    csv_close(&t->history, &ignored);
    csv_close(&t->steps, &ignored);
    release_pace(t);
    analysis_free_list(&t->analyses);
    feed_free(&t->train);
    feed_free(&t->val);
    feed_free(&t->test);
    graph_free(&t->g);
    if (t->dev == &t->own_dev)
        dev_close(t->dev);
    dataset_free(&t->train_ds);
    dataset_free(&t->test_ds);
    free(t->slots);
    free(t->curves);
    free(t->steps_xy);
}

/* The class probabilities the model gives the examples of split ([n,
 * classes] in *probs) and their labels (*labels); the caller frees both. */
static int split_probabilities(Trainer *t, Feed *split, double **probs, int **labels, Err *err)
{
    int n = split->n, classes = t->test_ds.classes > 0 ? t->test_ds.classes : 1;
    float *out = NULL;
    Node *last = graph_output(&t->g);
    int units = (int)shape_size(last->out_shape);
    AnalysisContext ctx = analysis_context(t);
    int rc = (*probs = malloc((size_t)n * classes * sizeof **probs))
                 ? analysis_activations(&ctx, split, n, last, &out, labels, err)
                 : err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int i = 0; !rc && i < n; i++)
        rc = predict_probabilities(t->loss.type->name, out + (size_t)i * units, units, classes,
                                   *probs + (size_t)i * classes, err);
    free(out);
    return rc;
}

/* The model's outputs for the images, as class probabilities, into csv and
 * the figure png. */
static int predict_files(Trainer *t, const Dataset *ds, char *const *files, const char *csv,
                         const char *png, Err *err)
{
    FeedData data = {0};
    Feed split = {0};
    double *probs = NULL;
    int *labels = NULL;
    int rc = feed_upload(&data, &t->g, ds, err);
    if (!rc) rc = feed_split(&split, "predict", &t->g, &data, 0, ds->n, err);
    if (!rc) rc = split_probabilities(t, &split, &probs, &labels, err);
    if (!rc) rc = predict_write(csv, files, ds->n, probs, t->test_ds.classes, &t->test_ds, err);
    if (!rc) rc = predict_figure(png, ds, probs, t->test_ds.classes, &t->test_ds, err);
    feed_free(&split);
    free(labels), free(probs);
    return rc;
}

/* Each class's examples, those predicted right, and the accuracy. */
static int per_class(Trainer *t, Feed *feed, Err *err)
{
    double *probs = NULL;
    int *labels = NULL, rc = split_probabilities(t, feed, &probs, &labels, err);
    if (!rc)
        predict_per_class(stdout, probs, labels, feed->n, t->test_ds.classes, &t->test_ds);
    free(probs), free(labels);
    return rc;
}

int train_evaluate(Experiment *e, const RunOptions *o, const char *split, int by_class,
                   Err *err)
{
    Trainer t;
    memset(&t, 0, sizeof t);
    t.e = e;
    t.lock = -1;
    int rc = prepare_model(&t, o, 0, err);
    Feed *feed = strcmp(split, "train") == 0 ? &t.train : strcmp(split, "val") == 0 ? &t.val
                                                                                   : &t.test;
    if (!rc && feed->n == 0)
        rc = err_set(err, CLRUN_EINPUT, "--split val: %s has no validation split "
                     "(data.validation_split)", e->path);
    Score s = {0, 0};
    if (!rc) rc = evaluate(&t, feed, &s, err);
    char n[TEXT_NUMBER_MAX];
    if (!rc)
        printf("Evaluation on the %s split (%s examples): loss %.4f, accuracy %.4f (%.0f/%d)\n",
               feed->name, text_thousands(feed->n, n), s.loss, s.accuracy, s.accuracy * feed->n,
               feed->n);
    if (!rc && by_class) rc = per_class(&t, feed, err);
    trainer_free(&t);
    return rc;
}

int train_use_model(Experiment *e, const RunOptions *o, TrainUse use, void *arg, Err *err)
{
    Trainer t;
    memset(&t, 0, sizeof t);
    t.e = e;
    t.lock = -1;
    int rc = prepare_model(&t, o, 0, err);
    AnalysisContext ctx = analysis_context(&t);
    double started = clock_seconds();
    if (!rc) rc = use(&ctx, arg, err);
    if (!rc && o->profile && !(rc = dev_finish(t.dev, err)))
        dev_profile_report(t.dev, clock_seconds() - started, stdout);
    trainer_free(&t);
    return rc;
}

/* predict's CSV and figure: named, then checked against every input (the
 * weights, the images, the data) and the files of the run they land in. */
static int predict_paths(Trainer *t, const RunOptions *o, char *csv, char *png, size_t size,
                         Err *err)
{
    char weights[PATH_MAX];
    int rc = weights_path(t, o, weights, sizeof weights, err);
    if (!rc) rc = predict_outputs(o->out_dir, weights, csv, png, size, err);
    if (!rc) rc = outputs_check_file(csv, "predictions CSV", NULL, err);
    return rc ? rc : outputs_check_file(png, "predictions figure", NULL, err);
}

int train_predict(Experiment *e, const RunOptions *o, const char *const *paths, int n,
                  int invert, Err *err)
{
    Trainer t;
    memset(&t, 0, sizeof t);
    t.e = e;
    t.lock = -1;
    Dataset ds = {0};
    char **files = NULL, csv[PATH_MAX], png[PATH_MAX];
    int rc = prepare_model(&t, o, 0, err);
    ImageOptions opt = predict_image_options(&e->data, &t.g, invert);
    Shape in = t.g.nodes[0].out_shape;
    if (!rc) rc = images_load_files(&ds, paths, n, &opt, &files, err);
    if (!rc && (long)ds.c * ds.h * ds.w != shape_size(in))
        rc = err_set(err, CLRUN_EINPUT, "the images are %dx%dx%d, but the model takes %ld values",
                     ds.c, ds.h, ds.w, shape_size(in));
    if (!rc) rc = predict_paths(&t, o, csv, png, sizeof csv, err);
    if (!rc)
        predict_check_statistics(&ds, &t.train_ds, opt.invert);
    if (!rc) rc = predict_files(&t, &ds, files, csv, png, err);
    if (!rc)
        printf("Predictions for %d image%s: %s and %s\n", ds.n, ds.n == 1 ? "" : "s", csv, png);
    for (int i = 0; files && i < ds.n; i++)
        free(files[i]);
    free(files);
    dataset_free(&ds);
    trainer_free(&t);
    return rc;
}

/* Whether dir holds a run finished with these very settings (and weights):
 * running its command again then prints its result and leaves it be, as
 * make does a target that is up to date. */
static int already_finished(const Experiment *e, const RunOptions *o, const char *dir)
{
    RunMark mark;
    if (o->overwrite || !rundir_finished(dir, &mark) || !mark.settings ||
        mark.settings != e->settings || mark.epochs != e->epochs ||
        strcmp(mark.weights, o->weights ? o->weights : "") != 0 ||
        strcmp(mark.point, o->point ? o->point : "") != 0)
        return 0;
    printf("%s already holds this run, finished with the same settings; --overwrite retrains "
           "it\n", dir);
    if (mark.result[0])
        printf("%s\n", mark.result);
    printf("Run directory: %s\n", dir);
    return 1;
}

int train_run(Experiment *e, const RunOptions *o, Err *err)
{
    char dir[PATH_MAX];
    int rc = rundir_path(o->out_dir, e->name, e->path, dir, sizeof dir, err);
    if (rc || already_finished(e, o, dir))
        return rc;
    Trainer t;
    memset(&t, 0, sizeof t);
    t.e = e;
    t.lock = -1;
    t.point = o->point;
    t.rng = (uint64_t)e->seed ^ 0x53485546464c45ull; /* "SHUFFLE": apart from the init stream */
    plot_set_dpi((int)e->plot_dpi); /* for the history, the loss curve and the analyses */
    plot_set_format(e->plot_format);
    rc = prepare(&t, o, err);
    double started = clock_seconds();
    if (!rc) rc = run_epochs(&t, err);
    if (!rc && o->profile && !(rc = dev_finish(t.dev, err))) {
        dev_profile_report(t.dev, clock_seconds() - started, stdout);
        if (t.first_batch > 0)
            printf("Start-up: the first batch was done %.2f s after clrun started\n",
                   t.first_batch);
    }
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/weights.safetensors", t.dir);
    if (!rc) rc = graph_save_weights(&t.g, path, err);
    if (!rc && interrupt_signal())
        rc = stopped((int)e->epochs, err);
    AnalysisContext ctx = analysis_context(&t);
    if (!rc) rc = analysis_run_list(&t.analyses, &ctx, err);
    /* the last checkpoint stays: raising train.epochs extends the finished run from it */
    RunMark mark = {e->settings, e->epochs, "", "", "", 0};
    snprintf(mark.point, sizeof mark.point, "%s", o->point ? o->point : "");
    snprintf(mark.weights, sizeof mark.weights, "%s", o->weights ? o->weights : "");
    snprintf(mark.result, sizeof mark.result, "%s", t.result);
    mark.kept_epoch = t.kept_epoch;
    if (!rc) rc = rundir_mark_success(t.dir, &mark, err);
    if (!rc)
        printf("Run directory: %s\n", t.dir);
    trainer_free(&t);
    return rc;
}
