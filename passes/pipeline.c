/* The one pipeline table: the driver runs the passes in this order. */
#include "pipeline.h"

#include <string.h>

const apx_pass apx_pipeline[] = {
    {"resolve", "kinds, names and references", apx_pass_resolve},
    {"expand", "components, inputs, per-instance params, built-in functions", apx_pass_expand},
    {"typecheck", "attributes against each kind's schema", apx_pass_typecheck},
    {"validate", "names, cycles, ports, waits, endpoints", apx_pass_validate},
    {"enrich", "defaults, parameter values, reference environment", apx_pass_enrich},
};
const size_t apx_pipeline_len = sizeof apx_pipeline / sizeof apx_pipeline[0];

const apx_pass *apx_pipeline_find(const char *name) {
  for (size_t i = 0; i < apx_pipeline_len; i++)
    if (strcmp(apx_pipeline[i].name, name) == 0) return &apx_pipeline[i];
  return NULL;
}
