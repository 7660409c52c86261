/* KEY=VALUE files (envfile.h). */
#include "envfile.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static char *apx_envfile_dup(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (!p) abort();
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

void apx_envfile_init(apx_envfile *f, apx_arena *a) {
  memset(f, 0, sizeof *f);
  apx_map_init_str(&f->index, a);
}

/* Takes ownership of key and value. */
static void apx_envfile_put(apx_envfile *f, char *key, char *value) {
  /* A later line wins, as in python-dotenv. */
  size_t *slot = apx_map_str(&f->index, key, true);
  if (*slot != (size_t)-1) {
    free(f->vars[*slot].value);
    f->vars[*slot].value = value;
    free(key);
    return;
  }
  if (f->n == f->cap) {
    size_t nc = f->cap ? f->cap * 2 : 8;
    apx_envfile_var *v = realloc(f->vars, nc * sizeof *v);
    if (!v) abort();
    f->vars = v;
    f->cap = nc;
    /* The map keys point into vars' strings, which do not move. */
  }
  *slot = f->n;
  f->vars[f->n++] = (apx_envfile_var){key, value};
}

void apx_envfile_parse(apx_envfile *f, const char *text, size_t len) {
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    const char *s = p;
    p = eol < end ? eol + 1 : end;
    while (s < eol && (*s == ' ' || *s == '\t')) s++;
    if (s == eol || *s == '#') continue;
    if ((size_t)(eol - s) > 7 && strncmp(s, "export ", 7) == 0) s += 7;
    const char *eq = memchr(s, '=', (size_t)(eol - s));
    if (!eq) continue;
    const char *ke = eq;
    while (ke > s && (ke[-1] == ' ' || ke[-1] == '\t')) ke--;
    if (ke == s) continue;
    const char *v = eq + 1;
    while (v < eol && (*v == ' ' || *v == '\t')) v++;
    apx_buf val = {0};
    if (v < eol && (*v == '\'' || *v == '"')) {
      char q = *v++;
      for (; v < eol && *v != q; v++) {
        if (*v == '\\' && v + 1 < eol &&
            (v[1] == '\\' || v[1] == q || (q == '"' && (v[1] == 'n' || v[1] == 'r' || v[1] == 't')))) {
          v++;
          char ch = *v;
          if (q == '"') ch = ch == 'n' ? '\n' : ch == 'r' ? '\r' : ch == 't' ? '\t' : ch;
          apx_buf_putc(&val, ch);
        } else {
          apx_buf_putc(&val, *v);
        }
      }
    } else {
      const char *ve = eol;
      for (const char *h = v; h < eol; h++)
        if (*h == '#' && h > v && (h[-1] == ' ' || h[-1] == '\t')) {
          ve = h;
          break;
        }
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r')) ve--;
      apx_buf_append(&val, v, (size_t)(ve - v));
    }
    apx_envfile_put(f, apx_envfile_dup(s, (size_t)(ke - s)), apx_envfile_dup(apx_buf_str(&val), val.len));
    apx_buf_free(&val);
  }
}

apx_envfile_var *apx_envfile_find(apx_envfile *f, const char *key) {
  size_t *slot = apx_map_str(&f->index, key, false);
  return slot ? &f->vars[*slot] : NULL;
}

void apx_envfile_set(apx_envfile *f, const char *key, const char *value) {
  apx_envfile_put(f, apx_envfile_dup(key, strlen(key)), apx_envfile_dup(value, strlen(value)));
}

void apx_envfile_free(apx_envfile *f) {
  for (size_t i = 0; i < f->n; i++) {
    free(f->vars[i].key);
    free(f->vars[i].value);
  }
  free(f->vars);
  f->vars = NULL;
  f->n = f->cap = 0;
}

static bool apx_envfile_plain(const char *value) {
  for (const char *s = value; *s; s++) {
    char ch = *s;
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          strchr("_@%+,./:-", ch)))
      return false;
  }
  return true;
}

static const char *apx_envfile_bad_key(const char *key) {
  size_t n = strlen(key);
  if (!n) return "an empty name";
  if (strpbrk(key, "=\n\r")) return "a name holding '=' or a line break";
  if (key[0] == '#') return "a name starting with '#'";
  if (key[0] == ' ' || key[0] == '\t' || key[n - 1] == ' ' || key[n - 1] == '\t')
    return "a name with blanks around it";
  if (strncmp(key, "export ", 7) == 0) return "a name starting with 'export '";
  return NULL;
}

const char *apx_envfile_line(apx_buf *out, const char *key, const char *value) {
  const char *bad = apx_envfile_bad_key(key);
  if (bad) return bad;
  apx_buf_printf(out, "%s=", key);
  if (apx_envfile_plain(value)) {
    apx_buf_puts(out, value);
  } else if (strpbrk(value, "\n\r") || (strchr(value, '\'') && !strchr(value, '$'))) {
    /* Double quotes: the only form with escapes for line breaks. */
    apx_buf_putc(out, '"');
    for (const char *s = value; *s; s++) {
      if (*s == '\n') apx_buf_puts(out, "\\n");
      else if (*s == '\r') apx_buf_puts(out, "\\r");
      else {
        if (*s == '"' || *s == '\\') apx_buf_putc(out, '\\');
        apx_buf_putc(out, *s);
      }
    }
    apx_buf_putc(out, '"');
  } else {
    /* python-dotenv decodes only \\ and \' inside single quotes: escape a
     * backslash only where it would otherwise be decoded (before \, ', or
     * the closing quote). */
    apx_buf_putc(out, '\'');
    for (const char *s = value; *s; s++) {
      if (*s == '\'' || (*s == '\\' && (s[1] == '\\' || s[1] == '\'' || s[1] == '\0'))) apx_buf_putc(out, '\\');
      apx_buf_putc(out, *s);
    }
    apx_buf_putc(out, '\'');
  }
  apx_buf_putc(out, '\n');
  return NULL;
}

const char *apx_envfile_compose_unsafe(const char *value) {
  size_t n = strlen(value);
  if (strpbrk(value, "\n\r")) return "a line break";
  if (n && value[n - 1] == '\\') return "a backslash at the end";
  return NULL;
}
