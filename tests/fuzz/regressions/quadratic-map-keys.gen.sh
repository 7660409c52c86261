#!/bin/sh
# A map literal with 150000 keys. Was quadratic (fixed): apx_lower_expr, case APX_EX_MAP
# (ir/lower.c), compares each key with all earlier keys: O(N^2).
# apx-expect-exit: 1
awk 'BEGIN { n = 150000; print "param p {\n  generate = {"; for (i = 0; i < n; i++) printf "o%d = %d,\n", i, i; print "}\n}" }'
