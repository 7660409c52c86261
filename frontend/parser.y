/* The .apx grammar (pure bison). Builds the AST of frontend/ast.h in the
 * compilation's arena. The scanner is frontend/lexer.l; both share the
 * apx_parser state declared below (it lands in frontend/parser.h).
 *
 * Error handling follows jq's parser.y: token aliases so that messages quote
 * real syntax, a custom yyreport_syntax_error that words the message and adds
 * a hint, and `error` productions at item, list, map and interpolation level
 * so that every syntax error of a file is reported, not only the first.
 * Everything lives in the arena, so no %destructor is needed: discarded
 * values are simply never linked into the tree. */

%define api.pure full
%define api.prefix {apx_yy}
%define api.token.prefix {TOK_}
%define api.location.type {apx_yyltype}
%define parse.error custom
%define parse.lac full
%locations
%expect 0

%parse-param {apx_parser *ps}
%lex-param {void *apx_scanner_arg}

%code requires {
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "frontend/ast.h"
#include "base/buf.h"
#include "base/map.h"

/* Locations are byte offsets into the source; the file id lives in the
 * parser state. */
typedef struct apx_yyltype {
  uint32_t begin, end;
} apx_yyltype;

#define YYLLOC_DEFAULT(Cur, Rhs, N)                                            \
  do {                                                                         \
    if (N) {                                                                   \
      (Cur).begin = YYRHSLOC(Rhs, 1).begin;                                    \
      (Cur).end = YYRHSLOC(Rhs, N).end;                                        \
    } else {                                                                   \
      (Cur).begin = (Cur).end = YYRHSLOC(Rhs, 0).end;                          \
    }                                                                          \
  } while (0)

typedef struct apx_text {
  const char *s;
  size_t len;
} apx_text;

typedef struct { apx_ast_item *head, *tail; } apx_item_list;
typedef struct { apx_ast_expr *head, *tail; } apx_expr_list;
typedef struct { apx_ast_strpart *head, *tail; } apx_part_list;
typedef struct { apx_ast_name *head, *tail; } apx_name_list;

typedef struct apx_parser apx_parser;
}

%code provides {
/* Lexer modes: what an opening token started, so that a `}` can end an
 * interpolation or a block and a string can be unwound after an error. */
enum { APX_M_BRACE, APX_M_INTERP, APX_M_STR, APX_M_HEREDOC };

typedef struct apx_mode {
  int kind;
  uint32_t begin, end;   /* the opening token */
  unsigned saved_nest;   /* open brackets (all modes) when opened */
  const char *name;      /* heredoc terminator (points into the source) */
  size_t name_len;
  long prev_heredoc;     /* index of the enclosing heredoc, or -1 */
  long prev_str;         /* index of the enclosing string or heredoc, or -1 */
} apx_mode;

/* At most this many nested brackets, braces, strings and interpolations:
 * deeper input is reported once and parsing stops (the parser's stack is
 * bounded by YYMAXDEPTH, and nothing in the front end recurses on it). */
#define APX_MAX_NESTING 1000

struct apx_parser {
  apx_arena *arena;      /* strings: names and text, which the IR keeps */
  apx_arena *nodes;      /* the tree itself, freed after lowering */
  apx_diag *diag;
  uint32_t file;
  const char *src;       /* the registered source text */
  uint32_t len;
  uint32_t in_pos;       /* how much of src the scanner has been handed */
  void *scanner;

  /* scanner state */
  uint32_t pos;          /* offset after the last match */
  uint32_t tok_begin;    /* offset of the last match */
  apx_mode *modes;
  size_t depth, cap;
  long heredoc_top;      /* innermost heredoc on the mode stack, or -1 */
  long str_top;          /* innermost string or heredoc on the mode stack, or -1 */
  long unwind_to;        /* >= 0: pop modes down to this depth, one token each */
  unsigned nest;         /* open "[" and "(" (all modes) */
  apx_buf text;          /* decoded text of the current string run */
  struct apx_ident *idents; /* each distinct identifier once: `image`, `env`, a name used a hundred times */
  size_t nidents, idents_cap; /* open addressing, a power of two, at most 3/4 full */
  uint32_t text_begin, text_end;
  bool text_pending;
  bool fatal;            /* nesting too deep: the scanner returns end of file */
  bool eof_error;        /* a scanner error already explains the end of file */
  int last_tok, prev_tok;
  bool synthetic;        /* last_tok was made up to close an unterminated string */
  bool ahead_valid;      /* cache of apx_quote_ahead */
  uint32_t ahead_from, ahead_quote, ahead_nl_from, ahead_nl;

  unsigned char *node_next, *node_end; /* the chunk of `nodes` being cut (mk_node) */

  /* results */
  apx_item_list top;
  apx_ast_item_fn each; /* set: top-level items go here, not into top */
  void *each_ud;
};

int apx_yylex(APX_YYSTYPE *lval, APX_YYLTYPE *lloc, void *scanner);
}

%code {
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define YYMAXDEPTH 10000
#define apx_scanner_arg (ps->scanner)

static void apx_yyerror(APX_YYLTYPE *loc, apx_parser *ps, const char *msg);

static apx_loc L(const apx_parser *ps, APX_YYLTYPE l) {
  apx_loc r = {ps->file, l.begin, l.end};
  return r;
}

/* Nodes are cut from chunks of the node arena: a bump of a pointer instead
 * of a call per node (a few hundred thousand in a large file). The arena
 * hands out zeroed memory, so nodes start zeroed as with APX_NEW. */
enum { APX_NODE_CHUNK = 1024 };

static void *mk_node(apx_parser *ps, size_t size) {
  size = (size + 7) & ~(size_t)7;
  if ((size_t)(ps->node_end - ps->node_next) < size) {
    ps->node_next = apx_arena_alloc(ps->nodes, APX_NODE_CHUNK);
    ps->node_end = ps->node_next + APX_NODE_CHUNK;
  }
  void *p = ps->node_next;
  ps->node_next += size;
  return p;
}

#define NEW_NODE(ps, T) ((T *)mk_node((ps), sizeof(T)))

static apx_ast_item *mk_item(apx_parser *ps, apx_ast_item_kind kind, APX_YYLTYPE loc) {
  apx_ast_item *it = NEW_NODE(ps, apx_ast_item);
  it->kind = kind;
  it->loc = L(ps, loc);
  return it;
}

static apx_ast_expr *mk_expr(apx_parser *ps, apx_ast_expr_kind kind, APX_YYLTYPE loc) {
  apx_ast_expr *e = NEW_NODE(ps, apx_ast_expr);
  e->kind = kind;
  e->loc = L(ps, loc);
  return e;
}

static apx_ast_expr *mk_string(apx_parser *ps, APX_YYLTYPE loc, apx_ast_strpart *parts) {
  apx_ast_expr *e = mk_expr(ps, APX_EX_STRING, loc);
  e->u.str.parts = parts;
  return e;
}

/* A STRING token: its text, if any, is the one part. */
static apx_ast_expr *plain_string(apx_parser *ps, APX_YYLTYPE loc, apx_text t, int *errstatus) {
  apx_ast_expr *e = mk_expr(ps, APX_EX_STRING, loc);
  if (t.len) {
    apx_ast_strpart *p = NEW_NODE(ps, apx_ast_strpart);
    p->text = t.s;
    p->len = t.len;
    e->u.str.parts = p;
  }
  /* Error recovery reports nothing until three tokens have been shifted
   * (bison's yyerrstatus); this string was one token where the general
   * form is STR_START [STR_TEXT] STR_END: count the others too, so that
   * the errors reported do not depend on the form. */
  for (int i = t.len ? 2 : 1; i > 0 && *errstatus > 0; i--) --*errstatus;
  return e;
}

static apx_ast_name *mk_name(apx_parser *ps, const char *name, APX_YYLTYPE loc) {
  apx_ast_name *n = NEW_NODE(ps, apx_ast_name);
  n->name = name;
  n->loc = L(ps, loc);
  return n;
}

static apx_item_list item_append(apx_item_list l, apx_ast_item *it) {
  if (!it) return l;
  if (l.tail) l.tail->next = it; else l.head = it;
  l.tail = it;
  return l;
}

static apx_expr_list expr_append(apx_expr_list l, apx_ast_expr *e) {
  if (!e) return l;
  if (l.tail) l.tail->next = e; else l.head = e;
  l.tail = e;
  return l;
}

static apx_part_list part_append(apx_part_list l, apx_ast_strpart *p) {
  if (l.tail) l.tail->next = p; else l.head = p;
  l.tail = p;
  return l;
}

/* The text of a string that must not be interpolated (import path, quoted
 * key, label); reports `what` when it is. */
static const char *plain_text(apx_parser *ps, apx_ast_expr *s, const char *what) {
  if (!s) return "";
  apx_buf b = {0};
  bool interp = false;
  for (apx_ast_strpart *p = s->u.str.parts; p; p = p->next) {
    if (p->text) apx_buf_append(&b, p->text, p->len);
    else if (!interp) {
      interp = true;
      apx_diagnostic *dg = apx_error(ps->diag, p->expr ? p->expr->loc : s->loc,
                                     "%s cannot contain an interpolation", what);
      apx_diag_hint(ps->diag, dg, "write the text literally, or `$${` for a literal `${`");
    }
  }
  const char *r = apx_arena_strndup(ps->arena, apx_buf_str(&b), b.len);
  apx_buf_free(&b);
  return r;
}

/* <<-EOT: removes the common leading white space of the content lines
 * (lines holding only white space do not count), like HCL's flush
 * heredocs. A line starting with an interpolation has no indentation. */
static void dedent(apx_parser *ps, apx_ast_expr *e) {
  size_t min = SIZE_MAX;
  bool bol = true;
  for (apx_ast_strpart *p = e->u.str.parts; p; p = p->next) {
    if (!p->text) {
      if (bol) min = 0;
      bol = false;
      continue;
    }
    size_t i = 0;
    while (i < p->len) {
      if (bol) {
        size_t ws = 0;
        while (i + ws < p->len && (p->text[i + ws] == ' ' || p->text[i + ws] == '\t')) ws++;
        size_t j = i + ws;
        bool blank = j == p->len ? !p->next : (p->text[j] == '\n' || (p->text[j] == '\r' && j + 1 < p->len && p->text[j + 1] == '\n'));
        if (!blank && ws < min) min = ws;
        i = j;
        bol = false;
        continue;
      }
      if (p->text[i++] == '\n') bol = true;
    }
  }
  if (min == 0 || min == SIZE_MAX) return;
  bol = true;
  for (apx_ast_strpart *p = e->u.str.parts; p; p = p->next) {
    if (!p->text) {
      bol = false;
      continue;
    }
    char *out = apx_arena_alloc(ps->arena, p->len + 1);
    size_t n = 0, i = 0;
    while (i < p->len) {
      if (bol) {
        size_t ws = 0;
        while (ws < min && i + ws < p->len && (p->text[i + ws] == ' ' || p->text[i + ws] == '\t')) ws++;
        i += ws;
        bol = false;
        continue;
      }
      char c = p->text[i++];
      out[n++] = c;
      if (c == '\n') bol = true;
    }
    out[n] = '\0';
    p->text = out;
    p->len = n;
  }
}

/* `name = value` from the name's start to the value's end. */
static apx_ast_item *mk_attr(apx_parser *ps, const char *name, APX_YYLTYPE nloc, apx_ast_expr *value,
                             APX_YYLTYPE vloc) {
  APX_YYLTYPE loc = {nloc.begin, vloc.end};
  apx_ast_item *it = mk_item(ps, APX_ITEM_ATTR, loc);
  it->name = name;
  it->name_loc = L(ps, nloc);
  it->value = value;
  return it;
}

static const char *plain_text(apx_parser *ps, apx_ast_expr *s, const char *what);

/* `"key" = value`. */
static apx_ast_item *mk_quoted_attr(apx_parser *ps, apx_ast_expr *key, APX_YYLTYPE kloc, apx_ast_expr *value,
                                    APX_YYLTYPE vloc) {
  apx_ast_item *it = mk_attr(ps, plain_text(ps, key, "a quoted key"), kloc, value, vloc);
  it->name_quoted = true;
  return it;
}

/* Top-level rules; false: the item is reported and left out of the tree. */
static bool check_top(apx_parser *ps, apx_ast_item *it) {
  apx_diagnostic *dg = NULL;
  switch (it->kind) {
  case APX_ITEM_ATTR:
    dg = apx_error(ps->diag, it->loc, "expected a resource, param, component or import");
    apx_diag_hint(ps->diag, dg, "attributes belong in a body: `KIND NAME { %s = … }`", it->name);
    return false;
  case APX_ITEM_BLOCK:
    if (!it->label) {
      dg = apx_error(ps->diag, it->name_loc, "a resource needs a name");
      apx_diag_hint(ps->diag, dg, "write `%s NAME { … }`", it->name);
      return false;
    } else if (it->label_loc.begin < ps->len && ps->src[it->label_loc.begin] == '"') {
      dg = apx_error(ps->diag, it->label_loc, "a resource name is an identifier, not a string");
      apx_diag_hint(ps->diag, dg, "write `%s %s { … }`", it->name, it->label);
    }
    break;
  case APX_ITEM_INPUT:
    dg = apx_error(ps->diag, it->loc, "`input` is only allowed inside a component");
    apx_diag_hint(ps->diag, dg, "write `component NAME extends KIND { input %s … }`", it->name);
    return false;
  default:
    break;
  }
  return true;
}

static void check_body(apx_parser *ps, apx_ast_item *body) {
  for (apx_ast_item *it = body; it; it = it->next)
    if (it->kind == APX_ITEM_IMPORT)
      apx_error(ps->diag, it->loc, "`import` is only allowed at the top level of a file");
}
}

%union {
  const char *str;
  int64_t num;
  apx_text text;
  apx_ast_expr *expr;
  apx_ast_item *item;
  apx_item_list items;
  apx_expr_list exprs;
  apx_part_list parts;
  apx_name_list names;
}

%token <str> IDENT "identifier"
%token <num> INT "integer"
%token <num> DURATION "duration"
%token <text> STR_TEXT "text"
%token STR_START "string"
%token <text> STRING "plain string"
%token <num> HEREDOC_START "heredoc"
%token STR_END "end of string"
%token INTERP_START "${"
%token INTERP_END "end of interpolation"
%token LBRACE "{"
%token RBRACE "}"
%token LBRACKET "["
%token RBRACKET "]"
%token LPAREN "("
%token RPAREN ")"
%token EQUALS "="
%token COMMA ","
%token SEMI ";"
%token DOT "."
%token IMPORT "import"
%token PARAM "param"
%token COMPONENT "component"
%token EXTENDS "extends"
%token INPUT "input"
%token TRUE "true"
%token FALSE "false"
%token NULL "null"

%type <item> item inner
%type <items> items entries
%type <expr> expr string heredoc map call
%type <exprs> exprs
%type <parts> parts
%type <names> ref

%%

file
: %empty
| file item       {
    if ($2 && check_top(ps, $2)) {
      /* Nothing on the stack points into the tree but this item (tokens'
       * strings live in ps->arena), so the tree can go once it is handed on. */
      if (ps->each) {
        ps->each(ps->each_ud, $2);
        apx_arena_reset(ps->nodes);
        ps->node_next = ps->node_end = NULL;
      } else {
        ps->top = item_append(ps->top, $2);
      }
    }
  }
| file sep
;

sep: "," | ";" ;

/* An attribute, the usual item of a body, is appended where it is read,
 * not through `item`: a reduction fewer per attribute. */
items
: %empty          { $$.head = $$.tail = NULL; }
| items IDENT "=" expr { $$ = item_append($1, mk_attr(ps, $2, @2, $4, @4)); }
| items inner     { $$ = item_append($1, $2); }
| items sep       { $$ = $1; }
;

item
: IDENT "=" expr  { $$ = mk_attr(ps, $1, @1, $3, @3); }
| inner
;

/* Every item but `name = value`. */
inner
: string "=" expr { $$ = mk_quoted_attr(ps, $1, @1, $3, @3); }
| IDENT "{" items "}" {
    $$ = mk_item(ps, APX_ITEM_BLOCK, @$);
    $$->name = $1; $$->name_loc = L(ps, @1); $$->body = $3.head;
    check_body(ps, $3.head);
  }
| IDENT IDENT "{" items "}" {
    $$ = mk_item(ps, APX_ITEM_BLOCK, @$);
    $$->name = $1; $$->name_loc = L(ps, @1);
    $$->label = $2; $$->label_loc = L(ps, @2); $$->body = $4.head;
    check_body(ps, $4.head);
  }
| IDENT string "{" items "}" {
    $$ = mk_item(ps, APX_ITEM_BLOCK, @$);
    $$->name = $1; $$->name_loc = L(ps, @1);
    $$->label = plain_text(ps, $2, "a label"); $$->label_loc = L(ps, @2);
    $$->body = $4.head;
    check_body(ps, $4.head);
  }
| "input" IDENT {
    $$ = mk_item(ps, APX_ITEM_INPUT, @$);
    $$->name = $2; $$->name_loc = L(ps, @2);
  }
| "input" IDENT "=" expr {
    $$ = mk_item(ps, APX_ITEM_INPUT, @$);
    $$->name = $2; $$->name_loc = L(ps, @2); $$->value = $4;
  }
| "component" IDENT "extends" IDENT "{" items "}" {
    $$ = mk_item(ps, APX_ITEM_COMPONENT, @$);
    $$->name = $2; $$->name_loc = L(ps, @2);
    $$->extends = $4; $$->extends_loc = L(ps, @4); $$->body = $6.head;
    check_body(ps, $6.head);
  }
| "param" IDENT {
    $$ = mk_item(ps, APX_ITEM_PARAM, @$);
    $$->name = $2; $$->name_loc = L(ps, @2);
  }
| "param" IDENT "{" items "}" {
    $$ = mk_item(ps, APX_ITEM_PARAM, @$);
    $$->name = $2; $$->name_loc = L(ps, @2); $$->has_body = true; $$->body = $4.head;
    check_body(ps, $4.head);
  }
| "import" string {
    $$ = mk_item(ps, APX_ITEM_IMPORT, @$);
    $$->name = plain_text(ps, $2, "an import path"); $$->name_loc = L(ps, @2);
  }
| error           { $$ = NULL; }
;

/* The strings, lists and single names of values are alternatives of expr
 * itself, not through `string`, `list` and `ref`: a reduction fewer per
 * value (they are most of a file's values). */
expr
: STR_START parts STR_END { $$ = mk_string(ps, @$, $2.head); }
| STRING          { $$ = plain_string(ps, @$, $1, &yyerrstatus); }
| heredoc
| INT             { $$ = mk_expr(ps, APX_EX_INT, @$); $$->u.i = $1; }
| DURATION        { $$ = mk_expr(ps, APX_EX_DURATION, @$); $$->u.ms = $1; }
| "true"          { $$ = mk_expr(ps, APX_EX_BOOL, @$); $$->u.b = true; }
| "false"         { $$ = mk_expr(ps, APX_EX_BOOL, @$); $$->u.b = false; }
| "null"          { $$ = mk_expr(ps, APX_EX_NULL, @$); }
| "[" "]"              { $$ = mk_expr(ps, APX_EX_LIST, @$); }
| "[" exprs "]"        { $$ = mk_expr(ps, APX_EX_LIST, @$); $$->u.items = $2.head; }
| "[" exprs "," "]"    { $$ = mk_expr(ps, APX_EX_LIST, @$); $$->u.items = $2.head; }
| "[" error "]"        { $$ = mk_expr(ps, APX_EX_LIST, @$); }
| map
| IDENT           { $$ = mk_expr(ps, APX_EX_REF, @$); $$->u.path = mk_name(ps, $1, @1); }
| ref             { $$ = mk_expr(ps, APX_EX_REF, @$); $$->u.path = $1.head; }
| call
;

/* A string where it is a key, a label or an import path. */
string
: STR_START parts STR_END { $$ = mk_string(ps, @$, $2.head); }
| STRING          { $$ = plain_string(ps, @$, $1, &yyerrstatus); }
;

heredoc
: HEREDOC_START parts STR_END {
    $$ = mk_expr(ps, APX_EX_STRING, @$); $$->u.str.parts = $2.head;
    $$->u.str.heredoc = true;
    if ($1) dedent(ps, $$);
  }
;

parts
: %empty          { $$.head = $$.tail = NULL; }
| parts STR_TEXT {
    apx_ast_strpart *p = NEW_NODE(ps, apx_ast_strpart);
    p->text = $2.s; p->len = $2.len;
    $$ = part_append($1, p);
  }
| parts "${" expr "end of interpolation" {
    apx_ast_strpart *p = NEW_NODE(ps, apx_ast_strpart);
    p->expr = $3;
    $$ = part_append($1, p);
  }
| parts "${" error "end of interpolation" { $$ = $1; }
;

exprs
: expr                 { $$.head = $$.tail = NULL; $$ = expr_append($$, $1); }
| exprs "," expr       { $$ = expr_append($1, $3); }
;

map
: "{" entries "}"      { $$ = mk_expr(ps, APX_EX_MAP, @$); $$->u.entries = $2.head; }
| "{" error "}"        { $$ = mk_expr(ps, APX_EX_MAP, @$); }
;

entries
: %empty               { $$.head = $$.tail = NULL; }
| entries IDENT "=" expr  { $$ = item_append($1, mk_attr(ps, $2, @2, $4, @4)); }
| entries string "=" expr { $$ = item_append($1, mk_quoted_attr(ps, $2, @2, $4, @4)); }
| entries sep          { $$ = $1; }
;

/* A path of two names or more (one name is an expr of its own). */
ref
: IDENT "." IDENT {
    $$.head = mk_name(ps, $1, @1);
    $$.head->next = $$.tail = mk_name(ps, $3, @3);
  }
| ref "." IDENT {
    apx_ast_name *n = mk_name(ps, $3, @3);
    $1.tail->next = n; $1.tail = n;
    $$ = $1;
  }
;

call
: IDENT "(" ")" {
    $$ = mk_expr(ps, APX_EX_CALL, @$);
    $$->u.call.name = $1; $$->u.call.name_loc = L(ps, @1);
  }
| IDENT "(" exprs ")" {
    $$ = mk_expr(ps, APX_EX_CALL, @$);
    $$->u.call.name = $1; $$->u.call.name_loc = L(ps, @1); $$->u.call.args = $3.head;
  }
| IDENT "(" error ")" {
    $$ = mk_expr(ps, APX_EX_CALL, @$);
    $$->u.call.name = $1; $$->u.call.name_loc = L(ps, @1);
  }
;

%%

/* How a token is named in a message: syntax in double quotes, classes of
 * tokens in words. */
static const char *apx_symname(yysymbol_kind_t k) {
  switch (k) {
  case YYSYMBOL_YYEOF: return "end of file";
  case YYSYMBOL_YYerror: return "error";
  case YYSYMBOL_YYUNDEF: return "invalid token";
  case YYSYMBOL_IDENT: return "identifier";
  case YYSYMBOL_INT: return "integer";
  case YYSYMBOL_DURATION: return "duration";
  case YYSYMBOL_STR_TEXT: return "text";
  case YYSYMBOL_STR_START: return "string";
  case YYSYMBOL_STRING: return "string";
  case YYSYMBOL_HEREDOC_START: return "heredoc";
  case YYSYMBOL_STR_END: return "end of string";
  case YYSYMBOL_INTERP_END: return "\"}\"";
  default: return NULL; /* quoted yysymbol_name */
  }
}

static void apx_put_sym(apx_buf *b, yysymbol_kind_t k) {
  const char *n = apx_symname(k);
  if (n) apx_buf_puts(b, n);
  else apx_buf_printf(b, "\"%s\"", yysymbol_name(k));
}


static bool apx_has(const yysymbol_kind_t *v, int n, yysymbol_kind_t k) {
  for (int i = 0; i < n; i++)
    if (v[i] == k) return true;
  return false;
}

/* The lexer's innermost unclosed `{` (for a note at end of file). */
static const apx_mode *apx_open_brace(const apx_parser *ps) {
  for (size_t i = ps->depth; i > 0; i--)
    if (ps->modes[i - 1].kind == APX_M_BRACE) return &ps->modes[i - 1];
  return NULL;
}

static int yyreport_syntax_error(const yypcontext_t *ctx, apx_parser *ps) {
  yysymbol_kind_t look = yypcontext_token(ctx);
  if (ps->fatal) return 0;
  if (ps->eof_error && look == YYSYMBOL_YYEOF) return 0;
  /* A token made up after a scanner error: that error explains this one. */
  if (ps->synthetic) return 0;
  const APX_YYLTYPE *lp = yypcontext_location(ctx);
  apx_loc loc = L(ps, *lp);
  /* An unexpected string is shown at its opening quote, whichever token
   * it was scanned as. */
  if (look == YYSYMBOL_STRING) loc.end = loc.begin + 1;
  /* Past the error limit only the count matters: skip the expected set. */
  if (!apx_diag_shows(ps->diag, APX_DIAG_ERROR)) {
    apx_error(ps->diag, loc, "syntax error");
    return 0;
  }

  yysymbol_kind_t exp[YYNTOKENS];
  int n = yypcontext_expected_tokens(ctx, exp, YYNTOKENS);
  if (n < 0) n = 0;
  /* STRING is expected wherever STR_START is: "string" once. */
  int kept = 0;
  for (int i = 0; i < n; i++)
    if (exp[i] != YYSYMBOL_STRING) exp[kept++] = exp[i];
  n = kept;

  /* Tokens that start a value collapse into "a value", tokens that start
   * an item into "an attribute or block"; "(" and "." that would continue
   * a reference are left out when something else is expected too. */
  static const yysymbol_kind_t value_start[] = {
      YYSYMBOL_STR_START, YYSYMBOL_HEREDOC_START, YYSYMBOL_INT, YYSYMBOL_DURATION,
      YYSYMBOL_TRUE, YYSYMBOL_FALSE, YYSYMBOL_NULL, YYSYMBOL_LBRACKET, YYSYMBOL_LBRACE,
      YYSYMBOL_IDENT};
  static const yysymbol_kind_t item_start[] = {
      YYSYMBOL_IDENT, YYSYMBOL_STR_START, YYSYMBOL_INPUT, YYSYMBOL_COMPONENT,
      YYSYMBOL_PARAM, YYSYMBOL_IMPORT, YYSYMBOL_COMMA, YYSYMBOL_SEMI};
  const size_t nvs = sizeof value_start / sizeof value_start[0];
  const size_t nis = sizeof item_start / sizeof item_start[0];
  bool value = true, item = true;
  for (size_t i = 0; i < nvs; i++)
    if (!apx_has(exp, n, value_start[i])) value = false;
  for (size_t i = 0; i < nis; i++)
    if (!apx_has(exp, n, item_start[i])) item = false;
  bool top = item && apx_has(exp, n, YYSYMBOL_YYEOF);

  apx_buf b = {0};
  apx_buf_puts(&b, "unexpected ");
  apx_put_sym(&b, look);
  if ((look == YYSYMBOL_IDENT || look == YYSYMBOL_INT || look == YYSYMBOL_DURATION) &&
      lp->end > lp->begin && lp->end <= ps->len && lp->end - lp->begin <= 64)
    apx_buf_printf(&b, " '%.*s'", (int)(lp->end - lp->begin), ps->src + lp->begin);

  const char *shown[YYNTOKENS + 2];
  char quoted[YYNTOKENS][24];
  int ns = 0;
  if (value) shown[ns++] = "a value";
  if (top) {
    shown[ns++] = "a resource";
    shown[ns++] = "param";
    shown[ns++] = "component";
    shown[ns++] = "import";
  } else if (item) {
    shown[ns++] = "an attribute";
    shown[ns++] = "a block";
  }
  int others = 0;
  for (int i = 0; i < n; i++)
    if (exp[i] != YYSYMBOL_DOT && exp[i] != YYSYMBOL_LPAREN) others++;
  for (int i = 0; i < n; i++) {
    yysymbol_kind_t k = exp[i];
    bool skip = false;
    for (size_t j = 0; value && j < nvs; j++)
      if (k == value_start[j]) skip = true;
    for (size_t j = 0; item && j < nis; j++)
      if (k == item_start[j]) skip = true;
    if (top && k == YYSYMBOL_YYEOF) skip = true;
    if ((k == YYSYMBOL_DOT || k == YYSYMBOL_LPAREN) && others > 0) skip = true;
    if (skip) continue;
    const char *nm = apx_symname(k);
    if (!nm) {
      snprintf(quoted[i], sizeof quoted[i], "\"%s\"", yysymbol_name(k));
      nm = quoted[i];
    }
    shown[ns++] = nm;
  }
  if (ns > 0 && ns <= 4) {
    apx_buf_puts(&b, ", expecting ");
    for (int i = 0; i < ns; i++) {
      if (i) apx_buf_puts(&b, i == ns - 1 ? " or " : ", ");
      apx_buf_puts(&b, shown[i]);
    }
  }
  apx_diagnostic *dg = apx_error(ps->diag, loc, "%s", apx_buf_str(&b));
  apx_buf_free(&b);

  /* Hints for the usual mistakes. */
  if (value && ps->prev_tok == TOK_EQUALS)
    apx_diag_hint(ps->diag, dg, "an attribute is written `name = value`");
  else if (apx_has(exp, n, YYSYMBOL_EQUALS) && !apx_has(exp, n, YYSYMBOL_DOT))
    apx_diag_hint(ps->diag, dg, "an attribute is written `name = value`, a block `kind [label] { … }`");
  else if (apx_has(exp, n, YYSYMBOL_COMMA) && apx_has(exp, n, YYSYMBOL_RBRACKET))
    apx_diag_hint(ps->diag, dg, "list elements are separated by commas: `[a, b]`");
  else if (apx_has(exp, n, YYSYMBOL_COMMA) && apx_has(exp, n, YYSYMBOL_RPAREN))
    apx_diag_hint(ps->diag, dg, "arguments are separated by commas: `f(a, b)`");
  else if (look == YYSYMBOL_YYEOF && apx_has(exp, n, YYSYMBOL_RBRACE)) {
    const apx_mode *m = apx_open_brace(ps);
    apx_diag_hint(ps->diag, dg, "a `{` is not closed");
    if (m) apx_note(ps->diag, (apx_loc){ps->file, m->begin, m->end}, "the unclosed `{` is here");
  } else if (n == 1 && exp[0] == YYSYMBOL_LBRACE)
    apx_diag_hint(ps->diag, dg, "a block is written `kind [label] { … }`, an attribute `name = value`");
  return 0;
}

static void apx_yyerror(APX_YYLTYPE *loc, apx_parser *ps, const char *msg) {
  /* Only "memory exhausted" reaches here: the parser stack hit YYMAXDEPTH. */
  if (ps->fatal) return;
  ps->fatal = true;
  apx_diagnostic *dg = apx_error(ps->diag, L(ps, *loc), "nesting too deep (%s)", msg);
  apx_diag_hint(ps->diag, dg, "split the value into smaller pieces");
}

#include "frontend/lexer.h"

apx_ast_file *apx_parse_file(apx_arena *arena, apx_diag *diag, uint32_t file) {
  return apx_parse_file_split(arena, arena, diag, file);
}

apx_ast_file *apx_parse_file_split(apx_arena *arena, apx_arena *nodes, apx_diag *diag, uint32_t file) {
  return apx_parse_file_each(arena, nodes, diag, file, NULL, NULL);
}

apx_ast_file *apx_parse_file_each(apx_arena *arena, apx_arena *nodes, apx_diag *diag, uint32_t file,
                                  apx_ast_item_fn each, void *ud) {
  /* In `arena` when items are handed on: `nodes` is emptied after each. */
  apx_ast_file *f = APX_NEW(each ? arena : nodes, apx_ast_file);
  f->file = file;
  const apx_source *src = apx_diag_source(diag, file);
  if (src->len > (size_t)INT32_MAX - 2) {
    apx_error(diag, (apx_loc){file, 0, 0}, "file too large");
    return f;
  }

  apx_parser ps;
  memset(&ps, 0, sizeof ps);
  ps.arena = arena;
  ps.nodes = nodes;
  ps.diag = diag;
  ps.file = file;
  ps.src = src->text;
  ps.len = (uint32_t)src->len;
  ps.heredoc_top = -1;
  ps.str_top = -1;
  ps.unwind_to = -1;
  ps.each = each;
  ps.each_ud = ud;

  yyscan_t scanner;
  if (apx_yylex_init_extra(&ps, &scanner) != 0) {
    apx_error(diag, (apx_loc){file, 0, 0}, "cannot start the scanner");
    return f;
  }
  ps.scanner = scanner;
  /* Fed from src by YY_INPUT (lexer.l), not a copy of the whole text. */
  YY_BUFFER_STATE buf = apx_yy_create_buffer(NULL, 64 * 1024, scanner);
  apx_yy_switch_to_buffer(buf, scanner);
  apx_yyparse(&ps);
  apx_yy_delete_buffer(buf, scanner);
  apx_yylex_destroy(scanner);
  free(ps.idents);
  apx_buf_free(&ps.text);
  free(ps.modes);

  f->items = ps.top.head;
  return f;
}
