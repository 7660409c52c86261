/* Unit tests of the front end (frontend/lexer.l, parser.y, ast.c).
 *
 * Usage: test_parser [EXAMPLES_DIR]
 * The examples directory defaults to $APX_EXAMPLES, else the first of
 * APX_SRCDIR/../shared/examples, APX_SRCDIR/examples (APX_SRCDIR is defined
 * by the Makefile), ../shared/examples and examples that holds shop.apx.
 * Prints "ok N - …" / "not ok N - …" lines and "N passed, N failed";
 * exits 1 when anything failed. */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frontend/ast.h"
#include "frontend/manifest.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/diag.h"

static int n_test, n_pass, n_fail;

static bool ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool ok(bool cond, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  n_test++;
  printf("%s %d - ", cond ? "ok" : "not ok", n_test);
  vprintf(fmt, ap);
  putchar('\n');
  va_end(ap);
  if (cond) n_pass++; else n_fail++;
  return cond;
}

/* ---- parsing and rendering helpers ---- */

typedef struct {
  apx_arena *arena;
  apx_diag diag;
  uint32_t id;
  apx_ast_file *file;
} parsed;

static void parse_n(parsed *p, const char *src, size_t len) {
  p->arena = apx_arena_new();
  apx_diag_init(&p->diag, p->arena);
  p->id = apx_diag_add_source(&p->diag, "test.apx", src, len);
  p->file = apx_parse_file(p->arena, &p->diag, p->id);
}

static void parse(parsed *p, const char *src) { parse_n(p, src, strlen(src)); }

static void done(parsed *p) { apx_arena_free(p->arena); }

static char *slurp_stream(FILE *f) {
  long n = ftell(f);
  rewind(f);
  char *s = malloc((size_t)n + 1);
  size_t got = fread(s, 1, (size_t)n, f);
  s[got] = '\0';
  fclose(f);
  return s;
}

/* The AST dump (malloc'd). */
static char *dump_of(parsed *p) {
  FILE *f = tmpfile();
  if (!f) {
    perror("tmpfile");
    exit(2);
  }
  apx_ast_dump(p->file, f);
  return slurp_stream(f);
}

/* One line per diagnostic, in report order: "L:C-L:C level: message [hint]". */
static char *diags_of(parsed *p) {
  FILE *f = tmpfile();
  if (!f) {
    perror("tmpfile");
    exit(2);
  }
  static const char *lv[] = {"error", "warning", "note"};
  for (size_t i = 0; i < p->diag.n; i++) {
    const apx_diagnostic *d = &p->diag.items[i];
    unsigned l1, c1, l2, c2;
    apx_diag_line_col(&p->diag, d->loc.file, d->loc.begin, &l1, &c1);
    apx_diag_line_col(&p->diag, d->loc.file, d->loc.end, &l2, &c2);
    fprintf(f, "%u:%u-%u:%u %s: %s", l1, c1, l2, c2, lv[d->level], d->message);
    if (d->hint) fprintf(f, " [hint: %s]", d->hint);
    fputc('\n', f);
  }
  return slurp_stream(f);
}

/* Parses `src` and compares its dump with `want`; no diagnostic allowed. */
static bool dump_matches(const char *src, const char *want, bool verbose) {
  parsed p;
  parse(&p, src);
  char *got = dump_of(&p);
  char *dg = diags_of(&p);
  bool good = strcmp(got, want) == 0 && p.diag.n == 0;
  if (!good && verbose) {
    printf("# source:\n%s\n# expected:\n%s# got:\n%s# diagnostics:\n%s", src, want, got, dg);
  }
  free(got);
  free(dg);
  done(&p);
  return good;
}

#define T_DUMP(desc, src, want) ok(dump_matches((src), (want), true), "%s", (desc))

/* Parses `src` and checks the number of errors and that each expected
 * substring (typically "L:C-…: error: message") occurs in the diagnostics. */
static bool errors_match(const char *src, size_t len, int nerrors, const char *const *want, bool verbose) {
  parsed p;
  parse_n(&p, src, len);
  char *dg = diags_of(&p);
  bool good = (int)p.diag.errors == nerrors;
  for (size_t i = 0; want && want[i]; i++)
    if (!strstr(dg, want[i])) {
      good = false;
      if (verbose) printf("# missing diagnostic: %s\n", want[i]);
    }
  if (!good && verbose) {
    if (len < 400) printf("# source:\n%.*s\n", (int)len, src);
    printf("# expected %d errors, got %zu:\n%s", nerrors, p.diag.errors, dg);
  }
  free(dg);
  done(&p);
  return good;
}

#define T_ERRS(desc, src, n, ...)                                              \
  do {                                                                         \
    static const char *const want_[] = {__VA_ARGS__, NULL};                    \
    ok(errors_match((src), strlen(src), (n), want_, true), "%s", (desc));      \
  } while (0)

/* ---- tests ---- */

static void test_harness_can_fail(void) {
  ok(!dump_matches("a b { c = 1 }", "block a b {\n  attr c = 2\n}\n", false),
     "harness: a wrong expected dump is detected");
  static const char *const wrong[] = {"1:1-1:2 error: no such message", NULL};
  ok(!errors_match("a b { c = }", 11, 1, wrong, false),
     "harness: a wrong expected diagnostic is detected");
  ok(!errors_match("a b { c = }", 11, 2, NULL, false), "harness: a wrong error count is detected");
}

static void test_top_level(void) {
  T_DUMP("empty file", "", "");
  T_DUMP("only comments and separators", "// x\n/* y\n z */ ; , \n", "");
  T_DUMP("import", "import \"postgres\"\nimport \"./lib/web.apx\"",
         "import \"postgres\"\nimport \"./lib/web.apx\"\n");
  T_DUMP("param without body", "param region", "param region\n");
  T_DUMP("param with empty body", "param region {}", "param region {}\n");
  T_DUMP("param with body",
         "param pg_password { secret = true  generate = { length = 22 } }",
         "param pg_password {\n  attr secret = true\n  attr generate = {length = 22}\n}\n");
  T_DUMP("resource", "container web { image = \"nginx\" }",
         "block container web {\n  attr image = \"nginx\"\n}\n");
  T_DUMP("empty resource", "redis cache {}", "block redis cache {}\n");
  T_DUMP("component with inputs, params and child kind",
         "component redis extends container {\n"
         "  input version = \"7.4\"\n"
         "  input password\n"
         "  param secret { secret = true }\n"
         "  param plain\n"
         "  image = \"docker.io/library/redis:${version}\"\n"
         "  component database extends external { name = self }\n"
         "}\n",
         "component redis extends container {\n"
         "  input version = \"7.4\"\n"
         "  input password\n"
         "  param secret {\n    attr secret = true\n  }\n"
         "  param plain\n"
         "  attr image = \"docker.io/library/redis:${version}\"\n"
         "  component database extends external {\n    attr name = self\n  }\n"
         "}\n");
  T_DUMP("separators between items", "param a, param b; redis c {x = 1, y = 2; z = 3};",
         "param a\nparam b\nblock redis c {\n  attr x = 1\n  attr y = 2\n  attr z = 3\n}\n");
}

static void test_bodies(void) {
  T_DUMP("blocks with and without labels",
         "container c {\n"
         "  endpoint http { port = 8080 target_port = 80 external = true }\n"
         "  env { LOG_LEVEL = \"info\"  CACHE = cache.connection_string }\n"
         "  labels { \"example.com/owner\" = \"web\" }\n"
         "  endpoint \"my-ep\" {}\n"
         "  health { http = \"/healthz\" interval = 2s }\n"
         "}",
         "block container c {\n"
         "  block endpoint http {\n"
         "    attr port = 8080\n    attr target_port = 80\n    attr external = true\n  }\n"
         "  block env {\n"
         "    attr LOG_LEVEL = \"info\"\n    attr CACHE = cache.connection_string\n  }\n"
         "  block labels {\n    attr \"example.com/owner\" = \"web\"\n  }\n"
         "  block endpoint my-ep {}\n"
         "  block health {\n    attr http = \"/healthz\"\n    attr interval = 2000ms\n  }\n"
         "}\n");
  T_DUMP("block vs map after `=`",
         "p x { env { A = \"1\" } generate = { length = 22 } m = {} n = {a = 1, \"b c\" = [] ; d = {e = null}} }",
         "block p x {\n"
         "  block env {\n    attr A = \"1\"\n  }\n"
         "  attr generate = {length = 22}\n"
         "  attr m = {}\n"
         "  attr n = {a = 1, \"b c\" = [], d = {e = null}}\n"
         "}\n");
  T_DUMP("all values",
         "v x { a = \"s\" b = 42 c = 0 d = true e = false f = null g = [] h = [1] i = [1, 2,]\n"
         "  j = [\n    \"x\",\n    \"y\"\n  ]\n"
         "  k = a.b.c l = env(\"HOME\", \"/root\") m = f() n = join(\",\", [a, b]) o = self }",
         "block v x {\n"
         "  attr a = \"s\"\n  attr b = 42\n  attr c = 0\n  attr d = true\n  attr e = false\n"
         "  attr f = null\n  attr g = []\n  attr h = [1]\n  attr i = [1, 2]\n"
         "  attr j = [\"x\", \"y\"]\n  attr k = a.b.c\n  attr l = env(\"HOME\", \"/root\")\n"
         "  attr m = f()\n  attr n = join(\",\", [a, b])\n  attr o = self\n"
         "}\n");
  T_DUMP("durations", "d x { a = 250ms b = 5s c = 2m d = 1h e = 0s f = [1s, 10ms] }",
         "block d x {\n  attr a = 250ms\n  attr b = 5000ms\n  attr c = 120000ms\n"
         "  attr d = 3600000ms\n  attr e = 0ms\n  attr f = [1000ms, 10ms]\n}\n");
  T_DUMP("largest integer", "i x { a = 9223372036854775807 }",
         "block i x {\n  attr a = 9223372036854775807\n}\n");
  T_DUMP("identifiers with - and _, keywords as prefixes",
         "db-pass _x { import-path = 1 params = 2 input_x = nulls }",
         "block db-pass _x {\n  attr import-path = 1\n  attr params = 2\n  attr input_x = nulls\n}\n");
  T_DUMP("input and param in any body (context is checked by lowering)",
         "container c { input x param y { default = 1 } }",
         "block container c {\n  input x\n  param y {\n    attr default = 1\n  }\n}\n");
}

static void test_strings(void) {
  T_DUMP("escapes", "s x { a = \"q\\\"b\\\\n\\n\\t\\r\\$x\" }",
         "block s x {\n  attr a = \"q\\\"b\\\\n\\n\\t\\r$x\"\n}\n");
  T_DUMP("dollar rules", "s x { a = \"$HOME $ $${x} \\${y} $$ a$\" }",
         "block s x {\n  attr a = \"$HOME $ \\${x} \\${y} $$ a$\"\n}\n");
  T_DUMP("empty string and UTF-8", "s x { a = \"\" b = \"héllo → ☃\" }",
         "block s x {\n  attr a = \"\"\n  attr b = \"héllo → ☃\"\n}\n");
  T_DUMP("interpolation",
         "s x { a = \"Host=${self.endpoints.tcp.host};Port=${self.endpoints.tcp.port}\" b = \"${v}\" }",
         "block s x {\n"
         "  attr a = \"Host=${self.endpoints.tcp.host};Port=${self.endpoints.tcp.port}\"\n"
         "  attr b = \"${v}\"\n}\n");
  T_DUMP("nested interpolation with a call, strings and a list",
         "s x { a = \"${join(\",\", [\"a\", \"b\"])}\" }",
         "block s x {\n  attr a = \"${join(\",\", [\"a\", \"b\"])}\"\n}\n");
  T_DUMP("interpolated map keeps its braces and strings",
         "s x { a = \"<${ {k = \"}\", j = {}} }>\" }",
         "block s x {\n  attr a = \"<${{k = \"}\", j = {}}}>\"\n}\n");
  T_DUMP("string in string in string", "s x { a = \"1${f(\"2${g(\"3\")}\")}4\" }",
         "block s x {\n  attr a = \"1${f(\"2${g(\"3\")}\")}4\"\n}\n");
  T_DUMP("a heredoc's interpolation may span lines",
         "s x { a = <<EOT\n${join(\",\",\n   [a, b])}\nEOT\n }",
         "block s x {\n  attr a = <<\"${join(\",\", [a, b])}\\n\"\n}\n");
  T_DUMP("comment markers inside strings are text", "s x { a = \"// not /* a */ comment\" }",
         "block s x {\n  attr a = \"// not /* a */ comment\"\n}\n");
  T_DUMP("byte-order mark at the start is skipped", "\xEF\xBB\xBFs x {}", "block s x {}\n");

  /* Parts: one text part between interpolations, decoded. */
  parsed p;
  parse(&p, "s x { a = \"a\\tb${c}d\" }");
  const apx_ast_expr *e = p.file->items->body->value;
  const apx_ast_strpart *t1 = e->u.str.parts, *ip = t1 ? t1->next : NULL, *t2 = ip ? ip->next : NULL;
  ok(e->kind == APX_EX_STRING && !e->u.str.heredoc && t1 && t1->text && t1->len == 3 &&
         memcmp(t1->text, "a\tb", 3) == 0 && ip && !ip->text && ip->expr &&
         ip->expr->kind == APX_EX_REF && t2 && t2->len == 1 && t2->text[0] == 'd' && !t2->next,
     "string parts: text, interpolation, text");
  done(&p);
}

static void test_heredocs(void) {
  T_DUMP("heredoc keeps lines, interpolates, backslashes literal",
         "h x {\n  s = <<EOT\n  hello ${name}\n    \\n $${x} $y\nEOT\n  t = 1\n}\n",
         "block h x {\n  attr s = <<\"  hello ${name}\\n    \\\\n \\${x} $y\\n\"\n  attr t = 1\n}\n");
  T_DUMP("<<- strips the common indentation (blank lines do not count)",
         "h x {\n  s = <<-EOT\n      first\n        second ${x}\n\n      third\n    EOT\n}\n",
         "block h x {\n  attr s = <<\"first\\n  second ${x}\\n\\nthird\\n\"\n}\n");
  T_DUMP("<<- with a line starting with an interpolation strips nothing",
         "h x { s = <<-EOT\n  a\n${b}\n  EOT\n}",
         "block h x {\n  attr s = <<\"  a\\n${b}\\n\"\n}\n");
  T_DUMP("heredoc in a list, followed by more syntax on the next line",
         "h x { setup = [<<-EOT\n    set -eu\n    echo \"in $PWD\"\n    EOT\n, \"b\"] }",
         "block h x {\n  attr setup = [<<\"set -eu\\necho \\\"in $PWD\\\"\\n\", \"b\"]\n}\n");
  T_DUMP("empty heredoc, terminator-like lines, comment after the marker",
         "h x { a = <<EOT // why\nEOT\n b = <<END\nEND2\n END x\nEND\n }",
         "block h x {\n  attr a = <<\"\"\n  attr b = <<\"END2\\n END x\\n\"\n}\n");
  T_DUMP("heredoc with CRLF lines", "h x { a = <<EOT\r\nl1\r\nEOT\r\n}\r\n",
         "block h x {\n  attr a = <<\"l1\\r\\n\"\n}\n");
}

static void test_heredoc_ends_file(void) {
  /* The block is not closed: only that error. */
  T_ERRS("heredoc ending the file leaves the block unclosed", "h x { a = <<EOT\nl1\nEOT", 1,
         "3:4-3:4 error: unexpected end of file");
}

static void test_locations(void) {
  parsed p;
  const char *src = "container web {\n  image = \"nginx\"\n  endpoint http { port = 80 }\n}\n"
                    "component r extends container { input v = a.bb.c }\n";
  parse(&p, src);
  const apx_ast_item *web = p.file->items;
  const apx_ast_item *img = web->body, *ep = img->next;
  const apx_ast_item *comp = web->next, *in = comp->body;
#define SPAN(l, b, e) ((l).file == p.id && (l).begin == (b) && (l).end == (e))
  ok(SPAN(web->loc, 0, 65), "loc: a resource spans the whole item");
  ok(SPAN(web->name_loc, 0, 9) && SPAN(web->label_loc, 10, 13), "loc: kind and name tokens");
  ok(SPAN(img->loc, 18, 33) && SPAN(img->name_loc, 18, 23), "loc: attribute and its name");
  ok(SPAN(img->value->loc, 26, 33), "loc: a string includes its quotes");
  ok(SPAN(ep->loc, 36, 63) && SPAN(ep->label_loc, 45, 49), "loc: labelled block");
  ok(SPAN(comp->name_loc, 76, 77) && SPAN(comp->extends_loc, 86, 95), "loc: component name and base");
  const apx_ast_name *s1 = in->value->u.path, *s2 = s1->next, *s3 = s2->next;
  ok(SPAN(in->loc, 98, 114) && SPAN(in->name_loc, 104, 105), "loc: input");
  ok(SPAN(in->value->loc, 108, 114) && SPAN(s1->loc, 108, 109) && SPAN(s2->loc, 110, 112) &&
         SPAN(s3->loc, 113, 114),
     "loc: a reference and each of its segments");
  done(&p);

  parse(&p, "h x { a = <<EOT\nl\nEOT\n b = [1, f(2)] }");
  const apx_ast_item *a = p.file->items->body, *b = a->next;
  ok(SPAN(a->value->loc, 10, 21), "loc: a heredoc spans from << to its terminator");
  ok(SPAN(b->value->loc, 27, 36) && SPAN(b->value->u.items->next->loc, 31, 35) &&
         SPAN(b->value->u.items->next->u.call.name_loc, 31, 32),
     "loc: list, call and call name");
  done(&p);
#undef SPAN
}

static void test_lexer_errors(void) {
  T_ERRS("unterminated string is located at its opening quote, parsing goes on",
         "s x {\n  a = \"abc\n  b = 1\n}\n", 1,
         "2:7-2:8 error: unterminated string");
  T_ERRS("unterminated string at the end of the file", "s x { a = \"abc", 1,
         "1:11-1:12 error: unterminated string");
  T_ERRS("unterminated string inside an interpolation: the `${` is reported",
         "s x { a = \"${version\"\n b = 1 }", 1, "1:12-1:14 error: unterminated interpolation");
  T_ERRS("... and the string is closed by that quote", "s x { a = \"${version\" b = 1 }", 1,
         "1:12-1:14 error: unterminated interpolation");
  T_ERRS("unterminated string inside a heredoc's interpolation",
         "s x { a = <<EOT\n${ f(\"abc) }\nEOT\n b = 1 }", 2, "2:6-2:7 error: unterminated string",
         "2:1-2:3 error: unterminated interpolation");
  T_ERRS("a string's interpolation ends on its line", "s x { a = \"${ f(x)\n b = 1 }", 1,
         "1:12-1:14 error: unterminated interpolation");
  T_ERRS("... also with a comment", "s x { a = \"${ f(x) /* a\n b */\n b = 1 }", 1,
         "1:12-1:14 error: unterminated interpolation");
  T_ERRS("... also in a nested string", "s x { a = \"${ f(\"${ g(\n b = 1 }", 1,
         "1:18-1:20 error: unterminated interpolation");
  T_ERRS("unterminated heredoc", "s x { a = <<EOT\nabc\n", 1,
         "1:11-1:16 error: unterminated heredoc");
  T_ERRS("unterminated interpolation in a heredoc", "s x { a = <<EOT\n${ x\nEOT\n b = 1 }", 1,
         "2:1-2:3 error: unterminated interpolation");
  T_ERRS("text after a heredoc marker", "s x { a = <<EOT junk\nabc\nEOT\n}", 1,
         "1:17-1:21 error: unexpected text after the heredoc marker");
  T_ERRS("unterminated comment", "s x { a = 1 }\n/* never closed\n", 1,
         "2:1-2:3 error: unterminated comment");
  T_ERRS("unterminated comment inside a block", "s x { a = 1 /* never closed }\n", 1,
         "1:13-1:15 error: unterminated comment");
  T_ERRS("bad escape", "s x { a = \"a\\qb\" b = \"\\0\" }", 2,
         "1:13-1:15 error: unknown escape sequence '\\q'", "1:23-1:25 error: unknown escape sequence '\\0'");
  T_ERRS("stray characters, one error each", "s x { @ a = 1 é b = 'x' }", 4,
         "1:7-1:8 error: unexpected character '@'", "1:15-1:17 error: unexpected character 'é'",
         "1:22-1:23 error: unexpected character '''", "[hint: strings are written in double quotes");
  T_ERRS("integer overflow", "s x { a = 9223372036854775808 }", 1,
         "1:11-1:30 error: integer too large");
  T_ERRS("bad duration unit", "s x { a = 5x b = 10min c = 5s }", 2,
         "1:12-1:13 error: bad duration unit 'x'", "1:20-1:23 error: bad duration unit 'min'");
  T_ERRS("duration overflow", "s x { a = 9223372036854775807h }", 1, "error: duration too large");
  T_ERRS("decimal number", "s x { a = 1.5 }", 1, "1:11-1:14 error: decimal numbers are not supported");
  T_ERRS("stray << without a name (read as an empty string)", "s x { a = << }", 1,
         "1:11-1:13 error: a heredoc needs a name after `<<`");
  /* The scanner never backs up: "<<-", "1." and "$$" are rules of their
   * own that give back what follows the longest match. */
  T_ERRS("<<- without a name: the same error, then the `-`", "s x { a = <<- }", 2,
         "1:11-1:13 error: a heredoc needs a name after `<<`", "1:13-1:14 error: unexpected character '-'");
  T_ERRS("an integer before a `.`: the `.` is a token of its own", "s x { a = 12.b }", 1,
         "1:13-1:14 error: unexpected \".\"");
  T_DUMP("$$ before other text in a heredoc", "s x { a = <<EOT\n$$y $$$${z}\nEOT\n}",
         "block s x {\n  attr a = <<\"$$y $$\\${z}\\n\"\n}\n");
  static const char nul[] = "s x { a = \"a\0b\" }";
  static const char *const want_nul[] = {"1:13-1:14 error: unexpected byte 0x00", NULL};
  ok(errors_match(nul, sizeof nul - 1, 1, want_nul, true), "NUL byte in a string");
  T_ERRS("byte-order mark in the middle", "s x {}\n\xEF\xBB\xBF", 1,
         "2:1-2:4 error: unexpected byte-order mark");
  T_ERRS("interpolation in an import path, a label and a quoted key",
         "import \"a${b}\"\ns x { e \"l${m}\" {} \"k${n}\" = 1 }", 3,
         "1:12-1:13 error: an import path cannot contain an interpolation",
         "error: a label cannot contain an interpolation",
         "error: a quoted key cannot contain an interpolation");
}

static void test_syntax_errors(void) {
  T_ERRS("two errors in one line, both reported",
         "container a { image = }  container b { image = \"x\" ] }", 2,
         "1:23-1:24 error: unexpected \"}\", expecting a value [hint: an attribute is written `name = value`]",
         "1:52-1:53 error: unexpected \"]\", expecting an attribute, a block or \"}\"");
  T_ERRS("errors on several lines, all reported",
         "container a { image = }\n"
         "container b { image = \"x:1\" ] }\n"
         "container c { args = [\"a\" \"b\"] }\n"
         "container d { image = \"unterminated }\n",
         4, "1:23-1:24 error: unexpected \"}\"", "2:29-2:30 error: unexpected \"]\"",
         "3:27-3:28 error: unexpected string, expecting \"]\" or \",\" [hint: list elements are separated by commas",
         "4:23-4:24 error: unterminated string");
  T_ERRS("what follows an error is still parsed (and its errors reported)",
         "a b { c = [1 2] }\na b { c = f(1 2) }\na b { d = = }\n", 3,
         "1:14-1:15 error: unexpected integer '2', expecting \"]\" or \",\"",
         "2:15-2:16 error: unexpected integer '2', expecting \")\" or \",\"",
         "3:11-3:12 error: unexpected \"=\", expecting a value");
  T_ERRS("missing `}` at end of file, with a note on the `{`", "a b {\n c = 1\n", 1,
         "3:1-3:1 error: unexpected end of file, expecting an attribute, a block or \"}\"",
         "1:5-1:6 note: the unclosed `{` is here");
  T_ERRS("stray `}` at top level", "a b {}\n}\n", 1,
         "2:1-2:2 error: unexpected \"}\", expecting a resource, param, component or import");
  T_ERRS("top-level attribute", "x = 1\n", 1,
         "1:1-1:6 error: expected a resource, param, component or import");
  T_ERRS("resource without a name", "container { image = \"x\" }", 1,
         "1:1-1:10 error: a resource needs a name");
  T_ERRS("resource named by a string", "container \"web\" {}", 1,
         "1:11-1:16 error: a resource name is an identifier, not a string");
  T_ERRS("input at top level", "input x = 1", 1, "1:1-1:12 error: `input` is only allowed inside a component");
  T_ERRS("import inside a body", "a b { import \"x\" }", 1,
         "1:7-1:17 error: `import` is only allowed at the top level");
  T_ERRS("missing `=`", "a b { image \"x\" }", 1,
         "1:17-1:18 error: unexpected \"}\", expecting \"{\" [hint: a block is written");
  T_ERRS("block in a map", "a b { m = { c { } } }", 1, "1:15-1:16 error: unexpected \"{\", expecting \"=\"");
  T_ERRS("list without commas is an error", "a b { l = [\n \"x\"\n \"y\"\n] }", 1,
         "3:2-3:3 error: unexpected string, expecting \"]\" or \",\"");
  T_ERRS("error inside an interpolation is recovered inside the string",
         "a b { s = \"${ ] }\" t = [1 1] }", 2, "1:15-1:16 error: unexpected \"]\", expecting a value",
         "1:27-1:28 error: unexpected integer '1'");
  T_ERRS("keyword where a name is expected", "param import", 1,
         "1:7-1:13 error: unexpected \"import\", expecting identifier");
  T_ERRS("component without extends", "component r { }", 1,
         "1:13-1:14 error: unexpected \"{\", expecting \"extends\"");

  /* What could be parsed is kept. */
  parsed p;
  parse(&p, "a b { c = }\nx y { z = 1 }\n");
  char *d = dump_of(&p);
  ok(strcmp(d, "block a b {}\nblock x y {\n  attr z = 1\n}\n") == 0, "the tree keeps the items around errors");
  free(d);
  done(&p);
}

static void test_limits(void) {
  size_t n = 100000;
  char *s = malloc(n + 32);
  strcpy(s, "a b { c = ");
  size_t k = strlen(s);
  memset(s + k, '[', n);
  s[k + n] = '\0';
  static const char *const deep[] = {"error: nesting too deep", NULL};
  ok(errors_match(s, strlen(s), 1, deep, true), "100000 `[` give one error, not a crash");
  for (size_t i = 0; i + 2 <= n; i += 2) memcpy(s + k - 4 + i, "x{", 2);
  s[k - 4 + n] = '\0';
  ok(strncmp(s, "a b { x{x{", 10) == 0 && errors_match(s, strlen(s), 1, deep, true),
     "50000 nested blocks give one error");
  memset(s + k, ' ', n);
  memcpy(s, "a b { c = ", k);
  for (size_t i = 0; i + 3 <= n; i += 3) memcpy(s + k + i, "\"${", 3);
  s[k + n - n % 3] = '\0';
  ok(errors_match(s, strlen(s), 1, deep, true), "33333 nested interpolations give one error");
  for (size_t i = 0; i + 5 <= n; i += 5) memcpy(s + k + i, "[{a= ", 5);
  s[k + n - n % 5] = '\0';
  ok(errors_match(s, strlen(s), 1, deep, true), "lists in maps in lists…, 40000 deep, give one error");
  free(s);

  /* Just under the limit is fine. */
  size_t m = 990;
  s = malloc(2 * m + 32);
  strcpy(s, "a b { c = ");
  k = strlen(s);
  memset(s + k, '[', m);
  memset(s + k + m, ']', m);
  strcpy(s + k + 2 * m, " }");
  ok(errors_match(s, strlen(s), 0, NULL, true), "990 nested lists parse");
  parsed p;
  parse(&p, s);
  char *d = dump_of(&p);
  ok(strstr(d, "...") != NULL, "apx_ast_dump caps its depth");
  free(d);
  done(&p);
  free(s);

  /* Many errors: all reported, none lost. */
  size_t reps = 2000;
  s = malloc(reps * 4 + 1);
  for (size_t i = 0; i < reps; i++) memcpy(s + 4 * i, "@ \n ", 4);
  s[reps * 4] = '\0';
  ok(errors_match(s, strlen(s), (int)reps, NULL, true), "2000 stray characters give 2000 errors");
  free(s);
}

static char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  char *s = malloc((size_t)n + 1);
  *len = fread(s, 1, (size_t)n, f);
  s[*len] = '\0';
  fclose(f);
  return s;
}

static void test_examples(const char *dir) {
  static const char *const names[] = {"bad-cycle.apx", "bad-names.apx", "jobs.apx", "params.apx",
                                      "shop.apx"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, names[i]);
    size_t len = 0;
    char *src = read_file(path, &len);
    if (!ok(src != NULL, "example %s is readable", path)) continue;
    parsed p;
    parse_n(&p, src, len);
    char *dg = diags_of(&p);
    ok(p.diag.n == 0 && p.file->items != NULL, "example %s parses without errors%s%s", names[i],
       p.diag.n ? ": " : "", p.diag.n ? dg : "");
    free(dg);
    done(&p);
    free(src);
  }

  /* shop.apx in detail. */
  char path[4096];
  snprintf(path, sizeof path, "%s/shop.apx", dir);
  size_t len = 0;
  char *src = read_file(path, &len);
  if (!src) return;
  parsed p;
  parse_n(&p, src, len);
  int imports = 0, params = 0, blocks = 0;
  for (const apx_ast_item *it = p.file->items; it; it = it->next) {
    imports += it->kind == APX_ITEM_IMPORT;
    params += it->kind == APX_ITEM_PARAM;
    blocks += it->kind == APX_ITEM_BLOCK;
  }
  ok(imports == 2 && params == 1 && blocks == 4, "shop.apx: 2 imports, 1 param, 4 resources");
  done(&p);
  free(src);
}

static bool has_examples(const char *dir) {
  char path[4096];
  snprintf(path, sizeof path, "%s/shop.apx", dir);
  FILE *f = fopen(path, "rb");
  if (f) fclose(f);
  return f != NULL;
}

/* apx_parse_file_each: every top-level item handed on in order, the same
 * tree and diagnostics as a whole-file parse, and only one item's tree in
 * the node arena at a time. */
typedef struct {
  FILE *dump;
  size_t items;
} each_state;

static void each_item(void *ud, const apx_ast_item *it) {
  each_state *st = ud;
  apx_ast_file one = {0, (apx_ast_item *)it};
  apx_ast_dump(&one, st->dump);
  st->items++;
}

static void test_parse_each(void) {
  apx_buf src = {0};
  enum { N = 3000 };
  apx_buf_puts(&src, "import \"x\"\nparam p { default = \"d\" }\n");
  for (int i = 0; i < N; i++) {
    apx_buf_printf(&src, "container c%d { image = \"img:${p}\"  env { A = \"a\"  B = [1, 2] }  endpoint http { port = %d } }\n",
                   i, 1000 + i);
    if (i == N / 2) apx_buf_puts(&src, "container broken { image = }\n");
  }
  parsed whole;
  parse_n(&whole, src.data, src.len);
  char *want = dump_of(&whole), *want_dg = diags_of(&whole);

  parsed p;
  p.arena = apx_arena_new();
  apx_diag_init(&p.diag, p.arena);
  p.id = apx_diag_add_source(&p.diag, "test.apx", src.data, src.len);
  apx_arena *nodes = apx_arena_new();
  each_state st = {tmpfile(), 0};
  if (!st.dump) exit(2);
  p.file = apx_parse_file_each(p.arena, nodes, &p.diag, p.id, each_item, &st);
  char *got = slurp_stream(st.dump);
  char *got_dg = diags_of(&p);
  /* import, param, the N containers and the broken one (kept, its error recovered inside). */
  ok(st.items == N + 3, "parse_each: every top-level item is handed on (%zu of %d)", st.items, N + 3);
  ok(strcmp(got, want) == 0, "parse_each: the items are the whole-file parse's, in order");
  ok(strcmp(got_dg, want_dg) == 0 && whole.diag.errors == 1, "parse_each: the same diagnostics (one syntax error)");
  ok(p.file && !p.file->items, "parse_each: the returned file holds no items");
  ok(apx_arena_peak(nodes) <= 128 * 1024 && apx_arena_bytes(whole.arena) > 1024 * 1024,
     "parse_each: the node arena holds one item's tree (%zu KiB at most, the whole tree %zu KiB)",
     apx_arena_peak(nodes) / 1024, apx_arena_bytes(whole.arena) / 1024);
  free(got);
  free(got_dg);
  free(want);
  free(want_dg);
  apx_arena_free(nodes);
  done(&p);
  done(&whole);
  apx_buf_free(&src);
}


/* The manifest front end's locator: a JSON pointer to the span of its value
 * in the text, with escapes in keys, arrays, and nesting deeper than any
 * recursion would survive. */
static bool locate_is(const char *text, const char *ptr, const char *want) {
  size_t b, e;
  if (!apx_json_locate(text, strlen(text), ptr, &b, &e)) return want == NULL;
  return want && e - b == strlen(want) && memcmp(text + b, want, e - b) == 0;
}

static void test_json_locate(void) {
  const char *doc = "\xEF\xBB\xBF { \"resources\": {\"a/b\": {\"env\": {\"X\": \"{b.value}\", \"t~n\": [1, {\"k\": [true]}]}},"
                    " \"q\\u0022\": null, \"api\": {\"image\": \"nginx\"}}}";
  ok(locate_is(doc, "/resources/api/image", "\"nginx\""), "locate: a nested member");
  ok(locate_is(doc, "/resources/a~1b/env/X", "\"{b.value}\""), "locate: ~1 is '/' in a key");
  ok(locate_is(doc, "/resources/a~1b/env/t~0n/1/k/0", "true"), "locate: ~0 is '~'; array indices");
  ok(locate_is(doc, "/resources/q\"", "null"), "locate: a key written with an escape");
  ok(locate_is(doc, "", NULL) == false && locate_is(doc, "/resources/nope", NULL), "locate: a missing member is false");
  ok(locate_is(doc, "/resources/a~1b/env/t~0n/2", NULL), "locate: an index past the end is false");
  ok(!locate_is(doc, "/resources/api/image", "\"nginx"), "locate: the harness sees a wrong span");
  /* 200,000 levels: the scan is iterative. */
  size_t depth = 200000;
  char *deep = malloc(2 * depth + 16);
  if (!deep) abort();
  size_t n = 0;
  deep[n++] = '{';
  memcpy(deep + n, "\"a\":", 4);
  n += 4;
  for (size_t i = 0; i < depth; i++) deep[n++] = '[';
  for (size_t i = 0; i < depth; i++) deep[n++] = ']';
  memcpy(deep + n, ",\"b\":7}", 8);
  n += 8;
  deep[n] = 0;
  size_t b, e;
  ok(apx_json_locate(deep, n, "/b", &b, &e) && e - b == 1 && deep[b] == '7', "locate: past 200,000 levels of nesting");
  free(deep);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : getenv("APX_EXAMPLES");
  if (!dir) {
    /* The shared examples, else the repository's copy of them. */
    static const char *const tries[] = {
#ifdef APX_SRCDIR
        APX_SRCDIR "/../shared/examples", APX_SRCDIR "/examples",
#endif
        "../shared/examples", "examples"};
    for (size_t i = 0; !dir && i < sizeof tries / sizeof tries[0]; i++)
      if (has_examples(tries[i])) dir = tries[i];
    if (!dir) dir = tries[0];
  }
  printf("# examples: %s\n", dir);

  test_harness_can_fail();
  test_top_level();
  test_bodies();
  test_strings();
  test_heredocs();
  test_heredoc_ends_file();
  test_locations();
  test_lexer_errors();
  test_syntax_errors();
  test_limits();
  test_parse_each();
  test_json_locate();
  test_examples(dir);

  printf("%d passed, %d failed\n", n_pass, n_fail);
  return n_fail ? 1 : 0;
}
