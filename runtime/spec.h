/* spec.h: YAML model and experiment descriptions as a tree that remembers where
 * every node came from, so that any later complaint about a setting can name
 * the file, line and column the user has to fix.
 *
 * Getters mark what they read; spec_check_unused then turns every setting
 * nobody read (usually a typo) into an error instead of a silently ignored key. */
#ifndef CLRUN_SPEC_H
#define CLRUN_SPEC_H

#include <stdio.h>

#include "err.h"

typedef enum { SPEC_SCALAR, SPEC_MAP, SPEC_SEQ } SpecKind;

typedef struct SpecNode SpecNode;
struct SpecNode {
    SpecKind kind;
    const char *file;   /* path as given; "<command line>" for nodes made by spec_override */
    int line, col;      /* 1-based; 0 for nodes made by spec_override. A map member is
                           placed at its key, anything else at its first character. */
    char *key;          /* the key when this node is a map member, else NULL */
    char *value;        /* scalar text (SPEC_SCALAR) */
    int quoted;         /* not a plain scalar (quoted or | >): a string, never a number or bool */
    SpecNode **items;   /* map members (each with key) or sequence items, in order */
    int n;
    int used;           /* set by the getters; spec_check_unused reports members never read */
    int path;           /* read by spec_path: spec_write writes it absolute */
    char *context;      /* what the node belongs to ("layer 'conv1'"), put in its errors */
    /* private */
    char *file_owned;   /* on the root of each loaded file: the allocation behind file */
    char **asked;       /* keys looked up in this map but absent, for "did you mean" */
    int n_asked;
};

/* Loads a YAML file whose top level is a map. NULL and a CLRUN_EINPUT-style
 * message ("file:line:col: ...") on error. */
SpecNode *spec_load(const char *path, Err *err);
/* The same for a document in memory, its positions naming name. */
SpecNode *spec_load_text(const char *name, const char *text, Err *err);
void spec_free(SpecNode *root);

/* If map[key] is a scalar naming a file, loads that file (relative to the directory
 * of the file holding the scalar) and puts its tree in place of the scalar, e.g.
 * `model: ../models/lenet.yaml`. No-op when key is absent or already a map. */
int spec_include(SpecNode *map, const char *key, Err *err);

/* Applies "a.b.c=VALUE": parts walk maps by key and sequences by integer index or
 * by the item whose `name` equals the part; a missing last key in a map is created.
 * VALUE is a YAML flow node ("0.1", "'x'", "[1, 2]", "{a: 1}"). Includes must already
 * have been applied for a path to reach into an included file. */
int spec_override(SpecNode *root, const char *assignment, Err *err);

/* Member of map (NULL when absent or map is not a map); marks it used. */
SpecNode *spec_get(SpecNode *map, const char *key);

/* The largest size a model or data setting may take (units, filters,
 * kernel_size, stride, padding, input sides): sizes and their products then
 * stay far from the limits of int and cl_int. */
#define SPEC_SIZE_MAX (1L << 24)

/* Typed getters. When key is absent *out is left as it is (holding the default)
 * unless required, which fails naming the key and the map's position. A wrong type
 * fails with "file:line:col: 'filters' must be an integer, got 'abc'". A quoted
 * scalar is a string, never a number or bool. Integers and floats use YAML/JSON
 * syntax; an integer outside [lo, hi] fails naming the range (every integer
 * setting goes through spec_int or spec_ints, so none wraps); spec_float
 * accepts integers; spec_bool accepts true/false/yes/no/on/off.
 * spec_string's result points into the tree. */
int spec_int(SpecNode *map, const char *key, int required, long lo, long hi, long *out, Err *err);
int spec_float(SpecNode *map, const char *key, int required, double *out, Err *err);
int spec_bool(SpecNode *map, const char *key, int required, int *out, Err *err);
int spec_string(SpecNode *map, const char *key, int required, const char **out, Err *err);
/* A list of at most max integers or a single integer (kernel_size: 5 or [5, 5]);
 * the count goes to *n. */
int spec_ints(SpecNode *map, const char *key, int required, long lo, long hi, long *out, int max,
              int *n, Err *err);
/* The same for numbers (mean: 0.5 or [0.485, 0.456, 0.406]). */
int spec_floats(SpecNode *map, const char *key, int required, double *out, int max, int *n,
                Err *err);
/* A member that must be a map, or a sequence; *out is the member itself. */
int spec_map(SpecNode *map, const char *key, int required, SpecNode **out, Err *err);
int spec_seq(SpecNode *map, const char *key, int required, SpecNode **out, Err *err);

/* Marks a subtree read, for blocks that are not settings (a run's provenance,
 * a sweep's grid): spec_check_unused then passes over them. NULL is a no-op. */
void spec_mark_used(SpecNode *node);

/* Fails on the first map member in the subtree that was never read:
 * "file:line:col: unknown key 'fitlers' in layer 'conv1', did you mean 'filters'?"
 * The suggestion is a key read or looked up in the same map, within edit distance 2.
 * context may be NULL. */
int spec_check_unused(SpecNode *node, const char *context, Err *err);

/* A scalar's value as a file path: absolute as is, else relative to the
 * directory of the YAML file that holds it (a command-line override's value,
 * at line 0, as is). An empty or too long value is an error at the node.
 * The node is marked a path: spec_write then writes it absolute, so that a
 * run's config.yaml names the same file wherever it lies. */
int spec_path(SpecNode *node, char *out, size_t size, Err *err);

/* Names what a subtree describes, for every error about it or below it:
 * "file:line:col: layer 'conv1': 'filters' must be an integer". */
int spec_set_context(SpecNode *node, const char *context, Err *err);

/* Formats "file:line:col: [context: ]" + message into err; returns CLRUN_EINPUT. */
int spec_error(const SpecNode *node, Err *err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Writes the tree as YAML that spec_load reads back to the same values: block
 * style, flow [a, b] for lists of scalars, quotes only where a plain scalar would
 * read as another type or not parse. indent is the top level's indentation.
 * CLRUN_ERUNTIME when the stream reports a write error. */
int spec_write(FILE *out, const SpecNode *node, int indent);
/* s as a double-quoted YAML scalar (escapes as spec_write's). */
void spec_write_quoted(FILE *out, const char *s);

/* Appends to out (a NUL-terminated list, ", " between) the dotted path of
 * every setting that differs between the trees a and b: a scalar of other
 * text (a path, one spec_path read, by the absolute path spec_write gives
 * it), a key on one side only, a list of another length (list items by
 * index). Members of the top-level map named in skip (a NULL-terminated
 * list; NULL: none) are not compared. Returns how many differ. */
int spec_diff(const SpecNode *a, const SpecNode *b, const char *const *skip, char *out,
              size_t size);

#endif
