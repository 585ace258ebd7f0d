/* npy.c: libFuzzer target for the .npy reader (npy_read): any bytes must
 * load or fail with CLRUN_EINPUT (or CLRUN_ERUNTIME for memory), never crash,
 * leak or leave data behind on failure. */
#include <stdlib.h>

#include "fuzz.h"
#include "io/npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    NpyArray a;
    Err err;
    int rc = npy_read(fuzz_file(0, data, size), &a, &err);
    if (rc != CLRUN_OK && (a.data || a.ndim || a.count))
        abort();
    if (rc == CLRUN_OK && a.count > 0)
        (void)(volatile double){a.data[a.count - 1]};
    npy_free(&a);
    return 0;
}
