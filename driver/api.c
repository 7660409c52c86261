/* The public interface (include/aspirec.h): opaque handles over the IR. */
#include "include/aspirec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver.h"
#include "ir/ir.h"
#include "plugin.h"

struct apx_api_compilation {
  apx_compilation c;
  const apx_plugins *plugins; /* its options', or NULL */
};

/* Strings are copied: the caller's may not outlive the options. */
typedef struct apx_api_strings {
  char **v;
  size_t n, cap;
} apx_api_strings;

struct apx_api_options {
  apx_api_strings includes, params, plugin_args;
  size_t error_limit;
  apx_plugins plugins;
  char *err; /* the last failure */
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

static int apx_api_strings_add(apx_api_strings *s, const char *str) {
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 8;
    char **v = realloc(s->v, cap * sizeof *v);
    if (!v) return -1;
    s->v = v;
    s->cap = cap;
  }
  if (!(s->v[s->n] = strdup(str))) return -1;
  s->n++;
  return 0;
}

static void apx_api_strings_free(apx_api_strings *s) {
  for (size_t i = 0; i < s->n; i++) free(s->v[i]);
  free(s->v);
}

apx_api_options *apx_api_options_new(void) {
  apx_api_options *o = calloc(1, sizeof *o);
  if (!o) return NULL;
  o->error_limit = APX_DIAG_DEFAULT_LIMIT;
  apx_plugins_init(&o->plugins, NULL);
  return o;
}

void apx_api_options_free(apx_api_options *o) {
  if (!o) return;
  apx_plugins_free(&o->plugins);
  apx_api_strings_free(&o->includes);
  apx_api_strings_free(&o->params);
  apx_api_strings_free(&o->plugin_args);
  free(o->err);
  free(o);
}

static void apx_api_fail(apx_api_options *o, char *msg) {
  free(o->err);
  o->err = msg;
}

int apx_api_options_include(apx_api_options *o, const char *dir) { return apx_api_strings_add(&o->includes, dir); }

int apx_api_options_param(apx_api_options *o, const char *assignment) {
  if (!strchr(assignment, '=')) {
    apx_api_fail(o, strdup("a parameter is written NAME=VALUE"));
    return -1;
  }
  return apx_api_strings_add(&o->params, assignment);
}

void apx_api_options_error_limit(apx_api_options *o, size_t limit) { o->error_limit = limit; }

int apx_api_options_plugin_arg(apx_api_options *o, const char *arg) {
  const char *colon = strchr(arg, ':');
  if (!colon || colon == arg || !colon[1]) {
    apx_api_fail(o, strdup("a plugin argument is written PLUGIN:KEY=VALUE"));
    return -1;
  }
  return apx_api_strings_add(&o->plugin_args, arg);
}

/* Runs one of plugin.c's steps with its messages caught for
 * apx_api_options_error instead of printed. */
static int apx_api_plugin_step(apx_api_options *o, const char *path, bool check) {
  char *msg = NULL;
  size_t len = 0;
  FILE *err = open_memstream(&msg, &len);
  if (!err) return -1;
  o->plugins.err = err;
  o->plugins.args = (const char *const *)o->plugin_args.v;
  o->plugins.nargs = o->plugin_args.n;
  int rc = check ? apx_plugins_check_args(&o->plugins) : apx_plugins_load(&o->plugins, path);
  o->plugins.err = stderr;
  fclose(err);
  while (len && msg[len - 1] == '\n') msg[--len] = '\0';
  if (rc) apx_api_fail(o, msg);
  else free(msg);
  return rc;
}

int apx_api_options_plugin(apx_api_options *o, const char *path) { return apx_api_plugin_step(o, path, false); }

const char *apx_api_options_error(const apx_api_options *o) { return o ? o->err : NULL; }

size_t apx_api_target_count(const apx_api_options *o) { return apx_backends_len + (o ? o->plugins.nbackends : 0); }

const char *apx_api_target_name(const apx_api_options *o, size_t i) {
  if (i < apx_backends_len) return apx_backends[i].name;
  i -= apx_backends_len;
  return o && i < o->plugins.nbackends ? o->plugins.backends[i]->be.name : NULL;
}

apx_api_compilation *apx_api_compile_with(const char *path, const apx_api_options *o) {
  if (!o) return apx_api_compile(path, NULL, 0, NULL, 0);
  /* A plugin argument may name a plugin given after it: checked now that
   * all are loaded, as the command line does. */
  if (o->plugin_args.n && apx_api_plugin_step((apx_api_options *)o, NULL, true)) return NULL;
  apx_api_compilation *a = calloc(1, sizeof *a);
  if (!a) return NULL;
  apx_compilation_init(&a->c);
  apx_search_path_set(&a->c, (const char *const *)o->includes.v, o->includes.n);
  apx_diag_set_limit(&a->c.diag, o->error_limit, NULL);
  a->c.opts.params = (const char **)o->params.v;
  a->c.opts.nparams = o->params.n;
  a->plugins = &o->plugins;
  apx_driver_opts dopts = {0};
  dopts.plugins = &o->plugins;
  apx_compile_file(&a->c, path, &dopts);
  return a;
}

int apx_api_emit(apx_api_compilation *a, const char *target, const char *out_dir) {
  const apx_backend *be = target ? apx_plugins_backend_find(a->plugins, target) : NULL;
  if (!be || !out_dir) {
    if (!be) apx_error(&a->c.diag, APX_NOLOC, "unknown target '%s'", target ? target : "(null)");
    else apx_error(&a->c.diag, APX_NOLOC, "no output directory for --emit=%s", target);
    return 2;
  }
  if (a->c.diag.errors || !a->c.module) return 1;
  return apx_driver_emit(&a->c, be, out_dir);
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
