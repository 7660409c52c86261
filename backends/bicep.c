/* --emit=bicep: main.bicep and main.parameters.json for Azure Container Apps
 * (doc/targets.md, "bicep").
 *
 * One resource-group deployment: a Log Analytics workspace, a Container Apps
 * environment logging to it, one container app per container or project,
 * and, when any resource has a volume, a storage account with one Azure
 * Files share and one environment storage per volume. Apps find each other
 * inside the environment by app name: an http ingress answers on 80 (443
 * for https), any other port is an additional port mapping exposed on its
 * target port. Parameters are Bicep `param`s (`@secure()` for secrets,
 * never with a default, never in an output); a value that holds a secret
 * goes to the app's `configuration.secrets` and its variable uses
 * `secretRef`. Text goes through bicep_writer.h, JSON through cJSON. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/names.h"
#include "ir/render.h"
#include "backend.h"
#include "bicep_writer.h"
#include "cloud.h"

#define APX_BICEP_APPS "Microsoft.App/containerApps@2024-03-01"
#define APX_BICEP_ENV "Microsoft.App/managedEnvironments@2024-03-01"
#define APX_BICEP_ENV_STORAGE "Microsoft.App/managedEnvironments/storages@2024-03-01"
#define APX_BICEP_LOGS "Microsoft.OperationalInsights/workspaces@2023-09-01"
#define APX_BICEP_STORAGE "Microsoft.Storage/storageAccounts@2023-01-01"
#define APX_BICEP_FILES "Microsoft.Storage/storageAccounts/fileServices@2023-01-01"
#define APX_BICEP_SHARE "Microsoft.Storage/storageAccounts/fileServices/shares@2023-01-01"
#define APX_BICEP_ENV_SYM "containerAppsEnvironment"

typedef struct apx_bicep_be {
  apx_cloud c; /* first: render callbacks shared in cloud.c take the state as an apx_cloud */
  apx_module *m;
  apx_bicep body;     /* resources and outputs; params are written once known used */
  apx_map param_used; /* parameters a value refers to: only those are declared */
  apx_map symbols;    /* Bicep symbol -> resource index + 1 (0: our own) */
  apx_map appnames;   /* container app name -> resource index */
} apx_bicep_be;

/* ---- names ------------------------------------------------------------------ */

/* A Bicep identifier: bytes outside [A-Za-z0-9_] become '_', '_' in front of a digit. */
static const char *apx_bicep_ident(apx_arena *a, const char *prefix, const char *name, const char *suffix) {
  apx_buf b = {0};
  apx_buf_puts(&b, prefix);
  if (!*prefix && *name >= '0' && *name <= '9') apx_buf_putc(&b, '_');
  for (const char *s = name; *s; s++) {
    char ch = *s;
    bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
    apx_buf_putc(&b, ok ? ch : '_');
  }
  apx_buf_puts(&b, suffix);
  if (!b.len) apx_buf_putc(&b, '_');
  const char *r = apx_arena_strdup(a, apx_buf_str(&b));
  apx_buf_free(&b);
  return r;
}

/* A container app name: lower case letters, digits and '-', starting with a
 * letter, at most 32 characters, no "--". */
static const char *apx_bicep_app_name(apx_arena *a, const char *name) {
  const char *l = apx_name_dns_label(a, name);
  apx_buf b = {0};
  if (!(l[0] >= 'a' && l[0] <= 'z')) apx_buf_puts(&b, "app-");
  apx_buf_puts(&b, l);
  size_t n = b.len > 32 ? 32 : b.len;
  while (n && b.data[n - 1] == '-') n--;
  const char *r = apx_arena_strndup(a, b.data, n);
  apx_buf_free(&b);
  return r;
}

static const char *apx_bicep_param_sym(apx_bicep_be *k, const apx_resource *p) {
  return apx_bicep_ident(k->m->arena, "", p->name, "");
}
static const char *apx_bicep_app_sym(apx_bicep_be *k, const apx_resource *r) {
  return apx_bicep_ident(k->m->arena, "app_", r->name, "");
}
static const char *apx_bicep_image_sym(apx_bicep_be *k, const apx_resource *r) {
  return apx_bicep_ident(k->m->arena, "", r->name, "_image");
}

/* Reserves a symbol; an error when two things would share it. */
static void apx_bicep_claim(apx_bicep_be *k, const char *sym, const apx_resource *owner, const char *what) {
  size_t *slot = apx_map_str(&k->symbols, sym, true);
  if (*slot == (size_t)-1) {
    *slot = (size_t)(uintptr_t)owner;
    return;
  }
  const apx_resource *other = (const apx_resource *)(uintptr_t)*slot;
  if (other == owner) return;
  if (other)
    apx_error(k->m->diag, owner ? owner->loc : APX_NOLOC,
              "%s '%s' would be the Bicep symbol '%s', as '%s' already is; rename one", what, owner ? owner->name : "",
              sym, other->name);
  else
    apx_error(k->m->diag, owner ? owner->loc : APX_NOLOC,
              "%s '%s' would be the Bicep symbol '%s', which the deployment itself declares; rename it", what,
              owner ? owner->name : "", sym);
}

/* ---- ingress ------------------------------------------------------------------- */

static bool apx_bicep_is_http(const apx_endpoint *e) {
  return e->scheme && (strcmp(e->scheme, "http") == 0 || strcmp(e->scheme, "https") == 0);
}
static bool apx_bicep_is_http2(const apx_endpoint *e) {
  return e->scheme && (strcmp(e->scheme, "grpc") == 0 || strcmp(e->scheme, "http2") == 0);
}
static bool apx_bicep_is_udp(const apx_endpoint *e) { return e->protocol && strcmp(e->protocol, "udp") == 0; }

/* The endpoint the app's ingress serves: the first external http one, else
 * the first external, else the first http, else the first. */
static const apx_endpoint *apx_bicep_primary(const apx_resource *r) {
  const apx_endpoint *best = NULL;
  int best_rank = -1;
  for (size_t i = 0; i < r->nendpoints; i++) {
    const apx_endpoint *e = &r->endpoints[i];
    if (apx_bicep_is_udp(e) || e->target_port <= 0) continue;
    int rank = (e->external ? 2 : 0) + (apx_bicep_is_http(e) || apx_bicep_is_http2(e) ? 1 : 0);
    if (rank > best_rank) {
      best = e;
      best_rank = rank;
    }
  }
  return best;
}

static bool apx_bicep_http_ingress(const apx_endpoint *primary) {
  return primary && (apx_bicep_is_http(primary) || apx_bicep_is_http2(primary));
}

/* ---- render target ------------------------------------------------------------- */

static void apx_bicep_host(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  apx_bicep_be *k = ud;
  const apx_resource *run = apx_ir_runner(r);
  const char *name = apx_bicep_app_name(k->m->arena, run->name);
  apx_bicep_escape(out, name, strlen(name));
  /* An external app answers on its public name too; that works anywhere. */
  if (e->external && e == apx_bicep_primary(run) && apx_bicep_http_ingress(e))
    apx_buf_puts(out, ".${" APX_BICEP_ENV_SYM ".properties.defaultDomain}");
}

static void apx_bicep_port(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  apx_bicep_be *k = ud;
  const apx_resource *run = apx_ir_runner(r);
  if (e->target_port <= 0) {
    k->c.cb_error = "the endpoint has no target port";
    return;
  }
  if (e == apx_bicep_primary(run) && apx_bicep_http_ingress(e))
    apx_buf_printf(out, "%d", e->scheme && strcmp(e->scheme, "https") == 0 ? 443 : 80);
  else apx_buf_printf(out, "%d", e->target_port);
}

static bool apx_bicep_param_cb(void *ud, const apx_resource *p, apx_buf *out) {
  apx_bicep_be *k = ud;
  *apx_map_ptr(&k->param_used, p, NULL, true) = 1;
  apx_buf_printf(out, "${%s}", apx_bicep_param_sym(k, p));
  return true;
}

static void apx_bicep_text(void *ud, const char *s, size_t n, apx_buf *out) {
  (void)ud;
  apx_bicep_escape(out, s, n);
}

static apx_render_target apx_bicep_target(apx_bicep_be *k) {
  apx_render_target t = {0};
  t.ud = k;
  t.host = apx_bicep_host;
  t.port = apx_bicep_port;
  t.target_port = apx_cloud_target_port;
  t.param = apx_bicep_param_cb;
  t.text = apx_bicep_text;
  return t;
}

static bool apx_bicep_render(apx_bicep_be *k, const apx_resource *r, const apx_value *v, const char *what,
                             apx_buf *out) {
  apx_render_target t = apx_bicep_target(k);
  return apx_cloud_render(&k->c, &t, r, v, v ? v->loc : r->loc, what, out);
}

/* A list value (args) as array items of rendered strings. */
static void apx_bicep_list(apx_bicep_be *k, const apx_resource *r, const apx_value *v, const char *what) {
  apx_buf b = {0};
  size_t n = v->kind == APX_V_LIST ? v->u.list.n : 1;
  for (size_t i = 0; i < n; i++) {
    apx_buf_clear(&b);
    if (apx_bicep_render(k, r, v->kind == APX_V_LIST ? v->u.list.items[i] : v, what, &b))
      apx_bicep_tpl(&k->body, NULL, apx_buf_str(&b));
  }
  apx_buf_free(&b);
}

/* ---- one container app ------------------------------------------------------------ */

typedef struct apx_bicep_secret {
  const char *name;
  char *value; /* rendered template */
} apx_bicep_secret;

static void apx_bicep_ingress(apx_bicep_be *k, const apx_resource *r) {
  const apx_endpoint *p = apx_bicep_primary(r);
  for (size_t i = 0; i < r->nendpoints; i++)
    if (apx_bicep_is_udp(&r->endpoints[i]))
      apx_warning(k->m->diag, r->endpoints[i].loc,
                  "endpoint '%s' of '%s' is udp, which Azure Container Apps ingress cannot carry; it is left out",
                  r->endpoints[i].name, r->name);
  if (!p) return;
  apx_bicep *w = &k->body;
  bool http = apx_bicep_http_ingress(p);
  apx_bicep_object(w, "ingress");
  apx_bicep_bool(w, "external", p->external);
  apx_bicep_int(w, "targetPort", p->target_port);
  apx_bicep_str(w, "transport", http ? (apx_bicep_is_http2(p) ? "http2" : "http") : "tcp");
  if (!http) apx_bicep_int(w, "exposedPort", p->target_port);
  /* Plain http between apps, as the other targets have it. */
  if (http && !(p->scheme && strcmp(p->scheme, "https") == 0)) apx_bicep_bool(w, "allowInsecure", true);
  bool any = false;
  for (size_t i = 0; i < r->nendpoints; i++) {
    const apx_endpoint *e = &r->endpoints[i];
    if (e == p || apx_bicep_is_udp(e) || e->target_port <= 0) continue;
    if (!any) apx_bicep_array(w, "additionalPortMappings");
    any = true;
    apx_bicep_object(w, NULL);
    apx_bicep_bool(w, "external", e->external);
    apx_bicep_int(w, "targetPort", e->target_port);
    apx_bicep_int(w, "exposedPort", e->target_port);
    apx_bicep_end(w);
  }
  if (any) apx_bicep_end_array(w);
  apx_bicep_end(w);
}

static void apx_bicep_probes(apx_bicep_be *k, const apx_resource *r) {
  static const char *const types[] = {"Readiness", "Liveness", "Startup"};
  apx_bicep *w = &k->body;
  size_t n = 0;
  for (size_t i = 0; i < r->nhealth; i++) {
    const apx_health *h = &r->health[i];
    if (h->kind == APX_HEALTH_LOG) continue;
    if (h->kind == APX_HEALTH_EXEC) {
      apx_warning(k->m->diag, h->loc,
                  "the exec health check of '%s' cannot be expressed in Azure Container Apps (probes are http or "
                  "tcp); it is left out",
                  r->name);
      continue;
    }
    if (n == 3) {
      apx_warning(k->m->diag, h->loc,
                  "'%s' has more health checks than Azure Container Apps has probe types; this one is left out",
                  r->name);
      continue;
    }
    const apx_endpoint *e = apx_cloud_health_endpoint(&k->c, r, h);
    if (!e) continue;
    if (!n) apx_bicep_array(w, "probes");
    apx_bicep_object(w, NULL);
    apx_bicep_str(w, "type", types[n++]);
    if (h->kind == APX_HEALTH_HTTP) {
      apx_bicep_object(w, "httpGet");
      const char *path = h->path && h->path[0] ? h->path : "/";
      apx_buf b = {0};
      if (path[0] != '/') apx_buf_putc(&b, '/');
      apx_buf_puts(&b, path);
      apx_bicep_str(w, "path", apx_buf_str(&b));
      apx_buf_free(&b);
      apx_bicep_int(w, "port", e->target_port);
      if (e->scheme && strcmp(e->scheme, "https") == 0) apx_bicep_str(w, "scheme", "HTTPS");
      apx_bicep_end(w);
    } else {
      apx_bicep_object(w, "tcpSocket");
      apx_bicep_int(w, "port", e->target_port);
      apx_bicep_end(w);
    }
    /* Azure's limits: period and timeout 1-240 s, initial delay 0-60 s, failures 1-10. */
    if (h->interval_ms > 0) apx_bicep_int(w, "periodSeconds", apx_cloud_clamp((h->interval_ms + 999) / 1000, 1, 240));
    if (h->timeout_ms > 0) apx_bicep_int(w, "timeoutSeconds", apx_cloud_clamp((h->timeout_ms + 999) / 1000, 1, 240));
    if (h->start_period_ms > 0)
      apx_bicep_int(w, "initialDelaySeconds", apx_cloud_clamp((h->start_period_ms + 999) / 1000, 0, 60));
    if (h->retries > 0) apx_bicep_int(w, "failureThreshold", apx_cloud_clamp(h->retries, 1, 10));
    apx_bicep_end(w);
  }
  if (n) apx_bicep_end_array(w);
}

/* Secret names: lower case, [a-z0-9-], starting with a letter; unique in the app. */
static const char *apx_bicep_secret_name(apx_bicep_be *k, const char *key, const apx_bicep_secret *s, size_t n) {
  const char *l = apx_name_dns_label(k->m->arena, key);
  const char *base = (l[0] >= 'a' && l[0] <= 'z') ? l : apx_arena_printf(k->m->arena, "s-%s", l);
  const char *name = base;
  for (int i = 2;; i++) {
    bool dup = false;
    for (size_t j = 0; j < n; j++) dup = dup || strcmp(s[j].name, name) == 0;
    if (!dup) return name;
    name = apx_arena_printf(k->m->arena, "%s-%d", base, i);
  }
}

static const char *apx_bicep_volume_name(apx_bicep_be *k, const apx_resource *r, const apx_volume *v) {
  const char *l = apx_name_dns_label(k->m->arena, apx_arena_printf(k->m->arena, "%s-%s", r->name, v->name));
  apx_buf b = {0};
  if (!(l[0] >= 'a' && l[0] <= 'z')) apx_buf_puts(&b, "v-");
  apx_buf_puts(&b, l);
  while (b.len < 3) apx_buf_putc(&b, '0');
  const char *s = apx_arena_strdup(k->m->arena, apx_buf_str(&b));
  apx_buf_free(&b);
  return s;
}

static const char *apx_bicep_volume_sym(apx_bicep_be *k, const apx_resource *r, const apx_volume *v,
                                        const char *prefix) {
  return apx_bicep_ident(k->m->arena, prefix, apx_arena_printf(k->m->arena, "%s_%s", r->name, v->name), "");
}

static void apx_bicep_app(apx_bicep_be *k, const apx_resource *r) {
  apx_bicep *w = &k->body;
  apx_module *m = k->m;
  const char *name = apx_bicep_app_name(m->arena, r->name);
  size_t *slot = apx_map_str(&k->appnames, name, true);
  if (*slot != (size_t)-1)
    apx_error(m->diag, r->loc, "'%s' would be the container app '%s', as another resource already is; rename one",
              r->name, name);
  *slot = 1;
  apx_cloud_warn_common(&k->c, r);
  if (r->explicit_start)
    apx_warning(m->diag, r->loc,
                "'%s' has explicit_start, which Azure Container Apps cannot express; it is deployed and started",
                r->name);
  bool built = r->kind != APX_KIND_CONTAINER;
  if (!built && r->workdir_written)
    apx_warning(m->diag, r->loc, "the workdir of '%s' cannot be expressed in Azure Container Apps; it is left out",
                r->name);

  /* Values first: secrets are collected while the environment renders. */
  apx_bicep_secret *secrets = calloc(r->nenv ? r->nenv : 1, sizeof *secrets);
  const char **secret_of = calloc(r->nenv ? r->nenv : 1, sizeof *secret_of);
  char **plain = calloc(r->nenv ? r->nenv : 1, sizeof *plain);
  if (!secrets || !secret_of || !plain) abort();
  size_t nsecrets = 0;
  apx_buf b = {0};
  for (size_t i = 0; i < r->nenv; i++) {
    const apx_entry *e = &r->env[i];
    apx_buf_clear(&b);
    char what[256];
    snprintf(what, sizeof what, "environment variable %s", e->key);
    if (e->value && !apx_bicep_render(k, r, e->value, what, &b)) continue;
    if (e->value && apx_ir_value_has_secret(e->value)) {
      const char *sn = apx_bicep_secret_name(k, e->key, secrets, nsecrets);
      secrets[nsecrets].name = sn;
      secrets[nsecrets].value = apx_buf_take(&b, NULL);
      nsecrets++;
      secret_of[i] = sn;
    } else {
      plain[i] = apx_buf_take(&b, NULL);
    }
  }

  apx_bicep_resource(w, apx_bicep_app_sym(k, r), APX_BICEP_APPS);
  apx_bicep_str(w, "name", name);
  apx_bicep_expr(w, "location", "location");
  apx_bicep_object(w, "properties");
  apx_bicep_expr(w, "environmentId", APX_BICEP_ENV_SYM ".id");
  apx_bicep_object(w, "configuration");
  apx_bicep_str(w, "activeRevisionsMode", "Single");
  apx_bicep_ingress(k, r);
  if (nsecrets) {
    apx_bicep_array(w, "secrets");
    for (size_t i = 0; i < nsecrets; i++) {
      apx_bicep_object(w, NULL);
      apx_bicep_str(w, "name", secrets[i].name);
      apx_bicep_tpl(w, "value", secrets[i].value);
      apx_bicep_end(w);
    }
    apx_bicep_end_array(w);
  }
  apx_bicep_end(w); /* configuration */

  apx_bicep_object(w, "template");
  apx_bicep_array(w, "containers");
  apx_bicep_object(w, NULL);
  apx_bicep_str(w, "name", name);
  if (apx_cloud_image_is_param(r)) {
    apx_bicep_expr(w, "image", apx_bicep_image_sym(k, r));
  } else if (r->image) {
    apx_buf_clear(&b);
    if (apx_bicep_render(k, r, r->image, "the image", &b)) apx_bicep_tpl(w, "image", apx_buf_str(&b));
  } else {
    apx_error(m->diag, r->loc, "container '%s' has no image; Azure Container Apps needs one", r->name);
  }
  /* ENTRYPOINT is Container Apps' `command`, CMD its `args`. A project's
   * command and args say how to run it from source here, not in its image. */
  if (r->entrypoint) {
    apx_bicep_array(w, "command");
    apx_bicep_list(k, r, r->entrypoint, "the entrypoint");
    apx_bicep_end_array(w);
  }
  bool has_args = r->args && (r->args->kind != APX_V_LIST || r->args->u.list.n > 0);
  if (!built && (r->command || has_args)) {
    apx_bicep_array(w, "args");
    if (r->command) apx_bicep_list(k, r, r->command, "the command");
    if (has_args) apx_bicep_list(k, r, r->args, "the arguments");
    apx_bicep_end_array(w);
  }
  if (r->nenv) {
    apx_bicep_array(w, "env");
    for (size_t i = 0; i < r->nenv; i++) {
      apx_bicep_object(w, NULL);
      apx_bicep_str(w, "name", r->env[i].key);
      if (secret_of[i]) apx_bicep_str(w, "secretRef", secret_of[i]);
      else apx_bicep_tpl(w, "value", plain[i] ? plain[i] : "");
      apx_bicep_end(w);
    }
    apx_bicep_end_array(w);
  }
  apx_bicep_probes(k, r);
  if (r->nvolumes) {
    apx_bicep_array(w, "volumeMounts");
    for (size_t i = 0; i < r->nvolumes; i++) {
      apx_bicep_object(w, NULL);
      apx_bicep_str(w, "volumeName", apx_bicep_volume_name(k, r, &r->volumes[i]));
      apx_bicep_str(w, "mountPath", r->volumes[i].target ? r->volumes[i].target : "/");
      apx_bicep_end(w);
    }
    apx_bicep_end_array(w);
  }
  apx_bicep_end(w); /* the container */
  apx_bicep_end_array(w);
  apx_bicep_object(w, "scale");
  apx_bicep_int(w, "minReplicas", r->replicas > 0 ? r->replicas : 1);
  apx_bicep_int(w, "maxReplicas", r->replicas > 0 ? r->replicas : 1);
  apx_bicep_end(w);
  if (r->nvolumes) {
    apx_bicep_array(w, "volumes");
    for (size_t i = 0; i < r->nvolumes; i++) {
      apx_bicep_object(w, NULL);
      apx_bicep_str(w, "name", apx_bicep_volume_name(k, r, &r->volumes[i]));
      apx_bicep_str(w, "storageType", "AzureFile");
      apx_buf_clear(&b);
      apx_buf_printf(&b, "%s.name", apx_bicep_volume_sym(k, r, &r->volumes[i], "storage_"));
      apx_bicep_expr(w, "storageName", apx_buf_str(&b));
      apx_bicep_end(w);
    }
    apx_bicep_end_array(w);
  }
  apx_bicep_end(w); /* template */
  apx_bicep_end(w); /* properties */

  const apx_resource **waits = NULL;
  size_t nwaits = apx_cloud_waits(&k->c, r, &waits);
  if (nwaits) {
    apx_bicep_array(w, "dependsOn");
    for (size_t i = 0; i < nwaits; i++) apx_bicep_expr(w, NULL, apx_bicep_app_sym(k, waits[i]));
    apx_bicep_end_array(w);
  }
  free(waits);
  apx_bicep_end(w); /* resource */
  apx_bicep_blank(w);

  for (size_t i = 0; i < nsecrets; i++) free(secrets[i].value);
  for (size_t i = 0; i < r->nenv; i++) free(plain[i]);
  free(secrets);
  free(secret_of);
  free(plain);
  apx_buf_free(&b);
}

/* ---- the shared resources ---------------------------------------------------------- */

static void apx_bicep_environment(apx_bicep_be *k) {
  apx_bicep *w = &k->body;
  apx_bicep_resource(w, "logAnalytics", APX_BICEP_LOGS);
  apx_bicep_tpl(w, "name", "log-${resourceToken}");
  apx_bicep_expr(w, "location", "location");
  apx_bicep_object(w, "properties");
  apx_bicep_object(w, "sku");
  apx_bicep_str(w, "name", "PerGB2018");
  apx_bicep_end(w);
  apx_bicep_int(w, "retentionInDays", 30);
  apx_bicep_end(w);
  apx_bicep_end(w);
  apx_bicep_blank(w);

  apx_bicep_resource(w, APX_BICEP_ENV_SYM, APX_BICEP_ENV);
  apx_bicep_tpl(w, "name", "cae-${resourceToken}");
  apx_bicep_expr(w, "location", "location");
  apx_bicep_object(w, "properties");
  apx_bicep_object(w, "appLogsConfiguration");
  apx_bicep_str(w, "destination", "log-analytics");
  apx_bicep_object(w, "logAnalyticsConfiguration");
  apx_bicep_expr(w, "customerId", "logAnalytics.properties.customerId");
  apx_bicep_expr(w, "sharedKey", "logAnalytics.listKeys().primarySharedKey");
  apx_bicep_end(w);
  apx_bicep_end(w);
  apx_bicep_end(w);
  apx_bicep_end(w);
  apx_bicep_blank(w);
}

static void apx_bicep_storage(apx_bicep_be *k, const apx_resource **apps, size_t napps) {
  apx_bicep *w = &k->body;
  bool any = false;
  for (size_t i = 0; i < napps; i++) any = any || apps[i]->nvolumes;
  if (!any) return;
  apx_bicep_comment(w, "Azure Files: one share per volume, mounted through the environment's storage.");
  apx_bicep_resource(w, "storageAccount", APX_BICEP_STORAGE);
  apx_bicep_tpl(w, "name", "st${resourceToken}");
  apx_bicep_expr(w, "location", "location");
  apx_bicep_str(w, "kind", "StorageV2");
  apx_bicep_object(w, "sku");
  apx_bicep_str(w, "name", "Standard_LRS");
  apx_bicep_end(w);
  apx_bicep_object(w, "properties");
  apx_bicep_str(w, "minimumTlsVersion", "TLS1_2");
  apx_bicep_bool(w, "allowBlobPublicAccess", false);
  apx_bicep_end(w);
  apx_bicep_end(w);
  apx_bicep_blank(w);
  apx_bicep_resource(w, "fileService", APX_BICEP_FILES);
  apx_bicep_expr(w, "parent", "storageAccount");
  apx_bicep_str(w, "name", "default");
  apx_bicep_end(w);
  apx_bicep_blank(w);
  apx_map seen;
  apx_map_init_str(&seen, k->m->arena);
  for (size_t i = 0; i < napps; i++) {
    const apx_resource *r = apps[i];
    for (size_t j = 0; j < r->nvolumes; j++) {
      const apx_volume *v = &r->volumes[j];
      const char *name = apx_bicep_volume_name(k, r, v);
      size_t *slot = apx_map_str(&seen, name, true);
      if (*slot != (size_t)-1) {
        apx_error(k->m->diag, v->loc, "volume '%s' of '%s' would be the Azure Files share '%s', as another volume already is; rename one",
                  v->name, r->name, name);
        continue;
      }
      *slot = 1;
      const char *share = apx_bicep_volume_sym(k, r, v, "share_");
      const char *storage = apx_bicep_volume_sym(k, r, v, "storage_");
      apx_bicep_claim(k, share, r, "the volume of");
      apx_bicep_claim(k, storage, r, "the volume of");
      apx_bicep_resource(w, share, APX_BICEP_SHARE);
      apx_bicep_expr(w, "parent", "fileService");
      apx_bicep_str(w, "name", name);
      apx_bicep_end(w);
      apx_bicep_blank(w);
      apx_bicep_resource(w, storage, APX_BICEP_ENV_STORAGE);
      apx_bicep_expr(w, "parent", APX_BICEP_ENV_SYM);
      apx_bicep_str(w, "name", name);
      apx_bicep_object(w, "properties");
      apx_bicep_object(w, "azureFile");
      apx_bicep_expr(w, "accountName", "storageAccount.name");
      apx_bicep_expr(w, "accountKey", "storageAccount.listKeys().keys[0].value");
      apx_buf b = {0};
      apx_buf_printf(&b, "%s.name", share);
      apx_bicep_expr(w, "shareName", apx_buf_str(&b));
      apx_buf_free(&b);
      apx_bicep_str(w, "accessMode", v->readonly ? "ReadOnly" : "ReadWrite");
      apx_bicep_end(w);
      apx_bicep_end(w);
      apx_bicep_end(w);
      apx_bicep_blank(w);
    }
  }
}

static void apx_bicep_outputs(apx_bicep_be *k, const apx_resource **apps, size_t napps) {
  apx_buf b = {0};
  for (size_t i = 0; i < napps; i++) {
    const apx_resource *r = apps[i];
    const apx_endpoint *p = apx_bicep_primary(r);
    for (size_t j = 0; j < r->nendpoints; j++) {
      const apx_endpoint *e = &r->endpoints[j];
      if (!e->external || apx_bicep_is_udp(e) || e->target_port <= 0) continue;
      const char *out = apx_arena_printf(k->m->arena, "%s_URL",
                                         apx_name_env_var(k->m->arena, apx_arena_printf(k->m->arena, "%s_%s", r->name, e->name)));
      if (out[0] >= '0' && out[0] <= '9') out = apx_arena_printf(k->m->arena, "_%s", out);
      apx_bicep_claim(k, out, r, "the URL output of");
      apx_buf_clear(&b);
      const char *fqdn = apx_arena_printf(k->m->arena, "${%s.properties.configuration.ingress.fqdn}", apx_bicep_app_sym(k, r));
      if (e == p && apx_bicep_http_ingress(e)) apx_buf_printf(&b, "https://%s", fqdn);
      else {
        apx_bicep_escape(&b, e->scheme ? e->scheme : "tcp", strlen(e->scheme ? e->scheme : "tcp"));
        apx_buf_printf(&b, "://%s:%d", fqdn, e->target_port);
      }
      apx_bicep_output_tpl(&k->body, out, apx_buf_str(&b));
    }
  }
  apx_buf_free(&b);
}

/* ---- parameters -------------------------------------------------------------------- */

static void apx_bicep_params(apx_bicep_be *k, apx_bicep *w, const apx_resource **apps, size_t napps, cJSON *pj) {
  apx_module *m = k->m;
  apx_bicep_decorator(w, "description", "Azure region of every resource");
  apx_bicep_param(w, "location", "string", "resourceGroup().location");
  apx_bicep_blank(w);
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_resource *p = m->resources[i];
    if (p->kind != APX_KIND_PARAM || !p->param) continue;
    size_t *used = apx_map_ptr(&k->param_used, p, NULL, false);
    if (!used || *used != 1) continue;
    const char *sym = apx_bicep_param_sym(k, p);
    apx_bicep_claim(k, sym, p, "parameter");
    apx_buf d = {0};
    apx_buf_printf(&d, "parameter %s", p->name);
    if (p->param->description) apx_buf_printf(&d, ": %s", p->param->description);
    if (p->param->secret && p->param->has_generate)
      apx_buf_printf(&d, " (generated in run mode and compose: give a random value of %d characters)",
                     p->param->generate.length);
    apx_bicep_decorator(w, "description", apx_buf_str(&d));
    apx_buf_free(&d);
    if (p->param->secret) {
      /* No default (the linter's secure-parameter-default), never in clear
       * in main.parameters.json: "" there, the value given at deploy time. */
      apx_bicep_decorator(w, "secure", NULL);
      apx_bicep_param(w, sym, "string", NULL);
      cJSON_AddItemToObject(pj, sym, cJSON_CreateObject());
      cJSON_AddStringToObject(cJSON_GetObjectItem(pj, sym), "value", "");
    } else if (p->param->value) {
      apx_bicep_param_str(w, sym, p->param->value);
    } else {
      apx_bicep_param(w, sym, "string", NULL);
      cJSON *o = cJSON_AddObjectToObject(pj, sym);
      cJSON_AddStringToObject(o, "value", "");
    }
    apx_bicep_blank(w);
  }
  for (size_t i = 0; i < napps; i++) {
    const apx_resource *r = apps[i];
    if (!apx_cloud_image_is_param(r)) continue;
    const char *sym = apx_bicep_image_sym(k, r);
    apx_bicep_claim(k, sym, r, "the image of");
    apx_buf d = {0};
    apx_buf_printf(&d, "Container image of %s '%s' (built from its build context and pushed to a registry)",
                   apx_ir_kind_name(r->kind), r->name);
    apx_bicep_decorator(w, "description", apx_buf_str(&d));
    apx_buf_free(&d);
    apx_bicep_param(w, sym, "string", NULL);
    const char *value = r->image && r->image->kind == APX_V_STRING ? r->image->u.str.s
                                                                    : apx_arena_printf(m->arena, "%s:latest", r->name);
    cJSON *o = cJSON_AddObjectToObject(pj, sym);
    cJSON_AddStringToObject(o, "value", value);
    apx_bicep_blank(w);
  }
  apx_bicep_comment(w, "A name part unique to the resource group.");
  apx_bicep_var_expr(w, "resourceToken", "toLower(uniqueString(resourceGroup().id))");
  apx_bicep_blank(w);
}

int apx_emit_bicep(apx_module *m, apx_output *out) {
  size_t errors0 = m->diag->errors;
  apx_bicep_be k = {0};
  k.m = m;
  apx_cloud_init(&k.c, m, "Azure Container Apps");
  apx_bicep_init(&k.body);
  apx_map_init_str(&k.symbols, m->arena);
  apx_map_init_str(&k.appnames, m->arena);
  apx_map_init_ptr(&k.param_used, m->arena);
  const apx_resource **apps = calloc(m->nresources ? m->nresources : 1, sizeof *apps);
  if (!apps) abort();
  size_t napps = 0;
  static const char *const own[] = {"location", "resourceToken", "logAnalytics", APX_BICEP_ENV_SYM, "storageAccount",
                                    "fileService"};
  for (size_t i = 0; i < sizeof own / sizeof *own; i++) apx_bicep_claim(&k, own[i], NULL, "");
  for (size_t i = 0; i < m->nresources; i++)
    if (apx_cloud_select(&k.c, m->resources[i])) {
      apps[napps++] = m->resources[i];
      apx_bicep_claim(&k, apx_bicep_app_sym(&k, m->resources[i]), m->resources[i], "resource");
    }

  apx_bicep_environment(&k);
  apx_bicep_storage(&k, apps, napps);
  for (size_t i = 0; i < napps; i++) apx_bicep_app(&k, apps[i]);
  apx_bicep_outputs(&k, apps, napps);

  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "$schema",
                          "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#");
  cJSON_AddStringToObject(root, "contentVersion", "1.0.0.0");
  cJSON *pj = cJSON_AddObjectToObject(root, "parameters");
  apx_bicep head;
  apx_bicep_init(&head);
  apx_buf c = {0};
  apx_buf_printf(&c, "Azure Container Apps deployment of %s, written by aspirec.\n"
                     "Deploy: az deployment group create -g GROUP -f main.bicep -p main.parameters.json",
                 m->app_name ? m->app_name : "app");
  apx_bicep_comment(&head, apx_buf_str(&c));
  apx_buf_free(&c);
  apx_bicep_blank(&head);
  apx_bicep_params(&k, &head, apps, napps, pj);
  apx_buf_append(&head.out, k.body.out.data ? k.body.out.data : "", k.body.out.len);
  apx_bicep_free(&k.body);

  if (m->diag->errors == errors0) {
    size_t len = head.out.len;
    apx_output_add_owned(out, "main.bicep", apx_buf_take(&head.out, NULL), len);
    char *json = cJSON_Print(root);
    if (!json) abort();
    apx_buf j = {0};
    apx_buf_puts(&j, json);
    apx_buf_putc(&j, '\n');
    apx_output_add(out, "main.parameters.json", apx_buf_str(&j), j.len);
    apx_buf_free(&j);
    cJSON_free(json);
  }
  cJSON_Delete(root);
  apx_bicep_free(&head);
  apx_bicep_free(&k.body);
  free(apps);
  return (int)(m->diag->errors - errors0);
}
