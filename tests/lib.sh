# shellcheck shell=bash
# Shared helpers for aspirec's shell tests. Source it:  . "$(dirname "$0")/../lib.sh"
# Output convention (read by tests/run.sh): one line per check,
#   ok - description          or          not ok - description
# with details on following lines starting with "#". A test exits nonzero when
# any check failed (apx_done does that).

APX_SRCDIR=${APX_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
export APX_SRCDIR
if [ -z "${ASPIREC:-}" ] && [ -x "$APX_SRCDIR/_build/aspirec" ]; then
  ASPIREC=$APX_SRCDIR/_build/aspirec
fi
export ASPIREC
export NO_COLOR=1
# Outputs must not depend on the caller's environment.
for _v in $(compgen -e | grep -E '^(APX_PARAM_|APX_PATH$|APX_PLUGINS$)'); do unset "$_v"; done
unset _v

APX_PASSED=0
APX_FAILED=0

ok() { APX_PASSED=$((APX_PASSED + 1)); printf 'ok - %s\n' "$*"; }
not_ok() { APX_FAILED=$((APX_FAILED + 1)); printf 'not ok - %s\n' "$*"; }
# Prints stdin as TAP comments (at most $1 lines, default 40).
diag() { head -n "${1:-40}" | sed 's/^/#   /'; }
note() { printf '# %s\n' "$*"; }

# check DESCRIPTION COMMAND...: ok if the command succeeds; its output is shown on failure.
check() {
  local desc=$1 out rc; shift
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -eq 0 ]; then ok "$desc"; else not_ok "$desc (exit $rc)"; printf '%s\n' "$out" | diag; fi
  return "$rc"
}
# check_fails DESCRIPTION COMMAND...: ok if the command fails (exit 1..125, not a crash).
check_fails() {
  local desc=$1 out rc; shift
  out=$("$@" 2>&1); rc=$?
  if [ "$rc" -ne 0 ] && [ "$rc" -lt 126 ]; then ok "$desc"
  else not_ok "$desc (exit $rc, expected a failure)"; printf '%s\n' "$out" | diag; fi
}

# Cleanup handlers, run in reverse order on exit (also after INT/TERM).
APX_CLEANUP=()
at_exit() { APX_CLEANUP+=("$*"); }
_apx_run_cleanup() {
  local i
  for ((i = ${#APX_CLEANUP[@]} - 1; i >= 0; i--)); do eval "${APX_CLEANUP[$i]}" || true; done
  APX_CLEANUP=()
}
trap _apx_run_cleanup EXIT
trap '_apx_run_cleanup; exit 130' INT
trap '_apx_run_cleanup; exit 143' TERM

# apx_tmpdir VAR: makes a temporary directory removed at exit, stores its path in VAR.
apx_tmpdir() {
  local d
  d=$(mktemp -d "${TMPDIR:-/tmp}/apx-test.XXXXXX") || { echo "mktemp failed" >&2; exit 2; }
  at_exit "rm -rf '$d'"
  printf -v "$1" '%s' "$d"
}

# need_aspirec: fails the test (one not ok line) if $ASPIREC is not runnable.
need_aspirec() {
  if [ -z "${ASPIREC:-}" ] || [ ! -x "$ASPIREC" ]; then
    not_ok "aspirec not found (set ASPIREC or build into _build): '${ASPIREC:-}'"
    exit 1
  fi
}

# apx_args_of FILE.apx: prints the options of a first-line `// aspirec-args: ...` comment.
apx_args_of() {
  local first
  IFS= read -r first < "$1" || true
  case $first in
    "// aspirec-args:"*) printf '%s\n' "${first#// aspirec-args:}" ;;
  esac
}

# apx_shared_dir: prints the shared folder beside the source tree ($APX_SHARED, else
# ../shared; ../../shared for a git worktree one level deeper), or fails when there is none.
apx_shared_dir() {
  local d
  for d in "${APX_SHARED:-}" "$APX_SRCDIR/../shared" "$APX_SRCDIR/../../shared"; do
    if [ -n "$d" ] && [ -d "$d/examples" ]; then (cd "$d" && pwd); return 0; fi
  done
  return 1
}

# apx_input_rel SRC: SRC as the validators name it: relative to the source tree, or
# shared/NAME for a shared example.
apx_input_rel() {
  case $1 in
    "$APX_SRCDIR"/*) printf '%s\n' "${1#"$APX_SRCDIR"/}" ;;
    *) printf 'shared/%s\n' "${1##*/}" ;;
  esac
}

# apx_input_skip SRC: when SRC is not a program to emit (an example named bad-*, meant to
# fail; a golden input whose NAME.err ends in a nonzero `exit:`), prints why and succeeds;
# otherwise prints nothing and fails. One rule for every validator that walks the inputs.
apx_input_skip() {
  local src=$1 errf last
  case ${src##*/} in bad-*) echo "meant to fail"; return 0 ;; esac
  case $src in
    *.apx)
      errf=${src%.apx}.err
      if [ -f "$errf" ]; then
        last=$(tail -n 1 "$errf")
        [ "$last" = "exit: 0" ] || { echo "$last in ${errf##*/}"; return 0; }
      fi ;;
  esac
  return 1
}

# apx_done: exit status for the test (nonzero when any check failed).
apx_done() {
  [ "$APX_FAILED" -eq 0 ]
  exit $?
}
