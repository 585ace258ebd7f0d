/* check_playground.c: tests for the TensorFlow Playground sets
 * (runtime/data/playground.c) and for data_parse, the reader of the data:
 * section (runtime/data/data.c), which needs no files for any source.
 *
 * Generated points are checked against the Playground's own definitions
 * (the analytic spiral, the circle's radii, the XOR quadrants), not against
 * values recorded from the generator. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/data.h"
#include "suites.h"
#include "testutil.h"

/* ---- helpers ---- */

static PlaygroundOptions options(PlaygroundShape shape, int points, double noise, int percent)
{
    PlaygroundOptions o;
    playground_defaults(&o);
    o.shape = shape;
    o.points = points;
    o.noise = noise;
    o.train_percent = percent;
    o.seed = 7;
    return o;
}

static void make(Dataset *ds, const PlaygroundOptions *o, const char *split)
{
    Err err = {""};
    ck_assert_ok(playground_make(ds, o, split, &err), err);
    ck_assert_ptr_null(ds->pixels);
    ck_assert_ptr_nonnull(ds->values);
    ck_assert_int_eq(ds->c, o->n_features);
    ck_assert_int_eq(ds->h, 1);
    ck_assert_int_eq(ds->w, 1);
    ck_assert_int_eq(ds->classes, 2);
}

/* Both splits, concatenated: every point generated, in shuffled order. */
typedef struct {
    int n;
    double x[1024], y[1024];
    int label[1024];
} All;

static void make_all(All *a, const PlaygroundOptions *o)
{
    a->n = 0;
    for (int s = 0; s < 2; s++) {
        Dataset ds;
        make(&ds, o, s ? "test" : "train");
        for (int i = 0; i < ds.n; i++) {
            ck_assert_int_lt(a->n, 1024);
            a->x[a->n] = ds.values[(size_t)i * ds.c];
            a->y[a->n] = ds.values[(size_t)i * ds.c + 1];
            a->label[a->n++] = ds.labels[i];
        }
        dataset_free(&ds);
    }
}

/* ---- the sets ---- */

START_TEST(counts)
{
    static const struct {
        PlaygroundShape shape;
        int points, percent, train, test;
    } cases[] = {
        {PG_SPIRAL, 500, 90, 450, 50},  {PG_SPIRAL, 500, 50, 250, 250},
        {PG_CIRCLE, 500, 10, 50, 450},  {PG_GAUSSIAN, 200, 70, 140, 60},
        {PG_XOR, 500, 90, 450, 50},     {PG_XOR, 501, 50, 250, 251},
        {PG_SPIRAL, 501, 50, 251, 251}, /* the Playground's loops make 251 a side */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        PlaygroundOptions o = options(cases[i].shape, cases[i].points, 0, cases[i].percent);
        Dataset train, test;
        make(&train, &o, "train");
        make(&test, &o, "test");
        ck_assert_msg(train.n == cases[i].train && test.n == cases[i].test,
                      "case %zu: %d/%d", i, train.n, test.n);
        ck_assert_int_eq(playground_count(&o), train.n + test.n);
        int seen[2][2] = {{0}};
        for (int k = 0; k < train.n; k++)
            seen[0][train.labels[k]] = 1;
        for (int k = 0; k < test.n; k++)
            seen[1][test.labels[k]] = 1;
        ck_assert_msg(seen[0][0] && seen[0][1] && seen[1][0] && seen[1][1], "case %zu", i);
        ck_assert_str_eq(train.class_names[0], "negative");
        ck_assert_str_eq(train.class_names[1], "positive");
        dataset_free(&train);
        dataset_free(&test);
    }
}
END_TEST

START_TEST(deterministic)
{
    PlaygroundOptions o = options(PG_GAUSSIAN, 300, 20, 50);
    Dataset a, b, c;
    make(&a, &o, "train");
    make(&b, &o, "train");
    ck_assert_int_eq(a.n, b.n);
    ck_assert_mem_eq(a.values, b.values, (size_t)a.n * a.c * sizeof *a.values);
    ck_assert_mem_eq(a.labels, b.labels, (size_t)a.n);
    o.seed = 8;
    make(&c, &o, "train");
    ck_assert_int_ne(memcmp(a.values, c.values, (size_t)a.n * a.c * sizeof *a.values), 0);
    dataset_free(&a);
    dataset_free(&b);
    dataset_free(&c);
}
END_TEST

/* At noise 0 every point is the Playground's spiral point i of its class:
 * r = i/250 * 5, t = 1.75 * i/250 * 2 pi (+ pi for the negative class). */
START_TEST(spiral_points)
{
    PlaygroundOptions o = options(PG_SPIRAL, 500, 0, 90);
    All *a = malloc(sizeof *a);
    make_all(a, &o);
    ck_assert_int_eq(a->n, 500);
    int used[2][250] = {{0}};
    for (int k = 0; k < a->n; k++) {
        int i = (int)lround(hypot(a->x[k], a->y[k]) / 5 * 250);
        ck_assert_int_lt(i, 250);
        double r = i / 250.0 * 5, t = 1.75 * i / 250.0 * 2 * M_PI + (a->label[k] ? 0 : M_PI);
        ck_assert_msg(fabs(a->x[k] - r * sin(t)) < 1e-5 && fabs(a->y[k] - r * cos(t)) < 1e-5,
                      "point %d (%g, %g) label %d is not spiral point %d", k, a->x[k], a->y[k],
                      a->label[k], i);
        used[a->label[k]][i]++;
    }
    for (int l = 0; l < 2; l++)
        for (int i = 0; i < 250; i++)
            ck_assert_msg(used[l][i] == 1, "class %d point %d seen %d times", l, i, used[l][i]);
    free(a);
}
END_TEST

/* Noise moves each coordinate by at most noise/100 (here 0.5). */
START_TEST(spiral_noise)
{
    PlaygroundOptions o = options(PG_SPIRAL, 500, 50, 50);
    All *a = malloc(sizeof *a);
    make_all(a, &o);
    int off = 0;
    for (int k = 0; k < a->n; k++) {
        double best = INFINITY;
        for (int i = 0; i < 250; i++) {
            double r = i / 250.0 * 5, t = 1.75 * i / 250.0 * 2 * M_PI + (a->label[k] ? 0 : M_PI);
            double dx = fabs(a->x[k] - r * sin(t)), dy = fabs(a->y[k] - r * cos(t));
            double d = dx > dy ? dx : dy;
            best = d < best ? d : best;
        }
        ck_assert_msg(best <= 0.5 + 1e-6, "point %d is %g off the spiral", k, best);
        off += best > 1e-3;
    }
    ck_assert_int_gt(off, 400);
    free(a);
}
END_TEST

START_TEST(circle_labels)
{
    PlaygroundOptions o = options(PG_CIRCLE, 500, 0, 50);
    All *a = malloc(sizeof *a);
    make_all(a, &o);
    int positive = 0;
    for (int k = 0; k < a->n; k++) {
        double r = hypot(a->x[k], a->y[k]);
        if (a->label[k])
            ck_assert_msg(r < 2.5 + 1e-6, "positive point at radius %g", r);
        else
            ck_assert_msg(r >= 3.5 - 1e-6 && r <= 5 + 1e-6, "negative point at radius %g", r);
        positive += a->label[k];
    }
    ck_assert_int_eq(positive, 250);
    free(a);
}
END_TEST

START_TEST(xor_labels)
{
    PlaygroundOptions o = options(PG_XOR, 500, 0, 50);
    All *a = malloc(sizeof *a);
    make_all(a, &o);
    int quadrant[4] = {0};
    for (int k = 0; k < a->n; k++) {
        double x = a->x[k], y = a->y[k];
        ck_assert(fabs(x) >= 0.3 - 1e-6 && fabs(x) <= 5.3 + 1e-6);
        ck_assert(fabs(y) >= 0.3 - 1e-6 && fabs(y) <= 5.3 + 1e-6);
        ck_assert_int_eq(a->label[k], x * y >= 0);
        quadrant[(x > 0) + 2 * (y > 0)]++;
    }
    for (int q = 0; q < 4; q++)
        ck_assert_int_gt(quadrant[q], 80);
    free(a);
}
END_TEST

/* Two clouds at (2, 2) and (-2, -2) with variance 0.5 at noise 0. */
START_TEST(gaussian_clouds)
{
    PlaygroundOptions o = options(PG_GAUSSIAN, 1000, 0, 50);
    All *a = malloc(sizeof *a);
    make_all(a, &o);
    double sum[2] = {0}, sq[2] = {0};
    int n[2] = {0};
    for (int k = 0; k < a->n; k++) {
        int l = a->label[k];
        double c = l ? 2 : -2;
        sum[l] += a->x[k] + a->y[k];
        sq[l] += (a->x[k] - c) * (a->x[k] - c) + (a->y[k] - c) * (a->y[k] - c);
        n[l] += 2;
    }
    for (int l = 0; l < 2; l++) {
        ck_assert_int_eq(n[l], 1000);
        ck_assert_msg(fabs(sum[l] / n[l] - (l ? 2 : -2)) < 0.1, "class %d mean %g", l,
                      sum[l] / n[l]);
        ck_assert_msg(fabs(sq[l] / n[l] - 0.5) < 0.08, "class %d variance %g", l, sq[l] / n[l]);
    }
    free(a);
}
END_TEST

START_TEST(features)
{
    PlaygroundOptions o = options(PG_XOR, 200, 10, 50);
    Dataset base, all, picked;
    make(&base, &o, "train");
    o.n_features = PG_N_FEATURES;
    for (int f = 0; f < PG_N_FEATURES; f++)
        o.features[f] = (PlaygroundFeature)f;
    make(&all, &o, "train");
    o.n_features = 2;
    o.features[0] = PG_SIN_X2;
    o.features[1] = PG_X1X2;
    make(&picked, &o, "train");
    for (int i = 0; i < base.n; i++) {
        double x = base.values[2 * i], y = base.values[2 * i + 1];
        const float *v = all.values + (size_t)i * PG_N_FEATURES;
        double want[PG_N_FEATURES] = {x, y, x * x, y * y, x * y, sin(x), sin(y)};
        for (int f = 0; f < PG_N_FEATURES; f++)
            ck_assert_msg(fabs(v[f] - want[f]) <= 1e-5 * (1 + fabs(want[f])),
                          "point %d feature %s: %g, want %g", i,
                          playground_feature_name((PlaygroundFeature)f), v[f], want[f]);
        ck_assert_float_eq(picked.values[2 * i], v[PG_SIN_X2]);
        ck_assert_float_eq(picked.values[2 * i + 1], v[PG_X1X2]);
    }
    dataset_free(&base);
    dataset_free(&all);
    dataset_free(&picked);
}
END_TEST

START_TEST(bad_options)
{
    PlaygroundOptions o = options(PG_SPIRAL, 500, 0, 50);
    Dataset ds;
    Err err = {""};
    ck_assert_int_eq(playground_make(&ds, &o, "validation", &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "validation"), "%s", err.msg);
    o.noise = 60;
    ck_assert_int_eq(playground_make(&ds, &o, "train", &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "noise"), "%s", err.msg);
    o = options(PG_SPIRAL, 4, 0, 10);
    ck_assert_int_eq(playground_make(&ds, &o, "train", &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "train split empty"), "%s", err.msg);
    o.train_percent = 100;
    ck_assert_int_eq(playground_make(&ds, &o, "train", &err), CLRUN_EINPUT);
    ck_assert_ptr_null(ds.values);
    ck_assert_ptr_null(ds.labels);
}
END_TEST

/* ---- data_parse ---- */

/* Writes yaml as test_tmpdir/file, parses its data: map into d; the tree is
 * freed (d->node with it). */
static int parse(const char *file, const char *yaml, DataSpec *d, Err *err)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", test_tmpdir, file);
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(yaml, fp);
    fclose(fp);
    SpecNode *root = spec_load(path, err);
    ck_assert_msg(root != NULL, "%s", err->msg);
    SpecNode *data = NULL;
    int rc = spec_map(root, "data", 1, &data, err);
    if (!rc)
        rc = data_parse(d, data, err);
    spec_free(root);
    return rc;
}

/* Parsing must fail naming the place (":line:col:") and saying what. */
static void assert_parse_fails(const char *yaml, const char *where, const char *say)
{
    DataSpec d;
    Err err = {""};
    ck_assert_int_eq(parse("exp.yaml", yaml, &d, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, where), "message lacks '%s': %s", where, err.msg);
    ck_assert_msg(strstr(err.msg, say), "message lacks '%s': %s", say, err.msg);
    ck_assert_ptr_null(d.train_dir);
}

START_TEST(parse_playground)
{
    DataSpec d;
    Err err = {""};
    ck_assert_ok(parse("exp.yaml",
                       "data:\n  dataset: playground\n  shape: circle\n  points: 300\n"
                       "  noise: 25\n  train_percent: 90\n  seed: 42\n"
                       "  features: [x1_sq, x2_sq, sin_x1]\n",
                       &d, &err),
                 err);
    ck_assert_int_eq(d.source, DATA_PLAYGROUND);
    ck_assert_str_eq(d.dataset, "playground");
    ck_assert_int_eq(d.playground.shape, PG_CIRCLE);
    ck_assert_int_eq(d.playground.points, 300);
    ck_assert_double_eq(d.playground.noise, 25);
    ck_assert_int_eq(d.playground.train_percent, 90);
    ck_assert_uint_eq(d.playground.seed, 42);
    ck_assert_int_eq(d.playground.n_features, 3);
    ck_assert_int_eq(d.playground.features[0], PG_X1_SQ);
    ck_assert_int_eq(d.playground.features[2], PG_SIN_X1);
    Dataset ds;
    ck_assert_ok(data_load(&d, "test", ".", &ds, &err), err);
    ck_assert_int_eq(ds.n, 30);
    ck_assert_int_eq(ds.c, 3);
    dataset_free(&ds);
    data_spec_free(&d);

    ck_assert_ok(parse("exp.yaml", "data: {dataset: playground}\n", &d, &err), err);
    ck_assert_int_eq(d.playground.shape, PG_SPIRAL);
    ck_assert_int_eq(d.playground.points, 500);
    ck_assert_int_eq(d.playground.train_percent, 50);
    ck_assert_int_eq(d.playground.n_features, 2);
    ck_assert_int_eq(d.playground.features[1], PG_X2);
    ck_assert_int_eq(d.normalize_train, 0);
    ck_assert_double_eq(d.mean[0], 0);
    ck_assert_double_eq(d.std[0], 1);
    ck_assert_double_eq(d.validation_split, 0);
    ck_assert_int_eq(d.limit, 0);
    data_spec_free(&d);
}
END_TEST

START_TEST(parse_playground_errors)
{
    assert_parse_fails("data:\n  dataset: playground\n  shape: hexagon\n", "exp.yaml:3:3:",
                       "unknown shape 'hexagon' (known: spiral, circle, xor, gaussian)");
    assert_parse_fails("data:\n  dataset: playground\n  features: [x1, x3]\n", "exp.yaml:3:18:",
                       "unknown feature 'x3'");
    assert_parse_fails("data:\n  dataset: playground\n  features: [x1, x1]\n", "exp.yaml:3:18:",
                       "listed twice");
    assert_parse_fails("data:\n  dataset: playground\n  features: []\n", "exp.yaml:3:",
                       "at least one");
    assert_parse_fails("data:\n  dataset: playground\n  noise: 51\n", "exp.yaml:3:3:", "0 to 50");
    assert_parse_fails("data:\n  dataset: playground\n  train_percent: 100\n", "exp.yaml:3:3:",
                       "between 1 and 99");
    assert_parse_fails("data:\n  dataset: playground\n  points: 1\n", "exp.yaml:3:3:", "between 2 and");
    assert_parse_fails("data:\n  dataset: playground\n  points: 3\n  train_percent: 10\n",
                       "exp.yaml:3:3:", "train split empty");
    assert_parse_fails("data:\n  dataset: playground\n  seed: -1\n", "exp.yaml:3:3:", "seed");
    assert_parse_fails("data:\n  dataset: playground\n  points: many\n", "exp.yaml:3:3:",
                       "must be an integer");
    assert_parse_fails("data:\n  dataset: playground\n  grayscale: true\n", "exp.yaml:3:3:",
                       "unknown key 'grayscale'");
}
END_TEST

START_TEST(parse_sources)
{
    DataSpec d;
    Err err = {""};
    static const char *const names[] = {"mnist", "fashion-mnist", "cifar10"};
    for (int i = 0; i < 3; i++) {
        char yaml[128];
        snprintf(yaml, sizeof yaml, "data:\n  dataset: %s\n  normalize: train\n", names[i]);
        ck_assert_ok(parse("exp.yaml", yaml, &d, &err), err);
        static const DataSource want[] = {DATA_MNIST, DATA_FASHION_MNIST, DATA_CIFAR10};
        ck_assert_int_eq(d.source, want[i]);
        ck_assert_str_eq(d.dataset, names[i]);
        ck_assert_int_eq(d.normalize_train, 1);
        data_spec_free(&d);
    }
    assert_parse_fails("data:\n  dataset: cifar100\n", "exp.yaml:2:3:",
                       "unknown dataset 'cifar100' (known: mnist, fashion-mnist, cifar10, folder, "
                       "table, playground)");
    assert_parse_fails("data:\n  normalize: train\n", "exp.yaml:1:1:",
                       "missing required key 'dataset'");
    assert_parse_fails("data:\n  dataset: cifar10\n  shape: spiral\n", "exp.yaml:3:3:",
                       "unknown key 'shape' in data");
    assert_parse_fails("data:\n  dataset: mnist\n  train: x\n", "exp.yaml:3:3:",
                       "unknown key 'train'");
}
END_TEST

/* The mnist bundled sample through data_load (the tests run in the repository). */
START_TEST(load_mnist)
{
    DataSpec d;
    Err err = {""};
    ck_assert_ok(parse("exp.yaml", "data: {dataset: mnist, limit: 100}\n", &d, &err), err);
    ck_assert_int_eq(d.limit, 100);
    Dataset ds;
    ck_assert_ok(data_load(&d, "test", ".", &ds, &err), err);
    ck_assert_int_eq(ds.classes, 10);
    ck_assert_ptr_nonnull(ds.pixels);
    dataset_free(&ds);
    ck_assert_int_eq(data_load(&d, "dev", ".", &ds, &err), CLRUN_EINPUT);
    data_spec_free(&d);
}
END_TEST

/* Fashion-MNIST's classes have names (when Debian's package is installed). */
START_TEST(load_fashion_names)
{
    DataSpec d;
    Err err = {""};
    Dataset ds;
    ck_assert_ok(parse("exp.yaml", "data: {dataset: fashion-mnist}\n", &d, &err), err);
    if (data_load(&d, "test", ".", &ds, &err) != CLRUN_OK) {
        printf("check_playground: no Fashion-MNIST (%s); skipped\n", err.msg);
        data_spec_free(&d);
        return;
    }
    ck_assert_int_eq(ds.classes, 10);
    ck_assert_str_eq(ds.class_names[0], "T-shirt/top");
    ck_assert_str_eq(ds.class_names[9], "Ankle boot");
    dataset_free(&ds);
    data_spec_free(&d);
}
END_TEST

START_TEST(parse_trainer_keys)
{
    DataSpec d;
    Err err = {""};
    ck_assert_ok(parse("exp.yaml",
                       "data:\n  dataset: mnist\n  normalize: {mean: 0.1307, std: 0.3081}\n"
                       "  validation_split: 0.2\n  limit: 64\n",
                       &d, &err),
                 err);
    ck_assert_int_eq(d.normalize_train, 0);
    ck_assert_double_eq_tol(d.mean[0], 0.1307, 1e-12);
    ck_assert_double_eq_tol(d.std[0], 0.3081, 1e-12);
    ck_assert_double_eq_tol(d.validation_split, 0.2, 1e-12);
    ck_assert_int_eq(d.limit, 64);
    data_spec_free(&d);

    assert_parse_fails("data:\n  dataset: mnist\n  normalize: {mean: 0.5, std: 0}\n",
                       "exp.yaml:3:", "std must be above 0");
    assert_parse_fails("data:\n  dataset: mnist\n  normalize: {mean: 0.5}\n", "exp.yaml:3:",
                       "missing required key 'std'");
    assert_parse_fails("data:\n  dataset: mnist\n  normalize: {mean: 0.5, std: 1, sd: 2}\n",
                       "exp.yaml:3:", "unknown key 'sd'");
    assert_parse_fails("data:\n  dataset: mnist\n  normalize: test\n", "exp.yaml:3:3:",
                       "{mean: M, std: S}, imagenet or train, got 'test'");
    assert_parse_fails("data:\n  dataset: mnist\n  normalize: [1, 2]\n", "exp.yaml:3:3:",
                       "got a list");
    assert_parse_fails("data:\n  dataset: mnist\n  validation_split: 1\n", "exp.yaml:3:3:",
                       "below 1");
    assert_parse_fails("data:\n  dataset: mnist\n  validation_split: -0.1\n", "exp.yaml:3:3:",
                       "at least 0");
    assert_parse_fails("data:\n  dataset: mnist\n  validation_split: lots\n", "exp.yaml:3:3:",
                       "must be a number");
    assert_parse_fails("data:\n  dataset: mnist\n  limit: 0\n", "exp.yaml:3:3:",
                       "'limit' must be between 1 and");
    assert_parse_fails("data:\n  dataset: mnist\n  limit: 1.5\n", "exp.yaml:3:3:",
                       "must be an integer");
}
END_TEST

/* Folder paths resolve against the YAML file's directory; absolute ones and
 * command-line ones stay as written. */
START_TEST(parse_folder)
{
    DataSpec d;
    Err err = {""};
    char want[512];
    ck_assert_int_eq(mkdir(strcat(strcpy(want, test_tmpdir), "/sub"), 0700), 0);
    ck_assert_ok(parse("sub/exp.yaml",
                       "data:\n  dataset: folder\n  train: imgs/train\n  test: /abs/test\n"
                       "  grayscale: yes\n  invert: true\n  size: [28, 32]\n",
                       &d, &err),
                 err);
    ck_assert_int_eq(d.source, DATA_FOLDER);
    snprintf(want, sizeof want, "%s/sub/imgs/train", test_tmpdir);
    ck_assert_str_eq(d.train_dir, want);
    ck_assert_str_eq(d.test_dir, "/abs/test");
    ck_assert_int_eq(d.images.grayscale, 1);
    ck_assert_int_eq(d.images.invert, 1);
    ck_assert_int_eq(d.images.height, 28);
    ck_assert_int_eq(d.images.width, 32);
    data_spec_free(&d);
    ck_assert_ptr_null(d.train_dir);

    ck_assert_ok(parse("exp.yaml", "data: {dataset: folder, train: a, test: b, size: 64}\n", &d,
                       &err),
                 err);
    ck_assert_int_eq(d.images.height, 64);
    ck_assert_int_eq(d.images.width, 64);
    ck_assert_int_eq(d.images.grayscale, 0);
    data_spec_free(&d);

    /* An override from the command line is relative to the current directory. */
    snprintf(want, sizeof want, "%s/exp.yaml", test_tmpdir);
    SpecNode *root = spec_load(want, &err);
    ck_assert_ok(spec_override(root, "data.train='cmd/train'", &err), err);
    ck_assert_ok(data_parse(&d, spec_get(root, "data"), &err), err);
    ck_assert_str_eq(d.train_dir, "cmd/train");
    snprintf(want, sizeof want, "%s/b", test_tmpdir);
    ck_assert_str_eq(d.test_dir, want);
    data_spec_free(&d);
    spec_free(root);
}
END_TEST

START_TEST(parse_folder_errors)
{
    assert_parse_fails("data:\n  dataset: folder\n  train: a\n", "exp.yaml:1:1:",
                       "missing required key 'test'");
    assert_parse_fails("data:\n  dataset: folder\n  train: ''\n  test: b\n", "exp.yaml:3:3:",
                       "must name a file or directory");
    assert_parse_fails("data:\n  dataset: folder\n  train: {a: 1}\n  test: b\n", "exp.yaml:3:3:",
                       "must be a string");
    assert_parse_fails("data:\n  dataset: folder\n  train: a\n  test: b\n  size: [0, 5]\n",
                       "exp.yaml:5:10:", "between 1 and 4096");
    assert_parse_fails("data:\n  dataset: folder\n  train: a\n  test: b\n  size: [1, 2, 3]\n",
                       "exp.yaml:5:3:", "at most 2 values");
    assert_parse_fails("data:\n  dataset: folder\n  train: a\n  test: b\n  grayscale: maybe\n",
                       "exp.yaml:5:3:", "true or false");
    assert_parse_fails("data:\n  dataset: folder\n  train: a\n  test: b\n  points: 5\n",
                       "exp.yaml:5:3:", "unknown key 'points'");
}
END_TEST

Suite *playground_suite(void)
{
    Suite *s = suite_create("playground");
    TCase *tc = tcase_create("playground");
    tcase_add_test(tc, counts);
    tcase_add_test(tc, deterministic);
    tcase_add_test(tc, spiral_points);
    tcase_add_test(tc, spiral_noise);
    tcase_add_test(tc, circle_labels);
    tcase_add_test(tc, xor_labels);
    tcase_add_test(tc, gaussian_clouds);
    tcase_add_test(tc, features);
    tcase_add_test(tc, bad_options);
    suite_add_tcase(s, tc);
    tc = tcase_create("data_parse");
    tcase_add_checked_fixture(tc, test_tmpdir_make, test_tmpdir_remove);
    tcase_add_test(tc, parse_playground);
    tcase_add_test(tc, parse_playground_errors);
    tcase_add_test(tc, parse_sources);
    tcase_add_test(tc, load_mnist);
    tcase_add_test(tc, load_fashion_names);
    tcase_add_test(tc, parse_trainer_keys);
    tcase_add_test(tc, parse_folder);
    tcase_add_test(tc, parse_folder_errors);
    suite_add_tcase(s, tc);
    return s;
}
