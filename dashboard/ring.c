/* Bounded rings of log lines (ring.h). */
#include <stdlib.h>
#include <string.h>

#include "ring.h"

void apx_dash_ring_init(apx_dash_ring *r, size_t max_lines, size_t max_bytes) {
  memset(r, 0, sizeof *r);
  r->max_lines = max_lines ? max_lines : 1;
  r->max_bytes = max_bytes ? max_bytes : 1;
}

void apx_dash_ring_free(apx_dash_ring *r) {
  free(r->lines);
  free(r->text);
  memset(r, 0, sizeof *r);
}

static void apx_drop_oldest(apx_dash_ring *r) {
  apx_dash_line *l = &r->lines[r->head];
  r->thead = (r->thead + l->len) % (r->tcap ? r->tcap : 1);
  r->tlen -= l->len;
  r->head = (r->head + 1) % r->caplines;
  r->nlines--;
  r->dropped++;
  if (!r->tlen) r->thead = 0;
}

/* Grows the line array (doubling, up to max_lines), keeping the order. */
static void apx_grow_lines(apx_dash_ring *r) {
  size_t nc = r->caplines ? r->caplines * 2 : 64;
  if (nc > r->max_lines) nc = r->max_lines;
  apx_dash_line *nl = malloc(nc * sizeof *nl);
  if (!nl) abort();
  for (size_t i = 0; i < r->nlines; i++) nl[i] = r->lines[(r->head + i) % r->caplines];
  free(r->lines);
  r->lines = nl;
  r->caplines = nc;
  r->head = 0;
}

/* Grows the text ring to hold `need` bytes (doubling, up to max_bytes). */
static void apx_grow_text(apx_dash_ring *r, size_t need) {
  size_t nc = r->tcap ? r->tcap : 4096;
  while (nc < need) nc *= 2;
  if (nc > r->max_bytes) nc = r->max_bytes;
  if (nc <= r->tcap) return;
  char *nt = malloc(nc);
  if (!nt) abort();
  /* Unwrap, and move every line's offset with it. */
  size_t first = r->tcap - r->thead < r->tlen ? r->tcap - r->thead : r->tlen;
  if (r->tlen) {
    memcpy(nt, r->text + r->thead, first);
    memcpy(nt + first, r->text, r->tlen - first);
  }
  for (size_t i = 0; i < r->nlines; i++) {
    apx_dash_line *l = &r->lines[(r->head + i) % r->caplines];
    l->off = (l->off + r->tcap - r->thead) % r->tcap;
  }
  free(r->text);
  r->text = nt;
  r->tcap = nc;
  r->thead = 0;
}

void apx_dash_ring_push(apx_dash_ring *r, uint64_t seq, uint64_t at_ms, const char *s, size_t n, bool cont) {
  if (n > r->max_bytes) { /* keep its end */
    s += n - r->max_bytes;
    n = r->max_bytes;
  }
  if (r->tlen + n > r->tcap && r->tcap < r->max_bytes) apx_grow_text(r, r->tlen + n);
  while (r->nlines && r->tlen + n > r->tcap) apx_drop_oldest(r);
  if (r->nlines == r->caplines) {
    if (r->caplines < r->max_lines) apx_grow_lines(r);
    else apx_drop_oldest(r);
  }
  if (!r->tcap) apx_grow_text(r, n ? n : 1);
  size_t off = r->tlen ? (r->thead + r->tlen) % r->tcap : (r->thead = 0);
  size_t first = r->tcap - off < n ? r->tcap - off : n;
  memcpy(r->text + off, s, first);
  memcpy(r->text, s + first, n - first);
  r->tlen += n;
  apx_dash_line *l = &r->lines[(r->head + r->nlines) % r->caplines];
  *l = (apx_dash_line){seq, at_ms, off, (uint32_t)n, cont, 0};
  r->nlines++;
}

void apx_dash_ring_mark(apx_dash_ring *r, uint8_t sys) {
  if (r->nlines) r->lines[(r->head + r->nlines - 1) % r->caplines].sys = sys;
}

const apx_dash_line *apx_dash_ring_at(const apx_dash_ring *r, size_t k) {
  if (k >= r->nlines) return NULL;
  return &r->lines[(r->head + k) % r->caplines];
}

size_t apx_dash_ring_after(const apx_dash_ring *r, uint64_t after) {
  size_t lo = 0, hi = r->nlines; /* sequence numbers grow along the ring */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (apx_dash_ring_at(r, mid)->seq <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

void apx_dash_ring_text(const apx_dash_ring *r, const apx_dash_line *l, const char **a, size_t *na, const char **b,
                        size_t *nb) {
  size_t first = r->tcap - l->off < l->len ? r->tcap - l->off : l->len;
  *a = r->text + l->off;
  *na = first;
  *b = r->text;
  *nb = l->len - first;
}
