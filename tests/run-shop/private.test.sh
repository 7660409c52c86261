#!/bin/bash
# apx-test: slow
# The shop run as root from a checkout that the postgres user cannot reach
# (a directory under a parent of mode 0700, as /root is on Debian), with the
# default state directory beside the program, as `bash scripts/demo.sh`
# runs it: PostgreSQL (which runs as `postgres`) gets its data directory in
# the shared place (/var/lib/aspirec/shop-HASH/db, linked from
# STATE/resources/db), the shop works end to end, and run 2 finds the data
# of run 1 without running initdb again. Nothing mocked: Debian's
# PostgreSQL and Redis. The shared directory is removed at the end.
# Needs (scripts/setup.sh installs them): postgresql redis-server python3
# python3-psycopg2 python3-redis procps.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-run.sh"
need_run_mode
need_cmds python3 redis-server psql ps runuser
ls /usr/lib/postgresql/*/bin/postgres > /dev/null 2>&1 || { not_ok "PostgreSQL server missing (apt-get install postgresql)"; exit 1; }
if [ "$(id -u)" != 0 ]; then
  ok "# SKIP the shop from a private directory: only root runs PostgreSQL as another user"
  apx_done
fi
id postgres > /dev/null 2>&1 || { not_ok "no user 'postgres' (apt-get install postgresql creates it)"; exit 1; }
unset APX_SHARED_STATE   # the default place, as a newcomer gets it

apx_tmpdir P
chmod 700 "$P"
mkdir "$P/shop"
cp -r "$APX_SRCDIR/examples/shop.apx" "$APX_SRCDIR/examples/shop" "$P/shop/"
STATE=$P/shop/.aspirec
if runuser -u postgres -- test -x "$P/shop"; then
  not_ok "setup: the postgres user can reach $P/shop (mode $(stat -c %a "$P")): the test would prove nothing"
  exit 1
fi
# Removed after the run's processes are gone (at_exit handlers run in reverse).
rm_shared() {
  local d
  d=$(readlink "$STATE/resources/db" 2> /dev/null) || return 0
  case $d in /var/lib/aspirec/shop-????????????????/db) rm -rf "${d%/db}" ;; esac
}
at_exit rm_shared
args=("$P/shop/shop.apx" --run --grace 10s -I "$APX_SRCDIR/stdlib")

# up OUT LABEL: starts the shop, waits until web answers through to the api; sets WEB.
up() { rs_up "$1" "$P" "$2 (from $P/shop, parent mode 0700)" 120 "${args[@]}"; }

# ---- run 1 -------------------------------------------------------------------
OUT1=$P/run1.out
up "$OUT1" "run 1" || apx_done
item="kettle-$$-$RANDOM"
r=$(tool http POST "$WEB/api/products" "{\"name\": \"$item\", \"price\": 20}")
r1=$(tool http GET "$WEB/api/products")
if [ "$(head -n 1 <<< "$r")" = 201 ] && grep -qF "\"$item\"" <<< "$r1" && grep -qF '"source": "database"' <<< "$r1"; then
  ok "run 1: a product written through web and api is read back from PostgreSQL"
else
  not_ok "run 1: POST then GET /api/products"; { echo "$r"; echo "$r1"; } | diag 6
fi
data=$(readlink "$STATE/resources/db")
if [[ $data == /var/lib/aspirec/shop-????????????????/db ]] && [ "$(stat -c %U "$data/data/PG_VERSION" 2> /dev/null)" = postgres ] &&
   runuser -u postgres -- test -w "$data/data" && grep -qF "db's data: $data (linked from $STATE/resources/db)" "$OUT1"; then
  ok "run 1: PostgreSQL's data directory is in the shared place ($data), owned by postgres, linked from STATE and shown"
else
  not_ok "run 1: where PostgreSQL's data is (link '$data')"; ls -la "$STATE/resources" 2>&1 | diag; rs_show "$OUT1" 20
fi
kill -INT "$RS_PID"
rc=timeout
if rs_wait_exit "$RS_PID" 30; then wait "$RS_PID"; rc=$?; fi
[ "$rc" = 0 ] && ok "run 1: Ctrl-C stops it (status 0)" || { not_ok "run 1: Ctrl-C stops it (status $rc)"; rs_show "$OUT1" 20; }

# ---- run 2: the same program, the same state -------------------------------
OUT2=$P/run2.out
if up "$OUT2" "run 2"; then
  r=$(tool http GET "$WEB/api/products")
  if grep -qF "\"$item\"" <<< "$r" && ! grep -q 'db: running setup' "$OUT2" && [ "$(readlink "$STATE/resources/db")" = "$data" ]; then
    ok "run 2: the product of run 1 is there (same data directory, initdb not run again)"
  else
    not_ok "run 2: the data of run 1"; echo "$r" | diag 5; rs_show "$OUT2" 20
  fi
  rs_stop
fi
apx_done
