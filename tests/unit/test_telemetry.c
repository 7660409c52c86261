/* The telemetry store (limits, drop counters, queries) and the OTLP
 * decoders (protobuf built here with protobuf-c, OTLP/JSON bodies, gzip),
 * with malformed and mutated bodies: 400 and no crash. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "dashboard/otlp.h"
#include "dashboard/otlp_proto/otlp.pb-c.h"
#include "dashboard/telemetry.h"
#include "tests/unit/check.h"

static apx_tel_resource *res(apx_tel_store *s, const char *name, const char *inst) {
  apx_tel_kv kv[2] = {{"service.name", name, APX_TEL_STR}, {"service.instance.id", inst, APX_TEL_STR}};
  return apx_tel_resource_get(s, kv, inst ? 2 : 1);
}

static void id_of(uint8_t *id, size_t n, unsigned v) {
  memset(id, 0, n);
  id[n - 1] = (uint8_t)v;
  id[n - 2] = (uint8_t)(v >> 8);
  id[0] = 0xab;
}

static void add_span(apx_tel_store *s, apx_tel_resource *r, unsigned trace, unsigned span, unsigned parent,
                     const char *name, uint64_t start, uint64_t end, int status) {
  apx_tel_span_in in = {0};
  id_of(in.trace_id, 16, trace);
  id_of(in.span_id, 8, span);
  if (parent) {
    id_of(in.parent_id, 8, parent);
    in.has_parent = true;
  }
  in.name = name;
  in.start = start;
  in.end = end;
  in.status_code = status;
  in.kind = 2;
  apx_tel_kv kv[1] = {{"http.route", "/api/items", APX_TEL_STR}};
  in.attrs = kv;
  in.nattrs = 1;
  apx_tel_scope_in sc = {"test", "1.0"};
  const char *why = NULL;
  bool ok = apx_tel_add_span(s, r, &sc, &in, &why);
  if (!ok) printf("# add_span refused: %s\n", why);
}

static void add_log(apx_tel_store *s, apx_tel_resource *r, int sev, const char *msg) {
  apx_tel_log_in in = {0};
  in.time = 1000;
  in.severity = sev;
  in.body = (apx_tel_kv){"", msg, APX_TEL_STR};
  apx_tel_kv kv[1] = {{"order.id", "42", APX_TEL_INT}};
  in.attrs = kv;
  in.nattrs = 1;
  apx_tel_scope_in sc = {"logger", ""};
  const char *why = NULL;
  apx_tel_add_log(s, r, &sc, &in, &why);
}

static void count_line(void *ctx, cJSON *line) {
  int *n = ctx;
  if (cJSON_GetObjectItem(line, "resourceLogs") || cJSON_GetObjectItem(line, "resourceSpans")) (*n)++;
  cJSON_Delete(line);
}

static char *print(cJSON *j) {
  char *t = cJSON_PrintUnformatted(j);
  return t;
}

static int count_items(cJSON *o, const char *res_key, const char *scope_key, const char *items_key) {
  int n = 0;
  cJSON *rs, *ss;
  cJSON_ArrayForEach(rs, cJSON_GetObjectItem(cJSON_GetObjectItem(o, "data"), res_key))
    cJSON_ArrayForEach(ss, cJSON_GetObjectItem(rs, scope_key)) n += cJSON_GetArraySize(cJSON_GetObjectItem(ss, items_key));
  return n;
}

static void test_logs(void) {
  apx_tel_limits lim = {.logs = 5};
  apx_tel_store *s = apx_tel_new(&lim);
  apx_tel_resource *a = res(s, "api", NULL), *w = res(s, "web", "w1");
  CHECK(res(s, "api", NULL) == a && a != w, "a resource is found again by service.name and instance");
  char msg[32];
  for (int i = 0; i < 8; i++) {
    snprintf(msg, sizeof msg, "line %d", i);
    add_log(s, a, i % 2 ? 17 : 9, msg);
  }
  add_log(s, w, 13, "from web");
  apx_tel_stats st;
  apx_tel_stats_get(s, a, &st);
  CHECK(st.logs == 5 && st.dropped_logs == 3, "logs per resource bounded at 5, 3 dropped counted (%zu, %llu)",
        st.logs, (unsigned long long)st.dropped_logs);
  apx_tel_stats_get(s, NULL, &st);
  CHECK(st.logs == 6 && st.resources == 2, "store totals: 6 logs over 2 resources");

  int status;
  apx_tel_query q = {.resource = "api", .has_error = -1};
  cJSON *o = apx_tel_logs_json(s, &q, &status);
  CHECK(status == 200 && count_items(o, "resourceLogs", "scopeLogs", "logRecords") == 5, "logs of api: 5");
  char *t = print(o);
  CHECK(strstr(t, "\"line 3\"") && !strstr(t, "\"line 2\"") && strstr(t, "\"line 7\""),
        "the oldest lines were the ones dropped");
  CHECK(strstr(t, "\"intValue\":\"42\"") && strstr(t, "\"severityText\":\"Error\""),
        "attributes keep their type (intValue as a string); a missing severityText is Aspire's level name");
  CHECK(strstr(t, "\"line 3\"") < strstr(t, "\"line 7\""), "logs are returned oldest first");
  free(t);
  cJSON_Delete(o);

  q = (apx_tel_query){.min_severity = apx_tel_severity_parse("Error"), .has_error = -1};
  o = apx_tel_logs_json(s, &q, &status);
  CHECK(count_items(o, "resourceLogs", "scopeLogs", "logRecords") == 3, "severity=Error: 3 records (lines 3, 5, 7)");
  cJSON_Delete(o);
  q = (apx_tel_query){.text = "WEB", .has_error = -1};
  o = apx_tel_logs_json(s, &q, &status);
  CHECK(count_items(o, "resourceLogs", "scopeLogs", "logRecords") == 1, "text filter, case-insensitive: 1 record");
  cJSON_Delete(o);
  q = (apx_tel_query){.resource = "web-w1", .has_error = -1, .limit = 1};
  o = apx_tel_logs_json(s, &q, &status);
  CHECK(status == 200 && cJSON_GetObjectItem(o, "totalCount")->valueint == 1, "a resource selected by its display name");
  cJSON_Delete(o);
  q = (apx_tel_query){.resource = "nosuch", .has_error = -1};
  o = apx_tel_logs_json(s, &q, &status);
  CHECK(!o && status == 404, "an unknown resource: 404");
  q = (apx_tel_query){.trace_id = "xyz", .has_error = -1};
  o = apx_tel_logs_json(s, &q, &status);
  CHECK(!o && status == 400, "a malformed traceId: 400");
  q = (apx_tel_query){.has_error = -1, .limit = 2};
  o = apx_tel_logs_json(s, &q, &status);
  CHECK(cJSON_GetObjectItem(o, "totalCount")->valueint == 6 && cJSON_GetObjectItem(o, "returnedCount")->valueint == 2,
        "limit: totalCount 6, returnedCount 2");
  t = print(o);
  CHECK(strstr(t, "from web") && strstr(t, "line 7"), "the limit keeps the newest records");
  free(t);
  cJSON_Delete(o);
  /* following: what is kept, then only what is new */
  uint64_t cur = 0;
  int lines = 0;
  apx_tel_query fq = {.has_error = -1};
  size_t got = apx_tel_logs_after(s, &fq, 0, 4, &cur, count_line, &lines);
  got += apx_tel_logs_after(s, &fq, cur, 100, &cur, count_line, &lines);
  CHECK(got == 6 && lines == 6, "follow: the 6 kept records in two batches, one object each (%zu)", got);
  CHECK(apx_tel_logs_after(s, &fq, cur, 100, &cur, count_line, &lines) == 0, "follow: nothing new, nothing sent");
  add_log(s, w, 9, "late");
  add_log(s, a, 9, "later");
  fq.resource = "web";
  CHECK(apx_tel_logs_after(s, &fq, cur, 100, &cur, count_line, &lines) == 1, "follow with a resource: only its new record");
  CHECK(apx_tel_logs_after(s, &fq, cur, 100, &cur, count_line, &lines) == 0, "follow with a resource: then nothing");
  fq.resource = NULL;
  CHECK(apx_tel_logs_after(s, &fq, cur, 100, &cur, count_line, &lines) == 0,
        "the cursor moved past the other resource's record it did not match");
  CHECK(apx_tel_severity_parse("information") == 9 && apx_tel_severity_parse("Critical") == 21 &&
            apx_tel_severity_parse("bogus") == -1 && apx_tel_severity_parse("30") == -1,
        "severity names parse as Aspire's");
  apx_tel_free(s);
}

static void test_traces(void) {
  apx_tel_limits lim = {.traces = 3, .spans_per_trace = 4};
  apx_tel_store *s = apx_tel_new(&lim);
  apx_tel_resource *a = res(s, "frontend", NULL), *b = res(s, "backend", NULL);
  /* trace 1 spans both resources: frontend's server span, its client span, backend's server span */
  add_span(s, a, 1, 1, 0, "GET /", 1000000, 9000000, 0);
  add_span(s, a, 1, 2, 1, "GET backend", 2000000, 8000000, 0);
  add_span(s, b, 1, 3, 2, "GET /items", 3000000, 7000000, 2);
  int status;
  cJSON *o = apx_tel_trace_json(s, "ab000000000000000000000000000001", &status);
  CHECK(status == 200 && o, "a trace by its id");
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "data"), "resourceSpans")) == 2 &&
            count_items(o, "resourceSpans", "scopeSpans", "spans") == 3,
        "its 3 spans under 2 resources");
  cJSON *sum = cJSON_GetArrayItem(cJSON_GetObjectItem(o, "traces"), 0);
  char *t = print(sum);
  CHECK(strstr(t, "\"name\":\"GET /\"") && strstr(t, "\"spanCount\":3") && strstr(t, "\"durationMs\":8") &&
            strstr(t, "\"resources\":[\"frontend\",\"backend\"]") && strstr(t, "\"hasError\":true"),
        "summary: root name, 3 spans, 8 ms, frontend then backend, an error (%s)", t);
  free(t);
  t = print(o);
  CHECK(strstr(t, "\"parentSpanId\":\"ab00000000000001\"") && strstr(t, "\"startTimeUnixNano\":\"3000000\"") &&
            strstr(t, "\"status\":{\"code\":2}"),
        "spans in OTLP/JSON: hex parent id, times as strings, status code");
  free(t);
  cJSON_Delete(o);
  o = apx_tel_trace_json(s, "ab000000000000000000000000000099", &status);
  CHECK(!o && status == 404, "an unknown trace: 404");

  /* spans per trace bounded */
  for (unsigned i = 10; i < 13; i++) add_span(s, b, 1, i, 3, "extra", 3000000, 4000000, 0);
  apx_tel_stats st;
  apx_tel_stats_get(s, b, &st);
  CHECK(st.spans == 2 && st.dropped_spans == 2, "a trace keeps at most 4 spans; the rest counted dropped (%zu, %llu)",
        st.spans, (unsigned long long)st.dropped_spans);

  /* frontend gets 3 more traces: trace 1 leaves frontend, stays for backend */
  for (unsigned tr = 2; tr <= 4; tr++) add_span(s, a, tr, 100 + tr, 0, "job", tr * 10000000ull, tr * 10000000ull + 5, 0);
  apx_tel_stats_get(s, a, &st);
  CHECK(st.traces == 3 && st.dropped_traces == 1 && st.spans == 3, "frontend: 3 traces kept, 1 dropped, its spans with it");
  o = apx_tel_trace_json(s, "ab000000000000000000000000000001", &status);
  CHECK(o && count_items(o, "resourceSpans", "scopeSpans", "spans") == 2,
        "the shared trace keeps backend's spans after frontend let it go");
  cJSON_Delete(o);
  for (unsigned tr = 5; tr <= 7; tr++) add_span(s, b, tr, 200 + tr, 0, "job", tr * 10000000ull, tr * 10000000ull + 5, 0);
  o = apx_tel_trace_json(s, "ab000000000000000000000000000001", &status);
  CHECK(!o && status == 404, "a trace no resource holds any more is gone");
  apx_tel_stats_get(s, NULL, &st);
  CHECK(st.traces == 6, "6 traces in the store (3 each)");

  apx_tel_query q = {.has_error = -1, .limit = 2, .summary_only = true};
  o = apx_tel_traces_json(s, &q, &status);
  CHECK(status == 200 && cJSON_GetArraySize(cJSON_GetObjectItem(o, "traces")) == 2 &&
            cJSON_GetObjectItem(o, "totalCount")->valueint == 6 && count_items(o, "resourceSpans", "scopeSpans", "spans") == 0,
        "traces list: limit 2 of 6, summaries only");
  t = print(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "traces"), 0));
  CHECK(strstr(t, "ab000000000000000000000000000007") != NULL, "newest trace first");
  free(t);
  cJSON_Delete(o);
  q = (apx_tel_query){.resource = "frontend", .has_error = -1};
  o = apx_tel_traces_json(s, &q, &status);
  CHECK(cJSON_GetObjectItem(o, "totalCount")->valueint == 3, "traces involving frontend: 3");
  cJSON_Delete(o);
  q = (apx_tel_query){.trace_id = "ab000000000000000000000000000003", .has_error = -1};
  o = apx_tel_spans_json(s, &q, &status);
  CHECK(status == 200 && cJSON_GetObjectItem(o, "totalCount")->valueint == 1, "spans of one trace");
  cJSON_Delete(o);
  q = (apx_tel_query){.has_error = 1};
  o = apx_tel_spans_json(s, &q, &status);
  CHECK(cJSON_GetObjectItem(o, "totalCount")->valueint == 0, "hasError=true: none left");
  cJSON_Delete(o);

  {
    uint64_t cur = 0;
    int lines = 0;
    apx_tel_query fq = {.has_error = -1};
    size_t all = apx_tel_spans_after(s, &fq, 0, 1000, &cur, count_line, &lines);
    add_span(s, a, 2, 900, 0, "late span in an old trace", 20000000, 20000001, 0);
    size_t late = apx_tel_spans_after(s, &fq, cur, 1000, &cur, count_line, &lines);
    CHECK(all == 6 && late == 1 && lines == 7, "follow spans: the 6 kept, then the one added to an older trace (%zu, %zu)", all, late);
  }
  /* refused spans leave the store unchanged */
  apx_tel_span_in bad = {0};
  bad.name = "x";
  const char *why = NULL;
  CHECK(!apx_tel_add_span(s, a, NULL, &bad, &why) && why, "a span with a zero trace id is refused: %s", why);
  apx_tel_free(s);
}

static void add_point(apx_tel_store *s, apx_tel_resource *r, const char *name, const char *attr, uint64_t t, double v) {
  apx_tel_point_in in = {0};
  in.name = name;
  in.unit = "ms";
  in.kind = APX_TEL_GAUGE;
  in.time = t;
  in.value = v;
  in.p50 = in.p90 = in.p99 = NAN;
  apx_tel_kv kv[1] = {{"route", attr, APX_TEL_STR}};
  in.attrs = kv;
  in.nattrs = attr ? 1 : 0;
  apx_tel_scope_in sc = {"meter", ""};
  const char *why;
  apx_tel_add_point(s, r, &sc, &in, &why);
}

static void test_metrics(void) {
  apx_tel_limits lim = {.points = 4, .series = 2, .instruments = 2};
  apx_tel_store *s = apx_tel_new(&lim);
  apx_tel_resource *r = res(s, "api", NULL);
  for (int i = 1; i <= 6; i++) add_point(s, r, "latency", "/a", (uint64_t)i * 1000000000ull, i * 1.5);
  add_point(s, r, "latency", "/a", 6000000000ull, 99); /* same time again: replaces */
  add_point(s, r, "latency", "/b", 1000000000ull, 1);
  add_point(s, r, "latency", "/c", 1000000000ull, 1); /* a third series */
  add_point(s, r, "count", NULL, 1000000000ull, 1);
  add_point(s, r, "third", NULL, 1000000000ull, 1); /* a third instrument */
  apx_tel_stats st;
  apx_tel_stats_get(s, r, &st);
  CHECK(st.instruments == 2 && st.dropped_instruments == 1 && st.dropped_series == 1,
        "instruments and series bounded, the excess counted");
  int status;
  apx_tel_query q = {.resource = "api", .text = "latency", .has_error = -1};
  cJSON *o = apx_tel_metrics_json(s, &q, &status);
  cJSON *ins = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "resources"), 0), "instruments"), 0);
  cJSON *pts = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(ins, "series"), 0), "points");
  char *t = print(pts);
  CHECK(status == 200 && cJSON_GetArraySize(pts) == 4 && strcmp(t, "[[3000,4.5],[4000,6],[5000,7.5],[6000,99]]") == 0,
        "the 4 most recent points, the resent one replaced: %s", t);
  free(t);
  CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(o, "resources"), 0), "instruments")) == 1,
        "filtered to one instrument by name");
  cJSON_Delete(o);
  apx_tel_free(s);
}

/* ---- protobuf */

static uint8_t *pack_traces(size_t *len, size_t nspans, bool bad_id, const char *service) {
  ApxOtlp__ExportTraceServiceRequest req = APX_OTLP__EXPORT_TRACE_SERVICE_REQUEST__INIT;
  ApxOtlp__ResourceSpans rs = APX_OTLP__RESOURCE_SPANS__INIT;
  ApxOtlp__Resource resource = APX_OTLP__RESOURCE__INIT;
  ApxOtlp__KeyValue kv = APX_OTLP__KEY_VALUE__INIT, *kvp = &kv;
  ApxOtlp__AnyValue v = APX_OTLP__ANY_VALUE__INIT;
  v.value_case = APX_OTLP__ANY_VALUE__VALUE_STRING_VALUE;
  v.string_value = (char *)service;
  kv.key = "service.name";
  kv.value = &v;
  resource.attributes = &kvp;
  resource.n_attributes = 1;
  rs.resource = &resource;
  ApxOtlp__ScopeSpans ss = APX_OTLP__SCOPE_SPANS__INIT, *ssp = &ss;
  ApxOtlp__InstrumentationScope scope = APX_OTLP__INSTRUMENTATION_SCOPE__INIT;
  scope.name = "@opentelemetry/instrumentation-http";
  ss.scope = &scope;
  ApxOtlp__Span *spans = calloc(nspans, sizeof *spans), **sp = calloc(nspans, sizeof *sp);
  uint8_t (*ids)[24] = calloc(nspans, sizeof *ids);
  /* attributes of every type */
  ApxOtlp__AnyValue vi = APX_OTLP__ANY_VALUE__INIT, vd = APX_OTLP__ANY_VALUE__INIT, vb = APX_OTLP__ANY_VALUE__INIT,
                    va = APX_OTLP__ANY_VALUE__INIT, vs = APX_OTLP__ANY_VALUE__INIT;
  vi.value_case = APX_OTLP__ANY_VALUE__VALUE_INT_VALUE;
  vi.int_value = -9007199254740993LL;
  vd.value_case = APX_OTLP__ANY_VALUE__VALUE_DOUBLE_VALUE;
  vd.double_value = 0.1;
  vb.value_case = APX_OTLP__ANY_VALUE__VALUE_BOOL_VALUE;
  vb.bool_value = 1;
  vs.value_case = APX_OTLP__ANY_VALUE__VALUE_STRING_VALUE;
  vs.string_value = "x";
  ApxOtlp__ArrayValue arr = APX_OTLP__ARRAY_VALUE__INIT;
  ApxOtlp__AnyValue *arrv[2] = {&vs, &vi};
  arr.values = arrv;
  arr.n_values = 2;
  va.value_case = APX_OTLP__ANY_VALUE__VALUE_ARRAY_VALUE;
  va.array_value = &arr;
  ApxOtlp__KeyValue a1 = APX_OTLP__KEY_VALUE__INIT, a2 = APX_OTLP__KEY_VALUE__INIT, a3 = APX_OTLP__KEY_VALUE__INIT,
                    a4 = APX_OTLP__KEY_VALUE__INIT;
  a1.key = "int"; a1.value = &vi;
  a2.key = "double"; a2.value = &vd;
  a3.key = "bool"; a3.value = &vb;
  a4.key = "array"; a4.value = &va;
  ApxOtlp__KeyValue *attrs[4] = {&a1, &a2, &a3, &a4};
  ApxOtlp__Status status = APX_OTLP__STATUS__INIT;
  status.code = APX_OTLP__STATUS__STATUS_CODE__STATUS_CODE_ERROR;
  status.message = "boom";
  for (size_t i = 0; i < nspans; i++) {
    apx_otlp__span__init(&spans[i]);
    sp[i] = &spans[i];
    memset(ids[i], 0x11, 24);
    ids[i][15] = (uint8_t)(i / 3);
    ids[i][23] = (uint8_t)i;
    ids[i][22] = (uint8_t)(i >> 8);
    spans[i].trace_id = (ProtobufCBinaryData){bad_id && i == 0 ? 15 : 16, ids[i]};
    spans[i].span_id = (ProtobufCBinaryData){8, ids[i] + 16};
    spans[i].name = "GET /items";
    spans[i].kind = APX_OTLP__SPAN__SPAN_KIND__SPAN_KIND_SERVER;
    spans[i].start_time_unix_nano = 1700000000000000000ull + i;
    spans[i].end_time_unix_nano = 1700000000005000000ull + i;
    spans[i].attributes = attrs;
    spans[i].n_attributes = 4;
    if (i == 1) spans[i].status = &status;
  }
  ss.spans = sp;
  ss.n_spans = nspans;
  rs.scope_spans = &ssp;
  rs.n_scope_spans = 1;
  ApxOtlp__ResourceSpans *rsp = &rs;
  req.resource_spans = &rsp;
  req.n_resource_spans = 1;
  *len = apx_otlp__export_trace_service_request__get_packed_size(&req);
  uint8_t *buf = malloc(*len);
  apx_otlp__export_trace_service_request__pack(&req, buf);
  free(spans);
  free(sp);
  free(ids);
  return buf;
}

static uint8_t *pack_metrics(size_t *len) {
  ApxOtlp__ExportMetricsServiceRequest req = APX_OTLP__EXPORT_METRICS_SERVICE_REQUEST__INIT;
  ApxOtlp__ResourceMetrics rm = APX_OTLP__RESOURCE_METRICS__INIT, *rmp = &rm;
  ApxOtlp__ScopeMetrics sm = APX_OTLP__SCOPE_METRICS__INIT, *smp = &sm;
  ApxOtlp__Metric m1 = APX_OTLP__METRIC__INIT, m2 = APX_OTLP__METRIC__INIT, *ms[2] = {&m1, &m2};
  ApxOtlp__Histogram h = APX_OTLP__HISTOGRAM__INIT;
  ApxOtlp__HistogramDataPoint hp = APX_OTLP__HISTOGRAM_DATA_POINT__INIT, *hpp = &hp;
  double bounds[3] = {10, 100, 1000};
  uint64_t counts[4] = {50, 40, 10, 0};
  hp.explicit_bounds = bounds;
  hp.n_explicit_bounds = 3;
  hp.bucket_counts = counts;
  hp.n_bucket_counts = 4;
  hp.count = 100;
  hp.sum = 3000;
  hp.time_unix_nano = 1700000000000000000ull;
  h.data_points = &hpp;
  h.n_data_points = 1;
  h.aggregation_temporality = APX_OTLP__AGGREGATION_TEMPORALITY__AGGREGATION_TEMPORALITY_CUMULATIVE;
  m1.name = "http.server.duration";
  m1.unit = "ms";
  m1.data_case = APX_OTLP__METRIC__DATA_HISTOGRAM;
  m1.histogram = &h;
  ApxOtlp__Sum sum = APX_OTLP__SUM__INIT;
  ApxOtlp__NumberDataPoint np = APX_OTLP__NUMBER_DATA_POINT__INIT, *npp = &np;
  np.value_case = APX_OTLP__NUMBER_DATA_POINT__VALUE_AS_INT;
  np.as_int = 7;
  np.time_unix_nano = 1700000000000000000ull;
  sum.data_points = &npp;
  sum.n_data_points = 1;
  sum.is_monotonic = 1;
  m2.name = "requests";
  m2.data_case = APX_OTLP__METRIC__DATA_SUM;
  m2.sum = &sum;
  sm.metrics = ms;
  sm.n_metrics = 2;
  rm.scope_metrics = &smp;
  rm.n_scope_metrics = 1;
  req.resource_metrics = &rmp;
  req.n_resource_metrics = 1;
  *len = apx_otlp__export_metrics_service_request__get_packed_size(&req);
  uint8_t *buf = malloc(*len);
  apx_otlp__export_metrics_service_request__pack(&req, buf);
  return buf;
}

static uint8_t *gzip_of(const void *in, size_t len, size_t *out_len) {
  z_stream z;
  memset(&z, 0, sizeof z);
  deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  size_t cap = deflateBound(&z, len) + 32;
  uint8_t *out = malloc(cap);
  z.next_in = (uint8_t *)(uintptr_t)in;
  z.avail_in = (uInt)len;
  z.next_out = out;
  z.avail_out = (uInt)cap;
  deflate(&z, Z_FINISH);
  *out_len = cap - z.avail_out;
  deflateEnd(&z);
  return out;
}

static void test_protobuf(void) {
  apx_tel_store *s = apx_tel_new(NULL);
  size_t len;
  uint8_t *body = pack_traces(&len, 6, false, "catalog");
  apx_otlp_result r;
  apx_otlp_ingest(s, APX_OTLP_TRACES, "application/x-protobuf", NULL, body, len, &r);
  CHECK(r.status == 200 && r.accepted == 6 && r.rejected == 0, "protobuf traces: 200, 6 spans accepted");
  ApxOtlp__ExportTraceServiceResponse *resp = apx_otlp__export_trace_service_response__unpack(NULL, r.body_len, r.body);
  CHECK(resp && !resp->partial_success && strcmp(r.content_type, "application/x-protobuf") == 0,
        "the response: an ExportTraceServiceResponse without partial success");
  apx_otlp__export_trace_service_response__free_unpacked(resp, NULL);
  free(r.body);
  apx_tel_stats st;
  apx_tel_stats_get(s, NULL, &st);
  CHECK(st.spans == 6 && st.traces == 2, "6 spans in 2 traces");
  int status;
  apx_tel_query q = {.resource = "catalog", .has_error = -1};
  cJSON *o = apx_tel_spans_json(s, &q, &status);
  char *t = print(o);
  CHECK(strstr(t, "{\"key\":\"int\",\"value\":{\"intValue\":\"-9007199254740993\"}}") &&
            strstr(t, "{\"key\":\"double\",\"value\":{\"doubleValue\":0.1}}") &&
            strstr(t, "{\"key\":\"bool\",\"value\":{\"boolValue\":true}}") &&
            strstr(t, "{\"key\":\"array\",\"value\":{\"arrayValue\":{\"values\":[{\"stringValue\":\"x\"},{\"intValue\":\"-9007199254740993\"}]}}}") &&
            strstr(t, "\"status\":{\"code\":2,\"message\":\"boom\"}") &&
            strstr(t, "\"name\":\"@opentelemetry/instrumentation-http\"") && strstr(t, "\"kind\":2"),
        "every attribute type and the status come back in OTLP/JSON");
  free(t);
  cJSON_Delete(o);
  free(body);

  /* one span with a 15-byte trace id: partial success */
  body = pack_traces(&len, 3, true, "catalog");
  apx_otlp_ingest(s, APX_OTLP_TRACES, "application/x-protobuf", NULL, body, len, &r);
  resp = apx_otlp__export_trace_service_response__unpack(NULL, r.body_len, r.body);
  CHECK(r.status == 200 && r.accepted == 2 && resp && resp->partial_success &&
            resp->partial_success->rejected_spans == 1 && strstr(resp->partial_success->error_message, "traceId"),
        "a bad trace id: partial success, rejected_spans 1 (%s)",
        resp && resp->partial_success ? resp->partial_success->error_message : "none");
  apx_otlp__export_trace_service_response__free_unpacked(resp, NULL);
  free(r.body);

  /* gzip */
  size_t zlen;
  uint8_t *z = gzip_of(body, len, &zlen);
  apx_otlp_ingest(s, APX_OTLP_TRACES, "application/x-protobuf", "gzip", z, zlen, &r);
  CHECK(r.status == 200 && r.accepted == 2, "a gzip body is inflated");
  free(r.body);
  z[zlen / 2] ^= 0x55;
  z[zlen / 2 + 1] ^= 0x55;
  apx_otlp_ingest(s, APX_OTLP_TRACES, "application/x-protobuf", "gzip", z, zlen, &r);
  CHECK(r.status == 400, "a corrupt gzip body: 400");
  free(r.body);
  free(z);
  apx_otlp_ingest(s, APX_OTLP_TRACES, "application/x-protobuf", "br", body, len, &r);
  CHECK(r.status == 415, "Content-Encoding br: 415");
  free(r.body);
  /* a gzip bomb: 64 MiB of zeros */
  size_t big = 64u << 20;
  uint8_t *zeros = calloc(1, big);
  z = gzip_of(zeros, big, &zlen);
  free(zeros);
  apx_otlp_ingest(s, APX_OTLP_TRACES, "application/x-protobuf", "gzip", z, zlen, &r);
  CHECK(r.status == 413, "a body inflating past 16 MiB: 413 (%zu bytes sent)", zlen);
  free(r.body);
  free(z);
  free(body);

  /* not protobuf: 400 with a google.rpc.Status body */
  apx_otlp_ingest(s, APX_OTLP_TRACES, "application/x-protobuf", NULL, "\xff\xff\xff", 3, &r);
  ApxOtlp__RpcStatus *rs = apx_otlp__rpc_status__unpack(NULL, r.body_len, r.body);
  CHECK(r.status == 400 && rs && rs->code == 3 && *rs->message, "garbage: 400 with a Status (%s)", rs ? rs->message : "");
  apx_otlp__rpc_status__free_unpacked(rs, NULL);
  free(r.body);
  apx_otlp_ingest(s, APX_OTLP_TRACES, "text/plain", NULL, "x", 1, &r);
  CHECK(r.status == 415, "text/plain: 415");
  free(r.body);
  apx_otlp_ingest(s, APX_OTLP_TRACES, "application/x-protobuf; charset=binary", NULL, "", 0, &r);
  CHECK(r.status == 200 && r.accepted == 0, "an empty request with media type parameters: 200");
  free(r.body);

  {
    /* AnyValue nested 5000 deep through kvlist/array, lengths as varints */
    size_t depth = 5000;
    uint8_t *cur = malloc(3), *next;
    size_t n = 3;
    cur[0] = 0x0a; cur[1] = 1; cur[2] = 'x'; /* AnyValue{string_value:"x"} */
    for (size_t d = 0; d < depth; d++) {
      /* ArrayValue{values:[cur]} then AnyValue{array_value: that} */
      for (int k = 0; k < 2; k++) {
        uint8_t hdr[12];
        size_t h = 0;
        hdr[h++] = k == 0 ? 0x0a : 0x2a;
        size_t v = n;
        do {
          hdr[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
          v >>= 7;
        } while (v);
        next = malloc(h + n);
        memcpy(next, hdr, h);
        memcpy(next + h, cur, n);
        free(cur);
        cur = next;
        n += h;
      }
    }
    /* wrap: KeyValue{key:"k", value: cur} in a Span.attributes (9) in ScopeSpans.spans (2) in
     * ResourceSpans.scope_spans (2) in request.resource_spans (1) */
    const uint8_t wraps[] = {0x12 /* KeyValue.value (2) */, 0x4a /* Span.attributes */, 0x12, 0x12, 0x0a};
    for (size_t w = 0; w < sizeof wraps; w++) {
      uint8_t hdr[12];
      size_t h = 0;
      hdr[h++] = wraps[w];
      size_t v = n;
      do {
        hdr[h++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
      } while (v);
      next = malloc(h + n);
      memcpy(next, hdr, h);
      memcpy(next + h, cur, n);
      free(cur);
      cur = next;
      n += h;
    }
    apx_otlp_ingest(s, APX_OTLP_TRACES, "application/x-protobuf", NULL, cur, n, &r);
    CHECK(r.status == 400, "values nested 10,000 deep: 400, no crash (%zu bytes)", n);
    free(r.body);
    free(cur);
  }

  /* metrics: a histogram's percentiles from its buckets */
  body = pack_metrics(&len);
  apx_otlp_ingest(s, APX_OTLP_METRICS, "application/x-protobuf", NULL, body, len, &r);
  CHECK(r.status == 200 && r.accepted == 2, "protobuf metrics: a histogram and a sum");
  free(r.body);
  free(body);
  apx_tel_query mq = {.text = "http.server.duration", .has_error = -1};
  o = apx_tel_metrics_json(s, &mq, &status);
  t = print(o);
  /* 100 samples: 50 in [0,10], 40 in (10,100]: p50 = 10, p90 = 100, p99 in (100,1000] */
  CHECK(strstr(t, "\"points\":[[1700000000000,30,100,10,100,910]]") && strstr(t, "\"kind\":\"histogram\""),
        "histogram point: mean 30, count 100, p50 10, p90 100, p99 910 (%s)", t);
  free(t);
  cJSON_Delete(o);
  apx_tel_free(s);
}

static const char *logs_json =
    "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"orders\"}},"
    "{\"key\":\"service.instance.id\",\"value\":{\"stringValue\":\"orders-1\"}}]},"
    "\"scopeLogs\":[{\"scope\":{\"name\":\"app\"},\"logRecords\":["
    "{\"timeUnixNano\":\"1700000000000000000\",\"severityNumber\":13,\"severityText\":\"WARN\","
    "\"body\":{\"stringValue\":\"stock low\"},\"attributes\":[{\"key\":\"sku\",\"value\":{\"intValue\":\"12\"}},"
    "{\"key\":\"tags\",\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"a\",\"value\":{\"boolValue\":false}}]}}}],"
    "\"traceId\":\"5B8EFFF798038103D269B633813FC60C\",\"spanId\":\"eee19b7ec3c1b174\"},"
    "{\"timeUnixNano\":1700000000000000001,\"severityNumber\":9,\"body\":{\"doubleValue\":2.5}}"
    "]}]}]}";

static void test_json(void) {
  apx_tel_store *s = apx_tel_new(NULL);
  apx_otlp_result r;
  apx_otlp_ingest(s, APX_OTLP_LOGS, "application/json", NULL, logs_json, strlen(logs_json), &r);
  CHECK(r.status == 200 && r.accepted == 2 && strcmp((char *)r.body, "{}") == 0,
        "OTLP/JSON logs: 200, 2 records, an empty response object (%s)", (char *)r.body);
  free(r.body);
  int status;
  apx_tel_query q = {.resource = "orders-orders-1", .trace_id = "5b8efff798038103d269b633813fc60c", .has_error = -1};
  cJSON *o = apx_tel_logs_json(s, &q, &status);
  char *t = print(o);
  CHECK(status == 200 && cJSON_GetObjectItem(o, "totalCount")->valueint == 1 && strstr(t, "\"stock low\"") &&
            strstr(t, "\"severityText\":\"WARN\"") && strstr(t, "\"spanId\":\"eee19b7ec3c1b174\"") &&
            strstr(t, "{\"kvlistValue\":{\"values\":[{\"key\":\"a\",\"value\":{\"boolValue\":false}}]}}") &&
            strstr(t, "\"timeUnixNano\":\"1700000000000000000\""),
        "the record by trace id (hex in either case), its kvlist attribute kept");
  free(t);
  cJSON_Delete(o);

  static const char *const bad[] = {
      "{", "[]", "{\"resourceLogs\":{}}", "{\"resourceLogs\":[1]}",
      "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":\"-5\"}]}]}]}",
      "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":99}]}]}]}",
      "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":5}}]}]}]}",
      "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":1}]}}]}",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    apx_otlp_ingest(s, APX_OTLP_LOGS, "application/json", NULL, bad[i], strlen(bad[i]), &r);
    CHECK(r.status == 400 && strstr((char *)r.body, "\"code\":3"), "malformed JSON %zu: 400 with a Status (%s)", i,
          (char *)r.body);
    free(r.body);
  }
  const char *spans =
      "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":{\"stringValue\":\"web\"}}]},"
      "\"scopeSpans\":[{\"spans\":[{\"traceId\":\"00112233445566778899aabbccddeeff\",\"spanId\":\"0011223344556677\","
      "\"name\":\"ok\",\"kind\":2,\"startTimeUnixNano\":\"1\",\"endTimeUnixNano\":\"2\"},"
      "{\"traceId\":\"0011\",\"spanId\":\"0011223344556677\",\"name\":\"short id\"}]}]}]}";
  apx_otlp_ingest(s, APX_OTLP_TRACES, "application/json; charset=utf-8", NULL, spans, strlen(spans), &r);
  CHECK(r.status == 200 && r.accepted == 1 && strstr((char *)r.body, "\"partialSuccess\":{\"rejectedSpans\":\"1\""),
        "JSON spans: one rejected in partialSuccess (%s)", (char *)r.body);
  free(r.body);
  const char *metrics =
      "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"name\":\"g\",\"gauge\":{\"dataPoints\":["
      "{\"asDouble\":1.25,\"timeUnixNano\":\"2000000\"}]}},{\"name\":\"s\",\"summary\":{\"dataPoints\":[{\"count\":\"4\","
      "\"sum\":8,\"quantileValues\":[{\"quantile\":0.5,\"value\":1.5}]}]}},{\"name\":\"nodata\"}]}]}]}";
  apx_otlp_ingest(s, APX_OTLP_METRICS, "application/json", NULL, metrics, strlen(metrics), &r);
  CHECK(r.status == 200 && r.accepted == 2 && r.rejected == 1, "JSON metrics: a gauge and a summary; no data rejected");
  free(r.body);
  apx_tel_query mq = {.resource = "unknown_service", .has_error = -1};
  o = apx_tel_metrics_json(s, &mq, &status);
  t = print(o);
  CHECK(status == 200 && strstr(t, "[[2,1.25]]") && strstr(t, "[[0,2,4,1.5,null,null]]"),
        "no service.name: unknown_service; the gauge and the summary's p50 (%s)", t);
  free(t);
  cJSON_Delete(o);
  apx_tel_free(s);
}

/* Mutated bodies: every result is 200 or 400, never a crash (ASan watches). */
static void test_fuzz(void) {
  apx_tel_store *s = apx_tel_new(&(apx_tel_limits){.logs = 50, .traces = 50});
  size_t plen, mlen;
  uint8_t *pb = pack_traces(&plen, 4, false, "fuzz"), *mb = pack_metrics(&mlen);
  size_t jlen = strlen(logs_json);
  uint8_t *buf = malloc(plen + mlen + jlen + 16);
  unsigned seed = 12345, bad = 0, runs = 0;
  for (int i = 0; i < 6000; i++) {
    int which = i % 3;
    const uint8_t *src = which == 0 ? pb : which == 1 ? mb : (const uint8_t *)logs_json;
    size_t n = which == 0 ? plen : which == 1 ? mlen : jlen;
    memcpy(buf, src, n);
    int edits = 1 + (int)((seed = seed * 1103515245 + 12345) >> 16) % 4;
    for (int e = 0; e < edits; e++) {
      seed = seed * 1103515245 + 12345;
      size_t at = (seed >> 8) % n;
      switch ((seed >> 4) % 4) {
      case 0: buf[at] = (uint8_t)(seed >> 20); break;
      case 1: buf[at] ^= (uint8_t)(1u << ((seed >> 12) % 8)); break;
      case 2: n = at + 1; break; /* truncate */
      default: buf[at] = which == 2 ? "{}[]\",:0-e"[(seed >> 14) % 10] : 0xff; break;
      }
    }
    apx_otlp_result r;
    apx_otlp_ingest(s, which == 0 ? APX_OTLP_TRACES : which == 1 ? APX_OTLP_METRICS : APX_OTLP_LOGS,
                    which == 2 ? "application/json" : "application/x-protobuf", NULL, buf, n, &r);
    if (r.status != 200 && r.status != 400) bad++;
    runs++;
    free(r.body);
  }
  CHECK(bad == 0, "%u mutated bodies: each 200 or 400, no crash", runs);
  /* the queries still hold together afterwards */
  int status;
  apx_tel_query q = {.has_error = -1};
  cJSON *o = apx_tel_traces_json(s, &q, &status);
  CHECK(o && status == 200, "the store answers queries after the fuzzing");
  cJSON_Delete(o);
  o = apx_tel_logs_json(s, &q, &status);
  cJSON_Delete(o);
  o = apx_tel_metrics_json(s, &q, &status);
  cJSON_Delete(o);
  o = apx_tel_resources_json(s);
  cJSON_Delete(o);
  free(buf);
  free(pb);
  free(mb);
  apx_tel_free(s);
}

/* The byte budgets: a record's accounted size, the oldest pushed out first
 * (per resource, then over the store), the drop counted. */
static void add_big_log(apx_tel_store *s, apx_tel_resource *r, const char *msg, size_t size) {
  char *v = malloc(size + 1);
  memset(v, 'x', size);
  v[size] = 0;
  apx_tel_log_in in = {0};
  in.time = 1000;
  in.severity = 9;
  in.body = (apx_tel_kv){"", msg, APX_TEL_STR};
  apx_tel_kv kv[1] = {{"payload", v, APX_TEL_STR}};
  in.attrs = kv;
  in.nattrs = 1;
  apx_tel_scope_in sc = {"logger", ""};
  const char *why = NULL;
  apx_tel_add_log(s, r, &sc, &in, &why);
  free(v);
}

static void add_big_span(apx_tel_store *s, apx_tel_resource *r, unsigned trace, unsigned span, size_t size) {
  char *v = malloc(size + 1);
  memset(v, 'y', size);
  v[size] = 0;
  apx_tel_span_in in = {0};
  id_of(in.trace_id, 16, trace);
  id_of(in.span_id, 8, span);
  in.name = "big";
  in.start = 1000 + trace;
  in.end = 2000 + trace;
  apx_tel_kv kv[1] = {{"payload", v, APX_TEL_STR}};
  in.attrs = kv;
  in.nattrs = 1;
  apx_tel_scope_in sc = {"test", "1.0"};
  const char *why = NULL;
  apx_tel_add_span(s, r, &sc, &in, &why);
  free(v);
}

static bool trace_kept(apx_tel_store *s, unsigned trace) {
  uint8_t id[16];
  char hex[33];
  id_of(id, 16, trace);
  apx_tel_hex_encode(id, 16, hex);
  int status;
  cJSON *o = apx_tel_trace_json(s, hex, &status);
  cJSON_Delete(o);
  return o != NULL;
}

static void test_bytes(void) {
  const char *why0 = NULL;
  apx_tel_limits lim = {.bytes_per_resource = 64 * 1024, .bytes = 160 * 1024};
  apx_tel_store *s = apx_tel_new(&lim);
  apx_tel_resource *a = res(s, "a", NULL);
  apx_tel_stats st0, st;
  apx_tel_stats_get(s, a, &st0);
  add_big_log(s, a, "big 0", 4096);
  apx_tel_stats_get(s, a, &st);
  size_t one = st.bytes - st0.bytes;
  CHECK(one >= 4096 + 5 && one < 4096 + 512, "a log with a 4 KiB attribute accounts its bytes (%zu)", one);
  char msg[32];
  for (int i = 1; i < 100; i++) {
    snprintf(msg, sizeof msg, "big %d", i);
    add_big_log(s, a, msg, 4096);
  }
  apx_tel_stats_get(s, a, &st);
  CHECK(st.bytes <= 64 * 1024 && st.bytes + one > 64 * 1024, "a's bytes stay within its budget, nearly full (%zu)",
        st.bytes);
  CHECK(st.logs == 64 * 1024 / one && st.logs + st.dropped_logs == 100,
        "... %zu logs kept of 100 (not the 10,000 of the count limit), the rest counted dropped", st.logs);
  CHECK(st.dropped_for_bytes == st.dropped_logs, "... all of them for the bytes (%llu)",
        (unsigned long long)st.dropped_for_bytes);
  int status;
  apx_tel_query q = {.resource = "a", .has_error = -1, .limit = 1000};
  cJSON *o = apx_tel_logs_json(s, &q, &status);
  char *t = print(o);
  snprintf(msg, sizeof msg, "\"big %zu\"", 100 - st.logs);
  char before[32];
  snprintf(before, sizeof before, "\"big %zu\"", 100 - st.logs - 1);
  CHECK(strstr(t, msg) && !strstr(t, before) && strstr(t, "\"big 99\""), "the oldest went first (%s is the first kept)",
        msg);
  free(t);
  cJSON_Delete(o);
  o = apx_tel_resources_json(s);
  t = print(o);
  CHECK(strstr(t, "\"forBytes\":") && strstr(t, "\"maxBytesPerResource\":65536"),
        "the resources list shows the bytes, the budgets and the drops for bytes");
  free(t);
  cJSON_Delete(o);

  /* a record larger than the budget alone: dropped and counted, nothing else goes */
  size_t kept = st.logs, bytes = st.bytes;
  add_big_log(s, a, "huge", 32000);
  add_big_log(s, a, "huge", 32000);
  add_big_log(s, a, "huge", 32000);
  apx_tel_stats_get(s, a, &st);
  CHECK(st.bytes <= 64 * 1024 && st.logs < kept, "bigger records push out more of the old ones (%zu logs, %zu bytes)",
        st.logs, st.bytes);
  apx_tel_limits tiny = {.bytes_per_resource = 8 * 1024};
  apx_tel_store *s2 = apx_tel_new(&tiny);
  apx_tel_resource *x = res(s2, "x", NULL);
  add_big_log(s2, x, "small", 100);
  apx_tel_stats_get(s2, x, &st0);
  add_big_log(s2, x, "too big", 20000);
  apx_tel_stats_get(s2, x, &st);
  CHECK(st.logs == 1 && st.dropped_logs == 1 && st.bytes == st0.bytes,
        "a log larger than the whole budget is dropped (counted) and the older one stays");
  add_big_span(s2, x, 7, 1, 20000);
  apx_tel_stats_get(s2, x, &st);
  CHECK(st.spans == 0 && st.dropped_spans == 1 && !trace_kept(s2, 7) && st.bytes == st0.bytes,
        "... so is a span, and its trace is not left empty");
  apx_tel_free(s2);
  (void)bytes;

  /* spans: the oldest traces go; the trace being added to stays */
  apx_tel_resource *d = res(s, "d", NULL);
  for (unsigned i = 1; i <= 30; i++) add_big_span(s, d, i, i, 8192);
  apx_tel_stats_get(s, d, &st);
  CHECK(st.bytes <= 64 * 1024 && st.traces < 30 && st.dropped_traces == 30 - st.traces,
        "spans: d within its budget, %zu traces kept, the others counted", st.traces);
  CHECK(!trace_kept(s, 1) && trace_kept(s, 30), "... the oldest trace went, the newest stayed");
  unsigned first = 0;
  for (unsigned i = 1; i <= 30 && !first; i++)
    if (trace_kept(s, i)) first = i;
  add_big_span(s, d, first, 100, 8192);
  CHECK(trace_kept(s, first), "a span added to the oldest trace kept does not push out that trace");

  /* the store's budget: the oldest over every resource goes */
  apx_tel_stats_get(s, NULL, &st);
  CHECK(st.bytes <= 160 * 1024, "the store within its budget (%zu)", st.bytes);
  apx_tel_stats sa, sd, sb;
  apx_tel_stats_get(s, a, &sa);
  apx_tel_stats_get(s, d, &sd);
  CHECK(sa.bytes + sd.bytes == st.bytes, "the store's bytes are its resources' (%zu + %zu = %zu)", sa.bytes, sd.bytes,
        st.bytes);
  apx_tel_resource *b = res(s, "b", NULL);
  for (int i = 0; i < 15; i++) add_big_log(s, b, "from b", 4096);
  apx_tel_stats_get(s, NULL, &st);
  apx_tel_stats_get(s, a, &sa);
  apx_tel_stats_get(s, b, &sb);
  CHECK(st.bytes <= 160 * 1024 && sb.logs == 15 && sb.dropped_logs == 0,
        "b's logs fit in the store by pushing out others (%zu bytes in all)", st.bytes);
  CHECK(sa.dropped_for_bytes > 100 - kept, "... a's, the oldest in the store, went first (%llu dropped)",
        (unsigned long long)sa.dropped_for_bytes);

  /* an ordinary span (the Node.js SDK's http span: 8 attributes) is small
   * enough that the count limits bind first: 10,000 traces of 10 spans
   * fit in the default budget */
  apx_tel_store *s3 = apx_tel_new(NULL);
  apx_tel_resource *o3 = res(s3, "o", NULL);
  apx_tel_kv http[8] = {{"http.request.method", "GET", APX_TEL_STR},         {"url.path", "/api/items", APX_TEL_STR},
                        {"url.scheme", "http", APX_TEL_STR},                 {"server.address", "localhost", APX_TEL_STR},
                        {"server.port", "8080", APX_TEL_INT},                {"http.response.status_code", "200", APX_TEL_INT},
                        {"network.protocol.version", "1.1", APX_TEL_STR},    {"user_agent.original", "node", APX_TEL_STR}};
  apx_tel_span_in hs = {0};
  id_of(hs.trace_id, 16, 1);
  id_of(hs.span_id, 8, 1);
  hs.name = "GET /api/items";
  hs.attrs = http;
  hs.nattrs = 8;
  apx_tel_scope_in hsc = {"@opentelemetry/instrumentation-http", "0.223.0"};
  apx_tel_add_span(s3, o3, &hsc, &hs, &why0);
  apx_tel_stats_get(s3, o3, &st);
  CHECK(st.bytes * 10000 * 10 < APX_TEL_MAX_BYTES_PER_RESOURCE,
        "an ordinary span accounts %zu bytes: 10,000 traces of 10 fit in the %u MiB per resource", st.bytes,
        APX_TEL_MAX_BYTES_PER_RESOURCE >> 20);
  apx_tel_free(s3);

  /* metrics: a series is accounted (its attributes and its points) */
  apx_tel_resource *m = res(s, "m", NULL);
  apx_tel_stats_get(s, m, &st0);
  apx_tel_point_in p = {.name = "g", .kind = APX_TEL_GAUGE, .time = 1000000, .value = 1};
  p.p50 = p.p90 = p.p99 = NAN;
  const char *why;
  apx_tel_add_point(s, m, NULL, &p, &why);
  apx_tel_stats_get(s, m, &st);
  CHECK(st.bytes > st0.bytes + 300 * 8, "a metric series accounts its points (%zu bytes)", st.bytes - st0.bytes);
  apx_tel_free(s);
}

/* Histograms: percentiles over a recent window of exports, not all time. */
static void add_hist(apx_tel_store *s, apx_tel_resource *r, int temporality, uint64_t start, uint64_t t_s,
                     const uint64_t c[3]) {
  static const double bounds[2] = {10, 100};
  apx_tel_point_in p = {.name = "lat", .kind = APX_TEL_HISTOGRAM, .temporality = temporality};
  p.start = start;
  p.time = t_s * 1000000000ull;
  p.count = c[0] + c[1] + c[2];
  p.p50 = p.p90 = p.p99 = NAN;
  p.bounds = bounds;
  p.buckets = c;
  p.nbuckets = 3;
  p.lo = 0;
  p.hi = 1000;
  const char *why;
  apx_tel_add_point(s, r, NULL, &p, &why);
}

/* The p50 of the point at position k (-1: the last) of the only series. */
static double hist_p(apx_tel_store *s, const char *res_name, int64_t window_ms, int k, int which) {
  apx_tel_query q = {.resource = res_name, .has_error = -1, .window_ms = window_ms};
  int status;
  cJSON *o = apx_tel_metrics_json(s, &q, &status);
  cJSON *pts = cJSON_GetObjectItem(
      cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(
                                                 cJSON_GetArrayItem(cJSON_GetObjectItem(o, "resources"), 0), "instruments"),
                                             0),
                                             "series"),
                         0),
      "points");
  int n = cJSON_GetArraySize(pts);
  cJSON *pt = cJSON_GetArrayItem(pts, k < 0 ? n + k : k);
  cJSON *v = cJSON_GetArrayItem(pt, 3 + which);
  double x = cJSON_IsNumber(v) ? v->valuedouble : NAN;
  cJSON_Delete(o);
  return x;
}

static void test_window(void) {
  apx_tel_store *s = apx_tel_new(NULL);
  apx_tel_resource *c = res(s, "cum", NULL), *d = res(s, "delta", NULL);
  /* 1,000 fast values (<= 10) at first, then 10 slow ones (10..100] every 10 s for 2 minutes */
  uint64_t cum[3] = {1000, 0, 0};
  add_hist(s, c, 2, 5, 1, cum);
  add_hist(s, d, 1, 5, 1, cum);
  for (uint64_t t = 11; t <= 121; t += 10) {
    cum[1] += 10;
    add_hist(s, c, 2, 5, t, cum);
    uint64_t delta[3] = {0, 10, 0};
    add_hist(s, d, 1, 5, t, delta);
  }
  add_hist(s, c, 2, 5, 121, cum); /* a resend of the last export: no double counting */
  double all = hist_p(s, "cum", 86400000, -1, 0), recent = hist_p(s, "cum", 0, -1, 0);
  CHECK(all <= 10 && fabs(recent - 55) < 1e-9,
        "cumulative: p50 over all time would be %.1f (the old fast values); over the last minute it is %.1f", all,
        recent);
  CHECK(fabs(hist_p(s, "cum", -1, -1, 0) - 55) < 1e-9 && fabs(hist_p(s, "cum", -1, -1, 2) - 99.1) < 1e-9,
        "... over the last export alone too (p50 55, p99 99.1: its 10 values)");
  CHECK(fabs(hist_p(s, "cum", 0, 0, 0) - 5) < 1e-9, "the first point: its own 1,000 fast values (p50 5)");
  CHECK(fabs(hist_p(s, "delta", 0, -1, 0) - 55) < 1e-9 && hist_p(s, "delta", 86400000, -1, 0) <= 10,
        "delta temporality: the same percentiles (%.1f over the last minute)", hist_p(s, "delta", 0, -1, 0));
  /* 5 minutes of nothing new but the window moves: a point at 400 s with the same counts */
  add_hist(s, c, 2, 5, 400, cum);
  CHECK(isnan(hist_p(s, "cum", 0, -1, 0)), "no values in the last minute: no percentiles (null)");
  /* the process restarts: a new start time, counts from zero */
  uint64_t again[3] = {0, 0, 7};
  add_hist(s, c, 2, 410, 410, again);
  CHECK(hist_p(s, "cum", -1, -1, 0) > 100, "a restart (new start time): its counts alone (p50 %.1f, in (100, 1000])",
        hist_p(s, "cum", -1, -1, 0));
  apx_tel_free(s);
}

static void test_paths(void) {
  apx_otlp_signal sig;
  CHECK(apx_otlp_signal_of("/v1/logs", &sig) && sig == APX_OTLP_LOGS && !apx_otlp_signal_of("/v1/log", &sig),
        "paths map to signals");
}

int main(void) {
  test_logs();
  test_traces();
  test_metrics();
  test_bytes();
  test_window();
  test_protobuf();
  test_json();
  test_fuzz();
  test_paths();
  printf("# %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
