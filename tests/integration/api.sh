#!/bin/sh
# Integration test of slipwayd's API server: a daemon on a temp state dir,
# driven with curl over its Unix socket and over TCP (bearer tokens):
# discovery, create/get/list/update with a stale resourceVersion (409),
# the three patch types, /status and /scale, delete, label and field
# selectors, list paging, watch streams (a background curl collecting
# events, resourceVersion replay, 410 for a too old one), the error bodies
# (400 not JSON, 413 too large, 415, 404, 405, 401), socket mode 0600, the
# state dir lock, pod logs from the CRI files, and a clean stop on SIGTERM.
#
# usage: api.sh PATH/TO/slipwayd
# Exit 0 pass, 1 fail, 77 skipped (a tool is missing). The daemon and the
# background curls are killed and the temp dir removed on exit.
set -eu

bin=$(realpath "$1")
for tool in curl jq; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed"
		exit 77
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-api.XXXXXX")
pids=""
cleanup() {
	status=$?
	for p in $pids; do
		kill "$p" 2>/dev/null || true
	done
	for p in $pids; do
		wait "$p" 2>/dev/null || true
	done
	if [ $status -ne 0 ] && [ -f "$tmp/daemon.log" ]; then
		echo "--- daemon log"
		tail -n 40 "$tmp/daemon.log"
	fi
	# slipway-proxy outlives slipwayd on purpose: end the one of this state dir
	if [ -f "$tmp/state/proxy/proxy.pid" ]; then
		kill -9 "$(cut -d' ' -f1 "$tmp/state/proxy/proxy.pid")" 2>/dev/null || true
	fi
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT INT TERM

fail() {
	echo "FAIL: $*"
	exit 1
}

state=$tmp/state
sock=$state/slipwayd.sock

start_daemon() {
	"$bin" --state-dir "$state" --listen tcp://127.0.0.1:0 --log-level debug \
		>"$tmp/daemon.log" 2>&1 &
	daemon=$!
	pids="$pids $daemon"
	i=0
	while ! grep -q 'listening on http://' "$tmp/daemon.log"; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "slipwayd did not start"
		kill -0 "$daemon" 2>/dev/null || fail "slipwayd exited"
		sleep 0.05
	done
	port=$(sed -n 's|.*listening on http://127.0.0.1:\([0-9]*\).*|\1|p' "$tmp/daemon.log" | tail -n 1)
}

# req METHOD PATH [BODY [CONTENT-TYPE]]: body to $tmp/body, prints the code
req() {
	if [ $# -ge 3 ]; then
		curl -s --unix-socket "$sock" -X "$1" -H "Content-Type: ${4:-application/json}" \
			--data-binary "$3" -o "$tmp/body" -w '%{http_code}' "http://localhost$2"
	else
		curl -s --unix-socket "$sock" -X "$1" -o "$tmp/body" -w '%{http_code}' \
			"http://localhost$2"
	fi
}

# expect CODE METHOD PATH [BODY [CT]]
expect() {
	want=$1
	shift
	got=$(req "$@")
	[ "$got" = "$want" ] || fail "$1 $2: want $want, got $got: $(cat "$tmp/body")"
}

field() {
	jq -r "$1" "$tmp/body"
}

start_daemon

# ---- socket and lock
mode=$(stat -c %a "$sock")
[ "$mode" = 600 ] || fail "socket mode $mode, want 600"
if "$bin" --state-dir "$state" >"$tmp/second.log" 2>&1; then
	fail "a second slipwayd started on the same state dir"
fi
grep -q "another slipwayd" "$tmp/second.log" || fail "second daemon: $(cat "$tmp/second.log")"
[ -S "$sock" ] || fail "the second daemon removed the first one's socket"

# ---- discovery
expect 200 GET /version
[ "$(field .major).$(field .minor)" = 1.32 ] || fail "version $(cat "$tmp/body")"
expect 200 GET /api
[ "$(field .kind)" = APIVersions ] || fail "/api kind"
expect 200 GET /apis
field '.groups[].name' | grep -qx apps || fail "/apis lacks apps"
expect 200 GET /apis/apps/v1
field '.resources[].name' | grep -qx deployments/scale || fail "no deployments/scale"
expect 200 GET /api/v1
[ "$(field '.resources[] | select(.name=="pods") | .shortNames[0]')" = po ] || fail "pods short name"
expect 200 GET /healthz
expect 404 GET /api/v1/widgets
[ "$(field .reason)" = NotFound ] || fail "404 reason"
expect 404 GET /openapi/v2
expect 200 GET /openapi/v3
[ "$(field '.paths["apis/apps/v1"].serverRelativeURL')" != null ] || fail "openapi v3 index"
expect 200 GET /openapi/v3/apis/apps/v1
field '.paths["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"].patch.parameters[].name' |
	grep -qx fieldValidation || fail "openapi v3 deployments patch"

# ---- create, get, conflict, update
dep='{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{"app":"web"}},
 "spec":{"replicas":1,"selector":{"matchLabels":{"app":"web"}},
 "template":{"metadata":{"labels":{"app":"web"}},"spec":{"containers":[{"name":"web","image":"hello:latest"}]}}}}'
expect 201 POST /apis/apps/v1/namespaces/default/deployments "$dep"
rv=$(field .metadata.resourceVersion)
[ "$(field .metadata.namespace)" = default ] || fail "namespace not set"
[ -n "$(field .metadata.uid)" ] || fail "no uid"
expect 409 POST /apis/apps/v1/namespaces/default/deployments "$dep"
[ "$(field .reason)" = AlreadyExists ] || fail "AlreadyExists"
expect 200 GET /apis/apps/v1/namespaces/default/deployments/web
[ "$(field .kind)" = Deployment ] || fail "get kind"

# updates and conflicts on a ConfigMap: no controller writes to it between
# the requests (the daemon runs its controllers and node agent)
cm='{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"conf"},"data":{"a":"1"}}'
expect 201 POST /api/v1/namespaces/default/configmaps "$cm"
rv=$(field .metadata.resourceVersion)
upd=$(echo "$cm" | jq -c ".metadata.resourceVersion=\"$rv\" | .data.a=\"2\"")
expect 200 PUT /api/v1/namespaces/default/configmaps/conf "$upd"
[ "$(field .data.a)" = 2 ] || fail "PUT did not change data"
[ "$(field .metadata.generation)" = 2 ] || fail "generation $(field .metadata.generation)"
[ "$(field .metadata.resourceVersion)" != "$rv" ] || fail "resourceVersion did not move"
# the same resourceVersion again is stale now
expect 409 PUT /api/v1/namespaces/default/configmaps/conf "$upd"
[ "$(field .reason)" = Conflict ] || fail "Conflict reason"
[ "$(field .details.name)" = conf ] || fail "Conflict details"
# without a resourceVersion the write is unconditional
expect 200 PUT /api/v1/namespaces/default/configmaps/conf "$(echo "$cm" | jq -c '.data.a="3"')"
expect 404 PUT /api/v1/namespaces/default/configmaps/nope \
	"$(echo "$cm" | jq -c '.metadata.name="nope"')"
expect 400 PUT /api/v1/namespaces/default/configmaps/conf \
	"$(echo "$cm" | jq -c '.metadata.name="other"')"
expect 200 DELETE /api/v1/namespaces/default/configmaps/conf

# ---- patches
expect 200 PATCH /apis/apps/v1/namespaces/default/deployments/web '{"spec":{"replicas":4}}' \
	application/merge-patch+json
[ "$(field .spec.replicas)" = 4 ] || fail "merge patch"
expect 200 PATCH /apis/apps/v1/namespaces/default/deployments/web \
	'{"spec":{"template":{"spec":{"containers":[{"name":"side","image":"side:1"}]}}}}' \
	application/strategic-merge-patch+json
[ "$(field '.spec.template.spec.containers | map(.name) | join(",")')" = web,side ] ||
	fail "strategic merge patch: $(field .spec.template.spec.containers)"
expect 200 PATCH /apis/apps/v1/namespaces/default/deployments/web \
	'[{"op":"remove","path":"/spec/template/spec/containers/1"},{"op":"replace","path":"/spec/replicas","value":1}]' \
	application/json-patch+json
[ "$(field '.spec.template.spec.containers | length')" = 1 ] || fail "json patch"
expect 415 PATCH /apis/apps/v1/namespaces/default/deployments/web '{}' text/plain
expect 404 PATCH /apis/apps/v1/namespaces/default/deployments/nope '{}' application/merge-patch+json

# ---- /scale and /status
expect 200 GET /apis/apps/v1/namespaces/default/deployments/web/scale
[ "$(field .kind)" = Scale ] || fail "scale kind"
[ "$(field .status.selector)" = app=web ] || fail "scale selector $(field .status.selector)"
expect 200 PUT /apis/apps/v1/namespaces/default/deployments/web/scale \
	'{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web"},"spec":{"replicas":3}}'
expect 200 PATCH /apis/apps/v1/namespaces/default/deployments/web/scale '{"spec":{"replicas":5}}' \
	application/merge-patch+json
[ "$(field .spec.replicas)" = 5 ] || fail "scale patch"
expect 422 PATCH /apis/apps/v1/namespaces/default/deployments/web/scale '{"spec":{"replicas":-1}}' \
	application/merge-patch+json
expect 200 GET /apis/apps/v1/namespaces/default/deployments/web
[ "$(field .spec.replicas)" = 5 ] || fail "scale did not reach spec.replicas"
# (the deployment controller rewrites status soon after: check the answer)
expect 200 PATCH /apis/apps/v1/namespaces/default/deployments/web/status \
	'{"status":{"replicas":5,"readyReplicas":2},"spec":{"replicas":9}}' application/merge-patch+json
[ "$(field .status.readyReplicas)" = 2 ] || fail "status patch"
[ "$(field .spec.replicas)" = 5 ] || fail "a status write changed spec"
expect 200 GET /apis/apps/v1/namespaces/default/deployments/web/status
[ "$(field .kind)" = Deployment ] || fail "GET status"

# ---- bad bodies
expect 400 POST /api/v1/namespaces/default/configmaps '{"apiVersion": "v1", "kind":'
[ "$(field .reason)" = BadRequest ] || fail "400 reason"
head -c 4194304 /dev/zero | tr '\0' ' ' >"$tmp/big"
code=$(curl -s --unix-socket "$sock" -X POST -H 'Content-Type: application/json' \
	--data-binary @"$tmp/big" -o "$tmp/body" -w '%{http_code}' \
	http://localhost/api/v1/namespaces/default/configmaps)
[ "$code" = 413 ] || fail "4 MiB body: $code"
[ "$(field .reason)" = RequestEntityTooLarge ] || fail "413 reason"
expect 400 POST /api/v1/namespaces/default/configmaps \
	'{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"x"}}'
expect 400 POST /api/v1/namespaces/default/configmaps \
	'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"kube-system"}}'
expect 415 POST /api/v1/namespaces/default/configmaps '{}' text/plain
expect 405 POST /version '{}'

# ---- admission (the manifests library): 422 with causes; dryRun=All
# answers the defaulted object and stores nothing
bad=$(echo "$dep" | jq -c '.metadata.name="bad" | .spec.replicas=-1')
expect 422 POST /apis/apps/v1/namespaces/default/deployments "$bad"
[ "$(field .reason)" = Invalid ] || fail "422 reason"
[ "$(field '.details.causes[0].field')" = spec.replicas ] || fail "422 causes: $(cat "$tmp/body")"
expect 201 POST '/apis/apps/v1/namespaces/default/deployments?dryRun=All' \
	"$(echo "$dep" | jq -c '.metadata.name="dry" | del(.spec.replicas)')"
[ "$(field .spec.replicas)" = 1 ] || fail "dryRun defaults: $(cat "$tmp/body")"
expect 404 GET /apis/apps/v1/namespaces/default/deployments/dry
expect 404 GET /apis/apps/v1/namespaces/default/deployments/bad

# ---- lists, selectors, paging
for n in a b c; do
	expect 201 POST /api/v1/namespaces/default/configmaps \
		"{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"cm-$n\",\"labels\":{\"tier\":\"$n\"}},\"data\":{\"k\":\"$n\"}}"
done
expect 200 GET /api/v1/namespaces/default/configmaps
[ "$(field .kind)" = ConfigMapList ] || fail "list kind"
[ -n "$(field .metadata.resourceVersion)" ] || fail "list resourceVersion"
[ "$(field '[.items[].metadata.name | select(startswith("cm-"))] | length')" = 3 ] ||
	fail "3 configmaps: $(field '[.items[].metadata.name]')"
expect 200 GET '/api/v1/configmaps?labelSelector=tier%20in%20(a,c)'
[ "$(field '[.items[].metadata.name] | join(",")')" = cm-a,cm-c ] || fail "label selector"
expect 200 GET '/api/v1/namespaces/default/configmaps?fieldSelector=metadata.name%3Dcm-b'
[ "$(field '[.items[].metadata.name] | join(",")')" = cm-b ] || fail "field selector"
expect 200 GET '/api/v1/namespaces/default/configmaps?labelSelector=tier&fieldSelector=metadata.name!%3Dcm-b'
[ "$(field '[.items[].metadata.name] | join(",")')" = cm-a,cm-c ] || fail "field selector !="
expect 200 GET '/api/v1/namespaces/default/pods?fieldSelector=status.phase%3DNoSuchPhase'
[ "$(field '.items | length')" = 0 ] || fail "status.phase selector"
expect 400 GET '/api/v1/namespaces/default/configmaps?fieldSelector=spec.x%3Dy'
expect 400 GET '/api/v1/namespaces/default/configmaps?labelSelector=a%3D%3D%3D'
expect 200 GET '/api/v1/namespaces/default/configmaps?limit=2&labelSelector=tier'
[ "$(field '.items | length')" = 2 ] || fail "limit"
cont=$(field .metadata.continue)
[ -n "$cont" ] && [ "$cont" != null ] || fail "no continue token"
expect 200 GET "/api/v1/namespaces/default/configmaps?limit=2&labelSelector=tier&continue=$cont"
[ "$(field '[.items[].metadata.name] | join(",")')" = cm-c ] || fail "second page"

# ---- watch
: >"$tmp/watch1"
: >"$tmp/watch2"
curl -s -N --unix-socket "$sock" \
	'http://localhost/api/v1/namespaces/default/configmaps?watch=1&labelSelector=tier%3Dw' \
	>"$tmp/watch1" &
w1=$!
pids="$pids $w1"
expect 200 GET /api/v1/namespaces/default/configmaps
listrv=$(field .metadata.resourceVersion)
curl -s -N --unix-socket "$sock" \
	"http://localhost/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=$listrv&timeoutSeconds=30" \
	>"$tmp/watch2" &
w2=$!
pids="$pids $w2"
# both streams registered: the daemon logs each
i=0
while [ "$(grep -c '(stream)' "$tmp/daemon.log")" -lt 2 ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "watches did not start"
	sleep 0.05
done
expect 201 POST /api/v1/namespaces/default/configmaps \
	'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"w","labels":{"tier":"w"}}}'
expect 200 PATCH /api/v1/namespaces/default/configmaps/w '{"data":{"x":"1"}}' application/merge-patch+json
expect 200 DELETE /api/v1/namespaces/default/configmaps/w
expect 200 DELETE /api/v1/namespaces/default/configmaps/cm-a
# an object that enters a watch's label selector is ADDED to it, one that
# leaves it DELETED
expect 201 POST /api/v1/namespaces/default/configmaps \
	'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"w2","labels":{"tier":"x"}}}'
expect 200 PATCH /api/v1/namespaces/default/configmaps/w2 '{"metadata":{"labels":{"tier":"w"}}}' \
	application/merge-patch+json
expect 200 PATCH /api/v1/namespaces/default/configmaps/w2 '{"metadata":{"labels":{"tier":"y"}}}' \
	application/merge-patch+json
expect 200 DELETE /api/v1/namespaces/default/configmaps/w2
i=0
while [ "$(wc -l <"$tmp/watch2")" -lt 8 ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "watch2 has $(wc -l <"$tmp/watch2") events"
	sleep 0.05
done
types2=$(jq -r '.type + " " + .object.metadata.name' "$tmp/watch2" | tr '\n' ',')
[ "$types2" = "ADDED w,MODIFIED w,DELETED w,DELETED cm-a,ADDED w2,MODIFIED w2,MODIFIED w2,DELETED w2," ] ||
	fail "watch2: $types2"
i=0
while [ "$(wc -l <"$tmp/watch1")" -lt 5 ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "watch1 has $(wc -l <"$tmp/watch1") events"
	sleep 0.05
done
types1=$(jq -r '.type + " " + .object.metadata.name' "$tmp/watch1" | tr '\n' ',')
[ "$types1" = "ADDED w,MODIFIED w,DELETED w,ADDED w2,DELETED w2," ] ||
	fail "watch1 (label selector): $types1"
# a watch without resourceVersion starts with the current objects
timeout 10 curl -s -N --unix-socket "$sock" \
	'http://localhost/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=1&labelSelector=tier' \
	>"$tmp/watch3"
[ "$(jq -r .type "$tmp/watch3" | sort -u)" = ADDED ] || fail "watch3: $(cat "$tmp/watch3")"
[ "$(wc -l <"$tmp/watch3")" = 2 ] || fail "watch3 has $(wc -l <"$tmp/watch3") events"
# replay from a resourceVersion, ended by timeoutSeconds
timeout 10 curl -s -N --unix-socket "$sock" \
	"http://localhost/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$listrv&timeoutSeconds=1" \
	>"$tmp/watch4"
# (only configmaps of this test changed since: the deployment's objects are others)
[ "$(wc -l <"$tmp/watch4")" = 8 ] || fail "replay: $(cat "$tmp/watch4")"
# a client that leaves is cleaned up: ending watch1 frees its stream
kill "$w1"
wait "$w1" 2>/dev/null || true
i=0
while ! grep -q 'stream client left' "$tmp/daemon.log"; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "the daemon did not notice a watch client leave"
	sleep 0.05
done

# ---- delete options and namespaces
expect 201 POST /api/v1/namespaces '{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"dev"}}'
expect 201 POST /api/v1/namespaces/dev/configmaps \
	'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"}}'
expect 200 GET /api/v1/configmaps
field '.items[].metadata.namespace' | grep -qx dev || fail "all-namespaces list"
expect 409 DELETE /api/v1/namespaces/dev/configmaps/c \
	'{"kind":"DeleteOptions","apiVersion":"v1","preconditions":{"uid":"not-the-uid"}}'
expect 200 DELETE /api/v1/namespaces/dev/configmaps/c '{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Background"}'
expect 404 GET /api/v1/namespaces/dev/configmaps/c
expect 201 POST '/api/v1/namespaces/dev/configmaps?dryRun=All' \
	'{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"dry"}}'
expect 404 GET /api/v1/namespaces/dev/configmaps/dry

# ---- pod logs from the shim's CRI files
expect 201 POST /api/v1/namespaces/default/pods \
	'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"},"spec":{"containers":[{"name":"app","image":"x"}]}}'
uid=$(field .metadata.uid)
mkdir -p "$state/pods/$uid/app"
printf '%s\n' '2026-11-28T00:00:01.000000001Z stdout F one' \
	'2026-11-28T00:00:02.000000001Z stderr P tw' '2026-11-28T00:00:02.100000001Z stderr F o' \
	'2026-11-28T00:00:03.000000001Z stdout F three' >"$state/pods/$uid/app/log"
expect 200 GET /api/v1/namespaces/default/pods/p/log
[ "$(cat "$tmp/body")" = "$(printf 'one\ntwo\nthree')" ] || fail "log: $(cat "$tmp/body")"
expect 200 GET '/api/v1/namespaces/default/pods/p/log?tailLines=1&timestamps=true'
[ "$(cat "$tmp/body")" = "2026-11-28T00:00:03.000000001Z three" ] || fail "tail: $(cat "$tmp/body")"
expect 400 GET '/api/v1/namespaces/default/pods/p/log?container=nope'
expect 400 GET '/api/v1/namespaces/default/pods/p/log?previous=true'
: >"$tmp/follow"
curl -s -N --unix-socket "$sock" 'http://localhost/api/v1/namespaces/default/pods/p/log?follow=true' \
	>"$tmp/follow" &
fpid=$!
pids="$pids $fpid"
i=0
while [ "$(wc -l <"$tmp/follow")" -lt 3 ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "follow: $(cat "$tmp/follow")"
	sleep 0.05
done
echo '2026-11-28T00:00:04.000000001Z stdout F four' >>"$state/pods/$uid/app/log"
i=0
while [ "$(wc -l <"$tmp/follow")" -lt 4 ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "follow did not see a new line: $(cat "$tmp/follow")"
	sleep 0.05
done
# the pod goes (the node agent, which took it, removes it), so the follow ends
expect 200 DELETE /api/v1/namespaces/default/pods/p
i=0
while kill -0 "$fpid" 2>/dev/null; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "follow did not end with its pod"
	sleep 0.05
done

# ---- exec: a container that does not run is a 400 (503 without an agent)
expect 201 POST /api/v1/namespaces/default/pods \
	'{"apiVersion":"v1","kind":"Pod","metadata":{"name":"q"},"spec":{"containers":[{"name":"app","image":"x"}]}}'
code=$(req POST '/api/v1/namespaces/default/pods/q/exec?command=true' '')
[ "$code" = 400 ] || [ "$code" = 503 ] || fail "exec in a pod that does not run: $code"
expect 400 POST '/api/v1/namespaces/default/pods/q/exec' ''
code=$(curl -s --unix-socket "$sock" -X POST -H 'Upgrade: SPDY/3.1' -o "$tmp/body" -w '%{http_code}' \
	'http://localhost/api/v1/namespaces/default/pods/q/exec?command=sh')
[ "$code" = 400 ] || fail "exec upgrade: $code"
code=$(req GET /apis/metrics.k8s.io/v1beta1/namespaces/default/pods)
[ "$code" = 200 ] || [ "$code" = 503 ] || fail "metrics: $code"

# ---- TCP with bearer tokens
code=$(curl -s -o "$tmp/body" -w '%{http_code}' "http://127.0.0.1:$port/api/v1/namespaces")
[ "$code" = 401 ] || fail "no token: $code"
[ "$(field .reason)" = Unauthorized ] || fail "401 body"
token=$("$bin" token create --name test --state-dir "$state" 2>/dev/null)
[ "$(stat -c %a "$state/tokens")" = 600 ] || fail "tokens file mode"
grep -q "$token" "$state/tokens" && fail "the token itself is stored"
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer wrong" \
	"http://127.0.0.1:$port/api/v1/namespaces")
[ "$code" = 401 ] || fail "wrong token: $code"
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $token" \
	"http://127.0.0.1:$port/api/v1/namespaces")
[ "$code" = 200 ] || fail "good token: $code"
"$bin" token list --state-dir "$state" | grep -qx test || fail "token list"
"$bin" token revoke test --state-dir "$state"
code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $token" \
	"http://127.0.0.1:$port/api/v1/namespaces")
[ "$code" = 401 ] || fail "revoked token: $code"

# ---- the store keeps everything across a restart; SIGTERM removes the socket
kill -TERM "$daemon"
wait "$daemon" || fail "slipwayd exited with $? on SIGTERM"
[ ! -e "$sock" ] || fail "socket left behind"
[ ! -e "$state/slipwayd.pid" ] || fail "pid file left behind"
start_daemon
expect 200 GET /apis/apps/v1/namespaces/default/deployments/web
[ "$(field .spec.replicas)" = 5 ] || fail "deployment after restart"
# a stale socket (a daemon killed hard) is replaced
kill -KILL "$daemon"
wait "$daemon" 2>/dev/null || true
[ -S "$sock" ] || fail "no stale socket to test with"
start_daemon
expect 200 GET /version

echo "PASS: api"
