/* Plugins for the tests of tests/plugins/, one per -DMODE_NAME. */
#include <aspirec/plugin.h>
#include <stdio.h>
#include <string.h>

#define noloc ((apx_plugin_loc){0, 0, 0})

#if defined(MODE_ORDER)
/* Passes at named places: each prints its name and what it sees. */
static int say(const apx_plugin_api *api, apx_module *m, void *ud) {
  /* web's env is read by typecheck; enrich adds its references' */
  apx_resource *r = api->resource_find(m, "web");
  printf("pass %s (web env %zu)\n", (const char *)ud, r ? api->env_count(r) : 0);
  return 0;
}
static int reg(const apx_plugin_api *api, apx_plugin_host *h) {
  int rc = 0;
  rc |= api->register_pass(h, "t-before-validate", "test", APX_PLUGIN_BEFORE, "validate", say, "t-before-validate");
  rc |= api->register_pass(h, "t-after-resolve", "test", APX_PLUGIN_AFTER, "resolve", say, "t-after-resolve");
  rc |= api->register_pass(h, "t-after-resolve-2", "test", APX_PLUGIN_AFTER, "resolve", say, "t-after-resolve-2");
  rc |= api->register_pass(h, "t-after-enrich", "test", APX_PLUGIN_AFTER, "enrich", say, "t-after-enrich");
  rc |= api->register_pass(h, "t-before-resolve", "test", APX_PLUGIN_BEFORE, "resolve", say, "t-before-resolve");
  /* relative to a plugin pass */
  rc |= api->register_pass(h, "t-before-t-after-enrich", "test", APX_PLUGIN_BEFORE, "t-after-enrich", say,
                           "t-before-t-after-enrich");
  return rc;
}
#define NAME "order"

#elif defined(MODE_ADD)
/* Before enrich: adds a container that references api (enrich then gives it
 * api's environment), and rewrites api's CACHE template around its
 * reference, which stays symbolic. */
static int add(const apx_plugin_api *api, apx_module *m, void *ud) {
  (void)ud;
  apx_resource *web = api->resource_find(m, "web");
  apx_resource *cache = api->resource_find(m, "cache");
  apx_resource *s = api->resource_add(m, "container", "sidecar", api->resource_loc(web));
  if (!s) return 1;
  api->resource_set_image(m, s, api->value_new_string(m, "example.com/sidecar:1.2"));
  api->endpoint_add(m, s, "metrics", "http", 0, 9100, false);
  api->dep_add(m, s, "reference", web);
  apx_plugin_template *t = api->template_new(m);
  api->template_text(t, "http://");
  if (!api->template_ref(t, web, "endpoint.host", "http")) api->error(m, noloc, "no endpoint.host");
  api->template_text(t, ":");
  if (!api->template_ref(t, web, "endpoint.port", "http")) api->error(m, noloc, "no endpoint.port");
  api->template_text(t, "/metrics");
  api->env_set(m, s, "SCRAPE", api->template_finish(t));
  /* A template that names no endpoint the target has is refused. */
  apx_plugin_template *bad = api->template_new(m);
  if (api->template_ref(bad, web, "endpoint.host", "nope")) api->error(m, noloc, "a ref to no endpoint was taken");
  if (api->template_ref(bad, web, "no_such_prop", NULL)) api->error(m, noloc, "a ref to no property was taken");
#ifdef ADD_TWICE
  /* The same name twice is an error of its own, located. */
  if (api->resource_add(m, "container", "sidecar", api->resource_loc(web))) api->error(m, noloc, "added twice");
#endif

  /* CACHE = "redis://${cache...host}:${port}" becomes rediss://…/0 */
  const apx_value *old = api->env_find(web, "CACHE");
  apx_plugin_template *n = api->template_new(m);
  for (size_t i = 0; i < api->value_part_count(old); i++) {
    const char *text = api->value_part_text(old, i);
    if (text) api->template_text(n, strcmp(text, "redis://") == 0 ? "rediss://" : text);
    else api->template_ref(n, api->value_part_ref(old, i), api->value_part_prop(old, i),
                           api->value_part_endpoint(old, i));
  }
  api->template_text(n, "/0");
  api->env_set(m, web, "CACHE", api->template_finish(n));
  (void)cache;
  return 0;
}
static int reg(const apx_plugin_api *api, apx_plugin_host *h) {
  return api->register_pass(h, "add-sidecar", "adds a resource", APX_PLUGIN_BEFORE, "enrich", add, NULL);
}
#define NAME "add"

#elif defined(MODE_REMOVE)
/* Removes what nothing depends on; refuses the rest. */
static int rm(const apx_plugin_api *api, apx_module *m, void *ud) {
  (void)ud;
  apx_resource *lone = api->resource_find(m, "lone"), *cache = api->resource_find(m, "cache");
  if (!api->resource_remove(m, lone)) api->error(m, noloc, "lone was not removed");
  if (api->resource_find(m, "lone")) api->error(m, noloc, "lone is still found");
  if (api->resource_remove(m, cache)) api->error(m, noloc, "cache was removed although web references it");
  return 0;
}
static int reg(const apx_plugin_api *api, apx_plugin_host *h) {
  return api->register_pass(h, "rm", "removes a resource", APX_PLUGIN_AFTER, "validate", rm, NULL);
}
#define NAME "remove"

#elif defined(MODE_DUP)
/* A back end named like another: the second registration fails the load. */
static int emit(const apx_plugin_api *api, apx_module *m, apx_plugin_output *o, void *ud) {
  (void)ud;
  api->output_add(o, "x.txt", api->app_name(m), strlen(api->app_name(m)));
  return 0;
}
static int reg(const apx_plugin_api *api, apx_plugin_host *h) {
  return api->register_backend(h, DUP_NAME, "a duplicate", emit, NULL);
}
#define NAME "dup"

#elif defined(MODE_LEAK)
#include <stdlib.h>
/* Loses plugin-owned memory: the sanitizer build must say so (the check of
 * api.test.sh is real). */
static void *volatile kept;
static int leak(const apx_plugin_api *api, apx_module *m, void *ud) {
  (void)api; (void)m; (void)ud;
  kept = malloc(77);
  kept = NULL;
  return 0;
}
static int reg(const apx_plugin_api *api, apx_plugin_host *h) {
  return api->register_pass(h, "leak", "test", APX_PLUGIN_AFTER, "enrich", leak, NULL);
}
#define NAME "leak"

#elif defined(MODE_BADPLACE)
static int nop(const apx_plugin_api *api, apx_module *m, void *ud) { (void)api; (void)m; (void)ud; return 0; }
static int reg(const apx_plugin_api *api, apx_plugin_host *h) {
  return api->register_pass(h, "lost", "test", APX_PLUGIN_AFTER, "no-such-pass", nop, NULL);
}
#define NAME "badplace"
#endif

#ifndef MODE_NOENTRY
#ifndef ABI
#define ABI APX_PLUGIN_ABI_VERSION
#endif
const apx_plugin_info *aspirec_plugin_info(void) {
  static const apx_plugin_info info = {ABI, NAME, "0.1", reg};
  return &info;
}
#else
int not_the_entry_point(void);
int not_the_entry_point(void) { return 0; }
#endif
