#!/bin/sh
# One resource referencing 30000 others. Was quadratic (fixed): apx_enrich_references
# (passes/enrich.c, apx_env_default) looks up and sets every injected variable
# with apx_ir_env_find / apx_ir_env_set (ir/ir.c), linear searches over the
# resource's env, which grows with every reference: O(N^2).
awk 'BEGIN { n = 30000; for (i = 0; i < n; i++) printf "container c%d { image = \"x\"  endpoint tcp { target_port = 5000 } }\n", i; print "container z {\n  image = \"x\"\n  references = ["; for (i = 0; i < n; i++) printf "c%d,\n", i; print "]\n}" }'
