#!/bin/bash
# Run mode's errors, each with a small program of tests/run-shop/:
#   health-fail.apx      a health check that never passes: the resource is shown
#                        unhealthy, the resource waiting for it never starts and says why
#   missing-command.apx  a command that does not exist: a clear error naming both
#   port-clash.apx       a fixed port that is taken: a clear error, before anything starts
#   crash-loop.apx       a process that always fails: restarts at least 1 s apart,
#                        with growing back-off, its exit status shown
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-run.sh"
need_run_mode
need_cmds python3

rs_tmpdir T

# prog NAME [SED-EXPR]: copies tests/run-shop/NAME.apx into its own directory
# under T (the programs write marker files beside themselves); prints the path.
prog() {
  mkdir -p "$T/$1"
  sed -e "${2:-}" "$RS_DIR/$1.apx" > "$T/$1/$1.apx"
  echo "$T/$1/$1.apx"
}
# has OUT REGEX...: true when OUT has one line matching every REGEX (case-insensitive).
has() {
  local out=$1; shift
  local lines; lines=$(cat "$out")
  local re
  for re in "$@"; do lines=$(grep -iE -- "$re" <<< "$lines"); done
  [ -n "$lines" ]
}

# ---- a failing health check --------------------------------------------------
p=$(prog health-fail)
out=$T/health-fail.out
rs_start "$out" "$T" "$p" --run --state-dir "$T/health-fail/state" --grace 3s
if rs_wait_output "$out" 'server.*(unhealthy|health)' 40 && has "$out" 'server' '(unhealthy|health check|health probe)'; then
  ok "failing health check: server is shown unhealthy"
  note "$(has "$out" 'server' '(unhealthy|health)' && grep -iE 'server.*(unhealthy|health)' "$out" | head -n 2 | cut -c1-200 | paste -sd'|' -)"
else
  not_ok "failing health check: no message that server is unhealthy within 40s"; rs_show "$out"
fi
sleep 1
if [ -e "$T/health-fail/client-started" ]; then
  not_ok "failing health check: client started although server never became healthy"
elif rs_wait_output "$out" 'client.*(server|depend|wait|never|not start|blocked)' 20; then
  ok "failing health check: client never started, and the output says why"
  note "$(grep -iE 'client.*(server|depend|wait|never|not start|blocked)' "$out" | head -n 2 | cut -c1-200 | paste -sd'|' -)"
else
  not_ok "failing health check: client did not start, but nothing says why"; rs_show "$out"
fi
rs_stop

# ---- a missing command ---------------------------------------------------------
p=$(prog missing-command)
out=$T/missing-command.out
rs_start "$out" "$T" "$p" --run --state-dir "$T/missing-command/state" --grace 3s
if rs_wait_output "$out" 'no-such-command-apx-test' 20 && has "$out" 'no-such-command-apx-test' '(not found|no such|cannot|can.t|failed|missing)' &&
   grep -q 'ghost' "$out"; then
  ok "missing command: a clear error naming ghost and no-such-command-apx-test"
  note "$(grep -iE 'no-such-command-apx-test' "$out" | head -n 2 | cut -c1-200 | paste -sd'|' -)"
else
  not_ok "missing command: no clear error within 20s"; rs_show "$out"
fi
if grep -qE 'Traceback|Segmentation|AddressSanitizer|runtime error' "$out"; then not_ok "missing command: aspirec crashed"; rs_show "$out"; fi
rs_stop

# ---- a port clash --------------------------------------------------------------
port=$(tool free-port)
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(600)' "$port" &
holder=$!
at_exit "kill $holder 2> /dev/null"
for _ in $(seq 50); do python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$port" 2> /dev/null && break; sleep 0.1; done
p=$(prog port-clash "s/@PORT@/$port/g")
out=$T/port-clash.out
rs_start "$out" "$T" "$p" --run --state-dir "$T/port-clash/state" --grace 3s
if rs_wait_exit "$RS_PID" 20; then
  wait "$RS_PID"; rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -lt 126 ] && has "$out" "$port" '(in use|taken|already|busy|clash)'; then
    ok "port clash: aspirec stops with status $rc and a clear error naming port $port"
    note "$(grep -E "$port" "$out" | head -n 2 | cut -c1-200 | paste -sd'|' -)"
  else
    not_ok "port clash: status $rc, expected an error naming port $port"; rs_show "$out"
  fi
else
  if has "$out" "$port" '(in use|taken|already|busy|clash)'; then
    not_ok "port clash: the error is shown, but aspirec keeps running"
  else
    not_ok "port clash: no error within 20s"
  fi
  rs_show "$out"; rs_stop
fi
if [ -e "$T/port-clash/fixed-started" ] || [ -e "$T/port-clash/other-started" ]; then
  not_ok "port clash: something started before the error: $(cd "$T/port-clash" && ls ./*-started | paste -sd' ' -)"
else
  ok "port clash: nothing started"
fi

# ---- a crash loop --------------------------------------------------------------
p=$(prog crash-loop)
out=$T/crash-loop.out
rs_start "$out" "$T" "$p" --run --state-dir "$T/crash-loop/state" --grace 3s
sleep 9
starts=$T/crash-loop/starts
n=$( [ -f "$starts" ] && wc -l < "$starts" || echo 0)
gaps=$( [ -f "$starts" ] && awk 'NR > 1 { printf "%.2f ", $1 - prev } { prev = $1 }' "$starts")
if [ "$n" -ge 3 ] && [ "$n" -le 6 ] && awk -v g="$gaps" 'BEGIN { n = split(g, a, " "); for (i = 1; i <= n; i++) if (a[i] < 0.95) exit 1; for (i = 2; i <= n; i++) if (a[i] < a[i-1] - 0.2) exit 1 }'; then
  ok "crash loop: $n starts in 9s, back-off gaps ${gaps% }s (>= 1s, growing)"
else
  not_ok "crash loop: $n starts in 9s, gaps: ${gaps:-none} (want 3..6 starts, >= 1s apart, growing)"
fi
if has "$out" 'crasher' '(status|code|exit)' '3'; then
  ok "crash loop: the exit status (3) is shown"
  note "$(grep -iE 'crasher.*(status|code|exit).*3|crasher.*3.*(status|code|exit)' "$out" | head -n 2 | cut -c1-200 | paste -sd'|' -)"
else
  not_ok "crash loop: exit status 3 not shown"; rs_show "$out"
fi
if has "$out" 'crasher' '(restart|back.?off|retry|again)'; then ok "crash loop: the restarts are shown"
else not_ok "crash loop: nothing says crasher is being restarted"; rs_show "$out"; fi
if grep -q 'crasher: fatal: cannot continue' "$out"; then ok "crash loop: the process's stderr is shown"
else not_ok "crash loop: the process's own message is missing"; fi
rs_stop
apx_done
