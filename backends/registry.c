/* The table of back ends (QBE's Target list): --emit=NAME looks here. */
#include <string.h>

#include "backend.h"

const apx_backend apx_backends[] = {
    {"compose", "docker-compose.yaml and .env for Docker Compose", apx_emit_compose, false},
    {"ir", "the checked IR as JSON (doc/ir.md)", apx_emit_ir, true},
    {"dot", "the resource graph for Graphviz (dot -Tsvg)", apx_emit_dot, false},
    {"k8s", "Kubernetes manifests: manifests.yaml and secrets.yaml", apx_emit_k8s, false},
    {"helm", "a Helm chart: Chart.yaml, values.yaml, templates/", apx_emit_helm, false},
    {"bicep", "main.bicep and main.parameters.json for Azure Container Apps", apx_emit_bicep, false},
    {"hcl", "Terraform (main.tf, variables.tf, outputs.tf, versions.tf) for AWS ECS Fargate", apx_emit_hcl, false},
    {"manifest", "aspire-manifest.json: the deployment manifest of .NET Aspire (doc/manifest.md)", apx_emit_manifest, false},
};

const size_t apx_backends_len = sizeof apx_backends / sizeof apx_backends[0];

const apx_backend *apx_backend_find(const char *name) {
  if (!name) return NULL;
  for (size_t i = 0; i < apx_backends_len; i++)
    if (strcmp(apx_backends[i].name, name) == 0) return &apx_backends[i];
  return NULL;
}
