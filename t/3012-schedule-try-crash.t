#!/bin/sh
test_description='schedule serve: kill -9 during TryBot runs posts each message once'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"
. "$TEST_DIRECTORY/fixtures/gerrit/lib.sh"
. "$TEST_DIRECTORY/helper/lib-try.sh"

# tpairs: "BUILDER CHANGE/PATCHSET" of every try result, sorted, repeats kept
tpairs () {
	cat "$BUILDFARM_DIR"/results/*.jsonl 2>/dev/null |
	perl -MJSON::PP -ne '
		my $r = decode_json($_);
		print "$r->{builder} $r->{change}/$r->{patchset}\n"
		    if $r->{type} eq "result" && $r->{kind} eq "try";
	' | sort
}

test_expect_success 'setup: a slow Gerrit, two buildlets, two TryBots' '
	start_gerrit && GURL=$url &&
	echo "{}" >g/review.json &&
	echo "POST /changes/*/revisions/*/review * review.json delay=0.2" \
	    >g/routes &&
	new_upstream go &&
	start_buildlet bl1 && URL1=$url &&
	start_buildlet bl2 && URL2=$url &&
	url=$GURL &&
	try_config <<-EOF &&
	[repo "go"]
		upstream = file://$TRASH_DIRECTORY/up/go
		branch = master
	[hosttype "st"]
		pool = static
		buildlet = $URL1
		buildlet = $URL2
	[builder "ta"]
		hosttype = st
		repo = go
		run = "sleep 0.4; echo a"
		try = true
		backfill = 0
	[builder "tb"]
		hosttype = st
		repo = go
		run = "sleep 0.6; echo b"
		try = true
		backfill = 0
	EOF
	gitmirror sync >/dev/null &&
	for i in 1 2 3 4 5 6
	do
		patchset go 10$i 1 >/dev/null || return 1
	done &&
	: >want &&
	for i in 1 2 3 4 5 6
	do
		echo "ta 10$i/1" >>want && echo "tb 10$i/1" >>want || return 1
	done
'

test_expect_success 'kill -9 of the daemon at random moments of the runs, six times' '
	for i in 1 2 3 4 5 6
	do
		start_daemon serve$i schedule -v serve -l 127.0.0.1:0 &&
		daemon_port serve$i >/dev/null &&
		trybot go 10$i 1 &&
		sleep $(awk "BEGIN { srand($i + $$); print rand() * 1.5 }") &&
		kill -9 $(cat serve$i.pid) &&
		test_wait_until "! kill -0 $(cat serve$i.pid)" || return 1
		rm serve$i.pid
	done
'

test_expect_success 'after a last restart: one beginning and one vote per patch set' '
	start_daemon serve schedule -v serve -l 127.0.0.1:0 &&
	daemon_port serve >/dev/null &&
	for i in 1 2 3 4 5 6
	do
		test_wait_until "test -e \"$BUILDFARM_DIR/spool/try/done/go-10$i-1\"" 120 ||
		return 1
	done &&
	for i in 1 2 3 4 5 6
	do
		posts 10$i 1 >got &&
		test "$(grep -c "^-|TryBots beginning" got)" = 1 &&
		test "$(grep -c "^TryBot-Result=1|TryBots are happy" got)" = 1 &&
		test_line_count = 2 got || return 1
	done
'

test_expect_success 'no finished build ran again' '
	tpairs >got &&
	sort want >expect &&
	test_cmp expect got
'

test_expect_success 'stop' '
	stop_daemon serve &&
	stop_daemon bl1 &&
	stop_daemon bl2 &&
	stop_daemon gerrit-g &&
	test_path_is_missing "$BUILDFARM_DIR/spool/try/cur/go-101-1"
'

test_done
