/* text.c: numbers written for people to read, names for files (see text.h). */
#include "text.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

const char *text_thousands(long n, char *buf)
{
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%lu", n < 0 ? -(unsigned long)n : (unsigned long)n);
    int at = 0;
    if (n < 0)
        buf[at++] = '-';
    for (int i = 0; i < len; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[at++] = ',';
        buf[at++] = digits[i];
    }
    buf[at] = '\0';
    return buf;
}

int text_is_name(const char *name)
{
    for (const char *c = name; *c; c++)
        if (!(isalnum((unsigned char)*c) || *c == '_' || *c == '-'))
            return 0;
    return *name != '\0' && *name != '-';
}

int text_is_dotted_name(const char *name)
{
    char part[256];
    for (const char *at = name;; at++) {
        size_t len = strcspn(at, ".");
        if (len >= sizeof part)
            return 0;
        memcpy(part, at, len);
        part[len] = '\0';
        if (!text_is_name(part))
            return 0;
        at += len;
        if (!*at)
            return 1;
    }
}
