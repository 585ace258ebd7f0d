/* check_features.c: tests for `clrun features` (runtime/extract.c,
 * runtime/rows.c). A small convnet (conv2d stride 2 with padding, relu,
 * dense) gets known weights and RGB images written here with libpng; its
 * layer outputs are recomputed here in double precision from those bytes
 * and weights, and compared with the .npy files the command writes, row
 * for row against the table beside them. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <png.h>

#include "data/dataset.h"
#include "io/csv.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "suites.h"
#include "testutil.h"

enum { C = 3, H = 6, W = 7, F = 4, OH = 3, OW = 4, UNITS = 5, N_TABLE = 7 };
enum { CONV_UNITS = F * OH * OW };

static const double mean[C] = {0.5, 0.4, 0.3}, stdev[C] = {0.2, 0.25, 0.3};

static const char model_yaml[] =
    "model:\n"
    "  name: tiny\n"
    "  input: [3, 6, 7]\n"
    "  layers:\n"
    "    - {name: conv, type: conv2d, filters: 4, kernel_size: 3, stride: 2, padding: 1}\n"
    "    - {name: act, type: relu}\n"
    "    - {type: flatten}\n"
    "    - {name: fc, type: dense, units: 5}\n"
    "    - {type: log_softmax}\n"
    "optimizer: {name: sgd, learning_rate: 0.1}\n"
    "loss: nll\n"
    "train: {epochs: 1, batch_size: 3}\n";

/* The weights, as the file holds them: conv [4, 3, 3, 3] and [4], fc [5, 48] and [5]. */
typedef struct {
    float cw[F * C * 9], cb[F], fw[UNITS * CONV_UNITS], fb[UNITS];
} Weights;

/* Image k's byte at channel c, row y, column x: spread over 0..255. */
static unsigned char pixel(int k, int c, int y, int x)
{
    return (unsigned char)((k * 53 + c * 91 + y * 37 + x * 19 + (x * y * (k + 1)) % 7 * 13) % 256);
}

static void write_image(const char *path, int k)
{
    unsigned char px[H * W * C];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < C; c++)
                px[(y * W + x) * C + c] = pixel(k, c, y, x);
    FILE *fp = fopen(path, "wb");
    ck_assert_msg(fp != NULL, "cannot write %s", path);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, fp);
    png_set_IHDR(png, info, W, H, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_bytep rows[H];
    for (int y = 0; y < H; y++)
        rows[y] = px + y * W * C;
    png_set_rows(png, info, rows);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_destroy_write_struct(&png, &info);
    ck_assert_int_eq(fclose(fp), 0);
}

static void write_weights(const char *path, Weights *w)
{
    test_fill(w->cw, F * C * 9, 11, -0.5f, 0.5f);
    test_fill(w->cb, F, 12, -0.2f, 0.2f);
    test_fill(w->fw, UNITS * CONV_UNITS, 13, -0.3f, 0.3f);
    test_fill(w->fb, UNITS, 14, -0.1f, 0.1f);
    StTensor t[4] = {{"conv.weight", 4, {F, C, 3, 3}, F * C * 9, w->cw},
                     {"conv.bias", 1, {F}, F, w->cb},
                     {"fc.weight", 2, {UNITS, CONV_UNITS}, UNITS * CONV_UNITS, w->fw},
                     {"fc.bias", 1, {UNITS}, UNITS, w->fb}};
    Err err = {""};
    ck_assert_ok(st_write(path, t, 4, NULL, 0, &err), err);
}

/* Image k through the model in double: the conv's output, relu's and the
 * dense layer's, each in PyTorch's order (channel, row, column). */
static void reference(const Weights *w, int k, double *conv, double *act, double *fc)
{
    for (int f = 0; f < F; f++)
        for (int oy = 0; oy < OH; oy++)
            for (int ox = 0; ox < OW; ox++) {
                double s = w->cb[f];
                for (int c = 0; c < C; c++)
                    for (int ky = 0; ky < 3; ky++)
                        for (int kx = 0; kx < 3; kx++) {
                            int y = oy * 2 - 1 + ky, x = ox * 2 - 1 + kx;
                            if (y < 0 || y >= H || x < 0 || x >= W)
                                continue;
                            double v = (pixel(k, c, y, x) / 255.0 - mean[c]) / stdev[c];
                            s += w->cw[((f * C + c) * 3 + ky) * 3 + kx] * v;
                        }
                int i = (f * OH + oy) * OW + ox;
                conv[i] = s;
                act[i] = s > 0 ? s : 0;
            }
    for (int u = 0; u < UNITS; u++) {
        double s = w->fb[u];
        for (int i = 0; i < CONV_UNITS; i++)
            s += w->fw[u * CONV_UNITS + i] * act[i];
        fc[u] = s;
    }
}

/* dir/name.npy holds, in row r, image order[r]'s `which` output (0 conv,
 * 1 act, 2 fc) within 1e-5 of the largest value. */
static void check_layer(const char *dir, const char *name, int which, const Weights *w,
                        const int *order, int n)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s.npy", dir, name);
    NpyArray a;
    Err err = {""};
    ck_assert_ok(npy_read(path, &a, &err), err);
    int units = which == 2 ? UNITS : CONV_UNITS;
    ck_assert_int_eq(a.ndim, 2);
    ck_assert_int_eq(a.shape[0], n);
    ck_assert_int_eq(a.shape[1], units);
    double worst = 0, largest = 0;
    for (int r = 0; r < n; r++) {
        double out[3][CONV_UNITS];
        reference(w, order[r], out[0], out[1], out[2]);
        for (int i = 0; i < units; i++) {
            worst = fmax(worst, fabs(a.data[(size_t)r * units + i] - out[which][i]));
            largest = fmax(largest, fabs(out[which][i]));
        }
    }
    npy_free(&a);
    ck_assert_msg(largest > 0.5 && worst <= 1e-5 * largest, "%s: off by %g (largest %g)", path,
                  worst, largest);
}

/* The images in a table out of name order, with columns of every kind:
 * the table beside the features must give them back as they stand. */
static const int table_order[N_TABLE] = {3, 0, 5, 1, 6, 2, 4};

static void write_table_set(const char *dir)
{
    char path[512], csv[2048] = "path,object,category,note\n";
    snprintf(path, sizeof path, "mkdir -p %s/img", dir);
    ck_assert_int_eq(system(path), 0);
    for (int r = 0; r < N_TABLE; r++) {
        int k = table_order[r];
        snprintf(path, sizeof path, "%s/img/im%d.png", dir, k);
        write_image(path, k);
        snprintf(csv + strlen(csv), sizeof csv - strlen(csv),
                 "im%d.png,obj%d,%s,\"say \"\"%d\"\", then, go\"\n", k, k % 3,
                 k % 2 ? "animal" : "boat", k);
    }
    snprintf(path, sizeof path, "%s/img/images.csv", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(csv, f);
    ck_assert_int_eq(fclose(f), 0);
}

/* An experiment on the table (categories as labels) with the model above. */
static void write_experiment(const char *dir)
{
    char path[512];
    snprintf(path, sizeof path, "%s/exp.yaml", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "%sdata:\n  dataset: table\n  table: img/images.csv\n  label: category\n"
               "  normalize: {mean: [0.5, 0.4, 0.3], std: [0.2, 0.25, 0.3]}\n", model_yaml);
    ck_assert_int_eq(fclose(f), 0);
}

/* build/test-tmp/<name> afresh, holding the image table, the experiment
 * and the weights (whose values go to *w); returns the folder. */
static const char *fresh_set(const char *name, Weights *w)
{
    static char dir[256];
    char path[512];
    snprintf(dir, sizeof dir, "build/test-tmp/%s", name);
    test_fresh_dir(name);
    write_table_set(dir);
    write_experiment(dir);
    snprintf(path, sizeof path, "%s/w.safetensors", dir);
    write_weights(path, w);
    return dir;
}

/* Two CSV files hold the same header and cells. */
static void check_same_table(const char *got, const char *want)
{
    CsvTable a, b;
    Err err = {""};
    ck_assert_ok(csv_read(&a, got, &err), err);
    ck_assert_ok(csv_read(&b, want, &err), err);
    ck_assert_int_eq(a.cols, b.cols);
    ck_assert_int_eq(a.rows, b.rows);
    for (int k = 0; k < a.cols; k++)
        ck_assert_str_eq(a.names[k], b.names[k]);
    for (int r = 0; r < a.rows; r++)
        for (int k = 0; k < a.cols; k++)
            ck_assert_str_eq(csv_cell(&a, r, k), csv_cell(&b, r, k));
    csv_free(&a);
    csv_free(&b);
}

/* The experiment's own table: the three layers' outputs in the table's row
 * order (batches of 3, 3 and 1), and the table copied beside them; without
 * --out they land in features/ beside the weights. */
START_TEST(features_of_a_table_match_a_double_reference)
{
    Weights w;
    const char *dir = fresh_set("features-table", &w);
    char cmd[1024], out[8192], path[512];
    snprintf(cmd, sizeof cmd, "features %s/exp.yaml --weights %s/w.safetensors --layers "
             "fc,conv,act", dir, dir);
    ck_assert_msg(clrun(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "Features: 3/7 images") && strstr(out, "Features: 6/7 images") &&
                  strstr(out, "Features of 7 images:"), "no progress in a pipe: %s", out);
    ck_assert_msg(strstr(out, "features/conv.npy: 7 x 48 (each image's [4, 3, 4]"), "%s", out);
    snprintf(path, sizeof path, "%s/features", dir);
    check_layer(path, "conv", 0, &w, table_order, N_TABLE);
    check_layer(path, "act", 1, &w, table_order, N_TABLE);
    check_layer(path, "fc", 2, &w, table_order, N_TABLE);
    char rows[512], table[512];
    snprintf(rows, sizeof rows, "%s/features/images.csv", dir);
    snprintf(table, sizeof table, "%s/img/images.csv", dir);
    check_same_table(rows, table);
    /* data.limit: the table's first rows, and only those */
    snprintf(cmd, sizeof cmd, "features %s/exp.yaml --weights %s/w.safetensors --layers act "
             "--out %s/limited data.limit=4", dir, dir, dir);
    ck_assert_msg(clrun(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/limited", dir);
    check_layer(path, "act", 1, &w, table_order, 4);
    snprintf(rows, sizeof rows, "%s/limited/images.csv", dir);
    ck_assert_int_eq(test_count_lines(rows), 5);
}
END_TEST

/* --images FOLDER of class folders: rows in the folder's order (classes by
 * name, then files by name) as path,label, read as the experiment reads its
 * images; the experiment's own data are not what is written. */
START_TEST(features_of_an_image_folder_list_path_and_label)
{
    Weights w;
    const char *dir = fresh_set("features-folder", &w);
    char cmd[1024], out[8192], path[512];
    snprintf(cmd, sizeof cmd, "mkdir -p %s/pics/dog %s/pics/cat", dir, dir);
    ck_assert_int_eq(system(cmd), 0);
    const char *files[3] = {"cat/a.png", "cat/b.png", "dog/a.png"};
    const int images[3] = {9, 2, 8};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/pics/%s", dir, files[i]);
        write_image(path, images[i]);
    }
    snprintf(cmd, sizeof cmd, "features %s/exp.yaml --weights %s/w.safetensors --layers=fc "
             "--images %s/pics --out=%s/out", dir, dir, dir, dir);
    ck_assert_msg(clrun(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/out", dir);
    check_layer(path, "fc", 2, &w, images, 3);
    char text[1024], want[1024];
    snprintf(path, sizeof path, "%s/out/images.csv", dir);
    test_read_file(path, text, sizeof text);
    snprintf(want, sizeof want, "path,label\n%s/pics/cat/a.png,cat\n%s/pics/cat/b.png,cat\n"
             "%s/pics/dog/a.png,dog\n", dir, dir, dir);
    ck_assert_str_eq(text, want);
}
END_TEST

/* MNIST and the like have no files: index,label, the labels the set's. */
START_TEST(features_of_mnist_list_index_and_label)
{
    const char *dir = "build/test-tmp/features-mnist";
    test_fresh_dir("features-mnist");
    char cmd[1024], out[8192], path[512];
    snprintf(cmd, sizeof cmd, "run experiments/quickstart.yaml train.epochs=0 data.limit=10 "
             "--out %s/run", dir);
    ck_assert_msg(clrun(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "features experiments/quickstart.yaml --weights "
             "%s/run/weights.safetensors --layers fc1 data.limit=10", dir);
    ck_assert_msg(clrun(cmd, out, sizeof out) == 0, "%s", out);
    Dataset ds;
    Err err = {""};
    ck_assert_ok(dataset_open(&ds, "mnist", "test", ".", &err), err);
    char want[512] = "index,label\n";
    for (int i = 0; i < 10; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%d,%d\n", i, ds.labels[i]);
    dataset_free(&ds);
    char text[512];
    snprintf(path, sizeof path, "%s/run/features/images.csv", dir);
    test_read_file(path, text, sizeof text);
    ck_assert_str_eq(text, want);
    snprintf(path, sizeof path, "%s/run/features/fc1.npy", dir);
    NpyArray a;
    ck_assert_ok(npy_read(path, &a, &err), err);
    ck_assert_int_eq(a.shape[0], 10);
    ck_assert_int_eq(a.shape[1], 50);
    npy_free(&a);
}
END_TEST

/* Runs a features command expected to be refused with exit 2 and a message
 * holding want; nothing may appear in dir/never. */
static void refused(const char *dir, const char *args, const char *want)
{
    char cmd[2048], out[16384], never[512];
    snprintf(cmd, sizeof cmd, "features %s/exp.yaml --weights %s/w.safetensors %s", dir, dir,
             args);
    int rc = clrun(cmd, out, sizeof out);
    ck_assert_msg(rc == 2, "exit %d for %s: %s", rc, args, out);
    ck_assert_msg(strstr(out, want), "for %s, wanted \"%s\" in: %s", args, want, out);
    snprintf(never, sizeof never, "%s/never", dir);
    ck_assert_msg(!test_file_exists(never), "%s was made by: %s", never, args);
}

/* Bad input is refused before anything is written, naming what is wrong:
 * an unknown layer (every layer listed), a name twice, no --layers, images
 * that are not there, a bad row of a table, and a folder whose row table
 * would replace the experiment's table. */
START_TEST(features_refuse_bad_input)
{
    Weights w;
    const char *dir = fresh_set("features-bad", &w);
    char path[512], before[2048], after[2048], args[1024];
    snprintf(args, sizeof args, "--layers conv,conv9 --out %s/never", dir);
    refused(dir, args, "no layer named 'conv9' in the model tiny; its layers are conv, act, "
                       "flatten_1, fc, log_softmax_1");
    snprintf(args, sizeof args, "--layers act,fc,act --out %s/never", dir);
    refused(dir, args, "--layers names 'act' twice");
    snprintf(args, sizeof args, "--layers fc, --out %s/never", dir);
    refused(dir, args, "layer names are 1 to");
    snprintf(args, sizeof args, "--out %s/never", dir);
    refused(dir, args, "features needs --layers");
    snprintf(args, sizeof args, "--layers fc --images %s/nothere --out %s/never", dir, dir);
    refused(dir, args, "no such table or folder");
    snprintf(args, sizeof args, "--layers fc --split val --out %s/never", dir);
    refused(dir, args, "--split takes test or train");
    snprintf(path, sizeof path, "%s/bad.csv", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("path,category\nimg/im0.png,boat\nimg/gone.png,boat\n", f);
    ck_assert_int_eq(fclose(f), 0);
    snprintf(args, sizeof args, "--layers fc --images %s --out %s/never", path, dir);
    refused(dir, args, "bad.csv:3:");
    snprintf(path, sizeof path, "%s/img/images.csv", dir);
    test_read_file(path, before, sizeof before);
    snprintf(args, sizeof args, "--layers fc --out %s/img", dir);
    refused(dir, args, "would replace it");
    test_read_file(path, after, sizeof after);
    ck_assert_str_eq(after, before);
    snprintf(path, sizeof path, "%s/img/fc.npy", dir);
    ck_assert_msg(!test_file_exists(path), "a features file was written beside the refusal");
}
END_TEST

/* tools/pyclrun.py's features() gives the arrays numpy.load gives and the
 * row table's records, in order. */
START_TEST(pyclrun_reads_the_features_folder)
{
    Weights w;
    const char *dir = fresh_set("features-py", &w);
    char cmd[2048], out[8192];
    snprintf(cmd, sizeof cmd, "features %s/exp.yaml --weights %s/w.safetensors --layers act,fc "
             "--out %s/f", dir, dir, dir);
    ck_assert_msg(clrun(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 -c \"import sys; sys.path.insert(0, 'tools'); "
             "import numpy as np, pyclrun; d = '%s/f'; "
             "x, rows = pyclrun.features(d); "
             "print(sorted(x), x['act'].dtype, x['act'].shape, "
             "bool((x['fc'] == np.load(d + '/fc.npy')).all()), "
             "[r['path'] for r in rows][:2], rows[0]['note'])\"", dir);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_str_eq(out, "['act', 'fc'] float32 (7, 48) True ['im3.png', 'im0.png'] "
                          "say \"3\", then, go\n");
}
END_TEST

Suite *features_suite(void)
{
    Suite *s = suite_create("features");
    TCase *t = tcase_create("features");
    tcase_set_timeout(t, 600);
    tcase_add_test(t, features_of_a_table_match_a_double_reference);
    tcase_add_test(t, features_of_an_image_folder_list_path_and_label);
    tcase_add_test(t, features_of_mnist_list_index_and_label);
    tcase_add_test(t, features_refuse_bad_input);
    tcase_add_test(t, pyclrun_reads_the_features_folder);
    suite_add_tcase(s, t);
    return s;
}
