/* An enrichment pass (doc/plugins.md): labels and annotations for every
 * resource that runs or exists (not parameters), from a file such as
 *
 *   # who owns it, who pays for it
 *   label team = payments
 *   annotation cost-centre = CC-1042
 *
 * The file is --plugin-arg=enrich:file=PATH, else $APX_ENRICH_FILE, else
 * enrich.conf beside the program. A
 * resource that sets a key itself keeps its own value. Runs after
 * typecheck, which reads the program's own labels. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <aspirec/plugin.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char arg_file[4096]; /* --plugin-arg=enrich:file=PATH */

typedef struct entry { int annotation; char *key, *value; } entry;

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

/* Reads the file; on an error reports it as path:line and returns -1. */
static int read_conf(const apx_plugin_api *api, apx_module *m, const char *path, entry **out, size_t *n) {
  FILE *f = fopen(path, "r");
  apx_plugin_loc none = {0, 0, 0};
  if (!f) {
    api->error(m, none, "enrich: cannot read %s (give --plugin-arg=enrich:file=PATH)", path);
    return -1;
  }
  char line[1024];
  int lineno = 0, bad = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char *s = trim(line);
    if (!*s || *s == '#') continue;
    int annotation = strncmp(s, "annotation ", 11) == 0;
    if (!annotation && strncmp(s, "label ", 6) != 0) {
      api->error(m, none, "enrich: %s:%d: write 'label KEY = VALUE' or 'annotation KEY = VALUE'", path, lineno);
      bad = 1;
      continue;
    }
    char *kv = s + (annotation ? 11 : 6), *eq = strchr(kv, '=');
    if (!eq) {
      api->error(m, none, "enrich: %s:%d: no '=' between key and value", path, lineno);
      bad = 1;
      continue;
    }
    *eq = '\0';
    char *key = trim(kv), *value = trim(eq + 1);
    if (!*key) {
      api->error(m, none, "enrich: %s:%d: empty key", path, lineno);
      bad = 1;
      continue;
    }
    entry *grown = realloc(*out, (*n + 1) * sizeof **out);
    if (!grown) abort();
    *out = grown;
    grown[*n].annotation = annotation;
    grown[*n].key = strdup(key);
    grown[*n].value = strdup(value);
    (*n)++;
  }
  fclose(f);
  return bad ? -1 : 0;
}

static int has_key(const apx_plugin_api *api, const apx_resource *r, const entry *e) {
  size_t n = e->annotation ? api->annotation_count(r) : api->label_count(r);
  for (size_t i = 0; i < n; i++)
    if (strcmp(e->annotation ? api->annotation_key(r, i) : api->label_key(r, i), e->key) == 0) return 1;
  return 0;
}

static int enrich(const apx_plugin_api *api, apx_module *m, void *ud) {
  (void)ud;
  size_t before = api->error_count(m);
  const char *env = *arg_file ? arg_file : getenv("APX_ENRICH_FILE");
  char path[4096];
  if (env && *env) snprintf(path, sizeof path, "%s", env);
  else snprintf(path, sizeof path, "%s/enrich.conf", api->main_dir(m));
  entry *es = NULL;
  size_t n = 0;
  if (read_conf(api, m, path, &es, &n) == 0) {
    for (size_t i = 0; i < api->resource_count(m); i++) {
      apx_resource *r = api->resource_at(m, i);
      if (strcmp(api->resource_kind(r), "param") == 0) continue;
      for (size_t k = 0; k < n; k++) {
        if (has_key(api, r, &es[k])) continue;
        if (es[k].annotation) api->annotation_set(m, r, es[k].key, es[k].value);
        else api->label_set(m, r, es[k].key, es[k].value);
      }
    }
  }
  for (size_t k = 0; k < n; k++) {
    free(es[k].key);
    free(es[k].value);
  }
  free(es);
  return (int)(api->error_count(m) - before);
}

static int register_enrich(const apx_plugin_api *api, apx_plugin_host *host) {
  /* Options are read at registration; the table may predate plugin_arg. */
  const char *file = APX_PLUGIN_HAS(api, plugin_arg) ? api->plugin_arg(host, "file") : NULL;
  if (file) snprintf(arg_file, sizeof arg_file, "%s", file);
  return api->register_pass(host, "labels", "labels and annotations from enrich.conf", APX_PLUGIN_AFTER, "typecheck",
                            enrich, NULL);
}

const apx_plugin_info *aspirec_plugin_info(void) {
  static const apx_plugin_info info = {APX_PLUGIN_ABI_VERSION, "enrich", "1.0", register_enrich};
  return &info;
}
