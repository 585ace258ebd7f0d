/* check_bad.c: the bad-input corpus (tests/bad/, see its README.md). Every
 * case is an experiment whose leading comments say how to run it and what
 * clrun must answer: the exit status, a fragment of the message and the
 * place the message must name (file:line:column, the layer, the data file).
 * Each runs build/clrun with --out build/test-tmp/bad/<case> (unless its args
 * give their own --out: an output against an input), which must not hold a
 * half-written run afterwards. One more test cuts a gzipped IDX file
 * at every length. */
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "suites.h"
#include "testutil.h"

#define CORPUS "tests/bad"
#define OUT_ROOT "build/test-tmp/bad"

static glob_t cases;
static char out[1 << 16];

/* A case's header comments. */
typedef struct {
    char name[128];
    char command[32];    /* run (default), summary or sweep */
    char args[512];      /* more arguments after the file */
    char root[256];      /* CLRUN_ROOT under tests/bad/files, or empty */
    char message[512];   /* a fragment of what clrun prints */
    char names[512];     /* the place the message must name */
    int expect;          /* the exit status */
} Case;

/* Copies text into out with $CASE (the case's path) and $FILES (tests/bad/files)
 * replaced. */
static void expand(const char *text, const char *path, char *dst, size_t size)
{
    size_t n = 0;
    while (*text && n + 1 < size) {
        const char *with = strncmp(text, "$CASE", 5) == 0    ? path
                           : strncmp(text, "$FILES", 6) == 0 ? CORPUS "/files"
                                                             : NULL;
        if (!with) {
            dst[n++] = *text++;
            continue;
        }
        n += (size_t)snprintf(dst + n, size - n, "%s", with);
        n = n < size ? n : size - 1;
        text += with == path ? 5 : 6;
    }
    dst[n] = 0;
}

/* Reads "# key: value" lines at the top of path into c. */
static void read_case(const char *path, Case *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->command, sizeof c->command, "run");
    const char *base = strrchr(path, '/') + 1;
    snprintf(c->name, sizeof c->name, "%.*s", (int)(strrchr(base, '.') - base), base);
    FILE *f = fopen(path, "r");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    char line[1024], key[32], value[900];
    while (fgets(line, sizeof line, f) && line[0] == '#') {
        value[0] = 0;
        if (sscanf(line, "# %31[a-z]: %899[^\n]", key, value) < 1)
            continue;
        if (strcmp(key, "expect") == 0)
            c->expect = atoi(value);
        else if (strcmp(key, "message") == 0)
            expand(value, path, c->message, sizeof c->message);
        else if (strcmp(key, "names") == 0)
            expand(value, path, c->names, sizeof c->names);
        else if (strcmp(key, "command") == 0)
            snprintf(c->command, sizeof c->command, "%s", value);
        else if (strcmp(key, "args") == 0)
            expand(value, path, c->args, sizeof c->args);
        else if (strcmp(key, "root") == 0)
            snprintf(c->root, sizeof c->root, "%s/files/%s", CORPUS, value);
    }
    fclose(f);
    ck_assert_msg(c->expect && c->message[0] && c->names[0],
                  "%s: needs '# expect:', '# message:' and '# names:' lines", path);
}

/* Whether dir/sub/file exists. */
static int exists(const char *dir, const char *sub, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, file);
    return access(path, F_OK) == 0;
}

/* A run (or a sweep's point 0) that failed must leave nothing that looks like
 * a run: no weights, no mark of success, no checkpoint to resume, no history,
 * no sweep grid. */
static void check_nothing_written(const char *name, const char *dir)
{
    static const char *const files[] = {"weights.safetensors", "SUCCESS",
                                        "checkpoint.safetensors", "history.csv", "sweep.csv"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
        for (int point = 0; point < 2; point++)
            ck_assert_msg(!exists(dir, point ? "0" : ".", files[i]), "%s: left %s/%s%s", name, dir,
                          point ? "0/" : "", files[i]);
}

/* Runs one case and checks its status, its message and its run directory. */
static void run_case(const char *path)
{
    Case c;
    read_case(path, &c);
    char dir[256], cmd[2048];
    snprintf(dir, sizeof dir, "%s/%s", OUT_ROOT, c.name);
    /* a case that names its own --out (an output against an input) keeps it */
    int own_out = strstr(c.args, "--out ") != NULL, out_dir = strcmp(c.command, "summary") && !own_out;
    snprintf(cmd, sizeof cmd, "rm -rf %s && %s%s%sbuild/clrun %s %s %s%s%s", dir,
             c.root[0] ? "CLRUN_ROOT=" : "", c.root, c.root[0] ? " " : "", c.command, path,
             c.args, out_dir ? " --out " : "", out_dir ? dir : "");
    int status = test_shell(cmd, out, sizeof out);
    ck_assert_msg(status == c.expect, "%s: exit %d, want %d:\n%s\n%s", c.name, status, c.expect,
                  cmd, out);
    ck_assert_msg(strstr(out, c.message), "%s: no '%s' in:\n%s", c.name, c.message, out);
    ck_assert_msg(strstr(out, c.names), "%s: does not name '%s':\n%s", c.name, c.names, out);
    check_nothing_written(c.name, dir);
}

START_TEST(the_corpus_has_at_least_60_cases)
{
    ck_assert_msg(cases.gl_pathc >= 60, "%zu cases in " CORPUS, cases.gl_pathc);
}
END_TEST

START_TEST(bad_input_exits_with_its_status_and_message)
{
    run_case(cases.gl_pathv[_i]);
}
END_TEST

/* ---- a gzipped IDX file cut at every length ---- */

#define CUT_ROOT OUT_ROOT "/cut"
#define CUT_DIR CUT_ROOT "/data/mnist"

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* An IDX file with these dimensions and bytes that compress well (a short
 * stream, cut at each of its lengths below), gzipped into path; returns the
 * gzip stream's length. */
static long write_idx_gz(const char *path, uint32_t magic, const uint32_t *dims, int ndim)
{
    size_t body = 1;
    for (int i = 0; i < ndim; i++)
        body *= dims[i];
    size_t len = 4 + 4 * (size_t)ndim + body;
    unsigned char *buf = calloc(len, 1);
    ck_assert_ptr_nonnull(buf);
    put_be32(buf, magic);
    for (int i = 0; i < ndim; i++)
        put_be32(buf + 4 + 4 * i, dims[i]);
    for (size_t i = 0; i < body; i++)
        buf[len - body + i] = (unsigned char)(i / 97 % 10);
    gzFile gz = gzopen(path, "wb9");
    ck_assert_ptr_nonnull(gz);
    ck_assert_int_eq(gzwrite(gz, buf, (unsigned)len), (int)len);
    ck_assert_int_eq(gzclose(gz), Z_OK);
    free(buf);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    return size;
}

/* Every proper prefix of a small gzipped training-image file, in a dataset
 * whose other three files are intact, is refused with exit 2, naming the file,
 * before anything is written. */
START_TEST(every_prefix_of_a_gzipped_idx_file_is_refused)
{
    ck_assert_int_eq(test_shell("rm -rf " CUT_ROOT " && mkdir -p " CUT_DIR, out, sizeof out), 0);
    static const char *const names[] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                        "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    char path[4][256];
    for (int i = 0; i < 4; i++)
        snprintf(path[i], sizeof path[i], "%s/%s", CUT_DIR, names[i]);
    uint32_t images[3] = {4, 28, 28}, labels[1] = {4};
    long len = write_idx_gz(path[0], 0x803, images, 3);
    write_idx_gz(path[1], 0x801, labels, 1);
    write_idx_gz(path[2], 0x803, images, 3);
    write_idx_gz(path[3], 0x801, labels, 1);
    const char *yaml = "model: {input: [1, 28, 28], layers: [{type: flatten}, "
                       "{name: fc, type: dense, units: 10}, {type: log_softmax}]}\n"
                       "data: {dataset: mnist}\noptimizer: {name: sgd, learning_rate: 0.1}\n"
                       "loss: nll\ntrain: {epochs: 1, batch_size: 2}\n";
    const char *exp = test_write_file("cut.yaml", yaml);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "CLRUN_ROOT=" CUT_ROOT " build/clrun run %s --out " CUT_ROOT "/run",
             exp);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "the intact files fail:\n%s", out);
    ck_assert_msg(len > 60, "the gzip stream is only %ld bytes", len);
    for (long keep = len - 1; keep >= 0; keep--) {
        ck_assert_int_eq(truncate(path[0], keep), 0);
        ck_assert_int_eq(test_shell("rm -rf " CUT_ROOT "/run", out, sizeof out), 0);
        int status = test_shell(cmd, out, sizeof out);
        ck_assert_msg(status == 2, "cut at %ld of %ld bytes: exit %d:\n%s", keep, len, status, out);
        ck_assert_msg(strstr(out, path[0]) && (strstr(out, "truncated") || strstr(out, "gzip")),
                      "cut at %ld of %ld bytes:\n%s", keep, len, out);
        ck_assert_msg(access(CUT_ROOT "/run", F_OK) != 0, "cut at %ld: the run directory was "
                      "made", keep);
    }
}
END_TEST

Suite *bad_suite(void)
{
    Suite *s = suite_create("bad");
    TCase *tc = tcase_create("bad");
    tcase_set_timeout(tc, 120);
    if (glob(CORPUS "/*.yaml", 0, NULL, &cases) != 0)
        cases.gl_pathc = 0;
    tcase_add_test(tc, the_corpus_has_at_least_60_cases);
    tcase_add_loop_test(tc, bad_input_exits_with_its_status_and_message, 0, (int)cases.gl_pathc);
    tcase_add_test(tc, every_prefix_of_a_gzipped_idx_file_is_refused);
    suite_add_tcase(s, tc);
    return s;
}
