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

# GNU time (apt-get install time) gives the peak RSS too; without it, the
# shell's `time` gives CPU times only.
if /usr/bin/time -f '' true 2> /dev/null; then APX_GNU_TIME=/usr/bin/time; else APX_GNU_TIME=; fi

# apx_run TIMEOUT STDOUT STDERR ARGS...: runs $ASPIREC ARGS... under the
# memory cap and a time limit. Sets RC, UTIME (user CPU seconds), SYS and
# RSS_KB (peak, or empty without GNU time).
apx_run() {
  local tmo=$1 so=$2 se=$3 tf
  shift 3
  tf=$(mktemp "${TMPDIR:-/tmp}/apx-time.XXXXXX")
  local asan_opts=${ASAN_OPTIONS:-}
  [ "$APX_FUZZ_ASAN" = 1 ] && asan_opts="${asan_opts:+$asan_opts:}hard_rss_limit_mb=$APX_FUZZ_MEM_MB"
  if [ -n "$APX_GNU_TIME" ]; then
    (
      [ "$APX_FUZZ_ASAN" = 1 ] || ulimit -v $((APX_FUZZ_MEM_MB * 1024))
      ASAN_OPTIONS=$asan_opts exec "$APX_GNU_TIME" -o "$tf" -f '%U %S %M' timeout -k 5 "$tmo" "$ASPIREC" "$@" > "$so" 2> "$se"
    )
    RC=$?
    read -r UTIME SYS RSS_KB < <(tail -n 1 "$tf")
  else
    local TIMEFORMAT='%3U %3S'
    {
      time (
        [ "$APX_FUZZ_ASAN" = 1 ] || ulimit -v $((APX_FUZZ_MEM_MB * 1024))
        ASAN_OPTIONS=$asan_opts exec timeout -k 5 "$tmo" "$ASPIREC" "$@" > "$so" 2> "$se"
      )
    } 2> "$tf"
    RC=$?
    read -r UTIME SYS < <(tail -n 1 "$tf")
    RSS_KB=
  fi
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
