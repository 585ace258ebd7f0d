/* spec.c: YAML descriptions as position-carrying trees (see spec.h).
 *
 * Built from libyaml's event stream rather than its document API, because the
 * events carry the start mark of every key, which is where a complaint about a
 * setting should point. */
#include "spec.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>
#include <yaml.h>

#include "io/file.h"

#define CMDLINE_FILE "<command line>"
/* Larger YAML is surely not an experiment, and libyaml plus the tree take
 * about 70 bytes of memory per byte of a long list: refused before parsing. */
#define SPEC_MAX_BYTES (1 << 20)
#define MAX_DEPTH 64      /* deeper YAML is surely a mistake; stops runaway recursion */
#define SUGGEST_MAX_LEN 32 /* keys longer than this get no "did you mean" */
#define EXPLICIT_KEY_LEN 200 /* longer keys are written "? key", as escaping can quadruple them */

/* ---- nodes ---- */

static SpecNode *node_new(SpecKind kind, const char *file, int line, int col)
{
    SpecNode *node = calloc(1, sizeof *node);
    if (node) {
        node->kind = kind;
        node->file = file;
        node->line = line;
        node->col = col;
    }
    return node;
}

static int node_append(SpecNode *parent, SpecNode *child)
{
    SpecNode **items = realloc(parent->items, (size_t)(parent->n + 1) * sizeof *items);
    if (!items)
        return -1;
    parent->items = items;
    parent->items[parent->n++] = child;
    return 0;
}

void spec_free(SpecNode *node)
{
    if (!node)
        return;
    for (int i = 0; i < node->n; i++)
        spec_free(node->items[i]);
    for (int i = 0; i < node->n_asked; i++)
        free(node->asked[i]);
    free(node->asked);
    free(node->items);
    free(node->key);
    free(node->value);
    free(node->file_owned);
    free(node->context);
    free(node);
}

/* Puts fresh where old was in parent; fresh takes over old's key and used flag. */
static void replace_item(SpecNode *parent, SpecNode *old, SpecNode *fresh)
{
    for (int i = 0; i < parent->n; i++)
        if (parent->items[i] == old)
            parent->items[i] = fresh;
    fresh->key = old->key;
    fresh->used = old->used;
    old->key = NULL;
    spec_free(old);
}

/* Lookup that does not count as reading the member. */
static SpecNode *member(const SpecNode *map, const char *key)
{
    if (!map || map->kind != SPEC_MAP)
        return NULL;
    for (int i = 0; i < map->n; i++)
        if (strcmp(map->items[i]->key, key) == 0)
            return map->items[i];
    return NULL;
}

/* ---- errors ---- */

static int oom(Err *err)
{
    return err_set(err, CLRUN_ERUNTIME, "out of memory");
}

/* file NULL: message alone; line 0: "file: message"; a context goes before the message. */
static int verror_at(const char *file, int line, int col, const char *context, Err *err,
                     const char *fmt, va_list ap)
{
    char msg[sizeof(Err)];
    vsnprintf(msg, sizeof msg, fmt, ap);
    const char *sep = context ? ": " : "";
    if (!context)
        context = "";
    if (!file)
        return err_set(err, CLRUN_EINPUT, "%s%s%s", context, sep, msg);
    if (line <= 0)
        return err_set(err, CLRUN_EINPUT, "%s: %s%s%s", file, context, sep, msg);
    return err_set(err, CLRUN_EINPUT, "%s:%d:%d: %s%s%s", file, line, col, context, sep, msg);
}

int spec_error(const SpecNode *node, Err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = node ? verror_at(node->file, node->line, node->col, node->context, err, fmt, ap)
                  : verror_at(NULL, 0, 0, NULL, err, fmt, ap);
    va_end(ap);
    return rc;
}

/* A path scalar resolved against the directory of the file that holds it. */
static int resolve_path(const SpecNode *node, char *out, size_t size, Err *err)
{
    const char *value = node->kind == SPEC_SCALAR ? node->value : "";
    if (!value[0])
        return spec_error(node, err, "'%s' must name a file or directory", node->key ? node->key : "value");
    const char *slash = node->file ? strrchr(node->file, '/') : NULL;
    int base = value[0] == '/' || node->line <= 0 || !slash ? 0 : (int)(slash - node->file) + 1;
    if ((size_t)snprintf(out, size, "%.*s%s", base, base ? node->file : "", value) >= size)
        return spec_error(node, err, "path too long: %s", value);
    return CLRUN_OK;
}

int spec_path(SpecNode *node, char *out, size_t size, Err *err)
{
    int rc = resolve_path(node, out, size, err);
    node->path = rc == CLRUN_OK;
    return rc;
}

int spec_set_context(SpecNode *node, const char *context, Err *err)
{
    free(node->context);
    if (!(node->context = strdup(context)))
        return oom(err);
    for (int i = 0; i < node->n; i++) {
        int rc = spec_set_context(node->items[i], context, err);
        if (rc)
            return rc;
    }
    return CLRUN_OK;
}

/* ---- loading ---- */

typedef struct {
    yaml_parser_t parser;
    const char *file;
    int positions; /* 0 for command-line text, whose columns would only mislead */
} Loader;

static int mark_line(const Loader *ld, yaml_mark_t mark)
{
    return ld->positions ? (int)mark.line + 1 : 0;
}

static int mark_col(const Loader *ld, yaml_mark_t mark)
{
    return ld->positions ? (int)mark.column + 1 : 0;
}

static __attribute__((format(printf, 4, 5))) int load_error(const Loader *ld, yaml_mark_t mark, Err *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = verror_at(ld->positions ? ld->file : NULL, mark_line(ld, mark), mark_col(ld, mark), NULL,
                       err, fmt, ap);
    va_end(ap);
    return rc;
}

static int next_event(Loader *ld, yaml_event_t *ev, Err *err)
{
    const yaml_parser_t *p = &ld->parser;
    if (yaml_parser_parse(&ld->parser, ev))
        return CLRUN_OK;
    if (p->error == YAML_MEMORY_ERROR)
        return oom(err);
    if (p->error == YAML_READER_ERROR) /* has an offset but no mark */
        return err_set(err, CLRUN_EINPUT, "%s: cannot read YAML: %s at byte %zu", ld->file,
                       p->problem, p->problem_offset);
    return load_error(ld, p->problem_mark, err, "YAML syntax error: %s%s%s", p->problem,
                      p->context ? " " : "", p->context ? p->context : "");
}

static int parse_node(Loader *ld, yaml_event_t *ev, int depth, SpecNode **out, Err *err);

static int parse_seq(Loader *ld, SpecNode *seq, int depth, Err *err)
{
    for (;;) {
        yaml_event_t ev;
        SpecNode *item;
        int rc = next_event(ld, &ev, err);
        if (rc)
            return rc;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return CLRUN_OK;
        }
        rc = parse_node(ld, &ev, depth + 1, &item, err);
        if (rc)
            return rc;
        if (node_append(seq, item)) {
            spec_free(item);
            return oom(err);
        }
    }
}

/* Reads one "key: value" pair (or the end of the map, leaving *done set). */
static int parse_member(Loader *ld, SpecNode *map, int depth, int *done, Err *err)
{
    yaml_event_t ev;
    SpecNode *value;
    int rc = next_event(ld, &ev, err);
    if (rc)
        return rc;
    if (ev.type == YAML_MAPPING_END_EVENT) {
        *done = 1;
        yaml_event_delete(&ev);
        return CLRUN_OK;
    }
    if (ev.type != YAML_SCALAR_EVENT) {
        rc = load_error(ld, ev.start_mark, err, "a key must be a single value");
        yaml_event_delete(&ev);
        return rc;
    }
    yaml_mark_t at = ev.start_mark;
    char *key = strndup((const char *)ev.data.scalar.value, ev.data.scalar.length);
    yaml_event_delete(&ev);
    if (!key)
        return oom(err);
    if (member(map, key))
        rc = load_error(ld, at, err, "duplicate key '%s'", key);
    if (!rc)
        rc = next_event(ld, &ev, err);
    if (!rc)
        rc = parse_node(ld, &ev, depth + 1, &value, err);
    if (rc) {
        free(key);
        return rc;
    }
    value->key = key;
    value->line = mark_line(ld, at);
    value->col = mark_col(ld, at);
    if (node_append(map, value)) {
        spec_free(value);
        return oom(err);
    }
    return CLRUN_OK;
}

static int parse_map(Loader *ld, SpecNode *map, int depth, Err *err)
{
    int done = 0, rc = CLRUN_OK;
    while (!rc && !done)
        rc = parse_member(ld, map, depth, &done, err);
    return rc;
}

/* Builds the node that ev starts; takes ev over. */
static int parse_node(Loader *ld, yaml_event_t *ev, int depth, SpecNode **out, Err *err)
{
    int line = mark_line(ld, ev->start_mark), col = mark_col(ld, ev->start_mark);
    int rc = CLRUN_OK;
    SpecNode *node = NULL;
    if (ev->type == YAML_SCALAR_EVENT) {
        node = node_new(SPEC_SCALAR, ld->file, line, col);
        if (node) {
            node->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
            node->value = strndup((const char *)ev->data.scalar.value, ev->data.scalar.length);
        }
        rc = node && node->value ? CLRUN_OK : oom(err);
    } else if (ev->type == YAML_SEQUENCE_START_EVENT || ev->type == YAML_MAPPING_START_EVENT) {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        node = node_new(is_map ? SPEC_MAP : SPEC_SEQ, ld->file, line, col);
        if (!node)
            rc = oom(err);
        else if (depth >= MAX_DEPTH)
            rc = load_error(ld, ev->start_mark, err, "nested more than %d levels deep", MAX_DEPTH);
        else
            rc = is_map ? parse_map(ld, node, depth, err) : parse_seq(ld, node, depth, err);
    } else {
        rc = load_error(ld, ev->start_mark, err, "aliases (*%s) are not supported",
                        (const char *)ev->data.alias.anchor);
    }
    yaml_event_delete(ev);
    if (rc) {
        spec_free(node);
        return rc;
    }
    *out = node;
    return CLRUN_OK;
}

static int parse_document(Loader *ld, SpecNode **root, Err *err)
{
    yaml_event_t ev;
    SpecNode *node = NULL;
    int rc = next_event(ld, &ev, err); /* stream start */
    if (rc)
        return rc;
    yaml_event_delete(&ev);
    if ((rc = next_event(ld, &ev, err)))
        return rc;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        return err_set(err, CLRUN_EINPUT, "%s: empty file", ld->file);
    }
    yaml_event_delete(&ev); /* document start */
    if ((rc = next_event(ld, &ev, err)) || (rc = parse_node(ld, &ev, 0, &node, err)))
        return rc;
    if ((rc = next_event(ld, &ev, err)) == CLRUN_OK) { /* document end */
        yaml_event_delete(&ev);
        rc = next_event(ld, &ev, err);
    }
    if (rc == CLRUN_OK) {
        if (ev.type != YAML_STREAM_END_EVENT)
            rc = load_error(ld, ev.start_mark, err, "only one YAML document per file is supported");
        yaml_event_delete(&ev);
    }
    if (rc) {
        spec_free(node);
        return rc;
    }
    *root = node;
    return CLRUN_OK;
}

/* Parses one document from f, or from text when f is NULL. */
static int parse_text(const char *file, int positions, FILE *f, const char *text, SpecNode **root,
                      Err *err)
{
    Loader ld = {.file = file, .positions = positions};
    if (!yaml_parser_initialize(&ld.parser))
        return oom(err);
    if (f)
        yaml_parser_set_input_file(&ld.parser, f);
    else
        yaml_parser_set_input_string(&ld.parser, (const unsigned char *)text, strlen(text));
    int rc = parse_document(&ld, root, err);
    yaml_parser_delete(&ld.parser);
    return rc;
}

/* A document from f or text whose top level is a map, the root owning name. */
static SpecNode *load_map(const char *name, FILE *f, const char *text, Err *err)
{
    SpecNode *root = NULL;
    char *file = strdup(name);
    int rc = file ? parse_text(file, 1, f, text, &root, err) : oom(err);
    if (rc == CLRUN_OK && root->kind != SPEC_MAP)
        spec_error(root, err, "the top level must be a map of settings");
    if (rc || root->kind != SPEC_MAP) {
        spec_free(root);
        free(file);
        return NULL;
    }
    root->file_owned = file;
    return root;
}

SpecNode *spec_load(const char *path, Err *err)
{
    FILE *f = file_open(path, err);
    struct stat st;
    if (f && fstat(fileno(f), &st) == 0 && st.st_size > SPEC_MAX_BYTES) {
        fclose(f);
        err_set(err, CLRUN_EINPUT, "%s: %lld bytes; a YAML file may have at most %d (an experiment "
                "is a few hundred; data belongs in data files)", path, (long long)st.st_size,
                SPEC_MAX_BYTES);
        return NULL;
    }
    if (!f)
        return NULL;
    SpecNode *root = load_map(path, f, NULL, err);
    fclose(f);
    return root;
}

SpecNode *spec_load_text(const char *name, const char *text, Err *err)
{
    return load_map(name, NULL, text, err);
}

/* ---- include ---- */

/* rel as seen from the directory of from_file. */
static char *resolve(const char *from_file, const char *rel)
{
    const char *slash = strrchr(from_file, '/');
    size_t dir = rel[0] == '/' || !slash ? 0 : (size_t)(slash - from_file) + 1;
    char *path = malloc(dir + strlen(rel) + 1);
    if (path) {
        memcpy(path, from_file, dir);
        strcpy(path + dir, rel);
    }
    return path;
}

int spec_include(SpecNode *map, const char *key, Err *err)
{
    SpecNode *name = spec_get(map, key);
    if (!name || name->kind == SPEC_MAP)
        return CLRUN_OK;
    if (name->kind != SPEC_SCALAR)
        return spec_error(name, err, "'%s' must be a file name or a map", key);
    char *path = resolve(name->file, name->value);
    if (!path)
        return oom(err);
    Err inner;
    SpecNode *tree = spec_load(path, &inner);
    free(path);
    if (!tree)
        return spec_error(name, err, "'%s': %s", key, inner.msg);
    replace_item(map, name, tree);
    return CLRUN_OK;
}

/* ---- overrides ---- */

/* A flow node from the command line; wrapped in [] so that "a: b" or "- x"
 * cannot turn into block structure. */
static int parse_override_value(const char *text, SpecNode **out, Err *err)
{
    size_t len = strlen(text);
    char *wrapped = malloc(len + 3);
    SpecNode *seq = NULL;
    if (!wrapped)
        return oom(err);
    snprintf(wrapped, len + 3, "[%s]", text);
    int rc = parse_text(CMDLINE_FILE, 0, NULL, wrapped, &seq, err);
    free(wrapped);
    if (rc)
        return rc;
    if (seq->n == 1) {
        *out = seq->items[0];
        seq->n = 0; /* the value now belongs to the caller */
    } else {
        rc = err_set(err, CLRUN_EINPUT, seq->n ? "expected one value (write a list as [a, b])"
                                               : "missing value");
    }
    spec_free(seq);
    return rc;
}

/* The sequence index that part spells, or -1. */
static long seq_index(const char *part, size_t len)
{
    long v = 0;
    if (len == 0 || len > 9)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (part[i] < '0' || part[i] > '9')
            return -1;
        v = v * 10 + (part[i] - '0');
    }
    return v;
}

static int text_equals(const char *s, const char *part, size_t len)
{
    return s && strlen(s) == len && memcmp(s, part, len) == 0;
}

/* What a path part calls an item: its key in a map, its `name` in a sequence. */
static const char *item_label(const SpecNode *parent, const SpecNode *item)
{
    if (parent->kind == SPEC_MAP)
        return item->key;
    const SpecNode *name = member(item, "name");
    return name && name->kind == SPEC_SCALAR ? name->value : NULL;
}

/* Index of the item that a path part names, or -1. */
static int find_part(const SpecNode *parent, const char *part, size_t len)
{
    long idx = parent->kind == SPEC_SEQ ? seq_index(part, len) : -1;
    if (idx >= 0)
        return idx < parent->n ? (int)idx : -1;
    for (int i = 0; i < parent->n; i++)
        if (text_equals(item_label(parent, parent->items[i]), part, len))
            return i;
    return -1;
}

/* Where the path part from start ends in a list: a name may hold dots
 * (layer2.0.conv1, PyTorch's module paths), so the longest item name that
 * path[start..len) begins with, up to a dot or the end, else end (the next
 * dot). An index stays an index. */
static size_t item_end(const SpecNode *parent, const char *path, size_t start, size_t end,
                       size_t len)
{
    if (parent->kind != SPEC_SEQ || seq_index(path + start, end - start) >= 0)
        return end;
    for (int i = 0; i < parent->n; i++) {
        const char *name = item_label(parent, parent->items[i]);
        size_t n = name ? strlen(name) : 0;
        if (start + n > end && start + n <= len && memcmp(path + start, name, n) == 0 &&
            (start + n == len || path[start + n] == '.'))
            end = start + n;
    }
    return end;
}

/* Walks path[0..len) from root and puts value there; takes value only on success. */
static int place(SpecNode *root, const char *path, size_t len, SpecNode *value, Err *err)
{
    SpecNode *parent = root;
    size_t start = 0;
    for (;;) {
        size_t end = start;
        while (end < len && path[end] != '.')
            end++;
        end = item_end(parent, path, start, end, len);
        if (end == start)
            return err_set(err, CLRUN_EINPUT, "empty part in key '%.*s'", (int)len, path);
        if (parent->kind == SPEC_SCALAR)
            return err_set(err, CLRUN_EINPUT, "'%.*s' is a single value, not a map or list",
                           (int)start - 1, path);
        int i = find_part(parent, path + start, end - start);
        if (i < 0 && (end < len || parent->kind != SPEC_MAP))
            return err_set(err, CLRUN_EINPUT, "'%.*s' not found", (int)end, path);
        if (end < len) {
            parent = parent->items[i];
            start = end + 1;
        } else if (i >= 0) {
            replace_item(parent, parent->items[i], value);
            return CLRUN_OK;
        } else {
            value->key = strndup(path + start, end - start);
            return value->key && node_append(parent, value) == 0 ? CLRUN_OK : oom(err);
        }
    }
}

int spec_override(SpecNode *root, const char *assignment, Err *err)
{
    const char *eq = strchr(assignment, '=');
    SpecNode *value = NULL;
    if (!eq || eq == assignment)
        return err_set(err, CLRUN_EINPUT, "override '%s': expected KEY=VALUE", assignment);
    int rc = parse_override_value(eq + 1, &value, err);
    if (rc == CLRUN_OK) {
        rc = place(root, assignment, (size_t)(eq - assignment), value, err);
        if (rc)
            spec_free(value);
    }
    return rc ? err_prefix(err, rc, "override '%s'", assignment) : CLRUN_OK;
}

/* ---- getters ---- */

static void remember_asked(SpecNode *map, const char *key)
{
    for (int i = 0; i < map->n_asked; i++)
        if (strcmp(map->asked[i], key) == 0)
            return;
    char **asked = realloc(map->asked, (size_t)(map->n_asked + 1) * sizeof *asked);
    if (!asked)
        return; /* only costs a suggestion */
    map->asked = asked;
    if ((asked[map->n_asked] = strdup(key)))
        map->n_asked++;
}

SpecNode *spec_get(SpecNode *map, const char *key)
{
    SpecNode *found = member(map, key);
    if (found)
        found->used = 1;
    else if (map && map->kind == SPEC_MAP)
        remember_asked(map, key);
    return found;
}

static int edit_distance(const char *a, const char *b);

/* A key of map nothing has read that is likely a typo of key ("unit" for
 * "units", "optimiser" for "optimizer"), or NULL. */
static const SpecNode *misspelling(const SpecNode *map, const char *key)
{
    for (int i = 0; map && map->kind == SPEC_MAP && i < map->n; i++) {
        int d = map->items[i]->used ? INT_MAX : edit_distance(map->items[i]->key, key);
        if (d < 3 && d < (int)strlen(key))
            return map->items[i];
    }
    return NULL;
}

/* *found is NULL when key is absent, which is an error only when required;
 * the message then names the unknown key beside it that was meant. */
static int lookup(SpecNode *map, const char *key, int required, SpecNode **found, Err *err)
{
    *found = spec_get(map, key);
    if (*found || !required)
        return CLRUN_OK;
    const SpecNode *typo = misspelling(map, key);
    if (typo)
        return spec_error(typo, err, "unknown key '%s', did you mean '%s'? (missing required key "
                          "'%s')", typo->key, key, key);
    return spec_error(map, err, "missing required key '%s'", key);
}

static int type_error(const SpecNode *node, const char *key, const char *want, Err *err)
{
    if (node->kind != SPEC_SCALAR)
        return spec_error(node, err, "'%s' must be %s, got a %s", key, want,
                          node->kind == SPEC_MAP ? "map" : "list");
    if (node->quoted)
        return spec_error(node, err, "'%s' must be %s, got the quoted string \"%s\"", key, want,
                          node->value);
    return spec_error(node, err, "'%s' must be %s, got '%s'", key, want, node->value);
}

static int plain_scalar(const SpecNode *node)
{
    return node->kind == SPEC_SCALAR && !node->quoted;
}

static int skip_digits(const char **s)
{
    int n = 0;
    for (; **s >= '0' && **s <= '9'; (*s)++)
        n++;
    return n;
}

static int int_syntax(const char *s)
{
    s += *s == '-' || *s == '+';
    return skip_digits(&s) > 0 && *s == '\0';
}

/* YAML 1.2 core schema float, which JSON numbers are a subset of. */
static int float_syntax(const char *s)
{
    s += *s == '-' || *s == '+';
    int digits = skip_digits(&s);
    if (*s == '.') {
        s++;
        digits += skip_digits(&s);
    }
    if (digits == 0)
        return 0;
    if (*s == 'e' || *s == 'E') {
        s++;
        s += *s == '-' || *s == '+';
        if (skip_digits(&s) == 0)
            return 0;
    }
    return *s == '\0';
}

/* An integer in [lo, hi]: anything else, including what does not fit a long,
 * is an error naming the range, so that no value wraps on its way to an int,
 * a cl_int or a product of sizes. */
static int node_long(const SpecNode *node, const char *key, long lo, long hi, long *out, Err *err)
{
    /* 3e9 is a float to YAML, but what the user got wrong is its size */
    int is_float = plain_scalar(node) && float_syntax(node->value);
    double whole = is_float ? strtod(node->value, NULL) : 0;
    int wrong_size = is_float && whole == floor(whole) && (whole < (double)lo || whole > (double)hi);
    if (!plain_scalar(node) || (!int_syntax(node->value) && !wrong_size))
        return type_error(node, key, "an integer", err);
    errno = 0;
    long v = wrong_size ? 0 : strtol(node->value, NULL, 10);
    if (!wrong_size && errno != ERANGE && v >= lo && v <= hi) {
        *out = v;
        return CLRUN_OK;
    }
    if (lo == LONG_MIN && hi == LONG_MAX)
        return spec_error(node, err, "'%s' is out of range: %s", key, node->value);
    if (hi == LONG_MAX)
        return spec_error(node, err, "'%s' must be at least %ld, got %s", key, lo, node->value);
    return spec_error(node, err, "'%s' must be between %ld and %ld, got %s", key, lo, hi,
                      node->value);
}

int spec_int(SpecNode *map, const char *key, int required, long lo, long hi, long *out, Err *err)
{
    SpecNode *node;
    int rc = lookup(map, key, required, &node, err);
    return rc || !node ? rc : node_long(node, key, lo, hi, out, err);
}

static int node_double(const SpecNode *node, const char *key, double *out, Err *err)
{
    if (!plain_scalar(node) || !float_syntax(node->value))
        return type_error(node, key, "a number", err);
    double v = strtod(node->value, NULL);
    if (isinf(v))
        return spec_error(node, err, "'%s' is out of range: %s", key, node->value);
    *out = v;
    return CLRUN_OK;
}

int spec_float(SpecNode *map, const char *key, int required, double *out, Err *err)
{
    SpecNode *node;
    int rc = lookup(map, key, required, &node, err);
    return rc || !node ? rc : node_double(node, key, out, err);
}

int spec_bool(SpecNode *map, const char *key, int required, int *out, Err *err)
{
    static const char *const words[][2] = {{"false", "true"}, {"no", "yes"}, {"off", "on"}};
    SpecNode *node;
    int rc = lookup(map, key, required, &node, err);
    if (rc || !node)
        return rc;
    for (size_t i = 0; plain_scalar(node) && i < sizeof words / sizeof words[0]; i++)
        for (int v = 0; v < 2; v++)
            if (strcasecmp(node->value, words[i][v]) == 0) {
                *out = v;
                return CLRUN_OK;
            }
    return type_error(node, key, "true or false", err);
}

int spec_string(SpecNode *map, const char *key, int required, const char **out, Err *err)
{
    SpecNode *node;
    int rc = lookup(map, key, required, &node, err);
    if (rc || !node)
        return rc;
    if (node->kind != SPEC_SCALAR)
        return type_error(node, key, "a string", err);
    *out = node->value;
    return CLRUN_OK;
}

/* The node of key's values (a scalar or a list of at most max) and their
 * count; *node stays NULL for an optional key that is absent. */
static int values_of(SpecNode *map, const char *key, int required, int max, SpecNode **node,
                     int *count, Err *err)
{
    *node = NULL;
    int rc = lookup(map, key, required, node, err);
    if (rc || !*node)
        return rc;
    *count = (*node)->kind == SPEC_SEQ ? (*node)->n : 1;
    return *count > max ? spec_error(*node, err, "'%s' must have at most %d values, got %d", key,
                                     max, *count)
                        : CLRUN_OK;
}

static SpecNode *value_at(SpecNode *node, int i)
{
    return node->kind == SPEC_SEQ ? node->items[i] : node;
}

int spec_ints(SpecNode *map, const char *key, int required, long lo, long hi, long *out, int max,
              int *n, Err *err)
{
    SpecNode *node;
    int count = 0, rc = values_of(map, key, required, max, &node, &count, err);
    for (int i = 0; node && i < count && !rc; i++)
        rc = node_long(value_at(node, i), key, lo, hi, &out[i], err);
    if (node && rc == CLRUN_OK)
        *n = count;
    return rc;
}

int spec_floats(SpecNode *map, const char *key, int required, double *out, int max, int *n,
                Err *err)
{
    SpecNode *node;
    int count = 0, rc = values_of(map, key, required, max, &node, &count, err);
    for (int i = 0; node && i < count && !rc; i++)
        rc = node_double(value_at(node, i), key, &out[i], err);
    if (node && rc == CLRUN_OK)
        *n = count;
    return rc;
}

static int member_of_kind(SpecNode *map, const char *key, int required, SpecKind kind,
                          SpecNode **out, Err *err)
{
    SpecNode *node;
    int rc = lookup(map, key, required, &node, err);
    if (rc || !node)
        return rc;
    if (node->kind != kind)
        return type_error(node, key, kind == SPEC_MAP ? "a map" : "a list", err);
    *out = node;
    return CLRUN_OK;
}

int spec_map(SpecNode *map, const char *key, int required, SpecNode **out, Err *err)
{
    return member_of_kind(map, key, required, SPEC_MAP, out, err);
}

int spec_seq(SpecNode *map, const char *key, int required, SpecNode **out, Err *err)
{
    return member_of_kind(map, key, required, SPEC_SEQ, out, err);
}

/* ---- unused keys ---- */

/* Optimal string alignment distance: a swap of neighbours ("fitlers") costs 1. */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    int d[SUGGEST_MAX_LEN + 1][SUGGEST_MAX_LEN + 1];
    if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
        return INT_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++)
        for (size_t j = 1; j <= lb; j++) {
            int v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    return d[la][lb];
}

static void consider(const char *candidate, const char *key, const char **best, int *best_d)
{
    int d = edit_distance(candidate, key);
    if (d < *best_d && d < (int)strlen(key)) {
        *best = candidate;
        *best_d = d;
    }
}

/* The key read or looked up in map that key is most likely a typo of, or NULL. */
static const char *suggestion(const SpecNode *map, const char *key)
{
    const char *best = NULL;
    int best_d = 3;
    for (int i = 0; i < map->n; i++)
        if (map->items[i]->used)
            consider(map->items[i]->key, key, &best, &best_d);
    for (int i = 0; i < map->n_asked; i++)
        consider(map->asked[i], key, &best, &best_d);
    return best;
}

void spec_mark_used(SpecNode *node)
{
    if (!node)
        return;
    node->used = 1;
    for (int i = 0; i < node->n; i++)
        spec_mark_used(node->items[i]);
}

int spec_check_unused(SpecNode *node, const char *context, Err *err)
{
    for (int i = 0; node && i < node->n; i++) {
        const SpecNode *it = node->items[i];
        if (node->kind == SPEC_MAP && !it->used) {
            const char *hint = suggestion(node, it->key);
            return spec_error(it, err, "unknown key '%s'%s%s%s%s%s", it->key,
                              context ? " in " : "", context ? context : "",
                              hint ? ", did you mean '" : "", hint ? hint : "", hint ? "'?" : "");
        }
        int rc = spec_check_unused(node->items[i], context, err);
        if (rc)
            return rc;
    }
    return CLRUN_OK;
}

/* ---- writing ---- */

/* The length of the UTF-8 character at s when YAML would not read it back
 * written raw: a C1 control (U+0080 to U+009F; U+0085 is a line break to
 * YAML), the line and paragraph separators U+2028 and U+2029 (breaks too), or
 * the noncharacters U+FFFE and U+FFFF; else 0. Its code point goes to *cp. */
static int unsafe_utf8(const unsigned char *s, unsigned *cp)
{
    if (s[0] == 0xc2 && s[1] >= 0x80 && s[1] <= 0x9f) {
        *cp = s[1];
        return 2;
    }
    if ((s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9)) ||
        (s[0] == 0xef && s[1] == 0xbf && (s[2] == 0xbe || s[2] == 0xbf))) {
        *cp = (s[0] & 0x0fu) << 12 | (s[1] & 0x3fu) << 6 | (s[2] & 0x3fu);
        return 3;
    }
    return 0;
}

/* Whether s reads back as the same plain scalar where it is written (flow: inside [ ]). */
static int plain_ok(const char *s, int flow)
{
    size_t len = strlen(s);
    if (len == 0 || strchr(" \t", s[0]) || strchr(" \t:", s[len - 1]))
        return 0;
    if (strchr("!&*|>'\"%@`#,[]{}", s[0]) || (strchr("-?:", s[0]) && strchr(" \t", s[1])))
        return 0;
    if (strncmp(s, "---", 3) == 0 || strncmp(s, "...", 3) == 0) /* document markers at column 1 */
        return 0;
    /* Inside [ ], libyaml takes a leading '?' as a key indicator whatever follows. */
    if (strstr(s, ": ") || strstr(s, ":\t") || strstr(s, " #") || strstr(s, "\t#") ||
        (flow && (s[0] == '?' || strpbrk(s, ",[]{}:"))))
        return 0;
    unsigned cp;
    for (const char *c = s; *c; c++)
        if ((*c != '\t' && (unsigned char)*c < 0x20) || *c == 0x7f ||
            unsafe_utf8((const unsigned char *)c, &cp))
            return 0;
    return 1;
}

static void write_quoted(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        unsigned cp;
        int len = unsafe_utf8((const unsigned char *)s, &cp);
        if (len) {
            fprintf(out, cp < 0x100 ? "\\x%02x" : "\\u%04x", cp);
            s += len - 1;
        } else if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\x%02x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

void spec_write_quoted(FILE *out, const char *s)
{
    write_quoted(out, s);
}

/* A path setting, absolute, as spec_write writes it: the tree is written
 * elsewhere (a run's config.yaml) and must name the same file from there.
 * The caller frees the result; NULL when out of memory. */
static char *absolute_path(const SpecNode *s)
{
    char rel[PATH_MAX], cwd[PATH_MAX], *abs = NULL;
    Err ignored;
    if (resolve_path(s, rel, sizeof rel, &ignored) != CLRUN_OK)
        snprintf(rel, sizeof rel, "%s", s->value);
    const char *tail = strncmp(rel, "./", 2) == 0 ? rel + 2 : rel;
    if (rel[0] != '/' && getcwd(cwd, sizeof cwd) && asprintf(&abs, "%s/%s", cwd, tail) >= 0)
        return abs;
    return strdup(rel);
}

/* Quoted scalars stay quoted, which keeps a quoted "3" a string. */
static void write_scalar(FILE *out, const SpecNode *s, int flow)
{
    char *abs = s->path ? absolute_path(s) : NULL;
    if (abs)
        write_quoted(out, abs);
    else if (!s->quoted && plain_ok(s->value, flow))
        fputs(s->value, out);
    else
        write_quoted(out, s->value);
    free(abs);
}

static int flow_ok(const SpecNode *seq)
{
    for (int i = 0; i < seq->n; i++) {
        const SpecNode *it = seq->items[i];
        if (it->kind != SPEC_SCALAR || (!it->quoted && !plain_ok(it->value, 1)))
            return 0;
    }
    return 1;
}

static void write_flow_seq(FILE *out, const SpecNode *seq)
{
    fputc('[', out);
    for (int i = 0; i < seq->n; i++) {
        fputs(i ? ", " : "", out);
        write_scalar(out, seq->items[i], 1);
    }
    fputc(']', out);
}

static void write_block(FILE *out, const SpecNode *node, int indent, int first_inline);

/* What follows "key:" or "-" written at indent; a map under "-" starts on the dash's line. */
static void write_value(FILE *out, const SpecNode *v, int indent, int under_dash)
{
    if (v->kind == SPEC_SCALAR) {
        if (v->quoted || v->value[0]) { /* an empty plain scalar is written as nothing */
            fputc(' ', out);
            write_scalar(out, v, 0);
        }
        fputc('\n', out);
    } else if (v->n == 0) {
        fputs(v->kind == SPEC_MAP ? " {}\n" : " []\n", out);
    } else if (v->kind == SPEC_SEQ && flow_ok(v)) {
        fputc(' ', out);
        write_flow_seq(out, v);
        fputc('\n', out);
    } else if (under_dash && v->kind == SPEC_MAP) {
        fputc(' ', out);
        write_block(out, v, indent + 2, 1);
    } else {
        fputc('\n', out);
        write_block(out, v, indent + 2, 0);
    }
}

static void write_block(FILE *out, const SpecNode *node, int indent, int first_inline)
{
    for (int i = 0; i < node->n; i++) {
        const SpecNode *it = node->items[i];
        fprintf(out, "%*s", i == 0 && first_inline ? 0 : indent, "");
        if (node->kind == SPEC_MAP) {
            /* libyaml reads a key over 1024 characters only as an explicit "? key". */
            int explicit_key = strlen(it->key) > EXPLICIT_KEY_LEN;
            fputs(explicit_key ? "? " : "", out);
            if (plain_ok(it->key, 0))
                fputs(it->key, out);
            else
                write_quoted(out, it->key);
            if (explicit_key)
                fprintf(out, "\n%*s", indent, "");
            fputc(':', out);
        } else {
            fputc('-', out);
        }
        write_value(out, it, indent, node->kind == SPEC_SEQ);
    }
}

int spec_write(FILE *out, const SpecNode *node, int indent)
{
    if (node->kind != SPEC_SCALAR && node->n > 0) {
        write_block(out, node, indent, 0);
    } else {
        fprintf(out, "%*s", indent, "");
        if (node->kind == SPEC_SCALAR)
            write_scalar(out, node, 0);
        else
            fputs(node->kind == SPEC_MAP ? "{}" : "[]", out);
        fputc('\n', out);
    }
    return ferror(out) ? CLRUN_ERUNTIME : CLRUN_OK;
}

/* ---- differences between two trees ---- */

static void diff_note(const char *path, char *out, size_t size, int *n)
{
    size_t used = strlen(out);
    if (used + 1 < size)
        snprintf(out + used, size - used, "%s%s", *n ? ", " : "", path);
    ++*n;
}

static void diff_at(const SpecNode *a, const SpecNode *b, const char *path,
                    const char *const *skip, char *out, size_t size, int *n);

static int skipped(const char *key, const char *const *skip)
{
    for (; skip && *skip; skip++)
        if (strcmp(key, *skip) == 0)
            return 1;
    return 0;
}

/* The members of a map: each key of a against b, then the keys b alone has. */
static void diff_maps(const SpecNode *a, const SpecNode *b, const char *path,
                      const char *const *skip, char *out, size_t size, int *n)
{
    char sub[512];
    for (int side = 0; side < 2; side++) {
        const SpecNode *x = side ? b : a, *y = side ? a : b;
        for (int i = 0; i < x->n; i++) {
            const char *key = x->items[i]->key;
            const SpecNode *other = member(y, key);
            if (skipped(key, skip) || (side && other))
                continue;
            snprintf(sub, sizeof sub, "%s%s%s", path, *path ? "." : "", key);
            if (other)
                diff_at(x->items[i], other, sub, NULL, out, size, n);
            else
                diff_note(sub, out, size, n);
        }
    }
}

/* Whether two scalars say the same: a path by the file it names, so that a
 * relative path and the absolute one a config.yaml holds for it agree. */
static int same_scalar(const SpecNode *a, const SpecNode *b)
{
    char *abs_a = a->path ? absolute_path(a) : NULL, *abs_b = b->path ? absolute_path(b) : NULL;
    int same = strcmp(abs_a ? abs_a : a->value, abs_b ? abs_b : b->value) == 0;
    free(abs_a);
    free(abs_b);
    return same;
}

static void diff_at(const SpecNode *a, const SpecNode *b, const char *path,
                    const char *const *skip, char *out, size_t size, int *n)
{
    if (a->kind != b->kind || (a->kind == SPEC_SEQ && a->n != b->n) ||
        (a->kind == SPEC_SCALAR && !same_scalar(a, b))) {
        diff_note(*path ? path : "(the whole file)", out, size, n);
        return;
    }
    if (a->kind == SPEC_MAP) {
        diff_maps(a, b, path, skip, out, size, n);
        return;
    }
    char sub[512];
    for (int i = 0; a->kind == SPEC_SEQ && i < a->n; i++) {
        snprintf(sub, sizeof sub, "%s.%d", path, i);
        diff_at(a->items[i], b->items[i], sub, NULL, out, size, n);
    }
}

int spec_diff(const SpecNode *a, const SpecNode *b, const char *const *skip, char *out,
              size_t size)
{
    int n = 0;
    if (size)
        out[0] = 0;
    diff_at(a, b, "", skip, out, size, &n);
    return n;
}
