#!/bin/bash
# The dashboard's cost (issue 12, item 10): 100 resources under aspirec --run
# with the dashboard open in a browser (headless Chromium through
# playwright-core: the resources page and the console of every resource),
# beside the same run with --no-dashboard:
#   - aspirec's RSS (VmRSS and peak VmHWM of the aspirec process, after 10 s);
#   - how long a log line takes to reach the open page: a resource prints
#     "stamp <Unix ms>" every 100 ms, the page records when each line
#     arrived (window.apxArrivals); median, 95th percentile, worst;
#   - aspirec's instructions (valgrind --tool=callgrind, Ir) over the same
#     10 s, with and without the page open (callgrind slows it: only the
#     counts are kept from that run).
# usage: bash bench/run/dashboard.sh [-n N] [--seconds S] [--no-callgrind]
# ASPIREC: default _build/aspirec. Needs chromium and tests/dashboard's npm
# packages (scripts/setup.sh). Writes to bench/out/dashboard/.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
n=100 secs=10 cg=1
while [ $# -gt 0 ]; do
  case $1 in
    -n) n=$2; shift ;;
    --seconds) secs=$2; shift ;;
    --no-callgrind) cg=0 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "dashboard.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done
ASPIREC=${ASPIREC:-$top/_build/aspirec}
d=$(dirname "$ASPIREC")
if head -c 200 "$ASPIREC" | grep -q 'temporary wrapper script' && [ -x "$d/.libs/aspirec" ]; then
  export LD_LIBRARY_PATH=$d/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  ASPIREC=$d/.libs/aspirec
fi
out=$top/bench/out/dashboard
rm -rf "$out"; mkdir -p "$out"
# The page's script beside tests/dashboard's packages (ESM resolves from the script's folder).
cp "$top/bench/run/dashboard.mjs" "$out/"
ln -s "$top/tests/dashboard/node_modules" "$out/node_modules"
# The program: n-1 quiet resources, and one that prints a stamp every 100 ms.
{
  for i in $(seq 1 $((n - 1))); do
    printf 'executable r%03d {\n  command = "sh"\n  args = ["-c", "echo r%03d up; exec sleep 100000"]\n}\n' "$i" "$i"
  done
  printf 'executable stamp {\n  command = "python3"\n  args = ["-u", "-c", "import time\\nwhile True:\\n  print(\\"stamp %%d\\" %% int(time.time()*1000), flush=True)\\n  time.sleep(0.1)"]\n}\n'
} > "$out/app.apx"

say() { printf 'bench: %s\n' "$*"; }
pid_of_run=
start() { # OUT ARGS…
  local o=$1; shift
  "$@" > "$o" 2>&1 < /dev/null &
  pid_of_run=$!
  for _ in $(seq 300); do grep -q 'is up in\|started with problems' "$o" && return 0; sleep 0.1; done
  echo "bench: the run did not come up" >&2; tail "$o" >&2; return 1
}
stop() { kill -INT "$1" 2> /dev/null || :; wait "$1" 2> /dev/null || :; }
rss() { awk '/^VmRSS|^VmHWM/ {printf "%s %s ", $1, $2}' "/proc/$1/status"; }
trap 'kill -INT $pid_of_run 2> /dev/null || :' EXIT

say "$n resources, $(nproc) CPUs; $ASPIREC"
# 1. Without the dashboard.
start "$out/plain.log" "$ASPIREC" "$out/app.apx" --run --no-color --no-dashboard --state-dir="$out/s1"
sleep "$secs"
plain=$(rss $pid_of_run)
stop $pid_of_run
# 2. With it, and the page open.
start "$out/dash.log" "$ASPIREC" "$out/app.apx" --run --no-color --state-dir="$out/s2"
url=$(grep -oE 'http://127.0.0.1:[0-9]+/login\?t=[0-9a-f]+' "$out/dash.log" | head -1)
node "$out/dashboard.mjs" "$url" "$secs" "$out/latency.json" > "$out/browser.log" 2>&1 &
bpid=$!
sleep $((secs + 8))
dash=$(rss $pid_of_run)
wait $bpid || { cat "$out/browser.log" >&2; }
stop $pid_of_run
echo "aspirec without the dashboard: $plain(kB)"
echo "aspirec with the dashboard open: $dash(kB)"
cat "$out/latency.json"; echo
if [ $cg = 1 ] && command -v valgrind > /dev/null; then
  # 3. Instructions, same two runs under callgrind (slower: counts only).
  for mode in plain dash; do
    extra=(--no-dashboard); [ $mode = dash ] && extra=(--dashboard-token=bench)
    start "$out/cg-$mode.log" valgrind --tool=callgrind --callgrind-out-file="$out/cg-$mode.out" \
      "$ASPIREC" "$out/app.apx" --run --no-color "${extra[@]}" --state-dir="$out/cg-$mode"
    if [ $mode = dash ]; then
      url=$(grep -oE 'http://127.0.0.1:[0-9]+/login\?t=[0-9a-z]+' "$out/cg-$mode.log" | head -1)
      node "$out/dashboard.mjs" "$url" "$secs" "$out/cg-latency.json" > "$out/cg-browser.log" 2>&1 &
      bpid=$!
    fi
    sleep $((secs + 8))
    stop $pid_of_run
    [ $mode = dash ] && { wait $bpid || :; }
    # aspirec's own count (the watchdog, a fork, has its own line).
    main=$(grep -m1 -oE '^==[0-9]+== Command:' "$out/cg-$mode.log" | grep -oE '[0-9]+')
    ir=$(grep -E "^==$main== Collected : " "$out/cg-$mode.log" | grep -oE '[0-9]+$' || echo '?')
    echo "callgrind Ir, $mode: $ir"
  done
fi
