/* OTLP/HTTP request decoding (otlp.h): protobuf through protobuf-c, JSON
 * through cJSON, both into the same apx_tel_*_in records. Request-lived
 * text (numbers printed, base64, nested values as JSON) goes into a scratch
 * arena freed with the request. */
#include "dashboard/otlp.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <zlib.h>

#include "base/arena.h"
#include "dashboard/otlp_proto/otlp.pb-c.h"

typedef struct ingest {
  apx_tel_store *s;
  apx_arena *scratch;
  size_t accepted, rejected;
  const char *why; /* the first reason a record was refused */
} ingest;

static void note(ingest *g, bool ok, const char *why) {
  if (ok) {
    g->accepted++;
  } else {
    g->rejected++;
    if (!g->why) g->why = why;
  }
}

bool apx_otlp_signal_of(const char *path, apx_otlp_signal *sig) {
  if (strcmp(path, "/v1/traces") == 0) *sig = APX_OTLP_TRACES;
  else if (strcmp(path, "/v1/logs") == 0) *sig = APX_OTLP_LOGS;
  else if (strcmp(path, "/v1/metrics") == 0) *sig = APX_OTLP_METRICS;
  else return false;
  return true;
}

/* ---- histograms' buckets, for the store (it computes the percentiles) */

static void explicit_buckets(apx_tel_point_in *p, const double *bounds, size_t nbounds, const uint64_t *counts,
                             size_t ncounts) {
  /* A valid histogram has one bucket more than bounds. */
  if (!ncounts || nbounds + 1 != ncounts) return;
  p->bounds = bounds;
  p->buckets = counts;
  p->nbuckets = ncounts;
  p->lo = isfinite(p->min) && p->min != 0 ? p->min : (nbounds ? fmin(0, bounds[0]) : 0);
  p->hi = isfinite(p->max) && p->max != 0 ? p->max : (nbounds ? bounds[nbounds - 1] : 0);
}

/* Exponential buckets: index i covers (base^i, base^(i+1)], base =
 * 2^(2^-scale); only the positive range and zero bucket are used. As
 * explicit bounds: the zero bucket first, then each positive one. */
static void exp_buckets(apx_arena *a, apx_tel_point_in *p, int scale, int32_t offset, const uint64_t *counts,
                        size_t n, uint64_t zero_count) {
  if (scale < -10 || scale > 20 || n > 4096) return;
  size_t m = n + 1;
  double *upper = apx_arena_alloc(a, m * sizeof *upper);
  uint64_t *c = apx_arena_alloc(a, m * sizeof *c);
  double base = exp2(exp2(-(double)scale));
  c[0] = zero_count;
  upper[0] = 0;
  for (size_t i = 0; i < n; i++) {
    c[i + 1] = counts[i];
    if (i + 1 < m) upper[i + 1] = pow(base, (double)offset + (double)i + 1);
  }
  p->bounds = upper;
  p->buckets = c;
  p->nbuckets = m;
  p->lo = 0;
  p->hi = n ? pow(base, (double)offset + (double)n) : 0;
}

/* ---- shared text helpers */

static const char *u64_text(apx_arena *a, long long v) { return apx_arena_printf(a, "%lld", v); }

static const char *double_text(apx_arena *a, double v) {
  char buf[40];
  apx_tel_double_text(v, buf, sizeof buf);
  return apx_arena_strdup(a, buf);
}

static const char *base64(apx_arena *a, const uint8_t *d, size_t n) {
  static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  char *out = apx_arena_alloc(a, (n + 2) / 3 * 4 + 1), *o = out;
  for (size_t i = 0; i < n; i += 3) {
    uint32_t v = (uint32_t)d[i] << 16 | (i + 1 < n ? (uint32_t)d[i + 1] << 8 : 0) | (i + 2 < n ? d[i + 2] : 0);
    *o++ = tab[v >> 18 & 63];
    *o++ = tab[v >> 12 & 63];
    *o++ = i + 1 < n ? tab[v >> 6 & 63] : '=';
    *o++ = i + 2 < n ? tab[v & 63] : '=';
  }
  *o = 0;
  return out;
}

static const char *json_text(apx_arena *a, cJSON *j) {
  char *t = cJSON_PrintUnformatted(j);
  const char *r = apx_arena_strdup(a, t ? t : "{}");
  cJSON_free(t);
  return r;
}

/* ================= protobuf ================= */

/* A wire scan before unpacking: nesting of message fields within
 * APX_OTLP_MAX_DEPTH, and every length within the buffer. protobuf-c's own
 * parser recurses without a limit. */
static bool wire_varint(const uint8_t **p, const uint8_t *end, uint64_t *v) {
  uint64_t r = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (*p >= end) return false;
    uint8_t b = *(*p)++;
    r |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = r;
      return true;
    }
  }
  return false;
}

static bool wire_check(const ProtobufCMessageDescriptor *d, const uint8_t *p, const uint8_t *end, int depth) {
  if (depth > APX_OTLP_MAX_DEPTH) return false;
  while (p < end) {
    uint64_t tag, len;
    if (!wire_varint(&p, end, &tag)) return false;
    switch (tag & 7) {
    case 0:
      if (!wire_varint(&p, end, &len)) return false;
      break;
    case 1:
      if (end - p < 8) return false;
      p += 8;
      break;
    case 5:
      if (end - p < 4) return false;
      p += 4;
      break;
    case 2: {
      if (!wire_varint(&p, end, &len) || len > (uint64_t)(end - p)) return false;
      const ProtobufCFieldDescriptor *f =
          tag >> 3 <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3)) : NULL;
      if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
          !wire_check((const ProtobufCMessageDescriptor *)f->descriptor, p, p + len, depth + 1))
        return false;
      p += len;
      break;
    }
    default:
      return false; /* groups (3, 4) are not in OTLP */
    }
  }
  return true;
}

static const char *pb_anyvalue_text(apx_arena *a, const ApxOtlp__AnyValue *v, apx_tel_vtype *type);

static cJSON *pb_anyvalue_json(apx_arena *a, const ApxOtlp__AnyValue *v);

static cJSON *pb_kvlist_json(apx_arena *a, ApxOtlp__KeyValue *const *kv, size_t n) {
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; i < n; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "key", kv[i]->key ? kv[i]->key : "");
    cJSON_AddItemToObject(e, "value", pb_anyvalue_json(a, kv[i]->value));
    cJSON_AddItemToArray(arr, e);
  }
  return arr;
}

/* The OTLP/JSON form of a nested value (arrays and kvlists are kept so). */
static cJSON *pb_anyvalue_json(apx_arena *a, const ApxOtlp__AnyValue *v) {
  cJSON *o = cJSON_CreateObject();
  if (!v) return o;
  switch (v->value_case) {
  case APX_OTLP__ANY_VALUE__VALUE_ARRAY_VALUE: {
    cJSON *vals = cJSON_CreateArray();
    if (v->array_value)
      for (size_t i = 0; i < v->array_value->n_values; i++)
        cJSON_AddItemToArray(vals, pb_anyvalue_json(a, v->array_value->values[i]));
    cJSON *av = cJSON_AddObjectToObject(o, "arrayValue");
    cJSON_AddItemToObject(av, "values", vals);
    break;
  }
  case APX_OTLP__ANY_VALUE__VALUE_KVLIST_VALUE: {
    cJSON *kv = cJSON_AddObjectToObject(o, "kvlistValue");
    cJSON_AddItemToObject(kv, "values", v->kvlist_value ? pb_kvlist_json(a, v->kvlist_value->values,
                                                                         v->kvlist_value->n_values)
                                                        : cJSON_CreateArray());
    break;
  }
  case APX_OTLP__ANY_VALUE__VALUE_STRING_VALUE:
    cJSON_AddStringToObject(o, "stringValue", v->string_value ? v->string_value : "");
    break;
  case APX_OTLP__ANY_VALUE__VALUE_BOOL_VALUE: cJSON_AddBoolToObject(o, "boolValue", v->bool_value); break;
  case APX_OTLP__ANY_VALUE__VALUE_INT_VALUE:
    cJSON_AddStringToObject(o, "intValue", u64_text(a, (long long)v->int_value));
    break;
  case APX_OTLP__ANY_VALUE__VALUE_DOUBLE_VALUE:
    if (isfinite(v->double_value)) cJSON_AddNumberToObject(o, "doubleValue", v->double_value);
    else cJSON_AddStringToObject(o, "doubleValue", double_text(a, v->double_value));
    break;
  case APX_OTLP__ANY_VALUE__VALUE_BYTES_VALUE:
    cJSON_AddStringToObject(o, "bytesValue", base64(a, v->bytes_value.data, v->bytes_value.len));
    break;
  default: break;
  }
  return o;
}

static const char *pb_anyvalue_text(apx_arena *a, const ApxOtlp__AnyValue *v, apx_tel_vtype *type) {
  *type = APX_TEL_EMPTY;
  if (!v) return "";
  switch (v->value_case) {
  case APX_OTLP__ANY_VALUE__VALUE_STRING_VALUE:
    *type = APX_TEL_STR;
    return v->string_value ? v->string_value : "";
  case APX_OTLP__ANY_VALUE__VALUE_BOOL_VALUE:
    *type = APX_TEL_BOOL;
    return v->bool_value ? "true" : "false";
  case APX_OTLP__ANY_VALUE__VALUE_INT_VALUE:
    *type = APX_TEL_INT;
    return u64_text(a, (long long)v->int_value);
  case APX_OTLP__ANY_VALUE__VALUE_DOUBLE_VALUE:
    *type = APX_TEL_DOUBLE;
    return double_text(a, v->double_value);
  case APX_OTLP__ANY_VALUE__VALUE_BYTES_VALUE:
    *type = APX_TEL_BYTES;
    return base64(a, v->bytes_value.data, v->bytes_value.len);
  case APX_OTLP__ANY_VALUE__VALUE_ARRAY_VALUE:
  case APX_OTLP__ANY_VALUE__VALUE_KVLIST_VALUE: {
    *type = APX_TEL_JSON;
    cJSON *j = pb_anyvalue_json(a, v);
    const char *t = json_text(a, j);
    cJSON_Delete(j);
    return t;
  }
  default: return "";
  }
}

static apx_tel_kv *pb_kvs(apx_arena *a, ApxOtlp__KeyValue *const *kv, size_t n) {
  apx_tel_kv *out = apx_arena_alloc(a, (n ? n : 1) * sizeof *out);
  for (size_t i = 0; i < n; i++) {
    out[i].key = kv[i]->key ? kv[i]->key : "";
    out[i].value = pb_anyvalue_text(a, kv[i]->value, &out[i].type);
  }
  return out;
}

static apx_tel_resource *pb_resource(ingest *g, const ApxOtlp__Resource *r) {
  size_t n = r ? r->n_attributes : 0;
  apx_tel_kv *kv = pb_kvs(g->scratch, r ? r->attributes : NULL, n);
  return apx_tel_resource_get(g->s, kv, n);
}

static apx_tel_scope_in pb_scope(const ApxOtlp__InstrumentationScope *sc) {
  apx_tel_scope_in s = {sc && sc->name ? sc->name : "", sc && sc->version ? sc->version : ""};
  return s;
}

static bool id_copy(uint8_t *dst, const ProtobufCBinaryData *b, size_t n) {
  memset(dst, 0, n);
  if (b->len == 0) return true;
  if (b->len != n) return false;
  memcpy(dst, b->data, n);
  return true;
}

static void pb_traces(ingest *g, const ApxOtlp__ExportTraceServiceRequest *req) {
  for (size_t i = 0; i < req->n_resource_spans; i++) {
    const ApxOtlp__ResourceSpans *rs = req->resource_spans[i];
    apx_tel_resource *r = pb_resource(g, rs->resource);
    for (size_t j = 0; j < rs->n_scope_spans; j++) {
      const ApxOtlp__ScopeSpans *ss = rs->scope_spans[j];
      apx_tel_scope_in scope = pb_scope(ss->scope);
      for (size_t k = 0; k < ss->n_spans; k++) {
        const ApxOtlp__Span *sp = ss->spans[k];
        if (!r) {
          note(g, false, "too many resources");
          continue;
        }
        apx_tel_span_in in = {0};
        bool ids = sp->trace_id.len == 16 && sp->span_id.len == 8 && id_copy(in.trace_id, &sp->trace_id, 16) &&
                   id_copy(in.span_id, &sp->span_id, 8) && id_copy(in.parent_id, &sp->parent_span_id, 8);
        if (!ids) {
          note(g, false, "a span's traceId must be 16 bytes and its spanId and parentSpanId 8");
          continue;
        }
        in.has_parent = sp->parent_span_id.len == 8;
        in.name = sp->name;
        in.trace_state = sp->trace_state;
        in.kind = (int)sp->kind;
        in.flags = sp->flags;
        in.start = sp->start_time_unix_nano;
        in.end = sp->end_time_unix_nano;
        in.status_code = sp->status ? (int)sp->status->code : 0;
        in.status_message = sp->status ? sp->status->message : "";
        in.attrs = pb_kvs(g->scratch, sp->attributes, sp->n_attributes);
        in.nattrs = sp->n_attributes;
        apx_tel_event_in *ev = apx_arena_alloc(g->scratch, (sp->n_events ? sp->n_events : 1) * sizeof *ev);
        for (size_t e = 0; e < sp->n_events; e++) {
          ev[e].time = sp->events[e]->time_unix_nano;
          ev[e].name = sp->events[e]->name;
          ev[e].attrs = pb_kvs(g->scratch, sp->events[e]->attributes, sp->events[e]->n_attributes);
          ev[e].nattrs = sp->events[e]->n_attributes;
        }
        in.events = ev;
        in.nevents = sp->n_events;
        in.nlinks = (uint32_t)sp->n_links;
        in.dropped_attrs = sp->dropped_attributes_count;
        in.dropped_events = sp->dropped_events_count;
        in.dropped_links = sp->dropped_links_count;
        const char *why = NULL;
        note(g, apx_tel_add_span(g->s, r, &scope, &in, &why), why);
      }
    }
    apx_arena_reset(g->scratch);
  }
}

static void pb_logs(ingest *g, const ApxOtlp__ExportLogsServiceRequest *req) {
  for (size_t i = 0; i < req->n_resource_logs; i++) {
    const ApxOtlp__ResourceLogs *rl = req->resource_logs[i];
    apx_tel_resource *r = pb_resource(g, rl->resource);
    for (size_t j = 0; j < rl->n_scope_logs; j++) {
      const ApxOtlp__ScopeLogs *sl = rl->scope_logs[j];
      apx_tel_scope_in scope = pb_scope(sl->scope);
      for (size_t k = 0; k < sl->n_log_records; k++) {
        const ApxOtlp__LogRecord *lr = sl->log_records[k];
        if (!r) {
          note(g, false, "too many resources");
          continue;
        }
        apx_tel_log_in in = {0};
        if (!id_copy(in.trace_id, &lr->trace_id, 16) || !id_copy(in.span_id, &lr->span_id, 8)) {
          note(g, false, "a log record's traceId must be 16 bytes and its spanId 8");
          continue;
        }
        in.has_trace = lr->trace_id.len == 16;
        in.has_span = lr->span_id.len == 8;
        in.time = lr->time_unix_nano;
        in.observed = lr->observed_time_unix_nano;
        in.severity = (int)lr->severity_number;
        in.severity_text = lr->severity_text;
        in.event_name = lr->event_name;
        in.body.key = "";
        in.body.value = lr->body ? pb_anyvalue_text(g->scratch, lr->body, &in.body.type) : NULL;
        in.attrs = pb_kvs(g->scratch, lr->attributes, lr->n_attributes);
        in.nattrs = lr->n_attributes;
        in.flags = lr->flags;
        in.dropped_attrs = lr->dropped_attributes_count;
        const char *why = NULL;
        note(g, apx_tel_add_log(g->s, r, &scope, &in, &why), why);
      }
    }
    apx_arena_reset(g->scratch);
  }
}

static void pb_point(ingest *g, apx_tel_resource *r, const apx_tel_scope_in *scope, apx_tel_point_in *in,
                     ApxOtlp__KeyValue *const *attrs, size_t nattrs) {
  if (!r) {
    note(g, false, "too many resources");
    return;
  }
  in->attrs = pb_kvs(g->scratch, attrs, nattrs);
  in->nattrs = nattrs;
  const char *why = NULL;
  note(g, apx_tel_add_point(g->s, r, scope, in, &why), why);
}

static void pb_metrics(ingest *g, const ApxOtlp__ExportMetricsServiceRequest *req) {
  for (size_t i = 0; i < req->n_resource_metrics; i++) {
    const ApxOtlp__ResourceMetrics *rm = req->resource_metrics[i];
    apx_tel_resource *r = pb_resource(g, rm->resource);
    for (size_t j = 0; j < rm->n_scope_metrics; j++) {
      const ApxOtlp__ScopeMetrics *sm = rm->scope_metrics[j];
      apx_tel_scope_in scope = pb_scope(sm->scope);
      for (size_t k = 0; k < sm->n_metrics; k++) {
        const ApxOtlp__Metric *m = sm->metrics[k];
        apx_tel_point_in base = {0};
        base.name = m->name;
        base.description = m->description;
        base.unit = m->unit;
        base.p50 = base.p90 = base.p99 = NAN;
        switch (m->data_case) {
        case APX_OTLP__METRIC__DATA_GAUGE:
        case APX_OTLP__METRIC__DATA_SUM: {
          bool sum = m->data_case == APX_OTLP__METRIC__DATA_SUM;
          size_t n = sum ? m->sum->n_data_points : m->gauge->n_data_points;
          ApxOtlp__NumberDataPoint **dps = sum ? m->sum->data_points : m->gauge->data_points;
          base.kind = sum ? APX_TEL_SUM : APX_TEL_GAUGE;
          if (sum) {
            base.monotonic = m->sum->is_monotonic;
            base.temporality = (int)m->sum->aggregation_temporality;
          }
          for (size_t d = 0; d < n; d++) {
            apx_tel_point_in in = base;
            in.start = dps[d]->start_time_unix_nano;
            in.time = dps[d]->time_unix_nano;
            if (dps[d]->value_case == APX_OTLP__NUMBER_DATA_POINT__VALUE_AS_INT) in.value = (double)dps[d]->as_int;
            else if (dps[d]->value_case == APX_OTLP__NUMBER_DATA_POINT__VALUE_AS_DOUBLE) in.value = dps[d]->as_double;
            else if (dps[d]->flags & 1) continue; /* no recorded value: not a point */
            else {
              note(g, false, "a number data point without asInt or asDouble");
              continue;
            }
            pb_point(g, r, &scope, &in, dps[d]->attributes, dps[d]->n_attributes);
          }
          break;
        }
        case APX_OTLP__METRIC__DATA_HISTOGRAM:
          base.kind = APX_TEL_HISTOGRAM;
          base.temporality = (int)m->histogram->aggregation_temporality;
          for (size_t d = 0; d < m->histogram->n_data_points; d++) {
            const ApxOtlp__HistogramDataPoint *dp = m->histogram->data_points[d];
            apx_tel_point_in in = base;
            in.start = dp->start_time_unix_nano;
            in.time = dp->time_unix_nano;
            in.count = dp->count;
            in.sum = dp->sum;
            in.min = dp->min;
            in.max = dp->max;
            in.value = dp->count ? dp->sum / (double)dp->count : 0;
            explicit_buckets(&in, dp->explicit_bounds, dp->n_explicit_bounds, dp->bucket_counts,
                               dp->n_bucket_counts);
            pb_point(g, r, &scope, &in, dp->attributes, dp->n_attributes);
          }
          break;
        case APX_OTLP__METRIC__DATA_EXPONENTIAL_HISTOGRAM:
          base.kind = APX_TEL_EXP_HISTOGRAM;
          base.temporality = (int)m->exponential_histogram->aggregation_temporality;
          for (size_t d = 0; d < m->exponential_histogram->n_data_points; d++) {
            const ApxOtlp__ExponentialHistogramDataPoint *dp = m->exponential_histogram->data_points[d];
            apx_tel_point_in in = base;
            in.start = dp->start_time_unix_nano;
            in.time = dp->time_unix_nano;
            in.count = dp->count;
            in.sum = dp->sum;
            in.value = dp->count ? dp->sum / (double)dp->count : 0;
            if (dp->positive)
              exp_buckets(g->scratch, &in, dp->scale, dp->positive->offset, dp->positive->bucket_counts,
                            dp->positive->n_bucket_counts, dp->zero_count);
            pb_point(g, r, &scope, &in, dp->attributes, dp->n_attributes);
          }
          break;
        case APX_OTLP__METRIC__DATA_SUMMARY:
          base.kind = APX_TEL_SUMMARY;
          for (size_t d = 0; d < m->summary->n_data_points; d++) {
            const ApxOtlp__SummaryDataPoint *dp = m->summary->data_points[d];
            apx_tel_point_in in = base;
            in.start = dp->start_time_unix_nano;
            in.time = dp->time_unix_nano;
            in.count = dp->count;
            in.sum = dp->sum;
            in.value = dp->count ? dp->sum / (double)dp->count : 0;
            for (size_t q = 0; q < dp->n_quantile_values; q++) {
              double qq = dp->quantile_values[q]->quantile, v = dp->quantile_values[q]->value;
              if (fabs(qq - 0.5) < 1e-9) in.p50 = v;
              else if (fabs(qq - 0.9) < 1e-9) in.p90 = v;
              else if (fabs(qq - 0.99) < 1e-9) in.p99 = v;
            }
            pb_point(g, r, &scope, &in, dp->attributes, dp->n_attributes);
          }
          break;
        default:
          note(g, false, "a metric without data");
          break;
        }
      }
    }
    apx_arena_reset(g->scratch);
  }
}

/* protobuf-c's allocations for one request from a bump pool, freed at
 * once: unpacking a batch makes a block per message, string and array
 * (about 30 per span), and malloc and free of each cost a third of the
 * ingest (bench/run/README.md). */
typedef struct pb_chunk {
  struct pb_chunk *next;
  size_t size;
} pb_chunk;
typedef struct pb_pool {
  char *cur, *end;
  pb_chunk *chunks;
} pb_pool;

static void *pb_alloc(void *ud, size_t n) {
  pb_pool *p = ud;
  n = (n + 15) & ~(size_t)15;
  if ((size_t)(p->end - p->cur) < n) {
    size_t size = n + sizeof(pb_chunk) + 16 > 256 * 1024 ? n + sizeof(pb_chunk) + 16 : 256 * 1024;
    pb_chunk *c = malloc(size);
    if (!c) return NULL; /* protobuf-c fails the unpack */
    c->next = p->chunks;
    c->size = size;
    p->chunks = c;
    p->cur = (char *)c + ((sizeof(pb_chunk) + 15) & ~(size_t)15);
    p->end = (char *)c + size;
  }
  void *r = p->cur;
  p->cur += n;
  return r;
}
static void pb_free(void *ud, void *ptr) {
  (void)ud;
  (void)ptr; /* the pool goes whole */
}
static void pb_pool_free(pb_pool *p) {
  for (pb_chunk *c = p->chunks, *n; c; c = n) {
    n = c->next;
    free(c);
  }
}

/* false: not a valid message of that signal. */
static bool decode_protobuf(ingest *g, apx_otlp_signal sig, const uint8_t *data, size_t len) {
  const ProtobufCMessageDescriptor *d = sig == APX_OTLP_TRACES ? &apx_otlp__export_trace_service_request__descriptor
                                        : sig == APX_OTLP_LOGS ? &apx_otlp__export_logs_service_request__descriptor
                                                               : &apx_otlp__export_metrics_service_request__descriptor;
  if (!wire_check(d, data, data + len, 0)) return false;
  pb_pool pool = {NULL, NULL, NULL};
  ProtobufCAllocator alloc = {pb_alloc, pb_free, &pool};
  ProtobufCMessage *m = protobuf_c_message_unpack(d, &alloc, len, data);
  if (m) {
    switch (sig) {
    case APX_OTLP_TRACES: pb_traces(g, (ApxOtlp__ExportTraceServiceRequest *)m); break;
    case APX_OTLP_LOGS: pb_logs(g, (ApxOtlp__ExportLogsServiceRequest *)m); break;
    case APX_OTLP_METRICS: pb_metrics(g, (ApxOtlp__ExportMetricsServiceRequest *)m); break;
    }
  }
  pb_pool_free(&pool);
  return m != NULL;
}

/* ================= JSON ================= */

/* Structural errors (a field of the wrong type) make the whole request a
 * 400; j->bad holds the first. */
typedef struct jctx {
  ingest *g;
  const char *bad;
} jctx;

static cJSON *jget(const cJSON *o, const char *key) { return cJSON_GetObjectItemCaseSensitive(o, key); }

static cJSON *jarray(jctx *j, const cJSON *o, const char *key) {
  cJSON *a = jget(o, key);
  if (a && !cJSON_IsArray(a) && !cJSON_IsNull(a)) {
    if (!j->bad) j->bad = key;
    return NULL;
  }
  return cJSON_IsArray(a) ? a : NULL;
}

static const cJSON *jobject(jctx *j, const cJSON *o, const char *key) {
  cJSON *v = jget(o, key);
  if (v && !cJSON_IsObject(v) && !cJSON_IsNull(v)) {
    if (!j->bad) j->bad = key;
    return NULL;
  }
  return cJSON_IsObject(v) ? v : NULL;
}

static const char *jstr(jctx *j, const cJSON *o, const char *key) {
  cJSON *v = jget(o, key);
  if (!v || cJSON_IsNull(v)) return "";
  if (!cJSON_IsString(v)) {
    if (!j->bad) j->bad = key;
    return "";
  }
  return v->valuestring;
}

/* 64-bit integers: a decimal string (the OTLP/JSON form) or a number. */
static uint64_t ju64(jctx *j, const cJSON *o, const char *key) {
  cJSON *v = jget(o, key);
  if (!v || cJSON_IsNull(v)) return 0;
  if (cJSON_IsNumber(v)) {
    if (v->valuedouble < 0 || !(v->valuedouble < 1.8446744073709552e19)) goto bad;
    return (uint64_t)v->valuedouble;
  }
  if (cJSON_IsString(v)) {
    const char *t = v->valuestring;
    if (!*t || *t == '-' || *t == '+' || *t == ' ') goto bad;
    char *end;
    errno = 0;
    unsigned long long r = strtoull(t, &end, 10);
    if (*end || errno) goto bad;
    return r;
  }
bad:
  if (!j->bad) j->bad = key;
  return 0;
}

static int64_t ji64_value(jctx *j, const cJSON *v, const char *key) {
  if (cJSON_IsNumber(v)) {
    if (!(fabs(v->valuedouble) < 9.2e18)) goto bad;
    return (int64_t)v->valuedouble;
  }
  if (cJSON_IsString(v)) {
    char *end;
    errno = 0;
    long long r = strtoll(v->valuestring, &end, 10);
    if (!*v->valuestring || *end || errno) goto bad;
    return r;
  }
bad:
  if (!j->bad) j->bad = key;
  return 0;
}

/* Enums are integers in OTLP/JSON. */
static int jint(jctx *j, const cJSON *o, const char *key, int lo, int hi) {
  cJSON *v = jget(o, key);
  if (!v || cJSON_IsNull(v)) return 0;
  if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi) {
    if (!j->bad) j->bad = key;
    return 0;
  }
  return (int)v->valuedouble;
}

static double jdouble_value(jctx *j, const cJSON *v, const char *key) {
  if (!v || cJSON_IsNull(v)) return 0;
  if (cJSON_IsNumber(v)) return v->valuedouble;
  if (cJSON_IsString(v)) { /* "NaN", "Infinity", "-Infinity" (proto3 JSON) */
    if (strcmp(v->valuestring, "NaN") == 0) return NAN;
    if (strcmp(v->valuestring, "Infinity") == 0) return INFINITY;
    if (strcmp(v->valuestring, "-Infinity") == 0) return -INFINITY;
    char *end;
    double d = strtod(v->valuestring, &end);
    if (*v->valuestring && !*end) return d;
  }
  if (!j->bad) j->bad = key;
  return 0;
}

/* A hex id: absent or "" is all zeros (false in *present). */
static bool jid(jctx *j, const cJSON *o, const char *key, uint8_t *out, size_t n, bool *present) {
  const char *t = jstr(j, o, key);
  memset(out, 0, n);
  *present = *t != 0;
  if (!*t) return true;
  return apx_tel_hex_decode(t, out, n);
}

static const char *j_anyvalue_text(jctx *j, const cJSON *v, apx_tel_vtype *type) {
  apx_arena *a = j->g->scratch;
  *type = APX_TEL_EMPTY;
  if (!v || cJSON_IsNull(v)) return "";
  if (!cJSON_IsObject(v)) {
    if (!j->bad) j->bad = "value";
    return "";
  }
  cJSON *x;
  if ((x = jget(v, "stringValue"))) {
    *type = APX_TEL_STR;
    if (!cJSON_IsString(x)) goto bad;
    return x->valuestring;
  }
  if ((x = jget(v, "boolValue"))) {
    *type = APX_TEL_BOOL;
    if (!cJSON_IsBool(x)) goto bad;
    return cJSON_IsTrue(x) ? "true" : "false";
  }
  if ((x = jget(v, "intValue"))) {
    *type = APX_TEL_INT;
    return u64_text(a, (long long)ji64_value(j, x, "intValue"));
  }
  if ((x = jget(v, "doubleValue"))) {
    *type = APX_TEL_DOUBLE;
    return double_text(a, jdouble_value(j, x, "doubleValue"));
  }
  if ((x = jget(v, "bytesValue"))) {
    *type = APX_TEL_BYTES;
    if (!cJSON_IsString(x)) goto bad;
    return x->valuestring;
  }
  if ((x = jget(v, "arrayValue")) || (x = jget(v, "kvlistValue"))) {
    *type = APX_TEL_JSON;
    if (!cJSON_IsObject(x)) goto bad;
    cJSON *vals = jget(x, "values");
    if (vals && !cJSON_IsArray(vals)) goto bad;
    return json_text(a, (cJSON *)v); /* already OTLP/JSON: kept as sent */
  }
  return "";
bad:
  if (!j->bad) j->bad = "value";
  return "";
}

static apx_tel_kv *j_kvs(jctx *j, const cJSON *o, const char *key, size_t *n) {
  cJSON *arr = jarray(j, o, key);
  *n = (size_t)cJSON_GetArraySize(arr);
  apx_tel_kv *kv = apx_arena_alloc(j->g->scratch, (*n ? *n : 1) * sizeof *kv);
  size_t i = 0;
  for (cJSON *e = arr ? arr->child : NULL; e; e = e->next) {
    if (!cJSON_IsObject(e)) {
      if (!j->bad) j->bad = key;
      continue;
    }
    kv[i].key = jstr(j, e, "key");
    kv[i].value = j_anyvalue_text(j, jget(e, "value"), &kv[i].type);
    i++;
  }
  *n = i;
  return kv;
}

static apx_tel_resource *j_resource(jctx *j, const cJSON *rs) {
  const cJSON *res = jobject(j, rs, "resource");
  size_t n = 0;
  apx_tel_kv *kv = res ? j_kvs(j, res, "attributes", &n) : NULL;
  return apx_tel_resource_get(j->g->s, kv, n);
}

static apx_tel_scope_in j_scope(jctx *j, const cJSON *ss) {
  const cJSON *sc = jobject(j, ss, "scope");
  apx_tel_scope_in s = {sc ? jstr(j, sc, "name") : "", sc ? jstr(j, sc, "version") : ""};
  return s;
}

static void j_traces(jctx *j, const cJSON *root) {
  cJSON *rss = jarray(j, root, "resourceSpans");
  for (cJSON *rs = rss ? rss->child : NULL; rs && !j->bad; rs = rs->next) {
    if (!cJSON_IsObject(rs)) { j->bad = "resourceSpans"; break; }
    apx_tel_resource *r = j_resource(j, rs);
    cJSON *sss = jarray(j, rs, "scopeSpans");
    for (cJSON *ss = sss ? sss->child : NULL; ss && !j->bad; ss = ss->next) {
      if (!cJSON_IsObject(ss)) { j->bad = "scopeSpans"; break; }
      apx_tel_scope_in scope = j_scope(j, ss);
      cJSON *spans = jarray(j, ss, "spans");
      for (cJSON *sp = spans ? spans->child : NULL; sp && !j->bad; sp = sp->next) {
        if (!cJSON_IsObject(sp)) { j->bad = "spans"; break; }
        apx_tel_span_in in = {0};
        bool has_t, has_s;
        bool ok = jid(j, sp, "traceId", in.trace_id, 16, &has_t) & jid(j, sp, "spanId", in.span_id, 8, &has_s) &
                  jid(j, sp, "parentSpanId", in.parent_id, 8, &in.has_parent);
        in.name = jstr(j, sp, "name");
        in.trace_state = jstr(j, sp, "traceState");
        in.kind = jint(j, sp, "kind", 0, 5);
        in.flags = (uint32_t)ju64(j, sp, "flags");
        in.start = ju64(j, sp, "startTimeUnixNano");
        in.end = ju64(j, sp, "endTimeUnixNano");
        const cJSON *st = jobject(j, sp, "status");
        in.status_code = st ? jint(j, st, "code", 0, 2) : 0;
        in.status_message = st ? jstr(j, st, "message") : "";
        in.attrs = j_kvs(j, sp, "attributes", &in.nattrs);
        cJSON *evs = jarray(j, sp, "events");
        size_t ne = (size_t)cJSON_GetArraySize(evs), e = 0;
        apx_tel_event_in *ev = apx_arena_alloc(j->g->scratch, (ne ? ne : 1) * sizeof *ev);
        for (cJSON *x = evs ? evs->child : NULL; x; x = x->next) {
          if (!cJSON_IsObject(x)) { if (!j->bad) j->bad = "events"; continue; }
          ev[e].time = ju64(j, x, "timeUnixNano");
          ev[e].name = jstr(j, x, "name");
          ev[e].attrs = j_kvs(j, x, "attributes", &ev[e].nattrs);
          e++;
        }
        in.events = ev;
        in.nevents = e;
        in.nlinks = (uint32_t)cJSON_GetArraySize(jarray(j, sp, "links"));
        in.dropped_attrs = (uint32_t)ju64(j, sp, "droppedAttributesCount");
        in.dropped_events = (uint32_t)ju64(j, sp, "droppedEventsCount");
        in.dropped_links = (uint32_t)ju64(j, sp, "droppedLinksCount");
        if (j->bad) break;
        if (!r) { note(j->g, false, "too many resources"); continue; }
        if (!ok || !has_t || !has_s) {
          note(j->g, false, "a span's traceId must be 32 hex digits and its spanId and parentSpanId 16");
          continue;
        }
        const char *why = NULL;
        note(j->g, apx_tel_add_span(j->g->s, r, &scope, &in, &why), why);
      }
    }
    apx_arena_reset(j->g->scratch);
  }
}

static void j_logs(jctx *j, const cJSON *root) {
  cJSON *rls = jarray(j, root, "resourceLogs");
  for (cJSON *rl = rls ? rls->child : NULL; rl && !j->bad; rl = rl->next) {
    if (!cJSON_IsObject(rl)) { j->bad = "resourceLogs"; break; }
    apx_tel_resource *r = j_resource(j, rl);
    cJSON *sls = jarray(j, rl, "scopeLogs");
    for (cJSON *sl = sls ? sls->child : NULL; sl && !j->bad; sl = sl->next) {
      if (!cJSON_IsObject(sl)) { j->bad = "scopeLogs"; break; }
      apx_tel_scope_in scope = j_scope(j, sl);
      cJSON *lrs = jarray(j, sl, "logRecords");
      for (cJSON *lr = lrs ? lrs->child : NULL; lr && !j->bad; lr = lr->next) {
        if (!cJSON_IsObject(lr)) { j->bad = "logRecords"; break; }
        apx_tel_log_in in = {0};
        bool ok = jid(j, lr, "traceId", in.trace_id, 16, &in.has_trace) & jid(j, lr, "spanId", in.span_id, 8, &in.has_span);
        in.time = ju64(j, lr, "timeUnixNano");
        in.observed = ju64(j, lr, "observedTimeUnixNano");
        in.severity = jint(j, lr, "severityNumber", 0, 24);
        in.severity_text = jstr(j, lr, "severityText");
        in.event_name = jstr(j, lr, "eventName");
        in.body.key = "";
        cJSON *body = jget(lr, "body");
        in.body.value = body ? j_anyvalue_text(j, body, &in.body.type) : NULL;
        in.attrs = j_kvs(j, lr, "attributes", &in.nattrs);
        in.flags = (uint32_t)ju64(j, lr, "flags");
        in.dropped_attrs = (uint32_t)ju64(j, lr, "droppedAttributesCount");
        if (j->bad) break;
        if (!r) { note(j->g, false, "too many resources"); continue; }
        if (!ok) {
          note(j->g, false, "a log record's traceId must be 32 hex digits and its spanId 16");
          continue;
        }
        const char *why = NULL;
        note(j->g, apx_tel_add_log(j->g->s, r, &scope, &in, &why), why);
      }
    }
    apx_arena_reset(j->g->scratch);
  }
}

static void j_add_point(jctx *j, apx_tel_resource *r, const apx_tel_scope_in *scope, apx_tel_point_in *in,
                        const cJSON *dp) {
  in->attrs = j_kvs(j, dp, "attributes", &in->nattrs);
  in->start = ju64(j, dp, "startTimeUnixNano");
  in->time = ju64(j, dp, "timeUnixNano");
  if (j->bad) return;
  if (!r) {
    note(j->g, false, "too many resources");
    return;
  }
  const char *why = NULL;
  note(j->g, apx_tel_add_point(j->g->s, r, scope, in, &why), why);
}

static double *j_doubles(jctx *j, const cJSON *o, const char *key, size_t *n) {
  cJSON *arr = jarray(j, o, key);
  *n = (size_t)cJSON_GetArraySize(arr);
  double *d = apx_arena_alloc(j->g->scratch, (*n ? *n : 1) * sizeof *d);
  size_t i = 0;
  for (cJSON *e = arr ? arr->child : NULL; e; e = e->next) d[i++] = jdouble_value(j, e, key);
  return d;
}

static uint64_t *j_u64s(jctx *j, const cJSON *o, const char *key, size_t *n) {
  cJSON *arr = jarray(j, o, key);
  *n = (size_t)cJSON_GetArraySize(arr);
  uint64_t *d = apx_arena_alloc(j->g->scratch, (*n ? *n : 1) * sizeof *d);
  size_t i = 0;
  for (cJSON *e = arr ? arr->child : NULL; e; e = e->next) {
    int64_t v = ji64_value(j, e, key);
    d[i++] = v < 0 ? 0 : (uint64_t)v;
  }
  return d;
}

static void j_metric(jctx *j, apx_tel_resource *r, const apx_tel_scope_in *scope, const cJSON *m) {
  apx_tel_point_in base = {0};
  base.name = jstr(j, m, "name");
  base.description = jstr(j, m, "description");
  base.unit = jstr(j, m, "unit");
  base.p50 = base.p90 = base.p99 = NAN;
  const cJSON *data;
  if ((data = jobject(j, m, "gauge")) || (data = jobject(j, m, "sum"))) {
    bool sum = jget(m, "sum") == data;
    base.kind = sum ? APX_TEL_SUM : APX_TEL_GAUGE;
    if (sum) {
      cJSON *mono = jget(data, "isMonotonic");
      base.monotonic = cJSON_IsTrue(mono);
      base.temporality = jint(j, data, "aggregationTemporality", 0, 2);
    }
    cJSON *dps = jarray(j, data, "dataPoints");
    for (cJSON *dp = dps ? dps->child : NULL; dp && !j->bad; dp = dp->next) {
      if (!cJSON_IsObject(dp)) { j->bad = "dataPoints"; break; }
      apx_tel_point_in in = base;
      cJSON *v;
      if ((v = jget(dp, "asInt"))) in.value = (double)ji64_value(j, v, "asInt");
      else if ((v = jget(dp, "asDouble"))) in.value = jdouble_value(j, v, "asDouble");
      else if (ju64(j, dp, "flags") & 1) continue;
      else {
        note(j->g, false, "a number data point without asInt or asDouble");
        continue;
      }
      j_add_point(j, r, scope, &in, dp);
    }
  } else if ((data = jobject(j, m, "histogram"))) {
    base.kind = APX_TEL_HISTOGRAM;
    base.temporality = jint(j, data, "aggregationTemporality", 0, 2);
    cJSON *dps = jarray(j, data, "dataPoints");
    for (cJSON *dp = dps ? dps->child : NULL; dp && !j->bad; dp = dp->next) {
      if (!cJSON_IsObject(dp)) { j->bad = "dataPoints"; break; }
      apx_tel_point_in in = base;
      in.count = ju64(j, dp, "count");
      in.sum = jdouble_value(j, jget(dp, "sum"), "sum");
      in.min = jdouble_value(j, jget(dp, "min"), "min");
      in.max = jdouble_value(j, jget(dp, "max"), "max");
      in.value = in.count ? in.sum / (double)in.count : 0;
      size_t nb, nc;
      double *bounds = j_doubles(j, dp, "explicitBounds", &nb);
      uint64_t *counts = j_u64s(j, dp, "bucketCounts", &nc);
      explicit_buckets(&in, bounds, nb, counts, nc);
      j_add_point(j, r, scope, &in, dp);
    }
  } else if ((data = jobject(j, m, "exponentialHistogram"))) {
    base.kind = APX_TEL_EXP_HISTOGRAM;
    base.temporality = jint(j, data, "aggregationTemporality", 0, 2);
    cJSON *dps = jarray(j, data, "dataPoints");
    for (cJSON *dp = dps ? dps->child : NULL; dp && !j->bad; dp = dp->next) {
      if (!cJSON_IsObject(dp)) { j->bad = "dataPoints"; break; }
      apx_tel_point_in in = base;
      in.count = ju64(j, dp, "count");
      in.sum = jdouble_value(j, jget(dp, "sum"), "sum");
      in.value = in.count ? in.sum / (double)in.count : 0;
      const cJSON *pos = jobject(j, dp, "positive");
      if (pos) {
        size_t nc;
        uint64_t *counts = j_u64s(j, pos, "bucketCounts", &nc);
        exp_buckets(j->g->scratch, &in, jint(j, dp, "scale", -10, 20), jint(j, pos, "offset", -100000, 100000),
                      counts, nc, ju64(j, dp, "zeroCount"));
      }
      j_add_point(j, r, scope, &in, dp);
    }
  } else if ((data = jobject(j, m, "summary"))) {
    base.kind = APX_TEL_SUMMARY;
    cJSON *dps = jarray(j, data, "dataPoints");
    for (cJSON *dp = dps ? dps->child : NULL; dp && !j->bad; dp = dp->next) {
      if (!cJSON_IsObject(dp)) { j->bad = "dataPoints"; break; }
      apx_tel_point_in in = base;
      in.count = ju64(j, dp, "count");
      in.sum = jdouble_value(j, jget(dp, "sum"), "sum");
      in.value = in.count ? in.sum / (double)in.count : 0;
      cJSON *qs = jarray(j, dp, "quantileValues");
      for (cJSON *q = qs ? qs->child : NULL; q; q = q->next) {
        double qq = jdouble_value(j, jget(q, "quantile"), "quantile"), v = jdouble_value(j, jget(q, "value"), "value");
        if (fabs(qq - 0.5) < 1e-9) in.p50 = v;
        else if (fabs(qq - 0.9) < 1e-9) in.p90 = v;
        else if (fabs(qq - 0.99) < 1e-9) in.p99 = v;
      }
      j_add_point(j, r, scope, &in, dp);
    }
  } else if (!j->bad) {
    note(j->g, false, "a metric without data");
  }
}

static void j_metrics(jctx *j, const cJSON *root) {
  cJSON *rms = jarray(j, root, "resourceMetrics");
  for (cJSON *rm = rms ? rms->child : NULL; rm && !j->bad; rm = rm->next) {
    if (!cJSON_IsObject(rm)) { j->bad = "resourceMetrics"; break; }
    apx_tel_resource *r = j_resource(j, rm);
    cJSON *sms = jarray(j, rm, "scopeMetrics");
    for (cJSON *sm = sms ? sms->child : NULL; sm && !j->bad; sm = sm->next) {
      if (!cJSON_IsObject(sm)) { j->bad = "scopeMetrics"; break; }
      apx_tel_scope_in scope = j_scope(j, sm);
      cJSON *ms = jarray(j, sm, "metrics");
      for (cJSON *m = ms ? ms->child : NULL; m && !j->bad; m = m->next) {
        if (!cJSON_IsObject(m)) { j->bad = "metrics"; break; }
        j_metric(j, r, &scope, m);
      }
    }
    apx_arena_reset(j->g->scratch);
  }
}

/* NULL: decoded (records may still be rejected); else what is wrong. A
 * structural error found after some records were stored leaves them: the
 * request still gets its 400. */
static const char *decode_json(ingest *g, apx_otlp_signal sig, const char *data, size_t len, char *msg,
                               size_t msgcap) {
  cJSON *root = cJSON_ParseWithLength(data, len);
  if (!root) return "the body is not JSON";
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    return "the body is not a JSON object";
  }
  jctx j = {g, NULL};
  switch (sig) {
  case APX_OTLP_TRACES: j_traces(&j, root); break;
  case APX_OTLP_LOGS: j_logs(&j, root); break;
  case APX_OTLP_METRICS: j_metrics(&j, root); break;
  }
  cJSON_Delete(root);
  if (j.bad) {
    snprintf(msg, msgcap, "the field \"%.60s\" has the wrong type or value", j.bad);
    return msg;
  }
  return NULL;
}

/* ================= the request ================= */

/* The media type without parameters, compared case-insensitively. */
static bool media_is(const char *ct, const char *want) {
  if (!ct) return false;
  while (*ct == ' ') ct++;
  size_t n = strlen(want);
  if (strncasecmp(ct, want, n) != 0) return false;
  ct += n;
  while (*ct == ' ') ct++;
  return *ct == 0 || *ct == ';';
}

/* 0 and the inflated body in *out, or an HTTP status (400 corrupt, 413 too big). */
static int gunzip(const void *in, size_t len, unsigned char **out, size_t *out_len) {
  z_stream z;
  memset(&z, 0, sizeof z);
  if (inflateInit2(&z, 15 + 32) != Z_OK) return 400; /* +32: gzip or zlib header */
  size_t cap = len * 4 + 1024, n = 0;
  if (cap > APX_OTLP_MAX_INFLATED) cap = APX_OTLP_MAX_INFLATED;
  unsigned char *buf = malloc(cap);
  if (!buf) abort();
  z.next_in = (unsigned char *)(uintptr_t)in;
  z.avail_in = (uInt)len;
  int rc;
  do {
    if (n == cap) {
      if (cap >= APX_OTLP_MAX_INFLATED) {
        inflateEnd(&z);
        free(buf);
        return 413;
      }
      cap = cap * 2 > APX_OTLP_MAX_INFLATED ? APX_OTLP_MAX_INFLATED : cap * 2;
      buf = realloc(buf, cap);
      if (!buf) abort();
    }
    z.next_out = buf + n;
    z.avail_out = (uInt)(cap - n);
    rc = inflate(&z, Z_NO_FLUSH);
    n = cap - z.avail_out;
  } while (rc == Z_OK);
  inflateEnd(&z);
  if (rc != Z_STREAM_END) {
    free(buf);
    return 400;
  }
  *out = buf;
  *out_len = n;
  return 0;
}

static void respond_error(apx_otlp_result *out, bool protobuf, int status, const char *msg) {
  out->status = status;
  if (msg != out->message) snprintf(out->message, sizeof out->message, "%s", msg);
  /* google.rpc.Status: code 3 INVALID_ARGUMENT, 8 RESOURCE_EXHAUSTED, 3 for the rest */
  int code = status == 413 ? 8 : 3;
  if (protobuf) {
    ApxOtlp__RpcStatus st = APX_OTLP__RPC_STATUS__INIT;
    st.code = code;
    st.message = out->message;
    out->body_len = apx_otlp__rpc_status__get_packed_size(&st);
    out->body = malloc(out->body_len ? out->body_len : 1);
    if (!out->body) abort();
    apx_otlp__rpc_status__pack(&st, out->body);
    out->content_type = "application/x-protobuf";
  } else {
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "code", code);
    cJSON_AddStringToObject(o, "message", out->message);
    char *t = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    out->body = (unsigned char *)t;
    out->body_len = strlen(t);
    out->content_type = "application/json";
  }
}

/* The Export*ServiceResponse: empty, or a partial success naming how many
 * were rejected and why. */
static void respond_ok(apx_otlp_result *out, apx_otlp_signal sig, bool protobuf) {
  out->status = 200;
  bool partial = out->rejected > 0;
  if (protobuf) {
    out->content_type = "application/x-protobuf";
    size_t n = 0;
    uint8_t *buf = NULL;
    switch (sig) {
    case APX_OTLP_TRACES: {
      ApxOtlp__ExportTraceServiceResponse r = APX_OTLP__EXPORT_TRACE_SERVICE_RESPONSE__INIT;
      ApxOtlp__ExportTracePartialSuccess p = APX_OTLP__EXPORT_TRACE_PARTIAL_SUCCESS__INIT;
      p.rejected_spans = (int64_t)out->rejected;
      p.error_message = out->message;
      if (partial) r.partial_success = &p;
      n = apx_otlp__export_trace_service_response__get_packed_size(&r);
      buf = malloc(n ? n : 1);
      if (buf) apx_otlp__export_trace_service_response__pack(&r, buf);
      break;
    }
    case APX_OTLP_LOGS: {
      ApxOtlp__ExportLogsServiceResponse r = APX_OTLP__EXPORT_LOGS_SERVICE_RESPONSE__INIT;
      ApxOtlp__ExportLogsPartialSuccess p = APX_OTLP__EXPORT_LOGS_PARTIAL_SUCCESS__INIT;
      p.rejected_log_records = (int64_t)out->rejected;
      p.error_message = out->message;
      if (partial) r.partial_success = &p;
      n = apx_otlp__export_logs_service_response__get_packed_size(&r);
      buf = malloc(n ? n : 1);
      if (buf) apx_otlp__export_logs_service_response__pack(&r, buf);
      break;
    }
    case APX_OTLP_METRICS: {
      ApxOtlp__ExportMetricsServiceResponse r = APX_OTLP__EXPORT_METRICS_SERVICE_RESPONSE__INIT;
      ApxOtlp__ExportMetricsPartialSuccess p = APX_OTLP__EXPORT_METRICS_PARTIAL_SUCCESS__INIT;
      p.rejected_data_points = (int64_t)out->rejected;
      p.error_message = out->message;
      if (partial) r.partial_success = &p;
      n = apx_otlp__export_metrics_service_response__get_packed_size(&r);
      buf = malloc(n ? n : 1);
      if (buf) apx_otlp__export_metrics_service_response__pack(&r, buf);
      break;
    }
    }
    if (!buf) abort();
    out->body = buf;
    out->body_len = n;
  } else {
    static const char *const keys[] = {"rejectedSpans", "rejectedLogRecords", "rejectedDataPoints"};
    cJSON *o = cJSON_CreateObject();
    if (partial) {
      cJSON *p = cJSON_AddObjectToObject(o, "partialSuccess");
      char num[24];
      snprintf(num, sizeof num, "%zu", out->rejected); /* int64: a string in OTLP/JSON */
      cJSON_AddStringToObject(p, keys[sig], num);
      cJSON_AddStringToObject(p, "errorMessage", out->message);
    }
    char *t = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    out->body = (unsigned char *)t;
    out->body_len = strlen(t);
    out->content_type = "application/json";
  }
}

void apx_otlp_ingest(apx_tel_store *s, apx_otlp_signal sig, const char *content_type,
                     const char *content_encoding, const void *body, size_t len, apx_otlp_result *out) {
  memset(out, 0, sizeof *out);
  bool protobuf = media_is(content_type, "application/x-protobuf");
  bool json = !protobuf && media_is(content_type, "application/json");
  if (!protobuf && !json) {
    respond_error(out, false, 415, "Content-Type must be application/x-protobuf or application/json");
    return;
  }
  if (len > APX_OTLP_MAX_BODY) {
    respond_error(out, protobuf, 413, "the request body is larger than 4 MiB");
    return;
  }
  unsigned char *inflated = NULL;
  if (content_encoding && *content_encoding && strcasecmp(content_encoding, "identity") != 0) {
    if (strcasecmp(content_encoding, "gzip") != 0) {
      respond_error(out, protobuf, 415, "Content-Encoding must be gzip or identity");
      return;
    }
    size_t n;
    int rc = gunzip(body, len, &inflated, &n);
    if (rc) {
      respond_error(out, protobuf, rc, rc == 413 ? "the inflated body is larger than 16 MiB" : "the gzip body is corrupt");
      return;
    }
    body = inflated;
    len = n;
  }
  ingest g = {s, apx_arena_new(), 0, 0, NULL};
  const char *bad = NULL;
  if (protobuf) {
    if (!decode_protobuf(&g, sig, body, len)) bad = "the body is not a valid protobuf Export request";
  } else {
    bad = decode_json(&g, sig, body, len, out->message, sizeof out->message);
  }
  apx_arena_free(g.scratch);
  free(inflated);
  out->accepted = g.accepted;
  out->rejected = g.rejected;
  if (bad) {
    respond_error(out, protobuf, 400, bad);
    return;
  }
  if (g.why) snprintf(out->message, sizeof out->message, "%zu rejected: %s", g.rejected, g.why);
  respond_ok(out, sig, protobuf);
}
