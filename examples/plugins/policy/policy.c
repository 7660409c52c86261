/* A policy pass (doc/plugins.md): every container image carries a pinned
 * tag or a digest, and every external endpoint has a health check. Runs
 * after enrich: images are checked and health checks have their endpoint. */
#include <aspirec/plugin.h>
#include <string.h>

/* The tag of an image reference: after the last ':' that follows the last
 * '/' (a registry's ":5000" is not a tag). NULL: none. */
static const char *image_tag(const char *img) {
  const char *slash = strrchr(img, '/');
  const char *colon = strrchr(slash ? slash : img, ':');
  return colon ? colon + 1 : NULL;
}

static void check_image(const apx_plugin_api *api, apx_module *m, apx_resource *r) {
  const apx_value *img = api->resource_image(r);
  const char *s = api->value_string(img);
  if (!s) return; /* a template (a parameter): only known at deploy time */
  if (strchr(s, '@')) return; /* a digest pins it */
  const char *tag = image_tag(s);
  apx_plugin_loc at = api->value_loc(img).file ? api->value_loc(img) : api->resource_loc(r);
  if (!tag) api->error(m, at, "policy: image '%s' of '%s' has no tag; pin a version or a digest", s, api->resource_name(r));
  else if (strcmp(tag, "latest") == 0)
    api->error(m, at, "policy: image '%s' of '%s' uses the floating tag 'latest'; pin a version or a digest", s,
               api->resource_name(r));
}

static int has_check_for(const apx_plugin_api *api, const apx_resource *r, const char *endpoint) {
  for (size_t i = 0; i < api->health_count(r); i++) {
    const char *kind = api->health_kind(r, i), *ep = api->health_endpoint(r, i);
    if (strcmp(kind, "exec") == 0 || (ep && strcmp(ep, endpoint) == 0)) return 1;
  }
  return 0;
}

static int policy(const apx_plugin_api *api, apx_module *m, void *ud) {
  (void)ud;
  size_t before = api->error_count(m);
  for (size_t i = 0; i < api->resource_count(m); i++) {
    apx_resource *r = api->resource_at(m, i);
    if (strcmp(api->resource_kind(r), "container") == 0) check_image(api, m, r);
    for (size_t e = 0; e < api->endpoint_count(r); e++) {
      if (!api->endpoint_external(r, e) || has_check_for(api, r, api->endpoint_name(r, e))) continue;
      api->error(m, api->endpoint_loc(r, e), "policy: external endpoint '%s' of '%s' has no health check",
                 api->endpoint_name(r, e), api->resource_name(r));
      api->note(m, api->resource_loc(r), "add health { http = \"/healthz\"  endpoint = \"%s\" } to '%s'",
                api->endpoint_name(r, e), api->resource_name(r));
    }
  }
  return (int)(api->error_count(m) - before);
}

static int register_policy(const apx_plugin_api *api, apx_plugin_host *host) {
  return api->register_pass(host, "policy", "pinned images, health checks on external endpoints", APX_PLUGIN_AFTER,
                            "enrich", policy, NULL);
}

const apx_plugin_info *aspirec_plugin_info(void) {
  static const apx_plugin_info info = {APX_PLUGIN_ABI_VERSION, "policy", "1.0", register_policy};
  return &info;
}
