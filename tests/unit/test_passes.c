/* Unit tests of the IR and the passes: compile small programs in memory and
 * check the model and the diagnostics. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/names.h"
#include "driver/driver.h"
#include "ir/render.h"
#include "passes/passes_internal.h"
#include "passes/schema.h"

#include "check.h"


typedef struct { apx_compilation c; int rc; char *diags; } result;

static result *compile_src(const char *src, const char **params, size_t nparams) {
  result *r = calloc(1, sizeof *r);
  apx_compilation_init(&r->c);
  static const char *inc[] = {APX_SRCDIR "/stdlib"};
  r->c.search = (apx_search_path){inc, 1, inc[0]};
  r->c.opts.params = params;
  r->c.opts.nparams = nparams;
  r->rc = apx_compile_text(&r->c, "t.apx", src, strlen(src), NULL);
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  apx_diag_print(&r->c.diag, f);
  fclose(f);
  r->diags = buf;
  return r;
}

static void done(result *r) {
  apx_compilation_free(&r->c);
  free(r->diags);
  free(r);
}

static int has(const result *r, const char *needle) { return strstr(r->diags, needle) != NULL; }

static const apx_resource *res(result *r, const char *name) { return apx_ir_resource_find(r->c.module, name); }

/* Renders a value the way run mode would, with fixed ports. */
static void t_host(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *o) { (void)ud; (void)r; (void)e; apx_buf_puts(o, "localhost"); }
static void t_port(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *o) { (void)ud; (void)r; apx_buf_printf(o, "%d", e->port ? e->port : 40000); }
static bool t_param(void *ud, const apx_resource *p, apx_buf *o) { (void)ud; apx_buf_puts(o, p->param->value ? p->param->value : "?"); return false; }

static char *render(const apx_value *v) {
  apx_render_target t = {NULL, t_host, t_port, t_port, t_param, NULL, NULL, NULL};
  apx_buf b = {0};
  const char *why = NULL;
  if (!apx_render_value(&t, v, &b, &why)) {
    apx_buf_free(&b);
    return strdup(why ? why : "(failed)");
  }
  char *s = strdup(apx_buf_str(&b));
  apx_buf_free(&b);
  return s;
}

static void test_ir_basics(void) {
  apx_arena *a = apx_arena_new();
  char *big = apx_arena_alloc(a, 1 << 20);
  big[(1 << 20) - 1] = 1;
  CHECK(apx_arena_bytes(a) >= (1u << 20), "arena: large allocation is accounted");
  CHECK(strcmp(apx_name_env_var(a, "pg-password.x"), "PG_PASSWORD_X") == 0, "env name upper-cases and maps non-alnum to _");
  const char *c[] = {"db", "cache", "catalog"};
  CHECK(apx_suggest("dbb", c, 3) && strcmp(apx_suggest("dbb", c, 3), "db") == 0, "suggest: dbb -> db");
  CHECK(apx_suggest("zzzzzz", c, 3) == NULL, "suggest: nothing close gives NULL");
  CHECK(strcmp(apx_suggest("catlaog", c, 3), "catalog") == 0, "suggest: transposition counts as one edit");
  apx_arena_free(a);
}

static void test_template_builder(void) {
  result *r = compile_src("container a { image = \"x:1\" endpoint http { target_port = 80 } }", NULL, 0);
  apx_module *m = r->c.module;
  apx_tbuilder tb;
  apx_tb_init(&tb, m, APX_NOLOC);
  apx_tb_text(&tb, "a", 1);
  apx_tb_text(&tb, "b", 1);
  apx_value *v = apx_tb_finish(&tb);
  CHECK(v->kind == APX_V_STRING && strcmp(v->u.str.s, "ab") == 0, "template: texts only become a plain string");
  apx_tb_init(&tb, m, APX_NOLOC);
  apx_tb_text(&tb, "u=", 2);
  apx_tb_ref(&tb, apx_ir_ref_new(m, (apx_resource *)res(r, "a"), APX_PROP_EP_URL, "http", APX_NOLOC));
  v = apx_tb_finish(&tb);
  CHECK(v->kind == APX_V_TEMPLATE && v->u.tpl.n == 2, "template: text and ref stay two parts");
  char *s = render(v);
  CHECK(strcmp(s, "u=http://localhost:40000") == 0, "render: endpoint url (%s)", s);
  free(s);
  done(r);
}

static void test_diagnostics(void) {
  result *r = compile_src("container Web_Frontend { image = \"nginx\" }\n"
                          "container api { image = \"x:1\"  references = [dbb] }\n"
                          "container db { image = \"postgres:16\"  imagee = \"x\" }\n", NULL, 0);
  CHECK(r->rc == 1 && r->c.diag.errors == 3, "three errors from three passes (got %zu)", r->c.diag.errors);
  CHECK(has(r, "t.apx:1:11: error: 'Web_Frontend' is not a valid resource name"), "DNS label error located");
  CHECK(has(r, "try 'web-frontend'"), "DNS label fix suggested");
  CHECK(has(r, "t.apx:2:46: error: unknown resource 'dbb'") && has(r, "did you mean 'db'?"), "unknown name with suggestion");
  CHECK(has(r, "t.apx:3:39: error: unknown attribute 'imagee' for a container") && has(r, "did you mean 'image'?"),
        "unknown attribute with suggestion");
  CHECK(has(r, "    3 | container db") && has(r, "^~~~~~"), "source line and caret are printed");
  done(r);
}

static void test_cycles_and_waits(void) {
  result *r = compile_src("container a { image = \"x:1\"  wait_for = [b] }\n"
                          "container b { image = \"x:1\"  wait_for_start = [c] }\n"
                          "container c { image = \"x:1\"  wait_for_completion = [a] }\n", NULL, 0);
  CHECK(r->c.diag.errors == 1 && has(r, "dependency cycle: a -> b -> c -> a"), "whole cycle named once");
  done(r);
  r = compile_src("external pay { url = \"https://x\" }\nparam p\n"
                  "container a { image = \"x:1\" wait_for = [pay, p] }\n"
                  "container s { image = \"x:1\" restart = \"always\" }\n"
                  "container w { image = \"x:1\" wait_for_completion = [s] }\n", NULL, 0);
  CHECK(has(r, "'pay' can never be healthy"), "wait on an external is an error");
  CHECK(has(r, "'p' can never be healthy"), "wait on a param is an error");
  CHECK(has(r, "'s' has restart = \"always\": it never completes"), "completion wait on restart=always is an error");
  done(r);
}

static void test_ports_and_endpoints(void) {
  result *r = compile_src("container a { image = \"x:1\" endpoint http { port = 8080 target_port = 80 } }\n"
                          "container b { image = \"x:1\" endpoint web { port = 8080 target_port = 80 } }\n"
                          "container c { image = \"x:1\" env { U = a.endpoints.htp.url } }\n"
                          "container d { image = \"x:1\" endpoint tcp {} }\n", NULL, 0);
  CHECK(has(r, "port 8080 is used twice"), "fixed port clash");
  CHECK(has(r, "'a' has no endpoint 'htp'") && has(r, "did you mean 'http'?"), "unknown endpoint with suggestion");
  CHECK(has(r, "endpoint 'tcp' of container 'd' needs target_port"), "container endpoint needs a target port");
  done(r);
  r = compile_src("container v { image = \"x:1\" volume d { target = \"rel\" readonly = true } }\n", NULL, 0);
  CHECK(has(r, "t.apx:1:49: error: a volume target is an absolute path"), "relative volume target located at its value");
  done(r);
}

static void test_enrich_references(void) {
  result *r = compile_src("param pw { secret = true default = \"s3\" }\n"
                          "container db { image = \"pg:16\" endpoint tcp { target_port = 5432 }\n"
                          "  connection_string = \"Host=${self.endpoints.tcp.host};Port=${self.endpoints.tcp.port};Password=${pw}\" }\n"
                          "project api { command = \"python3\" build { context = \".\" } endpoint http { env = \"PORT\" }\n"
                          "  references = [db] wait_for = [db] }\n", NULL, 0);
  CHECK(r->rc == 0, "reference program compiles\n%s", r->diags);
  const apx_resource *api = res(r, "api");
  const apx_entry *e = api ? apx_ir_env_find(api, "ConnectionStrings__db") : NULL;
  char *s = e ? render(e->value) : strdup("(missing)");
  CHECK(strcmp(s, "Host=localhost;Port=40000;Password=s3") == 0, "ConnectionStrings__db injected and rendered (%s)", s);
  free(s);
  e = api ? apx_ir_env_find(api, "services__db__tcp__0") : NULL;
  s = e ? render(e->value) : strdup("(missing)");
  CHECK(strcmp(s, "tcp://localhost:40000") == 0, "services__db__tcp__0 injected (%s)", s);
  free(s);
  CHECK(api && apx_ir_env_find(api, "DB_TCP") && apx_ir_env_find(api, "DB_HOST") && apx_ir_env_find(api, "DB_PORT") &&
            apx_ir_env_find(api, "DB_URI"),
        "DB_TCP, DB_HOST, DB_PORT and DB_URI injected");
  CHECK(api && api->nendpoints == 1 && api->endpoints[0].target_port == 8080 && api->endpoints[0].target_port_defaulted,
        "project endpoint told by env gets target port 8080");
  CHECK(api && apx_ir_env_find(api, "PORT"), "endpoint env variable PORT injected");
  CHECK(api && api->endpoints[0].scheme && strcmp(api->endpoints[0].scheme, "http") == 0, "scheme defaults from the name");
  const apx_resource *pw = res(r, "pw");
  CHECK(pw && pw->param->secret && pw->param->source == APX_PARAM_FROM_DEFAULT, "param value from default");
  done(r);
  const char *ps[] = {"pw=cli"};
  setenv("APX_PARAM_PW", "fromenv", 1);
  r = compile_src("param pw { default = \"d\" }\nparam q { default = \"d\" }\n", ps, 1);
  CHECK(strcmp(res(r, "pw")->param->value, "cli") == 0, "-p wins over APX_PARAM_ and default");
  done(r);
  setenv("APX_PARAM_Q", "fromenv", 1);
  r = compile_src("param q { default = \"d\" }\n", NULL, 0);
  CHECK(strcmp(res(r, "q")->param->value, "fromenv") == 0, "APX_PARAM_<NAME> wins over default");
  done(r);
  const char *bad[] = {"regoin=x"};
  r = compile_src("param region\n", bad, 1);
  CHECK(r->rc == 1 && has(r, "no param 'regoin'") && has(r, "did you mean 'region'?"), "unknown -p name suggested");
  done(r);
}

static void test_components(void) {
  result *r = compile_src(
      "component kv extends container {\n"
      "  input version = \"7.4\"\n  input greeting\n"
      "  param password { secret = true generate = { length = 16 } }\n"
      "  image = \"redis:${version}\"\n  endpoint tcp { target_port = 6379 }\n"
      "  connection_string = \"${self.endpoints.tcp.host}:${self.endpoints.tcp.port},password=${password}\"\n"
      "  env { G = upper(greeting) }\n"
      "  component bucket extends external { connection_string = \"${parent.connection_string};b=${self.name}\" }\n"
      "}\n"
      "param admin\n"
      "kv one { greeting = \"hi\" endpoint tcp { port = 6380 } bucket b1 {} }\n"
      "kv two { version = \"7.2\" greeting = \"yo\" password = admin }\n", (const char *[]){"admin=A"}, 1);
  CHECK(r->rc == 0, "component program compiles\n%s", r->diags);
  const apx_resource *one = res(r, "one"), *two = res(r, "two"), *b1 = res(r, "b1");
  char *s = one ? render(one->image) : strdup("-");
  CHECK(strcmp(s, "redis:7.4") == 0, "input default substituted (%s)", s);
  free(s);
  s = two ? render(two->image) : strdup("-");
  CHECK(strcmp(s, "redis:7.2") == 0, "input override substituted (%s)", s);
  free(s);
  CHECK(one && one->nendpoints == 1 && one->endpoints[0].port == 6380 && one->endpoints[0].target_port == 6379,
        "instance block merges into the component's");
  const apx_entry *g = one ? apx_ir_env_find(one, "G") : NULL;
  s = g ? render(g->value) : strdup("-");
  CHECK(strcmp(s, "HI") == 0, "upper() folded on an input (%s)", s);
  free(s);
  CHECK(res(r, "one-password") && res(r, "one-password")->param->secret && !res(r, "two-password"),
        "per-instance param created unless the instance sets it");
  CHECK(b1 && b1->parent == one && b1->kind == APX_KIND_EXTERNAL, "child resource with parent link");
  s = b1 ? render(b1->connection_string) : strdup("-");
  CHECK(strcmp(s, "localhost:6380,password=?;b=b1") == 0, "child connection string derives from the parent's (%s)", s);
  free(s);
  s = two ? render(two->connection_string) : strdup("-");
  CHECK(strcmp(s, "localhost:40000,password=A") == 0, "input bound to a param renders its value (%s)", s);
  free(s);
  done(r);
  r = compile_src("component kv extends container { input greeting  image = \"x\" }\nkv one {}\n", NULL, 0);
  CHECK(r->rc == 1 && has(r, "'one' needs input 'greeting'"), "missing required input is an error");
  done(r);
  r = compile_src("contaner x { image = \"y\" }\n", NULL, 0);
  CHECK(has(r, "unknown kind 'contaner'") && has(r, "did you mean 'container'?"), "unknown kind suggested");
  done(r);
}

static void test_functions(void) {
  char dir[] = "/tmp/apxtestXXXXXX";
  if (!mkdtemp(dir)) return;
  char path[300];
  snprintf(path, sizeof path, "%s/msg.txt", dir);
  FILE *f = fopen(path, "w");
  fputs("hello file", f);
  fclose(f);
  setenv("APX_TEST_VAR", "from-env", 1);
  snprintf(path, sizeof path, "%s/f.apx", dir);
  f = fopen(path, "w");
  fputs("param p { default = \"a b\" }\ncontainer c { image = \"x\" env {\n"
        " A = file(\"msg.txt\")\n B = env(\"APX_TEST_VAR\")\n C = env(\"APX_NOPE_NOPE\", \"dflt\")\n"
        " D = join(\"-\", [\"x\", 1, true])\n E = urlencode(p)\n F = lower(\"ABC${p}\")\n } }\n", f);
  fclose(f);
  result *r = calloc(1, sizeof *r);
  apx_compilation_init(&r->c);
  r->rc = apx_compile_file(&r->c, path, NULL);
  CHECK(r->rc == 0, "functions program compiles");
  const apx_resource *c = apx_ir_resource_find(r->c.module, "c");
  const char *want[][2] = {{"A", "hello file"}, {"B", "from-env"}, {"C", "dflt"}, {"D", "x-1-true"}, {"E", "a%20b"}, {"F", "abca b"}};
  for (size_t i = 0; i < 6; i++) {
    const apx_entry *e = c ? apx_ir_env_find(c, want[i][0]) : NULL;
    char *s = e ? render(e->value) : strdup("-");
    CHECK(strcmp(s, want[i][1]) == 0, "%s renders '%s' (got '%s')", want[i][0], want[i][1], s);
    free(s);
  }
  apx_compilation_free(&r->c);
  free(r);
  unlink(path);
  snprintf(path, sizeof path, "%s/msg.txt", dir);
  unlink(path);
  rmdir(dir);
}

static void test_imports(void) {
  char dir[] = "/tmp/apximpXXXXXX";
  if (!mkdtemp(dir)) return;
  char a[300], b[300];
  snprintf(a, sizeof a, "%s/a.apx", dir);
  snprintf(b, sizeof b, "%s/b.apx", dir);
  FILE *f = fopen(a, "w");
  fputs("import \"./b.apx\"\ncontainer x { image = \"y\" }\n", f);
  fclose(f);
  f = fopen(b, "w");
  fputs("import \"./a.apx\"\n", f);
  fclose(f);
  result *r = calloc(1, sizeof *r);
  apx_compilation_init(&r->c);
  r->rc = apx_compile_file(&r->c, a, NULL);
  char *buf = NULL;
  size_t len = 0;
  FILE *mf = open_memstream(&buf, &len);
  apx_diag_print(&r->c.diag, mf);
  fclose(mf);
  CHECK(r->rc == 1 && strstr(buf, "import cycle:") && strstr(buf, "a.apx -> ") && strstr(buf, "b.apx"),
        "import cycle is an error naming the files");
  free(buf);
  apx_compilation_free(&r->c);
  free(r);
  result *q = compile_src("import \"no-such-module\"\n", NULL, 0);
  CHECK(q->rc == 1 && has(q, "cannot find import \"no-such-module\""), "missing import is located");
  done(q);
  unlink(a);
  unlink(b);
  rmdir(dir);
}

static void test_topo(void) {
  result *r = compile_src("container c { image = \"x\" wait_for = [b] }\ncontainer b { image = \"x\" wait_for = [a] }\n"
                          "container a { image = \"x\" }\ncontainer z { image = \"x\" }\n", NULL, 0);
  apx_resource **o = apx_ir_topo_order(r->c.module);
  CHECK(o && strcmp(o[0]->name, "a") == 0 && strcmp(o[1]->name, "b") == 0 && strcmp(o[2]->name, "c") == 0 &&
            strcmp(o[3]->name, "z") == 0,
        "topological order: dependencies first, ties in declaration order");
  done(r);
}

/* Image references: the OCI distribution grammar, located errors, hints. */
static void test_images(void) {
  static const char *good[] = {
      "x", "nginx", "postgres:16", "docker.io/library/postgres:16.2-alpine", "localhost:5000/team/app:1.0",
      "registry.example.com:443/a/b/c", "[::1]:5000/foo", "Registry.Example.COM/foo", "a__b", "a--b.c_d",
      "foo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
      "foo:v1@sha256:0123456789abcdef0123456789abcdef", "ghcr.io/o/r:_tag"};
  char src[512];
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    snprintf(src, sizeof src, "container a { image = \"%s\" }\n", good[i]);
    result *r = compile_src(src, NULL, 0);
    CHECK(r->rc == 0, "image '%s' is valid", good[i]);
    if (r->rc) printf("# %s", r->diags);
    done(r);
  }
  static const struct { const char *image, *message, *hint; } bad[] = {
      {"Not An Image!", "t.apx:1:23: error: 'Not An Image!' is not a valid image name", "write 'not-an-image'"},
      {"Postgres:16", "'Postgres' is not a valid image name", "image names are lower-case; write 'postgres:16'"},
      {"", "the image is empty", "[HOST[:PORT]/]PATH[:TAG][@DIGEST]"},
      {"foo:.bad", "'.bad' is not a valid image tag", "not starting with '.' or '-'"},
      {"foo@sha256:12", "'sha256:12' is not a valid image digest", "at least 32 hex digits"},
      {"a//b", "'a//b' is not a valid image name", "write 'a/b'"},
      {"foo-", "'foo-' is not a valid image name", "write 'foo'"},
      {"host:port/x", "'host:port/x' is not a valid image name", "write 'host-port/x'"},
      {":1", "the image has no name before its ':'", "[HOST[:PORT]/]PATH"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    snprintf(src, sizeof src, "container a { image = \"%s\" }\n", bad[i].image);
    result *r = compile_src(src, NULL, 0);
    CHECK(r->rc == 1 && r->c.diag.errors == 1 && has(r, bad[i].message) && has(r, bad[i].hint),
          "image '%s': %s; %s", bad[i].image, bad[i].message, bad[i].hint);
    if (!(r->rc == 1 && has(r, bad[i].message) && has(r, bad[i].hint))) printf("# %s", r->diags);
    done(r);
  }
  /* Length limits: the name at most 255, the tag at most 128. */
  char name[300], *big;
  memset(name, 'a', 256);
  name[256] = '\0';
  snprintf(src, sizeof src, "container a { image = \"%s\" }\n", name);
  result *r = compile_src(src, NULL, 0);
  CHECK(r->rc == 1 && has(r, "the image name is 256 characters long") && has(r, "at most 255"), "a 256-character name");
  done(r);
  name[255] = '\0';
  snprintf(src, sizeof src, "container a { image = \"%s\" }\n", name);
  r = compile_src(src, NULL, 0);
  CHECK(r->rc == 0, "a 255-character name is valid");
  done(r);
  memset(name, 't', 129);
  name[129] = '\0';
  snprintf(src, sizeof src, "container a { image = \"x:%s\" }\n", name);
  r = compile_src(src, NULL, 0);
  CHECK(r->rc == 1 && has(r, "the image tag is 129 characters long"), "a 129-character tag");
  done(r);
  name[128] = '\0';
  snprintf(src, sizeof src, "container a { image = \"x:%s\" }\n", name);
  r = compile_src(src, NULL, 0);
  CHECK(r->rc == 0, "a 128-character tag is valid");
  done(r);
  /* 5 MB of 'x': one error for its length, the value not echoed whole. */
  size_t n = 5u << 20;
  big = malloc(n + 64);
  int k = snprintf(big, 64, "container a { image = \"");
  memset(big + k, 'x', n);
  strcpy(big + k + n, "\" }\n");
  r = compile_src(big, NULL, 0);
  CHECK(r->rc == 1 && r->c.diag.errors == 1 && has(r, "t.apx:1:23: error: the image name is 5242880 characters long") &&
            strlen(r->diags) < 2000,
        "a 5 MB image: one located error, a short message (%zu bytes)", strlen(r->diags));
  done(r);
  free(big);
  /* Templates: only their literal text is checked. */
  r = compile_src("param v { default = \"16\" }\n"
                  "container a { image = \"postgres:${v}\" }\n"
                  "container b { image = \"post gres:${v}\" }\n"
                  "container c { image = v }\n", NULL, 0);
  CHECK(r->c.diag.errors == 1 && has(r, "t.apx:3:23: error: an image reference cannot hold a space"),
        "a template image: its literal text is checked, a parameter is not");
  done(r);
  /* Every image of the standard library, through its components. */
  r = compile_src("import \"postgres\"\nimport \"redis\"\nimport \"mysql\"\nimport \"mariadb\"\nimport \"rabbitmq\"\n"
                  "import \"nginx\"\nparam pw { secret = true }\n"
                  "postgres pg { password = pw }\nredis rd {}\nmysql my { password = pw }\n"
                  "mariadb ma { password = pw }\nrabbitmq mq { password = pw }\nnginx web {}\n", NULL, 0);
  CHECK(r->rc == 0 && !has(r, "image"), "the standard library's images are valid");
  if (has(r, "image")) printf("# %s", r->diags);
  done(r);
}

/* apx_tc_block with a schema longer than the caller's array: it reads the
 * first entries only and never writes past the array (a heap array, so that
 * ASan reports a write past it; the old code wrote one slot per entry). */
static void test_tc_block_bound(void) {
  result *r = compile_src("container a { image = \"x\" }\n", NULL, 0);
  apx_module *m = r->c.module;
  static const apx_spec table[] = {
      {"a", APX_F_SUB, APX_T_CONST, 0, false, false, false, NULL}, {"b", APX_F_SUB, APX_T_CONST, 0, false, false, false, NULL},
      {"c", APX_F_SUB, APX_T_CONST, 0, false, false, false, NULL}, {"d", APX_F_SUB, APX_T_CONST, 0, false, false, false, NULL},
      {"e", APX_F_SUB, APX_T_CONST, 0, false, false, true, NULL},  {"f", APX_F_SUB, APX_T_CONST, 0, false, false, false, NULL},
      {NULL, 0, 0, 0, false, false, false, NULL}};
  static const char *names[] = {"a", "b", "c", "d", "e", "f"};
  apx_item blk = {0}, items[6];
  memset(items, 0, sizeof items);
  blk.kind = APX_IT_BLOCK;
  blk.name = "test";
  for (int i = 5; i >= 0; i--) {
    items[i].kind = APX_IT_ATTR;
    items[i].name = names[i];
    items[i].value = apx_ir_value_new(m, APX_V_STRING, APX_NOLOC);
    items[i].next = blk.body;
    blk.body = &items[i];
  }
  size_t errors = r->c.diag.errors;
  apx_item **found = malloc(4 * sizeof *found);
  apx_tc_block(m, &blk, table, found, 4);
  CHECK(found[0] == &items[0] && found[1] == &items[1] && found[2] == &items[2] && found[3] == &items[3],
        "tc_block: the first 4 entries are read into an array of 4");
  CHECK(r->c.diag.errors == errors + 2, "tc_block: attributes past the array are not read (2 errors, got %zu)",
        r->c.diag.errors - errors);
  free(found);
  done(r);
}

/* The generic bodies live in an arena of their own when nothing after
 * typecheck reads them (drop_items) and are gone after it; the typed fields
 * are the same either way. The CLI keeps them for --emit=ir only. */
static void test_drop_items(void) {
  const char *src = "container db { image = \"postgres:16\" endpoint tcp { target_port = 5432 } }\n"
                    "container api { image = \"api:1\" env { X = db.endpoints.tcp.host } references = [db] }\n";
  for (int drop = 0; drop < 2; drop++) {
    apx_compilation c;
    apx_compilation_init(&c);
    static const char *inc[] = {APX_SRCDIR "/stdlib"};
    c.search = (apx_search_path){inc, 1, inc[0]};
    apx_driver_opts o = {0};
    o.drop_items = drop;
    int rc = apx_compile_text(&c, "t.apx", src, strlen(src), &o);
    const apx_resource *api = apx_ir_resource_find(c.module, "api");
    const apx_entry *x = api ? apx_ir_env_find(api, "X") : NULL;
    CHECK(rc == 0 && api && x && api->nenv > 1 && api->ndeps == 1, "drop_items=%d: api is typed (%zu env, %zu deps)", drop,
          api ? api->nenv : 0, api ? api->ndeps : 0);
    CHECK(api && (drop ? api->body == NULL && c.items == NULL && c.module->items == c.module->arena
                       : api->body != NULL),
          "drop_items=%d: the generic body is %s after the passes", drop, drop ? "gone" : "kept");
    apx_compilation_free(&c);
  }
  /* The CLI's choice: --emit=ir keeps the bodies, other targets drop them. */
  const apx_backend *ir = apx_backend_find("ir"), *compose = apx_backend_find("compose");
  CHECK(ir && ir->reads_items && compose && !compose->reads_items, "only the ir back end reads generic items");
}

int main(void) {
  test_drop_items();
  test_ir_basics();
  test_template_builder();
  test_diagnostics();
  test_cycles_and_waits();
  test_ports_and_endpoints();
  test_enrich_references();
  test_components();
  test_functions();
  test_imports();
  test_topo();
  test_images();
  test_tc_block_bound();
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
