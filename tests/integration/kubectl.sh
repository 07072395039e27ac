#!/bin/sh
# The real kubectl against slipwayd: a daemon on a temp state dir with an
# https listener (kubectl sends bearer tokens only over https) and a token;
# kubectl version, api-resources, get (tables, -o json, -o wide, -l, -A),
# create/apply/edit (validated by slipwayd's admission: kubectl finds the
# fieldValidation parameter in the OpenAPI v3 documents), scale, label,
# delete, get -w, logs, a wrong token. No controllers or agent are
# needed: a Deployment just sits in the store, pod statuses are written
# with curl. kubectl's config and cache stay in the temp dir.
#
# usage: kubectl.sh PATH/TO/slipwayd
# Exit 0 pass, 1 fail, 77 skipped (kubectl, curl or jq missing).
set -eu

bin=$(realpath "$1")
for tool in kubectl curl jq; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed"
		exit 77
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-kubectl.XXXXXX")
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
		tail -n 30 "$tmp/daemon.log"
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
# nothing of the user's kubectl setup is read or written
export HOME="$tmp/home"
export KUBECONFIG="$tmp/kubeconfig"
mkdir -p "$HOME"
: >"$KUBECONFIG"

"$bin" --state-dir "$state" --listen https://127.0.0.1:0 >"$tmp/daemon.log" 2>&1 &
daemon=$!
pids="$pids $daemon"
i=0
while ! grep -q 'listening on https://' "$tmp/daemon.log"; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "slipwayd did not start"
	kill -0 "$daemon" 2>/dev/null || fail "slipwayd exited"
	sleep 0.05
done
port=$(sed -n 's|.*listening on https://127.0.0.1:\([0-9]*\).*|\1|p' "$tmp/daemon.log")
token=$("$bin" token create --name kubectl --state-dir "$state" 2>/dev/null)

k() {
	kubectl --server "https://127.0.0.1:$port" --token "$token" \
		--certificate-authority "$state/tls/server.crt" --cache-dir "$tmp/cache" "$@"
}

# curl METHOD PATH [BODY [CT]] over the socket
api() {
	if [ $# -ge 3 ]; then
		curl -sf --unix-socket "$sock" -X "$1" -H "Content-Type: ${4:-application/json}" \
			--data-binary "$3" -o /dev/null "http://localhost$2"
	else
		curl -sf --unix-socket "$sock" -X "$1" -o /dev/null "http://localhost$2"
	fi
}

# ---- discovery
k version -o json >"$tmp/version" 2>&1 || fail "kubectl version: $(cat "$tmp/version")"
[ "$(jq -r .serverVersion.gitVersion "$tmp/version")" = v1.32.0-slipway ] ||
	fail "server version: $(cat "$tmp/version")"
k api-resources >"$tmp/res" 2>&1 || fail "api-resources: $(cat "$tmp/res")"
grep -Eq '^deployments +deploy +apps/v1 +true +Deployment' "$tmp/res" ||
	fail "api-resources: $(cat "$tmp/res")"
grep -Eq '^pods +po +v1 +true +Pod' "$tmp/res" || fail "api-resources pods"

# ---- empty lists
k get pods >"$tmp/out" 2>&1 || fail "get pods: $(cat "$tmp/out")"
grep -q "No resources found in default namespace." "$tmp/out" || fail "get pods: $(cat "$tmp/out")"

# ---- create, get
cat >"$tmp/web.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: hello:latest
EOF
k create -f "$tmp/web.yaml" >"$tmp/out" 2>&1 || fail "create: $(cat "$tmp/out")"
grep -q "deployment.apps/web created" "$tmp/out" || fail "create: $(cat "$tmp/out")"
k get deployments >"$tmp/out" 2>&1 || fail "get deployments: $(cat "$tmp/out")"
head -n 1 "$tmp/out" | grep -Eq '^NAME +READY +UP-TO-DATE +AVAILABLE +AGE$' ||
	fail "deployments table: $(cat "$tmp/out")"
# (the deployment controller runs: the counts may move)
grep -Eq '^web +[0-9]+/2 +[0-9]+ +[0-9]+ +[0-9]+s$' "$tmp/out" || fail "deployments row: $(cat "$tmp/out")"
k get deployments -o json >"$tmp/json" 2>&1 || fail "get -o json: $(cat "$tmp/json")"
[ "$(jq -r '.items[0].metadata.name' "$tmp/json")" = web ] || fail "-o json: $(cat "$tmp/json")"
[ "$(jq -r '.items[0].spec.replicas' "$tmp/json")" = 2 ] || fail "-o json replicas"
k get deploy -o wide >"$tmp/out" 2>&1 || fail "get -o wide"
grep -Eq '^web .* web +hello:latest +app=web$' "$tmp/out" || fail "-o wide: $(cat "$tmp/out")"

# ---- scale (the /scale subresource) and label (a patch)
k scale deployment web --replicas 3 >"$tmp/out" 2>&1 || fail "scale: $(cat "$tmp/out")"
grep -q "deployment.apps/web scaled" "$tmp/out" || fail "scale: $(cat "$tmp/out")"
[ "$(k get deployment web -o jsonpath='{.spec.replicas}')" = 3 ] || fail "spec.replicas after scale"
k label deployment web tier=front >"$tmp/out" 2>&1 || fail "label: $(cat "$tmp/out")"
[ "$(k get deploy -l tier=front -o name)" = deployment.apps/web ] || fail "get -l"
[ -z "$(k get deploy -l tier=back -o name 2>/dev/null)" ] || fail "get -l matched too much"

# ---- apply (client-side, strategic merge patch)
sed 's/replicas: 2/replicas: 5/' "$tmp/web.yaml" >"$tmp/web5.yaml"
k apply -f "$tmp/web5.yaml" >"$tmp/out" 2>&1 || fail "apply: $(cat "$tmp/out")"
[ "$(k get deployment web -o jsonpath='{.spec.replicas}')" = 5 ] || fail "spec.replicas after apply"
# an unknown field is refused by the server's admission, nothing changes
sed 's/replicas: 2/replicaz: 7/' "$tmp/web.yaml" >"$tmp/bad.yaml"
if k apply -f "$tmp/bad.yaml" >"$tmp/out" 2>&1; then
	fail "an unknown field was applied"
fi
grep -q 'unknown field' "$tmp/out" || fail "unknown field: $(cat "$tmp/out")"
[ "$(k get deployment web -o jsonpath='{.spec.replicas}')" = 5 ] || fail "a refused apply changed replicas"
# server-side apply (its JSON form): creates, then merges
sed 's/name: web$/name: ssa/' "$tmp/web.yaml" >"$tmp/ssa.yaml"
k apply --server-side -f "$tmp/ssa.yaml" >"$tmp/out" 2>&1 || fail "apply --server-side: $(cat "$tmp/out")"
grep -q "deployment.apps/ssa serverside-applied" "$tmp/out" || fail "ssa: $(cat "$tmp/out")"
sed -i 's/replicas: 2/replicas: 1/' "$tmp/ssa.yaml"
k apply --server-side -f "$tmp/ssa.yaml" >"$tmp/out" 2>&1 || fail "apply --server-side again"
[ "$(k get deployment ssa -o jsonpath='{.spec.replicas}')" = 1 ] || fail "ssa replicas"
k delete deployment ssa >"$tmp/out" 2>&1 || fail "delete ssa: $(cat "$tmp/out")"
# kubectl edit: GET, the editor, a strategic merge patch
EDITOR="sed -i s/replicas:.5/replicas:\ 4/" k edit deployment web >"$tmp/out" 2>&1 ||
	fail "edit: $(cat "$tmp/out")"
[ "$(k get deployment web -o jsonpath='{.spec.replicas}')" = 4 ] || fail "spec.replicas after edit"

# ---- namespaces
k get ns >"$tmp/out" 2>&1 || fail "get ns"
grep -Eq '^default +Active +' "$tmp/out" || fail "get ns: $(cat "$tmp/out")"
grep -Eq '^kube-system +Active +' "$tmp/out" || fail "get ns: $(cat "$tmp/out")"
# (`kubectl create namespace` sends protobuf, which slipwayd does not read:
# 415; the generated object through -f works)
k create namespace dev --dry-run=client -o json >"$tmp/ns.json" || fail "ns json"
k create -f "$tmp/ns.json" >"$tmp/out" 2>&1 || fail "create ns: $(cat "$tmp/out")"
grep -q "namespace/dev created" "$tmp/out" || fail "create ns: $(cat "$tmp/out")"

# ---- pods: status words and watch
pod() {
	printf '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"%s","namespace":"%s"},"spec":{"containers":[{"name":"app","image":"x"}]}}' "$1" "$2"
}
api POST /api/v1/namespaces/default/pods "$(pod p1 default)" || fail "create p1"
api PATCH /api/v1/namespaces/default/pods/p1/status \
	'{"status":{"phase":"Running","podIP":"127.0.0.1","containerStatuses":[{"name":"app","ready":true,"restartCount":0,"state":{"running":{"startedAt":"2026-01-01T00:00:00Z"}}}]}}' \
	application/merge-patch+json || fail "p1 status"
api POST /api/v1/namespaces/dev/pods "$(pod p2 dev)" || fail "create p2"
api PATCH /api/v1/namespaces/dev/pods/p2/status \
	'{"status":{"phase":"Running","containerStatuses":[{"name":"app","ready":false,"restartCount":4,"state":{"waiting":{"reason":"CrashLoopBackOff"}}}]}}' \
	application/merge-patch+json || fail "p2 status"
k get pods >"$tmp/out" 2>&1 || fail "get pods"
head -n 1 "$tmp/out" | grep -Eq '^NAME +READY +STATUS +RESTARTS +AGE$' || fail "pods table: $(cat "$tmp/out")"
# (the node agent takes the pods and writes their status too: the words vary;
# the unit test checks them)
grep -Eq '^p1 +[0-9]/1 +[A-Za-z:]+ +[0-9]+ +[0-9]+s$' "$tmp/out" || fail "pods row: $(cat "$tmp/out")"
k get pods -A >"$tmp/out" 2>&1 || fail "get pods -A"
head -n 1 "$tmp/out" | grep -Eq '^NAMESPACE +NAME +READY +STATUS +RESTARTS +AGE$' ||
	fail "pods -A header: $(cat "$tmp/out")"
grep -Eq '^dev +p2 +[0-9]/1 +[A-Za-z:]+ +' "$tmp/out" || fail "pods -A: $(cat "$tmp/out")"
k get pods -o wide >"$tmp/out" 2>&1 || fail "get pods -o wide"
head -n 1 "$tmp/out" | grep -Eq '^NAME +READY +STATUS +RESTARTS +AGE +IP +NODE +NOMINATED NODE +READINESS GATES$' ||
	fail "pods wide: $(cat "$tmp/out")"

: >"$tmp/watch"
timeout 60 kubectl --server "https://127.0.0.1:$port" --token "$token" \
	--certificate-authority "$state/tls/server.crt" --cache-dir "$tmp/cache" \
	get pods -w >"$tmp/watch" 2>&1 &
wpid=$!
pids="$pids $wpid"
i=0
while ! grep -q '^p1 ' "$tmp/watch"; do
	i=$((i + 1))
	[ $i -lt 400 ] || fail "get -w printed no list: $(cat "$tmp/watch")"
	sleep 0.05
done
api POST /api/v1/namespaces/default/pods "$(pod p3 default)" || fail "create p3"
i=0
while ! grep -Eq '^p3 +[0-9]/1 ' "$tmp/watch"; do
	i=$((i + 1))
	[ $i -lt 400 ] || fail "get -w did not show p3: $(cat "$tmp/watch")"
	sleep 0.05
done
kill "$wpid"
wait "$wpid" 2>/dev/null || true

k delete pod p3 >"$tmp/out" 2>&1 || fail "delete: $(cat "$tmp/out")"
grep -q 'pod "p3" deleted' "$tmp/out" || fail "delete: $(cat "$tmp/out")"
if k get pod p3 >"$tmp/out" 2>&1; then
	fail "p3 still there"
fi
grep -q 'pods "p3" not found' "$tmp/out" || fail "get deleted: $(cat "$tmp/out")"

# ---- logs from the shim's files
uid=$(k get pod p1 -o jsonpath='{.metadata.uid}')
mkdir -p "$state/pods/$uid/app"
printf '%s\n' '2026-01-01T00:00:01.000000000Z stdout F hello from p1' \
	'2026-01-01T00:00:02.000000000Z stderr F second line' >"$state/pods/$uid/app/log"
[ "$(k logs p1)" = "$(printf 'hello from p1\nsecond line')" ] || fail "logs: $(k logs p1 2>&1)"
[ "$(k logs p1 --tail 1)" = "second line" ] || fail "logs --tail"

# ---- a wrong token is refused
if kubectl --server "https://127.0.0.1:$port" --token wrong \
	--certificate-authority "$state/tls/server.crt" --cache-dir "$tmp/cache2" \
	get pods >"$tmp/out" 2>&1; then
	fail "a wrong token was accepted"
fi
grep -q "provide credentials" "$tmp/out" || fail "wrong token: $(cat "$tmp/out")"

# a clean stop (under ASan, leaks would make it fail)
kill -TERM "$daemon"
wait "$daemon" || fail "slipwayd exited with $? on SIGTERM: $(tail -n 20 "$tmp/daemon.log")"
pids=""

echo "PASS: kubectl"
