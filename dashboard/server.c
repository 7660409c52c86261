/* The dashboard's server: libmicrohttpd driven from run mode's libuv loop.
 *
 * MHD runs without a thread of its own (MHD_USE_EPOLL): its epoll
 * descriptor is watched by a uv_poll handle, and MHD_run() is called when
 * it is readable and when MHD's timeout (uv_timer) is due. So every request
 * is handled on the loop's thread, beside the supervisor, and nothing needs
 * a lock. Streams (Server-Sent Events) suspend their connection when they
 * have nothing to send and are resumed when there is news.
 *
 * Every request goes through one gate (apx_dash_dispatch): the Host check
 * (a page from another site that resolves its name to 127.0.0.1 is
 * refused), the route table (server.h), authentication, the Origin check
 * for commands, and the security headers on every response.
 *
 * A second daemon listens on the run network's gateway (the host as
 * containers see it), on the same port, once run mode says where that is:
 * containers' OTLP exporters are sent there (host.docker.internal:PORT).
 * It serves the OTLP routes alone, with the OTLP key alone; the pages and
 * the API are 404 there (apx_dash_gate_gw). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include "auth.h"
#include "server.h"

enum { APX_DASH_MAX_MODULES = 16, APX_DASH_PING_MS = 15000 };

#define APX_DASH_COOKIE "apx_dash"
#define APX_DASH_CSP                                                                                              \
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "          \
  "font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

struct apx_dash_stream {
  apx_dash *d;
  struct MHD_Connection *conn;
  const apx_dash_stream_ops *ops;
  void *ud;
  apx_buf buf;
  size_t off;
  bool suspended, ended, ping;
  bool resting, woken; /* resting until the next tick; news came meanwhile */
  apx_dash_stream *prev, *next;
};

typedef struct apx_dash_hdr {
  const char *name, *value;
  struct apx_dash_hdr *next;
} apx_dash_hdr;

typedef struct apx_dash_ctx {
  apx_dash_req r;
  apx_buf body;
  apx_dash_hdr *hdrs;
  bool answered; /* refused before its body was read (the gateway's gate) */
} apx_dash_ctx;

struct apx_dash {
  int port;
  char token[129];
  char key[65];
  char api_key[129]; /* x-api-key: the telemetry API only */
  char url[256];
  char summary[320];
  apx_mon_listener listener;
  struct MHD_Daemon *mhd;
  uv_loop_t *loop;
  uv_poll_t poll;
  uv_timer_t timer, ping, tick;
  bool tick_on;
  bool handles_on;
  bool kick; /* a stream was resumed: MHD_run again */
  apx_mon *mon;
  char *state_dir; /* the run's, from state(): the parts may leave files there */
  /* The gateway's listener (containers' OTLP only); gw_on while its handles are. */
  char gw[64];
  struct MHD_Daemon *gw_mhd;
  uv_poll_t gw_poll;
  uv_timer_t gw_timer;
  bool gw_on;
  void *mod_data[APX_DASH_MAX_MODULES];
  apx_dash_stream *streams;
};

/* ---- the modules' state -------------------------------------------------------- */

void **apx_dash_module_data(apx_dash *d, const apx_dash_module *m) {
  for (size_t i = 0; apx_dash_modules[i] && i < APX_DASH_MAX_MODULES; i++)
    if (apx_dash_modules[i] == m) return &d->mod_data[i];
  abort(); /* a module not in the list */
}

apx_mon *apx_dash_mon(apx_dash *d) { return d->mon; }
const char *apx_dash_state_dir(const apx_dash *d) { return d->state_dir; }
int apx_dash_port(const apx_dash *d) { return d->port; }
const char *apx_dash_token(const apx_dash *d) { return d->token; }
const char *apx_dash_otlp_key(const apx_dash *d) { return d->key; }
const char *apx_dash_url(const apx_dash *d) { return d->url; }
const char *apx_dash_api_key(const apx_dash *d) { return d->api_key; }
const apx_mon_listener *apx_dash_listener(apx_dash *d) { return &d->listener; }

/* ---- requests ---------------------------------------------------------------------- */

const char *apx_dash_header(apx_dash_req *r, const char *name) {
  return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *apx_dash_query(apx_dash_req *r, const char *name) {
  return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

void apx_dash_reply_header(apx_dash_req *r, const char *name, const char *value) {
  apx_dash_ctx *c = (apx_dash_ctx *)r;
  apx_dash_hdr *h = APX_NEW(r->arena, apx_dash_hdr);
  h->name = apx_arena_strdup(r->arena, name);
  h->value = apx_arena_strdup(r->arena, value);
  h->next = c->hdrs;
  c->hdrs = h;
}

static int apx_dash_send(apx_dash_req *r, unsigned status, struct MHD_Response *resp) {
  apx_dash_ctx *c = (apx_dash_ctx *)r;
  MHD_add_response_header(resp, "Content-Security-Policy", APX_DASH_CSP);
  MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
  MHD_add_response_header(resp, "X-Frame-Options", "DENY");
  MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
  MHD_add_response_header(resp, "Cache-Control", "no-store");
  MHD_add_response_header(resp, "Cross-Origin-Resource-Policy", "same-origin");
  for (apx_dash_hdr *h = c->hdrs; h; h = h->next) MHD_add_response_header(resp, h->name, h->value);
  enum MHD_Result rc = MHD_queue_response(r->conn, status, resp);
  MHD_destroy_response(resp);
  return rc == MHD_YES ? 0 : -1;
}

int apx_dash_reply(apx_dash_req *r, unsigned status, const char *ctype, const void *body, size_t len) {
  struct MHD_Response *resp = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
  if (!resp) return -1;
  if (ctype) MHD_add_response_header(resp, "Content-Type", ctype);
  return apx_dash_send(r, status, resp);
}

int apx_dash_reply_json(apx_dash_req *r, unsigned status, cJSON *j) {
  char *s = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if (!s) return apx_dash_reply(r, 500, "text/plain", "out of memory\n", 14);
  int rc = apx_dash_reply(r, status, "application/json", s, strlen(s));
  cJSON_free(s);
  return rc;
}

int apx_dash_reply_error(apx_dash_req *r, unsigned status, const char *msg) {
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "error", msg);
  return apx_dash_reply_json(r, status, j);
}

void apx_dash_sse(apx_buf *out, const char *event, cJSON *j) {
  char *s = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  if (!s) return;
  apx_buf_puts(out, "event: ");
  apx_buf_puts(out, event);
  apx_buf_puts(out, "\ndata: "); /* cJSON's unformatted output has no newline */
  apx_buf_puts(out, s);
  apx_buf_puts(out, "\n\n");
  cJSON_free(s);
}

/* ---- the loop: MHD_run when its descriptor is ready or its timeout due --------------- */

static void apx_dash_pump(apx_dash *d);

static void apx_dash_timer_cb(uv_timer_t *t) { apx_dash_pump(t->data); }

static void apx_dash_poll_cb(uv_poll_t *p, int status, int events) {
  (void)status;
  (void)events;
  apx_dash_pump(p->data);
}

static void apx_dash_gw_pump(apx_dash *d);

static void apx_dash_gw_timer_cb(uv_timer_t *t) { apx_dash_gw_pump(t->data); }

static void apx_dash_gw_poll_cb(uv_poll_t *p, int status, int events) {
  (void)status;
  (void)events;
  apx_dash_gw_pump(p->data);
}

/* No stream is served there: one MHD_run, then its timeout. */
static void apx_dash_gw_pump(apx_dash *d) {
  if (!d->gw_mhd) return;
  MHD_run(d->gw_mhd);
  MHD_UNSIGNED_LONG_LONG to;
  if (MHD_get_timeout(d->gw_mhd, &to) == MHD_YES) uv_timer_start(&d->gw_timer, apx_dash_gw_timer_cb, (uint64_t)to, 0);
  else uv_timer_stop(&d->gw_timer);
}

static void apx_dash_pump(apx_dash *d) {
  if (!d->mhd) return;
  /* A stream woken while MHD_run handles a request (a command that changes
   * a state) is resumed by the next MHD_run: run again at once. */
  for (int i = 0; i < 8; i++) {
    d->kick = false;
    MHD_run(d->mhd);
    if (!d->kick) break;
  }
  MHD_UNSIGNED_LONG_LONG to;
  if (d->kick) uv_timer_start(&d->timer, apx_dash_timer_cb, 0, 0);
  else if (MHD_get_timeout(d->mhd, &to) == MHD_YES) uv_timer_start(&d->timer, apx_dash_timer_cb, (uint64_t)to, 0);
  else uv_timer_stop(&d->timer);
}

/* ---- streams ------------------------------------------------------------------------- */

static ssize_t apx_stream_read(void *cls, uint64_t pos, char *buf, size_t max) {
  (void)pos;
  apx_dash_stream *s = cls;
  if (s->off == s->buf.len) {
    apx_buf_clear(&s->buf);
    s->off = 0;
    if (s->ping) {
      s->ping = false;
      apx_buf_puts(&s->buf, ": ping\n\n"); /* finds connections whose reader is gone */
    }
    int more = 1;
    while (!s->ended && !s->resting && s->buf.len < 16384 && more > 0) {
      more = s->ops->fill(s, s->ud, &s->buf);
      if (more < 0) s->ended = true;
    }
    if (!s->buf.len) {
      if (s->ended) return MHD_CONTENT_READER_END_OF_STREAM;
      s->suspended = true;
      MHD_suspend_connection(s->conn);
      return 0;
    }
  }
  size_t n = s->buf.len - s->off;
  if (n > max) n = max;
  memcpy(buf, s->buf.data + s->off, n);
  s->off += n;
  return (ssize_t)n;
}

static void apx_stream_free(void *cls) {
  apx_dash_stream *s = cls;
  if (s->ops->done) s->ops->done(s->ud);
  if (s->prev) s->prev->next = s->next;
  else s->d->streams = s->next;
  if (s->next) s->next->prev = s->prev;
  apx_buf_free(&s->buf);
  free(s);
}

int apx_dash_reply_stream(apx_dash_req *r, const char *ctype, const apx_dash_stream_ops *ops, void *ud,
                          apx_dash_stream **out) {
  apx_dash_stream *s = calloc(1, sizeof *s);
  if (!s) abort();
  s->d = r->dash;
  s->conn = r->conn;
  s->ops = ops;
  s->ud = ud;
  s->next = s->d->streams;
  if (s->next) s->next->prev = s;
  s->d->streams = s;
  struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, apx_stream_read, s,
                                                                apx_stream_free);
  if (!resp) {
    apx_stream_free(s);
    return -1;
  }
  MHD_add_response_header(resp, "Content-Type", ctype);
  MHD_add_response_header(resp, "X-Accel-Buffering", "no");
  if (out) *out = s;
  return apx_dash_send(r, 200, resp);
}

static void apx_dash_tick_cb(uv_timer_t *t) {
  apx_dash *d = t->data;
  bool any = false;
  for (apx_dash_stream *s = d->streams; s; s = s->next)
    if (s->resting) {
      /* Woken or not: what it had left (more than one event's worth) goes now. */
      s->resting = false;
      s->woken = false;
      apx_dash_stream_wake(s);
      any = true;
    }
  if (!any) {
    uv_timer_stop(&d->tick);
    d->tick_on = false;
  }
}

void apx_dash_stream_rest(apx_dash_stream *s) {
  s->resting = true;
  if (!s->d->tick_on && s->d->handles_on) {
    s->d->tick_on = true;
    uv_timer_start(&s->d->tick, apx_dash_tick_cb, 100, 100);
  }
}

void apx_dash_stream_wake(apx_dash_stream *s) {
  if (s->resting) {
    s->woken = true;
    return;
  }
  if (!s->suspended) return;
  s->suspended = false;
  MHD_resume_connection(s->conn);
  /* MHD_run must look at it: soon, from the loop (not from inside a callback of run mode). */
  s->d->kick = true;
  if (s->d->handles_on) uv_timer_start(&s->d->timer, apx_dash_timer_cb, 0, 0);
}

static void apx_dash_ping_cb(uv_timer_t *t) {
  apx_dash *d = t->data;
  for (apx_dash_stream *s = d->streams; s; s = s->next) {
    s->ping = true;
    apx_dash_stream_wake(s);
  }
}

/* ---- the gate ------------------------------------------------------------------------- */

static const apx_dash_route *apx_dash_route_find(const char *method, const char *path, const char **tail,
                                                 bool *other_method) {
  *other_method = false;
  for (size_t m = 0; apx_dash_modules[m]; m++)
    for (const apx_dash_route *rt = apx_dash_modules[m]->routes; rt && rt->method; rt++) {
      size_t n = strlen(rt->path);
      bool match;
      const char *t = "";
      if (n && rt->path[n - 1] == '*') {
        match = strncmp(path, rt->path, n - 1) == 0;
        t = path + n - 1;
      } else {
        match = strcmp(path, rt->path) == 0;
      }
      if (!match) continue;
      if (strcmp(rt->method, method) != 0) {
        *other_method = true;
        continue;
      }
      *tail = t;
      return rt;
    }
  return NULL;
}

/* The token from Authorization: Bearer, or else the cookie. */
static bool apx_dash_authed(apx_dash_req *r) {
  const char *b = apx_dash_bearer(apx_dash_header(r, "Authorization"));
  if (b) {
    r->bearer = true;
    return apx_dash_secret_eq(b, r->dash->token);
  }
  char v[160];
  if (apx_dash_cookie(apx_dash_header(r, "Cookie"), APX_DASH_COOKIE, v, sizeof v))
    return apx_dash_secret_eq(v, r->dash->token);
  return false;
}

static int apx_dash_denied(apx_dash_req *r, bool html) {
  if (html) {
    apx_dash_reply_header(r, "Location", "/login");
    return apx_dash_reply(r, 302, "text/plain", "log in first: /login\n", 21);
  }
  apx_dash_reply_header(r, "WWW-Authenticate", "Bearer realm=\"aspirec\"");
  return apx_dash_reply_error(r, 401, "authentication required: the token of the login URL aspirec printed");
}

/* The gateway's gate, as soon as the headers are in (a refused body is
 * never read): Host, an OTLP route, the OTLP key. Nothing else is served
 * there, whatever the credentials: the login token is never taken from a
 * container, and pages and API stay on 127.0.0.1. 1: through; else the
 * refusal is queued (0), or -1. */
static int apx_dash_gate_gw(apx_dash_req *r) {
  apx_dash *d = r->dash;
  if (!apx_dash_gw_host_ok(apx_dash_header(r, "Host"), d->gw, d->port))
    return apx_dash_reply_error(r, 421, "wrong Host: this address answers as host.docker.internal only");
  if (!r->route || !(r->route->flags & APX_DASH_AUTH_OTLP))
    return apx_dash_reply_error(r, 404, "not found: from a container only POST /v1/logs, /v1/traces, /v1/metrics");
  if (!apx_dash_secret_eq(apx_dash_header(r, "x-otlp-api-key"), d->key)) {
    apx_dash_reply_header(r, "WWW-Authenticate", "x-otlp-api-key");
    return apx_dash_reply_error(r, 401, "the OTLP key is required (x-otlp-api-key: OTEL_EXPORTER_OTLP_HEADERS's)");
  }
  return 1;
}

static int apx_dash_dispatch(apx_dash_req *r, bool other_method) {
  if (r->gateway) return r->too_big ? apx_dash_reply_error(r, 413, "request body too large") : r->route->handler(r);
  if (!apx_dash_host_ok(apx_dash_header(r, "Host"), r->dash->port))
    return apx_dash_reply_error(r, 421, "wrong Host: the dashboard answers as 127.0.0.1 or localhost only");
  const apx_dash_route *rt = r->route;
  if (!rt) {
    /* Nothing is said about what exists to someone who has no token. */
    if (!apx_dash_authed(r)) return apx_dash_denied(r, strncmp(r->path, "/api/", 5) != 0);
    if (other_method) {
      apx_dash_reply_header(r, "Allow", "GET, POST");
      return apx_dash_reply_error(r, 405, "method not allowed");
    }
    return apx_dash_reply_error(r, 404, "not found");
  }
  if (rt->flags & APX_DASH_AUTH_OTLP) {
    const char *k = apx_dash_header(r, "x-otlp-api-key");
    if (!(k ? apx_dash_secret_eq(k, r->dash->key) : apx_dash_authed(r))) return apx_dash_denied(r, false);
  } else if ((rt->flags & APX_DASH_AUTH_API) && apx_dash_header(r, "x-api-key")) {
    /* As Aspire's telemetry API: a key given must be right (no falling
     * back to the cookie); without one, the token as everywhere. */
    if (!apx_dash_secret_eq(apx_dash_header(r, "x-api-key"), r->dash->api_key)) {
      apx_dash_reply_header(r, "WWW-Authenticate", "ApiKey header=\"x-api-key\"");
      return apx_dash_reply_error(r, 401, "wrong x-api-key");
    }
  } else if (rt->flags & (APX_DASH_AUTH | APX_DASH_AUTH_API)) {
    if (!apx_dash_authed(r)) return apx_dash_denied(r, (rt->flags & APX_DASH_HTML) != 0);
  }
  if (rt->flags & APX_DASH_SAME_ORIGIN) {
    /* A browser sends Origin with every POST; a page of another site is
     * refused even though the cookie is SameSite=Strict. Without Origin
     * only a Bearer client (curl, a script) gets in. */
    const char *origin = apx_dash_header(r, "Origin");
    const char *site = apx_dash_header(r, "Sec-Fetch-Site");
    if ((origin && !apx_dash_origin_ok(origin, r->dash->port)) || (!origin && !r->bearer) ||
        (site && strcmp(site, "same-origin") != 0 && strcmp(site, "none") != 0))
      return apx_dash_reply_error(r, 403, "cross-site request refused");
  }
  if (r->too_big) return apx_dash_reply_error(r, 413, "request body too large");
  return rt->handler(r);
}

static enum MHD_Result apx_dash_request(apx_dash *d, bool gateway, struct MHD_Connection *conn, const char *url,
                                        const char *method, const char *upload, size_t *upload_size,
                                        void **con_cls) {
  apx_dash_ctx *c = *con_cls;
  if (!c) {
    c = calloc(1, sizeof *c);
    if (!c) return MHD_NO;
    c->r.dash = d;
    c->r.conn = conn;
    c->r.gateway = gateway;
    c->r.arena = apx_arena_new();
    c->r.method = apx_arena_strdup(c->r.arena, method);
    c->r.path = apx_arena_strdup(c->r.arena, url);
    bool other;
    c->r.route = apx_dash_route_find(method, url, &c->r.tail, &other);
    if (!c->r.route && other) c->r.tail = NULL; /* remembered below */
    *con_cls = c;
    if (gateway) {
      int g = apx_dash_gate_gw(&c->r);
      if (g <= 0) {
        c->answered = true;
        return g == 0 ? MHD_YES : MHD_NO;
      }
    }
    return MHD_YES;
  }
  if (c->answered) {
    *upload_size = 0;
    return MHD_YES;
  }
  if (*upload_size) {
    size_t max = c->r.route ? c->r.route->max_body : 0;
    if (c->body.len + *upload_size > max) c->r.too_big = true;
    else apx_buf_append(&c->body, upload, *upload_size);
    *upload_size = 0;
    return MHD_YES;
  }
  c->r.body = apx_buf_str(&c->body);
  c->r.body_len = c->body.len;
  bool other = false;
  if (!c->r.route) apx_dash_route_find(method, url, &c->r.tail, &other);
  return apx_dash_dispatch(&c->r, other) == 0 ? MHD_YES : MHD_NO;
}

static enum MHD_Result apx_dash_on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                           const char *method, const char *version, const char *upload,
                                           size_t *upload_size, void **con_cls) {
  (void)version;
  return apx_dash_request(cls, false, conn, url, method, upload, upload_size, con_cls);
}

static enum MHD_Result apx_dash_on_request_gw(void *cls, struct MHD_Connection *conn, const char *url,
                                              const char *method, const char *version, const char *upload,
                                              size_t *upload_size, void **con_cls) {
  (void)version;
  return apx_dash_request(cls, true, conn, url, method, upload, upload_size, con_cls);
}

static void apx_dash_on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                                  enum MHD_RequestTerminationCode toe) {
  (void)cls;
  (void)conn;
  (void)toe;
  apx_dash_ctx *c = *con_cls;
  if (!c) return;
  apx_buf_free(&c->body);
  apx_arena_free(c->r.arena);
  free(c);
  *con_cls = NULL;
}

/* ---- life ------------------------------------------------------------------------------- */

static bool apx_port_free(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
  close(fd);
  return ok;
}

/* Listens on 127.0.0.1:port (loopback only), MHD without a thread of its
 * own. Made before the run (so that the port is ours before the
 * environments name it); its sockets are close-on-exec and the watchdog
 * closes every descriptor, so no child holds them. */
static struct MHD_Daemon *apx_dash_listen(apx_dash *d, int port) {
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, (uint16_t)port, NULL, NULL, apx_dash_on_request,
                          d, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_NOTIFY_COMPLETED,
                          apx_dash_on_completed, d, MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                          MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536, MHD_OPTION_END);
}

/* Listens on the gateway's address, the dashboard's port: the socket made
 * here (IP_FREEBIND: podman's bridge gets its address only when its first
 * container starts), then MHD on it. NULL with why set. */
static struct MHD_Daemon *apx_dash_listen_gw(apx_dash *d, const char *addr, char *why, size_t nwhy) {
  struct sockaddr_storage sa;
  memset(&sa, 0, sizeof sa);
  socklen_t len;
  struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
  struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
  if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)d->port);
    len = sizeof *s4;
  } else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)d->port);
    len = sizeof *s6;
  } else {
    snprintf(why, nwhy, "not an address");
    return NULL;
  }
  int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    snprintf(why, nwhy, "%s", strerror(errno));
    return NULL;
  }
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (sa.ss_family == AF_INET) setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
  else setsockopt(fd, IPPROTO_IPV6, IPV6_FREEBIND, &one, sizeof one);
  if (bind(fd, (struct sockaddr *)&sa, len) != 0 || listen(fd, 64) != 0) {
    snprintf(why, nwhy, "%s", strerror(errno));
    close(fd);
    return NULL;
  }
  struct MHD_Daemon *m =
      MHD_start_daemon(MHD_USE_EPOLL, 0, NULL, NULL, apx_dash_on_request_gw, d, MHD_OPTION_LISTEN_SOCKET, fd,
                       MHD_OPTION_NOTIFY_COMPLETED, apx_dash_on_completed, d, MHD_OPTION_CONNECTION_LIMIT,
                       (unsigned)64, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)65536,
                       MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60, MHD_OPTION_END);
  if (!m) {
    snprintf(why, nwhy, "libmicrohttpd would not start");
    /* Whether MHD closed a socket it was given is not said: nothing else
     * opens a descriptor on this thread meanwhile, so a valid fd is ours. */
    if (fcntl(fd, F_GETFD) != -1) close(fd);
  }
  return m;
}

static void apx_dash_gw_open(apx_dash *d, apx_mon *mon, uv_loop_t *loop) {
  const char *gw = apx_mon_host_gateway(mon);
  if (!gw || strlen(gw) >= sizeof d->gw) return;
  snprintf(d->gw, sizeof d->gw, "%s", gw);
  char why[128], line[320];
  const union MHD_DaemonInfo *info = NULL;
  d->gw_mhd = apx_dash_listen_gw(d, gw, why, sizeof why);
  if (d->gw_mhd && !(info = MHD_get_daemon_info(d->gw_mhd, MHD_DAEMON_INFO_EPOLL_FD))) {
    snprintf(why, sizeof why, "no epoll descriptor");
    MHD_stop_daemon(d->gw_mhd);
    d->gw_mhd = NULL;
  }
  if (!d->gw_mhd) {
    /* Not fatal: processes still send telemetry; containers cannot. */
    snprintf(line, sizeof line, "dashboard: containers cannot send telemetry: no listener on %s:%d: %s", gw, d->port,
             why);
    apx_mon_say(mon, line);
    return;
  }
  uv_poll_init(loop, &d->gw_poll, info->epoll_fd);
  d->gw_poll.data = d;
  uv_poll_start(&d->gw_poll, UV_READABLE, apx_dash_gw_poll_cb);
  uv_timer_init(loop, &d->gw_timer);
  d->gw_timer.data = d;
  uv_unref((uv_handle_t *)&d->gw_poll);
  uv_unref((uv_handle_t *)&d->gw_timer);
  d->gw_on = true;
}

static int apx_dash_attach(void *ud, apx_mon *mon, uv_loop_t *loop) {
  apx_dash *d = ud;
  if (!d->mhd) return -1;
  const union MHD_DaemonInfo *info = MHD_get_daemon_info(d->mhd, MHD_DAEMON_INFO_EPOLL_FD);
  if (!info) return -1;
  d->loop = loop;
  d->mon = mon;
  uv_poll_init(loop, &d->poll, info->epoll_fd);
  d->poll.data = d;
  uv_poll_start(&d->poll, UV_READABLE, apx_dash_poll_cb);
  uv_timer_init(loop, &d->timer);
  d->timer.data = d;
  uv_timer_init(loop, &d->ping);
  d->ping.data = d;
  uv_timer_init(loop, &d->tick);
  d->tick.data = d;
  uv_unref((uv_handle_t *)&d->tick);
  uv_timer_start(&d->ping, apx_dash_ping_cb, APX_DASH_PING_MS, APX_DASH_PING_MS);
  /* The dashboard alone must not keep the run going. */
  uv_unref((uv_handle_t *)&d->poll);
  uv_unref((uv_handle_t *)&d->timer);
  uv_unref((uv_handle_t *)&d->ping);
  d->handles_on = true;
  apx_dash_gw_open(d, mon, loop);
  for (size_t i = 0; apx_dash_modules[i]; i++)
    if (apx_dash_modules[i]->attach) apx_dash_modules[i]->attach(d);
  apx_dash_pump(d);
  apx_dash_gw_pump(d);
  return 0;
}

static void apx_noop_close(uv_handle_t *h) { (void)h; }

static void apx_dash_detach(void *ud) {
  apx_dash *d = ud;
  for (size_t i = 0; apx_dash_modules[i]; i++)
    if (apx_dash_modules[i]->detach) apx_dash_modules[i]->detach(d);
  if (d->handles_on) {
    d->handles_on = false;
    uv_poll_stop(&d->poll); /* before MHD closes the descriptor */
    uv_close((uv_handle_t *)&d->poll, apx_noop_close);
    uv_close((uv_handle_t *)&d->timer, apx_noop_close);
    uv_close((uv_handle_t *)&d->ping, apx_noop_close);
    uv_close((uv_handle_t *)&d->tick, apx_noop_close);
  }
  if (d->gw_on) {
    d->gw_on = false;
    uv_poll_stop(&d->gw_poll);
    uv_close((uv_handle_t *)&d->gw_poll, apx_noop_close);
    uv_close((uv_handle_t *)&d->gw_timer, apx_noop_close);
  }
  if (d->gw_mhd) {
    MHD_stop_daemon(d->gw_mhd);
    d->gw_mhd = NULL;
  }
  if (d->mhd) {
    for (apx_dash_stream *s = d->streams; s; s = s->next) {
      s->ended = true;
      if (s->suspended) {
        s->suspended = false;
        MHD_resume_connection(s->conn);
      }
    }
    MHD_stop_daemon(d->mhd); /* closes the connections: their streams' done() */
    d->mhd = NULL;
  }
  d->mon = NULL;
}

static void apx_dash_changed(void *ud, size_t unit);
static void apx_dash_line(void *ud, size_t unit, const char *s, size_t n, bool eol);
static void apx_dash_note(void *ud, long unit, const char *s, size_t n, bool error);
static void apx_dash_env(void *ud, const char *unit, const char *resource, const char *host,
                         void (*add)(void *ctx, const char *name, const char *value), void *ctx);

/* The OTLP key is the program's, kept in its state directory: a persistent
 * container made by an earlier run (its environment is kept) still sends
 * with a valid key. The login token stays per run. */
static int apx_dash_state(void *ud, const char *dir, char *err, size_t nerr) {
  apx_dash *d = ud;
  free(d->state_dir);
  d->state_dir = strdup(dir);
  if (!d->state_dir) abort();
  char path[4096];
  if ((size_t)snprintf(path, sizeof path, "%s/otlp-key", dir) >= sizeof path) {
    snprintf(err, nerr, "the state directory's path is too long");
    return -1;
  }
  return apx_dash_key_keep(path, d->key, 16, err, nerr);
}

/* A secret of the dashboard's: the one given with `option` (1 to size-1
 * characters), else 16 random bytes in hex. false with err set. */
static bool apx_dash_secret(char *dst, size_t size, const char *given, const char *option, char *err, size_t nerr) {
  if (given) {
    if (!given[0] || strlen(given) >= size) {
      snprintf(err, nerr, "%s: give 1 to %zu characters", option, size - 1);
      return false;
    }
    snprintf(dst, size, "%s", given);
    return true;
  }
  if (apx_dash_random_hex(dst, 16)) return true;
  snprintf(err, nerr, "the dashboard: no random bytes from the kernel: %s", strerror(errno));
  return false;
}

apx_dash *apx_dash_new(const apx_dash_opts *o, char *err, size_t nerr) {
  apx_dash *d = calloc(1, sizeof *d);
  if (!d) abort();
  if (!apx_dash_secret(d->token, sizeof d->token, o->token, "--dashboard-token", err, nerr) ||
      !apx_dash_secret(d->api_key, sizeof d->api_key, o->api_key, "--dashboard-api-key", err, nerr) ||
      !apx_dash_secret(d->key, sizeof d->key, NULL, NULL, err, nerr)) {
    free(d);
    return NULL;
  }
  if (o->port) {
    if (!apx_port_free(o->port) || !(d->mhd = apx_dash_listen(d, o->port))) {
      snprintf(err, nerr, "--dashboard=%d: port %d is taken on 127.0.0.1 (choose another, or --no-dashboard)",
               o->port, o->port);
      free(d);
      return NULL;
    }
    d->port = o->port;
  } else {
    /* The first free one; another run may take it between the check and
     * the bind: then the next. */
    for (int p = APX_DASH_DEFAULT_PORT; p < APX_DASH_DEFAULT_PORT + 200 && !d->port; p++)
      if (apx_port_free(p) && (d->mhd = apx_dash_listen(d, p))) d->port = p;
    if (!d->port) {
      snprintf(err, nerr, "the dashboard: ports %d to %d are all taken (--dashboard=PORT, or --no-dashboard)",
               APX_DASH_DEFAULT_PORT, APX_DASH_DEFAULT_PORT + 199);
      free(d);
      return NULL;
    }
  }
  snprintf(d->url, sizeof d->url, "http://127.0.0.1:%d/login?t=%s", d->port, d->token);
  snprintf(d->summary, sizeof d->summary, "dashboard: %s", d->url);
  d->listener = (apx_mon_listener){.ud = d,
                                   .attach = apx_dash_attach,
                                   .detach = apx_dash_detach,
                                   .changed = apx_dash_changed,
                                   .line = apx_dash_line,
                                   .note = apx_dash_note,
                                   .env = apx_dash_env,
                                   .state = apx_dash_state,
                                   .summary = d->summary};
  for (size_t i = 0; apx_dash_modules[i]; i++)
    if (apx_dash_modules[i]->init && apx_dash_modules[i]->init(d) != 0) {
      snprintf(err, nerr, "the dashboard: %s could not start", apx_dash_modules[i]->name);
      apx_dash_free(d);
      return NULL;
    }
  return d;
}

void apx_dash_free(apx_dash *d) {
  if (!d) return;
  if (d->mhd) apx_dash_detach(d); /* also when the run ended before attaching it */
  for (size_t i = 0; apx_dash_modules[i]; i++)
    if (apx_dash_modules[i]->free) apx_dash_modules[i]->free(d);
  memset(d->token, 0, sizeof d->token);
  memset(d->key, 0, sizeof d->key);
  memset(d->api_key, 0, sizeof d->api_key);
  free(d->state_dir);
  free(d);
}

/* ---- run mode's news, passed to the modules that want it ------------------------------- */

static void apx_dash_changed(void *ud, size_t unit) {
  for (size_t i = 0; apx_dash_modules[i]; i++)
    if (apx_dash_modules[i]->changed) apx_dash_modules[i]->changed(ud, unit);
}

static void apx_dash_line(void *ud, size_t unit, const char *s, size_t n, bool eol) {
  for (size_t i = 0; apx_dash_modules[i]; i++)
    if (apx_dash_modules[i]->line) apx_dash_modules[i]->line(ud, unit, s, n, eol);
}

static void apx_dash_note(void *ud, long unit, const char *s, size_t n, bool error) {
  for (size_t i = 0; apx_dash_modules[i]; i++)
    if (apx_dash_modules[i]->note) apx_dash_modules[i]->note(ud, unit, s, n, error);
}

/* The OpenTelemetry exporter's settings, as Aspire gives them in development:
 * the receiver of this dashboard, its key, and short batch delays so that
 * telemetry shows up within a second. */
static void apx_dash_env(void *ud, const char *unit, const char *resource, const char *host,
                         void (*add)(void *ctx, const char *name, const char *value), void *ctx) {
  apx_dash *d = ud;
  char v[320];
  snprintf(v, sizeof v, "http://%s:%d", host, d->port);
  add(ctx, "OTEL_EXPORTER_OTLP_ENDPOINT", v);
  add(ctx, "OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf");
  snprintf(v, sizeof v, "x-otlp-api-key=%s", d->key);
  add(ctx, "OTEL_EXPORTER_OTLP_HEADERS", v);
  add(ctx, "OTEL_SERVICE_NAME", resource);
  snprintf(v, sizeof v, "service.instance.id=%s", unit);
  add(ctx, "OTEL_RESOURCE_ATTRIBUTES", v);
  add(ctx, "OTEL_BLRP_SCHEDULE_DELAY", "1000");
  add(ctx, "OTEL_BSP_SCHEDULE_DELAY", "1000");
  add(ctx, "OTEL_METRIC_EXPORT_INTERVAL", "1000");
  add(ctx, "OTEL_METRICS_EXEMPLAR_FILTER", "trace_based");
  add(ctx, "OTEL_TRACES_SAMPLER", "always_on");
}
