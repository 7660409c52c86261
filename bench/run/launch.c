/* launch: the "direct" way of bench/run, the processes' own start time with
   as little in between as can be: starts PROGRAM ARG for every ARG with
   posix_spawn (vfork + exec), one after the other, then waits; on SIGTERM or
   SIGINT it kills them all (SIGKILL), reaps them and exits.
   usage: launch PROGRAM ARG... */
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: launch PROGRAM ARG...\n");
        return 2;
    }
    sigset_t stop, none;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigemptyset(&none);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setsigmask(&attr, &none);          /* the children: no blocked signals */
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    int n = argc - 2, failed = 0;
    pid_t *pids = calloc((size_t)n, sizeof *pids);
    for (int i = 0; i < n; i++) {
        char *args[] = { argv[1], argv[i + 2], NULL };
        if (posix_spawn(&pids[i], argv[1], NULL, &attr, args, environ) != 0) {
            perror("launch: posix_spawn");
            pids[i] = 0;
            failed = 1;
        }
    }
    int sig;
    if (!failed) sigwait(&stop, &sig);
    for (int i = 0; i < n; i++)
        if (pids[i] > 0) kill(pids[i], SIGKILL);
    for (int i = 0; i < n; i++)
        if (pids[i] > 0) waitpid(pids[i], NULL, 0);
    free(pids);
    return failed;
}
