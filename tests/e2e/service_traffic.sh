#!/bin/sh
# service_traffic.sh PATH/TO/slipway
#
# Issue 6 end to end with the real parts: slipwayd, slipway-proxy and runc
# pods of examples/hello (busybox httpd), all traffic to 127.0.0.1.
#   a. `get svc` / `get endpoints -o json` (v1 Endpoints with the pods' host
#      ports); a NodePort Service answers on 127.0.0.1:NODEPORT; a ClientIP
#      affinity Service sends one client to one pod (GREETING = pod name via
#      a fieldRef, so pods tell themselves apart).
#   b. traffic controls through the API: weights 90/10 over two Deployments
#      (1000 requests split 900±10 / 100±10), a header rule X-Variant: b ->
#      canary, mirroring 50% to a shadow group (the proxy's mirror counters).
#   c. reliability: under a steady hey load, 0 failed requests while scaling
#      3->5->2, rolling out a new release, changing the weights, killing one
#      pod's container, and restarting slipwayd (kill -9; the proxy answers
#      while it is down).
#   d. `slipway top service` and `slipway logs service/NAME`.
#
# Exit 0 pass, 1 fail, 77 skipped (not root, or a tool is missing).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
lib_init slipway-svc "$1"
lib_need runc curl python3 hey

cl() { python3 "$here/svc_client.py" "$@"; }
pods() { sw get pods -l "$1" -o json; }
pq() { sel=$1; shift; pods "$sel" | python3 "$here/pods.py" "$@"; }
ready_is() { [ "$(pq "$1" counts | cut -d' ' -f1,2)" = "$2 $2" ]; }
answers() { curl -fsS --max-time 2 "http://127.0.0.1:$1/" >/dev/null; }
admin() { echo "http://127.0.0.1:$(cat "$state/proxy/admin-port")"; }

step "build examples/hello, start slipwayd"
lib_hello_image test
slipwayd_start

# deployment NAME REPLICAS LABELS(yaml flow) ENV(yaml list items, indented 8)
deployment() {
	cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1}
spec:
  replicas: $2
  selector: {matchLabels: $3}
  template:
    metadata: {labels: $3}
    spec:
      containers:
      - name: web
        image: hello:test
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /healthz, port: http}, periodSeconds: 1, timeoutSeconds: 5}
        env:
$4
---
EOF
}
traffic_svc() { # weights stable canary
	cat <<EOF
apiVersion: v1
kind: Service
metadata:
  name: greet
  annotations:
    slipway.dev/protocol: http
    slipway.dev/access-log: "true"
    slipway.dev/traffic: '{"groups": [{"name": "stable", "selector": {"track": "stable"}, "weight": $1},
      {"name": "canary", "selector": {"track": "canary"}, "weight": $2},
      {"name": "shadow", "selector": {"track": "shadow"}, "weight": 0}],
      "rules": [{"match": {"header": {"name": "X-Variant", "value": "b"}}, "group": "canary"}],
      "mirror": {"group": "shadow", "percent": 50, "timeoutMs": 2000}}'
spec:
  selector: {app: greet}
  ports: [{name: http, port: 18080, targetPort: http}]
EOF
}

{
	deployment who 3 "{app: who}" "        - {name: GREETING, valueFrom: {fieldRef: {fieldPath: metadata.name}}}"
	deployment stable 2 "{app: greet, track: stable}" "        - {name: GREETING, value: v1}"
	deployment canary 1 "{app: greet, track: canary}" "        - {name: GREETING, value: v2}"
	deployment shadow 1 "{app: greet, track: shadow}" "        - {name: GREETING, value: shadow}"
	cat <<EOF
apiVersion: v1
kind: Service
metadata: {name: who}
spec:
  selector: {app: who}
  sessionAffinity: ClientIP
  ports: [{name: http, port: 18081, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: who-np}
spec:
  type: NodePort
  selector: {app: who}
  ports: [{name: http, port: 18082, targetPort: http}]
---
EOF
	traffic_svc 90 10
} >"$tmp/objects.yaml"
sw apply -f "$tmp/objects.yaml" >"$tmp/apply.log" 2>&1 || { cat "$tmp/apply.log"; fail "apply the Deployments and Services"; }
wait_for 120 ready_is app=who 3 || fail "who: not 3 ready pods: $(pq app=who counts)"
for t in stable:2 canary:1 shadow:1; do
	wait_for 120 ready_is "track=${t%:*}" "${t#*:}" || fail "${t%:*}: not ready: $(pq "track=${t%:*}" counts)"
done

step "a. get svc, get endpoints, NodePort, ClientIP affinity"
sw get svc >"$tmp/svc.txt" || fail "get svc"
cat "$tmp/svc.txt"
head -n 1 "$tmp/svc.txt" | grep -q "TYPE.*PORT(S)" || fail "get svc: no TYPE/PORT(S) columns"
grep -q "^who-np *NodePort .*18082:3[0-9]*/TCP" "$tmp/svc.txt" || fail "get svc: who-np is not a NodePort with its node port"
grep -q "^who *ClusterIP .*18081/TCP" "$tmp/svc.txt" || fail "get svc: who is not ClusterIP 18081/TCP"
np=$(sw get svc who-np -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"]["ports"][0]["nodePort"])')
[ "$np" -ge 30000 ] && [ "$np" -le 32767 ] || fail "nodePort $np is not in 30000-32767"
echo "   who-np nodePort $np"
endpoints_match() {
	sw get endpoints who -o json >"$tmp/ep.json" && pods app=who >"$tmp/who.json" &&
	python3 - "$tmp/ep.json" "$tmp/who.json" <<'PY'
import json, sys
ep = json.load(open(sys.argv[1])); pods = json.load(open(sys.argv[2]))["items"]
assert ep["apiVersion"] == "v1" and ep["kind"] == "Endpoints", ep.get("kind")
want = {p["metadata"]["name"]: p["status"]["slipwayPorts"][0]["hostPort"] for p in pods}
# pods share the host network, each with its own host port: one subset per
# set of ports, each address's port the host port of its pod
got = {}
for sub in ep["subsets"]:
    for a in sub["addresses"]:
        assert a["ip"] == "127.0.0.1" and a["targetRef"]["kind"] == "Pod", a
        got[a["targetRef"]["name"]] = [p["port"] for p in sub["ports"]]
assert set(got) == set(want), (got, want)
assert all(got[n] == [want[n]] for n in want), (got, want)
print("   endpoints:", ", ".join("%s:%d" % (n, want[n]) for n in sorted(want)))
PY
}
wait_for 30 endpoints_match || true
endpoints_match || fail "get endpoints who -o json is not the v1 Endpoints of the 3 pods ($(cat "$tmp/ep.json"))"
wait_for 30 answers "$np" || fail "the NodePort Service does not answer on 127.0.0.1:$np"
cl count "http://127.0.0.1:$np/" 30 >"$tmp/np.txt"
grep -q "^errors 0$" "$tmp/np.txt" || fail "NodePort: errors $(cat "$tmp/np.txt")"
[ "$(grep -vc '^errors' "$tmp/np.txt")" = 3 ] || fail "NodePort (no affinity) did not reach 3 pods: $(cat "$tmp/np.txt")"
wait_for 30 answers 18081 || fail "who (ClientIP) does not answer on 18081"
cl count http://127.0.0.1:18081/ 30 >"$tmp/aff.txt"
grep -q "^errors 0$" "$tmp/aff.txt" || fail "ClientIP: errors $(cat "$tmp/aff.txt")"
[ "$(grep -vc '^errors' "$tmp/aff.txt")" = 1 ] || fail "ClientIP affinity sent one client to several pods: $(cat "$tmp/aff.txt")"
echo "   ClientIP: $(head -n 1 "$tmp/aff.txt"); no affinity: $(grep -vc '^errors' "$tmp/np.txt") pods"

step "b. traffic controls: weights 90/10, header rule, mirroring"
wait_for 30 answers 18080 || fail "greet does not answer on 18080"
cl count http://127.0.0.1:18080/ 1000 >"$tmp/w.txt"
cat "$tmp/w.txt" | sed 's/^/   /'
v1=$(awk '$2 == "v1" {print $1}' "$tmp/w.txt"); v2=$(awk '$2 == "v2" {print $1}' "$tmp/w.txt")
grep -q "^errors 0$" "$tmp/w.txt" || fail "weights: errors $(cat "$tmp/w.txt")"
[ "${v1:-0}" -ge 890 ] && [ "${v1:-0}" -le 910 ] && [ "${v2:-0}" -ge 90 ] && [ "${v2:-0}" -le 110 ] ||
	fail "weights 90/10: $v1 v1 / $v2 v2 of 1000"
grep -q shadow "$tmp/w.txt" && fail "the shadow group (weight 0) answered a client"
cl count http://127.0.0.1:18080/ 100 "X-Variant: b" >"$tmp/rule.txt"
[ "$(cat "$tmp/rule.txt")" = "100 v2
errors 0" ] || fail "header rule X-Variant: b -> canary: $(cat "$tmp/rule.txt")"
echo "   X-Variant: b -> 100 of 100 to canary"
wait_for 10 sh -c "python3 $here/svc_client.py stats $(admin)/stats default/greet: | grep -qv 'mirrored=0 '" ||
	fail "no mirrored requests in /stats: $(cl stats "$(admin)/stats" default/greet:)"
echo "   /stats: $(cl stats "$(admin)/stats" default/greet:)"
st=$(cl stats "$(admin)/stats" default/greet:)
mirrored=$(echo "$st" | sed 's/mirrored=\([0-9]*\).*/\1/')
shadow=$(echo "$st" | tr ' ' '\n' | sed -n 's/^shadow:[0-9]*\///p')
mok=$(echo "$st" | sed 's/.* ok=\([0-9]*\).*/\1/')
# 50% of 1100 GETs, +-10%; every mirrored request went to the shadow group
[ "$mirrored" -ge 440 ] && [ "$mirrored" -le 660 ] || fail "mirrored $mirrored of 1100 requests at 50%"
[ "$shadow" = "$mirrored" ] || fail "the shadow group got $shadow of $mirrored mirrored requests"
wait_for 10 sh -c "python3 $here/svc_client.py stats $(admin)/stats default/greet: | grep -q ' ok=$mirrored '" ||
	fail "shadow responses not all successful: $(cl stats "$(admin)/stats" default/greet:)"
echo "   mirrored $mirrored of 1100, all to the shadow group, $mirrored succeeded"

# hey_run PORT NAME: hey in the background for at most 300 s; hey_end
# stops it (SIGINT: it prints its report) and checks 0 failed requests.
hey_run() {
	hey -z 300s -c 8 "http://127.0.0.1:$1/" >"$tmp/hey-$2.txt" 2>&1 &
	hey_pid=$!
	hey_name=$2
	lib_on_exit "kill -KILL $hey_pid"
	sleep 1
}
hey_end() {
	sleep 1
	kill -INT "$hey_pid" 2>/dev/null || true
	wait "$hey_pid" 2>/dev/null || true
	res=$(cl hey "$tmp/hey-$hey_name.txt") || {
		grep -A 8 "Status code distribution" "$tmp/hey-$hey_name.txt"
		# the proxy's view: errors by kind and retries of every Service
		curl -fsS "$(admin)/stats" | python3 -c 'import json,sys
for s in json.load(sys.stdin)["services"]: print("   proxy:", s["name"], "errors", s["errors"], "retries", s["retries"])'
		grep -i "warn\|error" "$state/proxy/"*.log 2>/dev/null | tail -n 10
		fail "$hey_name: $res"
	}
	echo "   $hey_name: $res"
}

step "c. reliability: 0 failed requests under load"
hey_run 18080 weights
traffic_svc 50 50 | sw apply -f - >/dev/null || fail "apply weights 50/50"
sleep 2
traffic_svc 0 100 | sw apply -f - >/dev/null || fail "apply weights 0/100"
sleep 2
traffic_svc 90 10 | sw apply -f - >/dev/null || fail "apply weights 90/10"
hey_end

sw release hello --image hello:test -f "$src/examples/hello/slipway.yaml" -q >/dev/null || fail "release hello v1"
sw deploy hello v1 --timeout 180s >"$tmp/deploy1.log" 2>&1 || { cat "$tmp/deploy1.log"; fail "deploy hello v1"; }
H=app.kubernetes.io/name=hello
wait_for 60 ready_is $H 3 || fail "hello: not 3 ready pods: $(pq $H counts)"
wait_for 30 answers 8080 || fail "hello's Service does not answer on 8080"

hey_run 8080 scale
for n in 5 2; do
	sw scale deployment hello --replicas "$n" >/dev/null || fail "scale to $n"
	wait_for 90 ready_is $H "$n" || fail "scale to $n: $(pq $H counts)"
	wait_for 30 sh -c "[ \$($bin --state-dir $state get pods -l $H -o json | python3 $here/pods.py names | wc -l) = $n ]" ||
		fail "scale to $n: pods left over"
done
hey_end
sw scale deployment hello --replicas 3 >/dev/null || fail "scale to 3"
wait_for 90 ready_is $H 3 || fail "scale to 3: $(pq $H counts)"

hey_run 8080 rollout
sw config set hello "GREETING=hello v2" >/dev/null || fail "config set"
sw deploy hello v2 --timeout 180s >"$tmp/deploy2.log" 2>&1 || { cat "$tmp/deploy2.log"; fail "deploy v2"; }
wait_for 60 ready_is $H 3 || fail "after v2: $(pq $H counts)"
wait_for 30 sh -c "[ \"\$(curl -fsS --max-time 2 http://127.0.0.1:8080/)\" = 'hello v2' ]" ||
	fail "the Service does not answer v2's greeting"
hey_end

hey_run 8080 kill-pod
victim=$(pq $H names | sed -n 1p)
uid=$(pq $H field "$victim" metadata.uid)
pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$state/pods/$uid/web/state.json")
kill -KILL "$pid" || fail "kill $pid ($victim)"
wait_for 60 sh -c "[ \"\$($bin --state-dir $state get pods -l $H -o json | python3 $here/pods.py restarts $victim)\" -ge 1 ]" ||
	fail "$victim was not restarted"
wait_for 60 ready_is $H 3 || fail "after the kill: $(pq $H counts)"
hey_end

hey_run 8080 restart-slipwayd
slipwayd_stop KILL
sleep 1
[ "$(curl -fsS --max-time 2 http://127.0.0.1:8080/)" = "hello v2" ] || fail "no answer while slipwayd is down"
echo "   answered while slipwayd was down"
sleep 1
slipwayd_start
wait_for 30 sw get pods >/dev/null || fail "slipwayd did not come back"
sleep 2
hey_end

step "d. top service, logs service/NAME"
sw top service greet >"$tmp/top.txt" || fail "top service greet"
cat "$tmp/top.txt" | sed 's/^/   /'
head -n 1 "$tmp/top.txt" | grep -q "GROUP *WEIGHT *ENDPOINTS *RPS *SUCCESS% *P50 *P90 *P99 *ERRORS *ACTIVE *MIRRORED" ||
	fail "top service: header"
for g in stable canary; do
	rps=$(awk -v g=$g '$2 == g {print $5}' "$tmp/top.txt")
	[ -n "$rps" ] && [ "$rps" != "0.0" ] && [ "$rps" != "-" ] || fail "top service: group $g has RPS '$rps'"
done
sw top service greet -o json | python3 -c 'import json,sys; j=json.load(sys.stdin); assert j["services"][0]["groups"]' ||
	fail "top service -o json"
sw logs service/greet --tail 5 >"$tmp/access.txt" || fail "logs service/greet"
[ "$(wc -l <"$tmp/access.txt")" = 5 ] || fail "logs --tail 5 gave $(wc -l <"$tmp/access.txt") lines"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$tmp/access.txt" ||
	fail "the access log is not JSON lines: $(head -n 2 "$tmp/access.txt")"
echo "   access log: $(tail -n 1 "$tmp/access.txt")"
if sw logs service/who >"$tmp/noal.txt" 2>&1; then fail "logs service/who without the annotation succeeded"; fi
grep -q "slipway.dev/access-log" "$tmp/noal.txt" || fail "logs service/who: unclear message: $(cat "$tmp/noal.txt")"

echo "PASS"
