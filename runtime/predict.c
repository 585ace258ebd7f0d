/* predict.c: class probabilities and predictions.csv (see predict.h). */
#include "predict.h"

#include "io/csv.h"
#include "layers/loss.h"

#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"
#include "rundir.h"

int predict_probabilities(const char *loss, const float *out, int units, int classes,
                          double *probs, Err *err)
{
    if (strcmp(loss, "binary_cross_entropy") == 0 && units == 1 && classes == 2) {
        probs[1] = out[0];
        probs[0] = 1.0 - out[0];
        return CLRUN_OK;
    }
    if (loss_outputs_probabilities(loss) && units == classes) { /* a softmax's own output */
        for (int c = 0; c < classes; c++)
            probs[c] = out[c];
        return CLRUN_OK;
    }
    int logits = strcmp(loss, "cross_entropy") == 0;
    if ((!logits && strcmp(loss, "nll") != 0) || units != classes)
        return err_set(err, CLRUN_EINPUT, "loss %s with %d output units for %d classes gives no "
                       "class probabilities to predict with", loss, units, classes);
    double top = -INFINITY, sum = 0;
    for (int c = 0; c < classes; c++)
        top = out[c] > top ? out[c] : top;
    for (int c = 0; c < classes; c++) /* the largest subtracted first: no overflow */
        sum += probs[c] = exp(out[c] - (logits ? top : 0.0));
    for (int c = 0; logits && c < classes; c++)
        probs[c] /= sum;
    return CLRUN_OK;
}

static void class_name(const Dataset *names, int c, char *buf, size_t size)
{
    if (names && names->class_names && c < names->classes)
        snprintf(buf, size, "%s", names->class_names[c]);
    else
        snprintf(buf, size, "%d", c);
}

static int most_probable(const double *p, int classes)
{
    int best = 0;
    for (int c = 1; c < classes; c++)
        best = p[c] > p[best] ? c : best;
    return best;
}

void predict_per_class(FILE *out, const double *probs, const int *labels, int n, int classes,
                       const Dataset *names)
{
    char name[DATASET_NAME_MAX + 16];
    fprintf(out, "%-20s %10s %10s %9s\n", "class", "examples", "correct", "accuracy");
    for (int c = 0; c < classes; c++) {
        int examples = 0, correct = 0;
        for (int i = 0; i < n; i++)
            if (labels[i] == c) {
                examples++;
                correct += most_probable(probs + (size_t)i * classes, classes) == c;
            }
        class_name(names, c, name, sizeof name);
        if (examples)
            fprintf(out, "%-20s %10d %10d %9.4f\n", name, examples, correct,
                    (double)correct / examples);
        else
            fprintf(out, "%-20s %10d %10d %9s\n", name, 0, 0, "NA");
    }
}

int predict_write(const char *path, char *const *files, int n, const double *probs, int classes,
                  const Dataset *names, Err *err)
{
    Csv f;
    int rc = csv_open(&f, path, "w", err);
    if (rc)
        return rc;
    char name[DATASET_NAME_MAX + 16];
    csv_text(&f, "file");
    csv_text(&f, "predicted");
    for (int c = 0; c < classes; c++) {
        class_name(names, c, name, sizeof name);
        csv_text(&f, name);
    }
    rc = csv_end_row(&f, err);
    for (int i = 0; i < n && !rc; i++) {
        const double *p = probs + (size_t)i * classes;
        csv_text(&f, files[i]);
        class_name(names, most_probable(p, classes), name, sizeof name);
        csv_text(&f, name);
        for (int c = 0; c < classes; c++)
            csv_number(&f, "%.6f", p[c]);
        rc = csv_end_row(&f, err);
    }
    int closed = csv_close(&f, err);
    return rc ? rc : closed;
}

int predict_figure(const char *path, const Dataset *images, const double *probs, int classes,
                   const Dataset *names, Err *err)
{
    int n = images->n, channels = dataset_picture_channels(images);
    size_t picture = (size_t)channels * images->h * images->w;
    float *pixels = malloc((size_t)(n ? n : 1) * picture * sizeof *pixels);
    char (*text)[64] = malloc((size_t)(n ? n : 1) * sizeof *text);
    const char **captions = malloc((size_t)(n ? n : 1) * sizeof *captions);
    int rc = pixels && text && captions ? CLRUN_OK
                                        : err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int i = 0; !rc && i < n; i++) {
        const double *p = probs + (size_t)i * classes;
        int best = most_probable(p, classes);
        char name[DATASET_NAME_MAX + 16];
        class_name(names, best, name, sizeof name);
        snprintf(text[i], sizeof text[i], "%.40s (p %.2f)", name, p[best]);
        captions[i] = text[i];
        dataset_picture(images, i, channels, pixels + (size_t)i * picture);
    }
    char title[96];
    snprintf(title, sizeof title, "Predictions for %d image%s%s", n, n == 1 ? "" : "s",
             dataset_picture_note(images));
    PlotImages im = {.title = title, .n = n, .captions = captions,
                     .set = {{.images = pixels, .h = images->h, .w = images->w,
                              .channels = channels}}};
    if (!rc) rc = plot_images(path, &im, err);
    free(pixels), free(text), free(captions);
    return rc;
}

int predict_outputs(const char *out, const char *weights, char *csv, char *png, size_t size,
                    Err *err)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", weights);
    DatasetPath folder, file;
    int rc = out ? CLRUN_OK : dataset_join(folder, dirname(dir), "predict", err);
    if (!rc) rc = out ? CLRUN_OK : dataset_join(file, folder, "predictions.csv", err);
    if (!rc && (size_t)snprintf(csv, size, "%s", out ? out : file) >= size)
        rc = err_set(err, CLRUN_EINPUT, "%s: path too long", out ? out : file);
    if (!rc && !out) rc = rundir_make(folder, err);
    if (!rc && out) { /* its folder made, as --out of run makes the run's */
        snprintf(dir, sizeof dir, "%s", out);
        rc = rundir_make(dirname(dir), err);
    }
    size_t len = strlen(csv), stem = len > 4 && strcmp(csv + len - 4, ".csv") == 0 ? len - 4 : len;
    if (!rc && (size_t)snprintf(png, size, "%.*s.png", (int)stem, csv) >= size)
        rc = err_set(err, CLRUN_EINPUT, "%s: path too long", csv);
    return rc;
}

/* The mean byte of a set's images, or -1 when they are not bytes. */
static double mean_pixel(const Dataset *ds)
{
    size_t count = (size_t)ds->n * ds->c * ds->h * ds->w;
    double sum = 0;
    for (size_t i = 0; ds->pixels && i < count; i++)
        sum += ds->pixels[i];
    return ds->pixels && count ? sum / (double)count : -1;
}

void predict_check_statistics(const Dataset *images, const Dataset *train, int inverted)
{
    double mine = mean_pixel(images), theirs = mean_pixel(train);
    if (mine < 0 || theirs < 0 || fabs(mine - theirs) <= 255 / 4.0)
        return;
    int swap_helps = fabs(255 - mine - theirs) < fabs(mine - theirs);
    printf("Warning: the images' mean pixel is %.0f, the training images' %.0f (of 255): they "
           "do not look like what the model was trained on, and its answers may be confident "
           "and wrong%s\n", mine, theirs,
           !swap_helps ? ""
           : inverted  ? "; without --invert they would be closer"
                       : "; --invert (dark writing on a light page) would bring them closer");
}

ImageOptions predict_image_options(const DataSpec *data, const Graph *g, int invert)
{
    if (data->source == DATA_FOLDER)
        return data->images;
    Shape in = g->nodes[0].out_shape;
    ImageOptions o = {.grayscale = in.rank == 3 && in.dim[0] == 1, .invert = invert};
    if (in.rank == 3)
        o.height = in.dim[1], o.width = in.dim[2];
    return o;
}
