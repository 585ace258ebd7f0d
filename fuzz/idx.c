/* idx.c: libFuzzer target for the IDX reader (idx_load), gzipped or plain.
 *
 * idx_load reads an image file and a label file, so one input holds both:
 * a 4-byte big-endian length L, then L bytes of the image file, then the
 * label file (L is cut to what is there). */
#include <stdlib.h>

#include "data/dataset.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 4)
        return 0;
    size_t len = (size_t)data[0] << 24 | (size_t)data[1] << 16 | (size_t)data[2] << 8 | data[3];
    data += 4;
    size -= 4;
    if (len > size)
        len = size;
    const char *images = fuzz_file(0, data, len);
    const char *labels = fuzz_file(1, data + len, size - len);
    Dataset ds;
    Err err;
    int rc = idx_load(&ds, images, labels, &err);
    if (rc != CLRUN_OK && (ds.pixels || ds.labels || ds.n))
        abort();
    for (int i = 0; i < ds.n; i++)
        if (ds.labels[i] >= ds.classes)
            abort();
    dataset_free(&ds);
    return 0;
}
