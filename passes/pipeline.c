/* The one pipeline table: passes run in this order. */
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../ir/compile.h"

const apx_pass apx_pipeline[] = {
    {"resolve", "imports, kinds, names and references", apx_pass_resolve},
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

double apx_pipeline_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int apx_pipeline_run(apx_module *m, const apx_pipeline_opts *o) {
  int errors = 0;
  for (size_t i = 0; i < apx_pipeline_len; i++) {
    double t0 = o && o->time_passes ? apx_pipeline_now_ms() : 0;
    errors += apx_pipeline[i].run(m);
    if (o && o->time_passes)
      fprintf(stderr, "aspirec: pass %-10s %8.3f ms  (arena %zu KiB)\n", apx_pipeline[i].name, apx_pipeline_now_ms() - t0,
              apx_arena_bytes(m->arena) / 1024);
    if (o && o->dump_after && strcmp(o->dump_after, apx_pipeline[i].name) == 0) {
      char *json = apx_ir_to_json(m);
      if (json) {
        fputs(json, o->dump_out ? o->dump_out : stderr);
        fputc('\n', o->dump_out ? o->dump_out : stderr);
        free(json);
      }
    }
  }
  return errors;
}
