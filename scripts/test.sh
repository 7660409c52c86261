#!/bin/bash
# The whole check, as CI runs it (.ci/run):
#   1. scripts/setup.sh                      install what is missing
#   2. build --werror in _build              and run tests/run.sh _build (every test)
#   3. build --werror --sanitize in _build-san
#                                            and run tests/run.sh --quick _build-san under
#                                            ASan/UBSan (tests marked slow run only in 2)
# The last line is `N passed, N failed`, totals over both runs (a failed setup or
# build counts as one failure); the exit status is nonzero if anything failed
# or nothing passed.
# usage: bash scripts/test.sh [FILTER...]     (FILTERs go to tests/run.sh)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
export DEBIAN_FRONTEND=noninteractive
start=$(date +%s)
passed=0 failed=0
problems=()
logdir=$(mktemp -d "${TMPDIR:-/tmp}/apx-test-sh.XXXXXX") || exit 2
trap 'rm -rf "$logdir"' EXIT

section() { printf '\n##### %s (%ss)\n' "$*" "$(( $(date +%s) - start ))"; }
fail_step() { failed=$((failed + 1)); problems+=("$1"); echo "not ok - $1"; }

# Runs the suite; hides inner `N passed, N failed` lines so that only the
# final line of this script reads that way; adds the suite's counts.
suite() { # LABEL run.sh-args...
  local label=$1 last p f; shift
  bash tests/run.sh "$@" 2>&1 | tee "$logdir/suite.log" |
    sed -u -E 's/^([0-9]+ passed, [0-9]+ failed)/[suite] \1/'
  last=$(grep -E '^[0-9]+ passed, [0-9]+ failed$' "$logdir/suite.log" | tail -n 1)
  if [ -z "$last" ]; then fail_step "$label: tests/run.sh ended without a summary"; return; fi
  p=${last%% passed*}; f=${last#*passed, }; f=${f%% failed*}
  passed=$((passed + p)); failed=$((failed + f))
  [ "$f" -eq 0 ] || problems+=("$label: $f failed")
  [ "$p" -gt 0 ] || problems+=("$label: nothing passed")
}

section "setup"
if ! bash scripts/setup.sh < /dev/null; then
  fail_step "scripts/setup.sh failed"
  echo "$passed passed, $failed failed"; exit 1
fi

section "build --werror (_build)"
if bash scripts/build.sh --werror _build < /dev/null; then
  section "tests (_build)"
  suite "_build" _build "$@"
else
  fail_step "build --werror _build failed"
fi

section "build --werror --sanitize (_build-san)"
if bash scripts/build.sh --werror --sanitize _build-san < /dev/null; then
  section "tests under ASan/UBSan (_build-san, --quick)"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    suite "_build-san" --quick _build-san "$@"
else
  fail_step "build --werror --sanitize _build-san failed"
fi

section "summary"
if [ ${#problems[@]} -gt 0 ]; then printf '  %s\n' "${problems[@]}"; fi
echo "total time $(( $(date +%s) - start ))s"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
