#!/bin/bash
# Run mode: errors say what is wrong and what to do, with the right exit
# status: a missing command (1, once nothing else runs), a fixed port that
# is taken (2, before anything starts), a required parameter without a
# value (2), a container with no local {} fallback (2), a missing working
# directory (1), a bad --grace (2); a failing health check shows the
# resource as unhealthy with the probe's answer.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
need_aspirec
apx_tmpdir T
cp "$APX_SRCDIR"/tests/run/progs/* "$T"/

# expect_exit NAME STATUS REGEX: runs T/NAME.apx (must end by itself within 20 s).
expect_exit() {
  local name=$1 want=$2 re=$3 out=$T/$1.out
  shift 3
  run_start "$out" "$T/$name.apx" --run --grace 2s "$@"
  if ! wait_exit "$RUN_PID" 20; then
    not_ok "$name: aspirec ends by itself"; show "$out"; return
  fi
  if [ "$RUN_RC" = "$want" ] && grep -qE -- "$re" "$out"; then
    ok "$name: exit status $want and a clear message"
  else
    not_ok "$name: exit status $want (got $RUN_RC) and /$re/"; show "$out"
  fi
  if grep -qE 'AddressSanitizer|runtime error|LeakSanitizer' "$out"; then not_ok "$name: sanitizer report"; show "$out"; fi
}

cat > "$T/missing.apx" <<'APX'
executable api { command = "no-such-command-apx"  args = ["x"] }
APX
expect_exit missing 1 "api: failed to start: command 'no-such-command-apx' not found on PATH; install it or fix \`command\`"
grep -qE '^aspirec +\| +api +failed to start' "$T/missing.out" && ok "missing: the summary shows it failed to start" ||
  { not_ok "missing: the summary shows it failed to start"; show "$T/missing.out"; }

# A port taken by a listener of ours.
"$PY" -c 'import socket,sys,time
s=socket.socket(); s.bind(("127.0.0.1",0)); s.listen(5); print(s.getsockname()[1], flush=True); time.sleep(120)' > "$T/port" &
holder=$!
at_exit "kill $holder 2>/dev/null"
for _ in $(seq 50); do [ -s "$T/port" ] && break; sleep 0.1; done
port=$(cat "$T/port")
cat > "$T/clash.apx" <<APX
executable web {
  command = "python3"
  args    = ["server.py", "web"]
  endpoint http { port = $port  env = "PORT" }
}
APX
expect_exit clash 2 "error: port $port of 'web' \\(endpoint http\\) is already in use"
grep -q "hint: stop the program using it" "$T/clash.out" && ! grep -q "started (pid" "$T/clash.out" &&
  ok "clash: it says what to do, and nothing was started" || { not_ok "clash: hint, nothing started"; show "$T/clash.out"; }

cat > "$T/param.apx" <<'APX'
param region { description = "where to deploy" }
executable api { command = "sh"  args = ["-c", "echo $REGION"]  env { REGION = region } }
APX
expect_exit param 2 "error: parameter 'region' has no value \\(where to deploy\\)"
grep -q -- "-p region=VALUE, or set APX_PARAM_REGION" "$T/param.out" && ok "param: it says how to set it" ||
  { not_ok "param: it says how to set it"; show "$T/param.out"; }
run_start "$T/param2.out" "$T/param.apx" --run -p region=eu-west
wait_exit "$RUN_PID" 20
grep -qE '^api +\| eu-west$' "$T/param2.out" && [ "$RUN_RC" = 0 ] &&
  ok "param: -p region=eu-west reaches the process; all finished: status 0" ||
  { not_ok "param: -p region=eu-west reaches the process (status $RUN_RC)"; show "$T/param2.out"; }

cat > "$T/container.apx" <<'APX'
container cache { image = "docker.io/library/redis:7.4.1"  endpoint tcp { target_port = 6379 } }
APX
expect_exit container 2 "error: container 'cache' cannot run: .*'cache' has no local \\{\\} fallback"

cat > "$T/workdir.apx" <<'APX'
executable api { command = "true"  workdir = "./no/such/dir" }
APX
expect_exit workdir 1 "error: the working directory of 'api' does not exist: .*/no/such/dir"

run_start "$T/grace.out" "$T/workdir.apx" --run --grace=soon
wait_exit "$RUN_PID" 10
[ "$RUN_RC" = 2 ] && grep -q -- "--grace=soon: write a duration" "$T/grace.out" && ok "a bad --grace: status 2" ||
  { not_ok "a bad --grace: status 2 (got $RUN_RC)"; show "$T/grace.out"; }

# A health check that fails: the resource shows as unhealthy with the answer,
# and what waits for it keeps waiting. 25 tries (5 s) so that a python3 slow
# to start on a loaded machine answers before the check gives up.
cat > "$T/health.apx" <<'APX'
executable web {
  command = "python3"
  args    = ["server.py", "web", "--status", "500"]
  endpoint http { env = "PORT" }
  health { http = "/healthz"  interval = 200ms  retries = 25 }
}
executable client { command = "sh"  args = ["stamp.sh", "client", "0", "forever"]  wait_for = [web] }
APX
out=$T/health.out
run_start "$out" "$T/health.apx" --run --grace 2s
if wait_for_text "$out" 'web: unhealthy' 20; then
  if grep -qE 'web: unhealthy: GET http://127\.0\.0\.1:[0-9]+/healthz answered 500 Internal Server Error \(25 checks in a row failed\)' "$out"; then
    ok "failing health check: 'unhealthy' with the probe's answer"
  else
    not_ok "failing health check: 'unhealthy' with the probe's answer"; show "$out"
  fi
  wait_for_text "$out" 'started with problems' 5
  if grep -qE '^aspirec +\| +client +waiting' "$out" && ! grep -q 'client: started' "$out"; then
    ok "failing health check: what waits for it does not start, and the summary shows it waiting"
  else
    not_ok "failing health check: the waiter does not start"; show "$out"
  fi
else
  not_ok "failing health check: 'unhealthy' is shown within 20 s"; show "$out"
fi
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 10
[ "$RUN_RC" = 0 ] && ok "failing health check: Ctrl-C still stops cleanly" || { not_ok "Ctrl-C after unhealthy (status $RUN_RC)"; show "$out"; }
apx_done
