/* check_images.c: tests for image folders (runtime/data/images.c, image.c).
 *
 * Images are written here with libpng's and libjpeg's writers from pixel
 * formulas, and what the loader returns is compared with values computed
 * here in another way: resizing by brute force over every source pixel (and
 * shrinking once more by supersampling on a fine grid), in exact integers,
 * so PNG results must match to the byte; JPEG's lossy round trip gets a
 * tolerance. */
#include <check.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <png.h>

#include "data/data.h"
#include "suites.h"
#include "testutil.h"

/* test_tmpdir/name, in a buffer that lasts until the next call with the same slot. */
static const char *tmp_path(int slot, const char *name)
{
    static char paths[4][512];
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", test_tmpdir, name);
    return paths[slot];
}

static void make_dir(const char *name)
{
    ck_assert_msg(mkdir(tmp_path(3, name), 0700) == 0, "mkdir %s", name);
}

/* ---- writing images ---- */

/* A test image: w x h pixels of `channels` interleaved bytes (1 gray, 2 gray
 * + alpha, 3 RGB, 4 RGBA). */
typedef struct {
    int w, h, channels;
    unsigned char px[64 * 64 * 4];
} Pic;

/* Fills pic from a formula that gives every channel and position its own
 * value; seed makes different images differ. */
static void pic_fill(Pic *p, int w, int h, int channels, int seed)
{
    p->w = w, p->h = h, p->channels = channels;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < channels; c++)
                p->px[(y * w + x) * channels + c] =
                    (unsigned char)(x * 37 + y * 23 + c * 71 + seed * 13 + 11);
}

/* A smooth version, which JPEG keeps close to the original. */
static void pic_smooth(Pic *p, int w, int h, int channels, int seed)
{
    p->w = w, p->h = h, p->channels = channels;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < channels; c++)
                p->px[(y * w + x) * channels + c] =
                    (unsigned char)(40 + x * 9 + y * 7 + c * 30 + seed * 5);
}

static void write_png(const char *path, const Pic *p, int interlace)
{
    static const int types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                 PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)p->w, (png_uint_32)p->h, 8, types[p->channels],
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_bytep rows[64];
    for (int y = 0; y < p->h; y++)
        rows[y] = (png_bytep)p->px + (size_t)y * p->w * p->channels;
    png_set_rows(png, info, rows);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_destroy_write_struct(&png, &info);
    ck_assert_int_eq(fclose(fp), 0);
}

/* A palette PNG whose index i is the color (i*50, 255-i*40, i*11). */
static void write_png_palette(const char *path, const Pic *indexes)
{
    FILE *fp = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)indexes->w, (png_uint_32)indexes->h, 8,
                 PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    png_color palette[6];
    for (int i = 0; i < 6; i++)
        palette[i] = (png_color){(png_byte)(i * 50), (png_byte)(255 - i * 40), (png_byte)(i * 11)};
    png_set_PLTE(png, info, palette, 6);
    png_bytep rows[64];
    for (int y = 0; y < indexes->h; y++)
        rows[y] = (png_bytep)indexes->px + (size_t)y * indexes->w;
    png_set_rows(png, info, rows);
    png_write_png(png, info, PNG_TRANSFORM_IDENTITY, NULL);
    png_destroy_write_struct(&png, &info);
    ck_assert_int_eq(fclose(fp), 0);
}

/* A 16-bit gray PNG holding byte b as b * 257 (which scales back to b exactly). */
static void write_png16(const char *path, const Pic *p)
{
    FILE *fp = fopen(path, "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)p->w, (png_uint_32)p->h, 16, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    unsigned char row[128];
    for (int y = 0; y < p->h; y++) {
        for (int x = 0; x < p->w; x++)
            row[2 * x] = row[2 * x + 1] = p->px[y * p->w + x]; /* big-endian b * 257 */
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    ck_assert_int_eq(fclose(fp), 0);
}

/* Quality 100 without chroma subsampling, so the round trip is close. */
static void write_jpeg(const char *path, const Pic *p)
{
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr jerr;
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    cinfo.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&cinfo);
    jpeg_stdio_dest(&cinfo, fp);
    cinfo.image_width = (JDIMENSION)p->w;
    cinfo.image_height = (JDIMENSION)p->h;
    cinfo.input_components = p->channels;
    cinfo.in_color_space = p->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, 100, TRUE);
    for (int i = 0; i < cinfo.num_components; i++)
        cinfo.comp_info[i].h_samp_factor = cinfo.comp_info[i].v_samp_factor = 1;
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = (JSAMPROW)p->px + (size_t)cinfo.next_scanline * p->w * p->channels;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    ck_assert_int_eq(fclose(fp), 0);
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    ck_assert_ptr_nonnull(fp);
    fputs(text, fp);
    ck_assert_int_eq(fclose(fp), 0);
}

/* Keeps the first keep bytes of path. */
static void truncate_file(const char *path, long keep)
{
    FILE *fp = fopen(path, "rb");
    ck_assert_ptr_nonnull(fp);
    unsigned char buf[65536];
    size_t got = fread(buf, 1, sizeof buf, fp);
    fclose(fp);
    ck_assert_uint_gt(got, (size_t)keep);
    fp = fopen(path, "wb");
    fwrite(buf, 1, (size_t)keep, fp);
    fclose(fp);
}

/* ---- the expected pixels ---- */

/* Channel c of the source as an exact fraction over *den: the luma
 * (299 R + 587 G + 114 B) / 1000 when gray, else the byte (alpha ignored,
 * gray repeated). */
static int64_t source_value(const Pic *p, int y, int x, int c, int gray, int64_t *den)
{
    const unsigned char *v = p->px + (y * p->w + x) * p->channels;
    int color = p->channels >= 3;
    *den = gray ? 1000 : 1;
    if (!gray)
        return color ? v[c] : v[0];
    return color ? 299 * v[0] + 587 * v[1] + 114 * v[2] : 1000 * v[0];
}

/* How much of output pixel j (of dst along an axis of src) source pixel i
 * contributes, over the returned denominator: the overlap of [j, j+1) * src/dst
 * with [i, i+1) when shrinking; linear interpolation at the aligned centre
 * (j + 1/2) * src/dst - 1/2, clamped, when growing. */
static int64_t weight(int src, int dst, int j, int i, int64_t *den)
{
    if (dst <= src) {
        /* in units of 1/dst: output [j*src, (j+1)*src), source [i*dst, (i+1)*dst) */
        int64_t lo = (int64_t)j * src > (int64_t)i * dst ? (int64_t)j * src : (int64_t)i * dst;
        int64_t hi = (int64_t)(j + 1) * src < (int64_t)(i + 1) * dst ? (int64_t)(j + 1) * src
                                                                       : (int64_t)(i + 1) * dst;
        *den = src;
        return hi > lo ? hi - lo : 0;
    }
    /* in units of 1/(2 dst) */
    int64_t unit = 2 * (int64_t)dst, pos = (2 * (int64_t)j + 1) * src - dst;
    if (pos < 0)
        pos = 0;
    if (pos > unit * (src - 1))
        pos = unit * (src - 1);
    int64_t d = pos - unit * i; /* distance from source i, signed */
    *den = unit;
    return d <= -unit || d >= unit ? 0 : unit - (d < 0 ? -d : d);
}

/* Expected byte of channel c at (y, x) of p resized to h x w. */
static int expect(const Pic *p, int h, int w, int c, int y, int x, int gray, int invert)
{
    int64_t num = 0, den = 1, dx = 1, dy = 1, dv = 1;
    for (int sy = 0; sy < p->h; sy++)
        for (int sx = 0; sx < p->w; sx++) {
            int64_t wy = weight(p->h, h, y, sy, &dy), wx = weight(p->w, w, x, sx, &dx);
            if (wy && wx)
                num += wy * wx * source_value(p, sy, sx, c, gray, &dv);
        }
    den = dy * dx * (gray ? 1000 : 1);
    int v = (int)((2 * num + den) / (2 * den)); /* half up */
    return invert ? 255 - v : v;
}

/* Expected byte for a shrink by supersampling: every source pixel becomes a
 * w x h block of a fine grid, each output pixel averages a src block of it. */
static int expect_fine(const Pic *p, int h, int w, int c, int y, int x, int gray)
{
    int64_t num = 0, dv = 1;
    for (int fy = y * p->h; fy < (y + 1) * p->h; fy++)
        for (int fx = x * p->w; fx < (x + 1) * p->w; fx++)
            num += source_value(p, fy / h, fx / w, c, gray, &dv);
    int64_t den = (int64_t)p->h * p->w * dv;
    return (int)((2 * num + den) / (2 * den));
}

/* Example i of ds must be p as loaded with these options, to the byte. */
static void assert_image(const Dataset *ds, int i, const Pic *p, int gray, int invert)
{
    const unsigned char *got = ds->pixels + (size_t)i * ds->c * ds->h * ds->w;
    for (int c = 0; c < ds->c; c++)
        for (int y = 0; y < ds->h; y++)
            for (int x = 0; x < ds->w; x++) {
                int want = expect(p, ds->h, ds->w, c, y, x, gray, invert);
                int v = got[(c * ds->h + y) * ds->w + x];
                ck_assert_msg(v == want, "example %d channel %d (%d, %d): %d, want %d", i, c, y, x,
                              v, want);
            }
}

/* The same within tol, for JPEG. */
static void assert_image_near(const Dataset *ds, int i, const Pic *p, int gray, int tol)
{
    const unsigned char *got = ds->pixels + (size_t)i * ds->c * ds->h * ds->w;
    for (int c = 0; c < ds->c; c++)
        for (int y = 0; y < ds->h; y++)
            for (int x = 0; x < ds->w; x++) {
                int want = expect(p, ds->h, ds->w, c, y, x, gray, 0);
                int v = got[(c * ds->h + y) * ds->w + x];
                ck_assert_msg(abs(v - want) <= tol, "example %d channel %d (%d, %d): %d, want %d",
                              i, c, y, x, v, want);
            }
}

static void load(Dataset *ds, const char *dir, int gray, int invert, int h, int w)
{
    ImageOptions o = {.grayscale = gray, .invert = invert, .height = h, .width = w};
    Err err = {""};
    ck_assert_ok(images_load(ds, tmp_path(0, dir), &o, &err), err);
}

static void assert_load_fails(const char *dir, int h, int w, const char *say1, const char *say2)
{
    ImageOptions o = {.height = h, .width = w};
    Dataset ds;
    Err err = {""};
    ck_assert_int_eq(images_load(&ds, tmp_path(0, dir), &o, &err), CLRUN_EINPUT);
    ck_assert_msg(strstr(err.msg, say1), "message lacks '%s': %s", say1, err.msg);
    ck_assert_msg(!say2 || strstr(err.msg, say2), "message lacks '%s': %s", say2, err.msg);
    ck_assert_ptr_null(ds.pixels);
    ck_assert_ptr_null(ds.labels);
    ck_assert_ptr_null(ds.class_names);
}

/* ---- a set of 5 x 7 PNGs ---- */

/* set/ holds class folders "b-gray" and "a-color" (sorted: a first):
 * a-color: x2.png (RGB), x10.PNG (RGBA, interlaced); b-gray: g.png (gray),
 * plus files that must be skipped. Fills pics in the order they load. */
static void make_png_set(Pic pics[3])
{
    make_dir("set");
    make_dir("set/b-gray");
    make_dir("set/a-color");
    make_dir("set/.hidden");
    pic_fill(&pics[0], 5, 7, 4, 1);
    pic_fill(&pics[1], 5, 7, 3, 2);
    pic_fill(&pics[2], 5, 7, 1, 3);
    write_png(tmp_path(1, "set/a-color/x10.PNG"), &pics[0], 1);
    write_png(tmp_path(1, "set/a-color/x2.png"), &pics[1], 0);
    write_png(tmp_path(1, "set/b-gray/g.png"), &pics[2], 0);
    write_text(tmp_path(1, "set/b-gray/.g.png"), "hidden, not an image");
    write_text(tmp_path(1, "set/b-gray/notes.txt"), "not an image");
    write_text(tmp_path(1, "set/README"), "a file among the class folders");
    write_text(tmp_path(1, "set/.hidden/h.png"), "in a hidden folder");
}

START_TEST(png_as_is)
{
    Pic pics[3];
    make_png_set(pics);
    Dataset ds;
    load(&ds, "set", 0, 0, 0, 0);
    ck_assert_int_eq(ds.n, 3);
    ck_assert_int_eq(ds.c, 3);
    ck_assert_int_eq(ds.h, 7);
    ck_assert_int_eq(ds.w, 5);
    ck_assert_int_eq(ds.classes, 2);
    ck_assert_str_eq(ds.class_names[0], "a-color");
    ck_assert_str_eq(ds.class_names[1], "b-gray");
    ck_assert_int_eq(ds.labels[0], 0);
    ck_assert_int_eq(ds.labels[1], 0);
    ck_assert_int_eq(ds.labels[2], 1);
    ck_assert_ptr_null(ds.values);
    for (int i = 0; i < 3; i++)
        assert_image(&ds, i, &pics[i], 0, 0);
    /* the plain formula, once without the reference's help: R plane, then G */
    ck_assert_int_eq(ds.pixels[0], pics[0].px[0]);
    ck_assert_int_eq(ds.pixels[35 + 6], pics[0].px[4 * 6 + 1]);
    ck_assert_int_eq(ds.pixels[2 * 105 + 70 + 34], pics[2].px[34]);
    ck_assert_str_eq(ds.source, tmp_path(0, "set"));
    dataset_free(&ds);
}
END_TEST

START_TEST(png_gray_invert)
{
    Pic pics[3];
    make_png_set(pics);
    Dataset ds;
    load(&ds, "set", 1, 1, 0, 0);
    ck_assert_int_eq(ds.c, 1);
    for (int i = 0; i < 3; i++)
        assert_image(&ds, i, &pics[i], 1, 1);
    const unsigned char *p = pics[1].px + (3 * 5 + 2) * 3;
    ck_assert_int_eq(ds.pixels[35 + 3 * 5 + 2],
                     255 - (int)((299 * p[0] + 587 * p[1] + 114 * p[2] + 500) / 1000));
    dataset_free(&ds);
}
END_TEST

/* Shrinking both ways, growing both ways, and one of each. */
START_TEST(png_resize)
{
    static const int sizes[][2] = {{3, 2}, {7, 5}, {1, 1}, {12, 9}, {4, 8}, {16, 3}};
    Pic pics[3];
    make_png_set(pics);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (int gray = 0; gray < 2; gray++) {
            Dataset ds;
            load(&ds, "set", gray, 0, sizes[s][0], sizes[s][1]);
            ck_assert_int_eq(ds.h, sizes[s][0]);
            ck_assert_int_eq(ds.w, sizes[s][1]);
            for (int i = 0; i < 3; i++)
                assert_image(&ds, i, &pics[i], gray, 0);
            dataset_free(&ds);
        }
}
END_TEST

/* Area averaging checked against supersampling, a method of its own. */
START_TEST(png_shrink_supersampled)
{
    Pic p;
    pic_fill(&p, 9, 4, 3, 5);
    make_dir("s");
    make_dir("s/only");
    write_png(tmp_path(1, "s/only/p.png"), &p, 0);
    for (int gray = 0; gray < 2; gray++) {
        Dataset ds;
        load(&ds, "s", gray, 0, 3, 5);
        for (int c = 0; c < ds.c; c++)
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 5; x++)
                    ck_assert_int_eq(ds.pixels[(c * 3 + y) * 5 + x],
                                     expect_fine(&p, 3, 5, c, y, x, gray));
        dataset_free(&ds);
    }
}
END_TEST

/* Bilinear growth: a 2x1 image of 0 and 200 grown to 4 wide has its samples
 * at source x = -0.25 (clamped to 0), 0.25, 0.75 and 1.25 (clamped to 1). */
START_TEST(png_grow_bilinear)
{
    Pic p = {.w = 2, .h = 1, .channels = 1, .px = {0, 200}};
    make_dir("g");
    make_dir("g/only");
    write_png(tmp_path(1, "g/only/p.png"), &p, 0);
    Dataset ds;
    load(&ds, "g", 1, 0, 1, 4);
    ck_assert_int_eq(ds.pixels[0], 0);
    ck_assert_int_eq(ds.pixels[1], 50);
    ck_assert_int_eq(ds.pixels[2], 150);
    ck_assert_int_eq(ds.pixels[3], 200);
    dataset_free(&ds);
}
END_TEST

START_TEST(png_palette_and_16bit)
{
    Pic idx, deep;
    pic_fill(&deep, 6, 3, 1, 4);
    idx.w = 6, idx.h = 3, idx.channels = 1;
    for (int i = 0; i < 18; i++)
        idx.px[i] = (unsigned char)(i % 6);
    make_dir("p");
    make_dir("p/palette");
    make_dir("p/wide");
    write_png_palette(tmp_path(1, "p/palette/p.png"), &idx);
    write_png16(tmp_path(1, "p/wide/w.png"), &deep);
    Dataset ds;
    load(&ds, "p", 0, 0, 0, 0);
    for (int i = 0; i < 18; i++) {
        int k = i % 6;
        ck_assert_int_eq(ds.pixels[i], k * 50);
        ck_assert_int_eq(ds.pixels[18 + i], 255 - k * 40);
        ck_assert_int_eq(ds.pixels[36 + i], k * 11);
    }
    assert_image(&ds, 1, &deep, 0, 0);
    dataset_free(&ds);
}
END_TEST

/* ---- JPEG ---- */

START_TEST(jpeg)
{
    Pic color, gray;
    pic_smooth(&color, 9, 4, 3, 1);
    pic_smooth(&gray, 9, 4, 1, 2);
    make_dir("j");
    make_dir("j/cls");
    write_jpeg(tmp_path(1, "j/cls/a.jpg"), &color);
    write_jpeg(tmp_path(1, "j/cls/b.JPEG"), &gray);
    Dataset ds;
    load(&ds, "j", 0, 0, 0, 0);
    ck_assert_int_eq(ds.n, 2);
    ck_assert_int_eq(ds.h, 4);
    ck_assert_int_eq(ds.w, 9);
    assert_image_near(&ds, 0, &color, 0, 3);
    assert_image_near(&ds, 1, &gray, 0, 2);
    dataset_free(&ds);
    load(&ds, "j", 1, 0, 6, 5);
    assert_image_near(&ds, 0, &color, 1, 3);
    assert_image_near(&ds, 1, &gray, 1, 2);
    dataset_free(&ds);
}
END_TEST

/* ---- errors ---- */

START_TEST(corrupt_png)
{
    Pic p;
    pic_fill(&p, 5, 7, 3, 1);
    make_dir("c");
    make_dir("c/k");
    const char *path = tmp_path(1, "c/k/bad.png");
    write_png(tmp_path(2, "c/k/good.png"), &p, 0);
    write_png(path, &p, 0);
    truncate_file(path, 60);
    assert_load_fails("c", 0, 0, path, "not a valid PNG");
    write_text(path, "plain text with a .png name");
    assert_load_fails("c", 0, 0, path, "not a PNG or JPEG");
    write_text(path, "");
    assert_load_fails("c", 0, 0, path, "empty");
}
END_TEST

START_TEST(corrupt_jpeg)
{
    Pic p;
    pic_smooth(&p, 9, 4, 3, 1);
    make_dir("c");
    make_dir("c/k");
    const char *path = tmp_path(1, "c/k/bad.jpg");
    write_jpeg(path, &p);
    truncate_file(path, 200);
    assert_load_fails("c", 0, 0, path, "JPEG");
    write_text(path, "\xff\xd8\xff but nothing after");
    assert_load_fails("c", 0, 0, path, "JPEG");
}
END_TEST

START_TEST(mixed_sizes)
{
    Pic a, b;
    pic_fill(&a, 5, 7, 3, 1);
    pic_fill(&b, 9, 4, 3, 2);
    make_dir("m");
    make_dir("m/k");
    write_png(tmp_path(1, "m/k/a.png"), &a, 0);
    write_png(tmp_path(1, "m/k/b.png"), &b, 0);
    assert_load_fails("m", 0, 0, tmp_path(1, "m/k/b.png"), "size: [H, W]");
    assert_load_fails("m", 0, 0, "4x9", tmp_path(1, "m/k/a.png"));
    Dataset ds;
    load(&ds, "m", 0, 0, 4, 4);
    assert_image(&ds, 0, &a, 0, 0);
    assert_image(&ds, 1, &b, 0, 0);
    dataset_free(&ds);
}
END_TEST

START_TEST(empty_and_missing)
{
    Pic a;
    pic_fill(&a, 5, 7, 3, 1);
    make_dir("e");
    assert_load_fails("e", 0, 0, tmp_path(1, "e"), "no class folders");
    make_dir("e/full");
    make_dir("e/empty");
    write_png(tmp_path(1, "e/full/a.png"), &a, 0);
    write_text(tmp_path(1, "e/empty/a.txt"), "not an image");
    assert_load_fails("e", 0, 0, tmp_path(1, "e/empty"), "without images");
    assert_load_fails("absent", 0, 0, tmp_path(1, "absent"), "cannot open");
    assert_load_fails("e", 5, 0, "size", NULL);
}
END_TEST

/* From YAML through data_parse and data_load, paths relative to the file. */
START_TEST(from_config)
{
    Pic pics[3];
    make_png_set(pics);
    make_dir("cfg");
    const char *yaml = tmp_path(2, "cfg/exp.yaml");
    write_text(yaml, "data:\n  dataset: folder\n  train: ../set\n  test: ../set\n"
                     "  grayscale: true\n  size: [3, 4]\n");
    Err err = {""};
    SpecNode *root = spec_load(yaml, &err);
    ck_assert_msg(root != NULL, "%s", err.msg);
    DataSpec d;
    ck_assert_ok(data_parse(&d, spec_get(root, "data"), &err), err);
    Dataset ds;
    ck_assert_ok(data_load(&d, "test", NULL, &ds, &err), err);
    ck_assert_int_eq(ds.n, 3);
    ck_assert_int_eq(ds.c, 1);
    for (int i = 0; i < 3; i++)
        assert_image(&ds, i, &pics[i], 1, 0);
    dataset_free(&ds);
    data_spec_free(&d);
    spec_free(root);
}
END_TEST

Suite *images_suite(void)
{
    Suite *s = suite_create("images");
    TCase *tc = tcase_create("images");
    tcase_add_checked_fixture(tc, test_tmpdir_make, test_tmpdir_remove);
    tcase_add_test(tc, png_as_is);
    tcase_add_test(tc, png_gray_invert);
    tcase_add_test(tc, png_resize);
    tcase_add_test(tc, png_shrink_supersampled);
    tcase_add_test(tc, png_grow_bilinear);
    tcase_add_test(tc, png_palette_and_16bit);
    tcase_add_test(tc, jpeg);
    tcase_add_test(tc, corrupt_png);
    tcase_add_test(tc, corrupt_jpeg);
    tcase_add_test(tc, mixed_sizes);
    tcase_add_test(tc, empty_and_missing);
    tcase_add_test(tc, from_config);
    suite_add_tcase(s, tc);
    return s;
}
