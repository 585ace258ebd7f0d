/* prep.c: torchvision's Resize and CenterCrop on a decoded image (see
 * prep.h), so that clrun's pixels are those of
 * transforms.Compose([Resize(256), CenterCrop(224), ToTensor()]) on the
 * same file opened with PIL. The arithmetic that decides sizes and offsets
 * is Python's, rounding included: an offset one pixel off is a different
 * image to compare with. */
#include "data/prep.h"

#include <stdlib.h>
#include <string.h>

#include "data/resample.h"

int prep_wanted(const ImageOptions *opt)
{
    return opt->resize_short || opt->resize_h || opt->crop_h;
}

void prep_shorter_side(int w, int h, int side, int *out_w, int *out_h)
{
    int portrait = w <= h, shorter = portrait ? w : h, longer = portrait ? h : w;
    double exact = (double)side * longer / shorter;
    int other = exact > IMAGE_MAX_SIDE ? IMAGE_MAX_SIDE + 1 : (int)exact; /* refused later */
    *out_w = portrait ? side : other;
    *out_h = portrait ? other : side;
}

int prep_crop_start(int size, int crop)
{
    if (crop > size)
        return -((crop - size) / 2);
    int d = size - crop, half = d / 2;
    return d % 2 && half % 2 ? half + 1 : half; /* k + 0.5 rounds to the even of k, k + 1 */
}

/* The crop_w x crop_h window of in from (left, top), zeros outside in. */
static int crop(const Image *in, int crop_w, int crop_h, Image *out, Err *err)
{
    int left = prep_crop_start(in->w, crop_w), top = prep_crop_start(in->h, crop_h);
    int ch = in->channels;
    out->w = crop_w;
    out->h = crop_h;
    out->channels = ch;
    if (!(out->data = calloc((size_t)crop_w * crop_h, (size_t)ch)))
        return err_set(err, CLRUN_ERUNTIME, "out of memory for a %dx%d crop", crop_w, crop_h);
    for (int y = 0; y < crop_h; y++) {
        int sy = top + y, x0 = left < 0 ? -left : 0;
        int x1 = in->w - left < crop_w ? in->w - left : crop_w;
        if (sy < 0 || sy >= in->h || x1 <= x0)
            continue;
        memcpy(out->data + ((size_t)y * crop_w + x0) * ch,
               in->data + ((size_t)sy * in->w + left + x0) * ch, (size_t)(x1 - x0) * ch);
    }
    return CLRUN_OK;
}

static int copy(const Image *in, Image *out, Err *err)
{
    *out = *in;
    size_t bytes = (size_t)in->w * in->h * in->channels;
    if (!(out->data = malloc(bytes)))
        return err_set(err, CLRUN_ERUNTIME, "out of memory for a %dx%d image", in->w, in->h);
    memcpy(out->data, in->data, bytes);
    return CLRUN_OK;
}

int prep_image(const Image *in, const ImageOptions *opt, Image *out, Err *err)
{
    Image sized;
    int w = opt->resize_w, h = opt->resize_h, rc;
    memset(out, 0, sizeof *out);
    if (opt->resize_short)
        prep_shorter_side(in->w, in->h, opt->resize_short, &w, &h);
    if (w > IMAGE_MAX_SIDE || h > IMAGE_MAX_SIDE || (long long)w * h > IMAGE_MAX_PIXELS)
        return err_set(err, CLRUN_EINPUT, "a %dx%d image resized to %dx%d is over %d a side or "
                       "%d pixels", in->w, in->h, w, h, IMAGE_MAX_SIDE, IMAGE_MAX_PIXELS);
    if (w)
        rc = resample_bilinear(in, w, h, &sized, err);
    else
        rc = copy(in, &sized, err);
    if (rc || !opt->crop_h) {
        *out = sized;
        return rc;
    }
    rc = crop(&sized, opt->crop_w, opt->crop_h, out, err);
    image_free(&sized);
    return rc;
}
