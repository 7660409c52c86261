#!/bin/bash
# Golden tests: compile each tests/golden/NAME.apx and compare with the expected
# files beside it (only those that exist):
#   NAME.compose.yaml, NAME.env  --emit=compose -o DIR: DIR/docker-compose.yaml, DIR/.env
#                                (a generated value is recorded as `<generated: 22 of a-z A-Z 0-9>`
#                                 and checked against the generator: see generated())
#   NAME.ir.json                 --emit=ir (stdout)
#   NAME.dot                     --emit=dot (stdout)
#   NAME.k8s/, NAME.helm/        --emit=k8s -o DIR / --emit=helm -o DIR: every file of DIR, and no
#                                other (a generated secret in secrets.yaml is recorded as
#                                `<generated: NAME>`, checked against the generator: k8s_generated())
#   NAME.err                     stderr of --emit=ir with NO_COLOR=1, then a line `exit: N`
#   NAME.TARGET/                 any directory: --emit=TARGET -o DIR, compared with diff -r
#                                (NAME.bicep/, NAME.hcl/, ...); --update rewrites it
# A first line `// aspirec-args: -p region=eu` passes those options too.
# Runs from tests/golden with relative paths, so messages are stable.
#
# usage: tests/golden.sh [--update] [NAME...]      (ASPIREC=path/to/aspirec)
#   --update  rewrite the expected files that exist; write NAME.err for an input
#             that fails to compile; write NAME.compose.yaml (+ NAME.env) and
#             NAME.ir.json for a new input that has no expected file at all.
#             Outputs of a failed compile are never written except as NAME.err.
. "$(dirname "$0")/lib.sh"

update=0
[ "${1:-}" = --update ] && { update=1; shift; }
names=("$@")

cd "$APX_SRCDIR/tests/golden" 2>/dev/null || { note "no tests/golden directory"; exit 0; }
shopt -s nullglob
inputs=(*.apx)
shopt -u nullglob
if [ ${#names[@]} -gt 0 ]; then
  inputs=(); for n in "${names[@]}"; do inputs+=("${n%.apx}.apx"); done
fi
if [ ${#inputs[@]} -eq 0 ]; then note "golden: no inputs in tests/golden"; exit 0; fi
need_aspirec

apx_tmpdir tmp
outroot=../out/golden          # tests/out is ignored by git; fixed depth keeps relative paths stable
mkdir -p "$outroot"
at_exit "rm -rf '$APX_SRCDIR/tests/out/golden'"
update_errors=0

# compare EXPECTED ACTUAL: one ok/not ok line, the diff on failure.
compare() {
  local exp=$1 act=$2
  if [ ! -e "$act" ]; then not_ok "golden $exp: the compiler did not write it"; return; fi
  if diff -u --label "$exp (expected)" --label "$exp (actual)" "$exp" "$act" > "$tmp/diff"; then
    ok "golden $exp"
  else
    not_ok "golden $exp differs"
    diag 60 < "$tmp/diff"
  fi
}

# generated IR_JSON ENV: in the emitted .env, replaces the value of each
# parameter the compiler generated (a `generate` and no value in the IR) by
# the placeholder `<generated: N of CLASSES>` that the expected file holds,
# but only when the value has the generator's length, only its characters
# and each of its minimums; any other value stays, and the diff fails.
generated() {
  python3 - "$1" "$2" <<'PY'
import json, sys
try:
    ir = json.load(open(sys.argv[1]))
except ValueError:
    sys.exit(0)
specs = {}
def visit(o):
    if isinstance(o, dict):
        p = o.get("param")
        if isinstance(p, dict) and "generate" in p and "value" not in p:
            specs[p["env_name"]] = p["generate"]
        for v in o.values(): visit(v)
    elif isinstance(o, list):
        for v in o: visit(v)
visit(ir)
classes = [("lower", "a-z", "abcdefghijklmnopqrstuvwxyz"), ("upper", "A-Z", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
           ("numeric", "0-9", "0123456789"), ("special", "-_.~", "-_.~")]
lines = open(sys.argv[2]).read().split("\n")
for i, line in enumerate(lines):
    key, eq, value = line.partition("=")
    if not eq or key not in specs: continue
    g = specs[key]
    on = [c for c in classes if g[c[0]]] or classes[:1]
    if len(value) >= 2 and value[0] == value[-1] == "'": value = value[1:-1]
    pool = "".join(c[2] for c in on)
    fits = len(value) == g["length"] and all(ch in pool for ch in value) and \
        all(sum(ch in c[2] for ch in value) >= g["min_" + c[0]] for c in classes)
    if fits: lines[i] = "%s=<generated: %d of %s>" % (key, g["length"], " ".join(c[1] for c in on))
open(sys.argv[2], "w").write("\n".join(lines))
PY
}

# k8s_generated IR_JSON SECRETS_YAML: the values of generated parameters in the
# `<app>-parameters` Secret, when each fits its generator (length, characters,
# minimums), are replaced everywhere in the file by `<generated: NAME>`.
k8s_generated() {
  python3 - "$1" "$2" <<'PY'
import json, re, sys
try:
    ir = json.load(open(sys.argv[1]))
except ValueError:
    sys.exit(0)
specs = {}
def visit(o):
    if isinstance(o, dict):
        p = o.get("param")
        if isinstance(p, dict) and "generate" in p and "value" not in p and "name" in o:
            key = re.sub(r"[^a-z0-9]", "_", o["name"].lower())
            if not re.match(r"[a-z]", key): key = "x_" + key
            specs[key] = p["generate"]
        for v in o.values(): visit(v)
    elif isinstance(o, list):
        for v in o: visit(v)
visit(ir)
classes = [("lower", "abcdefghijklmnopqrstuvwxyz"), ("upper", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
           ("numeric", "0123456789"), ("special", "-_.~")]
text = open(sys.argv[2]).read()
doc = text.split("\n---\n")[0]   # the parameters Secret comes first
found = {}
for key, g in specs.items():
    m = re.search(r"^  %s: (.*)$" % re.escape(key), doc, re.M)
    if not m: continue
    value = m.group(1).strip('"')
    on = [c for c in classes if g[c[0]]] or classes[:1]
    pool = "".join(c[1] for c in on)
    if len(value) == g["length"] and all(ch in pool for ch in value) and \
       all(sum(ch in c[1] for ch in value) >= g["min_" + c[0]] for c in classes):
        found[value] = key
for value, key in found.items():
    # quoted or not depending on the draw (a leading digit is quoted): the same placeholder
    text = text.replace('"%s"' % value, value).replace(value, "<generated: %s>" % key)
open(sys.argv[2], "w").write(text)
PY
}

# target_dir TARGET NAME SRC ARGS...: --emit=TARGET -o into the out tree, then
# compares with (or, updating, copies to) NAME.TARGET/ (a k8s secrets.yaml's
# generated values first turned into their placeholders).
target_dir() {
  local target=$1 name=$2 src=$3 rc
  shift 3
  local exp=$name.$target out=$outroot/$name.$target
  rm -rf "$out"
  "$ASPIREC" "$src" "$@" --emit=$target -o "$out" > "$tmp/k.out" 2>&1; rc=$?
  if [ $rc != 0 ]; then
    if [ $update = 1 ]; then echo "FAILED    $exp/: compile failed (exit $rc), left as it was"; update_errors=$((update_errors + 1))
    else not_ok "golden $exp/: compile failed (exit $rc)"; diag < "$tmp/k.out"; fi
    return
  fi
  [ -f "$out/secrets.yaml" ] && k8s_generated "$tmp/ir" "$out/secrets.yaml"
  if [ $update = 1 ]; then
    if [ -d "$exp" ] && diff -r "$exp" "$out" > /dev/null; then echo "unchanged $exp/"
    else rm -rf "$exp"; cp -r "$out" "$exp"; echo "updated   $exp/"; fi
  elif diff -ru "$exp" "$out" > "$tmp/diff"; then
    ok "golden $exp/"
  else
    not_ok "golden $exp/ differs"
    diag 60 < "$tmp/diff"
  fi
  rm -rf "$out"
}

# put ACTUAL EXPECTED: update mode writer.
put() {
  local act=$1 exp=$2
  if [ -e "$exp" ] && cmp -s "$act" "$exp"; then echo "unchanged $exp"
  elif [ -e "$exp" ]; then cp "$act" "$exp"; echo "updated   $exp"
  else cp "$act" "$exp"; echo "created   $exp"; fi
}

for src in "${inputs[@]}"; do
  name=${src%.apx}
  if [ ! -f "$src" ]; then not_ok "golden $src: no such input"; continue; fi
  read -ra args <<< "$(apx_args_of "$src")"
  has_any=0
  for x in compose.yaml env ir.json dot err; do [ -e "$name.$x" ] && has_any=1; done
  dirs=(); for d in "$name".*/; do [ -d "$d" ] && dirs+=("${d%/}"); done
  [ ${#dirs[@]} -gt 0 ] && has_any=1

  # errors (always computed: it tells whether the program compiles)
  "$ASPIREC" "$src" "${args[@]}" --emit=ir > "$tmp/ir" 2> "$tmp/err"
  ir_rc=$?
  echo "exit: $ir_rc" >> "$tmp/err"

  if [ $update = 0 ] && [ $has_any = 0 ]; then
    not_ok "golden $src: no expected files (run: make -C _build update-golden)"
    continue
  fi

  want_compose=0; { [ -e "$name.compose.yaml" ] || [ -e "$name.env" ]; } && want_compose=1
  want_ir=0; [ -e "$name.ir.json" ] && want_ir=1
  new_input=0
  if [ $update = 1 ] && [ $has_any = 0 ] && [ $ir_rc = 0 ]; then want_compose=1; want_ir=1; new_input=1; fi

  if [ $update = 0 ]; then
    [ -e "$name.err" ] && compare "$name.err" "$tmp/err"
    if [ $want_ir = 1 ]; then
      if [ $ir_rc = 0 ]; then compare "$name.ir.json" "$tmp/ir"
      else not_ok "golden $name.ir.json: compile failed (exit $ir_rc)"; diag < "$tmp/err"; fi
    fi
  else
    if [ -e "$name.err" ] || [ $ir_rc != 0 ]; then put "$tmp/err" "$name.err"; fi
    if [ $want_ir = 1 ]; then
      if [ $ir_rc = 0 ]; then put "$tmp/ir" "$name.ir.json"
      else echo "FAILED    $name.ir.json: compile failed (exit $ir_rc), left as it was"; update_errors=$((update_errors + 1)); fi
    fi
  fi

  if [ -e "$name.dot" ]; then
    "$ASPIREC" "$src" "${args[@]}" --emit=dot > "$tmp/dot" 2> "$tmp/dot.err"; rc=$?
    if [ $rc != 0 ]; then
      if [ $update = 1 ]; then echo "FAILED    $name.dot: compile failed (exit $rc), left as it was"; update_errors=$((update_errors + 1))
      else not_ok "golden $name.dot: compile failed (exit $rc)"; diag < "$tmp/dot.err"; fi
    elif [ $update = 1 ]; then put "$tmp/dot" "$name.dot"
    else compare "$name.dot" "$tmp/dot"; fi
  fi

  if [ $want_compose = 1 ]; then
    out=$outroot/$name
    rm -rf "$out"
    "$ASPIREC" "$src" "${args[@]}" --emit=compose -o "$out" > "$tmp/c.out" 2>&1; rc=$?
    if [ $rc != 0 ] && [ $new_input = 1 ]; then
      echo "skipped   $name.compose.yaml: --emit=compose fails (exit $rc):"; sed 's/^/          /' "$tmp/c.out"
    elif [ $rc != 0 ]; then
      if [ $update = 1 ]; then echo "FAILED    $name.compose.yaml: compile failed (exit $rc), left as it was"; update_errors=$((update_errors + 1))
      else not_ok "golden $name.compose.yaml: compile failed (exit $rc)"; diag < "$tmp/c.out"; fi
    elif ! { [ ! -e "$out/.env" ] || generated "$tmp/ir" "$out/.env"; }; then
      not_ok "golden $name.env: cannot check its generated values"
    elif [ $update = 1 ]; then
      put "$out/docker-compose.yaml" "$name.compose.yaml"
      if [ -s "$out/.env" ]; then put "$out/.env" "$name.env"
      elif [ -e "$name.env" ]; then rm -f "$name.env"; echo "removed   $name.env (no .env emitted)"; fi
    else
      [ -e "$name.compose.yaml" ] && compare "$name.compose.yaml" "$out/docker-compose.yaml"
      [ -e "$name.env" ] && compare "$name.env" "$out/.env"
    fi
    rm -rf "$out"
  fi

  # NAME.TARGET/: the whole output directory of --emit=TARGET.
  for d in "${dirs[@]}"; do
    target_dir "${d#"$name".}" "$name" "$src" "${args[@]}"
  done
done

if [ $update = 1 ]; then
  [ $update_errors = 0 ] || { echo "golden.sh --update: $update_errors file(s) not written" >&2; exit 1; }
  exit 0
fi
apx_done
