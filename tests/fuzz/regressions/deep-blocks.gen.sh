#!/bin/sh
# container c0 { container c1 { ... 100000 deep, never closed.
# apx-expect-exit: 1
awk 'BEGIN { n = 100000; for (i = 0; i < n; i++) printf "container c%d {\n", i }'
