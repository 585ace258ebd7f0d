/* sweep.c: the grid of a sweep (see sweep.h). */
#include "sweep.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "experiment.h"
#include "graph.h"
#include "rundir.h"
#include "spec.h"

/* A scalar as YAML flow text that reads back the same: quoted strings stay strings. */
static void scalar_text(const SpecNode *v, char *out, size_t size)
{
    if (!v->quoted) {
        snprintf(out, size, "%s", v->value);
        return;
    }
    size_t n = 0;
    out[n++] = '\'';
    for (const char *c = v->value; *c && n + 3 < size; c++) {
        if (*c == '\'')
            out[n++] = '\'';
        out[n++] = *c;
    }
    out[n++] = '\'';
    out[n] = '\0';
}

/* A sweep value (a scalar or a list of scalars) as flow text, or an error at it. */
static int value_text(const SpecNode *v, char *out, size_t size, Err *err)
{
    if (v->kind == SPEC_SCALAR) {
        scalar_text(v, out, size);
        return CLRUN_OK;
    }
    if (v->kind != SPEC_SEQ)
        return spec_error(v, err, "a sweep value must be a scalar or a list of scalars");
    size_t n = (size_t)snprintf(out, size, "[");
    for (int i = 0; i < v->n; i++) {
        if (v->items[i]->kind != SPEC_SCALAR)
            return spec_error(v->items[i], err, "a sweep value must be a scalar or a list of "
                              "scalars");
        char item[256];
        scalar_text(v->items[i], item, sizeof item);
        n += (size_t)snprintf(out + n, n < size ? size - n : 0, "%s%s", i ? ", " : "", item);
    }
    snprintf(out + (n < size ? n : size - 1), n < size ? size - n : 1, "]");
    return CLRUN_OK;
}

/* The axis for key: an existing one (a command-line list replaces the file's) or a new one. */
static SweepAxis *axis_for(Sweep *s, const char *key, Err *err)
{
    for (int i = 0; i < s->n_axes; i++)
        if (strcmp(s->axes[i].key, key) == 0) {
            for (int v = 0; v < s->axes[i].n; v++)
                free(s->axes[i].values[v]);
            s->axes[i].n = 0;
            return &s->axes[i];
        }
    if (s->n_axes == SWEEP_MAX_KEYS || strlen(key) >= sizeof s->axes[0].key) {
        err_set(err, CLRUN_EINPUT, "%s: a sweep has at most %d keys of at most %zu characters",
                s->path, SWEEP_MAX_KEYS, sizeof s->axes[0].key - 1);
        return NULL;
    }
    SweepAxis *a = &s->axes[s->n_axes++];
    snprintf(a->key, sizeof a->key, "%s", key);
    return a;
}

static int add_value(SweepAxis *a, const char *text, const char *path, Err *err)
{
    if (a->n == SWEEP_MAX_VALUES)
        return err_set(err, CLRUN_EINPUT, "%s: sweep key '%s' has more than %d values", path,
                       a->key, SWEEP_MAX_VALUES);
    if (!(a->values[a->n] = strdup(text)))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    a->n++;
    return CLRUN_OK;
}

static int read_block(Sweep *s, SpecNode *root, Err *err)
{
    SpecNode *block = spec_get(root, "sweep");
    if (!block)
        return CLRUN_OK;
    if (block->kind != SPEC_MAP)
        return spec_error(block, err, "sweep must map settings to lists of values, such as "
                          "{train.batch_size: [32, 64]}");
    int rc = CLRUN_OK;
    for (int i = 0; i < block->n && !rc; i++) {
        SpecNode *list = block->items[i];
        if (list->kind != SPEC_SEQ || list->n < 1)
            return spec_error(list, err, "sweep: '%s' must be a list of one or more values",
                              list->key);
        SweepAxis *a = axis_for(s, list->key, err);
        if (a)
            a->line = list->line, a->col = list->col;
        for (int v = 0; a && v < list->n && !rc; v++) {
            char text[1024];
            rc = value_text(list->items[v], text, sizeof text, err);
            if (!rc) rc = add_value(a, text, s->path, err);
        }
        if (!a)
            rc = CLRUN_EINPUT;
    }
    return rc;
}

/* KEY=a,b,... is an axis (a value that is not a flow list or map, with a comma). */
static int is_axis(const char *value)
{
    return strchr(value, ',') && !strchr("[{'\"", value[0]);
}

static int read_overrides(Sweep *s, char *const *overrides, int n, Err *err)
{
    if (!(s->base = calloc((size_t)n + 1, sizeof *s->base)))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int i = 0; i < n; i++) {
        const char *eq = strchr(overrides[i], '=');
        char key[256];
        snprintf(key, sizeof key, "%.*s", eq ? (int)(eq - overrides[i]) : 0, overrides[i]);
        int swept = 0;
        for (int a = 0; eq && a < s->n_axes; a++)
            swept |= strcmp(s->axes[a].key, key) == 0;
        if (!eq || (!is_axis(eq + 1) && !swept)) {
            s->base[s->n_base++] = overrides[i];
            continue;
        }
        SweepAxis *a = axis_for(s, key, err);
        if (a)
            a->line = a->col = 0;
        if (!is_axis(eq + 1)) { /* a swept key given one value: an axis of one */
            int rc = a ? add_value(a, eq + 1, s->path, err) : CLRUN_EINPUT;
            if (rc)
                return rc;
            continue;
        }
        if (!a)
            return CLRUN_EINPUT;
        for (const char *v = eq + 1; v; v = strchr(v, ',') ? strchr(v, ',') + 1 : NULL) {
            char text[1024];
            snprintf(text, sizeof text, "%.*s", (int)strcspn(v, ","), v);
            int rc = add_value(a, text, s->path, err);
            if (rc)
                return rc;
        }
    }
    return CLRUN_OK;
}

/* "key=value" (caller frees), or NULL when out of memory. */
static char *assignment(const SweepAxis *a, int v)
{
    size_t size = strlen(a->key) + strlen(a->values[v]) + 2;
    char *text = malloc(size);
    if (text)
        snprintf(text, size, "%s=%s", a->key, a->values[v]);
    return text;
}

/* Loads the experiment with the base overrides and key a at its value v alone,
 * and builds its model, so that an error names the key (where the file sweeps
 * it) and the value to blame. */
static int check_value(const Sweep *s, int a, int v, Err *err)
{
    char **all = calloc((size_t)s->n_base + 2, sizeof *all), *one = assignment(&s->axes[a], v);
    int rc = all && one ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "out of memory");
    Experiment e;
    Graph g;
    memset(&g, 0, sizeof g);
    if (!rc) {
        memcpy(all, s->base, (size_t)s->n_base * sizeof *all);
        all[s->n_base] = one;
        rc = experiment_load(&e, s->path, all, s->n_base + 1, err);
        if (!rc) rc = graph_build(&g, e.model, err);
        graph_free(&g);
        experiment_free(&e);
    }
    const SweepAxis *axis = &s->axes[a];
    if (rc == CLRUN_EINPUT && axis->line)
        err_prefix(err, rc, "%s:%d:%d: sweep %s", s->path, axis->line, axis->col, one);
    else if (rc == CLRUN_EINPUT)
        err_prefix(err, rc, "%s: sweep %s", s->path, one);
    free(one);
    free(all);
    return rc;
}

int sweep_load(Sweep *s, const char *path, char *const *overrides, int n_overrides, Err *err)
{
    memset(s, 0, sizeof *s);
    s->path = path;
    experiment_name(path, s->name, sizeof s->name);
    SpecNode *root = spec_load(path, err);
    if (!root)
        return CLRUN_EINPUT;
    int rc = read_block(s, root, err);
    spec_free(root);
    if (!rc) rc = read_overrides(s, overrides, n_overrides, err);
    s->count = 1;
    for (int a = 0; !rc && a < s->n_axes; a++)
        if ((s->count *= s->axes[a].n) > SWEEP_MAX_POINTS)
            rc = err_set(err, CLRUN_EINPUT, "%s: the sweep has more than %d points", path,
                         SWEEP_MAX_POINTS);
    if (!rc && s->n_axes == 0)
        rc = err_set(err, CLRUN_EINPUT, "%s: nothing to sweep: add a sweep: block (such as "
                     "sweep: {train.batch_size: [32, 64]}) or KEY=a,b on the command line", path);
    for (int a = 0; !rc && a < s->n_axes; a++)
        for (int v = 0; !rc && v < s->axes[a].n; v++)
            rc = check_value(s, a, v, err);
    return rc;
}

int sweep_check_index(const Sweep *s, long i, Err *err)
{
    if (i < 0 || i >= s->count)
        return err_set(err, CLRUN_EINPUT, "%s: point %ld is out of range: the sweep has %ld "
                       "points, 0 to %ld", s->path, i, s->count, s->count - 1);
    return CLRUN_OK;
}

void sweep_free(Sweep *s)
{
    for (int a = 0; a < s->n_axes; a++)
        for (int v = 0; v < s->axes[a].n; v++)
            free(s->axes[a].values[v]);
    free(s->base);
    memset(s, 0, sizeof *s);
}

void sweep_choice(const Sweep *s, long i, int *choice)
{
    for (int a = s->n_axes - 1; a >= 0; a--) { /* the last key varies fastest */
        choice[a] = (int)(i % s->axes[a].n);
        i /= s->axes[a].n;
    }
}

void sweep_describe(const Sweep *s, long i, char *out, size_t size)
{
    int choice[SWEEP_MAX_KEYS];
    sweep_choice(s, i, choice);
    size_t n = 0;
    out[0] = '\0';
    for (int a = 0; a < s->n_axes && n < size; a++)
        n += (size_t)snprintf(out + n, size - n, "%s%s=%s", a ? " " : "", s->axes[a].key,
                              s->axes[a].values[choice[a]]);
}

int sweep_overrides(const Sweep *s, long i, char ***out, int *n, Err *err)
{
    int choice[SWEEP_MAX_KEYS];
    sweep_choice(s, i, choice);
    *n = s->n_base + s->n_axes;
    if (!(*out = calloc((size_t)*n + 1, sizeof **out)))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int k = 0; k < s->n_base; k++)
        (*out)[k] = s->base[k];
    for (int a = 0; a < s->n_axes; a++)
        if (!((*out)[s->n_base + a] = assignment(&s->axes[a], choice[a])))
            return err_set(err, CLRUN_ERUNTIME, "out of memory");
    return CLRUN_OK;
}

int sweep_write_grid(const Sweep *s, const char *root, Err *err)
{
    char path[PATH_MAX], tmp[PATH_MAX + 128], host[64] = "";
    gethostname(host, sizeof host - 1); /* array tasks on several nodes share the folder */
    snprintf(path, sizeof path, "%s/sweep.csv", root);
    snprintf(tmp, sizeof tmp, "%s.%s.%ld.tmp", path, host, (long)getpid());
    int rc = rundir_make(root, err);
    FILE *f = rc ? NULL : fopen(tmp, "w");
    if (!rc && !f)
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write: %s", tmp, strerror(errno));
    if (rc)
        return rc;
    Csv c;
    csv_over(&c, f, tmp);
    csv_text(&c, "index");
    for (int a = 0; a < s->n_axes; a++)
        csv_text(&c, s->axes[a].key);
    rc = csv_end_row(&c, err);
    for (long i = 0; !rc && i < s->count; i++) {
        int choice[SWEEP_MAX_KEYS];
        sweep_choice(s, i, choice);
        csv_textf(&c, "%ld", i);
        for (int a = 0; a < s->n_axes; a++)
            csv_text(&c, s->axes[a].values[choice[a]]);
        rc = csv_end_row(&c, err);
    }
    int bad = ferror(f) || rc;
    if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
        unlink(tmp);
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write: %s", path, strerror(errno));
    }
    return CLRUN_OK;
}
