/* What run mode shows to a watcher (the dashboard, dashboard/) and takes
 * from it: a snapshot of the units as plain data, a subscription to changes
 * of state and to output lines, and commands (start, stop, restart). It is
 * the whole of what a watcher sees of run mode: nothing here names a
 * process, an engine or the state machine's internals, and nothing of HTTP
 * lives in runtime/.
 *
 * The watcher runs on run mode's own event loop (libuv, one thread): every
 * call here and every callback happens on that thread, so neither side
 * needs a lock. */
#ifndef APX_RUN_MONITOR_H
#define APX_RUN_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "base/arena.h"

typedef struct apx_mon apx_mon; /* run mode's side; opaque */

typedef struct apx_mon_endpoint {
  const char *name;   /* "http" */
  const char *scheme; /* "http", "tcp" */
  int port;           /* on 127.0.0.1 */
  const char *url;    /* "http://localhost:41234" (http/https), or NULL */
} apx_mon_endpoint;

typedef struct apx_mon_env {
  const char *name;
  const char *value; /* NULL when secret and not asked for (see apx_mon_snapshot) */
  bool secret;       /* the program marks its value secret, or a secret flows into it */
} apx_mon_env;

typedef struct apx_mon_wait {
  const char *target; /* a resource's name */
  const char *kind;   /* "healthy", "started", "completed" */
  bool met;
} apx_mon_wait;

typedef struct apx_mon_check {
  uint64_t at_ms; /* Unix time, milliseconds */
  bool ok;
  const char *text; /* what the check saw */
} apx_mon_check;

typedef struct apx_mon_unit {
  size_t index;
  const char *name;     /* "api", "api.1" for a second replica */
  const char *resource; /* "api" */
  const char *kind;     /* "executable", "project", "container", "database" … */
  const char *runs_as;  /* "process", "docker", "podman", "none" (a child) */
  const char *state;    /* apx_run_state_name: "running", "healthy" … */
  const char *health;   /* "healthy", "unhealthy", "unknown" (checks not passed yet), "" (no checks) */
  unsigned replica, replicas;
  bool manual; /* explicit_start */
  bool has_process;
  bool terminal; /* finished or failed to start */
  bool ever_started;
  uint64_t started_at_ms; /* Unix time of the last start; 0 never */
  uint64_t state_at_ms;   /* Unix time of the last change of state */
  unsigned starts;
  bool exited;            /* exit_status / exit_signal hold the last exit */
  int exit_status, exit_signal;
  long pid; /* of its main process while it runs, 0 otherwise */
  const char *why;     /* the last reason worth showing, or "" */
  const char *waiting; /* "waiting for db: healthy, cache: started", or "" */
  const char *image;   /* a container's image, or NULL */
  const char *command; /* argv joined with spaces, or NULL */
  const char *workdir;
  apx_mon_endpoint *endpoints;
  size_t nendpoints;
  apx_mon_wait *waits;
  size_t nwaits;
  const char **refs; /* resources it references (its environment, arguments) */
  size_t nrefs;
  apx_mon_env *env; /* filled only when asked for */
  size_t nenv;
  apx_mon_check *checks; /* the last health-check results, oldest first */
  size_t nchecks;
} apx_mon_unit;

typedef enum { APX_MON_START, APX_MON_STOP, APX_MON_RESTART } apx_mon_cmd;

enum {
  APX_MON_WITH_ENV = 1,     /* fill env (secret values NULL) */
  APX_MON_REVEAL = 2,       /* ... with secret values too */
};

/* What a watcher hands to run mode (apx_run_opts.monitor). Every function
 * may be NULL. */
typedef struct apx_mon_listener {
  void *ud;
  /* The run's state directory is open (and locked by this run), before
   * any environment is rendered: what the watcher keeps from one run to
   * the next goes in it. 0, or -1 with err set: run mode stops before
   * anything starts (exit status 2). */
  int (*state)(void *ud, const char *dir, char *err, size_t nerr);
  /* The loop exists; the watcher starts its handles. 0, or -1 (run mode
   * then goes on without it). */
  int (*attach)(void *ud, apx_mon *m, uv_loop_t *loop);
  /* The run is over: close every handle (the loop runs once more). */
  void (*detach)(void *ud);
  /* A unit changed state. */
  void (*changed)(void *ud, size_t unit);
  /* A line of a unit's output (a piece of a long one: eol false). */
  void (*line)(void *ud, size_t unit, const char *s, size_t n, bool eol);
  /* A line run mode printed itself (without colour codes): about unit
   * `unit` ("db: healthy (1.2 s after start)"), or about the run (-1);
   * error: it went to stderr as an error. */
  void (*note)(void *ud, long unit, const char *s, size_t n, bool error);
  /* Extra environment for a unit's workload, before it is rendered: `host`
   * is how the workload reaches this machine ("localhost", or the host
   * gateway's name from a container). add() is called for each variable;
   * a variable the program sets itself wins. */
  void (*env)(void *ud, const char *unit, const char *resource, const char *host,
              void (*add)(void *ctx, const char *name, const char *value), void *ctx);
  /* A line for the start-up summary ("dashboard: http://…"), or NULL. */
  const char *summary;
} apx_mon_listener;

size_t apx_mon_count(const apx_mon *m);
/* The application's name. */
const char *apx_mon_app(const apx_mon *m);
/* Unit i as plain data, its strings and arrays in `a` (the caller's
 * scratch arena). flags: APX_MON_WITH_ENV, APX_MON_REVEAL. */
void apx_mon_snapshot(apx_mon *m, size_t i, apx_mon_unit *out, apx_arena *a, unsigned flags);
/* The unit called `name` (a unit's or a resource's: its first replica), or -1. */
long apx_mon_find(const apx_mon *m, const char *name);
/* The address at which this run's containers reach this machine (the
 * run network's gateway, "10.89.0.1"; host.docker.internal in their
 * hosts files), or NULL when no container engine runs any. Known from
 * attach on. podman gives the address to its bridge only when the first
 * container starts: bind to it with IP_FREEBIND. */
const char *apx_mon_host_gateway(const apx_mon *m);
/* A line of run mode's own output ("aspirec | TEXT"): text as given, not a format. */
void apx_mon_say(apx_mon *m, const char *text);
/* A command for unit i: 0, or -1 with why (what makes it meaningless now). */
int apx_mon_command(apx_mon *m, size_t i, apx_mon_cmd cmd, char *why, size_t nwhy);

#endif
