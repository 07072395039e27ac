#!/bin/sh
# Integration test of the image store with the reference tools: a busybox
# base image made from Debian's busybox-static is imported with
# `slipway image import --rootfs`, then checked by oci-image-tool, skopeo and
# umoci, run under runc (as root), exported and imported in both archive
# formats, and shown to be reproducible across fresh state dirs.
#
# usage: image_store.sh PATH/TO/slipway
# Exit 0 pass, 1 fail, 77 skipped (a tool is missing). Everything lives in
# one mktemp dir, removed with any runc container on exit, even on failure.
set -eu

bin=$(realpath "$1")
ref=slipway/busybox:1.35
for tool in umoci skopeo oci-image-tool tar python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed (scripts/install-deps installs it)"
		exit 77
	fi
done
rootfs_sh="$(cd "$(dirname "$0")/../.." && pwd)/examples/base/busybox-rootfs.sh"
if ! [ -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
	echo "SKIP: no static busybox (install busybox-static)"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-image-store.XXXXXX")
container=""
cleanup() {
	status=$?
	if [ -n "$container" ]; then
		runc --root "$tmp/runc" delete -f "$container" >/dev/null 2>&1 || true
	fi
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# ---- a busybox root filesystem tar ------------------------------------------
"$rootfs_sh" "$tmp/rootfs" "$tmp/rootfs.tar"
gzip -n -c "$tmp/rootfs.tar" >"$tmp/rootfs.tar.gz"

st="$tmp/state"
sw() { "$bin" --state-dir "$st" "$@"; }
layout="$st/images"

# ---- import -------------------------------------------------------------------
step "import --rootfs"
digest=$(sw image import --rootfs "$tmp/rootfs.tar" "$ref")
case "$digest" in sha256:????????????????????????????????????????????????????????????????) ;; *) fail "import printed '$digest'" ;; esac
[ "$(stat -c %a "$st")" = 700 ] || fail "state dir is not 0700"
sw images | grep -q "^slipway/busybox  *1.35  *$(echo "$digest" | cut -c8-19) " || fail "images does not list $ref"
[ "$(sw images -q)" = "$digest" ] || fail "images -q"
sw images -o json | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d[0]["ref"]=="'"$ref"'", d'
sw image inspect -o json "$ref" | python3 -c '
import json, sys
d = json.load(sys.stdin)
c = d["config"]
assert c["created"] == "1970-01-01T00:00:00Z", c
assert c["architecture"] == "amd64" and c["os"] == "linux", c
assert c["config"]["Env"] == ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], c
assert len(c["rootfs"]["diff_ids"]) == 1 and len(d["manifest"]["layers"]) == 1
'

step "lookups: tag, digest, prefix, name@digest"
for r in "$ref" "$digest" "$(echo "$digest" | cut -c8-19)" "slipway/busybox@$digest"; do
	[ "$(sw image inspect -o json "$r" | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')" = "$digest" ] ||
		fail "inspect $r"
done
sw image inspect nosuch:tag 2>"$tmp/err" && fail "inspect of a missing tag succeeded"
grep -q "not found" "$tmp/err" || fail "missing tag message: $(cat "$tmp/err")"

step "the same rootfs gives the same digest in fresh state dirs (plain and gzip tars)"
d2=$("$bin" --state-dir "$tmp/state2" image import --rootfs "$tmp/rootfs.tar" "$ref")
d3=$(SLIPWAY_HOME="$tmp/state3" "$bin" image import --rootfs "$tmp/rootfs.tar.gz" other/name:tag)
[ "$d2" = "$digest" ] || fail "second import gave $d2, first $digest"
[ "$d3" = "$digest" ] || fail "gzip tar gave $d3, plain $digest"

# ---- the reference tools --------------------------------------------------------
step "oci-image-tool validate"
oci-image-tool validate --type image "$layout" >"$tmp/oit" 2>&1 || { cat "$tmp/oit"; fail "oci-image-tool validate"; }
oci-image-tool validate --type image --ref "name=$ref" "$layout" >"$tmp/oit" 2>&1 ||
	{ cat "$tmp/oit"; fail "oci-image-tool validate --ref"; }

step "skopeo inspect"
skopeo inspect "oci:$layout:$ref" >"$tmp/skopeo.json" || fail "skopeo inspect"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["Digest"]==sys.argv[2], d' "$tmp/skopeo.json" "$digest"
skopeo inspect --config "oci:$layout:$ref" | python3 -c 'import json,sys; d=json.load(sys.stdin); assert d["rootfs"]["type"]=="layers"'

step "umoci unpack"
umoci unpack --image "$layout:$ref" "$tmp/bundle" >/dev/null || fail "umoci unpack"
[ "$("$tmp/bundle/rootfs/bin/echo" unpacked)" = unpacked ] || fail "unpacked busybox does not run"
[ "$(readlink "$tmp/bundle/rootfs/bin/sh")" = busybox ] || fail "bin/sh symlink"
[ "$(stat -c %a "$tmp/bundle/rootfs/tmp")" = 1777 ] || fail "tmp mode"

step "runc run"
if [ "$(id -u)" != 0 ]; then
	echo "SKIP runc run: needs root"
elif ! command -v runc >/dev/null 2>&1; then
	echo "SKIP runc run: runc is not installed"
else
	python3 - "$tmp/bundle/config.json" <<'EOF'
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["args"] = ["/bin/sh", "-c", "echo hello from $(head -n 1 /etc/passwd | cut -d: -f1)"]
c["process"]["terminal"] = False
json.dump(c, open(p, "w"))
EOF
	container="slipway-test-$$"
	out=$(cd "$tmp/bundle" && runc --root "$tmp/runc" run "$container" </dev/null 2>"$tmp/runc.err") ||
		{ cat "$tmp/runc.err"; fail "runc run"; }
	runc --root "$tmp/runc" delete -f "$container" >/dev/null 2>&1 || true
	container=""
	[ "$out" = "hello from root" ] || fail "runc printed '$out'"
fi

step "skopeo copy to docker-archive, import back"
skopeo --insecure-policy copy -q "oci:$layout:$ref" "docker-archive:$tmp/skopeo.tar:$ref" || fail "skopeo copy"
d4=$("$bin" --state-dir "$tmp/state4" image import "$tmp/skopeo.tar")
[ "$d4" = "$digest" ] || fail "skopeo's docker-archive imported as $d4, not $digest"

# ---- export and import ----------------------------------------------------------
step "export oci-archive and docker-archive, import into fresh state dirs"
sw image export "$ref" "$tmp/oci.tar"
sw image export --format docker-archive "$ref" "$tmp/docker.tar"
sw image export "$ref" "$tmp/oci2.tar"
cmp -s "$tmp/oci.tar" "$tmp/oci2.tar" || fail "two exports differ"
skopeo inspect "docker-archive:$tmp/docker.tar" >/dev/null || fail "skopeo rejects our docker-archive"
skopeo inspect "oci-archive:$tmp/oci.tar:$ref" >/dev/null || fail "skopeo rejects our oci-archive"
d5=$("$bin" --state-dir "$tmp/state5" image import "$tmp/oci.tar")
d6=$("$bin" --state-dir "$tmp/state6" image import "$tmp/docker.tar" imported/again:1)
[ "$d5" = "$digest" ] || fail "oci-archive round trip gave $d5"
[ "$d6" = "$digest" ] || fail "docker-archive round trip gave $d6"
"$bin" --state-dir "$tmp/state5" image inspect "$ref" >/dev/null || fail "oci-archive import lost the tag"
"$bin" --state-dir "$tmp/state6" image inspect imported/again:1 >/dev/null || fail "import REF not tagged"

step "a corrupt archive leaves the store unchanged"
mkdir "$tmp/bad" && tar -C "$tmp/bad" -xf "$tmp/oci.tar"
big=$(ls -S "$tmp/bad/blobs/sha256" | head -n 1)
printf 'x' | dd of="$tmp/bad/blobs/sha256/$big" bs=1 seek=5000 conv=notrunc 2>/dev/null
tar -C "$tmp/bad" -cf "$tmp/bad.tar" .
before=$(cd "$st" && find . | sort | md5sum)
sw image import "$tmp/bad.tar" bad:1 2>"$tmp/err" && fail "corrupt archive imported"
grep -q "digest mismatch" "$tmp/err" || fail "corrupt archive message: $(cat "$tmp/err")"
after=$(cd "$st" && find . | sort | md5sum)
[ "$before" = "$after" ] || fail "a failed import changed the store"

step "hostile rootfs tars are refused"
python3 - "$tmp" <<'EOF'
import io, sys, tarfile
d = sys.argv[1]
def make(name, entries):
    with tarfile.open(f"{d}/{name}", "w") as t:
        for e in entries:
            t.addfile(e[0], io.BytesIO(e[1]) if len(e) > 1 else None)
def f(n, data=b"x"):
    i = tarfile.TarInfo(n); i.size = len(data); return (i, data)
def link(n, target, kind):
    i = tarfile.TarInfo(n); i.type = kind; i.linkname = target; return (i,)
make("abs.tar", [f("/etc/evil")])
make("dotdot.tar", [f("a/../../evil")])
make("hardout.tar", [link("h", "../../etc/shadow", tarfile.LNKTYPE)])
make("through.tar", [link("etc", "/etc", tarfile.SYMTYPE), f("etc/cron.d/evil")])
EOF
for t in abs dotdot hardout through; do
	sw image import --rootfs "$tmp/$t.tar" evil:1 2>"$tmp/err" && fail "$t.tar was imported"
	grep -q "evil\|shadow\|symlink\|\.\." "$tmp/err" || fail "$t.tar message: $(cat "$tmp/err")"
done
sw image inspect evil:1 2>/dev/null && fail "a hostile tar left a tag"

# ---- tags, removal, prune -------------------------------------------------------
step "tag, rm, prune"
sw image tag "$ref" copy:1
[ "$(sw images -q)" = "$digest" ] || fail "tag made a second image"
sw image rm "$ref" | grep -q "untagged: $ref" || fail "rm output"
sw image inspect copy:1 >/dev/null || fail "rm removed the other tag"
sw image rm copy:1 | grep -q "deleted: $digest" || fail "last tag did not delete the manifest"
sw image prune | grep -q "freed 2 blobs" || fail "prune did not free the config and layer"
[ -z "$(ls "$layout/blobs/sha256")" ] || fail "blobs left after prune"
[ -z "$(sw images -q)" ] || fail "images left after rm"

echo "PASS image store integration"
