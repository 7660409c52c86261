#!/bin/bash
# apx-test: slow
# Run mode: replicas of containers behind the proxy, on a private dockerd
# (tests/compose-up/bin; a busybox image from busybox-static). Three busybox
# httpd containers, each answering with its own hostname (its container
# id), each with a port of its own published on 127.0.0.1; a process
# reaches all three through the proxy's port, which is what its reference
# renders. And the other way: a container reaches two replicated processes
# through host.docker.internal at the proxy's port (the proxy also listens
# on the run network's gateway). aspirec runs in the engine's network
# namespace, as in containers.test.sh. A container reaches the three web
# containers through the proxy as well.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
need_aspirec
. "$APX_SRCDIR/tests/compose-up/lib/engine.sh"
apx_tmpdir T
IMAGE=aspirec-test/busybox:1
unset CONTAINER_HOST
# ENGINE: docker (this file) or podman (replicas-containers-podman.test.sh sets it).
ENGINE=${APX_CT_ENGINE:-docker}
if [ "$ENGINE" = docker ]; then
  cu_need dockerd "$DOCKER" /bin/busybox nsenter python3
  cu_engine "$T/dk"
  engine_dir=$T/dk
else
  cu_need podman /bin/busybox nsenter python3
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
cat > "$T/aspirec-ns" <<SH
#!/bin/sh
exec nsenter -t $engine_pid -n -- "$ASPIREC" "\$@"
SH
chmod +x "$T/aspirec-ns"
ASPIREC=$T/aspirec-ns
cp "$APX_SRCDIR"/tests/run/progs/* "$T"/
cat > "$T/rep.apx" <<'APX'
container web {
  image    = "aspirec-test/busybox:1"
  command  = "/bin/sh"
  args     = ["-c", "mkdir -p /www; hostname > /www/index.html; exec httpd -f -p 8080 -h /www"]
  replicas = 3
  endpoint http { target_port = 8080 }
  health { http = "/"  interval = 300ms }
}
executable pclient {
  command    = "python3"
  args       = ["-c", "import os, urllib.request as u\na = os.environ['WEB_HTTP']\nseen = sorted({u.urlopen(a + '/').read().decode().strip() for _ in range(30)})\nprint('pclient: at', a, 'saw', len(seen), 'replicas:', ' '.join(seen), flush=True)\nimport time; time.sleep(1000)"]
  references = [web]
  wait_for   = [web]
}
executable api {
  command  = "python3"
  args     = ["-c", "import http.server as h, os\nclass H(h.BaseHTTPRequestHandler):\n  def do_GET(s):\n    s.send_response(200); s.end_headers(); s.wfile.write(b'api-%d\\n' % os.getpid())\n  def log_message(s, *a): pass\nh.HTTPServer(('0.0.0.0', int(os.environ['PORT'])), H).serve_forever()"]
  replicas = 2
  endpoint http { env = "PORT" }
  health { tcp = "http"  interval = 300ms }
}
container cclient {
  image      = "aspirec-test/busybox:1"
  command    = "/bin/sh"
  args       = ["-c", "echo \"cclient: to api at $API_HTTP\"; for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- $API_HTTP/; done | sort -u | tr '\\n' ' ' | sed 's/^/cclient: saw /'; echo; echo \"cclient: to web at $WEB_HTTP\"; n=$(for i in $(seq 30); do wget -qO- $WEB_HTTP/; done | sort -u | wc -l); echo \"cclient: web answered from $n containers\"; exec sleep 1000"]
  references = [api, web]
  wait_for   = [api, web]
}
APX
ctrs() { "$DOCKER" ps -aq --filter label=aspirec.program=rep; }
out=$T/out
run_start "$out" "$T/rep.apx" --run --grace 3s
wait_for_text "$out" 'rep is up|started with problems' 90
wproxy=$(sed -n 's/.*  web  *proxy  *http:\/\/localhost:\([0-9]*\) (to 3 replicas).*/\1/p' "$out")
aproxy=$(sed -n 's/.*  api  *proxy  *http:\/\/localhost:\([0-9]*\) (to 2 replicas).*/\1/p' "$out")
pub=$(for k in 0 1 2; do "$DOCKER" port "aspirec-rep-web.$k" 8080/tcp 2> /dev/null | head -1; done | tr '\n' ' ')
note "web's proxy $wproxy, its replicas published at $pub; api's proxy $aproxy"
[ "$(echo "$pub" | grep -o '127\.0\.0\.1:[0-9]*' | sort -u | wc -l)" = 3 ] && ! echo "$pub" | grep -q ":$wproxy " &&
  ok "three web containers, each with its own port published on 127.0.0.1" ||
  { not_ok "three web containers with their own published ports ($pub)"; "$DOCKER" ps -a | diag; show "$out"; }
if wait_for_text "$out" 'pclient +\| pclient: at' 30 &&
   grep -qE "pclient +\| pclient: at http://localhost:$wproxy saw 3 replicas: [0-9a-f]+ [0-9a-f]+ [0-9a-f]+\$" "$out"; then
  ok "process -> replicated container: its reference is the proxy's port, and 30 requests reach all 3 containers"
else not_ok "process -> replicated container through the proxy"; show "$out"; fi
if wait_for_text "$out" 'cclient +\| cclient: saw' 30 &&
   grep -qE "cclient +\| cclient: to api at http://host.docker.internal:$aproxy\$" "$out" &&
   grep -qE 'cclient +\| cclient: saw api-[0-9]+ api-[0-9]+ $' "$out"; then
  ok "container -> replicated process: host.docker.internal at the proxy's port reaches both replicas"
else not_ok "container -> replicated process through the proxy on the gateway"; show "$out"; fi
# Container -> replicated container: through the proxy too (the engine's
# DNS has every replica under the name, but podman's answers in one order,
# so a client taking the first address would reach one replica only).
if wait_for_text "$out" 'cclient +\| cclient: web answered' 30 &&
   grep -qE "cclient +\| cclient: to web at http://host.docker.internal:$wproxy\$" "$out" &&
   grep -qE 'cclient +\| cclient: web answered from 3 containers$' "$out"; then
  ok "container -> replicated container: through the proxy (host.docker.internal:$wproxy), 30 requests reach all 3"
else not_ok "container -> replicated container by name reaches every replica"; show "$out"; fi
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 30
[ "$RUN_RC" = 0 ] && [ -z "$(ctrs)" ] && no_marked_left "$RUN_MARK" 5 &&
  ok "Ctrl-C: status 0, no container or process left" || { not_ok "Ctrl-C: rc $RUN_RC, containers $(ctrs)"; show "$out"; }
apx_done
