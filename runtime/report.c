/* What run mode tells the user: the plan with every URL before anything
 * starts, each change of state as it happens, a summary once everything
 * has got as far as it will ("up"), and one after the stop. Errors found
 * before the start go to stderr in the compiler's style (error, then what
 * to do); everything during the run goes to stdout between the services'
 * lines, so that one stream tells the whole story in order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "monitor.h"
#include "run_internal.h"

#define GREEN "\033[32m"
#define RED "\033[1;31m"
#define YELLOW "\033[33m"
#define BOLD "\033[1m"
#define DIM "\033[2m"
#define RESET "\033[0m"

void apx_run_error(apx_runtime *run, const char *hint, const char *fmt, ...) {
  bool color = !run->opts.no_color && isatty(STDERR_FILENO) && !getenv("NO_COLOR");
  apx_run_logs_flush(run);
  va_list ap;
  va_start(ap, fmt);
  apx_buf msg = {0};
  apx_buf_vprintf(&msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%saspirec: error:%s %s\n", color ? RED : "", color ? RESET : "", apx_buf_str(&msg));
  if (hint) fprintf(stderr, "  %s= hint:%s %s\n", color ? BOLD : "", color ? RESET : "", hint);
  /* The dashboard shows it too (once it watches: an error before the start ends the run). */
  if (run->mon) {
    apx_buf plain = {0};
    apx_run_plain(&plain, apx_buf_str(&msg));
    if (hint) {
      apx_buf_puts(&plain, "\n  hint: ");
      apx_buf_puts(&plain, hint);
    }
    apx_run_monitor_notes(run, apx_buf_str(&plain), true);
    apx_buf_free(&plain);
  }
  apx_buf_free(&msg);
}

static void apx_urls(apx_runtime *run, const apx_run_unit *u, apx_buf *b) {
  const apx_resource *r = u->res;
  for (size_t k = 0; u->ports && k < r->nendpoints; k++) {
    const apx_endpoint *e = &r->endpoints[k];
    if (b->len) apx_buf_puts(b, "  ");
    apx_buf_printf(b, "%s://localhost:%d", e->scheme ? e->scheme : "tcp", u->ports[k]);
  }
  (void)run;
}

static const char *apx_what(apx_runtime *run, const apx_run_unit *u) {
  const apx_resource *r = u->res;
  if (u->kind == APX_UNIT_CHILD)
    return apx_arena_printf(run->arena, "%s on %s", r->type ? r->type : "child", apx_ir_runner(r)->name);
  if (u->fallback) return apx_arena_printf(run->arena, "%s, local process", r->type ? r->type : "container");
  return r->type ? r->type : apx_ir_kind_name(r->kind);
}

static const char *apx_wait_kind(apx_dep_kind k) {
  switch (k) {
  case APX_DEP_WAIT_START: return "started";
  case APX_DEP_WAIT_COMPLETION: return "completed";
  default: return "healthy";
  }
}

void apx_run_report_plan(apx_runtime *run) {
  size_t w = 4;
  for (size_t i = 0; i < run->nunits; i++) w = strlen(run->units[i]->name) > w ? strlen(run->units[i]->name) : w;
  apx_run_say(run, "running %s%s%s: %zu resource%s, state in %s", apx_run_style(run, BOLD),
              run->m->app_name ? run->m->app_name : "app", apx_run_style(run, RESET), run->nunits,
              run->nunits == 1 ? "" : "s", run->state_dir);
  size_t ww = 10;
  for (size_t i = 0; i < run->nunits; i++) {
    size_t n = strlen(apx_what(run, run->units[i]));
    if (n > ww) ww = n;
  }
  for (size_t i = 0; i < run->nunits; i++) {
    const apx_run_unit *u = run->units[i];
    apx_buf urls = {0};
    apx_urls(run, u, &urls);
    if (urls.len || u->manual)
      apx_run_say(run, "  %-*s  %-*s  %s%s", (int)w, u->name, (int)ww, apx_what(run, u), apx_buf_str(&urls),
                  u->manual ? (run->mon ? "(explicit_start: start it from the dashboard)" : "(explicit_start: not started)") : "");
    else
      apx_run_say(run, "  %-*s  %s", (int)w, u->name, apx_what(run, u));
    apx_buf_free(&urls);
  }
  /* The replicas' proxy: the address clients use. */
  for (size_t i = 0; i < run->nres; i++) {
    const apx_run_res *rr = &run->res[i];
    for (size_t k = 0; rr->proxy_ports && k < rr->res->nendpoints; k++) {
      const apx_endpoint *e = &rr->res->endpoints[k];
      if (rr->proxy_ports[k])
        apx_run_say(run, "  %-*s  %-*s  %s://localhost:%d (to %zu replicas)", (int)w, rr->res->name, (int)ww, "proxy",
                    e->scheme ? e->scheme : "tcp", rr->proxy_ports[k], rr->n);
    }
  }
  for (size_t i = 0; i < run->nres; i++)
    if (run->res[i].moved_from)
      apx_run_say(run, "  %s's data: %s (linked from %s)", run->res[i].res->name, run->res[i].dir,
                  run->res[i].moved_from);
  if (run->mon && run->opts.monitor->summary) apx_run_say(run, "%s", run->opts.monitor->summary);
}

static void apx_secs(char *buf, size_t n, uint64_t ms) {
  if (ms < 10000) snprintf(buf, n, "%.2f s", (double)ms / 1000.0);
  else snprintf(buf, n, "%.0f s", (double)ms / 1000.0);
}

void apx_run_report_change(apx_runtime *run, apx_run_unit *u, apx_run_state from) {
  char t[32], st[64];
  uint64_t now = apx_run_now(run);
  switch (u->state) {
  case APX_ST_WAITING: {
    if (!u->nwaits) break;
    apx_buf b = {0};
    for (size_t i = 0; i < u->nwaits; i++)
      apx_buf_printf(&b, "%s%s (%s)", i ? ", " : "", u->waits[i].target, apx_wait_kind(u->waits[i].kind));
    apx_run_say(run, "%s: waiting for %s", u->name, apx_buf_str(&b));
    apx_buf_free(&b);
    break;
  }
  case APX_ST_RUNNING:
    if (from == APX_ST_EXITED || u->starts > 1)
      apx_run_say(run, "%s: restarted (%s, start %u)", u->name, u->proc ? u->proc->label : "", u->starts);
    else
      apx_run_say(run, "%s: started (%s)%s", u->name, u->proc ? u->proc->label : "",
                  u->nchecks ? "; waiting for its health checks" : "");
    break;
  case APX_ST_HEALTHY:
    apx_secs(t, sizeof t, now - u->started_ms);
    if (u->kind == APX_UNIT_CHILD)
      apx_run_say(run, "%s: %sready%s (%s)", u->name, apx_run_style(run, GREEN), apx_run_style(run, RESET),
                  u->db_argv ? "database created or there already" : "its server is healthy");
    else if (from == APX_ST_UNHEALTHY)
      apx_run_say(run, "%s: %shealthy%s again", u->name, apx_run_style(run, GREEN), apx_run_style(run, RESET));
    else
      apx_run_say(run, "%s: %shealthy%s (%s after start)", u->name, apx_run_style(run, GREEN),
                  apx_run_style(run, RESET), t);
    break;
  case APX_ST_UNHEALTHY:
    apx_run_say(run, "%s: %sunhealthy%s: %s", u->name, apx_run_style(run, RED), apx_run_style(run, RESET), u->why);
    break;
  case APX_ST_STOPPING:
    if (u->proc && u->proc->role != APX_PROC_MAIN)
      apx_run_say(run, "%s: stopping once its %s ends (or at the end of the grace period)", u->name,
                  u->proc->role == APX_PROC_SETUP ? "setup step" : "database creation");
    else
      apx_run_say(run, "%s: stopping (SIGTERM)", u->name);
    break;
  case APX_ST_EXITED:
    apx_secs(t, sizeof t, u->restart_delay_ms);
    apx_run_say(run, "%s: %sended%s with %s; restarting in %s (restart = %s, failure %u in a row)", u->name,
                apx_run_style(run, YELLOW), apx_run_style(run, RESET),
                apx_run_exit_text(st, sizeof st, u->exit_status, u->exit_signal), t,
                apx_ir_restart_name(u->restart), u->failures);
    break;
  case APX_ST_FINISHED:
    if (from == APX_ST_NOT_STARTED || from == APX_ST_WAITING || (from == APX_ST_STARTING && !u->ever_started)) break;
    if (from == APX_ST_EXITED) {
      apx_run_say(run, "%s: restart cancelled", u->name);
      break;
    }
    if (!u->ever_started) {
      apx_run_say(run, "%s: not started (stopped before its %s)", u->name,
                  u->has_process ? "process" : "database was ready");
      break;
    }
    if (!u->has_process) break;
    apx_run_exit_text(st, sizeof st, u->exit_status, u->exit_signal);
    if (run->fsm.stopping || u->user_stopped)
      apx_run_say(run, "%s: stopped%s (%s%s)", u->name, u->user_stopped && !run->fsm.stopping ? " from the dashboard" : "",
                  st, u->killed ? ", after the grace period" : "");
    else if (u->exit_status == 0 && u->exit_signal == 0)
      apx_run_say(run, "%s: %sfinished%s (%s)", u->name, apx_run_style(run, GREEN), apx_run_style(run, RESET), st);
    else
      apx_run_say(run, "%s: %sended%s with %s; not restarted (restart = %s)%s", u->name, apx_run_style(run, RED),
                  apx_run_style(run, RESET), st, apx_ir_restart_name(u->restart),
                  u->restart == APX_RESTART_NO ? "; see its log above" : "");
    break;
  case APX_ST_FAILED_TO_START:
    apx_run_say(run, "%s: %sfailed to start%s: %s", u->name, apx_run_style(run, RED), apx_run_style(run, RESET),
                u->why);
    break;
  default: break;
  }
}

static const char *apx_status(apx_runtime *run, const apx_run_unit *u) {
  char st[64];
  switch (u->state) {
  case APX_ST_HEALTHY: return u->kind == APX_UNIT_CHILD ? "ready" : "healthy";
  case APX_ST_RUNNING: return u->nchecks ? "running (not healthy yet)" : "running";
  case APX_ST_FINISHED:
    apx_run_exit_text(st, sizeof st, u->exit_status, u->exit_signal);
    if (!u->ever_started) return "not started";
    if (!u->has_process) return "stopped";
    return apx_arena_printf(run->arena, "%s (%s)", u->stop_sent ? (u->killed ? "killed" : "stopped") : "finished",
                            st);
  case APX_ST_FAILED_TO_START: return apx_arena_printf(run->arena, "failed to start: %s", u->why);
  case APX_ST_UNHEALTHY: return apx_arena_printf(run->arena, "unhealthy: %s", u->why);
  case APX_ST_EXITED: return "restarting";
  case APX_ST_WAITING: return "waiting";
  case APX_ST_NOT_STARTED: return u->manual ? "not started (explicit_start)" : "not started";
  default: return apx_run_state_name(u->state);
  }
}

static void apx_table(apx_runtime *run) {
  size_t w = 4, sw = 7;
  for (size_t i = 0; i < run->nunits; i++) {
    const apx_run_unit *u = run->units[i];
    if (strlen(u->name) > w) w = strlen(u->name);
    size_t s = strlen(apx_status(run, u));
    if (s > sw && s < 40) sw = s;
  }
  for (size_t i = 0; i < run->nunits; i++) {
    const apx_run_unit *u = run->units[i];
    apx_buf urls = {0};
    if (!apx_run_state_terminal(u->state)) apx_urls(run, u, &urls);
    if (urls.len) apx_run_say(run, "  %-*s  %-*s  %s", (int)w, u->name, (int)sw, apx_status(run, u), urls.data);
    else apx_run_say(run, "  %-*s  %s", (int)w, u->name, apx_status(run, u));
    apx_buf_free(&urls);
  }
}

void apx_run_report_up(apx_runtime *run) {
  bool bad = false;
  for (size_t i = 0; i < run->nunits; i++) {
    apx_run_state s = run->units[i]->state;
    if (s == APX_ST_FAILED_TO_START || s == APX_ST_UNHEALTHY || s == APX_ST_EXITED || s == APX_ST_WAITING ||
        (s == APX_ST_FINISHED && (run->units[i]->exit_status || run->units[i]->exit_signal)))
      bad = true;
  }
  char t[32];
  apx_secs(t, sizeof t, apx_run_now(run));
  apx_run_say(run, "%s%s %s%s in %s; Ctrl-C stops it:", apx_run_style(run, bad ? RED : BOLD),
              run->m->app_name ? run->m->app_name : "app", bad ? "started with problems" : "is up",
              apx_run_style(run, RESET), t);
  apx_table(run);
  if (run->mon && run->opts.monitor->summary) apx_run_say(run, "%s", run->opts.monitor->summary);
}

void apx_run_report_stopped(apx_runtime *run) {
  char t[32];
  apx_secs(t, sizeof t, apx_run_now(run) - run->stop_t0);
  if (run->stopped_by_signal) apx_run_say(run, "stopped in %s:", t);
  else apx_run_say(run, "nothing is left running (after %s):", t);
  apx_table(run);
}
