/* Loading plugins and placing what they register (driver/plugin.h). */
#include "plugin.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct apx_plugin_host {
  apx_plugins *ps;
  const apx_plugin *plugin;
  bool failed; /* a registration was refused: the load fails */
};

void apx_plugins_init(apx_plugins *ps, FILE *err) {
  memset(ps, 0, sizeof *ps);
  ps->err = err ? err : stderr;
}

static char *apx_plugin_strdup(const char *s) { return s ? strdup(s) : strdup(""); }

static void *apx_plugin_push(void *items, size_t n, size_t size) {
  /* Few plugins and registrations: grow by one. */
  void *p = realloc(items, (n + 1) * size);
  if (!p) abort();
  return p;
}

static const char *apx_plugin_name(const apx_plugin *p) {
  return p->info->name && *p->info->name ? p->info->name : p->path;
}

/* ---- registration (called by the plugin through the table) ------------- */

static bool apx_pass_name_taken(const apx_plugins *ps, const char *name) {
  if (apx_pipeline_find(name)) return true;
  for (size_t i = 0; i < ps->npasses; i++)
    if (strcmp(ps->passes[i]->pass.name, name) == 0) return true;
  return false;
}

int apx_host_register_pass(apx_plugin_host *h, const char *name, const char *description,
                                  apx_plugin_place where, const char *relative_to, apx_plugin_pass_fn run, void *ud) {
  apx_plugins *ps = h->ps;
  const char *who = apx_plugin_name(h->plugin);
  if (!name || !*name || !run || (where != APX_PLUGIN_BEFORE && where != APX_PLUGIN_AFTER)) {
    fprintf(ps->err, "aspirec: plugin %s: register_pass needs a name, a place and a function\n", who);
    h->failed = true;
    return -1;
  }
  if (apx_pass_name_taken(ps, name)) {
    fprintf(ps->err, "aspirec: plugin %s: a pass named '%s' exists already\n", who, name);
    h->failed = true;
    return -1;
  }
  if (!relative_to || !apx_pass_name_taken(ps, relative_to)) {
    fprintf(ps->err, "aspirec: plugin %s: pass '%s' goes %s '%s', which is no pass (see --list-passes)\n", who, name,
            where == APX_PLUGIN_BEFORE ? "before" : "after", relative_to ? relative_to : "(null)");
    h->failed = true;
    return -1;
  }
  apx_plugin_pass *p = calloc(1, sizeof *p);
  if (!p) abort();
  p->pass.name = apx_plugin_strdup(name);
  p->pass.description = apx_plugin_strdup(description);
  p->from = h->plugin;
  p->where = where;
  p->relative_to = apx_plugin_strdup(relative_to);
  p->run = run;
  p->ud = ud;
  ps->passes = apx_plugin_push(ps->passes, ps->npasses, sizeof *ps->passes);
  ps->passes[ps->npasses++] = p;
  return 0;
}

int apx_plugin_emit(const apx_backend *self, apx_module *m, apx_output *out) {
  const apx_plugin_backend *b = (const apx_plugin_backend *)self;
  return b->emit(&apx_plugin_api_table, m, (apx_plugin_output *)out, b->ud);
}

int apx_host_register_backend(apx_plugin_host *h, const char *name, const char *description,
                                     apx_plugin_emit_fn emit, void *ud) {
  apx_plugins *ps = h->ps;
  const char *who = apx_plugin_name(h->plugin);
  if (!name || !*name || !emit) {
    fprintf(ps->err, "aspirec: plugin %s: register_backend needs a name and a function\n", who);
    h->failed = true;
    return -1;
  }
  const apx_backend *taken = apx_plugins_backend_find(ps, name);
  if (taken) {
    const char *owner = "aspirec itself";
    for (size_t i = 0; i < ps->nbackends; i++)
      if (&ps->backends[i]->be == taken) owner = apx_plugin_name(ps->backends[i]->from);
    fprintf(ps->err, "aspirec: plugin %s: back end --emit=%s is taken already (by %s)\n", who, name, owner);
    h->failed = true;
    return -1;
  }
  apx_plugin_backend *b = calloc(1, sizeof *b);
  if (!b) abort();
  b->be.name = apx_plugin_strdup(name);
  b->be.description = apx_plugin_strdup(description);
  /* emit stays NULL: the driver then calls apx_plugin_emit. */
  b->from = h->plugin;
  b->emit = emit;
  b->ud = ud;
  ps->backends = apx_plugin_push(ps->backends, ps->nbackends, sizeof *ps->backends);
  ps->backends[ps->nbackends++] = b;
  return 0;
}

/* NAME:KEY=VALUE -> VALUE when NAME and KEY match; the last one wins. */
const char *apx_host_plugin_arg(apx_plugin_host *h, const char *key) {
  const apx_plugins *ps = h->ps;
  const char *name = h->plugin->info->name ? h->plugin->info->name : "", *found = NULL;
  size_t nn = strlen(name), nk = key ? strlen(key) : 0;
  for (size_t i = 0; key && i < ps->nargs; i++) {
    const char *a = ps->args[i];
    if (strncmp(a, name, nn) != 0 || a[nn] != ':' || strncmp(a + nn + 1, key, nk) != 0) continue;
    const char *rest = a + nn + 1 + nk;
    if (*rest == '=') found = rest + 1;
    else if (!*rest) found = "";
  }
  return found;
}

int apx_plugins_check_args(apx_plugins *ps) {
  for (size_t i = 0; i < ps->nargs; i++) {
    const char *a = ps->args[i], *colon = strchr(a, ':');
    bool known = false;
    for (size_t j = 0; colon && j < ps->n; j++) {
      const char *name = ps->list[j]->info->name;
      if (name && strlen(name) == (size_t)(colon - a) && strncmp(a, name, (size_t)(colon - a)) == 0) known = true;
    }
    if (!known) {
      fprintf(ps->err, "aspirec: --plugin-arg=%s: no plugin named '%.*s' is loaded\n", a,
              (int)(colon ? colon - a : (ptrdiff_t)strlen(a)), a);
      return 2;
    }
  }
  return 0;
}

/* Drops what a failed plugin registered (its code is about to go). */
static void apx_plugins_forget(apx_plugins *ps, const apx_plugin *p) {
  size_t k = 0;
  for (size_t i = 0; i < ps->npasses; i++) {
    if (ps->passes[i]->from == p) {
      free((char *)ps->passes[i]->pass.name);
      free((char *)ps->passes[i]->pass.description);
      free(ps->passes[i]->relative_to);
      free(ps->passes[i]);
    } else ps->passes[k++] = ps->passes[i];
  }
  ps->npasses = k;
  k = 0;
  for (size_t i = 0; i < ps->nbackends; i++) {
    if (ps->backends[i]->from == p) {
      free((char *)ps->backends[i]->be.name);
      free((char *)ps->backends[i]->be.description);
      free(ps->backends[i]);
    } else ps->backends[k++] = ps->backends[i];
  }
  ps->nbackends = k;
}

/* ---- loading ------------------------------------------------------------ */

int apx_plugins_load(apx_plugins *ps, const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) {
    fprintf(ps->err, "aspirec: --plugin=%s: no such file\n", path);
    return 2;
  }
  /* dlopen searches the library path for a name without '/': a plugin is
   * always the file named, so "p.so" means ./p.so. */
  char *open_path = strchr(path, '/') ? strdup(path) : NULL;
  if (!open_path) {
    open_path = malloc(strlen(path) + 3);
    if (open_path) sprintf(open_path, "./%s", path);
  }
  if (!open_path) abort();
  void *h = dlopen(open_path, RTLD_NOW | RTLD_LOCAL);
  free(open_path);
  if (!h) {
    fprintf(ps->err, "aspirec: --plugin=%s: cannot load: %s\n", path, dlerror());
    return 2;
  }
  const apx_plugin_info *(*entry)(void) = NULL;
  *(void **)&entry = dlsym(h, APX_PLUGIN_ENTRY);
  const apx_plugin_info *info = entry ? entry() : NULL;
  if (!entry || !info) {
    fprintf(ps->err, "aspirec: --plugin=%s: not an aspirec plugin (no %s() entry point)\n", path,
            entry ? APX_PLUGIN_ENTRY " returning info" : APX_PLUGIN_ENTRY);
    dlclose(h);
    return 2;
  }
  if (info->abi_version > APX_PLUGIN_ABI_VERSION || info->abi_version < 1) {
    fprintf(ps->err, "aspirec: --plugin=%s: built for plugin ABI version %d; this aspirec has version %d%s\n", path,
            info->abi_version, APX_PLUGIN_ABI_VERSION,
            info->abi_version > APX_PLUGIN_ABI_VERSION ? " (rebuild it against this aspirec, or upgrade aspirec)" : "");
    dlclose(h);
    return 2;
  }
  if (!info->register_plugin) {
    fprintf(ps->err, "aspirec: --plugin=%s: its info has no register function\n", path);
    dlclose(h);
    return 2;
  }
  apx_plugin *p = calloc(1, sizeof *p);
  if (!p) abort();
  p->handle = h;
  p->path = strdup(path);
  p->info = info;
  apx_plugin_host host = {ps, p, false};
  int rc = info->register_plugin(&apx_plugin_api_table, &host);
  if (rc != 0 || host.failed) {
    if (!host.failed) fprintf(ps->err, "aspirec: --plugin=%s: its registration failed (returned %d)\n", path, rc);
    apx_plugins_forget(ps, p);
    free(p->path);
    free(p);
    dlclose(h);
    return 2;
  }
  ps->list = apx_plugin_push(ps->list, ps->n, sizeof *ps->list);
  ps->list[ps->n++] = p;
  return 0;
}

int apx_plugins_load_list(apx_plugins *ps, const char *list) {
  if (!list) return 0;
  const char *s = list;
  while (*s) {
    const char *e = strchr(s, ':');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n) {
      char *one = strndup(s, n);
      if (!one) abort();
      int rc = apx_plugins_load(ps, one);
      free(one);
      if (rc) return rc;
    }
    s += n;
    if (*s == ':') s++;
  }
  return 0;
}

void apx_plugins_free(apx_plugins *ps) {
  for (size_t i = 0; i < ps->n; i++) apx_plugins_forget(ps, ps->list[i]);
  /* Unload in reverse order of loading. */
  for (size_t i = ps->n; i-- > 0;) {
    dlclose(ps->list[i]->handle);
    free(ps->list[i]->path);
    free(ps->list[i]);
  }
  free(ps->list);
  free(ps->passes);
  free(ps->backends);
  memset(ps, 0, sizeof *ps);
}

/* ---- the pass list and the back-end lookup ------------------------------ */

apx_pass_slot *apx_plugins_pass_list(const apx_plugins *ps, size_t *n) {
  size_t total = apx_pipeline_len + (ps ? ps->npasses : 0);
  apx_pass_slot *list = calloc(total ? total : 1, sizeof *list);
  if (!list) abort();
  size_t k = 0;
  for (size_t i = 0; i < apx_pipeline_len; i++) list[k++] = (apx_pass_slot){&apx_pipeline[i], NULL};
  /* Registration order: a pass placed before X goes right before X (after
   * earlier ones placed before X); one placed after X goes after X and after
   * earlier ones placed after X. */
  for (size_t j = 0; ps && j < ps->npasses; j++) {
    const apx_plugin_pass *p = ps->passes[j];
    size_t at = k;
    for (size_t i = 0; i < k; i++)
      if (strcmp(list[i].pass->name, p->relative_to) == 0) {
        at = i;
        break;
      }
    if (at == k) continue; /* checked at registration: cannot happen */
    if (p->where == APX_PLUGIN_AFTER) {
      at++;
      while (at < k && list[at].plugin && list[at].plugin->where == APX_PLUGIN_AFTER &&
             strcmp(list[at].plugin->relative_to, p->relative_to) == 0)
        at++;
    }
    memmove(&list[at + 1], &list[at], (k - at) * sizeof *list);
    list[at] = (apx_pass_slot){&p->pass, p};
    k++;
  }
  *n = k;
  return list;
}

bool apx_plugins_has_pass(const apx_plugins *ps, const char *name) {
  if (apx_pipeline_find(name)) return true;
  return ps && apx_pass_name_taken(ps, name);
}

const apx_backend *apx_plugins_backend_find(const apx_plugins *ps, const char *name) {
  const apx_backend *be = apx_backend_find(name);
  if (be || !ps || !name) return be;
  for (size_t i = 0; i < ps->nbackends; i++)
    if (strcmp(ps->backends[i]->be.name, name) == 0) return &ps->backends[i]->be;
  return NULL;
}

void apx_plugins_list_passes(const apx_plugins *ps, FILE *out) {
  size_t n;
  apx_pass_slot *list = apx_plugins_pass_list(ps, &n);
  for (size_t i = 0; i < n; i++) {
    if (list[i].plugin)
      fprintf(out, "%-10s %s [plugin %s]\n", list[i].pass->name, list[i].pass->description,
              apx_plugin_name(list[i].plugin->from));
    else fprintf(out, "%-10s %s\n", list[i].pass->name, list[i].pass->description);
  }
  free(list);
}

void apx_plugins_list_targets(const apx_plugins *ps, FILE *out) {
  for (size_t i = 0; i < apx_backends_len; i++) fprintf(out, "%-10s %s\n", apx_backends[i].name, apx_backends[i].description);
  for (size_t i = 0; ps && i < ps->nbackends; i++)
    fprintf(out, "%-10s %s [plugin %s]\n", ps->backends[i]->be.name, ps->backends[i]->be.description,
            apx_plugin_name(ps->backends[i]->from));
}

int apx_plugin_run_pass(const apx_plugin_pass *p, apx_module *m) { return p->run(&apx_plugin_api_table, m, p->ud); }
