#!/bin/sh
# proxy_reload.sh - slipway-proxy's configuration changes and faults under
# load: weights changed three times under wrk with 0 failed requests, one
# backend killed under wrk with 0 failed GETs (retries), terminating
# endpoints get no new requests, a bad file (syntax, field, busy port) is
# rejected while the old configuration keeps serving, and SIGTERM lets an
# in-flight request finish.
# usage: proxy_reload.sh PATH/TO/slipway-proxy
set -eu
. "$(cd "$(dirname "$0")" && pwd)/proxy_lib.sh"
command -v wrk >/dev/null 2>&1 || { echo "skip: wrk is missing"; exit 77; }

P=$((BASE + 10))
A=$((BASE + 1)) B=$((BASE + 2)) C=$((BASE + 3))
backend a $A
backend b $B
backend c $C
U=http://127.0.0.1:$P
ep() { echo "{\"address\":\"127.0.0.1\",\"port\":$1${2:+,\"terminating\":$2}}"; }
cfg() { # VERSION STABLE_WEIGHT CANARY_WEIGHT [B_TERMINATING]
	config <<JSON
{"version":$1,"admin":{"address":"127.0.0.1","port":$ADMIN},"services":[
 {"name":"t/web","listen":[{"address":"127.0.0.1","port":$P}],
  "groups":[{"name":"stable","weight":$2,"endpoints":[$(ep $A),$(ep $B "${4:-false}")]},
            {"name":"canary","weight":$3,"endpoints":[$(ep $C)]}]}]}
JSON
}
# wrk_check OUT: no socket errors, no non-2xx/3xx, some requests
# wait_failures N: until /stats counts N rejected files
wait_failures() {
	i=0
	until [ "$(stat '["reloadFailures"]')" = "$1" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || fail "rejected file $1 was not seen"
		sleep 0.1
	done
}
wrk_check() {
	grep -q 'requests in' "$1" || fail "wrk did not run: $(cat "$1")"
	if grep -E 'Socket errors|Non-2xx' "$1"; then fail "$2: failed requests under load"; fi
	echo "  $(grep 'requests in' "$1" | sed 's/^ *//')"
}

cfg 1 90 10
proxy_start

wrk -t2 -c16 -d6s "$U/" >"$T/wrk1.out" 2>&1 &
W=$!
sleep 1.5; cfg 2 50 50
sleep 1.5; cfg 3 0 100
sleep 1.5; cfg 4 100 0
wait $W || fail "wrk failed"
wrk_check "$T/wrk1.out" "weight changes"
wait_version 4
[ "$(stat '["reloads"]')" = 4 ] || fail "expected 4 applied configurations"
ok "weights changed 3 times under wrk: 0 failed requests"

wrk -t2 -c16 -d6s "$U/" >"$T/wrk2.out" 2>&1 &
W=$!
sleep 2
kill -9 "$PID_b"
wait "$PID_b" 2>/dev/null || true
wait $W || fail "wrk failed"
wrk_check "$T/wrk2.out" "backend killed"
[ "$(stat '["services"][0]["errors"]["connect"]')" -ge 1 ] || fail "the refused connects were not counted"
ok "backend b killed under wrk: 0 failed GETs ($(stat '["services"][0]["retries"]') retries)"

backend b $B
cfg 5 100 0 true
wait_version 5
: >"$T/b.log"
out=$(client get "$U/" -n 20 --new-conn)
[ "$out" = "$(printf 'a 20\nstatus=200 20')" ] || fail "terminating endpoint still chosen: $out"
[ "$(lines "$T/b.log")" = 0 ] || fail "b got requests while terminating"
ok "terminating endpoint b: no new requests"

echo '{"version": 6, "services": [' | config
wait_failures 1
[ "$(stat '["version"]')" = 5 ] || fail "a broken file was applied"
cfg 7 -1 0
wait_failures 2
grep -q 'services\[0\].groups\[0\]' "$T/proxy.log" || fail "the error does not name the field"
[ "$(stat '["version"]')" = 5 ] || fail "a bad weight was applied"
config <<JSON
{"version":8,"admin":{"address":"127.0.0.1","port":$ADMIN},"services":[
 {"name":"t/web","listen":[{"address":"127.0.0.1","port":$P}],"groups":[{"name":"g","endpoints":[$(ep $A)]}]},
 {"name":"t/busy","listen":[{"address":"127.0.0.1","port":$C}],"groups":[{"name":"g","endpoints":[$(ep $A)]}]}]}
JSON
wait_failures 3
[ "$(stat '["version"]')" = 5 ] || fail "a configuration with a busy port was applied"
grep -q "listen on 127.0.0.1:$C" "$T/proxy.log" || fail "the busy port is not named"
[ "$(client get "$U/" -n 4 | head -n 1)" = "a 4" ] || fail "not serving after rejected files"
ok "bad files (syntax, field, busy port) rejected, version 5 still serving"
grep -E 'rejected' "$T/proxy.log" | head -n 3 | sed 's/^/  /'

curl -s --max-time 10 -o "$T/slow.out" -w '%{http_code}' "$U/sleep/1500" >"$T/slow.code" &
SLOW=$!
sleep 0.4
kill -TERM "$PROXY_PID"
wait $SLOW || true
[ "$(cat "$T/slow.code")" = 200 ] || fail "in-flight request cut by SIGTERM: $(cat "$T/slow.code")"
wait "$PROXY_PID" || fail "slipway-proxy exited with $?"
ok "SIGTERM: the in-flight request finished, clean exit"
