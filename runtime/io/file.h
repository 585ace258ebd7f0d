/* file.h: what the file formats (safetensors, npy) share: little-endian
 * bytes whatever the host's order, files written whole or not at all, and
 * the record of every file read, which outputs are checked against. */
#ifndef CLRUN_IO_FILE_H
#define CLRUN_IO_FILE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

/* The unsigned little-endian integer of `bytes` bytes at p, and its inverse. */
uint64_t file_le(const unsigned char *p, int bytes);
void file_put_le(unsigned char *p, uint64_t v, int bytes);

/* Writes count 4-byte values (floats or int32s) little-endian. */
void file_put_u32s(FILE *fp, const void *data, size_t count);

/* Opens a file the user named, for reading, as a regular file: opened
 * without blocking (a FIFO with no writer would hang open() forever), checked
 * with fstat, then set back to blocking reads. Anything else (a FIFO, a
 * device, a directory) is CLRUN_EINPUT naming the path, as is a file that
 * cannot be opened ("PATH: cannot open: No such file or directory").
 * file_open_fd returns the descriptor, or -1 with err set. */
int file_open_fd(const char *path, Err *err);
FILE *file_open(const char *path, Err *err);

/* Every file file_open_fd opened is recorded, once, as an input of this
 * process: outputs.h checks what a command is about to write against them,
 * so that no reader of a new kind of input can be forgotten. */
typedef struct {
    unsigned long long dev, ino;
    char *path;      /* as it was named */
} FileInput;
/* file_open for a run's own state read back (its SUCCESS): not recorded as
 * an input, since the run's directory, where it lies, is the run's to write. */
FILE *file_open_state(const char *path, Err *err);
/* The inputs recorded so far (n of them); valid until the next file_open. */
const FileInput *file_inputs(int *n);

/* Writes path through path.tmp: write(fp, ctx) fills it, then it is flushed,
 * synced and renamed over path, and the directory is flushed; on any failure
 * path.tmp is removed and path is left as it was. */
int file_write_atomic(const char *path, void (*write)(FILE *fp, const void *ctx), const void *ctx,
                      Err *err);
/* The same through path.<pid>.tmp, for a file several processes may write
 * at once (a cache entry): each writes its own temporary file, and one
 * whole file wins the rename. */
int file_write_atomic_shared(const char *path, void (*write)(FILE *fp, const void *ctx),
                             const void *ctx, Err *err);

/* The same for a file written piece by piece (features, batch after batch):
 * file_atomic_open creates path.tmp for a->fp; file_atomic_commit flushes,
 * syncs and renames it over path and flushes the directory; file_atomic_abort
 * removes it (path left as it was). Each frees what open made; both are safe
 * on an `a` never opened or already finished. */
typedef struct {
    FILE *fp;
    char *path, *tmp;
} FileAtomic;
int file_atomic_open(FileAtomic *a, const char *path, Err *err);
int file_atomic_commit(FileAtomic *a, Err *err);
void file_atomic_abort(FileAtomic *a);

#endif
