/* Unit tests for run mode's state machine (runtime/supervise.c) with fake
 * effects: start order for each kind of wait, failures that propagate to
 * waiting units, restart policy and back-off, stop in reverse wait order,
 * children (databases), and the small pure helpers (durations, generated
 * secrets). Real processes are tested by tests/run/ (shell tests). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/generate.h"
#include "runtime/run_internal.h"

#include "check.h"

/* ---- fake effects: a log of calls ------------------------------------------------ */

typedef struct fake {
  char log[4096];
  uint64_t now;
  int spawn_rc; /* what spawn returns for units named "bad" */
  uint64_t last_delay;
  apx_run_fsm *f;
} fake;

static void logf_(fake *k, const char *fmt, ...) {
  size_t n = strlen(k->log);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(k->log + n, sizeof k->log - n, fmt, ap);
  va_end(ap);
}

static void f_prepare(void *ud, apx_run_unit *u) { logf_(ud, "prepare %s;", u->name); }
static int f_spawn(void *ud, apx_run_unit *u) {
  fake *k = ud;
  logf_(k, "spawn %s;", u->name);
  if (strcmp(u->name, "bad") == 0) {
    snprintf(u->why, sizeof u->why, "command 'nope' not found");
    return -1;
  }
  return u->has_process ? 0 : 1;
}
static void f_stop(void *ud, apx_run_unit *u) { logf_(ud, "stop %s;", u->name); }
static void f_sched(void *ud, apx_run_unit *u, uint64_t d) {
  fake *k = ud;
  k->last_delay = d;
  logf_(k, "restart %s in %llu;", u->name, (unsigned long long)d);
}
static void f_cancel(void *ud, apx_run_unit *u) { logf_(ud, "cancel %s;", u->name); }
static void f_probes(void *ud, apx_run_unit *u, bool on) { logf_(ud, "probes %s %s;", u->name, on ? "on" : "off"); }
static void f_changed(void *ud, apx_run_unit *u, apx_run_state from) {
  (void)ud;
  (void)u;
  (void)from;
}
static uint64_t f_now(void *ud) { return ((fake *)ud)->now; }

static const apx_run_ops fops = {f_prepare, f_spawn, f_stop, f_sched, f_cancel, f_probes, f_changed, f_now};

static apx_run_unit *unit(const char *name, size_t nchecks) {
  apx_run_unit *u = calloc(1, sizeof *u);
  u->name = name;
  u->has_process = true;
  u->nchecks = nchecks;
  u->restart = APX_RESTART_NO;
  return u;
}

static void wait_on(apx_run_unit *u, apx_dep_kind kind, apx_run_unit *target) {
  u->waits = realloc(u->waits, sizeof *u->waits * (u->nwaits + 1));
  apx_run_unit **arr = malloc(sizeof *arr);
  arr[0] = target;
  u->waits[u->nwaits++] = (apx_run_wait){kind, arr, 1, target->name};
}

static void free_units(apx_run_unit **us, size_t n) {
  for (size_t i = 0; i < n; i++) {
    for (size_t k = 0; k < us[i]->nwaits; k++) free(us[i]->waits[k].units);
    free(us[i]->waits);
    free(us[i]);
  }
}

static void setup(apx_run_fsm *f, fake *k, apx_run_unit **us, size_t n, apx_arena *a) {
  memset(k, 0, sizeof *k);
  apx_run_fsm_init(f, us, n, &fops, k);
  apx_run_fsm_link(f, a);
  k->f = f;
}

static void exit_with(apx_run_fsm *f, apx_run_unit *u, int status, int sig) {
  u->exit_status = status;
  u->exit_signal = sig;
  apx_run_fsm_post(f, u, APX_EV_EXITED);
}

static void test_start_order(apx_arena *a) {
  apx_run_unit *db = unit("db", 1), *api = unit("api", 0), *mig = unit("mig", 0), *web = unit("web", 0),
               *watcher = unit("watcher", 0);
  wait_on(api, APX_DEP_WAIT_HEALTHY, db);
  wait_on(mig, APX_DEP_WAIT_START, db);
  wait_on(web, APX_DEP_WAIT_COMPLETION, mig);
  wait_on(web, APX_DEP_WAIT_HEALTHY, api);
  apx_run_unit *us[] = {db, api, mig, web, watcher};
  apx_run_fsm f;
  fake k;
  setup(&f, &k, us, 5, a);
  apx_run_fsm_start_all(&f);
  CHECK(db->state == APX_ST_STARTING && watcher->state == APX_ST_STARTING && api->state == APX_ST_WAITING &&
            mig->state == APX_ST_WAITING && web->state == APX_ST_WAITING,
        "start: units without waits start at once, in parallel; the others wait");
  apx_run_fsm_post(&f, db, APX_EV_PREPARED);
  CHECK(db->state == APX_ST_RUNNING && mig->state == APX_ST_STARTING && api->state == APX_ST_WAITING,
        "wait_for_start is met once the process runs; wait_for is not (health checks pending)");
  CHECK(strstr(k.log, "probes db on;") != NULL, "a unit with health checks starts its probes when it runs");
  apx_run_fsm_post(&f, db, APX_EV_HEALTHY);
  CHECK(db->state == APX_ST_HEALTHY && api->state == APX_ST_STARTING, "wait_for is met once healthy");
  apx_run_fsm_post(&f, api, APX_EV_PREPARED);
  CHECK(api->state == APX_ST_RUNNING && apx_run_unit_ready(api) && web->state == APX_ST_WAITING,
        "a unit without health checks counts as healthy once running; web still waits for mig to complete");
  apx_run_fsm_post(&f, mig, APX_EV_PREPARED);
  exit_with(&f, mig, 0, 0);
  CHECK(mig->state == APX_ST_FINISHED && web->state == APX_ST_STARTING,
        "wait_for_completion is met by exit status 0");
  free_units(us, 5);
  apx_run_fsm_free(&f);
}

static void test_failures(apx_arena *a) {
  apx_run_unit *job = unit("job", 0), *after = unit("after", 0), *bad = unit("bad", 0), *user = unit("user", 0),
               *chain = unit("chain", 0), *crash = unit("crash", 0), *waiter = unit("waiter", 0);
  wait_on(after, APX_DEP_WAIT_COMPLETION, job);
  wait_on(user, APX_DEP_WAIT_HEALTHY, bad);
  wait_on(chain, APX_DEP_WAIT_START, user);
  wait_on(waiter, APX_DEP_WAIT_HEALTHY, crash);
  crash->nchecks = 1;
  apx_run_unit *us[] = {job, after, bad, user, chain, crash, waiter};
  apx_run_fsm f;
  fake k;
  setup(&f, &k, us, 7, a);
  apx_run_fsm_start_all(&f);
  apx_run_fsm_post(&f, job, APX_EV_PREPARED);
  exit_with(&f, job, 3, 0);
  CHECK(job->state == APX_ST_FINISHED && after->state == APX_ST_FAILED_TO_START &&
            strstr(after->why, "job ended with exit status 3") != NULL,
        "a job that exits nonzero fails what waits for its completion, saying why (%s)", after->why);
  apx_run_fsm_post(&f, bad, APX_EV_PREPARED);
  CHECK(bad->state == APX_ST_FAILED_TO_START && user->state == APX_ST_FAILED_TO_START &&
            chain->state == APX_ST_FAILED_TO_START && strstr(user->why, "command 'nope' not found") != NULL &&
            strstr(chain->why, "user failed to start") != NULL,
        "a failed spawn fails every unit that waits on it, transitively (%s)", chain->why);
  apx_run_fsm_post(&f, crash, APX_EV_PREPARED);
  exit_with(&f, crash, 0, 9);
  CHECK(crash->state == APX_ST_FINISHED && waiter->state == APX_ST_FAILED_TO_START &&
            strstr(waiter->why, "signal SIGKILL before it was healthy") != NULL,
        "a service that ends before it was healthy fails what waits for it (%s)", waiter->why);
  CHECK(apx_run_fsm_done(&f), "the run is done when every unit is finished or failed");
  free_units(us, 7);
  apx_run_fsm_free(&f);
}

static void test_restart(apx_arena *a) {
  apx_run_unit *svc = unit("svc", 0), *always = unit("always", 0), *once = unit("once", 0);
  svc->restart = APX_RESTART_ON_FAILURE;
  always->restart = APX_RESTART_ALWAYS;
  apx_run_unit *us[] = {svc, always, once};
  apx_run_fsm f;
  fake k;
  setup(&f, &k, us, 3, a);
  apx_run_fsm_start_all(&f);
  for (size_t i = 0; i < 3; i++) apx_run_fsm_post(&f, us[i], APX_EV_PREPARED);
  uint64_t delays[4];
  for (int i = 0; i < 4; i++) {
    k.now += 100;
    exit_with(&f, svc, 1, 0);
    delays[i] = k.last_delay;
    CHECK(svc->state == APX_ST_EXITED, "on-failure: exit status 1 schedules a restart (%d)", i + 1);
    k.now += delays[i];
    apx_run_fsm_post(&f, svc, APX_EV_RESTART_DUE);
    CHECK(svc->state == APX_ST_STARTING, "a restart prepares again (%d)", i + 1);
    apx_run_fsm_post(&f, svc, APX_EV_PREPARED);
  }
  CHECK(delays[0] == 1000 && delays[1] == 2000 && delays[2] == 4000 && delays[3] == 8000,
        "back-off doubles from 1 s: %llu %llu %llu %llu", (unsigned long long)delays[0],
        (unsigned long long)delays[1], (unsigned long long)delays[2], (unsigned long long)delays[3]);
  CHECK(svc->state == APX_ST_RUNNING && svc->starts == 5, "the restart spawns again (5 starts)");
  k.now += f.stable_ms + 1;
  exit_with(&f, svc, 1, 0);
  CHECK(k.last_delay == 1000, "a process that ran for the stable period starts the back-off again at 1 s");
  CHECK(apx_run_backoff_ms(&f, 10) == 30000 && apx_run_backoff_ms(&f, 100) == 30000, "the back-off is capped");
  exit_with(&f, always, 0, 0);
  CHECK(always->state == APX_ST_EXITED, "always: even exit status 0 restarts");
  exit_with(&f, once, 1, 0);
  CHECK(once->state == APX_ST_FINISHED, "no: an exit is final");
  apx_run_fsm_stop_all(&f);
  CHECK(strstr(k.log, "cancel svc;") && strstr(k.log, "cancel always;") && svc->state == APX_ST_FINISHED,
        "stopping cancels pending restarts");
  free_units(us, 3);
  apx_run_fsm_free(&f);
}

static void test_stop_order(apx_arena *a) {
  apx_run_unit *db = unit("db", 0), *cat = unit("catalog", 0), *api = unit("api", 0), *web = unit("web", 0),
               *free_ = unit("lone", 0);
  cat->has_process = false;
  cat->kind = APX_UNIT_CHILD;
  wait_on(cat, APX_DEP_WAIT_HEALTHY, db);
  wait_on(api, APX_DEP_WAIT_HEALTHY, cat);
  wait_on(web, APX_DEP_WAIT_HEALTHY, api);
  apx_run_unit *us[] = {db, cat, api, web, free_};
  apx_run_fsm f;
  fake k;
  setup(&f, &k, us, 5, a);
  apx_run_fsm_start_all(&f);
  apx_run_fsm_post(&f, db, APX_EV_PREPARED);
  CHECK(cat->state == APX_ST_STARTING && strstr(k.log, "prepare catalog;"),
        "a child starts (creates its database) once its server is healthy");
  apx_run_fsm_post(&f, cat, APX_EV_PREPARED);
  CHECK(cat->state == APX_ST_HEALTHY && api->state == APX_ST_STARTING, "the child is ready once prepared");
  apx_run_fsm_post(&f, api, APX_EV_PREPARED);
  apx_run_fsm_post(&f, web, APX_EV_PREPARED);
  apx_run_fsm_post(&f, free_, APX_EV_PREPARED);
  k.log[0] = '\0';
  apx_run_fsm_stop_all(&f);
  CHECK(strcmp(k.log, "stop web;stop lone;") == 0, "stop: first what nothing waits on (%s)", k.log);
  exit_with(&f, web, 0, 15);
  CHECK(strcmp(k.log, "stop web;stop lone;stop api;") == 0, "then what waited for it (%s)", k.log);
  exit_with(&f, api, 0, 15);
  CHECK(cat->state == APX_ST_FINISHED && strstr(k.log, "stop db;"), "a child needs no signal; then its server");
  CHECK(!apx_run_fsm_done(&f), "not done while db and lone run");
  exit_with(&f, db, 0, 0);
  exit_with(&f, free_, 0, 0);
  CHECK(apx_run_fsm_done(&f) && db->state == APX_ST_FINISHED, "done once everything stopped");
  free_units(us, 5);
  apx_run_fsm_free(&f);
}

static void test_health_states(apx_arena *a) {
  apx_run_unit *s = unit("s", 2), *w = unit("w", 0);
  wait_on(w, APX_DEP_WAIT_HEALTHY, s);
  apx_run_unit *us[] = {s, w};
  apx_run_fsm f;
  fake k;
  setup(&f, &k, us, 2, a);
  apx_run_fsm_start_all(&f);
  apx_run_fsm_post(&f, s, APX_EV_PREPARED);
  apx_run_fsm_post(&f, s, APX_EV_UNHEALTHY);
  CHECK(s->state == APX_ST_UNHEALTHY && w->state == APX_ST_WAITING && apx_run_fsm_settled(&f),
        "unhealthy before ever healthy: waiters keep waiting; the start-up is settled (summary shown)");
  apx_run_fsm_post(&f, s, APX_EV_HEALTHY);
  CHECK(s->state == APX_ST_HEALTHY && w->state == APX_ST_STARTING, "healthy after all: the waiter starts");
  apx_run_fsm_post(&f, s, APX_EV_UNHEALTHY);
  apx_run_fsm_post(&f, s, APX_EV_START);
  CHECK(s->state == APX_ST_UNHEALTHY, "events that mean nothing in a state are ignored");
  apx_run_fsm_stop_all(&f);
  CHECK(s->state == APX_ST_STARTING || s->state == APX_ST_UNHEALTHY || s->state == APX_ST_STOPPING,
        "stop waits for the waiter first (%s)", apx_run_state_name(s->state));
  apx_run_fsm_post(&f, w, APX_EV_PREPARED);
  CHECK(w->state == APX_ST_FINISHED, "a unit prepared while stopping does not spawn");
  CHECK(s->state == APX_ST_STOPPING && strstr(k.log, "probes s off;"), "then the service stops, probes off");
  free_units(us, 2);
  apx_run_fsm_free(&f);
}

static void test_helpers(void) {
  int64_t ms = 0;
  CHECK(apx_run_parse_duration("10s", &ms) && ms == 10000, "duration 10s");
  CHECK(apx_run_parse_duration("250ms", &ms) && ms == 250, "duration 250ms");
  CHECK(apx_run_parse_duration("2m", &ms) && ms == 120000, "duration 2m");
  CHECK(apx_run_parse_duration("1.5", &ms) && ms == 1500, "duration 1.5 (seconds)");
  CHECK(!apx_run_parse_duration("5 parsecs", &ms) && !apx_run_parse_duration("", &ms) &&
            !apx_run_parse_duration("-1s", &ms),
        "bad durations are refused");
  apx_generate g = {.length = 22, .lower = true, .upper = true, .numeric = true, .min_lower = 1, .min_upper = 1,
                    .min_numeric = 1};
  char a[64], b[64];
  bool classes = true;
  for (int i = 0; i < 200 && classes; i++) {
    apx_ir_generate(&g, a, 22);
    bool lo = false, up = false, dg = false, other = false;
    for (const char *p = a; *p; p++) {
      if (*p >= 'a' && *p <= 'z') lo = true;
      else if (*p >= 'A' && *p <= 'Z') up = true;
      else if (*p >= '0' && *p <= '9') dg = true;
      else other = true;
    }
    classes = strlen(a) == 22 && lo && up && dg && !other;
  }
  CHECK(classes, "generated secrets have the length, only allowed characters, and each minimum (200 draws)");
  apx_ir_generate(&g, b, 22);
  CHECK(strcmp(a, b) != 0, "two generated secrets differ");
  apx_generate s = {.length = 8, .special = true};
  apx_ir_generate(&s, a, 8);
  CHECK(strspn(a, "-_.~") == 8, "special only: drawn from -_.~ (%s)", a);
}

/* A watcher's commands (the dashboard): explicit_start, stop of one unit,
 * restart, start again after a stop. */
static void test_user_commands(apx_arena *a) {
  apx_run_unit *db = unit("db", 0), *api = unit("api", 0), *later = unit("later", 0);
  later->manual = true;
  wait_on(api, APX_DEP_WAIT_HEALTHY, db);
  apx_run_unit *us[] = {db, api, later};
  apx_run_fsm f;
  fake k;
  setup(&f, &k, us, 3, a);
  apx_run_fsm_start_all(&f);
  apx_run_fsm_post(&f, db, APX_EV_PREPARED);
  apx_run_fsm_post(&f, api, APX_EV_PREPARED);
  CHECK(later->state == APX_ST_NOT_STARTED && api->state == APX_ST_RUNNING,
        "explicit_start: not started with the others");
  CHECK(apx_run_fsm_settled(&f), "... and the run counts as up without it");
  apx_run_fsm_post(&f, later, APX_EV_USER_START);
  CHECK(later->state == APX_ST_STARTING, "a watcher's start takes it through its waits to starting (%s)",
        apx_run_state_name(later->state));
  apx_run_fsm_post(&f, later, APX_EV_PREPARED);
  CHECK(later->state == APX_ST_RUNNING && later->starts == 1, "... and it runs");
  /* Stop one unit: the others go on. */
  k.log[0] = '\0';
  apx_run_fsm_post(&f, db, APX_EV_USER_STOP);
  CHECK(db->state == APX_ST_STOPPING && strstr(k.log, "stop db;") && api->state == APX_ST_RUNNING,
        "a watcher's stop signals that unit only");
  exit_with(&f, db, 0, 15);
  CHECK(db->state == APX_ST_FINISHED && db->user_stopped && !f.stopping, "... it finishes; the run is not stopping");
  apx_run_fsm_post(&f, db, APX_EV_USER_START);
  CHECK(db->state == APX_ST_STARTING, "a stopped unit starts again (%s)", apx_run_state_name(db->state));
  apx_run_fsm_post(&f, db, APX_EV_PREPARED);
  CHECK(db->state == APX_ST_RUNNING && db->starts == 2, "... a second start");
  /* Restart: stop, then start once down. */
  db->restart_asked = true;
  apx_run_fsm_post(&f, db, APX_EV_USER_STOP);
  CHECK(db->state == APX_ST_STOPPING, "restart: first a stop");
  exit_with(&f, db, 0, 15);
  CHECK(db->state == APX_ST_STARTING && !db->restart_asked, "... then it waits and starts again (%s)",
        apx_run_state_name(db->state));
  apx_run_fsm_post(&f, db, APX_EV_PREPARED);
  CHECK(db->state == APX_ST_RUNNING && db->starts == 3, "... and runs: three starts");
  /* A unit waiting for a stopped one: stopped while waiting. */
  apx_run_fsm_post(&f, api, APX_EV_USER_STOP);
  exit_with(&f, api, 0, 15);
  CHECK(api->state == APX_ST_FINISHED, "api stopped");
  apx_run_fsm_post(&f, db, APX_EV_USER_STOP);
  apx_run_fsm_post(&f, api, APX_EV_USER_START);
  CHECK(api->state == APX_ST_WAITING, "started while db stops: api waits");
  apx_run_fsm_post(&f, api, APX_EV_USER_STOP);
  CHECK(api->state == APX_ST_FINISHED, "a waiting unit stops at once");
  /* Meaningless commands are ignored by the table. */
  apx_run_fsm_post(&f, later, APX_EV_USER_START);
  CHECK(later->state == APX_ST_RUNNING && later->starts == 1, "a start of a running unit does nothing");
  /* Shutdown still stops everything. */
  apx_run_fsm_stop_all(&f);
  exit_with(&f, later, 0, 15);
  exit_with(&f, db, 0, 15);
  CHECK(apx_run_fsm_done(&f), "shutdown after commands ends every unit");
  free_units(us, 3);
  apx_run_fsm_free(&f);
}

int main(void) {
  apx_arena *a = apx_arena_new();
  test_user_commands(a);
  test_start_order(a);
  test_failures(a);
  test_restart(a);
  test_stop_order(a);
  test_health_states(a);
  test_helpers();
  apx_arena_free(a);
  printf("# %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
