#!/bin/sh
test_description='pollgerrit watch: a loop that finds try work fast and rides out outages'
. ./test-lib.sh
. "$TEST_DIRECTORY/fixtures/gerrit/lib.sh"

test_expect_success 'setup: watch running' '
	start_gerrit &&
	write_config </dev/null &&
	change n=101 updated="2017-07-01 10:00:00.000000000" >g/1/changes.jsonl &&
	: >g/1/try.jsonl &&
	start_daemon watch pollgerrit watch -i 1 -I 2 >watch.out &&
	wait_for_line "^new-change go 101 1 go master NEW$" watch.out
'

test_expect_success 'a TryBot request is queued within about a second' '
	step 2 &&
	change n=101 vote=Run-TryBot:1001:1 \
	    updated="2017-07-01 10:05:00.000000000" >g/2/try.jsonl &&
	cp g/1/changes.jsonl g/2/changes.jsonl &&
	wait_for_file "$BUILDFARM_DIR/spool/try/new/go-101-1" 5 &&
	wait_for_line "^try go 101 1 go master $(rev 101 1)$" watch.out
'

test_expect_success 'the full query runs every -I seconds' '
	cp g/2/try.jsonl g/2/changes.jsonl &&
	wait_for_line "^vote go 101 1 go master NEW$" watch.out 8
'

test_expect_success 'an outage: one line per failed round, with the wait' '
	step 3 &&
	echo "Service Unavailable" >g/3/err.txt &&
	echo "GET /changes/ * err.txt status=503" >g/3/routes &&
	wait_for_line "round failed; next try in 2000 ms" watch.log &&
	wait_for_line "round failed; next try in 4000 ms" watch.log
'

test_expect_success 'a 429 with Retry-After is honoured: seconds or an HTTP date' '
	echo "Too Many Requests" >g/err.txt &&
	mkdir -p g/r1 g/r2 &&
	echo "GET /changes/ * err.txt status=429 retry-after=3" >g/r1/routes &&
	echo "GET /changes/ * err.txt status=429 retry-after=date6" >g/r2/routes &&
	step r1 &&
	wait_for_line "round failed; Retry-After 3 s; next try in 3000 ms$" watch.log 20 &&
	step r2 &&
	wait_for_line "round failed; Retry-After [4-6] s; next try in [4-6]000 ms$" watch.log 10
'

test_expect_success 'and back: the work done meanwhile is found' '
	step 4 &&
	change n=101 ps=2 vote=Run-TryBot:1001:1 \
	    updated="2017-07-01 11:00:00.000000000" >g/4/changes.jsonl &&
	cp g/4/changes.jsonl g/4/try.jsonl &&
	wait_for_file "$BUILDFARM_DIR/spool/try/new/go-101-2" 15 &&
	wait_for_line "working again after" watch.log &&
	wait_for_line "^new-patchset go 101 2 go master NEW$" watch.out 5
'

test_expect_success 'a signal stops it, with status 0, and nothing twice' '
	stop_daemon watch &&
	cat >expect <<-EOF &&
	new-change go 101 1 go master NEW
	try go 101 1 go master $(rev 101 1)
	vote go 101 1 go master NEW
	try go 101 2 go master $(rev 101 2)
	new-patchset go 101 2 go master NEW
	EOF
	sort expect >expect.sorted &&
	sort watch.out >actual &&
	test_cmp expect.sorted actual &&
	records >actual &&
	test_line_count = 3 actual
'

test_expect_success 'Retry-After is capped at 300 s' '
	mkdir -p g/cap &&
	echo "GET /changes/ * err.txt status=429 retry-after=100000" >g/cap/routes &&
	step cap &&
	start_daemon watch2 pollgerrit watch -i 1 -I 2 >watch2.out &&
	wait_for_line "round failed; Retry-After 100000 s; next try in 300000 ms$" watch2.log &&
	stop_daemon watch2
'

test_done
