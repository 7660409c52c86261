/* Pass 3, typecheck: reads each resource's merged body against the schema
 * of its kind (passes/schema.c) into the typed fields of the IR. Unknown
 * attributes (with a suggestion), wrong types, attributes of another kind,
 * repeated attributes and missing required ones are errors. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "passes_internal.h"
#include "pipeline.h"
#include "schema.h"

/* Schema lookups remembered by the name's address: names are interned by
 * the scanner (one `image` for a whole file) and FOUND's are literals, so a
 * few hundred addresses serve the 200,000 lookups of 10,000 resources. A
 * hit is checked by the spec's name (the address may have been reused by
 * another string), so it finds what apx_schema_find finds. */
enum { APX_TC_MEMO = 256 };
typedef struct apx_tc_memo {
  struct {
    const char *name;
    const apx_spec *table, *spec;
  } e[APX_TC_MEMO];
} apx_tc_memo;

/* A lookup not remembered yet (out of line: a few hundred of them). */
static __attribute__((noinline)) const apx_spec *apx_tc_find_new(apx_tc_memo *memo, size_t h, const apx_spec *table,
                                                                  const char *name) {
  const apx_spec *s = apx_schema_find(table, name);
  if (s) {
    memo->e[h].name = name;
    memo->e[h].table = table;
    memo->e[h].spec = s;
  }
  return s;
}

/* `literal`: name is a string literal (FOUND's), whose address no other
 * string can take, so a hit needs no check. */
static inline __attribute__((always_inline)) const apx_spec *apx_tc_find_in(apx_tc_memo *memo, const apx_spec *table,
                                                                             const char *name, bool literal) {
  if (!memo) return apx_schema_find(table, name);
  uint64_t k = ((uint64_t)(uintptr_t)name ^ ((uint64_t)(uintptr_t)table >> 3)) * 0x9E3779B97F4A7C15ULL;
  size_t h = (size_t)(k >> 56) % APX_TC_MEMO;
  /* Open addressing (a few dozen keys: a probe or two); when full, the
   * slot of the hash is taken over. */
  for (size_t i = 0; i < APX_TC_MEMO && memo->e[h].name; i++, h = (h + 1) % APX_TC_MEMO)
    if (memo->e[h].name == name && memo->e[h].table == table) {
      if (literal || strcmp(memo->e[h].spec->name, name) == 0) return memo->e[h].spec;
      break;
    }
  return apx_tc_find_new(memo, h, table, name);
}

static const apx_spec *apx_tc_find(apx_tc_memo *memo, const apx_spec *table, const char *name) {
  return apx_tc_find_in(memo, table, name, false);
}

typedef struct apx_tc {
  apx_module *m;
  apx_resource *r;
  apx_map volumes; /* volume name -> index */
  bool dropping;   /* the items go after this pass (m->items is their own arena) */
  apx_tc_memo *memo;
} apx_tc;

/* Whether what typecheck reads out of an item's value may be given back to
 * the arena: when the items go after this pass (nothing prints them) and
 * the instance wrote it. Such a value is the item's alone (expand binds
 * instance-written references in place and shares only what components
 * wrote); the enrich pass's references then reuse the memory. */
static bool apx_tc_owned(const apx_tc *T, const apx_item *it) { return T->dropping && !it->from; }

/* A bare reference's shell, once its reference has moved into a template
 * or into a dependency. */
static void apx_tc_release_ref_value(apx_tc *T, apx_value *v, bool with_ref) {
  if (with_ref) apx_arena_release(T->m->arena, v->u.ref, sizeof *v->u.ref);
  apx_arena_release(T->m->arena, v, sizeof *v);
}

static const char *apx_kind_article(apx_kind k) {
  switch (k) {
  case APX_KIND_CONTAINER: return "a container";
  case APX_KIND_EXECUTABLE: return "an executable";
  case APX_KIND_PROJECT: return "a project";
  case APX_KIND_EXTERNAL: return "an external";
  case APX_KIND_PARAM: return "a param";
  default: return "a resource";
  }
}

static const char *apx_value_dir(apx_module *m, const apx_value *v) {
  return apx_diag_source(m->diag, v->loc.file)->dir;
}

/* ---- value coercions ------------------------------------------------- */

/* Text, possibly deferred. A bare reference becomes a one-part template;
 * numbers and booleans become their text where `loose` (env, args). */
/* A param named where text is expected means its value: say so in the IR. */
static void apx_tc_param_values(apx_value *v) {
  for (size_t i = 0; i < v->u.tpl.n; i++) {
    apx_ref *ref = v->u.tpl.parts[i].ref;
    if (ref && ref->target && ref->target->kind == APX_KIND_PARAM && ref->prop == APX_PROP_RESOURCE)
      ref->prop = APX_PROP_VALUE;
  }
}

static apx_value *apx_tc_string(apx_tc *T, apx_value *v, bool loose, const char *what) {
  apx_module *m = T->m;
  switch (v->kind) {
  case APX_V_STRING: return v;
  case APX_V_TEMPLATE: apx_tc_param_values(v); return v;
  case APX_V_REF:
    /* A bare param name used as text means its value. */
    if (v->u.ref->target && v->u.ref->target->kind == APX_KIND_PARAM && v->u.ref->prop == APX_PROP_RESOURCE)
      v->u.ref->prop = APX_PROP_VALUE;
    return apx_ir_template_of(m, v->u.ref, v->loc);
  case APX_V_INT:
    if (loose) return apx_ir_string(m, apx_arena_printf(m->arena, "%lld", (long long)v->u.i), v->loc);
    break;
  case APX_V_BOOL:
    if (loose) return apx_ir_string(m, v->u.b ? "true" : "false", v->loc);
    break;
  default: break;
  }
  apx_error(m->diag, v->loc, "%s must be a string, not %s", what, apx_ir_value_type_name(v));
  return NULL;
}

/* apx_tc_string (loose) for the value of entry `key` of `what`: the
 * message's subject is made only for a value that fails, not one string per
 * entry. */
static apx_value *apx_tc_entry_string(apx_tc *T, apx_value *v, const char *what, const char *key) {
  switch (v->kind) {
  case APX_V_STRING: case APX_V_TEMPLATE: case APX_V_REF: case APX_V_INT: case APX_V_BOOL:
    return apx_tc_string(T, v, true, what);
  default: return apx_tc_string(T, v, true, apx_arena_printf(T->m->arena, "%s.%s", what, key));
  }
}

static const char *apx_tc_const(apx_tc *T, apx_value *v, const char *what) {
  if (v->kind == APX_V_STRING) return v->u.str.s;
  if (v->kind == APX_V_TEMPLATE || v->kind == APX_V_REF) {
    apx_diagnostic *d = apx_error(T->m->diag, v->loc, "%s must be known at compile time", what);
    apx_diag_hint(T->m->diag, d, "it cannot depend on another resource or a parameter");
    return NULL;
  }
  apx_error(T->m->diag, v->loc, "%s must be a string, not %s", what, apx_ir_value_type_name(v));
  return NULL;
}

static bool apx_tc_int(apx_tc *T, apx_value *v, const char *what, int64_t lo, int64_t hi, int *out) {
  if (v->kind != APX_V_INT) {
    apx_error(T->m->diag, v->loc, "%s must be an integer, not %s", what, apx_ir_value_type_name(v));
    return false;
  }
  if (v->u.i < lo || v->u.i > hi) {
    apx_error(T->m->diag, v->loc, "%s must be between %lld and %lld", what, (long long)lo, (long long)hi);
    return false;
  }
  *out = (int)v->u.i;
  return true;
}

static bool apx_tc_bool(apx_tc *T, apx_value *v, const char *what, bool *out) {
  if (v->kind != APX_V_BOOL) {
    apx_error(T->m->diag, v->loc, "%s must be true or false, not %s", what, apx_ir_value_type_name(v));
    return false;
  }
  *out = v->u.b;
  return true;
}

static bool apx_tc_duration(apx_tc *T, apx_value *v, const char *what, int64_t *out) {
  if (v->kind != APX_V_DURATION) {
    apx_diagnostic *d = apx_error(T->m->diag, v->loc, "%s must be a duration, not %s", what, apx_ir_value_type_name(v));
    if (v->kind == APX_V_INT) apx_diag_hint(T->m->diag, d, "add a unit: %llds or %lldms", (long long)v->u.i, (long long)v->u.i);
    return false;
  }
  *out = v->u.i;
  return true;
}

static apx_value *apx_tc_list(apx_tc *T, apx_value *v, const char *what) {
  apx_module *m = T->m;
  if (v->kind != APX_V_LIST) {
    apx_diagnostic *d = apx_error(m->diag, v->loc, "%s must be a list of strings, not %s", what, apx_ir_value_type_name(v));
    if (v->kind == APX_V_STRING) apx_diag_hint(m->diag, d, "write it as a list: [\"%s\"]", v->u.str.s);
    return NULL;
  }
  /* The list itself when every item is text already (most are): a copy
   * would leave the written one behind as garbage. */
  apx_value *out = NULL;
  for (size_t i = 0; i < v->u.list.n; i++) {
    apx_value *s = apx_tc_string(T, v->u.list.items[i], true, "each item");
    if (s == v->u.list.items[i] && !out) continue;
    if (!out) {
      out = apx_ir_value_new(m, APX_V_LIST, v->loc);
      out->u.list.items = APX_NEW_ARRAY(m->arena, apx_value *, v->u.list.n);
      memcpy(out->u.list.items, v->u.list.items, i * sizeof *out->u.list.items);
      out->u.list.n = i;
    }
    if (s) out->u.list.items[out->u.list.n++] = s;
  }
  return out ? out : v;
}

static void apx_tc_refs(apx_tc *T, apx_value *v, apx_dep_kind kind, const char *what, bool owned) {
  apx_module *m = T->m;
  size_t n = 1;
  apx_value **items;
  apx_value *single[1];
  if (v->kind == APX_V_LIST) {
    n = v->u.list.n;
    items = v->u.list.items;
  } else {
    single[0] = v;
    items = single;
  }
  for (size_t i = 0; i < n; i++) {
    apx_value *x = items[i];
    if (x->kind != APX_V_REF) {
      apx_diagnostic *d = apx_error(m->diag, x->loc, "%s lists resource names, not %s", what, apx_ir_value_type_name(x));
      if (x->kind == APX_V_STRING) apx_diag_hint(m->diag, d, "write the name without quotes: %s", x->u.str.s);
      continue;
    }
    apx_ref *ref = x->u.ref;
    if (!ref->target) continue; /* already reported */
    if (ref->prop != APX_PROP_RESOURCE) {
      apx_diagnostic *d = apx_error(m->diag, x->loc, "%s lists resources, not properties", what);
      apx_diag_hint(m->diag, d, "write just the name: %s", ref->target->name);
      continue;
    }
    if (ref->target == T->r) {
      apx_error(m->diag, x->loc, "'%s' cannot depend on itself", T->r->name);
      continue;
    }
    apx_ir_dep_add(m, T->r, kind, ref->target, x->loc);
  }
  if (!owned) return;
  /* Only the dependencies stay: the list and its references go back. */
  for (size_t i = 0; i < n; i++)
    if (items[i]->kind == APX_V_REF) apx_tc_release_ref_value(T, items[i], true);
  if (v->kind == APX_V_LIST) {
    apx_arena_release(m->arena, v->u.list.items, (n ? n : 1) * sizeof *v->u.list.items);
    apx_arena_release(m->arena, v, sizeof *v);
  }
}

/* name = value pairs from a block (env { … }) or a map attribute. */
/* A vector grown by doubling, cut to its length: a map's entries stay for
 * the whole compilation, and a third of their room would be empty. */
static apx_entry *apx_tc_exact(apx_module *m, apx_entry *out, size_t cnt, size_t cap) {
  if (cnt == 0 || cnt == cap) return out;
  return apx_arena_grow(m->arena, out, cap * sizeof *out, cnt * sizeof *out);
}

/* How many blocks named like blk there are from blk on: typed arrays
 * (endpoints, health checks) are made that size at the first, as most
 * resources have one or two and doubling from four would waste the rest. */
static size_t apx_tc_count_blocks(const apx_item *blk) {
  size_t k = 0;
  for (const apx_item *x = blk; x; x = x->next)
    if (x->kind == APX_IT_BLOCK && strcmp(x->name, blk->name) == 0) k++;
  return k;
}

static apx_entry *apx_tc_map(apx_tc *T, apx_item *it, size_t *n, bool strings, const char *what) {
  apx_module *m = T->m;
  apx_entry *out = NULL;
  size_t cnt = 0, cap = 0;
  if (it->kind == APX_IT_ATTR) {
    if (it->value->kind != APX_V_MAP) {
      apx_error(m->diag, it->value->loc, "%s must be a block of name = value pairs, not %s", what,
                apx_ir_value_type_name(it->value));
      *n = 0;
      return NULL;
    }
    for (size_t i = 0; i < it->value->u.map.n; i++) {
      apx_entry e = it->value->u.map.entries[i];
      if (strings) e.value = apx_tc_entry_string(T, e.value, what, e.key);
      if (e.value) APX_VEC_PUSH(m->arena, out, cnt, cap, e);
    }
    *n = cnt;
    return apx_tc_exact(m, out, cnt, cap);
  }
  /* Sized once; a repeated key is looked for among the items before it
   * while the block is small (most are), in a map beyond. */
  size_t total = 0;
  for (const apx_item *x = it->body; x; x = x->next) total++;
  enum { APX_TC_SCAN_MAX = 16 };
  bool scan = total <= APX_TC_SCAN_MAX;
  cap = total;
  out = total ? APX_NEW_ARRAY(m->arena, apx_entry, total) : NULL;
  apx_map seen;
  apx_map_init_str(&seen, m->arena);
  for (apx_item *x = it->body; x; x = x->next) {
    if (x->kind == APX_IT_BLOCK) {
      apx_error(m->diag, x->loc, "%s holds name = value pairs, not blocks", what);
      continue;
    }
    const apx_item *first = NULL;
    if (scan) {
      for (const apx_item *y = it->body; y != x && !first; y = y->next)
        if (y->kind == APX_IT_ATTR && y->name[0] == x->name[0] && strcmp(y->name, x->name) == 0) first = y;
    } else {
      size_t *slot = apx_map_str(&seen, x->name, true);
      if (*slot != (size_t)-1) first = (const apx_item *)(uintptr_t)*slot;
      else *slot = (size_t)(uintptr_t)x;
    }
    if (first) {
      apx_error(m->diag, apx_item_name_loc(x), "'%s' is set twice in %s", x->name, what);
      apx_note(m->diag, apx_item_name_loc(first), "first set here");
      continue;
    }
    if (x->value->kind == APX_V_NULL) continue; /* `KEY = null` unsets an inherited value */
    apx_entry e = {x->name, apx_item_name_loc(x), x->value};
    if (strings) e.value = apx_tc_entry_string(T, x->value, what, x->name);
    if (e.value && e.value != x->value && x->value->kind == APX_V_REF && apx_tc_owned(T, x))
      apx_tc_release_ref_value(T, x->value, false); /* its reference is in the template now */
    if (e.value) APX_VEC_PUSH(m->arena, out, cnt, cap, e);
  }
  apx_map_release(&seen);
  *n = cnt;
  return apx_tc_exact(m, out, cnt, cap);
}

/* ---- blocks ------------------------------------------------------------ */

/* Reads a block body against its schema: found[i] is the item for table[i].
 * Only the first nfound entries of the table are read, so a schema that
 * grew past a caller's array can never write beyond it (its further
 * attributes are then unknown, which the unit test of this catches). */
static void apx_tc_block_in(apx_module *m, apx_tc_memo *memo, apx_item *blk, const apx_spec *table, apx_item **found,
                            size_t nfound) {
  size_t nt = 0;
  while (table[nt].name && nt < nfound) nt++;
  for (size_t i = 0; i < nfound; i++) found[i] = NULL;
  for (apx_item *x = blk->body; x; x = x->next) {
    const apx_spec *s = apx_tc_find(memo, table, x->name);
    if (s && (size_t)(s - table) >= nt) s = NULL;
    if (!s || x->name_quoted) {
      const char *cands[16];
      for (size_t i = 0; i < nt && i < 16; i++) cands[i] = table[i].name;
      const char *sug = apx_suggest(x->name, cands, nt < 16 ? nt : 16);
      apx_diagnostic *d = apx_error(m->diag, apx_item_name_loc(x), "unknown attribute '%s' in %s", x->name, blk->name);
      if (sug) apx_diag_hint(m->diag, d, "did you mean '%s'?", sug);
      else {
        char *all = apx_arena_strdup(m->arena, "");
        for (size_t i = 0; i < nt; i++) all = apx_arena_printf(m->arena, "%s%s%s", all, i ? ", " : "", table[i].name);
        apx_diag_hint(m->diag, d, "%s takes %s", blk->name, all);
      }
      continue;
    }
    size_t idx = (size_t)(s - table);
    bool is_map = s->type == APX_T_MAP;
    if (x->kind == APX_IT_BLOCK && !is_map) {
      apx_error(m->diag, x->loc, "'%s' is an attribute: write %s = …", x->name, x->name);
      continue;
    }
    if (found[idx]) {
      apx_error(m->diag, apx_item_name_loc(x), "'%s' is set twice in %s", x->name, blk->name);
      apx_note(m->diag, apx_item_name_loc(found[idx]), "first set here");
      continue;
    }
    found[idx] = x;
  }
  for (size_t i = 0; i < nt; i++)
    if (table[i].required && !found[i]) {
      apx_diagnostic *d = apx_error(m->diag, blk->loc, "%s needs '%s'", blk->name, table[i].name);
      apx_diag_hint(m->diag, d, "add %s = … inside the block", table[i].name);
    }
}

void apx_tc_block(apx_module *m, apx_item *blk, const apx_spec *table, apx_item **found, size_t nfound) {
  apx_tc_block_in(m, NULL, blk, table, found, nfound);
}

#define APX_TC_BLOCK(T, blk, table, found) apx_tc_block_in((T)->m, (T)->memo, blk, table, found, sizeof found / sizeof found[0])
/* name: a string literal. */
#define FOUND(name) apx_tc_found(T->memo, table, found, sizeof found / sizeof found[0], "" name)
static apx_item *apx_tc_found(apx_tc_memo *memo, const apx_spec *table, apx_item **found, size_t nfound, const char *name) {
  const apx_spec *s = apx_tc_find_in(memo, table, name, true);
  return s && (size_t)(s - table) < nfound ? found[s - table] : NULL;
}

static const char *apx_tc_path(apx_tc *T, apx_item *x, const char *what, const char **abs) {
  const char *p = apx_tc_const(T, x->value, what);
  if (p && abs) *abs = apx_path_join(T->m->arena, apx_value_dir(T->m, x->value), p);
  return p;
}

/* A path inside the container (volume and bind targets): absolute. */
static const char *apx_tc_container_path(apx_tc *T, apx_item *x, const char *what) {
  const char *p = apx_tc_const(T, x->value, what);
  if (p && p[0] != '/') apx_error(T->m->diag, x->value->loc, "a %s is an absolute path in the container", what);
  return p;
}

static void apx_tc_build(apx_tc *T, apx_item *blk, const apx_spec *table) {
  apx_module *m = T->m;
  apx_item *found[8];
  APX_TC_BLOCK(T, blk, table, found);
  apx_build *b = APX_NEW(m->arena, apx_build);
  b->loc = blk->loc;
  apx_item *x;
  if ((x = FOUND("context"))) b->context = apx_tc_path(T, x, "build.context", &b->context_abs);
  if ((x = FOUND("dockerfile"))) b->dockerfile = apx_tc_const(T, x->value, "build.dockerfile");
  if ((x = FOUND("target"))) b->target = apx_tc_const(T, x->value, "build.target");
  if ((x = FOUND("args"))) b->args = apx_tc_map(T, x, &b->nargs, true, "build.args");
  if (T->r->build) apx_error(m->diag, blk->loc, "'%s' has two build blocks", T->r->name);
  T->r->build = b;
}

static void apx_tc_endpoint(apx_tc *T, apx_item *blk, const apx_spec *table) {
  apx_module *m = T->m;
  apx_resource *r = T->r;
  apx_item *found[8];
  if (!blk->label) {
    apx_diagnostic *d = apx_error(m->diag, blk->loc, "an endpoint needs a name");
    apx_diag_hint(m->diag, d, "write: endpoint http { … }");
    return;
  }
  APX_TC_BLOCK(T, blk, table, found);
  apx_endpoint *dup = apx_ir_endpoint_find(r, blk->label);
  if (dup) {
    apx_error(m->diag, apx_item_label_loc(blk), "endpoint '%s' is declared twice", blk->label);
    apx_note(m->diag, dup->loc, "first declared here");
    return;
  }
  apx_endpoint e = {0};
  e.name = blk->label;
  e.loc = blk->loc;
  apx_item *x;
  if ((x = FOUND("port"))) apx_tc_int(T, x->value, "port", 1, 65535, &e.port);
  if ((x = FOUND("target_port"))) apx_tc_int(T, x->value, "target_port", 1, 65535, &e.target_port);
  if ((x = FOUND("scheme"))) {
    e.scheme = apx_tc_const(T, x->value, "scheme");
    static const char *const schemes[] = {"http", "https", "tcp", "udp", "grpc", "grpcs"};
    bool ok = false;
    for (size_t i = 0; e.scheme && i < 6; i++) ok |= strcmp(e.scheme, schemes[i]) == 0;
    if (e.scheme && !ok) {
      apx_diagnostic *d = apx_error(m->diag, x->value->loc, "unknown scheme '%s'", e.scheme);
      const char *s = apx_suggest(e.scheme, schemes, 6);
      apx_diag_hint(m->diag, d, s ? "did you mean '%s'?" : "%s", s ? s : "use http, https, tcp, udp, grpc or grpcs");
    }
  }
  if ((x = FOUND("protocol"))) {
    e.protocol = apx_tc_const(T, x->value, "protocol");
    if (e.protocol && strcmp(e.protocol, "tcp") != 0 && strcmp(e.protocol, "udp") != 0)
      apx_error(m->diag, x->value->loc, "protocol must be \"tcp\" or \"udp\"");
  }
  if ((x = FOUND("external"))) apx_tc_bool(T, x->value, "external", &e.external);
  if ((x = FOUND("env"))) e.env = apx_tc_const(T, x->value, "endpoint env");
  if (!r->capendpoints) {
    r->capendpoints = apx_tc_count_blocks(blk);
    r->endpoints = APX_NEW_ARRAY(m->arena, apx_endpoint, r->capendpoints);
  }
  apx_ir_endpoint_add(m, r, &e);
}

static void apx_tc_volume(apx_tc *T, apx_item *blk, const apx_spec *table) {
  apx_module *m = T->m;
  apx_item *found[4];
  if (!blk->label) {
    apx_diagnostic *d = apx_error(m->diag, blk->loc, "a volume needs a name");
    apx_diag_hint(m->diag, d, "write: volume data { target = \"/data\" }");
    return;
  }
  APX_TC_BLOCK(T, blk, table, found);
  size_t *seen = apx_map_str(&T->volumes, blk->label, true);
  if (*seen != (size_t)-1) {
    apx_error(m->diag, apx_item_label_loc(blk), "volume '%s' is declared twice", blk->label);
    apx_note(m->diag, T->r->volumes[*seen].loc, "first declared here");
    return;
  }
  *seen = T->r->nvolumes;
  apx_volume v = {blk->label, blk->loc, NULL, false};
  apx_item *x;
  if ((x = FOUND("target"))) v.target = apx_tc_container_path(T, x, "volume target");
  if ((x = FOUND("readonly"))) apx_tc_bool(T, x->value, "readonly", &v.readonly);
  APX_VEC_PUSH(m->arena, T->r->volumes, T->r->nvolumes, T->r->capvolumes, v);
}

static void apx_tc_bind(apx_tc *T, apx_item *blk, const apx_spec *table) {
  apx_module *m = T->m;
  apx_item *found[4];
  APX_TC_BLOCK(T, blk, table, found);
  apx_bind b = {0};
  b.loc = blk->loc;
  apx_item *x;
  if ((x = FOUND("source"))) b.source = apx_tc_path(T, x, "bind source", &b.source_abs);
  if ((x = FOUND("target"))) b.target = apx_tc_container_path(T, x, "bind target");
  if ((x = FOUND("readonly"))) apx_tc_bool(T, x->value, "readonly", &b.readonly);
  APX_VEC_PUSH(m->arena, T->r->binds, T->r->nbinds, T->r->capbinds, b);
}

static void apx_tc_health(apx_tc *T, apx_item *blk, const apx_spec *table) {
  apx_module *m = T->m;
  apx_item *found[10];
  APX_TC_BLOCK(T, blk, table, found);
  apx_health h = {0};
  h.loc = blk->loc;
  h.interval_ms = h.timeout_ms = h.start_period_ms = -1; /* enrich sets defaults */
  h.retries = -1;
  int kinds = 0;
  apx_item *x;
  if ((x = FOUND("http"))) {
    h.kind = APX_HEALTH_HTTP;
    h.path = apx_tc_const(T, x->value, "health http path");
    if (h.path && h.path[0] != '/') apx_error(m->diag, x->value->loc, "an http health path starts with '/'");
    kinds++;
  }
  if ((x = FOUND("tcp"))) {
    h.kind = APX_HEALTH_TCP;
    h.endpoint = apx_tc_const(T, x->value, "health tcp endpoint");
    kinds++;
  }
  if ((x = FOUND("exec"))) {
    h.kind = APX_HEALTH_EXEC;
    h.exec = apx_tc_list(T, x->value, "health exec");
    if (h.exec && h.exec->u.list.n == 0) apx_error(m->diag, x->value->loc, "health exec needs a command");
    kinds++;
  }
  if ((x = FOUND("log"))) {
    h.kind = APX_HEALTH_LOG;
    h.pattern = apx_tc_const(T, x->value, "health log pattern");
    kinds++;
  }
  if (kinds != 1) {
    apx_diagnostic *d = apx_error(m->diag, blk->loc, kinds ? "a health block checks one thing" : "a health block needs a check");
    apx_diag_hint(m->diag, d, "use one of http = \"/path\", tcp = \"endpoint\", exec = [\"cmd\"], log = \"regex\"; write several health blocks for several checks");
    return;
  }
  if ((x = FOUND("endpoint"))) {
    const char *ep = apx_tc_const(T, x->value, "health endpoint");
    if (h.kind == APX_HEALTH_TCP) apx_error(m->diag, x->loc, "a tcp check names its endpoint already: tcp = \"name\"");
    else if (h.kind != APX_HEALTH_HTTP) apx_error(m->diag, x->loc, "only http checks take an endpoint");
    else h.endpoint = ep;
  }
  if ((x = FOUND("interval"))) apx_tc_duration(T, x->value, "interval", &h.interval_ms);
  if ((x = FOUND("timeout"))) apx_tc_duration(T, x->value, "timeout", &h.timeout_ms);
  if ((x = FOUND("start_period"))) apx_tc_duration(T, x->value, "start_period", &h.start_period_ms);
  if ((x = FOUND("retries"))) apx_tc_int(T, x->value, "retries", 1, 1000000, &h.retries);
  if (!T->r->caphealth) {
    T->r->caphealth = apx_tc_count_blocks(blk);
    T->r->health = APX_NEW_ARRAY(m->arena, apx_health, T->r->caphealth);
  }
  APX_VEC_PUSH(m->arena, T->r->health, T->r->nhealth, T->r->caphealth, h);
}

static void apx_tc_local(apx_tc *T, apx_item *blk, const apx_spec *table) {
  apx_module *m = T->m;
  apx_item *found[8];
  APX_TC_BLOCK(T, blk, table, found);
  apx_local *l = APX_NEW(m->arena, apx_local);
  l->loc = blk->loc;
  apx_item *x;
  if ((x = FOUND("command"))) l->command = apx_tc_string(T, x->value, false, "local command");
  else apx_error(m->diag, blk->loc, "local needs 'command': the program to run when no container engine exists");
  if ((x = FOUND("args"))) l->args = apx_tc_list(T, x->value, "local args");
  if ((x = FOUND("workdir"))) apx_tc_path(T, x, "local workdir", &l->workdir);
  if ((x = FOUND("setup"))) {
    apx_value *v = x->value;
    if (v->kind != APX_V_LIST) {
      apx_error(m->diag, v->loc, "setup must be a list of commands");
    } else {
      apx_value *out = apx_ir_value_new(m, APX_V_LIST, v->loc);
      out->u.list.items = APX_NEW_ARRAY(m->arena, apx_value *, v->u.list.n ? v->u.list.n : 1);
      for (size_t i = 0; i < v->u.list.n; i++) {
        apx_value *c = v->u.list.items[i];
        apx_value *cv = c->kind == APX_V_LIST ? apx_tc_list(T, c, "a setup command")
                                              : apx_tc_string(T, c, false, "a setup command");
        if (cv) out->u.list.items[out->u.list.n++] = cv;
      }
      l->setup = out;
    }
  }
  if ((x = FOUND("env"))) l->env = apx_tc_map(T, x, &l->nenv, true, "local env");
  if ((x = FOUND("user"))) l->user = apx_tc_const(T, x->value, "local user");
  T->r->local = l;
}

static void apx_tc_generate(apx_tc *T, apx_item *it) {
  apx_module *m = T->m;
  size_t n;
  apx_entry *e = apx_tc_map(T, it, &n, false, "generate");
  apx_generate *g = &T->r->param->generate;
  T->r->param->has_generate = true;
  g->length = 22;
  g->lower = g->upper = g->numeric = true;
  g->special = false;
  for (size_t i = 0; i < n; i++) {
    const char *k = e[i].key;
    if (strcmp(k, "length") == 0) apx_tc_int(T, e[i].value, "generate.length", 1, 4096, &g->length);
    else if (strcmp(k, "lower") == 0) apx_tc_bool(T, e[i].value, "generate.lower", &g->lower);
    else if (strcmp(k, "upper") == 0) apx_tc_bool(T, e[i].value, "generate.upper", &g->upper);
    else if (strcmp(k, "numeric") == 0) apx_tc_bool(T, e[i].value, "generate.numeric", &g->numeric);
    else if (strcmp(k, "special") == 0) apx_tc_bool(T, e[i].value, "generate.special", &g->special);
    else if (strcmp(k, "min_lower") == 0) apx_tc_int(T, e[i].value, k, 0, 4096, &g->min_lower);
    else if (strcmp(k, "min_upper") == 0) apx_tc_int(T, e[i].value, k, 0, 4096, &g->min_upper);
    else if (strcmp(k, "min_numeric") == 0) apx_tc_int(T, e[i].value, k, 0, 4096, &g->min_numeric);
    else if (strcmp(k, "min_special") == 0) apx_tc_int(T, e[i].value, k, 0, 4096, &g->min_special);
    else {
      static const char *const keys[] = {"length", "lower", "upper", "numeric", "special",
                                         "min_lower", "min_upper", "min_numeric", "min_special"};
      apx_diagnostic *d = apx_error(m->diag, e[i].key_loc, "unknown generate option '%s'", k);
      const char *s = apx_suggest(k, keys, 9);
      if (s) apx_diag_hint(m->diag, d, "did you mean '%s'?", s);
    }
  }
  if (!g->lower && !g->upper && !g->numeric && !g->special)
    apx_error(m->diag, it->loc, "generate allows no characters: enable lower, upper, numeric or special");
  if (g->min_lower + g->min_upper + g->min_numeric + g->min_special > g->length)
    apx_error(m->diag, it->loc, "generate: the minimum counts add up to more than length");
}

/* ---- a resource ---------------------------------------------------------- */

static void apx_tc_unknown(apx_tc *T, apx_item *it) {
  apx_module *m = T->m;
  unsigned mask = 1u << T->r->kind;
  const char *cands[64];
  size_t n = 0;
  for (const apx_spec *s = apx_schema_resource; s->name && n < 64; s++)
    if (s->kinds & mask) cands[n++] = s->name;
  const char *sug = apx_suggest(it->name, cands, n);
  const char *what = it->kind == APX_IT_BLOCK ? "block" : "attribute";
  apx_diagnostic *d;
  if (T->r->component)
    d = apx_error(m->diag, apx_item_name_loc(it), "unknown %s '%s' for %s (%s)", what, it->name, T->r->type,
                  apx_kind_article(T->r->kind));
  else
    d = apx_error(m->diag, apx_item_name_loc(it), "unknown %s '%s' for %s", what, it->name, apx_kind_article(T->r->kind));
  if (sug) apx_diag_hint(m->diag, d, "did you mean '%s'?", sug);
}

static void apx_tc_item(apx_tc *T, apx_item *it, const apx_item **seen) {
  apx_module *m = T->m;
  apx_resource *r = T->r;
  const apx_spec *s = it->name_quoted ? NULL : apx_tc_find(T->memo, apx_schema_resource, it->name);
  if (!s) {
    apx_tc_unknown(T, it);
    return;
  }
  if (!(s->kinds & (1u << r->kind))) {
    apx_diagnostic *d = apx_error(m->diag, apx_item_name_loc(it), "'%s' does not apply to %s", it->name, apx_kind_article(r->kind));
    if (strcmp(it->name, "local") == 0) apx_diag_hint(m->diag, d, "local {} gives a container a host-process fallback; an executable already runs on the host");
    return;
  }
  bool as_block = it->kind == APX_IT_BLOCK;
  if (s->type == APX_T_BLOCK && !as_block) {
    apx_error(m->diag, it->loc, "'%s' is a block: write %s%s { … }", it->name, it->name, s->labeled ? " NAME" : "");
    return;
  }
  if (s->type != APX_T_BLOCK && s->type != APX_T_MAP && as_block) {
    apx_error(m->diag, it->loc, "'%s' is an attribute: write %s = …", it->name, it->name);
    return;
  }
  if (s->type == APX_T_MAP && as_block && it->label) {
    apx_error(m->diag, apx_item_label_loc(it), "'%s' takes no label", it->name);
    return;
  }
  if (s->type == APX_T_BLOCK && !s->labeled && it->label) {
    apx_error(m->diag, apx_item_label_loc(it), "'%s' takes no label", it->name);
    return;
  }
  if (!s->repeat) {
    size_t idx = (size_t)(s - apx_schema_resource);
    if (seen[idx]) {
      apx_error(m->diag, apx_item_name_loc(it), "'%s' is set twice", it->name);
      apx_note(m->diag, apx_item_name_loc(seen[idx]), "first set here");
      return;
    }
    seen[idx] = it;
  }
  apx_value *v = it->value;
  switch (s->id) {
  case APX_F_IMAGE: r->image = apx_tc_string(T, v, false, "image"); break;
  case APX_F_BUILD: apx_tc_build(T, it, s->sub); break;
  case APX_F_COMMAND: r->command = apx_tc_string(T, v, false, "command"); break;
  case APX_F_ARGS: r->args = apx_tc_list(T, v, "args"); break;
  case APX_F_ENTRYPOINT:
    if (v->kind == APX_V_STRING) { /* entrypoint = "x": a list of one */
      apx_value *one = apx_ir_value_new(m, APX_V_LIST, v->loc);
      one->u.list.items = APX_NEW_ARRAY(m->arena, apx_value *, 1);
      one->u.list.items[0] = v;
      one->u.list.n = 1;
      v = one;
    }
    r->entrypoint = apx_tc_list(T, v, "entrypoint");
    break;
  case APX_F_WORKDIR:
    r->workdir_written = apx_tc_const(T, v, "workdir");
    if (r->workdir_written)
      r->workdir = r->kind == APX_KIND_CONTAINER ? r->workdir_written
                                                 : apx_path_join(m->arena, apx_value_dir(m, v), r->workdir_written);
    break;
  case APX_F_ENV: {
    size_t n;
    apx_entry *e = apx_tc_map(T, it, &n, true, "env");
    /* apx_tc_map has removed duplicates already. */
    apx_ir_env_append_many(m, r, e, n);
    apx_arena_release(m->arena, e, n * sizeof *e); /* copied into r->env */
    break;
  }
  case APX_F_ENDPOINT: apx_tc_endpoint(T, it, s->sub); break;
  case APX_F_VOLUME: apx_tc_volume(T, it, s->sub); break;
  case APX_F_BIND: apx_tc_bind(T, it, s->sub); break;
  case APX_F_HEALTH: apx_tc_health(T, it, s->sub); break;
  case APX_F_REFERENCES: apx_tc_refs(T, v, APX_DEP_REFERENCE, "references", apx_tc_owned(T, it)); break;
  case APX_F_WAIT_FOR: apx_tc_refs(T, v, APX_DEP_WAIT_HEALTHY, "wait_for", apx_tc_owned(T, it)); break;
  case APX_F_WAIT_FOR_START: apx_tc_refs(T, v, APX_DEP_WAIT_START, "wait_for_start", apx_tc_owned(T, it)); break;
  case APX_F_WAIT_FOR_COMPLETION: apx_tc_refs(T, v, APX_DEP_WAIT_COMPLETION, "wait_for_completion", apx_tc_owned(T, it)); break;
  case APX_F_REPLICAS: apx_tc_int(T, v, "replicas", 1, 10000, &r->replicas); break;
  case APX_F_RESTART: {
    const char *s2 = apx_tc_const(T, v, "restart");
    if (!s2) break;
    if (strcmp(s2, "no") == 0) r->restart = APX_RESTART_NO;
    else if (strcmp(s2, "on-failure") == 0) r->restart = APX_RESTART_ON_FAILURE;
    else if (strcmp(s2, "always") == 0) r->restart = APX_RESTART_ALWAYS;
    else {
      static const char *const opts[] = {"no", "on-failure", "always"};
      apx_diagnostic *d = apx_error(m->diag, v->loc, "restart must be \"no\", \"on-failure\" or \"always\"");
      const char *sug = apx_suggest(s2, opts, 3);
      if (sug) apx_diag_hint(m->diag, d, "did you mean \"%s\"?", sug);
    }
    break;
  }
  case APX_F_LIFETIME: {
    const char *s2 = apx_tc_const(T, v, "lifetime");
    if (!s2) break;
    if (strcmp(s2, "session") == 0) r->lifetime = APX_LIFETIME_SESSION;
    else if (strcmp(s2, "persistent") == 0) r->lifetime = APX_LIFETIME_PERSISTENT;
    else apx_error(m->diag, v->loc, "lifetime must be \"session\" or \"persistent\"");
    break;
  }
  case APX_F_EXPLICIT_START: apx_tc_bool(T, v, "explicit_start", &r->explicit_start); break;
  case APX_F_PUBLISH: apx_tc_bool(T, v, "publish", &r->publish); break;
  case APX_F_LABELS: r->labels = apx_tc_map(T, it, &r->nlabels, true, "labels"); break;
  case APX_F_ANNOTATIONS: r->annotations = apx_tc_map(T, it, &r->nannotations, true, "annotations"); break;
  case APX_F_LOCAL: apx_tc_local(T, it, s->sub); break;
  case APX_F_CONNECTION_STRING: r->connection_string = apx_tc_string(T, v, false, "connection_string"); break;
  case APX_F_URL: r->url = apx_tc_string(T, v, false, "url"); break;
  case APX_F_SECRET: apx_tc_bool(T, v, "secret", &r->param->secret); break;
  case APX_F_DEFAULT:
    if (v->kind == APX_V_STRING || v->kind == APX_V_INT || v->kind == APX_V_BOOL)
      r->param->def = apx_tc_string(T, v, true, "default");
    else
      apx_error(m->diag, v->loc, "a param default must be a string, integer or boolean known at compile time");
    break;
  case APX_F_GENERATE: apx_tc_generate(T, it); break;
  case APX_F_DESCRIPTION: r->param->description = apx_tc_const(T, v, "description"); break;
  default: break;
  }
}

/* Required attributes are checked by presence: one that is there with a
 * wrong type was reported already. */
static bool apx_tc_written(const apx_resource *r, const char *name) {
  for (const apx_item *it = r->body; it; it = it->next)
    if (strcmp(it->name, name) == 0) return true;
  return false;
}

static void apx_tc_required(apx_tc *T) {
  apx_module *m = T->m;
  apx_resource *r = T->r;
  switch (r->kind) {
  case APX_KIND_CONTAINER:
    if (!apx_tc_written(r, "image") && !apx_tc_written(r, "build")) {
      apx_diagnostic *d = apx_error(m->diag, r->name_loc, "container '%s' needs an image or a build", r->name);
      apx_diag_hint(m->diag, d, "add image = \"docker.io/library/NAME:TAG\" or build { context = \"./dir\" }");
    }
    break;
  case APX_KIND_EXECUTABLE:
  case APX_KIND_PROJECT:
    if (!apx_tc_written(r, "command")) {
      apx_diagnostic *d = apx_error(m->diag, r->name_loc, "%s '%s' needs a command", apx_ir_kind_name(r->kind), r->name);
      apx_diag_hint(m->diag, d, "add command = \"python3\" (the program to run) and args = [...]");
    }
    if (!r->workdir) r->workdir = m->main_dir;
    if (r->kind == APX_KIND_PROJECT && !r->build && !r->image)
      apx_warning(m->diag, r->name_loc, "project '%s' has no build {} or image: it cannot be published", r->name);
    break;
  case APX_KIND_EXTERNAL:
    if (!apx_tc_written(r, "url") && !apx_tc_written(r, "connection_string") && !r->parent) {
      apx_diagnostic *d = apx_error(m->diag, r->name_loc, "external '%s' needs a url or a connection_string", r->name);
      apx_diag_hint(m->diag, d, "add url = \"https://…\"");
    }
    break;
  default: break;
  }
}

int apx_pass_typecheck(apx_module *m) {
  size_t errors = m->diag->errors;
  size_t nspec = 0;
  while (apx_schema_resource[nspec].name) nspec++;
  const apx_item **seen = calloc(nspec, sizeof *seen);
  apx_tc_memo *memo = calloc(1, sizeof *memo);
  if (!seen || !memo) abort();
  /* When the items go after this pass (m->items is an arena of their own,
   * apx_ir_drop_items), each resource's are freed once read, block by
   * block, so that the typed fields made here reuse their memory instead
   * of adding to the peak: resources were lowered in this order (a child's
   * items are inside its parent's, and it follows its parent), and the
   * components' bodies served expand only. */
  bool dropping = m->items != m->arena;
  if (dropping) apx_ir_drop_component_items(m);
  const void *freed = NULL;
  for (size_t i = 0; i < m->nresources; i++) {
    apx_tc T = {m, m->resources[i], {0}, dropping, memo};
    apx_map_init_str(&T.volumes, m->arena);
    apx_resource *r = T.r;
    if (dropping && r->items_mark && r->items_mark != freed) {
      apx_arena_free_before(m->items, r->items_mark);
      freed = r->items_mark;
    }
    if (r->type) { /* NULL: unknown kind, reported by resolve */
      if (r->kind == APX_KIND_PARAM) r->param = APX_NEW(m->arena, apx_param);
      memset(seen, 0, nspec * sizeof *seen);
      for (apx_item *it = r->body; it; it = it->next) apx_tc_item(&T, it, seen);
      apx_tc_required(&T);
      r->typed = true;
    }
    if (dropping) r->body = NULL;
    apx_map_release(&T.volumes); /* its slots serve the next resource's */
  }
  free(seen);
  free(memo);
  return (int)(m->diag->errors - errors);
}
