/* safetensors.c: libFuzzer target for the safetensors reader (st_read): any
 * bytes must load or fail with an error, never crash or leak; a file that
 * loads must have consistent tensors, findable by name. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "io/safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    StFile f;
    Err err;
    int rc = st_read(fuzz_file(0, data, size), &f, &err);
    if (rc != CLRUN_OK && (f.t || f.n || f.n_meta))
        abort();
    for (int i = 0; i < f.n; i++) {
        const StTensor *t = &f.t[i];
        if (st_find(&f, t->name) != t || (t->count && !t->data))
            abort();
        if (t->count)
            (void)(volatile float){t->data[t->count - 1]};
    }
    for (int i = 0; i < f.n_meta; i++)
        if (!st_meta(&f, f.meta[i].key))
            abort();
    st_free(&f);
    return 0;
}
