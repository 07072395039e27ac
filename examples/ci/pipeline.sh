#!/bin/sh
# pipeline.sh - a CI pipeline as separate steps that share only IDs and files,
# the way CI jobs do (each step may run on another machine with another
# state dir; only $WORK travels between them as job artifacts):
#
#   build    slipway build examples/hello            -> $WORK/image.id
#   release  slipway release APP --image <image.id>  -> $WORK/release.id
#   export   slipway release export APP <release.id> -> $WORK/release.tar
#   verify   a fresh state dir imports release.tar and shows the same ID
#
# usage: pipeline.sh [build|release|export|verify]...   (default: all four,
#        each in a process of its own)
# env:   SLIPWAY      the slipway binary (default: slipway on PATH)
#        SLIPWAY_HOME the state dir of the build/release/export steps
#        WORK         the folder passed between steps (default ./ci-work)
#        APP          the app name (default hello)
# `build` needs root (overlayfs, runc); it imports the busybox base image
# from examples/base when the store lacks it.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
examples=$(dirname "$here")
SLIPWAY=${SLIPWAY:-slipway}
WORK=${WORK:-$PWD/ci-work}
APP=${APP:-hello}
export SLIPWAY_ACTOR="${SLIPWAY_ACTOR:-ci-pipeline}"

step_build() {
	if ! "$SLIPWAY" image inspect slipway/busybox:1.35 >/dev/null 2>&1; then
		"$examples/base/busybox-rootfs.sh" "$WORK/base-rootfs" "$WORK/base.tar" >/dev/null
		"$SLIPWAY" image import --rootfs "$WORK/base.tar" slipway/busybox:1.35 >/dev/null
		rm -rf "$WORK/base-rootfs" "$WORK/base.tar"
	fi
	"$SLIPWAY" build -q --progress plain -t "$APP:ci" "$examples/hello" >"$WORK/image.id"
	echo "build: image $(cat "$WORK/image.id")"
}

step_release() {
	printf 'GREETING=hello from the pipeline\nLOG_LEVEL=info\n' >"$WORK/release.env"
	"$SLIPWAY" release "$APP" --image "$(cat "$WORK/image.id")" --env-file "$WORK/release.env" \
		--note "pipeline ${CI_PIPELINE_ID:-local}" -q >"$WORK/release.id"
	echo "release: $(cat "$WORK/release.id")"
}

step_export() {
	"$SLIPWAY" release export "$APP" "$(cat "$WORK/release.id")" "$WORK/release.tar" >/dev/null
	echo "export: $WORK/release.tar"
}

step_verify() {
	fresh=$(mktemp -d "${TMPDIR:-/tmp}/slipway-ci-fresh.XXXXXX")
	trap 'rm -rf "$fresh"' EXIT
	id=$(SLIPWAY_HOME=$fresh "$SLIPWAY" release import -q "$WORK/release.tar")
	want=$(cat "$WORK/release.id")
	if [ "$id" != "$want" ]; then
		echo "verify: imported release $id, the pipeline made $want" >&2
		exit 1
	fi
	SLIPWAY_HOME=$fresh "$SLIPWAY" release show "$APP" "$id" | head -n 3
	echo "verify: a fresh state dir has release $id"
}

mkdir -p "$WORK"
if [ $# -eq 0 ]; then
	for s in build release export verify; do
		"$0" "$s"
	done
	exit 0
fi
for s in "$@"; do
	case $s in
	build|release|export|verify) "step_$s" ;;
	*) echo "usage: pipeline.sh [build|release|export|verify]..." >&2; exit 2 ;;
	esac
done
