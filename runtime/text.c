/* text.c: numbers written for people to read (see text.h). */
#include "text.h"

#include <stdio.h>

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
