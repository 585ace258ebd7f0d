/* feed.c: datasets on the device and batches gathered from them (see feed.h). */
#include "data/feed.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

#define GATHER_RUN 64 /* values a work-item of the cpu plan's gather kernels (cl/data.cl's) */

int feed_upload(FeedData *f, Graph *g, const Dataset *ds, Err *err)
{
    f->ds = ds;
    f->size = ds->c * ds->h * ds->w;
    size_t values = (size_t)ds->n * (size_t)f->size;
    size_t bytes = ds->pixels ? values : values * sizeof(float);
    const void *host = ds->pixels ? (const void *)ds->pixels : (const void *)ds->values;
    /* graph_buffer counts floats: bytes are rounded up to whole floats */
    static const char *const gathers[2][2] = {{"gather_f32_run", "gather_f32"},
                                              {"gather_u8_run", "gather_u8"}};
    int rc = dev_kernel(g->dev, gathers[ds->pixels != NULL][g->dev->plan.gpu], &f->gather, err);
    if (!rc) rc = graph_buffer(g, (bytes + 3) / 4, "examples", &f->examples, err);
    if (!rc) rc = graph_buffer(g, ((size_t)ds->n + 3) / 4, "labels", &f->labels, err);
    if (!rc) rc = dev_write(g->dev, f->examples, 0, bytes, host, err);
    if (!rc) rc = dev_write(g->dev, f->labels, 0, (size_t)ds->n, ds->labels, err);
    return rc;
}

static int upload_order(Feed *s, Graph *g, Err *err)
{
    return dev_write(g->dev, s->order, 0, (size_t)s->n * sizeof(int), s->order_host, err);
}

int feed_split(Feed *s, const char *name, Graph *g, FeedData *f, int first, int n, Err *err)
{
    int rc = feed_select(s, name, g, f, NULL, n, err);
    s->first = first;
    for (int i = 0; !rc && i < n; i++)
        s->order_host[i] = first + i;
    return rc ? rc : upload_order(s, g, err);
}

int feed_select(Feed *s, const char *name, Graph *g, FeedData *f, const int *examples, int n,
                Err *err)
{
    s->name = name;
    s->data = f;
    s->first = 0;
    s->n = n;
    if (!(s->order_host = malloc((size_t)(n ? n : 1) * sizeof *s->order_host)))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    if (examples)
        memcpy(s->order_host, examples, (size_t)n * sizeof *examples);
    int rc = graph_buffer(g, (size_t)(n ? n : 1), "example order", &s->order, err);
    return rc || !examples ? rc : upload_order(s, g, err);
}

int feed_shuffle(Feed *s, Graph *g, uint64_t *rng, Err *err)
{
    for (int i = 0; i < s->n; i++) /* from the natural order: the generator alone decides */
        s->order_host[i] = s->first + i;
    rng_shuffle(rng, s->order_host, s->n);
    return upload_order(s, g, err);
}

void feed_norm(FeedNorm *n, int channels, const double *mean, const double *std, double unit)
{
    n->channels = channels;
    for (int c = 0; c < channels; c++) {
        n->scale[c] = (float)(1.0 / (unit * std[c]));
        n->shift[c] = (float)(-mean[c] / std[c]);
    }
}

/* Values [begin, end) of each of the batch's rows, as value * scale + shift:
 * the gpu plan's kernel an element a work-item, the cpu plan's a run of
 * GATHER_RUN, both from begin at global offset zero (POCL compiles a kernel
 * again for another offset) and stopping at end. */
static int gather(Feed *s, Graph *g, int start, int rows, int begin, int end, float scale,
                  float shift, cl_mem labels, Err *err)
{
    FeedData *f = s->data;
    int gpu = g->dev->plan.gpu;
    size_t values = (size_t)(end - begin);
    size_t global[2] = {gpu ? values : (values + GATHER_RUN - 1) / GATHER_RUN, (size_t)rows};
    KArg args[12] = {KA(f->examples), KA(f->labels), KA(s->order), KA(start), KA(rows),
                     KA(f->size), KA(scale), KA(shift), KA(g->nodes[0].out), KA(labels),
                     KA(begin), KA(end)};
    return dev_launch(g->dev, f->gather, 2, global, NULL, 12, args, err);
}

/* The gather kernels normalise with one scale and shift, so a per-channel
 * normalisation gathers each channel plane on its own. */
int feed_batch(Feed *s, Graph *g, int start, int rows, const FeedNorm *norm, cl_mem labels,
               Err *err)
{
    FeedData *f = s->data;
    const Dataset *ds = f->ds;
    int planes = norm->channels > 1 ? ds->c : 1, plane = f->size / planes;
    if (norm->channels > 1 && norm->channels != ds->c)
        return err_set(err, CLRUN_EINPUT, "%s: a normalisation for %d channels, but the examples "
                       "have %d", ds->source, norm->channels, ds->c);
    g->batch = rows;
    dev_profile_tag(g->dev, "%s", "data");
    int rc = CLRUN_OK;
    for (int c = 0; c < planes && !rc; c++)
        rc = gather(s, g, start, rows, c * plane, (c + 1) * plane, norm->scale[c],
                    norm->shift[c], labels, err);
    return rc;
}

void feed_free(Feed *s)
{
    free(s->order_host);
    s->order_host = NULL;
}

void feed_stats(const Feed *s, double *mean, double *std)
{
    const Dataset *ds = s->data->ds;
    size_t size = (size_t)s->data->size, begin = (size_t)s->first * size;
    size_t count = (size_t)s->n * size;
    double sum = 0, squares = 0;
    for (size_t i = begin; i < begin + count; i++) {
        double v = ds->pixels ? ds->pixels[i] / 255.0 : ds->values[i];
        sum += v;
        squares += v * v;
    }
    *mean = count ? sum / (double)count : 0;
    double var = count ? squares / (double)count - *mean * *mean : 0;
    *std = var > 0 ? sqrt(var) : 1;
}
