/* Databases on a server (`database catalog {}` in a postgres instance):
 * once the server is healthy, run mode creates each child that carries the
 * annotation aspirec/create-database, as .NET Aspire's app host does, with
 * the server's own command-line client run as a one-off process
 * (stdlib/README.md, "Contract for the run mode"):
 *
 *   postgres  psql … -c 'CREATE DATABASE "NAME"'        (42P04, exists: fine)
 *   mysql     mariadb … -e 'CREATE DATABASE IF NOT EXISTS `NAME`'
 *
 * Address and credentials come from the server's connection string as run
 * mode renders it; the password goes through the environment (PGPASSWORD,
 * MYSQL_PWD), never the command line, where `ps` would show it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "run_internal.h"

extern char **environ;

static const apx_entry *apx_annotation(const apx_resource *r, const char *key) {
  for (size_t i = 0; i < r->nannotations; i++)
    if (strcmp(r->annotations[i].key, key) == 0) return &r->annotations[i];
  return NULL;
}

/* Value of `key` (or `alt`) in a key=value;… connection string. */
static const char *apx_cs_get(apx_arena *a, const char *cs, const char *key, const char *alt) {
  for (const char *s = cs; *s;) {
    const char *semi = strchr(s, ';');
    size_t n = semi ? (size_t)(semi - s) : strlen(s);
    const char *eq = memchr(s, '=', n);
    if (eq) {
      size_t kl = (size_t)(eq - s);
      while (kl && s[kl - 1] == ' ') kl--;
      const char *k = s;
      while (kl && *k == ' ') k++, kl--;
      if ((strlen(key) == kl && strncasecmp(k, key, kl) == 0) || (alt && strlen(alt) == kl && strncasecmp(k, alt, kl) == 0))
        return apx_arena_strndup(a, eq + 1, n - (size_t)(eq + 1 - s));
    }
    s += n;
    if (*s == ';') s++;
  }
  return NULL;
}

/* name with every `q` doubled, inside q…q */
static const char *apx_quote_ident(apx_arena *a, const char *name, char q) {
  apx_buf b = {0};
  apx_buf_putc(&b, q);
  for (const char *p = name; *p; p++) {
    if (*p == q) apx_buf_putc(&b, q);
    apx_buf_putc(&b, *p);
  }
  apx_buf_putc(&b, q);
  const char *r = apx_arena_strdup(a, apx_buf_str(&b));
  apx_buf_free(&b);
  return r;
}

int apx_run_db_plan(apx_runtime *run, apx_run_unit *u) {
  const apx_resource *r = u->res, *server = apx_ir_runner(r);
  const apx_entry *create = apx_annotation(r, "aspirec/create-database");
  if (!create) return 0; /* nothing to create: ready once the server is healthy */
  const apx_entry *eng = apx_annotation(server, "aspirec/database-engine");
  apx_render_target t;
  apx_run_tctx tc;
  apx_run_res *sr = apx_run_res_find(run, server);
  apx_run_target(&t, &tc, run, sr && sr->n ? sr->units[0] : NULL);
  apx_buf b = {0};
  const char *why = NULL;
  int rc = 0;
  const char *engine = NULL, *name = NULL, *cs = NULL;
  if (eng && apx_render_value(&t, eng->value, &b, &why)) engine = apx_arena_strdup(run->arena, apx_buf_str(&b));
  apx_buf_clear(&b);
  if (apx_render_value(&t, create->value, &b, &why)) name = apx_arena_strdup(run->arena, apx_buf_str(&b));
  apx_buf_clear(&b);
  if (server->connection_string && apx_render_value(&t, server->connection_string, &b, &why))
    cs = apx_arena_strdup(run->arena, apx_buf_str(&b));
  apx_buf_free(&b);
  if (!engine || (strcmp(engine, "postgres") != 0 && strcmp(engine, "mysql") != 0)) {
    apx_run_error(run, "set the annotation \"aspirec/database-engine\" = \"postgres\" or \"mysql\" on the server",
                  "cannot create database '%s': its server '%s' does not say which engine it is", r->name,
                  server->name);
    return 1;
  }
  if (!name || !cs) {
    apx_run_error(run, NULL, "cannot create database '%s' on '%s': %s", r->name, server->name,
                  why ? why : "the server has no connection string");
    return 1;
  }
  bool pg = strcmp(engine, "postgres") == 0;
  const char *host = apx_cs_get(run->arena, cs, "Host", "Server");
  const char *port = apx_cs_get(run->arena, cs, "Port", NULL);
  const char *user = apx_cs_get(run->arena, cs, "Username", "User ID");
  const char *pass = apx_cs_get(run->arena, cs, "Password", NULL);
  if (!host || !port || !user) {
    apx_run_error(run, NULL,
                  "cannot create database '%s': the connection string of '%s' lacks Host/Server, Port or "
                  "Username/User ID",
                  r->name, server->name);
    return 1;
  }
  char **argv = APX_NEW_ARRAY(run->arena, char *, 20);
  size_t n = 0;
  if (pg) {
    const char *stmt = apx_arena_printf(run->arena, "CREATE DATABASE %s", apx_quote_ident(run->arena, name, '"'));
    const char *a[] = {"psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose", "-h", host, "-p",
                       port, "-U", user, "-d", "postgres", "-c", stmt};
    for (size_t i = 0; i < sizeof a / sizeof *a; i++) argv[n++] = (char *)a[i];
  } else {
    const char *client = "mariadb";
    char *found = apx_run_which(NULL, "mariadb", NULL);
    if (!found) {
      free(found);
      found = apx_run_which(NULL, "mysql", NULL);
      if (found) client = "mysql";
    }
    free(found);
    const char *stmt = apx_arena_printf(run->arena, "CREATE DATABASE IF NOT EXISTS %s",
                                        apx_quote_ident(run->arena, name, '`'));
    const char *a[] = {client, "--no-defaults", "--protocol=TCP", "-h", host, "-P", port, "-u", user,
                       "--connect-timeout=10", "-e", stmt};
    for (size_t i = 0; i < sizeof a / sizeof *a; i++) argv[n++] = (char *)a[i];
  }
  argv[n] = NULL;
  size_t ne = 0;
  for (char **e = environ; *e; e++) ne++;
  char **envp = APX_NEW_ARRAY(run->arena, char *, ne + 4);
  size_t k = 0;
  for (char **e = environ; *e; e++)
    if (strncmp(*e, "APX_PARAM_", 10) != 0 && strncmp(*e, "PGPASSWORD=", 11) != 0 && strncmp(*e, "MYSQL_PWD=", 10) != 0)
      envp[k++] = *e;
  if (pass) envp[k++] = apx_arena_printf(run->arena, pg ? "PGPASSWORD=%s" : "MYSQL_PWD=%s", pass);
  if (pg) envp[k++] = "PGCONNECT_TIMEOUT=10";
  envp[k] = NULL;
  u->db_argv = argv;
  u->db_envp = envp;
  u->cwd = run->state_dir;
  return rc;
}

bool apx_run_db_starting(const apx_run_unit *u, const char *output) {
  (void)u;
  /* 57P03 cannot_connect_now: starting up, shutting down, in recovery. */
  return output && (strstr(output, "57P03") || strstr(output, "the database system is starting up") ||
                    strstr(output, "not yet accepting connections"));
}

bool apx_run_db_exists_ok(const apx_run_unit *u, const char *output) {
  (void)u;
  return output && strstr(output, "42P04") != NULL; /* duplicate_database */
}
