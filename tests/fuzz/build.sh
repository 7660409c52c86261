#!/bin/bash
# Builds the libFuzzer target tests/fuzz/fuzz_compile.c with clang,
# -fsanitize=fuzzer,address,undefined, straight from the sources (no
# configure needed). The scanner and parser are generated with flex and bison
# into a temporary directory, exactly as the Makefile.am rules do.
#
# usage: tests/fuzz/build.sh [OUTPUT]      (default: _build-fuzz/fuzz_compile)
#   CC        the compiler (default: clang)
#   EXTRA_CFLAGS  more flags (e.g. -O2 or -fprofile-instr-generate ...)
# Needs: clang (with its libFuzzer runtime), flex, bison, and the -dev
# packages of libyaml, libcjson and libpcre2 (pkg-config finds them).
set -euo pipefail

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$srcdir/_build-fuzz/fuzz_compile}
CC=${CC:-clang}
FLEX=${FLEX:-flex}
BISON=${BISON:-bison}

for tool in "$CC" "$FLEX" "$BISON" pkg-config; do
  command -v "$tool" > /dev/null || { echo "build.sh: $tool not found (apt-get install clang flex bison pkg-config)" >&2; exit 2; }
done
pkgs=(yaml-0.1 libcjson libpcre2-8 libuv)
pkg-config --exists "${pkgs[@]}" || { echo "build.sh: need ${pkgs[*]} (apt-get install libyaml-dev libcjson-dev libpcre2-dev libuv1-dev)" >&2; exit 2; }

gen=$(mktemp -d "${TMPDIR:-/tmp}/apx-fuzz-gen.XXXXXX")
trap 'rm -rf "$gen"' EXIT
mkdir -p "$gen/frontend" "$(dirname "$out")"

# The same commands as the Makefile.am rules for frontend/parser.c and lexer.c.
"$BISON" -Wall -Werror --defines="$gen/frontend/parser.h" -o "$gen/frontend/parser.c" "$srcdir/frontend/parser.y"
"$FLEX" --header-file="$gen/frontend/lexer.h" -o "$gen/frontend/lexer.c" "$srcdir/frontend/lexer.l"

# The library's sources: every .c of ir/, passes/, backends/ and the front end
# (the same set as libaspirec_core_la_SOURCES; new files are picked up by the glob).
srcs=()
for f in "$srcdir"/base/*.c "$srcdir"/frontend/*.c "$srcdir"/ir/*.c "$srcdir"/passes/*.c "$srcdir"/backends/*.c \
         "$srcdir"/runtime/*.c "$srcdir"/driver/*.c; do
  case ${f##*/} in
    parser.c|lexer.c) continue ;;   # generated (an in-tree build may have left copies)
  esac
  srcs+=("$f")
done
srcs+=("$gen/frontend/parser.c" "$gen/frontend/lexer.c")

# -I"$gen" comes first so that "frontend/parser.h" is the freshly generated one.
# UBSan findings abort (-fno-sanitize-recover) so that libFuzzer records them.
read -ra cflags <<< "$(pkg-config --cflags "${pkgs[@]}") ${EXTRA_CFLAGS:-}"
read -ra libs <<< "$(pkg-config --libs "${pkgs[@]}")"
"$CC" -std=c11 -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
  -D_GNU_SOURCE -DAPX_FUZZ_SRCDIR="\"$srcdir\"" \
  -DAPX_DATADIR="\"$srcdir/stdlib\"" -DAPX_SRCDIR="\"$srcdir\"" \
  -DAPX_PROBE_BUILT="\"$srcdir/_build/probe/aspirec-probe\"" -DAPX_PROBE_INSTALLED="\"/usr/libexec/aspirec/aspirec-probe\"" \
  -I"$gen" -I"$srcdir" \
  "${cflags[@]}" \
  -Wno-unused-function -Wno-sign-compare -Wno-unused-parameter \
  "$srcdir/tests/fuzz/fuzz_compile.c" "${srcs[@]}" \
  "${libs[@]}" -ldl -o "$out"
echo "built $out"
