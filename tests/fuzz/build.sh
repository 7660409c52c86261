#!/bin/bash
# Builds the libFuzzer target tests/fuzz/fuzz_compile.c with clang and
# -fsanitize=fuzzer,address,undefined. The compiler is configured and built
# as usual (configure, then make libaspirec-core.la) in a build directory of
# its own with coverage instrumentation (-fsanitize=fuzzer-no-link), so the
# fuzzer links exactly the modules and libraries Makefile.am says, whatever
# is added later; libtool adds the library's dependencies at the link.
#
# usage: tests/fuzz/build.sh [OUTPUT]      (default: _build-fuzz/fuzz_compile)
#   CC            the compiler (default: clang)
#   EXTRA_CFLAGS  more flags (e.g. -fprofile-instr-generate ...)
#   FUZZ_BUILDDIR where to configure (default: the directory of OUTPUT)
# Needs: clang with its libFuzzer runtime (libclang-rt-14-dev), and what
# scripts/setup.sh installs for the normal build.
set -euo pipefail

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$srcdir/_build-fuzz/fuzz_compile}
mkdir -p "$(dirname "$out")"
out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
bdir=${FUZZ_BUILDDIR:-$(dirname "$out")}
export CC=${CC:-clang}
command -v "$CC" > /dev/null || { echo "build.sh: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 2; }

# UBSan findings abort (-fno-sanitize-recover) so that libFuzzer records them.
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
cflags="-g -O1 -fsanitize=fuzzer-no-link $san ${EXTRA_CFLAGS:-}"
[ -x "$srcdir/configure" ] || (cd "$srcdir" && autoreconf -fi > /dev/null)
mkdir -p "$bdir"
stamp=$bdir/.apx-fuzz-cflags
if [ ! -f "$bdir/Makefile" ] || [ "$(cat "$stamp" 2> /dev/null)" != "$CC $cflags" ]; then
  (cd "$bdir" && "$srcdir/configure" -q --disable-shared CFLAGS="$cflags" LDFLAGS="$san" > configure.log 2>&1) ||
    { tail -n 20 "$bdir/configure.log" >&2; exit 2; }
  echo "$CC $cflags" > "$stamp"
fi
# The generated headers first (BUILT_SOURCES: `make all` would make them first).
read -ra built <<< "$(sed -n 's/^BUILT_SOURCES = //p' "$bdir/Makefile")"
make -s -C "$bdir" "${built[@]}" libaspirec-core.la > "$bdir/make.log" 2>&1 || { tail -n 30 "$bdir/make.log" >&2; exit 2; }

# The target itself, with the paths the library's build uses.
"$CC" -std=c11 $cflags -D_GNU_SOURCE -DAPX_FUZZ_SRCDIR="\"$srcdir\"" -I"$bdir" -I"$srcdir" \
  $(pkg-config --cflags yaml-0.1 libcjson) -c "$srcdir/tests/fuzz/fuzz_compile.c" -o "$bdir/fuzz_compile.o"
(cd "$bdir" && ./libtool --quiet --mode=link "$CC" -fsanitize=fuzzer $san -o "$out" fuzz_compile.o libaspirec-core.la -ldl)
echo "built $out"
