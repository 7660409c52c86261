/* Ports, all settled before anything starts. A fixed port (`port`, or an
 * explicit target_port of a process, which then listens on it) must be
 * free: it is tried with bind() on 0.0.0.0 with SO_REUSEADDR, which fails
 * only when something listens on that port (a socket lingering in
 * TIME_WAIT does not count: servers reuse those). Every other endpoint of
 * every replica gets a port from the kernel (bind to 127.0.0.1:0). All the
 * probe sockets stay open until every port is chosen, so that no two
 * endpoints get the same one, and are closed just before the processes
 * start: the window in which another program could take a port is the
 * time between that close and the process's own bind. */
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

/* Binds a socket; returns it (open) or -1 with errno. */
static int apx_port_bind(bool udp, bool any, int port, bool reuse) {
  int fd = socket(AF_INET, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  int one = 1;
  if (reuse) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  sa.sin_addr.s_addr = htonl(any ? INADDR_ANY : INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || (!udp && listen(fd, 1) != 0)) {
    int e = errno;
    close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

int apx_run_ports(apx_runtime *run) {
  int rc = 0;
  size_t cap = 16, nfds = 0;
  int *fds = APX_NEW_ARRAY(run->arena, int, cap);
  /* Fixed ports first, so that an allocated port can never be one of them. */
  for (int pass = 0; pass < 2; pass++) {
    for (size_t i = 0; i < run->nunits; i++) {
      apx_run_unit *u = run->units[i];
      const apx_resource *r = u->res;
      if (u->kind != APX_UNIT_PROCESS) continue;
      if (!u->ports) u->ports = APX_NEW_ARRAY(run->arena, int, r->nendpoints ? r->nendpoints : 1);
      for (size_t k = 0; k < r->nendpoints; k++) {
        const apx_endpoint *e = &r->endpoints[k];
        int fixed = apx_run_fixed_port(r, e);
        if ((pass == 0) != (fixed != 0)) continue;
        int fd;
        if (fixed) {
          u->ports[k] = fixed;
          if (u->replica > 0) continue; /* validate rejects fixed ports with replicas */
          fd = apx_port_bind(apx_udp(e), true, fixed, true);
          if (fd < 0) {
            bool taken = errno == EADDRINUSE;
            bool priv = errno == EACCES;
            apx_run_error(run,
                          taken ? apx_arena_printf(run->arena,
                                                   "stop the program using it (`ss -ltnp 'sport = :%d'` shows "
                                                   "which), or remove `port` from the endpoint to have a free "
                                                   "one chosen",
                                                   fixed)
                          : priv ? "ports below 1024 need root; choose a higher port or remove `port`"
                                 : NULL,
                          "port %d of '%s' (endpoint %s) %s", fixed, r->name, e->name,
                          taken ? "is already in use"
                                : apx_arena_printf(run->arena, "cannot be used: %s", strerror(errno)));
            rc = 2;
            continue;
          }
        } else {
          fd = apx_port_bind(apx_udp(e), false, 0, false);
          struct sockaddr_in sa;
          socklen_t sl = sizeof sa;
          if (fd < 0 || getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
            apx_run_error(run, NULL, "cannot find a free port on 127.0.0.1 for '%s' (endpoint %s): %s",
                          u->name, e->name, strerror(errno));
            if (fd >= 0) close(fd);
            rc = 2;
            continue;
          }
          u->ports[k] = ntohs(sa.sin_port);
        }
        if (nfds == cap) {
          fds = apx_arena_grow(run->arena, fds, sizeof *fds * cap, sizeof *fds * cap * 2);
          cap *= 2;
        }
        fds[nfds++] = fd;
      }
    }
  }
  for (size_t i = 0; i < nfds; i++) close(fds[i]);
  return rc;
}
