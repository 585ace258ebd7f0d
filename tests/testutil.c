/* testutil.c: shared test helpers (see testutil.h). */
#include "testutil.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "data/image.h"
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

int clrun(const char *args, char *out, size_t size)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "build/clrun %s 2>&1", args);
    FILE *p = popen(cmd, "r");
    ck_assert_msg(p != NULL, "cannot run %s", cmd);
    size_t used = fread(out, 1, size - 1, p);
    out[used] = 0;
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void check_png(const char *path)
{
    unsigned char head[8] = {0};
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "no %s", path);
    size_t got = fread(head, 1, sizeof head, f);
    fclose(f);
    ck_assert_msg(got == 8 && memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0, "%s is not a PNG", path);
    Image img;
    Err err = {""};
    ck_assert_msg(image_read(path, &img, &err) == CLRUN_OK, "%s", err.msg);
    ck_assert_msg(img.w >= 400 && img.h >= 300, "%s is %dx%d", path, img.w, img.h);
    /* Drawn pixels: those unlike the top-left corner (the background). */
    size_t n = (size_t)img.w * img.h, drawn = 0;
    for (size_t i = 0; i < n; i++)
        drawn += memcmp(img.data + i * img.channels, img.data, (size_t)img.channels) != 0;
    image_free(&img);
    ck_assert_msg(drawn > n / 200 && drawn < n - n / 200, "%s is blank: %zu of %zu pixels drawn",
                  path, drawn, n);
}
