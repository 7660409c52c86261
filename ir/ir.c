/* Building and finding things in the IR. */
#include "ir.h"
#include "walk.h"

#include <stdlib.h>
#include <string.h>

apx_module *apx_ir_module_new(apx_arena *arena, apx_diag *diag, const apx_options *opts) {
  apx_module *m = APX_NEW(arena, apx_module);
  m->arena = arena;
  m->items = arena;
  m->diag = diag;
  m->opts = opts;
  apx_map_init_str(&m->resource_index, arena);
  apx_map_init_str(&m->component_index, arena);
  return m;
}

static void apx_ir_drop_component_body(apx_component *c) {
  c->body = NULL;
  for (size_t i = 0; i < c->nchildren; i++) apx_ir_drop_component_body(c->children[i]);
}

void apx_ir_drop_component_items(apx_module *m) {
  for (size_t i = 0; i < m->ncomponents; i++) apx_ir_drop_component_body(m->components[i]);
}

void apx_ir_drop_items(apx_module *m) {
  for (size_t i = 0; i < m->nresources; i++) m->resources[i]->body = NULL;
  apx_ir_drop_component_items(m);
}

apx_resource *apx_ir_resource_new(apx_module *m, const char *name, apx_loc loc) {
  apx_resource *r = APX_NEW(m->arena, apx_resource);
  r->name = apx_arena_strdup(m->arena, name);
  r->loc = loc;
  r->name_loc = loc;
  r->replicas = 1;
  r->publish = true;
  return r;
}

/* The first declaration of a name wins; resolve reports the others. */
void apx_ir_resource_index(apx_module *m, apx_resource *r) {
  size_t *slot = apx_map_str(&m->resource_index, r->name, true);
  if (*slot == (size_t)-1) *slot = (size_t)(uintptr_t)r;
}

void apx_ir_resource_add(apx_module *m, apx_resource *r) {
  APX_VEC_PUSH(m->arena, m->resources, m->nresources, m->capresources, r);
  apx_ir_resource_index(m, r);
}

apx_resource *apx_ir_resource_find(const apx_module *m, const char *name) {
  if (!name) return NULL;
  size_t *slot = apx_map_str((apx_map *)&m->resource_index, name, false);
  return slot ? (apx_resource *)(uintptr_t)*slot : NULL;
}

void apx_ir_component_add(apx_module *m, apx_component *c) {
  APX_VEC_PUSH(m->arena, m->components, m->ncomponents, m->capcomponents, c);
  size_t *slot = apx_map_str(&m->component_index, c->name, true);
  if (*slot == (size_t)-1) *slot = (size_t)(uintptr_t)c;
}

apx_component *apx_ir_component_find(const apx_module *m, const char *name) {
  if (!name) return NULL;
  size_t *slot = apx_map_str((apx_map *)&m->component_index, name, false);
  return slot ? (apx_component *)(uintptr_t)*slot : NULL;
}

/* Collections of a resource are scanned while small and indexed once they
 * grow past APX_SCAN_MAX: most resources have a handful of endpoints and
 * env entries, and a hash map for each would cost more than the scan. */
enum { APX_SCAN_MAX = 64 };

static apx_map *apx_ir_index_new(apx_module *m, bool pointers) {
  apx_map *x = APX_NEW(m->arena, apx_map);
  if (pointers) apx_map_init_ptr(x, m->arena);
  else apx_map_init_str(x, m->arena);
  return x;
}

apx_endpoint *apx_ir_endpoint_find(const apx_resource *r, const char *name) {
  if (!name) return NULL;
  if (r->nendpoints <= APX_SCAN_MAX) {
    for (size_t i = 0; i < r->nendpoints; i++)
      if (strcmp(r->endpoints[i].name, name) == 0) return &r->endpoints[i];
    return NULL;
  }
  size_t *slot = apx_map_str(r->endpoint_index, name, false);
  return slot ? &r->endpoints[*slot] : NULL;
}

apx_endpoint *apx_ir_endpoint_add(apx_module *m, apx_resource *r, const apx_endpoint *e) {
  APX_VEC_PUSH(m->arena, r->endpoints, r->nendpoints, r->capendpoints, *e);
  if (r->nendpoints == APX_SCAN_MAX + 1) {
    r->endpoint_index = apx_ir_index_new(m, false);
    for (size_t i = 0; i < r->nendpoints; i++) *apx_map_str(r->endpoint_index, r->endpoints[i].name, true) = i;
  } else if (r->nendpoints > APX_SCAN_MAX) {
    *apx_map_str(r->endpoint_index, r->endpoints[r->nendpoints - 1].name, true) = r->nendpoints - 1;
  }
  return &r->endpoints[r->nendpoints - 1];
}

const apx_resource *apx_ir_runner(const apx_resource *r) {
  while (r && !apx_ir_kind_runs(r->kind) && r->parent) r = r->parent;
  return r;
}

bool apx_ir_kind_runs(apx_kind k) {
  return k == APX_KIND_CONTAINER || k == APX_KIND_EXECUTABLE || k == APX_KIND_PROJECT;
}

static const char *const apx_kind_names[APX_KIND__COUNT] = {
    "container", "executable", "project", "external", "param"};

const char *apx_ir_kind_name(apx_kind k) { return k < APX_KIND__COUNT ? apx_kind_names[k] : "?"; }

bool apx_ir_kind_from_name(const char *name, apx_kind *out) {
  for (int k = 0; k < APX_KIND__COUNT; k++)
    if (strcmp(apx_kind_names[k], name) == 0) {
      *out = (apx_kind)k;
      return true;
    }
  return false;
}

const char *apx_ir_dep_kind_name(apx_dep_kind k) {
  switch (k) {
  case APX_DEP_REFERENCE: return "reference";
  case APX_DEP_WAIT_HEALTHY: return "wait_for";
  case APX_DEP_WAIT_START: return "wait_for_start";
  case APX_DEP_WAIT_COMPLETION: return "wait_for_completion";
  }
  return "?";
}

const char *apx_ir_restart_name(apx_restart r) {
  switch (r) {
  case APX_RESTART_DEFAULT: return "default";
  case APX_RESTART_NO: return "no";
  case APX_RESTART_ON_FAILURE: return "on-failure";
  case APX_RESTART_ALWAYS: return "always";
  }
  return "?";
}

const char *apx_ir_prop_name(apx_prop p) {
  switch (p) {
  case APX_PROP_RESOURCE: return "resource";
  case APX_PROP_CONNECTION_STRING: return "connection_string";
  case APX_PROP_VALUE: return "value";
  case APX_PROP_NAME: return "name";
  case APX_PROP_URL: return "url";
  case APX_PROP_EP_URL: return "endpoint.url";
  case APX_PROP_EP_HOST: return "endpoint.host";
  case APX_PROP_EP_PORT: return "endpoint.port";
  case APX_PROP_EP_TARGET_PORT: return "endpoint.target_port";
  case APX_PROP_EP_SCHEME: return "endpoint.scheme";
  case APX_PROP_STATE_DIR: return "state_dir";
  case APX_PROP_INPUT: return "input";
  }
  return "?";
}

const char *apx_ir_value_kind_name(apx_value_kind k) {
  static const char *const names[] = {"null", "bool", "int", "duration", "string",
                                      "template", "list", "map", "ref", "call"};
  return (size_t)k < sizeof names / sizeof names[0] ? names[k] : "?";
}

void apx_ir_env_set(apx_module *m, apx_resource *r, const char *key, apx_value *v, apx_loc loc) {
  apx_entry *found = (apx_entry *)apx_ir_env_find(r, key);
  if (found) {
    found->value = v;
    return;
  }
  apx_ir_env_append(m, r, key, v, loc);
}

void apx_ir_env_append(apx_module *m, apx_resource *r, const char *key, apx_value *v, apx_loc loc) {
  apx_entry e = {key, loc, v};
  APX_VEC_PUSH(m->arena, r->env, r->nenv, r->capenv, e);
  if (r->nenv == APX_SCAN_MAX + 1) {
    r->env_index = apx_ir_index_new(m, false);
    for (size_t i = 0; i < r->nenv; i++) *apx_map_str(r->env_index, r->env[i].key, true) = i;
  } else if (r->nenv > APX_SCAN_MAX) {
    *apx_map_str(r->env_index, key, true) = r->nenv - 1;
  }
}

void apx_ir_env_append_many(apx_module *m, apx_resource *r, const apx_entry *e, size_t n) {
  if (!n) return;
  if (r->nenv + n > r->capenv) {
    r->env = apx_arena_grow(m->arena, r->env, sizeof *r->env * r->capenv, sizeof *r->env * (r->nenv + n));
    r->capenv = r->nenv + n;
  }
  memcpy(r->env + r->nenv, e, n * sizeof *e);
  size_t from = r->nenv;
  r->nenv += n;
  if (r->nenv <= APX_SCAN_MAX) return;
  if (!r->env_index) {
    r->env_index = apx_ir_index_new(m, false);
    from = 0;
  }
  for (size_t i = from; i < r->nenv; i++) *apx_map_str(r->env_index, r->env[i].key, true) = i;
}

const apx_entry *apx_ir_env_find(const apx_resource *r, const char *key) {
  if (r->nenv <= APX_SCAN_MAX) {
    for (size_t i = 0; i < r->nenv; i++)
      if (strcmp(r->env[i].key, key) == 0) return &r->env[i];
    return NULL;
  }
  size_t *slot = apx_map_str(r->env_index, key, false);
  return slot ? &r->env[*slot] : NULL;
}

/* The kind is folded into the second key: one entry per (target, kind). */
#define APX_DEP_KEY(kind) ((const void *)(uintptr_t)((kind) + 1))

void apx_ir_dep_add(apx_module *m, apx_resource *r, apx_dep_kind kind, apx_resource *target, apx_loc loc) {
  if (r->ndeps <= APX_SCAN_MAX) {
    for (size_t i = 0; i < r->ndeps; i++)
      if (r->deps[i].target == target && r->deps[i].kind == kind) return;
  } else if (apx_map_ptr(r->dep_index, target, APX_DEP_KEY(kind), false)) {
    return;
  }
  apx_dep d = {kind, target, loc};
  APX_VEC_PUSH(m->arena, r->deps, r->ndeps, r->capdeps, d);
  if (r->ndeps == APX_SCAN_MAX + 1) {
    r->dep_index = apx_ir_index_new(m, true);
    for (size_t i = 0; i < r->ndeps; i++) *apx_map_ptr(r->dep_index, r->deps[i].target, APX_DEP_KEY(r->deps[i].kind), true) = i;
  } else if (r->ndeps > APX_SCAN_MAX) {
    *apx_map_ptr(r->dep_index, target, APX_DEP_KEY(kind), true) = r->ndeps - 1;
  }
}

apx_value *apx_ir_value_new(apx_module *m, apx_value_kind kind, apx_loc loc) {
  apx_value *v = APX_NEW(m->arena, apx_value);
  v->kind = kind;
  v->loc = loc;
  return v;
}

apx_value *apx_ir_string(apx_module *m, const char *s, apx_loc loc) {
  apx_value *v = apx_ir_value_new(m, APX_V_STRING, loc);
  v->u.str.len = strlen(s);
  v->u.str.s = apx_arena_strndup(m->arena, s, v->u.str.len);
  return v;
}

apx_value *apx_ir_int(apx_module *m, int64_t i, apx_loc loc) {
  apx_value *v = apx_ir_value_new(m, APX_V_INT, loc);
  v->u.i = i;
  return v;
}

apx_ref *apx_ir_ref_new(apx_module *m, apx_resource *target, apx_prop prop, const char *endpoint, apx_loc loc) {
  apx_ref *ref = APX_NEW(m->arena, apx_ref);
  ref->target = target;
  ref->prop = prop;
  ref->endpoint = endpoint;
  ref->loc = loc;
  /* Made by a pass, not written: no path (npath 0); printers use target. */
  return ref;
}

apx_value *apx_ir_ref_template(apx_module *m, apx_resource *target, apx_prop prop, const char *endpoint, apx_loc loc) {
  return apx_ir_template_of(m, apx_ir_ref_new(m, target, prop, endpoint, loc), loc);
}

apx_value *apx_ir_template_of(apx_module *m, apx_ref *ref, apx_loc loc) {
  /* What apx_tb_ref and apx_tb_finish would make, without the builder's
   * array of four (tens of thousands of these). */
  apx_value *v = apx_ir_value_new(m, APX_V_TEMPLATE, loc);
  v->u.tpl.parts = APX_NEW(m->arena, apx_tpart);
  v->u.tpl.parts[0].ref = ref;
  v->u.tpl.n = 1;
  return v;
}

void apx_tb_init(apx_tbuilder *tb, apx_module *m, apx_loc loc) {
  memset(tb, 0, sizeof *tb);
  tb->m = m;
  tb->loc = loc;
}

void apx_tb_text(apx_tbuilder *tb, const char *s, size_t len) {
  if (len == 0) return;
  if (tb->tlen + len + 1 > tb->tcap) {
    /* The first piece is sized exactly (most strings are one piece); later
     * ones double the buffer, so appends stay linear. */
    size_t nc = tb->tcap ? tb->tcap * 2 : len + 1;
    while (nc < tb->tlen + len + 1) nc *= 2;
    tb->text = apx_arena_grow(tb->m->arena, tb->text, tb->tlen, nc);
    tb->tcap = nc;
  }
  memcpy(tb->text + tb->tlen, s, len);
  tb->tlen += len;
  tb->text[tb->tlen] = '\0';
}

/* Moves pending text into a part of its own; the buffer goes with it. */
static void apx_tb_flush(apx_tbuilder *tb) {
  if (!tb->tlen) return;
  /* Doubling left room behind: cut it (in place when it is the arena's
   * last allocation, as it mostly is). */
  if (tb->tcap > tb->tlen + 1) tb->text = apx_arena_grow(tb->m->arena, tb->text, tb->tcap, tb->tlen + 1);
  apx_tpart p = {tb->text, tb->tlen, NULL};
  APX_VEC_PUSH(tb->m->arena, tb->parts, tb->n, tb->cap, p);
  tb->text = NULL;
  tb->tlen = tb->tcap = 0;
}

void apx_tb_ref(apx_tbuilder *tb, apx_ref *ref) {
  apx_tb_flush(tb);
  apx_tpart p = {NULL, 0, ref};
  APX_VEC_PUSH(tb->m->arena, tb->parts, tb->n, tb->cap, p);
}

bool apx_tb_value(apx_tbuilder *tb, const apx_value *v) {
  switch (v->kind) {
  case APX_V_STRING: apx_tb_text(tb, v->u.str.s, v->u.str.len); return true;
  case APX_V_TEMPLATE:
    for (size_t i = 0; i < v->u.tpl.n; i++) {
      if (v->u.tpl.parts[i].ref) apx_tb_ref(tb, v->u.tpl.parts[i].ref);
      else apx_tb_text(tb, v->u.tpl.parts[i].text, v->u.tpl.parts[i].len);
    }
    return true;
  case APX_V_REF: apx_tb_ref(tb, v->u.ref); return true;
  default: return false;
  }
}

apx_value *apx_tb_finish(apx_tbuilder *tb) {
  if (tb->n == 0) { /* text only: no parts array at all */
    if (tb->tcap > tb->tlen + 1) tb->text = apx_arena_grow(tb->m->arena, tb->text, tb->tcap, tb->tlen + 1);
    apx_value *v = apx_ir_value_new(tb->m, APX_V_STRING, tb->loc);
    v->u.str.s = tb->tlen ? tb->text : "";
    v->u.str.len = tb->tlen;
    return v;
  }
  apx_tb_flush(tb);
  bool has_ref = false;
  for (size_t i = 0; i < tb->n; i++)
    if (tb->parts[i].ref) has_ref = true;
  apx_arena *a = tb->m->arena;
  if (!has_ref) {
    apx_value *v = apx_ir_value_new(tb->m, APX_V_STRING, tb->loc);
    v->u.str.s = tb->n ? tb->parts[0].text : "";
    v->u.str.len = tb->n ? tb->parts[0].len : 0;
    apx_arena_release(a, tb->parts, tb->cap * sizeof *tb->parts);
    return v;
  }
  apx_value *v = apx_ir_value_new(tb->m, APX_V_TEMPLATE, tb->loc);
  /* Exactly as many parts as there are: most templates hold one or two,
   * and the builder's array has room for four. */
  v->u.tpl.parts = tb->parts;
  if (tb->n < tb->cap) {
    v->u.tpl.parts = APX_NEW_ARRAY(a, apx_tpart, tb->n);
    memcpy(v->u.tpl.parts, tb->parts, tb->n * sizeof *tb->parts);
    apx_arena_release(a, tb->parts, tb->cap * sizeof *tb->parts);
  }
  v->u.tpl.n = tb->n;
  return v;
}

const char *apx_ir_value_type_name(const apx_value *v) {
  if (!v) return "nothing";
  switch (v->kind) {
  case APX_V_NULL: return "null";
  case APX_V_BOOL: return "a boolean";
  case APX_V_INT: return "an integer";
  case APX_V_DURATION: return "a duration";
  case APX_V_STRING: case APX_V_TEMPLATE: return "a string";
  case APX_V_LIST: return "a list";
  case APX_V_MAP: return "a map";
  case APX_V_REF: return "a reference";
  case APX_V_CALL: return "a function call";
  }
  return "a value";
}

/* Kahn's algorithm over wait and reference edges; a ready queue kept in
 * declaration order makes the result deterministic. */
apx_resource **apx_ir_topo_order(apx_module *m) {
  size_t n = m->nresources;
  apx_resource **out = APX_NEW_ARRAY(m->arena, apx_resource *, n ? n : 1);
  size_t *indeg = calloc(n + 1, sizeof *indeg), *start = calloc(n + 2, sizeof *start);
  size_t *fill = calloc(n + 1, sizeof *fill), *heap = calloc(n + 1, sizeof *heap);
  size_t nedges = 0;
  for (size_t i = 0; i < n; i++) nedges += m->resources[i]->ndeps;
  size_t *adj = calloc(nedges + 1, sizeof *adj), *tgt = calloc(nedges + 1, sizeof *tgt);
  if (!indeg || !start || !fill || !heap || !adj || !tgt) abort();
  apx_map pos;
  apx_map_init_ptr(&pos, m->arena);
  for (size_t i = 0; i < n; i++) *apx_map_ptr(&pos, m->resources[i], NULL, true) = i;
  /* Edges dependency -> dependent, in CSR layout. */
  size_t e = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < m->resources[i]->ndeps; k++, e++) {
      size_t *t = apx_map_ptr(&pos, m->resources[i]->deps[k].target, NULL, false);
      tgt[e] = t && *t != i ? *t : (size_t)-1;
      if (tgt[e] != (size_t)-1) start[tgt[e] + 1]++;
    }
  for (size_t i = 0; i < n; i++) start[i + 1] += start[i];
  e = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < m->resources[i]->ndeps; k++, e++) {
      if (tgt[e] == (size_t)-1) continue;
      adj[start[tgt[e]] + fill[tgt[e]]++] = i;
      indeg[i]++;
    }
  /* Kahn's algorithm; a min-heap on declaration index keeps ties in
   * declaration order, so the order is deterministic. */
  size_t hn = 0, nout = 0;
#define APX_HEAP_PUSH(x)                                                   \
  do {                                                                     \
    size_t c_ = hn++;                                                      \
    heap[c_] = (x);                                                        \
    while (c_ && heap[(c_ - 1) / 2] > heap[c_]) {                          \
      size_t p_ = (c_ - 1) / 2, t_ = heap[p_];                             \
      heap[p_] = heap[c_];                                                 \
      heap[c_] = t_;                                                       \
      c_ = p_;                                                             \
    }                                                                      \
  } while (0)
  for (size_t i = 0; i < n; i++)
    if (!indeg[i]) APX_HEAP_PUSH(i);
  while (hn) {
    size_t top = heap[0];
    heap[0] = heap[--hn];
    for (size_t c = 0;;) {
      size_t l = 2 * c + 1, r = l + 1, s = c;
      if (l < hn && heap[l] < heap[s]) s = l;
      if (r < hn && heap[r] < heap[s]) s = r;
      if (s == c) break;
      size_t t = heap[s];
      heap[s] = heap[c];
      heap[c] = t;
      c = s;
    }
    out[nout++] = m->resources[top];
    for (size_t k = start[top]; k < start[top + 1]; k++)
      if (--indeg[adj[k]] == 0) APX_HEAP_PUSH(adj[k]);
  }
#undef APX_HEAP_PUSH
  free(indeg); free(start); free(fill); free(heap); free(adj); free(tgt);
  return nout == n ? out : NULL;
}

/* Depth-bounded: connection strings refer to each other, a cycle is possible
 * before validate has run. */
static bool apx_value_has_secret_d(const apx_value *v, int depth);

static apx_walk_step apx_secret_ref(void *ctx, apx_ref *ref) {
  int depth = *(int *)ctx;
  const apx_resource *t = ref->target;
  bool secret = false;
  if (!t) secret = false;
  else if (t->kind == APX_KIND_PARAM)
    secret = (ref->prop == APX_PROP_VALUE || ref->prop == APX_PROP_RESOURCE) && t->param && t->param->secret;
  else if (ref->prop == APX_PROP_CONNECTION_STRING || ref->prop == APX_PROP_RESOURCE)
    secret = apx_value_has_secret_d(t->connection_string, depth + 1);
  else if (ref->prop == APX_PROP_URL) secret = apx_value_has_secret_d(t->url, depth + 1);
  return secret ? APX_WALK_STOP : APX_WALK_ON;
}

static bool apx_value_has_secret_d(const apx_value *v, int depth) {
  static const apx_value_visitor vis = {NULL, apx_secret_ref};
  if (depth > 32) return false;
  return apx_ir_value_walk(v, &vis, &depth);
}

bool apx_ir_value_has_secret(const apx_value *v) { return apx_value_has_secret_d(v, 0); }
