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
shared=$APX_SRCDIR/../../shared/examples
[ -d "$shared" ] || shared=/work/shared/examples
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
for f in "$here"/roundtrip/*.diff; do
  [ -e "$f" ] || continue
  l=$(basename "$f"); l=${l%.*.diff}
  case $seen in *" $l "*) ;; *) not_ok "roundtrip/${f##*/}: no such input any more" ;; esac
done
apx_done
