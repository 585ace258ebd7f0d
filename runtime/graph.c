/* graph.c: model spec -> nodes with shapes -> buffers and parameters on a
 * device -> forward and backward passes (see graph.h). */
#include "graph.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "io/safetensors.h"
#include "layers/layers.h"
#include "rng.h"
#include "text.h"

long shape_size(Shape s)
{
    long n = 1;
    for (int i = 0; i < s.rank; i++)
        n *= s.dim[i];
    return n;
}

long graph_count(const long *dims, int n)
{
    long count = 1;
    for (int i = 0; i < n; i++) {
        if (dims[i] < 0 || (dims[i] > 0 && count > GRAPH_MAX_VALUES / dims[i]))
            return -1;
        count *= dims[i];
    }
    return count;
}

void shape_format(Shape s, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < s.rank && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%d", i ? ", " : "", s.dim[i]);
    if (used < size)
        snprintf(buf + used, size - used, "]");
}

int node_error(const Node *n, Err *err, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return spec_error(n->spec, err, "%s", msg); /* the spec's context names the layer */
}

Param *node_param(Graph *g, Node *n, int i)
{
    return &g->params[n->params[i]];
}

Node *graph_output(Graph *g)
{
    return &g->nodes[g->n_nodes - 1];
}

long graph_param_count(const Graph *g, int trainable)
{
    long total = 0;
    for (int i = 0; i < g->n_params; i++)
        if (g->params[i].init.trainable == trainable)
            total += (long)g->params[i].count;
    return total;
}

int graph_add_param(Graph *g, Node *n, const char *suffix, int ndim, const long *dims,
                    ParamInit init, Err *err)
{
    if (n->n_params == NODE_MAX_PARAMS)
        return node_error(n, err, "too many parameters");
    Param *grown = realloc(g->params, (size_t)(g->n_params + 1) * sizeof *grown);
    if (!grown)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    g->params = grown;
    Param *p = &g->params[g->n_params];
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "%s.%s", n->name, suffix);
    long count = graph_count(dims, ndim);
    if (count < 0)
        return node_error(n, err, "%s has more than %ld values (%s dimensions too large)",
                          p->name, GRAPH_MAX_VALUES, suffix);
    p->ndim = ndim;
    p->count = (size_t)count;
    for (int i = 0; i < ndim; i++)
        p->dims[i] = dims[i];
    p->init = init;
    n->params[n->n_params++] = g->n_params++;
    return CLRUN_OK;
}

/* ---- building from the spec ---- */

static int parse_input(Graph *g, SpecNode *model, Err *err)
{
    long dims[SHAPE_MAX_RANK];
    int rank = 0;
    int rc = spec_ints(model, "input", 1, 1, SPEC_SIZE_MAX, dims, SHAPE_MAX_RANK, &rank, err);
    if (rc)
        return rc;
    Node *in = &g->nodes[0];
    snprintf(in->name, sizeof in->name, "input");
    in->spec = spec_get(model, "input");
    in->out_shape.rank = rank;
    for (int i = 0; i < rank; i++)
        in->out_shape.dim[i] = (int)dims[i];
    if (graph_count(dims, rank) < 0)
        return spec_error(in->spec, err, "the input has more than %ld values per example",
                          GRAPH_MAX_VALUES);
    return CLRUN_OK;
}

/* Whether a layer before index has name, or a layer from index on is given
 * it explicitly. */
static int name_taken(const Graph *g, SpecNode *layers, int index, const char *name)
{
    for (int i = 0; i < index; i++)
        if (strcmp(g->nodes[i].name, name) == 0)
            return 1;
    for (int i = index; i < layers->n; i++) {
        SpecNode *given = layers->items[i]->kind == SPEC_MAP ? spec_get(layers->items[i], "name")
                                                            : NULL;
        if (given && given->kind == SPEC_SCALAR && strcmp(given->value, name) == 0)
            return 1;
    }
    return 0;
}

/* Layer names default to "<type>_<k>" for the k-th layer of that type, or
 * the next k that no layer has. */
static void default_name(Graph *g, SpecNode *layers, int index, Node *n)
{
    int k = 1;
    for (int i = 1; i < index; i++)
        k += g->nodes[i].type == n->type;
    do /* never a name another layer has, or a later one is given */
        snprintf(n->name, sizeof n->name, "%s_%d", n->type->name, k++);
    while (name_taken(g, layers, index, n->name));
}

static int name_node(Graph *g, SpecNode *layers, int index, Node *n, SpecNode *item, Err *err)
{
    const char *name = NULL;
    int rc = spec_string(item, "name", 0, &name, err);
    if (rc)
        return rc;
    if (!name) {
        default_name(g, layers, index, n);
        return CLRUN_OK;
    }
    /* names become file names (features_<layer>_test.npy) and tensor names
     * (<layer>.weight): a '/' would write elsewhere. Dots may join parts, as
     * in PyTorch's module paths (layer2.0.downsample.0), so that tensor names
     * are a state_dict's keys; no parameter suffix holds a dot, so the last
     * dot of a tensor name still parts layer from parameter, and every file
     * named after a layer has a prefix, so none is a run's own file */
    if (!text_is_dotted_name(name) || strlen(name) >= sizeof n->name)
        return spec_error(spec_get(item, "name"), err,
                          "layer names must be 1 to %zu letters, digits, '_', '-' or inner "
                          "dots (they name files and tensors), got '%s'", sizeof n->name - 1, name);
    snprintf(n->name, sizeof n->name, "%s", name);
    for (int i = 0; i < index; i++)
        if (strcmp(g->nodes[i].name, name) == 0)
            return spec_error(spec_get(item, "name"), err, "layer name '%s' is used twice", name);
    return CLRUN_OK;
}

/* Every error about the layer's keys names it: by its name: where it has one,
 * else by position until its default name is known. */
static int label_layer(SpecNode *item, int index, const char *name, Err *err)
{
    char label[96];
    if (name)
        snprintf(label, sizeof label, "layer '%s'", name);
    else
        snprintf(label, sizeof label, "layer %d", index);
    return spec_set_context(item, label, err);
}

/* `inputs: [a, b]` names earlier layers ("input" is the data); without it a
 * layer takes the one before it. */
static int connect(Graph *g, int index, Node *n, SpecNode *item, Err *err)
{
    SpecNode *list = spec_get(item, "inputs");
    if (!list) {
        n->inputs[0] = &g->nodes[index - 1];
        n->n_inputs = 1;
        return CLRUN_OK;
    }
    if (list->kind != SPEC_SEQ || list->n < 1 || list->n > NODE_MAX_INPUTS)
        return spec_error(list, err, "inputs must be a list of 1 to %d layer names",
                          NODE_MAX_INPUTS);
    for (int i = 0; i < list->n; i++) {
        SpecNode *name = list->items[i];
        Node *found = NULL;
        for (int j = 0; name->kind == SPEC_SCALAR && j < index && !found; j++)
            if (strcmp(g->nodes[j].name, name->value) == 0)
                found = &g->nodes[j];
        if (!found)
            return spec_error(name, err, "input '%s' is not a layer defined before this one",
                              name->kind == SPEC_SCALAR ? name->value : "?");
        n->inputs[n->n_inputs++] = found;
    }
    return CLRUN_OK;
}

static int build_layer(Graph *g, SpecNode *layers, int index, Err *err)
{
    Node *n = &g->nodes[index];
    SpecNode *item = layers->items[index - 1];
    n->spec = item;
    if (item->kind != SPEC_MAP)
        return spec_error(item, err, "layer %d must be a map such as {type: relu}", index);
    SpecNode *written = spec_get(item, "name");
    int rc = label_layer(item, index, written && written->kind == SPEC_SCALAR ? written->value : NULL,
                         err);
    const char *type = NULL;
    if (!rc)
        rc = spec_string(item, "type", 1, &type, err);
    if (rc)
        return rc;
    if (!(n->type = layer_find(type))) {
        char names[512];
        layer_names(names, sizeof names);
        return spec_error(spec_get(item, "type"), err, "unknown layer type '%s' (known: %s)", type,
                          names);
    }
    rc = name_node(g, layers, index, n, item, err);
    if (!rc && !written)
        rc = label_layer(item, index, n->name, err);
    if (rc)
        return rc;
    if ((rc = connect(g, index, n, item, err)))
        return rc;
    if (n->type->parse && (rc = n->type->parse(n, item, err)))
        return rc;
    if ((rc = n->type->infer(n, g, err)))
        return rc;
    long dims[SHAPE_MAX_RANK];
    for (int i = 0; i < n->out_shape.rank; i++)
        dims[i] = n->out_shape.dim[i];
    long count = graph_count(dims, n->out_shape.rank);
    if (count < 0)
        return node_error(n, err, "output has more than %ld values per example", GRAPH_MAX_VALUES);
    if (count < 1)
        return node_error(n, err, "output would be empty");
    return spec_check_unused(item, NULL, err);
}

int graph_build(Graph *g, SpecNode *model, Err *err)
{
    memset(g, 0, sizeof *g);
    if (model->kind != SPEC_MAP)
        return spec_error(model, err, "a model must be a map with input: and layers:");
    g->name = "model";
    const char *init = "torch";
    int rc = spec_string(model, "name", 0, &g->name, err);
    if (!rc)
        rc = spec_string(model, "weights", 0, &g->weights, err);
    if (!rc)
        rc = spec_string(model, "init", 0, &init, err);
    if (!rc && strcmp(init, "torch") && strcmp(init, "keras"))
        rc = spec_error(spec_get(model, "init"), err, "init must be torch or keras, got '%s'", init);
    g->keras_init = strcmp(init, "keras") == 0;
    SpecNode *layers = rc ? NULL : spec_get(model, "layers");
    if (!rc && (!layers || layers->kind != SPEC_SEQ || layers->n == 0))
        rc = spec_error(layers ? layers : model, err, "a model needs a non-empty list of layers:");
    if (rc)
        return rc;
    g->n_nodes = layers->n + 1;
    g->nodes = calloc((size_t)g->n_nodes, sizeof *g->nodes);
    if (!g->nodes)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    rc = parse_input(g, model, err);
    for (int i = 1; i < g->n_nodes && !rc; i++)
        rc = build_layer(g, layers, i, err);
    return rc ? rc : spec_check_unused(model, "model", err);
}

/* ---- buffers on the device ---- */

/* Room in g->owned for one more buffer. */
static int grow_owned(Graph *g, Err *err)
{
    cl_mem *grown = realloc(g->owned, (size_t)(g->n_owned + 1) * sizeof *grown);
    if (!grown)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    g->owned = grown;
    return CLRUN_OK;
}

int graph_buffer(Graph *g, size_t floats, const char *what, cl_mem *out, Err *err)
{
    int rc = grow_owned(g, err);
    if (!rc)
        rc = dev_alloc(g->dev, floats * sizeof(float), what, out, err);
    if (!rc)
        g->owned[g->n_owned++] = *out;
    return rc;
}

/* The half-width of the uniform distribution a parameter starts from (0: a constant). */
static double init_bound(const Graph *g, const ParamInit *in)
{
    if (in->role == PARAM_WEIGHT && g->keras_init)
        return sqrt(6.0 / (double)(in->fan_in + in->fan_out));
    if (in->role == PARAM_WEIGHT || (in->role == PARAM_BIAS && !g->keras_init))
        return 1.0 / sqrt((double)in->fan_in);
    return 0;
}

static int init_param(Graph *g, Param *p, uint64_t *rng, Err *err)
{
    int rc = graph_buffer(g, p->count, p->name, &p->value, err);
    if (!rc && p->init.trainable)
        rc = graph_buffer(g, p->count, p->name, &p->grad, err);
    float *host = malloc(p->count * sizeof *host);
    if (!rc && !host)
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory");
    double bound = init_bound(g, &p->init), constant = p->init.role == PARAM_ONES ? 1 : 0;
    for (size_t i = 0; !rc && i < p->count; i++)
        host[i] = (float)(bound > 0 ? (2 * rng_uniform(rng) - 1) * bound : constant);
    if (!rc)
        rc = dev_write(g->dev, p->value, 0, p->count * sizeof *host, host, err);
    free(host);
    return rc;
}

void graph_plan_scratch(Graph *g, const Plan *plan, int max_batch)
{
    g->max_batch = max_batch;
    memset(g->scratch_floats, 0, sizeof g->scratch_floats);
    for (int i = 1; i < g->n_nodes; i++) {
        Node *n = g->scratch_node = &g->nodes[i];
        memset(n->scratch_floats, 0, sizeof n->scratch_floats);
        if (n->type->scratch)
            n->type->scratch(n, g, plan);
    }
    g->scratch_node = NULL;
}

void graph_want_scratch(Graph *g, int pass, int slot, size_t floats)
{
    if (floats > g->scratch_floats[slot])
        g->scratch_floats[slot] = floats;
    size_t *own = g->scratch_node ? &g->scratch_node->scratch_floats[pass][slot] : NULL;
    if (own && floats > *own) /* a product launched outside a layer (tests) has none */
        *own = floats;
}

int graph_input_grad_shared(const Node *n, int i)
{
    const Node *in = n->inputs[i];
    int claimed = 0; /* has an earlier consumer already taken in->grad? */
    for (const Node *m = in + 1; m < n && !claimed; m++)
        for (int j = 0; j < m->n_inputs; j++)
            claimed |= m->inputs[j] == in;
    for (int j = 0; j < i; j++)
        claimed |= n->inputs[j] == in;
    return claimed;
}

/* Bytes at an offset of the plan's arenas, within one arena, as a sub-buffer. */
static int arena_buffer(Graph *g, size_t offset, size_t bytes, const char *what, cl_mem *out,
                        Err *err)
{
    int rc = grow_owned(g, err);
    if (rc)
        return rc;
    size_t arena = g->mem->cap ? offset / g->mem->cap : 0;
    cl_buffer_region region = {offset - arena * g->mem->cap, bytes};
    cl_int cle;
    *out = clCreateSubBuffer(g->arenas[arena], CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION,
                             &region, &cle);
    rc = dev_check(cle, "clCreateSubBuffer", what, err);
    if (!rc)
        g->owned[g->n_owned++] = *out;
    return rc;
}

/* A planned tensor as a sub-buffer of its arena (memplan.h). */
static int planned_buffer(Graph *g, const MemTensor *t, const char *what, cl_mem *out, Err *err)
{
    return arena_buffer(g, t->offset, t->bytes, what, out, err);
}

/* The buffer of a node's output or gradient (kind, node; consumer and slot
 * for MEM_EXTRA_GRAD): planned, or one of its own without a plan. */
static int tensor_buffer(Graph *g, MemKind kind, const Node *n, const Node *consumer, int slot,
                         const char *what, cl_mem *out, Err *err)
{
    if (!g->mem)
        return graph_buffer(g, (size_t)g->max_batch * (size_t)shape_size(n->out_shape), what, out,
                            err);
    const MemTensor *t = memplan_find(g->mem, kind, (int)(n - g->nodes),
                                      consumer ? (int)(consumer - g->nodes) : 0, slot);
    if (!t)
        return err_set(err, CLRUN_ERUNTIME, "%s: not in the memory plan", what);
    return planned_buffer(g, t, what, out, err);
}

/* Points each input slot of n at the buffer its backward writes (see Node). */
static int wire_input_grads(Graph *g, Node *n, Err *err)
{
    for (int i = 0; i < n->n_inputs; i++) {
        Node *in = n->inputs[i];
        if (!in->grad || !graph_input_grad_shared(n, i)) {
            n->in_grad[i] = in->grad;
            continue;
        }
        cl_mem *grown = realloc(in->extra_grads, (size_t)(in->n_extra_grads + 1) * sizeof *grown);
        if (!grown)
            return err_set(err, CLRUN_ERUNTIME, "out of memory");
        in->extra_grads = grown;
        int rc = tensor_buffer(g, MEM_EXTRA_GRAD, in, n, i, "gradients of a layer used twice",
                               &n->in_grad[i], err);
        if (rc)
            return rc;
        in->extra_grads[in->n_extra_grads++] = n->in_grad[i];
    }
    return CLRUN_OK;
}

/* n's planned scratch slots for one pass (MEM_FORWARD, MEM_BACKWARD). */
static int scratch_buffers(Graph *g, Node *n, int pass, Err *err)
{
    const MemTensor *t = memplan_find(g->mem, MEM_SCRATCH, (int)(n - g->nodes), 0, pass);
    int rc = CLRUN_OK;
    for (int s = 0; t && s < SCRATCH_SLOTS && !rc; s++)
        if (n->scratch_floats[pass][s])
            rc = arena_buffer(g, t->offset + memplan_scratch_at(n, pass, s, g->mem->align),
                              n->scratch_floats[pass][s] * sizeof(float), "scratch",
                              &n->scratch[pass][s], err);
    return rc;
}

/* n's output, gradient and where its backward writes its inputs' gradients:
 * planned, or buffers of their own; a MEM_SHARES_INPUT layer's its input's. */
static int node_buffers(Graph *g, Node *n, Err *err)
{
    int rc = wire_input_grads(g, n, err);
    if (!rc && g->mem)
        rc = scratch_buffers(g, n, MEM_FORWARD, err);
    if (!rc && g->mem)
        rc = scratch_buffers(g, n, MEM_BACKWARD, err);
    if (rc)
        return rc;
    if (layer_memory(n) & MEM_SHARES_INPUT) {
        n->out = n->inputs[0]->out;
        n->grad = n->in_grad[0];
        return CLRUN_OK;
    }
    char what[128];
    snprintf(what, sizeof what, "activations of layer '%s'", n->name);
    rc = tensor_buffer(g, MEM_OUT, n, NULL, 0, what, &n->out, err);
    snprintf(what, sizeof what, "gradients of layer '%s'", n->name);
    return rc ? rc : tensor_buffer(g, MEM_GRAD, n, NULL, 0, what, &n->grad, err);
}

/* The plan for batches of max_batch, and its arenas: offsets aligned as the
 * device wants sub-buffers' (CL_DEVICE_MEM_BASE_ADDR_ALIGN, in bits), an
 * arena at most the device's largest buffer. */
static int plan_memory(Graph *g, Err *err)
{
    cl_uint align_bits = 0;
    int rc = dev_check(clGetDeviceInfo(g->dev->id, CL_DEVICE_MEM_BASE_ADDR_ALIGN,
                                       sizeof align_bits, &align_bits, NULL),
                       "clGetDeviceInfo", "CL_DEVICE_MEM_BASE_ADDR_ALIGN", err);
    size_t align = align_bits >= 8 ? align_bits / 8 : 4;
    if (!rc && !(g->mem = calloc(1, sizeof *g->mem)))
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory");
    if (!rc)
        rc = memplan_build(g->mem, g, g->max_batch, align, (size_t)g->dev->max_alloc, err);
    if (rc)
        return rc;
    size_t cap = g->mem->cap ? g->mem->cap : g->mem->total;
    g->n_arenas = g->mem->total ? (int)((g->mem->total + cap - 1) / cap) : 0;
    if (!(g->arenas = calloc((size_t)(g->n_arenas ? g->n_arenas : 1), sizeof *g->arenas)))
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int k = 0; k < g->n_arenas && !rc; k++) {
        size_t bytes = g->mem->total - (size_t)k * cap < cap ? g->mem->total - (size_t)k * cap : cap;
        rc = graph_buffer(g, (bytes + sizeof(float) - 1) / sizeof(float),
                          "activations and gradients (the memory plan's arena)", &g->arenas[k],
                          err);
    }
    return rc;
}

int graph_setup(Graph *g, Device *dev, int max_batch, uint64_t seed, Err *err)
{
    g->dev = dev;
    g->max_batch = g->batch = max_batch;
    g->seed = seed;
    g->training = 1;
    graph_plan_scratch(g, &dev->plan, max_batch);
    int rc = gemm_prepare(g, err);
    if (!rc)
        rc = graph_buffer(g, (size_t)max_batch * (size_t)shape_size(g->nodes[0].out_shape),
                          "input batch", &g->nodes[0].out, err);
    for (int i = 1; i < g->n_nodes && !rc; i++)
        if (g->nodes[i].type->setup)
            rc = g->nodes[i].type->setup(&g->nodes[i], g, err);
    if (!rc && memplan_enabled())
        rc = plan_memory(g, err);
    for (int i = 1; i < g->n_nodes && !rc; i++)
        rc = node_buffers(g, &g->nodes[i], err);
    for (int i = 0; i < SCRATCH_SLOTS && !rc && !g->mem; i++)
        if (g->scratch_floats[i])
            rc = graph_buffer(g, g->scratch_floats[i], "shared scratch", &g->scratch[i], err);
    if (!rc)
        rc = dev_kernel(dev, "add_into", &g->add_into, err);
    uint64_t rng = seed;
    for (int i = 0; i < g->n_params && !rc; i++)
        rc = init_param(g, &g->params[i], &rng, err);
    return rc;
}

void graph_free(Graph *g)
{
    for (int i = g->n_owned - 1; i >= 0; i--) /* sub-buffers before their arenas */
        clReleaseMemObject(g->owned[i]);
    if (g->mem)
        memplan_free(g->mem);
    free(g->mem);
    free(g->arenas);
    for (int i = 0; i < g->n_nodes; i++) {
        free(g->nodes[i].state);
        free(g->nodes[i].extra_grads);
    }
    free(g->owned);
    free(g->nodes);
    free(g->params);
    memset(g, 0, sizeof *g);
}

/* ---- non-finite checks ---- */

/* Positions: node i's output is i (forward), the loss n_nodes, node i's
 * gradients 2 * n_nodes - i (backward, computed from the last node down). */
int graph_loss_pos(const Graph *g)
{
    return g->n_nodes;
}

static int positions(const Graph *g)
{
    return 2 * g->n_nodes;
}

int graph_nonfinite_on(Graph *g, Err *err)
{
    const char *kernel = g->dev->plan.gpu ? "find_nonfinite_grid" : "find_nonfinite";
    int rc = dev_kernel(g->dev, kernel, &g->find_nonfinite, err);
    /* ints and floats have the same size in OpenCL C */
    return rc ? rc : graph_buffer(g, 1, "non-finite check", &g->nonfinite, err);
}

int graph_nonfinite_check(Graph *g, cl_mem buf, int offset, int n, int pos, Err *err)
{
    if (!g->nonfinite || !g->training || n <= 0)
        return CLRUN_OK;
    int code = g->check_batch * positions(g) + pos;
    /* a run of CHECK_RUN (cl/check.cl) a work-item on the cpu plan; on the
     * gpu plan, a grid that fills the device, striding over the values */
    const Plan *plan = &g->dev->plan;
    size_t runs = (size_t)(n + 63) / 64, grid = plan->group * (size_t)plan->split_target;
    size_t global[1] = {plan->gpu ? (runs * 64 < grid ? runs * 64 : grid) : runs};
    return DEV_LAUNCH(g->dev, g->find_nonfinite, 1, global, NULL, err, KA(buf), KA(offset), KA(n),
                      KA(g->nonfinite), KA(code));
}

void graph_nonfinite_describe(const Graph *g, int code, char *out, size_t size, int *batch)
{
    int pos = code % positions(g);
    *batch = code / positions(g);
    if (pos == graph_loss_pos(g))
        snprintf(out, size, "the loss");
    else if (pos < g->n_nodes)
        snprintf(out, size, "the output of layer '%s' (forward)", g->nodes[pos].name);
    else
        snprintf(out, size, "the gradients of layer '%s' (backward)",
                 g->nodes[positions(g) - pos].name);
}

/* The gradients node i's backward pass made: to its inputs and its parameters. */
static int check_grads(Graph *g, int i, Err *err)
{
    Node *n = &g->nodes[i];
    int rc = CLRUN_OK, pos = positions(g) - i;
    for (int j = 0; j < n->n_inputs && !rc; j++)
        if (n->in_grad[j])
            rc = graph_nonfinite_check(g, n->in_grad[j], 0,
                                       g->batch * (int)shape_size(n->inputs[j]->out_shape), pos,
                                       err);
    for (int p = 0; p < n->n_params && !rc; p++) {
        Param *q = &g->params[n->params[p]];
        if (q->grad)
            rc = graph_nonfinite_check(g, q->grad, 0, (int)q->count, pos, err);
    }
    return rc;
}

/* ---- passes ---- */

/* Points g's scratch at n's slots for a pass, where the plan gave it its own. */
static void use_scratch(Graph *g, const Node *n, int pass)
{
    if (!g->mem)
        return;
    memcpy(g->scratch, n->scratch[pass], sizeof g->scratch);
    memcpy(g->scratch_floats, n->scratch_floats[pass], sizeof g->scratch_floats);
}

/* The forward of the nodes after done, up to last. */
static int forward_after(Graph *g, const Node *done, const Node *last, Err *err)
{
    for (int i = (int)(done - g->nodes) + 1; i <= last - g->nodes; i++) {
        Node *n = &g->nodes[i];
        dev_profile_tag(g->dev, "%s forward", n->name);
        use_scratch(g, n, MEM_FORWARD);
        int rc = n->type->forward ? n->type->forward(n, g, err) : CLRUN_OK;
        if (!rc)
            rc = graph_nonfinite_check(g, n->out, 0, g->batch * (int)shape_size(n->out_shape), i,
                                       err);
        if (rc)
            return rc;
    }
    return CLRUN_OK;
}

int graph_forward(Graph *g, Err *err)
{
    return graph_forward_to(g, graph_output(g), err);
}

int graph_forward_to(Graph *g, const Node *last, Err *err)
{
    return forward_after(g, g->nodes, last, err);
}

int graph_forward_visiting(Graph *g, Node *const *nodes, int n, GraphVisit visit, void *ctx,
                           Err *err)
{
    const Node *done = g->nodes;
    int rc = CLRUN_OK;
    while (!rc) {
        int next = -1; /* the earliest of nodes not yet visited */
        for (int i = 0; i < n; i++)
            if (nodes[i] > done && (next < 0 || nodes[i] < nodes[next]))
                next = i;
        if (next < 0)
            break;
        rc = forward_after(g, done, nodes[next], err);
        for (int i = 0; i < n && !rc; i++) /* a node named twice is visited twice */
            if (nodes[i] == nodes[next])
                rc = visit(i, ctx, err);
        done = nodes[next];
    }
    return rc;
}

/* grad += each extra consumer's gradient, in a fixed order. */
static int gather_grads(Graph *g, Node *n, Err *err)
{
    int count = g->batch * (int)shape_size(n->out_shape);
    size_t global[1] = {(size_t)count};
    for (int i = 0; i < n->n_extra_grads; i++) {
        int rc = DEV_LAUNCH(g->dev, g->add_into, 1, global, NULL, err, KA(n->grad),
                            KA(n->extra_grads[i]), KA(count));
        if (rc)
            return rc;
    }
    return CLRUN_OK;
}

int graph_backward(Graph *g, Err *err)
{
    for (int i = g->n_nodes - 1; i >= 1; i--) {
        Node *n = &g->nodes[i];
        dev_profile_tag(g->dev, "%s backward", n->name);
        use_scratch(g, n, MEM_BACKWARD);
        int rc = gather_grads(g, n, err);
        if (!rc && n->type->backward)
            rc = n->type->backward(n, g, err);
        if (!rc)
            rc = check_grads(g, i, err);
        if (rc)
            return rc;
    }
    return CLRUN_OK;
}

/* ---- summary ---- */

void graph_summary(const Graph *g, FILE *out)
{
    fprintf(out, "Model: %s\n", g->name);
    fprintf(out, "%-24s %-14s %-18s %12s\n", "Layer", "Type", "Output shape", "Param #");
    char count[TEXT_NUMBER_MAX];
    for (int i = 0; i < g->n_nodes; i++) {
        const Node *n = &g->nodes[i];
        char shape[64];
        long params = 0;
        for (int p = 0; p < n->n_params; p++)
            if (g->params[n->params[p]].init.trainable)
                params += (long)g->params[n->params[p]].count;
        shape_format(n->out_shape, shape, sizeof shape);
        fprintf(out, "%-24s %-14s %-18s %12s\n", n->name, n->type ? n->type->name : "input", shape,
                text_thousands(params, count));
    }
    /* Keras' lines; the total is the trainable count, as PyTorch and the seeds
     * count it (a model's running statistics are not its parameters) */
    long buffers = graph_param_count(g, 0), trained = graph_param_count(g, 1);
    fprintf(out, "Trainable params: %s\n", text_thousands(trained, count));
    fprintf(out, "Non-trainable params: %s%s\n", text_thousands(buffers, count),
            buffers ? " (batchnorm running statistics: not in the total, as PyTorch counts)" : "");
    fprintf(out, "Total params: %s\n", text_thousands(trained, count));
}

void graph_summary_tensors(const Graph *g, FILE *out)
{
    char count[TEXT_NUMBER_MAX];
    fprintf(out, "%-40s %-20s %12s  %s\n", "Tensor", "Shape", "Count", "Trained");
    for (int i = 0; i < g->n_params; i++) {
        const Param *p = &g->params[i];
        char shape[64] = "[";
        for (int d = 0; d < p->ndim; d++)
            snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "%s%ld", d ? ", " : "",
                     p->dims[d]);
        snprintf(shape + strlen(shape), sizeof shape - strlen(shape), "]");
        fprintf(out, "%-40s %-20s %12s  %s\n", p->name, shape,
                text_thousands((long)p->count, count), p->init.trainable ? "yes" : "no (buffer)");
    }
    fprintf(out, "Trainable params: %s\n", text_thousands(graph_param_count(g, 1), count));
    fprintf(out, "Non-trainable params: %s\n\n", text_thousands(graph_param_count(g, 0), count));
}

/* ---- weights ---- */

int graph_map_tensor(Graph *g, const Param *p, const char *name, cl_mem m, StTensor *t, Err *err)
{
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = p->ndim;
    memcpy(t->shape, p->dims, sizeof p->dims);
    t->count = p->count;
    void *host;
    int rc = dev_map_read(g->dev, m, p->count * sizeof(float), &host, err);
    t->data = rc ? NULL : host;
    return rc;
}

static int unmap_tensor(Graph *g, cl_mem m, StTensor *t, Err *err)
{
    int rc = t->data ? dev_unmap(g->dev, m, t->data, err) : CLRUN_OK;
    t->data = NULL;
    return rc;
}

int graph_unmap_tensors(Graph *g, cl_mem *mem, StTensor *t, int n, int rc, Err *err)
{
    for (int i = 0; t && i < n; i++) {
        Err later;
        int unmapped = unmap_tensor(g, mem[i], &t[i], rc ? &later : err);
        rc = rc ? rc : unmapped;
    }
    return rc;
}

int graph_save_weights(Graph *g, const char *path, Err *err)
{
    StTensor *t = calloc((size_t)g->n_params, sizeof *t);
    cl_mem *mem = calloc((size_t)g->n_params, sizeof *mem);
    int rc = t && mem ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int i = 0; i < g->n_params && !rc; i++) {
        mem[i] = g->params[i].value;
        rc = graph_map_tensor(g, &g->params[i], g->params[i].name, mem[i], &t[i], err);
    }
    static const char *const meta[] = {"format", "pt"};
    if (!rc)
        rc = st_write(path, t, g->n_params, meta, 1, err);
    rc = graph_unmap_tensors(g, mem, t, g->n_params, rc, err);
    free(mem);
    free(t);
    return rc;
}

static int check_tensor(const Param *p, const StTensor *t, const char *path, Err *err)
{
    int same = t->ndim == p->ndim;
    for (int d = 0; same && d < p->ndim; d++)
        same = t->shape[d] == p->dims[d];
    if (same)
        return CLRUN_OK;
    char want[96] = "[", got[96] = "[";
    for (int d = 0; d < p->ndim; d++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%ld", d ? ", " : "", p->dims[d]);
    for (int d = 0; d < t->ndim && d < 8; d++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%ld", d ? ", " : "", t->shape[d]);
    return err_set(err, CLRUN_EINPUT, "%s: '%s' has shape %s], the model needs %s]", path, p->name,
                   got, want);
}

int graph_write_tensor(Graph *g, const Param *p, const StFile *f, const char *name, cl_mem m,
                       const char *path, Err *err)
{
    const StTensor *t = st_find(f, name);
    if (!t)
        return err_set(err, CLRUN_EINPUT, "%s: no tensor '%s' for the model's parameter", path, name);
    int rc = check_tensor(p, t, path, err);
    return rc ? rc : dev_write(g->dev, m, 0, p->count * sizeof(float), t->data, err);
}

int graph_load_weights(Graph *g, const char *path, Err *err)
{
    StFile f;
    int rc = st_read(path, &f, err);
    if (rc)
        return rc;
    for (int i = 0; i < f.n && !rc; i++) {
        /* PyTorch's batch counter of batchnorm: we keep no such state */
        const char *dot = strrchr(f.t[i].name, '.');
        int known = dot && strcmp(dot, ".num_batches_tracked") == 0;
        for (int p = 0; p < g->n_params && !known; p++)
            known = strcmp(g->params[p].name, f.t[i].name) == 0;
        if (!known)
            rc = err_set(err, CLRUN_EINPUT, "%s: tensor '%s' matches no parameter of model '%s'",
                         path, f.t[i].name, g->name);
        for (size_t k = 0; !rc && k < f.t[i].count; k++)
            if (!isfinite(f.t[i].data[k])) /* else it surfaces later as a NaN loss */
                rc = err_set(err, CLRUN_EINPUT, "%s: tensor '%s' holds %s (value %zu): these "
                             "weights are not usable", path, f.t[i].name,
                             isnan(f.t[i].data[k]) ? "NaN" : "an infinity", k);
    }
    for (int i = 0; i < g->n_params && !rc; i++)
        rc = graph_write_tensor(g, &g->params[i], &f, g->params[i].name, g->params[i].value, path,
                                err);
    st_free(&f);
    return rc;
}
