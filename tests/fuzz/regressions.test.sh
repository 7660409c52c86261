#!/bin/bash
# Replays every input of tests/fuzz/regressions/ through $ASPIREC: inputs that
# once crashed the fuzzer (NAME.apx, kept byte for byte) and generators of
# inputs too large to keep (NAME.gen.sh prints the input: deep nesting,
# superlinear cases). One `ok`/`not ok` per file. Each run must:
#   - exit 0 or 1 (never a signal; 2 only for input that is not valid UTF-8),
#     within $APX_REG_TIMEOUT seconds and $APX_FUZZ_MEM_MB MB;
#   - print a diagnostic on stderr when it exits 1;
#   - print no sanitizer report;
#   - exit with N when the file says `apx-expect-exit: N` (in a comment).
# Like the fuzz target (tests/fuzz/fuzz_compile.c), an input is compiled as
# a file beside tests/golden's (so relative imports and file() find them),
# with -I tests/golden/lib, APX_PARAM_REPLICAS=3 and, when it declares
# `param region`, -p region=eu-west; .apx inputs go through the compose, ir
# and dot back ends, generated ones through compose.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/common.sh"
need_aspirec
need_gnu_time

APX_REG_TIMEOUT=${APX_REG_TIMEOUT:-20}
export APX_PARAM_REPLICAS=3   # as the fuzz target sets it (lib.sh cleared APX_PARAM_*)
apx_tmpdir T
regdir=$APX_SRCDIR/tests/fuzz/regressions

# The fuzzer's view: the input is tests/golden/fuzz-input.apx.
mkdir -p "$T/w"
for f in "$APX_SRCDIR"/tests/golden/*; do ln -s "$f" "$T/w/"; done
input=$T/w/fuzz-input.apx

# check_file NAME INPUT EXPECT EMITS...: the checks above; one ok/not ok.
check_file() {
  local name=$1 in=$2 expect=$3 emit utf8=1 why='' seconds=0
  shift 3
  iconv -f UTF-8 -t UTF-8 < "$in" > /dev/null 2>&1 || utf8=0
  local args=(-I "$APX_SRCDIR/tests/golden/lib")
  grep -qa 'param region' "$in" && args+=(-p region=eu-west)
  for emit in "$@"; do
    local eargs=(--emit="$emit")
    [ "$emit" = compose ] && { rm -rf "$T/out"; eargs+=(-o "$T/out"); }
    apx_run "$APX_REG_TIMEOUT" "$T/stdout" "$T/stderr" "$in" "${args[@]}" "${eargs[@]}"
    seconds=$(awk -v a="$seconds" -v b="$UTIME" 'BEGIN { print a + b }')
    if [ "$RC" -gt 2 ] || { [ "$RC" -eq 2 ] && [ "$utf8" = 1 ]; }; then why="$(apx_bad_exit_msg)"
    elif apx_sanitizer_report "$T/stderr"; then why="sanitizer report"
    elif [ "$RC" -eq 1 ] && [ ! -s "$T/stderr" ]; then why="exit 1 without a diagnostic"
    elif [ -n "$expect" ] && [ "$RC" != "$expect" ]; then why="exit $RC, expected $expect"
    fi
    if [ -n "$why" ]; then
      not_ok "regression $name (--emit=$emit): $why${RSS_KB:+, ${RSS_KB} KB peak}"
      cut -c1-200 "$T/stderr" | diag 20
      return
    fi
  done
  ok "regression $name (exit $RC, ${seconds}s${RSS_KB:+, $((RSS_KB / 1024)) MB})"
}

shopt -s nullglob
files=("$regdir"/*)
shopt -u nullglob
n=0
for f in "${files[@]}"; do
  name=${f##*/}
  case $name in
    README*|*.md) continue ;;
    *.gen.sh)
      if ! bash "$f" > "$input" 2> "$T/gen.err"; then
        not_ok "regression $name: the generator failed"; cut -c1-200 "$T/gen.err" | diag; continue
      fi
      expect=$(sed -n 's/^# apx-expect-exit: *\([0-9]\).*/\1/p' "$f" | head -n 1)
      check_file "$name" "$input" "$expect" compose ;;
    *)
      cp "$f" "$input"
      expect=$(head -c 200 "$f" | sed -n 's|^// apx-expect-exit: *\([0-9]\).*|\1|p' | head -n 1)
      check_file "$name" "$input" "$expect" compose ir dot ;;
  esac
  n=$((n + 1))
done
[ "$n" -gt 0 ] || note "no regression inputs in $regdir"
apx_done
