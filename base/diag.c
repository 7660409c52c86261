#include "diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

void apx_diag_init(apx_diag *d, apx_arena *arena) {
  memset(d, 0, sizeof *d);
  d->arena = arena;
  d->limit = APX_DIAG_DEFAULT_LIMIT;
  apx_source none = {0};
  none.path = none.name = "<unknown>";
  none.dir = ".";
  none.text = "";
  APX_VEC_PUSH(arena, d->sources, d->nsources, d->capsources, none);
}

static uint32_t apx_diag_add(apx_diag *d, const char *path, const char *text, size_t len, bool reread) {
  apx_source s = {0};
  s.path = s.name = apx_arena_strdup(d->arena, path);
  const char *slash = strrchr(path, '/');
  s.dir = slash ? (slash == path ? "/" : apx_arena_strndup(d->arena, path, (size_t)(slash - path))) : ".";
  s.text = text;
  s.len = len;
  s.reread = reread;
  APX_VEC_PUSH(d->arena, d->sources, d->nsources, d->capsources, s);
  return (uint32_t)(d->nsources - 1);
}

uint32_t apx_diag_add_source(apx_diag *d, const char *path, const char *text, size_t len) {
  return apx_diag_add(d, path, apx_arena_strndup(d->arena, text, len), len, false);
}

uint32_t apx_diag_add_source_read(apx_diag *d, const char *path, char *text, size_t len) {
  return apx_diag_add(d, path, text, len, true);
}

const apx_source *apx_diag_source(const apx_diag *d, uint32_t file) {
  return file < d->nsources ? &d->sources[file] : &d->sources[0];
}

void apx_diag_set_name(apx_diag *d, uint32_t file, const char *name) {
  if (file > 0 && file < d->nsources) d->sources[file].name = apx_arena_strdup(d->arena, name);
}

static void apx_diag_index_lines(apx_diag *d, apx_source *s) {
  if (s->lines || !s->text) return;
  const char *t = s->text, *end = t + s->len;
  size_t n = 1;
  for (const char *p = t; (p = memchr(p, '\n', (size_t)(end - p))); p++) n++;
  s->lines = APX_NEW_ARRAY(d->arena, uint32_t, n);
  s->nlines = 0;
  s->lines[s->nlines++] = 0;
  for (const char *p = t; (p = memchr(p, '\n', (size_t)(end - p))); p++)
    s->lines[s->nlines++] = (uint32_t)(p - t + 1);
}

void apx_diag_source_release(apx_diag *d, uint32_t file) {
  if (file == 0 || file >= d->nsources) return;
  apx_source *s = &d->sources[file];
  if (!s->reread || !s->text) return;
  apx_diag_index_lines(d, s);
  if (apx_arena_free_large(d->arena, (void *)s->text)) s->text = NULL;
}

/* The text of a released source, read again for printing its lines: only
 * when the file still has the size it had, so that the line index fits it.
 * NULL when it cannot be had (tried once). */
static const char *apx_diag_text(apx_diag *d, apx_source *s) {
  if (s->text || !s->reread) return s->text;
  s->reread = false;
  FILE *f = fopen(s->path, "rb");
  if (!f) return NULL;
  char *t = apx_arena_alloc(d->arena, s->len + 1);
  size_t n = fread(t, 1, s->len + 1, f);
  fclose(f);
  if (n != s->len) return NULL; /* changed since: no source lines */
  t[n] = '\0';
  s->text = t;
  return t;
}

/* Index of the line holding `offset` (binary search keeps printing linear). */
static size_t apx_diag_line_index(apx_source *s, uint32_t offset) {
  size_t lo = 0, hi = s->nlines;
  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->lines[mid] <= offset) lo = mid; else hi = mid;
  }
  return lo;
}

void apx_diag_line_col(apx_diag *d, uint32_t file, uint32_t offset, unsigned *line, unsigned *col) {
  if (file == 0 || file >= d->nsources) {
    *line = *col = 0;
    return;
  }
  apx_source *s = &d->sources[file];
  apx_diag_index_lines(d, s);
  if (!s->lines) { /* cannot happen: a source is released with its index */
    *line = *col = 0;
    return;
  }
  if (offset > s->len) offset = (uint32_t)s->len;
  size_t li = apx_diag_line_index(s, offset);
  *line = (unsigned)li + 1;
  *col = offset - s->lines[li] + 1;
}

void apx_diag_set_limit(apx_diag *d, size_t limit, const char *hint) {
  d->limit = limit;
  d->limit_hint = hint;
}

bool apx_diag_shows(const apx_diag *d, apx_diag_level level) {
  if (level == APX_DIAG_NOTE) return !d->dropping;
  return !d->limit || (level == APX_DIAG_ERROR ? d->errors : d->warnings) < d->limit;
}

static apx_diagnostic *apx_diag_vadd(apx_diag *d, apx_diag_level level, apx_loc loc,
                                     const char *fmt, va_list ap) {
  /* Past the limit only the count changes: nothing is formatted or kept. */
  bool shown = apx_diag_shows(d, level);
  if (level == APX_DIAG_ERROR) d->errors++;
  if (level == APX_DIAG_WARNING) d->warnings++;
  if (level != APX_DIAG_NOTE) d->dropping = !shown;
  if (!shown) return NULL;
  apx_diagnostic dg = {0};
  dg.level = level;
  dg.loc = loc;
  dg.message = apx_arena_vprintf(d->arena, fmt, ap);
  dg.seq = d->n;
  APX_VEC_PUSH(d->arena, d->items, d->n, d->cap, dg);
  return &d->items[d->n - 1];
}

#define APX_DIAG_FN(fn, level)                                               \
  apx_diagnostic *fn(apx_diag *d, apx_loc loc, const char *fmt, ...) {       \
    va_list ap;                                                              \
    va_start(ap, fmt);                                                       \
    apx_diagnostic *dg = apx_diag_vadd(d, level, loc, fmt, ap);              \
    va_end(ap);                                                              \
    return dg;                                                               \
  }
APX_DIAG_FN(apx_error, APX_DIAG_ERROR)
APX_DIAG_FN(apx_warning, APX_DIAG_WARNING)
APX_DIAG_FN(apx_note, APX_DIAG_NOTE)

void apx_diag_hint(apx_diag *d, apx_diagnostic *dg, const char *fmt, ...) {
  if (!dg) return;
  va_list ap;
  va_start(ap, fmt);
  dg->hint = apx_arena_vprintf(d->arena, fmt, ap);
  va_end(ap);
}

/* Notes sort with the diagnostic before them, so a "first defined here"
 * note never drifts away from its error. */
typedef struct { apx_diagnostic *dg; size_t group; } apx_diag_sorted;
static const apx_diag *apx_diag_sorting;

static int apx_diag_cmp(const void *a, const void *b) {
  const apx_diag_sorted *x = a, *y = b;
  const apx_diagnostic *gx = &apx_diag_sorting->items[x->group];
  const apx_diagnostic *gy = &apx_diag_sorting->items[y->group];
  if (x->group != y->group) {
    if (gx->loc.file != gy->loc.file) return gx->loc.file < gy->loc.file ? -1 : 1;
    if (gx->loc.begin != gy->loc.begin) return gx->loc.begin < gy->loc.begin ? -1 : 1;
    return x->group < y->group ? -1 : 1;
  }
  return x->dg->seq < y->dg->seq ? -1 : x->dg->seq > y->dg->seq;
}

/* A message or hint quotes what the program wrote (a name, a value), which
 * can be megabytes long: past APX_TEXT_MAX bytes it is cut, at a character
 * boundary, and ends in "...". */
enum { APX_TEXT_MAX = 480 };

/* A control byte that the program wrote (an escape sequence in a string,
 * a stray CR) would reach the terminal and act there, so it is shown as
 * \xHH instead. */
static bool apx_diag_is_control(unsigned char c) { return c < 0x20 || c == 0x7f; }

static void apx_diag_put_escaped(apx_buf *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t run = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!apx_diag_is_control(c)) continue;
    apx_buf_append(b, s + run, i - run);
    char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
    apx_buf_append(b, e, sizeof e);
    run = i + 1;
  }
  apx_buf_append(b, s + run, n - run);
}

static void apx_diag_put_text(apx_buf *b, const char *s) {
  size_t n = strnlen(s, APX_TEXT_MAX + 1);
  if (n <= APX_TEXT_MAX) {
    apx_diag_put_escaped(b, s, n);
    return;
  }
  n = APX_TEXT_MAX;
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
  apx_diag_put_escaped(b, s, n);
  apx_buf_puts(b, "...");
}

/* Renders one diagnostic into `b`: the cost is bounded by what it prints
 * (the line index is built once per file, then searched). */
static void apx_diag_render(apx_diag *d, apx_buf *b, const apx_diagnostic *dg) {
  static const char *names[] = {"error", "warning", "note"};
  static const char *colors[] = {"\033[1;31m", "\033[1;35m", "\033[1;36m"};
  const char *bold = d->color ? "\033[1m" : "", *reset = d->color ? "\033[0m" : "";
  const char *lc = d->color ? colors[dg->level] : "";
  if (dg->loc.file == 0) {
    apx_buf_printf(b, "%saspirec:%s %s%s:%s ", bold, reset, lc, names[dg->level], reset);
    apx_diag_put_text(b, dg->message);
    apx_buf_putc(b, '\n');
  } else {
    apx_source *s = &d->sources[dg->loc.file];
    unsigned line, col;
    apx_diag_line_col(d, dg->loc.file, dg->loc.begin, &line, &col);
    apx_buf_printf(b, "%s%s:%u:%u:%s %s%s:%s ", bold, s->name, line, col, reset, lc, names[dg->level], reset);
    apx_diag_put_text(b, dg->message);
    apx_buf_putc(b, '\n');
    const char *text = apx_diag_text(d, s);
    if (!text) goto hint;
    size_t li = line - 1;
    uint32_t start = s->lines[li];
    uint32_t stop = li + 1 < s->nlines ? s->lines[li + 1] : (uint32_t)s->len;
    while (stop > start && (text[stop - 1] == '\n' || text[stop - 1] == '\r')) stop--;
    uint32_t cb = dg->loc.begin < start ? start : dg->loc.begin;
    if (cb > stop) cb = stop;
    /* A long line is shown as a window around the caret, so that many
     * errors on one huge line print in linear time. */
    enum { APX_BEFORE = 60, APX_WIDTH = 160 };
    uint32_t ws = start, we = stop;
    bool cut_left = false, cut_right = false;
    if (stop - start > APX_WIDTH) {
      if (cb - start > APX_BEFORE) {
        ws = cb - APX_BEFORE;
        cut_left = true;
      }
      if (stop - ws > APX_WIDTH) {
        we = ws + APX_WIDTH;
        cut_right = true;
      }
    }
    apx_buf_printf(b, "%5u | %s", line, cut_left ? "..." : "");
    /* Tabs become one space so the caret lines up; any other control byte
     * becomes '?', one column too, so that it cannot act on the terminal. */
    for (uint32_t i = ws; i < we; i++) {
      unsigned char c = (unsigned char)text[i];
      apx_buf_putc(b, c == '\t' ? ' ' : apx_diag_is_control(c) ? '?' : (char)c);
    }
    apx_buf_printf(b, "%s\n      | %s", cut_right ? "..." : "", cut_left ? "   " : "");
    for (uint32_t i = ws; i < cb && i < we; i++) apx_buf_putc(b, ' ');
    uint32_t ce = dg->loc.end > we ? we : dg->loc.end;
    apx_buf_puts(b, lc);
    apx_buf_putc(b, '^');
    for (uint32_t i = cb + 1; i < ce; i++) apx_buf_putc(b, '~');
    apx_buf_puts(b, reset);
    apx_buf_putc(b, '\n');
  }
hint:
  if (dg->hint) {
    apx_buf_printf(b, "      = %shint:%s ", bold, reset);
    apx_diag_put_text(b, dg->hint);
    apx_buf_putc(b, '\n');
  }
}

static void apx_diag_render_dropped(const apx_diag *d, apx_buf *b) {
  size_t de = d->limit && d->errors > d->limit ? d->errors - d->limit : 0;
  size_t dw = d->limit && d->warnings > d->limit ? d->warnings - d->limit : 0;
  if (!de && !dw) return;
  const char *bold = d->color ? "\033[1m" : "", *reset = d->color ? "\033[0m" : "";
  apx_buf_printf(b, "%saspirec:%s ", bold, reset);
  if (de) apx_buf_printf(b, "%zu more error%s", de, de == 1 ? "" : "s");
  if (de && dw) apx_buf_puts(b, " and ");
  if (dw) apx_buf_printf(b, "%zu more warning%s", dw, dw == 1 ? "" : "s");
  apx_buf_printf(b, " not shown (limit %zu); %s\n", d->limit,
                 d->limit_hint ? d->limit_hint : "a limit of 0 shows them all");
}

void apx_diag_print(apx_diag *d, FILE *out) {
  apx_diag_sorted *v = d->n ? calloc(d->n, sizeof *v) : NULL;
  if (d->n && !v) return;
  size_t group = 0;
  for (size_t i = 0; i < d->n; i++) {
    if (d->items[i].level != APX_DIAG_NOTE) group = i;
    v[i].dg = &d->items[i];
    v[i].group = group;
  }
  if (d->n) {
    apx_diag_sorting = d;
    qsort(v, d->n, sizeof *v, apx_diag_cmp);
    apx_diag_sorting = NULL;
  }
  /* Rendered into one buffer per diagnostic and written at once: stderr is
   * unbuffered, and a write per byte made printing cost a system call a byte. */
  apx_buf b = {0};
  for (size_t i = 0; i < d->n; i++) {
    apx_diag_render(d, &b, v[i].dg);
    fwrite(b.data, 1, b.len, out);
    apx_buf_clear(&b);
  }
  apx_diag_render_dropped(d, &b);
  if (b.len) fwrite(b.data, 1, b.len, out);
  apx_buf_free(&b);
  free(v);
}

/* Optimal string alignment distance, bounded: names are short. */
static size_t apx_edit_distance(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  if (la > 64 || lb > 64) return (size_t)-1;
  size_t m[65][65];
  for (size_t i = 0; i <= la; i++) m[i][0] = i;
  for (size_t j = 0; j <= lb; j++) m[0][j] = j;
  for (size_t i = 1; i <= la; i++)
    for (size_t j = 1; j <= lb; j++) {
      size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      size_t best = m[i - 1][j] + 1;
      if (m[i][j - 1] + 1 < best) best = m[i][j - 1] + 1;
      if (m[i - 1][j - 1] + cost < best) best = m[i - 1][j - 1] + cost;
      if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && m[i - 2][j - 2] + 1 < best)
        best = m[i - 2][j - 2] + 1;
      m[i][j] = best;
    }
  return m[la][lb];
}

bool apx_diag_may_suggest(const apx_diag *d) {
  return apx_diag_shows(d, APX_DIAG_ERROR) && d->errors <= 100;
}

const char *apx_suggest(const char *name, const char *const *candidates, size_t n) {
  size_t len = strlen(name);
  size_t limit = len < 4 ? 1 : len < 9 ? 2 : 3;
  const char *best = NULL;
  size_t best_d = limit + 1;
  for (size_t i = 0; i < n; i++) {
    if (!candidates[i] || strcmp(candidates[i], name) == 0) continue;
    size_t dist = apx_edit_distance(name, candidates[i]);
    if (dist < best_d) {
      best_d = dist;
      best = candidates[i];
    }
  }
  return best;
}
