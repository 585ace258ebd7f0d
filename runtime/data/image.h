/* image.h: one PNG or JPEG file decoded to 8-bit pixels, for the image
 * loaders (images.c, table.c). Internal to runtime/data. */
#ifndef CLRUN_DATA_IMAGE_H
#define CLRUN_DATA_IMAGE_H

#include "err.h"

/* Larger images are refused before anything is allocated for them. */
enum { IMAGE_MAX_SIDE = 16384, IMAGE_MAX_PIXELS = 1 << 26 };

typedef struct {
    int w, h;
    int channels;        /* 1 (gray) or 3 (RGB); alpha is dropped */
    unsigned char *data; /* h rows of w pixels of `channels` interleaved bytes */
} Image;

/* Decodes path by its contents (the PNG or JPEG signature), whatever its
 * name. 16-bit PNG samples are scaled to 8 bits, palettes and low bit depths
 * expanded. A file that is neither, is damaged or too large is CLRUN_EINPUT
 * naming path; img is empty then. */
int image_read(const char *path, Image *img, Err *err);

/* Whether path opens as a regular file that starts as a PNG or JPEG does:
 * what can be known of a list of images before decoding any (CLRUN_EINPUT
 * naming path when not). */
int image_probe(const char *path, Err *err);

void image_free(Image *img);

#endif
