#!/bin/sh
# 50000 containers, each waiting for the one before: a dependency chain that
# deep must not overflow the stack of the cycle check or of depends_on.
awk 'BEGIN { n = 50000; print "container c0 { image = \"x\"  endpoint http { target_port = 80 } }"; for (i = 1; i < n; i++) printf "container c%d { image = \"x\"  endpoint http { target_port = 80 }  references = [c%d]  wait_for = [c%d] }\n", i, i - 1, i - 1 }'
