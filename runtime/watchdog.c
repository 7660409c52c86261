/* The watchdog: no process aspirec started may outlive it, even when
 * aspirec is killed with SIGKILL and can clean nothing up itself.
 *
 * At start aspirec forks a small process that holds the read end of a
 * pipe. aspirec writes one record per process group it creates (every
 * supervised process is the leader of its own group) and one when the group
 * is gone. When the pipe reaches end of file, aspirec has ended, however it
 * ended: the watchdog sends SIGTERM to every group still registered, waits
 * up to the grace period for them to go, sends SIGKILL to what is left and
 * exits. Process groups catch grandchildren too (`sh -c 'a & b'`), as long
 * as they do not make a session of their own (daemons do; run them in the
 * foreground).
 *
 * The watchdog sits in its own session, so a Ctrl-C on the terminal or a
 * kill of aspirec's process group does not take it along, and it ignores
 * the signals a terminal or a shell sends. The write end is close-on-exec:
 * a child holding it would keep the pipe open after aspirec is gone.
 * Records are 4 bytes, written atomically (less than PIPE_BUF). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run_internal.h"

static void apx_wd_sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Set before the fork: the engine whose containers of this run go too. */
static char apx_wd_sock[512], apx_wd_session[128], apx_wd_network[300];

void apx_run_watchdog_engine(const char *sock, const char *session, const char *network) {
  snprintf(apx_wd_sock, sizeof apx_wd_sock, "%s", sock ? sock : "");
  snprintf(apx_wd_session, sizeof apx_wd_session, "%s", session ? session : "");
  snprintf(apx_wd_network, sizeof apx_wd_network, "%s", network ? network : "");
}

static bool apx_wd_alive(pid_t pgid) { return kill(-pgid, 0) == 0 || errno == EPERM; }

static void apx_wd_main(int rfd, int64_t grace_ms) {
  static const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU};
  for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++) signal(sigs[i], SIG_IGN);
  setsid();
  prctl(PR_SET_NAME, "aspirec-watch", 0, 0, 0);
  int null = open("/dev/null", O_RDWR);
  if (null >= 0) {
    dup2(null, 0);
    dup2(null, 1);
    if (null > 2) close(null);
  }
  /* Nothing else of aspirec's may stay open here (its listening sockets,
   * the lock on the state directory). */
  for (int fd = 3; fd < 1024; fd++)
    if (fd != rfd) close(fd);
  pid_t *groups = NULL;
  size_t n = 0, cap = 0;
  for (;;) {
    int32_t rec[256];
    ssize_t k = read(rfd, rec, sizeof rec);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    for (ssize_t i = 0; i < k / (ssize_t)sizeof *rec; i++) {
      pid_t g = rec[i] > 0 ? rec[i] : -rec[i];
      if (rec[i] > 0) {
        if (n == cap) {
          cap = cap ? cap * 2 : 64;
          pid_t *ng = realloc(groups, cap * sizeof *groups);
          if (!ng) break; /* keep what is registered: better than nothing */
          groups = ng;
        }
        if (n < cap) groups[n++] = g;
      } else {
        for (size_t j = 0; j < n; j++)
          if (groups[j] == g) {
            groups[j] = groups[--n];
            break;
          }
      }
    }
  }
  /* aspirec is gone. */
  size_t live = 0;
  for (size_t i = 0; i < n; i++)
    if (kill(-groups[i], SIGTERM) == 0) live++;
  for (int64_t waited = 0; live && waited < grace_ms; waited += 50) {
    apx_wd_sleep_ms(50);
    live = 0;
    for (size_t i = 0; i < n; i++)
      if (apx_wd_alive(groups[i])) live++;
  }
  for (size_t i = 0; i < n; i++) kill(-groups[i], SIGKILL);
  free(groups);
  if (apx_wd_sock[0]) apx_run_engine_reap(apx_wd_sock, apx_wd_session, apx_wd_network);
  _exit(0);
}

int apx_run_watchdog_start(int64_t grace_ms, pid_t *pid) {
  int p[2];
  if (pipe2(p, O_CLOEXEC) != 0) return -1;
  fflush(NULL); /* nothing buffered may be written twice */
  pid_t child = fork();
  if (child < 0) {
    close(p[0]);
    close(p[1]);
    return -1;
  }
  if (child == 0) {
    close(p[1]);
    apx_wd_main(p[0], grace_ms);
  }
  close(p[0]);
  *pid = child;
  return p[1];
}

static void apx_wd_write(int fd, int32_t rec) {
  if (fd < 0) return;
  while (write(fd, &rec, sizeof rec) < 0 && errno == EINTR) {
  }
}

void apx_run_watchdog_add(int fd, pid_t pgid) { apx_wd_write(fd, (int32_t)pgid); }
void apx_run_watchdog_remove(int fd, pid_t pgid) { apx_wd_write(fd, -(int32_t)pgid); }

/* The normal end: every group was removed, so closing the pipe makes the
 * watchdog exit at once; reap it (bounded: it has nothing to wait for). */
void apx_run_watchdog_stop(int fd, pid_t pid) {
  if (fd >= 0) close(fd);
  if (pid <= 0) return;
  for (int i = 0; i < 200; i++) {
    pid_t r = waitpid(pid, NULL, WNOHANG);
    if (r == pid || (r < 0 && errno != EINTR)) return;
    apx_wd_sleep_ms(10);
  }
}
