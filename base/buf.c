#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void apx_buf_reserve(apx_buf *b, size_t extra) {
  if (b->len + extra + 1 <= b->cap) return;
  size_t nc = b->cap ? b->cap : 64;
  while (nc < b->len + extra + 1) nc *= 2;
  char *p = realloc(b->data, nc);
  if (!p) {
    fputs("aspirec: out of memory\n", stderr);
    abort();
  }
  b->data = p;
  b->cap = nc;
}

void apx_buf_append(apx_buf *b, const char *s, size_t n) {
  apx_buf_reserve(b, n);
  if (n) memcpy(b->data + b->len, s, n);
  b->len += n;
  b->data[b->len] = '\0';
}

void apx_buf_puts(apx_buf *b, const char *s) { apx_buf_append(b, s, strlen(s)); }

void apx_buf_putc(apx_buf *b, char c) {
  if (b->len + 2 > b->cap) apx_buf_reserve(b, 1);
  b->data[b->len++] = c;
  b->data[b->len] = '\0';
}

void apx_buf_vprintf(apx_buf *b, const char *fmt, va_list ap) {
  /* One pass when the text fits the room left (the usual case for short
   * values), a second only after growing. */
  va_list ap2;
  va_copy(ap2, ap);
  size_t room = b->cap > b->len ? b->cap - b->len : 0;
  int n = vsnprintf(room ? b->data + b->len : NULL, room, fmt, ap2);
  va_end(ap2);
  if (n <= 0) {
    if (b->data && room) b->data[b->len] = '\0';
    return;
  }
  if ((size_t)n >= room) {
    apx_buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  }
  b->len += (size_t)n;
}

void apx_buf_int(apx_buf *b, long long v) {
  char d[24];
  size_t i = sizeof d;
  /* Digits of the magnitude as unsigned, so that LLONG_MIN works too. */
  unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
  do {
    d[--i] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) d[--i] = '-';
  apx_buf_append(b, d + i, sizeof d - i);
}

void apx_buf_printf(apx_buf *b, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  apx_buf_vprintf(b, fmt, ap);
  va_end(ap);
}

const char *apx_buf_str(apx_buf *b) { return b->data ? b->data : ""; }

void apx_buf_clear(apx_buf *b) {
  b->len = 0;
  if (b->data) b->data[0] = '\0';
}

char *apx_buf_take(apx_buf *b, size_t *len) {
  /* An empty buffer that never held text still hands out "" (a fresh
   * allocation is not terminated). */
  if (!b->data) {
    apx_buf_reserve(b, 0);
    b->data[0] = '\0';
  }
  char *d = b->data;
  if (len) *len = b->len;
  b->data = NULL;
  b->len = b->cap = 0;
  return d;
}

void apx_buf_free(apx_buf *b) {
  free(b->data);
  b->data = NULL;
  b->len = b->cap = 0;
}
