/* Tokens, constant-time comparison, cookies, origins, the kept key (auth.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "base/atomic.h"

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

bool apx_dash_gw_host_ok(const char *host, const char *gw, int port) {
  if (!host) return false;
  const char *colon = strrchr(host, ':');
  size_t n = strlen(host);
  if (colon && !strchr(host, '[')) {
    /* name:PORT (an IPv6 gateway comes bracketed: [fd00::1]:PORT) */
    char want[16];
    snprintf(want, sizeof want, "%d", port);
    if (strcmp(colon + 1, want) != 0) return false;
    n = (size_t)(colon - host);
  } else if (host[0] == '[') {
    const char *close = strchr(host, ']');
    if (!close) return false;
    if (close[1]) {
      char want[16];
      snprintf(want, sizeof want, ":%d", port);
      if (strcmp(close + 1, want) != 0) return false;
    }
    host++;
    n = (size_t)(close - host);
  }
  static const char *const names[] = {"host.docker.internal", "host.containers.internal"};
  for (size_t i = 0; i < sizeof names / sizeof *names; i++)
    if (strlen(names[i]) == n && strncasecmp(host, names[i], n) == 0) return true;
  return gw && *gw && strlen(gw) == n && strncasecmp(host, gw, n) == 0;
}

static bool apx_is_key(const char *s, size_t len) {
  for (size_t i = 0; i < len; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
  return true;
}

int apx_dash_key_keep(const char *path, char *out, size_t nbytes, char *err, size_t nerr) {
  size_t len = 2 * nbytes;
  char buf[160];
  if (len + 2 > sizeof buf) {
    snprintf(err, nerr, "the OTLP key: %zu bytes is too long", nbytes);
    return -1;
  }
  /* Not through a link: whoever can write the state directory must not
   * make aspirec read (or, below, chmod) another file. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd >= 0) {
    struct stat st;
    ssize_t k = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? read(fd, buf, sizeof buf - 1) : -1;
    if (k >= 0 && (st.st_mode & 077)) (void)fchmod(fd, 0600);
    close(fd);
    if (k >= 0) {
      buf[k] = '\0';
      size_t n = (size_t)k;
      if (n && buf[n - 1] == '\n') n--;
      if (n == len && apx_is_key(buf, len)) {
        memcpy(out, buf, len);
        out[len] = '\0';
        memset(buf, 0, sizeof buf);
        return 0;
      }
    }
  } else if (errno != ENOENT) {
    snprintf(err, nerr, "cannot read the OTLP key from %s: %s", path, strerror(errno));
    return -1;
  }
  /* None yet, or not a key: a new one, kept for the next runs. */
  if (!apx_dash_random_hex(buf, nbytes)) {
    snprintf(err, nerr, "the OTLP key: no random bytes from the kernel: %s", strerror(errno));
    return -1;
  }
  buf[len] = '\n';
  if (apx_atomic_write(path, buf, len + 1, 0600) != 0) {
    snprintf(err, nerr, "cannot save the OTLP key to %s: %s", path, strerror(errno));
    memset(buf, 0, sizeof buf);
    return -1;
  }
  memcpy(out, buf, len);
  out[len] = '\0';
  memset(buf, 0, sizeof buf);
  return 0;
}
