#!/bin/sh
# cli_daemon: the kubectl-style verbs of `slipway` against a real slipwayd in
# a temp state dir: up/down, apply of a multi-document file (created, then
# unchanged, then configured), get (table, -o json|yaml|name|wide, -l, -A,
# -w), describe, scale, events, delete, the all-or-nothing apply (client-side
# and server-side failures leave nothing behind), kubectl's error lines, and
# the message when the daemon is not running. When the controllers run, also
# rollout status/history/undo. Needs root (slipwayd's node agent); exit 77
# otherwise.
#
# usage: cli_daemon.sh SLIPWAY SLIPWAYD
set -u
slipway=$1
slipwayd=${2:-}
[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
command -v jq >/dev/null || { echo "skip: needs jq"; exit 77; }
[ -x "$slipwayd" ] || slipwayd=$(dirname "$slipway")/slipwayd
[ -x "$slipwayd" ] || { echo "skip: no slipwayd binary"; exit 77; }

tmp=$(mktemp -d /tmp/cli_daemon.XXXXXX)
state=$tmp/state
watch_pid=
cleanup() {
	[ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
	# pods stop through the daemon; then the daemon; then whatever is left
	if [ -S "$state/slipwayd.sock" ]; then
		"$slipway" --state-dir "$state" delete deploy --all -n default --wait --timeout 60s >/dev/null 2>&1
		"$slipway" --state-dir "$state" delete deploy --all -n demo --wait --timeout 60s >/dev/null 2>&1
	fi
	"$slipway" --state-dir "$state" down --timeout 30s >/dev/null 2>&1
	if [ -f "$state/slipwayd.pid" ]; then
		kill -9 "$(cat "$state/slipwayd.pid")" 2>/dev/null
	fi
	if command -v runc >/dev/null && [ -d "$state/run/runc" ]; then
		for c in $(runc --root "$state/run/runc" list -q 2>/dev/null); do
			runc --root "$state/run/runc" delete -f "$c" >/dev/null 2>&1
		done
	fi
	# shims and the proxy outlive the daemon on purpose: end the ones of this state dir
	for p in /proc/[0-9]*; do
		cmd=$( (tr '\0' ' ' <"$p/cmdline") 2>/dev/null) || continue
		case "$cmd" in *slipway-shim*"$state/"* | *slipway-proxy*"$state/"*) kill -9 "${p#/proc/}" 2>/dev/null ;; esac
	done
	grep " $tmp/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
	# pod cgroups are named after the pod uid
	for d in "$state"/pods/*/; do
		[ -d "$d" ] || continue
		uid=$(basename "$d")
		find /sys/fs/cgroup -depth -type d -path "*-$uid*" -exec rmdir {} \; 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

fail=0
pass=0
ok() { pass=$((pass + 1)); }
bad() { echo "FAIL: $*"; fail=$((fail + 1)); }
# expect DESC WANT_STATUS CMD...: runs CMD, output in $out
expect() {
	desc=$1; want=$2; shift 2
	out=$("$@" 2>&1); st=$?
	if [ "$st" = "$want" ]; then ok; else bad "$desc: exit $st, want $want"; echo "$out" | head -n 20; fi
}
has() { # DESC TEXT: $out contains TEXT
	case "$out" in *"$2"*) ok ;; *) bad "$1: no '$2' in:"; echo "$out" | head -n 20 ;; esac
}
hasnt() {
	case "$out" in *"$2"*) bad "$1: unexpected '$2' in:"; echo "$out" | head -n 20 ;; *) ok ;; esac
}
sw() { "$slipway" --state-dir "$state" "$@"; }
export PATH="$(dirname "$slipwayd"):$PATH"
unset SLIPWAY_HOST SLIPWAY_TOKEN

# ---- not running ---------------------------------------------------------
expect "get without a daemon" 1 sw get pods
has "not running message" "cannot connect to slipwayd at unix://$state/slipwayd.sock: is it running? start it with \`slipway up\`"

# ---- up --------------------------------------------------------------------
expect "up" 0 sw up
has "up message" "listening on unix://$state/slipwayd.sock"
expect "up again" 0 sw up
has "up again message" "already running"

# ---- apply ------------------------------------------------------------------
cat >"$tmp/app.yaml" <<'EOF'
apiVersion: v1
kind: Namespace
metadata:
  name: demo
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
  namespace: demo
data:
  GREETING: hello
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: demo
  labels:
    app: web
spec:
  replicas: 2
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
      - name: web
        image: slipway-cli-test:none
        ports:
        - containerPort: 5000
EOF
expect "apply" 0 sw apply -f "$tmp/app.yaml"
has "apply ns" "namespace/demo created"
has "apply cm" "configmap/cfg created"
has "apply deploy" "deployment.apps/web created"
expect "apply again" 0 sw apply -f "$tmp/app.yaml"
has "unchanged" "deployment.apps/web unchanged"
sed 's/GREETING: hello/GREETING: bonjour/' "$tmp/app.yaml" >"$tmp/app2.yaml"
expect "apply a change" 0 sw apply -f "$tmp/app2.yaml"
has "configured" "configmap/cfg configured"
has "others unchanged" "namespace/demo unchanged"
expect "apply from stdin, -o name" 0 sh -c "'$slipway' --state-dir '$state' apply -f - -o name <'$tmp/app2.yaml'"
has "-o name" "deployment.apps/web"
expect "dry run client" 0 sw apply -f "$tmp/app.yaml" --dry-run=client -o yaml
has "dry run client yaml" "kind: Deployment"
expect "dry run server" 0 sw apply -f "$tmp/app.yaml" --dry-run=server
has "dry run server" "configmap/cfg configured (server dry run)"
expect "dry run changed nothing" 0 sw get cm cfg -n demo -o json
[ "$(echo "$out" | jq -r .data.GREETING)" = bonjour ] && ok || bad "server dry run wrote: $out"

# ---- get ---------------------------------------------------------------------
expect "get ns" 0 sw get ns
has "ns table" "NAME"
has "ns demo" "demo "
expect "get deploy" 0 sw get deploy -n demo
has "deploy columns" "NAME   READY   UP-TO-DATE   AVAILABLE   AGE"
has "deploy row" "web "
expect "get deploy wide" 0 sw get deployments.apps -n demo -o wide
has "wide columns" "CONTAINERS   IMAGES"
has "wide selector" "app=web"
expect "get -o json" 0 sw get deploy web -n demo -o json
[ "$(echo "$out" | jq -r .spec.replicas)" = 2 ] && ok || bad "-o json replicas: $out"
[ "$(echo "$out" | jq -r .kind)" = Deployment ] && ok || bad "-o json kind"
expect "get -o yaml" 0 sw get deploy/web -n demo -o yaml
has "yaml kind" "kind: Deployment"
has "yaml replicas" "  replicas: 2"
has "yaml quoted timestamp" 'creationTimestamp: "'
expect "get list -o json" 0 sw get cm -n demo -o json
[ "$(echo "$out" | jq -r .kind)" = List ] && ok || bad "list kind: $out"
expect "get -l match" 0 sw get deploy -n demo -l app=web -o name
[ "$out" = "deployment.apps/web" ] && ok || bad "-l: $out"
expect "get -l no match" 0 sw get deploy -n demo -l 'app in (nope)'
has "no resources" "No resources found in demo namespace."
expect "get -A" 0 sw get cm -A
has "-A namespace column" "NAMESPACE"
expect "get missing" 1 sw get deploy nope -n demo
[ "$out" = 'Error from server (NotFound): deployments.apps "nope" not found' ] && ok || bad "not found line: $out"
expect "unknown kind" 1 sw get frobs
has "unknown kind message" "the server doesn't have a resource type \"frobs\""

# get -w: the list, then a change as it happens
"$slipway" --state-dir "$state" get cm -n demo -w >"$tmp/watch.out" 2>&1 &
watch_pid=$!
i=0
until grep -q "^cfg " "$tmp/watch.out" 2>/dev/null || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
cat >"$tmp/cm2.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: watched
  namespace: demo
data: {a: b, c: d}
EOF
sw apply -f "$tmp/cm2.yaml" >/dev/null
i=0
until grep -q "^watched " "$tmp/watch.out" 2>/dev/null || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
kill "$watch_pid" 2>/dev/null; wait "$watch_pid" 2>/dev/null; watch_pid=
out=$(cat "$tmp/watch.out")
has "watch header" "NAME"
has "watch listed" "cfg "
has "watch saw the new object" "watched "

# ---- describe ---------------------------------------------------------------
expect "describe" 0 sw describe deployment web -n demo
has "describe name" "Name:                   web"
has "describe replicas" "Replicas:               2 desired"
has "describe strategy" "RollingUpdateStrategy:  25% max unavailable, 25% max surge"
has "describe events" "Events:"
expect "describe cm" 0 sw describe cm/cfg -n demo
has "describe cm data" "bonjour"

# ---- scale -----------------------------------------------------------------
expect "scale" 0 sw scale deployment web --replicas 5 -n demo
has "scaled" "deployment.apps/web scaled"
expect "scaled replicas" 0 sw get deploy web -n demo -o json
[ "$(echo "$out" | jq -r .spec.replicas)" = 5 ] && ok || bad "replicas after scale: $(echo "$out" | jq .spec)"
# a re-apply of the same manifest keeps what scale changed (kubectl's
# three-way apply); a manifest that changes replicas wins
expect "re-apply after scale" 0 sw apply -f "$tmp/app2.yaml"
has "re-apply unchanged" "deployment.apps/web unchanged"
expect "replicas kept" 0 sw get deploy web -n demo -o json
[ "$(echo "$out" | jq -r .spec.replicas)" = 5 ] && ok || bad "re-apply reset replicas: $(echo "$out" | jq .spec.replicas)"
expect "scale back" 0 sw scale deploy/web --replicas=2 -n demo
expect "scale a configmap" 1 sw scale cm cfg --replicas 2 -n demo
expect "scale without --replicas" 2 sw scale deploy web -n demo

# ---- all or nothing ----------------------------------------------------------
cat >"$tmp/bad.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: good-cm
  namespace: demo
data:
  A: b
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: broken
  namespace: demo
spec:
  replicas: -3
  selector:
    matchLabels:
      app: broken
  template:
    metadata:
      labels:
        app: broken
    spec:
      containers:
      - name: c
        image: x
EOF
expect "invalid multi-doc" 1 sw apply -f "$tmp/bad.yaml"
has "FILE:LINE of the error" "$tmp/bad.yaml:15:"
has "field path" "spec.replicas"
has "nothing applied" "nothing applied"
expect "nothing created (client-side)" 1 sw get cm good-cm -n demo
# valid documents the server refuses: the second names a namespace that does
# not exist, so the first must not be created either
cat >"$tmp/bad2.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: first-ok
  namespace: demo
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: second
  namespace: no-such-namespace
EOF
expect "server-side refusal" 1 sw apply -f "$tmp/bad2.yaml"
has "names the object" "ConfigMap \"second\""
expect "nothing created (server-side)" 1 sw get cm first-ok -n demo

# ---- rollout (when the controllers run) ------------------------------------
i=0
while [ $i -lt 50 ] && [ -z "$(sw get rs -n demo -o name 2>/dev/null)" ]; do sleep 0.1; i=$((i + 1)); done
if [ -n "$(sw get rs -n demo -o name 2>/dev/null)" ]; then
	expect "rollout history" 0 sw rollout history deployment/web -n demo
	has "history header" "REVISION  CHANGE-CAUSE"
	expect "rollout pause" 0 sw rollout pause deployment/web -n demo
	has "paused" "deployment.apps/web paused"
	expect "pause again" 1 sw rollout pause deployment/web -n demo
	expect "rollout resume" 0 sw rollout resume deploy/web -n demo
	expect "rollout status once" 0 sw rollout status deployment/web -n demo --watch=false
	has "status line" "deployment \"web\""
else
	echo "note: no replica sets (controllers not running): rollout checks skipped"
fi
expect "rollout status of a missing deployment" 1 sw rollout status deployment/nope -n demo --timeout 5s
expect "rollout bad target" 1 sw rollout status cm/cfg -n demo

# ---- pods: rollout, logs, exec (when the controllers and the agent run) ----
if [ -n "$(sw get rs -n demo -o name 2>/dev/null)" ] && command -v runc >/dev/null && [ -x /bin/busybox ]; then
	mkdir -p "$tmp/bb/bin" "$tmp/bb/tmp"
	cp /bin/busybox "$tmp/bb/bin/"
	for c in sh sleep echo cat; do ln -s busybox "$tmp/bb/bin/$c"; done
	tar -C "$tmp/bb" -cf "$tmp/bb.tar" .
	expect "busybox image" 0 sw image import --rootfs "$tmp/bb.tar" cli-bb:1
	cat >"$tmp/sleeper.yaml" <<'EOF'
apiVersion: apps/v1
kind: Deployment
metadata:
  name: sleeper
  annotations:
    kubernetes.io/change-cause: first
spec:
  replicas: 2
  selector:
    matchLabels: {app: sleeper}
  template:
    metadata:
      labels: {app: sleeper}
    spec:
      terminationGracePeriodSeconds: 2
      containers:
      - name: main
        image: cli-bb:1
        command: ["/bin/sh", "-c", "echo started; i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done"]
EOF
	expect "apply sleeper" 0 sw apply -f "$tmp/sleeper.yaml"
	expect "rollout status" 0 sw rollout status deployment/sleeper --timeout 180s
	has "rolled out" 'deployment "sleeper" successfully rolled out'
	expect "pods" 0 sw get pods -l app=sleeper
	[ "$(echo "$out" | grep -c ' Running ')" = 2 ] && ok || bad "two running pods: $out"
	pod=$(sw get pods -l app=sleeper -o name | head -n 1)
	i=0
	until sw logs "$pod" 2>/dev/null | grep -q tick || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
	expect "logs" 0 sw logs "$pod" --tail 5
	has "log lines" "tick"
	expect "logs of the deployment" 0 sw logs deployment/sleeper
	has "deployment log" "started"
	expect "exec" 3 sw exec "$pod" -- sh -c 'echo out; echo err >&2; exit 3'
	has "exec stdout" "out"
	has "exec stderr" "err"
	expect "describe pod" 0 sw describe "$pod"
	has "describe pod state" "State:          Running"
	has "describe pod controller" "Controlled By:  ReplicaSet/sleeper-"
	sed -e 's/tick/tock/' -e 's/cause: first/cause: second/' "$tmp/sleeper.yaml" >"$tmp/sleeper2.yaml"
	expect "apply a new template" 0 sw apply -f "$tmp/sleeper2.yaml"
	expect "rollout status 2" 0 sw rollout status deploy/sleeper --timeout 180s
	expect "history" 0 sw rollout history deployment/sleeper
	has "history 1" "1         first"
	has "history 2" "2         second"
	expect "undo" 0 sw rollout undo deployment/sleeper
	has "rolled back" "deployment.apps/sleeper rolled back"
	expect "rollout status 3" 0 sw rollout status deployment/sleeper --timeout 180s
	expect "history after undo" 0 sw rollout history deployment/sleeper
	has "revision 3 is the first template" "3         first"
	expect "template is back" 0 sw get deploy sleeper -o json
	case "$(echo "$out" | jq -r '.spec.template.spec.containers[0].command[2]')" in *tick*) ok ;; *) bad "undo template" ;; esac
	expect "restart" 0 sw rollout restart deployment/sleeper
	has "restarted" "deployment.apps/sleeper restarted"
	expect "rollout status 4" 0 sw rollout status deployment/sleeper --timeout 180s
	expect "scale to 3" 0 sw scale deployment sleeper --replicas 3
	expect "rollout status 5" 0 sw rollout status deployment/sleeper --timeout 180s
	expect "top" 0 sw top pods
	has "top columns" "CPU(cores)"
	expect "delete sleeper" 0 sw delete deployment sleeper --wait --timeout 120s
	i=0
	while [ $i -lt 600 ] && [ -n "$(sw get pods -l app=sleeper -o name 2>/dev/null)" ]; do sleep 0.1; i=$((i + 1)); done
	[ -z "$(sw get pods -l app=sleeper -o name 2>/dev/null)" ] && ok || bad "pods left after delete"
else
	echo "note: controllers, runc or busybox missing: pod checks skipped"
fi

# ---- events ------------------------------------------------------------------
expect "events" 0 sw events -n demo
expect "events -A" 0 sw events -A

# ---- delete ------------------------------------------------------------------
expect "delete" 0 sw delete deployment web -n demo --wait --timeout 60s
has "deleted" 'deployment.apps "web" deleted'
expect "gone" 1 sw get deploy web -n demo
expect "delete missing" 1 sw delete cm nope -n demo
has "delete missing line" 'Error from server (NotFound): configmaps "nope" not found'
expect "delete --ignore-not-found" 0 sw delete cm nope -n demo --ignore-not-found
expect "delete -f" 0 sw delete -f "$tmp/cm2.yaml"
has "delete -f line" 'configmap "watched" deleted'

# ---- deploy a release -------------------------------------------------------
mkdir -p "$tmp/rootfs/bin" && echo hi >"$tmp/rootfs/hello.txt" && tar -C "$tmp/rootfs" -cf "$tmp/rootfs.tar" .
printf 'web: ./server --port $PORT\nworker: sleep 100\n' >"$tmp/Procfile"
printf 'GREETING=hello\n' >"$tmp/env"
expect "image import" 0 sw image import --rootfs "$tmp/rootfs.tar" cli-test:base
expect "release" 0 sw release shop --image cli-test:base --env-file "$tmp/env" --procfile "$tmp/Procfile"
expect "secret config" 0 sw config set shop DB_PASSWORD=s3cret --secret
expect "deploy" 0 sw deploy shop --no-wait
has "deploy secret" "secret/shop-config created"
has "deploy web" "deployment.apps/shop created"
has "deploy worker" "deployment.apps/shop-worker created"
expect "deployed web" 0 sw get deploy shop -o json
[ "$(echo "$out" | jq -r '.spec.template.spec.containers[0].image')" = "slipway-release/shop:v2-image" ] && ok ||
	bad "deploy image: $(echo "$out" | jq -c .spec.template.spec.containers)"
[ "$(echo "$out" | jq -r '.spec.template.spec.containers[0].env[0].value')" = hello ] && ok || bad "deploy env"
[ "$(echo "$out" | jq -r '.spec.template.spec.containers[0].envFrom[0].secretRef.name')" = shop-config ] && ok ||
	bad "deploy envFrom"
case "$out" in *s3cret*) bad "the secret value is in the Deployment" ;; *) ok ;; esac
case "$(echo "$out" | jq -r '.metadata.annotations["kubernetes.io/change-cause"]')" in
"deploy shop v2 (sha256:"*) ok ;; *) bad "change-cause" ;; esac
expect "deployed secret" 0 sw get secret shop-config -o json
[ "$(echo "$out" | jq -r .data.DB_PASSWORD | base64 -d)" = s3cret ] && ok || bad "secret value"
expect "scale then redeploy v1" 0 sw scale deploy shop --replicas 3
expect "deploy v1" 0 sw deploy shop v1 --no-wait
has "deploy v1 configured" "deployment.apps/shop configured"
expect "redeployed keeps replicas" 0 sw get deploy shop -o json
[ "$(echo "$out" | jq -r .spec.replicas)" = 3 ] && ok || bad "replicas after deploy: $(echo "$out" | jq .spec.replicas)"
[ "$(echo "$out" | jq -r '.spec.template.spec.containers[0].image')" = "slipway-release/shop:v1-image" ] && ok ||
	bad "v1 image"
if [ -n "$(sw get rs -l app=shop -o name 2>/dev/null)" ]; then
	# a deploy is the whole desired state: after an undo it rolls the release out again
	i=0
	while [ $i -lt 100 ] && [ "$(sw get rs -l app=shop,slipway.dev/process=web -o name | wc -l)" -lt 2 ]; do
		sleep 0.1; i=$((i + 1))
	done
	expect "undo the deploy" 0 sw rollout undo deployment/shop
	expect "undone image" 0 sw get deploy shop -o json
	[ "$(echo "$out" | jq -r '.spec.template.spec.containers[0].image')" = "slipway-release/shop:v2-image" ] && ok ||
		bad "undo image: $(echo "$out" | jq -r '.spec.template.spec.containers[0].image')"
	expect "deploy v1 again" 0 sw deploy shop v1 --no-wait
	has "deploy v1 again configured" "deployment.apps/shop configured"
	expect "redeployed image" 0 sw get deploy shop -o json
	[ "$(echo "$out" | jq -r '.spec.template.spec.containers[0].image')" = "slipway-release/shop:v1-image" ] && ok ||
		bad "deploy after undo kept the undone template"
	[ "$(echo "$out" | jq -r .spec.replicas)" = 3 ] && ok || bad "deploy after undo: replicas"
fi
expect "deploy unknown release" 1 sw deploy shop v9
has "unknown release" "has no release v9"

# ---- TCP and https with a bearer token -------------------------------------
expect "down for tcp" 0 sw down
port=$(( 20000 + $$ % 20000 ))
expect "up with listeners" 0 sw up -- --listen "tcp://127.0.0.1:$port" --listen "https://127.0.0.1:$((port + 1))"
token=$("$slipwayd" token create --name cli-test --state-dir "$state" 2>/dev/null)
[ -n "$token" ] && ok || bad "no token"
expect "tcp with token" 0 env SLIPWAY_HOST="http://127.0.0.1:$port" SLIPWAY_TOKEN="$token" "$slipway" get ns
has "tcp lists" "demo"
expect "tcp without token" 1 env SLIPWAY_HOST="http://127.0.0.1:$port" "$slipway" get ns
has "unauthorized" "error: You must be logged in to the server (Unauthorized)"
expect "https with token" 0 env SLIPWAY_HOST="https://127.0.0.1:$((port + 1))" SLIPWAY_TOKEN="$token" \
	SLIPWAY_HOME="$state" "$slipway" get ns
has "https lists" "demo"

# ---- the same output as kubectl against the same daemon ---------------------
if command -v kubectl >/dev/null && [ -f "$state/tls/server.crt" ]; then
	kc() {
		kubectl --server "https://127.0.0.1:$((port + 1))" --token "$token" \
			--certificate-authority "$state/tls/server.crt" "$@"
	}
	# nothing with an age in it (the two commands run a second apart); the
	# deployment's description up to its events
	for args in "get cm cfg -n demo -o yaml" "get deploy shop -o json" "get secret shop-config -o yaml" \
		"describe cm cfg -n demo" "describe deploy shop" "describe secret shop-config" "describe ns demo"; do
		# shellcheck disable=SC2086
		if kc $args 2>&1 | sed '/^Events:  *[^<]/,$d; /^Events:$/,$d' >"$tmp/kubectl.out" &&
			sw $args 2>&1 | sed '/^Events:  *[^<]/,$d; /^Events:$/,$d' >"$tmp/slipway.out" &&
			diff "$tmp/kubectl.out" "$tmp/slipway.out" >"$tmp/diff.out"; then
			ok
		else
			bad "slipway $args differs from kubectl's:"; head -n 20 "$tmp/diff.out"
		fi
	done
else
	echo "note: kubectl or the TLS certificate missing: comparison skipped"
fi

# ---- down ------------------------------------------------------------------
expect "down" 0 sw down
has "stopped" "slipwayd stopped"
expect "down again" 0 sw down
has "not running" "not running"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
