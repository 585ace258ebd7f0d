/* npy.h: NumPy's .npy format, for handing arrays (features, labels, RDMs) to
 * and from Python.
 *
 * A file is the magic "\x93NUMPY", a version (major, minor), a little-endian
 * header length (2 bytes in version 1.0, 4 in 2.0 and 3.0), then a Python
 * dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * padded with spaces and ending in '\n', then the raw elements. clrun writes
 * version 1.0 in C order with the header padded to a multiple of 64 bytes, as
 * NumPy does. */
#ifndef CLRUN_NPY_H
#define CLRUN_NPY_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "err.h"

#define NPY_MAX_DIMS 8

typedef struct {
    int ndim;                 /* 0 (a scalar) to NPY_MAX_DIMS */
    long shape[NPY_MAX_DIMS];
    size_t count;             /* product of shape (1 for a scalar) */
    double *data;             /* count values in C order; owned, freed by npy_free */
} NpyArray;

/* Write count = prod(shape) values as '<f4' or '<i4' in C order to path
 * atomically (path.tmp is written, synced, then renamed over path). ndim is 0
 * to NPY_MAX_DIMS; data may be NULL only when the count is 0. */
int npy_write_f32(const char *path, const float *data, int ndim, const long *shape, Err *err);
int npy_write_i32(const char *path, const int32_t *data, int ndim, const long *shape, Err *err);

/* A '<f4' array written piece by piece into an open file (a FileAtomic's,
 * io/file.h): the header of shape first, then the count values follow in C
 * order through file_put_u32s. path names it in messages. */
int npy_begin_f32(FILE *fp, const char *path, int ndim, const long *shape, Err *err);

/* n class labels as a 1-d '<i8' array: int64, the dtype PyTorch's losses and
 * torch.from_numpy want for targets. */
int npy_write_labels(const char *path, const int32_t *labels, long n, Err *err);

/* Reads a C-order '<f4', '<f8', '<i4', '<i8' or '|u1' array into doubles
 * ('<i8' values beyond 2^53 round). Anything else (Fortran order, big-endian
 * or other dtypes, bad magic or header, missing or extra data bytes) is
 * CLRUN_EINPUT naming the file. On failure out is left empty; npy_free is
 * safe either way. */
int npy_read(const char *path, NpyArray *out, Err *err);

/* Frees out->data and empties out. */
void npy_free(NpyArray *out);

/* npy_read for data the user gives (targets, RDMs): a NaN or infinity is
 * CLRUN_EINPUT naming the file and the row, never a number that quietly
 * turns every correlation into 0. */
int npy_read_finite(const char *path, NpyArray *out, Err *err);

#endif
