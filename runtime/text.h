/* text.h: numbers written for people to read. */
#ifndef CLRUN_TEXT_H
#define CLRUN_TEXT_H

enum { TEXT_NUMBER_MAX = 32 };

/* n with a comma between each group of three digits ("60,000") in buf, which
 * holds TEXT_NUMBER_MAX characters; returns buf. */
const char *text_thousands(long n, char *buf);

#endif
