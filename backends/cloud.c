/* Shared by the cloud back ends (cloud.h). */
#include <stdlib.h>
#include <string.h>

#include "ir/walk.h"
#include "cloud.h"

void apx_cloud_init(apx_cloud *c, apx_module *m, const char *target) {
  memset(c, 0, sizeof *c);
  c->m = m;
  c->target = target;
  apx_map_init_ptr(&c->warned, m->arena);
}

bool apx_cloud_is_app(const apx_resource *r) {
  if (!r || !r->publish) return false;
  return r->kind == APX_KIND_CONTAINER || r->kind == APX_KIND_PROJECT || (r->kind == APX_KIND_EXECUTABLE && r->build);
}

bool apx_cloud_image_is_param(const apx_resource *r) {
  return r->kind != APX_KIND_CONTAINER || (!r->image && r->build);
}

const apx_resource *apx_cloud_app_of(const apx_resource *r) {
  const apx_resource *run = apx_ir_runner(r);
  return apx_cloud_is_app(run) ? run : NULL;
}

bool apx_cloud_select(apx_cloud *c, const apx_resource *r) {
  if (apx_cloud_is_app(r)) return true;
  if (r->kind == APX_KIND_EXECUTABLE && r->publish)
    apx_warning(c->m->diag, r->loc, "executable '%s' is not published to %s; it runs only with --run", r->name,
                c->target);
  return false;
}

void apx_cloud_warn_common(apx_cloud *c, const apx_resource *r) {
  apx_diag *d = c->m->diag;
  for (size_t i = 0; i < r->nbinds; i++)
    apx_warning(d, r->binds[i].loc, "the bind mount '%s' of '%s' cannot be expressed in %s; it is left out",
                r->binds[i].target ? r->binds[i].target : "", r->name, c->target);
  if (r->restart == APX_RESTART_NO)
    apx_warning(d, r->loc, "'%s' has restart = \"no\", which %s cannot express; it is restarted when it exits",
                r->name, c->target);
  for (size_t i = 0; i < r->nhealth; i++)
    if (r->health[i].kind == APX_HEALTH_LOG)
      apx_warning(d, r->health[i].loc, "the log health check of '%s' cannot be expressed in %s; it is left out",
                  r->name, c->target);
}

/* ---- references to what is not deployed ---------------------------------- */

typedef struct apx_cloud_refs {
  apx_cloud *c;
  const apx_resource *r;
} apx_cloud_refs;

static void apx_cloud_check_ref(void *ud, const apx_ref *ref, const apx_resource *run) {
  apx_cloud_refs *k = ud;
  if (apx_cloud_is_app(run)) return;
  size_t *seen = apx_map_ptr(&k->c->warned, k->r, run, true);
  if (*seen != (size_t)-1) return;
  *seen = 1;
  apx_warning(k->c->m->diag, ref->loc.file ? ref->loc : k->r->loc,
              "'%s' refers to '%s', which is not deployed to %s; the address will not resolve", k->r->name, run->name,
              k->c->target);
}

static void apx_cloud_check_refs(apx_cloud *c, const apx_resource *r, const apx_value *v) {
  apx_cloud_refs k = {c, r};
  apx_ir_value_addresses(v, apx_cloud_check_ref, &k);
}

bool apx_cloud_render(apx_cloud *c, const apx_render_target *t, const apx_resource *r, const apx_value *v,
                      apx_loc loc, const char *what, apx_buf *out) {
  const char *why = NULL;
  c->cb_error = NULL;
  apx_cloud_check_refs(c, r, v);
  bool ok = apx_render_value(t, v, out, &why);
  if (ok && c->cb_error) {
    ok = false;
    why = c->cb_error;
  }
  if (!ok)
    apx_error(c->m->diag, loc.file ? loc : r->loc, "cannot write %s of '%s' to %s: %s", what, r->name, c->target,
              why ? why : "unknown reason");
  return ok;
}

/* ---- waits ------------------------------------------------------------------ */

size_t apx_cloud_waits(apx_cloud *c, const apx_resource *r, const apx_resource ***out) {
  const apx_resource **w = calloc(r->ndeps ? r->ndeps : 1, sizeof *w);
  if (!w) abort();
  size_t n = 0;
  bool warned = false;
  for (size_t i = 0; i < r->ndeps; i++) {
    const apx_dep *d = &r->deps[i];
    if (d->kind == APX_DEP_REFERENCE || !d->target) continue;
    const apx_resource *s = apx_cloud_app_of(d->target);
    if (!s || s == r) continue;
    if (d->kind != APX_DEP_WAIT_START && !warned) {
      warned = true;
      apx_warning(c->m->diag, d->loc,
                  "%s cannot make '%s' wait for '%s' to be %s; it becomes deployment order only", c->target, r->name,
                  s->name, d->kind == APX_DEP_WAIT_COMPLETION ? "completed" : "healthy");
    }
    bool dup = false;
    for (size_t k = 0; k < n; k++) dup = dup || w[k] == s;
    if (!dup) w[n++] = s;
  }
  *out = w;
  return n;
}

/* ---- health ---------------------------------------------------------------- */

void apx_cloud_health_of(const apx_resource *r, apx_cloud_health *h) {
  memset(h, 0, sizeof *h);
  for (size_t i = 0; i < r->nhealth; i++) {
    const apx_health *x = &r->health[i];
    if (x->kind == APX_HEALTH_LOG || h->n >= sizeof h->checks / sizeof *h->checks) continue;
    h->checks[h->n++] = x;
    if (x->interval_ms > 0 && (!h->interval_ms || x->interval_ms < h->interval_ms)) h->interval_ms = x->interval_ms;
    if (x->timeout_ms > h->timeout_ms) h->timeout_ms = x->timeout_ms;
    if (x->start_period_ms > h->start_ms) h->start_ms = x->start_period_ms;
    if (x->retries > h->retries) h->retries = x->retries;
  }
}

const apx_endpoint *apx_cloud_health_endpoint(apx_cloud *c, const apx_resource *r, const apx_health *h) {
  const apx_endpoint *e = h->endpoint ? apx_ir_endpoint_find(r, h->endpoint) : NULL;
  if (!e || e->target_port <= 0) {
    apx_error(c->m->diag, h->loc, "the %s health check of '%s' has no endpoint with a target port",
              h->kind == APX_HEALTH_HTTP ? "http" : "tcp", r->name);
    return NULL;
  }
  return e;
}

static bool apx_cloud_shell_safe(const char *s) {
  if (!*s) return false;
  for (; *s; s++) {
    char ch = *s;
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          strchr("_@%+=:,./-", ch)))
      return false;
  }
  return true;
}

void apx_cloud_shell_quote(const char *s, apx_buf *out) {
  if (apx_cloud_shell_safe(s)) {
    apx_buf_puts(out, s);
    return;
  }
  apx_buf_putc(out, '\'');
  for (; *s; s++) {
    if (*s == '\'') apx_buf_puts(out, "'\\''");
    else apx_buf_putc(out, *s);
  }
  apx_buf_putc(out, '\'');
}

int64_t apx_cloud_clamp(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

void apx_cloud_target_port(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  apx_cloud *c = ud;
  (void)r;
  if (e->target_port <= 0) c->cb_error = "the endpoint has no target port";
  else apx_buf_printf(out, "%d", e->target_port);
}
