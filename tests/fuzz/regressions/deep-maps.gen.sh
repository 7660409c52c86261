#!/bin/sh
# { a = { a = ... 100000 deep.
# apx-expect-exit: 1
awk 'BEGIN { n = 100000; printf "param p {\n  generate = "; for (i = 0; i < n; i++) printf "{ a = "; printf "1"; for (i = 0; i < n; i++) printf " }"; print "\n}" }'
