/* safetensors.h: reading and writing Hugging Face safetensors files.
 *
 * The format: an 8-byte little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 *  "__metadata__": {"key": "value"}}, then the tensor bytes, offsets counted
 * from the end of the header. clrun keeps its weights in it so that PyTorch
 * and others can read them, and reads theirs. */
#ifndef CLRUN_SAFETENSORS_H
#define CLRUN_SAFETENSORS_H

#include <stddef.h>

#include "err.h"

#define ST_MAX_DIMS 8

typedef struct {
    char name[128];
    int ndim;
    long shape[ST_MAX_DIMS];
    size_t count; /* product of shape (1 for a scalar, ndim 0) */
    float *data;  /* values converted to float */
} StTensor;

#define ST_MAX_META 32

/* A metadata pair short enough to keep (longer ones are checked, not kept). */
typedef struct {
    char key[64], value[256];
} StMeta;

typedef struct {
    int n;
    StTensor *t;
    int n_meta;
    StMeta meta[ST_MAX_META]; /* the first ST_MAX_META pairs that fit */
} StFile;

/* Writes the tensors as F32 in the given order, and n_meta metadata pairs
 * (meta_kv holds key, value, key, value, ...; may be NULL when n_meta is 0),
 * to path atomically: path.tmp is written, synced, then renamed over path. */
int st_write(const char *path, const StTensor *tensors, int n, const char *const *meta_kv,
             int n_meta, Err *err);

/* Reads every tensor, in the order of their data in the file, converting
 * F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL to float. Metadata
 * values must be strings; the pairs that fit StMeta are kept. On failure f is left empty (st_free is still safe). */
int st_read(const char *path, StFile *f, Err *err);

/* The metadata value of key, or NULL. */
const char *st_meta(const StFile *f, const char *key);

/* The tensor called name, or NULL. */
const StTensor *st_find(const StFile *f, const char *name);

void st_free(StFile *f);

#endif
