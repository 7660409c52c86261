#!/bin/bash
# apx-test: slow
# Run mode runs containers on a private dockerd (tests/compose-up/bin:
# state, socket and network namespace of its own; a busybox image imported
# from busybox-static, no registry). aspirec runs inside the engine's network
# namespace (nsenter), so that ports published on 127.0.0.1 and the host
# gateway are those of this engine only. Real traffic in every direction:
#   container -> container  by name and target port on the run's network;
#   process   -> container  through the port published on 127.0.0.1;
#   container -> process    through host.docker.internal (host-gateway);
# health through the published port gates wait_for; Ctrl-C removes every
# container and the network; a SIGKILL of aspirec leaves the watchdog to
# remove them; a missing image fails with the engine's reason and its
# dependents never start; --engine names an engine that must answer.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
need_aspirec
. "$APX_SRCDIR/tests/compose-up/lib/engine.sh"
# ENGINE: docker (this file) or podman (containers-podman.test.sh sets it).
ENGINE=${APX_CT_ENGINE:-docker}
apx_tmpdir T
IMAGE=aspirec-test/busybox:1
unset CONTAINER_HOST
if [ "$ENGINE" = docker ]; then
  cu_need dockerd "$DOCKER" /bin/busybox nsenter python3 curl
  cu_engine "$T/dk"
  engine_dir=$T/dk
else
  cu_need podman /bin/busybox nsenter python3 curl
  PL=$APX_SRCDIR/tests/run/bin/podman-local
  engine_dir=$T/pod
  at_exit "'$PL' stop '$engine_dir'"
  if ! start=$("$PL" start "$engine_dir" 2>&1); then
    not_ok "private podman service started"; printf '%s\n' "$start" | diag; exit 1
  fi
  eval "$(printf '%s\n' "$start" | grep '^export ')"
  unset DOCKER_HOST
  ok "private podman service started ($CONTAINER_HOST)"
  DOCKER=$T/podman-cli
  printf '#!/bin/sh\nexec "%s" cli "%s" "$@"\n' "$PL" "$engine_dir" > "$DOCKER"
  chmod +x "$DOCKER"
fi
if ! msg=$("$CU_HERE/bin/make-busybox-image" "$IMAGE" 2>&1); then
  not_ok "busybox image imported"; printf '%s\n' "$msg" | diag; exit 1
fi
engine_pid=$(cat "$engine_dir/launcher.pid")
# aspirec in the engine's network namespace; exec keeps the pid (SIGINT, SIGKILL reach aspirec).
cat > "$T/aspirec-ns" <<SH
#!/bin/sh
exec nsenter -t $engine_pid -n -- "$ASPIREC" "\$@"
SH
chmod +x "$T/aspirec-ns"
REAL_ASPIREC=$ASPIREC
ASPIREC=$T/aspirec-ns

mkdir -p "$T/app"
cat > "$T/app/app.apx" <<'APX'
container cserver {
  image   = "aspirec-test/busybox:1"
  command = "/bin/sh"
  args    = ["-c", "echo from-cserver > /www/index.html; echo cserver listening; exec httpd -f -p 8080 -h /www"]
  endpoint http { target_port = 8080 }
  health { http = "/"  interval = 300ms }
}
executable pserver {
  command = "python3"
  args    = ["-c", "import http.server as h, os\nclass H(h.BaseHTTPRequestHandler):\n  def do_GET(s):\n    s.send_response(200); s.end_headers(); s.wfile.write(b'from-pserver\\n')\n  def log_message(s, *a): print('pserver: GET', flush=True)\nprint('pserver listening', flush=True)\nh.HTTPServer(('0.0.0.0', int(os.environ['PORT'])), H).serve_forever()"]
  endpoint http { env = "PORT" }
  health { tcp = "http"  interval = 300ms }
}
container cclient {
  image   = "aspirec-test/busybox:1"
  command = "/bin/sh"
  args    = ["-c", "echo \"cclient: to cserver at $CSERVER_HTTP\"; echo \"cclient: got $(wget -qO- $CSERVER_HTTP/)\"; echo \"cclient: to pserver at $PSERVER_HTTP\"; echo \"cclient: got $(wget -qO- $PSERVER_HTTP/)\"; exec sleep 1000"]
  references = [cserver, pserver]
  wait_for = [cserver, pserver]
}
executable pclient {
  command = "python3"
  args    = ["-c", "import os, urllib.request as u\na = os.environ['CSERVER_HTTP']\nprint('pclient: to cserver at', a, flush=True)\nprint('pclient: got', u.urlopen(a + '/').read().decode().strip(), flush=True)\nimport time; time.sleep(1000)"]
  references = [cserver]
  wait_for = [cserver]
}
APX
ctrs() { "$DOCKER" ps -aq --filter label=aspirec.program=app; }
nets() { "$DOCKER" network ls -q --filter name=aspirec-app; }

out=$T/out1
run_start "$out" "$T/app/app.apx" --run --grace 3s
wait_for_text "$out" 'app is up|started with problems' 60
if wait_for_text "$out" 'cclient +\| cclient: got from-cserver' 20 &&
   grep -qE 'cclient +\| cclient: to cserver at http://cserver:8080$' "$out"; then
  ok "container -> container: by name and target port (http://cserver:8080)"
else not_ok "container -> container by name and target port"; show "$out"; fi
port=$("$DOCKER" port aspirec-app-cserver 8080/tcp 2> /dev/null | head -1)
if wait_for_text "$out" 'pclient +\| pclient: got from-cserver' 20 &&
   grep -qE "pclient +\| pclient: to cserver at http://localhost:${port##*:}\$" "$out" && [ "${port%:*}" = 127.0.0.1 ]; then
  ok "process -> container: through the port published on 127.0.0.1 ($port)"
else not_ok "process -> container through the published port ($port)"; show "$out"; fi
if wait_for_text "$out" 'cclient +\| cclient: got from-pserver' 20 &&
   grep -qE 'cclient +\| cclient: to pserver at http://host.docker.internal:[0-9]+$' "$out"; then
  ok "container -> process: through host.docker.internal (host-gateway)"
else not_ok "container -> process through host.docker.internal"; show "$out"; fi
line() { grep -nE -- "$1" "$out" | head -1 | cut -d: -f1; }
a=$(line 'cserver: healthy') b=$(line 'cclient: started') c=$(line 'pclient: started')
if [ -n "$a" ] && [ -n "$b" ] && [ -n "$c" ] && [ "$a" -lt "$b" ] && [ "$a" -lt "$c" ]; then
  ok "health through the published port gates wait_for (cserver healthy before its clients start)"
else not_ok "health gates wait_for"; show "$out"; fi
if grep -qE 'cserver +\| cserver listening' "$out"; then ok "a container's output comes through the multiplexer, prefixed"
else not_ok "container output prefixed"; show "$out"; fi
if [ "$(nets)" ] && [ "$(ctrs | wc -l)" = 2 ]; then ok "one network (aspirec-app) and two containers while it runs"
else not_ok "network and containers while running: $(nets) / $(ctrs | wc -l)"; fi
kill -INT "$RUN_PID"
wait_exit "$RUN_PID" 30
left=$(ctrs) lnet=$(nets)
if [ "$RUN_RC" = 0 ] && [ -z "$left" ] && [ -z "$lnet" ] && no_marked_left "$RUN_MARK" 5; then
  ok "Ctrl-C: aspirec exits 0, no container, network or process left"
else not_ok "Ctrl-C: rc $RUN_RC, containers '$left', network '$lnet'"; show "$out"; fi

# SIGKILL: the watchdog removes the containers.
out=$T/out2
run_start "$out" "$T/app/app.apx" --run --grace 2s
wait_for_text "$out" 'app is up|started with problems' 60
n=$(ctrs | wc -l)
kill -KILL "$RUN_PID"
gone=
for _ in $(seq 100); do [ -z "$(ctrs)" ] && { gone=1; break; }; sleep 0.2; done
for _ in $(seq 50); do [ -z "$(nets)" ] && break; sleep 0.2; done
if [ "$n" = 2 ] && [ -n "$gone" ] && [ -z "$(nets)" ] && no_marked_left "$RUN_MARK" 10; then
  ok "SIGKILL of aspirec: the watchdog removes its $n containers and the network; no process left"
else not_ok "SIGKILL: $n containers before, left: '$(ctrs)', network '$(nets)'"; show "$out"; fi

# Volumes keep their data across runs; binds are relative to the program;
# a container killed behind aspirec's back is restarted (restart = "always").
mkdir -p "$T/vol/conf"
echo hi-from-bind > "$T/vol/conf/hello.txt"
cat > "$T/vol/vol.apx" <<'APX'
container store {
  image   = "aspirec-test/busybox:1"
  command = "/bin/sh"
  args    = ["-c", "n=$(cat /data/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /data/n; echo \"store: start $n, bind says $(cat /conf/hello.txt)\"; exec sleep 1000"]
  volume data { target = "/data" }
  bind { source = "./conf"  target = "/conf"  readonly = true }
  restart = "always"
}
APX
out=$T/out6
run_start "$out" "$T/vol/vol.apx" --run --grace 1s
if wait_for_text "$out" 'store +\| store: start 1, bind says hi-from-bind' 30; then
  ok "bind: ./conf relative to the program, mounted read-only"
else not_ok "bind mounted"; show "$out"; fi
"$DOCKER" kill aspirec-vol-store > /dev/null 2>&1
if wait_for_text "$out" "store: restarted \\($ENGINE container" 20 && wait_for_text "$out" 'store +\| store: start 2,' 10; then
  ok "a killed container is restarted (restart = always), its volume kept"
else not_ok "killed container restarted"; show "$out"; fi
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 20
out=$T/out7
run_start "$out" "$T/vol/vol.apx" --run --grace 1s
if wait_for_text "$out" 'store +\| store: start 3,' 30 && "$DOCKER" volume inspect aspirec-vol-store-data > /dev/null 2>&1; then
  ok "named volume aspirec-vol-store-data: its data survives the run (start 3 on the next run)"
else not_ok "volume data kept across runs"; show "$out"; fi
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 20
if [ "$RUN_RC" = 0 ] && [ -z "$("$DOCKER" ps -aq --filter label=aspirec.program=vol)" ]; then ok "vol: Ctrl-C, nothing left"
else not_ok "vol: Ctrl-C rc $RUN_RC"; fi

# lifetime = "persistent": left running on exit, reused next run when its
# configuration is unchanged (same container, same published port), made
# anew (same port) when it changed.
mkdir -p "$T/pers"
pers_apx() {
  cat > "$T/pers/pers.apx" <<APX
container keep {
  image   = "aspirec-test/busybox:1"
  command = "/bin/sh"
  args    = ["-c", "echo keep-\$FLAVOUR > /www/index.html; echo keep up; exec httpd -f -p 8080 -h /www"]
  env { FLAVOUR = "$1" }
  endpoint http { target_port = 8080 }
  health { http = "/"  interval = 300ms }
  lifetime = "persistent"
}
executable reader {
  command = "python3"
  args    = ["-c", "import os, urllib.request as u; print('reader got', u.urlopen(os.environ['KEEP_HTTP'] + '/').read().decode().strip(), flush=True); import time; time.sleep(100)"]
  references = [keep]
  wait_for = [keep]
}
APX
}
pid_of() { "$DOCKER" inspect -f '{{.Id}}' aspirec-pers-keep 2> /dev/null; }
port_of() { "$DOCKER" port aspirec-pers-keep 8080/tcp 2> /dev/null | head -1; }
pers_apx one
out=$T/out8
run_start "$out" "$T/pers/pers.apx" --run --grace 2s
wait_for_text "$out" 'reader +\| reader got keep-one' 40 || { not_ok "persistent: first run serves"; show "$out"; }
id1=$(pid_of) port1=$(port_of)
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 20
running=$("$DOCKER" inspect -f '{{.State.Running}}' aspirec-pers-keep 2> /dev/null)
if [ "$RUN_RC" = 0 ] && [ "$running" = true ] && grep -q 'keep: left running (lifetime = persistent)' "$out"; then
  ok "persistent: left running after Ctrl-C ($port1)"
else not_ok "persistent: left running (rc $RUN_RC, running '$running')"; show "$out"; fi
out=$T/out9
run_start "$out" "$T/pers/pers.apx" --run --grace 2s
if wait_for_text "$out" 'reader +\| reader got keep-one' 40 && grep -q 'keep: reusing persistent container' "$out" &&
   [ "$(pid_of)" = "$id1" ] && [ "$(port_of)" = "$port1" ]; then
  ok "persistent: reused next run (same container ${id1:0:12}, same port $port1)"
else not_ok "persistent: reused ($(pid_of) vs $id1, $(port_of) vs $port1)"; show "$out"; fi
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 20
pers_apx two
out=$T/out10
run_start "$out" "$T/pers/pers.apx" --run --grace 2s
if wait_for_text "$out" 'reader +\| reader got keep-two' 40 && [ "$(pid_of)" != "$id1" ] && [ "$(port_of)" = "$port1" ]; then
  ok "persistent: a changed configuration makes a new container, on the same port $port1"
else not_ok "persistent: changed configuration ($(pid_of), $(port_of))"; show "$out"; fi
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 20
"$DOCKER" rm -f aspirec-pers-keep > /dev/null 2>&1

# Telemetry from containers: the dashboard's second listener, on the run
# network's gateway and the dashboard's port, takes OTLP from containers
# (OTEL_EXPORTER_OTLP_ENDPOINT=http://host.docker.internal:PORT, the key of
# OTEL_EXPORTER_OTLP_HEADERS) and nothing else: a wrong or missing key, the
# login token, a page, the API, another Host are refused there. The key is
# the program's (STATE/otlp-key, 0600, never printed), so a persistent
# container made by an earlier run still sends after aspirec restarts; the
# login token stays per run. The persistent one is a program of its own:
# podman 4's bridge takes the lowest MAC of its ports, so a container
# leaving or joining its network can cut the others off the gateway for up
# to 100 s (stale ARP; netavark 1.9 fixes it), which is not what is tested.
mkdir -p "$T/tel/otlp" "$T/keep"
cat > "$T/tel/otlp/otlp.sh" <<'SH'
# otlp.sh once|loop: OTLP/JSON spans to the endpoint aspirec gave, with busybox wget.
key=${OTEL_EXPORTER_OTLP_HEADERS#*=}
n=0
span() { # NAME: one span of trace n (post counts)
  s=$(date +%s)
  printf '{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"%s"}}]},"scopeSpans":[{"scope":{"name":"busybox"},"spans":[{"traceId":"%016x%08x%08x","spanId":"%08x%08x","name":"%s","kind":1,"startTimeUnixNano":"%s000000000","endTimeUnixNano":"%s000000001"}]}]}]}' \
    "$OTEL_SERVICE_NAME" "$s" "$$" "$n" "$$" "$n" "$1" "$s" "$s"
}
status() { sed -n 's/^ *HTTP\/1\.[01] \([0-9][0-9][0-9]\).*/\1/p' | head -1; }
say() { echo "otlp: $1 -> ${2:-no answer}"; }
post() { # LABEL HEADER SPAN
  n=$((n+1))
  say "$1" "$(timeout 5 wget -q -S -O /dev/null --header "$2" --header 'Content-Type: application/json' --post-data "$(span "$3")" "$OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces" 2>&1 | status)"
}
get() { # LABEL PATH HEADER
  say "$1" "$(timeout 5 wget -q -S -O /dev/null --header "$3" "$OTEL_EXPORTER_OTLP_ENDPOINT$2" 2>&1 | status)"
}
echo "otlp: endpoint $OTEL_EXPORTER_OTLP_ENDPOINT"
if [ "$1" = loop ]; then
  while :; do post beat "x-otlp-api-key: $key" keeper-beat; sleep 1; done
fi
post good "x-otlp-api-key: $key" tracer-good
post wrong-key "x-otlp-api-key: x$key" tracer-wrong
post no-key "X-Nothing: 1" tracer-nokey
post token "Authorization: Bearer $DASH_TOKEN" tracer-token
n=$((n+1))
say other-host "$(timeout 5 wget -q -S -O /dev/null --header "Host: evil.example:${OTEL_EXPORTER_OTLP_ENDPOINT##*:}" --header "x-otlp-api-key: $key" --header 'Content-Type: application/json' --post-data "$(span tracer-host)" "$OTEL_EXPORTER_OTLP_ENDPOINT/v1/traces" 2>&1 | status)"
get page / "Authorization: Bearer $DASH_TOKEN"
get api /api/resources "Authorization: Bearer $DASH_TOKEN"
get login "/login?t=$DASH_TOKEN" "X-Nothing: 1"
get spans /api/telemetry/spans "x-otlp-api-key: $key"
echo "otlp: done"
exec sleep 1000
SH
cat > "$T/tel/tel.apx" <<'APX'
container tracer {
  image   = "aspirec-test/busybox:1"
  command = "/bin/sh"
  args    = ["/otlp/otlp.sh", "once"]
  bind { source = "./otlp"  target = "/otlp"  readonly = true }
  env { DASH_TOKEN = "tel-token-1" }
}
APX
cat > "$T/keep/keep.apx" <<'APX'
container keeper {
  image    = "aspirec-test/busybox:1"
  command  = "/bin/sh"
  args     = ["/otlp/otlp.sh", "loop"]
  bind { source = "../tel/otlp"  target = "/otlp"  readonly = true }
  lifetime = "persistent"
}
APX
DPORT=18999
# spans RESOURCE NAME TOKEN: how many spans called NAME the dashboard holds
# for RESOURCE (by /api/telemetry/spans, on 127.0.0.1 in the engine's namespace).
spans() {
  nsenter -t "$engine_pid" -n curl -s -H "Authorization: Bearer $3" \
    "http://127.0.0.1:$DPORT/api/telemetry/spans?resource=$1&limit=1000" |
    python3 -c 'import json, sys
try: d = json.load(sys.stdin)
except ValueError: print(0); sys.exit()
print(sum(1 for rs in d.get("data", {}).get("resourceSpans", [])
            if {"key": "service.name", "value": {"stringValue": sys.argv[1]}} in rs["resource"]["attributes"]
            for ss in rs["scopeSpans"] for sp in ss["spans"] if sp["name"] == sys.argv[2]))' "$1" "$2"
}
wait_spans() { # RESOURCE NAME TOKEN SECONDS: true once one is there
  local i
  for ((i = 0; i < $4 * 5; i++)); do [ "$(spans "$1" "$2" "$3")" -gt 0 ] && return 0; sleep 0.2; done
  return 1
}
out=$T/out13
run_start "$out" "$T/tel/tel.apx" --run --grace 1s --dashboard=$DPORT --dashboard-token=tel-token-1
wait_for_text "$out" 'tracer +\| otlp: done' 60
if grep -qE "tracer +\\| otlp: endpoint http://host.docker.internal:$DPORT\$" "$out" &&
   grep -qE 'tracer +\| otlp: good -> 200$' "$out" && wait_spans tracer tracer-good tel-token-1 10; then
  ok "a container's OTLP/JSON trace through host.docker.internal:$DPORT (the gateway's listener) is on /api/telemetry/spans as resource tracer"
else not_ok "a container's trace reaches the dashboard"; show "$out"; fi
refused=$(grep -cE 'tracer +\| otlp: (wrong-key|no-key|token) -> 401$' "$out")
if [ "$refused" = 3 ] && [ "$(spans tracer tracer-wrong tel-token-1)$(spans tracer tracer-nokey tel-token-1)$(spans tracer tracer-token tel-token-1)" = 000 ]; then
  ok "from a container: a wrong key, no key, the login token instead of the key: 401, nothing stored"
else not_ok "wrong keys refused from a container ($refused of 3 are 401)"; show "$out"; fi
if grep -qE 'tracer +\| otlp: other-host -> 421$' "$out" && [ "$(spans tracer tracer-host tel-token-1)" = 0 ]; then
  ok "from a container: another Host is refused (421), even with the key"
else not_ok "another Host on the gateway's listener"; show "$out"; fi
if [ "$(grep -cE 'tracer +\| otlp: (page|api|login|spans) -> 404$' "$out")" = 4 ]; then
  ok "from a container: the page, /api/resources with the token, /login and /api/telemetry/spans are 404 (pages and API stay on 127.0.0.1)"
else not_ok "pages and API refused on the gateway's listener"; show "$out"; fi
code=$(nsenter -t "$engine_pid" -n curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer tel-token-1' "http://127.0.0.1:$DPORT/api/resources")
if [ "$code" = 200 ]; then ok "on 127.0.0.1 the API answers as before (200)"
else not_ok "127.0.0.1 API: $code"; fi
key1=$(cat "$T/tel/.aspirec/otlp-key" 2> /dev/null)
mode=$(stat -c %a "$T/tel/.aspirec/otlp-key" 2> /dev/null)
if [[ $key1 =~ ^[0-9a-f]{32}$ ]] && [ "$mode" = 600 ] && ! grep -qF "$key1" "$out" && ! grep -qF "$key1" "$T/tel/.aspirec/logs/aspirec.log"; then
  ok "the OTLP key is kept in STATE/otlp-key (mode $mode) and never printed"
else not_ok "the OTLP key file (mode '$mode')"; fi
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 20
[ "$RUN_RC" = 0 ] || { not_ok "tel: Ctrl-C exits 0 (rc $RUN_RC)"; show "$out"; }
# A persistent container sends; the next run has the same key and a new
# login token, and the keeper, reused with its environment of the first
# run, still gets its spans in.
out=$T/out14
run_start "$out" "$T/keep/keep.apx" --run --grace 1s --dashboard=$DPORT --dashboard-token=tel-token-1
if wait_spans keeper keeper-beat tel-token-1 30; then ok "a persistent container sends its spans"
else not_ok "the persistent keeper's spans"; show "$out"; fi
id1=$("$DOCKER" inspect -f '{{.Id}}' aspirec-keep-keeper 2> /dev/null)
key1=$(cat "$T/keep/.aspirec/otlp-key" 2> /dev/null)
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 20
out=$T/out15
run_start "$out" "$T/keep/keep.apx" --run --grace 1s --dashboard=$DPORT
wait_for_text "$out" "dashboard: http://127.0.0.1:$DPORT/login\\?t=" 60
tok2=$(grep -oE "login\\?t=[0-9a-f]+" "$out" | head -1); tok2=${tok2#login?t=}
sent=
wait_for_text "$out" 'keeper: reusing persistent container' 30 && [ "$("$DOCKER" inspect -f '{{.Id}}' aspirec-keep-keeper 2> /dev/null)" = "$id1" ] &&
  [ -n "$tok2" ] && [ "$tok2" != tel-token-1 ] && wait_spans keeper keeper-beat "$tok2" 30 &&
  [ -n "$key1" ] && [ "$(cat "$T/keep/.aspirec/otlp-key")" = "$key1" ] && sent=1
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 20
if [ -n "$sent" ] && [ "$RUN_RC" = 0 ]; then
  ok "after a restart: the persistent keeper (same container ${id1:0:12}, the first run's environment) still sends with the kept key; the login token is new; Ctrl-C exits 0"
else not_ok "persistent container sends after a restart (token '$tok2', rc $RUN_RC)"; show "$out"; "$DOCKER" logs --tail 5 aspirec-keep-keeper 2>&1 | diag; fi
"$DOCKER" rm -f aspirec-keep-keeper > /dev/null 2>&1

# build {}: the context sent as a tar (a file in a subdirectory, a
# .dockerignore'd one left out), args and the Dockerfile's path honoured, the
# build's output in the resource's log, the image tagged per program and
# resource with a digest of its context (not built again when unchanged).
# An exec health check runs inside the container and gates wait_for.
mkdir -p "$T/bld/ctx/sub" "$T/bld/bad"
echo from-context > "$T/bld/ctx/sub/file.txt"
echo secret > "$T/bld/ctx/ignored.txt"
printf 'ignored.txt\n' > "$T/bld/ctx/.dockerignore"
cat > "$T/bld/ctx/app.Dockerfile" <<'DF'
FROM aspirec-test/busybox:1
ARG GREETING
COPY sub /sub
COPY . /ctx
RUN echo "built-with-$GREETING" > /greeting
DF
printf 'FROM aspirec-test/busybox:1\nRUN echo about to fail; exit 3\n' > "$T/bld/bad/Dockerfile"
cat > "$T/bld/bld.apx" <<'APX'
container web {
  build {
    context    = "./ctx"
    dockerfile = "app.Dockerfile"
    args { GREETING = "hello" }
  }
  command = "/bin/sh"
  args    = ["-c", "echo \"web: $(cat /greeting) $(cat /sub/file.txt) ignored:$(ls /ctx/ignored.txt 2>&1 | grep -c 'No such')\"; sleep 1; touch /tmp/ready; exec sleep 1000"]
  health { exec = ["test", "-f", "/tmp/ready"]  interval = 200ms }
}
container broken {
  build { context = "./bad" }
  command = "/bin/true"
}
executable after-web {
  command = "sh"
  args    = ["-c", "echo after-web started; exec sleep 100"]
  wait_for = [web]
}
executable after-broken {
  command = "sh"
  args    = ["-c", "echo after-broken started; exec sleep 100"]
  wait_for = [broken]
}
APX
out=$T/out11
run_start "$out" "$T/bld/bld.apx" --run --grace 1s
wait_for_text "$out" 'bld is up|started with problems' 90
tag=$("$DOCKER" images --format '{{.Repository}}:{{.Tag}}' 2> /dev/null | grep -E '(^|/)aspirec-bld-web:' | head -1)
if grep -qE 'web +\| web: built-with-hello from-context ignored:1' "$out" && grep -qE 'web +\| .*(Step|STEP) [0-9]' "$out" &&
   grep -qE "aspirec +\| web: built aspirec-bld-web:[0-9a-f]{16}" "$out" && [ -n "$tag" ]; then
  ok "build {}: context, dockerfile and args honoured, .dockerignore applied, output in web's log, tagged $tag"
else not_ok "build {} (tag '$tag')"; show "$out"; fi
a=$(grep -nE 'web: healthy' "$out" | head -1 | cut -d: -f1) b=$(grep -nE 'after-web: started' "$out" | head -1 | cut -d: -f1)
if [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] && wait_for_text "$out" 'after-web started' 10; then
  ok "exec health check inside the container gates wait_for (healthy before after-web starts)"
else not_ok "exec health check in the container"; show "$out"; fi
if grep -qE 'broken: .*failed to start.*the build of its image failed: .*(returned a non-zero code: 3|exit status 3)' "$out" &&
   grep -qE 'broken +\| .*about to fail' "$out" && ! grep -q 'after-broken started' "$out"; then
  ok "a failing build: the engine's reason, its output in the log, its dependent never starts"
else not_ok "failing build"; show "$out"; fi
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 20
out=$T/out12
run_start "$out" "$T/bld/bld.apx" --run --grace 1s
wait_for_text "$out" 'bld is up|started with problems' 60
if grep -qE 'web +\| web: built-with-hello' "$out" && ! grep -q 'web: building' "$out"; then
  ok "build {}: an unchanged context is not built again (the digest's tag is there)"
else not_ok "unchanged context rebuilt"; show "$out"; fi
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 20
if [ "$RUN_RC" = 0 ] && [ -z "$("$DOCKER" ps -aq --filter label=aspirec.program=bld)" ] && [ -z "$("$DOCKER" network ls -q --filter name=aspirec-bld)" ]; then
  ok "bld: Ctrl-C, no container or network left"
else not_ok "bld: Ctrl-C rc $RUN_RC"; fi

# A missing image: the engine's reason; what waits for it never starts.
mkdir -p "$T/bad"
cat > "$T/bad/bad.apx" <<'APX'
container db { image = "aspirec-test/nope:1"  endpoint tcp { target_port = 5432 } }
executable after { command = "sh"  args = ["-c", "echo after started; exec sleep 100"]  wait_for = [db] }
APX
out=$T/out3
t0=$(date +%s)
run_start "$out" "$T/bad/bad.apx" --run --engine=$ENGINE --grace 1s
wait_exit "$RUN_PID" 60
took=$(( $(date +%s) - t0 ))
if grep -qE "db: .*image aspirec-test/nope:1 is not on $ENGINE and cannot be pulled: .+" "$out" &&
   grep -q 'db: pulling aspirec-test/nope:1' "$out" && ! grep -q 'after started' "$out" && [ "$RUN_RC" = 1 ] && [ "$took" -le 20 ]; then
  ok "missing image, no registry: fails in ${took}s with the engine's reason ($(grep -oE 'cannot be pulled: .{0,60}' "$out" | head -1)); its dependent never starts"
else not_ok "missing image: rc $RUN_RC"; show "$out"; fi

# --engine names one that must answer.
other=podman; [ "$ENGINE" = podman ] && other=docker
out=$T/out4
CONTAINER_HOST=unix://$T/none.sock DOCKER_HOST=unix://$T/none.sock "$ASPIREC" "$T/app/app.apx" --run --engine=$other > "$out" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q -- "--engine=$other: no $other answers on its API socket" "$out"; then
  ok "--engine=$other with no $other service: exit 2, clear error"
else not_ok "--engine=$other with none: rc $rc"; show "$out"; fi

# The daemon stopped: a clear error, nothing starts.
if [ "$ENGINE" = docker ]; then "$CU_HERE/bin/dockerd-local" stop "$engine_dir" > /dev/null 2>&1
else "$PL" stop "$engine_dir"; fi
out=$T/out5
"$REAL_ASPIREC" "$T/app/app.apx" --run --engine=$ENGINE > "$out" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q -- "--engine=$ENGINE: no $ENGINE answers on its API socket" "$out" && ! grep -q started "$out"; then
  ok "stopped daemon: exit 2, clear error, nothing started"
else not_ok "stopped daemon: rc $rc"; show "$out"; fi
"$REAL_ASPIREC" "$T/app/app.apx" --run > "$out" 2>&1
rc=$?
if [ $rc = 2 ] && grep -q "error: container 'cserver' cannot run: no container engine (docker, podman) answers" "$out"; then
  ok "stopped daemon, no --engine: the no-engine error of before"
else not_ok "stopped daemon, no --engine: rc $rc"; show "$out"; fi
apx_done
