#!/bin/bash
# Run mode: stopping. Ctrl-C stops in reverse wait order with SIGTERM to
# each process group (grandchildren included), SIGKILL after --grace for
# what ignores SIGTERM, then a summary and exit status 0, with no process
# left. A second Ctrl-C kills at once; SIGTERM works like Ctrl-C. If
# aspirec itself is killed with SIGKILL, its watchdog leaves no process of
# the run behind (checked through a unique marker in their environment).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
need_aspirec
apx_tmpdir T
cp "$APX_SRCDIR"/tests/run/progs/* "$T"/
cat > "$T/term.sh" <<'SH'
# usage: term.sh NAME: records when SIGTERM arrives, then exits.
trap 'echo "$1 term $(date +%s.%N | cut -c1-14)" >> "$TIMES"; exit 0' TERM
echo "$1: ready"
while :; do sleep 0.05; done
SH
cat > "$T/stop.apx" <<'APX'
executable stubborn { command = "sh"  args = ["-c", "trap '' TERM; echo stubborn: ignoring SIGTERM; while :; do sleep 0.1; done"] }
executable tree     { command = "sh"  args = ["-c", "sleep 1000 & sleep 1001 & echo tree: two children; wait"] }
executable polite   { command = "sh"  args = ["term.sh", "polite"] }
executable dep      { command = "sh"  args = ["term.sh", "dep"]  wait_for_start = [polite] }
APX
export TIMES=$T/times

# 1. Ctrl-C, grace 2 s.
out=$T/out1
run_start "$out" "$T/stop.apx" --run --grace 2s
wait_for_text "$out" 'is up' 10 && wait_for_text "$out" 'dep: ready' 5 && wait_for_text "$out" 'tree: two children' 5
n=$(mark_pids "$RUN_MARK" | wc -l)
[ "$n" -ge 7 ] && ok "the run's processes carry the marker ($n processes, grandchildren included)" ||
  { not_ok "the run's processes carry the marker (only $n)"; show "$out"; }
t0=$(now)
kill -INT "$RUN_PID"
wait_exit "$RUN_PID" 10
t1=$(now)
took=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
if [ "$RUN_RC" = 0 ] && awk -v t="$took" 'BEGIN {exit !(t >= 1.9 && t < 3.5)}'; then
  ok "Ctrl-C: exit status 0 after the 2 s grace period ($took s: stubborn ignored SIGTERM)"
else
  not_ok "Ctrl-C: exit status 0 after about 2 s (status $RUN_RC, $took s)"; show "$out"
fi
no_marked_left "$RUN_MARK" 1 && ok "Ctrl-C: no process is left (grandchildren included)" ||
  { not_ok "Ctrl-C: no process is left"; ps -o pid,stat,args -p "$(mark_pids "$RUN_MARK" | paste -sd,)" | diag; }
grep -q 'the grace period (2 s) is over: SIGKILL to what is left' "$out" &&
  grep -qE 'stubborn: stopped \(signal SIGKILL, after the grace period\)' "$out" &&
  grep -qE '^aspirec +\| +stopped in [0-9.]+ s:' "$out" && grep -qE '^aspirec +\| +stubborn +killed \(signal SIGKILL\)' "$out" &&
  ok "Ctrl-C: it says what was killed after the grace period, then a summary" ||
  { not_ok "Ctrl-C: messages and summary"; show "$out"; }
td=$(awk '$1 == "dep" && $2 == "term" {print $3}' "$TIMES") tp=$(awk '$1 == "polite" && $2 == "term" {print $3}' "$TIMES")
if [ -n "$td" ] && [ -n "$tp" ] && awk -v a="$td" -v b="$tp" 'BEGIN {exit !(a <= b)}'; then
  ok "reverse order: dep (waits for polite) got SIGTERM first ($td <= $tp)"
else
  not_ok "reverse order: dep got SIGTERM before polite (dep '$td', polite '$tp')"; show "$out"
fi

# 2. Two Ctrl-C: at once.
out=$T/out2
run_start "$out" "$T/stop.apx" --run --grace 30s
wait_for_text "$out" 'is up' 10 && wait_for_text "$out" 'stubborn: ignoring' 5
t0=$(now)
kill -INT "$RUN_PID"; sleep 0.3; kill -INT "$RUN_PID"
wait_exit "$RUN_PID" 10
took=$(awk -v a="$t0" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')
if [ "$RUN_RC" = 0 ] && awk -v t="$took" 'BEGIN {exit !(t < 2)}' && grep -q 'stopping at once: SIGKILL to everything' "$out"; then
  ok "a second Ctrl-C kills at once ($took s, grace was 30 s)"
else
  not_ok "a second Ctrl-C kills at once (status $RUN_RC, $took s)"; show "$out"
fi
no_marked_left "$RUN_MARK" 1 && ok "second Ctrl-C: no process is left" || not_ok "second Ctrl-C: no process is left"

# 3. SIGTERM works like Ctrl-C.
out=$T/out3
run_start "$out" "$T/stop.apx" --run --grace 1s
wait_for_text "$out" 'is up' 10
kill -TERM "$RUN_PID"
wait_exit "$RUN_PID" 10
[ "$RUN_RC" = 0 ] && grep -q 'SIGTERM: stopping everything' "$out" && no_marked_left "$RUN_MARK" 1 &&
  ok "SIGTERM: a clean stop, status 0, nothing left" || { not_ok "SIGTERM: a clean stop (status $RUN_RC)"; show "$out"; }

# 4. SIGKILL of aspirec: the watchdog cleans up.
out=$T/out4
run_start "$out" "$T/stop.apx" --run --grace 2s
wait_for_text "$out" 'is up' 10 && wait_for_text "$out" 'tree: two children' 5
watch=$(for p in $(mark_pids "$RUN_MARK"); do [ "$(cat /proc/"$p"/comm 2> /dev/null)" = aspirec-watch ] && echo "$p"; done)
[ -n "$watch" ] && ok "a watchdog process (aspirec-watch) runs beside aspirec" || not_ok "a watchdog process runs"
before=$(mark_pids "$RUN_MARK" | wc -l)
{ kill -KILL "$RUN_PID"; wait_exit "$RUN_PID" 5; } 2> /dev/null
if no_marked_left "$RUN_MARK" 5; then
  ok "SIGKILL of aspirec: none of its $before processes is left after the grace period (grandchildren included)"
else
  not_ok "SIGKILL of aspirec: processes left behind"
  ps -o pid,ppid,stat,args -p "$(mark_pids "$RUN_MARK" | paste -sd,)" | diag
fi
apx_done
