/* The compile driver: read, parse, lower, run the pipeline. */
#include "compile.h"

#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../frontend/ast.h"

const char *apx_default_stdlib_dir(void) {
  struct stat st;
  const char *src = APX_SRCDIR "/stdlib";
  return stat(src, &st) == 0 && S_ISDIR(st.st_mode) ? src : APX_DATADIR;
}

void apx_compilation_init(apx_compilation *c) {
  memset(c, 0, sizeof *c);
  c->arena = apx_arena_new();
  apx_diag_init(&c->diag, c->arena);
}

void apx_compilation_free(apx_compilation *c) {
  apx_arena_free(c->arena);
  c->arena = NULL;
  c->module = NULL;
}

/* Sources are capped so that offsets fit the 32-bit locations. */
enum { APX_MAX_SOURCE = 64 * 1024 * 1024 };

uint32_t apx_load_source(apx_diag *d, const char *path, apx_loc from) {
  FILE *f = fopen(path, "rb");
  struct stat st;
  if (!f || fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    apx_error(d, from, "cannot read %s: %s", path, f ? "not a regular file" : strerror(errno));
    if (f) fclose(f);
    return 0;
  }
  if (st.st_size > APX_MAX_SOURCE) {
    fclose(f);
    apx_error(d, from, "%s is larger than %d MiB", path, APX_MAX_SOURCE / (1024 * 1024));
    return 0;
  }
  char *text = malloc((size_t)st.st_size + 1);
  if (!text) abort();
  size_t n = fread(text, 1, (size_t)st.st_size, f);
  fclose(f);
  uint32_t id = apx_diag_add_source(d, path, text, n);
  free(text);
  return id;
}

static const char *apx_app_name(apx_arena *a, const char *path) {
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  size_t n = strlen(base);
  if (n > 4 && strcmp(base + n - 4, ".apx") == 0) n -= 4;
  char *s = apx_arena_strndup(a, base, n);
  /* A Compose project and network name: lower-case, [a-z0-9_-]. */
  for (char *p = s; *p; p++) {
    if (*p >= 'A' && *p <= 'Z') *p = (char)(*p - 'A' + 'a');
    else if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' || *p == '_')) *p = '-';
  }
  return *s ? s : "app";
}

static int apx_compile_loaded(apx_compilation *c, const char *path, uint32_t file, const apx_pipeline_opts *po) {
  apx_module *m = apx_ir_module_new(c->arena, &c->diag, &c->opts);
  c->module = m;
  m->main_path = apx_arena_strdup(c->arena, path);
  m->main_dir = apx_diag_source(&c->diag, file)->dir;
  m->main_file = file;
  m->app_name = apx_app_name(c->arena, path);
  APX_VEC_PUSH(m->arena, m->loaded_files, m->nloaded, m->caploaded, file);
  double t0 = po && po->time_passes ? apx_pipeline_now_ms() : 0;
  /* Each item's tree lives only until it is lowered; its strings stay with the IR. */
  size_t tree = apx_lower_source(m, file);
  if (po && po->time_passes)
    fprintf(stderr, "aspirec: %-15s %8.3f ms  (arena %zu KiB, largest item tree %zu KiB)\n", "parse, lower",
            apx_pipeline_now_ms() - t0, apx_arena_bytes(c->arena) / 1024, tree / 1024);
  /* Syntax errors leave holes that later passes would only echo. The rest of
   * the file was still parsed, so every syntax error is already reported. */
  if (c->diag.errors) return 1;
  apx_pipeline_run(m, po);
  return c->diag.errors ? 1 : 0;
}

int apx_compile_file(apx_compilation *c, const char *path, const apx_pipeline_opts *po) {
  uint32_t file = apx_load_source(&c->diag, path, APX_NOLOC);
  if (!file) return 2;
  return apx_compile_loaded(c, path, file, po);
}

int apx_compile_text(apx_compilation *c, const char *path, const char *text, size_t len, const apx_pipeline_opts *po) {
  if (len > APX_MAX_SOURCE) {
    apx_error(&c->diag, APX_NOLOC, "%s is too large", path);
    return 2;
  }
  uint32_t file = apx_diag_add_source(&c->diag, path, text, len);
  return apx_compile_loaded(c, path, file, po);
}
