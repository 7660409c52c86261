/* The Bicep text writer: every byte of main.bicep goes through it. It owns
 * Bicep's rules in one place: two-space indentation, newline-separated
 * object properties and array items, keys bare when they are identifiers and
 * quoted otherwise, and strings in single quotes with `\`, `'`, `${` and
 * control characters escaped. A "template" is a string body already escaped
 * by apx_bicep_escape with `${expr}` interpolations of the back end's own
 * making (a parameter, an environment's default domain). */
#ifndef APX_BICEP_WRITER_H
#define APX_BICEP_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

typedef struct apx_bicep {
  apx_buf out;
  int depth;
} apx_bicep;

/* Appends s[0..n) to out escaped for the inside of a '…' string. */
void apx_bicep_escape(apx_buf *out, const char *s, size_t n);
/* True when s is a Bicep identifier ([A-Za-z_][A-Za-z0-9_]*). */
bool apx_bicep_is_ident(const char *s);

void apx_bicep_init(apx_bicep *w);
void apx_bicep_free(apx_bicep *w);

/* Top level. */
void apx_bicep_comment(apx_bicep *w, const char *text); /* `// text`, one line per line of text */
void apx_bicep_blank(apx_bicep *w);
void apx_bicep_decorator(apx_bicep *w, const char *name, const char *str_arg); /* @name('arg') or @name() */
/* `param NAME TYPE`, with ` = EXPR` when def_expr is given. */
void apx_bicep_param(apx_bicep *w, const char *name, const char *type, const char *def_expr);
/* `param NAME string = 'def'`. */
void apx_bicep_param_str(apx_bicep *w, const char *name, const char *def);
void apx_bicep_var_expr(apx_bicep *w, const char *name, const char *expr);
/* `resource SYM 'TYPE@VERSION' = {`; end with apx_bicep_end. */
void apx_bicep_resource(apx_bicep *w, const char *sym, const char *type_version);
/* `output NAME string = 'template'`. */
void apx_bicep_output_tpl(apx_bicep *w, const char *name, const char *tpl);

/* Properties (key NULL: an array item). */
void apx_bicep_object(apx_bicep *w, const char *key);
void apx_bicep_array(apx_bicep *w, const char *key);
void apx_bicep_end(apx_bicep *w);         /* `}` of an object or resource */
void apx_bicep_end_array(apx_bicep *w);   /* `]` */
void apx_bicep_str(apx_bicep *w, const char *key, const char *s);
void apx_bicep_tpl(apx_bicep *w, const char *key, const char *tpl);
void apx_bicep_int(apx_bicep *w, const char *key, int64_t v);
void apx_bicep_bool(apx_bicep *w, const char *key, bool v);
/* An expression of the back end's own making (`env.id`, `json('0.5')`). */
void apx_bicep_expr(apx_bicep *w, const char *key, const char *expr);

#endif
