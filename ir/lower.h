/* Lowering: a parsed file into the module, with generic bodies that the
 * passes then resolve, expand and type. */
#ifndef APX_LOWER_H
#define APX_LOWER_H

#include "frontend/ast.h"
#include "ir.h"

/* Called for each `import "path"` of the file, in order: the driver's
 * loader follows them. */
typedef void (*apx_lower_import_fn)(void *ud, const char *path, apx_loc loc);

/* Parses and lowers a registered source one top-level item at a time, so
 * that only one item's syntax tree is in memory (a file's whole tree is
 * eight times its text). Returns the most memory that tree took (bytes). */
size_t apx_lower_source(apx_module *m, uint32_t file, apx_lower_import_fn on_import, void *ud);

/* The same through another front end (`parse`: the manifest's), which
 * builds the same syntax tree. */
size_t apx_lower_source_with(apx_module *m, uint32_t file, apx_parse_each_fn parse, apx_lower_import_fn on_import,
                             void *ud);

#endif
