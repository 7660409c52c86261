#!/bin/sh
# A dependency cycle through 50000 containers: reported once, not recursed
# into. Was quadratic (fixed): apx_validate_cycles (passes/validate.c) built
# the "c0 -> c1 -> ..." message with apx_arena_printf of the chain so far for
# each step, O(L^2) bytes in the cycle's length L: 50000 took 11.8 GB.
# apx-expect-exit: 1
awk 'BEGIN { n = 50000; for (i = 0; i < n; i++) printf "container c%d { image = \"x\"  wait_for_start = [c%d] }\n", i, (i + 1) % n }'
