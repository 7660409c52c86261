/* The only file of the image in tests/compose-up/probe.sh: a tiny static
 * HTTP server, so the image has no shell, wget, curl or nc for a health
 * check to use. usage: static-server PORT DELAY_SECONDS TEXT
 * Waits DELAY_SECONDS before it listens (a client started too early finds
 * nothing), then answers GET /health with 200 "ok", GET / with 200 TEXT,
 * anything else with 404. Built by the test with `cc -static`. */
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void reply(int c, int status, const char *body) {
  char head[256];
  int n = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                   "Connection: close\r\n\r\n", status, status == 200 ? "OK" : "Not Found", strlen(body));
  if (write(c, head, (size_t)n) < 0 || write(c, body, strlen(body)) < 0) perror("static-server: write");
}

int main(int argc, char **argv) {
  if (argc != 4) {
    fputs("usage: static-server PORT DELAY_SECONDS TEXT\n", stderr);
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  setvbuf(stdout, NULL, _IOLBF, 0);
  sleep((unsigned)atoi(argv[2]));
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)atoi(argv[1]));
  a.sin_addr.s_addr = htonl(INADDR_ANY);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0) {
    perror("static-server: listen");
    return 1;
  }
  printf("static-server: listening on %s\n", argv[1]);
  for (;;) {
    int c = accept(fd, NULL, NULL);
    if (c < 0) continue;
    char req[2048];
    ssize_t n = read(c, req, sizeof req - 1);
    req[n > 0 ? n : 0] = '\0';
    if (strncmp(req, "GET /health ", 12) == 0) reply(c, 200, "ok\n");
    else if (strncmp(req, "GET / ", 6) == 0) reply(c, 200, argv[3]);
    else reply(c, 404, "not found\n");
    printf("static-server: %.*s\n", (int)strcspn(req, "\r\n"), req);
    close(c);
  }
}
