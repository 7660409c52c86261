/* Pass 2, expand: instantiates components. For each instance it merges the
 * bodies of the component chain with the instance's own (an attribute
 * overrides, a block with the same keyword and label merges), gives inputs
 * their values, creates per-instance parameters (`pg-password`), binds the
 * references written inside components (self, parent, inputs, globals) and
 * folds the built-in functions. Afterwards no call and no unbound reference
 * is left in any body. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "passes_internal.h"
#include "pipeline.h"
#include "schema.h"

typedef struct apx_binding {
  const char *name;
  apx_value *value;          /* input value (instance-written or default) */
  apx_component *from;       /* whose default, for expanding it lazily */
  apx_resource *param;       /* per-instance parameter */
  bool expanding, expanded;
  apx_loc loc;
} apx_binding;

typedef struct apx_expand {
  apx_module *m;
  apx_resource *r;           /* the instance being expanded */
  apx_binding *b;
  size_t nb, capb;
  apx_map bindex;            /* binding name -> index in b */
  apx_map params;            /* per-instance param name -> its `param` block */
  int depth;
} apx_expand;

static apx_value *apx_xv(apx_expand *X, apx_value *v, bool component_written);
static apx_value *apx_xv_deep(apx_expand *X, apx_value *v, bool cw);

/* ---- copying and merging bodies ------------------------------------ */

static apx_item *apx_items_copy(apx_module *m, const apx_item *src) {
  apx_item *head = NULL, **tail = &head;
  for (; src; src = src->next) {
    apx_item *c = APX_NEW(m->items, apx_item);
    *c = *src;
    c->next = NULL;
    if (c->kind == APX_IT_BLOCK) c->body = apx_items_copy(m, src->body);
    *tail = c;
    tail = &c->next;
  }
  return head;
}

static bool apx_same_label(const char *a, const char *b) {
  return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Merges `over` into `base` (both owned copies); returns the new list. */
static apx_item *apx_items_merge(apx_module *m, apx_item *base, apx_item *over) {
  while (over) {
    apx_item *next = over->next;
    over->next = NULL;
    apx_item **link = &base;
    bool done = false;
    for (; *link; link = &(*link)->next) {
      apx_item *b = *link;
      if (b->kind != over->kind || strcmp(b->name, over->name) != 0) continue;
      if (over->kind == APX_IT_ATTR) {
        over->next = b->next; /* replace in place: keep the component's order */
        *link = over;
        done = true;
        break;
      }
      /* Unlabeled blocks that may repeat (health, bind) add a check or a
       * mount: an instance's health { http = "/" } is a second check. */
      const apx_spec *spec = apx_schema_find(apx_schema_resource, over->name);
      if (spec && spec->repeat && !spec->labeled) continue;
      if (apx_same_label(b->label, over->label)) {
        b->body = apx_items_merge(m, b->body, over->body);
        done = true;
        break;
      }
    }
    if (!done) *link = over;
    over = next;
  }
  return base;
}

/* ---- bindings of a component instance ------------------------------ */

static apx_binding *apx_binding_find(apx_expand *X, const char *name) {
  size_t *slot = apx_map_str(&X->bindex, name, false);
  return slot ? &X->b[*slot] : NULL;
}

static void apx_binding_add(apx_expand *X, apx_binding b) {
  *apx_map_str(&X->bindex, b.name, true) = X->nb;
  APX_VEC_PUSH(X->m->arena, X->b, X->nb, X->capb, b);
}

static apx_value *apx_binding_value(apx_expand *X, apx_binding *b, apx_loc use) {
  if (b->param) return apx_ir_ref_template(X->m, b->param, APX_PROP_VALUE, NULL, use);
  if (b->expanded) return b->value;
  if (b->expanding) {
    apx_error(X->m->diag, use, "input '%s' depends on itself", b->name);
    return apx_ir_value_new(X->m, APX_V_NULL, use);
  }
  b->expanding = true;
  b->value = apx_xv(X, b->value, b->from != NULL);
  b->expanding = false;
  b->expanded = true;
  return b->value;
}

/* ---- references written inside components -------------------------- */

static apx_ref *apx_ref_copy(apx_module *m, const apx_ref *r) {
  apx_ref *c = APX_NEW(m->arena, apx_ref);
  *c = *r;
  return c;
}

/* Returns a value replacing the reference: the reference bound (a fresh
 * copy: component bodies are shared by instances), or an input's value. */
static apx_value *apx_bind_component_ref(apx_expand *X, const apx_ref *ref, apx_loc loc) {
  apx_module *m = X->m;
  apx_value *out = apx_ir_value_new(m, APX_V_REF, loc);
  apx_ref *c = apx_ref_copy(m, ref);
  out->u.ref = c;
  if (ref->target) return out;
  const char *first = ref->path[0];
  if (strcmp(first, "self") == 0 || strcmp(first, "parent") == 0) {
    apx_resource *t = first[0] == 's' ? X->r : X->r->parent;
    if (!t) {
      apx_error(m->diag, apx_ref_path_loc(ref, 0), "'%s' has no parent here", X->r->name);
      c->prop = APX_PROP_RESOURCE;
      return out;
    }
    if (ref->npath == 1 && t == X->r) {
      apx_error(m->diag, ref->loc, "'self' needs a property, such as self.endpoints.http.port");
      return out;
    }
    apx_ref_bind(m, c, t, 1);
    return out;
  }
  apx_binding *b = apx_binding_find(X, first);
  if (b) {
    apx_value *val = apx_binding_value(X, b, loc);
    if (ref->npath == 1) return val;
    /* `db.connection_string` where input db holds a resource. */
    if (val->kind == APX_V_REF && val->u.ref->target && val->u.ref->prop == APX_PROP_RESOURCE) {
      apx_ref_bind(m, c, val->u.ref->target, 1);
      return out;
    }
    apx_error(m->diag, apx_ref_path_loc(ref, 1), "input '%s' is %s, which has no property '%s'", first,
              apx_ir_value_type_name(val), ref->path[1]);
    return val;
  }
  apx_resource *t = apx_ir_resource_find(m, first);
  if (!t) {
    apx_report_unknown_name(m, first, apx_ref_path_loc(ref, 0), "name");
    return out;
  }
  apx_ref_bind(m, c, t, 1);
  return out;
}

/* ---- built-in functions ---------------------------------------------- */

static bool apx_stringish(const apx_value *v) {
  return v->kind == APX_V_STRING || v->kind == APX_V_TEMPLATE || v->kind == APX_V_REF;
}

/* Appends a value to a template; numbers and booleans print as text. */
static bool apx_tb_any(apx_expand *X, apx_tbuilder *tb, const apx_value *v, const char *fn) {
  char num[48];
  switch (v->kind) {
  case APX_V_INT: snprintf(num, sizeof num, "%lld", (long long)v->u.i); apx_tb_text(tb, num, strlen(num)); return true;
  case APX_V_DURATION: snprintf(num, sizeof num, "%lldms", (long long)v->u.i); apx_tb_text(tb, num, strlen(num)); return true;
  case APX_V_BOOL: apx_tb_text(tb, v->u.b ? "true" : "false", v->u.b ? 4 : 5); return true;
  case APX_V_NULL: return true;
  default:
    if (apx_tb_value(tb, v)) return true;
    apx_error(X->m->diag, v->loc, "%s cannot be turned into text here (%s)", apx_ir_value_type_name(v), fn);
    return false;
  }
}

static void apx_text_transform(apx_filter f, const char *s, size_t n, apx_tbuilder *tb, apx_module *m) {
  char *t = apx_arena_alloc(m->arena, n * 3 + 1);
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (f == APX_FILTER_LOWER) t[o++] = (char)tolower(ch);
    else if (f == APX_FILTER_UPPER) t[o++] = (char)toupper(ch);
    else if (isalnum(ch) || ch == '-' || ch == '.' || ch == '_' || ch == '~') t[o++] = (char)ch;
    else o += (size_t)sprintf(t + o, "%%%02X", ch);
  }
  apx_tb_text(tb, t, o);
}

static apx_value *apx_apply_filter(apx_expand *X, apx_value *call, apx_value *arg, apx_filter f) {
  apx_module *m = X->m;
  if (!apx_stringish(arg)) {
    apx_error(m->diag, arg->loc, "%s() takes a string, not %s", call->u.call.name, apx_ir_value_type_name(arg));
    return arg;
  }
  apx_tbuilder tb;
  apx_tb_init(&tb, m, call->loc);
  if (arg->kind == APX_V_STRING) {
    apx_text_transform(f, arg->u.str.s, arg->u.str.len, &tb, m);
    return apx_tb_finish(&tb);
  }
  size_t n = arg->kind == APX_V_REF ? 1 : arg->u.tpl.n;
  for (size_t i = 0; i < n; i++) {
    apx_tpart part = arg->kind == APX_V_REF ? (apx_tpart){NULL, 0, arg->u.ref} : arg->u.tpl.parts[i];
    if (part.text) {
      apx_text_transform(f, part.text, part.len, &tb, m);
      continue;
    }
    if (part.ref->filter != APX_FILTER_NONE && part.ref->filter != f) {
      apx_error(m->diag, call->loc, "%s() cannot be combined with another filter on a value known only at deploy time",
                call->u.call.name);
      continue;
    }
    apx_ref *c = apx_ref_copy(m, part.ref);
    c->filter = f;
    apx_tb_ref(&tb, c);
  }
  return apx_tb_finish(&tb);
}

static bool apx_arg_count(apx_expand *X, apx_value *call, size_t lo, size_t hi) {
  size_t n = call->u.call.n;
  if (n >= lo && n <= hi) return true;
  if (lo == hi)
    apx_error(X->m->diag, call->loc, "%s() takes %zu argument%s, not %zu", call->u.call.name, lo, lo == 1 ? "" : "s", n);
  else
    apx_error(X->m->diag, call->loc, "%s() takes %zu to %zu arguments, not %zu", call->u.call.name, lo, hi, n);
  return false;
}

static const char *apx_const_string(apx_expand *X, apx_value *v, const char *fn) {
  if (v->kind == APX_V_STRING) return v->u.str.s;
  apx_error(X->m->diag, v->loc, "%s() needs a string known at compile time here, not %s", fn,
            v->kind == APX_V_TEMPLATE || v->kind == APX_V_REF ? "a value known only at deploy time"
                                                              : apx_ir_value_type_name(v));
  return NULL;
}

static apx_value *apx_fold_file(apx_expand *X, apx_value *call) {
  apx_module *m = X->m;
  const char *p = apx_const_string(X, call->u.call.args[0], "file");
  if (!p) return apx_ir_value_new(m, APX_V_NULL, call->loc);
  const char *full = apx_path_join(m->arena, apx_diag_source(m->diag, call->loc.file)->dir, p);
  FILE *f = fopen(full, "rb");
  struct stat st;
  if (!f || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    apx_diagnostic *d = apx_error(m->diag, call->u.call.args[0]->loc, "cannot read file \"%s\": %s", p,
                                  f ? "not a regular file" : strerror(errno));
    apx_diag_hint(m->diag, d, "file() paths are relative to the directory of the .apx file that writes them");
    if (f) fclose(f);
    return apx_ir_value_new(m, APX_V_NULL, call->loc);
  }
  if (st.st_size > 4 * 1024 * 1024) {
    fclose(f);
    apx_error(m->diag, call->u.call.args[0]->loc, "file \"%s\" is larger than 4 MiB", p);
    return apx_ir_value_new(m, APX_V_NULL, call->loc);
  }
  char *data = apx_arena_alloc(m->arena, (size_t)st.st_size + 1);
  size_t n = fread(data, 1, (size_t)st.st_size, f);
  fclose(f);
  apx_value *v = apx_ir_value_new(m, APX_V_STRING, call->loc);
  v->u.str.s = data;
  v->u.str.len = n;
  if (memchr(data, '\0', n)) {
    apx_error(m->diag, call->u.call.args[0]->loc, "file \"%s\" is not text (it holds a NUL byte)", p);
  }
  return v;
}

static const char *const apx_builtin_names[] = {"env", "file", "join", "urlencode", "lower", "upper"};

static apx_value *apx_fold_call(apx_expand *X, apx_value *call) {
  apx_module *m = X->m;
  const char *fn = call->u.call.name;
  apx_value **a = call->u.call.args;
  if (strcmp(fn, "__concat") == 0) {
    apx_tbuilder tb;
    apx_tb_init(&tb, m, call->loc);
    for (size_t i = 0; i < call->u.call.n; i++) apx_tb_any(X, &tb, a[i], "in a string");
    return apx_tb_finish(&tb);
  }
  if (strcmp(fn, "env") == 0) {
    if (!apx_arg_count(X, call, 1, 2)) return apx_ir_value_new(m, APX_V_NULL, call->loc);
    const char *name = apx_const_string(X, a[0], fn);
    if (!name) return apx_ir_value_new(m, APX_V_NULL, call->loc);
    const char *val = getenv(name);
    if (val) return apx_ir_string(m, val, call->loc);
    if (call->u.call.n == 2) return a[1];
    apx_diagnostic *d = apx_error(m->diag, call->loc, "environment variable %s is not set", name);
    apx_diag_hint(m->diag, d, "set it, or give a default: env(\"%s\", \"…\")", name);
    return apx_ir_value_new(m, APX_V_NULL, call->loc);
  }
  if (strcmp(fn, "file") == 0) {
    if (!apx_arg_count(X, call, 1, 1)) return apx_ir_value_new(m, APX_V_NULL, call->loc);
    return apx_fold_file(X, call);
  }
  if (strcmp(fn, "join") == 0) {
    if (!apx_arg_count(X, call, 2, 2)) return apx_ir_value_new(m, APX_V_NULL, call->loc);
    if (!apx_stringish(a[0]) || a[1]->kind != APX_V_LIST) {
      apx_error(m->diag, call->loc, "join() takes a separator string and a list");
      return apx_ir_value_new(m, APX_V_NULL, call->loc);
    }
    apx_tbuilder tb;
    apx_tb_init(&tb, m, call->loc);
    for (size_t i = 0; i < a[1]->u.list.n; i++) {
      if (i) apx_tb_value(&tb, a[0]);
      apx_tb_any(X, &tb, a[1]->u.list.items[i], "in join()");
    }
    return apx_tb_finish(&tb);
  }
  static const struct { const char *name; apx_filter f; } filters[] = {
      {"urlencode", APX_FILTER_URLENCODE}, {"lower", APX_FILTER_LOWER}, {"upper", APX_FILTER_UPPER}};
  for (size_t i = 0; i < 3; i++)
    if (strcmp(fn, filters[i].name) == 0) {
      if (!apx_arg_count(X, call, 1, 1)) return apx_ir_value_new(m, APX_V_NULL, call->loc);
      return apx_apply_filter(X, call, a[0], filters[i].f);
    }
  /* The name as written opens the call's location. */
  apx_loc name_loc = {call->loc.file, call->loc.begin, call->loc.begin + (uint32_t)strlen(fn)};
  apx_diagnostic *d = apx_error(m->diag, name_loc, "unknown function '%s'", fn);
  const char *s = apx_suggest(fn, apx_builtin_names, sizeof apx_builtin_names / sizeof apx_builtin_names[0]);
  if (s) apx_diag_hint(m->diag, d, "did you mean '%s'?", s);
  else apx_diag_hint(m->diag, d, "the functions are env, file, join, urlencode, lower and upper");
  return apx_ir_value_new(m, APX_V_NULL, call->loc);
}

/* ---- values ---------------------------------------------------------- */

/* Expands a value: binds component-written references (with copies) and
 * folds calls. Lists, maps and templates are rebuilt, never changed in
 * place, because component bodies are shared between instances. */
static apx_value *apx_xv_deep(apx_expand *X, apx_value *v, bool cw) {
  apx_module *m = X->m;
  if (++X->depth > 200) {
    X->depth--;
    apx_error(m->diag, v->loc, "value nested too deeply");
    return apx_ir_value_new(m, APX_V_NULL, v->loc);
  }
  apx_value *out = v;
  switch (v->kind) {
  case APX_V_REF:
    if (cw) out = apx_bind_component_ref(X, v->u.ref, v->loc);
    break;
  case APX_V_TEMPLATE: {
    if (!cw) break;
    apx_tbuilder tb;
    apx_tb_init(&tb, m, v->loc);
    for (size_t i = 0; i < v->u.tpl.n; i++) {
      apx_tpart *p = &v->u.tpl.parts[i];
      if (p->text) {
        apx_tb_text(&tb, p->text, p->len);
        continue;
      }
      apx_value *pv = apx_bind_component_ref(X, p->ref, p->ref->loc);
      apx_tb_any(X, &tb, pv, "in a string");
    }
    out = apx_tb_finish(&tb);
    break;
  }
  /* A list or map is copied only when an element changes (a reference
   * bound, a call folded): one that stays the same is shared, as strings
   * are, since nothing changes a value in place after this pass. */
  case APX_V_LIST: {
    apx_value **items = NULL;
    for (size_t i = 0; i < v->u.list.n; i++) {
      apx_value *x = apx_xv(X, v->u.list.items[i], cw);
      if (x != v->u.list.items[i] && !items) {
        items = APX_NEW_ARRAY(m->arena, apx_value *, v->u.list.n);
        memcpy(items, v->u.list.items, i * sizeof *items);
      }
      if (items) items[i] = x;
    }
    if (!items) break;
    out = apx_ir_value_new(m, APX_V_LIST, v->loc);
    out->u.list.n = v->u.list.n;
    out->u.list.items = items;
    break;
  }
  case APX_V_MAP: {
    apx_entry *entries = NULL;
    for (size_t i = 0; i < v->u.map.n; i++) {
      apx_value *x = apx_xv(X, v->u.map.entries[i].value, cw);
      if (x != v->u.map.entries[i].value && !entries) {
        entries = APX_NEW_ARRAY(m->arena, apx_entry, v->u.map.n);
        memcpy(entries, v->u.map.entries, v->u.map.n * sizeof *entries);
      }
      if (entries) entries[i].value = x;
    }
    if (!entries) break;
    out = apx_ir_value_new(m, APX_V_MAP, v->loc);
    out->u.map.n = v->u.map.n;
    out->u.map.entries = entries;
    break;
  }
  case APX_V_CALL: {
    apx_value *c = apx_ir_value_new(m, APX_V_CALL, v->loc);
    c->u.call = v->u.call;
    c->u.call.args = APX_NEW_ARRAY(m->arena, apx_value *, v->u.call.n ? v->u.call.n : 1);
    for (size_t i = 0; i < v->u.call.n; i++) c->u.call.args[i] = apx_xv(X, v->u.call.args[i], cw);
    out = apx_fold_call(X, c);
    break;
  }
  default: break;
  }
  X->depth--;
  return out;
}

/* What apx_xv_deep returns unchanged, without its frame: a scalar, and a
 * reference or template an instance wrote (most values). Not at the depth
 * where it reports nesting. */
static apx_value *apx_xv(apx_expand *X, apx_value *v, bool cw) {
  if (!v) return v;
  if (X->depth < 200) {
    if (apx_ir_value_is_scalar(v->kind)) return v;
    if (!cw && (v->kind == APX_V_TEMPLATE || v->kind == APX_V_REF)) return v;
  }
  return apx_xv_deep(X, v, cw);
}

static apx_value *apx_expand_cb(void *ud, apx_item *owner, apx_value *v) {
  return apx_xv(ud, v, owner->from != NULL);
}

/* ---- instances ------------------------------------------------------- */

static bool apx_is_input_name(apx_component *chain_top, const char *name) {
  for (apx_component *c = chain_top; c; c = c->base)
    if (apx_map_str(&c->input_index, name, false)) return true;
  return false;
}

static bool apx_is_param_block(const apx_item *it) {
  return it->kind == APX_IT_BLOCK && strcmp(it->name, "param") == 0;
}

static void apx_expand_instance(apx_expand *X) {
  apx_module *m = X->m;
  apx_resource *r = X->r;
  apx_component *top = r->component;

  /* Chain from the base-most component to the instance's own. */
  size_t nchain = 0;
  for (apx_component *c = top; c; c = c->base) nchain++;
  apx_component **chain = APX_NEW_ARRAY(m->arena, apx_component *, nchain);
  nchain = 0;
  for (apx_component *c = top; c; c = c->base) chain[nchain++] = c;
  for (size_t k = 0; k < nchain; k++)
    for (apx_item *it = chain[k]->body; it; it = it->next)
      if (apx_is_param_block(it)) *apx_map_str(&X->params, it->label, true) = 1;

  apx_item *merged = NULL;
  for (size_t k = nchain; k-- > 0;) {
    apx_item *copy = apx_items_copy(m, chain[k]->body);
    /* Per-instance params are not body items of the resource. */
    apx_item **link = &copy;
    while (*link) {
      if (apx_is_param_block(*link)) *link = (*link)->next;
      else link = &(*link)->next;
    }
    merged = apx_items_merge(m, merged, copy);
  }

  /* Instance attributes naming an input (or a per-instance param) set it. */
  apx_item *own = NULL, **own_tail = &own;
  for (apx_item *it = r->body, *next; it; it = next) {
    next = it->next;
    it->next = NULL;
    if (it->kind == APX_IT_ATTR && !it->name_quoted &&
        (apx_is_input_name(top, it->name) || apx_map_str(&X->params, it->name, false))) {
      if (apx_binding_find(X, it->name)) {
        apx_error(m->diag, apx_item_name_loc(it), "'%s' is set twice", it->name);
        continue;
      }
      apx_binding_add(X, (apx_binding){it->name, it->value, NULL, NULL, false, false, it->loc});
      continue;
    }
    *own_tail = it;
    own_tail = &it->next;
  }

  /* Defaults, required inputs, per-instance params. */
  for (size_t k = nchain; k-- > 0;) {
    apx_component *c = chain[k];
    for (size_t i = 0; i < c->ninputs; i++) {
      apx_input *in = &c->inputs[i];
      if (apx_binding_find(X, in->name)) continue;
      if (!in->def) {
        apx_diagnostic *d = apx_error(m->diag, r->name_loc, "'%s' needs input '%s' (component '%s')", r->name,
                                      in->name, c->name);
        apx_diag_hint(m->diag, d, "set it in the body: %s %s { %s = … }", r->type, r->name, in->name);
        apx_note(m->diag, in->loc, "input '%s' is declared here", in->name);
        continue;
      }
      apx_binding_add(X, (apx_binding){in->name, in->def, c, NULL, false, false, in->loc});
    }
    for (apx_item *it = c->body; it; it = it->next) {
      if (!apx_is_param_block(it)) continue;
      if (apx_binding_find(X, it->label)) continue;
      const char *pname = apx_arena_printf(m->arena, "%s-%s", r->name, it->label);
      apx_resource *p = apx_ir_resource_new(m, pname, it->loc);
      p->kind = APX_KIND_PARAM;
      p->type = "param";
      p->dir = apx_diag_source(m->diag, it->loc.file)->dir;
      p->parent = r;
      p->body = apx_items_copy(m, it->body);
      apx_resource *clash = apx_ir_resource_find(m, pname);
      if (clash) {
        apx_error(m->diag, clash->name_loc, "'%s' clashes with the parameter that '%s' creates for its %s", pname,
                  r->name, it->label);
        continue;
      }
      apx_ir_resource_add(m, p);
      apx_binding_add(X, (apx_binding){it->label, NULL, c, p, false, false, it->loc});
    }
  }

  r->body = apx_items_merge(m, merged, own);
  apx_items_map_values(r->body, apx_expand_cb, X);
  /* Inputs stay visible for the IR dump and for plugins. */
  r->ninputs = 0;
  r->inputs = APX_NEW_ARRAY(m->arena, apx_entry, X->nb ? X->nb : 1);
  for (size_t i = 0; i < X->nb; i++) {
    if (X->b[i].param) continue;
    apx_value *v = apx_binding_value(X, &X->b[i], X->b[i].loc);
    r->inputs[r->ninputs++] = (apx_entry){X->b[i].name, X->b[i].loc, v};
  }
}

int apx_pass_expand(apx_module *m) {
  size_t errors = m->diag->errors;
  /* New per-instance params are appended while this runs; they are
   * expanded too (their bodies may hold calls). */
  for (size_t i = 0; i < m->nresources; i++) {
    apx_expand X = {m, m->resources[i], NULL, 0, 0, {0}, {0}, 0};
    apx_map_init_str(&X.bindex, m->arena);
    apx_map_init_str(&X.params, m->arena);
    if (X.r->component) apx_expand_instance(&X);
    else apx_items_map_values(X.r->body, apx_expand_cb, &X);
    /* The bindings served this instance only: the next one reuses them. */
    apx_map_release(&X.bindex);
    apx_map_release(&X.params);
    apx_arena_release(m->arena, X.b, X.capb * sizeof *X.b);
  }
  return (int)(m->diag->errors - errors);
}
