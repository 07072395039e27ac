#!/bin/sh
# Integration test of `slipway build git:REPO#REF[:SUBDIR]` (as root): a real
# repository made here with git (fixed author, dates), built by branch,
# file:// URL + SHA, abbreviated SHA, tag and subfolder; the manifest's
# annotations (revision, source, author, message); the same digest in two
# fresh state dirs; the context is the commit, not the work tree; a dirty
# work-tree folder is marked dirty, a clean one is not, a folder outside git
# gets no annotations; .dockerignore and -f from the tree; a submodule is
# skipped with a warning; unknown ref, missing folder, not a repository.
#
# usage: build_git.sh PATH/TO/slipway
# Exit 0 pass, 1 fail, 77 skipped. Mounts, runc state and temp dirs are
# removed on exit, even on failure.
set -eu

bin=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (overlayfs, runc)"
	exit 77
fi
for tool in git runc tar python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed (scripts/install-deps installs it)"
		exit 77
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-build-git.XXXXXX")
cleanup() {
	status=$?
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

if ! "$src/examples/base/busybox-rootfs.sh" "$tmp/rootfs" "$tmp/rootfs.tar" >/dev/null 2>&1; then
	echo "SKIP: no static busybox (install busybox-static)"
	exit 77
fi
sw() { st=$1; shift; "$bin" --state-dir "$st" "$@"; }
newstate() {
	mkdir -p "$1"
	sw "$1" image import --rootfs "$tmp/rootfs.tar" slipway/busybox:1.35 >/dev/null
}

# annotation KEY of image REF in state ST ("" when absent)
annot() {
	sw "$1" image inspect -o json "$2" | python3 -c '
import json, sys
m = json.load(sys.stdin)["manifest"]
print(m.get("annotations", {}).get(sys.argv[1], ""))' "$3"
}
# file FILE of image REF in state ST, through its layers
image_file() {
	st=$1 ref=$2 file=$3
	rm -rf "$tmp/unpack"
	mkdir -p "$tmp/unpack"
	python3 - "$st" "$ref" "$tmp/unpack" "$bin" <<'PY'
import json, subprocess, sys, tarfile
st, ref, dest, binp = sys.argv[1:5]
m = json.loads(subprocess.check_output([binp, "--state-dir", st, "image", "inspect", "-o", "json", ref]))["manifest"]
for l in m["layers"]:
    h = l["digest"].split(":")[1]
    with tarfile.open(f"{st}/images/blobs/sha256/{h}") as t:
        if hasattr(tarfile, "data_filter"):
            t.extractall(dest, filter="fully_trusted")
        else:
            t.extractall(dest)
PY
	cat "$tmp/unpack/$file"
}

# ---- a repository ----------------------------------------------------------
export GIT_AUTHOR_NAME="Ada Lovelace" GIT_AUTHOR_EMAIL="ada@example.com"
export GIT_COMMITTER_NAME="Ada Lovelace" GIT_COMMITTER_EMAIL="ada@example.com"
export GIT_AUTHOR_DATE="2026-01-02T03:04:05Z" GIT_COMMITTER_DATE="2026-01-02T03:04:05Z"
export GIT_CONFIG_NOSYSTEM=1 HOME="$tmp/home"
mkdir -p "$HOME"
repo=$tmp/repo
git init -q -b main "$repo"
git -C "$repo" config user.name "Ada Lovelace"
git -C "$repo" config user.email ada@example.com
cp "$src/examples/multistage/Dockerfile" "$src/examples/multistage/greeting.txt" "$repo/"
printf 'secret.txt\n' >"$repo/.dockerignore"
echo "do not ship" >"$repo/secret.txt"
mkdir -p "$repo/sub/tools"
cat >"$repo/sub/Dockerfile" <<'EOF'
FROM slipway/busybox:1.35
COPY . /app
CMD ["ls", "/app"]
EOF
printf '#!/bin/sh\necho tool\n' >"$repo/sub/tools/run.sh"
chmod 755 "$repo/sub/tools/run.sh"
ln -s tools/run.sh "$repo/sub/link"
cat >"$repo/alt.Dockerfile" <<'EOF'
FROM slipway/busybox:1.35
COPY greeting.txt /alt.txt
EOF
git -C "$repo" add -A
git -C "$repo" commit -q -m "first: multistage example

with a body that is not in the annotation"
git -C "$repo" tag v1
sha1=$(git -C "$repo" rev-parse HEAD)
echo "second" >>"$repo/greeting.txt"
git -C "$repo" commit -q -am "second"
sha2=$(git -C "$repo" rev-parse HEAD)
# a later change in the work tree: never in a git: build
echo "uncommitted" >>"$repo/greeting.txt"

newstate "$tmp/a"
newstate "$tmp/b"

step "git:REPO#main"
d_main=$(sw "$tmp/a" build -q "git:$repo#main") || fail "build git:$repo#main"
[ "$(annot "$tmp/a" "$d_main" org.opencontainers.image.revision)" = "$sha2" ] || fail "revision is not $sha2"
[ "$(annot "$tmp/a" "$d_main" org.opencontainers.image.source)" = "$repo" ] || fail "source is not $repo"
[ "$(annot "$tmp/a" "$d_main" dev.slipway.git.author)" = "Ada Lovelace <ada@example.com>" ] || fail "author"
[ "$(annot "$tmp/a" "$d_main" dev.slipway.git.message)" = "second" ] || fail "message"
[ -z "$(annot "$tmp/a" "$d_main" dev.slipway.git.dirty)" ] || fail "a git: build is never dirty"
got=$(image_file "$tmp/a" "$d_main" VERSION)
[ "$got" = "$(printf 'version 1.0.0\n%s' "$(git -C "$repo" show main:greeting.txt)")" ] ||
	fail "VERSION is not the commit's: $got"
echo "$got" | grep -q uncommitted && fail "an uncommitted change reached the git: build"
[ -z "$(ls "$tmp/a/build" | grep '^git-' || true)" ] || fail "temp context left in STATE/build"

step "same commit, fresh state dir: same digest"
d_main_b=$(sw "$tmp/b" build -q "git:$repo#main") || fail "build in b"
[ "$d_main" = "$d_main_b" ] || fail "digests differ: $d_main $d_main_b"

step "git:file://REPO#SHA, abbreviated SHA, tag"
d_sha=$(sw "$tmp/a" build -q "git:file://$repo#$sha1") || fail "build by sha"
[ "$(annot "$tmp/a" "$d_sha" org.opencontainers.image.revision)" = "$sha1" ] || fail "revision by sha"
[ "$(annot "$tmp/a" "$d_sha" org.opencontainers.image.source)" = "file://$repo" ] || fail "source by url"
[ "$(annot "$tmp/a" "$d_sha" dev.slipway.git.message)" = "first: multistage example" ] || fail "first line only"
short=$(echo "$sha1" | cut -c1-8)
d_short=$(sw "$tmp/a" build -q "git:$repo#$short") || fail "build by short sha"
d_tag=$(sw "$tmp/b" build -q "git:$repo#v1") || fail "build by tag"
[ "$(annot "$tmp/b" "$d_tag" org.opencontainers.image.revision)" = "$sha1" ] || fail "revision by tag"
image_file "$tmp/a" "$d_sha" VERSION | grep -q second && fail "sha1 build has the second commit"
# the image is the same whichever name the commit had, except the source
[ "$d_sha" != "$d_main" ] || fail "two commits, one digest"
[ "$(sw "$tmp/a" image inspect -o json "$d_short" | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest"]["config"]["digest"])')" = \
  "$(sw "$tmp/b" image inspect -o json "$d_tag" | python3 -c 'import json,sys; print(json.load(sys.stdin)["manifest"]["config"]["digest"])')" ] ||
	fail "short sha and tag give different configs"

step "git:REPO#main:sub, modes and symlinks, .dockerignore, -f"
d_sub=$(sw "$tmp/a" build -q "git:$repo#main:sub") || fail "build subdir"
tar_list=$(python3 - "$tmp/a" "$d_sub" "$bin" <<'PY'
import json, subprocess, sys, tarfile
st, ref, binp = sys.argv[1:4]
m = json.loads(subprocess.check_output([binp, "--state-dir", st, "image", "inspect", "-o", "json", ref]))["manifest"]
h = m["layers"][-1]["digest"].split(":")[1]
with tarfile.open(f"{st}/images/blobs/sha256/{h}") as t:
    for i in t.getmembers():
        print(i.name.rstrip("/"), oct(i.mode), i.linkname)
PY
)
echo "$tar_list" | grep -q "app/tools/run.sh 0o755" || fail "executable mode lost: $tar_list"
echo "$tar_list" | grep -q "app/Dockerfile 0o644" || fail "file mode: $tar_list"
echo "$tar_list" | grep -q "app/link 0o777 tools/run.sh" || fail "symlink: $tar_list"
echo "$tar_list" | grep -q "app/greeting.txt" && fail "subdir build has the parent's files"
d_ign=$(sw "$tmp/a" build -q --target builder "git:$repo#main") || fail "build --target builder"
python3 - "$tmp/a" "$d_ign" "$bin" <<'PY' || fail ".dockerignore not applied"
import json, subprocess, sys, tarfile
st, ref, binp = sys.argv[1:4]
m = json.loads(subprocess.check_output([binp, "--state-dir", st, "image", "inspect", "-o", "json", ref]))["manifest"]
for l in m["layers"]:
    with tarfile.open(f"{st}/images/blobs/sha256/{l['digest'].split(':')[1]}") as t:
        if any(n.endswith("secret.txt") for n in t.getnames()):
            sys.exit(1)
PY
d_alt=$(sw "$tmp/a" build -q -f alt.Dockerfile "git:$repo#main") || fail "build -f alt.Dockerfile"
image_file "$tmp/a" "$d_alt" alt.txt | grep -q second || fail "-f from the tree"
sw "$tmp/a" build -q -f ../x "git:$repo" >/dev/null 2>&1 && fail "-f outside the context accepted"

step "a submodule is skipped with a warning"
git init -q -b main "$tmp/subrepo"
echo x >"$tmp/subrepo/x"
git -C "$tmp/subrepo" add x
git -C "$tmp/subrepo" commit -q -m x
git -C "$repo" -c protocol.file.allow=always submodule --quiet add "$tmp/subrepo" mod >/dev/null 2>&1 ||
	fail "git submodule add"
git -C "$repo" commit -q -m "with a submodule" -- .gitmodules mod
sw "$tmp/a" build --progress plain "git:$repo#main:" >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "build with a submodule"; }
grep -q "warning: mod: skipping a submodule" "$tmp/out" || { cat "$tmp/out"; fail "no submodule warning"; }

step "dirty and clean work-tree folders; a folder outside git"
sw "$tmp/a" build -q "$repo" >"$tmp/d" || fail "build the work tree"
d_dirty=$(cat "$tmp/d")
[ "$(annot "$tmp/a" "$d_dirty" dev.slipway.git.dirty)" = "true" ] || fail "dirty work tree not marked"
head=$(git -C "$repo" rev-parse HEAD)
[ "$(annot "$tmp/a" "$d_dirty" org.opencontainers.image.revision)" = "$head" ] || fail "dirty revision"
image_file "$tmp/a" "$d_dirty" VERSION | grep -q uncommitted || fail "the folder build lost the uncommitted change"
git -C "$repo" checkout -q -- greeting.txt
d_clean=$(sw "$tmp/a" build -q "$repo/sub") || fail "build a clean subfolder"
[ -z "$(annot "$tmp/a" "$d_clean" dev.slipway.git.dirty)" ] || fail "clean folder marked dirty"
[ "$(annot "$tmp/a" "$d_clean" org.opencontainers.image.revision)" = "$head" ] || fail "clean revision"
echo ignored >"$repo/sub/.gitignore" && git -C "$repo" add sub/.gitignore && git -C "$repo" commit -q -m ignore
echo junk >"$repo/sub/ignored"
d_ig=$(sw "$tmp/a" build -q "$repo/sub") || fail "build with an ignored file"
[ -z "$(annot "$tmp/a" "$d_ig" dev.slipway.git.dirty)" ] || fail "ignored files made the folder dirty"
mkdir -p "$tmp/plain"
cp "$src/examples/multistage/Dockerfile" "$src/examples/multistage/greeting.txt" "$tmp/plain/"
d_plain=$(sw "$tmp/a" build -q "$tmp/plain") || fail "build a plain folder"
sw "$tmp/a" image inspect -o json "$d_plain" | python3 -c '
import json, sys; sys.exit("annotations" in json.load(sys.stdin)["manifest"])' || fail "plain folder got annotations"

step "a hostile tree: '..' names and a symlink shadowing a folder are refused"
hostile=$tmp/hostile
git init -q -b main "$hostile"
blob=$(echo pwned | git -C "$hostile" hash-object -w --stdin)
df=$(printf 'FROM scratch\nCOPY . /\n' | git -C "$hostile" hash-object -w --stdin)
link=$(printf '%s' "$tmp/outside" | git -C "$hostile" hash-object -w --stdin)
mkdir -p "$tmp/outside"
inner=$(printf '100644 blob %s\tx\n' "$blob" | git -C "$hostile" mktree)
t_dots=$(printf '100644 blob %s\tDockerfile\n100644 blob %s\t..\n' "$df" "$blob" | git -C "$hostile" mktree)
t_shadow=$(printf '100644 blob %s\tDockerfile\n120000 blob %s\ta\n040000 tree %s\ta\n' "$df" "$link" "$inner" |
	git -C "$hostile" mktree)
for t in "$t_dots" "$t_shadow"; do
	c=$(git -C "$hostile" commit-tree -m hostile "$t")
	if sw "$tmp/a" build -q "git:$hostile#$c" >/dev/null 2>"$tmp/err"; then fail "hostile tree $t built"; fi
	cat "$tmp/err"
done
[ -z "$(ls -A "$tmp/outside")" ] || fail "a hostile tree wrote outside its context"
[ ! -e "$tmp/a/build/pwned" ] && [ ! -e "$tmp/a/pwned" ] || fail "a hostile tree wrote '..'"

step "errors"
for bad in "git:$repo#nosuchref" "git:$repo#main:nosuchdir" "git:$tmp/plain#main"; do
	if sw "$tmp/a" build -q "$bad" >/dev/null 2>"$tmp/err"; then fail "$bad built"; fi
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || { cat "$tmp/err"; fail "$bad: not one line"; }
	cat "$tmp/err"
done
sw "$tmp/a" build -q "git:$repo#nosuchref" 2>&1 | grep -q "unknown ref 'nosuchref'" || fail "unknown ref message"
sw "$tmp/a" build -q "git:$repo#main:nosuchdir" 2>&1 | grep -q "no folder 'nosuchdir'" || fail "missing folder message"
sw "$tmp/a" build -q "git:$tmp/plain" 2>&1 | grep -q "not a git repository" || fail "not a repository message"
set +e
sw "$tmp/a" build -q "git:$repo#nosuchref" >/dev/null 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "unknown ref: exit $rc, expected 1"
[ -z "$(ls "$tmp/a/build" | grep '^git-' || true)" ] || fail "temp context left after a failure"

echo "PASS"
