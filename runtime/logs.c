/* Output. Every line a process writes, on stdout or stderr, goes to the
 * terminal prefixed with its unit's name (a stable colour per resource on a
 * terminal; none when stdout is not one or NO_COLOR is set) and to
 * STATE/logs/NAME.log as written.
 *
 * No line is lost: pipes are read until end of file, even after the process
 * exited, and when the terminal is slow aspirec waits for it (the writes
 * block), which in turn makes the processes wait on their full pipes rather
 * than drop anything. Throughput comes from batching: pipes are read 64 KiB
 * at a time into one buffer, lines are found with memchr, and terminal and
 * file output are gathered in buffers written when large or just before the
 * event loop sleeps, so a busy process costs a few system calls per 64 KiB,
 * not one per line.
 *
 * stdout and stderr share one pipe (process.c), so lines keep the order the
 * process wrote them in. A line longer than APX_LINE_MAX is shown
 * in pieces of that size, each with a `+` after the name instead of `|`; the
 * file still gets its bytes unchanged. A last line without a newline is
 * completed with one when the stream ends. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "run_internal.h"

enum {
  APX_LINE_MAX = 32 * 1024,   /* longest piece of a line shown at once */
  APX_READ_SIZE = 64 * 1024,  /* one read from a pipe */
  APX_FLUSH_AT = 64 * 1024,   /* terminal/file buffers are written past this */
  APX_CAPTURE_MAX = 8 * 1024, /* output kept of a database creation */
};

struct apx_run_logs {
  int out;
  bool color, broken;
  size_t width;
  char *t; /* terminal buffer */
  size_t tlen, tcap;
  char *f; /* file buffer, for one file at a time */
  size_t flen, fcap;
  int ffd;
  int runlog;
  char *rbuf; /* what one read of a pipe lands in (any stream: reads do not overlap) */
  uv_prepare_t prep;
  bool prep_on;
};

struct apx_run_sink {
  apx_run_unit *unit;
  int fd;
  char prefix[160], cprefix[160];
  size_t plen;
};

typedef struct apx_run_stream {
  uv_pipe_t pipe;
  apx_run_proc *proc;
  apx_run_unit *unit;
  char *carry; /* the line so far */
  size_t clen, ccap;
  bool cont; /* the last piece shown was part of a longer line */
  bool started;
  bool fed;  /* fed by a driver (apx_run_feed): no pipe */
  apx_run_logs *logs;
  apx_runtime *run; /* a fed stream (a build's output) may have no process */
} apx_run_stream;

/* ---- writing ---------------------------------------------------------------- */

static void apx_write_all(int fd, const char *s, size_t n, bool *broken) {
  while (n) {
    ssize_t k = write(fd, s, n);
    if (k < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) { /* someone made it non-blocking: wait for room */
        struct pollfd pf = {fd, POLLOUT, 0};
        poll(&pf, 1, 1000);
        continue;
      }
      if (broken) *broken = true; /* EPIPE, EIO: nobody reads the terminal any more */
      return;
    }
    s += k;
    n -= (size_t)k;
  }
}

static void apx_flush_files(apx_run_logs *L) {
  if (L->flen && L->ffd >= 0) apx_write_all(L->ffd, L->f, L->flen, NULL);
  L->flen = 0;
}

static void apx_flush_term(apx_run_logs *L) {
  if (L->tlen && !L->broken) apx_write_all(L->out, L->t, L->tlen, &L->broken);
  L->tlen = 0;
}

void apx_run_logs_flush(apx_runtime *run) {
  if (!run->logs) return;
  apx_flush_files(run->logs);
  apx_flush_term(run->logs);
}

static void apx_reserve(char **b, size_t len, size_t *cap, size_t more) {
  if (len + more <= *cap) return;
  size_t nc = *cap ? *cap : 4096;
  while (nc < len + more) nc *= 2;
  char *nb = realloc(*b, nc);
  if (!nb) abort();
  *b = nb;
  *cap = nc;
}

static void apx_term_put(apx_run_logs *L, const char *s, size_t n) {
  apx_reserve(&L->t, L->tlen, &L->tcap, n);
  memcpy(L->t + L->tlen, s, n);
  L->tlen += n;
}

static void apx_file_put(apx_run_logs *L, int fd, const char *s, size_t n) {
  if (fd < 0) return;
  if (L->ffd != fd) {
    apx_flush_files(L);
    L->ffd = fd;
  }
  if (n >= APX_FLUSH_AT) { /* a large piece: straight through */
    apx_flush_files(L);
    apx_write_all(fd, s, n, NULL);
    return;
  }
  apx_reserve(&L->f, L->flen, &L->fcap, n);
  memcpy(L->f + L->flen, s, n);
  L->flen += n;
}

/* One line (or piece of one) of a unit. */
static void apx_emit(apx_run_logs *L, apx_run_stream *st, const char *s, size_t n, bool eol) {
  apx_run_unit *u = st->unit;
  apx_run_sink *k = u->sink;
  if (k) {
    apx_term_put(L, st->cont ? k->cprefix : k->prefix, k->plen);
    apx_term_put(L, s, n);
    apx_term_put(L, "\n", 1);
    apx_file_put(L, k->fd, s, n);
    if (eol) apx_file_put(L, k->fd, "\n", 1);
  }
  st->cont = !eol;
  apx_run_probes_line(u, s, n);
  apx_run_monitor_line(st->run, u, s, n, eol);
  apx_run_proc *p = st->proc;
  if (p && p->role == APX_PROC_DB && p->capture.len < APX_CAPTURE_MAX) {
    apx_buf_append(&p->capture, s, n);
    apx_buf_putc(&p->capture, '\n');
  }
  if (L->tlen >= APX_FLUSH_AT) apx_flush_term(L);
  if (L->flen >= APX_FLUSH_AT) apx_flush_files(L);
}

static void apx_carry_add(apx_run_stream *st, const char *s, size_t n) {
  apx_reserve(&st->carry, st->clen, &st->ccap, n);
  memcpy(st->carry + st->clen, s, n);
  st->clen += n;
}

/* Splits a chunk of a stream into lines. */
static void apx_feed(apx_run_logs *L, apx_run_stream *st, const char *s, size_t n) {
  const char *end = s + n;
  while (s < end) {
    const char *nl = memchr(s, '\n', (size_t)(end - s));
    if (nl) {
      size_t len = (size_t)(nl - s);
      if (st->clen) {
        if (st->clen + len > APX_LINE_MAX) { /* show what is there, then the rest */
          apx_emit(L, st, st->carry, st->clen, false);
          st->clen = 0;
          while (len > APX_LINE_MAX) {
            apx_emit(L, st, s, APX_LINE_MAX, false);
            s += APX_LINE_MAX;
            len -= APX_LINE_MAX;
          }
          apx_emit(L, st, s, len, true);
        } else {
          apx_carry_add(st, s, len);
          apx_emit(L, st, st->carry, st->clen, true);
          st->clen = 0;
        }
      } else {
        while (len > APX_LINE_MAX) {
          apx_emit(L, st, s, APX_LINE_MAX, false);
          s += APX_LINE_MAX;
          len -= APX_LINE_MAX;
        }
        apx_emit(L, st, s, len, true);
      }
      s = nl + 1;
      continue;
    }
    /* No newline in the rest: keep it, showing full pieces of a long line. */
    size_t rest = (size_t)(end - s);
    while (st->clen + rest >= APX_LINE_MAX) {
      size_t take = APX_LINE_MAX - st->clen;
      apx_carry_add(st, s, take);
      apx_emit(L, st, st->carry, st->clen, false);
      st->clen = 0;
      s += take;
      rest -= take;
    }
    apx_carry_add(st, s, rest);
    s = end;
  }
}

/* ---- streams ----------------------------------------------------------------- */

static void apx_stream_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf) {
  (void)hint;
  apx_run_stream *st = h->data;
  apx_run_logs *L = st->proc->run->logs;
  /* One buffer for every pipe: libuv calls read_cb right after each
   * alloc_cb, so a read never overlaps another. */
  buf->base = L->rbuf;
  buf->len = APX_READ_SIZE;
}

static void apx_stream_closed(uv_handle_t *h) {
  apx_run_stream *st = h->data;
  apx_run_proc *p = st->proc;
  free(st->carry);
  free(st);
  apx_run_proc_handle_closed(p);
}

static void apx_stream_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
  apx_run_stream *st = s->data;
  apx_run_logs *L = st->proc->run->logs;
  if (n > 0) {
    apx_feed(L, st, buf->base, (size_t)n);
    return;
  }
  if (n == 0) return; /* EAGAIN */
  /* End of file, or an error that ends the stream the same way. */
  if (st->clen) {
    apx_emit(L, st, st->carry, st->clen, true);
    st->clen = 0;
  }
  uv_read_stop(s);
  apx_run_proc *p = st->proc;
  uv_close((uv_handle_t *)s, apx_stream_closed);
  apx_run_proc_stream_eof(p);
}

struct apx_run_stream *apx_run_stream_new(apx_run_proc *p, uv_pipe_t **pipe) {
  apx_run_stream *st = calloc(1, sizeof *st);
  if (!st) abort();
  st->proc = p;
  st->unit = p->unit;
  st->run = p->run;
  uv_pipe_init(&p->run->loop, &st->pipe, 0);
  st->pipe.data = st;
  *pipe = &st->pipe;
  return st;
}

int apx_run_stream_start(struct apx_run_stream *st) {
  int rc = uv_read_start((uv_stream_t *)&st->pipe, apx_stream_alloc, apx_stream_read);
  if (rc != 0) uv_close((uv_handle_t *)&st->pipe, apx_stream_closed);
  st->started = rc == 0;
  return rc;
}

void apx_run_stream_free(struct apx_run_stream *st) {
  if (st->fed) apx_run_feed_end(st);
  else uv_close((uv_handle_t *)&st->pipe, apx_stream_closed);
}

/* A stream without a pipe: a container's output demultiplexed from the
 * engine's answer, a build's output, fed in the loop. */
struct apx_run_stream *apx_run_feed_new(apx_runtime *run, apx_run_unit *u, apx_run_proc *p) {
  apx_run_stream *st = calloc(1, sizeof *st);
  if (!st) abort();
  st->proc = p;
  st->unit = u;
  st->fed = true;
  st->started = true;
  st->logs = run->logs;
  st->run = run;
  return st;
}

void apx_run_feed(struct apx_run_stream *st, const char *s, size_t n) {
  if (st->logs && n) apx_feed(st->logs, st, s, n);
}

void apx_run_feed_end(struct apx_run_stream *st) {
  if (st->clen && st->logs) apx_emit(st->logs, st, st->carry, st->clen, true);
  apx_run_proc *p = st->proc;
  free(st->carry);
  free(st);
  if (p) apx_run_proc_stream_eof(p);
}

/* ---- sinks, prefixes, colours ------------------------------------------------------ */

const char *apx_run_style(apx_runtime *run, const char *sgr) {
  return run->logs && run->logs->color ? sgr : "";
}

/* 12 colours that read on dark and light backgrounds; a resource keeps its
 * colour from run to run (a hash of its name), its replicas share it. */
static const char *apx_colour_of(const char *name) {
  static const char *const pal[] = {"36", "33", "32", "35", "34", "31", "96", "93", "92", "95", "94", "91"};
  uint32_t h = 2166136261u;
  for (const char *s = name; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
  return pal[h % (sizeof pal / sizeof *pal)];
}

int apx_run_sink_open(apx_runtime *run, apx_run_unit *u) {
  apx_run_logs *L = run->logs;
  apx_run_sink *k = APX_NEW(run->arena, apx_run_sink);
  k->unit = u;
  const char *path = apx_arena_printf(run->arena, "%s/logs/%s.log", run->state_dir, u->name);
  /* Keep one earlier run's log beside the new one. */
  rename(path, apx_arena_printf(run->arena, "%s.1", path));
  k->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  if (k->fd < 0) {
    apx_run_error(run, "check the state directory's permissions, or choose another with --state-dir",
                  "cannot write the log file %s: %s", path, strerror(errno));
    return 2;
  }
  int w = (int)L->width;
  if (L->color) {
    const char *c = apx_colour_of(u->res->name);
    snprintf(k->prefix, sizeof k->prefix, "\033[%sm%-*s |\033[0m ", c, w, u->name);
    snprintf(k->cprefix, sizeof k->cprefix, "\033[%sm%-*s +\033[0m ", c, w, u->name);
  } else {
    snprintf(k->prefix, sizeof k->prefix, "%-*s | ", w, u->name);
    snprintf(k->cprefix, sizeof k->cprefix, "%-*s + ", w, u->name);
  }
  k->plen = strlen(k->prefix);
  u->sink = k;
  return 0;
}

static void apx_logs_prepare(uv_prepare_t *h) {
  apx_runtime *run = h->data;
  apx_run_logs_flush(run);
}

int apx_run_logs_init(apx_runtime *run) {
  apx_run_logs *L = calloc(1, sizeof *L);
  if (!L) abort();
  run->logs = L;
  L->out = STDOUT_FILENO;
  L->ffd = -1;
  L->color = !run->opts.no_color && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
  L->rbuf = malloc(APX_READ_SIZE);
  if (!L->rbuf) abort();
  L->width = 7; /* "aspirec" */
  for (size_t i = 0; i < run->nunits; i++) {
    size_t n = strlen(run->units[i]->name);
    if (n > L->width) L->width = n;
  }
  if (L->width > 40) L->width = 40;
  const char *path = apx_arena_printf(run->arena, "%s/logs/aspirec.log", run->state_dir);
  rename(path, apx_arena_printf(run->arena, "%s.1", path));
  L->runlog = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
  uv_prepare_init(&run->loop, &L->prep);
  L->prep.data = run;
  uv_prepare_start(&L->prep, apx_logs_prepare);
  /* The prepare handle must not keep the loop alive on its own. */
  uv_unref((uv_handle_t *)&L->prep);
  L->prep_on = true;
  return 0;
}

static void apx_logs_closed(uv_handle_t *h) { (void)h; }

void apx_run_logs_free(apx_runtime *run) {
  apx_run_logs *L = run->logs;
  if (!L) return;
  apx_run_logs_flush(run);
  for (size_t i = 0; i < run->nunits; i++)
    if (run->units[i]->sink && run->units[i]->sink->fd >= 0) {
      close(run->units[i]->sink->fd);
      run->units[i]->sink->fd = -1;
    }
  if (L->runlog >= 0) close(L->runlog);
  free(L->t);
  free(L->f);
  free(L->rbuf);
  free(L);
  run->logs = NULL;
}

/* Closes the prepare handle (the loop must still run to finish closing). */
void apx_run_logs_close_handles(apx_runtime *run) {
  if (run->logs && run->logs->prep_on) {
    uv_close((uv_handle_t *)&run->logs->prep, apx_logs_closed);
    run->logs->prep_on = false;
  }
}

/* ---- aspirec's own messages ----------------------------------------------------------- */

void apx_run_plain(apx_buf *out, const char *s) {
  for (const char *p = s; *p; p++) {
    if (p[0] == '\033' && p[1] == '[') {
      p += 2;
      while (*p && *p != 'm') p++;
      if (!*p) break;
      continue;
    }
    apx_buf_putc(out, *p);
  }
}

void apx_run_monitor_notes(apx_runtime *run, const char *s, bool error) {
  for (;;) {
    const char *nl = strchr(s, '\n');
    size_t n = nl ? (size_t)(nl - s) : strlen(s);
    apx_run_monitor_note(run, s, n, error);
    if (!nl) break;
    s = nl + 1;
  }
}

void apx_run_sayv(apx_runtime *run, const char *fmt, va_list ap) {
  apx_run_logs *L = run->logs;
  apx_buf msg = {0};
  apx_buf_vprintf(&msg, fmt, ap);
  if (!L) {
    fprintf(stderr, "aspirec: %s\n", apx_buf_str(&msg));
    apx_buf_free(&msg);
    return;
  }
  char pre[96];
  if (L->color) snprintf(pre, sizeof pre, "\033[1m%-*s |\033[0m ", (int)L->width, "aspirec");
  else snprintf(pre, sizeof pre, "%-*s | ", (int)L->width, "aspirec");
  /* A message may have several lines; each gets the prefix. */
  const char *s = apx_buf_str(&msg);
  for (;;) {
    const char *nl = strchr(s, '\n');
    size_t n = nl ? (size_t)(nl - s) : strlen(s);
    apx_term_put(L, pre, strlen(pre));
    apx_term_put(L, s, n);
    apx_term_put(L, "\n", 1);
    if (!nl) break;
    s = nl + 1;
  }
  /* Colour codes removed: for the run log and the watcher. */
  apx_buf plain = {0};
  apx_run_plain(&plain, apx_buf_str(&msg));
  if (L->runlog >= 0) {
    /* The run log: local time with milliseconds. */
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    char when[64];
    size_t w = strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(when + w, sizeof when - w, ".%03ld ", ts.tv_nsec / 1000000L);
    apx_write_all(L->runlog, when, strlen(when), NULL);
    apx_write_all(L->runlog, apx_buf_str(&plain), plain.len, NULL);
    apx_write_all(L->runlog, "\n", 1, NULL);
  }
  apx_run_monitor_notes(run, apx_buf_str(&plain), false);
  apx_buf_free(&plain);
  apx_buf_free(&msg);
  if (L->tlen >= APX_FLUSH_AT) apx_flush_term(L);
}

void apx_run_say(apx_runtime *run, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  apx_run_sayv(run, fmt, ap);
  va_end(ap);
}
