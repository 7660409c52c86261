#!/bin/sh
# A reference with a 100000-segment property path: c.b0.b1.b2...
# apx-expect-exit: 1
awk 'BEGIN { n = 100000; printf "container c {\n  image = \"x\"\n  env { A = c"; for (i = 0; i < n; i++) printf ".b%d", i; print " }\n}" }'
