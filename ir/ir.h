/* The platform-neutral IR: an application model of resources and parameters.
 * Passes fill it in and check it; back ends and the runtime render it.
 *
 * Life of a resource: ir/lower.c creates it with its generic `body` (items as
 * written); passes/resolve.c resolves kinds and names; passes/expand.c merges
 * component bodies and substitutes inputs; passes/typecheck.c reads the body
 * into the typed fields below; validate checks; enrich fills defaults and the
 * reference environment. Back ends only read typed fields.
 *
 * Values that depend on where the app runs (hosts, ports, parameter values)
 * stay symbolic as templates of text and references; ir/render.c renders them
 * for a target. Plugins see this through include/aspirec.h, not this file. */
#ifndef APX_IR_H
#define APX_IR_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/diag.h"
#include "base/map.h"

typedef struct apx_module apx_module;
typedef struct apx_resource apx_resource;
typedef struct apx_component apx_component;
typedef struct apx_value apx_value;
typedef struct apx_item apx_item;

/* ---- values ---------------------------------------------------------- */

typedef enum {
  APX_V_NULL,
  APX_V_BOOL,
  APX_V_INT,
  APX_V_DURATION, /* milliseconds in .i */
  APX_V_STRING,   /* plain text, nothing deferred */
  APX_V_TEMPLATE, /* text and references, rendered per target */
  APX_V_LIST,
  APX_V_MAP,
  APX_V_REF,      /* a reference on its own (`[catalog, cache]`, `CACHE = cache.connection_string`) */
  APX_V_CALL,     /* a built-in call not yet folded (inputs still unknown); gone after expand */
} apx_value_kind;

/* A value with no reference and no children: nothing in it to walk or
 * expand. */
static inline bool apx_ir_value_is_scalar(apx_value_kind k) {
  return k == APX_V_NULL || k == APX_V_BOOL || k == APX_V_INT || k == APX_V_DURATION || k == APX_V_STRING;
}

/* What a reference points at, once resolved. */
typedef enum {
  APX_PROP_RESOURCE,          /* the resource itself: `references = [db]` */
  APX_PROP_CONNECTION_STRING, /* x.connection_string */
  APX_PROP_VALUE,             /* p.value (also a bare param name used as a value) */
  APX_PROP_NAME,              /* x.name */
  APX_PROP_URL,               /* x.url (external) */
  APX_PROP_EP_URL,            /* x.endpoints.e.url */
  APX_PROP_EP_HOST,           /* x.endpoints.e.host */
  APX_PROP_EP_PORT,           /* x.endpoints.e.port: the port clients use */
  APX_PROP_EP_TARGET_PORT,    /* x.endpoints.e.target_port: the port the workload listens on */
  APX_PROP_EP_SCHEME,         /* x.endpoints.e.scheme */
  APX_PROP_STATE_DIR,         /* self.state_dir: run mode's per-resource directory (local {} only) */
  APX_PROP_INPUT,             /* a component input; replaced by expand */
} apx_prop;

/* A transformation applied to a deferred reference when it is rendered
 * (lower(), upper(), urlencode() of something only known per target). */
typedef enum { APX_FILTER_NONE, APX_FILTER_URLENCODE, APX_FILTER_LOWER, APX_FILTER_UPPER } apx_filter;

/* Where a path segment is written: offsets in its reference's file. */
typedef struct apx_span {
  uint32_t begin, end;
} apx_span;

/* Fields ordered so that no padding is left: a large app has a hundred
 * thousand references. */
typedef struct apx_ref {
  /* Segments as written: {"db", "connection_string"}. Allocated with the
   * generic items (m->items): read by resolve and expand, which bind the
   * reference, and gone with the items after typecheck (apx_ir_drop_items). */
  const char **path;
  apx_span *path_locs;  /* apx_ref_path_loc */
  /* Filled by resolve/expand: */
  apx_resource *target;
  const char *endpoint; /* endpoint name for APX_PROP_EP_* */
  apx_loc loc;
  uint32_t npath;
  apx_prop prop;       /* resolve/expand */
  apx_filter filter;
  /* Where the endpoint's name is written (in loc.file), for messages about
   * it; both 0 when it is not written (a reference a pass made). */
  uint32_t endpoint_begin, endpoint_end;
} apx_ref;

typedef struct apx_tpart {
  const char *text; /* literal text, or NULL when ref is set */
  size_t len;
  apx_ref *ref;
} apx_tpart;

typedef struct apx_entry {
  const char *key;
  apx_loc key_loc;
  apx_value *value;
} apx_entry;

struct apx_value {
  apx_value_kind kind;
  apx_loc loc;
  union {
    bool b;
    int64_t i; /* APX_V_INT, APX_V_DURATION */
    struct { const char *s; size_t len; } str;
    struct { apx_tpart *parts; size_t n; } tpl;
    struct { apx_value **items; size_t n; } list;
    struct { apx_entry *entries; size_t n; } map;
    apx_ref *ref;
    /* The name is where loc begins; relative paths (file()) are against
     * the directory of loc's file. Neither is stored: the largest member
     * sets the size of every value. */
    struct { const char *name; apx_value **args; size_t n; } call;
  } u;
};

/* Where segment i of a reference's path is written. */
static inline apx_loc apx_ref_path_loc(const apx_ref *r, uint32_t i) {
  return (apx_loc){r->loc.file, r->path_locs[i].begin, r->path_locs[i].end};
}

/* ---- generic items (before typecheck) ---------------------------------- */

typedef enum { APX_IT_ATTR, APX_IT_BLOCK } apx_item_kind;

struct apx_item {
  /* An apx_item_kind in one byte, beside name_quoted; the name's and the
   * label's locations are offsets in loc's file (apx_item_name_loc,
   * apx_item_label_loc): with loc they fill 32 bytes (items are a third of
   * the memory before typecheck). */
  unsigned char kind;
  bool name_quoted;
  apx_loc loc;
  uint32_t name_begin, name_end, label_begin, label_end;
  const char *name;  /* attribute name, or block keyword */
  const char *label; /* block label or NULL */
  union {            /* by kind: 8 bytes on each of a large app's items */
    apx_value *value; /* APX_IT_ATTR */
    apx_item *body;   /* APX_IT_BLOCK: its items */
  };
  /* Relative paths in it are against the directory of the file that wrote
   * it: apx_diag_source(diag, loc.file)->dir (not stored: 8 bytes on each of
   * hundreds of thousands of items). */
  apx_component *from; /* the component whose body wrote it, or NULL (instance) */
  apx_item *next;
};

static inline apx_loc apx_item_name_loc(const apx_item *it) {
  return (apx_loc){it->loc.file, it->name_begin, it->name_end};
}
static inline apx_loc apx_item_label_loc(const apx_item *it) {
  return (apx_loc){it->loc.file, it->label_begin, it->label_end};
}
/* Sets them (loc must be set, and they must be in its file). */
static inline void apx_item_set_name_loc(apx_item *it, apx_loc l) {
  it->name_begin = l.begin;
  it->name_end = l.end;
}
static inline void apx_item_set_label_loc(apx_item *it, apx_loc l) {
  it->label_begin = l.begin;
  it->label_end = l.end;
}

/* ---- typed resource fields (after typecheck) --------------------------- */

typedef enum {
  APX_KIND_CONTAINER,
  APX_KIND_EXECUTABLE,
  APX_KIND_PROJECT,
  APX_KIND_EXTERNAL,
  APX_KIND_PARAM,
  APX_KIND__COUNT
} apx_kind;

typedef enum { APX_RESTART_DEFAULT, APX_RESTART_NO, APX_RESTART_ON_FAILURE, APX_RESTART_ALWAYS } apx_restart;
typedef enum { APX_LIFETIME_SESSION, APX_LIFETIME_PERSISTENT } apx_lifetime;

typedef struct apx_endpoint {
  const char *name;
  apx_loc loc;
  int port;               /* host/public port; 0 = allocate at run time */
  int target_port;        /* port the workload listens on; 0 = unset */
  bool target_port_defaulted; /* enrich chose it; run mode may allocate instead */
  const char *scheme;     /* http, https, tcp, grpc (enrich defaults it from the name) */
  const char *protocol;   /* tcp or udp */
  bool external;
  const char *env;        /* variable that receives the listening port, or NULL */
} apx_endpoint;

typedef struct apx_volume {
  const char *name;
  apx_loc loc;
  const char *target;
  bool readonly;
} apx_volume;

typedef struct apx_bind {
  apx_loc loc;
  const char *source;      /* as written */
  const char *source_abs;  /* resolved against the writing file's directory */
  const char *target;
  bool readonly;
} apx_bind;

typedef enum { APX_HEALTH_HTTP, APX_HEALTH_TCP, APX_HEALTH_EXEC, APX_HEALTH_LOG } apx_health_kind;

typedef struct apx_health {
  apx_health_kind kind;
  apx_loc loc;
  const char *path;      /* http: request path */
  const char *endpoint;  /* http, tcp: endpoint name (defaulted by enrich) */
  apx_value *exec;       /* exec: list of strings/templates (argv) */
  const char *pattern;   /* log: PCRE2 pattern */
  int64_t interval_ms, timeout_ms, start_period_ms;
  int retries;
} apx_health;

typedef enum {
  APX_DEP_REFERENCE,       /* references = [...] */
  APX_DEP_WAIT_HEALTHY,    /* wait_for */
  APX_DEP_WAIT_START,      /* wait_for_start */
  APX_DEP_WAIT_COMPLETION, /* wait_for_completion */
} apx_dep_kind;

typedef struct apx_dep {
  apx_dep_kind kind;
  apx_resource *target;
  apx_loc loc;
} apx_dep;

typedef struct apx_build {
  apx_loc loc;
  const char *context;     /* as written */
  const char *context_abs;
  const char *dockerfile;  /* NULL: Dockerfile in the context */
  apx_entry *args; size_t nargs;
  const char *target;      /* multi-stage target, or NULL */
} apx_build;

/* How to run a container resource as a host process when no engine exists. */
typedef struct apx_local {
  apx_loc loc;
  apx_value *command;    /* string or template */
  apx_value *args;       /* list */
  const char *workdir;   /* absolute */
  apx_value *setup;      /* list of commands; each a list (argv) or a string (sh -c) */
  apx_entry *env; size_t nenv;
  const char *user;      /* run as this user when aspirec is root, or NULL */
} apx_local;

typedef struct apx_generate {
  int length;
  bool lower, upper, numeric, special;
  int min_lower, min_upper, min_numeric, min_special;
} apx_generate;

typedef enum {
  APX_PARAM_UNSET,        /* no value at compile time */
  APX_PARAM_FROM_CLI,     /* -p NAME=VALUE */
  APX_PARAM_FROM_ENV,     /* APX_PARAM_<NAME> */
  APX_PARAM_FROM_DEFAULT, /* default = … */
} apx_param_source;

typedef struct apx_param {
  bool secret;
  apx_value *def;           /* default, or NULL */
  bool has_generate;
  apx_generate generate;
  const char *description;
  const char *value;        /* compile-time value, or NULL (then source UNSET) */
  apx_param_source source;
  const char *env_name;     /* PG_PASSWORD: the variable a target uses */
} apx_param;

struct apx_resource {
  const char *name;
  apx_loc loc;       /* the whole declaration */
  apx_loc name_loc;
  apx_kind kind;
  const char *type;           /* kind or component name as written: "postgres" */
  apx_loc type_loc;
  apx_component *component;   /* NULL for a built-in kind */
  apx_resource *parent;       /* child resources (a postgres database) */
  const char *dir;            /* directory of the declaring file */
  apx_item *body;             /* generic items; after expand, the merged body */
  apx_entry *inputs; size_t ninputs; /* component input values (expand) */

  /* typed (typecheck and after) */
  apx_value *image;           /* string or template */
  apx_build *build;
  apx_value *command;         /* string or template */
  apx_value *args;            /* list, or NULL */
  apx_value *entrypoint;      /* list, or NULL */
  const char *workdir;        /* absolute; executables default to the main file's dir */
  const char *workdir_written;
  apx_entry *env; size_t nenv, capenv; /* ordered as written, then enrich's additions */
  apx_endpoint *endpoints; size_t nendpoints, capendpoints;
  apx_volume *volumes; size_t nvolumes, capvolumes;
  apx_bind *binds; size_t nbinds, capbinds;
  apx_health *health; size_t nhealth, caphealth;
  apx_dep *deps; size_t ndeps, capdeps;
  int replicas;               /* >= 1 */
  apx_restart restart;
  apx_lifetime lifetime;
  bool explicit_start;
  bool publish;               /* false: run mode only */
  apx_entry *labels; size_t nlabels;
  apx_entry *annotations; size_t nannotations;
  apx_local *local;
  apx_value *connection_string; /* template, or NULL */
  apx_value *url;               /* external */
  apx_param *param;             /* APX_KIND_PARAM */
  bool typed;                   /* typecheck has run on it */
  /* Where its generic items begin in m->items (apx_arena_mark), for a
   * top-level resource: typecheck frees the blocks before it. */
  const void *items_mark;
  /* Lookups by name, kept by the apx_ir_* functions below (never by hand);
   * made only when a collection grows past a scan (most never do). */
  apx_map *env_index, *endpoint_index, *dep_index;
};

/* ---- components ------------------------------------------------------- */

typedef struct apx_input {
  const char *name;
  apx_loc loc;
  apx_value *def; /* NULL: required */
} apx_input;

struct apx_component {
  const char *name;
  apx_loc loc, name_loc;
  const char *extends;          /* as written */
  apx_loc extends_loc;
  apx_component *base;          /* when extending another component */
  apx_kind kind;                /* the built-in kind at the root of the chain */
  bool kind_resolved;
  bool resolving, failed;       /* resolve's walk of the extends chain */
  apx_map input_index;          /* input name -> index in inputs */
  apx_input *inputs; size_t ninputs, capinputs;
  apx_item *body;               /* attributes and blocks (not inputs or children) */
  apx_component **children; size_t nchildren, capchildren; /* child kinds */
  apx_component *owner;         /* the component declaring this child kind */
  const char *dir;
};

/* ---- module ----------------------------------------------------------- */

typedef struct apx_options {
  const char **params; size_t nparams;        /* "NAME=VALUE" from -p */
} apx_options;

struct apx_module {
  apx_arena *arena;
  /* Where generic items (apx_item) are allocated: the arena itself, or one
   * of their own that the driver frees after typecheck when nothing later
   * reads them (apx_ir_drop_items): a fifth of the memory of a large app. */
  apx_arena *items;
  apx_diag *diag;
  const apx_options *opts;
  const char *main_path;
  const char *main_dir;
  uint32_t main_file;
  apx_resource **resources; size_t nresources, capresources; /* declaration order; params too */
  apx_component **components; size_t ncomponents, capcomponents; /* top-level, all files */
  uint32_t *loaded_files; size_t nloaded, caploaded; /* every source, in load order */
  const char *app_name;     /* the main file's name as written, less ".apx": "shop" */
  apx_map resource_index;   /* name -> apx_resource * */
  apx_map component_index;  /* name -> apx_component * */
};

/* ---- building and finding -------------------------------------------- */

apx_module *apx_ir_module_new(apx_arena *arena, apx_diag *diag, const apx_options *opts);
/* Forgets every generic body (resources' and components'), so that the
 * arena m->items holds them can be freed: after typecheck, when no back end
 * or hook reads them (--emit=ir prints them). */
void apx_ir_drop_items(apx_module *m);
/* The components' bodies only (expand has read them). */
void apx_ir_drop_component_items(apx_module *m);
apx_resource *apx_ir_resource_new(apx_module *m, const char *name, apx_loc loc);
/* Adds the resource to the module and the name index. */
void apx_ir_resource_add(apx_module *m, apx_resource *r);
/* Adds the resource to the name index only (the caller places it). */
void apx_ir_resource_index(apx_module *m, apx_resource *r);
apx_resource *apx_ir_resource_find(const apx_module *m, const char *name);
apx_component *apx_ir_component_find(const apx_module *m, const char *name);
void apx_ir_component_add(apx_module *m, apx_component *c);
apx_endpoint *apx_ir_endpoint_find(const apx_resource *r, const char *name);
/* Appends an endpoint (its name must be new); returns it. */
apx_endpoint *apx_ir_endpoint_add(apx_module *m, apx_resource *r, const apx_endpoint *e);
/* The resource that actually runs for r: r itself, or its parent for a child
 * resource such as a database. */
const apx_resource *apx_ir_runner(const apx_resource *r);
bool apx_ir_kind_runs(apx_kind k); /* container, executable, project */
const char *apx_ir_kind_name(apx_kind k);
bool apx_ir_kind_from_name(const char *name, apx_kind *out);
const char *apx_ir_dep_kind_name(apx_dep_kind k);
const char *apx_ir_restart_name(apx_restart r);
/* Names used by --emit=ir and the public API: "connection_string", "endpoint.url"… */
const char *apx_ir_prop_name(apx_prop p);
/* "null", "bool", "int", "duration", "string", "template", "list", "map", "ref", "call". */
const char *apx_ir_value_kind_name(apx_value_kind k);

/* Sets (or adds) an env entry. The key is not copied: it must live as long
 * as the module (an arena string). */
void apx_ir_env_set(apx_module *m, apx_resource *r, const char *key, apx_value *v, apx_loc loc);
const apx_entry *apx_ir_env_find(const apx_resource *r, const char *key);
/* Appends an entry whose key the caller knows is new (no lookup). */
void apx_ir_env_append(apx_module *m, apx_resource *r, const char *key, apx_value *v, apx_loc loc);
/* Appends n entries whose keys the caller knows are new, growing the array
 * once to its exact size (growth by doubling in an arena leaves the old
 * arrays behind). */
void apx_ir_env_append_many(apx_module *m, apx_resource *r, const apx_entry *e, size_t n);
void apx_ir_dep_add(apx_module *m, apx_resource *r, apx_dep_kind kind, apx_resource *target, apx_loc loc);

/* Value constructors (arena). */
apx_value *apx_ir_value_new(apx_module *m, apx_value_kind kind, apx_loc loc);
apx_value *apx_ir_string(apx_module *m, const char *s, apx_loc loc);
apx_value *apx_ir_int(apx_module *m, int64_t i, apx_loc loc);
apx_ref *apx_ir_ref_new(apx_module *m, apx_resource *target, apx_prop prop, const char *endpoint, apx_loc loc);
/* A template of one reference: the common case for injected environment. */
apx_value *apx_ir_ref_template(apx_module *m, apx_resource *target, apx_prop prop, const char *endpoint, apx_loc loc);
/* A template of one given reference. */
apx_value *apx_ir_template_of(apx_module *m, apx_ref *ref, apx_loc loc);
/* Template building: append text or a reference; the result is normalised
 * (adjacent texts joined, a template without refs becomes a string). */
typedef struct apx_tbuilder {
  apx_module *m;
  apx_tpart *parts; size_t n, cap;
  apx_loc loc;
  char *text; size_t tlen, tcap; /* pending text, grown by doubling: appends stay linear */
} apx_tbuilder;
void apx_tb_init(apx_tbuilder *tb, apx_module *m, apx_loc loc);
void apx_tb_text(apx_tbuilder *tb, const char *s, size_t len);
void apx_tb_ref(apx_tbuilder *tb, apx_ref *ref);
/* Appends a string or template value; false for other kinds. */
bool apx_tb_value(apx_tbuilder *tb, const apx_value *v);
apx_value *apx_tb_finish(apx_tbuilder *tb);

/* True if the value, once rendered, would reveal a secret parameter. */
bool apx_ir_value_has_secret(const apx_value *v);
/* A short description of a value's type for messages: "a string", "a list". */
const char *apx_ir_value_type_name(const apx_value *v);


/* Returns resources in a dependency order (dependencies first, ties in
 * declaration order); NULL if there is a cycle. Count = nresources. */
apx_resource **apx_ir_topo_order(apx_module *m);

#endif
