#!/bin/bash
# --emit=compose and parameters in .env: a parameter with `generate` gets a
# random value at emit time, written only to .env (mode 0600), kept when
# aspirec writes the file again, never in the YAML, never printed; one with
# no value, no default and no generator stays required and aspirec warns
# once, naming every such variable. The project then passes
# `docker-compose config` with no edit of .env.
. "$(dirname "$0")/../lib.sh"
need_aspirec
command -v docker-compose > /dev/null || { not_ok "docker-compose is not installed (scripts/setup.sh)"; exit 1; }
apx_tmpdir T

cat > "$T/app.apx" <<'APX'
param db_password { secret = true  generate = { length = 30, special = true, min_special = 2 } }
param api_key     { secret = true }
param region
param level       { default = "info" }
param given       { secret = true  generate = { length = 10 } }
container server {
  image = "busybox"
  env {
    PASSWORD = db_password
    GIVEN    = given
    LEVEL    = level
  }
}
container client {
  image = "busybox"
  env {
    PASSWORD = db_password
    KEY      = api_key
    REGION   = region
  }
}
APX
out=$T/out
env_value() { # KEY FILE: the value as the .env reader takes it (generated values need no unquoting but ')
  sed -n "s/^$1=//p" "$2" | sed "s/^'\(.*\)'\$/\1/"
}

"$ASPIREC" "$T/app.apx" --emit=compose -o "$out" -p given=from-the-command-line > "$T/out1" 2> "$T/err1"
rc=$?
check "emit exits 0 (warnings only)" test "$rc" = 0
pw=$(env_value DB_PASSWORD "$out/.env")
if [[ $pw =~ ^[A-Za-z0-9._~-]{30}$ ]] && [ "$(printf %s "$pw" | tr -cd '._~-' | wc -c)" -ge 2 ]; then
  ok "the generated value has the generator's length, characters and minimum ($(printf %s "$pw" | wc -c) chars)"
else
  not_ok "the generated value has the generator's length, characters and minimum: [$pw]"; diag < "$out/.env"
fi
check "a parameter given with -p keeps that value, not a generated one" test "$(env_value GIVEN "$out/.env")" = from-the-command-line
mode=$(stat -c %a "$out/.env")
check "the .env holding the secret is mode 0600 (is $mode)" test "$mode" = 600
if grep -qF -- "$pw" "$out/docker-compose.yaml"; then not_ok "the generated value is not in the YAML"
else ok "the generated value is not in the YAML"; fi
if grep -qF -- "$pw" "$T/out1" "$T/err1"; then not_ok "the generated value is not printed (stdout, stderr)"
else ok "the generated value is not printed (stdout, stderr)"; fi

# The warning: once, naming both variables, and nothing about the generated ones.
n=$(grep -c "needs a value" "$T/err1")
if [ "$n" = 1 ] && grep -q "needs a value for API_KEY, REGION before docker-compose" "$T/err1" &&
   ! grep -q "DB_PASSWORD\|LEVEL\|GIVEN" "$T/err1"; then
  ok "one warning names the variables without a value or generator (API_KEY, REGION)"
else
  not_ok "one warning names the variables without a value or generator"; diag < "$T/err1"
fi

# Again: the value is kept, the YAML is the same bytes.
cp "$out/docker-compose.yaml" "$T/first.yaml"
"$ASPIREC" "$T/app.apx" --emit=compose -o "$out" -p given=from-the-command-line > "$T/out2" 2> "$T/err2"
check "a second emit keeps the generated value" test "$(env_value DB_PASSWORD "$out/.env")" = "$pw"
check "the YAML is byte-identical across emits" cmp "$T/first.yaml" "$out/docker-compose.yaml"
if grep -qF -- "$pw" "$T/out2" "$T/err2"; then not_ok "the second emit prints no secret"; else ok "the second emit prints no secret"; fi

# A fresh directory draws a new value (random, not a constant).
"$ASPIREC" "$T/app.apx" --emit=compose -o "$T/other" -p given=x > /dev/null 2>&1
pw2=$(env_value DB_PASSWORD "$T/other/.env")
check "another output directory gets another random value" test -n "$pw2" -a "$pw2" != "$pw"

# An .env from an older aspirec (empty generated value) gets one; a value a
# user set is kept; a filled required value silences the warning.
sed -i -e 's/^DB_PASSWORD=.*/DB_PASSWORD=/' -e 's/^API_KEY=.*/API_KEY=mine/' -e 's/^REGION=.*/REGION=eu/' "$out/.env"
"$ASPIREC" "$T/app.apx" --emit=compose -o "$out" -p given=from-the-command-line > /dev/null 2> "$T/err3"
pw3=$(env_value DB_PASSWORD "$out/.env")
check "an empty generated value left by an older .env is drawn anew" test "${#pw3}" = 30
check "values the user set in .env are kept" test "$(env_value API_KEY "$out/.env")/$(env_value REGION "$out/.env")" = mine/eu
if grep -q "needs a value" "$T/err3"; then not_ok "no warning once every required value is set"; diag < "$T/err3"
else ok "no warning once every required value is set"; fi

# The shop example comes up as emitted: docker-compose accepts it with no edit.
"$ASPIREC" "$APX_SRCDIR/examples/shop.apx" --emit=compose -o "$T/shop" > /dev/null 2> "$T/shop.err"
check "examples/shop.apx: docker-compose config accepts the project as emitted" \
  docker-compose -f "$T/shop/docker-compose.yaml" --project-directory "$T/shop" config -q
check "examples/shop.apx: emitted without a warning about .env" sh -c "! grep -q 'needs a value' '$T/shop.err'"
apx_done
