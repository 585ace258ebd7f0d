/* readout_bench.c: the readout step at the CS375 course's scale (issue 21:
 * at most 60 s here), on synthetic data of that size, without the network:
 * 5,760 images, 6 layers of 1,250 sampled units, 200 target neurons, PLS
 * with 25 components over 5 splits (readout.h's readout_score, what the
 * readout analysis runs once it has a layer's features).
 *
 *   build/readout_bench [IMAGES [UNITS [NEURONS [LAYERS]]]]
 *
 * Each layer's features are a random mix of 40 latent factors plus noise,
 * and the neurons a random linear map of 10 of them plus noise, so that the
 * fits have structure to find (the scores are printed as a sanity check).
 * Prints a line per layer as it finishes, with its time, then the total. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/readout.h"
#include "clock.h"
#include "rng.h"

enum { FACTORS = 40, SHARED = 10 };

/* A standard normal draw (Box-Muller; one of the pair is enough here). */
static double normal(uint64_t *rng)
{
    double u = rng_uniform(rng), v = rng_uniform(rng);
    return sqrt(-2 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

/* out = Z M + noise * N(0, 1): n x cols from the first k of the FACTORS columns of Z. */
static void mix(const double *Z, int n, int k, int cols, double noise, uint64_t *rng, double *out)
{
    double *M = malloc((size_t)k * cols * sizeof *M);
    for (size_t i = 0; i < (size_t)k * cols; i++)
        M[i] = normal(rng);
    for (int i = 0; i < n; i++)
        for (int c = 0; c < cols; c++) {
            double s = noise * normal(rng);
            for (int f = 0; f < k; f++)
                s += Z[(size_t)i * FACTORS + f] * M[(size_t)f * cols + c];
            out[(size_t)i * cols + c] = s;
        }
    free(M);
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 5760, p = argc > 2 ? atoi(argv[2]) : 1250;
    int q = argc > 3 ? atoi(argv[3]) : 200, layers = argc > 4 ? atoi(argv[4]) : 6;
    if (n < 8 || p < 1 || q < 1 || layers < 1) {
        fprintf(stderr, "usage: readout_bench [IMAGES [UNITS [NEURONS [LAYERS]]]]\n");
        return 2;
    }
    uint64_t rng = 375;
    double *Z = malloc((size_t)n * FACTORS * sizeof *Z), *X = malloc((size_t)n * p * sizeof *X);
    double *Y = malloc((size_t)n * q * sizeof *Y), scores[5];
    for (size_t i = 0; i < (size_t)n * FACTORS; i++)
        Z[i] = normal(&rng);
    mix(Z, n, SHARED, q, 3.0, &rng, Y); /* the neurons read the first SHARED factors */
    ReadoutFit o = {.splits = 5, .seed = 1, .components = 25, .train_fraction = 0.8, .pls = 1};
    printf("Readout: %d images, %d layers of %d units, %d neurons, PLS with %ld components, "
           "%ld splits\n", n, layers, p, q, o.components, o.splits);
    double start = clock_seconds(), total = 0;
    for (int l = 0; l < layers; l++) {
        mix(Z, n, FACTORS, p, 1.0 + l, &rng, X); /* the layers noisier and noisier */
        double t = clock_seconds();
        size_t undefined;
        Err err = {""};
        if (readout_score(&o, X, n, p, Y, q, scores, &undefined, &err) != CLRUN_OK) {
            fprintf(stderr, "readout_bench: %s\n", err.msg);
            return 1;
        }
        total += clock_seconds() - t;
        double m = 0;
        for (int s = 0; s < o.splits; s++)
            m += scores[s] / (double)o.splits;
        printf("layer %d of %d: median r %.3f, %.1f s\n", l + 1, layers, m, clock_seconds() - t);
        fflush(stdout);
    }
    printf("Readout step: %.1f s fitting and scoring (%.1f s with making the data)\n", total,
           clock_seconds() - start);
    free(Z), free(X), free(Y);
    return 0;
}
