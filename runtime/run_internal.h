/* Run mode's internal contract: the run, its units (one per process to
 * supervise), the state machine and the pieces each file of runtime/
 * provides. Not installed; plugins do not see it. runtime/README.md maps
 * the files. */
#ifndef APX_RUN_INTERNAL_H
#define APX_RUN_INTERNAL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <uv.h>

#include "base/arena.h"
#include "base/buf.h"
#include "ir/ir.h"
#include "ir/render.h"
#include "run.h"

/* ---- states and events (supervise.c) ------------------------------------ */

typedef enum apx_run_state {
  APX_ST_NOT_STARTED,     /* planned; nothing asked yet */
  APX_ST_WAITING,         /* for its waits (wait_for, wait_for_start, wait_for_completion) */
  APX_ST_STARTING,        /* setup commands, database creation, then the spawn */
  APX_ST_RUNNING,         /* its process runs; health not (yet) known */
  APX_ST_HEALTHY,         /* every health check passes (a child: its database exists) */
  APX_ST_UNHEALTHY,       /* a check failed `retries` times in a row */
  APX_ST_STOPPING,        /* SIGTERM sent to its process group */
  APX_ST_EXITED,          /* its process ended; a restart is scheduled */
  APX_ST_FINISHED,        /* will not run again in this session (exit status in the unit) */
  APX_ST_FAILED_TO_START, /* could not start: a dependency failed, setup failed, no such command */
  APX_ST__COUNT
} apx_run_state;

typedef enum apx_run_event {
  APX_EV_START,       /* the run begins */
  APX_EV_DEPS_READY,  /* every wait is satisfied */
  APX_EV_DEP_FAILED,  /* a wait can never be satisfied (why in unit->why) */
  APX_EV_PREPARED,    /* setup / database creation done */
  APX_EV_PREP_FAILED, /* setup / database creation failed (why in unit->why) */
  APX_EV_HEALTHY,     /* every health check passes */
  APX_EV_UNHEALTHY,   /* a health check failed `retries` times in a row */
  APX_EV_EXITED,      /* the main process ended (status in unit->exit_*) */
  APX_EV_RESTART_DUE, /* the back-off delay is over */
  APX_EV_STOP,        /* shutdown reached this unit (its dependents are down) */
  APX_EV_USER_START,  /* a watcher (the dashboard) asks: start it (explicit_start, or again after a stop) */
  APX_EV_USER_STOP,   /* a watcher asks: stop this unit only */
  APX_EV__COUNT
} apx_run_event;

const char *apx_run_state_name(apx_run_state s);
/* The unit will not change state again in this session. */
bool apx_run_state_terminal(apx_run_state s);

typedef enum { APX_UNIT_PROCESS, APX_UNIT_CHILD } apx_run_unit_kind;

typedef struct apx_run_unit apx_run_unit;
typedef struct apx_run_proc apx_run_proc;
typedef struct apx_run_sink apx_run_sink;
typedef struct apx_run_probe apx_run_probe;
typedef struct apx_runtime apx_runtime;
typedef struct apx_run_driver apx_run_driver;
typedef struct apx_run_mux apx_run_mux;

/* One wait of a unit on every unit of another resource. */
typedef struct apx_run_wait {
  apx_dep_kind kind; /* APX_DEP_WAIT_HEALTHY, _START or _COMPLETION */
  apx_run_unit **units;
  size_t n;
  const char *target; /* the resource's name, for messages */
} apx_run_wait;

struct apx_run_unit {
  /* identity and plan (plan.c) */
  const apx_resource *res;
  const char *name; /* "api", or "api.1" for the second of several replicas */
  unsigned replica;
  size_t index;
  apx_run_unit_kind kind;
  bool has_process;  /* false: a child (a database) with nothing of its own to run */
  bool fallback;     /* a container run through its local {} */
  bool manual;       /* explicit_start: not started with the others */
  apx_restart restart;
  size_t nchecks;    /* health checks (0: healthy once running) */
  apx_run_wait *waits;
  size_t nwaits;
  apx_run_unit **dependents; /* units that wait on this one (stop order) */
  size_t ndependents, capdependents;

  /* what to run (plan.c, rendered once ports and parameters are known) */
  char **argv;       /* a container: its command (NULL: the image's) */
  char **envp;
  size_t nenv_watch; /* the last entries of envp, added by a watcher (the
                        dashboard's OTLP endpoint and per-run key) */
  const char *cwd;
  const char *image;  /* a container run by an engine: its image */
  char **entrypoint;  /* ... and its entrypoint (NULL: the image's) */
  char **build_args;  /* ... and its build {} args' values, as res->build->args (NULL: one that did not render) */
  char ***setup; /* setup commands, each an argv; replica 0 only */
  size_t nsetup;
  const char *setup_key; /* digest of the setup commands, kept in the state dir once done */
  const char *user;      /* local.user, when aspirec runs as root */
  uid_t uid;
  gid_t gid;
  int *ports;            /* the port of each endpoint of res, for this replica */
  char **db_argv;        /* a child: the client command that creates its database */
  char **db_envp;

  /* state (supervise.c) */
  apx_run_state state;
  bool ever_started, ever_healthy, stop_sent, killed;
  int exit_status, exit_signal; /* of the last exit */
  unsigned starts, failures;    /* failures: in a row, for the back-off */
  uint64_t started_ms, state_ms, ready_ms;
  uint64_t restart_delay_ms;
  bool restart_asked; /* a watcher's restart: start again once stopped */
  bool user_stopped;  /* stopped by a watcher (not by its own end) */
  char why[512]; /* the last reason worth showing */

  /* runtime parts */
  const apx_run_driver *drv; /* how its main workload runs: a host process, a container */
  void *engine;              /* the driver's own record of the unit (a container's name), or NULL */
  apx_run_proc *proc;  /* its current process: a setup step, database creation or the main one */
  apx_run_sink *sink;  /* where its output goes */
  apx_run_probe *probes;
  size_t nprobes;
  uv_timer_t *restart_timer;   /* a child's: the next try at creating its database */
  size_t setup_step;
  unsigned db_tries;           /* database creations refused while the server starts */
  uv_timer_t *kill_timer;      /* a watcher's stop: SIGKILL after the grace period */
  struct apx_run_check_note *hist; /* the last health-check results (monitor.c), a ring */
  unsigned nhist, hist_head;
};

/* One result of a health check, kept for a watcher. */
enum { APX_RUN_HIST = 8 };
typedef struct apx_run_check_note {
  uint64_t at_ms; /* Unix time */
  bool ok;
  char text[160];
} apx_run_check_note;

/* Whether `u` counts as healthy now (wait_for). */
bool apx_run_unit_ready(const apx_run_unit *u);

/* The effects of transitions, so that the state machine is testable
 * without processes (tests/unit/test_runtime.c). */
typedef struct apx_run_ops {
  /* Setup, database creation: asynchronous, ends in PREPARED or PREP_FAILED. */
  void (*prepare)(void *ud, apx_run_unit *u);
  /* Starts the main process: 0 it runs, 1 nothing to run (ready), -1 failed (why set). */
  int (*spawn)(void *ud, apx_run_unit *u);
  /* SIGTERM to its process group (main or prepare process). */
  void (*stop)(void *ud, apx_run_unit *u);
  void (*schedule_restart)(void *ud, apx_run_unit *u, uint64_t delay_ms);
  void (*cancel_restart)(void *ud, apx_run_unit *u);
  void (*probes)(void *ud, apx_run_unit *u, bool on);
  /* After every change of state: report it. */
  void (*changed)(void *ud, apx_run_unit *u, apx_run_state from);
  uint64_t (*now)(void *ud);
} apx_run_ops;

typedef struct apx_run_qitem {
  apx_run_unit *u;
  apx_run_event ev;
} apx_run_qitem;

typedef struct apx_run_fsm {
  apx_run_unit **units;
  size_t nunits;
  const apx_run_ops *ops;
  void *ud;
  apx_run_qitem *q;
  size_t qhead, qlen, qcap;
  bool draining;
  bool stopping;          /* shutdown asked: STOP flows in reverse wait order */
  uint64_t backoff_min_ms; /* first restart delay (>= 1 s) */
  uint64_t backoff_max_ms; /* cap */
  uint64_t stable_ms;      /* a process that ran this long resets the back-off */
} apx_run_fsm;

void apx_run_fsm_init(apx_run_fsm *f, apx_run_unit **units, size_t n, const apx_run_ops *ops, void *ud);
void apx_run_fsm_free(apx_run_fsm *f);
/* Queues an event and, unless already inside the machine, processes the
 * queue, then re-evaluates waits and the stop order until nothing moves. */
void apx_run_fsm_post(apx_run_fsm *f, apx_run_unit *u, apx_run_event ev);
void apx_run_fsm_start_all(apx_run_fsm *f);
void apx_run_fsm_stop_all(apx_run_fsm *f);
/* Every unit is terminal (FINISHED or FAILED_TO_START). */
bool apx_run_fsm_done(const apx_run_fsm *f);
/* Every unit has got as far as it will without help: ready, finished, failed,
 * unhealthy, or waiting on one of those. For the start-up summary. */
bool apx_run_fsm_settled(const apx_run_fsm *f);
/* Restart delay after `failures` failures in a row (1-based). */
uint64_t apx_run_backoff_ms(const apx_run_fsm *f, unsigned failures);
/* Adds the dependents lists from the waits (plan.c calls it once). */
void apx_run_fsm_link(apx_run_fsm *f, apx_arena *a);

/* ---- the run (run.c) ----------------------------------------------------- */

typedef struct apx_run_res {
  const apx_resource *res;
  apx_run_unit **units;
  size_t n;
  const char *dir; /* its state directory (self.state_dir), symbolic links resolved */
  const char *moved_from; /* STATE/resources/NAME when dir is in the shared place (state_dir.c) */
  int *proxy_ports; /* replicas: each endpoint's port clients use, the proxy's (0: not proxied, udp); NULL: none */
  int *proxy_fds;   /* ports.c's listening sockets for them until the proxy takes them: [2k] 127.0.0.1, [2k+1] ::1 */
} apx_run_res;

typedef struct apx_run_param {
  const apx_resource *res;
  const char *value;
  bool generated, saved; /* made now / read from the state directory */
} apx_run_param;

typedef struct apx_run_logs apx_run_logs;
typedef struct apx_run_proxy apx_run_proxy;

struct apx_runtime {
  apx_module *m;
  apx_arena *arena;
  apx_run_opts opts;
  uv_loop_t loop;
  bool loop_ready;
  apx_run_unit **units;
  size_t nunits;
  apx_run_res *res; /* runnable resources and children, sorted by pointer */
  size_t nres;
  apx_run_param *params;
  size_t nparams;
  const char *state_dir; /* absolute */
  int lock_fd;
  int watchdog_fd;
  pid_t watchdog_pid;
  bool is_root;
  apx_run_fsm fsm;
  apx_run_logs *logs;
  uv_signal_t sig[3];
  uv_timer_t kill_timer;
  bool kill_timer_on;
  uint64_t t0, stop_t0;
  int interrupts;
  bool up_reported;
  bool stopped_by_signal;
  const char *engine;         /* "docker" or "podman" when containers run in one; NULL otherwise */
  const char *engine_sock;    /* its API socket */
  const char *engine_gateway; /* the run network's gateway: the host, from a container */
  const char *engine_session; /* the label value marking this run's containers (the watchdog's) */
  const apx_run_driver *engine_drv;
  apx_run_proxy *proxy; /* the replicas' proxy (proxy.c) */
  struct apx_mon *mon;  /* what a watcher sees (monitor.c), NULL without one */
  bool user_commands;   /* a watcher gave a command: the run lasts until Ctrl-C */
  uint64_t wall0_ms;    /* Unix time at t0 */
  void *engine_state;         /* the engine driver's own state of this run (its containers, images) */
  apx_run_mux *http;         /* requests to the engine in the loop (engine.c) */
  size_t procs_live; /* apx_run_proc structs not yet freed */
  apx_run_proc *procs; /* their list */
};

/* Milliseconds since the run began (loop time). */
uint64_t apx_run_now(apx_runtime *run);
apx_run_res *apx_run_res_find(const apx_runtime *run, const apx_resource *r);
/* Called by process.c when a process of a unit is over (exit seen and its
 * output drained). */
void apx_run_proc_done(apx_runtime *run, apx_run_proc *p);

/* ---- plan.c: units, waits, what to run ------------------------------------ */

/* Builds the units from the module and checks that each can run here.
 * Returns 0, or the exit status (1 program, 2 environment) after printing why. */
int apx_run_plan(apx_runtime *run);
/* Renders commands, arguments, environments, working directories and probe
 * targets once ports and parameters are known. 0, or 1 after printing why. */
int apx_run_render(apx_runtime *run);
/* FNV-1a over n bytes of s, from h (APX_RUN_FNV_INIT to begin): digests kept
 * in the state directory and names made from paths. */
#define APX_RUN_FNV_INIT 14695981039346656037ull
uint64_t apx_run_fnv(uint64_t h, const char *s, size_t n);

/* ---- run_target.c: deferred values for run mode --------------------------- */

typedef struct apx_run_tctx {
  apx_runtime *run;
  const apx_run_unit *self; /* whose own endpoints render as its replica's ports */
} apx_run_tctx;
void apx_run_target(apx_render_target *t, apx_run_tctx *ctx, apx_runtime *run, const apx_run_unit *self);
/* The port of endpoint `e` of resource `r` as seen from `self`: its own
 * replica's; another resource's proxy when it has replicas, else its one
 * unit's; 0 when unknown. */
int apx_run_port_of(const apx_runtime *run, const apx_run_unit *self, const apx_resource *r, const apx_endpoint *e);

/* ---- params.c -------------------------------------------------------------- */

/* Gives every parameter a value: -p, APX_PARAM_*, saved, default, generated
 * (and saved, mode 0600). Returns 0 or 2 after naming each one missing. */
int apx_run_params(apx_runtime *run);
const char *apx_run_param_value(const apx_runtime *run, const apx_resource *p);

/* ---- ports.c --------------------------------------------------------------- */

/* Checks that fixed ports are free and allocates the others. 0, or 2 after
 * printing which port is taken. */
int apx_run_ports(apx_runtime *run);
/* The port an endpoint listens on when it is fixed (port, or an explicit
 * target_port of a process); 0 when run mode allocates it. */
int apx_run_fixed_port(const apx_resource *r, const apx_endpoint *e);

/* ---- proxy.c ---------------------------------------------------------------- */

/* Whether clients reach endpoint e of rr through the proxy: a resource with
 * replicas, a TCP endpoint. */
bool apx_run_proxied(const apx_run_res *rr, const apx_endpoint *e);
/* In the loop, before anything starts: listens on every proxied endpoint's
 * port (ports.c's sockets). 0, or 2 after printing why. */
int apx_run_proxy_open(apx_runtime *run);
/* At the end: closes listeners and connections (and sockets never taken). */
void apx_run_proxy_close(apx_runtime *run);
/* Once the loop has closed them: frees what is left. */
void apx_run_proxy_free(apx_runtime *run);

/* ---- state_dir.c ------------------------------------------------------------ */

/* Creates and locks the state directory (logs/, resources/). 0 or 2. */
int apx_run_state_open(apx_runtime *run);
void apx_run_state_close(apx_runtime *run);
/* The directory of a resource (self.state_dir): STATE/resources/NAME. */
const char *apx_run_state_resource_dir(apx_runtime *run, const apx_resource *r);
/* Creates each fallback's directory, owned by local.user when root, and
 * checks that user can reach it; when the state directory is out of that
 * user's reach, the directory is made in the shared place instead
 * (APX_SHARED_STATE, /var/lib/aspirec) and linked from STATE. 0 or 2. */
int apx_run_state_resources(apx_runtime *run);
bool apx_run_setup_done(apx_runtime *run, const apx_run_unit *u);
void apx_run_setup_mark(apx_runtime *run, const apx_run_unit *u);
/* STATE/NAME (arena). */
const char *apx_run_state_path(apx_runtime *run, const char *name);

/* ---- the ways a unit runs ---------------------------------------------------------
 *
 * One table of operations per engine: the host process (process.c), docker
 * and podman (engine_docker.c). run.c calls them through u->drv and never
 * asks which engine runs a unit; a new engine is one file and one table. */
struct apx_run_driver {
  const char *name; /* "process", "docker", "podman": for messages */
  /* Before anything starts, once per run: what the engine needs (its network). 0, or 2 after printing why. */
  int (*open)(apx_runtime *run);
  /* Before ports are chosen: what an earlier run left of the unit (a
   * persistent container's published ports, kept). 0, or 2. NULL: nothing. */
  int (*inspect)(apx_runtime *run, apx_run_unit *u);
  /* Before each start, in the loop: what its workload needs (an image
   * pulled or built, a container made and started). 0 done, 1 under way
   * (the driver calls apx_run_prepared() once done, without blocking the
   * loop), or -1 with u->why set. NULL: nothing. */
  int (*create)(apx_runtime *run, apx_run_unit *u);
  /* Starts the main workload (or follows the one create made) with its
   * output streamed into the unit's log (sets u->proc); its end comes back
   * through apx_run_proc_done(). 0, or -1 with u->why set. */
  int (*start)(apx_runtime *run, apx_run_unit *u);
  /* Signals one workload (SIGTERM to stop it, SIGKILL when the grace period is over). */
  void (*signal)(apx_run_proc *p, int sig);
  /* An exec health check inside the running workload: done(ud, exit code
   * or -1, why) comes once, unless cancelled; returns the handle to cancel
   * (NULL when done came already). NULL: the check runs on the host. */
  void *(*exec)(apx_runtime *run, apx_run_unit *u, char **argv, long timeout_ms,
                void (*done)(void *ud, long code, const char *why), void *ud);
  void (*exec_cancel)(void *h);
  /* At the end of the run: removes what is left (containers, the network). NULL: nothing. */
  void (*close)(apx_runtime *run);
};
typedef void (*apx_run_exec_cb)(void *ud, long code, const char *why);
/* A driver's create() that was under way is done (run.c goes on: setup, or prepared). */
void apx_run_prepared(apx_runtime *run, apx_run_unit *u, bool ok);
extern const apx_run_driver apx_run_driver_process;
extern const apx_run_driver apx_run_driver_docker; /* the Docker Engine API */
extern const apx_run_driver apx_run_driver_podman; /* the same, through podman's service */
/* Whether a resource's units run in a container engine. */
bool apx_run_in_engine(const apx_runtime *run, const apx_resource *r);

/* ---- process.c --------------------------------------------------------------- */

typedef enum { APX_PROC_MAIN, APX_PROC_SETUP, APX_PROC_DB } apx_run_proc_role;

/* Options every process of a unit is spawned with: a process group of its
 * own (so a stop reaches its children) and the unit's user when aspirec is
 * root. Used by the unit's processes and by exec health probes alike. */
void apx_run_spawn_options(uv_process_options_t *o, const apx_run_unit *u, char **argv, char **envp,
                           const char *cwd, uv_stdio_container_t stdio[3], uv_exit_cb exit_cb);

struct apx_run_proc {
  apx_runtime *run;
  apx_run_unit *unit;
  const apx_run_driver *drv; /* whose signal() reaches it */
  apx_run_proc_role role;
  uv_process_t handle;
  struct apx_run_stream *out; /* its stdout and stderr, one pipe */
  uv_timer_t linger;
  pid_t pid;
  void *engine;     /* the driver's record of a workload that is not a host process */
  char label[96];   /* "pid 123", "docker container 0123abcd": for messages */
  int handles;   /* open uv handles; the struct is freed when it reaches 0 */
  int streams;   /* output streams not at end of file yet */
  bool exited, reported, linger_on;
  int64_t status;
  int term_signal;
  apx_buf capture; /* APX_PROC_DB: its output, kept to read the error */
  apx_run_proc *prev, *next; /* every live proc of the run */
};

/* Spawns argv for the unit with its output in the unit's log. 0, or a
 * libuv error code (negative) with unit->why set. */
int apx_run_proc_spawn(apx_runtime *run, apx_run_unit *u, apx_run_proc_role role, char **argv, char **envp,
                       const char *cwd);
/* From logs.c: one output stream of p reached end of file / its handle closed. */
void apx_run_proc_stream_eof(apx_run_proc *p);
void apx_run_proc_handle_closed(apx_run_proc *p);
/* Closes a process handle left open at the end (through its owner: a
 * process record, or an exec check's attempt). */
void apx_run_proc_close_handle(apx_runtime *run, uv_handle_t *h);
void apx_run_probes_close_handle(uv_handle_t *h);
/* Signals the workload of p through its driver (a host process: its process group). */
void apx_run_proc_signal(apx_run_proc *p, int sig);
/* For drivers whose workload is not a host process: a record with a
 * linger timer and one output pipe into the unit's log. *wfd is the pipe's
 * write end (the driver writes the workload's output there and closes it
 * at its end); p->handles counts the two handles, plus whatever the driver
 * adds. wfd NULL: no pipe, p->out is a fed stream (apx_run_feed) and the
 * linger timer the one handle. */
apx_run_proc *apx_run_proc_new(apx_runtime *run, apx_run_unit *u, apx_run_proc_role role,
                               const apx_run_driver *drv, int *wfd);
/* The workload of p ended: the exit is reported once its output is drained. */
void apx_run_proc_ended(apx_run_proc *p, int64_t status, int term_signal);
/* Searches PATH (of envp, else aspirec's) for a program; NULL if absent.
 * In the arena, or malloc'd when a is NULL. */
char *apx_run_which(apx_arena *a, const char *prog, char **envp);
/* "exit status 3", "killed by SIGKILL" */
const char *apx_run_exit_text(char *buf, size_t n, int status, int sig);

/* ---- logs.c -------------------------------------------------------------------- */

/* Terminal and file output: every line prefixed with its unit's name,
 * coloured on a terminal; buffered, flushed before the loop sleeps. */
int apx_run_logs_init(apx_runtime *run);
void apx_run_logs_free(apx_runtime *run);
void apx_run_logs_flush(apx_runtime *run);
/* Closes the loop handle of logs (before the loop's last run). */
void apx_run_logs_close_handles(apx_runtime *run);
/* The sink of a unit: logs/NAME.log and its prefix. */
int apx_run_sink_open(apx_runtime *run, apx_run_unit *u);
/* A message of aspirec's own, between the services' lines and in logs/aspirec.log. */
void apx_run_say(apx_runtime *run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void apx_run_sayv(apx_runtime *run, const char *fmt, va_list ap);
/* s without its colour codes (ESC [ … m), appended to out. */
void apx_run_plain(apx_buf *out, const char *s);
/* Each line of s (colour codes removed) to the watcher (apx_run_monitor_note). */
void apx_run_monitor_notes(apx_runtime *run, const char *s, bool error);
/* Bold/colour helpers for messages: "" when colour is off. */
const char *apx_run_style(apx_runtime *run, const char *sgr);
/* Starts reading one output pipe of a process into its unit's sink. */
struct apx_run_stream *apx_run_stream_new(apx_run_proc *p, uv_pipe_t **pipe);
int apx_run_stream_start(struct apx_run_stream *s);
void apx_run_stream_free(struct apx_run_stream *s);
/* A stream a driver feeds (no pipe): lines into u's log; p (or NULL: the
 * unit's log only, as for a build) is told of its end. */
struct apx_run_stream *apx_run_feed_new(apx_runtime *run, apx_run_unit *u, apx_run_proc *p);
void apx_run_feed(struct apx_run_stream *s, const char *data, size_t n);
/* The last partial line shown, the stream freed. */
void apx_run_feed_end(struct apx_run_stream *s);

/* ---- health.c --------------------------------------------------------------------- */

int apx_run_probes_plan(apx_runtime *run, apx_run_unit *u);
void apx_run_probes_set(apx_runtime *run, apx_run_unit *u, bool on);
/* Every complete line of the unit's output goes by here (log checks). */
void apx_run_probes_line(apx_run_unit *u, const char *s, size_t n);
void apx_run_probes_free(apx_runtime *run, apx_run_unit *u);

/* ---- databases.c -------------------------------------------------------------------- */

/* A child with aspirec/create-database: the client command that creates it. 0 or 1. */
int apx_run_db_plan(apx_runtime *run, apx_run_unit *u);
/* Whether the client's output says the database existed already. */
bool apx_run_db_exists_ok(const apx_run_unit *u, const char *output);
/* Whether the server refused the client only because it is still starting. */
bool apx_run_db_starting(const apx_run_unit *u, const char *output);

/* ---- watchdog.c ----------------------------------------------------------------------- */

/* Forks the watchdog: on end of file of its pipe (aspirec gone, even by
 * SIGKILL) it SIGTERMs every registered process group, then SIGKILLs what
 * is left after grace_ms. Returns the write end (close-on-exec) or -1. */
int apx_run_watchdog_start(int64_t grace_ms, pid_t *pid);
/* Containers too: after the process groups, every container of the session is removed, then its network. */
void apx_run_watchdog_engine(const char *sock, const char *session, const char *network);
void apx_run_watchdog_add(int fd, pid_t pgid);
void apx_run_watchdog_remove(int fd, pid_t pgid);
void apx_run_watchdog_stop(int fd, pid_t pid);

/* ---- engine.c ------------------------------------------------------------------------- */

/* "docker" or "podman" when one answers on its socket; NULL otherwise. */
const char *apx_run_engine_detect(void);
/* The engine `want` (NULL: docker, then podman) if its socket answers; *sock its path. */
const char *apx_run_engine_find(const char *want, const char **sock);
/* One request to the engine's API, in a loop of its own (before the run's
 * loop, the watchdog): the HTTP status (its body in out), or -1 with the
 * reason in out. timeout_ms 0: none. */
long apx_run_http(const char *sock, const char *method, const char *path, const char *body, apx_buf *out,
                  long timeout_ms);
/* The run's network: "aspirec-PROGRAM". */
const char *apx_run_engine_network(apx_runtime *run);
/* A named volume's name on the engine: "aspirec-PROGRAM-RESOURCE-VOLUME" (stable across runs). */
const char *apx_run_engine_volume(apx_runtime *run, const apx_resource *r, const apx_volume *v);
/* Removes every container labelled aspirec.session=session, then the
 * network (the watchdog's last act; a network still used by a persistent
 * container stays). network NULL: none. */
void apx_run_engine_reap(const char *sock, const char *session, const char *network);

/* Requests in the loop (engine.c): HTTP/1.1 on libuv's pipes, so
 * that no request blocks the loop and independent ones run at once. */
typedef struct apx_run_req apx_run_req;
/* A piece of a streamed 2xx answer, in order. */
typedef void (*apx_run_req_data_cb)(apx_run_req *q, const char *s, size_t n, void *ud);
/* The end: the HTTP status and the answer (not what went to on_data), or -1 with the reason (no connection, a timeout). */
typedef void (*apx_run_req_done_cb)(apx_run_req *q, long status, const apx_buf *body, void *ud);
/* The next bytes of an uploaded body (a tar): 0 at its end. */
typedef size_t (*apx_run_req_read_cb)(char *buf, size_t n, void *ud);
typedef struct apx_run_reqopt {
  const char *method, *path; /* path under /v1.41 */
  const char *json;          /* a JSON body, or NULL */
  apx_run_req_read_cb on_read; /* or a streamed application/x-tar body */
  apx_run_req_data_cb on_data; /* NULL: the answer comes whole to done */
  long timeout_ms;             /* 0: none */
} apx_run_reqopt;
apx_run_req *apx_run_req_start(apx_runtime *run, const apx_run_reqopt *o, apx_run_req_done_cb done, void *ud);
/* No callback of q comes after this. Not from inside q's own on_read. */
void apx_run_req_cancel(apx_run_req *q);
/* Requests not done yet; running the loop until there are none (after the run's loop stopped). */
size_t apx_run_http_live(const apx_runtime *run);
void apx_run_http_wait(apx_runtime *run);
/* Percent-encodes s for a path or query (arena). */
char *apx_run_url_escape(apx_arena *a, const char *s);
/* Cancels what is left and closes the handles (the loop then runs to close them); free after. */
void apx_run_http_close(apx_runtime *run);
void apx_run_http_free(apx_runtime *run);

/* ---- engine_build.c: a build context as a tar ------------------------------------------ */

typedef struct apx_run_tar apx_run_tar;
/* Walks a build context (sorted, .dockerignore applied): NULL with why. */
apx_run_tar *apx_run_tar_open(const char *dir, char *why, size_t n);
/* A digest of what the tar will hold: each entry's path, mode, size, time, link. */
uint64_t apx_run_tar_digest(const apx_run_tar *t);
/* The next bytes of the tar (ustar, pax headers for long names), streamed from the files; 0 at its end. */
size_t apx_run_tar_read(apx_run_tar *t, char *buf, size_t n);
void apx_run_tar_free(apx_run_tar *t);

/* ---- monitor.c: what a watcher sees (monitor.h) ------------------------------------ */

/* After the loop is ready: attaches run->opts.monitor, if any. */
void apx_run_monitor_open(apx_runtime *run);
/* After the state directory is open: hands it to the watcher (its state()). 0, or 2. */
int apx_run_monitor_state(apx_runtime *run);
void apx_run_monitor_close(apx_runtime *run);
void apx_run_monitor_changed(apx_runtime *run, apx_run_unit *u);
void apx_run_monitor_line(apx_runtime *run, apx_run_unit *u, const char *s, size_t n, bool eol);
/* One line of aspirec's own (colour codes removed) to the watcher. */
void apx_run_monitor_note(apx_runtime *run, const char *s, size_t n, bool error);
void apx_run_monitor_check(apx_run_unit *u, bool ok, const char *text);
/* The watcher's extra variables for a unit (put through put(ctx, name, value)). */
void apx_run_monitor_env(apx_runtime *run, apx_run_unit *u, const char *host,
                         void (*put)(void *ctx, const char *name, const char *value), void *ctx);

/* ---- report.c ----------------------------------------------------------------------- */

void apx_run_report_plan(apx_runtime *run);
void apx_run_report_change(apx_runtime *run, apx_run_unit *u, apx_run_state from);
void apx_run_report_up(apx_runtime *run);
void apx_run_report_stopped(apx_runtime *run);
/* Pre-start error to stderr: "aspirec: error: …" with an optional hint line. */
void apx_run_error(apx_runtime *run, const char *hint, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
