/* check_cli.c: the clrun command as a user meets it: devices, summary, exit
 * codes and messages for malformed experiments, and the quickstart end to end
 * (accuracy, run directory, reloading its weights and config). Runs
 * build/clrun, which `make check` builds first. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "analysis/stats.h"
#include "experiment.h"
#include "io/csv.h"
#include "io/npy.h"
#include "io/safetensors.h"
#include "merge.h"
#include "rng.h"
#include "suites.h"
#include "text.h"
#include "testutil.h"
#include "version.h"

static char out[1 << 16];

START_TEST(devices_lists_the_pocl_device)
{
    ck_assert_int_eq(clrun("devices", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "0:0  CPU  ") && strstr(out, "Portable Computing Language"),
                  "no POCL CPU device in:\n%s", out);
}
END_TEST

/* Help on every command, on request only, to stdout with exit 0. */
START_TEST(help_and_version_answer_with_exit_0)
{
    static const char *const commands[] = {"devices", "summary", "run", "evaluate", "predict",
                                           "features", "sweep", "merge"};
    enum { N_COMMANDS = sizeof commands / sizeof commands[0] };
    ck_assert_int_eq(clrun("help", out, sizeof out), 0);
    for (int i = 0; i < N_COMMANDS; i++) {
        char want[64];
        snprintf(want, sizeof want, "  clrun %s ", commands[i]);
        ck_assert_msg(strstr(out, want), "help does not list %s:\n%s", commands[i], out);
    }
    for (int i = 0; i < N_COMMANDS; i++) {
        char want[64], args[64];
        snprintf(want, sizeof want, "usage: clrun %s", commands[i]);
        snprintf(args, sizeof args, "%s --help", commands[i]);
        ck_assert_int_eq(clrun(args, out, sizeof out), 0);
        ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "%s:\n%s", args, out);
        snprintf(args, sizeof args, "help %s", commands[i]);
        ck_assert_int_eq(clrun(args, out, sizeof out), 0);
        ck_assert_msg(strncmp(out, want, strlen(want)) == 0, "%s:\n%s", args, out);
    }
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml -h", out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "usage: clrun run"));
    ck_assert_int_eq(clrun("--version", out, sizeof out), 0);
    ck_assert_str_eq(out, "clrun " CLRUN_VERSION "\n");
    ck_assert_int_eq(clrun("help nonsense", out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "no command 'nonsense'"));
}
END_TEST

/* The usage text follows usage errors only, not a failure of the run itself. */
START_TEST(usage_follows_usage_errors_only)
{
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml --bogus", out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "unknown option '--bogus'"));
    ck_assert_ptr_nonnull(strstr(out, "usage:"));
    ck_assert_int_eq(clrun("run build/test-tmp/no-such-experiment.yaml", out, sizeof out), 2);
    ck_assert_ptr_null(strstr(out, "usage:"));
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml --profile=yes", out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "takes no value"));
}
END_TEST

/* --out=DIR as well as --out DIR. */
START_TEST(out_option_takes_an_equals_sign)
{
    test_fresh_dir("out-equals");
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml train.epochs=1 data.limit=200 "
                           "--out=build/test-tmp/out-equals", out, sizeof out), 0);
    ck_assert_int_eq(access("build/test-tmp/out-equals/SUCCESS", F_OK), 0);
}
END_TEST

/* Into a pipe, stdout is written line by line: lines printed before an
 * error (on unbuffered stderr) come before it in the combined stream. */
START_TEST(output_into_a_pipe_appears_line_by_line)
{
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml --weights build/test-tmp/none.safetensors"
                           " --out build/test-tmp/piped 2>&1 | cat", out, sizeof out), 0);
    const char *data = strstr(out, "Data: "), *error = strstr(out, "none.safetensors");
    ck_assert_msg(data && error && data < error, "stdout came after stderr:\n%s", out);
}
END_TEST

/* Runs build/clrun with argv, its stdout and stderr into one pipe held in
 * buf; once the output holds `after`, sends it sig. The exit status, or -1. */
static int clrun_signalled(char *const argv[], const char *after, int sig, char *buf, size_t size)
{
    int fd[2];
    ck_assert_int_eq(pipe(fd), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        dup2(fd[1], STDOUT_FILENO);
        dup2(fd[1], STDERR_FILENO);
        close(fd[0]);
        execv("build/clrun", argv);
        _exit(127);
    }
    close(fd[1]);
    size_t used = 0;
    ssize_t got;
    int sent = 0;
    while ((got = read(fd[0], buf + used, size - 1 - used)) > 0) {
        used += (size_t)got;
        buf[used] = 0;
        if (!sent && strstr(buf, after))
            sent = kill(pid, sig) == 0;
    }
    close(fd[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(sent, "never saw '%s' in:\n%s", after, buf);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* The data line counts what each split holds after validation_split and
 * data.limit, with thousands separators. */
START_TEST(data_line_counts_each_split)
{
    test_fresh_dir("data-line");
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml train.epochs=1 data.limit=1500 "
                           "data.validation_split=0.2 --out build/test-tmp/data-line",
                           out, sizeof out), 0);
    ck_assert_msg(strstr(out, ": 1,200 training, 300 validation and 1,500 test examples (data.limit:"
                         " the first 1500 of the training and of the test set)\n"), "%s", out);
}
END_TEST

/* plot.dpi: 200 gives figures of twice the pixels; out of range, exit 2. */
START_TEST(plot_dpi_sets_the_figures_resolution)
{
    test_fresh_dir("dpi");
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml train.epochs=1 data.limit=300 "
                           "'plot={dpi: 200}' --out build/test-tmp/dpi", out, sizeof out), 0);
    TestPixels p = test_read_png("build/test-tmp/dpi/history.png");
    free(p.rgb);
    ck_assert_int_eq(p.w, 1800);
    ck_assert_int_eq(p.h, 1200);
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml 'plot={dpi: 5}' --out build/test-tmp/dpi",
                           out, sizeof out), 2);
    ck_assert_msg(strstr(out, "'dpi' must be between 50 and 400"), "%s", out);
}
END_TEST

/* plot.format: svg and pdf write each figure as a vector file of that
 * format (by its header and trailer, and of a size that holds a drawing),
 * the images of an analysis included, and no PNG; an unknown format, exit 2. */
START_TEST(plot_format_writes_svg_and_pdf)
{
    static const char *const formats[2][3] = {{"svg", "<?xml", "</svg>"}, {"pdf", "%PDF-", "%%EOF"}};
    static const char *const figures[] = {"history", "confusion", "predictions"};
    static char file[1 << 18];
    char args[512], path[256];
    for (int f = 0; f < 2; f++) {
        test_fresh_dir("format");
        snprintf(args, sizeof args, "run experiments/quickstart.yaml train.epochs=1 data.limit=200 "
                 "'plot={format: %s}' 'analyses=[{type: predictions, count: 4}]' "
                 "--out build/test-tmp/format", formats[f][0]);
        ck_assert_msg(clrun(args, out, sizeof out) == 0, "%s", out);
        for (size_t i = 0; i < sizeof figures / sizeof figures[0]; i++) {
            snprintf(path, sizeof path, "build/test-tmp/format/%s.%s", figures[i], formats[f][0]);
            size_t n = test_read_file(path, file, sizeof file);
            ck_assert_msg(n > 5000 && n < sizeof file - 1, "%s: %zu bytes", path, n);
            ck_assert_msg(strncmp(file, formats[f][1], strlen(formats[f][1])) == 0, "%s: %.20s",
                          path, file);
            ck_assert_msg(strstr(file + n - 16, formats[f][2]), "%s ends in %.16s", path,
                          file + n - 16);
            snprintf(path, sizeof path, "build/test-tmp/format/%s.png", figures[i]);
            ck_assert_int_eq(access(path, F_OK), -1);
        }
    }
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml 'plot={format: gif}' "
                           "--out build/test-tmp/format-gif", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "unknown figure format 'gif' (known: png, svg, pdf)"), "%s", out);
    ck_assert_int_eq(access("build/test-tmp/format-gif", F_OK), -1);
}
END_TEST

/* summary --tensors: each tensor with PyTorch's name and shape (those of the
 * seed's LeNet in PyTorch), counts with separators; the last line unchanged. */
START_TEST(summary_lists_tensors_with_pytorch_names)
{
    static const char *const rows[] = {
        "conv1.weight", "[10, 1, 5, 5]", "250",   "conv1.bias", "[10]",      "10",
        "conv2.weight", "[20, 10, 5, 5]", "5,000", "conv2.bias", "[20]",      "20",
        "fc1.weight",   "[50, 320]",      "16,000", "fc1.bias",  "[50]",      "50",
        "fc2.weight",   "[10, 50]",       "500",   "fc2.bias",   "[10]",      "10"};
    ck_assert_int_eq(clrun("summary experiments/quickstart.yaml --tensors", out, sizeof out), 0);
    for (int i = 0; i < 8; i++) {
        char want[128];
        snprintf(want, sizeof want, "\n%-40s %-20s %12s  yes\n", rows[3 * i], rows[3 * i + 1],
                 rows[3 * i + 2]);
        ck_assert_msg(strstr(out, want), "no '%s' in:\n%s", want + 1, out);
    }
    ck_assert_ptr_nonnull(strstr(out, "\nTrainable params: 21,840\nNon-trainable params: 0\n"));
    const char *last = strstr(out, "Total params:");
    ck_assert_msg(last && strcmp(last, "Total params: 21,840\n") == 0, "%s", out);
}
END_TEST

/* clrun evaluate: the same loss and accuracy as the run that saved the
 * weights reported for them, and no run directory; --per-class counts add up
 * to the run's correct predictions over the 500 test examples. */
/* Keras' spelling, a dense softmax under sparse_categorical_crossentropy,
 * trains as clrun's own (logits under cross_entropy) does, to the last
 * printed digit: the loss is fused with the softmax. Evaluating its weights
 * gives the same loss and accuracy as those of clrun's spelling. */
START_TEST(keras_spelling_trains_as_clruns_own)
{
    static const char *const spellings[2][3] = {
        {"keras", "sparse_categorical_crossentropy", ", activation: softmax"},
        {"clrun", "cross_entropy", ""}};
    char history[2][4096], said[2][256], args[512], yaml[1024], name[64];
    for (int i = 0; i < 2; i++) {
        snprintf(yaml, sizeof yaml,
                 "model: {input: [1, 28, 28], layers: [{type: flatten}, {name: h, type: dense, "
                 "units: 16, activation: relu}, {name: out, type: dense, units: 10%s}]}\n"
                 "data: {dataset: mnist, limit: 300}\n"
                 "optimizer: {name: sgd, learning_rate: 0.1}\nloss: %s\n"
                 "train: {epochs: 2, batch_size: 32, seed: 5}\n", spellings[i][2],
                 spellings[i][1]);
        snprintf(name, sizeof name, "spelling-%s", spellings[i][0]);
        const char *path = test_write_file(name, yaml);
        test_fresh_dir(name);
        snprintf(args, sizeof args, "run %s --out build/test-tmp/%s", path, name);
        ck_assert_msg(clrun(args, out, sizeof out) == 0, "%s", out);
        snprintf(args, sizeof args, "build/test-tmp/%s/history.csv", name);
        test_history_numbers(args, history[i], sizeof history[i]);
        snprintf(args, sizeof args, "evaluate %s --weights build/test-tmp/%s/weights.safetensors",
                 path, name);
        ck_assert_msg(clrun(args, out, sizeof out) == 0, "%s", out);
        const char *line = strstr(out, "Evaluation on the test split");
        ck_assert_msg(line, "%s", out);
        snprintf(said[i], sizeof said[i], "%.*s", (int)strcspn(line, "\n"), line);
    }
    ck_assert_str_eq(history[0], history[1]);
    ck_assert_str_eq(said[0], said[1]);
}
END_TEST

START_TEST(evaluate_reports_what_the_run_reported)
{
    const char *yaml = test_write_file("evalonly.yaml",
                                       "model: ../../models/lenet.yaml\n"
                                       "data: {dataset: mnist, limit: 500}\n"
                                       "optimizer: {name: sgd, learning_rate: 0.01, momentum: 0.5}\n"
                                       "loss: nll\n"
                                       "train: {epochs: 1, batch_size: 64, seed: 42}\n");
    char args[512];
    test_fresh_dir("evaluated");
    snprintf(args, sizeof args, "run %s --out build/test-tmp/evaluated", yaml);
    ck_assert_int_eq(clrun(args, out, sizeof out), 0);
    double acc = 0, loss = 0;
    int right = 0;
    const char *said = strstr(out, "Test accuracy: ");
    ck_assert_msg(said && sscanf(said, "Test accuracy: %lf (%d/500), test loss: %lf", &acc, &right,
                                 &loss) == 3, "%s", out);
    test_shell("rm -rf runs/evalonly", out, sizeof out);
    snprintf(args, sizeof args, "evaluate %s --weights build/test-tmp/evaluated/weights.safetensors",
             yaml);
    char per_class[sizeof args + 16];
    snprintf(per_class, sizeof per_class, "%s --per-class", args);
    ck_assert_int_eq(clrun(per_class, out, sizeof out), 0);
    const char *table = strstr(out, "class                  examples    correct  accuracy\n");
    ck_assert_msg(table, "%s", out);
    int examples = 0, correct = 0;
    for (const char *row = strchr(table, '\n') + 1; *row; row = strchr(row, '\n') + 1) {
        int e = 0, c = 0;
        ck_assert_msg(sscanf(row, "%*s %d %d", &e, &c) == 2, "%s", row);
        examples += e, correct += c;
    }
    ck_assert_int_eq(examples, 500);
    ck_assert_int_eq(correct, right);
    ck_assert_int_eq(clrun(args, out, sizeof out), 0);
    char want[128];
    snprintf(want, sizeof want, "Evaluation on the test split (500 examples): loss %.4f, accuracy "
             "%.4f (%d/500)\n", loss, acc, right);
    ck_assert_msg(strstr(out, want), "no '%s' in:\n%s", want, out);
    ck_assert_int_ne(access("runs/evalonly", F_OK), 0);
    strcat(args, " --split val");
    ck_assert_int_eq(clrun(args, out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "no validation split"));
    snprintf(args, sizeof args, "evaluate %s", yaml);
    ck_assert_int_eq(clrun(args, out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "evaluate needs --weights FILE"));
}
END_TEST

/* tools/pyclrun.py reads a run: history records (NA as None) that match what
 * the run printed, the weights by PyTorch name and shape, int64 labels (names
 * with or without .npy); without numpy it says that numpy is missing. */
START_TEST(python_reader_reads_a_run)
{
    const char *yaml = test_write_file("pyreader.yaml",
                                       "model: ../../models/lenet.yaml\n"
                                       "data: {dataset: mnist, limit: 200}\n"
                                       "optimizer: {name: sgd, learning_rate: 0.01, momentum: 0.5}\n"
                                       "loss: nll\n"
                                       "train: {epochs: 2, batch_size: 64, seed: 42}\n"
                                       "analyses:\n  - {type: features, layer: fc1}\n");
    char args[512];
    test_fresh_dir("pyreader");
    snprintf(args, sizeof args, "run %s --out build/test-tmp/pyreader", yaml);
    ck_assert_int_eq(clrun(args, out, sizeof out), 0);
    double loss = 0;
    const char *said = strstr(out, "test loss: ");
    ck_assert_msg(said && sscanf(said, "test loss: %lf", &loss) == 1, "%s", out);
    ck_assert_int_eq(test_shell("/usr/bin/python3 -c \"import sys; sys.path.insert(0, 'tools'); "
                                "import pyclrun; d = 'build/test-tmp/pyreader'; "
                                "h = pyclrun.history(d); "
                                "w = pyclrun.read_safetensors(d + '/weights.safetensors'); "
                                "y = pyclrun.load_npy(d, 'labels_test'); "
                                "f = pyclrun.load_npy(d, 'features_fc1_test.npy'); "
                                "print(len(h), h[1]['epoch'], h[0]['val_loss'], sorted(w)[0], "
                                "w['fc1.weight'].shape, y.dtype, f.dtype, f.shape, "
                                "'%.4f' % h[-1]['test_loss'])\"", out, sizeof out), 0);
    char want[160];
    snprintf(want, sizeof want, "2 2 None conv1.bias (50, 320) int64 float32 (200, 50) %.4f\n", loss);
    ck_assert_str_eq(out, want);
    ck_assert_int_ne(test_shell("mkdir -p build/test-tmp/no-numpy && echo 'raise ImportError(1)' > "
                                "build/test-tmp/no-numpy/numpy.py && PYTHONPATH=build/test-tmp/"
                                "no-numpy python3 -c \"import sys; sys.path.insert(0, 'tools'); "
                                "import pyclrun\"", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "pyclrun needs numpy, which this python"), "%s", out);
}
END_TEST

/* Two analyses of a type with fixed file names keep both sets of files: in
 * <type>_<index>/, or in the directory their name: gives. */
START_TEST(two_analyses_of_one_type_write_separate_files)
{
    const char *head = "model: ../../models/project5-lenet.yaml\n"
                       "data: {dataset: mnist, limit: 400}\n"
                       "optimizer: {name: sgd, learning_rate: 0.01, momentum: 0.5}\n"
                       "loss: nll\ntrain: {epochs: 1}\nanalyses:\n"
                       "  - {type: predictions, count: 4}\n  - {type: predictions, count: 8}\n";
    char yaml[1024], args[512];
    snprintf(yaml, sizeof yaml, "%s  - {type: rsa, layers: [conv1, fc1], name: rsa-a}\n"
             "  - {type: features, layer: fc1}\n", head);
    test_fresh_dir("two-analyses");
    snprintf(args, sizeof args, "run %s --out build/test-tmp/two-analyses",
             test_write_file("two-analyses.yaml", yaml));
    ck_assert_int_eq(clrun(args, out, sizeof out), 0);
    ck_assert(test_file_exists("build/test-tmp/two-analyses/predictions_0/confusion.csv"));
    ck_assert(test_file_exists("build/test-tmp/two-analyses/predictions_1/confusion.csv"));
    ck_assert(test_file_exists("build/test-tmp/two-analyses/rsa-a/rsa_layers.csv"));
    ck_assert(test_file_exists("build/test-tmp/two-analyses/features_fc1_test.npy"));
    ck_assert(!test_file_exists("build/test-tmp/two-analyses/confusion.csv"));
    snprintf(yaml, sizeof yaml, "%s  - {type: rsa, layers: [fc1], name: p}\n"
             "  - {type: readout, layers: [fc1], targets: t.npy, name: p}\n", head);
    snprintf(args, sizeof args, "run %s --out build/test-tmp/two-analyses",
             test_write_file("two-alike.yaml", yaml));
    ck_assert_int_eq(clrun(args, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "analyses 2 and 3 would write into the same directory p/"), "%s", out);
}
END_TEST

/* Early stopping by Keras' rule (stop once val_loss has not improved for
 * `patience` epochs), checked against the history; the best epoch's weights,
 * evaluated again, give that epoch's validation scores; the rate in effect
 * is in the history. */
START_TEST(early_stopping_and_the_best_weights)
{
    const char *yaml = test_write_file("early.yaml",
        "model: ../../models/lenet.yaml\n"
        "data: {dataset: mnist, limit: 600, validation_split: 0.2}\n"
        "optimizer: {name: sgd, learning_rate: 0.5}\n"
        "loss: nll\n"
        "train: {epochs: 30, batch_size: 64, seed: 1, early_stopping: {monitor: val_loss, "
        "patience: 2}, save_best: {monitor: val_accuracy}}\n");
    char args[512];
    test_fresh_dir("early");
    snprintf(args, sizeof args, "run %s --out build/test-tmp/early", yaml);
    ck_assert_int_eq(clrun(args, out, sizeof out), 0);
    FILE *f = fopen("build/test-tmp/early/history.csv", "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    double val_loss[31], val_acc[31], lr = 0;
    int epochs = 0;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    ck_assert_ptr_nonnull(strstr(line, ",images_per_s,lr\n"));
    while (fgets(line, sizeof line, f) && epochs < 30) {
        int e;
        ck_assert_int_eq(sscanf(line, "%d,%*f,%*f,%lf,%lf,%*f,%*f,%*f,%*f,%lf", &e,
                                &val_loss[epochs + 1], &val_acc[epochs + 1], &lr), 4);
        ck_assert_int_eq(e, ++epochs);
        ck_assert_double_eq(lr, 0.5);
    }
    fclose(f);
    int best = 1, best_acc = 1, stop = 0;  /* replayed here: best val_loss, then 2 worse */
    for (int e = 1; e <= epochs && !stop; e++) {
        if (val_loss[e] < val_loss[best])
            best = e;
        if (val_acc[e] > val_acc[best_acc])
            best_acc = e;
        stop = e - best >= 2;
        ck_assert_msg(!stop || e == epochs, "should have stopped after epoch %d of %d", e, epochs);
    }
    ck_assert_msg(stop && epochs < 30, "ran %d epochs", epochs);
    char want[128];
    snprintf(want, sizeof want, "Early stopping after epoch %d: val_loss", epochs);
    ck_assert_msg(strstr(out, want), "no '%s' in:\n%s", want, out);
    char *text = NULL;
    size_t cap = 0;
    f = fopen("build/test-tmp/early/weights_best.txt", "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_gt(getdelim(&text, &cap, 0, f), 0);
    fclose(f);
    snprintf(want, sizeof want, "epoch %d\nval_accuracy %.6f\n", best_acc, val_acc[best_acc]);
    ck_assert_str_eq(text, want);
    free(text);
    snprintf(args, sizeof args, "evaluate %s --weights build/test-tmp/early/weights_best.safetensors "
             "--split val", yaml);
    ck_assert_int_eq(clrun(args, out, sizeof out), 0);
    snprintf(want, sizeof want, "(120 examples): loss %.4f, accuracy %.4f", val_loss[best_acc],
             val_acc[best_acc]);
    ck_assert_msg(strstr(out, want), "no '%s' in:\n%s", want, out);
    snprintf(args, sizeof args, "run %s data.validation_split=0 --out build/test-tmp/early", yaml);
    ck_assert_int_eq(clrun(args, out, sizeof out), 2);
    ck_assert_ptr_nonnull(strstr(out, "monitor val_loss needs a validation split"));
}
END_TEST

/* clrun predict on 20 MNIST test digits written as PNG files: the same class
 * probabilities as the features analysis reads off the model's log_softmax
 * output for the same digits from the IDX files (a different path in). */
START_TEST(predict_gives_the_models_probabilities_for_image_files)
{
    char yaml[256]; /* test_write_file's answer lasts until its next call */
    snprintf(yaml, sizeof yaml, "%s", test_write_file("predict.yaml",
        "model: ../../models/lenet.yaml\n"
        "data: {dataset: mnist, limit: 500, normalize: {mean: 0.1307, std: 0.3081}}\n"
        "optimizer: {name: sgd, learning_rate: 0.01, momentum: 0.5}\n"
        "loss: nll\n"
        "train: {epochs: 1, batch_size: 64, seed: 42}\n"
        "analyses:\n  - {type: features, layer: log_softmax_1, limit: 20}\n"));
    const char *script = test_write_file("digits.py",
        "import os, struct, sys, zlib\n"
        "sys.path.insert(0, 'tools')\n"
        "import pyclrun\n"
        "def chunk(t, d):\n"
        "    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))\n"
        "images, _ = pyclrun.mnist_sample('t10k')\n"
        "os.makedirs(sys.argv[1], exist_ok=True)\n"
        "for i in range(20):\n"
        "    raw = b''.join(b'\\0' + row.tobytes() for row in images[i])\n"
        "    with open('%s/%02d.png' % (sys.argv[1], i), 'wb') as f:\n"
        "        f.write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 28, 28, "
        "8, 0, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))\n");
    char cmd[1024];
    test_fresh_dir("predict");
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s build/test-tmp/predict/digits", script);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "run %s --out build/test-tmp/predict/run", yaml);
    ck_assert_msg(clrun(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "predict %s --weights build/test-tmp/predict/run/weights.safetensors "
             "--out=build/test-tmp/predict/predictions.csv build/test-tmp/predict/digits", yaml);
    ck_assert_int_eq(clrun(cmd, out, sizeof out), 0);
    ck_assert_ptr_nonnull(strstr(out, "Predictions for 20 images: build/test-tmp/predict/predictions.csv"));
    ck_assert_int_eq(test_shell("/usr/bin/python3 -c \"import csv, numpy as np; "
                                "d = 'build/test-tmp/predict/'; "
                                "rows = list(csv.reader(open(d + 'predictions.csv'))); "
                                "p = np.array([[float(v) for v in r[2:]] for r in rows[1:]]); "
                                "want = np.exp(np.load(d + 'run/features_log_softmax_1_test.npy')); "
                                "print(rows[0][:3], len(rows) - 1, rows[1][0], "
                                "float(abs(p - want).max()) < 2e-6, "
                                "[int(r[1]) for r in rows[1:]] == list(want.argmax(1)))\"",
                                out, sizeof out), 0);
    ck_assert_str_eq(out, "['file', 'predicted', '0'] 20 build/test-tmp/predict/digits/00.png "
                          "True True\n");
}
END_TEST

/* Without --out, predict writes into predict/ beside the weights (their run),
 * never the current folder: the CSV with clean paths (a folder given as
 * "paper/" gives no "//") and predictions.png. Images far from the training
 * data's statistics (dark digits on white) are warned about, with --invert
 * suggested; --invert quiets it. --out into folders that do not exist yet
 * makes them. --out naming the weights (by another spelling) is refused
 * before anything is written. */
START_TEST(predict_writes_beside_the_weights_and_warns_of_inverted_images)
{
    char yaml[256];
    snprintf(yaml, sizeof yaml, "%s", test_write_file("predict-default.yaml",
        "model: {input: [1, 28, 28], layers: [{type: flatten}, {name: fc, type: dense, units: 10},"
        " {type: log_softmax}]}\n"
        "data: {dataset: mnist, limit: 200}\n"
        "optimizer: {name: sgd, learning_rate: 0.1}\nloss: nll\ntrain: {epochs: 1}\n"));
    const char *script = test_write_file("inverted.py",
        "import os, struct, sys, zlib\n"
        "sys.path.insert(0, 'tools')\n"
        "import pyclrun\n"
        "def chunk(t, d):\n"
        "    return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))\n"
        "images, _ = pyclrun.mnist_sample('t10k')\n"
        "os.makedirs(sys.argv[1], exist_ok=True)\n"
        "for i in range(4):\n"
        "    raw = b''.join(b'\\0' + (255 - row).tobytes() for row in images[i])\n"
        "    with open('%s/%02d.png' % (sys.argv[1], i), 'wb') as f:\n"
        "        f.write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', 28, 28, "
        "8, 0, 0, 0, 0)) + chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))\n");
    char cmd[1024];
    test_fresh_dir("predict-default");
    const char *dir = "build/test-tmp/predict-default";
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 %s %s/paper", script, dir);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "run %s --out %s/run", yaml, dir);
    ck_assert_msg(clrun(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(cmd, sizeof cmd, "cd %s && ../../clrun predict ../../../%s --weights "
             "run/weights.safetensors paper/", dir, yaml);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "--invert (dark writing on a light page) would bring them closer"),
                  "%s", out);
    ck_assert_msg(strstr(out, ": run/predict/predictions.csv and run/predict/predictions.png"),
                  "%s", out);
    char path[256], csv[4096];
    snprintf(path, sizeof path, "%s/predictions.csv", dir);
    ck_assert_msg(!test_file_exists(path), "predict wrote into the current folder");
    snprintf(path, sizeof path, "%s/run/predict/predictions.csv", dir);
    test_read_file(path, csv, sizeof csv);
    ck_assert_msg(strstr(csv, "\npaper/00.png,") && !strstr(csv, "//"), "%s", csv);
    snprintf(path, sizeof path, "%s/run/predict/predictions.png", dir);
    check_png(path);
    snprintf(cmd, sizeof cmd, "cd %s && ../../clrun predict ../../../%s --weights "
             "run/weights.safetensors --invert paper", dir, yaml);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(!strstr(out, "Warning"), "%s", out);
    snprintf(cmd, sizeof cmd, "build/clrun predict %s --weights %s/run/weights.safetensors --out "
             "%s/new/folder/p.csv %s/paper", yaml, dir, dir, dir);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/new/folder/p.csv", dir);
    test_read_file(path, csv, sizeof csv);
    ck_assert_msg(strstr(csv, "paper/00.png,"), "%s", csv);
    snprintf(path, sizeof path, "%s/new/folder/p.png", dir);
    check_png(path);
    snprintf(cmd, sizeof cmd, "cp %s/run/weights.safetensors %s/w.safetensors && build/clrun "
             "predict %s --weights %s/w.safetensors --out %s/./w.safetensors %s/paper", dir, dir,
             yaml, dir, dir, dir);
    ck_assert_int_eq(test_shell(cmd, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "is the same file as build/test-tmp/predict-default/w.safetensors, "
                              "an input of this command"), "%s", out);
    snprintf(cmd, sizeof cmd, "cmp %s/run/weights.safetensors %s/w.safetensors", dir, dir);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "the weights changed: %s", out);
}
END_TEST

/* "--" ends the options: what follows is the file (and predict's images),
 * even when it starts with '-'. */
START_TEST(double_dash_ends_the_options)
{
    test_fresh_dir("dash");
    FILE *f = fopen("build/test-tmp/dash/-model.yaml", "w");
    ck_assert_ptr_nonnull(f);
    fputs("input: [4]\nlayers: [{name: fc, type: dense, units: 3}]\n", f);
    fclose(f);
    ck_assert_int_eq(test_shell("cd build/test-tmp/dash && ../../clrun summary -- -model.yaml",
                                out, sizeof out), 0);
    ck_assert_msg(strstr(out, "Total params: 15"), "%s", out);
    ck_assert_int_eq(test_shell("cd build/test-tmp/dash && ../../clrun summary -- -model.yaml "
                                "--tensors", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "unexpected argument '--tensors'"), "%s", out);
}
END_TEST

/* An experiment file named "...yaml" or "..yaml" would name its run
 * runs/.. or runs/. (the working folder, or runs/ itself): refused, nothing
 * written; --out still works. */
START_TEST(run_names_from_file_names_stay_under_runs)
{
    test_fresh_dir("dots");
    const char *yaml = "model: {input: [2], layers: [{name: fc, type: dense, units: 1, "
                       "activation: sigmoid}]}\ndata: {dataset: playground, points: 40}\n"
                       "optimizer: {name: sgd, learning_rate: 0.1}\n"
                       "loss: binary_cross_entropy\ntrain: {epochs: 1, batch_size: 10}\n";
    static const char *const names[] = {"...yaml", "..yaml"};
    for (int i = 0; i < 2; i++) {
        char path[128], cmd[256];
        snprintf(path, sizeof path, "build/test-tmp/dots/%s", names[i]);
        FILE *f = fopen(path, "w");
        ck_assert_ptr_nonnull(f);
        fputs(yaml, f);
        fclose(f);
        for (int sweep = 0; sweep < 2; sweep++) {
            snprintf(cmd, sizeof cmd, "cd build/test-tmp/dots && mkdir -p runs && ../../clrun %s "
                     "%s%s", sweep ? "sweep" : "run", names[i], sweep ? " train.epochs=1,2" : "");
            ck_assert_int_eq(test_shell(cmd, out, sizeof out), 2);
            ck_assert_msg(strstr(out, "gives no run directory of its own"), "%s", out);
        }
        ck_assert(!test_file_exists("build/test-tmp/dots/history.csv"));
        ck_assert(!test_file_exists("build/test-tmp/dots/runs/history.csv"));
        ck_assert(!test_file_exists("build/test-tmp/dots/sweep.csv"));
        ck_assert(!test_file_exists("build/test-tmp/dots/runs/sweep.csv"));
    }
    ck_assert_int_eq(test_shell("cd build/test-tmp/dots && ../../clrun run ...yaml --out mine",
                                out, sizeof out), 0);
}
END_TEST

/* clrun compare: two runs' histories (read with io/csv.h's reader) in one
 * figure beside the first run, each named by the setting that differs; an
 * --out naming a run's history.csv, one of its inputs, is refused and the
 * history is left as it was. */
START_TEST(compare_overlays_runs_and_never_writes_over_a_history)
{
    test_fresh_dir("compare");
    const char *yaml = test_write_file("compare.yaml",
        "model: {input: [2], layers: [{name: fc, type: dense, units: 1, activation: sigmoid}]}\n"
        "data: {dataset: playground, points: 40}\n"
        "optimizer: {name: sgd, learning_rate: 0.1}\n"
        "loss: binary_cross_entropy\ntrain: {epochs: 2, batch_size: 10}\n");
    char cmd[512];
    for (int i = 0; i < 2; i++) {
        snprintf(cmd, sizeof cmd, "run %s optimizer.learning_rate=%s --out build/test-tmp/compare/%c",
                 yaml, i ? "0.3" : "0.1", 'a' + i);
        ck_assert_msg(clrun(cmd, out, sizeof out) == 0, "%s", out);
    }
    ck_assert_msg(clrun("compare build/test-tmp/compare/a build/test-tmp/compare/b --metric "
                        "loss,test_accuracy", out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "Comparison of 2 runs: build/test-tmp/compare/compare.png"), "%s",
                  out);
    check_png("build/test-tmp/compare/compare.png");
    static char before[8192], after[8192];
    size_t n = test_read_file("build/test-tmp/compare/a/history.csv", before, sizeof before);
    ck_assert_int_eq(clrun("compare build/test-tmp/compare/a build/test-tmp/compare/b --out "
                           "build/test-tmp/compare/a/history.csv", out, sizeof out), 2);
    ck_assert_msg(strstr(out, "is an input of this command"), "%s", out);
    ck_assert_uint_eq(test_read_file("build/test-tmp/compare/a/history.csv", after, sizeof after),
                      n);
    ck_assert(memcmp(before, after, n) == 0);
    ck_assert_int_eq(clrun("compare build/test-tmp/compare/a build/test-tmp/compare/none", out,
                           sizeof out), 2);
    ck_assert_msg(strstr(out, "no history.csv"), "%s", out);
}
END_TEST

/* Class names with a comma or a quote stay one field in every CSV
 * (RFC 4180): confusion.csv, read back by Python's csv module. */
START_TEST(csv_fields_are_quoted_per_rfc_4180)
{
    test_fresh_dir("quoted");
    ck_assert_int_eq(test_shell("cd build/test-tmp/quoted && for s in train test; do "
                                "mkdir -p $s && cp -r ../../../data/greek/$s/alpha \"$s/al,pha\" && "
                                "cp -r ../../../data/greek/$s/beta \"$s/be\\\"ta\"; done", out,
                                sizeof out), 0);
    const char *yaml = "build/test-tmp/quoted/quoted.yaml"; /* folders relative to it */
    FILE *f = fopen(yaml, "w");
    ck_assert_ptr_nonnull(f);
    fputs(
        "model: {input: [1, 28, 28], layers: [{type: flatten}, {name: fc, type: dense, units: 2},"
        " {type: log_softmax}]}\n"
        "data: {dataset: folder, train: train, test: test, grayscale: true, invert: true, "
        "size: [28, 28]}\n"
        "optimizer: {name: sgd, learning_rate: 0.1}\nloss: nll\ntrain: {epochs: 1}\n"
        "analyses:\n  - {type: predictions, count: 2, misclassified: 0}\n", f);
    fclose(f);
    char cmd[512];
    snprintf(cmd, sizeof cmd, "run %s --out build/test-tmp/quoted/run", yaml);
    ck_assert_msg(clrun(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_int_eq(test_shell("/usr/bin/python3 -c \"import csv; print(list(csv.reader(open("
                                "'build/test-tmp/quoted/run/confusion.csv')))[0])\"", out,
                                sizeof out), 0);
    ck_assert_str_eq(out, "['label\\\\prediction', 'al,pha', 'be\"ta']\n");
}
END_TEST

/* Runs argv (whose train.epochs is `epochs`), stops it with Ctrl-C once
 * "Epoch 2/" appears and returns the epoch it says it stopped after; the
 * message stays in out. */
static int stop_after_epoch_2(char *const *argv, int epochs)
{
    char wait_for[32];
    snprintf(wait_for, sizeof wait_for, "Epoch 2/%d", epochs);
    ck_assert_int_eq(clrun_signalled(argv, wait_for, SIGINT, out, sizeof out), 130);
    int epoch = 0;
    const char *said = strstr(out, "clrun: stopped after epoch ");
    ck_assert_msg(said && sscanf(said, "clrun: stopped after epoch %d;", &epoch) == 1, "%s", out);
    ck_assert_msg(epoch >= 2 && epoch < epochs, "stopped after epoch %d", epoch);
    return epoch;
}

/* early_stopping.restore_best_weights (Keras 3): at the end the weights of
 * the best val_loss epoch are put back, so weights.safetensors and the
 * reported test score are that epoch's (history.csv's row of it, and what
 * evaluate says of the weights); a run stopped by Ctrl-C after that epoch
 * and resumed ends with the same weights, bit for bit. */
START_TEST(early_stopping_restores_the_best_weights)
{
    const char *yaml = test_write_file("restore.yaml",
        "model: ../../models/lenet.yaml\n"
        "data: {dataset: mnist, limit: 600, validation_split: 0.2}\n"
        "optimizer: {name: sgd, learning_rate: 0.5}\n"
        "loss: nll\n"
        "train: {epochs: 30, batch_size: 64, seed: 1, early_stopping: {monitor: val_loss, "
        "patience: 2, restore_best_weights: true}}\n");
    char args[512], want[160];
    test_fresh_dir("restore");
    test_fresh_dir("restore-resumed");
    snprintf(args, sizeof args, "run %s --out build/test-tmp/restore", yaml);
    ck_assert_msg(clrun(args, out, sizeof out) == 0, "%s", out);
    static char result[256];
    const char *line = strstr(out, "Test accuracy: ");
    ck_assert_msg(line && sscanf(line, "%255[^\n]", result) == 1, "%s", out);
    FILE *f = fopen("build/test-tmp/restore/history.csv", "r");
    ck_assert_ptr_nonnull(f);
    char row[512];
    double val_loss[31], test_loss[31], test_acc[31];
    int epochs = 0, best = 1;
    ck_assert_ptr_nonnull(fgets(row, sizeof row, f));
    while (epochs < 30 && fgets(row, sizeof row, f)) {
        int e;
        ck_assert_int_eq(sscanf(row, "%d,%*f,%*f,%lf,%*f,%lf,%lf", &e, &val_loss[epochs + 1],
                                &test_loss[epochs + 1], &test_acc[epochs + 1]), 4);
        ck_assert_int_eq(e, ++epochs);
        if (val_loss[e] < val_loss[best])
            best = e;
    }
    fclose(f);
    ck_assert_msg(best < epochs && epochs < 30, "best epoch %d of %d", best, epochs);
    snprintf(want, sizeof want, "Restoring the weights of epoch %d, the best val_loss", best);
    ck_assert_msg(strstr(out, want), "no '%s' in:\n%s", want, out);
    snprintf(want, sizeof want, "Test accuracy: %.4f (%.0f/600), test loss: %.4f", test_acc[best],
             test_acc[best] * 600, test_loss[best]);
    ck_assert_str_eq(result, want);
    /* a sweep's results.csv reports the weights kept, not the last epoch */
    PointResult point;
    merge_read_point("build/test-tmp/restore", &point);
    ck_assert_msg(point.finished && point.epochs == epochs &&
                  point.final_test_accuracy == test_acc[best] &&
                  point.final_test_loss == test_loss[best], "final test %g/%g, want epoch %d's "
                  "%g/%g", point.final_test_accuracy, point.final_test_loss, best, test_acc[best],
                  test_loss[best]);
    snprintf(args, sizeof args, "evaluate %s --weights build/test-tmp/restore/weights.safetensors",
             yaml);
    ck_assert_msg(clrun(args, out, sizeof out) == 0, "%s", out);
    snprintf(want, sizeof want, "loss %.4f, accuracy %.4f", test_loss[best], test_acc[best]);
    ck_assert_msg(strstr(out, want), "no '%s' in:\n%s", want, out);
    /* stopped after the best epoch, resumed: the best weights come from disk */
    char wait_for[32];
    snprintf(wait_for, sizeof wait_for, "Epoch %d/30", best);
    char *argv[] = {"clrun", "run", (char *)yaml, "--out", "build/test-tmp/restore-resumed", NULL};
    ck_assert_int_eq(clrun_signalled(argv, wait_for, SIGINT, out, sizeof out), 130);
    snprintf(args, sizeof args, "run %s --out build/test-tmp/restore-resumed", yaml);
    ck_assert_msg(clrun(args, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "Resuming after epoch ") && strstr(out, result), "%s", out);
    static char a[1 << 18], b[1 << 18];
    size_t na = test_read_file("build/test-tmp/restore/weights.safetensors", a, sizeof a);
    size_t nb = test_read_file("build/test-tmp/restore-resumed/weights.safetensors", b, sizeof b);
    ck_assert_msg(na == nb && na > 0 && memcmp(a, b, na) == 0, "the resumed run's weights differ");
}
END_TEST

/* Ctrl-C stops after the last finished epoch with exit 130, saying so, and
 * the same command resumes from there; SIGTERM exits 143; --overwrite starts
 * a stopped run over. */
START_TEST(ctrl_c_stops_after_an_epoch_and_the_same_command_resumes)
{
    char *argv[] = {"clrun", "run", "experiments/quickstart.yaml", "train.epochs=40",
                    "data.limit=300", "--out", "build/test-tmp/stopped", NULL};
    test_fresh_dir("stopped");
    test_fresh_dir("terminated");
    int epoch = stop_after_epoch_2(argv, 40);
    ck_assert_ptr_nonnull(strstr(out, "; the same command resumes\n"));
    ck_assert_int_eq(test_count_lines("build/test-tmp/stopped/history.csv") - 1, epoch);
    ck_assert_int_ne(access("build/test-tmp/stopped/SUCCESS", F_OK), 0);
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml train.epochs=40 data.limit=300 "
                           "--out build/test-tmp/stopped", out, sizeof out), 0);
    char resumed[64];
    snprintf(resumed, sizeof resumed, "Resuming after epoch %d ", epoch);
    ck_assert_msg(strstr(out, resumed), "no '%s' in:\n%s", resumed, out);
    ck_assert_int_eq(test_count_lines("build/test-tmp/stopped/history.csv") - 1, 40);
    ck_assert_int_eq(access("build/test-tmp/stopped/SUCCESS", F_OK), 0);
    argv[6] = "build/test-tmp/terminated";
    ck_assert_int_eq(clrun_signalled(argv, "Epoch 1/40", SIGTERM, out, sizeof out), 143);
    ck_assert_ptr_nonnull(strstr(out, "the same command resumes"));
    /* --overwrite starts a stopped run over rather than resuming it */
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml train.epochs=40 data.limit=300 "
                           "--out build/test-tmp/terminated --overwrite", out, sizeof out), 0);
    ck_assert_msg(!strstr(out, "Resuming"), "%s", out);
    ck_assert_int_eq(test_count_lines("build/test-tmp/terminated/history.csv") - 1, 40);
}
END_TEST

/* Keras' initial_epoch: raising train.epochs of a stopped run continues it
 * from its checkpoint, and the extended run's history is that of a run
 * trained to the new number of epochs from the start, number for number.
 * Another change, or fewer epochs than were done, starts over, naming every
 * setting that differs. */
START_TEST(raising_the_epochs_of_a_stopped_run_extends_it)
{
    char *argv[] = {"clrun", "run", "experiments/quickstart.yaml", "train.epochs=30",
                    "data.limit=300", "--out", "build/test-tmp/extended", NULL};
    static char extended[8192], fresh[8192];
    test_fresh_dir("extended");
    test_fresh_dir("extended-fresh");
    int epoch = stop_after_epoch_2(argv, 30);
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml train.epochs=35 data.limit=300 "
                           "--out build/test-tmp/extended", out, sizeof out), 0);
    char resumed[64];
    snprintf(resumed, sizeof resumed, "Resuming after epoch %d ", epoch);
    ck_assert_msg(strstr(out, "only train.epochs differs") && strstr(out, resumed), "%s", out);
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml train.epochs=35 data.limit=300 "
                           "--out build/test-tmp/extended-fresh", out, sizeof out), 0);
    test_history_numbers("build/test-tmp/extended/history.csv", extended, sizeof extended);
    test_history_numbers("build/test-tmp/extended-fresh/history.csv", fresh, sizeof fresh);
    ck_assert_str_eq(extended, fresh);

    test_fresh_dir("extended");
    stop_after_epoch_2(argv, 30);
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml train.epochs=35 data.limit=300 "
                           "optimizer.learning_rate=0.02 --out build/test-tmp/extended",
                           out, sizeof out), 0);
    ck_assert_msg(strstr(out, "is for other settings (those that differ: "
                              "optimizer.learning_rate, train.epochs); starting over") &&
                      !strstr(out, "Resuming"), "%s", out);
    ck_assert_int_eq(test_count_lines("build/test-tmp/extended/history.csv") - 1, 35);

    test_fresh_dir("extended"); /* fewer epochs than were done: no extension */
    stop_after_epoch_2(argv, 30);
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml train.epochs=1 data.limit=300 "
                           "--out build/test-tmp/extended", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "(those that differ: train.epochs); starting over") &&
                      !strstr(out, "Resuming"), "%s", out);
    ck_assert_int_eq(test_count_lines("build/test-tmp/extended/history.csv") - 1, 1);
}
END_TEST

/* What a run must reproduce to the bit, equal between two run directories:
 * its files (with `features` and `log_every` as raising_the_epochs_... sets
 * them) and history.csv but for its timing columns. */
static void assert_same_results(const char *a, const char *b)
{
    static char x[1 << 18], y[1 << 18];
    static const char *const files[] = {"weights.safetensors", "checkpoint.safetensors", "SUCCESS",
                                        "steps.csv", "history.png", "loss_curve.png",
                                        "features_fc1_test.npy"};
    char pa[256], pb[256];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(pa, sizeof pa, "%s/%s", a, files[i]);
        snprintf(pb, sizeof pb, "%s/%s", b, files[i]);
        size_t na = test_read_file(pa, x, sizeof x), nb = test_read_file(pb, y, sizeof y);
        ck_assert_msg(na == nb && na > 0 && memcmp(x, y, na) == 0, "%s and %s differ", pa, pb);
    }
    snprintf(pa, sizeof pa, "%s/history.csv", a);
    snprintf(pb, sizeof pb, "%s/history.csv", b);
    test_history_numbers(pa, x, sizeof x);
    test_history_numbers(pb, y, sizeof y);
    ck_assert_str_eq(x, y);
}

/* Runs the quickstart on 300 images with the given settings into
 * build/test-tmp/<dir>; returns the exit status, the output in out. */
static int quick_run(const char *settings, const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "run experiments/quickstart.yaml data.limit=300 %s "
             "--out build/test-tmp/%s", settings, dir);
    return clrun(cmd, out, sizeof out);
}

/* Keras' initial_epoch on a finished run: it keeps its last checkpoint, and
 * raising train.epochs carries it on from there to the weights, history,
 * figures, analysis output and SUCCESS of a run trained to the new number
 * from the start, bit for bit: with SGD's momentum and with Adam's moments. */
START_TEST(raising_the_epochs_of_a_finished_run_extends_it)
{
    static const char *const optimizers[] = {"", "'optimizer={name: adam, learning_rate: 0.002}'"};
    const char *outputs = "'analyses=[{type: features, layer: fc1, limit: 20}]' train.log_every=2";
    for (int i = 0; i < 2; i++) {
        char two[512], three[512];
        snprintf(two, sizeof two, "%s %s train.epochs=2", optimizers[i], outputs);
        snprintf(three, sizeof three, "%s %s train.epochs=3", optimizers[i], outputs);
        test_fresh_dir("finished-extended");
        test_fresh_dir("finished-straight");
        ck_assert_msg(quick_run(two, "finished-extended") == 0, "%s", out);
        ck_assert(test_file_exists("build/test-tmp/finished-extended/checkpoint.safetensors"));
        ck_assert_msg(quick_run(three, "finished-extended") == 0, "%s", out);
        ck_assert_msg(strstr(out, "Extending the finished run in build/test-tmp/finished-extended "
                                  "from 2 to 3 epochs") &&
                          strstr(out, "Resuming after epoch 2 ") && strstr(out, "Epoch 3/3") &&
                          !strstr(out, "Epoch 2/3"), "%s", out);
        char extended_test[128];
        ck_assert_int_eq(sscanf(strstr(out, "Test accuracy: "), "%127[^\n]", extended_test), 1);
        ck_assert_msg(quick_run(three, "finished-straight") == 0, "%s", out);
        ck_assert_ptr_nonnull(strstr(out, extended_test));
        assert_same_results("build/test-tmp/finished-extended", "build/test-tmp/finished-straight");
        ck_assert_int_eq(test_count_lines("build/test-tmp/finished-extended/history.csv") - 1, 3);
    }
}
END_TEST

/* A finished run's own command again prints its result and exits 0, touching
 * nothing (`make run` works any number of times). It takes no other change
 * without --overwrite: fewer epochs, another setting, other --weights, or more
 * epochs without the checkpoint to go on from are refused with exit 2 naming
 * the settings that differ, and leave the run as it was; --overwrite starts it
 * over. */
START_TEST(a_finished_run_refuses_all_but_more_epochs)
{
#define KEPT "build/test-tmp/finished-kept"
    static char history[8192], success[256];
    test_fresh_dir("finished-kept");
    ck_assert_msg(quick_run("train.epochs=3", "finished-kept") == 0, "%s", out);
    test_read_file(KEPT "/history.csv", history, sizeof history);
    test_read_file(KEPT "/SUCCESS", success, sizeof success);
    const char *said = strstr(out, "Test accuracy: ");
    ck_assert_msg(said, "%s", out);
    char result[128];
    snprintf(result, sizeof result, "%.*s", (int)strcspn(said, "\n"), said);
    for (int again = 0; again < 2; again++) {
        ck_assert_msg(quick_run("train.epochs=3", "finished-kept") == 0, "%s", out);
        ck_assert_msg(strstr(out, KEPT " already holds this run, finished with the same settings; "
                                  "--overwrite retrains it") && strstr(out, result) &&
                          !strstr(out, "Epoch 1/"), "%s", out);
    }
    ck_assert_int_eq(test_shell("cp " KEPT "/weights.safetensors build/test-tmp/kept-w.safetensors",
                                out, sizeof out), 0);
    ck_assert_int_eq(quick_run("train.epochs=3 --weights build/test-tmp/kept-w.safetensors",
                               "finished-kept"), 2);
    ck_assert_msg(strstr(out, "holds a finished run (") && strstr(out, "--overwrite"), "%s", out);
    ck_assert_int_eq(quick_run("train.epochs=2", "finished-kept"), 2);
    ck_assert_msg(strstr(out, "holds a finished run of 3 epochs, and train.epochs 2 does not raise "
                              "them (those that differ: train.epochs)") &&
                      strstr(out, "another --out, or --overwrite"), "%s", out);
    ck_assert_int_eq(quick_run("train.epochs=4 optimizer.learning_rate=0.02", "finished-kept"), 2);
    ck_assert_msg(strstr(out, "holds a finished run of other settings (those that differ: "
                              "optimizer.learning_rate, train.epochs)") &&
                      strstr(out, "another --out, or --overwrite"), "%s", out);
    ck_assert_int_eq(quick_run("train.epochs=3 train.batch_size=32", "finished-kept"), 2);
    ck_assert_msg(strstr(out, "(those that differ: train.batch_size)"), "%s", out);
    ck_assert_int_eq(rename(KEPT "/checkpoint.safetensors", KEPT "/checkpoint.away"), 0);
    ck_assert_int_eq(quick_run("train.epochs=4", "finished-kept"), 2);
    ck_assert_msg(strstr(out, "holds a finished run of 3 epochs without a checkpoint.safetensors"),
                  "%s", out);
    ck_assert_int_eq(rename(KEPT "/checkpoint.away", KEPT "/checkpoint.safetensors"), 0);
    static char now[8192];
    test_read_file(KEPT "/history.csv", now, sizeof now);
    ck_assert_str_eq(now, history);
    test_read_file(KEPT "/SUCCESS", now, sizeof now);
    ck_assert_str_eq(now, success);
    ck_assert_msg(quick_run("train.epochs=2 --overwrite", "finished-kept") == 0, "%s", out);
    ck_assert_msg(strstr(out, "Epoch 1/2") && !strstr(out, "Resuming"), "%s", out);
    ck_assert_int_eq(test_count_lines(KEPT "/history.csv") - 1, 2);
#undef KEPT
}
END_TEST

/* An extension stopped before its first new epoch has a checkpoint leaves
 * no finished run, but one that each command resumes: the extension's goes
 * on to its epochs, and the finished run's own gives it back, finished. */
START_TEST(a_stopped_extension_of_a_finished_run_resumes)
{
#define EXT "build/test-tmp/finished-stopped"
    char *argv[] = {"clrun", "run", "experiments/quickstart.yaml", "train.epochs=3",
                    "data.limit=4000", "--out", EXT, NULL};
    test_fresh_dir("finished-stopped");
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml train.epochs=2 data.limit=4000 "
                           "--out " EXT, out, sizeof out), 0);
    for (int back = 0; back < 2; back++) {
        ck_assert_int_eq(clrun_signalled(argv, "Resuming after epoch 2 ", SIGINT, out,
                                         sizeof out), 130);
        ck_assert_msg(strstr(out, "stopped after epoch 2;"), "%s", out);
        ck_assert(!test_file_exists(EXT "/SUCCESS"));
        ck_assert(test_file_exists(EXT "/checkpoint.safetensors"));
        ck_assert_int_eq(clrun(back ? "run experiments/quickstart.yaml train.epochs=3 "
                                      "data.limit=4000 --out " EXT
                                    : "run experiments/quickstart.yaml train.epochs=2 "
                                      "data.limit=4000 --out " EXT, out, sizeof out), 0);
        ck_assert_msg(strstr(out, "Resuming after epoch 2 ") && !strstr(out, "starting over"),
                      "%s", out);
        ck_assert_int_eq(test_count_lines(EXT "/history.csv") - 1, back ? 3 : 2);
        ck_assert(test_file_exists(EXT "/SUCCESS"));
    }
#undef EXT
}
END_TEST

/* On a terminal, the progress bar shows the time the epoch has left. */
START_TEST(progress_bar_shows_an_eta_on_a_terminal)
{
    if (test_shell("script -qc true /dev/null", out, sizeof out) != 0)
        return; /* no script(1) to make a terminal */
    test_fresh_dir("eta");
    ck_assert_int_eq(test_shell("script -qec 'build/clrun run experiments/quickstart.yaml "
                                "train.epochs=1 --out build/test-tmp/eta' /dev/null",
                                out, sizeof out), 0);
    int m = 0, s = 0;
    const char *eta = strstr(out, " - ETA: ");
    ck_assert_msg(eta && sscanf(eta, " - ETA: %d:%d", &m, &s) == 2 && s < 60, "%s", out);
}
END_TEST

/* The Playground spiral reaches its stated goal: test loss below 0.1, first
 * before epoch 230 (the seed's Playground run), and still below at the end. */
START_TEST(playground_spiral_reaches_its_goal)
{
    test_fresh_dir("spiral");
    ck_assert_int_eq(clrun("run experiments/keras-playground-spiral.yaml --out build/test-tmp/spiral",
                           out, sizeof out), 0);
    check_png("build/test-tmp/spiral/decision_boundary.png");
    FILE *f = fopen("build/test-tmp/spiral/history.csv", "r");
    ck_assert_ptr_nonnull(f);
    char line[512];
    int epoch = 0, first = 0, rows = 0;
    double test_loss = NAN;
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f)); /* the header */
    while (fgets(line, sizeof line, f)) {
        ck_assert_msg(sscanf(line, "%d,%*f,%*f,%*[^,],%*[^,],%lf", &epoch, &test_loss) == 2, "%s",
                      line);
        rows++;
        if (!first && test_loss < 0.1)
            first = epoch;
    }
    fclose(f);
    ck_assert_int_eq(rows, 300);
    ck_assert_msg(first > 0 && first < 230, "test loss first below 0.1 at epoch %d", first);
    ck_assert_msg(test_loss < 0.1, "test loss %g after 300 epochs", test_loss);
}
END_TEST

START_TEST(summary_counts_the_seeds_lenet)
{
    ck_assert_int_eq(clrun("summary experiments/quickstart.yaml", out, sizeof out), 0);
    const char *last = strstr(out, "Total params:");
    ck_assert_msg(last && strcmp(last, "Total params: 21,840\n") == 0, "%s", out);
    ck_assert_ptr_nonnull(strstr(out, "conv1                    conv2d         [10, 24, 24]"));
    /* thousands separators and Keras' trainable and non-trainable lines */
    ck_assert_msg(strstr(out, " 16,050\n") && strstr(out, "\nTrainable params: 21,840\n"
                                                         "Non-trainable params: 0\n"), "%s", out);
    ck_assert_int_eq(clrun("summary experiments/cs375-resnet18.yaml", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "\nTrainable params: 11,173,962\nNon-trainable params: 9,600 "
                              "(batchnorm running statistics: not in the total, as PyTorch counts)\n"), "%s", out);
    ck_assert_int_eq(clrun("summary models/lenet.yaml model.layers.fc1.units=100", out, sizeof out), 0);
    /* 21840 - 16050 - 510 + (320*100 + 100) + (100*10 + 10) */
    ck_assert_ptr_nonnull(strstr(out, "Total params: 38,390\n"));
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

/* A required key that is missing because it was misspelt: the message points
 * at the misspelling and names the key meant. */
START_TEST(a_misspelt_required_key_is_named)
{
    expect_bad("typo-optimiser.yaml",
               "model: ../../models/lenet.yaml\ndata: {dataset: mnist}\n"
               "optimiser: {name: sgd, learning_rate: 0.01}\nloss: nll\n", "",
               "typo-optimiser.yaml:3:1: unknown key 'optimiser', did you mean 'optimizer'?", NULL);
    const char *model = test_write_file("typo-model.yaml", "name: m\ninput: [4]\nlayers:\n"
                                                           "  - {name: h, type: dense, unit: 10}\n");
    char yaml[512];
    snprintf(yaml, sizeof yaml, "model: %s\ndata: {dataset: playground, features: [x1, x2, x1_sq, "
             "x2_sq]}\noptimizer: {name: sgd, learning_rate: 0.01}\nloss: binary_cross_entropy\n"
             "train: {epochs: 1}\n",
             strrchr(model, '/') + 1);
    expect_bad("typo-units.yaml", yaml, "",
               "typo-model.yaml:4:28: layer 'h': unknown key 'unit', did you mean 'units'?",
               "(missing required key 'units')");
}
END_TEST

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
                             "seconds,images_per_s,lr\n");
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

/* The README quotes the quickstart's result as measured at a commit on a
 * device; a run that ends otherwise (another device, or a change of the
 * numbers) is warned about, not failed: the quote is then to be measured
 * again. Returns whether the quote was found in the run's output. */
static int readme_quote_holds(const char *run_output)
{
    static char readme[1 << 17];
    test_read_file("README.md", readme, sizeof readme);
    const char *at = strstr(readme, "`Test accuracy: ");
    char quoted[128] = "";
    if (at)
        snprintf(quoted, sizeof quoted, "%.*s", (int)strcspn(at + 1, "`"), at + 1);
    int holds = quoted[0] && strstr(run_output, quoted);
    if (!holds) {
        const char *line = strstr(run_output, "Test accuracy: ");
        fprintf(stderr, "warning: README.md quotes the quickstart's result as '%s', this run "
                "ended '%.*s': measure it again and say at which commit and on which device\n",
                quoted, line ? (int)strcspn(line, "\n") : 0, line ? line : "");
    }
    return holds;
}

START_TEST(quickstart_reaches_95_percent_and_its_run_directory_reloads)
{
    test_fresh_dir("quickstart");
    ck_assert_int_eq(clrun("run experiments/quickstart.yaml --out build/test-tmp/quickstart", out,
                           sizeof out), 0);
    readme_quote_holds(out);
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
    {"keras-playground-spiral", 49, ""},
    {"ds5220-mlp", 101770, "data.limit=256"},
    {"ds5220-mlp-normalized", 101770, "data.limit=256"},
    {"ds5220-cnn", 8490, "data.limit=256"},
    {"cs375-resnet18", 11173962, "data.limit=16 train.batch_size=8"},
    {"cs375-rsa", 11173962, NULL}, /* needs targets: cs375_rsa_compares_with_another_network */
    {"cs375-imagenet", 11689512, NULL}, /* needs its sample: cs375_imagenet_recovers_the_planted_layer */
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
    char count[TEXT_NUMBER_MAX];
    snprintf(want, sizeof want, "Total params: %s\n", text_thousands(experiments[_i].params, count));
    const char *last = strstr(out, "Total params:");
    ck_assert_msg(last && strcmp(last, want) == 0, "%s: want '%s' in:\n%s", experiments[_i].name,
                  want, out);
}
END_TEST

/* Runs experiments/NAME.yaml with overrides, CIFAR-10 experiments on synthetic
 * CIFAR-10; fails unless it exits 0 and reports a test accuracy. */
static void run_experiment(const char *name, const char *overrides)
{
    char args[2048], env[600] = "";
    if (strstr(name, "cifar") || strstr(name, "resnet") || strstr(name, "cs375")) {
        char root[256];
        snprintf(root, sizeof root, "%s/build/test-tmp/cifar-root", getenv("PWD"));
        test_synthetic_cifar(root);
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
    ck_assert_msg(profile_column("optimizer: sgd_run", 1) == 8 * 4, "%s", out);
    ck_assert_msg(profile_column("conv1 forward: conv_implicit", 1) == 4 + 4, "%s", out);
    ck_assert_msg(profile_column("sgd_run", 1) == 8 * 4, "%s", out);
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

/* ---- CS375 as the course ran it (experiments/cs375-imagenet.yaml) ---- */

#define CS375 "build/test-tmp/cs375"

/* Column `name` of the table's row whose first field is `row`, as a number; NaN when absent. */
static double csv_number_at(const char *path, const char *row, const char *name)
{
    CsvTable t;
    Err err = {""};
    ck_assert_msg(csv_read(&t, path, &err) == CLRUN_OK, "%s", err.msg);
    int c = csv_column(&t, name);
    double v = NAN;
    for (int r = 0; c >= 0 && r < t.rows; r++)
        if (strcmp(csv_cell(&t, r, 0), row) == 0)
            v = atof(csv_cell(&t, r, c));
    csv_free(&t);
    return v;
}

/* The generated stand-in for the course's files (tools/make-cs375-sample):
 * 120 images of 8 objects in 4 categories, 40 neurons that are a known
 * linear map of layer2.1's features (the 30 units the readout samples) plus
 * noise, the IT RDM from those neurons and the V4 RDM from layer1.1. The
 * experiment, at 64 x 64 and with the readout on 30 units (120 images cannot
 * tell layers apart through 1,250 units: the readout needs more items than
 * units), must find the neurons' layer, about the r their noise allows, and
 * the V4 RDM exactly at layer1.1. */
START_TEST(cs375_imagenet_recovers_the_planted_layer)
{
    test_fresh_dir("cs375");
    ck_assert_msg(test_shell("/usr/bin/python3 tools/make-cs375-sample " CS375 "/sample --units 30 "
                             "--layer layer2.1", out, sizeof out) == 0, "%s", out);
    ck_assert_msg(test_shell("build/clrun run experiments/cs375-imagenet.yaml model.input=[3,64,64] "
                             "data.resize=64 data.crop=64 data.table=" CS375 "/sample/images.csv "
                             "analyses.0.targets=[" CS375 "/sample/rdm_V4.npy," CS375
                             "/sample/rdm_IT.npy] analyses.1.targets=" CS375 "/sample/neurons.npy "
                             "analyses.1.units=30 analyses.2.targets=" CS375 "/sample/neurons.npy "
                             "--out " CS375 "/run", out, sizeof out) == 0, "%s", out);
    static const char *const layers[] = {"maxpool", "layer1.1", "layer2.1", "layer3.0",
                                         "layer3.1", "layer4.1", "avgpool"};
    double implied = csv_number_at(CS375 "/sample/truth.csv", "layer2.1", "median_r");
    double best = -1, second = -1;
    for (int l = 0; l < 7; l++) {
        double r = csv_number_at(CS375 "/run/readout/readout.csv", layers[l], "mean_median_r");
        ck_assert_msg(isfinite(r), "no readout row for %s", layers[l]);
        if (strcmp(layers[l], "layer2.1") == 0)
            best = r;
        else
            second = r > second ? r : second;
    }
    ck_assert_msg(best > second + 0.05, "layer2.1's readout r %.3f, another layer's %.3f", best,
                  second);
    ck_assert_msg(fabs(best - implied) < 0.12, "layer2.1's readout r %.3f; the noise allows %.3f",
                  best, implied);
    /* the V4 RDM is layer1.1's own object RDM, made in numpy: the same ranks */
    double v4 = csv_number_at(CS375 "/run/rsa/rsa_targets.csv", "layer1.1",
                              CS375 "/sample/rdm_V4.npy");
    ck_assert_msg(v4 > 0.999, "layer1.1 against its own object RDM: Spearman %.4f", v4);
    /* objects grouped by category, 15 images each; the factorized readout on V3 and V6 */
    ck_assert_int_eq(test_shell("cat " CS375 "/run/rsa/items.csv", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "item,name,group,rows\n0,animals_0,animals,15\n1,animals_1,animals,15\n"
                              "2,boats_0,boats,15\n") != NULL, "%s", out);
    ck_assert_int_eq(test_shell("grep -c ',V[36]$' " CS375 "/sample/images.csv; wc -l < " CS375
                                "/run/factorized/items.csv; wc -l < " CS375
                                "/run/factorized/factorized_readout_layer3.1.csv", out,
                                sizeof out), 0);
    ck_assert_msg(strcmp(out, "80\n81\n41\n") == 0, "V3 and V6 images, factorized items and "
                  "units (with headers):\n%s", out);
    check_png(CS375 "/run/rsa/rdm_layer2.1.png");
    check_png(CS375 "/run/rsa/rsa_targets.png");
    check_png(CS375 "/run/readout/readout.png");
    check_png(CS375 "/run/factorized/factorized_masks_layer3.1.png");
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

/* CIFAR-10's examples are drawn in colour: predictions.png of keras-cifar10
 * on synthetic CIFAR-10 (random RGB bytes) holds many pixels whose red,
 * green and blue all differ. The first channel in gray would hold none: the
 * only colour would be the red of wrong predictions (214, 39, 40), whose
 * blends with gray and white keep green and blue equal. */
START_TEST(predictions_of_rgb_data_are_in_colour)
{
    char root[256], args[1024];
    snprintf(root, sizeof root, "%s/build/test-tmp/cifar-root", getenv("PWD"));
    test_synthetic_cifar(root);
    test_fresh_dir("rgb-predictions");
    snprintf(args, sizeof args, "CLRUN_ROOT=%s build/clrun run experiments/keras-cifar10.yaml "
             "train.epochs=1 data.limit=32 'analyses=[{type: predictions, count: 4, "
             "misclassified: 0}]' --out build/test-tmp/rgb-predictions", root);
    ck_assert_msg(test_shell(args, out, sizeof out) == 0, "%s", out);
    TestPixels p = test_read_png("build/test-tmp/rgb-predictions/predictions.png");
    long coloured = 0;
    for (int y = 0; y < p.h; y++)
        for (int x = 0; x < p.w; x++) {
            const unsigned char *c = test_pixel(&p, x, y);
            coloured += abs(c[0] - c[1]) > 40 && abs(c[1] - c[2]) > 40 && abs(c[0] - c[2]) > 40;
        }
    free(p.rgb);
    ck_assert_msg(coloured > 2000, "%ld pixels in colour", coloured);
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
 * units, each a fixed random linear function of fc1's 50 features, but the
 * last, which is 0 throughout: its r is undefined and left out. */
static void fc1_linear_targets(const char *head, const char *dir, const char *file)
{
    NpyArray f = features_of(head, "fc1", dir);
    enum { UNITS = 6 };
    double w[50 * UNITS];
    uint64_t state = 3;
    for (int k = 0; k < 50 * UNITS; k++)
        w[k] = k % UNITS == UNITS - 1 ? 0 : 2 * rng_uniform(&state) - 1;
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
    ck_assert_msg(strstr(out, "Analysis readout: layer conv1 (1 of 2), 200 items, 3 splits\n") &&
                  strstr(out, "Analysis readout: layer fc1 (2 of 2), 200 items, 3 splits\n") &&
                  strstr(out, "Analysis readout: layer fc1: median r "), "%s", out);
    ck_assert_msg(strstr(out, "Analysis readout: layer fc1: 1 target unit left out of the median: "
                              "r is undefined"), "%s", out);
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
    tcase_add_test(tc, predictions_of_rgb_data_are_in_colour);
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
    /* CK_RUN_CASE=cs375 runs it alone */
    TCase *cs375 = tcase_create("cs375");
    tcase_add_test(cs375, cs375_imagenet_recovers_the_planted_layer);
    tcase_set_timeout(cs375, 600);
    suite_add_tcase(s, cs375);
    /* the command line itself: CK_RUN_CASE=commands runs these alone */
    TCase *cmd = tcase_create("commands");
    tcase_set_timeout(cmd, 600);
    tcase_add_test(cmd, help_and_version_answer_with_exit_0);
    tcase_add_test(cmd, usage_follows_usage_errors_only);
    tcase_add_test(cmd, out_option_takes_an_equals_sign);
    tcase_add_test(cmd, output_into_a_pipe_appears_line_by_line);
    tcase_add_test(cmd, data_line_counts_each_split);
    tcase_add_test(cmd, plot_dpi_sets_the_figures_resolution);
    tcase_add_test(cmd, plot_format_writes_svg_and_pdf);
    tcase_add_test(cmd, summary_lists_tensors_with_pytorch_names);
    tcase_add_test(cmd, evaluate_reports_what_the_run_reported);
    tcase_add_test(cmd, keras_spelling_trains_as_clruns_own);
    tcase_add_test(cmd, a_misspelt_required_key_is_named);
    tcase_add_test(cmd, python_reader_reads_a_run);
    tcase_add_test(cmd, two_analyses_of_one_type_write_separate_files);
    tcase_add_test(cmd, early_stopping_and_the_best_weights);
    tcase_add_test(cmd, early_stopping_restores_the_best_weights);
    tcase_add_test(cmd, predict_gives_the_models_probabilities_for_image_files);
    tcase_add_test(cmd, ctrl_c_stops_after_an_epoch_and_the_same_command_resumes);
    tcase_add_test(cmd, raising_the_epochs_of_a_stopped_run_extends_it);
    tcase_add_test(cmd, raising_the_epochs_of_a_finished_run_extends_it);
    tcase_add_test(cmd, a_finished_run_refuses_all_but_more_epochs);
    tcase_add_test(cmd, a_stopped_extension_of_a_finished_run_resumes);
    tcase_add_test(cmd, progress_bar_shows_an_eta_on_a_terminal);
    suite_add_tcase(s, cmd);
    /* what the experiments' own files claim: CK_RUN_CASE=claims */
    TCase *claims = tcase_create("claims");
    tcase_set_timeout(claims, 600);
    tcase_add_test(claims, playground_spiral_reaches_its_goal);
    suite_add_tcase(s, claims);
    /* what a command writes against what it reads: CK_RUN_CASE=outputs */
    TCase *outputs = tcase_create("outputs");
    tcase_set_timeout(outputs, 300);
    tcase_add_test(outputs, predict_writes_beside_the_weights_and_warns_of_inverted_images);
    tcase_add_test(outputs, double_dash_ends_the_options);
    tcase_add_test(outputs, run_names_from_file_names_stay_under_runs);
    tcase_add_test(outputs, csv_fields_are_quoted_per_rfc_4180);
    tcase_add_test(outputs, compare_overlays_runs_and_never_writes_over_a_history);
    suite_add_tcase(s, outputs);
    return s;
}
