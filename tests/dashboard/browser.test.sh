#!/bin/bash
# apx-test: slow
# The dashboard in a real browser (tests/dashboard/browser.mjs: headless
# Chromium through playwright-core): log in through the token URL, every
# resource of a topology (processes, redis through its local fallback)
# reaches running/healthy, the graph, secrets masked until revealed, a
# stopped resource's dependents affected, restart (new PID and start
# time), an explicit_start resource started from the page, live console
# lines with ANSI colours, filter and pause, a 50 MB flood (bounded page,
# the drop mark), the telemetry pages' places. Screenshots in
# tests/out/dashboard/.
. "$(dirname "$0")/../lib.sh"
. "$APX_SRCDIR/tests/run/helpers.sh"
need_aspirec
node=$(command -v node) || { not_ok "node is not installed (scripts/setup.sh)"; apx_done; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { not_ok "chromium is not installed (scripts/setup.sh)"; apx_done; }
[ -d "$APX_SRCDIR/tests/dashboard/node_modules/playwright-core" ] ||
  { not_ok "playwright-core is missing: npm ci in tests/dashboard (scripts/setup.sh)"; apx_done; }
command -v redis-server > /dev/null || { not_ok "redis-server is not installed (scripts/setup.sh)"; apx_done; }
apx_tmpdir T
cp "$APX_SRCDIR"/tests/run/progs/* "$T"/
cat > "$T/app.apx" <<'APX'
import "redis"
param pw { secret = true  default = "s3cret-pw-1234" }
executable db {
  command = "python3"
  args    = ["server.py", "db"]
  endpoint http { env = "PORT" }
  health { http = "/"  interval = 200ms }
  env { DB_PASSWORD = pw }
}
redis cache {}
executable api {
  command  = "sh"
  args     = ["-c", "i=0; while true; do i=$((i+1)); printf '\\033[32mtick %s\\033[0m plain\\n' $i; sleep 0.2; done"]
  wait_for = [db, cache]
  references = [db]
}
executable worker {
  command = "sh"
  args    = ["-c", "echo worker up; exec sleep 1000"]
  wait_for_start = [api]
  references = [cache]
}
executable later {
  command = "sh"
  args = ["-c", "echo later started; exec sleep 1000"]
  explicit_start = true
}
executable flood {
  command = "python3"
  args = ["flood.py", "flood", "500000", "100"]
  explicit_start = true
}
APX
run_start "$T/out" "$T/app.apx" --run --engine=local --no-color --dashboard-token=t0ken-for-tests --state-dir="$T/state"
wait_for_text "$T/out" 'dashboard: http://127.0.0.1:[0-9]+/login' 20 || { not_ok "no dashboard URL"; show "$T/out"; apx_done; }
url=$(grep -oE 'http://127.0.0.1:[0-9]+/login\?t=[^ ]+' "$T/out" | head -1)
check "the start-up summary prints the login URL with the token" test "${url##*t=}" = t0ken-for-tests
out="$APX_SRCDIR/tests/out/dashboard"
rm -rf "$out"
if (cd "$APX_SRCDIR/tests/dashboard" && "$node" browser.mjs "$url" "$out") > "$T/browser" 2>&1; then :; fi
while IFS= read -r line; do
  case $line in
    "ok - "*) ok "${line#ok - }" ;;
    "not ok - "*) not_ok "${line#not ok - }" ;;
    *) note "$line" ;;
  esac
done < "$T/browser"
grep -q '^ok - ' "$T/browser" || { not_ok "the browser script reported nothing"; diag < "$T/browser"; }
kill -INT "$RUN_PID"
wait_exit "$RUN_PID" 20 || not_ok "aspirec did not stop"
check "aspirec stops cleanly after the session (exit status $RUN_RC; no sanitizer report)" \
  bash -c "[ '$RUN_RC' = 0 ] && ! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$T/out'"
check "screenshots saved" test -s "$out/resources.png" -a -s "$out/console.png"
apx_done
