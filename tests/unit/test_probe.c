/* aspirec-probe (probe/probe.c) against real listeners on 127.0.0.1: each
 * run is a forked child calling apx_probe_main with its output captured, so
 * the code runs under the sanitizers of this build; then the static binary
 * the build installs (APX_PROBE_BUILT) once, to see it is static and works. */
#include <arpa/inet.h>
#include <elf.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../probe/probe.h"
#include "check.h"

typedef struct run_result {
  int code;      /* exit code, or -1 */
  char out[4096]; /* stdout and stderr, interleaved */
  long long ms;  /* how long it took */
} run_result;

static long long now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Reads everything from fd into r->out, then reaps pid. */
static void collect(int fd, pid_t pid, run_result *r, long long t0) {
  size_t n = 0;
  for (;;) {
    ssize_t k = read(fd, r->out + n, sizeof r->out - 1 - n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) break;
    n += (size_t)k;
    if (n == sizeof r->out - 1) break;
  }
  /* One line, so it can sit in an `ok - …` line. */
  while (n && r->out[n - 1] == '\n') n--;
  r->out[n] = '\0';
  for (char *c = r->out; *c; c++)
    if (*c == '\n') *c = '|';
  close(fd);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  r->code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  r->ms = now_ms() - t0;
}

/* apx_probe_main(argv) in a child, NULL-terminated argv without argv[0]. */
static run_result probe(const char *const *args) {
  run_result r;
  memset(&r, 0, sizeof r);
  char *argv[32];
  int argc = 0;
  argv[argc++] = "aspirec-probe";
  for (; *args && argc < 31; args++) argv[argc++] = (char *)*args;
  argv[argc] = NULL;
  int p[2];
  if (pipe(p) != 0) return r;
  fflush(stdout);
  long long t0 = now_ms();
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    dup2(p[1], 1);
    dup2(p[1], 2);
    close(p[1]);
    exit(apx_probe_main(argc, argv));
  }
  close(p[1]);
  collect(p[0], pid, &r, t0);
  return r;
}

/* The static binary, by path. */
static run_result probe_binary(const char *path, const char *const *args) {
  run_result r;
  memset(&r, 0, sizeof r);
  char *argv[32];
  int argc = 0;
  argv[argc++] = (char *)path;
  for (; *args && argc < 31; args++) argv[argc++] = (char *)*args;
  argv[argc] = NULL;
  int p[2];
  if (pipe(p) != 0) return r;
  fflush(stdout);
  long long t0 = now_ms();
  pid_t pid = fork();
  if (pid == 0) {
    close(p[0]);
    dup2(p[1], 1);
    dup2(p[1], 2);
    close(p[1]);
    execv(path, argv);
    _exit(126);
  }
  close(p[1]);
  collect(p[0], pid, &r, t0);
  return r;
}

/* A listening socket on 127.0.0.1 and a free port; *port is set. */
static int listener(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
      getsockname(fd, (struct sockaddr *)&a, &len) != 0) {
    close(fd);
    return -1;
  }
  *port = ntohs(a.sin_port);
  return fd;
}

/* A port nobody listens on (bound, then closed: refused on 127.0.0.1 and ::1). */
static int closed_port(void) {
  int port = 0, fd = listener(&port);
  if (fd >= 0) close(fd);
  return port;
}

/* A child that answers each connection with `response` (the raw bytes)
 * after reading the request head, and keeps the request it saw last in
 * `seen` (a pipe back to the parent). Returns its pid. */
static pid_t serve(int fd, const char *response, int seen_fd) {
  fflush(stdout);
  pid_t pid = fork();
  if (pid != 0) return pid;
  for (;;) {
    int c = accept(fd, NULL, NULL);
    if (c < 0) _exit(0);
    char req[2048];
    size_t n = 0;
    while (n < sizeof req - 1) {
      ssize_t k = read(c, req + n, sizeof req - 1 - n);
      if (k <= 0) break;
      n += (size_t)k;
      req[n] = '\0';
      if (strstr(req, "\r\n\r\n")) break;
    }
    if (seen_fd >= 0 && write(seen_fd, req, n) < 0) _exit(1);
    if (write(c, response, strlen(response)) < 0) _exit(1);
    close(c);
  }
}

static void stop(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGKILL);
  while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
  }
}

static bool has(const run_result *r, const char *s) { return strstr(r->out, s) != NULL; }

static void test_tcp(void) {
  int port = 0, fd = listener(&port);
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  run_result r = probe((const char *[]){"tcp", ps, NULL});
  CHECK(r.code == 0 && has(&r, "open"), "probe: tcp to a listener on 127.0.0.1 is healthy (exit %d: %s)", r.code, r.out);
  close(fd);
  snprintf(ps, sizeof ps, "%d", closed_port());
  r = probe((const char *[]){"tcp", ps, NULL});
  CHECK(r.code == 1 && has(&r, "Connection refused"), "probe: tcp to a closed port is unhealthy, refused (exit %d: %s)",
        r.code, r.out);
}

static void test_http(void) {
  int port = 0, fd = listener(&port);
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  int seen[2];
  if (pipe(seen) != 0) return;
  pid_t s = serve(fd, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", seen[1]);
  run_result r = probe((const char *[]){"http", ps, "/health?x=1 y", NULL});
  char req[2048] = {0};
  ssize_t k = read(seen[0], req, sizeof req - 1);
  (void)k;
  CHECK(r.code == 0 && has(&r, "status 200"), "probe: http 200 is healthy (exit %d: %s)", r.code, r.out);
  CHECK(strncmp(req, "GET /health?x=1%20y HTTP/1.1\r\n", 30) == 0 && strstr(req, "\r\nHost: 127.0.0.1:"),
        "probe: sends GET PATH HTTP/1.1 with a Host, the space percent-encoded (%.29s)", req);
  stop(s);

  s = serve(fd, "HTTP/1.0 302 Found\r\nLocation: /x\r\n\r\n", -1);
  r = probe((const char *[]){"http", ps, "/", NULL});
  CHECK(r.code == 0, "probe: http 302 is healthy, as in run mode (exit %d: %s)", r.code, r.out);
  stop(s);

  s = serve(fd, "HTTP/1.1 503 Service Unavailable\r\n\r\n", -1);
  r = probe((const char *[]){"http", ps, "/health", NULL});
  CHECK(r.code == 1 && has(&r, "status 503"), "probe: http 503 is unhealthy, the status said (exit %d: %s)", r.code, r.out);
  stop(s);

  s = serve(fd, "HTTP/1.1 404 Not Found\r\n\r\n", -1);
  r = probe((const char *[]){"http", ps, "/nope", NULL});
  CHECK(r.code == 1 && has(&r, "status 404"), "probe: http 404 is unhealthy (exit %d: %s)", r.code, r.out);
  stop(s);

  s = serve(fd, "SSH-2.0-OpenSSH\r\n", -1);
  r = probe((const char *[]){"http", ps, "/", NULL});
  CHECK(r.code == 1 && has(&r, "not an HTTP response"), "probe: a non-HTTP answer is unhealthy (exit %d: %s)", r.code,
        r.out);
  stop(s);

  s = serve(fd, "", -1);
  r = probe((const char *[]){"http", ps, "/", NULL});
  CHECK(r.code == 1 && has(&r, "closed without a response"), "probe: a connection closed at once is unhealthy (%s)",
        r.out);
  stop(s);

  /* Accepted by the kernel (backlog) but never answered: the timeout ends it. */
  r = probe((const char *[]){"--timeout=300ms", "http", ps, "/", NULL});
  CHECK(r.code == 1 && has(&r, "timed out") && r.ms >= 250 && r.ms < 5000,
        "probe: a server that never answers times out after --timeout (%lld ms: %s)", r.ms, r.out);
  close(fd);
  close(seen[0]);
  close(seen[1]);

  snprintf(ps, sizeof ps, "%d", closed_port());
  r = probe((const char *[]){"http", ps, "/", NULL});
  CHECK(r.code == 1 && has(&r, "Connection refused"), "probe: http to a closed port is unhealthy (%s)", r.out);
}

static void test_exec_and_several(void) {
  run_result r = probe((const char *[]){"exec", "1", "true", NULL});
  CHECK(r.code == 0, "probe: exec true is healthy (exit %d: %s)", r.code, r.out);
  r = probe((const char *[]){"exec", "2", "sh", "-c", NULL});
  CHECK(r.code == 1, "probe: exec of a failing command is unhealthy (exit %d: %s)", r.code, r.out);
  r = probe((const char *[]){"exec", "3", "sh", "-c", "exit 3", NULL});
  CHECK(r.code == 1 && has(&r, "exit 3"), "probe: exec reports the exit status (%s)", r.out);
  r = probe((const char *[]){"exec", "1", "/nonexistent/cmd", NULL});
  CHECK(r.code == 1 && has(&r, "No such file"), "probe: exec of a missing command is unhealthy (%s)", r.out);
  r = probe((const char *[]){"--timeout=200ms", "exec", "2", "sleep", "10", NULL});
  CHECK(r.code == 1 && has(&r, "timed out") && r.ms < 5000, "probe: exec is killed at the timeout (%lld ms)", r.ms);

  int port = 0, fd = listener(&port);
  char ps[16], cl[16];
  snprintf(ps, sizeof ps, "%d", port);
  snprintf(cl, sizeof cl, "%d", closed_port());
  r = probe((const char *[]){"tcp", ps, "exec", "1", "true", NULL});
  CHECK(r.code == 0, "probe: every check passing is healthy (%s)", r.out);
  r = probe((const char *[]){"tcp", ps, "tcp", cl, "exec", "1", "true", NULL});
  CHECK(r.code == 1 && has(&r, "Connection refused") && !has(&r, "exec true"),
        "probe: one failing check is unhealthy and stops the run (%s)", r.out);
  close(fd);
}

static void test_usage(void) {
  const char *const bad[][5] = {
      {NULL},
      {"tcp", NULL},
      {"tcp", "0", NULL},
      {"tcp", "65536", NULL},
      {"tcp", "80x", NULL},
      {"http", "80", NULL},
      {"http", "80", "health", NULL},
      {"exec", "2", "true", NULL},
      {"exec", "0", NULL},
      {"udp", "53", NULL},
      {"--timeout=soon", "tcp", "80", NULL},
  };
  int wrong = 0;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    run_result r = probe(bad[i]);
    if (r.code != 2 || !has(&r, "usage:")) {
      wrong++;
      printf("# %s %s: exit %d: %s\n", bad[i][0] ? bad[i][0] : "(none)", bad[i][0] && bad[i][1] ? bad[i][1] : "",
             r.code, r.out);
    }
  }
  CHECK(wrong == 0, "probe: a bad command line exits 2 with the usage, before any check (%d wrong)", wrong);
  /* Checked as a whole first: a later bad word stops a good check from running. */
  run_result r = probe((const char *[]){"exec", "1", "true", "bogus", NULL});
  CHECK(r.code == 2 && !has(&r, "exec true"), "probe: nothing runs when a later word is bad (%s)", r.out);
}

static void test_binary(void) {
#ifdef APX_PROBE_BUILT
  const char *path = APX_PROBE_BUILT;
  CHECK(access(path, X_OK) == 0, "probe: the build made %s", path);
  /* Static: no program interpreter (PT_INTERP, ld.so) among the ELF program headers. */
  FILE *f = fopen(path, "rb");
  Elf64_Ehdr eh;
  bool elf = f && fread(&eh, sizeof eh, 1, f) == 1 && memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
             eh.e_ident[EI_CLASS] == ELFCLASS64;
  bool interp = false;
  for (int i = 0; elf && i < eh.e_phnum; i++) {
    Elf64_Phdr ph;
    if (fseek(f, (long)(eh.e_phoff + (Elf64_Off)i * eh.e_phentsize), SEEK_SET) != 0 || fread(&ph, sizeof ph, 1, f) != 1)
      elf = false;
    else if (ph.p_type == PT_INTERP) interp = true;
  }
  long size = f && fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
  if (f) fclose(f);
  CHECK(elf && !interp, "probe: the binary is a static ELF, no interpreter (%ld bytes)", size);
  int port = 0, fd = listener(&port);
  char ps[16];
  snprintf(ps, sizeof ps, "%d", port);
  pid_t s = serve(fd, "HTTP/1.1 204 No Content\r\n\r\n", -1);
  run_result r = probe_binary(path, (const char *[]){"http", ps, "/", NULL});
  CHECK(r.code == 0 && has(&r, "status 204"), "probe: the static binary checks http (exit %d: %s)", r.code, r.out);
  stop(s);
  close(fd);
  snprintf(ps, sizeof ps, "%d", closed_port());
  r = probe_binary(path, (const char *[]){"tcp", ps, NULL});
  CHECK(r.code == 1, "probe: the static binary reports a closed port (exit %d)", r.code);
#else
  CHECK(0, "probe: APX_PROBE_BUILT is not defined by the build");
#endif
}

int main(void) {
  signal(SIGPIPE, SIG_IGN);
  test_tcp();
  test_http();
  test_exec_and_several();
  test_usage();
  test_binary();
  printf("# %d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}
