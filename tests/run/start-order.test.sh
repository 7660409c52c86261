#!/bin/bash
# Run mode: start order. Units without waits start at once and in parallel;
# wait_for waits for healthy (a tcp check), wait_for_start for running,
# wait_for_completion for exit status 0; a job that fails keeps what waits
# for it from starting, with the reason. Shown by the programs' own
# timestamps ($TIMES).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
need_aspirec
apx_tmpdir T
cp "$APX_SRCDIR"/tests/run/progs/* "$T"/
cat > "$T/order.apx" <<'APX'
executable db {
  command = "python3"
  args    = ["server.py", "db", "--delay", "1"]
  endpoint tcp { env = "PORT" }
  health { tcp = "tcp"  interval = 200ms }
}
executable api {
  command  = "sh"
  args     = ["stamp.sh", "api", "0", "forever"]
  wait_for = [db]
  references = [db]
}
executable watch {
  command = "sh"
  args    = ["stamp.sh", "watch", "0", "forever"]
  wait_for_start = [db]
}
executable a { command = "sh"  args = ["stamp.sh", "a", "0", "forever"] }
executable b { command = "sh"  args = ["stamp.sh", "b", "0", "forever"] }
executable migrate { command = "sh"  args = ["stamp.sh", "migrate", "0", "0.5"] }
executable worker {
  command = "sh"
  args    = ["stamp.sh", "worker", "0", "forever"]
  wait_for_completion = [migrate]
}
executable badjob { command = "sh"  args = ["stamp.sh", "badjob", "3", "0"] }
executable after {
  command = "sh"
  args    = ["stamp.sh", "after", "0", "forever"]
  wait_for_completion = [badjob]
}
APX
export TIMES=$T/times
out=$T/out
run_start "$out" "$T/order.apx" --run --grace 3s
if ! wait_for_text "$out" 'started with problems|is up' 20; then
  not_ok "the start-up summary appears within 20 s"
  show "$out"
  apx_done
fi
ok "the start-up summary appears"
sleep 0.5
t() { awk -v n="$1" -v e="$2" '$1 == n && $2 == e {print $3; exit}' "$TIMES"; }
le() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a != "" && b != "" && a + 0 <= b + 0)}'; }
near() { awk -v a="$1" -v b="$2" 'BEGIN {d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d < 0.5)}'; }
db=$(t db listening) api=$(t api start) watch=$(t watch start) a=$(t a start) b=$(t b start)
mig=$(t migrate end) worker=$(t worker start)
note "db listening $db, api $api, watch $watch, a $a, b $b, migrate end $mig, worker $worker"
if le "$db" "$api"; then ok "wait_for: api started after db was listening (healthy)"
else not_ok "wait_for: api started after db was listening (db $db, api $api)"; show "$out"; fi
if le "$watch" "$db"; then ok "wait_for_start: watch started once db ran, before db was healthy"
else not_ok "wait_for_start: watch started before db was healthy (watch $watch, db $db)"; fi
if near "$a" "$b" && le "$a" "$db"; then ok "a and b (no waits) started together, at once"
else not_ok "a and b (no waits) started together, at once (a $a, b $b, db $db)"; fi
if le "$mig" "$worker"; then ok "wait_for_completion: worker started after migrate ended with status 0"
else not_ok "wait_for_completion: worker after migrate (migrate end $mig, worker $worker)"; fi
if [ -z "$(t after start)" ] && grep -qE 'after: failed to start: not started: badjob ended with exit status 3' "$out"; then
  ok "a job exiting with status 3 keeps what waits for its completion from starting, and says why"
else
  not_ok "after must not start when badjob fails"; show "$out"
fi
if grep -qE '^aspirec +\| +db +healthy +tcp://localhost:[0-9]+' "$out" &&
   grep -qE '^aspirec +\| +migrate +finished \(exit status 0\)' "$out"; then
  ok "the summary shows each resource, its state and its URL"
else
  not_ok "the summary shows each resource, its state and its URL"; show "$out"
fi
port=$(grep -oE 'db +healthy +tcp://localhost:[0-9]+' "$out" | head -1 | grep -oE '[0-9]+$')
kill -INT "$RUN_PID"
wait_exit "$RUN_PID" 10
if [ "$RUN_RC" = 0 ]; then ok "Ctrl-C: aspirec exits with status 0"
else not_ok "Ctrl-C: aspirec exits with status 0 (got $RUN_RC)"; show "$out"; fi
if no_marked_left "$RUN_MARK" 3; then ok "no process of the run is left"
else not_ok "no process of the run is left"; ps -o pid,stat,args -p "$(mark_pids "$RUN_MARK" | paste -sd,)" | diag; fi
# Stop order: api (waits for db) is told to stop before db.
sa=$(grep -n 'api: stopping' "$out" | cut -d: -f1) sd=$(grep -n 'db: stopping' "$out" | cut -d: -f1)
if [ -n "$sa" ] && [ -n "$sd" ] && [ "$sa" -lt "$sd" ]; then ok "stop in reverse order: api before db"
else not_ok "stop in reverse order: api before db"; show "$out"; fi
[ -n "$port" ] && note "db was on port $port"
apx_done
