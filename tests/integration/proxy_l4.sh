#!/bin/sh
# proxy_l4.sh - slipway-proxy in TCP mode: bytes echoed both ways through
# the proxy (small, and 8 MiB with a half-close, which exercises the
# watermarks), round robin over HTTP backends spoken to as plain TCP, and a
# refused endpoint skipped.
# usage: proxy_l4.sh PATH/TO/slipway-proxy
set -eu
. "$(cd "$(dirname "$0")" && pwd)/proxy_lib.sh"

P=$BASE
E=$((BASE + 1)) A=$((BASE + 2)) B=$((BASE + 3)) DEAD=$((BASE + 4))
backend echo $E echo
backend a $A
backend b $B
ep() { echo "{\"address\":\"127.0.0.1\",\"port\":$1}"; }
config <<JSON
{"version":1,"admin":{"address":"127.0.0.1","port":$ADMIN},"services":[
 {"name":"t/echo","mode":"tcp","listen":[{"address":"127.0.0.1","port":$((P + 10))}],
  "groups":[{"name":"g","endpoints":[$(ep $E)]}]},
 {"name":"t/http-as-tcp","mode":"tcp","listen":[{"address":"127.0.0.1","port":$((P + 11))}],
  "groups":[{"name":"g","endpoints":[$(ep $A),$(ep $DEAD),$(ep $B)]}]}]}
JSON
proxy_start

[ "$(client echo 127.0.0.1 $((P + 10)) 100)" = "echo ok" ] || fail "echo 100 bytes"
[ "$(client echo 127.0.0.1 $((P + 10)) 8388608)" = "echo ok" ] || fail "echo 8 MiB"
ok "tcp echo: 100 bytes and 8 MiB with half-close"

out=$(client get http://127.0.0.1:$((P + 11))/ -n 8 --new-conn)
[ "$out" = "$(printf 'a 4\nb 4\nstatus=200 8')" ] || fail "tcp round robin with a dead endpoint: $out"
[ "$(stat '["services"][1]["errors"]["connect"]')" -ge 1 ] || fail "refused connect not counted"
ok "tcp round robin: a 4, b 4, the refusing endpoint skipped"
[ "$(stat '["services"][0]["bytesIn"]')" -ge 8388708 ] || fail "bytes in not counted"
ok "tcp figures: $(stat '["services"][0]["bytesIn"]') bytes in"
kill -TERM "$PROXY_PID"
wait "$PROXY_PID" || fail "slipway-proxy exited with $?"
ok "SIGTERM: clean exit"
