/* compare.c: `clrun compare RUN RUN... [--metric A,B] [--out FILE]` (see
 * compare.h): reads each run's history.csv (io/csv.h), finds the settings in which the
 * runs' config.yaml differ (spec_diff, as resuming does) and draws a panel
 * per metric with a line per run. */
#include "compare.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/csv.h"
#include "outputs.h"
#include "plot.h"
#include "spec.h"

enum { MAX_EPOCHS = 100000, MARKED_EPOCHS = 30 };

typedef struct {
    const char *dir;
    double *epoch, *value[COMPARE_MAX_METRICS];
    int n;
    char label[160];
} History;

/* A history.csv field as a number; NAN for NA (an absent split) or no number. */
static double number(const char *text)
{
    char *end;
    double v = strtod(text, &end);
    return end == text || strcmp(text, "NA") == 0 ? NAN : v;
}

/* Reads h->dir/history.csv through io/csv.h, which records it as an input,
 * so that --out cannot name it. */
static int read_history(History *h, char names[][64], int n_metrics, int *found, Err *err)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/history.csv", h->dir);
    if (access(path, F_OK) != 0)
        return err_set(err, CLRUN_EINPUT, "%s: no history.csv (not a run directory?)", h->dir);
    CsvTable t;
    int rc = csv_read(&t, path, err), cols[COMPARE_MAX_METRICS];
    if (rc)
        return rc;
    int rows = t.rows < MAX_EPOCHS ? t.rows : MAX_EPOCHS;
    size_t bytes = (size_t)(rows ? rows : 1) * sizeof(double);
    int ok = (h->epoch = malloc(bytes)) != NULL;
    for (int m = 0; m < n_metrics; m++) {
        found[m] |= (cols[m] = csv_column(&t, names[m])) >= 0;
        ok = (h->value[m] = malloc(bytes)) && ok;
    }
    if (!ok)
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory for %s", path);
    for (int r = 0; ok && r < rows; r++) {
        h->epoch[r] = number(csv_cell(&t, r, 0));
        for (int m = 0; m < n_metrics; m++)
            h->value[m][r] = cols[m] >= 0 ? number(csv_cell(&t, r, cols[m])) : NAN;
    }
    h->n = ok ? rows : 0;
    csv_free(&t);
    return rc;
}

/* The value at a dotted path of a config tree (list items by index), or NULL. */
static const char *value_at(SpecNode *root, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    SpecNode *node = root;
    char *save = NULL;
    for (char *part = strtok_r(buf, ".", &save); node && part; part = strtok_r(NULL, ".", &save)) {
        if (node->kind == SPEC_SEQ) {
            char *end;
            long i = strtol(part, &end, 10);
            node = *end == '\0' && i >= 0 && i < node->n ? node->items[i] : NULL;
        } else
            node = node->kind == SPEC_MAP ? spec_get(node, part) : NULL;
    }
    return node && node->kind == SPEC_SCALAR ? node->value : NULL;
}

/* Each run's legend: the settings in which the configs differ, in words,
 * when there are some and they are short; else the folders as given. */
static void label_runs(History *h, int n)
{
    static const char *const not_settings[] = {"run", "sweep", "analyses", NULL};
    SpecNode *cfg[COMPARE_MAX_RUNS] = {0};
    char diff[1024] = "";
    Err ignored;
    for (int i = 0; i < n; i++) {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/config.yaml", h[i].dir);
        cfg[i] = spec_load(path, &ignored);
        snprintf(h[i].label, sizeof h[i].label, "%s", h[i].dir);
    }
    int differ = 0, complete = 1;
    for (int i = 1; i < n; i++) /* the union of what differs from the first */
        if (cfg[0] && cfg[i]) {
            char one[1024] = "";
            spec_diff(cfg[0], cfg[i], not_settings, one, sizeof one);
            char *save = NULL;
            for (char *k = strtok_r(one, ", ", &save); k; k = strtok_r(NULL, ", ", &save))
                if (!strstr(diff, k) && strlen(diff) + strlen(k) + 3 < sizeof diff)
                    snprintf(diff + strlen(diff), sizeof diff - strlen(diff), "%s%s",
                             differ++ ? "," : "", k);
        } else
            complete = 0;
    for (int i = 0; complete && differ && i < n; i++) {
        char label[160] = "", keys[1024], words[96], *save = NULL;
        snprintf(keys, sizeof keys, "%s", diff);
        for (char *k = strtok_r(keys, ",", &save); k; k = strtok_r(NULL, ",", &save)) {
            const char *v = value_at(cfg[i], k);
            size_t at = strlen(label);
            snprintf(label + at, sizeof label - at, "%s%s %s", at ? ", " : "",
                     plot_label(k, words, sizeof words), v ? v : "-");
        }
        if (strlen(label) < 48)
            snprintf(h[i].label, sizeof h[i].label, "%s", label);
    }
    for (int i = 0; i < n; i++)
        spec_free(cfg[i]);
}

static int split_metrics(const char *metrics, char names[][64], int *n, Err *err)
{
    const char *p = metrics ? metrics : "test_loss,test_accuracy";
    *n = 0;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len == 0 || len >= 64 || *n == COMPARE_MAX_METRICS)
            break;
        snprintf(names[(*n)++], 64, "%.*s", (int)len, p);
        p += len + (p[len] == ',');
    }
    if (*p || *n == 0)
        return err_set(err, CLRUN_EINPUT, "--metric: 1 to %d names of history.csv columns, "
                       "comma-separated (loss, accuracy, val_loss, test_accuracy, ...)",
                       COMPARE_MAX_METRICS);
    return CLRUN_OK;
}

/* "<the folder holding dir>/compare.png": beside the first run, not in
 * whatever folder the shell is in, nor inside a run. */
static void default_out(const char *dir, char *out, size_t size)
{
    size_t end = strlen(dir);
    while (end > 1 && dir[end - 1] == '/')
        end--;
    while (end > 0 && dir[end - 1] != '/')
        end--;
    snprintf(out, size, "%.*scompare.png", (int)end, dir);
}

static int draw(History *h, int n, char names[][64], int n_metrics, const char *out, Err *err)
{
    PlotSeries series[COMPARE_MAX_METRICS][COMPARE_MAX_RUNS];
    PlotPanel panels[COMPARE_MAX_METRICS];
    char words[COMPARE_MAX_METRICS][96];
    for (int m = 0; m < n_metrics; m++) {
        for (int i = 0; i < n; i++)
            series[m][i] = (PlotSeries){.x = h[i].epoch, .y = h[i].value[m], .n = h[i].n,
                                        .label = h[i].label,
                                        .markers = h[i].n <= MARKED_EPOCHS ? PLOT_LINE_MARKERS
                                                                           : PLOT_LINE};
        plot_label(names[m], words[m], sizeof words[m]);
        panels[m] = (PlotPanel){.title = words[m], .xlabel = "epoch", .ylabel = words[m],
                                .series = series[m], .n_series = n, .integer_x = 1};
    }
    return plot_lines(out, panels, n_metrics, err);
}

int compare_runs(const char *const *runs, int n, const char *metrics, const char *out, Err *err)
{
    char names[COMPARE_MAX_METRICS][64], path[PATH_MAX];
    if (n < 2 || n > COMPARE_MAX_RUNS)
        return err_set(err, CLRUN_EINPUT, "compare: 2 to %d run directories, got %d",
                       COMPARE_MAX_RUNS, n);
    int n_metrics;
    if (split_metrics(metrics, names, &n_metrics, err))
        return CLRUN_EINPUT;
    History h[COMPARE_MAX_RUNS];
    memset(h, 0, sizeof h);
    int found[COMPARE_MAX_METRICS] = {0}, rc = CLRUN_OK;
    for (int i = 0; !rc && i < n; i++) {
        h[i].dir = runs[i];
        rc = read_history(&h[i], names, n_metrics, found, err);
    }
    for (int m = 0; !rc && m < n_metrics; m++)
        if (!found[m])
            rc = err_set(err, CLRUN_EINPUT, "--metric %s: no run's history.csv has that column "
                         "(epoch, loss, accuracy, val_loss, val_accuracy, test_loss, "
                         "test_accuracy, seconds, images_per_s)", names[m]);
    if (!rc) {
        if (!out)
            default_out(runs[0], path, sizeof path), out = path;
        rc = outputs_check_file(out, "comparison figure", NULL, err);
    }
    if (!rc) {
        label_runs(h, n);
        rc = draw(h, n, names, n_metrics, out, err);
    }
    if (!rc)
        printf("Comparison of %d runs: %s\n", n, out);
    for (int i = 0; i < n; i++) {
        free(h[i].epoch);
        for (int m = 0; m < n_metrics; m++)
            free(h[i].value[m]);
    }
    return rc;
}
