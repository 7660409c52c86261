/* Staged output (output.h): files are kept in memory until commit, then
 * written beside their final names and renamed into place, so a reader never
 * sees half a file and a failure leaves the previous files as they were. */
#include "output.h"

#include <errno.h>
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
} apx_out_file;

struct apx_output {
  char *dir; /* NULL: stdout mode */
  apx_out_file *files;
  size_t n, cap;
};

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

void apx_output_add_owned(apx_output *o, const char *relpath, char *data, size_t len) {
  /* A back end emitting the same file twice replaces the first version. */
  for (size_t i = 0; i < o->n; i++)
    if (strcmp(o->files[i].relpath, relpath) == 0) {
      free(o->files[i].data);
      o->files[i].data = data;
      o->files[i].len = len;
      return;
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
  f->relpath = apx_out_strdup(relpath);
  f->data = data;
  f->len = len;
}

void apx_output_add(apx_output *o, const char *relpath, const char *data, size_t len) {
  char *copy = apx_out_xmalloc(len + 1);
  if (len) memcpy(copy, data, len);
  copy[len] = '\0';
  apx_output_add_owned(o, relpath, copy, len);
}

const char *apx_output_data(const apx_output *o, size_t i, size_t *len) {
  if (i >= o->n) return NULL;
  *len = o->files[i].len;
  return o->files[i].data;
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

/* mkdir -p; an existing directory is fine. */
static int apx_out_mkdirs(const char *path) {
  size_t n = strlen(path);
  char *p = apx_out_xmalloc(n + 1);
  memcpy(p, path, n + 1);
  for (size_t i = 1; i <= n; i++) {
    if (p[i] != '/' && p[i] != '\0') continue;
    char saved = p[i];
    p[i] = '\0';
    if (mkdir(p, 0777) != 0 && errno != EEXIST) {
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
static mode_t apx_out_mode(const char *final, const char *relpath) {
  struct stat st;
  if (stat(final, &st) == 0 && S_ISREG(st.st_mode)) return st.st_mode & 07777;
  const char *base = strrchr(relpath, '/');
  base = base ? base + 1 : relpath;
  if (strcmp(base, ".env") == 0 || strcmp(base, "secrets.yaml") == 0) return 0600; /* secrets.yaml: --emit=k8s */
  mode_t mask = umask(0);
  umask(mask);
  return 0666 & ~mask;
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
  /* First every temporary file, fully written and synced; only then the
   * renames, so an error while writing leaves the old outputs untouched. */
  for (size_t i = 0; i < o->n; i++) {
    const apx_out_file *f = &o->files[i];
    if (!apx_out_relpath_ok(f->relpath)) {
      apx_buf_printf(&msg, "refusing to write '%s': not a path inside the output directory", f->relpath);
      goto out;
    }
    apx_buf final = {0};
    apx_buf_printf(&final, "%s/%s", o->dir, f->relpath);
    const char *slash = strrchr(final.data, '/');
    size_t dirlen = (size_t)(slash - final.data);
    if (strchr(f->relpath, '/')) {
      char *d = apx_out_xmalloc(dirlen + 1);
      memcpy(d, final.data, dirlen);
      d[dirlen] = '\0';
      int mk = apx_out_mkdirs(d);
      int e = errno;
      if (mk != 0) apx_buf_printf(&msg, "cannot create directory '%s': %s", d, strerror(e));
      free(d);
      if (mk != 0) {
        apx_buf_free(&final);
        goto out;
      }
    }
    const char *step = NULL;
    char *tmp = apx_atomic_stage(final.data, f->data, f->len, apx_out_mode(final.data, f->relpath), &step);
    if (!tmp) {
      if (strcmp(step, "create") == 0)
        apx_buf_printf(&msg, "cannot create a temporary file in '%.*s': %s", (int)dirlen, final.data,
                       strerror(errno));
      else apx_buf_printf(&msg, "cannot write '%s': %s", final.data, strerror(errno));
      apx_buf_free(&final);
      goto out;
    }
    temps[made] = tmp;
    finals[made] = final.data;
    made++;
  }
  for (; renamed < made; renamed++) {
    if (rename(temps[renamed], finals[renamed]) != 0) {
      apx_buf_printf(&msg, "cannot rename '%s' to '%s': %s", temps[renamed], finals[renamed], strerror(errno));
      goto out;
    }
  }
  /* Make the renames durable too. */
  apx_atomic_sync_dir(o->dir);
  rc = 0;
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
  }
  free(o->files);
  free(o->dir);
  free(o);
}
