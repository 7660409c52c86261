#!/bin/bash
# apx-test: slow
# The validators themselves (tests/tools) against known-good and known-bad
# samples, so that one that accepts everything, or nothing, is caught.
exec bash "$(dirname "$0")/../tools/selftest.sh"
