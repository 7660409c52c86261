#include "schema.h"

#include <string.h>

#define SUB(n, t) {n, APX_F_SUB, t, 0, false, false, false, NULL}
#define REQ(n, t) {n, APX_F_SUB, t, 0, false, false, true, NULL}
#define END {NULL, 0, 0, 0, false, false, false, NULL}

static const apx_spec apx_schema_build[] = {
    REQ("context", APX_T_CONST), SUB("dockerfile", APX_T_CONST), SUB("target", APX_T_CONST),
    SUB("args", APX_T_MAP), END};

static const apx_spec apx_schema_endpoint[] = {
    SUB("port", APX_T_INT), SUB("target_port", APX_T_INT), SUB("scheme", APX_T_CONST),
    SUB("protocol", APX_T_CONST), SUB("external", APX_T_BOOL), SUB("env", APX_T_CONST), END};

static const apx_spec apx_schema_volume[] = {REQ("target", APX_T_CONST), SUB("readonly", APX_T_BOOL), END};

static const apx_spec apx_schema_bind[] = {
    REQ("source", APX_T_CONST), REQ("target", APX_T_CONST), SUB("readonly", APX_T_BOOL), END};

static const apx_spec apx_schema_health[] = {
    SUB("http", APX_T_CONST), SUB("tcp", APX_T_CONST), SUB("exec", APX_T_LIST), SUB("log", APX_T_CONST),
    SUB("endpoint", APX_T_CONST), SUB("interval", APX_T_DURATION), SUB("timeout", APX_T_DURATION),
    SUB("retries", APX_T_INT), SUB("start_period", APX_T_DURATION), END};

static const apx_spec apx_schema_local[] = {
    SUB("command", APX_T_STRING), SUB("args", APX_T_LIST), SUB("workdir", APX_T_CONST),
    SUB("setup", APX_T_ANYLIST), SUB("env", APX_T_MAP), SUB("user", APX_T_CONST), END};

#define C APX_K_CONTAINER
#define E APX_K_EXECUTABLE
#define P APX_K_PROJECT
#define X APX_K_EXTERNAL
#define M APX_K_PARAM
#define A(n, id, t, k) {n, id, t, k, false, false, false, NULL}
#define B(n, id, k, lab, rep, sub) {n, id, APX_T_BLOCK, k, lab, rep, false, sub}

const apx_spec apx_schema_resource[] = {
    A("image", APX_F_IMAGE, APX_T_STRING, C | P),
    B("build", APX_F_BUILD, C | E | P, false, false, apx_schema_build),
    A("command", APX_F_COMMAND, APX_T_STRING, C | E | P),
    A("args", APX_F_ARGS, APX_T_LIST, C | E | P),
    A("entrypoint", APX_F_ENTRYPOINT, APX_T_LIST, C),
    A("workdir", APX_F_WORKDIR, APX_T_CONST, C | E | P),
    {"env", APX_F_ENV, APX_T_MAP, C | E | P, false, false, false, NULL},
    B("endpoint", APX_F_ENDPOINT, C | E | P, true, true, apx_schema_endpoint),
    B("volume", APX_F_VOLUME, C, true, true, apx_schema_volume),
    B("bind", APX_F_BIND, C, false, true, apx_schema_bind),
    B("health", APX_F_HEALTH, C | E | P, false, true, apx_schema_health),
    A("references", APX_F_REFERENCES, APX_T_REFS, C | E | P),
    A("wait_for", APX_F_WAIT_FOR, APX_T_REFS, C | E | P),
    A("wait_for_start", APX_F_WAIT_FOR_START, APX_T_REFS, C | E | P),
    A("wait_for_completion", APX_F_WAIT_FOR_COMPLETION, APX_T_REFS, C | E | P),
    A("replicas", APX_F_REPLICAS, APX_T_INT, C | E | P),
    A("restart", APX_F_RESTART, APX_T_CONST, C | E | P),
    A("lifetime", APX_F_LIFETIME, APX_T_CONST, C),
    A("explicit_start", APX_F_EXPLICIT_START, APX_T_BOOL, C | E | P),
    A("publish", APX_F_PUBLISH, APX_T_BOOL, C | E | P),
    {"labels", APX_F_LABELS, APX_T_MAP, APX_K_ALL, false, false, false, NULL},
    {"annotations", APX_F_ANNOTATIONS, APX_T_MAP, APX_K_ALL, false, false, false, NULL},
    B("local", APX_F_LOCAL, C, false, false, apx_schema_local),
    A("connection_string", APX_F_CONNECTION_STRING, APX_T_STRING, C | E | P | X),
    A("url", APX_F_URL, APX_T_STRING, X),
    A("secret", APX_F_SECRET, APX_T_BOOL, M),
    A("default", APX_F_DEFAULT, APX_T_SCALAR, M),
    {"generate", APX_F_GENERATE, APX_T_MAP, M, false, false, false, NULL},
    A("description", APX_F_DESCRIPTION, APX_T_CONST, M),
    END};

const apx_spec *apx_schema_find(const apx_spec *table, const char *name) {
  /* The first byte first: typecheck looks up every attribute it reads. */
  for (const apx_spec *s = table; s->name; s++)
    if (s->name[0] == name[0] && strcmp(s->name, name) == 0) return s;
  return NULL;
}
