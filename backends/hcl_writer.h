/* The HCL (Terraform) text writer: every byte of the .tf files goes through
 * it. It owns HCL's rules in one place: two-space indentation; blocks with
 * quoted labels; `key = value` attributes, keys bare when they are
 * identifiers and quoted inside object expressions otherwise; strings in
 * double quotes with `\`, `"` and control characters escaped and the
 * template sequences `${` and `%{` doubled to `$${`, `%%{`; lists with a
 * comma after each item. A "template" is a string body already escaped by
 * apx_hcl_escape with `${expr}` interpolations of the back end's own making
 * (`${var.region}`). */
#ifndef APX_HCL_WRITER_H
#define APX_HCL_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"

#define APX_HCL_MAX_DEPTH 32

typedef struct apx_hcl {
  apx_buf out;
  int depth;
  char kind[APX_HCL_MAX_DEPTH]; /* 'b' block, 'o' object, 'l' list, 'f' FN([ list, 'g' FN({ object */
} apx_hcl;

/* Appends s[0..n) escaped for the inside of a "…" template. */
void apx_hcl_escape(apx_buf *out, const char *s, size_t n);
/* True when s is an HCL identifier (a letter or '_', then letters, digits, '_', '-'). */
bool apx_hcl_is_ident(const char *s);

void apx_hcl_init(apx_hcl *w);
void apx_hcl_free(apx_hcl *w);

void apx_hcl_comment(apx_hcl *w, const char *text); /* `# text` per line */
void apx_hcl_blank(apx_hcl *w);
/* `TYPE "l1" "l2" {` (labels NULL: fewer), or a nested block `TYPE {`. */
void apx_hcl_block(apx_hcl *w, const char *type, const char *l1, const char *l2);
/* `key = {` (key NULL: an item of a list). */
void apx_hcl_object(apx_hcl *w, const char *key);
/* `key = FN({` (jsonencode of an object), closed by apx_hcl_end. */
void apx_hcl_call_object(apx_hcl *w, const char *key, const char *fn);
/* `key = [`, or `key = FN([` with fn (jsonencode), closed by apx_hcl_end. */
void apx_hcl_list(apx_hcl *w, const char *key, const char *fn);
/* Closes the innermost block, object or list. */
void apx_hcl_end(apx_hcl *w);

/* Attributes (key NULL: a list item). */
void apx_hcl_str(apx_hcl *w, const char *key, const char *s);
void apx_hcl_tpl(apx_hcl *w, const char *key, const char *tpl);
void apx_hcl_int(apx_hcl *w, const char *key, int64_t v);
void apx_hcl_bool(apx_hcl *w, const char *key, bool v);
/* An expression of the back end's own making (`var.subnet_ids`, `aws_ecs_cluster.main.id`). */
void apx_hcl_expr(apx_hcl *w, const char *key, const char *expr);

#endif
