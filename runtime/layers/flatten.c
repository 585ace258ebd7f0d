/* flatten.c: [C, H, W] -> [C*H*W]. The data is already laid out that way, so
 * the node shares its input's buffers and launches nothing. */
#include "layers/layers.h"

static int flatten_infer(Node *n, Graph *g, Err *err)
{
    (void)g;
    int rc = single_input(n, err);
    if (!rc)
        n->out_shape = (Shape){1, {(int)shape_size(n->inputs[0]->out_shape)}};
    return rc;
}

static unsigned flatten_memory(const Node *n)
{
    (void)n;
    return MEM_SHARES_INPUT;
}

const LayerType layer_flatten = {"flatten", NULL, flatten_infer, NULL, NULL, NULL,
                                 flatten_memory, NULL};
