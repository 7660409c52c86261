/* The value walk (walk.h). */
#include "walk.h"

static apx_walk_step apx_walk_ref(apx_ref *ref, const apx_value_visitor *vis, void *ctx) {
  return ref && vis->ref ? vis->ref(ctx, ref) : APX_WALK_ON;
}

/* Whether walking v would call nothing: no value callback, and v a scalar
 * (no reference, no children). A list of strings (args) is then walked
 * without a call per item. */
static inline bool apx_walk_nothing(const apx_value *v, const apx_value_visitor *vis) {
  if (!v) return true;
  return !vis->value && apx_ir_value_is_scalar(v->kind);
}

bool apx_ir_value_walk(const apx_value *v, const apx_value_visitor *vis, void *ctx) {
  if (!v) return false;
  apx_walk_step s = vis->value ? vis->value(ctx, v) : APX_WALK_ON;
  if (s == APX_WALK_STOP) return true;
  if (s == APX_WALK_SKIP) return false;
  switch (v->kind) {
  case APX_V_REF: return apx_walk_ref(v->u.ref, vis, ctx) == APX_WALK_STOP;
  case APX_V_TEMPLATE:
    for (size_t i = 0; i < v->u.tpl.n; i++)
      if (v->u.tpl.parts[i].ref && apx_walk_ref(v->u.tpl.parts[i].ref, vis, ctx) == APX_WALK_STOP) return true;
    return false;
  case APX_V_LIST:
    for (size_t i = 0; i < v->u.list.n; i++)
      if (!apx_walk_nothing(v->u.list.items[i], vis) && apx_ir_value_walk(v->u.list.items[i], vis, ctx)) return true;
    return false;
  case APX_V_MAP:
    for (size_t i = 0; i < v->u.map.n; i++)
      if (!apx_walk_nothing(v->u.map.entries[i].value, vis) && apx_ir_value_walk(v->u.map.entries[i].value, vis, ctx))
        return true;
    return false;
  case APX_V_CALL:
    for (size_t i = 0; i < v->u.call.n; i++)
      if (!apx_walk_nothing(v->u.call.args[i], vis) && apx_ir_value_walk(v->u.call.args[i], vis, ctx)) return true;
    return false;
  default: return false;
  }
}

typedef struct apx_walk_addresses {
  void (*fn)(void *ctx, const apx_ref *ref, const apx_resource *runner);
  void *ctx;
  int depth; /* connection strings followed so far */
} apx_walk_addresses;

static void apx_walk_addresses_in(const apx_value *v, apx_walk_addresses *w);

static apx_walk_step apx_walk_address(void *ud, apx_ref *ref) {
  apx_walk_addresses *w = ud;
  if (!ref->target) return APX_WALK_ON;
  const apx_resource *t = ref->target;
  if (ref->prop == APX_PROP_CONNECTION_STRING || ref->prop == APX_PROP_RESOURCE) {
    apx_walk_addresses in = {w->fn, w->ctx, w->depth + 1};
    apx_walk_addresses_in(t->connection_string, &in);
    return APX_WALK_ON;
  }
  if (ref->prop < APX_PROP_EP_URL || ref->prop > APX_PROP_EP_SCHEME) return APX_WALK_ON;
  const apx_resource *run = apx_ir_runner(t);
  if (apx_ir_kind_runs(run->kind)) w->fn(w->ctx, ref, run);
  return APX_WALK_ON;
}

/* The depth bounds a chain of connection strings (typecheck reports cycles;
 * this walk must end even on a module with errors). */
static void apx_walk_addresses_in(const apx_value *v, apx_walk_addresses *w) {
  static const apx_value_visitor vis = {NULL, apx_walk_address};
  if (w->depth > 8) return;
  apx_ir_value_walk(v, &vis, w);
}

void apx_ir_value_addresses(const apx_value *v, void (*fn)(void *ctx, const apx_ref *ref, const apx_resource *runner),
                            void *ctx) {
  apx_walk_addresses w = {fn, ctx, 0};
  apx_walk_addresses_in(v, &w);
}
