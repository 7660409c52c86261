/* A noisy process for bench/run: writes MB megabytes of numbered 100-byte
   lines to stdout as fast as the reader takes them (64,000-byte writes), then
   `NOISY-DONE I lines=N`. Built by bench.sh, so that the writer is never the
   bottleneck. usage: noisy I MB */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int write_all(const char *p, size_t n) {
    while (n > 0) {
        ssize_t w = write(1, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: noisy I MB\n");
        return 2;
    }
    int id = atoi(argv[1]);
    long lines = atol(argv[2]) * 1000L * 1000L / 100L;
    static char buf[640 * 100];
    char line[101];
    /* "NOISY II NNNNNNNNN yyy…y\n": 9 + 9 + 1 + 80 + 1 = 100 bytes */
    memset(line, 'y', sizeof line);
    size_t used = 0;
    for (long k = 0; k < lines; k++) {
        snprintf(line, 20, "NOISY %02d %09ld", id % 100, k % 1000000000L);
        line[18] = ' ';
        line[99] = '\n';
        memcpy(buf + used, line, 100);
        used += 100;
        if (used == sizeof buf) {
            if (write_all(buf, used) < 0) return 1;
            used = 0;
        }
    }
    int n = snprintf(buf + used, 64, "NOISY-DONE %02d lines=%ld\n", id % 100, lines);
    return write_all(buf, used + (size_t)n) < 0 ? 1 : 0;
}
