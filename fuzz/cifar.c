/* cifar.c: libFuzzer target for the CIFAR-10 batch reader (cifar_load_files).
 * The input is read as two batch files in a row (the same bytes twice), so
 * appending to a set already holding images is covered too. */
#include <stdlib.h>

#include "data/dataset.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_file(0, data, size);
    const char *files[] = {path, path};
    Dataset ds;
    Err err;
    int rc = cifar_load_files(&ds, files, 2, &err);
    if (rc != CLRUN_OK && (ds.pixels || ds.labels || ds.n))
        abort();
    for (int i = 0; i < ds.n; i++)
        if (ds.labels[i] >= ds.classes)
            abort();
    dataset_free(&ds);
    return 0;
}
