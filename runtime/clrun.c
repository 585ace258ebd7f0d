/* clrun.c: the command line. Parses argv, calls the library, and maps its
 * status to the exit code: 0 success, 1 runtime failure, 2 bad input or usage. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calibrate.h"
#include "compare.h"
#include "device.h"
#include "experiment.h"
#include "extract.h"
#include "graph.h"
#include "interrupt.h"
#include "merge.h"
#include "rundir.h"
#include "sweep_run.h"
#include "train.h"
#include "version.h"

static const char usage[] =
    "usage:\n"
    "  clrun devices                        list OpenCL platforms and devices\n"
    "  clrun summary FILE.yaml [KEY=VALUE ...] [--tensors] [--batch N [--device SPEC]\n"
    "                 [--kernels cpu|gpu]]  layer table of a model or experiment\n"
    "  clrun run EXP.yaml [KEY=VALUE ...] [--device SPEC] [--out DIR] [--weights FILE]\n"
    "                 [--profile] [--kernels cpu|gpu] [--trace-launches FILE]\n"
    "                 [--overwrite]         train and evaluate an experiment\n"
    "  clrun evaluate EXP.yaml --weights FILE [KEY=VALUE ...] [--split test|val|train]\n"
    "                 [--per-class] [--device SPEC]\n"
    "                                       loss and accuracy of saved weights\n"
    "  clrun predict EXP.yaml --weights FILE [KEY=VALUE ...] [--out FILE.csv] [--invert]\n"
    "                 PATH...               class probabilities of images (files, folders)\n"
    "  clrun features EXP.yaml --weights FILE --layers A,B,... [KEY=VALUE ...]\n"
    "                 [--images TABLE|FOLDER] [--split test|train] [--out DIR]\n"
    "                                       layer outputs as .npy, and the row table\n"
    "  clrun sweep EXP.yaml [KEY=VALUE ...] [KEY=A,B,...] [--count | --list | --index I |\n"
    "                 --jobs N] [--device SPEC,... | all] [--out ROOT] [--overwrite]\n"
    "                                       the grid of the experiment's sweep: block\n"
    "  clrun merge ROOT [--metric NAME]     results.csv and figures of a sweep\n"
    "  clrun compare RUN RUN... [--metric NAME,...] [--out FILE]   histories overlaid\n"
    "  clrun help [COMMAND]                 this text, or one command's (COMMAND --help)\n"
    "  clrun --version                      clrun's version\n"
    "SPEC is P:D by index or name (0:0, pocl, nvidia:0); also $CLRUN_DEVICE.\n"
    "--kernels forces the kernel plan (also $CLRUN_KERNELS; by default the faster of cpu\n"
    "and gpu by calibration); --trace-launches writes a line per kernel launch.\n"
    "KEY=VALUE overrides a setting by dotted path: train.batch_size=128,\n"
    "optimizer.learning_rate=0.001, model.layers.fc1.units=64. For sweep, KEY=A,B,...\n"
    "sweeps KEY over those values; without --index, $SLURM_ARRAY_TASK_ID or\n"
    "$JOB_COMPLETION_INDEX picks the point, else the whole grid runs (--jobs 1).\n"
    "Options that take a value are written --out DIR or --out=DIR.\n";

/* Each command's own help: `clrun help COMMAND` and `clrun COMMAND --help`. */
static const struct {
    const char *name, *help;
} command_help[] = {
    {"devices", "usage: clrun devices\n"
                "Lists every OpenCL device as \"P:D  TYPE  NAME  (PLATFORM, driver DRIVER,\n"
                "kernels PLAN)\"; P:D is what --device and $CLRUN_DEVICE take.\n"},
    {"summary", "usage: clrun summary FILE.yaml [KEY=VALUE ...] [--tensors]\n"
                "                     [--batch N [--device SPEC] [--kernels cpu|gpu]]\n"
                "The layer table of a model or experiment: each layer's type, output shape and\n"
                "parameters; the last line is \"Total params: N\". --tensors lists every\n"
                "parameter tensor first, with its PyTorch name and shape, and the trainable\n"
                "and non-trainable counts. --batch N first prints the device memory that\n"
                "training in batches of N is planned to take on the device `run` would use\n"
                "(or --device), whose kernel plan decides the layers' scratch.\n"},
    {"run", "usage: clrun run EXP.yaml [KEY=VALUE ...] [--device SPEC] [--out DIR]\n"
            "                 [--weights FILE] [--profile] [--kernels cpu|gpu]\n"
            "                 [--trace-launches FILE] [--overwrite]\n"
            "Trains and evaluates the experiment into runs/NAME (or --out DIR): history.csv,\n"
            "weights.safetensors, a checkpoint, figures and analyses. Running the same\n"
            "command again resumes a stopped run; raising train.epochs alone extends a\n"
            "stopped or finished run; the same command again prints a finished run's\n"
            "result; it is otherwise kept unless --overwrite is given (or another --out).\n"
            "--weights starts from saved weights (train.epochs=0 only evaluates and\n"
            "analyses them); --profile times each kernel.\n"
            "--kernels forces the kernel plan (also $CLRUN_KERNELS; by default the faster of\n"
            "cpu and gpu by calibration); --trace-launches writes a line per kernel launch.\n"},
    {"evaluate", "usage: clrun evaluate EXP.yaml --weights FILE [KEY=VALUE ...]\n"
                 "                 [--split test|val|train] [--per-class] [--device SPEC]\n"
                 "Prints the loss and accuracy of the weights on one split of the experiment's\n"
                 "data (test by default; val needs data.validation_split), with --per-class\n"
                 "each class's examples, correct predictions and accuracy. Writes nothing and\n"
                 "runs no analyses (`clrun run EXP.yaml train.epochs=0 --weights FILE` does).\n"},
    {"predict", "usage: clrun predict EXP.yaml --weights FILE [KEY=VALUE ...] [--out FILE.csv]\n"
                "                 [--invert] [--device SPEC] PATH...\n"
                "Reads the images (PNG or JPEG files, or the image files of folders) as the\n"
                "experiment's data are read: its image options for folder data, else the\n"
                "model's input size and channels; --invert swaps black and white (dark writing\n"
                "on a light page for MNIST's light on dark). Writes predictions.csv (or --out):\n"
                "file, predicted class, and a probability per class.\n"},
    {"features",
     "usage: clrun features EXP.yaml --weights FILE --layers A,B,... [KEY=VALUE ...]\n"
     "                 [--images TABLE|FOLDER] [--split test|train] [--out DIR]\n"
     "                 [--device SPEC] [--kernels cpu|gpu] [--profile]\n"
     "Runs images through the weights and writes, for each layer --layers names, LAYER.npy:\n"
     "float32, a row per image and a column per unit, each image's output flattened in\n"
     "PyTorch's order (channel, row, column), as numpy.load and reshape(n, -1) give it;\n"
     "and images.csv beside them, which image each row is: the rows of the table the\n"
     "images came from, in order, or path,label for a folder (index,label for MNIST and\n"
     "the like). The images are the experiment's test split (--split train: its\n"
     "training split), or --images: a CSV table of image paths (with the experiment's\n"
     "path and label columns when its data are a table) or a folder of images (in class\n"
     "folders or not), read as the experiment's images are. The files go to --out DIR,\n"
     "else to features/ beside the weights; an unknown layer is refused naming them all.\n"},
    {"sweep", "usage: clrun sweep EXP.yaml [KEY=VALUE ...] [KEY=A,B,...] [--count | --list |\n"
              "                 --index I | --jobs N] [--device SPEC,... | all] [--out ROOT]\n"
              "                 [--kernels cpu|gpu] [--overwrite]\n"
              "Runs the grid of the experiment's sweep: block (or of KEY=A,B,... overrides)\n"
              "into ROOT/NNNN, then merges it. --count and --list show the grid; --index I\n"
              "(or $SLURM_ARRAY_TASK_ID, $JOB_COMPLETION_INDEX) runs one point; --jobs N\n"
              "runs N points at a time. A point finished with other settings is refused, or\n"
              "trained again with --overwrite.\n"},
    {"compare", "usage: clrun compare RUN RUN... [--metric NAME[,NAME...]] [--out FILE]\n"
                "Overlays the runs' histories: a panel per metric (test_loss,test_accuracy by\n"
                "default; any history.csv column), a line per run, named by the settings in\n"
                "which the runs differ. Writes compare.png beside the first run, or --out.\n"},
    {"merge", "usage: clrun merge ROOT [--metric NAME]\n"
              "Writes ROOT/results.csv (a row per finished point) and the sweep's figures;\n"
              "--metric picks the figures' metric (final_test_accuracy by default).\n"},
};

/* Prints the help of the named command to stdout; 0, or 2 when there is no such command. */
static int print_help(const char *cmd)
{
    if (!cmd) {
        fputs(usage, stdout);
        return CLRUN_OK;
    }
    for (size_t i = 0; i < sizeof command_help / sizeof command_help[0]; i++)
        if (strcmp(cmd, command_help[i].name) == 0) {
            fputs(command_help[i].help, stdout);
            return CLRUN_OK;
        }
    fprintf(stderr, "clrun: no command '%s'\n%s", cmd, usage);
    return CLRUN_EINPUT;
}

static int is_help(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

typedef struct {
    const char *file;
    char **overrides;
    int n_overrides;
    RunOptions run;
    int count, list;            /* sweep --count, --list */
    const char *index, *jobs;   /* sweep --index I, --jobs N */
    const char *metric;         /* merge --metric */
    const char *kernels;        /* --kernels: the same as $CLRUN_KERNELS */
    const char *trace;          /* --trace-launches: the same as $CLRUN_TRACE_LAUNCHES */
    int tensors;                /* summary --tensors */
    const char *batch;          /* summary --batch N */
    const char *split;          /* evaluate --split */
    char **paths;               /* predict: the images or folders after the file */
    int n_paths, invert;        /* predict --invert */
    int per_class;              /* evaluate --per-class */
    const char *layers, *images; /* features --layers, --images */
} Args;

/* The options each command takes. */
enum { OPT_RUN = 1, OPT_SWEEP = 2, OPT_MERGE = 4, OPT_SUMMARY = 8, OPT_EVALUATE = 16,
       OPT_PREDICT = 32, OPT_FEATURES = 64 };

static int usage_error(const char *fmt, const char *what)
{
    fprintf(stderr, "clrun: ");
    fprintf(stderr, fmt, what);
    fprintf(stderr, "\n%s", usage);
    return CLRUN_EINPUT;
}

/* The option's value slot or flag in a, when cmd takes it; arg may be
 * --name=value, its length up to '=' is then len. */
static int find_option(Args *a, const char *arg, size_t len, int cmd, const char ***value,
                       int **flag)
{
    const struct {
        const char *name;
        int cmds;
        const char **value;
        int *flag;
    } options[] = {
        {"--profile", OPT_RUN | OPT_FEATURES, NULL, &a->run.profile},
        {"--device", OPT_RUN | OPT_SWEEP | OPT_EVALUATE | OPT_PREDICT | OPT_FEATURES | OPT_SUMMARY,
         &a->run.device, NULL},
        {"--out", OPT_RUN | OPT_SWEEP | OPT_PREDICT | OPT_FEATURES, &a->run.out_dir, NULL},
        {"--weights", OPT_RUN | OPT_EVALUATE | OPT_PREDICT | OPT_FEATURES, &a->run.weights, NULL},
        {"--invert", OPT_PREDICT, NULL, &a->invert},
        {"--split", OPT_EVALUATE | OPT_FEATURES, &a->split, NULL},
        {"--layers", OPT_FEATURES, &a->layers, NULL},
        {"--images", OPT_FEATURES, &a->images, NULL},
        {"--per-class", OPT_EVALUATE, NULL, &a->per_class},
        {"--overwrite", OPT_RUN | OPT_SWEEP, NULL, &a->run.overwrite},
        {"--count", OPT_SWEEP, NULL, &a->count},
        {"--list", OPT_SWEEP, NULL, &a->list},
        {"--index", OPT_SWEEP, &a->index, NULL},
        {"--jobs", OPT_SWEEP, &a->jobs, NULL},
        {"--metric", OPT_MERGE, &a->metric, NULL},
        {"--kernels", OPT_RUN | OPT_SWEEP | OPT_EVALUATE | OPT_PREDICT | OPT_FEATURES | OPT_SUMMARY,
         &a->kernels, NULL},
        {"--trace-launches", OPT_RUN, &a->trace, NULL},
        {"--tensors", OPT_SUMMARY, NULL, &a->tensors},
        {"--batch", OPT_SUMMARY, &a->batch, NULL},
    };
    for (size_t i = 0; i < sizeof options / sizeof options[0]; i++)
        if ((options[i].cmds & cmd) && strlen(options[i].name) == len &&
            strncmp(arg, options[i].name, len) == 0) {
            *value = options[i].value;
            *flag = options[i].flag;
            return 1;
        }
    return 0;
}

/* An argument that is neither an option nor an override: the file, then
 * predict's images. */
static int positional(Args *a, int cmd, char *arg)
{
    if (!a->file)
        a->file = arg;
    else if (cmd == OPT_PREDICT)
        a->paths[a->n_paths++] = arg;
    else
        return usage_error("unexpected argument '%s' (overrides are KEY=VALUE)", arg);
    return CLRUN_OK;
}

/* Splits argv after the command into the file, overrides and options; after
 * "--" every argument is a file or an image, as in getopt (a file named
 * -x.png, or a=b.png). */
static int parse_args(int argc, char **argv, int cmd, Args *a)
{
    memset(a, 0, sizeof *a);
    a->overrides = calloc((size_t)argc + 1, sizeof *a->overrides);
    a->paths = calloc((size_t)argc + 1, sizeof *a->paths);
    int options = 1;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], **value = NULL, *eq = strchr(arg, '=');
        int *flag = NULL;
        size_t len = arg[0] == '-' && eq ? (size_t)(eq - arg) : strlen(arg);
        if (!options) {
            if (positional(a, cmd, argv[i]))
                return CLRUN_EINPUT;
        } else if (strcmp(arg, "--") == 0) {
            options = 0;
        } else if (find_option(a, arg, len, cmd, &value, &flag)) {
            if (flag && len < strlen(arg))
                return usage_error("%s takes no value", arg);
            if (flag)
                *flag = 1;
            else if (len < strlen(arg))
                *value = arg + len + 1; /* --out=DIR */
            else if (i + 1 == argc)
                return usage_error("%s needs a value", arg);
            else if (!*(*value = argv[++i]))
                return usage_error("%s needs a value, got an empty one", arg);
        } else if (arg[0] == '-') {
            return usage_error("unknown option '%s'", arg);
        } else if (strchr(arg, '=') && cmd != OPT_MERGE) {
            a->overrides[a->n_overrides++] = argv[i];
        } else if (positional(a, cmd, argv[i])) {
            return CLRUN_EINPUT;
        }
    }
    /* the device is opened deep inside runs and sweep workers: they read these */
    if (a->kernels)
        setenv("CLRUN_KERNELS", a->kernels, 1);
    if (a->trace)
        setenv("CLRUN_TRACE_LAUNCHES", a->trace, 1);
    return a->file ? CLRUN_OK : usage_error("%s", cmd == OPT_MERGE ? "a sweep directory is needed"
                                                                   : "a YAML file is needed");
}

static int cmd_devices(Err *err)
{
    return calib_list(stdout, err);
}

/* The memory planned for batches of batch on the device and plan `run`
 * would take (opened, built and calibrated as run does; nothing allocated). */
static int summary_memory(Graph *g, const char *device, int batch, Err *err)
{
    Device d;
    memset(&d, 0, sizeof d); /* calib_open may fail before opening it */
    int rc = calib_open(&d, device, 0, err);
    if (!rc)
        rc = memplan_summary(g, &d.plan, d.name, batch, stdout, err);
    dev_close(&d);
    return rc;
}

static int cmd_summary(Args *a, Err *err)
{
    Experiment e;
    Graph g;
    memset(&g, 0, sizeof g);
    char *end = NULL;
    long batch = a->batch ? strtol(a->batch, &end, 10) : 0;
    if (a->batch && (*end || batch < 1 || batch > INT_MAX))
        return err_set(err, CLRUN_EINPUT, "--batch takes a whole number of examples from 1, "
                       "got '%s'", a->batch);
    if (!a->batch && (a->run.device || a->kernels))
        return err_set(err, CLRUN_EINPUT, "--device and --kernels choose the device whose memory "
                       "--batch N plans; give --batch too");
    int rc = experiment_load(&e, a->file, a->overrides, a->n_overrides, err);
    if (!rc) rc = graph_build(&g, e.model, err);
    if (!rc && batch)
        rc = summary_memory(&g, a->run.device, (int)batch, err);
    if (!rc && a->tensors)
        graph_summary_tensors(&g, stdout);
    if (!rc)
        graph_summary(&g, stdout);
    graph_free(&g);
    experiment_free(&e);
    return rc;
}

static int cmd_run(Args *a, Err *err)
{
    interrupt_install();
    Experiment e;
    int rc = experiment_load(&e, a->file, a->overrides, a->n_overrides, err);
    if (!rc && e.model == e.root)
        rc = err_set(err, CLRUN_EINPUT, "%s: this is a model; `clrun run` needs an experiment "
                     "(model:, data:, optimizer:, loss:, train:)", a->file);
    if (!rc && spec_get(e.root, "sweep"))
        printf("Note: %s has a sweep: block; `clrun run` runs its base settings, `clrun sweep` "
               "the grid\n", a->file);
    if (!rc)
        rc = train_run(&e, &a->run, err);
    experiment_free(&e);
    return rc;
}

static int cmd_evaluate(Args *a, Err *err)
{
    const char *split = a->split ? a->split : "test";
    if (strcmp(split, "test") && strcmp(split, "val") && strcmp(split, "train"))
        return usage_error("--split takes test, val or train, not '%s'", split);
    if (!a->run.weights)
        return usage_error("%s", "evaluate needs --weights FILE");
    Experiment e;
    int rc = experiment_load(&e, a->file, a->overrides, a->n_overrides, err);
    if (!rc && e.model == e.root)
        rc = err_set(err, CLRUN_EINPUT, "%s: this is a model; `clrun evaluate` needs an "
                     "experiment (its data: and loss:)", a->file);
    if (!rc) rc = train_evaluate(&e, &a->run, split, a->per_class, err);
    experiment_free(&e);
    return rc;
}

static int cmd_predict(Args *a, Err *err)
{
    if (!a->run.weights)
        return usage_error("%s", "predict needs --weights FILE");
    if (a->n_paths == 0)
        return usage_error("%s", "predict needs images or folders of them after the experiment");
    Experiment e;
    int rc = experiment_load(&e, a->file, a->overrides, a->n_overrides, err);
    if (!rc && e.model == e.root)
        rc = err_set(err, CLRUN_EINPUT, "%s: this is a model; `clrun predict` needs an "
                     "experiment (its data: and loss:)", a->file);
    if (!rc)
        rc = train_predict(&e, &a->run, (const char *const *)a->paths, a->n_paths, a->invert,
                           err);
    experiment_free(&e);
    return rc;
}

static int cmd_features(Args *a, Err *err)
{
    if (!a->run.weights)
        return usage_error("%s", "features needs --weights FILE");
    if (!a->layers)
        return usage_error("%s", "features needs --layers A,B,... (the layers' names, as clrun "
                           "summary lists them)");
    interrupt_install();
    ExtractOptions o = {a->layers, a->images, a->split ? a->split : "test", a->run.out_dir,
                         a->run.weights};
    ExtractJob job;
    Experiment e;
    int rc = experiment_load(&e, a->file, a->overrides, a->n_overrides, err);
    if (!rc && e.model == e.root)
        rc = err_set(err, CLRUN_EINPUT, "%s: this is a model; `clrun features` needs an "
                     "experiment (its data: say how images are read and normalised)", a->file);
    if (!rc) rc = extract_check(&job, &o, &e, err);
    RunOptions run = a->run;
    run.out_dir = NULL; /* the features' folder, not a run's */
    if (!rc) rc = train_use_model(&e, &run, extract_run, &job, err);
    experiment_free(&e);
    return rc;
}

/* A whole number from min up, or a usage error naming the option. */
static int count_arg(const char *text, const char *option, long min, long *out, Err *err)
{
    char *end = NULL;
    errno = 0;
    *out = text ? strtol(text, &end, 10) : -1;
    if (!text || end == text || *end || *out < min || errno == ERANGE)
        return err_set(err, CLRUN_EINPUT, "%s must be a whole number of at least %ld, got '%s'",
                       option, min, text ? text : "");
    return CLRUN_OK;
}

/* The point an array task runs: --index, else Slurm's or Kubernetes' index; -1: none. */
static int point_index(const Args *a, long *index, Err *err)
{
    const char *from = "--index", *text = a->index;
    if (!text && (text = getenv("SLURM_ARRAY_TASK_ID")))
        from = "SLURM_ARRAY_TASK_ID";
    else if (!text && (text = getenv("JOB_COMPLETION_INDEX")))
        from = "JOB_COMPLETION_INDEX";
    *index = -1;
    return text ? count_arg(text, from, 0, index, err) : CLRUN_OK;
}

static int cmd_sweep(Args *a, Err *err)
{
    Sweep s;
    long index = -1, jobs = 1;
    int rc = sweep_load(&s, a->file, a->overrides, a->n_overrides, err);
    char root[PATH_MAX];
    if (!rc && a->count) {
        printf("%ld\n", s.count);
    } else if (!rc && a->list) {
        for (long i = 0; i < s.count; i++) {
            char what[1024];
            sweep_describe(&s, i, what, sizeof what);
            printf("#%ld : %s\n", i, what);
        }
    } else if (!rc) {
        rc = rundir_path(a->run.out_dir, s.name, a->file, root, sizeof root, err);
        if (!rc) rc = point_index(a, &index, err);
        if (!rc && a->jobs) rc = count_arg(a->jobs, "--jobs", 1, &jobs, err);
        if (!rc && jobs > 256)
            rc = err_set(err, CLRUN_EINPUT, "--jobs %ld: at most 256 workers", jobs);
        if (!rc && a->jobs && index >= 0)
            rc = err_set(err, CLRUN_EINPUT, "--jobs runs the whole grid; --index (or an array "
                         "task's index) runs one point: give one of them");
        if (!rc && index >= 0) rc = sweep_check_index(&s, index, err);
        if (!rc) rc = sweep_prepare(&s, root, index, a->run.overwrite, err);
        if (!rc && index >= 0)
            rc = sweep_run_point(&s, index, root, &a->run, err);
        else if (!rc)
            rc = sweep_run_all(&s, root, (int)jobs, a->run.device, a->run.overwrite, err);
    }
    sweep_free(&s);
    return rc;
}

static int cmd_merge(Args *a, Err *err)
{
    return merge_sweep(a->file, a->metric, err);
}

/* compare RUN RUN... [--metric LIST] [--out FILE]: its own arguments, a list of runs. */
static int cmd_compare(int argc, char **argv, Err *err)
{
    const char *runs[COMPARE_MAX_RUNS + 1], *metric = NULL, *out = NULL;
    int n = 0, ended = 0;
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i], *eq = strchr(arg, '=');
        const char **opt = NULL;
        if (!ended && strcmp(arg, "--") == 0) {
            ended = 1;
            continue;
        }
        if (!ended && strncmp(arg, "--metric", 8) == 0 && (arg[8] == '\0' || arg[8] == '='))
            opt = &metric;
        else if (!ended && strncmp(arg, "--out", 5) == 0 && (arg[5] == '\0' || arg[5] == '='))
            opt = &out;
        else if (!ended && arg[0] == '-')
            return usage_error("unknown option '%s'", arg);
        if (opt && eq)
            *opt = eq + 1;
        else if (opt && i + 1 < argc)
            *opt = argv[++i];
        else if (opt)
            return usage_error("%s needs a value", arg);
        else if (n <= COMPARE_MAX_RUNS)
            runs[n++] = arg;
    }
    if (n < 2)
        return usage_error("%s", "compare needs two run directories or more");
    return compare_runs(runs, n, metric, out, err);
}

/* Whether the command's arguments ask for its help (before any "--"). */
static int wants_help(int argc, char **argv)
{
    for (int i = 2; i < argc && strcmp(argv[i], "--") != 0; i++)
        if (is_help(argv[i]))
            return 1;
    return 0;
}

int main(int argc, char **argv)
{
    /* Each line as it is written, also into a pipe or file (Slurm, nohup, tee). */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        fputs(usage, stderr);
        return CLRUN_EINPUT;
    }
    if (is_help(argv[1]) || strcmp(argv[1], "help") == 0)
        return print_help(argc > 2 && !is_help(argv[1]) ? argv[2] : NULL);
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
        printf("clrun %s\n", CLRUN_VERSION);
        return CLRUN_OK;
    }
    if (wants_help(argc, argv))
        return print_help(argv[1]);
    Err err = {""};
    Args a;
    memset(&a, 0, sizeof a);
    int rc;
    const char *cmd = argv[1];
    if (strcmp(cmd, "devices") == 0)
        rc = argc == 2 ? cmd_devices(&err) : usage_error("%s takes no arguments", cmd);
    else if (strcmp(cmd, "summary") == 0)
        rc = parse_args(argc - 2, argv + 2, OPT_SUMMARY, &a) ? CLRUN_EINPUT : cmd_summary(&a, &err);
    else if (strcmp(cmd, "run") == 0)
        rc = parse_args(argc - 2, argv + 2, OPT_RUN, &a) ? CLRUN_EINPUT : cmd_run(&a, &err);
    else if (strcmp(cmd, "evaluate") == 0)
        rc = parse_args(argc - 2, argv + 2, OPT_EVALUATE, &a) ? CLRUN_EINPUT : cmd_evaluate(&a, &err);
    else if (strcmp(cmd, "predict") == 0)
        rc = parse_args(argc - 2, argv + 2, OPT_PREDICT, &a) ? CLRUN_EINPUT : cmd_predict(&a, &err);
    else if (strcmp(cmd, "features") == 0)
        rc = parse_args(argc - 2, argv + 2, OPT_FEATURES, &a) ? CLRUN_EINPUT : cmd_features(&a, &err);
    else if (strcmp(cmd, "sweep") == 0)
        rc = parse_args(argc - 2, argv + 2, OPT_SWEEP, &a) ? CLRUN_EINPUT : cmd_sweep(&a, &err);
    else if (strcmp(cmd, "merge") == 0)
        rc = parse_args(argc - 2, argv + 2, OPT_MERGE, &a) ? CLRUN_EINPUT : cmd_merge(&a, &err);
    else if (strcmp(cmd, "compare") == 0)
        rc = cmd_compare(argc - 2, argv + 2, &err);
    else
        rc = usage_error("unknown command '%s'", cmd);
    if (rc && err.msg[0])
        fprintf(stderr, "clrun: %s\n", err.msg);
    if (rc && interrupt_signal()) /* as a shell reports a process the signal ended */
        rc = 128 + interrupt_signal();
    free(a.overrides);
    free(a.paths);
    return rc;
}
