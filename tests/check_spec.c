/* check_spec.c: tests for the spec module: loading YAML with positions, typed
 * getters and their messages, unknown-key reports, includes, command-line
 * overrides, the write/reload round trip and differences between trees. Each test writes its YAML into a
 * fresh directory under /tmp. */
#include <check.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "spec.h"
#include "suites.h"
#include "testutil.h"

Suite *spec_suite(void);

/* Writes text to test_tmpdir/name (one directory level allowed) and puts its path in path. */
static void write_file(char path[PATH_MAX], const char *name, const char *text)
{
    snprintf(path, PATH_MAX, "%s/%s", test_tmpdir, name);
    char *slash = strrchr(path, '/');
    *slash = '\0';
    mkdir(path, 0700);
    *slash = '/';
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static SpecNode *load_text(char path[PATH_MAX], const char *text)
{
    Err err;
    write_file(path, "x.yaml", text);
    SpecNode *root = spec_load(path, &err);
    ck_assert_msg(root != NULL, "%s", err.msg);
    return root;
}

/* Asserts that err holds "<path><rest>". */
static void assert_msg(const Err *err, const char *path, const char *rest)
{
    size_t len = strlen(path);
    ck_assert_msg(strncmp(err->msg, path, len) == 0, "'%s' does not start with '%s'", err->msg, path);
    ck_assert_str_eq(err->msg + len, rest);
}

static void assert_load_fails(const char *text, const char *rest)
{
    char path[PATH_MAX];
    Err err;
    write_file(path, "bad.yaml", text);
    ck_assert_ptr_null(spec_load(path, &err));
    assert_msg(&err, path, rest);
}

static void override_ok(SpecNode *root, const char *assignment)
{
    Err err;
    ck_assert_msg(spec_override(root, assignment, &err) == CLRUN_OK, "%s", err.msg);
}

static const char *experiment =
    "# quickstart\n"
    "name: quick\n"
    "train:\n"
    "  batch_size: 64\n"
    "  learning_rate: 1e-3\n"
    "  shuffle: yes\n"
    "layers:\n"
    "  - name: conv1\n"
    "    kernel_size: [5, 5]\n"
    "    fitlers: 6\n"
    "  - name: drop1\n"
    "    rate: 0.5\n";

START_TEST(load_keeps_values_and_positions)
{
    char path[PATH_MAX];
    SpecNode *root = load_text(path, experiment);
    ck_assert_int_eq(root->kind, SPEC_MAP);
    ck_assert_int_eq(root->n, 3);

    SpecNode *train = spec_get(root, "train");
    ck_assert_int_eq(train->kind, SPEC_MAP);
    ck_assert_str_eq(train->key, "train");
    ck_assert_str_eq(train->file, path);
    ck_assert_int_eq(train->line, 3);
    ck_assert_int_eq(train->col, 1);
    SpecNode *bs = spec_get(train, "batch_size");
    ck_assert_str_eq(bs->value, "64");
    ck_assert_int_eq(bs->line, 4);
    ck_assert_int_eq(bs->col, 3);

    SpecNode *layers = spec_get(root, "layers");
    ck_assert_int_eq(layers->kind, SPEC_SEQ);
    ck_assert_int_eq(layers->n, 2);
    SpecNode *conv = layers->items[0];
    ck_assert_ptr_null(conv->key);
    ck_assert_int_eq(conv->line, 8);
    ck_assert_int_eq(conv->col, 5);
    SpecNode *ks = spec_get(conv, "kernel_size");
    ck_assert_int_eq(ks->kind, SPEC_SEQ);
    ck_assert_int_eq(ks->n, 2);
    ck_assert_str_eq(ks->items[1]->value, "5");
    ck_assert_int_eq(ks->items[0]->line, 9);
    ck_assert_int_eq(ks->items[0]->col, 19);
    ck_assert_int_eq(ks->items[1]->col, 22);
    spec_free(root);
}
END_TEST

START_TEST(getters_read_typed_values)
{
    char path[PATH_MAX];
    Err err;
    SpecNode *root = load_text(path, "i: -2\n"
                                     "f1: 1e-3\nf2: .5\nf3: 1.0e+2\nf4: 7\n"
                                     "b1: yes\nb2: false\nb3: On\n"
                                     "s1: relu\ns2: \"3\"\n"
                                     "k1: 5\nk2: [3, 4]\n");
    long i = 0, ks[2] = {0, 0};
    double f = 0;
    int b = -1, n = 0;
    const char *s = NULL;

    ck_assert_int_eq(spec_int(root, "i", 1, LONG_MIN, LONG_MAX, &i, &err), CLRUN_OK);
    ck_assert_int_eq(i, -2);
    const char *floats[] = {"f1", "f2", "f3", "f4"};
    const double want[] = {1e-3, 0.5, 100.0, 7.0};
    for (int k = 0; k < 4; k++) {
        ck_assert_int_eq(spec_float(root, floats[k], 1, &f, &err), CLRUN_OK);
        ck_assert_double_eq(f, want[k]);
    }
    ck_assert_int_eq(spec_bool(root, "b1", 1, &b, &err), CLRUN_OK);
    ck_assert_int_eq(b, 1);
    ck_assert_int_eq(spec_bool(root, "b2", 1, &b, &err), CLRUN_OK);
    ck_assert_int_eq(b, 0);
    ck_assert_int_eq(spec_bool(root, "b3", 1, &b, &err), CLRUN_OK);
    ck_assert_int_eq(b, 1);
    ck_assert_int_eq(spec_string(root, "s1", 1, &s, &err), CLRUN_OK);
    ck_assert_str_eq(s, "relu");
    ck_assert_int_eq(spec_string(root, "s2", 1, &s, &err), CLRUN_OK);
    ck_assert_str_eq(s, "3");
    ck_assert_int_eq(spec_ints(root, "k1", 1, LONG_MIN, LONG_MAX, ks, 2, &n, &err), CLRUN_OK);
    ck_assert_int_eq(n, 1);
    ck_assert_int_eq(ks[0], 5);
    ck_assert_int_eq(spec_ints(root, "k2", 1, LONG_MIN, LONG_MAX, ks, 2, &n, &err), CLRUN_OK);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(ks[0], 3);
    ck_assert_int_eq(ks[1], 4);

    /* absent and optional: the default stays */
    i = 42;
    ck_assert_int_eq(spec_int(root, "missing", 0, LONG_MIN, LONG_MAX, &i, &err), CLRUN_OK);
    ck_assert_int_eq(i, 42);
    ck_assert_int_eq(spec_check_unused(root, NULL, &err), CLRUN_OK);
    spec_free(root);
}
END_TEST

START_TEST(getters_report_wrong_types)
{
    char path[PATH_MAX];
    Err err;
    SpecNode *root = load_text(path, "layer:\n"
                                     "  a: abc\n"
                                     "  b: 1.5\n"
                                     "  c: \"3\"\n"
                                     "  d: {x: 1}\n"
                                     "  e: maybe\n"
                                     "  f: [1, x]\n"
                                     "  g: [1, 2, 3]\n"
                                     "  h: 99999999999999999999999\n"
                                     "  i: 1e999\n"
                                     "  j: [1]\n");
    SpecNode *layer = NULL;
    long v, ks[2];
    double f;
    int b, n;
    const char *s;
    ck_assert_int_eq(spec_map(root, "layer", 1, &layer, &err), CLRUN_OK);

    ck_assert_int_eq(spec_int(layer, "a", 1, LONG_MIN, LONG_MAX, &v, &err), CLRUN_EINPUT);
    assert_msg(&err, path, ":2:3: 'a' must be an integer, got 'abc'");
    ck_assert_int_eq(spec_int(layer, "b", 1, LONG_MIN, LONG_MAX, &v, &err), CLRUN_EINPUT);
    assert_msg(&err, path, ":3:3: 'b' must be an integer, got '1.5'");
    ck_assert_int_eq(spec_int(layer, "c", 1, LONG_MIN, LONG_MAX, &v, &err), CLRUN_EINPUT);
    assert_msg(&err, path, ":4:3: 'c' must be an integer, got the quoted string \"3\"");
    ck_assert_int_eq(spec_float(layer, "c", 1, &f, &err), CLRUN_EINPUT);
    assert_msg(&err, path, ":4:3: 'c' must be a number, got the quoted string \"3\"");
    ck_assert_int_eq(spec_string(layer, "d", 1, &s, &err), CLRUN_EINPUT);
    assert_msg(&err, path, ":5:3: 'd' must be a string, got a map");
    ck_assert_int_eq(spec_bool(layer, "e", 1, &b, &err), CLRUN_EINPUT);
    assert_msg(&err, path, ":6:3: 'e' must be true or false, got 'maybe'");
    ck_assert_int_eq(spec_ints(layer, "f", 1, LONG_MIN, LONG_MAX, ks, 2, &n, &err), CLRUN_EINPUT);
    assert_msg(&err, path, ":7:10: 'f' must be an integer, got 'x'");
    ck_assert_int_eq(spec_ints(layer, "g", 1, LONG_MIN, LONG_MAX, ks, 2, &n, &err), CLRUN_EINPUT);
    assert_msg(&err, path, ":8:3: 'g' must have at most 2 values, got 3");
    ck_assert_int_eq(spec_int(layer, "h", 1, LONG_MIN, LONG_MAX, &v, &err), CLRUN_EINPUT);
    assert_msg(&err, path, ":9:3: 'h' is out of range: 99999999999999999999999");
    ck_assert_int_eq(spec_int(layer, "h", 1, 1, 1 << 24, &v, &err), CLRUN_EINPUT);
    assert_msg(&err, path, ":9:3: 'h' must be between 1 and 16777216, got 99999999999999999999999");
    ck_assert_int_eq(spec_int(layer, "filters", 0, 0, 1, &v, &err), CLRUN_OK);
    ck_assert_int_eq(spec_float(layer, "i", 1, &f, &err), CLRUN_EINPUT);
    assert_msg(&err, path, ":10:3: 'i' is out of range: 1e999");
    ck_assert_int_eq(spec_seq(layer, "d", 1, &layer, &err), CLRUN_EINPUT);
    assert_msg(&err, path, ":5:3: 'd' must be a list, got a map");
    ck_assert_int_eq(spec_int(layer, "j", 1, LONG_MIN, LONG_MAX, &v, &err), CLRUN_EINPUT);
    assert_msg(&err, path, ":11:3: 'j' must be an integer, got a list");
    ck_assert_int_eq(spec_int(layer, "filters", 1, LONG_MIN, LONG_MAX, &v, &err), CLRUN_EINPUT);
    assert_msg(&err, path, ":1:1: missing required key 'filters'");
    spec_free(root);
}
END_TEST

START_TEST(unknown_key_is_reported_with_position_and_suggestion)
{
    char path[PATH_MAX];
    Err err;
    SpecNode *root = load_text(path, experiment);
    SpecNode *layers = spec_get(root, "layers"), *train = spec_get(root, "train");
    const char *s;
    long v, ks[2];
    int n;
    double f;

    spec_string(root, "name", 1, &s, &err);
    spec_int(train, "batch_size", 0, 1, 1024, &v, &err);
    spec_float(train, "learning_rate", 0, &f, &err);
    spec_string(layers->items[0], "name", 1, &s, &err);
    spec_ints(layers->items[0], "kernel_size", 1, 1, 64, ks, 2, &n, &err);
    spec_int(layers->items[0], "filters", 0, 1, 1024, &v, &err);
    ck_assert_int_eq(spec_check_unused(layers->items[0], "layer 'conv1'", &err), CLRUN_EINPUT);
    assert_msg(&err, path, ":10:5: unknown key 'fitlers' in layer 'conv1', did you mean 'filters'?");

    /* the first unread key in document order, here with no close match */
    ck_assert_int_eq(spec_check_unused(root, "the experiment", &err), CLRUN_EINPUT);
    assert_msg(&err, path, ":6:3: unknown key 'shuffle' in the experiment");
    spec_free(root);
}
END_TEST

START_TEST(bad_files_are_rejected_with_positions)
{
    Err err;
    assert_load_fails("a: 1\n  b: 2\n",
                      ":2:4: YAML syntax error: mapping values are not allowed in this context");
    assert_load_fails("a: [1, 2\nb: 3\n", ":2:2: YAML syntax error: did not find expected ',' or "
                                          "']' while parsing a flow sequence");
    assert_load_fails("a: 1\nb:\n  c: 2\n  c: 3\n", ":4:3: duplicate key 'c'");
    assert_load_fails("", ": empty file");
    assert_load_fails("# only a comment\n", ": empty file");
    assert_load_fails("- 1\n- 2\n", ":1:1: the top level must be a map of settings");
    assert_load_fails("a: &x 1\nb: *x\n", ":2:4: aliases (*x) are not supported");
    assert_load_fails("a: 1\n---\nb: 2\n", ":2:1: only one YAML document per file is supported");
    assert_load_fails("? [a]\n: 1\n", ":1:3: a key must be a single value");

    ck_assert_ptr_null(spec_load("/nonexistent/x.yaml", &err));
    ck_assert_str_eq(err.msg, "/nonexistent/x.yaml: cannot open: No such file or directory");
}
END_TEST

START_TEST(include_loads_relative_to_the_including_file)
{
    char exp_path[PATH_MAX], model_path[PATH_MAX];
    Err err;
    write_file(model_path, "models/lenet.yaml", "layers:\n  - name: conv1\n    filters: 6\n");
    write_file(exp_path, "experiments/x.yaml", "model: ../models/lenet.yaml\nother: ../nope.yaml\n");
    SpecNode *root = spec_load(exp_path, &err);
    ck_assert_ptr_nonnull(root);

    ck_assert_int_eq(spec_include(root, "model", &err), CLRUN_OK);
    SpecNode *model = spec_get(root, "model");
    ck_assert_int_eq(model->kind, SPEC_MAP);
    ck_assert_str_eq(model->key, "model");
    ck_assert_ptr_nonnull(strstr(model->file, "experiments/../models/lenet.yaml"));
    SpecNode *filters = spec_get(spec_get(model, "layers")->items[0], "filters");
    ck_assert_str_eq(filters->value, "6");
    ck_assert_int_eq(filters->line, 3);
    ck_assert_int_eq(filters->col, 5);

    override_ok(root, "model.layers.conv1.filters=8");
    ck_assert_str_eq(spec_get(spec_get(model, "layers")->items[0], "filters")->value, "8");

    /* already a map, or absent: nothing to do */
    ck_assert_int_eq(spec_include(root, "model", &err), CLRUN_OK);
    ck_assert_ptr_eq(spec_get(root, "model"), model);
    ck_assert_int_eq(spec_include(root, "absent", &err), CLRUN_OK);

    char rest[PATH_MAX + 100];
    snprintf(rest, sizeof rest, ":2:1: 'other': %s/experiments/../nope.yaml: cannot open: No such file or directory",
             test_tmpdir);
    ck_assert_int_eq(spec_include(root, "other", &err), CLRUN_EINPUT);
    assert_msg(&err, exp_path, rest);
    spec_free(root);
}
END_TEST

static void override_fails(SpecNode *root, const char *assignment, const char *msg)
{
    Err err;
    ck_assert_int_eq(spec_override(root, assignment, &err), CLRUN_EINPUT);
    ck_assert_str_eq(err.msg, msg);
}

START_TEST(overrides_set_values_by_path)
{
    char path[PATH_MAX];
    Err err;
    SpecNode *root = load_text(path, experiment);
    long v = 0, ks[2];
    int n;
    double f;
    const char *s;

    override_ok(root, "train.batch_size=128");
    SpecNode *bs = spec_get(spec_get(root, "train"), "batch_size");
    ck_assert_str_eq(bs->key, "batch_size");
    ck_assert_str_eq(bs->file, "<command line>");
    ck_assert_int_eq(bs->line, 0);
    ck_assert_int_eq(spec_int(spec_get(root, "train"), "batch_size", 1, 1, 1024, &v, &err), CLRUN_OK);
    ck_assert_int_eq(v, 128);

    override_ok(root, "layers.0.kernel_size=[3, 2]");
    ck_assert_int_eq(spec_ints(spec_get(root, "layers")->items[0], "kernel_size", 1, 1, 64, ks, 2, &n, &err),
                     CLRUN_OK);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(ks[0], 3);
    ck_assert_int_eq(ks[1], 2);

    override_ok(root, "layers.drop1.rate=0.25");
    ck_assert_int_eq(spec_float(spec_get(root, "layers")->items[1], "rate", 1, &f, &err), CLRUN_OK);
    ck_assert_double_eq(f, 0.25);

    override_ok(root, "train.epochs=3");
    SpecNode *train = spec_get(root, "train");
    ck_assert_str_eq(train->items[train->n - 1]->key, "epochs");
    ck_assert_int_eq(spec_int(train, "epochs", 1, LONG_MIN, LONG_MAX, &v, &err), CLRUN_OK);
    ck_assert_int_eq(v, 3);

    override_ok(root, "name='a, b'");
    ck_assert_int_eq(spec_string(root, "name", 1, &s, &err), CLRUN_OK);
    ck_assert_str_eq(s, "a, b");
    ck_assert_int_eq(spec_get(root, "name")->quoted, 1);

    /* a typo in an override is caught like one in a file */
    override_ok(root, "train.shufle=no");
    spec_get(train, "shuffle");
    spec_get(train, "learning_rate");
    ck_assert_int_eq(spec_check_unused(train, "train", &err), CLRUN_EINPUT);
    ck_assert_str_eq(err.msg, "<command line>: unknown key 'shufle' in train, did you mean 'shuffle'?");
    spec_free(root);
}
END_TEST

/* Layer names with dots (PyTorch's module paths) are addressed whole, the
 * longest name first: layer1.0 is the block, layer1.0.conv1 a layer in it. */
START_TEST(overrides_address_names_with_dots)
{
    char path[PATH_MAX];
    Err err;
    SpecNode *root = load_text(path, "layers:\n"
                                     "  - {name: layer1.0.conv1, type: conv2d, filters: 64}\n"
                                     "  - {name: layer1.0, type: relu}\n"
                                     "  - {name: layer1.0.conv1x, type: conv2d, filters: 64}\n");
    SpecNode *layers = spec_get(root, "layers");
    long v = 0;
    override_ok(root, "layers.layer1.0.conv1.filters=8");
    ck_assert_int_eq(spec_int(layers->items[0], "filters", 1, 1, 1024, &v, &err), CLRUN_OK);
    ck_assert_int_eq(v, 8);
    override_ok(root, "layers.layer1.0.type=tanh");
    ck_assert_str_eq(spec_get(layers->items[1], "type")->value, "tanh");
    override_ok(root, "layers.layer1.0.conv1x.filters=4");
    ck_assert_int_eq(spec_int(layers->items[2], "filters", 1, 1, 1024, &v, &err), CLRUN_OK);
    ck_assert_int_eq(v, 4);
    override_ok(root, "layers.1.type=relu");
    ck_assert_str_eq(spec_get(layers->items[1], "type")->value, "relu");
    ck_assert_int_eq(spec_override(root, "layers.layer1.1.type=relu", &err), CLRUN_EINPUT);
    ck_assert_str_eq(err.msg, "override 'layers.layer1.1.type=relu': 'layers.layer1' not found");
    spec_free(root);
}
END_TEST

START_TEST(overrides_reject_bad_input)
{
    char path[PATH_MAX];
    SpecNode *root = load_text(path, experiment);
    override_fails(root, "train.batch_size", "override 'train.batch_size': expected KEY=VALUE");
    override_fails(root, "=3", "override '=3': expected KEY=VALUE");
    override_fails(root, "trian.batch_size=1", "override 'trian.batch_size=1': 'trian' not found");
    override_fails(root, "layers.conv9.rate=1", "override 'layers.conv9.rate=1': 'layers.conv9' not found");
    override_fails(root, "layers.2=1", "override 'layers.2=1': 'layers.2' not found");
    override_fails(root, "name.x=1", "override 'name.x=1': 'name' is a single value, not a map or list");
    override_fails(root, "train..x=1", "override 'train..x=1': empty part in key 'train..x'");
    override_fails(root, "train.x=", "override 'train.x=': missing value");
    override_fails(root, "train.x=1, 2", "override 'train.x=1, 2': expected one value (write a list as [a, b])");
    override_fails(root, "train.x=[1,",
                   "override 'train.x=[1,': YAML syntax error: did not find expected ',' or ']' "
                   "while parsing a flow sequence");
    spec_free(root);
}
END_TEST

static void assert_same_tree(const SpecNode *a, const SpecNode *b)
{
    ck_assert_int_eq(a->kind, b->kind);
    ck_assert_int_eq(a->n, b->n);
    ck_assert_int_eq(!a->key, !b->key);
    if (a->key)
        ck_assert_str_eq(a->key, b->key);
    if (a->kind == SPEC_SCALAR) {
        ck_assert_str_eq(a->value, b->value);
        ck_assert_int_eq(a->quoted, b->quoted);
    }
    for (int i = 0; i < a->n; i++)
        assert_same_tree(a->items[i], b->items[i]);
}

START_TEST(write_then_reload_gives_the_same_tree)
{
    char path[PATH_MAX], copy_path[PATH_MAX];
    Err err;
    SpecNode *root = load_text(path, "name: quick\n"
                                     "strings: [\"3\", \"yes\", \"a, b\", \"#c\", 'x: y', \"\", plain]\n"
                                     "question:\n  - ?q\n  - x\n"
                                     "\"--- x\": 1\n\"...\": 2\n"
                                     "odd: {\"key: x\": 1, \"tab:\\tx\": 3, \"\": 2, dash: \"-\", colon: a:b}\n"
                                     "text: |\n  two\n  lines\tand tab\n"
                                     "empty:\n"
                                     "none: []\n"
                                     "nothing: {}\n"
                                     "nested: [[1, 2], [a]]\n"
                                     "unicode: \"\\u00fcn\\u00ef\"\n"
                                     /* YAML line breaks and characters it refuses raw */
                                     "\"a\\Nb\": [\"\\x80\\N\\x9f\", \"\\L\\P\\uFFFE\\uFFFF\"]\n"
                                     "layers:\n"
                                     "  - name: conv1\n"
                                     "    kernel_size: [5, 5]\n"
                                     "  - {name: fc, units: 10, act: null}\n");
    override_ok(root, "extra={a: [1, -2.5e3], b: \"q\\\"uote\"}");
    char long_key[1200] = "long_key=[{? "; /* YAML's limit for keys without "?" is 1024 */
    memset(long_key + strlen(long_key), 'k', 1100);
    strcpy(long_key + 1113, ": {x: 1}}]");
    override_ok(root, long_key);

    char *text = NULL;
    size_t size = 0;
    FILE *mem = open_memstream(&text, &size);
    ck_assert_int_eq(spec_write(mem, root, 0), CLRUN_OK);
    fclose(mem);
    write_file(copy_path, "copy.yaml", text);
    ck_assert_ptr_nonnull(strstr(text, "\nlayers:\n  - name: conv1\n    kernel_size: [5, 5]\n"));
    ck_assert_ptr_nonnull(strstr(text, "\nempty:\n"));
    free(text);

    SpecNode *copy = spec_load(copy_path, &err);
    ck_assert_msg(copy != NULL, "%s", err.msg);
    assert_same_tree(root, copy);
    spec_free(copy);
    spec_free(root);
}
END_TEST

/* spec_diff names each setting that differs by its dotted path, passes over
 * the top-level blocks it is told to skip, and compares a path setting by
 * the file it names: a relative path read by spec_path agrees with the
 * absolute one a run's config.yaml holds for it, and with no other. */
START_TEST(diff_names_settings_and_compares_paths_by_file)
{
    char path[PATH_MAX], config_path[PATH_MAX], text[3 * PATH_MAX], diff[256], abs[PATH_MAX];
    Err err;
    write_file(path, "experiments/x.yaml", "data: {folder: ../images}\n"
                                           "train: {epochs: 2, seed: 1}\n"
                                           "layers: [{units: 4}, {units: 3}]\n"
                                           "run: {clrun: a}\nsweep: {train.seed: [1]}\n");
    SpecNode *root = spec_load(path, &err);
    ck_assert_msg(root != NULL, "%s", err.msg);
    snprintf(text, sizeof text, "data: {folder: \"%s/experiments/../images\"}\n"
             "train: {epochs: 3, seed: 1}\nlayers: [{units: 4}, {units: 5}]\n"
             "run: {clrun: b}\nsweep: {train.seed: [1, 2]}\n", test_tmpdir);
    write_file(config_path, "run/config.yaml", text);
    SpecNode *config = spec_load(config_path, &err);
    ck_assert_msg(config != NULL, "%s", err.msg);
    static const char *const skip[] = {"run", "sweep", NULL};

    /* not read as a path yet: its text differs */
    ck_assert_int_eq(spec_diff(config, root, skip, diff, sizeof diff), 3);
    ck_assert_str_eq(diff, "data.folder, train.epochs, layers.1.units");
    ck_assert_int_eq(spec_path(spec_get(spec_get(root, "data"), "folder"), abs, sizeof abs, &err),
                     CLRUN_OK);
    ck_assert_int_eq(spec_diff(config, root, skip, diff, sizeof diff), 2);
    ck_assert_str_eq(diff, "train.epochs, layers.1.units");
    ck_assert_int_eq(spec_diff(config, root, NULL, diff, sizeof diff), 4);
    ck_assert_str_eq(diff, "train.epochs, layers.1.units, run.clrun, sweep.train.seed");
    override_ok(root, "data.folder=../other");
    ck_assert_int_eq(spec_path(spec_get(spec_get(root, "data"), "folder"), abs, sizeof abs, &err),
                     CLRUN_OK);
    ck_assert_int_eq(spec_diff(config, root, skip, diff, sizeof diff), 3);
    ck_assert_str_eq(diff, "data.folder, train.epochs, layers.1.units");
    spec_free(config);
    spec_free(root);
}
END_TEST

Suite *spec_suite(void)
{
    Suite *s = suite_create("spec");
    TCase *tc = tcase_create("spec");
    tcase_add_checked_fixture(tc, test_tmpdir_make, test_tmpdir_remove);
    tcase_add_test(tc, load_keeps_values_and_positions);
    tcase_add_test(tc, getters_read_typed_values);
    tcase_add_test(tc, getters_report_wrong_types);
    tcase_add_test(tc, unknown_key_is_reported_with_position_and_suggestion);
    tcase_add_test(tc, bad_files_are_rejected_with_positions);
    tcase_add_test(tc, include_loads_relative_to_the_including_file);
    tcase_add_test(tc, overrides_set_values_by_path);
    tcase_add_test(tc, overrides_address_names_with_dots);
    tcase_add_test(tc, overrides_reject_bad_input);
    tcase_add_test(tc, write_then_reload_gives_the_same_tree);
    tcase_add_test(tc, diff_names_settings_and_compares_paths_by_file);
    suite_add_tcase(s, tc);
    return s;
}
