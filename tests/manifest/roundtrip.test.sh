#!/bin/bash
# apx-test: slow
# Round trip: every example (examples/*.apx, ../shared/examples/*.apx, the
# golden inputs that compile) compiled to Compose, k8s and Bicep directly, and
# through its manifest (.apx -> --emit=manifest -> aspirec aspire-manifest.json
# -> the same target). The two outputs are compared with diff -r; what differs
# is the documented list of differences (doc/manifest.md, "Round trip"), kept
# as roundtrip/NAME.TARGET.diff: a difference that is not in it, or one in it
# that is gone, fails. No .diff file: the outputs must be identical.
# Generated parameters get one fixed value (-p) for both compiles, so that
# .env and secrets.yaml compare. `--update` rewrites the .diff files.
. "$(dirname "$0")/../lib.sh"
need_aspirec
update=0; [ "${1:-}" = --update ] && update=1
here=$APX_SRCDIR/tests/manifest
apx_tmpdir tmp
shared=$(apx_shared_dir)/examples || { shared=/nonexistent; note "no shared examples folder: only this tree's inputs"; }
shopt -s nullglob
inputs=("$APX_SRCDIR"/examples/*.apx "$shared"/*.apx "$APX_SRCDIR"/tests/golden/*.apx)
shopt -u nullglob

# fixed_params FILE ARGS...: -p NAME=VALUE for each parameter the IR would generate.
fixed_params() {
  local src=$1; shift
  (cd "$(dirname "$src")" && "$ASPIREC" "$(basename "$src")" "$@" --emit=ir 2> /dev/null) | python3 -c '
import json, sys
try: ir = json.load(sys.stdin)
except ValueError: sys.exit(0)
for r in ir.get("resources", []):
    p = r.get("param")
    if isinstance(p, dict) and "generate" in p and "value" not in p:
        print("-p %s=RtFixed%d" % (r["name"], len(r["name"])))'
}

seen=" "
for src in "${inputs[@]}"; do
  name=$(basename "$src" .apx)
  case $name in bad-*) continue ;; esac
  case $src in "$shared"/*) label=shared-$name ;; "$APX_SRCDIR"/tests/golden/*) label=golden-$name ;; *) label=$name ;; esac
  errf=${src%.apx}.err
  if [ -f "$errf" ] && ! tail -n 1 "$errf" | grep -qx 'exit: 0'; then continue; fi
  read -ra args <<< "$(apx_args_of "$src")"
  read -ra fixed <<< "$(fixed_params "$src" "${args[@]}" | tr '\n' ' ')"
  # The manifest's directory names the app, as the .apx file's name does.
  mdir=$tmp/m/$label/$name
  mkdir -p "$mdir"
  if ! (cd "$(dirname "$src")" && "$ASPIREC" "$(basename "$src")" "${args[@]}" "${fixed[@]}" --emit=manifest -o "$mdir" > "$tmp/emit.log" 2>&1); then
    not_ok "$label: --emit=manifest"; diag < "$tmp/emit.log"; continue
  fi
  for target in compose k8s bicep; do
    a=$tmp/a/$label/$target b=$tmp/b/$label/$target
    mkdir -p "$(dirname "$a")" "$(dirname "$b")"
    (cd "$(dirname "$src")" && "$ASPIREC" "$(basename "$src")" "${args[@]}" "${fixed[@]}" --emit=$target -o "$a" > "$a.log" 2>&1); ra=$?
    (cd "$mdir" && NO_COLOR=1 "$ASPIREC" aspire-manifest.json "${args[@]}" "${fixed[@]}" --emit=$target -o "$b" > "$b.log" 2>&1); rb=$?
    {
      [ $ra = $rb ] || { echo "exit: direct $ra, through the manifest $rb"; grep -E ': error: ' "$b.log" | sed "s|$tmp|TMP|g"; }
      (cd "$tmp" && diff -r "a/$label/$target" "b/$label/$target" 2>&1)
    } > "$tmp/actual.diff"
    exp=$here/roundtrip/$label.$target.diff
    if [ $update = 1 ]; then
      if [ -s "$tmp/actual.diff" ]; then cp "$tmp/actual.diff" "$exp"; else rm -f "$exp"; fi
    fi
    if [ ! -s "$tmp/actual.diff" ] && [ ! -f "$exp" ]; then
      ok "$label $target: identical through the manifest"
    elif [ -f "$exp" ] && diff -u "$exp" "$tmp/actual.diff" > "$tmp/dd"; then
      ok "$label $target: differs only as documented ($(grep -c '^[<>]' "$exp") lines, roundtrip/${exp##*/})"
    else
      not_ok "$label $target: the round trip differs from roundtrip/${exp##*/}"
      if [ -f "$exp" ]; then diag 40 < "$tmp/dd"; else diag 40 < "$tmp/actual.diff"; fi
    fi
  done
  seen="$seen$label "
done
# The other way: Aspire's manifest -> aspirec -> --emit=manifest. What
# aspirec reads comes back as written (the stdlib mapping included), but for
# the documented differences: a project.v0 gets the target port enrich chose
# (8080); paths are written from the output directory.
mkdir -p "$tmp/mm/testshop"
if (cd "$here" && "$ASPIREC" testshop.json --emit=manifest -o "$tmp/mm/testshop" > "$tmp/mm.log" 2>&1) &&
   python3 - "$here/testshop.json" "$tmp/mm/testshop/aspire-manifest.json" "$tmp/mm/testshop" "$here" > "$tmp/mm.diff" 2>&1 <<'PY'
import json, os, sys
a = json.load(open(sys.argv[1]))["resources"]; b = json.load(open(sys.argv[2]))["resources"]
out, src = sys.argv[3], sys.argv[4]
bad = []
if set(a) != set(b): bad.append("resources: %s vs %s" % (sorted(a), sorted(b)))
for k in a:
    x, y = a[k], dict(b.get(k, {}))
    if x.get("type") == "project.v0":
        # its path written from the output directory; the target port enrich chose added
        if os.path.realpath(os.path.join(out, y.get("path", ""))) != os.path.realpath(os.path.join(src, x["path"])):
            bad.append("%s: path %s" % (k, y.get("path")))
        y["path"] = x["path"]
        for name, bd in y.get("bindings", {}).items():
            if "targetPort" not in x.get("bindings", {}).get(name, {}) and bd.get("targetPort") == 8080: del bd["targetPort"]
    if "workingDirectory" in x:
        wd = os.path.normpath(os.path.join(out, y.get("workingDirectory", "")))
        if os.path.realpath(wd) != os.path.realpath(os.path.join(src, x["workingDirectory"])): bad.append("%s: workingDirectory %s" % (k, wd))
        y["workingDirectory"] = x["workingDirectory"]
    if x != y: bad.append("%s:\n  in:  %s\n  out: %s" % (k, json.dumps(x), json.dumps(y)))
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
then ok "testshop.json -> aspirec -> --emit=manifest: the same resources (the projects' target port added)"
else not_ok "testshop.json through aspirec and back differs"; cat "$tmp/mm.log" "$tmp/mm.diff" | diag 30; fi

for f in "$here"/roundtrip/*.diff; do
  [ -e "$f" ] || continue
  l=$(basename "$f"); l=${l%.*.diff}
  case $seen in *" $l "*) ;; *) not_ok "roundtrip/${f##*/}: no such input any more" ;; esac
done
apx_done
