#!/bin/bash
# apx-test: slow
# The shop (examples/shop.apx) in run mode, with real PostgreSQL and Redis
# (the stdlib's local fallbacks), nothing mocked:
#   run 1: comes up, wired with Aspire's variables, no password printed;
#          web -> api -> database and cache round-trips data (POST, then GET
#          from the database, then from Redis; a write invalidates); the start
#          order from aspirec's times (STATE/logs/aspirec.log) and from the
#          services' own timestamps; kill -9 of the api: restarted, and the
#          shop works again; Ctrl-C (SIGINT) leaves no process behind within
#          --grace, stopping in reverse order;
#   run 2: same state directory: the data of run 1 is there; SIGKILL of
#          aspirec leaves no orphan (postgres, redis-server, python3, the
#          watchdog) within 5 s.
# The processes of a run are found by their ancestry, a tag in their
# environment and the temporary directory (shoptool.py procs). The errors
# (failing health check, missing command, port clash, crash loop) and 50 MB of
# logs are tests/run/'s: errors.test.sh, restart.test.sh, logs.test.sh.
# Needs (scripts/setup.sh installs them): postgresql redis-server python3
# python3-psycopg2 python3-redis procps.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-run.sh"
need_run_mode
need_cmds python3 redis-server psql ps
ls /usr/lib/postgresql/*/bin/postgres > /dev/null 2>&1 || { not_ok "PostgreSQL server missing (apt-get install postgresql)"; exit 1; }

GRACE=10
UP=120     # seconds allowed for the first bring-up (initdb included)
rs_tmpdir T
STATE=$T/state
shop=$APX_SRCDIR/examples/shop.apx
args=("$shop" --run --state-dir "$STATE" --grace "${GRACE}s" -I "$APX_SRCDIR/stdlib")

# up OUT LABEL: starts the shop, waits until web answers through to the api.
up() { rs_up "$1" "$T" "$2" "$UP" "${args[@]}"; }

# json FIELD…: reads the body of `tool http` output from stdin (after the status line).
json() { tail -n +2 | python3 -c 'import json,sys; d=json.load(sys.stdin)
for k in sys.argv[1:]: d = d[k] if not k.isdigit() else d[int(k)]
print(json.dumps(d) if not isinstance(d, str) else d)' "$@" 2> /dev/null; }

# before A B: in the JSON of `tool events` held in $ev, event A came no later than B.
before() {
  python3 -c 'import json, sys
t, a, b = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
miss = [k for k in (a, b) if k not in t]
if miss: print("# no time for: " + ", ".join(miss)); sys.exit(1)
if t[a] > t[b]: print("# %s is %.3fs after %s" % (a, t[a] - t[b], b)); sys.exit(1)' "$ev" "$1" "$2"
}

# ---- run 1 -------------------------------------------------------------------
OUT1=$T/run1.out
if ! up "$OUT1" "run 1"; then apx_done; fi

# Wiring: Aspire's variable names, and the api's URL in web's service discovery.
api_port=$(tool env "$API_PID" PORT)
cs_db=$(tool env "$API_PID" ConnectionStrings__catalog)
cs_cache=$(tool env "$API_PID" ConnectionStrings__cache)
sd=$(tool env "$WEB_PID" services__api__http__0)
if [[ $cs_db == *"Database=catalog"* && $cs_db == Host=* && $cs_cache == *:* && $sd == "http://localhost:$api_port" ]]; then
  ok "wiring: api has ConnectionStrings__catalog/cache, web has services__api__http__0=$sd"
else
  not_ok "wiring: unexpected environment"
  printf 'api PORT=%s\ncatalog=%s\ncache=%s\nweb services__api__http__0=%s\n' "$api_port" "${cs_db//Password=*;/Password=…;}" "$cs_cache" "$sd" | diag
fi
password=$(printf '%s' "$cs_db" | tr ';' '\n' | sed -n 's/^Password=//p')
if [ -n "$password" ] && grep -qF -- "$password" "$OUT1"; then
  not_ok "the PostgreSQL password appears in aspirec's output"
else
  ok "the PostgreSQL password is not in aspirec's output"
fi
if grep -qE "(localhost|127\.0\.0\.1):${WEB##*:}" "$OUT1"; then ok "the start-up output shows web's URL"
else not_ok "the start-up output does not show web's URL (port ${WEB##*:})"; rs_show "$OUT1" 30; fi

# Round trip: POST through web, GET back: from the database, then from the cache.
item="teapot-$$-$RANDOM"
r=$(tool http POST "$WEB/api/products" "{\"name\": \"$item\", \"price\": 12.5}")
if [ "$(head -n 1 <<< "$r")" = 201 ] && [ "$(json name <<< "$r")" = "$item" ]; then
  ok "POST /api/products through web -> api -> PostgreSQL (201)"
else
  not_ok "POST /api/products through web"; echo "$r" | diag
fi
r1=$(tool http GET "$WEB/api/products")
r2=$(tool http GET "$WEB/api/products")
if [ "$(json source <<< "$r1")" = database ] && grep -qF "\"$item\"" <<< "$r1"; then
  ok "GET /api/products: the new product, from the database"
else
  not_ok "GET /api/products after the POST: expected source=database with $item"; echo "$r1" | diag 5
fi
if [ "$(json source <<< "$r2")" = cache ] && grep -qF "\"$item\"" <<< "$r2"; then
  ok "GET /api/products again: the same list, from Redis"
else
  not_ok "second GET /api/products: expected source=cache with $item"; echo "$r2" | diag 5
fi
# A write invalidates the cache.
tool http POST "$WEB/api/products" '{"name": "mug", "price": 3}' > /dev/null
r3=$(tool http GET "$WEB/api/products")
if [ "$(json source <<< "$r3")" = database ] && grep -qF '"mug"' <<< "$r3"; then
  ok "a write invalidates the cached list"
else
  not_ok "after a second POST the list should come from the database with mug"; echo "$r3" | diag 5
fi
r=$(tool http GET "$WEB/")
if [ "$(head -n 1 <<< "$r")" = 200 ] && grep -q '<title>Shop</title>' <<< "$r"; then ok "web serves its page"
else not_ok "GET / on web"; echo "$r" | diag 5; fi

# Start order, from aspirec's own times (STATE/logs/aspirec.log): db healthy,
# then catalog created, then the api started; cache healthy before the api
# started; the api healthy before web started.
ev=$(tool events "$STATE/logs/aspirec.log")
if before "db healthy" "catalog ready" && before "catalog ready" "api started" &&
   before "cache healthy" "api started" && before "api healthy" "web started"; then
  ok "start order (aspirec.log): db healthy < catalog ready < api started; cache healthy < api started; api healthy < web started"
else
  not_ok "start order (aspirec.log)"; grep -E ': (started|healthy|ready)' "$STATE/logs/aspirec.log" | diag 12
fi
# The same from the services' own timestamps in aspirec's output: PostgreSQL
# and Redis ready before the api's first line; the api's first answered health
# check before web's first line.
times=$(tool order "$OUT1")
if python3 - "$times" << 'EOF'
import json, sys
t = json.loads(sys.argv[1])
need = ["db_ready", "cache_ready", "api_start", "api_healthy", "web_start"]
miss = [k for k in need if k not in t]
if miss:
    print("# no timestamp for: " + ", ".join(miss)); sys.exit(1)
b = min(t.values())
print("# " + "  ".join("%s=+%.3fs" % (k, t[k] - b) for k in need))
bad = [(a, z) for a, z in (("db_ready", "api_start"), ("cache_ready", "api_start"),
                           ("api_healthy", "web_start")) if t[a] > t[z]]
for a, z in bad:
    print("# %s (+%.3fs) is after %s (+%.3fs)" % (a, t[a] - b, z, t[z] - b))
sys.exit(1 if bad else 0)
EOF
then ok "start order (the services' own log times): PostgreSQL and Redis ready < api's first line; api's first health answer < web's first line"
else not_ok "start order (the services' own log times)"; fi

# kill -9 of the api: restarted (restart = on-failure), and the shop works again.
old=$API_PID
kill -KILL "$old"
t0=$SECONDS
if API_PID=$(rs_wait_pid 'app[.]py' 60 "$old") && msg=$(tool wait-http "$WEB/api/healthz" 60); then
  r=$(tool http GET "$WEB/api/products")
  if grep -qF "\"$item\"" <<< "$r"; then ok "kill -9 of the api: restarted (pid $old -> $API_PID, $((SECONDS - t0))s), the shop works again"
  else not_ok "after the api's restart, GET /api/products"; echo "$r" | diag 5; fi
else
  not_ok "kill -9 of the api: not restarted or not healthy again within 60s"; echo "${msg:-}" | diag; rs_show "$OUT1"
fi

# Ctrl-C: everything stops within the grace period.
# all_kinds: the processes found are the whole app (else the checks below prove nothing).
all_kinds() {
  local list k; list=$(rs_procs)
  for k in 'bin/postgres ' 'redis-server' 'app[.]py' 'server[.]py'; do
    grep -qE -- "$k" <<< "$list" || { not_ok "$1: no process like /$k/ found among the run's"; diag <<< "$list"; return 1; }
  done
}
all_kinds "run 1"
procs=$(rs_pidstarts)
note "run 1 processes: $(rs_procs | awk '{ $2 = ""; $4 = ""; print }' | cut -c1-80 | paste -sd'|' -)"
start_ms=$(($(date +%s%N) / 1000000))
kill -INT "$RS_PID"
# shellcheck disable=SC2086
if rs_wait_exit "$RS_PID" $((GRACE + 5)) && left=$(rs_wait_gone 2 $procs); then
  ms=$(($(date +%s%N) / 1000000 - start_ms))
  wait "$RS_PID"; rc=$?
  if [ "$ms" -le $((GRACE * 1000 + 1000)) ]; then ok "Ctrl-C: aspirec (status $rc) and its $(wc -w <<< "$procs") processes gone in ${ms}ms (grace ${GRACE}s)"
  else not_ok "Ctrl-C: everything stopped, but only after ${ms}ms (grace ${GRACE}s)"; fi
else
  not_ok "Ctrl-C: processes left after $((GRACE + 5))s"
  { echo "left: ${left:-aspirec itself}"; ps -o pid,user,cmd -p "$(echo "${left:-$RS_PID}" | cut -d: -f1 | paste -sd, -)"; } 2>&1 | diag
  rs_show "$OUT1" 20
fi
ev=$(tool events "$STATE/logs/aspirec.log")
if before "web stopped" "api stopping" && before "api stopped" "db stopping" && before "api stopped" "cache stopping"; then
  ok "stop order (aspirec.log): web, then the api, then db and cache"
else
  not_ok "stop order (aspirec.log)"; grep -E ': (stopping|stopped)' "$STATE/logs/aspirec.log" | diag 12
fi

# ---- run 2: same state directory ---------------------------------------------
OUT2=$T/run2.out
if up "$OUT2" "run 2 (same state dir)"; then
  r=$(tool http GET "$WEB/api/products")
  if grep -qF "\"$item\"" <<< "$r" && grep -qF '"mug"' <<< "$r"; then ok "run 2: the products written in run 1 are there"
  else not_ok "run 2: the products of run 1 are missing"; echo "$r" | diag 5; fi

  # SIGKILL of aspirec: no orphan (postgres, redis-server, python3) within a few seconds.
  all_kinds "run 2"
  procs=$(rs_pidstarts)
  disown "$RS_PID"     # no "Killed" notice from bash
  kill -KILL "$RS_PID"
  # shellcheck disable=SC2086
  if left=$(rs_wait_gone 5 $procs); then
    ok "SIGKILL of aspirec: all $(wc -w <<< "$procs") processes it started are gone within 5s"
  else
    not_ok "SIGKILL of aspirec leaves orphans"
    ps -o pid,user,cmd -p "$(echo "$left" | cut -d: -f1 | paste -sd, -)" 2>&1 | diag
  fi
fi
apx_done
