/* gemm_bench.c: the speed of one M x N x K product through the device's
 * kernel plan (launch_gemm, as every dense and convolution layer uses it),
 * for bench/gpu-check's "a 4096^3 product at 50% of the FP32 peak".
 *
 *   build/gemm_bench [SIZE] [--device SPEC]   (SIZE 4096: a 4096^3 product)
 * prints the best GFLOP/s of five timed products after one warm-up. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph.h"
#include "layers/layers.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Buffers for C = A B with A [n, n] and B [n, n], filled with small values. */
static int operands(Graph *g, int n, cl_mem m[3], Err *err)
{
    size_t count = (size_t)n * n;
    float *host = malloc(count * sizeof *host);
    if (!host)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (size_t i = 0; i < count; i++)
        host[i] = (float)(i % 17) / 17.0f - 0.5f;
    int rc = CLRUN_OK;
    for (int i = 0; i < 3 && !rc; i++)
        if (!(rc = graph_buffer(g, count, "operand", &m[i], err)))
            rc = dev_write(g->dev, m[i], 0, count * sizeof *host, host, err);
    free(host);
    return rc;
}

static int bench(Device *d, int n, Err *err)
{
    Graph g;
    memset(&g, 0, sizeof g);
    g.dev = d;
    gemm_reserve(&g, n, n, n);
    cl_mem m[3];
    int rc = gemm_prepare(&g, err);
    if (!rc)
        rc = graph_buffer(&g, g.scratch_floats[SCRATCH_GEMM_P], "partial products",
                          &g.scratch[SCRATCH_GEMM_P], err);
    if (!rc) rc = operands(&g, n, m, err);
    double best = 0;
    for (int i = 0; i < 6 && !rc; i++) {
        double started = now();
        rc = launch_gemm(&g, n, n, n, m[0], n, 1, m[1], n, 1, m[2], n, 0, err);
        if (!rc) rc = dev_finish(d, err);
        double gflops = 2.0 * n * n * (double)n / (now() - started) / 1e9;
        if (i > 0 && gflops > best) /* the first compiles and warms up */
            best = gflops;
    }
    if (!rc)
        printf("gemm %dx%dx%d on %s (%s plan, %s GEMM): %.1f GFLOP/s, best of 5\n", n, n, n,
               d->name, plan_name(&d->plan), plan_gemm_name(&d->plan), best);
    graph_free(&g);
    return rc;
}

int main(int argc, char **argv)
{
    int n = 4096;
    const char *spec = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
            spec = argv[++i];
        else if ((n = atoi(argv[i])) < 1 || n > 16384) {
            fprintf(stderr, "usage: gemm_bench [SIZE 1-16384] [--device SPEC]\n");
            return 2;
        }
    }
    Device d;
    Err err = {""};
    int rc = dev_open(&d, spec, &err);
    if (!rc) rc = dev_build(&d, &err);
    if (!rc) rc = bench(&d, n, &err);
    if (rc)
        fprintf(stderr, "gemm_bench: %s\n", err.msg);
    dev_close(&d);
    return rc;
}
