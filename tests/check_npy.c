/* check_npy.c: tests for the .npy reader and writer (runtime/io/npy.c).
 *
 * NumPy itself is the reference: files it writes (through Debian's
 * /usr/bin/python3) must read back exactly, and files npy_write_* makes must
 * load in numpy.load with the same shape and values. Those two tests print a
 * note and pass when /usr/bin/python3 cannot import numpy
 * (tools/install-deps installs python3-numpy). */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/npy.h"
#include "suites.h"
#include "testutil.h"

Suite *npy_suite(void);

#define PYTHON "/usr/bin/python3"

static char path[128];

static void make_tmpdir(void)
{
    test_tmpdir_make();
    snprintf(path, sizeof path, "%s/t.npy", test_tmpdir);
}

static int have_numpy(void)
{
    if (system(PYTHON " -c 'import numpy' >/dev/null 2>&1") == 0)
        return 1;
    printf("npy: skipped, " PYTHON " cannot import numpy\n");
    return 0;
}

/* Runs python code with the temporary directory as D; returns its first
 * output line in out. */
static void run_python(const char *code, char *out, size_t cap)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, PYTHON " -c \"import numpy; D='%s'; %s\"", test_tmpdir, code);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    out[0] = '\0';
    if (out && !fgets(out, (int)cap, p))
        out[0] = '\0';
    ck_assert_msg(pclose(p) == 0, "python failed: %s", cmd);
    out[strcspn(out, "\n")] = '\0';
}

static void assert_shape(const NpyArray *a, int ndim, const long *shape)
{
    ck_assert_int_eq(a->ndim, ndim);
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        ck_assert_int_eq(a->shape[d], shape[d]);
        count *= (size_t)shape[d];
    }
    ck_assert_uint_eq(a->count, count);
}

static void read_ok(const char *file, NpyArray *a)
{
    Err err = {""};
    ck_assert_msg(npy_read(file, a, &err) == CLRUN_OK, "%s", err.msg);
}

START_TEST(round_trip)
{
    static const long s23[] = {2, 3}, s5[] = {5}, s05[] = {0, 5};
    float f[6] = {1.0f, -2.5f, INFINITY, -0.0f, 1e-45f, 0.1f};
    int32_t l[5] = {0, -1, 7, INT32_MAX, INT32_MIN};
    Err err = {""};
    NpyArray a;

    ck_assert_ok(npy_write_f32(path, f, 2, s23, &err), err);
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_int_ne(access(tmp, F_OK), 0);
    FILE *fp = fopen(path, "rb");
    unsigned char head[10];
    ck_assert_uint_eq(fread(head, 1, 10, fp), 10);
    size_t data_off = 10 + (size_t)(head[8] | head[9] << 8);
    fclose(fp);
    ck_assert_uint_eq(data_off % 64, 0);
    read_ok(path, &a);
    assert_shape(&a, 2, s23);
    for (int i = 0; i < 6; i++)
        ck_assert_msg(memcmp(&a.data[i], &(double){f[i]}, sizeof(double)) == 0, "element %d", i);
    npy_free(&a);
    ck_assert_ptr_null(a.data);

    ck_assert_ok(npy_write_i32(path, l, 1, s5, &err), err);
    read_ok(path, &a);
    assert_shape(&a, 1, s5);
    for (int i = 0; i < 5; i++)
        ck_assert_double_eq(a.data[i], l[i]);
    npy_free(&a);

    ck_assert_ok(npy_write_f32(path, f, 0, NULL, &err), err);
    read_ok(path, &a);
    assert_shape(&a, 0, NULL);
    ck_assert_double_eq(a.data[0], 1);
    npy_free(&a);

    ck_assert_ok(npy_write_f32(path, NULL, 2, s05, &err), err);
    read_ok(path, &a);
    assert_shape(&a, 2, s05);
    npy_free(&a);
}
END_TEST

START_TEST(write_errors)
{
    static const long bad[] = {2, -1};
    float f[2] = {0};
    Err err = {""};
    ck_assert_int_eq(npy_write_f32(path, f, 2, bad, &err), CLRUN_EINPUT);
    ck_assert_int_eq(npy_write_f32(path, f, 9, bad, &err), CLRUN_EINPUT);
    ck_assert_int_eq(npy_write_f32("/nonexistent-dir/x.npy", f, 1, bad, &err), CLRUN_ERUNTIME);
    ck_assert_msg(strstr(err.msg, "/nonexistent-dir/x.npy"), "%s", err.msg);
    ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

START_TEST(numpy_writes)
{
    if (!have_numpy())
        return;
    char out[256];
    run_python("numpy.save(D+'/f8.npy', (numpy.arange(12, dtype='<f8').reshape(3, 4) - 5.5) / 4);"
               "numpy.save(D+'/f4.npy', numpy.array([0.1, -0.2, 3e38], dtype='<f4'));"
               "numpy.save(D+'/i8.npy', numpy.array([[0, -1, 7], [2**40, -2**33, 5]], '<i8'));"
               "numpy.save(D+'/i4.npy', numpy.array([-5, 2**31 - 1], '<i4'));"
               "numpy.save(D+'/u1.npy', numpy.arange(250, 256, dtype=numpy.uint8));"
               "numpy.save(D+'/scalar.npy', numpy.float32(2.5));"
               "numpy.save(D+'/fortran.npy', numpy.asfortranarray(numpy.ones((2, 3))));"
               "numpy.save(D+'/big.npy', numpy.arange(3, dtype='>f4'));"
               "numpy.save(D+'/f2.npy', numpy.arange(3, dtype='<f2'))",
               out, sizeof out);
    char file[160];
    NpyArray a;
    static const long s34[] = {3, 4}, s3[] = {3}, s23[] = {2, 3}, s2[] = {2}, s6[] = {6};

    snprintf(file, sizeof file, "%s/f8.npy", test_tmpdir);
    read_ok(file, &a);
    assert_shape(&a, 2, s34);
    for (int i = 0; i < 12; i++)
        ck_assert_double_eq(a.data[i], (i - 5.5) / 4);
    npy_free(&a);

    snprintf(file, sizeof file, "%s/f4.npy", test_tmpdir);
    read_ok(file, &a);
    assert_shape(&a, 1, s3);
    ck_assert_double_eq(a.data[0], (double)0.1f);
    ck_assert_double_eq(a.data[1], (double)-0.2f);
    ck_assert_double_eq(a.data[2], (double)3e38f);
    npy_free(&a);

    snprintf(file, sizeof file, "%s/i8.npy", test_tmpdir);
    read_ok(file, &a);
    assert_shape(&a, 2, s23);
    static const double i8[] = {0, -1, 7, 1099511627776.0, -8589934592.0, 5};
    for (int i = 0; i < 6; i++)
        ck_assert_double_eq(a.data[i], i8[i]);
    npy_free(&a);

    snprintf(file, sizeof file, "%s/i4.npy", test_tmpdir);
    read_ok(file, &a);
    assert_shape(&a, 1, s2);
    ck_assert_double_eq(a.data[0], -5);
    ck_assert_double_eq(a.data[1], 2147483647.0);
    npy_free(&a);

    snprintf(file, sizeof file, "%s/u1.npy", test_tmpdir);
    read_ok(file, &a);
    assert_shape(&a, 1, s6);
    for (int i = 0; i < 6; i++)
        ck_assert_double_eq(a.data[i], 250 + i);
    npy_free(&a);

    snprintf(file, sizeof file, "%s/scalar.npy", test_tmpdir);
    read_ok(file, &a);
    assert_shape(&a, 0, NULL);
    ck_assert_double_eq(a.data[0], 2.5);
    npy_free(&a);

    static const char *const rejected[][2] = {
        {"fortran.npy", "Fortran"}, {"big.npy", ">f4"}, {"f2.npy", "<f2"}};
    for (int i = 0; i < 3; i++) {
        Err err = {""};
        snprintf(file, sizeof file, "%s/%s", test_tmpdir, rejected[i][0]);
        ck_assert_int_eq(npy_read(file, &a, &err), CLRUN_EINPUT);
        ck_assert_msg(strstr(err.msg, file) && strstr(err.msg, rejected[i][1]), "%s", err.msg);
        ck_assert_ptr_null(a.data);
    }
}
END_TEST

/* numpy.load of our files: dtype, shape, C order, and a checksum weighting
 * each value by its flat index (exact in double for these values). */
START_TEST(numpy_reads)
{
    if (!have_numpy())
        return;
    static const long s[] = {2, 3, 4};
    float f[24];
    int32_t l[24];
    double want_f = 0, want_l = 0;
    for (int i = 0; i < 24; i++) {
        f[i] = (float)i / 4 - 3;
        l[i] = (i * 7919) % 101 - 50;
        want_f += f[i] * (i + 1);
        want_l += l[i] * (i + 1);
    }
    Err err = {""};
    char ff[160], fl[160], out[256], want[256];
    snprintf(ff, sizeof ff, "%s/f.npy", test_tmpdir);
    snprintf(fl, sizeof fl, "%s/l.npy", test_tmpdir);
    ck_assert_ok(npy_write_f32(ff, f, 3, s, &err), err);
    ck_assert_ok(npy_write_i32(fl, l, 3, s, &err), err);
    run_python("w = numpy.arange(1, 25).reshape(2, 3, 4);"
               "a = numpy.load(D+'/f.npy'); b = numpy.load(D+'/l.npy');"
               "print(a.dtype.str, b.dtype.str, a.shape, b.shape, a.flags.c_contiguous,"
               " repr(float((a.astype('f8') * w).sum())), int((b.astype('i8') * w).sum()))",
               out, sizeof out);
    snprintf(want, sizeof want, "<f4 <i4 (2, 3, 4) (2, 3, 4) True %.1f %.0f", want_f, want_l);
    ck_assert_str_eq(out, want);
}
END_TEST

/* Labels as int64, what PyTorch's losses take: numpy reads them back exactly. */
START_TEST(numpy_reads_labels_as_int64)
{
    if (!have_numpy())
        return;
    int32_t l[5] = {0, 9, -1, 2147483647, 3};
    Err err = {""};
    char fl[160], out[256];
    snprintf(fl, sizeof fl, "%s/labels.npy", test_tmpdir);
    ck_assert_ok(npy_write_labels(fl, l, 5, &err), err);
    run_python("b = numpy.load(D+'/labels.npy'); print(b.dtype.str, b.shape, b.tolist())", out,
               sizeof out);
    ck_assert_str_eq(out, "<i8 (5,) [0, 9, -1, 2147483647, 3]");
}
END_TEST

/* A .npy file from a magic and version (8 bytes), a dict given as text
 * (a newline is added) and data_len zero bytes. */
static void write_raw(const char *magic, const char *dict, size_t data_len)
{
    char header[512];
    snprintf(header, sizeof header, "%s\n", dict);
    size_t hlen = strlen(header);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fwrite(magic, 1, 8, fp);
    fputc((int)(hlen & 0xff), fp);
    fputc((int)(hlen >> 8), fp);
    fwrite(header, 1, hlen, fp);
    for (size_t i = 0; i < data_len; i++)
        fputc(0, fp);
    ck_assert_int_eq(fclose(fp), 0);
}

#define V1 "\x93NUMPY\x01\x00"
#define GOOD "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }"

static const struct {
    const char *magic, *dict;
    size_t data_len;
    const char *want;
} bad_files[] = {
    {"\x93NUMPZ\x01\x00", GOOD, 16, "magic"},
    {"\x93NUMPY\x04\x00", GOOD, 16, "version"},
    {V1, GOOD, 12, "data bytes"},
    {V1, GOOD, 20, "data bytes"},
    {V1, "{'descr': '<f4', 'fortran_order': True, 'shape': (4,), }", 16, "Fortran"},
    {V1, "{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", 16, ">f4"},
    {V1, "{'descr': '<c8', 'fortran_order': False, 'shape': (4,), }", 32, "<c8"},
    {V1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4), }", 16, "comma"},
    {V1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-4,), }", 16, "dimension"},
    {V1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,4), }", 16, "dimensions"},
    {V1, "{'descr': '<f4', 'shape': (4,), }", 16, "needs"},
    {V1, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 16,
     "twice"},
    {V1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4,), 'x': 1}", 16, "unknown"},
    {V1, GOOD " junk", 16, "newline"},
    {V1, "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", 16,
     "too large"},
    {V1, "{'descr': '<f4', 'fortran_order': False, 'shape': (4000000000, 4000000000, "
         "4000000000), }",
     16, "too many"},
};

START_TEST(bad_file)
{
    write_raw(bad_files[_i].magic, bad_files[_i].dict, bad_files[_i].data_len);
    NpyArray a;
    Err err = {""};
    ck_assert_int_eq(npy_read(path, &a, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, bad_files[_i].want), "case %d: %s",
                  _i, err.msg);
    ck_assert_ptr_null(a.data);
    ck_assert_int_eq(a.ndim, 0);
}
END_TEST

START_TEST(bad_length)
{
    NpyArray a;
    Err err = {""};
    write_raw(V1, GOOD, 16);
    read_ok(path, &a); /* the control: this one is fine */
    npy_free(&a);

    FILE *fp = fopen(path, "r+b");
    fseek(fp, 8, SEEK_SET);
    fputc(0xff, fp);
    fputc(0xff, fp); /* header longer than the file */
    fclose(fp);
    ck_assert_int_eq(npy_read(path, &a, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "truncated"), "%s", err.msg);

    fp = fopen(path, "wb");
    fwrite("\x93NUMPY\x02\x00\xff\xff\xff\x7f{}", 1, 14, fp); /* version 2.0, 2 GiB header */
    fclose(fp);
    ck_assert_int_eq(npy_read(path, &a, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "absurd"), "%s", err.msg);

    fp = fopen(path, "wb");
    fputs("\x93NU", fp);
    fclose(fp);
    ck_assert_int_eq(npy_read(path, &a, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "magic"), "%s", err.msg);
    ck_assert_int_eq(npy_read(test_tmpdir, &a, &err), CLRUN_EINPUT);
    ck_assert_int_eq(npy_read("/nonexistent.npy", &a, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "/nonexistent.npy"), "%s", err.msg);
}
END_TEST

Suite *npy_suite(void)
{
    Suite *s = suite_create("npy");
    TCase *tc = tcase_create("npy");
    tcase_add_checked_fixture(tc, make_tmpdir, test_tmpdir_remove);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, write_errors);
    tcase_add_test(tc, numpy_writes);
    tcase_add_test(tc, numpy_reads_labels_as_int64);
    tcase_add_test(tc, numpy_reads);
    tcase_add_loop_test(tc, bad_file, 0, (int)(sizeof bad_files / sizeof bad_files[0]));
    tcase_add_test(tc, bad_length);
    suite_add_tcase(s, tc);
    return s;
}
