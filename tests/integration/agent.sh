#!/bin/sh
# Integration test of the node agent with real parts: examples/hello built
# on the busybox base into a fresh state dir, then test_agent_rt drives the
# store and the agent (podrt shims, runc, overlayfs, cgroups, probes) through
# a pod's life: Ready with an answer on its host port, restart and
# CrashLoopBackOff, liveness restarts, a bind conflict event, graceful
# deletion, agent restarts (re-adoption, exits while down, orphans).
#
# usage: agent.sh PATH/TO/slipway PATH/TO/test_agent_rt PATH/TO/slipway-shim
# Exit 0 pass, 1 fail, 77 skipped (not root, or a tool is missing). lib.sh's
# cleanup kills every shim and container and unmounts everything under the
# temp dir, even on failure.
set -eu
. "$(dirname "$0")/lib.sh"
lib_init slipway-agent "$1"
lib_need runc python3
rt=$(realpath "$2")
shim=$(realpath "$3")
[ -x "$shim" ] || fail "no shim at $shim"

step "busybox base and examples/hello as hello:test"
lib_hello_image test

step "test_agent_rt"
SLIPWAY_SHIM=$shim "$rt" "$state" || fail "test_agent_rt"
