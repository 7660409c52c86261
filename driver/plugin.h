/* Plugins (doc/plugins.md): shared objects loaded by --plugin=PATH or
 * APX_PLUGINS that add passes at named places and back ends. The driver
 * owns them: plugin.c loads them and builds each compilation's pass list,
 * plugin_api.c is the function table they are handed
 * (include/aspirec/plugin.h). */
#ifndef APX_DRIVER_PLUGIN_H
#define APX_DRIVER_PLUGIN_H

#include <stdio.h>

#include "backends/backend.h"
#include "include/aspirec/plugin.h"
#include "passes/pipeline.h"

typedef struct apx_plugin {
  void *handle;           /* dlopen's */
  char *path;
  const apx_plugin_info *info;
} apx_plugin;

typedef struct apx_plugin_pass {
  apx_pass pass;          /* name, description (heap copies); run NULL */
  const apx_plugin *from;
  apx_plugin_place where;
  char *relative_to;
  apx_plugin_pass_fn run;
  void *ud;
} apx_plugin_pass;

typedef struct apx_plugin_backend {
  apx_backend be;         /* name, description (heap copies); emit NULL */
  const apx_plugin *from;
  apx_plugin_emit_fn emit;
  void *ud;
} apx_plugin_backend;

/* Everything the loaded plugins registered, in load order. */
typedef struct apx_plugins {
  apx_plugin **list; size_t n;
  apx_plugin_pass **passes; size_t npasses;
  apx_plugin_backend **backends; size_t nbackends;
  FILE *err;              /* load errors */
  const char *const *args; size_t nargs; /* --plugin-arg=NAME:KEY[=VALUE], as given */
} apx_plugins;

/* One entry of a compilation's pass list: a built-in pass or a plugin's. */
typedef struct apx_pass_slot {
  const apx_pass *pass;
  const apx_plugin_pass *plugin; /* NULL: built in */
} apx_pass_slot;

void apx_plugins_init(apx_plugins *ps, FILE *err);
/* Loads one plugin and runs its registration. Returns 0, or 2 with the
 * reason on ps->err (no such file, no entry point, a newer ABI, a name taken). */
int apx_plugins_load(apx_plugins *ps, const char *path);
/* APX_PLUGINS: colon-separated paths, loaded in order (empty entries skipped). */
int apx_plugins_load_list(apx_plugins *ps, const char *list);
/* Every --plugin-arg names a loaded plugin: 0, or 2 with the reason. */
int apx_plugins_check_args(apx_plugins *ps);
/* dlcloses every plugin: after the last compilation that used them is freed. */
void apx_plugins_free(apx_plugins *ps);

/* The pass list: the built-in table with plugin passes inserted at their
 * places (NULL ps: the table alone). Caller frees the array. */
apx_pass_slot *apx_plugins_pass_list(const apx_plugins *ps, size_t *n);
/* A pass by name (built-in or a plugin's) for --dump-after. */
bool apx_plugins_has_pass(const apx_plugins *ps, const char *name);
/* A back end by name: the built-in table, then the plugins'. */
const apx_backend *apx_plugins_backend_find(const apx_plugins *ps, const char *name);
/* --list-passes, --list-targets: built-in ones, then the plugins' (marked). */
void apx_plugins_list_passes(const apx_plugins *ps, FILE *out);
void apx_plugins_list_targets(const apx_plugins *ps, FILE *out);

/* The host's function table (plugin_api.c) and the calls into a plugin. */
extern const apx_plugin_api apx_plugin_api_table;
int apx_host_register_pass(apx_plugin_host *h, const char *name, const char *description, apx_plugin_place where,
                           const char *relative_to, apx_plugin_pass_fn run, void *ud);
const char *apx_host_plugin_arg(apx_plugin_host *h, const char *key);
int apx_host_register_backend(apx_plugin_host *h, const char *name, const char *description, apx_plugin_emit_fn emit,
                              void *ud);
int apx_plugin_run_pass(const apx_plugin_pass *p, apx_module *m);
/* A back end whose emit is NULL is a plugin's apx_plugin_backend: this runs it. */
int apx_plugin_emit(const apx_backend *be, apx_module *m, apx_output *out);

#endif
