/* check_data.c: tests for the IDX reader and the dataset lookup (runtime/data).
 *
 * The expected facts about the bundled sample (label counts, checksums of
 * chosen images, pixel sums) were computed with Python straight from the
 * npm package's JSON, not from the IDX files, so they check the C reader
 * and tools/make-mnist-sample against an independent source. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "data/dataset.h"
#include "suites.h"
#include "testutil.h"

Suite *data_suite(void);

#define SAMPLE "data/mnist-sample/"
#define FASHION "/usr/share/datasets/fashion-mnist/"

/* test_tmpdir/name, in a buffer that lasts until the next call with the same slot. */
static const char *tmp_path(int slot, const char *name)
{
    static char paths[4][512];
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", test_tmpdir, name);
    return paths[slot];
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
    ck_assert_int_eq(fclose(fp), 0);
}

static void write_gz(const char *path, const void *data, size_t len)
{
    gzFile gz = gzopen(path, "wb");
    ck_assert_ptr_nonnull(gz);
    ck_assert_int_eq(gzwrite(gz, data, (unsigned)len), (int)len);
    ck_assert_int_eq(gzclose(gz), Z_OK);
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    fseek(fp, 0, SEEK_END);
    *len = (size_t)ftell(fp);
    rewind(fp);
    unsigned char *buf = malloc(*len);
    ck_assert_uint_eq(fread(buf, 1, *len, fp), *len);
    fclose(fp);
    return buf;
}

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* An IDX file in memory: magic, dims, then a byte pattern that compresses
 * poorly enough to give a gzip stream with many truncation points. */
static unsigned char *idx_bytes(uint32_t magic, const uint32_t *dims, int ndim, size_t body,
                                size_t *len)
{
    *len = 4 + 4 * (size_t)ndim + body;
    unsigned char *buf = malloc(*len);
    put_be32(buf, magic);
    for (int i = 0; i < ndim; i++)
        put_be32(buf + 4 + 4 * i, dims[i]);
    for (size_t i = 0; i < body; i++)
        buf[4 + 4 * ndim + i] = (unsigned char)(i * 2654435761u >> 13);
    return buf;
}

/* Writes n images of h x w and m labels (label i is i % 10), plain or gzipped. */
static void write_idx_pair(const char *images, const char *labels, uint32_t n, uint32_t h,
                           uint32_t w, uint32_t m, int gz)
{
    uint32_t dims[3] = {n, h, w};
    size_t len;
    unsigned char *buf = idx_bytes(0x803, dims, 3, (size_t)n * h * w, &len);
    (gz ? write_gz : write_bytes)(images, buf, len);
    free(buf);
    buf = idx_bytes(0x801, &m, 1, m, &len);
    for (uint32_t i = 0; i < m; i++)
        buf[8 + i] = (unsigned char)(i % 10);
    (gz ? write_gz : write_bytes)(labels, buf, len);
    free(buf);
}

/* Loading must fail as bad input, with a message naming path and saying one
 * of the given things. */
static void assert_load_fails(const char *images, const char *labels, const char *path,
                              const char *say1, const char *say2)
{
    Dataset ds;
    Err err = {""};
    ck_assert_int_eq(idx_load(&ds, images, labels, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, path), "message does not name %s: %s", path, err.msg);
    ck_assert_msg(strstr(err.msg, say1) || (say2 && strstr(err.msg, say2)),
                  "message says neither '%s' nor '%s': %s", say1, say2 ? say2 : "", err.msg);
    ck_assert_ptr_null(ds.pixels);
    ck_assert_ptr_null(ds.labels);
}

static uint32_t image_crc(const Dataset *ds, int i)
{
    size_t size = (size_t)ds->c * ds->h * ds->w;
    return (uint32_t)crc32(0, ds->pixels + (size_t)i * size, (unsigned)size);
}

static unsigned long long pixel_sum(const Dataset *ds)
{
    unsigned long long sum = 0;
    for (size_t i = 0; i < (size_t)ds->n * ds->c * ds->h * ds->w; i++)
        sum += ds->pixels[i];
    return sum;
}

typedef struct {
    const char *prefix;
    int n;
    int counts[10];
    int first_label, last_label;
    uint32_t first_crc, last_crc;
    unsigned long long pixel_sum;
} SampleFacts;

static const SampleFacts sample_facts[2] = {
    {"train", 8000, {801, 902, 793, 826, 784, 690, 811, 856, 755, 782},
     9, 5, 0xd1f539e5u, 0x5c56e944u, 209932480ull},
    {"t10k", 2000, {200, 225, 198, 206, 196, 173, 203, 214, 189, 196},
     4, 8, 0x37214a1eu, 0x83376d0bu, 52214120ull},
};

START_TEST(sample_split)
{
    const SampleFacts *f = &sample_facts[_i];
    char images[256], labels[256];
    snprintf(images, sizeof images, SAMPLE "%s-images-idx3-ubyte.gz", f->prefix);
    snprintf(labels, sizeof labels, SAMPLE "%s-labels-idx1-ubyte.gz", f->prefix);
    Dataset ds;
    Err err = {""};
    ck_assert_msg(idx_load(&ds, images, labels, &err) == CLRUN_OK, "%s", err.msg);
    ck_assert_int_eq(ds.n, f->n);
    ck_assert_int_eq(ds.c, 1);
    ck_assert_int_eq(ds.h, 28);
    ck_assert_int_eq(ds.w, 28);
    ck_assert_int_eq(ds.classes, 10);
    int counts[10] = {0};
    for (int i = 0; i < ds.n; i++)
        counts[ds.labels[i]]++;
    for (int d = 0; d < 10; d++)
        ck_assert_int_eq(counts[d], f->counts[d]);
    ck_assert_int_eq(ds.labels[0], f->first_label);
    ck_assert_int_eq(ds.labels[ds.n - 1], f->last_label);
    ck_assert_uint_eq(image_crc(&ds, 0), f->first_crc);
    ck_assert_uint_eq(image_crc(&ds, ds.n - 1), f->last_crc);
    ck_assert_uint_eq(pixel_sum(&ds), f->pixel_sum);
    dataset_free(&ds);
    ck_assert_ptr_null(ds.pixels);
}
END_TEST

/* data.limit's truncation keeps the first examples as they were. */
START_TEST(truncate_keeps_the_first)
{
    const SampleFacts *f = &sample_facts[1];
    char images[256], labels[256];
    snprintf(images, sizeof images, SAMPLE "%s-images-idx3-ubyte.gz", f->prefix);
    snprintf(labels, sizeof labels, SAMPLE "%s-labels-idx1-ubyte.gz", f->prefix);
    Dataset ds;
    Err err = {""};
    ck_assert_msg(idx_load(&ds, images, labels, &err) == CLRUN_OK, "%s", err.msg);
    dataset_truncate(&ds, ds.n + 1); /* more than there are: nothing changes */
    ck_assert_int_eq(ds.n, f->n);
    dataset_truncate(&ds, 1);
    ck_assert_int_eq(ds.n, 1);
    ck_assert_int_eq(ds.labels[0], f->first_label);
    ck_assert_uint_eq(image_crc(&ds, 0), f->first_crc);
    dataset_free(&ds);
}
END_TEST

START_TEST(open_mnist)
{
    Dataset ds;
    Err err = {""};
    ck_assert_msg(dataset_open(&ds, "mnist", "test", ".", &err) == CLRUN_OK, "%s", err.msg);
    int sample = strstr(ds.source, "mnist-sample") != NULL;
    ck_assert_msg(sample || strstr(ds.source, "data/mnist"), "source: %s", ds.source);
    ck_assert_int_eq(ds.n, sample ? 2000 : 10000);
    ck_assert_int_eq(ds.classes, 10);
    dataset_free(&ds);
}
END_TEST

START_TEST(open_unknown)
{
    Dataset ds;
    Err err = {""};
    ck_assert_int_eq(dataset_open(&ds, "cifar7", "train", ".", &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "cifar7") && strstr(err.msg, "mnist") &&
                      strstr(err.msg, "fashion-mnist"),
                  "%s", err.msg);
    ck_assert_int_eq(dataset_open(&ds, "mnist", "validation", ".", &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "validation"), "%s", err.msg);
}
END_TEST

START_TEST(open_missing)
{
    Dataset ds;
    Err err = {""};
    ck_assert_int_eq(dataset_open(&ds, "mnist", "train", test_tmpdir, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, tmp_path(0, "data/mnist-sample/train-images-idx3-ubyte.gz")),
                  "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "tools/fetch-data mnist"), "%s", err.msg);
    ck_assert_ptr_null(ds.pixels);
}
END_TEST

static void make_mnist_dir(const char *dir, uint32_t n_train)
{
    static const char *const names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                         "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    char path[2][512];
    ck_assert_int_eq(mkdir(tmp_path(0, dir), 0700), 0);
    for (int split = 0; split < 2; split++) {
        uint32_t n = split ? 3 : n_train;
        for (int k = 0; k < 2; k++)
            snprintf(path[k], sizeof path[k], "%s/%s/%s", test_tmpdir, dir, names[2 * split + k]);
        write_idx_pair(path[0], path[1], n, 28, 28, n, 1);
    }
}

/* The full set wins only when all four of its files are there. */
START_TEST(open_prefers_full)
{
    Dataset ds;
    Err err = {""};
    ck_assert_int_eq(mkdir(tmp_path(0, "data"), 0700), 0);
    make_mnist_dir("data/mnist-sample", 7);
    make_mnist_dir("data/mnist", 11);
    ck_assert_msg(dataset_open(&ds, "mnist", "train", test_tmpdir, &err) == CLRUN_OK, "%s", err.msg);
    ck_assert_int_eq(ds.n, 11);
    ck_assert_msg(strstr(ds.source, tmp_path(0, "data/mnist (full MNIST)")), "%s", ds.source);
    dataset_free(&ds);

    ck_assert_int_eq(unlink(tmp_path(0, "data/mnist/t10k-labels-idx1-ubyte.gz")), 0);
    ck_assert_msg(dataset_open(&ds, "mnist", "train", test_tmpdir, &err) == CLRUN_OK, "%s", err.msg);
    ck_assert_int_eq(ds.n, 7);
    ck_assert_msg(strstr(ds.source, "mnist-sample (bundled"), "%s", ds.source);
    dataset_free(&ds);
}
END_TEST

START_TEST(plain_and_gzip)
{
    const char *images = tmp_path(0, "i"), *labels = tmp_path(1, "l");
    for (int gz = 0; gz < 2; gz++) {
        write_idx_pair(images, labels, 5, 3, 4, 5, gz);
        Dataset ds;
        Err err = {""};
        ck_assert_msg(idx_load(&ds, images, labels, &err) == CLRUN_OK, "%s", err.msg);
        ck_assert_int_eq(ds.n, 5);
        ck_assert_int_eq(ds.h, 3);
        ck_assert_int_eq(ds.w, 4);
        ck_assert_int_eq(ds.classes, 5);
        ck_assert_int_eq(ds.labels[4], 4);
        for (size_t i = 0; i < 60; i++)
            ck_assert_int_eq(ds.pixels[i], (unsigned char)(i * 2654435761u >> 13));
        ck_assert_str_eq(ds.source, images);
        dataset_free(&ds);
    }
}
END_TEST

/* Every prefix of a gzipped file, and of a plain one, must be refused. */
START_TEST(truncated)
{
    const char *good = tmp_path(0, "good"), *cut = tmp_path(1, "cut"), *labels = tmp_path(2, "l");
    for (int gz = 0; gz < 2; gz++) {
        write_idx_pair(good, labels, 3, 28, 28, 3, gz);
        size_t len;
        unsigned char *bytes = read_all(good, &len);
        ck_assert_uint_gt(len, 100);
        for (size_t keep = 0; keep < len; keep++) {
            write_bytes(cut, bytes, keep);
            assert_load_fails(cut, labels, cut, "truncated", "gzip error");
        }
        free(bytes);
        bytes = read_all(labels, &len);
        for (size_t keep = 0; keep < len; keep++) {
            write_bytes(cut, bytes, keep);
            assert_load_fails(good, cut, cut, "truncated", "gzip error");
        }
        free(bytes);
    }
}
END_TEST

/* Arrays larger than the reader's first allocation are read whole across its
 * growth steps; a header declaring far more than the file holds (a 38-byte
 * fuzzer find asked for 1 GiB up front) fails as truncation with the counts. */
START_TEST(large_arrays)
{
    const char *images = tmp_path(0, "i"), *labels = tmp_path(1, "l");
    write_idx_pair(images, labels, 3, 1000, 1000, 3, 1);
    Dataset ds;
    Err err = {""};
    ck_assert_msg(idx_load(&ds, images, labels, &err) == CLRUN_OK, "%s", err.msg);
    ck_assert_int_eq(ds.n, 3);
    for (size_t i = 0; i < 3000000; i += 999)
        ck_assert_int_eq(ds.pixels[i], (unsigned char)(i * 2654435761u >> 13));
    dataset_free(&ds);

    uint32_t dims[3] = {1024, 1024, 1024};
    size_t len;
    unsigned char *buf = idx_bytes(0x803, dims, 3, 3 << 20, &len);
    write_gz(images, buf, len);
    free(buf);
    assert_load_fails(images, labels, images,
                      "truncated: expected 1073741824 bytes of pixels, got 3145728", NULL);
}
END_TEST

/* A damaged deflate stream or trailer is caught, at the latest by the CRC. */
START_TEST(corrupt_gzip)
{
    const char *good = tmp_path(0, "good"), *bad = tmp_path(1, "bad"), *labels = tmp_path(2, "l");
    write_idx_pair(good, labels, 3, 28, 28, 3, 1);
    size_t len;
    unsigned char *bytes = read_all(good, &len);
    /* Skips the 10-byte header (its time and OS bytes are not checked) and
     * the last deflate byte (its padding bits are not either). */
    for (size_t at = 10; at < len; at++) {
        if (at == len - 9)
            continue;
        bytes[at] ^= 0xff;
        write_bytes(bad, bytes, len);
        bytes[at] ^= 0xff;
        Dataset ds;
        Err err = {""};
        ck_assert_msg(idx_load(&ds, bad, labels, &err) == CLRUN_EINPUT, "byte %zu flipped", at);
        ck_assert_msg(strstr(err.msg, bad), "%s", err.msg);
    }
    free(bytes);
}
END_TEST

START_TEST(garbage)
{
    static const char text[] = "this is not an IDX file, nor gzip\n";
    /* A gzip header, then a deflate block of the reserved type 3. */
    static const unsigned char fake_gz[] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0x07, 0xff, 0xfe,
                                            0xfd, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    const char *path = tmp_path(0, "junk"), *images = tmp_path(1, "i"), *labels = tmp_path(2, "l");
    write_idx_pair(images, labels, 2, 2, 2, 2, 0);
    write_bytes(path, text, sizeof text - 1);
    assert_load_fails(path, labels, path, "bad magic", NULL);
    write_bytes(path, fake_gz, sizeof fake_gz);
    assert_load_fails(path, labels, path, "gzip error", "truncated");
    assert_load_fails(images, tmp_path(3, "absent"), "absent", "cannot open", NULL);
}
END_TEST

START_TEST(wrong_magic)
{
    const char *images = tmp_path(0, "i"), *labels = tmp_path(1, "l");
    write_idx_pair(images, labels, 2, 2, 2, 2, 1);
    assert_load_fails(labels, images, labels, "bad magic 0x00000801", NULL);
    assert_load_fails(images, images, images, "bad magic 0x00000803", NULL);
}
END_TEST

START_TEST(count_mismatch)
{
    const char *images = tmp_path(0, "i"), *labels = tmp_path(1, "l");
    write_idx_pair(images, labels, 5, 2, 2, 4, 1);
    assert_load_fails(images, labels, labels, "4 labels", NULL);
}
END_TEST

START_TEST(bad_dimensions)
{
    static const uint32_t cases[][3] = {
        {0, 28, 28},                      /* no examples */
        {10, 0, 28},                      /* empty images */
        {0x80000000u, 1, 1},              /* not an int */
        {0x7fffffff, 0x7fffffff, 0x7fffffff}, /* overflows 64 bits */
        {40000, 256, 256},                /* 2.6 GB, over the limit */
    };
    const char *images = tmp_path(0, "i"), *labels = tmp_path(1, "l");
    write_idx_pair(images, labels, 1, 1, 1, 1, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len;
        unsigned char *buf = idx_bytes(0x803, cases[i], 3, 64, &len);
        write_bytes(images, buf, len);
        free(buf);
        assert_load_fails(images, labels, images, "dimension", "dimensions");
    }
}
END_TEST

START_TEST(trailing_data)
{
    uint32_t dims[3] = {2, 2, 2};
    size_t len;
    unsigned char *buf = idx_bytes(0x803, dims, 3, 9, &len);
    const char *images = tmp_path(0, "i"), *labels = tmp_path(1, "l");
    write_idx_pair(images, labels, 2, 2, 2, 2, 1);
    write_gz(images, buf, len);
    free(buf);
    assert_load_fails(images, labels, images, "past the end", NULL);
}
END_TEST

START_TEST(fashion_mnist)
{
    if (access(FASHION "train-images-idx3-ubyte.gz", R_OK) != 0) {
        printf("check_data: %s absent (apt-get install dataset-fashion-mnist); skipped\n", FASHION);
        return;
    }
    static const struct {
        const char *split;
        int n;
    } splits[2] = {{"train", 60000}, {"test", 10000}};
    for (int i = 0; i < 2; i++) {
        Dataset ds;
        Err err = {""};
        ck_assert_msg(dataset_open(&ds, "fashion-mnist", splits[i].split, ".", &err) == CLRUN_OK,
                      "%s", err.msg);
        ck_assert_int_eq(ds.n, splits[i].n);
        ck_assert_int_eq(ds.h, 28);
        ck_assert_int_eq(ds.w, 28);
        ck_assert_int_eq(ds.classes, 10);
        ck_assert_msg(strstr(ds.source, "/usr/share/datasets/fashion-mnist"), "%s", ds.source);
        dataset_free(&ds);
    }
}
END_TEST

Suite *data_suite(void)
{
    Suite *s = suite_create("data");
    TCase *tc = tcase_create("idx");
    tcase_add_checked_fixture(tc, test_tmpdir_make, test_tmpdir_remove);
    tcase_add_loop_test(tc, sample_split, 0, 2);
    tcase_add_test(tc, truncate_keeps_the_first);
    tcase_add_test(tc, open_mnist);
    tcase_add_test(tc, open_unknown);
    tcase_add_test(tc, open_missing);
    tcase_add_test(tc, open_prefers_full);
    tcase_add_test(tc, plain_and_gzip);
    tcase_add_test(tc, truncated);
    tcase_add_test(tc, large_arrays);
    tcase_add_test(tc, corrupt_gzip);
    tcase_add_test(tc, garbage);
    tcase_add_test(tc, wrong_magic);
    tcase_add_test(tc, count_mismatch);
    tcase_add_test(tc, bad_dimensions);
    tcase_add_test(tc, trailing_data);
    tcase_add_test(tc, fashion_mnist);
    suite_add_tcase(s, tc);
    return s;
}
