/* check_table.c: tests for tables of images (runtime/io/csv.c,
 * runtime/data/table.c) and torchvision's evaluation preprocessing
 * (runtime/data/prep.c, resample.c, the per-channel normalisation in feed.c).
 *
 * The preprocessing is compared with tests/fixtures/preprocess, which
 * tools/make-preprocess-fixture wrote with PIL and torchvision: the same
 * files through Resize, CenterCrop, ToTensor and Normalize. clrun's pixels
 * must be within 1/255 of torchvision's (they are expected to be equal: the
 * resampling is Pillow's own arithmetic), and the normalised inputs the
 * device builds within that divided by the channel's std. */
#include <check.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/items.h"
#include "data/data.h"
#include "data/feed.h"
#include "data/prep.h"
#include "io/csv.h"
#include "io/npy.h"
#include "suites.h"
#include "testutil.h"

#define FIXTURE "tests/fixtures/preprocess"

static const char *tmp_path(int slot, const char *name)
{
    static char paths[4][512];
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", test_tmpdir, name);
    return paths[slot];
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert_uint_eq(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void write_text(const char *path, const char *text)
{
    write_bytes(path, text, strlen(text));
}

/* The first max bytes of src into dst (all of it when max is 0). */
static void copy_file(const char *src, const char *dst, size_t max)
{
    static unsigned char buf[1 << 20];
    FILE *f = fopen(src, "rb");
    ck_assert_msg(f != NULL, "cannot read %s", src);
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    write_bytes(dst, buf, max && max < n ? max : n);
}

/* ---- CSV ---- */

START_TEST(csv_quoting_and_lines)
{
    const char *path = tmp_path(0, "t.csv");
    write_text(path, "\xef\xbb\xbf" "path,note,,n\r\n\r\n"
                     "a.png,\"one, two\",,1\r\n"
                     "\"b c.png\",\"say \"\"hi\"\"\nover two lines\",x,2\n"
                     "c.png,x\"y,,3"); /* no final line break */
    CsvTable t;
    Err err = {""};
    ck_assert_ok(csv_read(&t, path, &err), err);
    ck_assert_int_eq(t.cols, 4);
    ck_assert_int_eq(t.rows, 3);
    ck_assert_int_eq(t.header_line, 1);
    ck_assert_int_eq(csv_column(&t, "path"), 0);
    ck_assert_int_eq(csv_column(&t, "n"), 3);
    ck_assert_int_eq(csv_column(&t, "nope"), -1);
    ck_assert_str_eq(csv_cell(&t, 0, 1), "one, two");
    ck_assert_str_eq(csv_cell(&t, 0, 2), "");
    ck_assert_str_eq(csv_cell(&t, 1, 0), "b c.png");
    ck_assert_str_eq(csv_cell(&t, 1, 1), "say \"hi\"\nover two lines");
    ck_assert_str_eq(csv_cell(&t, 2, 1), "x\"y");
    ck_assert_str_eq(csv_cell(&t, 2, 3), "3");
    ck_assert_int_eq(t.lines[0], 3);
    ck_assert_int_eq(t.lines[1], 4);
    ck_assert_int_eq(t.lines[2], 6);
    csv_free(&t);
}
END_TEST

static void assert_csv_fails(const char *text, const char *say)
{
    const char *path = tmp_path(0, "bad.csv");
    write_text(path, text);
    CsvTable t;
    Err err = {""};
    ck_assert_int_eq(csv_read(&t, path, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, say) != NULL, "'%s' lacks '%s'", err.msg, say);
    ck_assert_msg(strstr(err.msg, path) != NULL, "'%s' does not name the file", err.msg);
    csv_free(&t);
}

START_TEST(csv_errors_name_the_line)
{
    assert_csv_fails("a,b\n1,2\n1,2,3\n", "bad.csv:3: 3 fields, but the header on line 1 names 2");
    assert_csv_fails("a,b\n1\n", "bad.csv:2: 1 field, but");
    assert_csv_fails("a,b\n1,\"2\n3,4\n", "bad.csv:2: a quoted field is never closed");
    assert_csv_fails("a,b\n1,\"2\"x\n", "bad.csv:2: text after a closing quote");
    assert_csv_fails("\n\npath,object,path\n", "bad.csv:3: column 'path' is named twice");
    assert_csv_fails("", "empty");
    assert_csv_fails("\r\n\n", "empty");
}
END_TEST

/* ---- torchvision's geometry ---- */

START_TEST(torchvision_sizes_and_offsets)
{
    int w, h;
    prep_shorter_side(61, 47, 40, &w, &h);  /* int(40 * 61 / 47) = int(51.9) */
    ck_assert_int_eq(w, 51);
    ck_assert_int_eq(h, 40);
    prep_shorter_side(37, 53, 40, &w, &h);
    ck_assert_int_eq(w, 40);
    ck_assert_int_eq(h, 57);
    prep_shorter_side(30, 30, 256, &w, &h);
    ck_assert_int_eq(w, 256);
    ck_assert_int_eq(h, 256);
    prep_shorter_side(500, 375, 256, &w, &h); /* 341.33 */
    ck_assert_int_eq(w, 341);
    /* Python's round: 9.5 -> 10, 12.5 -> 12, 109.5 -> 110, 0.5 -> 0 */
    ck_assert_int_eq(prep_crop_start(51, 32), 10);
    ck_assert_int_eq(prep_crop_start(57, 32), 12);
    ck_assert_int_eq(prep_crop_start(443, 224), 110);
    ck_assert_int_eq(prep_crop_start(33, 32), 0);
    ck_assert_int_eq(prep_crop_start(256, 224), 16);
    /* a crop larger than the image pads (crop - size) // 2 zeros before it */
    ck_assert_int_eq(prep_crop_start(29, 32), -1);
    ck_assert_int_eq(prep_crop_start(28, 32), -2);
}
END_TEST

/* ---- the fixture ---- */

/* The fixture's table as a data: section, with more YAML after it. */
static void fixture_spec(DataSpec *d, SpecNode **root, const char *more)
{
    char table[PATH_MAX], yaml[PATH_MAX + 512];
    ck_assert_msg(realpath(FIXTURE "/images.csv", table) != NULL, "no %s/images.csv", FIXTURE);
    snprintf(yaml, sizeof yaml, "data:\n  dataset: table\n  table: %s\n%s", table, more);
    *root = test_spec(yaml);
    Err err = {""};
    ck_assert_ok(data_parse(d, spec_get(*root, "data"), &err), err);
}

static void load_fixture(Dataset *ds, DataSpec *d, SpecNode **root, const char *more)
{
    fixture_spec(d, root, more);
    Err err = {""};
    ck_assert_ok(data_load(d, "test", NULL, ds, &err), err);
}

static void read_npy(const char *name, NpyArray *a)
{
    char path[256];
    Err err = {""};
    snprintf(path, sizeof path, "%s/%s", FIXTURE, name);
    ck_assert_ok(npy_read(path, a, &err), err);
}

/* The largest |clrun's byte / 255 - torchvision's value| over n values,
 * checked against 1/255 and printed for the record. */
static double compare_pixels(const unsigned char *got, const double *want, size_t n,
                             const char *what)
{
    double worst = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(got[i] / 255.0 - want[i]);
        if (d > worst)
            worst = d, at = i;
    }
    printf("preprocess fixture, %s: max |clrun - torchvision| = %.3f/255 over %zu values\n",
           what, worst * 255, n);
    ck_assert_msg(worst <= 1.0 / 255 + 1e-7, "%s: value %zu is %u/255, torchvision %.6f", what,
                  at, got[at], want[at]);
    return worst;
}

START_TEST(fixture_pixels_as_torchvision)
{
    DataSpec d;
    SpecNode *root;
    Dataset ds;
    NpyArray want;
    load_fixture(&ds, &d, &root, "  label: category\n  resize: 40\n  crop: 32\n");
    read_npy("small_pixels.npy", &want);
    ck_assert_int_eq(want.ndim, 4);
    ck_assert_int_eq(ds.n, want.shape[0]);
    ck_assert_int_eq(ds.c, 3);
    ck_assert_int_eq(ds.h, 32);
    ck_assert_int_eq(ds.w, 32);
    compare_pixels(ds.pixels, want.data, want.count, "Resize(40), CenterCrop(32)");
    /* rows in the table's order, classes its categories sorted */
    static const char *const category[] = {"vehicles", "animals", "vehicles", "faces", "fruits",
                                           "furniture"};
    ck_assert_int_eq(ds.classes, 5);
    for (int i = 0; i < ds.n; i++)
        ck_assert_str_eq(ds.class_names[ds.labels[i]], category[i]);
    ck_assert_str_eq(ds.class_names[0], "animals");
    npy_free(&want);
    dataset_free(&ds);
    data_spec_free(&d);
    spec_free(root);
}
END_TEST

/* torchvision's real sizes on the one image larger than 256. */
START_TEST(fixture_full_size)
{
    char table[PATH_MAX], csv[PATH_MAX + 64];
    ck_assert_msg(realpath(FIXTURE "/big.png", table) != NULL, "no big.png");
    snprintf(csv, sizeof csv, "path\n%s\n", table);
    write_text(tmp_path(0, "big.csv"), csv);
    ImageOptions opt = {.resize_short = 256, .crop_h = 224, .crop_w = 224};
    TableOptions topt = {.path_column = "path"};
    Dataset ds;
    NpyArray want;
    Err err = {""};
    ck_assert_ok(table_load(&ds, tmp_path(0, "big.csv"), &topt, &opt, &err), err);
    read_npy("full_bytes.npy", &want);
    ck_assert_int_eq(ds.n, 1);
    ck_assert_int_eq(ds.classes, 1);
    ck_assert_int_eq((long)want.count, 3 * 224 * 224);
    for (size_t i = 0; i < want.count; i++)
        want.data[i] /= 255;
    compare_pixels(ds.pixels, want.data, want.count, "Resize(256), CenterCrop(224)");
    npy_free(&want);
    dataset_free(&ds);
}
END_TEST

/* The normalised batch the device builds, one launch per channel plane. */
START_TEST(fixture_normalized_on_device)
{
    DataSpec d;
    SpecNode *root, *model;
    Dataset ds;
    NpyArray want;
    load_fixture(&ds, &d, &root, "  resize: 40\n  crop: 32\n  normalize: imagenet\n");
    read_npy("small_normalized.npy", &want);
    Device dev;
    Graph g;
    Err err = {""};
    test_device(&dev);
    test_graph(&g, &model, &dev, "input: [3, 32, 32]\nlayers: [{type: flatten}]\n", ds.n, 1);
    FeedData f;
    Feed split;
    cl_mem y;
    FeedNorm norm;
    feed_norm(&norm, d.norm_channels, d.mean, d.std, 255.0);
    ck_assert_int_eq(norm.channels, 3);
    ck_assert_ok(feed_upload(&f, &g, &ds, &err), err);
    ck_assert_ok(feed_split(&split, "test", &g, &f, 0, ds.n, &err), err);
    ck_assert_ok(graph_buffer(&g, (size_t)ds.n, "labels", &y, &err), err);
    ck_assert_ok(feed_batch(&split, &g, 0, ds.n, &norm, y, &err), err);
    double *x = malloc(want.count * sizeof *x), worst = 0;
    test_get(&dev, g.nodes[0].out, x, want.count);
    for (size_t i = 0; i < want.count; i++) {
        int c = (int)(i / (32 * 32) % 3);
        double d_ = fabs(x[i] - want.data[i]) * d.std[c];
        worst = d_ > worst ? d_ : worst;
        ck_assert_msg(d_ <= 1.0 / 255 + 1e-6, "value %zu: %.6f, torchvision %.6f", i, x[i],
                      want.data[i]);
    }
    printf("preprocess fixture, normalised: max |clrun - torchvision| * std = %.3f/255\n",
           worst * 255);
    free(x);
    feed_free(&split);
    test_close(&g, &dev, model);
    npy_free(&want);
    dataset_free(&ds);
    data_spec_free(&d);
    spec_free(root);
}
END_TEST

/* Planes whose size is no multiple of the work-group: each launch's last
 * group runs into the next plane, which the next launch writes again. */
START_TEST(per_channel_planes_any_group)
{
    enum { N = 3, C = 3, H = 5, W = 7, SIZE = C * H * W };
    unsigned char pixels[N * SIZE], labels[N] = {2, 0, 1};
    for (int i = 0; i < N * SIZE; i++)
        pixels[i] = (unsigned char)(i * 53 % 256);
    Dataset ds = {.n = N, .c = C, .h = H, .w = W, .pixels = pixels, .labels = labels,
                  .classes = 3};
    static const double mean[3] = {0.1, 0.5, 0.9}, std[3] = {0.2, 0.25, 0.5};
    for (size_t group = 1; group <= 64; group *= 8) {
        Device dev;
        Graph g;
        SpecNode *model;
        Err err = {""};
        test_device(&dev);
        test_graph(&g, &model, &dev, "input: [3, 5, 7]\nlayers: [{type: flatten}]\n", N, 1);
        dev.plan.group = group; /* the plan's choice, whatever the device measured */
        FeedData f;
        Feed split;
        cl_mem y;
        FeedNorm norm;
        static const int order[N] = {2, 0, 1};
        feed_norm(&norm, 3, mean, std, 255.0);
        ck_assert_ok(feed_upload(&f, &g, &ds, &err), err);
        ck_assert_ok(feed_select(&split, "test", &g, &f, order, N, &err), err);
        ck_assert_ok(graph_buffer(&g, N, "labels", &y, &err), err);
        ck_assert_ok(feed_batch(&split, &g, 0, N, &norm, y, &err), err);
        double x[N * SIZE];
        cl_int got[N];
        test_get(&dev, g.nodes[0].out, x, N * SIZE);
        ck_assert_ok(dev_read(&dev, y, 0, sizeof got, got, &err), err);
        for (int r = 0; r < N; r++) {
            ck_assert_int_eq(got[r], labels[order[r]]);
            for (int j = 0; j < SIZE; j++) {
                int c = j / (H * W);
                double want = (pixels[order[r] * SIZE + j] / 255.0 - mean[c]) / std[c];
                ck_assert_msg(fabs(x[r * SIZE + j] - want) < 1e-5, "group %zu, row %d, value %d: "
                              "%.6f, want %.6f", group, r, j, x[r * SIZE + j], want);
            }
        }
        feed_free(&split);
        test_close(&g, &dev, model);
    }
}
END_TEST

/* ---- bad tables ---- */

START_TEST(bad_rows_named_before_decoding)
{
    copy_file(FIXTURE "/small.png", tmp_path(0, "good.png"), 0);
    copy_file(FIXTURE "/wide.png", tmp_path(0, "cut.png"), 200);
    write_text(tmp_path(0, "text.png"), "not an image\n");
    write_text(tmp_path(1, "t.csv"), "path,category\n"
                                     "good.png,a\n"
                                     "missing.png,a\n"
                                     "cut.png,b\n"
                                     "text.png,b\n"
                                     ",b\n"
                                     "good.png,\n");
    TableOptions topt = {.path_column = "path", .label_column = "category"};
    ImageOptions opt = {.resize_short = 40, .crop_h = 32, .crop_w = 32};
    Dataset ds;
    Err err = {""};
    ck_assert_int_eq(table_load(&ds, tmp_path(1, "t.csv"), &topt, &opt, &err), CLRUN_EINPUT);
    static const char *const says[] = {
        "4 of 6 rows cannot be loaded",
        "t.csv:3: ", "missing.png: cannot open: No such file",
        "t.csv:5: ", "text.png: not a PNG or JPEG image",
        "t.csv:6: no path in column 'path'",
        "t.csv:7: no value in column 'category'",
    };
    for (size_t i = 0; i < sizeof says / sizeof says[0]; i++)
        ck_assert_msg(strstr(err.msg, says[i]) != NULL, "'%s' lacks '%s'", err.msg, says[i]);
    ck_assert_msg(strstr(err.msg, "t.csv:4") == NULL, "the cut PNG starts as one: %s", err.msg);
    ck_assert_ptr_null(ds.pixels);

    /* rows that pass the check but fail to decode are named by line too */
    write_text(tmp_path(1, "t.csv"), "path\ngood.png\n\ncut.png\n");
    ck_assert_int_eq(table_load(&ds, tmp_path(1, "t.csv"), &(TableOptions){.path_column = "path"},
                                &opt, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "t.csv:4: ") && strstr(err.msg, "cut.png: not a valid PNG"),
                  "%s", err.msg);

    /* a column that is not there */
    topt.label_column = "object";
    write_text(tmp_path(1, "t.csv"), "path,category\ngood.png,a\n");
    ck_assert_int_eq(table_load(&ds, tmp_path(1, "t.csv"), &topt, &opt, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "t.csv:1: no column 'object' (the columns are 'path', "
                                  "'category')"), "%s", err.msg);
}
END_TEST

/* Without a crop, torchvision's Resize(N) gives sizes that differ. */
START_TEST(sizes_must_agree_without_crop)
{
    copy_file(FIXTURE "/wide.png", tmp_path(0, "a.png"), 0);
    copy_file(FIXTURE "/tall-grey.png", tmp_path(0, "b.png"), 0);
    write_text(tmp_path(1, "t.csv"), "path\na.png\nb.png\n");
    ImageOptions opt = {.resize_short = 40};
    Dataset ds;
    Err err = {""};
    ck_assert_int_eq(table_load(&ds, tmp_path(1, "t.csv"), &(TableOptions){.path_column = "path"},
                                &opt, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "t.csv:3: ") && strstr(err.msg, "57x40"), "%s", err.msg);
}
END_TEST

/* The table stays with the set, row i for example i, so that analyses can
 * group the images by its other columns (dataset_column and its kin). */
START_TEST(table_rows_kept_with_the_set)
{
    copy_file(FIXTURE "/wide.png", tmp_path(0, "a.png"), 0);
    write_text(tmp_path(1, "t.csv"), "path,object,variation\n\na.png,cat_1,V0\n"
                                     "a.png,\"boat, 2\",V3\na.png,cat_1,V6\n");
    ImageOptions opt = {.height = 8, .width = 8};
    Dataset ds;
    Err err = {""};
    ck_assert_ok(table_load(&ds, tmp_path(1, "t.csv"), &(TableOptions){.path_column = "path"},
                            &opt, &err), err);
    ck_assert_int_eq(ds.n, 3);
    int object = dataset_column(&ds, "object"), variation = dataset_column(&ds, "variation");
    ck_assert_int_eq(object, 1);
    ck_assert_int_eq(variation, 2);
    ck_assert_int_eq(dataset_column(&ds, "category"), -1);
    ck_assert_str_eq(dataset_value(&ds, 1, object), "boat, 2");
    ck_assert_str_eq(dataset_value(&ds, 2, variation), "V6");
    ck_assert_int_eq(dataset_line(&ds, 0), 3); /* after the header and a blank line */
    ck_assert_int_eq(dataset_line(&ds, 2), 5);
    char names[128];
    dataset_columns(&ds, names, sizeof names);
    ck_assert_str_eq(names, "'path', 'object', 'variation'");
    dataset_free(&ds);
    ck_assert_ptr_null(ds.table);
    Dataset none = {0}; /* other sources have no table */
    ck_assert_int_eq(dataset_column(&none, "object"), -1);
    ck_assert_int_eq(dataset_line(&none, 0), 0);
}
END_TEST

/* items.h on a table: where: keeps V3 and V6, items: object averages, order:
 * category groups; per-image targets averaged per object, per-object ones
 * taken as they are, other counts refused. The means by hand. */
START_TEST(items_from_the_table)
{
    copy_file(FIXTURE "/wide.png", tmp_path(0, "a.png"), 0);
    write_text(tmp_path(1, "t.csv"), "path,object,category,variation\n"
                                     "a.png,dog,animal,V0\n"  /* dropped by where: */
                                     "a.png,car,vehicle,V3\n"
                                     "a.png,dog,animal,V3\n"
                                     "a.png,car,vehicle,V6\n"
                                     "a.png,cat,animal,V6\n"
                                     "a.png,dog,animal,V6\n");
    Dataset ds;
    Err err = {""};
    ck_assert_ok(table_load(&ds, tmp_path(1, "t.csv"), &(TableOptions){.path_column = "path"},
                            &(ImageOptions){.height = 4, .width = 4}, &err), err);
    SpecNode *spec = spec_load_text("items.yaml", "{items: object, order: category, "
                                    "where: {variation: [V3, V6]}}", &err);
    ck_assert_msg(spec != NULL, "%s", err.msg);
    ItemsSpec is;
    ck_assert_ok(items_parse(&is, spec, ITEMS_EXAMPLE, &err), err);
    FeedData data = {.ds = &ds};
    Feed split = {.name = "test", .data = &data, .first = 0, .n = ds.n};
    Items it;
    ck_assert_ok(items_make(&it, &is, &split, ds.n, &err), err);
    /* vehicles first seen first (row 2), then animals; within: first rows */
    ck_assert_int_eq(it.rows, 5);
    ck_assert_int_eq(it.n, 3);
    ck_assert_str_eq(it.name[0], "car");
    ck_assert_str_eq(it.name[1], "dog");
    ck_assert_str_eq(it.name[2], "cat");
    ck_assert_int_eq(it.groups, 2);
    ck_assert_str_eq(it.group_name[it.group[0]], "vehicle");
    ck_assert_str_eq(it.group_name[it.group[1]], "animal");
    ck_assert_int_eq(it.group[1], it.group[2]);
    ck_assert_int_eq(it.count[0], 2);
    ck_assert_int_eq(it.count[1], 2);
    ck_assert_int_eq(it.count[2], 1);
    /* targets, a row per image (6) with two units: row i is (i, 10 i) */
    double rows6[12], rows3[6];
    for (int i = 0; i < 6; i++)
        rows6[2 * i] = i, rows6[2 * i + 1] = 10 * i;
    NpyArray t = {.ndim = 2, .shape = {6, 2}, .count = 12, .data = rows6};
    double *y = NULL;
    ck_assert_ok(items_targets(&it, &t, spec, "t.npy", &y, &err), err);
    const double want[6] = {(1 + 3) / 2.0, (10 + 30) / 2.0,   /* car: rows 1 and 3 */
                            (2 + 5) / 2.0, (20 + 50) / 2.0,   /* dog: rows 2 and 5 (not 0) */
                            4, 40};                           /* cat: row 4 */
    for (int k = 0; k < 6; k++)
        ck_assert_double_eq_tol(y[k], want[k], 1e-12);
    free(y);
    for (int k = 0; k < 6; k++)
        rows3[k] = 100 + k;
    NpyArray per_item = {.ndim = 2, .shape = {3, 2}, .count = 6, .data = rows3};
    ck_assert_ok(items_targets(&it, &per_item, spec, "t.npy", &y, &err), err);
    ck_assert_double_eq(y[5], 105);
    free(y);
    NpyArray five = {.ndim = 2, .shape = {5, 2}, .count = 10, .data = rows6};
    ck_assert_int_eq(items_targets(&it, &five, spec, "t.npy", NULL, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "t.npy has 5 rows; they must be one per example of the split "
                         "(6) or one per item of the analysis (3)"), "%s", err.msg);
    items_free(&it);
    spec_free(spec);
    /* an object in two categories cannot be ordered by category */
    write_text(tmp_path(1, "u.csv"), "path,object,category\na.png,dog,animal\n"
                                     "a.png,dog,vehicle\n");
    Dataset two;
    ck_assert_ok(table_load(&two, tmp_path(1, "u.csv"), &(TableOptions){.path_column = "path"},
                            &(ImageOptions){.height = 4, .width = 4}, &err), err);
    spec = spec_load_text("items.yaml", "{items: object, order: category}", &err);
    ck_assert_ok(items_parse(&is, spec, ITEMS_EXAMPLE, &err), err);
    data.ds = &two;
    split.n = two.n;
    ck_assert_int_eq(items_make(&it, &is, &split, two.n, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "u.csv:2 and ") && strstr(err.msg, "u.csv:3: item 'dog' is in "
                         "category 'animal' and 'vehicle'"), "%s", err.msg);
    spec_free(spec);
    dataset_free(&two);
    dataset_free(&ds);
}
END_TEST

START_TEST(data_section_checks)
{
    static const struct {
        const char *yaml, *say;
    } cases[] = {
        {"  normalize: {mean: [0.5, 0.5], std: [1, 1]}\n", "one number each or 3 each"},
        {"  normalize: {mean: [0.5, 0.5, 0.5], std: 1}\n", "got 3 and 1"},
        {"  normalize: {mean: [0.5, 0.5, 0.5], std: [1, 0, 1]}\n", "std must be above 0"},
        {"  normalize: imagenett\n", "must be {mean: M, std: S}, imagenet or train"},
        {"  resize: [1, 2, 3]\n", "'resize' must have at most 2 values"},
        {"  crop: 0\n", "crop"},
        {"  train: x.csv\n", "either table: (one table for both splits) or train:"},
        {"  path: [a]\n", "'path' must be"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char yaml[512];
        snprintf(yaml, sizeof yaml, "data:\n  dataset: table\n  table: t.csv\n%s", cases[i].yaml);
        SpecNode *root = test_spec(yaml);
        DataSpec d;
        Err err = {""};
        ck_assert_int_eq(data_parse(&d, spec_get(root, "data"), &err), CLRUN_EINPUT);
        ck_assert_msg(strstr(err.msg, cases[i].say) && strstr(err.msg, "spec.yaml:"),
                      "case %zu: '%s' lacks '%s'", i, err.msg, cases[i].say);
        spec_free(root);
    }
    /* the defaults change nothing: one normalisation, inputs as scaled */
    SpecNode *root = test_spec("data: {dataset: table, train: a.csv, test: b.csv}\n");
    DataSpec d;
    Err err = {""};
    ck_assert_ok(data_parse(&d, spec_get(root, "data"), &err), err);
    ck_assert_int_eq(d.norm_channels, 1);
    ck_assert_double_eq(d.mean[0], 0);
    ck_assert_double_eq(d.std[0], 1);
    ck_assert_str_eq(d.table.path_column, "path");
    ck_assert_ptr_null(d.table.label_column);
    ck_assert_int_eq(prep_wanted(&d.images), 0);
    data_spec_free(&d);
    spec_free(root);
}
END_TEST

Suite *table_suite(void)
{
    Suite *s = suite_create("table");
    TCase *tc = tcase_create("table");
    tcase_add_checked_fixture(tc, test_tmpdir_make, test_tmpdir_remove);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, csv_quoting_and_lines);
    tcase_add_test(tc, csv_errors_name_the_line);
    tcase_add_test(tc, torchvision_sizes_and_offsets);
    tcase_add_test(tc, fixture_pixels_as_torchvision);
    tcase_add_test(tc, fixture_full_size);
    tcase_add_test(tc, fixture_normalized_on_device);
    tcase_add_test(tc, per_channel_planes_any_group);
    tcase_add_test(tc, bad_rows_named_before_decoding);
    tcase_add_test(tc, sizes_must_agree_without_crop);
    tcase_add_test(tc, table_rows_kept_with_the_set);
    tcase_add_test(tc, items_from_the_table);
    tcase_add_test(tc, data_section_checks);
    suite_add_tcase(s, tc);
    return s;
}
