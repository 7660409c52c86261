#!/bin/bash
# Runs the shop (examples/shop.apx) on this machine with `aspirec --run`.
# On a fresh Debian 12 machine it first installs what is missing:
#   - the shop's servers and libraries: postgresql redis-server python3
#     python3-psycopg2 python3-redis;
#   - when there is no aspirec yet: the build dependencies (the list in
#     scripts/setup.sh), then builds it into _build (scripts/build.sh).
# Then: aspirec examples/shop.apx --run [ARGS...]   (Ctrl-C stops everything)
#
# usage: bash examples/shop/run.sh [--state-dir DIR] [--grace 10s] ...
# ASPIREC=/path/to/aspirec uses that one. apt-get runs as root, or with sudo.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
export DEBIAN_FRONTEND=noninteractive

say() { printf 'shop: %s\n' "$*" >&2; }
installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2> /dev/null | grep -q '^ii'; }
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo > /dev/null; then sudo DEBIAN_FRONTEND=noninteractive "$@"
  else say "need root to run: $*"; exit 1
  fi
}
updated=0
apt_install() { # PACKAGE...: installs those that are missing
  local p missing=()
  for p in "$@"; do installed "$p" || missing+=("$p"); done
  [ ${#missing[@]} -gt 0 ] || return 0
  command -v apt-get > /dev/null || { say "not a Debian system: install ${missing[*]} by hand"; exit 1; }
  if [ $updated = 0 ]; then say "apt-get update"; as_root apt-get update -qq; updated=1; fi
  say "installing ${missing[*]}"
  # policy-rc.d keeps the packages from starting their system services
  # (a PostgreSQL or Redis of the system would only take memory; aspirec
  # runs its own, in its state directory).
  local policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    as_root sh -c 'printf "#!/bin/sh\nexit 101\n" > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d'
    policy=1
  fi
  as_root apt-get install -y -q --no-install-recommends "${missing[@]}" < /dev/null || {
    [ $policy = 0 ] || as_root rm -f /usr/sbin/policy-rc.d; exit 1; }
  [ $policy = 0 ] || as_root rm -f /usr/sbin/policy-rc.d
}

# 1. What the shop runs on.
apt_install postgresql redis-server python3 python3-psycopg2 python3-redis

# 2. aspirec: $ASPIREC, the build tree's, one on PATH, or build it.
aspirec=${ASPIREC:-}
if [ -z "$aspirec" ]; then
  if [ -x "$top/_build/aspirec" ]; then aspirec=$top/_build/aspirec
  elif command -v aspirec > /dev/null; then aspirec=$(command -v aspirec)
  fi
fi
if [ -z "$aspirec" ]; then
  say "no aspirec yet: building it into _build"
  build_pkgs=()
  eval "$(sed -n '/^build_pkgs=(/,/)/p' "$top/scripts/setup.sh")"
  if [ ${#build_pkgs[@]} -gt 0 ]; then apt_install "${build_pkgs[@]}"
  else as_root bash "$top/scripts/setup.sh"
  fi
  bash "$top/scripts/build.sh" _build >&2
  aspirec=$top/_build/aspirec
fi
if ! "$aspirec" --help 2>&1 | grep -q -- '--run'; then
  say "$aspirec has no run mode (--run); rebuild it: bash scripts/build.sh"
  exit 2
fi

# 3. Run. (As root, PostgreSQL runs as the postgres user; when that user
# cannot reach examples/.aspirec, aspirec keeps its data in /var/lib/aspirec.)
# The python3 on PATH runs the services (they find Debian's
# psycopg2 and redis even when that python3 is another build of 3.11).
say "starting: $aspirec examples/shop.apx --run $*"
cd "$top"
exec "$aspirec" examples/shop.apx --run -I "$top/stdlib" "$@"
