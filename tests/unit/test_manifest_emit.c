/* Unit tests for --emit=manifest (backends/manifest.c) on modules built by
 * hand, read back with cJSON: what no program can reach through the passes
 * (connection strings that refer to each other in a cycle: validate stops
 * those first), bindings' port rules, the generate input of every option,
 * and a secret's compile-time value in no file. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "base/buf.h"
#include "base/output.h"
#include "ir/ir.h"

#include "check.h"

typedef struct fixture {
  apx_arena *arena;
  apx_diag diag;
  apx_options opts;
  apx_module *m;
  apx_loc loc;
} fixture;

static void fixture_init(fixture *f) {
  memset(f, 0, sizeof *f);
  f->arena = apx_arena_new();
  apx_diag_init(&f->diag, f->arena);
  static const char src[] = "// app.apx\ncontainer db {}\n";
  uint32_t file = apx_diag_add_source(&f->diag, "app.apx", src, sizeof src - 1);
  f->loc = (apx_loc){file, 11, 15};
  f->m = apx_ir_module_new(f->arena, &f->diag, &f->opts);
  f->m->app_name = "app";
  f->m->main_dir = "/srv/app";
}

static apx_resource *res(fixture *f, const char *name, apx_kind kind) {
  apx_resource *r = apx_ir_resource_new(f->m, name, f->loc);
  r->kind = kind;
  r->type = apx_ir_kind_name(kind);
  r->typed = true;
  r->publish = true;
  r->replicas = 1;
  apx_ir_resource_add(f->m, r);
  return r;
}

static void endpoint(fixture *f, apx_resource *r, const char *name, const char *scheme, int port, int target) {
  apx_endpoint e = {0};
  e.name = name;
  e.loc = f->loc;
  e.port = port;
  e.target_port = target;
  e.scheme = scheme;
  e.protocol = "tcp";
  apx_ir_endpoint_add(f->m, r, &e);
}

/* The manifest of the module, parsed (NULL when no file was added). */
static cJSON *emit(fixture *f, int *errors, char **text) {
  apx_output *o = apx_output_new("unused-dir");
  *errors = apx_emit_manifest(f->m, o);
  size_t len;
  const char *data = apx_output_data(o, 0, &len);
  cJSON *doc = data ? cJSON_ParseWithLength(data, len) : NULL;
  if (text) *text = data ? strndup(data, len) : NULL;
  apx_output_free(o);
  return doc;
}

static bool has_diag(const apx_diag *d, apx_diag_level level, const char *needle) {
  for (size_t i = 0; i < d->n; i++)
    if (d->items[i].level == level && strstr(d->items[i].message, needle)) return true;
  return false;
}

static const cJSON *at(const cJSON *o, const char *a, const char *b, const char *c) {
  const char *keys[] = {a, b, c};
  for (size_t i = 0; i < 3 && keys[i] && o; i++) o = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
  return o;
}

static void test_cycle(void) {
  fixture f;
  fixture_init(&f);
  /* Executables carry no connectionString, so theirs are written out where
   * used: a cycle between two would never end without the depth bound. */
  apx_resource *a = res(&f, "a", APX_KIND_EXECUTABLE), *b = res(&f, "b", APX_KIND_EXECUTABLE);
  a->command = apx_ir_string(f.m, "./a", f.loc);
  b->command = apx_ir_string(f.m, "./b", f.loc);
  a->connection_string = apx_ir_ref_template(f.m, b, APX_PROP_CONNECTION_STRING, NULL, f.loc);
  b->connection_string = apx_ir_ref_template(f.m, a, APX_PROP_CONNECTION_STRING, NULL, f.loc);
  apx_resource *web = res(&f, "web", APX_KIND_CONTAINER);
  web->image = apx_ir_string(f.m, "nginx:1", f.loc);
  apx_ir_env_set(f.m, web, "A", apx_ir_ref_template(f.m, a, APX_PROP_CONNECTION_STRING, NULL, f.loc), f.loc);
  int errors;
  cJSON *doc = emit(&f, &errors, NULL);
  CHECK(errors == 1 && has_diag(&f.diag, APX_DIAG_ERROR, "cannot write environment variable A of 'web'") &&
            has_diag(&f.diag, APX_DIAG_ERROR, "in a cycle"),
        "a cycle of connection strings is one error naming the variable and the cycle (%d errors)", errors);
  CHECK(doc == NULL, "after an error no manifest is added to the output");
  cJSON_Delete(doc);
  apx_arena_free(f.arena);
}

static void test_bindings_and_params(void) {
  fixture f;
  fixture_init(&f);
  apx_resource *pw = res(&f, "pw", APX_KIND_PARAM);
  pw->param = APX_NEW(f.arena, apx_param);
  pw->param->secret = true;
  pw->param->value = "s3cr3t-Value";
  pw->param->source = APX_PARAM_FROM_CLI;
  pw->param->has_generate = true;
  pw->param->generate = (apx_generate){40, false, true, true, true, 0, 3, 4, 5};
  apx_resource *api = res(&f, "api", APX_KIND_CONTAINER);
  api->image = apx_ir_string(f.m, "api:1", f.loc);
  endpoint(&f, api, "http", "http", 8080, 8080);
  endpoint(&f, api, "admin", "https", 443, 8443);
  endpoint(&f, api, "rpc", "grpc", 0, 5000);
  api->endpoints[1].external = true;
  apx_ir_env_set(f.m, api, "PW", apx_ir_ref_template(f.m, pw, APX_PROP_VALUE, NULL, f.loc), f.loc);
  api->connection_string = apx_ir_ref_template(f.m, api, APX_PROP_EP_URL, "rpc", f.loc);
  int errors;
  char *text = NULL;
  cJSON *doc = emit(&f, &errors, &text);
  CHECK(errors == 0 && doc, "emits and parses back");
  const cJSON *b = at(doc, "resources", "api", "bindings");
  CHECK(at(b, "http", "targetPort", NULL) && cJSON_GetNumberValue(at(b, "http", "targetPort", NULL)) == 8080 &&
            !at(b, "http", "port", NULL),
        "a port equal to the target port is not written (as Aspire)");
  CHECK(cJSON_GetNumberValue(at(b, "admin", "port", NULL)) == 443 &&
            cJSON_GetNumberValue(at(b, "admin", "targetPort", NULL)) == 8443 && cJSON_IsTrue(at(b, "admin", "external", NULL)) &&
            !at(b, "http", "external", NULL),
        "a different port is written, external only when true");
  CHECK(strcmp(cJSON_GetStringValue(at(b, "rpc", "transport", NULL)), "http2") == 0 &&
            strcmp(cJSON_GetStringValue(at(b, "admin", "transport", NULL)), "http") == 0,
        "grpc's transport is http2, https's http");
  CHECK(strcmp(cJSON_GetStringValue(at(doc, "resources", "api", "connectionString")), "{api.bindings.rpc.url}") == 0,
        "an endpoint URL is {x.bindings.e.url}, not scheme://host:port");
  const cJSON *g = at(at(doc, "resources", "pw", "inputs"), "value", "default", "generate");
  char *gs = g ? cJSON_PrintUnformatted(g) : NULL;
  CHECK(gs && strcmp(gs, "{\"minLength\":40,\"lower\":false,\"minUpper\":3,\"minNumeric\":4,\"minSpecial\":5}") == 0,
        "generate: minLength, the classes that are off, the minimums that are set (%s)", gs ? gs : "none");
  free(gs);
  CHECK(text && !strstr(text, "s3cr3t-Value"), "a secret's compile-time value is in no file");
  CHECK(has_diag(&f.diag, APX_DIAG_WARNING, "secret parameter 'pw' is not written"), "and a warning says so");
  CHECK(text && strstr(text, "\"PW\":\t\"{pw.value}\""), "a parameter in env is {pw.value}");
  free(text);
  cJSON_Delete(doc);
  apx_arena_free(f.arena);
}

int main(void) {
  test_cycle();
  test_bindings_and_params();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
