#!/bin/sh
# Every verb and sub-verb in the command table answers --help with exit 0;
# unknown verbs and flags exit 2 with a one-line error and the usage.
set -u
bin=$1
fail=0
pass=0
check() { # desc, want_status, command...
	desc=$1; want=$2; shift 2
	out=$("$@" 2>&1 </dev/null); st=$?
	if [ "$st" != "$want" ]; then
		echo "FAIL $desc: exit $st, want $want"; echo "$out" | head -n 5; fail=$((fail + 1))
	else
		pass=$((pass + 1))
	fi
}
check "top --help" 0 "$bin" --help
check "no verb" 2 "$bin"
check "unknown verb" 2 "$bin" frobnicate
check "unknown global flag" 2 "$bin" --frob version
check "version" 0 "$bin" version
check "--version" 0 "$bin" --version
out=$("$bin" version); case "$out" in "slipway "[0-9]*) pass=$((pass + 1)) ;; *) echo "FAIL version output: $out"; fail=$((fail + 1)) ;; esac
out=$("$bin" frobnicate 2>&1); case "$out" in "slipway: error: unknown verb 'frobnicate'"*usage:*) pass=$((pass + 1)) ;; *) echo "FAIL unknown verb message: $out"; fail=$((fail + 1)) ;; esac

# every verb listed by --help answers --help, and `help VERB` too
for verb in $("$bin" --help | awk '/^Verbs:/{v=1;next} /^$/{v=0} v{print $1}'); do
	check "$verb --help" 0 "$bin" "$verb" --help
	check "help $verb" 0 "$bin" help "$verb"
	check "$verb unknown flag" 2 "$bin" "$verb" --no-such-flag
	# sub-verbs are listed in the verb's usage as "  NAME ..." lines
	for sub in $("$bin" "$verb" --help | awk '/^  [a-z]+ /{print $1}' | grep -v '^-' | sort -u); do
		check "$verb $sub --help" 0 "$bin" "$verb" "$sub" --help
		check "$verb $sub unknown flag" 2 "$bin" "$verb" "$sub" --no-such-flag
	done
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
