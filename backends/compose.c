/* --emit=compose: docker-compose.yaml and .env (doc/targets.md, "compose").
 *
 * Every service joins one project network and finds the others by service
 * name, so a reference renders as `service:target_port`. Parameters become
 * `${NAME}` and their values go to .env: no parameter value, secret or not,
 * is ever written into the YAML. The YAML is checked against docker-compose
 * v1.29 (`config -q`) and the compose-spec schema, so keys v1 rejects
 * (`name`, `start_interval`, ports `host_ip`) are never written. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../ir/buf.h"
#include "../ir/render.h"
#include "backend.h"
#include "yaml_out.h"

/* A name the compose project defines (a volume, a .env variable), with the
 * resource it comes from: two resources must not end up sharing one. */
typedef struct apx_compose_name {
  const char *name;
  const apx_resource *owner;
  const char *what; /* "the image of", "parameter", a volume's own name */
  size_t order;
} apx_compose_name;

typedef struct apx_compose {
  apx_module *m;
  apx_output *out;
  char *outdir;            /* paths in the YAML are relative to this */
  const char *network;
  const char *cb_error;    /* set by a render callback that could not answer */
  /* The key of the entry being written ("PORT"), added to `what` only when a
   * message needs it: formatting it for every variable cost more than the
   * rendering. */
  const char *what_key;
  apx_buf value;           /* one value's text, reused from value to value */
  /* Named volumes in first-use order, for the top-level `volumes:` key. */
  apx_compose_name *volumes;
  size_t nvolumes, capvolumes;
  /* (resource, target) pairs already warned about, to warn once. */
  apx_map warned;
} apx_compose;

/* ---- what becomes a service ------------------------------------------- */

/* A project, or an executable that can be built into an image: its image
 * comes from a variable, and its command is the local one, not the image's. */
static bool apx_compose_is_built(const apx_resource *r) {
  return r->kind == APX_KIND_PROJECT || (r->kind == APX_KIND_EXECUTABLE && r->build);
}

static bool apx_compose_is_service(const apx_resource *r) {
  return r && r->publish && (r->kind == APX_KIND_CONTAINER || apx_compose_is_built(r));
}

/* The service a dependency or reference on r lands on, or NULL. */
static const apx_resource *apx_compose_service_of(const apx_resource *r) {
  const apx_resource *run = apx_ir_runner(r);
  return apx_compose_is_service(run) ? run : NULL;
}

static const char *apx_compose_param_var(apx_compose *c, const apx_resource *p) {
  if (p->param && p->param->env_name) return p->param->env_name;
  return apx_ir_env_name(c->m->arena, p->name);
}

static const char *apx_compose_image_var(apx_compose *c, const apx_resource *r) {
  return apx_arena_printf(c->m->arena, "%s_IMAGE", apx_ir_env_name(c->m->arena, r->name));
}

/* ---- render target ---------------------------------------------------- */

static void apx_compose_host(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  (void)ud;
  (void)e;
  apx_buf_puts(out, apx_ir_runner(r)->name);
}

/* Containers reach each other over the project network, so the port a
 * client uses is the one the workload listens on, not a host port. */
static void apx_compose_target_port(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  apx_compose *c = ud;
  (void)r;
  if (e->target_port <= 0) {
    c->cb_error = "the endpoint has no target port";
    return;
  }
  apx_buf_int(out, e->target_port);
}

static bool apx_compose_param(void *ud, const apx_resource *p, apx_buf *out) {
  apx_compose *c = ud;
  const char *var = apx_compose_param_var(c, p);
  /* Without a value at compile time, `${X:?…}` makes compose stop with a
   * message instead of starting a service with an empty value. */
  if (p->param && p->param->value) {
    apx_buf_puts(out, "${");
    apx_buf_puts(out, var);
    apx_buf_putc(out, '}');
  } else apx_buf_printf(out, "${%s:?%s is required: set it in .env}", var, var);
  return true;
}

static void apx_compose_text(void *ud, const char *s, size_t n, apx_buf *out) {
  (void)ud;
  /* Runs without `$` are copied whole. */
  const char *end = s + n;
  while (s < end) {
    const char *d = memchr(s, '$', (size_t)(end - s));
    size_t run = d ? (size_t)(d - s) + 1 : (size_t)(end - s);
    apx_buf_append(out, s, run);
    if (d) apx_buf_putc(out, '$');
    s += run;
  }
}

static apx_render_target apx_compose_target(apx_compose *c) {
  apx_render_target t = {0};
  t.ud = c;
  t.host = apx_compose_host;
  t.port = apx_compose_target_port;
  t.target_port = apx_compose_target_port;
  t.param = apx_compose_param;
  t.state_dir = NULL; /* run mode only */
  t.text = apx_compose_text;
  return t;
}

/* Warns when a value points at a resource that runs but has no service here
 * (an executable, or publish = false): the rendered host would not resolve. */
static void apx_compose_check_refs(apx_compose *c, const apx_resource *r, const apx_value *v, int depth) {
  if (!v || depth > 8) return;
  const apx_ref *single = v->kind == APX_V_REF ? v->u.ref : NULL;
  size_t n = v->kind == APX_V_TEMPLATE ? v->u.tpl.n : single ? 1 : 0;
  if (v->kind == APX_V_LIST)
    for (size_t i = 0; i < v->u.list.n; i++) apx_compose_check_refs(c, r, v->u.list.items[i], depth);
  for (size_t i = 0; i < n; i++) {
    const apx_ref *ref = single ? single : v->u.tpl.parts[i].ref;
    if (!ref || !ref->target) continue;
    const apx_resource *t = ref->target;
    if (ref->prop == APX_PROP_CONNECTION_STRING || ref->prop == APX_PROP_RESOURCE) {
      apx_compose_check_refs(c, r, t->connection_string, depth + 1);
      continue;
    }
    if (ref->prop < APX_PROP_EP_URL || ref->prop > APX_PROP_EP_SCHEME) continue;
    const apx_resource *run = apx_ir_runner(t);
    if (apx_compose_is_service(run) || !apx_ir_kind_runs(run->kind)) continue;
    size_t *seen = apx_map_ptr(&c->warned, r, run, true);
    if (*seen != (size_t)-1) continue;
    *seen = 1;
    apx_warning(c->m->diag, ref->loc.file ? ref->loc : r->loc,
                "'%s' refers to '%s', which is not part of the compose file; the address will not resolve",
                r->name, run->name);
  }
}

/* Renders v to text for the YAML; reports an error naming what and whose. */
static bool apx_compose_render(apx_compose *c, const apx_resource *r, const apx_value *v, apx_loc loc,
                               const char *what, apx_buf *out) {
  apx_render_target t = apx_compose_target(c);
  const char *why = NULL;
  c->cb_error = NULL;
  apx_compose_check_refs(c, r, v, 0);
  bool ok = apx_render_value(&t, v, out, &why);
  if (ok && c->cb_error) {
    ok = false;
    why = c->cb_error;
  }
  if (!ok)
    apx_error(c->m->diag, loc.file ? loc : r->loc, "cannot write %s%s%s of '%s' to compose: %s", what,
              c->what_key ? " " : "", c->what_key ? c->what_key : "", r->name, why ? why : "unknown reason");
  return ok;
}

static void apx_compose_emit_value(apx_compose *c, apx_yaml *y, const apx_resource *r, const apx_value *v,
                                   const char *what) {
  apx_buf *b = &c->value;
  apx_buf_clear(b);
  if (apx_compose_render(c, r, v, v ? v->loc : r->loc, what, b)) apx_yaml_strn(y, apx_buf_str(b), b->len);
  else apx_yaml_str(y, "");
}

/* A list value (args, entrypoint) as a YAML sequence of rendered strings. */
static void apx_compose_emit_list_items(apx_compose *c, apx_yaml *y, const apx_resource *r, const apx_value *v,
                                        const char *what) {
  if (!v) return;
  if (v->kind != APX_V_LIST) {
    apx_compose_emit_value(c, y, r, v, what);
    return;
  }
  for (size_t i = 0; i < v->u.list.n; i++) apx_compose_emit_value(c, y, r, v->u.list.items[i], what);
}

static void apx_compose_emit_entries(apx_compose *c, apx_yaml *y, const apx_resource *r, const char *key,
                                     const apx_entry *e, size_t n, const char *what) {
  if (!n) return;
  apx_yaml_key(y, key);
  apx_yaml_begin_map(y);
  for (size_t i = 0; i < n; i++) {
    apx_yaml_key(y, e[i].key);
    c->what_key = e[i].key;
    if (e[i].value) apx_compose_emit_value(c, y, r, e[i].value, what);
    else apx_yaml_str(y, "");
    c->what_key = NULL;
  }
  apx_yaml_end_map(y);
}

/* ---- paths -------------------------------------------------------------- */

static void apx_compose_relpath(apx_compose *c, const char *abs, apx_buf *out) {
  apx_render_relpath(c->outdir, abs, out);
}

/* ---- healthcheck -------------------------------------------------------- */

/* Characters a POSIX shell never treats specially in a word. */
static bool apx_compose_shell_safe(const char *s) {
  if (!*s) return false;
  for (; *s; s++) {
    char ch = *s;
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          strchr("_@%+=:,./-", ch)))
      return false;
  }
  return true;
}

static void apx_compose_shell_quote(const char *s, apx_buf *out) {
  if (apx_compose_shell_safe(s)) {
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

static void apx_compose_duration(int64_t ms, apx_buf *out) {
  if (ms % 1000 == 0) apx_buf_printf(out, "%llds", (long long)(ms / 1000));
  else apx_buf_printf(out, "%lldms", (long long)ms);
}

static bool apx_compose_has_health(const apx_resource *r) {
  for (size_t i = 0; i < r->nhealth; i++)
    if (r->health[i].kind != APX_HEALTH_LOG) return true;
  return false;
}

/* One check as a shell command (for CMD-SHELL). Returns false on error. */
static bool apx_compose_check_cmd(apx_compose *c, const apx_resource *r, const apx_health *h, apx_buf *out) {
  const char *kind = h->kind == APX_HEALTH_HTTP ? "http" : h->kind == APX_HEALTH_TCP ? "tcp" : "exec";
  if (h->kind == APX_HEALTH_EXEC) {
    if (!h->exec || h->exec->kind != APX_V_LIST || h->exec->u.list.n == 0) {
      apx_error(c->m->diag, h->loc, "the exec health check of '%s' needs a non-empty list (argv)", r->name);
      return false;
    }
    for (size_t i = 0; i < h->exec->u.list.n; i++) {
      apx_buf arg = {0};
      bool ok = apx_compose_render(c, r, h->exec->u.list.items[i], h->loc, "the exec health check", &arg);
      if (ok) {
        if (i) apx_buf_putc(out, ' ');
        apx_compose_shell_quote(apx_buf_str(&arg), out);
      }
      apx_buf_free(&arg);
      if (!ok) return false;
    }
    return true;
  }
  const apx_endpoint *e = h->endpoint ? apx_ir_endpoint_find(r, h->endpoint) : NULL;
  if (!e || e->target_port <= 0) {
    apx_error(c->m->diag, h->loc, "the %s health check of '%s' has no endpoint with a target port", kind, r->name);
    return false;
  }
  if (h->kind == APX_HEALTH_TCP) {
    /* nc where the image has it, else bash's /dev/tcp. */
    apx_buf_printf(out, "nc -z 127.0.0.1 %d || bash -c ': </dev/tcp/127.0.0.1/%d'", e->target_port,
                   e->target_port);
    return true;
  }
  /* http: wget or curl, whichever the image has. The URL is the only text
   * from the program; `$` is doubled for compose, then shell-quoted. */
  bool tls = e->scheme && strcmp(e->scheme, "https") == 0;
  apx_buf url = {0}, q = {0};
  apx_buf_printf(&url, "%s://127.0.0.1:%d", tls ? "https" : "http", e->target_port);
  const char *path = h->path && h->path[0] ? h->path : "/";
  if (path[0] != '/') apx_buf_putc(&url, '/');
  apx_compose_text(NULL, path, strlen(path), &url);
  apx_compose_shell_quote(apx_buf_str(&url), &q);
  apx_buf_printf(out, "wget -q%s -O /dev/null %s || curl -fsS%s -o /dev/null %s", tls ? " --no-check-certificate" : "",
                 apx_buf_str(&q), tls ? "k" : "", apx_buf_str(&q));
  apx_buf_free(&url);
  apx_buf_free(&q);
  return true;
}

static void apx_compose_healthcheck(apx_compose *c, apx_yaml *y, const apx_resource *r) {
  const apx_health *checks[64];
  size_t n = 0;
  for (size_t i = 0; i < r->nhealth; i++) {
    const apx_health *h = &r->health[i];
    if (h->kind == APX_HEALTH_LOG) {
      apx_warning(c->m->diag, h->loc,
                  "the log health check of '%s' cannot be expressed in Docker Compose; it is left out of compose",
                  r->name);
      continue;
    }
    if (n < sizeof checks / sizeof *checks) checks[n++] = h;
  }
  if (!n) return;
  int64_t interval = 0, timeout = 0, start = 0;
  int retries = 0;
  for (size_t i = 0; i < n; i++) {
    /* One healthcheck stands for all: poll as often as the most eager
     * check, wait as long as the most patient. */
    if (checks[i]->interval_ms > 0 && (!interval || checks[i]->interval_ms < interval)) interval = checks[i]->interval_ms;
    if (checks[i]->timeout_ms > timeout) timeout = checks[i]->timeout_ms;
    if (checks[i]->start_period_ms > start) start = checks[i]->start_period_ms;
    if (checks[i]->retries > retries) retries = checks[i]->retries;
  }
  apx_yaml_key(y, "healthcheck");
  apx_yaml_begin_map(y);
  apx_yaml_key(y, "test");
  apx_yaml_begin_flow_seq(y);
  if (n == 1 && checks[0]->kind == APX_HEALTH_EXEC && checks[0]->exec && checks[0]->exec->kind == APX_V_LIST) {
    apx_yaml_str(y, "CMD");
    apx_compose_emit_list_items(c, y, r, checks[0]->exec, "the exec health check");
  } else {
    apx_buf cmd = {0};
    for (size_t i = 0; i < n; i++) {
      apx_buf one = {0};
      if (apx_compose_check_cmd(c, r, checks[i], &one)) {
        /* Grouped, because `a || b && c || d` would let d excuse a failed a||b. */
        if (n > 1) apx_buf_printf(&cmd, "%s( %s )", i ? " && " : "", apx_buf_str(&one));
        else apx_buf_puts(&cmd, apx_buf_str(&one));
      }
      apx_buf_free(&one);
    }
    apx_yaml_str(y, "CMD-SHELL");
    apx_yaml_str(y, apx_buf_str(&cmd));
    apx_buf_free(&cmd);
  }
  apx_yaml_end_seq(y);
  apx_buf d = {0};
  if (interval) {
    apx_compose_duration(interval, &d);
    apx_yaml_kv_str(y, "interval", apx_buf_str(&d));
    apx_buf_clear(&d);
  }
  if (timeout) {
    apx_compose_duration(timeout, &d);
    apx_yaml_kv_str(y, "timeout", apx_buf_str(&d));
    apx_buf_clear(&d);
  }
  if (start) {
    apx_compose_duration(start, &d);
    apx_yaml_kv_str(y, "start_period", apx_buf_str(&d));
    apx_buf_clear(&d);
  }
  apx_buf_free(&d);
  if (retries) apx_yaml_kv_int(y, "retries", retries);
  apx_yaml_end_map(y);
}

/* ---- depends_on ----------------------------------------------------------- */

typedef struct apx_compose_wait {
  const apx_resource *service;
  int rank; /* 0 started, 1 healthy, 2 completed successfully */
} apx_compose_wait;

static void apx_compose_depends_on(apx_compose *c, apx_yaml *y, const apx_resource *r) {
  apx_map seen; /* service -> position in w */
  apx_map_init_ptr(&seen, c->m->arena);
  apx_compose_wait *w = calloc(r->ndeps ? r->ndeps : 1, sizeof *w);
  if (!w) abort();
  size_t n = 0;
  for (size_t i = 0; i < r->ndeps; i++) {
    const apx_dep *d = &r->deps[i];
    /* References inject values only; Aspire's compose publisher adds no
     * ordering for them either. */
    if (d->kind == APX_DEP_REFERENCE || !d->target) continue;
    const apx_resource *s = apx_compose_service_of(d->target);
    if (!s || s == r) continue; /* validate reports waits on things that never run */
    int rank = d->kind == APX_DEP_WAIT_COMPLETION ? 2 : d->kind == APX_DEP_WAIT_START ? 0
               : apx_compose_has_health(s)        ? 1
                                                  : 0;
    size_t *slot = apx_map_ptr(&seen, s, NULL, true);
    if (*slot == (size_t)-1) {
      *slot = n;
      w[n++] = (apx_compose_wait){s, rank};
    } else if (rank > w[*slot].rank) {
      w[*slot].rank = rank;
    }
  }
  if (n) {
    static const char *const cond[] = {"service_started", "service_healthy", "service_completed_successfully"};
    apx_yaml_key(y, "depends_on");
    apx_yaml_begin_map(y);
    for (size_t k = 0; k < n; k++) {
      apx_yaml_key(y, w[k].service->name);
      apx_yaml_begin_map(y);
      apx_yaml_kv_str(y, "condition", cond[w[k].rank]);
      apx_yaml_end_map(y);
    }
    apx_yaml_end_map(y);
  }
  apx_map_release(&seen);
  free(w);
}

/* ---- one service ---------------------------------------------------------- */

static void apx_compose_volume_add(apx_compose *c, const char *name, const apx_resource *r, const apx_volume *v) {
  apx_compose_name n = {name, r, v->name, c->nvolumes};
  APX_VEC_PUSH(c->m->arena, c->volumes, c->nvolumes, c->capvolumes, n);
}

static void apx_compose_build(apx_compose *c, apx_yaml *y, const apx_resource *r) {
  const apx_build *b = r->build;
  apx_yaml_key(y, "build");
  apx_yaml_begin_map(y);
  apx_buf p = {0};
  if (b->context_abs) {
    apx_compose_relpath(c, b->context_abs, &p);
  } else if (b->context && b->context[0] != '/') {
    apx_buf_puts(&p, b->context);
  } else {
    apx_error(c->m->diag, b->loc, "the build of '%s' has no context directory", r->name);
  }
  apx_yaml_kv_str(y, "context", apx_buf_str(&p));
  if (b->dockerfile) {
    /* Relative to the context, as in Compose itself; an absolute path is
     * made relative so that no path of this machine is written. */
    if (b->dockerfile[0] == '/' && b->context_abs) {
      apx_buf_clear(&p);
      apx_render_relpath(b->context_abs, b->dockerfile, &p);
      apx_yaml_kv_str(y, "dockerfile", apx_buf_str(&p));
    } else {
      apx_yaml_kv_str(y, "dockerfile", b->dockerfile);
    }
  }
  apx_buf_free(&p);
  if (b->target) apx_yaml_kv_str(y, "target", b->target);
  apx_compose_emit_entries(c, y, r, "args", b->args, b->nargs, "build argument");
  apx_yaml_end_map(y);
}

static void apx_compose_ports(apx_compose *c, apx_yaml *y, const apx_resource *r) {
  apx_buf b = {0};
  bool any_internal = false, any_external = false;
  for (size_t i = 0; i < r->nendpoints; i++) {
    if (r->endpoints[i].target_port <= 0) {
      apx_error(c->m->diag, r->endpoints[i].loc, "endpoint '%s' of '%s' has no target port for compose",
                r->endpoints[i].name, r->name);
      continue;
    }
    if (r->endpoints[i].external) any_external = true;
    else any_internal = true;
  }
  for (int pass = 0; pass < 2; pass++) {
    bool external = pass == 1;
    if (external ? !any_external : !any_internal) continue;
    apx_yaml_key(y, external ? "ports" : "expose");
    apx_yaml_begin_seq(y);
    for (size_t i = 0; i < r->nendpoints; i++) {
      const apx_endpoint *e = &r->endpoints[i];
      if (e->external != external || e->target_port <= 0) continue;
      apx_buf_clear(&b);
      if (external && e->port > 0) {
        apx_buf_int(&b, e->port);
        apx_buf_putc(&b, ':');
      }
      apx_buf_int(&b, e->target_port);
      if (e->protocol && strcmp(e->protocol, "udp") == 0) apx_buf_puts(&b, "/udp");
      apx_yaml_str(y, apx_buf_str(&b));
      if (external && e->port > 0 && r->replicas > 1)
        apx_warning(c->m->diag, e->loc,
                    "'%s' has %d replicas but endpoint '%s' has the fixed host port %d; only one replica can "
                    "bind it in compose",
                    r->name, r->replicas, e->name, e->port);
    }
    apx_yaml_end_seq(y);
  }
  apx_buf_free(&b);
}

static void apx_compose_mounts(apx_compose *c, apx_yaml *y, const apx_resource *r) {
  if (!r->nvolumes && !r->nbinds) return;
  apx_yaml_key(y, "volumes");
  apx_yaml_begin_seq(y);
  apx_buf b = {0};
  for (size_t i = 0; i < r->nvolumes; i++) {
    const apx_volume *v = &r->volumes[i];
    const char *name = apx_arena_printf(c->m->arena, "%s-%s", r->name, v->name);
    apx_compose_volume_add(c, name, r, v);
    apx_buf_clear(&b);
    apx_buf_printf(&b, "%s:%s%s", name, v->target ? v->target : "", v->readonly ? ":ro" : "");
    apx_yaml_str(y, apx_buf_str(&b));
  }
  for (size_t i = 0; i < r->nbinds; i++) {
    const apx_bind *bd = &r->binds[i];
    apx_buf_clear(&b);
    if (bd->source_abs) apx_compose_relpath(c, bd->source_abs, &b);
    else if (bd->source) apx_compose_relpath(c, bd->source, &b);
    apx_buf_printf(&b, ":%s%s", bd->target ? bd->target : "", bd->readonly ? ":ro" : "");
    apx_yaml_str(y, apx_buf_str(&b));
  }
  apx_buf_free(&b);
  apx_yaml_end_seq(y);
}

static void apx_compose_service(apx_compose *c, apx_yaml *y, const apx_resource *r) {
  bool built = apx_compose_is_built(r);
  apx_yaml_key(y, r->name);
  apx_yaml_begin_map(y);

  if (built) {
    apx_buf v = {0};
    apx_buf_printf(&v, "${%s}", apx_compose_image_var(c, r));
    apx_yaml_kv_str(y, "image", apx_buf_str(&v));
    apx_buf_free(&v);
  } else if (r->image) {
    apx_yaml_key(y, "image");
    apx_compose_emit_value(c, y, r, r->image, "the image");
  } else if (!r->build) {
    apx_error(c->m->diag, r->loc, "container '%s' has neither an image nor a build; compose needs one", r->name);
  }
  if (r->build) apx_compose_build(c, y, r);

  if (r->entrypoint) {
    apx_yaml_key(y, "entrypoint");
    apx_yaml_begin_seq(y);
    apx_compose_emit_list_items(c, y, r, r->entrypoint, "the entrypoint");
    apx_yaml_end_seq(y);
  }
  /* A built service's command and args say how to run it from source on
   * this machine; in its image the Dockerfile's CMD does that. */
  bool has_args = r->args && (r->args->kind != APX_V_LIST || r->args->u.list.n > 0);
  if (!built && (r->command || has_args)) {
    apx_yaml_key(y, "command");
    apx_yaml_begin_seq(y);
    if (r->command) apx_compose_emit_value(c, y, r, r->command, "the command");
    apx_compose_emit_list_items(c, y, r, r->args, "the arguments");
    apx_yaml_end_seq(y);
  }
  if (!built && r->workdir_written) {
    if (r->workdir_written[0] == '/') apx_yaml_kv_str(y, "working_dir", r->workdir_written);
    else
      apx_warning(c->m->diag, r->loc,
                  "the workdir '%s' of container '%s' is not an absolute path inside the container; it is left "
                  "out of compose",
                  r->workdir_written, r->name);
  }
  apx_compose_emit_entries(c, y, r, "environment", r->env, r->nenv, "environment variable");
  apx_compose_ports(c, y, r);
  apx_compose_mounts(c, y, r);
  apx_compose_depends_on(c, y, r);
  apx_compose_healthcheck(c, y, r);
  if (r->replicas > 1) {
    apx_yaml_key(y, "deploy");
    apx_yaml_begin_map(y);
    apx_yaml_kv_int(y, "replicas", r->replicas);
    apx_yaml_end_map(y);
  }
  switch (r->restart) {
  case APX_RESTART_DEFAULT: break;
  case APX_RESTART_NO: apx_yaml_kv_str(y, "restart", "no"); break;
  case APX_RESTART_ON_FAILURE: apx_yaml_kv_str(y, "restart", "on-failure"); break;
  case APX_RESTART_ALWAYS: apx_yaml_kv_str(y, "restart", "always"); break;
  }
  apx_compose_emit_entries(c, y, r, "labels", r->labels, r->nlabels, "label");
  if (r->explicit_start) {
    /* Started only with `--profile explicit` or by name, as in Aspire's
     * explicit start. */
    apx_yaml_key(y, "profiles");
    apx_yaml_begin_flow_seq(y);
    apx_yaml_str(y, "explicit");
    apx_yaml_end_seq(y);
  }
  apx_yaml_key(y, "networks");
  apx_yaml_begin_flow_seq(y);
  apx_yaml_str(y, c->network);
  apx_yaml_end_seq(y);
  apx_yaml_end_map(y);
}

/* ---- .env ------------------------------------------------------------------ */

typedef struct apx_dotenv_var {
  char *key, *value;
} apx_dotenv_var;

typedef struct apx_dotenv {
  apx_dotenv_var *vars;
  size_t n, cap;
  apx_map index; /* key -> position in vars */
} apx_dotenv;

static char *apx_dotenv_dup(const char *s, size_t n) {
  char *p = malloc(n + 1);
  if (!p) abort();
  memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

/* Reads KEY=VALUE lines as python-dotenv (docker-compose v1) writes and
 * reads them: `export` allowed, single or double quotes, `#` comments. */
static void apx_dotenv_parse(apx_dotenv *d, const char *text, size_t len) {
  const char *p = text, *end = text + len;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) eol = end;
    const char *s = p;
    p = eol < end ? eol + 1 : end;
    while (s < eol && (*s == ' ' || *s == '\t')) s++;
    if (s == eol || *s == '#') continue;
    if ((size_t)(eol - s) > 7 && strncmp(s, "export ", 7) == 0) s += 7;
    const char *eq = memchr(s, '=', (size_t)(eol - s));
    if (!eq) continue;
    const char *ke = eq;
    while (ke > s && (ke[-1] == ' ' || ke[-1] == '\t')) ke--;
    if (ke == s) continue;
    const char *v = eq + 1;
    while (v < eol && (*v == ' ' || *v == '\t')) v++;
    apx_buf val = {0};
    if (v < eol && (*v == '\'' || *v == '"')) {
      char q = *v++;
      for (; v < eol && *v != q; v++) {
        if (*v == '\\' && v + 1 < eol &&
            (v[1] == '\\' || v[1] == q || (q == '"' && (v[1] == 'n' || v[1] == 't')))) {
          v++;
          apx_buf_putc(&val, q == '"' && *v == 'n' ? '\n' : q == '"' && *v == 't' ? '\t' : *v);
        } else {
          apx_buf_putc(&val, *v);
        }
      }
    } else {
      const char *ve = eol;
      for (const char *h = v; h < eol; h++)
        if (*h == '#' && h > v && (h[-1] == ' ' || h[-1] == '\t')) {
          ve = h;
          break;
        }
      while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t' || ve[-1] == '\r')) ve--;
      apx_buf_append(&val, v, (size_t)(ve - v));
    }
    apx_dotenv_var var = {apx_dotenv_dup(s, (size_t)(ke - s)), apx_dotenv_dup(apx_buf_str(&val), val.len)};
    apx_buf_free(&val);
    /* A later line wins, as in python-dotenv. */
    size_t *slot = apx_map_str(&d->index, var.key, true);
    if (*slot != (size_t)-1) {
      free(d->vars[*slot].value);
      d->vars[*slot].value = var.value;
      free(var.key);
      continue;
    }
    *slot = d->n;
    if (d->n == d->cap) {
      d->cap = d->cap ? d->cap * 2 : 8;
      d->vars = realloc(d->vars, d->cap * sizeof *d->vars);
      if (!d->vars) abort();
    }
    d->vars[d->n++] = var;
  }
}

static apx_dotenv_var *apx_dotenv_find(apx_dotenv *d, const char *key) {
  size_t *slot = apx_map_str(&d->index, key, false);
  return slot ? &d->vars[*slot] : NULL;
}

static void apx_dotenv_free(apx_dotenv *d) {
  for (size_t i = 0; i < d->n; i++) {
    free(d->vars[i].key);
    free(d->vars[i].value);
  }
  free(d->vars);
}

/* Writes KEY=VALUE so that docker-compose v1 (python-dotenv) and v2 read
 * the same value back: plain values unquoted; others in single quotes, which
 * v2 never interpolates (v1 would still expand `${…}`: the caller warns); a
 * value with `'` but no `$` in double quotes, where both decode `\\` and
 * `\"`. Returns NULL, or why the value has no form both read the same: a
 * line break, or a backslash at the end (python-dotenv's quoted-value
 * pattern reads `\'` before a closing quote as an escaped quote). */
static const char *apx_dotenv_line(apx_buf *out, const char *key, const char *value) {
  size_t n = strlen(value);
  if (strpbrk(value, "\n\r")) return "a line break";
  if (n && value[n - 1] == '\\') return "a backslash at the end";
  apx_buf_printf(out, "%s=", key);
  bool plain = true;
  for (const char *s = value; *s; s++) {
    char ch = *s;
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
          strchr("_@%+,./:-", ch)))
      plain = false;
  }
  if (plain) {
    apx_buf_puts(out, value);
  } else if (strchr(value, '\'') && !strchr(value, '$')) {
    apx_buf_putc(out, '"');
    for (const char *s = value; *s; s++) {
      if (*s == '"' || *s == '\\') apx_buf_putc(out, '\\');
      apx_buf_putc(out, *s);
    }
    apx_buf_putc(out, '"');
  } else {
    /* python-dotenv decodes only \\ and \' inside single quotes: escape a
     * backslash only where it would otherwise be decoded. */
    apx_buf_putc(out, '\'');
    for (const char *s = value; *s; s++) {
      if (*s == '\'' || (*s == '\\' && (s[1] == '\\' || s[1] == '\''))) apx_buf_putc(out, '\\');
      apx_buf_putc(out, *s);
    }
    apx_buf_putc(out, '\'');
  }
  apx_buf_putc(out, '\n');
  return NULL;
}

static void apx_compose_dotenv(apx_compose *c) {
  apx_module *m = c->m;
  apx_dotenv old = {0};
  apx_map_init_str(&old.index, m->arena);
  size_t oldlen = 0;
  char *oldtext = apx_output_read_existing(c->out, ".env", &oldlen);
  if (oldtext) apx_dotenv_parse(&old, oldtext, oldlen);
  free(oldtext);
  bool *used = calloc(old.n ? old.n : 1, sizeof *used);
  if (!used) abort();

  apx_buf b = {0};
  apx_buf_puts(&b, "# Values for docker-compose.yaml, written by aspirec.\n"
                   "# Values set here for parameters without a value at compile time are kept when\n"
                   "# aspirec writes this file again; so are variables of your own (at the end).\n");
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_resource *p = m->resources[i];
    if (p->kind != APX_KIND_PARAM || !p->param) continue;
    const char *var = apx_compose_param_var(c, p);
    apx_dotenv_var *kept = apx_dotenv_find(&old, var);
    if (kept) used[kept - old.vars] = true;
    const char *value = p->param->value ? p->param->value : kept ? kept->value : "";
    apx_buf_printf(&b, "\n# parameter %s", p->name);
    const char *sep = ": ";
    if (p->param->secret) {
      apx_buf_printf(&b, "%ssecret", sep);
      sep = ", ";
    }
    if (!p->param->value && !p->param->def) {
      apx_buf_printf(&b, "%srequired", sep);
      sep = ", ";
    }
    if (p->param->has_generate && !p->param->value) apx_buf_printf(&b, "%sgenerated only by --run: set one here", sep);
    if (p->param->description) {
      apx_buf d = {0};
      for (const char *s = p->param->description; *s; s++) apx_buf_putc(&d, (*s == '\n' || *s == '\r') ? ' ' : *s);
      apx_buf_printf(&b, " - %s", apx_buf_str(&d));
      apx_buf_free(&d);
    }
    apx_buf_putc(&b, '\n');
    const char *bad = apx_dotenv_line(&b, var, value);
    if (bad)
      apx_error(m->diag, p->loc, "the value of parameter '%s' contains %s, which .env cannot hold", p->name, bad);
    else if (strstr(value, "${"))
      apx_warning(m->diag, p->loc,
                  "the value of parameter '%s' contains '${', which docker-compose v1 expands when it reads .env",
                  p->name);
  }
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_resource *r = m->resources[i];
    if (!apx_compose_is_service(r) || !apx_compose_is_built(r)) continue;
    const char *var = apx_compose_image_var(c, r);
    apx_dotenv_var *kept = apx_dotenv_find(&old, var);
    if (kept) used[kept - old.vars] = true;
    const char *value = NULL;
    if (r->image && r->image->kind == APX_V_STRING) value = r->image->u.str.s;
    else if (r->image)
      apx_warning(m->diag, r->image->loc,
                  "the image of '%s' is not a plain string, so .env cannot give it as the default of %s", r->name,
                  var);
    if (!value && kept) value = kept->value;
    if (!value) value = apx_arena_printf(m->arena, "%s:latest", r->name);
    apx_buf_printf(&b, "\n# image of %s '%s' (built from its build context)\n", apx_ir_kind_name(r->kind), r->name);
    const char *bad = apx_dotenv_line(&b, var, value);
    if (bad) apx_error(m->diag, r->loc, "the image of '%s' contains %s, which .env cannot hold", r->name, bad);
  }
  bool header = false;
  for (size_t i = 0; i < old.n; i++) {
    if (used[i]) continue;
    if (!header) apx_buf_puts(&b, "\n# kept from the previous .env\n");
    header = true;
    /* A value this reader accepted but the writer cannot express is dropped
     * rather than written wrongly. */
    (void)apx_dotenv_line(&b, old.vars[i].key, old.vars[i].value);
  }
  apx_output_add(c->out, ".env", apx_buf_str(&b), b.len);
  apx_buf_free(&b);
  free(used);
  apx_dotenv_free(&old);
}

/* ---- the back end ------------------------------------------------------------ */

/* The network name: the app's name reduced to what Docker allows. */
static const char *apx_compose_network_name(apx_module *m) {
  const char *app = m->app_name && m->app_name[0] ? m->app_name : "app";
  char *s = apx_arena_strdup(m->arena, app);
  for (char *p = s; *p; p++) {
    char ch = *p;
    if (ch >= 'A' && ch <= 'Z') *p = (char)(ch + 32);
    else if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-')) *p = '-';
  }
  if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'))) return apx_arena_printf(m->arena, "app%s", s);
  return s;
}

static int apx_compose_name_cmp(const void *a, const void *b) {
  const apx_compose_name *x = a, *y = b;
  int c = strcmp(x->name, y->name);
  if (c) return c;
  return x->order < y->order ? -1 : x->order > y->order;
}

/* Reports each name that two different things would share, and marks every
 * repeat in `dup` (indexed by order) when given. Sorting a copy keeps this
 * O(n log n) for modules with thousands of resources. */
static void apx_compose_dups(apx_compose *c, const apx_compose_name *names, size_t n, bool *dup,
                             void (*report)(apx_compose *, const apx_compose_name *, const apx_compose_name *)) {
  if (n < 2) return;
  apx_compose_name *v = malloc(n * sizeof *v);
  if (!v) abort();
  memcpy(v, names, n * sizeof *v);
  qsort(v, n, sizeof *v, apx_compose_name_cmp);
  size_t first = 0;
  for (size_t i = 1; i < n; i++) {
    if (strcmp(v[i].name, v[first].name) != 0) {
      first = i;
      continue;
    }
    if (dup) dup[v[i].order] = true;
    if (v[i].owner != v[first].owner || strcmp(v[i].what, v[first].what) != 0) report(c, &v[first], &v[i]);
  }
  free(v);
}

static void apx_compose_var_clash(apx_compose *c, const apx_compose_name *a, const apx_compose_name *b) {
  apx_error(c->m->diag, b->owner->loc, "%s '%s' and %s '%s' would both be %s in .env; rename one", a->what,
            a->owner->name, b->what, b->owner->name, a->name);
}

static void apx_compose_volume_clash(apx_compose *c, const apx_compose_name *a, const apx_compose_name *b) {
  apx_error(c->m->diag, b->owner->loc,
            "volume '%s' of '%s' and volume '%s' of '%s' would both be the compose volume '%s'; rename one", a->what,
            a->owner->name, b->what, b->owner->name, a->name);
}

/* Parameters and image variables share .env: no two may have one name. */
static void apx_compose_check_vars(apx_compose *c) {
  apx_module *m = c->m;
  apx_compose_name *v = NULL;
  size_t n = 0, cap = 0;
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_resource *r = m->resources[i];
    apx_compose_name e = {NULL, r, NULL, n};
    if (r->kind == APX_KIND_PARAM) {
      e.name = apx_compose_param_var(c, r);
      e.what = "parameter";
    } else if (apx_compose_is_service(r) && apx_compose_is_built(r)) {
      e.name = apx_compose_image_var(c, r);
      e.what = "the image of";
    } else {
      continue;
    }
    APX_VEC_PUSH(m->arena, v, n, cap, e);
  }
  apx_compose_dups(c, v, n, NULL, apx_compose_var_clash);
}

int apx_emit_compose(apx_module *m, apx_output *out) {
  size_t errors0 = m->diag->errors;
  apx_compose c = {0};
  c.m = m;
  apx_map_init_ptr(&c.warned, m->arena);
  c.out = out;
  /* Relative paths in the file are resolved by compose against the file's
   * directory; on stdout that is presumably where it will be saved. */
  const char *dir = apx_output_dir(out);
  char *cwd = getcwd(NULL, 0);
  if (dir && dir[0] == '/') {
    c.outdir = strdup(dir);
  } else {
    apx_buf b = {0};
    apx_buf_puts(&b, cwd ? cwd : "/");
    if (dir) apx_buf_printf(&b, "/%s", dir);
    c.outdir = strdup(apx_buf_str(&b));
    apx_buf_free(&b);
  }
  free(cwd);
  if (!c.outdir) abort();
  c.network = apx_compose_network_name(m);
  apx_compose_check_vars(&c);

  /* The YAML (12 MB at 10,000 resources) goes straight to its file. */
  FILE *yf = apx_output_stream(out, "docker-compose.yaml");
  apx_yaml y;
  if (yf) apx_yaml_init_file(&y, yf);
  else apx_yaml_init(&y);
  apx_yaml_begin_map(&y);
  apx_yaml_key(&y, "services");
  apx_yaml_begin_map(&y);
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_resource *r = m->resources[i];
    if (apx_compose_is_service(r)) {
      apx_compose_service(&c, &y, r);
    } else if (r->kind == APX_KIND_EXECUTABLE && r->publish) {
      apx_warning(m->diag, r->loc, "executable '%s' is not published to compose; it runs only with --run", r->name);
    }
  }
  apx_yaml_end_map(&y);
  if (c.nvolumes) {
    bool *dup = calloc(c.nvolumes, sizeof *dup);
    if (!dup) abort();
    apx_compose_dups(&c, c.volumes, c.nvolumes, dup, apx_compose_volume_clash);
    apx_yaml_key(&y, "volumes");
    apx_yaml_begin_map(&y);
    for (size_t i = 0; i < c.nvolumes; i++) {
      if (dup[i]) continue;
      apx_yaml_key(&y, c.volumes[i].name);
      apx_yaml_begin_map(&y);
      apx_yaml_end_map(&y);
    }
    apx_yaml_end_map(&y);
    free(dup);
  }
  apx_yaml_key(&y, "networks");
  apx_yaml_begin_map(&y);
  apx_yaml_key(&y, c.network);
  apx_yaml_begin_map(&y);
  apx_yaml_end_map(&y);
  apx_yaml_end_map(&y);
  apx_yaml_end_map(&y);
  size_t len = 0;
  const char *text = apx_yaml_finish(&y, &len);
  if (!text) apx_error(m->diag, APX_NOLOC, "cannot write docker-compose.yaml: %s", y.error);
  else if (!yf) apx_output_add_owned(out, "docker-compose.yaml", apx_buf_take(&y.out, NULL), len);
  apx_yaml_free(&y);
  /* The YAML first: in stdout mode only the first file is written. */
  apx_compose_dotenv(&c);
  apx_buf_free(&c.value);
  free(c.outdir);
  return (int)(m->diag->errors - errors0);
}
