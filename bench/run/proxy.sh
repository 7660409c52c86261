#!/bin/bash
# The replicas' proxy (issue 11, item 6): what runtime/proxy.c costs beside a
# direct connection and beside two peers. `aspirec --run` starts 3 replicas
# of bench/run/httpd.c (a small epoll HTTP server, so that the server is not
# the bottleneck); wrk on loopback then loads, for D seconds each:
#   direct        one replica's own port (no proxy)
#   proxy-3       the endpoint's port: aspirec's proxy over 3 replicas
#   proxy-1       the same after 2 replicas were killed (restart = "no"):
#                 aspirec's proxy in front of 1 replica, the server of "direct"
#   docker-proxy  Docker's userland proxy (Go; what publishes a container's
#                 port) in front of that replica
#   socat         socat TCP-LISTEN,fork (a process per connection) in front of it
# each with keep-alive connections (C of them) and with a new connection per
# request (-close: Connection: close), R rounds interleaved (the machine is
# shared: medians of requests/s and latency, average, p50, p99), and the CPU
# time (user + system) the process in the middle spent per request, which
# depends less on what else the machine runs than requests/s do. Then
# aspirec's own instructions per request through the proxy (valgrind
# --tool=callgrind, Ir): a run under load minus an idle run of the same
# length, divided by the requests wrk made; and aspirec's peak RSS.
# usage: bash bench/run/proxy.sh [-d SECONDS] [-c CONNECTIONS] [--rounds R] [--no-callgrind]
# ASPIREC: the aspirec to measure (default _build/aspirec). Writes to
# bench/out/proxy/ (gitignored).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
D=4 C=32 CG=1 R=3
while [ $# -gt 0 ]; do
  case $1 in
    -d) D=$2; shift 2 ;;
    -c) C=$2; shift 2 ;;
    --rounds) R=$2; shift 2 ;;
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
# cpu PID: CPU time of PID and its reaped children (socat's), in clock ticks.
cpu() { awk '{print $14 + $15 + $16 + $17}' "/proc/$1/stat" 2> /dev/null || echo 0; }
# load NAME PORT [wrk args]: one wrk run; appends "NAME rps avg p50 p99 requests cpu"
# to results, cpu: the CPU time the process in the middle (CPU_PID) spent per
# request, in microseconds ("-" for none).
CPU_PID=
load() {
  local name=$1 port=$2 c0=0 c1=0; shift 2
  [ -z "$CPU_PID" ] || c0=$(cpu "$CPU_PID")
  wrk -t1 -c"$C" -d"${D}s" --latency "$@" "http://127.0.0.1:$port/" > "$out/wrk-$name.txt" 2>&1
  [ -z "$CPU_PID" ] || c1=$(cpu "$CPU_PID")
  awk -v n="$name" -v t="$(( c1 - c0 ))" -v hz="$(getconf CLK_TCK)" -v m="${CPU_PID:+1}" '
    /^ +Latency +[0-9]/ {avg = $2}
    /^ +50%/ {p50 = $2}
    /^ +99%/ {p99 = $2}
    /requests in/ {req = $1}
    /^Requests\/sec/ {rps = $2}
    /Non-2xx|Socket errors/ {err = err " " $0}
    END {cpu = m && req ? sprintf("%.1f", t / hz * 1e6 / req) : "-"
      printf "%s %s %s %s %s %s %s\n", n, rps, avg, p50, p99, req, cpu; if (err) print "bench: " n ":" err > "/dev/stderr"}' \
    "$out/wrk-$name.txt" >> "$out/results"
}

start_run "$out/run.log"
proxy=$(sed -n 's/.*  api  *proxy  *http:\/\/localhost:\([0-9]*\).*/\1/p' "$out/run.log")
r0=$(sed -n 's/.*  api\.0  *executable  *http:\/\/localhost:\([0-9]*\).*/\1/p' "$out/run.log")
: > "$out/results"
both() { load "$1" "$2"; load "$1-close" "$2" -H "Connection: close"; }
for _ in $(seq "$R"); do both direct "$r0"; CPU_PID=$PID; both proxy-3 "$proxy"; CPU_PID=; done
for k in 1 2; do
  kill -KILL "$(sed -n "s/.*api\.$k: started (pid \([0-9]*\)).*/\1/p" "$out/run.log")"
done
for _ in $(seq 50); do [ "$(grep -c 'api\.[12]: ended' "$out/run.log")" = 2 ] && break; sleep 0.1; done
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
peers=()
if [ -x /usr/sbin/docker-proxy ]; then
  dp=$(free_port)
  /usr/sbin/docker-proxy -proto tcp -host-ip 127.0.0.1 -host-port "$dp" -container-ip 127.0.0.1 \
    -container-port "$r0" 3> /dev/null > "$out/docker-proxy.log" 2>&1 &
  peers+=("docker-proxy:$dp:$!")
fi
if command -v socat > /dev/null; then
  sp=$(free_port)
  socat "TCP-LISTEN:$sp,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$r0" > "$out/socat.log" 2>&1 &
  peers+=("socat:$sp:$!")
fi
sleep 0.5
for _ in $(seq "$R"); do
  both direct "$r0"
  CPU_PID=$PID; both proxy-1 "$proxy"
  for p in "${peers[@]}"; do IFS=: read -r n port CPU_PID <<< "$p"; both "$n" "$port"; done
  CPU_PID=
done
for p in "${peers[@]}"; do IFS=: read -r _ _ pid <<< "$p"; kill "$pid"; done
hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$PID/status")
stop_run

echo "wrk -t1 -c$C -d${D}s on 127.0.0.1, medians of $R rounds ($(nproc) CPUs; load average $(cut -d' ' -f1 /proc/loadavg))"
printf '%-20s %12s %10s %10s %10s %14s %6s\n' "" "requests/s" "avg" "p50" "p99" "proxy CPU/req" "runs"
# Medians per name, in the order names first appear; latencies compared in microseconds.
awk '
  function us(v) { if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return v * 1000; if (v ~ /s$/) return v * 1e6; return v }
  function med(list, n,   a, i, j, t) {
    split(list, a, " "); n = length(a)
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (us(a[j]) < us(a[i])) { t = a[i]; a[i] = a[j]; a[j] = t }
    return a[int((n + 1) / 2)]
  }
  !($1 in seen) { seen[$1] = 1; order[++k] = $1 }
  { rps[$1] = rps[$1] " " $2; avg[$1] = avg[$1] " " $3; p50[$1] = p50[$1] " " $4; p99[$1] = p99[$1] " " $5
    cpu[$1] = cpu[$1] " " $7; runs[$1]++ }
  END { for (i = 1; i <= k; i++) { n = order[i]; c = med(cpu[n])
    printf "%-20s %12s %10s %10s %10s %14s %6d\n", n, med(rps[n]), med(avg[n]), med(p50[n]), med(p99[n]),
      c == "-" ? "-" : c " us", runs[n] } }' "$out/results"
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
