/* Source files and diagnostics. Locations are byte offsets into a source
 * file; they are turned into file:line:col, the source line and a caret only
 * when a diagnostic is printed. */
#ifndef APX_DIAG_H
#define APX_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "arena.h"

typedef struct apx_loc {
  uint32_t file;  /* index into the source table; 0 means "no location" */
  uint32_t begin; /* byte offset of the first byte */
  uint32_t end;   /* byte offset one past the last byte (>= begin) */
} apx_loc;

#define APX_NOLOC ((apx_loc){0, 0, 0})

typedef struct apx_source {
  const char *path;    /* as given or as found on the search path */
  const char *name;    /* how messages and the IR name it: the path, or
                          stdlib/NAME.apx for the standard library, so that
                          output does not depend on where it is installed */
  const char *dir;     /* directory holding it, for relative paths */
  const char *text;    /* whole file, NUL-terminated */
  size_t len;
  uint32_t *lines;     /* offsets of line starts, built lazily */
  size_t nlines;
} apx_source;

typedef enum { APX_DIAG_ERROR, APX_DIAG_WARNING, APX_DIAG_NOTE } apx_diag_level;

typedef struct apx_diagnostic {
  apx_diag_level level;
  apx_loc loc;
  const char *message;
  const char *hint; /* "did you mean 'db'?", or NULL */
  size_t seq;       /* order of report, to keep sorting stable */
} apx_diagnostic;

typedef struct apx_diag {
  apx_arena *arena;
  apx_source *sources; /* sources[0] is a placeholder for APX_NOLOC */
  size_t nsources, capsources;
  apx_diagnostic *items;
  size_t n, cap;
  size_t errors, warnings;
  bool color;
  size_t max_errors; /* 0: unlimited */
} apx_diag;

void apx_diag_init(apx_diag *d, apx_arena *arena);
/* Registers a source text (copied into the arena); returns its file id. */
uint32_t apx_diag_add_source(apx_diag *d, const char *path, const char *text, size_t len);
const apx_source *apx_diag_source(const apx_diag *d, uint32_t file);
void apx_diag_set_name(apx_diag *d, uint32_t file, const char *name);
/* 1-based line and column (column counts bytes) of an offset. */
void apx_diag_line_col(apx_diag *d, uint32_t file, uint32_t offset, unsigned *line, unsigned *col);

apx_diagnostic *apx_error(apx_diag *d, apx_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
apx_diagnostic *apx_warning(apx_diag *d, apx_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
apx_diagnostic *apx_note(apx_diag *d, apx_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Attaches a hint to a diagnostic returned by the calls above. */
void apx_diag_hint(apx_diag *d, apx_diagnostic *dg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints every diagnostic, sorted by file and offset (notes stay after the
 * diagnostic they follow), with the source line and a caret. */
void apx_diag_print(apx_diag *d, FILE *out);

/* Whether a "did you mean" search is still worth its cost: it scans every
 * candidate, so after the first 100 errors of a compile (a generated file,
 * a wrong import) suggestions stop and the error count stays linear. */
bool apx_diag_may_suggest(const apx_diag *d);

/* The closest candidate to `name` within a small edit distance, or NULL. */
const char *apx_suggest(const char *name, const char *const *candidates, size_t n);

#endif
