#!/bin/bash
# The shop's two services by themselves (examples/shop/api/app.py and
# examples/shop/web/server.py), without run mode: connection strings parsed
# as Npgsql and StackExchange.Redis write them; a missing or bad variable is
# a clear error (exit status 2); web falls back to API_HTTP and answers 502
# with the reason when the api is down; the images' Dockerfiles are there.
# Needs python3 with psycopg2 and redis (Debian: python3-psycopg2 python3-redis).
# Marked slow only to keep it out of the sanitizer pass (--quick): it does not
# run aspirec, so one pass is enough.
# apx-test: slow
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-run.sh"
need_cmds python3
shop=$APX_SRCDIR/examples/shop
rs_tmpdir T

# A clean environment: only what a service needs.
clean_env=(env -i "PATH=$PATH" "HOME=${HOME:-/root}" PYTHONDONTWRITEBYTECODE=1)

# fails_with DESC REGEX DIR CMD... : the command exits 2 and says REGEX on stderr.
fails_with() {
  local desc=$1 re=$2 dir=$3 out rc; shift 3
  out=$(cd "$dir" && timeout 10 "$@" 2>&1 > /dev/null); rc=$?
  if [ "$rc" = 2 ] && grep -qE -- "$re" <<< "$out"; then ok "$desc"
  else not_ok "$desc (exit $rc)"; echo "$out" | diag 5; fi
}

cs='Host=localhost;Port=5432;Username=postgres;Password=pw;Database=catalog'
fails_with "api: no PORT is a clear error" 'PORT is not set' "$shop/api" \
  "${clean_env[@]}" "ConnectionStrings__catalog=$cs" ConnectionStrings__cache=localhost:6379 python3 app.py
fails_with "api: no ConnectionStrings__catalog is a clear error" 'ConnectionStrings__catalog is not set' "$shop/api" \
  "${clean_env[@]}" PORT=1 ConnectionStrings__cache=localhost:6379 python3 app.py
fails_with "api: no ConnectionStrings__cache is a clear error" 'ConnectionStrings__cache is not set' "$shop/api" \
  "${clean_env[@]}" PORT=1 "ConnectionStrings__catalog=$cs" python3 app.py
fails_with "api: a connection string without Host is a clear error" 'not a valid connection string: no Host' "$shop/api" \
  "${clean_env[@]}" PORT=1 'ConnectionStrings__catalog=Port=1;Database=x' ConnectionStrings__cache=localhost:6379 python3 app.py
fails_with "api: a bad PORT is a clear error" 'is not a port number' "$shop/api" \
  "${clean_env[@]}" PORT=http "ConnectionStrings__catalog=$cs" ConnectionStrings__cache=localhost:6379 python3 app.py
fails_with "web: no api address is a clear error" 'services__api__http__0.*API_HTTP' "$shop/web" \
  "${clean_env[@]}" PORT=1 python3 server.py

# Parsing, through the module's own functions.
if out=$(cd "$shop/api" && "${clean_env[@]}" python3 -c '
import app
kw = app.npgsql_to_psycopg2("Host=db.local; Port=5433;Username=shop;Password=\"a;b=c\"\"d\";Database=catalog;Pooling=true;SSL Mode=Require")
want = {"host": "db.local", "port": "5433", "user": "shop", "password": "a;b=c\"d", "dbname": "catalog",
        "sslmode": "require", "connect_timeout": "5"}
assert kw == want, kw
kw = app.npgsql_to_psycopg2("Server=h;User ID=u;Password='"'"'x'"'"''"'"'y'"'"';Database=d")
assert kw["host"] == "h" and kw["user"] == "u" and kw["password"] == "x'"'"'y", kw
assert app.parse_redis("localhost:6380") == {"host": "localhost", "port": 6380}
r = app.parse_redis("cache:6379,password=s3cret,ssl=true,abortConnect=false")
assert r == {"host": "cache", "port": 6379, "password": "s3cret", "ssl": True}, r
assert app.parse_redis("[::1]:7000") == {"host": "::1", "port": 7000}
for bad in ("Host=a;Password=\"open", "justtext"):
    try:
        app.npgsql_to_psycopg2(bad)
    except ValueError:
        pass
    else:
        raise AssertionError("accepted " + bad)
print("parsed")
' 2>&1) && [ "$out" = parsed ]; then
  ok "api: Npgsql (quoted values, synonyms, SSL Mode) and StackExchange.Redis connection strings parsed"
else
  not_ok "api: connection string parsing"; echo "$out" | diag 10
fi

# web on its own: API_HTTP as the fallback, the page, its own health, and a
# 502 naming the api when nothing listens there.
port=$(tool free-port) dead=$(tool free-port)
(cd "$shop/web" && exec "${clean_env[@]}" PORT="$port" API_HTTP="http://127.0.0.1:$dead" python3 server.py > "$T/web.out" 2>&1) &
web=$!
at_exit "kill $web 2> /dev/null; wait $web 2> /dev/null"
if tool wait-http "http://127.0.0.1:$port/healthz" 15 > /dev/null; then
  ok "web: starts with API_HTTP when services__api__http__0 is not set"
  r=$(tool http GET "http://127.0.0.1:$port/")
  [ "$(head -n 1 <<< "$r")" = 200 ] && grep -q '<title>Shop</title>' <<< "$r" && ok "web: serves the page" ||
    { not_ok "web: serves the page"; echo "$r" | diag 5; }
  r=$(tool http GET "http://127.0.0.1:$port/api/products")
  if [ "$(head -n 1 <<< "$r")" = 502 ] && grep -q "127.0.0.1:$dead" <<< "$r"; then ok "web: 502 naming the api when it is down"
  else not_ok "web: /api/products with the api down"; echo "$r" | diag 5; fi
  if grep -qE '"GET /api/products" 502' "$T/web.out"; then ok "web: one log line per request on stdout"
  else not_ok "web: request log line"; diag < "$T/web.out"; fi
else
  not_ok "web: does not start with API_HTTP"; diag < "$T/web.out"
fi
kill -TERM "$web" 2> /dev/null
for _ in $(seq 50); do rs_exited "$web" && break; sleep 0.1; done
if rs_exited "$web" && grep -q 'SIGTERM: shutting down' "$T/web.out"; then ok "web: stops on SIGTERM"
else not_ok "web: SIGTERM"; diag < "$T/web.out"; fi

# The images (not built here: no registry is reachable).
for svc in api web; do
  f=$shop/$svc/Dockerfile
  if [ -f "$f" ] && grep -q '^FROM python:3\.12-slim' "$f" && grep -qE '^CMD \["python3", "(app|server)\.py"\]' "$f"; then
    ok "$svc: Dockerfile from python:3.12-slim"
  else
    not_ok "$svc: Dockerfile from python:3.12-slim with CMD python3"
  fi
done
grep -qE '^(psycopg2-binary|psycopg2)==' "$shop/api/requirements.txt" && grep -qE '^redis==' "$shop/api/requirements.txt" &&
  ok "api: requirements.txt pins psycopg2 and redis" || not_ok "api: requirements.txt"
apx_done
