/* AST debug printing. The parser itself (apx_parse_file) is in parser.y.
 *
 * The dump is one item per line, bodies indented by two spaces:
 *   import "postgres"
 *   param region
 *   block container web {
 *     attr image = "nginx:${version}"
 *     block endpoint http {}
 *   }
 * Expressions print close to their source form: strings with escapes
 * (`\$` only before `{`), heredocs as <<"…", durations in ms ("5000ms"). */
#include "ast.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* Printing recurses on nesting; the parser bounds nesting, and this cap
 * keeps a hand-built tree from overflowing the stack. */
enum { APX_DUMP_MAX_DEPTH = 256 };

static void dump_items(const apx_ast_item *it, FILE *out, int indent, int depth);
static void dump_expr(const apx_ast_expr *e, FILE *out, int depth);

static void dump_text(const char *s, size_t n, FILE *out) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    switch (c) {
    case '\n': fputs("\\n", out); break;
    case '\t': fputs("\\t", out); break;
    case '\r': fputs("\\r", out); break;
    case '"': fputs("\\\"", out); break;
    case '\\': fputs("\\\\", out); break;
    case '$':
      fputs(i + 1 < n && s[i + 1] == '{' ? "\\$" : "$", out);
      break;
    default:
      if (c < 0x20 || c == 0x7f) fprintf(out, "\\x%02X", c);
      else fputc(c, out);
    }
  }
}

static int is_ident(const char *s) {
  if (!s || !*s) return 0;
  char c = s[0];
  if (!(c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return 0;
  for (const char *p = s + 1; *p; p++) {
    c = *p;
    if (!(c == '_' || c == '-' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9')))
      return 0;
  }
  return 1;
}

static void dump_name(const char *s, int quoted, FILE *out) {
  if (!s) s = "";
  if (!quoted && is_ident(s)) {
    fputs(s, out);
    return;
  }
  fputc('"', out);
  dump_text(s, strlen(s), out);
  fputc('"', out);
}

static void dump_expr(const apx_ast_expr *e, FILE *out, int depth) {
  if (!e) {
    fputs("<missing>", out);
    return;
  }
  if (depth > APX_DUMP_MAX_DEPTH) {
    fputs("...", out);
    return;
  }
  switch (e->kind) {
  case APX_EX_NULL: fputs("null", out); break;
  case APX_EX_BOOL: fputs(e->u.b ? "true" : "false", out); break;
  case APX_EX_INT: fprintf(out, "%" PRId64, e->u.i); break;
  case APX_EX_DURATION: fprintf(out, "%" PRId64 "ms", e->u.ms); break;
  case APX_EX_STRING:
    if (e->u.str.heredoc) fputs("<<", out);
    fputc('"', out);
    for (const apx_ast_strpart *p = e->u.str.parts; p; p = p->next) {
      if (p->text) {
        dump_text(p->text, p->len, out);
      } else {
        fputs("${", out);
        dump_expr(p->expr, out, depth + 1);
        fputc('}', out);
      }
    }
    fputc('"', out);
    break;
  case APX_EX_LIST:
    fputc('[', out);
    for (const apx_ast_expr *x = e->u.items; x; x = x->next) {
      dump_expr(x, out, depth + 1);
      if (x->next) fputs(", ", out);
    }
    fputc(']', out);
    break;
  case APX_EX_MAP:
    fputc('{', out);
    for (const apx_ast_item *it = e->u.entries; it; it = it->next) {
      dump_name(it->name, it->name_quoted, out);
      fputs(" = ", out);
      dump_expr(it->value, out, depth + 1);
      if (it->next) fputs(", ", out);
    }
    fputc('}', out);
    break;
  case APX_EX_REF:
    for (const apx_ast_name *n = e->u.path; n; n = n->next) {
      fputs(n->name ? n->name : "?", out);
      if (n->next) fputc('.', out);
    }
    break;
  case APX_EX_CALL:
    fputs(e->u.call.name ? e->u.call.name : "?", out);
    fputc('(', out);
    for (const apx_ast_expr *x = e->u.call.args; x; x = x->next) {
      dump_expr(x, out, depth + 1);
      if (x->next) fputs(", ", out);
    }
    fputc(')', out);
    break;
  }
}

static void dump_body(const apx_ast_item *body, FILE *out, int indent, int depth) {
  if (!body) {
    fputs(" {}\n", out);
    return;
  }
  fputs(" {\n", out);
  dump_items(body, out, indent + 2, depth + 1);
  fprintf(out, "%*s}\n", indent, "");
}

static void dump_items(const apx_ast_item *it, FILE *out, int indent, int depth) {
  if (depth > APX_DUMP_MAX_DEPTH) {
    fprintf(out, "%*s...\n", indent, "");
    return;
  }
  for (; it; it = it->next) {
    fprintf(out, "%*s", indent, "");
    switch (it->kind) {
    case APX_ITEM_ATTR:
      fputs("attr ", out);
      dump_name(it->name, it->name_quoted, out);
      fputs(" = ", out);
      dump_expr(it->value, out, depth + 1);
      fputc('\n', out);
      break;
    case APX_ITEM_BLOCK:
      fputs("block ", out);
      dump_name(it->name, 0, out);
      if (it->label) {
        fputc(' ', out);
        dump_name(it->label, 0, out);
      }
      dump_body(it->body, out, indent, depth);
      break;
    case APX_ITEM_INPUT:
      fputs("input ", out);
      dump_name(it->name, 0, out);
      if (it->value) {
        fputs(" = ", out);
        dump_expr(it->value, out, depth + 1);
      }
      fputc('\n', out);
      break;
    case APX_ITEM_COMPONENT:
      fputs("component ", out);
      dump_name(it->name, 0, out);
      fputs(" extends ", out);
      dump_name(it->extends, 0, out);
      dump_body(it->body, out, indent, depth);
      break;
    case APX_ITEM_IMPORT:
      fputs("import ", out);
      dump_name(it->name, 1, out);
      fputc('\n', out);
      break;
    case APX_ITEM_PARAM:
      fputs("param ", out);
      dump_name(it->name, 0, out);
      if (it->has_body) dump_body(it->body, out, indent, depth);
      else fputc('\n', out);
      break;
    }
  }
}

void apx_ast_dump(const apx_ast_file *f, FILE *out) {
  if (!f) return;
  dump_items(f->items, out, 0, 0);
}
