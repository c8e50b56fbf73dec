#!/bin/sh
test_description='retrybuilds: a retracted failure is built again by schedule serve'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gitmirror.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"

test_expect_success 'setup: upstream, mirror, a local buildlet pool' '
	new_upstream go &&
	R1=$(git -C up/go rev-parse master) &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[repo "go"]
		upstream = file://$TRASH_DIRECTORY/up/go
		branch = master
	[hosttype "loc"]
		pool = command
		create = $ENV_LOCAL/create %n
		destroy = $ENV_LOCAL/destroy %n
		max = 1
	[builder "disk"]
		hosttype = loc
		repo = go
		run = "if test -e $TRASH_DIRECTORY/space; then echo built; else echo No space left on device; exit 1; fi"
	EOF
	gitmirror sync >/dev/null
'

test_expect_success 'the first build fails, and is not built again' '
	start_daemon serve schedule serve -l 127.0.0.1:0 &&
	test_wait_until "test \$(nresults disk) = 1" &&
	results disk >out &&
	echo "disk $R1 failed" >want &&
	test_cmp want out &&
	test_expect_code 1 schedule find >work &&
	test_must_be_empty work
'

test_expect_success 'retrybuilds -redo-flaky retracts it; schedule builds it again' '
	: >space &&
	retrybuilds -redo-flaky >out &&
	echo "go $R1 disk flaky: No space left on device" >want &&
	test_cmp want out &&
	test_wait_until "test \$(nresults disk) = 2" &&
	results disk >out &&
	printf "disk %s failed\ndisk %s ok\n" $R1 $R1 >want &&
	test_cmp want out &&
	test_expect_code 1 retrybuilds -redo-flaky >out &&
	test_must_be_empty out
'

test_expect_success 'stop: the daemon and its machines' '
	stop_daemon serve &&
	for f in $(ls "$BUILDFARM_DIR/state/schedule/machines")
	do
		"$ENV_LOCAL/destroy" "$f" || return 1
	done &&
	test_wait_until "! pgrep -f \"$TRASH_DIRECTORY\"" &&
	! pgrep -af "$TRASH_DIRECTORY"
'

test_done
