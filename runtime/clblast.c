/* clblast.c: CLBlast through dlopen (see clblast.h). The few declarations
 * clrun needs are its own, so neither the header nor the library is needed
 * to build. */
#include "clblast.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* CLBlast's enum values (clblast_c.h, 1.5). */
enum { LAYOUT_ROW_MAJOR = 101, TRANSPOSE_NO = 111, TRANSPOSE_YES = 112, PRECISION_SINGLE = 32 };

typedef int (*StridedBatchedFn)(int layout, int a_trans, int b_trans, size_t m, size_t n, size_t k,
                                float alpha, cl_mem a, size_t a_off, size_t a_ld, size_t a_stride,
                                cl_mem b, size_t b_off, size_t b_ld, size_t b_stride, float beta,
                                cl_mem c, size_t c_off, size_t c_ld, size_t c_stride,
                                size_t batch, cl_command_queue *queue, cl_event *event);
typedef int (*BatchedFn)(int layout, int a_trans, int b_trans, size_t m, size_t n, size_t k,
                         const float *alphas, cl_mem a, const size_t *a_offs, size_t a_ld,
                         cl_mem b, const size_t *b_offs, size_t b_ld, const float *betas,
                         cl_mem c, const size_t *c_offs, size_t c_ld, size_t batch,
                         cl_command_queue *queue, cl_event *event);
typedef int (*OverrideFn)(cl_device_id device, const char *kernel, int precision, size_t n,
                          const char **names, const size_t *values);

static struct {
    void *lib;
    StridedBatchedFn strided_batched;
    BatchedFn batched;
    OverrideFn override;
    cl_device_id tuned; /* the device the tuning files were applied to */
} clblast;

static int load(Err *err)
{
    if (clblast.lib)
        return CLRUN_OK;
    void *lib = dlopen("libclblast.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return err_set(err, CLRUN_EINPUT, "CLRUN_GEMM=clblast: cannot load CLBlast (%s): install "
                       "it (Debian: apt-get install libclblast1) or use CLRUN_GEMM=own", dlerror());
    clblast.strided_batched = (StridedBatchedFn)dlsym(lib, "CLBlastSgemmStridedBatched");
    clblast.batched = (BatchedFn)dlsym(lib, "CLBlastSgemmBatched");
    clblast.override = (OverrideFn)dlsym(lib, "CLBlastOverrideParameters");
    if (!clblast.strided_batched || !clblast.batched || !clblast.override) {
        dlclose(lib);
        return err_set(err, CLRUN_EINPUT, "CLRUN_GEMM=clblast: libclblast.so.1 lacks "
                       "CLBlastSgemmStridedBatched (CLBlast 1.5 or newer is needed)");
    }
    clblast.lib = lib;
    return CLRUN_OK;
}

/* The value of "key": "value" in text, into out; 0 when absent. */
static int json_string(const char *text, const char *key, char *out, size_t size)
{
    char quoted[64];
    snprintf(quoted, sizeof quoted, "\"%s\"", key);
    const char *at = strstr(text, quoted);
    if (!at || !(at = strchr(at + strlen(quoted), ':')) || !(at = strchr(at, '"')))
        return 0;
    const char *end = strchr(++at, '"');
    if (!end || (size_t)(end - at) >= size)
        return 0;
    snprintf(out, size, "%.*s", (int)(end - at), at);
    return 1;
}

/* One tuner result: its best kernel's "NAME=VALUE ..." parameters, overridden
 * for device. */
static int apply_tuning(cl_device_id device, const char *path, const char *text, Err *err)
{
    char kernel[64], params[2048], precision[16];
    if (!json_string(text, "best_kernel", kernel, sizeof kernel) ||
        !json_string(text, "best_parameters", params, sizeof params) ||
        !json_string(text, "precision", precision, sizeof precision))
        return err_set(err, CLRUN_EINPUT, "%s: not a CLBlast tuner result (no best_kernel, "
                       "best_parameters and precision)", path);
    const char *names[64];
    size_t values[64], n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(params, " ", &save); tok && n < 64; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq)
            continue;
        *eq = 0;
        if (strcmp(tok, "PRECISION") == 0)
            continue; /* a property of the run, not a kernel parameter */
        names[n] = tok;
        values[n++] = strtoul(eq + 1, NULL, 10);
    }
    int status = clblast.override(device, kernel, atoi(precision), n, names, values);
    if (status != 0)
        return err_set(err, CLRUN_EINPUT, "%s: CLBlastOverrideParameters(%s) failed with status "
                       "%d", path, kernel, status);
    return CLRUN_OK;
}

/* $CLRUN_CLBLAST_TUNING's files, for device, once. */
static int apply_tunings(cl_device_id device, Err *err)
{
    const char *list = getenv("CLRUN_CLBLAST_TUNING");
    if (!list || !*list || clblast.tuned == device)
        return CLRUN_OK;
    char *paths = strdup(list), *save = NULL;
    int rc = paths ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (char *path = paths ? strtok_r(paths, ":", &save) : NULL; path && !rc;
         path = strtok_r(NULL, ":", &save)) {
        FILE *f = fopen(path, "r");
        static char text[1 << 20];
        size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
        if (f)
            fclose(f);
        text[n] = 0;
        rc = f ? apply_tuning(device, path, text, err)
               : err_set(err, CLRUN_EINPUT, "%s: cannot read (CLRUN_CLBLAST_TUNING)", path);
    }
    free(paths);
    if (!rc)
        clblast.tuned = device;
    return rc;
}

int clblast_prepare(cl_device_id device, Err *err)
{
    int rc = load(err);
    return rc ? rc : apply_tunings(device, err);
}

/* An operand of `rows` x `cols` elements as CLBlast takes it: transposed or
 * not, and its leading dimension; 0 when neither stride is 1 or the other is
 * too short for a row-major matrix. */
static int operand(int s_row, int s_col, int rows, int cols, int *trans, size_t *ld)
{
    if (s_col == 1 && s_row >= cols) {
        *trans = TRANSPOSE_NO, *ld = (size_t)s_row;
        return 1;
    }
    if (s_row == 1 && s_col >= rows) {
        *trans = TRANSPOSE_YES, *ld = (size_t)s_col;
        return 1;
    }
    return 0;
}

int clblast_fits(const ClblastGemm *g)
{
    int t;
    size_t ld;
    return operand(g->a_sm, g->a_sk, g->M, g->K, &t, &ld) &&
           operand(g->b_sk, g->b_sn, g->K, g->N, &t, &ld) && g->ldc >= g->N;
}

int clblast_gemm(Device *d, const ClblastGemm *g, Err *err)
{
    int rc = clblast.lib ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "internal: CLBlast was not "
                                             "prepared when the device opened");
    int ta = TRANSPOSE_NO, tb = TRANSPOSE_NO;
    size_t lda = 0, ldb = 0;
    if (!rc && !(operand(g->a_sm, g->a_sk, g->M, g->K, &ta, &lda) &&
                 operand(g->b_sk, g->b_sn, g->K, g->N, &tb, &ldb)))
        rc = err_set(err, CLRUN_ERUNTIME, "internal: CLBlast takes no operand with strides "
                     "(%d, %d), (%d, %d)", g->a_sm, g->a_sk, g->b_sk, g->b_sn);
    if (rc)
        return rc;
    /* CLBlast 1.5.3 refuses a zero stride (shared weights, a lone product's
     * C): those go as a batch of offsets */
    int strided = g->a_item && g->b_item && g->c_item;
    const char *call = strided ? "CLBlastSgemmStridedBatched" : "CLBlastSgemmBatched";
    cl_event *ev = dev_profile_event(d, call);
    float beta = g->accumulate ? 1.0f : 0.0f;
    int status;
    if (strided) {
        status = clblast.strided_batched(LAYOUT_ROW_MAJOR, ta, tb, (size_t)g->M, (size_t)g->N,
                                         (size_t)g->K, 1.0f, g->A, g->a_off, lda, g->a_item, g->B,
                                         g->b_off, ldb, g->b_item, beta, g->C, g->c_off,
                                         (size_t)g->ldc, g->c_item, (size_t)g->batch, &d->queue,
                                         ev);
    } else {
        size_t n = (size_t)g->batch, *offs = malloc(3 * n * sizeof *offs);
        float *scales = malloc(2 * n * sizeof *scales);
        if (!offs || !scales) {
            free(offs), free(scales);
            return err_set(err, CLRUN_ERUNTIME, "out of memory");
        }
        for (size_t i = 0; i < n; i++) {
            offs[i] = g->a_off + i * g->a_item, offs[n + i] = g->b_off + i * g->b_item;
            offs[2 * n + i] = g->c_off + i * g->c_item;
            scales[i] = 1.0f, scales[n + i] = beta;
        }
        status = clblast.batched(LAYOUT_ROW_MAJOR, ta, tb, (size_t)g->M, (size_t)g->N,
                                 (size_t)g->K, scales, g->A, offs, lda, g->B, offs + n, ldb,
                                 scales + n, g->C, offs + 2 * n, (size_t)g->ldc, n, &d->queue, ev);
        free(offs), free(scales);
    }
    if (status != 0)
        return err_set(err, CLRUN_ERUNTIME, "%s(%dx%dx%d, batch %d on %s): status %d; try "
                       "CLRUN_GEMM=own", call, g->M, g->N, g->K, g->batch, d->name, status);
    dev_profile_enqueued(d, ev);
    return CLRUN_OK;
}
