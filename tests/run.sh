#!/bin/bash
# The test-suite driver.
# usage: tests/run.sh [--quick] [--list] BUILDDIR [FILTER...]
#   BUILDDIR  the build tree whose aspirec and unit tests are tested (e.g. _build)
#   --quick   leave out tests marked `# apx-test: slow` (the sanitizer pass uses it)
#   FILTER    run only tests whose path contains one of these strings
# Tests are executables printing `ok - …` / `not ok - …` lines (a number may follow
# "ok"); they exit nonzero on failure. Run, in order:
#   BUILDDIR/tests/unit/test_*    C unit tests (check_PROGRAMS)
#   tests/golden.sh               golden outputs and errors
#   tests/validate/*.sh           outputs checked by independent validators
#   tests/*/*.test.sh             any other test
#   tests/compose-up/*.sh         real bring-up under a private dockerd
# A test that exits nonzero (or is killed) without a `not ok` line counts as one
# failure. The last line is `N passed, N failed`; the exit status is nonzero when
# anything failed or nothing passed.
set -u
quick=0 list=0
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1; shift ;;
    --list) list=1; shift ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    --) shift; break ;;
    -*) echo "run.sh: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -ge 1 ] || { echo "usage: tests/run.sh [--quick] [--list] BUILDDIR [FILTER...]" >&2; exit 2; }
builddir=$1; shift
filters=("$@")

APX_SRCDIR=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$builddir" ] || { echo "run.sh: no build directory $builddir" >&2; exit 2; }
APX_BUILDDIR=$(cd "$builddir" && pwd)
ASPIREC=$APX_BUILDDIR/aspirec
export APX_SRCDIR APX_BUILDDIR ASPIREC
cd "$APX_SRCDIR" || exit 2

# Per-test time limit (seconds); a test that hits it is killed and counted failed.
APX_TEST_TIMEOUT=${APX_TEST_TIMEOUT:-600}

# ---- collect ---------------------------------------------------------------
tests=()
add() { local t; for t in "$@"; do [ -f "$t" ] && tests+=("$t"); done; }
shopt -s nullglob
for t in "$APX_BUILDDIR"/tests/unit/test_*; do
  case ${t##*/} in *.*) continue ;; esac      # objects, logs, .trs
  [ -x "$t" ] && tests+=("$t")
done
add tests/golden.sh
add tests/validate/*.sh
for t in tests/*/*.test.sh; do
  case $t in tests/validate/*|tests/compose-up/*) continue ;; esac
  add "$t"
done
add tests/compose-up/*.sh
shopt -u nullglob

selected=()
for t in "${tests[@]}"; do
  if [ ${#filters[@]} -gt 0 ]; then
    hit=0; for f in "${filters[@]}"; do case $t in *"$f"*) hit=1 ;; esac; done
    [ $hit = 1 ] || continue
  fi
  if [ $quick = 1 ]; then
    case $t in *.sh) grep -q '^# apx-test: slow' "$t" && continue ;; esac
  fi
  selected+=("$t")
done
if [ $list = 1 ]; then printf '%s\n' "${selected[@]}"; exit 0; fi

# ---- run ---------------------------------------------------------------------
logdir=$(mktemp -d "${TMPDIR:-/tmp}/apx-run.XXXXXX") || exit 2
trap 'rm -rf "$logdir"' EXIT
passed=0 failed=0
failures=()
label() { case $1 in "$APX_BUILDDIR"/*) echo "${builddir%/}/${1#"$APX_BUILDDIR"/}" ;; *) echo "$1" ;; esac; }

for t in "${selected[@]}"; do
  name=$(label "$t")
  log=$logdir/log
  echo "=== $name"
  start=$(date +%s)
  if [ -x "$t" ] && [ "${t%.sh}" = "$t" ]; then cmd=("$t"); else cmd=(bash "$t"); fi
  # stdin from /dev/null: tests never read the terminal.
  timeout -k 10 "$APX_TEST_TIMEOUT" "${cmd[@]}" < /dev/null 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  p=$(grep -cE '^ok( [0-9]+)?( |$)' "$log")
  f=$(grep -cE '^not ok( [0-9]+)?( |$)' "$log")
  passed=$((passed + p)); failed=$((failed + f))
  while IFS= read -r line; do failures+=("$name: $line"); done < <(grep -E '^not ok( [0-9]+)?( |$)' "$log")
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    case $rc in
      124|137) why="killed after ${APX_TEST_TIMEOUT}s" ;;
      *) if [ "$rc" -gt 128 ]; then why="killed by signal $((rc - 128))"; else why="exited with status $rc"; fi ;;
    esac
    echo "not ok - $name $why without a failing check"
    failed=$((failed + 1)); failures+=("$name: $why without a failing check")
  fi
  [ "$p" -eq 0 ] && [ "$f" -eq 0 ] && [ "$rc" -eq 0 ] && echo "# $name: no checks ran"
  echo "=== $name: $p passed, $f failed, exit $rc, $(( $(date +%s) - start ))s"
done

echo
if [ ${#failures[@]} -gt 0 ]; then
  echo "Failures:"
  printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
