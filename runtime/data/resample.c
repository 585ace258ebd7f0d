/* resample.c: Pillow's resampling (libImaging/Resample.c) for 8-bit gray
 * and RGB images, with the bilinear filter only (see resample.h).
 *
 * Pillow's numbers are reproduced, not merely its idea: the filter weights
 * are computed in double as Pillow computes them, normalised per output
 * pixel, turned into integers of PRECISION_BITS fraction bits, and each
 * pass accumulates integers from a half and truncates, clamped to a byte.
 * The intermediate image of the horizontal pass is bytes too. Anything
 * else (double accumulation, one rounding at the end) differs from PIL by
 * a level now and then, and the point of this file is PIL's exact pixels. */
#include "data/resample.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* 32 bits less 8 for the pixel and 2 for the sign and the overshoot of
 * negative weights (none for bilinear, but the rounding is Pillow's). */
enum { PRECISION_BITS = 32 - 8 - 2 };

/* The weights of one axis: output j reads `count[j]` source pixels from
 * first[j] with weights k[j * ksize ..]. */
typedef struct {
    int ksize;
    int *first, *count;
    int32_t *k;
} Coeffs;

static void coeffs_free(Coeffs *c)
{
    free(c->first);
    free(c->count);
    free(c->k);
    memset(c, 0, sizeof *c);
}

static double triangle(double x)
{
    x = fabs(x);
    return x < 1.0 ? 1.0 - x : 0.0;
}

/* Pillow rounds half away from zero when it turns weights into integers. */
static int32_t fixed(double w)
{
    return (int32_t)(w < 0 ? -0.5 + w * (1 << PRECISION_BITS) : 0.5 + w * (1 << PRECISION_BITS));
}

/* One output pixel's weights, as Pillow's precompute_coeffs makes them
 * (multiplying by the reciprocal of filterscale, as it does, to the last
 * bit); w is room for ksize doubles. */
static void coeffs_one(Coeffs *c, int j, int in_size, double scale, double filterscale,
                       double support, double *w)
{
    double center = (j + 0.5) * scale, ss = 1.0 / filterscale, sum = 0.0;
    int lo = (int)(center - support + 0.5), hi = (int)(center + support + 0.5);
    lo = lo < 0 ? 0 : lo;
    hi = (hi > in_size ? in_size : hi) - lo;
    for (int x = 0; x < hi; x++) {
        w[x] = triangle((x + lo - center + 0.5) * ss);
        sum += w[x];
    }
    int32_t *k = c->k + (size_t)j * c->ksize;
    for (int x = 0; x < c->ksize; x++)
        k[x] = x < hi ? fixed(sum != 0.0 ? w[x] / sum : w[x]) : 0;
    c->first[j] = lo;
    c->count[j] = hi;
}

static int coeffs_make(Coeffs *c, int in_size, int out_size, Err *err)
{
    memset(c, 0, sizeof *c);
    /* Pillow divides the box's float width by the output size */
    double scale = (double)in_size / out_size, filterscale = scale < 1.0 ? 1.0 : scale;
    double support = 1.0 * filterscale; /* the bilinear filter's support is 1 */
    c->ksize = (int)ceil(support) * 2 + 1;
    c->first = malloc((size_t)out_size * sizeof *c->first);
    c->count = malloc((size_t)out_size * sizeof *c->count);
    c->k = malloc((size_t)out_size * c->ksize * sizeof *c->k);
    double *w = malloc((size_t)c->ksize * sizeof *w);
    if (!c->first || !c->count || !c->k || !w) {
        free(w);
        coeffs_free(c);
        return err_set(err, CLRUN_ERUNTIME, "out of memory for resizing %d to %d", in_size,
                       out_size);
    }
    for (int j = 0; j < out_size; j++)
        coeffs_one(c, j, in_size, scale, filterscale, support, w);
    free(w);
    return CLRUN_OK;
}

static unsigned char clip8(int64_t acc)
{
    if (acc >= (int64_t)256 << PRECISION_BITS)
        return 255;
    return acc <= 0 ? 0 : (unsigned char)(acc >> PRECISION_BITS);
}

/* One pass along x (step = channels) or y (step = a row's bytes): output
 * position j of line `line` from the source line's samples. */
static void pass(const Image *in, Image *out, const Coeffs *c, int along_x)
{
    int ch = in->channels;
    size_t in_row = (size_t)in->w * ch, out_row = (size_t)out->w * ch;
    size_t step = along_x ? (size_t)ch : in_row;
    for (int y = 0; y < out->h; y++)
        for (int x = 0; x < out->w; x++) {
            int j = along_x ? x : y;
            const int32_t *k = c->k + (size_t)j * c->ksize;
            const unsigned char *src = in->data + (along_x ? (size_t)y * in_row
                                                           : (size_t)x * ch) + c->first[j] * step;
            for (int b = 0; b < ch; b++) {
                int64_t acc = 1 << (PRECISION_BITS - 1);
                for (int t = 0; t < c->count[j]; t++)
                    acc += (int64_t)src[t * step + b] * k[t];
                out->data[(size_t)y * out_row + (size_t)x * ch + b] = clip8(acc);
            }
        }
}

static int image_alloc(Image *img, int w, int h, int channels, Err *err)
{
    img->w = w;
    img->h = h;
    img->channels = channels;
    if (!(img->data = malloc((size_t)w * h * channels)))
        return err_set(err, CLRUN_ERUNTIME, "out of memory for a %dx%d image", w, h);
    return CLRUN_OK;
}

/* Resizes one axis of in into out (a new image), or copies in when the axis
 * keeps its size. */
static int resize_axis(const Image *in, int size, int along_x, Image *out, Err *err)
{
    int w = along_x ? size : in->w, h = along_x ? in->h : size;
    memset(out, 0, sizeof *out);
    int rc = image_alloc(out, w, h, in->channels, err);
    if (rc)
        return rc;
    if ((along_x ? in->w : in->h) == size) {
        memcpy(out->data, in->data, (size_t)w * h * in->channels);
        return CLRUN_OK;
    }
    Coeffs c;
    if ((rc = coeffs_make(&c, along_x ? in->w : in->h, size, err))) {
        image_free(out);
        return rc;
    }
    pass(in, out, &c, along_x);
    coeffs_free(&c);
    return CLRUN_OK;
}

int resample_bilinear(const Image *in, int w, int h, Image *out, Err *err)
{
    Image tmp;
    memset(out, 0, sizeof *out);
    if (w < 1 || h < 1)
        return err_set(err, CLRUN_EINPUT, "cannot resize to %dx%d", w, h);
    /* Pillow's horizontal pass only covers the rows the vertical one reads;
     * doing all rows gives the same bytes. */
    int rc = resize_axis(in, w, 1, &tmp, err);
    if (!rc)
        rc = resize_axis(&tmp, h, 0, out, err);
    image_free(&tmp);
    return rc;
}
