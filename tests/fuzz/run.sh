#!/bin/bash
# Runs the libFuzzer target for SECONDS (default 600).
#
# usage: tests/fuzz/run.sh [SECONDS] [-- LIBFUZZER-OPTIONS...]
#   FUZZER   the binary (default _build-fuzz/fuzz_compile; built by build.sh if absent)
#
# The seed corpus is every .apx of tests/golden/, examples/, stdlib/,
# the Aspire manifests of tests/manifest/ (the input is read as a manifest
# when it starts with `{ "`) and
# tests/fuzz/seeds/ (corners the others miss), and the regression inputs of
# tests/fuzz/regressions/ (not its generators); new inputs accumulate in
# tests/fuzz/corpus-run/corpus (gitignored), so that successive runs go on
# where the last one stopped. An input that crashes, leaks, times out or trips
# a sanitizer is saved under tests/fuzz/corpus-run/artifacts/; copy it to
# tests/fuzz/regressions/ (tests/fuzz/regressions.test.sh replays those).
# The exit status is libFuzzer's: 0 when the run was clean.
set -uo pipefail

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
secs=600
if [ $# -gt 0 ] && [ "$1" != "--" ]; then secs=$1; shift; fi
[ "${1:-}" = "--" ] && shift
case $secs in ''|*[!0-9]*) echo "usage: tests/fuzz/run.sh [SECONDS] [-- LIBFUZZER-OPTIONS...]" >&2; exit 2 ;; esac

fuzzer=${FUZZER:-$srcdir/_build-fuzz/fuzz_compile}
if [ ! -x "$fuzzer" ]; then
  "$srcdir/tests/fuzz/build.sh" "$fuzzer" || exit 2
fi

work=$srcdir/tests/fuzz/corpus-run
seeds=$work/seeds
corpus=$work/corpus
artifacts=$work/artifacts
mkdir -p "$seeds" "$corpus" "$artifacts"
rm -f "$seeds"/*
shopt -s nullglob
for f in "$srcdir"/tests/golden/*.apx "$srcdir"/tests/golden/lib/*.apx "$srcdir"/examples/*.apx \
         "$srcdir"/stdlib/*.apx "$srcdir"/tests/fuzz/seeds/*.apx "$srcdir"/tests/fuzz/regressions/* \
         "$srcdir"/tests/manifest/*.json "$srcdir"/tests/manifest/bad/*.json; do
  case $f in *.md|*.sh) continue ;; esac
  rel=${f#"$srcdir"/}
  cp "$f" "$seeds/${rel//\//_}"
done
shopt -u nullglob

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

echo "fuzzing for ${secs}s: $(ls "$seeds" | wc -l) seeds, $(ls "$corpus" | wc -l) corpus inputs"
# The first corpus directory receives new inputs; the seeds are only read.
"$fuzzer" "$corpus" "$seeds" \
  -dict="$srcdir/tests/fuzz/apx.dict" \
  -max_len=8192 -timeout=5 -rss_limit_mb=2048 \
  -max_total_time="$secs" -print_final_stats=1 -use_value_profile=1 \
  -artifact_prefix="$artifacts/" "$@"
rc=$?
n=$(ls "$artifacts" | wc -l)
if [ "$n" -gt 0 ]; then
  echo "run.sh: $n artifact(s) in $artifacts:"
  ls -l "$artifacts"
fi
exit $rc
