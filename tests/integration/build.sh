#!/bin/sh
# Integration test of `slipway build` with real overlayfs and runc (as root):
# examples/hello and examples/multistage on a busybox base made from Debian's
# busybox-static, checked by oci-image-tool, skopeo and umoci, run under runc;
# reproducible digests across fresh state dirs; whiteouts; the build cache
# (no change: every filesystem step CACHED; one file changed: only what
# depends on it rebuilds); a failing RUN; a hostile context; secrets that
# never reach a blob; COPY/ADD features (heredoc, tar auto-extract, chown,
# chmod, --link, --exclude).
#
# usage: build.sh PATH/TO/slipway
# Exit 0 pass, 1 fail, 77 skipped (not root, or a tool is missing). Mounts,
# runc containers and temp dirs are removed on exit, even on failure.
set -eu

bin=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (overlayfs, runc)"
	exit 77
fi
for tool in umoci skopeo oci-image-tool runc tar gzip python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed (scripts/install-deps installs it)"
		exit 77
	fi
done
busybox=""
for p in /bin/busybox /usr/bin/busybox; do
	if [ -x "$p" ] && ! ldd "$p" >/dev/null 2>&1; then busybox=$p; break; fi
done
if [ -z "$busybox" ]; then
	echo "SKIP: no static busybox (install busybox-static)"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-build.XXXXXX")
containers=""
cleanup() {
	status=$?
	for c in $containers; do
		runc --root "$tmp/runc" delete -f "$c" >/dev/null 2>&1 || true
	done
	# overlays left by a crashed build
	grep " $tmp/" /proc/self/mounts 2>/dev/null | awk '{print $2}' | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }

# ---- a busybox base image ------------------------------------------------------
mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/etc" "$tmp/rootfs/tmp" "$tmp/rootfs/usr/share"
cp "$busybox" "$tmp/rootfs/bin/busybox"
for applet in sh echo cat ls env id true false mkdir rm test wc grep stat printf; do
	ln -s busybox "$tmp/rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$tmp/rootfs/etc/passwd"
printf 'root:x:0:\napp:x:1000:\nnogroup:x:65534:\n' >"$tmp/rootfs/etc/group"
echo doomed >"$tmp/rootfs/usr/share/doomed"
chmod 1777 "$tmp/rootfs/tmp"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -C "$tmp/rootfs" -cf "$tmp/rootfs.tar" .

sw() { st=$1; shift; "$bin" --state-dir "$st" "$@"; }
for st in "$tmp/a" "$tmp/b"; do
	sw "$st" image import --rootfs "$tmp/rootfs.tar" slipway/busybox:1.35 >/dev/null
done

# unpack IMAGE (from layout DIR) and run it under runc; prints its output
run_image() {
	dir=$1 ref=$2 name=$3
	umoci unpack --image "$dir:$ref" "$tmp/bundle-$name" >/dev/null
	python3 - "$tmp/bundle-$name/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
json.dump(c, open(sys.argv[1], "w"))
PY
	containers="$containers $name"
	(cd "$tmp/bundle-$name" && runc --root "$tmp/runc" run "$name" </dev/null)
}

# ---- hello -----------------------------------------------------------------------
step "build examples/hello"
h1=$(sw "$tmp/a" build -q -t hello:1 --output "oci:$tmp/oci-hello" "$src/examples/hello")
case "$h1" in sha256:????????????????????????????????????????????????????????????????) ;; *) fail "build -q printed '$h1'" ;; esac
[ "$(sw "$tmp/a" images -q 2>/dev/null | grep -c "$h1")" -ge 1 ] || fail "hello is not in the store"
oci-image-tool validate --type image "$tmp/oci-hello" >/dev/null || fail "oci-image-tool rejects hello"
oci-image-tool validate --type image "$tmp/a/images" >/dev/null || fail "oci-image-tool rejects the store"
skopeo inspect "oci:$tmp/oci-hello:hello:1" >/dev/null || fail "skopeo inspect"
skopeo copy -q "oci:$tmp/oci-hello:hello:1" "docker-archive:$tmp/hello-docker.tar:hello:1" >/dev/null || fail "skopeo copy"
skopeo inspect --config "oci:$tmp/oci-hello:hello:1" >/dev/null || fail "skopeo inspect --config"
python3 - "$tmp/oci-hello" <<'PY' || fail "hello config"
import json, sys
d = sys.argv[1]
blob = lambda dg: json.load(open(d + "/blobs/sha256/" + dg.split(":")[1]))
m = blob(json.load(open(d + "/index.json"))["manifests"][0]["digest"])
c = blob(m["config"]["digest"])
cfg = c["config"]
assert c["created"] == "1970-01-01T00:00:00Z", c["created"]
assert "PORT=8080" in cfg["Env"] and "GREETING=hello from slipway" in cfg["Env"], cfg
assert cfg["Cmd"] == ["/app/app.sh"], cfg
assert cfg["User"] == "65534:65534" and cfg["WorkingDir"] == "/app", cfg
assert cfg["ExposedPorts"] == {"8080/tcp": {}}, cfg
hc = cfg["Healthcheck"]
assert hc["Test"][0] == "CMD-SHELL" and hc["Interval"] == 10 * 10**9 and hc["Retries"] == 3, hc
h = [x for x in c["history"] if x.get("created_by", "").startswith("COPY")]
assert h and h[0]["created_by"].endswith("# buildkit") and not h[0].get("empty_layer"), h
assert all(x.get("empty_layer") for x in c["history"] if x.get("created_by", "").startswith(("ENV", "EXPOSE", "USER", "CMD"))), c["history"]
# the base, WORKDIR /app (its own layer, as BuildKit makes it), two COPYs
assert len(c["rootfs"]["diff_ids"]) == 4, c["rootfs"]
assert not [x for x in c["history"] if x.get("created_by") == "WORKDIR /app"][0].get("empty_layer"), c["history"]
PY
umoci unpack --image "$tmp/oci-hello:hello:1" "$tmp/bundle-hello" >/dev/null || fail "umoci unpack hello"
[ "$(stat -c %a "$tmp/bundle-hello/rootfs/app/app.sh")" = 755 ] || fail "--chmod=0755 not applied"
[ -f "$tmp/bundle-hello/rootfs/app/www/README.txt" ] || fail "COPY www/ did not copy the folder's contents"

# ---- multistage ----------------------------------------------------------------
step "build examples/multistage and run it"
m1=$(sw "$tmp/a" build -q -t ms:1 --output "oci:$tmp/oci-ms" "$src/examples/multistage")
oci-image-tool validate --type image "$tmp/oci-ms" >/dev/null || fail "oci-image-tool rejects multistage"
out=$(run_image "$tmp/oci-ms" ms:1 ms1)
expect="version 1.0.0
$(cat "$src/examples/multistage/greeting.txt")"
[ "$out" = "$expect" ] || fail "multistage printed '$out', expected '$expect'"

step "reproducible: fresh state dir, same digests"
h2=$(sw "$tmp/b" build -q -t hello:1 "$src/examples/hello")
m2=$(sw "$tmp/b" build -q -t ms:1 "$src/examples/multistage")
[ "$h1" = "$h2" ] || fail "hello: $h1 != $h2"
[ "$m1" = "$m2" ] || fail "multistage: $m1 != $m2"

# ---- cache ---------------------------------------------------------------------
# every RUN/COPY/ADD step of a plain log must end CACHED (or DONE)
fs_status() {
	python3 -c '
import re, sys
want = sys.argv[1]
steps, status = {}, {}
for line in open(sys.argv[2]):
    m = re.match(r"#(\d+) \[(\S+) \d+/\d+\] (RUN|COPY|ADD) (.*)", line)
    if m: steps[m.group(1)] = m.group(3) + " " + m.group(4)
    m = re.match(r"#(\d+) (CACHED|DONE)", line)
    if m: status[m.group(1)] = m.group(2)
for n, text in steps.items():
    print(status.get(n, "?"), text)
' x "$1"
}
step "cache: no change runs nothing"
sw "$tmp/a" build --progress plain -t ms:1 "$src/examples/multistage" >/dev/null 2>"$tmp/log1"
fs_status "$tmp/log1" >"$tmp/st1"
grep -q . "$tmp/st1" || fail "no filesystem steps in the log"
if grep -v '^CACHED' "$tmp/st1"; then fail "a step ran without a change"; fi

step "cache: one copied file changed rebuilds from there on"
cp -a "$src/examples/hello" "$tmp/hello-ctx"
echo "changed" >>"$tmp/hello-ctx/www/README.txt"
sw "$tmp/a" build --progress plain -t hello:2 "$tmp/hello-ctx" >/dev/null 2>"$tmp/log2"
fs_status "$tmp/log2" >"$tmp/st2"
grep -q '^CACHED COPY --chmod=0755 app.sh' "$tmp/st2" || fail "COPY app.sh was rebuilt: $(cat "$tmp/st2")"
grep -q '^DONE COPY www/' "$tmp/st2" || fail "COPY www/ was not rebuilt: $(cat "$tmp/st2")"

# ---- whiteouts, features -------------------------------------------------------
step "RUN that deletes files, COPY/ADD features"
ctx="$tmp/feat"
mkdir -p "$ctx/sub/skip" "$ctx/arch"
echo one >"$ctx/one.txt"
echo two >"$ctx/sub/two.txt"
echo no >"$ctx/sub/skip/no.txt"
echo inside >"$ctx/arch/inside.txt"
tar --owner=0 --group=0 -C "$ctx/arch" -czf "$ctx/a.tar.gz" inside.txt
rm -rf "$ctx/arch"
cat >"$ctx/Dockerfile" <<'EOF'
FROM slipway/busybox:1.35
RUN rm /usr/share/doomed && rm -r /tmp && mkdir -m 1777 /tmp
COPY <<EOT /etc/motd
hi from a heredoc
EOT
ADD a.tar.gz /opt/
COPY --chown=app:app --chmod=0600 one.txt /home/app/
COPY --link --exclude=skip sub /data/
RUN <<EOT
set -e
test "$(cat /etc/motd)" = "hi from a heredoc"
echo ran > /ran
EOT
CMD ["cat", "/etc/motd"]
EOF
sw "$tmp/a" build -q -t feat:1 --output "oci:$tmp/oci-feat" "$ctx" >/dev/null || fail "features build"
oci-image-tool validate --type image "$tmp/oci-feat" >/dev/null || fail "oci-image-tool rejects features"
umoci unpack --image "$tmp/oci-feat:feat:1" "$tmp/bundle-feat" >/dev/null || fail "umoci unpack features"
r="$tmp/bundle-feat/rootfs"
[ ! -e "$r/usr/share/doomed" ] || fail "whiteout for /usr/share/doomed not applied"
[ -f "$r/opt/inside.txt" ] || fail "ADD did not unpack a.tar.gz"
[ "$(stat -c '%u:%g %a' "$r/home/app/one.txt")" = "1000:1000 600" ] || fail "--chown=app:app --chmod=0600: $(stat -c '%u:%g %a' "$r/home/app/one.txt")"
[ -f "$r/data/two.txt" ] && [ ! -e "$r/data/skip" ] || fail "COPY --link --exclude"
[ "$(cat "$r/ran")" = ran ] || fail "heredoc RUN"
[ ! -e "$r/run/secrets" ] || fail "mount stub in a layer"
[ "$(run_image "$tmp/oci-feat" feat:1 feat1)" = "hi from a heredoc" ] || fail "features image did not run"

# ---- failures ------------------------------------------------------------------
step "failing RUN names the step, line and exit code; no tag"
mkdir -p "$tmp/bad"
printf 'FROM slipway/busybox:1.35\nENV X=1\nRUN echo oops-output; exit 3\n' >"$tmp/bad/Dockerfile"
if sw "$tmp/a" build --progress plain -t bad:1 "$tmp/bad" >/dev/null 2>"$tmp/badlog"; then fail "failing RUN succeeded"; fi
grep -q 'Dockerfile:3: step 3/3 (RUN echo oops-output; exit 3): exit code 3' "$tmp/badlog" || fail "error does not name step, line and exit code: $(cat "$tmp/badlog")"
grep -q 'oops-output' "$tmp/badlog" || fail "no output of the failed step"
if sw "$tmp/a" images | grep -q '^bad '; then fail "a failed build was tagged"; fi

step "hostile context refused"
mkdir -p "$tmp/hostile"
ln -s /etc/shadow "$tmp/hostile/evil"
printf 'FROM slipway/busybox:1.35\nCOPY evil /x\n' >"$tmp/hostile/Dockerfile"
if sw "$tmp/a" build -q "$tmp/hostile" >/dev/null 2>"$tmp/hlog"; then fail "symlink out of the context was followed"; fi
grep -q 'outside the build context' "$tmp/hlog" || fail "hostile symlink: $(cat "$tmp/hlog")"
printf 'FROM slipway/busybox:1.35\nCOPY ../x /x\n' >"$tmp/hostile/Dockerfile"
if sw "$tmp/a" build -q "$tmp/hostile" >/dev/null 2>"$tmp/hlog"; then fail "COPY ../x succeeded"; fi
grep -q 'outside the build context' "$tmp/hlog" || fail "..: $(cat "$tmp/hlog")"

# ---- secrets -------------------------------------------------------------------
step "secrets never reach a blob"
mkdir -p "$tmp/sec"
secret="s3cr3t-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
printf '%s' "$secret" >"$tmp/secret.txt"
cat >"$tmp/sec/Dockerfile" <<'EOF'
FROM slipway/busybox:1.35
RUN --mount=type=secret,id=tok test -s /run/secrets/tok && wc -c /run/secrets/tok > /len
RUN --mount=type=secret,id=tok,env=TOK test -n "$TOK" && echo ok > /env-ok
EOF
sw "$tmp/a" build -q -t sec:1 --secret "id=tok,src=$tmp/secret.txt" "$tmp/sec" >/dev/null || fail "secret build"
for blob in "$tmp/a/images/blobs/sha256/"*; do
	if { gzip -dc "$blob" 2>/dev/null || cat "$blob"; } | grep -qa "$secret"; then fail "secret found in blob $blob"; fi
done
if grep -rqa "$secret" "$tmp/a/build-cache" "$tmp/a/images/index.json"; then fail "secret found in the cache index"; fi

echo "PASS"
