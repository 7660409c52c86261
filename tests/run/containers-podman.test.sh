#!/bin/bash
# apx-test: slow
# tests/run/containers.test.sh against rootful podman's Docker-compatible
# service (tests/run/bin/podman-local: storage, socket and network namespace
# of its own) instead of a private dockerd: the same driver, the same proofs.
export APX_CT_ENGINE=podman
. "$(dirname "$0")/containers.test.sh"
