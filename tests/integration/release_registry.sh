#!/bin/sh
# Integration test of `slipway release push/pull` against a real registry
# (Debian's docker-registry on 127.0.0.1, temp storage dir): a busybox base
# image, a release and a config change (v2, with a secret), v2 pushed as an
# OCI artifact manifest (skopeo sees artifactType and subject, and no secret
# value anywhere in the registry), pulled into a fresh state dir with the
# same ID, `release show` works there and the image is in the store; a
# second pull registers nothing new; bad input exits 2.
#
# usage: release_registry.sh PATH/TO/slipway
# Exit 0 pass, 1 fail, 77 skipped (a tool is missing). The registry is
# killed and the temp dir removed on exit, even on failure.
set -eu

bin=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
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

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-release-registry.XXXXXX")
pid=""
cleanup() {
	status=$?
	if [ -n "$pid" ]; then
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "--- $*"; }
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
secret='Pu5hed-N0t-Zebra-77'
export SLIPWAY_ACTOR=release-registry-test

step "registry"
port=$(free_port)
reg=127.0.0.1:$port
mkdir -p "$tmp/registry"
cat >"$tmp/registry/config.yml" <<EOC
version: 0.1
log:
  level: error
storage:
  filesystem:
    rootdirectory: $tmp/registry/storage
http:
  addr: $reg
EOC
docker-registry serve "$tmp/registry/config.yml" >"$tmp/registry/log" 2>&1 &
pid=$!
i=0
until curl -s -o /dev/null "http://$reg/v2/"; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "the registry does not answer: $(cat "$tmp/registry/log")"
	sleep 0.1
done

st="$tmp/state"
sw() { "$bin" --state-dir "$st" "$@"; }

step "base image and releases"
"$src/examples/base/busybox-rootfs.sh" "$tmp/rootfs" "$tmp/base.tar" >/dev/null
sw image import --rootfs "$tmp/base.tar" slipway/busybox:1 >/dev/null
image=$(sw image inspect -o json slipway/busybox:1 | json 'd["digest"]')
sw release web --image slipway/busybox:1 -q >/dev/null
sw config set web GREETING=hello >/dev/null
sw config set web --secret "API_KEY=$secret" >/dev/null
id=$(sw release show web v3 -o json | json 'd["id"]')

step "push v3"
dest="$reg/apps/web:v3"
got=$(sw release push web v3 "$dest" --insecure 2>"$tmp/err") || { cat "$tmp/err"; fail "release push"; }
[ "$got" = "$id" ] || fail "release push printed $got, want $id"
grep -q "pushed web v3 to $dest" "$tmp/err" || fail "release push: $(cat "$tmp/err")"
got=$(sw release push -q web "$id" "$dest" --insecure 2>"$tmp/err") || { cat "$tmp/err"; fail "release push by ID"; }
[ "$got" = "$id" ] || fail "release push by ID printed $got"
[ ! -s "$tmp/err" ] || fail "release push -q wrote to stderr: $(cat "$tmp/err")"

step "skopeo sees the artifact"
skopeo inspect --tls-verify=false --raw "docker://$dest" >"$tmp/raw.json"
rawid="sha256:$(sha256sum <"$tmp/raw.json" | cut -d' ' -f1)"
[ "$rawid" = "$id" ] || fail "the registry holds $rawid, want the release ID $id"
[ "$(json 'd["artifactType"]' <"$tmp/raw.json")" = "application/vnd.slipway.release.v1+json" ] ||
	fail "artifactType: $(cat "$tmp/raw.json")"
[ "$(json 'd["subject"]["digest"]' <"$tmp/raw.json")" = "$image" ] || fail "subject: $(cat "$tmp/raw.json")"
[ "$(json 'd["config"]["mediaType"]' <"$tmp/raw.json")" = "application/vnd.slipway.release.v1+json" ] ||
	fail "config media type: $(cat "$tmp/raw.json")"
skopeo inspect --tls-verify=false --raw "docker://$reg/apps/web@$image" >/dev/null || fail "the image is not in the registry"
if grep -rq "$secret" "$tmp/registry/storage"; then fail "a secret value reached the registry"; fi

step "pull into a fresh state dir"
st2="$tmp/state2"
sw2() { "$bin" --state-dir "$st2" "$@"; }
out=$(sw2 release pull "$dest" --insecure 2>"$tmp/err") || { cat "$tmp/err"; fail "release pull"; }
[ "$out" = "web v1 $id" ] || fail "release pull printed '$out', want 'web v1 $id'"
sw2 releases web >"$tmp/list"
grep -q "^v1 .* $(echo "$id" | cut -c8-19) .*import" "$tmp/list" || fail "releases: $(cat "$tmp/list")"
[ "$(sw2 releases web -o json | json 'd[0]["id"]')" = "$id" ] || fail "releases -o json: another ID"
sw2 release show web v1 >"$tmp/show" || fail "release show after pull"
grep -q "^release    v1 $id\$" "$tmp/show" || fail "show: $(cat "$tmp/show")"
grep -q "GREETING=hello" "$tmp/show" || fail "show lacks GREETING: $(cat "$tmp/show")"
grep -q "API_KEY=\*\*\*\*" "$tmp/show" || fail "show lacks the masked secret: $(cat "$tmp/show")"
sw2 image inspect "$image" >/dev/null || fail "the release's image is not in the fresh store"
[ "$(sw2 release show web v1 -o json | json 'd["image"]')" = "$image" ] || fail "the pulled release's image"
sw2 images >"$tmp/images"
if grep -q "slipway-release/" "$tmp/images"; then fail "images lists release tags: $(cat "$tmp/images")"; fi

step "pull again: registered once; pull by digest"
out=$(sw2 release pull -q --insecure "$dest" 2>/dev/null) || fail "second release pull"
[ "$out" = "$id" ] || fail "second pull printed '$out'"
out=$(sw2 release pull -q --insecure "$reg/apps/web@$id" 2>/dev/null) || fail "pull by digest"
[ "$out" = "$id" ] || fail "pull by digest printed '$out'"
[ "$(sw2 releases web -o json | json 'len(d)')" = 1 ] || fail "pulling twice made two releases"
# a later change on the pulling side builds on the pulled release
sw2 config set web MORE=1 >/dev/null || fail "config set after pull"
[ "$(sw2 release show web v2 -o json | json 'd["parent"]')" = "$id" ] || fail "v2's parent is not the pulled release"

step "a plain image is not a release"
sw push --insecure -q slipway/busybox:1 "$reg/plain/busybox:1" >/dev/null 2>&1 || fail "image push"
if sw2 release pull -q --insecure "$reg/plain/busybox:1" >/dev/null 2>"$tmp/err"; then
	fail "pulling an image as a release succeeded"
fi
grep -q "not a slipway release" "$tmp/err" || fail "image as release: $(cat "$tmp/err")"

step "bad input"
usage() { # want CMD...: exit 2
	set +e
	"$@" >/dev/null 2>&1
	rc=$?
	set -e
	[ $rc = 2 ] || fail "'$*' exited $rc, want 2"
}
usage sw release push web v3
usage sw release push web v3 "$dest" extra
usage sw release push --nope web v3 "$dest"
usage sw release pull
usage sw release pull a b
usage sw release pull --nope "$dest"
sw release push --help | grep -q "^usage: slipway release push" || fail "release push --help"
sw release pull --help | grep -q "^usage: slipway release pull" || fail "release pull --help"
sw release --help | grep -q "^  push " || fail "release usage lacks push"
sw release --help | grep -q "^  pull " || fail "release usage lacks pull"
if sw release push web v9 "$dest" --insecure >/dev/null 2>"$tmp/err"; then fail "push of a missing release"; fi
if sw release push nosuch v1 "$dest" --insecure >/dev/null 2>&1; then fail "push of an unknown app"; fi
if sw2 release pull --insecure "$reg/apps/web:nope" >/dev/null 2>&1; then fail "pull of a missing tag"; fi
echo "PASS"
