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
  const char *text;    /* whole file, NUL-terminated; NULL once released */
  size_t len;
  bool reread;         /* read from `path`: may be released, and read again */
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
  size_t errors, warnings; /* every one reported, shown or not */
  bool color;
  /* At most `limit` errors and, apart, `limit` warnings are kept for
   * printing (0: all). Those past it are only counted: no message is
   * formatted or stored, and their notes go with them, so that a hostile
   * input costs O(1) per dropped diagnostic. */
  size_t limit;
  bool dropping;          /* the last error or warning was dropped: so are its notes */
  const char *limit_hint; /* how to see the rest, for the "not shown" line */
} apx_diag;

#define APX_DIAG_DEFAULT_LIMIT 20

/* Starts with the default limit (APX_DIAG_DEFAULT_LIMIT). */
void apx_diag_init(apx_diag *d, apx_arena *arena);
/* Sets the limit (0: no limit) and the words that tell how to see the
 * diagnostics past it (NULL: a generic sentence). */
void apx_diag_set_limit(apx_diag *d, size_t limit, const char *hint);
/* Whether a diagnostic of `level` reported now would be printed: a pass
 * asks before it spends work on a message (a suggestion search, a long
 * formatted value). */
bool apx_diag_shows(const apx_diag *d, apx_diag_level level);
/* Registers a source text (copied into the arena); returns its file id. */
uint32_t apx_diag_add_source(apx_diag *d, const char *path, const char *text, size_t len);
/* Registers a source read from `path` into `text`, allocated from the
 * diagnostics' arena (len + 1 bytes, NUL-terminated): not copied, and
 * apx_diag_source_release may drop it. */
uint32_t apx_diag_add_source_read(apx_diag *d, const char *path, char *text, size_t len);
/* Once the front end has read a source added by apx_diag_add_source_read:
 * its text is freed (a large program's is a tenth of a compile's memory)
 * and its line index kept, so that locations still turn into line:col;
 * printing a source line reads the file again (without the line when the
 * file has changed size since). Other sources keep their text. */
void apx_diag_source_release(apx_diag *d, uint32_t file);
const apx_source *apx_diag_source(const apx_diag *d, uint32_t file);
void apx_diag_set_name(apx_diag *d, uint32_t file, const char *name);
/* 1-based line and column (column counts bytes) of an offset. */
void apx_diag_line_col(apx_diag *d, uint32_t file, uint32_t offset, unsigned *line, unsigned *col);

/* Each returns the stored diagnostic, or NULL when it is past the limit
 * (apx_diag_hint accepts NULL). */
apx_diagnostic *apx_error(apx_diag *d, apx_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
apx_diagnostic *apx_warning(apx_diag *d, apx_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
apx_diagnostic *apx_note(apx_diag *d, apx_loc loc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Attaches a hint to a diagnostic returned by the calls above. */
void apx_diag_hint(apx_diag *d, apx_diagnostic *dg, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints every diagnostic kept, sorted by file and offset (notes stay after
 * the diagnostic they follow), with the source line (a window of it around
 * the caret) and a caret, then one line that counts those past the limit.
 * A message or hint is cut after 480 bytes. The cost of one is bounded by
 * what it prints. */
void apx_diag_print(apx_diag *d, FILE *out);

/* Whether a "did you mean" search is still worth its cost: it scans every
 * candidate, so only for an error that will be shown, and with no limit,
 * only for the first 100 errors of a compile (a generated file, a wrong
 * import), so that the time stays linear in the number of errors. */
bool apx_diag_may_suggest(const apx_diag *d);

/* The closest candidate to `name` within a small edit distance, or NULL. */
const char *apx_suggest(const char *name, const char *const *candidates, size_t n);

#endif
