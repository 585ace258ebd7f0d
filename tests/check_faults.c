/* check_faults.c: what a run keeps through faults, through build/clrun: runs
 * killed at random moments (one of them while a checkpoint is being written)
 * resume to the same bits as a run never stopped, a damaged checkpoint is
 * reported and not loaded, the same experiment twice gives the same
 * weights and history, a NaN stops training at the layer it came from, and
 * device faults say what to do. */
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "device.h"
#include "io/safetensors.h"
#include "rng.h"
#include "suites.h"
#include "testutil.h"

static char out[1 << 16];

/* A dropout LeNet (dropout draws from the step counter, the shuffle from its
 * own generator: both must come back after a kill) on 1,024 sample images. */
#define RUN "build/clrun run experiments/project5-mnist.yaml train.epochs=6 data.limit=1024 " \
            "analyses=[] --out build/test-tmp/"

/* Runs RUN into dir to the end; the test fails with its output otherwise. */
static void run_to_end(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, RUN "%s", dir);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s", out);
}

/* Starts RUN into dir in the background. */
static pid_t start(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "exec " RUN "%s > /dev/null 2>&1", dir);
    return test_spawn(cmd);
}

/* SIGKILLs pid, if it still runs, and reaps it; returns whether it had
 * finished on its own with status 0. */
static int kill_and_reap(pid_t pid)
{
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid)
        return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Starts the run and kills it the moment checkpoint.safetensors.tmp appears
 * in its directory (inotify), so the kill lands while a checkpoint is being
 * written; returns whether the temporary file was left behind, and in
 * *seconds how long the run took to reach that first checkpoint. */
static int kill_during_checkpoint_write(const char *dir, double *seconds)
{
    char path[256];
    snprintf(path, sizeof path, "build/test-tmp/%s", dir);
    int fd = inotify_init();
    ck_assert(fd >= 0 && inotify_add_watch(fd, path, IN_CREATE) >= 0);
    double begun = clock_seconds();
    pid_t pid = start(dir);
    char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
    for (int seen = 0; !seen;) {
        ssize_t n = read(fd, buf, sizeof buf);
        ck_assert(n > 0);
        for (char *p = buf; p < buf + n;) {
            struct inotify_event *e = (struct inotify_event *)p;
            seen |= e->len && strcmp(e->name, "checkpoint.safetensors.tmp") == 0;
            p += sizeof *e + e->len;
        }
    }
    *seconds = clock_seconds() - begun;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    close(fd);
    snprintf(path, sizeof path, "build/test-tmp/%s/checkpoint.safetensors.tmp", dir);
    return test_file_exists(path);
}

static void assert_same_run(const char *a_dir, const char *b_dir)
{
    static char a[1 << 18], b[1 << 18];
    char pa[256], pb[256];
    snprintf(pa, sizeof pa, "build/test-tmp/%s/weights.safetensors", a_dir);
    snprintf(pb, sizeof pb, "build/test-tmp/%s/weights.safetensors", b_dir);
    size_t na = test_read_file(pa, a, sizeof a), nb = test_read_file(pb, b, sizeof b);
    ck_assert_msg(na == nb && na > 1000 && memcmp(a, b, na) == 0, "%s and %s differ", pa, pb);
    snprintf(pa, sizeof pa, "build/test-tmp/%s/history.csv", a_dir);
    snprintf(pb, sizeof pb, "build/test-tmp/%s/history.csv", b_dir);
    test_history_numbers(pa, a, sizeof a);
    test_history_numbers(pb, b, sizeof b);
    ck_assert_str_eq(a, b);
    ck_assert_int_eq(test_count_lines(pb), 7);
}

/* Killed while writing a checkpoint, then at seeded random moments until a
 * start finishes on its own, the run ends with the weights and history.csv of
 * a run never stopped. The moments are drawn within twice the time the run
 * took to its first checkpoint (start-up and an epoch), so that a loaded
 * machine, slower to start, still makes progress between kills: with these
 * draws every start-up share of the run from 5% to 75% finishes after 3 to
 * 13 kills. */
START_TEST(run_killed_at_random_moments_resumes_to_the_same_bits)
{
    test_fresh_dir("faults-whole");
    test_fresh_dir("faults-killed");
    run_to_end("faults-whole");
    double to_checkpoint;
    ck_assert_msg(kill_during_checkpoint_write("faults-killed", &to_checkpoint),
                  "the kill did not land while the checkpoint was written");
    uint64_t state = 7;
    int kills = 1, finished = 0;
    while (!finished && kills < 40) {
        pid_t pid = start("faults-killed");
        long ns = (long)(rng_uniform(&state) * 2 * to_checkpoint * 1e9);
        nanosleep(&(struct timespec){ns / 1000000000L, ns % 1000000000L}, NULL);
        /* a kill that lands after SUCCESS, as the process exits, leaves a finished run,
           which a later start would refuse to touch */
        finished = kill_and_reap(pid) ||
                   test_file_exists("build/test-tmp/faults-killed/SUCCESS");
        kills += !finished;
    }
    ck_assert_msg(finished, "never finished in %d starts", kills);
    ck_assert_msg(kills >= 3, "only %d kills: the run is too short to test", kills);
    ck_assert(test_file_exists("build/test-tmp/faults-killed/SUCCESS"));
    /* kept, for raising train.epochs to extend the finished run */
    ck_assert(test_file_exists("build/test-tmp/faults-killed/checkpoint.safetensors"));
    assert_same_run("faults-whole", "faults-killed");
}
END_TEST

/* Flips one byte of the file at offset from its end. */
static void flip_byte(const char *path, long from_end)
{
    FILE *f = fopen(path, "r+b");
    ck_assert(f && fseek(f, -from_end, SEEK_END) == 0);
    int c = fgetc(f);
    ck_assert(c != EOF && fseek(f, -from_end, SEEK_END) == 0);
    fputc(c ^ 0x10, f);
    fclose(f);
}

/* A checkpoint with a flipped bit or cut short stops the run with exit 2 and
 * the file named; nothing is trained on it and it is left for the user. */
START_TEST(damaged_checkpoint_is_reported_not_loaded)
{
    static const char ckpt[] = "build/test-tmp/faults-damaged/checkpoint.safetensors";
    char cmd[512];
    test_fresh_dir("faults-damaged");
    pid_t pid = start("faults-damaged");
    ck_assert(test_wait_for(ckpt));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    flip_byte(ckpt, 100); /* inside the last tensor's values */
    snprintf(cmd, sizeof cmd, RUN "faults-damaged");
    ck_assert_int_eq(test_shell(cmd, out, sizeof out), 2);
    ck_assert_msg(strstr(out, ckpt) && strstr(out, "damaged checkpoint"), "%s", out);
    ck_assert(!test_file_exists("build/test-tmp/faults-damaged/weights.safetensors"));
    ck_assert(!test_file_exists("build/test-tmp/faults-damaged/SUCCESS"));
    ck_assert(test_file_exists(ckpt));
    ck_assert_int_eq(truncate(ckpt, 200), 0);
    ck_assert_int_eq(test_shell(cmd, out, sizeof out), 2);
    ck_assert_msg(strstr(out, ckpt), "%s", out);
    ck_assert(!test_file_exists("build/test-tmp/faults-damaged/SUCCESS"));
}
END_TEST

/* The same experiment, seed and device twice: the same weights, bit for bit,
 * and the same history. */
START_TEST(same_run_twice_gives_the_same_bits)
{
    test_fresh_dir("faults-once");
    test_fresh_dir("faults-twice");
    run_to_end("faults-once");
    run_to_end("faults-twice");
    assert_same_run("faults-once", "faults-twice");
}
END_TEST

/* LeNet whose learning rate jumps from 0.01 to 1e33 after epoch 1: the first
 * update of epoch 2 leaves conv1's weights near 1e31, finite, and conv2's
 * products overflow on the next batch. */
#define DIVERGING_YAML \
    "model: ../../models/lenet.yaml\n" \
    "data: {dataset: mnist, limit: 512}\n" \
    "optimizer: {name: sgd, learning_rate: 0.01,\n" \
    "            schedule: {type: step, gamma: 1.0e+35, step_size: 1}}\n" \
    "loss: nll\n" \
    "train: {epochs: 3, batch_size: 64, seed: 1}\n"

/* A NaN or infinity stops training with exit 1 naming where it first
 * appeared, and the last good checkpoint stays; train.nan_check: false lets
 * the run go on to the end. */
START_TEST(nonfinite_value_stops_training_at_its_layer)
{
    static const char dir[] = "build/test-tmp/faults-nan";
    const char *path = test_write_file("diverging.yaml", DIVERGING_YAML);
    char cmd[512], ckpt[256];
    test_fresh_dir("faults-nan");
    snprintf(cmd, sizeof cmd, "build/clrun run %s --out %s", path, dir);
    ck_assert_int_eq(test_shell(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "a NaN or infinity first appeared in the output of layer 'conv2' "
                              "(forward), epoch 2, batch 2 of 8: training stopped; the checkpoint "
                              "of epoch 1 is kept in build/test-tmp/faults-nan"), "%s", out);
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint.safetensors", dir);
    StFile f;
    Err err = {""};
    ck_assert_msg(st_read(ckpt, &f, &err) == CLRUN_OK, "%s", err.msg);
    ck_assert_str_eq(st_meta(&f, "epoch"), "1");
    st_free(&f);
    ck_assert(!test_file_exists("build/test-tmp/faults-nan/weights.safetensors"));
    ck_assert(!test_file_exists("build/test-tmp/faults-nan/SUCCESS"));
    test_fresh_dir("faults-nan");
    snprintf(cmd, sizeof cmd, "build/clrun run %s train.nan_check=false --out %s", path, dir);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "test loss: nan"), "%s", out);
}
END_TEST

/* A batch past the device's largest buffer, and a device out of resources:
 * exit 1, the OpenCL call and what it was for named, and what to do. */
START_TEST(device_faults_say_what_to_do)
{
    char cmd[512];
    test_fresh_dir("faults-huge");
    snprintf(cmd, sizeof cmd, "build/clrun run experiments/quickstart.yaml "
             "train.batch_size=1048576 --out build/test-tmp/faults-huge/run");
    ck_assert_int_eq(test_shell(cmd, out, sizeof out), 1);
    /* refused by the total before allocating, or by the first buffer past the largest one */
    ck_assert_msg((strstr(out, "the model needs") || strstr(out, "allows at most")) &&
                  strstr(out, "try a smaller train.batch_size or another device with --device"),
                  "%s", out);
    ck_assert(!test_file_exists("build/test-tmp/faults-huge/run"));
    Err err = {""};
    ck_assert_int_eq(dev_check(CL_OUT_OF_RESOURCES, "clEnqueueNDRangeKernel", "gemm_nn", &err),
                     CLRUN_ERUNTIME);
    ck_assert_msg(strstr(err.msg, "clEnqueueNDRangeKernel(gemm_nn): CL_OUT_OF_RESOURCES") &&
                  strstr(err.msg, "try a smaller train.batch_size or another device"), "%s",
                  err.msg);
}
END_TEST

/* ---- hostile and careless input: nothing lost, nothing mislabelled ---- */

/* A one-layer model on 256 sample images: a run of a fraction of a second. */
#define TINY_YAML \
    "model: {input: [1, 28, 28], layers: [{type: flatten}, {name: fc, type: dense, units: 10},\n" \
    "        {type: log_softmax}]}\n" \
    "data: {dataset: mnist, limit: 256}\n" \
    "optimizer: {name: sgd, learning_rate: 0.1}\n" \
    "loss: nll\n" \
    "train: {epochs: 1, batch_size: 64}\n"
#define TINY_SWEEP TINY_YAML "sweep:\n  optimizer.learning_rate: [0.0001, 0.00011]\n"

/* Runs build/clrun with args (printf-style) and returns its exit status. */
static __attribute__((format(printf, 1, 2))) int run_clrun(const char *fmt, ...)
{
    char args[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    return clrun(args, out, sizeof out);
}

/* The bytes of a file, for comparing before and after (static storage, one of
 * four slots). */
static const char *bytes_of(const char *path, int slot)
{
    static char buf[4][1 << 16];
    test_read_file(path, buf[slot], sizeof buf[slot]);
    return buf[slot];
}

/* Running a finished run's command with other settings is refused with exit
 * 2 and leaves SUCCESS, history.csv and the weights as they were (its own
 * command again is up to date: check_cli.c), and so does raising its
 * epochs when its kept checkpoint is damaged; --overwrite replaces it. */
START_TEST(finished_run_is_kept_without_overwrite)
{
#define FINISHED "build/test-tmp/faults-finished"
    const char *dir = FINISHED;
    const char *exp = test_write_file("tiny.yaml", TINY_YAML);
    test_fresh_dir("faults-finished");
    ck_assert_msg(run_clrun("run %s --out %s", exp, dir) == 0, "%s", out);
    char *history = strdup(bytes_of(FINISHED "/history.csv", 0));
    char *success = strdup(bytes_of(FINISHED "/SUCCESS", 1));
    ck_assert_int_eq(run_clrun("run %s optimizer.learning_rate=0.5 --out %s", exp, dir), 2);
    ck_assert_msg(strstr(out, "holds a finished run") && strstr(out, "--overwrite"), "%s", out);
    ck_assert_str_eq(bytes_of(FINISHED "/history.csv", 0), history);
    ck_assert_str_eq(bytes_of(FINISHED "/SUCCESS", 1), success);
    ck_assert(test_file_exists(FINISHED "/weights.safetensors"));
    flip_byte(FINISHED "/checkpoint.safetensors", 5);
    ck_assert_int_eq(run_clrun("run %s train.epochs=2 --out %s", exp, dir), 2);
    ck_assert_msg(strstr(out, "damaged checkpoint"), "%s", out);
    ck_assert_str_eq(bytes_of(FINISHED "/history.csv", 0), history);
    ck_assert_str_eq(bytes_of(FINISHED "/SUCCESS", 1), success);
    ck_assert_msg(run_clrun("run %s optimizer.learning_rate=0.5 --out %s --overwrite", exp, dir) == 0,
                  "%s", out);
    ck_assert_str_ne(bytes_of(FINISHED "/SUCCESS", 1), success); /* other settings recorded */
    free(history);
    free(success);
#undef FINISHED
}
END_TEST

/* Holds dir/.lock as a running clrun would, with pid 4242 written in it;
 * returns the descriptor (closing it lets go). */
static int hold_lock(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT, 0644);
    ck_assert(fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0);
    ck_assert_int_eq(write(fd, "4242\n", 5), 5);
    return fd;
}

/* A second run into a directory another clrun holds exits 2 naming its pid
 * and writes nothing there; so does a sweep point. */
START_TEST(locked_run_directory_is_refused_naming_the_pid)
{
    const char *exp = test_write_file("tiny.yaml", TINY_YAML);
    test_fresh_dir("faults-locked");
    int fd = hold_lock("build/test-tmp/faults-locked");
    ck_assert_int_eq(run_clrun("run %s --out build/test-tmp/faults-locked", exp), 2);
    ck_assert_msg(strstr(out, "build/test-tmp/faults-locked is in use by another clrun (pid 4242)"),
                  "%s", out);
    ck_assert(!test_file_exists("build/test-tmp/faults-locked/history.csv"));
    ck_assert(!test_file_exists("build/test-tmp/faults-locked/config.yaml"));
    close(fd);
    ck_assert_msg(run_clrun("run %s --out build/test-tmp/faults-locked", exp) == 0, "%s", out);
}
END_TEST

START_TEST(locked_sweep_point_is_refused_naming_the_pid)
{
    const char *exp = test_write_file("tiny-sweep.yaml", TINY_SWEEP);
    test_fresh_dir("faults-locked-sweep/1");
    int fd = hold_lock("build/test-tmp/faults-locked-sweep/1");
    ck_assert_int_eq(run_clrun("sweep %s --index 1 --out build/test-tmp/faults-locked-sweep", exp),
                     2);
    ck_assert_msg(strstr(out, "faults-locked-sweep/1 is in use by another clrun (pid 4242)"), "%s",
                  out);
    ck_assert(!test_file_exists("build/test-tmp/faults-locked-sweep/1/SUCCESS"));
    ck_assert(!test_file_exists("build/test-tmp/faults-locked-sweep/1/history.csv"));
    close(fd);
}
END_TEST

/* A sweep edited (new learning rates) and run again into the same root is
 * refused before sweep.csv or any point changes; --overwrite trains the new
 * points, and the results then say what each was trained with. */
START_TEST(edited_sweep_is_refused_not_mislabelled)
{
    static const char root[] = "build/test-tmp/faults-edited";
    const char *exp = test_write_file("tiny-sweep.yaml", TINY_SWEEP);
    test_fresh_dir("faults-edited");
    ck_assert_msg(run_clrun("sweep %s --jobs 2 --out %s", exp, root) == 0, "%s", out);
    char *grid = strdup(bytes_of("build/test-tmp/faults-edited/sweep.csv", 0));
    char *results = strdup(bytes_of("build/test-tmp/faults-edited/results.csv", 1));
    ck_assert_int_eq(run_clrun("sweep %s optimizer.learning_rate=0.5,0.9 --jobs 2 --out %s", exp,
                               root), 2);
    ck_assert_msg(strstr(out, "faults-edited/0 holds a finished run of other settings "
                              "(optimizer.learning_rate=0.0001), not point 0 of this grid "
                              "(optimizer.learning_rate=0.5)"), "%s", out);
    ck_assert_str_eq(bytes_of("build/test-tmp/faults-edited/sweep.csv", 0), grid);
    ck_assert_str_eq(bytes_of("build/test-tmp/faults-edited/results.csv", 1), results);
    free(grid);
    free(results);
    ck_assert_int_eq(run_clrun("sweep %s optimizer.learning_rate=0.5,0.9 --index 1 --out %s", exp,
                               root), 2);
    ck_assert_msg(strstr(out, "--overwrite"), "%s", out);
    ck_assert_msg(run_clrun("sweep %s optimizer.learning_rate=0.5,0.9 --jobs 2 --overwrite "
                            "--out %s", exp, root) == 0, "%s", out);
    ck_assert_msg(strstr(out, "2 points, 2 to run"), "%s", out);
    const char *csv = bytes_of("build/test-tmp/faults-edited/results.csv", 1);
    ck_assert_msg(strstr(csv, "\n0,0.5,finished,") && strstr(csv, "\n1,0.9,finished,"), "%s", csv);
    ck_assert_msg(run_clrun("sweep %s optimizer.learning_rate=0.5,0.9 --out %s", exp, root) == 0,
                  "%s", out);
    ck_assert_msg(strstr(out, "2 points, 0 to run"), "%s", out);
}
END_TEST

/* `--jobs 256` on a 2-point sweep starts two workers, not 256. */
START_TEST(sweep_jobs_are_capped_at_the_points_to_run)
{
    const char *exp = test_write_file("tiny-sweep.yaml", TINY_SWEEP);
    test_fresh_dir("faults-jobs");
    ck_assert_msg(run_clrun("sweep %s --jobs 256 --out build/test-tmp/faults-jobs", exp) == 0, "%s",
                  out);
    ck_assert_msg(strstr(out, "2 points, 2 to run, 2 workers"), "%s", out);
}
END_TEST

/* A sweep.csv that gives a point other values than its run recorded (a grid
 * rewritten by hand or by an older clrun): merge keeps the row without the
 * run's numbers, as "other settings", and says so. */
START_TEST(merge_never_labels_a_point_with_values_it_was_not_trained_with)
{
    const char *exp = test_write_file("tiny-sweep.yaml", TINY_SWEEP);
    test_fresh_dir("faults-relabel");
    ck_assert_msg(run_clrun("sweep %s --out build/test-tmp/faults-relabel", exp) == 0, "%s", out);
    FILE *f = fopen("build/test-tmp/faults-relabel/sweep.csv", "w");
    ck_assert_ptr_nonnull(f);
    fputs("index,optimizer.learning_rate\n0,0.5\n1,0.00011\n", f);
    fclose(f);
    ck_assert_msg(run_clrun("merge build/test-tmp/faults-relabel") == 0, "%s", out);
    ck_assert_msg(strstr(out, "was trained with optimizer.learning_rate=0.0001, not with this "
                              "grid's optimizer.learning_rate=0.5"), "%s", out);
    const char *csv = bytes_of("build/test-tmp/faults-relabel/results.csv", 0);
    ck_assert_msg(strstr(csv, "\n0,0.5,other settings,NA,NA,") &&
                  strstr(csv, "\n1,0.00011,finished,0."), "%s", csv);
}
END_TEST

/* History values of 1e308 and infinity (a diverged run) leave merge's table
 * and figures whole. */
START_TEST(merge_takes_huge_and_infinite_history_values)
{
    const char *exp = test_write_file("tiny-sweep.yaml", TINY_SWEEP);
    test_fresh_dir("faults-huge-history");
    ck_assert_msg(run_clrun("sweep %s --out build/test-tmp/faults-huge-history", exp) == 0, "%s",
                  out);
    FILE *f = fopen("build/test-tmp/faults-huge-history/0/history.csv", "w");
    ck_assert_ptr_nonnull(f);
    fputs("epoch,loss,accuracy,val_loss,val_accuracy,test_loss,test_accuracy,seconds,images_per_s\n"
          "1,1e308,0.1,NA,NA,inf,1e308,0.1,100\n", f);
    fclose(f);
    ck_assert_msg(run_clrun("merge build/test-tmp/faults-huge-history") == 0, "%s", out);
    check_png("build/test-tmp/faults-huge-history/sweep_optimizer_learning_rate.png");
    ck_assert_int_eq(run_clrun("merge build/test-tmp/faults-huge-history --metric final_test_loss"),
                     0);
}
END_TEST

/* An experiment that names a data folder relative to itself: its run's
 * config.yaml runs again from the run directory (and from anywhere). */
START_TEST(config_yaml_with_relative_paths_runs_again)
{
    test_fresh_dir("faults-config/exp");
    test_fresh_dir("faults-config-run");
    test_fresh_dir("faults-config-again");
    FILE *f = fopen("build/test-tmp/faults-config/exp/greek.yaml", "w");
    ck_assert_ptr_nonnull(f);
    fputs("model: {input: [1, 28, 28], layers: [{type: flatten}, {name: fc, type: dense, units: 3},\n"
          "        {type: log_softmax}]}\n"
          "data: {dataset: folder, train: ../../../../data/greek/train,\n"
          "       test: ../../../../data/greek/test, grayscale: true, size: [28, 28]}\n"
          "optimizer: {name: sgd, learning_rate: 0.1}\nloss: nll\ntrain: {epochs: 1, batch_size: 9}\n"
          "analyses:\n  - {type: neighbours, layer: fc, reference: ../../../../data/greek/train,\n"
          "     query: ../../../../data/greek/test, grayscale: true, size: [28, 28]}\n", f);
    fclose(f);
    ck_assert_msg(run_clrun("run build/test-tmp/faults-config/exp/greek.yaml "
                            "--out build/test-tmp/faults-config-run") == 0, "%s", out);
    ck_assert_msg(run_clrun("run build/test-tmp/faults-config-run/config.yaml "
                            "--out build/test-tmp/faults-config-again") == 0, "%s", out);
    ck_assert_msg(test_shell("cd build/test-tmp/faults-config-run && ../../clrun run config.yaml "
                             "--out ../faults-config-again --overwrite", out, sizeof out) == 0,
                  "%s", out);
}
END_TEST

/* The shipped experiment that names data folders (project5-greek's
 * neighbours analysis): its config.yaml runs again. */
START_TEST(shipped_experiment_config_yaml_runs_again)
{
    test_fresh_dir("faults-greek");
    test_fresh_dir("faults-greek-again");
    ck_assert_msg(run_clrun("run experiments/project5-greek.yaml train.epochs=0 data.limit=64 "
                            "--out build/test-tmp/faults-greek") == 0, "%s", out);
    ck_assert_msg(run_clrun("run build/test-tmp/faults-greek/config.yaml "
                            "--out build/test-tmp/faults-greek-again") == 0, "%s", out);
    ck_assert_msg(strstr(out, "Analysis neighbours"), "%s", out);
}
END_TEST

/* Where a FIFO (or another file that is not a regular one) stands for a file
 * clrun reads: exit 2 naming it, at once, not a hang. */
static const struct {
    const char *what;
    const char *args; /* %s: the FIFO */
    const char *yaml; /* NULL: the FIFO is the experiment */
} fifo_cases[] = {
    {"experiment", "run %s --out build/test-tmp/faults-fifo/run", NULL},
    {"weights", "run %s --weights build/test-tmp/faults-fifo/fifo --out build/test-tmp/faults-fifo/run",
     TINY_YAML},
    {"targets", "run %s --out build/test-tmp/faults-fifo/run",
     TINY_YAML "analyses:\n  - {type: readout, layers: [fc], targets: faults-fifo/fifo}\n"},
    {"idx", "run %s --out build/test-tmp/faults-fifo/run", TINY_YAML},
};

START_TEST(fifo_is_refused_not_waited_on)
{
    test_fresh_dir("faults-fifo");
    char fifo[] = "build/test-tmp/faults-fifo/fifo", exp[256], cmd[1024];
    ck_assert_int_eq(mkfifo(fifo, 0644), 0);
    snprintf(exp, sizeof exp, "%s", fifo_cases[_i].yaml ? test_write_file("fifo.yaml",
                                                                          fifo_cases[_i].yaml)
                                                        : fifo);
    const char *env = "";
    if (strcmp(fifo_cases[_i].what, "idx") == 0) { /* a data root whose training images are a FIFO */
        ck_assert_int_eq(test_shell("mkdir -p build/test-tmp/faults-fifo/root/data/mnist && "
                                    "cp data/mnist-sample/* build/test-tmp/faults-fifo/root/data/mnist/ && "
                                    "rm build/test-tmp/faults-fifo/root/data/mnist/train-images-idx3-ubyte.gz && "
                                    "mkfifo build/test-tmp/faults-fifo/root/data/mnist/train-images-idx3-ubyte.gz",
                                    out, sizeof out), 0);
        env = "CLRUN_ROOT=build/test-tmp/faults-fifo/root ";
    }
    snprintf(cmd, sizeof cmd, "%sbuild/clrun ", env);
    snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), fifo_cases[_i].args, exp);
    ck_assert_int_eq(test_shell(cmd, out, sizeof out), 2);
    ck_assert_msg(strstr(out, "fifo: not a regular file (a FIFO)") ||
                  strstr(out, "train-images-idx3-ubyte.gz: not a regular file (a FIFO)"), "%s: %s",
                  fifo_cases[_i].what, out);
    ck_assert(!test_file_exists("build/test-tmp/faults-fifo/run"));
}
END_TEST

/* A 2 MiB YAML list is refused by its size, before libyaml builds anything. */
START_TEST(yaml_over_the_size_cap_is_refused)
{
    test_fresh_dir("faults-big-yaml");
    FILE *f = fopen("build/test-tmp/faults-big-yaml/big.yaml", "w");
    ck_assert_ptr_nonnull(f);
    fputs("model: {input: [2], layers: [{type: dense, units: 1}]}\nbig: [", f);
    for (int i = 0; i < 1 << 20; i++)
        fputs("0,", f);
    fputs("0]\n", f);
    fclose(f);
    ck_assert_int_eq(run_clrun("run build/test-tmp/faults-big-yaml/big.yaml "
                               "--out build/test-tmp/faults-big-yaml/run"), 2);
    ck_assert_msg(strstr(out, "big.yaml: 2097216 bytes; a YAML file may have at most 1048576"),
                  "%s", out);
    ck_assert(!test_file_exists("build/test-tmp/faults-big-yaml/run"));
}
END_TEST

/* A safetensors header of n zero-size tensors named t0, t1, ... into path. */
static void write_many_tensors(const char *path, int n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    char *header = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&header, &len);
    ck_assert_ptr_nonnull(m);
    fputc('{', m);
    for (int i = 0; i < n; i++)
        fprintf(m, "%s\"t%d\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}", i ? "," : "",
                i);
    fputc('}', m);
    fclose(m);
    unsigned char size[8];
    for (int i = 0; i < 8; i++)
        size[i] = (unsigned char)((uint64_t)len >> (8 * i));
    fwrite(size, 1, 8, f);
    fwrite(header, 1, len, f);
    fclose(f);
    free(header);
}

/* 100,000 tensors in a header are refused by count; 60,000 (under the cap)
 * are read, names compared sorted, and refused for matching no parameter. */
START_TEST(safetensors_with_many_tensors_is_refused)
{
    const char *exp = test_write_file("tiny.yaml", TINY_YAML);
    test_fresh_dir("faults-many");
    write_many_tensors("build/test-tmp/faults-many/100k.safetensors", 100000);
    write_many_tensors("build/test-tmp/faults-many/60k.safetensors", 60000);
    ck_assert_int_eq(run_clrun("run %s --weights build/test-tmp/faults-many/100k.safetensors "
                               "--out build/test-tmp/faults-many/run", exp), 2);
    ck_assert_msg(strstr(out, "100k.safetensors") && strstr(out, "more than 65536 tensors"), "%s",
                  out);
    ck_assert_int_eq(run_clrun("run %s --weights build/test-tmp/faults-many/60k.safetensors "
                               "--out build/test-tmp/faults-many/run", exp), 2);
    ck_assert_msg(strstr(out, "60k.safetensors: tensor 't0' matches no parameter"), "%s", out);
    ck_assert(!test_file_exists("build/test-tmp/faults-many/run"));
}
END_TEST

/* An explicit dense_2 and a later unnamed dense layer: the default name skips
 * dense_2, so the run saves both layers' weights (it used to fail at the
 * first checkpoint). */
START_TEST(default_layer_name_never_clashes_with_a_given_one)
{
    const char *exp = test_write_file("names.yaml",
        "model: {input: [1, 28, 28], layers: [{type: flatten}, {name: dense_2, type: dense, units: 20},\n"
        "        {type: dense, units: 10}, {type: log_softmax}]}\n"
        "data: {dataset: mnist, limit: 256}\noptimizer: {name: sgd, learning_rate: 0.1}\n"
        "loss: nll\ntrain: {epochs: 2, batch_size: 64}\n");
    test_fresh_dir("faults-names");
    ck_assert_msg(run_clrun("run %s --out build/test-tmp/faults-names", exp) == 0, "%s", out);
    StFile f;
    Err err = {""};
    ck_assert_ok(st_read("build/test-tmp/faults-names/weights.safetensors", &f, &err), err);
    ck_assert_ptr_nonnull(st_find(&f, "dense_2.weight"));
    ck_assert_ptr_nonnull(st_find(&f, "dense_3.weight"));
    st_free(&f);
}
END_TEST

/* A model of 26 GB under `ulimit -v` of 8 GB: refused with exit 1 and the
 * bytes it needs before anything is allocated (POCL would abort half way),
 * by the device's memory or by the limit, whichever is smaller. */
START_TEST(model_past_the_memory_limit_is_refused_first)
{
    const char *exp = test_write_file("big.yaml",
        "model: {input: [1, 28, 28], layers: [{type: flatten}, {name: fc, type: dense,\n"
        "        units: 2000000}, {name: out, type: dense, units: 10}, {type: log_softmax}]}\n"
        "data: {dataset: mnist, limit: 256}\noptimizer: {name: sgd, learning_rate: 0.1}\n"
        "loss: nll\ntrain: {epochs: 1, batch_size: 64}\n");
    char cmd[8192];
    test_fresh_dir("faults-memory");
#if defined(__SANITIZE_ADDRESS__)
    /* AddressSanitizer reserves terabytes of address space for its shadow: no
     * ulimit -v leaves it room to start, so only the device's memory is tried,
     * with 40 layers of 2.1e9 weights (about 1.4 TB with gradients and state) */
    char layers[4096] = "model.layers=[{type: flatten}, {type: dense, units: 2700000}";
    for (int i = 0; i < 20; i++)
        strcat(layers, ", {type: dense, units: 790}, {type: dense, units: 2700000}");
    strcat(layers, ", {type: dense, units: 10}, {type: log_softmax}]");
    snprintf(cmd, sizeof cmd, "build/clrun run %s '%s' --out build/test-tmp/faults-memory/run",
             exp, layers);
#else
    snprintf(cmd, sizeof cmd, "ulimit -v 8000000 && build/clrun run %s "
             "--out build/test-tmp/faults-memory/run", exp);
#endif
    ck_assert_int_eq(test_shell(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "the model needs") &&
                  (strstr(out, "ulimit -v") || strstr(out, "of device memory")), "%s", out);
    ck_assert(!test_file_exists("build/test-tmp/faults-memory/run"));
}
END_TEST

/* A --weights path of 3,000 characters is named whole in the message. */
START_TEST(long_path_is_named_whole)
{
    const char *exp = test_write_file("tiny.yaml", TINY_YAML);
    char path[3200] = "build/test-tmp/faults-long";
    for (int i = 0; i < 12; i++) {
        size_t n = strlen(path);
        snprintf(path + n, sizeof path - n, "/%0250d", i);
    }
    test_fresh_dir("faults-long");
    char *cmd = NULL;
    ck_assert(asprintf(&cmd, "build/clrun run %s --weights %s.safetensors --out "
                       "build/test-tmp/faults-long/run", exp, path) > 0);
    ck_assert_int_eq(test_shell(cmd, out, sizeof out), 2);
    free(cmd);
    char *want = NULL;
    ck_assert(asprintf(&want, "%s.safetensors: cannot open: No such file or directory", path) > 0);
    ck_assert_msg(strstr(out, want), "%s", out);
    free(want);
}
END_TEST

Suite *faults_suite(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = tcase_create("faults");
    tcase_set_timeout(tc, 600);
    tcase_add_test(tc, run_killed_at_random_moments_resumes_to_the_same_bits);
    tcase_add_test(tc, damaged_checkpoint_is_reported_not_loaded);
    tcase_add_test(tc, same_run_twice_gives_the_same_bits);
    tcase_add_test(tc, nonfinite_value_stops_training_at_its_layer);
    tcase_add_test(tc, device_faults_say_what_to_do);
    tcase_add_test(tc, finished_run_is_kept_without_overwrite);
    tcase_add_test(tc, locked_run_directory_is_refused_naming_the_pid);
    tcase_add_test(tc, locked_sweep_point_is_refused_naming_the_pid);
    tcase_add_test(tc, edited_sweep_is_refused_not_mislabelled);
    tcase_add_test(tc, sweep_jobs_are_capped_at_the_points_to_run);
    tcase_add_test(tc, merge_never_labels_a_point_with_values_it_was_not_trained_with);
    tcase_add_test(tc, merge_takes_huge_and_infinite_history_values);
    tcase_add_test(tc, config_yaml_with_relative_paths_runs_again);
    tcase_add_test(tc, shipped_experiment_config_yaml_runs_again);
    tcase_add_loop_test(tc, fifo_is_refused_not_waited_on, 0,
                        (int)(sizeof fifo_cases / sizeof fifo_cases[0]));
    tcase_add_test(tc, yaml_over_the_size_cap_is_refused);
    tcase_add_test(tc, safetensors_with_many_tensors_is_refused);
    tcase_add_test(tc, default_layer_name_never_clashes_with_a_given_one);
    tcase_add_test(tc, long_path_is_named_whole);
    tcase_add_test(tc, model_past_the_memory_limit_is_refused_first);
    suite_add_tcase(s, tc);
    return s;
}
