/* The unit tests' one reporting helper: a line `ok - …` or `not ok - …` per
 * check (what tests/run.sh counts), and the totals for the closing line. */
#ifndef APX_TEST_CHECK_H
#define APX_TEST_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond, ...)                                                       \
  do {                                                                         \
    if (cond) {                                                                \
      passed++;                                                                \
      printf("ok - ");                                                         \
    } else {                                                                   \
      failed++;                                                                \
      printf("not ok - ");                                                     \
    }                                                                          \
    printf(__VA_ARGS__);                                                       \
    printf("\n");                                                              \
  } while (0)

#endif
