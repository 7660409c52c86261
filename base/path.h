/* Lexical paths: the one normaliser (no file system access beyond the
 * current directory for relative inputs). Outputs then hold no absolute path
 * of the machine that compiled them. */
#ifndef APX_PATH_H
#define APX_PATH_H

#include <stdbool.h>

#include "../ir/buf.h"

/* Appends `path` relative to the directory `base`, both made absolute
 * against the current directory and normalised lexically (".", "..", "//"):
 * "shop/api", "../data", ".". With dot_prefix a descending path starts with
 * "./" ("./shop/api"), the explicitly relative form for readers that take a
 * bare word for something else (a Compose volume name). */
void apx_path_relative(const char *base, const char *path, bool dot_prefix, apx_buf *out);

#endif
