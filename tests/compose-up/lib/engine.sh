# Sourced by the bring-up tests (tests/compose-up/*.sh) after tests/lib.sh:
# the private dockerd, docker-compose against it, and the start-order checks.
# Every wait is bounded by $WAIT seconds.
CU_HERE=$APX_SRCDIR/tests/compose-up
unset COMPOSE_FILE COMPOSE_PROJECT_NAME DOCKER_CONTEXT DOCKER_TLS_VERIFY DOCKER_CERT_PATH
DOCKER=${DOCKER:-$(command -v /usr/bin/docker || command -v docker)}
export DOCKER
WAIT=${APX_UP_WAIT:-60}

# cu_need PROG...: each must exist, else one failure (never a silent pass).
cu_need() {
  local prog
  for prog in "$@"; do
    command -v "$prog" > /dev/null || { not_ok "compose-up: $prog is missing (run scripts/setup.sh)"; exit 1; }
  done
}

# cu_compile DIR FILE.apx OUT [ARGS...]: aspirec FILE --emit=compose -o OUT, run in DIR.
cu_compile() {
  local dir=$1 src=$2 out=$3 msg
  shift 3
  if ! msg=$(cd "$dir" && "$ASPIREC" "$src" --emit=compose -o "$out" "$@" 2>&1) || [ ! -f "$out/docker-compose.yaml" ]; then
    not_ok "compose-up: aspirec $src --emit=compose"
    printf '%s\n' "$msg" | diag
    exit 1
  fi
  ok "compose-up: aspirec compiled $src to a Compose project"
}

# cu_engine STATE_DIR: starts the private dockerd (stopped at exit) and
# exports DOCKER_HOST for it.
cu_engine() {
  local dk=$1 start
  at_exit "'$CU_HERE/bin/dockerd-local' stop '$dk' >&2"
  if ! start=$("$CU_HERE/bin/dockerd-local" start "$dk" 2>&1); then
    not_ok "compose-up: private dockerd started"
    printf '%s\n' "$start" | diag
    exit 1
  fi
  eval "$(printf '%s\n' "$start" | grep '^export DOCKER_HOST=')"
  ok "compose-up: private dockerd started ($DOCKER_HOST)"
}

# cu_project NAME COMPOSE_FILE: `dc ARGS...` runs docker-compose on it
# (bounded); it is brought down at exit.
cu_project() {
  CU_PROJECT=$1 CU_COMPOSE=$2
  at_exit "timeout 60 docker-compose -p '$1' -f '$2' down -t 1 -v > /dev/null 2>&1"
}
dc() { timeout "$((WAIT + 30))" docker-compose -p "$CU_PROJECT" -f "$CU_COMPOSE" "$@"; }

# cu_up: dc up -d, with the logs on failure.
cu_up() {
  local msg
  if msg=$(dc up -d 2>&1); then ok "compose-up: docker-compose up -d"
  else
    not_ok "compose-up: docker-compose up -d"; printf '%s\n' "$msg" | diag
    dc logs --no-color 2>&1 | diag 40
    exit 1
  fi
}

# The engine keeps only a container's last 5 probes, so by the time up -d
# returns the first ones may be gone. cu_watch_health SERVICE FILE (run in
# the background while up -d waits) polls the service's health log into
# FILE; cu_health_seen FILE prints every probe seen, in order, as
# `END_TIME EXIT OUTPUT`.
cu_watch_health() {
  local id= _
  for _ in $(seq $((WAIT * 5))); do
    [ -n "$id" ] || id=$("$DOCKER" ps -aq --filter "label=com.docker.compose.project=$CU_PROJECT" \
      --filter "label=com.docker.compose.service=$1" 2> /dev/null)
    [ -n "$id" ] && cu_health_dump "$id" >> "$2" 2> /dev/null
    sleep 0.2
  done
}
cu_health_dump() { "$DOCKER" inspect -f '{{range .State.Health.Log}}{{json .End}} {{.ExitCode}} {{.Output}}{{println}}{{end}}' "$1" | tr -d '"'; }
cu_health_seen() { grep . "$1" | awk '!seen[$0]++'; }

# cu_wait_log CONTAINER REGEX: waits until the container's output has a line matching.
cu_wait_log() {
  local _
  for _ in $(seq $((WAIT * 5))); do
    "$DOCKER" logs "$1" 2>&1 | grep -q "$2" && return 0
    sleep 0.2
  done
  return 1
}

secs() { date -d "$1" +%s.%N; }                  # RFC 3339 -> seconds
before() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 <= b + 0) }'; }   # a <= b

# cu_check_order SERVER_ID CLIENT_ID T0 T1: the engine's events between T0
# and T1 show the server's `health_status: healthy` before the client's start.
cu_check_order() {
  local server=$1 client=$2 events healthy_ns cstart_ns
  events=$("$DOCKER" events --since "$3" --until "$4" --filter type=container \
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
}

# cu_check_after_probe HEALTH_LOG CLIENT_STARTED SERVER_STARTED DELAY: the
# client's StartedAt is after the server's first successful probe and after
# the server's start-up delay. HEALTH_LOG: lines `EXIT END_TIME`.
cu_check_after_probe() {
  local log=$1 cstarted=$2 sstarted=$3 delay=$4 first_ok failed_before
  first_ok=$(printf '%s\n' "$log" | awk '$1 == 0 { print $2; exit }')
  failed_before=$(printf '%s\n' "$log" | awk '$1 == 0 { exit } NF { n++ } END { print n + 0 }')
  if [ -z "$first_ok" ]; then
    not_ok "compose-up: the server's health log has a successful probe"; printf '%s\n' "$log" | diag
  elif before "$(secs "$first_ok")" "$(secs "$cstarted")"; then
    ok "compose-up: client StartedAt $cstarted is after the server's first healthy probe $first_ok ($failed_before failing before it)"
  else
    not_ok "compose-up: client StartedAt $cstarted is before the server's first healthy probe $first_ok"
  fi
  if before "$(awk -v s="$(secs "$sstarted")" -v d="$delay" 'BEGIN { printf "%.9f", s + d }')" "$(secs "$cstarted")"; then
    ok "compose-up: client started at least $delay s (the server's delay) after the server"
  else
    not_ok "compose-up: client started less than $delay s after the server ($sstarted, $cstarted)"
  fi
}

# cu_down: dc down, and no container left on the engine.
cu_down() {
  local msg left
  if msg=$(dc down -t 1 -v 2>&1); then ok "compose-up: docker-compose down -t 1 -v"
  else not_ok "compose-up: docker-compose down -t 1 -v"; printf '%s\n' "$msg" | diag; fi
  left=$("$DOCKER" ps -aq)
  if [ -z "$left" ]; then ok "compose-up: no container left"; else not_ok "compose-up: containers left: $left"; fi
}
