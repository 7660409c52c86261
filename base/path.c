/* Lexical paths (path.h). */
#include "path.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The normalised form of the n bytes of path into d, which has room for
 * n + 2 (a segment gains at most the '/' before it; "" becomes "."), NUL
 * terminated; returns its length. Into an array, not a buffer: paths are
 * joined by the thousand (a build context and a workdir per resource). */
static size_t apx_path_normalise_into(const char *path, char *d) {
  size_t o = 0;
  const char *p = path;
  bool abs = path[0] == '/';
  while (*p) {
    while (*p == '/') p++;
    const char *seg = p;
    while (*p && *p != '/') p++;
    size_t len = (size_t)(p - seg);
    if (len == 0 || (len == 1 && seg[0] == '.')) continue;
    if (len == 2 && seg[0] == '.' && seg[1] == '.') {
      /* Drop the last segment unless there is none or it is "..". */
      size_t back = o;
      while (back > 0 && d[back - 1] != '/') back--;
      bool last_dotdot = o - back == 2 && d[back] == '.' && d[back + 1] == '.';
      if (o > (abs ? 1u : 0u) && !last_dotdot) {
        o = back > 0 ? back - 1 : 0;
        if (abs && o == 0) o = 1;
        continue;
      }
      if (abs) continue;
    }
    if (o > 0 && d[o - 1] != '/') d[o++] = '/';
    if (o == 0 && abs) d[o++] = '/';
    memcpy(d + o, seg, len);
    o += len;
  }
  if (o == 0) d[o++] = abs ? '/' : '.';
  d[o] = '\0';
  return o;
}

void apx_path_normalise(const char *path, apx_buf *out) {
  size_t n = strlen(path);
  char small[512], *d = n + 2 <= sizeof small ? small : malloc(n + 2);
  if (!d) abort();
  apx_buf_append(out, d, apx_path_normalise_into(path, d));
  if (d != small) free(d);
}

const char *apx_path_join(apx_arena *a, const char *dir, const char *path) {
  if (!path) return NULL;
  if (path[0] == '/' || !dir) return apx_arena_strdup(a, path);
  /* dir "/" path (path alone for dir "."), then normalised: both on the
   * stack for the usual lengths. */
  bool sep = strcmp(dir, ".") != 0;
  size_t nd = sep ? strlen(dir) : 0, np = strlen(path), nj = nd + sep + np;
  char small[2 * 512], *joined = 2 * nj + 3 <= sizeof small ? small : malloc(2 * nj + 3);
  if (!joined) abort();
  char *norm = joined + nj + 1;
  if (sep) {
    memcpy(joined, dir, nd);
    joined[nd] = '/';
  }
  memcpy(joined + nd + sep, path, np + 1);
  size_t k = apx_path_normalise_into(joined, norm);
  const char *r = apx_arena_strndup(a, norm, k);
  if (joined != small) free(joined);
  return r;
}

/* Splits the absolute, normalised form of p into components. The
 * components point into *storage (heap), which the caller frees. */
static size_t apx_path_split(const char *p, char **storage, const char ***comps) {
  apx_buf abs = {0}, norm = {0};
  if (p[0] != '/') {
    char *cwd = getcwd(NULL, 0);
    apx_buf_puts(&abs, cwd ? cwd : "/");
    apx_buf_putc(&abs, '/');
    free(cwd);
  }
  apx_buf_puts(&abs, p);
  apx_path_normalise(apx_buf_str(&abs), &norm);
  apx_buf_free(&abs);
  size_t cap = 1;
  for (size_t i = 0; i < norm.len; i++)
    if (norm.data[i] == '/') cap++;
  const char **v = malloc(cap * sizeof *v);
  if (!v) abort();
  size_t n = 0;
  for (char *s = norm.data, *tok; (tok = strsep(&s, "/")) != NULL;)
    if (tok[0]) v[n++] = tok;
  *storage = norm.data;
  *comps = v;
  return n;
}

void apx_path_relative(const char *base, const char *path, bool dot_prefix, apx_buf *out) {
  char *sb, *sp;
  const char **cb, **cp;
  size_t nb = apx_path_split(base, &sb, &cb), np = apx_path_split(path, &sp, &cp);
  size_t common = 0;
  while (common < nb && common < np && strcmp(cb[common], cp[common]) == 0) common++;
  size_t start = out->len;
  bool up = common < nb;
  if (!up && dot_prefix) apx_buf_putc(out, '.');
  for (size_t i = common; i < nb; i++) apx_buf_puts(out, i == common ? ".." : "/..");
  for (size_t i = common; i < np; i++) {
    if (up || dot_prefix || i > common) apx_buf_putc(out, '/');
    apx_buf_puts(out, cp[i]);
  }
  if (out->len == start) apx_buf_putc(out, '.');
  free(sb);
  free(sp);
  free(cb);
  free(cp);
}
