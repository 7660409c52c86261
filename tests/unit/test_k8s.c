/* Unit tests for --emit=k8s and --emit=helm (backends/kube.c, k8s.c, helm.c):
 * a module is built with ir.c's constructors (as the passes would leave it),
 * emitted, committed to a scratch directory, and the YAML is read back with
 * libyaml's parser to check its structure. */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>
#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "base/buf.h"
#include "base/names.h"
#include "base/output.h"
#include "ir/ir.h"

#include "check.h"
#include "fixture.h"

/* ---- reading YAML back ----------------------------------------------------- */

typedef struct docs {
  yaml_document_t d[64];
  int n;
} docs;

static int y_load_all(docs *ds, const char *text, size_t len) {
  yaml_parser_t p;
  yaml_parser_initialize(&p);
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  ds->n = 0;
  while (ds->n < 64) {
    if (!yaml_parser_load(&p, &ds->d[ds->n])) break;
    if (!yaml_document_get_root_node(&ds->d[ds->n])) {
      yaml_document_delete(&ds->d[ds->n]);
      break;
    }
    ds->n++;
  }
  yaml_parser_delete(&p);
  return ds->n;
}

static void y_free_all(docs *ds) {
  for (int i = 0; i < ds->n; i++) yaml_document_delete(&ds->d[i]);
  ds->n = 0;
}

static yaml_document_t *y_find(docs *ds, const char *kind, const char *name) {
  for (int i = 0; i < ds->n; i++)
    if (y_is(y_path(&ds->d[i], "kind", NULL), kind) && y_is(y_path(&ds->d[i], "metadata", "name", NULL), name))
      return &ds->d[i];
  return NULL;
}

/* ---- building the module ----------------------------------------------------- */

/* db (a volume, a tcp check), migrate (runs once), api (a secret in its
 * environment and its arguments, waits for both), tool (an executable). */
static void build(fixture *f) {
  apx_module *m = f->m;
  apx_resource *pw = res(f, "pg-password", APX_KIND_PARAM, NULL);
  pw->param = APX_NEW(f->arena, apx_param);
  pw->param->secret = true;
  pw->param->has_generate = true;
  pw->param->generate.length = 22;
  pw->param->generate.lower = true;
  pw->param->env_name = "PG_PASSWORD";

  apx_resource *db = res(f, "db", APX_KIND_CONTAINER, NULL);
  db->image = str(m, "docker.io/library/postgres:16.4");
  endpoint(f, db, "tcp", 0, 5432, false);
  apx_volume vol = {"data", f->loc, "/var/lib/postgresql/data", false};
  APX_VEC_PUSH(f->arena, db->volumes, db->nvolumes, db->capvolumes, vol);
  apx_health h = {0};
  h.kind = APX_HEALTH_TCP;
  h.endpoint = "tcp";
  h.interval_ms = 2000;
  h.retries = 30;
  APX_VEC_PUSH(f->arena, db->health, db->nhealth, db->caphealth, h);
  apx_ir_env_set(m, db, "POSTGRES_PASSWORD", apx_ir_ref_template(m, pw, APX_PROP_VALUE, NULL, f->loc), f->loc);

  apx_resource *migrate = res(f, "migrate", APX_KIND_CONTAINER, NULL);
  migrate->image = str(m, "example.com/migrate:1");
  migrate->restart = APX_RESTART_NO;
  apx_value *args = apx_ir_value_new(m, APX_V_LIST, APX_NOLOC);
  args->u.list.items = APX_NEW_ARRAY(m->arena, apx_value *, 2);
  args->u.list.items[0] = str(m, "echo $(HOME) {{x}}");
  args->u.list.items[1] = apx_ir_ref_template(m, pw, APX_PROP_VALUE, NULL, f->loc);
  args->u.list.n = 2;
  migrate->args = args;

  apx_resource *api = res(f, "api", APX_KIND_CONTAINER, NULL);
  api->image = str(m, "example.com/api");
  api->replicas = 2;
  endpoint(f, api, "http", 0, 8080, false);
  apx_tbuilder tb;
  apx_tb_init(&tb, m, f->loc);
  apx_tb_text(&tb, "Host=", 5);
  apx_tb_ref(&tb, apx_ir_ref_new(m, db, APX_PROP_EP_HOST, "tcp", f->loc));
  apx_tb_text(&tb, ";Port=", 6);
  apx_tb_ref(&tb, apx_ir_ref_new(m, db, APX_PROP_EP_PORT, "tcp", f->loc));
  apx_tb_text(&tb, ";Password=", 10);
  apx_tb_ref(&tb, apx_ir_ref_new(m, pw, APX_PROP_VALUE, NULL, f->loc));
  apx_ir_env_set(m, api, "ConnectionStrings__db", apx_tb_finish(&tb), f->loc);
  apx_ir_env_set(m, api, "DB_URL", apx_ir_ref_template(m, db, APX_PROP_EP_URL, "tcp", f->loc), f->loc);
  api->labels = APX_NEW_ARRAY(m->arena, apx_entry, 2);
  api->labels[0] = (apx_entry){"team", f->loc, str(m, "shop")};
  api->labels[1] = (apx_entry){"owner", f->loc, str(m, "the shop team")};
  api->nlabels = 2;
  apx_ir_env_set(m, api, "a/b", str(m, "1"), f->loc);
  apx_ir_dep_add(m, api, APX_DEP_WAIT_HEALTHY, db, f->loc);
  apx_ir_dep_add(m, api, APX_DEP_WAIT_COMPLETION, migrate, f->loc);

  apx_resource *tool = res(f, "tool", APX_KIND_EXECUTABLE, NULL);
  tool->command = str(m, "python3");
}

/* The generated password, from secrets.yaml's parameters Secret. */
static char *generated_password(docs *sec) {
  const char *s = y_str(y_path(y_find(sec, "Secret", "shop-parameters"), "stringData", "pg_password", NULL));
  return s ? strdup(s) : NULL;
}

static void test_k8s(void) {
  fixture f;
  fixture_init(&f, "Shop", "k8s");
  build(&f);
  apx_output *out = apx_output_new(f.dir);
  int errors = apx_emit_k8s(f.m, out);
  CHECK(errors == 0, "k8s: emits without errors (%d)", errors);
  if (errors) apx_diag_print(&f.diag, stdout);
  CHECK(has_diag(&f.diag, APX_DIAG_WARNING, "executable 'tool' is not published to Kubernetes manifests"),
        "k8s: warns that the executable is left out, naming it");
  CHECK(apx_output_commit(out) == 0, "k8s: commit succeeds");
  apx_output_free(out);

  char path[512];
  size_t len = 0, slen = 0;
  snprintf(path, sizeof path, "%s/manifests.yaml", f.dir);
  char *text = read_file(path, &len);
  snprintf(path, sizeof path, "%s/secrets.yaml", f.dir);
  char *stext = read_file(path, &slen);
  struct stat st;
  CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "k8s: secrets.yaml is mode 0600");
  static docs ds, sec;
  CHECK(text && y_load_all(&ds, text, len) >= 6, "k8s: manifests.yaml is multi-document YAML (%d)", ds.n);
  CHECK(stext && y_load_all(&sec, stext, slen) == 4, "k8s: secrets.yaml holds four Secrets: parameters, db, migrate, api (%d)", sec.n);

  yaml_document_t *db = y_find(&ds, "StatefulSet", "db");
  CHECK(db != NULL, "k8s: a resource with a volume is a StatefulSet");
  CHECK(y_is(y_path(db, "spec", "volumeClaimTemplates", "0", "metadata", "name", NULL), "data"),
        "k8s: its volume is a volumeClaimTemplate");
  CHECK(y_is(y_path(db, "spec", "template", "spec", "containers", "0", "readinessProbe", "tcpSocket", "port", NULL),
             "5432") &&
            y_is(y_path(db, "spec", "template", "spec", "containers", "0", "readinessProbe", "periodSeconds", NULL), "2") &&
            y_is(y_path(db, "spec", "template", "spec", "containers", "0", "livenessProbe", "failureThreshold", NULL),
                 "30"),
        "k8s: the tcp check is a readiness and a liveness probe with the program's timings");
  CHECK(y_is(y_path(y_find(&ds, "Service", "db"), "spec", "ports", "0", "port", NULL), "5432"),
        "k8s: a ClusterIP Service on the target port");
  CHECK(y_is(y_path(db, "metadata", "labels", "app.kubernetes.io/part-of", NULL), "shop") &&
            y_is(y_path(db, "metadata", "labels", "app.kubernetes.io/managed-by", NULL), "aspirec"),
        "k8s: part-of and managed-by labels (the app's name as a DNS label)");

  yaml_document_t *job = y_find(&ds, "Job", "migrate");
  CHECK(job && y_is(y_path(job, "spec", "template", "spec", "restartPolicy", NULL), "Never"),
        "k8s: restart = \"no\" is a Job that never restarts");
  CHECK(y_is(y_path(job, "spec", "template", "spec", "containers", "0", "args", "0", NULL), "echo $$(HOME) {{x}}"),
        "k8s: `$(` in an argument is escaped as `$$(` (Kubernetes expands $(VAR))");
  CHECK(y_is(y_path(job, "spec", "template", "spec", "containers", "0", "args", "1", NULL), "$(ASPIREC_SECRET_ARG_0)"),
        "k8s: a secret argument comes from the environment");

  yaml_document_t *api = y_find(&ds, "Deployment", "api");
  CHECK(api && y_is(y_path(api, "spec", "replicas", NULL), "2"), "k8s: replicas");
  CHECK(y_is(y_path(api, "metadata", "labels", "team", NULL), "shop") &&
            y_is(y_path(api, "spec", "template", "metadata", "labels", "team", NULL), "shop"),
        "k8s: the program's labels on the object and its pods");
  CHECK(!y_path(api, "metadata", "labels", "owner", NULL) &&
            y_is(y_path(api, "metadata", "annotations", "owner", NULL), "the shop team") &&
            has_diag(&f.diag, APX_DIAG_WARNING, "the label 'owner' of 'api' is not a valid Kubernetes label value"),
        "k8s: a label that is no label value becomes an annotation, with a warning");
  CHECK(has_diag(&f.diag, APX_DIAG_WARNING, "the environment variable 'a/b' of 'api' is not a name Kubernetes accepted"),
        "k8s: an environment variable name older clusters reject gets a warning");
  yaml_node_t *c0 = y_path(api, "spec", "template", "spec", "containers", "0", NULL);
  CHECK(y_is(y_get(api, y_get(api, y_get(api, y_get(api, y_get(api, c0, "env"), "0"), "valueFrom"), "secretKeyRef"), "name"),
             "api-secrets"),
        "k8s: an environment variable holding a secret is read with secretKeyRef");
  CHECK(y_is(y_path(y_find(&ds, "ConfigMap", "api-config"), "data", "DB_URL", NULL), "tcp://db:5432"),
        "k8s: a reference renders to the Service DNS name and port, in the ConfigMap");
  CHECK(y_is(y_path(api, "spec", "template", "spec", "initContainers", "0", "env", "0", "value", NULL), "db:5432"),
        "k8s: wait_for is an init container waiting for the Service");
  CHECK(y_is(y_path(api, "spec", "template", "spec", "initContainers", "1", "args", "2", NULL), "job/migrate") &&
            y_is(y_path(api, "spec", "template", "spec", "serviceAccountName", NULL), "shop-job-waiter") &&
            y_find(&ds, "RoleBinding", "shop-job-waiter"),
        "k8s: wait_for_completion waits for the Job, with a ServiceAccount allowed to");
  char *pw = generated_password(&sec);
  CHECK(pw && strlen(pw) == 22, "k8s: the secret parameter is generated into secrets.yaml");
  CHECK(pw && text && !strstr(text, pw), "k8s: the generated value is not in manifests.yaml");
  CHECK(pw && y_is(y_path(y_find(&sec, "Secret", "db-secrets"), "stringData", "POSTGRES_PASSWORD", NULL), pw),
        "k8s: the resource's Secret holds the same value");
  y_free_all(&ds);
  y_free_all(&sec);
  free(text);
  free(stext);

  /* A second emit keeps the generated value. */
  apx_output *out2 = apx_output_new(f.dir);
  CHECK(apx_emit_k8s(f.m, out2) == 0 && apx_output_commit(out2) == 0, "k8s: a second emit succeeds");
  apx_output_free(out2);
  stext = read_file(path, &slen);
  CHECK(stext && y_load_all(&sec, stext, slen) == 4, "k8s: secrets.yaml read again");
  char *pw2 = generated_password(&sec);
  CHECK(pw && pw2 && strcmp(pw, pw2) == 0, "k8s: the generated value is kept across emits");
  y_free_all(&sec);
  free(stext);
  free(pw);
  free(pw2);
  rm_rf(f.dir);
  fixture_free(&f);
}

static void test_helm(void) {
  fixture f;
  fixture_init(&f, "Shop", "k8s");
  build(&f);
  apx_output *out = apx_output_new(f.dir);
  int errors = apx_emit_helm(f.m, out);
  CHECK(errors == 0, "helm: emits without errors (%d)", errors);
  CHECK(apx_output_commit(out) == 0, "helm: commit succeeds");
  apx_output_free(out);
  char path[512];
  size_t len;
  static docs ds;
  snprintf(path, sizeof path, "%s/Chart.yaml", f.dir);
  char *text = read_file(path, &len);
  CHECK(text && y_load_all(&ds, text, len) == 1 && y_is(y_path(&ds.d[0], "apiVersion", NULL), "v2") &&
            y_is(y_path(&ds.d[0], "name", NULL), "shop") && y_path(&ds.d[0], "appVersion", NULL),
        "helm: Chart.yaml apiVersion v2, the app's name, an appVersion");
  y_free_all(&ds);
  free(text);
  snprintf(path, sizeof path, "%s/values.yaml", f.dir);
  text = read_file(path, &len);
  CHECK(text && y_load_all(&ds, text, len) == 1 && y_is(y_path(&ds.d[0], "secrets", "pg_password", NULL), "") &&
            y_is(y_path(&ds.d[0], "resources", "db", "image", "repository", NULL), "docker.io/library/postgres") &&
            y_is(y_path(&ds.d[0], "resources", "db", "image", "tag", NULL), "16.4") &&
            y_is(y_path(&ds.d[0], "resources", "api", "replicas", NULL), "2"),
        "helm: values.yaml: secrets empty, image repository and tag, replicas");
  y_free_all(&ds);
  free(text);
  snprintf(path, sizeof path, "%s/values.schema.json", f.dir);
  text = read_file(path, &len);
  cJSON *schema = text ? cJSON_Parse(text) : NULL;
  cJSON *rep = cJSON_GetObjectItem(
      cJSON_GetObjectItem(
          cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(schema, "properties"), "resources"), "properties"),
                              "api"),
          "properties"),
      "replicas");
  CHECK(rep && cJSON_IsString(cJSON_GetObjectItem(rep, "type")) &&
            strcmp(cJSON_GetObjectItem(rep, "type")->valuestring, "integer") == 0,
        "helm: values.schema.json types resources.api.replicas as an integer");
  cJSON_Delete(schema);
  free(text);
  snprintf(path, sizeof path, "%s/templates/api/deployment.yaml", f.dir);
  text = read_file(path, &len);
  CHECK(text && strstr(text, "replicas: !!int \"{{ .Values.resources.api.replicas }}\""),
        "helm: replicas from values, a quoted scalar tagged !!int");
  CHECK(text && y_load_all(&ds, text, len) == 1, "helm: a template is valid YAML before rendering");
  y_free_all(&ds);
  free(text);
  snprintf(path, sizeof path, "%s/templates/api/secret.yaml", f.dir);
  text = read_file(path, &len);
  CHECK(text && strstr(text, "{{ required `secret pg-password has no value: set secrets.pg_password"),
        "helm: a secret is required at install, with a message naming it");
  free(text);
  snprintf(path, sizeof path, "%s/templates/migrate/job.yaml", f.dir);
  text = read_file(path, &len);
  CHECK(text && strstr(text, "echo $$(HOME) {{`{{`}}x}}"), "helm: `{{` of the program's text is escaped for Helm");
  free(text);
  rm_rf(f.dir);
  fixture_free(&f);
}

static void test_clash(void) {
  fixture f;
  fixture_init(&f, "Shop", "k8s");
  apx_resource *sp = res(&f, "token", APX_KIND_PARAM, NULL); /* a parameters Secret is begun before the check */
  sp->param = APX_NEW(f.arena, apx_param);
  sp->param->secret = true;
  sp->param->value = "v";
  res(&f, "My_Api", APX_KIND_CONTAINER, NULL)->image = str(f.m, "a");
  res(&f, "my-api", APX_KIND_CONTAINER, NULL)->image = str(f.m, "b");
  apx_output *out = apx_output_new(f.dir);
  int errors = apx_emit_k8s(f.m, out);
  CHECK(errors == 1 && has_diag(&f.diag, APX_DIAG_ERROR, "'My_Api' and 'my-api' would both be the Kubernetes object 'my-api'"),
        "k8s: two resources on one object name are an error naming both");
  apx_output_free(out);
  rm_rf(f.dir);
  fixture_free(&f);

  fixture_init(&f, "Shop", "k8s");
  for (int i = 0; i < 2; i++) {
    apx_resource *p = res(&f, i ? "a_b" : "a-b", APX_KIND_PARAM, NULL);
    p->param = APX_NEW(f.arena, apx_param);
    p->param->value = "v";
  }
  out = apx_output_new(f.dir);
  errors = apx_emit_helm(f.m, out);
  CHECK(errors == 1 && has_diag(&f.diag, APX_DIAG_ERROR, "parameters 'a-b' and 'a_b' would both be the key 'a_b'"),
        "helm: two parameters on one values key are an error naming both");
  apx_output_free(out);
  rm_rf(f.dir);
  fixture_free(&f);
}

int main(void) {
  test_k8s();
  test_helm();
  test_clash();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
