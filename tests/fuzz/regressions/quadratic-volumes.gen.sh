#!/bin/sh
# One resource with 150000 volumes. Was quadratic (fixed): apx_tc_volume (passes/typecheck.c)
# compares each volume name with all earlier ones: O(N^2).
awk 'BEGIN { n = 150000; print "container c {\n  image = \"x\""; for (i = 0; i < n; i++) printf "volume v%d { target = \"/d%d\" }\n", i, i; print "}" }'
