/* kcache.h: the on-disk cache of built OpenCL program binaries
 * ($XDG_CACHE_HOME/clrun/<key>.bin, keyed by device, driver, build options
 * and source). An entry is a header (magic, length, CRC-32) and the binary;
 * it is written through a temporary file, synced and renamed, and checked
 * before the binary reaches OpenCL, because a driver handed a damaged binary
 * may crash rather than fail. A damaged entry is removed (and so rebuilt),
 * saying so. */
#ifndef CLRUN_KCACHE_H
#define CLRUN_KCACHE_H

#include <stddef.h>
#include <stdint.h>

/* The entry's path for a program of source src built for what key_parts
 * (NULL-terminated) name; ext names the kind of entry ("bin": a program
 * binary, "plan": a device's plan calibration). */
void kcache_path(const char *const *key_parts, const char *src, const char *ext, char *out,
                 size_t size);

/* The checked binary of the entry at path (caller frees), or NULL when there
 * is none; a damaged one is removed, with a line on stderr. */
unsigned char *kcache_read(const char *path, size_t *size);

/* Stores the binary at path. An optimisation: a failure only costs the next
 * start a build, so it is not reported. */
void kcache_write(const char *path, const unsigned char *bin, size_t size);

#endif
