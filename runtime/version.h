/* version.h: clrun's version, recorded in every run's config.yaml and
 * printed by `clrun --version`. */
#ifndef CLRUN_VERSION_H
#define CLRUN_VERSION_H

#define CLRUN_VERSION "0.1.0"

#endif
