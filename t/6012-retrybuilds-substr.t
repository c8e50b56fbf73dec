#!/bin/sh
test_description='retrybuilds -substr: failures by the text of their logs'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-retry.sh"

R1=$(rev 1) R2=$(rev 2) R3=$(rev 3) R4=$(rev 4)

test_expect_success 'setup: failures with stored logs' '
	result linux $R1 false "$(printf "builder linux\n+ make\ncc: fatal: out of luck\n")" &&
	result linux $R2 false "$(printf "builder linux\n+ make\nFAIL: TestThing\n")" &&
	result arm $R1 false "$(printf "builder arm\n+ make\ncc: fatal: out of luck\n")" &&
	result arm $R3 true "$(printf "cc: fatal: out of luck\n")"
'

test_expect_success '-substr: the failures whose log holds the text' '
	retrybuilds -n -substr "fatal: out of" >out &&
	cat >want <<-EOF &&
	go $R1 linux retrybuilds -substr fatal: out of
	go $R1 arm retrybuilds -substr fatal: out of
	EOF
	test_cmp want out &&
	retrybuilds -n -substr "FAIL: TestThing" -builder linux >out &&
	echo "go $R2 linux retrybuilds -builder linux -substr FAIL: TestThing" \
	    >want &&
	test_cmp want out
'

test_expect_success '-substr: the text spans lines, and is not a pattern' '
	retrybuilds -n -substr "$(printf "make\nFAIL")" >out &&
	test_line_count = 1 out &&
	test_grep "^go $R2 linux " out &&
	test_expect_code 1 retrybuilds -n -substr "F.IL" >out &&
	test_must_be_empty out
'

test_expect_success '-substr with nothing in any log: exit 1' '
	test_expect_code 1 retrybuilds -substr "no such text" >out &&
	test_must_be_empty out &&
	test $(nretracts) = 0
'

test_expect_success 'a lost log is skipped with a warning, the others retracted' '
	result linux $R4 false "lost log: out of luck" &&
	h=$(printf "%s\n" "lost log: out of luck" | sha256sum | cut -c1-64) &&
	rm "$BUILDFARM_DIR/buildlogs/$(echo $h | cut -c1-2)/$h.gz" &&
	retrybuilds -substr "out of luck" -reason "cc" >out 2>err &&
	cat >want <<-EOF &&
	go $R1 linux cc
	go $R1 arm cc
	EOF
	test_cmp want out &&
	test_grep "^retrybuilds: go $R4 linux: open .*$h.gz.: No such file" err &&
	retracts >got &&
	test_cmp want got
'

test_expect_success 'a damaged log is skipped with a warning' '
	result linux $R3 false "damaged: out of luck" &&
	h=$(printf "%s\n" "damaged: out of luck" | sha256sum | cut -c1-64) &&
	f="$BUILDFARM_DIR/buildlogs/$(echo $h | cut -c1-2)/$h.gz" &&
	head -c 20 "$f" >short && cat short >"$f" &&
	test_expect_code 1 retrybuilds -substr "out of luck" >out 2>err &&
	test_must_be_empty out &&
	test_grep "^retrybuilds: go $R3 linux: read .*$h.gz.: " err
'

test_done
