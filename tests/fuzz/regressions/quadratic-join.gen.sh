#!/bin/sh
# join() over 40000 strings. Was quadratic (fixed): apx_tb_text (ir/ir.c, "joined" copy) copies
# the whole text built so far on every append, so join() of N items allocates
# O(N^2) bytes in the arena: 16000 items take 2.2 GB, 40000 about 14 GB.
awk 'BEGIN { n = 40000; print "container c {\n  image = \"x\"\n  env { S = join(\",\", ["; for (i = 0; i < n; i++) printf "\"item%d\",\n", i; print "]) }\n}" }'
