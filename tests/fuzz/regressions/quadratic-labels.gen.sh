#!/bin/sh
# One resource with 100000 labels. Was quadratic (fixed): apx_tc_map (passes/typecheck.c)
# compares every key with all earlier ones: O(N^2).
awk 'BEGIN { n = 100000; print "container c {\n  image = \"x\"\n  labels {"; for (i = 0; i < n; i++) printf "\"l%d\" = \"v\"\n", i; print "}\n}" }'
