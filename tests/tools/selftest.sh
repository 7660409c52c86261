#!/bin/bash
# Runs every validator on the bundled samples and checks the exit codes, so that
# a validator that accepts everything (or nothing) is caught. TAP-like output.
# usage: bash tests/tools/selftest.sh   (needs `npm ci` in tests/tools; docker-compose optional)
cd "$(dirname "$0")" || exit 2
[ -d node_modules ] || { echo "not ok - validators: tests/tools/node_modules missing (run npm ci there)"; exit 1; }
pass=0; fail=0
out=$(mktemp); trap 'rm -f "$out"' EXIT
check() { # expected_rc description command...
  local want=$1 desc=$2; shift 2
  "$@" >"$out" 2>&1; local rc=$?
  if [ "$rc" = "$want" ]; then pass=$((pass+1)); echo "ok - validators: $desc";
  else fail=$((fail+1)); echo "not ok - validators: $desc (rc $rc, want $want)"; sed 's/^/#   /' "$out" | head -20; fi
}
C=samples/compose K=samples/k8s H=samples/hcl
for f in valid valid-edge; do
  check 0 "compose npm-schema $f" node validate-compose.mjs $C/$f.yml
  check 0 "compose upstream $f" node validate-compose.mjs --schema upstream $C/$f.yml
done
check 1 "compose npm-schema rejects newer keys (name, host_ip)" node validate-compose.mjs $C/valid-upstream-only.yml
check 0 "compose upstream accepts newer keys" node validate-compose.mjs --schema upstream $C/valid-upstream-only.yml
check 1 "compose npm-schema rejects start_interval/depends_on.restart" node validate-compose.mjs $C/valid-upstream-only-2.yml
check 0 "compose upstream accepts start_interval/depends_on.restart" node validate-compose.mjs --schema upstream $C/valid-upstream-only-2.yml
check 1 "compose --strict: service_healthy target without healthcheck" node validate-compose.mjs --strict --schema upstream $C/valid-upstream-only-2.yml
for f in invalid-unknown-key invalid-type invalid-condition invalid-refs invalid-cycle invalid-duration; do
  check 1 "compose npm-schema $f" node validate-compose.mjs $C/$f.yml
  check 1 "compose upstream $f" node validate-compose.mjs --schema upstream $C/$f.yml
done
if command -v docker-compose >/dev/null; then
  for f in valid valid-edge; do check 0 "docker-compose config $f" docker-compose -f $C/$f.yml config -q; done
  for f in invalid-unknown-key invalid-type invalid-condition invalid-refs invalid-cycle valid-upstream-only; do
    check 1 "docker-compose config $f" docker-compose -f $C/$f.yml config -q
  done
  # known gap: `config -q` accepts "interval: 5 seconds"; the full `config` crashes on it
  check 0 "docker-compose config -q misses bad duration (known gap)" docker-compose -f $C/invalid-duration.yml config -q
fi
check 0 "k8s valid" node validate-k8s.mjs $K/valid.yaml
check 1 "k8s invalid" node validate-k8s.mjs $K/invalid.yaml
check 1 "k8s unknown fields" node validate-k8s.mjs $K/invalid-unknown-fields.yaml
check 0 "k8s unknown fields allowed" node validate-k8s.mjs --allow-unknown-fields $K/invalid-unknown-fields.yaml
check 0 "k8s stdin" sh -c "node validate-k8s.mjs - < $K/valid.yaml"
check 0 "hcl valid" node validate-hcl.mjs $H/valid.tf
check 1 "hcl syntax error" node validate-hcl.mjs $H/invalid-syntax.tf
check 0 "hcl parses structurally wrong terraform" node validate-hcl.mjs $H/invalid-terraform.tf
check 1 "hcl --terraform structure" node validate-hcl.mjs --terraform $H/invalid-terraform.tf
check 0 "hcl --terraform module dir" node validate-hcl.mjs --terraform --quiet $H/module-valid
check 0 "hcl --terraform valid file" node validate-hcl.mjs --terraform --quiet $H/valid.tf
echo "# selftest: $pass passed, $fail failed"
[ "$fail" = 0 ]
