/* A hash map in the arena, for the many places that ask "seen this name
 * before?" (env keys, endpoints, map keys, .env variables). A linear scan
 * there makes compile time quadratic in the size of one resource. */
#ifndef APX_MAP_H
#define APX_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"

typedef struct apx_map_slot {
  const void *k1, *k2; /* a string (k2 its hash), or a pair of pointers; k1 NULL: empty */
  size_t value;
} apx_map_slot;

typedef struct apx_map {
  apx_arena *arena;
  bool pointers; /* keys are pointer pairs, not strings */
  apx_map_slot *slots;
  size_t cap, n;
} apx_map;

/* The hash a string key is placed by (for a caller that keeps it, to look
 * the same key up many times without reading it again). */
uint64_t apx_map_hash_str(const char *s);
/* The same for n bytes of s (not NUL-terminated; the scanner's names). */
uint64_t apx_map_hash_strn(const char *s, size_t n);
void apx_map_init_str(apx_map *m, apx_arena *a);
void apx_map_init_ptr(apx_map *m, apx_arena *a);
/* The value slot of a key, or NULL when absent and !insert. A new slot's
 * value is (size_t)-1. Keys are not copied (they must outlive the map) and
 * k1 is never NULL. */
size_t *apx_map_str(apx_map *m, const char *key, bool insert);
size_t *apx_map_ptr(apx_map *m, const void *k1, const void *k2, bool insert);
/* Makes room for n keys in all: no insert grows the map (and moves the
 * value slots) until there are more. */
void apx_map_reserve(apx_map *m, size_t n);
/* Gives a map's slots back to its arena for reuse (a map that only served
 * one check); the map is empty afterwards. */
void apx_map_release(apx_map *m);

#endif
