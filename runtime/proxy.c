/* The replicas' proxy: a small load-balancing TCP proxy in aspirec's loop,
 * as Aspire's DCP has. For every TCP endpoint of a resource with replicas,
 * it listens on the endpoint's port (the one references render, chosen by
 * ports.c, whose sockets it takes over: no other program can take the port
 * in between) on 127.0.0.1 and [::1], and on the run network's gateway when
 * containers run (a container reaches a process through it; bound before
 * the address exists, which podman adds with its first container). Each replica
 * listens on a private port of its own.
 *
 * A connection goes to the next replica in turn that is up: ready ones
 * (healthy, or running without checks) first, then running ones whose checks
 * have not passed yet; a replica that refuses (it just died, and its exit
 * is not seen yet) is skipped for the next. When none accepts, the client's
 * connection is reset.
 *
 * Bytes flow both ways through one buffer per direction, 16 KiB: a read is
 * written at once (uv_try_write); what the peer cannot take now is queued
 * and reading stops until it is written (back-pressure: a connection holds
 * at most its two buffers, however fast one side sends). An end of file is
 * passed on as a shutdown of the peer's sending side (half-close); the
 * connection is closed once both directions ended, or at once on an error.
 * At the end of the run every listener and connection is closed. */
#include <netinet/in.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "run_internal.h"

enum { APX_PROXY_BUF = 16384 };

typedef struct apx_proxy_listener {
  apx_runtime *run;
  const apx_run_res *rr;
  size_t ep;     /* the endpoint's index in rr->res */
  unsigned next; /* round robin: the replica to try first for the next connection */
  uv_tcp_t tcp[3];
  bool open[3];
  struct apx_proxy_listener *next_l;
} apx_proxy_listener;

typedef struct apx_proxy_conn apx_proxy_conn;

/* One side of a connection: its socket, and the buffer of what was read from
 * it and is being written to the other side. */
typedef struct apx_proxy_side {
  uv_tcp_t tcp;
  apx_proxy_conn *c;
  uv_write_t wreq;
  uv_shutdown_t sreq;
  bool inited, writing, eof, shut; /* eof: it sent its end; shut: the other side was told */
  char *buf;                       /* APX_PROXY_BUF bytes, in the connection's record */
} apx_proxy_side;

struct apx_proxy_conn {
  apx_proxy_listener *l;
  apx_proxy_side s[2]; /* [0] the client, [1] the replica */
  uv_connect_t creq;
  unsigned start, tries; /* where the round started; replicas tried (two passes over them) */
  int handles;           /* open handles; freed at 0 */
  bool closing, connected;
  apx_proxy_conn *prev, *next;
  char bufs[2][APX_PROXY_BUF]; /* last, and not zeroed: a connection costs no 32 KiB memset */
};

struct apx_run_proxy {
  apx_proxy_listener *listeners;
  apx_proxy_conn *conns;
};

bool apx_run_proxied(const apx_run_res *rr, const apx_endpoint *e) {
  return rr && rr->n > 1 && rr->units[0]->kind == APX_UNIT_PROCESS && !(e->protocol && strcmp(e->protocol, "udp") == 0);
}

/* ---- closing -------------------------------------------------------------- */

/* One handle of c is closed; c is freed with its last. */
static void apx_conn_release(apx_proxy_conn *c) {
  if (--c->handles > 0) return;
  apx_run_proxy *px = c->l->run->proxy;
  if (c->prev) c->prev->next = c->next;
  else px->conns = c->next;
  if (c->next) c->next->prev = c->prev;
  free(c);
}

static void apx_conn_closed(uv_handle_t *h) {
  apx_proxy_side *s = h->data;
  apx_conn_release(s->c);
}

/* Both sides closed (reset: the client sees a reset, not a clean end). */
static void apx_conn_close(apx_proxy_conn *c, bool reset) {
  if (c->closing) return;
  c->closing = true;
  for (int i = 0; i < 2; i++) {
    uv_handle_t *h = (uv_handle_t *)&c->s[i].tcp;
    if (!c->s[i].inited || uv_is_closing(h)) continue;
    if (reset && i == 0 && uv_tcp_close_reset(&c->s[i].tcp, apx_conn_closed) == 0) continue;
    uv_close(h, apx_conn_closed);
  }
}

/* Both directions ended and were passed on. */
static void apx_conn_maybe_done(apx_proxy_conn *c) {
  if (c->s[0].eof && c->s[1].eof && c->s[0].shut && c->s[1].shut && !c->s[0].writing && !c->s[1].writing)
    apx_conn_close(c, false);
}

/* ---- splicing ---------------------------------------------------------------- */

static void apx_side_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b) {
  (void)hint;
  apx_proxy_side *s = h->data;
  *b = uv_buf_init(s->buf, APX_PROXY_BUF);
}

static void apx_side_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b);

static void apx_side_written(uv_write_t *w, int status) {
  apx_proxy_side *s = w->data;
  apx_proxy_conn *c = s->c;
  s->writing = false;
  if (c->closing) return;
  if (status < 0) {
    apx_conn_close(c, true);
    return;
  }
  if (!s->eof && uv_read_start((uv_stream_t *)&s->tcp, apx_side_alloc, apx_side_read) != 0) apx_conn_close(c, true);
  apx_conn_maybe_done(c);
}

static void apx_side_shut(uv_shutdown_t *r, int status) {
  apx_proxy_side *s = r->data;
  apx_proxy_conn *c = s->c;
  if (c->closing) return;
  if (status < 0) {
    apx_conn_close(c, true);
    return;
  }
  s->shut = true;
  apx_conn_maybe_done(c);
}

static void apx_side_read(uv_stream_t *st, ssize_t nread, const uv_buf_t *b) {
  apx_proxy_side *s = st->data;
  apx_proxy_conn *c = s->c;
  apx_proxy_side *peer = &c->s[s == &c->s[0]];
  if (c->closing || nread == 0) return;
  if (nread == UV_EOF) {
    /* Half-close: the peer gets our end once what is queued is written. */
    s->eof = true;
    uv_read_stop(st);
    s->sreq.data = s;
    if (uv_shutdown(&s->sreq, (uv_stream_t *)&peer->tcp, apx_side_shut) != 0) apx_conn_close(c, true);
    return;
  }
  if (nread < 0) {
    apx_conn_close(c, true);
    return;
  }
  uv_buf_t out = uv_buf_init(b->base, (unsigned)nread);
  int n = uv_try_write((uv_stream_t *)&peer->tcp, &out, 1);
  if (n == nread) return;
  if (n < 0 && n != UV_EAGAIN) {
    apx_conn_close(c, true);
    return;
  }
  if (n > 0) out = uv_buf_init(b->base + n, (unsigned)(nread - n));
  /* The peer is slow: the rest is queued and reading waits for it. */
  uv_read_stop(st);
  s->writing = true;
  s->wreq.data = s;
  if (uv_write(&s->wreq, (uv_stream_t *)&peer->tcp, &out, 1, apx_side_written) != 0) {
    s->writing = false;
    apx_conn_close(c, true);
  }
}

/* ---- connecting to a replica --------------------------------------------------- */

static void apx_conn_try(apx_proxy_conn *c);

/* The replica's handle of a refused try is closed: the next replica, on
 * the same memory (a handle is reused only after its close). */
static void apx_conn_retry(uv_handle_t *h) {
  apx_proxy_side *s = h->data;
  apx_proxy_conn *c = s->c;
  s->inited = false;
  if (c->closing) {
    apx_conn_release(c);
    return;
  }
  c->handles--;
  apx_conn_try(c);
}

static void apx_conn_connected(uv_connect_t *r, int status) {
  apx_proxy_conn *c = r->data;
  if (c->closing) return;
  if (status < 0) {
    /* Refused (the replica has just died, its exit not seen yet) or unreachable. */
    uv_close((uv_handle_t *)&c->s[1].tcp, apx_conn_retry);
    return;
  }
  c->connected = true;
  uv_tcp_nodelay(&c->s[1].tcp, 1);
  for (int i = 0; i < 2; i++)
    if (uv_read_start((uv_stream_t *)&c->s[i].tcp, apx_side_alloc, apx_side_read) != 0) {
      apx_conn_close(c, true);
      return;
    }
}

/* The replica to try next: two passes from the round's start, ready ones
 * first, then running ones not (yet) healthy. NULL when none is left. */
static const apx_run_unit *apx_conn_pick(apx_proxy_conn *c) {
  const apx_run_res *rr = c->l->rr;
  while (c->tries < 2 * rr->n) {
    unsigned k = c->tries++;
    bool second = k >= rr->n;
    const apx_run_unit *u = rr->units[(c->start + k) % rr->n];
    bool ready = apx_run_unit_ready(u);
    bool running = u->state == APX_ST_RUNNING || u->state == APX_ST_UNHEALTHY;
    if (second ? running && !ready : ready) return u;
  }
  return NULL;
}

static void apx_conn_try(apx_proxy_conn *c) {
  apx_runtime *run = c->l->run;
  const apx_run_unit *u = apx_conn_pick(c);
  if (!u || uv_tcp_init(&run->loop, &c->s[1].tcp) != 0) {
    apx_conn_close(c, true); /* the client sees a reset: nothing is there */
    return;
  }
  c->s[1].tcp.data = &c->s[1];
  c->s[1].inited = true;
  c->handles++;
  struct sockaddr_in sa;
  uv_ip4_addr("127.0.0.1", u->ports[c->l->ep], &sa);
  c->creq.data = c;
  if (uv_tcp_connect(&c->creq, &c->s[1].tcp, (const struct sockaddr *)&sa, apx_conn_connected) != 0)
    uv_close((uv_handle_t *)&c->s[1].tcp, apx_conn_retry);
}

static void apx_proxy_accept(uv_stream_t *srv, int status) {
  apx_proxy_listener *l = srv->data;
  apx_runtime *run = l->run;
  if (status < 0) return;
  apx_proxy_conn *c = malloc(sizeof *c);
  if (!c) return;
  memset(c, 0, offsetof(apx_proxy_conn, bufs));
  c->l = l;
  for (int i = 0; i < 2; i++) {
    c->s[i].c = c;
    c->s[i].buf = c->bufs[i];
  }
  uv_tcp_init(&run->loop, &c->s[0].tcp);
  c->s[0].tcp.data = &c->s[0];
  c->s[0].inited = true;
  c->handles = 1;
  c->next = run->proxy->conns;
  if (c->next) c->next->prev = c;
  run->proxy->conns = c;
  if (uv_accept(srv, (uv_stream_t *)&c->s[0].tcp) != 0) {
    apx_conn_close(c, false);
    return;
  }
  uv_tcp_nodelay(&c->s[0].tcp, 1);
  c->start = l->next;
  l->next = (unsigned)((l->next + 1) % l->rr->n);
  apx_conn_try(c);
}

/* ---- listeners ------------------------------------------------------------------- */

int apx_run_proxy_open(apx_runtime *run) {
  run->proxy = calloc(1, sizeof *run->proxy);
  if (!run->proxy) return 2;
  for (size_t i = 0; i < run->nres; i++) {
    apx_run_res *rr = &run->res[i];
    if (!rr->proxy_ports) continue;
    for (size_t k = 0; k < rr->res->nendpoints; k++) {
      if (!rr->proxy_ports[k]) continue;
      apx_proxy_listener *l = calloc(1, sizeof *l);
      if (!l) return 2;
      l->run = run;
      l->rr = rr;
      l->ep = k;
      l->next_l = run->proxy->listeners;
      run->proxy->listeners = l;
      for (int w = 0; w < 3; w++) {
        int fd = w < 2 ? rr->proxy_fds[2 * k + w] : -1;
        if (w == 2 && !run->engine_gateway) continue;
        int rc = uv_tcp_init_ex(&run->loop, &l->tcp[w], w == 2 ? AF_INET : AF_UNSPEC);
        if (rc != 0) return 2;
        l->tcp[w].data = l;
        l->open[w] = true;
        if (w == 2) {
          /* podman's bridge gets the gateway's address only when its first
           * container starts: bind to it before it exists (IP_FREEBIND). */
          uv_os_fd_t gfd;
          int one = 1;
          if (uv_fileno((uv_handle_t *)&l->tcp[w], &gfd) == 0)
            setsockopt(gfd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
        }
        if (fd >= 0) {
          rc = uv_tcp_open(&l->tcp[w], fd);
          if (rc == 0) rr->proxy_fds[2 * k + w] = -1; /* the handle owns it now */
        } else {
          /* A fixed port (checked free by ports.c), or the run network's
           * gateway, where containers reach the host. */
          struct sockaddr_storage sa;
          if (w == 1) rc = uv_ip6_addr("::1", rr->proxy_ports[k], (struct sockaddr_in6 *)&sa);
          else rc = uv_ip4_addr(w == 0 ? "127.0.0.1" : run->engine_gateway, rr->proxy_ports[k], (struct sockaddr_in *)&sa);
          if (rc == 0) rc = uv_tcp_bind(&l->tcp[w], (const struct sockaddr *)&sa, w == 1 ? UV_TCP_IPV6ONLY : 0);
          if (w == 1 && (rc == UV_EADDRNOTAVAIL || rc == UV_EAFNOSUPPORT)) continue; /* no IPv6 here */
        }
        if (rc == 0) rc = uv_listen((uv_stream_t *)&l->tcp[w], 511, apx_proxy_accept);
        if (w == 1 && fd < 0 && (rc == UV_EADDRNOTAVAIL || rc == UV_EAFNOSUPPORT)) continue;
        if (rc != 0) {
          const char *where = w == 0 ? "127.0.0.1" : w == 1 ? "[::1]" : run->engine_gateway;
          if (w == 2) {
            /* Not fatal: processes still reach the proxy; containers do not. */
            apx_run_say(run, "%s: the proxy cannot listen on %s:%d (containers cannot reach it): %s", rr->res->name,
                        where, rr->proxy_ports[k], uv_strerror(rc));
            continue;
          }
          apx_run_error(run, NULL, "the proxy of '%s' (endpoint %s) cannot listen on %s:%d: %s", rr->res->name,
                        rr->res->endpoints[k].name, where, rr->proxy_ports[k], uv_strerror(rc));
          return 2;
        }
      }
    }
  }
  return 0;
}

void apx_run_proxy_close(apx_runtime *run) {
  /* Sockets ports.c kept that no listener took (the run ended before). */
  for (size_t i = 0; i < run->nres; i++) {
    apx_run_res *rr = &run->res[i];
    for (size_t k = 0; rr->proxy_fds && k < 2 * rr->res->nendpoints; k++)
      if (rr->proxy_fds[k] >= 0) {
        close(rr->proxy_fds[k]);
        rr->proxy_fds[k] = -1;
      }
  }
  apx_run_proxy *px = run->proxy;
  if (!px) return;
  for (apx_proxy_conn *c = px->conns; c; c = c->next) apx_conn_close(c, false);
  for (apx_proxy_listener *l = px->listeners; l; l = l->next_l)
    for (int w = 0; w < 3; w++)
      if (l->open[w] && !uv_is_closing((uv_handle_t *)&l->tcp[w])) uv_close((uv_handle_t *)&l->tcp[w], NULL);
}

void apx_run_proxy_free(apx_runtime *run) {
  apx_run_proxy *px = run->proxy;
  if (!px) return;
  while (px->listeners) {
    apx_proxy_listener *l = px->listeners;
    px->listeners = l->next_l;
    free(l);
  }
  free(px);
  run->proxy = NULL;
}
