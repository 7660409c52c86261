#!/bin/sh
# [[[[... 100000 deep (and closed): the scanner stops at 1000 levels with one
# clear error; nothing may recurse 100000 deep.
# apx-expect-exit: 1
awk 'BEGIN { n = 100000; printf "container c {\n  image = \"x\"\n  args = "; for (i = 0; i < n; i++) printf "["; for (i = 0; i < n; i++) printf "]"; print "\n}" }'
