/* The JSON API of resources, console logs and commands (doc/dashboard.md),
 * and what it keeps of run mode: a bounded ring of output lines per unit
 * (ring.h), streams that follow changes and lines (Server-Sent Events).
 * Streams pull from the rings at their own pace: a page that cannot keep
 * up with a resource printing 50 MB misses lines (it is told how many)
 * instead of making aspirec hold them. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ring.h"
#include "server.h"

enum {
  APX_RING_LINES = 5000,          /* per unit */
  APX_RING_BYTES = 256 * 1024,    /* per unit */
  APX_EVENT_LINES = 1000,         /* lines in one event */
  APX_EVENT_BYTES = 128 * 1024,   /* about, in one event */
  APX_PAGE_LINES = 2000,          /* lines in a reply without follow (default) */
  APX_BUSY_LINES = 100,           /* an event this long: the stream rests a tick */
};

typedef struct apx_logs_stream apx_logs_stream;
typedef struct apx_res_stream apx_res_stream;

typedef struct apx_api {
  apx_dash *d;
  size_t n;             /* units */
  size_t nr;            /* rings: one per unit, then aspirec's own (its messages about the run) */
  char **names;         /* of the rings' sources (a line names its unit, or "aspirec") */
  apx_dash_ring *rings;
  uint64_t seq;         /* of the last line, over every unit */
  size_t **waiters;     /* per unit: the units that wait on it or reference it */
  size_t *nwaiters;
  apx_logs_stream *logs;
  apx_res_stream *res;
} apx_api;

struct apx_logs_stream {
  apx_api *api;
  apx_dash_stream *s;
  long unit;          /* -1: every unit */
  uint64_t cursor;    /* the last seq sent */
  uint64_t *next_abs; /* per unit: the absolute number of the next line it has to send */
  apx_logs_stream *prev, *next;
};

struct apx_res_stream {
  apx_api *api;
  apx_dash_stream *s;
  bool all;      /* the whole list is due */
  bool *dirty;   /* per unit */
  bool any;
  apx_res_stream *prev, *next;
};

extern const apx_dash_module apx_dash_mod_api;

static apx_api *apx_api_of(apx_dash *d) { return *apx_dash_module_data(d, &apx_dash_mod_api); }

static uint64_t apx_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- JSON of a unit -------------------------------------------------------------- */

static cJSON *apx_unit_json(const apx_mon_unit *u, bool details) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", u->name);
  cJSON_AddStringToObject(o, "resource", u->resource);
  cJSON_AddStringToObject(o, "kind", u->kind);
  cJSON_AddStringToObject(o, "runsAs", u->runs_as);
  cJSON_AddStringToObject(o, "state", u->state);
  cJSON_AddStringToObject(o, "health", u->health);
  cJSON_AddNumberToObject(o, "replica", u->replica);
  cJSON_AddNumberToObject(o, "replicas", u->replicas);
  cJSON_AddBoolToObject(o, "explicitStart", u->manual);
  cJSON_AddBoolToObject(o, "terminal", u->terminal);
  if (u->started_at_ms) cJSON_AddNumberToObject(o, "startedAt", (double)u->started_at_ms);
  else cJSON_AddNullToObject(o, "startedAt");
  cJSON_AddNumberToObject(o, "stateAt", (double)u->state_at_ms);
  cJSON_AddNumberToObject(o, "starts", u->starts);
  cJSON_AddNumberToObject(o, "restarts", u->starts > 1 ? u->starts - 1 : 0);
  if (u->exited && !u->exit_signal) cJSON_AddNumberToObject(o, "exitCode", u->exit_status);
  else cJSON_AddNullToObject(o, "exitCode");
  if (u->exited && u->exit_signal) cJSON_AddNumberToObject(o, "exitSignal", u->exit_signal);
  else cJSON_AddNullToObject(o, "exitSignal");
  if (u->pid) cJSON_AddNumberToObject(o, "pid", (double)u->pid);
  else cJSON_AddNullToObject(o, "pid");
  cJSON_AddStringToObject(o, "why", u->why ? u->why : "");
  cJSON_AddStringToObject(o, "waiting", u->waiting ? u->waiting : "");
  cJSON *eps = cJSON_AddArrayToObject(o, "endpoints");
  for (size_t i = 0; i < u->nendpoints; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", u->endpoints[i].name);
    cJSON_AddStringToObject(e, "scheme", u->endpoints[i].scheme);
    cJSON_AddNumberToObject(e, "port", u->endpoints[i].port);
    if (u->endpoints[i].url) cJSON_AddStringToObject(e, "url", u->endpoints[i].url);
    else cJSON_AddNullToObject(e, "url");
    cJSON_AddItemToArray(eps, e);
  }
  cJSON *ws = cJSON_AddArrayToObject(o, "waits");
  for (size_t i = 0; i < u->nwaits; i++) {
    cJSON *w = cJSON_CreateObject();
    cJSON_AddStringToObject(w, "target", u->waits[i].target);
    cJSON_AddStringToObject(w, "kind", u->waits[i].kind);
    cJSON_AddBoolToObject(w, "met", u->waits[i].met);
    cJSON_AddItemToArray(ws, w);
  }
  cJSON *refs = cJSON_AddArrayToObject(o, "references");
  for (size_t i = 0; i < u->nrefs; i++) cJSON_AddItemToArray(refs, cJSON_CreateString(u->refs[i]));
  if (!details) return o;
  if (u->image) cJSON_AddStringToObject(o, "image", u->image);
  if (u->command) cJSON_AddStringToObject(o, "command", u->command);
  if (u->workdir) cJSON_AddStringToObject(o, "workdir", u->workdir);
  cJSON *env = cJSON_AddArrayToObject(o, "env");
  for (size_t i = 0; i < u->nenv; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", u->env[i].name);
    if (u->env[i].value) cJSON_AddStringToObject(e, "value", u->env[i].value);
    else cJSON_AddNullToObject(e, "value"); /* a secret: asked for with ?reveal=1 */
    cJSON_AddBoolToObject(e, "secret", u->env[i].secret);
    cJSON_AddItemToArray(env, e);
  }
  cJSON *cks = cJSON_AddArrayToObject(o, "checks");
  for (size_t i = 0; i < u->nchecks; i++) {
    cJSON *c = cJSON_CreateObject();
    cJSON_AddNumberToObject(c, "at", (double)u->checks[i].at_ms);
    cJSON_AddBoolToObject(c, "ok", u->checks[i].ok);
    cJSON_AddStringToObject(c, "text", u->checks[i].text);
    cJSON_AddItemToArray(cks, c);
  }
  return o;
}

static cJSON *apx_unit_of(apx_mon *m, size_t i, bool details, bool reveal) {
  apx_arena *a = apx_arena_new();
  apx_mon_unit u;
  apx_mon_snapshot(m, i, &u, a, details ? APX_MON_WITH_ENV | (reveal ? APX_MON_REVEAL : 0) : 0);
  cJSON *j = apx_unit_json(&u, details);
  apx_arena_free(a);
  return j;
}

static cJSON *apx_all_json(apx_mon *m) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "app", apx_mon_app(m));
  cJSON *list = cJSON_AddArrayToObject(o, "resources");
  apx_arena *a = apx_arena_new();
  for (size_t i = 0; i < apx_mon_count(m); i++) {
    apx_mon_unit u;
    apx_mon_snapshot(m, i, &u, a, 0);
    cJSON_AddItemToArray(list, apx_unit_json(&u, false));
    apx_arena_reset(a);
  }
  apx_arena_free(a);
  return o;
}

/* ---- resources: list, follow --------------------------------------------------------------- */

static int apx_res_fill(apx_dash_stream *s, void *ud, apx_buf *out) {
  (void)s;
  apx_res_stream *rs = ud;
  apx_mon *m = apx_dash_mon(rs->api->d);
  if (!m) return -1;
  if (rs->all) {
    rs->all = false;
    rs->any = false;
    memset(rs->dirty, 0, rs->api->n * sizeof *rs->dirty);
    apx_dash_sse(out, "resources", apx_all_json(m));
    return 0;
  }
  if (!rs->any) return 0;
  rs->any = false;
  for (size_t i = 0; i < rs->api->n; i++)
    if (rs->dirty[i]) {
      rs->dirty[i] = false;
      apx_dash_sse(out, "resource", apx_unit_of(m, i, false, false));
    }
  return 0;
}

static void apx_res_done(void *ud) {
  apx_res_stream *rs = ud;
  apx_api *api = rs->api;
  if (rs->prev) rs->prev->next = rs->next;
  else api->res = rs->next;
  if (rs->next) rs->next->prev = rs->prev;
  free(rs->dirty);
  free(rs);
}

static const apx_dash_stream_ops apx_res_ops = {apx_res_fill, apx_res_done};

static int apx_get_resources(apx_dash_req *r) {
  apx_api *api = apx_api_of(r->dash);
  apx_mon *m = apx_dash_mon(r->dash);
  if (!m) return apx_dash_reply_error(r, 503, "the run has not started");
  const char *f = apx_dash_query(r, "follow");
  if (!f || strcmp(f, "1") != 0) return apx_dash_reply_json(r, 200, apx_all_json(m));
  apx_res_stream *rs = calloc(1, sizeof *rs);
  if (!rs) abort();
  rs->api = api;
  rs->all = true;
  rs->dirty = calloc(api->n ? api->n : 1, sizeof *rs->dirty);
  if (!rs->dirty) abort();
  rs->next = api->res;
  if (rs->next) rs->next->prev = rs;
  api->res = rs;
  return apx_dash_reply_stream(r, "text/event-stream", &apx_res_ops, rs, &rs->s);
}

static void apx_api_changed(apx_dash *d, size_t unit) {
  apx_api *api = apx_api_of(d);
  if (!api || unit >= api->n) return;
  for (apx_res_stream *rs = api->res; rs; rs = rs->next) {
    rs->dirty[unit] = true;
    /* What waits on it may now be waiting for less. */
    for (size_t k = 0; k < api->nwaiters[unit]; k++) rs->dirty[api->waiters[unit][k]] = true;
    rs->any = true;
    apx_dash_stream_wake(rs->s);
  }
}

/* ---- console logs -------------------------------------------------------------------------- */

static void apx_api_line(apx_dash *d, size_t unit, const char *s, size_t n, bool eol) {
  apx_api *api = apx_api_of(d);
  if (!api || unit >= api->n) return;
  apx_dash_ring_push(&api->rings[unit], ++api->seq, apx_now_ms(), s, n, !eol);
  for (apx_logs_stream *ls = api->logs; ls; ls = ls->next)
    if (ls->unit < 0 || (size_t)ls->unit == unit) apx_dash_stream_wake(ls->s);
}

/* aspirec's own messages (apx_mon_listener.note), marked: about a unit in
 * its ring (shown with its output), about the run in aspirec's. */
static void apx_api_note(apx_dash *d, long unit, const char *s, size_t n, bool error) {
  apx_api *api = apx_api_of(d);
  if (!api || (unit >= 0 && (size_t)unit >= api->n)) return;
  size_t rg = unit < 0 ? api->n : (size_t)unit;
  apx_dash_ring_push(&api->rings[rg], ++api->seq, apx_now_ms(), s, n, false);
  apx_dash_ring_mark(&api->rings[rg], error ? APX_DASH_SYS_ERROR : APX_DASH_SYS);
  for (apx_logs_stream *ls = api->logs; ls; ls = ls->next)
    if (ls->unit < 0 || (size_t)ls->unit == rg) apx_dash_stream_wake(ls->s);
}

static cJSON *apx_line_json(apx_api *api, size_t unit, const apx_dash_line *l, apx_arena *a) {
  const char *p1, *p2;
  size_t n1, n2;
  apx_dash_ring_text(&api->rings[unit], l, &p1, &n1, &p2, &n2);
  char *t = apx_arena_alloc(a, n1 + n2 + 1);
  memcpy(t, p1, n1);
  memcpy(t + n1, p2, n2);
  t[n1 + n2] = '\0';
  /* A NUL in the output would end the string: shown as U+FFFD's stand-in. */
  for (size_t i = 0; i < n1 + n2; i++)
    if (!t[i]) t[i] = '?';
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "seq", (double)l->seq);
  cJSON_AddNumberToObject(o, "t", (double)l->at_ms);
  cJSON_AddStringToObject(o, "r", api->names[unit]);
  cJSON_AddStringToObject(o, "text", t);
  if (l->cont) cJSON_AddBoolToObject(o, "cont", true);
  if (l->sys) cJSON_AddBoolToObject(o, "sys", true);
  if (l->sys == APX_DASH_SYS_ERROR) cJSON_AddBoolToObject(o, "error", true);
  return o;
}

/* The next batch of lines after `cursor` of one unit or all (merged by
 * seq), at most max; *missed: lines gone from the rings before they were
 * sent. Advances the cursor and the per-unit positions. */
static cJSON *apx_lines_after(apx_api *api, long unit, uint64_t *cursor, uint64_t *next_abs,
                              size_t max, uint64_t *missed, bool *more) {
  cJSON *list = cJSON_CreateArray();
  apx_arena *a = apx_arena_new();
  size_t lo = unit < 0 ? 0 : (size_t)unit, hi = unit < 0 ? api->nr : (size_t)unit + 1;
  size_t *pos = calloc(api->nr, sizeof *pos);
  if (!pos) abort();
  *missed = 0;
  for (size_t i = lo; i < hi; i++) {
    apx_dash_ring *rg = &api->rings[i];
    pos[i] = apx_dash_ring_after(rg, *cursor);
    uint64_t abs = rg->dropped + pos[i];
    if (abs > next_abs[i]) *missed += abs - next_abs[i];
    next_abs[i] = abs;
  }
  size_t bytes = 0, n = 0;
  *more = false;
  for (;;) {
    size_t best = SIZE_MAX;
    uint64_t bseq = UINT64_MAX;
    for (size_t i = lo; i < hi; i++) {
      const apx_dash_line *l = apx_dash_ring_at(&api->rings[i], pos[i]);
      if (l && l->seq < bseq) {
        bseq = l->seq;
        best = i;
      }
    }
    if (best == SIZE_MAX) break;
    if (n >= max || bytes >= APX_EVENT_BYTES) {
      *more = true;
      break;
    }
    const apx_dash_line *l = apx_dash_ring_at(&api->rings[best], pos[best]);
    cJSON_AddItemToArray(list, apx_line_json(api, best, l, a));
    apx_arena_reset(a);
    bytes += l->len + 48;
    n++;
    pos[best]++;
    next_abs[best]++;
    *cursor = l->seq;
  }
  free(pos);
  apx_arena_free(a);
  return list;
}

static int apx_logs_fill(apx_dash_stream *s, void *ud, apx_buf *out) {
  apx_logs_stream *ls = ud;
  apx_api *api = ls->api;
  apx_mon *m = apx_dash_mon(api->d);
  if (!m) return -1;
  uint64_t missed;
  bool more;
  cJSON *lines = apx_lines_after(api, ls->unit, &ls->cursor, ls->next_abs, APX_EVENT_LINES, &missed, &more);
  if (missed) {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "count", (double)missed);
    apx_dash_sse(out, "dropped", o);
  }
  int n = cJSON_GetArraySize(lines);
  if (n) apx_dash_sse(out, "lines", lines);
  else cJSON_Delete(lines);
  /* A busy resource: one event per tick at most (the rest waits in the
   * ring, or is dropped from it and counted). A quiet one: at once. */
  if (more || n >= APX_BUSY_LINES) {
    apx_dash_stream_rest(s);
    return 0;
  }
  return 0;
}

static void apx_logs_done(void *ud) {
  apx_logs_stream *ls = ud;
  apx_api *api = ls->api;
  if (ls->prev) ls->prev->next = ls->next;
  else api->logs = ls->next;
  if (ls->next) ls->next->prev = ls->prev;
  free(ls->next_abs);
  free(ls);
}

static const apx_dash_stream_ops apx_logs_ops = {apx_logs_fill, apx_logs_done};

/* With ?after=SEQ the client has what came before: nothing counts as missed up to there. */
static void apx_positions_at(apx_api *api, uint64_t after, uint64_t *next_abs) {
  if (!after) return;
  for (size_t i = 0; i < api->nr; i++)
    next_abs[i] = api->rings[i].dropped + apx_dash_ring_after(&api->rings[i], after);
}

static uint64_t apx_num_arg(apx_dash_req *r, const char *name, uint64_t def) {
  const char *v = apx_dash_query(r, name);
  if (!v || !*v) return def;
  char *end;
  unsigned long long x = strtoull(v, &end, 10);
  return *end ? def : (uint64_t)x;
}

/* GET …/logs: JSON, text (?format=text, a download) or a stream (?follow=1). */
static int apx_logs_reply(apx_dash_req *r, long unit) {
  apx_api *api = apx_api_of(r->dash);
  apx_mon *m = apx_dash_mon(r->dash);
  if (!m) return apx_dash_reply_error(r, 503, "the run has not started");
  uint64_t after = apx_num_arg(r, "after", 0);
  const char *f = apx_dash_query(r, "follow");
  if (f && strcmp(f, "1") == 0) {
    apx_logs_stream *ls = calloc(1, sizeof *ls);
    if (!ls) abort();
    ls->api = api;
    ls->unit = unit;
    ls->cursor = after;
    ls->next_abs = calloc(api->nr, sizeof *ls->next_abs);
    if (!ls->next_abs) abort();
    apx_positions_at(api, after, ls->next_abs);
    ls->next = api->logs;
    if (ls->next) ls->next->prev = ls;
    api->logs = ls;
    return apx_dash_reply_stream(r, "text/event-stream", &apx_logs_ops, ls, &ls->s);
  }
  uint64_t *next_abs = calloc(api->nr, sizeof *next_abs);
  if (!next_abs) abort();
  apx_positions_at(api, after, next_abs);
  uint64_t missed;
  bool more;
  size_t limit = (size_t)apx_num_arg(r, "limit", APX_PAGE_LINES);
  const char *fmt = apx_dash_query(r, "format");
  if (fmt && strcmp(fmt, "text") == 0) limit = SIZE_MAX;
  cJSON *lines = apx_lines_after(api, unit, &after, next_abs, limit, &missed, &more);
  free(next_abs);
  if (fmt && strcmp(fmt, "text") == 0) {
    /* What the download gets: "name | text" per line, as on the terminal. */
    apx_buf b = {0};
    if (missed) apx_buf_printf(&b, "(%llu older lines dropped)\n", (unsigned long long)missed);
    cJSON *l;
    cJSON_ArrayForEach(l, lines) {
      /* aspirec's own lines as the terminal shows them: "aspirec | db: healthy" */
      apx_buf_puts(&b, cJSON_IsTrue(cJSON_GetObjectItem(l, "sys")) ? "aspirec" : cJSON_GetObjectItem(l, "r")->valuestring);
      apx_buf_puts(&b, cJSON_IsTrue(cJSON_GetObjectItem(l, "cont")) ? " + " : " | ");
      apx_buf_puts(&b, cJSON_GetObjectItem(l, "text")->valuestring);
      apx_buf_putc(&b, '\n');
    }
    cJSON_Delete(lines);
    apx_dash_reply_header(r, "Content-Disposition", "attachment; filename=\"console.log\"");
    int rc = apx_dash_reply(r, 200, "text/plain; charset=utf-8", b.data ? b.data : "", b.len);
    apx_buf_free(&b);
    return rc;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "dropped", (double)missed);
  cJSON_AddNumberToObject(o, "next", (double)after);
  cJSON_AddBoolToObject(o, "more", more);
  cJSON_AddItemToObject(o, "lines", lines);
  return apx_dash_reply_json(r, 200, o);
}

static int apx_get_logs(apx_dash_req *r) { return apx_logs_reply(r, -1); }

/* ---- one resource: details, logs, commands --------------------------------------------------- */

/* "NAME" or "NAME/WHAT": the tail of a prefix route. */
static long apx_split(apx_dash_req *r, const char **what) {
  const char *t = r->tail;
  const char *slash = strchr(t, '/');
  char *name = apx_arena_strndup(r->arena, t, slash ? (size_t)(slash - t) : strlen(t));
  *what = slash ? slash + 1 : "";
  apx_mon *m = apx_dash_mon(r->dash);
  return m ? apx_mon_find(m, name) : -1;
}

static int apx_get_resource(apx_dash_req *r) {
  const char *what;
  long i = apx_split(r, &what);
  if (i < 0) return apx_dash_reply_error(r, 404, "no such resource");
  if (strcmp(what, "logs") == 0) return apx_logs_reply(r, i);
  if (strcmp(what, "start") == 0 || strcmp(what, "stop") == 0 || strcmp(what, "restart") == 0) {
    apx_dash_reply_header(r, "Allow", "POST");
    return apx_dash_reply_error(r, 405, "commands are POST requests");
  }
  if (*what) return apx_dash_reply_error(r, 404, "not found");
  const char *rev = apx_dash_query(r, "reveal");
  return apx_dash_reply_json(r, 200, apx_unit_of(apx_dash_mon(r->dash), (size_t)i, true, rev && strcmp(rev, "1") == 0));
}

/* POST …/start|stop|restart: a unit's name acts on that unit; a resource's
 * (with replicas "api", units "api", "api.1") on every replica. */
static int apx_post_resource(apx_dash_req *r) {
  const char *what;
  long i = apx_split(r, &what);
  if (i < 0) return apx_dash_reply_error(r, 404, "no such resource");
  apx_mon_cmd cmd;
  if (strcmp(what, "start") == 0) cmd = APX_MON_START;
  else if (strcmp(what, "stop") == 0) cmd = APX_MON_STOP;
  else if (strcmp(what, "restart") == 0) cmd = APX_MON_RESTART;
  else return apx_dash_reply_error(r, 404, "the commands are start, stop and restart");
  apx_mon *m = apx_dash_mon(r->dash);
  const char *slash = strchr(r->tail, '/');
  char *name = apx_arena_strndup(r->arena, r->tail, slash ? (size_t)(slash - r->tail) : strlen(r->tail));
  apx_mon_unit u;
  apx_mon_snapshot(m, (size_t)i, &u, r->arena, 0);
  bool whole = strcmp(u.resource, name) == 0 && u.replicas > 1;
  char why[256];
  int done = 0;
  for (size_t k = 0; k < apx_mon_count(m); k++) {
    if (whole) {
      apx_mon_snapshot(m, k, &u, r->arena, 0);
      if (strcmp(u.resource, name) != 0) continue;
    } else if (k != (size_t)i) {
      continue;
    }
    if (apx_mon_command(m, k, cmd, why, sizeof why) == 0) done++;
  }
  if (!done) return apx_dash_reply_error(r, 409, why);
  return apx_dash_reply_json(r, 202, apx_unit_of(m, (size_t)i, false, false));
}

/* ---- life ---------------------------------------------------------------------------------- */

static void apx_api_attach(apx_dash *d) {
  apx_api *api = calloc(1, sizeof *api);
  if (!api) abort();
  api->d = d;
  apx_mon *m = apx_dash_mon(d);
  api->n = apx_mon_count(m);
  api->nr = api->n + 1;
  size_t n = api->nr;
  api->rings = calloc(n, sizeof *api->rings);
  api->waiters = calloc(n, sizeof *api->waiters);
  api->nwaiters = calloc(n, sizeof *api->nwaiters);
  api->names = calloc(n, sizeof *api->names);
  if (!api->rings || !api->waiters || !api->nwaiters || !api->names) abort();
  for (size_t i = 0; i < api->nr; i++) apx_dash_ring_init(&api->rings[i], APX_RING_LINES, APX_RING_BYTES);
  api->names[api->n] = strdup("aspirec");
  if (!api->names[api->n]) abort();
  /* Who waits on (or references) whom: a change of one unit changes what
   * its dependents are waiting for. */
  apx_arena *a = apx_arena_new();
  for (size_t i = 0; i < api->n; i++) {
    apx_mon_unit u;
    apx_mon_snapshot(m, i, &u, a, 0);
    api->names[i] = strdup(u.name);
    if (!api->names[i]) abort();
    for (size_t k = 0; k < u.nwaits + u.nrefs; k++) {
      const char *t = k < u.nwaits ? u.waits[k].target : u.refs[k - u.nwaits];
      for (size_t j = 0; j < api->n; j++) {
        apx_mon_unit v;
        apx_mon_snapshot(m, j, &v, a, 0);
        if (strcmp(v.resource, t) != 0) continue;
        size_t *nw = realloc(api->waiters[j], (api->nwaiters[j] + 1) * sizeof *nw);
        if (!nw) abort();
        nw[api->nwaiters[j]++] = i;
        api->waiters[j] = nw;
      }
    }
    apx_arena_reset(a);
  }
  apx_arena_free(a);
  *apx_dash_module_data(d, &apx_dash_mod_api) = api;
}

static void apx_api_detach(apx_dash *d) {
  apx_api *api = apx_api_of(d);
  if (!api) return;
  /* The streams end with the server (their done() unlinks them): after that. */
  (void)api;
}

static void apx_api_free(apx_dash *d) {
  apx_api *api = apx_api_of(d);
  if (!api) return;
  while (api->logs) apx_logs_done(api->logs);
  while (api->res) apx_res_done(api->res);
  for (size_t i = 0; i < api->nr; i++) {
    apx_dash_ring_free(&api->rings[i]);
    free(api->waiters[i]);
    free(api->names[i]);
  }
  free(api->names);
  free(api->rings);
  free(api->waiters);
  free(api->nwaiters);
  free(api);
  *apx_dash_module_data(d, &apx_dash_mod_api) = NULL;
}

static const apx_dash_route apx_api_routes[] = {
    {"GET", "/api/resources", APX_DASH_AUTH, apx_get_resources, 0},
    {"GET", "/api/resources/*", APX_DASH_AUTH, apx_get_resource, 0},
    {"POST", "/api/resources/*", APX_DASH_AUTH | APX_DASH_SAME_ORIGIN, apx_post_resource, 4096},
    {"GET", "/api/logs", APX_DASH_AUTH, apx_get_logs, 0},
    {NULL, NULL, 0, NULL, 0},
};

const apx_dash_module apx_dash_mod_api = {
    .name = "resources",
    .routes = apx_api_routes,
    .attach = apx_api_attach,
    .detach = apx_api_detach,
    .free = apx_api_free,
    .changed = apx_api_changed,
    .line = apx_api_line,
    .note = apx_api_note,
};
