#!/bin/sh
# One resource with 100000 env entries. Was quadratic (fixed): apx_tc_map (passes/typecheck.c,
# duplicate-key scan over all earlier keys) and apx_ir_env_set (ir/ir.c,
# linear search per key) are O(N^2): 16000 entries take 0.8 s, 100000 ~30 s.
awk 'BEGIN { n = 100000; print "container c {\n  image = \"x\"\n  env {"; for (i = 0; i < n; i++) printf "K%d = \"v\"\n", i; print "}\n}" }'
