#!/bin/bash
# The replicas' proxy (issue 11, item 6): what runtime/proxy.c costs beside a
# direct connection. `aspirec --run` starts 3 replicas of bench/run/httpd.c
# (a small epoll HTTP server, so that the server is not the bottleneck);
# wrk on loopback then loads, for D seconds each:
#   direct   one replica's own port
#   proxy/3  the endpoint's port, the proxy spreading over 3 replicas
#   proxy/1  the same after 2 replicas were killed (restart = "no"): the
#            proxy in front of 1 replica, the same server as "direct"
# each with keep-alive connections (C of them) and with a new connection
# per request (Connection: close). Prints requests/s and latency (average,
# p50, p99) side by side. Then aspirec's own instructions per request
# through the proxy (valgrind --tool=callgrind, Ir): a run under load minus
# an idle run of the same length, divided by the requests wrk made.
# usage: bash bench/run/proxy.sh [-d SECONDS] [-c CONNECTIONS] [--no-callgrind]
# ASPIREC: the aspirec to measure (default _build/aspirec). Writes to
# bench/out/proxy/ (gitignored).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
D=5 C=32 CG=1
while [ $# -gt 0 ]; do
  case $1 in
    -d) D=$2; shift 2 ;;
    -c) C=$2; shift 2 ;;
    --no-callgrind) CG=0; shift ;;
    *) echo "bench: unknown $1" >&2; exit 2 ;;
  esac
done
ASPIREC=${ASPIREC:-$top/_build/aspirec}
out=$top/bench/out/proxy
rm -rf "$out"; mkdir -p "$out"
for t in wrk cc; do command -v "$t" > /dev/null || { echo "bench: $t missing (bash scripts/setup.sh)" >&2; exit 1; }; done
[ $CG = 0 ] || command -v valgrind > /dev/null || { echo "bench: valgrind missing" >&2; exit 1; }
cc -O2 -o "$out/httpd" bench/run/httpd.c
cat > "$out/bench.apx" <<APX
executable api {
  command  = "$out/httpd"
  replicas = 3
  endpoint http { env = "PORT"  scheme = "http" }
  health { tcp = "http"  interval = 200ms }
}
APX

PID=
stop_run() {
  [ -n "$PID" ] || return 0
  kill -INT "$PID" 2> /dev/null || true
  wait "$PID" 2> /dev/null || true
  PID=
}
trap stop_run EXIT

# start_run LOG [PREFIX...]: aspirec --run in the background, up.
start_run() {
  local log=$1; shift
  rm -rf "$out/.aspirec"
  "$@" "$ASPIREC" "$out/bench.apx" --run --state-dir "$out/.aspirec" --grace 2s > "$log" 2>&1 &
  PID=$!
  for _ in $(seq 600); do grep -q 'is up' "$log" && return 0; sleep 0.1; done
  echo "bench: aspirec did not come up:" >&2; tail "$log" >&2; exit 1
}

# load NAME PORT [wrk args]: one wrk run; appends "NAME rps avg p50 p99 requests" to results.
load() {
  local name=$1 port=$2; shift 2
  wrk -t1 -c"$C" -d"${D}s" --latency "$@" "http://127.0.0.1:$port/" > "$out/wrk-$name.txt" 2>&1
  awk -v n="$name" '
    /^ +Latency +[0-9]/ {avg = $2}
    /^ +50%/ {p50 = $2}
    /^ +99%/ {p99 = $2}
    /requests in/ {req = $1}
    /^Requests\/sec/ {rps = $2}
    /Non-2xx|Socket errors/ {err = err " " $0}
    END {printf "%s %s %s %s %s %s\n", n, rps, avg, p50, p99, req; if (err) print "bench: " n ":" err > "/dev/stderr"}' \
    "$out/wrk-$name.txt" >> "$out/results"
}

start_run "$out/run.log"
proxy=$(sed -n 's/.*  api  *proxy  *http:\/\/localhost:\([0-9]*\).*/\1/p' "$out/run.log")
r0=$(sed -n 's/.*  api\.0  *executable  *http:\/\/localhost:\([0-9]*\).*/\1/p' "$out/run.log")
: > "$out/results"
load direct "$r0"
load proxy-3 "$proxy"
load direct-close "$r0" -H "Connection: close"
load proxy-3-close "$proxy" -H "Connection: close"
for k in 1 2; do
  kill -KILL "$(sed -n "s/.*api\.$k: started (pid \([0-9]*\)).*/\1/p" "$out/run.log")"
done
for _ in $(seq 50); do [ "$(grep -c 'api\.[12]: ended' "$out/run.log")" = 2 ] && break; sleep 0.1; done
load proxy-1 "$proxy"
load proxy-1-close "$proxy" -H "Connection: close"
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$PID/status")
stop_run

echo "wrk -t1 -c$C -d${D}s on 127.0.0.1; the server: bench/run/httpd.c ($(nproc) CPUs)"
printf '%-16s %12s %10s %10s %10s\n' "" "requests/s" "avg" "p50" "p99"
while read -r n rps avg p50 p99 _; do printf '%-16s %12s %10s %10s %10s\n' "$n" "$rps" "$avg" "$p50" "$p99"; done < "$out/results"
echo "aspirec's peak RSS over all of it: $((hwm / 1024)) MB ($hwm kB)"

[ $CG = 1 ] || exit 0
# Instructions: a run under load (proxy, 3 replicas, keep-alive) and an idle
# one of the same length; aspirec alone (not the replicas: no --trace-children).
ir() { awk '/^(summary|totals):/ {print $2; exit}' "$1"; }
for mode in idle keep close; do
  start_run "$out/cg-$mode.log" valgrind --tool=callgrind --callgrind-out-file="$out/cg-$mode.out"
  proxy=$(sed -n 's/.*  api  *proxy  *http:\/\/localhost:\([0-9]*\).*/\1/p' "$out/cg-$mode.log")
  case $mode in
    idle) sleep "$D"; echo "$mode 0 0 0 0 0" > "$out/cg-$mode.res" ;;
    keep) C_SAVE=$C; C=8; : > "$out/results"; load cg-keep "$proxy"; C=$C_SAVE; cp "$out/results" "$out/cg-$mode.res" ;;
    close) C_SAVE=$C; C=8; : > "$out/results"; load cg-close "$proxy" -H "Connection: close"; C=$C_SAVE; cp "$out/results" "$out/cg-$mode.res" ;;
  esac
  stop_run
done
idle=$(ir "$out/cg-idle.out")
for mode in keep close; do
  req=$(awk '{print $6}' "$out/cg-$mode.res")
  irm=$(ir "$out/cg-$mode.out")
  awk -v m="$mode" -v a="$irm" -v b="$idle" -v r="$req" 'BEGIN {
    printf "callgrind, proxy/3, %s: %d requests, %.1f M Ir (idle run %.1f M): %.0f instructions per request\n",
      m == "keep" ? "keep-alive" : "a connection per request", r, a / 1e6, b / 1e6, (a - b) / r }'
done
