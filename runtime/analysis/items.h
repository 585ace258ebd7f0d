/* items.h: what the representational analyses (rsa, readout,
 * factorized_readout) compare: which examples of the split they take and how
 * those make their items, from three keys of the analysis entry:
 *
 *   items: class | example | COLUMN    a row of the analysis: a class (its
 *                                      examples' mean features), one example,
 *                                      or one value of a table column (an
 *                                      object: the mean over its images)
 *   order: COLUMN                      items grouped by the column's values
 *                                      (category), for the RDM's blocks
 *   where: {COLUMN: V | [V, ...]}      only the rows whose values are listed
 *
 * COLUMN is a column of the data's table (dataset: table). Items and groups
 * come in the order of their first row in the table (classes in label
 * order), items within a group in theirs, so that targets made from the same
 * table line up; items.csv writes the order out.
 *
 * Targets (.npy) line up by row: either a row per example the split offers
 * (the table's images), averaged over each item's kept examples like the
 * features, or a row per item. Any other count is refused when the analyses
 * are checked, before the network runs. */
#ifndef CLRUN_ITEMS_H
#define CLRUN_ITEMS_H

#include "analysis/analysis.h"

typedef enum { ITEMS_CLASS, ITEMS_EXAMPLE, ITEMS_COLUMN } ItemsKind;

typedef struct {
    ItemsKind kind;
    const char *column;        /* ITEMS_COLUMN's column */
    const char *order;         /* order:'s column, or NULL */
    int order_by_class;        /* without order:, example items grouped by class (rsa) */
    SpecNode *items_node, *order_node, *where; /* for messages; NULL where absent */
} ItemsSpec;

/* Reads items:, order: and where: from an analysis entry; kind is what an
 * absent items: means. Columns are checked against the table by items_make. */
int items_parse(ItemsSpec *s, SpecNode *spec, ItemsKind kind, Err *err);

/* Whether the entry names table columns (items: COLUMN, order: or where:). */
int items_use_table(const ItemsSpec *s);

typedef struct {
    int examples;        /* the split's examples looked at (rows a target may have) */
    int rows;            /* of them, those where: keeps, in the split's order */
    int *row;            /* [rows]: each one's position in the split */
    int *item;           /* [rows]: each one's item */
    int n;               /* items */
    int *count;          /* [n]: rows an item has */
    char (*name)[DATASET_NAME_MAX];       /* [n] */
    int groups;          /* 0: no grouping */
    int *group;          /* [n]: each item's group; items come sorted by it */
    char (*group_name)[DATASET_NAME_MAX]; /* [groups] */
} Items;

/* The items of the first `examples` examples of split (ds its data). Bad
 * columns and where: values that match no row are errors at the key, naming
 * the table's columns; so is an item whose rows disagree on its group
 * (naming both lines). */
int items_make(Items *it, const ItemsSpec *s, const Feed *split, int examples, Err *err);
void items_free(Items *it);

/* One layer whose item features items_features makes: out gets [it->n, p]
 * doubles (the caller frees), the mean over each item's rows of the units
 * cols lists (NULL: all, p being the layer's size). */
typedef struct {
    Node *layer;
    const int *cols;
    int p;
    double *out;
} ItemsLayer;

/* The items' mean features at n layers in one pass of the rows through the
 * graph, a batch at a time, so that only the items' sums are held (a stem's
 * 800,000 units over 5,760 images would not fit) and the network runs once
 * for all the layers rather than once a layer. A pass over 1,000 images or
 * more prints a line every 1,000. */
int items_features(AnalysisContext *ctx, Feed *split, const Items *it, ItemsLayer *layers, int n,
                   Err *err);

/* Targets t (rows per example or per item, see above) as [it->n, units]
 * doubles into *out (the caller frees); a count that is neither is an error
 * at node naming path and both counts. With out NULL only the count is
 * checked. */
int items_targets(const Items *it, const NpyArray *t, const SpecNode *node, const char *path,
                  double **out, Err *err);

/* Reads the targets at path (named at node) and makes the items they stand
 * for: a row per example of the split when the data is a table or s names
 * columns, else (as before tables) the split's first rows examples; then as
 * items_targets (Y NULL: checked only, before the network runs). At least
 * 4 items. *q gets the targets' units. */
int items_with_targets(const ItemsSpec *s, const Feed *split, const char *path,
                       const SpecNode *node, Items *it, double **Y, int *q, Err *err);

/* items.csv: each item's name, group and number of rows, in the analysis' order. */
int items_write(const Items *it, const char *path, Err *err);

#endif
