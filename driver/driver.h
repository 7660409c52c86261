/* The compile driver: the whole pipeline in order, one function a step.
 * The CLI, the public API, tests and the fuzzer all go through here.
 *
 *   apx_load_source     read the main file
 *   apx_loader_start    parse and lower it, one top-level item at a time
 *   apx_loader_close    the same for every file it imports (search path, cycles)
 *   apx_pipeline[]      the passes (passes/pipeline.c), a hook after each
 *   backend->emit       --emit=NAME, committed atomically; or apx_run (--run)
 *
 * doc/internals.md draws the modules and says where new work goes. */
#ifndef APX_DRIVER_H
#define APX_DRIVER_H

#include <stdbool.h>
#include <stdio.h>

#include "backends/backend.h"
#include "base/arena.h"
#include "base/diag.h"
#include "ir/ir.h"
#include "passes/pipeline.h"
#include "runtime/run.h"

/* Where bare imports are looked for: -I directories, then APX_PATH, then
 * the standard library. */
typedef struct apx_search_path {
  const char **dirs;
  size_t n;
  const char *stdlib_dir; /* files found here are named stdlib/NAME.apx */
} apx_search_path;

typedef struct apx_compilation {
  apx_arena *arena;
  apx_diag diag;
  apx_options opts;
  apx_search_path search;
  apx_module *module;
  apx_arena *items; /* the generic items' own arena while they live (drop_items), or NULL */
} apx_compilation;

void apx_compilation_init(apx_compilation *c);
void apx_compilation_free(apx_compilation *c);

/* The search path of a compilation: `dirs` (the -I options) first, then the
 * directories of APX_PATH (colon-separated), then the standard library. */
void apx_search_path_set(apx_compilation *c, const char *const *dirs, size_t n);

/* The standard library's directory: the source tree's when this build runs
 * uninstalled, else the installed data directory. */
const char *apx_default_stdlib_dir(void);

/* Called after each pass with its time in milliseconds. */
typedef void (*apx_pass_hook)(void *ud, const apx_pass *pass, apx_module *m, double ms);

typedef struct apx_driver_opts {
  const char *dump_after;   /* pass name: print the IR (--emit=ir) after it, to dump_out */
  FILE *dump_out;           /* NULL: stderr */
  bool time_passes;         /* each step's time to stderr */
  apx_pass_hook after_pass; /* one more hook after every pass (tests) */
  void *hook_ud;
  const struct apx_plugins *plugins; /* their passes join the pipeline (driver/plugin.h); NULL: none */
  /* Nothing after typecheck reads the generic bodies (the back end is not
   * `ir`, no plugin, no dump, no hook): they get an arena of their own,
   * freed after typecheck, and later passes reuse the memory. */
  bool drop_items;
} apx_driver_opts;

/* Loads `path` (or `text` when not NULL, reported as `path`), parses it and
 * its imports, lowers them and runs the pass table. Returns 0 when there
 * were no errors, 1 for errors in the program, 2 when the file cannot be
 * read. The diagnostics stay in c->diag. */
int apx_compile_file(apx_compilation *c, const char *path, const apx_driver_opts *o);
int apx_compile_text(apx_compilation *c, const char *path, const char *text, size_t len, const apx_driver_opts *o);

/* Hands a compiled module to a back end and commits its files to `outdir`
 * (NULL: standard output) only when it reported no error. Returns 0, 1 for
 * errors reported by the back end, 2 when the files cannot be written. */
int apx_driver_emit(apx_compilation *c, const apx_backend *be, const char *outdir);

/* What one invocation asks for: check, emit, or run. */
typedef struct apx_driver_job {
  const char *input;
  const apx_driver_opts *opts;
  const apx_backend *backend; /* --emit=NAME, or NULL */
  const char *outdir;         /* -o DIR, or NULL */
  const apx_run_opts *run;    /* --run, or NULL */
  FILE *diag_out;             /* diagnostics and their count, before run mode starts */
  const struct apx_dash_opts *dashboard; /* with --run: the dashboard's options; NULL: --no-dashboard */
} apx_driver_job;

/* The whole pipeline for one job: compile, print the diagnostics, then emit
 * or run. Returns the process's exit status (0, 1 or 2). */
int apx_driver_main(apx_compilation *c, const apx_driver_job *job);

/* ---- loader (driver/loader.c) ------------------------------------------ */

/* Sources are capped so that offsets fit the 32-bit locations. */
enum { APX_MAX_SOURCE = 64 * 1024 * 1024 };

/* Reads a file into the source table; returns its id, or 0 with the error
 * reported at `from`. */
uint32_t apx_load_source(apx_diag *d, const char *path, apx_loc from);

/* An import as written, waiting to be followed. */
typedef struct apx_pending_import {
  const char *path;
  apx_loc loc;
} apx_pending_import;

typedef struct apx_loaded_file {
  const char *real;          /* realpath, to find a file imported twice */
  uint32_t file;
  bool on_stack;             /* on the current import chain (cycles) */
  apx_pending_import *imports; size_t nimports, capimports;
} apx_loaded_file;

typedef struct apx_loader {
  apx_compilation *c;
  apx_loaded_file *files;    /* load order: the main file first */
  size_t n, cap;
  int depth;
  size_t tree_peak;          /* the largest item tree, for --time-passes */
} apx_loader;

/* Parses and lowers the main file (`file`, named `path`) into ld->files[0],
 * one top-level item at a time. */
void apx_loader_start(apx_loader *ld, apx_compilation *c, const char *path, uint32_t file);
/* Closes the import graph: every file the main file imports, directly or
 * not, loaded, parsed and lowered once, depth first; missing files and
 * cycles are reported where the import is written. */
void apx_loader_close(apx_loader *ld);

#endif
