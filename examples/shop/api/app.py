#!/usr/bin/env python3
"""The shop's API: products in PostgreSQL, the product list cached in Redis.

Configuration (environment; `aspirec shop.apx --run` sets all of it):
  PORT                       the port to listen on
  ConnectionStrings__catalog PostgreSQL, Npgsql's key/value format:
                             Host=H;Port=P;Username=U;Password=W;Database=D
  ConnectionStrings__cache   Redis, StackExchange.Redis's format: host:port[,password=W][,ssl=true]
  HOST                       address to bind (default 127.0.0.1; the image sets 0.0.0.0)
  PRODUCTS_CACHE_TTL         seconds the cached list lives (default 30)

Endpoints:
  GET  /healthz   200 when the database and the cache answer, else 503
  GET  /products  {"source": "database"|"cache", "products": [...]}
  POST /products  {"name": "...", "price": 9.5} -> 201 and the new product

Python 3 standard library plus psycopg2 and redis (Debian: python3-psycopg2,
python3-redis; pip: requirements.txt). One line per request on stdout.
"""

import json
import os
import signal
import sys
import threading
import time
from decimal import Decimal, InvalidOperation
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME = "api"


def log(msg):
    t = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%03dZ" % (int(t * 1000) % 1000)
    sys.stdout.write("%s %s\n" % (stamp, msg))
    sys.stdout.flush()


def die(msg, status=2):
    sys.stderr.write("%s: error: %s\n" % (NAME, msg))
    sys.stderr.flush()
    sys.exit(status)


def import_drivers():
    """psycopg2 and redis; when this Python does not have them (say, a pyenv
    build of the same version), try Debian's packages of the system Python."""
    try:
        import psycopg2, redis  # noqa: E401
        return psycopg2, redis
    except ImportError:
        pass
    for d in ("/usr/lib/python3/dist-packages",):
        if os.path.isdir(d) and d not in sys.path:
            sys.path.append(d)
    try:
        import psycopg2, redis  # noqa: E401
        import psycopg2.extensions  # noqa: F401  (its C module must match this Python)
        return psycopg2, redis
    except ImportError as e:
        die("%s: install psycopg2 and redis for %s (Debian: apt-get install python3-psycopg2 "
            "python3-redis; elsewhere: pip install -r requirements.txt)" % (e, sys.executable))


psycopg2, redis = import_drivers()
import psycopg2.pool  # noqa: E402


# ---- configuration ----------------------------------------------------------

def require_env(name, example):
    v = os.environ.get(name, "")
    if not v.strip():
        die("environment variable %s is not set (expected %s); run the app with "
            "`aspirec examples/shop.apx --run`, or set it by hand" % (name, example))
    return v


def split_npgsql(s):
    """Splits an ADO.NET/Npgsql connection string into (key, value) pairs.
    Values may be quoted with ' or " (a doubled quote inside stands for one)."""
    pairs, i, n = [], 0, len(s)
    while i < n:
        while i < n and s[i] in " ;\t":
            i += 1
        if i >= n:
            break
        eq = s.find("=", i)
        if eq < 0:
            raise ValueError("expected key=value at %r" % s[i:])
        key = s[i:eq].strip()
        i = eq + 1
        while i < n and s[i] in " \t":
            i += 1
        if i < n and s[i] in "'\"":
            q, i, val = s[i], i + 1, []
            while True:
                if i >= n:
                    raise ValueError("unterminated quote in the value of %s" % key)
                if s[i] == q:
                    if i + 1 < n and s[i + 1] == q:
                        val.append(q)
                        i += 2
                        continue
                    i += 1
                    break
                val.append(s[i])
                i += 1
            value = "".join(val)
            while i < n and s[i] in " \t":
                i += 1
            if i < n and s[i] != ";":
                raise ValueError("unexpected text after the quoted value of %s" % key)
        else:
            semi = s.find(";", i)
            semi = n if semi < 0 else semi
            value = s[i:semi].strip()
            i = semi
        if not key:
            raise ValueError("empty key")
        pairs.append((key, value))
    return pairs


NPGSQL_KEYS = {
    "host": "host", "server": "host", "data source": "host",
    "port": "port",
    "username": "user", "user name": "user", "user id": "user", "userid": "user", "user": "user",
    "password": "password", "pwd": "password",
    "database": "dbname", "db": "dbname", "initial catalog": "dbname",
    "timeout": "connect_timeout",
    "ssl mode": "sslmode", "sslmode": "sslmode",
    "application name": "application_name",
}


def npgsql_to_psycopg2(cs):
    """Npgsql key/value string -> keyword arguments of psycopg2.connect."""
    kw = {}
    for key, value in split_npgsql(cs):
        k = NPGSQL_KEYS.get(" ".join(key.lower().split()))
        if k is None:
            continue  # Npgsql-only settings (Pooling, Maximum Pool Size, …)
        if k == "sslmode":
            value = value.lower()
        kw[k] = value
    for k in ("host", "dbname"):
        if not kw.get(k):
            raise ValueError("no %s in it" % {"host": "Host", "dbname": "Database"}[k])
    kw.setdefault("connect_timeout", "5")
    return kw


def parse_redis(cs):
    """StackExchange.Redis's `host:port[,option=value…]` -> redis.Redis kwargs."""
    parts = [p.strip() for p in cs.split(",") if p.strip()]
    kw, endpoint = {}, None
    for p in parts:
        if "=" in p:
            k, v = (x.strip() for x in p.split("=", 1))
            k = k.lower()
            if k == "password":
                kw["password"] = v
            elif k == "user":
                kw["username"] = v
            elif k == "ssl":
                kw["ssl"] = v.lower() == "true"
            elif k == "defaultdatabase":
                kw["db"] = int(v)
        elif endpoint is None:
            endpoint = p
    if not endpoint:
        raise ValueError("no host:port in it")
    host, sep, port = endpoint.rpartition(":")
    if not sep:
        host, port = endpoint, "6379"
    host = host.strip("[]") or "localhost"
    kw.update(host=host, port=int(port))
    return kw


def load_config():
    port_s = require_env("PORT", "the port to listen on, e.g. 8080")
    try:
        port = int(port_s)
        if not 0 < port < 65536:
            raise ValueError
    except ValueError:
        die("PORT=%r is not a port number" % port_s)
    pg_cs = require_env("ConnectionStrings__catalog",
                        "Host=localhost;Port=5432;Username=postgres;Password=…;Database=catalog")
    try:
        pg = npgsql_to_psycopg2(pg_cs)
    except ValueError as e:
        die("ConnectionStrings__catalog is not a valid connection string: %s" % e)
    rd_cs = require_env("ConnectionStrings__cache", "localhost:6379")
    try:
        rd = parse_redis(rd_cs)
    except ValueError as e:
        die("ConnectionStrings__cache is not a valid connection string: %s" % e)
    try:
        ttl = int(os.environ.get("PRODUCTS_CACHE_TTL", "30"))
    except ValueError:
        die("PRODUCTS_CACHE_TTL must be a number of seconds")
    return {"host": os.environ.get("HOST", "127.0.0.1"), "port": port,
            "pg": pg, "redis": rd, "ttl": max(ttl, 1)}


# ---- data --------------------------------------------------------------------

SCHEMA = """
CREATE TABLE IF NOT EXISTS products (
    id         serial PRIMARY KEY,
    name       text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    price      numeric(12, 2) NOT NULL CHECK (price >= 0),
    created_at timestamptz NOT NULL DEFAULT now()
)"""
POOL_SIZE = 8
CACHE_GEN = "shop:products:gen"    # bumped on every write
CACHE_KEY = "shop:products:%s"     # the list, per generation


class Store:
    def __init__(self, cfg):
        self.cfg = cfg
        self.pool = None
        self.lock = threading.Lock()
        self.schema_ready = False
        self.slots = threading.BoundedSemaphore(POOL_SIZE)
        self.cache = redis.Redis(socket_timeout=2, socket_connect_timeout=2,
                                 decode_responses=True, **cfg["redis"])

    # A pooled connection; a broken one is dropped rather than returned.
    def _pool(self):
        with self.lock:
            if self.pool is None:
                self.pool = psycopg2.pool.ThreadedConnectionPool(1, POOL_SIZE, **self.cfg["pg"])
            return self.pool

    def run(self, fn, retry=False):
        """Runs fn(cursor) in a transaction. With retry, a query that failed on
        a broken connection (the server restarted) is tried once more on a new one."""
        with self.slots:                     # wait for a free connection, never fail for lack of one
            for attempt in (1, 2):
                pool = self._pool()
                conn = pool.getconn()
                broken = False
                try:
                    with conn:               # commit, or roll back on error
                        with conn.cursor() as cur:
                            return fn(cur)
                except (psycopg2.OperationalError, psycopg2.InterfaceError):
                    broken = True
                    if not retry or attempt == 2:
                        raise
                finally:
                    pool.putconn(conn, close=broken or bool(conn.closed))

    def ensure_schema(self):
        if self.schema_ready:
            return
        def create(cur):
            # Two replicas creating the table at once would clash: serialise.
            cur.execute("SELECT pg_advisory_xact_lock(726172)")
            cur.execute(SCHEMA)
        self.run(create)
        self.schema_ready = True
        log("schema ready (table products)")

    def db_ok(self):
        self.run(lambda cur: cur.execute("SELECT 1"), retry=True)

    def cache_ok(self):
        self.cache.ping()

    def list_products(self):
        """Returns (products, source)."""
        self.ensure_schema()
        gen = None
        try:
            gen = self.cache.get(CACHE_GEN) or "0"
            hit = self.cache.get(CACHE_KEY % gen)
            if hit is not None:
                return json.loads(hit), "cache"
        except redis.RedisError as e:
            log("cache unavailable, reading the database: %s" % e)
            gen = None

        def query(cur):
            cur.execute("SELECT id, name, price, created_at FROM products ORDER BY id")
            return [{"id": r[0], "name": r[1], "price": float(r[2]),
                     "created_at": r[3].isoformat()} for r in cur.fetchall()]
        products = self.run(query, retry=True)
        if gen is not None:
            # Stored under the generation read before the query: a write in
            # between bumps the generation, so this list is never served stale.
            try:
                self.cache.set(CACHE_KEY % gen, json.dumps(products), ex=self.cfg["ttl"])
            except redis.RedisError as e:
                log("cache write failed: %s" % e)
        return products, "database"

    def add_product(self, name, price):
        self.ensure_schema()

        def insert(cur):
            cur.execute("INSERT INTO products (name, price) VALUES (%s, %s) "
                        "RETURNING id, name, price, created_at", (name, price))
            r = cur.fetchone()
            return {"id": r[0], "name": r[1], "price": float(r[2]), "created_at": r[3].isoformat()}
        product = self.run(insert)
        try:
            self.cache.incr(CACHE_GEN)       # invalidates every cached list
        except redis.RedisError as e:
            log("cache invalidation failed (lists may be stale for %ss): %s" % (self.cfg["ttl"], e))
        return product


# ---- HTTP --------------------------------------------------------------------

MAX_BODY = 64 * 1024


class Handler(BaseHTTPRequestHandler):
    server_version = "shop-api/1"
    protocol_version = "HTTP/1.1"
    timeout = 60          # an idle keep-alive connection is closed after a minute
    store = None  # set in main

    def log_message(self, fmt, *args):  # http.server's own stderr lines: not wanted
        pass

    def send_json(self, status, obj, headers=None):
        body = (json.dumps(obj) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.status, self.extra = status, getattr(self, "extra", "")

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
        path = self.path.split("?", 1)[0].rstrip("/") or "/"
        routes = {"/healthz": {"GET": self.healthz, "HEAD": self.healthz},
                  "/products": {"GET": self.get_products, "HEAD": self.get_products,
                                "POST": self.post_products},
                  "/": {"GET": self.index, "HEAD": self.index}}
        methods = routes.get(path)
        if methods is None:
            return self.send_json(404, {"error": "not found: %s" % path})
        fn = methods.get(self.command)
        if fn is None:
            return self.send_json(405, {"error": "method %s not allowed on %s" % (self.command, path)},
                                  {"Allow": ", ".join(sorted(methods))})
        try:
            fn()
        except psycopg2.Error as e:
            self.extra = " db-error"
            log("database error: %s" % str(e).strip())
            self.send_json(503, {"error": "database unavailable: %s" % str(e).strip().splitlines()[0]})
        except redis.RedisError as e:
            self.extra = " cache-error"
            log("cache error: %s" % e)
            self.send_json(503, {"error": "cache unavailable: %s" % e})
        except Exception as e:  # a bug: say so, keep serving
            import traceback
            log("internal error: %s\n%s" % (e, traceback.format_exc().rstrip()))
            self.close_connection = True
            self.send_json(500, {"error": "internal error: %s" % type(e).__name__})

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = dispatch

    def index(self):
        self.send_json(200, {"service": "shop-api",
                             "endpoints": ["GET /healthz", "GET /products", "POST /products"]})

    def healthz(self):
        checks, ok = {}, True
        for name, fn in (("db", self.store.db_ok), ("cache", self.store.cache_ok)):
            try:
                fn()
                checks[name] = "ok"
            except Exception as e:  # any failure is an unhealthy dependency
                ok, checks[name] = False, str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        self.send_json(200 if ok else 503, {"status": "healthy" if ok else "unhealthy", **checks})

    def get_products(self):
        products, source = self.store.list_products()
        self.extra = " source=" + source
        self.send_json(200, {"source": source, "count": len(products), "products": products},
                       {"X-Cache": "HIT" if source == "cache" else "MISS"})

    def post_products(self):
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            return self.send_json(400, {"error": "bad Content-Length"})
        if length > MAX_BODY:
            self.close_connection = True
            return self.send_json(413, {"error": "body larger than %d bytes" % MAX_BODY})
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            data = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError):
            return self.send_json(400, {"error": "the body must be JSON: {\"name\": \"…\", \"price\": 9.5}"})
        if not isinstance(data, dict):
            return self.send_json(400, {"error": "expected a JSON object {\"name\": \"…\", \"price\": 9.5}"})
        name = data.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.strip()) > 200:
            return self.send_json(400, {"error": "name must be a non-empty string of at most 200 characters"})
        price = data.get("price")
        try:
            if isinstance(price, bool) or not isinstance(price, (int, float, str)):
                raise InvalidOperation
            price = Decimal(str(price))
            if not price.is_finite() or price < 0 or price >= Decimal("1e10"):
                raise InvalidOperation
        except InvalidOperation:
            return self.send_json(400, {"error": "price must be a number from 0 to 9999999999.99"})
        product = self.store.add_product(name.strip(), price.quantize(Decimal("0.01")))
        self.extra = " id=%d" % product["id"]
        self.send_json(201, product, {"Location": "/products/%d" % product["id"]})


def main():
    cfg = load_config()
    store = Store(cfg)
    Handler.store = store
    pg = cfg["pg"]
    log("starting: database %s on %s:%s, cache %s:%s, list cached %ss" % (
        pg.get("dbname"), pg.get("host"), pg.get("port", "5432"),
        cfg["redis"]["host"], cfg["redis"]["port"], cfg["ttl"]))
    # The table, now if the database answers (else at the first request).
    for attempt in range(5):
        try:
            store.ensure_schema()
            break
        except psycopg2.Error as e:
            log("database not ready (%s), retrying" % str(e).strip().splitlines()[0])
            time.sleep(1)
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
    log("listening on http://%s:%d" % (cfg["host"], cfg["port"]))
    server.serve_forever(poll_interval=0.2)
    server.server_close()
    if store.pool is not None:
        store.pool.closeall()
    log("stopped")


if __name__ == "__main__":
    main()
