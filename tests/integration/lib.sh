# lib.sh - what the integration, e2e and bench scripts share. Source it:
#
#     . "$(dirname "$0")/../integration/lib.sh"
#     lib_init slipway-NAME "$1"     # checks root, makes $tmp, sets traps
#     lib_need runc curl python3     # exit 77 naming a missing tool
#
# It gives: $bin (the slipway binary), $src (the checkout), $tmp (removed on
# exit), $state ($tmp/state), sw (slipway on $state), step, fail, wait_for,
# lib_busybox, lib_hello_image, slipwayd_start/stop, lib_on_exit. The
# cleanup at exit, even after a failure, kills every process whose command
# line names $tmp (slipwayd, shims, container processes started from it),
# every runc container under $tmp, unmounts everything under $tmp, removes
# cgroups named after the state dir's containers, then $tmp.

lib_on_exit_cmds=""

# lib_on_exit CMD: run CMD (a shell string) at exit, before the sweep.
lib_on_exit() {
	lib_on_exit_cmds="$1
$lib_on_exit_cmds"
}

lib_cleanup() {
	status=$?
	set +e
	printf '%s\n' "$lib_on_exit_cmds" | while IFS= read -r c; do
		[ -n "$c" ] && eval "$c" >/dev/null 2>&1
	done
	if [ -n "${tmp:-}" ] && [ -d "$tmp" ]; then
		# daemons first (SIGKILL: a test may have left one mid-rollout)
		for pid in $(pgrep -f "slipwayd.*$tmp" 2>/dev/null); do kill -KILL "$pid" 2>/dev/null; done
		# runc containers of every runc root under $tmp
		find "$tmp" -maxdepth 4 -type d -name runc 2>/dev/null | while read -r root; do
			for id in $(runc --root "$root" list -q 2>/dev/null); do
				runc --root "$root" kill "$id" KILL >/dev/null 2>&1
				runc --root "$root" delete -f "$id" >/dev/null 2>&1
			done
		done
		# shims and anything else started from $tmp
		for pid in $(pgrep -f "$tmp" 2>/dev/null); do
			[ "$pid" != "$$" ] && kill -KILL "$pid" 2>/dev/null
		done
		grep " $tmp" /proc/self/mounts 2>/dev/null | awk '{print $2}' | sort -r |
			while read -r m; do umount -l "$m" 2>/dev/null; done
		# pod cgroups (/sys/fs/cgroup/CONTROLLER/slipway/HASH-UID/...), deepest first
		for uid in $(ls "$tmp/state/pods" 2>/dev/null); do
			find /sys/fs/cgroup -maxdepth 3 -type d -path "*/slipway/*-$uid" 2>/dev/null |
				while read -r cg; do
					find "$cg" -depth -type d -exec rmdir {} \; 2>/dev/null
				done
		done
		rm -rf "$tmp" 2>/dev/null || { sleep 0.5; rm -rf "$tmp"; }
	fi
	exit $status
}

# lib_init NAME SLIPWAY_BINARY
lib_init() {
	bin=$(realpath "$2")
	src=$(cd "$(dirname "$0")/../.." && pwd)
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: needs root (overlayfs, runc, cgroups)"
		exit 77
	fi
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")
	state=$tmp/state
	mkdir -p "$state"
	trap lib_cleanup EXIT
	trap 'exit 1' INT TERM HUP
}

lib_need() {
	for tool in "$@"; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			echo "SKIP: $tool is not installed (scripts/install-deps installs it)"
			exit 77
		fi
	done
}

fail() {
	echo "FAIL: $*" >&2
	if [ -s "$state/slipwayd.log" ]; then
		echo "--- slipwayd.log (last 30 lines):" >&2
		tail -n 30 "$state/slipwayd.log" >&2
	fi
	exit 1
}
step() { echo "--- $*"; }
sw() { "$bin" --state-dir "$state" "$@"; }

# wait_for SECONDS CMD...: retries CMD every 0.1 s until it succeeds; 1 when
# it never did.
wait_for() {
	_wf_limit=$(( $1 * 10 ))
	shift
	_wf_i=0
	while [ $_wf_i -lt $_wf_limit ]; do
		if "$@" >/dev/null 2>&1; then return 0; fi
		sleep 0.1
		_wf_i=$((_wf_i + 1))
	done
	return 1
}

# The static busybox (busybox-static) in $busybox; exit 77 without it.
lib_busybox() {
	busybox=""
	for p in /bin/busybox /usr/bin/busybox; do
		if [ -x "$p" ] && ! ldd "$p" >/dev/null 2>&1; then busybox=$p; break; fi
	done
	if [ -z "$busybox" ]; then
		echo "SKIP: no static busybox (install busybox-static)"
		exit 77
	fi
}

# lib_hello_image [TAG]: the busybox base and examples/hello built as
# hello:TAG (default test) in $state.
lib_hello_image() {
	lib_busybox
	"$src/examples/base/busybox-rootfs.sh" "$tmp/rootfs" "$tmp/rootfs.tar" >/dev/null ||
		fail "busybox-rootfs.sh"
	sw image import --rootfs "$tmp/rootfs.tar" slipway/busybox:1.35 >/dev/null ||
		fail "image import --rootfs"
	sw build --progress plain -t "hello:${1:-test}" "$src/examples/hello" >"$tmp/build.log" 2>&1 ||
		{ tail -n 30 "$tmp/build.log" >&2; fail "slipway build of examples/hello"; }
}

# slipwayd_start [FLAGS...]: the daemon next to $bin on $state, logging to
# $state/slipwayd.log; waits (10 s at most) until its socket answers.
slipwayd_start() {
	slipwayd_bin=$(dirname "$bin")/slipwayd
	[ -x "$slipwayd_bin" ] || fail "no slipwayd next to $bin"
	"$slipwayd_bin" --state-dir "$state" "$@" >>"$state/slipwayd.log" 2>&1 &
	slipwayd_pid=$!
	wait_for 10 curl -fsS --unix-socket "$state/slipwayd.sock" http://localhost/readyz ||
		fail "slipwayd did not answer on $state/slipwayd.sock"
}

# slipwayd_stop [SIGNAL]: TERM by default; waits for the process to go.
slipwayd_stop() {
	[ -n "${slipwayd_pid:-}" ] || return 0
	kill "-${1:-TERM}" "$slipwayd_pid" 2>/dev/null
	wait "$slipwayd_pid" 2>/dev/null || true
	slipwayd_pid=""
}
