#!/bin/sh
# Integration test of the examples/hello app as an app, not only as an image:
# the busybox base made by examples/base/busybox-rootfs.sh, `slipway build` of
# examples/hello, `umoci unpack` of the tagged image from slipway's store, then
# the bundle runs detached under runc on the host's network (as slipway pods
# do) with PORT and GREETING from the environment (12-factor config). The test
# asserts that / answers the greeting, /healthz answers "ok", the server binds
# 127.0.0.1:$PORT (the app's default BIND_ADDR) and the container's process
# runs as the image's USER (65534:65534), not as root.
#
# usage: hello_app.sh PATH/TO/slipway
# Exit 0 pass, 1 fail, 77 skipped (not root, or a tool is missing). The runc
# container, its processes, any mount and the temp dir are removed on exit,
# even on failure.
set -eu

bin=$(realpath "$1")
src=$(cd "$(dirname "$0")/../.." && pwd)
if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: needs root (slipway build uses overlayfs and runc; the app runs under runc)"
	exit 77
fi
for tool in umoci runc tar python3; do
	if ! command -v "$tool" >/dev/null 2>&1; then
		echo "SKIP: $tool is not installed (scripts/install-deps installs it)"
		exit 77
	fi
done
busybox=""
for p in /bin/busybox /usr/bin/busybox; do
	if [ -x "$p" ] && ! ldd "$p" >/dev/null 2>&1; then busybox=$p; break; fi
done
if [ -z "$busybox" ]; then
	echo "SKIP: no static busybox (install busybox-static)"
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/slipway-hello.XXXXXX")
name="slipway-hello-test-$$"
cleanup() {
	status=$?
	# the container: kill it, then delete its state; a leftover process of
	# it (should runc have lost track) is killed by pid
	pid=$(runc --root "$tmp/runc" state "$name" 2>/dev/null |
		python3 -c 'import json,sys; print(json.load(sys.stdin).get("pid", 0))' 2>/dev/null || echo 0)
	runc --root "$tmp/runc" kill "$name" KILL >/dev/null 2>&1 || true
	runc --root "$tmp/runc" delete -f "$name" >/dev/null 2>&1 || true
	if [ "${pid:-0}" -gt 0 ] 2>/dev/null && kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null || true
	fi
	# overlays left by a crashed build
	grep " $tmp/" /proc/self/mounts 2>/dev/null | awk '{print $2}' | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf "$tmp"
	exit $status
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

fail() {
	echo "FAIL: $*" >&2
	if [ -s "$tmp/app.log" ]; then
		echo "--- the app's output:" >&2
		tail -n 20 "$tmp/app.log" >&2
	fi
	exit 1
}
step() { echo "--- $*"; }
sw() { "$bin" --state-dir "$tmp/state" "$@"; }

# GET URL: the body on stdout; curl if installed, otherwise busybox wget
http_get() {
	if command -v curl >/dev/null 2>&1; then
		curl -fsS --max-time 2 "$1"
	else
		"$busybox" wget -q -T 2 -O - "$1"
	fi
}

# ---- the base and the image ------------------------------------------------
step "busybox base from examples/base/busybox-rootfs.sh"
"$src/examples/base/busybox-rootfs.sh" "$tmp/rootfs" "$tmp/rootfs.tar" || fail "busybox-rootfs.sh"
sw image import --rootfs "$tmp/rootfs.tar" slipway/busybox:1.35 >/dev/null || fail "image import --rootfs"

step "slipway build -t hello:test examples/hello"
sw build --progress plain -t hello:test "$src/examples/hello" >"$tmp/build.log" 2>&1 ||
	{ tail -n 30 "$tmp/build.log" >&2; fail "slipway build of examples/hello"; }

step "umoci unpack"
umoci unpack --image "$tmp/state/images:hello:test" "$tmp/bundle" >/dev/null || fail "umoci unpack"

# a free port on 127.0.0.1 (the agent allocates ports the same way)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
greeting="hi from test"

# no terminal; PORT and GREETING from the environment; the host's network (pods
# share it): no network namespace
python3 - "$tmp/bundle/config.json" "$port" "$greeting" <<'PY' || fail "editing config.json"
import json, sys
path, port, greeting = sys.argv[1:4]
c = json.load(open(path))
p = c["process"]
p["terminal"] = False
env = [e for e in p.get("env", []) if not e.startswith(("PORT=", "GREETING="))]
p["env"] = env + ["PORT=" + port, "GREETING=" + greeting]
ns = c["linux"]["namespaces"]
c["linux"]["namespaces"] = [n for n in ns if n["type"] != "network"]
# the image's USER, as umoci maps it
assert p["user"]["uid"] == 65534 and p["user"]["gid"] == 65534, p["user"]
assert p["args"] == ["/app/app.sh"], p["args"]
json.dump(c, open(path, "w"), indent=1)
PY

# ---- run it ----------------------------------------------------------------------
step "runc run -d (PORT=$port)"
(cd "$tmp/bundle" && runc --root "$tmp/runc" run -d "$name" </dev/null >"$tmp/app.log" 2>&1) ||
	fail "runc run -d"
pid=$(runc --root "$tmp/runc" state "$name" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])') ||
	fail "runc state"
[ "$pid" -gt 0 ] || fail "no pid for the container"

# wait for the server: at most 50 tries, 0.1 s apart
body=""
i=0
while [ $i -lt 50 ]; do
	if body=$(http_get "http://127.0.0.1:$port/" 2>/dev/null); then break; fi
	body=""
	kill -0 "$pid" 2>/dev/null || fail "the app exited before answering"
	sleep 0.1
	i=$((i + 1))
done
[ $i -lt 50 ] || fail "nothing answered on 127.0.0.1:$port after 5 s"

step "GET / and /healthz"
[ "$body" = "$greeting" ] || fail "GET / answered '$body', expected '$greeting'"
health=$(http_get "http://127.0.0.1:$port/healthz") || fail "GET /healthz failed"
[ "$health" = "ok" ] || fail "GET /healthz answered '$health', expected 'ok'"
if http_get "http://127.0.0.1:$port/no-such-page" >/dev/null 2>&1; then
	fail "GET /no-such-page succeeded"
fi

step "runs as the image's USER 65534:65534"
# the container's init is app.sh (the shell stays to forward SIGTERM) and
# httpd its child: both must run as 65534, never as root
ids() { awk '/^(Uid|Gid):/ {printf "%s %s %s %s %s;", $1, $2, $3, $4, $5}' "/proc/$1/status"; }
want="Uid: 65534 65534 65534 65534;Gid: 65534 65534 65534 65534;"
[ "$(ids "$pid")" = "$want" ] || fail "the container's init runs as '$(ids "$pid")', expected $want"
child=$(awk '{print $1}' "/proc/$pid/task/$pid/children" 2>/dev/null)
[ -n "$child" ] || fail "the container's init has no child (httpd)"
[ "$(cat "/proc/$child/comm")" = httpd ] || fail "the init's child is '$(cat "/proc/$child/comm")', expected httpd"
[ "$(ids "$child")" = "$want" ] || fail "httpd runs as '$(ids "$child")', expected $want"

step "binds 127.0.0.1:$port, not every address"
# /proc/net/tcp of the host's network: local address 0100007F:PORT in LISTEN (0A)
hexport=$(printf '%04X' "$port")
grep -q " 0100007F:$hexport 00000000:0000 0A " /proc/net/tcp ||
	fail "nothing listens on 127.0.0.1:$port"
if grep -q " 00000000:$hexport 00000000:0000 0A " /proc/net/tcp; then
	fail "the app listens on 0.0.0.0:$port (BIND_ADDR defaults to 127.0.0.1)"
fi

step "stops on SIGTERM (12-factor disposability)"
status() { runc --root "$tmp/runc" state "$name" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'; }
runc --root "$tmp/runc" kill "$name" TERM || fail "runc kill TERM"
i=0
while [ $i -lt 50 ] && [ "$(status)" != stopped ]; do sleep 0.1; i=$((i + 1)); done
[ "$(status)" = stopped ] || fail "the app did not stop on SIGTERM within 5 s"
runc --root "$tmp/runc" delete "$name" || fail "runc delete"
if http_get "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; then
	fail "something still answers on 127.0.0.1:$port after the container stopped"
fi

echo "PASS: hello app served '$greeting' and ok on 127.0.0.1:$port as 65534"
