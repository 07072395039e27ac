#!/bin/sh
# Slow integration test (label slow: not in `make check`): a Debian bookworm
# base made by examples/base/debian.sh with debootstrap from Debian's mirror,
# then `slipway build` of examples/cbuild, a multi-stage Dockerfile whose
# builder stage apt-get installs gcc and compiles hello.c statically, and whose
# final stage (FROM scratch) holds only the binary. The image is unpacked with
# umoci and run under runc: it prints its greeting, also with NAME from the
# environment; the image has one layer and /hello as its only file.
#
# usage: cbuild.sh PATH/TO/slipway
# Exit 0 pass, 1 fail, 77 skipped (not root, a tool is missing, or Debian's
# mirror is unreachable). DEBOOTSTRAP_CACHE=DIR reuses downloaded packages.
# The runc container, mounts and the temp dir are removed on exit, even on
# failure.
set -eu

bin=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (debootstrap, overlayfs, runc)"
	exit 77
fi
for tool in debootstrap umoci runc tar python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed (scripts/install-deps installs it)"
		exit 77
	fi
done

mirror=$(MIRROR="${MIRROR:-}" "$src/examples/base/debian.sh" --mirror)
if ! err=$(python3 - "$mirror/dists/bookworm/Release" 2>&1 <<'PY'
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=15).read(64)
PY
); then
	echo "SKIP: Debian's mirror $mirror is unreachable: $(printf '%s' "$err" | tail -n 1)"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-cbuild.XXXXXX")
name="slipway-cbuild-test-$$"
cleanup() {
	status=$?
	runc --root "$tmp/runc" delete -f "$name" >/dev/null 2>&1 || true
	grep " $tmp/" /proc/self/mounts 2>/dev/null | awk '{print $2}' | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf --one-file-system "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }
export SLIPWAY_HOME="$tmp/state"
export SLIPWAY="$bin"

step "Debian bookworm base: examples/base/debian.sh (debootstrap from $mirror)"
t0=$(date +%s)
"$src/examples/base/debian.sh" slipway/debian:bookworm >/dev/null || fail "debian.sh"
t1=$(date +%s)
echo "    debootstrap + import: $((t1 - t0)) s"
"$bin" image inspect -o json slipway/debian:bookworm >"$tmp/base.json" || fail "image inspect of the base"

step "slipway build examples/cbuild (apt-get install gcc, gcc -static, FROM scratch)"
"$bin" build --progress plain -t cbuild:test "$src/examples/cbuild" >"$tmp/build.log" 2>&1 ||
	{ tail -n 30 "$tmp/build.log" >&2; fail "slipway build of examples/cbuild"; }
t2=$(date +%s)
echo "    build: $((t2 - t1)) s"

step "the image: one layer, /hello only, ENTRYPOINT [\"/hello\"]"
umoci unpack --image "$tmp/state/images:cbuild:test" "$tmp/bundle" >/dev/null || fail "umoci unpack"
files=$(cd "$tmp/bundle/rootfs" && find . -mindepth 1 | sort | tr '\n' ' ')
[ "$files" = "./hello " ] || fail "the final image holds '$files', expected only ./hello"
python3 - "$tmp/bundle/config.json" <<'PY' || fail "config.json"
import json, sys
c = json.load(open(sys.argv[1]))
assert c["process"]["args"] == ["/hello"], c["process"]["args"]
PY
"$bin" image inspect -o json cbuild:test >"$tmp/image.json" || fail "image inspect"
python3 - "$tmp/image.json" <<'PY' || fail "image config"
import json, sys
c = json.load(open(sys.argv[1]))["config"]
assert c["config"]["Entrypoint"] == ["/hello"], c["config"]
assert len(c["rootfs"]["diff_ids"]) == 1, c["rootfs"]
PY

# run BUNDLE under runc with extra environment; prints its output
run() {
	python3 - "$tmp/bundle/config.json" "$@" <<'PY'
import json, sys
path, env = sys.argv[1], sys.argv[2:]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["env"] = [e for e in c["process"].get("env", []) if not e.startswith("NAME=")] + env
json.dump(c, open(path, "w"))
PY
	(cd "$tmp/bundle" && runc --root "$tmp/runc" run "$name" </dev/null)
	runc --root "$tmp/runc" delete -f "$name" >/dev/null 2>&1 || true
}

step "runs under runc (a scratch image: the binary is static)"
out=$(run) || fail "runc run: $out"
[ "$out" = "hello from a static C binary built by slipway" ] || fail "printed '$out'"
out=$(run NAME=cbuild-test) || fail "runc run with NAME: $out"
[ "$out" = "hello from a static C binary built by cbuild-test" ] || fail "with NAME printed '$out'"

echo "PASS: debian base ($((t1 - t0)) s) and cbuild ($((t2 - t1)) s); /hello ran under runc"
