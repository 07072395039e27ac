#!/bin/sh
# busybox.sh [REF]
#
# Makes the busybox base image the examples build on (default REF
# slipway/busybox:1.35) in slipway's image store: a root filesystem from
# Debian's busybox-static, imported with `slipway image import --rootfs`.
# The same busybox package always gives the same image digest.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
ref=${1:-slipway/busybox:1.35}
slipway=${SLIPWAY:-slipway}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
"$here/busybox-rootfs.sh" "$tmp/rootfs" "$tmp/rootfs.tar"
"$slipway" image import --rootfs "$tmp/rootfs.tar" "$ref"
