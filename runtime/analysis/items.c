/* items.c: the examples an analysis takes and the items they make (see
 * items.h): where: filters, items: and order: groupings by the table's
 * columns, the items' mean features and the targets lined up with them. */
#include "analysis/items.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/csv.h"

enum { ITEMS_PROGRESS = 1000 }; /* images between progress lines of a long pass */

int items_parse(ItemsSpec *s, SpecNode *spec, ItemsKind kind, Err *err)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    const char *items = NULL;
    int rc = spec_string(spec, "items", 0, &items, err);
    s->items_node = spec_get(spec, "items");
    if (!rc && items) {
        s->kind = strcmp(items, "class") == 0     ? ITEMS_CLASS
                  : strcmp(items, "example") == 0 ? ITEMS_EXAMPLE
                                                  : ITEMS_COLUMN;
        s->column = items;
    }
    if (!rc) rc = spec_string(spec, "order", 0, &s->order, err);
    s->order_node = spec_get(spec, "order");
    if (!rc) rc = spec_map(spec, "where", 0, &s->where, err);
    for (int i = 0; !rc && s->where && i < s->where->n; i++) {
        const SpecNode *v = s->where->items[i];
        for (int k = 0; v->kind == SPEC_SEQ && k < v->n && !rc; k++)
            if (v->items[k]->kind != SPEC_SCALAR)
                rc = spec_error(v->items[k], err, "a where: value is a word or number");
        if (!rc && (v->kind == SPEC_MAP || (v->kind == SPEC_SEQ && v->n == 0)))
            rc = spec_error(v, err, "where: %s takes a value or a list of values, such as "
                            "[V3, V6]", v->key);
    }
    spec_mark_used(s->where); /* its keys are the table's columns, checked by items_make */
    return rc;
}

int items_use_table(const ItemsSpec *s)
{
    return s->kind == ITEMS_COLUMN || s->order || s->where;
}

void items_free(Items *it)
{
    free(it->row), free(it->item), free(it->count), free(it->name), free(it->group);
    free(it->group_name);
    memset(it, 0, sizeof *it);
}

/* The table's column called name, or an error at node naming the columns. */
static int column_of(const Dataset *ds, const char *name, const SpecNode *node, int *col,
                     Err *err)
{
    if ((*col = dataset_column(ds, name)) >= 0)
        return CLRUN_OK;
    if (!ds->table)
        return spec_error(node, err, "'%s' is not a column: columns come with dataset: table, "
                          "and %s has none", name, ds->source);
    char names[1024];
    dataset_columns(ds, names, sizeof names);
    return spec_error(node, err, "%s has no column '%s' (its columns are %s)", ds->source, name,
                      names);
}

/* Whether example e (of the whole set) has one of the values v lists. */
static int listed(const Dataset *ds, int e, int col, const SpecNode *v)
{
    const char *cell = dataset_value(ds, e, col);
    if (v->kind == SPEC_SCALAR)
        return strcmp(cell, v->value) == 0;
    for (int k = 0; k < v->n; k++)
        if (strcmp(cell, v->items[k]->value) == 0)
            return 1;
    return 0;
}

/* A value of where: that no example has: most likely a typo. */
static int check_values(const Dataset *ds, int first, int examples, int col, const SpecNode *v,
                        Err *err)
{
    int n = v->kind == SPEC_SEQ ? v->n : 1;
    for (int k = 0; k < n; k++) {
        const SpecNode *one = v->kind == SPEC_SEQ ? v->items[k] : v;
        int seen = 0;
        for (int e = first; e < first + examples && !seen; e++)
            seen = listed(ds, e, col, one);
        if (!seen)
            return spec_error(one, err, "no row of %s has %s '%s'", ds->source, v->key,
                              one->value);
    }
    return CLRUN_OK;
}

/* keep[i] for the split's examples: every where: column holds a listed value. */
static int filter(const ItemsSpec *s, const Dataset *ds, int first, int examples, char *keep,
                  Err *err)
{
    memset(keep, 1, (size_t)examples);
    for (int w = 0; s->where && w < s->where->n; w++) {
        const SpecNode *v = s->where->items[w];
        int col, rc = column_of(ds, v->key, v, &col, err);
        if (!rc) rc = check_values(ds, first, examples, col, v, err);
        if (rc)
            return rc;
        for (int i = 0; i < examples; i++)
            keep[i] = keep[i] && listed(ds, first + i, col, v);
    }
    return CLRUN_OK;
}

/* Class c's name, or its number for a set without names. */
static void class_name(const Dataset *ds, int c, char *out)
{
    if (ds->class_names && c < ds->classes)
        snprintf(out, DATASET_NAME_MAX, "%s", ds->class_names[c]);
    else
        snprintf(out, DATASET_NAME_MAX, "%d", c);
}

/* Numbers the distinct keys of the kept rows, the values of column col in
 * the order they come, or with col < 0 their classes in label order (those
 * present only); id[r] gets row r's, names the n keys. -1: out of memory. */
static int number_keys(const Dataset *ds, const int *row, int rows, int first, int col,
                       int *id, char (*names)[DATASET_NAME_MAX], int *n)
{
    *n = 0;
    if (col < 0) {
        int of_label[256];
        for (int c = 0; c < 256; c++)
            of_label[c] = -1;
        for (int r = 0; r < rows; r++)
            of_label[ds->labels[first + row[r]]] = 0;
        for (int c = 0; c < 256; c++)
            if (of_label[c] == 0) {
                of_label[c] = (*n)++;
                class_name(ds, c, names[of_label[c]]);
            }
        for (int r = 0; r < rows; r++)
            id[r] = of_label[ds->labels[first + row[r]]];
        return 0;
    }
    /* compared as the table has them: a name is cut at DATASET_NAME_MAX */
    const char **keys = malloc((size_t)(rows ? rows : 1) * sizeof *keys);
    if (!keys)
        return -1;
    for (int r = 0; r < rows; r++) {
        const char *key = dataset_value(ds, first + row[r], col);
        int k = *n - 1;
        while (k >= 0 && strcmp(keys[k], key) != 0) /* the last key first: rows come in runs */
            k--;
        if (k < 0) {
            keys[k = (*n)++] = key;
            snprintf(names[k], DATASET_NAME_MAX, "%s", key);
        }
        id[r] = k;
    }
    free(keys);
    return 0;
}

/* Each item's group from its rows, which must agree on it. */
static int item_groups(Items *it, const ItemsSpec *s, const Dataset *ds, int first, int col,
                       Err *err)
{
    int *id = malloc((size_t)it->rows * sizeof *id);
    it->group = malloc((size_t)it->n * sizeof *it->group);
    it->group_name = malloc((size_t)it->rows * sizeof *it->group_name);
    if (!id || !it->group || !it->group_name) {
        free(id);
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    }
    int rc = CLRUN_OK, *first_row = malloc((size_t)it->n * sizeof *first_row);
    if (number_keys(ds, it->row, it->rows, first, col, id, it->group_name, &it->groups))
        free(first_row), first_row = NULL;
    for (int k = 0; first_row && k < it->n; k++)
        first_row[k] = -1;
    for (int r = 0; first_row && r < it->rows && !rc; r++) {
        int k = it->item[r];
        if (first_row[k] < 0) {
            first_row[k] = r;
            it->group[k] = id[r];
        } else if (it->group[k] != id[r])
            rc = spec_error(s->order_node, err, "%s:%d and %s:%d: item '%s' is in %s '%s' and "
                            "'%s'; order: needs one %s for each item", ds->source,
                            dataset_line(ds, first + it->row[first_row[k]]), ds->source,
                            dataset_line(ds, first + it->row[r]), it->name[k], s->order,
                            it->group_name[it->group[k]], it->group_name[id[r]], s->order);
    }
    if (!first_row)
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory");
    free(first_row), free(id);
    return rc;
}

/* Renumbers the items so that they come group by group (a stable sort). */
static int sort_by_group(Items *it, Err *err)
{
    int *to = malloc((size_t)it->n * sizeof *to), *group = malloc((size_t)it->n * sizeof *group);
    char (*name)[DATASET_NAME_MAX] = malloc((size_t)it->n * sizeof *name);
    if (!to || !group || !name) {
        free(to), free(group), free(name);
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    }
    int next = 0;
    for (int g = 0; g < it->groups; g++)
        for (int k = 0; k < it->n; k++)
            if (it->group[k] == g) {
                to[k] = next;
                group[next] = g;
                memcpy(name[next++], it->name[k], sizeof *name);
            }
    for (int r = 0; r < it->rows; r++)
        it->item[r] = to[it->item[r]];
    free(it->group), free(it->name), free(to);
    it->group = group;
    it->name = name;
    return CLRUN_OK;
}

static int count_rows(Items *it, Err *err)
{
    if (!(it->count = calloc((size_t)it->n, sizeof *it->count)))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int r = 0; r < it->rows; r++)
        it->count[it->item[r]]++;
    return CLRUN_OK;
}

/* The kept rows and their items. */
static int make_items(Items *it, const ItemsSpec *s, const Dataset *ds, int first, int col,
                      Err *err)
{
    it->item = malloc((size_t)it->rows * sizeof *it->item);
    it->name = malloc((size_t)it->rows * sizeof *it->name);
    if (!it->item || !it->name)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    if (s->kind != ITEMS_EXAMPLE)
        return number_keys(ds, it->row, it->rows, first, s->kind == ITEMS_COLUMN ? col : -1,
                           it->item, it->name, &it->n)
                   ? err_set(err, CLRUN_ERUNTIME, "out of memory") : CLRUN_OK;
    for (int r = 0; r < it->rows; r++) {
        it->item[r] = r;
        snprintf(it->name[r], sizeof it->name[r], "%d", it->row[r]);
    }
    it->n = it->rows;
    return CLRUN_OK;
}

int items_make(Items *it, const ItemsSpec *s, const Feed *split, int examples, Err *err)
{
    const Dataset *ds = split->data->ds;
    int first = split->first, item_col = -1, order_col = -1, rc = CLRUN_OK;
    memset(it, 0, sizeof *it);
    it->examples = examples;
    if (s->kind == ITEMS_COLUMN)
        rc = column_of(ds, s->column, s->items_node, &item_col, err);
    if (!rc && s->order)
        rc = column_of(ds, s->order, s->order_node, &order_col, err);
    char *keep = rc ? NULL : malloc((size_t)examples + 1);
    it->row = rc ? NULL : malloc(((size_t)examples + 1) * sizeof *it->row);
    if (!rc && (!keep || !it->row))
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory");
    if (!rc) rc = filter(s, ds, first, examples, keep, err);
    for (int i = 0; !rc && i < examples; i++)
        if (keep[i])
            it->row[it->rows++] = i;
    free(keep);
    if (!rc && it->rows == 0)
        rc = spec_error(s->where, err, "where: keeps none of the %s split's %d examples",
                        split->name, examples);
    if (!rc) rc = make_items(it, s, ds, first, item_col, err);
    if (!rc && (s->order || s->order_by_class)) {
        rc = item_groups(it, s, ds, first, order_col, err);
        if (!rc) rc = sort_by_group(it, err);
    }
    if (!rc) rc = count_rows(it, err);
    if (rc)
        items_free(it);
    return rc;
}

/* Adds the batch's rows (acts: rows x dims) into the items' sums. */
static void add_rows(const Items *it, int start, int rows, const float *acts, int dims,
                     const int *cols, int p, double *sum)
{
    for (int b = 0; b < rows; b++) {
        const float *a = acts + (size_t)b * dims;
        double *s = sum + (size_t)it->item[start + b] * p;
        for (int k = 0; k < p; k++)
            s[k] += a[cols ? cols[k] : k];
    }
}

/* One batch's outputs of the layers, added into the items' sums as the
 * forward reaches each (graph_forward_visiting). */
typedef struct {
    Graph *g;
    const Items *it;
    ItemsLayer *layers;
    int start, rows;
    float *acts; /* one layer's outputs at a time */
} BatchSums;

static int add_layer(int l, void *ctx, Err *err)
{
    BatchSums *b = ctx;
    ItemsLayer *layer = &b->layers[l];
    int dims = (int)shape_size(layer->layer->out_shape);
    int rc = dev_read(b->g->dev, layer->layer->out, 0, (size_t)b->rows * dims * sizeof *b->acts,
                      b->acts, err);
    if (!rc)
        add_rows(b->it, b->start, b->rows, b->acts, dims, layer->cols, layer->p, layer->out);
    return rc;
}

/* Progress of a long pass, every ITEMS_PROGRESS images. */
static void progress(const Items *it, const ItemsLayer *layers, int n, int start, int done)
{
    if (it->rows < ITEMS_PROGRESS || done / ITEMS_PROGRESS == start / ITEMS_PROGRESS)
        return;
    printf("  %s%s: %d of %d images\n", layers[0].layer->name, n > 1 ? " and the others" : "",
           done, it->rows);
    fflush(stdout);
}

int items_features(AnalysisContext *ctx, Feed *split, const Items *it, ItemsLayer *layers, int n,
                   Err *err)
{
    Graph *g = ctx->g;
    int dims = 1, batch = g->max_batch, rc = CLRUN_OK;
    for (int l = 0; l < n; l++) {
        int d = (int)shape_size(layers[l].layer->out_shape);
        dims = d > dims ? d : dims;
        layers[l].out = calloc((size_t)it->n * layers[l].p, sizeof *layers[l].out);
        if (!layers[l].out)
            rc = err_set(err, CLRUN_ERUNTIME, "out of memory for layer %s's features",
                         layers[l].layer->name);
    }
    int *examples = malloc((size_t)it->rows * sizeof *examples);
    Node **nodes = malloc((size_t)(n ? n : 1) * sizeof *nodes);
    float *acts = malloc((size_t)batch * dims * sizeof *acts);
    Feed kept = {0};
    if (!rc && (!examples || !nodes || !acts))
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int l = 0; !rc && l < n; l++)
        nodes[l] = layers[l].layer;
    for (int r = 0; !rc && r < it->rows; r++)
        examples[r] = split->first + it->row[r];
    if (!rc) rc = feed_select(&kept, split->name, g, split->data, examples, it->rows, err);
    g->training = 0;
    for (int start = 0; !rc && start < it->rows; start += batch) {
        int rows = it->rows - start < batch ? it->rows - start : batch;
        rc = feed_batch(&kept, g, start, rows, &ctx->norm, ctx->labels, err);
        BatchSums sums = {g, it, layers, start, rows, acts};
        if (!rc) rc = graph_forward_visiting(g, nodes, n, add_layer, &sums, err);
        if (!rc)
            progress(it, layers, n, start, start + rows);
    }
    for (int l = 0; !rc && l < n; l++)
        for (int k = 0; k < it->n; k++)
            for (int j = 0; j < layers[l].p; j++)
                layers[l].out[(size_t)k * layers[l].p + j] /= it->count[k];
    feed_free(&kept);
    free(examples), free(nodes), free(acts);
    for (int l = 0; rc && l < n; l++) {
        free(layers[l].out);
        layers[l].out = NULL;
    }
    return rc;
}

int items_targets(const Items *it, const NpyArray *t, const SpecNode *node, const char *path,
                  double **out, Err *err)
{
    long rows = t->ndim == 2 ? t->shape[0] : -1;
    if (t->ndim != 2 || t->shape[1] < 1)
        return spec_error(node, err, "%s: targets must be items x units", path);
    int per_item = rows == it->n, per_example = rows == it->examples;
    if (!per_item && !per_example)
        return spec_error(node, err, "%s has %ld rows; they must be one per example of the "
                          "split (%d) or one per item of the analysis (%d)", path, rows,
                          it->examples, it->n);
    if (!out)
        return CLRUN_OK;
    int units = (int)t->shape[1];
    if (!(*out = calloc((size_t)it->n * units, sizeof **out)))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    if (per_item) {
        memcpy(*out, t->data, (size_t)it->n * units * sizeof **out);
        return CLRUN_OK;
    }
    for (int r = 0; r < it->rows; r++) {
        const double *src = t->data + (size_t)it->row[r] * units;
        double *dst = *out + (size_t)it->item[r] * units;
        for (int u = 0; u < units; u++)
            dst[u] += src[u] / it->count[it->item[r]];
    }
    return CLRUN_OK;
}

/* The split's examples the targets' rows stand for: all of them when the
 * data is a table or the entry names columns (a count that differs is then
 * refused); otherwise, as before tables, the split's first `rows`. */
static int examples_for(const ItemsSpec *s, const Feed *split, long rows)
{
    if (split->data->ds->table || items_use_table(s))
        return split->n;
    return rows < split->n ? (int)rows : split->n;
}

int items_with_targets(const ItemsSpec *s, const Feed *split, const char *path,
                       const SpecNode *node, Items *it, double **Y, int *q, Err *err)
{
    NpyArray t = {0};
    memset(it, 0, sizeof *it);
    int rc = npy_read_finite(path, &t, err);
    if (!rc && t.ndim == 2 && t.shape[0] > split->n && !split->data->ds->table &&
        !items_use_table(s))
        rc = spec_error(node, err, "%s has %ld items; the %s split offers %d", path, t.shape[0],
                        split->name, split->n);
    if (!rc) rc = items_make(it, s, split, examples_for(s, split, t.shape[0]), err);
    if (!rc) rc = items_targets(it, &t, node, path, Y, err);
    if (!rc && it->n < 4)
        rc = spec_error(node, err, "%s: the analysis has %d items; it needs at least 4", path,
                        it->n);
    *q = rc ? 0 : (int)t.shape[1];
    npy_free(&t);
    return rc;
}

int items_write(const Items *it, const char *path, Err *err)
{
    Csv f;
    int rc = csv_open(&f, path, "w", err);
    if (!rc) rc = csv_header(&f, "item,name,group,rows", err);
    for (int k = 0; k < it->n && !rc; k++) {
        csv_textf(&f, "%d", k);
        csv_text(&f, it->name[k]);
        csv_text(&f, it->groups ? it->group_name[it->group[k]] : "");
        csv_textf(&f, "%d", it->count[k]);
        rc = csv_end_row(&f, err);
    }
    int closed = csv_close(&f, err);
    return rc ? rc : closed;
}
