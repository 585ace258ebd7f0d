/* check_cli.c: the clrun command as a user meets it: devices, summary, exit
 * codes and messages for malformed experiments, and the quickstart end to end
 * (accuracy, run directory, reloading its weights and config). Runs
 * build/clrun, which `make check` builds first. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/stats.h"
#include "experiment.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "rng.h"
#include "suites.h"
#include "testutil.h"

static char out[1 << 16];

START_TEST(devices_lists_the_pocl_device)
{
    ck_assert_int_eq(clrun("devices", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "0:0  CPU  ") && strstr(out, "Portable Computing Language"),
                  "no POCL CPU device in:\n%s", out);
}
END_TEST

START_TEST(summary_counts_the_seeds_lenet)
{
    ck_assert_int_eq(clrun("summary experiments/quickstart.yaml", out, sizeof out), 0);
    const char *last = strstr(out, "Total params:");
    ck_assert_msg(last && strcmp(last, "Total params: 21840\n") == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "conv1                    conv2d         [10, 24, 24]"));
    ck_assert_int_eq(clrun("summary models/lenet.yaml model.layers.fc1.units=100", out, sizeof out), 0);
    /* 21840 - 16050 - 510 + (320*100 + 100) + (100*10 + 10) */
    ck_assert_ptr_nonnull(strstr(out, "Total params: 38390\n"));
}
END_TEST

/* A broken experiment: exit status 2 and a message holding every fragment. */
static void expect_bad(const char *name, const char *yaml, const char *extra, const char *frag1,
                       const char *frag2)
{
    const char *path = test_write_file(name, yaml);
    char args[1024];
    snprintf(args, sizeof args, "run %s %s --out build/test-tmp/bad-run", path, extra);
    int status = clrun(args, out, sizeof out);
    ck_assert_msg(status == 2, "%s: exit %d, want 2:\n%s", name, status, out);
    ck_assert_msg(strstr(out, frag1), "%s: no '%s' in:\n%s", name, frag1, out);
    ck_assert_msg(!frag2 || strstr(out, frag2), "%s: no '%s' in:\n%s", name, frag2, out);
}

#define EXPERIMENT_HEAD \
    "data: {dataset: mnist}\n" \
    "optimizer: {name: sgd, learning_rate: 0.01}\n" \
    "loss: nll\n"

START_TEST(malformed_experiments_exit_2_naming_file_and_line)
{
    expect_bad("syntax.yaml", EXPERIMENT_HEAD "train: {epochs: 1\nmodel: x\n", "",
               "syntax.yaml:", "YAML syntax error");
    expect_bad("key.yaml", EXPERIMENT_HEAD "train: {epochs: 1, batch_sise: 3}\nmodel: ../../models/lenet.yaml\n",
               "", "key.yaml:4:", "unknown key 'batch_sise'");
    expect_bad("type.yaml", EXPERIMENT_HEAD "train: {batch_size: many}\nmodel: ../../models/lenet.yaml\n",
               "", "type.yaml:4:", "'batch_size' must be an integer");
    expect_bad("fit.yaml", EXPERIMENT_HEAD "train: {epochs: 1}\nmodel:\n  input: [1, 28, 28]\n  layers:\n"
               "    - {name: big, type: conv2d, filters: 4, kernel_size: 30}\n",
               "", "fit.yaml:8:", "layer 'big': kernel_size 30x30 does not fit input 1x28x28");
    expect_bad("layer.yaml", EXPERIMENT_HEAD "train: {epochs: 1}\nmodel:\n  input: [4]\n  layers:\n"
               "    - {type: convolution}\n",
               "", "layer.yaml:8:", "unknown layer type 'convolution'");
    expect_bad("missing.yaml", EXPERIMENT_HEAD "train: {epochs: 1}\nmodel: no-such-model.yaml\n", "",
               "missing.yaml:5:", "no-such-model.yaml");
    expect_bad("override.yaml", EXPERIMENT_HEAD "train: {epochs: 1}\nmodel: ../../models/lenet.yaml\n",
               "trian.epochs=2", "trian", NULL);
    expect_bad("device.yaml", EXPERIMENT_HEAD "train: {epochs: 1}\nmodel: ../../models/lenet.yaml\n",
               "--device no-such-device", "no OpenCL device matches 'no-such-device'", NULL);
    ck_assert_int_eq(clrun("frobnicate", out, sizeof out), 2);
    ck_assert_int_eq(clrun("run", out, sizeof out), 2);
}
END_TEST

static double last_test_accuracy(const char *history)
{
    FILE *f = fopen(history, "r");
    ck_assert_msg(f != NULL, "no %s", history);
    char line[512], header[512];
    ck_assert_ptr_nonnull(fgets(header, sizeof header, f));
    ck_assert_str_eq(header, "epoch,loss,accuracy,val_loss,val_accuracy,test_loss,test_accuracy,"
                             "seconds,images_per_s\n");
    int rows = 0;
    double acc = -1;
    while (fgets(line, sizeof line, f)) {
        int epoch;
        double loss, accuracy, test_loss;
        ck_assert_int_eq(sscanf(line, "%d,%lf,%lf,NA,NA,%lf,%lf", &epoch, &loss, &accuracy,
                                &test_loss, &acc), 5);
        ck_assert_int_eq(epoch, ++rows);
    }
    fclose(f);
    ck_assert_int_eq(rows, 10);
    return acc;
}

static void check_weights(const char *path)
{
    static const struct { const char *name; int ndim; long shape[4]; } want[] = {
        {"conv1.weight", 4, {10, 1, 5, 5}}, {"conv1.bias", 1, {10}},
        {"conv2.weight", 4, {20, 10, 5, 5}}, {"conv2.bias", 1, {20}},
        {"fc1.weight", 2, {50, 320}}, {"fc1.bias", 1, {50}},
        {"fc2.weight", 2, {10, 50}}, {"fc2.bias", 1, {10}},
    };
    StFile f;
    Err err = {""};
    ck_assert_ok(st_read(path, &f, &err), err);
    ck_assert_int_eq(f.n, 8);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const StTensor *t = st_find(&f, want[i].name);
        ck_assert_msg(t != NULL, "no %s", want[i].name);
        ck_assert_int_eq(t->ndim, want[i].ndim);
        for (int d = 0; d < t->ndim; d++)
            ck_assert_int_eq(t->shape[d], want[i].shape[d]);
    }
    st_free(&f);
}

START_TEST(quickstart_reaches_95_percent_and_its_run_directory_reloads)
{
    test_fresh_dir("quickstart");
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml --out build/test-tmp/quickstart", out,
                           sizeof out), 0);
    double printed = 0;
    const char *line = strstr(out, "Test accuracy: ");
    ck_assert_msg(line && sscanf(line, "Test accuracy: %lf", &printed) == 1, "%s", out);
    ck_assert_msg(printed >= 0.95, "quickstart test accuracy %.4f < 0.95:\n%s", printed, out);
    double history = last_test_accuracy("build/test-tmp/quickstart/history.csv");
    ck_assert_double_eq_tol(history, printed, 1e-4);
    check_weights("build/test-tmp/quickstart/weights.safetensors");
    check_png("build/test-tmp/quickstart/history.png");

    /* config.yaml is a complete experiment again, with where it ran */
    Experiment e;
    Err err = {""};
    ck_assert_ok(experiment_load(&e, "build/test-tmp/quickstart/config.yaml", NULL, 0, &err), err);
    ck_assert_int_eq(e.epochs, 10);
    SpecNode *run = spec_get(e.root, "run");
    ck_assert_ptr_nonnull(run);
    ck_assert_ptr_nonnull(spec_get(run, "device"));
    experiment_free(&e);

    /* the saved weights evaluate to the same accuracy */
    test_fresh_dir("eval");
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml train.epochs=0 --out build/test-tmp/eval"
                           " --weights build/test-tmp/quickstart/weights.safetensors",
                           out, sizeof out), 0);
    double again = 0;
    line = strstr(out, "Test accuracy: ");
    ck_assert_msg(line && sscanf(line, "Test accuracy: %lf", &again) == 1, "%s", out);
    ck_assert_double_eq_tol(again, printed, 1e-9);

    /* and refuse a model they do not fit */
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml train.epochs=0 model.layers.fc1.units=60"
                           " --out build/test-tmp/eval"
                           " --weights build/test-tmp/quickstart/weights.safetensors",
                           out, sizeof out), 2);
    ck_assert_msg(strstr(out, "'fc1.weight' has shape [50, 320], the model needs [60, 320]"), "%s", out);
}
END_TEST

/* Every experiment and the parameter total its seed reports (VARIANTS.md). */
static const struct {
    const char *name;
    long params;
    const char *quick; /* overrides for one short epoch in a test */
} experiments[] = {
    {"quickstart", 21840, "data.limit=256"},
    {"lake-similarity", 21840, "data.limit=1000"}, /* 20 pairs of 8s need 40 test 8s */
    {"keras-mlp-linear", 203530, "data.limit=256"},
    {"keras-mlp-relu", 203530, "data.limit=256"},
    {"keras-cnn", 1199882, "data.limit=256"},
    {"keras-cnn-dropout", 1199882, "data.limit=256"},
    {"keras-cifar10", 624106, "data.limit=64"},
    {"keras-playground-spiral", 37, ""},
    {"ds5220-mlp", 101770, "data.limit=256"},
    {"ds5220-mlp-normalized", 101770, "data.limit=256"},
    {"ds5220-cnn", 8490, "data.limit=256"},
    {"cs375-resnet18", 11173962, "data.limit=16 train.batch_size=8"},
    {"cs375-rsa", 11173962, NULL}, /* needs targets: cs375_rsa_compares_with_another_network */
    {"project5-mnist", 21840, "data.limit=256"},
    {"project5-sweep", 21840, "data.limit=256"}, /* `clrun run` runs its base settings */
    {"project5-greek", 21840, "data.limit=256"},
};
#define N_EXPERIMENTS (int)(sizeof experiments / sizeof experiments[0])

START_TEST(experiment_has_its_seeds_parameter_count)
{
    char args[256], want[64];
    snprintf(args, sizeof args, "summary experiments/%s.yaml", experiments[_i].name);
    ck_assert_int_eq(clrun(args, out, sizeof out), 0);
    snprintf(want, sizeof want, "Total params: %ld\n", experiments[_i].params);
    const char *last = strstr(out, "Total params:");
    ck_assert_msg(last && strcmp(last, want) == 0, "%s: want '%s' in:\n%s", experiments[_i].name,
                  want, out);
}
END_TEST

/* A CIFAR-10 tree of random records (a handful per batch file) under dir, for
 * experiments that need CIFAR-10 where the real one is not downloaded. */
static void synthetic_cifar(const char *dir)
{
    static const char *const files[] = {"data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                        "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin"};
    char path[512];
    snprintf(path, sizeof path, "mkdir -p %s/data/cifar10/cifar-10-batches-bin", dir);
    ck_assert_int_eq(system(path), 0);
    uint64_t state = 7;
    for (int f = 0; f < 6; f++) {
        snprintf(path, sizeof path, "%s/data/cifar10/cifar-10-batches-bin/%s", dir, files[f]);
        FILE *fp = fopen(path, "wb");
        ck_assert_ptr_nonnull(fp);
        for (int r = 0; r < 20 * 3073; r++)
            fputc(r % 3073 == 0 ? (int)(rng_next(&state) % 10) : (int)(rng_next(&state) & 255), fp);
        fclose(fp);
    }
}

/* Runs experiments/NAME.yaml with overrides, CIFAR-10 experiments on synthetic
 * CIFAR-10; fails unless it exits 0 and reports a test accuracy. */
static void run_experiment(const char *name, const char *overrides)
{
    char args[2048], env[600] = "";
    if (strstr(name, "cifar") || strstr(name, "resnet") || strstr(name, "cs375")) {
        char root[256];
        snprintf(root, sizeof root, "%s/build/test-tmp/cifar-root", getenv("PWD"));
        synthetic_cifar(root);
        snprintf(env, sizeof env, "CLRUN_ROOT=%s ", root);
    }
    snprintf(args, sizeof args, "%sbuild/clrun run experiments/%s.yaml %s "
             "--overwrite --out build/test-tmp/experiments/%s", env, name, overrides, name);
    ck_assert_msg(test_shell(args, out, sizeof out) == 0, "%s failed:\n%s", name, out);
    ck_assert_msg(strstr(out, "Test accuracy: "), "%s:\n%s", name, out);
}

START_TEST(experiment_runs_one_short_epoch)
{
    char overrides[512];
    if (!experiments[_i].quick)
        return;
    snprintf(overrides, sizeof overrides, "train.epochs=1 %s", experiments[_i].quick);
    run_experiment(experiments[_i].name, overrides);
}
END_TEST

/* The number in the column after `label` (at a line's start) of out, or -1. */
static double profile_column(const char *label, int column)
{
    char key[128];
    snprintf(key, sizeof key, "\n%s ", label);
    const char *at = strstr(out, key);
    double v[3] = {-1, -1, -1};
    if (at && sscanf(at + strlen(key), "%lf %lf %lf%%", &v[0], &v[1], &v[2]) == 3)
        return v[column];
    return -1;
}

/* --profile on the quickstart's LeNet, 4 training and 4 test batches: the
 * launches each table counts follow from the model (8 parameters updated a
 * batch, a forward convolution a batch), the shares add up, and start-up is
 * reported. */
START_TEST(profile_counts_every_launch)
{
    test_fresh_dir("profile");
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml train.epochs=1 data.limit=256 "
                           "--out build/test-tmp/profile --profile", out, sizeof out), 0);
    ck_assert_msg(profile_column("optimizer: sgd_step", 1) == 8 * 4, "%s", out);
    ck_assert_msg(profile_column("conv1 forward: conv_implicit", 1) == 4 + 4, "%s", out);
    ck_assert_msg(profile_column("sgd_step", 1) == 8 * 4, "%s", out);
    const char *table = strstr(out, "\nKernel "), *end = strstr(out, "\nLayer and pass ");
    ck_assert(table && end);
    double shares = 0;
    for (const char *line = strchr(table + 1, '\n'); line && line < end;
         line = strchr(line + 1, '\n')) {
        double seconds, share;
        long launches;
        char name[64];
        if (sscanf(line, "%63s %lf %ld %lf%%", name, &seconds, &launches, &share) == 4)
            shares += share;
    }
    ck_assert_msg(fabs(shares - 100) < 1, "kernel shares add up to %g%%:\n%s", shares, out);
    double in_kernels, wall, first;
    const char *sum = strstr(out, "In kernels: "), *start = strstr(out, "Start-up: ");
    ck_assert_msg(sum && sscanf(sum, "In kernels: %lf s of %lf s", &in_kernels, &wall) == 2 &&
                  in_kernels > 0 && in_kernels <= wall, "%s", out);
    ck_assert_msg(start && sscanf(start, "Start-up: the first batch was done %lf s", &first) == 1 &&
                  first > 0, "%s", out);
}
END_TEST

/* cs375-rsa against keras-cifar10's representation, as its comments describe:
 * every layer's RDM, correlations with the target RDM and PLS readouts of the
 * target responses, one row per layer, and the factorized readout's masks. */
START_TEST(cs375_rsa_compares_with_another_network)
{
    run_experiment("keras-cifar10", "train.epochs=1 data.limit=16");
    run_experiment("cs375-rsa", "data.limit=16 analyses.1.units=100 "
                   "analyses.0.targets=[build/test-tmp/experiments/keras-cifar10/rdm_dense_1.npy] "
                   "analyses.1.targets=build/test-tmp/experiments/keras-cifar10/features_dense_1_test.npy "
                   "analyses.2.targets=build/test-tmp/experiments/keras-cifar10/features_dense_1_test.npy");
    static const char *const layers[] = {"relu", "layer1_1_relu2", "layer2_1_relu2",
                                         "layer3_1_relu2", "layer4_1_relu2", "avgpool", "linear"};
    char path[256], line[512];
    for (int l = 0; l < 7; l++) {
        snprintf(path, sizeof path, "build/test-tmp/experiments/cs375-rsa/rdm_%s.png", layers[l]);
        check_png(path);
    }
    static const char *const tables[] = {"rsa_targets.csv", "readout.csv"};
    for (int t = 0; t < 2; t++) {
        snprintf(path, sizeof path, "build/test-tmp/experiments/cs375-rsa/%s", tables[t]);
        FILE *f = fopen(path, "r");
        ck_assert_msg(f != NULL, "no %s", path);
        ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
        for (int l = 0; l < 7; l++)
            ck_assert_msg(fgets(line, sizeof line, f) && strncmp(line, layers[l], strlen(layers[l])) == 0
                          && line[strlen(layers[l])] == ',', "%s row %d: %s", path, l, line);
        fclose(f);
    }
    check_png("build/test-tmp/experiments/cs375-rsa/rsa_targets.png");
    check_png("build/test-tmp/experiments/cs375-rsa/readout.png");
    check_png("build/test-tmp/experiments/cs375-rsa/factorized_masks_layer3_1_relu2.png");
}
END_TEST

/* The analyses of project5-mnist and ds5220-cnn leave their figures and arrays. */
START_TEST(analyses_write_their_figures_and_arrays)
{
    test_fresh_dir("analyses-p5");
    ck_assert_int_eq(clrun("run experiments/project5-mnist.yaml train.epochs=1 data.limit=256 "
                           "--out build/test-tmp/analyses-p5", out, sizeof out), 0);
    check_png("build/test-tmp/analyses-p5/filters_conv1.png");
    check_png("build/test-tmp/analyses-p5/filters_conv1_applied.png");
    NpyArray f, l;
    Err err = {""};
    ck_assert_ok(npy_read("build/test-tmp/analyses-p5/features_fc1_test.npy", &f, &err), err);
    ck_assert_ok(npy_read("build/test-tmp/analyses-p5/labels_test.npy", &l, &err), err);
    ck_assert_int_eq(f.ndim, 2);
    ck_assert_int_eq(f.shape[0], 256);
    ck_assert_int_eq(f.shape[1], 50);
    ck_assert_int_eq(l.shape[0], 256);
    npy_free(&f);
    npy_free(&l);
    test_fresh_dir("analyses-ds");
    ck_assert_int_eq(clrun("run experiments/ds5220-cnn.yaml train.epochs=1 data.limit=256 "
                           "--out build/test-tmp/analyses-ds", out, sizeof out), 0);
    check_png("build/test-tmp/analyses-ds/predictions.png");
    check_png("build/test-tmp/analyses-ds/misclassified.png");
    check_png("build/test-tmp/analyses-ds/confusion.png");
    check_png("build/test-tmp/analyses-ds/feature_maps_conv1.png");
    check_png("build/test-tmp/analyses-ds/loss_curve.png");
    /* the confusion matrix counts every test example once */
    FILE *csv = fopen("build/test-tmp/analyses-ds/confusion.csv", "r");
    ck_assert_ptr_nonnull(csv);
    char line[512];
    long total = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, csv));
    while (fgets(line, sizeof line, csv))
        for (char *c = strchr(line, ','); c; c = strchr(c + 1, ','))
            total += strtol(c + 1, NULL, 10);
    fclose(csv);
    ck_assert_int_eq(total, 256);
}
END_TEST

/* Features of an image folder equal those of the same images as a folder
 * dataset's test split (another path through data loading), and load in numpy. */
START_TEST(features_of_an_image_folder_match_the_folder_dataset)
{
    const char *yaml =
        "model: ../../models/project5-lenet.yaml\n"
        "data: {dataset: folder, train: ../../data/greek/train, test: ../../data/greek/train,\n"
        "       grayscale: true, invert: true, size: [28, 28]}\n"
        "optimizer: {name: sgd, learning_rate: 0.05}\n"
        "loss: nll\n"
        "train: {epochs: 1, batch_size: 9}\n"
        "analyses:\n"
        "  - {type: features, layer: fc1}\n"
        "  - {type: features, layer: fc1, folder: ../../data/greek/train/, grayscale: true,\n"
        "     invert: true, size: [28, 28]}\n";
    char args[1024];
    test_fresh_dir("folder-features");
    snprintf(args, sizeof args, "run %s --out build/test-tmp/folder-features",
             test_write_file("folder-features.yaml", yaml));
    ck_assert_msg(clrun(args, out, sizeof out) == 0, "%s", out);
    NpyArray split, folder, labels;
    Err err = {""};
    ck_assert_ok(npy_read("build/test-tmp/folder-features/features_fc1_test.npy", &split, &err), err);
    ck_assert_ok(npy_read("build/test-tmp/folder-features/features_fc1_folder_train.npy", &folder,
                          &err), err);
    ck_assert_ok(npy_read("build/test-tmp/folder-features/labels_folder_train.npy", &labels, &err),
                 err);
    ck_assert_int_eq(folder.ndim, 2);
    ck_assert_int_eq(folder.shape[0], 27);
    ck_assert_int_eq(folder.shape[1], 50);
    ck_assert_int_eq(split.shape[0], 27);
    for (int i = 0; i < 27 * 50; i++)
        ck_assert_msg(folder.data[i] == split.data[i], "value %d: %g vs %g", i, folder.data[i],
                      split.data[i]);
    for (int i = 0; i < 27; i++)
        ck_assert_int_eq((int)labels.data[i], i / 9);
    npy_free(&split);
    npy_free(&folder);
    npy_free(&labels);
    ck_assert_int_eq(test_shell("/usr/bin/python3 -c \"import numpy as np; "
                                "d = 'build/test-tmp/folder-features/'; "
                                "f = np.load(d + 'features_fc1_folder_train.npy'); "
                                "print(f.shape, f.dtype, np.load(d + 'labels_folder_train.npy').sum(), "
                                "open(d + 'classes_folder_train.txt').read().split())\"",
                                out, sizeof out), 0);
    ck_assert_str_eq(out, "(27, 50) float32 27 ['alpha', 'beta', 'gamma']\n");
}
END_TEST

/* tools/torch-to-safetensors on a checkpoint PyTorch saved (seed 000's form):
 * every tensor as PyTorch reads it back, and clrun with the converted weights
 * classifies as many test images correctly as PyTorch did. A checkpoint that
 * asks to run code is refused without running it. */
START_TEST(torch_checkpoint_converts_to_weights_clrun_classifies_alike)
{
    ck_assert_msg(test_shell("/usr/bin/python3 tools/torch-to-safetensors "
                             "tests/fixtures/lake_convnet_checkpoint.pt "
                             "build/test-tmp/converted.safetensors", out, sizeof out) == 0,
                  "%s", out);
    StFile got, want;
    Err err = {""};
    ck_assert_ok(st_read("build/test-tmp/converted.safetensors", &got, &err), err);
    ck_assert_ok(st_read("tests/fixtures/lake_convnet_checkpoint.expected.safetensors", &want, &err),
                 err);
    ck_assert_int_eq(got.n, want.n - 1); /* all but test_correct */
    for (int i = 0; i < got.n; i++) {
        const StTensor *a = &got.t[i], *b = st_find(&want, a->name);
        ck_assert_msg(b && a->count == b->count &&
                      memcmp(a->data, b->data, a->count * sizeof *a->data) == 0,
                      "%s differs", a->name);
    }
    const StTensor *correct = st_find(&want, "test_correct");
    ck_assert_ptr_nonnull(correct);
    long torch_correct = lrintf(correct->data[0]);
    st_free(&got);
    st_free(&want);
    test_fresh_dir("converted");
    ck_assert_int_eq(clrun("run experiments/lake-similarity.yaml train.epochs=0 analyses=[] "
                           "--weights build/test-tmp/converted.safetensors --out build/test-tmp/converted",
                           out, sizeof out), 0);
    long clrun_correct = -1;
    const char *line = strstr(out, "Test accuracy: ");
    ck_assert_msg(line && sscanf(line, "Test accuracy: %*f (%ld/2000)", &clrun_correct) == 1, "%s", out);
    ck_assert_msg(labs(clrun_correct - torch_correct) <= 1, "clrun %ld, PyTorch %ld correct",
                  clrun_correct, torch_correct);

    ck_assert_int_eq(test_shell("rm -f build/test-tmp/pwned && /usr/bin/python3 -c \""
                                "import os, pickle, zipfile\n"
                                "class Evil:\n"
                                "    def __reduce__(self): return (os.system, ('touch build/test-tmp/pwned',))\n"
                                "z = zipfile.ZipFile('build/test-tmp/evil.pt', 'w')\n"
                                "z.writestr('evil/data.pkl', pickle.dumps({'state_dict': Evil()}))\n"
                                "z.close()\"", out, sizeof out), 0);
    ck_assert_int_eq(test_shell("/usr/bin/python3 tools/torch-to-safetensors build/test-tmp/evil.pt "
                                "build/test-tmp/evil.safetensors", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "build/test-tmp/evil.pt: it holds a posix.system, which is not part "
                         "of a state_dict"), "%s", out);
    ck_assert_int_ne(access("build/test-tmp/pwned", F_OK), 0);
    ck_assert_int_ne(access("build/test-tmp/evil.safetensors", F_OK), 0);
    ck_assert_int_eq(test_shell("/usr/bin/python3 tools/torch-to-safetensors "
                                "experiments/quickstart.yaml build/test-tmp/yaml.safetensors",
                                out, sizeof out), 2);
    ck_assert_msg(strstr(out, "experiments/quickstart.yaml: not a zip-format PyTorch checkpoint"),
                  "%s", out);
}
END_TEST

/* RSA: RDMs symmetric with a zero diagonal, a layer's RDM as a target
 * correlates with that layer at exactly 1, and every layer with itself. */
START_TEST(rsa_writes_symmetric_rdms_and_correlations)
{
    const char *yaml =
        "model: ../../models/lake-convnet.yaml\n"
        "data: {dataset: mnist, limit: 300}\n"
        "optimizer: {name: sgd, learning_rate: 0.05}\n"
        "loss: nll\n"
        "train: {epochs: 1, batch_size: 50}\n"
        "analyses:\n"
        "  - {type: rsa, layers: [conv1, fc1], limit: 300}\n";
    char args[1024];
    test_fresh_dir("rsa");
    snprintf(args, sizeof args, "run %s --out build/test-tmp/rsa", test_write_file("rsa.yaml", yaml));
    ck_assert_int_eq(clrun(args, out, sizeof out), 0);
    NpyArray rdm;
    Err err = {""};
    ck_assert_ok(npy_read("build/test-tmp/rsa/rdm_fc1.npy", &rdm, &err), err);
    ck_assert_int_eq(rdm.ndim, 2);
    ck_assert_int_eq(rdm.shape[0], 10);
    for (int i = 0; i < 10; i++)
        for (int j = 0; j < 10; j++) {
            double a = rdm.data[i * 10 + j], b = rdm.data[j * 10 + i];
            ck_assert_msg(i == j ? a == 0 : a == b && a > 0 && a <= 2, "rdm[%d][%d] = %g", i, j, a);
        }
    npy_free(&rdm);
    check_png("build/test-tmp/rsa/rdm_conv1.png");
    check_png("build/test-tmp/rsa/rsa_layers.png");
    yaml = "model: ../../models/lake-convnet.yaml\n"
           "data: {dataset: mnist, limit: 300}\n"
           "optimizer: {name: sgd, learning_rate: 0.05}\n"
           "loss: nll\n"
           "train: {epochs: 1, batch_size: 50}\n"
           "analyses:\n"
           "  - {type: rsa, layers: [conv1, fc1], limit: 300, targets: [rsa/rdm_conv1.npy]}\n";
    test_fresh_dir("rsa2");
    snprintf(args, sizeof args, "run %s --out build/test-tmp/rsa2",
             test_write_file("rsa2.yaml", yaml));
    ck_assert_int_eq(clrun(args, out, sizeof out), 0);
    FILE *f = fopen("build/test-tmp/rsa2/rsa_targets.csv", "r");
    ck_assert_ptr_nonnull(f);
    char line[256];
    double r = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    ck_assert_msg(sscanf(line, "conv1,%lf", &r) == 1 && r > 0.999999, "%s", line);
    check_png("build/test-tmp/rsa2/rsa_targets.png");
}
END_TEST

/* ---- readouts: target responses made here from a layer's features ---- */

/* A short training run of model on 200 MNIST images, then its analyses. */
#define READOUT_HEAD(model) \
    "model: ../../models/" model "\n" \
    "data: {dataset: mnist, limit: 200}\n" \
    "optimizer: {name: sgd, learning_rate: 0.05}\n" \
    "loss: nll\n" \
    "train: {epochs: 1, batch_size: 50}\n" \
    "analyses:\n"

enum { READOUT_ITEMS = 200 };

/* Trains head with the features analysis of layer into build/test-tmp/<dir>
 * and returns those features, [READOUT_ITEMS, dims]. */
static NpyArray features_of(const char *head, const char *layer, const char *dir)
{
    char yaml[1024], args[1024], path[512];
    snprintf(yaml, sizeof yaml, "%s  - {type: features, layer: %s}\n", head, layer);
    test_fresh_dir(dir);
    snprintf(args, sizeof args, "run %s --out build/test-tmp/%s",
             test_write_file("features.yaml", yaml), dir);
    ck_assert_int_eq(clrun(args, out, sizeof out), 0);
    NpyArray f;
    Err err = {""};
    snprintf(path, sizeof path, "build/test-tmp/%s/features_%s_test.npy", dir, layer);
    ck_assert_ok(npy_read(path, &f, &err), err);
    ck_assert_int_eq(f.shape[0], READOUT_ITEMS);
    return f;
}

/* Targets f w (w is dims x units, row-major; dims is an item's size, its
 * shape flattened) written as the .npy build/test-tmp/<file>. */
static void write_linear_targets(const NpyArray *f, const double *w, int units, const char *file)
{
    int dims = (int)(f->count / READOUT_ITEMS);
    float *y = malloc((size_t)READOUT_ITEMS * units * sizeof *y);
    ck_assert_ptr_nonnull(y);
    for (int i = 0; i < READOUT_ITEMS; i++)
        for (int u = 0; u < units; u++) {
            double s = 0;
            for (int k = 0; k < dims; k++)
                s += f->data[i * dims + k] * w[k * units + u];
            y[i * units + u] = (float)s;
        }
    char path[512];
    long shape[2] = {READOUT_ITEMS, units};
    Err err = {""};
    snprintf(path, sizeof path, "build/test-tmp/%s", file);
    int rc = npy_write_f32(path, y, 2, shape, &err);
    free(y);
    ck_assert_ok(rc, err);
}

/* Runs head with one more analyses entry on the weights the run in
 * build/test-tmp/<trained> left, into build/test-tmp/<dir>. */
static void run_on_trained(const char *head, const char *entry, const char *trained,
                           const char *dir)
{
    char yaml[1024], args[1024];
    snprintf(yaml, sizeof yaml, "%s  - %s\n", head, entry);
    test_fresh_dir(dir);
    snprintf(args, sizeof args, "run %s train.epochs=0 --weights build/test-tmp/%s/weights.safetensors"
             " --out build/test-tmp/%s", test_write_file("analysis.yaml", yaml), trained, dir);
    ck_assert_int_eq(clrun(args, out, sizeof out), 0);
}

/* Trains head into build/test-tmp/<dir> and writes the targets <file>: 6
 * units, each a fixed random linear function of fc1's 50 features. */
static void fc1_linear_targets(const char *head, const char *dir, const char *file)
{
    NpyArray f = features_of(head, "fc1", dir);
    enum { UNITS = 6 };
    double w[50 * UNITS];
    uint64_t state = 3;
    for (int k = 0; k < 50 * UNITS; k++)
        w[k] = 2 * rng_uniform(&state) - 1;
    write_linear_targets(&f, w, UNITS, file);
    npy_free(&f);
}

/* Readout: targets made as a linear function of fc1's features are
 * recovered from fc1 at r above 0.95. */
START_TEST(readout_recovers_a_linear_function_of_a_layer)
{
    const char *head = READOUT_HEAD("project5-lenet.yaml");
    fc1_linear_targets(head, "readout1", "readout-targets.npy");
    run_on_trained(head, "{type: readout, layers: [conv1, fc1], targets: readout-targets.npy, "
                   "units: 100, splits: 3, lambda: 0.01}", "readout1", "readout2");
    FILE *csv = fopen("build/test-tmp/readout2/readout.csv", "r");
    ck_assert_ptr_nonnull(csv);
    char line[512];
    double r_conv1 = 0, r_fc1 = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, csv));
    ck_assert_str_eq(line, "layer,method,lambda,components,mean_median_r,sd,"
                           "split_0,split_1,split_2\n");
    ck_assert_int_eq(fscanf(csv, "conv1,ridge,0.01,NA,%lf%*[^\n]\n", &r_conv1), 1);
    ck_assert_int_eq(fscanf(csv, "fc1,ridge,0.01,NA,%lf", &r_fc1), 1);
    fclose(csv);
    ck_assert_msg(r_fc1 > 0.95 && r_fc1 > r_conv1, "fc1 %g, conv1 %g", r_fc1, r_conv1);
    check_png("build/test-tmp/readout2/readout.png");
}
END_TEST

/* The same recovery by PLS. 500 components are clamped per layer to min(units,
 * training items - 1), with 160 training items: 50 for fc1's 50 units (so its
 * fit is least squares, and the targets, linear in them, come back at r near
 * 1) and 100 for conv1's 100 sampled units. */
START_TEST(readout_by_pls_clamps_components_and_recovers_a_linear_function)
{
    const char *head = READOUT_HEAD("project5-lenet.yaml");
    fc1_linear_targets(head, "readout-pls1", "readout-pls-targets.npy");
    run_on_trained(head, "{type: readout, layers: [conv1, fc1], targets: readout-pls-targets.npy, "
                   "units: 100, splits: 3, method: pls, components: 500}", "readout-pls1",
                   "readout-pls2");
    FILE *csv = fopen("build/test-tmp/readout-pls2/readout.csv", "r");
    ck_assert_ptr_nonnull(csv);
    char line[512];
    double r_conv1 = 0, r_fc1 = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, csv));
    ck_assert_int_eq(fscanf(csv, "conv1,pls,NA,100,%lf%*[^\n]\n", &r_conv1), 1);
    ck_assert_int_eq(fscanf(csv, "fc1,pls,NA,50,%lf", &r_fc1), 1);
    fclose(csv);
    ck_assert_msg(r_fc1 > 0.99 && r_fc1 > r_conv1, "fc1 %g, conv1 %g", r_fc1, r_conv1);
    check_png("build/test-tmp/readout-pls2/readout.png");
}
END_TEST

#define READOUT_BAD \
    EXPERIMENT_HEAD "train: {epochs: 1}\nmodel: ../../models/lenet.yaml\nanalyses:\n" \
    "  - {type: readout, layers: [fc1], targets: t.npy, "

/* An unknown method is an error at its line; each method's setting is an
 * unknown key under the other. */
START_TEST(readout_rejects_an_unknown_method)
{
    expect_bad("method.yaml", READOUT_BAD "method: lasso}\n", "", "method.yaml:7:52:",
               "method must be ridge or pls, got 'lasso'");
    expect_bad("pls-lambda.yaml", READOUT_BAD "method: pls, lambda: 1}\n", "",
               "pls-lambda.yaml:7:", "unknown key 'lambda'");
    expect_bad("ridge-components.yaml", READOUT_BAD "components: 5}\n", "",
               "ridge-components.yaml:7:", "unknown key 'components'");
}
END_TEST

/* An array's shape, or the test fails. */
static void check_npy_shape(const char *path, int ndim, const long *shape)
{
    NpyArray a;
    Err err = {""};
    ck_assert_ok(npy_read(path, &a, &err), err);
    ck_assert_int_eq(a.ndim, ndim);
    for (int d = 0; d < ndim; d++)
        ck_assert_int_eq(a.shape[d], shape[d]);
    npy_free(&a);
}

/* Factorized readout: targets made by planted masks (a Gaussian blob each)
 * and channel weights on conv2's feature maps [20, 8, 8] are predicted on
 * held-out items at a median r above 0.9; a layer without feature maps is
 * refused before training, naming file and line. */
START_TEST(factorized_readout_fits_planted_units_of_a_layer)
{
    const char *head = READOUT_HEAD("lake-convnet.yaml");
    char yaml[1024];
    snprintf(yaml, sizeof yaml, "%s  - {type: factorized_readout, layer: fc1, targets: t.npy}\n",
             head);
    expect_bad("factorized-fc1.yaml", yaml, "", "factorized-fc1.yaml:7:",
               "layer 'fc1' has output [50]; a factorized readout needs feature maps");
    NpyArray f = features_of(head, "conv2", "factorized1");
    enum { UNITS = 6, C = 20, HW = 64 };
    static double w[C * HW * UNITS]; /* unit u's weight of f[c, p] is wc_u[c] ws_u[p] */
    uint64_t state = 4;
    for (int u = 0; u < UNITS; u++) {
        double cy = 1 + 5 * rng_uniform(&state), cx = 1 + 5 * rng_uniform(&state);
        for (int c = 0; c < C; c++) {
            double wc = 2 * rng_uniform(&state) - 1;
            for (int p = 0; p < HW; p++)
                w[(c * HW + p) * UNITS + u] =
                    wc * exp(-((p / 8 - cy) * (p / 8 - cy) + (p % 8 - cx) * (p % 8 - cx)) / 2);
        }
    }
    write_linear_targets(&f, w, UNITS, "factorized-targets.npy");
    npy_free(&f);
    run_on_trained(head, "{type: factorized_readout, layer: conv2, targets: "
                   "factorized-targets.npy}", "factorized1", "factorized2");
    ck_assert_msg(strstr(out, "Factorized readout of conv2: median held-out r "), "%s", out);
    FILE *csv = fopen("build/test-tmp/factorized2/factorized_readout_conv2.csv", "r");
    ck_assert_ptr_nonnull(csv);
    char line[512];
    double r[UNITS];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, csv));
    ck_assert_str_eq(line, "unit,r\n");
    for (int u = 0; u < UNITS; u++) {
        int unit = -1;
        ck_assert_int_eq(fscanf(csv, "%d,%lf\n", &unit, &r[u]), 2);
        ck_assert_int_eq(unit, u);
    }
    ck_assert_msg(fgetc(csv) == EOF, "more rows than units");
    fclose(csv);
    ck_assert_msg(stats_median(r, UNITS) > 0.9, "median held-out r %g", stats_median(r, UNITS));
    check_npy_shape("build/test-tmp/factorized2/factorized_masks_conv2.npy", 3,
                    (long[]){UNITS, 8, 8});
    check_npy_shape("build/test-tmp/factorized2/factorized_channels_conv2.npy", 2,
                    (long[]){UNITS, C});
    check_png("build/test-tmp/factorized2/factorized_masks_conv2.png");
}
END_TEST

Suite *cli_suite(void)
{
    Suite *s = suite_create("cli");
    TCase *tc = tcase_create("cli");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, devices_lists_the_pocl_device);
    tcase_add_test(tc, summary_counts_the_seeds_lenet);
    tcase_add_test(tc, malformed_experiments_exit_2_naming_file_and_line);
    tcase_add_test(tc, quickstart_reaches_95_percent_and_its_run_directory_reloads);
    tcase_add_test(tc, profile_counts_every_launch);
    tcase_add_test(tc, analyses_write_their_figures_and_arrays);
    tcase_add_test(tc, features_of_an_image_folder_match_the_folder_dataset);
    tcase_add_test(tc, torch_checkpoint_converts_to_weights_clrun_classifies_alike);
    tcase_add_test(tc, rsa_writes_symmetric_rdms_and_correlations);
    tcase_add_test(tc, readout_recovers_a_linear_function_of_a_layer);
    tcase_add_test(tc, readout_by_pls_clamps_components_and_recovers_a_linear_function);
    tcase_add_test(tc, readout_rejects_an_unknown_method);
    tcase_add_test(tc, factorized_readout_fits_planted_units_of_a_layer);
    tcase_add_loop_test(tc, experiment_has_its_seeds_parameter_count, 0, N_EXPERIMENTS);
    tcase_add_loop_test(tc, experiment_runs_one_short_epoch, 0, N_EXPERIMENTS);
    tcase_add_test(tc, cs375_rsa_compares_with_another_network);
    suite_add_tcase(s, tc);
    return s;
}
