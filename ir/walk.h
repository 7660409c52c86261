/* The one walk over a value tree. A visitor sees each value before its
 * children and each reference (a ref value, a template's part); what it does
 * with them (bind, check, search) is its own. Following a reference into
 * another resource's values (a connection string) is the visitor's choice:
 * it walks that value itself, bounding the depth. */
#ifndef APX_WALK_H
#define APX_WALK_H

#include <stdbool.h>

#include "ir.h"

typedef enum {
  APX_WALK_ON,   /* go on, into the children */
  APX_WALK_SKIP, /* not this value's children (from the value callback) */
  APX_WALK_STOP, /* end the walk */
} apx_walk_step;

typedef struct apx_value_visitor {
  /* Each value, before its children; NULL: none. */
  apx_walk_step (*value)(void *ctx, const apx_value *v);
  /* Each reference; NULL: none. */
  apx_walk_step (*ref)(void *ctx, apx_ref *ref);
} apx_value_visitor;

/* Walks v (NULL: nothing) depth first, in order: list items, map values,
 * call arguments. Returns true when a callback stopped the walk. */
bool apx_ir_value_walk(const apx_value *v, const apx_value_visitor *vis, void *ctx);

/* Calls fn for each reference in v to an address (an endpoint's url, host,
 * port, ...) of a resource that runs, with the resource that runs it
 * (apx_ir_runner), following connection strings a few levels deep: what a
 * back end checks it deploys, lest the rendered host not resolve. */
void apx_ir_value_addresses(const apx_value *v, void (*fn)(void *ctx, const apx_ref *ref, const apx_resource *runner),
                            void *ctx);

#endif
