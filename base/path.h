/* Paths as written in a program. */
#ifndef APX_PATH_H
#define APX_PATH_H

#include "arena.h"

/* `path` joined to `dir` (unless absolute or dir is NULL) and normalised
 * lexically ("./" and "a/../" go; the path need not exist). NULL for NULL. */
const char *apx_path_from(apx_arena *a, const char *dir, const char *path);

#endif
