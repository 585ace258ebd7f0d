/* err.h: how every library function reports failure.
 *
 * Functions in runtime/ return a status (CLRUN_OK, CLRUN_ERUNTIME or CLRUN_EINPUT)
 * and fill an Err with a message that carries its context (file:line:col, layer,
 * OpenCL call and kernel). Only clrun.c turns a status into an exit code. */
#ifndef CLRUN_ERR_H
#define CLRUN_ERR_H

enum {
    CLRUN_OK = 0,
    CLRUN_ERUNTIME = 1, /* the device, the file system or the numbers failed */
    CLRUN_EINPUT = 2,   /* bad input, config or usage */
};

/* Room for three whole paths of PATH_MAX (a message naming a file, the file
 * that named it and a directory), so that no long path is cut mid-message. */
typedef struct {
    char msg[3 * 4096];
} Err;

/* Formats the message into err (when err is not NULL) and returns code, so a
 * failure reads `return err_set(err, CLRUN_EINPUT, "...", ...);`. */
int err_set(Err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Puts "prefix: " in front of the message already in err, for adding context
 * on the way up; returns code. */
int err_prefix(Err *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
