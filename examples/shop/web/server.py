#!/usr/bin/env python3
"""The shop's web front end: one HTML page, and /api/* passed on to the API.

Configuration (environment; `aspirec shop.apx --run` sets all of it):
  PORT                   the port to listen on
  services__api__http__0 the API's base URL (Aspire's service discovery);
                         API_HTTP is used when it is not set
  HOST                   address to bind (default 127.0.0.1; the image sets 0.0.0.0)

Routes: GET / (the page), GET /healthz (this server only), ANY /api/PATH -> API/PATH.
Python 3 standard library only. One line per request on stdout.
"""

import http.client
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

NAME = "web"
HERE = os.path.dirname(os.path.abspath(__file__))
MAX_BODY = 1024 * 1024
# Hop-by-hop headers (RFC 9110 7.6.1) are not passed on.
HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te",
       "trailer", "transfer-encoding", "upgrade", "host", "content-length"}


def log(msg):
    t = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)
    sys.stdout.write("%s %s\n" % (stamp, msg))
    sys.stdout.flush()


def die(msg, status=2):
    sys.stderr.write("%s: error: %s\n" % (NAME, msg))
    sys.stderr.flush()
    sys.exit(status)


def load_config():
    port_s = os.environ.get("PORT", "").strip()
    if not port_s:
        die("environment variable PORT is not set (the port to listen on); run the app with "
            "`aspirec examples/shop.apx --run`, or set it by hand")
    try:
        port = int(port_s)
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        die("PORT=%r is not a port number" % port_s)
    api, var = "", ""
    for var in ("services__api__http__0", "API_HTTP"):
        api = os.environ.get(var, "").strip()
        if api:
            break
    if not api:
        die("the API's address is not set: set services__api__http__0 (aspirec's `references = [api]` "
            "does) or API_HTTP to its base URL, e.g. http://localhost:8081")
    u = urlsplit(api if "://" in api else "http://" + api)
    if u.scheme not in ("http", "https") or not u.hostname:
        die("%s=%r is not an http(s) URL" % (var, api))
    return {"host": os.environ.get("HOST", "127.0.0.1"), "port": port, "api": u}


_good_addr = {}   # (host, port) -> the address that answered last


def open_api_socket(host, port, timeout):
    """Connects to the API, first at the address that answered last time
    ("localhost" resolves to ::1 and 127.0.0.1; only one of them listens)."""
    key = (host, port)
    cached = _good_addr.get(key)
    cands = [cached] if cached else []
    err = None
    for attempt in (1, 2):
        for family, addr in cands:
            s = socket.socket(family, socket.SOCK_STREAM)
            s.settimeout(timeout)
            try:
                s.connect(addr)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                _good_addr[key] = (family, addr)
                return s
            except OSError as e:
                s.close()
                err = e
        if attempt == 1:
            cands = [(ai[0], ai[4]) for ai in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
                     if (ai[0], ai[4]) != cached]
    raise err or OSError("no address for %s" % host)


class Handler(BaseHTTPRequestHandler):
    server_version = "shop-web/1"
    protocol_version = "HTTP/1.1"
    timeout = 60          # an idle keep-alive connection is closed after a minute
    api = None    # urlsplit() of the API's base URL, set in main
    page = b""

    def log_message(self, fmt, *args):
        pass

    def send(self, status, body, ctype, headers=()):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.status = status

    def send_error_json(self, status, msg):
        body = ('{"error": "%s"}\n' % msg.replace("\\", "\\\\").replace('"', '\\"')).encode()
        self.send(status, body, "application/json")

    def handle_one_request(self):
        self.t0, self.status, self.extra = time.monotonic(), None, ""
        try:
            super().handle_one_request()
        except (ConnectionResetError, BrokenPipeError):   # the client went away
            self.close_connection = True
        if self.status is not None:
            log('%s "%s %s" %d %.1fms%s' % (self.client_address[0], self.command, self.path,
                                             self.status, (time.monotonic() - self.t0) * 1000,
                                             self.extra))

    def dispatch(self):
        path = self.path.split("?", 1)[0]
        try:
            if path == "/api" or path.startswith("/api/"):
                return self.proxy()
            if path in ("/", "/index.html") and self.command in ("GET", "HEAD"):
                return self.send(200, self.page, "text/html; charset=utf-8", [("Cache-Control", "no-cache")])
            if path == "/healthz" and self.command in ("GET", "HEAD"):
                return self.send(200, b"ok\n", "text/plain")
            if path in ("/", "/index.html", "/healthz"):
                return self.send_error_json(405, "method %s not allowed" % self.command)
            self.send_error_json(404, "not found: %s" % path)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = dispatch

    def proxy(self):
        api = self.api
        target = (api.path.rstrip("/") + self.path[len("/api"):]) or "/"
        if not target.startswith("/"):
            target = "/" + target
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            self.close_connection = True
            return self.send_error_json(400, "bad Content-Length")
        if length > MAX_BODY:
            self.close_connection = True
            return self.send_error_json(413, "body larger than %d bytes" % MAX_BODY)
        body = self.rfile.read(length) if length > 0 else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        headers["X-Forwarded-For"] = self.client_address[0]
        headers["X-Forwarded-Host"] = self.headers.get("Host", "")
        headers["Host"] = api.netloc
        port = api.port or (443 if api.scheme == "https" else 80)
        conn_cls = http.client.HTTPSConnection if api.scheme == "https" else http.client.HTTPConnection
        conn = conn_cls(api.hostname, port, timeout=15)
        try:
            if api.scheme == "http":
                conn.sock = open_api_socket(api.hostname, port, 15)
            conn.request(self.command, target, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException) as e:
            self.extra = " -> api unreachable"
            log("api at %s unreachable: %s" % (api.geturl(), e))
            return self.send_error_json(502, "the api at %s is unreachable: %s" % (api.geturl(), e))
        finally:
            conn.close()
        self.extra = " -> api %d%s" % (resp.status, " cache=" + resp.getheader("X-Cache") if resp.getheader("X-Cache") else "")
        passed = [(k, v) for k, v in resp.getheaders() if k.lower() not in HOP and k.lower() != "content-type"
                  and k.lower() not in ("server", "date")]
        self.send(resp.status, data, resp.getheader("Content-Type", "application/octet-stream"), passed)


def main():
    cfg = load_config()
    try:
        with open(os.path.join(HERE, "index.html"), "rb") as f:
            Handler.page = f.read()
    except OSError as e:
        die("cannot read the page: %s" % e, 1)
    Handler.api = cfg["api"]
    try:
        server = ThreadingHTTPServer((cfg["host"], cfg["port"]), Handler)
    except OSError as e:
        die("cannot listen on %s:%d: %s" % (cfg["host"], cfg["port"], e.strerror or e), 1)
    server.daemon_threads = True

    def stop(signum, _frame):
        log("%s: shutting down" % signal.Signals(signum).name)
        threading.Thread(target=server.shutdown, daemon=True).start()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    log("listening on http://%s:%d, api at %s" % (cfg["host"], cfg["port"], cfg["api"].geturl()))
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    log("stopped")


if __name__ == "__main__":
    main()
