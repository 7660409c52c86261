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

void apx_run_engine_reap(const char *sock, const char *session) {
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
}
