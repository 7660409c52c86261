/* The telemetry store: structured logs, spans (grouped into traces) and
 * metrics received over OTLP, per resource (service.name +
 * service.instance.id), in bounded memory with Aspire's limits. What a limit
 * pushes out is counted per resource and shown. Knows nothing of HTTP or of
 * the wire formats (otlp.c decodes into the apx_tel_*_in structs below); the
 * queries build the JSON the API and the pages serve (telemetry_api.c).
 * Not thread-safe: the dashboard calls it from one thread. */
#ifndef APX_TELEMETRY_H
#define APX_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Aspire's dashboard limits (per resource here), and ours for metrics. */
#define APX_TEL_MAX_LOGS 10000
#define APX_TEL_MAX_TRACES 10000
#define APX_TEL_MAX_SPANS_PER_TRACE 10000
#define APX_TEL_MAX_INSTRUMENTS 500 /* per resource */
#define APX_TEL_MAX_SERIES 100      /* attribute sets per instrument */
#define APX_TEL_MAX_POINTS 300      /* recent points per series */
#define APX_TEL_MAX_ATTRS 128       /* attributes kept per record */
#define APX_TEL_MAX_RESOURCES 1000
#define APX_TEL_MAX_BUCKETS 256     /* a histogram with more: no percentiles */
#define APX_TEL_PCT_WINDOW_MS 60000 /* histograms' percentiles: over the last minute */
/* Bytes kept (records, attributes, strings, metric series), per resource and
 * in all: a span or log with large attributes cannot make the count limits
 * unbounded in memory. Beyond them the oldest logs and traces go first. */
#define APX_TEL_MAX_BYTES_PER_RESOURCE (64u << 20)
#define APX_TEL_MAX_BYTES (256u << 20)

/* An attribute value's OTLP type (AnyValue's oneof). */
typedef enum apx_tel_vtype {
  APX_TEL_STR, APX_TEL_BOOL, APX_TEL_INT, APX_TEL_DOUBLE,
  APX_TEL_BYTES, /* value: base64, as OTLP/JSON writes bytesValue */
  APX_TEL_JSON,  /* array or kvlist: value is its OTLP/JSON AnyValue text */
  APX_TEL_EMPTY
} apx_tel_vtype;

typedef struct apx_tel_kv {
  const char *key, *value; /* value in text: "true", "42", "1.5", … */
  apx_tel_vtype type;
} apx_tel_kv;

typedef struct apx_tel_store apx_tel_store;
typedef struct apx_tel_resource apx_tel_resource;

typedef struct apx_tel_limits {
  size_t logs, traces, spans_per_trace, instruments, series, points, resources;
  size_t bytes_per_resource, bytes;
} apx_tel_limits;

/* NULL limits: the defaults above. */
apx_tel_store *apx_tel_new(const apx_tel_limits *limits);
void apx_tel_free(apx_tel_store *s);

/* The resource of these resource attributes (service.name, else
 * "unknown_service"; service.instance.id), created on first use; NULL when
 * APX_TEL_MAX_RESOURCES are known (counted in apx_tel_stats). */
apx_tel_resource *apx_tel_resource_get(apx_tel_store *s, const apx_tel_kv *attrs, size_t n);

typedef struct apx_tel_scope_in {
  const char *name, *version;
} apx_tel_scope_in;

typedef struct apx_tel_event_in {
  uint64_t time;
  const char *name;
  const apx_tel_kv *attrs;
  size_t nattrs;
} apx_tel_event_in;

typedef struct apx_tel_span_in {
  uint8_t trace_id[16], span_id[8], parent_id[8];
  bool has_parent;
  const char *name, *trace_state, *status_message;
  int kind, status_code;
  uint32_t flags;
  uint64_t start, end;
  const apx_tel_kv *attrs;
  size_t nattrs;
  const apx_tel_event_in *events;
  size_t nevents;
  uint32_t nlinks, dropped_attrs, dropped_events, dropped_links;
} apx_tel_span_in;

typedef struct apx_tel_log_in {
  uint64_t time, observed;
  int severity; /* SeverityNumber 0..24 */
  const char *severity_text, *event_name;
  apx_tel_kv body; /* key unused */
  const apx_tel_kv *attrs;
  size_t nattrs;
  uint8_t trace_id[16], span_id[8];
  bool has_trace, has_span;
  uint32_t flags, dropped_attrs;
} apx_tel_log_in;

typedef enum apx_tel_mkind {
  APX_TEL_GAUGE, APX_TEL_SUM, APX_TEL_HISTOGRAM, APX_TEL_EXP_HISTOGRAM, APX_TEL_SUMMARY
} apx_tel_mkind;

typedef struct apx_tel_point_in {
  const char *name, *description, *unit;
  apx_tel_mkind kind;
  bool monotonic;
  int temporality;
  uint64_t start, time;
  double value;        /* gauge/sum: the value; histograms: sum/count */
  uint64_t count;      /* histograms, summaries */
  double sum, min, max;
  double p50, p90, p99; /* summaries: from the quantiles; NaN when unknown */
  /* Histograms: the buckets as sent (cumulative or delta, per temporality):
   * bucket i covers (bounds[i-1], bounds[i]], the first from lo, the last
   * to hi; nbounds + 1 == nbuckets. The store keeps each export's own
   * counts, so that percentiles cover a recent window (apx_tel_query). */
  const double *bounds;
  const uint64_t *buckets;
  size_t nbuckets;
  double lo, hi;
  const apx_tel_kv *attrs;
  size_t nattrs;
} apx_tel_point_in;

/* Add one record. false: refused (the store is unchanged), with *why set;
 * the caller counts it as rejected in its partial success. A record that
 * pushes out an older one is accepted (the older is counted as dropped). */
bool apx_tel_add_span(apx_tel_store *s, apx_tel_resource *r, const apx_tel_scope_in *scope,
                      const apx_tel_span_in *in, const char **why);
bool apx_tel_add_log(apx_tel_store *s, apx_tel_resource *r, const apx_tel_scope_in *scope,
                     const apx_tel_log_in *in, const char **why);
bool apx_tel_add_point(apx_tel_store *s, apx_tel_resource *r, const apx_tel_scope_in *scope,
                       const apx_tel_point_in *in, const char **why);

/* Counts, for tests and the resources list. */
typedef struct apx_tel_stats {
  size_t resources, logs, traces, spans, instruments, points;
  size_t bytes; /* accounted: what the records, their attributes and the series hold */
  uint64_t dropped_logs, dropped_traces, dropped_spans, dropped_instruments,
      dropped_series, dropped_points, dropped_resources;
  uint64_t dropped_for_bytes; /* logs and traces (of those above) that the byte budgets pushed out */
} apx_tel_stats;
/* r NULL: the whole store. */
void apx_tel_stats_get(const apx_tel_store *s, const apx_tel_resource *r, apx_tel_stats *out);
/* Bumped by every change: pages and tests poll it. */
uint64_t apx_tel_version(const apx_tel_store *s);

/* Queries. Each returns a new cJSON the caller deletes, or NULL with
 * *status 404 (unknown resource or trace) / 400 (bad argument). */
typedef struct apx_tel_query {
  const char *resource; /* service.name or "name-instance"; NULL: all */
  const char *trace_id; /* hex */
  const char *text;     /* substring of the message/name or an attribute value */
  int min_severity;     /* SeverityNumber; 0: all */
  int has_error;        /* -1 any, 0 without errors, 1 with errors only */
  size_t limit;         /* 0: the default (200 logs/spans, 100 traces) */
  bool summary_only;    /* traces: the summaries without the spans' data */
  int64_t window_ms;    /* metrics: a histogram point's percentiles cover the values recorded in
                           the window that ends at it; 0: APX_TEL_PCT_WINDOW_MS; -1: that export's only */
} apx_tel_query;

/* Aspire's level names (Trace, Debug, Information, Warning, Error,
 * Critical), case-insensitive, or a number 0..24: the lowest SeverityNumber
 * of that level; -1 when unknown. */
int apx_tel_severity_parse(const char *s);

cJSON *apx_tel_resources_json(const apx_tel_store *s);
/* {"data": {"resourceLogs": [...]}, "totalCount": N, "returnedCount": M} */
cJSON *apx_tel_logs_json(const apx_tel_store *s, const apx_tel_query *q, int *status);
/* {"data": {"resourceSpans": [...]}, totalCount, returnedCount} */
cJSON *apx_tel_spans_json(const apx_tel_store *s, const apx_tel_query *q, int *status);
/* Traces, the most recently updated first, each summarized ("traces": [{traceId, name,
 * startTimeUnixNano, durationMs, spanCount, resources, hasError}]) beside
 * the OTLP data of their spans. */
cJSON *apx_tel_traces_json(const apx_tel_store *s, const apx_tel_query *q, int *status);
cJSON *apx_tel_trace_json(const apx_tel_store *s, const char *trace_id, int *status);
/* Following (Aspire's ?follow=true): the records that match q added after
 * sequence number `after` (0: all kept), oldest first, at most max; each is
 * passed to emit as one OTLP/JSON object of its own ({"resourceLogs": [one
 * record]} or {"resourceSpans": [...]}) that emit takes. Returns how many;
 * *last becomes the sequence number of the last one seen. */
size_t apx_tel_logs_after(const apx_tel_store *s, const apx_tel_query *q, uint64_t after, size_t max,
                          uint64_t *last, void (*emit)(void *ctx, cJSON *line), void *ctx);
size_t apx_tel_spans_after(const apx_tel_store *s, const apx_tel_query *q, uint64_t after, size_t max,
                           uint64_t *last, void (*emit)(void *ctx, cJSON *line), void *ctx);

/* Instruments per resource: {"resources": [{"name", "instruments": [{"scope",
 * "name", "description", "unit", "kind", "series": [{"attributes",
 * "points": [[timeMs, value], ...]}]}]}]}; q->resource and q->text (an
 * instrument name) filter. */
cJSON *apx_tel_metrics_json(const apx_tel_store *s, const apx_tel_query *q, int *status);

/* Helpers the decoders share. */
/* The q-quantile (0..1) of a distribution given as buckets (bounds as in
 * apx_tel_point_in), linear inside the bucket as Prometheus'
 * histogram_quantile; NaN when empty. */
double apx_tel_bucket_quantile(double q, const double *bounds, const uint64_t *counts, size_t n, double lo,
                               double hi);
/* 2n hex digits into n bytes; false when not exactly that. */
bool apx_tel_hex_decode(const char *hex, uint8_t *out, size_t n);
void apx_tel_hex_encode(const uint8_t *in, size_t n, char *out /* 2n+1 */);
/* The text of a double as OTLP/JSON would carry it (shortest round trip). */
void apx_tel_double_text(double v, char *out, size_t cap);

#endif
