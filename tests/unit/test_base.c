/* Unit tests for base/: the name sanitisers, the path normaliser, the
 * KEY=VALUE reader and writer (hostile values read back unchanged), the
 * atomic write. tests/validate/dotenv.sh has docker-compose read the same
 * values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/atomic.h"
#include "base/envfile.h"
#include "base/names.h"
#include "base/path.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/diag.h"

#include "check.h"

static apx_arena *arena;

static bool name_is(const char *got, const char *want) {
  bool ok = strcmp(got, want) == 0;
  if (!ok) printf("# got '%s', want '%s'\n", got, want);
  return ok;
}

static void test_names(void) {
  CHECK(name_is(apx_name_env_var(arena, "pg-password.x"), "PG_PASSWORD_X") &&
            name_is(apx_name_env_var(arena, "a\xc3\xa9" "b"), "A__B") && name_is(apx_name_env_var(arena, ""), ""),
        "names: env var: ASCII upper-cased, every other byte _");
  CHECK(name_is(apx_name_compose_project(arena, "shop"), "shop") &&
            name_is(apx_name_compose_project(arena, "My Shop.v2"), "my-shop-v2") &&
            name_is(apx_name_compose_project(arena, "_x"), "app_x") &&
            name_is(apx_name_compose_project(arena, "-"), "app-") && name_is(apx_name_compose_project(arena, ""), "app") &&
            name_is(apx_name_compose_project(arena, NULL), "app"),
        "names: compose project: lower case [a-z0-9_-], a letter or digit first");
  char long_name[100];
  memset(long_name, 'a', 99);
  long_name[99] = '\0';
  long_name[62] = '_';
  CHECK(name_is(apx_name_dns_label(arena, "Shop__API"), "shop-api") &&
            name_is(apx_name_dns_label(arena, "--a.b--"), "a-b") && name_is(apx_name_dns_label(arena, "__"), "app") &&
            strlen(apx_name_dns_label(arena, long_name)) == 62 &&
            strlen(apx_name_dns_label(arena, long_name + 63)) == 36,
        "names: DNS label: [a-z0-9-], alphanumeric ends, at most 63 bytes");
}

static bool relpath_is(const char *base, const char *path, bool dot, const char *want) {
  apx_buf b = {0};
  apx_path_relative(base, path, dot, &b);
  bool ok = strcmp(apx_buf_str(&b), want) == 0;
  if (!ok) printf("# relative(%s, %s, %d) = %s, want %s\n", base, path, dot, apx_buf_str(&b), want);
  apx_buf_free(&b);
  return ok;
}

static bool norm_is(const char *path, const char *want) {
  apx_buf b = {0};
  apx_path_normalise(path, &b);
  bool ok = strcmp(apx_buf_str(&b), want) == 0;
  if (!ok) printf("# normalise(%s) = %s, want %s\n", path, apx_buf_str(&b), want);
  apx_buf_free(&b);
  return ok;
}

static void test_path(void) {
  CHECK(norm_is("a/./b/../c", "a/c") && norm_is("/../x", "/x") && norm_is("../x", "../x") &&
            norm_is("a/../../x", "../x") && norm_is("../../a/..", "../..") && norm_is("", ".") && norm_is("/", "/") &&
            norm_is("a/..", ".") && norm_is("//a//b/", "/a/b") && norm_is("/a/b/../..", "/"),
        "path: lexical normalisation");
  CHECK(strcmp(apx_path_join(arena, "/src/app", "./lib/../x.apx"), "/src/app/x.apx") == 0 &&
            strcmp(apx_path_join(arena, ".", "a/./b"), "a/b") == 0 &&
            strcmp(apx_path_join(arena, "/d", "/abs/./x"), "/abs/./x") == 0 && !apx_path_join(arena, "/d", NULL),
        "path: join from a directory");
  CHECK(relpath_is("/a/out", "/a/out/shop/api", true, "./shop/api") &&
            relpath_is("/a/out", "/a/src/api", true, "../src/api") && relpath_is("/a/out", "/a/out", true, ".") &&
            relpath_is("/a/out/", "/a/./out/x/../y", true, "./y") && relpath_is("/", "/etc", true, "./etc") &&
            relpath_is("/a/b/c", "/", true, "../../.."),
        "path: explicitly relative paths from a base directory");
  CHECK(relpath_is("/a/out", "/a/out/shop/api", false, "shop/api") &&
            relpath_is("/a/out", "/a/src//api/", false, "../src/api") && relpath_is("/a/out", "/a/out/.", false, ".") &&
            relpath_is("/", "/etc", false, "etc"),
        "path: plain relative paths");
  char *cwd = getcwd(NULL, 0);
  apx_buf want = {0};
  apx_buf_printf(&want, "%s/sub", cwd);
  CHECK(relpath_is(".", want.data, true, "./sub") && relpath_is("out", "data", true, "../data"),
        "path: relative inputs are taken from the current directory");
  apx_buf_free(&want);
  free(cwd);
}

/* Values no naive KEY=VALUE writer survives. */
static const char *const hostile[] = {
    "",          "plain",         "two words",       " lead",          "trail ",      "  ",
    "a#b",       "a #b",          "#x",              "$HOME",          "${X}",        "$$",
    "a=b=c",     "=",             "it's",            "say \"hi\"",     "'",           "\"",
    "'\"",       "\\",            "a\\",             "\\\\",           "a\\'b",       "a\\\"b",
    "a\\nb",     "line\nbreak",   "\n",              "cr\rx",          "tab\tx",      "$'\"\\\n#= ",
    "export x",  "ünï",           "~-_.",            "a'b$c",          "\\'",         "x\\\\'\\",
};

static void test_envfile(void) {
  size_t n = sizeof hostile / sizeof *hostile;
  apx_buf text = {0};
  for (size_t i = 0; i < n; i++) {
    char key[16];
    snprintf(key, sizeof key, "K%zu", i);
    if (apx_envfile_line(&text, key, hostile[i])) printf("# refused K%zu\n", i);
  }
  apx_envfile f;
  apx_envfile_init(&f, arena);
  apx_envfile_parse(&f, apx_buf_str(&text), text.len);
  size_t same = 0;
  for (size_t i = 0; i < n; i++) {
    char key[16];
    snprintf(key, sizeof key, "K%zu", i);
    apx_envfile_var *v = apx_envfile_find(&f, key);
    if (v && strcmp(v->value, hostile[i]) == 0) same++;
    else printf("# K%zu: wrote [%s], read [%s]\n", i, hostile[i], v ? v->value : "(none)");
  }
  CHECK(same == n && f.n == n, "envfile: %zu hostile values read back unchanged", n);
  /* The file is one line per variable: no value broke a line. */
  size_t lines = 0;
  for (size_t i = 0; i < text.len; i++) lines += text.data[i] == '\n';
  CHECK(lines == n, "envfile: one line per variable (%zu lines)", lines);
  apx_envfile_free(&f);
  apx_buf_free(&text);

  apx_buf b = {0};
  CHECK(apx_envfile_line(&b, "", "x") && apx_envfile_line(&b, "A=B", "x") && apx_envfile_line(&b, "#A", "x") &&
            apx_envfile_line(&b, " A", "x") && apx_envfile_line(&b, "A\n", "x") && b.len == 0,
        "envfile: keys that would not read back are refused, nothing written");
  CHECK(!apx_envfile_line(&b, "A", "x y") && strcmp(apx_buf_str(&b), "A='x y'\n") == 0 &&
            (apx_buf_clear(&b), !apx_envfile_line(&b, "A", "it's")) && strcmp(apx_buf_str(&b), "A=\"it's\"\n") == 0 &&
            (apx_buf_clear(&b), !apx_envfile_line(&b, "A", "a/b:c@d")) && strcmp(apx_buf_str(&b), "A=a/b:c@d\n") == 0,
        "envfile: plain values unquoted, others quoted the way docker-compose reads them");
  apx_buf_free(&b);
  CHECK(apx_envfile_compose_unsafe("a\nb") && apx_envfile_compose_unsafe("a\\") && !apx_envfile_compose_unsafe("a$'\"#"),
        "envfile: values docker-compose v1 and v2 read differently are named");

  static const char user[] = "# comment\n"
                             "export A=1\n"
                             "  B = two  # trailing comment\n"
                             "C='single \\' quoted' # c\n"
                             "D=\"double \\\"q\\\" \\n\"\n"
                             "E=crlf\r\n"
                             "no equals sign\n"
                             "=novalue\n"
                             "A=later wins";
  apx_envfile u;
  apx_envfile_init(&u, arena);
  apx_envfile_parse(&u, user, sizeof user - 1);
  apx_envfile_var *a = apx_envfile_find(&u, "A"), *bb = apx_envfile_find(&u, "B"), *c = apx_envfile_find(&u, "C"),
                  *d = apx_envfile_find(&u, "D"), *e = apx_envfile_find(&u, "E");
  CHECK(u.n == 5 && a && strcmp(a->value, "later wins") == 0 && bb && strcmp(bb->value, "two") == 0 && c &&
            strcmp(c->value, "single ' quoted") == 0 && d && strcmp(d->value, "double \"q\" \n") == 0 && e &&
            strcmp(e->value, "crlf") == 0 && u.vars[0].key == a->key,
        "envfile: reads what users write (export, blanks, comments, quotes, CRLF, a later line wins in place)");
  apx_envfile_set(&u, "F", "new");
  apx_envfile_set(&u, "B", "2");
  CHECK(u.n == 6 && strcmp(apx_envfile_find(&u, "B")->value, "2") == 0 && strcmp(u.vars[5].key, "F") == 0,
        "envfile: set replaces in place or appends");
  apx_envfile_free(&u);
}

static void test_atomic(void) {
  char dir[] = "/tmp/apx-base-XXXXXX";
  if (!mkdtemp(dir)) {
    CHECK(0, "atomic: mkdtemp");
    return;
  }
  apx_buf path = {0};
  apx_buf_printf(&path, "%s/f.env", dir);
  int rc1 = apx_atomic_write(path.data, "one\n", 4, 0600);
  int rc2 = apx_atomic_write(path.data, "two!\n", 5, 0640);
  struct stat st;
  char got[16] = {0};
  FILE *f = fopen(path.data, "r");
  size_t n = f ? fread(got, 1, sizeof got - 1, f) : 0;
  if (f) fclose(f);
  CHECK(rc1 == 0 && rc2 == 0 && n == 5 && strcmp(got, "two!\n") == 0 && stat(path.data, &st) == 0 &&
            (st.st_mode & 0777) == 0640,
        "atomic: the file is replaced whole with the given mode");
  apx_buf none = {0};
  apx_buf_printf(&none, "%s/missing/f", dir);
  CHECK(apx_atomic_write(none.data, "x", 1, 0600) != 0, "atomic: a missing directory is an error");
  /* Nothing else in the directory: no temporary left behind. */
  apx_buf cmd = {0};
  apx_buf_printf(&cmd, "test \"$(ls -A %s)\" = f.env", dir);
  CHECK(system(cmd.data) == 0, "atomic: no temporary file left behind");
  unlink(path.data);
  rmdir(dir);
  apx_buf_free(&cmd);
  apx_buf_free(&none);
  apx_buf_free(&path);
}

/* What the program wrote reaches the terminal only as visible text: an
 * escape sequence in a quoted value or in the source line must not act. */
static void test_diag_control_bytes(void) {
  apx_diag d;
  apx_diag_init(&d, arena);
  static const char src[] = "image = \"\033[2Jx\r\"\n";
  uint32_t f = apx_diag_add_source(&d, "t.apx", src, sizeof src - 1);
  apx_diagnostic *dg = apx_error(&d, (apx_loc){f, 8, 15}, "bad image '%s'", "\033[2Jx\r");
  apx_diag_hint(&d, dg, "not \033]0;title\007");
  char *text = NULL;
  size_t len = 0;
  FILE *mf = open_memstream(&text, &len);
  apx_diag_print(&d, mf);
  fclose(mf);
  bool raw = false;
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)text[i] < 0x20 && text[i] != '\n') || text[i] == 0x7f) raw = true;
  CHECK(!raw && strstr(text, "bad image '\\x1b[2Jx\\x0d'") && strstr(text, "not \\x1b]0;title\\x07") &&
            strstr(text, "| image = \"?[2Jx?\""),
        "diag: control bytes in messages are shown as \\xHH, in the source line as '?' (one column)");
  if (raw || !strstr(text, "\\x1b[2J")) printf("# printed: %s\n", text);
  free(text);
}

static char *diag_printed(apx_diag *d) {
  char *text = NULL;
  size_t len = 0;
  FILE *mf = open_memstream(&text, &len);
  apx_diag_print(d, mf);
  fclose(mf);
  return text;
}

/* A source read from a file gives its text back after the front end; its
 * locations still print as line:col, its line is read again for the caret,
 * and left out (never wrong or out of bounds) once the file has changed. */
static void test_diag_released_source(void) {
  char path[] = "/tmp/apx-src-XXXXXX";
  int fd = mkstemp(path);
  static const char src[] = "a = 1\nimage = \"x\"\n";
  if (fd < 0 || write(fd, src, sizeof src - 1) != (ssize_t)(sizeof src - 1)) {
    CHECK(0, "diag: temporary source");
    return;
  }
  close(fd);
  apx_arena *a = apx_arena_new();
  apx_diag d;
  apx_diag_init(&d, a);
  size_t n = sizeof src - 1;
  char *big = apx_arena_alloc(a, 70000); /* more than a block: one of its own, as a large file gets */
  memcpy(big, src, n);
  uint32_t f = apx_diag_add_source_read(&d, path, big, n);
  size_t before = apx_arena_bytes(a);
  apx_diag_source_release(&d, f);
  unsigned line = 0, col = 0;
  apx_diag_line_col(&d, f, 14, &line, &col);
  CHECK(!apx_diag_source(&d, f)->text && apx_arena_bytes(a) < before && line == 2 && col == 9,
        "diag: a released source is freed and still locates (%u:%u)", line, col);
  apx_error(&d, (apx_loc){f, 14, 17}, "bad image");
  char *out = diag_printed(&d);
  CHECK(strstr(out, ":2:9: error: bad image") && strstr(out, "| image = \"x\"") && strstr(out, "^~~"),
        "diag: the line of a released source is read again for the caret");
  free(out);
  /* Changed since: same location, no line. */
  apx_diag d2;
  apx_diag_init(&d2, a);
  char *big2 = apx_arena_alloc(a, 70000);
  memcpy(big2, src, n);
  uint32_t f2 = apx_diag_add_source_read(&d2, path, big2, n);
  apx_diag_source_release(&d2, f2);
  FILE *w = fopen(path, "w");
  if (w) {
    fputs("a = 1\n", w);
    fclose(w);
  }
  apx_error(&d2, (apx_loc){f2, 14, 17}, "bad image");
  out = diag_printed(&d2);
  CHECK(strstr(out, ":2:9: error: bad image\n") && !strstr(out, "|"),
        "diag: a source that changed size prints its location without a line");
  free(out);
  unlink(path);
  apx_arena_free(a);
}

static bool all_zero(const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (p[i]) return false;
  return true;
}

/* The arena clears blocks ahead, not per allocation: whatever was written
 * before a cut, a release or a reset must not show in a later allocation. */
static void test_arena(void) {
  apx_arena *a = apx_arena_new();
  bool zero = true;
  for (int i = 0; i < 5000; i++) { /* several blocks, sizes 8..200 */
    size_t n = (size_t)(8 + (i * 37) % 193);
    unsigned char *p = apx_arena_alloc(a, n);
    zero &= all_zero(p, n);
    memset(p, 0xAA, n);
  }
  CHECK(zero, "arena: fresh allocations across blocks are zeroed");
  unsigned char *v = apx_arena_alloc(a, 64);
  memset(v, 0xBB, 64);
  unsigned char *w = apx_arena_grow(a, v, 64, 16); /* the last allocation: cut in place */
  unsigned char *next = apx_arena_alloc(a, 48);
  CHECK(w == v && w[15] == 0xBB && next == v + 16 && all_zero(next, 48),
        "arena: a cut in place keeps the start and hands back zeroed memory");
  unsigned char *g = apx_arena_grow(a, next, 48, 4000); /* in place again, past the cleared part */
  CHECK(g == next && all_zero(g, 4000), "arena: growing in place past the cleared part reads zero");
  memset(g, 0xCC, 4000);
  apx_arena_release(a, g, 4000);
  unsigned char *r = apx_arena_alloc(a, 4000);
  CHECK(r == g && all_zero(r, 4000), "arena: a released block is reused zeroed");
  memset(r, 0xDD, 4000);
  apx_arena_reset(a);
  unsigned char *after = apx_arena_alloc(a, 12000); /* from the kept (written) block */
  CHECK(all_zero(after, 12000), "arena: after a reset the kept block is zeroed again");
  char *cat = apx_arena_cat(a, "services__", "api", "__", "http", "__0", (char *)NULL);
  char *empty = apx_arena_cat(a, (char *)NULL);
  CHECK(strcmp(cat, "services__api__http__0") == 0 && strcmp(empty, "") == 0, "arena: apx_arena_cat joins (got '%s')",
        cat);
  apx_arena_free(a);

  /* Blocks before a mark go; what follows it stays usable. */
  apx_arena *o = apx_arena_new();
  for (int i = 0; i < 3000; i++) apx_arena_alloc(o, 88); /* about four blocks */
  void *large = apx_arena_alloc(o, 70000); /* more than a block: one of its own */
  const void *mark = apx_arena_mark(o);
  unsigned char *kept = apx_arena_alloc(o, 88);
  memset(kept, 0xEE, 88);
  size_t full = apx_arena_bytes(o);
  apx_arena_free_before(o, mark);
  size_t after_free = apx_arena_bytes(o);
  unsigned char *more = apx_arena_alloc(o, 88);
  CHECK(after_free + 3 * 64 * 1024 < full && kept[87] == 0xEE && all_zero(more, 88) && apx_arena_peak(o) >= full,
        "arena: apx_arena_free_before frees the older blocks (%zu -> %zu bytes)", full, after_free);
  CHECK(apx_arena_free_large(o, large) && apx_arena_bytes(o) < after_free && !apx_arena_free_large(o, more),
        "arena: apx_arena_free_large frees a block of its own, nothing else");
  apx_arena_free(o);
}

/* A large release frees its block of its own, except a block that a mark
 * can name (made in an empty arena, so once the head): freed, a block
 * malloc gave the same address would be taken for the mark. */
static void test_arena_release_large(void) {
  apx_arena *a = apx_arena_new();
  void *first = apx_arena_alloc(a, 20000); /* its own block, the head */
  const void *mark = apx_arena_mark(a);
  for (int i = 0; i < 2000; i++) apx_arena_alloc(a, 64); /* a normal block before it */
  void *later = apx_arena_alloc(a, 30000);   /* its own block, behind the head */
  size_t before = apx_arena_bytes(a);
  apx_arena_release(a, later, 30000);
  size_t after_later = apx_arena_bytes(a);
  CHECK(after_later < before, "arena: a large release frees its own block (%zu -> %zu)", before, after_later);
  apx_arena_release(a, first, 20000);
  CHECK(apx_arena_bytes(a) == after_later, "arena: the block a mark may name stays (%zu -> %zu)", after_later,
        apx_arena_bytes(a));
  apx_arena_free_before(a, mark);
  CHECK(apx_arena_bytes(a) >= 20000, "arena: the mark is still found");
  apx_arena_free(a);
}

/* A buffer that never held text hands out "", terminated: bicep's and
 * hcl's environment printed a fresh allocation's bytes for `X = ""`.
 * Freed, dirtied memory of the buffer's first size comes back first. */
static void test_buf_take_empty(void) {
  for (int round = 0; round < 4; round++) {
    char *dirt = malloc(64);
    memset(dirt, 'x', 64);
    free(dirt);
    apx_buf b = {0};
    apx_buf_clear(&b);
    size_t len = 99;
    char *s = apx_buf_take(&b, &len);
    CHECK(s && len == 0 && s[0] == '\0', "buf: an empty buffer taken is \"\" (round %d)", round);
    free(s);
  }
}

int main(void) {
  arena = apx_arena_new();
  test_arena();
  test_buf_take_empty();
  test_arena_release_large();
  test_names();
  test_path();
  test_envfile();
  test_atomic();
  test_diag_control_bytes();
  test_diag_released_source();
  apx_arena_free(arena);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
