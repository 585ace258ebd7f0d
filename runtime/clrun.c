/* clrun.c: the command line. Parses argv, calls the library, and maps its
 * status to the exit code: 0 success, 1 runtime failure, 2 bad input or usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "experiment.h"
#include "graph.h"
#include "train.h"

static const char usage[] =
    "usage:\n"
    "  clrun devices                        list OpenCL platforms and devices\n"
    "  clrun summary FILE.yaml [KEY=VALUE ...]\n"
    "                                       layer table of a model or experiment\n"
    "  clrun run EXP.yaml [KEY=VALUE ...] [--device SPEC] [--out DIR] [--weights FILE]\n"
    "                 [--profile]           train and evaluate an experiment\n"
    "SPEC is P:D by index or name (0:0, pocl, nvidia:0); also $CLRUN_DEVICE.\n"
    "KEY=VALUE overrides a setting by dotted path: train.batch_size=128,\n"
    "optimizer.learning_rate=0.001, model.layers.fc1.units=64.\n";

typedef struct {
    const char *file;
    char **overrides;
    int n_overrides;
    RunOptions run;
} Args;

static int usage_error(const char *fmt, const char *what)
{
    fprintf(stderr, "clrun: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n%s", usage);
    return CLRUN_EINPUT;
}

/* Splits argv after the command into the file, overrides and options. */
static int parse_args(int argc, char **argv, int with_options, Args *a)
{
    memset(a, 0, sizeof *a);
    a->overrides = calloc((size_t)argc, sizeof *a->overrides);
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char **opt = NULL;
        if (with_options && strcmp(arg, "--profile") == 0) {
            a->run.profile = 1;
            continue;
        }
        if (with_options && strcmp(arg, "--device") == 0)
            opt = &a->run.device;
        else if (with_options && strcmp(arg, "--out") == 0)
            opt = &a->run.out_dir;
        else if (with_options && strcmp(arg, "--weights") == 0)
            opt = &a->run.weights;
        if (opt) {
            if (i + 1 == argc)
                return usage_error("%s needs a value", arg);
            *opt = argv[++i];
        } else if (arg[0] == '-') {
            return usage_error("unknown option '%s'", arg);
        } else if (strchr(arg, '=')) {
            a->overrides[a->n_overrides++] = argv[i];
        } else if (!a->file) {
            a->file = arg;
        } else {
            return usage_error("unexpected argument '%s' (overrides are KEY=VALUE)", arg);
        }
    }
    return a->file ? CLRUN_OK : usage_error("%s", "a YAML file is needed");
}

static int cmd_devices(Err *err)
{
    return dev_list(stdout, err);
}

static int cmd_summary(Args *a, Err *err)
{
    Experiment e;
    Graph g;
    memset(&g, 0, sizeof g);
    int rc = experiment_load(&e, a->file, a->overrides, a->n_overrides, err);
    if (!rc) rc = graph_build(&g, e.model, err);
    if (!rc)
        graph_summary(&g, stdout);
    graph_free(&g);
    experiment_free(&e);
    return rc;
}

static int cmd_run(Args *a, Err *err)
{
    Experiment e;
    int rc = experiment_load(&e, a->file, a->overrides, a->n_overrides, err);
    if (!rc && e.model == e.root)
        rc = err_set(err, CLRUN_EINPUT, "%s: this is a model; `clrun run` needs an experiment "
                     "(model:, data:, optimizer:, loss:, train:)", a->file);
    if (!rc)
        rc = train_run(&e, &a->run, err);
    experiment_free(&e);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLRUN_EINPUT : CLRUN_OK;
    }
    Err err = {""};
    Args a;
    memset(&a, 0, sizeof a);
    int rc;
    const char *cmd = argv[1];
    if (strcmp(cmd, "devices") == 0)
        rc = argc == 2 ? cmd_devices(&err) : usage_error("%s takes no arguments", cmd);
    else if (strcmp(cmd, "summary") == 0)
        rc = parse_args(argc - 2, argv + 2, 0, &a) ? CLRUN_EINPUT : cmd_summary(&a, &err);
    else if (strcmp(cmd, "run") == 0)
        rc = parse_args(argc - 2, argv + 2, 1, &a) ? CLRUN_EINPUT : cmd_run(&a, &err);
    else
        rc = usage_error("unknown command '%s'", cmd);
    if (rc && err.msg[0])
        fprintf(stderr, "clrun: %s\n", err.msg);
    free(a.overrides);
    return rc;
}
