#!/bin/bash
# A reference to the address of something that runs but that a target does
# not deploy (an executable; publish = false) warns once per pair, located
# at the reference, in every back end that renders addresses; a reference
# reached through a connection string warns too (ir/walk.c,
# apx_ir_value_addresses).
. "$(dirname "$0")/../lib.sh"
need_aspirec
apx_tmpdir T
cat > "$T/t.apx" << 'APX'
executable tool {
  command = "/bin/true"
  endpoint http { target_port = 9000 }
}
container hidden {
  image = "busybox:1.36"
  publish = false
  endpoint tcp { target_port = 7000 }
  connection_string = "${self.endpoints.tcp.host}:${self.endpoints.tcp.port}"
}
container web {
  image = "busybox:1.36"
  endpoint http { target_port = 8080 }
  env {
    TOOL = tool.endpoints.http.url
    TOOL_AGAIN = tool.endpoints.http.host
    HIDDEN = hidden.connection_string
  }
}
APX
for target in compose k8s helm bicep hcl; do
  out=$("$ASPIREC" "$T/t.apx" --emit=$target -o "$T/out-$target" 2>&1)
  n_tool=$(printf '%s\n' "$out" | grep -c "warning: 'web' refers to 'tool', which is not")
  n_hidden=$(printf '%s\n' "$out" | grep -c "warning: 'web' refers to 'hidden', which is not")
  if [ "$n_tool" = 1 ] && printf '%s\n' "$out" | grep -q "t.apx:15:[0-9]*: warning: 'web' refers to 'tool'"; then
    ok "$target: one located warning for two references to an executable's address"
  else not_ok "$target: one located warning for the executable (got $n_tool)"; printf '%s\n' "$out" | diag; fi
  if [ "$n_hidden" = 1 ]; then ok "$target: a reference through a connection string to an unpublished container warns"
  else not_ok "$target: no warning through the connection string (got $n_hidden)"; printf '%s\n' "$out" | diag; fi
done
apx_done
