#!/bin/bash
# Run-mode benchmark (issue 3, item 10): aspirec --run beside supervisord and
# foreman, in one run, on the same workload:
#   - start N (100) small listeners, each on its own port (bench/run/listener.c;
#     aspirec gives each a tcp health check): time from launch until all ports
#     accept (polled every 1 ms), until aspirec reports all healthy, and the time
#     the processes take by themselves (bench/run/launch.c: posix_spawn of
#     each, no supervisor);
#   - peak memory (RSS) of each supervisor's own processes;
#   - log throughput: 10 noisy processes writing 100 MB in total, through each
#     supervisor to a file, every line checked.
# Prints a table, and aspirec's figures against the goals: under 2 ms added per
# resource, under 10 MB peak memory, at least 200 MB/s of logs.
#
# usage: bash bench/run/bench.sh [-n N] [--rounds R] [--log-mb MB] [--noisy M]
#                                [--interval 25ms] [--only direct,aspirec,supervisord,foreman]
#                                [--skip-start] [--skip-logs]
# ASPIREC: the aspirec to measure (default _build/aspirec). Installs supervisor
# and ruby-foreman (apt-get) when missing; writes its programs and configs to
# bench/out/run/ (gitignored); stops every process it started, also on Ctrl-C.
set -euo pipefail
case " $* " in *" -h "*|*" --help "*)
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
  echo "Options after those go to bench/run/bench.py (python3 bench/run/bench.py --help)."
  exit 0 ;;
esac
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
export DEBIAN_FRONTEND=noninteractive

say() { printf 'bench: %s\n' "$*"; }
installed() { dpkg-query -W -f='${db:Status-Abbrev}' "$1" 2> /dev/null | grep -q '^ii'; }

missing=()
for p in supervisor ruby-foreman python3 gcc libc6-dev time; do installed "$p" || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "bench: need root to install ${missing[*]} (or install them)" >&2; exit 1; }
  say "installing ${missing[*]}"
  apt-get update -qq
  # Keep the supervisor package from starting its system service.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -q --no-install-recommends "${missing[@]}" < /dev/null > /tmp/apx-bench-apt.log 2>&1 ||
    { tail -n 20 /tmp/apx-bench-apt.log >&2; exit 1; }
fi

ASPIREC=${ASPIREC:-$top/_build/aspirec}
case $ASPIREC in /*) ;; *) ASPIREC=$top/$ASPIREC ;; esac
args=()
if [ ! -x "$ASPIREC" ]; then
  say "no aspirec at $ASPIREC (bash scripts/build.sh): measuring the others only"
elif ! "$ASPIREC" --help 2>&1 | grep -q -- '--run'; then
  say "$ASPIREC has no run mode (--run): measuring the others only"
else
  # A build tree's aspirec is libtool's wrapper script (bash, then exec of
  # .libs/aspirec): measure the program itself, not a bash start-up.
  d=$(dirname "$ASPIREC")
  if head -c 200 "$ASPIREC" | grep -q 'temporary wrapper script' && [ -x "$d/.libs/aspirec" ]; then
    export LD_LIBRARY_PATH=$d/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    ASPIREC=$d/.libs/aspirec
  fi
  say "measuring $ASPIREC"
  args+=(--aspirec "$ASPIREC")
fi

out=$top/bench/out/run
mkdir -p "$out"
# The workload, in C: the listener static if the C library allows (the
# smallest start time), and the noisy writer (never the bottleneck).
if ! cc -O2 -static -o "$out/listener" bench/run/listener.c 2> /dev/null; then
  cc -O2 -o "$out/listener" bench/run/listener.c
fi
cc -O2 -o "$out/noisy" bench/run/noisy.c
cc -O2 -o "$out/launch" bench/run/launch.c

say "$(nproc) CPUs, $(uname -sr), supervisord $(supervisord --version), foreman $(foreman version)"
python3 bench/run/bench.py --out "$out" --listener "$out/listener" --noisy-bin "$out/noisy" --launch "$out/launch" "${args[@]}" "$@"
