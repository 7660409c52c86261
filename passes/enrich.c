/* Pass 5, enrich: fills in what a user need not write. Parameter values
 * (-p, APX_PARAM_*, default) and their variable names; endpoint schemes,
 * protocols and target ports; health-check defaults; the variable that tells
 * a workload its port; and the reference environment with Aspire's names
 * (ConnectionStrings__x, services__x__ep__0, X_EP, X_HOST, X_PORT, X_URI), so
 * existing Aspire client code works unchanged. Explicit env entries win. */
#include <stdlib.h>
#include <string.h>

#include "base/names.h"
#include "passes_internal.h"
#include "pipeline.h"

enum {
  APX_HEALTH_INTERVAL_MS = 2000,
  APX_HEALTH_TIMEOUT_MS = 2000,
  APX_HEALTH_RETRIES = 30,
  APX_DEFAULT_HTTP_PORT = 8080,
};

static void apx_enrich_params(apx_module *m) {
  const apx_options *o = m->opts;
  bool *used = o->nparams ? calloc(o->nparams, sizeof *used) : NULL;
  for (size_t i = 0; i < m->nresources; i++) {
    apx_resource *r = m->resources[i];
    if (r->kind != APX_KIND_PARAM || !r->param) continue;
    apx_param *p = r->param;
    p->env_name = apx_name_env_var(m->arena, r->name);
    size_t nlen = strlen(r->name);
    for (size_t k = 0; k < o->nparams; k++) {
      const char *a = o->params[k];
      const char *eq = strchr(a, '=');
      if (eq && (size_t)(eq - a) == nlen && strncmp(a, r->name, nlen) == 0) {
        p->value = eq + 1;
        p->source = APX_PARAM_FROM_CLI;
        used[k] = true;
      }
    }
    if (!p->value) {
      const char *ev = getenv(apx_arena_printf(m->arena, "APX_PARAM_%s", p->env_name));
      if (ev) {
        p->value = apx_arena_strdup(m->arena, ev);
        p->source = APX_PARAM_FROM_ENV;
      }
    }
    if (!p->value && p->def && p->def->kind == APX_V_STRING) {
      p->value = p->def->u.str.s;
      p->source = APX_PARAM_FROM_DEFAULT;
    }
  }
  for (size_t k = 0; k < o->nparams; k++) {
    if (used[k]) continue;
    const char *a = o->params[k];
    const char *eq = strchr(a, '=');
    const char *name = eq ? apx_arena_strndup(m->arena, a, (size_t)(eq - a)) : a;
    const char **c = malloc(sizeof *c * (m->nresources + 1));
    if (!c) abort();
    size_t n = 0;
    for (size_t i = 0; i < m->nresources; i++)
      if (m->resources[i]->kind == APX_KIND_PARAM) c[n++] = m->resources[i]->name;
    const char *s = apx_diag_may_suggest(m->diag) ? apx_suggest(name, c, n) : NULL;
    apx_diagnostic *d = eq ? apx_error(m->diag, APX_NOLOC, "-p %s: the program has no param '%s'", name, name)
                           : apx_error(m->diag, APX_NOLOC, "-p %s: write -p NAME=VALUE", a);
    if (eq && s) apx_diag_hint(m->diag, d, "did you mean '%s'?", s);
    free(c);
  }
  free(used);
}

static const char *apx_default_scheme(const char *name) {
  static const char *const same[] = {"http", "https", "grpc", "grpcs", "udp"};
  for (size_t i = 0; i < 5; i++)
    if (strcmp(name, same[i]) == 0) return same[i];
  return "tcp";
}

static void apx_enrich_endpoints(apx_module *m, apx_resource *r) {
  bool publishable = r->kind == APX_KIND_CONTAINER || r->kind == APX_KIND_PROJECT ||
                     (r->kind == APX_KIND_EXECUTABLE && r->build);
  for (size_t i = 0; i < r->nendpoints; i++) {
    apx_endpoint *e = &r->endpoints[i];
    if (!e->scheme) e->scheme = apx_default_scheme(e->name);
    if (!e->protocol) e->protocol = strcmp(e->scheme, "udp") == 0 ? "udp" : "tcp";
    if (e->target_port || !publishable) continue;
    if (e->port) {
      e->target_port = e->port;
      continue;
    }
    if (e->env || r->kind != APX_KIND_CONTAINER) {
      /* The workload is told its port, so any free one will do: take the
       * first of 8080, 8081, … this resource does not use yet. */
      int p = APX_DEFAULT_HTTP_PORT;
      for (bool clash = true; clash;) {
        clash = false;
        for (size_t k = 0; k < r->nendpoints; k++)
          if (r->endpoints[k].target_port == p || r->endpoints[k].port == p) {
            clash = true;
            p++;
          }
      }
      e->target_port = p;
      e->target_port_defaulted = true;
      continue;
    }
    apx_diagnostic *d = apx_error(m->diag, e->loc, "endpoint '%s' of container '%s' needs target_port", e->name, r->name);
    apx_diag_hint(m->diag, d, "set the port the image listens on (target_port = 80), or env = \"PORT\" to tell it one");
  }
  for (size_t i = 0; i < r->nendpoints; i++) {
    apx_endpoint *e = &r->endpoints[i];
    if (!e->env || apx_ir_env_find(r, e->env)) continue;
    apx_ir_env_set(m, r, e->env, apx_ir_ref_template(m, r, APX_PROP_EP_TARGET_PORT, e->name, e->loc), e->loc);
  }
}

static void apx_enrich_health(apx_module *m, apx_resource *r) {
  for (size_t i = 0; i < r->nhealth; i++) {
    apx_health *h = &r->health[i];
    if (h->interval_ms < 0) h->interval_ms = APX_HEALTH_INTERVAL_MS;
    if (h->timeout_ms < 0) h->timeout_ms = APX_HEALTH_TIMEOUT_MS;
    if (h->start_period_ms < 0) h->start_period_ms = 0;
    if (h->retries < 0) h->retries = APX_HEALTH_RETRIES;
    if (h->kind != APX_HEALTH_HTTP || h->endpoint) continue;
    for (size_t k = 0; k < r->nendpoints && !h->endpoint; k++)
      if (strncmp(r->endpoints[k].scheme, "http", 4) == 0) h->endpoint = r->endpoints[k].name;
    if (!h->endpoint) {
      apx_diagnostic *d = apx_error(m->diag, h->loc, "http health check of '%s' has no http endpoint to probe", r->name);
      apx_diag_hint(m->diag, d, "declare endpoint http { … } or name one: health { http = \"/\" endpoint = \"NAME\" }");
    }
  }
}

/* What referencing a resource injects depends only on that resource, so it
 * is built once per target and shared by every resource referencing it:
 * values are not changed after this pass. */
typedef struct apx_injection {
  apx_entry *entries;
  size_t n, cap;
} apx_injection;

static void apx_inject(apx_module *m, apx_injection *in, const char *key, apx_value *v) {
  apx_entry e = {key, v->loc, v};
  APX_VEC_PUSH(m->arena, in->entries, in->n, in->cap, e);
}

static void apx_injection_build(apx_module *m, apx_resource *t, apx_injection *in) {
  apx_loc loc = t->name_loc;
  const char *up = apx_name_env_var(m->arena, t->name);
  if (t->connection_string)
    apx_inject(m, in, apx_arena_cat(m->arena, "ConnectionStrings__", t->name, (char *)NULL),
               apx_ir_ref_template(m, t, APX_PROP_CONNECTION_STRING, NULL, loc));
  if (t->kind == APX_KIND_EXTERNAL && t->url) {
    /* An external service is discovered by its URL, keyed by its scheme. */
    const char *scheme = "default";
    if (t->url->kind == APX_V_STRING) {
      const char *colon = strstr(t->url->u.str.s, "://");
      if (colon) scheme = apx_arena_strndup(m->arena, t->url->u.str.s, (size_t)(colon - t->url->u.str.s));
    }
    apx_value *url = apx_ir_ref_template(m, t, APX_PROP_URL, NULL, loc);
    apx_inject(m, in, apx_arena_cat(m->arena, "services__", t->name, "__", scheme, "__0", (char *)NULL), url);
    apx_inject(m, in, apx_arena_cat(m->arena, up, "_URL", (char *)NULL), url);
    apx_inject(m, in, apx_arena_cat(m->arena, up, "_URI", (char *)NULL), url);
    return;
  }
  /* A child's endpoints are its server's; only its own name is used. */
  apx_resource *owner = (apx_resource *)apx_ir_runner(t);
  if (!owner || !owner->nendpoints) return;
  apx_value *first_url = NULL;
  for (size_t i = 0; i < owner->nendpoints && owner == t; i++) {
    const apx_endpoint *e = &owner->endpoints[i];
    apx_value *url = apx_ir_ref_template(m, owner, APX_PROP_EP_URL, e->name, loc);
    if (!first_url) first_url = url;
    apx_inject(m, in, apx_arena_cat(m->arena, "services__", t->name, "__", e->name, "__0", (char *)NULL), url);
    apx_inject(m, in, apx_arena_cat(m->arena, up, "_", apx_name_env_var(m->arena, e->name), (char *)NULL), url);
  }
  const apx_endpoint *e = &owner->endpoints[0];
  apx_inject(m, in, apx_arena_cat(m->arena, up, "_HOST", (char *)NULL), apx_ir_ref_template(m, owner, APX_PROP_EP_HOST, e->name, loc));
  apx_inject(m, in, apx_arena_cat(m->arena, up, "_PORT", (char *)NULL), apx_ir_ref_template(m, owner, APX_PROP_EP_PORT, e->name, loc));
  if (first_url) apx_inject(m, in, apx_arena_cat(m->arena, up, "_URI", (char *)NULL), first_url);
}

static void apx_enrich_references(apx_module *m, apx_resource *r, apx_map *cache, apx_injection ***all,
                                  size_t *nall, size_t *capall, apx_map *keys) {
  size_t extra = 0;
  /* One scratch set of this resource's keys (the map is emptied, not
   * reallocated, between resources). */
  if (keys->cap) memset(keys->slots, 0, keys->cap * sizeof *keys->slots);
  keys->n = 0;
  for (size_t i = 0; i < r->nenv; i++) *apx_map_str(keys, r->env[i].key, true) = 1;
  for (int pass = 0; pass < 2; pass++) {
    if (pass == 1) apx_ir_env_reserve(m, r, extra);
  for (size_t k = 0; k < r->ndeps; k++) {
    apx_dep *d = &r->deps[k];
    if (d->kind != APX_DEP_REFERENCE || d->target->kind == APX_KIND_PARAM) continue;
    size_t *slot = apx_map_ptr(cache, d->target, NULL, true);
    if (*slot == (size_t)-1) {
      apx_injection *in = APX_NEW(m->arena, apx_injection);
      apx_injection_build(m, d->target, in);
      *slot = *nall;
      APX_VEC_PUSH(m->arena, *all, *nall, *capall, in);
    }
    const apx_injection *in = (*all)[*slot];
    if (pass == 0) { /* count first, so the env array grows once */
      extra += in->n;
      continue;
    }
    /* Explicit env entries win, and so does the first reference. */
    for (size_t i = 0; i < in->n; i++) {
      size_t *seen = apx_map_str(keys, in->entries[i].key, true);
      if (*seen != (size_t)-1) continue;
      *seen = 1;
      apx_ir_env_append(m, r, in->entries[i].key, in->entries[i].value, d->loc);
    }
  }
  }
  apx_ir_env_trim(m, r);
}

int apx_pass_enrich(apx_module *m) {
  size_t errors = m->diag->errors;
  apx_enrich_params(m);
  for (size_t i = 0; i < m->nresources; i++) {
    apx_resource *r = m->resources[i];
    apx_enrich_endpoints(m, r);
    apx_enrich_health(m, r);
  }
  /* References after endpoints: their URLs need the defaults above. */
  apx_map cache;
  apx_map_init_ptr(&cache, m->arena);
  apx_injection **all = NULL;
  size_t nall = 0, capall = 0;
  apx_map keys;
  apx_map_init_str(&keys, m->arena);
  for (size_t i = 0; i < m->nresources; i++)
    apx_enrich_references(m, m->resources[i], &cache, &all, &nall, &capall, &keys);
  return (int)(m->diag->errors - errors);
}
