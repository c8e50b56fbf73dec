#!/bin/sh
test_description='pollgerrit poll: failures change nothing; credentials'
. ./test-lib.sh
. "$TEST_DIRECTORY/fixtures/gerrit/lib.sh"

# unchanged: the corpus and the state are as saved by "save".
save () {
	records >records.saved &&
	cp "$BUILDFARM_DIR/state/pollgerrit/go.json" state.saved &&
	items >items.saved
}
unchanged () {
	records >records.now &&
	test_cmp records.saved records.now &&
	test_cmp state.saved "$BUILDFARM_DIR/state/pollgerrit/go.json" &&
	items >items.now &&
	test_cmp items.saved items.now
}

test_expect_success 'setup: a first poll' '
	start_gerrit &&
	write_config <<-\EOF &&
		timeout = 2
		pagesize = 2
	EOF
	change n=101 updated="2017-07-01 10:00:00.000000000" >g/1/changes.jsonl &&
	: >g/1/try.jsonl &&
	pollgerrit poll >out &&
	echo "new-change go 101 1 go master NEW" >expect &&
	test_cmp expect out &&
	save &&
	step 2 &&
	for n in 1 2 3 4 5
	do
		change n=20$n vote=Run-TryBot:1001:1 \
		    updated="2017-07-01 11:0$n:00.000000000" || return 1
	done >g/2/changes.jsonl &&
	cp g/2/changes.jsonl g/2/try.jsonl &&
	echo "Internal Server Error" >g/2/error.txt
'

test_expect_success 'HTTP 500: exit 111, nothing recorded, the cursor stays' '
	cat >g/2/routes <<-\EOF &&
	GET /changes/ * error.txt status=500
	EOF
	test_expect_code 111 pollgerrit poll >out 2>err &&
	test_must_be_empty out &&
	grep "^pollgerrit: gerrit .go.: GET .*: HTTP 500: Internal Server Error$" err &&
	unchanged
'

test_expect_success 'a failure on the third page: nothing from the first two' '
	cat >g/2/routes <<-\EOF &&
	GET /changes/ S=4 error.txt status=503
	GET /changes/ label:Run-TryBot=1 try.jsonl
	GET /changes/ * changes.jsonl
	EOF
	: >g/requests.log &&
	test_expect_code 111 pollgerrit poll >out 2>err &&
	test_must_be_empty out &&
	grep "HTTP 503" err &&
	test_line_count = 3 g/requests.log &&
	unchanged
'

test_expect_success 'a big query fails late: what was recorded stays, the cursor does not move' '
	mkdir huge &&
	url_g=$url &&
	start_gerrit bg &&
	echo "Service Unavailable" >bg/error.txt &&
	write_config huge/config <<-\EOF &&
		pagesize = 500
		since = 2017-06-01
	EOF
	printf "n=10001\tcount=1500\tupdated=2017-07-01 10:00:00.000000000\n" \
	    >bg/1/changes.gen &&
	: >bg/1/try.jsonl &&
	cat >bg/1/routes <<-\EOF &&
	GET /changes/ S=1000 error.txt status=503
	GET /changes/ label:Run-TryBot=1 try.jsonl
	GET /changes/ * changes.jsonl
	EOF
	test_expect_code 111 pollgerrit -d huge poll >out 2>err &&
	grep "HTTP 503" err &&
	test_line_count = 1000 out &&
	grep "\"cursor\":\"2017-06-01 00:00:00" huge/state/pollgerrit/go.json &&
	rm bg/1/routes &&
	pollgerrit -d huge poll >out &&
	test_line_count = 500 out &&
	records huge >actual &&
	test_line_count = 1500 actual &&
	grep "\"cursor\":\"2017-07-01 10:00:00" huge/state/pollgerrit/go.json &&
	test_expect_code 1 pollgerrit -d huge poll &&
	url=$url_g
'

test_expect_success 'the try query failing also records nothing' '
	cat >g/2/routes <<-\EOF &&
	GET /changes/ label:Run-TryBot=1 error.txt status=502
	GET /changes/ * changes.jsonl
	EOF
	test_expect_code 111 pollgerrit poll >out 2>err &&
	test_must_be_empty out &&
	grep "HTTP 502" err &&
	unchanged
'

test_expect_success 'HTTP 429 (too many requests) is temporary' '
	cat >g/2/routes <<-\EOF &&
	GET /changes/ * error.txt status=429
	EOF
	test_expect_code 111 pollgerrit poll 2>err &&
	grep "HTTP 429" err &&
	unchanged
'

test_expect_success 'a server that does not answer: timeout, 111' '
	cat >g/2/routes <<-\EOF &&
	GET /changes/ * - hang
	EOF
	start=$(date +%s) &&
	test_expect_code 111 pollgerrit poll 2>err &&
	end=$(date +%s) &&
	test $((end - start)) -le 5 &&
	grep -i "timed* *out\|timeout" err &&
	unchanged
'

test_expect_success 'a connection that dies mid-answer: 111' '
	cat >g/2/routes <<-\EOF &&
	GET /changes/ * changes.jsonl cut
	EOF
	test_expect_code 111 pollgerrit poll 2>err &&
	unchanged
'

test_expect_success 'malformed JSON: exit 100, nothing recorded' '
	printf "[{\"_number\": 1,\n" >g/2/bad.json &&
	cat >g/2/routes <<-\EOF &&
	GET /changes/ * bad.json
	EOF
	test_expect_code 100 pollgerrit poll >out 2>err &&
	test_must_be_empty out &&
	grep "^pollgerrit: gerrit .go.: malformed JSON from GET .*: line 2" err &&
	unchanged
'

test_expect_success 'JSON that is not a list of changes: 100' '
	echo "{\"message\": \"hello\"}" >g/2/obj.json &&
	cat >g/2/routes <<-\EOF &&
	GET /changes/ * obj.json
	EOF
	test_expect_code 100 pollgerrit poll 2>err &&
	grep "the answer is a JSON object, not an array" err &&
	unchanged
'

test_expect_success 'a change with a field of the wrong kind: 100' '
	sed "s/\"_number\":203,/\"_number\":\"203\",/" g/2/changes.jsonl \
	    >g/2/wrong.jsonl &&
	cat >g/2/routes <<-\EOF &&
	GET /changes/ * wrong.jsonl
	EOF
	test_expect_code 100 pollgerrit poll 2>err &&
	grep "malformed change: change 0: \"_number\" is not an integer" err &&
	unchanged
'

test_expect_success 'an answer over maxbody: 100' '
	mkdir big &&
	write_config big/config <<-\EOF &&
		maxbody = 4k
	EOF
	rm g/2/routes &&
	change n=300 msg="1000:1:$(test_seq 1 1000 | tr "\n" " ")" \
	    >g/2/changes.jsonl.big &&
	mv g/2/changes.jsonl g/2/changes.jsonl.small &&
	mv g/2/changes.jsonl.big g/2/changes.jsonl &&
	test_expect_code 100 pollgerrit -d big poll 2>err &&
	grep "response body over 4096 bytes" err &&
	mv g/2/changes.jsonl.small g/2/changes.jsonl
'

test_expect_success 'HTTP 404: permanent' '
	cat >g/2/routes <<-\EOF &&
	GET /nowhere * -
	EOF
	test_expect_code 100 pollgerrit poll 2>err &&
	grep "HTTP 404" err &&
	unchanged
'

test_expect_success 'after the outage: everything, once' '
	rm g/2/routes &&
	pollgerrit poll >out &&
	cat >expect <<-EOF &&
	new-change go 201 1 go master NEW
	new-change go 202 1 go master NEW
	new-change go 203 1 go master NEW
	new-change go 204 1 go master NEW
	new-change go 205 1 go master NEW
	try go 201 1 go master $(rev 201 1)
	try go 202 1 go master $(rev 202 1)
	try go 203 1 go master $(rev 203 1)
	try go 204 1 go master $(rev 204 1)
	try go 205 1 go master $(rev 205 1)
	EOF
	test_cmp expect out &&
	test_expect_code 1 pollgerrit poll >out &&
	test_must_be_empty out
'

test_expect_success 'anonymous and refused: 401 says no credentials were tried' '
	echo "basic gopher secret" >g/auth &&
	echo "Unauthorized" >g/2/unauth.txt &&
	cat >g/2/routes <<-\EOF &&
	GET /changes/ * unauth.txt status=401
	EOF
	save &&
	test_expect_code 100 pollgerrit poll 2>err &&
	grep "HTTP 401: Unauthorized; credentials tried: no credentials" err &&
	unchanged &&
	rm g/2/routes
'

test_expect_success '.netrc: HTTP Basic on /a/ paths' '
	echo "machine 127.0.0.1 login gopher password secret" >"$HOME/.netrc" &&
	: >g/requests.log &&
	test_expect_code 1 pollgerrit poll >out &&
	requests >actual &&
	cat >expect <<-\EOF &&
	GET /a/changes/ basic:gopher q=after:"2017-07-01 11:04:00" project:go n=2
	GET /a/changes/ basic:gopher q=after:"2017-07-01 11:04:00" project:go n=2 S=2
	GET /a/changes/ basic:gopher q=after:"2017-07-01 11:04:00" project:go n=2 S=4
	GET /a/changes/ basic:gopher q=label:Run-TryBot=1 label:TryBot-Result=0 status:open project:go n=2
	GET /a/changes/ basic:gopher q=label:Run-TryBot=1 label:TryBot-Result=0 status:open project:go n=2 S=2
	GET /a/changes/ basic:gopher q=label:Run-TryBot=1 label:TryBot-Result=0 status:open project:go n=2 S=4
	EOF
	test_cmp expect actual
'

test_expect_success '$NETRC names another file' '
	echo "default login gopher password secret" >other-netrc &&
	rm "$HOME/.netrc" &&
	: >g/requests.log &&
	(
		NETRC=$PWD/other-netrc &&
		export NETRC &&
		test_expect_code 1 pollgerrit poll
	) &&
	grep "^GET /a/changes/ basic:gopher" g/requests.log
'

test_expect_success 'refused credentials: 100, naming the source, not the secret' '
	echo "machine 127.0.0.1 login gopher password wrongpass" >"$HOME/.netrc" &&
	test_expect_code 100 pollgerrit -vv poll 2>err &&
	grep "HTTP 401: Unauthorized; credentials tried: .netrc .$HOME/.netrc.$" err &&
	test_grep ! wrongpass err &&
	unchanged
'

test_expect_success 'gitcookies: the cookie for the host, on /a/ paths' '
	printf "127.0.0.1\tFALSE\t/\tFALSE\t2147483647\to\tgit-gopher=c00k1e\n" \
	    >cookies &&
	printf "#HttpOnly_.other.example\tTRUE\t/\tTRUE\t0\tx\tnot-for-us\n" \
	    >>cookies &&
	printf "127.0.0.1\tFALSE\t/\tFALSE\t1\texpired\tgone\n" >>cookies &&
	write_config <<-EOF &&
		pagesize = 2
		gitcookies = $PWD/cookies
	EOF
	echo "cookie o=git-gopher=c00k1e" >g/auth &&
	: >g/requests.log &&
	test_expect_code 1 pollgerrit -vv poll 2>err &&
	grep "^GET /a/changes/ cookie:o q=after" g/requests.log &&
	grep "using a cookie from gitcookies .$PWD/cookies." err &&
	test_grep ! c00k1e err
'

test_expect_success 'a refused cookie: 100, naming the file' '
	echo "cookie o=something-else" >g/auth &&
	test_expect_code 100 pollgerrit poll 2>err &&
	grep "credentials tried: a cookie from gitcookies .$PWD/cookies.$" err &&
	test_grep ! c00k1e err
'

test_expect_success 'no cookie for the host: a warning, then .netrc' '
	printf "elsewhere.example\tFALSE\t/\tFALSE\t0\to\tx\n" >cookies &&
	echo "basic gopher wrongpass" >g/auth &&
	test_expect_code 1 pollgerrit poll 2>err &&
	grep "gitcookies .$PWD/cookies. has no cookie for .127.0.0.1.; trying .netrc" err &&
	grep "^GET /a/changes/ basic:gopher" g/requests.log
'

test_done
