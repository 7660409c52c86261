/* Lowering: one parsed file into the module. Resources, params and
 * components become IR objects whose bodies are generic items; nothing is
 * resolved here (resolve and expand do that), so this is a direct walk. */
#include <string.h>

#include "lower.h"
#include "frontend/ast.h"
#include "ir.h"

typedef struct apx_lower {
  apx_module *m;
  uint32_t file;
  const char *dir;
  apx_lower_import_fn on_import;
  void *ud;
} apx_lower;

static apx_value *apx_lower_expr(apx_lower *L, const apx_ast_expr *e);
static apx_item *apx_lower_items(apx_lower *L, const apx_ast_item *it, apx_component *from,
                                 apx_component *owner_for_children);

static apx_ref *apx_lower_ref(apx_lower *L, const apx_ast_expr *e) {
  apx_ref *ref = APX_NEW(L->m->arena, apx_ref);
  size_t n = 0;
  for (const apx_ast_name *p = e->u.path; p; p = p->next) n++;
  ref->path = APX_NEW_ARRAY(L->m->items, const char *, n ? n : 1);
  ref->path_locs = APX_NEW_ARRAY(L->m->items, apx_span, n ? n : 1);
  size_t i = 0;
  for (const apx_ast_name *p = e->u.path; p; p = p->next, i++) {
    ref->path[i] = p->name;
    ref->path_locs[i] = (apx_span){p->loc.begin, p->loc.end};
  }
  ref->npath = n;
  ref->loc = e->loc;
  return ref;
}

/* A string with interpolations. Texts and references build a template
 * directly; anything else (a call, a nested list) turns the whole string
 * into a call of the internal "__concat", folded by expand. */
static apx_value *apx_lower_string(apx_lower *L, const apx_ast_expr *e) {
  bool needs_concat = false;
  size_t nparts = 0;
  for (const apx_ast_strpart *p = e->u.str.parts; p; p = p->next) {
    nparts++;
    if (p->expr && p->expr->kind != APX_EX_REF && p->expr->kind != APX_EX_STRING &&
        p->expr->kind != APX_EX_INT && p->expr->kind != APX_EX_BOOL)
      needs_concat = true;
  }
  if (needs_concat) {
    apx_value *v = apx_ir_value_new(L->m, APX_V_CALL, e->loc);
    v->u.call.name = "__concat";
    v->u.call.args = APX_NEW_ARRAY(L->m->arena, apx_value *, nparts ? nparts : 1);
    for (const apx_ast_strpart *p = e->u.str.parts; p; p = p->next) {
      apx_value *a;
      if (p->expr) {
        a = apx_lower_expr(L, p->expr);
      } else {
        a = apx_ir_value_new(L->m, APX_V_STRING, e->loc);
        a->u.str.s = apx_arena_strndup(L->m->arena, p->text, p->len);
        a->u.str.len = p->len;
      }
      v->u.call.args[v->u.call.n++] = a;
    }
    return v;
  }
  const apx_ast_strpart *only = e->u.str.parts;
  if (nparts == 1 && !only->expr && only->text) {
    /* Plain text (most strings): the front end's copy is in the module's
     * arena already; a second one would only be garbage. */
    apx_value *v = apx_ir_value_new(L->m, APX_V_STRING, e->loc);
    v->u.str.s = only->text;
    v->u.str.len = only->len;
    return v;
  }
  apx_tbuilder tb;
  apx_tb_init(&tb, L->m, e->loc);
  for (const apx_ast_strpart *p = e->u.str.parts; p; p = p->next) {
    if (!p->expr) {
      apx_tb_text(&tb, p->text, p->len);
      continue;
    }
    apx_value *pv = apx_lower_expr(L, p->expr);
    if (pv->kind == APX_V_INT) {
      char num[32];
      snprintf(num, sizeof num, "%lld", (long long)pv->u.i);
      apx_tb_text(&tb, num, strlen(num));
    } else if (pv->kind == APX_V_BOOL) {
      apx_tb_text(&tb, pv->u.b ? "true" : "false", pv->u.b ? 4 : 5);
    } else {
      apx_tb_value(&tb, pv);
    }
  }
  return apx_tb_finish(&tb);
}

static apx_value *apx_lower_expr(apx_lower *L, const apx_ast_expr *e) {
  apx_module *m = L->m;
  switch (e->kind) {
  case APX_EX_NULL: return apx_ir_value_new(m, APX_V_NULL, e->loc);
  case APX_EX_BOOL: {
    apx_value *v = apx_ir_value_new(m, APX_V_BOOL, e->loc);
    v->u.b = e->u.b;
    return v;
  }
  case APX_EX_INT: return apx_ir_int(m, e->u.i, e->loc);
  case APX_EX_DURATION: {
    apx_value *v = apx_ir_value_new(m, APX_V_DURATION, e->loc);
    v->u.i = e->u.ms;
    return v;
  }
  case APX_EX_STRING: return apx_lower_string(L, e);
  case APX_EX_LIST: {
    apx_value *v = apx_ir_value_new(m, APX_V_LIST, e->loc);
    size_t n = 0;
    for (const apx_ast_expr *x = e->u.items; x; x = x->next) n++;
    v->u.list.items = APX_NEW_ARRAY(m->arena, apx_value *, n ? n : 1);
    for (const apx_ast_expr *x = e->u.items; x; x = x->next)
      v->u.list.items[v->u.list.n++] = apx_lower_expr(L, x);
    return v;
  }
  case APX_EX_MAP: {
    apx_value *v = apx_ir_value_new(m, APX_V_MAP, e->loc);
    size_t n = 0;
    for (const apx_ast_item *x = e->u.entries; x; x = x->next) n++;
    v->u.map.entries = APX_NEW_ARRAY(m->arena, apx_entry, n ? n : 1);
    apx_map seen;
    apx_map_init_str(&seen, m->arena);
    for (const apx_ast_item *x = e->u.entries; x; x = x->next) {
      if (x->kind != APX_ITEM_ATTR || !x->value) continue;
      size_t *first = apx_map_str(&seen, x->name, true);
      if (*first != (size_t)-1) {
        apx_error(m->diag, x->name_loc, "duplicate key '%s' in map", x->name);
        apx_note(m->diag, v->u.map.entries[*first].key_loc, "'%s' was first set here", x->name);
        continue;
      }
      *first = v->u.map.n;
      apx_entry en = {x->name, x->name_loc, apx_lower_expr(L, x->value)};
      v->u.map.entries[v->u.map.n++] = en;
    }
    apx_map_release(&seen);
    return v;
  }
  case APX_EX_REF: {
    apx_value *v = apx_ir_value_new(m, APX_V_REF, e->loc);
    v->u.ref = apx_lower_ref(L, e);
    return v;
  }
  case APX_EX_CALL: {
    apx_value *v = apx_ir_value_new(m, APX_V_CALL, e->loc);
    v->u.call.name = e->u.call.name;
    size_t n = 0;
    for (const apx_ast_expr *x = e->u.call.args; x; x = x->next) n++;
    v->u.call.args = APX_NEW_ARRAY(m->arena, apx_value *, n ? n : 1);
    for (const apx_ast_expr *x = e->u.call.args; x; x = x->next)
      v->u.call.args[v->u.call.n++] = apx_lower_expr(L, x);
    return v;
  }
  }
  return apx_ir_value_new(m, APX_V_NULL, e->loc);
}

static apx_component *apx_lower_component(apx_lower *L, const apx_ast_item *it, apx_component *owner);

/* Lowers a body. Inputs, child kinds and per-instance params are only
 * meaningful in a component (owner != NULL); elsewhere they are errors. */
static apx_item *apx_lower_items(apx_lower *L, const apx_ast_item *it, apx_component *from,
                                 apx_component *owner) {
  apx_item *head = NULL, **tail = &head;
  for (; it; it = it->next) {
    apx_item *x = NULL;
    switch (it->kind) {
    case APX_ITEM_ATTR:
      x = APX_NEW(L->m->items, apx_item);
      x->kind = APX_IT_ATTR;
      x->value = apx_lower_expr(L, it->value);
      break;
    case APX_ITEM_BLOCK:
      x = APX_NEW(L->m->items, apx_item);
      x->kind = APX_IT_BLOCK;
      x->body = apx_lower_items(L, it->body, from, NULL);
      break;
    case APX_ITEM_PARAM:
      if (!owner) {
        apx_error(L->m->diag, it->loc, "a param is declared at the top level or in a component, not inside a block");
        continue;
      }
      /* A per-instance parameter: kept as a `param NAME { … }` block that
       * expand turns into a parameter resource for each instance. */
      x = APX_NEW(L->m->items, apx_item);
      x->kind = APX_IT_BLOCK;
      x->name = "param";
      x->label = it->name;
      apx_item_set_label_loc(x, it->name_loc);
      x->body = apx_lower_items(L, it->body, from, NULL);
      x->loc = it->loc;
      apx_item_set_name_loc(x, it->loc);
      x->from = from;
      *tail = x;
      tail = &x->next;
      continue;
    case APX_ITEM_INPUT:
      if (!owner) {
        apx_diagnostic *d = apx_error(L->m->diag, it->loc, "'input' is only allowed in a component body");
        apx_diag_hint(L->m->diag, d, "declare a component: component NAME extends KIND { input %s … }", it->name);
        continue;
      }
      {
        size_t *first = apx_map_str(&owner->input_index, it->name, true);
        if (*first != (size_t)-1) {
          apx_error(L->m->diag, it->name_loc, "input '%s' is declared twice", it->name);
          apx_note(L->m->diag, owner->inputs[*first].loc, "first declared here");
          continue;
        }
        *first = owner->ninputs;
        apx_input in = {it->name, it->name_loc, it->value ? apx_lower_expr(L, it->value) : NULL};
        APX_VEC_PUSH(L->m->arena, owner->inputs, owner->ninputs, owner->capinputs, in);
      }
      continue;
    case APX_ITEM_COMPONENT:
      if (!owner) {
        apx_error(L->m->diag, it->loc, "a component is declared at the top level or inside another component");
        continue;
      }
      {
        apx_component *child = apx_lower_component(L, it, owner);
        APX_VEC_PUSH(L->m->arena, owner->children, owner->nchildren, owner->capchildren, child);
      }
      continue;
    case APX_ITEM_IMPORT:
      apx_error(L->m->diag, it->loc, "'import' is only allowed at the top level");
      continue;
    }
    x->loc = it->loc;
    x->name = it->name;
    apx_item_set_name_loc(x, it->name_loc);
    x->name_quoted = it->name_quoted;
    x->label = it->label;
    apx_item_set_label_loc(x, it->label_loc);
    x->from = from;
    *tail = x;
    tail = &x->next;
  }
  return head;
}

static apx_component *apx_lower_component(apx_lower *L, const apx_ast_item *it, apx_component *owner) {
  apx_component *c = APX_NEW(L->m->arena, apx_component);
  c->name = it->name;
  c->loc = it->loc;
  c->name_loc = it->name_loc;
  c->extends = it->extends;
  c->extends_loc = it->extends_loc;
  c->owner = owner;
  c->dir = L->dir;
  apx_map_init_str(&c->input_index, L->m->arena);
  c->body = apx_lower_items(L, it->body, c, c);
  return c;
}

/* One top-level item. */
static void apx_lower_top(apx_lower *L, const apx_ast_item *it) {
  apx_module *m = L->m;
  switch (it->kind) {
  case APX_ITEM_IMPORT:
    if (L->on_import) L->on_import(L->ud, it->name, it->loc); /* the driver's loader reads it */
    break;
  case APX_ITEM_PARAM: {
    apx_resource *r = apx_ir_resource_new(m, it->name, it->loc);
    r->name_loc = it->name_loc;
    r->kind = APX_KIND_PARAM;
    r->type = "param";
    r->type_loc = it->loc;
    r->dir = L->dir;
    r->items_mark = apx_arena_mark(m->items);
    r->body = apx_lower_items(L, it->body, NULL, NULL);
    apx_ir_resource_add(m, r);
    break;
  }
  case APX_ITEM_COMPONENT: apx_ir_component_add(m, apx_lower_component(L, it, NULL)); break;
  case APX_ITEM_BLOCK: {
    if (!it->label) {
      apx_diagnostic *d = apx_error(m->diag, it->loc, "resource of kind '%s' has no name", it->name);
      apx_diag_hint(m->diag, d, "write it as: %s NAME { … }", it->name);
      break;
    }
    apx_resource *r = apx_ir_resource_new(m, it->label, it->loc);
    r->name_loc = it->label_loc;
    r->type = it->name;
    r->type_loc = it->name_loc;
    r->dir = L->dir;
    r->items_mark = apx_arena_mark(m->items);
    r->body = apx_lower_items(L, it->body, NULL, NULL);
    apx_ir_resource_add(m, r);
    break;
  }
  case APX_ITEM_ATTR:
  case APX_ITEM_INPUT: {
    apx_diagnostic *d = apx_error(m->diag, it->loc, "'%s' is not allowed at the top level", it->name);
    apx_diag_hint(m->diag, d, "the top level holds resources, params, components and imports");
    break;
  }
  }
}

static void apx_lower_each(void *ud, const apx_ast_item *it) { apx_lower_top(ud, it); }

size_t apx_lower_source(apx_module *m, uint32_t file, apx_lower_import_fn on_import, void *ud) {
  return apx_lower_source_with(m, file, apx_parse_file_each, on_import, ud);
}

size_t apx_lower_source_with(apx_module *m, uint32_t file, apx_parse_each_fn parse, apx_lower_import_fn on_import,
                             void *ud) {
  apx_lower L = {m, file, apx_diag_source(m->diag, file)->dir, on_import, ud};
  apx_arena *nodes = apx_arena_new();
  parse(m->arena, nodes, m->diag, file, apx_lower_each, &L);
  size_t peak = apx_arena_peak(nodes);
  apx_arena_free(nodes);
  return peak;
}
