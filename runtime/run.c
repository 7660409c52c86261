/* apx_run(): run mode from start to end.
 *
 *   1. the state directory (locked), the units (plan.c), parameter values,
 *      ports, the fallbacks' directories, and every command and environment
 *      rendered: any problem so far is reported before anything starts;
 *   2. the watchdog is forked, then the event loop (libuv) starts every unit
 *      through the state machine (supervise.c), whose effects are the
 *      functions below: setup steps, database creation, spawns, signals,
 *      restart timers, probes;
 *   3. Ctrl-C, SIGTERM or SIGHUP stop everything in reverse wait order,
 *      SIGKILL after the grace period (a second Ctrl-C: at once); the run
 *      also ends when every unit has ended on its own;
 *   4. the summary, every handle closed, the watchdog told all is well.
 *
 * Everything of one run lives in one arena, freed at the end; the few
 * heap objects (process records, attempts of probes, buffers) are freed as
 * their libuv handles close. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "run_internal.h"

enum { APX_DEFAULT_GRACE_MS = 10000 };

bool apx_run_parse_duration(const char *s, int64_t *ms) {
  if (!s || !*s) return false;
  char *end;
  errno = 0;
  double v = strtod(s, &end);
  if (errno || end == s || v < 0) return false;
  double mul;
  if (!*end || strcmp(end, "s") == 0) mul = 1000;
  else if (strcmp(end, "ms") == 0) mul = 1;
  else if (strcmp(end, "m") == 0) mul = 60000;
  else if (strcmp(end, "h") == 0) mul = 3600000;
  else return false;
  double r = v * mul;
  if (r > 1e12) return false;
  *ms = (int64_t)r;
  return true;
}

uint64_t apx_run_now(apx_runtime *run) {
  if (!run->loop_ready) return 0;
  uv_update_time(&run->loop); /* the loop's cached time can be a whole wait old */
  return uv_now(&run->loop) - run->t0;
}

/* ---- effects of the state machine ------------------------------------------------ */

static apx_runtime *apx_of(void *ud) { return ud; }

static void apx_post(apx_runtime *run, apx_run_unit *u, apx_run_event ev) { apx_run_fsm_post(&run->fsm, u, ev); }

static void apx_setup_next(apx_runtime *run, apx_run_unit *u) {
  if (u->setup_step >= u->nsetup) {
    apx_run_setup_mark(run, u);
    apx_post(run, u, APX_EV_PREPARED);
    return;
  }
  if (apx_run_proc_spawn(run, u, APX_PROC_SETUP, u->setup[u->setup_step], u->envp, u->cwd) != 0) {
    char why[sizeof u->why];
    snprintf(why, sizeof why, "setup command %zu of %zu: %.440s", u->setup_step + 1, u->nsetup, u->why);
    snprintf(u->why, sizeof u->why, "%s", why);
    apx_post(run, u, APX_EV_PREP_FAILED);
  }
}

static void apx_db_create(apx_runtime *run, apx_run_unit *u) {
  if (apx_run_proc_spawn(run, u, APX_PROC_DB, u->db_argv, u->db_envp, u->cwd) != 0) {
    snprintf(u->why, sizeof u->why, "cannot create the database: the client %s is not installed (Debian: %s)",
             u->db_argv[0],
             strcmp(u->db_argv[0], "psql") == 0 ? "apt-get install postgresql-client"
                                                : "apt-get install mariadb-client");
    apx_post(run, u, APX_EV_PREP_FAILED);
  }
}

static void apx_db_retry_due(uv_timer_t *t) {
  apx_run_fsm *f = t->loop->data; /* the loop's data is the run's state machine */
  apx_runtime *run = apx_of(f->ud);
  apx_run_unit *u = t->data;
  if (f->stopping) apx_post(run, u, APX_EV_PREP_FAILED);
  else apx_db_create(run, u);
}

static void op_prepare(void *ud, apx_run_unit *u) {
  apx_runtime *run = apx_of(ud);
  if (u->kind == APX_UNIT_CHILD) {
    if (!u->db_argv) {
      apx_post(run, u, APX_EV_PREPARED);
      return;
    }
    apx_run_say(run, "%s: creating the database on %s", u->name, apx_ir_runner(u->res)->name);
    u->db_tries = 0;
    apx_db_create(run, u);
    return;
  }
  int c = u->drv->create ? u->drv->create(run, u) : 0;
  if (c < 0) {
    apx_post(run, u, APX_EV_PREP_FAILED);
    return;
  }
  if (c > 0) return; /* under way in the loop: apx_run_prepared() follows */
  apx_run_prepared(run, u, true);
}

void apx_run_prepared(apx_runtime *run, apx_run_unit *u, bool ok) {
  if (!ok) {
    apx_post(run, u, APX_EV_PREP_FAILED);
    return;
  }
  if (u->nsetup && !apx_run_setup_done(run, u)) {
    apx_run_say(run, "%s: running setup (%zu command%s, once)", u->name, u->nsetup, u->nsetup == 1 ? "" : "s");
    u->setup_step = 0;
    apx_setup_next(run, u);
    return;
  }
  apx_post(run, u, APX_EV_PREPARED);
}

static int op_spawn(void *ud, apx_run_unit *u) {
  apx_runtime *run = apx_of(ud);
  if (!u->has_process) return 1;
  return u->drv->start(run, u);
}

static void apx_kill_timer(uv_timer_t *t);

/* The grace period of one unit stopped by a watcher (the run goes on). */
static void apx_unit_kill_due(uv_timer_t *t) {
  apx_run_unit *u = t->data;
  if (u->state == APX_ST_STOPPING && u->proc && !u->proc->exited) {
    u->killed = true;
    apx_run_proc_signal(u->proc, SIGKILL);
  }
}

static void op_stop(void *ud, apx_run_unit *u) {
  apx_runtime *run = apx_of(ud);
  /* A setup step or a database creation is left to finish (until the
   * grace period ends): stopped halfway, an initdb leaves a data directory
   * that the idempotent setup script then takes for a finished one. */
  if (!u->proc || u->proc->role == APX_PROC_MAIN) apx_run_proc_signal(u->proc, SIGTERM);
  if (!run->fsm.stopping) { /* one unit, from the dashboard: its own grace period */
    if (!u->kill_timer) {
      u->kill_timer = APX_NEW(run->arena, uv_timer_t);
      uv_timer_init(&run->loop, u->kill_timer);
      u->kill_timer->data = u;
    }
    uv_timer_start(u->kill_timer, apx_unit_kill_due, (uint64_t)run->opts.grace_ms, 0);
    return;
  }
  if (!run->kill_timer_on) {
    run->kill_timer_on = true;
    uv_timer_start(&run->kill_timer, apx_kill_timer, (uint64_t)run->opts.grace_ms, 0);
  }
}

static void apx_restart_due(uv_timer_t *t) {
  apx_run_fsm *f = t->loop->data; /* the loop's data is the run's state machine */
  apx_run_fsm_post(f, t->data, APX_EV_RESTART_DUE);
}

static void op_schedule_restart(void *ud, apx_run_unit *u, uint64_t delay_ms) {
  apx_runtime *run = apx_of(ud);
  if (!u->restart_timer) {
    u->restart_timer = APX_NEW(run->arena, uv_timer_t);
    uv_timer_init(&run->loop, u->restart_timer);
    u->restart_timer->data = u;
  }
  uv_timer_start(u->restart_timer, apx_restart_due, delay_ms, 0);
}

static void op_cancel_restart(void *ud, apx_run_unit *u) {
  (void)ud;
  if (u->restart_timer) uv_timer_stop(u->restart_timer);
}

static void op_probes(void *ud, apx_run_unit *u, bool on) { apx_run_probes_set(apx_of(ud), u, on); }

static uint64_t op_now(void *ud) { return apx_run_now(apx_of(ud)); }

static void op_changed(void *ud, apx_run_unit *u, apx_run_state from) {
  apx_runtime *run = apx_of(ud);
  if (from == APX_ST_STOPPING && u->kill_timer) uv_timer_stop(u->kill_timer);
  apx_run_report_change(run, u, from);
  apx_run_monitor_changed(run, u);
  /* After a command from the dashboard the run lasts until Ctrl-C: what
   * was stopped there may be started again. */
  if (apx_run_fsm_done(&run->fsm) && (!run->user_commands || run->fsm.stopping)) {
    uv_stop(&run->loop); /* the final summary follows */
  } else if (!run->up_reported && !run->fsm.stopping && apx_run_fsm_settled(&run->fsm)) {
    run->up_reported = true;
    apx_run_report_up(run);
  }
}

static const apx_run_ops apx_ops = {op_prepare, op_spawn,  op_stop,    op_schedule_restart,
                                    op_cancel_restart, op_probes, op_changed, op_now};

/* ---- the end of a process -------------------------------------------------------------- */

/* The last line of a client's output: what went wrong, usually. */
static void apx_last_line(const apx_buf *b, char *out, size_t n) {
  out[0] = '\0';
  if (!b->len) return;
  size_t end = b->len;
  while (end && (b->data[end - 1] == '\n' || b->data[end - 1] == ' ')) end--;
  size_t start = end;
  while (start && b->data[start - 1] != '\n') start--;
  snprintf(out, n, "%.*s", (int)(end - start), b->data + start);
}

void apx_run_proc_done(apx_runtime *run, apx_run_proc *p) {
  apx_run_unit *u = p->unit;
  if (u->proc == p) u->proc = NULL;
  char st[64];
  apx_run_exit_text(st, sizeof st, (int)p->status, p->term_signal);
  bool ok = p->status == 0 && p->term_signal == 0;
  switch (p->role) {
  case APX_PROC_MAIN:
    u->exit_status = (int)p->status;
    u->exit_signal = p->term_signal;
    apx_post(run, u, APX_EV_EXITED);
    break;
  case APX_PROC_SETUP:
    if (ok && run->fsm.stopping) {
      /* Stopping: no further step; a finished setup still counts. */
      if (++u->setup_step == u->nsetup) apx_run_setup_mark(run, u);
      apx_post(run, u, APX_EV_PREPARED);
    } else if (ok) {
      u->setup_step++;
      apx_setup_next(run, u);
    } else {
      snprintf(u->why, sizeof u->why,
               "setup command %zu of %zu ended with %s (its output is above and in %s/logs/%s.log)",
               u->setup_step + 1, u->nsetup, st, run->state_dir, u->name);
      apx_post(run, u, APX_EV_PREP_FAILED);
    }
    break;
  case APX_PROC_DB:
    if (ok || apx_run_db_exists_ok(u, apx_buf_str(&p->capture))) {
      apx_post(run, u, APX_EV_PREPARED);
    } else if (!run->fsm.stopping && apx_run_db_starting(u, apx_buf_str(&p->capture)) && u->db_tries < 100) {
      /* A server that listens before it accepts (PostgreSQL's "the
       * database system is starting up"): the tcp check passed too early.
       * Try again shortly, for up to 20 s. */
      u->db_tries++;
      if (!u->restart_timer) {
        u->restart_timer = APX_NEW(run->arena, uv_timer_t);
        uv_timer_init(&run->loop, u->restart_timer);
        u->restart_timer->data = u;
      }
      uv_timer_start(u->restart_timer, apx_db_retry_due, 200, 0);
    } else {
      char last[256];
      apx_last_line(&p->capture, last, sizeof last);
      snprintf(u->why, sizeof u->why, "creating the database on %s failed (%s)%s%s", apx_ir_runner(u->res)->name,
               st, last[0] ? ": " : "", last);
      apx_post(run, u, APX_EV_PREP_FAILED);
    }
    break;
  }
}

/* ---- signals and the grace period ------------------------------------------------------ */

static void apx_kill_all(apx_runtime *run) {
  for (size_t i = 0; i < run->nunits; i++) {
    apx_run_unit *u = run->units[i];
    if (u->proc && !u->proc->exited) {
      u->killed = true;
      apx_run_proc_signal(u->proc, SIGKILL);
    }
  }
  /* Anything else still running: old processes draining, setup steps. */
  for (apx_run_proc *p = run->procs; p; p = p->next) apx_run_proc_signal(p, SIGKILL);
}

static void apx_kill_timer(uv_timer_t *t) {
  apx_runtime *run = t->data;
  bool any = false;
  for (size_t i = 0; i < run->nunits; i++)
    if (run->units[i]->proc && !run->units[i]->proc->exited) any = true;
  if (any) {
    char g[32];
    snprintf(g, sizeof g, "%.3g s", (double)run->opts.grace_ms / 1000.0);
    apx_run_say(run, "the grace period (%s) is over: SIGKILL to what is left", g);
  }
  apx_kill_all(run);
}

static void apx_on_signal(uv_signal_t *h, int signum) {
  apx_runtime *run = h->data;
  run->interrupts++;
  if (run->interrupts == 1) {
    run->stopped_by_signal = true;
    run->stop_t0 = apx_run_now(run);
    char g[32];
    snprintf(g, sizeof g, "%.3g s", (double)run->opts.grace_ms / 1000.0);
    apx_run_say(run, "%s: stopping everything in reverse start order (SIGKILL after %s; %s again kills at once)",
                signum == SIGINT ? "Ctrl-C" : signum == SIGTERM ? "SIGTERM" : "SIGHUP", g,
                signum == SIGINT ? "Ctrl-C" : "the same signal");
    if (!run->kill_timer_on) {
      run->kill_timer_on = true;
      uv_timer_start(&run->kill_timer, apx_kill_timer, (uint64_t)run->opts.grace_ms, 0);
    }
    apx_run_fsm_stop_all(&run->fsm);
    if (apx_run_fsm_done(&run->fsm)) uv_stop(&run->loop);
  } else if (run->interrupts == 2) {
    apx_run_say(run, "stopping at once: SIGKILL to everything");
    apx_kill_all(run);
  }
}

/* ---- teardown -------------------------------------------------------------------------- */

static void apx_noop_close(uv_handle_t *h) { (void)h; }

/* What is still open after the last wait: pipes held by something that
 * left its process group, exec checks being killed. Each is closed through
 * its owner, which frees its record in the close callback. */
static void apx_close_rest(uv_handle_t *h, void *arg) {
  apx_runtime *run = arg;
  if (uv_is_closing(h)) return;
  if (h->type == UV_NAMED_PIPE) apx_run_stream_free(h->data);
  else if (h->type == UV_PROCESS) apx_run_proc_close_handle(run, h);
  else uv_close(h, apx_noop_close);
}

static void apx_final(uv_timer_t *t) {
  apx_runtime *run = t->data;
  for (apx_run_proc *p = run->procs; p; p = p->next) p->reported = true;
  uv_walk(&run->loop, apx_close_rest, run);
}

static void apx_teardown(apx_runtime *run) {
  apx_run_monitor_close(run);
  for (int i = 0; i < 3; i++) uv_close((uv_handle_t *)&run->sig[i], apx_noop_close);
  uv_close((uv_handle_t *)&run->kill_timer, apx_noop_close);
  for (size_t i = 0; i < run->nunits; i++) {
    apx_run_unit *u = run->units[i];
    if (u->restart_timer) uv_close((uv_handle_t *)u->restart_timer, apx_noop_close);
    if (u->kill_timer) uv_close((uv_handle_t *)u->kill_timer, apx_noop_close);
    apx_run_probes_free(run, u);
  }
  apx_run_logs_close_handles(run);
  /* Output still draining and killed exec checks end by themselves in a
   * moment; whatever has not after 1.5 s is closed (the timer does not
   * keep the loop alive on its own, so a clean end does not wait for it). */
  uv_timer_t final;
  uv_timer_init(&run->loop, &final);
  final.data = run;
  uv_timer_start(&final, apx_final, 1500, 0);
  uv_unref((uv_handle_t *)&final);
  uv_run(&run->loop, UV_RUN_DEFAULT);
  if (!uv_is_closing((uv_handle_t *)&final)) uv_close((uv_handle_t *)&final, apx_noop_close);
  uv_run(&run->loop, UV_RUN_DEFAULT);
}

int apx_run(apx_module *m, const apx_run_opts *opts) {
  apx_runtime run;
  memset(&run, 0, sizeof run);
  run.m = m;
  run.arena = apx_arena_new();
  run.opts = *opts;
  if (run.opts.grace_ms <= 0) run.opts.grace_ms = APX_DEFAULT_GRACE_MS;
  run.lock_fd = -1;
  run.watchdog_fd = -1;
  run.is_root = geteuid() == 0;
  /* A closed terminal must not kill aspirec in the middle of a stop. */
  signal(SIGPIPE, SIG_IGN);

  int rc = apx_run_state_open(&run);
  if (!rc) rc = apx_run_monitor_state(&run);
  if (!rc) rc = apx_run_plan(&run);
  if (!rc) rc = apx_run_params(&run);
  for (size_t i = 0; i < run.nunits && !rc; i++)
    if (run.units[i]->drv->inspect) rc = run.units[i]->drv->inspect(&run, run.units[i]);
  if (!rc) rc = apx_run_ports(&run);
  if (!rc) rc = apx_run_state_resources(&run);
  if (!rc) rc = apx_run_render(&run);
  if (rc) goto out;
  if (!run.nunits) {
    fprintf(stderr, "aspirec: nothing to run: the program has no executable, project or container\n");
    goto out;
  }

  if (run.engine_drv && run.engine_drv->open && (rc = run.engine_drv->open(&run)) != 0) goto out;

  /* The watchdog first: fork before libuv starts threads or signal pipes. */
  if (run.engine) apx_run_watchdog_engine(run.engine_sock, run.engine_session, apx_run_engine_network(&run));
  run.watchdog_fd = apx_run_watchdog_start(run.opts.grace_ms, &run.watchdog_pid);
  if (run.watchdog_fd < 0) {
    apx_run_error(&run, NULL, "cannot start the watchdog process: %s", strerror(errno));
    rc = 2;
    goto out;
  }
  if (uv_loop_init(&run.loop) != 0) {
    apx_run_error(&run, NULL, "cannot start the event loop");
    rc = 2;
    goto out;
  }
  run.loop_ready = true;
  run.loop.data = &run.fsm;
  run.t0 = uv_now(&run.loop);
  {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    run.wall0_ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
  }
  apx_run_logs_init(&run);
  for (size_t i = 0; i < run.nunits && !rc; i++) rc = apx_run_sink_open(&run, run.units[i]);
  if (!rc) rc = apx_run_proxy_open(&run);
  uv_timer_init(&run.loop, &run.kill_timer);
  run.kill_timer.data = &run;
  static const int sigs[3] = {SIGINT, SIGTERM, SIGHUP};
  for (int i = 0; i < 3; i++) {
    uv_signal_init(&run.loop, &run.sig[i]);
    run.sig[i].data = &run;
    uv_signal_start(&run.sig[i], apx_on_signal, sigs[i]);
  }
  apx_run_fsm_init(&run.fsm, run.units, run.nunits, &apx_ops, &run);
  apx_run_fsm_link(&run.fsm, run.arena);
  if (!rc) apx_run_monitor_open(&run);
  if (!rc) {
    apx_run_report_plan(&run);
    apx_run_fsm_start_all(&run.fsm);
    /* Also when everything failed at once: this iteration clears the stop
     * request that the last change made. */
    uv_run(&run.loop, UV_RUN_DEFAULT);
    if (run.stopped_by_signal) {
      apx_run_report_stopped(&run);
    } else {
      run.stop_t0 = 0;
      apx_run_report_stopped(&run);
      for (size_t i = 0; i < run.nunits; i++) {
        const apx_run_unit *u = run.units[i];
        if (u->state == APX_ST_FAILED_TO_START || u->exit_status || u->exit_signal) rc = 1;
      }
    }
  }
  apx_run_proxy_close(&run);
  if (run.engine_drv && run.engine_drv->close) run.engine_drv->close(&run);
  apx_run_http_close(&run);
  apx_teardown(&run);
  apx_run_http_free(&run);
  apx_run_logs_flush(&run);

out:
  apx_run_proxy_close(&run); /* sockets kept for it when the run ended before it began */
  apx_run_proxy_free(&run);
  if (rc && run.engine_drv && run.engine_drv->close && !run.loop_ready) run.engine_drv->close(&run);
  if (run.loop_ready) {
    apx_run_logs_free(&run);
    if (uv_loop_close(&run.loop) != 0) fprintf(stderr, "aspirec: internal: event loop handles left open\n");
  }
  apx_run_fsm_free(&run.fsm);
  apx_run_watchdog_stop(run.watchdog_fd, run.watchdog_pid);
  apx_run_state_close(&run);
  apx_arena_free(run.arena);
  return rc;
}
