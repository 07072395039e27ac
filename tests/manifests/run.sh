#!/bin/sh
# Data-driven cases for `slipway manifest validate`, curl's tests/data style:
#   CASE/input.yaml   the input (cases may hold other files: slipway.yaml, dirs)
#   CASE/args         one line: the slipway arguments, run in the case folder
#                     (default: manifest validate input.yaml)
#   CASE/stdout       exact expected standard output (default: empty)
#   CASE/stderr       exact expected standard error (default: empty)
#   CASE/status       expected exit code (default 0)
# usage: run.sh SLIPWAY_BINARY CASES_DIR [CASE|GLOB...]
# UPDATE=1 rewrites stdout/stderr/status from what the binary does (review the
# diff before committing).
set -u
bin=$1
dir=$2
shift 2
[ -x "$bin" ] || { echo "run.sh: no binary at $bin" >&2; exit 2; }
case "$bin" in /*) ;; *) bin="$(pwd)/$bin" ;; esac
[ $# -eq 0 ] && set -- '*'
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
	args="manifest validate input.yaml"
	[ -f "$c/args" ] && args=$(head -n 1 "$c/args")
	want_status=0
	[ -f "$c/status" ] && want_status=$(head -n 1 "$c/status")
	# shellcheck disable=SC2086
	(cd "$c" && eval "\"$bin\" $args") >"$tmp/out" 2>"$tmp/err" </dev/null
	status=$?
	if [ "${UPDATE:-0}" = 1 ]; then
		if [ -s "$tmp/out" ]; then cp "$tmp/out" "$c/stdout"; else rm -f "$c/stdout"; fi
		if [ -s "$tmp/err" ]; then cp "$tmp/err" "$c/stderr"; else rm -f "$c/stderr"; fi
		if [ "$status" != 0 ]; then echo "$status" >"$c/status"; else rm -f "$c/status"; fi
		want_status=$status
	fi
	[ -f "$c/stdout" ] && cp "$c/stdout" "$tmp/want_out" || : >"$tmp/want_out"
	[ -f "$c/stderr" ] && cp "$c/stderr" "$tmp/want_err" || : >"$tmp/want_err"
	why=""
	if [ "$status" != "$want_status" ]; then
		why="exit $status, want $want_status"
	elif ! cmp -s "$tmp/out" "$tmp/want_out"; then
		why="stdout differs"
	elif ! cmp -s "$tmp/err" "$tmp/want_err"; then
		why="stderr differs"
	fi
	if [ -z "$why" ]; then
		pass=$((pass + 1))
	else
		fail=$((fail + 1))
		echo "FAIL $name: $why"
		diff -u "$tmp/want_out" "$tmp/out" | head -n 20
		diff -u "$tmp/want_err" "$tmp/err" | head -n 20
	fi
done
echo "$pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
