#!/bin/sh
# Benchmark: slipway build against buildah (overlay storage, chroot isolation,
# --layers) on examples/multistage over a busybox-static base: a cold build,
# a rebuild with no change and a rebuild after one source file changed.
# Prints seconds and slipway/buildah ratios; asserts nothing.
#
# usage: tests/bench/build.sh PATH/TO/slipway   (as root)
set -eu

bin=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
[ "$(id -u)" -eq 0 ] || { echo "needs root"; exit 77; }
command -v buildah >/dev/null || { echo "buildah is not installed (scripts/install-deps)"; exit 77; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-bench.XXXXXX")
bstore="$tmp/buildah"
cleanup() {
	buildah --root "$bstore/root" --runroot "$bstore/run" --storage-driver overlay rm -a >/dev/null 2>&1 || true
	buildah --root "$bstore/root" --runroot "$bstore/run" --storage-driver overlay rmi -a -f >/dev/null 2>&1 || true
	grep " $tmp/" /proc/self/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

"$src/examples/base/busybox-rootfs.sh" "$tmp/rootfs" "$tmp/rootfs.tar"

"$bin" --state-dir "$tmp/sw" image import --rootfs "$tmp/rootfs.tar" slipway/busybox:1.35 >/dev/null
bh() { buildah --root "$bstore/root" --runroot "$bstore/run" --storage-driver overlay "$@"; }
bh import "$tmp/rootfs.tar" localhost/slipway/busybox:1.35 >/dev/null 2>&1 ||
	{ c=$(bh from scratch); m=$(bh mount "$c"); tar -C "$m" -xf "$tmp/rootfs.tar"; bh umount "$c" >/dev/null;
	  bh commit -q "$c" localhost/slipway/busybox:1.35 >/dev/null; }

cp -a "$src/examples/multistage" "$tmp/ctx"
sed -i 's|^ARG BASE=.*|ARG BASE=slipway/busybox:1.35|' "$tmp/ctx/Dockerfile"

secs() { s=$(date +%s.%N); "$@" >"$tmp/last.log" 2>&1 || { echo "failed: $*" >&2; tail -5 "$tmp/last.log" >&2; exit 1; }; e=$(date +%s.%N); echo "$e - $s" | bc; }
sw_build() { secs "$bin" --state-dir "$tmp/sw" build -q -t bench:1 "$tmp/ctx"; }
bh_build() { secs buildah --root "$bstore/root" --runroot "$bstore/run" --storage-driver overlay bud \
	--isolation chroot --layers --build-arg BASE=localhost/slipway/busybox:1.35 -t bench:1 "$tmp/ctx"; }

s_cold=$(sw_build); b_cold=$(bh_build)
s_warm=$(sw_build); b_warm=$(bh_build)
echo "changed $(date +%s%N)" >>"$tmp/ctx/greeting.txt"
s_one=$(sw_build); b_one=$(bh_build)

printf '%-22s %10s %10s %8s\n' case slipway buildah ratio
for c in cold:$s_cold:$b_cold no-change:$s_warm:$b_warm one-file-changed:$s_one:$b_one; do
	n=${c%%:*}; r=${c#*:}; s=${r%%:*}; b=${r#*:}
	printf '%-22s %9.2fs %9.2fs %7.2fx\n' "$n" "$s" "$b" "$(echo "$s / $b" | bc -l)"
done
