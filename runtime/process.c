/* Processes: each supervised process (and each setup step, database
 * creation and exec probe) is spawned through libuv in a session and
 * process group of its own (UV_PROCESS_DETACHED: setsid), so that a
 * signal reaches everything it started, registered with the watchdog, with
 * stdin from /dev/null and stdout and stderr through one pipe into logs.c.
 *
 * A process is over when it has exited *and* its output is drained, so
 * that its last lines come before the message saying it exited. What is
 * left of its group when the leader exits (a background job of a shell)
 * gets SIGKILL at once: nothing may outlive the service it belongs to, and
 * a leftover holding the pipes would keep them from ending. If the pipes
 * still do not end (something escaped into a session of its own), the
 * process counts as over after a short linger anyway. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "run_internal.h"

enum { APX_LINGER_MS = 2000 };

char *apx_run_which(apx_arena *a, const char *prog, char **envp) {
  const char *path = NULL;
  if (envp)
    for (char **e = envp; *e; e++)
      if (strncmp(*e, "PATH=", 5) == 0) path = *e + 5;
  if (!envp) path = getenv("PATH");
  if (!path) path = "/usr/local/bin:/usr/bin:/bin";
  if (strchr(prog, '/')) return access(prog, X_OK) == 0 ? (a ? apx_arena_strdup(a, prog) : strdup(prog)) : NULL;
  size_t plen = strlen(prog);
  for (const char *s = path; *s;) {
    const char *e = strchr(s, ':');
    size_t n = e ? (size_t)(e - s) : strlen(s);
    char *cand = malloc(n + plen + 3);
    if (!cand) abort();
    snprintf(cand, n + plen + 3, "%.*s/%s", (int)(n ? n : 1), n ? s : ".", prog);
    struct stat st;
    if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
      if (!a) return cand;
      char *r = apx_arena_strdup(a, cand);
      free(cand);
      return r;
    }
    free(cand);
    s += n;
    if (*s == ':') s++;
  }
  return NULL;
}

const char *apx_run_exit_text(char *buf, size_t n, int status, int sig) {
  static const struct {
    int sig;
    const char *name;
  } names[] = {{SIGHUP, "SIGHUP"},   {SIGINT, "SIGINT"},   {SIGQUIT, "SIGQUIT"}, {SIGILL, "SIGILL"},
               {SIGABRT, "SIGABRT"}, {SIGBUS, "SIGBUS"},   {SIGFPE, "SIGFPE"},   {SIGKILL, "SIGKILL"},
               {SIGSEGV, "SIGSEGV"}, {SIGPIPE, "SIGPIPE"}, {SIGALRM, "SIGALRM"}, {SIGTERM, "SIGTERM"},
               {SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"}};
  if (sig) {
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
      if (names[i].sig == sig) {
        snprintf(buf, n, "signal %s", names[i].name);
        return buf;
      }
    snprintf(buf, n, "signal %d", sig);
  } else {
    snprintf(buf, n, "exit status %d", status);
  }
  return buf;
}

static void apx_proc_maybe_free(apx_run_proc *p) {
  if (p->handles > 0 || !p->reported) return;
  apx_buf_free(&p->capture);
  p->run->procs_live--;
  if (p->prev) p->prev->next = p->next;
  else p->run->procs = p->next;
  if (p->next) p->next->prev = p->prev;
  free(p);
}

void apx_run_proc_handle_closed(apx_run_proc *p) {
  p->handles--;
  apx_proc_maybe_free(p);
}

static void apx_proc_closed(uv_handle_t *h) { apx_run_proc_handle_closed(h->data); }

static void apx_proc_report(apx_run_proc *p) {
  if (p->reported) return;
  p->reported = true;
  if (p->linger_on) uv_timer_stop(&p->linger);
  uv_close((uv_handle_t *)&p->linger, apx_proc_closed);
  apx_run_proc_done(p->run, p);
  apx_proc_maybe_free(p);
}

void apx_run_proc_stream_eof(apx_run_proc *p) {
  p->streams--;
  if (p->exited && p->streams <= 0) apx_proc_report(p);
}

static void apx_proc_linger(uv_timer_t *t) { apx_proc_report(t->data); }

void apx_run_proc_ended(apx_run_proc *p, int64_t status, int term_signal) {
  p->exited = true;
  p->status = status;
  p->term_signal = term_signal;
  if (p->streams <= 0) {
    apx_proc_report(p);
  } else {
    p->linger_on = true;
    uv_timer_start(&p->linger, apx_proc_linger, APX_LINGER_MS, 0);
  }
}

static void apx_proc_exit(uv_process_t *h, int64_t status, int term_signal) {
  apx_run_proc *p = h->data;
  /* Leftovers of the group (background jobs) go with their leader. */
  kill(-p->pid, SIGKILL);
  apx_run_watchdog_remove(p->run->watchdog_fd, p->pid);
  uv_close((uv_handle_t *)h, apx_proc_closed);
  apx_run_proc_ended(p, status, term_signal);
}

void apx_run_proc_close_handle(apx_runtime *run, uv_handle_t *h) {
  for (apx_run_proc *p = run->procs; p; p = p->next)
    if ((uv_handle_t *)&p->handle == h) {
      kill(-p->pid, SIGKILL);
      uv_close(h, apx_proc_closed);
      return;
    }
  apx_run_probes_close_handle(h);
}

void apx_run_proc_signal(apx_run_proc *p, int sig) {
  if (!p || p->exited) return;
  p->drv->signal(p, sig);
}

static void apx_proc_kill(apx_run_proc *p, int sig) { kill(-p->pid, sig); }

static void apx_spawn_why(apx_run_unit *u, int err, const char *file, const char *cwd, char **envp) {
  if (err == UV_ENOENT) {
    struct stat st;
    if (cwd && stat(cwd, &st) != 0) {
      snprintf(u->why, sizeof u->why, "its working directory %s does not exist", cwd);
      return;
    }
    bool path = false;
    for (char **e = envp; e && *e; e++) path = path || strncmp(*e, "PATH=", 5) == 0;
    if (strchr(file, '/'))
      snprintf(u->why, sizeof u->why, "command '%s' not found (relative to %s); check `command`", file,
               cwd ? cwd : ".");
    else
      snprintf(u->why, sizeof u->why, "command '%s' not found on %s; install it or fix `command`", file,
               path ? "PATH" : "the default PATH (PATH is unset)");
  } else if (err == UV_EACCES) {
    snprintf(u->why, sizeof u->why, "command '%s' cannot be run: permission denied%s%s", file,
             u->user ? " for user " : "", u->user ? u->user : "");
  } else {
    snprintf(u->why, sizeof u->why, "cannot start '%s': %s", file, uv_strerror(err));
  }
}

void apx_run_spawn_options(uv_process_options_t *o, const apx_run_unit *u, char **argv, char **envp,
                           const char *cwd, uv_stdio_container_t stdio[3], uv_exit_cb exit_cb) {
  memset(o, 0, sizeof *o);
  o->exit_cb = exit_cb;
  o->file = argv[0];
  o->args = argv;
  o->env = envp;
  o->cwd = cwd;
  o->flags = UV_PROCESS_DETACHED;
  if (u->user) {
    o->flags |= UV_PROCESS_SETUID | UV_PROCESS_SETGID;
    o->uid = u->uid;
    o->gid = u->gid;
  }
  o->stdio_count = 3;
  o->stdio = stdio;
}

apx_run_proc *apx_run_proc_new(apx_runtime *run, apx_run_unit *u, apx_run_proc_role role,
                               const apx_run_driver *drv, int *wfd) {
  /* One pipe for stdout and stderr, made here rather than by libuv (which
   * would make one per descriptor): the process's lines then arrive in the
   * order it wrote them, as on a terminal, and reading one pipe before the
   * other cannot cut a long line of one with a line of the other. */
  int fds[2];
  if (wfd && pipe2(fds, O_CLOEXEC) != 0) {
    snprintf(u->why, sizeof u->why, "cannot make a pipe for its output: %s", strerror(errno));
    return NULL;
  }
  apx_run_proc *p = calloc(1, sizeof *p);
  if (!p) abort();
  run->procs_live++;
  p->next = run->procs;
  if (run->procs) run->procs->prev = p;
  run->procs = p;
  p->run = run;
  p->unit = u;
  p->role = role;
  p->drv = drv;
  uv_timer_init(&run->loop, &p->linger);
  p->linger.data = p;
  if (!wfd) {
    p->out = apx_run_feed_new(run, u, p);
    p->handles = 1; /* linger */
    return p;
  }
  /* A bigger pipe means fewer wake-ups for a process that writes a lot. */
  fcntl(fds[0], F_SETPIPE_SZ, 256 * 1024);
  uv_pipe_t *po;
  p->out = apx_run_stream_new(p, &po);
  uv_pipe_open(po, fds[0]);
  p->handles = 2; /* linger, pipe */
  *wfd = fds[1];
  return p;
}

int apx_run_proc_spawn(apx_runtime *run, apx_run_unit *u, apx_run_proc_role role, char **argv, char **envp,
                       const char *cwd) {
  int wfd;
  apx_run_proc *p = apx_run_proc_new(run, u, role, &apx_run_driver_process, &wfd);
  if (!p) return UV_EMFILE;
  p->handles++; /* the process */
  uv_stdio_container_t stdio[3];
  stdio[0].flags = UV_IGNORE;
  stdio[1].flags = UV_INHERIT_FD;
  stdio[1].data.fd = wfd;
  stdio[2].flags = UV_INHERIT_FD;
  stdio[2].data.fd = wfd;
  uv_process_options_t o;
  apx_run_spawn_options(&o, u, argv, envp, cwd, stdio, apx_proc_exit);
  p->handle.data = p;
  int rc = uv_spawn(&run->loop, &p->handle, &o);
  close(wfd); /* the child has it; the pipe ends when the child (and its group) close it */
  if (rc != 0) {
    apx_spawn_why(u, rc, argv[0], cwd, envp);
    p->exited = true;
    p->reported = true; /* nothing to report: the caller handles the failure */
    uv_close((uv_handle_t *)&p->handle, apx_proc_closed);
    uv_close((uv_handle_t *)&p->linger, apx_proc_closed);
    apx_run_stream_free(p->out);
    return rc;
  }
  p->pid = p->handle.pid;
  snprintf(p->label, sizeof p->label, "pid %ld", (long)p->pid);
  apx_run_watchdog_add(run->watchdog_fd, p->pid);
  p->streams = 1;
  if (apx_run_stream_start(p->out) != 0) p->streams--;
  u->proc = p;
  return 0;
}

static int apx_proc_start(apx_runtime *run, apx_run_unit *u) {
  return apx_run_proc_spawn(run, u, APX_PROC_MAIN, u->argv, u->envp, u->cwd) == 0 ? 0 : -1;
}

/* The host process: the first way a unit runs (run_internal.h). */
const apx_run_driver apx_run_driver_process = {
    .name = "process", .open = NULL, .inspect = NULL, .create = NULL, .start = apx_proc_start, .signal = apx_proc_kill, .close = NULL};
