#!/bin/sh
# Integration test of the release stage through the real binary: a busybox
# base image imported with `image import --rootfs`, releases made from it,
# config changes (secrets masked in every output and absent from every blob
# and from the export), diff, lookups by vN and prefix, bad input, export and
# import into a fresh state dir (same ID), and examples/ci/pipeline.sh (its
# build step needs root: skipped with a message otherwise).
#
# usage: release.sh PATH/TO/slipway
# Exit 0 pass, 1 fail, 77 skipped (no static busybox).
set -eu

bin=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
if ! [ -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
	echo "SKIP: no static busybox (install busybox-static)"
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-release.XXXXXX")
trap 'status=$?; rm -rf "$tmp"; exit $status' EXIT
trap 'exit 1' INT TERM HUP

fail() { echo "FAIL: $*" >&2; exit 1; }
sw() { "$bin" --state-dir "$tmp/state" "$@"; }
# expect_fail WANT CMD...: exit 1 and stderr mentioning WANT
expect_fail() {
	want=$1; shift
	if out=$("$@" 2>&1); then fail "'$*' succeeded"; fi
	case $out in *"$want"*) ;; *) fail "'$*': '$out' does not mention '$want'" ;; esac
}
secret='Sup3r-S3cret-Zebra-42'
export SLIPWAY_ACTOR=release-test

"$src/examples/base/busybox-rootfs.sh" "$tmp/rootfs" "$tmp/base.tar" >/dev/null
sw image import --rootfs "$tmp/base.tar" slipway/busybox:1.35 >/dev/null
"$bin" --state-dir "$tmp/other" image import --rootfs "$tmp/base.tar" slipway/busybox:1.35 >/dev/null

# ---- release, show, lookups
printf 'web: httpd -f -p $PORT\nworker: sleep 3600\n' >"$tmp/Procfile"
printf '# app config\nexport PORT=8080\nGREETING="hello world"\n' >"$tmp/app.env"
printf 'kind: app\nname: shop\n' >"$tmp/slipway.yaml"
id1=$(sw release shop --image slipway/busybox:1.35 --env-file "$tmp/app.env" --procfile "$tmp/Procfile" \
	-f "$tmp/slipway.yaml" --note "first" -q)
case $id1 in sha256:????????????????????????????????????????????????????????????????) ;; *) fail "release -q printed '$id1'" ;; esac
# the same inputs in another state dir give the same ID
other=$("$bin" --state-dir "$tmp/other" release shop --image slipway/busybox:1.35 --env-file "$tmp/app.env" \
	--procfile "$tmp/Procfile" -f "$tmp/slipway.yaml" --note "first" -q)
[ "$other" = "$id1" ] || fail "same inputs gave $other and $id1"
sw release show shop v1 >"$tmp/show1"
grep -q "^release    v1 $id1\$" "$tmp/show1" || fail "show v1: $(cat "$tmp/show1")"
grep -q "GREETING=hello world" "$tmp/show1" || fail "show v1 lacks GREETING"
grep -q "worker: sleep 3600" "$tmp/show1" || fail "show v1 lacks the worker process"
grep -q "slipway.yaml sha256:" "$tmp/show1" || fail "show v1 lacks the deploy manifest"
prefix=$(echo "$id1" | cut -c8-15)
[ "$(sw release show shop "$prefix" -o json | grep -c "\"id\": \"$id1\"")" = 1 ] || fail "prefix lookup"

# ---- config changes: each one a new release
out=$(sw config set shop LOG_LEVEL=debug)
case $out in "shop v2 sha256:"*) ;; *) fail "config set printed '$out'" ;; esac
sw config set shop --secret "DB_PASSWORD=$secret" >"$tmp/out.set"
sw config unset shop LOG_LEVEL --note "quiet again" >"$tmp/out.unset"
grep -q "^shop v4 " "$tmp/out.unset" || fail "config unset: $(cat "$tmp/out.unset")"
sw config shop >"$tmp/out.config"
grep -qx 'DB_PASSWORD=\*\*\*\*' "$tmp/out.config" || fail "config: $(cat "$tmp/out.config")"
grep -q LOG_LEVEL "$tmp/out.config" && fail "LOG_LEVEL still set"
sw config shop -o json >"$tmp/out.configjson"
sw releases shop >"$tmp/out.releases"
[ "$(grep -c '^v[0-9]' "$tmp/out.releases")" = 4 ] || fail "releases: $(cat "$tmp/out.releases")"
grep -q '^v4 .* config .*quiet again' "$tmp/out.releases" || fail "releases lacks v4's reason and note"
[ "$(sw releases shop -n 2 | grep -c '^v')" = 2 ] || fail "releases -n 2"
sw releases shop -o json >"$tmp/out.releasesjson"
grep -q '"author": "release-test"' "$tmp/out.releasesjson" || fail "author from SLIPWAY_ACTOR"
for v in v1 v2 v3 v4; do sw release show shop $v >"$tmp/out.show.$v"; sw release show shop $v -o json >"$tmp/out.showjson.$v"; done
sw release diff shop v1 v4 >"$tmp/out.diff"
grep -q '^  + DB_PASSWORD: \*\*\*\*$' "$tmp/out.diff" || fail "diff: $(cat "$tmp/out.diff")"
sw release diff shop v2 v3 -o json >"$tmp/out.diffjson"
sw release diff shop v1 v2 >"$tmp/out.diff12"
grep -q '^  + LOG_LEVEL: debug$' "$tmp/out.diff12" || fail "diff v1 v2: $(cat "$tmp/out.diff12")"
# a secret changed: shown masked, marked changed
sw config set shop --secret "DB_PASSWORD=other-$secret" -q >/dev/null
sw release diff shop v4 v5 >"$tmp/out.diff45"
grep -q '^  ~ DB_PASSWORD: \*\*\*\* -> \*\*\*\*$' "$tmp/out.diff45" || fail "diff v4 v5: $(cat "$tmp/out.diff45")"

# ---- rollback: a new release with v2's config
rb=$(sw release rollback shop v2 --note "undo" -q)
sw releases shop -n 1 | grep -q "^v6 .* rollback .*undo" || fail "rollback: $(sw releases shop -n 1)"
sw config shop | grep -qx 'LOG_LEVEL=debug' || fail "rollback to v2 lacks LOG_LEVEL"
sw config shop | grep -q DB_PASSWORD && fail "rollback to v2 kept DB_PASSWORD"
sw release rollback shop v5 -q >/dev/null
sw config shop | grep -qx 'DB_PASSWORD=\*\*\*\*' || fail "rollback to v5 lacks the secret"
[ "$rb" != "$(sw release show shop v2 -o json | sed -n 's/^  "id": "\(.*\)",$/\1/p')" ] || fail "rollback reused v2's ID"

# ---- concurrent config changes: none lost (each retried from the new current release)
for i in 1 2 3 4 5; do sw config set shop "PAR_$i=$i" -q >"$tmp/par.$i" 2>&1 & done
wait
for i in 1 2 3 4 5; do grep -q '^sha256:' "$tmp/par.$i" || fail "concurrent config set $i: $(cat "$tmp/par.$i")"; done
[ "$(sw config shop | grep -c '^PAR_')" = 5 ] || fail "a concurrent config change was lost: $(sw config shop)"
sw config unset shop PAR_1 PAR_2 PAR_3 PAR_4 PAR_5 -q >/dev/null
nrel=$(sw releases shop | grep -c '^v')

# ---- a new build of the deploy manifest: config carries over, diff names the manifest
printf 'kind: app\nname: shop\nreplicas: 2\n' >"$tmp/slipway.yaml"
idman=$(sw release shop --image slipway/busybox:1.35 --procfile "$tmp/Procfile" -f "$tmp/slipway.yaml" -q)
sw release diff shop v1 "$idman" >"$tmp/out.diffman"
grep -q '^  ~ slipway.yaml: sha256:.* -> sha256:' "$tmp/out.diffman" || fail "manifest diff: $(cat "$tmp/out.diffman")"
sw config shop | grep -qx 'GREETING=hello world' || fail "a new release lost the config"
nrel=$((nrel + 1))

# ---- bad input
expect_fail "app 'nope' has no releases" sw releases nope
expect_fail "app 'nope' has no releases" sw config nope
expect_fail "has no release v99" sw release show shop v99
expect_fail "has no release 0000000" sw release show shop 0000000
expect_fail "neither vN nor a release ID" sw release show shop abc
expect_fail "image 'missing:1' not found" sw release shop --image missing:1
printf 'A=1\nB=2\nnot a pair\n' >"$tmp/bad.env"
expect_fail "bad.env:3: expected KEY=VALUE" sw release shop --image slipway/busybox:1.35 --env-file "$tmp/bad.env"
printf 'web: ok\nbroken line\n' >"$tmp/bad.Procfile"
expect_fail "bad.Procfile:2: expected 'name: command'" sw release shop --image slipway/busybox:1.35 --procfile "$tmp/bad.Procfile"
expect_fail "invalid config key '9LIVES'" sw config set shop 9LIVES=x
expect_fail "invalid app name" sw release Bad_App --image slipway/busybox:1.35
st=0; sw release shop --image slipway/busybox:1.35 --frob >/dev/null 2>&1 || st=$?
[ "$st" = 2 ] || fail "unknown flag exited $st"
[ "$(sw releases shop | grep -c '^v')" = "$nrel" ] || fail "failed releases left rows"

# ---- the store: releases are not images, prune keeps them
sw images >"$tmp/out.images"
grep -q slipway-release "$tmp/out.images" && fail "images lists releases: $(cat "$tmp/out.images")"
sw image prune >/dev/null
sw release show shop v1 >/dev/null || fail "prune removed release v1"
# removing the image's own tag keeps what a release pins
"$bin" --state-dir "$tmp/pin" image import --rootfs "$tmp/base.tar" pinned:1 >/dev/null
"$bin" --state-dir "$tmp/pin" release pinapp --image pinned:1 -q >/dev/null
"$bin" --state-dir "$tmp/pin" image rm pinned:1 >/dev/null
"$bin" --state-dir "$tmp/pin" image prune >/dev/null
"$bin" --state-dir "$tmp/pin" release export pinapp v1 "$tmp/pin.tar" >/dev/null || fail "export after image rm"
[ "$("$bin" --state-dir "$tmp/pin" images -q | wc -l)" = 0 ] || fail "images shows a release pin"
# removing by digest drops the user's tags but keeps the release's pins (and says so)
"$bin" --state-dir "$tmp/pin2" image import --rootfs "$tmp/base.tar" pinned:2 >/dev/null
"$bin" --state-dir "$tmp/pin2" release pinapp --image pinned:2 -q >/dev/null
pdigest=$("$bin" --state-dir "$tmp/pin2" release show pinapp v1 -o json | sed -n 's/^  "image": "\(sha256:[0-9a-f]*\)",$/\1/p')
[ -n "$pdigest" ] || fail "no image digest in release show -o json"
"$bin" --state-dir "$tmp/pin2" image rm "$pdigest" >"$tmp/out.rmdigest" || fail "image rm by digest"
grep -q "^untagged: pinned:2\$" "$tmp/out.rmdigest" || fail "image rm by digest: $(cat "$tmp/out.rmdigest")"
grep -q "^kept: slipway-release/pinapp:v1-image " "$tmp/out.rmdigest" || fail "image rm by digest: $(cat "$tmp/out.rmdigest")"
grep -q "^deleted:" "$tmp/out.rmdigest" && fail "image rm by digest deleted a pinned manifest"
"$bin" --state-dir "$tmp/pin2" image prune >/dev/null
"$bin" --state-dir "$tmp/pin2" image inspect "$pdigest" >/dev/null || fail "the release's image went with image rm <digest>"
"$bin" --state-dir "$tmp/pin2" release export pinapp v1 "$tmp/pin2.tar" >/dev/null || fail "export after image rm <digest>"
"$bin" --state-dir "$tmp/pin2" release show pinapp v1 >/dev/null || fail "release show after image rm <digest>"

# ---- export / import
sw release export shop v5 "$tmp/shop.tar" >"$tmp/out.export"
id5=$(sw release show shop v5 -o json | sed -n 's/^  "id": "\(.*\)",$/\1/p')
[ "$(cat "$tmp/out.export")" = "$id5" ] || fail "export printed $(cat "$tmp/out.export"), want $id5"
imported=$("$bin" --state-dir "$tmp/fresh" release import -q "$tmp/shop.tar")
[ "$imported" = "$id5" ] || fail "import gave $imported, want $id5"
"$bin" --state-dir "$tmp/fresh" releases shop >"$tmp/out.fresh"
grep -q '^v1 .* import ' "$tmp/out.fresh" || fail "fresh history: $(cat "$tmp/out.fresh")"
"$bin" --state-dir "$tmp/fresh" release show shop "$(echo "$id5" | cut -c8-20)" >"$tmp/out.freshshow"
grep -q "^release    v1 $id5\$" "$tmp/out.freshshow" || fail "fresh show: $(cat "$tmp/out.freshshow")"
grep -q 'DB_PASSWORD=\*\*\*\*' "$tmp/out.freshshow" || fail "fresh show lacks the masked secret"
# an import adds and moves no tag of the importing store (the image is pinned by the release)
[ -z "$("$bin" --state-dir "$tmp/fresh" images -q)" ] || fail "import added images: $("$bin" --state-dir "$tmp/fresh" images)"
"$bin" --state-dir "$tmp/fresh2" image import --rootfs "$tmp/base.tar" mine:1 >/dev/null
before=$("$bin" --state-dir "$tmp/fresh2" images)
[ "$("$bin" --state-dir "$tmp/fresh2" release import -q "$tmp/shop.tar")" = "$id5" ] || fail "import into fresh2"
[ "$("$bin" --state-dir "$tmp/fresh2" images)" = "$before" ] || fail "import changed the tags: $("$bin" --state-dir "$tmp/fresh2" images)"
"$bin" --state-dir "$tmp/fresh2" image prune >/dev/null
"$bin" --state-dir "$tmp/fresh2" release export shop v1 "$tmp/again.tar" >/dev/null
cmp -s "$tmp/shop.tar" "$tmp/again.tar" || fail "re-export after import differs"
# the same release exported twice gives the same file
sw release export shop "$id5" "$tmp/shop2.tar" >/dev/null
cmp -s "$tmp/shop.tar" "$tmp/shop2.tar" || fail "two exports differ"
printf 'not a tar' >"$tmp/junk.tar"
expect_fail "junk.tar" "$bin" --state-dir "$tmp/fresh" release import "$tmp/junk.tar"

# ---- the secret is nowhere but the release index
for f in "$tmp"/out.*; do
	grep -q -- "$secret" "$f" && fail "$(basename "$f") shows the secret"
done
grep -rqa -- "$secret" "$tmp/state/images" && fail "a blob of the store holds the secret"
grep -qa -- "$secret" "$tmp/shop.tar" && fail "the export holds the secret"
[ "$(stat -c %a "$tmp/state/releases.db")" = 600 ] || fail "releases.db is not 0600"

# ---- the CI example: build, release, export as separate steps
if [ "$(id -u)" -ne 0 ] || ! command -v runc >/dev/null 2>&1; then
	echo "SKIP part: examples/ci/pipeline.sh builds an image (needs root and runc)"
else
	out=$(SLIPWAY="$bin" SLIPWAY_HOME="$tmp/ci-state" WORK="$tmp/ci-work" TMPDIR="$tmp" \
		"$src/examples/ci/pipeline.sh" 2>&1) || fail "pipeline.sh: $out"
	want=$(cat "$tmp/ci-work/release.id")
	echo "$out" | grep -q "verify: a fresh state dir has release $want" || fail "pipeline.sh: $out"
fi
echo "PASS"
