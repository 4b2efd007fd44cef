/* Minimal assertion helpers shared by the C tests (not part of the library). */
#ifndef VEIL_TEST_CHECK_H
#define VEIL_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                              \
    do {                                                                         \
        if (!(cond)) {                                                           \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

#define CHECK_STATUS(expr, want)                                                 \
    do {                                                                         \
        veil_status got_ = (expr);                                               \
        if (got_ != (want)) {                                                    \
            fprintf(stderr, "%s:%d: %s returned %u (%s), want %u (%s)\n", __FILE__, \
                    __LINE__, #expr, (unsigned)got_, veil_status_str(got_),      \
                    (unsigned)(want), veil_status_str(want));                    \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

#define CHECK_CONTAINS(haystack, needle)                                         \
    do {                                                                         \
        if (strstr((haystack), (needle)) == NULL) {                              \
            fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__, \
                    __LINE__, (haystack), (needle));                             \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

#endif
