#!/bin/bash
# Run mode: the state directory and container fallbacks. A container runs
# through its local {} when it has one: self.state_dir exists before setup,
# setup runs once (not again next run), the working directory defaults to
# the state directory, its endpoint port reaches local.env and references;
# a generated secret is saved mode 0600 and reused; -p overrides it without
# touching the saved value; APX_PARAM_* does not leak into processes; one
# aspirec per state directory; as root, local.user runs the process as that
# user, owning its directory, which is in the shared place (APX_SHARED_STATE),
# linked from STATE, when STATE is out of that user's reach; a shared place
# out of reach too is an error that names the directory and the fix; as
# root, a link in STATE to anywhere else is refused.
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
    args    = ["-c", "echo running as $(id -un) in $(pwd), home $HOME; ls; touch mine && echo touched; exec sleep 1000"]
  }
}
APX
  # The shared place (APX_SHARED_STATE) out of the user's reach as well: an
  # error naming the directory and the fix.
  APX_SHARED_STATE=$T/shared run_start "$U/out" "$U/user.apx" --run --state-dir "$U/state"
  wait_exit "$RUN_PID" 10
  if [ "$RUN_RC" = 2 ] && grep -qE "'job' runs as user 'nobody' \(local.user\), who cannot reach its state directory $T/shared/user-[0-9a-f]{16}/job: $T is not searchable by that user" "$U/out" &&
     grep -q "hint: .*APX_SHARED_STATE=DIR.*chmod o+x $T" "$U/out"; then
    ok "local.user: a shared place the user cannot reach either is an error naming the directory and the fix"
  else
    not_ok "local.user: unreachable shared place (status $RUN_RC)"; show "$U/out"
  fi
  # The state directory is out of nobody's reach ($T is 0700): its directory
  # goes to the shared place, linked from STATE, kept across runs.
  apx_tmpdir SH
  chmod 755 "$SH"
  job_run() { # OUT STATE: a run until the job has said what it sees and left its file
    APX_SHARED_STATE=$SH run_start "$1" "$U/user.apx" --run --state-dir "$2" --grace 1s
    wait_for_text "$1" 'job +\| touched' 10
    kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 10
  }
  job_run "$U/out2" "$U/state"
  jd=$(readlink "$U/state/resources/job")
  if [[ $jd == "$SH"/user-????????????????/job ]] && grep -qE "^job +\| running as nobody in $jd, home " "$U/out2" &&
     [ "$(stat -c %U "$jd")" = nobody ] && [ "$(stat -c %U "$jd/mine")" = nobody ] && [ "$RUN_RC" = 0 ] &&
     grep -qF "job's data: $jd (linked from $U/state/resources/job)" "$U/out2"; then
    ok "local.user: a state directory the user cannot reach: its directory is in the shared place, owned by the user, linked from STATE"
  else
    not_ok "local.user: state directory out of reach (status $RUN_RC, link '$jd')"; show "$U/out2"
  fi
  job_run "$U/out3" "$U/state"
  if [ "$(readlink "$U/state/resources/job")" = "$jd" ] && grep -qE "^job +\| mine$" "$U/out3"; then
    ok "local.user: run 2 finds the same directory in the shared place, with what run 1 left there"
  else
    not_ok "local.user: run 2 in the shared place (link '$(readlink "$U/state/resources/job")')"; show "$U/out3"
  fi
  # A new state directory (the old one deleted) starts afresh: the stale
  # directory in the shared place is removed, as deleting STATE promises.
  rm -rf "$U/state"
  job_run "$U/out4" "$U/state"
  if [ "$(readlink "$U/state/resources/job")" = "$jd" ] && grep -qE "^job +\| running as nobody in $jd" "$U/out4" &&
     ! grep -qE "^job +\| mine$" "$U/out4"; then
    ok "local.user: after the state directory is deleted, the service starts from an empty directory again"
  else
    not_ok "local.user: deleted state directory, stale shared data"; show "$U/out4"
  fi
  # A state directory the user can reach: its directory stays there ...
  chmod 755 "$T"
  job_run "$U/out5" "$U/state2"
  if grep -qE "job +\| running as nobody in $U/state2/resources/job, home " "$U/out5" && [ ! -L "$U/state2/resources/job" ] &&
     [ "$(stat -c %U "$U/state2/resources/job")" = nobody ] && [ "$(stat -c %U "$U/state2/resources/job/mine")" = nobody ]; then
    ok "local.user: as root the process runs as that user, who owns its state directory"
  else
    not_ok "local.user: runs as nobody, owns its directory"; show "$U/out5"; ls -la "$U/state2/resources/job" | diag
  fi
  # ... and when it becomes out of reach, moves to the shared place, data and all.
  chmod 700 "$T"
  job_run "$U/out6" "$U/state2"
  jd2=$(readlink "$U/state2/resources/job")
  if [[ $jd2 == "$SH"/user-????????????????/job ]] && [ "$jd2" != "$jd" ] && grep -qE "^job +\| mine$" "$U/out6" &&
     grep -qE "^job +\| running as nobody in $jd2" "$U/out6"; then
    ok "local.user: a directory made in STATE moves to the shared place with its data once the user cannot reach it"
  else
    not_ok "local.user: move to the shared place (link '$jd2')"; show "$U/out6"
  fi
  # As root, a link in STATE/resources to anywhere but the shared place is
  # refused: root would hand its target to the user.
  mkdir -p "$U/state3/resources" "$T/victim"
  ln -s "$T/victim" "$U/state3/resources/job"
  job_run "$U/out7" "$U/state3"
  if [ "$RUN_RC" = 2 ] && grep -q "$U/state3/resources/job is a link to $T/victim, which is not where aspirec keeps the data of 'job'" "$U/out7" &&
     grep -q "hint: delete the link" "$U/out7" && [ "$(stat -c %U "$T/victim")" = root ] && ! grep -q 'running as' "$U/out7"; then
    ok "local.user: a link in STATE to a directory elsewhere is refused (status 2), the directory left as it was"
  else
    not_ok "local.user: a link elsewhere (status $RUN_RC, owner $(stat -c %U "$T/victim"))"; show "$U/out7"
  fi
  chmod 755 "$T"
else
  ok "# SKIP local.user needs root and a user 'nobody'"
fi
apx_done
