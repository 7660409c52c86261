# shellcheck shell=bash
# Shared by tests/plugins/*.test.sh: installs aspirec into a DESTDIR and
# builds plugins against the installed header through pkg-config, as a
# plugin author outside the tree does.
. "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

# plugins_install DIR: `make install DESTDIR=DIR`; sets P (the installed
# prefix), AX (the installed aspirec) and the pkg-config variables.
plugins_install() {
  local builddir=${APX_BUILDDIR:-$(dirname "$ASPIREC")}
  for tool in make pkg-config "${CC:-cc}" readelf; do
    command -v "$tool" > /dev/null || { not_ok "$tool is not installed (scripts/setup.sh)"; apx_done; }
  done
  if ! make -s -C "$builddir" install DESTDIR="$1" > "$1.log" 2>&1; then
    not_ok "make install DESTDIR=$1 fails"; tail -n 20 "$1.log" | diag; apx_done
  fi
  local prefix
  prefix=$(sed -n 's/^prefix = //p' "$builddir/Makefile")
  P=$1$prefix
  # shellcheck disable=SC2034  # for the tests that source this
  AX=$P/bin/aspirec
  export PKG_CONFIG_PATH=$P/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$1 PKG_CONFIG_LIBDIR=$P/lib/pkgconfig
}

# plugin_cc SRC OUT [CFLAGS...]: the plugin build of doc/plugins.md.
plugin_cc() {
  local src=$1 out=$2; shift 2
  # shellcheck disable=SC2046  # pkg-config prints flags to split
  "${CC:-cc}" -shared -fPIC -std=c11 -Wall -Wextra -Werror "$@" $(pkg-config --cflags aspirec) "$src" -o "$out"
}

# The NEEDED entries of a shared object, one a line.
needed_of() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

# Sanitizer reports in a file (the suite runs on an ASan/UBSan build too).
san_clean() { ! grep -Eq 'AddressSanitizer|LeakSanitizer|runtime error:' "$1"; }
