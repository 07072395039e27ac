# proxy_lib.sh - what the slipway-proxy integration scripts share: a temp
# dir, backends (proxy_backend.py), the proxy itself, and cleanup of every
# process they started, on any exit. All traffic stays on 127.0.0.1.
# Sourced by tests/integration/proxy*.sh with the slipway-proxy binary as $1.

PROXY=${1:-}
[ -x "$PROXY" ] || { echo "usage: $0 PATH/TO/slipway-proxy" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3 || true)
[ -n "$PY" ] || { echo "skip: python3 is missing"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "skip: curl is missing"; exit 77; }

T=$(mktemp -d /tmp/slipway-proxy-test.XXXXXX)
PIDS=""
# a port range of our own, below the ephemeral range
BASE=$((10000 + ($$ % 400) * 50))
ADMIN=$((BASE + 49))

cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	if [ "${KEEP:-}" ]; then echo "kept $T"; else rm -rf "$T"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*" >&2
	[ -f "$T/proxy.log" ] && grep -v "^    #[1-9][0-9]" "$T/proxy.log" | grep -B2 -A14 -m1 "ERROR: AddressSanitizer\|runtime error" >&2; [ -f "$T/proxy.log" ] && tail -n 5 "$T/proxy.log" >&2
	exit 1
}
ok() { echo "ok: $*"; }

# backend NAME PORT [MODE] : starts proxy_backend.py logging to $T/NAME.log
backend() {
	name=$1 port=$2 mode=${3:-http}
	"$PY" "$here/proxy_backend.py" --name "$name" --port "$port" --mode "$mode" \
		--log "$T/$name.log" >"$T/$name.out" 2>&1 &
	eval "PID_$name=$!"
	PIDS="$PIDS $!"
	i=0
	until grep -q ready "$T/$name.out" 2>/dev/null; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "backend $name did not start"
		sleep 0.05
	done
}

# config: stdin -> $T/cfg.json atomically (what slipwayd does)
config() {
	cat >"$T/cfg.json.tmp" && mv "$T/cfg.json.tmp" "$T/cfg.json"
}

proxy_start() {
	"$PROXY" --config "$T/cfg.json" "$@" >"$T/proxy.log" 2>&1 &
	PROXY_PID=$!
	PIDS="$PIDS $!"
	i=0
	until curl -sf "http://127.0.0.1:$ADMIN/healthz" >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "slipway-proxy did not start"
		kill -0 "$PROXY_PID" 2>/dev/null || fail "slipway-proxy exited"
		sleep 0.05
	done
}

# stat JQ-ish path through python: stat 'services[0]["groups"][1]["requests"]'
stat() {
	curl -sf "http://127.0.0.1:$ADMIN/stats" | "$PY" -c "import json,sys; d=json.load(sys.stdin); print(d$1)"
}

# version as /stats reports it, waiting until it is $1 (reloads are async)
wait_version() {
	i=0
	until [ "$(stat '["version"]' 2>/dev/null)" = "$1" ]; do
		i=$((i + 1))
		[ $i -lt 200 ] || fail "configuration version $1 was not applied"
		sleep 0.05
	done
}

# client ARGS: proxy_client.py (keep-alive requests, prints counts)
client() { "$PY" "$here/proxy_client.py" "$@"; }
lines() { if [ -f "$1" ]; then wc -l <"$1" | tr -d ' '; else echo 0; fi; }
