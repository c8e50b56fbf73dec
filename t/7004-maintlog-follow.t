#!/bin/sh
test_description='maintlog cat -f and grep -f see new records quickly'
. ./test-lib.sh

# wait_lines FILE N: until FILE has N lines, at most 30 s of wall clock
# (a busy machine can be slow; cat -f has no timeout to tell apart)
wait_lines () {
	wl_end=$(($(date +%s) + 30))
	while test $(wc -l <"$1") -lt "$2"
	do
		test "$(date +%s)" -lt "$wl_end" || return 1
		perl -e "select(undef,undef,undef,0.01)"
	done
}

test_expect_success 'cat -f prints the existing records, then each new one' '
	echo "{\"type\":\"git\",\"n\":1}" | maintlog -d log append >/dev/null &&
	start_daemon follow maintlog -d log cat -f >followed &&
	wait_lines followed 1 &&
	for n in 2 3 4
	do
		echo "{\"type\":\"git\",\"n\":$n}" | maintlog -d log append >/dev/null &&
		wait_lines followed $n || return 1
	done &&
	stop_daemon follow &&
	maintlog -d log cat >expect &&
	test_cmp expect followed
'

test_expect_success 'cat -f crosses into new segments when the growing one is sealed' '
	echo "{\"type\":\"git\",\"n\":0}" | maintlog -d seal append >/dev/null &&
	start_daemon follow2 maintlog -d seal cat -f >followed2 &&
	perl -e "for (1..50) { print qq({\"type\":\"git\",\"n\":\$_,\"pad\":\"), q(s) x 100, qq(\"}\n) }" >in &&
	maintlog -d seal append -S 1k -b 3 <in >/dev/null &&
	wait_lines followed2 51 &&
	stop_daemon follow2 &&
	maintlog -d seal cat >expect &&
	test_cmp expect followed2 &&
	test $(ls seal | grep -c "\.[0-9a-f]\{56\}\.jsonl$") -ge 5
'

test_expect_success 'cat -f on a missing log directory fails at once (100)' '
	test_expect_code 100 maintlog -d nothing-here cat -f 2>err &&
	grep "open log directory .nothing-here." err
'

test_expect_success 'grep -f prints only matching new records' '
	start_daemon gf maintlog -d log grep -f n=7 >matched &&
	for n in 5 6 7 8
	do
		echo "{\"type\":\"git\",\"n\":$n}" | maintlog -d log append >/dev/null || return 1
	done &&
	wait_lines matched 1 &&
	perl -e "select(undef,undef,undef,0.3)" &&
	stop_daemon gf &&
	test_line_count = 1 matched &&
	grep "\"n\":7," matched
'

test_done
