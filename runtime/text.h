/* text.h: numbers written for people to read, and names that become file
 * names. */
#ifndef CLRUN_TEXT_H
#define CLRUN_TEXT_H

enum { TEXT_NUMBER_MAX = 32 };

/* n with a comma between each group of three digits ("60,000") in buf, which
 * holds TEXT_NUMBER_MAX characters; returns buf. */
const char *text_thousands(long n, char *buf);

/* Whether name can become part of a file name as it stands: 1 or more
 * letters, digits, '_' or '-', not starting with '-'. No '/' or '.' (which
 * would write elsewhere, or as another file: every file a run writes has a
 * '.'), no space. Analysis names are such names. */
int text_is_name(const char *name);

/* Such names joined by single dots ("layer1.0.conv1", PyTorch's module
 * paths): no dot first, last or beside another. Layer names are these; a
 * file named after one always has a prefix, so none is a run's own file. */
int text_is_dotted_name(const char *name);

#endif
