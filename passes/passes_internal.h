/* Helpers shared by the passes (not part of any public interface). */
#ifndef APX_PASSES_INTERNAL_H
#define APX_PASSES_INTERNAL_H

#include "base/path.h"
#include "ir/ir.h"

/* Binds a reference to `target` and reads the property path from segment
 * `first` on (`connection_string`, `endpoints.http.url`, …). Reports an error
 * and returns false for an unknown property. */
bool apx_ref_bind(apx_module *m, apx_ref *ref, apx_resource *target, size_t first);

/* Reports an unknown name with a suggestion drawn from the module's names. */
void apx_report_unknown_name(apx_module *m, const char *name, apx_loc loc, const char *what);

/* Calls fn on every value under an item list (attributes, nested blocks),
 * letting fn replace it. */
typedef apx_value *(*apx_value_fn)(void *ud, apx_item *owner, apx_value *v);
void apx_items_map_values(apx_item *items, apx_value_fn fn, void *ud);


/* typecheck's reading of a block body against its schema (schema.h):
 * found[i] is the item for table[i], for at most nfound entries. */
struct apx_spec;
void apx_tc_block(apx_module *m, apx_item *blk, const struct apx_spec *table, apx_item **found, size_t nfound);

#endif
