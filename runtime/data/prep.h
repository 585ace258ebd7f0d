/* prep.h: torchvision's evaluation transforms on one decoded image, before
 * the loader's own conversion: Resize (PIL's bilinear, see resample.h) and
 * CenterCrop. Internal to runtime/data. */
#ifndef CLRUN_DATA_PREP_H
#define CLRUN_DATA_PREP_H

#include "data/dataset.h"
#include "data/image.h"

/* Whether opt asks for any of them. */
int prep_wanted(const ImageOptions *opt);

/* in resized (opt->resize_short, or opt->resize_h x resize_w) and then
 * centre-cropped (opt->crop_h x crop_w) into out, which the caller frees. */
int prep_image(const Image *in, const ImageOptions *opt, Image *out, Err *err);

/* torchvision's Resize(side) size for a w x h image: the shorter side
 * becomes side, the longer int(side * long / short) (truncated, in double,
 * as Python's int() of a true division); a square's width counts as the
 * shorter. A longer side past IMAGE_MAX_SIDE comes out as IMAGE_MAX_SIDE + 1. */
void prep_shorter_side(int w, int h, int side, int *out_w, int *out_h);

/* Where a centre crop of `crop` starts in `size`, as torchvision's
 * center_crop: round((size - crop) / 2) with Python's round (half to even);
 * when crop is larger, torchvision pads (crop - size) // 2 zeros before, so
 * the start is minus that. */
int prep_crop_start(int size, int crop);

#endif
