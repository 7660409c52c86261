/* The syntax tree of one .apx file, as the parser builds it. Everything is
 * allocated from the compilation's arena; lists are singly linked through
 * `next` in source order. ir/lower.c turns it into the IR. */
#ifndef APX_AST_H
#define APX_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/diag.h"

typedef struct apx_ast_expr apx_ast_expr;
typedef struct apx_ast_item apx_ast_item;

typedef enum {
  APX_EX_NULL,     /* null */
  APX_EX_BOOL,     /* true, false */
  APX_EX_INT,      /* 42 */
  APX_EX_DURATION, /* 250ms, 5s, 2m, 1h: stored in milliseconds */
  APX_EX_STRING,   /* "…" or heredoc: text and ${…} parts */
  APX_EX_LIST,     /* [a, b] */
  APX_EX_MAP,      /* { key = value, … }: entries are APX_ITEM_ATTR items */
  APX_EX_REF,      /* name or name.path.to.property */
  APX_EX_CALL,     /* f(a, b) */
} apx_ast_expr_kind;

/* One part of a string: literal text (escapes already decoded) or an
 * interpolated expression ${expr}. The text is `len` bytes, NUL-terminated,
 * in the parser's arena (lowering keeps it; the source text is released). */
typedef struct apx_ast_strpart {
  struct apx_ast_strpart *next;
  const char *text; /* NULL for an interpolation */
  size_t len;
  apx_ast_expr *expr; /* NULL for text */
} apx_ast_strpart;

/* One segment of a reference path, with its own location so that an error
 * about `endpoints.htp` can point at `htp`. */
typedef struct apx_ast_name {
  struct apx_ast_name *next;
  const char *name;
  apx_loc loc;
} apx_ast_name;

struct apx_ast_expr {
  apx_ast_expr_kind kind;
  apx_loc loc;
  apx_ast_expr *next; /* next list element or call argument */
  union {
    bool b;
    int64_t i;  /* APX_EX_INT */
    int64_t ms; /* APX_EX_DURATION */
    struct {
      apx_ast_strpart *parts;
      bool heredoc;
    } str;
    apx_ast_expr *items;   /* APX_EX_LIST */
    apx_ast_item *entries; /* APX_EX_MAP */
    apx_ast_name *path;    /* APX_EX_REF: at least one segment */
    struct {
      const char *name;
      apx_loc name_loc;
      apx_ast_expr *args;
    } call;
  } u;
};

typedef enum {
  APX_ITEM_ATTR,      /* name = value                       (body, map) */
  APX_ITEM_BLOCK,     /* keyword [label] { body }           (body, top level) */
  APX_ITEM_INPUT,     /* input name [= value]               (component body) */
  APX_ITEM_COMPONENT, /* component name extends base { body } (top level, component body) */
  APX_ITEM_IMPORT,    /* import "path"                      (top level) */
  APX_ITEM_PARAM,     /* param name [{ body }]              (top level) */
} apx_ast_item_kind;

struct apx_ast_item {
  apx_ast_item_kind kind;
  apx_loc loc;        /* the whole item */
  apx_ast_item *next;
  const char *name;   /* attribute name or key, block keyword, input, component or
                         param name, import path */
  apx_loc name_loc;
  bool name_quoted;   /* the key was written as a string ("example.com/owner") */
  const char *label;  /* block label (NULL when none); a top-level resource is
                         a block whose keyword is its kind and label its name */
  apx_loc label_loc;
  apx_ast_expr *value;   /* ATTR value; INPUT default (NULL: required) */
  const char *extends;   /* COMPONENT base kind or component */
  apx_loc extends_loc;
  apx_ast_item *body;    /* BLOCK, COMPONENT, PARAM body items */
  bool has_body;         /* PARAM written with braces */
} ;

typedef struct apx_ast_file {
  uint32_t file; /* source id in the diagnostics table */
  apx_ast_item *items;
} apx_ast_file;

/* Parses one registered source. Syntax errors go to `diag` (every one, with
 * recovery); the returned tree holds what could be parsed and is never NULL. */
apx_ast_file *apx_parse_file(apx_arena *arena, apx_diag *diag, uint32_t file);

/* The same, with the tree's nodes in `nodes` and its strings (names, text)
 * in `arena`: the IR keeps pointing at the strings, so a compiler can free
 * `nodes` once the file is lowered. */
apx_ast_file *apx_parse_file_split(apx_arena *arena, apx_arena *nodes, apx_diag *diag, uint32_t file);

/* The same, handing each top-level item to `each` as soon as it is parsed
 * and then emptying `nodes` (apx_arena_reset): only one item's tree is in
 * memory at a time, not the whole file's (eight times the size of its text).
 * The item's strings are in `arena` and stay. The returned file has no
 * items. */
typedef void (*apx_ast_item_fn)(void *ud, const apx_ast_item *it);
apx_ast_file *apx_parse_file_each(apx_arena *arena, apx_arena *nodes, apx_diag *diag, uint32_t file,
                                  apx_ast_item_fn each, void *ud);

/* A front end: apx_parse_file_each, or apx_manifest_parse_each (manifest.h)
 * for Aspire's manifest. Both build this tree. */
typedef apx_ast_file *(*apx_parse_each_fn)(apx_arena *arena, apx_arena *nodes, apx_diag *diag, uint32_t file,
                                           apx_ast_item_fn each, void *ud);

/* Debug printing, used by unit tests of the parser. */
void apx_ast_dump(const apx_ast_file *f, FILE *out);

#endif
