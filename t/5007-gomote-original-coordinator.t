#!/bin/sh
test_description='gomote against the original coordinator'"'"'s answers'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-gomote.sh"

test_expect_success 'setup: the fixture coordinator, a token' '
	start_daemon fc fixture-coordinator alice sekrit 1 >fc.port &&
	test_wait_until "test -s fc.port" &&
	GOMOTE_COORDINATOR=http://127.0.0.1:$(cat fc.port) &&
	export GOMOTE_COORDINATOR &&
	mkdir -p .config/gomote &&
	echo sekrit >.config/gomote/user-alice.token
'

test_expect_success 'create: one indented object, after a silence' '
	gomote -user alice create linux-amd64 >out 2>err &&
	echo user-alice-linux-amd64-0 >expect &&
	test_cmp expect out &&
	test_must_be_empty err
'

test_expect_success 'list: an empty array is no lines' '
	gomote -user alice list >out &&
	test_must_be_empty out
'

test_expect_success 'an expired instance is said to be gone: 100' '
	test_expect_code 100 gomote -user alice run user-alice-linux-amd64-0 \
	    /bin/true 2>err &&
	grep "^gomote: instance user-alice-linux-amd64-0 does not exist: it expired or was destroyed" err
'

test_expect_success 'no /buildlet/builders: create needs a builder, -builderenv only names it' '
	test_expect_code 100 gomote -user alice create 2>err &&
	grep "^usage: gomote" err &&
	test_expect_code 100 gomote -user alice run -builderenv linux-386 \
	    user-alice-linux-amd64-0 /bin/true 2>err &&
	grep "^gomote: the coordinator names no builders: -builderenv linux-386 sets GO_BUILDER_NAME alone$" err
'

test_expect_success 'a wrong token: 100' '
	echo wrong >.config/gomote/user-alice.token &&
	test_expect_code 100 gomote -user alice list 2>err &&
	grep "401: bad username or password (is the token of user-alice right?)" err
'

test_expect_success 'stop' '
	stop_daemon fc
'

test_done
