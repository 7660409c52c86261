#!/bin/bash
# Run mode creates a postgres child database once its server is healthy; a
# server that already listens but still answers "the database system is
# starting up" (SQLSTATE 57P03) must not fail the database: creation is
# tried again. A psql wrapper first on PATH gives that answer three times,
# then runs the real client. Real PostgreSQL (the local fallback).
# apx-test: slow
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/lib-run.sh"
need_run_mode
need_cmds psql ps runuser
rs_tmpdir T
real_psql=$(command -v psql)
mkdir -p "$T/bin"
cat > "$T/bin/psql" <<EOS
#!/bin/sh
n=\$(cat "$T/calls" 2>/dev/null || echo 0)
n=\$((n + 1)); echo \$n > "$T/calls"
if [ \$n -le 3 ]; then
  echo 'psql: error: connection to server at "127.0.0.1", port 1 failed: FATAL:  the database system is starting up' >&2
  exit 2
fi
exec "$real_psql" "\$@"
EOS
chmod 755 "$T/bin/psql"
chmod 777 "$T"   # the wrapper's counter, written as root
cat > "$T/app.apx" <<'EOS'
import "postgres"
postgres db {
  database catalog {}
}
EOS
PATH="$T/bin:$PATH" rs_start "$T/out" "$T" "$T/app.apx" --run
up=0
for _ in $(seq 900); do
  grep -q 'is up' "$T/out" && { up=1; break; }
  grep -q 'started with problems' "$T/out" && break
  rs_exited "$RS_PID" && break
  sleep 0.1
done
if [ "$up" = 1 ]; then ok "the run comes up although the first three creations were refused"
else not_ok "the run comes up although the first three creations were refused"; diag 30 < "$T/out"; fi
calls=$(cat "$T/calls" 2>/dev/null || echo 0)
if [ "$calls" -ge 4 ]; then ok "creation was tried again ($calls calls of psql)"
else not_ok "creation was tried again (got $calls calls of psql)"; fi
port=$(grep -oE 'db +container +[^ ]*127\.0\.0\.1:[0-9]+|tcp://(localhost|127\.0\.0\.1):[0-9]+' "$T/out" | grep -oE '[0-9]+$' | head -n 1)
pw=$(grep -E '^db-password=' "$T"/.aspirec/params.env 2>/dev/null | head -n 1 | cut -d= -f2- | tr -d "'\"")
if [ -n "$port" ] && PGPASSWORD=$pw "$real_psql" -h 127.0.0.1 -p "$port" -U postgres -d catalog -tAc 'select 1' 2> "$T/psql.err" | grep -qx 1; then
  ok "the database catalog exists and answers"
else
  not_ok "the database catalog exists and answers (port '$port')"; diag 10 < "$T/psql.err"; diag 20 < "$T/out"
fi
kill -INT "$RS_PID"; wait "$RS_PID" 2> /dev/null
apx_done
