#!/bin/bash
# The first thing to run: install what is missing, build, and compile the
# example shop app (examples/shop.apx) to a Compose project in out/shop.
# usage: bash scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh < /dev/null
bash scripts/build.sh _build < /dev/null

echo
echo "\$ _build/aspirec examples/shop.apx --emit=compose -o out/shop"
rm -rf out/shop
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
echo "Next: validate it with  docker-compose -f out/shop/docker-compose.yaml config -q"
