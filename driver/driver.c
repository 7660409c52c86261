/* The compile driver: the pipeline in order (driver.h). */
#include "driver.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dashboard/dash.h"
#include "plugin.h"

void apx_compilation_init(apx_compilation *c) {
  memset(c, 0, sizeof *c);
  c->arena = apx_arena_new();
  apx_diag_init(&c->diag, c->arena);
}

void apx_compilation_free(apx_compilation *c) {
  apx_arena_free(c->items);
  c->items = NULL;
  apx_arena_free(c->arena);
  c->arena = NULL;
  c->module = NULL;
}

static double apx_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* The main file's name without ".apx", as written: each back end makes of
 * it the name its target allows (Compose: backends/compose.c). A manifest
 * is named like its file less ".json", and `aspire-manifest.json` (the name
 * Aspire and --emit=manifest give it) after its directory. */
static const char *apx_app_name(apx_arena *a, const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  if (strcmp(base, "aspire-manifest.json") == 0) {
    char *real = realpath(path, NULL);
    const char *dir = real ? apx_arena_strdup(a, real) : path;
    free(real);
    const char *slash = strrchr(dir, '/');
    if (slash && slash > dir) {
      const char *prev = slash - 1;
      while (prev > dir && *prev != '/') prev--;
      if (*prev == '/') prev++;
      if (slash > prev) return apx_arena_strndup(a, prev, (size_t)(slash - prev));
    }
    return "app";
  }
  if (n > 4 && strcmp(base + n - 4, ".apx") == 0) n -= 4;
  else if (n > 5 && strcmp(base + n - 5, ".json") == 0) n -= 5;
  return n ? apx_arena_strndup(a, base, n) : "app";
}

/* --dump-after goes through the ir back end, to the dump stream. */
static void apx_dump_ir(apx_module *m, FILE *out) {
  const apx_backend *be = apx_backend_find("ir");
  apx_output *o = apx_output_new(NULL);
  be->emit(m, o);
  size_t len;
  const char *text = apx_output_data(o, 0, &len);
  if (text) fwrite(text, 1, len, out);
  apx_output_free(o);
}

/* The generic bodies are gone once typecheck has read them into typed
 * fields; their blocks go back to malloc, where the arena's next blocks
 * find them. */
static void apx_drop_items(apx_compilation *c, apx_module *m) {
  if (!c->items) return;
  apx_ir_drop_items(m);
  m->items = m->arena;
  apx_arena_free(c->items);
  c->items = NULL;
}

/* What the compilation holds, generic items included (--time-passes). */
static size_t apx_compilation_bytes(const apx_compilation *c) {
  return apx_arena_bytes(c->arena) + (c->items ? apx_arena_bytes(c->items) : 0);
}

/* The pass table with the plugins' passes at their places. */
static void apx_run_passes(apx_compilation *c, apx_module *m, const apx_driver_opts *o) {
  size_t n;
  apx_pass_slot *list = apx_plugins_pass_list(o ? o->plugins : NULL, &n);
  for (size_t i = 0; i < n; i++) {
    const apx_pass *p = list[i].pass;
    double t0 = apx_now_ms();
    if (list[i].plugin) apx_plugin_run_pass(list[i].plugin, m);
    else p->run(m);
    if (!list[i].plugin && p->run == apx_pass_typecheck) apx_drop_items(c, m);
    double ms = apx_now_ms() - t0;
    if (!o) continue;
    if (o->time_passes)
      fprintf(stderr, "aspirec: pass %-10s %8.3f ms  (arena %zu KiB)\n", p->name, ms, apx_compilation_bytes(c) / 1024);
    if (o->dump_after && strcmp(o->dump_after, p->name) == 0) apx_dump_ir(m, o->dump_out ? o->dump_out : stderr);
    if (o->after_pass) o->after_pass(o->hook_ud, p, m, ms);
  }
  free(list);
}

/* Parse and lower the main file, close its imports, run the passes. */
static int apx_compile_loaded(apx_compilation *c, const char *path, uint32_t file, const apx_driver_opts *o) {
  apx_module *m = apx_ir_module_new(c->arena, &c->diag, &c->opts);
  c->module = m;
  m->main_path = apx_arena_strdup(c->arena, path);
  m->main_dir = apx_diag_source(&c->diag, file)->dir;
  m->main_file = file;
  m->app_name = apx_app_name(c->arena, path);
  if (o && o->drop_items && (!o->plugins || o->plugins->npasses == 0) && !o->dump_after && !o->after_pass) {
    c->items = apx_arena_new();
    m->items = c->items;
  }

  double t0 = apx_now_ms();
  apx_loader ld;
  apx_loader_start(&ld, c, path, file);
  /* Syntax errors leave holes that the passes would only echo. The rest of
   * the file was still parsed, so every syntax error is already reported. */
  if (c->diag.errors) return 1;
  apx_loader_close(&ld);
  if (o && o->time_passes)
    fprintf(stderr, "aspirec: %-15s %8.3f ms  (arena %zu KiB, largest item tree %zu KiB)\n", "parse, lower",
            apx_now_ms() - t0, apx_compilation_bytes(c) / 1024, ld.tree_peak / 1024);
  apx_run_passes(c, m, o);
  return c->diag.errors ? 1 : 0;
}

int apx_compile_file(apx_compilation *c, const char *path, const apx_driver_opts *o) {
  uint32_t file = apx_load_source(&c->diag, path, APX_NOLOC);
  if (!file) return 2;
  return apx_compile_loaded(c, path, file, o);
}

int apx_compile_text(apx_compilation *c, const char *path, const char *text, size_t len, const apx_driver_opts *o) {
  if (len > APX_MAX_SOURCE) {
    apx_error(&c->diag, APX_NOLOC, "%s is too large", path);
    return 2;
  }
  uint32_t file = apx_diag_add_source(&c->diag, path, text, len);
  return apx_compile_loaded(c, path, file, o);
}

int apx_driver_emit(apx_compilation *c, const apx_backend *be, const char *outdir) {
  apx_output *out = apx_output_new(outdir);
  int rc = 0;
  if ((be->emit ? be->emit(c->module, out) : apx_plugin_emit(be, c->module, out)) || c->diag.errors) rc = 1;
  else if (apx_output_commit(out) != 0) rc = 2;
  apx_output_free(out);
  return rc;
}

/* Run mode, with the dashboard watching unless --no-dashboard: it is made
 * first (its port and OTLP key go into every resource's environment) and
 * handed to the run as its monitor (runtime/monitor.h). */
static int apx_driver_run(apx_compilation *c, const apx_driver_job *job) {
  if (!job->dashboard) return apx_run(c->module, job->run);
  char err[256];
  apx_dash *d = apx_dash_new(job->dashboard, err, sizeof err);
  if (!d) {
    fprintf(stderr, "aspirec: error: %s\n", err);
    return 2;
  }
  apx_run_opts ro = *job->run;
  ro.monitor = apx_dash_listener(d);
  int rc = apx_run(c->module, &ro);
  apx_dash_free(d);
  return rc;
}

int apx_driver_main(apx_compilation *c, const apx_driver_job *job) {
  apx_driver_opts opts = {0};
  if (job->opts) opts = *job->opts;
  opts.drop_items = !(job->backend && (job->backend->reads_items || !job->backend->emit));
  int rc = apx_compile_file(c, job->input, &opts);
  if (rc == 0 && job->backend) rc = apx_driver_emit(c, job->backend, job->outdir);
  if (job->diag_out) {
    apx_diag_print(&c->diag, job->diag_out);
    if (c->diag.errors || c->diag.warnings)
      fprintf(job->diag_out, "%zu error%s, %zu warning%s\n", c->diag.errors, c->diag.errors == 1 ? "" : "s",
              c->diag.warnings, c->diag.warnings == 1 ? "" : "s");
    fflush(job->diag_out);
  }
  if (rc == 0 && job->run) rc = apx_driver_run(c, job);
  return rc;
}
