#!/bin/sh
test_description='pollgerrit review and query'
. ./test-lib.sh
. "$TEST_DIRECTORY/fixtures/gerrit/lib.sh"

test_expect_success 'setup' '
	start_gerrit &&
	write_config </dev/null &&
	echo "{\"labels\":{\"TryBot-Result\":1}}" >g/review.json &&
	echo "machine 127.0.0.1 login gobot password s3cret" >"$HOME/.netrc" &&
	echo "basic gobot s3cret" >g/auth
'

test_expect_success 'review with labels and a message from a file' '
	r=$(rev 101 2) &&
	cat >msg <<-\EOF &&
	2 of 3 TryBots failed:
	Failed on linux-arm: https://farm.example/log/abc
	ok "quoted" \ and tab	here
	EOF
	pollgerrit review -l TryBot-Result=-1 -l Code-Review=+0 -F msg \
	    101 $r >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	cat >expect <<-EOF &&
	/a/changes/101/revisions/$r/review {"labels":{"Code-Review":0,"TryBot-Result":-1},"message":"2 of 3 TryBots failed:\\nFailed on linux-arm: https://farm.example/log/abc\\nok \\"quoted\\" \\\\ and tab\\there\\n"}
	EOF
	test_cmp expect g/reviews.log &&
	tail -n 1 g/requests.log >req &&
	echo "POST /a/changes/101/revisions/$r/review basic:gobot" >expect &&
	test_cmp expect req
'

test_expect_success 'review with -m, a full change id and the message from stdin' '
	: >g/reviews.log &&
	pollgerrit review -g go -l TryBot-Result=+1 -m "TryBots are happy." \
	    "go/net~release-branch.go1.9~I0123456789abcdef0123456789abcdef01234567" \
	    current &&
	echo "hello from stdin" | pollgerrit review -F - 102 3 &&
	cat >expect <<-\EOF &&
	/a/changes/go%2Fnet~release-branch.go1.9~I0123456789abcdef0123456789abcdef01234567/revisions/current/review {"labels":{"TryBot-Result":1},"message":"TryBots are happy."}
	/a/changes/102/revisions/3/review {"message":"hello from stdin\n"}
	EOF
	test_cmp expect g/reviews.log
'

test_expect_success 'review refuses a label given twice and an empty message, posting nothing' '
	: >g/reviews.log &&
		test_expect_code 100 pollgerrit review -g go -l Code-Review=+1 -l TryBot-Result=1 \
		-l Code-Review=-1 51970 current 2>err &&
	grep "label .Code-Review. given twice" err &&
	test_expect_code 100 pollgerrit review -g go -m "" 51970 current 2>err &&
	grep "empty message from -m" err &&
	test_expect_code 100 pollgerrit review -g go -l Code-Review=+1 -m " " 51970 current 2>err &&
	grep "empty message from -m" err &&
	: >empty &&
	test_expect_code 100 pollgerrit review -g go -F empty 51970 current 2>err &&
	grep "empty message from -F" err &&
	test_must_be_empty g/reviews.log &&
	pollgerrit review -g go -l Code-Review=+1 -l Code-Review-2=1 51970 current &&
	grep "Code-Review-2" g/reviews.log
'

test_expect_success 'review: 5xx is 111, 4xx 100, refused credentials 100' '
	step 2 &&
	echo "boom" >g/2/err.txt &&
	echo "POST /changes/*/revisions/*/review * err.txt status=503" >g/2/routes &&
	test_expect_code 111 pollgerrit review -m hi 101 current 2>err &&
	grep "HTTP 503: boom" err &&
	echo "POST /changes/*/revisions/*/review * err.txt status=409" >g/2/routes &&
	test_expect_code 100 pollgerrit review -m hi 101 current 2>err &&
	grep "HTTP 409: boom" err &&
	echo "POST /changes/*/revisions/*/review * err.txt status=404" >g/2/routes &&
	test_expect_code 100 pollgerrit review -m hi 101 current 2>err &&
	grep "HTTP 404" err &&
	rm g/2/routes &&
	echo "basic gobot other" >g/auth &&
	test_expect_code 100 pollgerrit review -m hi 101 current 2>err &&
	grep "HTTP 401.*credentials tried: .netrc .$HOME/.netrc.$" err &&
	test_grep ! s3cret err &&
	echo "basic gobot s3cret" >g/auth
'

test_expect_success 'query: one line per change' '
	step 3 &&
	change n=101 ps=2 subject="net/http: fix a	tab and \\ a backslash" \
	    >g/3/changes.jsonl &&
	change n=102 project=net branch=dev ps=4 >>g/3/changes.jsonl &&
	: >g/requests.log &&
	pollgerrit query status:open owner:gopher >out &&
	cat >expect <<-\EOF &&
	101 2 go master net/http: fix a\ttab and \\ a backslash
	102 4 net dev change 102
	EOF
	test_cmp expect out &&
	requests >actual &&
	echo "GET /a/changes/ basic:gobot q=status:open owner:gopher n=100" >expect &&
	test_cmp expect actual
'

test_expect_success 'query -j: the ChangeInfo of each, paging followed' '
	mkdir paged &&
	write_config paged/config <<-\EOF &&
		pagesize = 1
	EOF
	pollgerrit -d paged query -j is:open >out &&
	test_line_count = 2 out &&
	perl -MJSON::PP -ne "my \$c = decode_json(\$_); print \$c->{_number}, \" \", exists \$c->{_more_changes} ? 1 : 0, \"\n\"" out >actual &&
	cat >expect <<-\EOF &&
	101 0
	102 0
	EOF
	test_cmp expect actual
'

test_expect_success 'query: no match is 1' '
	step 4 &&
	: >g/4/changes.jsonl &&
	test_expect_code 1 pollgerrit query nothing >out &&
	test_must_be_empty out
'

test_expect_success 'review -s: the stamp once Gerrit acknowledged, not before' '
	step 5 &&
	echo "{}" >g/5/review.json &&
	pollgerrit review -s stamp -m hi 101 current &&
	echo posted >expect &&
	test_cmp expect stamp &&
	echo "POST /changes/*/revisions/*/review * review.json status=500" \
	    >g/5/routes &&
	test_expect_code 111 pollgerrit review -s stamp2 -m hi 101 current \
	    2>err &&
	test_path_is_missing stamp2 &&
	echo "POST /changes/*/revisions/*/review * review.json status=403" \
	    >g/5/routes &&
	test_expect_code 100 pollgerrit review -s stamp2 -m hi 101 current \
	    2>err &&
	test_path_is_missing stamp2
'

test_done
