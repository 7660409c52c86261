/* --emit=manifest: aspire-manifest.json, the deployment manifest .NET
 * Aspire's app host writes with `--publisher manifest` (doc/manifest.md),
 * valid against Aspire's 8.0 schema, so Aspire's tools (azd, Aspir8) read
 * an .apx program as they read an app host.
 *
 * Nothing that depends on where the app is deployed is rendered: a
 * reference becomes one of the manifest's expressions, whole properties
 * kept symbolic (`{db.connectionString}`, `{api.bindings.http.url}`,
 * `{pw.value}`), which the deployment tool evaluates. ir/render.c expands
 * connection strings and URLs into their parts by design, so this back end
 * walks templates itself (apx_mf_value), with the same depth bound; only
 * filters on literal text go through apx_render_filter.
 *
 * No parameter value is ever written but a non-secret default: a generated
 * secret is its `generate` input, never a drawn value. The whole document
 * goes through cJSON; cJSON_Print indents with tabs (cJSON has no other
 * indentation), as --emit=ir and main.parameters.json do. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/path.h"
#include "ir/render.h"
#include "backend.h"

#define APX_MF_FILE "aspire-manifest.json"
#define APX_MF_SCHEMA "https://json.schemastore.org/aspire-8.0.json"
/* Aspire's name for the uri-encoded projection of a parameter. */
#define APX_MF_URI_SUFFIX "-uri-encoded"

/* Connection strings refer to each other (a database's embeds its
 * server's); deeper than this can only be a cycle validate did not catch. */
enum { APX_MF_MAX_DEPTH = 16 };

/* What a resource becomes in the manifest. */
typedef enum {
  APX_MF_NONE,       /* not written: publish = false */
  APX_MF_CONTAINER,  /* container.v0: an image */
  APX_MF_BUILT,      /* container.v1 with build: a build context (containers, projects, executables) */
  APX_MF_PROJECT,    /* project.v0: a .NET project run as `dotnet run --project PATH` */
  APX_MF_EXECUTABLE, /* executable.v0: a host process (an executable; a project with neither build nor image) */
  APX_MF_VALUE,      /* value.v0: an external, a child resource such as a database */
  APX_MF_PARAM,      /* parameter.v0 */
} apx_mf_form;

typedef struct apx_mf {
  apx_module *m;
  const char *base;       /* relative paths are against this directory (the manifest's) */
  const apx_resource *cur; /* the resource being written, for messages */
  const char *why;        /* why a value could not be written */
  size_t nexpr;           /* expressions written so far: a filter needs a value without any */
  bool ambiguous;         /* literal text that a reader would take for an expression */
  apx_map uri;            /* parameter -> 1: its -uri-encoded companion is needed */
  apx_map warned;         /* (resource, unpublished target): warned once */
} apx_mf;

static const char *apx_mf_literal(const apx_value *v) {
  return v && v->kind == APX_V_STRING ? v->u.str.s : NULL;
}

static bool apx_mf_ends_with(const char *s, const char *tail) {
  size_t n = strlen(s), k = strlen(tail);
  return n > k && strcmp(s + n - k, tail) == 0;
}

/* A project that runs `dotnet run --project X.csproj [--no-launch-profile]
 * [-- ARGS…]` (what a project.v0 read from a manifest becomes) is a .NET
 * project for Aspire's tools: its project file (args index in *path) and
 * where its own arguments start (*rest; the list's length when none).
 * Anything else it does not recognise, so it is not one. */
static bool apx_mf_dotnet_project(const apx_resource *r, size_t *path, size_t *rest) {
  if (r->kind != APX_KIND_PROJECT || r->build || r->image) return false;
  const char *cmd = apx_mf_literal(r->command);
  if (!cmd || strcmp(cmd, "dotnet") != 0 || !r->args || r->args->kind != APX_V_LIST) return false;
  apx_value **a = r->args->u.list.items;
  size_t n = r->args->u.list.n, i = 3;
  const char *p;
  if (n < 3 || !apx_mf_literal(a[0]) || strcmp(apx_mf_literal(a[0]), "run") != 0 || !apx_mf_literal(a[1]) ||
      strcmp(apx_mf_literal(a[1]), "--project") != 0 || !(p = apx_mf_literal(a[2])))
    return false;
  if (!apx_mf_ends_with(p, ".csproj") && !apx_mf_ends_with(p, ".fsproj") && !apx_mf_ends_with(p, ".vbproj")) return false;
  if (i < n && apx_mf_literal(a[i]) && strcmp(apx_mf_literal(a[i]), "--no-launch-profile") == 0) i++;
  if (i < n) {
    if (!apx_mf_literal(a[i]) || strcmp(apx_mf_literal(a[i]), "--") != 0) return false;
    i++;
  }
  *path = 2;
  *rest = i;
  return true;
}

static apx_mf_form apx_mf_form_of(const apx_resource *r) {
  if (!r->publish && apx_ir_kind_runs(r->kind)) return APX_MF_NONE;
  switch (r->kind) {
  case APX_KIND_CONTAINER: return r->build ? APX_MF_BUILT : APX_MF_CONTAINER;
  case APX_KIND_PROJECT: {
    size_t path, rest;
    if (r->build) return APX_MF_BUILT;
    if (r->image) return APX_MF_CONTAINER;
    return apx_mf_dotnet_project(r, &path, &rest) ? APX_MF_PROJECT : APX_MF_EXECUTABLE;
  }
  case APX_KIND_EXECUTABLE: return r->build ? APX_MF_BUILT : APX_MF_EXECUTABLE;
  case APX_KIND_EXTERNAL: return APX_MF_VALUE;
  case APX_KIND_PARAM: return APX_MF_PARAM;
  case APX_KIND__COUNT: break;
  }
  return APX_MF_NONE;
}

/* Whether `{r.connectionString}` names something the manifest holds: the
 * schema allows connectionString on containers and values, not on
 * executable.v0 (there it is written out where it is used). */
static bool apx_mf_has_cs(const apx_resource *r) {
  apx_mf_form f = apx_mf_form_of(r);
  if (f == APX_MF_VALUE) return r->connection_string || r->url;
  return (f == APX_MF_CONTAINER || f == APX_MF_BUILT) && r->connection_string;
}

/* ---- expressions -------------------------------------------------------- */

/* The one writer of the manifest's expression syntax: `{name.a.b.c}`
 * (parts after the first may be NULL). Resource and endpoint names are the
 * language's identifiers (letters, digits, `_`, `-`): nothing inside needs
 * quoting. */
static void apx_mf_expr(apx_mf *c, apx_buf *out, const char *name, const char *a, const char *b, const char *d) {
  apx_buf_putc(out, '{');
  apx_buf_puts(out, name);
  const char *parts[] = {a, b, d};
  for (size_t i = 0; i < 3 && parts[i]; i++) {
    apx_buf_putc(out, '.');
    apx_buf_puts(out, parts[i]);
  }
  apx_buf_putc(out, '}');
  c->nexpr++;
}

/* Literal text goes in as it is: the manifest has no escape for braces
 * (Aspire writes them bare too), so text holding `{…}` would be read back
 * as an expression: noted, and warned about. */
static void apx_mf_text(apx_mf *c, const char *s, size_t n, apx_buf *out) {
  apx_buf_append(out, s, n);
  const char *open = memchr(s, '{', n);
  if (open && memchr(open, '}', n - (size_t)(open - s))) c->ambiguous = true;
}

/* Warns once per (resource, target) when a value points at a workload the
 * manifest leaves out (publish = false): the expression would not resolve. */
static void apx_mf_check_published(apx_mf *c, const apx_resource *t, apx_loc loc) {
  const apx_resource *run = apx_ir_runner(t);
  if (!run || apx_mf_form_of(run) != APX_MF_NONE || !c->cur) return;
  size_t *seen = apx_map_ptr(&c->warned, c->cur, run, true);
  if (*seen != (size_t)-1) return;
  *seen = 1;
  apx_warning(c->m->diag, loc.file ? loc : c->cur->loc,
              "'%s' refers to '%s', which is not in the Aspire manifest (publish = false); the expression will not "
              "resolve",
              c->cur->name, run->name);
}

static bool apx_mf_value(apx_mf *c, const apx_value *v, apx_buf *out, int depth);

static bool apx_mf_nested(apx_mf *c, const apx_value *v, apx_buf *out, int depth) {
  if (depth >= APX_MF_MAX_DEPTH) {
    c->why = "connection strings refer to each other in a cycle";
    return false;
  }
  return apx_mf_value(c, v, out, depth + 1);
}

/* What `r.connection_string` (or `r` in references) stands for. */
static bool apx_mf_cs(apx_mf *c, const apx_resource *r, apx_loc loc, apx_buf *out, int depth) {
  apx_mf_check_published(c, r, loc);
  if (apx_mf_has_cs(r)) {
    apx_mf_expr(c, out, r->name, "connectionString", NULL, NULL);
    return true;
  }
  if (r->connection_string) return apx_mf_nested(c, r->connection_string, out, depth);
  if (r->url) return apx_mf_nested(c, r->url, out, depth);
  c->why = "the resource has no connection string";
  return false;
}

static bool apx_mf_prop(apx_mf *c, const apx_ref *ref, apx_buf *out, int depth) {
  const apx_resource *r = ref->target;
  const apx_endpoint *e = NULL;
  const char *part = NULL;
  switch (ref->prop) {
  case APX_PROP_RESOURCE:
    if (r->kind == APX_KIND_PARAM) {
      apx_mf_expr(c, out, r->name, "value", NULL, NULL);
      return true;
    }
    if (!r->connection_string && r->url) return apx_mf_nested(c, r->url, out, depth);
    if (!r->connection_string) {
      c->why = "the resource has neither a connection string nor a url to stand for it";
      return false;
    }
    return apx_mf_cs(c, r, ref->loc, out, depth);
  case APX_PROP_CONNECTION_STRING: return apx_mf_cs(c, r, ref->loc, out, depth);
  case APX_PROP_VALUE:
    if (r->kind != APX_KIND_PARAM) {
      c->why = ".value is only defined for parameters";
      return false;
    }
    apx_mf_expr(c, out, r->name, "value", NULL, NULL);
    return true;
  case APX_PROP_NAME: apx_mf_text(c, r->name, strlen(r->name), out); return true;
  case APX_PROP_URL:
    /* An external's URL is written where it is used, as Aspire does for
     * an external service (its value.v0 holds it as connection string). */
    if (r->url) return apx_mf_nested(c, r->url, out, depth);
    c->why = "the resource has no url";
    return false;
  case APX_PROP_EP_URL: part = "url"; break;
  case APX_PROP_EP_HOST: part = "host"; break;
  case APX_PROP_EP_PORT: part = "port"; break;
  case APX_PROP_EP_TARGET_PORT: part = "targetPort"; break;
  case APX_PROP_EP_SCHEME: part = "scheme"; break;
  case APX_PROP_STATE_DIR: c->why = "self.state_dir exists only in run mode (inside local {})"; return false;
  case APX_PROP_INPUT: c->why = "a component input was not substituted"; return false;
  }
  if (!part) {
    c->why = "unknown reference property";
    return false;
  }
  if (!ref->endpoint || !(e = apx_ir_endpoint_find(r, ref->endpoint))) {
    c->why = ref->endpoint ? "the referenced endpoint does not exist" : "the reference names no endpoint";
    return false;
  }
  apx_mf_check_published(c, r, ref->loc);
  apx_mf_expr(c, out, r->name, "bindings", e->name, part);
  return true;
}

static bool apx_mf_ref(apx_mf *c, const apx_ref *ref, apx_buf *out, int depth) {
  if (!ref || !ref->target) {
    c->why = "the reference is not resolved";
    return false;
  }
  if (ref->filter == APX_FILTER_NONE) return apx_mf_prop(c, ref, out, depth);
  const apx_resource *t = ref->target;
  if (ref->filter == APX_FILTER_URLENCODE && t->kind == APX_KIND_PARAM &&
      (ref->prop == APX_PROP_VALUE || ref->prop == APX_PROP_RESOURCE)) {
    /* The manifest's one filter: an annotated.string beside the
     * parameter, which the deployment tool encodes. */
    *apx_map_ptr(&c->uri, t, NULL, true) = 1;
    apx_buf name = {0};
    apx_buf_puts(&name, t->name);
    apx_buf_puts(&name, APX_MF_URI_SUFFIX);
    apx_mf_expr(c, out, apx_buf_str(&name), "value", NULL, NULL);
    apx_buf_free(&name);
    return true;
  }
  /* Any other filter applies here, to a value known now. */
  apx_buf tmp = {0};
  size_t before = c->nexpr;
  bool ok = apx_mf_prop(c, ref, &tmp, depth);
  if (ok && c->nexpr != before) {
    c->why = "a filter (urlencode, lower, upper) cannot apply to a value only known when the manifest is deployed "
             "(the manifest has only urlencode() of a parameter, as an annotated.string)";
    ok = false;
  }
  if (ok) apx_render_filter(ref->filter, tmp.data ? tmp.data : "", tmp.len, out);
  apx_buf_free(&tmp);
  return ok;
}

/* Scalars without references: as ir/render.c writes them (durations as
 * "5s"), through a target that renders nothing deferred. */
static bool apx_mf_scalar(apx_mf *c, const apx_value *v, apx_buf *out) {
  apx_render_target none = {0};
  const char *why = NULL;
  if (apx_render_value(&none, v, out, &why)) return true;
  c->why = why;
  return false;
}

static bool apx_mf_value(apx_mf *c, const apx_value *v, apx_buf *out, int depth) {
  if (!v) {
    c->why = "there is no value";
    return false;
  }
  switch (v->kind) {
  case APX_V_STRING: apx_mf_text(c, v->u.str.s, v->u.str.len, out); return true;
  case APX_V_TEMPLATE:
    for (size_t i = 0; i < v->u.tpl.n; i++) {
      const apx_tpart *p = &v->u.tpl.parts[i];
      if (p->ref) {
        if (!apx_mf_ref(c, p->ref, out, depth)) return false;
      } else {
        apx_mf_text(c, p->text, p->len, out);
      }
    }
    return true;
  case APX_V_REF: return apx_mf_ref(c, v->u.ref, out, depth);
  case APX_V_NULL:
  case APX_V_BOOL:
  case APX_V_INT:
  case APX_V_DURATION: return apx_mf_scalar(c, v, out);
  case APX_V_LIST: c->why = "a list cannot be written as one string"; return false;
  case APX_V_MAP: c->why = "a map cannot be written as one string"; return false;
  case APX_V_CALL: c->why = "a function call was not evaluated"; return false;
  }
  c->why = "unknown value kind";
  return false;
}

/* One value as a manifest string, added to `obj` under `key` (or to the
 * array `obj` when key is NULL). On failure: a located error naming what and
 * whose, and "" in its place (the file is not written anyway). */
static void apx_mf_add(apx_mf *c, cJSON *obj, const char *key, const apx_value *v, const char *what,
                       const char *which) {
  apx_buf b = {0};
  c->why = NULL;
  c->ambiguous = false;
  const apx_resource *r = c->cur;
  if (!apx_mf_value(c, v, &b, 0)) {
    apx_error(c->m->diag, v && v->loc.file ? v->loc : r->loc, "cannot write %s%s%s of '%s' to the Aspire manifest: %s",
              what, which ? " " : "", which ? which : "", r->name, c->why ? c->why : "unknown reason");
    apx_buf_clear(&b);
  } else if (c->ambiguous) {
    apx_warning(c->m->diag, v && v->loc.file ? v->loc : r->loc,
                "%s%s%s of '%s' holds text in braces: the Aspire manifest has no escape for them, so a deployment "
                "tool will read '{…}' as an expression",
                what, which ? " " : "", which ? which : "", r->name);
  }
  cJSON *s = cJSON_CreateString(apx_buf_str(&b));
  if (key) cJSON_AddItemToObject(obj, key, s);
  else cJSON_AddItemToArray(obj, s);
  apx_buf_free(&b);
}

/* A path of this machine, relative to the manifest's directory ("." for it),
 * with no "./" in front, as Aspire writes them. */
static void apx_mf_add_path(apx_mf *c, cJSON *obj, const char *key, const char *abs) {
  apx_buf b = {0};
  apx_path_relative(c->base, abs, false, &b);
  cJSON_AddStringToObject(obj, key, apx_buf_str(&b));
  apx_buf_free(&b);
}

/* ---- a resource ---------------------------------------------------------- */

static void apx_mf_list_items(apx_mf *c, cJSON *arr, const apx_value *v, size_t from, const char *what) {
  if (!v) return;
  if (v->kind != APX_V_LIST) {
    if (from == 0) apx_mf_add(c, arr, NULL, v, what, NULL);
    return;
  }
  for (size_t i = from; i < v->u.list.n; i++) apx_mf_add(c, arr, NULL, v->u.list.items[i], what, NULL);
}

static size_t apx_mf_list_len(const apx_value *v) {
  if (!v) return 0;
  return v->kind == APX_V_LIST ? v->u.list.n : 1;
}

/* A container's entrypoint and command line: the manifest's entrypoint is
 * one string (Docker's ENTRYPOINT replaced by it), its args replace CMD. So
 * `entrypoint = [tini, --]` + command + args becomes entrypoint "tini" and
 * args ["--", command, args…]: the same argv. */
static void apx_mf_command_line(apx_mf *c, cJSON *o, const apx_resource *r, bool with_command) {
  const apx_value *ep = r->entrypoint;
  if (apx_mf_list_len(ep) > 0)
    apx_mf_add(c, o, "entrypoint", ep->kind == APX_V_LIST ? ep->u.list.items[0] : ep, "the entrypoint", NULL);
  size_t n = (apx_mf_list_len(ep) > 1 ? apx_mf_list_len(ep) - 1 : 0) +
             (with_command ? (r->command ? 1 : 0) + apx_mf_list_len(r->args) : 0);
  if (!n) return;
  cJSON *args = cJSON_AddArrayToObject(o, "args");
  apx_mf_list_items(c, args, ep, 1, "the entrypoint");
  if (!with_command) return;
  if (r->command) apx_mf_add(c, args, NULL, r->command, "the command", NULL);
  apx_mf_list_items(c, args, r->args, 0, "the arguments");
}

static void apx_mf_entries(apx_mf *c, cJSON *o, const char *key, const apx_entry *e, size_t n, const char *what) {
  if (!n) return;
  cJSON *obj = cJSON_AddObjectToObject(o, key);
  for (size_t i = 0; i < n; i++) {
    if (e[i].value) apx_mf_add(c, obj, e[i].key, e[i].value, what, e[i].key);
    else cJSON_AddStringToObject(obj, e[i].key, "");
  }
}

/* Aspire's transport: http for http and https, http2 for gRPC; the schema
 * knows no other than tcp (Aspire's own "udp" for a udp endpoint fails it). */
static const char *apx_mf_transport(const apx_endpoint *e) {
  const char *s = e->scheme ? e->scheme : "tcp";
  if (strcmp(s, "http") == 0 || strcmp(s, "https") == 0) return "http";
  if (strcmp(s, "grpc") == 0 || strcmp(s, "grpcs") == 0) return "http2";
  return "tcp";
}

static void apx_mf_bindings(cJSON *o, const apx_resource *r) {
  if (!r->nendpoints) return;
  cJSON *b = cJSON_AddObjectToObject(o, "bindings");
  for (size_t i = 0; i < r->nendpoints; i++) {
    const apx_endpoint *e = &r->endpoints[i];
    cJSON *x = cJSON_AddObjectToObject(b, e->name);
    cJSON_AddStringToObject(x, "scheme", e->scheme ? e->scheme : "tcp");
    cJSON_AddStringToObject(x, "protocol", e->protocol && strcmp(e->protocol, "udp") == 0 ? "udp" : "tcp");
    cJSON_AddStringToObject(x, "transport", apx_mf_transport(e));
    /* As Aspire: the port only when it differs from the target port. */
    if (e->port > 0 && e->port != e->target_port) cJSON_AddNumberToObject(x, "port", e->port);
    if (e->target_port > 0) cJSON_AddNumberToObject(x, "targetPort", e->target_port);
    if (e->external) cJSON_AddBoolToObject(x, "external", true);
  }
}

static void apx_mf_mounts(apx_mf *c, cJSON *o, const apx_resource *r) {
  if (r->nbinds) {
    cJSON *arr = cJSON_AddArrayToObject(o, "bindMounts");
    for (size_t i = 0; i < r->nbinds; i++) {
      const apx_bind *bd = &r->binds[i];
      cJSON *x = cJSON_CreateObject();
      apx_mf_add_path(c, x, "source", bd->source_abs ? bd->source_abs : bd->source ? bd->source : ".");
      cJSON_AddStringToObject(x, "target", bd->target ? bd->target : "");
      cJSON_AddBoolToObject(x, "readOnly", bd->readonly);
      cJSON_AddItemToArray(arr, x);
    }
  }
  if (r->nvolumes) {
    cJSON *arr = cJSON_AddArrayToObject(o, "volumes");
    for (size_t i = 0; i < r->nvolumes; i++) {
      const apx_volume *vol = &r->volumes[i];
      cJSON *x = cJSON_CreateObject();
      /* Volume names are global to a deployment: prefixed with the
       * resource's, as compose names them. */
      apx_buf name = {0};
      apx_buf_puts(&name, r->name);
      apx_buf_putc(&name, '-');
      apx_buf_puts(&name, vol->name);
      cJSON_AddStringToObject(x, "name", apx_buf_str(&name));
      apx_buf_free(&name);
      cJSON_AddStringToObject(x, "target", vol->target ? vol->target : "");
      cJSON_AddBoolToObject(x, "readOnly", vol->readonly);
      cJSON_AddItemToArray(arr, x);
    }
  }
}

static void apx_mf_build(apx_mf *c, cJSON *o, const apx_resource *r) {
  const apx_build *b = r->build;
  cJSON *x = cJSON_AddObjectToObject(o, "build");
  const char *ctx = b->context_abs ? b->context_abs : b->context;
  apx_mf_add_path(c, x, "context", ctx);
  /* The manifest's dockerfile is relative to the manifest, the program's
   * to the context (as in Compose). */
  apx_buf df = {0};
  const char *d = b->dockerfile ? b->dockerfile : "Dockerfile";
  if (d[0] == '/') apx_buf_puts(&df, d);
  else apx_buf_printf(&df, "%s/%s", ctx, d);
  apx_mf_add_path(c, x, "dockerfile", apx_buf_str(&df));
  apx_buf_free(&df);
  if (b->target) cJSON_AddStringToObject(x, "stage", b->target);
  apx_mf_entries(c, x, "args", b->args, b->nargs, "build argument");
}

/* What the manifest cannot say, one warning each, naming the resource. */
static void apx_mf_warn_lost(apx_mf *c, const apx_resource *r, apx_mf_form f) {
  apx_diag *d = c->m->diag;
  apx_buf waits = {0};
  for (size_t i = 0; i < r->ndeps; i++) {
    const apx_dep *dep = &r->deps[i];
    if (dep->kind == APX_DEP_REFERENCE || !dep->target) continue;
    const char *how = dep->kind == APX_DEP_WAIT_HEALTHY ? "healthy" : dep->kind == APX_DEP_WAIT_START ? "started" : "completed";
    apx_buf_printf(&waits, "%s'%s' (%s)", waits.len ? ", " : "", dep->target->name, how);
  }
  if (waits.len)
    apx_warning(d, r->loc,
                "the Aspire manifest has no start order: '%s' will not wait for %s; a deployment tool starts them "
                "together",
                r->name, apx_buf_str(&waits));
  apx_buf_free(&waits);
  if (r->replicas > 1)
    apx_warning(d, r->loc, "replicas = %d of '%s' cannot be expressed in the Aspire manifest; it is left out",
                r->replicas, r->name);
  if (r->restart == APX_RESTART_NO)
    apx_warning(d, r->loc,
                "'%s' runs once (restart = \"no\"), which the Aspire manifest cannot say; a deployment tool runs it "
                "as a service",
                r->name);
  if (r->explicit_start)
    apx_warning(d, r->loc,
                "explicit_start of '%s' cannot be expressed in the Aspire manifest; a deployment tool starts it", r->name);
  if (r->nlabels)
    apx_warning(d, r->loc, "the labels of '%s' cannot be expressed in the Aspire manifest; they are left out", r->name);
  if (r->kind == APX_KIND_CONTAINER && r->workdir_written && f != APX_MF_EXECUTABLE)
    apx_warning(d, r->loc,
                "the workdir of container '%s' cannot be expressed in the Aspire manifest (container.v0 has no "
                "working directory); it is left out",
                r->name);
}

static void apx_mf_generate(cJSON *def, const apx_generate *g) {
  cJSON *x = cJSON_AddObjectToObject(def, "generate");
  /* minLength is Aspire's minimum; aspirec draws exactly that many. */
  cJSON_AddNumberToObject(x, "minLength", g->length > 0 ? g->length : 22);
  /* Aspire allows every class unless told otherwise: each one off is written. */
  if (!g->lower) cJSON_AddBoolToObject(x, "lower", false);
  if (!g->upper) cJSON_AddBoolToObject(x, "upper", false);
  if (!g->numeric) cJSON_AddBoolToObject(x, "numeric", false);
  if (!g->special) cJSON_AddBoolToObject(x, "special", false);
  if (g->min_lower) cJSON_AddNumberToObject(x, "minLower", g->min_lower);
  if (g->min_upper) cJSON_AddNumberToObject(x, "minUpper", g->min_upper);
  if (g->min_numeric) cJSON_AddNumberToObject(x, "minNumeric", g->min_numeric);
  if (g->min_special) cJSON_AddNumberToObject(x, "minSpecial", g->min_special);
}

static void apx_mf_param(apx_mf *c, cJSON *o, const apx_resource *r) {
  const apx_param *p = r->param;
  cJSON_AddStringToObject(o, "type", "parameter.v0");
  apx_buf v = {0};
  apx_mf_expr(c, &v, r->name, "inputs", "value", NULL);
  cJSON_AddStringToObject(o, "value", apx_buf_str(&v));
  apx_buf_free(&v);
  cJSON *in = cJSON_AddObjectToObject(cJSON_AddObjectToObject(o, "inputs"), "value");
  cJSON_AddStringToObject(in, "type", "string");
  if (!p) return;
  if (p->secret) cJSON_AddBoolToObject(in, "secret", true);
  if (p->has_generate && (p->secret || !p->value)) {
    apx_mf_generate(cJSON_AddObjectToObject(in, "default"), &p->generate);
  } else if (!p->secret && (p->value || p->def)) {
    /* The compile-time value (-p, APX_PARAM_*, default) as the default the
     * deployment tool offers. */
    apx_buf b = {0};
    bool ok = true;
    if (p->value) apx_buf_puts(&b, p->value);
    else ok = apx_mf_scalar(c, p->def, &b);
    if (ok) cJSON_AddStringToObject(cJSON_AddObjectToObject(in, "default"), "value", apx_buf_str(&b));
    else
      apx_error(c->m->diag, p->def->loc, "cannot write the default of parameter '%s' to the Aspire manifest: %s",
                r->name, c->why ? c->why : "unknown reason");
    apx_buf_free(&b);
  }
  if (p->secret && (p->value || p->def))
    apx_warning(c->m->diag, r->loc,
                "the value of secret parameter '%s' is not written to the Aspire manifest; the deployment tool asks "
                "for it%s",
                r->name, p->has_generate ? " or generates it" : "");
}

/* The object of one resource, or NULL when the manifest leaves it out. */
static cJSON *apx_mf_resource(apx_mf *c, const apx_resource *r) {
  apx_mf_form f = apx_mf_form_of(r);
  if (f == APX_MF_NONE) return NULL;
  c->cur = r;
  cJSON *o = cJSON_CreateObject();
  switch (f) {
  case APX_MF_PARAM: apx_mf_param(c, o, r); return o;
  case APX_MF_VALUE:
    cJSON_AddStringToObject(o, "type", "value.v0");
    apx_mf_add(c, o, "connectionString", r->connection_string ? r->connection_string : r->url, "the connection string",
               NULL);
    return o;
  case APX_MF_CONTAINER:
  case APX_MF_BUILT: {
    bool built = f == APX_MF_BUILT;
    cJSON_AddStringToObject(o, "type", built ? "container.v1" : "container.v0");
    if (r->connection_string) apx_mf_add(c, o, "connectionString", r->connection_string, "the connection string", NULL);
    /* container.v1 takes a build or an image, not both (the schema's
     * oneOf): a built container's image is what the tool tags it. */
    if (built) apx_mf_build(c, o, r);
    else apx_mf_add(c, o, "image", r->image, "the image", NULL);
    /* A project's (or built executable's) command line says how to run it
     * from source here; in its image the Dockerfile's CMD does that. */
    apx_mf_command_line(c, o, r, r->kind == APX_KIND_CONTAINER);
    apx_mf_mounts(c, o, r);
    break;
  }
  case APX_MF_PROJECT: {
    /* Aspire's own: the project file, relative to the manifest, and the
     * app's arguments (after `--`). */
    size_t path, rest;
    apx_mf_dotnet_project(r, &path, &rest);
    cJSON_AddStringToObject(o, "type", "project.v0");
    const char *wd = r->workdir ? r->workdir : c->m->main_dir ? c->m->main_dir : ".";
    const char *p = apx_mf_literal(r->args->u.list.items[path]);
    apx_buf abs = {0};
    if (p[0] == '/') apx_buf_puts(&abs, p);
    else apx_buf_printf(&abs, "%s/%s", wd, p);
    apx_mf_add_path(c, o, "path", apx_buf_str(&abs));
    apx_buf_free(&abs);
    if (rest < r->args->u.list.n) apx_mf_list_items(c, cJSON_AddArrayToObject(o, "args"), r->args, rest, "the arguments");
    break;
  }
  case APX_MF_EXECUTABLE:
    cJSON_AddStringToObject(o, "type", "executable.v0");
    apx_mf_add_path(c, o, "workingDirectory", r->workdir ? r->workdir : c->m->main_dir ? c->m->main_dir : ".");
    if (r->command) apx_mf_add(c, o, "command", r->command, "the command", NULL);
    else cJSON_AddStringToObject(o, "command", "");
    if (apx_mf_list_len(r->args)) apx_mf_list_items(c, cJSON_AddArrayToObject(o, "args"), r->args, 0, "the arguments");
    break;
  case APX_MF_NONE: break;
  }
  apx_mf_entries(c, o, "env", r->env, r->nenv, "environment variable");
  apx_mf_bindings(o, r);
  apx_mf_warn_lost(c, r, f);
  return o;
}

/* The companion Aspire writes for urlencode() of a parameter. */
static cJSON *apx_mf_uri_encoded(apx_mf *c, const apx_resource *p) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "type", "annotated.string");
  apx_buf v = {0};
  apx_mf_expr(c, &v, p->name, "value", NULL, NULL);
  cJSON_AddStringToObject(o, "value", apx_buf_str(&v));
  apx_buf_free(&v);
  cJSON_AddStringToObject(o, "filter", "uri");
  return o;
}

int apx_emit_manifest(apx_module *m, apx_output *out) {
  size_t errors0 = m->diag->errors;
  apx_mf c = {0};
  c.m = m;
  /* Paths are relative to the manifest's directory; on standard output,
   * to the current one, where it is presumably saved. */
  c.base = apx_output_dir(out) ? apx_output_dir(out) : ".";
  apx_map_init_ptr(&c.uri, m->arena);
  apx_map_init_ptr(&c.warned, m->arena);

  /* First every resource's object (which tells the parameters that need a
   * uri-encoded companion), then the document in declaration order, each
   * companion right after its parameter. */
  cJSON **objs = calloc(m->nresources ? m->nresources : 1, sizeof *objs);
  if (!objs) abort();
  for (size_t i = 0; i < m->nresources; i++) objs[i] = apx_mf_resource(&c, m->resources[i]);
  c.cur = NULL;

  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, "$schema", APX_MF_SCHEMA);
  cJSON *res = cJSON_AddObjectToObject(root, "resources");
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_resource *r = m->resources[i];
    if (!objs[i]) continue;
    cJSON_AddItemToObject(res, r->name, objs[i]);
    size_t *need = apx_map_ptr(&c.uri, r, NULL, false);
    if (!need || *need != 1) continue;
    apx_buf name = {0};
    apx_buf_puts(&name, r->name);
    apx_buf_puts(&name, APX_MF_URI_SUFFIX);
    const apx_resource *clash = apx_ir_resource_find(m, apx_buf_str(&name));
    if (clash)
      apx_error(m->diag, clash->name_loc,
                "'%s' is the name the Aspire manifest gives the uri-encoded value of parameter '%s'; rename it",
                clash->name, r->name);
    else cJSON_AddItemToObject(res, apx_buf_str(&name), apx_mf_uri_encoded(&c, r));
    apx_buf_free(&name);
  }
  free(objs);

  if (m->diag->errors == errors0) {
    char *json = cJSON_Print(root);
    cJSON_Delete(root);
    root = NULL;
    /* cJSON allocates with malloc (no hooks are set): the text is handed
     * to the output as it is, a newline added, not copied (13 MB at
     * 10,000 resources). */
    size_t len = json ? strlen(json) : 0;
    char *text = json ? realloc(json, len + 2) : NULL;
    if (!text) {
      cJSON_free(json);
      apx_error(m->diag, APX_NOLOC, "cannot write %s: out of memory", APX_MF_FILE);
    } else {
      text[len] = '\n';
      text[len + 1] = '\0';
      apx_output_add_owned(out, APX_MF_FILE, text, len + 1);
    }
  }
  cJSON_Delete(root);
  return (int)(m->diag->errors - errors0);
}
