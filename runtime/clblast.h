/* clblast.h: CLBlast as the gpu plan's optional GEMM backend
 * (CLRUN_GEMM=clblast), loaded with dlopen, so clrun needs it neither to
 * build nor to run. Batches of equal products go to SgemmStridedBatched, or,
 * where an operand is shared (a zero stride, which CLBlast 1.5.3 refuses
 * there), to SgemmBatched; summing them stays clrun's own fixed-order sum,
 * so runs stay deterministic.
 *
 * $CLRUN_CLBLAST_TUNING names tuning results (the JSON files CLBlast's
 * tuners write, clblast_xgemm_*.json and others, separated by ':'), applied
 * with CLBlastOverrideParameters before the first product: CLBlast 1.5.3
 * has no tuning for many current GPUs. */
#ifndef CLRUN_CLBLAST_H
#define CLRUN_CLBLAST_H

#include <stddef.h>

#include "device.h"

/* C_i (+)= A_i B_i for i < batch, A_i(m, k) = A[a_off + i * a_item + m * a_sm +
 * k * a_sk], B_i(k, n) = B[b_off + i * b_item + k * b_sk + n * b_sn], C_i rows
 * ldc apart from C + c_off + i * c_item (all in floats). */
typedef struct {
    int M, N, K, batch;
    cl_mem A;
    int a_sm, a_sk;
    size_t a_off, a_item;
    cl_mem B;
    int b_sk, b_sn;
    size_t b_off, b_item;
    cl_mem C;
    int ldc;
    size_t c_off, c_item;
    int accumulate;
} ClblastGemm;

/* Whether each operand is a row-major matrix, transposed or not, as CLBlast
 * takes them (one of its strides 1). */
int clblast_fits(const ClblastGemm *g);

/* Loads CLBlast and applies $CLRUN_CLBLAST_TUNING's files for device (once
 * a process): gemm_prepare does, when a graph is set up under
 * CLRUN_GEMM=clblast, so a missing library or a bad tuning file stops a run
 * before it starts (CLRUN_EINPUT). */
int clblast_prepare(cl_device_id device, Err *err);

/* Enqueues the batch on d's queue; a failure names CLBlast's call and status. */
int clblast_gemm(Device *d, const ClblastGemm *g, Err *err);

#endif
