/* analysis.c: the analysis table, the `analyses:` list, and what analyses
 * share: finding layers and running examples through the trained graph. */
#include "analysis/analysis.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/csv.h"
#include "rundir.h"
#include "text.h"

static const AnalysisType *const table[] = {
    &analysis_predictions,
    &analysis_features,
    &analysis_filters,
    &analysis_feature_maps,
    &analysis_rsa,
    &analysis_readout,
    &analysis_neighbours,
    &analysis_similarity,
    &analysis_factorized_readout,
    &analysis_preview,
    &analysis_decision_boundary,
};

#define TABLE_SIZE (int)(sizeof table / sizeof table[0])

static int parse_one(Analysis *a, SpecNode *item, const Graph *g, Err *err)
{
    a->spec = item;
    if (item->kind != SPEC_MAP)
        return spec_error(item, err, "an analysis must be a map such as {type: predictions}");
    const char *type = NULL;
    int rc = spec_string(item, "type", 1, &type, err);
    for (int i = 0; !rc && i < TABLE_SIZE && !a->type; i++)
        if (strcmp(table[i]->name, type) == 0)
            a->type = table[i];
    if (!rc && !a->type) {
        char known[256] = "";
        for (int i = 0; i < TABLE_SIZE; i++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s", i ? ", " : "",
                     table[i]->name);
        return spec_error(spec_get(item, "type"), err, "unknown analysis '%s' (known: %s)", type,
                          known);
    }
    const char *name = NULL;
    if (!rc) rc = spec_string(item, "name", 0, &name, err);
    /* the sub-directory is made after training: a name that is a file the run
     * writes (history.csv, SUCCESS) must fail now */
    if (!rc && name && (!text_is_name(name) || rundir_own_file(name) ||
                        strlen(name) >= sizeof a->subdir))
        return spec_error(spec_get(item, "name"), err, "name '%s' must be 1 to %zu letters, "
                          "digits, '_' or '-', and not a file the run writes (its outputs go to "
                          "that sub-directory of the run directory)", name, sizeof a->subdir - 1);
    if (name)
        snprintf(a->subdir, sizeof a->subdir, "%s", name);
    char context[96];
    snprintf(context, sizeof context, "analysis '%s'", type);
    if (!rc) rc = spec_set_context(item, context, err);
    if (!rc) rc = a->type->parse(a, item, g, err);
    return rc ? rc : spec_check_unused(item, NULL, err);
}

/* Whether an analysis writes the same file names whatever its settings
 * (readout.csv, rsa_layers.csv, ...): two of them in one list would overwrite
 * each other's. The others name their files after their layer or folder. */
static int fixed_file_names(const AnalysisType *t)
{
    static const AnalysisType *const fixed[] = {&analysis_predictions, &analysis_rsa,
                                                &analysis_readout, &analysis_neighbours,
                                                &analysis_similarity, &analysis_preview,
                                                &analysis_decision_boundary};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        if (fixed[i] == t)
            return 1;
    return 0;
}

/* Entries of such a type that the list has more than once write into
 * <type>_<index>/ unless named; two named alike are an error. */
static int name_subdirs(AnalysisList *list, Err *err)
{
    for (int i = 0; i < list->n; i++) {
        Analysis *a = &list->items[i];
        for (int j = 0; !a->subdir[0] && fixed_file_names(a->type) && j < list->n; j++)
            if (j != i && list->items[j].type == a->type)
                snprintf(a->subdir, sizeof a->subdir, "%s_%d", a->type->name, i);
    }
    for (int i = 0; i < list->n; i++)
        for (int j = 0; list->items[i].subdir[0] && j < i; j++)
            if (strcmp(list->items[i].subdir, list->items[j].subdir) == 0)
                return spec_error(list->items[i].spec, err, "analyses %d and %d would write into "
                                  "the same directory %s/: give them different names", j, i,
                                  list->items[i].subdir);
    return CLRUN_OK;
}

/* The context of one analysis: its own sub-directory when it has one. */
static AnalysisContext context_of(const Analysis *a, const AnalysisContext *ctx, char *dir,
                                  size_t size)
{
    AnalysisContext c = *ctx;
    if (a->subdir[0]) {
        snprintf(dir, size, "%s/%s", ctx->dir, a->subdir);
        c.dir = dir;
    }
    return c;
}

int analysis_parse_list(AnalysisList *list, SpecNode *analyses, const Graph *g, Err *err)
{
    memset(list, 0, sizeof *list);
    if (!analyses)
        return CLRUN_OK;
    if (analyses->kind != SPEC_SEQ)
        return spec_error(analyses, err, "analyses must be a list of maps with type:");
    if (!(list->items = calloc((size_t)analyses->n + 1, sizeof *list->items)))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    int rc = CLRUN_OK;
    for (int i = 0; i < analyses->n && !rc; i++, list->n++)
        rc = parse_one(&list->items[i], analyses->items[i], g, err);
    return rc ? rc : name_subdirs(list, err);
}

int analysis_check_list(AnalysisList *list, AnalysisContext *ctx, Err *err)
{
    int rc = CLRUN_OK;
    char dir[PATH_MAX];
    for (int i = 0; i < list->n && !rc; i++)
        if (list->items[i].type->check) {
            AnalysisContext c = context_of(&list->items[i], ctx, dir, sizeof dir);
            rc = list->items[i].type->check(&list->items[i], &c, err);
        }
    return rc;
}

int analysis_run_list(AnalysisList *list, AnalysisContext *ctx, Err *err)
{
    for (int i = 0; i < list->n; i++) {
        Analysis *a = &list->items[i];
        char dir[PATH_MAX];
        AnalysisContext c = context_of(a, ctx, dir, sizeof dir);
        if (a->subdir[0] && mkdir(c.dir, 0777) != 0 && errno != EEXIST)
            return err_set(err, CLRUN_ERUNTIME, "%s: cannot make the directory: %s", c.dir,
                           strerror(errno));
        dev_profile_tag(ctx->g->dev, "analysis %s", a->type->name);
        int rc = a->type->run(a, &c, err);
        if (rc)
            return rc;
        if (a->subdir[0])
            printf("Analysis %s: done (in %s/)\n", a->type->name, c.dir);
        else
            printf("Analysis %s: done\n", a->type->name);
    }
    return CLRUN_OK;
}

void analysis_free_list(AnalysisList *list)
{
    for (int i = 0; i < list->n; i++)
        free(list->items[i].state);
    free(list->items);
    memset(list, 0, sizeof *list);
}

/* The node named by a scalar, or an error at it. */
static int find_layer(const SpecNode *name, const Graph *g, Node **out, Err *err)
{
    for (int i = 0; name->kind == SPEC_SCALAR && i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, name->value) == 0) {
            *out = &g->nodes[i];
            return CLRUN_OK;
        }
    return spec_error(name, err, "no layer named '%s' in the model",
                      name->kind == SPEC_SCALAR ? name->value : "?");
}

int analysis_layer(SpecNode *map, const char *key, const Graph *g, Node **out, Err *err)
{
    const char *name = NULL;
    int rc = spec_string(map, key, 1, &name, err);
    return rc ? rc : find_layer(spec_get(map, key), g, out, err);
}

int analysis_layers(SpecNode *map, const char *key, const Graph *g, Node **out, int max, int *n,
                    Err *err)
{
    SpecNode *list = NULL;
    int rc = spec_seq(map, key, 1, &list, err);
    if (!rc && (list->n < 1 || list->n > max))
        return spec_error(list, err, "%s must name 1 to %d layers", key, max);
    for (*n = 0; !rc && *n < list->n; (*n)++)
        rc = find_layer(list->items[*n], g, &out[*n], err);
    return rc;
}

int analysis_activations(AnalysisContext *ctx, Feed *split, int n, Node *node, float **out,
                         int **labels, Err *err)
{
    Graph *g = ctx->g;
    size_t size = (size_t)shape_size(node->out_shape);
    if (n > split->n)
        n = split->n;
    *out = malloc((size_t)(n ? n : 1) * size * sizeof **out);
    *labels = malloc((size_t)(n ? n : 1) * sizeof **labels);
    if (!*out || !*labels)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    g->training = 0;
    int rc = CLRUN_OK;
    for (int start = 0; start < n && !rc; start += g->max_batch) {
        int rows = n - start < g->max_batch ? n - start : g->max_batch;
        rc = feed_batch(split, g, start, rows, &ctx->norm, ctx->labels, err);
        if (!rc) rc = graph_forward_to(g, node, err);
        if (!rc) rc = dev_read(g->dev, node->out, 0, (size_t)rows * size * sizeof(float),
                               *out + (size_t)start * size, err);
        if (!rc) rc = dev_read(g->dev, ctx->labels, 0, (size_t)rows * sizeof(int),
                               *labels + start, err);
    }
    return rc;
}

int analysis_split(SpecNode *map, const char *key, int *is_train, Err *err)
{
    const char *split = "test";
    int rc = spec_string(map, key, 0, &split, err);
    *is_train = strcmp(split, "train") == 0;
    if (!rc && !*is_train && strcmp(split, "test") != 0)
        rc = spec_error(spec_get(map, key), err, "%s must be train or test, got '%s'", key, split);
    return rc;
}

int analysis_write_matrix(const char *path, const char *corner, const char *const *rows,
                          int n_rows, const char *const *cols, int n_cols, const double *m,
                          const char *fmt, Err *err)
{
    Csv f;
    int rc = csv_open(&f, path, "w", err);
    if (rc)
        return rc;
    csv_text(&f, corner);
    for (int c = 0; c < n_cols; c++)
        csv_text(&f, cols[c]);
    rc = csv_end_row(&f, err);
    for (int i = 0; i < n_rows && !rc; i++) {
        csv_text(&f, rows[i]);
        for (int c = 0; c < n_cols; c++)
            csv_number(&f, fmt, m[(size_t)i * n_cols + c]);
        rc = csv_end_row(&f, err);
    }
    int closed = csv_close(&f, err);
    return rc ? rc : closed;
}

void analysis_path(const AnalysisContext *ctx, const char *name, char *out, size_t size)
{
    snprintf(out, size, "%s/%s", ctx->dir, name);
}

int analysis_folder(SpecNode *map, const char *key, char *out, size_t size, Err *err)
{
    const char *value = NULL;
    int rc = spec_string(map, key, 1, &value, err);
    SpecNode *node = spec_get(map, key);
    if (!rc) rc = spec_path(node, out, size, err);
    struct stat st;
    if (!rc && (stat(out, &st) != 0 || !S_ISDIR(st.st_mode)))
        rc = spec_error(node, err, "'%s': %s is not a directory", key, out);
    return rc;
}

/* Loads dir's images into ds and checks that they have the model's input
 * shape and that there are some. */
static int folder_images(const Graph *g, const char *what, const char *dir,
                         const ImageOptions *opt, Dataset *ds, Err *err)
{
    int rc = images_load(ds, dir, opt, err);
    Shape in = g->nodes[0].out_shape;
    long size = (long)ds->c * ds->h * ds->w;
    int same = !rc && size == shape_size(in) &&
               (in.rank != 3 || (in.dim[0] == ds->c && in.dim[1] == ds->h && in.dim[2] == ds->w));
    if (!rc && ds->n == 0)
        rc = err_set(err, CLRUN_EINPUT, "no %s images in %s", what, dir);
    if (!rc && !same) {
        char shape[64];
        shape_format(in, shape, sizeof shape);
        rc = err_set(err, CLRUN_EINPUT, "the %s images in %s are [%d, %d, %d] but the model's "
                     "input is %s (set grayscale and size to match)", what, dir, ds->c, ds->h,
                     ds->w, shape);
    }
    return rc;
}

int analysis_folder_check(const AnalysisContext *ctx, const char *what, const char *dir,
                          const ImageOptions *opt, Dataset *keep, Err *err)
{
    Dataset ds;
    memset(&ds, 0, sizeof ds);
    int rc = folder_images(ctx->g, what, dir, opt, &ds, err);
    if (keep && !rc)
        *keep = ds;
    else
        dataset_free(&ds);
    return rc;
}

int analysis_folder_activations(AnalysisContext *ctx, const char *what, const char *dir,
                                const ImageOptions *opt, Node *layer, FolderSet *s, Err *err)
{
    Graph *g = ctx->g;
    int rc = folder_images(g, what, dir, opt, &s->ds, err);
    if (!rc) rc = feed_upload(&s->data, g, &s->ds, err);
    if (!rc) rc = feed_split(&s->split, what, g, &s->data, 0, s->ds.n, err);
    if (!rc) rc = analysis_activations(ctx, &s->split, s->ds.n, layer, &s->acts, &s->labels, err);
    return rc;
}

void analysis_folder_free(FolderSet *s)
{
    feed_free(&s->split);
    free(s->acts);
    free(s->labels);
    dataset_free(&s->ds);
}
