#!/bin/sh
test_description='pollgerrit poll: records each real change of state once'
. ./test-lib.sh
. "$TEST_DIRECTORY/fixtures/gerrit/lib.sh"

test_expect_success 'setup: a fixture Gerrit' '
	start_gerrit &&
	url1=$url &&
	write_config </dev/null
'

test_expect_success 'first poll: every change is new' '
	change n=101 vote=Code-Review:1001:1 \
	    msg="1000:1:Uploaded patch set 1." \
	    updated="2017-07-01 10:00:00.000000000" >g/1/changes.jsonl &&
	change n=102 ps=2 status=MERGED subject="net: fix it" \
	    msg="1000:1:Uploaded patch set 1." \
	    msg="1000:2:Uploaded patch set 2." \
	    updated="2017-07-01 11:00:00.000000000" >>g/1/changes.jsonl &&
	: >g/1/try.jsonl &&
	pollgerrit poll >out 2>err &&
	test_must_be_empty err &&
	cat >expect <<-\EOF &&
	new-change go 101 1 go master NEW
	new-change go 102 2 go master MERGED
	EOF
	test_cmp expect out &&
	records >actual &&
	cat >expect <<-\EOF &&
	1 101 1 NEW new-change Code-Review:1001=+1 Uploaded patch set 1.
	2 102 2 MERGED new-change - Uploaded patch set 1.|Uploaded patch set 2.
	EOF
	test_cmp expect actual &&
	requests >actual &&
	cat >expect <<-\EOF &&
	GET /changes/ - q=after:"1970-01-01 00:00:00" project:go n=100
	GET /changes/ - q=label:Run-TryBot=1 label:TryBot-Result=0 status:open project:go n=100
	EOF
	test_cmp expect actual
'

test_expect_success 'a record is the whole state in maintlog(5) form' '
	sed -n 1p records.raw |
	    sed "s/\"time\":\"[0-9T:.Z-]*\",//" >actual &&
	r=$(rev 101 1) &&
	cat >expect <<-EOF &&
	{"branch":"master","change":101,"change_id":"I$(printf "change 101" | openssl dgst -sha1 -r | cut -d" " -f1)","event":["new-change"],"labels":{"Code-Review":[{"account_id":1001,"name":"Rita Reviewer","value":1}]},"messages":[{"author":{"account_id":1000,"email":"gopher@example.com","name":"Gopher"},"date":"2017-07-01T10:00:00Z","id":"$(printf "101 msg 1" | openssl dgst -sha1 -r | cut -c1-8)_$(printf "101 msg 1 x" | openssl dgst -sha1 -r | cut -c1-8)","message":"Uploaded patch set 1.","patchset":1}],"owner":{"account_id":1000,"email":"gopher@example.com","name":"Gopher"},"patchset":1,"project":"go","rev":"$r","seq":1,"server":"$url","status":"NEW","subject":"change 101","type":"gerrit"}
	EOF
	test_cmp expect actual &&
	maintlog -d "$BUILDFARM_DIR/corpus" verify
'

test_expect_success 'the same answer again: nothing new, exit 1' '
	: >g/requests.log &&
	cp "$BUILDFARM_DIR/state/pollgerrit/go.json" state.before &&
	test_expect_code 1 pollgerrit poll >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	records >actual &&
	test_line_count = 2 actual &&
	requests >actual &&
	cat >expect <<-\EOF &&
	GET /changes/ - q=after:"2017-07-01 10:59:00" project:go n=100
	GET /changes/ - q=label:Run-TryBot=1 label:TryBot-Result=0 status:open project:go n=100
	EOF
	test_cmp expect actual &&
	test_cmp state.before "$BUILDFARM_DIR/state/pollgerrit/go.json"
'

test_expect_success 'a new patch set: the vote goes, a message comes' '
	step 2 &&
	: >g/2/try.jsonl &&
	change n=101 ps=2 reviewer=1001 \
	    msg="1000:1:Uploaded patch set 1." \
	    msg="1000:2:Uploaded patch set 2." \
	    updated="2017-07-01 12:00:00.000000000" >g/2/changes.jsonl &&
	pollgerrit poll >out &&
	echo "new-patchset,vote,message go 101 2 go master NEW" >expect &&
	test_cmp expect out &&
	records >actual &&
	echo "3 101 2 NEW new-patchset,vote,message - Uploaded patch set 2." >expect &&
	tail -n 1 actual >last &&
	test_cmp expect last
'

test_expect_success 'a vote added, with its message' '
	step 3 &&
	: >g/3/try.jsonl &&
	change n=101 ps=2 vote=Code-Review:1001:2 vote=Run-TryBot:1001:1 \
	    msg="1000:1:Uploaded patch set 1." \
	    msg="1000:2:Uploaded patch set 2." \
	    msg="1001:2:Patch Set 2: Code-Review+2 Run-TryBot+1\n\nLGTM" \
	    updated="2017-07-01 12:05:00.000000000" >g/3/changes.jsonl &&
	pollgerrit poll >out &&
	echo "vote,message go 101 2 go master NEW" >expect &&
	test_cmp expect out &&
	records | tail -n 1 >actual &&
	printf "%s\n" "4 101 2 NEW vote,message Code-Review:1001=+2,Run-TryBot:1001=+1 Patch Set 2: Code-Review+2 Run-TryBot+1\\n\\nLGTM" >expect &&
	test_cmp expect actual
'

test_expect_success 'a vote removed, without a message' '
	step 4 &&
	: >g/4/try.jsonl &&
	change n=101 ps=2 vote=Code-Review:1001:2 reviewer=1001 \
	    msg="1000:1:Uploaded patch set 1." \
	    msg="1000:2:Uploaded patch set 2." \
	    msg="1001:2:Patch Set 2: Code-Review+2 Run-TryBot+1\n\nLGTM" \
	    updated="2017-07-01 12:06:00.000000000" >g/4/changes.jsonl &&
	pollgerrit poll >out &&
	echo "vote go 101 2 go master NEW" >expect &&
	test_cmp expect out &&
	records | tail -n 1 >actual &&
	echo "5 101 2 NEW vote Code-Review:1001=+2 -" >expect &&
	test_cmp expect actual
'

test_expect_success 'merged: a status change; a change updated without news' '
	step 5 &&
	: >g/5/try.jsonl &&
	change n=101 ps=2 status=MERGED vote=Code-Review:1001:2 \
	    msg="1000:1:Uploaded patch set 1." \
	    msg="1000:2:Uploaded patch set 2." \
	    msg="1001:2:Patch Set 2: Code-Review+2 Run-TryBot+1\n\nLGTM" \
	    msg="1001:2:Change has been successfully merged by Rita Reviewer" \
	    updated="2017-07-01 13:00:00.000000000" >g/5/changes.jsonl &&
	change n=102 ps=2 status=MERGED subject="net: fix it, retitled" \
	    msg="1000:1:Uploaded patch set 1." \
	    msg="1000:2:Uploaded patch set 2." \
	    updated="2017-07-01 12:30:00.000000000" >>g/5/changes.jsonl &&
	pollgerrit poll >out &&
	echo "status,message go 101 2 go master MERGED" >expect &&
	test_cmp expect out &&
	records >actual &&
	test_line_count = 6 actual &&
	tail -n 1 actual >last &&
	echo "6 101 2 MERGED status,message Code-Review:1001=+2 Change has been successfully merged by Rita Reviewer" >expect &&
	test_cmp expect last &&
	grep -F "\"cursor\":\"2017-07-01 13:00:00.000000000\"" \
	    "$BUILDFARM_DIR/state/pollgerrit/go.json"
'

test_expect_success 'the overlap re-asks; what it re-reads is no news' '
	step 6 &&
	: >g/6/try.jsonl &&
	cp g/5/changes.jsonl g/6/changes.jsonl &&
	change n=103 owner=1003 subject="a late arrival" \
	    updated="2017-07-01 12:59:30.000000000" >>g/6/changes.jsonl &&
	: >g/requests.log &&
	pollgerrit poll >out &&
	echo "new-change go 103 1 go master NEW" >expect &&
	test_cmp expect out &&
	head -n 1 g/requests.log >req &&
	grep -F "q=after:\"2017-07-01 12:59:00\" project:go" req &&
	records >actual &&
	test_line_count = 7 actual
'

test_expect_success 'paging: every page, in order; the last is empty-handed' '
	mkdir paged &&
	write_config paged/config <<-\EOF &&
		pagesize = 2
	EOF
	step 7 &&
	: >g/7/try.jsonl &&
	for n in 1 2 3 4 5
	do
		change n=30$n updated="2017-07-02 0$n:00:00.000000000" ||
		return 1
	done >g/7/changes.jsonl &&
	: >g/requests.log &&
	pollgerrit -d paged poll >out &&
	cat >expect <<-\EOF &&
	new-change go 301 1 go master NEW
	new-change go 302 1 go master NEW
	new-change go 303 1 go master NEW
	new-change go 304 1 go master NEW
	new-change go 305 1 go master NEW
	EOF
	test_cmp expect out &&
	requests >actual &&
	cat >expect <<-\EOF &&
	GET /changes/ - q=after:"1970-01-01 00:00:00" project:go n=2
	GET /changes/ - q=after:"1970-01-01 00:00:00" project:go n=2 S=2
	GET /changes/ - q=after:"1970-01-01 00:00:00" project:go n=2 S=4
	GET /changes/ - q=label:Run-TryBot=1 label:TryBot-Result=0 status:open project:go n=2
	EOF
	test_cmp expect actual
'

test_expect_success 'a change seen twice across pages is recorded once, as last seen' '
	step 8 &&
	: >g/8/try.jsonl &&
	{
		change n=401 msg="1000:1:one" msg="1000:1:two" \
		    updated="2017-07-03 10:00:01.000000000" &&
		change n=402 updated="2017-07-03 09:00:00.000000000" &&
		change n=401 msg="1000:1:one" \
		    updated="2017-07-03 10:00:00.000000000"
	} >g/8/changes.jsonl &&
	pollgerrit -d paged poll >out &&
	cat >expect <<-\EOF &&
	new-change go 402 1 go master NEW
	new-change go 401 1 go master NEW
	EOF
	test_cmp expect out &&
	records paged | tail -n 2 >actual &&
	cat >expect <<-\EOF &&
	6 402 1 NEW new-change - -
	7 401 1 NEW new-change - one|two
	EOF
	test_cmp expect actual
'

test_expect_success '-j prints the records as stored' '
	step 9 &&
	: >g/9/try.jsonl &&
	change n=402 vote=Code-Review:1003:-1 \
	    updated="2017-07-03 11:00:00.000000000" >g/9/changes.jsonl &&
	pollgerrit -d paged poll -j >out &&
	maintlog -d paged/corpus cat -s 8 >expect &&
	test_cmp expect out &&
	grep "\"event\":\[\"vote\"\]" out &&
	grep "\"labels\":{\"Code-Review\":\[{\"account_id\":1003,\"name\":\"Dan\",\"value\":-1}\]}" out
'

test_expect_success 'projects: one or several, quoted when needed' '
	mkdir projects &&
	write_config projects/config <<-\EOF &&
		project = net
		project = "odd(name)"
	EOF
	: >g/requests.log &&
	pollgerrit -d projects poll >/dev/null &&
	requests >actual &&
	cat >expect <<-\EOF &&
	GET /changes/ - q=after:"1970-01-01 00:00:00" (project:go OR project:net OR project:"odd(name)") n=100
	GET /changes/ - q=label:Run-TryBot=1 label:TryBot-Result=0 status:open (project:go OR project:net OR project:"odd(name)") n=100
	EOF
	test_cmp expect actual
'

test_expect_success 'since: the first poll asks from then on' '
	mkdir since &&
	write_config since/config <<-\EOF &&
		since = 2017-07-03
	EOF
	: >g/requests.log &&
	pollgerrit -d since poll >/dev/null &&
	head -n 1 g/requests.log >req &&
	grep -F "q=after:\"2017-07-02 23:59:00\" project:go" req
'

test_expect_success 'rate, overlap and pagesize are honoured' '
	mkdir slow &&
	write_config slow/config <<-\EOF &&
		rate = 4
		overlap = 0
		pagesize = 1
	EOF
	step 10 &&
	: >g/10/try.jsonl &&
	for n in 1 2 3
	do
		change n=50$n updated="2017-07-04 0$n:00:00.000000000" || return 1
	done >g/10/changes.jsonl &&
	: >g/requests.log &&
	t0=$(perl -MTime::HiRes=time -e "print time") &&
	pollgerrit -d slow poll >/dev/null &&
	t1=$(perl -MTime::HiRes=time -e "print time") &&
	test_line_count = 4 g/requests.log &&
	perl -e "exit(\$ARGV[1] - \$ARGV[0] >= 0.7 ? 0 : 1)" $t0 $t1 &&
	: >g/requests.log &&
	test_expect_code 1 pollgerrit -d slow poll &&
	head -n 1 g/requests.log >req &&
	grep -F "q=after:\"2017-07-04 03:00:00\" project:go n=1 " req
'

test_expect_success 'two servers: each its own state, records and cursor' '
	mkdir two &&
	step 9 &&
	start_gerrit h &&
	printf "[gerrit \"go\"]\n\turl = %s\n[gerrit \"other\"]\n\turl = %s\n" \
	    "$url1" "$url" >two/config &&
	change n=9 updated="2017-07-05 10:00:00.000000000" >h/1/changes.jsonl &&
	: >h/1/try.jsonl &&
	pollgerrit -d two poll >out &&
	grep "^new-change other 9 1 go master NEW$" out &&
	grep "^new-change go 402 1 go master NEW$" out &&
	ls two/state/pollgerrit two/state/pollgerrit/*.changes >actual &&
	cat >expect <<-\EOF &&
	two/state/pollgerrit:
	go.changes
	go.json
	go.lock
	other.changes
	other.json
	other.lock

	two/state/pollgerrit/go.changes:
	0.json

	two/state/pollgerrit/other.changes:
	0.json
	EOF
	test_cmp expect actual &&
	test_expect_code 1 pollgerrit -d two poll other &&
	test_expect_code 1 pollgerrit -d two poll go other >out2 &&
	test_must_be_empty out2
'

test_done
