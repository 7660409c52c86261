/* Unit tests for the Compose back end, staged output and the DOT back end:
 * a shop-like module is built with ir.c's constructors (as the passes would
 * leave it after enrich), emitted, and the YAML is read back with libyaml's
 * parser to check its structure, not just its text. */
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "base/names.h"
#include "backends/backend.h"
#include "base/output.h"
#include "backends/yaml_out.h"
#include "base/buf.h"
#include "ir/ir.h"

#include "check.h"
#include "fixture.h"

/* ---- reading YAML back ----------------------------------------------------- */

static long y_len(yaml_node_t *n) {
  if (!n) return -1;
  if (n->type == YAML_SEQUENCE_NODE) return n->data.sequence.items.top - n->data.sequence.items.start;
  if (n->type == YAML_MAPPING_NODE) return n->data.mapping.pairs.top - n->data.mapping.pairs.start;
  return -1;
}

/* n is a sequence of exactly these scalars (NULL-terminated); `got` shows
 * it, joined with spaces, for the message. */
static bool y_seq_is(yaml_document_t *d, yaml_node_t *n, char *got, size_t cap, ...) {
  got[0] = '\0';
  if (!n || n->type != YAML_SEQUENCE_NODE) return false;
  long len = y_len(n), i = 0;
  bool same = true;
  for (; i < len; i++) {
    const char *v = y_str(yaml_document_get_node(d, n->data.sequence.items.start[i]));
    size_t used = strlen(got);
    snprintf(got + used, cap - used, "%s%s", i ? " " : "", v ? v : "(not a scalar)");
  }
  va_list ap;
  va_start(ap, cap);
  const char *want;
  for (i = 0; (want = va_arg(ap, const char *)) != NULL; i++) {
    const char *v = i < len ? y_str(yaml_document_get_node(d, n->data.sequence.items.start[i])) : NULL;
    if (!v || strcmp(v, want) != 0) same = false;
  }
  va_end(ap);
  return same && i == len;
}

static const char *y_key_at(yaml_document_t *d, yaml_node_t *n, long i) {
  if (!n || n->type != YAML_MAPPING_NODE || i >= y_len(n)) return NULL;
  return y_str(yaml_document_get_node(d, n->data.mapping.pairs.start[i].key));
}

static bool y_load(yaml_document_t *d, const char *text, size_t len) {
  yaml_parser_t p;
  yaml_parser_initialize(&p);
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  int ok = yaml_parser_load(&p, d);
  yaml_parser_delete(&p);
  return ok && yaml_document_get_root_node(d);
}

/* ---- building the module ----------------------------------------------------- */

static apx_value *list(apx_module *m, int n, ...) {
  apx_value *v = apx_ir_value_new(m, APX_V_LIST, APX_NOLOC);
  v->u.list.items = APX_NEW_ARRAY(m->arena, apx_value *, n ? n : 1);
  va_list ap;
  va_start(ap, n);
  for (int i = 0; i < n; i++) v->u.list.items[i] = va_arg(ap, apx_value *);
  va_end(ap);
  v->u.list.n = (size_t)n;
  return v;
}

static apx_resource *param(fixture *f, const char *name, bool secret, const char *value, apx_param_source src) {
  apx_resource *p = res(f, name, APX_KIND_PARAM, "param");
  p->param = APX_NEW(f->arena, apx_param);
  p->param->secret = secret;
  p->param->value = value;
  p->param->source = src;
  p->param->env_name = apx_name_env_var(f->arena, name);
  if (src == APX_PARAM_FROM_DEFAULT) p->param->def = str(f->m, value);
  return p;
}

static apx_health *health(fixture *f, apx_resource *r, apx_health_kind kind, const char *endpoint) {
  apx_health h = {0};
  h.kind = kind;
  h.loc = f->loc;
  h.endpoint = endpoint;
  APX_VEC_PUSH(f->arena, r->health, r->nhealth, r->caphealth, h);
  return &r->health[r->nhealth - 1];
}

static void env(fixture *f, apx_resource *r, const char *key, apx_value *v) { apx_ir_env_set(f->m, r, key, v, f->loc); }

static apx_value *ref(fixture *f, apx_resource *t, apx_prop prop, const char *ep) {
  return apx_ir_ref_template(f->m, t, prop, ep, f->loc);
}

/* The shop of the examples, plus a few extras that cover the other rows. */
static void build_shop(fixture *f) {
  apx_module *m = f->m;
  apx_resource *pg_password = param(f, "pg_password", true, NULL, APX_PARAM_UNSET);
  pg_password->param->has_generate = true;
  pg_password->param->generate.length = 22;
  apx_resource *region = param(f, "region", false, NULL, APX_PARAM_UNSET);
  apx_resource *log_level = param(f, "log_level", false, "info", APX_PARAM_FROM_DEFAULT);
  apx_resource *api_key = param(f, "api_key", true, "s3cr$t'x", APX_PARAM_FROM_CLI);

  apx_resource *db = res(f, "db", APX_KIND_CONTAINER, "postgres");
  db->image = str(m, "docker.io/library/postgres:16");
  endpoint(f, db, "tcp", 0, 5432, false);
  env(f, db, "POSTGRES_PASSWORD", ref(f, pg_password, APX_PROP_VALUE, NULL));
  apx_volume vol = {"data", f->loc, "/var/lib/postgresql/data", false};
  APX_VEC_PUSH(f->arena, db->volumes, db->nvolumes, db->capvolumes, vol);
  apx_health *h = health(f, db, APX_HEALTH_TCP, "tcp");
  h->interval_ms = 2000;
  h->timeout_ms = 1000;
  h->retries = 30;
  apx_tbuilder tb;
  apx_tb_init(&tb, m, f->loc);
  apx_tb_text(&tb, "Host=", 5);
  apx_tb_ref(&tb, apx_ir_ref_new(m, db, APX_PROP_EP_HOST, "tcp", f->loc));
  apx_tb_text(&tb, ";Port=", 6);
  apx_tb_ref(&tb, apx_ir_ref_new(m, db, APX_PROP_EP_PORT, "tcp", f->loc));
  apx_tb_text(&tb, ";Username=postgres;Password=", 28);
  apx_tb_ref(&tb, apx_ir_ref_new(m, pg_password, APX_PROP_VALUE, NULL, f->loc));
  db->connection_string = apx_tb_finish(&tb);

  apx_resource *catalog = res(f, "catalog", APX_KIND_EXTERNAL, "database");
  catalog->parent = db;
  apx_tb_init(&tb, m, f->loc);
  apx_tb_ref(&tb, apx_ir_ref_new(m, db, APX_PROP_CONNECTION_STRING, NULL, f->loc));
  apx_tb_text(&tb, ";Database=catalog", 17);
  catalog->connection_string = apx_tb_finish(&tb);

  apx_resource *cache = res(f, "cache", APX_KIND_CONTAINER, "redis");
  cache->image = str(m, "docker.io/library/redis:7.4");
  endpoint(f, cache, "tcp", 0, 6379, false);
  health(f, cache, APX_HEALTH_TCP, "tcp");
  apx_tb_init(&tb, m, f->loc);
  apx_tb_ref(&tb, apx_ir_ref_new(m, cache, APX_PROP_EP_HOST, "tcp", f->loc));
  apx_tb_text(&tb, ":", 1);
  apx_tb_ref(&tb, apx_ir_ref_new(m, cache, APX_PROP_EP_PORT, "tcp", f->loc));
  cache->connection_string = apx_tb_finish(&tb);

  apx_resource *api = res(f, "api", APX_KIND_PROJECT, NULL);
  api->command = str(m, "python3");
  api->args = list(m, 1, str(m, "app.py"));
  api->build = APX_NEW(f->arena, apx_build);
  api->build->context = "./shop/api";
  api->build->context_abs = apx_arena_printf(f->arena, "%s/shop/api", f->dir);
  apx_endpoint *aep = endpoint(f, api, "http", 0, 8080, false);
  aep->target_port_defaulted = true;
  aep->env = "PORT";
  env(f, api, "LITERAL", str(m, "a$b"));
  env(f, api, "REGION", ref(f, region, APX_PROP_VALUE, NULL));
  env(f, api, "LOG_LEVEL", ref(f, log_level, APX_PROP_VALUE, NULL));
  env(f, api, "API_KEY", ref(f, api_key, APX_PROP_RESOURCE, NULL));
  env(f, api, "ConnectionStrings__catalog", ref(f, catalog, APX_PROP_CONNECTION_STRING, NULL));
  env(f, api, "ConnectionStrings__cache", ref(f, cache, APX_PROP_CONNECTION_STRING, NULL));
  env(f, api, "PORT", ref(f, api, APX_PROP_EP_TARGET_PORT, "http"));
  apx_ir_dep_add(m, api, APX_DEP_REFERENCE, catalog, f->loc);
  apx_ir_dep_add(m, api, APX_DEP_REFERENCE, cache, f->loc);
  apx_ir_dep_add(m, api, APX_DEP_WAIT_HEALTHY, catalog, f->loc);
  apx_ir_dep_add(m, api, APX_DEP_WAIT_HEALTHY, cache, f->loc);
  apx_health *ah = health(f, api, APX_HEALTH_HTTP, "http");
  ah->path = "/healthz";
  api->restart = APX_RESTART_ON_FAILURE;

  apx_resource *web = res(f, "web", APX_KIND_PROJECT, NULL);
  web->build = APX_NEW(f->arena, apx_build);
  web->build->context_abs = apx_arena_printf(f->arena, "%s/shop/web", f->dir);
  web->build->dockerfile = "Dockerfile.prod";
  apx_entry barg = {"VERSION", f->loc, str(m, "1.0")};
  web->build->args = APX_NEW_ARRAY(f->arena, apx_entry, 1);
  web->build->args[0] = barg;
  web->build->nargs = 1;
  web->image = str(m, "registry.example.com/shop/web:2.1");
  endpoint(f, web, "http", 0, 8000, true);
  env(f, web, "services__api__http__0", ref(f, api, APX_PROP_EP_URL, "http"));
  apx_ir_dep_add(m, web, APX_DEP_REFERENCE, api, f->loc);
  apx_ir_dep_add(m, web, APX_DEP_WAIT_HEALTHY, api, f->loc);

  apx_resource *migrate = res(f, "migrate", APX_KIND_CONTAINER, NULL);
  migrate->image = str(m, "example.com/shop/migrate:1.0");
  migrate->command = str(m, "migrate");
  migrate->args = list(m, 2, str(m, "--apply"), str(m, "yes"));
  migrate->entrypoint = list(m, 1, str(m, "/usr/bin/env"));
  migrate->workdir_written = "/app";
  migrate->restart = APX_RESTART_NO;
  apx_bind bind = {f->loc, "./data", apx_arena_printf(f->arena, "%s/data", f->dir), "/data", true};
  APX_VEC_PUSH(f->arena, migrate->binds, migrate->nbinds, migrate->capbinds, bind);
  apx_ir_dep_add(m, migrate, APX_DEP_WAIT_HEALTHY, catalog, f->loc);

  apx_resource *worker = res(f, "worker", APX_KIND_CONTAINER, NULL);
  worker->image = str(m, "example.com/shop/worker:1.0");
  worker->replicas = 3;
  worker->explicit_start = true;
  apx_ir_dep_add(m, worker, APX_DEP_WAIT_COMPLETION, migrate, f->loc);
  apx_ir_dep_add(m, worker, APX_DEP_WAIT_START, cache, f->loc);
  apx_health *lh = health(f, worker, APX_HEALTH_LOG, NULL);
  lh->pattern = "worker ready";
  apx_entry lab = {"com.example.team", f->loc, str(m, "shop")};
  worker->labels = APX_NEW_ARRAY(f->arena, apx_entry, 1);
  worker->labels[0] = lab;
  worker->nlabels = 1;

  apx_resource *gateway = res(f, "gateway", APX_KIND_CONTAINER, NULL);
  gateway->image = str(m, "docker.io/library/nginx:1.27");
  endpoint(f, gateway, "http", 8080, 80, true);
  apx_endpoint *dns = endpoint(f, gateway, "dns", 0, 53, false);
  dns->protocol = "udp";
  apx_health *gh = health(f, gateway, APX_HEALTH_HTTP, "http");
  gh->path = "/status?full=1&x=$y";
  gh->interval_ms = 5000;
  gh->start_period_ms = 250;
  apx_health *ge = health(f, gateway, APX_HEALTH_EXEC, NULL);
  ge->exec = list(m, 3, str(m, "nginx"), str(m, "-t"), str(m, "it's"));
  ge->interval_ms = 3000;
  ge->retries = 5;
  apx_ir_dep_add(m, gateway, APX_DEP_WAIT_START, web, f->loc);

  apx_resource *tool = res(f, "tool", APX_KIND_EXECUTABLE, NULL);
  tool->command = str(m, "./tool.sh");
  apx_resource *hidden = res(f, "hidden", APX_KIND_CONTAINER, NULL);
  hidden->image = str(m, "x:1");
  hidden->publish = false;
  apx_resource *payments = res(f, "payments", APX_KIND_EXTERNAL, NULL);
  payments->url = str(m, "https://payments.example.com");
  env(f, gateway, "PAYMENTS", ref(f, payments, APX_PROP_URL, NULL));
}

static bool has_warning(const apx_diag *d, const char *needle) {
  for (size_t i = 0; i < d->n; i++)
    if (d->items[i].level == APX_DIAG_WARNING && strstr(d->items[i].message, needle)) return true;
  return false;
}

static void write_file(const char *path, const char *text) {
  FILE *fp = fopen(path, "wb");
  if (!fp) return;
  fputs(text, fp);
  fclose(fp);
}

static int count_temp_files(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  if (!d) return 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (strstr(e->d_name, ".tmp.")) n++;
  closedir(d);
  return n;
}

/* ---- tests ----------------------------------------------------------------------- */

static void test_compose_shop(void) {
  fixture f;
  fixture_init(&f, "shop", "compose");
  build_shop(&f);
  char envpath[512];
  snprintf(envpath, sizeof envpath, "%s/.env", f.dir);
  write_file(envpath, "# mine\nREGION='eu-west-1'\nPG_PASSWORD=kept\\pw\nAPI_KEY=old\nCOMPOSE_PROJECT_NAME=shop\n");
  chmod(envpath, 0640);
  const unsigned env_mode = 0640;

  apx_output *out = apx_output_new(f.dir);
  int errors = apx_emit_compose(f.m, out);
  CHECK(errors == 0, "compose: emits the shop without errors (%d)", errors);
  if (errors) apx_diag_print(&f.diag, stdout);
  CHECK(has_warning(&f.diag, "executable 'tool' is not published to compose; it runs only with --run"),
        "compose: warns that executable 'tool' is left out");
  CHECK(has_warning(&f.diag, "log health check of 'worker'"), "compose: warns about the log health check");
  CHECK(!has_warning(&f.diag, "'hidden'"), "compose: publish = false is left out silently");
  CHECK(apx_output_commit(out) == 0, "output: commit succeeds");
  apx_output_free(out);
  CHECK(count_temp_files(f.dir) == 0, "output: no temporary files left behind");

  char path[512];
  snprintf(path, sizeof path, "%s/docker-compose.yaml", f.dir);
  size_t len = 0;
  char *yaml = read_file(path, &len);
  CHECK(yaml != NULL, "output: docker-compose.yaml written");
  if (!yaml) {
    fixture_free(&f);
    return;
  }
  yaml_document_t d;
  bool loaded = y_load(&d, yaml, len);
  CHECK(loaded, "compose: the YAML parses");
  if (!loaded) {
    free(yaml);
    fixture_free(&f);
    return;
  }
  yaml_node_t *services = y_path(&d, "services", NULL);
  const char *order[] = {"db", "cache", "api", "web", "migrate", "worker", "gateway"};
  bool order_ok = y_len(services) == 7;
  for (int i = 0; order_ok && i < 7; i++) order_ok = y_key_at(&d, services, i) && !strcmp(y_key_at(&d, services, i), order[i]);
  CHECK(order_ok, "compose: one service per container/project in declaration order (got %ld)", y_len(services));
  CHECK(y_is(y_path(&d, "services", "api", "image", NULL), "${API_IMAGE}"), "compose: a project's image is ${API_IMAGE}");
  CHECK(y_is(y_path(&d, "services", "api", "build", "context", NULL), "./shop/api"),
        "compose: build context relative to the output directory");
  CHECK(y_is(y_path(&d, "services", "web", "build", "dockerfile", NULL), "Dockerfile.prod") &&
            y_is(y_path(&d, "services", "web", "build", "args", "VERSION", NULL), "1.0"),
        "compose: build dockerfile and args");
  CHECK(!strstr(yaml, f.dir), "compose: no absolute path of this machine in the YAML");
  CHECK(y_path(&d, "services", "api", "command", NULL) == NULL, "compose: a project's local command is not the image's");
  CHECK(y_is(y_path(&d, "services", "api", "environment", "ConnectionStrings__catalog", NULL),
             "Host=db;Port=5432;Username=postgres;Password=${PG_PASSWORD:?PG_PASSWORD is required: set it in "
             ".env};Database=catalog"),
        "compose: a child's connection string renders through its parent, params as ${X:?}");
  CHECK(y_is(y_path(&d, "services", "api", "environment", "ConnectionStrings__cache", NULL), "cache:6379"),
        "compose: references render as service:target_port");
  CHECK(y_is(y_path(&d, "services", "api", "environment", "LITERAL", NULL), "a$$b"), "compose: literal $ is escaped as $$");
  CHECK(y_is(y_path(&d, "services", "api", "environment", "API_KEY", NULL), "${API_KEY}"),
        "compose: a secret with a value is still only ${API_KEY}");
  CHECK(y_is(y_path(&d, "services", "api", "environment", "LOG_LEVEL", NULL), "${LOG_LEVEL}"),
        "compose: a parameter with a default is ${LOG_LEVEL}");
  CHECK(!strstr(yaml, "s3cr"), "compose: no secret value in the YAML");
  CHECK(y_is(y_path(&d, "services", "api", "environment", "PORT", NULL), "8080") && strstr(yaml, "PORT: \"8080\""),
        "compose: PORT is the target port, quoted as a string");
  CHECK(y_is(y_path(&d, "services", "api", "expose", "0", NULL), "8080"), "compose: internal endpoint -> expose");
  CHECK(y_is(y_path(&d, "services", "api", "depends_on", "db", "condition", NULL), "service_healthy") &&
            y_len(y_path(&d, "services", "api", "depends_on", NULL)) == 2,
        "compose: wait_for on a child maps to its parent, healthy (one entry)");
  CHECK(y_is(y_path(&d, "services", "api", "restart", NULL), "on-failure"), "compose: restart on-failure");
  CHECK(y_path(&d, "services", "db", "restart", NULL) == NULL, "compose: default restart is omitted");
  char got[512];
  CHECK(y_seq_is(&d, y_path(&d, "services", "api", "healthcheck", "test", NULL), got, sizeof got, "CMD",
                 "/.aspirec/probe", "http", "8080", "/healthz", NULL),
        "compose: http health check through the probe (%s)", got);
  CHECK(y_seq_is(&d, y_path(&d, "services", "api", "volumes", NULL), got, sizeof got,
                 "./.aspirec/probe:/.aspirec/probe:ro", NULL),
        "compose: the probe is bound read-only into a service with a health check (%s)", got);
  CHECK(y_is(y_path(&d, "services", "web", "environment", "services__api__http__0", NULL), "http://api:8080"),
        "compose: endpoint url renders as http://api:8080");
  CHECK(y_is(y_path(&d, "services", "web", "ports", "0", NULL), "8000"), "compose: external endpoint without port -> \"TARGET\"");
  CHECK(y_is(y_path(&d, "services", "web", "depends_on", "api", "condition", NULL), "service_healthy"),
        "compose: wait_for a service with health -> service_healthy");
  CHECK(y_is(y_path(&d, "services", "gateway", "ports", "0", NULL), "8080:80") && strstr(yaml, "- \"8080:80\""),
        "compose: fixed port -> \"PORT:TARGET\", quoted");
  CHECK(y_is(y_path(&d, "services", "gateway", "expose", "0", NULL), "53/udp"), "compose: udp endpoint gets /udp");
  CHECK(y_is(y_path(&d, "services", "gateway", "depends_on", "web", "condition", NULL), "service_started"),
        "compose: wait_for_start -> service_started");
  CHECK(y_is(y_path(&d, "services", "gateway", "environment", "PAYMENTS", NULL), "https://payments.example.com"),
        "compose: an external url renders as it is");
  CHECK(y_seq_is(&d, y_path(&d, "services", "gateway", "healthcheck", "test", NULL), got, sizeof got, "CMD",
                 "/.aspirec/probe", "http", "80", "/status?full=1&x=$$y", "exec", "3", "nginx", "-t", "it's", NULL),
        "compose: several checks are one probe run, exec as a counted argv, $ doubled for compose (%s)", got);
  CHECK(y_is(y_path(&d, "services", "gateway", "healthcheck", "interval", NULL), "3s") &&
            y_is(y_path(&d, "services", "gateway", "healthcheck", "start_period", NULL), "250ms") &&
            y_is(y_path(&d, "services", "gateway", "healthcheck", "retries", NULL), "5"),
        "compose: healthcheck timings as duration strings");
  CHECK(y_seq_is(&d, y_path(&d, "services", "db", "healthcheck", "test", NULL), got, sizeof got, "CMD",
                 "/.aspirec/probe", "--timeout=1s", "tcp", "5432", NULL) &&
            y_is(y_path(&d, "services", "db", "healthcheck", "interval", NULL), "2s") &&
            y_is(y_path(&d, "services", "db", "healthcheck", "timeout", NULL), "1s") &&
            y_is(y_path(&d, "services", "db", "healthcheck", "retries", NULL), "30"),
        "compose: tcp health check through the probe, with the check's timeout (%s)", got);
  CHECK(y_is(y_path(&d, "services", "db", "volumes", "1", NULL), "./.aspirec/probe:/.aspirec/probe:ro"),
        "compose: the probe's bind comes after the service's own volumes");
  CHECK(y_path(&d, "services", "web", "volumes", NULL) == NULL, "compose: no probe bind without a health check");
  CHECK(y_is(y_path(&d, "services", "db", "volumes", "0", NULL), "db-data:/var/lib/postgresql/data") &&
            y_len(y_path(&d, "volumes", "db-data", NULL)) == 0,
        "compose: named volume RES-VOL, declared at the top level");
  CHECK(y_is(y_path(&d, "services", "migrate", "volumes", "0", NULL), "./data:/data:ro"),
        "compose: bind relative to the output directory, :ro");
  CHECK(y_is(y_path(&d, "services", "migrate", "command", "0", NULL), "migrate") &&
            y_is(y_path(&d, "services", "migrate", "command", "1", NULL), "--apply") &&
            y_is(y_path(&d, "services", "migrate", "command", "2", NULL), "yes") && strstr(yaml, "- \"yes\""),
        "compose: command = [command] + args, YAML 1.1 words quoted");
  CHECK(y_is(y_path(&d, "services", "migrate", "entrypoint", "0", NULL), "/usr/bin/env") &&
            y_is(y_path(&d, "services", "migrate", "working_dir", NULL), "/app"),
        "compose: entrypoint and working_dir");
  CHECK(y_is(y_path(&d, "services", "migrate", "restart", NULL), "no") && strstr(yaml, "restart: \"no\""),
        "compose: restart \"no\" is quoted");
  CHECK(y_is(y_path(&d, "services", "migrate", "depends_on", "db", "condition", NULL), "service_healthy"),
        "compose: migrate waits for db");
  CHECK(y_is(y_path(&d, "services", "worker", "deploy", "replicas", NULL), "3"), "compose: replicas -> deploy.replicas");
  CHECK(y_is(y_path(&d, "services", "worker", "profiles", "0", NULL), "explicit"), "compose: explicit_start -> profiles");
  CHECK(y_is(y_path(&d, "services", "worker", "depends_on", "migrate", "condition", NULL),
             "service_completed_successfully") &&
            y_is(y_path(&d, "services", "worker", "depends_on", "cache", "condition", NULL), "service_started"),
        "compose: wait_for_completion and wait_for_start conditions");
  CHECK(y_path(&d, "services", "worker", "healthcheck", NULL) == NULL, "compose: a log-only check writes no healthcheck");
  CHECK(y_is(y_path(&d, "services", "worker", "labels", "com.example.team", NULL), "shop"), "compose: labels");
  CHECK(y_len(y_path(&d, "networks", "shop", NULL)) == 0 && y_is(y_path(&d, "services", "db", "networks", "0", NULL), "shop") &&
            y_is(y_path(&d, "services", "gateway", "networks", "0", NULL), "shop"),
        "compose: one project network named after the app");
  CHECK(!strstr(yaml, "version:") && !strstr(yaml, "\nname:"), "compose: no version or name key");
  yaml_document_delete(&d);

  char *dotenv = read_file(envpath, NULL);
  CHECK(dotenv && strstr(dotenv, "# parameter pg_password: secret, generated by aspirec, kept when it writes this file again"),
        ".env: a comment names the parameter and says secret/generated");
  CHECK(dotenv && strstr(dotenv, "\nPG_PASSWORD='kept\\pw'\n"), ".env: a user's value is kept (%s)", dotenv ? "" : "missing");
  CHECK(dotenv && strstr(dotenv, "\nREGION=eu-west-1\n"), ".env: a quoted user value is read and kept");
  CHECK(dotenv && strstr(dotenv, "\nLOG_LEVEL=info\n"), ".env: default value");
  CHECK(dotenv && strstr(dotenv, "\nAPI_KEY='s3cr$t\\'x'\n"), ".env: compile-time value wins, quoted");
  CHECK(dotenv && strstr(dotenv, "\nAPI_IMAGE=api:latest\n") &&
            strstr(dotenv, "\nWEB_IMAGE=registry.example.com/shop/web:2.1\n"),
        ".env: image variables, default NAME:latest or the image attribute");
  CHECK(dotenv && strstr(dotenv, "# kept from the previous .env\nCOMPOSE_PROJECT_NAME=shop\n"),
        ".env: the user's own variables are kept");
  CHECK(dotenv && strstr(dotenv, "region") < strstr(dotenv, "log_level") &&
            strstr(dotenv, "log_level") < strstr(dotenv, "API_IMAGE"),
        ".env: parameters in declaration order, then images");
  struct stat st;
  char probe[512];
  snprintf(probe, sizeof probe, "%s/.aspirec/probe", f.dir);
  size_t plen = 0, blen = 0;
  char *pdata = read_file(probe, &plen), *bdata = read_file(APX_PROBE_BUILT, &blen);
  CHECK(pdata && bdata && plen == blen && plen > 0 && memcmp(pdata, bdata, plen) == 0 && stat(probe, &st) == 0 &&
            (st.st_mode & 0777) == 0755,
        "output: the probe binary is copied to DIR/.aspirec/probe, mode 0755 (%zu bytes, %o)", plen,
        (unsigned)(st.st_mode & 0777));
  free(pdata);
  free(bdata);
  CHECK(stat(envpath, &st) == 0 && (st.st_mode & 0777) == env_mode,
        "output: an existing file keeps its mode (%o)", (unsigned)(st.st_mode & 0777));
  free(dotenv);

  /* Same module, same output directory: byte-identical output. */
  apx_output *again = apx_output_new(f.dir);
  apx_emit_compose(f.m, again);
  CHECK(apx_output_commit(again) == 0, "output: second commit succeeds");
  apx_output_free(again);
  size_t len2 = 0;
  char *yaml2 = read_file(path, &len2);
  CHECK(yaml2 && len2 == len && memcmp(yaml, yaml2, len) == 0, "compose: output is deterministic");
  free(yaml2);
  free(yaml);
  fixture_free(&f);
}

static void test_compose_errors(void) {
  fixture f;
  fixture_init(&f, "shop", "compose");
  apx_resource *p = param(&f, "motd", false, "line1\nline2", APX_PARAM_FROM_CLI);
  apx_resource *c = res(&f, "box", APX_KIND_CONTAINER, NULL);
  c->image = str(f.m, "busybox");
  env(&f, c, "MOTD", ref(&f, p, APX_PROP_VALUE, NULL));
  env(&f, c, "BAD", list(f.m, 1, str(f.m, "x")));
  apx_resource *urlp = param(&f, "host", false, NULL, APX_PARAM_UNSET);
  apx_value *filtered = ref(&f, urlp, APX_PROP_VALUE, NULL);
  filtered->u.tpl.parts[0].ref->filter = APX_FILTER_URLENCODE;
  env(&f, c, "ENCODED", filtered);
  apx_resource *noimg = res(&f, "empty", APX_KIND_CONTAINER, NULL);
  (void)noimg;
  apx_output *out = apx_output_new(f.dir);
  int errors = apx_emit_compose(f.m, out);
  CHECK(errors == 4, "compose: newline in a .env value, a list in env, a filter on ${X}, no image: 4 errors (%d)", errors);
  bool nl = false, lst = false, filt = false;
  for (size_t i = 0; i < f.diag.n; i++) {
    if (strstr(f.diag.items[i].message, "line break")) nl = true;
    if (strstr(f.diag.items[i].message, "environment variable BAD of 'box'")) lst = true;
    if (strstr(f.diag.items[i].message, "filter")) filt = true;
  }
  CHECK(nl && lst && filt, "compose: the errors say what and whose");
  apx_output_free(out);

  /* A param clashing with an image variable. */
  apx_resource *clash = param(&f, "api_image", false, "x", APX_PARAM_FROM_CLI);
  (void)clash;
  apx_resource *api = res(&f, "api", APX_KIND_PROJECT, NULL);
  api->build = APX_NEW(f.arena, apx_build);
  api->build->context_abs = f.dir;
  size_t before = f.diag.errors;
  out = apx_output_new(f.dir);
  apx_emit_compose(f.m, out);
  bool found = false;
  for (size_t i = 0; i < f.diag.n; i++)
    if (strstr(f.diag.items[i].message, "would both be API_IMAGE")) found = true;
  CHECK(found && f.diag.errors > before, "compose: a parameter named like an image variable is an error");
  apx_output_free(out);

  /* Volume names r-v that coincide: a-b + c and a + b-c. */
  apx_resource *ab = res(&f, "a-b", APX_KIND_CONTAINER, NULL), *a = res(&f, "a", APX_KIND_CONTAINER, NULL);
  ab->image = a->image = str(f.m, "x:1");
  apx_volume v1 = {"c", f.loc, "/d", false}, v2 = {"b-c", f.loc, "/d", false};
  APX_VEC_PUSH(f.arena, ab->volumes, ab->nvolumes, ab->capvolumes, v1);
  APX_VEC_PUSH(f.arena, a->volumes, a->nvolumes, a->capvolumes, v2);
  out = apx_output_new(f.dir);
  apx_emit_compose(f.m, out);
  found = false;
  for (size_t i = 0; i < f.diag.n; i++)
    if (strstr(f.diag.items[i].message, "would both be the compose volume 'a-b-c'")) found = true;
  CHECK(found, "compose: two volumes that would share one compose name are an error");
  apx_output_free(out);
  fixture_free(&f);
}

static void test_compose_stdout(void) {
  fixture f;
  fixture_init(&f, "shop", "compose");
  apx_resource *c = res(&f, "web", APX_KIND_CONTAINER, NULL);
  c->image = str(f.m, "nginx");
  apx_output *out = apx_output_new("-");
  CHECK(apx_output_to_stdout(out) && apx_output_dir(out) == NULL, "output: \"-\" means stdout");
  CHECK(apx_emit_compose(f.m, out) == 0, "compose: emits in stdout mode");
  CHECK(apx_output_read_existing(out, ".env", NULL) == NULL, "output: nothing to read in stdout mode");
  /* Capture stdout into a file to see that only the YAML is written. */
  char cap[512];
  snprintf(cap, sizeof cap, "%s/captured", f.dir);
  fflush(stdout);
  int saved = dup(1);
  FILE *fp = fopen(cap, "wb");
  dup2(fileno(fp), 1);
  int rc = apx_output_commit(out);
  fflush(stdout);
  dup2(saved, 1);
  close(saved);
  fclose(fp);
  char *text = read_file(cap, NULL);
  CHECK(rc == 0 && text && strncmp(text, "services:\n  web:\n    image: nginx\n", 34) == 0 && !strstr(text, "# Values"),
        "output: stdout mode writes only the first file (the YAML)");
  free(text);
  apx_output_free(out);
  fixture_free(&f);
}

/* Emits f's module to f.dir (or stdout when to_stdout, captured) and loads
 * the YAML; returns the error count. */
static int emit_load(fixture *f, bool to_stdout, yaml_document_t *d, bool *loaded) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", f->dir, to_stdout ? "captured" : "docker-compose.yaml");
  apx_output *out = apx_output_new(to_stdout ? "-" : f->dir);
  int errors = apx_emit_compose(f->m, out);
  if (!errors) {
    fflush(stdout);
    int saved = dup(1);
    FILE *fp = to_stdout ? fopen(path, "wb") : NULL;
    if (fp) dup2(fileno(fp), 1);
    apx_output_commit(out);
    fflush(stdout);
    if (fp) {
      dup2(saved, 1);
      fclose(fp);
    }
    close(saved);
  }
  apx_output_free(out);
  size_t len = 0;
  char *yaml = errors ? NULL : read_file(path, &len);
  *loaded = yaml && y_load(d, yaml, len);
  free(yaml);
  return errors;
}

static void test_compose_probe(void) {
  fixture f;
  fixture_init(&f, "shop", "compose");
  apx_module *m = f.m;
  apx_resource *pg = res(&f, "pg", APX_KIND_CONTAINER, NULL);
  pg->image = str(m, "postgres:16");
  apx_health *ph = health(&f, pg, APX_HEALTH_EXEC, NULL);
  ph->exec = list(m, 2, str(m, "pg_isready"), str(m, "-q"));
  apx_resource *tls = res(&f, "tls", APX_KIND_CONTAINER, NULL);
  tls->image = str(m, "x:1");
  apx_endpoint *te = endpoint(&f, tls, "https", 0, 8443, false);
  te->scheme = "https";
  apx_health *th = health(&f, tls, APX_HEALTH_HTTP, "https");
  th->path = "/health";
  th->timeout_ms = 1500;

  /* A umask that would leave the copy unreadable to a container's user. */
  mode_t mask = umask(077);
  yaml_document_t d;
  bool loaded = false;
  char got[512];
  int errors = emit_load(&f, false, &d, &loaded);
  umask(mask);
  CHECK(errors == 0 && loaded, "compose: emits exec and https checks (%d errors)", errors);
  if (loaded) {
    CHECK(y_seq_is(&d, y_path(&d, "services", "pg", "healthcheck", "test", NULL), got, sizeof got, "CMD", "pg_isready",
                   "-q", NULL) &&
              y_path(&d, "services", "pg", "volumes", NULL) == NULL,
          "compose: a lone exec check is the user's command, with no probe (%s)", got);
    CHECK(y_seq_is(&d, y_path(&d, "services", "tls", "healthcheck", "test", NULL), got, sizeof got, "CMD",
                   "/.aspirec/probe", "--timeout=1500ms", "tcp", "8443", NULL),
          "compose: an https check connects only (the probe has no TLS), as in run mode (%s)", got);
    yaml_document_delete(&d);
  }
  char probe[512];
  struct stat st;
  snprintf(probe, sizeof probe, "%s/.aspirec/probe", f.dir);
  CHECK(stat(probe, &st) == 0 && (st.st_mode & 0777) == 0755, "output: the probe is 0755 under umask 077 (%o)",
        (unsigned)(st.st_mode & 0777));

  /* On stdout there is no directory to copy it to: the YAML names the binary. */
  errors = emit_load(&f, true, &d, &loaded);
  char *abs = realpath(APX_PROBE_BUILT, NULL);
  char want[1024];
  snprintf(want, sizeof want, "%s:/.aspirec/probe:ro", abs ? abs : "?");
  free(abs);
  CHECK(errors == 0 && loaded &&
            y_seq_is(&d, y_path(&d, "services", "tls", "volumes", NULL), got, sizeof got, want, NULL),
        "compose: on stdout the bind's source is the probe binary itself (%s)", got);
  if (loaded) yaml_document_delete(&d);

  /* No probe binary: an error that names it, and nothing written. */
  rm_rf(probe);
  setenv("APX_PROBE", "/nonexistent/aspirec-probe", 1);
  size_t before = f.diag.errors;
  apx_output *out = apx_output_new(f.dir);
  errors = apx_emit_compose(m, out);
  apx_output_free(out);
  unsetenv("APX_PROBE");
  bool named = false;
  for (size_t i = 0; i < f.diag.n; i++)
    if (strstr(f.diag.items[i].message, "cannot read the health-check probe /nonexistent/aspirec-probe")) named = true;
  CHECK(errors == 1 && f.diag.errors == before + 1 && named, "compose: a missing probe binary is an error naming it");
  fixture_free(&f);
}

static void test_output_errors(void) {
  char dir[] = "/tmp/apx-test-output-XXXXXX";
  if (!mkdtemp(dir)) return;
  char file[512], sub[600];
  snprintf(file, sizeof file, "%s/afile", dir);
  write_file(file, "x");
  snprintf(sub, sizeof sub, "%s/afile/out", dir);
  apx_output *o = apx_output_new(sub);
  apx_output_add(o, "a.txt", "a", 1);
  fprintf(stderr, "(expected error follows)\n");
  CHECK(apx_output_commit(o) == -1, "output: an output directory that cannot be created fails");
  apx_output_free(o);

  o = apx_output_new(dir);
  apx_output_add(o, "first.txt", "1", 1);
  apx_output_add(o, "../escape.txt", "2", 1);
  fprintf(stderr, "(expected error follows)\n");
  CHECK(apx_output_commit(o) == -1, "output: a path outside the output directory is refused");
  char p[600];
  snprintf(p, sizeof p, "%s/first.txt", dir);
  CHECK(access(p, F_OK) != 0 && count_temp_files(dir) == 0, "output: a failed commit leaves no file and no temp file");
  apx_output_free(o);

  o = apx_output_new(dir);
  apx_output_add(o, "templates/api/deploy.yaml", "k: v\n", 5);
  apx_output_add(o, ".env", "A=1\n", 4);
  apx_output_add(o, ".env", "A=2\n", 4);
  CHECK(apx_output_commit(o) == 0, "output: subdirectories are created");
  snprintf(p, sizeof p, "%s/templates/api/deploy.yaml", dir);
  char *t = read_file(p, NULL);
  CHECK(t && strcmp(t, "k: v\n") == 0, "output: nested file written");
  free(t);
  snprintf(p, sizeof p, "%s/.env", dir);
  t = read_file(p, NULL);
  struct stat st;
  CHECK(t && strcmp(t, "A=2\n") == 0 && stat(p, &st) == 0 && (st.st_mode & 0777) == 0600,
        "output: a file added twice keeps the last version; a new .env is private (0600)");
  free(t);
  size_t n = 0;
  char *e = apx_output_read_existing(o, ".env", &n);
  CHECK(e && n == 4, "output: read_existing reads a file of the output directory");
  free(e);
  apx_output_free(o);
  rm_rf(dir);
}

/* A streamed file: on disk only under its temporary name until commit;
 * never committed, it and the directories made for it are gone. */
static void test_output_stream(void) {
  char dir[] = "/tmp/apx-test-stream-XXXXXX";
  if (!mkdtemp(dir)) return;
  char out[600], p[700];
  snprintf(out, sizeof out, "%s/new/out", dir);
  apx_output *o = apx_output_new(out);
  FILE *f = apx_output_stream(o, "big.yaml");
  CHECK(f != NULL, "output: a stream opens in a directory that does not exist yet");
  if (f) fputs("a: 1\n", f);
  snprintf(p, sizeof p, "%s/big.yaml", out);
  CHECK(access(p, F_OK) != 0 && count_temp_files(out) == 1, "output: a streamed file is only a temp file before commit");
  apx_output_free(o);
  snprintf(p, sizeof p, "%s/new", dir);
  CHECK(access(p, F_OK) != 0, "output: never committed, the stream's file and the directories made for it are gone");

  o = apx_output_new(out);
  f = apx_output_stream(o, "big.yaml");
  if (f) fputs("a: 1\n", f);
  apx_output_add(o, ".env", "A=1\n", 4);
  CHECK(apx_output_commit(o) == 0, "output: commit with a streamed file succeeds");
  apx_output_free(o);
  snprintf(p, sizeof p, "%s/big.yaml", out);
  char *t = read_file(p, NULL);
  CHECK(t && strcmp(t, "a: 1\n") == 0 && count_temp_files(out) == 0, "output: the streamed file is renamed into place");
  free(t);

  /* Streamed twice: the second replaces the first, whose temp file goes. */
  o = apx_output_new(out);
  f = apx_output_stream(o, "big.yaml");
  if (f) fputs("old\n", f);
  f = apx_output_stream(o, "big.yaml");
  if (f) fputs("b: 2\n", f);
  CHECK(count_temp_files(out) == 1, "output: a file streamed again drops the first temp file");
  CHECK(apx_output_commit(o) == 0, "output: second commit succeeds");
  apx_output_free(o);
  t = read_file(p, NULL);
  CHECK(t && strcmp(t, "b: 2\n") == 0, "output: the last stream wins");
  free(t);

  o = apx_output_new("-");
  CHECK(apx_output_stream(o, "big.yaml") == NULL, "output: no stream in stdout mode (kept in memory)");
  apx_output_free(o);
  rm_rf(dir);
}

/* The parts of a file written at once: an unlinked scratch file appended
 * to a stream, which then goes on at its end. */
static void test_output_scratch(void) {
  char dir[] = "/tmp/apx-test-scratch-XXXXXX";
  if (!mkdtemp(dir)) return;
  apx_output *o = apx_output_new(dir);
  FILE *f = apx_output_stream(o, "big.yaml");
  FILE *part = apx_output_scratch(o);
  int entries = 0;
  DIR *d = opendir(dir);
  for (struct dirent *e; d && (e = readdir(d));) entries += e->d_name[0] != '.' || strstr(e->d_name, ".tmp.") ? 1 : 0;
  if (d) closedir(d);
  CHECK(f && part && entries == 1, "output: a scratch file has no name in the output directory (%d entries)", entries);
  bool ok = false;
  if (f && part) {
    fputs("head\n", f);
    /* More than one copy_file_range chunk is not needed: 200 KB. */
    for (int i = 0; i < 20000; i++) fprintf(part, "line %05d\n", i);
    fflush(part);
    fflush(f);
    /* In two steps, as compose copies a part while it grows. */
    off_t from = 0;
    ok = apx_output_append(f, fileno(part), &from, 100000) && from == 100000 &&
         apx_output_append(f, fileno(part), &from, 20000 * 11) && from == 20000 * 11;
    fputs("tail\n", f);
  }
  if (part) fclose(part);
  CHECK(ok && apx_output_commit(o) == 0, "output: a scratch file appended to a stream in two ranges, then committed");
  apx_output_free(o);
  char p[600];
  snprintf(p, sizeof p, "%s/big.yaml", dir);
  size_t n = 0;
  char *t = read_file(p, &n);
  CHECK(t && n == 5 + 20000 * 11 + 5 && strncmp(t, "head\nline 00000\n", 16) == 0 &&
            strncmp(t + n - 16, "line 19999\ntail\n", 16) == 0,
        "output: the appended part sits between what the stream wrote before and after (%zu bytes)", n);
  free(t);
  o = apx_output_new("-");
  CHECK(apx_output_scratch(o) == NULL, "output: no scratch file in stdout mode");
  apx_output_free(o);
  rm_rf(dir);
}

/* One document emitted whole and split between two emitters (a fragment
 * continues after "k:"): the same bytes. A pause where libyaml still
 * looks ahead, or a fragment whose prefix differs, fails. */
static char *yaml_file_text(FILE *f, size_t *n) {
  fflush(f);
  long len = ftell(f);
  char *t = calloc((size_t)len + 1, 1);
  rewind(f);
  *n = fread(t, 1, (size_t)len, f);
  return t;
}

static void yaml_entries(apx_yaml *y, int from, int to) {
  char k[16];
  for (int i = from; i < to; i++) {
    snprintf(k, sizeof k, "e%d", i);
    apx_yaml_key(y, k);
    apx_yaml_begin_map(y);
    apx_yaml_kv_str(y, "image", "x");
    apx_yaml_key(y, "list");
    apx_yaml_begin_flow_seq(y);
    apx_yaml_str(y, "a");
    apx_yaml_end_seq(y);
    apx_yaml_end_map(y);
  }
}

static void test_yaml_fragment(void) {
  FILE *whole = tmpfile(), *first = tmpfile(), *second = tmpfile();
  if (!whole || !first || !second) return;
  apx_yaml y;
  apx_yaml_init_file(&y, whole);
  apx_yaml_begin_map(&y);
  apx_yaml_key(&y, "k");
  apx_yaml_begin_map(&y);
  yaml_entries(&y, 0, 6);
  apx_yaml_end_map(&y);
  apx_yaml_kv_str(&y, "after", "z");
  apx_yaml_end_map(&y);
  bool ok = apx_yaml_finish(&y, NULL) != NULL;
  apx_yaml_free(&y);

  apx_yaml a, b;
  apx_yaml_init_file(&a, first);
  apx_yaml_begin_map(&a);
  apx_yaml_key(&a, "k");
  apx_yaml_begin_map(&a);
  yaml_entries(&a, 0, 3);
  ok = apx_yaml_pause(&a) && ok;
  apx_yaml_init_fragment(&b, second, "k:");
  apx_yaml_begin_map(&b);
  apx_yaml_key(&b, "k");
  apx_yaml_begin_map(&b);
  yaml_entries(&b, 3, 6);
  ok = apx_yaml_pause(&b) && ok;
  apx_yaml_free(&b);
  size_t n2;
  char *t2 = yaml_file_text(second, &n2);
  fflush(first);
  fseek(first, 0, SEEK_END);
  fwrite(t2, 1, n2, first);
  apx_yaml_end_map(&a);
  apx_yaml_kv_str(&a, "after", "z");
  apx_yaml_end_map(&a);
  ok = apx_yaml_finish(&a, NULL) != NULL && ok;
  apx_yaml_free(&a);
  size_t n0, n1;
  char *t0 = yaml_file_text(whole, &n0), *t1 = yaml_file_text(first, &n1);
  CHECK(ok && n0 == n1 && memcmp(t0, t1, n0) == 0 && strstr(t0, "  e5:\n"),
        "yaml: a document split between two emitters is the bytes of one (%zu, %zu)", n0, n1);
  free(t0);
  free(t1);
  free(t2);

  /* Right after the start of a mapping libyaml holds the event back. */
  rewind(second);
  apx_yaml_init_file(&a, second);
  apx_yaml_begin_map(&a);
  apx_yaml_key(&a, "k");
  apx_yaml_begin_map(&a);
  bool held = !apx_yaml_pause(&a) && a.error && strstr(a.error, "holds events back");
  apx_yaml_free(&a);
  rewind(second);
  apx_yaml_init_fragment(&b, second, "other:");
  apx_yaml_begin_map(&b);
  apx_yaml_key(&b, "k");
  apx_yaml_begin_map(&b);
  yaml_entries(&b, 0, 1);
  bool differs = !apx_yaml_pause(&b) && b.error && strstr(b.error, "differs");
  apx_yaml_free(&b);
  CHECK(held && differs, "yaml: no pause while libyaml looks ahead; a fragment's prefix is checked");
  fclose(whole);
  fclose(first);
  fclose(second);
}

static void test_yaml_quoting(void) {
  const char *quoted[] = {"", "no", "No", "yes", "on", "off", "true", "null", "~", "y", "8080", "8080:80", "1.5",
                          "-1", ".5", "1e3", "0x1F", "2001-12-14", ".inf", "<<"};
  const char *plain[] = {"nginx", "--apply", "-c", "http://api:8080", "service_healthy", "/data", "${X}"};
  bool ok = true;
  for (size_t i = 0; i < sizeof quoted / sizeof *quoted; i++)
    if (!apx_yaml_needs_quotes(quoted[i], strlen(quoted[i]))) {
      ok = false;
      printf("# should be quoted: '%s'\n", quoted[i]);
    }
  for (size_t i = 0; i < sizeof plain / sizeof *plain; i++)
    if (apx_yaml_needs_quotes(plain[i], strlen(plain[i]))) {
      ok = false;
      printf("# should be plain: '%s'\n", plain[i]);
    }
  CHECK(ok, "yaml: strings YAML 1.1 would read as other types are quoted, others are not");

  apx_yaml y;
  apx_yaml_init(&y);
  apx_yaml_begin_map(&y);
  apx_yaml_kv_str(&y, "a", "x: y # z");
  apx_yaml_kv_str(&y, "b", "line1\nline2");
  apx_yaml_kv_int(&y, "c", 42);
  apx_yaml_kv_bool(&y, "d", true);
  apx_yaml_kv_str(&y, "e", "ünïcode");
  apx_yaml_end_map(&y);
  size_t len;
  const char *text = apx_yaml_finish(&y, &len);
  yaml_document_t d;
  bool ok2 = text && y_load(&d, text, len);
  if (ok2) {
    ok2 = y_is(y_path(&d, "a", NULL), "x: y # z") && y_is(y_path(&d, "b", NULL), "line1\nline2") &&
          y_is(y_path(&d, "c", NULL), "42") && y_is(y_path(&d, "e", NULL), "ünïcode") && strstr(text, "c: 42\n") &&
          strstr(text, "d: true\n");
    yaml_document_delete(&d);
  }
  CHECK(ok2, "yaml: special characters round-trip through libyaml");
  apx_yaml_free(&y);
}

static void test_dot(void) {
  fixture f;
  fixture_init(&f, "shop", "compose");
  build_shop(&f);
  apx_resource *odd = res(&f, "we\"ird\\", APX_KIND_CONTAINER, NULL);
  odd->image = str(f.m, "x");
  apx_output *out = apx_output_new(f.dir);
  CHECK(apx_emit_dot(f.m, out) == 0, "dot: emits");
  CHECK(apx_output_commit(out) == 0, "dot: commit");
  apx_output_free(out);
  char p[512];
  snprintf(p, sizeof p, "%s/graph.dot", f.dir);
  char *t = read_file(p, NULL);
  CHECK(t && strncmp(t, "digraph \"shop\" {", 16) == 0, "dot: digraph named after the app");
  CHECK(t && strstr(t, "subgraph \"cluster_db\"") && strstr(t, "\"catalog\" [label=\"catalog\\ndatabase (external)\""),
        "dot: a child sits in a cluster with its parent");
  CHECK(t && strstr(t, "\"api\" -> \"catalog\" [style=dashed];") && strstr(t, "\"api\" -> \"catalog\";") &&
            strstr(t, "\"worker\" -> \"migrate\" [label=\"completion\"];") &&
            strstr(t, "\"gateway\" -> \"web\" [label=\"start\"];"),
        "dot: edges by dependency kind");
  CHECK(t && strstr(t, "external http :8080"), "dot: external endpoints are noted");
  CHECK(t && strstr(t, "\"we\\\"ird\\\\\" [label=\"we\\\"ird\\\\\\ncontainer\""), "dot: quotes and backslashes escaped");
  free(t);
  fixture_free(&f);
}

static void test_registry(void) {
  const apx_backend *b = apx_backend_find("compose");
  CHECK(b && b->emit == apx_emit_compose && apx_backend_find("ir") && apx_backend_find("dot") &&
            !apx_backend_find("nope") && apx_backends_len >= 3,
        "registry: compose, ir and dot are registered");
}

/* APX_TEST_OUTDIR=DIR: also write the shop's compose, dot and ir outputs
 * there, to check them with docker-compose, the schema and dot by hand. */
static void keep_outputs(const char *dir) {
  fixture f;
  fixture_init(&f, "shop", "compose");
  build_shop(&f);
  mkdir(dir, 0777);
  char *abs = realpath(dir, NULL);
  if (!abs) return;
  /* Paths in the module point into the fixture's directory: move them. */
  f.m->main_dir = abs;
  for (size_t i = 0; i < f.m->nresources; i++) {
    apx_resource *r = f.m->resources[i];
    if (r->build) r->build->context_abs = apx_arena_printf(f.arena, "%s/shop/%s", abs, r->name);
    for (size_t k = 0; k < r->nbinds; k++) r->binds[k].source_abs = apx_arena_printf(f.arena, "%s/data", abs);
  }
  apx_output *out = apx_output_new(abs);
  apx_emit_compose(f.m, out);
  apx_emit_dot(f.m, out);
  apx_emit_ir(f.m, out);
  apx_output_commit(out);
  apx_output_free(out);
  free(abs);
  fixture_free(&f);
}

int main(void) {
  if (getenv("APX_TEST_OUTDIR")) keep_outputs(getenv("APX_TEST_OUTDIR"));
  test_yaml_quoting();
  test_compose_shop();
  test_compose_errors();
  test_compose_stdout();
  test_compose_probe();
  test_output_errors();
  test_output_stream();
  test_output_scratch();
  test_yaml_fragment();
  test_dot();
  test_registry();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
