/* Pass 4, validate: checks the typed model as a whole. Resource names are
 * DNS labels (PCRE2), images are OCI references (PCRE2), waits form no cycle (the whole cycle is printed),
 * fixed host ports do not clash, nothing waits on what can never be healthy
 * or complete, and every endpoint a reference or a health check names
 * exists. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/names.h"
#include "ir/walk.h"
#include "passes_internal.h"
#include "pipeline.h"

/* ---- names ----------------------------------------------------------- */

static const char *apx_dns_fix(apx_module *m, const char *name) {
  size_t n = strlen(name);
  char *s = apx_arena_alloc(m->arena, n + 2);
  size_t o = 0;
  for (size_t i = 0; i < n && o < 63; i++) {
    unsigned char c = (unsigned char)name[i];
    if (isalnum(c)) s[o++] = (char)tolower(c);
    else if (o && s[o - 1] != '-') s[o++] = '-';
  }
  while (o && s[o - 1] == '-') o--;
  s[o] = '\0';
  if (o == 0 || !isalpha((unsigned char)s[0])) return apx_arena_printf(m->arena, "r-%s", s);
  return s;
}

/* A pattern matched once per resource is compiled to machine code when
 * there are many (the interpreter costs about 3,000 instructions a match;
 * compiling costs about as much as a few hundred matches). Without JIT
 * support pcre2_match interprets, as before. */
enum { APX_JIT_MIN = 256 };

static void apx_re_jit(pcre2_code *re, size_t uses) {
  if (uses >= APX_JIT_MIN) (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
}

/* A name the pattern below certainly matches: a lower-case letter, then
 * letters, digits and '-', not ending in '-', 63 at most. The pattern
 * decides the rest (its '$' also passes a final newline). */
static bool apx_dns_plain(const char *s) {
  if (!(s[0] >= 'a' && s[0] <= 'z')) return false;
  size_t i = 1;
  for (; s[i]; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-') || i >= 63) return false;
  return s[i - 1] != '-';
}

static void apx_validate_names(apx_module *m) {
  pcre2_code *re = NULL; /* compiled for the first name apx_dns_plain does not pass */
  pcre2_match_data *md = NULL;
  for (size_t i = 0; i < m->nresources; i++) {
    apx_resource *r = m->resources[i];
    /* Params become variable names (PG_PASSWORD), not services. */
    if (r->kind == APX_KIND_PARAM) continue;
    if (apx_dns_plain(r->name)) continue;
    if (!re) {
      int err;
      PCRE2_SIZE off;
      re = pcre2_compile((PCRE2_SPTR) "^[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?$", PCRE2_ZERO_TERMINATED, 0, &err, &off, NULL);
      if (!re) abort();
      apx_re_jit(re, m->nresources - i);
      md = pcre2_match_data_create_from_pattern(re, NULL);
    }
    if (pcre2_match(re, (PCRE2_SPTR)r->name, strlen(r->name), 0, 0, md, NULL) >= 0) continue;
    apx_diagnostic *d = apx_error(m->diag, r->name_loc, "'%s' is not a valid resource name", r->name);
    apx_diag_hint(m->diag, d,
                  "names become DNS labels (lower-case letters, digits and '-', starting with a letter, at most 63 "
                  "characters): try '%s'",
                  apx_dns_fix(m, r->name));
  }
  if (re) {
    pcre2_match_data_free(md);
    pcre2_code_free(re);
  }
}

/* ---- image references ------------------------------------------------ */

/* The grammar of an image reference, as the OCI distribution reference
 * (distribution/reference, reference.go) defines it:
 *   reference := name [":" tag] ["@" digest]
 *   name      := [host[":" port] "/"] path-component ("/" path-component)*
 * Every repetition is separated by a character that cannot start the
 * repeated part, so matching is linear; the lengths are checked before it. */
#define APX_IMG_ALNUM "[a-z0-9]+"
#define APX_IMG_PATHC APX_IMG_ALNUM "(?:(?:[._]|__|-+)" APX_IMG_ALNUM ")*"
#define APX_IMG_DNC "[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?"
#define APX_IMG_HOST "(?:" APX_IMG_DNC "(?:\\." APX_IMG_DNC ")*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?"
#define APX_IMG_NAME "(?:" APX_IMG_HOST "/)?" APX_IMG_PATHC "(?:/" APX_IMG_PATHC ")*"
#define APX_IMG_TAG "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
#define APX_IMG_DIGEST "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}"

enum { APX_IMG_NAME_MAX = 255, APX_IMG_TAG_MAX = 128, APX_IMG_DIGEST_MAX = 1024 };

typedef struct apx_img_re {
  pcre2_code *name, *tag, *digest;
  pcre2_match_data *md;
} apx_img_re;

static pcre2_code *apx_img_compile(const char *pattern) {
  int err;
  PCRE2_SIZE off;
  pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, PCRE2_ANCHORED | PCRE2_ENDANCHORED,
                                 &err, &off, NULL);
  if (!re) abort();
  return re;
}

static bool apx_img_match(apx_img_re *x, pcre2_code *re, const char *s, size_t n) {
  return pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, x->md, NULL) >= 0;
}

/* The parts of a reference: the digest after the first '@', the tag after
 * the last ':' that follows the last '/' of what is before it. */
typedef struct { size_t name, tag, digest; bool has_tag, has_digest; } apx_img_split;

static apx_img_split apx_img_parts(const char *s, size_t n) {
  apx_img_split p = {n, 0, 0, false, false};
  const char *at = memchr(s, '@', n);
  if (at) {
    p.has_digest = true;
    p.digest = n - (size_t)(at - s) - 1;
    p.name = (size_t)(at - s);
  }
  for (size_t i = p.name; i-- > 0;) {
    if (s[i] == '/') break;
    if (s[i] == ':') {
      p.has_tag = true;
      p.tag = p.name - i - 1;
      p.name = i;
      break;
    }
  }
  return p;
}

/* A name that the grammar accepts, made from a wrong one: lower-case, other
 * characters as '-', no separator at either end of a component. */
static char *apx_img_fix_name(apx_module *m, const char *s, size_t n) {
  char *o = apx_arena_alloc(m->arena, n + 1);
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (isalnum(c)) o[k++] = (char)tolower(c);
    else if (c == '/') {
      while (k && o[k - 1] == '-') k--;
      if (k && o[k - 1] != '/') o[k++] = '/';
    } else if (k && o[k - 1] != '-' && o[k - 1] != '/') o[k++] = (c == '.' || c == '_') ? (char)c : '-';
  }
  while (k && (o[k - 1] == '-' || o[k - 1] == '/' || o[k - 1] == '.' || o[k - 1] == '_')) k--;
  o[k] = '\0';
  return o;
}

/* Whether the image is valid; reports why not. */
static bool apx_validate_image_string(apx_module *m, apx_img_re *x, const apx_value *v) {
  const char *s = v->u.str.s;
  size_t n = v->u.str.len;
  const char *form = "an image reference is [HOST[:PORT]/]PATH[:TAG][@DIGEST], e.g. docker.io/library/postgres:16";
  if (n == 0) {
    apx_diag_hint(m->diag, apx_error(m->diag, v->loc, "the image is empty"), "%s", form);
    return false;
  }
  apx_img_split p = apx_img_parts(s, n);
  /* Lengths first: a 5 MB string costs one scan and no matching. */
  if (p.name > APX_IMG_NAME_MAX) {
    apx_diag_hint(m->diag, apx_error(m->diag, v->loc, "the image name is %zu characters long", p.name),
                  "an image name (before ':TAG' and '@DIGEST') is at most %d characters", APX_IMG_NAME_MAX);
    return false;
  }
  if (p.tag > APX_IMG_TAG_MAX) {
    apx_diag_hint(m->diag, apx_error(m->diag, v->loc, "the image tag is %zu characters long", p.tag),
                  "a tag is at most %d characters", APX_IMG_TAG_MAX);
    return false;
  }
  if (p.digest > APX_IMG_DIGEST_MAX) {
    apx_diag_hint(m->diag, apx_error(m->diag, v->loc, "the image digest is %zu characters long", p.digest),
                  "a digest is ALGORITHM:HEX, e.g. sha256: and 64 hex digits");
    return false;
  }
  const char *tag = s + p.name + 1, *digest = s + n - p.digest;
  bool name_ok = p.name > 0 && apx_img_match(x, x->name, s, p.name);
  bool tag_ok = !p.has_tag || apx_img_match(x, x->tag, tag, p.tag);
  bool digest_ok = !p.has_digest || apx_img_match(x, x->digest, digest, p.digest);
  if (name_ok && tag_ok && digest_ok) return true;
  if (!apx_diag_shows(m->diag, APX_DIAG_ERROR)) {
    apx_error(m->diag, v->loc, "invalid image");
    return false;
  }
  if (p.name == 0) {
    apx_diag_hint(m->diag, apx_error(m->diag, v->loc, "the image has no name before its '%c'", s[0]), "%s", form);
  } else if (!name_ok) {
    apx_diagnostic *d = apx_error(m->diag, v->loc, "'%.*s' is not a valid image name", (int)p.name, s);
    const char *fix = apx_img_fix_name(m, s, p.name);
    size_t nf = strlen(fix);
    bool lower_only = nf == p.name;
    for (size_t i = 0; lower_only && i < nf; i++) lower_only = fix[i] == tolower((unsigned char)s[i]);
    if (nf && tag_ok && digest_ok && apx_img_match(x, x->name, fix, nf))
      apx_diag_hint(m->diag, d, lower_only ? "image names are lower-case; write '%s%.*s'"
                                           : "image names are lower-case letters and digits, with '.', '_' or '-' "
                                             "between them and '/' between components; write '%s%.*s'",
                    fix, (int)(n - p.name), s + p.name);
    else
      apx_diag_hint(m->diag, d, "%s", form);
  } else if (!tag_ok) {
    apx_diag_hint(m->diag, apx_error(m->diag, v->loc, "'%.*s' is not a valid image tag", (int)p.tag, tag),
                  "a tag is letters, digits, '_', '.' and '-', not starting with '.' or '-', at most %d characters",
                  APX_IMG_TAG_MAX);
  } else {
    apx_diag_hint(m->diag, apx_error(m->diag, v->loc, "'%.*s' is not a valid image digest", (int)p.digest, digest),
                  "a digest is ALGORITHM:HEX with at least 32 hex digits, e.g. sha256: and 64 hex digits");
  }
  return false;
}

/* A template (an image with a parameter or an input known only later):
 * only its literal text is checked, for characters no reference holds. */
static void apx_validate_image_template(apx_module *m, const apx_value *v) {
  for (size_t i = 0; i < v->u.tpl.n; i++) {
    const apx_tpart *t = &v->u.tpl.parts[i];
    for (size_t k = 0; t->text && k < t->len; k++) {
      unsigned char c = (unsigned char)t->text[k];
      if (isalnum(c) || strchr("._-/:@[]+", c)) continue;
      apx_diagnostic *d = isgraph(c) ? apx_error(m->diag, v->loc, "an image reference cannot hold '%c'", c)
                                     : apx_error(m->diag, v->loc, "an image reference cannot hold a space or a control character");
      apx_diag_hint(m->diag, d, "an image reference is [HOST[:PORT]/]PATH[:TAG][@DIGEST]");
      return;
    }
  }
}

static void apx_validate_images(apx_module *m) {
  apx_img_re x = {apx_img_compile(APX_IMG_NAME), apx_img_compile(APX_IMG_TAG), apx_img_compile(APX_IMG_DIGEST), NULL};
  x.md = pcre2_match_data_create(1, NULL);
  apx_re_jit(x.name, m->nresources);
  apx_re_jit(x.tag, m->nresources);
  /* The images found valid, by their text: most resources share a few. */
  apx_map valid;
  apx_map_init_str(&valid, m->arena);
  for (size_t i = 0; i < m->nresources; i++) {
    const apx_value *v = m->resources[i]->image;
    if (!v) continue;
    if (v->kind == APX_V_STRING) {
      bool keyed = strlen(v->u.str.s) == v->u.str.len; /* a NUL inside: not a key */
      if (keyed && apx_map_str(&valid, v->u.str.s, false)) continue;
      if (apx_validate_image_string(m, &x, v) && keyed) *apx_map_str(&valid, v->u.str.s, true) = 0;
    } else if (v->kind == APX_V_TEMPLATE) {
      apx_validate_image_template(m, v);
    }
  }
  apx_map_release(&valid);
  pcre2_match_data_free(x.md);
  pcre2_code_free(x.name);
  pcre2_code_free(x.tag);
  pcre2_code_free(x.digest);
}

/* ---- wait cycles ------------------------------------------------------ */

static bool apx_is_wait(apx_dep_kind k) { return k != APX_DEP_REFERENCE; }

typedef struct apx_frame {
  apx_resource *r;
  size_t next_dep;
  size_t *state; /* r's slot in the map (made with room for all resources) */
} apx_frame;

/* Iterative DFS: a deep chain must not exhaust the C stack. */
static size_t *apx_state(apx_map *pm, const apx_resource *r) {
  size_t *v = apx_map_ptr(pm, r, NULL, true);
  if (*v == (size_t)-1) *v = 0;
  return v;
}

static void apx_validate_cycles(apx_module *m) {
  apx_map pm;
  apx_map_init_ptr(&pm, m->arena);
  apx_map_reserve(&pm, m->nresources);
  apx_frame *stack = calloc(m->nresources + 1, sizeof *stack);
  if (!stack) abort();
  enum { WHITE, GREY, BLACK };
  for (size_t i = 0; i < m->nresources; i++) {
    apx_resource *root = m->resources[i];
    size_t *rs = apx_state(&pm, root);
    if (*rs != WHITE) continue;
    size_t sp = 0;
    stack[sp++] = (apx_frame){root, 0, rs};
    *rs = GREY;
    while (sp) {
      apx_frame *f = &stack[sp - 1];
      if (f->next_dep >= f->r->ndeps) {
        *f->state = BLACK;
        sp--;
        continue;
      }
      apx_dep *d = &f->r->deps[f->next_dep++];
      if (!apx_is_wait(d->kind)) continue;
      apx_resource *t = (apx_resource *)apx_ir_runner(d->target);
      size_t cap = pm.cap;
      size_t *st = apx_state(&pm, t);
      if (pm.cap != cap) /* a resource beyond the list grew the map: its slots moved */
        for (size_t k = 0; k < sp; k++) stack[k].state = apx_state(&pm, stack[k].r);
      if (*st == WHITE) {
        *st = GREY;
        stack[sp++] = (apx_frame){t, 0, st};
      } else if (*st == GREY) {
        /* The cycle is the stack from t to the top, closed by this edge. */
        size_t from = sp;
        while (from > 0 && stack[from - 1].r != t) from--;
        apx_buf chain = {0}; /* not arena printf in the loop: that is quadratic in the cycle's length */
        for (size_t k = from - 1; k < sp; k++) apx_buf_printf(&chain, "%s -> ", stack[k].r->name);
        apx_diagnostic *dg = apx_error(m->diag, d->loc, "dependency cycle: %s%s", apx_buf_str(&chain), t->name);
        apx_buf_free(&chain);
        apx_diag_hint(m->diag, dg, "nothing in a cycle can ever start; remove one of these waits");
        /* Report each cycle once: mark it finished. */
        for (size_t k = from - 1; k < sp; k++) *stack[k].state = BLACK;
        sp = from - 1;
      }
    }
  }
  free(stack);
  apx_map_release(&pm); /* its slots go to the next map of their size */
}

/* ---- waits and ports ---------------------------------------------------- */

static void apx_validate_waits(apx_module *m) {
  for (size_t i = 0; i < m->nresources; i++) {
    apx_resource *r = m->resources[i];
    for (size_t k = 0; k < r->ndeps; k++) {
      apx_dep *d = &r->deps[k];
      apx_resource *t = d->target;
      if (!t->type) continue; /* unknown kind: reported by resolve */
      if (d->kind == APX_DEP_REFERENCE) {
        if (t->kind == APX_KIND_PARAM) {
          apx_diagnostic *dg = apx_error(m->diag, d->loc, "'%s' is a param: references name resources", t->name);
          apx_diag_hint(m->diag, dg, "pass a param through env { %s = %s }", apx_name_env_var(m->arena, t->name), t->name);
        } else if (!t->connection_string && !t->url && apx_ir_runner(t)->nendpoints == 0) {
          apx_warning(m->diag, d->loc, "'%s' has no endpoint, url or connection string: referencing it injects nothing",
                      t->name);
        }
        continue;
      }
      const char *what = apx_ir_dep_kind_name(d->kind);
      const apx_resource *runner = apx_ir_runner(t);
      if (!apx_ir_kind_runs(runner->kind)) {
        apx_diagnostic *dg = apx_error(m->diag, d->loc, "'%s' can never be %s: %s %s is not run by aspirec", t->name,
                                       d->kind == APX_DEP_WAIT_COMPLETION ? "complete" : "healthy",
                                       t->kind == APX_KIND_PARAM ? "a param" : "an external", t->name);
        apx_diag_hint(m->diag, dg, "remove it from %s; to use its values, list it in references", what);
        continue;
      }
      if (d->kind == APX_DEP_WAIT_COMPLETION) {
        if (runner != t) {
          apx_error(m->diag, d->loc, "'%s' is part of '%s', which runs as a server: it never completes", t->name,
                    runner->name);
        } else if (t->restart == APX_RESTART_ALWAYS) {
          apx_diagnostic *dg = apx_error(m->diag, d->loc, "'%s' has restart = \"always\": it never completes", t->name);
          apx_diag_hint(m->diag, dg, "use wait_for (healthy) or set restart = \"no\" on %s", t->name);
        }
      }
      if (runner->explicit_start)
        apx_warning(m->diag, d->loc, "'%s' waits for '%s', which only starts when asked (explicit_start)", r->name,
                    runner->name);
    }
  }
}

static void apx_validate_ports(apx_module *m) {
  /* Fixed ports are few; a 65536-slot table per protocol is simplest
   * (made at the first: most modules have none). */
  const apx_endpoint **seen = NULL;
  const apx_resource **owner = NULL;
  for (size_t i = 0; i < m->nresources; i++) {
    apx_resource *r = m->resources[i];
    for (size_t k = 0; k < r->nendpoints; k++) {
      const apx_endpoint *e = &r->endpoints[k];
      if (!e->port) continue;
      if (!seen) {
        seen = calloc(2 * 65536, sizeof *seen);
        owner = calloc(2 * 65536, sizeof *owner);
        if (!seen || !owner) abort();
      }
      if (r->replicas > 1) {
        apx_diagnostic *d = apx_error(m->diag, e->loc, "endpoint '%s' of '%s' has a fixed port but %d replicas", e->name,
                                      r->name, r->replicas);
        apx_diag_hint(m->diag, d, "replicas cannot share one host port: remove port to have one allocated for each");
      }
      size_t slot = (size_t)e->port + (e->protocol && strcmp(e->protocol, "udp") == 0 ? 65536 : 0);
      if (seen[slot]) {
        apx_error(m->diag, e->loc, "port %d is used twice: by '%s' (endpoint %s) and '%s' (endpoint %s)", e->port,
                  owner[slot]->name, seen[slot]->name, r->name, e->name);
        apx_note(m->diag, seen[slot]->loc, "port %d first used here", e->port);
        continue;
      }
      seen[slot] = e;
      owner[slot] = r;
    }
  }
  free(seen);
  free(owner);
}

/* ---- references inside values ------------------------------------------ */

/* The endpoint of r whose name is closest to `name`, within the budget. */
static const char *apx_endpoint_suggestion(apx_module *m, const apx_resource *r, const char *name) {
  if (!r->nendpoints || !apx_diag_may_suggest(m->diag)) return NULL;
  const char **c = malloc(sizeof *c * r->nendpoints);
  if (!c) abort();
  for (size_t i = 0; i < r->nendpoints; i++) c[i] = r->endpoints[i].name;
  const char *s = apx_suggest(name, c, r->nendpoints);
  free(c);
  return s;
}

typedef struct apx_vctx {
  apx_module *m;
  apx_resource *r;
  bool in_local;
} apx_vctx;

static void apx_validate_ref(apx_vctx *V, const apx_ref *ref) {
  apx_module *m = V->m;
  const apx_resource *t = ref->target;
  if (!t) return;
  switch (ref->prop) {
  case APX_PROP_EP_URL: case APX_PROP_EP_HOST: case APX_PROP_EP_PORT:
  case APX_PROP_EP_TARGET_PORT: case APX_PROP_EP_SCHEME:
    if (!apx_ir_endpoint_find(t, ref->endpoint)) {
      apx_loc loc = ref->endpoint_end ? (apx_loc){ref->loc.file, ref->endpoint_begin, ref->endpoint_end} : ref->loc;
      const char *s = apx_endpoint_suggestion(m, t, ref->endpoint);
      apx_diagnostic *d = apx_error(m->diag, loc, "'%s' has no endpoint '%s'", t->name, ref->endpoint);
      if (s) apx_diag_hint(m->diag, d, "did you mean '%s'?", s);
      else if (t->nendpoints == 0) apx_diag_hint(m->diag, d, "'%s' declares no endpoints", t->name);
    }
    break;
  case APX_PROP_CONNECTION_STRING:
    if (!t->connection_string)
      apx_error(m->diag, ref->loc, "'%s' has no connection string", t->name);
    break;
  case APX_PROP_URL:
    if (!t->url) {
      apx_diagnostic *d = apx_error(m->diag, ref->loc, "'%s' has no url", t->name);
      if (t->nendpoints) apx_diag_hint(m->diag, d, "did you mean %s.endpoints.%s.url?", t->name, t->endpoints[0].name);
    }
    break;
  case APX_PROP_STATE_DIR:
    if (!V->in_local) {
      apx_diagnostic *d = apx_error(m->diag, ref->loc, "state_dir exists only in run mode");
      apx_diag_hint(m->diag, d, "use it inside local { … }, which only run mode uses");
    }
    break;
  case APX_PROP_RESOURCE:
    if (t->kind != APX_KIND_PARAM) {
      /* Only a param has a bare value; anything else needs a property. */
      apx_diagnostic *d = apx_error(m->diag, ref->loc, "'%s' is a resource: say which of its values to use", t->name);
      if (t->connection_string) apx_diag_hint(m->diag, d, "did you mean %s.connection_string?", t->name);
      else if (t->url) apx_diag_hint(m->diag, d, "did you mean %s.url?", t->name);
      else if (t->nendpoints) apx_diag_hint(m->diag, d, "did you mean %s.endpoints.%s.url?", t->name, t->endpoints[0].name);
    }
    break;
  default: break;
  }
}

static apx_walk_step apx_validate_visit_ref(void *ud, apx_ref *ref) {
  apx_validate_ref(ud, ref);
  return APX_WALK_ON;
}

static void apx_validate_value(apx_vctx *V, const apx_value *v) {
  static const apx_value_visitor vis = {NULL, apx_validate_visit_ref};
  if (!v || v->kind == APX_V_STRING) return; /* most: nothing to walk */
  apx_ir_value_walk(v, &vis, V);
}

static void apx_validate_entries(apx_vctx *V, const apx_entry *e, size_t n) {
  for (size_t i = 0; i < n; i++) apx_validate_value(V, e[i].value);
}

static void apx_validate_health(apx_module *m, apx_resource *r) {
  for (size_t i = 0; i < r->nhealth; i++) {
    apx_health *h = &r->health[i];
    if (h->endpoint && !apx_ir_endpoint_find(r, h->endpoint)) {
      const char *s = apx_endpoint_suggestion(m, r, h->endpoint);
      apx_diagnostic *d = apx_error(m->diag, h->loc, "health check names endpoint '%s', which '%s' does not have",
                                    h->endpoint, r->name);
      if (s) apx_diag_hint(m->diag, d, "did you mean '%s'?", s);
    }
    if (h->kind == APX_HEALTH_LOG && h->pattern) {
      int err;
      PCRE2_SIZE off;
      pcre2_code *re = pcre2_compile((PCRE2_SPTR)h->pattern, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &err, &off, NULL);
      if (!re) {
        PCRE2_UCHAR msg[256];
        pcre2_get_error_message(err, msg, sizeof msg);
        apx_error(m->diag, h->loc, "health log pattern is not a valid regular expression: %s (at offset %zu)",
                  (const char *)msg, (size_t)off);
      }
      pcre2_code_free(re);
    }
  }
}

/* Connection strings that refer to each other in a loop cannot be rendered. */
static bool apx_cs_loops(const apx_value *v, const apx_resource *start, int depth) {
  if (!v || depth > 64) return depth > 64;
  if (v->kind != APX_V_TEMPLATE) return false;
  for (size_t i = 0; i < v->u.tpl.n; i++) {
    const apx_ref *ref = v->u.tpl.parts[i].ref;
    if (!ref || !ref->target) continue;
    if (ref->prop != APX_PROP_CONNECTION_STRING && ref->prop != APX_PROP_RESOURCE) continue;
    if (ref->target == start) return true;
    if (apx_cs_loops(ref->target->connection_string, start, depth + 1)) return true;
  }
  return false;
}

int apx_pass_validate(apx_module *m) {
  size_t errors = m->diag->errors;
  apx_validate_names(m);
  apx_validate_images(m);
  apx_validate_cycles(m);
  apx_validate_waits(m);
  apx_validate_ports(m);
  for (size_t i = 0; i < m->nresources; i++) {
    apx_resource *r = m->resources[i];
    apx_vctx V = {m, r, false};
    apx_validate_value(&V, r->image);
    apx_validate_value(&V, r->command);
    apx_validate_value(&V, r->args);
    apx_validate_value(&V, r->entrypoint);
    apx_validate_entries(&V, r->env, r->nenv);
    apx_validate_entries(&V, r->labels, r->nlabels);
    apx_validate_entries(&V, r->annotations, r->nannotations);
    apx_validate_value(&V, r->connection_string);
    apx_validate_value(&V, r->url);
    if (r->build) apx_validate_entries(&V, r->build->args, r->build->nargs);
    for (size_t k = 0; k < r->nhealth; k++) apx_validate_value(&V, r->health[k].exec);
    if (r->local) {
      V.in_local = true;
      apx_validate_value(&V, r->local->command);
      apx_validate_value(&V, r->local->args);
      apx_validate_value(&V, r->local->setup);
      apx_validate_entries(&V, r->local->env, r->local->nenv);
    }
    apx_validate_health(m, r);
    if (apx_cs_loops(r->connection_string, r, 0))
      apx_error(m->diag, r->connection_string->loc, "the connection string of '%s' refers to itself", r->name);
  }
  return (int)(m->diag->errors - errors);
}
