#!/bin/sh
# lower(lower(lower(... 100000 deep.
# apx-expect-exit: 1
awk 'BEGIN { n = 100000; printf "container c {\n  image = \"x\"\n  env { A = "; for (i = 0; i < n; i++) printf "lower("; printf "\"x\""; for (i = 0; i < n; i++) printf ")"; print " }\n}" }'
