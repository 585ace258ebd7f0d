/* image.c: decodes one PNG (libpng) or JPEG (libjpeg) file to 8-bit gray or
 * RGB pixels (see image.h).
 *
 * Both libraries report errors by calling back and never returning, so each
 * decoder sets a jump point first and turns the library's message into an
 * input error naming the file. libjpeg merely warns about damaged data and
 * carries on; such warnings count as errors here, since a half-decoded image
 * would silently become a training example. */
#include "data/image.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>

#include "io/file.h"

static int check_size(const char *path, unsigned long w, unsigned long h, Err *err)
{
    if (w == 0 || h == 0 || w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE ||
        (unsigned long long)w * h > IMAGE_MAX_PIXELS)
        return err_set(err, CLRUN_EINPUT, "%s: image size %lux%lu is outside 1 to %d a side "
                       "and %d pixels", path, w, h, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
    return CLRUN_OK;
}

static int alloc_pixels(const char *path, Image *img, Err *err)
{
    img->data = malloc((size_t)img->w * img->h * img->channels);
    if (!img->data)
        return err_set(err, CLRUN_ERUNTIME, "%s: out of memory for a %dx%d image", path, img->w,
                       img->h);
    return CLRUN_OK;
}

/* ---- PNG ---- */

typedef struct {
    char msg[256];
} PngMessage;

static void png_on_error(png_structp png, png_const_charp msg)
{
    PngMessage *m = png_get_error_ptr(png);
    snprintf(m->msg, sizeof m->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg)
{
    (void)png, (void)msg;
}

/* Asks libpng for 8-bit gray or RGB whatever the file holds; returns the
 * number of interlace passes to read. */
static int png_transforms(png_structp png, png_infop info)
{
    int type = png_get_color_type(png, info);
    int depth = png_get_bit_depth(png, info);
    if (depth == 16)
        png_set_scale_16(png);
    if (type == PNG_COLOR_TYPE_PALETTE)
        png_set_palette_to_rgb(png);
    if (type == PNG_COLOR_TYPE_GRAY && depth < 8)
        png_set_expand_gray_1_2_4_to_8(png);
    png_set_strip_alpha(png);
    int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    return passes;
}

/* The body of png_decode, between its jump point and its cleanup. */
static void png_body(png_structp png, png_infop info, FILE *fp, const char *path, Image *img,
                     int *rc, Err *err)
{
    png_init_io(png, fp);
    png_set_user_limits(png, IMAGE_MAX_SIDE, IMAGE_MAX_SIDE);
    png_read_info(png, info);
    if ((*rc = check_size(path, png_get_image_width(png, info), png_get_image_height(png, info),
                          err)))
        return;
    int passes = png_transforms(png, info);
    img->w = (int)png_get_image_width(png, info);
    img->h = (int)png_get_image_height(png, info);
    img->channels = png_get_channels(png, info);
    if (img->channels != 1 && img->channels != 3) {
        *rc = err_set(err, CLRUN_EINPUT, "%s: PNG decodes to %d channels", path, img->channels);
        return;
    }
    if ((*rc = alloc_pixels(path, img, err)))
        return;
    /* Each pass of an interlaced file fills in more pixels of the same rows. */
    for (int pass = 0; pass < passes; pass++)
        for (int y = 0; y < img->h; y++)
            png_read_row(png, img->data + (size_t)y * img->w * img->channels, NULL);
    png_read_end(png, NULL);
}

static int png_decode(FILE *fp, const char *path, Image *img, Err *err)
{
    PngMessage m = {""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &m, png_on_error,
                                             png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    volatile int rc = CLRUN_OK;
    if (!png || !info) {
        rc = err_set(err, CLRUN_ERUNTIME, "%s: out of memory for the PNG decoder", path);
    } else if (setjmp(png_jmpbuf(png))) {
        rc = err_set(err, CLRUN_EINPUT, "%s: not a valid PNG file: %s", path, m.msg);
    } else {
        int body_rc = CLRUN_OK;
        png_body(png, info, fp, path, img, &body_rc, err);
        rc = body_rc;
    }
    png_destroy_read_struct(&png, &info, NULL);
    return rc;
}

/* ---- JPEG ---- */

typedef struct {
    struct jpeg_error_mgr mgr; /* first, so libjpeg's pointer is ours */
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
    int warned;
} JpegErrors;

static void jpeg_on_error(j_common_ptr cinfo)
{
    JpegErrors *e = (JpegErrors *)cinfo->err;
    e->mgr.format_message(cinfo, e->msg);
    longjmp(e->jump, 1);
}

/* Keeps the first warning (damaged data); ignores trace messages. */
static void jpeg_on_message(j_common_ptr cinfo, int level)
{
    JpegErrors *e = (JpegErrors *)cinfo->err;
    if (level < 0 && !e->warned) {
        e->mgr.format_message(cinfo, e->msg);
        e->warned = 1;
    }
}

/* The body of jpeg_decode, between its jump point and its cleanup. */
static int jpeg_body(struct jpeg_decompress_struct *cinfo, FILE *fp, const char *path,
                     Image *img, Err *err)
{
    jpeg_stdio_src(cinfo, fp);
    jpeg_read_header(cinfo, TRUE);
    int rc = check_size(path, cinfo->image_width, cinfo->image_height, err);
    if (rc)
        return rc;
    cinfo->out_color_space = cinfo->num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(cinfo);
    img->w = (int)cinfo->output_width;
    img->h = (int)cinfo->output_height;
    img->channels = cinfo->output_components;
    if ((rc = alloc_pixels(path, img, err)))
        return rc;
    while (cinfo->output_scanline < cinfo->output_height) {
        JSAMPROW row = img->data + (size_t)cinfo->output_scanline * img->w * img->channels;
        jpeg_read_scanlines(cinfo, &row, 1);
    }
    jpeg_finish_decompress(cinfo);
    return CLRUN_OK;
}

static int jpeg_decode(FILE *fp, const char *path, Image *img, Err *err)
{
    struct jpeg_decompress_struct cinfo;
    JpegErrors e;
    memset(&e, 0, sizeof e);
    cinfo.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = jpeg_on_error;
    e.mgr.emit_message = jpeg_on_message;
    jpeg_create_decompress(&cinfo);
    volatile int rc;
    if (setjmp(e.jump))
        rc = err_set(err, CLRUN_EINPUT, "%s: not a valid JPEG file: %s", path, e.msg);
    else
        rc = jpeg_body(&cinfo, fp, path, img, err);
    jpeg_destroy_decompress(&cinfo);
    if (!rc && e.warned)
        rc = err_set(err, CLRUN_EINPUT, "%s: damaged JPEG data: %s", path, e.msg);
    return rc;
}

/* ---- by signature ---- */

typedef enum { KIND_PNG, KIND_JPEG } Kind;

/* Which decoder fp's first bytes call for; fp is rewound. */
static int kind_of(FILE *fp, const char *path, Kind *kind, Err *err)
{
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    static const unsigned char jpeg_sig[3] = {0xff, 0xd8, 0xff};
    unsigned char head[8] = {0};
    size_t got = fread(head, 1, sizeof head, fp);
    rewind(fp);
    if (got == sizeof head && memcmp(head, png_sig, sizeof png_sig) == 0)
        *kind = KIND_PNG;
    else if (got >= sizeof jpeg_sig && memcmp(head, jpeg_sig, sizeof jpeg_sig) == 0)
        *kind = KIND_JPEG;
    else
        return err_set(err, CLRUN_EINPUT, "%s: not a PNG or JPEG image (%s)", path,
                       got ? "unknown signature" : "empty file");
    return CLRUN_OK;
}

int image_probe(const char *path, Err *err)
{
    Kind kind;
    FILE *fp = file_open(path, err);
    if (!fp)
        return CLRUN_EINPUT;
    int rc = kind_of(fp, path, &kind, err);
    fclose(fp);
    return rc;
}

int image_read(const char *path, Image *img, Err *err)
{
    memset(img, 0, sizeof *img);
    Kind kind;
    FILE *fp = file_open(path, err);
    if (!fp)
        return CLRUN_EINPUT;
    int rc = kind_of(fp, path, &kind, err);
    if (!rc)
        rc = (kind == KIND_PNG ? png_decode : jpeg_decode)(fp, path, img, err);
    fclose(fp);
    if (rc)
        image_free(img);
    return rc;
}

void image_free(Image *img)
{
    free(img->data);
    memset(img, 0, sizeof *img);
}
