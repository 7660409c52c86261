# A dependency cycle through 50000 containers: reported, not recursed into.
# apx-expect-exit: 1
awk 'BEGIN { n = 50000; for (i = 0; i < n; i++) printf "container c%d { image = \"x\"  wait_for_start = [c%d] }\n", i, (i + 1) % n }'
