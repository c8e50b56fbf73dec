#!/bin/sh
test_description='schedule: bad config, bad logs, bad create commands'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"

# a config in bad/ made of the good one through sed EXPR
bad_config () {
	rm -rf bad && mkdir bad &&
	sed "$1" "$BUILDFARM_DIR/config" >bad/config
}

test_expect_success 'setup: upstream, mirror, a static buildlet' '
	new_upstream go &&
	start_buildlet bl1 && URL1=$url &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[repo "go"]
		upstream = file://$TRASH_DIRECTORY/up/go
		branch = master
	[hosttype "st"]
		pool = static
		buildlet = $URL1
	[hosttype "loc"]
		pool = command
		create = $TRASH_DIRECTORY/create %n
		destroy = $ENV_LOCAL/destroy %n
		max = 1
	[builder "fast"]
		hosttype = st
		repo = go
		run = echo built-fast
	EOF
	gitmirror sync >/dev/null
'

test_expect_success 'a buildlet URL that is not HTTP: exit 100, one line' '
	bad_config "s|buildlet = .*|buildlet = ftp://127.0.0.1:1|" &&
	test_expect_code 100 schedule -d bad serve -l 127.0.0.1:0 2>err &&
	test_line_count = 1 err &&
	test_grep "bad/config" err &&
	test_grep "buildlet" err &&
	test_expect_code 100 schedule -d bad find 2>err &&
	test_line_count = 1 err &&
	test_grep "bad/config" err
'

test_expect_success 'an unknown host type: exit 100, one line' '
	bad_config "s/hosttype = st/hosttype = nowhere/" &&
	test_expect_code 100 schedule -d bad serve -l 127.0.0.1:0 2>err &&
	test_line_count = 1 err &&
	test_grep "bad/config.*builder \"fast\": hosttype .nowhere. is not defined" err
'

test_expect_success 'a repo missing from the config: exit 100, one line' '
	bad_config "s/repo = go/repo = nosuch/" &&
	test_expect_code 100 schedule -d bad serve -l 127.0.0.1:0 2>err &&
	test_line_count = 1 err &&
	test_grep "bad/config.*builder \"fast\".*nosuch" err &&
	test_expect_code 100 schedule add nosuch \
	    $(git -C up/go rev-parse master) fast 2>err &&
	test_line_count = 1 err &&
	test_grep "nosuch" err
'

test_expect_success 'a create command that prints garbage: retried, shown' '
	write_script create <<-EOF &&
	if test -e $TRASH_DIRECTORY/create-ok
	then
		exec $ENV_LOCAL/create "\$@"
	fi
	echo run >>$TRASH_DIRECTORY/create-runs
	echo "this is not a URL"
	EOF
	cat >>"$BUILDFARM_DIR/config" <<-EOF &&
	[builder "cmd"]
		hosttype = loc
		repo = go
		run = echo on-a-local-machine
	EOF
	start_daemon serve schedule serve -l 127.0.0.1:0 &&
	daemon_port serve >/dev/null &&
	test_wait_until "test \$(nresults fast) = 1" &&
	test_wait_until "test \$(wc -l <create-runs) -ge 2" &&
	test_wait_until "grep \"retry in 2 s\" serve.log" &&
	grep "create" serve.log >created &&
	test_grep "config.*hosttype \"loc\" create: printed .this is not a URL. for loc-1" created &&
	test_grep "retry in 1 s" created &&
	test_grep "retry in 2 s" created &&
	curl -sSf "$(addr)/status.json" >status.json &&
	test_grep "this is not a URL" status.json &&
	curl -sSf "$(addr)/" >page &&
	test_grep "this is not a URL" page &&
	test_path_is_file serve.pid && kill -0 $(cat serve.pid) &&
	: >create-ok &&
	test_wait_until "test \$(nresults cmd) = 1"
'

test_expect_success 'a torn results log, a corpus repo not in the config' '
	seg=$(ls "$BUILDFARM_DIR"/results/*.jsonl | tail -n 1) &&
	printf "{\"seq\":99,\"type\":\"res" >>"$seg" &&
	echo "{\"repo\":\"gone\",\"branch\":\"master\",\"commit\":\"$(test_seq 1 40 | sed "s/.*/a/" | tr -d "\n")\"}" |
	maintlog -d "$BUILDFARM_DIR/corpus" append -t git >/dev/null &&
	commit_n up/go 1 &&
	gitmirror sync >/dev/null &&
	test_wait_until "test \$(nresults fast) = 2" &&
	test_wait_until "test \$(nresults cmd) = 2" &&
	test_wait_until "test -z \"\$(ls \"\$BUILDFARM_DIR/spool/work/cur\")\"" &&
	! grep "results" serve.log
'

test_expect_success 'a garbage line in the results log: said once, no loss' '
	seg=$(ls "$BUILDFARM_DIR"/results/*.jsonl | tail -n 1) &&
	cp "$seg" results.saved &&
	printf "this is garbage\n" >>"$seg" &&
	commit_n up/go 1 d &&
	R3=$(git -C up/go rev-parse master) &&
	gitmirror sync >/dev/null &&
	test_wait_until "grep \"results\" serve.log" &&
	grep "results" serve.log >said &&
	test_line_count = 1 said &&
	test_grep "schedule: .*results" said &&
	schedule status -j >lines &&
	test_grep "^{\"type\":\"error\",\"error\":\"log .*results.* line 5" lines &&
	curl -sSf "$(addr)/" >page &&
	test_grep "no build starts:</b> log .*results" page &&
	schedule status >text &&
	test_grep "^no build starts: log .*results" text &&
	kill -0 $(cat serve.pid) &&
	schedule add go $R3 fast &&
	test $(nresults fast) = 2 &&
	{
		grep -v "this is garbage" "$seg" >fixed || :
	} &&
	# the garbage is the last line: cut it off in one truncate, so the
	# daemon never reads the segment empty, as "cat fixed >seg" let it
	n=$(wc -c <fixed) &&
	cmp -n "$n" fixed "$seg" &&
	chmod u+w "$seg" && truncate -s "$n" "$seg" &&
	test_wait_until "test \$(nresults fast) = 3" &&
	test_grep "can be read again" serve.log &&
	grep "invalid token" serve.log >said &&
	test_line_count = 1 said &&
	grep "\"rev\":\"$R3\"" "$BUILDFARM_DIR"/results/*.jsonl |
	    grep "\"builder\":\"fast\"" >r3 &&
	test_line_count = 1 r3 &&
	test_grep "\"kind\":\"manual\"" r3
'

test_expect_success 'stop' '
	stop_daemon serve &&
	for f in $(ls "$BUILDFARM_DIR/state/schedule/machines")
	do
		"$ENV_LOCAL/destroy" "$f" || return 1
	done
'

test_done
