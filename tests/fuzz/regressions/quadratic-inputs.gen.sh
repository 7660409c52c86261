#!/bin/sh
# A component with 100000 inputs, used in its env, half of them set by the
# instance. Quadratic: the duplicate-input check in apx_lower_items, case
# APX_ITEM_INPUT (ir/lower.c) scans all earlier inputs, and apx_binding_find
# and apx_is_input_name (passes/expand.c) search the bindings and inputs
# linearly for every input and every use: 16000 inputs take 0.8 s.
awk 'BEGIN {
  n = 100000
  print "component comp extends container {\n  image = \"x\""
  for (i = 0; i < n; i++) printf "  input i%d = \"d%d\"\n", i, i
  print "  env {"; for (i = 0; i < n; i++) printf "    I%d = i%d\n", i, i; print "  }\n}"
  print "comp c {"; for (i = 0; i < n; i += 2) printf "  i%d = \"set%d\"\n", i, i; print "}"
}'
