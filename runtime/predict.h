/* predict.h: `clrun predict`'s output: the model's outputs for some images
 * turned into class probabilities as the loss reads them, and written to a
 * CSV file (file, predicted class, a probability per class). */
#ifndef CLRUN_PREDICT_H
#define CLRUN_PREDICT_H

#include <stdio.h>

#include "data/dataset.h"
#include "err.h"

/* Probabilities of `classes` classes from one example's `units` outputs
 * under the named loss: nll's log-probabilities exponentiated,
 * cross_entropy's logits through a softmax, binary_cross_entropy's single
 * sigmoid output p as (1 - p, p). Other losses have no probabilities:
 * CLRUN_EINPUT. */
int predict_probabilities(const char *loss, const float *out, int units, int classes,
                          double *probs, Err *err);

/* Writes path: a header "file,predicted,<class names>" (from names, which
 * may be NULL: the class numbers), then a row per file. */
int predict_write(const char *path, char *const *files, int n, const double *probs, int classes,
                  const Dataset *names, Err *err);

/* A table to out: per class (named from names, or numbered), its examples,
 * those whose most probable class is theirs, and that share. */
void predict_per_class(FILE *out, const double *probs, const int *labels, int n, int classes,
                       const Dataset *names);

#endif
