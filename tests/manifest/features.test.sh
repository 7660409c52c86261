#!/bin/bash
# What the manifest front end makes of each construct, read back from
# --emit=ir and --emit=compose: the project.v0 command line, parameter
# inputs (generate options with Aspire's defaults, a default value, a
# connection string parameter), annotated.string's uri filter, hostAndPort,
# the stdlib mapping of postgres (its database) and redis, a Dockerfile
# outside its context, volume names, detection by content, the app's name.
. "$(dirname "$0")/../lib.sh"
need_aspirec
cd "$APX_SRCDIR/tests/manifest" || exit 1
apx_tmpdir tmp

# The hand-written manifests are Aspire's format: the 8.0 schema (ajv) and
# the expression checker of --emit=manifest's tests (which does not know
# hostAndPort, used by build.json: schema only there).
if command -v node > /dev/null && [ -d "$APX_SRCDIR/tests/tools/node_modules/ajv" ]; then
  if node "$APX_SRCDIR/tests/tools/validate-manifest.mjs" testshop.json types.json > "$tmp/v.out" 2>&1 &&
     node "$APX_SRCDIR/tests/tools/validate-manifest.mjs" --no-refs build.json >> "$tmp/v.out" 2>&1; then
    ok "testshop.json, types.json, build.json: valid against Aspire's 8.0 schema (ajv), expressions checked"
  else
    not_ok "a hand-written manifest is not valid Aspire"; diag < "$tmp/v.out"
  fi
else
  not_ok "node or ajv missing (run scripts/setup.sh): the manifests' schema is NOT checked"
fi

# irq FILE PYTHON-EXPR [ARGS...]: evaluates the expression over the IR (r: resources by name).
irq() {
  local file=$1 expr=$2; shift 2
  "$ASPIREC" "$file" "$@" --emit=ir 2> /dev/null | python3 -c '
import json, sys
ir = json.load(sys.stdin); r = {x["name"]: x for x in ir["resources"]}
sys.exit(0 if eval(sys.argv[1]) else 1)' "$expr"
}
# check_ir LABEL FILE EXPR [ARGS...]
check_ir() {
  local label=$1; shift
  if irq "$@"; then ok "$label"; else not_ok "$label"; "$ASPIREC" "$1" --emit=ir 2>&1 | head -c 3000 | diag 30; fi
}

check_ir "project.v0: dotnet run --project PATH --no-launch-profile, from the manifest's directory" testshop.json \
  'r["catalogservice"]["kind"] == "project" and r["catalogservice"]["command"] == "dotnet" and r["catalogservice"]["args"] == ["run", "--project", "../../examples/shop/api/CatalogService.csproj", "--no-launch-profile"]'
check_ir "generate: minLength, Aspire's defaults for the classes, minNumeric" types.json \
  'r["token"]["param"]["secret"] and r["token"]["param"]["generate"] == {"length": 16, "lower": True, "upper": False, "numeric": True, "special": False, "min_lower": 0, "min_upper": 0, "min_numeric": 2, "min_special": 0}'
check_ir "default.value is the parameter's default; no secret" types.json \
  '"secret" not in r["region"]["param"] or not r["region"]["param"]["secret"]'
check_ir "a connection string parameter: {messaging.connectionString} is its value" types.json \
  'r["worker"]["env"]["ConnectionStrings__messaging"] == {"template": [{"ref": "messaging", "prop": "value"}]} or r["worker"]["env"]["ConnectionStrings__messaging"] == {"ref": "messaging", "prop": "value"}'
check_ir "postgres maps to the stdlib component, catalogdb to its database, redis to redis" testshop.json \
  'r["postgres"]["type"] == "postgres" and r["catalogdb"]["type"] == "database" and r["catalogdb"].get("parent") == "postgres" and r["basketcache"]["type"] == "redis"'

# annotated.string: the uri filter (run mode renders it; the published
# targets refuse a filter on a parameter, as for an .apx urlencode(p)).
cat > "$tmp/uri.json" <<'J'
{"resources": {
  "pw": {"type": "parameter.v0", "value": "{pw.inputs.value}", "inputs": {"value": {"type": "string"}}},
  "pw-uri-encoded": {"type": "annotated.string", "value": "{pw.value}", "filter": "uri"},
  "show": {"type": "executable.v0", "command": "sh", "workingDirectory": ".", "args": ["-c", "echo \"URL=$URL HP=$HP\""],
           "env": {"URL": "redis://:{pw-uri-encoded.value}@h/0", "HP": "{show.bindings.http.hostAndPort}"},
           "bindings": {"http": {"scheme": "http", "protocol": "tcp", "transport": "http"}}}}}
J
"$ASPIREC" "$tmp/uri.json" -p 'pw=a b&c/d' --run --engine=local --state-dir "$tmp/uri-state" > "$tmp/uri.log" 2>&1 < /dev/null
if grep -qE '^show +\| URL=redis://:a%20b%26c%2Fd@h/0 HP=localhost:[0-9]+$' "$tmp/uri.log"; then
  ok "annotated.string uri: urlencode of the parameter (a%20b%26c%2Fd); hostAndPort is host:port"
else
  not_ok "annotated.string / hostAndPort under --run"; diag 20 < "$tmp/uri.log"
fi

# A Dockerfile's path relative to its context (as .apx and Compose read it).
mkdir -p "$tmp/df/ctx" "$tmp/df/files"
cat > "$tmp/df/aspire-manifest.json" <<'J'
{"resources": {
  "a": {"type": "dockerfile.v0", "path": "files/a.Dockerfile", "context": "ctx"},
  "b": {"type": "dockerfile.v0", "path": "ctx/sub/b.Dockerfile", "context": "ctx"},
  "c": {"type": "container.v0", "image": "i", "volumes": [{"name": "c-data", "target": "/d", "readOnly": false}, {"name": "shared", "target": "/s", "readOnly": true}]}}}
J
if (cd "$tmp/df" && "$ASPIREC" aspire-manifest.json --emit=ir 2> /dev/null) | python3 -c '
import json, os, sys
ir = json.load(sys.stdin); r = {x["name"]: x for x in ir["resources"]}
assert ir["app"] == "df", ir["app"]
assert r["a"]["build"]["dockerfile"] == "../files/a.Dockerfile", r["a"]["build"]
assert r["b"]["build"]["dockerfile"] == "sub/b.Dockerfile", r["b"]["build"]
names = [v["name"] for v in r["c"]["volumes"]]
assert names == ["data", "shared"], names' "$tmp/df"; then
  ok "dockerfile.v0: the Dockerfile relative to its context (../files/a.Dockerfile, sub/b.Dockerfile); volume c-data is c's data; aspire-manifest.json names the app after its directory"
else
  not_ok "dockerfile paths, volume names or the app's name"; (cd "$tmp/df" && "$ASPIREC" aspire-manifest.json --emit=ir 2>&1) | diag 40
fi

# Detection by content: a manifest under another name.
cp types.json "$tmp/app.manifest"
if "$ASPIREC" "$tmp/app.manifest" --emit=ir 2> /dev/null | grep -q '"app":	"app.manifest"'; then ok "a manifest is detected by its content ({ \" ), whatever its name"
else not_ok "detection by content"; "$ASPIREC" "$tmp/app.manifest" --emit=ir 2>&1 | head -5 | diag; fi
# An .apx program is never taken for a manifest.
printf 'container a { image = "i" }\n' > "$tmp/p.apx"
if "$ASPIREC" "$tmp/p.apx" --emit=ir > /dev/null 2>&1; then ok "an .apx program is still parsed as one"; else not_ok "an .apx program"; fi
apx_done
