/* The public interface, used the way a plugin or tool would: only
 * include/aspirec.h, no IR internals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "include/aspirec.h"

int main(void) {
  CHECK(apx_api_version() == APX_API_VERSION, "the library reports the header's API version");
  const char *params[] = {"pg_password=s3cret"};
  apx_api_compilation *c = apx_api_compile(APX_SRCDIR "/examples/shop.apx", NULL, 0, params, 1);
  CHECK(c && apx_api_errors(c) == 0, "the shop compiles through the public API");
  apx_module *m = apx_api_module(c);
  CHECK(strcmp(apx_module_app_name(m), "shop") == 0, "app name");
  apx_resource *api = apx_module_resource_find(m, "api");
  CHECK(api && strcmp(apx_resource_kind(api), "project") == 0, "api is a project");
  CHECK(api && strstr(apx_api_location(c, api), "shop.apx:") != NULL, "location is file:line:col (%s)",
        api ? apx_api_location(c, api) : "-");
  apx_resource *catalog = apx_module_resource_find(m, "catalog");
  apx_resource *db = apx_module_resource_find(m, "db");
  CHECK(catalog && apx_resource_parent(catalog) == db && strcmp(apx_resource_type(catalog), "database") == 0,
        "a child resource with its parent");
  size_t nwait = 0;
  for (size_t i = 0; api && i < apx_resource_dep_count(api); i++)
    if (strcmp(apx_resource_dep_kind(api, i), "wait_for") == 0) nwait++;
  CHECK(nwait == 2, "api waits for two resources (got %zu)", nwait);
  const apx_value *cs = NULL;
  for (size_t i = 0; api && i < apx_resource_env_count(api); i++)
    if (strcmp(apx_resource_env_key(api, i), "ConnectionStrings__catalog") == 0) cs = apx_resource_env_value(api, i);
  CHECK(cs && strcmp(apx_value_type(cs), "template") == 0 && apx_value_part_count(cs) == 1 &&
            apx_value_part_ref(cs, 0) == catalog && strcmp(apx_value_part_prop(cs, 0), "connection_string") == 0,
        "an injected reference stays symbolic: a template referring to catalog's connection string");
  CHECK(api && apx_resource_endpoint_count(api) == 1 && strcmp(apx_resource_endpoint_name(api, 0), "http") == 0 &&
            apx_resource_endpoint_target_port(api, 0) == 8080,
        "endpoint accessors");
  CHECK(apx_module_resource_at(m, apx_module_resource_count(m)) == NULL, "out of range gives NULL");
  apx_api_free(c);

  c = apx_api_compile(APX_SRCDIR "/examples/bad-names.apx", NULL, 0, NULL, 0);
  char *diags = apx_api_diagnostics(c);
  CHECK(apx_api_errors(c) == 3 && diags && strstr(diags, "did you mean 'db'?"), "errors and diagnostics");
  free(diags);
  apx_api_free(c);

  /* The library's search path is the CLI's: -I directories, APX_PATH, the
   * standard library (once the CLI had its own and the API ignored APX_PATH). */
  char dir[] = "/tmp/apx-api-XXXXXX";
  if (mkdtemp(dir)) {
    char lib[64], main_path[64];
    snprintf(main_path, sizeof main_path, "%s/app.apx", dir);
    char libdir[64];
    snprintf(libdir, sizeof libdir, "%s/lib", dir);
    mkdir(libdir, 0700);
    snprintf(lib, sizeof lib, "%s/lib/teamlib.apx", dir);
    FILE *f = fopen(lib, "w");
    if (f) fputs("container cache { image = \"redis:7.2\" }\n", f), fclose(f);
    f = fopen(main_path, "w");
    if (f) fputs("import \"teamlib\"\nexecutable tool { command = \"true\" }\n", f), fclose(f);
    c = apx_api_compile(main_path, NULL, 0, NULL, 0);
    CHECK(apx_api_errors(c) == 1, "without APX_PATH a bare import outside the stdlib is not found");
    apx_api_free(c);
    setenv("APX_PATH", libdir, 1);
    c = apx_api_compile(main_path, NULL, 0, NULL, 0);
    CHECK(apx_api_errors(c) == 0 && apx_module_resource_find(apx_api_module(c), "cache") != NULL,
          "the API finds a bare import through APX_PATH");
    apx_api_free(c);
    unsetenv("APX_PATH");
    const char *inc[] = {libdir};
    c = apx_api_compile(main_path, inc, 1, NULL, 0);
    CHECK(apx_api_errors(c) == 0, "and through its include directories");
    apx_api_free(c);
    unlink(lib);
    unlink(main_path);
    rmdir(libdir);
    rmdir(dir);
  } else {
    CHECK(0, "mkdtemp");
  }
  /* The error limit: 30 errors, 5 kept, all 30 counted; 0 keeps them all. */
  char path[] = "/tmp/apx-test-api-XXXXXX";
  int fd = mkstemp(path);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  for (int i = 0; f && i < 30; i++) fprintf(f, "container c%d { image = \"x\"  references = [nothere%d] }\n", i, i);
  if (f) fclose(f);
  for (size_t limit = 0; limit <= 5; limit += 5) {
    c = apx_api_compile_limit(path, NULL, 0, NULL, 0, limit);
    diags = apx_api_diagnostics(c);
    size_t shown = 0;
    for (const char *p = diags; p && (p = strstr(p, ": error: ")); p++) shown++;
    const char *more = diags ? strstr(diags, "25 more errors not shown") : NULL;
    CHECK(apx_api_errors(c) == 30 && apx_api_warnings(c) == 0 && shown == (limit ? 5u : 30u) && (limit ? more != NULL : more == NULL),
          "error limit %zu: %zu of 30 errors shown, all counted", limit, shown);
    free(diags);
    apx_api_free(c);
  }
  unlink(path);

  /* Version 3: options, targets, emit. */
  apx_api_options *o = apx_api_options_new();
  CHECK(o && apx_api_options_param(o, "pg_password=s3cret") == 0 && apx_api_options_param(o, "novalue") != 0 &&
            apx_api_options_error(o) && strstr(apx_api_options_error(o), "NAME=VALUE"),
        "options: a parameter is NAME=VALUE, else an error that says so");
  CHECK(apx_api_options_plugin(o, "/nonexistent/p.so") != 0 && strstr(apx_api_options_error(o), "no such file"),
        "options: a plugin that is not there fails with the reason (%s)", apx_api_options_error(o));
  CHECK(apx_api_options_plugin_arg(o, "no-colon") != 0, "options: a plugin argument without PLUGIN: is refused");
  bool has_compose = false;
  for (size_t i = 0; i < apx_api_target_count(o); i++)
    if (strcmp(apx_api_target_name(o, i), "compose") == 0) has_compose = true;
  CHECK(has_compose && apx_api_target_name(o, apx_api_target_count(o)) == NULL && apx_api_target_count(NULL) > 5,
        "targets: the built-in back ends are listed (%zu), then NULL", apx_api_target_count(o));
  c = apx_api_compile_with(APX_SRCDIR "/examples/shop.apx", o);
  CHECK(c && apx_api_errors(c) == 0, "apx_api_compile_with: the shop compiles with -p given as an option");
  char out[] = "/tmp/apx-api-emit-XXXXXX";
  if (c && mkdtemp(out)) {
    char file[128];
    snprintf(file, sizeof file, "%s/sub/docker-compose.yaml", out);
    char sub[96];
    snprintf(sub, sizeof sub, "%s/sub", out);
    CHECK(apx_api_emit(c, "compose", sub) == 0 && access(file, F_OK) == 0,
          "apx_api_emit writes the Compose project into the directory");
    CHECK(apx_api_emit(c, "nope", sub) == 2, "apx_api_emit: an unknown target is 2");
    diags = apx_api_diagnostics(c);
    CHECK(diags && strstr(diags, "unknown target 'nope'"), "and the diagnostics say which");
    free(diags);
    CHECK(apx_api_emit(c, "compose", sub) == 1, "after an error nothing more is emitted (1)");
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
    if (system(cmd) != 0) CHECK(0, "rm -rf %s", out);
  }
  apx_api_free(c);
  apx_api_options_error_limit(o, 0);
  c = apx_api_compile_with(APX_SRCDIR "/examples/bad-names.apx", o);
  CHECK(c && apx_api_errors(c) >= 3 && apx_api_emit(c, "compose", "/tmp/apx-api-never") == 1 &&
            access("/tmp/apx-api-never", F_OK) != 0,
        "a program with errors: apx_api_emit writes nothing and returns 1");
  apx_api_free(c);
  apx_api_options_free(o);
  o = apx_api_options_new();
  CHECK(apx_api_options_plugin_arg(o, "ghost:key=v") == 0 && apx_api_compile_with(APX_SRCDIR "/examples/shop.apx", o) == NULL &&
            strstr(apx_api_options_error(o), "no plugin named 'ghost'"),
        "a plugin argument for no loaded plugin: no compilation, and the reason (%s)", apx_api_options_error(o));
  apx_api_options_free(o);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
