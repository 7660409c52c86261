/* Lexical paths: the one normaliser (no file system access beyond the
 * current directory for relative inputs). Outputs then hold no absolute path
 * of the machine that compiled them. */
#ifndef APX_PATH_H
#define APX_PATH_H

#include <stdbool.h>

#include "arena.h"
#include "buf.h"

/* Appends path with "." and empty segments dropped and "a/.." folded,
 * lexically (the path may not exist yet): "a/./b/../c" -> "a/c", "/../x"
 * -> "/x", "../x" stays, "" -> ".". */
void apx_path_normalise(const char *path, apx_buf *out);

/* path taken from the directory dir, normalised (in the arena): an
 * absolute path, or no dir, as is; NULL path: NULL. */
const char *apx_path_join(apx_arena *a, const char *dir, const char *path);

/* Appends `path` relative to the directory `base`, both made absolute
 * against the current directory and normalised lexically (".", "..", "//"):
 * "shop/api", "../data", ".". With dot_prefix a descending path starts with
 * "./" ("./shop/api"), the explicitly relative form for readers that take a
 * bare word for something else (a Compose volume name). */
void apx_path_relative(const char *base, const char *path, bool dot_prefix, apx_buf *out);

#endif
