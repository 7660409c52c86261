/* The library's front door: compile a program into a checked IR module. The
 * CLI, tests, the fuzzer and (later) plugins all go through here. */
#ifndef APX_COMPILE_H
#define APX_COMPILE_H

#include "../passes/pipeline.h"
#include "ir.h"

typedef struct apx_compilation {
  apx_arena *arena;
  apx_diag diag;
  apx_options opts;
  apx_module *module;
} apx_compilation;

void apx_compilation_init(apx_compilation *c);
void apx_compilation_free(apx_compilation *c);
/* Loads and parses `path` (or `text` when not NULL, reported as `path`),
 * lowers it and runs the pipeline. Returns 0 when there were no errors, 1 for
 * errors in the program, 2 when the file cannot be read. */
int apx_compile_file(apx_compilation *c, const char *path, const apx_pipeline_opts *po);
int apx_compile_text(apx_compilation *c, const char *path, const char *text, size_t len,
                     const apx_pipeline_opts *po);

/* The standard library's directory: the source tree's when this build runs
 * uninstalled, else the installed data directory. */
const char *apx_default_stdlib_dir(void);

/* Lowering of a parsed file into the module (ir/lower.c). */
struct apx_ast_file;
void apx_lower_file(apx_module *m, const struct apx_ast_file *f);
/* Parses and lowers a registered source one top-level item at a time, so
 * that only one item's syntax tree is in memory. Returns the most memory
 * that tree took (bytes). */
size_t apx_lower_source(apx_module *m, uint32_t file);
/* Reads a file into the source table; returns its id or 0 (message reported). */
uint32_t apx_load_source(apx_diag *d, const char *path, apx_loc from);

/* Writes the module as JSON (the --emit=ir format, doc/ir.md). */
char *apx_ir_to_json(const apx_module *m); /* malloc'd */

#endif
