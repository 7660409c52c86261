/* aspirec-probe: the health checks of a Compose service, run inside its
 * container (probe/README.md, doc/targets.md "Health checks").
 *
 *   aspirec-probe [--timeout=DURATION] CHECK...
 *     tcp PORT             127.0.0.1:PORT (or [::1]:PORT) accepts a connection
 *     http PORT PATH       GET PATH there answers 2xx or 3xx
 *     exec N ARG1..ARGN    the command ARG1..ARGN exits 0
 *
 * Every check must pass, in order; the first failure ends the run. The
 * timeout (default 30s, Docker's own) bounds the whole run.
 *
 * It is linked statically and uses only the kernel's socket calls on
 * numeric loopback addresses: no resolver, no NSS, no shell, no files, so
 * it works in an image that holds nothing but one server binary. That is
 * also why it speaks plain HTTP only: an https endpoint is checked by
 * connecting, as run mode does (runtime/health.c). */
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct apx_probe_check {
  int kind; /* 't' tcp, 'h' http, 'e' exec */
  int port;
  const char *path;
  char **argv; /* exec: N words, then NULL in place of the next word */
  int argc;
} apx_probe_check;

static long long apx_probe_now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int apx_probe_left(long long deadline) {
  long long left = deadline - apx_probe_now_ms();
  return left < 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int)left;
}

/* "250ms", "2s", "1m"; a bare number is seconds. */
static bool apx_probe_duration(const char *s, long long *ms) {
  char *end;
  errno = 0;
  long long v = strtoll(s, &end, 10);
  if (end == s || errno || v < 0 || v > 86400000) return false;
  if (!*end || strcmp(end, "s") == 0) *ms = v * 1000;
  else if (strcmp(end, "ms") == 0) *ms = v;
  else if (strcmp(end, "m") == 0) *ms = v * 60000;
  else return false;
  return true;
}

static bool apx_probe_port(const char *s, int *port) {
  char *end;
  long v = strtol(s, &end, 10);
  if (end == s || *end || v < 1 || v > 65535 || s[0] == '+' || s[0] == '-') return false;
  *port = (int)v;
  return true;
}

/* Waits until fd is ready for `events` or the deadline passes: 1 ready,
 * 0 timed out, -1 error. */
static int apx_probe_wait(int fd, short events, long long deadline) {
  for (;;) {
    struct pollfd p = {fd, events, 0};
    int rc = poll(&p, 1, apx_probe_left(deadline));
    if (rc < 0 && errno == EINTR) continue;
    return rc < 0 ? -1 : rc;
  }
}

/* One non-blocking connect: a socket, or -1 with *err (errno, or ETIMEDOUT). */
static int apx_probe_connect_one(const struct sockaddr *sa, socklen_t len, long long deadline, int *err) {
  int fd = socket(sa->sa_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    *err = errno;
    return -1;
  }
  if (connect(fd, sa, len) != 0) {
    if (errno != EINPROGRESS) {
      *err = errno;
      close(fd);
      return -1;
    }
    int rc = apx_probe_wait(fd, POLLOUT, deadline);
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (rc <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr) {
      *err = rc == 0 ? ETIMEDOUT : rc < 0 ? errno : soerr ? soerr : errno;
      close(fd);
      return -1;
    }
  }
  return fd;
}

/* 127.0.0.1:PORT, then [::1]:PORT when IPv4 found nobody listening (a
 * server bound to ::1 only). The error reported is IPv4's. */
static int apx_probe_connect(int port, long long deadline, int *err) {
  struct sockaddr_in a4;
  memset(&a4, 0, sizeof a4);
  a4.sin_family = AF_INET;
  a4.sin_port = htons((uint16_t)port);
  a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = apx_probe_connect_one((const struct sockaddr *)&a4, sizeof a4, deadline, err);
  if (fd >= 0 || *err != ECONNREFUSED) return fd;
  struct sockaddr_in6 a6;
  memset(&a6, 0, sizeof a6);
  a6.sin6_family = AF_INET6;
  a6.sin6_port = htons((uint16_t)port);
  a6.sin6_addr = in6addr_loopback;
  int err6;
  fd = apx_probe_connect_one((const struct sockaddr *)&a6, sizeof a6, deadline, &err6);
  return fd;
}

static const char *apx_probe_strerror(int err) { return err == ETIMEDOUT ? "timed out" : strerror(err); }

static bool apx_probe_tcp(const apx_probe_check *c, long long deadline) {
  int err = 0;
  int fd = apx_probe_connect(c->port, deadline, &err);
  if (fd < 0) {
    fprintf(stderr, "aspirec-probe: tcp 127.0.0.1:%d: %s\n", c->port, apx_probe_strerror(err));
    return false;
  }
  close(fd);
  printf("aspirec-probe: tcp 127.0.0.1:%d: open\n", c->port);
  return true;
}

/* The request line's target: bytes a server could misread (space,
 * controls, non-ASCII) percent-encoded, the rest as given. */
static size_t apx_probe_target(const char *path, char *out, size_t cap) {
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;
  for (const unsigned char *p = (const unsigned char *)path; *p && n + 4 < cap; p++) {
    if (*p > 0x20 && *p < 0x7f) {
      out[n++] = (char)*p;
    } else {
      out[n++] = '%';
      out[n++] = hex[*p >> 4];
      out[n++] = hex[*p & 15];
    }
  }
  out[n] = '\0';
  return n;
}

static bool apx_probe_http(const apx_probe_check *c, long long deadline) {
  char target[2048], req[2400], resp[1024];
  apx_probe_target(c->path, target, sizeof target);
  int err = 0;
  int fd = apx_probe_connect(c->port, deadline, &err);
  if (fd < 0) {
    fprintf(stderr, "aspirec-probe: GET http://127.0.0.1:%d%s: %s\n", c->port, target, apx_probe_strerror(err));
    return false;
  }
  int n = snprintf(req, sizeof req,
                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUser-Agent: aspirec-probe\r\nAccept: */*\r\n"
                   "Connection: close\r\n\r\n",
                   target, c->port);
  const char *why = NULL;
  size_t sent = 0, len = (size_t)n, got = 0;
  while (!why && sent < len) {
    int rc = apx_probe_wait(fd, POLLOUT, deadline);
    if (rc <= 0) {
      why = rc == 0 ? "timed out sending the request" : strerror(errno);
      break;
    }
    ssize_t w = send(fd, req + sent, len - sent, MSG_NOSIGNAL);
    if (w < 0 && errno != EINTR && errno != EAGAIN) why = strerror(errno);
    else if (w > 0) sent += (size_t)w;
  }
  /* Read until the end of the status line (or the buffer is full). */
  while (!why && got < sizeof resp - 1 && !memchr(resp, '\n', got)) {
    int rc = apx_probe_wait(fd, POLLIN, deadline);
    if (rc <= 0) {
      why = rc == 0 ? "timed out waiting for the response" : strerror(errno);
      break;
    }
    ssize_t r = recv(fd, resp + got, sizeof resp - 1 - got, 0);
    if (r == 0) break;
    if (r < 0 && errno != EINTR && errno != EAGAIN) why = strerror(errno);
    else if (r > 0) got += (size_t)r;
  }
  close(fd);
  resp[got] = '\0';
  int status = 0;
  if (!why) {
    /* "HTTP/1.1 200 OK": the status is the three digits after the space. */
    const char *sp = strncmp(resp, "HTTP/", 5) == 0 ? strchr(resp, ' ') : NULL;
    if (sp && sp[1] >= '1' && sp[1] <= '5' && sp[2] >= '0' && sp[2] <= '9' && sp[3] >= '0' && sp[3] <= '9' &&
        (sp[4] == ' ' || sp[4] == '\r' || sp[4] == '\n'))
      status = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + (sp[3] - '0');
    else why = got ? "not an HTTP response" : "the connection closed without a response";
  }
  if (!why && (status < 200 || status > 399)) {
    fprintf(stderr, "aspirec-probe: GET http://127.0.0.1:%d%s: status %d\n", c->port, target, status);
    return false;
  }
  if (why) {
    fprintf(stderr, "aspirec-probe: GET http://127.0.0.1:%d%s: %s\n", c->port, target, why);
    return false;
  }
  printf("aspirec-probe: GET http://127.0.0.1:%d%s: status %d\n", c->port, target, status);
  return true;
}

static bool apx_probe_exec(const apx_probe_check *c, long long deadline) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    fprintf(stderr, "aspirec-probe: exec %s: cannot fork: %s\n", c->argv[0], strerror(errno));
    return false;
  }
  if (pid == 0) {
    /* Its own process group, so a timeout can stop what it started too. */
    setpgid(0, 0);
    char **argv = malloc(sizeof *argv * ((size_t)c->argc + 1));
    if (!argv) _exit(127);
    memcpy(argv, c->argv, sizeof *argv * (size_t)c->argc);
    argv[c->argc] = NULL;
    execvp(argv[0], argv);
    fprintf(stderr, "aspirec-probe: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  int st = 0;
  for (;;) {
    pid_t w = waitpid(pid, &st, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) {
      fprintf(stderr, "aspirec-probe: exec %s: %s\n", c->argv[0], strerror(errno));
      return false;
    }
    if (apx_probe_left(deadline) == 0) {
      kill(-pid, SIGKILL);
      kill(pid, SIGKILL);
      while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
      }
      fprintf(stderr, "aspirec-probe: exec %s: timed out\n", c->argv[0]);
      return false;
    }
    struct timespec ts = {0, 5 * 1000000};
    nanosleep(&ts, NULL);
  }
  if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
    printf("aspirec-probe: exec %s: exit 0\n", c->argv[0]);
    return true;
  }
  if (WIFEXITED(st)) fprintf(stderr, "aspirec-probe: exec %s: exit %d\n", c->argv[0], WEXITSTATUS(st));
  else fprintf(stderr, "aspirec-probe: exec %s: signal %d\n", c->argv[0], WIFSIGNALED(st) ? WTERMSIG(st) : 0);
  return false;
}

static int apx_probe_usage(const char *why, const char *arg) {
  fprintf(stderr, "aspirec-probe: %s%s%s%s\n", why, arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
  fputs("usage: aspirec-probe [--timeout=DURATION] CHECK...\n"
        "  tcp PORT | http PORT PATH | exec N ARG1..ARGN   (exit 0 healthy, 1 not, 2 usage)\n",
        stderr);
  return APX_PROBE_USAGE;
}

int apx_probe_main(int argc, char **argv) {
  /* Docker keeps the output in the health log: lines in the order made. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  long long timeout = 30000;
  int i = 1;
  if (i < argc && strncmp(argv[i], "--timeout=", 10) == 0) {
    if (!apx_probe_duration(argv[i] + 10, &timeout) || timeout == 0) return apx_probe_usage("bad timeout", argv[i]);
    i++;
  }
  if (i >= argc) return apx_probe_usage("no check given", NULL);
  /* The whole command line is checked before any check runs. */
  apx_probe_check *checks = calloc((size_t)argc, sizeof *checks);
  if (!checks) return APX_PROBE_FAIL;
  int n = 0, rc = APX_PROBE_OK;
  while (i < argc && rc == APX_PROBE_OK) {
    apx_probe_check *c = &checks[n];
    const char *kind = argv[i++];
    if (strcmp(kind, "tcp") == 0 || strcmp(kind, "http") == 0) {
      c->kind = kind[0];
      if (i >= argc || !apx_probe_port(argv[i], &c->port)) rc = apx_probe_usage("bad or missing port after", kind);
      else if (c->kind == 'h' && (i + 1 >= argc || argv[i + 1][0] != '/'))
        rc = apx_probe_usage("http needs a PATH starting with '/' after the port", NULL);
      else {
        if (c->kind == 'h') c->path = argv[++i];
        i++;
        n++;
      }
    } else if (strcmp(kind, "exec") == 0) {
      int words = 0;
      if (i >= argc || !apx_probe_port(argv[i], &words) || words > argc - i - 1)
        rc = apx_probe_usage("exec needs a count N and N words", NULL);
      else {
        c->kind = 'e';
        c->argc = words;
        c->argv = &argv[i + 1];
        i += 1 + words;
        n++;
      }
    } else {
      rc = apx_probe_usage("unknown check", kind);
    }
  }
  long long deadline = apx_probe_now_ms() + timeout;
  for (int k = 0; k < n && rc == APX_PROBE_OK; k++) {
    const apx_probe_check *c = &checks[k];
    bool ok = c->kind == 't' ? apx_probe_tcp(c, deadline) : c->kind == 'h' ? apx_probe_http(c, deadline)
                                                                             : apx_probe_exec(c, deadline);
    if (!ok) rc = APX_PROBE_FAIL;
  }
  free(checks);
  fflush(stdout);
  return rc;
}
