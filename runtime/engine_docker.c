/* Containers through the Docker Engine API (docker, and podman's
 * Docker-compatible service): the second and third ways a unit runs
 * (run_internal.h's apx_run_driver).
 *
 *   open    one bridge network per run, named after the program
 *           ("aspirec-shop"), so two programs run side by side (before the
 *           loop: nothing runs yet);
 *   create  the image is there, else built from build {} (engine_build.c:
 *           the context as a tar streamed to POST /build, its output in
 *           the resource's log) or pulled (progress summarised on the
 *           terminal); then a leftover of the same name removed, the
 *           container created (environment, command, published ports on
 *           127.0.0.1, the network with the resource's name as alias,
 *           host.docker.internal as the host gateway, labels naming the
 *           run) and started. Each step is a request in the loop
 *           (engine.c), so independent containers are made at the same
 *           time; the unit is prepared when its container runs;
 *   start   its logs followed (demultiplexed into the unit's log), then
 *           its exit status awaited, then the container removed;
 *   signal  POST /containers/ID/kill with the signal;
 *   exec    a health check's command inside it (POST .../exec, start, inspect);
 *   close   every container of the run still there removed, then the network.
 *
 * Every container carries the label aspirec.session=<this run>, which the
 * watchdog uses to remove them (and the network) when aspirec is killed
 * (watchdog.c). What this run made is in its state (run->engine_state),
 * not in a file-static: the driver holds nothing between runs. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "run_internal.h"

typedef struct apx_ctr apx_ctr;
typedef struct apx_img apx_img;

/* An image asked for by one or more units: being checked, pulled or built; ready; or failed. */
struct apx_img {
  apx_runtime *run;
  char *name;
  int state; /* 0 being made ready, 1 ready, -1 failed (why) */
  char why[400];
  apx_run_unit **waiters;
  size_t nwaiters, capwaiters;
  apx_run_unit *owner; /* whose log gets a build's output, whose name the pull messages */
  apx_run_req *req;
  apx_buf line; /* a streamed JSON line so far */
  /* a pull's progress: per layer, bytes done of total */
  struct apx_layer {
    char id[24];
    double cur, total;
    bool done;
  } *layers;
  size_t nlayers;
  uint64_t said_ms, t0;
  /* a build */
  apx_run_tar *tar;
  struct apx_run_stream *out;
  struct apx_img *next;
};

/* A container this run made or follows: removed at its end or at close. */
struct apx_ctr {
  apx_runtime *run;
  apx_run_unit *unit;
  apx_run_proc *proc; /* while followed */
  char id[80];
  bool persistent; /* lifetime = "persistent": left running at the end */
  bool detached;   /* no longer followed (persistent, at the end) */
  bool removing;
  long since;      /* a reused one: its logs from this time on (0: all) */
  long status;     /* its exit status, once waited for */
  apx_run_req *req; /* the request in flight: logs, wait or remove */
  /* Docker's multiplexed stream (no TTY): frames of an 8-byte header
   * (stream, 0, 0, 0, big-endian length) and the payload. */
  unsigned char hdr[8];
  size_t hlen, left;
  apx_ctr *next;
};

typedef struct apx_eng {
  apx_ctr *ctrs;
  apx_img *imgs;
} apx_eng;

/* The unit's record (u->engine): its image and where its preparation is. */
typedef struct apx_cu {
  apx_runtime *run;
  apx_run_unit *u;
  const char *image; /* the image it runs: u->image, or the tag built from build {} */
  const char *name;  /* its container's name */
  apx_ctr *ctr;      /* the container made for its next start */
  apx_run_req *req;  /* the request in flight while it is prepared */
  apx_run_tar *tar;  /* its build context, walked, until the build takes it */
  char *body;        /* the create request */
  char hash[17];
} apx_cu;

static apx_eng *apx_eng_of(apx_runtime *run) {
  if (!run->engine_state) run->engine_state = APX_NEW(run->arena, apx_eng);
  return run->engine_state;
}

/* The engine's message in an error answer: {"message": "..."}. */
static void apx_engine_reason(const apx_buf *b, char *out, size_t n) {
  cJSON *j = cJSON_ParseWithLength(b->data ? b->data : "", b->len);
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
  if (cJSON_IsString(m)) snprintf(out, n, "%s", m->valuestring);
  else snprintf(out, n, "%.*s", (int)(b->len > 200 ? 200 : b->len), b->data ? b->data : "");
  size_t l = strlen(out);
  while (l && (out[l - 1] == '\n' || out[l - 1] == ' ' || out[l - 1] == '\r')) out[--l] = '\0';
  cJSON_Delete(j);
}

/* "/containers/NAME/json": a path with one escaped part (arena). */
static const char *apx_path(apx_runtime *run, const char *pre, const char *part, const char *post) {
  char *e = apx_run_url_escape(run->arena, part);
  const char *p = apx_arena_printf(run->arena, "%s%s%s", pre, e, post ? post : "");
  return p;
}

static apx_run_req *apx_req(apx_runtime *run, const char *method, const char *path, const char *json,
                            long timeout_ms, apx_run_req_done_cb done, void *ud) {
  apx_run_reqopt o = {.method = method, .path = path, .json = json, .timeout_ms = timeout_ms};
  return apx_run_req_start(run, &o, done, ud);
}

/* ---- names -------------------------------------------------------------------- */

/* Docker names: [a-zA-Z0-9][a-zA-Z0-9_.-]*; anything else becomes '-'. */
static const char *apx_safe_name(apx_arena *a, const char *s) {
  char *r = apx_arena_strdup(a, s && *s ? s : "app");
  for (char *p = r; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
          *p == '.' || *p == '-'))
      *p = '-';
  if (r[0] == '.' || r[0] == '-' || r[0] == '_') r[0] = 'x';
  return r;
}

const char *apx_run_engine_network(apx_runtime *run) {
  return apx_arena_printf(run->arena, "aspirec-%s", apx_safe_name(run->arena, run->m->app_name));
}

const char *apx_run_engine_volume(apx_runtime *run, const apx_resource *r, const apx_volume *v) {
  return apx_arena_printf(run->arena, "aspirec-%s-%s-%s", apx_safe_name(run->arena, run->m->app_name),
                          apx_safe_name(run->arena, r->name), apx_safe_name(run->arena, v->name));
}

static const char *apx_ctr_name(apx_runtime *run, const apx_run_unit *u) {
  return apx_arena_printf(run->arena, "aspirec-%s-%s", apx_safe_name(run->arena, run->m->app_name),
                          apx_safe_name(run->arena, u->name));
}

/* A built image's tag: aspirec-PROGRAM-RESOURCE:DIGEST (a repository is lower case). */
static const char *apx_build_tag(apx_runtime *run, const apx_resource *r, uint64_t digest) {
  char *t = apx_arena_printf(run->arena, "aspirec-%s-%s:%016llx", apx_safe_name(run->arena, run->m->app_name),
                             apx_safe_name(run->arena, r->name), (unsigned long long)digest);
  for (char *p = t; *p && *p != ':'; p++)
    if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
  return t;
}

static apx_cu *apx_cu_of(apx_runtime *run, apx_run_unit *u) {
  if (!u->engine) {
    apx_cu *cu = APX_NEW(run->arena, apx_cu);
    cu->run = run;
    cu->u = u;
    cu->name = apx_ctr_name(run, u);
    u->engine = cu;
  }
  return u->engine;
}

/* ---- open: the network ------------------------------------------------------------ */

static int apx_docker_open(apx_runtime *run) {
  const char *net = apx_run_engine_network(run);
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "Name", net);
  cJSON_AddStringToObject(j, "Driver", "bridge");
  cJSON_AddBoolToObject(j, "CheckDuplicate", 1);
  cJSON *labels = cJSON_AddObjectToObject(j, "Labels");
  cJSON_AddStringToObject(labels, "aspirec.program", run->m->app_name ? run->m->app_name : "");
  char *body = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  apx_buf b = {0};
  long st = apx_run_http(run->engine_sock, "POST", "/networks/create", body, &b, 30000);
  free(body);
  int rc = 0;
  /* It may exist (a run that was killed, a persistent container on it):
   * reused. docker says 409, podman 500; either way it is there to inspect. */
  apx_buf in = {0};
  long ist = st == 201 || st == 409 || st == 500
                 ? apx_run_http(run->engine_sock, "GET", apx_path(run, "/networks/", net, NULL), NULL, &in, 30000)
                 : -1;
  if (ist == 200) {
    /* Its gateway is the host as containers see it: host.docker.internal
     * (podman 4 has no "host-gateway"; docker's is another bridge's). */
    cJSON *n = cJSON_ParseWithLength(in.data, in.len);
    const cJSON *cfg =
        cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(n, "IPAM"), "Config"), 0);
    const cJSON *gw = cJSON_GetObjectItemCaseSensitive(cfg, "Gateway");
    if (cJSON_IsString(gw) && gw->valuestring[0]) run->engine_gateway = apx_arena_strdup(run->arena, gw->valuestring);
    cJSON_Delete(n);
    st = 201;
  }
  apx_buf_free(&in);
  if (st != 201) {
    char why[256];
    apx_engine_reason(&b, why, sizeof why);
    apx_run_error(run, NULL, "%s: cannot create the network %s: %s", run->engine, net, why);
    rc = 2;
  }
  apx_buf_free(&b);
  return rc;
}

/* ---- containers: records, removal ------------------------------------------------------ */

static apx_ctr *apx_ctr_new(apx_runtime *run, apx_run_unit *u, const char *id, bool persistent) {
  apx_eng *E = apx_eng_of(run);
  apx_ctr *c = calloc(1, sizeof *c);
  if (!c) abort();
  c->run = run;
  c->unit = u;
  snprintf(c->id, sizeof c->id, "%s", id);
  c->persistent = persistent;
  c->next = E->ctrs;
  E->ctrs = c;
  return c;
}

static void apx_ctr_free(apx_ctr *c) {
  apx_eng *E = apx_eng_of(c->run);
  for (apx_ctr **pp = &E->ctrs; *pp; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      break;
    }
  free(c);
}

static void apx_removed(apx_run_req *q, long st, const apx_buf *b, void *ud) {
  (void)q, (void)st, (void)b;
  apx_ctr_free(ud);
}

/* Removes the container (force: a running one is killed) and frees its record. */
static void apx_ctr_remove(apx_ctr *c) {
  c->removing = true;
  c->req = apx_req(c->run, "DELETE", apx_arena_printf(c->run->arena, "/containers/%s?force=1&v=0", c->id), NULL,
                   30000, apx_removed, c);
}

/* ---- following a container: its logs, its end ------------------------------------------------ */

static void apx_logs_data(apx_run_req *q, const char *data, size_t n, void *ud) {
  (void)q;
  apx_ctr *c = ud;
  if (!c->proc) return;
  size_t i = 0;
  while (i < n) {
    if (c->left == 0) {
      c->hdr[c->hlen++] = (unsigned char)data[i++];
      if (c->hlen == 8) {
        c->left = ((size_t)c->hdr[4] << 24) | ((size_t)c->hdr[5] << 16) | ((size_t)c->hdr[6] << 8) | c->hdr[7];
        c->hlen = 0;
      }
      continue;
    }
    size_t k = n - i < c->left ? n - i : c->left;
    apx_run_feed(c->proc->out, data + i, k);
    i += k;
    c->left -= k;
  }
}

/* The workload is over: its output ended, its exit reported (status as the engine gave it). */
static void apx_ctr_ended(apx_ctr *c, long st) {
  apx_run_proc *p = c->proc;
  c->proc = NULL;
  if (!p) return;
  p->engine = NULL;
  int sig = 0;
  /* The engine reports a container killed by a signal as 128 + the signal. */
  if (st > 128 && st <= 128 + 64) {
    sig = (int)(st - 128);
    st = 0;
  } else if (st < 0) {
    st = 255;
  }
  struct apx_run_stream *out = p->out;
  p->out = NULL;
  if (out) apx_run_feed_end(out);
  apx_run_proc_ended(p, st, sig);
}

static void apx_gone(apx_run_req *q, long st, const apx_buf *b, void *ud) {
  (void)q, (void)st, (void)b;
  apx_ctr *c = ud;
  apx_ctr_ended(c, c->status);
  apx_ctr_free(c);
}

static void apx_waited(apx_run_req *q, long st, const apx_buf *b, void *ud) {
  (void)q;
  apx_ctr *c = ud;
  long status = -1;
  if (st == 200) {
    cJSON *j = cJSON_ParseWithLength(b->data ? b->data : "", b->len);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "StatusCode");
    if (cJSON_IsNumber(s)) status = (long)s->valuedouble;
    cJSON_Delete(j);
  }
  /* Removed before its end is reported: a restart then finds its name free. */
  c->status = status;
  c->removing = true;
  c->req = apx_req(c->run, "DELETE", apx_arena_printf(c->run->arena, "/containers/%s?force=1&v=0", c->id), NULL,
                   30000, apx_gone, c);
}

static void apx_logs_done(apx_run_req *q, long st, const apx_buf *b, void *ud) {
  (void)q, (void)st, (void)b;
  apx_ctr *c = ud;
  c->req = apx_req(c->run, "POST", apx_arena_printf(c->run->arena, "/containers/%s/wait", c->id), NULL, 0,
                   apx_waited, c);
}

static int apx_docker_start(apx_runtime *run, apx_run_unit *u) {
  apx_cu *cu = apx_cu_of(run, u);
  apx_ctr *c = cu->ctr;
  if (!c) {
    snprintf(u->why, sizeof u->why, "internal: its container was not made");
    return -1;
  }
  cu->ctr = NULL;
  apx_run_proc *p = apx_run_proc_new(run, u, APX_PROC_MAIN, u->drv, NULL);
  p->engine = c;
  p->streams = 1;
  c->proc = p;
  snprintf(p->label, sizeof p->label, "%s container %.12s", run->engine, c->id);
  apx_run_reqopt o = {.method = "GET",
                      .path = apx_arena_printf(run->arena, "/containers/%s/logs?follow=1&stdout=1&stderr=1&since=%ld",
                                               c->id, c->since),
                      .on_data = apx_logs_data};
  c->req = apx_run_req_start(run, &o, apx_logs_done, c);
  u->proc = p;
  return 0;
}

static void apx_docker_signal(apx_run_proc *p, int sig) {
  apx_ctr *c = p->engine;
  if (!c || c->removing) return;
  if (c->persistent) {
    /* Left running for the next run: only the following ends. */
    if (c->detached) return;
    c->detached = true;
    apx_run_say(c->run, "%s: left running (lifetime = persistent)", p->unit->name);
    apx_run_req_cancel(c->req);
    c->req = NULL;
    apx_ctr_ended(c, 0);
    apx_ctr_free(c);
    return;
  }
  /* Paths of requests made again and again (kills, exec checks) are on the
   * stack, not in the run's arena, which would grow with every one. */
  char path[160];
  snprintf(path, sizeof path, "/containers/%s/kill?signal=%d", c->id, sig);
  apx_req(c->run, "POST", path, NULL, 10000, NULL, NULL);
}

/* ---- create: the image, then the container ------------------------------------------------------ */

static void apx_created(apx_runtime *run, apx_run_unit *u, bool ok) {
  apx_cu *cu = u->engine;
  cu->req = NULL;
  free(cu->body);
  cu->body = NULL;
  if (u->state != APX_ST_STARTING) {
    /* Stopped meanwhile: what was made goes. */
    if (cu->ctr && !cu->ctr->persistent) apx_ctr_remove(cu->ctr);
    else if (cu->ctr) apx_ctr_free(cu->ctr);
    cu->ctr = NULL;
    return;
  }
  apx_run_prepared(run, u, ok);
}

static char *apx_create_body(apx_runtime *run, apx_run_unit *u, const char *image, char hash[17]) {
  const apx_resource *r = u->res;
  bool persistent = r->lifetime == APX_LIFETIME_PERSISTENT;
  const char *net = apx_run_engine_network(run);
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "Image", image);
  if (u->argv && u->argv[0]) {
    cJSON *cmd = cJSON_AddArrayToObject(j, "Cmd");
    for (char **a = u->argv; *a; a++) cJSON_AddItemToArray(cmd, cJSON_CreateString(*a));
  }
  if (u->entrypoint) {
    cJSON *ep = cJSON_AddArrayToObject(j, "Entrypoint");
    for (char **a = u->entrypoint; *a; a++) cJSON_AddItemToArray(ep, cJSON_CreateString(*a));
  }
  cJSON *env = cJSON_AddArrayToObject(j, "Env");
  size_t nenv = 0;
  while (u->envp && u->envp[nenv]) nenv++;
  size_t own = u->nenv_watch <= nenv ? nenv - u->nenv_watch : nenv;
  for (size_t i = 0; i < own; i++) cJSON_AddItemToArray(env, cJSON_CreateString(u->envp[i]));
  cJSON *labels = cJSON_AddObjectToObject(j, "Labels");
  cJSON_AddStringToObject(labels, "aspirec.program", run->m->app_name ? run->m->app_name : "");
  cJSON_AddStringToObject(labels, "aspirec.resource", r->name);
  /* A persistent container outlives the session: the watchdog must not find it. */
  if (!persistent) cJSON_AddStringToObject(labels, "aspirec.session", run->engine_session);
  else cJSON_AddStringToObject(labels, "aspirec.lifetime", "persistent");
  cJSON *exposed = cJSON_AddObjectToObject(j, "ExposedPorts");
  cJSON *hc = cJSON_AddObjectToObject(j, "HostConfig");
  cJSON *pb = cJSON_AddObjectToObject(hc, "PortBindings");
  for (size_t k = 0; k < r->nendpoints; k++) {
    const apx_endpoint *e = &r->endpoints[k];
    int target = e->target_port ? e->target_port : u->ports[k];
    char key[32], hp[16];
    snprintf(key, sizeof key, "%d/%s", target, e->protocol && strcmp(e->protocol, "udp") == 0 ? "udp" : "tcp");
    snprintf(hp, sizeof hp, "%d", u->ports[k]);
    if (!cJSON_GetObjectItemCaseSensitive(exposed, key)) cJSON_AddObjectToObject(exposed, key);
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(pb, key);
    if (!arr) arr = cJSON_AddArrayToObject(pb, key);
    cJSON *b = cJSON_CreateObject();
    cJSON_AddStringToObject(b, "HostIp", "127.0.0.1");
    cJSON_AddStringToObject(b, "HostPort", hp);
    cJSON_AddItemToArray(arr, b);
  }
  /* Volumes: named per program and resource, so their data outlives runs
   * (never removed by aspirec); binds: the host path resolved against the
   * file that wrote it. */
  if (r->nvolumes || r->nbinds) {
    cJSON *mounts = cJSON_AddArrayToObject(hc, "Mounts");
    for (size_t k = 0; k < r->nvolumes; k++) {
      const apx_volume *v = &r->volumes[k];
      cJSON *m = cJSON_CreateObject();
      cJSON_AddStringToObject(m, "Type", "volume");
      cJSON_AddStringToObject(m, "Source", apx_run_engine_volume(run, r, v));
      cJSON_AddStringToObject(m, "Target", v->target);
      cJSON_AddBoolToObject(m, "ReadOnly", v->readonly);
      cJSON_AddItemToArray(mounts, m);
    }
    for (size_t k = 0; k < r->nbinds; k++) {
      const apx_bind *b = &r->binds[k];
      cJSON *m = cJSON_CreateObject();
      cJSON_AddStringToObject(m, "Type", "bind");
      cJSON_AddStringToObject(m, "Source", b->source_abs ? b->source_abs : b->source);
      cJSON_AddStringToObject(m, "Target", b->target);
      cJSON_AddBoolToObject(m, "ReadOnly", b->readonly);
      cJSON_AddItemToArray(mounts, m);
    }
  }
  cJSON_AddStringToObject(hc, "NetworkMode", net);
  cJSON *extra = cJSON_AddArrayToObject(hc, "ExtraHosts");
  cJSON_AddItemToArray(extra, cJSON_CreateString(apx_arena_printf(
                                  run->arena, "host.docker.internal:%s",
                                  run->engine_gateway ? run->engine_gateway : "host-gateway")));
  cJSON *nc = cJSON_AddObjectToObject(j, "NetworkingConfig");
  cJSON *ec = cJSON_AddObjectToObject(nc, "EndpointsConfig");
  cJSON *en = cJSON_AddObjectToObject(ec, net);
  cJSON *al = cJSON_AddArrayToObject(en, "Aliases");
  cJSON_AddItemToArray(al, cJSON_CreateString(r->name));
  char *s = cJSON_PrintUnformatted(j);
  /* The configuration's digest, as a label: a persistent container is
   * reused only when the one running was made from the same request. */
  uint64_t h = apx_run_fnv(APX_RUN_FNV_INIT, s, strlen(s));
  snprintf(hash, 17, "%016llx", (unsigned long long)h);
  /* What a watcher adds (the dashboard's OTLP key is new each run) is left
   * out of the digest, or a persistent container would never be reused; a
   * reused one keeps the values of the run that made it. */
  for (size_t i = own; i < nenv; i++) cJSON_AddItemToArray(env, cJSON_CreateString(u->envp[i]));
  if (persistent) cJSON_AddStringToObject(labels, "aspirec.config", hash);
  free(s);
  s = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  return s;
}

static void apx_fail(apx_cu *cu, const char *what, long st, const apx_buf *b) {
  char why[300];
  if (st < 0) snprintf(why, sizeof why, "%s", b && b->data ? b->data : "no answer");
  else apx_engine_reason(b, why, sizeof why);
  snprintf(cu->u->why, sizeof cu->u->why, "%s %s: %s", cu->run->engine, what, why);
  apx_created(cu->run, cu->u, false);
}

static void apx_ctr_started(apx_run_req *q, long st, const apx_buf *b, void *ud) {
  (void)q;
  apx_cu *cu = ud;
  if (st != 204 && st != 304) {
    apx_ctr_remove(cu->ctr);
    cu->ctr = NULL;
    apx_fail(cu, "cannot start its container", st, b);
    return;
  }
  apx_created(cu->run, cu->u, true);
}

static void apx_ctr_made(apx_run_req *q, long st, const apx_buf *b, void *ud) {
  (void)q;
  apx_cu *cu = ud;
  apx_runtime *run = cu->run;
  if (st != 201) {
    apx_fail(cu, "cannot create its container", st, b);
    return;
  }
  cJSON *j = cJSON_ParseWithLength(b->data, b->len);
  const cJSON *jid = cJSON_GetObjectItemCaseSensitive(j, "Id");
  cu->ctr = apx_ctr_new(run, cu->u, cJSON_IsString(jid) ? jid->valuestring : cu->name,
                        cu->u->res->lifetime == APX_LIFETIME_PERSISTENT);
  cJSON_Delete(j);
  if (cu->u->state != APX_ST_STARTING) { /* stopped meanwhile: not started */
    apx_created(run, cu->u, false);
    return;
  }
  cu->req = apx_req(run, "POST", apx_arena_printf(run->arena, "/containers/%s/start", cu->ctr->id), NULL, 60000,
                    apx_ctr_started, cu);
}

/* A leftover of the same name is gone (a run that was killed, a changed persistent one): create. */
static void apx_leftover_gone(apx_run_req *q, long st, const apx_buf *b, void *ud) {
  (void)q, (void)st, (void)b;
  apx_cu *cu = ud;
  apx_runtime *run = cu->run;
  cu->req = apx_req(run, "POST", apx_path(run, "/containers/create?name=", cu->name, NULL), cu->body, 60000,
                    apx_ctr_made, cu);
}

static void apx_make_container(apx_cu *cu) {
  apx_runtime *run = cu->run;
  if (cu->u->res->lifetime == APX_LIFETIME_PERSISTENT)
    apx_run_say(run, "%s: creating persistent container %s", cu->u->name, cu->name);
  cu->req = apx_req(run, "DELETE", apx_path(run, "/containers/", cu->name, "?force=1&v=0"), NULL, 30000,
                    apx_leftover_gone, cu);
}

/* A persistent container of an earlier run: reused when it runs and was
 * made from the same configuration (its aspirec.config label); else made anew. */
static void apx_inspected(apx_run_req *q, long st, const apx_buf *b, void *ud) {
  (void)q;
  apx_cu *cu = ud;
  apx_runtime *run = cu->run;
  bool ok = false;
  if (st == 200) {
    cJSON *j = cJSON_ParseWithLength(b->data, b->len);
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "Config");
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(cfg, "Labels");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(labels, "aspirec.config");
    const cJSON *rs = cJSON_GetObjectItemCaseSensitive(j, "State");
    const cJSON *running = cJSON_GetObjectItemCaseSensitive(rs, "Running");
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(j, "Id");
    ok = cJSON_IsString(h) && strcmp(h->valuestring, cu->hash) == 0 && cJSON_IsTrue(running) && cJSON_IsString(cid);
    if (ok) {
      cu->ctr = apx_ctr_new(run, cu->u, cid->valuestring, true);
      cu->ctr->since = (long)time(NULL);
      apx_run_say(run, "%s: reusing persistent container %s (%.12s, same configuration)", cu->u->name, cu->name,
                  cu->ctr->id);
    }
    cJSON_Delete(j);
  }
  if (ok) apx_created(run, cu->u, true);
  else apx_make_container(cu);
}

/* The image is there: the container. */
static void apx_image_ready(apx_cu *cu) {
  apx_runtime *run = cu->run;
  free(cu->body);
  cu->body = apx_create_body(run, cu->u, cu->image, cu->hash);
  if (cu->u->res->lifetime == APX_LIFETIME_PERSISTENT)
    cu->req = apx_req(run, "GET", apx_path(run, "/containers/", cu->name, "/json"), NULL, 30000, apx_inspected, cu);
  else
    apx_make_container(cu);
}

/* ---- images: there, pulled or built ------------------------------------------------------------- */

static void apx_img_settle(apx_runtime *run, apx_img *im, int state) {
  im->state = state;
  im->req = NULL;
  if (im->out) {
    apx_run_feed_end(im->out);
    im->out = NULL;
  }
  if (im->tar) {
    apx_run_tar_free(im->tar);
    im->tar = NULL;
  }
  apx_buf_free(&im->line);
  free(im->layers);
  im->layers = NULL;
  im->nlayers = 0;
  /* Each waiter goes on (or fails) in turn; a waiter stopped meanwhile is dropped. */
  for (size_t i = 0; i < im->nwaiters; i++) {
    apx_run_unit *u = im->waiters[i];
    apx_cu *cu = u->engine;
    cu->req = NULL;
    if (u->state != APX_ST_STARTING) continue;
    if (state > 0) {
      apx_image_ready(cu);
    } else {
      snprintf(u->why, sizeof u->why, "%s", im->why);
      apx_created(run, u, false);
    }
  }
  im->waiters = NULL; /* in the arena */
  im->nwaiters = im->capwaiters = 0;
}

/* The lines of a JSON stream (a pull's progress, a build's output): one object each. */
static void apx_json_lines(apx_img *im, const char *s, size_t n, void (*each)(apx_img *, cJSON *)) {
  apx_buf_append(&im->line, s, n);
  char *d = im->line.data;
  size_t start = 0;
  for (size_t i = 0; i < im->line.len; i++) {
    if (d[i] != '\n') continue;
    cJSON *j = cJSON_ParseWithLength(d + start, i - start);
    if (j) each(im, j);
    cJSON_Delete(j);
    start = i + 1;
  }
  if (start) {
    memmove(d, d + start, im->line.len - start);
    im->line.len -= start;
    d[im->line.len] = '\0';
  }
}

static void apx_stream_error(apx_img *im, cJSON *j) {
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
  if (!cJSON_IsString(e)) {
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(j, "errorDetail");
    e = cJSON_GetObjectItemCaseSensitive(d, "message");
  }
  if (cJSON_IsString(e) && !im->why[0]) {
    snprintf(im->why, sizeof im->why, "%s", e->valuestring);
    size_t l = strlen(im->why);
    while (l && (im->why[l - 1] == '\n' || im->why[l - 1] == '\r' || im->why[l - 1] == ' ')) im->why[--l] = '\0';
  }
}

/* A pull's progress, summarised: at most one line a second. */
static void apx_pull_say(apx_runtime *run, apx_img *im, bool last) {
  double cur = 0, total = 0;
  size_t done = 0;
  for (size_t i = 0; i < im->nlayers; i++) {
    cur += im->layers[i].done ? im->layers[i].total : im->layers[i].cur;
    total += im->layers[i].total;
    if (im->layers[i].done) done++;
  }
  uint64_t now = apx_run_now(run);
  if (last) {
    apx_run_say(run, "%s: pulled %s (%zu layer%s, %.1f MB, %.1f s)", im->owner->name, im->name, im->nlayers,
                im->nlayers == 1 ? "" : "s", total / 1e6, (double)(now - im->t0) / 1000.0);
    return;
  }
  if (now - im->said_ms < 1000 || !im->nlayers) return;
  im->said_ms = now;
  if (total > 0)
    apx_run_say(run, "%s: pulling %s: %zu of %zu layers, %.1f of %.1f MB (%.0f%%)", im->owner->name, im->name, done,
                im->nlayers, cur / 1e6, total / 1e6, 100.0 * cur / total);
  else
    apx_run_say(run, "%s: pulling %s: %zu of %zu layers", im->owner->name, im->name, done, im->nlayers);
}

static void apx_pull_line(apx_img *im, cJSON *j) {
  apx_stream_error(im, j);
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
  if (!cJSON_IsString(id) || !cJSON_IsString(st)) return;
  const char *s = st->valuestring;
  /* Layers are the ids with a download or "Pull complete"; "Pulling from" names the tag. */
  bool layer = strncmp(s, "Pulling fs layer", 16) == 0 || strncmp(s, "Downloading", 11) == 0 ||
               strncmp(s, "Download complete", 17) == 0 || strncmp(s, "Extracting", 10) == 0 ||
               strncmp(s, "Pull complete", 13) == 0 || strncmp(s, "Already exists", 14) == 0 ||
               strncmp(s, "Waiting", 7) == 0 || strncmp(s, "Verifying", 9) == 0;
  if (!layer) return;
  struct apx_layer *L = NULL;
  for (size_t i = 0; i < im->nlayers; i++)
    if (strcmp(im->layers[i].id, id->valuestring) == 0) L = &im->layers[i];
  if (!L) {
    if (im->nlayers >= 256) return;
    struct apx_layer *nl = realloc(im->layers, (im->nlayers + 1) * sizeof *nl);
    if (!nl) abort();
    im->layers = nl;
    L = &im->layers[im->nlayers++];
    memset(L, 0, sizeof *L);
    snprintf(L->id, sizeof L->id, "%s", id->valuestring);
  }
  const cJSON *pd = cJSON_GetObjectItemCaseSensitive(j, "progressDetail");
  const cJSON *cur = cJSON_GetObjectItemCaseSensitive(pd, "current");
  const cJSON *tot = cJSON_GetObjectItemCaseSensitive(pd, "total");
  if (strncmp(s, "Downloading", 11) == 0) {
    if (cJSON_IsNumber(cur)) L->cur = cur->valuedouble;
    if (cJSON_IsNumber(tot)) L->total = tot->valuedouble;
  }
  if (strncmp(s, "Download complete", 17) == 0 || strncmp(s, "Pull complete", 13) == 0 ||
      strncmp(s, "Already exists", 14) == 0 || strncmp(s, "Extracting", 10) == 0) {
    L->done = true;
    if (L->total < L->cur) L->total = L->cur;
  }
}

/* The end of a pull's or a build's JSON stream: its last line, then why
 * it failed (an "error" line, the status, or no answer), in im->why. */
static bool apx_img_stream_failed(apx_img *im, long st, const apx_buf *b, void (*each)(apx_img *, cJSON *)) {
  if (im->line.len) apx_json_lines(im, "\n", 1, each);
  if (st != 200 && !im->why[0]) {
    if (st < 0) snprintf(im->why, sizeof im->why, "%s", b->data ? b->data : "no answer");
    else apx_engine_reason(b, im->why, sizeof im->why);
  }
  return im->why[0] != '\0';
}

static void apx_pull_data(apx_run_req *q, const char *s, size_t n, void *ud) {
  (void)q;
  apx_img *im = ud;
  apx_json_lines(im, s, n, apx_pull_line);
  apx_pull_say(im->run, im, false);
}

static void apx_pulled(apx_run_req *q, long st, const apx_buf *b, void *ud) {
  (void)q;
  apx_img *im = ud;
  apx_runtime *run = im->run;
  if (apx_img_stream_failed(im, st, b, apx_pull_line)) {
    char why[sizeof im->why];
    snprintf(why, sizeof why, "%s", im->why);
    snprintf(im->why, sizeof im->why, "image %.60s is not on %s and cannot be pulled: %.280s", im->name, run->engine, why);
    apx_img_settle(run, im, -1);
    return;
  }
  apx_pull_say(run, im, true);
  apx_img_settle(run, im, 1);
}

/* NAME[:TAG|@DIGEST] -> fromImage=NAME&tag=TAG (without a tag the engine would pull every tag). */
static const char *apx_pull_path(apx_runtime *run, const char *image) {
  const char *slash = strrchr(image, '/');
  const char *at = strchr(image, '@');
  const char *colon = strrchr(slash ? slash : image, ':');
  char *name, *e1, *e2;
  const char *tag;
  if (at) {
    name = apx_arena_strndup(run->arena, image, (size_t)(at - image));
    tag = at + 1;
  } else if (colon) {
    name = apx_arena_strndup(run->arena, image, (size_t)(colon - image));
    tag = colon + 1;
  } else {
    name = apx_arena_strdup(run->arena, image);
    tag = "latest";
  }
  e1 = apx_run_url_escape(run->arena, name);
  e2 = apx_run_url_escape(run->arena, tag);
  const char *p = apx_arena_printf(run->arena, "/images/create?fromImage=%s&tag=%s", e1, e2);
  return p;
}

static void apx_start_pull(apx_runtime *run, apx_img *im) {
  apx_run_say(run, "%s: pulling %s", im->owner->name, im->name);
  im->t0 = im->said_ms = apx_run_now(run);
  apx_run_reqopt o = {.method = "POST", .path = apx_pull_path(run, im->name), .on_data = apx_pull_data};
  im->req = apx_run_req_start(run, &o, apx_pulled, im);
}

/* A build's output: the "stream" texts into the resource's log; an "error" fails it. */
static void apx_build_line(apx_img *im, cJSON *j) {
  apx_stream_error(im, j);
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "stream");
  if (cJSON_IsString(s) && im->out) apx_run_feed(im->out, s->valuestring, strlen(s->valuestring));
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
  if (cJSON_IsString(e) && im->out) {
    apx_run_feed(im->out, e->valuestring, strlen(e->valuestring));
    apx_run_feed(im->out, "\n", 1);
  }
}

static void apx_build_data(apx_run_req *q, const char *s, size_t n, void *ud) {
  (void)q;
  apx_json_lines(ud, s, n, apx_build_line);
}

static size_t apx_build_read(char *buf, size_t n, void *ud) {
  apx_img *im = ud;
  return im->tar ? apx_run_tar_read(im->tar, buf, n) : 0;
}

static void apx_built(apx_run_req *q, long st, const apx_buf *b, void *ud) {
  (void)q;
  apx_img *im = ud;
  apx_runtime *run = im->run;
  if (apx_img_stream_failed(im, st, b, apx_build_line)) {
    char why[sizeof im->why];
    snprintf(why, sizeof why, "%s", im->why);
    snprintf(im->why, sizeof im->why, "the build of its image failed: %.300s", why);
    apx_img_settle(run, im, -1);
    return;
  }
  apx_run_say(run, "%s: built %s (%.1f s)", im->owner->name, im->name, (double)(apx_run_now(run) - im->t0) / 1000.0);
  apx_img_settle(run, im, 1);
}

static void apx_start_build(apx_runtime *run, apx_img *im, apx_run_unit *u) {
  const apx_build *bd = u->res->build;
  apx_cu *cu = u->engine;
  im->tar = cu->tar;
  cu->tar = NULL;
  apx_buf p = {0};
  char *e = apx_run_url_escape(run->arena, im->name);
  apx_buf_printf(&p, "/build?t=%s&rm=1&forcerm=1", e);
  if (bd->dockerfile) {
    e = apx_run_url_escape(run->arena, bd->dockerfile);
    apx_buf_printf(&p, "&dockerfile=%s", e);
  }
  if (bd->target) {
    e = apx_run_url_escape(run->arena, bd->target);
    apx_buf_printf(&p, "&target=%s", e);
  }
  cJSON *args = cJSON_CreateObject();
  for (size_t i = 0; i < bd->nargs; i++) {
    /* Values were rendered with the unit (plan.c); an arg that did not render is left out. */
    const char *v = u->build_args ? u->build_args[i] : NULL;
    if (v) cJSON_AddStringToObject(args, bd->args[i].key, v);
  }
  cJSON *labels = cJSON_CreateObject();
  cJSON_AddStringToObject(labels, "aspirec.program", run->m->app_name ? run->m->app_name : "");
  cJSON_AddStringToObject(labels, "aspirec.resource", u->res->name);
  char *ja = cJSON_PrintUnformatted(args), *jl = cJSON_PrintUnformatted(labels);
  cJSON_Delete(args);
  cJSON_Delete(labels);
  e = apx_run_url_escape(run->arena, ja);
  apx_buf_printf(&p, "&buildargs=%s", e);
  e = apx_run_url_escape(run->arena, jl);
  apx_buf_printf(&p, "&labels=%s", e);
  free(ja);
  free(jl);
  apx_run_say(run, "%s: building %s from %s", u->name, im->name, bd->context);
  im->t0 = apx_run_now(run);
  im->out = apx_run_feed_new(run, u, NULL);
  apx_run_reqopt o = {.method = "POST", .path = apx_buf_str(&p), .on_read = apx_build_read, .on_data = apx_build_data};
  im->req = apx_run_req_start(run, &o, apx_built, im);
  apx_buf_free(&p);
}

static void apx_image_checked(apx_run_req *q, long st, const apx_buf *b, void *ud) {
  (void)q, (void)b;
  apx_img *im = ud;
  apx_cu *cu = im->owner->engine;
  apx_runtime *run = cu->run;
  im->req = NULL;
  if (st == 200) apx_img_settle(run, im, 1);
  else if (im->owner->res->build) apx_start_build(run, im, im->owner);
  else if (st == 404 || st == 400) apx_start_pull(run, im);
  else {
    char why[300];
    if (st < 0) snprintf(why, sizeof why, "%s", b->data ? b->data : "no answer");
    else apx_engine_reason(b, why, sizeof why);
    snprintf(im->why, sizeof im->why, "%s cannot inspect image %s: %s", run->engine, im->name, why);
    apx_img_settle(run, im, -1);
  }
}

/* The image of the unit: one check (then pull or build) per image, however many units wait for it. */
static int apx_docker_create(apx_runtime *run, apx_run_unit *u) {
  apx_cu *cu = apx_cu_of(run, u);
  const apx_resource *r = u->res;
  if (!cu->image) {
    if (r->build) {
      /* Built images are tagged by a digest of their context (each file's
       * path, mode, size and time) and of the build's settings: an
       * unchanged context is not sent again, a changed one is built anew. */
      char why[300] = "";
      const apx_build *bd = r->build;
      const char *dir = bd->context_abs ? bd->context_abs : bd->context;
      cu->tar = apx_run_tar_open(dir, why, sizeof why);
      if (!cu->tar) {
        snprintf(u->why, sizeof u->why, "its build context %s cannot be read: %s", dir, why);
        return -1;
      }
      uint64_t h = apx_run_tar_digest(cu->tar);
      const char *df = bd->dockerfile ? bd->dockerfile : "Dockerfile";
      h = apx_run_fnv(h, df, strlen(df) + 1);
      if (bd->target) h = apx_run_fnv(h, bd->target, strlen(bd->target) + 1);
      for (size_t i = 0; i < bd->nargs; i++) {
        h = apx_run_fnv(h, bd->args[i].key, strlen(bd->args[i].key) + 1);
        if (u->build_args && u->build_args[i]) h = apx_run_fnv(h, u->build_args[i], strlen(u->build_args[i]) + 1);
      }
      cu->image = apx_build_tag(run, r, h);
    } else if (u->image) {
      cu->image = u->image;
    } else {
      snprintf(u->why, sizeof u->why, "it has no image and no build {}");
      return -1;
    }
  }
  apx_eng *E = apx_eng_of(run);
  apx_img *im = NULL;
  for (apx_img *i = E->imgs; i; i = i->next)
    if (strcmp(i->name, cu->image) == 0) im = i;
  if (im && im->state > 0) {
    apx_image_ready(cu);
    return 1;
  }
  if (im && im->state < 0) {
    snprintf(u->why, sizeof u->why, "%s", im->why);
    return -1;
  }
  if (!im) {
    im = calloc(1, sizeof *im);
    if (!im) abort();
    im->name = strdup(cu->image);
    if (!im->name) abort();
    im->owner = u;
    im->run = run;
    im->next = E->imgs;
    E->imgs = im;
    im->req = apx_req(run, "GET", apx_path(run, "/images/", im->name, "/json"), NULL, 30000, apx_image_checked, im);
  }
  APX_VEC_PUSH(run->arena, im->waiters, im->nwaiters, im->capwaiters, u);
  return 1;
}

/* ---- exec: a health check inside the container ----------------------------------------------------- */

typedef struct apx_exec {
  apx_runtime *run;
  apx_run_req *req;
  char id[80];
  char *body;
  long timeout_ms;
  apx_run_exec_cb done;
  void *ud;
} apx_exec;

static void apx_exec_finish(apx_exec *x, long code, const char *why) {
  apx_run_exec_cb done = x->done;
  void *ud = x->ud;
  free(x->body);
  free(x);
  done(ud, code, why);
}

static void apx_exec_inspected(apx_run_req *q, long st, const apx_buf *b, void *ud) {
  (void)q;
  apx_exec *x = ud;
  long code = -1;
  if (st == 200) {
    cJSON *j = cJSON_ParseWithLength(b->data, b->len);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(j, "ExitCode");
    if (cJSON_IsNumber(c)) code = (long)c->valuedouble;
    cJSON_Delete(j);
  }
  apx_exec_finish(x, code, code < 0 ? "its exit code is unknown" : NULL);
}

static void apx_exec_ended(apx_run_req *q, long st, const apx_buf *b, void *ud) {
  (void)q;
  apx_exec *x = ud;
  if (st != 200 && st != 101) {
    char why[300];
    if (st < 0) snprintf(why, sizeof why, "%s", b->data ? b->data : "no answer");
    else apx_engine_reason(b, why, sizeof why);
    apx_exec_finish(x, -1, why);
    return;
  }
  char path[160];
  snprintf(path, sizeof path, "/exec/%s/json", x->id);
  x->req = apx_req(x->run, "GET", path, NULL, x->timeout_ms, apx_exec_inspected, x);
}

static void apx_exec_discard(apx_run_req *q, const char *s, size_t n, void *ud) { (void)q, (void)s, (void)n, (void)ud; }

static void apx_exec_made(apx_run_req *q, long st, const apx_buf *b, void *ud) {
  (void)q;
  apx_exec *x = ud;
  char why[300];
  if (st != 201) {
    if (st < 0) snprintf(why, sizeof why, "%s", b->data ? b->data : "no answer");
    else apx_engine_reason(b, why, sizeof why);
    apx_exec_finish(x, -1, why);
    return;
  }
  cJSON *j = cJSON_ParseWithLength(b->data, b->len);
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "Id");
  snprintf(x->id, sizeof x->id, "%s", cJSON_IsString(id) ? id->valuestring : "");
  cJSON_Delete(j);
  /* Attached (not detached): the answer ends when the command does. */
  char path[160];
  snprintf(path, sizeof path, "/exec/%s/start", x->id);
  apx_run_reqopt o = {.method = "POST",
                      .path = path,
                      .json = "{\"Detach\":false,\"Tty\":false}",
                      .on_data = apx_exec_discard,
                      .timeout_ms = x->timeout_ms};
  x->req = apx_run_req_start(x->run, &o, apx_exec_ended, x);
}

static void *apx_docker_exec(apx_runtime *run, apx_run_unit *u, char **argv, long timeout_ms, apx_run_exec_cb done,
                             void *ud) {
  apx_ctr *c = u->proc && u->proc->role == APX_PROC_MAIN ? u->proc->engine : NULL;
  if (!c || c->removing) {
    done(ud, -1, "its container is not running");
    return NULL;
  }
  apx_exec *x = calloc(1, sizeof *x);
  if (!x) abort();
  x->run = run;
  x->done = done;
  x->ud = ud;
  x->timeout_ms = timeout_ms;
  cJSON *j = cJSON_CreateObject();
  cJSON_AddBoolToObject(j, "AttachStdout", 1);
  cJSON_AddBoolToObject(j, "AttachStderr", 1);
  cJSON *cmd = cJSON_AddArrayToObject(j, "Cmd");
  for (char **a = argv; *a; a++) cJSON_AddItemToArray(cmd, cJSON_CreateString(*a));
  x->body = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  char path[160];
  snprintf(path, sizeof path, "/containers/%s/exec", c->id);
  x->req = apx_req(run, "POST", path, x->body, timeout_ms, apx_exec_made, x);
  return x;
}

static void apx_docker_exec_cancel(void *h) {
  apx_exec *x = h;
  if (!x) return;
  apx_run_req_cancel(x->req);
  free(x->body);
  free(x);
}

/* ---- inspect (before ports are chosen) and close ------------------------------------------------ */

/* A persistent container left by an earlier run keeps its published ports,
 * so that its clients' addresses stay the same. Before the loop: a plain request. */
static int apx_docker_inspect(apx_runtime *run, apx_run_unit *u) {
  const apx_resource *r = u->res;
  if (r->lifetime != APX_LIFETIME_PERSISTENT || !r->nendpoints) return 0;
  apx_buf b = {0};
  if (apx_run_http(run->engine_sock, "GET", apx_path(run, "/containers/", apx_ctr_name(run, u), "/json"), NULL, &b,
                   30000) == 200) {
    cJSON *j = cJSON_ParseWithLength(b.data, b.len);
    const cJSON *hc = cJSON_GetObjectItemCaseSensitive(j, "HostConfig");
    const cJSON *pb = cJSON_GetObjectItemCaseSensitive(hc, "PortBindings");
    if (!u->ports) u->ports = APX_NEW_ARRAY(run->arena, int, r->nendpoints);
    for (size_t k = 0; k < r->nendpoints; k++) {
      const apx_endpoint *ep = &r->endpoints[k];
      if (!ep->target_port || ep->port) continue;
      char key[32];
      snprintf(key, sizeof key, "%d/%s", ep->target_port,
               ep->protocol && strcmp(ep->protocol, "udp") == 0 ? "udp" : "tcp");
      const cJSON *arr = cJSON_GetObjectItemCaseSensitive(pb, key);
      const cJSON *hp = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, 0), "HostPort");
      if (cJSON_IsString(hp)) u->ports[k] = atoi(hp->valuestring);
    }
    cJSON_Delete(j);
  }
  apx_buf_free(&b);
  return 0;
}

static void apx_docker_close(apx_runtime *run) {
  apx_eng *E = run->engine_state;
  const char *net = apx_run_engine_network(run);
  if (!run->loop_ready) { /* before the loop (the watchdog could not start): only the network was made */
    apx_buf b = {0};
    apx_run_http(run->engine_sock, "DELETE", apx_path(run, "/networks/", net, NULL), NULL, &b, 30000);
    apx_buf_free(&b);
    return;
  }
  if (E) {
    /* What is still being made: dropped. */
    for (size_t i = 0; i < run->nunits; i++) {
      apx_cu *cu = run->units[i]->drv == run->engine_drv ? run->units[i]->engine : NULL;
      if (!cu) continue;
      apx_run_req_cancel(cu->req);
      cu->req = NULL;
      free(cu->body);
      cu->body = NULL;
      if (cu->tar) apx_run_tar_free(cu->tar);
      cu->tar = NULL;
      cu->ctr = NULL; /* still in E->ctrs */
    }
    for (apx_img *im = E->imgs; im; im = im->next) {
      apx_run_req_cancel(im->req);
      im->nwaiters = 0;
      apx_img_settle(run, im, im->state ? im->state : -1);
    }
    /* Containers still there (the loop ended before their end was seen, or
     * made for a start that never came): removed, at once. A persistent
     * one is left running. */
    for (apx_ctr *c = E->ctrs, *next; c; c = next) {
      next = c->next;
      if (c->removing) continue;
      apx_run_req_cancel(c->req);
      c->req = NULL;
      apx_ctr_ended(c, 0);
      if (c->persistent) apx_ctr_free(c);
      else apx_ctr_remove(c);
    }
    apx_run_http_wait(run);
  }
  apx_req(run, "DELETE", apx_path(run, "/networks/", net, NULL), NULL, 30000, NULL, NULL);
  apx_run_http_wait(run);
  if (E)
    for (apx_img *im = E->imgs, *next; im; im = next) {
      next = im->next;
      free(im->name);
      free(im);
    }
  run->engine_state = NULL;
}

const apx_run_driver apx_run_driver_docker = {.name = "docker",
                                              .open = apx_docker_open,
                                              .inspect = apx_docker_inspect,
                                              .create = apx_docker_create,
                                              .start = apx_docker_start,
                                              .signal = apx_docker_signal,
                                              .exec = apx_docker_exec,
                                              .exec_cancel = apx_docker_exec_cancel,
                                              .close = apx_docker_close};

/* podman's Docker-compatible service speaks the same API: the same
 * operations, its own name in messages. */
const apx_run_driver apx_run_driver_podman = {.name = "podman",
                                              .open = apx_docker_open,
                                              .inspect = apx_docker_inspect,
                                              .create = apx_docker_create,
                                              .start = apx_docker_start,
                                              .signal = apx_docker_signal,
                                              .exec = apx_docker_exec,
                                              .exec_cancel = apx_docker_exec_cancel,
                                              .close = apx_docker_close};
