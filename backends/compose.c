/* --emit=compose: docker-compose.yaml and .env (doc/targets.md, "compose").
 *
 * Every service joins one project network and finds the others by service
 * name, so a reference renders as `service:target_port`. Parameters become
 * `${NAME}` and their values go to .env: no parameter value, secret or not,
 * is ever written into the YAML. The YAML is checked against docker-compose
 * v1.29 (`config -q`) and the compose-spec schema, so keys v1 rejects
 * (`name`, `start_interval`, ports `host_ip`) are never written. */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/envfile.h"
#include "base/names.h"
#include "base/path.h"
#include "ir/generate.h"
#include "ir/render.h"
#include "ir/walk.h"
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
  /* Where a service's strings and messages go: the module's, or, for the
   * services a worker thread writes, the thread's own (merged after). */
  apx_arena *arena;
  apx_diag *diag;
  apx_output *out;
  char *outdir;            /* paths in the YAML are relative to this */
  const char *network;
  const char *cb_error;    /* set by a render callback that could not answer */
  /* The key of the entry being written ("PORT"), added to `what` only when a
   * message needs it: formatting it for every variable cost more than the
   * rendering. */
  const char *what_key;
  apx_buf value;           /* one value's text, reused from value to value */
  /* A value's text depends on the value only, not on whose it is: what a
   * reference injects (ConnectionStrings__db, services__api__http__0) is
   * one value shared by every resource that references it, half of all the
   * values at 10,000 resources, used by neighbours. The texts of recent
   * values are kept in a small table indexed by the value's address
   * (bounded memory; allocated on first use). */
  struct apx_compose_rendered *rendered;
  /* Named volumes in first-use order, for the top-level `volumes:` key. */
  apx_compose_name *volumes;
  size_t nvolumes, capvolumes;
  /* (resource, target) pairs already warned about, to warn once. */
  apx_map warned;
  bool probe_used; /* a healthcheck runs aspirec-probe: copy it to the output */
} apx_compose;

/* 2048 entries of 128 bytes, per thread: neighbours share values, so 4096
 * found no more (the same instructions at 10,000 resources) and cost
 * another 256 KB of the peak for each. */
#define APX_COMPOSE_RENDERED_BITS 11
typedef struct apx_compose_rendered {
  const apx_value *v;
  uint8_t len;
  bool unreachable; /* it has an address of something with no service (a warning per resource) */
  char text[118];   /* longer texts are not kept */
} apx_compose_rendered;

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
  return apx_name_env_var(c->arena, p->name);
}

static const char *apx_compose_image_var(apx_compose *c, const apx_resource *r) {
  return apx_arena_printf(c->arena, "%s_IMAGE", apx_name_env_var(c->arena, r->name));
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

/* Compose resolves relative paths against the file's directory. "./" in
 * front of a descending path: Compose reads a bind source without it as a
 * volume name, and a build context as a possible git remote. */
static void apx_compose_path(void *ud, const char *abs, apx_buf *out) {
  apx_compose *c = ud;
  apx_path_relative(c->outdir, abs, true, out);
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
  t.path = apx_compose_path;
  return t;
}

/* Warns when a value points at a resource that runs but has no service here
 * (an executable, or publish = false): the rendered host would not resolve. */
typedef struct apx_compose_refs {
  apx_compose *c;
  const apx_resource *r;
  bool unreachable;
} apx_compose_refs;

static void apx_compose_check_ref(void *ud, const apx_ref *ref, const apx_resource *run) {
  apx_compose_refs *k = ud;
  if (apx_compose_is_service(run)) return;
  k->unreachable = true;
  size_t *seen = apx_map_ptr(&k->c->warned, k->r, run, true);
  if (*seen != (size_t)-1) return;
  *seen = 1;
  apx_warning(k->c->diag, ref->loc.file ? ref->loc : k->r->loc,
              "'%s' refers to '%s', which is not part of the compose file; the address will not resolve", k->r->name,
              run->name);
}

/* True if v has such an address. */
static bool apx_compose_check_refs(apx_compose *c, const apx_resource *r, const apx_value *v) {
  apx_compose_refs k = {c, r, false};
  apx_ir_value_addresses(v, apx_compose_check_ref, &k);
  return k.unreachable;
}

/* Renders v to text for the YAML; reports an error naming what and whose. */
static bool apx_compose_render(apx_compose *c, const apx_resource *r, const apx_value *v, apx_loc loc,
                               const char *what, apx_buf *out, bool *unreachable) {
  apx_render_target t = apx_compose_target(c);
  const char *why = NULL;
  c->cb_error = NULL;
  bool bad_ref = apx_compose_check_refs(c, r, v);
  if (unreachable) *unreachable = bad_ref;
  bool ok = apx_render_value(&t, v, out, &why);
  if (ok && c->cb_error) {
    ok = false;
    why = c->cb_error;
  }
  if (!ok)
    apx_error(c->diag, loc.file ? loc : r->loc, "cannot write %s%s%s of '%s' to compose: %s", what,
              c->what_key ? " " : "", c->what_key ? c->what_key : "", r->name, why ? why : "unknown reason");
  return ok;
}

static void apx_compose_emit_value(apx_compose *c, apx_yaml *y, const apx_resource *r, const apx_value *v,
                                   const char *what) {
  /* A plain string costs less to render again than to look up. */
  apx_compose_rendered *e = NULL;
  if (v && v->kind != APX_V_STRING) {
    if (!c->rendered) {
      c->rendered = calloc((size_t)1 << APX_COMPOSE_RENDERED_BITS, sizeof *c->rendered);
      if (!c->rendered) abort();
    }
    uint64_t h = (uint64_t)(uintptr_t)v * UINT64_C(0x9E3779B97F4A7C15);
    e = &c->rendered[h >> (64 - APX_COMPOSE_RENDERED_BITS)];
    if (e->v == v) {
      /* Its warnings name the resource: checked again for each. */
      if (e->unreachable) apx_compose_check_refs(c, r, v);
      apx_yaml_strn(y, e->text, e->len);
      return;
    }
  }
  apx_buf *b = &c->value;
  apx_buf_clear(b);
  bool unreachable = false;
  if (!apx_compose_render(c, r, v, v ? v->loc : r->loc, what, b, &unreachable)) {
    apx_yaml_str(y, ""); /* an error: reported again for each resource, never kept */
    return;
  }
  apx_yaml_strn(y, apx_buf_str(b), b->len);
  if (e && b->len <= sizeof e->text) {
    e->v = v;
    e->len = (uint8_t)b->len;
    e->unreachable = unreachable;
    memcpy(e->text, apx_buf_str(b), b->len);
  }
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
  apx_render_target t = apx_compose_target(c);
  apx_render_path(&t, abs, out);
}

/* ---- healthcheck -------------------------------------------------------- */

/* tcp and http checks run aspirec-probe (probe/README.md), a static program
 * the back end copies into the project and binds read-only into the
 * service: it needs nothing from the image (no shell, wget, curl or nc). */
#define APX_COMPOSE_PROBE_FILE ".aspirec/probe"    /* in the output directory */
#define APX_COMPOSE_PROBE_TARGET "/.aspirec/probe" /* in the container */

/* The probe binary here: $APX_PROBE, else the build tree's (an aspirec run
 * from its build), else the installed one. */
static const char *apx_compose_probe_binary(void) {
  const char *env = getenv("APX_PROBE");
  if (env && *env) return env;
  return access(APX_PROBE_BUILT, X_OK) == 0 ? APX_PROBE_BUILT : APX_PROBE_INSTALLED;
}

/* Without printf: one per health check and field, and printf costs a
 * thousand instructions for these few bytes. */
static void apx_compose_duration(int64_t ms, apx_buf *out) {
  if (ms % 1000 == 0) {
    apx_buf_int(out, (long long)(ms / 1000));
    apx_buf_putc(out, 's');
  } else {
    apx_buf_int(out, (long long)ms);
    apx_buf_puts(out, "ms");
  }
}

static bool apx_compose_has_health(const apx_resource *r) {
  for (size_t i = 0; i < r->nhealth; i++)
    if (r->health[i].kind != APX_HEALTH_LOG) return true;
  return false;
}

/* A single exec check is written as the user's own command; anything else
 * (tcp, http, several checks) goes through the probe. */
static bool apx_compose_uses_probe(const apx_resource *r) {
  size_t n = 0;
  const apx_health *first = NULL;
  for (size_t i = 0; i < r->nhealth; i++)
    if (r->health[i].kind != APX_HEALTH_LOG && !n++) first = &r->health[i];
  if (!n) return false;
  return n > 1 || first->kind != APX_HEALTH_EXEC || !first->exec || first->exec->kind != APX_V_LIST;
}

/* The bind's source in the YAML: the copy in the output directory, or (on
 * stdout, where there is no directory to copy it to) the binary's own path. */
static const char *apx_compose_probe_source(apx_compose *c) {
  if (!apx_output_to_stdout(c->out)) return "./" APX_COMPOSE_PROBE_FILE;
  char *abs = realpath(apx_compose_probe_binary(), NULL);
  const char *src = apx_arena_printf(c->arena, "%s", abs ? abs : apx_compose_probe_binary());
  free(abs);
  return src;
}

/* One check as probe arguments. Returns false on error. */
static bool apx_compose_probe_args(apx_compose *c, apx_yaml *y, const apx_resource *r, const apx_health *h) {
  char num[32];
  if (h->kind == APX_HEALTH_EXEC) {
    if (!h->exec || h->exec->kind != APX_V_LIST || h->exec->u.list.n == 0) {
      apx_error(c->diag, h->loc, "the exec health check of '%s' needs a non-empty list (argv)", r->name);
      return false;
    }
    snprintf(num, sizeof num, "%zu", h->exec->u.list.n);
    apx_yaml_str(y, "exec");
    apx_yaml_str(y, num);
    apx_compose_emit_list_items(c, y, r, h->exec, "the exec health check");
    return true;
  }
  const char *kind = h->kind == APX_HEALTH_HTTP ? "http" : "tcp";
  const apx_endpoint *e = h->endpoint ? apx_ir_endpoint_find(r, h->endpoint) : NULL;
  if (!e || e->target_port <= 0) {
    apx_error(c->diag, h->loc, "the %s health check of '%s' has no endpoint with a target port", kind, r->name);
    return false;
  }
  snprintf(num, sizeof num, "%d", e->target_port);
  /* The probe has no TLS: an https endpoint is checked by connecting, as
   * run mode does. */
  bool tls = e->scheme && strcmp(e->scheme, "https") == 0;
  apx_yaml_str(y, h->kind == APX_HEALTH_HTTP && !tls ? "http" : "tcp");
  apx_yaml_str(y, num);
  if (h->kind == APX_HEALTH_HTTP && !tls) {
    /* The path is the only text from the program: `$` doubled for compose. */
    apx_buf path = {0};
    const char *p = h->path && h->path[0] ? h->path : "/";
    if (p[0] != '/') apx_buf_putc(&path, '/');
    apx_compose_text(NULL, p, strlen(p), &path);
    apx_yaml_str(y, apx_buf_str(&path));
    apx_buf_free(&path);
  }
  return true;
}

static void apx_compose_healthcheck(apx_compose *c, apx_yaml *y, const apx_resource *r) {
  const apx_health *checks[64];
  size_t n = 0;
  for (size_t i = 0; i < r->nhealth; i++) {
    const apx_health *h = &r->health[i];
    if (h->kind == APX_HEALTH_LOG) {
      apx_warning(c->diag, h->loc,
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
  apx_yaml_str(y, "CMD");
  if (!apx_compose_uses_probe(r)) {
    apx_compose_emit_list_items(c, y, r, checks[0]->exec, "the exec health check");
  } else {
    c->probe_used = true;
    apx_yaml_str(y, APX_COMPOSE_PROBE_TARGET);
    if (timeout) {
      /* The probe gives up when Docker would, and stops what exec started. */
      apx_buf t = {0};
      apx_buf_puts(&t, "--timeout=");
      apx_compose_duration(timeout, &t);
      apx_yaml_str(y, apx_buf_str(&t));
      apx_buf_free(&t);
    }
    for (size_t i = 0; i < n; i++) apx_compose_probe_args(c, y, r, checks[i]);
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
  apx_map_init_ptr(&seen, c->arena);
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
  APX_VEC_PUSH(c->arena, c->volumes, c->nvolumes, c->capvolumes, n);
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
    apx_error(c->diag, b->loc, "the build of '%s' has no context directory", r->name);
  }
  apx_yaml_kv_str(y, "context", apx_buf_str(&p));
  if (b->dockerfile) {
    /* Relative to the context, as in Compose itself; an absolute path is
     * made relative so that no path of this machine is written. */
    if (b->dockerfile[0] == '/' && b->context_abs) {
      apx_buf_clear(&p);
      apx_path_relative(b->context_abs, b->dockerfile, true, &p);
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
      apx_error(c->diag, r->endpoints[i].loc, "endpoint '%s' of '%s' has no target port for compose",
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
        apx_warning(c->diag, e->loc,
                    "'%s' has %d replicas but endpoint '%s' has the fixed host port %d; only one replica can "
                    "bind it in compose",
                    r->name, r->replicas, e->name, e->port);
    }
    apx_yaml_end_seq(y);
  }
  apx_buf_free(&b);
}

static void apx_compose_mounts(apx_compose *c, apx_yaml *y, const apx_resource *r) {
  bool probe = apx_compose_uses_probe(r);
  if (!r->nvolumes && !r->nbinds && !probe) return;
  apx_yaml_key(y, "volumes");
  apx_yaml_begin_seq(y);
  apx_buf b = {0};
  for (size_t i = 0; i < r->nvolumes; i++) {
    const apx_volume *v = &r->volumes[i];
    const char *name = apx_arena_printf(c->arena, "%s-%s", r->name, v->name);
    apx_compose_volume_add(c, name, r, v);
    apx_buf_clear(&b);
    apx_buf_puts(&b, name);
    apx_buf_putc(&b, ':');
    apx_buf_puts(&b, v->target ? v->target : "");
    if (v->readonly) apx_buf_puts(&b, ":ro");
    apx_yaml_str(y, apx_buf_str(&b));
  }
  for (size_t i = 0; i < r->nbinds; i++) {
    const apx_bind *bd = &r->binds[i];
    apx_buf_clear(&b);
    if (bd->source_abs) apx_compose_relpath(c, bd->source_abs, &b);
    else if (bd->source) apx_compose_relpath(c, bd->source, &b);
    apx_buf_putc(&b, ':');
    apx_buf_puts(&b, bd->target ? bd->target : "");
    if (bd->readonly) apx_buf_puts(&b, ":ro");
    apx_yaml_str(y, apx_buf_str(&b));
  }
  if (probe) {
    apx_buf_clear(&b);
    apx_buf_puts(&b, apx_compose_probe_source(c));
    apx_buf_puts(&b, ":" APX_COMPOSE_PROBE_TARGET ":ro");
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
    apx_buf_puts(&v, "${");
    apx_buf_puts(&v, apx_compose_image_var(c, r));
    apx_buf_putc(&v, '}');
    apx_yaml_kv_str(y, "image", apx_buf_str(&v));
    apx_buf_free(&v);
  } else if (r->image) {
    apx_yaml_key(y, "image");
    apx_compose_emit_value(c, y, r, r->image, "the image");
  } else if (!r->build) {
    apx_error(c->diag, r->loc, "container '%s' has neither an image nor a build; compose needs one", r->name);
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
      apx_warning(c->diag, r->loc,
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

/* One .env line, refused when docker-compose v1 and v2 would not both read
 * the value back as written. NULL, or why not. */
static const char *apx_compose_env_line(apx_buf *b, const char *key, const char *value) {
  const char *bad = apx_envfile_compose_unsafe(value);
  return bad ? bad : apx_envfile_line(b, key, value);
}

static void apx_compose_dotenv(apx_compose *c) {
  apx_module *m = c->m;
  apx_envfile old;
  apx_envfile_init(&old, m->arena);
  size_t oldlen = 0;
  char *oldtext = apx_output_read_existing(c->out, ".env", &oldlen);
  if (oldtext) apx_envfile_parse(&old, oldtext, oldlen);
  free(oldtext);
  bool *used = calloc(old.n ? old.n : 1, sizeof *used);
  if (!used) abort();
  /* Variables of parameters with no value, no default and no generator. */
  const char **missing = NULL;
  size_t nmissing = 0, capmissing = 0;

  apx_buf b = {0};
  apx_buf_puts(&b, "# Values for docker-compose.yaml, written by aspirec.\n"
                   "# Values set here for parameters without a value at compile time are kept when\n"
                   "# aspirec writes this file again; so are variables of your own (at the end).\n");
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_resource *p = m->resources[i];
    if (p->kind != APX_KIND_PARAM || !p->param) continue;
    const char *var = apx_compose_param_var(c, p);
    apx_envfile_var *kept = apx_envfile_find(&old, var);
    if (kept) used[kept - old.vars] = true;
    const char *value = p->param->value;
    /* A value in the previous .env is kept; an empty one is drawn again when
     * the parameter has a generator (an older aspirec left it empty). */
    if (!value && kept && (kept->value[0] || !p->param->has_generate)) value = kept->value;
    if (!value && p->param->has_generate) {
      size_t len = apx_ir_generate_length(&p->param->generate);
      char *g = apx_arena_alloc(m->arena, len + 1);
      apx_ir_generate(&p->param->generate, g, len);
      value = g;
    }
    if (!value && !p->param->def) APX_VEC_PUSH(m->arena, missing, nmissing, capmissing, var);
    if (!value) value = "";
    apx_buf_printf(&b, "\n# parameter %s", p->name);
    const char *sep = ": ";
    if (p->param->secret) {
      apx_buf_printf(&b, "%ssecret", sep);
      sep = ", ";
    }
    if (!p->param->value && !p->param->def && !p->param->has_generate) {
      apx_buf_printf(&b, "%srequired", sep);
      sep = ", ";
    }
    if (p->param->has_generate && !p->param->value)
      apx_buf_printf(&b, "%sgenerated by aspirec, kept when it writes this file again", sep);
    if (p->param->description) {
      apx_buf d = {0};
      for (const char *s = p->param->description; *s; s++) apx_buf_putc(&d, (*s == '\n' || *s == '\r') ? ' ' : *s);
      apx_buf_printf(&b, " - %s", apx_buf_str(&d));
      apx_buf_free(&d);
    }
    apx_buf_putc(&b, '\n');
    const char *bad = apx_compose_env_line(&b, var, value);
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
    apx_envfile_var *kept = apx_envfile_find(&old, var);
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
    const char *bad = apx_compose_env_line(&b, var, value);
    if (bad) apx_error(m->diag, r->loc, "the image of '%s' contains %s, which .env cannot hold", r->name, bad);
  }
  bool header = false;
  for (size_t i = 0; i < old.n; i++) {
    if (used[i]) continue;
    if (!header) apx_buf_puts(&b, "\n# kept from the previous .env\n");
    header = true;
    /* A value this reader accepted but the writer cannot express is dropped
     * rather than written wrongly. */
    (void)apx_compose_env_line(&b, old.vars[i].key, old.vars[i].value);
  }
  if (nmissing) {
    /* Once, naming them all: compose's own message stops at the first. */
    apx_buf names = {0};
    for (size_t i = 0; i < nmissing; i++) apx_buf_printf(&names, "%s%s", i ? ", " : "", missing[i]);
    const char *dir = apx_output_dir(c->out);
    apx_warning(m->diag, APX_NOLOC, "%s/.env needs a value for %s before docker-compose can start the project",
                dir ? dir : ".", apx_buf_str(&names));
    apx_buf_free(&names);
  }
  apx_output_add(c->out, ".env", apx_buf_str(&b), b.len);
  apx_buf_free(&b);
  free(used);
  apx_envfile_free(&old);
}

/* ---- the back end ------------------------------------------------------------ */

/* The network name: the app's name reduced to what Docker allows. */
static const char *apx_compose_network_name(apx_module *m) { return apx_name_compose_project(m->arena, m->app_name); }

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
  apx_error(c->diag, b->owner->loc, "%s '%s' and %s '%s' would both be %s in .env; rename one", a->what,
            a->owner->name, b->what, b->owner->name, a->name);
}

static void apx_compose_volume_clash(apx_compose *c, const apx_compose_name *a, const apx_compose_name *b) {
  apx_error(c->diag, b->owner->loc,
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

/* Copies the probe binary into the project, so that it runs from its own
 * directory with no editing; on stdout the YAML names the binary itself,
 * which must then exist. */
static void apx_compose_add_probe(apx_compose *c) {
  const char *path = apx_compose_probe_binary();
  FILE *f = fopen(path, "rb");
  struct stat st;
  /* Copied file to file (in the kernel where it can): its 1 MB is not held
   * at the back end's peak. In memory only if the stream cannot be made
   * (the commit then reports why). */
  FILE *out = f && !apx_output_to_stdout(c->out) && fstat(fileno(f), &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0
                  ? apx_output_stream_executable(c->out, APX_COMPOSE_PROBE_FILE)
                  : NULL;
  if (out) {
    off_t from = 0;
    if (!apx_output_append(out, fileno(f), &from, st.st_size))
      apx_error(c->diag, APX_NOLOC, "cannot copy the health-check probe %s into the project: %s", path, strerror(errno));
    fclose(f);
    return;
  }
  apx_buf b = {0};
  char chunk[16384];
  size_t k;
  while (f && (k = fread(chunk, 1, sizeof chunk, f)) > 0) apx_buf_append(&b, chunk, k);
  int err = !f ? errno : ferror(f) ? EIO : 0;
  if (f) fclose(f);
  if (err || !b.len) {
    apx_error(c->diag, APX_NOLOC,
              "cannot read the health-check probe %s: %s (it is installed with aspirec; APX_PROBE names another)",
              path, err ? strerror(err) : "empty file");
  } else if (!apx_output_to_stdout(c->out)) {
    size_t len = b.len;
    apx_output_add_executable(c->out, APX_COMPOSE_PROBE_FILE, apx_buf_take(&b, NULL), len);
  }
  apx_buf_free(&b);
}

/* ---- services in threads ------------------------------------------------ */

/* The services [from, to) of the module's resources, in order. */
static void apx_compose_services(apx_compose *c, apx_yaml *y, size_t from, size_t to) {
  for (size_t i = from; i < to; i++) {
    const apx_resource *r = c->m->resources[i];
    if (apx_compose_is_service(r)) {
      apx_compose_service(c, y, r);
    } else if (r->kind == APX_KIND_EXECUTABLE && r->publish) {
      apx_warning(c->diag, r->loc, "executable '%s' is not published to compose; it runs only with --run", r->name);
    }
  }
}

/* The services are independent entries of one block mapping, and libyaml
 * holds nothing back after the end of one (apx_yaml_pause), where its state
 * is the same whichever service came before. So a large file is split:
 * the caller's emitter writes the first run of services into the output
 * file, and each other part, in a thread of its own, a fragment (its
 * emitter put where the services' mapping starts, the text "services:"
 * dropped) into an unlinked temporary file in the output directory, which
 * the caller's thread appends to the file, in order, as it comes; the rest
 * of the document follows from the caller's emitter. The bytes are those of one emitter. A part writes its
 * messages and strings to its own diagnostics and arena: the module's are
 * not shared between threads. */
typedef struct apx_compose_part {
  apx_compose c;
  apx_arena *arena;
  apx_diag diag;
  size_t from, to; /* resources */
  FILE *file;      /* its fragment */
  int fd;          /* the file's, taken before the thread starts */
  apx_yaml y;
  pthread_t thread;
  bool started;
  /* Under lock: how much of the fragment is in the file, whether the
   * thread is done, and why its text is missing (NULL: it is not). The
   * caller's thread copies the text as it comes. */
  pthread_mutex_t lock;
  pthread_cond_t more;
  size_t ready;
  bool done;
  const char *error;
} apx_compose_part;

/* Below this many services the thread and its file cost more than they save
 * (a service is about 20 µs here). */
#define APX_COMPOSE_THREADS_MIN 128
#define APX_COMPOSE_THREADS_MAX 16

/* How many parts: APX_THREADS when set (tests force threads on any file
 * with it), else one per online CPU above APX_COMPOSE_THREADS_MIN
 * services; never more than there are services. */
static size_t apx_compose_nparts(size_t nservices) {
  const char *env = getenv("APX_THREADS");
  long n;
  if (env && *env) {
    char *end;
    n = strtol(env, &end, 10);
    if (*end || n < 1) n = 1;
  } else {
    if (nservices < APX_COMPOSE_THREADS_MIN) return 1;
    n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
  }
  if (n > APX_COMPOSE_THREADS_MAX) n = APX_COMPOSE_THREADS_MAX;
  return (size_t)n < nservices ? (size_t)n : nservices ? nservices : 1;
}

/* What a service costs to write, roughly in scalars: its environment is
 * most of the file. */
static size_t apx_compose_weight(const apx_resource *r) {
  size_t w = 12 + 2 * (r->nenv + r->nlabels + r->ndeps) + r->nendpoints + r->nvolumes + r->nbinds;
  if (r->build) w += 2 * r->build->nargs;
  return w;
}

static void apx_compose_part_written(void *ud, size_t total) {
  apx_compose_part *p = ud;
  pthread_mutex_lock(&p->lock);
  p->ready = total;
  pthread_cond_signal(&p->more);
  pthread_mutex_unlock(&p->lock);
}

static void *apx_compose_part_run(void *arg) {
  apx_compose_part *p = arg;
  apx_yaml_init_fragment(&p->y, p->file, "services:");
  p->y.written = apx_compose_part_written;
  p->y.written_ud = p;
  apx_yaml_begin_map(&p->y);
  apx_yaml_key(&p->y, "services");
  apx_yaml_begin_map(&p->y);
  apx_compose_services(&p->c, &p->y, p->from, p->to);
  const char *error = NULL;
  if (!apx_yaml_pause(&p->y)) error = p->y.error;
  else if (fflush(p->file) != 0 || ferror(p->file)) error = strerror(errno ? errno : EIO);
  pthread_mutex_lock(&p->lock);
  p->error = error;
  p->ready = p->y.nwritten;
  p->done = true;
  pthread_cond_signal(&p->more);
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

/* Splits the services into parts of about equal weight and starts the
 * threads of all but the first, which the caller writes. Returns the number
 * of parts (1: no thread, nothing allocated). */
static size_t apx_compose_plan(apx_compose *c, apx_compose_part **out) {
  apx_module *m = c->m;
  size_t nservices = 0, total = 0;
  for (size_t i = 0; i < m->nresources; i++)
    if (apx_compose_is_service(m->resources[i])) {
      nservices++;
      total += apx_compose_weight(m->resources[i]);
    }
  size_t n = apx_compose_nparts(nservices);
  if (n < 2) return 1;
  apx_compose_part *parts = calloc(n, sizeof *parts);
  if (!parts) abort();
  /* Part k starts at the first service past k/n of the weight; every part
   * has at least one service. The first part's thread also copies the
   * others' text and writes what follows the services (.env, the volumes):
   * counted as a twenty-fifth. */
  size_t k = 1, acc = total / 25, seen = 0;
  total += total / 25;
  for (size_t i = 0; i < m->nresources && k < n; i++) {
    const apx_resource *r = m->resources[i];
    if (!apx_compose_is_service(r)) continue;
    if (seen > 0 && (acc * n >= total * k || nservices - seen <= n - k)) parts[k++].from = i;
    acc += apx_compose_weight(r);
    seen++;
  }
  for (size_t j = 1; j < n; j++) {
    apx_compose_part *p = &parts[j];
    p->to = j + 1 < n ? parts[j + 1].from : m->nresources;
    p->file = apx_output_scratch(c->out);
    if (p->file) p->fd = fileno(p->file);
    if (!p->file) {
      /* No file for a fragment: one emitter writes everything. */
      for (size_t q = 1; q < j; q++) fclose(parts[q].file);
      free(parts);
      return 1;
    }
  }
  for (size_t j = 1; j < n; j++) {
    apx_compose_part *p = &parts[j];
    p->arena = apx_arena_new();
    apx_diag_init(&p->diag, p->arena);
    apx_diag_set_limit(&p->diag, 0, NULL); /* the module's limit applies when merged */
    p->c = *c;
    p->c.arena = p->arena;
    p->c.diag = &p->diag;
    p->c.value = (apx_buf){0};
    p->c.volumes = NULL;
    p->c.nvolumes = p->c.capvolumes = 0;
    p->c.probe_used = false;
    p->c.rendered = NULL;
    apx_map_init_ptr(&p->c.warned, p->arena);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->more, NULL);
    /* Without a thread the part is written here, after the first: slower,
     * the same bytes. */
    p->started = pthread_create(&p->thread, NULL, apx_compose_part_run, p) == 0;
  }
  for (size_t j = 1; j < n; j++)
    if (!parts[j].started) apx_compose_part_run(&parts[j]);
  *out = parts;
  return n;
}

/* Waits for the parts, in order: their messages and volumes join the
 * module's, their text the file. The caller's emitter then goes on. */
static void apx_compose_join(apx_compose *c, apx_yaml *y, FILE *yf, apx_compose_part *parts, size_t n) {
  bool ok = apx_yaml_pause(y) && fflush(yf) == 0, reported = false;
  for (size_t j = 1; j < n; j++) {
    apx_compose_part *p = &parts[j];
    /* The part's text as it reaches its file: while the thread still
     * writes, this one copies (the first part is given a little less to
     * write for it). */
    off_t copied = 0;
    size_t seen = 0;
    bool done = false;
    while (!done) {
      pthread_mutex_lock(&p->lock);
      while (!p->done && p->ready == seen) pthread_cond_wait(&p->more, &p->lock);
      seen = p->ready;
      done = p->done;
      const char *error = p->error;
      pthread_mutex_unlock(&p->lock);
      if (ok && done && error) {
        apx_error(c->diag, APX_NOLOC, "cannot write docker-compose.yaml: %s", error);
        ok = false;
        reported = true;
      }
      if (ok && !apx_output_append(yf, p->fd, &copied, (off_t)seen)) {
        apx_error(c->diag, APX_NOLOC, "cannot write docker-compose.yaml: %s", strerror(errno ? errno : EIO));
        ok = false;
        reported = true;
      }
    }
    if (p->started) pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->more);
    for (size_t i = 0; i < p->diag.n; i++) {
      const apx_diagnostic *d = &p->diag.items[i];
      apx_diagnostic *copy = d->level == APX_DIAG_ERROR     ? apx_error(c->diag, d->loc, "%s", d->message)
                             : d->level == APX_DIAG_WARNING ? apx_warning(c->diag, d->loc, "%s", d->message)
                                                            : apx_note(c->diag, d->loc, "%s", d->message);
      if (d->hint) apx_diag_hint(c->diag, copy, "%s", d->hint);
    }
    for (size_t i = 0; i < p->c.nvolumes; i++) {
      apx_compose_name v = p->c.volumes[i];
      v.name = apx_arena_strdup(c->arena, v.name);
      v.order = c->nvolumes;
      APX_VEC_PUSH(c->arena, c->volumes, c->nvolumes, c->capvolumes, v);
    }
    if (p->c.probe_used) c->probe_used = true;
    apx_yaml_free(&p->y);
    fclose(p->file);
    apx_buf_free(&p->c.value);
    free(p->c.rendered);
    apx_arena_free(p->arena);
  }
  /* Errors make the driver write no file; the emitter goes on regardless. */
  if (!ok && !reported && !y->failed) {
    y->failed = true;
    y->error = "the parts written in threads could not be joined";
  }
  free(parts);
}

int apx_emit_compose(apx_module *m, apx_output *out) {
  size_t errors0 = m->diag->errors;
  apx_compose c = {0};
  c.m = m;
  c.arena = m->arena;
  c.diag = m->diag;
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
  if (yf) {
    apx_yaml_init_file(&y, yf);
    y.writeback = true;
  } else apx_yaml_init(&y);
  apx_compose_part *parts = NULL;
  size_t nparts = yf ? apx_compose_plan(&c, &parts) : 1;
  apx_yaml_begin_map(&y);
  apx_yaml_key(&y, "services");
  apx_yaml_begin_map(&y);
  apx_compose_services(&c, &y, 0, nparts > 1 ? parts[1].from : m->nresources);
  if (nparts > 1) apx_compose_join(&c, &y, yf, parts, nparts);
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
  if (c.probe_used) apx_compose_add_probe(&c);
  apx_buf_free(&c.value);
  free(c.rendered);
  free(c.outdir);
  return (int)(m->diag->errors - errors0);
}
