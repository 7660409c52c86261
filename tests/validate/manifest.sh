#!/bin/bash
# Checks every Aspire manifest aspirec emits (--emit=manifest), from
# examples/*.apx, ../shared/examples/*.apx and tests/golden/*.apx, and from
# the bench generator's topologies at 1,000 resources (bench/compose/gen.py,
# two seeds), against Aspire's 8.0 JSON schema with ajv
# (tests/tools/validate-manifest.mjs, schema tests/tools/schemas/aspire-8.0.json),
# and every expression `{name.path}` against the resources of the manifest.
# Then each manifest evaluated as a deployment on one network would be
# (tests/tools/manifest-vs-compose.mjs) against the Compose file of the same
# program: the same environment and argv. Then: negative controls (broken copies the validator must reject); two
# emits byte-identical; no secret given at compile time and no value drawn
# for a generated parameter (compose's .env in the same directory) in the
# manifest or on stderr; a value the manifest cannot hold is a located error
# and nothing is written; standard output without -o.
# Skipped: golden inputs whose NAME.err ends in a nonzero `exit:`, and bad-*.apx.
. "$(dirname "$0")/../lib.sh"
need_aspirec

tools=$APX_SRCDIR/tests/tools
validator=$tools/validate-manifest.mjs
if [ ! -d "$tools/node_modules/ajv" ]; then not_ok "manifest validator: $tools/node_modules missing (run scripts/setup.sh)"; exit 1; fi
command -v node > /dev/null || { not_ok "manifest validator: node missing (run scripts/setup.sh)"; exit 1; }
command -v python3 > /dev/null || { not_ok "python3 missing (the bench generator needs it)"; exit 1; }
apx_tmpdir tmp

shopt -s nullglob
inputs=("$APX_SRCDIR"/examples/*.apx "$APX_SRCDIR"/tests/golden/*.apx)
if shared=$(apx_shared_dir); then inputs+=("$shared"/examples/*.apx); else note "no shared examples folder: only this tree's inputs"; fi
shopt -u nullglob

# emit SRC OUT [ARGS...]: --emit=manifest -o OUT from SRC's directory, with its aspirec-args.
emit() {
  local src=$1 out=$2 args
  shift 2
  read -ra args <<< "$(apx_args_of "$src")"
  (cd "$(dirname "$src")" && "$ASPIREC" "$(basename "$src")" "${args[@]}" "$@" --emit=manifest -o "$out" 2> "$out.err")
}

# ---- every program ------------------------------------------------------------------
outs=() labels=()
n=0
for src in "${inputs[@]}"; do
  rel=$(apx_input_rel "$src")
  apx_input_skip "$src" > /dev/null && continue
  n=$((n + 1))
  out=$tmp/m/$n-$(basename "$src" .apx)
  mkdir -p "$tmp/m"
  if ! emit "$src" "$out"; then not_ok "aspirec --emit=manifest $rel"; diag < "$out.err"; continue; fi
  if [ ! -f "$out/aspire-manifest.json" ] || [ "$(ls -A "$out")" != aspire-manifest.json ]; then
    not_ok "--emit=manifest $rel writes aspire-manifest.json alone"; ls -la "$out" | diag; continue
  fi
  outs+=("$out") labels+=("$rel")
done
# One validator process for them all (node starts in 0.3 s); a line per file.
files=(); for o in "${outs[@]}"; do files+=("$o/aspire-manifest.json"); done
node "$validator" "${files[@]}" > "$tmp/v.out" 2>&1
for i in "${!outs[@]}"; do
  f=${outs[$i]}/aspire-manifest.json
  if grep -qxF "$f: valid" "$tmp/v.out"; then ok "schema and expressions: ${labels[$i]}"
  else not_ok "schema and expressions: ${labels[$i]}"; grep -F "$f:" "$tmp/v.out" | diag; fi
done
[ ${#outs[@]} -ge 8 ] && ok "${#outs[@]} programs' manifests checked" || not_ok "only ${#outs[@]} manifests emitted (expected 8 or more)"

# ---- what the expressions mean: evaluated as on one network, the same as Compose -------------
# (manifest-vs-compose.mjs: each container's environment and argv against
# the docker-compose.yaml of the same program; parameters as placeholders)
vc() { # LABEL SRC MANIFEST-DIR
  local label=$1 src=$2 dir=$3 args
  read -ra args <<< "$(apx_args_of "$src")"
  if ! (cd "$(dirname "$src")" && "$ASPIREC" "$(basename "$src")" "${args[@]}" --emit=compose -o "$dir.compose" 2> "$dir.compose.err"); then
    note "skip $label: --emit=compose fails"; return; fi
  check "expressions evaluate to what Compose renders: $label" node "$tools/manifest-vs-compose.mjs" "$dir/aspire-manifest.json" "$dir.compose/docker-compose.yaml"
}
for i in "${!outs[@]}"; do
  src=${labels[$i]}; [ "${src#/}" = "$src" ] && src=$APX_SRCDIR/$src
  vc "${labels[$i]}" "$src" "${outs[$i]}"
done

# ---- the bench generator's topologies at 1,000 resources ---------------------------
for seed in 1 2; do
  d=$tmp/bench-$seed
  mkdir -p "$d"
  if ! python3 "$APX_SRCDIR/bench/compose/gen.py" 1000 --seed $seed -o "$d/big.apx" 2> "$d/gen.err"; then
    not_ok "bench/compose/gen.py 1000 --seed $seed"; diag < "$d/gen.err"; continue
  fi
  if ! emit "$d/big.apx" "$d/out"; then not_ok "--emit=manifest of 1,000 resources (seed $seed)"; diag < "$d/out.err"; continue; fi
  count=$(node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1])); console.log(Object.keys(d.resources).length)' "$d/out/aspire-manifest.json")
  if [ "${count:-0}" -ge 1000 ]; then ok "1,000 resources (seed $seed): $count manifest resources"
  else not_ok "1,000 resources (seed $seed): only ${count:-0} manifest resources"; fi
  check "schema and expressions: 1,000 resources (seed $seed)" node "$validator" --quiet "$d/out/aspire-manifest.json"
  vc "1,000 resources (seed $seed)" "$d/big.apx" "$d/out"
  [ $seed = 1 ] && big=$d
done

# ---- negative controls: the validator can fail -----------------------------------------
ctl=
for o in "${outs[@]}"; do case $o in *-shop) ctl=$o/aspire-manifest.json ;; esac; done
if [ -z "$ctl" ]; then not_ok "no manifest of shop.apx to break"; else
  # bad NAME PYTHON: a copy of the shop's manifest changed by PYTHON (d: the document), which must fail.
  bad() {
    local name=$1 code=$2
    python3 - "$ctl" "$tmp/bad-$name.json" "$code" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
r = d["resources"]
exec(sys.argv[3])
json.dump(d, open(sys.argv[2], "w"), indent=2)
PY
    if cmp -s "$ctl" "$tmp/bad-$name.json"; then not_ok "negative control $name: the copy was not changed"; return; fi
    bads+=("$name")
  }
  bads=()
  check "validate-manifest accepts the untouched control" node "$validator" --quiet "$ctl"
  bad unknown-key    'r["db"]["workdir"] = "/srv"'
  bad no-image       'del r["db"]["image"]'
  bad port-type      'r["db"]["bindings"]["tcp"]["targetPort"] = "5432"'
  bad transport      'r["db"]["bindings"]["tcp"]["transport"] = "udp"'
  bad build-and-image 'r["api"]["image"] = "api:1"'
  bad param-no-inputs 'del r["pg_password"]["inputs"]'
  bad generate-no-min 'del r["pg_password"]["inputs"]["value"]["default"]["generate"]["minLength"]'
  bad value-no-cs    'del r["catalog"]["connectionString"]'
  bad no-resources   'd.pop("resources")'
  bad unknown-resource 'r["api"]["env"]["X"] = "{nosuch.connectionString}"'
  bad unknown-binding 'r["api"]["env"]["X"] = "{db.bindings.http.url}"'
  bad no-cs          'r["api"]["env"]["X"] = "{api.connectionString}"'
  bad unclosed       'r["api"]["env"]["X"] = "{db.bindings.tcp.host"'
  # The evaluation can fail too: one expression pointed at the wrong property.
  python3 - "$ctl" "$tmp/bad-meaning.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["resources"]["api"]["env"]["CACHE_PORT"] = "{cache.bindings.tcp.host}"
json.dump(d, open(sys.argv[2], "w"))
PY
  check_fails "manifest-vs-compose rejects an expression that means something else" \
    node "$tools/manifest-vs-compose.mjs" "$tmp/bad-meaning.json" "${ctl%/aspire-manifest.json}.compose/docker-compose.yaml"
  # One run over all the copies: each must have an error of its own, and the run fail.
  files=(); for b in "${bads[@]}"; do files+=("$tmp/bad-$b.json"); done
  node "$validator" "${files[@]}" > "$tmp/bad.out" 2>&1; rc=$?
  [ $rc = 1 ] && ok "validate-manifest exits 1 on the broken copies" || not_ok "validate-manifest exits 1 on the broken copies (exit $rc)"
  for b in "${bads[@]}"; do
    if grep -qF "$tmp/bad-$b.json: error:" "$tmp/bad.out"; then ok "validate-manifest rejects $b"
    else not_ok "validate-manifest rejects $b"; grep -F "bad-$b.json" "$tmp/bad.out" | diag; fi
  done
fi

# ---- determinism ------------------------------------------------------------------------
for src in "$APX_SRCDIR/examples/shop.apx" "$APX_SRCDIR/tests/golden/manifest.apx"; do
  rel=${src#"$APX_SRCDIR"/}
  emit "$src" "$tmp/det-a" && emit "$src" "$tmp/det-b"
  if cmp -s "$tmp/det-a/aspire-manifest.json" "$tmp/det-b/aspire-manifest.json"; then ok "two emits byte-identical: $rel"
  else not_ok "two emits byte-identical: $rel"; diff "$tmp/det-a/aspire-manifest.json" "$tmp/det-b/aspire-manifest.json" | diag; fi
  rm -rf "$tmp/det-a" "$tmp/det-b"
done
if [ -n "${big:-}" ]; then
  emit "$big/big.apx" "$big/again"
  if cmp -s "$big/out/aspire-manifest.json" "$big/again/aspire-manifest.json"; then ok "two emits byte-identical: 1,000 resources"
  else not_ok "two emits byte-identical: 1,000 resources"; diff "$big/out/aspire-manifest.json" "$big/again/aspire-manifest.json" | diag; diag < "$big/again.err"; fi
fi

# ---- secrets -------------------------------------------------------------------------------
# A secret given at compile time: the generate input only, the value nowhere.
out=$tmp/secret
emit "$APX_SRCDIR/examples/shop.apx" "$out" -p pg_password=Sekr3tValue-apx
if grep -rqF Sekr3tValue-apx "$out" "$out.err"; then not_ok "a secret given with -p is not written or printed"; grep -rlF Sekr3tValue-apx "$out" "$out.err" | diag
else ok "a secret given with -p is not written or printed"; fi
if python3 - "$out/aspire-manifest.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))["resources"]["pg_password"]
v = p["inputs"]["value"]
assert p["value"] == "{pg_password.inputs.value}", p
assert v.get("secret") is True and v["default"] == {"generate": {"minLength": 22, "special": False}}, v
PY
then ok "the generated secret is its generate input (minLength 22, special false)"; else not_ok "the generated secret is its generate input"; fi
grep -q "secret parameter 'pg_password' is not written" "$out.err" && ok "a warning says the secret value is left out" ||
  { not_ok "a warning says the secret value is left out"; diag < "$out.err"; }
# Values compose drew into .env (a generated password) stay out of the manifest written beside it.
out=$tmp/beside
(cd "$APX_SRCDIR/examples" && "$ASPIREC" shop.apx --emit=compose -o "$out" 2> /dev/null)
drawn=$(sed -n 's/^PG_PASSWORD=//p' "$out/.env" | tr -d "'")
emit "$APX_SRCDIR/examples/shop.apx" "$out"
if [ ${#drawn} -ge 16 ] && ! grep -qF "$drawn" "$out/aspire-manifest.json" "$out.err"; then ok "a value drawn for a generated parameter is not in the manifest"
else not_ok "a value drawn for a generated parameter is not in the manifest (drawn: ${#drawn} characters)"; fi

# ---- what the manifest cannot hold: a located error, nothing written ------------------------
printf '%s\n' 'container api {' '  image = "a:1"' '  endpoint http { target_port = 80 }' '}' \
  'container web {' '  image = "b:1"' '  env { H = upper(api.endpoints.http.host) }' '}' > "$tmp/filter.apx"
(cd "$tmp" && "$ASPIREC" filter.apx --emit=manifest -o "$tmp/filter-out" > "$tmp/filter.log" 2>&1); rc=$?
if [ $rc = 1 ] && grep -qE "^filter.apx:7:[0-9]+: error: cannot write environment variable H of 'web' to the Aspire manifest: a filter" "$tmp/filter.log"; then
  ok "a filter on a deployed value is a located error"
else not_ok "a filter on a deployed value is a located error (exit $rc)"; diag < "$tmp/filter.log"; fi
[ ! -e "$tmp/filter-out" ] && ok "nothing written after an error" || { not_ok "nothing written after an error"; ls -la "$tmp/filter-out" | diag; }
printf '%s\n' 'param pw { secret = true }' 'container pw-uri-encoded { image = "a:1" }' \
  'container web {' '  image = "b:1"' '  env { URL = "redis://:${urlencode(pw)}@x" }' '}' > "$tmp/clash.apx"
(cd "$tmp" && "$ASPIREC" clash.apx --emit=manifest -o "$tmp/clash-out" > "$tmp/clash.log" 2>&1); rc=$?
if [ $rc = 1 ] && grep -qE "^clash.apx:2:[0-9]+: error: 'pw-uri-encoded' is the name the Aspire manifest gives the uri-encoded value of parameter 'pw'" "$tmp/clash.log" && [ ! -e "$tmp/clash-out" ]; then
  ok "a resource named like a parameter's uri-encoded companion is a located error"
else not_ok "a resource named like a parameter's uri-encoded companion is a located error (exit $rc)"; diag < "$tmp/clash.log"; fi

# ---- urlencode() of a parameter: Aspire's annotated.string companion, right after it ---------
printf '%s\n' 'param pw { secret = true  generate = { length = 20 } }' 'param other {}' 'container cache {' '  image = "redis:7"' \
  '  endpoint tcp { target_port = 6379 }' '  connection_string = "redis://:${urlencode(pw)}@${self.endpoints.tcp.host}:${self.endpoints.tcp.port}"' '}' \
  'container web {' '  image = "b:1"' '  references = [cache]' '  env { RAW = pw  ENC = urlencode(pw)  NAME = upper(cache.name) }' '}' > "$tmp/uri.apx"
(cd "$tmp" && "$ASPIREC" uri.apx --emit=manifest -o "$tmp/uri-out" > "$tmp/uri.log" 2>&1); rc=$?
if [ $rc = 0 ] && python3 - "$tmp/uri-out/aspire-manifest.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["resources"]
assert list(r) == ["pw", "pw-uri-encoded", "other", "cache", "web"], list(r)
assert r["pw-uri-encoded"] == {"type": "annotated.string", "value": "{pw.value}", "filter": "uri"}, r["pw-uri-encoded"]
assert r["cache"]["connectionString"] == "redis://:{pw-uri-encoded.value}@{cache.bindings.tcp.host}:{cache.bindings.tcp.port}"
e = r["web"]["env"]
assert (e["RAW"], e["ENC"], e["NAME"], e["ConnectionStrings__cache"]) == ("{pw.value}", "{pw-uri-encoded.value}", "CACHE", "{cache.connectionString}"), e
PY
then ok "urlencode(param): an annotated.string '-uri-encoded' after the parameter; other filters on literal values applied"
else not_ok "urlencode(param): an annotated.string after the parameter (exit $rc)"; diag < "$tmp/uri.log"; fi
check "schema and expressions: urlencode(param)" node "$validator" --quiet "$tmp/uri-out/aspire-manifest.json"

# ---- an executable's connection string: executable.v0 has none, so it is written where used -----
printf '%s\n' 'executable broker {' '  command = "./broker"' '  endpoint tcp { port = 7000 }' \
  '  connection_string = "tcp://${self.endpoints.tcp.host}:${self.endpoints.tcp.port}"' '}' \
  'container web {' '  image = "b:1"' '  references = [broker]' '}' > "$tmp/exe.apx"
(cd "$tmp" && "$ASPIREC" exe.apx --emit=manifest -o "$tmp/exe-out" > "$tmp/exe.log" 2>&1); rc=$?
if [ $rc = 0 ] && python3 - "$tmp/exe-out/aspire-manifest.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["resources"]
assert r["broker"]["type"] == "executable.v0" and "connectionString" not in r["broker"], r["broker"]
assert r["broker"]["bindings"]["tcp"] == {"scheme": "tcp", "protocol": "tcp", "transport": "tcp", "port": 7000}, r["broker"]
assert r["web"]["env"]["ConnectionStrings__broker"] == "tcp://{broker.bindings.tcp.host}:{broker.bindings.tcp.port}", r["web"]["env"]
PY
then ok "an executable's connection string is written out where it is used"
else not_ok "an executable's connection string is written out where it is used (exit $rc)"; diag < "$tmp/exe.log"; fi
check "schema and expressions: an executable's connection string" node "$validator" --quiet "$tmp/exe-out/aspire-manifest.json"

# ---- a reference to a resource left out (publish = false): a warning naming both --------------
printf '%s\n' 'executable helper {' '  command = "sleep"' '  endpoint http { port = 9999 }' '  publish = false' '}' \
  'container web {' '  image = "b:1"' '  env { HELPER = helper.endpoints.http.url }' '}' > "$tmp/unpub.apx"
(cd "$tmp" && "$ASPIREC" unpub.apx --emit=manifest -o "$tmp/unpub-out" > "$tmp/unpub.log" 2>&1); rc=$?
if [ $rc = 0 ] && grep -qE "^unpub.apx:8:[0-9]+: warning: 'web' refers to 'helper', which is not in the Aspire manifest \(publish = false\)" "$tmp/unpub.log" &&
   ! grep -q '"helper"' "$tmp/unpub-out/aspire-manifest.json"; then ok "a reference to a resource with publish = false: left out, with a warning"
else not_ok "a reference to a resource with publish = false: left out, with a warning (exit $rc)"; diag < "$tmp/unpub.log"; fi
# and the validator sees the dangling expression
check_fails "validate-manifest rejects the expression that names it" node "$validator" --quiet "$tmp/unpub-out/aspire-manifest.json"

# ---- standard output --------------------------------------------------------------------------
(cd "$APX_SRCDIR/examples" && "$ASPIREC" shop.apx --emit=manifest > "$tmp/stdout.json" 2> "$tmp/stdout.err")
check "without -o the manifest goes to standard output, valid" node "$validator" --quiet "$tmp/stdout.json"
apx_done
