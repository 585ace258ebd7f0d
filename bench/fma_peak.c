/* fma_peak.c: the cores' FP32 fused multiply-add peak, the yardstick make bench
 * measures every GFLOP/s against (issue 23).
 *
 *   build/fma_peak [SECONDS]   (0.1: each thread's run in each repetition)
 * prints the ISA, threads and chains, the GFLOP/s over the threads' CPU time
 * and over the wall clock, best of ten repetitions, then the first alone on
 * its last line.
 *
 * Each online CPU runs a thread of independent multiply-add chains on the
 * widest vector ISA the CPU and the OS offer (AVX-512F, AVX2 with FMA, else
 * the compiler's own vectors), asked at run time, so one binary measures any
 * x86-64 machine. Twelve chains: an FMA's latency (4 cycles on Zen and
 * recent Intel cores) times the two FMA pipes is eight in flight; twelve
 * leave room, and with two constants they fit AVX2's 16 registers. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "clock.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define X86 1
#endif

enum { CHAINS = 12, REPEATS = 10 };

/* CHAINS accumulators, each acc = acc * m + c per step: a dependence chain per
 * accumulator and none between them. The constants keep the values finite
 * (m < 1), and the sum is returned so that no chain is dead code. */
#define CHAIN_BODY(VEC, SET1, FMA, ADD, LANES)                                   \
    VEC m = SET1(0.999f), c = SET1(0.001f);                                      \
    VEC a[CHAINS];                                                               \
    for (int j = 0; j < CHAINS; j++)                                             \
        a[j] = SET1((float)j);                                                   \
    for (long i = 0; i < steps; i++) {                                           \
        _Pragma("GCC unroll 12")                                                 \
        for (int j = 0; j < CHAINS; j++)                                         \
            a[j] = FMA(a[j], m, c);                                              \
    }                                                                            \
    VEC s = a[0];                                                                \
    for (int j = 1; j < CHAINS; j++)                                             \
        s = ADD(s, a[j]);                                                        \
    float out[LANES];                                                            \
    __builtin_memcpy(out, &s, sizeof out);                                       \
    return out[0];

#ifdef X86
__attribute__((target("avx512f"))) static float chains_avx512(long steps)
{
    CHAIN_BODY(__m512, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_add_ps, 16)
}

__attribute__((target("avx2,fma"))) static float chains_avx2(long steps)
{
    CHAIN_BODY(__m256, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_add_ps, 8)
}
#endif

/* Without a known ISA: the compiler's vectors, multiply and add (which
 * -ffp-contract may fuse); counted as two FLOPs a lane all the same. */
typedef float Vec4 __attribute__((vector_size(16)));
static Vec4 set1_4(float x) { return (Vec4){x, x, x, x}; }
static Vec4 fma_4(Vec4 a, Vec4 m, Vec4 c) { return a * m + c; }
static Vec4 add_4(Vec4 a, Vec4 b) { return a + b; }
static float chains_generic(long steps)
{
    CHAIN_BODY(Vec4, set1_4, fma_4, add_4, 4)
}

typedef struct {
    const char *name;
    int lanes;
    float (*run)(long steps);
} Isa;

/* The widest ISA this CPU and OS run (GCC's check reads CPUID and XCR0). */
static Isa widest(void)
{
#ifdef X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        return (Isa){"AVX-512F", 16, chains_avx512};
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return (Isa){"AVX2+FMA", 8, chains_avx2};
#endif
    return (Isa){"generic 128-bit vectors", 4, chains_generic};
}

typedef struct {
    Isa isa;
    long steps;
    pthread_barrier_t *start;
    double began, ended; /* read by each thread itself: the main thread may wake late */
    double cpu;          /* the thread's own CPU seconds: its rate while it ran */
    volatile float sink;
} Job;

static void *worker(void *arg)
{
    Job *j = arg;
    pthread_barrier_wait(j->start);
    j->began = clock_seconds();
    double cpu = clock_seconds_on(CLOCK_THREAD_CPUTIME_ID);
    j->sink = j->isa.run(j->steps);
    j->cpu = clock_seconds_on(CLOCK_THREAD_CPUTIME_ID) - cpu;
    j->ended = clock_seconds();
    return NULL;
}

/* Seconds for `threads` threads to run `steps` steps each, started together:
 * from the first start to the last end; *cpu_rate: the sum of the threads'
 * steps a CPU second, what all cores do when nothing else runs on them. */
static double timed(Isa isa, int threads, long steps, double *cpu_rate)
{
    pthread_t t[threads];
    Job jobs[threads];
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, (unsigned)threads + 1);
    for (int i = 0; i < threads; i++) {
        jobs[i] = (Job){isa, steps, &start, 0, 0, 0, 0.0f};
        pthread_create(&t[i], NULL, worker, &jobs[i]);
    }
    pthread_barrier_wait(&start);
    double began = 0, ended = 0;
    *cpu_rate = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        *cpu_rate += (double)steps / (jobs[i].cpu > 1e-9 ? jobs[i].cpu : 1e-9);
        began = i == 0 || jobs[i].began < began ? jobs[i].began : began;
        ended = jobs[i].ended > ended ? jobs[i].ended : ended;
    }
    pthread_barrier_destroy(&start);
    return ended - began;
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 0.1;
    if (seconds <= 0 || seconds > 60) {
        fprintf(stderr, "usage: fma_peak [SECONDS 0-60]\n");
        return 2;
    }
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = cpus > 0 && cpus < 1024 ? (int)cpus : 1;
    Isa isa = widest();
    /* size the run from a short one on one thread, by its CPU time */
    double rate;
    timed(isa, 1, 1 << 20, &rate);
    long steps = (long)(rate * seconds);
    steps = steps < 1000 ? 1000 : steps;
    double flops_a_step = 2.0 * isa.lanes * CHAINS, wall = 0, cpu = 0;
    for (int r = 0; r < REPEATS; r++) {
        double g = flops_a_step * (double)steps * threads / timed(isa, threads, steps, &rate);
        wall = g > wall ? g : wall;
        cpu = flops_a_step * rate > cpu ? flops_a_step * rate : cpu;
    }
    /* the CPU-time rate is the yardstick: on a shared machine the wall clock
     * measures the share the threads got, not what the cores can do */
    printf("fma_peak: %s, %d threads x %d chains of %d floats: %.1f GFLOP/s (%.1f a core) "
           "over the threads' CPU time, %.1f over the wall clock; best of %d\n%.1f\n",
           isa.name, threads, CHAINS, isa.lanes, cpu / 1e9, cpu / 1e9 / threads, wall / 1e9,
           REPEATS, cpu / 1e9);
    return 0;
}
