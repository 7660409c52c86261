/* A back end (doc/plugins.md): --emit=systemd writes a service unit per
 * executable and project, APP-NAME.service, and APP.target that starts them
 * all. Dependencies become After= and Requires=; the environment is
 * rendered for this machine (hosts are localhost, ports the endpoints');
 * restart = "…" becomes Restart=. Containers are left out (with a warning
 * where a unit depends on one). Check the output with systemd-analyze verify. */
#define _DEFAULT_SOURCE /* realpath */
#include <aspirec/plugin.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the one writer of unit-file syntax (systemd.syntax(7)) ------------ */

typedef struct text { char *s; size_t n, cap; } text;

static void put(text *t, const char *s, size_t n) {
  if (t->n + n + 1 > t->cap) {
    size_t cap = t->cap ? t->cap * 2 : 256;
    while (cap < t->n + n + 1) cap *= 2;
    char *p = realloc(t->s, cap);
    if (!p) abort();
    t->s = p;
    t->cap = cap;
  }
  memcpy(t->s + t->n, s, n);
  t->n += n;
  t->s[t->n] = '\0';
}
static void puts_(text *t, const char *s) { put(t, s, strlen(s)); }

/* A value as one double-quoted word: backslash and quote escaped, '%'
 * (specifiers) doubled, and '$' doubled where the setting expands variables
 * (ExecStart=). Control characters are refused (returns 0). */
static int quoted(text *t, const char *s, int dollars) {
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) return 0;
  puts_(t, "\"");
  for (const char *p = s; *p; p++) {
    if (*p == '"' || *p == '\\') put(t, "\\", 1);
    if (*p == '%') put(t, "%", 1);
    if (*p == '$' && dollars) put(t, "$", 1);
    put(t, p, 1);
  }
  puts_(t, "\"");
  return 1;
}

/* A path setting (WorkingDirectory=) takes no quotes: specifiers doubled,
 * backslashes escaped; control characters refused (returns 0). */
static int path(text *t, const char *s) {
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f) return 0;
  for (const char *p = s; *p; p++) {
    if (*p == '%') put(t, "%", 1);
    if (*p == '\\') put(t, "\\", 1);
    put(t, p, 1);
  }
  return 1;
}

/* A unit name from a resource name: systemd allows [A-Za-z0-9:_.-]. */
static void unit_name(text *t, const char *app, const char *name, const char *suffix) {
  for (int part = 0; part < 2; part++) {
    const char *s = part ? name : app;
    if (!s) continue;
    if (part) put(t, "-", 1);
    for (; *s; s++) {
      char c = *s;
      int okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
                c == '-' || c == ':';
      put(t, okc ? &c : "_", 1);
    }
  }
  puts_(t, suffix);
}

/* ---- rendering for this machine ----------------------------------------- */

typedef struct render_ctx { const apx_plugin_api *api; const char *missing; } render_ctx;

/* Parameters: their compile-time value; an unset one is an error. */
static bool param_value(void *ud, const apx_resource *p, apx_plugin_buf *out) {
  render_ctx *c = ud;
  const char *v = c->api->param_value(p);
  if (v) c->api->buf_append(out, v, strlen(v));
  else c->missing = c->api->resource_name(p);
  return false;
}

static int runs_as_unit(const apx_plugin_api *api, const apx_resource *r) {
  const char *k = api->resource_kind(r);
  return strcmp(k, "executable") == 0 || strcmp(k, "project") == 0;
}

/* Renders v; reports an error at v and returns NULL when it cannot. */
static const char *render(const apx_plugin_api *api, apx_module *m, const apx_resource *r, const apx_value *v,
                          const char *what) {
  render_ctx c = {api, NULL};
  apx_plugin_render t = {sizeof t, &c, NULL, NULL, NULL, param_value, NULL};
  const char *why = NULL;
  const char *s = api->render_value(m, &t, v, &why);
  apx_plugin_loc at = api->value_loc(v).file ? api->value_loc(v) : api->resource_loc(r);
  if (c.missing) {
    api->error(m, at, "systemd: %s of '%s' needs parameter '%s', which has no value (give -p %s=VALUE)", what,
               api->resource_name(r), c.missing, c.missing);
    return NULL;
  }
  if (!s) api->error(m, at, "systemd: %s of '%s' cannot be rendered: %s", what, api->resource_name(r), why);
  return s;
}

/* The resource that runs for t: a database runs in its server. */
static const apx_resource *runner(const apx_plugin_api *api, const apx_resource *t) {
  while (t && api->resource_parent(t)) t = api->resource_parent(t);
  return t;
}

/* Whether an earlier dependency of r has the same runner as dependency d
 * (references = [db] and wait_for = [db] make one After=). */
static int seen_before(const apx_plugin_api *api, const apx_resource *r, size_t d) {
  for (size_t e = 0; e < d; e++)
    if (runner(api, api->dep_target(r, e)) == runner(api, api->dep_target(r, d))) return 1;
  return 0;
}

static int waited_to_complete(const apx_plugin_api *api, apx_module *m, const apx_resource *r) {
  for (size_t i = 0; i < api->resource_count(m); i++) {
    const apx_resource *o = api->resource_at(m, i);
    for (size_t d = 0; d < api->dep_count(o); d++)
      if (api->dep_target(o, d) == r && strcmp(api->dep_kind(o, d), "wait_for_completion") == 0) return 1;
  }
  return 0;
}

static int unit(const apx_plugin_api *api, apx_module *m, apx_plugin_output *out, apx_resource *r) {
  const char *app = api->app_name(m), *name = api->resource_name(r);
  size_t before = api->error_count(m);
  text u = {0}, file = {0};
  puts_(&u, "# Written by aspirec --emit=systemd: do not edit.\n[Unit]\nDescription=");
  puts_(&u, app);
  puts_(&u, ": ");
  puts_(&u, name);
  puts_(&u, " (");
  puts_(&u, api->resource_kind(r));
  puts_(&u, ")\nPartOf=");
  unit_name(&u, app, NULL, ".target");
  puts_(&u, "\n");
  for (size_t d = 0; d < api->dep_count(r); d++) {
    const apx_resource *t = runner(api, api->dep_target(r, d));
    if (!t || t == r || seen_before(api, r, d)) continue;
    if (!runs_as_unit(api, t)) {
      if (strcmp(api->resource_kind(t), "container") == 0)
        api->warning(m, api->resource_loc(r), "systemd: '%s' depends on container '%s', which has no unit", name,
                     api->resource_name(t));
      continue;
    }
    for (int k = 0; k < 2; k++) {
      puts_(&u, k ? "Requires=" : "After=");
      unit_name(&u, app, api->resource_name(t), ".service\n");
    }
  }
  int oneshot = waited_to_complete(api, m, r);
  puts_(&u, oneshot ? "\n[Service]\nType=oneshot\nRemainAfterExit=yes\n" : "\n[Service]\nType=simple\n");
  /* systemd wants an absolute directory; the compiler gives it relative to
   * where it runs when the program's path was relative. */
  char *wd_abs = api->resource_workdir(r) ? realpath(api->resource_workdir(r), NULL) : NULL;
  const char *wd = wd_abs ? wd_abs : api->resource_workdir(r);
  if (wd) {
    puts_(&u, "WorkingDirectory=");
    if (!path(&u, wd)) api->error(m, api->resource_loc(r), "systemd: workdir of '%s' has control characters", name);
    puts_(&u, "\n");
  }
  const apx_value *cmd = api->resource_command(r);
  if (!cmd) api->error(m, api->resource_loc(r), "systemd: '%s' has no command", name);
  else {
    const char *c = render(api, m, r, cmd, "the command");
    puts_(&u, "ExecStart=");
    if (c && c[0] != '/' && strchr(c, '/') && wd) { /* ./server: relative to the working directory */
      text abs = {0};
      puts_(&abs, wd);
      puts_(&abs, "/");
      puts_(&abs, c);
      quoted(&u, abs.s, 1);
      free(abs.s);
    } else if (c && !quoted(&u, c, 1))
      api->error(m, api->value_loc(cmd), "systemd: the command of '%s' has control characters", name);
    const apx_value *args = api->resource_args(r);
    for (size_t i = 0; i < api->value_list_count(args); i++) {
      const char *a = render(api, m, r, api->value_list_at(args, i), "an argument");
      puts_(&u, " ");
      if (a && !quoted(&u, a, 1))
        api->error(m, api->value_loc(api->value_list_at(args, i)), "systemd: an argument of '%s' has control characters", name);
    }
    puts_(&u, "\n");
  }
  for (size_t i = 0; i < api->env_count(r); i++) {
    const char *key = api->env_key(r, i);
    const char *v = render(api, m, r, api->env_value(r, i), key);
    if (!v) continue;
    text kv = {0};
    puts_(&kv, key);
    puts_(&kv, "=");
    puts_(&kv, v);
    puts_(&u, "Environment=");
    if (!quoted(&u, kv.s, 0))
      api->error(m, api->value_loc(api->env_value(r, i)), "systemd: %s of '%s' has control characters", key, name);
    puts_(&u, "\n");
    free(kv.s);
  }
  const char *restart = api->resource_restart(r);
  if (strcmp(restart, "default") != 0) {
    puts_(&u, "Restart=");
    puts_(&u, restart);
    puts_(&u, "\n");
  }
  if (api->resource_replicas(r) > 1)
    api->warning(m, api->resource_loc(r), "systemd: '%s' has %d replicas; the unit runs one", name,
                 api->resource_replicas(r));
  puts_(&u, "\n[Install]\nWantedBy=");
  unit_name(&u, app, NULL, ".target\n");
  unit_name(&file, app, name, ".service");
  api->output_add(out, file.s, u.s, u.n);
  free(u.s);
  free(file.s);
  free(wd_abs);
  return (int)(api->error_count(m) - before);
}

static int emit_systemd(const apx_plugin_api *api, apx_module *m, apx_plugin_output *out, void *ud) {
  (void)ud;
  if (!api->output_dir(out)) {
    api->error(m, (apx_plugin_loc){0, 0, 0}, "systemd: --emit=systemd writes several files: give -o DIR");
    return 1;
  }
  const char *app = api->app_name(m);
  text target = {0}, file = {0};
  puts_(&target, "# Written by aspirec --emit=systemd: do not edit.\n[Unit]\nDescription=");
  puts_(&target, app);
  puts_(&target, "\n");
  int errors = 0;
  for (size_t i = 0; i < api->resource_count(m); i++) {
    apx_resource *r = api->resource_at(m, i);
    if (!runs_as_unit(api, r)) continue;
    errors += unit(api, m, out, r);
    puts_(&target, "Wants=");
    unit_name(&target, app, api->resource_name(r), ".service\n");
  }
  puts_(&target, "\n[Install]\nWantedBy=multi-user.target\n");
  unit_name(&file, app, NULL, ".target");
  api->output_add(out, file.s, target.s, target.n);
  free(target.s);
  free(file.s);
  return errors;
}

static int register_systemd(const apx_plugin_api *api, apx_plugin_host *host) {
  return api->register_backend(host, "systemd", "a systemd service unit per executable and project", emit_systemd,
                               NULL);
}

const apx_plugin_info *aspirec_plugin_info(void) {
  static const apx_plugin_info info = {APX_PLUGIN_ABI_VERSION, "systemd", "1.0", register_systemd};
  return &info;
}
