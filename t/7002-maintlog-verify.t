#!/bin/sh
test_description='maintlog verify finds damage and names it'
. ./test-lib.sh

test_expect_success 'setup: a log with sealed segments' '
	for i in $(test_seq 1 60)
	do
		echo "{\"type\":\"git\",\"n\":$i,\"pad\":\"0123456789012345678901234567890123456789\"}"
	done >in &&
	maintlog -d log append -S 2k <in >/dev/null &&
	maintlog -d log verify >out &&
	test_must_be_empty out
'

test_expect_success 'a flipped byte in a sealed segment: exit 100 naming it' '
	cp -r log flip && chmod -R u+w flip &&
	f=$(ls flip | grep "^0001\..*\.jsonl$") &&
	perl -e "open(F, q(+<), \$ARGV[0]) or die; seek(F, 40, 0); read(F, \$c, 1); seek(F, 40, 0); print F chr(ord(\$c) ^ 1); close F" flip/$f &&
	test_expect_code 100 maintlog -d flip verify >out &&
	grep "^segment 0001 .$f.: SHA-224 is [0-9a-f]\{56\}, not the" out &&
	test_line_count = 1 out
'

test_expect_success 'a gap in the seqs: exit 100 naming segment, offset and seq' '
	mkdir gap &&
	cat >gap/0000.jsonl <<-\EOF &&
	{"seq":1,"time":"2017-07-01T00:00:00.000000000Z","type":"git"}
	{"seq":2,"time":"2017-07-01T00:00:00.000000000Z","type":"git"}
	{"seq":4,"time":"2017-07-01T00:00:00.000000000Z","type":"git"}
	EOF
	test_expect_code 100 maintlog -d gap verify >out &&
	echo "segment 0000 '"'"'0000.jsonl'"'"' offset 126: seq 4 where 3 was expected (gap)" >expect &&
	test_cmp expect out
'

test_expect_success 'append refuses a log with a gap (100) until it is repaired as maintlog.1 says' '
	cp gap/0000.jsonl before &&
	echo "{\"type\":\"git\"}" >one &&
	test_expect_code 100 maintlog -d gap append <one >out 2>err &&
	test_must_be_empty out &&
	grep "seqs of .0000.jsonl. do not follow on without a gap (3 lines, seqs 1 to 4); run maintlog verify and repair" err &&
	test_cmp before gap/0000.jsonl &&
	# the repair: cut the segment at the bad line, append the rest anew
	tail -c +127 gap/0000.jsonl >rest &&
	truncate -s 126 gap/0000.jsonl &&
	maintlog -d gap append <rest >out &&
	echo 3 >expect && test_cmp expect out &&
	maintlog -d gap append <one >out &&
	echo 4 >expect && test_cmp expect out &&
	maintlog -d gap verify
'

test_expect_success 'append refuses a growing segment that does not follow the sealed one' '
	cp -r log skip && chmod -R u+w skip &&
	g=$(ls skip | grep "^[0-9]*\.jsonl$") &&
	sed 1d skip/$g >tmp && cat tmp >skip/$g &&
	test_expect_code 100 maintlog -d skip append <one 2>err &&
	grep "seqs of .$g. do not follow on without a gap (.*, after [0-9]*)" err &&
	: >skip/$g &&
	maintlog -d skip append <one >out &&
	maintlog -d skip verify
'

test_expect_success 'a repeated seq and a line that is not JSON' '
	mkdir rep bad &&
	cat >rep/0000.jsonl <<-\EOF &&
	{"seq":1,"time":"2017-07-01T00:00:00.000000000Z","type":"git"}
	{"seq":1,"time":"2017-07-01T00:00:00.000000000Z","type":"git"}
	EOF
	test_expect_code 100 maintlog -d rep verify >out &&
	grep "offset 63: seq 1 where 2 was expected (repeat)" out &&
	cat >bad/0000.jsonl <<-\EOF &&
	{"seq":1,"time":"2017-07-01T00:00:00.000000000Z","type":"git"}
	{"seq":2,"time":
	EOF
	test_expect_code 100 maintlog -d bad verify >out &&
	grep "offset 63: not a JSON object" out
'

test_expect_success 'a missing segment number is damage' '
	cp -r log hole && chmod -R u+w hole &&
	rm hole/0001.*.jsonl &&
	test_expect_code 100 maintlog -d hole verify >out 2>err &&
	grep "segment 1 missing or duplicated" err
'

test_expect_success 'a torn tail is reported but passes; the next append cuts it' '
	cp -r log torn && chmod -R u+w torn &&
	g=$(ls torn | grep "^[0-9]*\.jsonl$") &&
	printf "{\"type\":\"git\",\"torn" >>torn/$g &&
	maintlog -d torn verify >out 2>err &&
	grep "torn tail of 19 bytes" err &&
	echo "{\"type\":\"git\",\"n\":61}" | maintlog -d torn append >seq &&
	echo 61 >expect && test_cmp expect seq &&
	maintlog -d torn verify 2>err &&
	test_must_be_empty err &&
	tail -n 1 torn/$g | grep "^{\"n\":61,\"seq\":61,"
'

test_done
