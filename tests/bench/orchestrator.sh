#!/bin/sh
# orchestrator.sh PATH/TO/slipway [COUNTS]
#
# apply -> Ready latency of slipwayd for Deployments of 1, 10 and 100 pods
# (COUNTS, default "1 10 100") of examples/hello, after the image is
# unpacked (a warm-up pod unpacks it first). A pod is Ready when its
# container runs (no probe: this measures slipway, not a probe period);
# PROBE=1 adds a readiness probe on /healthz every second.
# For each count it prints: the time from `slipway apply` to the last pod
# Ready, the per-pod latency (watch shows the pod -> Ready) p50 and p99, and
# beside it the reference: the same number of containers of the same image
# started with plain `runc run -d` one after the other, the first answering
# HTTP (the sanity check); the reference's clock stops when the last `runc
# run -d` returned, as a pod without a probe is Ready when its process runs
# (what the orchestrator adds on top of runc). Then the daemon's memory
# (VmRSS, VmHWM). Ratios, not absolute times: the machine is shared.
#
# Not a test: no thresholds. Needs root, runc, curl, python3, umoci.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
lib_init slipway-bench-orch "$1"
lib_need runc curl python3 umoci
counts=${2:-1 10 100}

step "building examples/hello"
lib_hello_image bench
slipwayd_start
sock=$state/slipwayd.sock
sw apply -f - >/dev/null <<EOF || fail "namespace"
apiVersion: v1
kind: Namespace
metadata: {name: bench}
EOF

deployment() { # NAME REPLICAS
	cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1, namespace: bench}
spec:
  replicas: $2
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: hello:bench
        ports: [{containerPort: 8080}]
EOF
	if [ -n "${PROBE:-}" ]; then
		cat <<EOF
        readinessProbe:
          httpGet: {path: /healthz, port: 8080}
          periodSeconds: 1
          timeoutSeconds: 5
EOF
	fi
}

percentile() { # P < sorted numbers
	python3 -c 'import sys,json; v=json.load(sys.stdin); p=float(sys.argv[1]);
print("%.1f" % (v[min(len(v)-1, int(round(p/100*(len(v)-1))))] if v else float("nan")))' "$1"
}

step "warm-up (unpacks the image's layers once)"
deployment warm 1 | sw apply -f - >/dev/null || fail "apply warm"
sw rollout status -n bench deployment/warm --timeout 120s >/dev/null || fail "warm-up not ready"
sw delete -n bench deployment warm >/dev/null

# the reference: plain runc, same image, same count
umoci unpack --image "$state/images:hello:bench" "$tmp/bundle" >/dev/null || fail "umoci unpack"
runc_ref() { # COUNT -> seconds until every container answered
	n=$1
	python3 - "$tmp/bundle/config.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["linux"]["namespaces"] = [x for x in c["linux"]["namespaces"] if x["type"] != "network"]
c["root"]["readonly"] = True   # shared by every container; the app writes only /tmp
c["linux"].pop("seccomp", None)   # slipway's pods have no seccomp filter either (yet)
if not any(m["destination"] == "/tmp" for m in c["mounts"]):
    c["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                        "options": ["nosuid", "nodev", "mode=1777"]})
json.dump(c, open(sys.argv[1], "w"))
PY
	# the bundles first (their configs differ only in PORT), then the clock
	i=0
	while [ $i -lt "$n" ]; do
		mkdir -p "$tmp/ref/$i"
		i=$((i + 1))
	done
	python3 - "$tmp/bundle/config.json" "$tmp/ref" "$n" "$tmp/bundle/rootfs" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
env = [e for e in c["process"]["env"] if not e.startswith("PORT=")]
c["root"]["path"] = sys.argv[4]
for i in range(int(sys.argv[3])):
    c["process"]["env"] = env + ["PORT=%d" % (41000 + i)]
    json.dump(c, open("%s/%d/config.json" % (sys.argv[2], i), "w"))
PY
	t0=$(python3 "$here/podwatch.py" --now)
	i=0
	while [ $i -lt "$n" ]; do
		(cd "$tmp/ref/$i" && runc --root "$tmp/ref/runc" run -d "ref-$i" </dev/null >/dev/null 2>&1) ||
			fail "runc run ref-$i"
		i=$((i + 1))
	done
	# what "Ready" means above without a probe: the container's process runs
	t1=$(python3 "$here/podwatch.py" --now)
	wait_for 30 curl -fsS "http://127.0.0.1:41000/healthz" || fail "ref-0 never answered"
	for id in $(runc --root "$tmp/ref/runc" list -q); do
		runc --root "$tmp/ref/runc" kill "$id" KILL 2>/dev/null || true
	done
	sleep 0.2
	for id in $(runc --root "$tmp/ref/runc" list -q); do
		runc --root "$tmp/ref/runc" delete -f "$id" 2>/dev/null || true
	done
	rm -rf "$tmp/ref"
	python3 -c "print('%.3f' % ($t1 - $t0))"
}

printf '\n%-6s %14s %12s %12s %16s %8s\n' pods "apply->Ready s" "p50 ms/pod" "p99 ms/pod" "runc-only s" ratio
for n in $counts; do
	python3 "$here/podwatch.py" "$sock" bench "$n" 300 >"$tmp/watch.$n" &
	wpid=$!
	wait_for 5 grep -q watching "$tmp/watch.$n" || fail "watch did not start"
	t0=$(python3 "$here/podwatch.py" --now)
	deployment "b$n" "$n" | sw apply -f - >/dev/null || fail "apply b$n"
	wait "$wpid" || fail "watch for b$n"
	result=$(tail -n 1 "$tmp/watch.$n")
	ready=$(echo "$result" | python3 -c 'import json,sys; print(json.load(sys.stdin)["ready"])')
	[ "$ready" -eq "$n" ] || fail "only $ready of $n pods became Ready"
	total=$(echo "$result" | python3 -c "import json,sys; r=json.load(sys.stdin); print('%.3f' % (r['last_ready'] - $t0))")
	p50=$(echo "$result" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["per_pod_ms"]))' | percentile 50)
	p99=$(echo "$result" | python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["per_pod_ms"]))' | percentile 99)
	rss=$(awk '/VmRSS/{print $2" "$3}' "/proc/$slipwayd_pid/status")
	sw delete -n bench deployment "b$n" >/dev/null
	wait_for 120 sh -c "[ \"\$($bin --state-dir $state get pods -n bench -o name | wc -l)\" -eq 0 ]" ||
		fail "pods of b$n were not removed"
	ref=$(runc_ref "$n")
	ratio=$(python3 -c "print('%.2f' % ($total / $ref if $ref > 0 else 0))")
	printf '%-6s %14s %12s %12s %16s %7sx   (slipwayd RSS %s)\n' "$n" "$total" "$p50" "$p99" "$ref" "$ratio" "$rss"
done
echo
echo "slipwayd memory: $(awk '/VmRSS|VmHWM/{printf "%s %s %s  ", $1, $2, $3}' "/proc/$slipwayd_pid/status")"
