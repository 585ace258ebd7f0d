/* check_faults.c: what a run keeps through faults, through build/clrun: runs
 * killed at random moments (one of them while a checkpoint is being written)
 * resume to the same bits as a run never stopped, a damaged checkpoint is
 * reported and not loaded, the same experiment twice gives the same
 * weights and history, a NaN stops training at the layer it came from, and
 * device faults say what to do. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
 * written; returns whether the temporary file was left behind. */
static int kill_during_checkpoint_write(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "build/test-tmp/%s", dir);
    int fd = inotify_init();
    ck_assert(fd >= 0 && inotify_add_watch(fd, path, IN_CREATE) >= 0);
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
 * a run never stopped. */
START_TEST(run_killed_at_random_moments_resumes_to_the_same_bits)
{
    test_fresh_dir("faults-whole");
    test_fresh_dir("faults-killed");
    run_to_end("faults-whole");
    ck_assert_msg(kill_during_checkpoint_write("faults-killed"),
                  "the kill did not land while the checkpoint was written");
    uint64_t state = 7;
    int kills = 1, finished = 0;
    while (!finished && kills < 40) {
        pid_t pid = start("faults-killed");
        long ns = (long)(rng_uniform(&state) * 1.2e9);
        nanosleep(&(struct timespec){ns / 1000000000L, ns % 1000000000L}, NULL);
        finished = kill_and_reap(pid);
        kills += !finished;
    }
    ck_assert_msg(finished, "never finished in %d starts", kills);
    ck_assert_msg(kills >= 3, "only %d kills: the run is too short to test", kills);
    ck_assert(test_file_exists("build/test-tmp/faults-killed/SUCCESS"));
    ck_assert(!test_file_exists("build/test-tmp/faults-killed/checkpoint.safetensors"));
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
    ck_assert_msg(strstr(out, "allows at most") &&
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
    suite_add_tcase(s, tc);
    return s;
}
