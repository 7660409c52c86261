#!/bin/bash
# apx-test: slow
# tests/run/replicas-containers.test.sh against rootful podman's
# Docker-compatible service (tests/run/bin/podman-local) instead of a
# private dockerd.
export APX_CT_ENGINE=podman
. "$(dirname "$0")/replicas-containers.test.sh"
