/* Container engines: which one answers, and the HTTP requests to it.
 *
 * docker and podman both serve the Docker Engine API on a Unix socket
 * (podman through `podman system service`). An engine is "here" when that
 * socket answers GET /_ping, not when a client binary is on PATH: a
 * client with no daemon behind it runs nothing, and a daemon needs no
 * client. The socket is DOCKER_HOST (docker) or CONTAINER_HOST (podman)
 * when they name a unix:// socket, else the engine's default socket.
 * Bodies are JSON through cJSON (engine_docker.c). doc/run-mode.md says
 * why the API and not the CLI.
 *
 * The HTTP client: HTTP/1.1 on libuv's pipe handles, one connection per
 * request (a connect to a Unix socket costs microseconds), so that no
 * request blocks the loop and independent containers are pulled, built,
 * created and started at once. It speaks what the engine answers: a
 * Content-Length body, a chunked one (streams: logs, pulls, builds), or
 * one that ends with the connection (an attached exec); it uploads a
 * body given whole or streamed in chunks (a build's context). Not
 * libcurl: linking libcurl loads OpenSSL, GnuTLS, Kerberos and LDAP with
 * it, 5.5 MB of resident memory in every aspirec (bench/run/README.md),
 * to speak plain HTTP on a local socket. The same client, in a loop of
 * its own, makes the few requests before the run's loop starts (the ping,
 * the network) and the watchdog's. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "run_internal.h"

struct apx_run_req {
  apx_run_mux *h;
  uv_loop_t *loop;
  uv_pipe_t pipe;
  uv_connect_t conn;
  uv_timer_t timer;
  uv_write_t wr;
  int handles; /* open uv handles: freed at 0 */
  bool pipe_on, timer_on;
  apx_buf head;  /* the request's head and JSON body */
  apx_buf chunk; /* an uploaded chunk being written */
  apx_run_req_data_cb on_data;
  apx_run_req_read_cb on_read;
  apx_run_req_done_cb on_done;
  void *ud;
  long timeout_ms;
  /* the answer */
  apx_buf in;   /* the head until it is complete; then what is not parsed yet */
  bool in_body;
  long status;
  long long left; /* Content-Length still to come; -1 none */
  bool chunked, until_eof;
  long long chunk_left; /* of the current chunk; -1: a size line comes */
  bool chunk_crlf;      /* the CRLF after a chunk's data comes */
  apx_buf body; /* the whole answer (not streamed, or an error status) */
  bool dead;    /* done or cancelled: no callback any more */
  apx_run_req *prev, *next;
};

struct apx_run_mux {
  apx_runtime *run; /* NULL: a loop of its own (apx_run_http) */
  apx_run_req *reqs;
  size_t live;
};

static void apx_req_closed(uv_handle_t *hd) {
  apx_run_req *q = hd->data;
  if (--q->handles > 0) return;
  apx_buf_free(&q->head);
  apx_buf_free(&q->chunk);
  apx_buf_free(&q->in);
  apx_buf_free(&q->body);
  free(q);
}

/* Closes q's handles and takes it off the list; no callback comes after. */
static void apx_req_end(apx_run_req *q) {
  if (q->dead) return;
  q->dead = true;
  apx_run_mux *h = q->h;
  h->live--;
  if (q->prev) q->prev->next = q->next;
  else h->reqs = q->next;
  if (q->next) q->next->prev = q->prev;
  q->handles = 0;
  if (q->timer_on) q->handles++;
  q->handles++; /* the pipe: always initialised */
  if (q->timer_on) uv_close((uv_handle_t *)&q->timer, apx_req_closed);
  uv_close((uv_handle_t *)&q->pipe, apx_req_closed);
}

static void apx_req_finish(apx_run_req *q, long status, const char *err) {
  if (q->dead) return;
  if (err) {
    apx_buf_clear(&q->body);
    apx_buf_puts(&q->body, err);
    status = -1;
  }
  apx_run_req_done_cb done = q->on_done;
  void *ud = q->ud;
  /* The answer outlives the handles until the callback returns. */
  apx_buf body = q->body;
  q->body = (apx_buf){0};
  apx_req_end(q);
  if (done) done(q, status, &body, ud);
  apx_buf_free(&body);
}

/* ---- the answer ----------------------------------------------------------------------------- */

static void apx_deliver(apx_run_req *q, const char *s, size_t n) {
  if (!n) return;
  if (q->on_data && q->status >= 200 && q->status < 300) q->on_data(q, s, n, q->ud);
  else if (q->body.len < (1u << 20)) apx_buf_append(&q->body, s, n);
}

static bool apx_hdr_is(const char *line, size_t n, const char *name, const char **val) {
  size_t k = strlen(name);
  if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':') return false;
  const char *v = line + k + 1;
  while (*v == ' ' || *v == '\t') v++;
  *val = v;
  return true;
}

/* The head is complete in q->in up to end: status, framing. */
static bool apx_parse_head(apx_run_req *q, size_t end) {
  char *s = q->in.data;
  if (strncmp(s, "HTTP/1.", 7) != 0 || end < 12) return false;
  q->status = strtol(s + 9, NULL, 10);
  q->left = -1;
  for (char *line = strstr(s, "\r\n") + 2; line < s + end;) {
    char *eol = strstr(line, "\r\n");
    if (!eol || eol == line) break;
    const char *v;
    if (apx_hdr_is(line, (size_t)(eol - line), "Content-Length", &v)) q->left = strtoll(v, NULL, 10);
    else if (apx_hdr_is(line, (size_t)(eol - line), "Transfer-Encoding", &v) && strncasecmp(v, "chunked", 7) == 0)
      q->chunked = true;
    line = eol + 2;
  }
  if (q->chunked) q->left = -1;
  q->until_eof = !q->chunked && q->left < 0;
  q->chunk_left = -1;
  /* 1xx (an engine's 100 Continue): the real head follows. */
  return true;
}

/* What arrived after the head: framed by length, chunks, or the end of the connection. */
static void apx_body_bytes(apx_run_req *q, const char *s, size_t n) {
  while (n && !q->dead) {
    if (!q->chunked) {
      size_t k = q->left >= 0 && (long long)n > q->left ? (size_t)q->left : n;
      apx_deliver(q, s, k);
      if (q->left >= 0) q->left -= (long long)k;
      s += k;
      n -= k;
      if (q->left == 0) {
        apx_req_finish(q, q->status, NULL);
        return;
      }
      if (q->left >= 0 && n) n = 0; /* bytes after the body: ignored (one request per connection) */
      continue;
    }
    if (q->chunk_crlf || q->chunk_left < 0) {
      /* A line: the CRLF after data, or a chunk's size. */
      apx_buf_append(&q->in, s, 1);
      s++;
      n--;
      size_t l = q->in.len;
      if (l < 2 || q->in.data[l - 2] != '\r' || q->in.data[l - 1] != '\n') {
        if (l > 256) {
          apx_req_finish(q, -1, "the engine's chunked answer is malformed");
          return;
        }
        continue;
      }
      if (q->chunk_crlf) {
        q->chunk_crlf = false;
      } else {
        q->chunk_left = strtoll(q->in.data, NULL, 16);
        if (q->chunk_left == 0) {
          apx_req_finish(q, q->status, NULL);
          return;
        }
      }
      apx_buf_clear(&q->in);
      continue;
    }
    size_t k = (long long)n > q->chunk_left ? (size_t)q->chunk_left : n;
    apx_deliver(q, s, k);
    q->chunk_left -= (long long)k;
    s += k;
    n -= k;
    if (q->chunk_left == 0) {
      q->chunk_left = -1;
      q->chunk_crlf = true;
    }
  }
}

static void apx_req_alloc(uv_handle_t *hd, size_t hint, uv_buf_t *buf) {
  (void)hd;
  (void)hint;
  static char rbuf[16384]; /* the loop reads one stream at a time */
  buf->base = rbuf;
  buf->len = sizeof rbuf;
}

static void apx_req_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf) {
  apx_run_req *q = st->data;
  if (q->dead) return;
  if (n < 0) {
    if (n == UV_EOF && q->in_body && (q->until_eof || (q->left < 0 && !q->chunked))) apx_req_finish(q, q->status, NULL);
    else if (n == UV_EOF && q->in_body && q->left == 0) apx_req_finish(q, q->status, NULL);
    else if (n == UV_EOF) apx_req_finish(q, -1, "the engine closed the connection before it answered in full");
    else apx_req_finish(q, -1, uv_strerror((int)n));
    return;
  }
  const char *s = buf->base;
  size_t len = (size_t)n;
  while (!q->in_body && len) {
    /* The head: up to its blank line. */
    size_t old = q->in.len;
    apx_buf_append(&q->in, s, len);
    char *end = strstr(q->in.data, "\r\n\r\n");
    if (!end) {
      if (q->in.len > 65536) apx_req_finish(q, -1, "the engine's answer has no end of its head");
      return;
    }
    size_t hl = (size_t)(end - q->in.data) + 4;
    if (!apx_parse_head(q, hl)) {
      apx_req_finish(q, -1, "the engine's answer is not HTTP/1.x");
      return;
    }
    size_t used = hl - old; /* of this read */
    s += used;
    len -= used;
    apx_buf_clear(&q->in);
    if (q->status >= 100 && q->status < 200 && q->status != 101) continue; /* 100 Continue */
    q->in_body = true;
    if (q->left == 0) {
      apx_req_finish(q, q->status, NULL);
      return;
    }
  }
  if (len) apx_body_bytes(q, s, len);
}

/* ---- the request ------------------------------------------------------------------------------ */

static void apx_req_written(uv_write_t *w, int status);

/* The next piece of a streamed body, as a chunk; the last one empty. */
static void apx_req_upload(apx_run_req *q) {
  enum { PIECE = 65536 };
  char *piece = malloc(PIECE);
  if (!piece) abort();
  size_t n = q->on_read ? q->on_read(piece, PIECE, q->ud) : 0;
  apx_buf_clear(&q->chunk);
  if (n) {
    apx_buf_printf(&q->chunk, "%zx\r\n", n);
    apx_buf_append(&q->chunk, piece, n);
    apx_buf_puts(&q->chunk, "\r\n");
  } else {
    apx_buf_puts(&q->chunk, "0\r\n\r\n");
    q->on_read = NULL; /* the body is complete */
  }
  free(piece);
  uv_buf_t b = uv_buf_init(q->chunk.data, (unsigned)q->chunk.len);
  if (uv_write(&q->wr, (uv_stream_t *)&q->pipe, &b, 1, apx_req_written) != 0)
    apx_req_finish(q, -1, "cannot write to the engine's socket");
}

static void apx_req_written(uv_write_t *w, int status) {
  apx_run_req *q = w->data;
  if (q->dead) return;
  if (status < 0) {
    apx_req_finish(q, -1, uv_strerror(status));
    return;
  }
  if (q->on_read) apx_req_upload(q); /* the next piece of a streamed body */
}

static void apx_req_connected(uv_connect_t *c, int status) {
  apx_run_req *q = c->data;
  if (q->dead) return;
  if (status < 0) {
    char why[200];
    snprintf(why, sizeof why, "cannot connect to the engine's socket: %s", uv_strerror(status));
    apx_req_finish(q, -1, why);
    return;
  }
  uv_read_start((uv_stream_t *)&q->pipe, apx_req_alloc, apx_req_read);
  q->wr.data = q;
  uv_buf_t b = uv_buf_init(q->head.data, (unsigned)q->head.len);
  if (uv_write(&q->wr, (uv_stream_t *)&q->pipe, &b, 1, apx_req_written) != 0)
    apx_req_finish(q, -1, "cannot write to the engine's socket");
}

static void apx_req_timeout(uv_timer_t *t) {
  apx_run_req *q = t->data;
  char why[80];
  snprintf(why, sizeof why, "no answer from the engine within %ld ms", q->timeout_ms);
  apx_req_finish(q, -1, why);
}

static apx_run_req *apx_req_on(uv_loop_t *loop, apx_run_mux *h, const char *sock, const apx_run_reqopt *o,
                               apx_run_req_done_cb done, void *ud) {
  apx_run_req *q = calloc(1, sizeof *q);
  if (!q) abort();
  q->h = h;
  q->loop = loop;
  q->on_data = o->on_data;
  q->on_read = o->on_read;
  q->on_done = done;
  q->ud = ud;
  q->timeout_ms = o->timeout_ms;
  /* The head: the method and path are ours (paths escaped by apx_run_url_escape), never a value's text. */
  apx_buf_printf(&q->head, "%s /v1.41%s HTTP/1.1\r\nHost: localhost\r\nUser-Agent: aspirec\r\nConnection: close\r\n",
                 o->method, o->path);
  if (o->on_read) {
    apx_buf_puts(&q->head, "Content-Type: application/x-tar\r\nTransfer-Encoding: chunked\r\n\r\n");
  } else if (o->json) {
    apx_buf_puts(&q->head, "Content-Type: application/json\r\nContent-Length: ");
    apx_buf_int(&q->head, (long long)strlen(o->json));
    apx_buf_puts(&q->head, "\r\n\r\n");
    apx_buf_puts(&q->head, o->json);
  } else if (strcmp(o->method, "POST") == 0) {
    apx_buf_puts(&q->head, "Content-Length: 0\r\n\r\n");
  } else {
    apx_buf_puts(&q->head, "\r\n");
  }
  q->next = h->reqs;
  if (h->reqs) h->reqs->prev = q;
  h->reqs = q;
  h->live++;
  uv_pipe_init(loop, &q->pipe, 0);
  q->pipe.data = q;
  q->conn.data = q;
  if (o->timeout_ms > 0) {
    uv_timer_init(loop, &q->timer);
    q->timer.data = q;
    q->timer_on = true;
    uv_timer_start(&q->timer, apx_req_timeout, (uint64_t)o->timeout_ms, 0);
  }
  uv_pipe_connect(&q->conn, &q->pipe, sock, apx_req_connected);
  return q;
}

static apx_run_mux *apx_mux_of(apx_runtime *run) {
  if (!run->http) {
    run->http = calloc(1, sizeof *run->http);
    if (!run->http) abort();
    run->http->run = run;
  }
  return run->http;
}

apx_run_req *apx_run_req_start(apx_runtime *run, const apx_run_reqopt *o, apx_run_req_done_cb done, void *ud) {
  return apx_req_on(&run->loop, apx_mux_of(run), run->engine_sock, o, done, ud);
}

void apx_run_req_cancel(apx_run_req *q) {
  if (q) apx_req_end(q);
}

size_t apx_run_http_live(const apx_runtime *run) { return run->http ? run->http->live : 0; }

void apx_run_http_wait(apx_runtime *run) {
  while (run->http && run->http->live) uv_run(&run->loop, UV_RUN_ONCE);
}

void apx_run_http_close(apx_runtime *run) {
  apx_run_mux *h = run->http;
  if (!h) return;
  while (h->reqs) apx_req_end(h->reqs);
}

void apx_run_http_free(apx_runtime *run) {
  free(run->http);
  run->http = NULL;
}

/* ---- one request in a loop of its own (before the run's loop; the watchdog) --------------------- */

typedef struct apx_sync {
  apx_buf *out;
  long status;
} apx_sync;

static void apx_sync_done(apx_run_req *q, long status, const apx_buf *body, void *ud) {
  (void)q;
  apx_sync *s = ud;
  s->status = status;
  apx_buf_clear(s->out);
  if (body->len) apx_buf_append(s->out, body->data, body->len);
}

long apx_run_http(const char *sock, const char *method, const char *path, const char *body, apx_buf *out,
                  long timeout_ms) {
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) return -1;
  apx_run_mux h = {0};
  apx_sync s = {out, -1};
  apx_buf_clear(out);
  apx_run_reqopt o = {.method = method, .path = path, .json = body, .timeout_ms = timeout_ms};
  apx_req_on(&loop, &h, sock, &o, apx_sync_done, &s);
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return s.status;
}

char *apx_run_url_escape(apx_arena *a, const char *s) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = strlen(s);
  char *r = apx_arena_alloc(a, n * 3 + 1), *p = r;
  for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
    if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '-' || *c == '.' ||
        *c == '_' || *c == '~') {
      *p++ = (char)*c;
    } else {
      *p++ = '%';
      *p++ = hex[*c >> 4];
      *p++ = hex[*c & 15];
    }
  }
  *p = '\0';
  return r;
}

/* ---- which engine ------------------------------------------------------------------------------- */

/* The socket of an engine: its variable's unix:// socket, else the default. */
static const char *apx_engine_socket(const char *name) {
  const char *var = strcmp(name, "docker") == 0 ? "DOCKER_HOST" : "CONTAINER_HOST";
  const char *v = getenv(var);
  if (v && strncmp(v, "unix://", 7) == 0) return v + 7;
  if (v && *v) return NULL; /* tcp:// or ssh://: not spoken here */
  return strcmp(name, "docker") == 0 ? "/var/run/docker.sock" : "/run/podman/podman.sock";
}

static bool apx_engine_answers(const char *sock) {
  if (!sock || access(sock, F_OK) != 0) return false;
  apx_buf b = {0};
  long st = apx_run_http(sock, "GET", "/_ping", NULL, &b, 5000);
  apx_buf_free(&b);
  return st == 200;
}

const char *apx_run_engine_find(const char *want, const char **sock) {
  static const char *const names[] = {"docker", "podman"};
  for (size_t i = 0; i < 2; i++) {
    if (want && strcmp(want, names[i]) != 0) continue;
    const char *s = apx_engine_socket(names[i]);
    if (apx_engine_answers(s)) {
      if (sock) *sock = s;
      return names[i];
    }
  }
  return NULL;
}

const char *apx_run_engine_detect(void) { return apx_run_engine_find(NULL, NULL); }

void apx_run_engine_reap(const char *sock, const char *session, const char *network) {
  apx_arena *a = apx_arena_new();
  cJSON *f = cJSON_CreateObject();
  cJSON *l = cJSON_AddArrayToObject(f, "label");
  cJSON_AddItemToArray(l, cJSON_CreateString(apx_arena_printf(a, "aspirec.session=%s", session)));
  char *filters = cJSON_PrintUnformatted(f);
  cJSON_Delete(f);
  const char *path = apx_arena_printf(a, "/containers/json?all=1&filters=%s", apx_run_url_escape(a, filters));
  free(filters);
  apx_buf b = {0};
  if (apx_run_http(sock, "GET", path, NULL, &b, 30000) == 200) {
    cJSON *j = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
    const cJSON *c;
    cJSON_ArrayForEach(c, j) {
      const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "Id");
      if (!cJSON_IsString(id)) continue;
      apx_buf r = {0};
      apx_run_http(sock, "DELETE", apx_arena_printf(a, "/containers/%s?force=1", apx_run_url_escape(a, id->valuestring)),
                   NULL, &r, 30000);
      apx_buf_free(&r);
    }
    cJSON_Delete(j);
  }
  apx_buf_free(&b);
  if (network && *network) {
    apx_buf r = {0};
    apx_run_http(sock, "DELETE", apx_arena_printf(a, "/networks/%s", apx_run_url_escape(a, network)), NULL, &r, 30000);
    apx_buf_free(&r);
  }
  apx_arena_free(a);
}
