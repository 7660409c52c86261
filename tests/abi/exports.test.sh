#!/bin/bash
# libaspirec.so exports exactly the public interface: the functions that
# include/aspirec.h declares, nothing internal (issue 7). The symbols are the
# defined dynamic ones of the built library (nm -D --defined-only); the
# declared ones come from the header after the preprocessor (no comments).
# Also: a program that uses only the header links and runs against it, and
# one that calls an internal function does not link.
. "$(dirname "$0")/../lib.sh"
apx_tmpdir T

builddir=${APX_BUILDDIR:-$(dirname "${ASPIREC:-$APX_SRCDIR/_build/aspirec}")}
so=$builddir/.libs/libaspirec.so
header=$APX_SRCDIR/include/aspirec.h
CC=${CC:-cc}
for tool in nm "$CC"; do
  command -v "$tool" > /dev/null || { not_ok "$tool is not installed (apt-get install binutils gcc)"; apx_done; exit 1; }
done
if [ ! -f "$so" ]; then not_ok "no shared library at $so (build first)"; apx_done; exit 1; fi

# Linker-made symbols that any shared object may define.
linker='^(_init|_fini|_edata|_end|__bss_start)$'
nm -D --defined-only "$so" | awk '$2 ~ /^[A-Za-z]$/ { print $3 }' | sed 's/@.*//' | grep -Ev "$linker" | sort -u > "$T/exported"
"$CC" -E -P -x c "$header" | grep -o 'apx_[A-Za-z0-9_]*[[:space:]]*(' | sed 's/[[:space:]]*($//' | sort -u > "$T/declared"

nd=$(wc -l < "$T/declared") ne=$(wc -l < "$T/exported")
if [ "$nd" -lt 30 ]; then not_ok "include/aspirec.h: only $nd functions found (parsing the header failed?)"; fi
leaked=$(comm -23 "$T/exported" "$T/declared")
missing=$(comm -13 "$T/exported" "$T/declared")
if [ -z "$leaked" ]; then ok "libaspirec.so exports nothing the header does not declare ($ne symbols)"
else
  not_ok "libaspirec.so exports $(printf '%s\n' "$leaked" | wc -l) symbols include/aspirec.h does not declare"
  printf '%s\n' "$leaked" | diag 20
fi
if [ -z "$missing" ]; then ok "every function include/aspirec.h declares is exported ($nd)"
else
  not_ok "$(printf '%s\n' "$missing" | wc -l) functions declared in include/aspirec.h are not exported"
  printf '%s\n' "$missing" | diag 20
fi

# A user of the public interface links against the library and runs; a
# user of an internal function (apx_diag_print) cannot link.
san=$(grep -qa '__asan_init' "$so" && echo "-fsanitize=address,undefined")
cat > "$T/user.c" << 'C'
#include <stdio.h>
#include "aspirec.h"
int main(void) { printf("%d\n", apx_api_version()); return apx_api_version() == APX_API_VERSION ? 0 : 1; }
C
cat > "$T/internal.c" << 'C'
#include <stdio.h>
void apx_diag_print(void *d, FILE *out);
int main(void) { apx_diag_print(NULL, stdout); return 0; }
C
# shellcheck disable=SC2086  # $san is empty or one flag group
if "$CC" $san -I"$APX_SRCDIR/include" "$T/user.c" -L"$builddir/.libs" -laspirec -o "$T/user" 2> "$T/err" &&
   out=$(LD_LIBRARY_PATH=$builddir/.libs ASAN_OPTIONS=detect_leaks=0 "$T/user") && [ -n "$out" ]; then
  ok "a program using the header links against libaspirec.so and runs (API version $out)"
else
  not_ok "a program using the header links against libaspirec.so and runs"
  diag < "$T/err"
fi
# shellcheck disable=SC2086
if "$CC" $san "$T/internal.c" -L"$builddir/.libs" -laspirec -o "$T/internal" > "$T/err" 2>&1; then
  not_ok "a program calling internal apx_diag_print links against libaspirec.so (it must not)"
elif grep -q 'apx_diag_print' "$T/err"; then
  ok "a program calling internal apx_diag_print does not link (undefined reference)"
else
  not_ok "linking a program calling apx_diag_print failed for another reason"
  diag < "$T/err"
fi
apx_done
