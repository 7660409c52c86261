#!/bin/sh
# "${self.endpoints.endpoints....}": a 100000-segment path inside a string.
# apx-expect-exit: 1
awk 'BEGIN { n = 100000; printf "container c {\n  image = \"x\"\n  env { A = \"${self"; for (i = 0; i < n; i++) printf ".endpoints"; print "}\" }\n}" }'
