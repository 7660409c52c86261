/* A tiny HTTP/1.1 server for bench/run/proxy.sh: listens on 127.0.0.1:$PORT,
   one thread, epoll; answers every request (GET without a body) with
   "200 OK" and a 3-byte body, keeping the connection open unless the request
   says "Connection: close". Fast enough that wrk measures what stands between
   it and the server (aspirec's proxy), not Python. Built by proxy.sh (cc -O2). */
#define _GNU_SOURCE /* memmem, accept4 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BUF = 8192, MAXFD = 65536 };

static char *bufs[MAXFD];
static size_t lens[MAXFD];

static const char ok_keep[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\n\r\nok\n";
static const char ok_close[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nok\n";

static void drop(int ep, int fd) {
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    free(bufs[fd]);
    bufs[fd] = NULL;
    lens[fd] = 0;
}

/* Answers every complete request in the buffer; 1 when the connection is to be closed. */
static int serve(int fd) {
    char *b = bufs[fd];
    size_t off = 0;
    for (;;) {
        char *end = memmem(b + off, lens[fd] - off, "\r\n\r\n", 4);
        if (!end) break;
        size_t hl = (size_t)(end - (b + off)) + 4;
        int close_it = memmem(b + off, hl, "onnection: close", 16) != NULL;
        const char *r = close_it ? ok_close : ok_keep;
        size_t rl = close_it ? sizeof ok_close - 1 : sizeof ok_keep - 1;
        if (write(fd, r, rl) != (ssize_t)rl) return 1; /* a 90-byte answer: the socket takes it */
        off += hl;
        if (close_it) return 1;
    }
    memmove(b, b + off, lens[fd] - off);
    lens[fd] -= off;
    return lens[fd] == BUF; /* a request larger than the buffer: not ours */
}

int main(void) {
    const char *p = getenv("PORT");
    long port = p ? strtol(p, NULL, 10) : 0;
    if (port < 1 || port > 65535) {
        fprintf(stderr, "httpd: PORT (1-65535) in the environment\n");
        return 2;
    }
    int one = 1, ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) < 0 || listen(ls, 1024) < 0) {
        perror("httpd");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls}, evs[256];
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    printf("httpd on 127.0.0.1:%ld\n", port);
    fflush(stdout);
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int c;
                while ((c = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (c >= MAXFD) { close(c); continue; }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    bufs[c] = malloc(BUF);
                    lens[c] = 0;
                    struct epoll_event ce = {.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ce);
                }
                continue;
            }
            ssize_t r = read(fd, bufs[fd] + lens[fd], BUF - lens[fd]);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                drop(ep, fd);
                continue;
            }
            lens[fd] += (size_t)r;
            if (serve(fd)) drop(ep, fd);
        }
    }
}
