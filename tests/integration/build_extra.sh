#!/bin/sh
# Integration test of `slipway build` beyond build.sh, with real overlayfs
# and runc (as root): WORKDIR's own layer; COPY --from keyed by the content
# it copies; ADD from a URL on a local HTTP server (busybox httpd on
# 127.0.0.1) with --checksum; RUN --timeout; --compression zstd; --output
# oci-archive/docker-archive/oci; ONBUILD triggers of a base image; bad
# input (malformed and hostile layer tars, hostile contexts, device nodes,
# missing stages and files), each failing with the step and line and
# leaving the store as it was; file names that are not ASCII or UTF-8.
#
# usage: build_extra.sh PATH/TO/slipway
# Exit 0 pass, 1 fail, 77 skipped (not root, or a tool is missing). The HTTP
# server, mounts, runc containers and temp dirs are removed on exit, even on
# failure. All network traffic stays on 127.0.0.1.
set -eu

bin=$(realpath "$1")
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (overlayfs, runc)"
	exit 77
fi
for tool in umoci skopeo runc tar gzip python3 mknod; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed (scripts/install-deps installs it)"
		exit 77
	fi
done
busybox=""
for p in /bin/busybox /usr/bin/busybox; do
	if [ -x "$p" ] && ! ldd "$p" >/dev/null 2>&1; then busybox=$p; break; fi
done
if [ -z "$busybox" ] || ! "$busybox" --list | grep -qx httpd; then
	echo "SKIP: no static busybox with httpd (install busybox-static)"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-build-extra.XXXXXX")
httpd_pid=""
runc_root=/run/slipway/runc
cleanup() {
	status=$?
	if [ -n "$httpd_pid" ]; then
		kill "$httpd_pid" 2>/dev/null || true
		wait "$httpd_pid" 2>/dev/null || true
	fi
	# containers of a crashed build, overlays left by one
	for c in $(runc --root "$runc_root" list -q 2>/dev/null); do
		case " $(cat "$tmp/runc-before" 2>/dev/null | tr '\n' ' ') " in
		*" $c "*) ;;
		*) runc --root "$runc_root" delete -f "$c" >/dev/null 2>&1 || true ;;
		esac
	done
	grep " $tmp/" /proc/self/mounts 2>/dev/null | awk '{print $2}' | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
runc --root "$runc_root" list -q 2>/dev/null | sort >"$tmp/runc-before" || true

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

st="$tmp/state"
sw() { "$bin" --state-dir "$st" "$@"; }

# ---- a busybox base image ------------------------------------------------------
mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/etc" "$tmp/rootfs/tmp" "$tmp/rootfs/home"
cp "$busybox" "$tmp/rootfs/bin/busybox"
for applet in sh echo cat ls id true mkdir rm test stat sleep; do
	ln -s busybox "$tmp/rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n' >"$tmp/rootfs/etc/passwd"
printf 'root:x:0:\napp:x:1000:\n' >"$tmp/rootfs/etc/group"
chmod 1777 "$tmp/rootfs/tmp"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$tmp/rootfs" -cf "$tmp/rootfs.tar" .
sw image import --rootfs "$tmp/rootfs.tar" base:1 >/dev/null

# status of each step of a plain log, "CACHED|DONE|ERROR TEXT"
steps() {
	python3 -c '
import re, sys
steps, status = {}, {}
for line in open(sys.argv[1]):
    m = re.match(r"#(\d+) \[(\S+) \d+/\d+\] (.*)", line)
    if m: steps[m.group(1)] = m.group(3)
    m = re.match(r"#(\d+) (CACHED|DONE|ERROR)", line)
    if m: status[m.group(1)] = m.group(2)
for n, text in steps.items():
    print(status.get(n, "?"), text)
' "$1"
}
# the store's file listing, and what a failed build must not leave behind
store_list() { (cd "$st/images" && find . | sort | md5sum); }
state_list() { (cd "$st" && find . | sort | md5sum); }
check_no_leftovers() {
	[ -z "$(ls -A "$st/build" 2>/dev/null)" ] || fail "$1: left $(ls -A "$st/build") in $st/build"
	if ls -A "$st/layers" 2>/dev/null | grep -q '^\.tmp-'; then fail "$1: half-unpacked layer left"; fi
	if grep -q " $st/" /proc/self/mounts; then fail "$1: a mount is left under the state dir"; fi
}
# expect_fail NAME CONTEXT LINE PATTERN [build options...]: the build fails
# with "Dockerfile:LINE: " and PATTERN in its error, tags nothing and leaves
# the store's files as they were
expect_fail() {
	name=$1 ctx=$2 line=$3 pattern=$4
	shift 4
	before=$(store_list)
	if sw build --progress plain -t "failed-$name:1" "$@" "$ctx" >/dev/null 2>"$tmp/$name.log"; then
		fail "$name: the build succeeded"
	fi
	err=$(grep '^slipway: error:' "$tmp/$name.log" || true)
	case "$err" in
	*"Dockerfile:$line: "*) ;;
	*) fail "$name: error does not name line $line: $(cat "$tmp/$name.log")" ;;
	esac
	echo "$err" | grep -q -- "$pattern" || fail "$name: error does not say '$pattern': $err"
	[ "$(store_list)" = "$before" ] || fail "$name: the store changed"
	if sw images | grep -q "^failed-$name "; then fail "$name: a failed build was tagged"; fi
	check_no_leftovers "$name"
	echo "    $err"
}
# layer_of LAYOUT REF CREATED_BY: lists the tar of the layer that history
# entry made (fails when the entry made none)
layer_of() {
	python3 - "$@" <<'PY'
import gzip, json, sys, tarfile
d, ref, by = sys.argv[1:4]
blob = lambda dg: open(d + "/blobs/sha256/" + dg.split(":")[1], "rb").read()
idx = json.load(open(d + "/index.json"))
m = [x for x in idx["manifests"] if x.get("annotations", {}).get("org.opencontainers.image.ref.name") == ref][0]
man = json.loads(blob(m["digest"]))
cfg = json.loads(blob(man["config"]["digest"]))
i = 0
for h in cfg["history"]:
    if h.get("empty_layer"):
        if h.get("created_by") == by: sys.exit("%s made no layer" % by)
        continue
    if h.get("created_by") == by: break
    i += 1
else:
    sys.exit("no history entry %r" % by)
import io
with tarfile.open(fileobj=io.BytesIO(gzip.decompress(blob(man["layers"][i]["digest"])))) as t:
    for e in t.getmembers():
        print("%s %d:%d %o %s" % ("d" if e.isdir() else "f", e.uid, e.gid, e.mode, e.name))
PY
}

# ---- 1. WORKDIR --------------------------------------------------------------------
step "WORKDIR makes its folder in its own layer, owned by the USER"
mkdir -p "$tmp/wd"
cat >"$tmp/wd/Dockerfile" <<'EOF'
FROM base:1
USER app
WORKDIR /home/app/work/deep
USER root
WORKDIR /srv
WORKDIR /srv
RUN test "$(stat -c '%u:%g %a' /home/app/work/deep)" = "1000:1000 755" && test "$(pwd)" = /srv
EOF
sw build -q -t wd:1 --output "oci:$tmp/oci-wd" "$tmp/wd" >/dev/null || fail "WORKDIR build"
layer_of "$tmp/oci-wd" wd:1 "WORKDIR /home/app/work/deep" >"$tmp/wd-layer" || fail "WORKDIR made no layer"
grep -qx 'd 1000:1000 755 home/app/work/deep' "$tmp/wd-layer" || fail "WORKDIR layer: $(cat "$tmp/wd-layer")"
grep -qx 'd 1000:1000 755 home/app' "$tmp/wd-layer" || fail "WORKDIR parents not owned by USER: $(cat "$tmp/wd-layer")"
layer_of "$tmp/oci-wd" wd:1 "WORKDIR /srv" | grep -qx 'd 0:0 755 srv' || fail "WORKDIR /srv layer"
sw build --progress plain "$tmp/wd" >/dev/null 2>"$tmp/wd.log"
steps "$tmp/wd.log" | grep -q '^CACHED WORKDIR /home/app/work/deep' || fail "WORKDIR not cached: $(steps "$tmp/wd.log")"

# ---- 2. COPY --from cache key --------------------------------------------------------
step "COPY --from is keyed by what it copies, not by the stage"
mkdir -p "$tmp/from"
echo a1 >"$tmp/from/a.txt"
echo b1 >"$tmp/from/b.txt"
cat >"$tmp/from/Dockerfile" <<'EOF'
FROM base:1 AS a
COPY a.txt /a.txt
COPY b.txt /b.txt
FROM base:1
COPY --from=a /b.txt /b.txt
EOF
sw build -q "$tmp/from" >/dev/null || fail "COPY --from build"
echo a2 >"$tmp/from/a.txt"
sw build --progress plain "$tmp/from" >/dev/null 2>"$tmp/from1.log" || fail "COPY --from rebuild"
steps "$tmp/from1.log" >"$tmp/from1"
grep -q '^DONE COPY a.txt' "$tmp/from1" || fail "stage a did not rebuild: $(cat "$tmp/from1")"
grep -q '^CACHED COPY --from=a /b.txt' "$tmp/from1" || fail "COPY --from rebuilt for a file it does not copy: $(cat "$tmp/from1")"
echo b2 >"$tmp/from/b.txt"
sw build --progress plain "$tmp/from" >/dev/null 2>"$tmp/from2.log" || fail "COPY --from rebuild 2"
steps "$tmp/from2.log" | grep -q '^DONE COPY --from=a /b.txt' || fail "COPY --from cached though b.txt changed: $(steps "$tmp/from2.log")"

# ---- 3. ADD from a URL -------------------------------------------------------------
step "ADD from http://127.0.0.1 with --checksum"
mkdir -p "$tmp/www" "$tmp/url"
echo "payload over http" >"$tmp/www/file.txt"
sum=$(sha256sum "$tmp/www/file.txt" | cut -d' ' -f1)
start_httpd() {
	for _ in 1 2 3 4 5; do
		port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
		"$busybox" httpd -f -p "127.0.0.1:$port" -h "$tmp/www" &
		httpd_pid=$!
		sleep 0.3
		kill -0 "$httpd_pid" 2>/dev/null && return 0
		httpd_pid=""
	done
	fail "busybox httpd did not start"
}
stop_httpd() { kill "$httpd_pid"; wait "$httpd_pid" 2>/dev/null || true; httpd_pid=""; }
start_httpd
cat >"$tmp/url/Dockerfile" <<EOF
FROM base:1
ADD --checksum=sha256:$sum http://127.0.0.1:$port/file.txt /dl/
RUN test "\$(cat /dl/file.txt)" = "payload over http"
EOF
sw build -q -t url:1 "$tmp/url" >/dev/null || fail "ADD URL with the right checksum"
stop_httpd
# the checksum is the key: a hit needs no download (the server is gone)
sw build --progress plain -t url:1 "$tmp/url" >/dev/null 2>"$tmp/url.log" || fail "cached ADD URL downloaded again: $(cat "$tmp/url.log")"
steps "$tmp/url.log" | grep -q '^CACHED ADD' || fail "ADD URL not cached: $(steps "$tmp/url.log")"
start_httpd
cat >"$tmp/url/Dockerfile" <<EOF
FROM base:1
ENV A=1
ADD --checksum=sha256:$(echo "$sum" | tr 0-9a-f a-f0-9) http://127.0.0.1:$port/file.txt /dl/
EOF
expect_fail url-checksum "$tmp/url" 3 "checksum mismatch: expected sha256:"
stop_httpd

# ---- 4. RUN --timeout -----------------------------------------------------------------
step "RUN that hangs is stopped by --timeout"
mkdir -p "$tmp/hang"
printf 'FROM base:1\nENV A=1\nRUN echo started; sleep 7777\n' >"$tmp/hang/Dockerfile"
expect_fail timeout "$tmp/hang" 3 "step 3/3 (RUN echo started; sleep 7777): timed out after 1s (--timeout)" --timeout 1s
grep -q started "$tmp/timeout.log" || fail "no output of the timed-out step"
runc --root "$runc_root" list -q 2>/dev/null | sort >"$tmp/runc-after" || true
[ -z "$(comm -13 "$tmp/runc-before" "$tmp/runc-after")" ] || fail "runc containers left: $(comm -13 "$tmp/runc-before" "$tmp/runc-after")"
if ps -eo args | grep -q '^sleep 777[7]'; then fail "the hung process is still running"; fi

# ---- 5. zstd --------------------------------------------------------------------------
step "--compression zstd"
mkdir -p "$tmp/zst"
printf 'FROM base:1\nRUN echo zstd-layer > /hi\nCOPY Dockerfile /df\n' >"$tmp/zst/Dockerfile"
sw build -q --compression zstd -t zst:1 --output "oci:$tmp/oci-zst" "$tmp/zst" >/dev/null || fail "zstd build"
python3 - "$tmp/oci-zst" <<'PY' || fail "zstd layers"
import json, sys
d = sys.argv[1]
blob = lambda dg: json.load(open(d + "/blobs/sha256/" + dg.split(":")[1]))
m = blob(json.load(open(d + "/index.json"))["manifests"][0]["digest"])
mts = [l["mediaType"] for l in m["layers"]]
# the base keeps its gzip layer; the two built layers are zstd
assert mts[1:] == ["application/vnd.oci.image.layer.v1.tar+zstd"] * 2, mts
PY
if command -v zstd >/dev/null 2>&1; then
	python3 - "$tmp/oci-zst" <<'PY' || fail "a zstd layer does not decompress to its diff_id"
import hashlib, json, subprocess, sys
d = sys.argv[1]
path = lambda dg: d + "/blobs/sha256/" + dg.split(":")[1]
m = json.load(open(path(json.load(open(d + "/index.json"))["manifests"][0]["digest"])))
c = json.load(open(path(m["config"]["digest"])))
for l, diff in zip(m["layers"], c["rootfs"]["diff_ids"]):
    if l["mediaType"].endswith("+zstd"):
        raw = subprocess.run(["zstd", "-dc", path(l["digest"])], check=True, capture_output=True).stdout
        assert "sha256:" + hashlib.sha256(raw).hexdigest() == diff, l
PY
fi
# Debian's umoci (0.4.7) and oci-image-tool refuse the zstd media type;
# skopeo reads it, and converting the layers to gzip lets umoci check the
# diff_ids and unpack
skopeo inspect "oci:$tmp/oci-zst:zst:1" >/dev/null || fail "skopeo inspect of a zstd image"
skopeo copy -q --dest-compress-format gzip "oci:$tmp/oci-zst:zst:1" "oci:$tmp/oci-zst-gz:zst:1" >/dev/null ||
	fail "skopeo could not decompress the zstd layers"
umoci unpack --image "$tmp/oci-zst-gz:zst:1" "$tmp/bundle-zst" >/dev/null || fail "umoci unpack of the recompressed image"
[ "$(cat "$tmp/bundle-zst/rootfs/hi")" = zstd-layer ] || fail "zstd layer content"
# and slipway unpacks its own zstd layers as a base
mkdir -p "$tmp/zst-child"
printf 'FROM zst:1\nRUN test "$(cat /hi)" = zstd-layer\n' >"$tmp/zst-child/Dockerfile"
sw build -q "$tmp/zst-child" >/dev/null || fail "FROM a zstd image"

# ---- 6. outputs -------------------------------------------------------------------------
step "--output oci-archive, docker-archive, oci"
sw build -q -t out:1 --output "oci-archive:$tmp/out-oci.tar" "$tmp/zst" >/dev/null || fail "--output oci-archive"
skopeo inspect "oci-archive:$tmp/out-oci.tar" >/dev/null || fail "skopeo rejects the oci-archive"
sw build -q -t out:1 --output "docker-archive:$tmp/out-docker.tar" "$tmp/zst" >/dev/null || fail "--output docker-archive"
skopeo inspect "docker-archive:$tmp/out-docker.tar" >/dev/null || fail "skopeo rejects the docker-archive"
tar -xOf "$tmp/out-docker.tar" manifest.json | grep -q '"RepoTags":\["out:1"\]' || fail "docker-archive RepoTags"
sw build -q -t out:1 --output "oci:$tmp/out-oci" "$tmp/zst" >/dev/null || fail "--output oci"
python3 - "$tmp/out-oci/index.json" <<'PY' || fail "--output oci: index.json does not name the image by its tag"
import json, sys
ms = json.load(open(sys.argv[1]))["manifests"]
assert [m["annotations"]["org.opencontainers.image.ref.name"] for m in ms] == ["out:1"], ms
PY
skopeo inspect "oci:$tmp/out-oci:out:1" >/dev/null || fail "skopeo inspect oci:DIR:out:1"

# ---- 7. ONBUILD -----------------------------------------------------------------------
step "ONBUILD triggers of a base image run after the child's FROM"
mkdir -p "$tmp/ob-parent" "$tmp/ob-child"
printf 'FROM base:1\nONBUILD RUN echo trigger > /trig\nONBUILD COPY marker /marker\nCMD ["sh"]\n' >"$tmp/ob-parent/Dockerfile"
printf 'FROM ob:1\nRUN test "$(cat /trig)" = trigger && test "$(cat /marker)" = child-context\n' >"$tmp/ob-child/Dockerfile"
echo child-context >"$tmp/ob-child/marker"
sw build -q -t ob:1 "$tmp/ob-parent" >/dev/null || fail "ONBUILD parent"
sw image inspect -o json ob:1 | python3 -c '
import json, sys
ob = json.load(sys.stdin)["config"]["config"]["OnBuild"]
assert ob == ["RUN echo trigger > /trig", "COPY marker /marker"], ob' || fail "parent OnBuild"
sw build --progress plain -t obc:1 "$tmp/ob-child" >/dev/null 2>"$tmp/ob.log" || fail "ONBUILD child: $(cat "$tmp/ob.log")"
steps "$tmp/ob.log" >"$tmp/ob"
[ "$(sed -n 2p "$tmp/ob")" = "DONE RUN echo trigger > /trig" ] || fail "trigger not run after FROM: $(cat "$tmp/ob")"
sw image inspect -o json obc:1 | python3 -c '
import json, sys
c = json.load(sys.stdin)["config"]["config"]
assert "OnBuild" not in c, c
assert c["Cmd"] == ["sh"], c' || fail "child inherited OnBuild"

# ---- 8. bad input ---------------------------------------------------------------------
step "bad input: malformed base layers refused at import, store unchanged"
head -c 4000 /dev/urandom >"$tmp/garbage.tar"
gzip -n -c "$tmp/rootfs.tar" | head -c 20000 >"$tmp/truncated.tar.gz"
mklayer() { # mklayer OUT KIND: a small hostile layer tar
	python3 - "$@" <<'PY'
import io, sys, tarfile
out, kind = sys.argv[1:3]
def entry(name, type=tarfile.REGTYPE, data=b"", link=""):
    i = tarfile.TarInfo(name); i.type = type; i.linkname = link
    i.mode = 0o755 if type in (tarfile.DIRTYPE, tarfile.SYMTYPE) else 0o644
    i.size = len(data) if type == tarfile.REGTYPE else 0
    return i, io.BytesIO(data) if type == tarfile.REGTYPE else None
entries = {
    "dotdot": [entry("etc", tarfile.DIRTYPE), entry("../escape", data=b"x")],
    "hardlink-out": [entry("etc", tarfile.DIRTYPE), entry("etc/pw", tarfile.LNKTYPE, link="../../etc/passwd")],
    "through-symlink": [entry("lnk", tarfile.SYMTYPE, link="/tmp"), entry("lnk/owned", data=b"x")],
}[kind]
with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as t:
    for i, f in entries: t.addfile(i, f)
PY
}
# mkoci OUT LAYER...: an oci-archive of one image (tag bad:1) with those
# layers stored as they are, diff_ids of their gunzipped (or raw) bytes
mkoci() {
	python3 - "$@" <<'PY'
import gzip, hashlib, io, json, sys, tarfile
out, layers = sys.argv[1], sys.argv[2:]
blobs = {}
def put(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    blobs[d] = data
    return {"digest": d, "size": len(data)}
descs, diffs = [], []
for p in layers:
    data = open(p, "rb").read()
    try: raw = gzip.decompress(data)
    except Exception: raw = data
    diffs.append("sha256:" + hashlib.sha256(raw).hexdigest())
    descs.append(dict(put(data), mediaType="application/vnd.oci.image.layer.v1.tar+gzip"))
config = {"architecture": "amd64", "os": "linux", "created": "1970-01-01T00:00:00Z",
          "config": {"Env": ["PATH=/bin"]}, "rootfs": {"type": "layers", "diff_ids": diffs},
          "history": [{"created_by": "layer %d" % i} for i in range(len(layers))]}
cd = dict(put(json.dumps(config).encode()), mediaType="application/vnd.oci.image.config.v1+json")
manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": cd, "layers": descs}
md = dict(put(json.dumps(manifest).encode()), mediaType="application/vnd.oci.image.manifest.v1+json",
          annotations={"org.opencontainers.image.ref.name": "bad:1"})
index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [md]}
with tarfile.open(out, "w") as t:
    def add(name, data):
        i = tarfile.TarInfo(name); i.size = len(data); t.addfile(i, io.BytesIO(data))
    add("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    add("index.json", json.dumps(index).encode())
    for d, data in blobs.items(): add("blobs/sha256/" + d[7:], data)
PY
}
for k in dotdot hardlink-out through-symlink; do mklayer "$tmp/$k.tar" "$k"; done
expect_import_fail() { # expect_import_fail PATTERN IMPORT-ARGS...
	pattern=$1
	shift
	before=$(state_list)
	if sw image import "$@" >/dev/null 2>"$tmp/import.log"; then fail "import $* succeeded"; fi
	grep -q -- "$pattern" "$tmp/import.log" || fail "import $*: $(cat "$tmp/import.log")"
	[ "$(state_list)" = "$before" ] || fail "a failed import $* changed the state dir"
	echo "    $(cat "$tmp/import.log")"
}
expect_import_fail "Unrecognized archive format" --rootfs "$tmp/garbage.tar" bad:1
expect_import_fail "truncated gzip input" --rootfs "$tmp/truncated.tar.gz" bad:1
expect_import_fail "contains '..'" --rootfs "$tmp/dotdot.tar" bad:1
expect_import_fail "contains '..'" --rootfs "$tmp/hardlink-out.tar" bad:1
expect_import_fail "goes through the symlink" --rootfs "$tmp/through-symlink.tar" bad:1
mkoci "$tmp/oci-garbage.tar" "$tmp/garbage.tar"
expect_import_fail "not a tar archive" "$tmp/oci-garbage.tar"
mkoci "$tmp/oci-truncated.tar" "$tmp/truncated.tar.gz"
expect_import_fail "truncated gzip input" "$tmp/oci-truncated.tar"
mkoci "$tmp/oci-dotdot.tar" "$tmp/dotdot.tar"
expect_import_fail "contains '..'" "$tmp/oci-dotdot.tar"
mkoci "$tmp/oci-hardlink.tar" "$tmp/hardlink-out.tar"
expect_import_fail "contains '..'" "$tmp/oci-hardlink.tar"

step "bad input: a hostile base layer is refused when used"
# a path through a symlink of the same layer passes the import's header
# check; the layer cache refuses it when a step needs the layer
mkoci "$tmp/oci-through.tar" "$tmp/through-symlink.tar"
sw image import "$tmp/oci-through.tar" through:1 >/dev/null 2>&1 || fail "import through:1"
mkdir -p "$tmp/use-through"
printf 'FROM through:1\nENV A=1\nRUN true\n' >"$tmp/use-through/Dockerfile"
expect_fail use-through "$tmp/use-through" 3 "lnk is a symlink; not followed"

step "bad input: symlinks of a base layer pointing out of it are resolved inside"
mkdir -p "$tmp/host-target" "$tmp/symroot/etc"
cp "$tmp/rootfs/etc/passwd" "$tmp/symroot/etc/"
cp -a "$tmp/rootfs/bin" "$tmp/symroot/"
ln -s "$tmp/host-target" "$tmp/symroot/abs"
ln -s "../../../../../../../../$tmp/host-target" "$tmp/symroot/up"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$tmp/symroot" -cf "$tmp/symroot.tar" .
sw image import --rootfs "$tmp/symroot.tar" sym:1 >/dev/null || fail "import sym:1"
mkdir -p "$tmp/sym"
echo inside >"$tmp/sym/f"
cat >"$tmp/sym/Dockerfile" <<'EOF'
FROM sym:1
COPY f /abs/copied
COPY f /up/copied2
ADD f /abs/added
WORKDIR /up/wd
RUN echo ran > /abs/ran
EOF
sw build -q -t symout:1 --output "oci:$tmp/oci-sym" "$tmp/sym" >/dev/null || fail "build on hostile symlinks"
[ -z "$(ls -A "$tmp/host-target")" ] || fail "a write followed a symlink out of the rootfs: $(ls -A "$tmp/host-target")"
umoci unpack --image "$tmp/oci-sym:symout:1" "$tmp/bundle-sym" >/dev/null || fail "umoci unpack sym"
for f in copied copied2 added ran wd; do
	[ -e "$tmp/bundle-sym/rootfs$tmp/host-target/$f" ] || fail "$f not written inside the image"
done

step "bad input: hostile contexts"
mkdir -p "$tmp/ctx-dirlink" "$tmp/outside"
echo secret >"$tmp/outside/secret"
ln -s "$tmp/outside" "$tmp/ctx-dirlink/d"
printf 'FROM base:1\nCOPY d/secret /x\n' >"$tmp/ctx-dirlink/Dockerfile"
expect_fail dirlink "$tmp/ctx-dirlink" 2 "outside the build context"
printf 'FROM base:1\nENV A=1\nCOPY ../outside/secret /x\n' >"$tmp/ctx-dirlink/Dockerfile"
expect_fail dotdot-src "$tmp/ctx-dirlink" 3 "outside the build context"
mkdir -p "$tmp/ctx-dev"
mknod "$tmp/ctx-dev/null" c 1 3
echo ok >"$tmp/ctx-dev/ok"
printf 'FROM base:1\nCOPY . /ctx/\n' >"$tmp/ctx-dev/Dockerfile"
expect_fail device "$tmp/ctx-dev" 2 "null: refusing a device node"
echo null >"$tmp/ctx-dev/.dockerignore"
sw build -q "$tmp/ctx-dev" >/dev/null || fail "an ignored device node still failed the build"
mkdir -p "$tmp/ctx-tar/in"
echo x >"$tmp/ctx-tar/in/x"
python3 - "$tmp/ctx-tar/evil.tar" <<'PY'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    i = tarfile.TarInfo("../../escaped"); i.size = 1; t.addfile(i, io.BytesIO(b"x"))
PY
printf 'FROM base:1\nADD evil.tar /opt/\n' >"$tmp/ctx-tar/Dockerfile"
expect_fail add-dotdot "$tmp/ctx-tar" 2 "leaves the destination"
# a hard link in the context is a file like any other: its content is copied
ln "$tmp/outside/secret" "$tmp/ctx-tar/hl"
printf 'FROM base:1\nCOPY hl /hl\nRUN echo changed > /hl\n' >"$tmp/ctx-tar/Dockerfile"
sw build -q "$tmp/ctx-tar" >/dev/null || fail "COPY of a hard-linked file"
[ "$(cat "$tmp/outside/secret")" = secret ] || fail "a RUN changed a hard-linked context file on the host"

step "file names that are not ASCII or not UTF-8 are copied as they are"
mkdir -p "$tmp/names"
caf=$(printf 'caf\303\251') raw=$(printf 'raw\377')
echo 1 >"$tmp/names/$caf"
echo 2 >"$tmp/names/$raw"
printf 'FROM base:1\nCOPY . /names/\n' >"$tmp/names/Dockerfile"
sw build -q -t names:1 --output "oci:$tmp/oci-names" "$tmp/names" >/dev/null || fail "COPY of non-ASCII names"
umoci unpack --image "$tmp/oci-names:names:1" "$tmp/bundle-names" >/dev/null || fail "umoci unpack names"
[ -f "$tmp/bundle-names/rootfs/names/$caf" ] && [ -f "$tmp/bundle-names/rootfs/names/$raw" ] ||
	fail "names changed: $(ls "$tmp/bundle-names/rootfs/names" | od -c | head -3)"

step "bad input: missing stages, images and files"
mkdir -p "$tmp/missing"
printf 'FROM base:1\nENV A=1\nCOPY missing.txt /x\n' >"$tmp/missing/Dockerfile"
expect_fail missing-file "$tmp/missing" 3 "missing.txt: not found in the build context"
printf 'FROM base:1\nCOPY --from=nosuch /x /x\n' >"$tmp/missing/Dockerfile"
expect_fail missing-stage "$tmp/missing" 2 "image 'nosuch' not found"
printf 'FROM base:1 AS a\nFROM base:1\nCOPY --from=a /nothing-here /x\n' >"$tmp/missing/Dockerfile"
expect_fail missing-in-stage "$tmp/missing" 3 "/nothing-here: not found in a"
printf 'FROM nosuch:1\nRUN true\n' >"$tmp/missing/Dockerfile"
expect_fail missing-base "$tmp/missing" 1 "image 'nosuch:1' not found"

echo "PASS"
