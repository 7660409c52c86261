/* Lowering: a parsed file into the module, with generic bodies that the
 * passes then resolve, expand and type. Imports were read by the driver. */
#ifndef APX_LOWER_H
#define APX_LOWER_H

#include "ir.h"

struct apx_ast_file;
void apx_lower_file(apx_module *m, const struct apx_ast_file *f);

#endif
