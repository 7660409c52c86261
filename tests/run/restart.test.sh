#!/bin/bash
# Run mode: restarts. A crash loop is restarted with exponential back-off
# (1 s, 2 s, 4 s apart, measured by the program's own timestamps); kill -9
# of a service with restart = "on-failure" brings it back; restart = "no"
# leaves it down; restart = "always" restarts even after exit status 0.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
need_aspirec
apx_tmpdir T
cp "$APX_SRCDIR"/tests/run/progs/* "$T"/
cat > "$T/restart.apx" <<'APX'
executable crash  { command = "sh"  args = ["stamp.sh", "crash", "1", "0"]        restart = "on-failure" }
executable svc    { command = "sh"  args = ["stamp.sh", "svc", "0", "forever"]    restart = "on-failure" }
executable once   { command = "sh"  args = ["stamp.sh", "once", "0", "forever"] }
executable always { command = "sh"  args = ["stamp.sh", "always", "0", "0.2"]     restart = "always" }
APX
export TIMES=$T/times
out=$T/out
run_start "$out" "$T/restart.apx" --run --grace 2s
wait_for_text "$out" 'is up|started with problems' 10
sleep 1
pid() { awk -v n="$1" '$1 == n && $2 == "start" {p = $4} END {print p}' "$TIMES"; }
svc1=$(pid svc) once1=$(pid once)
kill -KILL "$svc1" "$once1"
if wait_for_text "$out" 'svc: ended with signal SIGKILL; restarting in 1\.00 s' 5 &&
   wait_for_text "$out" 'svc: restarted \(pid' 5; then
  sleep 0.3
  svc2=$(pid svc)
  if [ -n "$svc2" ] && [ "$svc2" != "$svc1" ] && kill -0 "$svc2" 2> /dev/null; then
    ok "kill -9 of a service with restart = on-failure: restarted (pid $svc1 -> $svc2)"
  else
    not_ok "kill -9: a new svc process runs (was $svc1, now '$svc2')"; show "$out"
  fi
else
  not_ok "kill -9 of svc: restarted after 1 s"; show "$out"
fi
if wait_for_text "$out" 'once: ended with signal SIGKILL; not restarted \(restart = no\)' 3 &&
   [ "$(grep -c '^once start' "$TIMES")" = 1 ]; then
  ok "kill -9 with restart = no: not restarted, and it says so"
else
  not_ok "kill -9 with restart = no: not restarted"; show "$out"
fi
# The crash loop: let it run to its fourth start (0, 1, 3, 7 s).
for _ in $(seq 100); do [ "$(grep -c '^crash start' "$TIMES")" -ge 4 ] && break; sleep 0.1; done
gaps=$(awk '$1 == "crash" && $2 == "start" {if (p) printf "%.2f ", $3 - p; p = $3}' "$TIMES")
note "crash loop: seconds between starts: $gaps"
if awk -v g="$gaps" 'BEGIN {n = split(g, a, " "); exit !(n >= 3 && a[1] >= 0.95 && a[1] < 1.8 && a[2] >= 1.95 && a[2] < 2.8 && a[3] >= 3.95 && a[3] < 4.8)}'; then
  ok "crash loop: restarts 1 s, 2 s, 4 s apart (exponential back-off, at least 1 s)"
else
  not_ok "crash loop: restarts 1 s, 2 s, 4 s apart (got $gaps)"; show "$out"
fi
grep -qE 'crash: ended with exit status 1; restarting in 2\.00 s \(restart = on-failure, failure 2 in a row\)' "$out" &&
  ok "crash loop: each restart says when and why" || { not_ok "crash loop: each restart says when and why"; show "$out"; }
n=$(grep -c '^always start' "$TIMES")
[ "$n" -ge 3 ] && ok "restart = always: restarted after exit status 0 ($n starts)" ||
  { not_ok "restart = always: restarted after exit status 0 ($n starts)"; show "$out"; }
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 10
[ "$RUN_RC" = 0 ] && grep -q 'restart cancelled' "$out" && ok "Ctrl-C during a back-off cancels the restart; status 0" ||
  { not_ok "Ctrl-C during a back-off (status $RUN_RC)"; show "$out"; }
no_marked_left "$RUN_MARK" 3 && ok "no process of the run is left" || not_ok "no process of the run is left"
apx_done
