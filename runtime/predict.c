/* predict.c: class probabilities and predictions.csv (see predict.h). */
#include "predict.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int predict_probabilities(const char *loss, const float *out, int units, int classes,
                          double *probs, Err *err)
{
    if (strcmp(loss, "binary_cross_entropy") == 0 && units == 1 && classes == 2) {
        probs[1] = out[0];
        probs[0] = 1.0 - out[0];
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

/* A CSV field: quoted when it holds a comma, a quote or a line break. */
static void field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
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
    FILE *f = fopen(path, "w");
    if (!f)
        return err_set(err, CLRUN_ERUNTIME, "%s: cannot write", path);
    char name[DATASET_NAME_MAX + 16];
    fputs("file,predicted", f);
    for (int c = 0; c < classes; c++) {
        class_name(names, c, name, sizeof name);
        fputc(',', f);
        field(f, name);
    }
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        const double *p = probs + (size_t)i * classes;
        int best = most_probable(p, classes);
        field(f, files[i]);
        class_name(names, best, name, sizeof name);
        fputc(',', f);
        field(f, name);
        for (int c = 0; c < classes; c++)
            fprintf(f, ",%.6f", p[c]);
        fputc('\n', f);
    }
    return fclose(f) == 0 ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "%s: cannot write", path);
}
