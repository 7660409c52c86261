/* <aspirec/plugin.h>: the C ABI of aspirec plugins (doc/plugins.md).
 *
 * A plugin is a shared object that exports one function,
 *
 *   const apx_plugin_info *aspirec_plugin_info(void);
 *
 * (LLVM's llvmGetPassPluginInfo). aspirec loads it with --plugin=PATH or
 * APX_PLUGINS, checks info->abi_version, then calls info->register_plugin
 * with a table of functions (SQLite's sqlite3_api_routines): the plugin
 * calls the compiler only through that table, so it links nothing, not even
 * libaspirec. Build one with
 *
 *   cc -shared -fPIC $(pkg-config --cflags aspirec) p.c -o p.so
 *
 * Every IR type is an opaque handle. Strings returned are owned by the
 * compilation and live until it ends; strings passed in are copied. Values
 * stay symbolic: a template is text and references, rendered per target.
 *
 * ABI rules: the table only grows at its end (a new function in a minor
 * version: check api->size before calling it, APX_PLUGIN_HAS); a function
 * never changes its meaning or signature, and no struct here changes its
 * layout except by growing at its end behind its `size` field. Any other
 * change bumps APX_PLUGIN_ABI_VERSION, and a host refuses a plugin built
 * for a newer ABI than its own. */
#ifndef ASPIREC_PLUGIN_H
#define ASPIREC_PLUGIN_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define APX_PLUGIN_ABI_VERSION 1

/* The same opaque handles as <aspirec.h> (identical typedefs may repeat). */
typedef struct apx_module apx_module;
typedef struct apx_resource apx_resource;
typedef struct apx_value apx_value;
/* Registration, staged output, a text buffer, a template under construction. */
typedef struct apx_plugin_host apx_plugin_host;
typedef struct apx_plugin_output apx_plugin_output;
typedef struct apx_plugin_buf apx_plugin_buf;
typedef struct apx_plugin_template apx_plugin_template;

/* A source location, as the compiler's own diagnostics carry (file 0: none).
 * Its fields are the host's; a plugin only passes it back. */
typedef struct apx_plugin_loc {
  uint32_t file, begin, end;
} apx_plugin_loc;

typedef struct apx_plugin_api apx_plugin_api;

#if defined(__GNUC__)
#define APX_PLUGIN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define APX_PLUGIN_PRINTF(f, a)
#endif

/* A pass: returns the number of errors it reported. */
typedef int (*apx_plugin_pass_fn)(const apx_plugin_api *api, apx_module *m, void *ud);
/* A back end: adds its files to `out` (written atomically, all or none,
 * once the compile succeeded); returns the number of errors it reported. */
typedef int (*apx_plugin_emit_fn)(const apx_plugin_api *api, apx_module *m, apx_plugin_output *out, void *ud);

/* How a back end renders references for its target (ir/render.h's rules).
 * Each callback appends to `out` through api->buf_append. NULL callbacks:
 * host "localhost", port the endpoint's port (else its target port), target
 * port as is, a parameter its compile-time value (else an error), text as is. */
typedef struct apx_plugin_render {
  size_t size; /* sizeof(apx_plugin_render): grows at its end */
  void *ud;
  void (*host)(void *ud, const apx_resource *r, const char *endpoint, apx_plugin_buf *out);
  void (*port)(void *ud, const apx_resource *r, const char *endpoint, apx_plugin_buf *out);
  void (*target_port)(void *ud, const apx_resource *r, const char *endpoint, apx_plugin_buf *out);
  /* Return true when what was written is a placeholder of the target, not the value. */
  bool (*param)(void *ud, const apx_resource *param, apx_plugin_buf *out);
  void (*text)(void *ud, const char *s, size_t n, apx_plugin_buf *out);
} apx_plugin_render;

/* Where a pass goes: before or after a named pass (a built-in one, or one a
 * plugin loaded earlier registered); GCC's register_pass_info. */
typedef enum { APX_PLUGIN_BEFORE = 0, APX_PLUGIN_AFTER = 1 } apx_plugin_place;

struct apx_plugin_api {
  size_t size;     /* sizeof the host's table: the functions present */
  int abi_version; /* the host's APX_PLUGIN_ABI_VERSION */
  const char *host_version; /* aspirec's version, "0.1.0" */

  /* ---- registration (only inside register_plugin) --------------------- */
  /* Returns 0, or -1 with the reason printed (a name taken, no such pass). */
  int (*register_pass)(apx_plugin_host *h, const char *name, const char *description, apx_plugin_place where,
                       const char *relative_to, apx_plugin_pass_fn run, void *ud);
  int (*register_backend)(apx_plugin_host *h, const char *name, const char *description, apx_plugin_emit_fn emit,
                          void *ud);

  /* ---- diagnostics: printed, sorted and counted like the compiler's --- */
  void (*error)(apx_module *m, apx_plugin_loc loc, const char *fmt, ...) APX_PLUGIN_PRINTF(3, 4);
  void (*warning)(apx_module *m, apx_plugin_loc loc, const char *fmt, ...) APX_PLUGIN_PRINTF(3, 4);
  void (*note)(apx_module *m, apx_plugin_loc loc, const char *fmt, ...) APX_PLUGIN_PRINTF(3, 4);
  /* "file:line:col" (owned by the compilation), "" for no location. */
  const char *(*loc_string)(apx_module *m, apx_plugin_loc loc);
  size_t (*error_count)(const apx_module *m);

  /* ---- the module ----------------------------------------------------- */
  const char *(*app_name)(const apx_module *m);
  /* The main file's directory (to find a plugin's data beside the program). */
  const char *(*main_dir)(const apx_module *m);
  size_t (*resource_count)(const apx_module *m);
  apx_resource *(*resource_at)(const apx_module *m, size_t i);
  apx_resource *(*resource_find)(const apx_module *m, const char *name);
  /* A new resource of a built-in kind ("container", "executable",
   * "project", "external"), at the end; NULL (and an error at loc) when the
   * name is taken or the kind unknown. loc: where diagnostics about it point. */
  apx_resource *(*resource_add)(apx_module *m, const char *kind, const char *name, apx_plugin_loc loc);
  /* Removes a resource nothing depends on; false (nothing changed) otherwise. */
  bool (*resource_remove)(apx_module *m, apx_resource *r);
  /* Resources in dependency order (dependencies first); NULL on a cycle.
   * The array is the compilation's, resource_count entries. */
  apx_resource **(*topo_order)(apx_module *m);

  /* ---- a resource ----------------------------------------------------- */
  const char *(*resource_name)(const apx_resource *r);
  const char *(*resource_kind)(const apx_resource *r); /* "container", …, "param" */
  const char *(*resource_type)(const apx_resource *r); /* as written: "postgres" */
  apx_resource *(*resource_parent)(const apx_resource *r);
  apx_plugin_loc (*resource_loc)(const apx_resource *r);
  int (*resource_replicas)(const apx_resource *r);
  /* "default", "no", "on-failure", "always" */
  const char *(*resource_restart)(const apx_resource *r);
  const apx_value *(*resource_image)(const apx_resource *r);
  void (*resource_set_image)(apx_module *m, apx_resource *r, const apx_value *v);
  const apx_value *(*resource_command)(const apx_resource *r); /* string or template, or NULL */
  const apx_value *(*resource_args)(const apx_resource *r);    /* list, or NULL */
  void (*resource_set_command)(apx_module *m, apx_resource *r, const apx_value *command, const apx_value *args);
  const char *(*resource_workdir)(const apx_resource *r);      /* absolute, or NULL */
  const apx_value *(*resource_connection_string)(const apx_resource *r);
  /* A parameter's compile-time value (NULL: none), its variable name, secret. */
  const char *(*param_value)(const apx_resource *p);
  const char *(*param_env_name)(const apx_resource *p);
  bool (*param_secret)(const apx_resource *p);

  /* Environment, in order. env_set replaces a key's value or appends it. */
  size_t (*env_count)(const apx_resource *r);
  const char *(*env_key)(const apx_resource *r, size_t i);
  const apx_value *(*env_value)(const apx_resource *r, size_t i);
  const apx_value *(*env_find)(const apx_resource *r, const char *key);
  void (*env_set)(apx_module *m, apx_resource *r, const char *key, const apx_value *v);

  /* Endpoints. port 0: allocated at run time. endpoint_find: index or -1. */
  size_t (*endpoint_count)(const apx_resource *r);
  long (*endpoint_find)(const apx_resource *r, const char *name);
  const char *(*endpoint_name)(const apx_resource *r, size_t i);
  const char *(*endpoint_scheme)(const apx_resource *r, size_t i);
  int (*endpoint_port)(const apx_resource *r, size_t i);
  int (*endpoint_target_port)(const apx_resource *r, size_t i);
  bool (*endpoint_external)(const apx_resource *r, size_t i);
  apx_plugin_loc (*endpoint_loc)(const apx_resource *r, size_t i);
  /* A new endpoint (its name must be new: else false). */
  bool (*endpoint_add)(apx_module *m, apx_resource *r, const char *name, const char *scheme, int port,
                       int target_port, bool external);

  /* Dependencies: "reference", "wait_for", "wait_for_start", "wait_for_completion". */
  size_t (*dep_count)(const apx_resource *r);
  const char *(*dep_kind)(const apx_resource *r, size_t i);
  apx_resource *(*dep_target)(const apx_resource *r, size_t i);
  bool (*dep_add)(apx_module *m, apx_resource *r, const char *kind, apx_resource *target);

  /* Named volumes and bind mounts (source: absolute for a bind, NULL for a volume). */
  size_t (*volume_count)(const apx_resource *r);
  const char *(*volume_name)(const apx_resource *r, size_t i);
  const char *(*volume_target)(const apx_resource *r, size_t i);
  bool (*volume_readonly)(const apx_resource *r, size_t i);
  size_t (*bind_count)(const apx_resource *r);
  const char *(*bind_source)(const apx_resource *r, size_t i);
  const char *(*bind_target)(const apx_resource *r, size_t i);

  /* Health checks: kind "http", "tcp", "exec" or "log". */
  size_t (*health_count)(const apx_resource *r);
  const char *(*health_kind)(const apx_resource *r, size_t i);
  const char *(*health_endpoint)(const apx_resource *r, size_t i);
  const char *(*health_path)(const apx_resource *r, size_t i);
  long long (*health_interval_ms)(const apx_resource *r, size_t i);
  apx_plugin_loc (*health_loc)(const apx_resource *r, size_t i);

  /* Labels and annotations: string values; *_set replaces or appends. */
  size_t (*label_count)(const apx_resource *r);
  const char *(*label_key)(const apx_resource *r, size_t i);
  const char *(*label_value)(const apx_resource *r, size_t i);
  void (*label_set)(apx_module *m, apx_resource *r, const char *key, const char *value);
  size_t (*annotation_count)(const apx_resource *r);
  const char *(*annotation_key)(const apx_resource *r, size_t i);
  const char *(*annotation_value)(const apx_resource *r, size_t i);
  void (*annotation_set)(apx_module *m, apx_resource *r, const char *key, const char *value);

  /* ---- values --------------------------------------------------------- */
  /* "null", "bool", "int", "duration", "string", "template", "list", "map", "ref". */
  const char *(*value_type)(const apx_value *v);
  const char *(*value_string)(const apx_value *v); /* "string" only, else NULL */
  long long (*value_int)(const apx_value *v);      /* "int"; "duration" in ms */
  bool (*value_bool)(const apx_value *v);
  apx_plugin_loc (*value_loc)(const apx_value *v);
  size_t (*value_part_count)(const apx_value *v);                  /* "template" (a "ref": 1) */
  const char *(*value_part_text)(const apx_value *v, size_t i);    /* NULL for a reference */
  apx_resource *(*value_part_ref)(const apx_value *v, size_t i);   /* NULL for text */
  /* "connection_string", "value", "name", "url", "endpoint.url", "endpoint.host",
   * "endpoint.port", "endpoint.target_port", "endpoint.scheme", "resource". */
  const char *(*value_part_prop)(const apx_value *v, size_t i);
  const char *(*value_part_endpoint)(const apx_value *v, size_t i);
  size_t (*value_list_count)(const apx_value *v);
  const apx_value *(*value_list_at)(const apx_value *v, size_t i);
  size_t (*value_map_count)(const apx_value *v);
  const char *(*value_map_key)(const apx_value *v, size_t i);
  const apx_value *(*value_map_at)(const apx_value *v, size_t i);

  /* New values, owned by the compilation. */
  const apx_value *(*value_new_string)(apx_module *m, const char *s);
  const apx_value *(*value_new_int)(apx_module *m, long long i);
  const apx_value *(*value_new_list)(apx_module *m, const apx_value *const *items, size_t n);
  /* A template: text and references appended in order, then finished (a
   * template with no reference becomes a string). ref: a property name as
   * value_part_prop gives it, with the endpoint for "endpoint.*"; false
   * when the property does not exist or needs an endpoint the target lacks. */
  apx_plugin_template *(*template_new)(apx_module *m);
  void (*template_text)(apx_plugin_template *t, const char *s);
  bool (*template_ref)(apx_plugin_template *t, apx_resource *target, const char *prop, const char *endpoint);
  bool (*template_value)(apx_plugin_template *t, const apx_value *v); /* a string, template or ref */
  const apx_value *(*template_finish)(apx_plugin_template *t);

  /* ---- back ends ------------------------------------------------------ */
  /* Renders a value (string, template, ref, int, bool, duration) for a
   * target: the text (owned by the compilation), or NULL with *why set. */
  const char *(*render_value)(apx_module *m, const apx_plugin_render *t, const apx_value *v, const char **why);
  void (*buf_append)(apx_plugin_buf *b, const char *s, size_t n);
  /* Adds a file (copied); relpath may contain '/'. */
  void (*output_add)(apx_plugin_output *o, const char *relpath, const char *data, size_t len);
  /* The output directory (-o), or NULL when writing to standard output. */
  const char *(*output_dir)(const apx_plugin_output *o);

  /* ---- options (only inside register_plugin) -------------------------- */
  /* The value of --plugin-arg=NAME:KEY=VALUE for this plugin (NAME its
   * info->name): "" for --plugin-arg=NAME:KEY, NULL when not given (the last
   * one given wins). The string lives while the plugin is loaded. */
  const char *(*plugin_arg)(apx_plugin_host *h, const char *key);
};

/* Whether the host's table has function `field` (added in a minor version). */
#define APX_PLUGIN_HAS(api, field) \
  ((api)->size >= offsetof(apx_plugin_api, field) + sizeof((api)->field) && (api)->field != NULL)

typedef struct apx_plugin_info {
  int abi_version;  /* APX_PLUGIN_ABI_VERSION the plugin was built with */
  const char *name; /* shown by --list-passes/--list-targets and in errors */
  const char *version;
  /* Registers passes and back ends; returns 0, or nonzero to fail the load. */
  int (*register_plugin)(const apx_plugin_api *api, apx_plugin_host *host);
} apx_plugin_info;

/* The one entry point a plugin exports. */
#define APX_PLUGIN_ENTRY "aspirec_plugin_info"
#if defined(__GNUC__)
__attribute__((visibility("default")))
#endif
const apx_plugin_info *aspirec_plugin_info(void);

#ifdef __cplusplus
}
#endif
#endif
