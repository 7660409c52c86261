/* Containers through the Docker Engine API (docker, and podman's
 * Docker-compatible service): the second and third ways a unit runs
 * (run_internal.h's apx_run_driver).
 *
 *   open    one bridge network per run, named after the program
 *           ("aspirec-shop"), so two programs run side by side;
 *   create  the image is there (else a pull, whose failure is the engine's reason);
 *   start   a leftover of the same name removed, the container created
 *           (environment, command, published ports on 127.0.0.1, the
 *           network with the resource's name as alias, host.docker.internal
 *           as the host gateway, labels naming the run) and started; a
 *           thread follows its logs into the unit's output pipe, then
 *           waits for its exit status, then wakes the loop;
 *   signal  POST /containers/ID/kill with the signal;
 *   close   every container of the run removed, then the network.
 *
 * Every container carries the label aspirec.session=<this run>, which the
 * watchdog uses to remove them when aspirec is killed (watchdog.c). */
#include <errno.h>
#include <stdatomic.h>
#include <time.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "run_internal.h"

/* A container of a unit: its record lives from start until its end is handled. */
typedef struct apx_ctr {
  apx_runtime *run;
  apx_run_proc *proc;
  const char *sock;
  char id[80];
  int wfd;
  uv_thread_t thread;
  bool thread_on;
  uv_async_t done;
  long status;      /* the exit status (wait), -1 unknown */
  bool persistent;  /* lifetime = "persistent": left running at the end */
  long since;       /* a reused one: its logs from this time on (0: all) */
  _Atomic int detach; /* stop following it (persistent, at the end): the thread ends without a wait */
  char err[256];    /* why the wait failed */
  struct apx_ctr *next;
} apx_ctr;

static apx_ctr *apx_ctrs; /* live ones: removed at close */

/* The engine's message in an error answer: {"message": "..."}. */
static void apx_engine_reason(const apx_buf *b, char *out, size_t n) {
  cJSON *j = cJSON_ParseWithLength(b->data ? b->data : "", b->len);
  const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
  if (cJSON_IsString(m)) snprintf(out, n, "%s", m->valuestring);
  else snprintf(out, n, "%.*s", (int)(b->len > 200 ? 200 : b->len), b->data ? b->data : "");
  size_t l = strlen(out);
  while (l && (out[l - 1] == '\n' || out[l - 1] == ' ')) out[--l] = '\0';
  cJSON_Delete(j);
}

static char *apx_esc(const char *s) {
  char *e = curl_easy_escape(NULL, s, 0);
  if (!e) abort();
  return e;
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
  char *e = apx_esc(net);
  char path[400];
  snprintf(path, sizeof path, "/networks/%s", e);
  curl_free(e);
  apx_buf in = {0};
  long ist = st == 201 || st == 409 || st == 500 ? apx_run_http(run->engine_sock, "GET", path, NULL, &in, 30000) : -1;
  if (ist == 200) {
    /* Its gateway is the host as containers see it: host.docker.internal
     * (podman 4 has no "host-gateway"; docker's is another bridge's). */
    cJSON *j = cJSON_ParseWithLength(in.data, in.len);
    const cJSON *cfg = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(j, "IPAM"), "Config"), 0);
    const cJSON *gw = cJSON_GetObjectItemCaseSensitive(cfg, "Gateway");
    if (cJSON_IsString(gw) && gw->valuestring[0]) run->engine_gateway = apx_arena_strdup(run->arena, gw->valuestring);
    cJSON_Delete(j);
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

/* ---- create: the image ---------------------------------------------------------------- */

static int apx_docker_create(apx_runtime *run, apx_run_unit *u) {
  if (!u->image) {
    snprintf(u->why, sizeof u->why, "it has no image%s", u->res->build ? " (build {} is not supported by run mode yet)" : "");
    return -1;
  }
  apx_buf b = {0};
  char *e = apx_esc(u->image);
  char path[1200];
  snprintf(path, sizeof path, "/images/%s/json", e);
  long st = apx_run_http(run->engine_sock, "GET", path, NULL, &b, 30000);
  int rc = 0;
  if (st != 200) {
    apx_run_say(run, "%s: pulling %s", u->name, u->image);
    snprintf(path, sizeof path, "/images/create?fromImage=%s", e);
    st = apx_run_http(run->engine_sock, "POST", path, NULL, &b, 0);
    /* The answer is a stream of JSON progress objects; a failure is one with "error" (or an error status). */
    char why[300] = "";
    if (st != 200) apx_engine_reason(&b, why, sizeof why);
    else if (b.data && strstr(b.data, "\"error\"")) {
      const char *s = apx_buf_str(&b);
      const char *last = strstr(s, "{\"error");
      if (!last) last = s;
      cJSON *j = cJSON_Parse(last);
      const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "error");
      snprintf(why, sizeof why, "%s", cJSON_IsString(m) ? m->valuestring : "the pull failed");
      cJSON_Delete(j);
    }
    if (why[0]) {
      snprintf(u->why, sizeof u->why, "image %s is not on %s and cannot be pulled: %s", u->image, run->engine, why);
      rc = -1;
    } else if (st != 200) {
      snprintf(u->why, sizeof u->why, "image %s cannot be pulled (HTTP %ld)", u->image, st);
      rc = -1;
    }
  }
  curl_free(e);
  apx_buf_free(&b);
  return rc;
}

/* ---- the log thread ---------------------------------------------------------------------- */

/* Docker's multiplexed stream (no TTY): frames of an 8-byte header
 * (stream, 0, 0, 0, big-endian length) and the payload. */
typedef struct apx_demux {
  int fd;
  unsigned char hdr[8];
  size_t hlen;
  size_t left;
} apx_demux;

static void apx_write_fd(int fd, const char *s, size_t n) {
  while (n) {
    ssize_t k = write(fd, s, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return; /* the reader is gone: nothing to do */
    s += k;
    n -= (size_t)k;
  }
}

static size_t apx_demux_cb(char *data, size_t size, size_t nmemb, void *ud) {
  apx_demux *d = ud;
  size_t n = size * nmemb, i = 0;
  while (i < n) {
    if (d->left == 0) {
      d->hdr[d->hlen++] = (unsigned char)data[i++];
      if (d->hlen == 8) {
        d->left = ((size_t)d->hdr[4] << 24) | ((size_t)d->hdr[5] << 16) | ((size_t)d->hdr[6] << 8) | d->hdr[7];
        d->hlen = 0;
      }
      continue;
    }
    size_t k = n - i < d->left ? n - i : d->left;
    apx_write_fd(d->fd, data + i, k);
    i += k;
    d->left -= k;
  }
  return n;
}

static int apx_ctr_progress(void *ud, curl_off_t a, curl_off_t b, curl_off_t x, curl_off_t y) {
  (void)a, (void)b, (void)x, (void)y;
  return atomic_load(&((apx_ctr *)ud)->detach) ? 1 : 0;
}

static void apx_ctr_thread(void *arg) {
  apx_ctr *c = arg;
  char url[256];
  snprintf(url, sizeof url, "http://localhost/v1.41/containers/%s/logs?follow=1&stdout=1&stderr=1&since=%ld", c->id,
           c->since);
  CURL *h = curl_easy_init();
  if (h) {
    apx_demux d = {.fd = c->wfd};
    /* Asked about once a second even when no output comes: how a detach ends the stream. */
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, apx_ctr_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, c);
    curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->sock);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, apx_demux_cb);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &d);
    curl_easy_perform(h);
    curl_easy_cleanup(h);
  }
  close(c->wfd);
  c->wfd = -1;
  if (atomic_load(&c->detach)) {
    c->status = 0;
    uv_async_send(&c->done);
    return;
  }
  apx_buf b = {0};
  char path[160];
  snprintf(path, sizeof path, "/containers/%s/wait", c->id);
  long st = apx_run_http(c->sock, "POST", path, NULL, &b, 0);
  c->status = -1;
  if (st == 200) {
    cJSON *j = cJSON_ParseWithLength(b.data ? b.data : "", b.len);
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(j, "StatusCode");
    if (cJSON_IsNumber(s)) c->status = (long)s->valuedouble;
    cJSON_Delete(j);
  } else {
    apx_engine_reason(&b, c->err, sizeof c->err);
  }
  apx_buf_free(&b);
  uv_async_send(&c->done);
}

static void apx_ctr_remove(const char *sock, const char *id) {
  apx_buf b = {0};
  char path[200];
  snprintf(path, sizeof path, "/containers/%s?force=1&v=0", id);
  apx_run_http(sock, "DELETE", path, NULL, &b, 30000);
  apx_buf_free(&b);
}

static void apx_ctr_unlink(apx_ctr *c) {
  for (apx_ctr **pp = &apx_ctrs; *pp; pp = &(*pp)->next)
    if (*pp == c) {
      *pp = c->next;
      return;
    }
}

static void apx_ctr_closed(uv_handle_t *h) {
  apx_ctr *c = h->data;
  apx_run_proc *p = c->proc;
  free(c);
  apx_run_proc_handle_closed(p);
}

static void apx_ctr_done(uv_async_t *a) {
  apx_ctr *c = a->data;
  apx_run_proc *p = c->proc;
  if (c->thread_on) uv_thread_join(&c->thread);
  c->thread_on = false;
  apx_ctr_unlink(c);
  if (!atomic_load(&c->detach)) apx_ctr_remove(c->sock, c->id);
  long st = c->status;
  int sig = 0;
  /* The engine reports a container killed by a signal as 128 + the signal. */
  if (st > 128 && st <= 128 + 64) {
    sig = (int)(st - 128);
    st = 0;
  } else if (st < 0) {
    st = 255;
  }
  uv_close((uv_handle_t *)a, apx_ctr_closed);
  apx_run_proc_ended(p, st, sig);
}

/* ---- start ------------------------------------------------------------------------------------ */

/* Follows a running container: its output into the unit's log, its end
 * into the loop (the thread), as the unit's main workload. */
static int apx_follow(apx_runtime *run, apx_run_unit *u, const char *id, bool persistent, long since) {
  int wfd;
  apx_run_proc *p = apx_run_proc_new(run, u, APX_PROC_MAIN, u->drv, &wfd);
  if (!p) {
    if (!persistent) apx_ctr_remove(run->engine_sock, id);
    return -1;
  }
  apx_ctr *c = calloc(1, sizeof *c);
  if (!c) abort();
  snprintf(c->id, sizeof c->id, "%s", id);
  c->run = run;
  c->proc = p;
  c->sock = run->engine_sock;
  c->wfd = wfd;
  c->status = -1;
  c->persistent = persistent;
  c->since = since;
  uv_async_init(&run->loop, &c->done, apx_ctr_done);
  c->done.data = c;
  p->handles++; /* the async */
  p->engine = c;
  snprintf(p->label, sizeof p->label, "%s container %.12s", run->engine, c->id);
  p->streams = 1;
  if (apx_run_stream_start(p->out) != 0) p->streams--;
  c->next = apx_ctrs;
  apx_ctrs = c;
  if (uv_thread_create(&c->thread, apx_ctr_thread, c) == 0) c->thread_on = true;
  else apx_ctr_thread(c); /* no thread: what it would do, now (the container is followed no further) */
  u->proc = p;
  return 0;
}

static char *apx_create_body(apx_runtime *run, apx_run_unit *u, char hash[17]) {
  const apx_resource *r = u->res;
  bool persistent = r->lifetime == APX_LIFETIME_PERSISTENT;
  const char *net = apx_run_engine_network(run);
  cJSON *j = cJSON_CreateObject();
  cJSON_AddStringToObject(j, "Image", u->image);
  if (u->argv && u->argv[0]) {
    cJSON *cmd = cJSON_AddArrayToObject(j, "Cmd");
    for (char **a = u->argv; *a; a++) cJSON_AddItemToArray(cmd, cJSON_CreateString(*a));
  }
  if (u->entrypoint) {
    cJSON *ep = cJSON_AddArrayToObject(j, "Entrypoint");
    for (char **a = u->entrypoint; *a; a++) cJSON_AddItemToArray(ep, cJSON_CreateString(*a));
  }
  cJSON *env = cJSON_AddArrayToObject(j, "Env");
  for (char **e = u->envp; e && *e; e++) cJSON_AddItemToArray(env, cJSON_CreateString(*e));
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
  uint64_t h = apx_run_fnv(14695981039346656037ull, s, strlen(s));
  snprintf(hash, 17, "%016llx", (unsigned long long)h);
  if (persistent) {
    cJSON_AddStringToObject(labels, "aspirec.config", hash);
    free(s);
    s = cJSON_PrintUnformatted(j);
  }
  cJSON_Delete(j);
  return s;
}

/* A persistent container of an earlier run: its id when it runs and was
 * made from the same configuration (hash); else removed, and NULL. */
static bool apx_reusable(apx_runtime *run, const char *name, const char *hash, char *id, size_t n) {
  char *e = apx_esc(name);
  char path[400];
  snprintf(path, sizeof path, "/containers/%s/json", e);
  curl_free(e);
  apx_buf b = {0};
  bool ok = false;
  if (apx_run_http(run->engine_sock, "GET", path, NULL, &b, 30000) == 200) {
    cJSON *j = cJSON_ParseWithLength(b.data, b.len);
    const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(j, "Config");
    const cJSON *labels = cJSON_GetObjectItemCaseSensitive(cfg, "Labels");
    const cJSON *h = cJSON_GetObjectItemCaseSensitive(labels, "aspirec.config");
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "State");
    const cJSON *running = cJSON_GetObjectItemCaseSensitive(st, "Running");
    const cJSON *cid = cJSON_GetObjectItemCaseSensitive(j, "Id");
    ok = cJSON_IsString(h) && strcmp(h->valuestring, hash) == 0 && cJSON_IsTrue(running) && cJSON_IsString(cid);
    if (ok) snprintf(id, n, "%s", cid->valuestring);
    cJSON_Delete(j);
  }
  apx_buf_free(&b);
  return ok;
}

/* Before ports are chosen: a persistent container left by an earlier run
 * keeps its published ports, so that its clients' addresses stay the same. */
static int apx_docker_inspect(apx_runtime *run, apx_run_unit *u) {
  const apx_resource *r = u->res;
  if (r->lifetime != APX_LIFETIME_PERSISTENT || !r->nendpoints) return 0;
  char *e = apx_esc(apx_ctr_name(run, u));
  char path[400];
  snprintf(path, sizeof path, "/containers/%s/json", e);
  curl_free(e);
  apx_buf b = {0};
  if (apx_run_http(run->engine_sock, "GET", path, NULL, &b, 30000) == 200) {
    cJSON *j = cJSON_ParseWithLength(b.data, b.len);
    const cJSON *hc = cJSON_GetObjectItemCaseSensitive(j, "HostConfig");
    const cJSON *pb = cJSON_GetObjectItemCaseSensitive(hc, "PortBindings");
    if (!u->ports) u->ports = APX_NEW_ARRAY(run->arena, int, r->nendpoints);
    for (size_t k = 0; k < r->nendpoints; k++) {
      const apx_endpoint *ep = &r->endpoints[k];
      if (!ep->target_port || ep->port) continue;
      char key[32];
      snprintf(key, sizeof key, "%d/%s", ep->target_port, ep->protocol && strcmp(ep->protocol, "udp") == 0 ? "udp" : "tcp");
      const cJSON *arr = cJSON_GetObjectItemCaseSensitive(pb, key);
      const cJSON *hp = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(arr, 0), "HostPort");
      if (cJSON_IsString(hp)) u->ports[k] = atoi(hp->valuestring);
    }
    cJSON_Delete(j);
  }
  apx_buf_free(&b);
  return 0;
}

static int apx_docker_start(apx_runtime *run, apx_run_unit *u) {
  const char *name = apx_ctr_name(run, u);
  char hash[17];
  char *body = apx_create_body(run, u, hash);
  bool persistent = u->res->lifetime == APX_LIFETIME_PERSISTENT;
  char reuse[80];
  if (persistent && apx_reusable(run, name, hash, reuse, sizeof reuse)) {
    free(body);
    apx_run_say(run, "%s: reusing persistent container %s (%.12s, same configuration)", u->name, name, reuse);
    return apx_follow(run, u, reuse, true, (long)time(NULL));
  }
  if (persistent) apx_run_say(run, "%s: creating persistent container %s", u->name, name);
  apx_ctr_remove(run->engine_sock, name); /* a leftover of a run that was killed, or a changed one */
  char *e = apx_esc(name);
  char path[400];
  snprintf(path, sizeof path, "/containers/create?name=%s", e);
  curl_free(e);
  apx_buf b = {0};
  long st = apx_run_http(run->engine_sock, "POST", path, body, &b, 60000);
  free(body);
  char why[300];
  if (st != 201) {
    apx_engine_reason(&b, why, sizeof why);
    snprintf(u->why, sizeof u->why, "%s cannot create its container: %s", run->engine, why);
    apx_buf_free(&b);
    return -1;
  }
  cJSON *j = cJSON_ParseWithLength(b.data, b.len);
  const cJSON *jid = cJSON_GetObjectItemCaseSensitive(j, "Id");
  char id[80];
  snprintf(id, sizeof id, "%s", cJSON_IsString(jid) ? jid->valuestring : name);
  cJSON_Delete(j);
  snprintf(path, sizeof path, "/containers/%s/start", id);
  st = apx_run_http(run->engine_sock, "POST", path, NULL, &b, 60000);
  if (st != 204 && st != 304) {
    apx_engine_reason(&b, why, sizeof why);
    snprintf(u->why, sizeof u->why, "%s cannot start its container: %s", run->engine, why);
    apx_ctr_remove(run->engine_sock, id);
    apx_buf_free(&b);
    return -1;
  }
  apx_buf_free(&b);
  return apx_follow(run, u, id, persistent, 0);
}

static void apx_docker_signal(apx_run_proc *p, int sig) {
  apx_ctr *c = p->engine;
  if (!c) return;
  if (c->persistent) {
    /* Left running for the next run: only the following ends. */
    if (!atomic_exchange(&c->detach, 1)) apx_run_say(c->run, "%s: left running (lifetime = persistent)", p->unit->name);
    return;
  }
  char path[200];
  snprintf(path, sizeof path, "/containers/%s/kill?signal=%d", c->id, sig);
  apx_buf b = {0};
  apx_run_http(c->sock, "POST", path, NULL, &b, 10000);
  apx_buf_free(&b);
}

static void apx_docker_close(apx_runtime *run) {
  /* Containers still there (the loop ended before their end was seen):
   * removed, which ends their log streams and so their threads. */
  for (apx_ctr *c = apx_ctrs; c; c = c->next) {
    if (c->persistent) atomic_store(&c->detach, 1);
    else apx_ctr_remove(c->sock, c->id);
    if (c->thread_on) uv_thread_join(&c->thread);
    c->thread_on = false;
  }
  apx_buf b = {0};
  char *e = apx_esc(apx_run_engine_network(run));
  char path[400];
  snprintf(path, sizeof path, "/networks/%s", e);
  curl_free(e);
  apx_run_http(run->engine_sock, "DELETE", path, NULL, &b, 30000);
  apx_buf_free(&b);
}

const apx_run_driver apx_run_driver_docker = {.name = "docker",
                                              .open = apx_docker_open,
                                              .inspect = apx_docker_inspect,
                                              .create = apx_docker_create,
                                              .start = apx_docker_start,
                                              .signal = apx_docker_signal,
                                              .close = apx_docker_close};

/* podman's Docker-compatible service speaks the same API: the same
 * operations, its own name in messages. */
const apx_run_driver apx_run_driver_podman = {.name = "podman",
                                              .open = apx_docker_open,
                                              .inspect = apx_docker_inspect,
                                              .create = apx_docker_create,
                                              .start = apx_docker_start,
                                              .signal = apx_docker_signal,
                                              .close = apx_docker_close};
