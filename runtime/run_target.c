/* Run mode as a render target (ir/render.h): hosts are `localhost`, as
 * doc/language.md §7.3 and Aspire have it (ports.c makes sure an allocated
 * port is free on ::1 as well as on 127.0.0.1, so a client resolving
 * localhost to ::1 first finds no other program there); ports are the ones
 * ports.c allocated (a resource's own endpoints render as its replica's
 * port; another resource's, when it has replicas, as the port of the proxy
 * in front of them, proxy.c); parameters render as their values and
 * self.state_dir as the resource's directory in the state directory. */
#include <stdio.h>
#include <string.h>

#include "run_internal.h"

int apx_run_port_of(const apx_runtime *run, const apx_run_unit *self, const apx_resource *r, const apx_endpoint *e) {
  const apx_run_res *rr = apx_run_res_find(run, r);
  if (!rr || !rr->n || e < r->endpoints || e >= r->endpoints + r->nendpoints) return 0;
  size_t k = (size_t)(e - r->endpoints);
  if (!(self && self->res == r) && rr->proxy_ports && rr->proxy_ports[k]) return rr->proxy_ports[k];
  const apx_run_unit *u = self && self->res == r ? self : rr->units[0];
  return u->ports ? u->ports[k] : 0;
}

bool apx_run_in_engine(const apx_runtime *run, const apx_resource *r) {
  const apx_run_res *rr = apx_run_res_find(run, r);
  return rr && rr->n && rr->units[0]->drv != &apx_run_driver_process;
}

static bool apx_self_in_engine(const apx_run_tctx *c) {
  return c->self && c->self->drv != &apx_run_driver_process;
}

/* Whether a client other than r itself reaches endpoint e of r through the
 * replicas' proxy: from a container too, rather than by name on the run
 * network, whose DNS answers with every replica but in an order that
 * depends on the engine (podman's always the same), so clients that take
 * the first address would all reach one replica. */
static bool apx_via_proxy(const apx_run_tctx *c, const apx_resource *r, const apx_endpoint *e) {
  if (!e || (c->self && c->self->res == r) || e < r->endpoints || e >= r->endpoints + r->nendpoints) return false;
  const apx_run_res *rr = apx_run_res_find(c->run, r);
  return rr && rr->proxy_ports && rr->proxy_ports[e - r->endpoints];
}

/* Where a client runs decides the address (doc/run-mode.md): a process
 * reaches everything at localhost (a container through its port published
 * on 127.0.0.1); a container reaches another by its name on the run's
 * network, and a process, or the proxy of replicas, through the host
 * gateway. */
static void t_host(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  apx_run_tctx *c = ud;
  if (!apx_self_in_engine(c)) apx_buf_puts(out, "localhost");
  else if (apx_run_in_engine(c->run, r) && !apx_via_proxy(c, r, e)) apx_buf_puts(out, r->name);
  else apx_buf_puts(out, "host.docker.internal");
}

/* The port a container listens on inside its network namespace. */
static int apx_inner_port(const apx_run_tctx *c, const apx_resource *r, const apx_endpoint *e) {
  if (e->target_port) return e->target_port;
  return apx_run_port_of(c->run, c->self, r, e);
}

/* Inside a process the port clients use and the port it listens on are the
 * same: nothing sits in between. From one container to another: the
 * target port; otherwise the port on the host (published, for a container). */
static void t_port(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  apx_run_tctx *c = ud;
  if (apx_self_in_engine(c) && apx_run_in_engine(c->run, r) && !apx_via_proxy(c, r, e))
    apx_buf_printf(out, "%d", apx_inner_port(c, r, e));
  else apx_buf_printf(out, "%d", apx_run_port_of(c->run, c->self, r, e));
}

static void t_target_port(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  apx_run_tctx *c = ud;
  if (apx_run_in_engine(c->run, r)) apx_buf_printf(out, "%d", apx_inner_port(c, r, e));
  else apx_buf_printf(out, "%d", apx_run_port_of(c->run, c->self, r, e));
}

static bool t_param(void *ud, const apx_resource *p, apx_buf *out) {
  apx_run_tctx *c = ud;
  const char *v = apx_run_param_value(c->run, p);
  apx_buf_puts(out, v ? v : "");
  return false;
}

static void t_state_dir(void *ud, const apx_resource *r, apx_buf *out) {
  apx_run_tctx *c = ud;
  apx_buf_puts(out, apx_run_state_resource_dir(c->run, r));
}

void apx_run_target(apx_render_target *t, apx_run_tctx *ctx, apx_runtime *run, const apx_run_unit *self) {
  memset(t, 0, sizeof *t);
  ctx->run = run;
  ctx->self = self;
  t->ud = ctx;
  t->host = t_host;
  t->port = t_port;
  t->target_port = t_target_port;
  t->param = t_param;
  t->state_dir = t_state_dir;
}
