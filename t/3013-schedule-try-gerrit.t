#!/bin/sh
test_description='schedule serve: a TryBot run when Gerrit fails the posts'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"
. "$TEST_DIRECTORY/fixtures/gerrit/lib.sh"
. "$TEST_DIRECTORY/helper/lib-try.sh"

# answer STATUS: the fixture answers every review with STATUS from now on
answer () {
	step "$1" &&
	echo "no" >"g/$1/err.txt" &&
	if test "$1" = 200
	then
		echo "{}" >g/200/review.json
	else
		echo "POST /changes/*/revisions/*/review * err.txt status=$1" \
		    >"g/$1/routes"
	fi
}

test_expect_success 'setup: Gerrit, a buildlet, a gated TryBot' '
	start_gerrit && GURL=$url &&
	answer 200 &&
	new_upstream go &&
	start_buildlet bl1 && URL1=$url &&
	url=$GURL &&
	try_config <<-EOF &&
	[repo "go"]
		upstream = file://$TRASH_DIRECTORY/up/go
		branch = master
	[hosttype "st"]
		pool = static
		buildlet = $URL1
	[builder "gated"]
		hosttype = st
		repo = go
		run = "until test -e $TRASH_DIRECTORY/gate; do sleep 0.1; done; echo gated"
		try = true
		backfill = 0
	EOF
	gitmirror sync >/dev/null &&
	start_daemon serve schedule serve -l 127.0.0.1:0 &&
	daemon_port serve >/dev/null
'

test_expect_success 'the vote answered 500, then 200: posted again after a pause, once' '
	patchset go 101 1 >/dev/null &&
	trybot go 101 1 &&
	test_wait_until "test \$(nposts 101 1 beginning) = 1" &&
	answer 500 &&
	: >gate &&
	test_wait_until "test \$(nposts 101 1 TryBot-Result) -ge 2" &&
	test_path_is_missing "$BUILDFARM_DIR/spool/try/done/go-101-1" &&
	test_wait_until "grep -q \"try go-101-1: posting the vote failed (pollgerrit review: exit status 111); again in 2 s\" serve.log" &&
	answer 200 &&
	test_wait_until "test -e \"$BUILDFARM_DIR/spool/try/done/go-101-1\"" &&
	tail -n 1 g/reviews.log >last &&
	test_grep "TryBot-Result\":1" last &&
	test "$(nposts 101 1 beginning)" = 1 &&
	rm gate
'

test_expect_success 'the beginning answered 403: the run goes to fail/, its builds are dropped' '
	answer 403 &&
	patchset go 102 1 >/dev/null &&
	trybot go 102 1 &&
	test_wait_until "test -e \"$BUILDFARM_DIR/spool/try/fail/go-102-1\"" &&
	test_grep "try go-102-1: Gerrit refused the beginning message (pollgerrit review: exit status 100); in fail/" serve.log &&
	test_grep "HTTP 403" serve.log &&
	test "$(try_state 102 1)" = "failed: Gerrit refused the beginning message" &&
	test_wait_until "test -e \"$BUILDFARM_DIR/spool/work/done/go-102-1.gated\"" &&
	test -z "$(results | grep $(cat rev-102-1))"
'

test_expect_success 'the vote answered 403: the run goes to fail/' '
	answer 200 &&
	patchset go 103 1 >/dev/null &&
	trybot go 103 1 &&
	test_wait_until "test \$(nposts 103 1 beginning) = 1" &&
	answer 403 &&
	: >gate &&
	test_wait_until "test -e \"$BUILDFARM_DIR/spool/try/fail/go-103-1\"" &&
	test "$(try_state 103 1)" = "failed: Gerrit refused the vote" &&
	test "$(nposts 103 1 TryBot-Result)" = 1
'

test_expect_success 'a build that cannot run (infrastructure, 3 attempts) is not voted on' '
	answer 200 &&
	echo 0123456789abcdef0123456789abcdef01234567 >rev-104-1 &&
	trybot go 104 1 &&
	test_wait_until "test -e \"$BUILDFARM_DIR/spool/try/done/go-104-1\"" 120 &&
	test_path_is_file "$BUILDFARM_DIR/spool/work/fail/go-104-1.gated" &&
	posts 104 1 >got &&
	cat >expect <<-EOF &&
	-|TryBots beginning. Status page: $(addr)/try/104/1
	-|1 of 1 TryBots could not run (infrastructure failures), so there is no vote:\\nCould not run on gated.\\n\\nStatus page: $(addr)/try/104/1\\n
	EOF
	test_cmp expect got
'

test_expect_success 'stop' '
	stop_daemon serve &&
	stop_daemon bl1 &&
	stop_daemon gerrit-g
'

test_done
