#!/bin/sh
# hello_deploy.sh PATH/TO/slipway
#
# Issue 5's "done when", end to end with the real parts: examples/hello is
# built, released with its slipway.yaml, and deployed to slipwayd (runc,
# overlayfs, cgroups, SQLite) with 3 replicas; then
#   1. every pod answers on its host port, and the Service answers too;
#   2. killing a container's process gets it restarted, then backed off
#      (CrashLoopBackOff) when it dies again at once;
#   3. scale to 5, then to 2 (then back to 3);
#   4. a new release (a config change) rolls out with maxSurge/maxUnavailable
#      held at every sample of the pods;
#   5. `rollout undo` goes back to the previous revision;
#   6. slipwayd is killed (SIGKILL) in the middle of a rollout and
#      restarted: the rollout completes with no duplicate pods or containers;
#   7. a container that exits while slipwayd is down has its exit recorded
#      (restart count, last state 137) when slipwayd comes back.
#
# Exit 0 pass, 1 fail, 77 skipped (not root, or a tool is missing). Every
# process, container, mount and cgroup it made is removed on exit.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../integration/lib.sh"
lib_init slipway-e2e "$1"
lib_need runc curl python3

pods() { sw get pods -l app.kubernetes.io/name=hello -o json; }
pq() { pods | python3 "$here/pods.py" "$@"; }
counts_are() { [ "$(pq counts | cut -d' ' -f1,2)" = "$1 $1" ] && [ "$(pq counts | cut -d' ' -f3)" = 0 ]; }
greeting() { curl -fsS --max-time 2 "http://127.0.0.1:$1/"; }

step "build and release examples/hello"
lib_hello_image test
sw release hello --image hello:test -f "$src/examples/hello/slipway.yaml" -q >/dev/null ||
	fail "release v1"
slipwayd_start

step "1. deploy v1: 3 replicas, every pod answers on its port, and so does the Service"
sw deploy hello v1 --timeout 180s >"$tmp/deploy1.log" 2>&1 || { cat "$tmp/deploy1.log"; fail "deploy v1"; }
wait_for 60 counts_are 3 || fail "not 3 ready pods: $(pq counts)"
for port in $(pq ports); do
	[ "$(greeting "$port")" = "hello from slipway" ] || fail "pod on port $port did not answer"
done
wait_for 30 greeting 8080 || fail "the Service on 127.0.0.1:8080 did not answer"
[ "$(greeting 8080)" = "hello from slipway" ] || fail "the Service answered '$(greeting 8080)'"
sw get svc hello >"$tmp/svc.txt" || fail "get svc"
port1=$(pq ports | sed -n 1p)
grep -q "ClusterIP" "$tmp/svc.txt" && grep -q "8080/TCP" "$tmp/svc.txt" &&
	grep -q "127.0.0.1:$port1" "$tmp/svc.txt" ||
	fail "get svc does not show type, port and endpoints: $(cat "$tmp/svc.txt")"

step "2. a killed container is restarted, then backed off"
victim=$(pq names | sed -n 1p)
uid=$(pq field "$victim" metadata.uid)
# the host pid of the victim's running container, from the shim's state.json
ctr_pid() {
	python3 -c 'import json,sys; s=json.load(open(sys.argv[1]));
sys.exit(0 if s.get("phase") == "running" and s.get("pid", 0) > 0 and print(s["pid"]) is None else 1)' \
		"$state/pods/$uid/web/state.json"
}
kill_ctr() {
	wait_for 30 ctr_pid || fail "the container of $victim does not run"
	kill -KILL "$(ctr_pid)"
}
kill_ctr
wait_for 60 sh -c "[ \"\$($bin --state-dir $state get pods -o json | python3 $here/pods.py restarts $victim)\" -ge 1 ]" ||
	fail "$victim was not restarted"
last=$(pq field "$victim" 'status.containerStatuses[0].lastState')
echo "$last" | grep -q '"exitCode": 137' || fail "last state of $victim is not exit 137: $last"
wait_for 60 sh -c "[ \"\$($bin --state-dir $state get pods -o json | python3 $here/pods.py field $victim 'status.containerStatuses[0].state.running.startedAt')\" != '{}' ]" ||
	fail "$victim did not run again"
kill_ctr
wait_for 30 sh -c "$bin --state-dir $state get pods -o json | python3 $here/pods.py waiting | grep -q CrashLoopBackOff" ||
	fail "no CrashLoopBackOff after the second kill"
sw describe pod "$victim" | grep -q "Back-off restarting failed container\|back-off" ||
	fail "no back-off event for $victim"
wait_for 60 counts_are 3 || fail "$victim did not come back: $(pq counts)"

step "3. scale to 5, then 2, then 3"
for n in 5 2 3; do
	sw scale deployment hello --replicas "$n" >/dev/null || fail "scale to $n"
	wait_for 90 counts_are "$n" || fail "scale to $n: $(pq counts)"
done

# records the pod counts after every change the store makes (a list, then
# a watch from its resourceVersion): "TOTAL READY" lines in $tmp/samples
sample_start() {
	python3 "$here/podcount.py" "$state/slipwayd.sock" default app.kubernetes.io/name=hello \
		"$tmp/samples" &
	sampler=$!
	lib_on_exit "kill $sampler"
	wait_for 10 grep -q watching "$tmp/samples" || fail "the pod watch did not start"
}
sample_stop() {
	sleep 0.5   # the last events
	kill "$sampler" 2>/dev/null
	wait "$sampler" 2>/dev/null || true
	sed -i '/watching/d' "$tmp/samples"
}

step "4. release v2 (config change) rolls out within maxSurge 1 / maxUnavailable 0"
sw config set hello "GREETING=hello v2" >/dev/null || fail "config set"
sample_start
sw deploy hello v2 --timeout 180s >"$tmp/deploy2.log" 2>&1 || { cat "$tmp/deploy2.log"; fail "deploy v2"; }
sample_stop
# replicas 3, 25%: maxSurge ceil(0.75) = 1, maxUnavailable floor(0.75) = 0
python3 - "$tmp/samples" <<'PY' || fail "rollout bounds broken (samples in $tmp/samples)"
import sys
rows = [tuple(map(int, l.split())) for l in open(sys.argv[1]) if len(l.split()) == 2]
assert len(rows) >= 6, "too few changes seen: %d" % len(rows)
bad = [r for r in rows if r[0] > 3 + 1 or r[1] < 3 - 0]
print("   %d changes seen, max pods %d, min ready %d" % (len(rows), max(r[0] for r in rows), min(r[1] for r in rows)))
assert not bad, "samples outside the bounds: %s" % bad[:5]
PY
wait_for 60 counts_are 3 || fail "after v2: $(pq counts)"
wait_for 30 sh -c "[ \"\$(curl -fsS --max-time 2 http://127.0.0.1:8080/)\" = 'hello v2' ]" ||
	fail "the Service does not answer v2's greeting"

step "5. rollout undo returns to v1"
sw rollout undo deployment/hello >/dev/null || fail "rollout undo"
sw rollout status deployment/hello --timeout 180s >/dev/null || fail "rollout status after undo"
wait_for 60 counts_are 3 || fail "after undo: $(pq counts)"
wait_for 30 sh -c "[ \"\$(curl -fsS --max-time 2 http://127.0.0.1:8080/)\" = 'hello from slipway' ]" ||
	fail "after undo the Service does not answer v1's greeting"
sw rollout history deployment/hello | grep -q . || fail "rollout history"

step "6. kill -9 slipwayd during a rollout, restart it: the rollout completes, no duplicates"
sw deploy hello v2 --no-wait >/dev/null || fail "deploy v2 again"
sleep 1
slipwayd_stop KILL
slipwayd_start
sw rollout status deployment/hello --timeout 180s >/dev/null || fail "the rollout did not complete after a restart"
wait_for 60 counts_are 3 || fail "after the restart: $(pq counts)"
[ "$(sw get rs -l app.kubernetes.io/name=hello -o json | python3 -c 'import json,sys; print(sum(r["status"].get("replicas",0) for r in json.load(sys.stdin)["items"]))')" = 3 ] ||
	fail "replica sets own more than 3 pods"
runc_root=$(find "$state" -maxdepth 3 -type d -name runc | head -n 1)
running=$(runc --root "$runc_root" list -q 2>/dev/null | wc -l)
[ "$running" = 3 ] || fail "$running runc containers run for 3 pods"
[ "$(greeting 8080)" = "hello v2" ] || fail "the Service does not answer v2 after the restart"

step "7. an exit while slipwayd is down is recorded"
victim=$(pq names | sed -n 1p)
uid=$(pq field "$victim" metadata.uid)
before=$(pq restarts "$victim")
slipwayd_stop KILL
kill_ctr
sleep 0.5
slipwayd_start
wait_for 60 sh -c "[ \"\$($bin --state-dir $state get pods -o json | python3 $here/pods.py restarts $victim)\" -gt $before ]" ||
	fail "the exit of $victim while slipwayd was down was lost"
last=$(pq field "$victim" 'status.containerStatuses[0].lastState')
echo "$last" | grep -q '"exitCode": 137' || fail "the exit of $victim while slipwayd was down is not 137: $last"
wait_for 60 counts_are 3 || fail "at the end: $(pq counts)"

echo "PASS"
