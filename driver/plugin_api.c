/* The function table plugins are handed (include/aspirec/plugin.h): thin
 * wrappers over the IR, the diagnostics, the renderer and the staged output.
 * Everything a plugin passes in is copied into the compilation's arena, so
 * nothing it gave the host outlives or leaks past the compilation. */
#include "plugin.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "config.h"
#include "ir/render.h"

#define APX_AS_LOC(l) ((apx_loc){(l).file, (l).begin, (l).end})
#define APX_PLOC(l) ((apx_plugin_loc){(l).file, (l).begin, (l).end})
#define APX_AT(arr, n, i) ((i) < (n) ? &(arr)[i] : NULL)

/* ---- diagnostics -------------------------------------------------------- */

static void apx_papi_report(apx_module *m, apx_diag_level level, apx_plugin_loc loc, const char *fmt, va_list ap) {
  if (!m || !fmt) return;
  /* Past the error limit a diagnostic is only counted: no formatting. */
  if (!apx_diag_shows(m->diag, level)) {
    if (level == APX_DIAG_ERROR) apx_error(m->diag, APX_AS_LOC(loc), "%s", "");
    else if (level == APX_DIAG_WARNING) apx_warning(m->diag, APX_AS_LOC(loc), "%s", "");
    return;
  }
  apx_buf b = {0};
  apx_buf_vprintf(&b, fmt, ap);
  const char *msg = apx_buf_str(&b);
  if (level == APX_DIAG_ERROR) apx_error(m->diag, APX_AS_LOC(loc), "%s", msg);
  else if (level == APX_DIAG_WARNING) apx_warning(m->diag, APX_AS_LOC(loc), "%s", msg);
  else apx_note(m->diag, APX_AS_LOC(loc), "%s", msg);
  apx_buf_free(&b);
}

#define APX_PAPI_REPORT(fn, level)                                   \
  static void fn(apx_module *m, apx_plugin_loc loc, const char *fmt, ...) { \
    va_list ap;                                                      \
    va_start(ap, fmt);                                               \
    apx_papi_report(m, level, loc, fmt, ap);                         \
    va_end(ap);                                                      \
  }
APX_PAPI_REPORT(apx_papi_error, APX_DIAG_ERROR)
APX_PAPI_REPORT(apx_papi_warning, APX_DIAG_WARNING)
APX_PAPI_REPORT(apx_papi_note, APX_DIAG_NOTE)

static const char *apx_papi_loc_string(apx_module *m, apx_plugin_loc loc) {
  if (!loc.file || loc.file >= m->diag->nsources) return "";
  unsigned line, col;
  apx_diag_line_col(m->diag, loc.file, loc.begin, &line, &col);
  return apx_arena_printf(m->arena, "%s:%u:%u", apx_diag_source(m->diag, loc.file)->name, line, col);
}
static size_t apx_papi_error_count(const apx_module *m) { return m->diag->errors; }

/* ---- module ------------------------------------------------------------- */

static const char *apx_papi_app_name(const apx_module *m) { return m->app_name; }
static const char *apx_papi_main_dir(const apx_module *m) { return m->main_dir; }
static size_t apx_papi_resource_count(const apx_module *m) { return m->nresources; }
static apx_resource *apx_papi_resource_at(const apx_module *m, size_t i) {
  return i < m->nresources ? m->resources[i] : NULL;
}
static apx_resource *apx_papi_resource_find(const apx_module *m, const char *name) {
  return apx_ir_resource_find(m, name);
}

static apx_resource *apx_papi_resource_add(apx_module *m, const char *kind, const char *name, apx_plugin_loc loc) {
  apx_kind k;
  if (!kind || !apx_ir_kind_from_name(kind, &k) || k == APX_KIND_PARAM) {
    apx_error(m->diag, APX_AS_LOC(loc), "a plugin added a resource of kind '%s'; the kinds are container, "
              "executable, project and external", kind ? kind : "(null)");
    return NULL;
  }
  if (!name || !*name || apx_ir_resource_find(m, name)) {
    apx_error(m->diag, APX_AS_LOC(loc), "a plugin added a resource named '%s', which %s", name ? name : "",
              name && *name ? "exists already" : "is empty");
    return NULL;
  }
  apx_resource *r = apx_ir_resource_new(m, name, APX_AS_LOC(loc));
  r->kind = k;
  r->type = apx_ir_kind_name(k);
  r->type_loc = r->loc;
  r->dir = m->main_dir;
  if (k == APX_KIND_EXECUTABLE || k == APX_KIND_PROJECT) r->workdir = m->main_dir;
  r->typed = true;
  APX_VEC_PUSH(m->arena, m->resources, m->nresources, m->capresources, r);
  /* A removed resource leaves its index slot 0: reuse it. */
  size_t *slot = apx_map_str(&m->resource_index, r->name, true);
  *slot = (size_t)(uintptr_t)r;
  return r;
}

static bool apx_papi_resource_remove(apx_module *m, apx_resource *r) {
  size_t at = m->nresources;
  for (size_t i = 0; i < m->nresources; i++) {
    if (m->resources[i] == r) at = i;
    if (m->resources[i]->parent == r) return false;
    for (size_t j = 0; j < m->resources[i]->ndeps; j++)
      if (m->resources[i]->deps[j].target == r) return false;
  }
  if (at == m->nresources) return false;
  memmove(&m->resources[at], &m->resources[at + 1], (m->nresources - at - 1) * sizeof *m->resources);
  m->nresources--;
  size_t *slot = apx_map_str(&m->resource_index, r->name, false);
  if (slot && *slot == (size_t)(uintptr_t)r) *slot = 0;
  return true;
}

static apx_resource **apx_papi_topo_order(apx_module *m) { return apx_ir_topo_order(m); }

/* ---- resource ----------------------------------------------------------- */

static const char *apx_papi_resource_name(const apx_resource *r) { return r->name; }
static const char *apx_papi_resource_kind(const apx_resource *r) { return apx_ir_kind_name(r->kind); }
static const char *apx_papi_resource_type(const apx_resource *r) { return r->type; }
static apx_resource *apx_papi_resource_parent(const apx_resource *r) { return r->parent; }
static apx_plugin_loc apx_papi_resource_loc(const apx_resource *r) { return APX_PLOC(r->name_loc); }
static int apx_papi_resource_replicas(const apx_resource *r) { return r->replicas; }
static const char *apx_papi_resource_restart(const apx_resource *r) { return apx_ir_restart_name(r->restart); }
static const apx_value *apx_papi_resource_image(const apx_resource *r) { return r->image; }
static void apx_papi_resource_set_image(apx_module *m, apx_resource *r, const apx_value *v) {
  (void)m;
  r->image = (apx_value *)v;
}
static const apx_value *apx_papi_resource_command(const apx_resource *r) { return r->command; }
static const apx_value *apx_papi_resource_args(const apx_resource *r) { return r->args; }
static void apx_papi_resource_set_command(apx_module *m, apx_resource *r, const apx_value *command,
                                          const apx_value *args) {
  (void)m;
  r->command = (apx_value *)command;
  r->args = (apx_value *)args;
}
static const char *apx_papi_resource_workdir(const apx_resource *r) { return r->workdir; }
static const apx_value *apx_papi_resource_connection_string(const apx_resource *r) { return r->connection_string; }
static const char *apx_papi_param_value(const apx_resource *p) { return p->param ? p->param->value : NULL; }
static const char *apx_papi_param_env_name(const apx_resource *p) { return p->param ? p->param->env_name : NULL; }
static bool apx_papi_param_secret(const apx_resource *p) { return p->param && p->param->secret; }

static size_t apx_papi_env_count(const apx_resource *r) { return r->nenv; }
static const char *apx_papi_env_key(const apx_resource *r, size_t i) { return i < r->nenv ? r->env[i].key : NULL; }
static const apx_value *apx_papi_env_value(const apx_resource *r, size_t i) {
  return i < r->nenv ? r->env[i].value : NULL;
}
static const apx_value *apx_papi_env_find(const apx_resource *r, const char *key) {
  const apx_entry *e = key ? apx_ir_env_find(r, key) : NULL;
  return e ? e->value : NULL;
}
static void apx_papi_env_set(apx_module *m, apx_resource *r, const char *key, const apx_value *v) {
  if (!key || !v) return;
  apx_ir_env_set(m, r, apx_arena_strdup(m->arena, key), (apx_value *)v, v->loc);
}

static size_t apx_papi_endpoint_count(const apx_resource *r) { return r->nendpoints; }
static long apx_papi_endpoint_find(const apx_resource *r, const char *name) {
  const apx_endpoint *e = name ? apx_ir_endpoint_find(r, name) : NULL;
  return e ? (long)(e - r->endpoints) : -1;
}
#define APX_EP(field, dflt) (i < r->nendpoints ? r->endpoints[i].field : (dflt))
static const char *apx_papi_endpoint_name(const apx_resource *r, size_t i) { return APX_EP(name, NULL); }
static const char *apx_papi_endpoint_scheme(const apx_resource *r, size_t i) { return APX_EP(scheme, NULL); }
static int apx_papi_endpoint_port(const apx_resource *r, size_t i) { return APX_EP(port, 0); }
static int apx_papi_endpoint_target_port(const apx_resource *r, size_t i) { return APX_EP(target_port, 0); }
static bool apx_papi_endpoint_external(const apx_resource *r, size_t i) { return APX_EP(external, false); }
static apx_plugin_loc apx_papi_endpoint_loc(const apx_resource *r, size_t i) {
  return i < r->nendpoints ? APX_PLOC(r->endpoints[i].loc) : (apx_plugin_loc){0, 0, 0};
}
static bool apx_papi_endpoint_add(apx_module *m, apx_resource *r, const char *name, const char *scheme, int port,
                                  int target_port, bool external) {
  if (!name || !*name || apx_ir_endpoint_find(r, name) || port < 0 || port > 65535 || target_port < 0 ||
      target_port > 65535)
    return false;
  apx_endpoint e = {0};
  e.name = apx_arena_strdup(m->arena, name);
  e.loc = r->name_loc;
  e.port = port;
  e.target_port = target_port ? target_port : port;
  e.scheme = apx_arena_strdup(m->arena, scheme && *scheme ? scheme : "tcp");
  e.protocol = "tcp";
  e.external = external;
  apx_ir_endpoint_add(m, r, &e);
  return true;
}

static size_t apx_papi_dep_count(const apx_resource *r) { return r->ndeps; }
static const char *apx_papi_dep_kind(const apx_resource *r, size_t i) {
  return i < r->ndeps ? apx_ir_dep_kind_name(r->deps[i].kind) : NULL;
}
static apx_resource *apx_papi_dep_target(const apx_resource *r, size_t i) {
  return i < r->ndeps ? r->deps[i].target : NULL;
}
static bool apx_papi_dep_add(apx_module *m, apx_resource *r, const char *kind, apx_resource *target) {
  static const apx_dep_kind kinds[] = {APX_DEP_REFERENCE, APX_DEP_WAIT_HEALTHY, APX_DEP_WAIT_START,
                                       APX_DEP_WAIT_COMPLETION};
  if (!kind || !target || target == r) return false;
  for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
    if (strcmp(apx_ir_dep_kind_name(kinds[k]), kind) == 0) {
      apx_ir_dep_add(m, r, kinds[k], target, r->name_loc);
      return true;
    }
  return false;
}

static size_t apx_papi_volume_count(const apx_resource *r) { return r->nvolumes; }
static const char *apx_papi_volume_name(const apx_resource *r, size_t i) {
  return i < r->nvolumes ? r->volumes[i].name : NULL;
}
static const char *apx_papi_volume_target(const apx_resource *r, size_t i) {
  return i < r->nvolumes ? r->volumes[i].target : NULL;
}
static bool apx_papi_volume_readonly(const apx_resource *r, size_t i) {
  return i < r->nvolumes && r->volumes[i].readonly;
}
static size_t apx_papi_bind_count(const apx_resource *r) { return r->nbinds; }
static const char *apx_papi_bind_source(const apx_resource *r, size_t i) {
  return i < r->nbinds ? r->binds[i].source_abs : NULL;
}
static const char *apx_papi_bind_target(const apx_resource *r, size_t i) {
  return i < r->nbinds ? r->binds[i].target : NULL;
}

static const char *apx_papi_health_kind(const apx_resource *r, size_t i) {
  if (i >= r->nhealth) return NULL;
  switch (r->health[i].kind) {
  case APX_HEALTH_HTTP: return "http";
  case APX_HEALTH_TCP: return "tcp";
  case APX_HEALTH_EXEC: return "exec";
  case APX_HEALTH_LOG: return "log";
  }
  return NULL;
}
static size_t apx_papi_health_count(const apx_resource *r) { return r->nhealth; }
static const char *apx_papi_health_endpoint(const apx_resource *r, size_t i) {
  return i < r->nhealth ? r->health[i].endpoint : NULL;
}
static const char *apx_papi_health_path(const apx_resource *r, size_t i) {
  return i < r->nhealth ? r->health[i].path : NULL;
}
static long long apx_papi_health_interval_ms(const apx_resource *r, size_t i) {
  return i < r->nhealth ? (long long)r->health[i].interval_ms : 0;
}
static apx_plugin_loc apx_papi_health_loc(const apx_resource *r, size_t i) {
  return i < r->nhealth ? APX_PLOC(r->health[i].loc) : (apx_plugin_loc){0, 0, 0};
}

/* Labels and annotations are string maps (typecheck made them so). */
static const char *apx_papi_entry_string(const apx_entry *e) {
  return e && e->value && e->value->kind == APX_V_STRING ? e->value->u.str.s : NULL;
}
static void apx_papi_entry_set(apx_module *m, apx_resource *r, apx_entry **entries, size_t *n, const char *key,
                               const char *value) {
  if (!key || !value) return;
  apx_value *v = apx_ir_string(m, value, r->name_loc);
  for (size_t i = 0; i < *n; i++)
    if (strcmp((*entries)[i].key, key) == 0) {
      (*entries)[i].value = v;
      return;
    }
  /* No capacity is kept for these short maps: copy into one more. */
  apx_entry *grown = APX_NEW_ARRAY(m->arena, apx_entry, *n + 1);
  if (*n) memcpy(grown, *entries, *n * sizeof *grown);
  grown[*n] = (apx_entry){apx_arena_strdup(m->arena, key), r->name_loc, v};
  *entries = grown;
  (*n)++;
}
static size_t apx_papi_label_count(const apx_resource *r) { return r->nlabels; }
static const char *apx_papi_label_key(const apx_resource *r, size_t i) {
  return i < r->nlabels ? r->labels[i].key : NULL;
}
static const char *apx_papi_label_value(const apx_resource *r, size_t i) {
  return apx_papi_entry_string(APX_AT(r->labels, r->nlabels, i));
}
static void apx_papi_label_set(apx_module *m, apx_resource *r, const char *key, const char *value) {
  apx_papi_entry_set(m, r, &r->labels, &r->nlabels, key, value);
}
static size_t apx_papi_annotation_count(const apx_resource *r) { return r->nannotations; }
static const char *apx_papi_annotation_key(const apx_resource *r, size_t i) {
  return i < r->nannotations ? r->annotations[i].key : NULL;
}
static const char *apx_papi_annotation_value(const apx_resource *r, size_t i) {
  return apx_papi_entry_string(APX_AT(r->annotations, r->nannotations, i));
}
static void apx_papi_annotation_set(apx_module *m, apx_resource *r, const char *key, const char *value) {
  apx_papi_entry_set(m, r, &r->annotations, &r->nannotations, key, value);
}

/* ---- values ------------------------------------------------------------- */

static const char *apx_papi_value_type(const apx_value *v) { return v ? apx_ir_value_kind_name(v->kind) : "null"; }
static const char *apx_papi_value_string(const apx_value *v) {
  return v && v->kind == APX_V_STRING ? v->u.str.s : NULL;
}
static long long apx_papi_value_int(const apx_value *v) {
  return v && (v->kind == APX_V_INT || v->kind == APX_V_DURATION) ? (long long)v->u.i : 0;
}
static bool apx_papi_value_bool(const apx_value *v) { return v && v->kind == APX_V_BOOL && v->u.b; }
static apx_plugin_loc apx_papi_value_loc(const apx_value *v) {
  return v ? APX_PLOC(v->loc) : (apx_plugin_loc){0, 0, 0};
}
/* A ref value reads as a template of one part. */
static const apx_tpart *apx_papi_part(const apx_value *v, size_t i, apx_tpart *tmp) {
  if (v && v->kind == APX_V_TEMPLATE && i < v->u.tpl.n) return &v->u.tpl.parts[i];
  if (v && v->kind == APX_V_REF && i == 0) {
    *tmp = (apx_tpart){NULL, 0, v->u.ref};
    return tmp;
  }
  return NULL;
}
static size_t apx_papi_value_part_count(const apx_value *v) {
  return !v ? 0 : v->kind == APX_V_TEMPLATE ? v->u.tpl.n : v->kind == APX_V_REF ? 1 : 0;
}
static const char *apx_papi_value_part_text(const apx_value *v, size_t i) {
  apx_tpart tmp;
  const apx_tpart *p = apx_papi_part(v, i, &tmp);
  return p ? p->text : NULL;
}
static apx_resource *apx_papi_value_part_ref(const apx_value *v, size_t i) {
  apx_tpart tmp;
  const apx_tpart *p = apx_papi_part(v, i, &tmp);
  return p && p->ref ? p->ref->target : NULL;
}
static const char *apx_papi_value_part_prop(const apx_value *v, size_t i) {
  apx_tpart tmp;
  const apx_tpart *p = apx_papi_part(v, i, &tmp);
  return p && p->ref ? apx_ir_prop_name(p->ref->prop) : NULL;
}
static const char *apx_papi_value_part_endpoint(const apx_value *v, size_t i) {
  apx_tpart tmp;
  const apx_tpart *p = apx_papi_part(v, i, &tmp);
  return p && p->ref ? p->ref->endpoint : NULL;
}
static size_t apx_papi_value_list_count(const apx_value *v) { return v && v->kind == APX_V_LIST ? v->u.list.n : 0; }
static const apx_value *apx_papi_value_list_at(const apx_value *v, size_t i) {
  return v && v->kind == APX_V_LIST && i < v->u.list.n ? v->u.list.items[i] : NULL;
}
static size_t apx_papi_value_map_count(const apx_value *v) { return v && v->kind == APX_V_MAP ? v->u.map.n : 0; }
static const char *apx_papi_value_map_key(const apx_value *v, size_t i) {
  return v && v->kind == APX_V_MAP && i < v->u.map.n ? v->u.map.entries[i].key : NULL;
}
static const apx_value *apx_papi_value_map_at(const apx_value *v, size_t i) {
  return v && v->kind == APX_V_MAP && i < v->u.map.n ? v->u.map.entries[i].value : NULL;
}

static const apx_value *apx_papi_value_new_string(apx_module *m, const char *s) {
  return apx_ir_string(m, s ? s : "", APX_NOLOC);
}
static const apx_value *apx_papi_value_new_int(apx_module *m, long long i) {
  return apx_ir_int(m, (int64_t)i, APX_NOLOC);
}
static const apx_value *apx_papi_value_new_list(apx_module *m, const apx_value *const *items, size_t n) {
  apx_value *v = apx_ir_value_new(m, APX_V_LIST, APX_NOLOC);
  v->u.list.items = APX_NEW_ARRAY(m->arena, apx_value *, n ? n : 1);
  for (size_t i = 0; i < n; i++) v->u.list.items[i] = (apx_value *)items[i];
  v->u.list.n = n;
  return v;
}

struct apx_plugin_template {
  apx_tbuilder tb; /* in the arena, like the template it builds */
  bool done;
};
static apx_plugin_template *apx_papi_template_new(apx_module *m) {
  apx_plugin_template *t = APX_NEW(m->arena, apx_plugin_template);
  apx_tb_init(&t->tb, m, APX_NOLOC);
  t->done = false;
  return t;
}
static void apx_papi_template_text(apx_plugin_template *t, const char *s) {
  if (t && !t->done && s) apx_tb_text(&t->tb, s, strlen(s));
}
static bool apx_papi_template_ref(apx_plugin_template *t, apx_resource *target, const char *prop,
                                  const char *endpoint) {
  if (!t || t->done || !target || !prop) return false;
  for (apx_prop p = APX_PROP_RESOURCE; p < APX_PROP_INPUT; p++) {
    if (p == APX_PROP_RESOURCE || p == APX_PROP_STATE_DIR || strcmp(apx_ir_prop_name(p), prop) != 0) continue;
    bool needs_ep = p >= APX_PROP_EP_URL && p <= APX_PROP_EP_SCHEME;
    const char *ep = NULL;
    if (needs_ep) {
      const apx_endpoint *e = endpoint ? apx_ir_endpoint_find(target, endpoint) : NULL;
      if (!e) return false;
      ep = e->name;
    }
    if (p == APX_PROP_VALUE && target->kind != APX_KIND_PARAM) return false;
    if (p == APX_PROP_URL && target->kind != APX_KIND_EXTERNAL) return false;
    if (p == APX_PROP_CONNECTION_STRING && !target->connection_string) return false;
    apx_tb_ref(&t->tb, apx_ir_ref_new(t->tb.m, target, p, ep, APX_NOLOC));
    return true;
  }
  return false;
}
static bool apx_papi_template_value(apx_plugin_template *t, const apx_value *v) {
  return t && !t->done && v && apx_tb_value(&t->tb, v);
}
static const apx_value *apx_papi_template_finish(apx_plugin_template *t) {
  if (!t || t->done) return NULL;
  t->done = true;
  return apx_tb_finish(&t->tb);
}

/* ---- rendering and output ----------------------------------------------- */

/* The plugin's rules behind ir/render.h's callbacks; NULL ones default. */
typedef struct apx_papi_render {
  const apx_plugin_render *t;
} apx_papi_render;

static const apx_plugin_render *apx_papi_rt(void *ud) { return ((apx_papi_render *)ud)->t; }
/* A callback the plugin's (possibly older, shorter) struct has. */
#define APX_RT_HAS(t, f) ((t) && (t)->size >= offsetof(apx_plugin_render, f) + sizeof((t)->f) && (t)->f)

static void apx_papi_r_host(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  const apx_plugin_render *t = apx_papi_rt(ud);
  if (APX_RT_HAS(t, host)) t->host(t->ud, r, e->name, (apx_plugin_buf *)out);
  else apx_buf_puts(out, "localhost");
}
static void apx_papi_r_port(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  const apx_plugin_render *t = apx_papi_rt(ud);
  if (APX_RT_HAS(t, port)) t->port(t->ud, r, e->name, (apx_plugin_buf *)out);
  else apx_buf_printf(out, "%d", e->port ? e->port : e->target_port);
}
static void apx_papi_r_target_port(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  const apx_plugin_render *t = apx_papi_rt(ud);
  if (APX_RT_HAS(t, target_port)) t->target_port(t->ud, r, e->name, (apx_plugin_buf *)out);
  else apx_buf_printf(out, "%d", e->target_port);
}
static bool apx_papi_r_param(void *ud, const apx_resource *p, apx_buf *out) {
  const apx_plugin_render *t = apx_papi_rt(ud);
  if (APX_RT_HAS(t, param)) return t->param(t->ud, p, (apx_plugin_buf *)out);
  if (p->param && p->param->value) {
    apx_buf_puts(out, p->param->value);
    return false;
  }
  apx_buf_printf(out, "${%s}", p->param && p->param->env_name ? p->param->env_name : p->name);
  return true;
}
static void apx_papi_r_text(void *ud, const char *s, size_t n, apx_buf *out) {
  const apx_plugin_render *t = apx_papi_rt(ud);
  if (APX_RT_HAS(t, text)) t->text(t->ud, s, n, (apx_plugin_buf *)out);
  else apx_buf_append(out, s, n);
}

static const char *apx_papi_render_value(apx_module *m, const apx_plugin_render *t, const apx_value *v,
                                         const char **why) {
  apx_papi_render pr = {t};
  apx_render_target rt = {&pr, apx_papi_r_host, apx_papi_r_port, apx_papi_r_target_port, apx_papi_r_param, NULL,
                          apx_papi_r_text, NULL};
  apx_buf b = {0};
  const char *dummy;
  if (!why) why = &dummy;
  *why = NULL;
  const char *res = NULL;
  if (!v) *why = "no value";
  else if (apx_render_value(&rt, v, &b, why)) res = apx_arena_strdup(m->arena, apx_buf_str(&b));
  apx_buf_free(&b);
  return res;
}
static void apx_papi_buf_append(apx_plugin_buf *b, const char *s, size_t n) {
  if (b && s) apx_buf_append((apx_buf *)b, s, n);
}
static void apx_papi_output_add(apx_plugin_output *o, const char *relpath, const char *data, size_t len) {
  if (o && relpath && (data || !len)) apx_output_add((apx_output *)o, relpath, data ? data : "", len);
}
static const char *apx_papi_output_dir(const apx_plugin_output *o) {
  return o && !apx_output_to_stdout((const apx_output *)o) ? apx_output_dir((const apx_output *)o) : NULL;
}

/* Designated: the table's order is the header's (it only grows at its end). */
const apx_plugin_api apx_plugin_api_table = {
    .size = sizeof(apx_plugin_api),
    .abi_version = APX_PLUGIN_ABI_VERSION,
    .host_version = PACKAGE_VERSION,
    .register_pass = apx_host_register_pass,
    .register_backend = apx_host_register_backend,
    .error = apx_papi_error,
    .warning = apx_papi_warning,
    .note = apx_papi_note,
    .loc_string = apx_papi_loc_string,
    .error_count = apx_papi_error_count,
    .app_name = apx_papi_app_name,
    .main_dir = apx_papi_main_dir,
    .resource_count = apx_papi_resource_count,
    .resource_at = apx_papi_resource_at,
    .resource_find = apx_papi_resource_find,
    .resource_add = apx_papi_resource_add,
    .resource_remove = apx_papi_resource_remove,
    .topo_order = apx_papi_topo_order,
    .resource_name = apx_papi_resource_name,
    .resource_kind = apx_papi_resource_kind,
    .resource_type = apx_papi_resource_type,
    .resource_parent = apx_papi_resource_parent,
    .resource_loc = apx_papi_resource_loc,
    .resource_replicas = apx_papi_resource_replicas,
    .resource_restart = apx_papi_resource_restart,
    .resource_image = apx_papi_resource_image,
    .resource_set_image = apx_papi_resource_set_image,
    .resource_command = apx_papi_resource_command,
    .resource_args = apx_papi_resource_args,
    .resource_set_command = apx_papi_resource_set_command,
    .resource_workdir = apx_papi_resource_workdir,
    .resource_connection_string = apx_papi_resource_connection_string,
    .param_value = apx_papi_param_value,
    .param_env_name = apx_papi_param_env_name,
    .param_secret = apx_papi_param_secret,
    .env_count = apx_papi_env_count,
    .env_key = apx_papi_env_key,
    .env_value = apx_papi_env_value,
    .env_find = apx_papi_env_find,
    .env_set = apx_papi_env_set,
    .endpoint_count = apx_papi_endpoint_count,
    .endpoint_find = apx_papi_endpoint_find,
    .endpoint_name = apx_papi_endpoint_name,
    .endpoint_scheme = apx_papi_endpoint_scheme,
    .endpoint_port = apx_papi_endpoint_port,
    .endpoint_target_port = apx_papi_endpoint_target_port,
    .endpoint_external = apx_papi_endpoint_external,
    .endpoint_loc = apx_papi_endpoint_loc,
    .endpoint_add = apx_papi_endpoint_add,
    .dep_count = apx_papi_dep_count,
    .dep_kind = apx_papi_dep_kind,
    .dep_target = apx_papi_dep_target,
    .dep_add = apx_papi_dep_add,
    .volume_count = apx_papi_volume_count,
    .volume_name = apx_papi_volume_name,
    .volume_target = apx_papi_volume_target,
    .volume_readonly = apx_papi_volume_readonly,
    .bind_count = apx_papi_bind_count,
    .bind_source = apx_papi_bind_source,
    .bind_target = apx_papi_bind_target,
    .health_count = apx_papi_health_count,
    .health_kind = apx_papi_health_kind,
    .health_endpoint = apx_papi_health_endpoint,
    .health_path = apx_papi_health_path,
    .health_interval_ms = apx_papi_health_interval_ms,
    .health_loc = apx_papi_health_loc,
    .label_count = apx_papi_label_count,
    .label_key = apx_papi_label_key,
    .label_value = apx_papi_label_value,
    .label_set = apx_papi_label_set,
    .annotation_count = apx_papi_annotation_count,
    .annotation_key = apx_papi_annotation_key,
    .annotation_value = apx_papi_annotation_value,
    .annotation_set = apx_papi_annotation_set,
    .value_type = apx_papi_value_type,
    .value_string = apx_papi_value_string,
    .value_int = apx_papi_value_int,
    .value_bool = apx_papi_value_bool,
    .value_loc = apx_papi_value_loc,
    .value_part_count = apx_papi_value_part_count,
    .value_part_text = apx_papi_value_part_text,
    .value_part_ref = apx_papi_value_part_ref,
    .value_part_prop = apx_papi_value_part_prop,
    .value_part_endpoint = apx_papi_value_part_endpoint,
    .value_list_count = apx_papi_value_list_count,
    .value_list_at = apx_papi_value_list_at,
    .value_map_count = apx_papi_value_map_count,
    .value_map_key = apx_papi_value_map_key,
    .value_map_at = apx_papi_value_map_at,
    .value_new_string = apx_papi_value_new_string,
    .value_new_int = apx_papi_value_new_int,
    .value_new_list = apx_papi_value_new_list,
    .template_new = apx_papi_template_new,
    .template_text = apx_papi_template_text,
    .template_ref = apx_papi_template_ref,
    .template_value = apx_papi_template_value,
    .template_finish = apx_papi_template_finish,
    .render_value = apx_papi_render_value,
    .buf_append = apx_papi_buf_append,
    .output_add = apx_papi_output_add,
    .output_dir = apx_papi_output_dir,
    .plugin_arg = apx_host_plugin_arg,
};
