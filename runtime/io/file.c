/* file.c: bytes, atomic writes and the record of inputs shared by the file
 * formats (see file.h). */
#include "io/file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

uint64_t file_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

void file_put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++, v >>= 8)
        p[i] = (unsigned char)v;
}

void file_put_u32s(FILE *fp, const void *data, size_t count)
{
    unsigned char buf[4096];
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        uint32_t u;
        memcpy(&u, (const unsigned char *)data + 4 * i, sizeof u);
        file_put_le(buf + used, u, 4);
        used += 4;
        if (used == sizeof buf || i + 1 == count) {
            fwrite(buf, 1, used, fp);
            used = 0;
        }
    }
}

static FileInput *inputs;
static int n_inputs, cap_inputs;

/* Adds the opened file to the inputs unless it is there; a record lost to a
 * lack of memory only weakens the check, so it is not an error. */
static void record_input(const char *path, const struct stat *st)
{
    for (int i = 0; i < n_inputs; i++)
        if (inputs[i].dev == (unsigned long long)st->st_dev &&
            inputs[i].ino == (unsigned long long)st->st_ino && strcmp(inputs[i].path, path) == 0)
            return;
    if (n_inputs == cap_inputs) {
        int cap = cap_inputs ? 2 * cap_inputs : 64;
        FileInput *grown = realloc(inputs, (size_t)cap * sizeof *grown);
        if (!grown)
            return;
        inputs = grown, cap_inputs = cap;
    }
    char *copy = strdup(path);
    if (copy)
        inputs[n_inputs++] = (FileInput){(unsigned long long)st->st_dev,
                                         (unsigned long long)st->st_ino, copy};
}

const FileInput *file_inputs(int *n)
{
    *n = n_inputs;
    return inputs;
}

static int open_regular(const char *path, int record, Err *err)
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        err_set(err, CLRUN_EINPUT, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    memset(&st, 0, sizeof st);
    int flags = fcntl(fd, F_GETFL);
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || flags < 0 ||
        fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) {
        err_set(err, CLRUN_EINPUT, "%s: not a regular file (a %s); clrun reads only regular files",
                path, S_ISDIR(st.st_mode) ? "directory" : S_ISFIFO(st.st_mode) ? "FIFO"
                                                                : "device or socket");
        close(fd);
        return -1;
    }
    if (record)
        record_input(path, &st);
    return fd;
}

int file_open_fd(const char *path, Err *err)
{
    return open_regular(path, 1, err);
}

static FILE *open_file(const char *path, int record, Err *err)
{
    int fd = open_regular(path, record, err);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
    if (fd >= 0 && !f) {
        err_set(err, CLRUN_ERUNTIME, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
    }
    return f;
}

FILE *file_open(const char *path, Err *err)
{
    return open_file(path, 1, err);
}

FILE *file_open_state(const char *path, Err *err)
{
    return open_file(path, 0, err);
}

/* Flushes the directory holding path, so that a rename into it survives a
 * crash of the machine, not only of the process. */
static int sync_dir_of(const char *path, Err *err)
{
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    const char *dir = dirname(copy);
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    int failed = fd < 0 || fsync(fd) != 0;
    if (fd >= 0)
        close(fd);
    return failed ? err_set(err, CLRUN_ERUNTIME, "%s: cannot flush the directory: %s", dir,
                            strerror(errno))
                  : CLRUN_OK;
}

/* Closes a->fp after flushing and syncing it, renames a->tmp over a->path
 * and flushes the directory; on failure removes a->tmp. */
static int finish_through(FileAtomic *a, Err *err)
{
    int failed = ferror(a->fp) || fflush(a->fp) != 0 || fsync(fileno(a->fp)) != 0, rc;
    if (fclose(a->fp) != 0 || failed)
        rc = err_set(err, CLRUN_ERUNTIME, "%s: write failed: %s", a->tmp, strerror(errno));
    else if (rename(a->tmp, a->path) != 0)
        rc = err_set(err, CLRUN_ERUNTIME, "%s: cannot rename to %s: %s", a->tmp, a->path,
                     strerror(errno));
    else
        rc = sync_dir_of(a->path, err);
    a->fp = NULL;
    if (rc)
        unlink(a->tmp);
    return rc;
}

/* Opens tmp (owned by a from now on) to be renamed over path later. */
static int open_through(FileAtomic *a, const char *path, char *tmp, Err *err)
{
    memset(a, 0, sizeof *a);
    a->tmp = tmp;
    if (!tmp || !(a->path = strdup(path))) {
        free(a->tmp);
        a->tmp = NULL;
        return err_set(err, CLRUN_ERUNTIME, "%s: out of memory", path);
    }
    if (!(a->fp = fopen(tmp, "wb"))) {
        int rc = err_set(err, CLRUN_ERUNTIME, "%s: cannot create: %s", tmp, strerror(errno));
        file_atomic_abort(a);
        return rc;
    }
    return CLRUN_OK;
}

/* Writes path through the temporary file tmp (see file.h). */
static int write_through(const char *path, char *tmp, void (*write)(FILE *fp, const void *ctx),
                         const void *ctx, Err *err)
{
    FileAtomic a;
    int rc = open_through(&a, path, tmp, err);
    if (rc)
        return rc;
    write(a.fp, ctx);
    return file_atomic_commit(&a, err);
}

int file_atomic_open(FileAtomic *a, const char *path, Err *err)
{
    char *tmp = NULL;
    return open_through(a, path, asprintf(&tmp, "%s.tmp", path) < 0 ? NULL : tmp, err);
}

int file_atomic_commit(FileAtomic *a, Err *err)
{
    int rc = a->fp ? finish_through(a, err) : CLRUN_OK;
    free(a->path);
    free(a->tmp);
    memset(a, 0, sizeof *a);
    return rc;
}

void file_atomic_abort(FileAtomic *a)
{
    if (a->fp) {
        fclose(a->fp);
        unlink(a->tmp);
    }
    free(a->path);
    free(a->tmp);
    memset(a, 0, sizeof *a);
}

int file_write_atomic(const char *path, void (*write)(FILE *fp, const void *ctx), const void *ctx,
                      Err *err)
{
    char *tmp = NULL;
    return write_through(path, asprintf(&tmp, "%s.tmp", path) < 0 ? NULL : tmp, write, ctx, err);
}

int file_write_atomic_shared(const char *path, void (*write)(FILE *fp, const void *ctx),
                             const void *ctx, Err *err)
{
    char *tmp = NULL;
    return write_through(path, asprintf(&tmp, "%s.%ld.tmp", path, (long)getpid()) < 0 ? NULL : tmp,
                         write, ctx, err);
}
