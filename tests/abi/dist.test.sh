#!/bin/bash
# `make dist`'s tree holds the sources, the examples and the scripts, and
# nothing that tests or npm made (node_modules, tests/out, bench/out), so
# that the tarball can be written in automake's format.
. "$(dirname "$0")/../lib.sh"
need_aspirec
apx_tmpdir T

builddir=${APX_BUILDDIR:-$(dirname "$ASPIREC")}
command -v make > /dev/null || { not_ok "make is not installed"; apx_done; exit 1; }
D=$T/aspirec-dist
if make -s -C "$builddir" distdir distdir="$D" > "$T/log" 2>&1; then ok "make distdir succeeds"
else not_ok "make distdir fails"; tail -n 20 "$T/log" | diag; apx_done; exit 1; fi

made=$(find "$D" \( -name node_modules -o -path "$D/tests/out" -o -path "$D/bench/out" \) -prune -print | head -n 5)
if [ -z "$made" ]; then ok "the dist tree holds no node_modules, tests/out or bench/out"
else not_ok "the dist tree holds what tests made:"; echo "$made" | diag; fi

missing=
for f in configure Makefile.in README.md scripts/setup.sh scripts/build.sh examples/shop.apx \
         tests/run.sh tests/tools/package-lock.json frontend/parser.y stdlib/postgres.apx \
         dashboard/assets/index.html dashboard/otlp_proto/otlp.proto; do
  [ -e "$D/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "the dist tree holds configure, the scripts, the examples, the tests and their lockfile"
else not_ok "missing from the dist tree:$missing"; fi

# automake's default format (tar -o: v7, 99-byte names) is what `make dist` writes.
if (cd "$T" && tar chof - aspirec-dist > /dev/null 2> "$T/tar.log"); then ok "the dist tree fits automake's tar format"
else not_ok "tar cannot write the dist tree"; head -n 5 "$T/tar.log" | diag; fi
apx_done
