/* check_safetensors.c: tests for the safetensors reader and writer (runtime/io).
 *
 * tests/fixtures/st_python.safetensors was written by hand with Python's
 * struct and json (no safetensors library), so reading it checks the reader
 * against the format as others write it, not against st_write. It holds, in
 * data order: labels I64 [5] = {0, -1, 7, 2^40, -2^33}, conv1.bias F32 [2] =
 * {0.1, -0.2}, step I64 [] = 1234567, conv1.weight F32 [2,1,2,2] = i/4 - 1,
 * and "caf\u00e9" F32 [1] = 2.5, with its JSON keys sorted by name and a
 * __metadata__ entry. */
#include <check.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/safetensors.h"
#include "suites.h"
#include "testutil.h"

Suite *safetensors_suite(void);

#define FIXTURE "tests/fixtures/st_python.safetensors"

static char path[128];

static void make_tmpdir(void)
{
    test_tmpdir_make();
    snprintf(path, sizeof path, "%s/t.safetensors", test_tmpdir);
}

/* A file from a header given as text and data bytes, for malformed cases. */
static void write_raw(const char *header, uint64_t header_len, const void *data, size_t data_len)
{
    unsigned char len[8];
    for (int i = 0; i < 8; i++)
        len[i] = (unsigned char)(header_len >> 8 * i);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    fwrite(len, 1, sizeof len, fp);
    fwrite(header, 1, strlen(header), fp);
    if (data_len)
        fwrite(data, 1, data_len, fp);
    ck_assert_int_eq(fclose(fp), 0);
}

static StTensor tensor(const char *name, int ndim, const long *shape, float *data)
{
    StTensor t = {.ndim = ndim, .count = 1, .data = data};
    snprintf(t.name, sizeof t.name, "%s", name);
    for (int i = 0; i < ndim; i++) {
        t.shape[i] = shape[i];
        t.count *= (size_t)shape[i];
    }
    return t;
}

static void assert_same(const StTensor *got, const StTensor *want)
{
    ck_assert_str_eq(got->name, want->name);
    ck_assert_int_eq(got->ndim, want->ndim);
    for (int d = 0; d < want->ndim; d++)
        ck_assert_int_eq(got->shape[d], want->shape[d]);
    ck_assert_uint_eq(got->count, want->count);
    if (want->count)
        ck_assert_msg(memcmp(got->data, want->data, want->count * sizeof(float)) == 0,
                      "tensor '%s' data differs", want->name);
}

START_TEST(round_trip)
{
    static const long s_vec[] = {6}, s_cube[] = {2, 3, 4}, s_empty[] = {0, 5};
    float scalar = -0.0f, empty = 0;
    float vec[6] = {1.0f, -2.5f, INFINITY, -INFINITY, NAN, 1e-45f};
    float cube[24];
    for (int i = 0; i < 24; i++)
        cube[i] = (float)i / 7.0f - 1.5f;
    StTensor in[] = {
        tensor("scalar", 0, NULL, &scalar),
        tensor("w\"eird\\name\n\xc3\xa9", 1, s_vec, vec),
        tensor("conv.weight", 3, s_cube, cube),
        tensor("empty", 2, s_empty, &empty),
    };
    char long_value[300];
    memset(long_value, 'x', sizeof long_value - 1);
    long_value[sizeof long_value - 1] = '\0';
    const char *meta[] = {"format", "pt", "step", "42", "quote", "a\"b\\c\n", "long", long_value};
    int n = sizeof in / sizeof in[0];
    Err err = {""};
    ck_assert_msg(st_write(path, in, n, meta, 4, &err) == CLRUN_OK, "%s", err.msg);

    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    ck_assert_int_ne(access(tmp, F_OK), 0);
    FILE *fp = fopen(path, "rb");
    unsigned char len[8];
    ck_assert_uint_eq(fread(len, 1, 8, fp), 8);
    fclose(fp);
    ck_assert_uint_eq(len[0] % 8, 0);

    StFile f;
    ck_assert_msg(st_read(path, &f, &err) == CLRUN_OK, "%s", err.msg);
    ck_assert_int_eq(f.n, n);
    for (int i = 0; i < n; i++)
        assert_same(&f.t[i], &in[i]);
    ck_assert_ptr_eq(st_find(&f, "conv.weight"), &f.t[2]);
    ck_assert_ptr_null(st_find(&f, "conv"));
    /* metadata comes back unescaped; a value too long to keep is checked, not kept */
    ck_assert_str_eq(st_meta(&f, "format"), "pt");
    ck_assert_str_eq(st_meta(&f, "step"), "42");
    ck_assert_str_eq(st_meta(&f, "quote"), "a\"b\\c\n");
    ck_assert_ptr_null(st_meta(&f, "long"));
    ck_assert_ptr_null(st_meta(&f, "pt"));
    st_free(&f);
    ck_assert_int_eq(f.n, 0);
}
END_TEST

/* A second write replaces the first whole; no tensors at all is a valid file. */
START_TEST(overwrite_and_empty)
{
    static const long shape[] = {2};
    float v[2] = {1, 2};
    StTensor t = tensor("v", 1, shape, v);
    Err err = {""};
    StFile f;
    ck_assert_int_eq(st_write(path, &t, 1, NULL, 0, &err), CLRUN_OK);
    ck_assert_msg(st_write(path, NULL, 0, NULL, 0, &err) == CLRUN_OK, "%s", err.msg);
    ck_assert_msg(st_read(path, &f, &err) == CLRUN_OK, "%s", err.msg);
    ck_assert_int_eq(f.n, 0);
    st_free(&f);
}
END_TEST

START_TEST(write_errors)
{
    static const long shape[] = {2};
    float v[2] = {1, 2};
    StTensor t[2] = {tensor("a", 1, shape, v), tensor("a", 1, shape, v)};
    Err err = {""};
    ck_assert_int_eq(st_write(path, t, 2, NULL, 0, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "twice"), "%s", err.msg);
    t[1].count = 3;
    snprintf(t[1].name, sizeof t[1].name, "b");
    ck_assert_int_eq(st_write(path, t, 2, NULL, 0, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "shape"), "%s", err.msg);
    ck_assert_int_eq(st_write("/nonexistent-dir/x.safetensors", t, 1, NULL, 0, &err),
                     CLRUN_ERUNTIME);
    ck_assert_msg(strstr(err.msg, "/nonexistent-dir/x.safetensors"), "%s", err.msg);
    ck_assert_int_ne(access(path, F_OK), 0);
}
END_TEST

START_TEST(python_fixture)
{
    StFile f;
    Err err = {""};
    ck_assert_msg(st_read(FIXTURE, &f, &err) == CLRUN_OK, "%s", err.msg);
    ck_assert_int_eq(f.n, 5);
    static const char *const order[] = {"labels", "conv1.bias", "step", "conv1.weight",
                                        "caf\xc3\xa9"};
    for (int i = 0; i < 5; i++)
        ck_assert_str_eq(f.t[i].name, order[i]);

    const StTensor *t = st_find(&f, "labels");
    static const float labels[] = {0, -1, 7, 1099511627776.0f, -8589934592.0f};
    ck_assert_int_eq(t->ndim, 1);
    ck_assert_int_eq(t->shape[0], 5);
    for (int i = 0; i < 5; i++)
        ck_assert_float_eq(t->data[i], labels[i]);

    t = st_find(&f, "conv1.bias");
    ck_assert_float_eq(t->data[0], 0.1f);
    ck_assert_float_eq(t->data[1], -0.2f);

    t = st_find(&f, "step");
    ck_assert_int_eq(t->ndim, 0);
    ck_assert_uint_eq(t->count, 1);
    ck_assert_float_eq(t->data[0], 1234567.0f);

    t = st_find(&f, "conv1.weight");
    static const long shape[] = {2, 1, 2, 2};
    ck_assert_int_eq(t->ndim, 4);
    for (int d = 0; d < 4; d++)
        ck_assert_int_eq(t->shape[d], shape[d]);
    for (int i = 0; i < 8; i++)
        ck_assert_float_eq(t->data[i], i * 0.25f - 1);

    ck_assert_float_eq(st_find(&f, "caf\xc3\xa9")->data[0], 2.5f);
    st_free(&f);
}
END_TEST

/* Each dtype's bytes for 1 and -2 (or true and false), and what they read as. */
START_TEST(dtypes)
{
    static const unsigned char data[] = {
        0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0xc0, /* F64 */
        0x00, 0x3c, 0x00, 0xc0, 0x01, 0x00,                      /* F16, with a subnormal */
        0x80, 0x3f, 0x00, 0xc0,                                  /* BF16 */
        1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff,                      /* I32 */
        1, 0, 0xfe, 0xff,                                        /* I16 */
        1, 0xfe,                                                 /* I8 */
        1, 254,                                                  /* U8 */
        1, 0,                                                    /* BOOL */
    };
    static const char header[] =
        "{\"f64\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[0,16]},"
        "\"f16\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[16,22]},"
        "\"bf16\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[22,26]},"
        "\"i32\":{\"dtype\":\"I32\",\"shape\":[2],\"data_offsets\":[26,34]},"
        "\"i16\":{\"dtype\":\"I16\",\"shape\":[2],\"data_offsets\":[34,38]},"
        "\"i8\":{\"dtype\":\"I8\",\"shape\":[2],\"data_offsets\":[38,40]},"
        "\"u8\":{\"dtype\":\"U8\",\"shape\":[2],\"data_offsets\":[40,42]},"
        "\"bool\":{\"dtype\":\"BOOL\",\"shape\":[2],\"data_offsets\":[42,44]}}";
    static const struct {
        const char *name;
        float second;
    } want[] = {{"f64", -2}, {"f16", -2}, {"bf16", -2}, {"i32", -2},
                {"i16", -2}, {"i8", -2},  {"u8", 254},  {"bool", 0}};
    write_raw(header, strlen(header), data, sizeof data);
    StFile f;
    Err err = {""};
    ck_assert_msg(st_read(path, &f, &err) == CLRUN_OK, "%s", err.msg);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const StTensor *t = st_find(&f, want[i].name);
        ck_assert_ptr_nonnull(t);
        ck_assert_float_eq(t->data[0], 1.0f);
        ck_assert_float_eq(t->data[1], want[i].second);
    }
    ck_assert_float_eq(st_find(&f, "f16")->data[2], ldexpf(1, -24));
    st_free(&f);
}
END_TEST

#define T4(name, dtype, shape, offsets) \
    "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":" offsets "}"

static const struct {
    const char *header;
    size_t data_len;
    const char *says;
} bad_headers[] = {
    {"{" T4("a", "F32", "[1]", "[0,4]"), 4, "expected"},
    {"{\"a\" " T4("", "F32", "[1]", "[0,4]") "}", 4, "expected ':'"},
    {"{" T4("a", "F32", "[1]", "[0,4]") ",}", 4, "expected '\"'"},
    {"{'a':{}}", 0, "expected '\"'"},
    {"{" T4("a", "F32", "[-1]", "[0,4]") "}", 4, "non-negative integer"},
    {"{" T4("a", "F32", "[1]", "[0.0,4]") "}", 4, "integer"},
    {"{" T4("a", "F32", "[01]", "[0,4]") "}", 4, "leading zero"},
    {"{" T4("a", "F32", "[1]", "[0,4,8]") "}", 4, "array too long"},
    {"{" T4("a", "F32", "[1]", "[0]") "}", 4, "[begin, end]"},
    {"{" T4("a", "F32", "[1]", "[0,99999999999999999999]") "}", 4, "too large"},
    {"{" T4("a\\q", "F32", "[1]", "[0,4]") "}", 4, "bad escape"},
    {"{" T4("a\\u0000", "F32", "[1]", "[0,4]") "}", 4, "NUL"},
    {"{" T4("a\\ud800", "F32", "[1]", "[0,4]") "}", 4, "surrogate"},
    {"{" T4("a\t", "F32", "[1]", "[0,4]") "}", 4, "control character"},
    {"{" T4("a", "F32", "[1]", "[0,4]") "} x", 4, "more after"},
    {"{" T4("a", "Q4", "[1]", "[0,4]") "}", 4, "unknown dtype"},
    {"{" T4("a", "F32", "[1]", "[0,8]") "}", 4, "past the end"},
    {"{" T4("a", "F32", "[2]", "[0,4]") "}", 4, "need 8"},
    {"{" T4("a", "F32", "[1]", "[4,0]") "}", 4, "end before they begin"},
    {"{" T4("a", "F32", "[2]", "[0,8]") "," T4("b", "F32", "[1]", "[4,8]") "}", 8, "overlaps"},
    {"{" T4("a", "F32", "[1]", "[0,4]") "," T4("b", "F32", "[1]", "[8,12]") "}", 12,
     "belong to no tensor"},
    {"{" T4("a", "F32", "[1]", "[0,4]") "}", 8, "belong to no tensor"},
    {"{" T4("a", "F32", "[1]", "[0,4]") "," T4("a", "F32", "[1]", "[4,8]") "}", 8, "duplicate"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "needs dtype"},
    {"{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F32\"}}", 4, "given twice"},
    {"{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4,
     "unknown field"},
    {"{\"__metadata__\":{\"k\":1}}", 0, "expected '\"'"},
    {"{" T4("a", "F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]") "}", 4, "array too long"},
    {"{" T4("012345678901234567890123456789012345678901234567890123456789"
            "012345678901234567890123456789012345678901234567890123456789abcdefgh",
            "F32", "[1]", "[0,4]") "}",
     4, "longer than 127"},
    {"", 0, "expected '{'"},
};

START_TEST(bad_header)
{
    static const unsigned char zeros[16];
    const char *h = bad_headers[_i].header;
    write_raw(h, strlen(h), zeros, bad_headers[_i].data_len);
    StFile f;
    Err err = {""};
    ck_assert_msg(st_read(path, &f, &err) == CLRUN_EINPUT, "accepted %s", h);
    ck_assert_msg(strstr(err.msg, path), "no file name: %s", err.msg);
    ck_assert_msg(strstr(err.msg, bad_headers[_i].says), "for %s: %s", h, err.msg);
    ck_assert_ptr_null(f.t);
}
END_TEST

START_TEST(bad_length)
{
    static const char header[] = "{}      ";
    static const struct {
        uint64_t len;
        const char *says;
    } cases[] = {{9, "past the end"}, {1000, "past the end"}, {1ull << 40, "absurd"}};
    StFile f;
    Err err = {""};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_raw(header, cases[i].len, NULL, 0);
        ck_assert_int_eq(st_read(path, &f, &err), CLRUN_EINPUT);
        ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, cases[i].says), "%s", err.msg);
    }
    FILE *fp = fopen(path, "wb");
    fputs("abc", fp);
    fclose(fp);
    ck_assert_int_eq(st_read(path, &f, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "too short"), "%s", err.msg);
    ck_assert_int_eq(st_read(test_tmpdir, &f, &err), CLRUN_EINPUT);
    ck_assert_int_eq(st_read("/nonexistent.safetensors", &f, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, "/nonexistent.safetensors"), "%s", err.msg);
}
END_TEST

Suite *safetensors_suite(void)
{
    Suite *s = suite_create("safetensors");
    TCase *tc = tcase_create("safetensors");
    tcase_add_checked_fixture(tc, make_tmpdir, test_tmpdir_remove);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, overwrite_and_empty);
    tcase_add_test(tc, write_errors);
    tcase_add_test(tc, python_fixture);
    tcase_add_test(tc, dtypes);
    tcase_add_loop_test(tc, bad_header, 0, (int)(sizeof bad_headers / sizeof bad_headers[0]));
    tcase_add_test(tc, bad_length);
    suite_add_tcase(s, tc);
    return s;
}
