#!/bin/bash
# apx-test: slow
# A manifest's container.v0 resources under --run on a private dockerd
# (tests/compose-up/bin/dockerd-local: its own state, socket and network
# namespace; a busybox image imported from busybox-static, no registry), as
# tests/run/containers.test.sh runs a program's: container -> container by
# name and target port from `{web.bindings.http.url}`, an executable.v0 ->
# container through the published port, the entrypoint and args of the
# manifest, Ctrl-C removing the containers.
. "$(dirname "$0")/../lib.sh"
. "$APX_SRCDIR/tests/run/helpers.sh"
need_aspirec
. "$APX_SRCDIR/tests/compose-up/lib/engine.sh"
apx_tmpdir T
IMAGE=aspirec-test/busybox:1
unset CONTAINER_HOST
cu_need dockerd "$DOCKER" /bin/busybox nsenter python3
cu_engine "$T/dk"
if ! msg=$("$CU_HERE/bin/make-busybox-image" "$IMAGE" 2>&1); then
  not_ok "busybox image imported"; printf '%s\n' "$msg" | diag; exit 1
fi
engine_pid=$(cat "$T/dk/launcher.pid")
cat > "$T/aspirec-ns" <<SH
#!/bin/sh
exec nsenter -t $engine_pid -n -- "$ASPIREC" "\$@"
SH
chmod +x "$T/aspirec-ns"
ASPIREC=$T/aspirec-ns

mkdir -p "$T/ctapp"
cat > "$T/ctapp/aspire-manifest.json" <<'JSON'
{
  "$schema": "https://json.schemastore.org/aspire-8.0.json",
  "resources": {
    "web": {
      "type": "container.v0",
      "image": "aspirec-test/busybox:1",
      "entrypoint": "/bin/sh",
      "args": ["-c", "echo from-web > /www/index.html; echo web listening; exec httpd -f -p 8080 -h /www"],
      "bindings": { "http": { "scheme": "http", "protocol": "tcp", "transport": "http", "targetPort": 8080 } }
    },
    "client": {
      "type": "container.v0",
      "image": "aspirec-test/busybox:1",
      "entrypoint": "/bin/sh",
      "args": ["-c", "echo \"client: to $WEB\"; for i in $(seq 100); do r=$(wget -qO- $WEB/index.html) && break; sleep 0.2; done; echo \"client: got $r\"; exec sleep 1000"],
      "env": { "WEB": "{web.bindings.http.url}" }
    },
    "pclient": {
      "type": "executable.v0",
      "command": "python3",
      "workingDirectory": ".",
      "args": ["-c", "import os, time, urllib.request as u\na = os.environ['WEB']\nprint('pclient: to', a, flush=True)\nfor i in range(100):\n  try:\n    print('pclient: got', u.urlopen(a + '/index.html').read().decode().strip(), flush=True); break\n  except OSError: time.sleep(0.2)\ntime.sleep(1000)"],
      "env": { "WEB": "{web.bindings.http.url}" }
    }
  }
}
JSON
ctrs() { "$DOCKER" ps -aq --filter label=aspirec.program=ctapp; }
out=$T/out
run_start "$out" "$T/ctapp/aspire-manifest.json" --run --engine=docker --grace 3s
wait_for_text "$out" 'ctapp is up|started with problems' 60
if wait_for_text "$out" 'client +\| client: got from-web' 30 && grep -qE 'client +\| client: to http://web:8080$' "$out"; then
  ok "container.v0 -> container.v0: {web.bindings.http.url} is http://web:8080 on the run's network"
else not_ok "container -> container from the manifest"; show "$out"; fi
port=$("$DOCKER" port aspirec-ctapp-web 8080/tcp 2> /dev/null | head -1)
if wait_for_text "$out" 'pclient +\| pclient: got from-web' 30 && grep -qE "pclient +\| pclient: to http://localhost:${port##*:}\$" "$out"; then
  ok "executable.v0 -> container.v0: through the port published on 127.0.0.1 ($port)"
else not_ok "executable -> container through the published port ($port)"; show "$out"; fi
if grep -qE 'web +\| web listening' "$out" && [ "$(ctrs | wc -l)" = 2 ]; then ok "the manifest's entrypoint and args ran; two containers while it runs"
else not_ok "entrypoint/args or containers: $(ctrs | wc -l)"; show "$out"; fi
kill -INT "$RUN_PID"
wait_exit "$RUN_PID" 30
if [ "$RUN_RC" = 0 ] && [ -z "$(ctrs)" ] && no_marked_left "$RUN_MARK" 5; then ok "Ctrl-C: exit 0, no container or process left"
else not_ok "Ctrl-C: rc $RUN_RC, containers left: $(ctrs)"; show "$out"; fi
apx_done
