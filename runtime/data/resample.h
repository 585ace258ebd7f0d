/* resample.h: Pillow's resize with its bilinear filter (Image.resize(size,
 * Image.BILINEAR), what torchvision's Resize does to a PIL image), to the
 * byte. Internal to runtime/data. */
#ifndef CLRUN_DATA_RESAMPLE_H
#define CLRUN_DATA_RESAMPLE_H

#include "data/image.h"
#include "err.h"

/* Resizes in to w x h into out (which the caller frees with image_free) as
 * Pillow's ImagingResample does for 8-bit images: a triangle filter whose
 * support widens with the shrink factor (so shrinking averages, antialiased),
 * weights rounded to 22-bit fixed point, a horizontal pass rounded and
 * clamped to bytes, then a vertical one. Either pass is skipped when its
 * side keeps its size, as Pillow skips it. */
int resample_bilinear(const Image *in, int w, int h, Image *out, Err *err);

#endif
