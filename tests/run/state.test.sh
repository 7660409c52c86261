#!/bin/bash
# Run mode: the state directory and container fallbacks. A container runs
# through its local {} when it has one: self.state_dir exists before setup,
# setup runs once (not again next run), the working directory defaults to
# the state directory, its endpoint port reaches local.env and references;
# a generated secret is saved mode 0600 and reused; -p overrides it without
# touching the saved value; APX_PARAM_* does not leak into processes; one
# aspirec per state directory; as root, local.user runs the process as that
# user, owning its directory, and a directory it cannot reach is an error
# that names it and the fix.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
need_aspirec
apx_tmpdir T
cp "$APX_SRCDIR"/tests/run/progs/* "$T"/
S=$T/state
cat > "$T/state.apx" <<'APX'
param secret { secret = true  generate = { length = 16 } }
container store {
  image = "example.org/store:1"
  endpoint tcp { target_port = 7000 }
  health { tcp = "tcp"  interval = 200ms }
  local {
    env {
      STORE_DIR = self.state_dir
      PORT      = self.endpoints.tcp.port
      SECRET    = secret
    }
    setup = [<<-EOT
      echo "setup in $(pwd) with $STORE_DIR" >> setup.count
      EOT
    ]
    command = "sh"
    args    = ["-c", "pwd > cwd.txt; exec python3 \"$SERVER\" store"]
  }
}
executable client {
  command    = "sh"
  args       = ["-c", "echo secret=$SECRET_FROM port=$STORE_PORT host=$STORE_HOST svc=$OTEL_SERVICE_NAME leak=$${APX_PARAM_SECRET:-none}; exec sleep 1000"]
  env        { SECRET_FROM = secret }
  references = [store]
  wait_for   = [store]
}
APX
export SERVER=$T/server.py
out=$T/out1
run_start "$out" "$T/state.apx" --run --state-dir "$S" --grace 2s
wait_for_text "$out" 'client +\| secret=' 15
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 10
rd=$S/resources/store
[ "$RUN_RC" = 0 ] && ok "run 1: up and stopped cleanly" || { not_ok "run 1: up and stopped cleanly (status $RUN_RC)"; show "$out"; }
[ -s "$rd/cwd.txt" ] && [ "$(cat "$rd/cwd.txt" 2> /dev/null)" = "$(cd "$rd" && pwd -P)" ] && ok "the fallback runs in its state directory by default" ||
  { not_ok "the fallback runs in its state directory ($(cat "$rd/cwd.txt" 2> /dev/null))"; show "$out"; }
[ "$(wc -l < "$rd/setup.count" 2> /dev/null)" = 1 ] && grep -q "setup in $(cd "$rd" && pwd -P) with $rd" "$rd/setup.count" &&
  ok "setup ran once, in the state directory, which existed before it" || { not_ok "setup ran once"; cat "$rd/setup.count" | diag; }
perm=$(stat -c %a "$S/params.env" 2> /dev/null)
saved=$(sed -n 's/^secret=//p' "$S/params.env" 2> /dev/null)
[ "$perm" = 600 ] && [ ${#saved} = 16 ] && ok "the generated secret is saved, mode 0600 (16 characters)" ||
  { not_ok "the generated secret is saved, mode 0600 (mode $perm, '${#saved}' characters)"; }
port=$(grep -oE 'store +[a-z ,]+tcp://localhost:[0-9]+' "$out" | head -1 | grep -oE '[0-9]+$')
if grep -qE "^client +\| secret=$saved port=$port host=localhost svc=client leak=none$" "$out"; then
  ok "references and env reach the client: the secret, the allocated port ($port), OTEL_SERVICE_NAME"
else
  not_ok "references and env reach the client (port $port)"; show "$out"
fi
grep -q "store: ready on $port" "$out" && ok "the fallback listens on the allocated port (target_port 7000 is the container's)" ||
  { not_ok "the fallback listens on the allocated port"; show "$out"; }

out=$T/out2
run_start "$out" "$T/state.apx" --run --state-dir "$S" --grace 2s
wait_for_text "$out" 'client +\| secret=' 15
# One aspirec per state directory.
run_start "$T/out3" "$T/state.apx" --run --state-dir "$S"
second=$RUN_PID
wait_exit "$second" 10
[ "$RUN_RC" = 2 ] && grep -q "another aspirec --run (pid [0-9]*) is using the state directory $S" "$T/out3" &&
  ok "a second aspirec on the same state directory: status 2, names the first" ||
  { not_ok "a second aspirec on the same state directory (status $RUN_RC)"; show "$T/out3"; }
kill -INT "${RUN_PIDS[-2]}"; wait_exit "${RUN_PIDS[-2]}" 10
[ "$(wc -l < "$rd/setup.count")" = 1 ] && ! grep -q 'running setup' "$out" && ok "run 2: setup does not run again" ||
  { not_ok "run 2: setup does not run again"; show "$out"; }
grep -qE "^client +\| secret=$saved " "$out" && ok "run 2: the saved secret is reused" || { not_ok "run 2: the saved secret is reused"; show "$out"; }

out=$T/out4
APX_PARAM_SECRET=from-env run_start "$out" "$T/state.apx" --run --state-dir "$S" --grace 2s
wait_for_text "$out" 'client +\| secret=' 15
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 10
grep -qE "^client +\| secret=from-env .* leak=none$" "$out" && [ "$(sed -n 's/^secret=//p' "$S/params.env")" = "$saved" ] &&
  ok "APX_PARAM_SECRET overrides the saved value (which stays), and is not passed on to processes" ||
  { not_ok "APX_PARAM_SECRET overrides, does not leak"; show "$out"; }

# Ctrl-C during setup: the setup step is left to finish (within the grace
# period), so that it never stops halfway.
cat > "$T/slowsetup.apx" <<'APX'
container slow {
  image = "example.org/slow:1"
  local {
    setup   = ["sleep 1; echo complete > setup.done"]
    command = "sleep"
    args    = ["1000"]
  }
}
APX
out=$T/out5
run_start "$out" "$T/slowsetup.apx" --run --state-dir "$T/state5" --grace 5s
wait_for_text "$out" 'slow: running setup' 5
sleep 0.3
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 10
if [ "$RUN_RC" = 0 ] && [ "$(cat "$T/state5/resources/slow/setup.done" 2> /dev/null)" = complete ] && [ -s "$T/state5/resources/slow/.aspirec-setup" ] &&
   grep -q 'slow: stopping once its setup step ends' "$out" && grep -q 'slow: not started' "$out"; then
  ok "Ctrl-C during setup: the setup step finishes (and counts as done), the process is not started, status 0"
else
  not_ok "Ctrl-C during setup lets the step finish (status $RUN_RC)"; show "$out"
fi

if [ "$(id -u)" = 0 ] && id nobody > /dev/null 2>&1; then
  U=$T/user
  mkdir -p "$U" && cp "$T/server.py" "$U/"
  chmod 700 "$T"
  cat > "$U/user.apx" <<'APX'
container job {
  image = "example.org/job:1"
  local {
    user    = "nobody"
    command = "sh"
    args    = ["-c", "echo running as $(id -un) in $(pwd), home $HOME; touch mine; exec sleep 1000"]
  }
}
APX
  run_start "$U/out" "$U/user.apx" --run --state-dir "$U/state"
  wait_exit "$RUN_PID" 10
  if [ "$RUN_RC" = 2 ] && grep -q "'job' runs as user 'nobody' (local.user), who cannot reach its state directory $U/state/resources/job: $T is not searchable by that user" "$U/out" &&
     grep -q "hint: .*--state-dir=DIR.*chmod o+x $T" "$U/out"; then
    ok "local.user: a parent directory the user cannot search is an error naming it and the fix"
  else
    not_ok "local.user: unreachable state directory (status $RUN_RC)"; show "$U/out"
  fi
  chmod 755 "$T"
  run_start "$U/out2" "$U/user.apx" --run --state-dir "$U/state" --grace 1s
  wait_for_text "$U/out2" 'job +\| running as' 10
  kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 10
  if grep -qE "job +\| running as nobody in $U/state/resources/job, home " "$U/out2" &&
     [ "$(stat -c %U "$U/state/resources/job")" = nobody ] && [ "$(stat -c %U "$U/state/resources/job/mine")" = nobody ]; then
    ok "local.user: as root the process runs as that user, who owns its state directory"
  else
    not_ok "local.user: runs as nobody, owns its directory"; show "$U/out2"; ls -la "$U/state/resources/job" | diag
  fi
else
  ok "# SKIP local.user needs root and a user 'nobody'"
fi
apx_done
