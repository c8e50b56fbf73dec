#!/bin/sh
test_description='retrybuilds: usage, flags, exit codes'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-retry.sh"

test_expect_success 'usage: the synopsis of retrybuilds.1, -h exits 0' '
	test_usage_is_synopsis retrybuilds &&
	retrybuilds -h >out &&
	test_grep "^usage: retrybuilds" out
'

test_expect_success 'bad usage exits 100 and changes nothing' '
	test_expect_code 100 retrybuilds 2>err &&
	test_grep "say which failures" err &&
	test_grep "^usage: retrybuilds" err &&
	test_expect_code 100 retrybuilds -n 2>err &&
	test_expect_code 100 retrybuilds -builder a extra 2>err &&
	test_expect_code 100 retrybuilds -x 2>err &&
	test_expect_code 100 retrybuilds -hash 2>err &&
	test_expect_code 100 retrybuilds -hash xyz 2>err &&
	test_grep "bad -hash .xyz.: want 1 to 64 hex digits" err &&
	test_expect_code 100 retrybuilds -hash "" 2>err &&
	test_expect_code 100 retrybuilds -hash $(printf %065d 0) 2>err &&
	test_expect_code 100 retrybuilds -loghash g1 2>err &&
	test_grep "bad -loghash" err &&
	test_expect_code 100 retrybuilds -builder "" 2>err &&
	test_expect_code 100 retrybuilds -builder a -branch "" 2>err &&
	test_expect_code 100 retrybuilds -substr "" 2>err &&
	test_expect_code 100 retrybuilds -builder a -reason "" 2>err &&
	test_expect_code 100 retrybuilds -builder a \
	    -reason "$(printf "two\nlines")" 2>err &&
	test_grep "bad -reason" err &&
	test_path_is_missing "$BUILDFARM_DIR/results"
'

test_expect_success 'no results log: nothing matched, exit 1, nothing made' '
	test_expect_code 1 retrybuilds -builder a >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	test_path_is_missing "$BUILDFARM_DIR/results"
'

test_expect_success 'flags take one dash or two, and a value after =' '
	result a $(rev 1) false &&
	retrybuilds -n --builder=a >out &&
	retrybuilds -n -builder=a >out2 &&
	test_cmp out out2 &&
	echo "go $(rev 1) a retrybuilds -builder a" >want &&
	test_cmp want out
'

test_expect_success '-d, else $BUILDFARM_DIR, names the state directory' '
	mkdir other &&
	test_expect_code 1 retrybuilds -d other -builder a >out &&
	test_must_be_empty out &&
	(
		BUILDFARM_DIR=$TRASH_DIRECTORY/other &&
		test_expect_code 1 retrybuilds -builder a >out
	) &&
	test_must_be_empty out
'

test_expect_success 'a damaged results log: exit 100, and why' '
	mkdir -p bad/results &&
	: >bad/results/lock &&
	: >bad/results/junk &&
	test_expect_code 100 retrybuilds -d bad -builder a 2>err &&
	test_grep "^retrybuilds: results log: " err
'

test_done
