/* The supervisor's state machine: one per unit (a process to supervise, or a
 * child resource such as a database), driven by events through a state ×
 * event table, as s6 does. The effects of a transition (spawn, signal,
 * timers, probes) go through apx_run_ops, so this file knows nothing of
 * libuv and tests/unit/test_runtime.c drives it with fakes.
 *
 * Events are queued and processed one at a time: an action that causes
 * another event (a spawn that fails at once) never re-enters the table.
 * Whenever the queue is empty the machine looks at the whole run once more:
 * a waiting unit whose waits are met starts, one whose waits can never be
 * met fails with the reason, and during shutdown a unit is told to stop once
 * every unit that waits on it is down (reverse dependency order). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

static const char *const apx_state_names[APX_ST__COUNT] = {
    "not started", "waiting", "starting", "running", "healthy",
    "unhealthy",   "stopping", "exited",  "finished", "failed to start",
};

const char *apx_run_state_name(apx_run_state s) { return s < APX_ST__COUNT ? apx_state_names[s] : "?"; }

bool apx_run_state_terminal(apx_run_state s) { return s == APX_ST_FINISHED || s == APX_ST_FAILED_TO_START; }

bool apx_run_unit_ready(const apx_run_unit *u) {
  return u->state == APX_ST_HEALTHY || (u->state == APX_ST_RUNNING && u->nchecks == 0);
}

static bool apx_exit_ok(const apx_run_unit *u) { return u->exit_signal == 0 && u->exit_status == 0; }

uint64_t apx_run_backoff_ms(const apx_run_fsm *f, unsigned failures) {
  uint64_t d = f->backoff_min_ms;
  for (unsigned i = 1; i < failures && d < f->backoff_max_ms; i++) d *= 2;
  return d < f->backoff_max_ms ? d : f->backoff_max_ms;
}

/* ---- actions: each returns the next state ------------------------------- */

typedef apx_run_state (*apx_run_action)(apx_run_fsm *f, apx_run_unit *u);

static apx_run_state act_wait(apx_run_fsm *f, apx_run_unit *u) {
  (void)f;
  (void)u;
  return APX_ST_WAITING; /* the settle step starts it once its waits are met */
}

static apx_run_state act_prepare(apx_run_fsm *f, apx_run_unit *u) {
  u->why[0] = '\0';
  f->ops->prepare(f->ud, u);
  return APX_ST_STARTING;
}

static apx_run_state act_fail(apx_run_fsm *f, apx_run_unit *u) {
  (void)f;
  (void)u;
  return APX_ST_FAILED_TO_START; /* the poster wrote the reason into u->why */
}

static apx_run_state act_spawn(apx_run_fsm *f, apx_run_unit *u) {
  if (f->stopping) return APX_ST_FINISHED; /* prepared or due while shutting down */
  int rc = f->ops->spawn(f->ud, u);
  if (rc < 0) return APX_ST_FAILED_TO_START;
  u->starts++;
  u->started_ms = f->ops->now(f->ud);
  u->ever_started = true;
  if (rc > 0) { /* nothing to run: ready as soon as it is prepared */
    u->ever_healthy = true;
    return APX_ST_HEALTHY;
  }
  if (u->nchecks) f->ops->probes(f->ud, u, true);
  return APX_ST_RUNNING;
}

static apx_run_state act_healthy(apx_run_fsm *f, apx_run_unit *u) {
  (void)f;
  u->ever_healthy = true;
  u->why[0] = '\0';
  return APX_ST_HEALTHY;
}

static apx_run_state act_unhealthy(apx_run_fsm *f, apx_run_unit *u) {
  (void)f;
  (void)u;
  return APX_ST_UNHEALTHY;
}

/* The main process ended on its own: restart per policy, with back-off. */
static apx_run_state act_exited(apx_run_fsm *f, apx_run_unit *u) {
  if (u->nchecks) f->ops->probes(f->ud, u, false);
  if (f->stopping) return APX_ST_FINISHED;
  bool failed = !apx_exit_ok(u);
  bool again = u->restart == APX_RESTART_ALWAYS || (u->restart == APX_RESTART_ON_FAILURE && failed);
  if (!again) return APX_ST_FINISHED;
  uint64_t now = f->ops->now(f->ud);
  if (now - u->started_ms >= f->stable_ms) u->failures = 0;
  u->failures++;
  u->restart_delay_ms = apx_run_backoff_ms(f, u->failures);
  f->ops->schedule_restart(f->ud, u, u->restart_delay_ms);
  return APX_ST_EXITED;
}

/* A restart prepares again, as a first start does: a container is created
 * anew (asynchronously, through its engine); a process's setup, done once,
 * is not run again, so it is spawned at once. */
static apx_run_state act_restart(apx_run_fsm *f, apx_run_unit *u) {
  if (f->stopping) return APX_ST_FINISHED;
  return act_prepare(f, u);
}

/* Stop a unit whose process runs: SIGTERM to its group. */
static apx_run_state act_stop(apx_run_fsm *f, apx_run_unit *u) {
  if (u->nchecks) f->ops->probes(f->ud, u, false);
  if (!u->has_process && u->state == APX_ST_HEALTHY) return APX_ST_FINISHED;
  f->ops->stop(f->ud, u);
  return APX_ST_STOPPING;
}

/* Stop during setup or database creation: signal that process; its end
 * arrives as PREPARED or PREP_FAILED in STOPPING. */
static apx_run_state act_stop_prepare(apx_run_fsm *f, apx_run_unit *u) {
  if (!u->proc) return APX_ST_FINISHED;
  f->ops->stop(f->ud, u);
  return APX_ST_STOPPING;
}

static apx_run_state act_finish(apx_run_fsm *f, apx_run_unit *u) {
  (void)f;
  (void)u;
  return APX_ST_FINISHED;
}

static apx_run_state act_cancel_restart(apx_run_fsm *f, apx_run_unit *u) {
  f->ops->cancel_restart(f->ud, u);
  return APX_ST_FINISHED;
}

/* ---- a watcher's commands (the dashboard: start, stop, restart) ------------------
 *
 * A unit stopped this way is FINISHED like one that ended on its own, and
 * USER_START takes a FINISHED or FAILED_TO_START unit back to WAITING: with
 * a watcher, "terminal" means "until someone starts it again". A restart is
 * a stop with restart_asked set: once down, the unit waits and starts
 * again (same ports, same environment; setup does not run twice). */

static apx_run_state act_user_start(apx_run_fsm *f, apx_run_unit *u) {
  (void)f;
  u->why[0] = '\0';
  u->stop_sent = false;
  u->user_stopped = false;
  u->failures = 0;
  return APX_ST_WAITING;
}

/* After a watcher's stop: finished, or waiting again for a restart. */
static apx_run_state apx_user_down(apx_run_fsm *f, apx_run_unit *u) {
  if (u->restart_asked && !f->stopping) {
    u->restart_asked = false;
    return act_user_start(f, u);
  }
  u->restart_asked = false;
  return APX_ST_FINISHED;
}

static apx_run_state act_user_stop(apx_run_fsm *f, apx_run_unit *u) {
  u->user_stopped = true;
  apx_run_state to = u->state == APX_ST_STARTING ? act_stop_prepare(f, u) : act_stop(f, u);
  if (to == APX_ST_FINISHED) return apx_user_down(f, u);
  return to;
}

static apx_run_state act_user_stop_waiting(apx_run_fsm *f, apx_run_unit *u) {
  u->user_stopped = true;
  snprintf(u->why, sizeof u->why, "stopped from the dashboard before it started");
  return apx_user_down(f, u);
}

static apx_run_state act_user_stop_exited(apx_run_fsm *f, apx_run_unit *u) {
  u->user_stopped = true;
  f->ops->cancel_restart(f->ud, u);
  return apx_user_down(f, u);
}

/* In STOPPING: the end of what was stopped. */
static apx_run_state act_stopped(apx_run_fsm *f, apx_run_unit *u) {
  if (u->user_stopped) return apx_user_down(f, u);
  return APX_ST_FINISHED;
}

/* A restart due while crash-looping, asked now. */
static apx_run_state act_user_restart_exited(apx_run_fsm *f, apx_run_unit *u) {
  f->ops->cancel_restart(f->ud, u);
  u->failures = 0;
  return act_user_start(f, u);
}

/* The table. NULL: the event means nothing in that state and is dropped
 * (a late probe result after the process exited, say). */
static const apx_run_action apx_table[APX_ST__COUNT][APX_EV__COUNT] = {
    [APX_ST_NOT_STARTED] = {[APX_EV_START] = act_wait, [APX_EV_STOP] = act_finish,
                            [APX_EV_USER_START] = act_user_start},
    [APX_ST_WAITING] = {[APX_EV_DEPS_READY] = act_prepare,
                        [APX_EV_DEP_FAILED] = act_fail,
                        [APX_EV_STOP] = act_finish,
                        [APX_EV_USER_STOP] = act_user_stop_waiting},
    [APX_ST_STARTING] = {[APX_EV_PREPARED] = act_spawn,
                         [APX_EV_PREP_FAILED] = act_fail,
                         [APX_EV_STOP] = act_stop_prepare,
                         [APX_EV_USER_STOP] = act_user_stop},
    [APX_ST_RUNNING] = {[APX_EV_HEALTHY] = act_healthy,
                        [APX_EV_UNHEALTHY] = act_unhealthy,
                        [APX_EV_EXITED] = act_exited,
                        [APX_EV_STOP] = act_stop,
                        [APX_EV_USER_STOP] = act_user_stop},
    [APX_ST_HEALTHY] = {[APX_EV_UNHEALTHY] = act_unhealthy, [APX_EV_EXITED] = act_exited, [APX_EV_STOP] = act_stop,
                        [APX_EV_USER_STOP] = act_user_stop},
    [APX_ST_UNHEALTHY] = {[APX_EV_HEALTHY] = act_healthy, [APX_EV_EXITED] = act_exited, [APX_EV_STOP] = act_stop,
                          [APX_EV_USER_STOP] = act_user_stop},
    [APX_ST_STOPPING] = {[APX_EV_EXITED] = act_stopped,
                         [APX_EV_PREPARED] = act_stopped,
                         [APX_EV_PREP_FAILED] = act_stopped},
    [APX_ST_EXITED] = {[APX_EV_RESTART_DUE] = act_restart, [APX_EV_STOP] = act_cancel_restart,
                       [APX_EV_USER_STOP] = act_user_stop_exited, [APX_EV_USER_START] = act_user_restart_exited},
    [APX_ST_FINISHED] = {[APX_EV_USER_START] = act_user_start},
    [APX_ST_FAILED_TO_START] = {[APX_EV_USER_START] = act_user_start},
};

/* ---- queue ---------------------------------------------------------------- */

void apx_run_fsm_init(apx_run_fsm *f, apx_run_unit **units, size_t n, const apx_run_ops *ops, void *ud) {
  memset(f, 0, sizeof *f);
  f->units = units;
  f->nunits = n;
  f->ops = ops;
  f->ud = ud;
  f->backoff_min_ms = 1000;
  f->backoff_max_ms = 30000;
  f->stable_ms = 30000;
}

void apx_run_fsm_free(apx_run_fsm *f) {
  free(f->q);
  f->q = NULL;
  f->qlen = f->qcap = f->qhead = 0;
}

static void apx_enqueue(apx_run_fsm *f, apx_run_unit *u, apx_run_event ev) {
  if (f->qlen == f->qcap) {
    size_t nc = f->qcap ? f->qcap * 2 : 64;
    apx_run_qitem *q = malloc(nc * sizeof *q);
    if (!q) abort();
    for (size_t i = 0; i < f->qlen; i++) q[i] = f->q[(f->qhead + i) % f->qcap];
    free(f->q);
    f->q = q;
    f->qcap = nc;
    f->qhead = 0;
  }
  f->q[(f->qhead + f->qlen) % f->qcap] = (apx_run_qitem){u, ev};
  f->qlen++;
}

static void apx_dispatch(apx_run_fsm *f, apx_run_unit *u, apx_run_event ev) {
  apx_run_action act = apx_table[u->state][ev];
  if (!act) return;
  apx_run_state from = u->state;
  apx_run_state to = act(f, u);
  if (to == from) return;
  u->state = to;
  u->state_ms = f->ops->now(f->ud);
  if ((to == APX_ST_HEALTHY || (to == APX_ST_RUNNING && !u->nchecks)) && !u->ready_ms) u->ready_ms = u->state_ms;
  f->ops->changed(f->ud, u, from);
}

/* ---- waits ----------------------------------------------------------------- */

typedef enum { APX_WAIT_PENDING, APX_WAIT_READY, APX_WAIT_FAILED } apx_wait_status;

static apx_wait_status apx_wait_one(const apx_run_wait *w, char *why, size_t nwhy) {
  bool all = true;
  for (size_t i = 0; i < w->n; i++) {
    const apx_run_unit *v = w->units[i];
    bool ok, dead = apx_run_state_terminal(v->state);
    switch (w->kind) {
    case APX_DEP_WAIT_START: ok = v->ever_started; break;
    case APX_DEP_WAIT_COMPLETION: ok = v->state == APX_ST_FINISHED && v->ever_started && apx_exit_ok(v); break;
    default: ok = apx_run_unit_ready(v); break;
    }
    if (ok) continue;
    all = false;
    if (!dead) continue;
    if (v->state == APX_ST_FAILED_TO_START) {
      const char *vw = v->why;
      if (strncmp(vw, "not started: ", 13) == 0) vw += 13; /* a chain: say it once */
      snprintf(why, nwhy, "%s failed to start%s%.400s", v->name, vw[0] ? ": " : "", vw);
    } else if (!v->ever_started) {
      snprintf(why, nwhy, "%s was stopped before it started", v->name);
    } else {
      char st[64];
      apx_run_exit_text(st, sizeof st, v->exit_status, v->exit_signal);
      const char *goal = w->kind == APX_DEP_WAIT_COMPLETION ? "it had to complete with exit status 0"
                                                            : "before it was healthy";
      if (w->kind == APX_DEP_WAIT_COMPLETION) snprintf(why, nwhy, "%s ended with %s; %s", v->name, st, goal);
      else snprintf(why, nwhy, "%s ended with %s %s", v->name, st, goal);
    }
    return APX_WAIT_FAILED;
  }
  return all ? APX_WAIT_READY : APX_WAIT_PENDING;
}

static apx_wait_status apx_waits_of(const apx_run_unit *u, char *why, size_t nwhy) {
  apx_wait_status st = APX_WAIT_READY;
  for (size_t i = 0; i < u->nwaits; i++) {
    apx_wait_status s = apx_wait_one(&u->waits[i], why, nwhy);
    if (s == APX_WAIT_FAILED) return s;
    if (s == APX_WAIT_PENDING) st = APX_WAIT_PENDING;
  }
  return st;
}

/* Every unit that waits on u is down: u may stop. */
static bool apx_dependents_down(const apx_run_unit *u) {
  for (size_t i = 0; i < u->ndependents; i++) {
    apx_run_state s = u->dependents[i]->state;
    if (!apx_run_state_terminal(s)) return false;
  }
  return true;
}

/* One look at the whole run; queues what follows. */
static void apx_settle(apx_run_fsm *f) {
  for (size_t i = 0; i < f->nunits; i++) {
    apx_run_unit *u = f->units[i];
    if (f->stopping) {
      if (!u->stop_sent && !apx_run_state_terminal(u->state) && apx_dependents_down(u)) {
        u->stop_sent = true;
        apx_enqueue(f, u, APX_EV_STOP);
      }
      continue;
    }
    if (u->state != APX_ST_WAITING) continue;
    char why[sizeof u->why];
    why[0] = '\0';
    switch (apx_waits_of(u, why, sizeof why)) {
    case APX_WAIT_READY: apx_enqueue(f, u, APX_EV_DEPS_READY); break;
    case APX_WAIT_FAILED:
      snprintf(u->why, sizeof u->why, "not started: %s", why);
      apx_enqueue(f, u, APX_EV_DEP_FAILED);
      break;
    case APX_WAIT_PENDING: break;
    }
  }
}

/* Processes the queue, then looks at the whole run, until nothing moves. */
static void apx_drain(apx_run_fsm *f) {
  if (f->draining) return;
  f->draining = true;
  for (;;) {
    while (f->qlen) {
      apx_run_qitem it = f->q[f->qhead];
      f->qhead = (f->qhead + 1) % f->qcap;
      f->qlen--;
      apx_dispatch(f, it.u, it.ev);
    }
    apx_settle(f);
    if (!f->qlen) break;
  }
  f->draining = false;
}

void apx_run_fsm_post(apx_run_fsm *f, apx_run_unit *u, apx_run_event ev) {
  apx_enqueue(f, u, ev);
  apx_drain(f);
}

void apx_run_fsm_start_all(apx_run_fsm *f) {
  for (size_t i = 0; i < f->nunits; i++)
    if (!f->units[i]->manual) apx_enqueue(f, f->units[i], APX_EV_START);
  apx_drain(f);
}

void apx_run_fsm_stop_all(apx_run_fsm *f) {
  f->stopping = true;
  apx_drain(f); /* the settle step sends STOP in reverse wait order */
}

bool apx_run_fsm_done(const apx_run_fsm *f) {
  for (size_t i = 0; i < f->nunits; i++)
    if (!apx_run_state_terminal(f->units[i]->state)) return false;
  return true;
}

static bool apx_unit_settled(const apx_run_unit *u, unsigned depth) {
  /* A crash loop (EXITED, restart pending) is as far as that unit gets. */
  if (apx_run_unit_ready(u) || apx_run_state_terminal(u->state) || u->state == APX_ST_UNHEALTHY ||
      u->state == APX_ST_EXITED)
    return true;
  if (u->state == APX_ST_NOT_STARTED && u->manual) return true;
  if (u->state != APX_ST_WAITING || depth > 64) return false;
  /* Waiting on something that is stuck (unhealthy, crash-looping) counts as settled. */
  for (size_t i = 0; i < u->nwaits; i++)
    for (size_t k = 0; k < u->waits[i].n; k++) {
      const apx_run_unit *v = u->waits[i].units[k];
      if (v->state == APX_ST_EXITED || v->state == APX_ST_UNHEALTHY) return true;
      if (v->state == APX_ST_NOT_STARTED && v->manual) return true;
      if (v->state == APX_ST_WAITING && apx_unit_settled(v, depth + 1)) return true;
    }
  return false;
}

bool apx_run_fsm_settled(const apx_run_fsm *f) {
  for (size_t i = 0; i < f->nunits; i++)
    if (!apx_unit_settled(f->units[i], 0)) return false;
  return true;
}

void apx_run_fsm_link(apx_run_fsm *f, apx_arena *a) {
  for (size_t i = 0; i < f->nunits; i++) {
    apx_run_unit *u = f->units[i];
    for (size_t k = 0; k < u->nwaits; k++)
      for (size_t j = 0; j < u->waits[k].n; j++) {
        apx_run_unit *v = u->waits[k].units[j];
        bool seen = false;
        for (size_t d = 0; d < v->ndependents && !seen; d++) seen = v->dependents[d] == u;
        if (!seen) APX_VEC_PUSH(a, v->dependents, v->ndependents, v->capdependents, u);
      }
  }
}
