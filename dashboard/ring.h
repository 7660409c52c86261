/* A bounded ring of log lines (one per unit): at most `max_lines` lines
 * and `max_bytes` bytes of text; the oldest go first, and how many went is
 * counted. Every line has a sequence number given by the caller (one
 * counter for the whole run, so that the lines of every unit can be merged
 * in the order they came) and a time. Memory grows with use up to the
 * bounds. */
#ifndef APX_DASH_RING_H
#define APX_DASH_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct apx_dash_line {
  uint64_t seq;
  uint64_t at_ms;
  size_t off;  /* into the ring's text */
  uint32_t len;
  bool cont;   /* a piece of a longer line: the rest follows */
  uint8_t sys; /* 0: the unit's output; APX_DASH_SYS: aspirec's own message; APX_DASH_SYS_ERROR: an error */
} apx_dash_line;

enum { APX_DASH_SYS = 1, APX_DASH_SYS_ERROR = 2 };

typedef struct apx_dash_ring {
  apx_dash_line *lines; /* circular: head is the oldest */
  size_t nlines, caplines, head, max_lines;
  char *text; /* circular bytes */
  size_t tcap, thead, tlen, max_bytes;
  uint64_t dropped; /* lines that went to make room */
} apx_dash_ring;

void apx_dash_ring_init(apx_dash_ring *r, size_t max_lines, size_t max_bytes);
void apx_dash_ring_free(apx_dash_ring *r);
/* Appends a line (longer than max_bytes: its end only is kept). */
void apx_dash_ring_push(apx_dash_ring *r, uint64_t seq, uint64_t at_ms, const char *s, size_t n, bool cont);
/* Marks the line pushed last (apx_dash_line.sys). */
void apx_dash_ring_mark(apx_dash_ring *r, uint8_t sys);
/* The k-th line kept (0: the oldest), or NULL. */
const apx_dash_line *apx_dash_ring_at(const apx_dash_ring *r, size_t k);
/* The index of the first line kept with seq > after (nlines when none). */
size_t apx_dash_ring_after(const apx_dash_ring *r, uint64_t after);
/* The text of a line: up to two pieces (it may wrap around). */
void apx_dash_ring_text(const apx_dash_ring *r, const apx_dash_line *l, const char **a, size_t *na, const char **b,
                        size_t *nb);

#endif
