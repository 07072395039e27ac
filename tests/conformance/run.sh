#!/bin/sh
# Data-driven conformance cases, curl's tests/data style: each case is a folder
#   CASE/Dockerfile   the input (optional for cases that use other files)
#   CASE/args         one line: the slipway arguments (default: dockerfile parse);
#                     the case folder is the working directory
#   CASE/stdout       exact expected standard output (optional: default empty)
#   CASE/stderr       a substring expected in standard error (optional)
#   CASE/status       expected exit code (optional: default 0)
# usage: run.sh SLIPWAY_BINARY CASES_DIR [CASE|GLOB...]   (e.g. 'parse-*')
set -u
bin=$1
dir=$2
shift 2
[ -x "$bin" ] || { echo "run.sh: no binary at $bin" >&2; exit 2; }
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac

if [ $# -eq 0 ]; then
	set -- '*'
fi
names=""
for pat in "$@"; do
	# shellcheck disable=SC2086
	names="$names $(cd "$dir" && ls -d $pat 2>/dev/null)"
done
# shellcheck disable=SC2086
set -- $names
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
for name in "$@"; do
	c="$dir/$name"
	[ -d "$c" ] || continue
	args="dockerfile parse"
	[ -f "$c/args" ] && args=$(head -n 1 "$c/args")
	want_status=0
	[ -f "$c/status" ] && want_status=$(head -n 1 "$c/status")
	# shellcheck disable=SC2086
	(cd "$c" && eval "\"$bin\" $args") >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
	ok=1
	why=""
	if [ "$status" != "$want_status" ]; then
		ok=0; why="exit $status, want $want_status"
	elif [ -f "$c/stdout" ] && ! cmp -s "$tmp/out" "$c/stdout"; then
		ok=0; why="stdout differs"
	elif [ ! -f "$c/stdout" ] && [ -s "$tmp/out" ] && [ "$want_status" = 0 ]; then
		ok=0; why="unexpected stdout"
	elif [ -f "$c/stderr" ] && ! grep -qF -- "$(cat "$c/stderr")" "$tmp/err"; then
		ok=0; why="stderr lacks: $(cat "$c/stderr")"
	fi
	if [ $ok = 1 ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $name: $why"
		if [ -f "$c/stdout" ]; then
			diff -u "$c/stdout" "$tmp/out" | head -n 20
		fi
		head -n 5 "$tmp/err"
	fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
