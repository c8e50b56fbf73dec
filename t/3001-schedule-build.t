#!/bin/sh
test_description='schedule build: one build on one buildlet, its log and record'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"

# item NAME BUILDER [KIND]: the spool item items/NAME for the upstream
# master commit
item () {
	mkdir -p items &&
	printf '{"builder":"%s","kind":"%s","repo":"go","rev":"%s"}\n' \
	    "$2" "${3:-manual}" "$rev" >"items/$1"
}

# records TYPE: the records of TYPE in the results log, without seq and
# time, with a log hash as HASH and elapsed_ms as 0, keys sorted
records () {
	cat "$BUILDFARM_DIR"/results/*.jsonl 2>/dev/null |
	perl -MJSON::PP -e '
		my $t = shift;
		my $js = JSON::PP->new->canonical;
		while (<STDIN>) {
			my $r = decode_json($_);
			next unless $r->{type} eq $t;
			delete @$r{qw(seq time type)};
			$r->{log} = "HASH" if exists $r->{log};
			$r->{elapsed_ms} = 0 if exists $r->{elapsed_ms};
			$r->{reason} = "R" if exists $r->{reason};
			print $js->encode($r), "\n";
		}
	' "$1"
}

# retract BUILDER: a retract record for BUILDER at $rev
retract () {
	echo "{\"builder\":\"$1\",\"repo\":\"go\",\"rev\":\"$rev\",\"reason\":\"flaky\"}" |
	maintlog -L results append -t retract
}

# bg_build ITEM: schedule build -m bl-1 of items/ITEM in the background,
# its output in ITEM.out and ITEM.err, its exit status in ITEM.rc
bg_build () {
	{
		schedule build -b "$url" -m bl-1 "items/$1" >"$1.out" 2>"$1.err"
		echo $? >"$1.rc"
	} &
}

# last_log: the log hash of the last result
last_log () {
	cat "$BUILDFARM_DIR"/results/*.jsonl |
	    sed -n 's/.*"log":"\([0-9a-f]*\)".*"type":"result".*/\1/p' |
	    tail -n 1
}

# stored HASH: the stored log of HASH, gunzip'd, to HASH.txt, after
# checking that its text hashes to its name
stored () {
	gzip -dc "$BUILDFARM_DIR/buildlogs/$(echo "$1" | cut -c1-2)/$1.gz" \
	    >"$1.txt" &&
	echo "$1  $1.txt" >"$1.sum" &&
	sha256sum -c --quiet "$1.sum"
}

test_expect_success 'setup: upstream, mirror, buildlet' '
	new_upstream go &&
	rev=$(git -C up/go rev-parse master) &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[repo "go"]
		upstream = file://$TRASH_DIRECTORY/up/go/.git
	[hosttype "local"]
		pool = static
		buildlet = http://127.0.0.1:1
	[builder "ok"]
		hosttype = local
		repo = go
		env = GREETING=hello
		run = cat first-1.txt
		run = echo greeting \$GREETING
	[builder "sub"]
		hosttype = local
		repo = go
		dir = go
		run = pwd && ls
	[builder "fail"]
		hosttype = local
		repo = go
		run = echo one
		run = echo failing && exit 3
		run = touch $TRASH_DIRECTORY/third-ran
	[builder "touch"]
		hosttype = local
		repo = go
		run = touch $TRASH_DIRECTORY/touched
	[builder "slow"]
		hosttype = local
		repo = go
		run = echo started && echo \$\$ >$TRASH_DIRECTORY/slow.pid && exec sleep 300
	[builder "quick"]
		hosttype = local
		repo = go
		step-timeout = 1s
		run = exec sleep 300
	[builder "gomote"]
		hosttype = local
	EOF
	gitmirror sync >/dev/null &&
	start_buildlet bl
'

test_expect_success 'build: ok, from gitmirror archive' '
	item i-ok ok &&
	schedule build -b "$url" -m bl-1 items/i-ok >out 2>err &&
	test_must_be_empty err &&
	cat >expect <<-EOF &&
	{"attempt":1,"builder":"ok","buildlet":"bl-1","elapsed_ms":0,"item":"i-ok","kind":"manual","log":"HASH","ok":true,"repo":"go","rev":"$rev"}
	EOF
	records result >actual &&
	test_cmp expect actual &&
	h=$(last_log) &&
	stored "$h" &&
	test_cmp out "$h.txt" &&
	sed "s/[0-9.]* s)\$/T s)/" "$h.txt" >actual &&
	cat >expect <<-EOF &&
	builder ok, repo go, rev $rev, buildlet bl-1, attempt 1
	+ cat first-1.txt
	first 1
	  (step 1: ok, T s)
	+ echo greeting \$GREETING
	greeting hello
	  (step 2: ok, T s)
	EOF
	test_cmp expect actual &&
	test_path_is_missing "$BUILDFARM_DIR/state/schedule/live/i-ok.log"
'

test_expect_success 'build: the work dir is wiped, the source goes to dir' '
	echo junk >bl.wd/junk &&
	item i-sub sub &&
	schedule build -b "$url" items/i-sub >out &&
	test_grep "/bl.wd/go\$" out &&
	test_grep "^first-1.txt\$" out &&
	test_path_is_missing bl.wd/junk &&
	test_grep "buildlet 127.0.0.1:$port, attempt 1\$" out
'

test_expect_success 'build: a failing step ends the build' '
	item i-fail fail &&
	test_expect_code 1 schedule build -b "$url" -m bl-1 -a 2 \
	    items/i-fail >out &&
	records result | tail -n 1 >actual &&
	cat >expect <<-EOF &&
	{"attempt":2,"builder":"fail","buildlet":"bl-1","elapsed_ms":0,"failed_step":1,"item":"i-fail","kind":"manual","log":"HASH","ok":false,"repo":"go","rev":"$rev"}
	EOF
	test_cmp expect actual &&
	test_path_is_missing third-ran &&
	h=$(last_log) &&
	stored "$h" &&
	test_grep "^failing\$" "$h.txt" &&
	test_grep "^  (step 2: exit status 3, [0-9.]* s)\$" "$h.txt" &&
	test_grep ! "third-ran" "$h.txt"
'

test_expect_success 'build: already recorded, nothing is run' '
	item i-touch touch &&
	schedule build -b "$url" items/i-touch >out &&
	test_path_is_file touched &&
	rm touched &&
	records result >before &&
	schedule build -b "$url" items/i-touch >out &&
	test_grep "i-touch: already recorded" out &&
	test_line_count = 1 out &&
	test_path_is_missing touched &&
	records result >after &&
	test_cmp before after
'

test_expect_success 'build: a retracted result builds again' '
	retract touch &&
	schedule build -b "$url" items/i-touch >out &&
	test_path_is_file touched &&
	records result | grep -c "\"builder\":\"touch\"" >actual &&
	echo 2 >expect &&
	test_cmp expect actual
'

test_expect_success 'build: try items are told apart by change and patch set' '
	mkdir -p items &&
	for n in 1:1 2:1 3:2
	do
		printf "{\"builder\":\"touch\",\"change\":7,\"kind\":\"try\",\"patchset\":%s,\"repo\":\"go\",\"rev\":\"%s\"}\n" \
		    "${n#*:}" "$rev" >items/i-try-${n%:*} &&
		schedule build -b "$url" items/i-try-${n%:*} >out-${n%:*} ||
		return 1
	done &&
	test_grep "^change 7, patch set 1\$" out-1 &&
	test_grep "^i-try-2: already recorded" out-2 &&
	test_grep "^change 7, patch set 2\$" out-3 &&
	records result | grep "\"kind\":\"try\"" >actual &&
	cat >expect <<-EOF &&
	{"attempt":1,"builder":"touch","buildlet":"127.0.0.1:$port","change":7,"elapsed_ms":0,"item":"i-try-1","kind":"try","log":"HASH","ok":true,"patchset":1,"repo":"go","rev":"$rev"}
	{"attempt":1,"builder":"touch","buildlet":"127.0.0.1:$port","change":7,"elapsed_ms":0,"item":"i-try-3","kind":"try","log":"HASH","ok":true,"patchset":2,"repo":"go","rev":"$rev"}
	EOF
	test_cmp expect actual
'

test_expect_success 'build: a step timeout fails the step' '
	item i-quick quick &&
	test_expect_code 1 schedule build -b "$url" items/i-quick >out &&
	test_grep "^  (step 1: timed out, signal: killed, [0-9.]* s)\$" out &&
	records result | tail -n 1 >actual &&
	test_grep "\"builder\":\"quick\",.*\"failed_step\":0," actual
'

test_expect_success 'build: from gitmirror serve (url=)' '
	start_daemon gm gitmirror serve -l 127.0.0.1:0 &&
	gmport=$(daemon_port gm) &&
	cp "$BUILDFARM_DIR/config" config.orig &&
	printf "[farm]\n\tsource = http://127.0.0.1:%s/\n" "$gmport" \
	    >>"$BUILDFARM_DIR/config" &&
	retract ok &&
	item i-url ok &&
	schedule build -b "$url" items/i-url >out 2>err &&
	test_must_be_empty err &&
	test_grep "^first 1\$" out &&
	records result >actual &&
	test_grep "\"item\":\"i-url\",.*\"ok\":true" actual
'

test_expect_success 'build: the source cannot be put: infrastructure' '
	stop_daemon gm &&
	retract ok &&
	item i-nosrc ok &&
	test_expect_code 111 schedule build -b "$url" -m bl-1 \
	    items/i-nosrc >out 2>err &&
	test_grep "could not put the source: .*127.0.0.1:$gmport/go.tar.gz" err &&
	records result >actual &&
	test_grep ! "i-nosrc" actual &&
	records attempt >actual &&
	cat >expect <<-EOF &&
	{"attempt":1,"builder":"ok","buildlet":"bl-1","item":"i-nosrc","kind":"manual","reason":"R","repo":"go","rev":"$rev"}
	EOF
	test_cmp expect actual &&
	cp config.orig "$BUILDFARM_DIR/config"
'

test_expect_success 'build: the live file while a step runs' '
	test_when_finished "kill \$(cat slow.pid) 2>/dev/null || :" &&
	item i-slow slow &&
	live="$BUILDFARM_DIR/state/schedule/live/i-slow.log" &&
	bg_build i-slow &&
	test_wait_until "test -s slow.pid" &&
	test_wait_until "grep -x started \"\$live\"" &&
	test_grep "^builder slow, repo go" "$live" &&
	kill "$(cat slow.pid)" &&
	test_wait_until "test -s i-slow.rc" &&
	echo 1 >expect &&
	test_cmp expect i-slow.rc &&
	test_path_is_missing "$live"
'

test_expect_success 'build: the buildlet killed mid-step: infrastructure' '
	rm -f slow.pid &&
	retract slow &&
	test_when_finished "kill \$(cat slow.pid) 2>/dev/null || :" &&
	item i-kill slow &&
	bg_build i-kill &&
	test_wait_until "test -s slow.pid" &&
	kill -9 "$(cat bl.pid)" &&
	test_wait_until "test -s i-kill.rc" &&
	kill "$(cat slow.pid)" &&
	echo 111 >expect &&
	test_cmp expect i-kill.rc &&
	test_grep "infrastructure failure: buildlet bl-1" i-kill.err &&
	records result >actual &&
	test_grep ! "i-kill" actual &&
	records attempt >actual &&
	test_grep "\"item\":\"i-kill\"" actual &&
	test_path_is_missing "$BUILDFARM_DIR/state/schedule/live/i-kill.log"
'

test_expect_success 'build: the buildlet unreachable: infrastructure' '
	retract ok &&
	item i-down ok &&
	test_expect_code 111 schedule build -b "$url" items/i-down 2>err &&
	test_line_count = 1 err &&
	records attempt >actual &&
	test_grep "\"item\":\"i-down\"" actual
'

test_expect_success 'build: bad items and builders exit 100 with one line' '
	start_buildlet bl2 &&
	item i-nobuilder nope &&
	test_expect_code 100 schedule build -b "$url" items/i-nobuilder \
	    2>err &&
	test_line_count = 1 err &&
	test_grep "items/i-nobuilder.*builder .nope." err &&
	item i-gomote gomote &&
	test_expect_code 100 schedule build -b "$url" items/i-gomote 2>err &&
	test_line_count = 1 err &&
	test_grep "config .*builder \"gomote\": no run steps" err &&
	echo "{\"repo\":\"go\"}" >items/i-bad &&
	test_expect_code 100 schedule build -b "$url" items/i-bad 2>err &&
	test_line_count = 1 err &&
	test_grep "items/i-bad" err &&
	test_expect_code 100 schedule build -b "$url" items/missing 2>err &&
	test_line_count = 1 err &&
	test_expect_code 100 schedule build items/i-ok 2>err &&
	test_grep "usage:" err &&
	test_path_is_missing bl2.wd/first-1.txt
'

test_expect_success 'build: the password from -p' '
	echo sesame >pw &&
	start_buildlet bl3 -password-file pw &&
	item i-pw touch &&
	rm -f touched &&
	retract touch &&
	test_expect_code 111 schedule build -b "$url" items/i-pw 2>err &&
	test_grep "403\|password" err &&
	schedule build -b "$url" -p pw items/i-pw >out &&
	test_path_is_file touched
'

test_done
