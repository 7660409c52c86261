/* A tiny TCP listener for bench/run: listens on 127.0.0.1:PORT (argv[1], else
   $PORT), closes every connection it accepts, prints nothing. Built by bench.sh
   (cc -O2 -static) so that its own start time is as small as a process's can be. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
    const char *p = argc > 1 ? argv[1] : getenv("PORT");
    char *end = NULL;
    long port = p ? strtol(p, &end, 10) : 0;
    if (!p || *p == '\0' || *end != '\0' || port < 1 || port > 65535) {
        fprintf(stderr, "usage: listener PORT (1-65535), or PORT in the environment\n");
        return 2;
    }
    int one = 1, fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((unsigned short)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 || listen(fd, 128) < 0) {
        perror("listener");
        return 1;
    }
    for (;;) {
        int c = accept(fd, NULL, NULL);
        if (c >= 0) close(c);
    }
}
