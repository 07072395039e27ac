#!/bin/sh
# Integration test of the registry client against a real registry (Debian's
# docker-registry, on 127.0.0.1 with a temp storage dir) and a misbehaving
# fake one (fake_registry.py): push, skopeo sees the same digest, pull into
# an empty state dir, chunked uploads, HEAD skips, cross-repository mounts,
# an artifact manifest with a subject, basic auth (htpasswd, bcrypt from
# python's crypt), bearer tokens, corrupt/truncated/flaky blobs and a wrong
# manifest digest (the store stays as it was).
#
# usage: registry.sh PATH/TO/slipway
# Exit 0 pass, 1 fail, 77 skipped (a tool is missing). The registries are
# killed and the temp dir removed on exit, even on failure.
set -eu

bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
for tool in docker-registry skopeo python3 curl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed (scripts/install-deps installs it)"
		exit 77
	fi
done
if ! [ -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
	echo "SKIP: no static busybox (install busybox-static)"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-registry.XXXXXX")
pids=""
cleanup() {
	status=$?
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url
	i=0
	until curl -s -o /dev/null "$1"; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "nothing answers $1"
		sleep 0.1
	done
}
start_registry() { # name port [auth yaml]
	mkdir -p "$tmp/$1"
	cat >"$tmp/$1/config.yml" <<EOF
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $tmp/$1/storage
http:
  addr: 127.0.0.1:$2
${3:-}
EOF
	docker-registry serve "$tmp/$1/config.yml" >"$tmp/$1/log" 2>&1 &
	pids="$pids $!"
	wait_http "http://127.0.0.1:$2/v2/"
}
blobs() { (cd "$1/images/blobs/sha256" && ls | sort); }

st="$tmp/state"
sw() { "$bin" --state-dir "$st" "$@"; }

step "registry without auth"
port=$(free_port)
reg=127.0.0.1:$port
start_registry plain "$port"

step "base image"
"$here/../../examples/base/busybox-rootfs.sh" "$tmp/rootfs" "$tmp/rootfs.tar" >/dev/null
sw image import --rootfs "$tmp/rootfs.tar" slipway/busybox:1 >/dev/null
want=$(sw image inspect -o json slipway/busybox:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["digest"])')

step "push"
got=$(sw push --insecure slipway/busybox:1 "$reg/slipway/busybox:1" 2>"$tmp/err") || { cat "$tmp/err"; fail "push"; }
[ "$got" = "$want" ] || fail "push printed $got, want $want"
grep -q "2 blobs uploaded, 0 already there" "$tmp/err" || fail "push: $(cat "$tmp/err")"

step "skopeo sees it"
sk=$(skopeo inspect --tls-verify=false "docker://$reg/slipway/busybox:1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
[ "$sk" = "$want" ] || fail "skopeo sees $sk, want $want"
skopeo inspect --tls-verify=false --raw "docker://$reg/slipway/busybox:1" >"$tmp/raw.json"
raw_size=$(wc -c <"$tmp/raw.json")
python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); assert m["mediaType"]=="application/vnd.oci.image.manifest.v1+json"' "$tmp/raw.json" ||
	fail "the registry keeps the wrong media type"

step "push again: blobs are skipped"
sw push --insecure slipway/busybox:1 "$reg/slipway/busybox:1" 2>"$tmp/err" >/dev/null
grep -q "0 blobs uploaded, 2 already there" "$tmp/err" || fail "second push: $(cat "$tmp/err")"

step "pull into an empty state dir"
st2="$tmp/state2"
got=$("$bin" --state-dir "$st2" pull --insecure "$reg/slipway/busybox:1" 2>/dev/null)
[ "$got" = "$want" ] || fail "pull gave $got, want $want"
"$bin" --state-dir "$st2" image inspect "$reg/slipway/busybox:1" >/dev/null || fail "inspect after pull"
[ "$(blobs "$st")" = "$(blobs "$st2")" ] || fail "pulled blobs differ from pushed ones"
"$bin" --state-dir "$st2" pull --insecure "$reg/slipway/busybox@$want" other:tag >/dev/null 2>&1 || fail "pull by digest"
"$bin" --state-dir "$st2" image inspect other:tag >/dev/null || fail "pull by digest: no tag other:tag"
if "$bin" --state-dir "$st2" pull --insecure "$reg/slipway/busybox:nope" >/dev/null 2>"$tmp/err"; then
	fail "pull of a missing tag succeeded"
fi
grep -q "MANIFEST_UNKNOWN\|HTTP 404" "$tmp/err" || fail "missing tag: $(cat "$tmp/err")"

step "chunked push"
# from state2, which pushed nothing yet: no mount of blobs it knows are in slipway/busybox
SLIPWAY_REGISTRY_CHUNK_SIZE=65536 "$bin" --state-dir "$st2" --log-level debug push --insecure \
	"$reg/slipway/busybox:1" "$reg/chunked/busybox:1" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err"; fail "chunked push"; }
[ "$(cat "$tmp/out")" = "$want" ] || fail "chunked push printed $(cat "$tmp/out")"
[ "$(grep -c 'chunk .* sent' "$tmp/err")" -gt 2 ] || fail "chunked push sent no chunks: $(cat "$tmp/err")"
sk=$(skopeo inspect --tls-verify=false "docker://$reg/chunked/busybox:1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
[ "$sk" = "$want" ] || fail "chunked: skopeo sees $sk"
st3="$tmp/state3"
got=$("$bin" --state-dir "$st3" pull --insecure "$reg/chunked/busybox:1" 2>/dev/null)
[ "$got" = "$want" ] || fail "pull of the chunked push gave $got"
skopeo copy -q --src-tls-verify=false "docker://$reg/chunked/busybox:1" "oci:$tmp/skopeo-oci:x" ||
	fail "skopeo cannot copy the chunked upload"

step "cross-repository mount"
sw push --insecure --from-repo chunked/busybox slipway/busybox:1 "$reg/mounted/busybox:1" 2>"$tmp/err" >/dev/null
grep -q "2 mounted" "$tmp/err" || fail "mount: $(cat "$tmp/err")"
# a repository that does not have the blobs: the registry answers 202 and we upload
sw push --insecure --from-repo no/such slipway/busybox:1 "$reg/mounted2/busybox:1" 2>"$tmp/err" >/dev/null
grep -q "2 blobs uploaded" "$tmp/err" || fail "mount fallback: $(cat "$tmp/err")"
# without --from-repo: the state dir remembers where its blobs went
sw push --insecure slipway/busybox:1 "$reg/auto/busybox:1" 2>"$tmp/err" >/dev/null
grep -q "0 blobs uploaded, 0 already there, 2 mounted" "$tmp/err" || fail "automatic mount: $(cat "$tmp/err")"

step "artifact manifest with a subject"
layout="$st/images"
art=$(python3 - "$layout" "$want" <<'EOF'
import hashlib, json, os, sys
layout, subject = sys.argv[1], sys.argv[2]
def put(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(layout, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)
size = os.path.getsize(os.path.join(layout, "blobs", "sha256", subject[7:]))
cfg, cfgsize = put(b'{"app":"demo"}')
m = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
     "artifactType": "application/vnd.slipway.release.v1+json",
     "config": {"mediaType": "application/vnd.slipway.release.v1+json", "digest": cfg, "size": cfgsize},
     "layers": [{"mediaType": "application/vnd.oci.empty.v1+json", "digest": put(b"{}")[0], "size": 2}],
     "subject": {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": subject, "size": size}}
d, n = put(json.dumps(m, separators=(",", ":"), sort_keys=True).encode())
idx = json.load(open(os.path.join(layout, "index.json")))
idx["manifests"].append({"mediaType": m["mediaType"], "digest": d, "size": n,
                         "annotations": {"org.opencontainers.image.ref.name": "demo/release:v1"}})
with open(os.path.join(layout, "index.json"), "w") as f:
    json.dump(idx, f)
print(d)
EOF
)
got=$(sw push --insecure demo/release:v1 "$reg/artifacts/demo:v1" 2>"$tmp/err") || { cat "$tmp/err"; fail "artifact push"; }
[ "$got" = "$art" ] || fail "artifact push printed $got, want $art"
grep -q "2 blobs uploaded, 0 already there, 2 mounted" "$tmp/err" || fail "artifact push (subject's blobs first): $(cat "$tmp/err")"
sk=$(skopeo inspect --tls-verify=false --raw "docker://$reg/artifacts/demo@$want" | python3 -c 'import hashlib,sys; print("sha256:"+hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
[ "$sk" = "$want" ] || fail "the subject is not in the registry by digest"
got=$("$bin" --state-dir "$tmp/state4" pull --insecure "$reg/artifacts/demo:v1" 2>"$tmp/err") || { cat "$tmp/err"; fail "artifact pull"; }
[ "$got" = "$art" ] || fail "artifact pull gave $got, want $art"
"$bin" --state-dir "$tmp/state4" image inspect "$want" >/dev/null || fail "artifact pull did not bring its subject"

step "an index resolves to linux/amd64; a Docker v2 manifest pulls"
# in artifacts/demo, which has both the image and the artifact (as "arm64")
python3 - "$raw_size" "$want" "$(wc -c <"$layout/blobs/sha256/${art#sha256:}")" "$art" >"$tmp/index.json" <<'EOF2'
import json, sys
size, d, osize, other = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
print(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": other, "size": osize,
     "platform": {"architecture": "arm64", "os": "linux"}},
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d, "size": size,
     "platform": {"architecture": "amd64", "os": "linux"}}]}))
EOF2
curl -sf -X PUT -H "Content-Type: application/vnd.oci.image.index.v1+json" --data-binary "@$tmp/index.json" \
	"http://$reg/v2/artifacts/demo/manifests/multi" >/dev/null || fail "could not put an index in the registry"
got=$("$bin" --state-dir "$tmp/state9" pull --insecure "$reg/artifacts/demo:multi" 2>"$tmp/err") || { cat "$tmp/err"; fail "index pull"; }
[ "$got" = "$want" ] || fail "index pull gave $got, want $want"
# the same index from the store: its manifests (and the artifact's subject) go first
idx=$(python3 - "$layout" "$tmp/index.json" <<'EOF2'
import hashlib, json, os, sys
layout, path = sys.argv[1], sys.argv[2]
data = open(path, "rb").read()
d = hashlib.sha256(data).hexdigest()
with open(os.path.join(layout, "blobs", "sha256", d), "wb") as f:
    f.write(data)
idx = json.load(open(os.path.join(layout, "index.json")))
idx["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": "sha256:" + d,
                         "size": len(data), "annotations": {"org.opencontainers.image.ref.name": "multi/index:1"}})
with open(os.path.join(layout, "index.json"), "w") as f:
    json.dump(idx, f)
print("sha256:" + d)
EOF2
)
got=$(sw push --insecure multi/index:1 "$reg/pushed/index:1" 2>"$tmp/err") || { cat "$tmp/err"; fail "index push"; }
[ "$got" = "$idx" ] || fail "index push printed $got, want $idx"
sk=$(skopeo inspect --tls-verify=false --raw "docker://$reg/pushed/index:1" | python3 -c 'import hashlib,sys; print("sha256:"+hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')
[ "$sk" = "$idx" ] || fail "skopeo sees index $sk, want $idx"
skopeo copy -q --dest-tls-verify=false --format v2s2 "oci:$tmp/skopeo-oci:x" "docker://$reg/docker/busybox:1" ||
	fail "skopeo could not push a v2s2 manifest"
got=$("$bin" --state-dir "$tmp/state9" pull --insecure "$reg/docker/busybox:1" 2>"$tmp/err") || { cat "$tmp/err"; fail "v2s2 pull"; }
mt=$("$bin" --state-dir "$tmp/state9" image inspect -o json "$reg/docker/busybox:1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest"]["mediaType"])')
[ "$mt" = "application/vnd.docker.distribution.manifest.v2+json" ] || fail "v2s2 pull stored $mt"

step "FROM a registry image pulls the base"
mkdir -p "$tmp/ctx"
printf 'FROM %s/slipway/busybox:1\nLABEL from=registry\nENV GREETING=hi\n' "$reg" >"$tmp/ctx/Dockerfile"
st8="$tmp/state8"
if ! SLIPWAY_REGISTRY_INSECURE=1 "$bin" --state-dir "$st8" build -t built:1 "$tmp/ctx" >"$tmp/out" 2>"$tmp/err"; then
	cat "$tmp/err"
	fail "build FROM $reg/slipway/busybox:1"
fi
"$bin" --state-dir "$st8" image inspect "$reg/slipway/busybox:1" >/dev/null || fail "FROM did not tag the pulled base"
"$bin" --state-dir "$st8" image inspect -o json built:1 | grep -q '"from": "registry"' || fail "built image lacks its label"
# without SLIPWAY_REGISTRY_INSECURE the pull goes over https and fails clearly
printf 'FROM %s/slipway/busybox:nope\n' "$reg" >"$tmp/ctx/Dockerfile"
if "$bin" --state-dir "$st8" build -t built:2 "$tmp/ctx" >/dev/null 2>"$tmp/err"; then
	fail "build FROM a missing tag succeeded"
fi
grep -q "base image" "$tmp/err" || fail "FROM error: $(cat "$tmp/err")"

step "basic auth (htpasswd)"
if hash=$(python3 -W ignore -c 'import crypt; h=crypt.crypt("s3cret-pw", crypt.mksalt(crypt.METHOD_BLOWFISH)); assert h.startswith("$2"); print(h)' 2>/dev/null); then
	printf 'alice:%s\n' "$hash" >"$tmp/htpasswd"
	aport=$(free_port)
	areg=127.0.0.1:$aport
	start_registry authed "$aport" "auth:
  htpasswd:
    realm: slipway-test
    path: $tmp/htpasswd"
	if SLIPWAY_REGISTRY_AUTH= DOCKER_CONFIG="$tmp/nodocker" sw push --insecure slipway/busybox:1 "$areg/a/b:1" >/dev/null 2>"$tmp/err"; then
		fail "push without credentials succeeded"
	fi
	grep -q "authentication required\|authentication failed" "$tmp/err" || fail "no-credentials error: $(cat "$tmp/err")"
	if SLIPWAY_REGISTRY_AUTH="$areg=alice:wrong-pw" sw push --insecure slipway/busybox:1 "$areg/a/b:1" >/dev/null 2>"$tmp/err"; then
		fail "push with a wrong password succeeded"
	fi
	grep -q "authentication failed" "$tmp/err" || fail "wrong-password error: $(cat "$tmp/err")"
	! grep -q "wrong-pw" "$tmp/err" || fail "the password is in the error"
	SLIPWAY_REGISTRY_AUTH="other.example:5000=x:y,$areg=alice:s3cret-pw" sw push --insecure slipway/busybox:1 \
		"$areg/a/b:1" >/dev/null 2>"$tmp/err" || { cat "$tmp/err"; fail "push with credentials"; }
	# docker-style config.json
	mkdir -p "$tmp/docker"
	printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$areg" "$(printf alice:s3cret-pw | base64)" >"$tmp/docker/config.json"
	got=$(SLIPWAY_REGISTRY_AUTH= DOCKER_CONFIG="$tmp/docker" "$bin" --state-dir "$tmp/state5" pull --insecure "$areg/a/b:1" 2>"$tmp/err") ||
		{ cat "$tmp/err"; fail "pull with config.json credentials"; }
	[ "$got" = "$want" ] || fail "authed pull gave $got"
	sk=$(skopeo inspect --tls-verify=false --creds alice:s3cret-pw "docker://$areg/a/b:1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["Digest"])')
	[ "$sk" = "$want" ] || fail "skopeo with creds sees $sk"
else
	echo "SKIP (part): python3's crypt cannot make bcrypt hashes; basic auth against docker-registry not tested"
fi

step "fake registry: bearer tokens, corrupt, truncated, flaky blobs, wrong digests"
python3 "$here/fake_registry.py" "$tmp/fakeport" "$layout" "$want" &
pids="$pids $!"
i=0
until [ -s "$tmp/fakeport" ]; do i=$((i + 1)); [ $i -lt 100 ] || fail "fake registry did not start"; sleep 0.1; done
freg=127.0.0.1:$(cat "$tmp/fakeport")
wait_http "http://$freg/v2/"

e="$tmp/state-empty"
"$bin" --state-dir "$e" images >/dev/null
biggest=$(python3 -c 'import json,sys; m=json.load(open(sys.argv[1])); print(max([m["config"]]+m["layers"], key=lambda d: d["size"])["digest"][7:])' "$tmp/raw.json")
for repo in corrupt truncated baddigest; do
	if "$bin" --state-dir "$e" pull --insecure "$freg/$repo/x:1" >/dev/null 2>"$tmp/err"; then
		fail "pull from $repo succeeded"
	fi
	grep -q "slipway: error: pulling" "$tmp/err" || fail "$repo: $(cat "$tmp/err")"
	# pulls are resumable: verified blobs may stay (prune collects them), but
	# every blob matches its name and the broken one is not there
	for b in $(blobs "$e"); do
		[ "sha256:$(sha256sum "$e/images/blobs/sha256/$b" | cut -d' ' -f1)" = "sha256:$b" ] ||
			fail "$repo: blob $b does not match its digest"
	done
	[ ! -e "$e/images/blobs/sha256/$biggest" ] || fail "$repo: the broken blob entered the store"
	[ -z "$(ls -A "$e/images/.tmp" 2>/dev/null)" ] || fail "$repo: temp files left"
	[ -z "$("$bin" --state-dir "$e" images -q)" ] || fail "$repo: an image was tagged"
done
grep -q "expected" "$tmp/err" || fail "wrong digest message: $(cat "$tmp/err")"
got=$("$bin" --state-dir "$e" pull --insecure "$freg/good/x:1" 2>"$tmp/err") || { cat "$tmp/err"; fail "pull from good"; }
[ "$got" = "$want" ] || fail "good pull gave $got"
got=$("$bin" --state-dir "$tmp/state6" pull --insecure "$freg/flaky/x:1" 2>"$tmp/err") || { cat "$tmp/err"; fail "flaky pull was not retried"; }
[ "$got" = "$want" ] || fail "flaky pull gave $got"
grep -q "retrying" "$tmp/err" || fail "flaky: no retry: $(cat "$tmp/err")"

if SLIPWAY_REGISTRY_AUTH= DOCKER_CONFIG="$tmp/nodocker" "$bin" --state-dir "$tmp/state7" pull --insecure "$freg/tokened/x:1" >/dev/null 2>"$tmp/err"; then
	fail "token pull without credentials succeeded"
fi
grep -q "authentication failed" "$tmp/err" || fail "token error: $(cat "$tmp/err")"
got=$(SLIPWAY_REGISTRY_AUTH=user:secret "$bin" --state-dir "$tmp/state7" pull --insecure "$freg/tokened/x:1" 2>"$tmp/err") ||
	{ cat "$tmp/err"; fail "token pull"; }
[ "$got" = "$want" ] || fail "token pull gave $got"
! grep -q "t0ken\|secret" "$tmp/err" || fail "a secret is in the output"
if SLIPWAY_REGISTRY_AUTH= DOCKER_CONFIG="$tmp/nodocker" "$bin" --state-dir "$tmp/state7" pull --insecure "$freg/basic/x:1" >/dev/null 2>"$tmp/err"; then
	fail "basic pull without credentials succeeded"
fi
grep -q "authentication required" "$tmp/err" || fail "basic error: $(cat "$tmp/err")"

step "usage errors"
set +e
"$bin" push >/dev/null 2>&1; [ $? -eq 2 ] || fail "push without arguments: want exit 2"
"$bin" pull a b c >/dev/null 2>&1; [ $? -eq 2 ] || fail "pull with three arguments: want exit 2"
sw pull --insecure "Bad Ref" >/dev/null 2>&1; [ $? -eq 1 ] || fail "pull of a bad reference: want exit 1"
set -e

echo "PASS"
