/* checkpoint.c: saving and restoring a run's state (see checkpoint.h). */
#include "checkpoint.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define CHECKPOINT_FILE "checkpoint.safetensors"

/* A run's provenance (run:) and a sweep's grid (sweep:) are not settings of
 * the run: a config.yaml run again, or a sweep given one more value, keeps
 * the fingerprint of the runs it has, and is no difference in settings. */
static const char *const not_settings[] = {"run", "sweep", NULL};

static int is_setting(const SpecNode *member)
{
    for (int i = 0; member->key && not_settings[i]; i++)
        if (strcmp(member->key, not_settings[i]) == 0)
            return 0;
    return 1;
}

uint64_t checkpoint_fingerprint(const SpecNode *root)
{
    char *text = NULL;
    size_t size = 0;
    SpecNode settings = *root;
    SpecNode **items = calloc((size_t)root->n + 1, sizeof *items);
    settings.items = items, settings.n = 0;
    for (int i = 0; items && root->kind == SPEC_MAP && i < root->n; i++)
        if (is_setting(root->items[i]))
            items[settings.n++] = root->items[i];
    FILE *m = items ? open_memstream(&text, &size) : NULL;
    uint64_t h = 0xcbf29ce484222325ull;
    if (m && spec_write(m, root->kind == SPEC_MAP ? &settings : root, 0) == CLRUN_OK &&
        fclose(m) == 0) {
        for (size_t i = 0; i < size; i++)
            h = (h ^ (unsigned char)text[i]) * 0x100000001b3ull;
    } else if (m) {
        fclose(m);
    }
    free(text);
    free(items);
    return h;
}

static void path_of(const char *dir, char *out, size_t size)
{
    snprintf(out, size, "%s/" CHECKPOINT_FILE, dir);
}

/* The state buffer k of parameter i, or NULL (buffers have none). */
static cl_mem state_of(const Optimizer *o, int i, int k)
{
    return k < o->type->n_state ? o->state[i * OPTIM_MAX_STATE + k] : NULL;
}

static void state_name(const Param *p, int k, char *out, size_t size)
{
    snprintf(out, size, "optimizer.%d.%s", k, p->name);
}

/* CRC-32 of the tensors' names, shapes and values, in order: written with the
 * checkpoint and checked before anything of it is loaded, so a damaged file
 * (a bit flipped on disk, a copy cut short) is reported, not trained on. */
static uint32_t tensors_crc(const StTensor *t, int n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    for (int i = 0; i < n; i++) {
        crc = crc32(crc, (const Bytef *)t[i].name, (uInt)strlen(t[i].name));
        crc = crc32(crc, (const Bytef *)t[i].shape, (uInt)(t[i].ndim * sizeof t[i].shape[0]));
        for (size_t done = 0; done < t[i].count;) { /* uInt lengths: in pieces */
            size_t part = t[i].count - done < (1u << 28) ? t[i].count - done : (1u << 28);
            crc = crc32(crc, (const Bytef *)(t[i].data + done), (uInt)(part * sizeof(float)));
            done += part;
        }
    }
    return (uint32_t)crc;
}

/* Parameter i's value and optimizer state mapped into t and mem from *n on. */
static int map_param(Graph *g, const Optimizer *o, int i, StTensor *t, cl_mem *mem, int *n,
                     Err *err)
{
    const Param *p = &g->params[i];
    mem[*n] = p->value;
    int rc = graph_map_tensor(g, p, p->name, mem[*n], &t[*n], err);
    ++*n;
    for (int k = 0; k < OPTIM_MAX_STATE && !rc; k++) {
        char name[160];
        state_name(p, k, name, sizeof name);
        if ((mem[*n] = state_of(o, i, k))) {
            rc = graph_map_tensor(g, p, name, mem[*n], &t[*n], err);
            ++*n;
        }
    }
    return rc;
}

int checkpoint_save(const char *dir, Graph *g, const Optimizer *o, const CheckpointInfo *info,
                    Err *err)
{
    int cap = g->n_params * (1 + OPTIM_MAX_STATE), n = 0;
    StTensor *t = calloc((size_t)cap, sizeof *t);
    cl_mem *mem = calloc((size_t)cap, sizeof *mem);
    int rc = t && mem ? CLRUN_OK : err_set(err, CLRUN_ERUNTIME, "out of memory");
    for (int i = 0; i < g->n_params && !rc; i++)
        rc = map_param(g, o, i, t, mem, &n, err);
    char epoch[32], rng[32], settings[32], step[32], iterations[32], crc[16], path[PATH_MAX];
    snprintf(epoch, sizeof epoch, "%ld", info->epoch);
    snprintf(rng, sizeof rng, "%016" PRIx64, info->rng);
    snprintf(settings, sizeof settings, "%016" PRIx64, info->settings);
    snprintf(step, sizeof step, "%" PRIu32, g->step);
    snprintf(iterations, sizeof iterations, "%ld", o->iterations);
    snprintf(crc, sizeof crc, "%08" PRIx32, rc ? 0 : tensors_crc(t, n));
    const char *meta[] = {"format", "clrun-checkpoint", "epoch", epoch, "rng", rng,
                          "settings", settings, "step", step, "iterations", iterations,
                          "crc32", crc};
    path_of(dir, path, sizeof path);
    if (!rc) rc = st_write(path, t, n, meta, 7, err);
    rc = graph_unmap_tensors(g, mem, t, n, rc, err);
    free(mem);
    free(t);
    return rc;
}

/* The metadata value of key as an unsigned number in base, or an error. */
static int meta_number(const StFile *f, const char *key, int base, uint64_t *out, const char *path,
                       Err *err)
{
    const char *v = st_meta(f, key);
    char *end = NULL;
    if (v && *v)
        *out = strtoull(v, &end, base);
    if (!v || !*v || *end)
        return err_set(err, CLRUN_EINPUT, "%s: damaged checkpoint: no valid '%s' (delete the file "
                       "to start the run over)", path, key);
    return CLRUN_OK;
}

static int restore(const StFile *f, const char *path, Graph *g, Optimizer *o, CheckpointInfo *info,
                   Err *err)
{
    uint64_t epoch = 0, rng = 0, step = 0, iterations = 0, crc = 0;
    int rc = meta_number(f, "crc32", 16, &crc, path, err);
    if (!rc && crc != tensors_crc(f->t, f->n))
        rc = err_set(err, CLRUN_EINPUT, "%s: damaged checkpoint: its contents do not match its "
                     "checksum (delete the file to start the run over)", path);
    if (!rc) rc = meta_number(f, "epoch", 10, &epoch, path, err);
    if (!rc) rc = meta_number(f, "rng", 16, &rng, path, err);
    if (!rc) rc = meta_number(f, "step", 10, &step, path, err);
    if (!rc) rc = meta_number(f, "iterations", 10, &iterations, path, err);
    for (int i = 0; i < g->n_params && !rc; i++) {
        const Param *p = &g->params[i];
        rc = graph_write_tensor(g, p, f, p->name, p->value, path, err);
        for (int k = 0; k < OPTIM_MAX_STATE && !rc; k++) {
            char name[160];
            state_name(p, k, name, sizeof name);
            if (state_of(o, i, k))
                rc = graph_write_tensor(g, p, f, name, state_of(o, i, k), path, err);
        }
    }
    if (rc)
        return rc;
    info->epoch = (long)epoch;
    info->rng = rng;
    g->step = (uint32_t)step;
    o->iterations = (long)iterations;
    return CLRUN_OK;
}

int checkpoint_epochs_only(const char *dir, const SpecNode *root, char *diff, size_t size)
{
    char path[PATH_MAX + 16];
    snprintf(path, sizeof path, "%s/config.yaml", dir);
    Err ignored = {""};
    SpecNode *old = access(path, F_OK) == 0 ? spec_load(path, &ignored) : NULL;
    if (!old) {
        snprintf(diff, size, "unknown: no readable config.yaml");
        return 0;
    }
    int n = spec_diff(old, root, not_settings, diff, size);
    spec_free(old);
    return n == 1 && strcmp(diff, "train.epochs") == 0;
}

int checkpoint_present(const char *dir)
{
    char path[PATH_MAX];
    path_of(dir, path, sizeof path);
    return access(path, F_OK) == 0;
}

int checkpoint_load(const char *dir, const SpecNode *root, Graph *g, Optimizer *o,
                    CheckpointInfo *info, int *found, Err *err)
{
    char path[PATH_MAX];
    path_of(dir, path, sizeof path);
    *found = 0;
    if (access(path, F_OK) != 0)
        return CLRUN_OK;
    StFile f;
    uint64_t settings = 0, done = 0;
    int rc = st_read(path, &f, err);
    if (!rc) rc = meta_number(&f, "settings", 16, &settings, path, err);
    if (!rc) rc = meta_number(&f, "epoch", 10, &done, path, err);
    char diff[1024] = "";
    /* fewer epochs than were done is no extension: that run starts over, as before; as
       many is the run asked for, with nothing left to train */
    int extend = !rc && settings != info->settings &&
                 checkpoint_epochs_only(dir, root, diff, sizeof diff) && (long)done <= info->epoch;
    if (!rc && settings != info->settings && !extend)
        printf("Checkpoint: %s is for other settings (those that differ: %s); "
               "starting over\n", path, diff[0] ? diff : "none that config.yaml records");
    else if (!rc && !(rc = restore(&f, path, g, o, info, err)))
        *found = 1;
    st_free(&f);
    if (!rc && extend) {
        printf("Checkpoint: only train.epochs differs: the run continues after epoch %ld (Keras' "
               "initial_epoch)\n", info->epoch);
        /* stamped with the new settings before config.yaml names them: a stop before the
           first new epoch then leaves a checkpoint the same command resumes, where
           config.yaml and the old stamp would agree on no difference and start over */
        rc = checkpoint_save(dir, g, o, info, err);
    }
    return rc;
}

void checkpoint_remove(const char *dir)
{
    char path[PATH_MAX];
    path_of(dir, path, sizeof path);
    unlink(path);
}
