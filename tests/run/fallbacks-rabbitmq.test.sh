#!/bin/bash
# Run mode: the stdlib's rabbitmq through its local fallback (Debian's
# rabbitmq-server, as user rabbitmq), with a real client: an app that waits
# for the broker, connects with pika through the amqp:// connection string
# run mode renders (the generated password), declares a queue, publishes a
# message and consumes it. Erlang's port mapper is the broker's own, on
# 127.0.0.1: nothing listens on the machine's 4369 because of it, and after
# Ctrl-C no epmd, beam or other process of the run is left.
# apx-test: slow
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
need_aspirec
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || command -v rabbitmq-server > /dev/null ||
  { not_ok "rabbitmq-server is missing (bash scripts/setup.sh installs it)"; apx_done; exit; }
DPY=$(py_with pika) || { not_ok "pika is missing (bash scripts/setup.sh installs python3-pika)"; apx_done; exit; }
apx_tmpdir T
chmod 755 "$T" # the broker runs as rabbitmq: it must reach its directory
cp "$APX_SRCDIR"/tests/run/progs/* "$T"/
cat > "$T/mq.apx" <<APX
import "rabbitmq"
rabbitmq mq {}
executable app {
  command    = "$DPY"
  args       = ["fallback_client.py", "rabbitmq", "hello-$$"]
  references = [mq]
  wait_for   = [mq]
}
APX
epmd_before=$(ss -Hltn 'sport = :4369' 2> /dev/null | wc -l)
out=$T/out
run_start "$out" "$T/mq.apx" --run --engine=local --grace 15s
if wait_for_text "$out" 'app: (finished|ended|failed)' 120; then
  grep -qE "^app +\| consumed: hello-$$\$" "$out" && grep -q 'app: finished (exit status 0)' "$out" &&
    ok "the app published a message to the local RabbitMQ and consumed it (AMQP, the generated password)" ||
    { not_ok "the app publishes and consumes a message"; show "$out"; }
else
  not_ok "the app ran against RabbitMQ"; show "$out"
fi
pids=$(mark_pids "$RUN_MARK")
names=$(for p in $pids; do cat "/proc/$p/comm" 2> /dev/null; done | sort -u | tr '\n' ' ')
note "processes of the run: $names"
epmd_pid=$(for p in $pids; do [ "$(cat "/proc/$p/comm" 2> /dev/null)" = epmd ] && echo "$p"; done)
ports=$(ss -Hltnp 2> /dev/null | grep -E "pid=($(echo $pids | tr ' ' '|'))," | awk '{print $4}' | sort | tr '\n' ' ')
note "their listening sockets: $ports"
[ -n "$epmd_pid" ] && ! echo " $ports" | grep -qE ':4369 ' && ! echo " $ports" | grep -qvE ' (127\.0\.0\.1|\[::1\]):[0-9]+' &&
  [ "$(ss -Hltn 'sport = :4369' 2> /dev/null | wc -l)" = "$epmd_before" ] &&
  ok "the broker's epmd is its own (pid $epmd_pid), not on 4369; everything listens on loopback only" ||
  not_ok "a private epmd on loopback (epmd pid '$epmd_pid', sockets: $ports)"
kill -INT "$RUN_PID"; wait_exit "$RUN_PID" 40
[ "$RUN_RC" = 0 ] && ok "Ctrl-C stops it, status 0" || { not_ok "Ctrl-C (status $RUN_RC)"; show "$out"; }
no_marked_left "$RUN_MARK" 5 && ok "no process of the run is left (no epmd, no beam)" ||
  { not_ok "processes left"; for p in $(mark_pids "$RUN_MARK"); do echo "$p $(tr '\0' ' ' < "/proc/$p/cmdline" | cut -c1-120)"; done | diag; }
apx_done
