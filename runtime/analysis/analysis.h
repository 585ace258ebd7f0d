/* analysis.h: what an experiment looks at once it is trained. Each entry of
 * its `analyses:` list is one row of the analysis table (analysis.c): parsed
 * and checked before training, so a typo fails in a second rather than after
 * an hour, and run afterwards against the trained graph, writing numbers
 * (.csv, .npy) and figures (.png) into the run directory. */
#ifndef CLRUN_ANALYSIS_H
#define CLRUN_ANALYSIS_H

#include "data/data.h"
#include "data/feed.h"
#include "graph.h"
#include "io/npy.h"
#include "spec.h"

/* What an analysis may use: the trained graph and the test split as the
 * trainer feeds it. */
typedef struct {
    Graph *g;
    Feed *train, *test;
    FeedNorm norm;        /* the trainer's normalisation */
    cl_mem labels;        /* a [max_batch] int buffer for feed_batch */
    const char *dir;      /* the run directory */
    const DataSpec *data; /* the experiment's data: section */
    const char *loss;     /* the loss's name, which says how outputs are probabilities */
} AnalysisContext;

typedef struct Analysis Analysis;

typedef struct {
    const char *name;
    /* Reads and checks the entry's keys (layer names against g); fills a->state. */
    int (*parse)(Analysis *a, SpecNode *spec, const Graph *g, Err *err);
    int (*run)(Analysis *a, AnalysisContext *ctx, Err *err);
    /* Optional: checks the entry's input files against the data before
     * training, so that a bad file fails before anything is written. */
    int (*check)(Analysis *a, AnalysisContext *ctx, Err *err);
} AnalysisType;

struct Analysis {
    const AnalysisType *type;
    SpecNode *spec;
    void *state;
    /* The sub-directory of the run directory its files go to: the entry's
     * `name:`, or <type>_<index> when the list has its type more than once
     * (so a ridge and a PLS readout keep both readout.csv); "" for the run
     * directory itself. */
    char subdir[64];
};

typedef struct {
    Analysis *items;
    int n;
} AnalysisList;

/* Parses `analyses:` (a list of maps with `type:`); absent: an empty list. */
int analysis_parse_list(AnalysisList *list, SpecNode *analyses, const Graph *g, Err *err);
int analysis_check_list(AnalysisList *list, AnalysisContext *ctx, Err *err);
int analysis_run_list(AnalysisList *list, AnalysisContext *ctx, Err *err);
void analysis_free_list(AnalysisList *list);

/* ---- for analysis implementations ---- */

/* The node named by map[key] (required), or an error at that key. */
int analysis_layer(SpecNode *map, const char *key, const Graph *g, Node **out, Err *err);
/* The nodes named by the list map[key] (required, 1 to max of them). */
int analysis_layers(SpecNode *map, const char *key, const Graph *g, Node **out, int max, int *n,
                    Err *err);
/* Runs the first n examples of the split through the graph in evaluation
 * mode and returns node's output for each ([n, size(node)] floats, caller
 * frees) and the examples' labels (n ints, caller frees). */
int analysis_activations(AnalysisContext *ctx, Feed *split, int n, Node *node, float **out,
                         int **labels, Err *err);
/* The split named by map[key] ("train" or "test", default test). */
int analysis_split(SpecNode *map, const char *key, int *is_train, Err *err);
/* map[key] as an existing directory: absolute as is, else relative to the
 * YAML file that names it (spec_path). */
int analysis_folder(SpecNode *map, const char *key, char *out, size_t size, Err *err);

/* A folder of labelled images (images_load) on the device and a layer's
 * output for each, rows in the loader's order: class folders, then files,
 * by name. */
typedef struct {
    Dataset ds;
    FeedData data;
    Feed split;
    float *acts; /* [ds.n, size(layer)] */
    int *labels; /* ds.n */
} FolderSet;

/* Loads dir (`what` names it in messages), checks that it has images of the
 * model's input shape and runs them through the graph. */
int analysis_folder_activations(AnalysisContext *ctx, const char *what, const char *dir,
                                const ImageOptions *opt, Node *layer, FolderSet *s, Err *err);
/* The same checks alone, before training (an analysis's check hook); the
 * images are left in *keep when it is not NULL (the caller frees them). */
int analysis_folder_check(const AnalysisContext *ctx, const char *what, const char *dir,
                          const ImageOptions *opt, Dataset *keep, Err *err);
void analysis_folder_free(FolderSet *s);

/* A matrix as CSV (io/csv.h): a header of `corner` and the column names,
 * then a row per row name and its values formatted with fmt. */
int analysis_write_matrix(const char *path, const char *corner, const char *const *rows,
                          int n_rows, const char *const *cols, int n_cols, const double *m,
                          const char *fmt, Err *err);
/* "<dir>/<name>" */
void analysis_path(const AnalysisContext *ctx, const char *name, char *out, size_t size);

extern const AnalysisType analysis_predictions, analysis_features, analysis_filters,
    analysis_feature_maps, analysis_rsa, analysis_readout, analysis_neighbours,
    analysis_similarity, analysis_factorized_readout, analysis_preview,
    analysis_decision_boundary;

#endif
