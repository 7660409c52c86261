#!/bin/sh
# 8000 errors on one 90 KB line. Was quadratic (fixed): apx_diag_print_one (ir/diag.c) prints
# the whole source line, and pads the caret line up to the column, for every
# diagnostic: O(errors x line length) output (here about 1.2 GB).
# apx-expect-exit: 1
awk 'BEGIN { n = 8000; printf "container c { image = \"x\"  references = ["; for (i = 0; i < n; i++) printf "nothere%d, ", i; print "] }" }'
