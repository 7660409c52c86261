/* Rendering deferred values (render.h). The IR keeps hosts, ports and
 * parameter values symbolic; a target supplies callbacks and this file walks
 * templates, following connection strings into the resources they name. */
#include "render.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* Connection strings may refer to each other (a database's string embeds
 * its server's); a chain this deep can only be a cycle that validate has
 * not caught yet. */
enum { APX_RENDER_MAX_DEPTH = 16 };

typedef struct apx_render_ctx {
  const apx_render_target *t;
  bool raw;         /* inside a filtered reference: literal text not escaped yet */
  bool placeholder; /* a param callback produced a target placeholder */
} apx_render_ctx;

static bool apx_render_value_d(apx_render_ctx *c, const apx_value *v, apx_buf *out, const char **why, int depth);
static bool apx_render_ref_d(apx_render_ctx *c, const apx_ref *ref, apx_buf *out, const char **why, int depth);

static void apx_render_text(apx_render_ctx *c, const char *s, size_t n, apx_buf *out) {
  if (c->t->text && !c->raw) c->t->text(c->t->ud, s, n, out);
  else apx_buf_append(out, s, n);
}

void apx_render_filter(apx_filter f, const char *s, size_t n, apx_buf *out) {
  static const char hex[] = "0123456789ABCDEF";
  for (size_t i = 0; i < n; i++) {
    unsigned char ch = (unsigned char)s[i];
    switch (f) {
    case APX_FILTER_URLENCODE:
      /* ASCII ranges, not isalnum(): a locale must not change the output. */
      if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
          ch == '.' || ch == '_' || ch == '~') {
        apx_buf_putc(out, (char)ch);
      } else {
        char e[3] = {'%', hex[ch >> 4], hex[ch & 15]};
        apx_buf_append(out, e, 3);
      }
      break;
    /* ASCII only, for the same reason. */
    case APX_FILTER_LOWER: apx_buf_putc(out, (ch >= 'A' && ch <= 'Z') ? (char)(ch + 32) : (char)ch); break;
    case APX_FILTER_UPPER: apx_buf_putc(out, (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : (char)ch); break;
    case APX_FILTER_NONE: apx_buf_putc(out, (char)ch); break;
    }
  }
}

static void apx_render_duration(int64_t ms, apx_buf *out) {
  if (ms != 0 && ms % 3600000 == 0) apx_buf_printf(out, "%" PRId64 "h", ms / 3600000);
  else if (ms != 0 && ms % 60000 == 0) apx_buf_printf(out, "%" PRId64 "m", ms / 60000);
  else if (ms % 1000 == 0) apx_buf_printf(out, "%" PRId64 "s", ms / 1000);
  else apx_buf_printf(out, "%" PRId64 "ms", ms);
}

static const apx_endpoint *apx_render_endpoint(const apx_ref *ref, const char **why) {
  if (!ref->endpoint) {
    *why = "the reference names no endpoint";
    return NULL;
  }
  const apx_endpoint *e = apx_ir_endpoint_find(ref->target, ref->endpoint);
  if (!e) *why = "the referenced endpoint does not exist";
  return e;
}

/* A nested template (a connection string) rendered as part of this one. */
static bool apx_render_nested(apx_render_ctx *c, const apx_value *v, apx_buf *out, const char **why,
                              int depth) {
  if (depth >= APX_RENDER_MAX_DEPTH) {
    *why = "connection strings refer to each other in a cycle";
    return false;
  }
  return apx_render_value_d(c, v, out, why, depth + 1);
}

static bool apx_render_param(apx_render_ctx *c, const apx_resource *p, apx_buf *out, const char **why) {
  if (!c->t->param) {
    *why = "this target cannot render parameters";
    return false;
  }
  if (c->t->param(c->t->ud, p, out)) c->placeholder = true;
  return true;
}

static bool apx_render_prop(apx_render_ctx *c, const apx_ref *ref, apx_buf *out, const char **why, int depth) {
  const apx_resource *r = ref->target;
  const apx_render_target *t = c->t;
  const apx_endpoint *e;
  switch (ref->prop) {
  case APX_PROP_RESOURCE:
    if (r->kind == APX_KIND_PARAM) return apx_render_param(c, r, out, why);
    if (r->connection_string) return apx_render_nested(c, r->connection_string, out, why, depth);
    if (r->url) return apx_render_nested(c, r->url, out, why, depth);
    *why = "the resource has neither a connection string nor a url to stand for it";
    return false;
  case APX_PROP_CONNECTION_STRING:
    if (r->connection_string) return apx_render_nested(c, r->connection_string, out, why, depth);
    /* An external service given only by url: its url is what clients connect to. */
    if (r->kind == APX_KIND_EXTERNAL && r->url) return apx_render_nested(c, r->url, out, why, depth);
    *why = "the resource has no connection string";
    return false;
  case APX_PROP_VALUE:
    if (r->kind != APX_KIND_PARAM) {
      *why = ".value is only defined for parameters";
      return false;
    }
    return apx_render_param(c, r, out, why);
  case APX_PROP_NAME: apx_render_text(c, r->name, strlen(r->name), out); return true;
  case APX_PROP_URL:
    if (r->url) return apx_render_nested(c, r->url, out, why, depth);
    *why = "the resource has no url";
    return false;
  case APX_PROP_EP_URL:
    if (!(e = apx_render_endpoint(ref, why))) return false;
    if (!t->host || !t->port) {
      *why = "this target cannot render endpoint addresses";
      return false;
    }
    apx_render_text(c, e->scheme ? e->scheme : "tcp", strlen(e->scheme ? e->scheme : "tcp"), out);
    apx_buf_puts(out, "://");
    t->host(t->ud, r, e, out);
    apx_buf_putc(out, ':');
    t->port(t->ud, r, e, out);
    return true;
  case APX_PROP_EP_HOST:
  case APX_PROP_EP_PORT:
  case APX_PROP_EP_TARGET_PORT: {
    if (!(e = apx_render_endpoint(ref, why))) return false;
    void (*fn)(void *, const apx_resource *, const apx_endpoint *, apx_buf *) =
        ref->prop == APX_PROP_EP_HOST ? t->host : ref->prop == APX_PROP_EP_PORT ? t->port : t->target_port;
    if (!fn) {
      *why = "this target cannot render endpoint addresses";
      return false;
    }
    fn(t->ud, r, e, out);
    return true;
  }
  case APX_PROP_EP_SCHEME:
    if (!(e = apx_render_endpoint(ref, why))) return false;
    apx_render_text(c, e->scheme ? e->scheme : "tcp", strlen(e->scheme ? e->scheme : "tcp"), out);
    return true;
  case APX_PROP_STATE_DIR:
    if (!t->state_dir) {
      *why = "self.state_dir exists only in run mode (inside local {})";
      return false;
    }
    t->state_dir(t->ud, r, out);
    return true;
  case APX_PROP_INPUT:
    *why = "a component input was not substituted";
    return false;
  }
  *why = "unknown reference property";
  return false;
}

static bool apx_render_ref_d(apx_render_ctx *c, const apx_ref *ref, apx_buf *out, const char **why, int depth) {
  if (!ref || !ref->target) {
    *why = "the reference is not resolved";
    return false;
  }
  if (ref->filter == APX_FILTER_NONE) return apx_render_prop(c, ref, out, why, depth);
  /* A filter works on the value itself, so the reference is rendered without
   * the target's escaping; the filtered result is escaped afterwards. */
  apx_render_ctx inner = {c->t, true, false};
  apx_buf tmp = {0};
  bool ok = apx_render_prop(&inner, ref, &tmp, why, depth);
  if (ok && inner.placeholder) {
    *why = "a filter (urlencode, lower, upper) cannot apply to a parameter whose value is only known "
           "when the target is deployed";
    ok = false;
  }
  if (ok) {
    apx_buf f = {0};
    apx_render_filter(ref->filter, tmp.data ? tmp.data : "", tmp.len, &f);
    apx_render_text(c, f.data ? f.data : "", f.len, out);
    apx_buf_free(&f);
  }
  apx_buf_free(&tmp);
  return ok;
}

static bool apx_render_value_d(apx_render_ctx *c, const apx_value *v, apx_buf *out, const char **why, int depth) {
  if (!v) {
    *why = "there is no value";
    return false;
  }
  switch (v->kind) {
  case APX_V_NULL: return true;
  case APX_V_BOOL: apx_buf_puts(out, v->u.b ? "true" : "false"); return true;
  case APX_V_INT: apx_buf_int(out, (long long)v->u.i); return true;
  case APX_V_DURATION: apx_render_duration(v->u.i, out); return true;
  case APX_V_STRING: apx_render_text(c, v->u.str.s, v->u.str.len, out); return true;
  case APX_V_TEMPLATE:
    for (size_t i = 0; i < v->u.tpl.n; i++) {
      const apx_tpart *p = &v->u.tpl.parts[i];
      if (p->ref) {
        if (!apx_render_ref_d(c, p->ref, out, why, depth)) return false;
      } else {
        apx_render_text(c, p->text, p->len, out);
      }
    }
    return true;
  case APX_V_REF: return apx_render_ref_d(c, v->u.ref, out, why, depth);
  case APX_V_LIST: *why = "a list cannot be rendered as text"; return false;
  case APX_V_MAP: *why = "a map cannot be rendered as text"; return false;
  case APX_V_CALL: *why = "a function call was not evaluated"; return false;
  }
  *why = "unknown value kind";
  return false;
}

bool apx_render_value(const apx_render_target *t, const apx_value *v, apx_buf *out, const char **why) {
  apx_render_ctx c = {t, false, false};
  const char *dummy;
  return apx_render_value_d(&c, v, out, why ? why : &dummy, 0);
}

bool apx_render_ref(const apx_render_target *t, const apx_ref *ref, apx_buf *out, const char **why) {
  apx_render_ctx c = {t, false, false};
  const char *dummy;
  return apx_render_ref_d(&c, ref, out, why ? why : &dummy, 0);
}

void apx_render_path(const apx_render_target *t, const char *abs, apx_buf *out) {
  if (t->path) t->path(t->ud, abs, out);
  else apx_buf_puts(out, abs);
}
