/* layers.h: the layer table and what layer implementations share.
 *
 * Each layer type is one LayerType row (graph.h) defined in its own file in
 * this folder and listed once in table.c; its kernels are in cl/. */
#ifndef CLRUN_LAYERS_H
#define CLRUN_LAYERS_H

#include <stddef.h>

#include "graph.h"

/* The row for a type name, or NULL. */
const LayerType *layer_find(const char *name);
/* n's LayerType.memory flags (memplan.h), the safe ones where it has none;
 * 0 for the input. */
unsigned layer_memory(const Node *n);
/* "conv2d, maxpool2d, ..." for messages. */
void layer_names(char *buf, size_t size);

/* Activation codes, shared with cl/prelude.cl up to ACT_TANH. ACT_SOFTMAX
 * (Keras' dense activation) runs over a row, never through the elementwise
 * kernels: dense.c applies it with the softmax kernels. */
enum { ACT_LINEAR = 0, ACT_RELU = 1, ACT_SIGMOID = 2, ACT_TANH = 3, ACT_SOFTMAX = 4 };
/* Reads an optional `activation:` key (linear when absent); softmax only
 * where the layer allows it (dense). */
int act_parse(SpecNode *spec, int allow_softmax, int *act, Err *err);
const char *act_name(int act);

/* A loss on probabilities (Keras' categorical_crossentropy) fuses with the
 * softmax that ends the model, computing log-softmax and NLL on its logits
 * in one stable step: never log(softmax(x)). */
/* Whether n is a softmax layer or a dense layer with activation: softmax. */
int layer_ends_in_softmax(const Node *n);
/* After setup, for such an n: the buffer of its logits, and the buffer
 * where the loss writes dLoss/dlogits; n's backward then passes that on as
 * it stands instead of differentiating the softmax. */
void layer_fuse_softmax(Node *n, cl_mem *logits, cl_mem *logits_grad);
void softmax_fuse(Node *n, cl_mem *logits, cl_mem *logits_grad);
void dense_fuse_softmax(Node *n, cl_mem *logits, cl_mem *logits_grad);
int dense_has_softmax(const Node *n);
/* softmax (log_output 0) or log_softmax over each row of cols features, and
 * its backward (dx may be dy: rows are read before they are written). */
int launch_softmax(Graph *g, cl_kernel fwd, cl_mem x, cl_mem y, int cols, int log_output,
                   Err *err);
int launch_softmax_backward(Graph *g, cl_kernel bwd, cl_mem dy, cl_mem y, cl_mem dx, int cols,
                            int log_output, Err *err);

/* Output length and leading padding of one spatial axis of a sliding window
 * (convolution, pooling): 'same' gives ceil(in / stride) with the odd pixel of
 * padding at the end (TensorFlow), else `pad` pixels on both sides. */
void window_axis(int same, long in, long k, long stride, long pad, long *out, long *lead);

/* A convolution's geometry, as cl/conv.cl's ConvGeom (passed to kernels by
 * value): input [N, C, H, W], window, stride, leading padding, output size. */
typedef struct {
    cl_int n, c, h, w;
    cl_int kh, kw, sh, sw, ph, pw;
    cl_int oh, ow;
} ConvGeom;

/* Shared launch helpers: products and bias sums in gemm.c, the rest in table.c. */
/* C[M, N] (+)= A(m, k) B(k, n) with A(m, k) = A[m * a_sm + k * a_sk] and
 * B(k, n) = B[k * b_sk + n * b_sn] (cl/gemm.cl). B's rows must be contiguous
 * (b_sn = 1, gemm_nn), or both operands run along k (a_sk = b_sk = 1,
 * gemm_nt). */
/* Readies the plan's GEMM backend on the graph's device: CLBlast (loaded,
 * its tuning files applied) under CLRUN_GEMM=clblast, so a missing library
 * or a bad tuning file stops a run before it starts; nothing for clrun's own
 * kernels. The device layer never knows which backend the plan picked. */
int gemm_prepare(Graph *g, Err *err);
int launch_gemm(Graph *g, int M, int N, int K, cl_mem A, int a_sm, int a_sk, cl_mem B, int b_sk,
                int b_sn, cl_mem C, int ldc, int accumulate, Err *err);
/* Reserves the scratch of a product under plan (partial products of its K
 * in chunks) for its largest sizes (a layer's scratch, at the largest batch). */
void gemm_reserve(Graph *g, const Plan *plan, int pass, int M, int N, int K);
/* A batch of products, strides as launch_gemm's: item i multiplies A +
 * i * a_item by B + i * b_item (b_cols >= N readable floats in each row of a
 * B with contiguous rows) into C + i * c_item (rows ldc apart), or all of
 * them summed into C. With a_image, A is the column matrix of that
 * convolution's input (its padding written out), read from the images at A
 * (conv_weight_grad, the cpu plan; summed, each item's B in panels of 16
 * columns, K rows b_sk apart each, b_cols a multiple of 16). */
typedef struct {
    int M, N, K, items;
    cl_mem A;
    int a_sm, a_sk, a_item;
    int a_off, a_panel; /* A from a_off; packed in panels a_panel apart (0: not packed) */
    const ConvGeom *a_image;
    cl_mem B;
    int b_sk, b_sn, b_item, b_cols;
    int b_off, b_panel; /* B from b_off; packed in panels b_panel apart (0: not packed) */
    cl_mem C;
    int ldc, c_item;
    int accumulate;
} GemmBatch;
/* C_i (+)= A_i B_i for each item, or with summed C (+)= the sum over the items
 * of A_i B_i, added in a fixed order. */
int launch_gemm_batch(Graph *g, const GemmBatch *p, int summed, Err *err);
/* Reserves the partial products of a summed batch at its largest. pass, here
 * and in gemm_reserve: the layer's that launches it (MEM_FORWARD, MEM_BACKWARD). */
void gemm_batch_reserve(Graph *g, const Plan *plan, int pass, int M, int N, int K, int items);
/* out[c] = the sum over n < N and p < P of in[(n*C + c)*P + p], in a fixed
 * order (bias gradients; P = 1 for dense layers). ones: 16 ones on the
 * device (the cpu plan sums P > 1 as products with them); reserve with
 * gemm_batch_reserve(g, plan, pass, C, 1, P, N). */
int launch_sum_channels(Graph *g, cl_mem in, cl_mem out, int N, int C, int P, cl_mem ones,
                        Err *err);
/* Global and local sizes for kernel k over (x, y, plane) of planes of w x h,
 * as the plan shapes them (dev_launch rounds the global sizes up). */
void launch_planes(const Graph *g, cl_kernel k, int w, int h, int planes, size_t global[3],
                   size_t local[3]);
/* dx = dy * act'(y) over count values through kernel k (act_backward, from
 * the layer's setup); dx may be dy. */
int launch_act_backward(Graph *g, cl_kernel k, cl_mem dy, cl_mem y, cl_mem dx, int count, int act,
                        Err *err);
/* A kernel handle for a layer's setup, with the layer named on failure. */
int layer_kernel(Graph *g, Node *n, const char *name, cl_kernel *out, Err *err);
/* The one input of a single-input layer, checked. */
int single_input(Node *n, Err *err);
/* A single input whose shape has this rank ("flat input" for rank 1). */
int require_rank(Node *n, int rank, Err *err);

extern const LayerType layer_conv2d, layer_maxpool2d, layer_dense, layer_flatten, layer_dropout,
    layer_relu, layer_softmax, layer_log_softmax, layer_add;
extern const LayerType layer_sigmoid, layer_tanh, layer_linear, layer_dropout2d, layer_avgpool2d,
    layer_global_avgpool, layer_batchnorm;

#endif
