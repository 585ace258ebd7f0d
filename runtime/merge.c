/* merge.c: a sweep's results table and figures (see merge.h). */
#include "merge.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/csv.h"
#include "io/file.h"
#include "plot.h"
#include "rundir.h"
#include "spec.h"
#include "sweep.h"

#define MERGE_MAX_FIELDS (SWEEP_MAX_KEYS + 1)

/* The metrics, as results.csv names them, and where PointResult keeps them. */
static const struct {
    const char *name;
    size_t offset;
} metrics[] = {
    {"final_test_accuracy", offsetof(PointResult, final_test_accuracy)},
    {"best_test_accuracy", offsetof(PointResult, best_test_accuracy)},
    {"final_test_loss", offsetof(PointResult, final_test_loss)},
    {"best_test_loss", offsetof(PointResult, best_test_loss)},
    {"final_val_accuracy", offsetof(PointResult, final_val_accuracy)},
    {"best_val_accuracy", offsetof(PointResult, best_val_accuracy)},
    {"final_val_loss", offsetof(PointResult, final_val_loss)},
    {"best_val_loss", offsetof(PointResult, best_val_loss)},
    {"seconds", offsetof(PointResult, seconds)},
};
#define N_METRICS (int)(sizeof metrics / sizeof metrics[0])

static double metric_of(const PointResult *r, int m)
{
    return *(const double *)((const char *)r + metrics[m].offset);
}

/* ---- one point ---- */

static double better(double best, double v, int larger)
{
    if (isnan(v))
        return best;
    return isnan(best) || (larger ? v > best : v < best) ? v : best;
}

/* history.csv's rows; the final scores are the kept epoch's (0: the last's). */
static void read_history(const char *dir, long kept, PointResult *r)
{
    char path[PATH_MAX + 16], line[512];
    snprintf(path, sizeof path, "%s/history.csv", dir);
    Err absent;
    FILE *f = file_open(path, &absent); /* none yet: a point not started */
    for (int first = 1; f && fgets(line, sizeof line, f); first = 0) {
        double v[8];
        rundir_numbers(line, v, 8);
        if (first || isnan(v[0]))
            continue;
        r->epochs++;
        if (!kept || v[0] == (double)kept) {
            r->final_val_loss = v[3], r->final_val_accuracy = v[4];
            r->final_test_loss = v[5], r->final_test_accuracy = v[6];
        }
        r->best_val_loss = better(r->best_val_loss, v[3], 0);
        r->best_val_accuracy = better(r->best_val_accuracy, v[4], 1);
        r->best_test_loss = better(r->best_test_loss, v[5], 0);
        r->best_test_accuracy = better(r->best_test_accuracy, v[6], 1);
        r->seconds = isnan(r->seconds) ? v[7] : r->seconds + v[7];
    }
    if (f)
        fclose(f);
}

/* The device and the swept values named in config.yaml's run: block, if it reads. */
static void read_provenance(const char *dir, PointResult *r)
{
    char path[PATH_MAX + 16];
    Err ignored;
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    r->started = access(path, F_OK) == 0;
    SpecNode *root = r->started ? spec_load(path, &ignored) : NULL;
    const char *device = NULL, *point = NULL;
    SpecNode *run = spec_get(root, "run");
    if (root && !spec_string(run, "device", 0, &device, &ignored) && device)
        snprintf(r->device, sizeof r->device, "%s", device);
    if (root && !spec_string(run, "sweep_point", 0, &point, &ignored) && point)
        snprintf(r->point, sizeof r->point, "%s", point);
    spec_free(root);
}

void merge_read_point(const char *dir, PointResult *r)
{
    memset(r, 0, sizeof *r);
    for (int m = 0; m < N_METRICS; m++)
        *(double *)((char *)r + metrics[m].offset) = NAN;
    RunMark mark;
    r->finished = rundir_finished(dir, &mark);
    read_history(dir, r->finished ? mark.kept_epoch : 0, r);
    read_provenance(dir, r);
}

/* ---- the grid ---- */

typedef struct {
    int n_keys;
    char keys[SWEEP_MAX_KEYS][128];
    long n;
    long *index;
    char *(*values)[SWEEP_MAX_KEYS]; /* values[point][key] */
    PointResult *results;
} Grid;

/* Splits a CSV line in place into fields, unquoting "..." ("" is a quote). */
static int split_csv(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    line[strcspn(line, "\r\n")] = '\0';
    while (n < max) {
        char *out = p;
        fields[n++] = p;
        if (*p == '"') {
            char *in = p + 1;
            for (; *in && !(in[0] == '"' && in[1] != '"'); in++)
                *out++ = *in == '"' ? *++in : *in;
            p = *in ? in + 1 : in;
        } else {
            p += strcspn(p, ",");
            out = p;
        }
        char next = *p;
        *out = '\0';
        if (next != ',')
            break;
        p++;
    }
    return n;
}

static void grid_free(Grid *g)
{
    for (long i = 0; g->values && i < g->n; i++)
        for (int k = 0; k < g->n_keys; k++)
            free(g->values[i][k]);
    free(g->index);
    free(g->values);
    free(g->results);
}

static int grid_add(Grid *g, char **fields, long *cap, const char *path, int line, Err *err)
{
    if (g->n == *cap) {
        long grown = *cap ? 2 * *cap : 64;
        long *index = realloc(g->index, (size_t)grown * sizeof *index);
        if (index)
            g->index = index;
        char *(*values)[SWEEP_MAX_KEYS] = realloc(g->values, (size_t)grown * sizeof *values);
        if (values)
            g->values = values;
        if (!index || !values)
            return err_set(err, CLRUN_ERUNTIME, "out of memory");
        *cap = grown;
    }
    char *end;
    g->index[g->n] = strtol(fields[0], &end, 10);
    if (end == fields[0] || *end || g->index[g->n] < 0)
        return err_set(err, CLRUN_EINPUT, "%s:%d: '%s' is not a point index", path, line,
                       fields[0]);
    for (int k = 0; k < g->n_keys; k++)
        if (!(g->values[g->n][k] = strdup(fields[1 + k])))
            return err_set(err, CLRUN_ERUNTIME, "out of memory");
    g->n++;
    return CLRUN_OK;
}

/* Forgets what a point's directory says when its run was for other swept
 * values than the grid's row i (sweep_describe's "key=value ..."). */
static void check_label(const Grid *g, long i, const char *dir)
{
    char want[1024];
    size_t n = 0;
    want[0] = 0;
    for (int k = 0; k < g->n_keys && n < sizeof want; k++)
        n += (size_t)snprintf(want + n, sizeof want - n, "%s%s=%s", k ? " " : "", g->keys[k],
                              g->values[i][k]);
    PointResult *r = &g->results[i];
    if (!r->started || strcmp(r->point, want) == 0)
        return;
    printf("Point %ld: %s was trained with %s, not with this grid's %s: its results are left "
           "out (run the sweep again with --overwrite to train it)\n", g->index[i], dir,
           r->point[0] ? r->point : "settings it does not record", want);
    merge_read_point("", r); /* nothing: a point not started */
    r->other = 1;
}

static int grid_read(Grid *g, const char *root, Err *err)
{
    char path[PATH_MAX + 16], line[8192], *fields[MERGE_MAX_FIELDS];
    snprintf(path, sizeof path, "%s/sweep.csv", root);
    Err open_err;
    FILE *f = file_open(path, &open_err);
    if (!f)
        return err_set(err, CLRUN_EINPUT, "%s: is %s a sweep's directory?", open_err.msg, root);
    long cap = 0;
    int rc = CLRUN_OK;
    for (int ln = 1; !rc && fgets(line, sizeof line, f); ln++) {
        int n = split_csv(line, fields, MERGE_MAX_FIELDS);
        if (ln == 1) {
            g->n_keys = n - 1;
            for (int k = 0; k < g->n_keys; k++)
                snprintf(g->keys[k], sizeof g->keys[k], "%s", fields[1 + k]);
            if (n < 2 || strcmp(fields[0], "index") != 0)
                rc = err_set(err, CLRUN_EINPUT, "%s:1: expected index and the swept keys", path);
        } else if (n != g->n_keys + 1) {
            rc = err_set(err, CLRUN_EINPUT, "%s:%d: %d fields, the header has %d", path, ln, n,
                         g->n_keys + 1);
        } else {
            rc = grid_add(g, fields, &cap, path, ln, err);
        }
    }
    fclose(f);
    if (!rc && !(g->results = calloc((size_t)(g->n ? g->n : 1), sizeof *g->results)))
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (long i = 0; !rc && i < g->n; i++) {
        char dir[PATH_MAX];
        snprintf(dir, sizeof dir, "%s/%ld", root, g->index[i]);
        merge_read_point(dir, &g->results[i]);
        check_label(g, i, dir);
    }
    return rc;
}

/* ---- outputs ---- */

static int write_results(const Grid *g, const char *root, Err *err)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/results.csv", root);
    Csv c;
    int rc = csv_open(&c, path, "w", err);
    if (rc)
        return rc;
    csv_text(&c, "index");
    for (int k = 0; k < g->n_keys; k++)
        csv_text(&c, g->keys[k]);
    csv_text(&c, "status");
    for (int m = 0; m < N_METRICS; m++)
        csv_text(&c, metrics[m].name);
    csv_text(&c, "epochs");
    csv_text(&c, "device");
    rc = csv_end_row(&c, err);
    for (long i = 0; !rc && i < g->n; i++) {
        const PointResult *r = &g->results[i];
        csv_textf(&c, "%ld", g->index[i]);
        for (int k = 0; k < g->n_keys; k++)
            csv_text(&c, g->values[i][k]);
        csv_text(&c, r->other ? "other settings" : r->finished ? "finished"
                                    : r->epochs ? "incomplete" : "not started");
        for (int m = 0; m < N_METRICS; m++)
            csv_number(&c, m == N_METRICS - 1 ? "%.3f" : "%.6f", metric_of(r, m));
        csv_textf(&c, "%d", r->epochs);
        csv_text(&c, r->device[0] ? r->device : "NA");
        rc = csv_end_row(&c, err);
    }
    int closed = csv_close(&c, err);
    return rc ? rc : closed;
}

/* The distinct values of key k in order of first appearance (the axis order). */
static int axis_values(const Grid *g, int k, const char **out, int max)
{
    int n = 0;
    for (long i = 0; i < g->n; i++) {
        int seen = 0;
        for (int j = 0; j < n && !seen; j++)
            seen = strcmp(out[j], g->values[i][k]) == 0;
        if (!seen && n < max)
            out[n++] = g->values[i][k];
    }
    return n;
}

static int value_index(const char **values, int n, const char *v)
{
    for (int j = 0; j < n; j++)
        if (strcmp(values[j], v) == 0)
            return j;
    return -1;
}

/* The mean metric over finished points for each (value of key a, value of
 * key b), and when lo and hi are not NULL the least and the greatest. */
static void cell_means(const Grid *g, int m, int a, const char **va, int na, int b,
                       const char **vb, int nb, double *mean, double *lo, double *hi)
{
    int *count = calloc((size_t)na * (size_t)nb, sizeof *count);
    for (int c = 0; c < na * nb; c++) {
        mean[c] = 0;
        if (lo)
            lo[c] = INFINITY, hi[c] = -INFINITY;
    }
    for (long i = 0; count && i < g->n; i++) {
        double v = metric_of(&g->results[i], m);
        /* inf or 1e308 (a diverged run) has no place on a figure's axis */
        if (!g->results[i].finished || !isfinite(v) || fabs(v) > 1e30)
            continue;
        int x = value_index(va, na, g->values[i][a]), y = b < 0 ? 0 : value_index(vb, nb,
                                                                                 g->values[i][b]);
        mean[x * nb + y] += v;
        count[x * nb + y]++;
        if (lo)
            lo[x * nb + y] = fmin(lo[x * nb + y], v), hi[x * nb + y] = fmax(hi[x * nb + y], v);
    }
    for (int c = 0; c < na * nb; c++) {
        mean[c] = count && count[c] ? mean[c] / count[c] : NAN;
        if (lo && !(count && count[c]))
            lo[c] = hi[c] = NAN;
    }
    free(count);
}

static void file_key(const char *key, char *out, size_t size)
{
    snprintf(out, size, "%s", key);
    for (char *c = out; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '-'))
            *c = '_';
}

/* The keys that take more than one value: those the figures show. */
static int varying_keys(const Grid *g, int *keys)
{
    const char *values[2];
    int n = 0;
    for (int k = 0; k < g->n_keys; k++)
        if (axis_values(g, k, values, 2) > 1)
            keys[n++] = k;
    return n;
}

/* The metric against key a, one line per value of another varying key (the
 * first), averaged over the rest, with a band from their least to their
 * greatest where a line stands for more than one point. */
static int plot_key(const Grid *g, const char *root, int m, int a, Err *err)
{
    const char *va[SWEEP_MAX_VALUES], *vb[SWEEP_MAX_VALUES];
    int keys[SWEEP_MAX_KEYS], n_keys = varying_keys(g, keys), b = -1;
    for (int k = 0; k < n_keys && b < 0; k++)
        b = keys[k] != a ? keys[k] : -1;
    int na = axis_values(g, a, va, SWEEP_MAX_VALUES), nb = b < 0 ? 1 : axis_values(g, b, vb,
                                                                                  SWEEP_MAX_VALUES);
    size_t cells = (size_t)na * (size_t)nb;
    double x[SWEEP_MAX_VALUES], *mean = malloc(3 * cells * sizeof *mean);
    double *ys = malloc(3 * cells * sizeof *ys);
    PlotSeries *series = calloc((size_t)nb, sizeof *series);
    char (*labels)[160] = calloc((size_t)nb, sizeof *labels);
    if (!mean || !ys || !series || !labels) {
        free(mean), free(ys), free(series), free(labels);
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    }
    for (int j = 0; j < na; j++)
        x[j] = j; /* a category per value, in the sweep's order, named under its tick */
    cell_means(g, m, a, va, na, b, vb, nb, mean, mean + cells, mean + 2 * cells);
    int spread = 0; /* whether any line averages points that differ */
    for (size_t c = 0; c < cells; c++)
        spread |= mean[cells + c] < mean[2 * cells + c];
    char metric[96], key_a[128], key_b[128];
    plot_label(metrics[m].name, metric, sizeof metric);
    plot_label(g->keys[a], key_a, sizeof key_a);
    if (b >= 0)
        plot_label(g->keys[b], key_b, sizeof key_b);
    for (int s = 0; s < nb; s++) {
        for (int j = 0; j < na; j++)
            for (int k = 0; k < 3; k++)
                ys[k * cells + s * na + j] = mean[k * cells + j * nb + s];
        if (b >= 0)
            snprintf(labels[s], sizeof labels[s], "%s %s", key_b, vb[s]);
        series[s] = (PlotSeries){.x = x, .y = ys + s * na, .n = na, .markers = PLOT_LINE_MARKERS,
                                 .label = b >= 0 ? labels[s] : metric};
        if (spread)
            series[s].lo = ys + cells + s * na, series[s].hi = ys + 2 * cells + s * na;
    }
    char title[320], name[160], path[PATH_MAX];
    snprintf(title, sizeof title, "%s against %s%s", metric, key_a,
             spread ? " (mean over the other keys; band: least to greatest)" : "");
    PlotPanel panel = {.title = title, .xlabel = key_a, .ylabel = metric,
                       .series = series, .n_series = nb, .x_names = va, .n_x_names = na};
    file_key(g->keys[a], name, sizeof name);
    snprintf(path, sizeof path, "%s/sweep_%s.png", root, name);
    int rc = plot_lines(path, &panel, 1, err);
    free(mean), free(ys), free(series), free(labels);
    return rc;
}

/* The metric over the first two varying keys a (rows) and b (columns),
 * averaged over the rest (`others` of them). */
static int plot_heat(const Grid *g, const char *root, int m, int a, int b, int others, Err *err)
{
    const char *va[SWEEP_MAX_VALUES], *vb[SWEEP_MAX_VALUES];
    int na = axis_values(g, a, va, SWEEP_MAX_VALUES), nb = axis_values(g, b, vb, SWEEP_MAX_VALUES);
    double *mean = malloc((size_t)na * (size_t)nb * sizeof *mean);
    if (!mean)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    cell_means(g, m, a, va, na, b, vb, nb, mean, NULL, NULL);
    char path[PATH_MAX], metric[96], key_a[128], key_b[128], title[160];
    snprintf(path, sizeof path, "%s/sweep_heatmap.png", root);
    plot_label(metrics[m].name, metric, sizeof metric);
    plot_label(g->keys[a], key_a, sizeof key_a);
    plot_label(g->keys[b], key_b, sizeof key_b);
    snprintf(title, sizeof title, "%s%s", metric, others ? " (mean over the other keys)" : "");
    PlotHeatmap h = {.title = title, .ylabel = key_a, .xlabel = key_b,
                     .values = mean, .rows = na, .cols = nb, .row_labels = va, .col_labels = vb,
                     .value_format = "%.3f"};
    int rc = plot_heatmap(path, &h, err);
    free(mean);
    return rc;
}

static void list_incomplete(const Grid *g)
{
    int n = 0;
    for (long i = 0; i < g->n; i++) {
        if (g->results[i].finished)
            continue;
        printf("%s %ld", n++ ? "," : "Incomplete points (no SUCCESS):", g->index[i]);
    }
    if (n)
        printf("\n");
}

int merge_sweep(const char *root, const char *metric, Err *err)
{
    int m = 0;
    while (metric && m < N_METRICS && strcmp(metrics[m].name, metric) != 0)
        m++;
    if (m == N_METRICS)
        return err_set(err, CLRUN_EINPUT, "unknown metric '%s' (final_test_accuracy, "
                       "best_val_loss, ... as results.csv names them)", metric);
    Grid g;
    memset(&g, 0, sizeof g);
    int rc = grid_read(&g, root, err);
    if (!rc) rc = write_results(&g, root, err);
    int keys[SWEEP_MAX_KEYS], n_keys = rc ? 0 : varying_keys(&g, keys);
    for (int k = 0; !rc && k < n_keys; k++)
        rc = plot_key(&g, root, m, keys[k], err);
    if (!rc && n_keys >= 2)
        rc = plot_heat(&g, root, m, keys[0], keys[1], n_keys - 2, err);
    if (!rc) {
        long finished = 0;
        for (long i = 0; i < g.n; i++)
            finished += g.results[i].finished;
        printf("Merged %ld points (%ld finished) into %s/results.csv\n", g.n, finished, root);
        list_incomplete(&g);
    }
    grid_free(&g);
    return rc;
}
