/* spec.c: libFuzzer target for the YAML spec loader (spec_load).
 *
 * Any bytes must load or fail with a message, never crash or leak. A tree
 * that loads is also written with spec_write and loaded again, which must
 * give the same tree (spec.h promises that round trip), and is then checked
 * for unused keys, which walks the "did you mean" suggestions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "spec.h"

/* Same kinds, keys and values all the way down. */
static int same_tree(const SpecNode *a, const SpecNode *b)
{
    if (a->kind != b->kind || a->n != b->n || !a->key != !b->key ||
        (a->key && strcmp(a->key, b->key) != 0))
        return 0;
    if (a->kind == SPEC_SCALAR)
        return strcmp(a->value, b->value) == 0;
    for (int i = 0; i < a->n; i++)
        if (!same_tree(a->items[i], b->items[i]))
            return 0;
    return 1;
}

static void round_trip(const SpecNode *root)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m || spec_write(m, root, 0) != CLRUN_OK || fclose(m) != 0)
        abort();
    Err err;
    SpecNode *again = spec_load(fuzz_file(1, (const uint8_t *)text, len), &err);
    if (!again || !same_tree(root, again)) {
        fprintf(stderr, "spec_write wrote what does not read back the same:\n%s\n%s\n", text,
                again ? "" : err.msg);
        abort();
    }
    spec_free(again);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    Err err;
    SpecNode *root = spec_load(fuzz_file(0, data, size), &err);
    if (!root)
        return 0;
    round_trip(root);
    spec_check_unused(root, NULL, &err);
    spec_free(root);
    return 0;
}
