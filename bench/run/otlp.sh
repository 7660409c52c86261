#!/bin/bash
# OTLP ingest (issue 12, item 10): bench/run/otlp_load.c POSTs protobuf
# ExportTraceServiceRequest batches (100 spans each, 10 per trace, 8
# attributes, as the Node.js SDK's http spans) to the dashboard's
# /v1/traces on 127.0.0.1, one keep-alive connection, each batch waiting
# for its answer. aspirec (one thread: the receiver runs on run mode's
# loop) is pinned to one core and the generator to the other. Prints spans
# per second (wall), aspirec's peak RSS, and aspirec's instructions per
# span under valgrind --tool=callgrind (Ir of a run with the load minus
# Ir of the same run without it, over the spans sent).
# usage: bash bench/run/otlp.sh [--batches N] [--spans B] [--rounds R]
# ASPIREC: the aspirec to measure (default _build/aspirec); BUILDDIR: where
# the generated OTLP C is (default _build). Writes to bench/out/otlp/.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
BATCHES=1000 SPANS=100 ROUNDS=3
while [ $# -gt 0 ]; do
  case $1 in --batches) BATCHES=$2; shift 2 ;; --spans) SPANS=$2; shift 2 ;; --rounds) ROUNDS=$2; shift 2 ;;
    *) echo "bench: unknown $1" >&2; exit 2 ;; esac
done
BUILDDIR=${BUILDDIR:-$top/_build}
ASPIREC=${ASPIREC:-$BUILDDIR/aspirec}
out=$top/bench/out/otlp
rm -rf "$out"; mkdir -p "$out"
for t in cc valgrind taskset curl; do command -v "$t" > /dev/null || { echo "bench: $t missing" >&2; exit 1; }; done
cc -O2 -std=c11 -I"$BUILDDIR" -o "$out/otlp_load" bench/run/otlp_load.c "$BUILDDIR/dashboard/otlp_proto/otlp.pb-c.c" \
  -I"$BUILDDIR/dashboard/otlp_proto" $(pkg-config --cflags --libs libprotobuf-c)
echo 'executable idle { command = "sleep"  args = ["1000"] }' > "$out/app.apx"
token=bench-token
port=18950

# start [PREFIX...]: aspirec --run on cpu 0 under PREFIX (each one execs the
# next), until its dashboard answers.
start() {
  rm -rf "$out/state"
  taskset -c 0 "$@" "$ASPIREC" "$out/app.apx" --run --no-color --dashboard="$port" --dashboard-token="$token" \
    --state-dir="$out/state" > "$out/run.log" 2>&1 &
  pid=$!
  for _ in $(seq 600); do
    curl -s -o /dev/null -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/telemetry/resources" && return 0
    sleep 0.1
  done
  echo "bench: the dashboard did not answer" >&2; cat "$out/run.log" >&2; exit 1
}
stop() { kill -INT "$pid"; wait "$pid" || true; }

echo "OTLP ingest: $BATCHES batches of $SPANS spans, $ROUNDS rounds (aspirec on cpu 0, the generator on cpu 1)"
best=0
for r in $(seq "$ROUNDS"); do
  start
  line=$(taskset -c 1 "$out/otlp_load" "$port" "$token" "$BATCHES" "$SPANS")
  rss=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$pid/status")
  stop
  sps=$(sed -n 's/.*spans_per_second=\([0-9]*\).*/\1/p' <<< "$line")
  echo "  round $r: $line peak_rss_kb=$rss"
  [ "$sps" -gt "$best" ] && best=$sps
done
echo "best: $best spans/s"

# Instructions: the same run under callgrind, with and without the load.
cg() {
  start valgrind --tool=callgrind --callgrind-out-file="$out/cg.$1"
  [ "$1" = load ] && taskset -c 1 "$out/otlp_load" "$port" "$token" "$CG_BATCHES" "$SPANS" > /dev/null
  stop
  callgrind_annotate "$out/cg.$1" 2> /dev/null | sed -n 's/^\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,
}
CG_BATCHES=$((BATCHES / 4))
idle=$(cg idle)
load=$(cg load)
spans=$((CG_BATCHES * SPANS))
echo "callgrind: $spans spans: $load Ir with the load, $idle Ir without: $(((load - idle) / spans)) instructions per span"
