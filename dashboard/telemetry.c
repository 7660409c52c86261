/* The bounded telemetry store (telemetry.h). Each log and span is one heap
 * block (the struct, its attributes and their strings), so adding is one
 * malloc and pushing out one free. Rings per resource hold logs and traces;
 * a trace is shared by the resources that sent its spans and freed when the
 * last one lets it go. */
#include "dashboard/telemetry.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TEL_MAX_STR 32768 /* longest string kept; longer ones are cut (UTF-8 safe) */

typedef struct tel_scope {
  char *name, *version;
  struct tel_scope *next;
} tel_scope;

typedef struct tel_event {
  uint64_t time;
  const char *name;
  apx_tel_kv *attrs;
  uint32_t nattrs;
} tel_event;

typedef struct tel_span {
  apx_tel_resource *res;
  tel_scope *scope;
  uint64_t seq; /* order of arrival over the store */
  size_t bytes; /* accounted (its block) */
  uint8_t span_id[8], parent_id[8];
  bool has_parent;
  int kind, status_code;
  uint32_t flags, nattrs, nevents, nlinks, dropped_attrs, dropped_events, dropped_links;
  uint64_t start, end;
  const char *name, *trace_state, *status_message;
  apx_tel_kv *attrs;
  tel_event *events;
} tel_span;

typedef struct tel_trace_res {
  apx_tel_resource *r;
  uint32_t n;
} tel_trace_res;

typedef struct tel_trace {
  uint8_t id[16];
  tel_span **spans;
  uint32_t nspans, cap, nres, rescap;
  tel_trace_res *res;
  uint64_t start, end, seq, updated; /* updated: seq of its last span */
  bool has_error;
  struct tel_trace *prev, *next; /* all traces, the least recently updated first */
} tel_trace;

typedef struct tel_log {
  apx_tel_resource *res;
  tel_scope *scope;
  uint64_t seq, time, observed;
  size_t bytes; /* accounted (its block) */
  int severity;
  uint32_t flags, nattrs, dropped_attrs;
  const char *severity_text, *event_name;
  apx_tel_kv body;
  apx_tel_kv *attrs;
  uint8_t trace_id[16], span_id[8];
  bool has_trace, has_span;
} tel_log;

typedef struct tel_point {
  uint64_t time, count;
  double value, sum, p50, p90, p99;
  double lo, hi;  /* histograms: where the first bucket starts, the last ends */
  bool has_d;     /* histograms: its slot of the series' deltas holds this export's counts */
} tel_point;

typedef struct tel_series {
  char *key; /* canonical attribute text: the identity of the series */
  apx_tel_kv *attrs;
  uint32_t nattrs;
  tel_point *points;
  size_t head, n; /* ring of s->lim.points */
  /* Histograms: the bucket layout of the last export, and per point (same
   * ring slots) the counts recorded in its own interval, so that
   * percentiles can cover a recent window rather than all time. */
  size_t nb;
  double *bounds;      /* nb - 1 */
  uint64_t *d;         /* lim.points * nb */
  uint64_t *raw, *raw_before; /* nb: the last export's counts as sent, and the one's before */
  bool has_raw, has_raw_before;
  uint64_t start; /* of the last cumulative export (a new start: the counts began again) */
} tel_series;

typedef struct tel_instrument {
  tel_scope *scope;
  char *name, *description, *unit;
  apx_tel_mkind kind;
  bool monotonic;
  int temporality;
  tel_series **series;
  size_t nseries;
} tel_instrument;

/* A ring of pointers: grows up to its limit, then the oldest gives way. */
typedef struct tel_ring {
  void **items;
  size_t cap, head, n, limit;
} tel_ring;

struct apx_tel_resource {
  char *name, *instance, *display; /* display: "name-instance" */
  const char *label; /* what is shown: name, or display when replicas share the name (as Aspire) */
  apx_tel_kv *attrs;
  size_t nattrs;
  tel_ring logs, traces;
  size_t nspans, npoints;
  tel_instrument **instruments;
  size_t ninstruments;
  uint64_t dropped_logs, dropped_traces, dropped_spans, dropped_instruments, dropped_series,
      dropped_points, dropped_for_bytes;
  size_t bytes; /* accounted: its logs, its spans, its instruments and series */
};

struct apx_tel_store {
  apx_tel_limits lim;
  apx_tel_resource **res;
  size_t nres, rescap;
  tel_scope *scopes;
  tel_trace **map; /* open addressing by trace id; TOMB marks a removed slot */
  size_t mapcap, mapused, ntraces;
  tel_trace *oldest, *newest;
  uint64_t seq, version, dropped_resources;
  size_t bytes; /* the sum of the resources' */
};

static tel_trace tomb_;
#define TOMB (&tomb_)

static void *xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) abort();
  return p;
}
static void *xcalloc(size_t n, size_t sz) {
  void *p = calloc(n ? n : 1, sz ? sz : 1);
  if (!p) abort();
  return p;
}
static void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) abort();
  return p;
}
static char *xstrdup(const char *s) {
  size_t n = strlen(s ? s : "");
  char *d = xmalloc(n + 1);
  memcpy(d, s ? s : "", n + 1);
  return d;
}

/* ---- rings */

static void ring_init(tel_ring *r, size_t limit) {
  memset(r, 0, sizeof *r);
  r->limit = limit ? limit : 1;
}
static void *ring_at(const tel_ring *r, size_t i) { /* 0: oldest */
  return r->items[(r->head + i) % r->cap];
}
/* Appends p; returns the item pushed out when full, else NULL. */
static void *ring_push(tel_ring *r, void *p) {
  if (r->n == r->limit) {
    void *old = r->items[r->head];
    r->items[r->head] = p;
    r->head = (r->head + 1) % r->cap;
    return old;
  }
  if (r->n == r->cap) {
    size_t nc = r->cap ? r->cap * 2 : 16;
    if (nc > r->limit) nc = r->limit;
    void **items = xmalloc(nc * sizeof *items);
    for (size_t i = 0; i < r->n; i++) items[i] = ring_at(r, i);
    free(r->items);
    r->items = items;
    r->cap = nc;
    r->head = 0;
  }
  r->items[(r->head + r->n) % r->cap] = p;
  r->n++;
  return NULL;
}
/* Removes the item at position i (0: oldest), keeping the order. */
static void ring_remove(tel_ring *r, size_t i) {
  for (size_t j = i; j + 1 < r->n; j++) r->items[(r->head + j) % r->cap] = ring_at(r, j + 1);
  r->n--;
}

/* ---- strings and attribute packing */

static size_t capped_len(const char *s) {
  if (!s) return 0;
  size_t n = strnlen(s, TEL_MAX_STR + 1);
  if (n <= TEL_MAX_STR) return n;
  n = TEL_MAX_STR;
  while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--; /* not inside a UTF-8 sequence */
  return n;
}

typedef struct packer {
  char *p; /* next free byte */
} packer;

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

static size_t kv_size(const apx_tel_kv *kv, size_t n) {
  size_t z = 0;
  for (size_t i = 0; i < n; i++) z += capped_len(kv[i].key) + 1 + capped_len(kv[i].value) + 1;
  return z;
}
static const char *pack_str(packer *pk, const char *s) {
  size_t n = capped_len(s);
  char *d = pk->p;
  if (n) memcpy(d, s, n);
  d[n] = 0;
  pk->p += n + 1;
  return d;
}
static void pack_kvs(packer *pk, apx_tel_kv *dst, const apx_tel_kv *src, size_t n) {
  for (size_t i = 0; i < n; i++) {
    dst[i].key = pack_str(pk, src[i].key);
    dst[i].value = pack_str(pk, src[i].value);
    dst[i].type = src[i].type;
  }
}
static size_t clamp_attrs(size_t n, uint32_t *dropped) {
  if (n <= APX_TEL_MAX_ATTRS) return n;
  *dropped += (uint32_t)(n - APX_TEL_MAX_ATTRS);
  return APX_TEL_MAX_ATTRS;
}

static const char *kv_find(const apx_tel_kv *kv, size_t n, const char *key) {
  for (size_t i = 0; i < n; i++)
    if (kv[i].key && strcmp(kv[i].key, key) == 0) return kv[i].value;
  return NULL;
}

/* ---- store */

apx_tel_store *apx_tel_new(const apx_tel_limits *limits) {
  apx_tel_store *s = xcalloc(1, sizeof *s);
  apx_tel_limits d = {APX_TEL_MAX_LOGS, APX_TEL_MAX_TRACES, APX_TEL_MAX_SPANS_PER_TRACE,
                      APX_TEL_MAX_INSTRUMENTS, APX_TEL_MAX_SERIES, APX_TEL_MAX_POINTS,
                      APX_TEL_MAX_RESOURCES, APX_TEL_MAX_BYTES_PER_RESOURCE, APX_TEL_MAX_BYTES};
  if (limits) {
    if (limits->logs) d.logs = limits->logs;
    if (limits->traces) d.traces = limits->traces;
    if (limits->spans_per_trace) d.spans_per_trace = limits->spans_per_trace;
    if (limits->instruments) d.instruments = limits->instruments;
    if (limits->series) d.series = limits->series;
    if (limits->points) d.points = limits->points;
    if (limits->resources) d.resources = limits->resources;
    if (limits->bytes_per_resource) d.bytes_per_resource = limits->bytes_per_resource;
    if (limits->bytes) d.bytes = limits->bytes;
  }
  s->lim = d;
  return s;
}

static void trace_free(tel_trace *t) {
  for (uint32_t i = 0; i < t->nspans; i++) free(t->spans[i]);
  free(t->spans);
  free(t->res);
  free(t);
}

static void instrument_free(tel_instrument *in) {
  for (size_t i = 0; i < in->nseries; i++) {
    free(in->series[i]->points);
    free(in->series[i]->bounds); /* d, raw and raw_before live in the bounds' block */
    free(in->series[i]->key); /* attrs live in the key's block */
    free(in->series[i]);
  }
  free(in->series);
  free(in->name);
  free(in->description);
  free(in->unit);
  free(in);
}

void apx_tel_free(apx_tel_store *s) {
  if (!s) return;
  for (tel_trace *t = s->oldest, *n; t; t = n) {
    n = t->next;
    trace_free(t);
  }
  for (size_t i = 0; i < s->nres; i++) {
    apx_tel_resource *r = s->res[i];
    for (size_t j = 0; j < r->logs.n; j++) free(ring_at(&r->logs, j));
    free(r->logs.items);
    free(r->traces.items);
    for (size_t j = 0; j < r->ninstruments; j++) instrument_free(r->instruments[j]);
    free(r->instruments);
    free(r->attrs); /* attrs, name, instance and display are one block, attrs first */
    free(r);
  }
  free(s->res);
  for (tel_scope *c = s->scopes, *n; c; c = n) {
    n = c->next;
    free(c->name);
    free(c->version);
    free(c);
  }
  free(s->map);
  free(s);
}

uint64_t apx_tel_version(const apx_tel_store *s) { return s->version; }

apx_tel_resource *apx_tel_resource_get(apx_tel_store *s, const apx_tel_kv *attrs, size_t n) {
  const char *name = kv_find(attrs, n, "service.name");
  const char *inst = kv_find(attrs, n, "service.instance.id");
  if (!name || !*name) name = "unknown_service";
  if (!inst) inst = "";
  for (size_t i = 0; i < s->nres; i++)
    if (strcmp(s->res[i]->name, name) == 0 && strcmp(s->res[i]->instance, inst) == 0) return s->res[i];
  if (s->nres >= s->lim.resources) {
    s->dropped_resources++;
    return NULL;
  }
  uint32_t dropped = 0;
  n = clamp_attrs(n, &dropped);
  size_t nl = capped_len(name), il = capped_len(inst);
  size_t z = nl + 1 + il + 1 + nl + 1 + il + 1 + align8(1) + n * sizeof(apx_tel_kv) + kv_size(attrs, n) + 8;
  char *block = xmalloc(z);
  apx_tel_resource *r = xcalloc(1, sizeof *r);
  apx_tel_kv *kvs = (apx_tel_kv *)(void *)block;
  packer pk = {block + n * sizeof(apx_tel_kv)};
  r->attrs = kvs;
  r->nattrs = n;
  pack_kvs(&pk, kvs, attrs, n);
  r->name = (char *)pack_str(&pk, name);
  r->instance = (char *)pack_str(&pk, inst);
  /* The display name: "name", or "name-instance" when it has one (Aspire
   * shows replicas so); both select it in queries. */
  r->display = pk.p;
  memcpy(r->display, name, nl);
  if (il) {
    r->display[nl] = '-';
    memcpy(r->display + nl + 1, inst, il);
    r->display[nl + 1 + il] = 0;
  } else {
    r->display[nl] = 0;
  }
  r->label = r->name;
  for (size_t i = 0; i < s->nres; i++)
    if (strcmp(s->res[i]->name, r->name) == 0) r->label = s->res[i]->label = s->res[i]->display;
  if (r->label != r->name) r->label = r->display;
  ring_init(&r->logs, s->lim.logs);
  ring_init(&r->traces, s->lim.traces);
  if (s->nres == s->rescap) {
    s->rescap = s->rescap ? s->rescap * 2 : 8;
    s->res = xrealloc(s->res, s->rescap * sizeof *s->res);
  }
  s->res[s->nres++] = r;
  s->version++;
  return r;
}

static tel_scope *scope_intern(apx_tel_store *s, const apx_tel_scope_in *in) {
  const char *name = in && in->name ? in->name : "";
  const char *ver = in && in->version ? in->version : "";
  for (tel_scope *c = s->scopes; c; c = c->next)
    if (strcmp(c->name, name) == 0 && strcmp(c->version, ver) == 0) return c;
  tel_scope *c = xcalloc(1, sizeof *c);
  c->name = xstrdup(name);
  c->version = xstrdup(ver);
  c->next = s->scopes;
  s->scopes = c;
  return c;
}

/* ---- the trace map */

static size_t id_hash(const uint8_t id[16]) {
  uint64_t a, b;
  memcpy(&a, id, 8);
  memcpy(&b, id + 8, 8);
  uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ull));
  h ^= h >> 31;
  h *= 0xBF58476D1CE4E5B9ull;
  h ^= h >> 29;
  return (size_t)h;
}

static tel_trace **map_slot(apx_tel_store *s, const uint8_t id[16], bool for_insert) {
  if (!s->mapcap) return NULL;
  size_t mask = s->mapcap - 1, i = id_hash(id) & mask;
  tel_trace **first_tomb = NULL;
  for (;;) {
    tel_trace *t = s->map[i];
    if (!t) return for_insert && first_tomb ? first_tomb : &s->map[i];
    if (t == TOMB) {
      if (!first_tomb) first_tomb = &s->map[i];
    } else if (memcmp(t->id, id, 16) == 0) {
      return &s->map[i];
    }
    i = (i + 1) & mask;
  }
}

static void map_grow(apx_tel_store *s) {
  size_t nc = s->mapcap ? s->mapcap : 64;
  while (s->ntraces * 2 + 2 > nc) nc *= 2;
  tel_trace **old = s->map;
  size_t oc = s->mapcap;
  s->map = xcalloc(nc, sizeof *s->map);
  s->mapcap = nc;
  s->mapused = 0;
  for (size_t i = 0; i < oc; i++)
    if (old[i] && old[i] != TOMB) {
      *map_slot(s, old[i]->id, true) = old[i];
      s->mapused++;
    }
  free(old);
}

static tel_trace *trace_find(const apx_tel_store *s, const uint8_t id[16]) {
  tel_trace **slot = map_slot((apx_tel_store *)s, id, false);
  return slot && *slot ? *slot : NULL;
}

static tel_trace *trace_get(apx_tel_store *s, const uint8_t id[16]) {
  tel_trace *t = trace_find(s, id);
  if (t) return t;
  if ((s->mapused + 1) * 4 > s->mapcap * 3) map_grow(s); /* tombstones count: ≤ 3/4 full */
  t = xcalloc(1, sizeof *t);
  memcpy(t->id, id, 16);
  t->start = UINT64_MAX;
  t->seq = ++s->seq;
  tel_trace **slot = map_slot(s, id, true);
  if (!*slot) s->mapused++;
  *slot = t;
  s->ntraces++;
  t->prev = s->newest;
  if (s->newest) s->newest->next = t; else s->oldest = t;
  s->newest = t;
  return t;
}

static void trace_unlink(apx_tel_store *s, tel_trace *t) {
  tel_trace **slot = map_slot(s, t->id, false);
  if (slot && *slot == t) *slot = TOMB;
  s->ntraces--;
  if (t->prev) t->prev->next = t->next; else s->oldest = t->next;
  if (t->next) t->next->prev = t->prev; else s->newest = t->prev;
}

static void trace_bounds(tel_trace *t) {
  t->start = UINT64_MAX;
  t->end = 0;
  t->has_error = false;
  for (uint32_t i = 0; i < t->nspans; i++) {
    tel_span *sp = t->spans[i];
    if (sp->start < t->start) t->start = sp->start;
    if (sp->end > t->end) t->end = sp->end;
    if (sp->status_code == 2) t->has_error = true;
  }
}

/* What r and the store hold in bytes (the budgets below). */
static void account(apx_tel_store *s, apx_tel_resource *r, size_t n) {
  r->bytes += n;
  s->bytes += n;
}

static void unaccount(apx_tel_store *s, apx_tel_resource *r, size_t n) {
  r->bytes -= n;
  s->bytes -= n;
}

/* r lets its log lg go, counted as dropped. */
static void log_drop(apx_tel_store *s, apx_tel_resource *r, tel_log *lg) {
  unaccount(s, r, lg->bytes);
  free(lg);
  r->dropped_logs++;
}

/* Resource r lets trace t go: its spans leave, and t is freed when no
 * resource holds it any more. */
static void trace_release(apx_tel_store *s, tel_trace *t, apx_tel_resource *r) {
  uint32_t k = 0, gone = 0;
  for (uint32_t i = 0; i < t->nspans; i++) {
    if (t->spans[i]->res == r) {
      unaccount(s, r, t->spans[i]->bytes);
      free(t->spans[i]);
      gone++;
    } else {
      t->spans[k++] = t->spans[i];
    }
  }
  t->nspans = k;
  r->nspans -= gone;
  r->dropped_spans += gone;
  for (uint32_t i = 0; i < t->nres; i++)
    if (t->res[i].r == r) {
      t->res[i] = t->res[--t->nres];
      break;
    }
  if (t->nspans == 0) {
    trace_unlink(s, t);
    trace_free(t);
  } else {
    trace_bounds(t);
  }
}

/* ---- the byte budgets */

/* r's oldest log or trace (by arrival), other than `keep` (the trace a
 * span is being added to): its sequence number, or UINT64_MAX. */
static uint64_t oldest_of(const apx_tel_resource *r, const tel_trace *keep, size_t *trace_at) {
  uint64_t best = UINT64_MAX;
  if (r->logs.n) best = ((const tel_log *)ring_at(&r->logs, 0))->seq;
  *trace_at = SIZE_MAX;
  for (size_t i = 0; i < r->traces.n && i < 2; i++) {
    const tel_trace *t = ring_at(&r->traces, i);
    if (t == keep) continue;
    if (t->seq < best) {
      best = t->seq;
      *trace_at = i;
    }
    break;
  }
  return best;
}

/* Pushes out r's oldest log or trace; false when it has none to give. */
static bool drop_oldest(apx_tel_store *s, apx_tel_resource *r, const tel_trace *keep) {
  size_t ti;
  if (oldest_of(r, keep, &ti) == UINT64_MAX) return false;
  if (ti != SIZE_MAX) {
    tel_trace *t = ring_at(&r->traces, ti);
    ring_remove(&r->traces, ti);
    r->dropped_traces++;
    trace_release(s, t, r);
  } else {
    tel_log *lg = ring_at(&r->logs, 0);
    ring_remove(&r->logs, 0);
    log_drop(s, r, lg);
  }
  r->dropped_for_bytes++;
  return true;
}

/* Room for n more bytes in r: the oldest logs and traces go, r's first,
 * then the store's oldest. False when n does not fit even so. */
static bool make_room(apx_tel_store *s, apx_tel_resource *r, size_t n, const tel_trace *keep) {
  if (n > s->lim.bytes_per_resource || n > s->lim.bytes) return false;
  while (r->bytes + n > s->lim.bytes_per_resource)
    if (!drop_oldest(s, r, keep)) return false;
  while (s->bytes + n > s->lim.bytes) {
    apx_tel_resource *victim = NULL;
    uint64_t best = UINT64_MAX;
    for (size_t i = 0; i < s->nres; i++) {
      size_t ti;
      uint64_t q = oldest_of(s->res[i], keep, &ti);
      if (q < best) {
        best = q;
        victim = s->res[i];
      }
    }
    if (!victim || !drop_oldest(s, victim, keep)) return false;
  }
  return true;
}

bool apx_tel_add_span(apx_tel_store *s, apx_tel_resource *r, const apx_tel_scope_in *scope,
                      const apx_tel_span_in *in, const char **why) {
  static const uint8_t zero[16];
  if (memcmp(in->trace_id, zero, 16) == 0) {
    *why = "a span's traceId must be 16 bytes, not all zero";
    return false;
  }
  if (memcmp(in->span_id, zero, 8) == 0) {
    *why = "a span's spanId must be 8 bytes, not all zero";
    return false;
  }
  tel_trace *t = trace_get(s, in->trace_id);
  if (t->nspans >= s->lim.spans_per_trace) {
    r->dropped_spans++;
    s->version++;
    return true; /* accepted, and counted as dropped */
  }
  uint32_t dropped_attrs = in->dropped_attrs;
  size_t na = clamp_attrs(in->nattrs, &dropped_attrs);
  size_t ne = in->nevents > 64 ? 64 : in->nevents;
  size_t z = align8(sizeof(tel_span)) + na * sizeof(apx_tel_kv) + ne * sizeof(tel_event);
  size_t strz = kv_size(in->attrs, na) + capped_len(in->name) + capped_len(in->trace_state) +
                capped_len(in->status_message) + 3;
  size_t *evna = ne ? xmalloc(ne * sizeof *evna) : NULL;
  for (size_t i = 0; i < ne; i++) {
    uint32_t d = 0;
    evna[i] = clamp_attrs(in->events[i].nattrs, &d);
    z += evna[i] * sizeof(apx_tel_kv);
    strz += capped_len(in->events[i].name) + 1 + kv_size(in->events[i].attrs, evna[i]);
  }
  size_t bytes = z + strz + sizeof(tel_span *);
  if (!make_room(s, r, bytes, t)) {
    /* Larger than a budget alone: counted as dropped. */
    free(evna);
    r->dropped_spans++;
    if (!t->nspans) { /* a trace made for it alone */
      trace_unlink(s, t);
      trace_free(t);
    }
    s->version++;
    return true;
  }
  tel_trace_res *tr = NULL;
  for (uint32_t i = 0; i < t->nres; i++)
    if (t->res[i].r == r) tr = &t->res[i];
  if (!tr) {
    /* r's first span in t: t enters r's ring, which may push out r's oldest trace. */
    if (r->traces.n == r->traces.limit) {
      tel_trace *old = ring_at(&r->traces, 0);
      ring_remove(&r->traces, 0);
      r->dropped_traces++;
      if (old != t) trace_release(s, old, r);
    }
    ring_push(&r->traces, t);
    if (t->nres == t->rescap) {
      t->rescap = t->rescap ? t->rescap * 2 : 2;
      t->res = xrealloc(t->res, t->rescap * sizeof *t->res);
    }
    t->res[t->nres] = (tel_trace_res){r, 0};
    tr = &t->res[t->nres++];
  }

  char *block = xmalloc(z + strz);
  tel_span *sp = (tel_span *)(void *)block;
  memset(sp, 0, sizeof *sp);
  sp->bytes = bytes;
  sp->attrs = (apx_tel_kv *)(void *)(block + align8(sizeof(tel_span)));
  sp->events = (tel_event *)(void *)(sp->attrs + na);
  apx_tel_kv *evkv = (apx_tel_kv *)(void *)(sp->events + ne);
  packer pk = {block + z};
  sp->res = r;
  sp->scope = scope_intern(s, scope);
  memcpy(sp->span_id, in->span_id, 8);
  memcpy(sp->parent_id, in->parent_id, 8);
  sp->has_parent = in->has_parent && memcmp(in->parent_id, zero, 8) != 0;
  sp->kind = in->kind;
  sp->status_code = in->status_code;
  sp->flags = in->flags;
  sp->start = in->start;
  sp->end = in->end < in->start ? in->start : in->end;
  sp->name = pack_str(&pk, in->name);
  sp->trace_state = pack_str(&pk, in->trace_state);
  sp->status_message = pack_str(&pk, in->status_message);
  sp->nattrs = (uint32_t)na;
  pack_kvs(&pk, sp->attrs, in->attrs, na);
  sp->nevents = (uint32_t)ne;
  for (size_t i = 0; i < ne; i++) {
    sp->events[i].time = in->events[i].time;
    sp->events[i].name = pack_str(&pk, in->events[i].name);
    sp->events[i].attrs = evkv;
    sp->events[i].nattrs = (uint32_t)evna[i];
    pack_kvs(&pk, evkv, in->events[i].attrs, evna[i]);
    evkv += evna[i];
  }
  free(evna);
  sp->nlinks = in->nlinks;
  sp->dropped_attrs = dropped_attrs;
  sp->dropped_events = in->dropped_events + (uint32_t)(in->nevents - ne);
  sp->dropped_links = in->dropped_links;

  if (t->nspans == t->cap) {
    t->cap = t->cap ? t->cap * 2 : 4;
    t->spans = xrealloc(t->spans, t->cap * sizeof *t->spans);
  }
  t->spans[t->nspans++] = sp;
  sp->seq = t->updated = ++s->seq;
  if (t != s->newest) { /* to the end of the list: the most recently updated */
    if (t->prev) t->prev->next = t->next; else s->oldest = t->next;
    t->next->prev = t->prev;
    t->prev = s->newest;
    t->next = NULL;
    s->newest->next = t;
    s->newest = t;
  }
  tr->n++;
  r->nspans++;
  account(s, r, bytes);
  if (sp->start < t->start) t->start = sp->start;
  if (sp->end > t->end) t->end = sp->end;
  if (sp->status_code == 2) t->has_error = true;
  s->version++;
  return true;
}

bool apx_tel_add_log(apx_tel_store *s, apx_tel_resource *r, const apx_tel_scope_in *scope,
                     const apx_tel_log_in *in, const char **why) {
  if (in->severity < 0 || in->severity > 24) {
    *why = "a log record's severityNumber must be 0..24";
    return false;
  }
  uint32_t dropped_attrs = in->dropped_attrs;
  size_t na = clamp_attrs(in->nattrs, &dropped_attrs);
  size_t z = align8(sizeof(tel_log)) + na * sizeof(apx_tel_kv);
  size_t strz = kv_size(in->attrs, na) + capped_len(in->severity_text) + capped_len(in->event_name) +
                capped_len(in->body.value) + 3;
  size_t bytes = z + strz;
  if (!make_room(s, r, bytes, NULL)) {
    r->dropped_logs++; /* larger than a budget alone */
    s->version++;
    return true;
  }
  char *block = xmalloc(z + strz);
  tel_log *lg = (tel_log *)(void *)block;
  memset(lg, 0, sizeof *lg);
  lg->bytes = bytes;
  lg->attrs = (apx_tel_kv *)(void *)(block + align8(sizeof(tel_log)));
  packer pk = {block + z};
  lg->res = r;
  lg->scope = scope_intern(s, scope);
  lg->seq = ++s->seq;
  lg->time = in->time ? in->time : in->observed;
  lg->observed = in->observed;
  lg->severity = in->severity;
  lg->flags = in->flags;
  lg->severity_text = pack_str(&pk, in->severity_text);
  lg->event_name = pack_str(&pk, in->event_name);
  lg->body.key = "";
  lg->body.value = pack_str(&pk, in->body.value);
  lg->body.type = in->body.value ? in->body.type : APX_TEL_EMPTY;
  lg->nattrs = (uint32_t)na;
  pack_kvs(&pk, lg->attrs, in->attrs, na);
  lg->dropped_attrs = dropped_attrs;
  lg->has_trace = in->has_trace;
  lg->has_span = in->has_span;
  memcpy(lg->trace_id, in->trace_id, 16);
  memcpy(lg->span_id, in->span_id, 8);
  tel_log *old = ring_push(&r->logs, lg);
  account(s, r, bytes);
  if (old) log_drop(s, r, old);
  s->version++;
  return true;
}

/* ---- metrics */

static int kv_cmp(const void *a, const void *b) {
  const apx_tel_kv *x = *(const apx_tel_kv *const *)a, *y = *(const apx_tel_kv *const *)b;
  return strcmp(x->key ? x->key : "", y->key ? y->key : "");
}

/* The series' key: its attributes sorted by key, as "k\x1fv\x1e…", followed
 * in the same block by the kv array (for the JSON). */
static char *series_key(const apx_tel_kv *attrs, size_t n, size_t *keylen) {
  const apx_tel_kv **sorted = xmalloc((n ? n : 1) * sizeof *sorted);
  for (size_t i = 0; i < n; i++) sorted[i] = &attrs[i];
  qsort(sorted, n, sizeof *sorted, kv_cmp);
  size_t z = 1;
  for (size_t i = 0; i < n; i++) z += capped_len(sorted[i]->key) + capped_len(sorted[i]->value) + 2;
  char *k = xmalloc(z);
  char *p = k;
  for (size_t i = 0; i < n; i++) {
    size_t a = capped_len(sorted[i]->key), b = capped_len(sorted[i]->value);
    memcpy(p, sorted[i]->key ? sorted[i]->key : "", a);
    p += a;
    *p++ = 0x1f;
    memcpy(p, sorted[i]->value ? sorted[i]->value : "", b);
    p += b;
    *p++ = 0x1e;
  }
  *p = 0;
  *keylen = (size_t)(p - k);
  free(sorted);
  return k;
}

/* ---- histograms: each export's own counts */

/* A new bucket layout (or the first): the series' deltas begin again (what
 * came before cannot be added to what comes now). false when it has more
 * buckets than kept or no room in the budgets. */
static bool series_layout(apx_tel_store *s, apx_tel_resource *r, tel_series *se, const apx_tel_point_in *in) {
  size_t nb = in->nbuckets;
  if (se->nb == nb && (nb < 2 || memcmp(se->bounds, in->bounds, (nb - 1) * sizeof *se->bounds) == 0)) return true;
  for (size_t i = 0; i < se->n; i++) se->points[(se->head + i) % s->lim.points].has_d = false;
  size_t old = se->nb ? (se->nb - 1) * sizeof(double) + (s->lim.points + 2) * se->nb * sizeof(uint64_t) : 0;
  unaccount(s, r, old);
  free(se->bounds);
  se->bounds = NULL;
  se->d = se->raw = se->raw_before = NULL;
  se->nb = 0;
  se->has_raw = se->has_raw_before = false;
  if (nb > APX_TEL_MAX_BUCKETS) return false;
  size_t bz = align8((nb - 1) * sizeof(double)), z = bz + (s->lim.points + 2) * nb * sizeof(uint64_t);
  if (!make_room(s, r, z, NULL)) return false;
  account(s, r, (nb - 1) * sizeof(double) + (s->lim.points + 2) * nb * sizeof(uint64_t));
  char *block = xcalloc(1, z);
  se->bounds = (double *)(void *)block;
  if (nb > 1) memcpy(se->bounds, in->bounds, (nb - 1) * sizeof *se->bounds);
  se->d = (uint64_t *)(void *)(block + bz);
  se->raw = se->d + s->lim.points * nb;
  se->raw_before = se->raw + nb;
  se->nb = nb;
  return true;
}

/* The counts of this export's own interval into slot: a delta export's as
 * they are; a cumulative one's less the export before (a resend of the
 * same time: less the one before that), unless the counts began again. */
static bool series_deltas(apx_tel_store *s, apx_tel_resource *r, tel_series *se, const apx_tel_point_in *in,
                          size_t slot, bool same) {
  if (!series_layout(s, r, se, in)) return false;
  size_t nb = se->nb;
  uint64_t *d = se->d + slot * nb;
  bool cumulative = in->temporality == 2;
  if (same) { /* the last export again: what it replaces was raw, measured from raw_before */
    memcpy(se->raw, se->raw_before, nb * sizeof *se->raw);
    se->has_raw = se->has_raw_before;
  } else {
    memcpy(se->raw_before, se->raw, nb * sizeof *se->raw);
    se->has_raw_before = se->has_raw;
  }
  bool from_last = cumulative && se->has_raw && in->start == se->start;
  for (size_t k = 0; from_last && k < nb; k++)
    if (in->buckets[k] < se->raw[k]) from_last = false; /* a restart that kept its start time */
  for (size_t k = 0; k < nb; k++) d[k] = in->buckets[k] - (from_last ? se->raw[k] : 0);
  memcpy(se->raw, in->buckets, nb * sizeof *se->raw);
  se->has_raw = cumulative;
  se->start = in->start;
  return true;
}

bool apx_tel_add_point(apx_tel_store *s, apx_tel_resource *r, const apx_tel_scope_in *scope,
                       const apx_tel_point_in *in, const char **why) {
  if (!in->name || !*in->name) {
    *why = "a metric must have a name";
    return false;
  }
  tel_scope *sc = scope_intern(s, scope);
  tel_instrument *ins = NULL;
  for (size_t i = 0; i < r->ninstruments; i++)
    if (r->instruments[i]->scope == sc && strcmp(r->instruments[i]->name, in->name) == 0) {
      ins = r->instruments[i];
      break;
    }
  if (!ins) {
    if (r->ninstruments >= s->lim.instruments) {
      r->dropped_instruments++;
      r->dropped_points++;
      s->version++;
      return true;
    }
    account(s, r, sizeof *ins + strlen(in->name) + 1);
    ins = xcalloc(1, sizeof *ins);
    ins->scope = sc;
    ins->name = xstrdup(in->name);
    ins->description = xstrdup(in->description);
    ins->unit = xstrdup(in->unit);
    ins->kind = in->kind;
    ins->monotonic = in->monotonic;
    ins->temporality = in->temporality;
    r->instruments = xrealloc(r->instruments, (r->ninstruments + 1) * sizeof *r->instruments);
    r->instruments[r->ninstruments++] = ins;
  }
  uint32_t dropped = 0;
  size_t na = clamp_attrs(in->nattrs, &dropped);
  size_t klen;
  char *key = series_key(in->attrs, na, &klen);
  tel_series *se = NULL;
  for (size_t i = 0; i < ins->nseries; i++)
    if (strcmp(ins->series[i]->key, key) == 0) {
      se = ins->series[i];
      break;
    }
  if (se) {
    free(key);
  } else {
    if (ins->nseries >= s->lim.series) {
      free(key);
      r->dropped_series++;
      r->dropped_points++;
      s->version++;
      return true;
    }
    /* One block: the key, then the attributes (kv array and strings). */
    size_t off = align8(klen + 1);
    size_t z = off + na * sizeof(apx_tel_kv) + kv_size(in->attrs, na);
    size_t bytes = z + sizeof *se + s->lim.points * sizeof(tel_point);
    if (!make_room(s, r, bytes, NULL)) {
      free(key);
      r->dropped_series++; /* metrics alone fill the budget */
      r->dropped_points++;
      s->version++;
      return true;
    }
    account(s, r, bytes);
    key = xrealloc(key, z);
    se = xcalloc(1, sizeof *se);
    se->key = key;
    se->attrs = (apx_tel_kv *)(void *)(key + off);
    se->nattrs = (uint32_t)na;
    packer pk = {key + off + na * sizeof(apx_tel_kv)};
    pack_kvs(&pk, se->attrs, in->attrs, na);
    se->points = xmalloc(s->lim.points * sizeof *se->points);
    ins->series = xrealloc(ins->series, (ins->nseries + 1) * sizeof *ins->series);
    ins->series[ins->nseries++] = se;
  }
  tel_point pt = {in->time, in->count, in->value, in->sum, in->p50, in->p90, in->p99, in->lo, in->hi, false};
  /* Exporters resend the same point (cumulative, same time): keep one. */
  size_t slot;
  bool same = se->n && se->points[(se->head + se->n - 1) % s->lim.points].time == in->time;
  if (same) {
    slot = (se->head + se->n - 1) % s->lim.points;
  } else if (se->n == s->lim.points) {
    slot = se->head;
    se->head = (se->head + 1) % s->lim.points;
    r->dropped_points++;
  } else {
    slot = (se->head + se->n) % s->lim.points;
    se->n++;
    r->npoints++;
  }
  if (in->nbuckets && (in->kind == APX_TEL_HISTOGRAM || in->kind == APX_TEL_EXP_HISTOGRAM))
    pt.has_d = series_deltas(s, r, se, in, slot, same);
  se->points[slot] = pt;
  s->version++;
  return true;
}

/* ---- stats */

static void stats_add(const apx_tel_resource *r, apx_tel_stats *o) {
  o->logs += r->logs.n;
  o->traces += r->traces.n;
  o->spans += r->nspans;
  o->instruments += r->ninstruments;
  o->points += r->npoints;
  o->dropped_logs += r->dropped_logs;
  o->dropped_traces += r->dropped_traces;
  o->dropped_spans += r->dropped_spans;
  o->dropped_instruments += r->dropped_instruments;
  o->dropped_series += r->dropped_series;
  o->dropped_points += r->dropped_points;
  o->dropped_for_bytes += r->dropped_for_bytes;
  o->bytes += r->bytes;
}

void apx_tel_stats_get(const apx_tel_store *s, const apx_tel_resource *r, apx_tel_stats *out) {
  memset(out, 0, sizeof *out);
  if (r) {
    out->resources = 1;
    stats_add(r, out);
    return;
  }
  out->resources = s->nres;
  for (size_t i = 0; i < s->nres; i++) stats_add(s->res[i], out);
  out->traces = s->ntraces; /* a trace shared by resources counts once */
  out->dropped_resources = s->dropped_resources;
}

/* ---- helpers */

bool apx_tel_hex_decode(const char *hex, uint8_t *out, size_t n) {
  if (!hex || strlen(hex) != 2 * n) return false;
  for (size_t i = 0; i < n; i++) {
    int v = 0;
    for (int k = 0; k < 2; k++) {
      int c = (unsigned char)hex[2 * i + k], d;
      if (c >= '0' && c <= '9') d = c - '0';
      else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
      else return false;
      v = v * 16 + d;
    }
    out[i] = (uint8_t)v;
  }
  return true;
}

void apx_tel_hex_encode(const uint8_t *in, size_t n, char *out) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < n; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * n] = 0;
}

void apx_tel_double_text(double v, char *out, size_t cap) {
  if (isnan(v)) { snprintf(out, cap, "NaN"); return; }
  if (isinf(v)) { snprintf(out, cap, v > 0 ? "Infinity" : "-Infinity"); return; }
  for (int prec = 15; prec <= 17; prec++) {
    snprintf(out, cap, "%.*g", prec, v);
    if (strtod(out, NULL) == v) return;
  }
}

int apx_tel_severity_parse(const char *s) {
  static const struct { const char *name; int num; } names[] = {
      {"trace", 1}, {"debug", 5}, {"information", 9}, {"info", 9}, {"warning", 13},
      {"warn", 13}, {"error", 17}, {"critical", 21}, {"fatal", 21}};
  if (!s || !*s) return -1;
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcasecmp(s, names[i].name) == 0) return names[i].num;
  char *end;
  long v = strtol(s, &end, 10);
  if (*end || v < 0 || v > 24) return -1;
  return (int)v;
}

/* Aspire's level of a SeverityNumber, for logs that carry no text. */
static const char *severity_name(int n) {
  if (n <= 0) return "Unspecified";
  if (n <= 4) return "Trace";
  if (n <= 8) return "Debug";
  if (n <= 12) return "Information";
  if (n <= 16) return "Warning";
  if (n <= 20) return "Error";
  return "Critical";
}

/* ---- JSON (OTLP/JSON: lowerCamelCase, hex ids, 64-bit integers as strings) */

static void add_u64(cJSON *o, const char *key, uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
  cJSON_AddStringToObject(o, key, buf);
}

static void add_hex(cJSON *o, const char *key, const uint8_t *id, size_t n) {
  char buf[33];
  apx_tel_hex_encode(id, n, buf);
  cJSON_AddStringToObject(o, key, buf);
}

static cJSON *anyvalue_json(const apx_tel_kv *kv) {
  cJSON *v = cJSON_CreateObject();
  switch (kv->type) {
  case APX_TEL_STR: cJSON_AddStringToObject(v, "stringValue", kv->value); break;
  case APX_TEL_BOOL: cJSON_AddBoolToObject(v, "boolValue", strcmp(kv->value, "true") == 0); break;
  case APX_TEL_INT: cJSON_AddStringToObject(v, "intValue", kv->value); break;
  case APX_TEL_DOUBLE: cJSON_AddNumberToObject(v, "doubleValue", strtod(kv->value, NULL)); break;
  case APX_TEL_BYTES: cJSON_AddStringToObject(v, "bytesValue", kv->value); break;
  case APX_TEL_JSON: {
    cJSON *parsed = cJSON_Parse(kv->value);
    if (cJSON_IsObject(parsed)) {
      cJSON_Delete(v);
      return parsed;
    }
    cJSON_Delete(parsed);
    cJSON_AddStringToObject(v, "stringValue", kv->value);
    break;
  }
  case APX_TEL_EMPTY: break;
  }
  return v;
}

static cJSON *attrs_json(const apx_tel_kv *kv, size_t n) {
  cJSON *a = cJSON_CreateArray();
  for (size_t i = 0; i < n; i++) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "key", kv[i].key);
    cJSON_AddItemToObject(e, "value", anyvalue_json(&kv[i]));
    cJSON_AddItemToArray(a, e);
  }
  return a;
}

static bool resource_matches(const apx_tel_resource *r, const char *want) {
  return !want || strcmp(r->name, want) == 0 || strcmp(r->display, want) == 0 || strcmp(r->label, want) == 0;
}

/* 404 when the query names a resource the store does not know. */
static bool resource_known(const apx_tel_store *s, const char *want) {
  if (!want) return true;
  for (size_t i = 0; i < s->nres; i++)
    if (resource_matches(s->res[i], want)) return true;
  return false;
}

/* Groups items into OTLP's resource -> scope -> items nesting, in the order
 * the items come. */
typedef struct group_scope {
  const tel_scope *scope;
  cJSON *items;
} group_scope;
typedef struct group_res {
  const apx_tel_resource *r;
  group_scope *scopes;
  size_t n;
} group_res;
typedef struct grouper {
  group_res *res;
  size_t n;
  const char *res_key, *scope_key, *items_key; /* resourceSpans, scopeSpans, spans */
} grouper;

static void group_add(grouper *g, const apx_tel_resource *r, const tel_scope *sc, cJSON *item) {
  group_res *gr = NULL;
  for (size_t i = 0; i < g->n; i++)
    if (g->res[i].r == r) gr = &g->res[i];
  if (!gr) {
    g->res = xrealloc(g->res, (g->n + 1) * sizeof *g->res);
    gr = &g->res[g->n++];
    *gr = (group_res){r, NULL, 0};
  }
  group_scope *gs = NULL;
  for (size_t i = 0; i < gr->n; i++)
    if (gr->scopes[i].scope == sc) gs = &gr->scopes[i];
  if (!gs) {
    gr->scopes = xrealloc(gr->scopes, (gr->n + 1) * sizeof *gr->scopes);
    gs = &gr->scopes[gr->n++];
    *gs = (group_scope){sc, cJSON_CreateArray()};
  }
  cJSON_AddItemToArray(gs->items, item);
}

static cJSON *scope_json(const tel_scope *sc) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", sc->name);
  if (*sc->version) cJSON_AddStringToObject(o, "version", sc->version);
  return o;
}

static cJSON *resource_otlp(const apx_tel_resource *r) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "attributes", attrs_json(r->attrs, r->nattrs));
  return o;
}

static cJSON *group_finish(grouper *g) {
  cJSON *data = cJSON_CreateObject();
  cJSON *arr = cJSON_AddArrayToObject(data, g->res_key);
  for (size_t i = 0; i < g->n; i++) {
    cJSON *rs = cJSON_CreateObject();
    cJSON_AddItemToObject(rs, "resource", resource_otlp(g->res[i].r));
    cJSON *scopes = cJSON_AddArrayToObject(rs, g->scope_key);
    for (size_t j = 0; j < g->res[i].n; j++) {
      cJSON *ss = cJSON_CreateObject();
      cJSON_AddItemToObject(ss, "scope", scope_json(g->res[i].scopes[j].scope));
      cJSON_AddItemToObject(ss, g->items_key, g->res[i].scopes[j].items);
      cJSON_AddItemToArray(scopes, ss);
    }
    free(g->res[i].scopes);
    cJSON_AddItemToArray(arr, rs);
  }
  free(g->res);
  g->res = NULL;
  g->n = 0;
  return data;
}

static cJSON *wrap(cJSON *data, size_t total, size_t returned) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "data", data);
  cJSON_AddNumberToObject(o, "totalCount", (double)total);
  cJSON_AddNumberToObject(o, "returnedCount", (double)returned);
  return o;
}

static bool kv_contains(const apx_tel_kv *kv, size_t n, const char *text) {
  for (size_t i = 0; i < n; i++)
    if (strcasestr(kv[i].value, text) || strcasestr(kv[i].key, text)) return true;
  return false;
}

/* ---- resources */

cJSON *apx_tel_resources_json(const apx_tel_store *s) {
  cJSON *arr = cJSON_CreateArray();
  for (size_t i = 0; i < s->nres; i++) {
    const apx_tel_resource *r = s->res[i];
    apx_tel_stats st;
    apx_tel_stats_get(s, r, &st);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "name", r->name);
    cJSON_AddStringToObject(o, "instanceId", r->instance);
    cJSON_AddStringToObject(o, "displayName", r->label);
    cJSON_AddItemToObject(o, "attributes", attrs_json(r->attrs, r->nattrs));
    cJSON_AddNumberToObject(o, "logCount", (double)st.logs);
    cJSON_AddNumberToObject(o, "traceCount", (double)st.traces);
    cJSON_AddNumberToObject(o, "spanCount", (double)st.spans);
    cJSON_AddNumberToObject(o, "instrumentCount", (double)st.instruments);
    cJSON *d = cJSON_AddObjectToObject(o, "dropped");
    cJSON_AddNumberToObject(d, "logs", (double)st.dropped_logs);
    cJSON_AddNumberToObject(d, "traces", (double)st.dropped_traces);
    cJSON_AddNumberToObject(d, "spans", (double)st.dropped_spans);
    cJSON_AddNumberToObject(d, "instruments", (double)st.dropped_instruments);
    cJSON_AddNumberToObject(d, "series", (double)st.dropped_series);
    cJSON_AddNumberToObject(d, "points", (double)st.dropped_points);
    cJSON_AddNumberToObject(d, "forBytes", (double)st.dropped_for_bytes);
    cJSON_AddNumberToObject(o, "bytes", (double)st.bytes);
    cJSON_AddItemToArray(arr, o);
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddItemToObject(o, "resources", arr);
  cJSON_AddNumberToObject(o, "droppedResources", (double)s->dropped_resources);
  cJSON_AddNumberToObject(o, "bytes", (double)s->bytes);
  cJSON_AddNumberToObject(o, "maxBytes", (double)s->lim.bytes);
  cJSON_AddNumberToObject(o, "maxBytesPerResource", (double)s->lim.bytes_per_resource);
  cJSON_AddNumberToObject(o, "version", (double)s->version);
  return o;
}

/* ---- logs */

static cJSON *log_json(const tel_log *lg) {
  cJSON *o = cJSON_CreateObject();
  add_u64(o, "timeUnixNano", lg->time);
  if (lg->observed) add_u64(o, "observedTimeUnixNano", lg->observed);
  cJSON_AddNumberToObject(o, "severityNumber", lg->severity);
  cJSON_AddStringToObject(o, "severityText", *lg->severity_text ? lg->severity_text : severity_name(lg->severity));
  if (lg->body.type != APX_TEL_EMPTY) cJSON_AddItemToObject(o, "body", anyvalue_json(&lg->body));
  cJSON_AddItemToObject(o, "attributes", attrs_json(lg->attrs, lg->nattrs));
  if (lg->dropped_attrs) cJSON_AddNumberToObject(o, "droppedAttributesCount", lg->dropped_attrs);
  if (lg->flags) cJSON_AddNumberToObject(o, "flags", lg->flags);
  if (lg->has_trace) add_hex(o, "traceId", lg->trace_id, 16);
  if (lg->has_span) add_hex(o, "spanId", lg->span_id, 8);
  if (*lg->event_name) cJSON_AddStringToObject(o, "eventName", lg->event_name);
  return o;
}

static int log_seq_desc(const void *a, const void *b) {
  const tel_log *x = *(const tel_log *const *)a, *y = *(const tel_log *const *)b;
  return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

cJSON *apx_tel_logs_json(const apx_tel_store *s, const apx_tel_query *q, int *status) {
  uint8_t tid[16];
  if (q->trace_id && !apx_tel_hex_decode(q->trace_id, tid, 16)) {
    *status = 400;
    return NULL;
  }
  if (!resource_known(s, q->resource)) {
    *status = 404;
    return NULL;
  }
  size_t limit = q->limit ? q->limit : 200, total = 0, cap = 0;
  const tel_log **hits = NULL;
  for (size_t i = 0; i < s->nres; i++) {
    const apx_tel_resource *r = s->res[i];
    if (!resource_matches(r, q->resource)) continue;
    for (size_t j = r->logs.n; j-- > 0;) {
      const tel_log *lg = ring_at(&r->logs, j);
      if (lg->severity < q->min_severity) continue;
      if (q->trace_id && (!lg->has_trace || memcmp(lg->trace_id, tid, 16) != 0)) continue;
      if (q->has_error == 1 && lg->severity < 17) continue;
      if (q->has_error == 0 && lg->severity >= 17) continue;
      if (q->text && *q->text && !strcasestr(lg->body.value, q->text) &&
          !kv_contains(lg->attrs, lg->nattrs, q->text))
        continue;
      if (total == cap) {
        cap = cap ? cap * 2 : 256;
        hits = xrealloc(hits, cap * sizeof *hits);
      }
      hits[total++] = lg;
    }
  }
  if (total) qsort(hits, total, sizeof *hits, log_seq_desc);
  size_t n = total < limit ? total : limit;
  /* The newest `limit`, returned oldest first (as a log reads). */
  grouper g = {NULL, 0, "resourceLogs", "scopeLogs", "logRecords"};
  for (size_t i = n; i-- > 0;) group_add(&g, hits[i]->res, hits[i]->scope, log_json(hits[i]));
  free(hits);
  *status = 200;
  return wrap(group_finish(&g), total, n);
}

/* ---- spans and traces */

static cJSON *span_json(const tel_trace *t, const tel_span *sp) {
  cJSON *o = cJSON_CreateObject();
  add_hex(o, "traceId", t->id, 16);
  add_hex(o, "spanId", sp->span_id, 8);
  if (*sp->trace_state) cJSON_AddStringToObject(o, "traceState", sp->trace_state);
  if (sp->has_parent) add_hex(o, "parentSpanId", sp->parent_id, 8);
  if (sp->flags) cJSON_AddNumberToObject(o, "flags", sp->flags);
  cJSON_AddStringToObject(o, "name", sp->name);
  cJSON_AddNumberToObject(o, "kind", sp->kind);
  add_u64(o, "startTimeUnixNano", sp->start);
  add_u64(o, "endTimeUnixNano", sp->end);
  cJSON_AddItemToObject(o, "attributes", attrs_json(sp->attrs, sp->nattrs));
  if (sp->dropped_attrs) cJSON_AddNumberToObject(o, "droppedAttributesCount", sp->dropped_attrs);
  if (sp->nevents) {
    cJSON *ev = cJSON_AddArrayToObject(o, "events");
    for (uint32_t i = 0; i < sp->nevents; i++) {
      cJSON *e = cJSON_CreateObject();
      add_u64(e, "timeUnixNano", sp->events[i].time);
      cJSON_AddStringToObject(e, "name", sp->events[i].name);
      cJSON_AddItemToObject(e, "attributes", attrs_json(sp->events[i].attrs, sp->events[i].nattrs));
      cJSON_AddItemToArray(ev, e);
    }
  }
  if (sp->dropped_events) cJSON_AddNumberToObject(o, "droppedEventsCount", sp->dropped_events);
  if (sp->dropped_links) cJSON_AddNumberToObject(o, "droppedLinksCount", sp->dropped_links);
  cJSON *st = cJSON_AddObjectToObject(o, "status");
  if (sp->status_code) cJSON_AddNumberToObject(st, "code", sp->status_code);
  if (*sp->status_message) cJSON_AddStringToObject(st, "message", sp->status_message);
  return o;
}

static bool span_matches(const tel_span *sp, const apx_tel_query *q) {
  if (!resource_matches(sp->res, q->resource)) return false;
  if (q->has_error == 1 && sp->status_code != 2) return false;
  if (q->has_error == 0 && sp->status_code == 2) return false;
  if (q->text && *q->text && !strcasestr(sp->name, q->text) && !kv_contains(sp->attrs, sp->nattrs, q->text))
    return false;
  return true;
}

cJSON *apx_tel_spans_json(const apx_tel_store *s, const apx_tel_query *q, int *status) {
  uint8_t tid[16];
  if (q->trace_id && !apx_tel_hex_decode(q->trace_id, tid, 16)) {
    *status = 400;
    return NULL;
  }
  if (!resource_known(s, q->resource)) {
    *status = 404;
    return NULL;
  }
  size_t limit = q->limit ? q->limit : 200, total = 0, n = 0;
  grouper g = {NULL, 0, "resourceSpans", "scopeSpans", "spans"};
  const tel_trace *only = q->trace_id ? trace_find(s, tid) : NULL;
  for (const tel_trace *t = only ? only : s->newest; t; t = only ? NULL : t->prev) {
    if (q->trace_id && !only) break;
    for (uint32_t i = 0; i < t->nspans; i++) {
      if (!span_matches(t->spans[i], q)) continue;
      total++;
      if (n < limit) {
        group_add(&g, t->spans[i]->res, t->spans[i]->scope, span_json(t, t->spans[i]));
        n++;
      }
    }
  }
  *status = 200;
  return wrap(group_finish(&g), total, n);
}

static bool log_matches(const tel_log *lg, const apx_tel_query *q, const uint8_t *tid) {
  if (lg->severity < q->min_severity) return false;
  if (tid && (!lg->has_trace || memcmp(lg->trace_id, tid, 16) != 0)) return false;
  if (q->has_error == 1 && lg->severity < 17) return false;
  if (q->has_error == 0 && lg->severity >= 17) return false;
  if (q->text && *q->text && !strcasestr(lg->body.value, q->text) && !kv_contains(lg->attrs, lg->nattrs, q->text))
    return false;
  return true;
}

static int log_seq_asc(const void *a, const void *b) { return log_seq_desc(b, a); }

size_t apx_tel_logs_after(const apx_tel_store *s, const apx_tel_query *q, uint64_t after, size_t max,
                          uint64_t *last, void (*emit)(void *ctx, cJSON *line), void *ctx) {
  uint8_t tid[16];
  bool by_trace = q->trace_id && apx_tel_hex_decode(q->trace_id, tid, 16);
  size_t n = 0, cap = 0;
  const tel_log **hits = NULL;
  for (size_t i = 0; i < s->nres; i++) {
    const apx_tel_resource *r = s->res[i];
    if (!resource_matches(r, q->resource)) continue;
    for (size_t j = r->logs.n; j-- > 0;) { /* a ring is in arrival order: newest back to `after` */
      const tel_log *lg = ring_at(&r->logs, j);
      if (lg->seq <= after) break;
      if (!log_matches(lg, q, by_trace ? tid : NULL)) continue;
      if (n == cap) {
        cap = cap ? cap * 2 : 64;
        hits = xrealloc(hits, cap * sizeof *hits);
      }
      hits[n++] = lg;
    }
  }
  if (n) qsort(hits, n, sizeof *hits, log_seq_asc);
  if (n > max) n = max;
  for (size_t i = 0; i < n; i++) {
    grouper g = {NULL, 0, "resourceLogs", "scopeLogs", "logRecords"};
    group_add(&g, hits[i]->res, hits[i]->scope, log_json(hits[i]));
    emit(ctx, group_finish(&g));
    *last = hits[i]->seq;
  }
  /* Nothing matched: what was looked at need not be looked at again. */
  if (!n && s->seq > *last) *last = s->seq;
  free(hits);
  return n;
}

typedef struct span_hit {
  const tel_trace *t;
  const tel_span *sp;
} span_hit;

static int span_hit_cmp(const void *a, const void *b) {
  const span_hit *x = a, *y = b;
  return x->sp->seq < y->sp->seq ? -1 : x->sp->seq > y->sp->seq;
}

size_t apx_tel_spans_after(const apx_tel_store *s, const apx_tel_query *q, uint64_t after, size_t max,
                           uint64_t *last, void (*emit)(void *ctx, cJSON *line), void *ctx) {
  uint8_t tid[16];
  bool by_trace = q->trace_id && apx_tel_hex_decode(q->trace_id, tid, 16);
  size_t n = 0, cap = 0;
  span_hit *hits = NULL;
  /* The list ends with the most recently updated traces. */
  for (const tel_trace *t = s->newest; t && t->updated > after; t = t->prev) {
    if (by_trace && memcmp(t->id, tid, 16) != 0) continue;
    for (uint32_t i = 0; i < t->nspans; i++) {
      if (t->spans[i]->seq <= after || !span_matches(t->spans[i], q)) continue;
      if (n == cap) {
        cap = cap ? cap * 2 : 64;
        hits = xrealloc(hits, cap * sizeof *hits);
      }
      hits[n++] = (span_hit){t, t->spans[i]};
    }
  }
  if (n) qsort(hits, n, sizeof *hits, span_hit_cmp);
  if (n > max) n = max;
  for (size_t i = 0; i < n; i++) {
    grouper g = {NULL, 0, "resourceSpans", "scopeSpans", "spans"};
    group_add(&g, hits[i].sp->res, hits[i].sp->scope, span_json(hits[i].t, hits[i].sp));
    emit(ctx, group_finish(&g));
    *last = hits[i].sp->seq;
  }
  if (!n && s->seq > *last) *last = s->seq;
  free(hits);
  return n;
}

static const tel_span *trace_root(const tel_trace *t) {
  const tel_span *root = NULL;
  for (uint32_t i = 0; i < t->nspans; i++) {
    const tel_span *sp = t->spans[i];
    if (!sp->has_parent && (!root || sp->start < root->start)) root = sp;
  }
  if (!root) /* the root has not arrived (or was dropped): the earliest span */
    for (uint32_t i = 0; i < t->nspans; i++)
      if (!root || t->spans[i]->start < root->start) root = t->spans[i];
  return root;
}

static cJSON *trace_summary(const tel_trace *t) {
  cJSON *o = cJSON_CreateObject();
  add_hex(o, "traceId", t->id, 16);
  const tel_span *root = trace_root(t);
  cJSON_AddStringToObject(o, "name", root ? root->name : "");
  cJSON_AddStringToObject(o, "rootResource", root ? root->res->label : "");
  add_u64(o, "startTimeUnixNano", t->start);
  add_u64(o, "endTimeUnixNano", t->end);
  cJSON_AddNumberToObject(o, "durationMs", (double)(t->end - t->start) / 1e6);
  cJSON_AddNumberToObject(o, "spanCount", t->nspans);
  cJSON_AddBoolToObject(o, "hasError", t->has_error);
  cJSON *rs = cJSON_AddArrayToObject(o, "resources");
  /* In the order of their first span, so "web → api" reads as it ran. */
  const apx_tel_resource **seen = xmalloc((t->nres ? t->nres : 1) * sizeof *seen);
  uint64_t *first = xmalloc((t->nres ? t->nres : 1) * sizeof *first);
  size_t ns = 0;
  for (uint32_t i = 0; i < t->nspans; i++) {
    size_t k = 0;
    while (k < ns && seen[k] != t->spans[i]->res) k++;
    if (k == ns) {
      if (ns == t->nres) continue;
      seen[ns] = t->spans[i]->res;
      first[ns++] = t->spans[i]->start;
    } else if (t->spans[i]->start < first[k]) {
      first[k] = t->spans[i]->start;
    }
  }
  for (size_t i = 1; i < ns; i++) /* insertion sort: a handful */
    for (size_t j = i; j > 0 && first[j] < first[j - 1]; j--) {
      uint64_t f = first[j]; first[j] = first[j - 1]; first[j - 1] = f;
      const apx_tel_resource *r = seen[j]; seen[j] = seen[j - 1]; seen[j - 1] = r;
    }
  for (size_t i = 0; i < ns; i++) cJSON_AddItemToArray(rs, cJSON_CreateString(seen[i]->label));
  free(seen);
  free(first);
  return o;
}

static bool trace_matches(const tel_trace *t, const apx_tel_query *q) {
  if (q->has_error == 1 && !t->has_error) return false;
  if (q->has_error == 0 && t->has_error) return false;
  bool res_ok = !q->resource, text_ok = !q->text || !*q->text;
  for (uint32_t i = 0; i < t->nspans && !(res_ok && text_ok); i++) {
    const tel_span *sp = t->spans[i];
    if (!res_ok && resource_matches(sp->res, q->resource)) res_ok = true;
    if (!text_ok && (strcasestr(sp->name, q->text) || kv_contains(sp->attrs, sp->nattrs, q->text)))
      text_ok = true;
  }
  return res_ok && text_ok;
}

static int span_start_cmp(const void *a, const void *b) {
  const tel_span *x = *(const tel_span *const *)a, *y = *(const tel_span *const *)b;
  return x->start < y->start ? -1 : x->start > y->start ? 1 : 0;
}

static void trace_spans_into(grouper *g, const tel_trace *t) {
  const tel_span **sorted = xmalloc((t->nspans ? t->nspans : 1) * sizeof *sorted);
  memcpy(sorted, t->spans, t->nspans * sizeof *sorted);
  qsort(sorted, t->nspans, sizeof *sorted, span_start_cmp);
  for (uint32_t i = 0; i < t->nspans; i++) group_add(g, sorted[i]->res, sorted[i]->scope, span_json(t, sorted[i]));
  free(sorted);
}

cJSON *apx_tel_traces_json(const apx_tel_store *s, const apx_tel_query *q, int *status) {
  if (!resource_known(s, q->resource)) {
    *status = 404;
    return NULL;
  }
  size_t limit = q->limit ? q->limit : 100, total = 0, n = 0;
  grouper g = {NULL, 0, "resourceSpans", "scopeSpans", "spans"};
  cJSON *summaries = cJSON_CreateArray();
  for (const tel_trace *t = s->newest; t; t = t->prev) {
    if (!trace_matches(t, q)) continue;
    total++;
    if (n >= limit) continue;
    n++;
    cJSON_AddItemToArray(summaries, trace_summary(t));
    if (!q->summary_only) trace_spans_into(&g, t);
  }
  cJSON *o = wrap(group_finish(&g), total, n);
  cJSON_AddItemToObject(o, "traces", summaries);
  *status = 200;
  return o;
}

cJSON *apx_tel_trace_json(const apx_tel_store *s, const char *trace_id, int *status) {
  uint8_t tid[16];
  if (!apx_tel_hex_decode(trace_id, tid, 16)) {
    *status = 400;
    return NULL;
  }
  const tel_trace *t = trace_find(s, tid);
  if (!t) {
    *status = 404;
    return NULL;
  }
  grouper g = {NULL, 0, "resourceSpans", "scopeSpans", "spans"};
  trace_spans_into(&g, t);
  cJSON *o = wrap(group_finish(&g), t->nspans, t->nspans);
  cJSON *summaries = cJSON_AddArrayToObject(o, "traces");
  cJSON_AddItemToArray(summaries, trace_summary(t));
  *status = 200;
  return o;
}

/* ---- metrics */

static const char *mkind_name(apx_tel_mkind k) {
  switch (k) {
  case APX_TEL_GAUGE: return "gauge";
  case APX_TEL_SUM: return "sum";
  case APX_TEL_HISTOGRAM: return "histogram";
  case APX_TEL_EXP_HISTOGRAM: return "exponentialHistogram";
  case APX_TEL_SUMMARY: return "summary";
  }
  return "gauge";
}

static void add_num(cJSON *arr, double v) {
  cJSON_AddItemToArray(arr, isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull());
}

double apx_tel_bucket_quantile(double q, const double *bounds, const uint64_t *counts, size_t n, double lo,
                               double hi) {
  uint64_t total = 0;
  for (size_t i = 0; i < n; i++) total += counts[i];
  if (!total) return NAN;
  double rank = q * (double)total, cum = 0;
  for (size_t i = 0; i < n; i++) {
    double next = cum + (double)counts[i];
    if (counts[i] && next >= rank) {
      double a = i ? bounds[i - 1] : lo, b = i + 1 < n ? bounds[i] : hi;
      if (!isfinite(a)) a = b;
      if (!isfinite(b)) b = a;
      if (!isfinite(a)) return NAN;
      return a + (b - a) * ((rank - cum) / (double)counts[i]);
    }
    cum = next;
  }
  return hi;
}

/* A sliding window over a histogram series' points: the sum of the
 * interval counts of the points in (t - window, t], t the point's time. */
typedef struct tel_window {
  uint64_t *sum;
  size_t cap, first; /* first: the oldest point (by position) in the window */
  size_t added;      /* the points (by position) added so far */
} tel_window;

static void window_init(tel_window *w, const tel_series *se) {
  if (w->cap < se->nb) {
    free(w->sum);
    w->sum = xcalloc(se->nb, sizeof *w->sum);
    w->cap = se->nb;
  }
  if (se->nb) memset(w->sum, 0, se->nb * sizeof *w->sum);
  w->first = w->added = 0;
}

/* Point m's percentiles over the window of wns ns (0: its own interval);
 * the points are visited in order. */
static void window_at(tel_window *w, const apx_tel_store *s, const tel_series *se, size_t m, uint64_t wns,
                      double pc[3]) {
  size_t nb = se->nb;
  if (!nb) return;
  const tel_point *pt = &se->points[(se->head + m) % s->lim.points];
  for (; w->added <= m; w->added++) {
    size_t sl = (se->head + w->added) % s->lim.points;
    if (!se->points[sl].has_d) continue;
    for (size_t k = 0; k < nb; k++) w->sum[k] += se->d[sl * nb + k];
  }
  for (; w->first < m; w->first++) {
    const tel_point *o = &se->points[(se->head + w->first) % s->lim.points];
    if (wns && o->time + wns > pt->time) break; /* still inside */
    size_t sl = (se->head + w->first) % s->lim.points;
    if (!o->has_d) continue;
    for (size_t k = 0; k < nb; k++) w->sum[k] -= se->d[sl * nb + k];
  }
  if (!pt->has_d) return;
  double lo = pt->lo, hi = pt->hi;
  for (size_t j = w->first; j < m; j++) {
    const tel_point *o = &se->points[(se->head + j) % s->lim.points];
    if (!o->has_d) continue;
    if (o->lo < lo) lo = o->lo;
    if (o->hi > hi) hi = o->hi;
  }
  static const double qs[3] = {0.50, 0.90, 0.99};
  for (int k = 0; k < 3; k++) pc[k] = apx_tel_bucket_quantile(qs[k], se->bounds, w->sum, nb, lo, hi);
}

cJSON *apx_tel_metrics_json(const apx_tel_store *s, const apx_tel_query *q, int *status) {
  if (!resource_known(s, q->resource)) {
    *status = 404;
    return NULL;
  }
  int64_t wms = q->window_ms ? q->window_ms : APX_TEL_PCT_WINDOW_MS;
  uint64_t wns = wms < 0 ? 0 : (uint64_t)wms * 1000000u;
  tel_window win = {0};
  cJSON *o = cJSON_CreateObject();
  cJSON_AddNumberToObject(o, "percentileWindowMs", wms < 0 ? 0 : (double)wms);
  cJSON *rs = cJSON_AddArrayToObject(o, "resources");
  for (size_t i = 0; i < s->nres; i++) {
    const apx_tel_resource *r = s->res[i];
    if (!resource_matches(r, q->resource)) continue;
    cJSON *ro = cJSON_CreateObject();
    cJSON_AddStringToObject(ro, "name", r->label);
    cJSON_AddNumberToObject(ro, "droppedInstruments", (double)r->dropped_instruments);
    cJSON_AddNumberToObject(ro, "droppedSeries", (double)r->dropped_series);
    cJSON_AddNumberToObject(ro, "droppedPoints", (double)r->dropped_points);
    cJSON *ia = cJSON_AddArrayToObject(ro, "instruments");
    for (size_t j = 0; j < r->ninstruments; j++) {
      const tel_instrument *in = r->instruments[j];
      if (q->text && *q->text && strcmp(in->name, q->text) != 0) continue;
      cJSON *io = cJSON_CreateObject();
      cJSON_AddStringToObject(io, "scope", in->scope->name);
      cJSON_AddStringToObject(io, "name", in->name);
      cJSON_AddStringToObject(io, "description", in->description);
      cJSON_AddStringToObject(io, "unit", in->unit);
      cJSON_AddStringToObject(io, "kind", mkind_name(in->kind));
      if (in->kind == APX_TEL_SUM) cJSON_AddBoolToObject(io, "isMonotonic", in->monotonic);
      cJSON_AddNumberToObject(io, "aggregationTemporality", in->temporality);
      cJSON *sa = cJSON_AddArrayToObject(io, "series");
      for (size_t k = 0; k < in->nseries; k++) {
        const tel_series *se = in->series[k];
        cJSON *so = cJSON_CreateObject();
        cJSON_AddItemToObject(so, "attributes", attrs_json(se->attrs, se->nattrs));
        /* [timeMs, value] or, for histograms, [timeMs, value, count, p50, p90, p99] */
        cJSON *pa = cJSON_AddArrayToObject(so, "points");
        window_init(&win, se);
        for (size_t m = 0; m < se->n; m++) {
          const tel_point *pt = &se->points[(se->head + m) % s->lim.points];
          cJSON *p = cJSON_CreateArray();
          add_num(p, (double)(pt->time / 1000000u));
          add_num(p, pt->value);
          if (in->kind == APX_TEL_HISTOGRAM || in->kind == APX_TEL_EXP_HISTOGRAM) {
            double pc[3] = {NAN, NAN, NAN};
            window_at(&win, s, se, m, wns, pc);
            add_num(p, (double)pt->count);
            for (int k = 0; k < 3; k++) add_num(p, pc[k]);
          } else if (in->kind == APX_TEL_SUMMARY) {
            add_num(p, (double)pt->count);
            add_num(p, pt->p50);
            add_num(p, pt->p90);
            add_num(p, pt->p99);
          }
          cJSON_AddItemToArray(pa, p);
        }
        cJSON_AddItemToArray(sa, so);
      }
      cJSON_AddItemToArray(ia, io);
    }
    if (cJSON_GetArraySize(ia) || q->resource) cJSON_AddItemToArray(rs, ro);
    else cJSON_Delete(ro);
  }
  free(win.sum);
  *status = 200;
  return o;
}
