/* A build {} context as the tar that POST /build takes: the directory
 * walked once (entries sorted, so the same tree gives the same tar and the
 * same digest), .dockerignore applied, then streamed a piece at a time as
 * the request's body is written: a file is read when its turn comes,
 * never the whole context in memory.
 *
 * The format: POSIX ustar, with a pax extended header ('x') for a path or
 * link target too long for ustar's fields; uid, gid and times as on disk.
 * A file that shrinks while it is sent is padded with zeros to the size
 * its header announced (the tar stays well-formed; the build sees the
 * difference).
 *
 * .dockerignore: one pattern a line, `#` comments, `!` re-includes;
 * patterns are matched with fnmatch(FNM_PATHNAME) against the path
 * relative to the context, a match of a directory excludes what is under
 * it, and a leading `**` / matches at any depth. The Dockerfile and
 * .dockerignore themselves are always sent, as docker does. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run_internal.h"

typedef struct apx_tar_entry {
  char *path; /* relative to the context */
  struct stat st;
  char *link; /* a symbolic link's target */
} apx_tar_entry;

struct apx_run_tar {
  char *dir;
  apx_tar_entry *e;
  size_t n, cap;
  char **ignore;
  size_t nignore;
  /* streaming */
  size_t next;      /* the entry whose header comes next */
  char stage[4096]; /* header bytes (or padding) not handed out yet */
  size_t slen, spos;
  apx_buf pax;      /* a pax header being handed out */
  size_t paxpos;
  int fd;           /* the file whose data is being sent */
  off_t left;       /* its bytes still to send */
  size_t pad;       /* zeros after it, to a 512-byte block */
  bool ended;
};

static bool apx_ignored(const apx_run_tar *t, const char *rel) {
  if (strcmp(rel, "Dockerfile") == 0 || strcmp(rel, ".dockerignore") == 0) return false;
  bool out = false;
  for (size_t i = 0; i < t->nignore; i++) {
    const char *p = t->ignore[i];
    bool neg = *p == '!';
    if (neg) p++;
    bool m = false;
    /* The path or one of its parent directories. */
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", rel);
    for (;;) {
      if (fnmatch(p, buf, FNM_PATHNAME) == 0) m = true;
      if (!m && strncmp(p, "**/", 3) == 0) {
        for (const char *s = buf; s && !m; s = strchr(s, '/'), s = s ? s + 1 : NULL)
          if (fnmatch(p + 3, s, FNM_PATHNAME) == 0) m = true;
      }
      char *slash = strrchr(buf, '/');
      if (m || !slash) break;
      *slash = '\0';
    }
    if (m) out = !neg;
  }
  return out;
}

static void apx_read_ignore(apx_run_tar *t) {
  char *path = malloc(strlen(t->dir) + 16);
  if (!path) abort();
  sprintf(path, "%s/.dockerignore", t->dir);
  FILE *f = fopen(path, "r");
  free(path);
  if (!f) return;
  char line[1024];
  size_t cap = 0;
  while (fgets(line, sizeof line, f)) {
    char *s = line;
    size_t l = strlen(s);
    while (l && (s[l - 1] == '\n' || s[l - 1] == '\r' || s[l - 1] == ' ' || s[l - 1] == '\t')) s[--l] = '\0';
    while (*s == ' ' || *s == '\t') s++;
    if (!*s || *s == '#') continue;
    bool neg = *s == '!';
    char *p = s + neg;
    while (p[0] == '.' && p[1] == '/') p += 2;
    while (*p == '/') p++;
    l = strlen(p);
    while (l > 1 && p[l - 1] == '/') p[--l] = '\0';
    if (t->nignore == cap) {
      cap = cap ? cap * 2 : 8;
      t->ignore = realloc(t->ignore, cap * sizeof *t->ignore);
      if (!t->ignore) abort();
    }
    char *v = malloc(strlen(p) + 2);
    if (!v) abort();
    sprintf(v, "%s%s", neg ? "!" : "", p);
    t->ignore[t->nignore++] = v;
  }
  fclose(f);
}

static int apx_name_cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static bool apx_walk(apx_run_tar *t, const char *rel, char *why, size_t n) {
  size_t dl = strlen(t->dir) + strlen(rel) + 2;
  char *abs = malloc(dl);
  if (!abs) abort();
  snprintf(abs, dl, "%s%s%s", t->dir, *rel ? "/" : "", rel);
  DIR *d = opendir(abs);
  if (!d) {
    snprintf(why, n, "%s: %s", abs, strerror(errno));
    free(abs);
    return false;
  }
  char **names = NULL;
  size_t nn = 0, cap = 0;
  struct dirent *de;
  while ((de = readdir(d))) {
    if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
    if (nn == cap) {
      cap = cap ? cap * 2 : 16;
      names = realloc(names, cap * sizeof *names);
      if (!names) abort();
    }
    names[nn] = strdup(de->d_name);
    if (!names[nn++]) abort();
  }
  closedir(d);
  qsort(names, nn, sizeof *names, apx_name_cmp);
  bool ok = true;
  for (size_t i = 0; i < nn; i++) {
    size_t rl = strlen(rel) + strlen(names[i]) + 2;
    char *r = malloc(rl);
    if (!r) abort();
    snprintf(r, rl, "%s%s%s", rel, *rel ? "/" : "", names[i]);
    char *a = malloc(strlen(t->dir) + rl + 1);
    if (!a) abort();
    sprintf(a, "%s/%s", t->dir, r);
    struct stat st;
    if (ok && !apx_ignored(t, r) && lstat(a, &st) == 0 &&
        (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))) {
      if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->e = realloc(t->e, t->cap * sizeof *t->e);
        if (!t->e) abort();
      }
      apx_tar_entry *e = &t->e[t->n++];
      memset(e, 0, sizeof *e);
      e->path = r;
      e->st = st;
      r = NULL;
      if (S_ISLNK(st.st_mode)) {
        char lk[4096];
        ssize_t k = readlink(a, lk, sizeof lk - 1);
        lk[k > 0 ? k : 0] = '\0';
        e->link = strdup(lk);
        if (!e->link) abort();
      }
      if (S_ISDIR(st.st_mode) && !apx_walk(t, e->path, why, n)) ok = false;
    }
    free(r);
    free(a);
    free(names[i]);
  }
  free(names);
  free(abs);
  return ok;
}

apx_run_tar *apx_run_tar_open(const char *dir, char *why, size_t n) {
  struct stat st;
  if (stat(dir, &st) != 0) {
    snprintf(why, n, "%s", strerror(errno));
    return NULL;
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(why, n, "not a directory");
    return NULL;
  }
  apx_run_tar *t = calloc(1, sizeof *t);
  if (!t) abort();
  t->dir = strdup(dir);
  if (!t->dir) abort();
  t->fd = -1;
  apx_read_ignore(t);
  if (!apx_walk(t, "", why, n)) {
    apx_run_tar_free(t);
    return NULL;
  }
  return t;
}

uint64_t apx_run_tar_digest(const apx_run_tar *t) {
  uint64_t h = APX_RUN_FNV_INIT;
  for (size_t i = 0; i < t->n; i++) {
    const apx_tar_entry *e = &t->e[i];
    char meta[128];
    int k = snprintf(meta, sizeof meta, "%o %lld %lld.%09ld", (unsigned)e->st.st_mode, (long long)e->st.st_size,
                     (long long)e->st.st_mtim.tv_sec, (long)e->st.st_mtim.tv_nsec);
    h = apx_run_fnv(h, e->path, strlen(e->path) + 1);
    h = apx_run_fnv(h, meta, (size_t)k + 1);
    if (e->link) h = apx_run_fnv(h, e->link, strlen(e->link) + 1);
  }
  return h;
}

void apx_run_tar_free(apx_run_tar *t) {
  if (!t) return;
  if (t->fd >= 0) close(t->fd);
  for (size_t i = 0; i < t->n; i++) {
    free(t->e[i].path);
    free(t->e[i].link);
  }
  for (size_t i = 0; i < t->nignore; i++) free(t->ignore[i]);
  free(t->ignore);
  free(t->e);
  free(t->dir);
  apx_buf_free(&t->pax);
  free(t);
}

/* ---- the writer: ustar headers (and pax records) -------------------------------------------- */

static void apx_octal(char *field, size_t width, unsigned long long v) {
  /* width-1 octal digits and a NUL, as ustar wants (a value too large keeps its low digits:
   * sizes past 8 GiB would need a pax size record). */
  field[width - 1] = '\0';
  for (size_t i = width - 1; i-- > 0; v >>= 3) field[i] = (char)('0' + (v & 7));
}

static void apx_pax_record(apx_buf *b, const char *key, const char *value) {
  /* "LEN key=value\n", LEN counting itself. */
  size_t body = strlen(key) + strlen(value) + 3; /* ' ', '=', '\n' */
  size_t len = body + 1;
  for (;;) {
    char d[24];
    size_t k = (size_t)snprintf(d, sizeof d, "%zu", len);
    if (k + body == len) break;
    len = k + body;
  }
  apx_buf_printf(b, "%zu %s=%s\n", len, key, value);
}

static void apx_header(char h[512], const char *name, size_t size, unsigned mode, char type, const struct stat *st,
                       const char *link) {
  memset(h, 0, 512);
  snprintf(h, 100, "%s", name);
  apx_octal(h + 100, 8, mode & 07777);
  apx_octal(h + 108, 8, st ? (unsigned long long)st->st_uid : 0);
  apx_octal(h + 116, 8, st ? (unsigned long long)st->st_gid : 0);
  apx_octal(h + 124, 12, size);
  apx_octal(h + 136, 12, st ? (unsigned long long)st->st_mtim.tv_sec : 0);
  h[156] = type;
  if (link) snprintf(h + 157, 100, "%s", link);
  memcpy(h + 257, "ustar", 6);
  memcpy(h + 263, "00", 2);
  memset(h + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < 512; i++) sum += (unsigned char)h[i];
  snprintf(h + 148, 8, "%06o", sum);
  h[155] = ' ';
}

/* Stages the next entry's headers; false at the end. */
static bool apx_stage_next(apx_run_tar *t) {
  while (t->next < t->n) {
    apx_tar_entry *e = &t->e[t->next++];
    bool dir = S_ISDIR(e->st.st_mode), lnk = S_ISLNK(e->st.st_mode);
    char name[4096];
    snprintf(name, sizeof name, "%s%s", e->path, dir ? "/" : "");
    off_t size = dir || lnk ? 0 : e->st.st_size;
    if (!dir && !lnk) {
      char *a = malloc(strlen(t->dir) + strlen(e->path) + 2);
      if (!a) abort();
      sprintf(a, "%s/%s", t->dir, e->path);
      t->fd = open(a, O_RDONLY | O_CLOEXEC);
      free(a);
      if (t->fd < 0) continue; /* gone or unreadable since the walk: left out */
    }
    t->slen = t->spos = 0;
    apx_buf_clear(&t->pax);
    t->paxpos = 0;
    if (strlen(name) > 99 || (e->link && strlen(e->link) > 99)) {
      apx_buf recs = {0};
      apx_pax_record(&recs, "path", name);
      if (e->link && strlen(e->link) > 99) apx_pax_record(&recs, "linkpath", e->link);
      char ph[512];
      apx_header(ph, "././@PaxHeader", recs.len, 0644, 'x', NULL, NULL);
      apx_buf_append(&t->pax, ph, 512);
      apx_buf_append(&t->pax, recs.data, recs.len);
      size_t padn = (512 - recs.len % 512) % 512;
      static const char zeros[512];
      apx_buf_append(&t->pax, zeros, padn);
      apx_buf_free(&recs);
    }
    apx_header(t->stage, name, (size_t)size, (unsigned)e->st.st_mode, dir ? '5' : lnk ? '2' : '0', &e->st, e->link);
    t->slen = 512;
    t->left = size;
    t->pad = (size_t)((512 - size % 512) % 512);
    return true;
  }
  return false;
}

size_t apx_run_tar_read(apx_run_tar *t, char *buf, size_t n) {
  size_t out = 0;
  while (out < n) {
    if (t->paxpos < t->pax.len) {
      size_t k = t->pax.len - t->paxpos < n - out ? t->pax.len - t->paxpos : n - out;
      memcpy(buf + out, t->pax.data + t->paxpos, k);
      t->paxpos += k;
      out += k;
      continue;
    }
    if (t->spos < t->slen) {
      size_t k = t->slen - t->spos < n - out ? t->slen - t->spos : n - out;
      memcpy(buf + out, t->stage + t->spos, k);
      t->spos += k;
      out += k;
      continue;
    }
    if (t->left > 0) {
      size_t want = (size_t)t->left < n - out ? (size_t)t->left : n - out;
      ssize_t k = t->fd >= 0 ? read(t->fd, buf + out, want) : 0;
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) { /* shorter than announced: zeros */
        memset(buf + out, 0, want);
        k = (ssize_t)want;
      }
      out += (size_t)k;
      t->left -= k;
      continue;
    }
    if (t->fd >= 0) {
      close(t->fd);
      t->fd = -1;
    }
    if (t->pad) {
      size_t k = t->pad < n - out ? t->pad : n - out;
      memset(buf + out, 0, k);
      t->pad -= k;
      out += k;
      continue;
    }
    if (t->ended) break;
    if (!apx_stage_next(t)) {
      /* The end: two zero blocks. */
      memset(t->stage, 0, sizeof t->stage);
      t->slen = 1024;
      t->spos = 0;
      t->ended = true;
    }
  }
  return out;
}
