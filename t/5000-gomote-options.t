#!/bin/sh
test_description='gomote: usage, configuration, exit codes'
. ./test-lib.sh

test_expect_success 'gomote -h is the synopsis of gomote.1' '
	test_usage_is_synopsis gomote
'

test_expect_success 'bad usage: 100 with the usage' '
	test_expect_code 100 gomote 2>err &&
	grep "^usage: gomote" err &&
	test_expect_code 100 gomote frob 2>err &&
	grep "unknown command .frob." err &&
	test_expect_code 100 gomote run 2>err &&
	grep "^usage: gomote" err &&
	test_expect_code 100 gomote ls -x a@b:1 2>err &&
	grep "^usage: gomote" err &&
	test_expect_code 100 gomote -user 2>err &&
	grep "^usage: gomote" err &&
	test_expect_code 100 gomote put -mode 999 a@b:1 x 2>err &&
	grep "want octal" err &&
	test_expect_code 100 gomote run -e NOEQUALS a@b:1 true 2>err &&
	grep "want KEY=VALUE" err
'

test_expect_success 'a bad direct instance: 100' '
	test_expect_code 100 gomote ping @127.0.0.1:1 2>err &&
	grep "bad instance" err &&
	test_expect_code 100 gomote ping linux@ 2>err &&
	grep "bad instance" err
'

test_expect_success 'no token: 100, saying how to get one' '
	test_expect_code 100 gomote -user alice list 2>err &&
	cat >expect <<-EOF &&
	gomote: no token in $HOME/.config/gomote/user-alice.token: an admin of the farm makes one with '"'"'schedule key user-alice'"'"'; put it there
	EOF
	test_cmp expect err &&
	XDG_CONFIG_HOME=$PWD/xdg test_expect_code 100 gomote -user bob list \
	    2>err &&
	grep "no token in $PWD/xdg/gomote/user-bob.token" err
'

test_expect_success 'no coordinator: 100, saying where to set it' '
	mkdir -p .config/gomote &&
	echo secret >.config/gomote/user-alice.token &&
	test_expect_code 100 gomote -user alice list 2>err &&
	grep "no coordinator: set \$GOMOTE_COORDINATOR or write its URL in $HOME/.config/gomote/coordinator" err
'

test_expect_success 'the user file renames the user; the token stays the login'"'"'s' '
	echo gopher >.config/gomote/user-alice.user &&
	port=$(free_port) &&
	GOMOTE_COORDINATOR=http://127.0.0.1:$port \
	    test_expect_code 111 gomote -user alice list 2>err &&
	grep "coordinator: GET .http://127.0.0.1:$port/buildlet/list.: " err
'

test_expect_success 'nothing listening: 111 for every buildlet command' '
	port=$(free_port) &&
	i=linux@127.0.0.1:$port &&
	echo x >f &&
	for c in "ping $i" "ls $i" "rm $i x" "run $i /bin/true" \
	    "put $i f" "puttar $i f" "gettar $i" "push -dir . $i" \
	    "destroy $i"
	do
		test_expect_code 111 gomote $c 2>err </dev/null &&
		grep "^gomote: buildlet $i: " err || return 1
	done
'

test_done
