/* check_neighbours.c: tests for the neighbours analysis (runtime/analysis/
 * neighbours.c). The model is a flatten of 2x2 grayscale images, so the
 * embeddings are the normalised pixels themselves; the images are written here
 * with libpng from known values, and the distances are recomputed here from
 * those values. */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <png.h>

#include "analysis/analysis.h"
#include "io/npy.h"
#include "suites.h"
#include "testutil.h"

enum { NR = 4, NQ = 3, PX = 4 };

static const char *const ref_files[NR] = {"ref/a/0.png", "ref/a/1.png", "ref/b/0.png",
                                          "ref/b/1.png"};
static const int ref_base[NR] = {0, 40, 100, 105};
static const int ref_label[NR] = {0, 0, 1, 1};
static const char *const query_files[NQ] = {"query/a/0.png", "query/a/1.png", "query/b/0.png"};
static const int query_base[NQ] = {65, 5, 110};
static const int query_label[NQ] = {0, 0, 1};
/* Query 0: nearest is 40 (a), then 100, 105 (b), so 1-NN says a, 3-NN says b. */
static const char *const want_nn1[NQ] = {"a", "a", "b"};
static const char *const want_knn[NQ] = {"b", "a", "b"};

static const char *tmp_path(int slot, const char *name)
{
    static char paths[4][512];
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", test_tmpdir, name);
    return paths[slot];
}

/* Pixel p of an image with the given base and seed (small offsets). */
static int pixel(int base, int seed, int p)
{
    return base + (seed * 3 + p * 5) % 4;
}

static void write_png(const char *name, int base, int seed)
{
    unsigned char px[PX];
    for (int p = 0; p < PX; p++)
        px[p] = (unsigned char)pixel(base, seed, p);
    FILE *fp = fopen(tmp_path(0, name), "wb");
    ck_assert_msg(fp != NULL, "cannot write %s", name);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, fp);
    png_set_IHDR(png, info, 2, 2, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_bytep rows[2] = {px, px + 2};
    png_set_rows(png, info, rows);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(fp);
}

static void make_folders(void)
{
    const char *dirs[] = {"ref", "ref/a", "ref/b", "query", "query/a", "query/b", "out"};
    for (int i = 0; i < 7; i++)
        ck_assert_int_eq(mkdir(tmp_path(0, dirs[i]), 0700), 0);
    for (int i = 0; i < NR; i++)
        write_png(ref_files[i], ref_base[i], i);
    for (int i = 0; i < NQ; i++)
        write_png(query_files[i], query_base[i], 10 + i);
}

static const char *const model_yaml =
    "name: t\ninput: [1, 2, 2]\nlayers:\n  - {name: flat, type: flatten}\n";

/* Parses one analyses: list (entries as YAML text) against the model. */
static int parse(AnalysisList *list, SpecNode **spec, const Graph *g, const char *entries,
                 Err *err)
{
    char yaml[1500];
    snprintf(yaml, sizeof yaml, "analyses:\n%s", entries);
    *spec = test_spec(yaml);
    return analysis_parse_list(list, spec_get(*spec, "analyses"), g, err);
}

START_TEST(test_distances_and_votes)
{
    make_folders();
    Device dev;
    Graph g;
    SpecNode *model = NULL, *spec = NULL;
    Err err = {""};
    test_device(&dev);
    test_graph(&g, &model, &dev, model_yaml, 3, 1);
    char entry[1400];
    snprintf(entry, sizeof entry,
             "  - {type: neighbours, layer: flat, reference: %s, query: %s, grayscale: true}\n",
             tmp_path(1, "ref"), tmp_path(2, "query"));
    AnalysisList list;
    int rc = parse(&list, &spec, &g, entry, &err);
    ck_assert_ok(rc, err);
    cl_mem labels = NULL;
    rc = dev_alloc(&dev, 3 * sizeof(int), "labels", &labels, &err);
    ck_assert_ok(rc, err);
    AnalysisContext ctx = {.g = &g, .norm = {1, {1.0f / 255}, {0}}, .labels = labels,
                           .dir = tmp_path(3, "out")};
    rc = analysis_run_list(&list, &ctx, &err);
    ck_assert_ok(rc, err);

    /* distances.csv against the pixels */
    FILE *f = fopen(tmp_path(0, "out/distances.csv"), "r");
    ck_assert_ptr_nonnull(f);
    char line[1024];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "query\\reference,0:a,1:a,2:b,3:b\n");
    for (int i = 0; i < NQ; i++) {
        ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
        char head[16];
        snprintf(head, sizeof head, "%d:%s,", i, query_label[i] ? "b" : "a");
        ck_assert_msg(strncmp(line, head, strlen(head)) == 0, "row %d: %s", i, line);
        char *at = line + strlen(head);
        for (int j = 0; j < NR; j++) {
            double want = 0;
            for (int p = 0; p < PX; p++) {
                double d = (pixel(query_base[i], 10 + i, p) - pixel(ref_base[j], j, p)) / 255.0;
                want += d * d;
            }
            char *end;
            double got = strtod(at, &end);
            ck_assert_msg(fabs(got - want) <= 1e-5 * want + 1e-9, "d[%d][%d] = %g, want %g", i,
                          j, got, want);
            at = end + 1;
        }
    }
    fclose(f);

    /* neighbours.csv: 1-NN and 3-NN */
    f = fopen(tmp_path(0, "out/neighbours.csv"), "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "query,label,nn1,knn\n");
    for (int i = 0; i < NQ; i++) {
        char want[64];
        snprintf(want, sizeof want, "%d,%s,%s,%s\n", i, query_label[i] ? "b" : "a", want_nn1[i],
                 want_knn[i]);
        ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
        ck_assert_str_eq(line, want);
    }
    fclose(f);
    f = fopen(tmp_path(0, "out/neighbours_accuracy.csv"), "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "1-nn,1,3,3,1.000000\n");
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_str_eq(line, "k-nn,3,2,3,0.666667\n");
    fclose(f);

    /* the embeddings and labels */
    NpyArray a;
    rc = npy_read(tmp_path(0, "out/embeddings_flat_reference.npy"), &a, &err);
    ck_assert_ok(rc, err);
    ck_assert_int_eq(a.ndim, 2);
    ck_assert_int_eq(a.shape[0], NR);
    ck_assert_int_eq(a.shape[1], PX);
    for (int j = 0; j < NR; j++)
        for (int p = 0; p < PX; p++)
            ck_assert(fabs(a.data[j * PX + p] - pixel(ref_base[j], j, p) / 255.0) < 1e-6);
    npy_free(&a);
    rc = npy_read(tmp_path(0, "out/embeddings_flat_query.npy"), &a, &err);
    ck_assert_ok(rc, err);
    ck_assert_int_eq(a.ndim, 2);
    ck_assert_int_eq(a.shape[0], NQ);
    ck_assert_int_eq(a.shape[1], PX);
    npy_free(&a);
    rc = npy_read(tmp_path(0, "out/labels_reference.npy"), &a, &err);
    ck_assert_ok(rc, err);
    ck_assert_int_eq(a.ndim, 1);
    ck_assert_int_eq(a.shape[0], NR);
    for (int j = 0; j < NR; j++)
        ck_assert_int_eq((int)a.data[j], ref_label[j]);
    npy_free(&a);
    rc = npy_read(tmp_path(0, "out/labels_query.npy"), &a, &err);
    ck_assert_ok(rc, err);
    ck_assert_int_eq(a.shape[0], NQ);
    npy_free(&a);
    check_png(tmp_path(0, "out/distances.png"));
    check_png(tmp_path(0, "out/neighbours.png"));

    analysis_free_list(&list);
    spec_free(spec);
    clReleaseMemObject(labels);
    test_close(&g, &dev, model);
}
END_TEST

/* Parse-time errors point at the key's file and line; run-time shape mismatch. */
START_TEST(test_errors)
{
    make_folders();
    Device dev;
    Graph g;
    SpecNode *model = NULL, *spec = NULL;
    Err err = {""};
    test_device(&dev);
    test_graph(&g, &model, &dev, model_yaml, 3, 1);
    AnalysisList list;
    char entry[1400];

    snprintf(entry, sizeof entry,
             "  - type: neighbours\n    layer: flat\n    reference: %s\n    query: %s\n",
             tmp_path(1, "ref"), tmp_path(2, "missing"));
    int rc = parse(&list, &spec, &g, entry, &err);
    ck_assert_int_ne(rc, CLRUN_OK);
    ck_assert_msg(strstr(err.msg, "spec.yaml:5") && strstr(err.msg, "missing") &&
                  strstr(err.msg, "not a directory"), "%s", err.msg);
    analysis_free_list(&list);
    spec_free(spec);

    snprintf(entry, sizeof entry,
             "  - type: neighbours\n    layer: fc9\n    reference: %s\n    query: %s\n",
             tmp_path(1, "ref"), tmp_path(2, "query"));
    rc = parse(&list, &spec, &g, entry, &err);
    ck_assert_int_ne(rc, CLRUN_OK);
    ck_assert_msg(strstr(err.msg, "spec.yaml:3") && strstr(err.msg, "fc9"), "%s", err.msg);
    analysis_free_list(&list);
    spec_free(spec);

    /* images of another size than the model's input */
    snprintf(entry, sizeof entry,
             "  - {type: neighbours, layer: flat, reference: %s, query: %s, grayscale: true, "
             "size: [3, 3]}\n", tmp_path(1, "ref"), tmp_path(2, "query"));
    rc = parse(&list, &spec, &g, entry, &err);
    ck_assert_ok(rc, err);
    cl_mem labels = NULL;
    rc = dev_alloc(&dev, 3 * sizeof(int), "labels", &labels, &err);
    ck_assert_ok(rc, err);
    AnalysisContext ctx = {.g = &g, .norm = {1, {1.0f / 255}, {0}}, .labels = labels,
                           .dir = tmp_path(3, "out")};
    rc = analysis_run_list(&list, &ctx, &err);
    ck_assert_int_ne(rc, CLRUN_OK);
    ck_assert_msg(strstr(err.msg, "[1, 3, 3]") && strstr(err.msg, "[1, 2, 2]"), "%s", err.msg);
    analysis_free_list(&list);
    spec_free(spec);
    clReleaseMemObject(labels);
    test_close(&g, &dev, model);
}
END_TEST

Suite *neighbours_suite(void)
{
    Suite *s = suite_create("neighbours");
    TCase *tc = tcase_create("neighbours");
    tcase_add_checked_fixture(tc, test_tmpdir_make, test_tmpdir_remove);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_distances_and_votes);
    tcase_add_test(tc, test_errors);
    suite_add_tcase(s, tc);
    return s;
}
