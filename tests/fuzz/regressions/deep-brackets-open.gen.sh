#!/bin/sh
# [[[[... 100000 deep, never closed.
# apx-expect-exit: 1
awk 'BEGIN { n = 100000; printf "container c {\n  image = \"x\"\n  args = "; for (i = 0; i < n; i++) printf "["; print "" }'
