#!/bin/sh
# "${"${"${... 100000 deep: strings inside interpolations inside strings.
# apx-expect-exit: 1
awk 'BEGIN { n = 100000; printf "container c {\n  image = \"x\"\n  env { A = "; for (i = 0; i < n; i++) printf "\"${"; printf "1"; for (i = 0; i < n; i++) printf "}\""; print " }\n}" }'
