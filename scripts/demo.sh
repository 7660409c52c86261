#!/bin/bash
# The first thing to run: install what is missing, build, and compile the
# example shop app (examples/shop.apx) to a Compose project in out/shop.
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
  echo
  echo "----- $f (first 60 lines of $(wc -l < "$f"))"
  head -n 60 "$f"
done
echo
echo "Next: fill the empty values in out/shop/.env (aspirec keeps them when it writes"
echo "the project again), then check it:  docker-compose -f out/shop/docker-compose.yaml config -q"
