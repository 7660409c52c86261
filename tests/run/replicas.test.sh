#!/bin/bash
# Run mode: replicas behind the load-balancing proxy (runtime/proxy.c), and
# stable ports. Three replicas of a small HTTP server (progs/replica.py,
# which answers with its own port) behind the endpoint's port: references
# render that port; connections are spread over all three; 50 MB each way
# arrive intact (the upload ends with a half-close); a replica killed with
# kill -9 gets no connection while it is down, and none fails once it is
# marked down; restarted, it has its port again and gets its share. A
# replica that is up but refuses is skipped. A resource without replicas
# keeps its port across a restart too.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
need_aspirec
apx_tmpdir T
cp "$APX_SRCDIR"/tests/run/progs/* "$T"/
# A free port for an explicit target_port (the kernel's choice, released).
fport=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$T/replicas.apx" <<APX
// An explicit target_port with replicas: the proxy listens there, each
// replica on a port of its own.
executable fixedrep {
  command  = "python3"
  args     = ["replica.py"]
  replicas = 2
  endpoint http { env = "PORT"  target_port = $fport }
}
executable api {
  command  = "python3"
  args     = ["replica.py"]
  replicas = 3
  restart  = "on-failure"
  endpoint http { env = "PORT"  scheme = "http" }
  health { http = "/"  interval = 200ms }
}
executable solo {
  command = "python3"
  args    = ["replica.py"]
  restart = "on-failure"
  endpoint http { env = "PORT"  scheme = "http" }
  health { http = "/"  interval = 200ms }
}
// Two replicas without checks, both "up": the first to start takes the
// lock and listens nowhere, so every connection it is offered is refused.
executable deaf {
  command  = "sh"
  args     = ["-c", "if mkdir deaf.lock 2> /dev/null; then echo deaf; exec sleep 1000; else exec python3 replica.py; fi"]
  replicas = 2
  endpoint http { env = "PORT"  scheme = "http" }
}
executable client {
  command = "sh"
  args    = ["-c", "echo API_URL=\$API_URL SOLO_URL=\$SOLO_URL; exec sleep 1000"]
  env {
    API_URL  = api.endpoints.http.url
    SOLO_URL = solo.endpoints.http.url
  }
}
APX
out=$T/out
PC="$PY $T/proxy_client.py"
# healthy_again NAME SECONDS: its second "healthy" line (the first was at the start).
healthy_again() {
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    [ "$(grep -c "aspirec.*| $1: healthy" "$out")" -ge 2 ] && return 0
    sleep 0.1
  done
  return 1
}
run_start "$out" "$T/replicas.apx" --run --grace 2s
if ! wait_for_text "$out" 'is up|started with problems' 15; then
  not_ok "the program with replicas is up"; show "$out"; apx_done; exit
fi
proxy=$(sed -n 's/.*  api  *proxy  *http:\/\/localhost:\([0-9]*\) (to 3 replicas).*/\1/p' "$out")
ports=$(sed -n 's/.*  api\.[0-2]  *executable  *http:\/\/localhost:\([0-9]*\).*/\1/p' "$out" | sort | tr '\n' ' ')
url=$(sed -n 's/.*API_URL=\([^ ]*\) .*/\1/p' "$out")
note "proxy port $proxy; replicas' ports $ports; client's API_URL $url"
[ -n "$proxy" ] && [ "$url" = "http://localhost:$proxy" ] && [ "$(echo $ports | wc -w)" = 3 ] &&
  ! echo " $ports" | grep -q " $proxy " &&
  ok "a reference to a resource with replicas renders the proxy's port, not a replica's" ||
  { not_ok "references render the proxy's port"; show "$out"; }

# Spread: 30 connections, one after the other, go round the three replicas.
spread=$($PC spread "$proxy" 30 2> "$T/spread.err")
note "spread: $(echo $spread)"
seen=$(echo "$spread" | awk '$1 != "failed" {print $1}' | sort | tr '\n' ' ')
[ "$seen" = "$ports" ] && echo "$spread" | grep -qx 'failed 0' &&
  [ "$(echo "$spread" | awk '$1 != "failed" && $2 == 10' | wc -l)" = 3 ] &&
  ok "30 connections through the proxy: 10 to each of the 3 replicas (round robin), none failed" ||
  { not_ok "connections spread over every replica (got: $(echo $spread); want ports $ports)"; diag < "$T/spread.err"; }

# A client resolving localhost to ::1 first finds the proxy there too.
v6=$($PY -c "
import socket
s = socket.create_connection(('::1', $proxy), timeout=5)
s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
print(s.makefile('rb').read().split(b'\r\n\r\n', 1)[1].decode().split()[0])" 2>&1)
[ "$v6" = replica ] && ok "the proxy answers on [::1] as well as 127.0.0.1" || not_ok "the proxy on [::1] ($v6)"

# An explicit target_port of a replicated executable: the proxy's port.
spread=$($PC spread "$fport" 10 2> /dev/null)
[ "$(echo "$spread" | grep -c ' 5$')" = 2 ] && echo "$spread" | grep -qx 'failed 0' &&
  ! echo "$spread" | grep -q "^$fport " &&
  ok "replicas with an explicit target_port: the proxy listens on it ($fport), each replica on its own port" ||
  { not_ok "replicas with an explicit target_port (got: $(echo $spread))"; show "$out"; }

# A replica that refuses is skipped for the next: nothing fails.
dproxy=$(sed -n 's/.*  deaf  *proxy  *http:\/\/localhost:\([0-9]*\) (to 2 replicas).*/\1/p' "$out")
spread=$($PC spread "$dproxy" 20 2> "$T/spread.err")
[ "$(echo "$spread" | wc -l)" = 2 ] && echo "$spread" | grep -qE '^[0-9]+ 20$' && echo "$spread" | grep -qx 'failed 0' &&
  ok "a replica that is up but refuses connections is skipped: 20 of 20 go to the other" ||
  { not_ok "a refusing replica is skipped (got: $(echo $spread))"; diag < "$T/spread.err"; }

# 50 MB down and up, through the proxy; the upload half-closes.
big=$($PC big "$proxy" 50000000 2>&1)
[ "$(echo $big)" = "download intact upload intact" ] &&
  ok "50 MB through the proxy each way arrive intact (SHA-256), the upload ended by a half-close" ||
  not_ok "50 MB through the proxy arrive intact ($(echo $big))"

# Back-pressure: a client that does not read for 2 s while 100 MB come.
slow=$($PC slow "$proxy" 100000000 "$RUN_PID" 2>&1)
growth=$(echo "$slow" | awk '$1 == "growth" {print $2}')
note "aspirec's resident memory grew by ${growth:-?} kB while the client did not read"
[ -n "$growth" ] && [ "$growth" -lt 4096 ] && echo "$slow" | grep -qx 'download intact' &&
  ok "back-pressure: a client that does not read makes the proxy stop reading (${growth} kB more, not 100 MB); all arrives intact" ||
  not_ok "back-pressure on a slow client ($(echo $slow))"

# kill -9 of one replica while a client keeps connecting.
victim=$(echo $ports | awk '{print $2}')
vpid=$($PY - "$victim" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
print(s.makefile("rb").read().split()[-1].decode())
EOF
)
vname=$(grep -E "api\.[0-2]  +executable  +http://localhost:$victim\$" "$out" | sed 's/.*\(api\.[0-2]\).*/\1/')
loop=$T/loop
$PC loop "$proxy" "$loop" "$T/stop" &
lpid=$!
sleep 0.5
kill -KILL "$vpid"
if wait_for_text "$out" "$vname: ended with signal SIGKILL; restarting" 5; then
  down_at=$(wc -l < "$loop")
  wait_for_text "$out" "$vname: restarted" 5
  up_at=$(wc -l < "$loop")
  healthy_again "$vname" 5
  sleep 0.5
  touch "$T/stop"; wait "$lpid"
  before=$(head -n "$down_at" "$loop" | grep -c '^fail')
  during=$(sed -n "$((down_at + 1)),${up_at}p" "$loop")
  nd=$(echo "$during" | grep -c '^ok')
  note "kill -9 of $vname (port $victim, pid $vpid): $down_at requests before it was marked down ($before failed)," \
    "$nd while it was down, $(wc -l < "$loop") in all"
  [ "$nd" -gt 10 ] && ! echo "$during" | grep -q '^fail' && ! echo "$during" | grep -q "^ok $victim\$" &&
    ok "a replica killed: while it is down every connection goes to the others, none fails ($nd requests)" ||
    { not_ok "connections while a replica is down"; echo "$during" | sort | uniq -c | diag; }
  # At most the request in flight when it died, and one the kernel had
  # queued on its listening socket as it went (reset, not refused).
  [ "$before" -le 2 ] && ok "before it is marked down, a refused replica is skipped ($before failed: those in flight at most)" ||
    { not_ok "refused replica skipped ($before failures before it was marked down)"; grep '^fail' "$loop" | head | diag; }
else
  touch "$T/stop"; wait "$lpid"
  not_ok "the killed replica $vname is seen ended and restarted"; show "$out"
fi
spread=$($PC spread "$proxy" 30 2> /dev/null)
seen=$(echo "$spread" | awk '$1 != "failed" {print $1}' | sort | tr '\n' ' ')
[ "$seen" = "$ports" ] && echo "$spread" | grep -qx 'failed 0' &&
  ok "restarted, the replica has its port again ($victim) and gets its share" ||
  not_ok "the restarted replica gets connections on its old port (got: $(echo $spread))"

# Without replicas: the same port across a restart.
solo=$(sed -n 's/.*SOLO_URL=http:\/\/localhost:\([0-9]*\).*/\1/p' "$out")
s1=$($PC spread "$solo" 1 2> /dev/null | head -1)
spid=$($PY -c "import socket,sys; s=socket.create_connection(('127.0.0.1',$solo)); s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'); print(s.makefile('rb').read().split()[-1].decode())")
kill -KILL "$spid"
if wait_for_text "$out" 'solo: restarted' 5 && healthy_again solo 5; then
  spid2=$($PY -c "import socket,sys; s=socket.create_connection(('127.0.0.1',$solo)); s.sendall(b'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'); print(s.makefile('rb').read().split()[-1].decode())")
  [ -n "$spid2" ] && [ "$spid2" != "$spid" ] && [ "$s1" = "$solo 1" ] &&
    ok "a resource without replicas, killed and restarted, answers on the same port the client has ($solo; pid $spid -> $spid2)" ||
    not_ok "same port across a restart (pid $spid -> '$spid2')"
else
  not_ok "solo restarted after kill -9"; show "$out"
fi

kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 10
[ "$RUN_RC" = 0 ] && ok "Ctrl-C: stopped, status 0" || { not_ok "Ctrl-C: status $RUN_RC"; show "$out"; }
if $PY -c "import socket; socket.create_connection(('127.0.0.1', $proxy), timeout=2)" 2> /dev/null; then
  not_ok "after the run, nothing listens on the proxy's port"
else
  ok "after the run, nothing listens on the proxy's port $proxy"
fi
no_marked_left "$RUN_MARK" 3 && ok "no process of the run is left" || not_ok "no process of the run is left"
apx_done
