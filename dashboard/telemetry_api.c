/* The dashboard's telemetry part (doc/dashboard.md, "Telemetry"): the OTLP/HTTP
 * receiver (POST /v1/traces|logs|metrics behind the x-otlp-api-key the
 * server checks) into the store (telemetry.h), and the JSON API at
 * Aspire's dashboard paths (/api/telemetry/...) that the structured logs,
 * traces and metrics pages read. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/atomic.h"
#include "otlp.h"
#include "server.h"
#include "telemetry.h"

extern const apx_dash_module apx_dash_mod_telemetry;

enum { TEL_FOLLOW_BATCH = 500 }; /* records per fill of a following stream */

typedef struct tel_follow tel_follow;

typedef struct tel_part {
  apx_tel_store *store;
  tel_follow *follows; /* open ?follow=true streams, woken by each export */
  char *key_file;      /* STATE/dashboard-api-key while the run lasts */
} tel_part;

/* One ?follow=true reply: NDJSON, one OTLP/JSON record per line. */
struct tel_follow {
  tel_part *part;
  apx_dash_stream *s;
  bool spans;
  apx_tel_query q;
  char *resource, *trace_id, *text; /* the query's strings, owned */
  uint64_t cursor;
  tel_follow *prev, *next;
};

static tel_part *part_of(apx_dash *d) { return *apx_dash_module_data(d, &apx_dash_mod_telemetry); }
static apx_tel_store *store_of(apx_dash *d) { return part_of(d)->store; }

static int tel_init(apx_dash *d) {
  tel_part *p = calloc(1, sizeof *p);
  if (!p) return -1;
  p->store = apx_tel_new(NULL);
  *apx_dash_module_data(d, &apx_dash_mod_telemetry) = p;
  return 0;
}

static void tel_free(apx_dash *d) {
  tel_part *p = part_of(d);
  /* The server ends the streams (done) before the parts are freed. */
  apx_tel_free(p->store);
  free(p->key_file);
  free(p);
  *apx_dash_module_data(d, &apx_dash_mod_telemetry) = NULL;
}

/* The telemetry API's key for tools (x-api-key): never printed (the run
 * log keeps what is printed), but left for the user in the state
 * directory, readable by them alone, while the run lasts. */
static void tel_attach(apx_dash *d) {
  tel_part *p = part_of(d);
  const char *dir = apx_dash_state_dir(d);
  if (!dir) return;
  size_t n = strlen(dir) + sizeof "/dashboard-api-key";
  p->key_file = malloc(n);
  if (!p->key_file) abort();
  snprintf(p->key_file, n, "%s/dashboard-api-key", dir);
  char line[160];
  int len = snprintf(line, sizeof line, "%s\n", apx_dash_api_key(d));
  if (apx_atomic_write(p->key_file, line, (size_t)len, 0600) != 0) {
    fprintf(stderr, "aspirec: the dashboard cannot write %s: %s\n", p->key_file, strerror(errno));
    free(p->key_file);
    p->key_file = NULL;
  }
}

static void tel_detach(apx_dash *d) {
  tel_part *p = part_of(d);
  if (p->key_file) unlink(p->key_file);
  free(p->key_file);
  p->key_file = NULL;
}

static int tel_receive(apx_dash_req *r) {
  apx_otlp_signal sig;
  if (!apx_otlp_signal_of(r->path, &sig)) return apx_dash_reply_error(r, 404, "not found");
  apx_otlp_result res;
  apx_otlp_ingest(store_of(r->dash), sig, apx_dash_header(r, "Content-Type"), apx_dash_header(r, "Content-Encoding"),
                  r->body, r->body_len, &res);
  int rc = apx_dash_reply(r, (unsigned)res.status, res.content_type, res.body, res.body_len);
  free(res.body);
  if (res.accepted)
    for (tel_follow *f = part_of(r->dash)->follows; f; f = f->next) apx_dash_stream_wake(f->s);
  return rc;
}

static void follow_line(void *ctx, cJSON *line) {
  apx_buf *out = ctx;
  char *t = cJSON_PrintUnformatted(line);
  cJSON_Delete(line);
  if (!t) return;
  apx_buf_puts(out, t);
  apx_buf_putc(out, '\n');
  cJSON_free(t);
}

static int follow_fill(apx_dash_stream *s, void *ud, apx_buf *out) {
  tel_follow *f = ud;
  size_t n = f->spans ? apx_tel_spans_after(f->part->store, &f->q, f->cursor, TEL_FOLLOW_BATCH, &f->cursor, follow_line, out)
                      : apx_tel_logs_after(f->part->store, &f->q, f->cursor, TEL_FOLLOW_BATCH, &f->cursor, follow_line, out);
  (void)s;
  return n == TEL_FOLLOW_BATCH ? 1 : 0; /* a full batch: more now; else sleep until an export */
}

static void follow_done(void *ud) {
  tel_follow *f = ud;
  if (f->prev) f->prev->next = f->next;
  else f->part->follows = f->next;
  if (f->next) f->next->prev = f->prev;
  free(f->resource);
  free(f->trace_id);
  free(f->text);
  free(f);
}

static const apx_dash_stream_ops follow_ops = {follow_fill, follow_done};

static char *dup_or_null(const char *v) { return v ? strdup(v) : NULL; }

/* ?follow=true: what is kept first, then each new record as it comes. */
static int tel_follow_start(apx_dash_req *r, const apx_tel_query *q, bool spans) {
  tel_part *p = part_of(r->dash);
  tel_follow *f = calloc(1, sizeof *f);
  if (!f) return apx_dash_reply_error(r, 500, "out of memory");
  f->part = p;
  f->spans = spans;
  f->q = *q;
  f->q.resource = f->resource = dup_or_null(q->resource);
  f->q.trace_id = f->trace_id = dup_or_null(q->trace_id);
  f->q.text = f->text = dup_or_null(q->text);
  f->next = p->follows;
  if (p->follows) p->follows->prev = f;
  p->follows = f;
  return apx_dash_reply_stream(r, "application/x-ndjson", &follow_ops, f, &f->s);
}

static bool follow_asked(apx_dash_req *r) {
  const char *v = apx_dash_query(r, "follow");
  return v && strcasecmp(v, "true") == 0;
}

/* ?resource=&traceId=&severity=&hasError=&limit=&text=&summary= ; false
 * (and the 400 sent) when one is malformed. */
static bool tel_query(apx_dash_req *r, apx_tel_query *q, int *rc) {
  memset(q, 0, sizeof *q);
  q->has_error = -1;
  const char *v;
  if ((v = apx_dash_query(r, "resource")) && *v) q->resource = v;
  if ((v = apx_dash_query(r, "traceId")) && *v) q->trace_id = v;
  if ((v = apx_dash_query(r, "text")) && *v) q->text = v;
  if ((v = apx_dash_query(r, "severity")) && *v) {
    q->min_severity = apx_tel_severity_parse(v);
    if (q->min_severity < 0) {
      *rc = apx_dash_reply_error(r, 400, "severity: one of Trace, Debug, Information, Warning, Error, Critical");
      return false;
    }
  }
  if ((v = apx_dash_query(r, "hasError")) && *v) {
    if (strcasecmp(v, "true") == 0) q->has_error = 1;
    else if (strcasecmp(v, "false") == 0) q->has_error = 0;
    else {
      *rc = apx_dash_reply_error(r, 400, "hasError: true or false");
      return false;
    }
  }
  if ((v = apx_dash_query(r, "limit")) && *v) {
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 1 || n > 100000) {
      *rc = apx_dash_reply_error(r, 400, "limit: a number from 1 to 100000");
      return false;
    }
    q->limit = (size_t)n;
  }
  if ((v = apx_dash_query(r, "summary")) && strcasecmp(v, "true") == 0) q->summary_only = true;
  if ((v = apx_dash_query(r, "window")) && *v) {
    char *end;
    long n = strtol(v, &end, 10);
    if (*end || n < 0 || n > 86400) {
      *rc = apx_dash_reply_error(r, 400, "window: seconds, 0 (each export alone) to 86400");
      return false;
    }
    q->window_ms = n ? (int64_t)n * 1000 : -1;
  }
  return true;
}

static int tel_answer(apx_dash_req *r, cJSON *j, int status, const char *what) {
  if (!j)
    return apx_dash_reply_error(r, (unsigned)status,
                                status == 404 ? what : "traceId: 32 hex digits");
  return apx_dash_reply_json(r, 200, j);
}

static int tel_resources(apx_dash_req *r) { return apx_dash_reply_json(r, 200, apx_tel_resources_json(store_of(r->dash))); }

static int tel_logs(apx_dash_req *r) {
  apx_tel_query q;
  int rc, status = 404;
  if (!tel_query(r, &q, &rc)) return rc;
  if (follow_asked(r)) {
    cJSON *probe = apx_tel_logs_json(store_of(r->dash), &(apx_tel_query){.resource = q.resource, .trace_id = q.trace_id, .has_error = -1, .limit = 1}, &status);
    if (!probe) return tel_answer(r, NULL, status, "no such resource");
    cJSON_Delete(probe);
    return tel_follow_start(r, &q, false);
  }
  return tel_answer(r, apx_tel_logs_json(store_of(r->dash), &q, &status), status, "no such resource");
}

static int tel_spans(apx_dash_req *r) {
  apx_tel_query q;
  int rc, status = 404;
  if (!tel_query(r, &q, &rc)) return rc;
  if (follow_asked(r)) {
    cJSON *probe = apx_tel_spans_json(store_of(r->dash), &(apx_tel_query){.resource = q.resource, .trace_id = q.trace_id, .has_error = -1, .limit = 1}, &status);
    if (!probe) return tel_answer(r, NULL, status, "no such resource");
    cJSON_Delete(probe);
    return tel_follow_start(r, &q, true);
  }
  return tel_answer(r, apx_tel_spans_json(store_of(r->dash), &q, &status), status, "no such resource");
}

static int tel_traces(apx_dash_req *r) {
  apx_tel_query q;
  int rc, status = 404;
  if (!tel_query(r, &q, &rc)) return rc;
  return tel_answer(r, apx_tel_traces_json(store_of(r->dash), &q, &status), status, "no such resource");
}

/* /api/telemetry/traces/{traceId} and /api/telemetry/traces/{traceId}/logs */
static int tel_trace(apx_dash_req *r) {
  int status = 404;
  char id[40];
  const char *slash = strchr(r->tail, '/');
  size_t n = slash ? (size_t)(slash - r->tail) : strlen(r->tail);
  if (n >= sizeof id) return apx_dash_reply_error(r, 400, "traceId: 32 hex digits");
  memcpy(id, r->tail, n);
  id[n] = 0;
  if (slash && strcmp(slash, "/logs") == 0) {
    apx_tel_query q;
    int rc;
    if (!tel_query(r, &q, &rc)) return rc;
    q.trace_id = id;
    return tel_answer(r, apx_tel_logs_json(store_of(r->dash), &q, &status), status, "no such resource");
  }
  if (slash) return apx_dash_reply_error(r, 404, "not found");
  return tel_answer(r, apx_tel_trace_json(store_of(r->dash), id, &status), status, "no such trace");
}

static int tel_metrics(apx_dash_req *r) {
  apx_tel_query q;
  int rc, status = 404;
  if (!tel_query(r, &q, &rc)) return rc;
  const char *name = apx_dash_query(r, "instrument");
  if (name && *name) q.text = name;
  return tel_answer(r, apx_tel_metrics_json(store_of(r->dash), &q, &status), status, "no such resource");
}

static const apx_dash_route tel_routes[] = {
    {"POST", "/v1/traces", APX_DASH_AUTH_OTLP, tel_receive, APX_OTLP_MAX_BODY},
    {"POST", "/v1/logs", APX_DASH_AUTH_OTLP, tel_receive, APX_OTLP_MAX_BODY},
    {"POST", "/v1/metrics", APX_DASH_AUTH_OTLP, tel_receive, APX_OTLP_MAX_BODY},
    {"GET", "/api/telemetry/resources", APX_DASH_AUTH_API, tel_resources, 0},
    {"GET", "/api/telemetry/logs", APX_DASH_AUTH_API, tel_logs, 0},
    {"GET", "/api/telemetry/spans", APX_DASH_AUTH_API, tel_spans, 0},
    {"GET", "/api/telemetry/traces", APX_DASH_AUTH_API, tel_traces, 0},
    {"GET", "/api/telemetry/traces/*", APX_DASH_AUTH_API, tel_trace, 0},
    {"GET", "/api/telemetry/metrics", APX_DASH_AUTH_API, tel_metrics, 0},
    {NULL, NULL, 0, NULL, 0},
};

const apx_dash_module apx_dash_mod_telemetry = {
    .name = "telemetry",
    .routes = tel_routes,
    .init = tel_init,
    .free = tel_free,
    .attach = tel_attach,
    .detach = tel_detach};
