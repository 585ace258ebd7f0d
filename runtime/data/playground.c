/* playground.c: the TensorFlow Playground's 2-D classification sets,
 * generated in process (see playground_make in dataset.h).
 *
 * The generators follow src/dataset.ts of tensorflow/playground call for call
 * (the same draws in the same order, each Math.random() replaced by one
 * splitmix64 draw), and so do the shuffle and the train/test split of its
 * generateData(), so a set has the Playground's shapes, sizes and noise. */
#include "data/dataset.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

static const char *const shape_names[] = {"spiral", "circle", "xor", "gaussian"};

static const char *const feature_names[PG_N_FEATURES] = {
    "x1", "x2", "x1_sq", "x2_sq", "x1x2", "sin_x1", "sin_x2",
};

static const char *const class_names[2] = {"negative", "positive"};

/* One generated point; label is the Playground's +1 or -1. */
typedef struct {
    double x, y;
    int label;
} Point;

typedef struct {
    Point *p;
    int n;
    uint64_t rng;
} Points;

const char *playground_shape_name(PlaygroundShape shape)
{
    return (unsigned)shape < sizeof shape_names / sizeof shape_names[0] ? shape_names[shape]
                                                                        : NULL;
}

int playground_shape_parse(const char *name)
{
    for (size_t i = 0; i < sizeof shape_names / sizeof shape_names[0]; i++)
        if (strcmp(shape_names[i], name) == 0)
            return (int)i;
    return -1;
}

const char *playground_feature_name(PlaygroundFeature f)
{
    return (unsigned)f < PG_N_FEATURES ? feature_names[f] : NULL;
}

int playground_feature_parse(const char *name)
{
    for (int i = 0; i < PG_N_FEATURES; i++)
        if (strcmp(feature_names[i], name) == 0)
            return i;
    return -1;
}

void playground_defaults(PlaygroundOptions *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->shape = PG_SPIRAL;
    opt->points = 500;
    opt->noise = 0;
    opt->train_percent = 50;
    opt->seed = 0;
    opt->n_features = 2;
    opt->features[0] = PG_X1;
    opt->features[1] = PG_X2;
}

int playground_count(const PlaygroundOptions *opt)
{
    return opt->shape == PG_XOR ? opt->points : 2 * ((opt->points + 1) / 2);
}

/* ---- the Playground's generators ---- */

/* randUniform(a, b) */
static double uniform(Points *s, double a, double b)
{
    return rng_uniform(&s->rng) * (b - a) + a;
}

/* normalRandom(mean, variance): the polar method. s == 0 is redrawn too,
 * where the Playground would produce NaN. */
static double normal(Points *s, double mean, double variance)
{
    double v1, v2, r;
    do {
        v1 = 2 * rng_uniform(&s->rng) - 1;
        v2 = 2 * rng_uniform(&s->rng) - 1;
        r = v1 * v1 + v2 * v2;
    } while (r > 1 || r == 0);
    return mean + sqrt(variance) * sqrt(-2 * log(r) / r) * v1;
}

static void add(Points *s, double x, double y, int label)
{
    s->p[s->n++] = (Point){x, y, label};
}

/* classifySpiralData; half is numSamples / 2, fractional for odd counts. */
static void gen_spiral(Points *s, double half, double noise, double delta, int label)
{
    for (int i = 0; i < half; i++) {
        double r = i / half * 5;
        double t = 1.75 * i / half * 2 * M_PI + delta;
        double x = r * sin(t) + uniform(s, -1, 1) * noise;
        double y = r * cos(t) + uniform(s, -1, 1) * noise;
        add(s, x, y, label);
    }
}

static void spiral(Points *s, int points, double noise)
{
    gen_spiral(s, points / 2.0, noise, 0, 1);
    gen_spiral(s, points / 2.0, noise, M_PI, -1);
}

/* classifyCircleData: a disc of radius 2.5 and a ring from 3.5 to 5; the
 * label is by the noisy point's radius, so noise mislabels some. */
static void circle_half(Points *s, int points, double noise, double r_lo, double r_hi)
{
    const double radius = 5;
    for (int i = 0; i < points / 2.0; i++) {
        double r = uniform(s, r_lo, r_hi);
        double angle = uniform(s, 0, 2 * M_PI);
        double x = r * sin(angle), y = r * cos(angle);
        double nx = uniform(s, -radius, radius) * noise;
        double ny = uniform(s, -radius, radius) * noise;
        add(s, x, y, hypot(x + nx, y + ny) < radius * 0.5 ? 1 : -1);
    }
}

static void circle(Points *s, int points, double noise)
{
    circle_half(s, points, noise, 0, 2.5);
    circle_half(s, points, noise, 3.5, 5);
}

/* classifyXORData: the label is the sign of x*y of the noisy point. */
static void xor_quadrants(Points *s, int points, double noise)
{
    const double padding = 0.3;
    for (int i = 0; i < points; i++) {
        double x = uniform(s, -5, 5);
        x += x > 0 ? padding : -padding;
        double y = uniform(s, -5, 5);
        y += y > 0 ? padding : -padding;
        double nx = uniform(s, -5, 5) * noise;
        double ny = uniform(s, -5, 5) * noise;
        add(s, x, y, (x + nx) * (y + ny) >= 0 ? 1 : -1);
    }
}

/* classifyTwoGaussData: variance 0.5 at noise 0 to 4 at noise 0.5. */
static void gaussian(Points *s, int points, double noise)
{
    double variance = 0.5 + noise * (4 - 0.5) / 0.5;
    for (int i = 0; i < points / 2.0; i++) {
        double x = normal(s, 2, variance), y = normal(s, 2, variance);
        add(s, x, y, 1);
    }
    for (int i = 0; i < points / 2.0; i++) {
        double x = normal(s, -2, variance), y = normal(s, -2, variance);
        add(s, x, y, -1);
    }
}

/* shuffle(): Fisher-Yates from the end, as the Playground writes it. */
static void shuffle(Points *s)
{
    for (int counter = s->n; counter > 0;) {
        int index = (int)(rng_uniform(&s->rng) * counter);
        counter--;
        Point t = s->p[counter];
        s->p[counter] = s->p[index];
        s->p[index] = t;
    }
}

/* ---- the Dataset ---- */

double playground_feature(PlaygroundFeature f, double x, double y)
{
    switch (f) {
    case PG_X1: return x;
    case PG_X2: return y;
    case PG_X1_SQ: return x * x;
    case PG_X2_SQ: return y * y;
    case PG_X1X2: return x * y;
    case PG_SIN_X1: return sin(x);
    case PG_SIN_X2: return sin(y);
    default: return 0;
    }
}

static int check_options(const PlaygroundOptions *opt, Err *err)
{
    if (!playground_shape_name(opt->shape))
        return err_set(err, CLRUN_EINPUT, "playground: unknown shape %d", (int)opt->shape);
    if (opt->points < 2 || opt->points > 10000000)
        return err_set(err, CLRUN_EINPUT, "playground: points must be 2 to 10000000, got %d",
                       opt->points);
    if (!(opt->noise >= 0 && opt->noise <= 50))
        return err_set(err, CLRUN_EINPUT, "playground: noise must be 0 to 50, got %g", opt->noise);
    if (opt->train_percent < 1 || opt->train_percent > 99)
        return err_set(err, CLRUN_EINPUT, "playground: train_percent must be 1 to 99, got %d",
                       opt->train_percent);
    if (opt->n_features < 1 || opt->n_features > PG_N_FEATURES)
        return err_set(err, CLRUN_EINPUT, "playground: 1 to %d features, got %d", PG_N_FEATURES,
                       opt->n_features);
    for (int i = 0; i < opt->n_features; i++)
        if (!playground_feature_name(opt->features[i]))
            return err_set(err, CLRUN_EINPUT, "playground: unknown feature %d",
                           (int)opt->features[i]);
    return CLRUN_OK;
}

/* All points of the set, shuffled. */
static int generate(const PlaygroundOptions *opt, Points *s, Err *err)
{
    static void (*const generators[])(Points *, int, double) = {spiral, circle, xor_quadrants,
                                                                 gaussian};
    memset(s, 0, sizeof *s);
    s->rng = opt->seed;
    s->p = malloc((size_t)playground_count(opt) * sizeof *s->p);
    if (!s->p)
        return err_set(err, CLRUN_ERUNTIME, "playground: out of memory for %d points",
                       opt->points);
    generators[opt->shape](s, opt->points, opt->noise / 100);
    shuffle(s);
    return CLRUN_OK;
}

/* Fills ds with points [from, to) of s. */
static int fill(Dataset *ds, const PlaygroundOptions *opt, const Points *s, int from, int to,
                Err *err)
{
    ds->n = to - from;
    ds->c = opt->n_features;
    ds->h = ds->w = 1;
    ds->classes = 2;
    ds->values = malloc((size_t)(ds->n ? ds->n : 1) * ds->c * sizeof *ds->values);
    ds->labels = malloc((size_t)(ds->n ? ds->n : 1));
    if (!ds->values || !ds->labels)
        return err_set(err, CLRUN_ERUNTIME, "playground: out of memory for %d points", ds->n);
    for (int i = 0; i < ds->n; i++) {
        const Point *p = &s->p[from + i];
        for (int k = 0; k < ds->c; k++)
            ds->values[(size_t)i * ds->c + k] =
                (float)playground_feature(opt->features[k], p->x, p->y);
        ds->labels[i] = p->label > 0;
    }
    return dataset_set_class_names(ds, class_names, 2, err);
}

int playground_make(Dataset *ds, const PlaygroundOptions *opt, const char *split, Err *err)
{
    memset(ds, 0, sizeof *ds);
    int is_test;
    Points s = {0};
    int rc = dataset_split("playground", split, &is_test, err);
    if (!rc)
        rc = check_options(opt, err);
    if (!rc)
        rc = generate(opt, &s, err);
    int cut = (int)((long long)s.n * opt->train_percent / 100);
    if (!rc && (cut == 0 || cut == s.n))
        rc = err_set(err, CLRUN_EINPUT,
                     "playground: train_percent %d of %d points leaves the %s split empty",
                     opt->train_percent, s.n, cut ? "test" : "train");
    if (!rc)
        rc = fill(ds, opt, &s, is_test ? cut : 0, is_test ? s.n : cut, err);
    free(s.p);
    if (rc) {
        dataset_free(ds);
        return rc;
    }
    snprintf(ds->source, sizeof ds->source,
             "TensorFlow Playground %s, %d points, noise %g, seed %llu, %s split of %d%%",
             shape_names[opt->shape], s.n, opt->noise, (unsigned long long)opt->seed, split,
             opt->train_percent);
    return CLRUN_OK;
}
