#!/bin/bash
# The compose benchmark's topologies (gen.py) through --emit=k8s and --emit=helm beside
# --emit=compose: wall time (best of K), peak RSS, output size, with -o DIR (staged files,
# each fsynced and renamed) and to standard output (compile and render only), and the
# instruction count (callgrind) at --callgrind N. No Kubernetes peer runs here (no kompose,
# no helm in Debian or npm): the kubernetes-models validator reading the k8s output is timed
# for scale. A benchmark that prints figures, not a test. See bench/README.md.
#
# usage: bench/compose/kube.sh [--sizes "1000 10000"] [--runs K] [--callgrind N] [--no-validator]
#   ASPIREC   the binary (default: the static -O2 build of bench.sh, _build-bench)
# Writes bench/out/kube/N/ and bench/out/kube/results.md. Needs python3, GNU time;
# valgrind for --callgrind; node and tests/tools/node_modules for the validator.
set -uo pipefail

srcdir=$(cd "$(dirname "$0")/../.." && pwd)
sizes="1000 10000"
runs=3
cg=1000
validator=1
while [ $# -gt 0 ]; do
  case $1 in
    --sizes) sizes=$2; shift 2 ;;
    --runs) runs=$2; shift 2 ;;
    --callgrind) cg=$2; shift 2 ;;
    --no-validator) validator=0; shift ;;
    -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "kube.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
die() { echo "kube.sh: $*" >&2; exit 2; }
command -v python3 > /dev/null || die "python3 is needed"
[ -x /usr/bin/time ] || die "GNU time is needed (apt-get install time)"

if [ -z "${ASPIREC:-}" ]; then
  bdir=$srcdir/_build-bench
  if [ ! -f "$bdir/Makefile" ]; then
    [ -x "$srcdir/configure" ] || (cd "$srcdir" && autoreconf -fi) || die "autoreconf failed"
    mkdir -p "$bdir" && (cd "$bdir" && "$srcdir/configure" --disable-shared CFLAGS="-O2 -g" > configure.log 2>&1) ||
      die "configure failed: see $bdir/configure.log"
  fi
  make -C "$bdir" -s frontend/parser.h frontend/lexer.h > /dev/null 2>&1
  # The health-check probe too: --emit=compose copies it into the project.
  make -C "$bdir" -s aspirec probe/aspirec-probe > "$bdir/make-bench.log" 2>&1 || die "build failed: see $bdir/make-bench.log"
  ASPIREC=$bdir/aspirec
fi
[ -x "$ASPIREC" ] || die "no aspirec at $ASPIREC"

out=$srcdir/bench/out/kube
mkdir -p "$out"
results=$out/results.md

# best_ms CMD...: the best wall time of $runs runs, in ms (one decimal).
best_ms() {
  local best='' t0 t1 w i
  for ((i = 0; i < runs; i++)); do
    t0=$(date +%s%N); "$@" > /dev/null 2>&1; t1=$(date +%s%N)
    w=$(( (t1 - t0) / 1000 ))
    if [ -z "$best" ] || [ "$w" -lt "$best" ]; then best=$w; fi
  done
  awk -v u="$best" 'BEGIN { printf "%.1f", u / 1000 }'
}
rss_mb() { /usr/bin/time -o "$out/time.txt" -f '%M' "$@" > /dev/null 2>&1; awk '{ printf "%.1f", $1 / 1024 }' "$out/time.txt"; }

{
  echo "# aspirec --emit=k8s and --emit=helm beside --emit=compose"
  echo
  echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC'), host: $(uname -srm), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "- aspirec: $ASPIREC; best of $runs runs after a warm-up"
  echo
  echo "| N | target | files | output | -o DIR ms | stdout ms | µs/resource (stdout) | peak RSS MB |"
  echo "|---:|---|---:|---:|---:|---:|---:|---:|"
} > "$results.tmp"
cat "$results.tmp"
for n in $sizes; do
  d=$out/$n
  mkdir -p "$d"
  python3 "$srcdir/bench/compose/gen.py" "$n" -o "$d/app.apx" || die "gen.py $n failed"
  for t in compose k8s helm; do
    args=("$d/app.apx" --emit=$t -p pg_password=bench-Secret-42)
    rm -rf "$d/$t"
    "$ASPIREC" "${args[@]}" -o "$d/$t" 2> "$d/$t.err" || { tail -n 5 "$d/$t.err" >&2; die "aspirec --emit=$t failed on N=$n"; }
    files=$(find "$d/$t" -type f | wc -l)
    kb=$(du -sk "$d/$t" | cut -f1)
    dir_ms=$(best_ms "$ASPIREC" "${args[@]}" -o "$d/$t")
    std_ms=$(best_ms "$ASPIREC" "${args[@]}")
    rss=$(rss_mb "$ASPIREC" "${args[@]}" -o "$d/$t")
    us=$(awk -v m="$std_ms" -v n="$n" 'BEGIN { printf "%.1f", m * 1000 / n }')
    echo "| $n | $t | $files | $((kb / 1024)) MB | $dir_ms | $std_ms | $us | $rss |" | tee -a "$results.tmp"
  done
  if [ "$validator" = 1 ] && [ -d "$srcdir/tests/tools/node_modules/kubernetes-models" ]; then
    v_ms=$(runs=1 best_ms node "$srcdir/tests/tools/validate-k8s.mjs" --quiet "$d/k8s/manifests.yaml" "$d/k8s/secrets.yaml")
    echo "| $n | (kubernetes-models validating the k8s output) | | | | $v_ms | | |" | tee -a "$results.tmp"
  fi
done
if command -v valgrind > /dev/null && [ -n "$cg" ]; then
  d=$out/$cg
  [ -f "$d/app.apx" ] || { mkdir -p "$d"; python3 "$srcdir/bench/compose/gen.py" "$cg" -o "$d/app.apx"; }
  { echo; echo "Instructions (valgrind --tool=callgrind, to stdout, N=$cg):"; } | tee -a "$results.tmp"
  for t in compose k8s helm; do
    valgrind --tool=callgrind --callgrind-out-file="$out/cg.$t" "$ASPIREC" "$d/app.apx" --emit=$t -p pg_password=bench-Secret-42 \
      > /dev/null 2> "$out/cg.$t.err"
    ir=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$out/cg.$t.err")
    echo "- $t: $ir" | tee -a "$results.tmp"
  done
fi
mv "$results.tmp" "$results"
echo
echo "# table written to ${results#"$srcdir"/}"
