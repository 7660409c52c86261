/* Health checks: tcp (the port accepts a connection), http (a GET answers
 * 2xx or 3xx), exec (a command exits 0) and log (a PCRE2 pattern matches a
 * line of the output). A unit is healthy when every one of its checks
 * passes, and unhealthy once one has failed `retries` times in a row after
 * `start_period`.
 *
 * Until a check first passes it is tried often (10, 20, 40, 80 ms, then
 * every 100 ms), so that start-up is not slowed by the interval; failures
 * count at most once per interval, so that does not make anything
 * unhealthy sooner. Once healthy, checks run at a slower pace (interval × 5,
 * at most 30 s) to notice when it stops being healthy; after a failure they
 * return to `interval`.
 *
 * HTTP: a small non-blocking HTTP/1.1 GET on a libuv TCP handle rather
 * than libcurl. A probe only ever asks one plain-HTTP question of a process
 * on 127.0.0.1 and reads the status line; hooking curl's multi interface
 * into the loop takes as much code as this, and costs memory and a
 * resolver per probe, which matters with a hundred resources (the goal is
 * under 10 MB for aspirec). The limit: an `https` endpoint is checked by
 * connecting only (no TLS, no status); doc/run-mode.md says so. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run_internal.h"

typedef struct apx_run_attempt apx_run_attempt;

struct apx_run_probe {
  apx_runtime *run;
  apx_run_unit *unit;
  const apx_health *h;
  int port;
  bool tls; /* an https endpoint: connect only */
  char **argv;
  pcre2_code *re;
  pcre2_match_data *md;
  uv_timer_t timer;
  bool timer_init, on, passing, matched, ever_passed;
  unsigned fails, attempts;
  uint64_t on_at, counted_at; /* when checks began; when a failure last counted */
  apx_run_attempt *inflight;
  char why[320];
};

struct apx_run_attempt {
  apx_run_probe *probe; /* NULL once the probe no longer waits for it */
  apx_runtime *run;
  uv_timer_t timeout;
  uv_tcp_t tcp, tcp6;
  uv_connect_t conn, conn6;
  uv_write_t wr;
  uv_process_t proc;
  bool is_tcp, is_tcp6, is_proc, done, exited;
  void *xh; /* an exec inside a container, through its driver (cancelled if it is still on) */
  const apx_run_driver *xdrv;
  int err4; /* why 127.0.0.1 refused, when ::1 is tried next */
  int handles;
  pid_t pid;
  char req[1024];
  char resp[256];
  size_t rlen;
};

static void apx_probe_schedule(apx_run_probe *p, uint64_t delay);
static uint64_t apx_interval(const apx_run_probe *p);

static const char *apx_hpath(const apx_run_probe *p) { return p->h->path && p->h->path[0] ? p->h->path : "/"; }
static void apx_unit_evaluate(apx_run_unit *u);

/* A failure counts towards `retries` only after start_period, and at most
 * once per interval: checks tried more often while a service starts do not
 * make it unhealthy sooner than `retries` × `interval`. */
static void apx_count_failure(apx_run_probe *p) {
  uint64_t now = p->run->fsm.ops->now(p->run->fsm.ud);
  if (now < p->on_at + (uint64_t)p->h->start_period_ms) return;
  if (p->fails && now - p->counted_at < apx_interval(p) * 9 / 10) return;
  p->fails++;
  p->counted_at = now;
}

/* ---- attempts ------------------------------------------------------------------ */

static void apx_attempt_closed(uv_handle_t *h) {
  apx_run_attempt *a = h->data;
  if (--a->handles == 0) free(a);
}

static void apx_attempt_close(apx_run_attempt *a) {
  uv_close((uv_handle_t *)&a->timeout, apx_attempt_closed);
  if (a->is_tcp) uv_close((uv_handle_t *)&a->tcp, apx_attempt_closed);
  if (a->is_tcp6) uv_close((uv_handle_t *)&a->tcp6, apx_attempt_closed);
  /* A process handle closes in its exit callback: closing it earlier would
   * leave the child unreaped. */
}

static void apx_attempt_finish(apx_run_attempt *a, bool ok, const char *why) {
  if (a->done) return;
  a->done = true;
  uv_timer_stop(&a->timeout);
  apx_run_probe *p = a->probe;
  if (a->is_proc && !a->exited) kill(-a->pid, SIGKILL); /* timed out: its exit callback closes it */
  if (a->xh) a->xdrv->exec_cancel(a->xh);
  a->xh = NULL;
  apx_attempt_close(a);
  if (!p) return;
  p->inflight = NULL;
  apx_run_monitor_check(p->unit, ok, why);
  p->passing = ok;
  if (ok) p->ever_passed = true;
  if (ok) {
    p->fails = 0;
    p->why[0] = '\0';
  } else {
    apx_count_failure(p);
    snprintf(p->why, sizeof p->why, "%s", why);
  }
  apx_unit_evaluate(p->unit);
}

static void apx_attempt_timeout(uv_timer_t *t) {
  apx_run_attempt *a = t->data;
  char why[320];
  const apx_run_probe *p = a->probe;
  long ms = p ? (long)p->h->timeout_ms : 0;
  if (p && p->h->kind == APX_HEALTH_EXEC)
    snprintf(why, sizeof why, "the exec check `%s` did not finish within %ld ms", p->argv[0], ms);
  else if (p && p->h->kind == APX_HEALTH_HTTP && !p->tls)
    snprintf(why, sizeof why, "GET http://127.0.0.1:%d%s got no answer within %ld ms", p->port, apx_hpath(p), ms);
  else
    snprintf(why, sizeof why, "127.0.0.1:%d did not accept a connection within %ld ms", p ? p->port : 0, ms);
  apx_attempt_finish(a, false, why);
}

static apx_run_attempt *apx_attempt_new(apx_run_probe *p) {
  apx_run_attempt *a = calloc(1, sizeof *a);
  if (!a) abort();
  a->probe = p;
  a->run = p->run;
  uv_timer_init(&p->run->loop, &a->timeout);
  a->timeout.data = a;
  a->handles = 1;
  uint64_t to = p->h->timeout_ms > 0 ? (uint64_t)p->h->timeout_ms : 2000;
  uv_timer_start(&a->timeout, apx_attempt_timeout, to, 0);
  p->inflight = a;
  return a;
}

/* tcp and http */

static void apx_http_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)hint;
  apx_run_attempt *a = h->data;
  size_t room = sizeof a->resp - 1 - a->rlen;
  buf->base = a->resp + a->rlen;
  buf->len = room;
}

static void apx_http_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  (void)buf;
  apx_run_attempt *a = s->data;
  if (a->done) return;
  const apx_run_probe *p = a->probe;
  char why[320];
  if (n < 0 || (n == 0 && a->rlen == sizeof a->resp - 1)) {
    snprintf(why, sizeof why, "GET http://127.0.0.1:%d%s: the connection closed without an answer", p->port,
             apx_hpath(p));
    apx_attempt_finish(a, false, why);
    return;
  }
  a->rlen += (size_t)n;
  a->resp[a->rlen] = '\0';
  char *eol = strstr(a->resp, "\r\n");
  if (!eol && a->rlen < sizeof a->resp - 1) return;
  if (eol) *eol = '\0';
  int code = 0;
  if (strncmp(a->resp, "HTTP/", 5) != 0 || sscanf(a->resp, "HTTP/%*s %d", &code) != 1) {
    snprintf(why, sizeof why, "GET http://127.0.0.1:%d%s: the answer is not HTTP (\"%.60s\")", p->port, apx_hpath(p),
             a->resp);
    apx_attempt_finish(a, false, why);
    return;
  }
  bool ok = code >= 200 && code < 400;
  const char *reason = strchr(strchr(a->resp, ' ') + 1, ' ');
  snprintf(why, sizeof why, "GET http://127.0.0.1:%d%s answered %d%.80s", p->port, apx_hpath(p), code,
           reason ? reason : "");
  apx_attempt_finish(a, ok, why);
}

static void apx_http_written(uv_write_t *w, int status) {
  apx_run_attempt *a = w->data;
  if (a->done || status == 0) return;
  char why[320];
  snprintf(why, sizeof why, "GET http://127.0.0.1:%d%s: %s", a->probe->port, apx_hpath(a->probe),
           uv_strerror(status));
  apx_attempt_finish(a, false, why);
}

static void apx_tcp_connected(uv_connect_t *c, int status);

/* 127.0.0.1 refused: a server may listen on ::1 only (one that binds
 * "localhost", as Node.js does), so ask there too. */
static bool apx_try_v6(apx_run_attempt *a, int status) {
  if (status != UV_ECONNREFUSED || a->is_tcp6) return false;
  struct sockaddr_in6 sa;
  if (uv_ip6_addr("::1", a->probe->port, &sa) != 0) return false;
  uv_tcp_init(&a->run->loop, &a->tcp6);
  a->tcp6.data = a;
  a->is_tcp6 = true;
  a->handles++;
  a->err4 = status;
  a->conn6.data = a;
  return uv_tcp_connect(&a->conn6, &a->tcp6, (const struct sockaddr *)&sa, apx_tcp_connected) == 0;
}

static void apx_tcp_connected(uv_connect_t *c, int status) {
  apx_run_attempt *a = c->data;
  if (a->done) return;
  const apx_run_probe *p = a->probe;
  char why[320];
  if (status < 0 && c == &a->conn && apx_try_v6(a, status)) return;
  if (status < 0 && c == &a->conn6) status = a->err4; /* report what 127.0.0.1 said */
  if (status < 0) {
    if (p->h->kind == APX_HEALTH_HTTP && !p->tls)
      snprintf(why, sizeof why, "GET http://127.0.0.1:%d%s: %s", p->port, apx_hpath(p), uv_strerror(status));
    else
      snprintf(why, sizeof why, "127.0.0.1:%d (endpoint %s): %s", p->port, p->h->endpoint, uv_strerror(status));
    apx_attempt_finish(a, false, why);
    return;
  }
  if (p->h->kind != APX_HEALTH_HTTP || p->tls) {
    snprintf(why, sizeof why, "127.0.0.1:%d (endpoint %s) accepted a connection", p->port, p->h->endpoint);
    apx_attempt_finish(a, true, why);
    return;
  }
  int n = snprintf(a->req, sizeof a->req,
                   "GET %s HTTP/1.1\r\nHost: localhost:%d\r\nUser-Agent: aspirec-health\r\nAccept: */*\r\n"
                   "Connection: close\r\n\r\n",
                   apx_hpath(p), p->port);
  uv_buf_t b = uv_buf_init(a->req, (unsigned)(n < (int)sizeof a->req ? n : (int)sizeof a->req - 1));
  a->wr.data = a;
  uv_stream_t *s = c->handle;
  if (uv_write(&a->wr, s, &b, 1, apx_http_written) != 0 || uv_read_start(s, apx_http_alloc, apx_http_read) != 0) {
    snprintf(why, sizeof why, "GET http://127.0.0.1:%d%s: cannot send the request", p->port, apx_hpath(p));
    apx_attempt_finish(a, false, why);
  }
}

static void apx_start_tcp(apx_run_probe *p) {
  apx_run_attempt *a = apx_attempt_new(p);
  a->is_tcp = true;
  uv_tcp_init(&p->run->loop, &a->tcp);
  a->tcp.data = a;
  a->handles++;
  struct sockaddr_in sa;
  uv_ip4_addr("127.0.0.1", p->port, &sa);
  a->conn.data = a;
  int rc = uv_tcp_connect(&a->conn, &a->tcp, (const struct sockaddr *)&sa, apx_tcp_connected);
  if (rc != 0) {
    char why[160];
    snprintf(why, sizeof why, "127.0.0.1:%d: %s", p->port, uv_strerror(rc));
    apx_attempt_finish(a, false, why);
  }
}

/* exec */

static void apx_exec_closed(uv_handle_t *h) { apx_attempt_closed(h); }

static void apx_exec_exit(uv_process_t *h, int64_t status, int sig) {
  apx_run_attempt *a = h->data;
  a->exited = true;
  kill(-a->pid, SIGKILL);
  apx_run_watchdog_remove(a->run->watchdog_fd, a->pid);
  uv_close((uv_handle_t *)h, apx_exec_closed);
  if (a->done) return;
  char why[320], st[64];
  const apx_run_probe *p = a->probe;
  snprintf(why, sizeof why, "the exec check `%s` ended with %s", p ? p->argv[0] : "?",
           apx_run_exit_text(st, sizeof st, (int)status, sig));
  apx_attempt_finish(a, status == 0 && sig == 0, why);
}

void apx_run_probes_close_handle(uv_handle_t *h) {
  apx_run_attempt *a = h->data;
  if (!a->exited) kill(-a->pid, SIGKILL);
  a->exited = true;
  uv_close(h, apx_exec_closed);
}

/* The end of an exec inside a container (the driver's). */
static void apx_exec_engine_done(void *ud, long code, const char *why) {
  apx_run_attempt *a = ud;
  a->xh = NULL;
  if (a->done) return;
  char text[320];
  const apx_run_probe *p = a->probe;
  if (code >= 0)
    snprintf(text, sizeof text, "the exec check `%s` ended with exit status %ld", p ? p->argv[0] : "?", code);
  else
    snprintf(text, sizeof text, "the exec check `%s` cannot run in its container: %s", p ? p->argv[0] : "?",
             why ? why : "?");
  apx_attempt_finish(a, code == 0, text);
}

static void apx_start_exec(apx_run_probe *p) {
  apx_run_attempt *a = apx_attempt_new(p);
  apx_run_unit *u = p->unit;
  if (u->drv->exec) {
    /* Inside the container, through its engine, with the same timeout and pace as on the host. */
    a->xdrv = u->drv;
    void *h = u->drv->exec(p->run, u, p->argv, p->h->timeout_ms > 0 ? (long)p->h->timeout_ms : 2000,
                           apx_exec_engine_done, a);
    if (!a->done) a->xh = h;
    return;
  }
  uv_stdio_container_t stdio[3] = {{.flags = UV_IGNORE}, {.flags = UV_IGNORE}, {.flags = UV_IGNORE}};
  uv_process_options_t o;
  apx_run_spawn_options(&o, u, p->argv, u->envp, u->cwd, stdio, apx_exec_exit);
  a->proc.data = a;
  int rc = uv_spawn(&p->run->loop, &a->proc, &o);
  if (rc != 0) {
    a->exited = true;
    uv_close((uv_handle_t *)&a->proc, apx_exec_closed);
    a->handles++;
    char why[320];
    snprintf(why, sizeof why, "the exec check `%s` cannot run: %s", p->argv[0], uv_strerror(rc));
    apx_attempt_finish(a, false, why);
    return;
  }
  a->is_proc = true;
  a->handles++;
  a->pid = a->proc.pid;
  apx_run_watchdog_add(p->run->watchdog_fd, a->pid);
}

/* ---- probes ---------------------------------------------------------------------- */

static uint64_t apx_interval(const apx_run_probe *p) {
  return p->h->interval_ms > 0 ? (uint64_t)p->h->interval_ms : 2000;
}

static void apx_probe_tick(uv_timer_t *t) {
  apx_run_probe *p = t->data;
  if (!p->on) return;
  if (p->h->kind == APX_HEALTH_LOG) {
    if (!p->matched) {
      apx_count_failure(p);
      snprintf(p->why, sizeof p->why, "no line of its output has matched /%s/ yet", p->h->pattern);
      apx_unit_evaluate(p->unit);
    }
  } else if (!p->inflight) {
    if (p->h->kind == APX_HEALTH_EXEC) apx_start_exec(p);
    else apx_start_tcp(p);
  }
  if (!p->on) return; /* the evaluation may have stopped the probes */
  uint64_t iv = apx_interval(p), next = iv;
  if (!p->ever_passed && p->fails < (unsigned)(p->h->retries > 0 ? p->h->retries : 1) && p->h->kind != APX_HEALTH_LOG) {
    /* Until the first pass, try sooner: after 10 ms, 20, 40, 80, then
     * every 100 ms (never slower than interval). A service up in 130 ms is
     * seen healthy at 150 ms, not after 2 s; a connection attempt to
     * 127.0.0.1 costs next to nothing. */
    next = p->attempts < 3 ? (uint64_t)20 << p->attempts : 100;
    p->attempts++;
    if (next > iv) next = iv;
  } else if (p->unit->state == APX_ST_HEALTHY && p->passing) {
    next = iv * 5 > 30000 ? 30000 : iv * 5;
    if (next < iv) next = iv;
  }
  apx_probe_schedule(p, next);
}

static void apx_probe_schedule(apx_run_probe *p, uint64_t delay) {
  if (!p->timer_init) {
    uv_timer_init(&p->run->loop, &p->timer);
    p->timer.data = p;
    p->timer_init = true;
  }
  uv_timer_start(&p->timer, apx_probe_tick, delay, 0);
}

static void apx_unit_evaluate(apx_run_unit *u) {
  apx_runtime *run = u->probes ? u->probes[0].run : NULL;
  if (!run) return;
  bool all = true;
  apx_run_probe *bad = NULL;
  for (size_t i = 0; i < u->nprobes; i++) {
    apx_run_probe *p = &u->probes[i];
    if (!p->on) return;
    if (!p->passing) all = false;
    int retries = p->h->retries > 0 ? p->h->retries : 1;
    if (!p->passing && p->fails >= (unsigned)retries && !bad) bad = p;
  }
  if (all) {
    if (u->state != APX_ST_HEALTHY) apx_run_fsm_post(&run->fsm, u, APX_EV_HEALTHY);
  } else if (bad) {
    if (u->state != APX_ST_UNHEALTHY) {
      snprintf(u->why, sizeof u->why, "%s (%u checks in a row failed)", bad->why, bad->fails);
      apx_run_fsm_post(&run->fsm, u, APX_EV_UNHEALTHY);
    }
  }
}

void apx_run_probes_line(apx_run_unit *u, const char *s, size_t n) {
  for (size_t i = 0; i < u->nprobes; i++) {
    apx_run_probe *p = &u->probes[i];
    if (!p->on || p->matched || !p->re) continue;
    int rc = pcre2_match(p->re, (PCRE2_SPTR)s, n, 0, 0, p->md, NULL);
    if (rc >= 0) {
      p->matched = p->passing = true;
      p->fails = 0;
      apx_unit_evaluate(u);
    }
  }
}

static void apx_probe_detach(apx_run_probe *p) {
  if (p->inflight) {
    apx_run_attempt *a = p->inflight;
    p->inflight = NULL;
    a->probe = NULL;
    if (!a->done) {
      a->done = true;
      uv_timer_stop(&a->timeout);
      if (a->is_proc && !a->exited) kill(-a->pid, SIGKILL);
      if (a->xh) a->xdrv->exec_cancel(a->xh);
      a->xh = NULL;
      apx_attempt_close(a);
    }
  }
}

void apx_run_probes_set(apx_runtime *run, apx_run_unit *u, bool on) {
  for (size_t i = 0; i < u->nprobes; i++) {
    apx_run_probe *p = &u->probes[i];
    p->on = on;
    p->passing = p->matched = p->ever_passed = false;
    p->fails = p->attempts = 0;
    p->why[0] = '\0';
    apx_probe_detach(p);
    if (on) {
      p->on_at = p->counted_at = run->fsm.ops->now(run->fsm.ud);
      /* The first check at once (after start_period would waste it for a
       * quick service); failures before start_period are not counted. */
      apx_probe_schedule(p, p->h->kind == APX_HEALTH_LOG ? apx_interval(p) : 10);
    } else if (p->timer_init) {
      uv_timer_stop(&p->timer);
    }
  }
}

static void apx_timer_closed(uv_handle_t *h) { (void)h; }

void apx_run_probes_free(apx_runtime *run, apx_run_unit *u) {
  (void)run;
  free(u->hist); /* the results kept for a watcher (monitor.c) */
  u->hist = NULL;
  u->nhist = 0;
  for (size_t i = 0; i < u->nprobes; i++) {
    apx_run_probe *p = &u->probes[i];
    p->on = false;
    apx_probe_detach(p);
    if (p->timer_init) {
      uv_close((uv_handle_t *)&p->timer, apx_timer_closed);
      p->timer_init = false;
    }
    if (p->md) pcre2_match_data_free(p->md);
    if (p->re) pcre2_code_free(p->re);
    p->md = NULL;
    p->re = NULL;
  }
}

/* ---- plan ------------------------------------------------------------------------ */

int apx_run_probes_plan(apx_runtime *run, apx_run_unit *u) {
  const apx_resource *r = u->res;
  if (!r->nhealth) return 0;
  u->probes = APX_NEW_ARRAY(run->arena, apx_run_probe, r->nhealth);
  u->nprobes = r->nhealth;
  int rc = 0;
  for (size_t i = 0; i < r->nhealth; i++) {
    const apx_health *h = &r->health[i];
    apx_run_probe *p = &u->probes[i];
    p->run = run;
    p->unit = u;
    p->h = h;
    switch (h->kind) {
    case APX_HEALTH_TCP:
    case APX_HEALTH_HTTP: {
      const apx_endpoint *e = h->endpoint ? apx_ir_endpoint_find(r, h->endpoint) : NULL;
      if (!e) {
        apx_run_error(run, NULL, "the %s health check of '%s' names no endpoint of it ('%s')",
                      h->kind == APX_HEALTH_TCP ? "tcp" : "http", r->name, h->endpoint ? h->endpoint : "");
        rc = 1;
        break;
      }
      p->port = u->ports ? u->ports[e - r->endpoints] : 0;
      p->tls = e->scheme && strcmp(e->scheme, "https") == 0;
      break;
    }
    case APX_HEALTH_EXEC: {
      /* A container's runs inside it, through its engine (the driver's exec). */
      const apx_value *v = h->exec;
      size_t n = v && v->kind == APX_V_LIST ? v->u.list.n : 1;
      p->argv = APX_NEW_ARRAY(run->arena, char *, n + 1);
      apx_render_target t;
      apx_run_tctx tc;
      apx_run_target(&t, &tc, run, u);
      apx_buf b = {0};
      for (size_t k = 0; k < n; k++) {
        const apx_value *item = v && v->kind == APX_V_LIST ? v->u.list.items[k] : v;
        const char *why = NULL;
        apx_buf_clear(&b);
        if (!apx_render_value(&t, item, &b, &why)) {
          apx_run_error(run, NULL, "cannot compute the exec health check of '%s': %s", r->name, why ? why : "");
          rc = 1;
          break;
        }
        p->argv[k] = apx_arena_strdup(run->arena, apx_buf_str(&b));
      }
      apx_buf_free(&b);
      if (!p->argv[0] || !p->argv[0][0]) {
        apx_run_error(run, NULL, "the exec health check of '%s' is empty", r->name);
        rc = 1;
      }
      break;
    }
    case APX_HEALTH_LOG: {
      int err;
      PCRE2_SIZE off;
      p->re = pcre2_compile((PCRE2_SPTR)h->pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_MATCH_INVALID_UTF, &err,
                            &off, NULL);
      if (!p->re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        apx_run_error(run, NULL, "the log health check of '%s' is not a valid PCRE2 pattern: %s at offset %zu",
                      r->name, (const char *)msg, (size_t)off);
        rc = 1;
        break;
      }
      pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE); /* faster when available; fine without */
      p->md = pcre2_match_data_create_from_pattern(p->re, NULL);
      break;
    }
    }
  }
  return rc;
}
