#!/bin/sh
test_description='schedule serve: a new patch set, an abandon or a merge cancels a TryBot run'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"
. "$TEST_DIRECTORY/fixtures/gerrit/lib.sh"
. "$TEST_DIRECTORY/helper/lib-try.sh"

# running: the items of the builds running now
running () {
	ls "$BUILDFARM_DIR/spool/work/cur"
}

test_expect_success 'setup: Gerrit, one buildlet, two gated TryBots' '
	start_gerrit && GURL=$url &&
	echo "{}" >g/review.json &&
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
	[builder "gated-a"]
		hosttype = st
		repo = go
		run = "until test -e $TRASH_DIRECTORY/gate; do sleep 0.1; done; echo a"
		try = true
		backfill = 0
	[builder "gated-b"]
		hosttype = st
		repo = go
		run = "until test -e $TRASH_DIRECTORY/gate; do sleep 0.1; done; echo b"
		try = true
		backfill = 0
	EOF
	gitmirror sync >/dev/null &&
	start_daemon serve schedule serve -l 127.0.0.1:0 &&
	daemon_port serve >/dev/null
'

test_expect_success 'a new patch set cancels the running and the queued build' '
	patchset go 101 1 >/dev/null &&
	trybot go 101 1 &&
	test_wait_until "running | grep -q ^go-101-1\\." &&
	test_wait_until "test \$(nposts 101 1 beginning) = 1" &&
	test_path_is_file "$BUILDFARM_DIR/spool/work/new/go-101-1.gated-b" &&
	patchset go 101 2 >/dev/null &&
	trybot go 101 2 &&
	test_wait_until "test -e \"$BUILDFARM_DIR/spool/try/done/go-101-1\"" &&
	test_wait_until "test -e \"$BUILDFARM_DIR/spool/work/done/go-101-1.gated-a\"" &&
	test_path_is_file "$BUILDFARM_DIR/spool/work/done/go-101-1.gated-b" &&
	test "$(try_state 101 1)" = "superseded by patch set 2"
'

test_expect_success 'the new patch set builds on the freed buildlet and votes; the old one never does' '
	test_wait_until "running | grep -q ^go-101-2\\." &&
	: >gate &&
	test_wait_until "test \$(nposts 101 2 TryBot-Result=1) = 1" &&
	posts 101 1 >got &&
	echo "-|TryBots beginning. Status page: $(addr)/try/101/1" >expect &&
	test_cmp expect got &&
	test -z "$(results | grep $(cat rev-101-1))" &&
	rm gate
'

test_expect_success 'an abandoned change cancels its run, before or after its beginning' '
	patchset go 102 1 >/dev/null &&
	trybot go 102 1 &&
	test_wait_until "running | grep -q ^go-102-1\\." &&
	event change-abandoned n=102 ps=1 rev=$(cat rev-102-1) |
	    pollgerrit events >>events.out &&
	test_wait_until "test -e \"$BUILDFARM_DIR/spool/try/done/go-102-1\"" &&
	test "$(try_state 102 1)" = "change abandoned" &&
	test_wait_until "test -z \"\$(running)\"" &&
	test "$(nposts 102 1 TryBot-Result)" = 0
'

test_expect_success 'a merged change cancels a run the daemon adopts later' '
	stop_daemon serve &&
	patchset go 103 1 >/dev/null &&
	trybot go 103 1 &&
	event change-merged n=103 ps=1 rev=$(cat rev-103-1) |
	    pollgerrit events >>events.out &&
	start_daemon serve2 schedule serve -l 127.0.0.1:0 &&
	daemon_port serve2 >/dev/null &&
	test_wait_until "test -e \"$BUILDFARM_DIR/spool/try/done/go-103-1\"" &&
	test "$(try_state 103 1)" = "change merged" &&
	touch g/reviews.log &&
	test "$(nposts 103 1 .)" = 0 &&
	test_path_is_missing "$BUILDFARM_DIR/spool/work/new/go-103-1.gated-a"
'

test_expect_success 'stop' '
	stop_daemon serve2 &&
	stop_daemon bl1 &&
	stop_daemon gerrit-g
'

test_done
