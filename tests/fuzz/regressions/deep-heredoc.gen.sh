#!/bin/sh
# Heredocs whose interpolations open heredocs, 20000 deep.
# apx-expect-exit: 1
awk 'BEGIN { n = 20000; printf "container c {\n  image = \"x\"\n  env { A = "; for (i = 0; i < n; i++) printf "<<E%d\n${", i; print "" }'
