/* images.c: a folder of class folders of PNG/JPEG images as a Dataset
 * (see images_load in dataset.h).
 *
 * Every output byte is one exact rational number rounded once: luma is
 * (299 R + 587 G + 114 B) / 1000, and resizing along each axis uses integer
 * weights over a known denominator (area averaging measures overlaps in units
 * of 1/dst pixels, bilinear positions in units of 1/(2 dst)), so results do
 * not depend on floating point and tests can predict them to the byte. */
#include "data/dataset.h"
#include "data/image.h"
#include "data/prep.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

/* The whole set must fit in one allocation the trainer can index with int. */
#define IMAGES_MAX_BYTES ((size_t)1 << 31)


/* ---- listing folders ---- */

typedef struct {
    char **names;
    int n, cap;
} Names;

static void names_free(Names *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->names[i]);
    free(l->names);
    memset(l, 0, sizeof *l);
}

static int names_add(Names *l, const char *name, Err *err)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        char **names = realloc(l->names, (size_t)cap * sizeof *names);
        if (!names)
            return err_set(err, CLRUN_ERUNTIME, "out of memory listing files");
        l->names = names;
        l->cap = cap;
    }
    if (!(l->names[l->n] = strdup(name)))
        return err_set(err, CLRUN_ERUNTIME, "out of memory listing files");
    l->n++;
    return CLRUN_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_image_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    return dot && (strcasecmp(dot, ".png") == 0 || strcasecmp(dot, ".jpg") == 0 ||
                   strcasecmp(dot, ".jpeg") == 0);
}

/* Whether dir/name is a directory (want_dir) or a regular file with an image
 * extension (links followed); hidden entries never are. */
static int wanted(const char *dir, const char *name, int want_dir)
{
    DatasetPath path;
    struct stat st;
    if (name[0] == '.' || dataset_join(path, dir, name, NULL) || stat(path, &st) != 0)
        return 0;
    return want_dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode) && is_image_name(name);
}

/* The sub-directories (want_dir) or image files of dir, sorted by name. */
static int list_dir(const char *dir, int want_dir, Names *out, Err *err)
{
    memset(out, 0, sizeof *out);
    errno = 0;
    DIR *d = opendir(dir);
    if (!d)
        return err_set(err, CLRUN_EINPUT, "%s: cannot open the directory: %s", dir,
                       strerror(errno));
    int rc = CLRUN_OK;
    for (struct dirent *e; !rc && (e = readdir(d));)
        if (wanted(dir, e->d_name, want_dir))
            rc = names_add(out, e->d_name, err);
    closedir(d);
    if (rc)
        names_free(out);
    else if (out->n > 1)
        qsort(out->names, (size_t)out->n, sizeof *out->names, by_name);
    return rc;
}

/* ---- resampling ---- */

/* For each output position along one axis: a run of source positions from
 * lo[j] with weights w[j * max_taps ..], all rows summing to den. */
typedef struct {
    int *lo, *taps;
    int64_t *w;
    int max_taps;
    int64_t den;
} Axis;

static void axis_free(Axis *a)
{
    free(a->lo);
    free(a->taps);
    free(a->w);
    memset(a, 0, sizeof *a);
}

/* Area averaging (dst <= src): output j covers [j*src, (j+1)*src) and source
 * i covers [i*dst, (i+1)*dst), in units of 1/dst pixels; weights are overlaps. */
static void axis_area(Axis *a, int src, int dst)
{
    a->den = src;
    for (int j = 0; j < dst; j++) {
        int64_t from = (int64_t)j * src, to = from + src;
        a->lo[j] = (int)(from / dst);
        a->taps[j] = 0;
        for (int64_t i = a->lo[j]; i * dst < to; i++) {
            int64_t start = i * dst > from ? i * dst : from;
            int64_t end = (i + 1) * dst < to ? (i + 1) * dst : to;
            a->w[(size_t)j * a->max_taps + a->taps[j]++] = end - start;
        }
    }
}

/* Bilinear (dst > src), pixel centres aligned: output j samples source
 * position (j + 1/2) * src/dst - 1/2, clamped to [0, src-1], in units of
 * 1/(2 dst) pixels. */
static void axis_bilinear(Axis *a, int src, int dst)
{
    int64_t unit = 2 * (int64_t)dst, last = unit * (src - 1);
    a->den = unit;
    for (int j = 0; j < dst; j++) {
        int64_t pos = (2 * (int64_t)j + 1) * src - dst;
        pos = pos < 0 ? 0 : pos > last ? last : pos;
        int64_t frac = pos % unit;
        int64_t *w = a->w + (size_t)j * a->max_taps;
        a->lo[j] = (int)(pos / unit);
        a->taps[j] = frac ? 2 : 1;
        w[0] = unit - frac;
        w[1] = frac;
    }
}

static int axis_make(Axis *a, int src, int dst, Err *err)
{
    memset(a, 0, sizeof *a);
    a->max_taps = dst > src ? 2 : src / dst + 2;
    a->lo = malloc((size_t)dst * sizeof *a->lo);
    a->taps = malloc((size_t)dst * sizeof *a->taps);
    a->w = malloc((size_t)dst * a->max_taps * sizeof *a->w);
    if (!a->lo || !a->taps || !a->w) {
        axis_free(a);
        return err_set(err, CLRUN_ERUNTIME, "out of memory for resizing %d to %d", src, dst);
    }
    (dst > src ? axis_bilinear : axis_area)(a, src, dst);
    return CLRUN_OK;
}

/* One source sample scaled by 1000 when the output is gray (luma), else
 * channel c as it stands (gray sources repeated into every channel). */
static int64_t sample(const Image *img, int y, int x, int c, int gray)
{
    const unsigned char *p = img->data + ((size_t)y * img->w + x) * img->channels;
    if (gray)
        return img->channels == 3 ? 299 * p[0] + 587 * p[1] + 114 * p[2] : 1000 * p[0];
    return p[img->channels == 3 ? c : 0];
}

/* Rows of the source resampled along x into tmp[y][j], not yet divided. */
static void pass_x(const Image *img, const Axis *ax, int w, int c, int gray, int64_t *tmp)
{
    for (int y = 0; y < img->h; y++)
        for (int j = 0; j < w; j++) {
            const int64_t *wt = ax->w + (size_t)j * ax->max_taps;
            int64_t acc = 0;
            for (int t = 0; t < ax->taps[j]; t++)
                acc += wt[t] * sample(img, y, ax->lo[j] + t, c, gray);
            tmp[(size_t)y * w + j] = acc;
        }
}

/* Columns of tmp resampled along y, divided and rounded half up into out. */
static void pass_y(const int64_t *tmp, const Axis *ay, int h, int w, int64_t den, int invert,
                   unsigned char *out)
{
    for (int i = 0; i < h; i++)
        for (int j = 0; j < w; j++) {
            const int64_t *wt = ay->w + (size_t)i * ay->max_taps;
            int64_t acc = 0;
            for (int t = 0; t < ay->taps[i]; t++)
                acc += wt[t] * tmp[(size_t)(ay->lo[i] + t) * w + j];
            int v = (int)((2 * acc + den) / (2 * den));
            out[(size_t)i * w + j] = (unsigned char)(invert ? 255 - v : v);
        }
}

/* Writes img as c planes of h x w bytes into out. */
static int convert(const Image *img, int c, int h, int w, int invert, unsigned char *out,
                   Err *err)
{
    Axis ax, ay;
    int rc = axis_make(&ax, img->w, w, err);
    if (rc)
        return rc;
    if ((rc = axis_make(&ay, img->h, h, err))) {
        axis_free(&ax);
        return rc;
    }
    int64_t *tmp = malloc((size_t)img->h * w * sizeof *tmp);
    int gray = c == 1;
    if (!tmp)
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory for resizing an image");
    for (int k = 0; !rc && k < c; k++) {
        pass_x(img, &ax, w, k, gray, tmp);
        pass_y(tmp, &ay, h, w, ax.den * ay.den * (gray ? 1000 : 1), invert,
               out + (size_t)k * h * w);
    }
    free(tmp);
    axis_free(&ax);
    axis_free(&ay);
    return rc;
}

/* ---- the set ---- */

/* What images_load keeps while it walks the folders. */
typedef struct {
    const char *dir;
    const ImageOptions *opt;
    Dataset *ds;
    Names classes;
    Names *files;        /* per class */
    char first[4096];    /* the first image, which fixes the size without opt->height */
} Walk;

static void walk_free(Walk *wk)
{
    for (int i = 0; wk->files && i < wk->classes.n; i++)
        names_free(&wk->files[i]);
    free(wk->files);
    names_free(&wk->classes);
}

/* Lists the class folders and their images; counts them into ds->n. */
static int walk_list(Walk *wk, Err *err)
{
    int rc = list_dir(wk->dir, 1, &wk->classes, err);
    if (rc)
        return rc;
    if (wk->classes.n == 0)
        return err_set(err, CLRUN_EINPUT,
                       "%s: no class folders (expected one sub-directory of images per class)",
                       wk->dir);
    if (wk->classes.n > 256)
        return err_set(err, CLRUN_EINPUT, "%s: %d class folders; at most 256 are supported",
                       wk->dir, wk->classes.n);
    if (!(wk->files = calloc((size_t)wk->classes.n, sizeof *wk->files)))
        return err_set(err, CLRUN_ERUNTIME, "out of memory listing %s", wk->dir);
    long total = 0;
    for (int i = 0; !rc && i < wk->classes.n; i++) {
        DatasetPath sub;
        rc = dataset_join(sub, wk->dir, wk->classes.names[i], err);
        if (!rc)
            rc = list_dir(sub, 0, &wk->files[i], err);
        if (!rc && wk->files[i].n == 0)
            rc = err_set(err, CLRUN_EINPUT, "%s: class folder without images (.png, .jpg, .jpeg)",
                         sub);
        total += wk->files[i].n;
        if (!rc && total > INT_MAX)
            rc = err_set(err, CLRUN_EINPUT, "%s: too many images", wk->dir);
    }
    wk->ds->n = (int)total;
    return rc;
}

/* Allocates the set once the per-image shape is known. */
static int walk_alloc(Walk *wk, Err *err)
{
    Dataset *ds = wk->ds;
    size_t each = (size_t)ds->c * ds->h * ds->w;
    if (each > IMAGES_MAX_BYTES / (size_t)ds->n)
        return err_set(err, CLRUN_EINPUT, "%s: %d images of %dx%dx%d bytes are more than %zu bytes",
                       wk->dir, ds->n, ds->c, ds->h, ds->w, IMAGES_MAX_BYTES);
    ds->pixels = malloc(each * ds->n);
    ds->labels = malloc((size_t)ds->n);
    if (!ds->pixels || !ds->labels)
        return err_set(err, CLRUN_ERUNTIME, "%s: out of memory for %d images", wk->dir, ds->n);
    return CLRUN_OK;
}

/* Without a size every image must match the first. */
static int check_same_size(const Walk *wk, const char *path, const Image *img, Err *err)
{
    const Dataset *ds = wk->ds;
    if (img->h == ds->h && img->w == ds->w)
        return CLRUN_OK;
    return err_set(err, CLRUN_EINPUT,
                   "%s: image is %dx%d (height x width) but %s is %dx%d; images of different "
                   "sizes need size: [H, W] in data: to resize them all",
                   path, img->h, img->w, wk->first, ds->h, ds->w);
}

/* Decodes path into img, resized and cropped as torchvision would when
 * opt asks for it. */
static int read_prepared(const char *path, const ImageOptions *opt, Image *img, Err *err)
{
    int rc = image_read(path, img, err);
    if (rc || !prep_wanted(opt))
        return rc;
    Image decoded = *img;
    rc = prep_image(&decoded, opt, img, err);
    image_free(&decoded);
    return rc ? err_prefix(err, rc, "%s", path) : rc;
}

/* Decodes one image into example index. */
static int walk_image(Walk *wk, const char *path, int index, int label, Err *err)
{
    Dataset *ds = wk->ds;
    Image img;
    int rc = read_prepared(path, wk->opt, &img, err);
    if (rc)
        return rc;
    if (index == 0 && !ds->pixels) {
        ds->h = img.h;
        ds->w = img.w;
        snprintf(wk->first, sizeof wk->first, "%s", path);
        rc = walk_alloc(wk, err);
    }
    if (!rc && !wk->opt->height)
        rc = check_same_size(wk, path, &img, err);
    if (!rc)
        rc = convert(&img, ds->c, ds->h, ds->w, wk->opt->invert,
                     ds->pixels + (size_t)index * ds->c * ds->h * ds->w, err);
    if (!rc)
        ds->labels[index] = (unsigned char)label;
    image_free(&img);
    return rc;
}

static int walk_images(Walk *wk, Err *err)
{
    int index = 0, rc = CLRUN_OK;
    for (int k = 0; !rc && k < wk->classes.n; k++)
        for (int i = 0; !rc && i < wk->files[k].n; i++) {
            DatasetPath path, sub;
            rc = dataset_join(sub, wk->dir, wk->classes.names[k], err);
            if (!rc)
                rc = dataset_join(path, sub, wk->files[k].names[i], err);
            if (!rc)
                rc = walk_image(wk, path, index++, k, err);
        }
    return rc;
}

static int check_options(const ImageOptions *opt, Err *err)
{
    if ((opt->height == 0) != (opt->width == 0) || opt->height < 0 || opt->width < 0 ||
        opt->height > IMAGE_MAX_SIDE || opt->width > IMAGE_MAX_SIDE)
        return err_set(err, CLRUN_EINPUT, "image size %dx%d: both must be 1 to %d (or both 0)",
                       opt->height, opt->width, IMAGE_MAX_SIDE);
    return CLRUN_OK;
}

int images_load(Dataset *ds, const char *dir, const ImageOptions *opt, Err *err)
{
    memset(ds, 0, sizeof *ds);
    Walk wk = {.dir = dir, .opt = opt, .ds = ds};
    int rc = check_options(opt, err);
    ds->c = opt->grayscale ? 1 : 3;
    ds->h = opt->height;
    ds->w = opt->width;
    if (!rc)
        rc = walk_list(&wk, err);
    if (!rc && opt->height)
        rc = walk_alloc(&wk, err);
    if (!rc)
        rc = walk_images(&wk, err);
    if (!rc) {
        ds->classes = wk.classes.n;
        rc = dataset_set_class_names(ds, (const char *const *)wk.classes.names, wk.classes.n,
                                     err);
    }
    walk_free(&wk);
    if (rc) {
        dataset_free(ds);
        return rc;
    }
    snprintf(ds->source, sizeof ds->source, "%s", dir);
    return CLRUN_OK;
}

/* ---- a list of image files (clrun predict) ---- */

/* The images path names, appended to out: the file itself, or the image
 * files of a folder, sorted by name. */
static int expand_path(const char *path, Names *out, Err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return err_set(err, CLRUN_EINPUT, "%s: %s", path, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return names_add(out, path, err);
    Names files;
    int rc = list_dir(path, 0, &files, err);
    for (int i = 0; !rc && i < files.n; i++) {
        DatasetPath p;
        rc = dataset_join(p, path, files.names[i], err);
        if (!rc) rc = names_add(out, p, err);
    }
    if (!rc && files.n == 0)
        rc = err_set(err, CLRUN_EINPUT, "%s: no images (.png, .jpg, .jpeg) in the folder", path);
    names_free(&files);
    return rc;
}

int images_load_list(Dataset *ds, const char *const *paths, const unsigned char *labels, int n,
                     const ImageOptions *opt, const char *what, int *failed, Err *err)
{
    memset(ds, 0, sizeof *ds);
    *failed = -1;
    Walk wk = {.dir = what, .opt = opt, .ds = ds};
    int rc = check_options(opt, err);
    ds->c = opt->grayscale ? 1 : 3;
    ds->h = opt->height;
    ds->w = opt->width;
    ds->n = n;
    ds->classes = 1;
    if (!rc && n < 1)
        rc = err_set(err, CLRUN_EINPUT, "%s: no images", what);
    if (!rc && opt->height)
        rc = walk_alloc(&wk, err);
    for (int i = 0; !rc && i < n; i++)
        if ((rc = walk_image(&wk, paths[i], i, labels ? labels[i] : 0, err)))
            *failed = i;
    if (rc) {
        dataset_free(ds);
        return rc;
    }
    snprintf(ds->source, sizeof ds->source, "%s", what);
    return CLRUN_OK;
}

int images_load_files(Dataset *ds, const char *const *paths, int n, const ImageOptions *opt,
                      char ***files, Err *err)
{
    memset(ds, 0, sizeof *ds);
    *files = NULL;
    Names list = {0};
    int failed, rc = check_options(opt, err);
    if (!rc && !opt->height)
        rc = err_set(err, CLRUN_EINPUT, "images to predict need a size to be resized to");
    for (int i = 0; !rc && i < n; i++)
        rc = expand_path(paths[i], &list, err);
    if (!rc && list.n == 0)
        rc = err_set(err, CLRUN_EINPUT, "no images given");
    if (!rc)
        rc = images_load_list(ds, (const char *const *)list.names, NULL, list.n, opt,
                              "the images given", &failed, err);
    if (rc) {
        names_free(&list);
        return rc;
    }
    *files = list.names; /* the caller's now, with list.n == ds->n entries */
    return CLRUN_OK;
}

/* ---- the files of a folder, listed (clrun features' rows) ---- */

/* l's classes from the names in classes, emptied. */
static void take_classes(ImageList *l, Names *classes)
{
    l->classes = classes->names;
    l->n_classes = classes->n;
    memset(classes, 0, sizeof *classes);
}

/* The paths and class indices of wk's listing (walk_list) into l. */
static int list_walked(ImageList *l, Walk *wk, Err *err)
{
    Names paths = {0};
    int rc = (l->labels = malloc((size_t)wk->ds->n + 1)) ? CLRUN_OK
             : err_set(err, CLRUN_ERUNTIME, "out of memory listing %s", wk->dir);
    for (int k = 0; !rc && k < wk->classes.n; k++)
        for (int i = 0; !rc && i < wk->files[k].n; i++) {
            DatasetPath path, sub;
            rc = dataset_join(sub, wk->dir, wk->classes.names[k], err);
            if (!rc) rc = dataset_join(path, sub, wk->files[k].names[i], err);
            if (!rc) rc = names_add(&paths, path, err);
            if (!rc) l->labels[paths.n - 1] = (unsigned char)k;
        }
    l->paths = paths.names;
    l->n = paths.n;
    for (int k = 0; k < wk->classes.n; k++) /* walk_free's loop stops at classes.n */
        names_free(&wk->files[k]);
    if (!rc)
        take_classes(l, &wk->classes);
    return rc;
}

/* A folder without class folders: its own images, one unnamed class. */
static int list_flat(ImageList *l, const char *dir, Err *err)
{
    Names paths = {0}, classes = {0};
    int rc = expand_path(dir, &paths, err);
    l->paths = paths.names;
    l->n = paths.n;
    if (!rc && !(l->labels = calloc((size_t)l->n + 1, 1)))
        rc = err_set(err, CLRUN_ERUNTIME, "out of memory listing %s", dir);
    if (!rc) rc = names_add(&classes, "", err);
    take_classes(l, &classes);
    return rc;
}

int images_list(ImageList *l, const char *dir, Err *err)
{
    memset(l, 0, sizeof *l);
    Names classes;
    int rc = list_dir(dir, 1, &classes, err), flat = !rc && classes.n == 0;
    names_free(&classes);
    Dataset counted = {0};
    Walk wk = {.dir = dir, .ds = &counted};
    if (!rc && flat)
        rc = list_flat(l, dir, err);
    else if (!rc && !(rc = walk_list(&wk, err)))
        rc = list_walked(l, &wk, err);
    walk_free(&wk);
    if (rc)
        images_list_free(l);
    return rc;
}

void images_list_free(ImageList *l)
{
    for (int i = 0; l->paths && i < l->n; i++)
        free(l->paths[i]);
    for (int i = 0; l->classes && i < l->n_classes; i++)
        free(l->classes[i]);
    free(l->paths);
    free(l->labels);
    free(l->classes);
    memset(l, 0, sizeof *l);
}
