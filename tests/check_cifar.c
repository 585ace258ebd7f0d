/* check_cifar.c: tests for the CIFAR-10 binary reader (runtime/data/cifar.c).
 *
 * Batches are written here in the published format (a label byte, then the
 * R, G and B planes of a 32x32 image) with a few records each, and every
 * pixel read back is compared with the formula that wrote it. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/dataset.h"
#include "suites.h"
#include "testutil.h"

#define RECORD 3073
#define PLANE 1024

/* test_tmpdir/name, in a buffer that lasts until the next call with the same slot. */
static const char *tmp_path(int slot, const char *name)
{
    static char paths[4][512];
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", test_tmpdir, name);
    return paths[slot];
}

/* The byte of channel c at (y, x) of record r in batch b. */
static unsigned char pixel(int b, int r, int c, int y, int x)
{
    return (unsigned char)(b * 101 + r * 37 + c * 71 + y * 5 + x * 3);
}

static int label_of(int b, int r)
{
    return (b * 3 + r) % 10;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
    ck_assert_int_eq(fclose(fp), 0);
}

/* Writes batch b with n records, labelled by label_of. */
static void write_batch(const char *path, int b, int n)
{
    unsigned char *buf = malloc((size_t)n * RECORD);
    for (int r = 0; r < n; r++) {
        unsigned char *rec = buf + (size_t)r * RECORD;
        rec[0] = (unsigned char)label_of(b, r);
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < PLANE; i++)
                rec[1 + c * PLANE + i] = pixel(b, r, c, i / 32, i % 32);
    }
    write_bytes(path, buf, (size_t)n * RECORD);
    free(buf);
}

/* Checks that example i of ds is record r of batch b. */
static void assert_record(const Dataset *ds, int i, int b, int r)
{
    ck_assert_int_eq(ds->labels[i], label_of(b, r));
    const unsigned char *p = ds->pixels + (size_t)i * 3 * PLANE;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < 32; y++)
            for (int x = 0; x < 32; x++)
                ck_assert_msg(p[c * PLANE + y * 32 + x] == pixel(b, r, c, y, x),
                              "example %d channel %d (%d, %d)", i, c, y, x);
}

static const char *const batch_names[6] = {
    "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
    "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin",
};

/* Makes root/<dir> with all six batches: 7 records each, the test batch 3. */
static void make_cifar_dir(const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/data", test_tmpdir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/data/cifar10", test_tmpdir);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/%s", test_tmpdir, dir);
    mkdir(path, 0700);
    for (int b = 0; b < 6; b++) {
        snprintf(path, sizeof path, "%s/%s/%s", test_tmpdir, dir, batch_names[b]);
        write_batch(path, b, b == 5 ? 3 : 7);
    }
}

static void assert_fails(int rc, const Err *err, const Dataset *ds, const char *say1,
                         const char *say2)
{
    ck_assert_int_eq(rc, CLRUN_EINPUT);
    ck_assert_msg(strstr(err->msg, say1), "message lacks '%s': %s", say1, err->msg);
    ck_assert_msg(!say2 || strstr(err->msg, say2), "message lacks '%s': %s", say2, err->msg);
    ck_assert_ptr_null(ds->pixels);
    ck_assert_ptr_null(ds->labels);
    ck_assert_ptr_null(ds->class_names);
}

START_TEST(load_files)
{
    const char *a = tmp_path(0, "a.bin"), *b = tmp_path(1, "b.bin");
    write_batch(a, 0, 7);
    write_batch(b, 1, 2);
    const char *files[2] = {a, b};
    Dataset ds;
    Err err = {""};
    ck_assert_ok(cifar_load_files(&ds, files, 2, &err), err);
    ck_assert_int_eq(ds.n, 9);
    ck_assert_int_eq(ds.c, 3);
    ck_assert_int_eq(ds.h, 32);
    ck_assert_int_eq(ds.w, 32);
    ck_assert_int_eq(ds.classes, 10);
    ck_assert_ptr_null(ds.values);
    for (int r = 0; r < 7; r++)
        assert_record(&ds, r, 0, r);
    for (int r = 0; r < 2; r++)
        assert_record(&ds, 7 + r, 1, r);
    ck_assert_str_eq(ds.class_names[0], "airplane");
    ck_assert_str_eq(ds.class_names[9], "truck");
    dataset_free(&ds);
    ck_assert_ptr_null(ds.class_names);
}
END_TEST

/* Both splits, in batch order, from the archive's own folder name. */
START_TEST(open_splits)
{
    make_cifar_dir("data/cifar10/cifar-10-batches-bin");
    Dataset ds;
    Err err = {""};
    ck_assert_ok(cifar_open(&ds, "train", test_tmpdir, &err), err);
    ck_assert_int_eq(ds.n, 35);
    for (int b = 0; b < 5; b++)
        for (int r = 0; r < 7; r++)
            assert_record(&ds, b * 7 + r, b, r);
    ck_assert_msg(strstr(ds.source, tmp_path(0, "data/cifar10/cifar-10-batches-bin")), "%s",
                  ds.source);
    dataset_free(&ds);
    ck_assert_ok(dataset_open(&ds, "cifar10", "test", test_tmpdir, &err), err);
    ck_assert_int_eq(ds.n, 3);
    for (int r = 0; r < 3; r++)
        assert_record(&ds, r, 5, r);
    ck_assert_str_eq(ds.class_names[3], "cat");
    dataset_free(&ds);
    ck_assert_int_eq(cifar_open(&ds, "valid", test_tmpdir, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "valid"), "%s", err.msg);
}
END_TEST

/* Batches straight in data/cifar10/ are found too. */
START_TEST(open_flat)
{
    make_cifar_dir("data/cifar10");
    Dataset ds;
    Err err = {""};
    ck_assert_ok(cifar_open(&ds, "test", test_tmpdir, &err), err);
    ck_assert_int_eq(ds.n, 3);
    ck_assert_msg(strstr(ds.source, tmp_path(0, "data/cifar10 (CIFAR-10)")), "%s", ds.source);
    dataset_free(&ds);
}
END_TEST

START_TEST(meta_names)
{
    make_cifar_dir("data/cifar10/cifar-10-batches-bin");
    const char *meta = tmp_path(0, "data/cifar10/cifar-10-batches-bin/batches.meta.txt");
    FILE *fp = fopen(meta, "w");
    ck_assert_ptr_nonnull(fp);
    fputs("plane\ncar\n\n  bird \r\ncat\ndeer\ndog\nfrog\nhorse\nship\ntruck\n\n", fp);
    fclose(fp);
    Dataset ds;
    Err err = {""};
    ck_assert_ok(cifar_open(&ds, "test", test_tmpdir, &err), err);
    ck_assert_str_eq(ds.class_names[0], "plane");
    ck_assert_str_eq(ds.class_names[2], "bird");
    ck_assert_str_eq(ds.class_names[9], "truck");
    dataset_free(&ds);

    fp = fopen(meta, "w");
    fputs("plane\ncar\n", fp);
    fclose(fp);
    assert_fails(cifar_open(&ds, "test", test_tmpdir, &err), &err, &ds, meta, "names 2 classes");
}
END_TEST

START_TEST(missing)
{
    Dataset ds;
    Err err = {""};
    assert_fails(dataset_open(&ds, "cifar10", "train", test_tmpdir, &err), &err, &ds,
                 "tools/fetch-data cifar10", "network");
    const char *first = tmp_path(0, "data/cifar10/cifar-10-batches-bin/data_batch_1.bin");
    ck_assert_msg(strstr(err.msg, first), "%s", err.msg);
    /* One batch short: neither place is complete, so nothing is read. */
    make_cifar_dir("data/cifar10/cifar-10-batches-bin");
    ck_assert_int_eq(remove(tmp_path(1, "data/cifar10/cifar-10-batches-bin/data_batch_4.bin")), 0);
    assert_fails(cifar_open(&ds, "test", test_tmpdir, &err), &err, &ds, "data_batch_4.bin",
                 "tools/fetch-data cifar10");
}
END_TEST

START_TEST(bad_sizes)
{
    const char *path = tmp_path(0, "odd.bin");
    const char *files[1] = {path};
    unsigned char *buf = calloc(3 * RECORD, 1);
    static const size_t sizes[] = {0, 1, RECORD - 1, RECORD + 1, 2 * RECORD + 5};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        char size[32];
        snprintf(size, sizeof size, "size %zu bytes", sizes[i]);
        write_bytes(path, buf, sizes[i]);
        Dataset ds;
        Err err = {""};
        assert_fails(cifar_load_files(&ds, files, 1, &err), &err, &ds, path, size);
    }
    free(buf);
    Dataset ds;
    Err err = {""};
    files[0] = tmp_path(1, "absent.bin");
    assert_fails(cifar_load_files(&ds, files, 1, &err), &err, &ds, "absent.bin", "cannot open");
}
END_TEST

/* A label past 9 in any record, of any batch, fails the whole load. */
START_TEST(bad_label)
{
    const char *good = tmp_path(0, "good.bin"), *bad = tmp_path(1, "bad.bin");
    write_batch(good, 0, 7);
    write_batch(bad, 1, 5);
    FILE *fp = fopen(bad, "r+b");
    fseek(fp, 3L * RECORD, SEEK_SET);
    fputc(10, fp);
    fclose(fp);
    const char *files[2] = {good, bad};
    Dataset ds;
    Err err = {""};
    assert_fails(cifar_load_files(&ds, files, 2, &err), &err, &ds, bad, "label 10");
    ck_assert_msg(strstr(err.msg, "record 3"), "%s", err.msg);
}
END_TEST

Suite *cifar_suite(void)
{
    Suite *s = suite_create("cifar");
    TCase *tc = tcase_create("cifar");
    tcase_add_checked_fixture(tc, test_tmpdir_make, test_tmpdir_remove);
    tcase_add_test(tc, load_files);
    tcase_add_test(tc, open_splits);
    tcase_add_test(tc, open_flat);
    tcase_add_test(tc, meta_names);
    tcase_add_test(tc, missing);
    tcase_add_test(tc, bad_sizes);
    tcase_add_test(tc, bad_label);
    suite_add_tcase(s, tc);
    return s;
}
