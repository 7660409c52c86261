/* Staged output (output.h): files are kept in memory until commit, then
 * written beside their final names and renamed into place, so a reader never
 * sees half a file and a failure leaves the previous files as they were.
 * A streamed file is written to its temporary name while the back end
 * produces it, and renamed with the others at commit. */
#include "output.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic.h"
#include "buf.h"

typedef struct apx_out_file {
  char *relpath;
  char *data;
  size_t len;
  FILE *stream; /* a streamed file: open on temp, data unused */
  char *temp;
  bool executable; /* always 0755 (the health-check probe) */
} apx_out_file;

struct apx_output {
  char *dir; /* NULL: stdout mode */
  apx_out_file *files;
  size_t n, cap;
  /* Directories made for streamed files, innermost last: removed again
   * (when still empty) if the output is never committed. */
  char **made_dirs;
  size_t nmade;
  bool committed;
  /* relpath -> index + 1, open addressing: a chart of 28,000 files must not
   * cost a scan of every earlier file per add. */
  size_t *index, index_cap;
  char *last_dir; /* the directory the previous file's went into: it exists */
};

static size_t apx_out_hash(const char *s) {
  size_t h = 1469598103934665603u;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211u;
  return h;
}

static void apx_out_index_put(apx_output *o, size_t i) {
  size_t mask = o->index_cap - 1, h = apx_out_hash(o->files[i].relpath) & mask;
  while (o->index[h]) h = (h + 1) & mask;
  o->index[h] = i + 1;
}

/* The file already added at relpath, or NULL. */
static apx_out_file *apx_out_find(apx_output *o, const char *relpath) {
  if (!o->index_cap) return NULL;
  size_t mask = o->index_cap - 1, h = apx_out_hash(relpath) & mask;
  for (; o->index[h]; h = (h + 1) & mask)
    if (strcmp(o->files[o->index[h] - 1].relpath, relpath) == 0) return &o->files[o->index[h] - 1];
  return NULL;
}

static void *apx_out_xmalloc(size_t n) {
  void *p = malloc(n ? n : 1);
  if (!p) {
    fputs("aspirec: out of memory\n", stderr);
    abort();
  }
  return p;
}

static char *apx_out_strdup(const char *s) {
  size_t n = strlen(s);
  char *p = apx_out_xmalloc(n + 1);
  memcpy(p, s, n + 1);
  return p;
}

apx_output *apx_output_new(const char *dir) {
  apx_output *o = apx_out_xmalloc(sizeof *o);
  memset(o, 0, sizeof *o);
  if (dir && strcmp(dir, "-") != 0 && dir[0]) o->dir = apx_out_strdup(dir);
  return o;
}

/* Drops a streamed file's temporary file. */
static void apx_out_drop_stream(apx_out_file *f) {
  if (f->stream) fclose(f->stream);
  if (f->temp) unlink(f->temp);
  free(f->temp);
  f->stream = NULL;
  f->temp = NULL;
}

static apx_out_file *apx_out_slot(apx_output *o, const char *relpath) {
  /* A back end emitting the same file twice replaces the first version. */
  apx_out_file *old = apx_out_find(o, relpath);
  if (old) {
    free(old->data);
    old->data = NULL;
    old->len = 0;
    old->executable = false;
    apx_out_drop_stream(old);
    return old;
  }
  if (o->n == o->cap) {
    size_t nc = o->cap ? o->cap * 2 : 4;
    apx_out_file *nf = realloc(o->files, nc * sizeof *nf);
    if (!nf) {
      fputs("aspirec: out of memory\n", stderr);
      abort();
    }
    o->files = nf;
    o->cap = nc;
  }
  apx_out_file *f = &o->files[o->n++];
  memset(f, 0, sizeof *f);
  f->relpath = apx_out_strdup(relpath);
  if (2 * o->n > o->index_cap) { /* keep the table at most half full */
    free(o->index);
    o->index_cap = o->index_cap ? o->index_cap * 2 : 16;
    o->index = calloc(o->index_cap, sizeof *o->index);
    if (!o->index) abort();
    for (size_t i = 0; i < o->n; i++) apx_out_index_put(o, i);
  } else {
    apx_out_index_put(o, o->n - 1);
  }
  return f;
}

void apx_output_add_owned(apx_output *o, const char *relpath, char *data, size_t len) {
  apx_out_file *f = apx_out_slot(o, relpath);
  f->data = data;
  f->len = len;
}

void apx_output_add_executable(apx_output *o, const char *relpath, char *data, size_t len) {
  apx_out_file *f = apx_out_slot(o, relpath);
  f->data = data;
  f->len = len;
  f->executable = true;
}

const char *apx_output_data(const apx_output *o, size_t i, size_t *len) {
  if (i >= o->n) return NULL;
  *len = o->files[i].len;
  return o->files[i].data;
}

void apx_output_add(apx_output *o, const char *relpath, const char *data, size_t len) {
  char *copy = apx_out_xmalloc(len + 1);
  if (len) memcpy(copy, data, len);
  copy[len] = '\0';
  apx_output_add_owned(o, relpath, copy, len);
}

bool apx_output_to_stdout(const apx_output *o) { return o->dir == NULL; }

const char *apx_output_dir(const apx_output *o) { return o->dir; }

/* Relative paths only, and none that climbs out of the output directory: a
 * back end bug must not be able to write elsewhere. */
static bool apx_out_relpath_ok(const char *p) {
  if (!p[0] || p[0] == '/') return false;
  const char *s = p;
  while (*s) {
    const char *e = strchr(s, '/');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    if (n == 0 || (n == 1 && s[0] == '.') || (n == 2 && s[0] == '.' && s[1] == '.')) return false;
    if (!e) break;
    s = e + 1;
  }
  return true;
}

FILE *apx_output_scratch(apx_output *o) {
  if (!o->dir) return NULL;
  int fd = -1;
#ifdef O_TMPFILE
  fd = open(o->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
#endif
  if (fd < 0) {
    /* No O_TMPFILE here (kernel, file system): a name, removed at once. */
    apx_buf t = {0};
    apx_buf_puts(&t, o->dir);
    apx_buf_puts(&t, "/.aspirec-part.XXXXXX");
    char *path = apx_buf_take(&t, NULL);
    fd = mkostemp(path, O_CLOEXEC);
    if (fd >= 0) unlink(path);
    free(path);
  }
  if (fd < 0) return NULL;
  FILE *f = fdopen(fd, "w+b");
  if (!f) close(fd);
  return f;
}

void apx_output_writeback(FILE *stream) {
  (void)sync_file_range(fileno(stream), 0, 0, SYNC_FILE_RANGE_WRITE);
}

bool apx_output_append(FILE *stream, int part_fd, off_t *from, off_t to) {
  int out = fileno(stream);
  off_t off = *from;
  bool ok = true;
  while (ok && off < to) {
    ssize_t k = copy_file_range(part_fd, &off, out, NULL, (size_t)(to - off), 0);
    if (k > 0) continue;
    if (k < 0 && errno == EINTR) continue;
    if (k == 0) {
      errno = EIO;
      ok = false;
      break;
    }
    /* Refused between these files (another file system, an old kernel):
     * through a buffer. */
    char chunk[65536];
    while (ok && off < to) {
      size_t want = (size_t)(to - off) < sizeof chunk ? (size_t)(to - off) : sizeof chunk;
      ssize_t r = pread(part_fd, chunk, want, off);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0) {
        if (r == 0) errno = EIO;
        ok = false;
        break;
      }
      if (apx_atomic_write_all(out, chunk, (size_t)r) != 0) {
        ok = false;
        break;
      }
      off += r;
    }
  }
  *from = off;
  if (ok) apx_output_writeback(stream);
  /* The stream goes on after what was written behind its back. */
  return ok && fseeko(stream, 0, SEEK_END) == 0;
}

char *apx_output_read_existing(const apx_output *o, const char *relpath, size_t *len) {
  if (!o->dir || !apx_out_relpath_ok(relpath)) return NULL;
  apx_buf path = {0};
  apx_buf_printf(&path, "%s/%s", o->dir, relpath);
  FILE *f = fopen(path.data, "rb");
  apx_buf_free(&path);
  if (!f) return NULL;
  apx_buf b = {0};
  char chunk[8192];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) apx_buf_append(&b, chunk, n);
  bool err = ferror(f);
  fclose(f);
  if (err) {
    apx_buf_free(&b);
    return NULL;
  }
  if (!b.data) apx_buf_append(&b, "", 0);
  if (len) *len = b.len;
  return b.data; /* heap, from apx_buf: the caller frees it */
}

/* mkdir -p; an existing directory is fine. Directories it makes are
 * recorded in o (when given). */
static int apx_out_mkdirs_rec(apx_output *o, const char *path) {
  size_t n = strlen(path);
  char *p = apx_out_xmalloc(n + 1);
  memcpy(p, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (p[i] != '/' && p[i] != '\0') continue;
    char saved = p[i];
    p[i] = '\0';
    if (mkdir(p, 0777) == 0) {
      if (o) {
        char **nd = realloc(o->made_dirs, (o->nmade + 1) * sizeof *nd);
        if (!nd) abort();
        o->made_dirs = nd;
        o->made_dirs[o->nmade++] = apx_out_strdup(p);
      }
    } else if (errno != EEXIST) {
      int e = errno;
      free(p);
      errno = e;
      return -1;
    }
    p[i] = saved;
  }
  struct stat st;
  int rc = stat(path, &st);
  free(p);
  if (rc != 0) return -1;
  if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    return -1;
  }
  return 0;
}

static int apx_out_mkdirs(const char *path) { return apx_out_mkdirs_rec(NULL, path); }

static int apx_out_stdout(apx_output *o) {
  if (o->n == 0) return 0;
  const apx_out_file *f = &o->files[0];
  if (fwrite(f->data, 1, f->len, stdout) != f->len || fflush(stdout) != 0) {
    fprintf(stderr, "aspirec: error: cannot write to standard output: %s\n", strerror(errno));
    return -1;
  }
  return 0;
}

/* New files get the usual mode (0666 less umask); a `.env` holds parameter
 * values, secrets among them, so it is private. An existing file keeps its
 * mode, so a user's chmod survives a re-emit. */
static mode_t apx_out_mode(const char *final, const apx_out_file *f) {
  const char *relpath = f->relpath;
  if (f->executable) return 0755;
  struct stat st;
  if (stat(final, &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 07777;
  const char *base = strrchr(relpath, '/');
  base = base ? base + 1 : relpath;
  if (strcmp(base, ".env") == 0 || strcmp(base, "secrets.yaml") == 0) return 0600; /* secrets.yaml: --emit=k8s */
  mode_t mask = umask(0);
  umask(mask);
  return 0666 & ~mask;
}

/* Creates the temporary file beside relpath's final name (making its
 * directory when relpath has one; recorded in rec when given). Returns the
 * descriptor with *final and *temp set (heap), or -1 with msg set. */
static int apx_out_open_temp(apx_output *o, apx_output *rec, const char *relpath, char **final, char **temp,
                             apx_buf *msg) {
  apx_buf fin = {0};
  apx_buf_printf(&fin, "%s/%s", o->dir, relpath);
  const char *slash = strrchr(fin.data, '/');
  size_t dirlen = (size_t)(slash - fin.data);
  if (strchr(relpath, '/')) {
    char *d = apx_out_xmalloc(dirlen + 1);
    memcpy(d, fin.data, dirlen);
    d[dirlen] = '\0';
    /* Files come directory by directory: one mkdir -p per directory. */
    if (!rec && o->last_dir && strcmp(o->last_dir, d) == 0) {
      free(d);
    } else {
      int mk = apx_out_mkdirs_rec(rec, d);
      int e = errno;
      if (mk != 0) {
        apx_buf_printf(msg, "cannot create directory '%s': %s", d, strerror(e));
        free(d);
        apx_buf_free(&fin);
        return -1;
      }
      free(o->last_dir);
      o->last_dir = d;
    }
  }
  int fd = apx_atomic_temp(fin.data, temp);
  if (fd < 0) {
    apx_buf_printf(msg, "cannot create a temporary file in '%.*s': %s", (int)dirlen, fin.data, strerror(errno));
    apx_buf_free(&fin);
    return -1;
  }
  *final = fin.data;
  return fd;
}

static FILE *apx_out_stream(apx_output *o, const char *relpath, bool executable);

FILE *apx_output_stream(apx_output *o, const char *relpath) { return apx_out_stream(o, relpath, false); }
FILE *apx_output_stream_executable(apx_output *o, const char *relpath) { return apx_out_stream(o, relpath, true); }

static FILE *apx_out_stream(apx_output *o, const char *relpath, bool executable) {
  if (!o->dir || !apx_out_relpath_ok(relpath)) return NULL;
  apx_buf msg = {0};
  char *final = NULL, *temp = NULL;
  int fd = -1;
  if (apx_out_mkdirs_rec(o, o->dir) == 0) fd = apx_out_open_temp(o, o, relpath, &final, &temp, &msg);
  /* Any failure here is met again, and reported, by commit. */
  apx_buf_free(&msg);
  free(final);
  if (fd < 0) return NULL;
  FILE *fp = fdopen(fd, "wb");
  if (!fp) {
    close(fd);
    unlink(temp);
    free(temp);
    return NULL;
  }
  apx_out_file *f = apx_out_slot(o, relpath);
  f->stream = fp;
  f->temp = temp;
  f->executable = executable;
  return fp;
}

int apx_output_commit(apx_output *o) {
  if (!o->dir) return apx_out_stdout(o);
  char **temps = apx_out_xmalloc(sizeof(char *) * (o->n ? o->n : 1));
  char **finals = apx_out_xmalloc(sizeof(char *) * (o->n ? o->n : 1));
  size_t made = 0, renamed = 0;
  int rc = -1;
  apx_buf msg = {0};

  if (apx_out_mkdirs(o->dir) != 0) {
    apx_buf_printf(&msg, "cannot create output directory '%s': %s", o->dir, strerror(errno));
    goto out;
  }
  /* First every temporary file, fully written, then synced at once (one
   * syncfs, not an fsync per file: a chart has thousands); only then the
   * renames, so an error while writing leaves the old outputs untouched. */
  for (size_t i = 0; i < o->n; i++) {
    apx_out_file *f = &o->files[i];
    if (!apx_out_relpath_ok(f->relpath)) {
      apx_buf_printf(&msg, "refusing to write '%s': not a path inside the output directory", f->relpath);
      goto out;
    }
    int werr = 0;
    if (f->stream) {
      /* Written already: flush, sync and close it. */
      apx_buf final = {0};
      apx_buf_printf(&final, "%s/%s", o->dir, f->relpath);
      temps[made] = f->temp;
      finals[made] = final.data;
      made++;
      FILE *fp = f->stream;
      f->stream = NULL;
      f->temp = NULL;
      errno = 0;
      if (fflush(fp) != 0 || ferror(fp) || fchmod(fileno(fp), apx_out_mode(final.data, f)) != 0)
        werr = errno ? errno : EIO;
      if (fclose(fp) != 0 && !werr) werr = errno;
      if (werr) {
        apx_buf_printf(&msg, "cannot write '%s': %s", finals[made - 1], strerror(werr));
        goto out;
      }
      continue;
    }
    char *final = NULL, *temp = NULL;
    int fd = apx_out_open_temp(o, NULL, f->relpath, &final, &temp, &msg);
    if (fd < 0) goto out;
    temps[made] = temp;
    finals[made] = final;
    made++;
    if (fchmod(fd, apx_out_mode(final, f)) != 0 || apx_atomic_write_all(fd, f->data, f->len) != 0) werr = errno;
    if (close(fd) != 0 && !werr) werr = errno;
    if (werr) {
      apx_buf_printf(&msg, "cannot write '%s': %s", final, strerror(werr));
      goto out;
    }
  }
  {
    int dfd = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int serr = dfd < 0 || syncfs(dfd) != 0 ? errno : 0;
    if (dfd >= 0) close(dfd);
    if (serr) {
      apx_buf_printf(&msg, "cannot sync the files written in '%s': %s", o->dir, strerror(serr));
      goto out;
    }
  }
  for (; renamed < made; renamed++) {
    if (rename(temps[renamed], finals[renamed]) != 0) {
      apx_buf_printf(&msg, "cannot rename '%s' to '%s': %s", temps[renamed], finals[renamed], strerror(errno));
      goto out;
    }
  }
  apx_atomic_sync_dir(o->dir); /* the renames durable too */
  rc = 0;
  o->committed = true;
out:
  for (size_t i = 0; i < made; i++) {
    if (i >= renamed) unlink(temps[i]);
    free(temps[i]);
    free(finals[i]);
  }
  free(temps);
  free(finals);
  if (rc != 0) fprintf(stderr, "aspirec: error: %s\n", apx_buf_str(&msg));
  apx_buf_free(&msg);
  return rc;
}

void apx_output_free(apx_output *o) {
  if (!o) return;
  for (size_t i = 0; i < o->n; i++) {
    free(o->files[i].relpath);
    free(o->files[i].data);
    apx_out_drop_stream(&o->files[i]);
  }
  free(o->files);
  free(o->index);
  free(o->last_dir);
  /* Never committed: take away the directories made only for its files. */
  for (size_t i = o->nmade; i > 0; i--) {
    if (!o->committed) (void)rmdir(o->made_dirs[i - 1]);
    free(o->made_dirs[i - 1]);
  }
  free(o->made_dirs);
  free(o->dir);
  free(o);
}
