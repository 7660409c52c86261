#!/bin/bash
# The app's name: the IR keeps the main file's name as written; each back end
# makes of it what its target allows (Compose: a project/network name of
# [a-z0-9_-], base/names.h), so no target's naming rule sits in the core.
. "$(dirname "$0")/../lib.sh"
need_aspirec
apx_tmpdir T
printf 'container web { image = "busybox" }\n' > "$T/My Shop.v2.apx"
ir=$("$ASPIREC" "$T/My Shop.v2.apx" --emit=ir 2>&1)
if printf '%s\n' "$ir" | grep -qF '"app":	"My Shop.v2"'; then ok "--emit=ir: the app's name as written"
else not_ok "--emit=ir: the app's name as written"; printf '%s\n' "$ir" | grep -n app | diag; fi
yaml=$("$ASPIREC" "$T/My Shop.v2.apx" --emit=compose 2>&1)
if printf '%s\n' "$yaml" | grep -qx '  my-shop-v2: {}' && printf '%s\n' "$yaml" | grep -qF 'networks: [my-shop-v2]'; then
  ok "--emit=compose: the network is the Compose form of the name (my-shop-v2)"
else
  not_ok "--emit=compose: the network is the Compose form of the name"; printf '%s\n' "$yaml" | diag
fi
printf 'container web { image = "busybox" }\n' > "$T/_x.apx"
if "$ASPIREC" "$T/_x.apx" --emit=compose 2>&1 | grep -qx '  app_x: {}'; then ok "--emit=compose: a name not starting with a letter or digit gets 'app' in front"
else not_ok "--emit=compose: a name not starting with a letter or digit gets 'app' in front"; fi
apx_done
