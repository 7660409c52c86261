/* The Kubernetes objects of a resource, for --emit=k8s and --emit=helm
 * (kube.h; doc/targets.md, "Kubernetes").
 *
 * Every workload is found by its Service's DNS name, so a reference renders
 * as `name:target_port` (the Service listens on the target port). Plain
 * environment goes to a ConfigMap `<r>-config`, anything that would reveal a
 * secret to a Secret `<r>-secrets`; the container reads each variable with
 * configMapKeyRef / secretKeyRef. k8s writes values as literals; helm as
 * `{{ .Values.… }}`, always inside a double-quoted scalar, so that every
 * template is valid YAML before and after rendering. */
#include "kube.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/names.h"
#include "ir/render.h"
#include "ir/walk.h"

#define APX_KUBE_WAIT_IMAGE "busybox:1.36"
#define APX_KUBE_KUBECTL_IMAGE "bitnami/kubectl:1.31"
#define APX_KUBE_INT_TAG "tag:yaml.org,2002:int"

void apx_kube_init(apx_kube *k, apx_module *m, apx_output *out, apx_kube_mode mode) {
  memset(k, 0, sizeof *k);
  k->m = m;
  k->out = out;
  k->mode = mode;
  k->target = mode == APX_KUBE_HELM ? "the Helm chart" : "Kubernetes manifests";
  k->app = apx_name_dns_label(m->arena, m->app_name);
  apx_map_init_ptr(&k->values, m->arena);
  apx_map_init_ptr(&k->warned, m->arena);
  apx_map_init_str(&k->objnames, m->arena);
}

void apx_kube_free(apx_kube *k) {
  if (k->main_started) apx_yaml_free(&k->main);
  if (k->secrets_started) apx_yaml_free(&k->secrets);
  if (k->cur_open) apx_yaml_free(&k->cur);
  free(k->cur_path);
  k->main_started = k->secrets_started = k->cur_open = false;
  k->cur_path = NULL;
}

/* ---- names ---------------------------------------------------------------- */

static bool apx_kube_is_built(const apx_resource *r) {
  return r->kind == APX_KIND_PROJECT || (r->kind == APX_KIND_EXECUTABLE && r->build);
}

bool apx_kube_is_workload(const apx_resource *r) {
  return r && r->publish && (r->kind == APX_KIND_CONTAINER || apx_kube_is_built(r));
}

static const apx_resource *apx_kube_workload_of(const apx_resource *r) {
  const apx_resource *run = apx_ir_runner(r);
  return apx_kube_is_workload(run) ? run : NULL;
}

const char *apx_kube_name(apx_kube *k, const apx_resource *r) {
  const char *s = apx_name_dns_label(k->m->arena, r->name);
  /* A Service name is a DNS-1035 label: it must start with a letter. */
  if (s[0] >= '0' && s[0] <= '9') {
    const char *p = apx_arena_printf(k->m->arena, "r-%s", s);
    return apx_name_dns_label(k->m->arena, p);
  }
  return s;
}

const char *apx_kube_key(apx_kube *k, const char *name) {
  apx_buf b = {0};
  for (const char *p = name ? name : ""; *p; p++) {
    char c = *p;
    if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) c = '_';
    apx_buf_putc(&b, c);
  }
  const char *s = apx_buf_str(&b);
  const char *r = (s[0] >= 'a' && s[0] <= 'z') ? apx_arena_strdup(k->m->arena, s)
                                               : apx_arena_printf(k->m->arena, "x_%s", s);
  apx_buf_free(&b);
  return r;
}

/* A ConfigMap or Secret key: [-._a-zA-Z0-9]+; other bytes become '_'. */
static const char *apx_kube_data_key(apx_kube *k, const char *name) {
  char *s = apx_arena_strdup(k->m->arena, name && name[0] ? name : "_");
  for (char *p = s; *p; p++)
    if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._", *p)))
      *p = '_';
  return s;
}

/* A container port name: an IANA service name (<= 15, [a-z0-9-], a letter). */
static const char *apx_kube_port_name(apx_kube *k, const apx_endpoint *e) {
  const char *s = apx_name_dns_label(k->m->arena, e->name);
  size_t n = strlen(s);
  bool letter = false;
  for (size_t i = 0; i < n && i < 15; i++)
    if (s[i] >= 'a' && s[i] <= 'z') letter = true;
  if (n > 15 || !letter || strstr(s, "--")) return apx_arena_printf(k->m->arena, "p%d", e->target_port);
  return s;
}

/* Warns once per (resource, key). */
static bool apx_kube_once(apx_kube *k, const apx_resource *r, const void *key) {
  size_t *seen = apx_map_ptr(&k->warned, r, key, true);
  if (*seen != (size_t)-1) return false;
  *seen = 1;
  return true;
}

void apx_kube_image_parts(apx_kube *k, const apx_resource *r, const char **repo, const char **tag) {
  *repo = *tag = NULL;
  const char *img = NULL;
  if (r->image && r->image->kind == APX_V_STRING) img = r->image->u.str.s;
  /* A container built from a Dockerfile without an image name (what a
   * manifest's container.v1 build or dockerfile.v0 is) is named like a
   * project's image. */
  else if (!r->image && (apx_kube_is_built(r) || r->build))
    img = apx_arena_printf(k->m->arena, "%s:latest", apx_kube_name(k, r));
  if (!img) return;
  const char *slash = strrchr(img, '/');
  const char *colon = strrchr(img, ':');
  if (strchr(img, '@') || !colon || (slash && colon < slash)) {
    /* A digest, or no tag: the whole reference is the repository. */
    *repo = img;
    *tag = strchr(img, '@') ? "" : "latest";
    return;
  }
  *repo = apx_arena_strndup(k->m->arena, img, (size_t)(colon - img));
  *tag = colon + 1;
}

bool apx_kube_has_external(const apx_resource *r) {
  for (size_t i = 0; i < r->nendpoints; i++)
    if (r->endpoints[i].external && r->endpoints[i].target_port > 0) return true;
  return false;
}

static bool apx_kube_is_http(const apx_endpoint *e) {
  return e->scheme && (strcmp(e->scheme, "http") == 0 || strcmp(e->scheme, "https") == 0);
}

bool apx_kube_has_http_external(const apx_resource *r) {
  for (size_t i = 0; i < r->nendpoints; i++)
    if (r->endpoints[i].external && r->endpoints[i].target_port > 0 && apx_kube_is_http(&r->endpoints[i])) return true;
  return false;
}

/* ---- values: literals or templates ------------------------------------------ */

/* What follows a value in every helm action: the action stands inside a
 * double-quoted YAML scalar, so the value is written as the inside of a JSON
 * string (toJson, then its quotes cut: JSON's escapes are YAML's), and a
 * value holding `"` or `\` still renders to valid YAML. The quote is
 * `printf "%c" 34` because a `"` in the action would be escaped by YAML
 * itself before Helm reads the template. */
#define APX_KUBE_TO_STR " | toJson | trimPrefix (printf `%%c` 34) | trimSuffix (printf `%%c` 34)"

/* `{{ .Values.PATH }}` as the inside of a YAML string */
static const char *apx_kube_tv(apx_kube *k, const char *path) {
  return apx_arena_printf(k->m->arena, "{{ .Values.%s" APX_KUBE_TO_STR " }}", path);
}

static const char *apx_kube_param_value(apx_kube *k, const apx_resource *p) {
  size_t *slot = apx_map_ptr(&k->values, p, NULL, false);
  if (slot && *slot != (size_t)-1) return k->pvalues[*slot];
  return p->param ? p->param->value : NULL;
}

/* ---- render target ------------------------------------------------------------ */

static void apx_kube_host(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  apx_kube *k = ud;
  (void)e;
  apx_buf_puts(out, apx_kube_name(k, apx_ir_runner(r)));
}

/* The Service listens on the workload's own port: one number per endpoint
 * whichever side of the Service one stands. */
static void apx_kube_port(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  apx_kube *k = ud;
  (void)r;
  if (e->target_port <= 0) {
    k->cb_error = "the endpoint has no target port";
    return;
  }
  apx_buf_printf(out, "%d", e->target_port);
}

static bool apx_kube_param(void *ud, const apx_resource *p, apx_buf *out) {
  apx_kube *k = ud;
  if (k->mode == APX_KUBE_K8S) {
    const char *v = apx_kube_param_value(k, p);
    apx_buf_puts(out, v ? v : "");
    return false;
  }
  const char *key = apx_kube_key(k, p->name);
  if (p->param && p->param->secret)
    apx_buf_printf(out,
                   "{{ required `secret %s has no value: set secrets.%s (helm --set)` .Values.secrets.%s" APX_KUBE_TO_STR
                   " }}",
                   p->name, key, key);
  else if (p->param && !p->param->value)
    apx_buf_printf(out,
                   "{{ required `parameter %s has no value: set parameters.%s` .Values.parameters.%s" APX_KUBE_TO_STR
                   " }}",
                   p->name, key, key);
  else apx_buf_puts(out, apx_kube_tv(k, apx_arena_printf(k->m->arena, "parameters.%s", key)));
  return true;
}

static void apx_kube_text(void *ud, const char *s, size_t n, apx_buf *out) {
  apx_kube *k = ud;
  for (size_t i = 0; i < n; i++) {
    /* Helm would read `{{` in the program's text as an action. */
    if (k->mode == APX_KUBE_HELM && s[i] == '{' && i + 1 < n && s[i + 1] == '{') {
      apx_buf_puts(out, "{{`{{`}}");
      i++;
      continue;
    }
    if (k->dollar && s[i] == '$' && i + 1 < n && s[i + 1] == '(') apx_buf_putc(out, '$');
    apx_buf_putc(out, s[i]);
  }
}

static apx_render_target apx_kube_target(apx_kube *k) {
  apx_render_target t = {0};
  t.ud = k;
  t.host = apx_kube_host;
  t.port = apx_kube_port;
  t.target_port = apx_kube_port;
  t.param = apx_kube_param;
  t.text = apx_kube_text;
  t.path = NULL; /* only binds have paths; they are handled on their own */
  return t;
}

/* Warns when a value points at a resource that runs but has no Service here. */
typedef struct apx_kube_refs {
  apx_kube *k;
  const apx_resource *r;
} apx_kube_refs;

static void apx_kube_check_ref(void *ud, const apx_ref *ref, const apx_resource *run) {
  apx_kube_refs *c = ud;
  if (apx_kube_is_workload(run) || !apx_kube_once(c->k, c->r, run)) return;
  apx_warning(c->k->m->diag, ref->loc.file ? ref->loc : c->r->loc,
              "'%s' refers to '%s', which is not part of %s; the address will not resolve", c->r->name, run->name,
              c->k->target);
}

static void apx_kube_check_refs(apx_kube *k, const apx_resource *r, const apx_value *v) {
  apx_kube_refs c = {k, r};
  apx_ir_value_addresses(v, apx_kube_check_ref, &c);
}

static bool apx_kube_render(apx_kube *k, const apx_resource *r, const apx_value *v, const char *what, apx_buf *out) {
  apx_render_target t = apx_kube_target(k);
  const char *why = NULL;
  k->cb_error = NULL;
  apx_kube_check_refs(k, r, v);
  bool ok = apx_render_value(&t, v, out, &why);
  if (ok && k->cb_error) {
    ok = false;
    why = k->cb_error;
  }
  if (!ok)
    apx_error(k->m->diag, v && v->loc.file ? v->loc : r->loc, "cannot write %s of '%s' to %s: %s", what, r->name,
              k->target, why ? why : "unknown reason");
  return ok;
}

/* A rendered value as a YAML string; helm's always double-quoted. */
static void apx_kube_value(apx_kube *k, apx_yaml *y, const apx_resource *r, const apx_value *v, const char *what) {
  apx_buf b = {0};
  apx_kube_render(k, r, v, what, &b);
  if (k->mode == APX_KUBE_HELM) apx_yaml_str_quoted(y, apx_buf_str(&b));
  else apx_yaml_str(y, apx_buf_str(&b));
  apx_buf_free(&b);
}

static const char *apx_kube_arg_var(apx_kube *k, size_t i);

/* A command line item; a secret one (counter set) as `$(VAR)` of its Secret. */
static void apx_kube_item(apx_kube *k, apx_yaml *y, const apx_resource *r, const apx_value *v, const char *what,
                          size_t *counter) {
  if (counter && apx_ir_value_has_secret(v)) {
    apx_yaml_str(y, apx_arena_printf(k->m->arena, "$(%s)", apx_kube_arg_var(k, (*counter)++)));
    return;
  }
  apx_kube_value(k, y, r, v, what);
}

static void apx_kube_list_items_c(apx_kube *k, apx_yaml *y, const apx_resource *r, const apx_value *v,
                                  const char *what, size_t *counter) {
  if (!v) return;
  if (v->kind != APX_V_LIST) {
    apx_kube_item(k, y, r, v, what, counter);
    return;
  }
  for (size_t i = 0; i < v->u.list.n; i++) apx_kube_item(k, y, r, v->u.list.items[i], what, counter);
}

static void apx_kube_list_items(apx_kube *k, apx_yaml *y, const apx_resource *r, const apx_value *v,
                                const char *what) {
  apx_kube_list_items_c(k, y, r, v, what, NULL);
}

/* A string the chart fills in: helm always quoted. */
static void apx_kube_str(apx_kube *k, apx_yaml *y, const char *s) {
  if (k->mode == APX_KUBE_HELM && strstr(s, "{{")) apx_yaml_str_quoted(y, s);
  else apx_yaml_str(y, s);
}

/* ---- documents -------------------------------------------------------------------- */

void apx_kube_add_file(apx_kube *k, apx_yaml *y, const char *path) {
  size_t len = 0;
  const char *text = apx_yaml_finish(y, &len);
  if (!text) apx_error(k->m->diag, APX_NOLOC, "cannot write %s: %s", path, y->error);
  else apx_output_add_owned(k->out, path, apx_buf_take(&y->out, NULL), len);
}

static void apx_kube_flush_helm(apx_kube *k) {
  if (!k->cur_open) return;
  apx_yaml_end_map(&k->cur);
  size_t len = 0;
  const char *text = apx_yaml_finish(&k->cur, &len);
  if (!text) {
    apx_error(k->m->diag, APX_NOLOC, "cannot write %s: %s", k->cur_path, k->cur.error);
  } else if (k->cur_guard) {
    /* The condition sits in YAML comments, so the file stays valid YAML;
     * Helm evaluates actions in comments too and drops the object when the
     * condition is false. Only fixed text and an identifier go here. */
    apx_buf b = {0};
    apx_buf_printf(&b, "# {{- if %s }}\n", k->cur_guard);
    apx_buf_append(&b, text, len);
    apx_buf_puts(&b, "# {{- end }}\n");
    size_t blen = 0;
    char *data = apx_buf_take(&b, &blen); /* not b.len in the same call: the order of arguments is unspecified */
    apx_output_add_owned(k->out, k->cur_path, data, blen);
  } else {
    apx_output_add_owned(k->out, k->cur_path, apx_buf_take(&k->cur.out, NULL), len);
  }
  apx_yaml_free(&k->cur);
  free(k->cur_path);
  k->cur_path = NULL;
  k->cur_open = false;
  k->cur_guard = NULL;
}

static void apx_kube_flush(apx_kube *k) {
  if (k->mode == APX_KUBE_HELM) {
    apx_kube_flush_helm(k);
    return;
  }
  if (k->main_started) apx_yaml_end_map(&k->main);
  if (k->secrets_started) apx_yaml_end_map(&k->secrets);
}

/* Starts an object (its top-level map is open on return) of apiVersion and
 * kind, named name. */
apx_yaml *apx_kube_begin(apx_kube *k, const apx_resource *r, const char *file, bool secret, const char *guard,
                                const char *apiversion, const char *kind) {
  apx_yaml *y;
  if (k->mode == APX_KUBE_HELM) {
    apx_kube_flush_helm(k);
    apx_yaml_init(&k->cur);
    k->cur_open = true;
    apx_buf p = {0};
    apx_buf_printf(&p, "templates/%s/%s.yaml", r ? apx_kube_name(k, r) : "_shared", file);
    k->cur_path = strdup(apx_buf_str(&p));
    if (!k->cur_path) abort();
    apx_buf_free(&p);
    k->cur_guard = guard;
    y = &k->cur;
  } else {
    bool *started = secret ? &k->secrets_started : &k->main_started;
    y = secret ? &k->secrets : &k->main;
    if (!*started) {
      apx_yaml_init(y);
      *started = true;
    } else {
      apx_yaml_end_map(y);
      apx_yaml_next_document(y);
    }
    if (secret) k->any_secret = true;
  }
  apx_yaml_begin_map(y);
  apx_yaml_kv_str(y, "apiVersion", apiversion);
  apx_yaml_kv_str(y, "kind", kind);
  return y;
}

/* A label value Kubernetes accepts: at most 63 bytes of [-A-Za-z0-9_.],
 * starting and ending with a letter or digit, or empty. */
static bool apx_kube_label_value_ok(const char *s) {
  size_t n = strlen(s);
  if (n == 0) return true;
  if (n > 63) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && ((i == 0 || i == n - 1) || !strchr("-_.", c))) return false;
  }
  return true;
}

/* A label of the program, rendered; NULL (with a warning, once) when it
 * cannot be a label value: it then goes to the annotations. */
static char *apx_kube_label_text(apx_kube *k, const apx_resource *r, const apx_entry *e) {
  apx_buf b = {0};
  apx_kube_render(k, r, e->value, "a label", &b);
  char *t = apx_buf_take(&b, NULL);
  if (!t) t = strdup("");
  if (!t) abort();
  /* helm: a value that comes from .Values cannot be checked here */
  if (strstr(t, "{{") || apx_kube_label_value_ok(t)) return t;
  if (apx_kube_once(k, r, e))
    apx_warning(k->m->diag, e->key_loc.file ? e->key_loc : r->loc,
                "the label '%s' of '%s' is not a valid Kubernetes label value (at most 63 letters, digits, '-', '_', "
                "'.'); %s writes it as an annotation",
                e->key, r->name, k->target);
  free(t);
  return NULL;
}

/* The labels every object of r carries; `selector` only the matching ones. */
static void apx_kube_labels(apx_kube *k, apx_yaml *y, const apx_resource *r, bool selector) {
  apx_yaml_begin_map(y);
  apx_yaml_kv_str(y, "app.kubernetes.io/name", r ? apx_kube_name(k, r) : k->app);
  if (k->mode == APX_KUBE_HELM) {
    apx_yaml_key(y, "app.kubernetes.io/instance");
    apx_yaml_str_quoted(y, "{{ .Release.Name }}");
  }
  if (!selector) {
    apx_yaml_kv_str(y, "app.kubernetes.io/part-of", k->app);
    apx_yaml_kv_str(y, "app.kubernetes.io/managed-by", k->mode == APX_KUBE_HELM ? "Helm" : "aspirec");
    if (r)
      for (size_t i = 0; i < r->nlabels; i++) {
        char *t = apx_kube_label_text(k, r, &r->labels[i]);
        if (!t) continue;
        apx_yaml_key(y, r->labels[i].key);
        apx_kube_str(k, y, t);
        free(t);
      }
  }
  apx_yaml_end_map(y);
}

void apx_kube_metadata(apx_kube *k, apx_yaml *y, const apx_resource *r, const char *name) {
  apx_yaml_key(y, "metadata");
  apx_yaml_begin_map(y);
  apx_yaml_kv_str(y, "name", name);
  apx_yaml_key(y, "labels");
  apx_kube_labels(k, y, r, false);
  bool any = r && r->nannotations;
  char **moved = NULL; /* labels that are not label values */
  if (r && r->nlabels) {
    moved = calloc(r->nlabels, sizeof *moved);
    if (!moved) abort();
    for (size_t i = 0; i < r->nlabels; i++) {
      char *t = apx_kube_label_text(k, r, &r->labels[i]);
      if (t) {
        free(t);
        continue;
      }
      apx_buf b = {0};
      apx_kube_render(k, r, r->labels[i].value, "a label", &b);
      moved[i] = apx_buf_take(&b, NULL);
      if (!moved[i]) moved[i] = strdup("");
      any = true;
    }
  }
  if (any) {
    apx_yaml_key(y, "annotations");
    apx_yaml_begin_map(y);
    for (size_t i = 0; i < r->nannotations; i++) {
      apx_yaml_key(y, r->annotations[i].key);
      apx_kube_value(k, y, r, r->annotations[i].value, "an annotation");
    }
    for (size_t i = 0; moved && i < r->nlabels; i++) {
      if (!moved[i]) continue;
      apx_yaml_key(y, r->labels[i].key);
      apx_kube_str(k, y, moved[i]);
    }
    apx_yaml_end_map(y);
  }
  if (moved)
    for (size_t i = 0; i < r->nlabels; i++) free(moved[i]);
  free(moved);
  apx_yaml_end_map(y);
}

/* ---- environment ------------------------------------------------------------------- */

typedef struct apx_kube_env {
  const char *name;  /* the variable */
  const char *key;   /* its key in the ConfigMap or Secret */
  char *text;        /* rendered (heap) */
  bool secret;
} apx_kube_env;

/* The variable through which a secret argument reaches the command line:
 * Kubernetes expands `$(NAME)` in command and args from the container's
 * environment, so the value stays in the Secret. */
static const char *apx_kube_arg_var(apx_kube *k, size_t i) {
  return apx_arena_printf(k->m->arena, "ASPIREC_SECRET_ARG_%zu", i);
}

static size_t apx_kube_count_secret_items(const apx_value *v) {
  if (!v) return 0;
  if (v->kind != APX_V_LIST) return apx_ir_value_has_secret(v) ? 1 : 0;
  size_t n = 0;
  for (size_t i = 0; i < v->u.list.n; i++) n += apx_ir_value_has_secret(v->u.list.items[i]) ? 1 : 0;
  return n;
}

static void apx_kube_add_env(apx_kube *k, apx_kube_env *v, size_t *n, apx_map *keys, const apx_resource *r,
                             const char *name, const apx_value *value, bool *any_plain, bool *any_secret) {
  char w[256];
  snprintf(w, sizeof w, "environment variable %s", name);
  apx_buf b = {0};
  if (value) apx_kube_render(k, r, value, w, &b);
  apx_kube_env *e = &v[(*n)++];
  e->name = name;
  e->secret = value && apx_ir_value_has_secret(value);
  const char *key = apx_kube_data_key(k, name);
  size_t *slot = apx_map_str(keys, key, true);
  /* Two variables that sanitise to one key: the later gets a suffix. */
  for (int j = 2; *slot != (size_t)-1; j++) {
    key = apx_arena_printf(k->m->arena, "%s_%d", apx_kube_data_key(k, name), j);
    slot = apx_map_str(keys, key, true);
  }
  *slot = *n;
  e->key = key;
  e->text = apx_buf_take(&b, NULL);
  if (e->secret) *any_secret = true;
  else *any_plain = true;
}

static void apx_kube_add_secret_items(apx_kube *k, apx_kube_env *v, size_t *n, apx_map *keys, const apx_resource *r,
                                      const apx_value *list, size_t *counter, bool *any_plain, bool *any_secret) {
  if (!list) return;
  size_t cnt = list->kind == APX_V_LIST ? list->u.list.n : 1;
  for (size_t i = 0; i < cnt; i++) {
    const apx_value *it = list->kind == APX_V_LIST ? list->u.list.items[i] : list;
    if (!apx_ir_value_has_secret(it)) continue;
    apx_kube_add_env(k, v, n, keys, r, apx_kube_arg_var(k, (*counter)++), it, any_plain, any_secret);
  }
}

static apx_kube_env *apx_kube_env_of(apx_kube *k, const apx_resource *r, size_t *n, bool *any_plain,
                                     bool *any_secret) {
  bool built = apx_kube_is_built(r);
  size_t extra = built ? 0
                       : apx_kube_count_secret_items(r->entrypoint) + apx_kube_count_secret_items(r->command) +
                             apx_kube_count_secret_items(r->args);
  apx_kube_env *v = calloc(r->nenv + extra + 1, sizeof *v);
  if (!v) abort();
  apx_map keys;
  apx_map_init_str(&keys, k->m->arena);
  *any_plain = *any_secret = false;
  *n = 0;
  for (size_t i = 0; i < r->nenv; i++) {
    const char *key = r->env[i].key;
    bool ok = key[0] && !(key[0] >= '0' && key[0] <= '9');
    for (const char *p = key; *p; p++)
      if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._", *p)))
        ok = false;
    if (!ok && apx_kube_once(k, r, &r->env[i]))
      apx_warning(k->m->diag, r->env[i].key_loc.file ? r->env[i].key_loc : r->loc,
                  "the environment variable '%s' of '%s' is not a name Kubernetes accepted before 1.32 "
                  "([-._a-zA-Z][-._a-zA-Z0-9]*); an older cluster rejects the pod (%s)",
                  key, r->name, k->target);
    apx_kube_add_env(k, v, n, &keys, r, key, r->env[i].value, any_plain, any_secret);
  }
  if (!built) {
    /* In the order apx_kube_container writes them. */
    size_t counter = 0;
    apx_kube_add_secret_items(k, v, n, &keys, r, r->entrypoint, &counter, any_plain, any_secret);
    apx_kube_add_secret_items(k, v, n, &keys, r, r->command, &counter, any_plain, any_secret);
    apx_kube_add_secret_items(k, v, n, &keys, r, r->args, &counter, any_plain, any_secret);
  }
  return v;
}

static void apx_kube_env_free(apx_kube_env *v, size_t n) {
  for (size_t i = 0; i < n; i++) free(v[i].text);
  free(v);
}

static void apx_kube_data_object(apx_kube *k, const apx_resource *r, const apx_kube_env *env, size_t n,
                                 bool secret) {
  const char *name = apx_arena_printf(k->m->arena, "%s-%s", apx_kube_name(k, r), secret ? "secrets" : "config");
  apx_yaml *y = apx_kube_begin(k, r, secret ? "secret" : "configmap", secret, NULL, "v1",
                               secret ? "Secret" : "ConfigMap");
  apx_kube_metadata(k, y, r, name);
  if (secret) apx_yaml_kv_str(y, "type", "Opaque");
  apx_yaml_key(y, secret ? "stringData" : "data");
  apx_yaml_begin_map(y);
  for (size_t i = 0; i < n; i++) {
    if (env[i].secret != secret) continue;
    apx_yaml_key(y, env[i].key);
    if (k->mode == APX_KUBE_HELM) apx_yaml_str_quoted(y, env[i].text);
    else apx_yaml_str(y, env[i].text);
  }
  apx_yaml_end_map(y);
}

static void apx_kube_env_refs(apx_kube *k, apx_yaml *y, const apx_resource *r, const apx_kube_env *env, size_t n) {
  if (!n) return;
  apx_yaml_key(y, "env");
  apx_yaml_begin_seq(y);
  for (size_t i = 0; i < n; i++) {
    apx_yaml_begin_map(y);
    apx_yaml_kv_str(y, "name", env[i].name);
    apx_yaml_key(y, "valueFrom");
    apx_yaml_begin_map(y);
    apx_yaml_key(y, env[i].secret ? "secretKeyRef" : "configMapKeyRef");
    apx_yaml_begin_map(y);
    apx_yaml_kv_str(y, "name",
                    apx_arena_printf(k->m->arena, "%s-%s", apx_kube_name(k, r), env[i].secret ? "secrets" : "config"));
    apx_yaml_kv_str(y, "key", env[i].key);
    apx_yaml_end_map(y);
    apx_yaml_end_map(y);
    apx_yaml_end_map(y);
  }
  apx_yaml_end_seq(y);
}

/* ---- probes -------------------------------------------------------------------------- */

static int64_t apx_kube_seconds(int64_t ms) { return ms <= 0 ? 0 : ms < 1000 ? 1 : (ms + 999) / 1000; }

static void apx_kube_probe(apx_kube *k, apx_yaml *y, const apx_resource *r, const apx_health *h, const char *key,
                           bool liveness) {
  const apx_endpoint *e = h->endpoint ? apx_ir_endpoint_find(r, h->endpoint) : NULL;
  if (h->kind != APX_HEALTH_EXEC && (!e || e->target_port <= 0)) {
    if (!liveness)
      apx_error(k->m->diag, h->loc, "the health check of '%s' has no endpoint with a target port for %s", r->name,
                k->target);
    return;
  }
  if (h->kind == APX_HEALTH_EXEC && (!h->exec || h->exec->kind != APX_V_LIST || h->exec->u.list.n == 0)) {
    if (!liveness)
      apx_error(k->m->diag, h->loc, "the exec health check of '%s' needs a non-empty list (argv)", r->name);
    return;
  }
  if (h->kind == APX_HEALTH_EXEC && apx_ir_value_has_secret(h->exec)) {
    /* A probe's command is not expanded from the environment: the secret
     * would be written in clear. */
    if (!liveness)
      apx_warning(k->m->diag, h->loc,
                  "the exec health check of '%s' holds a secret, which %s would write in clear; it is left out",
                  r->name, k->target);
    return;
  }
  apx_yaml_key(y, key);
  apx_yaml_begin_map(y);
  if (h->kind == APX_HEALTH_HTTP) {
    apx_yaml_key(y, "httpGet");
    apx_yaml_begin_map(y);
    const char *path = h->path && h->path[0] ? h->path : "/";
    apx_yaml_kv_str(y, "path", path[0] == '/' ? path : apx_arena_printf(k->m->arena, "/%s", path));
    apx_yaml_kv_int(y, "port", e->target_port);
    if (e->scheme && strcmp(e->scheme, "https") == 0) apx_yaml_kv_str(y, "scheme", "HTTPS");
    apx_yaml_end_map(y);
  } else if (h->kind == APX_HEALTH_TCP) {
    apx_yaml_key(y, "tcpSocket");
    apx_yaml_begin_map(y);
    apx_yaml_kv_int(y, "port", e->target_port);
    apx_yaml_end_map(y);
  } else {
    apx_yaml_key(y, "exec");
    apx_yaml_begin_map(y);
    apx_yaml_key(y, "command");
    apx_yaml_begin_seq(y);
    apx_kube_list_items(k, y, r, h->exec, "the exec health check");
    apx_yaml_end_seq(y);
    apx_yaml_end_map(y);
  }
  if (h->start_period_ms > 0) apx_yaml_kv_int(y, "initialDelaySeconds", apx_kube_seconds(h->start_period_ms));
  if (h->interval_ms > 0) apx_yaml_kv_int(y, "periodSeconds", apx_kube_seconds(h->interval_ms));
  if (h->timeout_ms > 0) apx_yaml_kv_int(y, "timeoutSeconds", apx_kube_seconds(h->timeout_ms));
  if (h->retries > 0) apx_yaml_kv_int(y, "failureThreshold", h->retries);
  apx_yaml_end_map(y);
}

static const apx_health *apx_kube_first_check(const apx_resource *r) {
  for (size_t i = 0; i < r->nhealth; i++)
    if (r->health[i].kind != APX_HEALTH_LOG) return &r->health[i];
  return NULL;
}

static void apx_kube_probes(apx_kube *k, apx_yaml *y, const apx_resource *r) {
  const apx_health *first = NULL;
  for (size_t i = 0; i < r->nhealth; i++) {
    const apx_health *h = &r->health[i];
    if (h->kind == APX_HEALTH_LOG) {
      apx_warning(k->m->diag, h->loc, "the log health check of '%s' cannot be expressed in %s; it is left out",
                  r->name, k->target);
    } else if (!first) {
      first = h;
    } else {
      apx_warning(k->m->diag, h->loc,
                  "'%s' has more than one health check; %s has one readiness probe, so only the first is written",
                  r->name, k->target);
    }
  }
  if (!first) return;
  apx_kube_probe(k, y, r, first, "readinessProbe", false);
  apx_kube_probe(k, y, r, first, "livenessProbe", true);
}

/* ---- waits: init containers ------------------------------------------------------------ */

static bool apx_kube_is_job(const apx_resource *r) { return r->restart == APX_RESTART_NO; }

/* One init container per dependency that can be waited for. */
static void apx_kube_waits(apx_kube *k, apx_yaml *y, const apx_resource *r) {
  apx_map seen;
  apx_map_init_ptr(&seen, k->m->arena);
  bool open = false;
  for (size_t i = 0; i < r->ndeps; i++) {
    const apx_dep *d = &r->deps[i];
    if (d->kind == APX_DEP_REFERENCE || !d->target) continue;
    const apx_resource *s = apx_kube_workload_of(d->target);
    if (!s || s == r) continue;
    size_t *slot = apx_map_ptr(&seen, s, (const void *)(uintptr_t)(d->kind == APX_DEP_WAIT_COMPLETION), true);
    if (*slot != (size_t)-1) continue;
    *slot = 1;
    const char *sname = apx_kube_name(k, s);
    const char *image = NULL, *script = NULL, *target = NULL;
    const char **argv = NULL;
    const char *wait_argv[5];
    if (d->kind == APX_DEP_WAIT_COMPLETION || (apx_kube_is_job(s) && d->kind == APX_DEP_WAIT_HEALTHY)) {
      if (!apx_kube_is_job(s)) {
        apx_warning(k->m->diag, d->loc,
                    "'%s' waits for '%s' to complete, but '%s' is a long-running Deployment in %s (restart is not "
                    "\"no\"); the wait is left out",
                    r->name, s->name, s->name, k->target);
        continue;
      }
      wait_argv[0] = "wait";
      wait_argv[1] = "--for=condition=complete";
      wait_argv[2] = apx_arena_printf(k->m->arena, "job/%s", sname);
      wait_argv[3] = "--timeout=3600s";
      wait_argv[4] = NULL;
      argv = wait_argv;
      image = k->mode == APX_KUBE_HELM ? apx_kube_tv(k, "images.kubectl") : APX_KUBE_KUBECTL_IMAGE;
      k->need_waiter = true;
    } else if (d->kind == APX_DEP_WAIT_START) {
      if (apx_kube_once(k, r, s))
        apx_warning(k->m->diag, d->loc,
                    "wait_for_start of '%s' on '%s' cannot be expressed in %s (pods start together); it is left out",
                    r->name, s->name, k->target);
      continue;
    } else {
      /* Healthy: the dependency's Service answers, as its health check asks. */
      const apx_health *h = apx_kube_first_check(s);
      const apx_endpoint *e = NULL;
      if (h && h->kind != APX_HEALTH_EXEC && h->endpoint) e = apx_ir_endpoint_find(s, h->endpoint);
      if (!e)
        for (size_t j = 0; j < s->nendpoints && !e; j++)
          if (s->endpoints[j].target_port > 0 && (!s->endpoints[j].protocol || strcmp(s->endpoints[j].protocol, "udp")))
            e = &s->endpoints[j];
      if (!e || e->target_port <= 0) {
        apx_warning(k->m->diag, d->loc,
                    "'%s' waits for '%s', which has no tcp endpoint; %s cannot wait for it, the wait is left out",
                    r->name, s->name, k->target);
        continue;
      }
      image = k->mode == APX_KUBE_HELM ? apx_kube_tv(k, "images.wait") : APX_KUBE_WAIT_IMAGE;
      if (h && h->kind == APX_HEALTH_HTTP) {
        const char *path = h->path && h->path[0] ? h->path : "/";
        bool tls = e->scheme && strcmp(e->scheme, "https") == 0;
        target = apx_arena_printf(k->m->arena, "%s://%s:%d%s%s", tls ? "https" : "http", sname, e->target_port,
                                  path[0] == '/' ? "" : "/", path);
        script = "until wget -q -O /dev/null \"$WAIT_URL\"; do echo \"waiting for $WAIT_URL\"; sleep 2; done";
      } else {
        target = apx_arena_printf(k->m->arena, "%s:%d", sname, e->target_port);
        script = "until nc -z \"${WAIT_URL%:*}\" \"${WAIT_URL##*:}\"; do echo \"waiting for $WAIT_URL\"; sleep 2; done";
      }
    }
    if (!open) {
      apx_yaml_key(y, "initContainers");
      apx_yaml_begin_seq(y);
      open = true;
    }
    apx_yaml_begin_map(y);
    apx_yaml_kv_str(y, "name", apx_name_dns_label(k->m->arena, apx_arena_printf(k->m->arena, "wait-for-%s", sname)));
    apx_yaml_key(y, "image");
    apx_kube_str(k, y, image);
    if (argv) {
      apx_yaml_key(y, "args");
      apx_yaml_begin_seq(y);
      for (size_t j = 0; argv[j]; j++) apx_yaml_str(y, argv[j]);
      apx_yaml_end_seq(y);
    } else {
      apx_yaml_key(y, "command");
      apx_yaml_begin_flow_seq(y);
      apx_yaml_str(y, "sh");
      apx_yaml_str(y, "-c");
      apx_yaml_str(y, script);
      apx_yaml_end_seq(y);
      apx_yaml_key(y, "env");
      apx_yaml_begin_seq(y);
      apx_yaml_begin_map(y);
      apx_yaml_kv_str(y, "name", "WAIT_URL");
      apx_yaml_kv_str(y, "value", target);
      apx_yaml_end_map(y);
      apx_yaml_end_seq(y);
    }
    apx_yaml_end_map(y);
  }
  if (open) apx_yaml_end_seq(y);
}

/* ---- the workload ----------------------------------------------------------------------- */

static const char *apx_kube_vol_name(apx_kube *k, const char *name) { return apx_name_dns_label(k->m->arena, name); }

static void apx_kube_image(apx_kube *k, apx_yaml *y, const apx_resource *r) {
  apx_yaml_key(y, "image");
  const char *repo, *tag;
  apx_kube_image_parts(k, r, &repo, &tag);
  if (k->mode == APX_KUBE_HELM && repo) {
    const char *key = apx_kube_key(k, r->name);
    apx_yaml_str_quoted(y, apx_arena_printf(k->m->arena, "%s:%s",
                                            apx_kube_tv(k, apx_arena_printf(k->m->arena, "resources.%s.image.repository", key)),
                                            apx_kube_tv(k, apx_arena_printf(k->m->arena, "resources.%s.image.tag", key))));
  } else if (repo) {
    apx_yaml_str(y, tag[0] ? apx_arena_printf(k->m->arena, "%s:%s", repo, tag) : repo);
  } else if (r->image) {
    apx_kube_value(k, y, r, r->image, "the image");
  } else {
    apx_error(k->m->diag, r->loc, "container '%s' has neither an image nor a build; %s needs an image", r->name,
              k->target);
    apx_yaml_str(y, "");
  }
}

static void apx_kube_container(apx_kube *k, apx_yaml *y, const apx_resource *r, const apx_kube_env *env, size_t nenv) {
  bool built = apx_kube_is_built(r);
  apx_yaml_begin_map(y);
  apx_yaml_kv_str(y, "name", apx_kube_name(k, r));
  apx_kube_image(k, y, r);
  k->dollar = true;
  size_t counter = 0;
  if (r->entrypoint && !built) {
    apx_yaml_key(y, "command");
    apx_yaml_begin_seq(y);
    apx_kube_list_items_c(k, y, r, r->entrypoint, "the entrypoint", &counter);
    apx_yaml_end_seq(y);
  }
  bool has_args = r->args && (r->args->kind != APX_V_LIST || r->args->u.list.n > 0);
  if (!built && (r->command || has_args)) {
    /* Docker's CMD is Kubernetes' args; its ENTRYPOINT is command. */
    apx_yaml_key(y, "args");
    apx_yaml_begin_seq(y);
    if (r->command) apx_kube_list_items_c(k, y, r, r->command, "the command", &counter);
    apx_kube_list_items_c(k, y, r, r->args, "the arguments", &counter);
    apx_yaml_end_seq(y);
  }
  k->dollar = false;
  if (!built && r->workdir_written) {
    if (r->workdir_written[0] == '/') apx_yaml_kv_str(y, "workingDir", r->workdir_written);
    else
      apx_warning(k->m->diag, r->loc,
                  "the workdir '%s' of '%s' is not an absolute path inside the container; it is left out of %s",
                  r->workdir_written, r->name, k->target);
  }
  bool any_port = false;
  for (size_t i = 0; i < r->nendpoints; i++) {
    const apx_endpoint *e = &r->endpoints[i];
    if (e->target_port <= 0) {
      apx_error(k->m->diag, e->loc, "endpoint '%s' of '%s' has no target port for %s", e->name, r->name, k->target);
      continue;
    }
    if (!any_port) {
      apx_yaml_key(y, "ports");
      apx_yaml_begin_seq(y);
      any_port = true;
    }
    apx_yaml_begin_map(y);
    apx_yaml_kv_str(y, "name", apx_kube_port_name(k, e));
    apx_yaml_kv_int(y, "containerPort", e->target_port);
    apx_yaml_kv_str(y, "protocol", e->protocol && strcmp(e->protocol, "udp") == 0 ? "UDP" : "TCP");
    apx_yaml_end_map(y);
  }
  if (any_port) apx_yaml_end_seq(y);
  apx_kube_env_refs(k, y, r, env, nenv);
  if (k->mode == APX_KUBE_HELM) {
    const char *key = apx_kube_key(k, r->name);
    apx_yaml_key(y, "resources");
    apx_yaml_begin_map(y);
    static const char *const kinds[] = {"requests", "limits"};
    for (int i = 0; i < 2; i++) {
      apx_yaml_key(y, kinds[i]);
      apx_yaml_begin_map(y);
      apx_yaml_key(y, "cpu");
      apx_yaml_str_quoted(y, apx_kube_tv(k, apx_arena_printf(k->m->arena, "resources.%s.resources.%s.cpu", key, kinds[i])));
      apx_yaml_key(y, "memory");
      apx_yaml_str_quoted(
          y, apx_kube_tv(k, apx_arena_printf(k->m->arena, "resources.%s.resources.%s.memory", key, kinds[i])));
      apx_yaml_end_map(y);
    }
    apx_yaml_end_map(y);
  }
  if (!apx_kube_is_job(r)) apx_kube_probes(k, y, r);
  else if (r->nhealth && apx_kube_once(k, r, "health"))
    apx_warning(k->m->diag, r->loc, "'%s' runs once (restart = \"no\"), a Job in %s; its health checks are left out",
                r->name, k->target);
  if (r->nvolumes || r->nbinds) {
    apx_yaml_key(y, "volumeMounts");
    apx_yaml_begin_seq(y);
    for (size_t i = 0; i < r->nvolumes; i++) {
      apx_yaml_begin_map(y);
      apx_yaml_kv_str(y, "name", apx_kube_vol_name(k, r->volumes[i].name));
      apx_yaml_kv_str(y, "mountPath", r->volumes[i].target ? r->volumes[i].target : "/");
      if (r->volumes[i].readonly) apx_yaml_kv_bool(y, "readOnly", true);
      apx_yaml_end_map(y);
    }
    for (size_t i = 0; i < r->nbinds; i++) {
      apx_yaml_begin_map(y);
      apx_yaml_kv_str(y, "name", apx_arena_printf(k->m->arena, "bind-%zu", i));
      apx_yaml_kv_str(y, "mountPath", r->binds[i].target ? r->binds[i].target : "/");
      if (r->binds[i].readonly) apx_yaml_kv_bool(y, "readOnly", true);
      apx_yaml_end_map(y);
    }
    apx_yaml_end_seq(y);
  }
  apx_yaml_end_map(y);
}

/* Pod volumes: binds, and a Job's or Deployment's claims. */
static void apx_kube_pod_volumes(apx_kube *k, apx_yaml *y, const apx_resource *r, bool claims) {
  if (!r->nbinds && !(claims && r->nvolumes)) return;
  apx_yaml_key(y, "volumes");
  apx_yaml_begin_seq(y);
  if (claims)
    for (size_t i = 0; i < r->nvolumes; i++) {
      apx_yaml_begin_map(y);
      apx_yaml_kv_str(y, "name", apx_kube_vol_name(k, r->volumes[i].name));
      apx_yaml_key(y, "persistentVolumeClaim");
      apx_yaml_begin_map(y);
      apx_yaml_kv_str(y, "claimName",
                      apx_arena_printf(k->m->arena, "%s-%s", apx_kube_name(k, r), apx_kube_vol_name(k, r->volumes[i].name)));
      apx_yaml_end_map(y);
      apx_yaml_end_map(y);
    }
  for (size_t i = 0; i < r->nbinds; i++) {
    const apx_bind *b = &r->binds[i];
    apx_yaml_begin_map(y);
    apx_yaml_kv_str(y, "name", apx_arena_printf(k->m->arena, "bind-%zu", i));
    if (b->source && b->source[0] == '/') {
      apx_warning(k->m->diag, b->loc,
                  "the bind of '%s' becomes a hostPath volume in %s: '%s' on whichever node runs the pod, which is "
                  "rarely what one wants (a volume or a ConfigMap usually is)",
                  r->name, k->target, b->source);
      apx_yaml_key(y, "hostPath");
      apx_yaml_begin_map(y);
      apx_yaml_kv_str(y, "path", b->source);
      apx_yaml_end_map(y);
    } else {
      apx_warning(k->m->diag, b->loc,
                  "the bind of '%s' has the relative source '%s', a directory of this machine that no cluster node "
                  "has; %s mounts an empty directory instead",
                  r->name, b->source ? b->source : "", k->target);
      apx_yaml_key(y, "emptyDir");
      apx_yaml_begin_map(y);
      apx_yaml_end_map(y);
    }
    apx_yaml_end_map(y);
  }
  apx_yaml_end_seq(y);
}

static void apx_kube_storage(apx_kube *k, apx_yaml *y, const apx_resource *r, const apx_volume *v) {
  apx_yaml_key(y, "spec");
  apx_yaml_begin_map(y);
  apx_yaml_key(y, "accessModes");
  apx_yaml_begin_flow_seq(y);
  apx_yaml_str(y, "ReadWriteOnce");
  apx_yaml_end_seq(y);
  apx_yaml_key(y, "resources");
  apx_yaml_begin_map(y);
  apx_yaml_key(y, "requests");
  apx_yaml_begin_map(y);
  apx_yaml_key(y, "storage");
  if (k->mode == APX_KUBE_HELM)
    apx_yaml_str_quoted(y, apx_kube_tv(k, apx_arena_printf(k->m->arena, "resources.%s.storage.%s",
                                                           apx_kube_key(k, r->name), apx_kube_key(k, v->name))));
  else apx_yaml_str(y, "1Gi");
  apx_yaml_end_map(y);
  apx_yaml_end_map(y);
  apx_yaml_end_map(y);
}

static void apx_kube_pod_template(apx_kube *k, apx_yaml *y, const apx_resource *r, const apx_kube_env *env,
                                  size_t nenv, bool claims) {
  apx_yaml_key(y, "template");
  apx_yaml_begin_map(y);
  apx_yaml_key(y, "metadata");
  apx_yaml_begin_map(y);
  apx_yaml_key(y, "labels");
  apx_kube_labels(k, y, r, false);
  apx_yaml_end_map(y);
  apx_yaml_key(y, "spec");
  apx_yaml_begin_map(y);
  bool waits_job = false;
  for (size_t i = 0; i < r->ndeps; i++) {
    const apx_resource *s = r->deps[i].target ? apx_kube_workload_of(r->deps[i].target) : NULL;
    if (s && s != r && apx_kube_is_job(s) &&
        (r->deps[i].kind == APX_DEP_WAIT_COMPLETION || r->deps[i].kind == APX_DEP_WAIT_HEALTHY))
      waits_job = true;
  }
  if (waits_job) apx_yaml_kv_str(y, "serviceAccountName", apx_arena_printf(k->m->arena, "%s-job-waiter", k->app));
  if (apx_kube_is_job(r)) apx_yaml_kv_str(y, "restartPolicy", "Never");
  apx_kube_waits(k, y, r);
  apx_yaml_key(y, "containers");
  apx_yaml_begin_seq(y);
  apx_kube_container(k, y, r, env, nenv);
  apx_yaml_end_seq(y);
  apx_kube_pod_volumes(k, y, r, claims);
  apx_yaml_end_map(y);
  apx_yaml_end_map(y);
}

static void apx_kube_selector(apx_kube *k, apx_yaml *y, const apx_resource *r) {
  apx_yaml_key(y, "selector");
  apx_yaml_begin_map(y);
  apx_yaml_key(y, "matchLabels");
  apx_kube_labels(k, y, r, true);
  apx_yaml_end_map(y);
}

static void apx_kube_replicas(apx_kube *k, apx_yaml *y, const apx_resource *r) {
  apx_yaml_key(y, "replicas");
  if (k->mode == APX_KUBE_HELM)
    /* a number (values.schema.json says so): nothing to escape */
    apx_yaml_str_tagged(y, APX_KUBE_INT_TAG,
                        apx_arena_printf(k->m->arena, "{{ .Values.resources.%s.replicas }}", apx_kube_key(k, r->name)));
  else apx_yaml_int(y, r->explicit_start ? 0 : r->replicas);
}

static void apx_kube_workload(apx_kube *k, const apx_resource *r, const apx_kube_env *env, size_t nenv) {
  const char *name = apx_kube_name(k, r);
  bool job = apx_kube_is_job(r);
  bool stateful = !job && r->nvolumes > 0;
  if (job) {
    for (size_t i = 0; i < r->nvolumes; i++) {
      const char *claim = apx_arena_printf(k->m->arena, "%s-%s", name, apx_kube_vol_name(k, r->volumes[i].name));
      apx_yaml *y = apx_kube_begin(k, r, apx_arena_printf(k->m->arena, "pvc-%s", apx_kube_vol_name(k, r->volumes[i].name)),
                                   false, NULL, "v1", "PersistentVolumeClaim");
      apx_kube_metadata(k, y, r, claim);
      apx_kube_storage(k, y, r, &r->volumes[i]);
    }
    if (r->replicas > 1)
      apx_warning(k->m->diag, r->loc, "'%s' runs once (restart = \"no\"), a Job in %s; its %d replicas are left out",
                  r->name, k->target, r->replicas);
  }
  if (r->restart == APX_RESTART_ON_FAILURE)
    apx_warning(k->m->diag, r->loc,
                "restart = \"on-failure\" of '%s' cannot be expressed by a Deployment in %s; its pods restart always",
                r->name, k->target);
  apx_yaml *y = apx_kube_begin(k, r, job ? "job" : stateful ? "statefulset" : "deployment", false, NULL,
                               job ? "batch/v1" : "apps/v1", job ? "Job" : stateful ? "StatefulSet" : "Deployment");
  apx_kube_metadata(k, y, r, name);
  apx_yaml_key(y, "spec");
  apx_yaml_begin_map(y);
  if (job) {
    apx_yaml_kv_int(y, "backoffLimit", 0);
  } else {
    apx_kube_replicas(k, y, r);
    if (stateful) apx_yaml_kv_str(y, "serviceName", name);
    apx_kube_selector(k, y, r);
  }
  apx_kube_pod_template(k, y, r, env, nenv, !stateful);
  if (stateful) {
    apx_yaml_key(y, "volumeClaimTemplates");
    apx_yaml_begin_seq(y);
    for (size_t i = 0; i < r->nvolumes; i++) {
      apx_yaml_begin_map(y);
      apx_yaml_key(y, "metadata");
      apx_yaml_begin_map(y);
      apx_yaml_kv_str(y, "name", apx_kube_vol_name(k, r->volumes[i].name));
      apx_yaml_end_map(y);
      apx_kube_storage(k, y, r, &r->volumes[i]);
      apx_yaml_end_map(y);
    }
    apx_yaml_end_seq(y);
  }
  apx_yaml_end_map(y);
}

static void apx_kube_service_ports(apx_kube *k, apx_yaml *y, const apx_resource *r, bool external) {
  apx_yaml_key(y, "ports");
  apx_yaml_begin_seq(y);
  for (size_t i = 0; i < r->nendpoints; i++) {
    const apx_endpoint *e = &r->endpoints[i];
    if (e->target_port <= 0 || (external && !e->external)) continue;
    apx_yaml_begin_map(y);
    apx_yaml_kv_str(y, "name", apx_kube_port_name(k, e));
    apx_yaml_kv_int(y, "port", external && e->port > 0 ? e->port : e->target_port);
    apx_yaml_kv_int(y, "targetPort", e->target_port);
    apx_yaml_kv_str(y, "protocol", e->protocol && strcmp(e->protocol, "udp") == 0 ? "UDP" : "TCP");
    apx_yaml_end_map(y);
  }
  apx_yaml_end_seq(y);
}

static void apx_kube_services(apx_kube *k, const apx_resource *r) {
  bool any = false;
  for (size_t i = 0; i < r->nendpoints; i++)
    if (r->endpoints[i].target_port > 0) any = true;
  if (!any) return;
  const char *name = apx_kube_name(k, r);
  apx_yaml *y = apx_kube_begin(k, r, "service", false, NULL, "v1", "Service");
  apx_kube_metadata(k, y, r, name);
  apx_yaml_key(y, "spec");
  apx_yaml_begin_map(y);
  apx_yaml_kv_str(y, "type", "ClusterIP");
  apx_yaml_key(y, "selector");
  apx_kube_labels(k, y, r, true);
  apx_kube_service_ports(k, y, r, false);
  apx_yaml_end_map(y);
  if (!apx_kube_has_external(r) || k->mode != APX_KUBE_HELM) return;
  /* Exposure is the chart user's choice, off by default. */
  const char *key = apx_kube_key(k, r->name);
  y = apx_kube_begin(k, r, "service-external", false,
                     apx_arena_printf(k->m->arena, ".Values.resources.%s.expose.loadBalancer", key), "v1", "Service");
  apx_kube_metadata(k, y, r, apx_arena_printf(k->m->arena, "%s-external", name));
  apx_yaml_key(y, "spec");
  apx_yaml_begin_map(y);
  apx_yaml_kv_str(y, "type", "LoadBalancer");
  apx_yaml_key(y, "selector");
  apx_kube_labels(k, y, r, true);
  apx_kube_service_ports(k, y, r, true);
  apx_yaml_end_map(y);
  if (!apx_kube_has_http_external(r)) return;
  y = apx_kube_begin(k, r, "ingress", false, apx_arena_printf(k->m->arena, ".Values.resources.%s.expose.ingress", key),
                     "networking.k8s.io/v1", "Ingress");
  apx_kube_metadata(k, y, r, name);
  apx_yaml_key(y, "spec");
  apx_yaml_begin_map(y);
  apx_yaml_key(y, "rules");
  apx_yaml_begin_seq(y);
  apx_yaml_begin_map(y);
  apx_yaml_key(y, "host");
  apx_yaml_str_quoted(y, apx_kube_tv(k, apx_arena_printf(k->m->arena, "resources.%s.expose.host", key)));
  apx_yaml_key(y, "http");
  apx_yaml_begin_map(y);
  apx_yaml_key(y, "paths");
  apx_yaml_begin_seq(y);
  for (size_t i = 0; i < r->nendpoints; i++) {
    const apx_endpoint *e = &r->endpoints[i];
    if (!e->external || e->target_port <= 0 || !apx_kube_is_http(e)) continue;
    apx_yaml_begin_map(y);
    apx_yaml_kv_str(y, "path", "/");
    apx_yaml_kv_str(y, "pathType", "Prefix");
    apx_yaml_key(y, "backend");
    apx_yaml_begin_map(y);
    apx_yaml_key(y, "service");
    apx_yaml_begin_map(y);
    apx_yaml_kv_str(y, "name", name);
    apx_yaml_key(y, "port");
    apx_yaml_begin_map(y);
    apx_yaml_kv_int(y, "number", e->target_port);
    apx_yaml_end_map(y);
    apx_yaml_end_map(y);
    apx_yaml_end_map(y);
    apx_yaml_end_map(y);
    break; /* one path per host: the first http endpoint */
  }
  apx_yaml_end_seq(y);
  apx_yaml_end_map(y);
  apx_yaml_end_map(y);
  apx_yaml_end_seq(y);
  apx_yaml_end_map(y);
}

static void apx_kube_resource(apx_kube *k, const apx_resource *r) {
  size_t nenv = 0;
  bool plain = false, secret = false;
  apx_kube_env *env = apx_kube_env_of(k, r, &nenv, &plain, &secret);
  if (plain) apx_kube_data_object(k, r, env, nenv, false);
  if (secret) apx_kube_data_object(k, r, env, nenv, true);
  apx_kube_workload(k, r, env, nenv);
  apx_kube_services(k, r);
  apx_kube_env_free(env, nenv);
  if (k->mode == APX_KUBE_K8S && apx_kube_has_external(r) && apx_kube_once(k, r, "external"))
    apx_warning(k->m->diag, r->loc,
                "'%s' has external endpoints; %s expose them only inside the cluster (ClusterIP): add an Ingress or "
                "use --emit=helm, whose values can expose them",
                r->name, k->target);
}

/* The ServiceAccount a pod uses to wait for a Job (kubectl wait). */
static void apx_kube_waiter(apx_kube *k) {
  const char *name = apx_arena_printf(k->m->arena, "%s-job-waiter", k->app);
  apx_yaml *y = apx_kube_begin(k, NULL, "serviceaccount", false, NULL, "v1", "ServiceAccount");
  apx_kube_metadata(k, y, NULL, name);
  y = apx_kube_begin(k, NULL, "role", false, NULL, "rbac.authorization.k8s.io/v1", "Role");
  apx_kube_metadata(k, y, NULL, name);
  apx_yaml_key(y, "rules");
  apx_yaml_begin_seq(y);
  apx_yaml_begin_map(y);
  apx_yaml_key(y, "apiGroups");
  apx_yaml_begin_flow_seq(y);
  apx_yaml_str(y, "batch");
  apx_yaml_end_seq(y);
  apx_yaml_key(y, "resources");
  apx_yaml_begin_flow_seq(y);
  apx_yaml_str(y, "jobs");
  apx_yaml_end_seq(y);
  apx_yaml_key(y, "verbs");
  apx_yaml_begin_flow_seq(y);
  apx_yaml_str(y, "get");
  apx_yaml_str(y, "list");
  apx_yaml_str(y, "watch");
  apx_yaml_end_seq(y);
  apx_yaml_end_map(y);
  apx_yaml_end_seq(y);
  y = apx_kube_begin(k, NULL, "rolebinding", false, NULL, "rbac.authorization.k8s.io/v1", "RoleBinding");
  apx_kube_metadata(k, y, NULL, name);
  apx_yaml_key(y, "roleRef");
  apx_yaml_begin_map(y);
  apx_yaml_kv_str(y, "apiGroup", "rbac.authorization.k8s.io");
  apx_yaml_kv_str(y, "kind", "Role");
  apx_yaml_kv_str(y, "name", name);
  apx_yaml_end_map(y);
  apx_yaml_key(y, "subjects");
  apx_yaml_begin_seq(y);
  apx_yaml_begin_map(y);
  apx_yaml_kv_str(y, "kind", "ServiceAccount");
  apx_yaml_kv_str(y, "name", name);
  apx_yaml_end_map(y);
  apx_yaml_end_seq(y);
}

/* Two resources that would be one object name (`My_Api` and `my-api`). */
static bool apx_kube_check_names(apx_kube *k) {
  bool ok = true;
  apx_map keys;
  apx_map_init_str(&keys, k->m->arena);
  apx_map pkeys;
  apx_map_init_str(&pkeys, k->m->arena);
  for (size_t i = 0; i < k->m->nresources; i++) {
    const apx_resource *r = k->m->resources[i];
    if (r->kind == APX_KIND_PARAM && r->param) {
      /* parameters and secrets are keys of values.yaml (k8s: of the parameters Secret) */
      size_t *ps = apx_map_str(&pkeys, apx_kube_key(k, r->name), true);
      if (*ps != (size_t)-1) {
        apx_error(k->m->diag, r->loc, "parameters '%s' and '%s' would both be the key '%s' in %s; rename one",
                  k->m->resources[*ps]->name, r->name, apx_kube_key(k, r->name), k->target);
        ok = false;
      }
      *ps = i;
      continue;
    }
    if (!apx_kube_is_workload(r)) continue;
    size_t *slot = apx_map_str(&k->objnames, apx_kube_name(k, r), true);
    if (*slot != (size_t)-1) {
      apx_error(k->m->diag, r->loc, "'%s' and '%s' would both be the Kubernetes object '%s'; rename one",
                k->m->resources[*slot]->name, r->name, apx_kube_name(k, r));
      ok = false;
      continue;
    }
    *slot = i;
    if (k->mode == APX_KUBE_HELM) {
      size_t *ks = apx_map_str(&keys, apx_kube_key(k, r->name), true);
      if (*ks != (size_t)-1) {
        apx_error(k->m->diag, r->loc, "'%s' and '%s' would both be the values key '%s'; rename one",
                  k->m->resources[*ks]->name, r->name, apx_kube_key(k, r->name));
        ok = false;
      }
      *ks = i;
    }
  }
  return ok;
}

void apx_kube_emit_all(apx_kube *k) {
  if (!apx_kube_check_names(k)) {
    apx_kube_flush(k); /* close what the back end began; nothing is committed after an error */
    return;
  }
  for (size_t i = 0; i < k->m->nresources; i++) {
    const apx_resource *r = k->m->resources[i];
    if (apx_kube_is_workload(r)) apx_kube_resource(k, r);
    else if (r->kind == APX_KIND_EXECUTABLE && r->publish)
      apx_warning(k->m->diag, r->loc, "executable '%s' is not published to %s; it runs only with --run", r->name,
                  k->target);
  }
  if (k->need_waiter) apx_kube_waiter(k);
  apx_kube_flush(k);
}

void apx_kube_set_value(apx_kube *k, const apx_resource *p, const char *value) {
  size_t *slot = apx_map_ptr(&k->values, p, NULL, true);
  if (*slot == (size_t)-1) {
    APX_VEC_PUSH(k->m->arena, k->pvalues, k->npvalues, k->cappvalues, value);
    *slot = k->npvalues - 1;
  } else {
    k->pvalues[*slot] = value;
  }
}
