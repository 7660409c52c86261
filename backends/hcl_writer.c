/* The HCL text writer (hcl_writer.h). */
#include <stdlib.h>
#include <string.h>

#include "hcl_writer.h"

void apx_hcl_escape(apx_buf *out, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    /* A run of bytes that need nothing, in one append. */
    size_t j = i;
    while (j < n && (unsigned char)s[j] >= 0x20 && s[j] != 0x7f && s[j] != '\\' && s[j] != '"' && s[j] != '$' &&
           s[j] != '%')
      j++;
    if (j > i) {
      apx_buf_append(out, s + i, j - i);
      i = j - 1;
      continue;
    }
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '\\': apx_buf_puts(out, "\\\\"); break;
    case '"': apx_buf_puts(out, "\\\""); break;
    case '\n': apx_buf_puts(out, "\\n"); break;
    case '\r': apx_buf_puts(out, "\\r"); break;
    case '\t': apx_buf_puts(out, "\\t"); break;
    case '$':
    case '%':
      /* `${` and `%{` open a template sequence; doubling the sigil escapes it. */
      apx_buf_putc(out, (char)c);
      if (i + 1 < n && s[i + 1] == '{') apx_buf_putc(out, (char)c);
      break;
    default:
      if (c < 0x20 || c == 0x7f) apx_buf_printf(out, "\\u%04X", c);
      else apx_buf_putc(out, (char)c);
    }
  }
}

bool apx_hcl_is_ident(const char *s) {
  if (!s || !*s) return false;
  if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) return false;
  for (s++; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_' ||
          *s == '-'))
      return false;
  return true;
}

void apx_hcl_init(apx_hcl *w) { memset(w, 0, sizeof *w); }
void apx_hcl_free(apx_hcl *w) { apx_buf_free(&w->out); }

static void apx_hcl_indent(apx_hcl *w) {
  for (int i = 0; i < w->depth; i++) apx_buf_puts(&w->out, "  ");
}

static void apx_hcl_quoted(apx_buf *out, const char *s) {
  apx_buf_putc(out, '"');
  apx_hcl_escape(out, s, strlen(s));
  apx_buf_putc(out, '"');
}

static bool apx_hcl_in_list(const apx_hcl *w) {
  return w->depth > 0 && (w->kind[w->depth - 1] == 'l' || w->kind[w->depth - 1] == 'f');
}

static void apx_hcl_push(apx_hcl *w, char kind) {
  if (w->depth >= APX_HCL_MAX_DEPTH) abort(); /* the back ends nest a few levels only */
  w->kind[w->depth++] = kind;
}

static void apx_hcl_key(apx_hcl *w, const char *key) {
  apx_hcl_indent(w);
  if (!key) return;
  /* Inside a block an attribute name is an identifier; inside an object
   * expression any key may be quoted, and must be unless it is one. */
  if (apx_hcl_is_ident(key)) apx_buf_puts(&w->out, key);
  else apx_hcl_quoted(&w->out, key);
  apx_buf_puts(&w->out, " = ");
}

static void apx_hcl_value_end(apx_hcl *w) { apx_buf_puts(&w->out, apx_hcl_in_list(w) ? ",\n" : "\n"); }

void apx_hcl_comment(apx_hcl *w, const char *text) {
  const char *s = text;
  do {
    const char *nl = strchr(s, '\n');
    size_t n = nl ? (size_t)(nl - s) : strlen(s);
    apx_hcl_indent(w);
    apx_buf_putc(&w->out, '#');
    if (n) apx_buf_putc(&w->out, ' ');
    apx_buf_append(&w->out, s, n);
    apx_buf_putc(&w->out, '\n');
    s = nl ? nl + 1 : NULL;
  } while (s);
}

void apx_hcl_blank(apx_hcl *w) { apx_buf_putc(&w->out, '\n'); }

void apx_hcl_block(apx_hcl *w, const char *type, const char *l1, const char *l2) {
  apx_hcl_indent(w);
  apx_buf_puts(&w->out, type);
  if (l1) {
    apx_buf_putc(&w->out, ' ');
    apx_hcl_quoted(&w->out, l1);
  }
  if (l2) {
    apx_buf_putc(&w->out, ' ');
    apx_hcl_quoted(&w->out, l2);
  }
  apx_buf_puts(&w->out, " {\n");
  apx_hcl_push(w, 'b');
}

void apx_hcl_object(apx_hcl *w, const char *key) {
  apx_hcl_key(w, key);
  apx_buf_puts(&w->out, "{\n");
  apx_hcl_push(w, 'o');
}

void apx_hcl_call_object(apx_hcl *w, const char *key, const char *fn) {
  apx_hcl_key(w, key);
  apx_buf_printf(&w->out, "%s({\n", fn);
  apx_hcl_push(w, 'g');
}

void apx_hcl_list(apx_hcl *w, const char *key, const char *fn) {
  apx_hcl_key(w, key);
  if (fn) apx_buf_printf(&w->out, "%s(", fn);
  apx_buf_puts(&w->out, "[\n");
  apx_hcl_push(w, fn ? 'f' : 'l');
}

void apx_hcl_end(apx_hcl *w) {
  char kind = w->kind[--w->depth];
  apx_hcl_indent(w);
  apx_buf_puts(&w->out, kind == 'l' ? "]" : kind == 'f' ? "])" : kind == 'g' ? "})" : "}");
  if (kind == 'b') apx_buf_putc(&w->out, '\n');
  else apx_hcl_value_end(w);
}

void apx_hcl_str(apx_hcl *w, const char *key, const char *s) {
  apx_hcl_key(w, key);
  apx_hcl_quoted(&w->out, s);
  apx_hcl_value_end(w);
}

void apx_hcl_tpl(apx_hcl *w, const char *key, const char *tpl) {
  apx_hcl_key(w, key);
  /* "${a.b}" alone is a.b (Terraform's interpolation-only style rule). */
  size_t n = strlen(tpl);
  if (n > 3 && tpl[0] == '$' && tpl[1] == '{' && tpl[n - 1] == '}') {
    bool plain = true;
    for (size_t i = 2; i < n - 1; i++)
      plain = plain && ((tpl[i] >= 'a' && tpl[i] <= 'z') || (tpl[i] >= 'A' && tpl[i] <= 'Z') ||
                        (tpl[i] >= '0' && tpl[i] <= '9') || tpl[i] == '_' || tpl[i] == '-' || tpl[i] == '.');
    if (plain) {
      apx_buf_append(&w->out, tpl + 2, n - 3);
      apx_hcl_value_end(w);
      return;
    }
  }
  apx_buf_putc(&w->out, '"');
  apx_buf_puts(&w->out, tpl);
  apx_buf_putc(&w->out, '"');
  apx_hcl_value_end(w);
}

void apx_hcl_int(apx_hcl *w, const char *key, int64_t v) {
  apx_hcl_key(w, key);
  apx_buf_printf(&w->out, "%lld", (long long)v);
  apx_hcl_value_end(w);
}

void apx_hcl_bool(apx_hcl *w, const char *key, bool v) {
  apx_hcl_key(w, key);
  apx_buf_puts(&w->out, v ? "true" : "false");
  apx_hcl_value_end(w);
}

void apx_hcl_expr(apx_hcl *w, const char *key, const char *expr) {
  apx_hcl_key(w, key);
  apx_buf_puts(&w->out, expr);
  apx_hcl_value_end(w);
}
