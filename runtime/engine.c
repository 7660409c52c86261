/* Is a container engine here? Only asked when a container has no local {}
 * fallback, to say the right thing (run mode does not run containers yet,
 * doc/run-mode.md). "Here" means installed and answering: `docker info`
 * fails when the daemon is down, and then the engine is as good as absent. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run_internal.h"

extern char **environ;

static bool apx_engine_answers(const char *prog) {
  char *path = apx_run_which(NULL, prog, NULL);
  if (!path) return false;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  char *argv[] = {path, "info", NULL};
  pid_t pid;
  int rc = posix_spawn(&pid, path, &fa, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&fa);
  free(path);
  if (rc != 0) return false;
  /* At most 10 s: a daemon that hangs is not answering. */
  int status = 0;
  for (int i = 0; i < 1000; i++) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (r < 0 && errno != EINTR) return false;
    struct timespec ts = {0, 10 * 1000000L};
    nanosleep(&ts, NULL);
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return false;
}

const char *apx_run_engine_detect(void) {
  if (apx_engine_answers("docker")) return "docker";
  if (apx_engine_answers("podman")) return "podman";
  return NULL;
}
