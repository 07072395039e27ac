#!/bin/sh
# proxy_l7.sh - slipway-proxy in HTTP mode against real backends: round
# robin, least-conn, ClientIP affinity, weights (90/10 within 1% over 10,000
# requests), header/cookie/path/method/User-Agent rules, the sticky cookie,
# mirroring (tagged copies; a hanging shadow does not hold the primary),
# pipelining, chunked bodies, and bad input (400, 431, 408, 502, 504).
# usage: proxy_l7.sh PATH/TO/slipway-proxy
set -eu
. "$(cd "$(dirname "$0")" && pwd)/proxy_lib.sh"
command -v hey >/dev/null 2>&1 || { echo "skip: hey is missing"; exit 77; }

P=$BASE
A=$((BASE + 1)) B=$((BASE + 2)) C=$((BASE + 3)) S=$((BASE + 4)) HANG=$((BASE + 5)) GARB=$((BASE + 6))
backend a $A
backend b $B
backend c $C
backend s $S
backend hang $HANG hang
backend garb $GARB garbage
U=http://127.0.0.1
ep() { echo "{\"address\":\"127.0.0.1\",\"port\":$1}"; }

# 1. round robin and least-conn over a, b; affinity; rules; sticky; mirror
config <<JSON
{"version":1,"admin":{"address":"127.0.0.1","port":$ADMIN},"services":[
 {"name":"t/rr","listen":[{"address":"127.0.0.1","port":$((P + 10))}],"accessLog":"$T/access.log",
  "groups":[{"name":"g","endpoints":[$(ep $A),$(ep $B)]}]},
 {"name":"t/lc","listen":[{"address":"127.0.0.1","port":$((P + 11))}],"balance":"least-conn",
  "groups":[{"name":"g","endpoints":[$(ep $A),$(ep $B)]}]},
 {"name":"t/aff","listen":[{"address":"127.0.0.1","port":$((P + 12))}],
  "affinity":{"clientIP":true,"timeoutSeconds":60},
  "groups":[{"name":"g","endpoints":[$(ep $A),$(ep $B),$(ep $C)]}]},
 {"name":"t/weights","listen":[{"address":"127.0.0.1","port":$((P + 13))}],
  "groups":[{"name":"stable","weight":90,"endpoints":[$(ep $A)]},
            {"name":"canary","weight":10,"endpoints":[$(ep $B)]}]},
 {"name":"t/rules","listen":[{"address":"127.0.0.1","port":$((P + 14))}],
  "groups":[{"name":"stable","weight":100,"endpoints":[$(ep $A)]},
            {"name":"canary","weight":0,"endpoints":[$(ep $B)]},
            {"name":"mobile","weight":0,"endpoints":[$(ep $C)]}],
  "rules":[{"match":{"header":{"name":"X-Variant","value":"b"}},"group":"canary"},
           {"match":{"cookie":{"name":"variant","value":"b"}},"group":"canary"},
           {"match":{"pathPrefix":"/beta"},"group":"canary"},
           {"match":{"method":"DELETE"},"group":"canary"},
           {"match":{"userAgent":"Mobile"},"group":"mobile"}]},
 {"name":"t/sticky","listen":[{"address":"127.0.0.1","port":$((P + 15))}],
  "groups":[{"name":"blue","weight":50,"endpoints":[$(ep $A)]},
            {"name":"green","weight":50,"endpoints":[$(ep $B)]}],
  "sticky":{"cookie":"slipway-variant","maxAgeSeconds":600}},
 {"name":"t/mirror","listen":[{"address":"127.0.0.1","port":$((P + 16))}],
  "groups":[{"name":"stable","weight":1,"endpoints":[$(ep $C)]},
            {"name":"shadow","weight":0,"endpoints":[$(ep $S)]}],
  "mirror":{"group":"shadow","percent":100,"timeoutMs":2000}},
 {"name":"t/mirror-hang","listen":[{"address":"127.0.0.1","port":$((P + 17))}],
  "groups":[{"name":"stable","weight":1,"endpoints":[$(ep $C)]},
            {"name":"shadow","weight":0,"endpoints":[$(ep $HANG)]}],
  "mirror":{"group":"shadow","percent":100,"timeoutMs":10000}},
 {"name":"t/bad","listen":[{"address":"127.0.0.1","port":$((P + 18))}],
  "timeouts":{"headerMs":500,"serverMs":500},
  "groups":[{"name":"g","endpoints":[$(ep $A)]}]},
 {"name":"t/garbage","listen":[{"address":"127.0.0.1","port":$((P + 19))}],
  "groups":[{"name":"g","endpoints":[$(ep $GARB)]}]},
 {"name":"t/hang","listen":[{"address":"127.0.0.1","port":$((P + 20))}],
  "timeouts":{"serverMs":500},
  "groups":[{"name":"g","endpoints":[$(ep $HANG)]}]}
]}
JSON
proxy_start --log-format json

out=$(client get $U:$((P + 10))/ -n 10)
[ "$out" = "$(printf 'a 5\nb 5\nstatus=200 10')" ] || fail "round robin: $out"
ok "round robin: a 5, b 5"

# least-conn: a slow request holds one backend; the next ones go to the other
curl -s --max-time 20 $U:$((P + 11))/sleep/5000 >"$T/slow.out" &
SLOW=$!
i=0
until [ "$(stat '["services"][1]["groups"][0]["activeConnections"]')" = 1 ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "least-conn: the slow request never arrived"
	sleep 0.02
done
out=$(client get $U:$((P + 11))/ -n 6 --new-conn | head -n 1)
wait $SLOW
slow=$(cat "$T/slow.out")
case "$out" in
"a 6") [ "$slow" = b ] || fail "least-conn: slow on $slow, quick ones $out" ;;
"b 6") [ "$slow" = a ] || fail "least-conn: slow on $slow, quick ones $out" ;;
*) fail "least-conn: quick requests spread: $out" ;;
esac
ok "least-conn: the busy backend ($slow) got none of 6 requests"

out=$(client get $U:$((P + 12))/ -n 12 --new-conn | grep -vc status=)
[ "$out" = 1 ] || fail "affinity: one client spread over $out backends"
ok "ClientIP affinity: 12 connections, one backend"

: >"$T/a.log"
: >"$T/b.log"
hey -n 10000 -c 8 -disable-compression $U:$((P + 13))/ >"$T/hey.out" 2>&1 || fail "hey failed"
na=$(lines "$T/a.log") nb=$(lines "$T/b.log")
[ $((na + nb)) -eq 10000 ] || fail "weights: $na + $nb requests, not 10000"
[ "$nb" -ge 900 ] && [ "$nb" -le 1100 ] || fail "weights: canary got $nb of 10000"
grep -q '\[200\].*10000 responses' "$T/hey.out" || fail "weights: not all 200: $(grep -A3 'Status code' "$T/hey.out")"
[ "$(stat '["services"][3]["groups"][1]["requests"]')" = "$nb" ] || fail "weights: /stats disagrees"
ok "weights 90/10: stable $na, canary $nb of 10000"

r() { client get $U:$((P + 14))"$@" | head -n 1; }
[ "$(r /)" = "a 1" ] || fail "rules: default"
[ "$(r / -H 'X-Variant: b')" = "b 1" ] || fail "rules: header"
[ "$(r / -H 'x-variant: b')" = "b 1" ] || fail "rules: header name case"
[ "$(r / -H 'X-Variant: c')" = "a 1" ] || fail "rules: header value"
[ "$(r / -H 'Cookie: x=1; variant=b')" = "b 1" ] || fail "rules: cookie"
[ "$(r / -H 'Cookie: variant=bb')" = "a 1" ] || fail "rules: cookie value"
[ "$(r /beta/x)" = "b 1" ] || fail "rules: path prefix"
[ "$(r /alpha)" = "a 1" ] || fail "rules: other path"
[ "$(r / --method DELETE)" = "b 1" ] || fail "rules: method"
[ "$(r / -H 'User-Agent: Foo Mobile Safari')" = "c 1" ] || fail "rules: user agent"
ok "rules: header, cookie, path prefix, method, user agent"

for i in 1 2; do
	out=$(client sticky $U:$((P + 15))/ -n 10)
	echo "$out" | grep -q "unexpected" && fail "sticky: $out"
	case "$out" in
	*"slipway-variant=blue"*"bodies a") ;;
	*"slipway-variant=green"*"bodies b") ;;
	*) fail "sticky: $out" ;;
	esac
	echo "$out" | grep set-cookie
done
ok "sticky cookie: each user kept in the group first chosen"

: >"$T/s.log"
out=$(client get $U:$((P + 16))/m -n 10)
[ "$out" = "$(printf 'c 10\nstatus=200 10')" ] || fail "mirror: primary answers $out"
client get $U:$((P + 16))/post --method POST -n 2 >/dev/null
i=0
until [ "$(lines "$T/s.log")" -ge 10 ] || [ $i -gt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ "$(grep -c 'GET /m shadow=1' "$T/s.log")" = 10 ] || fail "mirror: shadow log $(cat "$T/s.log")"
grep -q POST "$T/s.log" && fail "mirror: a POST was mirrored"
[ "$(stat '["services"][6]["mirror"]["requests"]')" = 10 ] || fail "mirror: /stats requests"
ok "mirror: 10 GETs copied with X-Slipway-Shadow: 1, POSTs not"

# a shadow that never answers (timeout 10 s) must not hold the primary
for i in 1 2 3 4 5; do
	curl -sf --max-time 5 $U:$((P + 17))/ >/dev/null || fail "mirror: primary held by a hanging shadow"
done
[ "$(stat '["services"][7]["mirror"]["requests"]')" = 5 ] || fail "mirror-hang: /stats"
ok "mirror: hanging shadow, 5 primary requests answered at once"

# pipelining: two requests in one write, answers in order
hex=$(printf 'GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /status/404 HTTP/1.1\r\nHost: x\r\n\r\n' | od -An -tx1 | tr -d ' \n')
out=$(client raw 127.0.0.1 $((P + 10)) "$hex" --wait 1)
[ "$(echo "$out" | grep HTTP/ | tr -d '\r' | tr '\n' ,)" = "HTTP/1.1 200 OK,HTTP/1.1 404 Not Found," ] || fail "pipelining: $out"
ok "pipelining: two requests, two answers in order"

# chunked request body, chunked response
out=$(printf 'hello' | curl -s -H 'Transfer-Encoding: chunked' --data-binary @- $U:$((P + 10))/post)
case "$out" in a | b) ;; *) fail "chunked request: $out" ;; esac
[ "$(curl -s $U:$((P + 10))/chunked | head -c 8)" = "one-two-" ] || fail "chunked response"
ok "chunked bodies both ways"

# bad input
hex=$(printf 'GARBAGE / NOPE\r\n\r\n' | od -An -tx1 | tr -d ' \n')
out=$(client raw 127.0.0.1 $((P + 18)) "$hex")
[ "$out" = "$(printf 'HTTP/1.1 400 Bad Request\nclosed')" ] || fail "400: $out"
"$PY" -c "import sys; sys.stdout.buffer.write(b'GET / HTTP/1.1\r\nHost: x\r\nX-Big: ' + b'y' * 20000 + b'\r\n\r\n')" >"$T/big.req"
out=$(client raw 127.0.0.1 $((P + 18)) "@$T/big.req")
[ "$out" = "$(printf 'HTTP/1.1 431 Request Header Fields Too Large\nclosed')" ] || fail "431: $out"
hex=$(printf 'GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n' | od -An -tx1 | tr -d ' \n')
out=$(client raw 127.0.0.1 $((P + 18)) "$hex" --wait 5)
[ "$out" = "$(printf 'HTTP/1.1 408 Request Timeout\nclosed')" ] || fail "408: $out"
hex=$(printf 'GET / HTTP/1.1\r\nHost: x\r\n' | od -An -tx1 | tr -d ' \n')
out=$(client raw 127.0.0.1 $((P + 18)) "$hex" --trickle 0.2 --wait 5)
[ "$out" = "$(printf 'HTTP/1.1 408 Request Timeout\nclosed')" ] || fail "408 (slowloris): $out"
[ "$(curl -s -o /dev/null -w '%{http_code}' $U:$((P + 19))/)" = 502 ] || fail "garbage backend: not 502"
[ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 $U:$((P + 20))/)" = 504 ] || fail "hanging backend: not 504"
[ "$(stat '["services"][10]["errors"]["timeout"]')" = 1 ] || fail "504 not counted as a timeout"
# still fine after all that
[ "$(client get $U:$((P + 18))/ -n 3 | head -n 1)" = "a 3" ] || fail "proxy unwell after bad input"
ok "bad input: 400, 431, 408 (partial head, slowloris), 502 (garbage), 504 (hang)"

"$PY" - "$T/access.log" <<'PYEOF' || fail "access log"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert len(lines) >= 10, len(lines)
l = lines[0]
assert l["service"] == "t/rr" and l["status"] == 200 and l["method"] == "GET", l
assert l["endpoint"].startswith("127.0.0.1:") and l["group"] == "g", l
PYEOF
"$PY" -c "import json,sys; [json.loads(l) for l in open(sys.argv[1]) if l.strip()]" "$T/proxy.log" ||
	fail "--log-format json: a line is not JSON"
ok "access log (JSON lines) and --log-format json"
curl -sf "http://127.0.0.1:$ADMIN/metrics" | grep -q 'slipway_proxy_requests_total{service="t/weights",group="canary"}' ||
	fail "/metrics lacks per-group figures"
kill -TERM "$PROXY_PID"
wait "$PROXY_PID" || fail "slipway-proxy exited with $?"
ok "SIGTERM: clean exit"
