#!/bin/sh
test_description='scripts/ and env/*/: each script has -h, and refuses a bad option'
. ./test-lib.sh

test_expect_success 'every script: -h prints its usage and exits 0' '
	n=0 &&
	for f in "$BUILDFARM_TOP"/scripts/* "$BUILDFARM_TOP"/env/*/*
	do
		test -f "$f" && test -x "$f" || continue
		name=${f##*/} &&
		"$f" -h >out 2>err </dev/null || {
			echo "$name -h exited $?" >&2
			return 1
		}
		test_grep "^usage: $name " out &&
		test_must_be_empty err &&
		n=$((n + 1)) || return 1
	done &&
	test $n -ge 9
'

test_expect_success 'every script: a bad option is exit 100, usage on stderr' '
	for f in "$BUILDFARM_TOP"/scripts/* "$BUILDFARM_TOP"/env/*/*
	do
		test -f "$f" && test -x "$f" || continue
		name=${f##*/} &&
		test_expect_code 100 "$f" -Z </dev/null >out 2>err &&
		test_grep "usage: $name" err || return 1
	done
'

test_done
