/* Container engines: which one answers, and one HTTP request to it.
 *
 * docker and podman both serve the Docker Engine API on a Unix socket
 * (podman through `podman system service`). An engine is "here" when that
 * socket answers GET /_ping, not when a client binary is on PATH: a
 * client with no daemon behind it runs nothing, and a daemon needs no
 * client. The socket is DOCKER_HOST (docker) or CONTAINER_HOST (podman)
 * when they name a unix:// socket, else the engine's default socket.
 * Requests go through libcurl (CURLOPT_UNIX_SOCKET_PATH); bodies are JSON
 * through cJSON (engine_docker.c). doc/run-mode.md says why the API and
 * not the CLI. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "run_internal.h"

static size_t apx_http_collect(char *data, size_t size, size_t n, void *ud) {
  apx_buf_append(ud, data, size * n);
  return size * n;
}

long apx_run_http(const char *sock, const char *method, const char *path, const char *body, apx_buf *out,
                  long timeout_ms) {
  CURL *c = curl_easy_init();
  if (!c) return -1;
  char url[2048];
  snprintf(url, sizeof url, "http://localhost/v1.41%s", path);
  char err[CURL_ERROR_SIZE] = "";
  struct curl_slist *h = NULL;
  curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, sock);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
  if (timeout_ms > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  if (body) {
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  } else if (strcmp(method, "POST") == 0) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
  }
  apx_buf_clear(out);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, apx_http_collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
  CURLcode rc = curl_easy_perform(c);
  long status = -1;
  if (rc == CURLE_OK) {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  } else {
    apx_buf_clear(out);
    apx_buf_puts(out, err[0] ? err : curl_easy_strerror(rc));
  }
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return status;
}

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
  cJSON *f = cJSON_CreateObject();
  cJSON *l = cJSON_AddArrayToObject(f, "label");
  char want[200];
  snprintf(want, sizeof want, "aspirec.session=%s", session);
  cJSON_AddItemToArray(l, cJSON_CreateString(want));
  char *filters = cJSON_PrintUnformatted(f);
  cJSON_Delete(f);
  char *e = curl_easy_escape(NULL, filters, 0);
  free(filters);
  if (!e) return;
  char path[600];
  snprintf(path, sizeof path, "/containers/json?all=1&filters=%s", e);
  curl_free(e);
  apx_buf b = {0};
  if (apx_run_http(sock, "GET", path, NULL, &b, 30000) == 200) {
    cJSON *j = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
    const cJSON *c;
    cJSON_ArrayForEach(c, j) {
      const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "Id");
      if (!cJSON_IsString(id)) continue;
      snprintf(path, sizeof path, "/containers/%.100s?force=1", id->valuestring);
      apx_buf r = {0};
      apx_run_http(sock, "DELETE", path, NULL, &r, 30000);
      apx_buf_free(&r);
    }
    cJSON_Delete(j);
  }
  apx_buf_free(&b);
  if (network && *network) {
    char *n = curl_easy_escape(NULL, network, 0);
    if (!n) return;
    snprintf(path, sizeof path, "/networks/%s", n);
    curl_free(n);
    apx_buf r = {0};
    apx_run_http(sock, "DELETE", path, NULL, &r, 30000);
    apx_buf_free(&r);
  }
}

/* ---- requests in the loop ----------------------------------------------------------------
 *
 * Once the loop runs, every request to the engine goes through one libcurl
 * multi handle driven by libuv (curl's socket interface: a uv_poll_t per
 * socket curl opens, one uv_timer_t for its timeouts), so that no request
 * blocks the loop and independent containers are pulled, created and
 * started at the same time. No thread: a thread per followed container cost
 * its stack, a malloc arena and a curl handle each (12.4 MB for 20
 * containers; bench/run/README.md).
 *
 * libcurl forbids calling the multi interface from inside its callbacks,
 * and what a callback would do (a line of output that makes a probe pass,
 * which starts a dependent, which starts a request) may need it: bytes
 * received are kept in the request, and handed to its owner (on_data, then
 * done) only after curl_multi_socket_action() has returned. */

struct apx_run_req {
  apx_run_mux *h;
  CURL *easy;
  struct curl_slist *hdrs;
  char *json; /* the request body, when JSON */
  apx_run_req_data_cb on_data;
  apx_run_req_read_cb on_read;
  apx_run_req_done_cb on_done;
  void *ud;
  apx_buf pend; /* received, not handed over yet (streamed requests) */
  apx_buf body; /* the whole answer (not streamed, or an error status) */
  bool dead;    /* cancelled or done: freed by the next sweep */
  char err[CURL_ERROR_SIZE];
  apx_run_req *next;
};

typedef struct apx_http_sock {
  uv_poll_t poll;
  apx_run_mux *h;
  curl_socket_t fd;
  struct apx_http_sock *next;
} apx_http_sock;

struct apx_run_mux {
  apx_runtime *run;
  CURLM *multi;
  uv_timer_t timer;
  apx_run_req *reqs;
  apx_http_sock *socks;
  size_t live; /* requests not done */
  int pumping;
};

static void apx_http_sweep(apx_run_mux *h) {
  for (apx_run_req **pp = &h->reqs; *pp;) {
    apx_run_req *q = *pp;
    if (!q->dead) {
      pp = &q->next;
      continue;
    }
    *pp = q->next;
    apx_buf_free(&q->pend);
    apx_buf_free(&q->body);
    free(q);
  }
}

static void apx_http_release(apx_run_req *q) {
  if (q->easy) {
    curl_multi_remove_handle(q->h->multi, q->easy);
    curl_easy_cleanup(q->easy);
    q->easy = NULL;
  }
  curl_slist_free_all(q->hdrs);
  q->hdrs = NULL;
  free(q->json);
  q->json = NULL;
  if (!q->dead) q->h->live--;
  q->dead = true;
}

/* Hands what arrived to the owners, then the ends of requests. */
static void apx_http_pump(apx_run_mux *h) {
  h->pumping++;
  for (apx_run_req *q = h->reqs; q; q = q->next) {
    if (q->dead || !q->pend.len) continue;
    /* The owner may cancel q (or others) from here: they stay in the list until the sweep. */
    apx_buf chunk = q->pend;
    q->pend = (apx_buf){0};
    q->on_data(q, chunk.data, chunk.len, q->ud);
    apx_buf_free(&chunk);
  }
  CURLMsg *m;
  int left;
  while ((m = curl_multi_info_read(h->multi, &left))) {
    if (m->msg != CURLMSG_DONE) continue;
    CURL *e = m->easy_handle;
    CURLcode rc = m->data.result;
    apx_run_req *q = NULL;
    curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&q);
    if (!q || q->dead) continue;
    long status = -1;
    if (rc == CURLE_OK) curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (q->pend.len && !q->dead) {
      apx_buf chunk = q->pend;
      q->pend = (apx_buf){0};
      q->on_data(q, chunk.data, chunk.len, q->ud);
      apx_buf_free(&chunk);
    }
    if (q->dead) continue;
    if (rc != CURLE_OK) {
      apx_buf_clear(&q->body);
      apx_buf_puts(&q->body, q->err[0] ? q->err : curl_easy_strerror(rc));
    }
    apx_http_release(q);
    if (q->on_done) q->on_done(q, status, &q->body, q->ud);
  }
  if (--h->pumping == 0) apx_http_sweep(h);
}

static void apx_http_poll_cb(uv_poll_t *p, int status, int events) {
  apx_http_sock *s = p->data;
  int flags = 0;
  if (status < 0) flags = CURL_CSELECT_ERR;
  if (events & UV_READABLE) flags |= CURL_CSELECT_IN;
  if (events & UV_WRITABLE) flags |= CURL_CSELECT_OUT;
  int running;
  apx_run_mux *h = s->h;
  curl_multi_socket_action(h->multi, s->fd, flags, &running);
  apx_http_pump(h);
}

static void apx_http_sock_closed(uv_handle_t *hd) {
  apx_http_sock *s = hd->data;
  for (apx_http_sock **pp = &s->h->socks; *pp; pp = &(*pp)->next)
    if (*pp == s) {
      *pp = s->next;
      break;
    }
  free(s);
}

static int apx_http_socket_cb(CURL *e, curl_socket_t fd, int what, void *ud, void *sockp) {
  (void)e;
  apx_run_mux *h = ud;
  apx_http_sock *s = sockp;
  if (what == CURL_POLL_REMOVE) {
    if (s) {
      uv_poll_stop(&s->poll);
      uv_close((uv_handle_t *)&s->poll, apx_http_sock_closed);
      curl_multi_assign(h->multi, fd, NULL);
    }
    return 0;
  }
  if (!s) {
    s = calloc(1, sizeof *s);
    if (!s) abort();
    s->h = h;
    s->fd = fd;
    if (uv_poll_init_socket(&h->run->loop, &s->poll, fd) != 0) {
      free(s);
      return -1;
    }
    s->poll.data = s;
    s->next = h->socks;
    h->socks = s;
    curl_multi_assign(h->multi, fd, s);
  }
  int ev = 0;
  if (what == CURL_POLL_IN || what == CURL_POLL_INOUT) ev |= UV_READABLE;
  if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT) ev |= UV_WRITABLE;
  uv_poll_start(&s->poll, ev, apx_http_poll_cb);
  return 0;
}

static void apx_http_timer_cb(uv_timer_t *t) {
  apx_run_mux *h = t->data;
  int running;
  curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
  apx_http_pump(h);
}

static int apx_http_timerfn(CURLM *m, long ms, void *ud) {
  (void)m;
  apx_run_mux *h = ud;
  if (ms < 0) uv_timer_stop(&h->timer);
  else uv_timer_start(&h->timer, apx_http_timer_cb, (uint64_t)ms, 0);
  return 0;
}

static apx_run_mux *apx_http_of(apx_runtime *run) {
  if (run->http) return run->http;
  apx_run_mux *h = calloc(1, sizeof *h);
  if (!h) abort();
  h->run = run;
  h->multi = curl_multi_init();
  if (!h->multi) abort();
  curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, apx_http_socket_cb);
  curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
  curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, apx_http_timerfn);
  curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
  /* Kept-alive connections to the engine, for the next request. */
  curl_multi_setopt(h->multi, CURLMOPT_MAXCONNECTS, 8L);
  uv_timer_init(&run->loop, &h->timer);
  h->timer.data = h;
  run->http = h;
  return h;
}

static size_t apx_req_write(char *data, size_t size, size_t n, void *ud) {
  apx_run_req *q = ud;
  long code = 0;
  curl_easy_getinfo(q->easy, CURLINFO_RESPONSE_CODE, &code);
  /* A stream is handed over as it comes; an error answer is kept whole. */
  if (q->on_data && code >= 200 && code < 300) apx_buf_append(&q->pend, data, size * n);
  else if (q->body.len < 1 << 20) apx_buf_append(&q->body, data, size * n);
  return size * n;
}

static size_t apx_req_read(char *buf, size_t size, size_t n, void *ud) {
  apx_run_req *q = ud;
  return q->on_read(buf, size * n, q->ud);
}

apx_run_req *apx_run_req_start(apx_runtime *run, const apx_run_reqopt *o, apx_run_req_done_cb done, void *ud) {
  apx_run_mux *h = apx_http_of(run);
  apx_run_req *q = calloc(1, sizeof *q);
  if (!q) abort();
  q->h = h;
  q->on_data = o->on_data;
  q->on_read = o->on_read;
  q->on_done = done;
  q->ud = ud;
  q->easy = curl_easy_init();
  if (!q->easy) abort();
  CURL *c = q->easy;
  char url[2300];
  snprintf(url, sizeof url, "http://localhost/v1.41%s", o->path);
  curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, run->engine_sock);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, o->method);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, q->err);
  curl_easy_setopt(c, CURLOPT_PRIVATE, (char *)q);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  if (o->timeout_ms > 0) curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, o->timeout_ms);
  /* Streams of output may be quiet for long: a small buffer each (curl's 16 KiB by default). */
  if (o->on_data) curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 4096L);
  if (o->on_read) {
    q->hdrs = curl_slist_append(q->hdrs, "Content-Type: application/x-tar");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, apx_req_read);
    curl_easy_setopt(c, CURLOPT_READDATA, q);
  } else if (o->json) {
    q->json = strdup(o->json);
    if (!q->json) abort();
    q->hdrs = curl_slist_append(q->hdrs, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->json);
  } else if (strcmp(o->method, "POST") == 0) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
  }
  if (q->hdrs) curl_easy_setopt(c, CURLOPT_HTTPHEADER, q->hdrs);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, apx_req_write);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, q);
  q->next = h->reqs;
  h->reqs = q;
  h->live++;
  curl_multi_add_handle(h->multi, c);
  return q;
}

void apx_run_req_cancel(apx_run_req *q) {
  if (!q || q->dead) return;
  apx_run_mux *h = q->h;
  apx_http_release(q);
  if (!h->pumping) apx_http_sweep(h);
}

size_t apx_run_http_live(const apx_runtime *run) { return run->http ? run->http->live : 0; }

void apx_run_http_wait(apx_runtime *run) {
  while (run->http && run->http->live) uv_run(&run->loop, UV_RUN_ONCE);
}

void apx_run_http_close(apx_runtime *run) {
  apx_run_mux *h = run->http;
  if (!h) return;
  for (apx_run_req *q = h->reqs; q; q = q->next) apx_http_release(q);
  apx_http_sweep(h);
  curl_multi_cleanup(h->multi);
  for (apx_http_sock *s = h->socks; s; s = s->next)
    if (!uv_is_closing((uv_handle_t *)&s->poll)) uv_close((uv_handle_t *)&s->poll, apx_http_sock_closed);
  uv_close((uv_handle_t *)&h->timer, NULL);
  /* h itself goes once the loop has closed these (apx_run_http_free). */
}

void apx_run_http_free(apx_runtime *run) {
  free(run->http);
  run->http = NULL;
}
