#!/bin/sh
# Integration test of the registry client's Bearer token flow against a real
# registry: Debian's docker-registry in token-auth mode on 127.0.0.1, with a
# small token server (token_server.py) that signs RS256 JWTs with a
# throwaway self-signed certificate (the registry's rootcertbundle).
# alice:secret gets pull and push; anonymous requests only pull; a wrong
# password gets 401 from the token server. Checks: push with credentials,
# skopeo sees the same digest, pull into an empty state dir, a wrong
# password fails without the password in the error, a push without
# credentials fails (no push scope).
#
# usage: registry_token.sh PATH/TO/slipway
# Exit 0 pass, 1 fail, 77 skipped (a tool is missing). Both servers are
# killed and the temp dir removed on exit, even on failure.
set -eu

bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
for tool in docker-registry skopeo python3 openssl curl; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed (scripts/install-deps installs it)"
		exit 77
	fi
done
if ! [ -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
	echo "SKIP: no static busybox (install busybox-static)"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-regtoken.XXXXXX")
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

fail() {
	echo "FAIL: $*" >&2
	if [ -s "$tmp/registry.log" ]; then
		echo "--- registry log (tail)" >&2
		tail -n 20 "$tmp/registry.log" >&2
	fi
	exit 1
}
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
digest_of() { python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

step "certificate and token server"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 2 \
	-subj /CN=slipway-test-token >/dev/null 2>&1 || fail "openssl could not make a certificate"
python3 "$here/token_server.py" "$tmp/tokenport" "$tmp/key.pem" "$tmp/cert.pem" slipway-test-issuer slipway-test \
	>"$tmp/token.log" 2>&1 &
pids="$pids $!"
i=0
until [ -s "$tmp/tokenport" ]; do i=$((i + 1)); [ $i -lt 100 ] || fail "token server did not start: $(cat "$tmp/token.log")"; sleep 0.1; done
tport=$(cat "$tmp/tokenport")
wait_http "http://127.0.0.1:$tport/token"

step "registry in token mode"
port=$(free_port)
reg=127.0.0.1:$port
cat >"$tmp/config.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $tmp/storage
http:
  addr: $reg
auth:
  token:
    realm: http://127.0.0.1:$tport/token
    service: slipway-test
    issuer: slipway-test-issuer
    rootcertbundle: $tmp/cert.pem
EOF
docker-registry serve "$tmp/config.yml" >"$tmp/registry.log" 2>&1 &
pids="$pids $!"
wait_http "http://$reg/v2/"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://$reg/v2/")
[ "$code" = 401 ] || fail "the registry is not in token mode: /v2/ answered $code"

step "base image"
st="$tmp/state"
sw() { "$bin" --state-dir "$st" "$@"; }
"$here/../../examples/base/busybox-rootfs.sh" "$tmp/rootfs" "$tmp/rootfs.tar" >/dev/null
sw image import --rootfs "$tmp/rootfs.tar" t/base:1 >/dev/null
want=$(sw image inspect -o json t/base:1 | digest_of digest)

step "push without credentials fails (anonymous gets no push scope)"
if SLIPWAY_REGISTRY_AUTH='' DOCKER_CONFIG="$tmp/nodocker" sw push --insecure t/base:1 "$reg/t/base:1" >/dev/null 2>"$tmp/err"; then
	fail "push without credentials succeeded"
fi
cat "$tmp/err"
grep -q "authentication failed (HTTP 401 on POST)" "$tmp/err" || fail "no-credentials error (want the upload POST refused after a pull-only token): $(cat "$tmp/err")"

step "push with a wrong password fails"
if SLIPWAY_REGISTRY_AUTH="$reg=alice:wrong-pw-x9" sw push --insecure t/base:1 "$reg/t/base:1" >/dev/null 2>"$tmp/err"; then
	fail "push with a wrong password succeeded"
fi
cat "$tmp/err"
grep -q "authentication failed" "$tmp/err" || fail "wrong-password error: $(cat "$tmp/err")"
grep -q "HTTP 401" "$tmp/err" || fail "wrong-password error does not say the token server answered 401: $(cat "$tmp/err")"
! grep -q "wrong-pw-x9" "$tmp/err" || fail "the password is in the error"

step "push with credentials"
got=$(SLIPWAY_REGISTRY_AUTH="$reg=alice:secret" sw push --insecure t/base:1 "$reg/t/base:1" 2>"$tmp/err") ||
	{ cat "$tmp/err"; fail "push with credentials"; }
[ "$got" = "$want" ] || fail "push printed $got, want $want"
! grep -q "secret\|Bearer\|eyJ" "$tmp/err" || fail "a secret is in the push output: $(cat "$tmp/err")"

step "skopeo sees it"
sk=$(skopeo inspect --tls-verify=false --creds alice:secret "docker://$reg/t/base:1" | digest_of Digest) ||
	fail "skopeo inspect"
[ "$sk" = "$want" ] || fail "skopeo sees $sk, want $want"

step "pull into an empty state dir"
st2="$tmp/state2"
got=$(SLIPWAY_REGISTRY_AUTH="$reg=alice:secret" "$bin" --state-dir "$st2" pull --insecure "$reg/t/base:1" 2>"$tmp/err") ||
	{ cat "$tmp/err"; fail "pull with credentials"; }
[ "$got" = "$want" ] || fail "pull gave $got, want $want"
got=$("$bin" --state-dir "$st2" image inspect -o json "$reg/t/base:1" | digest_of digest)
[ "$got" = "$want" ] || fail "the pulled image is $got, want $want"

echo "PASS"
