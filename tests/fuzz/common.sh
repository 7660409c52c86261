# shellcheck shell=bash
# Helpers shared by tests/fuzz/*.test.sh (sourced after tests/lib.sh).

# Memory cap for every compile these tests run, so that a runaway input fails
# the check instead of exhausting the machine.
APX_FUZZ_MEM_MB=${APX_FUZZ_MEM_MB:-4096}

# Is $ASPIREC built with AddressSanitizer? (It reserves terabytes of address
# space, so it gets ASan's RSS limit instead of `ulimit -v`.)
apx_is_asan() {
  local f dir
  dir=$(dirname "$ASPIREC")
  for f in "$ASPIREC" "$dir"/.libs/aspirec "$dir"/.libs/lt-aspirec "$dir"/.libs/libaspirec.so; do
    [ -f "$f" ] && grep -qa '__asan_init' "$f" && return 0
  done
  return 1
}
if apx_is_asan; then APX_FUZZ_ASAN=1; else APX_FUZZ_ASAN=0; fi

# GNU time (apt-get install time) measures each compile: user and system CPU
# time and peak RSS. There is no fallback: bash's `time` around a subshell
# that execs reports nothing there, so every run would measure 0 s and the
# linear-time checks would pass without measuring anything.
# need_gnu_time: one `not ok` line and exit when /usr/bin/time is not GNU time.
need_gnu_time() {
  if ! /usr/bin/time -f '%U' true > /dev/null 2>&1; then
    not_ok "GNU time (/usr/bin/time) is missing: nothing can be measured (apt-get install time; scripts/setup.sh installs it)"
    exit 1
  fi
}

# apx_run TIMEOUT STDOUT STDERR ARGS...: runs $ASPIREC ARGS... under the
# memory cap and a time limit, measured by GNU time (need_gnu_time first).
# Sets RC, UTIME (user CPU seconds), SYS and RSS_KB (peak); a run that GNU
# time could not measure (killed by a signal) gets UTIME=0 and no RSS_KB.
apx_run() {
  local tmo=$1 so=$2 se=$3 tf
  shift 3
  tf=$(mktemp "${TMPDIR:-/tmp}/apx-time.XXXXXX")
  local asan_opts=${ASAN_OPTIONS:-}
  [ "$APX_FUZZ_ASAN" = 1 ] && asan_opts="${asan_opts:+$asan_opts:}hard_rss_limit_mb=$APX_FUZZ_MEM_MB"
  (
    [ "$APX_FUZZ_ASAN" = 1 ] || ulimit -v $((APX_FUZZ_MEM_MB * 1024))
    ASAN_OPTIONS=$asan_opts exec /usr/bin/time -o "$tf" -f '%U %S %M' timeout -k 5 "$tmo" "$ASPIREC" "$@" > "$so" 2> "$se"
  )
  RC=$?
  read -r UTIME SYS RSS_KB < <(tail -n 1 "$tf")
  # GNU time reports a killed command as "Command terminated by signal N".
  # shellcheck disable=SC2034  # SYS and RSS_KB are results for the caller
  case ${UTIME:-} in ''|*[!0-9.]*) UTIME=0 SYS=0 RSS_KB='' ;; esac
  rm -f "$tf"
}

# apx_bad_exit_msg: words a run's exit status that is neither 0 nor 1.
apx_bad_exit_msg() {
  if [ "$RC" -eq 124 ] || [ "$RC" -eq 137 ]; then echo "no result within the time limit (hang or superlinear time)"
  elif [ "$RC" -gt 128 ]; then echo "killed by signal $((RC - 128))"
  else echo "exit status $RC"; fi
}

# apx_sanitizer_report FILE: true when FILE holds a sanitizer's report.
apx_sanitizer_report() {
  grep -qE 'AddressSanitizer|LeakSanitizer|UndefinedBehaviorSanitizer|runtime error:|MemorySanitizer|ThreadSanitizer' "$1"
}
