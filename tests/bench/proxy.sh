#!/bin/sh
# proxy.sh PATH/TO/slipway-proxy [SECONDS] [CONNECTIONS]
#
# The service proxy's benchmark: wrk (2 threads, 64 connections by default,
# keep-alive) against one backend directly, through slipway-proxy and through
# haproxy configured the same way (the same two backends, round robin,
# keep-alive to clients and backends, one thread like slipway-proxy), in HTTP
# (L7) and TCP (L4) mode. Prints req/s and p99 for each side by side, the
# ratios to haproxy and the p99 added over the direct run; then the memory
# per idle client connection (RSS before/after opening N idle connections).
#
# Backends are haproxy instances answering a fixed 200 from memory
# (`http-request return`), so the backends are not what limits the run.
# Build the proxy without sanitizers for meaningful figures:
#   cmake -S . -B _build/release -DCMAKE_BUILD_TYPE=Release
#   cmake --build _build/release --target slipway-proxy
#   tests/bench/proxy.sh _build/release/cmd/slipway-proxy
# ROUNDS (default 3): each figure is the best of that many runs.
# Not a test: no thresholds. The machine is shared: read ratios, not absolutes.
set -eu
PROXY=${1:-}
SECS=${2:-10}
CONNS=${3:-64}
IDLE=${IDLE:-2000}
ROUNDS=${ROUNDS:-3}
[ -x "$PROXY" ] || { echo "usage: $0 PATH/TO/slipway-proxy [SECONDS] [CONNECTIONS]" >&2; exit 2; }
for t in wrk haproxy curl python3; do
	command -v $t >/dev/null 2>&1 || { echo "skip: $t is missing"; exit 77; }
done
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

T=$(mktemp -d /tmp/slipway-proxy-bench.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

BASE=$((10000 + ($$ % 400) * 50))
B1=$((BASE + 1)) B2=$((BASE + 2))
S7=$((BASE + 10)) S4=$((BASE + 11)) H7=$((BASE + 20)) H4=$((BASE + 21)) ADMIN=$((BASE + 49))

wait_port() {
	i=0
	until curl -s -o /dev/null "http://127.0.0.1:$1/"; do
		i=$((i + 1))
		[ $i -lt 200 ] || { echo "port $1 did not open" >&2; exit 1; }
		sleep 0.05
	done
}

cat >"$T/backends.cfg" <<EOF
global
	nbthread 1
	maxconn 8000
defaults
	mode http
	timeout client 60s
	timeout server 60s
	timeout connect 5s
frontend a
	bind 127.0.0.1:$B1
	http-request return status 200 content-type text/plain string "a"
frontend b
	bind 127.0.0.1:$B2
	http-request return status 200 content-type text/plain string "b"
EOF
cat >"$T/haproxy.cfg" <<EOF
global
	nbthread 1
	maxconn 8000
defaults
	timeout client 60s
	timeout server 60s
	timeout connect 1s
	timeout http-keep-alive 60s
frontend web
	mode http
	option http-keep-alive
	bind 127.0.0.1:$H7
	default_backend web
backend web
	mode http
	balance roundrobin
	http-reuse always
	server a 127.0.0.1:$B1
	server b 127.0.0.1:$B2
frontend tcp
	mode tcp
	bind 127.0.0.1:$H4
	default_backend tcp
backend tcp
	mode tcp
	balance roundrobin
	server a 127.0.0.1:$B1
	server b 127.0.0.1:$B2
EOF
cat >"$T/slipway.json" <<EOF
{"version":1,"admin":{"address":"127.0.0.1","port":$ADMIN},"services":[
 {"name":"bench/web","mode":"http","balance":"round-robin",
  "listen":[{"address":"127.0.0.1","port":$S7}],
  "groups":[{"name":"g","endpoints":[{"address":"127.0.0.1","port":$B1},{"address":"127.0.0.1","port":$B2}]}]},
 {"name":"bench/tcp","mode":"tcp","balance":"round-robin",
  "listen":[{"address":"127.0.0.1","port":$S4}],
  "groups":[{"name":"g","endpoints":[{"address":"127.0.0.1","port":$B1},{"address":"127.0.0.1","port":$B2}]}]}]}
EOF
cat >"$T/idle.py" <<'EOF'
import socket, sys, time
port, n, flag = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
open(flag, "w").close()
time.sleep(60)
EOF

haproxy -db -f "$T/backends.cfg" >"$T/backends.log" 2>&1 &
PIDS="$PIDS $!"
haproxy -db -f "$T/haproxy.cfg" >"$T/haproxy.log" 2>&1 &
HAPROXY_PID=$!
PIDS="$PIDS $!"
"$PROXY" --config "$T/slipway.json" >"$T/slipway.log" 2>&1 &
SLIPWAY_PID=$!
PIDS="$PIDS $!"
for p in $B1 $B2 $H7 $S7; do wait_port $p; done

# run NAME URL -> "req/s p99ms [errors]"
run() {
	wrk -t2 -c"$CONNS" -d1s "$2" >/dev/null 2>&1 || true # warm-up: pools, caches
	wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "$2" >"$T/$1.wrk" 2>&1
	rps=$(awk '/^Requests\/sec:/ {print $2}' "$T/$1.wrk")
	p99=$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v=v*1000}; print v}' "$T/$1.wrk")
	errs=$(grep -E 'Socket errors|Non-2xx' "$T/$1.wrk" | tr -s ' ' | tr '\n' ' ' || true)
	echo "${rps:-0} ${p99:-0} $errs"
}

# best of ROUNDS rounds, each round running every target in turn, so a burst
# of load from other processes on the shared machine does not decide the
# comparison
keep_best() { # NAME "rps p99 errors..."
	set -- "$1" $2
	name=$1 rps=$2 p99=$3
	shift 3
	if [ -f "$T/best.$name" ]; then
		set -- $(cat "$T/best.$name") "$@"
		rps=$(awk -v a="$rps" -v b="$1" 'BEGIN { print (a > b) ? a : b }')
		p99=$(awk -v a="$p99" -v b="$2" 'BEGIN { print (a < b) ? a : b }')
		shift 2
	fi
	echo "$rps $p99 $*" >"$T/best.$name"
}
echo "slipway-proxy benchmark: wrk -t2 -c$CONNS -d${SECS}s, best of $ROUNDS rounds, $(nproc) cores (shared; load $(cut -d' ' -f1 /proc/loadavg)), keep-alive"
for r in $(seq "$ROUNDS"); do
	keep_best direct "$(run direct "http://127.0.0.1:$B1/")"
	keep_best s7 "$(run slipway7 "http://127.0.0.1:$S7/")"
	keep_best h7 "$(run haproxy7 "http://127.0.0.1:$H7/")"
	keep_best s4 "$(run slipway4 "http://127.0.0.1:$S4/")"
	keep_best h4 "$(run haproxy4 "http://127.0.0.1:$H4/")"
done
direct=$(cat "$T/best.direct") s7=$(cat "$T/best.s7") h7=$(cat "$T/best.h7")
s4=$(cat "$T/best.s4") h4=$(cat "$T/best.h4")

printf '%-22s %12s %10s %s\n' "target" "req/s" "p99 ms" "errors"
row() {
	name=$1
	shift
	rps=$1 p99=$2
	shift 2
	printf '%-22s %12s %10s %s\n' "$name" "$rps" "$p99" "$*"
}
row "direct (one backend)" $direct
row "slipway-proxy L7" $s7
row "haproxy L7" $h7
row "slipway-proxy L4" $s4
row "haproxy L4" $h4
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
added() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a - b }'; }
set -- $direct; d_p99=$2
set -- $s7; s7_rps=$1 s7_p99=$2
set -- $h7; h7_rps=$1 h7_p99=$2
set -- $s4; s4_rps=$1 s4_p99=$2
set -- $h4; h4_rps=$1 h4_p99=$2
echo "L7: slipway/haproxy req/s $(ratio "$s7_rps" "$h7_rps")x; p99 added over direct: slipway $(added "$s7_p99" "$d_p99") ms, haproxy $(added "$h7_p99" "$d_p99") ms"
echo "L4: slipway/haproxy req/s $(ratio "$s4_rps" "$h4_rps")x; p99 added over direct: slipway $(added "$s4_p99" "$d_p99") ms, haproxy $(added "$h4_p99" "$d_p99") ms"

# memory per idle client connection
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
idle() { # PID PORT -> KiB per connection
	before=$(rss "$1")
	"$PY" "$T/idle.py" "$2" "$IDLE" "$T/idle.$2" &
	holder=$!
	i=0
	until [ -f "$T/idle.$2" ] || [ $i -gt 600 ]; do sleep 0.05; i=$((i + 1)); done
	sleep 1
	after=$(rss "$1")
	kill $holder 2>/dev/null || true
	wait $holder 2>/dev/null || true
	rm -f "$T/idle.$2"
	sleep 1
	awk -v a="$after" -v b="$before" -v n="$IDLE" 'BEGIN { printf "%.2f KiB (RSS %d -> %d KiB)", (a - b) / n, b, a }'
}
echo "memory per idle client connection ($IDLE connections):"
echo "  slipway-proxy L7: $(idle $SLIPWAY_PID $S7)"
echo "  haproxy L7:       $(idle $HAPROXY_PID $H7)"
echo "  slipway-proxy L4: $(idle $SLIPWAY_PID $S4) (each also holds a backend connection)"
echo "  haproxy L4:       $(idle $HAPROXY_PID $H4) (each also holds a backend connection)"
