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
here=$APX_SRCDIR/tests/compose-up
unset COMPOSE_FILE COMPOSE_PROJECT_NAME DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
DOCKER=${DOCKER:-$(command -v /usr/bin/docker || command -v docker)}
export DOCKER
WAIT=${APX_UP_WAIT:-60}       # seconds, for each wait
IMAGE=aspirec-test/busybox:1
project=apxup

for prog in dockerd docker-compose "$DOCKER" /bin/busybox node; do
  command -v "$prog" > /dev/null || { not_ok "compose-up: $prog is missing (run scripts/setup.sh)"; exit 1; }
done

apx_tmpdir tmp
out=$tmp/app
compose=$out/docker-compose.yaml

# ---- compile -------------------------------------------------------------------
if ! msg=$(cd "$here" && "$ASPIREC" app.apx --emit=compose -o "$out" 2>&1) || [ ! -f "$compose" ]; then
  not_ok "compose-up: aspirec app.apx --emit=compose"
  printf '%s\n' "$msg" | diag
  exit 1
fi
ok "compose-up: aspirec compiled app.apx to a Compose project"

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
dk=$tmp/dk
at_exit "'$here/bin/dockerd-local' stop '$dk' >&2"
if ! start=$("$here/bin/dockerd-local" start "$dk" 2>&1); then
  not_ok "compose-up: private dockerd started"
  printf '%s\n' "$start" | diag
  exit 1
fi
eval "$(printf '%s\n' "$start" | grep '^export DOCKER_HOST=')"
ok "compose-up: private dockerd started ($DOCKER_HOST)"

token="aspirec-compose-up-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
if ! msg=$("$here/bin/make-busybox-image" "$IMAGE" "<p>$token</p>" 2>&1); then
  not_ok "compose-up: busybox image imported"; printf '%s\n' "$msg" | diag; exit 1
fi
ok "compose-up: busybox image $IMAGE imported"

# ---- up ------------------------------------------------------------------------------
dc() { timeout "$((WAIT + 30))" docker-compose -p "$project" -f "$compose" "$@"; }
at_exit "timeout 60 docker-compose -p '$project' -f '$compose' down -t 1 -v > /dev/null 2>&1"
t0=$(date +%s.%N)
if msg=$(dc up -d 2>&1); then ok "compose-up: docker-compose up -d"
else
  not_ok "compose-up: docker-compose up -d"; printf '%s\n' "$msg" | diag
  dc logs --no-color 2>&1 | diag 40
  exit 1
fi
# Read the server's health log at once: the engine keeps only its last 5 probes.
server=$(dc ps -q server) client=$(dc ps -q client)
if [ -z "$server" ] || [ -z "$client" ]; then not_ok "compose-up: containers server and client exist"; exit 1; fi
health_log=$("$DOCKER" inspect -f '{{range .State.Health.Log}}{{.ExitCode}} {{json .End}}{{println}}{{end}}' "$server" | tr -d '"')
server_started=$("$DOCKER" inspect -f '{{.State.StartedAt}}' "$server")
client_started=$("$DOCKER" inspect -f '{{.State.StartedAt}}' "$client")

# Wait (bounded) until the client has done its fetch.
for _ in $(seq $((WAIT * 5))); do
  "$DOCKER" logs "$client" 2>&1 | grep -q '^client: done' && break
  sleep 0.2
done
logs=$("$DOCKER" logs "$client" 2>&1)
t1=$(date +%s.%N)

# ---- assertions ----------------------------------------------------------------------
secs() { date -d "$1" +%s.%N; }                  # RFC 3339 -> seconds
before() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }   # a <= b

# 1. Engine events: the server's `health_status: healthy` precedes the client's start.
events=$("$DOCKER" events --since "$t0" --until "$t1" --filter type=container \
  --format '{{.TimeNano}} {{.ID}} {{.Action}}' 2>&1)
healthy_ns=$(printf '%s\n' "$events" | awk -v id="$server" '$2 == id && /health_status: healthy/ { print $1; exit }')
cstart_ns=$(printf '%s\n' "$events" | awk -v id="$client" '$2 == id && $3 == "start" { print $1; exit }')
if [ -z "$healthy_ns" ] || [ -z "$cstart_ns" ]; then
  not_ok "compose-up: engine events show the server healthy and the client started"
  printf '%s\n' "$events" | diag 30
elif [ "$healthy_ns" -le "$cstart_ns" ]; then
  ok "compose-up: client started $(( (cstart_ns - healthy_ns) / 1000000 )) ms after the server became healthy (events)"
else
  not_ok "compose-up: client started $(( (healthy_ns - cstart_ns) / 1000000 )) ms BEFORE the server became healthy (events)"
fi

# 2. Inspect: the client's StartedAt is after the end of the server's first
#    successful probe, and after the server's 3 s delay.
first_ok=$(printf '%s\n' "$health_log" | awk '$1 == 0 { print $2; exit }')
failed_before=$(printf '%s\n' "$health_log" | awk '$1 == 0 { exit } NF { n++ } END { print n + 0 }')
if [ -z "$first_ok" ]; then
  not_ok "compose-up: the server's health log has a successful probe"; printf '%s\n' "$health_log" | diag
elif before "$(secs "$first_ok")" "$(secs "$client_started")"; then
  ok "compose-up: client StartedAt $client_started is after the server's first healthy probe $first_ok ($failed_before failing before it)"
else
  not_ok "compose-up: client StartedAt $client_started is before the server's first healthy probe $first_ok"
fi
if before "$(awk -v s="$(secs "$server_started")" 'BEGIN { printf "%.9f", s + 3 }')" "$(secs "$client_started")"; then
  ok "compose-up: client started at least 3 s (the server's delay) after the server"
else
  not_ok "compose-up: client started less than 3 s after the server ($server_started, $client_started)"
fi

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
if msg=$(dc down -t 1 -v 2>&1); then ok "compose-up: docker-compose down -t 1 -v"
else not_ok "compose-up: docker-compose down -t 1 -v"; printf '%s\n' "$msg" | diag; fi
left=$("$DOCKER" ps -aq)
if [ -z "$left" ]; then ok "compose-up: no container left"; else not_ok "compose-up: containers left: $left"; fi
apx_done
