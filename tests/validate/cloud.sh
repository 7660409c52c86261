#!/bin/bash
# Checks every cloud deployment aspirec emits, from examples/*.apx,
# ../shared/examples/*.apx, tests/golden/*.apx and tests/manifest/*.json (Aspire manifests), with tools nobody on this
# project wrote:
#   --emit=bicep  ../shared/tools/validators/validate-bicep.mjs --strict: a Bicep
#                 parser with the compiler's semantic checks and linter rules, the
#                 bodies checked against Azure's ARM schemas, main.parameters.json
#                 against the params (a shared tool: a loud SKIP when absent)
#   --emit=hcl    tests/tools/validate-hcl.mjs --terraform (HashiCorp's hcl/v2
#                 through @cdktf/hcl2json) on every .tf file and on the directory
#                 (every var., resource and data reference declared), then
#                 tests/tools/check-tf.mjs on the parsed JSON: no secret variable
#                 with a default, no secret in a container's `environment`, the
#                 task definitions' container definitions of the right shape
# Then negative controls: broken copies each check must reject; and no value
# of a secret parameter given at compile time appears in any emitted file.
# Skipped: golden inputs whose NAME.err ends in a nonzero `exit:`, and bad-*.apx.
. "$(dirname "$0")/../lib.sh"
need_aspirec

tools=$APX_SRCDIR/tests/tools
shared=$(apx_shared_dir) || shared=${APX_SHARED:-$APX_SRCDIR/../shared}   # the shared folder beside the source tree
bicep_validator=$shared/tools/validators/validate-bicep.mjs
apx_tmpdir tmp

shopt -s nullglob
inputs=("$APX_SRCDIR"/examples/*.apx "$shared"/examples/*.apx "$APX_SRCDIR"/tests/golden/*.apx "$APX_SRCDIR"/tests/manifest/*.json)
shopt -u nullglob

# emit TARGET SRC OUT: compiles SRC from its directory with its aspirec-args.
emit() {
  local target=$1 src=$2 out=$3 args
  read -ra args <<< "$(apx_args_of "$src")"
  (cd "$(dirname "$src")" && "$ASPIREC" "$(basename "$src")" "${args[@]}" --emit="$target" -o "$out" 2> "$out.err")
}

# emitted_for TARGET: fills OUTS/LABELS with one output directory per input.
emitted_for() {
  local target=$1 src rel errf n=0
  OUTS=() LABELS=()
  for src in "${inputs[@]}"; do
    rel=$(apx_input_rel "$src")
    apx_input_skip "$src" > /dev/null && continue
    n=$((n + 1))
    # (no .json in the name: validate-bicep reads an argument ending in .json as a file)
    local base=${src##*/}; base=${base%.apx}; base=${base%.json}
    local out=$tmp/$target/$n-$base
    mkdir -p "$tmp/$target"
    if emit "$target" "$src" "$out"; then
      OUTS+=("$out"); LABELS+=("$rel")
    elif [ "${rel#tests/golden/}" != "$rel" ] && [ ! -f "${src%.apx}.err" ]; then
      note "skip $rel (does not compile; tests/golden.sh reports it)"
    else
      not_ok "aspirec --emit=$target $rel"; diag < "$out.err"
    fi
  done
}

# ---- bicep ------------------------------------------------------------------------
emitted_for bicep
if [ ! -f "$bicep_validator" ]; then
  echo "# SKIP: $bicep_validator is absent: ${#OUTS[@]} Bicep deployments NOT validated"
  echo "# SKIP: (it is the shared tool ../shared/tools/validators/validate-bicep.mjs beside the source tree)"
else
  for i in "${!OUTS[@]}"; do
    check "validate-bicep --strict: ${LABELS[$i]}" node "$bicep_validator" --strict --quiet "${OUTS[$i]}"
  done
  # Negative controls on the largest deployment.
  ctl= ; best=0
  for o in "${OUTS[@]}"; do s=$(wc -c < "$o/main.bicep"); [ "$s" -gt "$best" ] && { best=$s; ctl=$o; }; done
  if [ -z "$ctl" ]; then not_ok "no Bicep deployment emitted: nothing validated"; else
    bad() { # NAME: copies the control to $tmp/bad-NAME for the caller to break
      rm -rf "$tmp/bad-$1"; cp -r "$ctl" "$tmp/bad-$1"; }
    bad secretref; sed -i "0,/secretRef: '/s//secretRef: 'no-such-/" "$tmp/bad-secretref/main.bicep"
    bad property; sed -i "0,/activeRevisionsMode: 'Single'/s//activeRevisionsMode: 'Single'\n      revisionMode: 'Single'/" "$tmp/bad-property/main.bicep"
    bad undeclared; sed -i "0,/environmentId: containerAppsEnvironment.id/s//environmentId: noSuchEnvironment.id/" "$tmp/bad-undeclared/main.bicep"
    bad secret-in-clear
    python3 - "$tmp/bad-secret-in-clear" <<'PY'
import json, re, sys
d = sys.argv[1]
bicep = open(d + "/main.bicep").read()
secure = re.findall(r"@secure\(\)\n(?:@\w+\(.*\)\n)*param (\w+)", bicep)
p = json.load(open(d + "/main.parameters.json"))
for s in secure: p["parameters"][s]["value"] = "hunter2-in-clear"
json.dump(p, open(d + "/main.parameters.json", "w"))
PY
    for b in secretref property undeclared secret-in-clear; do
      if cmp -s "$ctl/main.bicep" "$tmp/bad-$b/main.bicep" && cmp -s "$ctl/main.parameters.json" "$tmp/bad-$b/main.parameters.json"; then
        not_ok "negative control $b: the copy of $ctl was not changed"; continue; fi
      check_fails "validate-bicep --strict rejects $b" node "$bicep_validator" --strict --quiet "$tmp/bad-$b"
    done
  fi
fi

# ---- hcl ------------------------------------------------------------------------------
emitted_for hcl
if [ ! -d "$tools/node_modules/@cdktf/hcl2json" ]; then
  not_ok "hcl validators: $tools/node_modules missing (run scripts/setup.sh)"
else
  for i in "${!OUTS[@]}"; do
    o=${OUTS[$i]} l=${LABELS[$i]}
    for f in main.tf variables.tf outputs.tf versions.tf; do
      check "hcl2json parses $f: $l" node "$tools/validate-hcl.mjs" --quiet "$o/$f"
    done
    check "validate-hcl --terraform (references declared): $l" node "$tools/validate-hcl.mjs" --terraform --quiet "$o"
    check "check-tf (secrets, container definitions): $l" node "$tools/check-tf.mjs" "$o"
  done
  ctl= ; best=0
  # the largest with a sensitive variable (for the secret controls)
  for o in "${OUTS[@]}"; do
    grep -q 'sensitive = true' "$o/variables.tf" || continue
    s=$(wc -c < "$o/main.tf"); [ "$s" -gt "$best" ] && { best=$s; ctl=$o; }
  done
  if [ -z "$ctl" ]; then not_ok "no Terraform directory emitted: nothing validated"; else
    badtf() { rm -rf "$tmp/badtf-$1"; cp -r "$ctl" "$tmp/badtf-$1"; python3 - "$tmp/badtf-$1" "$2" "$3" "$4" <<'PY'
import sys
d, f, old, new = sys.argv[1:]
s = open(d + "/" + f).read()
if old not in s: sys.exit("negative control: %r not in %s" % (old, f))
open(d + "/" + f, "w").write(s.replace(old, new, 1))
PY
    }
    # syntax: an unclosed block; references: an undeclared variable; secrets: a
    # sensitive variable with a default, a secret in environment; shape: a port
    # mapping without a number, a key ECS does not know.
    badtf syntax main.tf 'resource "aws_ecs_cluster" "main" {' 'resource "aws_ecs_cluster" "main" { {' &&
      check_fails "hcl2json rejects syntax" node "$tools/validate-hcl.mjs" --quiet "$tmp/badtf-syntax/main.tf"
    badtf undeclared main.tf 'var.vpc_id' 'var.no_such_vpc' &&
      check_fails "validate-hcl --terraform rejects undeclared" node "$tools/validate-hcl.mjs" --terraform --quiet "$tmp/badtf-undeclared"
    badtf secret-default variables.tf 'sensitive = true' 'sensitive = true
  default = "hunter2"' &&
      check_fails "check-tf rejects secret-default" node "$tools/check-tf.mjs" "$tmp/badtf-secret-default"
    badtf secret-env main.tf 'environment = [' 'environment = [
        { name = "LEAK", value = "${random_password.leak.result}" },' &&
      check_fails "check-tf rejects secret-env" node "$tools/check-tf.mjs" "$tmp/badtf-secret-env"
    badtf port main.tf 'containerPort = ' 'containerPort = "x" # ' &&
      check_fails "check-tf rejects port" node "$tools/check-tf.mjs" "$tmp/badtf-port"
    badtf key main.tf 'essential = true' 'essential = true
      memoryReservashun = 1' &&
      check_fails "check-tf rejects key" node "$tools/check-tf.mjs" "$tmp/badtf-key"
  fi
fi

# ---- secrets given at compile time stay out of every file ---------------------------
for target in bicep hcl; do
  out=$tmp/secret-$target
  (cd "$APX_SRCDIR/examples" && "$ASPIREC" shop.apx -p pg_password=Sekr3tValue-apx --emit=$target -o "$out" 2> "$out.err")
  if [ $? != 0 ]; then not_ok "--emit=$target with a secret value"; diag < "$out.err"
  elif grep -rqF Sekr3tValue-apx "$out" "$out.err"; then not_ok "--emit=$target writes no secret value in clear"; grep -rlF Sekr3tValue-apx "$out" | diag
  else ok "--emit=$target writes no secret value in clear"; fi
done

# ---- a failed compile writes nothing ------------------------------------------------
# Bicep: two names alike in their first 32 characters would be one container
# app; HCL: three external http endpoints of one app, the first on 80, the
# second (80 taken) on its target port 8081, the third fixed on 8081 too.
printf '%s\n' 'container a-very-long-name-of-a-service-number-1 { image = "a:1" }' \
  'container a-very-long-name-of-a-service-number-2 { image = "b:1" }' \
  'container web { image = "c:1"' '  endpoint http { target_port = 8080  external = true }' \
  '  endpoint admin { target_port = 8081  scheme = "http"  external = true }' \
  '  endpoint other { target_port = 9000  port = 8081  scheme = "http"  external = true }' '}' > "$tmp/clash.apx"
for target in bicep hcl; do
  out=$tmp/clash-$target
  (cd "$tmp" && "$ASPIREC" clash.apx --emit=$target -o "$out" > "$out.log" 2>&1); rc=$?
  if [ $rc = 1 ] && grep -qE "^clash.apx:[0-9]+:[0-9]+: error: .*(rename one|another port)" "$out.log"; then ok "--emit=$target: a name clash is a located error"
  else not_ok "--emit=$target: a name clash is a located error (exit $rc)"; diag < "$out.log"; fi
  if [ ! -e "$out" ]; then ok "--emit=$target: nothing written after an error"
  else not_ok "--emit=$target: nothing written after an error"; ls -la "$out" | diag; fi
done

# A parameter named like one of the target's own declarations.
printf '%s\n' 'param vpc_id { default = "x" }' 'param location { default = "y" }' \
  'container a { image = "i"  env { V = vpc_id  L = location } }' > "$tmp/own.apx"
for pair in "bicep:parameter 'location' would be the Bicep symbol 'location'" "hcl:'vpc_id' would be the Terraform name var.vpc_id"; do
  target=${pair%%:*} want=${pair#*:}
  (cd "$tmp" && "$ASPIREC" own.apx --emit=$target -o "$tmp/own-$target" > "$tmp/own-$target.log" 2>&1)
  if grep -qF "$want" "$tmp/own-$target.log" && [ ! -e "$tmp/own-$target" ]; then ok "--emit=$target: a parameter cannot take the target's own name"
  else not_ok "--emit=$target: a parameter cannot take the target's own name"; diag < "$tmp/own-$target.log"; fi
done

# ---- warnings name the resource and the target ---------------------------------------
for target in bicep hcl; do
  name=$([ $target = bicep ] && echo "Azure Container Apps" || echo "AWS ECS Fargate")
  emit $target "$APX_SRCDIR/tests/golden/topology.apx" "$tmp/warn-$target" || true
  for w in "executable 'tool' is not published to $name" "bind mount '/srv/config' of 'api' cannot be expressed in $name" \
           "cannot make 'api' wait for 'migrate' to be completed"; do
    if grep -qF "$w" "$tmp/warn-$target.err"; then ok "--emit=$target warns: $w"
    else not_ok "--emit=$target warns: $w"; diag < "$tmp/warn-$target.err"; fi
  done
done
apx_done
