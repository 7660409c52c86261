#!/bin/bash
# Builds aspirec out of tree, with its unit tests.
# usage: bash scripts/build.sh [--werror] [--sanitize] [BUILDDIR]
#   --werror    configure --enable-werror (warnings are errors)
#   --sanitize  configure --enable-sanitizers (ASan + UBSan); BUILDDIR defaults to _build-san
#   BUILDDIR    default _build (relative to the source tree, or absolute)
# Runs autoreconf -fi only when configure is missing or older than its inputs,
# and configure only when BUILDDIR has no Makefile or was configured with other options.
set -euo pipefail
srcdir=$(cd "$(dirname "$0")/.." && pwd)
cd "$srcdir"

werror=0 sanitize=0 builddir=
for a in "$@"; do
  case $a in
    --werror) werror=1 ;;
    --sanitize) sanitize=1 ;;
    -h|--help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "build.sh: unknown option $a" >&2; exit 2 ;;
    *) builddir=$a ;;
  esac
done
[ -n "$builddir" ] || { [ $sanitize = 1 ] && builddir=_build-san || builddir=_build; }
jobs=${APX_JOBS:-2}

say() { printf 'build: %s\n' "$*"; }

# autoreconf when configure is missing or stale
stale=0
[ -x configure ] || stale=1
for f in configure.ac Makefile.am; do [ "$f" -nt configure ] && stale=1; done
if [ $stale = 1 ]; then
  say "autoreconf -fi"
  autoreconf -fi > /tmp/apx-autoreconf.$$.log 2>&1 || { cat /tmp/apx-autoreconf.$$.log >&2; rm -f /tmp/apx-autoreconf.$$.log; exit 1; }
  rm -f /tmp/apx-autoreconf.$$.log
fi

opts=()
[ $werror = 1 ] && opts+=(--enable-werror)
[ $sanitize = 1 ] && opts+=(--enable-sanitizers)
mkdir -p "$builddir"
cd "$builddir"
want="${opts[*]}"
have=$(cat .apx-configure-options 2> /dev/null || echo '<none>')
if [ ! -f Makefile ] || [ ! -f config.status ] || [ "$have" != "$want" ] || [ "$srcdir/configure" -nt config.status ]; then
  say "configure ${want:-(defaults)} in $builddir"
  "$srcdir/configure" -q "${opts[@]}" || { echo "build.sh: configure failed, see $builddir/config.log" >&2; exit 1; }
  # Objects built with other flags would not be rebuilt by make: start clean.
  if [ "$have" != '<none>' ] && [ "$have" != "$want" ]; then say "options changed: make clean"; make -s clean > /dev/null; fi
  printf '%s\n' "$want" > .apx-configure-options
fi

say "make -j$jobs in $builddir"
make -j"$jobs" -s
# The unit tests (check_PROGRAMS) too, without running anything: a rule read
# from stdin after the Makefile names them as prerequisites.
if grep -q '^check_PROGRAMS = ..*' Makefile; then
  say "make unit tests"
  printf 'apx-build-check: $(check_PROGRAMS)\n' | make -j"$jobs" -s -f Makefile -f - apx-build-check
fi
say "done: $builddir/aspirec"
