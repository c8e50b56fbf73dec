#!/bin/sh
test_description='scripts/farm-up and farm-down: the daemons of a farm, supervised'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"

UP=$BUILDFARM_TOP/scripts/farm-up
DOWN=$BUILDFARM_TOP/scripts/farm-down

# pid_of PATTERN: the pid of the process whose command line contains
# PATTERN and this farm's directory
pid_of () {
	ps -eo pid=,args= | grep -F -- "$1" | grep -v "grep -F" |
	    awk '{ print $1; exit }'
}

test_expect_success 'setup: an upstream and a config' '
	new_upstream go &&
	R1=$(git -C up/go rev-parse master) &&
	gport=$(free_port) && mport=$(free_port) && sport=$(free_port) &&
	cat >farm.conf <<-EOF
	[farm]
		source = http://127.0.0.1:$gport
	[repo "go"]
		upstream = file://$TRASH_DIRECTORY/up/go
		branch = master
	[hosttype "loc"]
		pool = command
		create = $ENV_LOCAL/create %n
		destroy = $ENV_LOCAL/destroy %n
	[builder "echo"]
		hosttype = loc
		repo = go
		run = "echo built \$(cat c-1.txt 2>/dev/null || echo first-1.txt)"
	EOF
	rmdir "$BUILDFARM_DIR"
'

test_expect_success '-h, bad usage, -n prints the commands' '
	"$UP" -h >out &&
	test_grep "^usage: farm-up \[-hn\]" out &&
	"$DOWN" -h >out &&
	test_grep "^usage: farm-down \[-h\] \[-d dir\]$" out &&
	test_expect_code 100 "$UP" 2>err &&
	test_expect_code 100 "$UP" -i x farm.conf 2>err &&
	test_expect_code 100 "$UP" no-such.conf 2>err &&
	"$UP" -n -g 127.0.0.1:$gport -m 127.0.0.1:$mport \
	    -s 127.0.0.1:$sport farm.conf >cmds &&
	cat >expect <<-EOF &&
	BUILDFARM_DIR=$BUILDFARM_DIR
	gitmirror serve -l 127.0.0.1:$gport
	sh -c '"'"'while :; do gitmirror sync >/dev/null; [ \$? != 100 ] || exit 100; sleep 60; done'"'"'
	maintlog serve -l 127.0.0.1:$mport
	schedule serve -l 127.0.0.1:$sport
	EOF
	test_cmp expect cmds &&
	test_cmp farm.conf "$BUILDFARM_DIR/config"
'

test_expect_success 'a config that differs from the farm one is refused' '
	sed "s/run = .*/run = true/" farm.conf >other.conf &&
	test_expect_code 100 "$UP" other.conf 2>err &&
	test_grep "differs from" err
'

test_expect_success 'farm-up: the farm builds the commit' '
	start_daemon up "$UP" -i 1 -g 127.0.0.1:$gport -m 127.0.0.1:$mport \
	    -s 127.0.0.1:$sport farm.conf &&
	test_wait_until "test \$(nresults echo) = 1" &&
	results >out && echo "echo $R1 ok" >expect && test_cmp expect out &&
	test_path_is_file "$BUILDFARM_DIR/keys/master" &&
	curl -sSf "http://127.0.0.1:$mport/logs" >index &&
	curl -sSf "http://127.0.0.1:$sport/status.json" >status &&
	test_expect_code 111 "$UP" farm.conf 2>err &&
	test_grep "already running" err
'

test_expect_success 'a daemon that dies is started again' '
	old=$(pid_of "maintlog serve -l 127.0.0.1:$mport") &&
	test -n "$old" &&
	kill -9 "$old" &&
	test_wait_until "new=\$(pid_of \"maintlog serve -l 127.0.0.1:$mport\") &&
	    test -n \"\$new\" && test \$new != $old" &&
	test_wait_until "curl -sSf http://127.0.0.1:$mport/logs" &&
	test_grep "farm-up: .maintlog serve -l 127.0.0.1:$mport. exited 137" up.log
'

test_expect_success 'a new commit is mirrored by the loop and built' '
	commit_n up/go 1 &&
	R2=$(git -C up/go rev-parse master) &&
	test_wait_until "test \$(nresults echo) = 2" &&
	results >out &&
	printf "echo %s ok\necho %s ok\n" $R1 $R2 | sort >expect &&
	test_cmp expect out
'

test_expect_success 'farm-down stops it all; then there is nothing to stop' '
	"$DOWN" &&
	test_path_is_missing "$BUILDFARM_DIR/state/farm-up/pid" &&
	test_wait_until "! kill -0 $(cat up.pid)" &&
	ps -eo args >ps &&
	test_grep ! -e "serve -l 127.0.0.1:$sport" -e "serve -l 127.0.0.1:$mport" \
	    -e "serve -l 127.0.0.1:$gport" -e "exit 100; sleep 1; done" ps &&
	test_expect_code 1 "$DOWN" 2>err &&
	test_grep "not running" err &&
	"$ENV_LOCAL/destroy" loc-1
'

test_expect_success 'a bad config: exit 100 before anything starts' '
	mkdir bad &&
	sed "s/hosttype = loc/hosttype = nowhere/" farm.conf >bad.conf &&
	test_expect_code 100 "$UP" -d bad bad.conf 2>err &&
	test_grep "nowhere" err &&
	test_path_is_missing bad/state/farm-up/pid
'

test_done
