#!/bin/sh
test_description='maintlog append survives kill -9 and concurrent writers'
. ./test-lib.sh

test_expect_success 'writers killed with SIGKILL in a loop lose no acknowledged record' '
	perl -e "for (1..20000) { print qq({\"type\":\"git\",\"n\":\$_,\"pad\":\"), q(k) x 200, qq(\"}\n) }" >in &&
	: >acked &&
	for round in $(test_seq 1 15)
	do
		before=$(wc -l <acked)
		# (alone on its line: "a && b &" would put a in the background)
		maintlog -d log append -S 256k -b 100 <in >>acked 2>/dev/null &
		pid=$! &&
		# once it has acknowledged something, kill it mid-write at a
		# different moment each round (writing takes a while)
		i=0 &&
		while test $(wc -l <acked) -eq $before && kill -0 $pid 2>/dev/null &&
		    test $i -lt 2000
		do
			i=$((i + 1)) &&
			perl -e "select(undef,undef,undef,0.005)" || return 1
		done &&
		perl -e "select(undef,undef,undef,0.003 * ($round % 5))" &&
		kill -9 $pid 2>/dev/null
		wait $pid
		: || return 1
	done &&
	maintlog -d log verify &&
	maintlog -d log cat | sed "s/.*\"seq\":\([0-9]*\).*/\1/" >stored &&
	sort -n acked >acked.sorted &&
	test_cmp acked acked.sorted &&
	test $(wc -l <acked) -gt 0 &&
	sort -n stored | uniq -d >dups &&
	test_must_be_empty dups &&
	sort acked >a.lex && sort stored >s.lex &&
	comm -23 a.lex s.lex >lost &&
	test_must_be_empty lost &&
	n=$(wc -l <stored) && test_seq 1 $n >expect && test_cmp expect stored
'

test_expect_success 'the log stays appendable after the kills' '
	last=$(maintlog -d log cat | tail -n 1 | sed "s/.*\"seq\":\([0-9]*\).*/\1/") &&
	echo "{\"type\":\"git\"}" | maintlog -d log append >seq &&
	echo $((last + 1)) >expect && test_cmp expect seq &&
	maintlog -d log verify
'

test_expect_success 'four concurrent appenders never interleave or reuse a seq' '
	for w in 1 2 3 4
	do
		perl -e "for (1..3000) { print qq({\"type\":\"git\",\"w\":$w,\"n\":\$_,\"pad\":\"), q(c) x (50 * $w), qq(\"}\n) }" >in$w || return 1
	done &&
	for w in 1 2 3 4
	do
		maintlog -d conc append -S 128k -b 37 <in$w >acked$w &
	done &&
	wait &&
	maintlog -d conc verify &&
	maintlog -d conc cat >all &&
	test_line_count = 12000 all &&
	sed "s/.*\"seq\":\([0-9]*\).*/\1/" all >seqs &&
	test_seq 1 12000 >expect && test_cmp expect seqs &&
	cat acked1 acked2 acked3 acked4 | sort -n >acked &&
	test_cmp expect acked &&
	for w in 1 2 3 4
	do
		grep "\"w\":$w}" all | sed "s/.*\"n\":\([0-9]*\),.*/\1/" >order$w &&
		test_seq 1 3000 >expect$w &&
		test_cmp expect$w order$w || return 1
	done
'

test_done
