#!/bin/sh
test_description='pollgerrit: a crash anywhere loses nothing and repeats nothing'
. ./test-lib.sh
. "$TEST_DIRECTORY/fixtures/gerrit/lib.sh"

# state_seq: the corpus seq the state file says it reflects.
state_seq () {
	head -n 1 "$BUILDFARM_DIR/state/pollgerrit/go.json" |
	    sed 's/.*"seq":\([0-9]*\).*/\1/'
}

test_expect_success 'setup' '
	start_gerrit &&
	write_config </dev/null &&
	change n=101 vote=Run-TryBot:1001:1 \
	    updated="2017-07-01 10:00:00.000000000" >g/1/changes.jsonl &&
	change n=102 updated="2017-07-01 10:01:00.000000000" \
	    >>g/1/changes.jsonl &&
	grep "\"_number\":101," g/1/changes.jsonl >g/1/try.jsonl
'

test_expect_success 'killed after fetching: nothing written; the rerun does it all' '
	test_expect_code 137 env PG_TEST_CRASH_AT=after-fetch pollgerrit poll \
	    >out &&
	test_must_be_empty out &&
	test_path_is_missing "$BUILDFARM_DIR/state/pollgerrit/go.json" &&
	items >actual &&
	test_must_be_empty actual &&
	pollgerrit poll >out &&
	cat >expect <<-EOF &&
	new-change go 101 1 go master NEW
	new-change go 102 1 go master NEW
	try go 101 1 go master $(rev 101 1)
	EOF
	test_cmp expect out &&
	records >actual &&
	test_line_count = 2 actual
'

test_expect_success 'killed after appending: the rerun queues, records nothing again' '
	step 2 &&
	change n=101 ps=2 vote=Run-TryBot:1001:1 \
	    updated="2017-07-01 11:00:00.000000000" >g/2/changes.jsonl &&
	change n=103 updated="2017-07-01 11:01:00.000000000" \
	    >>g/2/changes.jsonl &&
	grep "\"_number\":101," g/2/changes.jsonl >g/2/try.jsonl &&
	cp "$BUILDFARM_DIR/state/pollgerrit/go.json" state.before &&
	test_expect_code 137 env PG_TEST_CRASH_AT=after-append pollgerrit poll &&
	records >actual &&
	cat >expect <<-\EOF &&
	1 101 1 NEW new-change Run-TryBot:1001=+1 -
	2 102 1 NEW new-change - -
	3 101 2 NEW new-patchset Run-TryBot:1001=+1 -
	4 103 1 NEW new-change - -
	EOF
	test_cmp expect actual &&
	test_cmp state.before "$BUILDFARM_DIR/state/pollgerrit/go.json" &&
	items >actual &&
	echo new/go-101-1 >expect &&
	test_cmp expect actual &&
	pollgerrit poll >out &&
	echo "try go 101 2 go master $(rev 101 2)" >expect &&
	test_cmp expect out &&
	records >actual &&
	test_line_count = 4 actual &&
	test "$(state_seq)" = 4 &&
	test_expect_code 1 pollgerrit poll
'

test_expect_success 'killed after queueing: the rerun has nothing to do' '
	step 3 &&
	change n=104 vote=Run-TryBot:1001:1 \
	    updated="2017-07-01 12:00:00.000000000" >g/3/changes.jsonl &&
	cp g/3/changes.jsonl g/3/try.jsonl &&
	test_expect_code 137 env PG_TEST_CRASH_AT=after-spool pollgerrit poll \
	    >out &&
	cat >expect <<-EOF &&
	new-change go 104 1 go master NEW
	try go 104 1 go master $(rev 104 1)
	EOF
	test_cmp expect out &&
	test "$(state_seq)" = 4 &&
	test_expect_code 1 pollgerrit poll >out &&
	test_must_be_empty out &&
	test "$(state_seq)" = 5 &&
	records >actual &&
	test_line_count = 5 actual
'

test_expect_success 'events killed after appending: the next event queues the work' '
	event comment-added n=104 ps=1 account=1002 \
	    approval=Code-Review:1 >ev &&
	event patchset-created n=105 >ev2 &&
	event comment-added n=105 ps=1 account=1001 \
	    approval=Run-TryBot:1:0 >>ev2 &&
	test_expect_code 137 env PG_TEST_CRASH_AT=after-append \
	    pollgerrit events <ev2 >out &&
	test_must_be_empty out &&
	records >actual &&
	test_line_count = 6 actual &&
	test_expect_code 137 env PG_TEST_CRASH_AT=after-append \
	    pollgerrit events <ev2 >out &&
	test_must_be_empty out &&
	records >actual &&
	test_line_count = 7 actual &&
	test_path_is_missing "$BUILDFARM_DIR/spool/try/new/go-105-1" &&
	pollgerrit events <ev >out &&
	cat >expect <<-EOF &&
	vote go 104 1 go master NEW
	try go 105 1 go master $(rev 105 1)
	EOF
	test_cmp expect out &&
	records >actual &&
	test_line_count = 8 actual &&
	test_expect_code 1 pollgerrit events <ev2
'

test_expect_success 'a second poll while one runs exits 1 at once' '
	step 4 &&
	change n=104 vote=Run-TryBot:1001:1 vote=Code-Review:1002:1 \
	    updated="2017-07-01 12:00:00.000000000" >g/4/changes.jsonl &&
	change n=106 updated="2017-07-01 13:00:00.000000000" \
	    >>g/4/changes.jsonl &&
	: >g/4/try.jsonl &&
	cat >g/4/routes <<-\EOF &&
	GET /changes/ label:Run-TryBot try.jsonl
	GET /changes/ * changes.jsonl delay=1
	EOF
	: >g/requests.log || return 1
	# the first holds the lock while Gerrit takes a second to answer
	pollgerrit poll >out.first 2>err.first &
	pid=$! &&
	wait_for_file_content g/requests.log &&
	test_expect_code 1 pollgerrit -v poll >out 2>err &&
	test_must_be_empty out &&
	grep "another pollgerrit is working on it" err &&
	wait $pid &&
	echo "new-change go 106 1 go master NEW" >expect &&
	test_cmp expect out.first &&
	test_line_count = 2 g/requests.log
'

test_expect_success 'records others appended are caught up, with or without the position' '
	grep -F "\"corpus\":{\"offset\":" "$BUILDFARM_DIR/state/pollgerrit/go.json" &&
	echo "{\"type\":\"git\",\"repo\":\"go\"}" |
	    maintlog -d "$BUILDFARM_DIR/corpus" append >/dev/null &&
	abandon="{\"type\":\"gerrit\",\"server\":\"$url\",\"project\":\"go\",\"branch\":\"master\",\"change\":106,\"change_id\":\"I1\",\"patchset\":1,\"rev\":\"$(rev 106 1)\",\"status\":\"ABANDONED\",\"subject\":\"change 106\",\"owner\":{\"account_id\":1000,\"name\":\"Gopher\"},\"labels\":{},\"messages\":[],\"event\":[\"status\"]}" &&
	echo "$abandon" | maintlog -d "$BUILDFARM_DIR/corpus" append >/dev/null &&
	rm g/4/routes &&
	pollgerrit poll >out &&
	echo "status go 106 1 go master NEW" >expect &&
	test_cmp expect out &&
	echo "$abandon" | maintlog -d "$BUILDFARM_DIR/corpus" append >/dev/null &&
	sed "1s/\"offset\":\([0-9]*\)/\"offset\":1\1/" \
	    "$BUILDFARM_DIR/state/pollgerrit/go.json" >state.bad &&
	mv state.bad "$BUILDFARM_DIR/state/pollgerrit/go.json" &&
	pollgerrit poll >out &&
	test_cmp expect out &&
	test_expect_code 1 pollgerrit poll
'

# The data of step K of the kill test, for changes 501-505: patch sets,
# votes, messages and status all move, and TryBots are asked for every
# third step.
kill_step () {
	k=$1 &&
	step $k &&
	: >g/$k/try.jsonl &&
	for i in 1 2 3 4 5
	do
		ps=$((1 + (k + i) / 4)) &&
		set -- n=50$i ps=$ps \
		    updated="2017-07-02 $k:00:0$i.000000000" &&
		m=1 &&
		while test $m -le $k
		do
			set -- "$@" "msg=1000:$ps:step $m of 50$i" &&
			m=$((m + 1))
		done &&
		v=$(((k + i) % 3 - 1)) &&
		if test $v != 0
		then
			set -- "$@" vote=Code-Review:1001:$v
		fi &&
		if test $i = 5 && test $k -ge 10
		then
			set -- "$@" status=MERGED
		elif test $((k % 3)) = 0
		then
			set -- "$@" vote=Run-TryBot:1002:1
		fi &&
		change "$@" >>g/$k/changes.jsonl &&
		if test $((k % 3)) = 0 && ! test $i = 5 -a $k -ge 10
		then
			change "$@" >>g/$k/try.jsonl &&
			echo "new/go-50$i-$ps" >>try.expect
		fi || return 1
	done &&
	echo "GET /changes/ label:Run-TryBot try.jsonl delay=0.02" >g/$k/routes &&
	echo "GET /changes/ * changes.jsonl delay=0.02" >>g/$k/routes &&
	sort -u try.expect -o try.expect
}

# last_seq FARM: the last seq of its corpus; state_seq_of FARM: the seq
# its state file reflects (0 without one).
last_seq () {
	maintlog -d "$1/corpus" cat | tail -n 1 |
	    sed "s/.*\"seq\":\([0-9]*\).*/\1/"
}
state_seq_of () {
	if test -f "$1/state/pollgerrit/go.json"
	then
		head -n 1 "$1/state/pollgerrit/go.json" |
		    sed "s/.*\"seq\":\([0-9]*\).*/\1/"
	else
		echo 0
	fi
}

test_expect_success 'killed with SIGKILL at random moments: no loss, no repeat' '
	mkdir kill &&
	write_config kill/config </dev/null &&
	: >try.expect &&
	hits=0 &&
	for k in $(test_seq 10 21)
	do
		kill_step $k &&
		if test $k = 10
		then
			# old changes: a state file that takes a while to write
			change n=6001 count=1500 \
			    updated="2017-07-01 00:00:00.000000000" \
			    >>g/$k/changes.jsonl
		fi &&
		# one kill as soon as the corpus grows, one at random
		for how in append random
		do
			size=$(cat kill/corpus/*.jsonl 2>/dev/null | wc -c) ||
			return 1
			pollgerrit -d kill poll >/dev/null 2>&1 &
			pid=$! &&
			perl -MTime::HiRes=time,sleep -e "
				my (\$how, \$pid, \$size) = @ARGV;
				if (\$how eq q(random)) {
					sleep(rand(0.25));
					kill 9, \$pid;
					exit 0;
				}
				my \$end = time + 10;
				while (time < \$end && kill(0, \$pid)) {
					my \$now = 0;
					\$now += -s \$_ for glob(q(kill/corpus/*.jsonl));
					last if \$now != \$size;
					sleep(0.001);
				}
				kill 9, \$pid;
			" $how $pid $size &&
			wait $pid
			if test "$(last_seq kill)" -gt "$(state_seq_of kill)"
			then
				hits=$((hits + 1))
			fi
		done &&
		{
			pollgerrit -d kill poll >/dev/null ||
			test $? = 1
		} || return 1
	done &&
	echo "# $hits kills between appending and writing the state" &&
	test $hits -gt 0 &&
	maintlog -d kill/corpus verify &&
	maintlog -d kill/corpus cat -t gerrit >all &&
	perl -MJSON::PP -e "
		my (%last, %ids, \$bad);
		while (<STDIN>) {
			my \$r = decode_json(\$_);
			my \$c = \$r->{change};
			my \$state = encode_json([\$r->{patchset}, \$r->{status},
			    \$r->{labels}]);
			for my \$m (@{\$r->{messages}}) {
				print qq(message \$m->{id} of \$c twice\n),
				    \$bad++ if \$ids{\$m->{id}}++;
				push @{\$last{\$c}{msgs}}, \$m->{message};
			}
			print qq(record \$r->{seq} of \$c repeats its state\n), \$bad++
			    if defined \$last{\$c}{state} &&
			    \$last{\$c}{state} eq \$state && !@{\$r->{messages}};
			\$last{\$c}{state} = \$state;
			\$last{\$c}{ps} = \$r->{patchset};
			\$last{\$c}{status} = \$r->{status};
		}
		for my \$c (sort keys %last) {
			my \$n = @{\$last{\$c}{msgs}};
			print qq(\$c \$last{\$c}{ps} \$last{\$c}{status} \$n\n);
			for my \$i (1 .. \$n) {
				print qq(\$c: message \$i is not step \$i\n), \$bad++
				    if \$last{\$c}{msgs}[\$i - 1] ne qq(step \$i of \$c);
			}
		}
		exit(\$bad ? 1 : 0);
	" <all >summary.all &&
	grep -c "^[67][0-9][0-9][0-9] 1 NEW" summary.all >old &&
	echo 1500 >expect &&
	test_cmp expect old &&
	grep "^50[1-5] " summary.all >summary &&
	cat >expect <<-\EOF &&
	501 6 NEW 21
	502 6 NEW 21
	503 7 NEW 21
	504 7 NEW 21
	505 7 MERGED 21
	EOF
	test_cmp expect summary &&
	items kill >actual &&
	test_cmp try.expect actual
'

test_expect_success 'killed between the changes file and the state file: no message counted twice' '
	mkdir split &&
	start_gerrit s &&
	write_config split/config </dev/null &&
	change n=801 msg="1000:1:one" \
	    updated="2017-07-01 10:00:00.000000000" >s/1/changes.jsonl &&
	: >s/1/try.jsonl &&
	pollgerrit -d split poll >out &&
	step 2 s &&
	change n=801 msg="1000:1:one" msg="1001:1:two" \
	    updated="2017-07-01 11:00:00.000000000" >s/2/changes.jsonl &&
	: >s/2/try.jsonl &&
	test_expect_code 137 env PG_TEST_CRASH_AT=after-changes \
	    pollgerrit -d split poll &&
	grep "\"seq\":2" split/state/pollgerrit/go.changes/0.json &&
	grep "\"seq\":1," split/state/pollgerrit/go.json &&
	test_expect_code 1 pollgerrit -d split poll &&
	step 3 s &&
	change n=801 msg="1000:1:one" msg="1001:1:two" msg="1001:1:three" \
	    updated="2017-07-01 12:00:00.000000000" >s/3/changes.jsonl &&
	: >s/3/try.jsonl &&
	pollgerrit -d split poll >out &&
	echo "message go 801 1 go master NEW" >expect &&
	test_cmp expect out &&
	records split >actual &&
	cat >expect <<-\EOF &&
	1 801 1 NEW new-change - one
	2 801 1 NEW message - two
	3 801 1 NEW message - three
	EOF
	test_cmp expect actual
'

test_done
