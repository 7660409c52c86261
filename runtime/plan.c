/* From the IR to units: one unit per replica of every resource that runs
 * (executables, projects, containers through their local {} fallback) and
 * one per child resource (a database on a server). Then, once ports and
 * parameters are known, every deferred value a unit needs is rendered once:
 * its command line, environment, working directory, setup commands and
 * database creation. A value that cannot be rendered is reported before
 * anything starts. */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run_internal.h"

extern char **environ;

static int apx_res_cmp(const void *a, const void *b) {
  const apx_resource *x = ((const apx_run_res *)a)->res, *y = ((const apx_run_res *)b)->res;
  return x < y ? -1 : x > y;
}

apx_run_res *apx_run_res_find(const apx_runtime *run, const apx_resource *r) {
  apx_run_res key = {.res = r};
  return bsearch(&key, run->res, run->nres, sizeof *run->res, apx_res_cmp);
}

static apx_run_unit *apx_unit_new(apx_runtime *run, const apx_resource *r, unsigned replica, apx_run_unit_kind kind) {
  apx_run_unit *u = APX_NEW(run->arena, apx_run_unit);
  u->res = r;
  u->replica = replica;
  u->kind = kind;
  u->name = r->replicas > 1 ? apx_arena_printf(run->arena, "%s.%u", r->name, replica) : r->name;
  u->restart = r->restart == APX_RESTART_DEFAULT ? APX_RESTART_NO : r->restart;
  u->has_process = kind == APX_UNIT_PROCESS;
  u->drv = &apx_run_driver_process;
  u->fallback = r->kind == APX_KIND_CONTAINER;
  u->manual = r->explicit_start;
  u->nchecks = kind == APX_UNIT_PROCESS ? r->nhealth : 0;
  return u;
}

/* A user for local.user when aspirec runs as root. */
static int apx_plan_user(apx_runtime *run, apx_run_unit *u) {
  const apx_local *l = u->res->local;
  if (!u->fallback || !l || !l->user || !run->is_root) return 0;
  struct passwd *pw = getpwnam(l->user);
  if (!pw) {
    apx_run_error(run,
                  "install the server's package, which creates that user (stdlib/README.md lists them), "
                  "or run aspirec as an ordinary user",
                  "'%s' must run as user '%s' (local.user: the server refuses to run as root), and this machine "
                  "has no such user",
                  u->res->name, l->user);
    return 2;
  }
  u->user = l->user;
  u->uid = pw->pw_uid;
  u->gid = pw->pw_gid;
  return 0;
}

int apx_run_plan(apx_runtime *run) {
  apx_module *m = run->m;
  apx_arena *a = run->arena;
  size_t cap = 16, nbad = 0;
  run->res = APX_NEW_ARRAY(a, apx_run_res, m->nresources ? m->nresources : 1);
  const apx_resource **bad = APX_NEW_ARRAY(a, const apx_resource *, m->nresources ? m->nresources : 1);
  run->units = APX_NEW_ARRAY(a, apx_run_unit *, cap);
  int rc = 0;
  /* The engine: asked only when there is a container, and not with --engine=local. */
  const char *want = run->opts.engine;
  bool local_only = want && strcmp(want, "local") == 0;
  bool any_container = false;
  for (size_t i = 0; i < m->nresources; i++) any_container = any_container || m->resources[i]->kind == APX_KIND_CONTAINER;
  if (any_container && !local_only) {
    run->engine = apx_run_engine_find(want, &run->engine_sock);
    if (!run->engine && want) {
      apx_run_error(run,
                    strcmp(want, "docker") == 0 ? "start dockerd, or point DOCKER_HOST at its socket (unix://PATH)"
                                                : "start `podman system service`, or point CONTAINER_HOST at its socket (unix://PATH)",
                    "--engine=%s: no %s answers on its API socket", want, want);
      return 2;
    }
    if (run->engine) {
      run->engine_drv = strcmp(run->engine, "podman") == 0 ? &apx_run_driver_podman : &apx_run_driver_docker;
      run->engine_session = apx_arena_printf(a, "%ld-%ld", (long)getpid(), (long)time(NULL));
    }
  }
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_resource *r = m->resources[i];
    apx_run_unit_kind kind;
    if (apx_ir_kind_runs(r->kind)) {
      if (r->kind == APX_KIND_CONTAINER && !run->engine && !r->local) {
        bad[nbad++] = r;
        continue;
      }
      kind = APX_UNIT_PROCESS;
    } else if (r->parent && apx_ir_kind_runs(apx_ir_runner(r)->kind)) {
      kind = APX_UNIT_CHILD;
    } else {
      continue; /* external, param: nothing runs */
    }
    apx_run_res *rr = &run->res[run->nres++];
    rr->res = r;
    rr->n = kind == APX_UNIT_PROCESS && r->replicas > 1 ? (size_t)r->replicas : 1;
    rr->units = APX_NEW_ARRAY(a, apx_run_unit *, rr->n);
    for (size_t k = 0; k < rr->n; k++) {
      apx_run_unit *u = apx_unit_new(run, r, (unsigned)k, kind);
      if (r->kind == APX_KIND_CONTAINER && run->engine) {
        u->drv = run->engine_drv;
        u->fallback = false;
      }
      if (apx_plan_user(run, u)) rc = 2;
      rr->units[k] = u;
      if (run->nunits == cap) {
        run->units = apx_arena_grow(a, run->units, sizeof *run->units * cap, sizeof *run->units * cap * 2);
        cap *= 2;
      }
      u->index = run->nunits;
      run->units[run->nunits++] = u;
    }
  }
  if (nbad) {
    for (size_t i = 0; i < nbad; i++) {
      if (local_only)
        apx_run_error(run, "give it a local {} block that runs the same service as a host process (stdlib/README.md), "
                           "or drop --engine=local",
                      "container '%s' cannot run with --engine=local: it has no local {} fallback", bad[i]->name);
      else
        apx_run_error(run,
                      "start docker or podman (DOCKER_HOST, CONTAINER_HOST or their default sockets), or give it "
                      "a local {} block that runs the same service as a host process (stdlib/README.md)",
                      "container '%s' cannot run: no container engine (docker, podman) answers and '%s' has "
                      "no local {} fallback",
                      bad[i]->name, bad[i]->name);
    }
    rc = 2;
  }
  qsort(run->res, run->nres, sizeof *run->res, apx_res_cmp);
  for (size_t i = 0; i < run->nres; i++)
    run->res[i].dir = apx_arena_printf(a, "%s/resources/%s", run->state_dir, run->res[i].res->name);

  /* Waits. A reference orders nothing (doc/language.md §13). */
  for (size_t i = 0; i < run->nunits; i++) {
    apx_run_unit *u = run->units[i];
    const apx_resource *r = u->res;
    size_t nw = r->ndeps + 2;
    u->waits = APX_NEW_ARRAY(a, apx_run_wait, nw);
    for (size_t k = 0; k < r->ndeps; k++) {
      const apx_dep *d = &r->deps[k];
      if (d->kind == APX_DEP_REFERENCE) continue;
      apx_run_res *t = apx_run_res_find(run, d->target);
      if (!t || t->res == r) continue; /* params and externals: validate rejects waits on them */
      u->waits[u->nwaits++] = (apx_run_wait){d->kind, t->units, t->n, t->res->name};
    }
    if (u->kind == APX_UNIT_CHILD) {
      /* A database is there once its server is healthy and it was created. */
      apx_run_res *p = apx_run_res_find(run, apx_ir_runner(r));
      if (p) u->waits[u->nwaits++] = (apx_run_wait){APX_DEP_WAIT_HEALTHY, p->units, p->n, p->res->name};
    }
    if (u->replica > 0 && r->local && r->local->setup) {
      /* Setup runs once, with the first replica; the others start after it. */
      apx_run_res *self = apx_run_res_find(run, r);
      u->waits[u->nwaits++] = (apx_run_wait){APX_DEP_WAIT_START, self->units, 1, self->units[0]->name};
    }
  }
  return rc;
}

/* ---- rendering ---------------------------------------------------------------- */

typedef struct apx_envb {
  char **v;
  size_t n, cap;
} apx_envb;

static void apx_env_put(apx_runtime *run, apx_envb *e, const char *key, size_t klen, const char *val) {
  char *kv = apx_arena_printf(run->arena, "%.*s=%s", (int)klen, key, val);
  for (size_t i = 0; i < e->n; i++)
    if (strncmp(e->v[i], key, klen) == 0 && e->v[i][klen] == '=') {
      e->v[i] = kv;
      return;
    }
  APX_VEC_PUSH(run->arena, e->v, e->n, e->cap, kv);
}

static bool apx_env_has(const apx_envb *e, const char *key) {
  size_t klen = strlen(key);
  for (size_t i = 0; i < e->n; i++)
    if (strncmp(e->v[i], key, klen) == 0 && e->v[i][klen] == '=') return true;
  return false;
}

static char **apx_env_finish(apx_runtime *run, apx_envb *e) {
  APX_VEC_PUSH(run->arena, e->v, e->n, e->cap, NULL);
  return e->v;
}

typedef struct apx_rctx {
  apx_runtime *run;
  apx_run_unit *u;
  apx_render_target t;
  apx_run_tctx tctx;
  apx_buf buf;
  int rc;
} apx_rctx;

/* Renders a scalar value into the run's arena; NULL (and reported) on failure. */
static const char *apx_render_str(apx_rctx *c, const apx_value *v, const char *what) {
  apx_buf_clear(&c->buf);
  const char *why = NULL;
  if (!apx_render_value(&c->t, v, &c->buf, &why)) {
    apx_run_error(c->run, NULL, "cannot compute %s of '%s': %s", what, c->u->res->name, why ? why : "unknown");
    c->rc = 1;
    return NULL;
  }
  return apx_arena_strndup(c->run->arena, c->buf.data ? c->buf.data : "", c->buf.len);
}

/* command + args as an argv (NULL-terminated). */
static char **apx_render_argv(apx_rctx *c, const apx_value *command, const apx_value *args, const char *what) {
  size_t n = (command ? 1 : 0) + (args && args->kind == APX_V_LIST ? args->u.list.n : 0);
  char **argv = APX_NEW_ARRAY(c->run->arena, char *, n + 1);
  size_t k = 0;
  if (command) argv[k++] = (char *)apx_render_str(c, command, what);
  if (args && args->kind == APX_V_LIST)
    for (size_t i = 0; i < args->u.list.n; i++) argv[k++] = (char *)apx_render_str(c, args->u.list.items[i], what);
  for (size_t i = 0; i < k; i++)
    if (!argv[i]) return NULL;
  if (k == 0 || !argv[0][0]) {
    apx_run_error(c->run, NULL, "%s of '%s' is empty", what, c->u->res->name);
    c->rc = 1;
    return NULL;
  }
  return argv;
}

/* The watcher's variables (the dashboard's OTEL_*): over what aspirec
 * inherited, never over what the program sets. */
typedef struct apx_wenv {
  apx_runtime *run;
  apx_envb *e;
  const apx_resource *r;
} apx_wenv;

static bool apx_entries_have(const apx_entry *env, size_t n, const char *key) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(env[i].key, key) == 0) return true;
  return false;
}

static void apx_wenv_put(void *ctx, const char *name, const char *value) {
  apx_wenv *w = ctx;
  if (apx_entries_have(w->r->env, w->r->nenv, name)) return;
  if (w->r->local && apx_entries_have(w->r->local->env, w->r->local->nenv, name)) return;
  apx_env_put(w->run, w->e, name, strlen(name), value);
}

static void apx_render_env(apx_rctx *c, apx_envb *e, const apx_entry *env, size_t n, const char *what) {
  for (size_t i = 0; i < n; i++) {
    const char *v = apx_render_str(c, env[i].value, what);
    if (v) apx_env_put(c->run, e, env[i].key, strlen(env[i].key), v);
  }
}

uint64_t apx_run_fnv(uint64_t h, const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= (unsigned char)s[i];
    h *= 1099511628211ull;
  }
  return h;
}

static void apx_render_setup(apx_rctx *c, const apx_value *setup) {
  apx_run_unit *u = c->u;
  if (!setup || setup->kind != APX_V_LIST || !setup->u.list.n || u->replica > 0) return;
  u->nsetup = setup->u.list.n;
  u->setup = APX_NEW_ARRAY(c->run->arena, char **, u->nsetup);
  uint64_t h = APX_RUN_FNV_INIT;
  for (size_t i = 0; i < u->nsetup; i++) {
    const apx_value *cmd = setup->u.list.items[i];
    char **argv;
    if (cmd->kind == APX_V_LIST) {
      argv = apx_render_argv(c, NULL, cmd, "a setup command");
    } else {
      /* A string is a shell script (sh -c), as in stdlib's fallbacks. */
      const char *s = apx_render_str(c, cmd, "a setup command");
      argv = APX_NEW_ARRAY(c->run->arena, char *, 4);
      argv[0] = "sh";
      argv[1] = "-c";
      argv[2] = (char *)s;
      if (!s) argv = NULL;
    }
    if (!argv) return;
    u->setup[i] = argv;
    for (char **p = argv; *p; p++) h = apx_run_fnv(h, *p, strlen(*p) + 1);
    h = apx_run_fnv(h, "\n", 1);
  }
  u->setup_key = apx_arena_printf(c->run->arena, "%016llx", (unsigned long long)h);
}

static bool apx_is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A container run by an engine: image, command, entrypoint and its own
 * environment only (it does not inherit aspirec's, as under Compose). */
static void apx_render_container(apx_rctx *c) {
  apx_runtime *run = c->run;
  apx_run_unit *u = c->u;
  const apx_resource *r = u->res;
  if (r->image) u->image = apx_render_str(c, r->image, "the image");
  if (r->build && r->build->nargs) {
    u->build_args = APX_NEW_ARRAY(run->arena, char *, r->build->nargs);
    for (size_t i = 0; i < r->build->nargs; i++)
      u->build_args[i] = (char *)apx_render_str(c, r->build->args[i].value, "a build argument");
  }
  if (r->command || (r->args && r->args->kind == APX_V_LIST && r->args->u.list.n))
    u->argv = apx_render_argv(c, r->command, r->args, "the command");
  if (r->entrypoint && r->entrypoint->kind == APX_V_LIST && r->entrypoint->u.list.n)
    u->entrypoint = apx_render_argv(c, NULL, r->entrypoint, "the entrypoint");
  apx_envb e = {0};
  apx_render_env(c, &e, r->env, r->nenv, "the environment");
  if (!apx_env_has(&e, "OTEL_SERVICE_NAME")) apx_env_put(run, &e, "OTEL_SERVICE_NAME", 17, r->name);
  apx_wenv w = {run, &e, r};
  size_t own = e.n;
  apx_run_monitor_env(run, u, "host.docker.internal", apx_wenv_put, &w);
  u->nenv_watch = e.n - own;
  u->envp = apx_env_finish(run, &e);
  u->cwd = run->m->main_dir;
  if (apx_run_probes_plan(run, u)) c->rc = 1;
}

static void apx_render_unit(apx_rctx *c) {
  apx_runtime *run = c->run;
  apx_run_unit *u = c->u;
  const apx_resource *r = u->res;
  if (u->kind == APX_UNIT_CHILD) {
    if (apx_run_db_plan(run, u)) c->rc = 1;
    return;
  }
  if (u->drv != &apx_run_driver_process) {
    apx_render_container(c);
    return;
  }
  const apx_local *l = u->fallback ? r->local : NULL;
  u->argv = l ? apx_render_argv(c, l->command, l->args, "the local command")
              : apx_render_argv(c, r->command, r->args, "the command");
  apx_envb e = {0};
  /* Processes inherit aspirec's environment, as Aspire's executables do,
   * less APX_PARAM_*: parameter values reach a resource only where the
   * program passes them (a secret given that way must not leak to all). */
  for (char **p = environ; *p; p++)
    if (strchr(*p, '=') && strncmp(*p, "APX_PARAM_", 10) != 0) APX_VEC_PUSH(run->arena, e.v, e.n, e.cap, *p);
  apx_render_env(c, &e, r->env, r->nenv, "the environment");
  if (l) apx_render_env(c, &e, l->env, l->nenv, "the local environment");
  /* OpenTelemetry: the service name; the exporter's endpoint and key come
   * from the watcher that receives it (the dashboard, doc/dashboard.md). */
  if (!apx_env_has(&e, "OTEL_SERVICE_NAME")) apx_env_put(run, &e, "OTEL_SERVICE_NAME", 17, r->name);
  apx_wenv w = {run, &e, r};
  apx_run_monitor_env(run, u, "localhost", apx_wenv_put, &w);
  if (u->user) {
    struct passwd *pw = getpwnam(u->user);
    if (pw) {
      apx_env_put(run, &e, "HOME", 4, pw->pw_dir);
      apx_env_put(run, &e, "USER", 4, pw->pw_name);
      apx_env_put(run, &e, "LOGNAME", 7, pw->pw_name);
    }
  }
  u->envp = apx_env_finish(run, &e);
  if (l) {
    u->cwd = l->workdir ? l->workdir : apx_run_res_find(run, r)->dir;
    apx_render_setup(c, l->setup);
  } else {
    u->cwd = r->workdir ? r->workdir : run->m->main_dir;
    if (!apx_is_dir(u->cwd)) {
      apx_run_error(run, "create it, or set workdir to an existing directory",
                    "the working directory of '%s' does not exist: %s", r->name, u->cwd);
      c->rc = 1;
    }
  }
  if (apx_run_probes_plan(run, u)) c->rc = 1;
}

int apx_run_render(apx_runtime *run) {
  int rc = 0;
  for (size_t i = 0; i < run->nunits; i++) {
    apx_rctx c = {.run = run, .u = run->units[i]};
    apx_run_target(&c.t, &c.tctx, run, c.u);
    apx_render_unit(&c);
    apx_buf_free(&c.buf);
    if (c.rc) rc = c.rc;
  }
  return rc;
}
