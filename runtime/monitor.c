/* Run mode as a watcher sees it (monitor.h): units as plain data, their
 * changes and output lines passed on, and the watcher's commands turned
 * into events of the state machine. Everything runs on the loop's thread. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor.h"
#include "run_internal.h"

struct apx_mon {
  apx_runtime *run;
  const apx_mon_listener *l;
  bool attached;
};

static uint64_t apx_wall(const apx_runtime *run, uint64_t loop_ms) { return run->wall0_ms + loop_ms; }

static uint64_t apx_wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void apx_run_monitor_open(apx_runtime *run) {
  const apx_mon_listener *l = run->opts.monitor;
  if (!l) return;
  apx_mon *m = APX_NEW(run->arena, apx_mon);
  m->run = run;
  m->l = l;
  run->mon = m;
  if (l->attach && l->attach(l->ud, m, &run->loop) != 0) {
    apx_run_say(run, "the dashboard could not start; the run goes on without it");
    run->mon = NULL;
    return;
  }
  m->attached = true;
}

int apx_run_monitor_state(apx_runtime *run) {
  const apx_mon_listener *l = run->opts.monitor;
  if (!l || !l->state) return 0;
  char err[512] = "";
  if (l->state(l->ud, run->state_dir, err, sizeof err) == 0) return 0;
  apx_run_error(run, "check the state directory's permissions, or choose another with --state-dir", "%s", err);
  return 2;
}

void apx_run_monitor_close(apx_runtime *run) {
  apx_mon *m = run->mon;
  if (!m) return;
  run->mon = NULL;
  if (m->l->detach) m->l->detach(m->l->ud);
}

void apx_run_monitor_changed(apx_runtime *run, apx_run_unit *u) {
  if (run->mon && run->mon->l->changed) run->mon->l->changed(run->mon->l->ud, u->index);
}

void apx_run_monitor_line(apx_runtime *run, apx_run_unit *u, const char *s, size_t n, bool eol) {
  if (run->mon && run->mon->l->line) run->mon->l->line(run->mon->l->ud, u->index, s, n, eol);
}

/* Run mode's messages about a unit begin with its name and ": " (report.c
 * and the rest print them so): that names the unit; the longest name wins
 * ("api.1: …" is api.1's, not api's). */
void apx_run_monitor_note(apx_runtime *run, const char *s, size_t n, bool error) {
  if (!run->mon || !run->mon->l->note) return;
  long unit = -1;
  size_t best = 0;
  for (size_t i = 0; i < run->nunits; i++) {
    size_t k = strlen(run->units[i]->name);
    if (k > best && k + 2 <= n && memcmp(s, run->units[i]->name, k) == 0 && s[k] == ':' && s[k + 1] == ' ') {
      best = k;
      unit = (long)i;
    }
  }
  run->mon->l->note(run->mon->l->ud, unit, s, n, error);
}

void apx_run_monitor_check(apx_run_unit *u, bool ok, const char *text) {
  if (!u->hist) {
    u->hist = calloc(APX_RUN_HIST, sizeof *u->hist); /* freed with the probes (apx_run_probes_free) */
    if (!u->hist) abort();
  }
  /* A passing check that says what the last one said is not news. */
  if (u->nhist) {
    apx_run_check_note *last = &u->hist[(u->hist_head + u->nhist - 1) % APX_RUN_HIST];
    if (last->ok == ok && strcmp(last->text, text) == 0) {
      last->at_ms = apx_wall_now();
      return;
    }
  }
  apx_run_check_note *n;
  if (u->nhist < APX_RUN_HIST) n = &u->hist[(u->hist_head + u->nhist++) % APX_RUN_HIST];
  else {
    n = &u->hist[u->hist_head];
    u->hist_head = (u->hist_head + 1) % APX_RUN_HIST;
  }
  n->at_ms = apx_wall_now();
  n->ok = ok;
  snprintf(n->text, sizeof n->text, "%s", text && *text ? text : ok ? "passed" : "failed");
}

void apx_run_monitor_env(apx_runtime *run, apx_run_unit *u, const char *host,
                         void (*put)(void *ctx, const char *name, const char *value), void *ctx) {
  const apx_mon_listener *l = run->opts.monitor;
  if (l && l->env) l->env(l->ud, u->name, u->res->name, host, put, ctx);
}

/* ---- the interface ------------------------------------------------------------- */

size_t apx_mon_count(const apx_mon *m) { return m->run->nunits; }

const char *apx_mon_app(const apx_mon *m) { return m->run->m->app_name ? m->run->m->app_name : "app"; }

const char *apx_mon_host_gateway(const apx_mon *m) { return m->run->engine ? m->run->engine_gateway : NULL; }

void apx_mon_say(apx_mon *m, const char *text) { apx_run_say(m->run, "%s", text); }

long apx_mon_find(const apx_mon *m, const char *name) {
  for (size_t i = 0; i < m->run->nunits; i++)
    if (strcmp(m->run->units[i]->name, name) == 0) return (long)i;
  for (size_t i = 0; i < m->run->nunits; i++)
    if (strcmp(m->run->units[i]->res->name, name) == 0) return (long)i;
  return -1;
}

static const char *apx_wait_kind(apx_dep_kind k) {
  switch (k) {
  case APX_DEP_WAIT_START: return "started";
  case APX_DEP_WAIT_COMPLETION: return "completed";
  default: return "healthy";
  }
}

static bool apx_wait_met(const apx_run_wait *w) {
  for (size_t i = 0; i < w->n; i++) {
    const apx_run_unit *v = w->units[i];
    bool ok;
    switch (w->kind) {
    case APX_DEP_WAIT_START: ok = v->ever_started; break;
    case APX_DEP_WAIT_COMPLETION: ok = v->state == APX_ST_FINISHED && v->ever_started && !v->exit_status && !v->exit_signal; break;
    default: ok = apx_run_unit_ready(v); break;
    }
    if (!ok) return false;
  }
  return true;
}

static const char *apx_join(apx_arena *a, char **argv) {
  if (!argv) return NULL;
  apx_buf b = {0};
  for (char **p = argv; *p; p++) {
    if (p != argv) apx_buf_putc(&b, ' ');
    apx_buf_puts(&b, *p);
  }
  char *s = apx_arena_strdup(a, apx_buf_str(&b));
  apx_buf_free(&b);
  return s;
}

static const apx_entry *apx_entry_of(const apx_entry *env, size_t n, const char *key, size_t klen) {
  for (size_t i = 0; i < n; i++)
    if (strlen(env[i].key) == klen && memcmp(env[i].key, key, klen) == 0) return &env[i];
  return NULL;
}

/* The variables the program gives the unit (and aspirec's OTEL_*), not all
 * it inherits; secret when a secret parameter flows into the value. */
static void apx_snap_env(const apx_run_unit *u, apx_mon_unit *o, apx_arena *a, bool reveal) {
  const apx_resource *r = u->res;
  char **envp = u->kind == APX_UNIT_CHILD ? NULL : u->envp;
  size_t cap = 0;
  for (char **e = envp; e && *e; e++) {
    const char *eq = strchr(*e, '=');
    if (!eq) continue;
    size_t klen = (size_t)(eq - *e);
    const apx_entry *en = u->fallback && r->local ? apx_entry_of(r->local->env, r->local->nenv, *e, klen) : NULL;
    if (!en) en = apx_entry_of(r->env, r->nenv, *e, klen);
    if (!en && strncmp(*e, "OTEL_", 5) != 0) continue;
    bool secret = en && apx_ir_value_has_secret(en->value);
    if (!en && strncmp(*e, "OTEL_EXPORTER_OTLP_HEADERS", klen) == 0) secret = true; /* the receiver's key */
    apx_mon_env v = {apx_arena_strndup(a, *e, klen), secret && !reveal ? NULL : apx_arena_strdup(a, eq + 1), secret};
    APX_VEC_PUSH(a, o->env, o->nenv, cap, v);
  }
}

void apx_mon_snapshot(apx_mon *m, size_t i, apx_mon_unit *o, apx_arena *a, unsigned flags) {
  apx_runtime *run = m->run;
  const apx_run_unit *u = run->units[i];
  const apx_resource *r = u->res;
  memset(o, 0, sizeof *o);
  o->index = i;
  o->name = u->name;
  o->resource = r->name;
  o->kind = r->parent ? "database" : r->type ? r->type : apx_ir_kind_name(r->kind);
  o->runs_as = !u->has_process ? "none" : u->drv ? u->drv->name : "process";
  o->state = apx_run_state_name(u->state);
  o->health = !u->nchecks ? "" : u->state == APX_ST_HEALTHY ? "healthy" : u->state == APX_ST_UNHEALTHY ? "unhealthy" : "unknown";
  o->replica = u->replica;
  o->replicas = (unsigned)(r->replicas > 0 ? r->replicas : 1);
  o->manual = u->manual;
  o->has_process = u->has_process;
  o->terminal = apx_run_state_terminal(u->state);
  o->ever_started = u->ever_started;
  o->started_at_ms = u->ever_started ? apx_wall(run, u->started_ms) : 0;
  o->state_at_ms = apx_wall(run, u->state_ms);
  o->starts = u->starts;
  o->exited = u->ever_started && (u->state == APX_ST_EXITED || u->state == APX_ST_FINISHED || u->starts > 1);
  o->exit_status = u->exit_status;
  o->exit_signal = u->exit_signal;
  o->pid = u->proc && u->proc->role == APX_PROC_MAIN && !u->proc->exited ? (long)u->proc->pid : 0;
  o->why = u->why;
  o->image = u->image;
  o->command = apx_join(a, u->argv);
  o->workdir = u->cwd;
  /* Endpoints: this replica's ports. */
  if (u->ports && r->nendpoints) {
    o->endpoints = APX_NEW_ARRAY(a, apx_mon_endpoint, r->nendpoints);
    for (size_t k = 0; k < r->nendpoints; k++) {
      const apx_endpoint *e = &r->endpoints[k];
      apx_mon_endpoint *d = &o->endpoints[o->nendpoints++];
      d->name = e->name;
      d->scheme = e->scheme ? e->scheme : "tcp";
      d->port = u->ports[k];
      if (d->port && (strcmp(d->scheme, "http") == 0 || strcmp(d->scheme, "https") == 0))
        d->url = apx_arena_printf(a, "%s://localhost:%d", d->scheme, d->port);
    }
  }
  /* Waits, and in words what is still awaited. */
  if (u->nwaits) {
    o->waits = APX_NEW_ARRAY(a, apx_mon_wait, u->nwaits);
    apx_buf b = {0};
    for (size_t k = 0; k < u->nwaits; k++) {
      const apx_run_wait *w = &u->waits[k];
      apx_mon_wait *d = &o->waits[o->nwaits++];
      d->target = w->target;
      d->kind = apx_wait_kind(w->kind);
      d->met = apx_wait_met(w);
      if (!d->met) apx_buf_printf(&b, "%s%s: %s", b.len ? ", " : "waiting for ", w->target, d->kind);
    }
    o->waiting = u->state == APX_ST_WAITING ? apx_arena_strdup(a, apx_buf_str(&b)) : "";
    apx_buf_free(&b);
  } else {
    o->waiting = "";
  }
  /* References: the resources it names (not waits: those are above). */
  size_t cap = 0;
  if (r->parent) APX_VEC_PUSH(a, o->refs, o->nrefs, cap, r->parent->name);
  for (size_t k = 0; k < r->ndeps; k++) {
    const apx_dep *d = &r->deps[k];
    if (d->kind != APX_DEP_REFERENCE || !d->target) continue;
    bool seen = false;
    for (size_t j = 0; j < o->nrefs && !seen; j++) seen = strcmp(o->refs[j], d->target->name) == 0;
    if (!seen) APX_VEC_PUSH(a, o->refs, o->nrefs, cap, d->target->name);
  }
  if (flags & APX_MON_WITH_ENV) apx_snap_env(u, o, a, (flags & APX_MON_REVEAL) != 0);
  if (u->nhist) {
    o->checks = APX_NEW_ARRAY(a, apx_mon_check, u->nhist);
    for (unsigned k = 0; k < u->nhist; k++) {
      const apx_run_check_note *n = &u->hist[(u->hist_head + k) % APX_RUN_HIST];
      o->checks[o->nchecks++] = (apx_mon_check){n->at_ms, n->ok, apx_arena_strdup(a, n->text)};
    }
  }
}

int apx_mon_command(apx_mon *m, size_t i, apx_mon_cmd cmd, char *why, size_t nwhy) {
  apx_runtime *run = m->run;
  if (i >= run->nunits) {
    snprintf(why, nwhy, "no such resource");
    return -1;
  }
  apx_run_unit *u = run->units[i];
  if (run->fsm.stopping) {
    snprintf(why, nwhy, "the run is stopping");
    return -1;
  }
  apx_run_state s = u->state;
  bool up = s == APX_ST_STARTING || s == APX_ST_RUNNING || s == APX_ST_HEALTHY || s == APX_ST_UNHEALTHY;
  switch (cmd) {
  case APX_MON_START:
    if (s == APX_ST_STOPPING) {
      u->restart_asked = true; /* once down, up again */
      break;
    }
    if (s != APX_ST_NOT_STARTED && s != APX_ST_FINISHED && s != APX_ST_FAILED_TO_START && s != APX_ST_EXITED) {
      snprintf(why, nwhy, "%s is %s", u->name, apx_run_state_name(s));
      return -1;
    }
    apx_run_fsm_post(&run->fsm, u, APX_EV_USER_START);
    break;
  case APX_MON_STOP:
    if (!up && s != APX_ST_WAITING && s != APX_ST_EXITED) {
      snprintf(why, nwhy, "%s is %s", u->name, apx_run_state_name(s));
      return -1;
    }
    apx_run_say(run, "%s: stopped from the dashboard", u->name);
    apx_run_fsm_post(&run->fsm, u, APX_EV_USER_STOP);
    break;
  case APX_MON_RESTART:
    if (s == APX_ST_STOPPING) {
      u->restart_asked = true;
      break;
    }
    if (up) {
      apx_run_say(run, "%s: restarted from the dashboard", u->name);
      u->restart_asked = true;
      apx_run_fsm_post(&run->fsm, u, APX_EV_USER_STOP);
    } else if (s == APX_ST_WAITING) {
      snprintf(why, nwhy, "%s is waiting", u->name);
      return -1;
    } else {
      apx_run_fsm_post(&run->fsm, u, APX_EV_USER_START);
    }
    break;
  }
  run->user_commands = true;
  return 0;
}
