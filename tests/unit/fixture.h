/* What the back-end unit tests share (test_compose, test_k8s, test_cloud):
 * a module built by hand with ir.c's constructors, as the passes would
 * leave it, in a scratch directory; reading the YAML an emit wrote back
 * with libyaml's parser; files and diagnostics. Each test is its own
 * program, so everything here is static inline (unused ones cost nothing). */
#ifndef APX_TEST_FIXTURE_H
#define APX_TEST_FIXTURE_H

#include <dirent.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "base/buf.h"
#include "base/diag.h"
#include "ir/ir.h"

/* ---- reading YAML back ----------------------------------------------------- */

/* A key of a mapping, or an index of a sequence. */
static inline yaml_node_t *y_get(yaml_document_t *d, yaml_node_t *n, const char *key) {
  if (!n) return NULL;
  if (n->type == YAML_MAPPING_NODE) {
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
      yaml_node_t *k = yaml_document_get_node(d, p->key);
      if (k && k->type == YAML_SCALAR_NODE && strlen(key) == k->data.scalar.length &&
          memcmp(k->data.scalar.value, key, k->data.scalar.length) == 0)
        return yaml_document_get_node(d, p->value);
    }
    return NULL;
  }
  if (n->type == YAML_SEQUENCE_NODE) {
    char *end;
    long i = strtol(key, &end, 10);
    if (*end || i < 0 || i >= n->data.sequence.items.top - n->data.sequence.items.start) return NULL;
    return yaml_document_get_node(d, n->data.sequence.items.start[i]);
  }
  return NULL;
}

/* From the root of d, a NULL-terminated path of keys or indexes. */
static inline yaml_node_t *y_path(yaml_document_t *d, ...) {
  va_list ap;
  va_start(ap, d);
  yaml_node_t *n = d ? yaml_document_get_root_node(d) : NULL;
  const char *k;
  while (n && (k = va_arg(ap, const char *)) != NULL) n = y_get(d, n, k);
  va_end(ap);
  return n;
}

static inline const char *y_str(yaml_node_t *n) {
  return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static inline bool y_is(yaml_node_t *n, const char *want) {
  const char *s = y_str(n);
  return s && strcmp(s, want) == 0;
}

/* ---- building the module ----------------------------------------------------- */

typedef struct fixture {
  apx_arena *arena;
  apx_diag diag;
  apx_options opts;
  apx_module *m;
  apx_loc loc;
  char dir[256]; /* scratch directory, also the output directory ("" when none) */
} fixture;

/* A module named `app` whose diagnostics point into a one-line shop.apx;
 * with a `tag`, a scratch directory /tmp/apx-test-TAG-XXXXXX is its main
 * directory. */
static inline void fixture_init(fixture *f, const char *app, const char *tag) {
  memset(f, 0, sizeof *f);
  f->arena = apx_arena_new();
  apx_diag_init(&f->diag, f->arena);
  static const char src[] = "// shop.apx\ncontainer db {}\n";
  uint32_t file = apx_diag_add_source(&f->diag, "shop.apx", src, sizeof src - 1);
  f->loc = (apx_loc){file, 12, 21};
  f->m = apx_ir_module_new(f->arena, &f->diag, &f->opts);
  f->m->app_name = app;
  if (!tag) return;
  snprintf(f->dir, sizeof f->dir, "/tmp/apx-test-%s-XXXXXX", tag);
  if (!mkdtemp(f->dir)) {
    perror("mkdtemp");
    exit(2);
  }
  f->m->main_dir = f->dir;
}

static inline void rm_rf(const char *path) {
  DIR *d = opendir(path);
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
      char sub[1024];
      if (snprintf(sub, sizeof sub, "%s/%s", path, e->d_name) >= (int)sizeof sub) continue;
      rm_rf(sub);
    }
    closedir(d);
    rmdir(path);
  } else {
    unlink(path);
  }
}

static inline void fixture_free(fixture *f) {
  if (f->dir[0]) rm_rf(f->dir);
  apx_arena_free(f->arena);
}

static inline apx_value *str(apx_module *m, const char *s) { return apx_ir_string(m, s, APX_NOLOC); }

/* A typed resource (its type the kind's name unless given). */
static inline apx_resource *res(fixture *f, const char *name, apx_kind kind, const char *type) {
  apx_resource *r = apx_ir_resource_new(f->m, name, f->loc);
  r->kind = kind;
  r->type = type ? type : apx_ir_kind_name(kind);
  r->typed = true;
  apx_ir_resource_add(f->m, r);
  return r;
}

/* An endpoint named http has scheme http, any other tcp. */
static inline apx_endpoint *endpoint(fixture *f, apx_resource *r, const char *name, int port, int target,
                                     bool external) {
  apx_endpoint e = {0};
  e.name = name;
  e.loc = f->loc;
  e.port = port;
  e.target_port = target;
  e.scheme = strcmp(name, "http") == 0 ? "http" : "tcp";
  e.protocol = "tcp";
  e.external = external;
  return apx_ir_endpoint_add(f->m, r, &e);
}

/* ---- files and diagnostics ------------------------------------------------------ */

static inline bool has_diag(const apx_diag *d, apx_diag_level level, const char *needle) {
  for (size_t i = 0; i < d->n; i++)
    if (d->items[i].level == level && strstr(d->items[i].message, needle)) return true;
  return false;
}

/* The whole file, NUL-terminated (free it), or NULL. */
static inline char *read_file(const char *path, size_t *len) {
  FILE *fp = fopen(path, "rb");
  if (!fp) return NULL;
  apx_buf b = {0};
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) apx_buf_append(&b, chunk, n);
  fclose(fp);
  if (!b.data) apx_buf_append(&b, "", 0);
  if (len) *len = b.len;
  return b.data;
}

#endif
