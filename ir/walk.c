/* The value walk (walk.h). */
#include "walk.h"

static apx_walk_step apx_walk_ref(apx_ref *ref, const apx_value_visitor *vis, void *ctx) {
  return ref && vis->ref ? vis->ref(ctx, ref) : APX_WALK_ON;
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
      if (apx_ir_value_walk(v->u.list.items[i], vis, ctx)) return true;
    return false;
  case APX_V_MAP:
    for (size_t i = 0; i < v->u.map.n; i++)
      if (apx_ir_value_walk(v->u.map.entries[i].value, vis, ctx)) return true;
    return false;
  case APX_V_CALL:
    for (size_t i = 0; i < v->u.call.n; i++)
      if (apx_ir_value_walk(v->u.call.args[i], vis, ctx)) return true;
    return false;
  default: return false;
  }
}
