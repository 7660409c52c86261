/* The dashboard's pieces that need no browser: tokens, the constant-time
 * comparison, cookies, origins, the Host of the gateway's listener, the
 * kept OTLP key, the bounded ring of log lines. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "dashboard/auth.h"
#include "dashboard/ring.h"

static void test_tokens(void) {
  char a[65], b[65];
  CHECK(apx_dash_random_hex(a, 32) && apx_dash_random_hex(b, 32), "random tokens are made");
  CHECK(strlen(a) == 64 && strspn(a, "0123456789abcdef") == 64, "a token is 64 hex digits: %s", a);
  CHECK(strcmp(a, b) != 0, "two tokens differ");
  CHECK(apx_dash_secret_eq("abc", "abc"), "equal secrets compare equal");
  CHECK(!apx_dash_secret_eq("abc", "abd"), "a different last byte is seen");
  CHECK(!apx_dash_secret_eq("abc", "abcd") && !apx_dash_secret_eq("abcd", "abc"), "a prefix is not equal");
  CHECK(!apx_dash_secret_eq("", "a") && apx_dash_secret_eq("", ""), "empty strings");
  CHECK(!apx_dash_secret_eq(NULL, "a") && !apx_dash_secret_eq("a", NULL) && !apx_dash_secret_eq(NULL, NULL),
        "NULL equals nothing");
}

static void test_cookies(void) {
  char v[64];
  CHECK(apx_dash_cookie("a=1; apx_dash=tok; b=2", "apx_dash", v, sizeof v) && strcmp(v, "tok") == 0,
        "the cookie among others: %s", v);
  CHECK(apx_dash_cookie("apx_dash=x", "apx_dash", v, sizeof v) && strcmp(v, "x") == 0, "the only cookie");
  CHECK(!apx_dash_cookie("xapx_dash=x; apx_dashy=1", "apx_dash", v, sizeof v), "a longer or shorter name is not it");
  CHECK(!apx_dash_cookie(NULL, "apx_dash", v, sizeof v), "no Cookie header");
  CHECK(!apx_dash_cookie("apx_dash=0123456789", "apx_dash", v, 4), "a value too long for the buffer is refused");
  const char *b = apx_dash_bearer("Bearer  abc");
  CHECK(b && strcmp(b, "abc") == 0, "Bearer token");
  CHECK(!apx_dash_bearer("Basic abc") && !apx_dash_bearer("Bearer ") && !apx_dash_bearer(NULL), "not a Bearer token");
}

static void test_origins(void) {
  CHECK(apx_dash_origin_ok("http://127.0.0.1:18888", 18888), "127.0.0.1 is this origin");
  CHECK(apx_dash_origin_ok("http://localhost:18888", 18888), "localhost is this origin");
  CHECK(!apx_dash_origin_ok("http://127.0.0.1:18889", 18888), "another port is another origin");
  CHECK(!apx_dash_origin_ok("http://evil.example:18888", 18888), "another host is refused");
  CHECK(!apx_dash_origin_ok("https://127.0.0.1:18888", 18888), "another scheme is refused");
  CHECK(!apx_dash_origin_ok("null", 18888) && !apx_dash_origin_ok(NULL, 18888), "a null origin is refused");
  CHECK(!apx_dash_host_ok("127.0.0.1:18888.evil", 18888), "a Host that only begins like ours is refused");
  CHECK(apx_dash_host_ok("LOCALHOST:18888", 18888), "Host is compared without case");
}

static void test_gateway_host(void) {
  const char *gw = "10.89.0.1";
  CHECK(apx_dash_gw_host_ok("host.docker.internal:18888", gw, 18888), "host.docker.internal:PORT names the host");
  CHECK(apx_dash_gw_host_ok("host.docker.internal", gw, 18888), "... and without the port");
  CHECK(apx_dash_gw_host_ok("HOST.containers.internal:18888", gw, 18888), "podman's name, any case");
  CHECK(apx_dash_gw_host_ok("10.89.0.1:18888", gw, 18888) && apx_dash_gw_host_ok("10.89.0.1", gw, 18888),
        "the gateway's address, with or without the port");
  CHECK(!apx_dash_gw_host_ok("host.docker.internal:18889", gw, 18888), "another port is refused");
  CHECK(!apx_dash_gw_host_ok("host.docker.internal:", gw, 18888) &&
            !apx_dash_gw_host_ok("host.docker.internal:18888x", gw, 18888),
        "an empty or longer port is refused");
  CHECK(!apx_dash_gw_host_ok("host.docker.internal.evil:18888", gw, 18888) &&
            !apx_dash_gw_host_ok("10.89.0.10:18888", gw, 18888),
        "a name or address that only begins like ours is refused");
  CHECK(!apx_dash_gw_host_ok("127.0.0.1:18888", gw, 18888) && !apx_dash_gw_host_ok("localhost:18888", gw, 18888),
        "loopback names are not the gateway's");
  CHECK(!apx_dash_gw_host_ok(NULL, gw, 18888) && !apx_dash_gw_host_ok("", gw, 18888), "no Host is refused");
  CHECK(apx_dash_gw_host_ok("[fd00::1]:18888", "fd00::1", 18888) && apx_dash_gw_host_ok("[fd00::1]", "fd00::1", 18888),
        "an IPv6 gateway, bracketed");
  CHECK(!apx_dash_gw_host_ok("[fd00::1]:1", "fd00::1", 18888) && !apx_dash_gw_host_ok("[fd00::1", "fd00::1", 18888),
        "an IPv6 Host with another port or no bracket is refused");
}

static void test_kept_key(void) {
  char dir[] = "/tmp/apx-test-key.XXXXXX", path[64], k1[33], k2[33], err[256] = "";
  if (!mkdtemp(dir)) {
    CHECK(0, "a temporary directory");
    return;
  }
  snprintf(path, sizeof path, "%s/otlp-key", dir);
  struct stat st;
  CHECK(apx_dash_key_keep(path, k1, 16, err, sizeof err) == 0 && strlen(k1) == 32 &&
            strspn(k1, "0123456789abcdef") == 32,
        "no file: a new key of 32 hex digits");
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "saved with mode 0600 (%o)", (unsigned)st.st_mode & 0777);
  CHECK(apx_dash_key_keep(path, k2, 16, err, sizeof err) == 0 && strcmp(k1, k2) == 0,
        "the next run reads the same key");
  chmod(path, 0644);
  CHECK(apx_dash_key_keep(path, k2, 16, err, sizeof err) == 0 && strcmp(k1, k2) == 0 && stat(path, &st) == 0 &&
            (st.st_mode & 0777) == 0600,
        "a file readable by others is made 0600, its key kept");
  FILE *f = fopen(path, "w");
  if (f) {
    fputs("not a key\n", f);
    fclose(f);
  }
  CHECK(apx_dash_key_keep(path, k2, 16, err, sizeof err) == 0 && strlen(k2) == 32 && strcmp(k1, k2) != 0,
        "a file that holds no key gets a new one");
  char link[80];
  snprintf(link, sizeof link, "%s/link-key", dir);
  CHECK(symlink(path, link) == 0 && apx_dash_key_keep(link, k1, 16, err, sizeof err) == -1 && strstr(err, link) &&
            !strstr(err, k2),
        "a symbolic link is not followed: an error naming the file, not the key (%s)", err);
  char sub[80];
  snprintf(sub, sizeof sub, "%s/none/otlp-key", dir);
  CHECK(apx_dash_key_keep(sub, k1, 16, err, sizeof err) == -1 && strstr(err, "cannot save"),
        "an unwritable place: %s", err);
  unlink(link);
  unlink(path);
  rmdir(dir);
}

static void ring_text(const apx_dash_ring *r, size_t k, char *out, size_t n) {
  const apx_dash_line *l = apx_dash_ring_at(r, k);
  const char *a, *b;
  size_t na, nb;
  apx_dash_ring_text(r, l, &a, &na, &b, &nb);
  snprintf(out, n, "%.*s%.*s", (int)na, a, (int)nb, b);
}

static void test_ring(void) {
  apx_dash_ring r;
  apx_dash_ring_init(&r, 100, 1000);
  char line[64], got[2048];
  for (unsigned i = 1; i <= 1000; i++) {
    int n = snprintf(line, sizeof line, "line %u", i);
    apx_dash_ring_push(&r, i, i, line, (size_t)n, false);
  }
  CHECK(r.nlines <= 100, "at most max_lines lines are kept (%zu)", r.nlines);
  CHECK(r.tlen <= 1000 && r.tcap <= 1000, "at most max_bytes of text (%zu in %zu)", r.tlen, r.tcap);
  CHECK(r.dropped + r.nlines == 1000, "every line is kept or counted as dropped (%llu + %zu)",
        (unsigned long long)r.dropped, r.nlines);
  ring_text(&r, r.nlines - 1, got, sizeof got);
  CHECK(strcmp(got, "line 1000") == 0, "the newest line is the last: %s", got);
  ring_text(&r, 0, got, sizeof got);
  char want[32];
  snprintf(want, sizeof want, "line %llu", (unsigned long long)apx_dash_ring_at(&r, 0)->seq);
  CHECK(strcmp(got, want) == 0, "the oldest kept line's text matches its seq across the wrap: %s", got);
  bool all_ok = true;
  for (size_t k = 0; k < r.nlines; k++) {
    ring_text(&r, k, got, sizeof got);
    snprintf(want, sizeof want, "line %llu", (unsigned long long)apx_dash_ring_at(&r, k)->seq);
    if (strcmp(got, want) != 0) all_ok = false;
    if (k && apx_dash_ring_at(&r, k)->seq != apx_dash_ring_at(&r, k - 1)->seq + 1) all_ok = false;
  }
  CHECK(all_ok, "every kept line is intact and in order");
  CHECK(apx_dash_ring_after(&r, 995) == r.nlines - 5, "the lines after seq 995 are the last five");
  CHECK(apx_dash_ring_after(&r, 0) == 0 && apx_dash_ring_after(&r, 5000) == r.nlines, "after: bounds");
  /* A line longer than the ring keeps its end. */
  char big[3000];
  memset(big, 'x', sizeof big);
  memcpy(big + sizeof big - 3, "end", 3);
  apx_dash_ring_push(&r, 1001, 1001, big, sizeof big, true);
  CHECK(r.nlines == 1 && r.tlen == 1000, "a line longer than the ring replaces everything (%zu lines)", r.nlines);
  ring_text(&r, 0, got, sizeof got);
  CHECK(strlen(got) == 1000 && strcmp(got + 997, "end") == 0 && apx_dash_ring_at(&r, 0)->cont,
        "... keeping its end, marked as a piece");
  apx_dash_ring_free(&r);
  /* Growth: a ring starts small and grows with use. */
  apx_dash_ring_init(&r, 5000, 256 * 1024);
  apx_dash_ring_push(&r, 1, 1, "a", 1, false);
  CHECK(r.tcap <= 4096 && r.caplines <= 64, "an almost empty ring is small (%zu bytes, %zu lines)", r.tcap, r.caplines);
  for (unsigned i = 2; i < 20000; i++) apx_dash_ring_push(&r, i, i, "0123456789abcdef0123456789abcdef", 32, false);
  CHECK(r.nlines == 5000 && r.tcap <= 256 * 1024, "a busy one stops at its bounds (%zu lines, %zu bytes)", r.nlines,
        r.tcap);
  ring_text(&r, 4999, got, sizeof got);
  CHECK(strcmp(got, "0123456789abcdef0123456789abcdef") == 0 && apx_dash_ring_at(&r, 4999)->seq == 19999,
        "the newest line after growth and wraps");
  apx_dash_ring_push(&r, 20000, 20000, "db: healthy", 11, false);
  apx_dash_ring_mark(&r, APX_DASH_SYS);
  apx_dash_ring_push(&r, 20001, 20001, "out", 3, false);
  CHECK(apx_dash_ring_at(&r, 4998)->sys == APX_DASH_SYS && !apx_dash_ring_at(&r, 4999)->sys &&
            !apx_dash_ring_at(&r, 4997)->sys,
        "aspirec's own line is marked, its neighbours are not");
  apx_dash_ring_free(&r);
}

int main(void) {
  test_tokens();
  test_cookies();
  test_origins();
  test_gateway_host();
  test_kept_key();
  test_ring();
  printf("# %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
