/* Rendering deferred values for a target. A template's references become
 * text through the target's callbacks: Compose renders a host as the service
 * name, run mode as localhost, and so on (doc/targets.md). */
#ifndef APX_RENDER_H
#define APX_RENDER_H

#include <stdbool.h>

#include "base/buf.h"
#include "ir.h"

typedef struct apx_render_target {
  void *ud;
  /* Host of endpoint e of the running resource r, as other resources see it. */
  void (*host)(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out);
  /* The port clients connect to. */
  void (*port)(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out);
  /* The port the workload itself listens on. */
  void (*target_port)(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out);
  /* A parameter's value. Return true when what was written is a placeholder
   * of the target (`${REGION}`) rather than the value itself: filters such as
   * urlencode() cannot apply to a placeholder. */
  bool (*param)(void *ud, const apx_resource *p, apx_buf *out);
  /* Run mode's per-resource state directory; NULL: the target has none
   * (rendering self.state_dir then fails). */
  void (*state_dir)(void *ud, const apx_resource *r, apx_buf *out);
  /* Escapes literal text for the target (Compose: `$` -> `$$`); NULL: as is. */
  void (*text)(void *ud, const char *s, size_t n, apx_buf *out);
  /* A path of the compiling machine (a build context, a bind source) as the
   * target writes it (Compose: relative to the output directory, "./" in
   * front). NULL: the path as is (run mode runs on this machine). */
  void (*path)(void *ud, const char *abs, apx_buf *out);
} apx_render_target;

/* Appends a path through t->path, or as is. */
void apx_render_path(const apx_render_target *t, const char *abs, apx_buf *out);

/* Renders a string, template, int, bool, duration or ref value to text.
 * Returns false and sets *why (static text) when it cannot: a list or map,
 * a reference cycle between connection strings, a filter on a placeholder. */
bool apx_render_value(const apx_render_target *t, const apx_value *v, apx_buf *out, const char **why);
/* Renders one reference. */
bool apx_render_ref(const apx_render_target *t, const apx_ref *ref, apx_buf *out, const char **why);

/* Applies a filter to text in place (urlencode per RFC 3986 unreserved set). */
void apx_render_filter(apx_filter f, const char *s, size_t n, apx_buf *out);

#endif
