/* check_similarity.c: the similarity analysis (seed 000) end to end: the
 * pairs it draws (distinct test images of the class), their cosine scores
 * against cosines computed here from the features analysis's .npy, the
 * rating page driven in headless Chromium by tests/rate_in_chromium.py (two
 * raters, the second adding a column to the first's file), Pearson r against
 * a plain C computation from those ratings, and the messages for bad
 * ratings files. Runs build/clrun. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/npy.h"
#include "suites.h"
#include "testutil.h"

enum { PAIRS = 6 };

static char out[1 << 16];

#define SIMILARITY_HEAD \
    "model: ../../models/lake-convnet.yaml\n" \
    "data: {dataset: mnist, limit: 300}\n" \
    "optimizer: {name: sgd, learning_rate: 0.05}\n" \
    "loss: nll\n" \
    "train: {epochs: 1, batch_size: 50}\n" \
    "analyses:\n"

#define SIMILARITY_ITEM "  - {type: similarity, class: 8, pairs: 6, seed: 3, layers: [fc1, conv1]"

/* The pairs of similarity_pairs.csv: images and fc1's cosine and normalised score. */
typedef struct {
    int a[PAIRS], b[PAIRS];
    double cosine[PAIRS], net[PAIRS];
} Pairs;

static void read_pairs(const char *path, Pairs *p)
{
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "no %s", path);
    char line[512];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_msg(strncmp(line, "pair,image_a,image_b,cosine_fc1,net_fc1,cosine_conv1,", 52) == 0,
                  "header %s", line);
    for (int i = 0; i < PAIRS; i++) {
        int number = 0;
        ck_assert_msg(fgets(line, sizeof line, f) && sscanf(line, "%d,%d,%d,%lf,%lf", &number,
                      &p->a[i], &p->b[i], &p->cosine[i], &p->net[i]) == 5, "row %d: %s", i, line);
        ck_assert_int_eq(number, i + 1);
    }
    fclose(f);
}

static double pearson(const double *x, const double *y, int n)
{
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++)
        mx += x[i] / n, my += y[i] / n;
    for (int i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxy / sqrt(sxx * syy);
}

/* Distinct images of class 8; fc1 cosines as computed here from the features. */
static void check_pairs_against_features(const char *dir, const Pairs *p)
{
    char path[256];
    NpyArray feat, labels;
    Err err = {""};
    snprintf(path, sizeof path, "%s/features_fc1_test.npy", dir);
    ck_assert_ok(npy_read(path, &feat, &err), err);
    snprintf(path, sizeof path, "%s/labels_test.npy", dir);
    ck_assert_ok(npy_read(path, &labels, &err), err);
    int dims = (int)feat.shape[1];
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < PAIRS; i++) {
        lo = fmin(lo, p->cosine[i]);
        hi = fmax(hi, p->cosine[i]);
    }
    for (int i = 0; i < PAIRS; i++) {
        ck_assert_int_eq((int)labels.data[p->a[i]], 8);
        ck_assert_int_eq((int)labels.data[p->b[i]], 8);
        for (int j = 0; j < PAIRS; j++)
            ck_assert_msg(p->a[i] != p->b[j] && (i == j || (p->a[i] != p->a[j] &&
                          p->b[i] != p->b[j])), "an image appears twice");
        double ab = 0, aa = 0, bb = 0;
        for (int k = 0; k < dims; k++) {
            double x = feat.data[(size_t)p->a[i] * dims + k], y = feat.data[(size_t)p->b[i] * dims + k];
            ab += x * y, aa += x * x, bb += y * y;
        }
        double want = ab / sqrt(aa * bb);
        ck_assert_msg(fabs(p->cosine[i] - want) < 1e-5, "pair %d: cosine %.6f, want %.6f", i + 1,
                      p->cosine[i], want);
        ck_assert_msg(fabs(p->net[i] - (p->cosine[i] - lo) / (hi - lo)) < 1e-5, "pair %d", i + 1);
    }
    npy_free(&feat);
    npy_free(&labels);
}

/* Rates every pair in the page as `name` (ratings: "r1,r2,..."), optionally
 * adding to earlier; the saved CSV lands in dir. */
static void rate(const char *page, const char *dir, const char *name, const char *ratings,
                 const char *earlier)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "mkdir -p %s && /usr/bin/python3 tests/rate_in_chromium.py %s %s "
             "'%s' %s %s", dir, page, dir, name, ratings, earlier ? earlier : "");
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s:\n%s", cmd, out);
}

static char *slurp(const char *path)
{
    static char text[8192];
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "no %s", path);
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = 0;
    return text;
}

START_TEST(similarity_round_trips_ratings_through_the_rating_page)
{
    char args[1024];
    test_fresh_dir("sim");
    snprintf(args, sizeof args, "run %s --out build/test-tmp/sim",
             test_write_file("sim.yaml", SIMILARITY_HEAD
                             "  - {type: features, layer: fc1}\n" SIMILARITY_ITEM "}\n"));
    ck_assert_msg(clrun(args, out, sizeof out) == 0, "%s", out);
    Pairs p;
    read_pairs("build/test-tmp/sim/similarity_pairs.csv", &p);
    check_pairs_against_features("build/test-tmp/sim", &p);
    check_png("build/test-tmp/sim/similarity_sheet.png");

    static const int ann[PAIRS] = {2, 9, 4, 7, 1, 10}, bob[PAIRS] = {3, 8, 6, 7, 2, 9};
    rate("build/test-tmp/sim/similarity_rating.html", "build/test-tmp/sim-ann", "ann",
         "2,9,4,7,1,10", NULL);
    rate("build/test-tmp/sim/similarity_rating.html", "build/test-tmp/sim-bob", "bob",
         "3,8,6,7,2,9", "build/test-tmp/sim-ann/similarity_ratings.csv");
    char want[1024] = "pair,image_a,image_b,ann,bob\n";
    for (int i = 0; i < PAIRS; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%d,%d,%d,%d,%d\n", i + 1,
                 p.a[i], p.b[i], ann[i], bob[i]);
    ck_assert_str_eq(slurp("build/test-tmp/sim-bob/similarity_ratings.csv"), want);

    test_fresh_dir("sim-rated");
    snprintf(args, sizeof args, "run %s train.epochs=0 --weights build/test-tmp/sim/weights.safetensors "
             "--out build/test-tmp/sim-rated", test_write_file("sim-rated.yaml", SIMILARITY_HEAD
             SIMILARITY_ITEM ", ratings: sim-bob/similarity_ratings.csv}\n"));
    ck_assert_msg(clrun(args, out, sizeof out) == 0, "%s", out);
    Pairs again;
    read_pairs("build/test-tmp/sim-rated/similarity_pairs.csv", &again);
    ck_assert_mem_eq(again.a, p.a, sizeof p.a);
    double human[PAIRS], r = 0;
    for (int i = 0; i < PAIRS; i++)
        human[i] = (ann[i] + bob[i]) / 2.0;
    FILE *f = fopen("build/test-tmp/sim-rated/similarity_people.csv", "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(fscanf(f, "layer,pearson_r,pairs,raters\nfc1,%lf,6,2\n", &r), 1);
    fclose(f);
    double want_r = pearson(again.cosine, human, PAIRS);
    ck_assert_msg(fabs(r - want_r) < 1e-5, "r %.6f, want %.6f", r, want_r);
    check_png("build/test-tmp/sim-rated/similarity_scatter.png");
    check_png("build/test-tmp/sim-rated/similarity_sheet_scored.png");
}
END_TEST

/* A ratings file for the drawn pairs a, b with one defect, by name: each
 * pair i as "i+1,a,b,5" under the header pair,image_a,image_b,ann. */
static const char *bad_ratings(const char *name, const int *a, const int *b)
{
    static char text[2048];
    int n = snprintf(text, sizeof text, "%s\n",
                     strcmp(name, "header") ? "pair,image_a,image_b,ann" : "pair,a,b,ann");
    for (int i = 0; i < PAIRS; i++) {
        int pair = i + 1, ia = a[i], ib = b[i];
        const char *rating = "5";
        if (strcmp(name, "unfilled") == 0 && i == 0)
            rating = "";
        if (strcmp(name, "wrong-images") == 0 && i == 0)
            ia = b[i], ib = a[i];
        if (strcmp(name, "eleven") == 0 && i == 1)
            rating = "11";
        if (strcmp(name, "missing") == 0 && i == 1)
            continue;
        if (strcmp(name, "twice") == 0 && i == 1)
            pair = 1, ia = a[0], ib = b[0];
        n += snprintf(text + n, sizeof text - (size_t)n, "%d,%d,%d,%s\n", pair, ia, ib, rating);
    }
    return text;
}

/* Each broken ratings file: exit 2 and a message naming the file and line,
 * before any training (the first case also with an epoch to train). The
 * template has one rater's column. */
START_TEST(bad_ratings_name_the_file_and_line)
{
    char args[1024], yaml[1024];
    test_fresh_dir("sim-template");
    snprintf(args, sizeof args, "run %s train.epochs=0 --out build/test-tmp/sim-template",
             test_write_file("sim-template.yaml", SIMILARITY_HEAD SIMILARITY_ITEM "}\n"));
    ck_assert_msg(clrun(args, out, sizeof out) == 0, "%s", out);
    int a[PAIRS], b[PAIRS];
    const char *template = slurp("build/test-tmp/sim-template/similarity_ratings_template.csv");
    ck_assert_msg(strncmp(template, "pair,image_a,image_b,rater_1\n", 29) == 0, "%s", template);
    const char *row = strchr(template, '\n');
    for (int i = 0; i < PAIRS; row = strchr(row + 1, '\n'), i++)
        ck_assert_int_eq(sscanf(row + 1, "%*d,%d,%d,,", &a[i], &b[i]), 2);
    static const struct { const char *name, *fragment; } cases[] = {
        {"unfilled", ":2: ann left pair 1 blank"},
        {"wrong-images", ":2: pair 1 shows images"},
        {"eleven", ":3: ann rated pair 2 '11'; ratings are 1 to 10"},
        {"missing", ": pair 2 is missing"},
        {"header", ":1: the header must be pair,image_a,image_b"},
        {"twice", ":3: pair 1 appears twice"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char file[64];
        snprintf(file, sizeof file, "ratings-%s.csv", cases[i].name);
        const char *path = test_write_file(file, bad_ratings(cases[i].name, a, b));
        char want[256];
        snprintf(want, sizeof want, "%s%s", path, cases[i].fragment);
        snprintf(yaml, sizeof yaml, SIMILARITY_HEAD SIMILARITY_ITEM ", ratings: %s}\n",
                 strrchr(path, '/') + 1);
        snprintf(args, sizeof args, "run %s train.epochs=0 --out build/test-tmp/sim-bad",
                 test_write_file("sim-bad.yaml", yaml));
        int status = clrun(args, out, sizeof out);
        ck_assert_msg(status == 2, "%s: exit %d:\n%s", cases[i].name, status, out);
        ck_assert_msg(strstr(out, want), "%s: no '%s' in:\n%s", cases[i].name, want, out);
        if (i > 0)
            continue;
        strcat(args, " train.epochs=1");
        ck_assert_int_eq(clrun(args, out, sizeof out), 2);
        ck_assert_msg(strstr(out, want) && !strstr(out, "Epoch 1/1"), "trained first:\n%s", out);
    }
    /* pairs: a correlation needs two */
    snprintf(args, sizeof args, "run %s train.epochs=0 --out build/test-tmp/sim-bad",
             test_write_file("sim-one.yaml", SIMILARITY_HEAD "  - {type: similarity, class: 8, "
                             "pairs: 1, layers: [fc1]}\n"));
    ck_assert_int_eq(clrun(args, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "sim-one.yaml:7:") && strstr(out, "'pairs' must be between 2 and 500"),
                  "%s", out);
}
END_TEST

Suite *similarity_suite(void)
{
    Suite *s = suite_create("similarity");
    TCase *tc = tcase_create("similarity");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, similarity_round_trips_ratings_through_the_rating_page);
    tcase_add_test(tc, bad_ratings_name_the_file_and_line);
    suite_add_tcase(s, tc);
    return s;
}
