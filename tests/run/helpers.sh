# Helpers for the run-mode tests in tests/run/ (small programs in sh and
# python3; nothing mocked). Source after tests/lib.sh:
#   . "$(dirname "$0")/../lib.sh"; . "$(dirname "$0")/helpers.sh"
#
# Every aspirec started here gets APX_TEST_MARK=<unique> in its environment,
# which every process it starts inherits (grandchildren too): that is how a
# test finds what is left of a run, and how the cleanup kills exactly that,
# by pid, and nothing else.

export PYTHONDONTWRITEBYTECODE=1
PY=$(command -v python3)

# py_with MODULE...: a python3 that imports them (python3 on PATH, else
# Debian's /usr/bin/python3, which has the python3-* packages); false if none.
py_with() {
  local p imports
  imports=$(printf 'import %s;' "$@")
  for p in "$PY" /usr/bin/python3; do
    [ -n "$p" ] && "$p" -c "$imports" 2> /dev/null && { echo "$p"; return 0; }
  done
  return 1
}

# mark_pids MARK: pids of live processes (not zombies) whose environment has the mark.
mark_pids() {
  local p st
  for p in /proc/[0-9]*; do
    if grep -qsz "^APX_TEST_MARK=$1\$" "$p/environ" 2> /dev/null; then
      st=$(awk '{print $3}' "$p/stat" 2> /dev/null) || continue
      [ "$st" = Z ] || [ -z "$st" ] || echo "${p#/proc/}"
    fi
  done
}

RUN_MARKS=() RUN_PIDS=()
_run_cleanup() {
  local pid m left
  for pid in "${RUN_PIDS[@]}"; do kill -KILL "$pid" 2> /dev/null; done
  for m in "${RUN_MARKS[@]}"; do
    for _ in 1 2 3; do
      left=$(mark_pids "$m")
      [ -n "$left" ] || break
      # shellcheck disable=SC2086
      kill -KILL $left 2> /dev/null
      sleep 0.2
    done
  done
  for pid in "${RUN_PIDS[@]}"; do wait "$pid" 2> /dev/null; done
  return 0
}
at_exit _run_cleanup

# run_start OUT ARGS...: starts `$ASPIREC ARGS...` in the background with its
# output in OUT; sets RUN_PID and RUN_MARK. SIGINT is deliverable (a
# background job of a script would otherwise ignore it).
run_start() {
  local out=$1; shift
  RUN_MARK=apx-run-test-$$-$RANDOM$RANDOM
  RUN_MARKS+=("$RUN_MARK")
  env --default-signal=INT,TERM APX_TEST_MARK="$RUN_MARK" "$ASPIREC" "$@" > "$out" 2>&1 < /dev/null &
  RUN_PID=$!
  RUN_PIDS+=("$RUN_PID")
}

# wait_for_text FILE REGEX SECONDS: true once FILE has a line matching REGEX
# (grep -E), false after SECONDS.
wait_for_text() {
  local i n=$(($3 * 10))
  for ((i = 0; i < n; i++)); do
    grep -qE -- "$2" "$1" 2> /dev/null && return 0
    sleep 0.1
  done
  return 1
}

# wait_exit PID SECONDS: waits for a background PID; sets RUN_RC (or 999 on timeout).
wait_exit() {
  local i n=$(($2 * 10))
  RUN_RC=999
  for ((i = 0; i < n; i++)); do
    if ! kill -0 "$1" 2> /dev/null; then
      wait "$1" 2> /dev/null
      RUN_RC=$?
      return 0
    fi
    sleep 0.1
  done
  return 1
}

# no_marked_left MARK SECONDS: true once no process of the mark is left.
no_marked_left() {
  local i n=$(($2 * 10))
  for ((i = 0; i <= n; i++)); do
    [ -z "$(mark_pids "$1")" ] && return 0
    sleep 0.1
  done
  return 1
}

# show FILE: the output of a run as TAP comments (on failure).
show() { diag "${2:-60}" < "$1"; }

# now: seconds since the epoch with milliseconds.
now() { date +%s.%N | cut -c1-14; }
