/* outputs.c: outputs against inputs and runs' files (see outputs.h).
 *
 * Files are compared by identity (device and inode), so another spelling of
 * a path (./w.safetensors, a link) is the same file; directories by their
 * resolved paths. */
#include "outputs.h"

#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "io/file.h"
#include "rundir.h"

/* The resolved directory that holds path (its last component left off), or
 * 0 when that directory does not exist. */
static int parent_dir(const char *path, char out[PATH_MAX])
{
    char copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    return realpath(dirname(copy), out) != NULL;
}

/* The input that lies directly in the resolved directory dir, or NULL. */
static const char *input_in(const char *dir)
{
    int n;
    const FileInput *in = file_inputs(&n);
    for (int i = 0; i < n; i++) {
        char parent[PATH_MAX];
        if (parent_dir(in[i].path, parent) && strcmp(parent, dir) == 0)
            return in[i].path;
    }
    return NULL;
}

int outputs_check_dir(const char *dir, const char *const *subdirs, int n_subdirs, Err *err)
{
    for (int i = -1; i < n_subdirs; i++) {
        char path[PATH_MAX + 80], real[PATH_MAX];
        snprintf(path, sizeof path, "%s%s%s", dir, i < 0 ? "" : "/", i < 0 ? "" : subdirs[i]);
        const char *input = realpath(path, real) ? input_in(real) : NULL;
        if (input)
            return err_set(err, CLRUN_EINPUT, "%s, which this command reads, lies in %s, which the "
                           "run writes its files into: one of them could replace it; move it "
                           "elsewhere, or give another --out", input, path);
    }
    return CLRUN_OK;
}

/* Whether path names the same existing file as other. */
static int same_file(const struct stat *st, const char *other)
{
    struct stat o;
    return stat(other, &o) == 0 && o.st_dev == st->st_dev && o.st_ino == st->st_ino;
}

/* Whether the resolved directory dir holds a run or a sweep. */
static int is_run_dir(const char *dir)
{
    static const char *const marks[] = {"config.yaml", "SUCCESS", ".lock", "sweep.csv"};
    for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
        char path[PATH_MAX + 16];
        snprintf(path, sizeof path, "%s/%s", dir, marks[i]);
        if (access(path, F_OK) == 0)
            return 1;
    }
    return 0;
}

static int replaces_input(const char *path, const char *what, const char *input, Err *err)
{
    int same = strcmp(path, input) == 0;
    return err_set(err, CLRUN_EINPUT, "the %s %s is %s%s%san input of this command: writing "
                   "it would replace it; give the %s another name", what, path,
                   same ? "" : "the same file as ", same ? "" : input, same ? "" : ", ", what);
}

int outputs_check_file(const char *path, const char *what, const char *const *also, Err *err)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        int n;
        const FileInput *in = file_inputs(&n);
        for (int i = 0; i < n; i++)
            if (in[i].dev == (unsigned long long)st.st_dev &&
                in[i].ino == (unsigned long long)st.st_ino)
                return replaces_input(path, what, in[i].path, err);
        for (int i = 0; also && also[i]; i++)
            if (same_file(&st, also[i]))
                return replaces_input(path, what, also[i], err);
    }
    char dir[PATH_MAX], copy[PATH_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    const char *name = basename(copy);
    if (parent_dir(path, dir) && is_run_dir(dir) && rundir_own_file(name))
        return err_set(err, CLRUN_EINPUT, "the %s %s would replace %s, a file of the run in %s; "
                       "give the %s another name or folder", what, path, name, dir, what);
    return CLRUN_OK;
}
