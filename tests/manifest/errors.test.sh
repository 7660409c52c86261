#!/bin/bash
# Hostile manifests: each tests/manifest/bad/NAME.json compiled (--emit=ir,
# NO_COLOR=1, from tests/manifest so paths are stable) against NAME.err, its
# expected messages and `exit: N`: wrong types, unknown resources, bindings
# and properties in expressions, references to skipped (Azure) resources,
# a cycle of connection strings, JSON syntax errors, text after the JSON.
# Then generated ones: 10 MB of `[`, 10 MB of nested objects, 900 levels of
# nesting inside a valid manifest, a 1 MB string, 20,000 resources: one
# located error (or none), exit 1 (or 0), no crash, and no output file.
# `--update` rewrites the .err files.
. "$(dirname "$0")/../lib.sh"
need_aspirec
update=0; [ "${1:-}" = --update ] && update=1
cd "$APX_SRCDIR/tests/manifest" || exit 1
apx_tmpdir tmp

for src in bad/*.json; do
  exp=${src%.json}.err
  { NO_COLOR=1 "$ASPIREC" "$src" --emit=ir 2>&1 > /dev/null; echo "exit: $?"; } > "$tmp/err"
  if [ $update = 1 ]; then cp "$tmp/err" "$exp"; fi
  if [ ! -f "$exp" ]; then not_ok "$src: no $exp (run with --update)"; continue; fi
  if diff -u "$exp" "$tmp/err" > "$tmp/diff"; then ok "$src: located errors as in ${exp##*/}"
  else not_ok "$src differs from ${exp##*/}"; diag 40 < "$tmp/diff"; fi
done

# deep NAME FILE WANT-EXIT WANT-REGEX: compiles FILE to compose; checks the
# exit status, the message and that no file was written.
deep() {
  local name=$1 file=$2 want=$3 re=$4 rc
  NO_COLOR=1 "$ASPIREC" "$file" --emit=compose -o "$tmp/out-$name" > "$tmp/$name.log" 2>&1
  rc=$?
  if [ $rc = "$want" ] && grep -qE "$re" "$tmp/$name.log" && { [ $want = 0 ] || [ ! -e "$tmp/out-$name" ]; }; then
    ok "$name: exit $rc, $(grep -cE ': (error|warning): ' "$tmp/$name.log") diagnostic(s)"
  else
    not_ok "$name: exit $rc (want $want), or no match for /$re/"; head -c 2000 "$tmp/$name.log" | diag 10
  fi
}
python3 -c "import sys; sys.stdout.write('[' * (10 * 1024 * 1024))" > "$tmp/brackets.json"
deep "10 MB of [" "$tmp/brackets.json" 1 '^[^ ]*brackets.json:1:1001: error: JSON nested more than 1000 deep'
python3 -c "import sys; sys.stdout.write('{\"a\":' * (2 * 1024 * 1024))" > "$tmp/objects.json"
deep "10 MB of nested objects" "$tmp/objects.json" 1 'objects.json:1:[0-9]+: error: JSON nested more than 1000 deep'
python3 -c "import sys; sys.stdout.write('{\"resources\": {\"a\": {\"type\": \"container.v0\", \"image\": \"i\", \"env\": {\"X\": ' + '[' * 900 + ']' * 900 + '}}}}')" > "$tmp/inner.json"
deep "900 levels inside a value" "$tmp/inner.json" 1 "inner.json:1:73: error: 'X' must be a string, not an array \(at /resources/a/env/X\)"
python3 -c "import sys; sys.stdout.write('{\"resources\": {\"a\": {\"type\": \"container.v0\", \"image\": \"i\", \"env\": {\"X\": \"' + 'x{' * 500000 + '\", \"Y\": \"{b.value}\"}}}}')" > "$tmp/long.json"
deep "a 1 MB string of braces, then an unknown resource" "$tmp/long.json" 1 "long.json:1:[0-9]+: error: unknown resource 'b' in an expression \(at /resources/a/env/Y\)"
python3 -c "
import json
r = {'p': {'type': 'parameter.v0', 'value': '{p.inputs.value}', 'inputs': {'value': {'type': 'string', 'secret': True}}}}
for i in range(20000):
    r['c%d' % i] = {'type': 'container.v0', 'image': 'i', 'env': {'P': '{p.value}', 'N': '{c%d.bindings.http.url}' % (i // 2)},
                    'bindings': {'http': {'scheme': 'http', 'protocol': 'tcp', 'transport': 'http', 'targetPort': 80}}}
print(json.dumps({'resources': r}))" > "$tmp/wide.json"
deep "20,000 resources" "$tmp/wide.json" 0 '^$|warning'
apx_done
