#!/bin/sh
test_description='schedule serve: gomote creates wait, pre-empt, and hold'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"
. "$TEST_DIRECTORY/helper/lib-gapi.sh"

# field BUILDER KEY: KEY of BUILDER's result records
field () {
	cat "$BUILDFARM_DIR"/results/*.jsonl |
	B=$1 K=$2 perl -MJSON::PP -ne '
		my $r = decode_json($_);
		print $r->{$ENV{K}}, "\n" if $r->{type} eq "result" &&
		    $r->{builder} eq $ENV{B};
	'
}
# nwaiting: how many gomote creates wait
nwaiting () {
	curl -sSf "$(addr)/status.json" | perl -MJSON::PP -e '
		local $/;
		my $s = decode_json(<STDIN>);
		print scalar @{$s->{gomote}{waiting}}, "\n";
	'
}
# nrunning BUILDER: how many builds of BUILDER run
nrunning () {
	schedule status -j | B=$1 perl -MJSON::PP -ne '
		my $r = decode_json($_);
		print "x\n" if $r->{type} eq "running" &&
		    $r->{builder} eq $ENV{B};
	' | wc -l | tr -d " "
}

test_expect_success 'setup: 3 commits, two one-machine static pools, one command' '
	new_upstream go &&
	commit_n up/go 2 &&
	start_buildlet blp && start_buildlet blt && URLT=$url &&
	URLP=http://127.0.0.1:$(daemon_port blp) &&
	mkdir gates &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[repo "go"]
		upstream = file://$TRASH_DIRECTORY/up/go
		branch = master
	[hosttype "pre"]
		pool = static
		buildlet = $URLP
		gomote-preempt = true
	[hosttype "turns"]
		pool = static
		buildlet = $URLT
	[hosttype "one"]
		pool = command
		create = $ENV_LOCAL/create %n
		destroy = $ENV_LOCAL/destroy %n
		max = 1
	[builder "p"]
		hosttype = pre
		repo = go
		run = "until test -e $TRASH_DIRECTORY/gates/p; do sleep 0.1; done"
	[builder "t"]
		hosttype = turns
		repo = go
		run = "until test -e $TRASH_DIRECTORY/gates/t; do sleep 0.1; done"
	[builder "failing"]
		hosttype = one
		repo = go
		hold = 60
		backfill = 1
		run = "echo made-by-the-build >made"
		run = "echo failing-step; exit 3"
	[builder "o"]
		hosttype = one
	EOF
	gitmirror sync >/dev/null &&
	start_daemon serve schedule serve -l 127.0.0.1:0 &&
	daemon_port serve >/dev/null
'

test_expect_success 'gomote-preempt: the next free machine is the user'"'"'s' '
	test_wait_until "test \$(nrunning p) = 1" &&
	gcreate alice p >created &
	pid=$! &&
	test_wait_until "test \$(nwaiting) = 1" &&
	: >gates/p &&
	wait $pid &&
	test "$(jfield Name <created)" = user-alice-p-0 &&
	test "$(nresults p)" = 1 &&
	test "$(nrunning p)" = 0 &&
	gproxy alice user-alice-p-0 /halt -f -X POST &&
	test_wait_until "test \$(nresults p) = 3"
'

test_expect_success 'without it, builds and users take turns' '
	test_wait_until "test \$(nrunning t) = 1" &&
	gcreate alice t >created &
	pid=$! &&
	test_wait_until "test \$(nwaiting) = 1" &&
	: >gates/t &&
	wait $pid &&
	test "$(jfield Name <created)" = user-alice-t-0 &&
	test "$(nresults t)" = 2 &&
	gproxy alice user-alice-t-0 /halt -f -X POST &&
	test_wait_until "test \$(nresults t) = 3"
'

test_expect_success 'hold: the failed build'"'"'s machine, kept over a restart' '
	test_wait_until "test \$(nresults failing) = 1" &&
	hash=$(field failing log) &&
	test_wait_until "schedule status -j | grep \"\\\"state\\\":\\\"held\\\"\"" &&
	stop_daemon serve &&
	start_daemon serve2 schedule serve -l 127.0.0.1:0 &&
	daemon_port serve2 >/dev/null &&
	schedule status -j >st &&
	test_grep "\"state\":\"held\"" st &&
	gapi bob /buildlet/create -f -d version=20170720 -d "hold=$hash" \
	    >created &&
	test "$(jfield Name <created)" = user-bob-failing-0 &&
	gproxy bob user-bob-failing-0 /exec -f -d mode=sys -d cmd=cat \
	    -d cmdArg=made >out &&
	echo made-by-the-build >want && test_cmp want out &&
	gapi bob /buildlet/create -o out -w "%{http_code}\n" \
	    -d version=20170720 -d "hold=$hash" >code &&
	echo 404 >want && test_cmp want code
'

test_expect_success 'a create whose client hangs up stops waiting' '
	tok=$(token dave) &&
	curl -sS -N -u "user-dave:$tok" -d builderType=o -d version=20191119 \
	    "$(addr)/buildlet/create" >hangup &
	pid=$! &&
	test_wait_until "test \$(nwaiting) = 1" &&
	kill $pid &&
	test_wait_until "test \$(nwaiting) = 0" &&
	gapi dave /buildlet/list -f >list &&
	echo "[]" >want && test_cmp want list
'

test_expect_success 'a create that waits: progress lines, then the instance' '
	gapi carol /buildlet/create -N -f -d builderType=o \
	    -d version=20191119 >progress &
	pid=$! &&
	test_wait_until "grep -q \"\\\"status\\\":\\\"waiting\\\"\" progress" &&
	test_grep "\"hosttype\":\"one\"" progress &&
	test_grep "\"gomote\":1" progress &&
	gproxy bob user-bob-failing-0 /halt -f -X POST &&
	wait $pid &&
	tail -n 1 progress | jfield Name >name &&
	echo user-carol-o-0 >want && test_cmp want name &&
	gapi carol /buildlet/list -f | jfield Name >name &&
	test_cmp want name &&
	gproxy carol user-carol-o-0 /exec -f -d mode=sys -d cmd=ls >ls &&
	test_must_be_empty ls
'

test_expect_success 'stop, and the machines are destroyed' '
	stop_daemon serve2 &&
	for f in $(ls "$BUILDFARM_DIR/state/schedule/machines")
	do
		"$ENV_LOCAL/destroy" "$f" || return 1
	done
'

test_done
