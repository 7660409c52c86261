#!/bin/bash
# Run mode: health checks of every kind gate wait_for: log (a PCRE2 pattern
# on the output), exec (a command exits 0), tcp (start-order.test.sh) and
# http (errors.test.sh; here against a server listening on ::1 only, as one
# binding "localhost" may); a log check that never matches turns the
# resource unhealthy with a clear reason.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
need_aspirec
apx_tmpdir T
cp "$APX_SRCDIR"/tests/run/progs/* "$T"/
cat > "$T/health.apx" <<'APX'
executable logsvc {
  command = "sh"
  args    = ["-c", "echo starting up; echo 'Server ready: port none'; sleep 0.5; echo 'Server ready: accepting connections on port 5432'; exec sleep 1000"]
  // PCRE2: \d, a lookahead and an anchor; the first "ready" line must not match.
  health { log = "^Server ready: (?=accepting)accepting connections on port \\d+$" }
}
executable afterlog { command = "sh"  args = ["stamp.sh", "afterlog", "0", "forever"]  wait_for = [logsvc] }
executable execsvc {
  command = "sh"
  args    = ["-c", "rm -f execflag; sleep 0.7; echo making the flag; touch execflag; exec sleep 1000"]
  health { exec = ["test", "-f", "execflag"]  interval = 200ms }
}
executable afterexec { command = "sh"  args = ["stamp.sh", "afterexec", "0", "forever"]  wait_for = [execsvc] }
executable v6only {
  command = "python3"
  args    = ["-c", "import http.server as h, os, socket\nclass S(h.HTTPServer): address_family = socket.AF_INET6\nprint('on ::1', flush=True)\nS(('::1', int(os.environ['PORT'])), h.SimpleHTTPRequestHandler).serve_forever()"]
  endpoint http { env = "PORT" }
  health { http = "/"  interval = 200ms }
}
executable mute {
  command = "sh"
  args    = ["-c", "echo nothing to see; exec sleep 1000"]
  health { log = "never (printed|shown)"  interval = 200ms  retries = 2 }
}
APX
export TIMES=$T/times
out=$T/out
run_start "$out" "$T/health.apx" --run --grace 2s
wait_for_text "$out" 'is up|started with problems' 15
line() { grep -nE -- "$1" "$out" | head -1 | cut -d: -f1; }
before() { local a b; a=$(line "$1"); b=$(line "$2"); [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]; }
if before 'logsvc +\| Server ready: accepting' 'logsvc: healthy' && before 'logsvc: healthy' 'afterlog: started' &&
   ! before 'logsvc: healthy' 'logsvc +\| Server ready: accepting'; then
  ok "log check (PCRE2): healthy only at the matching line; what waits for it starts after"
else
  not_ok "log check (PCRE2): healthy at the matching line"; show "$out"
fi
if before 'execsvc +\| making the flag' 'execsvc: healthy' && before 'execsvc: healthy' 'afterexec: started'; then
  ok "exec check: healthy once the command exits 0; what waits for it starts after"
else
  not_ok "exec check: healthy once the command exits 0"; show "$out"
fi
if wait_for_text "$out" 'mute: unhealthy: no line of its output has matched /never \(printed\|shown\)/ yet \(2 checks in a row failed\)' 5; then
  ok "a log check that never matches: unhealthy, saying what it waits for"
else
  not_ok "a log check that never matches: unhealthy"; show "$out"
fi
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2> /dev/null; then
  if wait_for_text "$out" 'v6only: healthy' 5; then ok "http check: a server listening on ::1 only is found there"
  else not_ok "http check: a server listening on ::1 only is found there"; show "$out"; fi
else
  ok "# SKIP no IPv6 loopback here"
fi
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 10
[ "$RUN_RC" = 0 ] && no_marked_left "$RUN_MARK" 2 && ok "Ctrl-C: status 0, nothing left" ||
  { not_ok "Ctrl-C: status 0, nothing left (status $RUN_RC)"; show "$out"; }
apx_done
