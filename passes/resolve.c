/* Pass 1, resolve, over a module whose sources the driver has all loaded
 * and lowered: checks that names are unique, gives every resource its kind
 * (built-in or component), creates child resources (a postgres `database`)
 * and binds the references written in instance bodies. References written inside components are bound by
 * expand, which knows the instance they belong to. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "ir/walk.h"
#include "passes_internal.h"
#include "pipeline.h"

/* ---- names ---------------------------------------------------------- */

void apx_report_unknown_name(apx_module *m, const char *name, apx_loc loc, const char *what) {
  if (!apx_diag_may_suggest(m->diag)) {
    apx_error(m->diag, loc, "unknown %s '%s'", what, name);
    return;
  }
  const char **cands = malloc(sizeof *cands * (m->nresources + 1));
  if (!cands) abort();
  for (size_t i = 0; i < m->nresources; i++) cands[i] = m->resources[i]->name;
  const char *s = apx_suggest(name, cands, m->nresources);
  apx_diagnostic *d = apx_error(m->diag, loc, "unknown %s '%s'", what, name);
  if (s) apx_diag_hint(m->diag, d, "did you mean '%s'?", s);
  free(cands);
}

static void apx_check_duplicates(apx_module *m) {
  for (size_t i = 0; i < m->nresources; i++) {
    apx_resource *r = m->resources[i];
    apx_resource *first = apx_ir_resource_find(m, r->name);
    if (first != r) {
      apx_error(m->diag, r->name_loc, "'%s' is declared twice", r->name);
      apx_note(m->diag, first->name_loc, "'%s' was first declared here", r->name);
    }
  }
  for (size_t i = 0; i < m->ncomponents; i++) {
    apx_component *c = m->components[i];
    apx_kind k;
    if (apx_ir_kind_from_name(c->name, &k)) {
      apx_error(m->diag, c->name_loc, "component '%s' has the name of a built-in kind", c->name);
      continue;
    }
    apx_component *first = apx_ir_component_find(m, c->name);
    if (first != c) {
      apx_error(m->diag, c->name_loc, "component '%s' is declared twice", c->name);
      apx_note(m->diag, first->name_loc, "first declared here");
    }
  }
}

static void apx_unknown_kind(apx_module *m, const char *name, apx_loc loc) {
  if (!apx_diag_may_suggest(m->diag)) {
    apx_error(m->diag, loc, "unknown kind '%s'", name);
    return;
  }
  size_t n = APX_KIND__COUNT + m->ncomponents;
  const char **cands = malloc(sizeof *cands * n);
  if (!cands) abort();
  size_t k = 0;
  for (int i = 0; i < APX_KIND__COUNT; i++)
    if (i != APX_KIND_PARAM) cands[k++] = apx_ir_kind_name((apx_kind)i);
  for (size_t i = 0; i < m->ncomponents; i++) cands[k++] = m->components[i]->name;
  const char *s = apx_suggest(name, cands, k);
  apx_diagnostic *d = apx_error(m->diag, loc, "unknown kind '%s'", name);
  if (s) apx_diag_hint(m->diag, d, "did you mean '%s'?", s);
  else apx_diag_hint(m->diag, d, "built-in kinds are container, executable, project and external; "
                                 "a component must be declared or imported (import \"%s\")", name);
  free(cands);
}

/* Resolves a component's `extends` chain down to a built-in kind, walking
 * it iteratively (a chain may be long) and naming a cycle in full. Child
 * kinds look in their owner first, so `database` can extend a sibling. */
static bool apx_component_resolve_kind(apx_module *m, apx_component *c) {
  apx_component **path = NULL;
  size_t n = 0, cap = 0;
  bool ok = false;
  apx_kind kind = APX_KIND_CONTAINER;
  for (apx_component *cur = c; cur;) {
    if (cur->kind_resolved) {
      kind = cur->kind;
      ok = true;
      break;
    }
    if (cur->failed) break;
    if (cur->resolving) {
      apx_buf chain = {0};
      size_t from = 0;
      while (path[from] != cur) from++;
      for (size_t i = from; i < n; i++) apx_buf_printf(&chain, "%s -> ", path[i]->name);
      apx_buf_puts(&chain, cur->name);
      apx_error(m->diag, cur->extends_loc, "component '%s' extends itself: %s", cur->name, apx_buf_str(&chain));
      apx_buf_free(&chain);
      break;
    }
    cur->resolving = true;
    APX_VEC_PUSH(m->arena, path, n, cap, cur);
    apx_kind k;
    if (apx_ir_kind_from_name(cur->extends, &k) && k != APX_KIND_PARAM) {
      kind = k;
      ok = true;
      break;
    }
    apx_component *base = NULL;
    for (apx_component *o = cur->owner; o && !base; o = o->owner)
      for (size_t i = 0; i < o->nchildren; i++)
        if (o->children[i] != cur && strcmp(o->children[i]->name, cur->extends) == 0) base = o->children[i];
    if (!base) base = apx_ir_component_find(m, cur->extends);
    if (!base) {
      apx_unknown_kind(m, cur->extends, cur->extends_loc);
      break;
    }
    cur->base = base;
    cur = base;
  }
  for (size_t i = 0; i < n; i++) {
    path[i]->resolving = false;
    path[i]->kind = kind;
    path[i]->kind_resolved = ok;
    path[i]->failed = !ok;
  }
  return ok;
}

static void apx_components_resolve(apx_module *m, apx_component *const *cs, size_t n) {
  for (size_t i = 0; i < n; i++) {
    apx_component_resolve_kind(m, cs[i]);
    apx_components_resolve(m, cs[i]->children, cs[i]->nchildren);
  }
}

/* The child kind named `keyword` visible to instances of c (its own and its
 * bases'), or NULL. */
static apx_component *apx_child_kind(apx_component *c, const char *keyword) {
  for (; c; c = c->base)
    for (size_t i = 0; i < c->nchildren; i++)
      if (strcmp(c->children[i]->name, keyword) == 0) return c->children[i];
  return NULL;
}

/* Takes `database NAME { … }` blocks out of an instance body and makes them
 * resources with a parent link. Children of children work the same way. */
static void apx_create_children(apx_module *m, apx_resource *r, apx_resource ***out, size_t *nout, size_t *capout) {
  if (!r->component) return;
  apx_item **link = &r->body;
  while (*link) {
    apx_item *it = *link;
    apx_component *ck = it->kind == APX_IT_BLOCK ? apx_child_kind(r->component, it->name) : NULL;
    if (!ck) {
      link = &it->next;
      continue;
    }
    *link = it->next;
    if (!it->label) {
      apx_diagnostic *d = apx_error(m->diag, it->loc, "a %s needs a name", it->name);
      apx_diag_hint(m->diag, d, "write it as: %s NAME { }", it->name);
      continue;
    }
    apx_resource *c = apx_ir_resource_new(m, it->label, it->loc);
    c->name_loc = apx_item_label_loc(it);
    c->type = ck->name;
    c->type_loc = apx_item_name_loc(it);
    c->component = ck;
    c->kind = ck->kind;
    c->parent = r;
    c->dir = apx_diag_source(m->diag, it->loc.file)->dir;
    c->body = it->body;
    apx_ir_resource_index(m, c); /* placed by the caller, right after its parent */
    APX_VEC_PUSH(m->arena, *out, *nout, *capout, c);
    apx_create_children(m, c, out, nout, capout);
  }
}

static void apx_resolve_kinds(apx_module *m) {
  apx_components_resolve(m, m->components, m->ncomponents);
  apx_resource **order = NULL;
  size_t n = 0, cap = 0;
  size_t count = m->nresources;
  for (size_t i = 0; i < count; i++) {
    apx_resource *r = m->resources[i];
    APX_VEC_PUSH(m->arena, order, n, cap, r);
    if (r->kind == APX_KIND_PARAM && strcmp(r->type, "param") == 0) continue;
    apx_kind k;
    if (apx_ir_kind_from_name(r->type, &k) && k != APX_KIND_PARAM) {
      r->kind = k;
      continue;
    }
    apx_component *c = apx_ir_component_find(m, r->type);
    if (c && !c->kind_resolved) { /* its component is broken: reported already */
      r->type = NULL;
      continue;
    }
    if (!c) {
      apx_unknown_kind(m, r->type, r->type_loc);
      r->kind = APX_KIND_EXTERNAL; /* keeps later checks quiet */
      r->type = NULL;
      continue;
    }
    r->component = c;
    r->kind = c->kind;
    apx_create_children(m, r, &order, &n, &cap);
  }
  m->resources = order;
  m->nresources = n;
  m->capresources = cap;
}

/* ---- references ----------------------------------------------------- */

static const char *const apx_prop_names[] = {"connection_string", "value", "name", "url",
                                             "endpoints", "state_dir"};

static bool apx_ref_bind_path(apx_module *m, apx_ref *ref, apx_resource *target, size_t first);

/* On failure the reference is left unbound, so later passes stay quiet. */
bool apx_ref_bind(apx_module *m, apx_ref *ref, apx_resource *target, size_t first) {
  if (apx_ref_bind_path(m, ref, target, first)) return true;
  ref->target = NULL;
  return false;
}

static bool apx_ref_bind_path(apx_module *m, apx_ref *ref, apx_resource *target, size_t first) {
  ref->target = target;
  ref->prop = APX_PROP_RESOURCE;
  if (first >= ref->npath) return true;
  const char *p = ref->path[first];
  apx_loc pl = apx_ref_path_loc(ref, (uint32_t)first);
  size_t rest = ref->npath - first - 1;
  /* The first byte before each strcmp: a property is read per reference. */
  if (p[0] == 'e' && strcmp(p, "endpoints") == 0) {
    if (rest == 0) {
      apx_diagnostic *d = apx_error(m->diag, pl, "'endpoints' needs an endpoint name");
      apx_diag_hint(m->diag, d, "write %s.endpoints.NAME.url (or .host, .port, .target_port, .scheme)", target->name);
      return false;
    }
    /* Endpoints belong to what runs: a database's are its server's. */
    apx_resource *owner = (apx_resource *)apx_ir_runner(target);
    ref->target = owner ? owner : target;
    ref->endpoint = ref->path[first + 1];
    ref->endpoint_begin = ref->path_locs[first + 1].begin;
    ref->endpoint_end = ref->path_locs[first + 1].end;
    if (rest == 1) {
      ref->prop = APX_PROP_EP_URL;
      return true;
    }
    if (rest > 2) {
      apx_error(m->diag, apx_ref_path_loc(ref, (uint32_t)(first + 3)), "nothing follows an endpoint property");
      return false;
    }
    static const struct { const char *name; apx_prop prop; } eps[] = {
        {"url", APX_PROP_EP_URL}, {"host", APX_PROP_EP_HOST}, {"port", APX_PROP_EP_PORT},
        {"target_port", APX_PROP_EP_TARGET_PORT}, {"scheme", APX_PROP_EP_SCHEME}};
    const char *q = ref->path[first + 2];
    for (size_t i = 0; i < sizeof eps / sizeof eps[0]; i++)
      if (eps[i].name[0] == q[0] && strcmp(eps[i].name, q) == 0) {
        ref->prop = eps[i].prop;
        return true;
      }
    const char *cands[] = {"url", "host", "port", "target_port", "scheme"};
    apx_diagnostic *d = apx_error(m->diag, apx_ref_path_loc(ref, (uint32_t)(first + 2)), "unknown endpoint property '%s'", q);
    const char *s = apx_suggest(q, cands, 5);
    apx_diag_hint(m->diag, d, s ? "did you mean '%s'?" : "%s", s ? s : "an endpoint has url, host, port, target_port and scheme");
    return false;
  }
  if (rest > 0) {
    apx_error(m->diag, apx_ref_path_loc(ref, (uint32_t)(first + 1)), "'%s' has no property '%s'", p, ref->path[first + 1]);
    return false;
  }
  if (strcmp(p, "connection_string") == 0) ref->prop = APX_PROP_CONNECTION_STRING;
  else if (strcmp(p, "value") == 0) ref->prop = APX_PROP_VALUE;
  else if (strcmp(p, "name") == 0) ref->prop = APX_PROP_NAME;
  else if (strcmp(p, "url") == 0) ref->prop = APX_PROP_URL;
  else if (strcmp(p, "state_dir") == 0) ref->prop = APX_PROP_STATE_DIR;
  else {
    apx_diagnostic *d = apx_error(m->diag, pl, "unknown property '%s' of '%s'", p, target->name);
    const char *s = apx_suggest(p, apx_prop_names, sizeof apx_prop_names / sizeof apx_prop_names[0]);
    if (s) apx_diag_hint(m->diag, d, "did you mean '%s'?", s);
    else apx_diag_hint(m->diag, d, "a resource has connection_string, name, url, endpoints.NAME.url and state_dir; a param has value");
    return false;
  }
  if (ref->prop == APX_PROP_VALUE && target->kind != APX_KIND_PARAM) {
    apx_error(m->diag, pl, "'%s' is not a param: only params have a value", target->name);
    return false;
  }
  return true;
}

/* The resources named by references, remembered by the address of the
 * name: the scanner interns names, so the references of one resource and
 * of its neighbours (a cell of a large topology) name a few addresses over
 * and over. A hit is checked by the resource's name, so it is what the
 * module's index gives. */
enum { APX_BIND_MEMO = 1024 };
typedef struct apx_bind_memo {
  struct {
    const char *name;
    apx_resource *r;
  } e[APX_BIND_MEMO];
} apx_bind_memo;

typedef struct apx_bind_ctx {
  apx_module *m;
  apx_resource *self;
  apx_bind_memo *memo;
} apx_bind_ctx;

static apx_resource *apx_bind_find(apx_bind_ctx *b, const char *name) {
  size_t h = (size_t)(((uint64_t)(uintptr_t)name * 0x9E3779B97F4A7C15ULL) >> 54) % APX_BIND_MEMO;
  if (b->memo->e[h].name == name && strcmp(b->memo->e[h].r->name, name) == 0) return b->memo->e[h].r;
  apx_resource *r = apx_ir_resource_find(b->m, name);
  if (r) {
    b->memo->e[h].name = name;
    b->memo->e[h].r = r;
  }
  return r;
}

static void apx_bind_ref_in(apx_bind_ctx *b, apx_ref *ref) {
  if (ref->target || ref->npath == 0) return;
  const char *first = ref->path[0];
  if (first[0] == 's' && strcmp(first, "self") == 0) {
    if (ref->npath == 1) {
      apx_error(b->m->diag, ref->loc, "'self' needs a property, such as self.endpoints.http.port");
      return;
    }
    apx_ref_bind(b->m, ref, b->self, 1);
    return;
  }
  if (first[0] == 'p' && strcmp(first, "parent") == 0) {
    if (!b->self->parent) {
      apx_error(b->m->diag, apx_ref_path_loc(ref, 0), "'%s' has no parent", b->self->name);
      return;
    }
    apx_ref_bind(b->m, ref, b->self->parent, 1);
    return;
  }
  apx_resource *t = apx_bind_find(b, first);
  if (!t) {
    apx_report_unknown_name(b->m, first, apx_ref_path_loc(ref, 0), "resource");
    ref->prop = APX_PROP_RESOURCE;
    return;
  }
  apx_ref_bind(b->m, ref, t, 1);
}

static apx_walk_step apx_bind_visit_ref(void *ud, apx_ref *ref) {
  apx_bind_ref_in(ud, ref);
  return APX_WALK_ON;
}

static void apx_bind_value(apx_bind_ctx *b, apx_value *v) {
  static const apx_value_visitor vis = {NULL, apx_bind_visit_ref};
  if (v->kind == APX_V_STRING) return; /* most: nothing to walk */
  apx_ir_value_walk(v, &vis, b);
}

static apx_value *apx_bind_cb(void *ud, apx_item *owner, apx_value *v) {
  apx_bind_ctx *b = ud;
  if (!owner->from) apx_bind_value(b, v); /* instance-written only */
  return v;
}

void apx_items_map_values(apx_item *items, apx_value_fn fn, void *ud) {
  for (apx_item *it = items; it; it = it->next) {
    if (it->kind == APX_IT_ATTR && it->value) it->value = fn(ud, it, it->value);
    else if (it->kind == APX_IT_BLOCK) apx_items_map_values(it->body, fn, ud);
  }
}

int apx_pass_resolve(apx_module *m) {
  size_t errors = m->diag->errors;
  apx_resolve_kinds(m);
  apx_check_duplicates(m);
  apx_bind_memo *memo = calloc(1, sizeof *memo);
  if (!memo) abort();
  for (size_t i = 0; i < m->nresources; i++) {
    apx_bind_ctx b = {m, m->resources[i], memo};
    apx_items_map_values(m->resources[i]->body, apx_bind_cb, &b);
  }
  free(memo);
  return (int)(m->diag->errors - errors);
}
