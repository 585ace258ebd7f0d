/* fuzz.h: what the libFuzzer targets share.
 *
 * The loaders read files by path, so a target hands them its input as an
 * in-memory file (a memfd, named by its /proc/self/fd path): nothing touches
 * the disk, and every run sees exactly the bytes libFuzzer gave it. */
#ifndef CLRUN_FUZZ_H
#define CLRUN_FUZZ_H

#include <stddef.h>
#include <stdint.h>

enum { FUZZ_SLOTS = 2 }; /* files a target can hold at once */

/* Replaces the contents of in-memory file slot (0 to FUZZ_SLOTS - 1) with
 * size bytes of data and returns its path (static storage). Aborts if the
 * file cannot be made, which is the fuzzer's setup failing, not the loader. */
const char *fuzz_file(int slot, const uint8_t *data, size_t size);

/* The libFuzzer entry point each target defines. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
