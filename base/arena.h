/* Arena allocation: one arena per compilation holds the AST and the IR, so
 * nothing inside them is ever freed piecemeal (see doc/internals.md). */
#ifndef APX_ARENA_H
#define APX_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdarg.h>

typedef struct apx_arena apx_arena;

apx_arena *apx_arena_new(void);
void apx_arena_free(apx_arena *a);
/* Zeroed, aligned for any type. Aborts on out-of-memory (a compiler cannot
 * recover from it and every caller would otherwise need a check). */
void *apx_arena_alloc(apx_arena *a, size_t size);
/* Grows an array allocated from the arena (in place when it is the last
 * allocation). The old block is given back for reuse: no pointer into it
 * may be kept across the call. */
void *apx_arena_grow(apx_arena *a, void *old, size_t old_size, size_t new_size);
/* Gives back a block of `size` bytes that nothing points into any more; a
 * later allocation of the same size reuses it. One of more than 16 KiB that
 * got a block of its own (a large map's old slots) goes back to the system. */
void apx_arena_release(apx_arena *a, void *p, size_t size);
char *apx_arena_strdup(apx_arena *a, const char *s);
char *apx_arena_strndup(apx_arena *a, const char *s, size_t n);
char *apx_arena_printf(apx_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
char *apx_arena_vprintf(apx_arena *a, const char *fmt, va_list ap);
/* The strings up to a NULL, joined: names made by the tens of thousands
 * (ConnectionStrings__db), where printf would cost ten times as much. */
char *apx_arena_cat(apx_arena *a, ...) __attribute__((sentinel));
size_t apx_arena_bytes(const apx_arena *a);
/* Frees everything allocated so far (keeping one block for what follows):
 * for a scratch arena, such as one parsed item's tree. */
void apx_arena_reset(apx_arena *a);
/* Where the next allocation goes (an opaque mark), for apx_arena_free_before. */
const void *apx_arena_mark(const apx_arena *a);
/* Frees the blocks filled before the one `mark` was taken in (blocks of
 * their own, for large requests, stay): for an arena of small objects that
 * die in the order they were made, such as one resource's generic items
 * after another's. Nothing may point into those blocks any more. */
void apx_arena_free_before(apx_arena *a, const void *mark);
/* Frees at once an allocation that got a block of its own (more than 16 KiB
 * that did not fit in the current block; anything over 64 KiB): a source
 * file's text once nothing reads it. Returns false, freeing nothing, for
 * any other pointer. */
bool apx_arena_free_large(apx_arena *a, void *p);
/* The most apx_arena_bytes has been, resets included. */
size_t apx_arena_peak(const apx_arena *a);

#define APX_NEW(a, T) ((T *)apx_arena_alloc((a), sizeof(T)))
#define APX_NEW_ARRAY(a, T, n) ((T *)apx_arena_alloc((a), sizeof(T) * (size_t)(n)))

/* A growable array in the arena: `T *items; size_t n, cap;` fields. */
#define APX_VEC_PUSH(a, items, n, cap, value)                                  \
  do {                                                                         \
    if ((n) == (cap)) {                                                        \
      size_t apx_nc_ = (cap) ? (cap) * 2 : 4;                                  \
      (items) = apx_arena_grow((a), (items), sizeof(*(items)) * (cap),         \
                               sizeof(*(items)) * apx_nc_);                    \
      (cap) = apx_nc_;                                                         \
    }                                                                          \
    (items)[(n)++] = (value);                                                  \
  } while (0)

#endif
