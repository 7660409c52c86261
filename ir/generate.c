/* Values of parameters declared with `generate` (generate.h), from
 * getrandom(): run mode and the compose back end draw them alike. */
#include "generate.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static const char apx_lower[] = "abcdefghijklmnopqrstuvwxyz";
static const char apx_upper[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
static const char apx_digits[] = "0123456789";
static const char apx_special[] = APX_GENERATE_SPECIAL;

static void apx_random(void *buf, size_t n) {
  unsigned char *p = buf;
  while (n) {
    ssize_t k = getrandom(p, n, 0);
    if (k < 0) {
      if (errno == EINTR) continue;
      perror("aspirec: getrandom");
      abort(); /* a secret must never be made from anything weaker */
    }
    p += k;
    n -= (size_t)k;
  }
}

/* A uniform index below n (rejection sampling: no modulo bias). */
static size_t apx_random_below(size_t n) {
  uint32_t lim = (uint32_t)(UINT32_MAX - UINT32_MAX % n), x;
  do apx_random(&x, sizeof x);
  while (x >= lim);
  return x % n;
}

size_t apx_ir_generate_length(const apx_generate *g) { return g->length > 0 ? (size_t)g->length : 22; }

void apx_ir_generate(const apx_generate *g, char *out, size_t len) {
  char pool[128];
  size_t np = 0;
  const char *cls[4] = {g->lower ? apx_lower : "", g->upper ? apx_upper : "", g->numeric ? apx_digits : "",
                        g->special ? apx_special : ""};
  int mins[4] = {g->min_lower, g->min_upper, g->min_numeric, g->min_special};
  for (int i = 0; i < 4; i++)
    for (const char *c = cls[i]; *c; c++) pool[np++] = *c;
  if (!np) {
    memcpy(pool, apx_lower, 26);
    np = 26;
  }
  size_t k = 0;
  /* The minimums first, from their own classes, then the rest from the
   * whole pool, then a Fisher-Yates shuffle so their places are random. */
  static const char *const all[4] = {apx_lower, apx_upper, apx_digits, apx_special};
  for (int i = 0; i < 4; i++)
    for (int j = 0; j < mins[i] && k < len; j++) out[k++] = all[i][apx_random_below(strlen(all[i]))];
  while (k < len) out[k++] = pool[apx_random_below(np)];
  for (size_t i = len; i > 1; i--) {
    size_t j = apx_random_below(i);
    char t = out[i - 1];
    out[i - 1] = out[j];
    out[j] = t;
  }
  out[len] = '\0';
}
