/* testutil.c: shared test helpers (see testutil.h). */
#include "testutil.h"

#include <ftw.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rng.h"

void test_device(Device *d)
{
    Err err = {""};
    const char *spec = getenv("CLRUN_DEVICE");
    int rc = dev_open(d, spec && *spec ? spec : "pocl", &err);
    if (!rc)
        rc = dev_build(d, &err);
    ck_assert_msg(rc == CLRUN_OK, "no device for kernel tests: %s", err.msg);
}

int test_tiny(void)
{
    const char *tiny = getenv("CLRUN_TEST_TINY");
    return tiny && *tiny && strcmp(tiny, "0") != 0;
}

const char *test_write_file(const char *name, const char *text)
{
    static char path[512];
    mkdir("build", 0755);
    mkdir("build/test-tmp", 0755);
    snprintf(path, sizeof path, "build/test-tmp/%d-%s", (int)getpid(), name);
    FILE *f = fopen(path, "w");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    fputs(text, f);
    fclose(f);
    return path;
}

SpecNode *test_spec(const char *yaml)
{
    Err err = {""};
    SpecNode *root = spec_load(test_write_file("spec.yaml", yaml), &err);
    ck_assert_msg(root != NULL, "%s", err.msg);
    return root;
}

void test_graph(Graph *g, SpecNode **root, Device *d, const char *yaml, int max_batch, uint64_t seed)
{
    Err err = {""};
    *root = test_spec(yaml);
    int rc = graph_build(g, *root, &err);
    ck_assert_ok(rc, err);
    rc = graph_setup(g, d, max_batch, seed, &err);
    ck_assert_ok(rc, err);
}

void test_fill(float *x, size_t n, uint64_t seed, float lo, float hi)
{
    uint64_t state = seed;
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * (float)rng_uniform(&state);
}

char test_tmpdir[64];

void test_tmpdir_make(void)
{
    snprintf(test_tmpdir, sizeof test_tmpdir, "/tmp/clrun-check-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(test_tmpdir));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void test_tmpdir_remove(void)
{
    nftw(test_tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void test_put(Device *d, cl_mem m, const double *v, size_t n)
{
    Err err = {""};
    float *f = malloc(n * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)v[i];
    int rc = dev_write(d, m, 0, n * sizeof *f, f, &err);
    free(f);
    ck_assert_ok(rc, err);
}

void test_get(Device *d, cl_mem m, double *v, size_t n)
{
    Err err = {""};
    float *f = malloc(n * sizeof *f);
    int rc = dev_read(d, m, 0, n * sizeof *f, f, &err);
    for (size_t i = 0; !rc && i < n; i++)
        v[i] = f[i];
    free(f);
    ck_assert_ok(rc, err);
}

void test_close(Graph *g, Device *d, SpecNode *root)
{
    graph_free(g);
    dev_close(d);
    spec_free(root);
}

TestPixels test_read_png(const char *path)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    ck_assert_msg(png_image_begin_read_from_file(&img, path), "%s: %s", path, img.message);
    img.format = PNG_FORMAT_RGB;
    TestPixels p = {(int)img.width, (int)img.height, malloc(PNG_IMAGE_SIZE(img))};
    ck_assert_ptr_nonnull(p.rgb);
    ck_assert_msg(png_image_finish_read(&img, NULL, p.rgb, 0, NULL), "%s: %s", path, img.message);
    return p;
}

const unsigned char *test_pixel(const TestPixels *p, int x, int y)
{
    return p->rgb + 3 * ((size_t)y * (size_t)p->w + (size_t)x);
}

int test_is_white(const unsigned char *c)
{
    return c[0] > 250 && c[1] > 250 && c[2] > 250;
}

double test_ink_share(const TestPixels *p)
{
    long ink = 0;
    for (int y = 0; y < p->h; y++)
        for (int x = 0; x < p->w; x++)
            ink += !test_is_white(test_pixel(p, x, y));
    return (double)ink / ((double)p->w * p->h);
}

void test_fresh_dir(const char *dir)
{
    char cmd[512], out[1024];
    snprintf(cmd, sizeof cmd, "rm -rf build/test-tmp/%s && mkdir -p build/test-tmp/%s", dir, dir);
    ck_assert_msg(test_shell(cmd, out, sizeof out) == 0, "%s", out);
}

int test_file_exists(const char *path)
{
    return access(path, F_OK) == 0;
}

int test_count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    int n = 0, c;
    while (f && (c = fgetc(f)) != EOF)
        n += c == '\n';
    if (f)
        fclose(f);
    return n;
}

int test_wait_for(const char *path)
{
    for (int i = 0; i < 1200 && !test_file_exists(path); i++)
        nanosleep(&(struct timespec){0, 50 * 1000 * 1000}, NULL);
    return test_file_exists(path);
}

pid_t test_spawn(const char *cmd)
{
    pid_t pid = fork();
    if (pid == 0) {
        setpgid(0, 0);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    return pid;
}

size_t test_read_file(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "no %s", path);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = 0;
    fclose(f);
    return n;
}

void test_history_numbers(const char *path, char *buf, size_t size)
{
    char raw[8192], *line, *save = NULL;
    test_read_file(path, raw, sizeof raw);
    buf[0] = 0;
    for (line = strtok_r(raw, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *cut = line;
        for (int commas = 0; *cut && commas < 7; cut++)
            commas += *cut == ',';
        snprintf(buf + strlen(buf), size - strlen(buf), "%.*s\n", (int)(cut - line), line);
    }
}

int test_shell(const char *cmd, char *out, size_t size)
{
    char full[4096];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    ck_assert_msg(p != NULL, "cannot run %s", full);
    size_t used = fread(out, 1, size - 1, p);
    out[used] = 0;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int clrun(const char *args, char *out, size_t size)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "build/clrun %s", args);
    return test_shell(cmd, out, size);
}

void check_png(const char *path)
{
    TestPixels p = test_read_png(path);
    double ink = test_ink_share(&p);
    free(p.rgb);
    ck_assert_msg(p.w >= 400 && p.h >= 300, "%s is %dx%d", path, p.w, p.h);
    ck_assert_msg(ink > 0.01 && ink < 0.99, "%s is blank: %.4f of its pixels drawn", path, ink);
}

/* A CIFAR-10 tree of random records (a handful per batch file) under dir, for
 * experiments that need CIFAR-10 where the real one is not downloaded. */
void test_synthetic_cifar(const char *dir)
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
