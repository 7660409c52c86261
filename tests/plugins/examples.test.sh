#!/bin/bash
# The plugins of examples/plugins/, each built outside the tree with its own
# Makefile against the installed headers (make install DESTDIR=…, pkg-config
# pointed there), linking nothing, and run with the installed aspirec:
# policy (located errors, exit 1), enrich (labels and annotations reach the
# output), systemd (units that systemd-analyze verify accepts).
. "$(dirname "$0")/lib.sh"
need_aspirec
apx_tmpdir T
plugins_install "$T/root"
EX=$APX_SRCDIR/examples/plugins

for p in policy enrich systemd; do
  cp -r "$EX/$p" "$T/$p"
  if make -s -C "$T/$p" > "$T/$p.log" 2>&1 && [ -f "$T/$p/$p.so" ]; then
    ok "examples/plugins/$p builds with its Makefile against the installed <aspirec/plugin.h>"
  else
    not_ok "examples/plugins/$p does not build"; diag < "$T/$p.log"; continue
  fi
  others=$(needed_of "$T/$p/$p.so" | grep -Ev '^libc\.so' || true)
  if [ -z "$others" ]; then ok "$p.so links nothing but libc"
  else not_ok "$p.so needs $others"; fi
done
grep -q 'pkg-config' "$EX/policy/Makefile" || not_ok "examples/plugins/policy/Makefile does not use pkg-config"

# ---- the tutorial's first plugin (doc/plugins.md), as printed there ------
awk '/^```c$/ { if (++n == 1) { on = 1; next } } /^```$/ { on = 0 } on' "$APX_SRCDIR/doc/plugins.md" > "$T/hello.c"
printf '// tutorial\n\ncontainer cache {\n  image = "redis:latest"\n}\n' > "$T/tut.apx"
# shellcheck disable=SC2046
if "${CC:-cc}" -shared -fPIC $(pkg-config --cflags aspirec) "$T/hello.c" -o "$T/hello.so" 2> "$T/hello.err"; then
  ok "doc/plugins.md: the tutorial's hello.c builds with the command it gives"
  (cd "$T" && "$AX" tut.apx --no-color --plugin=./hello.so) > /dev/null 2> "$T/hello.out"; rc=$?
  if [ "$rc" = 1 ] && grep -qx "tut.apx:4:11: error: image 'redis:latest' floats; pin it" "$T/hello.out"; then
    ok "the tutorial's pass reports its located error, exit 1"
  else not_ok "the tutorial's pass: exit $rc"; diag < "$T/hello.out"; fi
else not_ok "doc/plugins.md: hello.c does not build"; diag < "$T/hello.err"; fi

# ---- policy -------------------------------------------------------------
cd "$T" || exit 2
cat > bad.apx << 'APX'
container cache {
  image = "redis:latest"
  endpoint tcp { target_port = 6379 }
}
container web {
  image = "nginx"
  endpoint http { target_port = 80  external = true }
}
container api {
  image = "example.com/api@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
  endpoint http { target_port = 8080  external = true }
  health { http = "/healthz" }
}
APX
"$AX" bad.apx --no-color --plugin="$T/policy/policy.so" > out 2> err; rc=$?
cat > want << 'ERR'
bad.apx:2:11: error: policy: image 'redis:latest' of 'cache' uses the floating tag 'latest'; pin a version or a digest
    2 |   image = "redis:latest"
      |           ^~~~~~~~~~~~~~
bad.apx:6:11: error: policy: image 'nginx' of 'web' has no tag; pin a version or a digest
    6 |   image = "nginx"
      |           ^~~~~~~
bad.apx:7:3: error: policy: external endpoint 'http' of 'web' has no health check
    7 |   endpoint http { target_port = 80  external = true }
      |   ^~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~~
bad.apx:5:11: note: add health { http = "/healthz"  endpoint = "http" } to 'web'
    5 | container web {
      |           ^~~
3 errors, 0 warnings
ERR
if [ "$rc" = 1 ] && diff -u want err > d; then
  ok "policy: exit 1, the errors located and printed like the compiler's (api, with digest and check, passes)"
else
  not_ok "policy: exit $rc, or not the diagnostics expected"; diag < d; diag < err
fi
"$AX" bad.apx --plugin="$T/policy/policy.so" --emit=compose -o polout > /dev/null 2>&1; rc=$?
if [ "$rc" = 1 ] && [ ! -e polout ]; then ok "policy errors: nothing emitted (no output directory)"
else not_ok "policy errors with --emit: exit $rc, or polout written"; fi
"$AX" bad.apx --no-color --error-limit=1 --plugin="$T/policy/policy.so" > /dev/null 2> err; rc=$?
if [ "$rc" = 1 ] && [ "$(grep -c ': error: ' err)" = 1 ] && grep -q '^3 errors, 0 warnings' err; then
  ok "a plugin's errors obey --error-limit (1 shown, 3 counted)"
else not_ok "--error-limit=1 with the policy: exit $rc"; diag < err; fi
# The same program without the plugin is fine: the errors are the plugin's.
check "without --plugin the program compiles" "$AX" bad.apx
sed -i 's/redis:latest/redis:7.2/; s/"nginx"/"nginx:1.27"/; s/external = true }$/external = true }\n  health { tcp = "http" }/' bad.apx
sed -n 5,9p bad.apx > /dev/null
if "$AX" bad.apx --plugin="$T/policy/policy.so" > out 2> err; then ok "policy: pinned images and checked endpoints pass"
else not_ok "policy: a program that follows it fails"; diag < err; fi

# ---- enrich -------------------------------------------------------------
cat > app.apx << 'APX'
param region { default = "eu-west" }
container cache {
  image = "redis:7.2"
  endpoint tcp { target_port = 6379 }
  labels { team = "platform" }
}
executable api {
  command = "sh"
  args = ["-c", "echo 100% $HOME; exec sleep 100"]
  endpoint http { port = 8080 }
  env { CACHE = "redis://${cache.endpoints.tcp.host}:${cache.endpoints.tcp.port}"  REGION = region }
  references = [cache]
}
executable migrate {
  command = "./migrate.sh"
  restart = "no"
}
executable worker {
  command = "/bin/sh"
  args = ["-c", "exec sleep 100"]
  references = [api]
  wait_for = [api]
  wait_for_completion = [migrate]
  restart = "on-failure"
}
APX
printf '#!/bin/sh\nexit 0\n' > migrate.sh && chmod +x migrate.sh
printf '# owners\nlabel team = payments\nlabel tier = gold\nannotation cost-centre = CC-1042\n' > enrich.conf
if "$AX" app.apx --plugin="$T/enrich/enrich.so" --emit=ir > ir.json 2> err &&
   [ "$(jq -r '.resources[] | select(.name=="api") | .labels.team' ir.json)" = payments ] &&
   [ "$(jq -r '.resources[] | select(.name=="api") | .annotations["cost-centre"]' ir.json)" = CC-1042 ] &&
   [ "$(jq -r '.resources[] | select(.name=="cache") | .labels.team' ir.json)" = platform ]; then
  ok "enrich: labels and annotations from enrich.conf on every resource; a resource's own label wins"
else
  not_ok "enrich: labels and annotations not as expected"; diag < err; jq -c '.resources[] | {name, labels, annotations}' ir.json | diag
fi
if "$AX" app.apx --plugin="$T/enrich/enrich.so" --emit=compose -o compose > /dev/null 2> err &&
   grep -qx '      tier: gold' compose/docker-compose.yaml && grep -qx '      team: platform' compose/docker-compose.yaml; then
  ok "enrich: the labels reach the Compose file (cache keeps its own team)"
else not_ok "enrich: no labels in the Compose file"; diag < err; fi
printf 'label team = search\n' > other.conf
if "$AX" app.apx --plugin="$T/enrich/enrich.so" --plugin-arg=enrich:file="$T/other.conf" --emit=ir > ir.json 2> err &&
   [ "$(jq -r '.resources[] | select(.name=="api") | .labels.team' ir.json)" = search ]; then
  ok "enrich: --plugin-arg=enrich:file=PATH chooses the file"
else not_ok "enrich: --plugin-arg=enrich:file= was not read"; diag < err; fi
for bad in "nope:file=x" "enrich" "enrich:" ":file=x"; do
  "$AX" app.apx --plugin="$T/enrich/enrich.so" --plugin-arg="$bad" > out 2> err; rc=$?
  if [ "$rc" = 2 ] && grep -q -- "--plugin-arg=$bad: " err; then ok "--plugin-arg=$bad: exit 2 ($(cat err))"
  else not_ok "--plugin-arg=$bad: exit $rc"; diag < err; fi
done
printf 'label team\n' > broken.conf
APX_ENRICH_FILE=$T/broken.conf "$AX" app.apx --no-color --plugin="$T/enrich/enrich.so" > out 2> err; rc=$?
if [ "$rc" = 1 ] && grep -q "error: enrich: $T/broken.conf:1: no '=' between key and value" err; then
  ok "enrich: a bad line of its file is an error naming file and line, exit 1"
else not_ok "enrich: bad file: exit $rc"; diag < err; fi

# ---- systemd ------------------------------------------------------------
if "$AX" app.apx --plugin="$T/systemd/systemd.so" --list-targets | grep -q '^systemd .*\[plugin systemd\]'; then
  ok "--list-targets shows the plugin's back end"
else not_ok "--list-targets does not show systemd"; fi
if "$AX" app.apx --plugin="$T/systemd/systemd.so" --emit=systemd -o units > out 2> err; then
  ok "--emit=systemd -o units succeeds"
else not_ok "--emit=systemd fails"; diag < err; fi
ls units > list
printf '%s\n' app-api.service app-migrate.service app-worker.service app.target > want
if diff -u want list > d; then ok "systemd: a unit per executable, and app.target (the container left out)"
else not_ok "systemd: not the units expected"; diag < d; fi
if grep -q "warning: systemd: 'api' depends on container 'cache', which has no unit" err; then
  ok "systemd: a dependency on a container is a warning"
else not_ok "systemd: no warning for the container"; diag < err; fi
w=units/app-worker.service a=units/app-api.service
check_line() { if grep -qxF -- "$2" "$1"; then ok "systemd: $(basename "$1") has $2"; else not_ok "systemd: $(basename "$1") lacks $2"; diag < "$1"; fi; }
check_line "$w" "After=app-api.service"
check_line "$w" "Requires=app-api.service"
check_line "$w" "After=app-migrate.service"
check_line "$w" "Restart=on-failure"
check_line "$w" 'ExecStart="/bin/sh" "-c" "exec sleep 100"'
check_line "$w" 'Environment="API_URI=http://localhost:8080"'
check_line "$a" 'Environment="CACHE=redis://localhost:6379"'
check_line "$a" 'Environment="REGION=eu-west"'
# shellcheck disable=SC2016  # systemd's $$, not the shell's
check_line "$a" 'ExecStart="sh" "-c" "echo 100%% $$HOME; exec sleep 100"'
check_line "$a" "WorkingDirectory=$T"
check_line units/app-migrate.service "Type=oneshot"
check_line units/app-migrate.service "ExecStart=\"$T/./migrate.sh\""
check_line units/app-migrate.service "Restart=no"
check_line units/app.target "Wants=app-worker.service"
if [ "$(grep -c '^After=app-api.service$' "$w")" = 1 ]; then ok "systemd: one After= for references and wait_for on the same unit"
else not_ok "systemd: After=app-api.service repeated"; fi
if ! command -v systemd-analyze > /dev/null; then
  not_ok "systemd-analyze is not installed (apt-get install systemd)"
elif systemd-analyze verify units/*.service units/app.target > verify.log 2>&1; then
  ok "systemd-analyze verify accepts every unit"
else
  not_ok "systemd-analyze verify rejects the units"; diag < verify.log
fi
# The check can fail: a unit with a relative working directory is refused.
sed 's|^WorkingDirectory=.*|WorkingDirectory=relative|' "$a" > units/bad.service
if systemd-analyze verify units/bad.service > verify.log 2>&1; then not_ok "systemd-analyze verify accepted a broken unit"
else ok "systemd-analyze verify rejects a broken unit (the check is real)"; fi
rm -f units/bad.service
# An unset parameter cannot be rendered for this machine: a located error.
sed -i 's/param region { default = "eu-west" }/param region {}/' app.apx
rm -rf units2
"$AX" app.apx --no-color --plugin="$T/systemd/systemd.so" --emit=systemd -o units2 > out 2> err; rc=$?
if [ "$rc" = 1 ] && grep -q "^app.apx:11:.*error: systemd: REGION of 'api' needs parameter 'region', which has no value" err && [ ! -e units2 ]; then
  ok "systemd: an unset parameter is a located error, exit 1, no files written"
else not_ok "systemd: unset parameter: exit $rc"; diag < err; fi
san_clean err || { not_ok "sanitizer report"; diag < err; }
apx_done
