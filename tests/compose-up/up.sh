#!/bin/bash
# apx-test: slow
# The real bring-up: compile tests/compose-up/app.apx with the aspirec under test
# to a Compose project and `docker-compose up -d` it on a private dockerd (state,
# socket and network namespace of its own, stopped and removed at exit) with a
# busybox image imported from Debian's busybox-static. Asserts that
#   - the client container started only after the server became healthy
#     (engine events, the server's health log, and the server's 3 s delay);
#   - the client fetched the server's page (a token made for this run);
#   - the client got exactly the address the compiler injected, and the server
#     answers at that address;
#   - a secret aspirec generated into .env at emit time (no edit before `up`)
#     reached both server and client, the same value, found in neither the
#     YAML nor aspirec's output.
# Every wait is bounded. Talks only to the private engine's socket.
. "$(dirname "$0")/../lib.sh"
need_aspirec
. "$(dirname "$0")/lib/engine.sh"
here=$CU_HERE
IMAGE=aspirec-test/busybox:1
project=apxup

cu_need dockerd docker-compose "$DOCKER" /bin/busybox node

apx_tmpdir tmp
out=$tmp/app
compose=$out/docker-compose.yaml

# ---- compile -------------------------------------------------------------------
cu_compile "$here" app.apx "$out"

# The generated secret: in .env (0600) at emit time, nowhere else. The .env
# is used exactly as emitted: nothing below edits it.
secret=$(sed -n "s/^SHARED_SECRET=//p" "$out/.env" | sed "s/^'\(.*\)'\$/\1/")
if [[ $secret =~ ^[A-Za-z0-9._~-]{24}$ ]] && [ "$(stat -c %a "$out/.env")" = 600 ] &&
   ! grep -qF -- "$secret" "$compose" && ! printf '%s' "$msg" | grep -qF -- "$secret"; then
  ok "compose-up: aspirec generated SHARED_SECRET into .env (24 characters, mode 0600, not in the YAML, not printed)"
else
  not_ok "compose-up: aspirec generated SHARED_SECRET into .env (24 characters, mode 0600, not in the YAML, not printed)"
  grep -v '^SHARED_SECRET=' "$out/.env" | diag
fi

# The address the compiler injected into the client (Aspire's names).
env_client=$(node "$APX_SRCDIR/tests/tools/compose-query.mjs" "$compose" env client)
var= injected=
for v in SERVER_HTTP services__server__http__0; do
  injected=$(printf '%s\n' "$env_client" | sed -n "s/^$v=//p" | head -n 1)
  [ -n "$injected" ] && { var=$v; break; }
done
if [ -z "$var" ]; then
  not_ok "compose-up: the compiler injected SERVER_HTTP or services__server__http__0 into client"
  printf '%s\n' "$env_client" | diag
  exit 1
fi
ok "compose-up: client gets $var=$injected from the compiler"
# targets.md: a reference renders for Compose as name:target_port.
if [ "$injected" = "http://server:8080" ]; then ok "compose-up: injected address is the Compose service name and target port"
else not_ok "compose-up: injected address is '$injected', expected http://server:8080"; fi
note "server healthcheck: $(node "$APX_SRCDIR/tests/tools/compose-query.mjs" "$compose" get services.server.healthcheck.test 2>&1)"
note "client depends_on: $(node "$APX_SRCDIR/tests/tools/compose-query.mjs" "$compose" get services.client.depends_on 2>&1)"

# ---- private engine and image -------------------------------------------------------
cu_engine "$tmp/dk"

token="aspirec-compose-up-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
if ! msg=$("$here/bin/make-busybox-image" "$IMAGE" "<p>$token</p>" 2>&1); then
  not_ok "compose-up: busybox image imported"; printf '%s\n' "$msg" | diag; exit 1
fi
ok "compose-up: busybox image $IMAGE imported"

# ---- up ------------------------------------------------------------------------------
cu_project "$project" "$compose"
t0=$(date +%s.%N)
# The engine keeps only the server's last 5 probes: watch them while up -d waits.
cu_watch_health server "$tmp/health" &
watcher=$!
at_exit "kill $watcher 2> /dev/null"
cu_up
server=$(dc ps -q server) client=$(dc ps -q client)
if [ -z "$server" ] || [ -z "$client" ]; then not_ok "compose-up: containers server and client exist"; exit 1; fi
kill "$watcher" 2> /dev/null; wait "$watcher" 2> /dev/null
cu_health_dump "$server" >> "$tmp/health"
health_log=$(cu_health_seen "$tmp/health" | awk '{ print $2, $1 }')   # EXIT END
server_started=$("$DOCKER" inspect -f '{{.State.StartedAt}}' "$server")
client_started=$("$DOCKER" inspect -f '{{.State.StartedAt}}' "$client")

# Wait (bounded) until the client has done its fetch.
cu_wait_log "$client" '^client: done'
logs=$("$DOCKER" logs "$client" 2>&1)
t1=$(date +%s.%N)

# ---- assertions ----------------------------------------------------------------------
# 1. Engine events: the server's `health_status: healthy` precedes the client's start.
cu_check_order "$server" "$client" "$t0" "$t1"
# 2. Inspect: the client's StartedAt is after the end of the server's first
#    successful probe, and after the server's 3 s delay.
cu_check_after_probe "$health_log" "$client_started" "$server_started" 3

# 3. The client fetched this run's page through the injected address.
if printf '%s\n' "$logs" | grep -qF "$token"; then ok "compose-up: client output contains the server's index.html ($token)"
else not_ok "compose-up: client output lacks the server's index.html"; printf '%s\n' "$logs" | diag; fi
if printf '%s\n' "$logs" | grep -qxF "client: fetching $injected"; then ok "compose-up: client fetched \$$var = $injected"
else not_ok "compose-up: client did not fetch $injected"; printf '%s\n' "$logs" | diag; fi

# 4. The environment the engine gave the client is the compiler's value, and the
#    server answers at exactly that address.
cenv=$("$DOCKER" inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$client")
got=$(printf '%s\n' "$cenv" | sed -n "s/^$var=//p" | head -n 1)
if [ "$got" = "$injected" ]; then ok "compose-up: client container has $var=$got, the compiler's value"
else not_ok "compose-up: client container has $var='$got', compiler emitted '$injected'"; printf '%s\n' "$cenv" | diag; fi
if page=$(timeout 20 "$DOCKER" exec "$client" wget -qO- "$injected" 2>&1) && printf '%s' "$page" | grep -qF "$token"; then
  ok "compose-up: the server answers at $injected"
else
  not_ok "compose-up: the server does not answer at $injected"; printf '%s\n' "$page" | diag
fi

# 5. Both containers got the one generated secret from .env: the client
#    compared its own with the server's and says they match.
if printf '%s\n' "$logs" | grep -qxF "client: secret matches the server"; then
  ok "compose-up: client and server were given the same generated secret (the client compared them)"
else
  not_ok "compose-up: client and server were given the same generated secret"; printf '%s\n' "$logs" | diag
fi
senv=$("$DOCKER" inspect -f '{{range .Config.Env}}{{println .}}{{end}}' "$server")
if [ -n "$secret" ] && printf '%s\n' "$senv" | grep -qxF "SHARED_SECRET=$secret" &&
   printf '%s\n' "$cenv" | grep -qxF "SHARED_SECRET=$secret"; then
  ok "compose-up: the engine gave server and client exactly the value aspirec wrote to .env"
else
  not_ok "compose-up: the engine gave server and client exactly the value aspirec wrote to .env"
fi

# ---- down ----------------------------------------------------------------------------
cu_down
apx_done
