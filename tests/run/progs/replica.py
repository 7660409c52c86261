#!/usr/bin/env python3
"""One replica of an HTTP service, for the proxy's tests (replicas.test.sh).

usage: replica.py        (listens on 127.0.0.1:$PORT, HTTP/1.1, a thread per connection)
  GET /          "replica PORT PID"
  GET /big?n=N   N bytes made by blob(N) below (the client makes the same and compares)
  POST /sum      the length and SHA-256 of the body it received"""
import hashlib
import http.server
import os
import random
import socketserver
import sys
import urllib.parse

port = int(os.environ["PORT"])


def blob(n):
    return random.Random(n).randbytes(n)


class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, body, ctype="text/plain"):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urllib.parse.urlparse(self.path)
        if u.path == "/big":
            n = int(urllib.parse.parse_qs(u.query)["n"][0])
            self.reply(blob(n), "application/octet-stream")
        else:
            self.reply(b"replica %d %d\n" % (port, os.getpid()))

    def do_POST(self):
        n = int(self.headers["Content-Length"])
        h, left = hashlib.sha256(), n
        while left:
            b = self.rfile.read(min(left, 1 << 16))
            if not b:
                break
            h.update(b)
            left -= len(b)
        self.reply(b"%d %s\n" % (n - left, h.hexdigest().encode()))

    def log_message(self, *a):
        pass


class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 128


srv = S(("127.0.0.1", port), H)
print("replica on %d, pid %d" % (port, os.getpid()), flush=True)
srv.serve_forever()
sys.exit(0)
