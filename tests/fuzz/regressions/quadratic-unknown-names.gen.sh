#!/bin/sh
# 30000 resources, each with an unknown reference. Was quadratic (fixed): apx_report_unknown_name
# (passes/resolve.c) copies all N resource names and runs apx_suggest
# (ir/diag.c, an edit distance per candidate) for every unknown name:
# O(errors x resources).
# apx-expect-exit: 1
awk 'BEGIN { n = 30000; for (i = 0; i < n; i++) printf "container c%d { image = \"x\"  references = [x%d] }\n", i, i }'
