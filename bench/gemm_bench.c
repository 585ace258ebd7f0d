/* gemm_bench.c: the speed of clrun's matrix products through the device's
 * kernel plan (launch_gemm, as every dense layer uses it): square products
 * and the three products of the seed models' dense layers at their shapes
 * (make bench's GEMM table, issue 23), and bench/gpu-check's 4096^3.
 *
 *   build/gemm_bench [SIZE] [--device SPEC]   one SIZE^3 product
 *   build/gemm_bench MxNxK [--device SPEC]    one M x N x K product, A and B row-major
 *   build/gemm_bench --table [--device SPEC]  the table below
 * prints the best GFLOP/s of five timed products after one warm-up, over the
 * wall clock and over the process's CPU time times the device's compute units
 * (what the cores do when nothing else runs on them; on a shared machine the
 * wall clock measures the share clrun got). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "graph.h"
#include "layers/layers.h"

/* One product C [M, N] = A B with its operands' layout: A (m, k) at
 * m * a_sm + k * a_sk, B (k, n) at k * b_sk + n * b_sn, as dense.c calls it. */
typedef struct {
    const char *name;
    int M, N, K;
    int a_sm, a_sk, b_sk, b_sn;
} Product;

static Product square(int n)
{
    return (Product){"square", n, n, n, n, 1, n, 1};
}

/* A dense layer's products with batch B, I inputs and U units (dense.c):
 * forward x W^T, the weight gradient dY^T x, the input gradient dY W. */
static Product dense_forward(const char *name, int B, int I, int U)
{
    return (Product){name, B, U, I, I, 1, 1, I};
}
static Product dense_weight_grad(const char *name, int B, int I, int U)
{
    return (Product){name, U, I, B, 1, U, I, 1};
}
static Product dense_input_grad(const char *name, int B, int I, int U)
{
    return (Product){name, B, I, U, U, 1, I, 1};
}

/* The seed models' dense layers (bench/workload.py's batches). */
static const struct {
    const char *name;
    int batch, in, units;
} dense_layers[] = {
    {"mlp dense_1", 64, 784, 256},
    {"keras-cnn dense_1", 64, 9216, 128},
    {"keras-cifar10 dense_1", 32, 1152, 512},
    {"resnet18 fc", 128, 512, 10},
};

static int operand(Graph *g, size_t count, cl_mem *m, Err *err)
{
    float *host = malloc(count * sizeof *host);
    if (!host)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (size_t i = 0; i < count; i++)
        host[i] = (float)(i % 17) / 17.0f - 0.5f;
    int rc = graph_buffer(g, count, "operand", m, err);
    if (!rc)
        rc = dev_write(g->dev, *m, 0, count * sizeof *host, host, err);
    free(host);
    return rc;
}

/* Best GFLOP/s of five products after a warm-up: best[0] over the wall
 * clock, best[1] over the process's CPU time spread over the compute units
 * (meaningful on a CPU device only). */
static int bench(Device *d, Product s, double best[2], Err *err)
{
    Graph g;
    memset(&g, 0, sizeof g);
    g.dev = d;
    gemm_reserve(&g, &d->plan, MEM_FORWARD, s.M, s.N, s.K);
    cl_mem m[3];
    int rc = gemm_prepare(&g, err);
    if (!rc && g.scratch_floats[SCRATCH_GEMM_P])
        rc = graph_buffer(&g, g.scratch_floats[SCRATCH_GEMM_P], "partial products",
                          &g.scratch[SCRATCH_GEMM_P], err);
    if (!rc) rc = operand(&g, (size_t)s.M * s.K, &m[0], err);
    if (!rc) rc = operand(&g, (size_t)s.K * s.N, &m[1], err);
    if (!rc) rc = operand(&g, (size_t)s.M * s.N, &m[2], err);
    double flop = 2.0 * s.M * s.N * (double)s.K;
    cl_uint units = 1;
    clGetDeviceInfo(d->id, CL_DEVICE_MAX_COMPUTE_UNITS, sizeof units, &units, NULL);
    best[0] = best[1] = 0;
    for (int i = 0; i < 6 && !rc; i++) {
        double wall = clock_seconds(), cpu = clock_seconds_on(CLOCK_PROCESS_CPUTIME_ID);
        rc = launch_gemm(&g, s.M, s.N, s.K, m[0], s.a_sm, s.a_sk, m[1], s.b_sk, s.b_sn, m[2],
                         s.N, 0, err);
        if (!rc) rc = dev_finish(d, err);
        wall = clock_seconds() - wall, cpu = clock_seconds_on(CLOCK_PROCESS_CPUTIME_ID) - cpu;
        if (i == 0) /* the first compiles and warms up */
            continue;
        best[0] = flop / wall / 1e9 > best[0] ? flop / wall / 1e9 : best[0];
        cpu = cpu > 1e-9 ? cpu : 1e-9;
        best[1] = flop * units / cpu / 1e9 > best[1] ? flop * units / cpu / 1e9 : best[1];
    }
    graph_free(&g);
    return rc;
}

static int row(Device *d, Product s, Err *err)
{
    double best[2];
    int rc = bench(d, s, best, err);
    if (!rc)
        printf("%-24s %5d %5d %5d  %s  %8.1f %8.1f\n", s.name, s.M, s.N, s.K,
               s.b_sn != 1 ? "nt" : s.a_sk != 1 ? "tn" : "nn", best[0], best[1]);
    return rc;
}

static int table(Device *d, Err *err)
{
    printf("%-24s %5s %5s %5s  %s  %8s %8s\n", "product", "M", "N", "K", "ab", "wall", "cpu");
    int sizes[] = {1024, 2048, 4096}, rc = CLRUN_OK;
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0] && !rc; i++)
        rc = row(d, square(sizes[i]), err);
    for (size_t i = 0; i < sizeof dense_layers / sizeof dense_layers[0] && !rc; i++) {
        int b = dense_layers[i].batch, in = dense_layers[i].in, u = dense_layers[i].units;
        const char *n = dense_layers[i].name;
        rc = row(d, dense_forward(n, b, in, u), err);
        if (!rc) rc = row(d, dense_weight_grad(n, b, in, u), err);
        if (!rc) rc = row(d, dense_input_grad(n, b, in, u), err);
    }
    return rc;
}

int main(int argc, char **argv)
{
    int n = 4096, all = 0, mnk[3] = {0, 0, 0};
    const char *spec = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
            spec = argv[++i];
        else if (strcmp(argv[i], "--table") == 0)
            all = 1;
        else if (sscanf(argv[i], "%dx%dx%d", &mnk[0], &mnk[1], &mnk[2]) == 3 && mnk[0] > 0 &&
                 mnk[1] > 0 && mnk[2] > 0)
            n = 0;
        else if ((n = atoi(argv[i])) < 1 || n > 16384) {
            fprintf(stderr, "usage: gemm_bench [SIZE 1-16384 | MxNxK | --table] [--device SPEC]\n");
            return 2;
        }
    }
    Device d;
    Err err = {""};
    int rc = dev_open(&d, spec, &err);
    if (!rc) rc = dev_build(&d, &err);
    if (!rc)
        printf("gemm on %s (%s plan, %s GEMM): GFLOP/s, best of 5 over the wall clock and over "
               "the CPU time\n", d.name, plan_name(&d.plan), plan_gemm_name(&d.plan));
    Product one = n ? square(n) : (Product){"product", mnk[0], mnk[1], mnk[2], mnk[2], 1, mnk[1], 1};
    if (!rc) rc = all ? table(&d, &err) : row(&d, one, &err);
    if (rc)
        fprintf(stderr, "gemm_bench: %s\n", err.msg);
    dev_close(&d);
    return rc;
}
