#!/bin/sh
test_description='schedule serve: kill -9 at random moments loses and repeats nothing'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"

# pairs: "BUILDER REV" of every result record, sorted, repeats kept
pairs () {
	cat "$BUILDFARM_DIR"/results/*.jsonl 2>/dev/null |
	perl -MJSON::PP -ne '
		my $r = decode_json($_);
		print "$r->{builder} $r->{rev}\n" if $r->{type} eq "result";
	' | sort
}
npairs () {
	pairs | wc -l | tr -d " "
}

test_expect_success 'setup: three commits, a static and a command pool' '
	new_upstream go &&
	commit_n up/go 2 &&
	start_buildlet bl1 &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[repo "go"]
		upstream = file://$TRASH_DIRECTORY/up/go
		branch = master
	[hosttype "st"]
		pool = static
		buildlet = $url
	[hosttype "loc"]
		pool = command
		create = $ENV_LOCAL/create %n
		destroy = $ENV_LOCAL/destroy %n
		max = 2
		idle = 1
	[builder "s"]
		hosttype = st
		repo = go
		run = "sleep 0.3; echo static"
	[builder "c"]
		hosttype = loc
		repo = go
		run = "sleep 0.5; echo command"
	EOF
	gitmirror sync >/dev/null &&
	for r in $(git -C up/go rev-list master)
	do
		echo "s $r" && echo "c $r" || return 1
	done | sort >want
'

test_expect_success 'kill -9 of the daemon mid-build, restarted, five times' '
	for i in 1 2 3 4 5
	do
		start_daemon serve$i schedule serve -l 127.0.0.1:0 &&
		daemon_port serve$i >/dev/null &&
		sleep $(awk "BEGIN { srand($i + $$); print rand() * 1.5 }") &&
		kill -9 $(cat serve$i.pid) &&
		test_wait_until "! kill -0 $(cat serve$i.pid)" || return 1
		rm serve$i.pid
	done
'

test_expect_success 'after a last restart every build is recorded once' '
	start_daemon serve schedule serve -l 127.0.0.1:0 &&
	daemon_port serve >/dev/null &&
	test_wait_until "test \$(npairs) -ge 6" 120 &&
	test_wait_until "test -z \"\$(ls \"$BUILDFARM_DIR/spool/work/cur\")\"" &&
	pairs >got &&
	test_cmp want got
'

test_expect_success 'no command-pool machine leaked' '
	test_wait_until "test -z \"\$(ls \"$BUILDFARM_DIR/state/schedule/machines\")\"" &&
	stop_daemon serve &&
	test_wait_until "! pgrep -f \"$BUILDFARM_LOCAL\"" &&
	stop_daemon bl1 &&
	! pgrep -af "$TRASH_DIRECTORY"
'

test_done
