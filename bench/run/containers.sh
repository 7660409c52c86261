#!/bin/bash
# Containers in run mode (issue 11, item 10): 20 busybox httpd containers,
# each with a published port and a tcp health check, started by
# `aspirec --run` and by `docker-compose up -d` (of `aspirec --emit=compose`
# of the same program), on a private dockerd (tests/compose-up/bin) with a
# busybox image imported from busybox-static. Measures, for each, the wall
# time from launch until every published port answers HTTP (polled every
# 10 ms from inside the engine's network namespace), aspirec's peak RSS, and
# aspirec's own instruction count for the whole start (valgrind
# --tool=callgrind, Ir, every thread; aspirec stopped once up).
# usage: bash bench/run/containers.sh [-n N] [--rounds R]
# ASPIREC: the aspirec to measure (default _build/aspirec). Writes to
# bench/out/containers/ (gitignored); stops the engine at the end.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
N=20 ROUNDS=3
while [ $# -gt 0 ]; do
  case $1 in -n) N=$2; shift 2 ;; --rounds) ROUNDS=$2; shift 2 ;; *) echo "bench: unknown $1" >&2; exit 2 ;; esac
done
ASPIREC=${ASPIREC:-$top/_build/aspirec}
out=$top/bench/out/containers
rm -rf "$out"; mkdir -p "$out/app"
for t in dockerd docker-compose nsenter python3 valgrind; do command -v "$t" > /dev/null || { echo "bench: $t missing" >&2; exit 1; }; done
export APX_DOCKERD_NETNS=1
trap '"$top/tests/compose-up/bin/dockerd-local" stop "$out/dk" > /dev/null 2>&1 || true' EXIT
eval "$("$top/tests/compose-up/bin/dockerd-local" start "$out/dk" | grep '^export DOCKER_HOST=')"
export DOCKER_HOST
"$top/tests/compose-up/bin/make-busybox-image" aspirec-test/busybox:1 > /dev/null
ns=(nsenter -t "$(cat "$out/dk/launcher.pid")" -n --)
base=21000
{
  for i in $(seq 1 "$N"); do
    cat <<APX
container web$i {
  image   = "aspirec-test/busybox:1"
  command = "httpd"
  args    = ["-f", "-p", "8080", "-h", "/www"]
  endpoint http { target_port = 8080  port = $((base + i))  external = true }
  health { tcp = "http"  interval = 200ms }
}
APX
  done
} > "$out/app/bench.apx"
(cd "$out/app" && "$ASPIREC" bench.apx --emit=compose -o compose > /dev/null)
ports=$(seq -s, $((base + 1)) $((base + N)))
cat > "$out/poll.py" <<'PY'
import socket, sys, time
ports = [int(p) for p in sys.argv[1].split(",")]
t0 = float(sys.argv[2]); left = set(ports)
while left:
    for p in list(left):
        try:
            s = socket.create_connection(("127.0.0.1", p), timeout=0.2)
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            if s.recv(12).startswith(b"HTTP/1."): left.discard(p)
            s.close()
        except OSError:
            pass
    if left: time.sleep(0.01)
print("%.3f" % (time.time() - t0))
PY
gone() { for _ in $(seq 300); do [ -z "$(docker ps -aq)" ] && return 0; sleep 0.1; done; return 1; }
aspirec_round() {
  local t0 pid el
  t0=$(date +%s.%N)
  "${ns[@]}" /usr/bin/time -f %M -o "$out/rss" "$ASPIREC" "$out/app/bench.apx" --run --grace 2s > "$out/aspirec.log" 2>&1 &
  pid=$!
  el=$("${ns[@]}" python3 "$out/poll.py" "$ports" "$t0")
  pkill -INT -P "$pid" -x aspirec 2> /dev/null || kill -INT "$pid"
  wait "$pid" || true
  gone
  echo "$el $(cat "$out/rss")"
}
compose_round() {
  local t0 el
  t0=$(date +%s.%N)
  "${ns[@]}" docker-compose -p apxbench -f "$out/app/compose/docker-compose.yaml" up -d > "$out/compose.log" 2>&1 &
  el=$("${ns[@]}" python3 "$out/poll.py" "$ports" "$t0")
  wait
  "${ns[@]}" docker-compose -p apxbench -f "$out/app/compose/docker-compose.yaml" down -t 1 > /dev/null 2>&1
  gone
  echo "$el"
}
printf 'bench: %d busybox containers, %d rounds (seconds until every port answers)\n' "$N" "$ROUNDS"
for r in $(seq "$ROUNDS"); do
  a=$(aspirec_round) c=$(compose_round)
  printf 'round %d: aspirec --run %ss (peak RSS %s kB)   docker-compose up -d %ss\n' "$r" "${a% *}" "${a#* }" "$c"
done
# Instructions: aspirec under callgrind, stopped once everything is up.
"${ns[@]}" valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" "$ASPIREC" "$out/app/bench.apx" \
  --run --grace 2s > "$out/aspirec-cg.log" 2>&1 &
pid=$!
for _ in $(seq 600); do grep -q 'is up' "$out/aspirec-cg.log" && break; sleep 0.1; done
kill -INT "$pid" 2> /dev/null || true   # valgrind runs aspirec in its own process
wait "$pid" || true
gone || true
ir=$(grep -m1 '^summary:\|^totals:' "$out/callgrind.out" | awk '{print $2}')
printf 'aspirec instructions for start, run and stop of %d containers (callgrind Ir): %s\n' "$N" "$ir"
