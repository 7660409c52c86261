#!/usr/bin/env python3
"""A client of replica.py, for the proxy's tests (replicas.test.sh).

usage: proxy_client.py spread PORT N       N GETs, each on a new connection;
                                           prints "replica-port count" lines, then "failed K"
       proxy_client.py loop PORT FILE STOP GETs on new connections until the file STOP
                                           exists; one line per request in FILE:
                                           "ok REPLICA-PORT" or "fail WHY"
       proxy_client.py big PORT N          GET /big?n=N compared with what replica.py sends;
                                           POST of N bytes, then half-close (SHUT_WR), and
                                           the answer compared with our own SHA-256
       proxy_client.py slow PORT N PID     GET /big?n=N, then 2 s without reading (the
                                           proxy must stop reading the replica, not buffer
                                           it): prints "growth KB" (PID's resident memory
                                           then, less before), then reads it all: "download
                                           intact" (or corrupt)
Every connection is to 127.0.0.1:PORT, with a 10 s timeout."""
import hashlib
import os
import random
import socket
import sys
import time


def blob(n):
    return random.Random(n).randbytes(n)


def request(port, head, body=b"", half_close=False):
    """One HTTP/1.1 request on a new connection; returns the answer's body."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(head + body)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        f = s.makefile("rb")
        status = f.readline()
        if not status.startswith(b"HTTP/1.1 200"):
            raise RuntimeError("answer %r" % status[:60])
        n = None
        while True:
            h = f.readline()
            if h in (b"\r\n", b""):
                break
            k, _, v = h.partition(b":")
            if k.strip().lower() == b"content-length":
                n = int(v)
        data = f.read(n)
        if len(data) != n:
            raise RuntimeError("short body: %d of %d bytes" % (len(data), n))
        return data
    finally:
        s.close()


def get(port, path):
    return request(port, b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % path.encode())


mode, port = sys.argv[1], int(sys.argv[2])
if mode == "spread":
    counts, failed = {}, 0
    for _ in range(int(sys.argv[3])):
        try:
            who = get(port, "/").split()[1].decode()
            counts[who] = counts.get(who, 0) + 1
        except Exception as e:  # noqa: BLE001 - every failure counts
            failed += 1
            print("error", e, file=sys.stderr)
    for k in sorted(counts):
        print(k, counts[k])
    print("failed", failed)
elif mode == "loop":
    out, stop = open(sys.argv[3], "a", buffering=1), sys.argv[4]
    while not os.path.exists(stop):
        try:
            out.write("ok %s\n" % get(port, "/").split()[1].decode())
        except Exception as e:  # noqa: BLE001
            out.write("fail %s\n" % str(e).replace("\n", " "))
elif mode == "big":
    n = int(sys.argv[3])
    want = hashlib.sha256(blob(n)).hexdigest()
    got = hashlib.sha256(get(port, "/big?n=%d" % n)).hexdigest()
    print("download", "intact" if got == want else "corrupt %s != %s" % (got, want))
    body = blob(n + 1)
    ans = request(port, b"POST /sum HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body),
                  body, half_close=True).split()
    ok = int(ans[0]) == len(body) and ans[1].decode() == hashlib.sha256(body).hexdigest()
    print("upload", "intact" if ok else "corrupt %r" % ans)
elif mode == "slow":
    n, pid = int(sys.argv[3]), sys.argv[4]

    def rss():
        with open("/proc/%s/status" % pid) as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))

    before = rss()
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.sendall(b"GET /big?n=%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" % n)
    time.sleep(2)
    print("growth", rss() - before, flush=True)
    data = b""
    chunks = []
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        chunks.append(b)
    data = b"".join(chunks)
    body = data[data.index(b"\r\n\r\n") + 4:]
    print("download", "intact" if body == blob(n) else "corrupt (%d bytes)" % len(body))
