# shellcheck shell=bash
# Helpers for the run-mode tests in tests/run-shop/. Source after tests/lib.sh:
#   . "$(dirname "$0")/../lib.sh"; . "$(dirname "$0")/lib-run.sh"
# Starts `aspirec … --run` in the background with a tag in its environment,
# finds the processes of the run (descendants, the tag, the state directory),
# and at exit stops aspirec and kills whatever of the run is left.

RS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RS_TOOL=$RS_DIR/shoptool.py
export PYTHONDONTWRITEBYTECODE=1
# The resources' own timestamps (PostgreSQL's, Redis's, the shop's) in one zone.
export TZ=UTC

tool() { python3 "$RS_TOOL" "$@"; }

# need_run_mode: one `not ok` line and exit when aspirec has no run mode.
need_run_mode() {
  need_aspirec
  if ! "$ASPIREC" --help 2>&1 | grep -q -- '--run'; then
    not_ok "run mode not available ($ASPIREC --help shows no --run)"
    exit 1
  fi
}

# need_cmds CMD...: one `not ok` line and exit when a command is missing.
need_cmds() {
  local c miss=()
  for c in "$@"; do command -v "$c" > /dev/null 2>&1 || miss+=("$c"); done
  if [ ${#miss[@]} -gt 0 ]; then
    not_ok "missing ${miss[*]} (bash scripts/setup.sh installs what the tests need)"
    exit 1
  fi
}

# rs_tmpdir VAR: a temporary directory that PostgreSQL's user can traverse.
rs_tmpdir() {
  apx_tmpdir "$1"
  chmod 755 "${!1}"
}

# Every run started here, so that cleanup finds their processes.
RS_TAGS=() RS_DIRS=() RS_PIDS=()
_rs_cleanup() {
  local pid i left
  for pid in "${RS_PIDS[@]}"; do
    kill -0 "$pid" 2> /dev/null || continue
    kill -TERM "$pid" 2> /dev/null
    for i in $(seq 150); do rs_exited "$pid" && break; sleep 0.1; done
    kill -KILL "$pid" 2> /dev/null
  done
  for i in "${!RS_TAGS[@]}"; do
    for _ in 1 2 3; do
      left=$(tool procs 0 "${RS_TAGS[$i]}" "${RS_DIRS[$i]}" | awk '{print $1}')
      [ -n "$left" ] || break
      # shellcheck disable=SC2086
      kill -KILL $left 2> /dev/null
      sleep 0.3
    done
  done
  for pid in "${RS_PIDS[@]}"; do wait "$pid" 2> /dev/null; done
  return 0
}

# rs_exited PID: true when PID is gone or a zombie (ps: rs_start checks it is there).
rs_exited() {
  local st
  st=$(ps -o stat= -p "$1" 2> /dev/null) || return 0
  case $st in ''|Z*) return 0 ;; esac
  return 1
}

# rs_start OUTFILE DIR ARGS...: starts `$ASPIREC ARGS...` in the background
# (stdout and stderr to OUTFILE, SIGINT not ignored, as at a terminal), with
# APX_TEST_TAG in its environment; DIR is the run's directory (state dir or
# its parent) for finding processes. Sets RS_PID and RS_TAG.
rs_start() {
  local out=$1 dir=$2; shift 2
  # rs_exited asks ps: without it every process would read as exited.
  need_cmds ps
  RS_TAG=rs-$$-$RANDOM$RANDOM
  # Registered at the first start, so that it runs before the removal of
  # the temporary directories registered earlier (handlers run in reverse).
  [ ${#RS_PIDS[@]} -gt 0 ] || at_exit _rs_cleanup
  env --default-signal=INT,QUIT APX_TEST_TAG="$RS_TAG" "$ASPIREC" "$@" > "$out" 2>&1 < /dev/null &
  RS_PID=$!
  RS_PIDS+=("$RS_PID") RS_TAGS+=("$RS_TAG") RS_DIRS+=("$dir")
}

# rs_up OUT DIR LABEL UP ARGS...: starts the shop (rs_start OUT DIR ARGS...),
# waits up to UP seconds for the api, then until web answers through to the
# api; sets WEB (base URL), API_PID and WEB_PID, says `ok - LABEL: up …`.
# Returns 1 after a `not ok` line on failure.
rs_up() {
  local out=$1 dir=$2 label=$3 up=$4 port msg; shift 4
  rs_start "$out" "$dir" "$@"
  API_PID=$(rs_wait_pid 'app[.]py' "$up") || { not_ok "$label: the api never started"; rs_show "$out"; return 1; }
  WEB_PID=$(rs_wait_pid 'server[.]py' 60) || { not_ok "$label: the web front end never started"; rs_show "$out"; return 1; }
  port=$(tool env "$WEB_PID" PORT) || { not_ok "$label: web has no PORT in its environment"; return 1; }
  WEB=http://127.0.0.1:$port
  if ! msg=$(tool wait-http "$WEB/api/healthz" 60); then
    not_ok "$label: the shop does not answer at $WEB/api/healthz"; echo "$msg" | diag; rs_show "$out"; return 1
  fi
  ok "$label: up (web at $WEB, api, db and cache healthy)"
}

# rs_procs: the live processes of the last run (`pid start uid cwd cmdline`).
rs_procs() { tool procs "$RS_PID" "$RS_TAG" "${RS_DIRS[${#RS_DIRS[@]} - 1]}"; }
# rs_pidstarts: the same as `pid:start` words.
rs_pidstarts() { rs_procs | awk '{print $1 ":" $2}'; }

# rs_find REGEX: pid of the (first) process of the run whose command line matches.
rs_find() { rs_procs | awk -v re="$1" '{ c = ""; for (i = 5; i <= NF; i++) c = c " " $i; if (c ~ re) { print $1; exit } }'; }

# rs_wait_pid REGEX SECONDS [NOTPID]: waits for such a process (other than NOTPID); prints its pid.
rs_wait_pid() {
  local re=$1 secs=$2 not=${3:-} pid end=$((SECONDS + $2))
  while [ $SECONDS -lt $end ]; do
    pid=$(rs_find "$re")
    if [ -n "$pid" ] && [ "$pid" != "$not" ]; then echo "$pid"; return 0; fi
    rs_exited "$RS_PID" && return 1
    sleep 0.2
  done
  return 1
}

# rs_wait_exit PID SECONDS: waits until PID exits; status 1 on timeout.
rs_wait_exit() {
  local end=$((SECONDS + $2))
  while ! rs_exited "$1"; do
    [ $SECONDS -lt $end ] || return 1
    sleep 0.1
  done
}

# rs_wait_gone SECONDS PID:START...: waits until none of them runs; prints those left.
rs_wait_gone() {
  local secs=$1 left; shift
  local end=$(($(date +%s%N) / 1000000 + secs * 1000))
  while :; do
    left=$(tool alive "$@")
    [ -z "$left" ] && return 0
    [ $(($(date +%s%N) / 1000000)) -lt $end ] || { printf '%s\n' "$left"; return 1; }
    sleep 0.1
  done
}

# rs_wait_output FILE REGEX SECONDS: waits until FILE has a line matching REGEX (grep -E).
rs_wait_output() {
  local end=$((SECONDS + $3))
  while ! grep -qE -- "$2" "$1" 2> /dev/null; do
    [ $SECONDS -lt $end ] || return 1
    rs_exited "$RS_PID" && { grep -qE -- "$2" "$1" 2> /dev/null; return; }
    sleep 0.2
  done
}

# rs_show FILE [N]: the last N lines (40) of FILE as test comments.
rs_show() { tail -n "${2:-40}" "$1" | cut -c1-300 | diag "${2:-40}"; }

# rs_stop: SIGINT to aspirec, waits up to 30 s, then cleanup kills what is left.
rs_stop() {
  kill -INT "$RS_PID" 2> /dev/null
  rs_wait_exit "$RS_PID" 30 || kill -KILL "$RS_PID" 2> /dev/null
  wait "$RS_PID" 2> /dev/null
}
