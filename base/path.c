/* Lexical paths (path.h). */
#include "path.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Splits an absolute, lexically normalised form of p into components. The
 * components point into *storage (heap), which the caller frees. */
static size_t apx_path_split(const char *p, char **storage, const char ***comps) {
  apx_buf abs = {0};
  if (p[0] != '/') {
    char *cwd = getcwd(NULL, 0);
    apx_buf_puts(&abs, cwd ? cwd : "/");
    apx_buf_putc(&abs, '/');
    free(cwd);
  }
  apx_buf_puts(&abs, p);
  size_t cap = 1;
  for (size_t i = 0; i < abs.len; i++)
    if (abs.data[i] == '/') cap++;
  const char **v = malloc(cap * sizeof *v);
  if (!v) abort();
  size_t n = 0;
  for (char *s = abs.data, *tok; (tok = strsep(&s, "/")) != NULL;) {
    if (!tok[0] || strcmp(tok, ".") == 0) continue;
    if (strcmp(tok, "..") == 0) {
      if (n) n--;
      continue;
    }
    v[n++] = tok;
  }
  *storage = abs.data;
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
