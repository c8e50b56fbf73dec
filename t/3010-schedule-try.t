#!/bin/sh
test_description='schedule serve: TryBot runs, from the Run-TryBot vote to TryBot-Result'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"
. "$TEST_DIRECTORY/fixtures/gerrit/lib.sh"
. "$TEST_DIRECTORY/helper/lib-try.sh"

# tresult BUILDER KEY: KEY of BUILDER's try result record
tresult () {
	cat "$BUILDFARM_DIR"/results/*.jsonl |
	B=$1 K=$2 perl -MJSON::PP -ne '
		my $r = decode_json($_);
		print $r->{$ENV{K}}, "\n" if $r->{type} eq "result" &&
		    $r->{builder} eq $ENV{B} && $r->{kind} eq "try";
	'
}

test_expect_success 'setup: Gerrit, two repos, two buildlets, the daemon' '
	start_gerrit && GURL=$url &&
	echo "{}" >g/review.json &&
	new_upstream go &&
	new_upstream net &&
	start_buildlet bl1 && URL1=$url &&
	start_buildlet bl2 && URL2=$url &&
	url=$GURL &&
	try_config <<-EOF &&
	[repo "go"]
		upstream = file://$TRASH_DIRECTORY/up/go
		branch = master
	[repo "net"]
		upstream = file://$TRASH_DIRECTORY/up/net
		branch = master
	[hosttype "st"]
		pool = static
		buildlet = $URL1
		buildlet = $URL2
	[builder "go-a"]
		hosttype = st
		repo = go
		run = "echo built-a; cat cl-*.txt"
		try = true
		backfill = 0
	[builder "go-b"]
		hosttype = st
		repo = go
		run = echo built-b
		try = true
		backfill = 0
	[builder "go-post"]
		hosttype = st
		repo = go
		run = echo post-only
		backfill = 0
	[builder "net-ok"]
		hosttype = st
		repo = net
		run = echo fine
		try = true
		backfill = 0
	[builder "net-bad"]
		hosttype = st
		repo = net
		run = echo about-to-fail
		run = "echo broken-step; exit 3"
		try = true
		backfill = 0
	EOF
	gitmirror sync >/dev/null &&
	start_daemon serve schedule serve -l 127.0.0.1:0 &&
	daemon_port serve >/dev/null
'

test_expect_success 'a Run-TryBot+1 vote: beginning message, a build per TryBot, +1' '
	patchset go 101 1 >/dev/null &&
	trybot go 101 1 &&
	test_wait_until "test \$(nposts 101 1 TryBot-Result) = 1" &&
	posts 101 1 >got &&
	cat >expect <<-EOF &&
	-|TryBots beginning. Status page: $(addr)/try/101/1
	TryBot-Result=1|TryBots are happy.\\n\\nStatus page: $(addr)/try/101/1\\n
	EOF
	test_cmp expect got &&
	tresult go-a rev >revs &&
	tresult go-b rev >>revs &&
	printf "%s\n" $(cat rev-101-1) $(cat rev-101-1) >expect &&
	test_cmp expect revs &&
	test "$(tresult go-a change)/$(tresult go-a patchset)" = 101/1 &&
	test -z "$(tresult go-post kind)" &&
	test_wait_until "test -e \"$BUILDFARM_DIR/spool/try/done/go-101-1\"" &&
	test "$(try_state 101 1)" = voted
'

test_expect_success 'the try build had the patch set tree, its log says so' '
	h=$(tresult go-a log) &&
	curl -sf "$(addr)/log/$h" >log &&
	test_grep "change 101 patch set 1" log &&
	test_grep "^change 101, patch set 1" log
'

test_expect_success 'a failing TryBot: -1 naming it, with its log link' '
	patchset net 201 1 >/dev/null &&
	trybot net 201 1 &&
	test_wait_until "test \$(nposts 201 1 TryBot-Result) = 1" &&
	h=$(tresult net-bad log) &&
	test -n "$h" &&
	posts 201 1 >got &&
	cat >expect <<-EOF &&
	-|TryBots beginning. Status page: $(addr)/try/201/1
	TryBot-Result=-1|1 of 2 TryBots failed:\\nFailed on net-bad: $(addr)/log/$h\\n\\nStatus page: $(addr)/try/201/1\\n
	EOF
	test_cmp expect got &&
	curl -sf "$(addr)/log/$h" >log &&
	test_grep broken-step log
'

test_expect_success 'the status page lists the try runs; /try/C/P shows the builders' '
	curl -sf "$(addr)/" >page &&
	test_grep "href=\"/try/201/1\"" page &&
	curl -sf "$(addr)/try/201/1" >tpage &&
	test_grep "net-bad</td><td>failed" tpage &&
	test_grep "net-ok</td><td>ok" tpage &&
	test "$(curl -s -o /dev/null -w "%{http_code}" "$(addr)/try/999/1")" = 404 &&
	schedule status >st &&
	test_grep "^201/1 *voted " st &&
	schedule status -j >st.j &&
	test_grep "\"type\":\"try\".*\"item\":\"go-201-1\"" st.j
'

test_expect_success 'the same vote again queues and posts nothing more' '
	test_expect_code 1 trybot go 101 1 &&
	patchset go 102 1 >/dev/null &&
	trybot go 102 1 &&
	test_wait_until "test \$(nposts 102 1 TryBot-Result) = 1" &&
	posts 101 1 >got &&
	test_line_count = 2 got
'

test_expect_success 'a try item of a repo the config lacks goes to fail/, posting nothing' '
	echo 0123456789abcdef0123456789abcdef01234567 >rev-301-1 &&
	trybot nope 301 1 &&
	test_wait_until "test -e \"$BUILDFARM_DIR/spool/try/fail/go-301-1\"" &&
	test_grep "try go-301-1: repo .nope. is not in the config" serve.log &&
	test "$(nposts 301 1 .)" = 0 &&
	test "$(try_state 301 1)" = "repo '"'"'nope'"'"' is not in the config"
'

test_expect_success 'a try build asks [farm] source for the patch set with its ref' '
	mkdir src &&
	{
		printf "[farm]\n\tsource = %s/\n" "$GURL" &&
		cat "$BUILDFARM_DIR/config"
	} >src/config &&
	printf "{\"builder\":\"go-b\",\"change\":101,\"kind\":\"try\",\"patchset\":1,\"repo\":\"go\",\"rev\":\"%s\"}\n" \
	    $(cat rev-101-1) >src/item &&
	test_expect_code 111 schedule -d src build -b $URL2 src/item >out 2>err &&
	test_grep "could not put the source" err &&
	test_grep "^GET /go.tar.gz - rev=$(cat rev-101-1) ref=refs/changes/01/101/1\$" g/requests.log
'

test_expect_success 'stop' '
	stop_daemon serve &&
	stop_daemon bl1 &&
	stop_daemon bl2 &&
	stop_daemon gerrit-g
'

test_done
