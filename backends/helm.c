/* --emit=helm: a Helm chart (doc/targets.md, "Kubernetes").
 *
 * Chart.yaml, values.yaml, templates/<resource>/<object>.yaml (the objects
 * of kube.c with every value a `{{ .Values.… }}` inside a double-quoted
 * scalar), values.schema.json, templates/NOTES.txt and .helmignore. No parameter value of a
 * secret is written into the chart: values.yaml has an empty `secrets:` entry
 * for each, and the templates `required` it, so `helm install` stops with a
 * message naming it (doc/targets.md says why there is no lookup idiom). */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "base/buf.h"
#include "kube.h"

#define APX_HELM_CHART_VERSION "0.1.0"

static void apx_helm_add(apx_kube *k, apx_yaml *y, const char *path) {
  apx_kube_add_file(k, y, path);
  apx_yaml_free(y);
}

static void apx_helm_chart(apx_kube *k) {
  apx_yaml y;
  apx_yaml_init(&y);
  apx_yaml_begin_map(&y);
  apx_yaml_kv_str(&y, "apiVersion", "v2");
  apx_yaml_kv_str(&y, "name", k->app);
  apx_yaml_kv_str(&y, "description",
                  apx_arena_printf(k->m->arena, "%s, written by aspirec from %s.apx", k->m->app_name, k->m->app_name));
  apx_yaml_kv_str(&y, "type", "application");
  apx_yaml_kv_str(&y, "version", APX_HELM_CHART_VERSION);
  apx_yaml_kv_str(&y, "appVersion", APX_HELM_CHART_VERSION);
  apx_yaml_end_map(&y);
  apx_helm_add(k, &y, "Chart.yaml");
}

static void apx_helm_values(apx_kube *k) {
  apx_module *m = k->m;
  apx_yaml y;
  apx_yaml_init(&y);
  apx_yaml_begin_map(&y);
  apx_yaml_key(&y, "images");
  apx_yaml_begin_map(&y);
  apx_yaml_kv_str(&y, "wait", "busybox:1.36");
  apx_yaml_kv_str(&y, "kubectl", "bitnami/kubectl:1.31");
  apx_yaml_end_map(&y);
  for (int secret = 0; secret < 2; secret++) {
    apx_yaml_key(&y, secret ? "secrets" : "parameters");
    apx_yaml_begin_map(&y);
    for (size_t i = 0; i < m->nresources; i++) {
      const apx_resource *p = m->resources[i];
      if (p->kind != APX_KIND_PARAM || !p->param || p->param->secret != (secret == 1)) continue;
      apx_yaml_key(&y, apx_kube_key(k, p->name));
      /* A secret's value never goes into the chart: given at install. */
      apx_yaml_str(&y, secret || !p->param->value ? "" : p->param->value);
    }
    apx_yaml_end_map(&y);
  }
  apx_yaml_key(&y, "resources");
  apx_yaml_begin_map(&y);
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_resource *r = m->resources[i];
    if (!apx_kube_is_workload(r)) continue;
    apx_yaml_key(&y, apx_kube_key(k, r->name));
    apx_yaml_begin_map(&y);
    const char *repo, *tag;
    apx_kube_image_parts(k, r, &repo, &tag);
    if (repo) {
      apx_yaml_key(&y, "image");
      apx_yaml_begin_map(&y);
      apx_yaml_kv_str(&y, "repository", repo);
      apx_yaml_kv_str(&y, "tag", tag);
      apx_yaml_end_map(&y);
    }
    if (r->restart != APX_RESTART_NO) apx_yaml_kv_int(&y, "replicas", r->explicit_start ? 0 : r->replicas);
    apx_yaml_key(&y, "resources");
    apx_yaml_begin_map(&y);
    apx_yaml_key(&y, "requests");
    apx_yaml_begin_map(&y);
    apx_yaml_kv_str(&y, "cpu", "100m");
    apx_yaml_kv_str(&y, "memory", "128Mi");
    apx_yaml_end_map(&y);
    apx_yaml_key(&y, "limits");
    apx_yaml_begin_map(&y);
    apx_yaml_kv_str(&y, "cpu", "1");
    apx_yaml_kv_str(&y, "memory", "512Mi");
    apx_yaml_end_map(&y);
    apx_yaml_end_map(&y);
    if (r->nvolumes) {
      apx_yaml_key(&y, "storage");
      apx_yaml_begin_map(&y);
      for (size_t j = 0; j < r->nvolumes; j++) apx_yaml_kv_str(&y, apx_kube_key(k, r->volumes[j].name), "1Gi");
      apx_yaml_end_map(&y);
    }
    if (apx_kube_has_external(r)) {
      apx_yaml_key(&y, "expose");
      apx_yaml_begin_map(&y);
      apx_yaml_kv_bool(&y, "loadBalancer", false);
      if (apx_kube_has_http_external(r)) {
        apx_yaml_kv_bool(&y, "ingress", false);
        apx_yaml_kv_str(&y, "host", apx_arena_printf(m->arena, "%s.%s.example.com", apx_kube_name(k, r), k->app));
      }
      apx_yaml_end_map(&y);
    }
    apx_yaml_end_map(&y);
  }
  apx_yaml_end_map(&y);
  apx_yaml_end_map(&y);
  apx_helm_add(k, &y, "values.yaml");
}

/* values.schema.json: Helm checks every install and upgrade against it, so a
 * mistyped key or a string for replicas fails before anything is applied. */
static cJSON *apx_helm_obj(cJSON *parent, const char *key, bool closed) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "object");
  if (closed) cJSON_AddBoolToObject(o, "additionalProperties", false);
  cJSON_AddItemToObject(o, "properties", cJSON_CreateObject());
  if (parent) cJSON_AddItemToObject(cJSON_GetObjectItem(parent, "properties"), key, o);
  return o;
}

static void apx_helm_leaf(cJSON *parent, const char *key, const char *type) {
  cJSON *o = cJSON_CreateObject();
  if (strcmp(type, "scalar") == 0) {
    /* helm --set reads 8080 as a number and true as a boolean */
    const char *types[] = {"string", "number", "boolean"};
    cJSON_AddItemToObject(o, "type", cJSON_CreateStringArray(types, 3));
  } else {
    cJSON_AddStringToObject(o, "type", type);
  }
  if (strcmp(type, "integer") == 0) cJSON_AddNumberToObject(o, "minimum", 0);
  cJSON_AddItemToObject(cJSON_GetObjectItem(parent, "properties"), key, o);
}

static void apx_helm_schema(apx_kube *k) {
  apx_module *m = k->m;
  cJSON *root = apx_helm_obj(NULL, NULL, false);
  cJSON_AddStringToObject(root, "$schema", "http://json-schema.org/draft-07/schema#");
  cJSON *images = apx_helm_obj(root, "images", true);
  apx_helm_leaf(images, "wait", "string");
  apx_helm_leaf(images, "kubectl", "string");
  cJSON *params = apx_helm_obj(root, "parameters", true), *secrets = apx_helm_obj(root, "secrets", true);
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_resource *p = m->resources[i];
    if (p->kind == APX_KIND_PARAM && p->param) apx_helm_leaf(p->param->secret ? secrets : params, apx_kube_key(k, p->name), "scalar");
  }
  cJSON *res = apx_helm_obj(root, "resources", true);
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_resource *r = m->resources[i];
    if (!apx_kube_is_workload(r)) continue;
    cJSON *o = apx_helm_obj(res, apx_kube_key(k, r->name), true);
    const char *repo, *tag;
    apx_kube_image_parts(k, r, &repo, &tag);
    if (repo) {
      cJSON *img = apx_helm_obj(o, "image", true);
      apx_helm_leaf(img, "repository", "string");
      apx_helm_leaf(img, "tag", "string");
    }
    if (r->restart != APX_RESTART_NO) apx_helm_leaf(o, "replicas", "integer");
    cJSON *rr = apx_helm_obj(o, "resources", true);
    static const char *const kinds[] = {"requests", "limits"};
    for (int j = 0; j < 2; j++) {
      cJSON *q = apx_helm_obj(rr, kinds[j], true);
      apx_helm_leaf(q, "cpu", "string");
      apx_helm_leaf(q, "memory", "string");
    }
    if (r->nvolumes) {
      cJSON *st = apx_helm_obj(o, "storage", true);
      for (size_t j = 0; j < r->nvolumes; j++) apx_helm_leaf(st, apx_kube_key(k, r->volumes[j].name), "string");
    }
    if (apx_kube_has_external(r)) {
      cJSON *ex = apx_helm_obj(o, "expose", true);
      apx_helm_leaf(ex, "loadBalancer", "boolean");
      if (apx_kube_has_http_external(r)) {
        apx_helm_leaf(ex, "ingress", "boolean");
        apx_helm_leaf(ex, "host", "string");
      }
    }
  }
  char *text = cJSON_Print(root);
  cJSON_Delete(root);
  if (!text) abort();
  size_t len = strlen(text);
  apx_output_add(k->out, "values.schema.json", text, len);
  free(text);
}

static void apx_helm_notes(apx_kube *k) {
  apx_module *m = k->m;
  apx_buf b = {0};
  apx_buf_puts(&b, "aspirec chart {{ .Chart.Name }} {{ .Chart.Version }}, release {{ .Release.Name }}.\n");
  bool any = false;
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_resource *p = m->resources[i];
    if (p->kind != APX_KIND_PARAM || !p->param || !p->param->secret) continue;
    if (!any) apx_buf_puts(&b, "\nSecrets given at install (--set secrets.NAME=VALUE):\n");
    any = true;
    apx_buf_printf(&b, "  secrets.%s\n", apx_kube_key(k, p->name));
  }
  apx_buf_puts(&b, "\nServices (ClusterIP):\n");
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_resource *r = m->resources[i];
    if (!apx_kube_is_workload(r)) continue;
    for (size_t j = 0; j < r->nendpoints; j++)
      if (r->endpoints[j].target_port > 0)
        apx_buf_printf(&b, "  %s:%d (%s)\n", apx_kube_name(k, r), r->endpoints[j].target_port, r->endpoints[j].name);
  }
  apx_output_add(k->out, "templates/NOTES.txt", apx_buf_str(&b), b.len);
  apx_buf_free(&b);
}

int apx_emit_helm(apx_module *m, apx_output *out) {
  size_t errors0 = m->diag->errors;
  apx_kube k;
  apx_kube_init(&k, m, out, APX_KUBE_HELM);
  /* Chart.yaml first: on stdout it alone is written. */
  apx_helm_chart(&k);
  apx_helm_values(&k);
  apx_helm_schema(&k);
  apx_kube_emit_all(&k);
  apx_helm_notes(&k);
  static const char ignore[] = "# Patterns helm package leaves out (written by aspirec).\n.git/\n*.tmp.*\n*~\n";
  apx_output_add(out, ".helmignore", ignore, sizeof ignore - 1);
  apx_kube_free(&k);
  return (int)(m->diag->errors - errors0);
}
