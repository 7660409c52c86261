#!/bin/bash
# apx-test: slow
# The hand-written TestShop manifest (testshop.json, in Aspire's format) under
# `aspirec testshop.json --run`, nothing of the app mocked: the postgres and
# redis containers map to the standard library's components and run as their
# local fallbacks (real PostgreSQL, real Redis), the value.v0 `catalogdb`
# becomes a database the runtime creates, the two project.v0 run through
# `dotnet run --project PATH` (bin/dotnet: a stand-in for the .NET SDK, which
# cannot be installed here, that runs the project directory's Python app), the
# executable.v0 is a process. Checks: the wiring (the manifest's variables,
# rendered), a write and a read through frontend -> catalogservice ->
# PostgreSQL and Redis, the executable's PING to Redis and GET to the catalog,
# the generated password kept out of the output; then without dotnet on PATH,
# the clear error naming it.
. "$(dirname "$0")/../lib.sh"
. "$(dirname "$0")/../run-shop/lib-run.sh"
need_run_mode
need_cmds python3 redis-server psql ps
ls /usr/lib/postgresql/*/bin/postgres > /dev/null 2>&1 || { not_ok "PostgreSQL server missing (apt-get install postgresql)"; exit 1; }

rs_tmpdir T
here=$APX_SRCDIR/tests/manifest
OUT=$T/run.out
PATH=$here/bin:$PATH rs_up "$OUT" "$T" "testshop.json --run" 120 \
  "$here/testshop.json" --run --engine=local --state-dir "$T/state" --grace 10s -I "$APX_SRCDIR/stdlib" || { rs_show "$OUT"; apx_done; }

api_port=$(tool env "$API_PID" PORT)
cs_db=$(tool env "$API_PID" ConnectionStrings__catalog)
cs_cache=$(tool env "$API_PID" ConnectionStrings__cache)
sd=$(tool env "$WEB_PID" services__api__http__0)
if [[ $cs_db == Host=localhost\;Port=*\;Username=postgres\;Password=*\;Database=catalogdb && $cs_cache == localhost:* && $sd == "http://localhost:$api_port" ]]; then
  ok "wiring: the manifest's expressions rendered for run mode (catalogdb, basketcache, catalogservice's url)"
else
  not_ok "wiring: unexpected environment"
  printf 'catalog=%s\ncache=%s\nservices__api__http__0=%s (api port %s)\n' "${cs_db//Password=*;/Password=…;}" "$cs_cache" "$sd" "$api_port" | diag
fi
password=$(printf '%s' "$cs_db" | tr ';' '\n' | sed -n 's/^Password=//p')
if [ ${#password} -eq 22 ] && ! grep -qF -- "$password" "$OUT"; then ok "the generated password (22 characters) is not in aspirec's output"
else not_ok "the generated password: ${#password} characters, or printed"; fi
if tool env "$API_PID" OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EXCEPTION_LOG_ATTRIBUTES | grep -qx true; then ok "plain env values reach the project"
else not_ok "plain env value OTEL_DOTNET_EXPERIMENTAL_OTLP_EMIT_EXCEPTION_LOG_ATTRIBUTES missing"; fi

json() { tail -n +2 | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d[sys.argv[1]])' "$1" 2> /dev/null; }
item="kettle-$$-$RANDOM"
r=$(tool http POST "$WEB/api/products" "{\"name\": \"$item\", \"price\": 7}")
if [ "$(head -n 1 <<< "$r")" = 201 ]; then ok "POST through frontend -> catalogservice -> PostgreSQL (database catalogdb, created by the runtime)"
else not_ok "POST /api/products"; echo "$r" | diag 5; fi
r1=$(tool http GET "$WEB/api/products"); r2=$(tool http GET "$WEB/api/products")
if [ "$(json source <<< "$r1")" = database ] && grep -qF "\"$item\"" <<< "$r1" && [ "$(json source <<< "$r2")" = cache ] && grep -qF "\"$item\"" <<< "$r2"; then
  ok "GET twice: the product from PostgreSQL, then from Redis"
else
  not_ok "GET /api/products: expected database then cache with $item"; { echo "$r1"; echo "$r2"; } | diag 6
fi
if rs_wait_output "$OUT" 'orderprocessor.*redis says \+PONG' 20 && rs_wait_output "$OUT" 'orderprocessor.*catalog says 200' 20; then
  ok "the executable.v0 reached Redis (PONG) and the catalog (200) at the addresses the manifest gave it"
else
  not_ok "orderprocessor did not reach Redis and the catalog"; grep orderprocessor "$OUT" | tail -n 5 | diag
fi
rs_stop

# Without dotnet: a project.v0 cannot start; the error names the command.
rs_tmpdir T2
PATH=/usr/bin:/bin "$ASPIREC" "$here/testshop.json" --run --engine=local --state-dir "$T2/state" --grace 5s > "$T2/out" 2>&1 < /dev/null &
pid=$!
for _ in $(seq 300); do grep -q "command 'dotnet' not found" "$T2/out" && break; rs_exited $pid && break; sleep 0.2; done
if grep -qE "catalogservice.*command 'dotnet' not found on PATH|command 'dotnet' not found on PATH.*catalogservice" "$T2/out" ||
   grep -B2 -A2 "command 'dotnet' not found on PATH" "$T2/out" | grep -q catalogservice; then
  ok "without dotnet: a clear error naming the project and the missing 'dotnet'"
else
  not_ok "without dotnet: no clear error"; tail -n 20 "$T2/out" | diag
fi
kill -INT $pid 2> /dev/null; for _ in $(seq 150); do rs_exited $pid && break; sleep 0.2; done; kill -KILL $pid 2> /dev/null; wait $pid 2> /dev/null
apx_done
