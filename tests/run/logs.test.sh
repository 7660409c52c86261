#!/bin/bash
# Run mode: logs. Every line of stdout and stderr reaches the terminal
# prefixed with its resource's name (its replica's, with several) and the
# log file in the state directory as written; 50 MB from one process loses
# no line, on either side; a line written in parts is one line; a very long
# line is shown in pieces and kept whole in the file; a last line without a
# newline is not lost; no colour when stdout is not a terminal.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/helpers.sh"
need_aspirec
apx_tmpdir T
cp "$APX_SRCDIR"/tests/run/progs/* "$T"/
N=524288 # lines of 100 bytes: 50 MiB
cat > "$T/logs.apx" <<'APX'
executable flood { command = "python3"  args = ["flood.py", "flood", "@N@"] }
executable parts {
  command = "sh"
  args = ["-c", "printf 'first '; sleep 0.3; echo half; echo to-stderr >&2; head -c 100000 /dev/zero | tr -c y y; printf 'no newline at the end'"]
}
executable twins { command = "sh"  args = ["-c", "echo I am $PORT"]  replicas = 2  endpoint http { env = "PORT" } }
APX
sed -i "s/@N@/$N/" "$T/logs.apx"
out=$T/out
start=$(now)
run_start "$out" "$T/logs.apx" --run --state-dir "$T/state"
if ! wait_exit "$RUN_PID" 120; then not_ok "the run ends by itself"; tail -5 "$out" | diag; apx_done; fi
took=$(awk -v a="$start" -v b="$(now)" 'BEGIN {printf "%.2f", b - a}')
[ "$RUN_RC" = 0 ] && ok "every process finished: status 0 ($took s for 50 MiB and the rest)" ||
  { not_ok "every process finished: status 0 (got $RUN_RC)"; grep -v '^flood ' "$out" | diag; }
log=$T/state/logs/flood.log
bytes=$(stat -c %s "$log" 2> /dev/null)
# Each line: "flood NUMBER xxx…", 99 bytes and a newline, numbers 0, 1, 2, …
check_seq() { awk -v n="$N" 'BEGIN {bad = 0} /^flood done$/ {next} {if ($2 + 0 != k++ || length($0) != 99) {bad++}} END {exit !(k == n && bad == 0)}'; }
# The file also has stderr's "flood done" (11 bytes).
if [ "$bytes" = $((N * 100 + 11)) ] && check_seq < "$log"; then
  ok "50 MiB: the log file has every line, in order, byte for byte ($bytes bytes)"
else
  not_ok "50 MiB: the log file has every line ($bytes bytes, want $((N * 100 + 11)))"
fi
# The prefix: the name padded to the longest name ("aspirec", "twins.0"), then " | ".
if sed -n 's/^flood   | //p' "$out" | check_seq; then
  ok "50 MiB: the terminal got every line, in order, prefixed with 'flood   | '"
else
  not_ok "50 MiB: the terminal got every line, in order ($(grep -c '^flood   | ' "$out") lines)"
fi
grep -qx 'flood   | flood done' "$out" && ok "stderr lines are shown too" || not_ok "stderr lines are shown too"
grep -qx 'parts   | first half' "$out" && ok "a line written in two parts is one line" ||
  { not_ok "a line written in two parts is one line"; grep '^parts' "$out" | cut -c1-100 | diag; }
pieces=$(grep -c '^parts   [|+] y' "$out")
cont=$(grep -c '^parts   + ' "$out")
if [ "$pieces" = 4 ] && [ "$cont" = 3 ] && [ "$(grep '^parts   [|+] y' "$out" | cut -c11- | tr -cd y | wc -c)" = 100000 ]; then
  ok "a 100 kB line is shown in 4 pieces (continuations marked '+'), none of it lost"
else
  not_ok "a 100 kB line is shown in pieces ($pieces pieces, $cont continuations)"
fi
if grep -qE '^parts   [|+] y*no newline at the end$' "$out"; then
  ok "the last line without a newline is shown"
else
  not_ok "the last line without a newline is shown"; grep '^parts' "$out" | cut -c1-60 | diag
fi
plog=$T/state/logs/parts.log
if [ "$(grep -c '^y' "$plog")" = 1 ] && [ "$(grep '^y' "$plog" | wc -c)" = 100022 ]; then
  ok "the log file keeps the long line whole (and the unterminated end with it)"
else
  not_ok "the log file keeps the long line whole"; cut -c1-80 "$plog" | diag
fi
p0=$(sed -n 's/^twins\.0 | I am //p' "$out") p1=$(sed -n 's/^twins\.1 | I am //p' "$out")
[ -n "$p0" ] && [ -n "$p1" ] && [ "$p0" != "$p1" ] && [ -f "$T/state/logs/twins.1.log" ] &&
  ok "replicas: each has its own prefix, log file and port ($p0, $p1)" || { not_ok "replicas: own prefix and port"; grep '^twins' "$out" | diag; }
grep -q $'\033' "$out" && not_ok "no colour codes when stdout is not a terminal" || ok "no colour codes when stdout is not a terminal"
apx_done
