#!/bin/sh
test_description='schedule serve: the daemon, its pools, its pages'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"

# field BUILDER REV KEY: KEY of the result record of BUILDER at REV
field () {
	cat "$BUILDFARM_DIR"/results/*.jsonl |
	B=$1 R=$2 K=$3 perl -MJSON::PP -ne '
		my $r = decode_json($_);
		print $r->{$ENV{K}}, "\n" if $r->{type} eq "result" &&
		    $r->{builder} eq $ENV{B} && $r->{rev} eq $ENV{R};
	'
}
# running BUILDER: the item and machine of BUILDER's running build
running () {
	schedule status -j | B=$1 perl -MJSON::PP -ne '
		my $r = decode_json($_);
		print "$r->{item} $r->{machine}\n" if $r->{type} eq "running"
		    && $r->{builder} eq $ENV{B};
	'
}
machines () {
	ls "$BUILDFARM_DIR/state/schedule/machines" | wc -l | tr -d " "
}

test_expect_success 'setup: upstream, mirror, two static buildlets' '
	new_upstream go &&
	R1=$(git -C up/go rev-parse master) &&
	start_buildlet bl1 && URL1=$url &&
	start_buildlet bl2 && URL2=$url &&
	mkdir gates &&
	cat >"$BUILDFARM_DIR/config" <<-EOF
	[repo "go"]
		upstream = file://$TRASH_DIRECTORY/up/go
		branch = master
	[hosttype "st"]
		pool = static
		buildlet = $URL1
		buildlet = $URL2
	[hosttype "loc"]
		pool = command
		create = $ENV_LOCAL/create %n
		destroy = $ENV_LOCAL/destroy %n
		max = 1
		idle = 3
	[builder "fast"]
		hosttype = st
		repo = go
		run = echo built-fast
	[builder "bad"]
		hosttype = st
		repo = go
		run = echo first-step
		run = "echo oops-step-two; exit 3"
	[builder "gated"]
		hosttype = st
		repo = go
		run = echo gate-open
		run = "until test -e $TRASH_DIRECTORY/gates/go; do sleep 0.1; done; echo passed-\$((6 * 7))"
	[builder "cmd"]
		hosttype = loc
		repo = go
		run = echo on-a-local-machine
	EOF
	gitmirror sync >/dev/null
'

test_expect_success 'bad config: one line, exit 100' '
	mkdir bad &&
	sed "s/hosttype = loc/hosttype = nowhere/" "$BUILDFARM_DIR/config" \
	    >bad/config &&
	test_expect_code 100 schedule -d bad serve -l 127.0.0.1:0 2>err &&
	test_grep "^schedule: config .bad/config.: builder \"cmd\": hosttype .nowhere. is not defined" err &&
	test_expect_code 100 schedule serve -l 0.0.0.0:0 2>err &&
	test_grep "not loopback" err
'

test_expect_success 'no daemon: status exits 111' '
	test_expect_code 111 schedule status 2>err
'

test_expect_success 'the daemon starts on port 0 and builds the commit' '
	start_daemon serve schedule serve -l 127.0.0.1:0 &&
	port=$(daemon_port serve) &&
	test "$(addr)" = "http://127.0.0.1:$port" &&
	test_expect_code 111 schedule serve -l 127.0.0.1:0 2>err &&
	test_grep "already running" err &&
	test_wait_until "test \$(nresults fast) = 1" &&
	test_wait_until "test \$(nresults cmd) = 1" &&
	test_wait_until "test \$(nresults bad) = 1" &&
	results fast >out && echo "fast $R1 ok" >want && test_cmp want out &&
	results cmd >out && echo "cmd $R1 ok" >want && test_cmp want out &&
	results bad >out && echo "bad $R1 failed" >want && test_cmp want out
'

test_expect_success 'a failing step: ok false, and its log has the output' '
	test "$(field bad $R1 failed_step)" = 1 &&
	hash=$(field bad $R1 log) &&
	curl -sSf "$(addr)/log/$hash" >log &&
	test_grep oops-step-two log &&
	item=$(field bad $R1 item) &&
	curl -sSf "$(addr)/log/$item" >log2 &&
	test_cmp log log2
'

test_expect_success 'the live log follows a running build to its end' '
	test_wait_until "test -n \"\$(running gated)\"" &&
	set -- $(running gated) &&
	curl -sSfN "$(addr)/log/$1" >live &
	curl_pid=$! &&
	test_wait_until "grep gate-open live" &&
	! grep passed-42 live &&
	: >gates/go &&
	wait $curl_pid &&
	test_grep passed-42 live &&
	test_wait_until "test \$(nresults gated) = 1"
'

test_expect_success 'the status page and status -j' '
	curl -sSf "$(addr)/" >page &&
	test_grep "http-equiv=\"refresh\"" page &&
	test_grep "<h2>pool st (static)</h2>" page &&
	! grep -i "<script" page &&
	curl -sSf "$(addr)/status.json" >status.json &&
	schedule status -j >lines &&
	test_grep "\"type\":\"machine\"" lines &&
	test_grep "\"name\":\"st-1\"" lines &&
	test_grep "\"type\":\"builders\"" lines &&
	schedule status >text &&
	test_grep "^st-2 " text
'

test_expect_success 'command pool: at most max machines, gone when idle' '
	test_wait_until "test \$(machines) = 0" &&
	test_path_is_missing local/loc-1 &&
	test_path_is_missing local/loc-2
'

test_expect_success 'a new commit is built without a restart' '
	rm gates/go &&
	commit_n up/go 1 &&
	R2=$(git -C up/go rev-parse master) &&
	gitmirror sync >/dev/null &&
	test_wait_until "test \$(nresults fast) = 2" &&
	test_wait_until "test \$(nresults cmd) = 2" &&
	results fast >out &&
	printf "fast %s ok\nfast %s ok\n" $R1 $R2 | sort >want &&
	test_cmp want out
'

test_expect_success 'the buildlet dies mid-build: retried on the other one' '
	test_wait_until "test -n \"\$(running gated)\"" &&
	set -- $(running gated) &&
	case $2 in
	st-1) victim=bl1 ;;
	st-2) victim=bl2 ;;
	esac &&
	test_wait_until "grep gate-open \"$BUILDFARM_DIR/state/schedule/live/$1.log\"" &&
	kill -9 $(cat $victim.pid) &&
	test_wait_until "test -n \"\$(running gated)\" && test \"\$(running gated)\" != \"$1 $2\"" &&
	: >gates/go &&
	test_wait_until "test \$(nresults gated) = 2" &&
	results gated >out &&
	printf "gated %s ok\ngated %s ok\n" $R1 $R2 | sort >want &&
	test_cmp want out &&
	test "$(field gated $R2 attempt)" = 2 &&
	grep "\"type\":\"attempt\"" "$BUILDFARM_DIR"/results/*.jsonl >attempts &&
	test_line_count = 1 attempts
'

test_expect_success 'SIGTERM: the daemon stops, the machines are destroyed' '
	stop_daemon serve &&
	for f in $(ls "$BUILDFARM_DIR/state/schedule/machines")
	do
		"$ENV_LOCAL/destroy" "$f" || return 1
	done &&
	kill $(cat bl1.pid bl2.pid) 2>/dev/null
	test_wait_until "! pgrep -f \"$TRASH_DIRECTORY\"" &&
	! pgrep -af "$TRASH_DIRECTORY"
'

test_done
