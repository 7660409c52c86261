#!/bin/bash
# The .env writer against docker-compose itself: parameters with hostile
# values (quotes, $, #, backslashes, = signs, blanks, empty) go into .env
# through aspirec; `docker-compose config` must read back exactly each value
# into the service's environment, and aspirec must read its own .env back
# (a second emit without -p keeps every value). Values docker-compose v1
# and v2 cannot both read (a line break, a backslash at the end) must be
# refused with an error naming the parameter. The writer's own round trip of
# every value, those included: tests/unit/test_base.c.
. "$(dirname "$0")/../lib.sh"
need_aspirec
command -v docker-compose > /dev/null || { not_ok "docker-compose is not installed (scripts/setup.sh)"; exit 1; }
command -v node > /dev/null || { not_ok "node is not installed (scripts/setup.sh)"; exit 1; }
query=$APX_SRCDIR/tests/tools/compose-query.mjs
[ -d "$APX_SRCDIR/tests/tools/node_modules" ] || { not_ok "tests/tools/node_modules missing (scripts/setup.sh)"; exit 1; }
apx_tmpdir T

values=(
  "" "two words" " lead" "trail " "  " "a#b" "a #b" "#x" '$HOME' '$$' 'a$' 'a=b=c' "=" "it's" 'say "hi"'
  "'" '"' "'\"" '\x' 'a\\b' "a\\'b" 'a\"b' 'a\nb' $'tab\tx' "ünï" "~-_." "a'b\$c" "\\'x" 'end"' "x # y"
)
n=${#values[@]}
{
  for ((i = 0; i < n; i++)); do printf 'param p%d\n' "$i"; done
  printf 'container c {\n  image = "busybox"\n  env {\n'
  for ((i = 0; i < n; i++)); do printf '    V%d = p%d\n' "$i" "$i"; done
  printf '  }\n}\n'
} > "$T/t.apx"
args=()
for ((i = 0; i < n; i++)); do args+=(-p "p$i=${values[$i]}"); done

if "$ASPIREC" "$T/t.apx" --emit=compose -o "$T/out" "${args[@]}" 2> "$T/err"; then
  ok "aspirec writes $n hostile values to .env"
else
  not_ok "aspirec writes $n hostile values to .env"; diag < "$T/err"
fi
if docker-compose -f "$T/out/docker-compose.yaml" --project-directory "$T/out" config > "$T/config.yaml" 2> "$T/cerr"; then
  bad=0
  for ((i = 0; i < n; i++)); do
    got=$(node "$query" "$T/config.yaml" get "services.c.environment.V$i"; printf x)
    got=${got%x}
    got=${got%$'\n'}
    got=${got//\$\$/\$} # config writes a literal $ as $$
    if [ "$got" != "${values[$i]}" ]; then
      bad=$((bad + 1)); note "p$i: gave [${values[$i]}], docker-compose read [$got]"
    fi
  done
  if [ $bad = 0 ]; then ok "docker-compose config reads each of the $n values back unchanged"
  else not_ok "docker-compose config reads each of the $n values back unchanged ($bad differ)"; grep -v '^#' "$T/out/.env" | diag 80; fi
else
  not_ok "docker-compose config reads the emitted project"; diag < "$T/cerr"
fi

grep -v '^#' "$T/out/.env" > "$T/first"
"$ASPIREC" "$T/t.apx" --emit=compose -o "$T/out" 2> "$T/err2"
grep -v '^#' "$T/out/.env" > "$T/second"
if cmp -s "$T/first" "$T/second"; then ok "aspirec reads its own .env back: a second emit without -p keeps every value"
else not_ok "aspirec reads its own .env back: a second emit without -p keeps every value"; diff "$T/first" "$T/second" | diag; fi

for v in $'two\nlines' 'ends\'; do
  if "$ASPIREC" "$T/t.apx" --emit=compose -o "$T/out2" -p "p0=$v" > /dev/null 2> "$T/err3"; then
    not_ok "a value docker-compose cannot read back is refused"
  elif grep -q "parameter 'p0' contains" "$T/err3" && [ ! -e "$T/out2/.env" ]; then
    ok "a value docker-compose cannot read back is refused, naming the parameter, nothing written ($(printf %q "$v"))"
  else
    not_ok "a value docker-compose cannot read back is refused, naming the parameter"; diag < "$T/err3"
  fi
done
apx_done
