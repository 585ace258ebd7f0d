/* batchnorm.c: batch normalisation of [C] (over the batch) or [C, H, W] (over
 * the batch and the pixels), as PyTorch's BatchNorm1d/2d: parameters
 * <name>.weight (gamma) and <name>.bias (beta), buffers <name>.running_mean
 * and <name>.running_var; `momentum` in PyTorch's sense (the weight of the new
 * batch) and `epsilon`. Training normalises by the batch's statistics and
 * updates the running ones, evaluation uses the running ones. Kernels in
 * cl/batchnorm.cl. */
#include <stdlib.h>

#include "layers/layers.h"

#define BN_GROUP_MAX 256 /* as in cl/batchnorm.cl */

enum { BN_WEIGHT, BN_BIAS, BN_RUNNING_MEAN, BN_RUNNING_VAR };

typedef struct {
    double momentum, epsilon;
    cl_int channels, pixels; /* C, and P values per channel of one example */
    cl_kernel stats, fwd, param_grads, bwd;
    cl_mem stats_buf;        /* [2, C]: the mean and 1/sqrt(var + eps) forward used */
    size_t group;            /* work-group size of the per-channel reductions */
    int tree;                /* the gpu plan's kernels (bn_kernels[1]) */
} BatchNorm;

static int bn_parse(Node *n, SpecNode *spec, Err *err)
{
    BatchNorm *b = calloc(1, sizeof *b);
    n->state = b;
    if (!b)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    b->momentum = 0.1;
    b->epsilon = 1e-5;
    int rc = spec_float(spec, "momentum", 0, &b->momentum, err);
    if (!rc)
        rc = spec_float(spec, "epsilon", 0, &b->epsilon, err);
    if (!rc && (b->momentum < 0 || b->momentum > 1))
        rc = spec_error(spec_get(spec, "momentum"), err, "momentum must be in [0, 1], got %g",
                        b->momentum);
    if (!rc && !(b->epsilon > 0))
        rc = spec_error(spec_get(spec, "epsilon"), err, "epsilon must be above 0, got %g",
                        b->epsilon);
    return rc;
}

static int bn_infer(Node *n, Graph *g, Err *err)
{
    BatchNorm *b = n->state;
    int rc = single_input(n, err);
    if (rc)
        return rc;
    Shape in = n->inputs[0]->out_shape;
    if (in.rank != 1 && in.rank != 3) {
        char buf[64];
        shape_format(in, buf, sizeof buf);
        return node_error(n, err, "batchnorm needs an input [C] or [C, H, W], got %s", buf);
    }
    b->channels = in.dim[0];
    b->pixels = in.rank == 3 ? in.dim[1] * in.dim[2] : 1;
    n->out_shape = in;
    static const struct {
        const char *suffix;
        ParamRole role;
        int trainable;
    } params[] = {
        [BN_WEIGHT] = {"weight", PARAM_ONES, 1},
        [BN_BIAS] = {"bias", PARAM_ZEROS, 1},
        [BN_RUNNING_MEAN] = {"running_mean", PARAM_ZEROS, 0},
        [BN_RUNNING_VAR] = {"running_var", PARAM_ONES, 0},
    };
    long dims[1] = {b->channels};
    for (int i = 0; i < 4 && !rc; i++)
        rc = graph_add_param(g, n, params[i].suffix, 1, dims,
                             (ParamInit){params[i].role, dims[0], dims[0], params[i].trainable},
                             err);
    return rc;
}

/* The largest power of two that both reduction kernels and BN_GROUP_MAX
 * allow (dev_kernel has asked each kernel's limit). */
static void bn_group_size(Node *n, Graph *g)
{
    BatchNorm *b = n->state;
    size_t limit = BN_GROUP_MAX;
    cl_kernel reductions[2] = {b->stats, b->param_grads};
    for (int i = 0; i < 2; i++) {
        size_t most = dev_limits(g->dev, reductions[i])->max_group;
        limit = most < limit ? most : limit;
    }
    for (b->group = 1; b->group * 2 <= limit; b->group *= 2)
        ;
}

/* The kernels of each plan, in BatchNorm's order (stats, fwd, param_grads,
 * bwd): the gpu plan's take a work-group per channel or a work-item per
 * value, the cpu plan's a work-item per channel or per plane (3x faster on
 * POCL, whose compiler vectorises their loops along a plane). */
static const char *const bn_kernels[2][4] = {
    {"batchnorm_stats_planes", "batchnorm_forward_planes", "batchnorm_param_grads_planes",
     "batchnorm_backward_planes"},
    {"batchnorm_stats", "batchnorm_forward", "batchnorm_param_grads", "batchnorm_backward"},
};

/* The most loop iterations a work-item of the cpu plan's kernels (tree 0)
 * or the gpu plan's (tree 1) runs in a batch of `batch`, each loop's exit
 * counting one as dev_loop_limit counts them: the _planes statistics walk a
 * channel's planes twice, 16 values at a time and the rest one by one, and
 * forward and backward walk a plane; the gpu plan's statistics walk a
 * channel's values a group apart and sum them by a tree, twice. */
static long bn_loops(const BatchNorm *b, int batch, int tree)
{
    long P = b->pixels;
    if (tree) {
        long L = (long)b->group, walk = ((long)batch * P + L - 1) / L + 1, sum = 1;
        for (long width = L / 2; width > 0; width /= 2)
            sum++;
        return 2 * (walk + sum);
    }
    long planes = 2 * ((long)batch * (P / 16 + 1 + P % 16 + 1) + 1);
    return planes > P + 1 ? planes : P + 1;
}

static int bn_kernels_of(Node *n, Graph *g, int tree, Err *err)
{
    BatchNorm *b = n->state;
    cl_kernel *kernels[4] = {&b->stats, &b->fwd, &b->param_grads, &b->bwd};
    int rc = CLRUN_OK;
    b->tree = tree;
    for (int i = 0; i < 4 && !rc; i++)
        rc = layer_kernel(g, n, bn_kernels[tree][i], kernels[i], err);
    if (!rc)
        bn_group_size(n, g);
    return rc;
}

/* The plan's kernels; on the cpu plan the gpu plan's where a device that
 * ends long loops early (dev_loop_limit: llvmpipe) would cut a work-item's
 * walk over large planes short, and an error where neither fits: never
 * statistics of part of the batch. */
static int bn_setup(Node *n, Graph *g, Err *err)
{
    BatchNorm *b = n->state;
    int gpu = g->dev->plan.gpu, fits = 1;
    int rc = gpu ? CLRUN_OK : dev_loops_fit(g->dev, bn_loops(b, g->max_batch, 0), &fits, err);
    if (!rc)
        rc = bn_kernels_of(n, g, gpu || !fits, err);
    if (!rc && b->tree)
        rc = dev_loops_fit(g->dev, bn_loops(b, g->max_batch, 1), &fits, err);
    if (!rc && !fits)
        rc = node_error(n, err, "batchnorm over %ld values a channel (batch %d) takes a "
                        "work-item more loop iterations than %s runs before it ends them "
                        "(%ld); use a smaller batch or another device (--device)",
                        (long)g->max_batch * b->pixels, g->max_batch, g->dev->name,
                        g->dev->loop_limit);
    return rc ? rc : graph_buffer(g, 2 * (size_t)b->channels, "batchnorm statistics",
                                  &b->stats_buf, err);
}

/* One work-group of b->group work-items per channel with the gpu plan's
 * kernels, one work-item with the cpu plan's (the _planes kernels). */
static int bn_reduce(Node *n, Graph *g, cl_kernel k, const KArg *args, int nargs, Err *err)
{
    BatchNorm *b = n->state;
    size_t group = b->tree ? b->group : 1;
    size_t global[1] = {(size_t)b->channels * group}, local[1] = {group};
    return dev_launch(g->dev, k, 1, global, local, nargs, args, err);
}

/* The gpu plan's kernels: a work-item per value, (pixel, plane), in groups
 * of the plan's size spanning planes when the planes are small. The cpu
 * plan's: a work-item per plane, (channel, example), one a group (the _planes
 * kernels), so that POCL compiles them for one grid class at any batch. */
static int bn_map(Node *n, Graph *g, cl_kernel k, const KArg *args, int nargs, Err *err)
{
    BatchNorm *b = n->state;
    if (!b->tree) {
        size_t planes[2] = {(size_t)b->channels, (size_t)g->batch}, one[2] = {1, 1};
        return dev_launch(g->dev, k, 2, planes, one, nargs, args, err);
    }
    size_t group = dev_group_size(g->dev, k), across = 1;
    while (across < (size_t)b->pixels && across < group)
        across *= 2;
    size_t global[2] = {(size_t)b->pixels, (size_t)g->batch * b->channels};
    size_t local[2] = {across, group / across};
    return dev_launch(g->dev, k, 2, global, local, nargs, args, err);
}

static int bn_forward(Node *n, Graph *g, Err *err)
{
    BatchNorm *b = n->state;
    if (g->training && g->batch * b->pixels < 2)
        return node_error(n, err, "batchnorm needs more than one value per channel in training, "
                                  "got a batch of %d", g->batch);
    Param *gamma = node_param(g, n, BN_WEIGHT), *beta = node_param(g, n, BN_BIAS);
    Param *mean = node_param(g, n, BN_RUNNING_MEAN), *var = node_param(g, n, BN_RUNNING_VAR);
    float eps = (float)b->epsilon, momentum = (float)b->momentum;
    KArg stats[] = {KA(n->inputs[0]->out), KA(b->stats_buf), KA(mean->value), KA(var->value),
                    KA(g->batch), KA(b->channels), KA(b->pixels), KA(eps), KA(momentum),
                    KA(g->training)};
    int rc = bn_reduce(n, g, b->stats, stats, (int)(sizeof stats / sizeof stats[0]), err);
    int planes = g->batch * b->channels;
    KArg norm[] = {KA(n->inputs[0]->out), KA(n->out), KA(b->stats_buf), KA(gamma->value),
                   KA(beta->value), KA(planes), KA(b->channels), KA(b->pixels)};
    return rc ? rc : bn_map(n, g, b->fwd, norm, (int)(sizeof norm / sizeof norm[0]), err);
}

/* dgamma and dbeta first: in training, dx depends on them. */
static int bn_backward(Node *n, Graph *g, Err *err)
{
    BatchNorm *b = n->state;
    Param *gamma = node_param(g, n, BN_WEIGHT), *beta = node_param(g, n, BN_BIAS);
    cl_mem x = n->inputs[0]->out, dx = n->in_grad[0];
    KArg grads[] = {KA(n->grad), KA(x), KA(b->stats_buf), KA(gamma->grad), KA(beta->grad),
                    KA(g->batch), KA(b->channels), KA(b->pixels)};
    int rc = bn_reduce(n, g, b->param_grads, grads, (int)(sizeof grads / sizeof grads[0]), err);
    if (rc || !dx)
        return rc;
    KArg back[] = {KA(n->grad), KA(x), KA(b->stats_buf), KA(gamma->value), KA(gamma->grad),
                   KA(beta->grad), KA(dx), KA(g->batch), KA(b->channels), KA(b->pixels),
                   KA(g->training)};
    return bn_map(n, g, b->bwd, back, (int)(sizeof back / sizeof back[0]), err);
}

/* Backward reads the input and the statistics forward kept, not the output. */
static unsigned bn_memory(const Node *n)
{
    (void)n;
    return MEM_READS_INPUTS;
}

const LayerType layer_batchnorm = {"batchnorm", bn_parse, bn_infer, bn_setup, bn_forward,
                                   bn_backward, bn_memory, NULL};
