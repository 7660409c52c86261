/* What --emit=k8s and --emit=helm share: the Kubernetes objects of one
 * resource (Deployment, StatefulSet or Job; Service; ConfigMap; Secret;
 * probes; init containers; labels), written once and parameterised by how
 * a value is written: a literal for k8s, a `{{ .Values.… }}` template string
 * for helm (doc/targets.md, "Kubernetes"). */
#ifndef APX_KUBE_H
#define APX_KUBE_H

#include <stdbool.h>

#include "base/buf.h"
#include "base/map.h"
#include "base/output.h"
#include "ir/ir.h"
#include "yaml_out.h"

typedef enum { APX_KUBE_K8S, APX_KUBE_HELM } apx_kube_mode;

typedef struct apx_kube {
  apx_module *m;
  apx_output *out;
  apx_kube_mode mode;
  const char *target;   /* "Kubernetes manifests" / "the Helm chart", for messages */
  const char *app;      /* the app's name as a DNS label: part-of, chart name */
  const char *cb_error; /* set by a render callback that could not answer */
  bool dollar;          /* escape `$(` (k8s expands $(VAR) in command, args) */
  apx_map values;       /* k8s: parameter -> index in pvalues */
  const char **pvalues;
  size_t npvalues, cappvalues;
  apx_map warned;       /* (resource, what) pairs warned about */
  apx_map objnames;     /* object name -> resource index: clashes */
  bool need_waiter;     /* some pod waits for a Job: ServiceAccount + Role */
  /* k8s: the two multi-document files */
  apx_yaml main, secrets;
  bool main_started, secrets_started, any_secret;
  /* helm: the file being written */
  apx_yaml cur;
  bool cur_open;
  char *cur_path;
  const char *cur_guard; /* `if` condition around the whole file, or NULL */
} apx_kube;

void apx_kube_init(apx_kube *k, apx_module *m, apx_output *out, apx_kube_mode mode);
void apx_kube_free(apx_kube *k);

/* A resource that becomes a workload (container; project or executable with
 * a build), published. */
bool apx_kube_is_workload(const apx_resource *r);
/* Its object name: a DNS-1035 label (starts with a letter). */
const char *apx_kube_name(apx_kube *k, const apx_resource *r);
/* A name as a Go template identifier for values.yaml keys ([a-z0-9_],
 * starting with a letter): "pg-password" -> "pg_password". */
const char *apx_kube_key(apx_kube *k, const char *name);
/* An image split at its tag: "redis:7.4" -> "redis", "7.4" (tag "latest"
 * when none). A project's image: its `image`, else "NAME:latest". NULL repo
 * when the image is not a plain string. */
void apx_kube_image_parts(apx_kube *k, const apx_resource *r, const char **repo, const char **tag);
/* The Service type a resource's exposure would use: true when any external
 * endpoint speaks http(s) (an Ingress), else a LoadBalancer. */
bool apx_kube_has_external(const apx_resource *r);
bool apx_kube_has_http_external(const apx_resource *r);

/* Starts an object of apiVersion and kind (its top-level map open; the next
 * begin or the flush closes it). k8s: in secrets.yaml when secret, else
 * manifests.yaml; helm: templates/<r>/<file>.yaml (r NULL: _shared), inside
 * `# {{- if GUARD }}` comments when guard is set. */
apx_yaml *apx_kube_begin(apx_kube *k, const apx_resource *r, const char *file, bool secret, const char *guard,
                         const char *apiversion, const char *kind);
/* Finishes y and adds it to the output as path (reports libyaml's error). */
void apx_kube_add_file(apx_kube *k, apx_yaml *y, const char *path);
/* metadata: name, the labels of r (r NULL: the app's), annotations. */
void apx_kube_metadata(apx_kube *k, apx_yaml *y, const apx_resource *r, const char *name);
/* k8s: the value a parameter renders to (set by the back end before it writes). */
void apx_kube_set_value(apx_kube *k, const apx_resource *p, const char *value);

/* Checks names (two resources on one object name), then writes every
 * resource's objects; k8s: into manifests.yaml and secrets.yaml; helm: into
 * templates/<r>/<object>.yaml. Warns for what Kubernetes cannot express. */
void apx_kube_emit_all(apx_kube *k);

#endif
