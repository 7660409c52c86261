/* --emit=ir: the IR as JSON (format in doc/ir.md), one file; the driver's
 * --dump-after=PASS calls it too. Works on a module at any stage: before
 * typecheck a resource shows its generic body, after it the typed fields.
 * Secrets are masked everywhere. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "base/path.h"
#include "ir/render.h"

#define APX_SECRET_MASK "(secret)"


static const char *apx_json_filter_name(apx_filter f) {
  switch (f) {
  case APX_FILTER_URLENCODE: return "urlencode";
  case APX_FILTER_LOWER: return "lower";
  case APX_FILTER_UPPER: return "upper";
  case APX_FILTER_NONE: break;
  }
  return NULL;
}

static cJSON *apx_json_strn(const char *s, size_t n) {
  /* cJSON wants a NUL-terminated string; template text parts carry a length. */
  char *tmp = malloc(n + 1);
  if (!tmp) abort();
  memcpy(tmp, s, n);
  tmp[n] = '\0';
  cJSON *j = cJSON_CreateString(tmp);
  free(tmp);
  return j;
}

static void apx_json_add_str(cJSON *o, const char *key, const char *s) {
  if (s) cJSON_AddItemToObject(o, key, cJSON_CreateString(s));
}

static void apx_json_add_int(cJSON *o, const char *key, int64_t i) {
  cJSON_AddItemToObject(o, key, cJSON_CreateNumber((double)i));
}

static cJSON *apx_json_duration(int64_t ms) {
  cJSON *o = cJSON_CreateObject();
  apx_json_add_int(o, "duration_ms", ms);
  return o;
}

static cJSON *apx_json_ref(const apx_ref *ref) {
  cJSON *o = cJSON_CreateObject();
  if (ref->prop == APX_PROP_INPUT) {
    apx_json_add_str(o, "input", ref->npath ? ref->path[0] : "?");
  } else if (!ref->target) {
    /* Not resolved yet (dump after an early pass): the path as written. */
    cJSON *p = cJSON_AddArrayToObject(o, "path");
    for (size_t i = 0; i < ref->npath; i++) cJSON_AddItemToArray(p, cJSON_CreateString(ref->path[i]));
  } else {
    apx_json_add_str(o, "ref", ref->target->name);
    apx_json_add_str(o, "prop", apx_ir_prop_name(ref->prop));
    if (ref->endpoint) apx_json_add_str(o, "endpoint", ref->endpoint);
  }
  const char *f = apx_json_filter_name(ref->filter);
  if (f) apx_json_add_str(o, "filter", f);
  return o;
}

static cJSON *apx_json_value(const apx_value *v) {
  if (!v) return cJSON_CreateNull();
  switch (v->kind) {
  case APX_V_NULL: return cJSON_CreateNull();
  case APX_V_BOOL: return cJSON_CreateBool(v->u.b);
  case APX_V_INT: return cJSON_CreateNumber((double)v->u.i);
  case APX_V_DURATION: return apx_json_duration(v->u.i);
  case APX_V_STRING: return apx_json_strn(v->u.str.s, v->u.str.len);
  case APX_V_TEMPLATE: {
    cJSON *o = cJSON_CreateObject();
    cJSON *parts = cJSON_AddArrayToObject(o, "template");
    for (size_t i = 0; i < v->u.tpl.n; i++) {
      const apx_tpart *p = &v->u.tpl.parts[i];
      cJSON_AddItemToArray(parts, p->ref ? apx_json_ref(p->ref) : apx_json_strn(p->text, p->len));
    }
    return o;
  }
  case APX_V_LIST: {
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; i < v->u.list.n; i++) cJSON_AddItemToArray(a, apx_json_value(v->u.list.items[i]));
    return a;
  }
  case APX_V_MAP: {
    cJSON *o = cJSON_CreateObject();
    for (size_t i = 0; i < v->u.map.n; i++)
      cJSON_AddItemToObject(o, v->u.map.entries[i].key, apx_json_value(v->u.map.entries[i].value));
    return o;
  }
  case APX_V_REF: return apx_json_ref(v->u.ref);
  case APX_V_CALL: {
    cJSON *o = cJSON_CreateObject();
    apx_json_add_str(o, "call", v->u.call.name);
    cJSON *args = cJSON_AddArrayToObject(o, "args");
    for (size_t i = 0; i < v->u.call.n; i++) cJSON_AddItemToArray(args, apx_json_value(v->u.call.args[i]));
    return o;
  }
  }
  return cJSON_CreateNull();
}

static void apx_json_add_value(cJSON *o, const char *key, const apx_value *v) {
  if (v) cJSON_AddItemToObject(o, key, apx_json_value(v));
}

/* Ordered maps (env, labels, build args) as objects: cJSON keeps insertion order. */
static void apx_json_add_entries(cJSON *o, const char *key, const apx_entry *e, size_t n) {
  if (!n) return;
  cJSON *m = cJSON_AddObjectToObject(o, key);
  for (size_t i = 0; i < n; i++) cJSON_AddItemToObject(m, e[i].key, apx_json_value(e[i].value));
}

static void apx_json_add_relpath(cJSON *o, const char *key, const apx_module *m, const char *abs) {
  if (!abs) return;
  apx_buf b = {0};
  apx_path_relative(m->main_dir ? m->main_dir : ".", abs, true, &b);
  apx_json_add_str(o, key, apx_buf_str(&b));
  apx_buf_free(&b);
}

static void apx_json_add_location(cJSON *o, const apx_module *m, apx_loc loc) {
  if (loc.file == 0 || !m->diag) return;
  unsigned line, col;
  apx_diag_line_col(m->diag, loc.file, loc.begin, &line, &col);
  char *s = NULL;
  const apx_source *src = apx_diag_source(m->diag, loc.file);
  size_t n = strlen(src->name) + 32;
  s = malloc(n);
  if (!s) abort();
  snprintf(s, n, "%s:%u:%u", src->name, line, col);
  apx_json_add_str(o, "location", s);
  free(s);
}

/* ---- generic body ------------------------------------------------------ */

static bool apx_json_body_is_secret(const apx_item *it) {
  for (; it; it = it->next)
    if (it->kind == APX_IT_ATTR && strcmp(it->name, "secret") == 0)
      return !(it->value && it->value->kind == APX_V_BOOL && !it->value->u.b);
  return false;
}

static cJSON *apx_json_items(const apx_item *it, bool secret) {
  cJSON *a = cJSON_CreateArray();
  for (; it; it = it->next) {
    cJSON *o = cJSON_CreateObject();
    if (it->kind == APX_IT_ATTR) {
      apx_json_add_str(o, "attr", it->name);
      /* A secret parameter's default or value stays hidden before typecheck
       * as well as after. */
      if (secret && (strcmp(it->name, "default") == 0 || strcmp(it->name, "value") == 0))
        apx_json_add_str(o, "value", APX_SECRET_MASK);
      else
        apx_json_add_value(o, "value", it->value);
    } else {
      apx_json_add_str(o, "block", it->name);
      apx_json_add_str(o, "label", it->label);
      cJSON_AddItemToObject(o, "items", apx_json_items(it->body, false));
    }
    if (it->from) apx_json_add_str(o, "from", it->from->name);
    cJSON_AddItemToArray(a, o);
  }
  return a;
}

/* ---- typed fields ------------------------------------------------------ */

static const char *apx_json_health_kind(apx_health_kind k) {
  switch (k) {
  case APX_HEALTH_HTTP: return "http";
  case APX_HEALTH_TCP: return "tcp";
  case APX_HEALTH_EXEC: return "exec";
  case APX_HEALTH_LOG: return "log";
  }
  return "?";
}

static const char *apx_json_param_source(apx_param_source s) {
  switch (s) {
  case APX_PARAM_FROM_CLI: return "cli";
  case APX_PARAM_FROM_ENV: return "env";
  case APX_PARAM_FROM_DEFAULT: return "default";
  case APX_PARAM_UNSET: break;
  }
  return NULL;
}

static cJSON *apx_json_param(const apx_param *p) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddBoolToObject(o, "secret", p->secret);
  if (p->def) {
    if (p->secret) apx_json_add_str(o, "default", APX_SECRET_MASK);
    else apx_json_add_value(o, "default", p->def);
  }
  if (p->has_generate) {
    const apx_generate *g = &p->generate;
    cJSON *go = cJSON_AddObjectToObject(o, "generate");
    apx_json_add_int(go, "length", g->length);
    cJSON_AddBoolToObject(go, "lower", g->lower);
    cJSON_AddBoolToObject(go, "upper", g->upper);
    cJSON_AddBoolToObject(go, "numeric", g->numeric);
    cJSON_AddBoolToObject(go, "special", g->special);
    apx_json_add_int(go, "min_lower", g->min_lower);
    apx_json_add_int(go, "min_upper", g->min_upper);
    apx_json_add_int(go, "min_numeric", g->min_numeric);
    apx_json_add_int(go, "min_special", g->min_special);
  }
  apx_json_add_str(o, "description", p->description);
  if (p->value) apx_json_add_str(o, "value", p->secret ? APX_SECRET_MASK : p->value);
  apx_json_add_str(o, "source", apx_json_param_source(p->source));
  apx_json_add_str(o, "env_name", p->env_name);
  return o;
}

static void apx_json_typed(cJSON *o, const apx_module *m, const apx_resource *r) {
  apx_json_add_value(o, "image", r->image);
  if (r->build) {
    const apx_build *b = r->build;
    cJSON *bo = cJSON_AddObjectToObject(o, "build");
    apx_json_add_location(bo, m, b->loc);
    apx_json_add_str(bo, "context", b->context);
    apx_json_add_str(bo, "dockerfile", b->dockerfile);
    apx_json_add_str(bo, "target", b->target);
    apx_json_add_entries(bo, "args", b->args, b->nargs);
  }
  apx_json_add_value(o, "command", r->command);
  apx_json_add_value(o, "args", r->args);
  apx_json_add_value(o, "entrypoint", r->entrypoint);
  if (r->workdir_written) apx_json_add_str(o, "workdir", r->workdir_written);
  else apx_json_add_relpath(o, "workdir", m, r->workdir);
  apx_json_add_entries(o, "env", r->env, r->nenv);
  if (r->nendpoints) {
    cJSON *a = cJSON_AddArrayToObject(o, "endpoints");
    for (size_t i = 0; i < r->nendpoints; i++) {
      const apx_endpoint *e = &r->endpoints[i];
      cJSON *eo = cJSON_CreateObject();
      apx_json_add_str(eo, "name", e->name);
      if (e->port) apx_json_add_int(eo, "port", e->port);
      if (e->target_port) apx_json_add_int(eo, "target_port", e->target_port);
      if (e->target_port_defaulted) cJSON_AddTrueToObject(eo, "target_port_defaulted");
      apx_json_add_str(eo, "scheme", e->scheme);
      apx_json_add_str(eo, "protocol", e->protocol);
      if (e->external) cJSON_AddTrueToObject(eo, "external");
      apx_json_add_str(eo, "env", e->env);
      cJSON_AddItemToArray(a, eo);
    }
  }
  if (r->nvolumes) {
    cJSON *a = cJSON_AddArrayToObject(o, "volumes");
    for (size_t i = 0; i < r->nvolumes; i++) {
      cJSON *vo = cJSON_CreateObject();
      apx_json_add_str(vo, "name", r->volumes[i].name);
      apx_json_add_str(vo, "target", r->volumes[i].target);
      if (r->volumes[i].readonly) cJSON_AddTrueToObject(vo, "readonly");
      cJSON_AddItemToArray(a, vo);
    }
  }
  if (r->nbinds) {
    cJSON *a = cJSON_AddArrayToObject(o, "binds");
    for (size_t i = 0; i < r->nbinds; i++) {
      cJSON *bo = cJSON_CreateObject();
      if (r->binds[i].source) apx_json_add_str(bo, "source", r->binds[i].source);
      else apx_json_add_relpath(bo, "source", m, r->binds[i].source_abs);
      apx_json_add_str(bo, "target", r->binds[i].target);
      if (r->binds[i].readonly) cJSON_AddTrueToObject(bo, "readonly");
      cJSON_AddItemToArray(a, bo);
    }
  }
  if (r->nhealth) {
    cJSON *a = cJSON_AddArrayToObject(o, "health");
    for (size_t i = 0; i < r->nhealth; i++) {
      const apx_health *h = &r->health[i];
      cJSON *ho = cJSON_CreateObject();
      apx_json_add_str(ho, "kind", apx_json_health_kind(h->kind));
      apx_json_add_str(ho, "path", h->path);
      apx_json_add_str(ho, "endpoint", h->endpoint);
      apx_json_add_value(ho, "exec", h->exec);
      apx_json_add_str(ho, "pattern", h->pattern);
      if (h->interval_ms) cJSON_AddItemToObject(ho, "interval", apx_json_duration(h->interval_ms));
      if (h->timeout_ms) cJSON_AddItemToObject(ho, "timeout", apx_json_duration(h->timeout_ms));
      if (h->start_period_ms) cJSON_AddItemToObject(ho, "start_period", apx_json_duration(h->start_period_ms));
      if (h->retries) apx_json_add_int(ho, "retries", h->retries);
      cJSON_AddItemToArray(a, ho);
    }
  }
  if (r->ndeps) {
    cJSON *a = cJSON_AddArrayToObject(o, "deps");
    for (size_t i = 0; i < r->ndeps; i++) {
      cJSON *d = cJSON_CreateObject();
      apx_json_add_str(d, "kind", apx_ir_dep_kind_name(r->deps[i].kind));
      apx_json_add_str(d, "target", r->deps[i].target ? r->deps[i].target->name : NULL);
      cJSON_AddItemToArray(a, d);
    }
  }
  if (r->replicas != 1) apx_json_add_int(o, "replicas", r->replicas);
  if (r->restart != APX_RESTART_DEFAULT) apx_json_add_str(o, "restart", apx_ir_restart_name(r->restart));
  if (r->lifetime == APX_LIFETIME_PERSISTENT) apx_json_add_str(o, "lifetime", "persistent");
  if (r->explicit_start) cJSON_AddTrueToObject(o, "explicit_start");
  if (!r->publish) cJSON_AddFalseToObject(o, "publish");
  apx_json_add_entries(o, "labels", r->labels, r->nlabels);
  apx_json_add_entries(o, "annotations", r->annotations, r->nannotations);
  if (r->local) {
    const apx_local *l = r->local;
    cJSON *lo = cJSON_AddObjectToObject(o, "local");
    apx_json_add_value(lo, "command", l->command);
    apx_json_add_value(lo, "args", l->args);
    apx_json_add_relpath(lo, "workdir", m, l->workdir);
    apx_json_add_value(lo, "setup", l->setup);
    apx_json_add_entries(lo, "env", l->env, l->nenv);
    apx_json_add_str(lo, "user", l->user);
  }
  apx_json_add_value(o, "connection_string", r->connection_string);
  apx_json_add_value(o, "url", r->url);
  if (r->param) cJSON_AddItemToObject(o, "param", apx_json_param(r->param));
}

static cJSON *apx_json_resource(const apx_module *m, const apx_resource *r) {
  cJSON *o = cJSON_CreateObject();
  apx_json_add_str(o, "name", r->name);
  apx_json_add_str(o, "kind", apx_ir_kind_name(r->kind));
  apx_json_add_str(o, "type", r->type);
  if (r->parent) apx_json_add_str(o, "parent", r->parent->name);
  apx_json_add_location(o, m, r->loc);
  if (r->ninputs) apx_json_add_entries(o, "inputs", r->inputs, r->ninputs);
  if (r->typed) {
    apx_json_typed(o, m, r);
  } else {
    bool secret = r->kind == APX_KIND_PARAM && apx_json_body_is_secret(r->body);
    cJSON_AddItemToObject(o, "body", apx_json_items(r->body, secret));
  }
  return o;
}

static char *apx_ir_to_json(const apx_module *m) {
  cJSON *root = cJSON_CreateObject();
  apx_json_add_str(root, "format", "aspirec-ir");
  apx_json_add_int(root, "version", 1);
  if (m->app_name) apx_json_add_str(root, "app", m->app_name);
  else cJSON_AddNullToObject(root, "app");
  cJSON *res = cJSON_AddArrayToObject(root, "resources");
  for (size_t i = 0; i < m->nresources; i++) cJSON_AddItemToArray(res, apx_json_resource(m, m->resources[i]));
  char *s = cJSON_Print(root);
  cJSON_Delete(root);
  if (!s) abort(); /* cJSON returns NULL only when out of memory */
  return s;
}

int apx_emit_ir(apx_module *m, apx_output *out) {
  char *json = apx_ir_to_json(m);
  size_t n = strlen(json);
  char *text = realloc(json, n + 2);
  if (!text) abort();
  text[n] = '\n'; /* a text file ends with a newline */
  text[n + 1] = '\0';
  apx_output_add_owned(out, "ir.json", text, n + 1);
  return 0;
}
