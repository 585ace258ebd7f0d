/* fuzz.c: in-memory files for the fuzz targets (see fuzz.h). */
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static int fds[FUZZ_SLOTS] = {-1, -1};
static char paths[FUZZ_SLOTS][32];

const char *fuzz_file(int slot, const uint8_t *data, size_t size)
{
    if (fds[slot] < 0) {
        fds[slot] = memfd_create("clrun-fuzz", 0);
        if (fds[slot] < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(paths[slot], sizeof paths[slot], "/proc/self/fd/%d", fds[slot]);
    }
    if (ftruncate(fds[slot], 0) != 0 || pwrite(fds[slot], data, size, 0) != (ssize_t)size) {
        perror("fuzz_file");
        abort();
    }
    return paths[slot];
}
