/* The Bicep text writer (bicep_writer.h). */
#include <string.h>

#include "bicep_writer.h"

void apx_bicep_escape(apx_buf *out, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    /* A run of bytes that need nothing, in one append. */
    size_t j = i;
    while (j < n && (unsigned char)s[j] >= 0x20 && s[j] != '\\' && s[j] != '\'' && s[j] != '$') j++;
    if (j > i) {
      apx_buf_append(out, s + i, j - i);
      i = j - 1;
      continue;
    }
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '\\': apx_buf_puts(out, "\\\\"); break;
    case '\'': apx_buf_puts(out, "\\'"); break;
    case '\n': apx_buf_puts(out, "\\n"); break;
    case '\r': apx_buf_puts(out, "\\r"); break;
    case '\t': apx_buf_puts(out, "\\t"); break;
    case '$':
      /* Only `${` starts an interpolation; a lone `$` is text. */
      if (i + 1 < n && s[i + 1] == '{') apx_buf_puts(out, "\\$");
      else apx_buf_putc(out, '$');
      break;
    default:
      if (c < 0x20) apx_buf_printf(out, "\\u{%X}", c);
      else apx_buf_putc(out, (char)c);
    }
  }
}

bool apx_bicep_is_ident(const char *s) {
  if (!s || !*s) return false;
  if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || *s == '_')) return false;
  for (s++; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
      return false;
  return true;
}

void apx_bicep_init(apx_bicep *w) { memset(w, 0, sizeof *w); }
void apx_bicep_free(apx_bicep *w) { apx_buf_free(&w->out); }

static void apx_bicep_indent(apx_bicep *w) {
  for (int i = 0; i < w->depth; i++) apx_buf_puts(&w->out, "  ");
}

static void apx_bicep_quoted(apx_buf *out, const char *s) {
  apx_buf_putc(out, '\'');
  apx_bicep_escape(out, s, strlen(s));
  apx_buf_putc(out, '\'');
}

/* Starts a property line: indentation, then `key: ` (nothing for an item). */
static void apx_bicep_key(apx_bicep *w, const char *key) {
  apx_bicep_indent(w);
  if (!key) return;
  if (apx_bicep_is_ident(key)) apx_buf_puts(&w->out, key);
  else apx_bicep_quoted(&w->out, key);
  apx_buf_puts(&w->out, ": ");
}

void apx_bicep_comment(apx_bicep *w, const char *text) {
  const char *s = text;
  do {
    const char *nl = strchr(s, '\n');
    size_t n = nl ? (size_t)(nl - s) : strlen(s);
    apx_bicep_indent(w);
    apx_buf_puts(&w->out, "//");
    if (n) apx_buf_putc(&w->out, ' ');
    apx_buf_append(&w->out, s, n);
    apx_buf_putc(&w->out, '\n');
    s = nl ? nl + 1 : NULL;
  } while (s);
}

void apx_bicep_blank(apx_bicep *w) { apx_buf_putc(&w->out, '\n'); }

void apx_bicep_decorator(apx_bicep *w, const char *name, const char *str_arg) {
  apx_bicep_indent(w);
  apx_buf_printf(&w->out, "@%s(", name);
  if (str_arg) apx_bicep_quoted(&w->out, str_arg);
  apx_buf_puts(&w->out, ")\n");
}

void apx_bicep_param(apx_bicep *w, const char *name, const char *type, const char *def_expr) {
  apx_buf_printf(&w->out, "param %s %s", name, type);
  if (def_expr) apx_buf_printf(&w->out, " = %s", def_expr);
  apx_buf_putc(&w->out, '\n');
}

void apx_bicep_param_str(apx_bicep *w, const char *name, const char *def) {
  apx_buf_printf(&w->out, "param %s string = ", name);
  apx_bicep_quoted(&w->out, def);
  apx_buf_putc(&w->out, '\n');
}

void apx_bicep_var_expr(apx_bicep *w, const char *name, const char *expr) {
  apx_buf_printf(&w->out, "var %s = %s\n", name, expr);
}

void apx_bicep_resource(apx_bicep *w, const char *sym, const char *type_version) {
  apx_buf_printf(&w->out, "resource %s ", sym);
  apx_bicep_quoted(&w->out, type_version);
  apx_buf_puts(&w->out, " = {\n");
  w->depth++;
}

void apx_bicep_output_tpl(apx_bicep *w, const char *name, const char *tpl) {
  apx_buf_printf(&w->out, "output %s string = '%s'\n", name, tpl);
}

void apx_bicep_object(apx_bicep *w, const char *key) {
  apx_bicep_key(w, key);
  apx_buf_puts(&w->out, "{\n");
  w->depth++;
}

void apx_bicep_array(apx_bicep *w, const char *key) {
  apx_bicep_key(w, key);
  apx_buf_puts(&w->out, "[\n");
  w->depth++;
}

void apx_bicep_end(apx_bicep *w) {
  w->depth--;
  apx_bicep_indent(w);
  apx_buf_puts(&w->out, "}\n");
}

void apx_bicep_end_array(apx_bicep *w) {
  w->depth--;
  apx_bicep_indent(w);
  apx_buf_puts(&w->out, "]\n");
}

void apx_bicep_str(apx_bicep *w, const char *key, const char *s) {
  apx_bicep_key(w, key);
  apx_bicep_quoted(&w->out, s);
  apx_buf_putc(&w->out, '\n');
}

void apx_bicep_tpl(apx_bicep *w, const char *key, const char *tpl) {
  apx_bicep_key(w, key);
  /* '${x}' alone is x (the linter's simplify-interpolation). */
  size_t n = strlen(tpl);
  if (n > 3 && tpl[0] == '$' && tpl[1] == '{' && tpl[n - 1] == '}') {
    bool ident = !(tpl[2] >= '0' && tpl[2] <= '9');
    for (size_t i = 2; i < n - 1; i++)
      ident = ident && ((tpl[i] >= 'a' && tpl[i] <= 'z') || (tpl[i] >= 'A' && tpl[i] <= 'Z') ||
                        (tpl[i] >= '0' && tpl[i] <= '9') || tpl[i] == '_');
    if (ident) {
      apx_buf_append(&w->out, tpl + 2, n - 3);
      apx_buf_putc(&w->out, '\n');
      return;
    }
  }
  apx_buf_printf(&w->out, "'%s'\n", tpl);
}

void apx_bicep_int(apx_bicep *w, const char *key, int64_t v) {
  apx_bicep_key(w, key);
  apx_buf_printf(&w->out, "%lld\n", (long long)v);
}

void apx_bicep_bool(apx_bicep *w, const char *key, bool v) {
  apx_bicep_key(w, key);
  apx_buf_puts(&w->out, v ? "true\n" : "false\n");
}

void apx_bicep_expr(apx_bicep *w, const char *key, const char *expr) {
  apx_bicep_key(w, key);
  apx_buf_printf(&w->out, "%s\n", expr);
}
