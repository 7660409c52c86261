#!/bin/bash
# `make install DESTDIR=...` installs the program, the shared library with
# its header and pkg-config file, the standard library and the man page; the
# installed program runs without the build tree's libraries (it links the
# compiler statically), and a program built against the installed header
# and library runs (issue 7).
. "$(dirname "$0")/../lib.sh"
need_aspirec
apx_tmpdir T

builddir=${APX_BUILDDIR:-$(dirname "$ASPIREC")}
CC=${CC:-cc}
command -v make > /dev/null || { not_ok "make is not installed"; apx_done; exit 1; }
D=$T/root
if make -s -C "$builddir" install DESTDIR="$D" > "$T/log" 2>&1; then ok "make install DESTDIR=... succeeds"
else not_ok "make install DESTDIR=... fails"; tail -n 20 "$T/log" | diag; apx_done; exit 1; fi

prefix=$(sed -n 's/^prefix = //p' "$builddir/Makefile")
P=$D$prefix
missing=
for f in bin/aspirec include/aspirec.h include/aspirec/plugin.h lib/libaspirec.so lib/pkgconfig/aspirec.pc share/aspirec/postgres.apx \
         share/man/man1/aspirec.1 share/doc/aspirec/plugins.md share/doc/aspirec/examples/plugins/systemd/Makefile; do
  [ -e "$P/$f" ] || missing="$missing $f"
done
if [ -z "$missing" ]; then ok "installed: aspirec, libaspirec.so, aspirec.h, aspirec/plugin.h, aspirec.pc, the stdlib, the man page, doc and example plugins"
else not_ok "not installed under $prefix:$missing"; fi

if ldd "$P/bin/aspirec" | grep -q 'libaspirec'; then
  not_ok "the installed aspirec needs libaspirec.so"; ldd "$P/bin/aspirec" | diag
elif out=$(env -u LD_LIBRARY_PATH ASAN_OPTIONS=detect_leaks=0 "$P/bin/aspirec" --version) && [ -n "$out" ]; then
  ok "the installed aspirec runs on its own ($out)"
else
  not_ok "the installed aspirec does not run"
fi

cat > "$T/user.c" << 'C'
#include <stdio.h>
#include <aspirec.h>
int main(int argc, char **argv) {
  apx_api_compilation *c = apx_api_compile(argv[1], NULL, 0, NULL, 0);
  printf("%zu resources, %zu errors\n", apx_module_resource_count(apx_api_module(c)), apx_api_errors(c));
  int bad = apx_api_errors(c) != 0 || argc < 2;
  apx_api_free(c);
  return bad;
}
C
printf 'container web { image = "nginx:1.27"  endpoint http { target_port = 80 } }\n' > "$T/app.apx"
san=$(grep -qa '__asan_init' "$P/lib/libaspirec.so" && echo "-fsanitize=address,undefined")
# shellcheck disable=SC2086
if "$CC" $san -I"$P/include" "$T/user.c" -L"$P/lib" -laspirec -o "$T/user" 2> "$T/err" &&
   out=$(LD_LIBRARY_PATH=$P/lib ASAN_OPTIONS=detect_leaks=0 "$T/user" "$T/app.apx") && [ "$out" = "1 resources, 0 errors" ]; then
  ok "a program built against the installed header and library compiles a program ($out)"
else
  not_ok "a program built against the installed header and library compiles a program (got '${out:-}')"
  diag < "$T/err"
fi
apx_done
