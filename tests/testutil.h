/* testutil.h: what several suites share: a device for kernel tests, YAML
 * written to a temporary file, a graph built from YAML text, and figures
 * read back from PNG. */
#ifndef CLRUN_TESTUTIL_H
#define CLRUN_TESTUTIL_H

#include <check.h>
#include <sys/types.h>

#include "device.h"
#include "graph.h"
#include "spec.h"

/* Opens $CLRUN_DEVICE or else the POCL CPU device and builds the program;
 * fails the test with the message when it cannot. */
void test_device(Device *d);

/* Whether CLRUN_TEST_TINY is set: the kernel tests then keep to tiny shapes
 * and leave out the long runs (fits, training steps on real batches) whose
 * kernels other tests reach, for a simulated device such as Oclgrind (make
 * oclgrind-check), which interprets every work-item and checks its accesses. */
int test_tiny(void);

/* Writes text to a fresh file under build/test-tmp/ and returns its path
 * (static storage, valid until the next call). */
const char *test_write_file(const char *name, const char *text);

/* Loads YAML text as a spec tree (the caller frees it). */
SpecNode *test_spec(const char *yaml);

/* Builds a model from YAML text and sets it up on d for batches of max_batch;
 * *root receives the spec tree, which must outlive the graph. */
void test_graph(Graph *g, SpecNode **root, Device *d, const char *yaml, int max_batch, uint64_t seed);

/* A fresh directory under /tmp per test (a Check fixture pair), removed with
 * everything in it. */
extern char test_tmpdir[64];
void test_tmpdir_make(void);
void test_tmpdir_remove(void);

/* Copies n values between host doubles and a device buffer of floats. */
void test_put(Device *d, cl_mem m, const double *v, size_t n);
void test_get(Device *d, cl_mem m, double *v, size_t n);
/* Frees what test_graph and test_device made. */
void test_close(Graph *g, Device *d, SpecNode *root);

/* Fills with uniform values in [lo, hi) from a seeded generator. */
void test_fill(float *x, size_t n, uint64_t seed, float lo, float hi);

/* An RGB image read back from a PNG (the test fails when it cannot be read);
 * the caller frees rgb. */
typedef struct {
    int w, h;
    unsigned char *rgb;
} TestPixels;
TestPixels test_read_png(const char *path);
const unsigned char *test_pixel(const TestPixels *p, int x, int y);
int test_is_white(const unsigned char *c);
/* The share of pixels that are not white: 0 for a blank figure. */
double test_ink_share(const TestPixels *p);

/* Files and processes of the tests that run clrun as a user would. */
/* Empties build/test-tmp/<dir>, left by an earlier run of the suite. */
void test_fresh_dir(const char *dir);
int test_file_exists(const char *path);
int test_count_lines(const char *path);
/* Waits (at most a minute) until path exists; returns whether it did. */
int test_wait_for(const char *path);
/* Starts `sh -c cmd` in a process group of its own; returns its pid. */
pid_t test_spawn(const char *cmd);
/* The whole file into buf (NUL-terminated, at most size - 1 bytes); returns
 * the bytes read. The test fails when the file cannot be opened. */
size_t test_read_file(const char *path, char *buf, size_t size);
/* history.csv without its timing columns (seconds, images/s): the numbers a
 * run must reproduce. */
void test_history_numbers(const char *path, char *buf, size_t size);

/* Runs the shell command with stdout and stderr into out (NUL-terminated);
 * returns the exit status (-1 when it did not exit). */
int test_shell(const char *cmd, char *out, size_t size);
/* test_shell("build/clrun ARGS"). */
int clrun(const char *args, char *out, size_t size);
/* A CIFAR-10 tree of random records under dir (dir/data/cifar10/...), for
 * experiments that need CIFAR-10 where the real one is not downloaded. */
void test_synthetic_cifar(const char *dir);

/* Fails unless path is a PNG figure of at least 400x300 pixels that is not
 * blank: between 1% and 99% of its pixels are not white. */
void check_png(const char *path);

#define ck_assert_ok(rc, err) ck_assert_msg((rc) == CLRUN_OK, "%s", (err).msg)

#endif
