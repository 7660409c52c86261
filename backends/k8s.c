/* --emit=k8s: plain Kubernetes manifests (doc/targets.md, "Kubernetes").
 *
 * manifests.yaml holds every object but Secrets, in declaration order, one
 * YAML document each; secrets.yaml (mode 0600) the Secrets: one per resource
 * with secret environment, and `<app>-parameters`, the values of the secret
 * parameters. Parameters are resolved at compile time (-p, APX_PARAM_*,
 * default); a generated one is drawn once and read back from the existing
 * secrets.yaml on the next emit, so re-emitting keeps it (as compose's .env). */
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "backend.h"
#include "ir/generate.h"
#include "kube.h"

/* ---- the previous secrets.yaml ------------------------------------------------ */

static yaml_node_t *apx_k8s_get(yaml_document_t *d, yaml_node_t *n, const char *key) {
  if (!n || n->type != YAML_MAPPING_NODE) return NULL;
  for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
    yaml_node_t *kn = yaml_document_get_node(d, p->key);
    if (kn && kn->type == YAML_SCALAR_NODE && kn->data.scalar.length == strlen(key) &&
        memcmp(kn->data.scalar.value, key, kn->data.scalar.length) == 0)
      return yaml_document_get_node(d, p->value);
  }
  return NULL;
}

static bool apx_k8s_is(yaml_node_t *n, const char *s) {
  return n && n->type == YAML_SCALAR_NODE && n->data.scalar.length == strlen(s) &&
         memcmp(n->data.scalar.value, s, n->data.scalar.length) == 0;
}

/* The stringData of Secret `name` in text, into kept (key -> value). A file
 * that does not parse keeps nothing: values are generated anew. */
static void apx_k8s_read_kept(apx_module *m, const char *text, size_t len, const char *name, apx_map *kept,
                              const char ***vals, size_t *nvals, size_t *cap) {
  yaml_parser_t p;
  if (!yaml_parser_initialize(&p)) return;
  yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
  for (;;) {
    yaml_document_t d;
    if (!yaml_parser_load(&p, &d)) break;
    yaml_node_t *root = yaml_document_get_root_node(&d);
    if (!root) {
      yaml_document_delete(&d);
      break;
    }
    if (apx_k8s_is(apx_k8s_get(&d, root, "kind"), "Secret") &&
        apx_k8s_is(apx_k8s_get(&d, apx_k8s_get(&d, root, "metadata"), "name"), name)) {
      yaml_node_t *sd = apx_k8s_get(&d, root, "stringData");
      if (sd && sd->type == YAML_MAPPING_NODE)
        for (yaml_node_pair_t *q = sd->data.mapping.pairs.start; q < sd->data.mapping.pairs.top; q++) {
          yaml_node_t *kn = yaml_document_get_node(&d, q->key), *vn = yaml_document_get_node(&d, q->value);
          if (!kn || !vn || kn->type != YAML_SCALAR_NODE || vn->type != YAML_SCALAR_NODE) continue;
          const char *key = apx_arena_strndup(m->arena, (const char *)kn->data.scalar.value, kn->data.scalar.length);
          const char *val = apx_arena_strndup(m->arena, (const char *)vn->data.scalar.value, vn->data.scalar.length);
          size_t *slot = apx_map_str(kept, key, true);
          APX_VEC_PUSH(m->arena, *vals, *nvals, *cap, val);
          *slot = *nvals - 1;
        }
    }
    yaml_document_delete(&d);
  }
  yaml_parser_delete(&p);
}

/* ---- parameters ------------------------------------------------------------------ */

static void apx_k8s_params(apx_kube *k) {
  apx_module *m = k->m;
  const char *secname = apx_arena_printf(m->arena, "%s-parameters", k->app);
  apx_map kept;
  apx_map_init_str(&kept, m->arena);
  const char **vals = NULL;
  size_t nvals = 0, cap = 0;
  size_t len = 0;
  char *old = apx_output_read_existing(k->out, "secrets.yaml", &len);
  if (old) apx_k8s_read_kept(m, old, len, secname, &kept, &vals, &nvals, &cap);
  free(old);

  apx_buf missing = {0};
  bool any_secret = false;
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_resource *p = m->resources[i];
    if (p->kind != APX_KIND_PARAM || !p->param) continue;
    const char *key = apx_kube_key(k, p->name);
    const char *value = p->param->value;
    if (!value && p->param->has_generate) {
      size_t *slot = apx_map_str(&kept, key, false);
      if (slot && *slot != (size_t)-1 && vals[*slot][0]) {
        value = vals[*slot];
      } else {
        size_t glen = apx_ir_generate_length(&p->param->generate);
        char *g = apx_arena_alloc(m->arena, glen + 1);
        apx_ir_generate(&p->param->generate, g, glen);
        value = g;
      }
    }
    if (!value) apx_buf_printf(&missing, "%s%s", missing.len ? ", " : "", p->name);
    apx_kube_set_value(k, p, value ? value : "");
    if (p->param->secret) any_secret = true;
  }
  if (missing.len)
    apx_warning(m->diag, APX_NOLOC, "Kubernetes manifests need a value for %s: pass -p NAME=VALUE; written empty",
                apx_buf_str(&missing));
  apx_buf_free(&missing);
  if (!any_secret) return;
  /* The record of the secret parameters' values (generated ones among them),
   * which the next emit reads back. */
  apx_yaml *y = apx_kube_begin(k, NULL, "parameters", true, NULL, "v1", "Secret");
  apx_kube_metadata(k, y, NULL, secname);
  apx_yaml_kv_str(y, "type", "Opaque");
  apx_yaml_key(y, "stringData");
  apx_yaml_begin_map(y);
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_resource *p = m->resources[i];
    if (p->kind != APX_KIND_PARAM || !p->param || !p->param->secret) continue;
    apx_yaml_key(y, apx_kube_key(k, p->name));
    size_t *slot = apx_map_ptr(&k->values, p, NULL, false);
    apx_yaml_str(y, slot ? k->pvalues[*slot] : "");
  }
  apx_yaml_end_map(y);
}

static void apx_k8s_add(apx_kube *k, apx_yaml *y, bool started, const char *path) {
  if (!started) {
    apx_output_add(k->out, path, "", 0);
    return;
  }
  apx_kube_add_file(k, y, path);
}

int apx_emit_k8s(apx_module *m, apx_output *out) {
  size_t errors0 = m->diag->errors;
  apx_kube k;
  apx_kube_init(&k, m, out, APX_KUBE_K8S);
  apx_k8s_params(&k);
  apx_kube_emit_all(&k);
  /* manifests.yaml first: on stdout only it is written, and it holds no secret. */
  apx_k8s_add(&k, &k.main, k.main_started, "manifests.yaml");
  if (k.secrets_started) apx_k8s_add(&k, &k.secrets, true, "secrets.yaml");
  apx_kube_free(&k);
  return (int)(m->diag->errors - errors0);
}
