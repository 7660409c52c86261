#!/bin/bash
# The dashboard's HTTP side without a browser (curl): 401 or a redirect to
# the login without the token, the cookie from the token URL, Bearer, the
# Host check, commands POST only and refused cross-site, CSP on every
# response, secrets only when revealed, the OTEL environment with the OTLP
# key, console logs (JSON, text, follow), commands (start of an
# explicit_start resource, stop, restart), ports (--dashboard=PORT taken,
# the next free one), --no-dashboard.
. "$(dirname "$0")/../lib.sh"
. "$APX_SRCDIR/tests/run/helpers.sh"
need_aspirec
command -v curl > /dev/null || { not_ok "curl is not installed"; apx_done; }
apx_tmpdir T
cat > "$T/app.apx" <<'APX'
param pw { secret = true  default = "pw-never-shown-42" }
executable db {
  command = "sh"
  args    = ["-c", "echo \"otel: $OTEL_EXPORTER_OTLP_ENDPOINT $OTEL_EXPORTER_OTLP_PROTOCOL $OTEL_EXPORTER_OTLP_HEADERS $OTEL_RESOURCE_ATTRIBUTES\"; i=0; while true; do i=$((i+1)); echo \"db line $i\"; sleep 0.1; done"]
  env { DB_PASSWORD = pw }
}
executable api {
  command  = "sh"
  args     = ["-c", "echo api up; exec sleep 1000"]
  wait_for_start = [db]
}
executable later {
  command = "sh"
  args = ["-c", "echo later up; exec sleep 1000"]
  explicit_start = true
}
executable after {
  command  = "sh"
  args     = ["-c", "echo after up; exec sleep 1000"]
  wait_for = [later]
}
executable pair {
  command = "sh"
  args = ["-c", "echo pair up; exec sleep 1000"]
  replicas = 2
}
APX
run_start "$T/out" "$T/app.apx" --run --no-color --state-dir="$T/state"
MAIN_PID=$RUN_PID
wait_for_text "$T/out" 'dashboard: http://127.0.0.1:[0-9]+/login\?t=[0-9a-f]{32}' 20 ||
  { not_ok "the start-up summary prints the dashboard's login URL"; show "$T/out"; apx_done; }
ok "the start-up summary prints the dashboard's login URL with a random token"
url=$(grep -oE 'http://127.0.0.1:[0-9]+/login\?t=[0-9a-f]+' "$T/out" | head -1)
tok=${url##*t=} base=${url%/login*} port=${base##*:}
wait_for_text "$T/out" 'api: started' 20 || { not_ok "api started"; show "$T/out"; }
A=(-H "Authorization: Bearer $tok")
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

# Without the token.
check "GET /api/resources without the token: 401" test "$(code "$base/api/resources")" = 401
check "... with a wrong token: 401" test "$(code -H 'Authorization: Bearer nope' "$base/api/resources")" = 401
check "... with a wrong cookie: 401" test "$(code -H 'Cookie: apx_dash=nope' "$base/api/resources")" = 401
curl -s -D "$T/h" -o /dev/null "$base/"
check "a page without the token redirects to /login" grep -qiE '^location: /login' "$T/h"
check "an unknown path without the token says nothing of what exists (401)" test "$(code "$base/api/nothing")" = 401
check "the login page with a wrong token: 401" test "$(code "$base/login?t=wrong")" = 401
curl -s -D "$T/h401" -o /dev/null "$base/api/resources"
check "a 401 carries the Content-Security-Policy" grep -qi "^content-security-policy: default-src 'none'; script-src 'self'" "$T/h401"
check "... and WWW-Authenticate: Bearer" grep -qi '^www-authenticate: bearer' "$T/h401"

# The token URL: the cookie.
curl -s -D "$T/hl" -o /dev/null "$url"
check "the token URL sets an HttpOnly, SameSite=Strict cookie" grep -qiE '^set-cookie: apx_dash=[0-9a-f]+; Path=/; HttpOnly; SameSite=Strict' "$T/hl"
check "... and sends the browser to /" grep -qi '^location: /' "$T/hl"
C=(-H "Cookie: apx_dash=$tok")
check "the cookie opens the page" test "$(code "${C[@]}" "$base/")" = 200
curl -s -D "$T/hp" -o "$T/index.html" "${C[@]}" "$base/"
check "the page carries the CSP, nosniff and no-referrer" \
  bash -c "grep -qi '^content-security-policy:' '$T/hp' && grep -qi '^x-content-type-options: nosniff' '$T/hp' && grep -qi '^referrer-policy: no-referrer' '$T/hp'"
check "the page has no inline script (the CSP forbids it)" bash -c "! grep -qE '<script>|<script [^>]*>[^<]' '$T/index.html'"
check "its script is embedded in the binary" test "$(code "${C[@]}" "$base/static/app.js")" = 200
check "the navigation has the telemetry pages' places" grep -q 'data-page="traces"' "$T/index.html"
check "Host must be this server (a rebound name is refused)" \
  test "$(code "${A[@]}" -H "Host: evil.example:$port" "$base/api/resources")" = 421

# The API.
curl -s "${A[@]}" "$base/api/resources" > "$T/res.json"
check "GET /api/resources lists every resource" \
  python3 -c "import json,sys; r=json.load(open('$T/res.json'))['resources']; sys.exit(0 if [u['name'] for u in r]==['db','api','later','after','pair.0','pair.1'] else 1)"
check "the explicit_start resource is not started" \
  python3 -c "import json,sys; r={u['name']:u for u in json.load(open('$T/res.json'))['resources']}; sys.exit(0 if r['later']['state']=='not started' and r['later']['explicitStart'] else 1)"
check "what waits for it says why: waiting for later: healthy" \
  grep -q '"name":"after".*"state":"waiting".*"waiting":"waiting for later: healthy"' <(curl -s "${A[@]}" "$base/api/resources/after")
curl -s "${A[@]}" "$base/api/resources/db" > "$T/db.json"
check "a secret's value is not sent" bash -c "! grep -q pw-never-shown-42 '$T/db.json' && grep -q '\"name\":\"DB_PASSWORD\",\"value\":null,\"secret\":true' '$T/db.json'"
check "the OTLP key is not sent either" grep -q '"name":"OTEL_EXPORTER_OTLP_HEADERS","value":null,"secret":true' "$T/db.json"
check "?reveal=1 sends it (authenticated)" grep -q '"DB_PASSWORD","value":"pw-never-shown-42"' <(curl -s "${A[@]}" "$base/api/resources/db?reveal=1")
check "?reveal=1 without the token: 401" test "$(code "$base/api/resources/db?reveal=1")" = 401
check "an unknown resource: 404" test "$(code "${A[@]}" "$base/api/resources/nope")" = 404

# The telemetry API's key (x-api-key, as Aspire's Dashboard:Api:AuthMode=ApiKey).
kf="$T/state/dashboard-api-key"
check "the API key is left in STATE/dashboard-api-key, readable by the user alone" \
  bash -c "[ \"\$(stat -c %a '$kf')\" = 600 ] && grep -qxE '[0-9a-f]{32}' '$kf'"
key=$(cat "$kf" 2> /dev/null)
check "... and printed nowhere (not on the terminal, not in the run log)" \
  bash -c "[ -n '$key' ] && ! grep -rqF '$key' '$T/out' '$T/state/logs'"
K=(-H "x-api-key: $key")
check "x-api-key reads /api/telemetry/resources" test "$(code "${K[@]}" "$base/api/telemetry/resources")" = 200
check "... /api/telemetry/logs, spans, traces, metrics" bash -c "for p in logs spans traces metrics; do
  [ \$(curl -s -o /dev/null -w '%{http_code}' -H 'x-api-key: $key' '$base/api/telemetry/'\$p) = 200 ] || exit 1; done"
check "a wrong x-api-key: 401" test "$(code -H 'x-api-key: nope' "$base/api/telemetry/resources")" = 401
check "... also beside a valid cookie (a key given must be right)" \
  test "$(code -H 'x-api-key: nope' "${C[@]}" "$base/api/telemetry/resources")" = 401
check "... and a key one character short: 401" test "$(code -H "x-api-key: ${key%?}" "$base/api/telemetry/resources")" = 401
check "the API key does not open /api/resources" test "$(code "${K[@]}" "$base/api/resources")" = 401
check "... nor the console logs" test "$(code "${K[@]}" "$base/api/logs")" = 401
check "... nor a command" test "$(code -X POST "${K[@]}" "$base/api/resources/later/start")" = 401
check "... nor the page (a redirect to the login)" test "$(code "${K[@]}" "$base/")" = 302
check "... nor is it the OTLP key" test "$(code -X POST -H "x-otlp-api-key: $key" \
  -H 'Content-Type: application/json' --data '{}' "$base/v1/logs")" = 401
check "the token still reads the telemetry API without a key" \
  test "$(code "${A[@]}" "$base/api/telemetry/resources")" = 200

# The OTEL environment of every resource.
otel=$(grep -m1 'otel: ' "$T/out")
check "the resource gets the OTLP endpoint of this dashboard" grep -q "otel: http://localhost:$port http/protobuf" <<< "$otel"
check "... the key in OTEL_EXPORTER_OTLP_HEADERS, not the login token" \
  bash -c "grep -qE 'x-otlp-api-key=[0-9a-f]{32} ' <<< '$otel' && ! grep -q '$tok' <<< '$otel'"
check "... and its instance in OTEL_RESOURCE_ATTRIBUTES" grep -q 'service.instance.id=db$' <<< "$otel"

# Console logs.
curl -s "${A[@]}" "$base/api/resources/db/logs" > "$T/logs.json"
check "GET …/logs: the resource's lines" grep -q '"r":"db","text":"db line 1"' "$T/logs.json"
curl -s -D "$T/hd" -o "$T/logs.txt" "${A[@]}" "$base/api/logs?format=text"
check "?format=text downloads them as text" bash -c "grep -qi '^content-disposition: attachment' '$T/hd' && grep -q '^db | db line 1$' '$T/logs.txt'"
timeout 1.5 curl -s -N "${A[@]}" "$base/api/resources/db/logs?follow=1&after=$(python3 -c "import json; print(json.load(open('$T/logs.json'))['next'])")" > "$T/follow" || :
check "?follow=1 streams new lines as they come (Server-Sent Events)" \
  bash -c "[ \$(grep -c '^event: lines' '$T/follow') -ge 3 ]"

# aspirec's own messages (run mode's lines about the resources) in the console logs.
curl -s "${A[@]}" "$base/api/resources/api/logs" > "$T/apilogs.json"
check "aspirec's own message about api is in api's console logs, marked sys (api: started (pid …))" \
  python3 -c "import json,sys; l=json.load(open('$T/apilogs.json'))['lines']; sys.exit(0 if any(x.get('sys') and x['r']=='api' and x['text'].startswith('api: started (pid ') for x in l) else 1)"
check "... its output lines are not marked" \
  python3 -c "import json,sys; l=json.load(open('$T/apilogs.json'))['lines']; sys.exit(0 if any(x['text']=='api up' and 'sys' not in x for x in l) else 1)"
check "'after: waiting for later (healthy)' is in after's, not in api's" \
  bash -c "grep -q '\"r\":\"after\",\"text\":\"after: waiting for later (healthy)\",\"sys\":true' <(curl -s -H 'Authorization: Bearer $tok' '$base/api/resources/after/logs') && ! grep -q 'after: waiting' '$T/apilogs.json'"
check "the messages about the run come from 'aspirec' in /api/logs" \
  grep -q '"r":"aspirec","text":"running app: 6 resources, state in [^"]*","sys":true' <(curl -s "${A[@]}" "$base/api/logs")
check "the text download shows them as the terminal does (aspirec | api: started …)" grep -q '^aspirec | api: started (pid ' "$T/logs.txt"

# Commands: POST only, same origin only.
check "a command by GET is not allowed (405)" test "$(code "${A[@]}" "$base/api/resources/later/start")" = 405
check "a cross-site POST (another Origin) is refused" \
  test "$(code -X POST "${C[@]}" -H 'Origin: http://evil.example' "$base/api/resources/later/start")" = 403
check "a POST with the cookie and no Origin is refused" test "$(code -X POST "${C[@]}" "$base/api/resources/later/start")" = 403
check "... as is one a browser marks cross-site" \
  test "$(code -X POST "${C[@]}" -H "Origin: $base" -H 'Sec-Fetch-Site: cross-site' "$base/api/resources/later/start")" = 403
check "a POST without the token is refused (401)" test "$(code -X POST -H "Origin: $base" "$base/api/resources/later/start")" = 401
check "no command was carried out by the refused requests" bash -c "! grep -q 'later: started' '$T/out'"
check "the page's own POST (cookie, this Origin) starts the explicit_start resource" \
  test "$(code -X POST "${C[@]}" -H "Origin: $base" "$base/api/resources/later/start")" = 202
wait_for_text "$T/out" 'later up' 10; check "... and it runs" grep -q 'later up' "$T/out"
wait_for_text "$T/out" 'after up' 10; check "... and what waited for it starts" grep -q 'after up' "$T/out"
check "the start from the dashboard is in later's console logs" \
  grep -q '"r":"later","text":"later: started (pid [0-9]*)","sys":true' <(curl -s "${A[@]}" "$base/api/resources/later/logs")
check "an unknown command: 404" test "$(code -X POST "${A[@]}" "$base/api/resources/later/explode")" = 404
# (a restart is reported as "restarted (pid N, start K)")
pid1=$(grep -oE 'api: (re)?started \(pid [0-9]+' "$T/out" | grep -oE '[0-9]+$' | head -1)
check "restart through the API (Bearer, as curl)" test "$(code -X POST "${A[@]}" "$base/api/resources/api/restart")" = 202
wait_for_text "$T/out" 'api: restarted \(pid [0-9]+' 10
for _ in $(seq 50); do [ "$(grep -cE 'api: (re)?started \(pid' "$T/out")" -ge 2 ] && break; sleep 0.1; done
pid2=$(grep -oE 'api: (re)?started \(pid [0-9]+' "$T/out" | grep -oE '[0-9]+$' | tail -1)
check "... gives a new process ($pid1 -> $pid2)" test -n "$pid2" -a "$pid1" != "$pid2"
check "restart of a resource with replicas" test "$(code -X POST "${A[@]}" "$base/api/resources/pair/restart")" = 202
for _ in $(seq 300); do [ "$(grep -cE 'pair\.[01]: (re)?started \(pid' "$T/out")" -ge 4 ] && break; sleep 0.1; done
check "... restarts every replica" test "$(grep -cE 'pair\.[01]: (re)?started \(pid' "$T/out")" = 4
check "restart of one replica by its own name" test "$(code -X POST "${A[@]}" "$base/api/resources/pair.1/restart")" = 202
for _ in $(seq 300); do [ "$(grep -cE 'pair\.1: (re)?started \(pid' "$T/out")" -ge 3 ] && break; sleep 0.1; done
check "... restarts that one only" test "$(grep -cE 'pair\.1: (re)?started \(pid' "$T/out")-$(grep -cE 'pair\.0: (re)?started \(pid' "$T/out")" = 3-2
check "a second start of a running resource is refused (409)" test "$(code -X POST "${A[@]}" "$base/api/resources/db/start")" = 409
check "stop through the API" test "$(code -X POST "${A[@]}" "$base/api/resources/later/stop")" = 202
wait_for_text "$T/out" 'later: (stopped|finished)' 10
check "... and the run goes on" kill -0 "$MAIN_PID"
check "... and said so in its console logs" \
  grep -q '"r":"later","text":"later: stopped from the dashboard' <(curl -s "${A[@]}" "$base/api/resources/later/logs")
check "stopping the rest keeps the run for the dashboard" \
  bash -c "[ \$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer $tok' '$base/api/resources/api/stop') = 202 ] &&
           [ \$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Authorization: Bearer $tok' '$base/api/resources/db/stop') = 202 ] && sleep 1 && kill -0 $MAIN_PID"

# Ports: the next free one when the default is taken; a fixed one taken is an error.
run_start "$T/out2" "$T/app.apx" --run --no-color --state-dir="$T/state2" --dashboard-api-key=my-own-key-1234
B_PID=$RUN_PID
wait_for_text "$T/out2" 'dashboard: http://127.0.0.1:[0-9]+' 20
port2=$(grep -oE 'dashboard: http://127.0.0.1:[0-9]+' "$T/out2" | head -1 | grep -oE '[0-9]+$')
check "a second run takes the next free port ($port, then $port2)" test -n "$port2" -a "$port2" != "$port"
check "--dashboard-api-key=KEY: that key opens the telemetry API" \
  test "$(code -H 'x-api-key: my-own-key-1234' "http://127.0.0.1:$port2/api/telemetry/resources")" = 200
check "... and is in STATE/dashboard-api-key" grep -qx 'my-own-key-1234' "$T/state2/dashboard-api-key"
check "... the random one of the other run does not" \
  test "$(code -H "x-api-key: $key" "http://127.0.0.1:$port2/api/telemetry/resources")" = 401
kill -INT "$B_PID"; wait_exit "$B_PID" 20
check "the key file is removed at the end of the run" test ! -e "$T/state2/dashboard-api-key"
"$ASPIREC" "$T/app.apx" --run --no-color --state-dir="$T/state3" --dashboard="$port" > "$T/out3" 2>&1
rc=$?
check "--dashboard=PORT taken: exit status 2 ($rc), before anything starts" test $rc = 2
check "... naming the port" grep -q "port $port is taken" "$T/out3"
run_start "$T/out4" "$T/app.apx" --run --no-color --no-dashboard --state-dir="$T/state4"
N_PID=$RUN_PID
wait_for_text "$T/out4" 'otel: ' 20
check "--no-dashboard: no dashboard" bash -c "! grep -q 'dashboard:' '$T/out4'"
check "... and no OTLP endpoint in the environments" grep -q 'otel:  ' "$T/out4"
kill -INT "$N_PID"; wait_exit "$N_PID" 20

kill -INT "$MAIN_PID"
wait_exit "$MAIN_PID" 20 || not_ok "aspirec did not stop"
check "Ctrl-C stops the run: exit status 0 ($RUN_RC)" test "$RUN_RC" = 0
check "no sanitizer report" bash -c "! grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' '$T/out' '$T/out2' '$T/out4'"
check "--dashboard needs --run" bash -c "'$ASPIREC' '$T/app.apx' --dashboard=1234 2>&1 | grep -q 'need --run'"
apx_done
