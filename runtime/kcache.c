/* kcache.c: the program binary cache (see kcache.h). */
#include "kcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "io/file.h"

#define KCACHE_MAGIC "CLRUNKC1"
#define KCACHE_HEADER 20 /* magic, 8-byte length, 4-byte CRC-32 */
#define KCACHE_MAX_BYTES ((size_t)1 << 30) /* no program binary is bigger */

static uint64_t fnv1a(uint64_t h, const char *s)
{
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull; /* separator, so "ab"+"c" != "a"+"bc" */
}

void kcache_path(const char *const *key_parts, const char *src, const char *ext, char *out,
                 size_t size)
{
    const char *base = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char dir[3072];
    if (base && *base)
        snprintf(dir, sizeof dir, "%s/clrun", base);
    else
        snprintf(dir, sizeof dir, "%s/.cache/clrun", home && *home ? home : "/tmp");
    uint64_t h = fnv1a(14695981039346656037ull, KCACHE_MAGIC); /* never an older format's name */
    for (; *key_parts; key_parts++)
        h = fnv1a(h, *key_parts);
    h = fnv1a(h, src);
    snprintf(out, size, "%s/%016llx.%s", dir, (unsigned long long)h, ext);
}

static uint32_t crc_of(const unsigned char *bin, size_t size)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t done = 0; done < size;) { /* crc32 takes at most a uInt at a time */
        uInt n = size - done > (1u << 30) ? 1u << 30 : (uInt)(size - done);
        crc = crc32(crc, bin + done, n);
        done += n;
    }
    return (uint32_t)crc;
}

/* The entry's bytes, or NULL when it cannot be read at all. */
static unsigned char *read_entry(const char *path, size_t *len)
{
    Err ignored;
    FILE *f = file_open(path, &ignored);
    struct stat st;
    unsigned char *buf = NULL;
    if (f && fstat(fileno(f), &st) == 0 && st.st_size > 0 &&
        (size_t)st.st_size <= KCACHE_MAX_BYTES + KCACHE_HEADER &&
        (buf = malloc((size_t)st.st_size)) &&
        fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        free(buf);
        buf = NULL;
    }
    if (buf)
        *len = (size_t)st.st_size;
    if (f)
        fclose(f);
    return buf;
}

unsigned char *kcache_read(const char *path, size_t *size)
{
    if (access(path, F_OK) != 0)
        return NULL;
    size_t len = 0;
    unsigned char *buf = read_entry(path, &len);
    int ok = buf && len >= KCACHE_HEADER && memcmp(buf, KCACHE_MAGIC, 8) == 0 &&
             file_le(buf + 8, 8) == len - KCACHE_HEADER &&
             file_le(buf + 16, 4) == crc_of(buf + KCACHE_HEADER, len - KCACHE_HEADER);
    if (!ok) {
        fprintf(stderr, "clrun: the kernel cache entry %s is damaged (cut short or changed); "
                "removed, the kernels are built again\n", path);
        unlink(path);
        free(buf);
        return NULL;
    }
    *size = len - KCACHE_HEADER;
    memmove(buf, buf + KCACHE_HEADER, *size);
    return buf;
}

typedef struct {
    const unsigned char *bin;
    size_t size;
} Entry;

static void write_entry(FILE *f, const void *ctx)
{
    const Entry *e = ctx;
    unsigned char head[KCACHE_HEADER];
    memcpy(head, KCACHE_MAGIC, 8);
    file_put_le(head + 8, e->size, 8);
    file_put_le(head + 16, crc_of(e->bin, e->size), 4);
    fwrite(head, 1, sizeof head, f);
    fwrite(e->bin, 1, e->size, f);
}

static void mkdir_parents(const char *path)
{
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0755);
            *p = '/';
        }
}

void kcache_write(const char *path, const unsigned char *bin, size_t size)
{
    Entry e = {bin, size};
    Err ignored;
    mkdir_parents(path);
    file_write_atomic_shared(path, write_entry, &e, &ignored);
}
