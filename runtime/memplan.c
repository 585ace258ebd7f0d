/* memplan.c: lifetimes of a graph's tensors and their offsets in shared
 * arenas (see memplan.h). */
#include "memplan.h"

#include <stdlib.h>
#include <string.h>

#include "graph.h"
#include "layers/layers.h"

int memplan_forward_step(const Graph *g, int node)
{
    (void)g;
    return node;
}

int memplan_loss_step(const Graph *g)
{
    return g->n_nodes;
}

int memplan_backward_step(const Graph *g, int node)
{
    return 2 * g->n_nodes - node;
}

/* The optimizer's step, after every backward: what outlives the batch ends here. */
static int end_step(const Graph *g)
{
    return 2 * g->n_nodes;
}

int memplan_enabled(void)
{
    const char *v = getenv("CLRUN_MEMPLAN");
    return !v || strcmp(v, "0") != 0;
}

/* When node i's buffers are used, through the nodes that share them
 * (flatten): the last step that reads its output, the earliest and the
 * latest steps that write its gradient buffer, and whether a node shares
 * them. */
typedef struct {
    int out_last, grad_first, grad_latest, shared;
} Uses;

static int max_int(int a, int b) { return a > b ? a : b; }
static int min_int(int a, int b) { return a < b ? a : b; }

static void fold_uses(const Graph *g, int i, Uses *u)
{
    int out = g->n_nodes - 1, loss = memplan_loss_step(g);
    if (i == out) { /* the loss reads it and writes its gradient; predictions read it after */
        u->out_last = end_step(g);
        u->grad_first = min_int(u->grad_first, loss);
        u->grad_latest = max_int(u->grad_latest, loss);
    }
    for (int c = i + 1; c < g->n_nodes; c++) {
        const Node *n = &g->nodes[c];
        for (int j = 0; j < n->n_inputs; j++) {
            if (n->inputs[j] != &g->nodes[i])
                continue;
            unsigned m = layer_memory(n);
            if (m & MEM_SHARES_INPUT) {
                u->shared = 1;
                fold_uses(g, c, u);
                continue;
            }
            /* the consumer of the output node: the loss may fuse with it,
             * reading its input and writing that input's gradient */
            int writes = c == out ? loss : memplan_backward_step(g, c);
            u->out_last = max_int(u->out_last, c == out ? loss : c);
            if (m & MEM_READS_INPUTS)
                u->out_last = max_int(u->out_last, memplan_backward_step(g, c));
            u->grad_first = min_int(u->grad_first, writes);
            u->grad_latest = max_int(u->grad_latest, writes);
        }
    }
}

/* The node whose buffers node i's are. */
static int root_of(const Graph *g, int i)
{
    while (i > 0 && (layer_memory(&g->nodes[i]) & MEM_SHARES_INPUT))
        i = (int)(g->nodes[i].inputs[0] - g->nodes);
    return i;
}

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

size_t memplan_scratch_at(const Node *n, int pass, int s, size_t align)
{
    size_t at = 0;
    for (int k = 0; k < s; k++)
        at += round_up(n->scratch_floats[pass][k] * sizeof(float), align);
    return at;
}

static int add_tensor(MemPlan *p, MemTensor t, Err *err)
{
    MemTensor *grown = realloc(p->t, (size_t)(p->n + 1) * sizeof *grown);
    if (!grown)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    p->t = grown;
    p->t[p->n++] = t;
    if (t.kind != MEM_SCRATCH) /* without a plan the layers share a buffer a slot */
        p->separate += t.bytes;
    return CLRUN_OK;
}

static size_t node_bytes(const Graph *g, int i, int batch)
{
    return (size_t)batch * (size_t)shape_size(g->nodes[i].out_shape) * sizeof(float);
}

/* Node i's output and gradient. Its gradient is written whole (never added
 * to) by the backward of its first consumer, which runs last of them; the
 * later consumers write buffers of their own (extra_tensors). A gradient
 * nothing writes (a layer nothing reads, not the output) is kept for the
 * whole step, as a buffer of its own would be. */
static int node_tensors(MemPlan *p, const Graph *g, int i, int batch, Err *err)
{
    const Node *n = &g->nodes[i];
    Uses u = {i, end_step(g), -1, 0};
    fold_uses(g, i, &u);
    if (layer_memory(n) & MEM_READS_OUTPUT)
        u.out_last = max_int(u.out_last, memplan_backward_step(g, i));
    size_t bytes = node_bytes(g, i, batch);
    MemTensor out = {MEM_OUT, i, 0, 0, bytes, i, u.out_last, 0};
    MemTensor grad = {MEM_GRAD, i, 0, 0, bytes, u.shared ? u.grad_first : u.grad_latest,
                      memplan_backward_step(g, i), 0};
    if (u.grad_latest < 0)
        grad.first = 0, grad.last = end_step(g);
    int rc = add_tensor(p, out, err);
    return rc ? rc : add_tensor(p, grad, err);
}

/* The buffers in which node c's backward writes the gradient of inputs that
 * an earlier consumer writes the own gradient of (graph_input_grad_shared):
 * from the step that first writes them (through nodes sharing c's, for a
 * flatten) to the backward of the input, which adds them up. */
static int extra_tensors(MemPlan *p, const Graph *g, int c, int batch, Err *err)
{
    const Node *n = &g->nodes[c];
    int rc = CLRUN_OK;
    for (int j = 0; j < n->n_inputs && !rc; j++) {
        int in = (int)(n->inputs[j] - g->nodes);
        if (root_of(g, in) == 0 || !graph_input_grad_shared(n, j))
            continue;
        Uses u = {c, end_step(g), -1, 0};
        int first = memplan_backward_step(g, c);
        if (layer_memory(n) & MEM_SHARES_INPUT) {
            fold_uses(g, c, &u);
            first = u.grad_latest < 0 ? 0 : u.grad_first;
        } else if (c == g->n_nodes - 1) {
            first = memplan_loss_step(g);
        }
        MemTensor t = {MEM_EXTRA_GRAD, in, c, j, node_bytes(g, in, batch), first,
                       memplan_backward_step(g, in), 0};
        rc = add_tensor(p, t, err);
    }
    return rc;
}

/* Node i's scratch for one pass, live in that pass's step alone: a layer's
 * scratch holds nothing from one launch of it to the next. */
static int scratch_tensor(MemPlan *p, const Graph *g, int i, int pass, Err *err)
{
    size_t bytes = memplan_scratch_at(&g->nodes[i], pass, SCRATCH_SLOTS, p->align);
    int step = pass == MEM_FORWARD ? memplan_forward_step(g, i) : memplan_backward_step(g, i);
    MemTensor t = {MEM_SCRATCH, i, 0, pass, bytes, step, step, 0};
    return bytes ? add_tensor(p, t, err) : CLRUN_OK;
}

static int meet(const MemTensor *a, const MemTensor *b)
{
    return a->first <= b->last && b->first <= a->last;
}

/* The lowest offset from `at` (aligned) where bytes fit without crossing a
 * multiple of cap. */
static size_t fit_from(const MemPlan *p, size_t at, size_t bytes)
{
    at = round_up(at, p->align);
    if (p->cap && at / p->cap != (at + bytes - 1) / p->cap)
        at = round_up(at, p->cap);
    return at;
}

/* Best fit: the smallest gap between the placed tensors that meet t in time
 * which holds t, else the first offset past all of them. */
static size_t place(const MemPlan *p, const MemTensor *t, const int *placed, int n_placed)
{
    size_t best = (size_t)-1, best_gap = (size_t)-1, at = 0;
    for (;;) { /* the gaps in order of offset: the next placed tensor at or after `at` */
        const MemTensor *next = NULL;
        for (int k = 0; k < n_placed; k++) {
            const MemTensor *q = &p->t[placed[k]];
            if (meet(q, t) && q->offset + q->bytes > at && (!next || q->offset < next->offset))
                next = q;
        }
        size_t from = fit_from(p, at, t->bytes);
        if (!next)
            return best != (size_t)-1 ? best : from;
        if (next->offset >= from + t->bytes && next->offset - from < best_gap)
            best = from, best_gap = next->offset - from;
        if (next->offset + next->bytes > at)
            at = next->offset + next->bytes;
    }
}

/* Orders to place tensors in, each a key to sort by, largest first: best
 * fit is a heuristic, and which order packs tightest depends on the graph
 * (the layers' scratch, live for one step, packs best among the long-lived
 * tensors' gaps when placed last). */
static double by_bytes(const MemTensor *t)
{
    return (double)t->bytes;
}

static double by_lifetime(const MemTensor *t)
{
    return (t->last - t->first) * 1e15 + (double)t->bytes;
}

static double by_area(const MemTensor *t)
{
    return (double)(t->last - t->first + 1) * (double)t->bytes;
}

static double (*const orders[])(const MemTensor *) = {by_bytes, by_lifetime, by_area};

typedef struct {
    const MemTensor *t;
    double (*key)(const MemTensor *);
} OrderBy;

static int larger_first(const void *a, const void *b, void *by)
{
    const OrderBy *o = by;
    int i = *(const int *)a, j = *(const int *)b;
    double x = o->key(&o->t[i]), y = o->key(&o->t[j]);
    if (x != y)
        return x < y ? 1 : -1;
    return i - j;
}

/* Places the tensors in order; returns the bytes they span. */
static size_t place_all(MemPlan *p, const int *order)
{
    size_t total = 0;
    for (int k = 0; k < p->n; k++) {
        MemTensor *t = &p->t[order[k]];
        t->offset = place(p, t, order, k);
        if (t->offset + t->bytes > total)
            total = t->offset + t->bytes;
    }
    return total;
}

/* Best fit in each order; keeps the tightest (the first of equals). */
static int assign_offsets(MemPlan *p, Err *err)
{
    int n_orders = (int)(sizeof orders / sizeof orders[0]), best = 0;
    int *order = malloc((size_t)(p->n ? p->n : 1) * sizeof *order);
    if (!order)
        return err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int pass = 0; pass <= n_orders; pass++) { /* the last pass redoes the best */
        OrderBy by = {p->t, orders[pass < n_orders ? pass : best]};
        for (int i = 0; i < p->n; i++)
            order[i] = i;
        qsort_r(order, (size_t)p->n, sizeof *order, larger_first, &by);
        size_t total = place_all(p, order);
        if (pass < n_orders && (pass == 0 || total < p->total))
            best = pass, p->total = total;
    }
    free(order);
    return CLRUN_OK;
}

/* Each tensor must fit one arena. */
static int check_cap(const MemPlan *p, const Graph *g, Err *err)
{
    for (int i = 0; p->cap && i < p->n; i++)
        if (p->t[i].bytes > p->cap)
            return err_set(err, CLRUN_ERUNTIME, "layer '%s' needs %.1f MiB in one buffer but the "
                           "device allows at most %.1f MiB: try a smaller train.batch_size or "
                           "another device with --device", g->nodes[p->t[i].node].name,
                           p->t[i].bytes / 1048576.0, p->cap / 1048576.0);
    return CLRUN_OK;
}

int memplan_build(MemPlan *p, const Graph *g, int batch, size_t align, size_t cap, Err *err)
{
    memset(p, 0, sizeof *p);
    p->steps = end_step(g) + 1;
    p->align = align ? align : 1;
    p->cap = cap / p->align * p->align;
    int rc = CLRUN_OK;
    for (int i = 1; i < g->n_nodes && !rc; i++)
        if (!(layer_memory(&g->nodes[i]) & MEM_SHARES_INPUT))
            rc = node_tensors(p, g, i, batch, err);
    for (int c = 1; c < g->n_nodes && !rc; c++)
        rc = extra_tensors(p, g, c, batch, err);
    for (int i = 1; i < g->n_nodes && !rc; i++)
        rc = scratch_tensor(p, g, i, MEM_FORWARD, err);
    for (int i = 1; i < g->n_nodes && !rc; i++)
        rc = scratch_tensor(p, g, i, MEM_BACKWARD, err);
    for (int s = 0; s < SCRATCH_SLOTS; s++)
        p->separate += g->scratch_floats[s] * sizeof(float);
    if (!rc)
        rc = check_cap(p, g, err);
    if (!rc)
        rc = assign_offsets(p, err);
    if (rc)
        memplan_free(p);
    return rc;
}

void memplan_free(MemPlan *p)
{
    free(p->t);
    memset(p, 0, sizeof *p);
}

const MemTensor *memplan_find(const MemPlan *p, MemKind kind, int node, int consumer, int slot)
{
    for (int i = 0; i < p->n; i++) {
        const MemTensor *t = &p->t[i];
        if (t->kind == kind && t->node == node && (kind == MEM_OUT || kind == MEM_GRAD ||
            ((kind == MEM_SCRATCH || t->consumer == consumer) && t->slot == slot)))
            return t;
    }
    return NULL;
}

size_t memplan_live_peak(const MemPlan *p)
{
    size_t peak = 0;
    for (int s = 0; s < p->steps; s++) {
        size_t live = 0;
        for (int i = 0; i < p->n; i++)
            if (p->t[i].first <= s && s <= p->t[i].last)
                live += p->t[i].bytes;
        peak = live > peak ? live : peak;
    }
    return peak;
}

static void print_mib(FILE *out, const char *what, double bytes, const char *note)
{
    fprintf(out, "%-44s %10.1f MiB%s\n", what, bytes / 1048576.0, note);
}

int memplan_summary(Graph *g, const Plan *plan, const char *device, int batch, FILE *out,
                    Err *err)
{
    MemPlan p;
    graph_plan_scratch(g, plan, batch);
    int rc = memplan_build(&p, g, batch, 128, 0, err);
    if (rc)
        return rc;
    double params = 4.0 * (double)(graph_param_count(g, 1) + graph_param_count(g, 0));
    double trained = 4.0 * (double)graph_param_count(g, 1);
    double input = 4.0 * batch * (double)shape_size(g->nodes[0].out_shape);
    fprintf(out, "Device memory planned for batches of %d on %s (%s kernel plan):\n", batch,
            device, plan_name(plan));
    print_mib(out, "  activations, gradients, scratch, planned", (double)p.total, "");
    print_mib(out, "  the same, a buffer each (CLRUN_MEMPLAN=0)", (double)p.separate, "");
    print_mib(out, "  most live at one step", (double)memplan_live_peak(&p), "");
    print_mib(out, "  input batch", input, "");
    print_mib(out, "  parameters and buffers", params, "");
    print_mib(out, "  their gradients", trained, "");
    print_mib(out, "  optimizer state (Adam's two moments)", 2 * trained,
              " at most; SGD without momentum none");
    print_mib(out, "Total planned", (double)p.total + input + params + 3 * trained, "\n");
    memplan_free(&p);
    return CLRUN_OK;
}
