/* OTLP ingest load generator (bench/run/otlp.sh): POSTs N protobuf
 * ExportTraceServiceRequest batches of B spans each to /v1/traces on
 * 127.0.0.1:PORT over one keep-alive connection, each batch waiting for its
 * 200 (as an SDK's exporter does), and prints the spans per second.
 * Spans look like the Node.js SDK's http spans: 10 per trace, 8 string and
 * int attributes, a parent, a status.
 * usage: otlp_load PORT TOKEN BATCHES SPANS_PER_BATCH */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dashboard/otlp_proto/otlp.pb-c.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static ApxOtlp__KeyValue *kv_str(const char *k, const char *v) {
  ApxOtlp__KeyValue *kv = malloc(sizeof *kv);
  ApxOtlp__AnyValue *a = malloc(sizeof *a);
  apx_otlp__key_value__init(kv);
  apx_otlp__any_value__init(a);
  a->value_case = APX_OTLP__ANY_VALUE__VALUE_STRING_VALUE;
  a->string_value = (char *)v;
  kv->key = (char *)k;
  kv->value = a;
  return kv;
}
static ApxOtlp__KeyValue *kv_int(const char *k, int64_t v) {
  ApxOtlp__KeyValue *kv = kv_str(k, "");
  kv->value->value_case = APX_OTLP__ANY_VALUE__VALUE_INT_VALUE;
  kv->value->int_value = v;
  return kv;
}

/* One batch, its trace ids made unique by `batch`. */
static uint8_t *make_batch(unsigned batch, size_t nspans, size_t *len) {
  ApxOtlp__ExportTraceServiceRequest req = APX_OTLP__EXPORT_TRACE_SERVICE_REQUEST__INIT;
  ApxOtlp__ResourceSpans rs = APX_OTLP__RESOURCE_SPANS__INIT, *rsp = &rs;
  ApxOtlp__Resource res = APX_OTLP__RESOURCE__INIT;
  ApxOtlp__KeyValue *rattrs[3] = {kv_str("service.name", "loadgen"), kv_str("service.instance.id", "loadgen-1"),
                                  kv_str("telemetry.sdk.language", "c")};
  res.attributes = rattrs;
  res.n_attributes = 3;
  rs.resource = &res;
  ApxOtlp__ScopeSpans ss = APX_OTLP__SCOPE_SPANS__INIT, *ssp = &ss;
  ApxOtlp__InstrumentationScope scope = APX_OTLP__INSTRUMENTATION_SCOPE__INIT;
  scope.name = "@opentelemetry/instrumentation-http";
  scope.version = "0.223.0";
  ss.scope = &scope;
  ApxOtlp__KeyValue *attrs[8] = {kv_str("http.request.method", "GET"), kv_str("url.path", "/api/items"),
                                 kv_str("url.scheme", "http"), kv_str("server.address", "localhost"),
                                 kv_int("server.port", 8080), kv_int("http.response.status_code", 200),
                                 kv_str("network.protocol.version", "1.1"), kv_str("user_agent.original", "node")};
  ApxOtlp__Status status = APX_OTLP__STATUS__INIT;
  status.code = APX_OTLP__STATUS__STATUS_CODE__STATUS_CODE_OK;
  ApxOtlp__Span *spans = calloc(nspans, sizeof *spans), **sp = calloc(nspans, sizeof *sp);
  uint8_t (*ids)[32] = calloc(nspans, sizeof *ids);
  for (size_t i = 0; i < nspans; i++) {
    apx_otlp__span__init(&spans[i]);
    sp[i] = &spans[i];
    uint64_t trace = (uint64_t)batch * nspans + i / 10 + 1;
    memset(ids[i], 0x5a, 32);
    memcpy(ids[i], &trace, 8);
    uint64_t span = trace * 16 + i % 10 + 1, parent = trace * 16 + 1;
    memcpy(ids[i] + 16, &span, 8);
    memcpy(ids[i] + 24, &parent, 8);
    spans[i].trace_id = (ProtobufCBinaryData){16, ids[i]};
    spans[i].span_id = (ProtobufCBinaryData){8, ids[i] + 16};
    if (i % 10) spans[i].parent_span_id = (ProtobufCBinaryData){8, ids[i] + 24};
    spans[i].name = i % 10 ? "GET /api/items" : "checkout";
    spans[i].kind = i % 10 ? APX_OTLP__SPAN__SPAN_KIND__SPAN_KIND_SERVER : APX_OTLP__SPAN__SPAN_KIND__SPAN_KIND_INTERNAL;
    spans[i].start_time_unix_nano = 1700000000000000000ull + (uint64_t)batch * 1000000 + i * 1000;
    spans[i].end_time_unix_nano = spans[i].start_time_unix_nano + 500000;
    spans[i].attributes = attrs;
    spans[i].n_attributes = 8;
    spans[i].status = &status;
  }
  ss.spans = sp;
  ss.n_spans = nspans;
  rs.scope_spans = &ssp;
  rs.n_scope_spans = 1;
  req.resource_spans = &rsp;
  req.n_resource_spans = 1;
  *len = apx_otlp__export_trace_service_request__get_packed_size(&req);
  uint8_t *buf = malloc(*len);
  apx_otlp__export_trace_service_request__pack(&req, buf);
  free(spans);
  free(sp);
  free(ids);
  for (int i = 0; i < 3; i++) free(rattrs[i]->value), free(rattrs[i]);
  for (int i = 0; i < 8; i++) free(attrs[i]->value), free(attrs[i]);
  return buf;
}

/* Reads one response; returns its status, or -1. */
static int read_response(int fd) {
  static char buf[65536];
  static size_t have;
  for (;;) {
    char *end = memmem(buf, have, "\r\n\r\n", 4);
    if (end) {
      size_t head = (size_t)(end - buf) + 4, clen = 0;
      char *cl = strcasestr(buf, "\r\ncontent-length:");
      if (cl && cl < end) clen = strtoul(cl + 17, NULL, 10);
      if (have >= head + clen) {
        int status = atoi(buf + 9);
        memmove(buf, buf + head + clen, have - head - clen);
        have -= head + clen;
        return status;
      }
    }
    ssize_t n = read(fd, buf + have, sizeof buf - have);
    if (n <= 0) return -1;
    have += (size_t)n;
  }
}

int main(int argc, char **argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: otlp_load PORT TOKEN BATCHES SPANS_PER_BATCH\n");
    return 2;
  }
  int port = atoi(argv[1]);
  const char *token = argv[2];
  unsigned batches = (unsigned)atoi(argv[3]);
  size_t per = (size_t)atoi(argv[4]);
  /* Prepared first: the clock measures the receiver, not the encoding. */
  uint8_t **bodies = calloc(batches, sizeof *bodies);
  size_t *lens = calloc(batches, sizeof *lens), bytes = 0;
  for (unsigned b = 0; b < batches; b++) {
    bodies[b] = make_batch(b, per, &lens[b]);
    bytes += lens[b];
  }
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
    perror("connect");
    return 1;
  }
  double t0 = now();
  for (unsigned b = 0; b < batches; b++) {
    char head[512];
    int hn = snprintf(head, sizeof head,
                      "POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nAuthorization: Bearer %s\r\n"
                      "Content-Type: application/x-protobuf\r\nContent-Length: %zu\r\n\r\n",
                      port, token, lens[b]);
    if (write(fd, head, (size_t)hn) != hn || write(fd, bodies[b], lens[b]) != (ssize_t)lens[b]) {
      perror("write");
      return 1;
    }
    int st = read_response(fd);
    if (st != 200) {
      fprintf(stderr, "batch %u: status %d\n", b, st);
      return 1;
    }
  }
  double dt = now() - t0;
  size_t spans = (size_t)batches * per;
  printf("spans=%zu batches=%u bytes=%zu seconds=%.3f spans_per_second=%.0f\n", spans, batches, bytes, dt,
         (double)spans / dt);
  for (unsigned b = 0; b < batches; b++) free(bodies[b]);
  free(bodies);
  free(lens);
  close(fd);
  return 0;
}
