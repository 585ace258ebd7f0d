/* extract.h: `clrun features`: the outputs of named layers for a set of
 * images, as one float32 .npy a layer (images x units, each image's output
 * flattened in PyTorch's order: channel, row, column), and the row table
 * beside them (rows.h), for the student's own Python (numpy.load), as the
 * course's notebook would have them from PyTorch. */
#ifndef CLRUN_EXTRACT_H
#define CLRUN_EXTRACT_H

#include "analysis/analysis.h"
#include "experiment.h"

typedef struct {
    const char *layers;  /* --layers a,b,c */
    const char *images;  /* --images TABLE|FOLDER, or NULL: the experiment's data */
    const char *split;   /* --split test|train, for the experiment's data */
    const char *out;     /* --out DIR, or NULL: features/ beside the weights */
    const char *weights; /* --weights FILE */
} ExtractOptions;

enum { EXTRACT_MAX_LAYERS = 64 };

/* What extract_check finds and extract_run uses. */
typedef struct {
    const ExtractOptions *o;
    const Experiment *e;
    char names[EXTRACT_MAX_LAYERS][64]; /* the layers, as --layers names them */
    int n_layers;
    char dir[4096];                      /* where the files go */
} ExtractJob;

/* Everything that can be checked before the device opens and the data are
 * read: the layer names against the model (an unknown one is CLRUN_EINPUT
 * listing the model's layers), --split, --images (an existing table or
 * folder), and the files about to be written against the inputs named so far
 * (outputs.h). */
int extract_check(ExtractJob *job, const ExtractOptions *o, const Experiment *e, Err *err);

/* Runs the images through the model and writes the files; a TrainUse
 * (train.h) whose arg is the checked ExtractJob. Nothing is left half
 * written: each file is written through a temporary one. */
int extract_run(AnalysisContext *ctx, void *job, Err *err);

#endif
