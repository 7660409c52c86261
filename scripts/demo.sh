#!/bin/bash
# The first thing to run: install what is missing, build, compile the example
# shop app (examples/shop.apx) to a Compose project in out/shop, then run the
# whole shop on this machine (PostgreSQL, Redis, the api and the web front end)
# until Ctrl-C. With APX_DEMO_NO_RUN=1 it stops after compiling.
# usage: bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh < /dev/null
# Same configuration as scripts/test.sh, so the two commands share one build.
bash scripts/build.sh --werror _build < /dev/null

echo
echo "\$ _build/aspirec examples/shop.apx --emit=compose -o out/shop"
_build/aspirec examples/shop.apx --emit=compose -o out/shop
echo
echo "\$ ls -la out/shop"
ls -la out/shop
for f in out/shop/* out/shop/.env; do
  [ -f "$f" ] || continue
  n=$(wc -l < "$f")
  echo
  if [ "$n" -gt 60 ]; then echo "----- $f (the first 60 of its $n lines)"; else echo "----- $f ($n line$([ "$n" = 1 ] || echo s))"; fi
  head -n 60 "$f"
done
echo
echo "To deploy with Compose: fill the empty values in out/shop/.env (aspirec keeps them"
echo "when it writes the project again), then: docker-compose -f out/shop/docker-compose.yaml up"
[ "${APX_DEMO_NO_RUN:-}" = 1 ] && exit 0
echo
echo "\$ _build/aspirec examples/shop.apx --run      (Ctrl-C stops it)"
exec _build/aspirec examples/shop.apx --run
