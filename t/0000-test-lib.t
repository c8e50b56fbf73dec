#!/bin/sh
test_description='test-lib.sh: the test library tests itself'
cd "$(dirname "$0")" || exit 1
. ./test-lib.sh

# run_sub NAME [OPTION...] <script: write sub/NAME.t (test-lib sourced,
# then the script from stdin) and run it in sub/ with the options; its
# stdout, stderr and exit status go to sub/NAME.out, .err and .rc
run_sub () {
	run_sub_name=$1 &&
	shift &&
	mkdir -p sub &&
	{
		printf "%s\n" "#!/bin/sh" "test_description=\"$run_sub_name\"" \
		    ". \"\$TEST_DIRECTORY/test-lib.sh\"" &&
		cat
	} >"sub/$run_sub_name.t" &&
	(
		cd sub &&
		sh "./$run_sub_name.t" --root=. "$@" \
		    >"$run_sub_name.out" 2>"$run_sub_name.err"
		echo $? >"$run_sub_name.rc"
	)
}

# check_sub NAME RC: sub/NAME exited RC, and its stdout is the TAP in
# file expect, with nothing else in it
check_sub () {
	echo "$2" >expect.rc &&
	test_cmp expect.rc "sub/$1.rc" &&
	test_cmp expect "sub/$1.out" &&
	test_grep ! -Ev "^(ok [0-9]|not ok [0-9]|# |1\.\.)" "sub/$1.out"
}

# running PID: the process exists and is not a zombie
running () {
	kill -0 "$1" 2>/dev/null &&
	case $(ps -o stat= -p "$1") in Z*) false ;; *) true ;; esac
}

test_expect_success 'tests run in the trash directory, with a clean env' '
	test "$(pwd)" = "$TRASH_DIRECTORY" &&
	test "${TRASH_DIRECTORY##*/}" = trash.0000-test-lib &&
	test "$HOME" = "$TRASH_DIRECTORY" &&
	test "$BUILDFARM_DIR" = "$TRASH_DIRECTORY/farm" &&
	test_path_is_dir "$BUILDFARM_DIR" &&
	test -f "$BUILDFARM_TOP/t/test-lib.sh" &&
	test "$TEST_DIRECTORY" = "$BUILDFARM_TOP/t" &&
	test "$LC_ALL" = C && test "$TZ" = UTC &&
	ls -A >listing &&
	printf "farm\nlisting\n" >expect &&
	test_cmp expect listing
'

test_expect_success 'PATH has every cmd/*/ and t/helper before the rest' '
	rest=$PATH &&
	for d in "$BUILDFARM_TOP"/cmd/*/
	do
		test -d "$d" || continue
		test "${rest%%:*}" = "${d%/}" || return 1
		rest=${rest#*:}
	done &&
	test "${rest%%:*}" = "$TEST_DIRECTORY/helper"
'

test_expect_success 'a variable set by one test is seen by the next' '
	carried=yes
'

test_expect_success 'a variable set by one test is seen by the next (2)' '
	test "$carried" = yes
'

test_expect_success 'a script that passes: plan, exit 0, trash removed' '
	run_sub pass <<-\EOF &&
	test_expect_success "one" "true"
	test_expect_success "two" "x=2"
	test_expect_success "three sees x" "test \$x = 2"
	test_done
	EOF
	cat >expect <<-\EOF &&
	ok 1 - one
	ok 2 - two
	ok 3 - three sees x
	# passed all 3 test(s)
	1..3
	EOF
	check_sub pass 0 &&
	test_must_be_empty sub/pass.err &&
	test_path_is_missing sub/trash.pass sub/trash.pass.lib
'

test_expect_success 'failures, known breakages and prerequisites' '
	run_sub mixed <<-\EOF &&
	test_set_prereq HAVE
	test_expect_success "passes" "echo out-of-a-pass"
	test_expect_success "fails" "echo fail-out && echo fail-err >&2 && false"
	test_expect_failure "known breakage" "false"
	test_expect_failure "vanished breakage" "true"
	test_expect_success MISSING "needs MISSING" "false"
	test_expect_success HAVE,!MISSING "needs HAVE, not MISSING" "true"
	test_expect_success !HAVE "needs no HAVE" "false"
	test_expect_success "ok 99 - a title is not a result" "true"
	test_done
	EOF
	cat >expect <<-\EOF &&
	ok 1 - passes
	not ok 2 - fails
	not ok 3 - known breakage # TODO known breakage
	ok 4 - vanished breakage # TODO known breakage vanished
	ok 5 # skip needs MISSING (missing MISSING)
	ok 6 - needs HAVE, not MISSING
	ok 7 # skip needs no HAVE (missing !HAVE)
	ok 8 - ok 99 - a title is not a result
	# 1 known breakage(s) vanished; update the tests
	# still have 1 known breakage(s)
	# failed 1 among 8 test(s)
	1..8
	EOF
	check_sub mixed 1 &&
	cat >expect.err <<-\EOF &&
	# failed test 2: fails
	#	echo fail-out && echo fail-err >&2 && false
	# output:
	# fail-out
	# fail-err
	EOF
	grep -v "^# trash kept" sub/mixed.err >actual.err &&
	test_cmp expect.err actual.err &&
	grep "^# trash kept: .*/sub/trash.mixed$" sub/mixed.err &&
	test_path_is_dir sub/trash.mixed &&
	test_path_is_file sub/trash.mixed.lib/out.2 &&
	test_grep ! out-of-a-pass sub/mixed.out sub/mixed.err
'

test_expect_success 'a kept trash directory is replaced by the next run' '
	echo stale >sub/trash.mixed/leftover &&
	test_expect_code 1 sh -c "cd sub && sh ./mixed.t --root=. >/dev/null 2>&1" &&
	test_path_is_dir sub/trash.mixed &&
	test_path_is_missing sub/trash.mixed/leftover
'

test_expect_success 'skip_all before the first test skips the script' '
	run_sub skip <<-\EOF &&
	skip_all="no frobnicator here"
	test_expect_success "never runs" "false"
	test_done
	EOF
	echo "1..0 # SKIP no frobnicator here" >expect &&
	check_sub skip 0 &&
	test_path_is_missing sub/trash.skip &&
	run_sub skip2 <<-\EOF &&
	skip_all="nothing to do"
	test_done
	EOF
	echo "1..0 # SKIP nothing to do" >expect &&
	check_sub skip2 0
'

test_expect_success '-i stops at the first failure' '
	cat >three <<-\EOF &&
	test_expect_success "first" "true"
	test_expect_success "second" "false"
	test_expect_success "third" "true"
	test_done
	EOF
	run_sub imm -i <three &&
	cat >expect <<-\EOF &&
	ok 1 - first
	not ok 2 - second
	# failed 1 among 2 test(s)
	1..2
	EOF
	check_sub imm 1 &&
	run_sub noimm <three &&
	cat >expect <<-\EOF &&
	ok 1 - first
	not ok 2 - second
	ok 3 - third
	# failed 1 among 3 test(s)
	1..3
	EOF
	check_sub noimm 1
'

test_expect_success '-v shows output on stderr, never on stdout' '
	run_sub verbose -v <<-\EOF &&
	test_expect_success "talks" "
		echo said-on-stdout &&
		echo ok 42 - fake result &&
		echo said-on-stderr >&2
	"
	test_done
	EOF
	cat >expect <<-\EOF &&
	ok 1 - talks
	# passed all 1 test(s)
	1..1
	EOF
	check_sub verbose 0 &&
	grep "^said-on-stdout$" sub/verbose.err &&
	grep "^said-on-stderr$" sub/verbose.err &&
	grep "^ok 42 - fake result$" sub/verbose.err &&
	grep "^# test 1: talks$" sub/verbose.err
'

test_expect_success '-x traces failing bodies; "return" ends a body' '
	run_sub trace -x <<-\EOF &&
	test_expect_success "loop" "
		for i in 1 2 3
		do
			test \$i -lt 2 || return 1
		done
	"
	test_expect_success "after" "true"
	test_done
	EOF
	cat >expect <<-\EOF &&
	not ok 1 - loop
	ok 2 - after
	# failed 1 among 2 test(s)
	1..2
	EOF
	check_sub trace 1 &&
	grep "^# + test 2 -lt 2" sub/trace.err &&
	grep "^# + return 1" sub/trace.err &&
	test_grep ! "printf" sub/trace.err
'

test_expect_success '--debug keeps the trash of a passing script' '
	run_sub debug -d <<-\EOF &&
	test_expect_success "make a file" "echo x >made"
	test_done
	EOF
	echo 0 >expect &&
	test_cmp expect sub/debug.rc &&
	test_path_is_file sub/trash.debug/made
'

test_expect_success 'the environment is cleaned of BUILDFARM_*' '
	(
		BUILDFARM_LEAK=1 &&
		BUILDFARM_DIR=/nonexistent &&
		export BUILDFARM_LEAK BUILDFARM_DIR &&
		run_sub env <<-\EOF
		test_expect_success "clean" "
			test -z \"\$BUILDFARM_LEAK\" &&
			test \"\$BUILDFARM_DIR\" = \"\$TRASH_DIRECTORY/farm\"
		"
		test_done
		EOF
	) &&
	echo 0 >expect &&
	test_cmp expect sub/env.rc
'

test_expect_success 'test_when_finished runs after the test, even on failure' '
	run_sub finished <<-\EOF &&
	test_expect_success "cleanups run last first, after a failure" "
		test_when_finished \"echo first >>order\" &&
		test_when_finished \"echo second >>order\" &&
		false
	"
	test_expect_success "they ran" "
		printf \"second\\nfirst\\n\" >expect &&
		test_cmp expect order
	"
	test_expect_success "a failing cleanup fails the test" "
		test_when_finished false &&
		test_when_finished \"echo still-ran >ran\" &&
		true
	"
	test_expect_success "and the others still ran" "test -f ran"
	test_expect_success "cleanups run in the trash after a cd" "
		mkdir -p d &&
		test_when_finished \"echo x >cleaned\" &&
		cd d
	"
	test_expect_success "cleaned" "
		test -f cleaned && test \"\$(pwd)\" = \"\$TRASH_DIRECTORY\"
	"
	test_expect_success "in a subshell it is a bug" "
		(test_when_finished true)
	"
	test_done
	EOF
	cat >expect <<-\EOF &&
	not ok 1 - cleanups run last first, after a failure
	ok 2 - they ran
	not ok 3 - a failing cleanup fails the test
	ok 4 - and the others still ran
	ok 5 - cleanups run in the trash after a cd
	ok 6 - cleaned
	not ok 7 - in a subshell it is a bug
	# failed 3 among 7 test(s)
	1..7
	EOF
	check_sub finished 1 &&
	grep "^# error: bug in the test script: test_when_finished in a subshell" sub/finished.err
'

test_expect_success 'test_when_finished outside a test is a bug' '
	run_sub outside <<-\EOF &&
	test_when_finished "echo hi"
	test_expect_success "never" "true"
	test_done
	EOF
	echo 1 >expect.rc &&
	test_cmp expect.rc sub/outside.rc &&
	test_must_be_empty sub/outside.out &&
	grep "^error: bug in the test script: test_when_finished outside a test" sub/outside.err &&
	test_grep ! FATAL sub/outside.err
'

test_expect_success 'test_when_finished works here too' '
	test_when_finished "rm -f here" &&
	echo x >here
'

test_expect_success 'and its cleanup ran' '
	test_path_is_missing here
'

test_expect_success 'test_must_fail accepts exit 1 to 125' '
	test_must_fail sh -c "exit 1" &&
	test_must_fail sh -c "exit 100" &&
	test_must_fail sh -c "exit 111" &&
	test_must_fail sh -c "exit 125" &&
	test_must_fail false
'

test_expect_success 'test_must_fail refuses success, 126, 127, 128 and signals' '
	! test_must_fail true 2>err &&
	grep "^test_must_fail: command succeeded: true$" err &&
	! test_must_fail sh -c "exit 126" 2>err &&
	grep "exit 126 (not executable, or a sanitizer error)" err &&
	! test_must_fail no-such-command-anywhere 2>err &&
	grep "^test_must_fail: command not found: no-such-command-anywhere$" err &&
	! test_must_fail sh -c "exit 128" 2>err &&
	grep "^test_must_fail: exit 128: " err &&
	! test_must_fail sh -c "kill -TERM \$\$" 2>err &&
	grep "^test_must_fail: died of signal 15: " err &&
	! test_must_fail sh -c "kill -KILL \$\$" 2>err &&
	grep "^test_must_fail: died of signal 9: " err
'

test_expect_success 'sanitizer errors exit 126' '
	case $ASAN_OPTIONS in exitcode=126*) ;; *) false ;; esac &&
	case $UBSAN_OPTIONS in exitcode=126*) ;; *) false ;; esac &&
	case $LSAN_OPTIONS in exitcode=126*) ;; *) false ;; esac
'

test_expect_success 'test_expect_code wants the exact code' '
	test_expect_code 0 true &&
	test_expect_code 1 false &&
	test_expect_code 100 sh -c "exit 100" &&
	test_expect_code 111 sh -c "exit 111" &&
	test_expect_code 143 sh -c "kill -TERM \$\$" &&
	! test_expect_code 1 sh -c "exit 100" 2>err &&
	grep "^test_expect_code: exit 100, want 1: sh -c exit 100$" err &&
	! test_expect_code 100 true 2>err &&
	grep "^test_expect_code: exit 0, want 100: true$" err &&
	! test_expect_code 111 sh -c "exit 100" 2>err &&
	! test_expect_code 0 false 2>err
'

nested () {
	test_expect_code 3 sh -c "exit 3" && return 7
}

test_expect_success 'test_expect_code nests' '
	test_expect_code 7 nested &&
	! test_expect_code 3 nested 2>err &&
	grep "exit 7, want 3: nested" err
'

test_expect_success 'test_cmp shows the difference' '
	printf "a\nb\n" >one &&
	printf "a\nc\n" >two &&
	test_cmp one one &&
	! test_cmp one two >diff &&
	grep "^-b$" diff &&
	grep "^+c$" diff &&
	! test_cmp one missing 2>/dev/null
'

test_expect_success 'test_seq' '
	test_seq 3 >actual &&
	printf "1\n2\n3\n" >expect &&
	test_cmp expect actual &&
	test_seq 9 11 >actual &&
	printf "9\n10\n11\n" >expect &&
	test_cmp expect actual &&
	test_seq 5 4 >actual &&
	test_must_be_empty actual
'

test_expect_success 'test_line_count' '
	test_seq 3 >three &&
	test_line_count = 3 three &&
	test_line_count -gt 2 three &&
	test_line_count -lt 4 three &&
	! test_line_count = 2 three 2>err &&
	grep "^test_line_count: three has 3 lines, want = 2:" err &&
	grep "^| 3$" err &&
	! test_line_count = 0 nofile 2>err &&
	grep "no file nofile" err &&
	: >empty &&
	test_line_count = 0 empty
'

test_expect_success 'test_path_is_file, _dir, _missing, test_must_be_empty' '
	echo x >file && mkdir -p dir && : >empty &&
	test_path_is_file file &&
	! test_path_is_file dir 2>err && grep "not a file: dir" err &&
	! test_path_is_file nothing 2>/dev/null &&
	test_path_is_dir dir &&
	! test_path_is_dir file 2>/dev/null &&
	test_path_is_missing nothing &&
	test_path_is_missing nothing nothing-else "nothing*" &&
	! test_path_is_missing nothing file 2>err && grep "exists: file" err &&
	ln -s nowhere dangling &&
	! test_path_is_missing dangling 2>/dev/null &&
	test_must_be_empty empty &&
	! test_must_be_empty file 2>err &&
	grep "^| x$" err &&
	! test_must_be_empty nothing 2>/dev/null
'

test_lazy_prereq LAZY_YES '
	echo run >>"$TRASH_DIRECTORY/lazy-runs" &&
	test "$(pwd)" != "$TRASH_DIRECTORY"
'
test_lazy_prereq LAZY_NO 'false'

test_expect_success 'prerequisites: set, lists, negation, lazy' '
	test_set_prereq FOO &&
	test_have_prereq FOO &&
	! test_have_prereq BAR &&
	test_have_prereq !BAR &&
	test_have_prereq FOO,!BAR &&
	! test_have_prereq FOO,BAR &&
	test "$test_missing_prereq_" = BAR &&
	! test_have_prereq !FOO &&
	test_have_prereq PERL &&
	test_have_prereq LAZY_YES &&
	test_have_prereq LAZY_YES,!LAZY_NO &&
	! test_have_prereq LAZY_NO &&
	echo run >expect &&
	test_cmp expect lazy-runs
'

test_expect_success FOO 'a prerequisite set in a test holds later' '
	true
'

test_expect_success 'write_script' '
	write_script hello <<-\EOF &&
	echo "hello $1"
	EOF
	./hello world >actual &&
	echo "hello world" >expect &&
	test_cmp expect actual
'

test_expect_success 'free_port gives distinct free ports below 32768' '
	p1=$(free_port) &&
	p2=$(free_port) &&
	test "$p1" -ge 20000 && test "$p1" -lt 32768 &&
	test "$p2" -ge 20000 && test "$p2" -lt 32768 &&
	test "$p1" != "$p2" &&
	perl -MIO::Socket::INET -e "
		IO::Socket::INET->new(LocalAddr => q(127.0.0.1),
		    LocalPort => \$ARGV[0], Listen => 1) or exit 1
	" "$p1"
'

test_expect_success 'start_daemon, wait_for_port, stop_daemon' '
	write_script greeter "$(command -v perl)" <<-\EOF &&
	use IO::Socket::INET;
	my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
	    LocalPort => $ARGV[0], Listen => 5, ReuseAddr => 1)
	    or die "listen: $!\n";
	print STDERR "listening\n";
	while (my $c = $s->accept) {
		print $c "hello from $$\n";
		close($c);
	}
	EOF
	port=$(free_port) &&
	start_daemon greeter ./greeter $port &&
	wait_for_port $port &&
	pid=$(cat greeter.pid) &&
	running $pid &&
	perl -MIO::Socket::INET -e "
		my \$c = IO::Socket::INET->new(q(127.0.0.1:) . \$ARGV[0])
		    or die;
		print scalar <\$c>;
	" $port >actual &&
	echo "hello from $pid" >expect &&
	test_cmp expect actual &&
	grep "^listening$" greeter.log &&
	stop_daemon greeter &&
	test_path_is_missing greeter.pid &&
	! running $pid &&
	test_must_fail wait_for_port $port 1 2>err &&
	grep "nothing listens on 127.0.0.1:$port after 1 s" err
'

test_expect_success 'wait_for_port gives up after its timeout' '
	port=$(free_port) &&
	t0=$(date +%s) &&
	test_must_fail wait_for_port $port 1 2>/dev/null &&
	t1=$(date +%s) &&
	test $((t1 - t0)) -le 3
'

test_expect_success 'wait_for_file' '
	(sleep 0.3 && echo x >later) &
	wait_for_file later 5 &&
	test_path_is_file later &&
	test_must_fail wait_for_file never 1 2>err &&
	grep "no never after 1 s" err
'

test_expect_success 'a daemon writes to the stdout its caller gave it' '
	start_daemon talker sh -c "echo line; exec sleep 100" >talked &&
	test_wait_until "test -s talked" &&
	echo line >expect &&
	test_cmp expect talked &&
	stop_daemon talker
'

test_expect_success 'stop_daemon fails when the daemon had died' '
	start_daemon quitter sh -c "trap \"\" TERM; echo bye >&2; exit 3" &&
	pid=$(cat quitter.pid) &&
	test_wait_until "! running $pid" &&
	! stop_daemon quitter 2>err &&
	grep "^stop_daemon: quitter (pid $pid) had already exited with 3$" err &&
	grep "^| bye$" err &&
	test_path_is_missing quitter.pid &&
	! stop_daemon quitter 2>err &&
	grep "no quitter.pid here" err
'

test_expect_success 'stop_daemon kills a daemon that ignores TERM' '
	start_daemon stubborn perl -e "
		\$SIG{TERM} = q(IGNORE);
		open(F, q(>ready)); close(F);
		sleep 100;
	" &&
	wait_for_file ready &&
	pid=$(cat stubborn.pid) &&
	! stop_daemon stubborn 2>err &&
	grep "^stop_daemon: stubborn (pid $pid) exited with 137$" err &&
	! running $pid
'

test_expect_success 'daemons die with their script, whatever ends it' '
	cat >daemons <<-\EOF &&
	test_expect_success "start" "
		start_daemon sleeper perl -e \"open(F, q(>up)); close(F); sleep 100\" &&
		wait_for_file up
	"
	test_expect_success "fail" "false"
	test_done
	EOF
	run_sub daemon-fail <daemons &&
	echo 1 >expect &&
	test_cmp expect sub/daemon-fail.rc &&
	pid=$(cat sub/trash.daemon-fail/sleeper.pid) &&
	! running $pid &&
	run_sub daemon-exit <<-\EOF &&
	test_expect_success "start, then exit" "
		start_daemon sleeper perl -e \"open(F, q(>up)); close(F); sleep 100\" &&
		wait_for_file up &&
		echo before-exit &&
		exit 3
	"
	test_done
	EOF
	echo 3 >expect &&
	test_cmp expect sub/daemon-exit.rc &&
	test_must_be_empty sub/daemon-exit.out &&
	grep "^# FATAL: unexpected exit with code 3 in test 1: start, then exit$" sub/daemon-exit.err &&
	grep "^# before-exit$" sub/daemon-exit.err &&
	pid=$(cat sub/trash.daemon-exit/sleeper.pid) &&
	! running $pid
'

test_expect_success 'test_grep: a match, none, and no file at all' '
	printf "alpha\nbeta\n" >file &&
	test_grep beta file >out &&
	test_grep ! gamma file &&
	! test_grep gamma file 2>err &&
	grep "found no match in" err &&
	grep "^| alpha$" err &&
	! test_grep ! beta file 2>err &&
	grep "found a match in" err &&
	! test_grep alpha nofile 2>err &&
	grep "no file nofile" err &&
	! test_grep ! alpha nofile 2>err &&
	grep "no file nofile" err
'

test_expect_success 'test_wait_until: a condition that comes true, one that does not' '
	(sleep 0.3 && echo x >later2) &
	test_wait_until "test -f later2" &&
	t0=$(date +%s) &&
	! test_wait_until "test -f never" 1 2>err &&
	t1=$(date +%s) &&
	test $((t1 - t0)) -le 5 &&
	grep "test_wait_until: .test -f never. still fails after 1 s" err
'

test_expect_success 'daemon_port: the port a daemon on port 0 reports' '
	write_script portzero "$(command -v perl)" <<-\EOF &&
	use IO::Socket::INET;
	my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1",
	    LocalPort => 0, Listen => 5) or die "listen: $!\n";
	$| = 1;
	print STDERR "portzero: listening on 127.0.0.1:", $s->sockport,
	    ", more words: 99\n";
	while (my $c = $s->accept) {
		print $c "hello\n";
		close($c);
	}
	EOF
	start_daemon pz ./portzero &&
	port=$(daemon_port pz) &&
	grep "listening on 127.0.0.1:$port, more" pz.log &&
	curl -sS telnet://127.0.0.1:$port </dev/null >out 2>/dev/null;
	echo hello >expect &&
	test_cmp expect out &&
	stop_daemon pz &&
	start_daemon early sh -c "echo early: no luck >&2; exit 3" &&
	! daemon_port early 2>err &&
	grep "early exited before it listened" err &&
	grep "^| early: no luck" err &&
	! stop_daemon early 2>/dev/null
'

test_expect_success 'test_usage_is_synopsis: the real usage, and a false one' '
	test_usage_is_synopsis maintlog &&
	mkdir fake &&
	write_script fake/maintlog <<-\EOF &&
	echo "usage: maintlog [-hv] [-d logdir] append"
	EOF
	! PATH=$PWD/fake:$PATH test_usage_is_synopsis maintlog 2>err &&
	write_script fake/gitmirror <<-\EOF &&
	exit 100
	EOF
	! PATH=$PWD/fake:$PATH test_usage_is_synopsis gitmirror 2>err &&
	grep "gitmirror -h exited 100" err
'

test_expect_success '--stress: runs until one fails, shows that run' '
	run_sub stress-pass --stress=2 --stress-limit=3 <<-\EOF &&
	test_expect_success "fine" "true"
	test_done
	EOF
	echo 0 >expect &&
	test_cmp expect sub/stress-pass.rc &&
	test_grep -c "^OK   job" sub/stress-pass.out >n &&
	echo 6 >expect &&
	test_cmp expect n &&
	test_grep "no run failed" sub/stress-pass.out &&
	test_path_is_missing sub/stress.stress-pass &&
	STRESS_COUNT=$PWD/count &&
	export STRESS_COUNT &&
	run_sub stress-fail --stress=2 --stress-limit=50 <<-\EOF &&
	test_expect_success "flaky" "
		n=\$(cat \"\$STRESS_COUNT\" 2>/dev/null || echo 0) &&
		echo \$((n + 1)) >\"\$STRESS_COUNT\" &&
		test \$n -lt 4
	"
	test_done
	EOF
	echo 1 >expect &&
	test_cmp expect sub/stress-fail.rc &&
	test_grep "^FAIL job [12] run" sub/stress-fail.out &&
	test_grep "failed; its output" sub/stress-fail.out &&
	test_grep "^not ok 1 - flaky" sub/stress-fail.out &&
	test_grep "^not ok 1 - flaky" sub/stress.stress-fail/failed.out &&
	test_path_is_dir sub/stress.stress-fail/1/trash.stress-fail ||
	test_path_is_dir sub/stress.stress-fail/2/trash.stress-fail
'

test_expect_success 'a sanitizer report in a daemon log fails the script' '
	run_sub sanitizer <<-\EOF &&
	test_expect_success "a daemon that reports" "
		start_daemon d sh -c \"echo ==42==ERROR: AddressSanitizer: heap-use-after-free >&2; exec sleep 600\" &&
		test_wait_until \"test -s d.log\"
	"
	test_done
	EOF
	echo 1 >expect.rc &&
	test_cmp expect.rc sub/sanitizer.rc &&
	test_grep "^ok 1 - a daemon that reports" sub/sanitizer.out &&
	test_grep "^not ok 2 - no sanitizer report in the logs of the daemons" \
	    sub/sanitizer.out &&
	test_grep "heap-use-after-free" sub/sanitizer.out &&
	test_grep "^1\.\.2$" sub/sanitizer.out &&
	# its kept trash holds the report, which this script would find
	rm -rf sub/trash.sanitizer
'

test_expect_success 'a clean daemon log passes' '
	run_sub clean <<-\EOF &&
	test_expect_success "a quiet daemon" "
		start_daemon d sh -c \"echo listening >&2; exec sleep 600\" &&
		test_wait_until \"test -s d.log\"
	"
	test_done
	EOF
	echo 0 >expect.rc &&
	test_cmp expect.rc sub/clean.rc &&
	test_grep "^1\.\.1$" sub/clean.out
'

test_done
