/* Tokens, constant-time comparison, cookies, origins (auth.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>

#include "auth.h"

bool apx_dash_random_hex(char *out, size_t nbytes) {
  unsigned char raw[64];
  if (nbytes > sizeof raw) return false;
  size_t got = 0;
  while (got < nbytes) {
    ssize_t k = getrandom(raw + got, nbytes - got, 0);
    if (k < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    got += (size_t)k;
  }
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < nbytes; i++) {
    out[2 * i] = hex[raw[i] >> 4];
    out[2 * i + 1] = hex[raw[i] & 15];
  }
  out[2 * nbytes] = '\0';
  memset(raw, 0, sizeof raw);
  return true;
}

bool apx_dash_secret_eq(const char *a, const char *b) {
  if (!a || !b) return false;
  size_t na = strlen(a), nb = strlen(b);
  /* Every byte of the longer one is looked at; the result is folded in
   * without a branch on the contents. */
  size_t n = na > nb ? na : nb;
  unsigned char diff = (unsigned char)(na != nb);
  for (size_t i = 0; i < n; i++) {
    unsigned char x = i < na ? (unsigned char)a[i] : 0, y = i < nb ? (unsigned char)b[i] : 0;
    diff |= (unsigned char)(x ^ y);
  }
  return diff == 0;
}

bool apx_dash_cookie(const char *h, const char *name, char *out, size_t n) {
  if (!h) return false;
  size_t nl = strlen(name);
  const char *p = h;
  while (*p) {
    while (*p == ' ' || *p == ';') p++;
    const char *eq = strchr(p, '=');
    const char *semi = strchr(p, ';');
    if (!semi) semi = p + strlen(p);
    if (eq && eq < semi && (size_t)(eq - p) == nl && memcmp(p, name, nl) == 0) {
      size_t vl = (size_t)(semi - eq - 1);
      if (vl + 1 > n) return false;
      memcpy(out, eq + 1, vl);
      out[vl] = '\0';
      return true;
    }
    p = semi;
  }
  return false;
}

const char *apx_dash_bearer(const char *h) {
  if (!h || strncasecmp(h, "Bearer ", 7) != 0) return NULL;
  h += 7;
  while (*h == ' ') h++;
  return *h ? h : NULL;
}

bool apx_dash_host_ok(const char *host, int port) {
  if (!host) return false;
  char want[64];
  static const char *const names[] = {"127.0.0.1", "localhost", "[::1]"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
    snprintf(want, sizeof want, "%s:%d", names[i], port);
    if (strcasecmp(host, want) == 0) return true;
  }
  return false;
}

bool apx_dash_origin_ok(const char *origin, int port) {
  if (!origin || strncmp(origin, "http://", 7) != 0) return false;
  return apx_dash_host_ok(origin + 7, port);
}
