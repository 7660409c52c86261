/* The loader: source files, the search path, and the import graph closed
 * before anything is lowered, so that the passes see a module whose sources
 * are all there. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/path.h"
#include "driver.h"
#include "frontend/manifest.h"
#include "ir/lower.h"

const char *apx_default_stdlib_dir(void) {
  struct stat st;
  const char *src = APX_SRCDIR "/stdlib";
  return stat(src, &st) == 0 && S_ISDIR(st.st_mode) ? src : APX_DATADIR;
}

void apx_search_path_set(apx_compilation *c, const char *const *dirs, size_t n) {
  apx_search_path *s = &c->search;
  const char *ap = getenv("APX_PATH");
  size_t cap = n + 2;
  if (ap)
    for (const char *p = ap; *p; p++) cap += *p == ':';
  s->dirs = apx_arena_alloc(c->arena, sizeof(char *) * cap);
  s->n = 0;
  for (size_t i = 0; i < n; i++) s->dirs[s->n++] = dirs[i];
  if (ap && *ap) {
    char *copy = apx_arena_strdup(c->arena, ap), *save = NULL;
    for (char *tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
      if (*tok) s->dirs[s->n++] = tok;
  }
  s->stdlib_dir = apx_default_stdlib_dir();
  s->dirs[s->n++] = s->stdlib_dir;
}

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
  /* Read once, into the arena: the loader releases the text after lowering
   * (apx_diag_source_release), and diagnostics read the file again. */
  char *text = apx_arena_alloc(d->arena, (size_t)st.st_size + 1);
  size_t n = fread(text, 1, (size_t)st.st_size, f);
  fclose(f);
  text[n] = '\0';
  return apx_diag_add_source_read(d, path, text, n);
}

static bool apx_file_exists(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Finds an import: paths starting with ./ ../ or / are relative to the
 * importing file; bare names search the search path, as NAME.apx or NAME. */
static const char *apx_import_find(apx_compilation *c, const char *p, uint32_t from_file) {
  const char *from_dir = apx_diag_source(&c->diag, from_file)->dir;
  bool relative = p[0] == '/' || strncmp(p, "./", 2) == 0 || strncmp(p, "../", 3) == 0;
  if (relative) {
    const char *full = apx_path_join(c->arena, from_dir, p);
    return apx_file_exists(full) ? full : NULL;
  }
  size_t plen = strlen(p);
  bool has_ext = plen > 4 && strcmp(p + plen - 4, ".apx") == 0;
  for (size_t i = 0; i < c->search.n; i++) {
    const char *dir = c->search.dirs[i];
    const char *cand = has_ext ? apx_arena_printf(c->arena, "%s/%s", dir, p)
                               : apx_arena_printf(c->arena, "%s/%s.apx", dir, p);
    if (apx_file_exists(cand)) return apx_path_join(c->arena, ".", cand);
  }
  return NULL;
}

static void apx_loader_on_import(void *ud, const char *path, apx_loc loc) {
  apx_loader *ld = ((void **)ud)[0];
  size_t idx = *(size_t *)((void **)ud)[1];
  apx_loaded_file *f = &ld->files[idx];
  apx_pending_import im = {path, loc};
  APX_VEC_PUSH(ld->c->arena, f->imports, f->nimports, f->capimports, im);
}

/* Registers a file and lowers it; its imports are kept for later. */
static size_t apx_loader_add(apx_loader *ld, const char *real, uint32_t file) {
  apx_compilation *c = ld->c;
  apx_loaded_file lf = {real, file, true, NULL, 0, 0};
  APX_VEC_PUSH(c->arena, ld->files, ld->n, ld->cap, lf);
  size_t idx = ld->n - 1;
  apx_module *m = c->module;
  APX_VEC_PUSH(m->arena, m->loaded_files, m->nloaded, m->caploaded, file);
  void *ud[2] = {ld, &idx};
  /* The main file may be Aspire's manifest (its own front end); imports,
   * including those a manifest's stdlib mappings ask for, are .apx. */
  const apx_source *src = apx_diag_source(&c->diag, file);
  apx_parse_each_fn parse = idx == 0 && apx_manifest_detect(src->path, src->text, src->len) ? apx_manifest_parse_each
                                                                                           : apx_parse_file_each;
  size_t peak = apx_lower_source_with(m, file, parse, apx_loader_on_import, ud);
  /* Nothing reads the text again but a diagnostic's source line. */
  apx_diag_source_release(&c->diag, file);
  if (peak > ld->tree_peak) ld->tree_peak = peak;
  return idx;
}

void apx_loader_start(apx_loader *ld, apx_compilation *c, const char *path, uint32_t file) {
  memset(ld, 0, sizeof *ld);
  ld->c = c;
  char *real = realpath(path, NULL);
  const char *key = real ? apx_arena_strdup(c->arena, real) : apx_arena_strdup(c->arena, path);
  free(real);
  apx_loader_add(ld, key, file);
}

static void apx_loader_imports_of(apx_loader *ld, size_t idx);

static void apx_loader_import(apx_loader *ld, const apx_pending_import *im, uint32_t from_file) {
  apx_compilation *c = ld->c;
  apx_diag *diag = &c->diag;
  const char *path = apx_import_find(c, im->path, from_file);
  if (!path) {
    apx_diagnostic *d = apx_error(diag, im->loc, "cannot find import \"%s\"", im->path);
    bool relative = im->path[0] == '/' || im->path[0] == '.';
    if (relative)
      apx_diag_hint(diag, d, "relative imports are resolved from the directory of the importing file");
    else
      apx_diag_hint(diag, d, "searched the -I directories, APX_PATH and the standard library");
    return;
  }
  char *real = realpath(path, NULL);
  const char *key = real ? apx_arena_strdup(c->arena, real) : path;
  free(real);
  for (size_t i = 0; i < ld->n; i++) {
    if (strcmp(ld->files[i].real, key) != 0) continue;
    if (ld->files[i].on_stack) {
      apx_diagnostic *d = apx_error(diag, im->loc, "import cycle: \"%s\" imports itself through", im->path);
      /* Name the whole cycle: the files on the stack from the repeated one. */
      char *chain = apx_arena_strdup(c->arena, "");
      bool in = false;
      for (size_t j = 0; j < ld->n; j++) {
        if (j == i) in = true;
        if (in && ld->files[j].on_stack)
          chain = apx_arena_printf(c->arena, "%s%s -> ", chain, apx_diag_source(diag, ld->files[j].file)->path);
      }
      d->message = apx_arena_printf(c->arena, "import cycle: %s%s", chain, apx_diag_source(diag, ld->files[i].file)->path);
      apx_diag_hint(diag, d, "move what both files need into a third file that imports neither");
    }
    return;
  }
  uint32_t file = apx_load_source(diag, path, im->loc);
  if (!file) return;
  /* Both normalised alike ("a/../stdlib" and "stdlib" must match). */
  const char *lib = c->search.stdlib_dir ? apx_path_join(c->arena, ".", c->search.stdlib_dir) : NULL;
  size_t ll = lib ? strlen(lib) : 0;
  if (lib && strncmp(path, lib, ll) == 0 && path[ll] == '/')
    apx_diag_set_name(diag, file, apx_arena_printf(c->arena, "stdlib%s", path + ll));
  size_t me = apx_loader_add(ld, key, file);
  apx_loader_imports_of(ld, me);
  ld->files[me].on_stack = false;
}

static void apx_loader_imports_of(apx_loader *ld, size_t idx) {
  size_t n = ld->files[idx].nimports;
  if (!n) return;
  if (++ld->depth > 64) {
    apx_error(&ld->c->diag, ld->files[idx].imports[0].loc, "imports nested more than 64 deep");
    ld->depth--;
    return;
  }
  for (size_t i = 0; i < n; i++) {
    /* Fetched each time: loading more files may move ld->files. */
    apx_pending_import im = ld->files[idx].imports[i];
    apx_loader_import(ld, &im, ld->files[idx].file);
  }
  ld->depth--;
}

void apx_loader_close(apx_loader *ld) {
  apx_loader_imports_of(ld, 0);
  ld->files[0].on_stack = false;
}
