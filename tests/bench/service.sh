#!/bin/sh
# service.sh PATH/TO/slipway [SECONDS] [CONNECTIONS]
#
# The cost of a Service with real app pods (a benchmark, not a test): one
# examples/hello pod (busybox httpd, a slow server: the figure that matters
# is the ratio) deployed through slipwayd, then wrk against the pod's host
# port directly and through the Service (slipway-proxy, L7), side by side:
# req/s and p99 latency. All traffic to 127.0.0.1.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
lib_init slipway-svcbench "$1"
lib_need runc curl python3 wrk
secs=${2:-10}
conns=${3:-16}

lib_hello_image bench
sw release hello --image hello:bench -f "$src/examples/hello/slipway.yaml" -q >/dev/null || fail "release"
slipwayd_start
sw deploy hello v1 --timeout 180s >"$tmp/deploy.log" 2>&1 || { cat "$tmp/deploy.log"; fail "deploy"; }
sw scale deployment hello --replicas 1 >/dev/null || fail "scale to 1"
one() { [ "$(sw get pods -l app.kubernetes.io/name=hello -o json | python3 "$src/tests/e2e/pods.py" counts | cut -d' ' -f1,2)" = "1 1" ]; }
wait_for 120 one || fail "not one ready pod"
port=$(sw get pods -l app.kubernetes.io/name=hello -o json | python3 "$src/tests/e2e/pods.py" ports | head -n 1)
wait_for 30 curl -fsS --max-time 2 http://127.0.0.1:8080/ || fail "the Service does not answer"

# run NAME URL: "NAME req/s p99"
run() {
	wrk -t2 -c"$conns" -d"${secs}s" --latency "$2" >"$tmp/wrk-$1.txt" 2>&1 || fail "wrk $1"
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$tmp/wrk-$1.txt")
	p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk-$1.txt")
	errs=$(awk '/Non-2xx|Socket errors/ {print}' "$tmp/wrk-$1.txt" | tr '\n' ' ')
	printf '%-28s %12s %10s  %s\n' "$1" "$rps" "$p99" "$errs"
}
echo "wrk -t2 -c$conns -d${secs}s, one hello pod (busybox httpd), 127.0.0.1"
printf '%-28s %12s %10s\n' "target" "req/s" "p99"
run "pod directly (:$port)" "http://127.0.0.1:$port/"
run "through the Service (:8080)" "http://127.0.0.1:8080/"
# the proxy's own figures for the Service (errors by kind, retries, statuses)
curl -fsS "http://127.0.0.1:$(cat "$state/proxy/admin-port")/stats" | python3 -c 'import json,sys
for s in json.load(sys.stdin)["services"]:
    if s["name"].startswith("default/hello:"):
        print("proxy:", s["name"], "responses", s["responses"], "errors", s["errors"], "retries", s["retries"])'
