/* The manifest front end: aspire-manifest.json into the .apx syntax tree.
 *
 * cJSON parses the text (its nesting limit, CJSON_NESTING_LIMIT, bounds the
 * depth, so 10 MB of `[[[[` is one located error). cJSON keeps no source
 * positions, so the positions are found again in the text: objects and
 * arrays are walked in step with cJSON's child lists (which keep source
 * order, duplicates included), skipping tokens only; `apx_json_locate` does
 * the same from a JSON pointer. Every skip is iterative.
 *
 * Each resource becomes what an .apx author would have written (doc/manifest.md
 * has the table): container.v0/v1 and dockerfile.v0 a `container`, project.v0/v1
 * a `project` run through `dotnet run --project PATH`, executable.v0 an
 * `executable`, parameter.v0 a `param`, value.v0 an `external` with a
 * connection string; annotated.string is folded into the references to it
 * (`urlencode(p.value)`). Expressions `{r.bindings.http.url}` become
 * references (`r.endpoints.http.url`), located at the segment in the JSON
 * string. PostgreSQL and Redis images become the standard library's
 * components (health check, local fallback, databases created). Azure, Dapr
 * and AWS resources have no meaning here: a warning names each. */
#include "manifest.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/map.h"
#include "base/path.h"

/* ---- the locator -------------------------------------------------------- */

static size_t jl_ws(const char *t, size_t n, size_t i) {
  while (i < n && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r')) i++;
  return i;
}

/* i at an opening quote: the index after the closing one. */
static size_t jl_string_end(const char *t, size_t n, size_t i) {
  for (i++; i < n; i++) {
    if (t[i] == '\\') i++;
    else if (t[i] == '"') return i + 1;
  }
  return n;
}

/* i at the first byte of a value: the index after its last. Brackets are
 * counted, not recursed into (the text is valid JSON). */
static size_t jl_skip(const char *t, size_t n, size_t i) {
  if (i >= n) return n;
  if (t[i] == '"') return jl_string_end(t, n, i);
  if (t[i] != '{' && t[i] != '[') {
    while (i < n && !strchr(",]} \t\r\n", t[i])) i++;
    return i;
  }
  size_t depth = 0;
  while (i < n) {
    char c = t[i];
    if (c == '"') {
      i = jl_string_end(t, n, i);
      continue;
    }
    i++;
    if (c == '{' || c == '[') depth++;
    else if ((c == '}' || c == ']') && --depth == 0) return i;
  }
  return n;
}

/* The first member (its key) or element of the object or array at i, or n. */
static size_t jl_first(const char *t, size_t n, size_t i) {
  i = jl_ws(t, n, i + 1);
  return i < n && (t[i] == '}' || t[i] == ']') ? n : i;
}

/* Key at i: its value. */
static size_t jl_member_value(const char *t, size_t n, size_t i) {
  i = jl_ws(t, n, jl_string_end(t, n, i));
  return jl_ws(t, n, i + 1); /* past ':' */
}

/* Value at i: the next member's key or element, or n. */
static size_t jl_next(const char *t, size_t n, size_t i) {
  i = jl_ws(t, n, jl_skip(t, n, i));
  return i < n && t[i] == ',' ? jl_ws(t, n, i + 1) : n;
}

/* Decodes the JSON string at i (escapes, \u pairs) into out. */
static void jl_decode(const char *t, size_t n, size_t i, apx_buf *out) {
  for (i++; i < n && t[i] != '"'; i++) {
    if (t[i] != '\\') {
      apx_buf_putc(out, t[i]);
      continue;
    }
    char c = t[++i];
    if (c != 'u') {
      const char *from = "bfnrt", *to = "\b\f\n\r\t";
      const char *p = strchr(from, c);
      apx_buf_putc(out, p && c ? to[p - from] : c);
      continue;
    }
    unsigned cp = (unsigned)strtoul((char[]){t[i + 1], t[i + 2], t[i + 3], t[i + 4], 0}, NULL, 16);
    i += 4;
    if (cp >= 0xD800 && cp < 0xDC00 && i + 6 < n && t[i + 1] == '\\' && t[i + 2] == 'u') {
      unsigned lo = (unsigned)strtoul((char[]){t[i + 3], t[i + 4], t[i + 5], t[i + 6], 0}, NULL, 16);
      cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      i += 6;
    }
    if (cp < 0x80) apx_buf_putc(out, (char)cp);
    else if (cp < 0x800) {
      apx_buf_putc(out, (char)(0xC0 | cp >> 6));
      apx_buf_putc(out, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      apx_buf_putc(out, (char)(0xE0 | cp >> 12));
      apx_buf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3F)));
      apx_buf_putc(out, (char)(0x80 | (cp & 0x3F)));
    } else {
      apx_buf_putc(out, (char)(0xF0 | cp >> 18));
      apx_buf_putc(out, (char)(0x80 | ((cp >> 12) & 0x3F)));
      apx_buf_putc(out, (char)(0x80 | ((cp >> 6) & 0x3F)));
      apx_buf_putc(out, (char)(0x80 | (cp & 0x3F)));
    }
  }
}

static size_t jl_root(const char *t, size_t n) {
  size_t i = n >= 3 && memcmp(t, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0; /* cJSON skips a BOM too */
  return jl_ws(t, n, i);
}

bool apx_json_locate(const char *t, size_t n, const char *pointer, size_t *begin, size_t *end) {
  size_t i = jl_root(t, n);
  apx_buf seg = {0}, key = {0};
  bool ok = i < n;
  const char *p = pointer;
  while (ok && *p == '/') {
    const char *q = strchr(p + 1, '/');
    size_t sl = q ? (size_t)(q - p - 1) : strlen(p + 1);
    apx_buf_clear(&seg);
    for (size_t k = 0; k < sl; k++) { /* ~1 is '/', ~0 is '~' */
      char c = p[1 + k];
      if (c == '~' && k + 1 < sl && (p[2 + k] == '0' || p[2 + k] == '1')) c = p[2 + k++] == '1' ? '/' : '~';
      apx_buf_putc(&seg, c);
    }
    p += 1 + sl;
    if (t[i] == '{') {
      size_t k = jl_first(t, n, i), found = n;
      for (; k < n && found == n; k = jl_next(t, n, jl_member_value(t, n, k))) {
        apx_buf_clear(&key);
        jl_decode(t, n, k, &key);
        if (key.len == seg.len && memcmp(apx_buf_str(&key), apx_buf_str(&seg), seg.len) == 0)
          found = jl_member_value(t, n, k);
      }
      ok = found < n;
      i = found;
    } else if (t[i] == '[') {
      char *endp;
      unsigned long idx = strtoul(apx_buf_str(&seg), &endp, 10);
      ok = seg.len && *endp == 0;
      size_t k = jl_first(t, n, i);
      for (; ok && k < n && idx > 0; idx--) k = jl_next(t, n, k);
      ok = ok && k < n;
      i = k;
    } else {
      ok = false;
    }
  }
  apx_buf_free(&seg);
  apx_buf_free(&key);
  if (!ok) return false;
  *begin = i;
  *end = jl_skip(t, n, i);
  return true;
}

/* ---- values with their places ------------------------------------------ */

/* A JSON value and where it is. Its JSON pointer (for messages) is built
 * only when a message needs it, from the chain of values holding it (each a
 * live caller's). */
typedef struct mv {
  const cJSON *j;
  uint32_t off, end;
  uint32_t key_off, key_end; /* a member's key, else = off */
  const struct mv *up;       /* the object or array holding it; NULL: the root */
  uint32_t idx;              /* its index there */
} mv;

typedef struct mres {
  const char *name;
  mv v;
  const char *type;
  enum { MR_CONTAINER, MR_DOCKERFILE, MR_PROJECT, MR_EXECUTABLE, MR_PARAM, MR_VALUE, MR_ANNOTATED, MR_SKIP } cat;
  const char *stdlib;      /* "postgres", "redis", or NULL */
  struct mres *db_of;      /* a value.v0 made a database of this postgres */
  bool has_cs;
  const char *pw_param;    /* postgres: the parameter POSTGRES_PASSWORD names */
  /* cycle search */
  int color;
  size_t edge_next;
} mres;

typedef struct medge {
  size_t from, to;
  apx_loc loc;
} medge;

typedef struct mspan {
  uint32_t key_off, key_end, off, end;
} mspan;

typedef struct apx_mf {
  apx_arena *arena, *nodes;
  apx_diag *diag;
  uint32_t file;
  const char *t;
  size_t n;
  const char *dir;
  mres *res;
  size_t nres, capres;
  apx_map index;
  medge *edges;
  size_t nedges, capedges;
  bool collecting; /* scanning expressions for the cycle check only */
  bool in_annotated; /* reading an annotated.string's value */
  apx_map spans;     /* cJSON node -> index in span_tab */
  mspan **span_tab;
  size_t nspan, capspan;
  size_t *span_n;
  size_t nspan_n, capspan_n;
  size_t collect_from;
} apx_mf;

static apx_loc mf_loc(apx_mf *M, uint32_t b, uint32_t e) { return (apx_loc){M->file, b, e}; }
static apx_loc mv_loc(apx_mf *M, const mv *v) { return mf_loc(M, v->off, v->end); }

/* Appends a pointer segment, '~' and '/' escaped (RFC 6901). */
static void mf_ptr_seg(apx_buf *b, const char *seg) {
  apx_buf_putc(b, '/');
  for (const char *s = seg; *s; s++) {
    if (*s == '~') apx_buf_puts(b, "~0");
    else if (*s == '/') apx_buf_puts(b, "~1");
    else apx_buf_putc(b, *s);
  }
}

static const char *mf_ptr(apx_mf *M, const char *parent, const char *seg) {
  apx_buf b = {0};
  apx_buf_puts(&b, parent);
  mf_ptr_seg(&b, seg);
  const char *r = apx_arena_strdup(M->arena, apx_buf_str(&b));
  apx_buf_free(&b);
  return r;
}

/* The JSON pointer of v: "/resources/api/env/PORT", "/" for the root. */
static const char *mv_ptr(apx_mf *M, const mv *v) {
  size_t depth = 0;
  for (const mv *p = v; p->up; p = p->up) depth++;
  if (!depth) return "/";
  const mv **chain = malloc(sizeof *chain * depth);
  if (!chain) abort();
  size_t i = depth;
  for (const mv *p = v; p->up; p = p->up) chain[--i] = p;
  apx_buf b = {0};
  for (i = 0; i < depth; i++) {
    char num[24];
    snprintf(num, sizeof num, "%u", chain[i]->idx);
    mf_ptr_seg(&b, cJSON_IsObject(chain[i]->up->j) && chain[i]->j->string ? chain[i]->j->string : num);
  }
  free(chain);
  const char *r = apx_arena_strdup(M->arena, apx_buf_str(&b));
  apx_buf_free(&b);
  return r;
}

__attribute__((format(printf, 3, 4))) static apx_diagnostic *mf_error(apx_mf *M, const mv *v, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = apx_arena_vprintf(M->arena, fmt, ap);
  va_end(ap);
  return apx_error(M->diag, mv_loc(M, v), "%s (at %s)", msg, mv_ptr(M, v));
}

__attribute__((format(printf, 3, 4))) static void mf_warn(apx_mf *M, const mv *v, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *msg = apx_arena_vprintf(M->arena, fmt, ap);
  va_end(ap);
  apx_warning(M->diag, mv_loc(M, v), "%s (at %s)", msg, mv_ptr(M, v));
}

/* Where the children of an object or array are: one scan of its text in
 * step with cJSON's child list, kept per cJSON node, so that looking up a
 * member does not scan its siblings again. */
static const mspan *mf_spans(apx_mf *M, const mv *o, size_t *count) {
  size_t *slot = apx_map_ptr(&M->spans, o->j, NULL, true);
  if (*slot != (size_t)-1) {
    *count = M->span_n[*slot];
    return M->span_tab[*slot];
  }
  size_t n = 0;
  for (const cJSON *c = o->j->child; c; c = c->next) n++;
  mspan *sp = APX_NEW_ARRAY(M->arena, mspan, n ? n : 1);
  bool member = cJSON_IsObject(o->j);
  size_t k = jl_first(M->t, M->n, o->off), i = 0;
  for (; i < n && k < M->n; i++) {
    size_t val = member ? jl_member_value(M->t, M->n, k) : k;
    size_t vend = jl_skip(M->t, M->n, val);
    sp[i] = (mspan){(uint32_t)k, member ? (uint32_t)jl_string_end(M->t, M->n, k) : (uint32_t)val, (uint32_t)val,
                    (uint32_t)vend};
    k = jl_ws(M->t, M->n, vend);
    k = k < M->n && M->t[k] == ',' ? jl_ws(M->t, M->n, k + 1) : M->n;
  }
  for (; i < n; i++) sp[i] = (mspan){o->end, o->end, o->end, o->end}; /* cannot happen on valid JSON */
  *slot = M->nspan;
  APX_VEC_PUSH(M->arena, M->span_tab, M->nspan, M->capspan, sp);
  size_t dummy_cap = M->capspan_n;
  APX_VEC_PUSH(M->arena, M->span_n, M->nspan_n, dummy_cap, n);
  M->capspan_n = dummy_cap;
  *count = n;
  return sp;
}

/* The members of an object (or elements of an array) with their places. */
typedef struct mv_iter {
  apx_mf *M;
  const mv *parent;
  const cJSON *c;
  const mspan *sp;
  size_t n;
  unsigned idx;
} mv_iter;

static mv_iter mv_iter_start(apx_mf *M, const mv *o) {
  mv_iter it = {M, o, o->j->child, NULL, 0, 0};
  it.sp = mf_spans(M, o, &it.n);
  return it;
}

static void mv_fill(mv_iter *it, const cJSON *c, size_t i, mv *out) {
  const mspan *sp = &it->sp[i];
  out->j = c;
  out->off = sp->off;
  out->end = sp->end;
  out->key_off = sp->key_off;
  out->key_end = sp->key_end;
  out->up = it->parent;
  out->idx = (uint32_t)i;
}

static bool mv_iter_next(mv_iter *it, mv *out) {
  if (!it->c || it->idx >= it->n) return false;
  mv_fill(it, it->c, it->idx, out);
  it->idx++;
  it->c = it->c->next;
  return true;
}

/* The member `key` of object o (the first, as cJSON finds it). */
static bool mv_get(apx_mf *M, const mv *o, const char *key, mv *out) {
  if (!cJSON_IsObject(o->j)) return false;
  mv_iter it = mv_iter_start(M, o);
  size_t i = 0;
  for (const cJSON *c = o->j->child; c && i < it.n; c = c->next, i++)
    if (c->string && strcmp(c->string, key) == 0) {
      mv_fill(&it, c, i, out);
      return true;
    }
  return false;
}

static const char *mv_kind(const cJSON *j) {
  if (cJSON_IsString(j)) return "a string";
  if (cJSON_IsNumber(j)) return "a number";
  if (cJSON_IsBool(j)) return "a boolean";
  if (cJSON_IsNull(j)) return "null";
  if (cJSON_IsArray(j)) return "an array";
  return "an object";
}

static bool mv_want(apx_mf *M, const mv *v, cJSON_bool (*is)(const cJSON *), const char *what) {
  if (is(v->j)) return true;
  mf_error(M, v, "'%s' must be %s, not %s", v->j->string ? v->j->string : "value", what, mv_kind(v->j));
  return false;
}

static cJSON_bool mf_is_bool(const cJSON *j) { return cJSON_IsBool(j); }

/* ---- syntax tree builders ---------------------------------------------- */

static apx_ast_expr *ex_new(apx_mf *M, apx_ast_expr_kind k, apx_loc loc) {
  apx_ast_expr *e = APX_NEW(M->nodes, apx_ast_expr);
  e->kind = k;
  e->loc = loc;
  return e;
}

static apx_ast_expr *ex_text(apx_mf *M, const char *s, apx_loc loc) {
  apx_ast_expr *e = ex_new(M, APX_EX_STRING, loc);
  apx_ast_strpart *p = APX_NEW(M->nodes, apx_ast_strpart);
  p->text = apx_arena_strdup(M->arena, s);
  p->len = strlen(s);
  e->u.str.parts = p;
  return e;
}

static apx_ast_expr *ex_ref(apx_mf *M, const char *const *segs, const apx_loc *locs, size_t n, apx_loc loc) {
  apx_ast_expr *e = ex_new(M, APX_EX_REF, loc);
  apx_ast_name **tail = &e->u.path;
  for (size_t i = 0; i < n; i++) {
    apx_ast_name *nm = APX_NEW(M->nodes, apx_ast_name);
    nm->name = apx_arena_strdup(M->arena, segs[i]);
    nm->loc = locs[i];
    *tail = nm;
    tail = &nm->next;
  }
  return e;
}

static apx_ast_item *it_new(apx_mf *M, apx_ast_item_kind k, const char *name, apx_loc loc) {
  apx_ast_item *it = APX_NEW(M->nodes, apx_ast_item);
  it->kind = k;
  it->name = name ? apx_arena_strdup(M->arena, name) : NULL;
  it->loc = it->name_loc = it->label_loc = loc;
  return it;
}

/* A body under construction. */
typedef struct body {
  apx_ast_item *head, **tail;
} body;

static void body_init(body *b) {
  b->head = NULL;
  b->tail = &b->head;
}

static void body_add(body *b, apx_ast_item *it) {
  *b->tail = it;
  b->tail = &it->next;
}

static void body_attr(apx_mf *M, body *b, const char *name, apx_ast_expr *v, apx_loc loc) {
  apx_ast_item *it = it_new(M, APX_ITEM_ATTR, name, loc);
  it->value = v;
  body_add(b, it);
}

static apx_ast_item *body_block(apx_mf *M, body *b, const char *kw, const char *label, apx_loc loc, apx_loc label_loc,
                                const body *inner) {
  apx_ast_item *it = it_new(M, APX_ITEM_BLOCK, kw, loc);
  it->label = label ? apx_arena_strdup(M->arena, label) : NULL;
  it->label_loc = label_loc;
  it->body = inner->head;
  it->has_body = true;
  body_add(b, it);
  return it;
}

/* ---- expressions -------------------------------------------------------- */

static mres *mf_find(apx_mf *M, const char *name) {
  size_t *i = apx_map_str(&M->index, name, false);
  return i ? &M->res[*i] : NULL;
}

static void mf_unknown_resource(apx_mf *M, const char *name, apx_loc loc, const mv *in) {
  const char **cands = malloc(sizeof *cands * (M->nres + 1));
  if (!cands) abort();
  for (size_t i = 0; i < M->nres; i++) cands[i] = M->res[i].name;
  const char *s = apx_suggest(name, cands, M->nres);
  apx_diagnostic *d = apx_error(M->diag, loc, "unknown resource '%s' in an expression (at %s)", name, mv_ptr(M, in));
  if (s) apx_diag_hint(M->diag, d, "did you mean '%s'?", s);
  free(cands);
}

enum { MF_MAX_SEGS = 8 };

/* One `{a.b.c}` found in a string: decoded segments and where each is. */
typedef struct mexpr {
  const char *seg[MF_MAX_SEGS];
  apx_loc segloc[MF_MAX_SEGS];
  size_t nseg;
  apx_loc loc;
} mexpr;

static apx_ast_expr *mf_expr(apx_mf *M, const mexpr *x, const mv *in, const mres *self, bool in_param_value,
                             apx_ast_expr **second);

/* The inner reference of an annotated.string: its `value`, one expression or
 * plain text. */
static apx_ast_expr *mf_annotated_inner(apx_mf *M, const mres *a, const mexpr *use, const mv *in);

static bool mf_is_segchar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Splits the string value v into text and expressions. `emit` (may be NULL
 * for the cycle search) receives each expression; text goes to the parts. */
typedef struct mstr {
  apx_buf dec;
  uint32_t *raw; /* raw offset of each decoded byte, and of the end */
} mstr;

static void mstr_decode(apx_mf *M, const mv *v, mstr *s) {
  const char *t = M->t;
  size_t n = v->end > 0 ? v->end - 1 : 0; /* the closing quote */
  memset(s, 0, sizeof *s);
  size_t cap = 16;
  s->raw = malloc(sizeof *s->raw * cap);
  if (!s->raw) abort();
  for (size_t i = v->off + 1; i < n;) {
    size_t before = s->dec.len, start = i;
    if (t[i] == '\\') {
      apx_buf piece = {0};
      size_t j = i + 1;
      if (t[j] == 'u') {
        j += 5;
        if (j + 5 < n + 1 && t[j] == '\\' && t[j + 1] == 'u') {
          unsigned hi = (unsigned)strtoul((char[]){t[i + 2], t[i + 3], t[i + 4], t[i + 5], 0}, NULL, 16);
          if (hi >= 0xD800 && hi < 0xDC00) j += 6;
        }
      } else {
        j++;
      }
      /* Decode just this escape with the locator's decoder. */
      apx_buf quoted = {0};
      apx_buf_putc(&quoted, '"');
      apx_buf_append(&quoted, t + i, j - i);
      apx_buf_putc(&quoted, '"');
      jl_decode(apx_buf_str(&quoted), quoted.len, 0, &piece);
      apx_buf_append(&s->dec, apx_buf_str(&piece), piece.len);
      apx_buf_free(&piece);
      apx_buf_free(&quoted);
      i = j;
    } else {
      apx_buf_putc(&s->dec, t[i]);
      i++;
    }
    while (cap < s->dec.len + 2) {
      cap *= 2;
      s->raw = realloc(s->raw, sizeof *s->raw * cap);
      if (!s->raw) abort();
    }
    for (size_t k = before; k < s->dec.len; k++) s->raw[k] = (uint32_t)start;
  }
  if (cap < s->dec.len + 1) {
    s->raw = realloc(s->raw, sizeof *s->raw * (s->dec.len + 1));
    if (!s->raw) abort();
  }
  s->raw[s->dec.len] = n;
}

static void mstr_free(mstr *s) {
  apx_buf_free(&s->dec);
  free(s->raw);
}

/* Finds the expression starting at decoded index i ('{'); returns its end
 * (after '}') or 0 when this brace is plain text. */
static size_t mf_scan_expr(apx_mf *M, const mstr *s, size_t i, mexpr *x, const mv *in, bool *bad) {
  const char *d = apx_buf_str((apx_buf *)&s->dec);
  size_t n = s->dec.len, j = i + 1;
  while (j < n && (mf_is_segchar(d[j]) || d[j] == '.')) j++;
  if (j >= n || d[j] != '}' || j == i + 1 || !memchr(d + i + 1, '.', j - i - 1)) return 0;
  memset(x, 0, sizeof *x);
  x->loc = mf_loc(M, s->raw[i], s->raw[j] + 1);
  size_t a = i + 1;
  while (a <= j) {
    size_t b = a;
    while (b < j && d[b] != '.') b++;
    if (b == a || x->nseg == MF_MAX_SEGS) {
      if (!M->collecting)
        apx_error(M->diag, x->loc, "malformed expression '%.*s' (at %s)", (int)(j + 1 - i), d + i, mv_ptr(M, in));
      *bad = true;
      return j + 1;
    }
    x->seg[x->nseg] = apx_arena_strndup(M->arena, d + a, b - a);
    x->segloc[x->nseg] = mf_loc(M, s->raw[a], s->raw[b]);
    x->nseg++;
    a = b + 1;
  }
  return j + 1;
}

static void mf_edge(apx_mf *M, const mres *to, apx_loc loc) {
  medge e = {M->collect_from, (size_t)(to - M->res), loc};
  APX_VEC_PUSH(M->arena, M->edges, M->nedges, M->capedges, e);
}

/* A string value into an APX_EX_STRING of text and references. */
static apx_ast_expr *mf_string(apx_mf *M, const mv *v, const mres *self, bool in_param_value) {
  if (!cJSON_IsString(v->j)) {
    mf_error(M, v, "'%s' must be a string, not %s", v->j->string ? v->j->string : "value", mv_kind(v->j));
    return NULL;
  }
  mstr s;
  mstr_decode(M, v, &s);
  apx_ast_expr *e = ex_new(M, APX_EX_STRING, mv_loc(M, v));
  apx_ast_strpart **tail = &e->u.str.parts;
  const char *d = apx_buf_str(&s.dec);
  size_t text_from = 0;
  bool bad = false;
#define FLUSH(upto)                                                          \
  do {                                                                       \
    if ((upto) > text_from) {                                                \
      apx_ast_strpart *p = APX_NEW(M->nodes, apx_ast_strpart);               \
      p->text = apx_arena_strndup(M->arena, d + text_from, (upto) - text_from); \
      p->len = (upto) - text_from;                                           \
      *tail = p;                                                             \
      tail = &p->next;                                                       \
    }                                                                        \
  } while (0)
  for (size_t i = 0; i < s.dec.len; i++) {
    if (d[i] != '{') continue;
    mexpr x;
    size_t end = mf_scan_expr(M, &s, i, &x, v, &bad);
    if (!end) continue;
    FLUSH(i);
    text_from = end;
    if (bad) break;
    apx_ast_expr *second = NULL;
    apx_ast_expr *r = mf_expr(M, &x, v, self, in_param_value, &second);
    if (!r) {
      bad = true;
      i = end - 1;
      continue;
    }
    apx_ast_strpart *p = APX_NEW(M->nodes, apx_ast_strpart);
    p->expr = r;
    *tail = p;
    tail = &p->next;
    if (second) { /* hostAndPort: host, ':', port */
      apx_ast_strpart *c = APX_NEW(M->nodes, apx_ast_strpart);
      c->text = ":";
      c->len = 1;
      *tail = c;
      tail = &c->next;
      apx_ast_strpart *q = APX_NEW(M->nodes, apx_ast_strpart);
      q->expr = second;
      *tail = q;
      tail = &q->next;
    }
    i = end - 1;
  }
  FLUSH(s.dec.len);
#undef FLUSH
  mstr_free(&s);
  return bad ? NULL : e;
}

/* The expression `x` into a reference. Errors name the resource, binding or
 * property and suggest one. */
static apx_ast_expr *mf_expr(apx_mf *M, const mexpr *x, const mv *in, const mres *self, bool in_param_value,
                             apx_ast_expr **second) {
  const char *name = x->seg[0];
  mres *r = mf_find(M, name);
  if (!r) {
    if (!M->collecting) mf_unknown_resource(M, name, x->segloc[0], in);
    return NULL;
  }
  const char *prop = x->seg[1];
  if (M->collecting) { /* only what a connection string or value depends on */
    if (x->nseg == 2 && (strcmp(prop, "connectionString") == 0 || strcmp(prop, "value") == 0)) mf_edge(M, r, x->loc);
    return NULL;
  }
  if (r->cat == MR_SKIP) {
    apx_diagnostic *d = apx_error(M->diag, x->segloc[0], "'%s' is an %s resource, which aspirec does not read (at %s)",
                                  name, r->type, mv_ptr(M, in));
    apx_diag_hint(M->diag, d, "replace it with a parameter.v0 that holds the value, or drop the reference");
    return NULL;
  }
  const char *segs[4];
  apx_loc locs[4];
  segs[0] = name;
  locs[0] = x->segloc[0];
  if (x->nseg == 2 && strcmp(prop, "connectionString") == 0) {
    if (r->cat == MR_PARAM) { /* a connection string parameter (AddConnectionString) */
      segs[1] = "value";
    } else if (!r->has_cs) {
      apx_error(M->diag, x->segloc[1], "'%s' has no connectionString (at %s)", name, mv_ptr(M, in));
      return NULL;
    } else {
      segs[1] = "connection_string";
    }
    locs[1] = x->segloc[1];
    return ex_ref(M, segs, locs, 2, x->loc);
  }
  if (x->nseg == 2 && strcmp(prop, "value") == 0) {
    if (r->cat == MR_ANNOTATED) return mf_annotated_inner(M, r, x, in);
    if (r->cat != MR_PARAM) {
      apx_error(M->diag, x->segloc[1], "'%s' (%s) has no value: only parameter.v0 and annotated.string do (at %s)",
                name, r->type, mv_ptr(M, in));
      return NULL;
    }
    segs[1] = "value";
    locs[1] = x->segloc[1];
    return ex_ref(M, segs, locs, 2, x->loc);
  }
  if (x->nseg == 3 && strcmp(prop, "inputs") == 0 && strcmp(x->seg[2], "value") == 0 && r->cat == MR_PARAM) {
    if (!in_param_value || self != r) {
      apx_diagnostic *d = apx_error(M->diag, x->loc, "{%s.inputs.value} is only the value of '%s' itself (at %s)",
                                    name, name, mv_ptr(M, in));
      apx_diag_hint(M->diag, d, "refer to the parameter as {%s.value}", name);
      return NULL;
    }
    /* mf_param takes the exact form; inside more text it is not a value. */
    apx_error(M->diag, x->loc, "{%s.inputs.value} must be the whole value of '%s' (at %s)", name, name, mv_ptr(M, in));
    return NULL;
  }
  if (x->nseg == 4 && strcmp(prop, "bindings") == 0) {
    mv bindings, b;
    const char *bn = x->seg[2];
    if (!mv_get(M, &r->v, "bindings", &bindings) || !cJSON_IsObject(bindings.j) || !mv_get(M, &bindings, bn, &b)) {
      const char *cands[16];
      size_t nc = 0;
      if (mv_get(M, &r->v, "bindings", &bindings) && cJSON_IsObject(bindings.j))
        for (const cJSON *c = bindings.j->child; c && nc < 16; c = c->next) cands[nc++] = c->string;
      apx_diagnostic *d = apx_error(M->diag, x->segloc[2], "'%s' has no binding '%s' (at %s)", name, bn, mv_ptr(M, in));
      const char *s = apx_suggest(bn, cands, nc);
      if (s) apx_diag_hint(M->diag, d, "did you mean '%s'?", s);
      else if (!nc) apx_diag_hint(M->diag, d, "'%s' has no bindings", name);
      return NULL;
    }
    static const struct { const char *aspire, *apx; } props[] = {
        {"url", "url"}, {"host", "host"}, {"port", "port"}, {"targetPort", "target_port"}, {"scheme", "scheme"},
        {"hostAndPort", "host"}};
    const char *q = x->seg[3];
    for (size_t i = 0; i < sizeof props / sizeof props[0]; i++) {
      if (strcmp(props[i].aspire, q) != 0) continue;
      segs[1] = "endpoints";
      segs[2] = bn;
      segs[3] = props[i].apx;
      locs[1] = x->segloc[1];
      locs[2] = x->segloc[2];
      locs[3] = x->segloc[3];
      if (strcmp(q, "hostAndPort") == 0) {
        segs[3] = "port";
        *second = ex_ref(M, segs, locs, 4, x->loc);
        segs[3] = "host";
      }
      return ex_ref(M, segs, locs, 4, x->loc);
    }
    const char *cands[] = {"url", "host", "port", "targetPort", "scheme", "hostAndPort"};
    apx_diagnostic *d = apx_error(M->diag, x->segloc[3], "unknown binding property '%s' (at %s)", q, mv_ptr(M, in));
    const char *s = apx_suggest(q, cands, 6);
    apx_diag_hint(M->diag, d, s ? "did you mean '%s'?" : "%s",
                  s ? s : "a binding has url, host, port, targetPort, scheme and hostAndPort");
    return NULL;
  }
  apx_diagnostic *d = apx_error(M->diag, x->loc, "unknown expression: '%s' has no property '%s%s%s' (at %s)", name,
                                prop, x->nseg > 2 ? "." : "", x->nseg > 2 ? x->seg[2] : "", mv_ptr(M, in));
  apx_diag_hint(M->diag, d, "expressions are {r.connectionString}, {p.value}, {p.inputs.value} and "
                            "{r.bindings.NAME.url} (or .host, .port, .targetPort, .scheme)");
  return NULL;
}

static apx_ast_expr *mf_annotated_inner(apx_mf *M, const mres *a, const mexpr *use, const mv *in) {
  mv val;
  if (!mv_get(M, &a->v, "value", &val)) return NULL; /* reported with the resource */
  if (M->in_annotated) { /* its value is read once, never through another */
    apx_error(M->diag, use->loc, "the value of an annotated.string cannot be another annotated.string (at %s)", mv_ptr(M, in));
    return NULL;
  }
  M->in_annotated = true;
  apx_ast_expr *s = mf_string(M, &val, a, false);
  M->in_annotated = false;
  if (!s) return NULL;
  apx_ast_expr *arg = s;
  if (s->u.str.parts && !s->u.str.parts->next && s->u.str.parts->expr) arg = s->u.str.parts->expr;
  else if (s->u.str.parts && s->u.str.parts->next) {
    apx_error(M->diag, use->loc, "annotated.string '%s' must hold one expression or plain text (at %s)", a->name,
              mv_ptr(M, in));
    return NULL;
  }
  apx_ast_expr *call = ex_new(M, APX_EX_CALL, use->loc);
  call->u.call.name = "urlencode"; /* the "uri" filter: Uri.EscapeDataString */
  call->u.call.name_loc = use->loc;
  call->u.call.args = arg;
  return call;
}

/* ---- resources ---------------------------------------------------------- */

static void mf_unknown_keys(apx_mf *M, const mv *o, const char *const *known) {
  mv_iter it = mv_iter_start(M, o);
  mv c;
  while (mv_iter_next(&it, &c)) {
    bool ok = false;
    for (const char *const *k = known; *k && !ok; k++) ok = strcmp(*k, c.j->string) == 0;
    if (ok) continue;
    mv key = c;
    key.off = c.key_off;
    key.end = c.key_end;
    mf_warn(M, &key, "'%s' is not a property aspirec reads: ignored", c.j->string);
  }
}

/* A string to plain text (no expressions allowed): a path, a name. */
static const char *mf_plain(apx_mf *M, const mv *v) {
  if (!cJSON_IsString(v->j)) {
    mf_error(M, v, "'%s' must be a string, not %s", v->j->string ? v->j->string : "value", mv_kind(v->j));
    return NULL;
  }
  return v->j->valuestring;
}

static void mf_env(apx_mf *M, body *b, const mres *r, const mv *env) {
  if (!cJSON_IsObject(env->j)) {
    mf_error(M, env, "'env' must be an object of strings, not %s", mv_kind(env->j));
    return;
  }
  body inner;
  body_init(&inner);
  mv_iter it = mv_iter_start(M, env);
  mv c;
  while (mv_iter_next(&it, &c)) {
    apx_ast_expr *v = mf_string(M, &c, r, false);
    if (!v) continue;
    apx_ast_item *a = it_new(M, APX_ITEM_ATTR, c.j->string, mf_loc(M, c.key_off, c.end));
    a->name_loc = mf_loc(M, c.key_off, c.key_end);
    a->name_quoted = true;
    a->value = v;
    body_add(&inner, a);
  }
  body_block(M, b, "env", NULL, mv_loc(M, env), mv_loc(M, env), &inner);
}

static void mf_args(apx_mf *M, body *b, const mres *r, const mv *args, const char *attr, const char *const *prefix,
                    size_t nprefix) {
  if (args && !cJSON_IsArray(args->j)) {
    mf_error(M, args, "'%s' must be an array of strings, not %s", args->j->string, mv_kind(args->j));
    return;
  }
  apx_loc loc = args ? mv_loc(M, args) : mf_loc(M, r->v.off, r->v.off);
  apx_ast_expr *list = ex_new(M, APX_EX_LIST, loc);
  apx_ast_expr **tail = &list->u.items;
  for (size_t i = 0; i < nprefix; i++) {
    *tail = ex_text(M, prefix[i], loc);
    tail = &(*tail)->next;
  }
  if (args) {
    mv_iter it = mv_iter_start(M, args);
    mv c;
    while (mv_iter_next(&it, &c)) {
      apx_ast_expr *v = mf_string(M, &c, r, false);
      if (!v) continue;
      *tail = v;
      tail = &v->next;
    }
  }
  body_attr(M, b, attr, list, loc);
}

static void mf_bindings(apx_mf *M, body *b, const mv *bs) {
  if (!cJSON_IsObject(bs->j)) {
    mf_error(M, bs, "'bindings' must be an object, not %s", mv_kind(bs->j));
    return;
  }
  mv_iter it = mv_iter_start(M, bs);
  mv c;
  while (mv_iter_next(&it, &c)) {
    if (!cJSON_IsObject(c.j)) {
      mf_error(M, &c, "a binding must be an object, not %s", mv_kind(c.j));
      continue;
    }
    static const char *const known[] = {"scheme", "protocol", "transport", "targetPort", "port", "external", NULL};
    mf_unknown_keys(M, &c, known);
    body inner;
    body_init(&inner);
    mv f;
    if (mv_get(M, &c, "scheme", &f)) {
      const char *s = mf_plain(M, &f);
      if (s) body_attr(M, &inner, "scheme", ex_text(M, s, mv_loc(M, &f)), mv_loc(M, &f));
    }
    if (mv_get(M, &c, "protocol", &f)) {
      const char *s = mf_plain(M, &f);
      if (s && strcmp(s, "tcp") != 0 && strcmp(s, "udp") != 0) mf_error(M, &f, "'protocol' must be \"tcp\" or \"udp\"");
      else if (s) body_attr(M, &inner, "protocol", ex_text(M, s, mv_loc(M, &f)), mv_loc(M, &f));
    }
    if (mv_get(M, &c, "transport", &f)) {
      const char *s = mf_plain(M, &f);
      if (s && strcmp(s, "http") != 0 && strcmp(s, "http2") != 0 && strcmp(s, "tcp") != 0)
        mf_error(M, &f, "'transport' must be \"http\", \"http2\" or \"tcp\"");
    }
    static const char *const ports[][2] = {{"port", "port"}, {"targetPort", "target_port"}};
    for (size_t i = 0; i < 2; i++) {
      if (!mv_get(M, &c, ports[i][0], &f)) continue;
      if (!cJSON_IsNumber(f.j) || f.j->valuedouble != (double)(int)f.j->valuedouble || f.j->valuedouble < 1 ||
          f.j->valuedouble > 65535) {
        mf_error(M, &f, "'%s' must be a port number from 1 to 65535", ports[i][0]);
        continue;
      }
      apx_ast_expr *e = ex_new(M, APX_EX_INT, mv_loc(M, &f));
      e->u.i = f.j->valueint;
      body_attr(M, &inner, ports[i][1], e, mv_loc(M, &f));
    }
    if (mv_get(M, &c, "external", &f) && mv_want(M, &f, mf_is_bool, "a boolean")) {
      apx_ast_expr *e = ex_new(M, APX_EX_BOOL, mv_loc(M, &f));
      e->u.b = cJSON_IsTrue(f.j);
      body_attr(M, &inner, "external", e, mv_loc(M, &f));
    }
    body_block(M, b, "endpoint", c.j->string, mf_loc(M, c.key_off, c.end), mf_loc(M, c.key_off, c.key_end), &inner);
  }
}

/* volumes and bindMounts: arrays of {name|source, target, readOnly}. */
static void mf_mounts(apx_mf *M, body *b, const mres *r, const mv *list, bool bind) {
  if (!cJSON_IsArray(list->j)) {
    mf_error(M, list, "'%s' must be an array, not %s", list->j->string, mv_kind(list->j));
    return;
  }
  mv_iter it = mv_iter_start(M, list);
  mv c;
  while (mv_iter_next(&it, &c)) {
    if (!cJSON_IsObject(c.j)) {
      mf_error(M, &c, "a %s must be an object, not %s", bind ? "bind mount" : "volume", mv_kind(c.j));
      continue;
    }
    static const char *const kv[] = {"name", "target", "readOnly", NULL}, *const kb[] = {"source", "target", "readOnly", NULL};
    mf_unknown_keys(M, &c, bind ? kb : kv);
    body inner;
    body_init(&inner);
    mv f;
    const char *label = NULL;
    apx_loc label_loc = mv_loc(M, &c);
    if (mv_get(M, &c, bind ? "source" : "name", &f)) {
      const char *s = mf_plain(M, &f);
      if (s && bind) body_attr(M, &inner, "source", ex_text(M, s, mv_loc(M, &f)), mv_loc(M, &f));
      /* Volume names are global in Aspire ("postgres-data"); .apx names a
       * volume within its resource, and targets prefix the resource's name. */
      size_t rl = strlen(r->name);
      label = s && !bind && strncmp(s, r->name, rl) == 0 && s[rl] == '-' && s[rl + 1] ? s + rl + 1 : s;
      label_loc = mv_loc(M, &f);
    } else {
      mf_error(M, &c, "a %s needs '%s'", bind ? "bind mount" : "volume", bind ? "source" : "name");
      continue;
    }
    if (mv_get(M, &c, "target", &f)) {
      const char *s = mf_plain(M, &f);
      if (s) body_attr(M, &inner, "target", ex_text(M, s, mv_loc(M, &f)), mv_loc(M, &f));
    } else {
      mf_error(M, &c, "a %s needs 'target'", bind ? "bind mount" : "volume");
      continue;
    }
    if (mv_get(M, &c, "readOnly", &f) && mv_want(M, &f, mf_is_bool, "a boolean")) {
      apx_ast_expr *e = ex_new(M, APX_EX_BOOL, mv_loc(M, &f));
      e->u.b = cJSON_IsTrue(f.j);
      body_attr(M, &inner, "readonly", e, mv_loc(M, &f));
    }
    if (!label) continue;
    body_block(M, b, bind ? "bind" : "volume", bind ? NULL : label, mv_loc(M, &c), label_loc, &inner);
  }
}

static void mf_string_attr(apx_mf *M, body *b, const mres *r, const char *key, const char *attr) {
  mv f;
  if (!mv_get(M, &r->v, key, &f)) return;
  apx_ast_expr *e = mf_string(M, &f, r, false);
  if (e) body_attr(M, b, attr, e, mv_loc(M, &f));
}

/* build: context and dockerfile relative to the manifest; .apx reads the
 * Dockerfile relative to the context (as Compose), so it is made relative
 * to it ("../docker/api.Dockerfile" when outside it). */
static void mf_build(apx_mf *M, body *b, const mres *r, const mv *ctx, const mv *df, const mv *args, const mv *stage) {
  body inner;
  body_init(&inner);
  const char *c = mf_plain(M, ctx);
  if (!c) return;
  body_attr(M, &inner, "context", ex_text(M, c, mv_loc(M, ctx)), mv_loc(M, ctx));
  if (df) {
    const char *d = mf_plain(M, df);
    if (!d) return;
    apx_buf rel = {0};
    apx_path_relative(apx_path_join(M->arena, M->dir, c), apx_path_join(M->arena, M->dir, d), false, &rel);
    if (strcmp(apx_buf_str(&rel), "Dockerfile") != 0)
      body_attr(M, &inner, "dockerfile", ex_text(M, apx_buf_str(&rel), mv_loc(M, df)), mv_loc(M, df));
    apx_buf_free(&rel);
  }
  if (stage) {
    const char *s = mf_plain(M, stage);
    if (s) body_attr(M, &inner, "target", ex_text(M, s, mv_loc(M, stage)), mv_loc(M, stage));
  }
  if (args) {
    if (!cJSON_IsObject(args->j)) {
      mf_error(M, args, "build arguments must be an object of strings, not %s", mv_kind(args->j));
    } else {
      apx_ast_expr *map = ex_new(M, APX_EX_MAP, mv_loc(M, args));
      apx_ast_item **tail = &map->u.entries;
      mv_iter it = mv_iter_start(M, args);
      mv a;
      while (mv_iter_next(&it, &a)) {
        apx_ast_expr *v = mf_string(M, &a, r, false);
        if (!v) continue;
        apx_ast_item *e = it_new(M, APX_ITEM_ATTR, a.j->string, mf_loc(M, a.key_off, a.end));
        e->name_loc = mf_loc(M, a.key_off, a.key_end);
        e->name_quoted = true;
        e->value = v;
        *tail = e;
        tail = &e->next;
      }
      body_attr(M, &inner, "args", map, mv_loc(M, args));
    }
  }
  body_block(M, b, "build", NULL, mv_loc(M, ctx), mv_loc(M, ctx), &inner);
}

static void mf_common(apx_mf *M, body *b, const mres *r) {
  mv f;
  if (mv_get(M, &r->v, "args", &f)) mf_args(M, b, r, &f, "args", NULL, 0);
  if (mv_get(M, &r->v, "env", &f)) mf_env(M, b, r, &f);
  if (mv_get(M, &r->v, "bindings", &f)) mf_bindings(M, b, &f);
}

static const char *const mf_known_container[] = {"type", "image", "entrypoint", "args", "connectionString", "env",
                                                  "bindings", "bindMounts", "volumes", "build", "deployment",
                                                  "containerFiles", NULL};

static void mf_container(apx_mf *M, body *b, mres *r) {
  mv f, g;
  mf_unknown_keys(M, &r->v, mf_known_container);
  if (r->stdlib && strcmp(r->stdlib, "postgres") == 0) {
    const char *segs[2] = {r->pw_param, "value"};
    mv env, pw;
    mv_get(M, &r->v, "env", &env);
    mv_get(M, &env, "POSTGRES_PASSWORD", &pw);
    apx_loc locs[2] = {mv_loc(M, &pw), mv_loc(M, &pw)};
    body_attr(M, b, "password", ex_ref(M, segs, locs, 2, mv_loc(M, &pw)), mv_loc(M, &pw));
    mv user;
    if (mv_get(M, &env, "POSTGRES_USER", &user) && cJSON_IsString(user.j) && !strchr(user.j->valuestring, '{'))
      body_attr(M, b, "username", ex_text(M, user.j->valuestring, mv_loc(M, &user)), mv_loc(M, &user));
  }
  if (mv_get(M, &r->v, "image", &f)) mf_string_attr(M, b, r, "image", "image");
  if (mv_get(M, &r->v, "build", &f)) {
    if (strcmp(r->type, "container.v0") == 0) {
      mf_error(M, &f, "container.v0 has no 'build': write container.v1");
    } else if (!cJSON_IsObject(f.j)) {
      mf_error(M, &f, "'build' must be an object, not %s", mv_kind(f.j));
    } else {
      static const char *const known[] = {"context", "dockerfile", "stage", "buildOnly", "args", "secrets", NULL};
      mf_unknown_keys(M, &f, known);
      mv ctx, df, args, stage;
      bool has_df = mv_get(M, &f, "dockerfile", &df), has_args = mv_get(M, &f, "args", &args),
           has_stage = mv_get(M, &f, "stage", &stage);
      if (mv_get(M, &f, "secrets", &g)) mf_warn(M, &g, "build secrets are not passed to the build: ignored");
      if (mv_get(M, &f, "buildOnly", &g) && cJSON_IsTrue(g.j))
        mf_warn(M, &g, "a build-only container is built and run like any other");
      if (!mv_get(M, &f, "context", &ctx)) mf_error(M, &f, "'build' needs 'context'");
      else mf_build(M, b, r, &ctx, has_df ? &df : NULL, has_args ? &args : NULL, has_stage ? &stage : NULL);
    }
  }
  if (!mv_get(M, &r->v, "image", &f) && !mv_get(M, &r->v, "build", &g))
    mf_error(M, &r->v, "%s '%s' needs 'image'%s", r->type, r->name, strcmp(r->type, "container.v1") == 0 ? " or 'build'" : "");
  if (mv_get(M, &r->v, "entrypoint", &f)) {
    apx_ast_expr *e = mf_string(M, &f, r, false);
    if (e) {
      apx_ast_expr *list = ex_new(M, APX_EX_LIST, mv_loc(M, &f));
      list->u.items = e;
      body_attr(M, b, "entrypoint", list, mv_loc(M, &f));
    }
  }
  mf_common(M, b, r);
  if (mv_get(M, &r->v, "volumes", &f)) mf_mounts(M, b, r, &f, false);
  if (mv_get(M, &r->v, "bindMounts", &f)) mf_mounts(M, b, r, &f, true);
  mf_string_attr(M, b, r, "connectionString", "connection_string");
  if (mv_get(M, &r->v, "deployment", &f)) mf_warn(M, &f, "'deployment' is Azure's: ignored");
  if (mv_get(M, &r->v, "containerFiles", &f)) mf_warn(M, &f, "containerFiles are not copied: ignored");
}

static void mf_dockerfile(apx_mf *M, body *b, mres *r) {
  static const char *const known[] = {"type", "path", "context", "env", "bindings", "buildArgs", NULL};
  mf_unknown_keys(M, &r->v, known);
  mv path, ctx, args;
  bool ok = true;
  if (!mv_get(M, &r->v, "path", &path)) ok = false, mf_error(M, &r->v, "dockerfile.v0 '%s' needs 'path'", r->name);
  if (!mv_get(M, &r->v, "context", &ctx)) ok = false, mf_error(M, &r->v, "dockerfile.v0 '%s' needs 'context'", r->name);
  if (ok) mf_build(M, b, r, &ctx, &path, mv_get(M, &r->v, "buildArgs", &args) ? &args : NULL, NULL);
  mv f;
  if (mv_get(M, &r->v, "env", &f)) mf_env(M, b, r, &f);
  if (mv_get(M, &r->v, "bindings", &f)) mf_bindings(M, b, &f);
}

/* project.v0/v1: `dotnet run --project PATH`, from the manifest's directory
 * (no launch profile: the ports come from the bindings' variables). */
static void mf_project(apx_mf *M, body *b, mres *r) {
  static const char *const known[] = {"type", "path", "args", "env", "bindings", "deployment", "containerFiles", NULL};
  mf_unknown_keys(M, &r->v, known);
  mv path, f;
  if (!mv_get(M, &r->v, "path", &path)) {
    mf_error(M, &r->v, "%s '%s' needs 'path' (its .csproj)", r->type, r->name);
    return;
  }
  const char *p = mf_plain(M, &path);
  if (!p) return;
  body_attr(M, b, "command", ex_text(M, "dotnet", mv_loc(M, &path)), mv_loc(M, &path));
  const char *prefix[] = {"run", "--project", p, "--no-launch-profile", "--"};
  bool has_args = mv_get(M, &r->v, "args", &f);
  mf_args(M, b, r, has_args ? &f : NULL, "args", prefix, has_args ? 5 : 4);
  if (mv_get(M, &r->v, "env", &f)) mf_env(M, b, r, &f);
  if (mv_get(M, &r->v, "bindings", &f)) mf_bindings(M, b, &f);
  if (mv_get(M, &r->v, "deployment", &f)) mf_warn(M, &f, "'deployment' is Azure's: ignored");
  if (mv_get(M, &r->v, "containerFiles", &f)) mf_warn(M, &f, "containerFiles are not copied: ignored");
}

static void mf_executable(apx_mf *M, body *b, mres *r) {
  static const char *const known[] = {"type", "command", "workingDirectory", "args", "env", "bindings", "containerFiles", NULL};
  mf_unknown_keys(M, &r->v, known);
  mv f;
  if (!mv_get(M, &r->v, "command", &f)) mf_error(M, &r->v, "executable.v0 '%s' needs 'command'", r->name);
  else mf_string_attr(M, b, r, "command", "command");
  if (mv_get(M, &r->v, "workingDirectory", &f)) {
    const char *w = mf_plain(M, &f);
    if (w) body_attr(M, b, "workdir", ex_text(M, *w ? w : ".", mv_loc(M, &f)), mv_loc(M, &f));
  }
  mf_common(M, b, r);
  if (mv_get(M, &r->v, "containerFiles", &f)) mf_warn(M, &f, "containerFiles are not copied: ignored");
}

static void mf_bool_attr(apx_mf *M, body *b, const char *name, bool v, apx_loc loc) {
  apx_ast_expr *e = ex_new(M, APX_EX_BOOL, loc);
  e->u.b = v;
  body_attr(M, b, name, e, loc);
}

static void mf_int_attr(apx_mf *M, apx_ast_item ***tail, const char *name, int64_t v, apx_loc loc) {
  apx_ast_expr *e = ex_new(M, APX_EX_INT, loc);
  e->u.i = v;
  apx_ast_item *it = it_new(M, APX_ITEM_ATTR, name, loc);
  it->value = e;
  **tail = it;
  *tail = &it->next;
}

/* generate: Aspire's options (all character classes allowed unless said). */
static void mf_generate(apx_mf *M, body *b, const mv *g) {
  static const char *const known[] = {"minLength", "lower", "upper", "numeric", "special",
                                      "minLower", "minUpper", "minNumeric", "minSpecial", NULL};
  static const char *const apx[] = {"length", "lower", "upper", "numeric", "special",
                                    "min_lower", "min_upper", "min_numeric", "min_special"};
  if (!cJSON_IsObject(g->j)) {
    mf_error(M, g, "'generate' must be an object, not %s", mv_kind(g->j));
    return;
  }
  mf_unknown_keys(M, g, known);
  apx_ast_expr *map = ex_new(M, APX_EX_MAP, mv_loc(M, g));
  apx_ast_item **tail = &map->u.entries;
  mv f;
  if (!mv_get(M, g, "minLength", &f)) mf_error(M, g, "'generate' needs 'minLength'");
  for (size_t i = 0; i < 9; i++) {
    bool flag = i >= 1 && i <= 4;
    if (!mv_get(M, g, known[i], &f)) {
      if (flag) { /* Aspire's default: allowed */
        apx_ast_expr *e = ex_new(M, APX_EX_BOOL, mv_loc(M, g));
        e->u.b = true;
        apx_ast_item *it = it_new(M, APX_ITEM_ATTR, apx[i], mv_loc(M, g));
        it->value = e;
        *tail = it;
        tail = &it->next;
      }
      continue;
    }
    if (flag) {
      if (!mv_want(M, &f, mf_is_bool, "a boolean")) continue;
      apx_ast_expr *e = ex_new(M, APX_EX_BOOL, mv_loc(M, &f));
      e->u.b = cJSON_IsTrue(f.j);
      apx_ast_item *it = it_new(M, APX_ITEM_ATTR, apx[i], mv_loc(M, &f));
      it->value = e;
      *tail = it;
      tail = &it->next;
    } else {
      if (!cJSON_IsNumber(f.j) || f.j->valuedouble != (double)(int)f.j->valuedouble || f.j->valuedouble < 0 ||
          f.j->valuedouble > 4096) {
        mf_error(M, &f, "'%s' must be a whole number from 0 to 4096", known[i]);
        continue;
      }
      mf_int_attr(M, &tail, apx[i], f.j->valueint, mv_loc(M, &f));
    }
  }
  body_attr(M, b, "generate", map, mv_loc(M, g));
}

static void mf_param(apx_mf *M, body *b, mres *r) {
  static const char *const known[] = {"type", "value", "connectionString", "inputs", NULL};
  mf_unknown_keys(M, &r->v, known);
  mv val, inputs, in, f;
  if (!mv_get(M, &r->v, "value", &val)) {
    mf_error(M, &r->v, "parameter.v0 '%s' needs 'value'", r->name);
    return;
  }
  if (!cJSON_IsString(val.j)) {
    mf_error(M, &val, "'value' must be a string, not %s", mv_kind(val.j));
    return;
  }
  const char *want = apx_arena_printf(M->arena, "{%s.inputs.value}", r->name);
  bool from_input = strcmp(val.j->valuestring, want) == 0;
  if (!from_input) {
    /* Plain text is the parameter's default; anything else is not a value
     * a deployment tool asks for. */
    if (strchr(val.j->valuestring, '{')) {
      apx_ast_expr *e = mf_string(M, &val, r, true);
      if (e) {
        apx_diagnostic *d = mf_error(M, &val, "the value of parameter '%s' must be %s or plain text", r->name, want);
        apx_diag_hint(M->diag, d, "a value computed from other resources is a value.v0's connectionString");
      }
      return;
    }
    body_attr(M, b, "default", ex_text(M, val.j->valuestring, mv_loc(M, &val)), mv_loc(M, &val));
  }
  if (mv_get(M, &r->v, "connectionString", &f)) {
    const char *cs = cJSON_IsString(f.j) ? f.j->valuestring : "";
    if (strcmp(cs, apx_arena_printf(M->arena, "{%s.value}", r->name)) != 0)
      mf_error(M, &f, "the connectionString of parameter '%s' must be {%s.value}", r->name, r->name);
  }
  if (!mv_get(M, &r->v, "inputs", &inputs)) {
    if (from_input) mf_error(M, &val, "'%s' names an input, but '%s' has no 'inputs'", want, r->name);
    return;
  }
  if (!cJSON_IsObject(inputs.j)) {
    mf_error(M, &inputs, "'inputs' must be an object, not %s", mv_kind(inputs.j));
    return;
  }
  mv_iter it = mv_iter_start(M, &inputs);
  while (mv_iter_next(&it, &f))
    if (strcmp(f.j->string, "value") != 0) mf_warn(M, &f, "only the input 'value' is read: '%s' ignored", f.j->string);
  if (!mv_get(M, &inputs, "value", &in)) {
    if (from_input) mf_error(M, &inputs, "'%s' has no input 'value'", r->name);
    return;
  }
  if (!cJSON_IsObject(in.j)) {
    mf_error(M, &in, "an input must be an object, not %s", mv_kind(in.j));
    return;
  }
  static const char *const kin[] = {"type", "secret", "default", NULL};
  mf_unknown_keys(M, &in, kin);
  if (mv_get(M, &in, "type", &f) && (!cJSON_IsString(f.j) || strcmp(f.j->valuestring, "string") != 0))
    mf_error(M, &f, "an input's 'type' must be \"string\"");
  if (mv_get(M, &in, "secret", &f) && mv_want(M, &f, mf_is_bool, "a boolean") && cJSON_IsTrue(f.j))
    mf_bool_attr(M, b, "secret", true, mv_loc(M, &f));
  if (mv_get(M, &in, "default", &f)) {
    mv g;
    if (!cJSON_IsObject(f.j)) mf_error(M, &f, "'default' must be an object, not %s", mv_kind(f.j));
    else if (mv_get(M, &f, "generate", &g)) mf_generate(M, b, &g);
    else if (mv_get(M, &f, "value", &g)) {
      const char *s = mf_plain(M, &g);
      if (s) body_attr(M, b, "default", ex_text(M, s, mv_loc(M, &g)), mv_loc(M, &g));
    } else mf_error(M, &f, "'default' needs 'generate' or 'value'");
  }
}

static void mf_value(apx_mf *M, body *b, mres *r) {
  static const char *const known[] = {"type", "connectionString", NULL};
  mf_unknown_keys(M, &r->v, known);
  mv f;
  if (!mv_get(M, &r->v, "connectionString", &f)) {
    mf_error(M, &r->v, "value.v0 '%s' needs 'connectionString'", r->name);
    return;
  }
  mf_string_attr(M, b, r, "connectionString", "connection_string");
}

static void mf_annotated(apx_mf *M, mres *r) {
  static const char *const known[] = {"type", "value", "filter", NULL};
  mf_unknown_keys(M, &r->v, known);
  mv f;
  if (!mv_get(M, &r->v, "value", &f)) mf_error(M, &r->v, "annotated.string '%s' needs 'value'", r->name);
  else if (!cJSON_IsString(f.j)) mf_error(M, &f, "'value' must be a string, not %s", mv_kind(f.j));
  if (!mv_get(M, &r->v, "filter", &f)) mf_error(M, &r->v, "annotated.string '%s' needs 'filter'", r->name);
  else if (!cJSON_IsString(f.j) || strcmp(f.j->valuestring, "uri") != 0)
    mf_error(M, &f, "the only filter is \"uri\"");
}

/* ---- the whole manifest -------------------------------------------------- */

static bool mf_type_is(const char *t, const char *const *list) {
  for (; *list; list++)
    if (strcmp(t, *list) == 0) return true;
  return false;
}

/* The image without registry default, tag or digest: "docker.io/library/postgres:16" -> postgres. */
static bool mf_image_is(const char *image, const char *name) {
  const char *prefixes[] = {"docker.io/library/", "library/", "index.docker.io/library/", "", NULL};
  for (const char **p = prefixes; *p; p++) {
    size_t pl = strlen(*p), nl = strlen(name);
    if (strncmp(image, *p, pl) == 0 && strncmp(image + pl, name, nl) == 0 &&
        (image[pl + nl] == 0 || image[pl + nl] == ':' || image[pl + nl] == '@'))
      return true;
  }
  return false;
}

static bool mf_target_port(apx_mf *M, const mres *r, const char *binding, int port) {
  mv bs, b, tp;
  return mv_get(M, &r->v, "bindings", &bs) && mv_get(M, &bs, binding, &b) && mv_get(M, &b, "targetPort", &tp) &&
         cJSON_IsNumber(tp.j) && tp.j->valueint == port;
}

/* Well-known images into the standard library's components: PostgreSQL
 * whose password is one parameter, Redis without arguments (a password
 * would need the component to set one), and PostgreSQL databases whose
 * connection string is the server's plus Database=<their name>. */
static void mf_map_stdlib(apx_mf *M) {
  for (size_t i = 0; i < M->nres; i++) {
    mres *r = &M->res[i];
    mv image, f;
    if (r->cat != MR_CONTAINER || !mv_get(M, &r->v, "image", &image) || !cJSON_IsString(image.j)) continue;
    if (mv_get(M, &r->v, "build", &f) || mv_get(M, &r->v, "entrypoint", &f) || mv_get(M, &r->v, "args", &f)) continue;
    const char *img = image.j->valuestring;
    if (mf_image_is(img, "redis") && mf_target_port(M, r, "tcp", 6379)) {
      r->stdlib = "redis";
    } else if (mf_image_is(img, "postgres") && mf_target_port(M, r, "tcp", 5432)) {
      mv env, pw;
      if (!mv_get(M, &r->v, "env", &env) || !mv_get(M, &env, "POSTGRES_PASSWORD", &pw) || !cJSON_IsString(pw.j))
        continue;
      const char *s = pw.j->valuestring;
      size_t l = strlen(s);
      if (l < 9 || s[0] != '{' || strcmp(s + l - 7, ".value}") != 0) continue;
      char *p = apx_arena_strndup(M->arena, s + 1, l - 8);
      mres *param = mf_find(M, p);
      if (!param || param->cat != MR_PARAM || strchr(p, '{') || strchr(p, '}')) continue;
      r->stdlib = "postgres";
      r->pw_param = p;
    }
  }
  for (size_t i = 0; i < M->nres; i++) {
    mres *r = &M->res[i];
    mv cs;
    if (r->cat != MR_VALUE || !mv_get(M, &r->v, "connectionString", &cs) || !cJSON_IsString(cs.j)) continue;
    const char *s = cs.j->valuestring, *close = strstr(s, ".connectionString};Database=");
    if (s[0] != '{' || !close || strcmp(close + 28, r->name) != 0) continue;
    char *server = apx_arena_strndup(M->arena, s + 1, (size_t)(close - s - 1));
    mres *pg = mf_find(M, server);
    if (pg && pg->stdlib && strcmp(pg->stdlib, "postgres") == 0) r->db_of = pg;
  }
}

/* value.v0 A -> B -> A: connection strings and values that refer to each
 * other would render forever. An iterative depth-first search names the
 * cycle, located at the expression that closes it. */
static void mf_check_cycles(apx_mf *M) {
  M->collecting = true;
  for (size_t i = 0; i < M->nres; i++) {
    mres *r = &M->res[i];
    if (r->cat == MR_SKIP || r->cat == MR_PARAM) continue; /* a parameter's {p.value} is its input */
    mv f;
    M->collect_from = i;
    const char *key = r->cat == MR_ANNOTATED ? "value" : "connectionString";
    if (mv_get(M, &r->v, key, &f) && cJSON_IsString(f.j)) mf_string(M, &f, r, false);
  }
  M->collecting = false;
  if (!M->nedges) return;
  /* Edges grouped by source: a counting sort. */
  size_t *start = calloc(M->nres + 1, sizeof *start), *order = malloc(sizeof *order * M->nedges);
  size_t *stack = malloc(sizeof *stack * (M->nres + 1)), *fill = calloc(M->nres + 1, sizeof *fill);
  if (!start || !order || !stack || !fill) abort();
  for (size_t e = 0; e < M->nedges; e++) start[M->edges[e].from + 1]++;
  for (size_t i = 0; i < M->nres; i++) start[i + 1] += start[i];
  for (size_t e = 0; e < M->nedges; e++) order[start[M->edges[e].from] + fill[M->edges[e].from]++] = e;
  bool reported = false;
  for (size_t s = 0; s < M->nres && !reported; s++) {
    if (M->res[s].color) continue;
    size_t sp = 0;
    stack[sp++] = s;
    M->res[s].color = 1;
    M->res[s].edge_next = start[s];
    while (sp && !reported) {
      mres *top = &M->res[stack[sp - 1]];
      size_t ti = stack[sp - 1];
      if (top->edge_next == start[ti + 1]) {
        top->color = 2;
        sp--;
        continue;
      }
      const medge *e = &M->edges[order[top->edge_next++]];
      mres *to = &M->res[e->to];
      if (to->color == 0) {
        to->color = 1;
        to->edge_next = start[e->to];
        stack[sp++] = e->to;
      } else if (to->color == 1) {
        apx_buf chain = {0};
        size_t k = 0;
        while (stack[k] != e->to) k++;
        for (; k < sp; k++) apx_buf_printf(&chain, "%s -> ", M->res[stack[k]].name);
        apx_buf_puts(&chain, to->name);
        apx_diagnostic *d = apx_error(M->diag, e->loc, "connection strings refer to each other: %s (at %s)",
                                      apx_buf_str(&chain), mf_ptr(M, mf_ptr(M, "/resources", top->name),
                                                                  top->cat == MR_ANNOTATED ? "value" : "connectionString"));
        apx_diag_hint(M->diag, d, "one of them must be written out, not refer back");
        apx_buf_free(&chain);
        reported = true;
      }
    }
  }
  free(start);
  free(order);
  free(stack);
  free(fill);
}

static const char *const mf_types_container[] = {"container.v0", "container.v1", NULL};
static const char *const mf_types_project[] = {"project.v0", "project.v1", NULL};

static void mf_collect(apx_mf *M, const mv *resources) {
  mv_iter it = mv_iter_start(M, resources);
  mv c;
  while (mv_iter_next(&it, &c)) {
    mres r = {0};
    r.name = c.j->string;
    r.v = c;
    if (!cJSON_IsObject(c.j)) {
      mf_error(M, &c, "resource '%s' must be an object, not %s", r.name, mv_kind(c.j));
      continue;
    }
    mv type;
    if (!mv_get(M, &c, "type", &type)) {
      mf_error(M, &c, "resource '%s' has no 'type'", r.name);
      continue;
    }
    if (!cJSON_IsString(type.j)) {
      mf_error(M, &type, "'type' must be a string, not %s", mv_kind(type.j));
      continue;
    }
    r.type = type.j->valuestring;
    const char *t = r.type;
    if (mf_type_is(t, mf_types_container)) r.cat = MR_CONTAINER;
    else if (strcmp(t, "dockerfile.v0") == 0) r.cat = MR_DOCKERFILE;
    else if (mf_type_is(t, mf_types_project)) r.cat = MR_PROJECT;
    else if (strcmp(t, "executable.v0") == 0) r.cat = MR_EXECUTABLE;
    else if (strcmp(t, "parameter.v0") == 0) r.cat = MR_PARAM;
    else if (strcmp(t, "value.v0") == 0) r.cat = MR_VALUE;
    else if (strcmp(t, "annotated.string") == 0) r.cat = MR_ANNOTATED;
    else {
      r.cat = MR_SKIP;
      mv key = c;
      key.off = c.key_off;
      key.end = c.key_end;
      if (strncmp(t, "azure.", 6) == 0) mf_warn(M, &key, "'%s' (%s) has no meaning outside Azure: skipped", r.name, t);
      else if (strncmp(t, "dapr.", 5) == 0) mf_warn(M, &key, "'%s' (%s) has no meaning without Dapr: skipped", r.name, t);
      else if (strncmp(t, "aws.", 4) == 0) mf_warn(M, &key, "'%s' (%s) has no meaning outside AWS: skipped", r.name, t);
      else mf_warn(M, &key, "'%s' has a resource type aspirec does not know, '%s': skipped", r.name, t);
    }
    mv cs;
    r.has_cs = mv_get(M, &c, "connectionString", &cs);
    size_t *slot = apx_map_str(&M->index, r.name, true);
    if (*slot != (size_t)-1) {
      mv key = c;
      key.off = c.key_off;
      key.end = c.key_end;
      mf_error(M, &key, "resource '%s' is declared twice", r.name);
      apx_note(M->diag, mf_loc(M, M->res[*slot].v.key_off, M->res[*slot].v.key_end), "first declared here");
      continue;
    }
    *slot = M->nres;
    APX_VEC_PUSH(M->arena, M->res, M->nres, M->capres, r);
  }
}

/* One resource into one top-level item. */
static apx_ast_item *mf_resource(apx_mf *M, mres *r) {
  body b;
  body_init(&b);
  const char *kw = NULL;
  switch (r->cat) {
  case MR_CONTAINER: kw = r->stdlib ? r->stdlib : "container"; mf_container(M, &b, r); break;
  case MR_DOCKERFILE: kw = "container"; mf_dockerfile(M, &b, r); break;
  case MR_PROJECT: kw = "project"; mf_project(M, &b, r); break;
  case MR_EXECUTABLE: kw = "executable"; mf_executable(M, &b, r); break;
  case MR_VALUE: kw = "external"; mf_value(M, &b, r); break;
  case MR_PARAM: {
    mf_param(M, &b, r);
    apx_ast_item *it = it_new(M, APX_ITEM_PARAM, r->name, mf_loc(M, r->v.key_off, r->v.end));
    it->name_loc = mf_loc(M, r->v.key_off, r->v.key_end);
    it->body = b.head;
    it->has_body = true;
    return it;
  }
  case MR_ANNOTATED: mf_annotated(M, r); return NULL;
  case MR_SKIP: return NULL;
  }
  if (r->stdlib && strcmp(r->stdlib, "postgres") == 0) {
    for (size_t i = 0; i < M->nres; i++) {
      mres *d = &M->res[i];
      if (d->db_of != r) continue;
      body inner;
      body_init(&inner);
      body_block(M, &b, "database", d->name, mf_loc(M, d->v.key_off, d->v.end), mf_loc(M, d->v.key_off, d->v.key_end),
                 &inner);
    }
  }
  apx_ast_item *it = it_new(M, APX_ITEM_BLOCK, kw, mf_loc(M, r->v.key_off, r->v.end));
  it->name_loc = mf_loc(M, r->v.key_off, r->v.key_end);
  it->label = r->name;
  it->label_loc = it->name_loc;
  it->body = b.head;
  it->has_body = true;
  return it;
}

/* The JSON syntax error at `at`: cJSON stops at the first. */
static void mf_syntax_error(apx_mf *M, size_t at) {
  if (at > M->n) at = M->n;
  /* Deeper than cJSON's limit: count the open brackets up to the error. */
  size_t depth = 0, max = 0;
  for (size_t i = jl_root(M->t, M->n); i < at; i++) {
    char c = M->t[i];
    if (c == '"') {
      i = jl_string_end(M->t, M->n, i) - 1;
      continue;
    }
    if (c == '{' || c == '[') {
      if (++depth > max) max = depth;
    } else if ((c == '}' || c == ']') && depth) {
      depth--;
    }
  }
  /* cJSON's position is often one past the offending token. */
  bool ends = jl_ws(M->t, M->n, at) >= M->n;
  if (!ends && at > 0 && at < M->n && strchr(" \t\r\n", M->t[at]) && !strchr(" \t\r\n", M->t[at - 1])) at--;
  apx_loc loc = mf_loc(M, (uint32_t)at, (uint32_t)(at < M->n ? at + 1 : at));
  if (max >= CJSON_NESTING_LIMIT) {
    apx_diagnostic *d = apx_error(M->diag, loc, "JSON nested more than %d deep", CJSON_NESTING_LIMIT);
    apx_diag_hint(M->diag, d, "a manifest is a few levels deep: this is not one");
    return;
  }
  if (ends) apx_error(M->diag, loc, "JSON ends early: a value, string or bracket is not closed");
  else if (M->t[at] > 0x20 && M->t[at] < 0x7f) apx_error(M->diag, loc, "JSON syntax error: unexpected '%c'", M->t[at]);
  else apx_error(M->diag, loc, "JSON syntax error: unexpected byte 0x%02X", (unsigned char)M->t[at]);
}

bool apx_manifest_detect(const char *path, const char *text, size_t len) {
  size_t pl = path ? strlen(path) : 0;
  if (pl > 5 && strcmp(path + pl - 5, ".json") == 0) return true;
  size_t i = text ? jl_root(text, len) : len;
  if (i >= len || text[i] != '{') return false;
  i = jl_ws(text, len, i + 1);
  return i < len && text[i] == '"'; /* `{ "` starts no .apx program */
}

apx_ast_file *apx_manifest_parse_each(apx_arena *arena, apx_arena *nodes, apx_diag *diag, uint32_t file,
                                      apx_ast_item_fn each, void *ud) {
  apx_ast_file *f = APX_NEW(arena, apx_ast_file);
  f->file = file;
  const apx_source *src = apx_diag_source(diag, file);
  apx_mf M = {.arena = arena, .nodes = nodes, .diag = diag, .file = file, .t = src->text, .n = src->len,
              .dir = src->dir};
  if (src->len > (size_t)INT32_MAX - 2) {
    apx_error(diag, (apx_loc){file, 0, 0}, "file too large");
    return f;
  }
  apx_map_init_ptr(&M.spans, arena);
  const char *end = NULL;
  cJSON *root = cJSON_ParseWithLengthOpts(src->text, src->len, &end, false);
  if (!root) {
    mf_syntax_error(&M, end ? (size_t)(end - src->text) : 0);
    return f;
  }
  size_t after = jl_ws(M.t, M.n, end ? (size_t)(end - src->text) : M.n);
  mv rootv = {root, (uint32_t)jl_root(M.t, M.n), (uint32_t)jl_skip(M.t, M.n, jl_root(M.t, M.n)), 0, 0, NULL, 0};
  rootv.key_off = rootv.key_end = rootv.off;
  mv resources;
  if (after < M.n) {
    apx_error(diag, mf_loc(&M, (uint32_t)after, (uint32_t)after + 1), "text after the end of the manifest's JSON");
  } else if (!cJSON_IsObject(root)) {
    mf_error(&M, &rootv, "a manifest is a JSON object, not %s", mv_kind(root));
  } else if (!mv_get(&M, &rootv, "resources", &resources)) {
    apx_diagnostic *d = mf_error(&M, &rootv, "a manifest has 'resources'");
    apx_diag_hint(diag, d, "{\"resources\": {\"NAME\": {\"type\": \"container.v0\", …}}}");
  } else if (!cJSON_IsObject(resources.j)) {
    mf_error(&M, &resources, "'resources' must be an object, not %s", mv_kind(resources.j));
  } else {
    apx_map_init_str(&M.index, arena);
    mf_collect(&M, &resources);
    mf_map_stdlib(&M);
    mf_check_cycles(&M);
    apx_arena_reset(nodes);
    bool imported[2] = {false, false};
    for (size_t i = 0; i < M.nres; i++) {
      const char *lib = M.res[i].stdlib;
      int k = lib ? strcmp(lib, "redis") == 0 : -1;
      if (k < 0 || imported[k]) continue;
      imported[k] = true;
      apx_ast_item *im = it_new(&M, APX_ITEM_IMPORT, lib, mv_loc(&M, &M.res[i].v));
      if (each) each(ud, im);
      apx_arena_reset(nodes);
    }
    for (size_t i = 0; i < M.nres; i++) {
      if (M.res[i].db_of) continue; /* inside its server */
      apx_ast_item *it = mf_resource(&M, &M.res[i]);
      if (it && each) each(ud, it);
      apx_arena_reset(nodes);
    }
    apx_map_release(&M.index);
  }
  apx_map_release(&M.spans);
  cJSON_Delete(root);
  return f;
}
