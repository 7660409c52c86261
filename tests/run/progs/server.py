#!/usr/bin/env python3
"""A small HTTP server for run-mode tests.

usage: server.py NAME [--delay S] [--status CODE] [--port-env VAR]
Waits DELAY seconds, listens on 127.0.0.1:$PORT (or $VAR), writes
"NAME listening <time>" to $TIMES (when set) and prints "NAME: ready on
PORT"; answers every GET with CODE (200)."""
import http.server
import os
import sys
import time

args = sys.argv[1:]
name = args.pop(0)
opts = dict(zip(args[::2], args[1::2]))
time.sleep(float(opts.get("--delay", "0")))
port = int(os.environ[opts.get("--port-env", "PORT")])
status = int(opts.get("--status", "200"))


class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.end_headers()
        self.wfile.write(b"%s %d\n" % (name.encode(), port))

    def log_message(self, *a):
        pass


srv = http.server.HTTPServer(("127.0.0.1", port), H)
if os.environ.get("TIMES"):
    with open(os.environ["TIMES"], "a") as f:
        f.write("%s listening %.3f\n" % (name, time.time()))
print("%s: ready on %d" % (name, port), flush=True)
srv.serve_forever()
