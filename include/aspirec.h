/* aspirec.h: the stable C interface to aspirec's IR, for plugins and other
 * tools. Every type is an opaque handle; everything is read through
 * functions, so the IR's layout (ir/ir.h) can change without breaking a
 * compiled plugin. Strings returned are owned by the compilation and live
 * until it is freed. Build a user with:
 *   cc $(pkg-config --cflags --libs aspirec) tool.c
 * APX_API_VERSION grows when functions are added; existing ones keep their
 * meaning (the append-only rule of SQLite's extension routines). */
#ifndef ASPIREC_H
#define ASPIREC_H

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define APX_API_VERSION 3

/* Marks what the shared library exports: it is built with
 * -fvisibility=hidden, so everything not declared here stays inside. */
#if defined(__GNUC__) && !defined(APX_API)
#define APX_API __attribute__((visibility("default")))
#elif !defined(APX_API)
#define APX_API
#endif

typedef struct apx_api_compilation apx_api_compilation;
typedef struct apx_module apx_module;
typedef struct apx_resource apx_resource;
typedef struct apx_value apx_value;

/* The version of the library this program runs against. */
APX_API int apx_api_version(void);

/* Compiles a program. Bare imports are searched as the command line does:
 * include_dirs (like -I), then APX_PATH, then the standard library. Returns NULL only when out of memory; check
 * apx_api_errors() for program errors. At most 20 errors and 20 warnings
 * are kept for apx_api_diagnostics(), as on the command line. */
APX_API apx_api_compilation *apx_api_compile(const char *path, const char *const *include_dirs, size_t ninclude,
                                             const char *const *params, size_t nparams);
/* The same with another limit (0: keep every diagnostic). Since version 2. */
APX_API apx_api_compilation *apx_api_compile_limit(const char *path, const char *const *include_dirs, size_t ninclude,
                                                   const char *const *params, size_t nparams, size_t error_limit);
APX_API void apx_api_free(apx_api_compilation *c);
/* Every error and warning counts, kept or not (apx_api_warnings: since 2). */
APX_API size_t apx_api_errors(const apx_api_compilation *c);
APX_API size_t apx_api_warnings(const apx_api_compilation *c);
/* The diagnostics as the command line prints them (no colour), the last
 * line counting those past the limit. Caller frees. */
APX_API char *apx_api_diagnostics(apx_api_compilation *c);
APX_API apx_module *apx_api_module(apx_api_compilation *c);
/* "file:line:col" of a resource's declaration (owned by the compilation). */
APX_API const char *apx_api_location(apx_api_compilation *c, const apx_resource *r);

/* ---- Options, plugins and back ends (since version 3) ----------------------
 * What the command line's -I, -p, --error-limit, --plugin and --plugin-arg
 * give, for a library user:
 *
 *   apx_api_options *o = apx_api_options_new();
 *   apx_api_options_plugin_arg(o, "enrich:file=labels.conf");  // before its plugin
 *   if (apx_api_options_plugin(o, "./enrich.so")) puts(apx_api_options_error(o));
 *   apx_api_compilation *c = apx_api_compile_with("app.apx", o);
 *   if (apx_api_errors(c) == 0) apx_api_emit(c, "helm", "out");
 *   apx_api_free(c);
 *   apx_api_options_free(o);  // after every compilation made with it
 *
 * Functions returning int give 0 on success. */
typedef struct apx_api_options apx_api_options;
APX_API apx_api_options *apx_api_options_new(void);
/* Unloads its plugins: free every compilation made with `o` first. */
APX_API void apx_api_options_free(apx_api_options *o);
APX_API int apx_api_options_include(apx_api_options *o, const char *dir);     /* -I DIR */
APX_API int apx_api_options_param(apx_api_options *o, const char *assignment); /* -p NAME=VALUE */
APX_API void apx_api_options_error_limit(apx_api_options *o, size_t limit);  /* 0: no limit; default 20 */
/* --plugin-arg=PLUGIN:KEY=VALUE; a plugin reads its arguments when it is
 * loaded, so give them before apx_api_options_plugin. */
APX_API int apx_api_options_plugin_arg(apx_api_options *o, const char *arg);
/* Loads a plugin (its passes join every compilation made with `o`, its back
 * ends become targets). On failure, apx_api_options_error says why. */
APX_API int apx_api_options_plugin(apx_api_options *o, const char *path);
/* The last failure's message, or NULL (owned by `o`). */
APX_API const char *apx_api_options_error(const apx_api_options *o);
/* The targets apx_api_emit knows: the built-in back ends, then the plugins'
 * of `o` (NULL: the built-in ones). */
APX_API size_t apx_api_target_count(const apx_api_options *o);
APX_API const char *apx_api_target_name(const apx_api_options *o, size_t i);
/* Compiles with these options (NULL: the defaults). NULL when out of
 * memory, or when a --plugin-arg names no loaded plugin
 * (apx_api_options_error says so). */
APX_API apx_api_compilation *apx_api_compile_with(const char *path, const apx_api_options *o);
/* Writes a target's files into out_dir, all or none (atomically, as
 * --emit=TARGET -o DIR). Returns 0; 1 when the program or the back end has
 * errors, 2 for an unknown target or files that cannot be written (the
 * reason in apx_api_diagnostics). Nothing is written after errors. */
APX_API int apx_api_emit(apx_api_compilation *c, const char *target, const char *out_dir);

/* Resources, in declaration order (children after their parent). */
APX_API size_t apx_module_resource_count(const apx_module *m);
APX_API apx_resource *apx_module_resource_at(const apx_module *m, size_t i);
APX_API apx_resource *apx_module_resource_find(const apx_module *m, const char *name);
APX_API const char *apx_module_app_name(const apx_module *m);

APX_API const char *apx_resource_name(const apx_resource *r);
/* "container", "executable", "project", "external" or "param". */
APX_API const char *apx_resource_kind(const apx_resource *r);
/* The kind or component name as written ("postgres"). */
APX_API const char *apx_resource_type(const apx_resource *r);
APX_API apx_resource *apx_resource_parent(const apx_resource *r);
APX_API int apx_resource_replicas(const apx_resource *r);
APX_API const apx_value *apx_resource_image(const apx_resource *r);
APX_API const apx_value *apx_resource_connection_string(const apx_resource *r);

APX_API size_t apx_resource_env_count(const apx_resource *r);
APX_API const char *apx_resource_env_key(const apx_resource *r, size_t i);
APX_API const apx_value *apx_resource_env_value(const apx_resource *r, size_t i);

APX_API size_t apx_resource_endpoint_count(const apx_resource *r);
APX_API const char *apx_resource_endpoint_name(const apx_resource *r, size_t i);
APX_API const char *apx_resource_endpoint_scheme(const apx_resource *r, size_t i);
APX_API int apx_resource_endpoint_port(const apx_resource *r, size_t i);        /* 0: allocated at run time */
APX_API int apx_resource_endpoint_target_port(const apx_resource *r, size_t i);
APX_API bool apx_resource_endpoint_external(const apx_resource *r, size_t i);

/* Dependencies: kind is "reference", "wait_for", "wait_for_start" or
 * "wait_for_completion". */
APX_API size_t apx_resource_dep_count(const apx_resource *r);
APX_API const char *apx_resource_dep_kind(const apx_resource *r, size_t i);
APX_API apx_resource *apx_resource_dep_target(const apx_resource *r, size_t i);

/* Values: "null", "bool", "int", "duration", "string", "template", "list",
 * "map" or "ref". A template is text parts and references; a reference names
 * a resource and a property ("connection_string", "endpoint.url", …). */
APX_API const char *apx_value_type(const apx_value *v);
APX_API const char *apx_value_string(const apx_value *v);   /* "string" only, else NULL */
APX_API long long apx_value_int(const apx_value *v);        /* "int"; "duration" in ms */
APX_API size_t apx_value_part_count(const apx_value *v);    /* "template": its parts */
APX_API const char *apx_value_part_text(const apx_value *v, size_t i);   /* NULL for a reference */
APX_API apx_resource *apx_value_part_ref(const apx_value *v, size_t i);  /* NULL for text */
APX_API const char *apx_value_part_prop(const apx_value *v, size_t i);
APX_API const char *apx_value_part_endpoint(const apx_value *v, size_t i);
APX_API size_t apx_value_list_count(const apx_value *v);
APX_API const apx_value *apx_value_list_at(const apx_value *v, size_t i);

#ifdef __cplusplus
}
#endif
#endif
