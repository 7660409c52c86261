#include "arena.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Blocks are chained; large requests get a block of their own so that a big
 * file's text does not waste the tail of a normal block. */
typedef struct apx_block {
  struct apx_block *next;
  size_t used, size;
  size_t zeroed; /* data[used, zeroed) is zero: cleared ahead in pages, not per allocation */
  _Alignas(max_align_t) unsigned char data[];
} apx_block;

enum { APX_BLOCK_SIZE = 64 * 1024 };

/* Blocks given back (the old copy of a grown vector, a map's old slots) are
 * kept by size, in 8-byte steps up to this size, and handed out again by
 * the next allocation of that size: vectors that grow by doubling, one per
 * resource, otherwise leave a third of the arena behind. */
enum { APX_FREE_MAX = 16 * 1024, APX_FREE_CLASSES = APX_FREE_MAX / 8 + 1 };

typedef struct apx_free_block {
  struct apx_free_block *next;
} apx_free_block;

struct apx_arena {
  apx_block *head;
  size_t total, peak;
  apx_free_block *free[APX_FREE_CLASSES];
  bool released; /* anything in free[]: a reset must clear it */
};

/* Clears the block up to at least `end`, 1 KB ahead: one memset per KB
 * instead of one per allocation (millions of small ones). */
enum { APX_ZERO_AHEAD = 1024 };

static void apx_block_zero_to(apx_block *b, size_t end) {
  size_t z = end + APX_ZERO_AHEAD;
  if (z > b->size) z = b->size;
  memset(b->data + b->zeroed, 0, z - b->zeroed);
  b->zeroed = z;
}

static void apx_arena_oom(void) {
  fputs("aspirec: out of memory\n", stderr);
  abort();
}

apx_arena *apx_arena_new(void) {
  apx_arena *a = calloc(1, sizeof *a);
  if (!a) apx_arena_oom();
  return a;
}

void apx_arena_free(apx_arena *a) {
  if (!a) return;
  apx_block *b = a->head;
  while (b) {
    apx_block *next = b->next;
    free(b);
    b = next;
  }
  free(a);
}

/* A block of its own (a large request, used whole) is calloc'ed: one that
 * comes fresh from the system (mmap, a source file's text) is zero already
 * and calloc does not clear it again. A normal block is cleared ahead as it
 * fills: calloc would clear all of a reused one at once. */
static apx_block *apx_block_new(apx_arena *a, size_t size) {
  apx_block *b = a->head;
  bool own = size > APX_BLOCK_SIZE / 4;
  size_t bsize = own ? size : APX_BLOCK_SIZE;
  apx_block *nb = own ? calloc(1, sizeof *nb + bsize) : malloc(sizeof *nb + bsize);
  if (!nb) apx_arena_oom();
  nb->used = 0;
  nb->zeroed = own ? bsize : 0;
  nb->size = bsize;
  if (b && bsize != APX_BLOCK_SIZE) {
    /* Keep the current block first: it still has room for small items. */
    nb->next = b->next;
    b->next = nb;
  } else {
    nb->next = b;
    a->head = nb;
  }
  a->total += sizeof *nb + bsize;
  return nb;
}

/* What apx_arena_alloc does not do inline: reuse a block given back, start
 * a new block, clear ahead. Out of line, so that the common case (a bump
 * in the current block) needs no stack frame. */
static __attribute__((noinline)) void *apx_arena_alloc_slow(apx_arena *a, size_t size) {
  if (size <= APX_FREE_MAX && a->free[size / 8]) {
    apx_free_block *f = a->free[size / 8];
    a->free[size / 8] = f->next;
    memset(f, 0, size);
    return f;
  }
  apx_block *b = a->head;
  if (!b || b->size - b->used < size) b = apx_block_new(a, size);
  void *p = b->data + b->used;
  b->used += size;
  if (b->used > b->zeroed) apx_block_zero_to(b, b->used);
  return p;
}

void *apx_arena_alloc(apx_arena *a, size_t size) {
  /* 8, not max_align_t's 16: nothing in the AST or IR needs more, and the
   * IR is millions of small objects. */
  const size_t align = 8;
  size = (size + align - 1) & ~(align - 1);
  if (size == 0) size = align;
  apx_block *b = a->head;
  /* used <= zeroed <= size: one test says the block has cleared room. */
  if (b && size <= b->zeroed - b->used && !(size <= APX_FREE_MAX && a->free[size / 8])) {
    void *p = b->data + b->used;
    b->used += size;
    return p;
  }
  return apx_arena_alloc_slow(a, size);
}

/* A block of its own that holds exactly p's `size` bytes goes back to the
 * system: the old slots of a large map, the old copy of a large vector
 * (10,000 resources' index: 390 KB, with 360 KB of copies before it). Not
 * the head nor the last block (a mark may name them), nor one of the normal
 * size (a vector grown in place may fill one). */
static void apx_arena_free_own(apx_arena *a, void *p, size_t size) {
  if (size == APX_BLOCK_SIZE) return;
  for (apx_block **link = &a->head; *link; link = &(*link)->next) {
    apx_block *b = *link;
    if (b->data != p) continue;
    /* The last block may be one made in an empty arena, hence once the
     * head that a mark names: a block malloc gave the same address would
     * then be taken for the mark. */
    if (b->size != size || b == a->head || !b->next) return;
    if (a->total > a->peak) a->peak = a->total;
    *link = b->next;
    a->total -= sizeof *b + b->size;
    free(b);
    return;
  }
}

void apx_arena_release(apx_arena *a, void *p, size_t size) {
  size = (size + 7) & ~(size_t)7;
  if (!p || size == 0) return;
  if (size > APX_FREE_MAX) {
    apx_arena_free_own(a, p, size);
    return;
  }
  apx_free_block *f = p;
  a->released = true;
  f->next = a->free[size / 8];
  a->free[size / 8] = f;
}

void *apx_arena_grow(apx_arena *a, void *old, size_t old_size, size_t new_size) {
  /* The last allocation of the current block grows in place: vectors
   * doubling one after another would otherwise leave every old copy behind. */
  apx_block *b = a->head;
  size_t old_al = (old_size + 7) & ~(size_t)7, new_al = (new_size + 7) & ~(size_t)7;
  if (old && b && old_size && (unsigned char *)old + old_al == b->data + b->used &&
      (size_t)((unsigned char *)old - b->data) + new_al <= b->size) {
    /* What lies between the end and b->zeroed is zero: a cut clears what
     * it gives back, a growth past it clears ahead. */
    if (new_al < old_al) memset((unsigned char *)old + new_al, 0, old_al - new_al);
    b->used = (size_t)((unsigned char *)old - b->data) + new_al;
    if (b->used > b->zeroed) apx_block_zero_to(b, b->used);
    return old;
  }
  void *p = apx_arena_alloc(a, new_size);
  if (old && old_size) {
    memcpy(p, old, old_size < new_size ? old_size : new_size);
    apx_arena_release(a, old, old_size);
  }
  return p;
}

char *apx_arena_strndup(apx_arena *a, const char *s, size_t n) {
  char *p = apx_arena_alloc(a, n + 1);
  if (n) memcpy(p, s, n);
  p[n] = '\0';
  return p;
}

char *apx_arena_strdup(apx_arena *a, const char *s) {
  return s ? apx_arena_strndup(a, s, strlen(s)) : NULL;
}

char *apx_arena_vprintf(apx_arena *a, const char *fmt, va_list ap) {
  /* Short results (nearly all) are formatted once, into a stack buffer. */
  char small[256];
  va_list ap2;
  va_copy(ap2, ap);
  int n = vsnprintf(small, sizeof small, fmt, ap2);
  va_end(ap2);
  if (n < 0) n = 0;
  char *p = apx_arena_alloc(a, (size_t)n + 1);
  if ((size_t)n < sizeof small) memcpy(p, small, (size_t)n + 1);
  else vsnprintf(p, (size_t)n + 1, fmt, ap);
  return p;
}

char *apx_arena_printf(apx_arena *a, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *p = apx_arena_vprintf(a, fmt, ap);
  va_end(ap);
  return p;
}

char *apx_arena_cat(apx_arena *a, ...) {
  /* The lengths of the first few are kept from the first pass (calls join
   * two to five strings). */
  enum { KEPT = 8 };
  size_t len[KEPT], n = 0, k = 0;
  va_list ap;
  va_start(ap, a);
  for (const char *s; (s = va_arg(ap, const char *)); k++) {
    size_t l = strlen(s);
    if (k < KEPT) len[k] = l;
    n += l;
  }
  va_end(ap);
  char *p = apx_arena_alloc(a, n + 1), *o = p;
  va_start(ap, a);
  k = 0;
  for (const char *s; (s = va_arg(ap, const char *)); k++) {
    size_t l = k < KEPT ? len[k] : strlen(s);
    memcpy(o, s, l);
    o += l;
  }
  va_end(ap);
  *o = '\0';
  return p;
}

size_t apx_arena_bytes(const apx_arena *a) { return a->total; }

bool apx_arena_free_large(apx_arena *a, void *p) {
  for (apx_block **link = &a->head; *link; link = &(*link)->next) {
    apx_block *b = *link;
    if (b->data != p) continue;
    /* A normal block is shared with later allocations (a request of
     * exactly its size cannot be told apart: it stays). */
    if (b->size == APX_BLOCK_SIZE) return false;
    if (a->total > a->peak) a->peak = a->total;
    *link = b->next;
    a->total -= sizeof *b + b->size;
    free(b);
    return true;
  }
  return false;
}

const void *apx_arena_mark(const apx_arena *a) { return a->head; }

void apx_arena_free_before(apx_arena *a, const void *mark) {
  apx_block *b = a->head;
  while (b && b != mark) b = b->next;
  if (!b) return;
  if (a->total > a->peak) a->peak = a->total;
  /* A large block is linked after the block that was current when it was
   * made, so it may be younger than the mark: it stays. */
  apx_block **link = &b->next;
  for (apx_block *o = b->next; o;) {
    apx_block *next = o->next;
    if (o->size != APX_BLOCK_SIZE) {
      *link = o;
      link = &o->next;
    } else {
      a->total -= sizeof *o + o->size;
      free(o);
    }
    o = next;
  }
  *link = NULL;
  /* Blocks given back may have been in the freed ones. */
  if (a->released) memset(a->free, 0, sizeof a->free);
  a->released = false;
}

size_t apx_arena_peak(const apx_arena *a) { return a->total > a->peak ? a->total : a->peak; }

void apx_arena_reset(apx_arena *a) {
  if (a->total > a->peak) a->peak = a->total;
  apx_block *keep = NULL;
  for (apx_block *b = a->head; b;) {
    apx_block *next = b->next;
    if (!keep && b->size == APX_BLOCK_SIZE) keep = b;
    else free(b);
    b = next;
  }
  if (keep) {
    keep->used = 0;
    keep->zeroed = 0;
    keep->next = NULL;
  }
  a->head = keep;
  a->total = keep ? sizeof *keep + keep->size : 0;
  if (a->released) memset(a->free, 0, sizeof a->free);
  a->released = false;
}
