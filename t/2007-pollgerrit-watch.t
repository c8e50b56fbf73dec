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

test_done
