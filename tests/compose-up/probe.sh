#!/bin/bash
# apx-test: slow
# Health checks in an image with nothing in it: compile tests/compose-up/probe.apx
# (a server whose image holds one static binary, tests/compose-up/static-server.c,
# with an http health check; a client with wait_for on it) and bring it up with
# `docker-compose up -d` on a private dockerd, from the emitted directory as it is
# (the probe copied into it by aspirec). Asserts that
#   - the server's image holds exactly one file and no shell;
#   - the engine ran the test aspirec wrote (/.aspirec/probe), bound read-only,
#     and the probe's own output is in the server's health log;
#   - the server became healthy through it, after failing while it was not
#     listening yet, and the client started only after that;
#   - the client fetched this run's page from the server.
# Every wait is bounded. Talks only to the private engine's socket.
. "$(dirname "$0")/../lib.sh"
need_aspirec
. "$(dirname "$0")/lib/engine.sh"
here=$CU_HERE
SERVER_IMAGE=aspirec-test/static-server:1
CLIENT_IMAGE=aspirec-test/busybox:1
project=apxprobe

cu_need dockerd docker-compose "$DOCKER" /bin/busybox cc tar

apx_tmpdir tmp
out=$tmp/app
compose=$out/docker-compose.yaml
token="aspirec-probe-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"

# ---- compile -------------------------------------------------------------------
cu_compile "$here" probe.apx "$out" -p "token=$token"
if [ -x "$out/.aspirec/probe" ] && cmp -s "$out/.aspirec/probe" "$APX_BUILDDIR/probe/aspirec-probe"; then
  ok "compose-up: aspirec copied its probe to the project (.aspirec/probe, mode $(stat -c %a "$out/.aspirec/probe"))"
else
  not_ok "compose-up: the project has no executable .aspirec/probe equal to the build's"
fi

# ---- the one-file image ----------------------------------------------------------
root=$tmp/root
mkdir -p "$root"
if ! msg=$(cc -static -O2 -o "$root/server" "$here/static-server.c" 2>&1) || ldd "$root/server" > /dev/null 2>&1; then
  not_ok "compose-up: static-server.c built as a static binary"; printf '%s\n' "$msg" | diag; exit 1
fi
tar --numeric-owner --owner=0 --group=0 -C "$root" -cf "$tmp/server.tar" server
listing=$(tar -tf "$tmp/server.tar")
if [ "$listing" = server ]; then ok "compose-up: the server image's only file is /server, a static binary"
else not_ok "compose-up: the server image has more than /server"; printf '%s\n' "$listing" | diag; fi

cu_engine "$tmp/dk"
if ! msg=$("$DOCKER" import "$tmp/server.tar" "$SERVER_IMAGE" 2>&1); then
  not_ok "compose-up: server image imported"; printf '%s\n' "$msg" | diag; exit 1
fi
if ! msg=$("$here/bin/make-busybox-image" "$CLIENT_IMAGE" 2>&1); then
  not_ok "compose-up: busybox image imported"; printf '%s\n' "$msg" | diag; exit 1
fi
ok "compose-up: images $SERVER_IMAGE and $CLIENT_IMAGE imported"
# No shell to fall back on: the old CMD-SHELL checks could never pass here.
if "$DOCKER" run --rm --entrypoint /bin/sh "$SERVER_IMAGE" -c true > /dev/null 2>&1; then
  not_ok "compose-up: the server image has a /bin/sh"
else
  ok "compose-up: the server image has no /bin/sh (a shell health check cannot run)"
fi

# ---- up, from the project directory as emitted ------------------------------------
cu_project "$project" "$compose"
t0=$(date +%s.%N)
# The first probes (failing while the server sleeps) are gone from the
# engine's log by the end: watch it while up -d waits.
cu_watch_health server "$tmp/health" &
watcher=$!
at_exit "kill $watcher 2> /dev/null"
cd "$out" || { not_ok "compose-up: cd $out"; exit 1; }
cu_up
server=$(dc ps -q server) client=$(dc ps -q client)
if [ -z "$server" ] || [ -z "$client" ]; then not_ok "compose-up: containers server and client exist"; exit 1; fi
kill "$watcher" 2> /dev/null; wait "$watcher" 2> /dev/null
cu_health_dump "$server" >> "$tmp/health"
seen=$(cu_health_seen "$tmp/health")
health_log=$(printf '%s\n' "$seen" | awk '{ print $2, $1 }')        # EXIT END
health_out=$(printf '%s\n' "$seen" | cut -d' ' -f2- | sed 's/^\([0-9]*\) /\1: /')  # EXIT: OUTPUT
server_started=$("$DOCKER" inspect -f '{{.State.StartedAt}}' "$server")
client_started=$("$DOCKER" inspect -f '{{.State.StartedAt}}' "$client")
status=$("$DOCKER" inspect -f '{{.State.Health.Status}}' "$server")
test_cmd=$("$DOCKER" inspect -f '{{json .Config.Healthcheck.Test}}' "$server")
mount=$("$DOCKER" inspect -f '{{range .Mounts}}{{if eq .Destination "/.aspirec/probe"}}{{.Source}} rw={{.RW}}{{end}}{{end}}' "$server")

cu_wait_log "$client" '^client: done'
logs=$("$DOCKER" logs "$client" 2>&1)
t1=$(date +%s.%N)

# ---- assertions ----------------------------------------------------------------------
if [ "$test_cmd" = '["CMD","/.aspirec/probe","--timeout=1s","http","8080","/health"]' ]; then
  ok "compose-up: the engine runs the probe aspirec wrote: $test_cmd"
else
  not_ok "compose-up: the server's health test is $test_cmd"
fi
if [ "$mount" = "$(cd "$out" && pwd -P)/.aspirec/probe rw=false" ]; then ok "compose-up: /.aspirec/probe is the project's copy, read-only"
else not_ok "compose-up: the probe mount is '$mount'"; fi
if [ "$status" = healthy ]; then ok "compose-up: the server is healthy"
else not_ok "compose-up: the server's health is '$status'"; printf '%s\n' "$health_out" | diag; fi
if printf '%s\n' "$health_out" | grep -qF '0: aspirec-probe: GET http://127.0.0.1:8080/health: status 200'; then
  ok "compose-up: the health log has the probe's answer (GET /health: status 200)"
else
  not_ok "compose-up: the health log lacks the probe's successful GET"; printf '%s\n' "$health_out" | diag
fi
# While the server slept, the probe found nobody listening (1 s interval, 3 s delay).
if printf '%s\n' "$health_out" | grep -q '^1: aspirec-probe: GET http://127.0.0.1:8080/health: Connection refused'; then
  ok "compose-up: before the server listened, the probe failed (connection refused)"
else
  not_ok "compose-up: no failing probe while the server was not yet listening"; printf '%s\n' "$health_out" | diag
fi
cu_check_order "$server" "$client" "$t0" "$t1"
cu_check_after_probe "$health_log" "$client_started" "$server_started" 3
if printf '%s\n' "$logs" | grep -qxF "$token"; then ok "compose-up: the client fetched this run's page from the server ($token)"
else not_ok "compose-up: the client did not get the server's page"; printf '%s\n' "$logs" | diag; fi

cu_down
apx_done
