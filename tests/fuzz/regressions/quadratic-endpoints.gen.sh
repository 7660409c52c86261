#!/bin/sh
# One resource with 150000 endpoints. Was quadratic (fixed): apx_tc_endpoint (passes/typecheck.c)
# calls apx_ir_endpoint_find (ir/ir.c, linear search) for every endpoint: O(N^2).
awk 'BEGIN { n = 150000; print "container c {\n  image = \"x\""; for (i = 0; i < n; i++) printf "endpoint e%d { target_port = %d }\n", i, 1000 + i % 60000; print "}" }'
