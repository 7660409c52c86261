/* KEY=VALUE files (.env, run mode's params.env): the one reader and the one
 * writer, which owns the quoting. The reader takes what python-dotenv
 * (docker-compose v1) and compose-go (v2) accept: `export`, single or double
 * quotes, `#` comments, a later line winning. What the writer writes, the
 * reader reads back as the same value, whatever the value. */
#ifndef APX_ENVFILE_H
#define APX_ENVFILE_H

#include <stddef.h>

#include "buf.h"
#include "map.h"

typedef struct apx_envfile_var {
  char *key, *value; /* heap */
} apx_envfile_var;

typedef struct apx_envfile {
  apx_envfile_var *vars; /* in first-appearance order */
  size_t n, cap;
  apx_map index; /* key -> position in vars */
} apx_envfile;

/* The index lives in the arena; the variables on the heap. */
void apx_envfile_init(apx_envfile *f, apx_arena *a);
void apx_envfile_parse(apx_envfile *f, const char *text, size_t len);
/* The variable named key, or NULL. */
apx_envfile_var *apx_envfile_find(apx_envfile *f, const char *key);
/* Adds key or replaces its value (both copied). */
void apx_envfile_set(apx_envfile *f, const char *key, const char *value);
void apx_envfile_free(apx_envfile *f);

/* Appends the line `KEY=VALUE\n` with the value quoted as needed: plain
 * values as they are; a line break in double quotes as \n; a value with `'`
 * but no `$` in double quotes; any other in single quotes (which neither
 * docker-compose interpolates). Returns NULL, or (writing nothing) why the
 * key cannot be written: empty, or holding `=`, `#` at the start, a line
 * break or surrounding blanks. */
const char *apx_envfile_line(apx_buf *out, const char *key, const char *value);

/* NULL, or why docker-compose v1 and v2 would not both read the written
 * value back unchanged: "a line break" (v1 keeps the \n escapes of double
 * quotes only in some versions), "a backslash at the end" (python-dotenv's
 * quoted-value pattern reads `\'` before the closing quote as an escaped
 * quote). The value can still go to a file only aspirec reads. */
const char *apx_envfile_compose_unsafe(const char *value);

#endif
