#include "map.h"

#include <stdint.h>
#include <string.h>

static void apx_map_init(apx_map *m, apx_arena *a, bool pointers) {
  memset(m, 0, sizeof *m);
  m->arena = a;
  m->pointers = pointers;
}

void apx_map_init_str(apx_map *m, apx_arena *a) { apx_map_init(m, a, false); }
void apx_map_init_ptr(apx_map *m, apx_arena *a) { apx_map_init(m, a, true); }

/* The slot is taken from the low bits: the product's high half, where
 * every bit of the (8-byte aligned) pointers counts, is folded onto them. */
static uint64_t apx_map_hash_ptr(const void *k1, const void *k2) {
  uint64_t h = ((uint64_t)(uintptr_t)k1 ^ ((uint64_t)(uintptr_t)k2 * 0xC2B2AE3D27D4EB4FULL)) * 0x9E3779B97F4A7C15ULL;
  return h ^ (h >> 32);
}

/* Eight bytes a step (a byte a step cost half of every lookup: keys are
 * names of twenty bytes and more), each mixed in by a multiply and a shift;
 * the last bytes are read as one or two loads that may overlap. */
static uint64_t apx_load32(const char *s) {
  uint32_t w;
  memcpy(&w, s, 4);
  return w;
}

uint64_t apx_map_hash_str(const char *s) { return apx_map_hash_strn(s, strlen(s)); }

uint64_t apx_map_hash_strn(const char *s, size_t n) {
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, w;
  if (n > 8) {
    const char *end = s + n - 8;
    for (; s < end; s += 8) {
      memcpy(&w, s, 8);
      h = (h ^ w) * 0xBF58476D1CE4E5B9ULL;
      h ^= h >> 31;
    }
    memcpy(&w, end, 8); /* the last eight, overlapping what came before */
  } else if (n >= 4) {
    w = apx_load32(s) | apx_load32(s + n - 4) << 32;
  } else {
    w = 0;
    for (size_t i = 0; i < n; i++) w |= (uint64_t)(unsigned char)s[i] << (8 * i);
  }
  /* MurmurHash3's finaliser: every input bit reaches the low bits, which
   * pick the slot. */
  h ^= w;
  h ^= h >> 33;
  h *= 0xFF51AFD7ED558CCDULL;
  h ^= h >> 33;
  h *= 0xC4CEB9FE1A85EC53ULL;
  return h ^ (h >> 33);
}

/* A string key keeps its hash where a pointer pair keeps its second
 * pointer (k2, which a string key does not use): a probe compares it
 * before the bytes, and a growth does not hash the keys again. */
static void apx_map_rehash(apx_map *m, size_t nc) {
  apx_map_slot *ns = apx_arena_alloc(m->arena, nc * sizeof *ns);
  for (size_t i = 0; i < m->cap; i++) {
    const apx_map_slot *o = &m->slots[i];
    if (!o->k1) continue;
    uint64_t h = m->pointers ? apx_map_hash_ptr(o->k1, o->k2) : (uint64_t)(uintptr_t)o->k2;
    size_t j = (size_t)h & (nc - 1);
    while (ns[j].k1) j = (j + 1) & (nc - 1);
    ns[j] = *o;
  }
  apx_arena_release(m->arena, m->slots, m->cap * sizeof *m->slots);
  m->slots = ns;
  m->cap = nc;
}

void apx_map_reserve(apx_map *m, size_t n) {
  size_t nc = m->cap ? m->cap : 16;
  while (n * 4 > nc * 3) nc *= 2;
  if (nc != m->cap) apx_map_rehash(m, nc);
}

static size_t *apx_map_get(apx_map *m, const void *k1, const void *k2, bool insert) {
  /* Linear probing stays short up to 3/4 full. */
  if (insert && (m->n + 1) * 4 > m->cap * 3) apx_map_rehash(m, m->cap ? m->cap * 2 : 16);
  if (!m->cap) return NULL;
  uint64_t h;
  if (m->pointers) {
    h = apx_map_hash_ptr(k1, k2);
  } else {
    h = apx_map_hash_str(k1);
    k2 = (const void *)(uintptr_t)h;
  }
  size_t j = (size_t)h & (m->cap - 1);
  for (apx_map_slot *s; (s = &m->slots[j])->k1; j = (j + 1) & (m->cap - 1))
    if (s->k2 == k2 && (m->pointers ? s->k1 == k1 : strcmp(s->k1, k1) == 0)) return &s->value;
  if (!insert) return NULL;
  m->slots[j] = (apx_map_slot){k1, k2, (size_t)-1};
  m->n++;
  return &m->slots[j].value;
}

void apx_map_release(apx_map *m) {
  apx_arena_release(m->arena, m->slots, m->cap * sizeof *m->slots);
  m->slots = NULL;
  m->cap = m->n = 0;
}

size_t *apx_map_str(apx_map *m, const char *key, bool insert) { return apx_map_get(m, key, NULL, insert); }
size_t *apx_map_ptr(apx_map *m, const void *k1, const void *k2, bool insert) { return apx_map_get(m, k1, k2, insert); }
