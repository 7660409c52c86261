/* Back ends: one file each, registered in one table (backends/registry.c). */
#ifndef APX_BACKEND_H
#define APX_BACKEND_H

#include "ir/ir.h"
#include "base/output.h"

typedef struct apx_backend {
  const char *name;        /* --emit=NAME */
  const char *description;
  /* Adds its files to `out`; reports problems to m->diag. Returns the number
   * of errors (warnings, such as an executable left out, do not count). */
  int (*emit)(apx_module *m, apx_output *out);
  /* It prints the generic bodies (apx_item), not only typed fields: the
   * driver then keeps them after typecheck (see apx_driver_opts.drop_items). */
  bool reads_items;
} apx_backend;

int apx_emit_compose(apx_module *m, apx_output *out);
int apx_emit_ir(apx_module *m, apx_output *out);
int apx_emit_dot(apx_module *m, apx_output *out);
int apx_emit_k8s(apx_module *m, apx_output *out);
int apx_emit_helm(apx_module *m, apx_output *out);
int apx_emit_bicep(apx_module *m, apx_output *out);
int apx_emit_hcl(apx_module *m, apx_output *out);
int apx_emit_manifest(apx_module *m, apx_output *out);

extern const apx_backend apx_backends[];
extern const size_t apx_backends_len;
const apx_backend *apx_backend_find(const char *name);

#endif
