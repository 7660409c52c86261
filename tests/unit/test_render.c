/* Unit tests for ir/render.c (templates, properties, filters, cycles,
 * escaping) and ir/print_json.c (the --emit=ir format).
 * A mock target renders hosts and ports as H(...) and P(...) so that every
 * callback's use is visible in the result. */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "backends/backend.h"
#include "driver/driver.h"
#include "ir/ir.h"
#include "ir/render.h"
#include "ir/walk.h"

#include "check.h"
#include "base/names.h"

/* ---- mock target ---------------------------------------------------------- */

static void m_host(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  (void)ud;
  apx_buf_printf(out, "H(%s.%s)", r->name, e->name);
}
static void m_port(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  (void)ud;
  apx_buf_printf(out, "P(%s.%s)", r->name, e->name);
}
static void m_tport(void *ud, const apx_resource *r, const apx_endpoint *e, apx_buf *out) {
  (void)ud;
  (void)r;
  apx_buf_printf(out, "%d", e->target_port);
}
/* Parameters with a compile-time value render as it; others as ${NAME}. */
static bool m_param(void *ud, const apx_resource *p, apx_buf *out) {
  (void)ud;
  if (p->param && p->param->value) {
    apx_buf_puts(out, p->param->value);
    return false;
  }
  apx_buf_printf(out, "${%s}", p->name);
  return true;
}
static void m_state(void *ud, const apx_resource *r, apx_buf *out) {
  (void)ud;
  apx_buf_printf(out, "/state/%s", r->name);
}
static void m_text(void *ud, const char *s, size_t n, apx_buf *out) {
  (void)ud;
  for (size_t i = 0; i < n; i++) {
    if (s[i] == '$') apx_buf_putc(out, '$');
    apx_buf_putc(out, s[i]);
  }
}

static apx_render_target mock(bool escape, bool state) {
  apx_render_target t = {0};
  t.host = m_host;
  t.port = m_port;
  t.target_port = m_tport;
  t.param = m_param;
  t.state_dir = state ? m_state : NULL;
  t.text = escape ? m_text : NULL;
  return t;
}

/* ---- fixture ----------------------------------------------------------------- */

static apx_arena *arena;
static apx_diag diag;
static apx_options opts;
static apx_module *m;
static apx_loc L;

static apx_resource *res(const char *name, apx_kind kind) {
  apx_resource *r = apx_ir_resource_new(m, name, L);
  r->kind = kind;
  r->type = apx_ir_kind_name(kind);
  r->typed = true;
  apx_ir_resource_add(m, r);
  return r;
}

static apx_resource *param(const char *name, bool secret, const char *value) {
  apx_resource *p = res(name, APX_KIND_PARAM);
  p->param = APX_NEW(arena, apx_param);
  p->param->secret = secret;
  p->param->value = value;
  p->param->source = value ? APX_PARAM_FROM_CLI : APX_PARAM_UNSET;
  p->param->env_name = apx_name_env_var(arena, name);
  return p;
}

static void endpoint(apx_resource *r, const char *name, const char *scheme, int target) {
  apx_endpoint e = {0};
  e.name = name;
  e.scheme = scheme;
  e.protocol = "tcp";
  e.target_port = target;
  apx_ir_endpoint_add(m, r, &e);
}

/* A template from alternating pieces: text (const char *) or refs (apx_ref *),
 * tagged by a leading 't' or 'r' character argument. */
static apx_value *tpl(const char *shape, ...) {
  apx_tbuilder tb;
  apx_tb_init(&tb, m, L);
  va_list ap;
  va_start(ap, shape);
  for (const char *s = shape; *s; s++) {
    if (*s == 't') {
      const char *text = va_arg(ap, const char *);
      apx_tb_text(&tb, text, strlen(text));
    } else {
      apx_tb_ref(&tb, va_arg(ap, apx_ref *));
    }
  }
  va_end(ap);
  return apx_tb_finish(&tb);
}

static apx_ref *ref(apx_resource *t, apx_prop prop, const char *ep) { return apx_ir_ref_new(m, t, prop, ep, L); }

static apx_ref *fref(apx_resource *t, apx_prop prop, apx_filter f) {
  apx_ref *r = ref(t, prop, NULL);
  r->filter = f;
  return r;
}

/* Renders and compares; on failure prints what came out. */
static bool renders(const apx_render_target *t, const apx_value *v, const char *want) {
  apx_buf b = {0};
  const char *why = NULL;
  bool ok = apx_render_value(t, v, &b, &why);
  bool same = ok && strcmp(apx_buf_str(&b), want) == 0;
  if (!same) printf("# got %s: '%s' (%s)\n", ok ? "text" : "failure", apx_buf_str(&b), why ? why : "");
  apx_buf_free(&b);
  return same;
}

static bool fails(const apx_render_target *t, const apx_value *v, const char *why_has) {
  apx_buf b = {0};
  const char *why = NULL;
  bool ok = apx_render_value(t, v, &b, &why);
  bool good = !ok && why && strstr(why, why_has);
  if (!good) printf("# got %s: '%s' (%s)\n", ok ? "text" : "failure", apx_buf_str(&b), why ? why : "(no why)");
  apx_buf_free(&b);
  return good;
}

/* ---- render tests --------------------------------------------------------------- */

static void test_render(void) {
  apx_render_target plain = mock(false, false), esc = mock(true, true);
  apx_resource *pw = param("pw", true, NULL);
  apx_resource *user = param("user", false, "Al Bo/x~");
  apx_resource *db = res("db", APX_KIND_CONTAINER);
  endpoint(db, "tcp", "tcp", 5432);
  db->connection_string = tpl("trtrtr", "Host=", ref(db, APX_PROP_EP_HOST, "tcp"), ";Port=",
                              ref(db, APX_PROP_EP_PORT, "tcp"), ";Password=", ref(pw, APX_PROP_VALUE, NULL));
  apx_resource *cat = res("catalog", APX_KIND_EXTERNAL);
  cat->parent = db;
  cat->connection_string = tpl("rt", ref(db, APX_PROP_CONNECTION_STRING, NULL), ";Database=catalog");
  apx_resource *api = res("api", APX_KIND_PROJECT);
  endpoint(api, "http", "http", 8080);
  apx_resource *ext = res("payments", APX_KIND_EXTERNAL);
  ext->url = apx_ir_string(m, "https://pay.example.com", L);

  CHECK(renders(&plain, apx_ir_string(m, "a$b", L), "a$b") && renders(&esc, apx_ir_string(m, "a$b", L), "a$$b"),
        "render: a string, escaped by the target's text callback");
  CHECK(renders(&plain, apx_ir_int(m, 42, L), "42"), "render: an integer");
  apx_value *bv = apx_ir_value_new(m, APX_V_BOOL, L);
  bv->u.b = true;
  apx_value *dv = apx_ir_value_new(m, APX_V_DURATION, L);
  dv->u.i = 1500;
  apx_value *dv2 = apx_ir_value_new(m, APX_V_DURATION, L);
  dv2->u.i = 120000;
  CHECK(renders(&plain, bv, "true") && renders(&plain, dv, "1500ms") && renders(&plain, dv2, "2m"),
        "render: a boolean and durations");
  CHECK(renders(&esc, cat->connection_string, "Host=H(db.tcp);Port=P(db.tcp);Password=${pw};Database=catalog"),
        "render: a child's connection string through its parent's, callbacks for host and port");
  CHECK(renders(&plain, tpl("r", ref(cat, APX_PROP_RESOURCE, NULL)),
                "Host=H(db.tcp);Port=P(db.tcp);Password=${pw};Database=catalog"),
        "render: a resource reference stands for its connection string");
  CHECK(renders(&plain, tpl("r", ref(ext, APX_PROP_RESOURCE, NULL)), "https://pay.example.com") &&
            renders(&plain, tpl("r", ref(ext, APX_PROP_URL, NULL)), "https://pay.example.com") &&
            renders(&plain, tpl("r", ref(ext, APX_PROP_CONNECTION_STRING, NULL)), "https://pay.example.com"),
        "render: an external resource by url");
  CHECK(renders(&plain, tpl("r", ref(pw, APX_PROP_RESOURCE, NULL)), "${pw}") &&
            renders(&plain, tpl("r", ref(user, APX_PROP_VALUE, NULL)), "Al Bo/x~"),
        "render: parameters through the param callback");
  CHECK(renders(&plain, tpl("r", ref(api, APX_PROP_EP_URL, "http")), "http://H(api.http):P(api.http)") &&
            renders(&plain, tpl("r", ref(api, APX_PROP_EP_TARGET_PORT, "http")), "8080") &&
            renders(&plain, tpl("r", ref(api, APX_PROP_EP_SCHEME, "http")), "http") &&
            renders(&plain, tpl("r", ref(api, APX_PROP_NAME, NULL)), "api"),
        "render: endpoint url, target port, scheme; name");
  CHECK(fails(&plain, tpl("r", ref(api, APX_PROP_EP_URL, "grpc")), "endpoint does not exist"),
        "render: a missing endpoint fails with a reason");
  CHECK(fails(&plain, tpl("r", ref(api, APX_PROP_CONNECTION_STRING, NULL)), "no connection string") &&
            fails(&plain, tpl("r", ref(api, APX_PROP_RESOURCE, NULL)), "neither a connection string nor a url"),
        "render: a connection string that does not exist fails");
  CHECK(fails(&plain, tpl("r", ref(db, APX_PROP_VALUE, NULL)), "only defined for parameters"),
        "render: .value of a non-parameter fails");
  CHECK(fails(&plain, tpl("r", ref(db, APX_PROP_STATE_DIR, NULL)), "state_dir") &&
            renders(&esc, tpl("rt", ref(db, APX_PROP_STATE_DIR, NULL), "/data"), "/state/db/data"),
        "render: self.state_dir needs the target's callback");
  apx_ref *in = ref(db, APX_PROP_INPUT, NULL);
  CHECK(fails(&plain, tpl("r", in), "input"), "render: an unsubstituted input fails");
  apx_ref *unres = apx_ir_ref_new(m, NULL, APX_PROP_RESOURCE, NULL, L);
  CHECK(fails(&plain, tpl("r", unres), "not resolved"), "render: an unresolved reference fails");

  /* A cycle between connection strings. */
  apx_resource *a = res("a", APX_KIND_EXTERNAL), *b = res("b", APX_KIND_EXTERNAL);
  a->connection_string = tpl("tr", "a:", ref(b, APX_PROP_CONNECTION_STRING, NULL));
  b->connection_string = tpl("tr", "b:", ref(a, APX_PROP_CONNECTION_STRING, NULL));
  CHECK(fails(&plain, a->connection_string, "cycle"), "render: a connection-string cycle fails with why");

  /* Filters. */
  CHECK(renders(&plain, tpl("r", fref(user, APX_PROP_VALUE, APX_FILTER_URLENCODE)), "Al%20Bo%2Fx~") &&
            renders(&plain, tpl("r", fref(user, APX_PROP_VALUE, APX_FILTER_LOWER)), "al bo/x~") &&
            renders(&plain, tpl("r", fref(user, APX_PROP_VALUE, APX_FILTER_UPPER)), "AL BO/X~"),
        "render: urlencode, lower, upper on a reference");
  CHECK(fails(&plain, tpl("r", fref(pw, APX_PROP_VALUE, APX_FILTER_URLENCODE)), "filter"),
        "render: a filter on a placeholder fails");
  CHECK(fails(&plain, tpl("r", fref(cat, APX_PROP_CONNECTION_STRING, APX_FILTER_LOWER)), "filter"),
        "render: a filter on a value holding a placeholder fails");
  apx_resource *dollar = param("dollar", false, "A$B c");
  CHECK(renders(&esc, tpl("tr", "$", fref(dollar, APX_PROP_VALUE, APX_FILTER_LOWER)), "$$a$$b c") &&
            renders(&esc, tpl("r", fref(dollar, APX_PROP_VALUE, APX_FILTER_URLENCODE)), "A%24B%20c"),
        "render: a filter sees the raw value; escaping applies once, afterwards");
  apx_buf fb = {0};
  apx_render_filter(APX_FILTER_URLENCODE, "a-b_c.d~e f\xc3\xa9", 13, &fb);
  CHECK(strcmp(apx_buf_str(&fb), "a-b_c.d~e%20f%C3%A9") == 0, "render: urlencode keeps RFC 3986 unreserved only (%s)",
        apx_buf_str(&fb));
  apx_buf_free(&fb);

  apx_value *lv = apx_ir_value_new(m, APX_V_LIST, L);
  CHECK(fails(&plain, lv, "list"), "render: a list is not text");
  apx_buf rb = {0};
  CHECK(apx_render_ref(&plain, ref(api, APX_PROP_EP_HOST, "http"), &rb, NULL) &&
            strcmp(apx_buf_str(&rb), "H(api.http)") == 0,
        "render: apx_render_ref renders one reference");
  apx_buf_free(&rb);
}

/* ---- the value walk ------------------------------------------------------------- */

typedef struct walk_log {
  apx_buf seen;        /* one letter per value kind and "R(name)" per reference */
  const char *stop_at; /* reference target whose visit stops the walk */
  bool skip_lists;
} walk_log;

static apx_walk_step w_value(void *ud, const apx_value *v) {
  walk_log *w = ud;
  static const char kinds[] = "nbidstlmrc";
  apx_buf_putc(&w->seen, kinds[v->kind]);
  return w->skip_lists && v->kind == APX_V_LIST ? APX_WALK_SKIP : APX_WALK_ON;
}

static apx_walk_step w_ref(void *ud, apx_ref *r) {
  walk_log *w = ud;
  apx_buf_printf(&w->seen, "R(%s)", r->target->name);
  return w->stop_at && strcmp(r->target->name, w->stop_at) == 0 ? APX_WALK_STOP : APX_WALK_ON;
}

static apx_value *vref(apx_ref *r) {
  apx_value *v = apx_ir_value_new(m, APX_V_REF, L);
  v->u.ref = r;
  return v;
}

static void test_walk(void) {
  apx_resource *wa = res("wa", APX_KIND_CONTAINER), *wb = res("wb", APX_KIND_CONTAINER),
               *wc = res("wc", APX_KIND_CONTAINER);
  /* [ "x${wa.name}y${wb.name}", {k: wc.name}, call(wa.name), "plain", [wb.name] ] */
  apx_value *map = apx_ir_value_new(m, APX_V_MAP, L);
  map->u.map.n = 1;
  map->u.map.entries = APX_NEW_ARRAY(arena, apx_entry, 1);
  map->u.map.entries[0].key = "k";
  map->u.map.entries[0].value = vref(ref(wc, APX_PROP_NAME, NULL));
  apx_value *call = apx_ir_value_new(m, APX_V_CALL, L);
  call->u.call.name = "lower";
  call->u.call.n = 1;
  call->u.call.args = APX_NEW_ARRAY(arena, apx_value *, 1);
  call->u.call.args[0] = vref(ref(wa, APX_PROP_NAME, NULL));
  apx_value *inner = apx_ir_value_new(m, APX_V_LIST, L);
  inner->u.list.n = 1;
  inner->u.list.items = APX_NEW_ARRAY(arena, apx_value *, 1);
  inner->u.list.items[0] = vref(ref(wb, APX_PROP_NAME, NULL));
  apx_value *top = apx_ir_value_new(m, APX_V_LIST, L);
  top->u.list.n = 5;
  top->u.list.items = APX_NEW_ARRAY(arena, apx_value *, 5);
  top->u.list.items[0] = tpl("trtr", "x", ref(wa, APX_PROP_NAME, NULL), "y", ref(wb, APX_PROP_NAME, NULL));
  top->u.list.items[1] = map;
  top->u.list.items[2] = call;
  top->u.list.items[3] = apx_ir_value_new(m, APX_V_STRING, L);
  top->u.list.items[4] = inner;
  const apx_value_visitor vis = {w_value, w_ref};
  walk_log w = {{0}, NULL, false};
  bool stopped = apx_ir_value_walk(top, &vis, &w);
  CHECK(!stopped && strcmp(apx_buf_str(&w.seen), "ltR(wa)R(wb)mrR(wc)crR(wa)slrR(wb)") == 0,
        "walk: every value before its children, every reference, in order (%s)", apx_buf_str(&w.seen));
  apx_buf_clear(&w.seen);
  w.stop_at = "wc";
  stopped = apx_ir_value_walk(top, &vis, &w);
  CHECK(stopped && strcmp(apx_buf_str(&w.seen), "ltR(wa)R(wb)mrR(wc)") == 0, "walk: STOP ends the whole walk (%s)",
        apx_buf_str(&w.seen));
  apx_buf_clear(&w.seen);
  w.stop_at = NULL;
  w.skip_lists = true;
  stopped = apx_ir_value_walk(top, &vis, &w);
  CHECK(!stopped && strcmp(apx_buf_str(&w.seen), "l") == 0, "walk: SKIP leaves out the children");
  const apx_value_visitor none = {NULL, NULL};
  CHECK(!apx_ir_value_walk(top, &none, NULL) && !apx_ir_value_walk(NULL, &vis, &w), "walk: no callbacks, no value");
  apx_buf_free(&w.seen);
}

/* ---- IR JSON ---------------------------------------------------------------------- */

static cJSON *find_res(cJSON *root, const char *name) {
  cJSON *r;
  cJSON_ArrayForEach(r, cJSON_GetObjectItemCaseSensitive(root, "resources")) {
    cJSON *n = cJSON_GetObjectItemCaseSensitive(r, "name");
    if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0) return r;
  }
  return NULL;
}

static const char *jstr(cJSON *o, const char *key) {
  cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
  return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool jis(cJSON *o, const char *key, const char *want) {
  const char *s = jstr(o, key);
  return s && strcmp(s, want) == 0;
}


/* The --emit=ir text of a module, malloc'd. */
static char *apx_ir_to_json(apx_module *m) {
  apx_output *o = apx_output_new(NULL);
  apx_emit_ir(m, o);
  size_t len = 0;
  const char *t = apx_output_data(o, 0, &len);
  char *s = t ? strndup(t, len) : NULL;
  apx_output_free(o);
  return s;
}

static void test_json(void) {
  apx_arena *a2 = apx_arena_new();
  apx_diag d2;
  apx_diag_init(&d2, a2);
  static const char src[] = "param pw { secret = true }\ncontainer db {\n  image = \"x\"\n}\n";
  uint32_t file = apx_diag_add_source(&d2, "app.apx", src, sizeof src - 1);
  apx_module *saved = m;
  apx_arena *saved_arena = arena;
  m = apx_ir_module_new(a2, &d2, &opts);
  arena = a2;
  m->app_name = "app";
  m->main_dir = "/srv/app";
  L = (apx_loc){file, 27, 30};

  apx_resource *pw = param("pw", true, "hunter2");
  pw->loc = (apx_loc){file, 0, 26};
  pw->param->def = apx_ir_string(m, "defaultsecret", L);
  pw->param->has_generate = true;
  pw->param->generate.length = 22;
  apx_resource *db = res("db", APX_KIND_CONTAINER);
  db->type = "postgres";
  db->image = apx_ir_string(m, "x", L);
  endpoint(db, "tcp", "tcp", 5432);
  db->endpoints[0].external = true;
  db->endpoints[0].port = 15432;
  db->connection_string = tpl("trtr", "Host=", ref(db, APX_PROP_EP_HOST, "tcp"), ";Password=",
                              fref(pw, APX_PROP_VALUE, APX_FILTER_URLENCODE));
  apx_health h = {0};
  h.kind = APX_HEALTH_TCP;
  h.endpoint = "tcp";
  h.interval_ms = 2000;
  h.retries = 3;
  APX_VEC_PUSH(arena, db->health, db->nhealth, db->caphealth, h);
  db->workdir = "/srv/app/data/run";
  db->replicas = 2;
  apx_resource *cat = res("catalog", APX_KIND_EXTERNAL);
  cat->parent = db;
  apx_ir_dep_add(m, cat, APX_DEP_WAIT_HEALTHY, db, L);
  apx_ir_env_set(m, db, "B", apx_ir_string(m, "2", L), L);
  apx_ir_env_set(m, db, "A", apx_ir_int(m, 1, L), L);
  apx_value *dur = apx_ir_value_new(m, APX_V_DURATION, L);
  dur->u.i = 250;
  apx_ir_env_set(m, db, "T", dur, L);

  /* One resource still untyped, as after resolve: its body is shown, a
   * secret default masked. */
  apx_resource *raw = apx_ir_resource_new(m, "early", L);
  raw->kind = APX_KIND_PARAM;
  raw->type = "param";
  apx_item *i1 = APX_NEW(arena, apx_item), *i2 = APX_NEW(arena, apx_item), *blk = APX_NEW(arena, apx_item);
  apx_value *tv = apx_ir_value_new(m, APX_V_BOOL, L);
  tv->u.b = true;
  *i1 = (apx_item){.kind = APX_IT_ATTR, .name = "secret", .value = tv};
  *i2 = (apx_item){.kind = APX_IT_ATTR, .name = "default", .value = apx_ir_string(m, "rawsecret", L)};
  *blk = (apx_item){.kind = APX_IT_BLOCK, .name = "endpoint", .label = "http"};
  i1->next = i2;
  i2->next = blk;
  raw->body = i1;
  apx_ir_resource_add(m, raw);

  char *json = apx_ir_to_json(m);
  char *json2 = apx_ir_to_json(m);
  CHECK(json && json2 && strcmp(json, json2) == 0, "json: deterministic");
  cJSON *root = json ? cJSON_Parse(json) : NULL;
  CHECK(root != NULL, "json: parses");
  if (root) {
    CHECK(jis(root, "format", "aspirec-ir") && cJSON_GetObjectItem(root, "version")->valueint == 1 &&
              jis(root, "app", "app"),
          "json: format, version, app");
    cJSON *list = cJSON_GetObjectItem(root, "resources");
    CHECK(cJSON_GetArraySize(list) == 4 && jis(cJSON_GetArrayItem(list, 0), "name", "pw") &&
              jis(cJSON_GetArrayItem(list, 3), "name", "early"),
          "json: resources in declaration order");
    CHECK(!strstr(json, "hunter2") && !strstr(json, "defaultsecret") && !strstr(json, "rawsecret"),
          "json: no secret value anywhere");
    cJSON *pj = cJSON_GetObjectItem(find_res(root, "pw"), "param");
    CHECK(pj && cJSON_IsTrue(cJSON_GetObjectItem(pj, "secret")) && jis(pj, "value", "(secret)") &&
              jis(pj, "default", "(secret)") && jis(pj, "source", "cli") && jis(pj, "env_name", "PW") &&
              cJSON_GetObjectItem(cJSON_GetObjectItem(pj, "generate"), "length")->valueint == 22,
          "json: a secret parameter: flags, masked value and default");
    cJSON *dj = find_res(root, "db");
    CHECK(jis(dj, "kind", "container") && jis(dj, "type", "postgres") && jis(dj, "location", "app.apx:2:1"),
          "json: kind, type and file:line:col");
    CHECK(jis(dj, "workdir", "./data/run"), "json: a resolved path is relative to the main file's directory");
    cJSON *cs = cJSON_GetObjectItem(cJSON_GetObjectItem(dj, "connection_string"), "template");
    cJSON *r1 = cJSON_GetArrayItem(cs, 1), *r3 = cJSON_GetArrayItem(cs, 3);
    CHECK(cJSON_GetArraySize(cs) == 4 && cJSON_IsString(cJSON_GetArrayItem(cs, 0)) && jis(r1, "ref", "db") &&
              jis(r1, "prop", "endpoint.host") && jis(r1, "endpoint", "tcp") && jis(r3, "ref", "pw") &&
              jis(r3, "prop", "value") && jis(r3, "filter", "urlencode"),
          "json: a template as text parts and refs with prop, endpoint, filter");
    cJSON *env = cJSON_GetObjectItem(dj, "env");
    CHECK(env && env->child && strcmp(env->child->string, "B") == 0 && cJSON_IsNumber(cJSON_GetObjectItem(env, "A")) &&
              cJSON_GetObjectItem(cJSON_GetObjectItem(env, "T"), "duration_ms")->valueint == 250,
          "json: env keeps its order; ints and durations typed");
    cJSON *ep = cJSON_GetArrayItem(cJSON_GetObjectItem(dj, "endpoints"), 0);
    CHECK(ep && cJSON_GetObjectItem(ep, "port")->valueint == 15432 &&
              cJSON_GetObjectItem(ep, "target_port")->valueint == 5432 &&
              cJSON_IsTrue(cJSON_GetObjectItem(ep, "external")) && !cJSON_GetObjectItem(ep, "env"),
          "json: endpoint fields, unset ones left out");
    cJSON *hj = cJSON_GetArrayItem(cJSON_GetObjectItem(dj, "health"), 0);
    CHECK(hj && jis(hj, "kind", "tcp") &&
              cJSON_GetObjectItem(cJSON_GetObjectItem(hj, "interval"), "duration_ms")->valueint == 2000 &&
              cJSON_GetObjectItem(hj, "retries")->valueint == 3 && !cJSON_GetObjectItem(hj, "timeout"),
          "json: health checks");
    CHECK(cJSON_GetObjectItem(dj, "replicas")->valueint == 2 && !cJSON_GetObjectItem(dj, "restart") &&
              !cJSON_GetObjectItem(dj, "volumes"),
          "json: replicas; defaults and empty lists are left out");
    cJSON *cj = find_res(root, "catalog");
    cJSON *dep = cJSON_GetArrayItem(cJSON_GetObjectItem(cj, "deps"), 0);
    CHECK(jis(cj, "parent", "db") && jis(dep, "kind", "wait_for") && jis(dep, "target", "db"),
          "json: parent and dependencies");
    cJSON *ej = find_res(root, "early");
    cJSON *body = cJSON_GetObjectItem(ej, "body");
    cJSON *b1 = cJSON_GetArrayItem(body, 1), *b2 = cJSON_GetArrayItem(body, 2);
    CHECK(body && cJSON_GetArraySize(body) == 3 && jis(b1, "attr", "default") && jis(b1, "value", "(secret)") &&
              jis(b2, "block", "endpoint") && jis(b2, "label", "http") && cJSON_IsArray(cJSON_GetObjectItem(b2, "items")) &&
              !cJSON_GetObjectItem(ej, "param"),
          "json: before typecheck, the generic body (secret default masked)");
    cJSON_Delete(root);
  }
  free(json);
  free(json2);
  m = saved;
  arena = saved_arena;
  apx_arena_free(a2);
}

/* apx_buf_int writes what printf's %lld writes; printf into a buffer with
 * room (one pass) and without (two) give the same text. */
static void test_buf(void) {
  static const long long nums[] = {0, 7, -7, 10, 8080, -65536, 2147483647LL, 9223372036854775807LL,
                                   -9223372036854775807LL - 1};
  bool same = true;
  for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
    apx_buf a = {0};
    char want[32];
    snprintf(want, sizeof want, "%lld", nums[i]);
    apx_buf_puts(&a, "x");
    apx_buf_int(&a, nums[i]);
    if (strcmp(apx_buf_str(&a), "x") == 0 || strcmp(apx_buf_str(&a) + 1, want) != 0 || a.len != 1 + strlen(want))
      same = false;
    apx_buf_free(&a);
  }
  CHECK(same, "buf: apx_buf_int writes what %%lld writes, INT64_MIN and INT64_MAX included");
  apx_buf b = {0};
  apx_buf_puts(&b, "ab");
  apx_buf_printf(&b, "%s-%d", "cd", 12); /* fits the first block */
  char big[300];
  memset(big, 'z', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  apx_buf_printf(&b, "[%s]", big); /* does not: grows, formats again */
  CHECK(b.len == 7 + 301 && strncmp(apx_buf_str(&b), "abcd-12[zz", 10) == 0 && b.data[b.len - 1] == ']' &&
            b.data[b.len] == '\0',
        "buf: printf appends, in one pass or after growing");
  apx_buf_free(&b);
}

int main(void) {
  arena = apx_arena_new();
  apx_diag_init(&diag, arena);
  static const char src[] = "container db {}\n";
  uint32_t file = apx_diag_add_source(&diag, "t.apx", src, sizeof src - 1);
  L = (apx_loc){file, 0, 12};
  m = apx_ir_module_new(arena, &diag, &opts);
  test_render();
  test_walk();
  test_json();
  test_buf();
  apx_arena_free(arena);
  printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
