#!/bin/sh
test_description='schedule serve with reverse buildlets: builds, a lost machine, a restart'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"
. "$TEST_DIRECTORY/helper/lib-reverse.sh"

# field BUILDER REV KEY: KEY of the last result record of BUILDER at REV
field () {
	cat "$BUILDFARM_DIR"/results/*.jsonl |
	B=$1 R=$2 K=$3 perl -MJSON::PP -ne '
		my $r = decode_json($_);
		$v = $r->{$ENV{K}} if $r->{type} eq "result" &&
		    $r->{builder} eq $ENV{B} && $r->{rev} eq $ENV{R};
		END { print "$v\n" if defined $v }
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

test_expect_success 'setup: upstream, mirror, two reverse host types, three workers' '
	new_upstream go &&
	R1=$(git -C up/go rev-parse master) &&
	mkdir gates &&
	mkdir -p "$BUILDFARM_DIR" &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[repo "go"]
		upstream = file://$TRASH_DIRECTORY/up/go
		branch = master
	[hosttype "ra"]
		pool = reverse
	[hosttype "rb"]
		pool = reverse
	[builder "fa"]
		hosttype = ra
		repo = go
		run = echo built-on-a
	[builder "fb"]
		hosttype = rb
		repo = go
		run = "test -f first-1.txt && echo built-on-b"
	[builder "gated"]
		hosttype = ra
		repo = go
		run = echo gate-open
		run = "until test -e $TRASH_DIRECTORY/gates/go; do sleep 0.1; done; echo passed"
	EOF
	gitmirror sync >/dev/null &&
	start_coord &&
	rev_key ra && rev_key rb &&
	start_rev a1 ra && start_rev a2 ra && start_rev b1 rb &&
	rev_wait ra-a1 && rev_wait ra-a2 && rev_wait rb-b1
'

test_expect_success 'reverse machines build real work of both host types' '
	test_wait_until "test \$(nresults fa) = 1" &&
	test_wait_until "test \$(nresults fb) = 1" &&
	results fa >out && echo "fa $R1 ok" >want && test_cmp want out &&
	results fb >out && echo "fb $R1 ok" >want && test_cmp want out &&
	test "$(field fb $R1 buildlet)" = rb-b1 &&
	case $(field fa $R1 buildlet) in ra-a1|ra-a2) ;; *) false ;; esac &&
	hash=$(field fb $R1 log) &&
	curl -sSf "$COORD/log/$hash" >log &&
	test_grep built-on-b log
'

test_expect_success 'the status page shows them with hostname, version, keep-alive' '
	curl -sSf "$COORD/" >page &&
	test_grep "<h2>pool ra (reverse)</h2>" page &&
	test_grep "<td>ra-a1</td>" page &&
	test_grep "<th>keepalive_s</th>" page &&
	schedule status -j >lines &&
	test_grep "\"hostname\":\"b1\"" lines &&
	test_grep "\"version\":\"15\"" lines
'

test_expect_success 'a reverse buildlet killed mid-build: retried on the other one' '
	test_wait_until "test -n \"\$(running gated)\"" &&
	set -- $(running gated) &&
	case $2 in
	ra-a1) victim=a1 other=ra-a2 ;;
	ra-a2) victim=a2 other=ra-a1 ;;
	esac &&
	test_wait_until "grep gate-open \"$BUILDFARM_DIR/state/schedule/live/$1.log\"" &&
	kill -9 $(cat $victim.pid) &&
	rev_gone ra-$victim &&
	test_grep "machine ra-$victim: control connection ended" coord.log &&
	test_wait_until "test \"\$(running gated)\" = \"$1 $other\"" &&
	: >gates/go &&
	test_wait_until "test \$(nresults gated) = 1" &&
	results gated >out && echo "gated $R1 ok" >want && test_cmp want out &&
	test "$(field gated $R1 attempt)" = 2 &&
	test "$(field gated $R1 buildlet)" = $other &&
	grep "\"type\":\"attempt\"" "$BUILDFARM_DIR"/results/*.jsonl >attempts &&
	test_line_count = 1 attempts
'

test_expect_success 'the coordinator restarts: the buildlets come back, queued work runs' '
	stop_daemon coord &&
	commit_n up/go 1 &&
	R2=$(git -C up/go rev-parse master) &&
	gitmirror sync >/dev/null &&
	start_daemon coord schedule serve -l 127.0.0.1:$coord_port &&
	rev_wait rb-b1 &&
	test_wait_until "test \$(nresults fa) = 2" &&
	test_wait_until "test \$(nresults fb) = 2" &&
	results fb >out &&
	printf "fb %s ok\nfb %s ok\n" $R1 $R2 | sort >want &&
	test_cmp want out &&
	test_wait_until "test \$(nresults gated) = 2"
'

test_expect_success 'SIGTERM: the daemon stops, the buildlets wait for it' '
	stop_daemon coord &&
	test_wait_until "grep -q \"Couldn.t connect\" b1.log" &&
	kill -0 $(cat b1.pid) &&
	stop_daemon b1 &&
	stop_daemon ${other#ra-}
'

test_done
