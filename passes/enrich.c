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
 * values are not changed after this pass. Each key's hash is kept with it,
 * for the many resources that look it up. */
typedef struct apx_injection {
  apx_entry *entries;
  uint64_t *hashes;
  size_t n;
} apx_injection;

static void apx_inject(apx_injection *in, const char *key, apx_value *v) {
  in->entries[in->n++] = (apx_entry){key, v->loc, v};
}

static void apx_injection_build(apx_module *m, apx_resource *t, apx_injection *in) {
  apx_loc loc = t->name_loc;
  const char *up = apx_name_env_var(m->arena, t->name);
  /* At most: the connection string, two per endpoint, host, port, URI. */
  const apx_resource *runner = apx_ir_runner(t);
  in->entries = APX_NEW_ARRAY(m->arena, apx_entry, 4 + 2 * (runner ? runner->nendpoints : 0));
  if (t->connection_string)
    apx_inject(in, apx_arena_cat(m->arena, "ConnectionStrings__", t->name, (char *)NULL),
               apx_ir_ref_template(m, t, APX_PROP_CONNECTION_STRING, NULL, loc));
  if (t->kind == APX_KIND_EXTERNAL && t->url) {
    /* An external service is discovered by its URL, keyed by its scheme. */
    const char *scheme = "default";
    if (t->url->kind == APX_V_STRING) {
      const char *colon = strstr(t->url->u.str.s, "://");
      if (colon) scheme = apx_arena_strndup(m->arena, t->url->u.str.s, (size_t)(colon - t->url->u.str.s));
    }
    apx_value *url = apx_ir_ref_template(m, t, APX_PROP_URL, NULL, loc);
    apx_inject(in, apx_arena_cat(m->arena, "services__", t->name, "__", scheme, "__0", (char *)NULL), url);
    apx_inject(in, apx_arena_cat(m->arena, up, "_URL", (char *)NULL), url);
    apx_inject(in, apx_arena_cat(m->arena, up, "_URI", (char *)NULL), url);
  } else if (runner && runner->nendpoints) {
    /* A child's endpoints are its server's; only its own name is used. */
    apx_resource *owner = (apx_resource *)runner;
    apx_value *first_url = NULL;
    for (size_t i = 0; i < owner->nendpoints && owner == t; i++) {
      const apx_endpoint *e = &owner->endpoints[i];
      apx_value *url = apx_ir_ref_template(m, owner, APX_PROP_EP_URL, e->name, loc);
      if (!first_url) first_url = url;
      apx_inject(in, apx_arena_cat(m->arena, "services__", t->name, "__", e->name, "__0", (char *)NULL), url);
      apx_inject(in, apx_arena_cat(m->arena, up, "_", apx_name_env_var(m->arena, e->name), (char *)NULL), url);
    }
    const apx_endpoint *e = &owner->endpoints[0];
    apx_inject(in, apx_arena_cat(m->arena, up, "_HOST", (char *)NULL), apx_ir_ref_template(m, owner, APX_PROP_EP_HOST, e->name, loc));
    apx_inject(in, apx_arena_cat(m->arena, up, "_PORT", (char *)NULL), apx_ir_ref_template(m, owner, APX_PROP_EP_PORT, e->name, loc));
    if (first_url) apx_inject(in, apx_arena_cat(m->arena, up, "_URI", (char *)NULL), first_url);
  }
  in->hashes = APX_NEW_ARRAY(m->arena, uint64_t, in->n ? in->n : 1);
  for (size_t i = 0; i < in->n; i++) in->hashes[i] = apx_map_hash_str(in->entries[i].key);
}

/* The scratch of the environment step, reused from resource to resource
 * (heap, not arena: nothing of it stays). */
typedef struct apx_envwork {
  apx_map cache;             /* target -> index in all */
  apx_injection **all;
  size_t nall, capall;
  struct apx_envkey { uint64_t h; const char *key; } *keys; /* open addressing, h 0: empty */
  size_t capkeys;
  const apx_injection **of;  /* of the resource's references, in order (NULL: none) */
  size_t capof;
  apx_entry *add;            /* the entries to append */
  size_t nadd, capadd;
} apx_envwork;

static void *apx_grow_heap(void *p, size_t *cap, size_t need, size_t size) {
  if (need <= *cap) return p;
  size_t nc = *cap ? *cap : 16;
  while (nc < need) nc *= 2;
  p = realloc(p, nc * size);
  if (!p) abort();
  *cap = nc;
  return p;
}

/* Adds the key unless the resource has it: false when it is there. */
static bool apx_envkey_add(apx_envwork *W, size_t mask, uint64_t h, const char *key) {
  if (!h) h = 1;
  size_t j = (size_t)h & mask;
  for (; W->keys[j].h; j = (j + 1) & mask)
    if (W->keys[j].h == h && strcmp(W->keys[j].key, key) == 0) return false;
  W->keys[j].h = h;
  W->keys[j].key = key;
  return true;
}

static void apx_envwork_push(apx_envwork *W, const char *key, apx_value *v, apx_loc loc) {
  if (W->nadd == W->capadd) W->add = apx_grow_heap(W->add, &W->capadd, W->nadd + 1, sizeof *W->add);
  W->add[W->nadd++] = (apx_entry){key, loc, v};
}

/* The variables that tell a workload its port, then the environment of
 * what it references. Explicit env entries win, and so does the first
 * reference; the array grows once, to its exact size. */
static void apx_enrich_env(apx_module *m, apx_resource *r, apx_envwork *W) {
  size_t extra = 0;
  for (size_t i = 0; i < r->nendpoints; i++) extra += r->endpoints[i].env != NULL;
  W->of = apx_grow_heap(W->of, &W->capof, r->ndeps, sizeof *W->of);
  for (size_t k = 0; k < r->ndeps; k++) {
    apx_dep *d = &r->deps[k];
    W->of[k] = NULL;
    if (d->kind != APX_DEP_REFERENCE || d->target->kind == APX_KIND_PARAM) continue;
    size_t *slot = apx_map_ptr(&W->cache, d->target, NULL, true);
    if (*slot == (size_t)-1) {
      apx_injection *in = APX_NEW(m->arena, apx_injection);
      apx_injection_build(m, d->target, in);
      *slot = W->nall;
      W->all = apx_grow_heap(W->all, &W->capall, W->nall + 1, sizeof *W->all);
      W->all[W->nall++] = in;
    }
    W->of[k] = W->all[*slot];
    extra += W->of[k]->n;
  }
  if (!extra) return;
  size_t need = 16;
  while (need < 2 * (r->nenv + extra)) need *= 2;
  if (need > W->capkeys) {
    free(W->keys);
    W->keys = malloc(need * sizeof *W->keys);
    if (!W->keys) abort();
    W->capkeys = need;
  }
  memset(W->keys, 0, need * sizeof *W->keys);
  size_t mask = need - 1;
  W->nadd = 0;
  for (size_t i = 0; i < r->nenv; i++) apx_envkey_add(W, mask, apx_map_hash_str(r->env[i].key), r->env[i].key);
  for (size_t i = 0; i < r->nendpoints; i++) {
    apx_endpoint *e = &r->endpoints[i];
    if (!e->env || !apx_envkey_add(W, mask, apx_map_hash_str(e->env), e->env)) continue;
    apx_envwork_push(W, e->env, apx_ir_ref_template(m, r, APX_PROP_EP_TARGET_PORT, e->name, e->loc), e->loc);
  }
  for (size_t k = 0; k < r->ndeps; k++) {
    const apx_injection *in = W->of[k];
    if (!in) continue;
    for (size_t i = 0; i < in->n; i++)
      if (apx_envkey_add(W, mask, in->hashes[i], in->entries[i].key))
        apx_envwork_push(W, in->entries[i].key, in->entries[i].value, r->deps[k].loc);
  }
  apx_ir_env_append_many(m, r, W->add, W->nadd);
}

int apx_pass_enrich(apx_module *m) {
  size_t errors = m->diag->errors;
  apx_enrich_params(m);
  for (size_t i = 0; i < m->nresources; i++) {
    apx_resource *r = m->resources[i];
    apx_enrich_endpoints(m, r);
    apx_enrich_health(m, r);
  }
  /* The environment after endpoints: their URLs need the defaults above. */
  apx_envwork W = {0};
  apx_map_init_ptr(&W.cache, m->arena);
  for (size_t i = 0; i < m->nresources; i++) apx_enrich_env(m, m->resources[i], &W);
  apx_map_release(&W.cache);
  free(W.all);
  free(W.keys);
  free(W.add);
  free(W.of);
  return (int)(m->diag->errors - errors);
}
