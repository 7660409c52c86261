/* The dashboard's HTTP side, for the files that add routes (api.c,
 * pages.c, the OTLP receiver): the route table, one request, replies.
 *
 * Routing is a table: each module of the dashboard (apx_dash_module) has
 * a table of rows {method, path, flags, handler, max body}; the server
 * walks the modules in apx_dash_modules[] (modules.c) and their rows in
 * order and takes the first that matches. A path ending in a star matches
 * that prefix (the rest in req->tail). Authentication, the Host check,
 * the Origin check for commands, the body (read whole, up to max_body) and
 * the security headers on every response are the server's: a handler only
 * answers. */
#ifndef APX_DASH_SERVER_H
#define APX_DASH_SERVER_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "dash.h"

struct MHD_Connection;
typedef struct apx_dash_req apx_dash_req;
typedef struct apx_dash_stream apx_dash_stream;

enum {
  APX_DASH_PUBLIC = 0,          /* no authentication (the login page, its style) */
  APX_DASH_AUTH = 1,            /* the token: cookie or Authorization: Bearer */
  APX_DASH_AUTH_OTLP = 2,       /* x-otlp-api-key: the OTLP key (or the token) */
  APX_DASH_SAME_ORIGIN = 4,     /* a command: POST from this origin only (Origin checked) */
  APX_DASH_HTML = 8,            /* unauthenticated: redirect to /login rather than 401 */
  APX_DASH_AUTH_API = 16,       /* x-api-key: the API key (read-only telemetry), else the token */
};

typedef int (*apx_dash_handler)(apx_dash_req *r);

typedef struct apx_dash_route {
  const char *method; /* "GET", "POST" */
  const char *path;   /* "/api/resources", or a prefix "/api/resources/" followed by a star */
  unsigned flags;
  apx_dash_handler handler;
  size_t max_body; /* bytes of request body taken; 0: none (a larger body: 413) */
} apx_dash_route;

/* A part of the dashboard: its routes and its state's life. */
typedef struct apx_dash_module {
  const char *name;
  const apx_dash_route *routes; /* ends with a row whose method is NULL */
  /* After the dashboard is made / before it is freed; may be NULL. */
  int (*init)(apx_dash *d);
  void (*free)(apx_dash *d);
  /* Run mode attached (the monitor is there) / detached; may be NULL. */
  void (*attach)(apx_dash *d);
  void (*detach)(apx_dash *d);
  /* Run mode's news: a unit changed state / printed a line; may be NULL. */
  void (*changed)(apx_dash *d, size_t unit);
  void (*line)(apx_dash *d, size_t unit, const char *s, size_t n, bool eol);
  /* A message of run mode itself, about a unit or the run (-1); may be NULL. */
  void (*note)(apx_dash *d, long unit, const char *s, size_t n, bool error);
} apx_dash_module;

/* modules.c: every module, in routing order (NULL-terminated). */
extern const apx_dash_module *const apx_dash_modules[];
/* Each module's private state, by its place in apx_dash_modules. */
void **apx_dash_module_data(apx_dash *d, const apx_dash_module *m);

struct apx_dash_req {
  apx_dash *dash;
  struct MHD_Connection *conn;
  const apx_dash_route *route;
  const char *method, *path;
  const char *tail;          /* what follows the prefix of a prefix route */
  const char *body;          /* the request body (NUL-terminated), or "" */
  size_t body_len;
  apx_arena *arena;          /* for this request only */
  bool too_big;
  bool bearer;               /* authenticated by Authorization (not a cookie) */
  bool gateway;              /* came to the gateway's listener (from a container): OTLP only */
};

/* Request headers and query arguments (NULL when absent). */
const char *apx_dash_header(apx_dash_req *r, const char *name);
const char *apx_dash_query(apx_dash_req *r, const char *name);

/* Replies: each returns what the handler returns. The body is copied. */
int apx_dash_reply(apx_dash_req *r, unsigned status, const char *ctype, const void *body, size_t len);
/* cJSON's output of j (freed). */
int apx_dash_reply_json(apx_dash_req *r, unsigned status, cJSON *j);
/* {"error": msg} */
int apx_dash_reply_error(apx_dash_req *r, unsigned status, const char *msg);
/* Adds a header to the reply about to be sent (before apx_dash_reply*). */
void apx_dash_reply_header(apx_dash_req *r, const char *name, const char *value);

/* A streamed reply (Server-Sent Events): the server calls fill() whenever
 * the connection can take more; fill appends to out and returns 1 (more
 * later), 0 (nothing now: the connection sleeps until apx_dash_stream_wake)
 * or -1 (the end). done() when the connection is gone. */
typedef struct apx_dash_stream_ops {
  int (*fill)(apx_dash_stream *s, void *ud, apx_buf *out);
  void (*done)(void *ud);
} apx_dash_stream_ops;
int apx_dash_reply_stream(apx_dash_req *r, const char *ctype, const apx_dash_stream_ops *ops, void *ud,
                          apx_dash_stream **out);
/* New data for a stream: fill() will be called again soon. */
void apx_dash_stream_wake(apx_dash_stream *s);
/* From fill(): the stream rests until the next tick (100 ms) even if woken,
 * so that a page is not sent more than it can draw. */
void apx_dash_stream_rest(apx_dash_stream *s);
/* Every open stream (for a broadcast: each module keeps its own list). */

/* The monitor (NULL before run mode attaches and after it detaches). */
apx_mon *apx_dash_mon(apx_dash *d);
/* The run's state directory (absolute; run mode's state() gave it), or NULL before. */
const char *apx_dash_state_dir(const apx_dash *d);

/* Writes one SSE event ("event: NAME\ndata: JSON\n\n") of j (freed). */
void apx_dash_sse(apx_buf *out, const char *event, cJSON *j);

#endif
