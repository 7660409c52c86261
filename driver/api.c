/* The public interface (include/aspirec.h): opaque handles over the IR. */
#include "include/aspirec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "ir/ir.h"

struct apx_api_compilation {
  apx_compilation c;
};

int apx_api_version(void) { return APX_API_VERSION; }

apx_api_compilation *apx_api_compile(const char *path, const char *const *include_dirs, size_t ninclude,
                                     const char *const *params, size_t nparams) {
  return apx_api_compile_limit(path, include_dirs, ninclude, params, nparams, APX_DIAG_DEFAULT_LIMIT);
}

apx_api_compilation *apx_api_compile_limit(const char *path, const char *const *include_dirs, size_t ninclude,
                                           const char *const *params, size_t nparams, size_t error_limit) {
  apx_api_compilation *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  apx_compilation_init(&a->c);
  apx_search_path_set(&a->c, include_dirs, ninclude);
  apx_diag_set_limit(&a->c.diag, error_limit, NULL);
  apx_options *o = &a->c.opts;
  o->params = (const char **)params;
  o->nparams = nparams;
  apx_compile_file(&a->c, path, NULL);
  return a;
}

void apx_api_free(apx_api_compilation *a) {
  if (!a) return;
  apx_compilation_free(&a->c);
  free(a);
}

size_t apx_api_errors(const apx_api_compilation *a) { return a->c.diag.errors; }
size_t apx_api_warnings(const apx_api_compilation *a) { return a->c.diag.warnings; }

char *apx_api_diagnostics(apx_api_compilation *a) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  if (!f) return NULL;
  a->c.diag.color = false;
  apx_diag_print(&a->c.diag, f);
  fclose(f);
  return buf;
}

apx_module *apx_api_module(apx_api_compilation *a) { return a->c.module; }

const char *apx_api_location(apx_api_compilation *a, const apx_resource *r) {
  unsigned line, col;
  apx_diag_line_col(&a->c.diag, r->loc.file, r->loc.begin, &line, &col);
  return apx_arena_printf(a->c.arena, "%s:%u:%u", apx_diag_source(&a->c.diag, r->loc.file)->name, line, col);
}

size_t apx_module_resource_count(const apx_module *m) { return m ? m->nresources : 0; }
apx_resource *apx_module_resource_at(const apx_module *m, size_t i) {
  return m && i < m->nresources ? m->resources[i] : NULL;
}
apx_resource *apx_module_resource_find(const apx_module *m, const char *name) {
  return m ? apx_ir_resource_find(m, name) : NULL;
}
const char *apx_module_app_name(const apx_module *m) { return m ? m->app_name : NULL; }

const char *apx_resource_name(const apx_resource *r) { return r->name; }
const char *apx_resource_kind(const apx_resource *r) { return apx_ir_kind_name(r->kind); }
const char *apx_resource_type(const apx_resource *r) { return r->type; }
apx_resource *apx_resource_parent(const apx_resource *r) { return r->parent; }
int apx_resource_replicas(const apx_resource *r) { return r->replicas; }
const apx_value *apx_resource_image(const apx_resource *r) { return r->image; }
const apx_value *apx_resource_connection_string(const apx_resource *r) { return r->connection_string; }

size_t apx_resource_env_count(const apx_resource *r) { return r->nenv; }
const char *apx_resource_env_key(const apx_resource *r, size_t i) { return i < r->nenv ? r->env[i].key : NULL; }
const apx_value *apx_resource_env_value(const apx_resource *r, size_t i) {
  return i < r->nenv ? r->env[i].value : NULL;
}

size_t apx_resource_endpoint_count(const apx_resource *r) { return r->nendpoints; }
#define APX_EP(field, dflt) (i < r->nendpoints ? r->endpoints[i].field : (dflt))
const char *apx_resource_endpoint_name(const apx_resource *r, size_t i) { return APX_EP(name, NULL); }
const char *apx_resource_endpoint_scheme(const apx_resource *r, size_t i) { return APX_EP(scheme, NULL); }
int apx_resource_endpoint_port(const apx_resource *r, size_t i) { return APX_EP(port, 0); }
int apx_resource_endpoint_target_port(const apx_resource *r, size_t i) { return APX_EP(target_port, 0); }
bool apx_resource_endpoint_external(const apx_resource *r, size_t i) { return APX_EP(external, false); }

size_t apx_resource_dep_count(const apx_resource *r) { return r->ndeps; }
const char *apx_resource_dep_kind(const apx_resource *r, size_t i) {
  return i < r->ndeps ? apx_ir_dep_kind_name(r->deps[i].kind) : NULL;
}
apx_resource *apx_resource_dep_target(const apx_resource *r, size_t i) { return i < r->ndeps ? r->deps[i].target : NULL; }

const char *apx_value_type(const apx_value *v) { return v ? apx_ir_value_kind_name(v->kind) : "null"; }
const char *apx_value_string(const apx_value *v) { return v && v->kind == APX_V_STRING ? v->u.str.s : NULL; }
long long apx_value_int(const apx_value *v) {
  return v && (v->kind == APX_V_INT || v->kind == APX_V_DURATION) ? (long long)v->u.i : 0;
}
size_t apx_value_part_count(const apx_value *v) { return v && v->kind == APX_V_TEMPLATE ? v->u.tpl.n : 0; }
static const apx_tpart *apx_api_part(const apx_value *v, size_t i) {
  return v && v->kind == APX_V_TEMPLATE && i < v->u.tpl.n ? &v->u.tpl.parts[i] : NULL;
}
const char *apx_value_part_text(const apx_value *v, size_t i) {
  const apx_tpart *p = apx_api_part(v, i);
  return p ? p->text : NULL;
}
apx_resource *apx_value_part_ref(const apx_value *v, size_t i) {
  const apx_tpart *p = apx_api_part(v, i);
  return p && p->ref ? p->ref->target : NULL;
}
const char *apx_value_part_prop(const apx_value *v, size_t i) {
  const apx_tpart *p = apx_api_part(v, i);
  return p && p->ref ? apx_ir_prop_name(p->ref->prop) : NULL;
}
const char *apx_value_part_endpoint(const apx_value *v, size_t i) {
  const apx_tpart *p = apx_api_part(v, i);
  return p && p->ref ? p->ref->endpoint : NULL;
}
size_t apx_value_list_count(const apx_value *v) { return v && v->kind == APX_V_LIST ? v->u.list.n : 0; }
const apx_value *apx_value_list_at(const apx_value *v, size_t i) {
  return v && v->kind == APX_V_LIST && i < v->u.list.n ? v->u.list.items[i] : NULL;
}
