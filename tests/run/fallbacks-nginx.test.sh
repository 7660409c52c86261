#!/bin/bash
# Run mode: the stdlib's nginx through its local fallback (Debian's nginx,
# a configuration written into its state directory), with a real client: an
# app that waits for it (http health check) and fetches a page of the
# program's site through the URL run mode renders, then one that is not
# there (404); two replicas of it behind the proxy serve in turn. Ctrl-C
# leaves no nginx process (master and workers).
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
need_aspirec
command -v nginx > /dev/null || [ -x /usr/sbin/nginx ] ||
  { not_ok "nginx is missing (bash scripts/setup.sh installs it)"; apx_done; exit; }
apx_tmpdir T
chmod 755 "$T" # nginx's workers (nobody, under root) read the site
cp "$APX_SRCDIR"/tests/run/progs/* "$T"/
mkdir "$T/site"
token=site-$$-$RANDOM
printf '<h1>%s</h1>\n' "$token" > "$T/site/index.html"
chmod -R a+rX "$T/site"
cat > "$T/web.apx" <<APX
import "nginx"
nginx web { local_root = "$T/site" }
// Two replicas of the fallback behind the proxy: they share the state
// directory, each with a configuration of its own.
nginx pair {
  local_root = "$T/site"
  replicas   = 2
}
executable pairclient {
  command  = "sh"
  args     = ["-c", "for i in 1 2 3 4 5 6; do python3 fallback_client.py nginx /index.html | head -1; done; echo pairclient done"]
  env { WEB_URL = pair.endpoints.http.url }
  wait_for = [pair]
}
executable page {
  command  = "python3"
  args     = ["fallback_client.py", "nginx", "/index.html"]
  env { WEB_URL = web.endpoints.http.url }
  wait_for = [web]
}
executable missing {
  command  = "python3"
  args     = ["fallback_client.py", "nginx", "/not-there.html"]
  env { WEB_URL = web.endpoints.http.url }
  wait_for = [web]
}
APX
out=$T/out
run_start "$out" "$T/web.apx" --run --engine=local --grace 5s
if wait_for_text "$out" 'page: (finished|ended|failed)' 20 && wait_for_text "$out" 'missing: (finished|ended|failed)' 5; then
  grep -qE '^page +\| status: 200$' "$out" && grep -qE "^page +\| <h1>$token</h1>\$" "$out" &&
    ok "the app fetched the site's page from the local nginx (200, its content)" ||
    { not_ok "the app fetches the page through nginx"; show "$out"; }
  grep -qE '^missing +\| status: 404$' "$out" && ok "a page that is not there: 404" ||
    { not_ok "a missing page: 404"; show "$out"; }
  grep -qE '^web +\| 127\.0\.0\.1 .*"GET /index\.html HTTP/1\.1" 200' "$out" &&
    ok "nginx's access log comes through run mode's log, prefixed" || { not_ok "nginx's access log in the run's output"; show "$out"; }
else
  not_ok "the apps ran against nginx"; show "$out"
fi
# nginx overwrites its environment (its process titles), so the test mark
# cannot find it: its processes are found by session, which is the one
# run mode gave it (setsid: the session id is the started pid).
sid=$(sed -n 's/.*web: started (pid \([0-9]*\)).*/\1/p' "$out" | head -1)
in_session() { [ -n "$sid" ] && ps -e -o sid=,pid=,comm= | awk -v s="$sid" '$1 == s {print $2 " " $3}'; }
if wait_for_text "$out" 'pairclient +\| pairclient done' 10 &&
   [ "$(grep -cE '^pairclient +\| status: 200$' "$out")" = 6 ] &&
   [ "$(grep -cE '^pair\.0 +\| 127\.0\.0\.1 .*"GET /index\.html' "$out")" = 3 ] &&
   [ "$(grep -cE '^pair\.1 +\| 127\.0\.0\.1 .*"GET /index\.html' "$out")" = 3 ]; then
  ok "two replicas of the fallback behind the proxy: 6 pages, 3 served by each"
else not_ok "two nginx replicas behind the proxy serve in turn"; show "$out"; fi
n=$(in_session | grep -c ' nginx$')
[ "$n" -ge 2 ] && ok "nginx runs as master and workers in its own session ($n processes, session $sid)" ||
  not_ok "nginx master and workers run in session '$sid' ($n)"
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 15
[ "$RUN_RC" = 0 ] && ok "Ctrl-C stops it, status 0" || { not_ok "Ctrl-C (status $RUN_RC)"; show "$out"; }
for _ in $(seq 30); do [ -z "$(in_session)" ] && break; sleep 0.1; done
[ -n "$sid" ] && [ -z "$(in_session)" ] && ok "no nginx process is left (master and workers)" ||
  { not_ok "nginx processes left"; in_session | diag; }
no_marked_left "$RUN_MARK" 5 && ok "no other process of the run is left" ||
  { not_ok "processes left"; for p in $(mark_pids "$RUN_MARK"); do echo "$p $(tr '\0' ' ' < "/proc/$p/cmdline" | cut -c1-120)"; done | diag; }
apx_done
