/* What the two cloud back ends (bicep.c, hcl.c) share: which resources
 * become deployed apps, the warnings for what neither can express
 * (executables, binds, log checks, `restart = "no"`), the
 * waits they turn into deployment order, and the health checks they map. */
#ifndef APX_CLOUD_H
#define APX_CLOUD_H

#include <stdbool.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/map.h"
#include "ir/ir.h"
#include "ir/render.h"

typedef struct apx_cloud {
  apx_module *m;
  const char *target;   /* "Azure Container Apps": named in warnings */
  const char *cb_error; /* set by a render callback that could not answer */
  apx_map warned;       /* (resource, target) pairs warned about once */
} apx_cloud;

void apx_cloud_init(apx_cloud *c, apx_module *m, const char *target);

/* A container, a project, or an executable with a build: one app each. */
bool apx_cloud_is_app(const apx_resource *r);
/* Its image comes from a deploy-time parameter/variable (a project, or a build without an image). */
bool apx_cloud_image_is_param(const apx_resource *r);
/* The app a reference or a wait on r lands on, or NULL. */
const apx_resource *apx_cloud_app_of(const apx_resource *r);

/* Warns for a published executable (left out); returns true for an app. */
bool apx_cloud_select(apx_cloud *c, const apx_resource *r);
/* Warnings for what neither cloud target expresses (binds, restart = "no",
 * log health checks). */
void apx_cloud_warn_common(apx_cloud *c, const apx_resource *r);

/* Renders v through t; reports an error naming `what` and r on failure.
 * Warns once when v refers to a resource that runs but is not deployed. */
bool apx_cloud_render(apx_cloud *c, const apx_render_target *t, const apx_resource *r, const apx_value *v,
                      apx_loc loc, const char *what, apx_buf *out);

/* The apps r waits for (wait_for, wait_for_start, wait_for_completion), in
 * order, each once, r itself and non-apps left out; warns once per resource
 * when one of them is a wait for health or completion that the target turns
 * into deployment order only. Returns the count; *out is malloc'd (free it). */
size_t apx_cloud_waits(apx_cloud *c, const apx_resource *r, const apx_resource ***out);

/* The health checks of r, less log checks (warned by apx_cloud_warn_common),
 * with timings merged as compose merges them: the shortest interval, the
 * longest timeout, start period and retries. */
typedef struct apx_cloud_health {
  const apx_health *checks[16];
  size_t n;
  int64_t interval_ms, timeout_ms, start_ms;
  int retries;
} apx_cloud_health;
void apx_cloud_health_of(const apx_resource *r, apx_cloud_health *h);

/* Characters of a POSIX shell word needing no quotes; quoting otherwise. */
void apx_cloud_shell_quote(const char *s, apx_buf *out);

/* The endpoint a http or tcp check probes (target port set), or NULL after an error. */
const apx_endpoint *apx_cloud_health_endpoint(apx_cloud *c, const apx_resource *r, const apx_health *h);

int64_t apx_cloud_clamp(int64_t v, int64_t lo, int64_t hi);

/* A render target's target_port callback for both: ud is the back end's
 * state, whose first member is its apx_cloud. */
void apx_cloud_target_port(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out);

#endif
