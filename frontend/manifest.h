/* The second front end: Aspire's deployment manifest (aspire-manifest.json,
 * ../doc/manifest.md) read into the same syntax tree the .apx parser builds,
 * so that ir/lower.c, every pass, back end and run mode take it unchanged. */
#ifndef APX_MANIFEST_H
#define APX_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ast.h"

/* True when the source is a manifest rather than an .apx program: its name
 * ends in ".json", or its text begins (after white space) with '{' and
 * names "resources" before anything else could be .apx. */
bool apx_manifest_detect(const char *path, const char *text, size_t len);

/* apx_parse_file_each's contract for a manifest: each resource becomes one
 * top-level item (imports of the standard library first, when a well-known
 * image maps to one of its components), handed to `each`, then `nodes` is
 * emptied. Errors (JSON syntax, wrong types, unknown or cyclic expressions)
 * go to `diag`, located at the JSON value with its JSON pointer. */
apx_ast_file *apx_manifest_parse_each(apx_arena *arena, apx_arena *nodes, apx_diag *diag, uint32_t file,
                                      apx_ast_item_fn each, void *ud);

/* The locator. cJSON keeps no source positions, so a value's offset is found
 * again by scanning the text: `pointer` (RFC 6901, "/resources/api/env/X")
 * names a value of the JSON document text[0, len), which must be valid JSON
 * (cJSON has parsed it). The scan only skips tokens, iteratively (no
 * recursion, whatever the nesting), and builds no values. Returns false when
 * the pointer names nothing; else *begin and *end span the value. */
bool apx_json_locate(const char *text, size_t len, const char *pointer, size_t *begin, size_t *end);

#endif
