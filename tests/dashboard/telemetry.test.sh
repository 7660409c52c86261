#!/bin/bash
# apx-test: slow
# The OTLP receiver and the telemetry pages with the real OpenTelemetry SDK
# for Node.js (tests/dashboard/otel-app: @opentelemetry/sdk-node with the
# OTLP/HTTP protobuf exporters and the http instrumentation) under
# `aspirec --run`: frontend calls catalog over HTTP; the trace spans both
# resources, its structured logs and the metrics arrive; the receiver's
# answers to a wrong key (401), a wrong media type (415), garbage (400) and
# OTLP/JSON (200, partial success); the pages in headless Chromium
# (tests/dashboard/telemetry.mjs), screenshots in tests/out/telemetry/.
. "$(dirname "$0")/../lib.sh"
. "$APX_SRCDIR/tests/run/helpers.sh"
need_aspirec
command -v node > /dev/null || { not_ok "node is not installed (scripts/setup.sh)"; apx_done; }
command -v curl > /dev/null || { not_ok "curl is not installed"; apx_done; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || { not_ok "chromium is not installed (scripts/setup.sh)"; apx_done; }
app=$APX_SRCDIR/tests/dashboard/otel-app
[ -d "$app/node_modules/@opentelemetry/sdk-node" ] ||
  { not_ok "the OpenTelemetry SDK is missing: npm ci in tests/dashboard/otel-app (scripts/setup.sh)"; apx_done; }
[ -d "$APX_SRCDIR/tests/dashboard/node_modules/playwright-core" ] ||
  { not_ok "playwright-core is missing: npm ci in tests/dashboard (scripts/setup.sh)"; apx_done; }
apx_tmpdir T
# keyholder writes the OTLP settings it was given (the key is printed nowhere else).
cat > "$T/app.apx" <<APX
executable catalog {
  command = "node"
  args = ["$app/service.cjs", "catalog"]
  endpoint http { env = "PORT" }
}
executable frontend {
  command = "node"
  args = ["$app/service.cjs", "frontend"]
  references = [catalog]
  wait_for = [catalog]
}
executable keyholder {
  command = "sh"
  args = ["-c", "env | grep '^OTEL_' > '$T/otel.env'; exec sleep 1000"]
}
APX
token=tok-$RANDOM$RANDOM
run_start "$T/out" "$T/app.apx" --run --engine=local --no-color --dashboard-token="$token" --state-dir="$T/state"
wait_for_text "$T/out" 'dashboard: http://127.0.0.1:[0-9]+/login' 20 || { not_ok "no dashboard URL"; show "$T/out"; apx_done; }
url=$(grep -oE 'http://127.0.0.1:[0-9]+/login\?t=[^ ]+' "$T/out" | head -1)
base=${url%%/login*}
api() { curl -s -H "Authorization: Bearer $token" "$base$1"; }

for _ in $(seq 100); do [ -s "$T/otel.env" ] && break; sleep 0.1; done
key=$(sed -n 's/^OTEL_EXPORTER_OTLP_HEADERS=x-otlp-api-key=//p' "$T/otel.env")
[ -n "$key" ] && grep -qE "^OTEL_EXPORTER_OTLP_ENDPOINT=http://(localhost|127.0.0.1):${base##*:}\$" "$T/otel.env" &&
  ok "every resource gets the dashboard's OTLP endpoint and an x-otlp-api-key" ||
  { not_ok "the OTLP endpoint and key in the environment"; diag < "$T/otel.env"; }
grep -q '^OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf$' "$T/otel.env" && grep -q '^OTEL_SERVICE_NAME=keyholder$' "$T/otel.env" &&
  grep -q '^OTEL_RESOURCE_ATTRIBUTES=service.instance.id=keyholder$' "$T/otel.env" &&
  ok "OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES" ||
  { not_ok "the OTEL variables"; diag < "$T/otel.env"; }

# A trace across both resources, from the SDK (the frontend starts one every 500 ms).
trace=
for _ in $(seq 150); do
  trace=$(api '/api/telemetry/traces?summary=true&limit=50' | node -e '
    const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
    const t = r.traces.find((t) => t.resources.includes("frontend") && t.resources.includes("catalog") && t.spanCount >= 4);
    if (t) console.log(t.traceId);' 2> /dev/null)
  [ -n "$trace" ] && break
  sleep 0.2
done
[ -n "$trace" ] && ok "a trace from the Node.js SDK spans frontend and catalog ($trace)" ||
  { not_ok "a trace spanning frontend and catalog"; api '/api/telemetry/traces?summary=true' | head -c 2000 | diag; show "$T/out"; }
spans=$(api "/api/telemetry/traces/$trace" | node -e '
  const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
  const out = [];
  for (const rs of r.data.resourceSpans) {
    const svc = rs.resource.attributes.find((a) => a.key === "service.name").value.stringValue;
    for (const ss of rs.scopeSpans) for (const s of ss.spans) out.push(`${svc} ${s.kind} ${s.name} ${s.parentSpanId ? "child" : "root"}`);
  }
  console.log(out.join("\n"));')
if grep -q '^frontend 1 checkout root$' <<< "$spans" && grep -q '^frontend 3 GET child$' <<< "$spans" &&
  grep -q '^catalog 2 GET child$' <<< "$spans" && grep -q '^catalog 1 load items child$' <<< "$spans"; then
  ok "its spans: frontend's checkout (root) and HTTP client span, catalog's server span and its own"
else
  not_ok "the trace's spans"; diag <<< "$spans"
fi
logs=$(api "/api/telemetry/traces/$trace/logs")
grep -q 'items from the catalog' <<< "$logs" && grep -q '"served 3 items"' <<< "$logs" &&
  ok "the trace's structured logs come from both resources" || { not_ok "the trace's structured logs"; head -c 1500 <<< "$logs" | diag; }
# (every fifth checkout logs a warning)
for _ in $(seq 50); do
  n=$(api '/api/telemetry/logs?resource=frontend&severity=Warning' | grep -o '"severityNumber":[0-9]*' | sort -u | tr '\n' ' ')
  [ -n "$n" ] && break
  sleep 0.2
done
[ "$n" = '"severityNumber":13 ' ] && ok "severity=Warning filters the frontend's logs to its warnings" || not_ok "severity filter: $n"
for _ in $(seq 50); do
  m=$(api '/api/telemetry/metrics?resource=frontend&instrument=shop.checkouts')
  grep -q '"points":\[\[[0-9]*,[0-9.]*\],\[' <<< "$m" && break
  sleep 0.2
done
grep -q '"points":\[\[[0-9]*,[0-9.]*\],\[' <<< "$m" && ok "the frontend's counter has recent points" || { not_ok "metrics points"; head -c 800 <<< "$m" | diag; }

# ?follow=true (Aspire's streaming): NDJSON, what is kept, then new records as they come.
for what in logs spans; do
  kept=$(api "/api/telemetry/$what?resource=catalog&limit=1" | sed -n 's/.*"totalCount":\([0-9]*\).*/\1/p')
  curl -s -N --max-time 3 -D "$T/follow.h" -H "Authorization: Bearer $token" \
    "$base/api/telemetry/$what?resource=catalog&follow=true" > "$T/follow.$what"
  lines=$(grep -c '^{"resource' "$T/follow.$what")
  if grep -qi '^content-type: application/x-ndjson' "$T/follow.h" && [ "$lines" -gt "${kept:-0}" ] &&
    [ "$(grep -vc '"service.name","value":{"stringValue":"catalog"' "$T/follow.$what")" = 0 ]; then
    ok "$what?follow=true: NDJSON, the $kept kept then new ones ($lines lines in 3 s), catalog's only"
  else
    not_ok "$what?follow=true ($lines lines, $kept kept)"; head -c 600 "$T/follow.$what" | diag; diag < "$T/follow.h"
  fi
done

# The receiver's answers.
code() { curl -s -o "$T/body" -w '%{http_code}' "$@"; }
c=$(code -X POST -H 'Content-Type: application/x-protobuf' --data-binary '' "$base/v1/traces")
check "POST /v1/traces without the key: 401 ($c)" test "$c" = 401
c=$(code -X POST -H 'Content-Type: application/x-protobuf' -H "x-otlp-api-key: ${key}x" --data-binary '' "$base/v1/traces")
check "with a wrong key: 401 ($c)" test "$c" = 401
c=$(code -X POST -H 'Content-Type: text/plain' -H "x-otlp-api-key: $key" --data-binary 'hi' "$base/v1/logs")
check "with the key but text/plain: 415 ($c)" test "$c" = 415
c=$(code -X POST -H 'Content-Type: application/x-protobuf' -H "x-otlp-api-key: $key" --data-binary $'\xff\xff\xff\xff' "$base/v1/metrics")
check "garbage protobuf: 400 ($c)" test "$c" = 400
printf '{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"curl"}}]},"scopeSpans":[{"spans":[{"traceId":"0af7651916cd43dd8448eb211c80319c","spanId":"b7ad6b7169203331","name":"by hand","kind":1,"startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000100000000","status":{"code":2,"message":"boom"}},{"traceId":"00","spanId":"b7ad6b7169203331","name":"bad"}]}]}]}' > "$T/spans.json"
gzip -c "$T/spans.json" > "$T/spans.json.gz"
c=$(code -X POST -H 'Content-Type: application/json' -H 'Content-Encoding: gzip' -H "x-otlp-api-key: $key" --data-binary @"$T/spans.json.gz" "$base/v1/traces")
[ "$c" = 200 ] && grep -q '"partialSuccess":{"rejectedSpans":"1"' "$T/body" &&
  ok "OTLP/JSON, gzip: 200 with a partial success for the one bad span" || { not_ok "OTLP/JSON gzip ($c)"; diag < "$T/body"; }
api '/api/telemetry/traces/0af7651916cd43dd8448eb211c80319c' | grep -q '"name":"by hand"' &&
  ok "the span sent by hand is in the store" || not_ok "the span sent by hand is in the store"
c=$(code "$base/api/telemetry/logs")
check "the telemetry API without the token: 401 ($c)" test "$c" = 401
c=$(code -H "Authorization: Bearer $token" "$base/api/telemetry/logs?resource=nosuch")
check "an unknown resource: 404 ($c)" test "$c" = 404

# The pages in a real browser.
out="$APX_SRCDIR/tests/out/telemetry"
node "$APX_SRCDIR/tests/dashboard/telemetry.mjs" "$url" "$out" "$trace" > "$T/browser" 2>&1
rc=$?
while IFS= read -r line; do
  case $line in
    "ok - "*) ok "${line#ok - }" ;;
    "not ok - "*) not_ok "${line#not ok - }" ;;
    *) printf '# %s\n' "$line" ;;
  esac
done < "$T/browser"
[ $rc = 0 ] || grep -q '^not ok' "$T/browser" || not_ok "the browser script failed (status $rc)"

kill -INT "$RUN_PID"
wait_exit "$RUN_PID" 20 && ok "aspirec stops on Ctrl-C" || not_ok "aspirec stops on Ctrl-C"
grep -qE 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$T/out" &&
  { not_ok "no sanitizer report"; grep -A12 -E 'ERROR: AddressSanitizer|runtime error:|LeakSanitizer' "$T/out" | diag; } ||
  ok "no sanitizer report in aspirec's output"
apx_done
