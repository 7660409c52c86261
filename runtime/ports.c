/* Ports, all settled before anything starts.
 *
 * A fixed port (`port`, or an explicit target_port of a process, which then
 * listens on it) must be free: it is tried with bind() on 0.0.0.0 and on
 * [::1], with SO_REUSEADDR, which fails only when something listens on that
 * port (a socket lingering in TIME_WAIT does not count: servers reuse
 * those). Every other endpoint of every replica gets a port from the kernel
 * (bind to 127.0.0.1:0) that is also free on [::1]: references render the
 * host as `localhost`, which a client may resolve to ::1 first, and it must
 * not find another program there.
 *
 * All the probe sockets stay open until every port is chosen, so that no
 * two endpoints get the same one, and are closed just before the processes
 * start: the window in which another program could take a port is the time
 * between that close and the process's own bind. The proxy's ports (a
 * resource with replicas) are allocated the same way, and their sockets
 * kept: the proxy listens on them. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "run_internal.h"

int apx_run_fixed_port(const apx_resource *r, const apx_endpoint *e) {
  if (e->port) return e->port;
  if (r->kind != APX_KIND_CONTAINER && e->target_port && !e->target_port_defaulted) return e->target_port;
  return 0;
}

static bool apx_udp(const apx_endpoint *e) { return e->protocol && strcmp(e->protocol, "udp") == 0; }

typedef enum { APX_ADDR_ANY4, APX_ADDR_LOOP4, APX_ADDR_LOOP6 } apx_addr;

/* Binds (and for TCP listens on) a socket; returns it, or -1 with errno. */
static int apx_port_bind(bool udp, apx_addr where, int port, bool reuse) {
  bool v6 = where == APX_ADDR_LOOP6;
  int fd = socket(v6 ? AF_INET6 : AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  if (reuse) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc;
  if (v6) {
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port), .sin6_addr = in6addr_loopback};
    rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
  } else {
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(where == APX_ADDR_ANY4 ? INADDR_ANY : INADDR_LOOPBACK);
    rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
  }
  if (rc != 0 || (!udp && listen(fd, 1) != 0)) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* No IPv6 on this machine (or no ::1): nothing can listen there either. */
static bool apx_no_v6(int err) { return err == EAFNOSUPPORT || err == EADDRNOTAVAIL || err == EPROTONOSUPPORT; }

typedef struct apx_fds {
  int *v;
  size_t n, cap;
} apx_fds;

static void apx_keep(apx_runtime *run, apx_fds *f, int fd) {
  if (fd >= 0) APX_VEC_PUSH(run->arena, f->v, f->n, f->cap, fd);
}

static int apx_fixed(apx_runtime *run, apx_fds *f, const apx_run_unit *u, const apx_endpoint *e, int port) {
  const apx_resource *r = u->res;
  int fd = apx_port_bind(apx_udp(e), APX_ADDR_ANY4, port, true);
  int err = errno;
  if (fd >= 0) {
    apx_keep(run, f, fd);
    fd = apx_port_bind(apx_udp(e), APX_ADDR_LOOP6, port, true);
    err = errno;
    if (fd < 0 && apx_no_v6(err)) fd = 0; /* fine: no IPv6 */
    else apx_keep(run, f, fd);
  }
  if (fd >= 0) return 0;
  bool taken = err == EADDRINUSE, priv = err == EACCES;
  apx_run_error(run,
                taken ? apx_arena_printf(run->arena,
                                         "stop the program using it (`ss -ltnp 'sport = :%d'` shows which), or "
                                         "remove `port` from the endpoint to have a free one chosen",
                                         port)
                : priv ? "ports below 1024 need root; choose a higher port or remove `port`"
                       : NULL,
                "port %d of '%s' (endpoint %s) %s", port, r->name, e->name,
                taken ? "is already in use" : apx_arena_printf(run->arena, "cannot be used: %s", strerror(err)));
  return 2;
}

/* keep: when not NULL, the two sockets of the port chosen go there (the
 * proxy listens on them) instead of being closed with the others. */
static int apx_allocate(apx_runtime *run, apx_fds *f, const char *who, const apx_endpoint *e, int *keep) {
  for (int tries = 0; tries < 32; tries++) {
    int fd = apx_port_bind(apx_udp(e), APX_ADDR_LOOP4, 0, false);
    struct sockaddr_in sa;
    socklen_t sl = sizeof sa;
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
      apx_run_error(run, NULL, "cannot find a free port on 127.0.0.1 for '%s' (endpoint %s): %s", who, e->name,
                    strerror(errno));
      if (fd >= 0) close(fd);
      return -1;
    }
    int port = ntohs(sa.sin_port);
    int fd6 = apx_port_bind(apx_udp(e), APX_ADDR_LOOP6, port, false);
    bool done = fd6 >= 0 || apx_no_v6(errno);
    if (done && keep) {
      keep[0] = fd;
      keep[1] = fd6;
      return port;
    }
    apx_keep(run, f, fd); /* kept open either way: the kernel will not offer it again */
    if (fd6 >= 0) apx_keep(run, f, fd6);
    if (done) return port;
    /* Something listens on [::1] at that port: take another. */
  }
  apx_run_error(run, NULL, "cannot find a port free on both 127.0.0.1 and ::1 for '%s' (endpoint %s)", who,
                e->name);
  return -1;
}

/* Clients of a resource with replicas use the proxy's port (proxy.c): a
 * fixed one (an explicit target_port of an executable: its replicas cannot
 * all listen there) is checked free with the others, and the proxy binds
 * it; an allocated one keeps its sockets, which the proxy listens on. Each
 * replica gets a port of its own. */
static void apx_proxy_slots(apx_runtime *run, apx_run_res *rr) {
  const apx_resource *r = rr->res;
  if (rr->proxy_ports) return;
  rr->proxy_ports = APX_NEW_ARRAY(run->arena, int, r->nendpoints);
  rr->proxy_fds = APX_NEW_ARRAY(run->arena, int, 2 * r->nendpoints);
  for (size_t j = 0; j < 2 * r->nendpoints; j++) rr->proxy_fds[j] = -1;
}

int apx_run_ports(apx_runtime *run) {
  int rc = 0;
  apx_fds f = {0};
  /* Fixed ports first, so that an allocated port can never be one of them. */
  for (size_t i = 0; i < run->nres; i++) {
    apx_run_res *rr = &run->res[i];
    const apx_resource *r = rr->res;
    for (size_t k = 0; k < r->nendpoints; k++) {
      const apx_endpoint *e = &r->endpoints[k];
      int fixed = apx_run_fixed_port(r, e);
      if (!fixed || !apx_run_proxied(rr, e)) continue;
      apx_proxy_slots(run, rr);
      rr->proxy_ports[k] = fixed;
      if (apx_fixed(run, &f, rr->units[0], e, fixed)) rc = 2;
    }
  }
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < run->nunits; i++) {
      apx_run_unit *u = run->units[i];
      const apx_resource *r = u->res;
      if (u->kind != APX_UNIT_PROCESS) continue;
      if (!u->ports) u->ports = APX_NEW_ARRAY(run->arena, int, r->nendpoints ? r->nendpoints : 1);
      const apx_run_res *rr = apx_run_res_find(run, r);
      for (size_t k = 0; k < r->nendpoints; k++) {
        const apx_endpoint *e = &r->endpoints[k];
        int fixed = apx_run_proxied(rr, e) ? 0 : apx_run_fixed_port(r, e);
        if (!fixed && u->ports[k]) continue; /* kept from an earlier run (a persistent container's) */
        if ((pass == 0) != (fixed != 0)) continue;
        if (fixed) {
          u->ports[k] = fixed;
          /* validate rejects fixed ports with replicas; check each port once */
          if (u->replica == 0 && apx_fixed(run, &f, u, e, fixed)) rc = 2;
        } else {
          int p = apx_allocate(run, &f, u->name, e, NULL);
          if (p < 0) rc = 2;
          else u->ports[k] = p;
        }
      }
    }
  }
  for (size_t i = 0; i < run->nres && !rc; i++) {
    apx_run_res *rr = &run->res[i];
    const apx_resource *r = rr->res;
    for (size_t k = 0; k < r->nendpoints; k++) {
      if (!apx_run_proxied(rr, &r->endpoints[k])) continue;
      apx_proxy_slots(run, rr);
      if (rr->proxy_ports[k]) continue; /* fixed */
      int p = apx_allocate(run, &f, r->name, &r->endpoints[k], &rr->proxy_fds[2 * k]);
      if (p < 0) rc = 2;
      else rr->proxy_ports[k] = p;
    }
  }
  for (size_t i = 0; i < f.n; i++) close(f.v[i]);
  return rc;
}
