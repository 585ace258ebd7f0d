/* check_sweep.c: sweeps and what makes them safe to rerun, through
 * build/clrun: the grid's count and listing, one point by --index or by an
 * array task's index, a local --jobs 2 sweep with its merged results, a
 * sweep killed and started again (finished points are not redone), merging
 * with an unfinished point. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "suites.h"
#include "testutil.h"

static char out[1 << 16];

/* A 4-point sweep of short LeNet runs on 256 sample images. */
#define SWEEP_YAML \
    "model: ../../models/project5-lenet.yaml\n" \
    "data: {dataset: mnist, limit: 256}\n" \
    "optimizer: {name: sgd, learning_rate: 0.05, momentum: 0.5}\n" \
    "loss: nll\n" \
    "train: {epochs: 1, batch_size: 64, seed: 1}\n" \
    "sweep:\n" \
    "  train.batch_size: [32, 64]\n" \
    "  model.layers.conv2_drop.rate: [0.0, 0.5]\n"

START_TEST(grid_counts_lists_and_checks_its_keys)
{
    const char *path = test_write_file("grid.yaml", SWEEP_YAML);
    static char first[sizeof out];
    char args[1024];
    snprintf(args, sizeof args, "sweep %s --count", path);
    ck_assert_int_eq(clrun(args, out, sizeof out), 0);
    ck_assert_str_eq(out, "4\n");
    snprintf(args, sizeof args, "sweep %s train.epochs=1,2,3 optimizer.learning_rate=0.1 --count",
             path);
    ck_assert_int_eq(clrun(args, out, sizeof out), 0);
    ck_assert_str_eq(out, "12\n");
    ck_assert_int_eq(clrun("sweep experiments/project5-sweep.yaml --count", out, sizeof out), 0);
    ck_assert_str_eq(out, "60\n"); /* seed 004's 60 variants */
    ck_assert_int_eq(clrun("sweep experiments/project5-sweep.yaml train.epochs=2 --count", out,
                           sizeof out), 0);
    ck_assert_str_eq(out, "20\n"); /* a swept key given one value */
    snprintf(args, sizeof args, "sweep %s train.batch_size=16,32,48 --list", path);
    ck_assert_int_eq(clrun(args, out, sizeof out), 0);
    snprintf(first, sizeof first, "%s", out);
    ck_assert_int_eq(clrun(args, out, sizeof out), 0);
    ck_assert_str_eq(out, first); /* stable */
    ck_assert_str_eq(out, "#0 : train.batch_size=16 model.layers.conv2_drop.rate=0.0\n"
                          "#1 : train.batch_size=16 model.layers.conv2_drop.rate=0.5\n"
                          "#2 : train.batch_size=32 model.layers.conv2_drop.rate=0.0\n"
                          "#3 : train.batch_size=32 model.layers.conv2_drop.rate=0.5\n"
                          "#4 : train.batch_size=48 model.layers.conv2_drop.rate=0.0\n"
                          "#5 : train.batch_size=48 model.layers.conv2_drop.rate=0.5\n");
    /* a key the experiment does not have, a value it refuses, an index out of range */
    snprintf(args, sizeof args, "sweep %s train.batch_sise=1,2 --count", path);
    ck_assert_int_eq(clrun(args, out, sizeof out), 2);
    ck_assert_msg(strstr(out, path) && strstr(out, "unknown key 'batch_sise'") &&
                  strstr(out, "did you mean 'batch_size'"), "%s", out);
    snprintf(args, sizeof args, "sweep %s train.batch_size=32,-1 --count", path);
    ck_assert_int_eq(clrun(args, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "sweep train.batch_size=-1") && strstr(out, "'batch_size' must be"),
                  "%s", out);
    snprintf(args, sizeof args, "sweep %s --index 4 --out build/test-tmp/grid", path);
    ck_assert_int_eq(clrun(args, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "point 4 is out of range: the sweep has 4 points"), "%s", out);
}
END_TEST

/* --jobs 2 runs every point, each ending with SUCCESS, and merges. */
START_TEST(local_sweep_runs_every_point_and_merges)
{
    test_fresh_dir("local");
    const char *path = test_write_file("local.yaml", SWEEP_YAML);
    char args[1024], file[256];
    snprintf(args, sizeof args, "sweep %s --jobs 2 --out build/test-tmp/local", path);
    ck_assert_msg(clrun(args, out, sizeof out) == 0, "%s", out);
    for (int i = 0; i < 4; i++) {
        snprintf(file, sizeof file, "build/test-tmp/local/%d/SUCCESS", i);
        ck_assert_msg(test_file_exists(file), "no %s:\n%s", file, out);
    }
    ck_assert_int_eq(test_count_lines("build/test-tmp/local/results.csv"), 5);
    FILE *f = fopen("build/test-tmp/local/results.csv", "r");
    char line[1024];
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    static const char header[] = "index,train.batch_size,model.layers.conv2_drop.rate,status,"
                                 "final_test_accuracy,";
    ck_assert_msg(strncmp(line, header, strlen(header)) == 0, "%s", line);
    static const char *const rows[] = {"0,32,0.0,finished,", "1,32,0.5,finished,",
                                       "2,64,0.0,finished,", "3,64,0.5,finished,"};
    for (int i = 0; i < 4; i++) {
        ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
        double accuracy = -1;
        ck_assert_msg(strncmp(line, rows[i], strlen(rows[i])) == 0 &&
                      sscanf(line + strlen(rows[i]), "%lf", &accuracy) == 1 && accuracy > 0.05,
                      "row %d: %s", i, line);
    }
    fclose(f);
    check_png("build/test-tmp/local/sweep_train_batch_size.png");
    check_png("build/test-tmp/local/sweep_model_layers_conv2_drop_rate.png");
    check_png("build/test-tmp/local/sweep_heatmap.png");
    /* again: nothing left to run */
    ck_assert_msg(clrun(args, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "4 points, 0 to run"), "%s", out);
    /* a point without SUCCESS is listed by merge, not dropped */
    ck_assert_int_eq(unlink("build/test-tmp/local/1/SUCCESS"), 0);
    ck_assert_int_eq(clrun("merge build/test-tmp/local", out, sizeof out), 0);
    ck_assert_msg(strstr(out, "Merged 4 points (3 finished)") &&
                  strstr(out, "Incomplete points (no SUCCESS): 1\n"), "%s", out);
    ck_assert_int_eq(test_count_lines("build/test-tmp/local/results.csv"), 5);
    ck_assert_int_eq(clrun("merge build/test-tmp/nowhere", out, sizeof out), 2);
}
END_TEST

/* An array task's index picks the point; only that point runs. */
START_TEST(array_task_index_runs_one_point)
{
    test_fresh_dir("array");
    const char *path = test_write_file("array.yaml", SWEEP_YAML);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "SLURM_ARRAY_TASK_ID=2 build/clrun sweep %s --out build/test-tmp/array",
             path);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "Point 2 of 4: train.batch_size=64 model.layers.conv2_drop.rate=0.0"),
                  "%s", out);
    ck_assert(test_file_exists("build/test-tmp/array/2/SUCCESS"));
    ck_assert(!test_file_exists("build/test-tmp/array/0"));
    ck_assert(!test_file_exists("build/test-tmp/array/3"));
    snprintf(cmd, sizeof cmd, "JOB_COMPLETION_INDEX=2 build/clrun sweep %s --out "
             "build/test-tmp/array", path);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "Point 2 (train.batch_size=64 model.layers.conv2_drop.rate=0.0): "
                              "finished already"), "%s", out);
}
END_TEST

/* A sweep killed after its first point and started again finishes the rest
 * without redoing that point. */
START_TEST(killed_sweep_finishes_without_redoing_points)
{
    test_fresh_dir("killed");
    const char *path = test_write_file("killed.yaml", SWEEP_YAML);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "exec build/clrun sweep %s train.epochs=3 --jobs 1 "
             "--out build/test-tmp/killed > /dev/null 2>&1", path);
    pid_t pid = test_spawn(cmd);
    ck_assert_msg(test_wait_for("build/test-tmp/killed/0/SUCCESS"), "point 0 never finished");
    kill(pid, SIGKILL); /* its worker dies with it */
    waitpid(pid, NULL, 0);
    struct stat before, after;
    ck_assert_int_eq(stat("build/test-tmp/killed/0/weights.safetensors", &before), 0);
    snprintf(cmd, sizeof cmd, "build/clrun sweep %s train.epochs=3 --jobs 1 --out "
             "build/test-tmp/killed", path);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "4 points, 3 to run") || strstr(out, "4 points, 2 to run"), "%s", out);
    for (int i = 0; i < 4; i++) {
        char file[128];
        snprintf(file, sizeof file, "build/test-tmp/killed/%d/SUCCESS", i);
        ck_assert_msg(test_file_exists(file), "no %s:\n%s", file, out);
    }
    ck_assert_int_eq(stat("build/test-tmp/killed/0/weights.safetensors", &after), 0);
    ck_assert_msg(before.st_ino == after.st_ino && before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
                  before.st_mtim.tv_nsec == after.st_mtim.tv_nsec, "point 0 was run again");
}
END_TEST

Suite *sweep_suite(void)
{
    Suite *s = suite_create("sweep");
    TCase *tc = tcase_create("sweep");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, grid_counts_lists_and_checks_its_keys);
    tcase_add_test(tc, local_sweep_runs_every_point_and_merges);
    tcase_add_test(tc, array_task_index_runs_one_point);
    tcase_add_test(tc, killed_sweep_finishes_without_redoing_points);
    suite_add_tcase(s, tc);
    return s;
}
