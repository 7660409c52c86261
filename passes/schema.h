/* What each kind accepts: attribute and block names, their types and the
 * kinds they apply to. typecheck reads bodies against it; doc/language.md
 * documents the same table. */
#ifndef APX_SCHEMA_H
#define APX_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>

#include "ir/ir.h"

enum {
  APX_K_CONTAINER = 1u << APX_KIND_CONTAINER,
  APX_K_EXECUTABLE = 1u << APX_KIND_EXECUTABLE,
  APX_K_PROJECT = 1u << APX_KIND_PROJECT,
  APX_K_EXTERNAL = 1u << APX_KIND_EXTERNAL,
  APX_K_PARAM = 1u << APX_KIND_PARAM,
  APX_K_RUNS = APX_K_CONTAINER | APX_K_EXECUTABLE | APX_K_PROJECT,
  APX_K_ALL = APX_K_RUNS | APX_K_EXTERNAL | APX_K_PARAM,
};

typedef enum {
  APX_T_STRING,   /* text, may hold references (a template) */
  APX_T_CONST,    /* text known at compile time (paths, names, enums) */
  APX_T_INT,
  APX_T_BOOL,
  APX_T_DURATION,
  APX_T_LIST,     /* list of strings (argv) */
  APX_T_REFS,     /* list of resource names */
  APX_T_SCALAR,   /* string, integer or boolean (a param default) */
  APX_T_ANYLIST,  /* list whose items are strings or lists (setup commands) */
  APX_T_MAP,      /* free-form block or map: keys to strings */
  APX_T_BLOCK,    /* a block with its own schema */
} apx_type;

typedef struct apx_spec apx_spec;
struct apx_spec {
  const char *name;
  int id;              /* which field it fills: APX_F_* */
  apx_type type;
  unsigned kinds;      /* APX_K_* mask; 0 inside a block (any) */
  bool labeled;        /* block takes a label (endpoint NAME) */
  bool repeat;         /* block may appear several times */
  bool required;       /* inside a block */
  const apx_spec *sub; /* APX_T_BLOCK: its schema, NULL-name terminated */
};

enum {
  APX_F_IMAGE = 1, APX_F_BUILD, APX_F_COMMAND, APX_F_ARGS, APX_F_ENTRYPOINT, APX_F_WORKDIR,
  APX_F_ENV, APX_F_ENDPOINT, APX_F_VOLUME, APX_F_BIND, APX_F_HEALTH, APX_F_REFERENCES,
  APX_F_WAIT_FOR, APX_F_WAIT_FOR_START, APX_F_WAIT_FOR_COMPLETION, APX_F_REPLICAS, APX_F_RESTART,
  APX_F_LIFETIME, APX_F_EXPLICIT_START, APX_F_PUBLISH, APX_F_LABELS, APX_F_ANNOTATIONS, APX_F_LOCAL,
  APX_F_CONNECTION_STRING, APX_F_URL, APX_F_SECRET, APX_F_DEFAULT, APX_F_GENERATE, APX_F_DESCRIPTION,
  APX_F_SUB, /* a field inside a block: read by the block's handler */
};

extern const apx_spec apx_schema_resource[];

/* The spec named `name` in a NULL-terminated table, or NULL. */
const apx_spec *apx_schema_find(const apx_spec *table, const char *name);

#endif
