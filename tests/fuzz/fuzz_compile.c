/* libFuzzer target for the front end, the passes and the back ends.
 *
 * Each input is compiled as the text of one .apx file with apx_compile_text
 * (the same driver as the CLI), with the repository's stdlib/ on the search
 * path so that imports of integrations work. When the program compiles, the
 * compose, ir and dot back ends run into staged outputs that are freed
 * without commit: nothing is ever written to disk. Diagnostics are printed
 * to /dev/null, so that their formatting (lines, carets, hints) is covered
 * too. Everything is freed on every run (LeakSanitizer checks it).
 *
 * Build and run: tests/fuzz/build.sh, tests/fuzz/run.sh [SECONDS]. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backends/backend.h"
#include "driver/driver.h"

#ifndef APX_FUZZ_SRCDIR
#error "build with -DAPX_FUZZ_SRCDIR='\"/path/to/aspirec\"' (tests/fuzz/build.sh does)"
#endif

/* The input poses as a golden test, so that its relative imports
 * ("./lib/web.apx") and file() calls resolve to files of tests/golden/. */
#define APX_FUZZ_PATH APX_FUZZ_SRCDIR "/tests/golden/fuzz-input.apx"
/* An output directory that does not exist: back ends that read previous
 * output (compose's .env) find nothing, and commit is never called. */
#define APX_FUZZ_OUTDIR "/nonexistent/aspirec-fuzz-out"

static FILE *apx_fuzz_sink;
static const char *apx_fuzz_includes[2];
/* -p values, passed only when the input declares `param region` (an unknown
 * -p NAME is an error, which would stop most inputs before the back ends). */
static const char *apx_fuzz_params[] = {"region=eu-west"};

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc;
  (void)argv;
  apx_fuzz_sink = fopen("/dev/null", "w");
  if (!apx_fuzz_sink) abort();
  apx_fuzz_includes[0] = APX_FUZZ_SRCDIR "/tests/golden/lib";
  apx_fuzz_includes[1] = APX_FUZZ_SRCDIR "/stdlib";
  /* The compiler reads the environment only through env() and parameters:
   * keep it the same for every run so that results are reproducible. */
  unsetenv("APX_PATH");
  setenv("APX_FUZZ", "1", 1);
  /* A parameter value from the environment (APX_PARAM_<NAME>). */
  setenv("APX_PARAM_REPLICAS", "3", 1);
  return 0;
}

static void apx_fuzz_emit(apx_compilation *c, int (*emit)(apx_module *, apx_output *), const char *dir) {
  apx_output *out = apx_output_new(dir);
  (void)emit(c->module, out);
  apx_output_free(out); /* never committed */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  apx_compilation c;
  apx_compilation_init(&c);
  /* Vary the presentation options with the input so both paths are covered,
   * deterministically for a given input. */
  c.diag.color = size & 1;
  c.search = (apx_search_path){apx_fuzz_includes, 2, apx_fuzz_includes[1]};
  c.opts.params = apx_fuzz_params;
  c.opts.nparams = memmem(data, size, "param region", 12) ? 1 : 0;
  apx_driver_opts po = {0};
  int rc = apx_compile_text(&c, APX_FUZZ_PATH, (const char *)data, size, &po);
  if (rc == 0 && c.module) {
    apx_fuzz_emit(&c, apx_emit_compose, APX_FUZZ_OUTDIR);
    apx_fuzz_emit(&c, apx_emit_ir, NULL);
    apx_fuzz_emit(&c, apx_emit_dot, NULL);
  }
  apx_diag_print(&c.diag, apx_fuzz_sink);
  fflush(apx_fuzz_sink);
  apx_compilation_free(&c);
  return 0;
}
