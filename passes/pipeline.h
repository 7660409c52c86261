/* The pass pipeline: one table, run in order (doc/internals.md). Each pass
 * is one file with one entry point `int apx_pass_NAME(apx_module *)` that
 * returns the number of errors it reported. */
#ifndef APX_PIPELINE_H
#define APX_PIPELINE_H

#include <stdbool.h>
#include <stdio.h>

#include "../ir/ir.h"

typedef int (*apx_pass_fn)(apx_module *m);

typedef struct apx_pass {
  const char *name;
  const char *description;
  apx_pass_fn run;
} apx_pass;

int apx_pass_resolve(apx_module *m);
int apx_pass_expand(apx_module *m);
int apx_pass_typecheck(apx_module *m);
int apx_pass_validate(apx_module *m);
int apx_pass_enrich(apx_module *m);

extern const apx_pass apx_pipeline[];
extern const size_t apx_pipeline_len;

const apx_pass *apx_pipeline_find(const char *name);

typedef struct apx_pipeline_opts {
  const char *dump_after; /* pass name: print the IR (JSON) after it, to dump_out */
  FILE *dump_out;
  bool time_passes;       /* print each pass's time to stderr */
} apx_pipeline_opts;

/* Runs every pass in order, also after errors, so that one compile reports
 * every problem (resolve's unknown names with typecheck's unknown
 * attributes). Passes therefore tolerate what earlier passes left unbound:
 * a reference without a target, a resource whose kind is unknown (type NULL).
 * Returns the error count. */
int apx_pipeline_run(apx_module *m, const apx_pipeline_opts *o);

/* Monotonic milliseconds, for --time-passes. */
double apx_pipeline_now_ms(void);

#endif
