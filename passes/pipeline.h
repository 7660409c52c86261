/* The pass table: one table, run in order by the driver (driver/driver.c,
 * doc/internals.md). Each pass is one file with one entry point
 * `int apx_pass_NAME(apx_module *)` that returns the number of errors it
 * reported.
 *
 * Every pass runs, also after errors, so that one compile reports every
 * problem (resolve's unknown names with typecheck's unknown attributes).
 * Passes therefore tolerate what earlier passes left unbound: a reference
 * without a target, a resource whose kind is unknown (type NULL). */
#ifndef APX_PIPELINE_H
#define APX_PIPELINE_H

#include <stddef.h>

#include "ir/ir.h"

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

#endif
