/* predict.h: `clrun predict`'s output: the model's outputs for some images
 * turned into class probabilities as the loss reads them, and written to a
 * CSV file (file, predicted class, a probability per class). */
#ifndef CLRUN_PREDICT_H
#define CLRUN_PREDICT_H

#include <stdio.h>

#include "data/data.h"
#include "data/dataset.h"
#include "graph.h"
#include "err.h"

/* How images given on the command line are read: as the experiment's
 * image folders are (data, when its source is a folder), else to the
 * model's input: its channels (1: gray), its size; invert swaps black and
 * white. */
ImageOptions predict_image_options(const DataSpec *data, const Graph *g, int invert);

/* Probabilities of `classes` classes from one example's `units` outputs
 * under the named loss: nll's log-probabilities exponentiated,
 * cross_entropy's logits through a softmax, binary_cross_entropy's single
 * sigmoid output p as (1 - p, p), Keras' categorical_crossentropy's softmax
 * output as it stands. Other losses have no probabilities:
 * CLRUN_EINPUT. */
int predict_probabilities(const char *loss, const float *out, int units, int classes,
                          double *probs, Err *err);

/* Writes path: a header "file,predicted,<class names>" (from names, which
 * may be NULL: the class numbers), then a row per file. */
int predict_write(const char *path, char *const *files, int n, const double *probs, int classes,
                  const Dataset *names, Err *err);

/* predictions.png: each image as the model saw it (in colour when RGB, else
 * its first channel) with its most probable class and that class's
 * probability under it. */
int predict_figure(const char *path, const Dataset *images, const double *probs, int classes,
                   const Dataset *names, Err *err);

/* Where predict writes: out (--out FILE.csv) when given, else
 * predict/predictions.csv beside the weights (in their run's directory,
 * never the current one by accident); the figure is the CSV's name with .png
 * for .csv. The folder is made. */
int predict_outputs(const char *out, const char *weights, char *csv, char *png, size_t size,
                    Err *err);

/* How far the images' mean pixel is from the training images' (bytes, 0 to
 * 255): a warning on stdout past a quarter of the range, suggesting
 * --invert when swapping black and white would bring them closer (dark
 * writing on a light page given to a model of light on dark). */
void predict_check_statistics(const Dataset *images, const Dataset *train, int inverted);

/* A table to out: per class (named from names, or numbered), its examples,
 * those whose most probable class is theirs, and that share. */
void predict_per_class(FILE *out, const double *probs, const int *labels, int n, int classes,
                       const Dataset *names);

#endif
