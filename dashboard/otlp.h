/* The OTLP/HTTP receiver's decoding (OTLP specification, "OTLP/HTTP"):
 * one export request body, protobuf (protobuf-c, dashboard/otlp_proto/) or
 * JSON (cJSON), gzip or not, into the telemetry store; the response the
 * specification asks for (partial success, or a google.rpc.Status with 400,
 * 413 or 415). The HTTP server (dashboard/) calls apx_otlp_ingest with the
 * request's headers and body; nothing here knows the server. */
#ifndef APX_OTLP_H
#define APX_OTLP_H

#include <stdbool.h>
#include <stddef.h>

#include "dashboard/telemetry.h"

/* The largest request body taken (as sent) and after gunzip. */
#define APX_OTLP_MAX_BODY (4u << 20)
#define APX_OTLP_MAX_INFLATED (16u << 20)
/* How deep messages may nest (AnyValue arrays in arrays…): deeper requests
 * get 400, before protobuf-c's recursive parser could exhaust the stack. */
#define APX_OTLP_MAX_DEPTH 32

typedef enum apx_otlp_signal { APX_OTLP_TRACES, APX_OTLP_LOGS, APX_OTLP_METRICS } apx_otlp_signal;

typedef struct apx_otlp_result {
  int status;                /* HTTP status */
  const char *content_type;  /* of body */
  unsigned char *body;       /* malloc'd; the caller frees it */
  size_t body_len;
  size_t accepted, rejected; /* records (spans, log records, data points) */
  char message[256];         /* the error, or why some were rejected */
} apx_otlp_result;

/* "/v1/traces", "/v1/logs", "/v1/metrics" -> the signal; false otherwise. */
bool apx_otlp_signal_of(const char *path, apx_otlp_signal *sig);

/* Decodes and stores one request. content_type and content_encoding are the
 * header values (NULL when absent). Always fills *out (free out->body). */
void apx_otlp_ingest(apx_tel_store *s, apx_otlp_signal sig, const char *content_type,
                     const char *content_encoding, const void *body, size_t len, apx_otlp_result *out);

#endif
