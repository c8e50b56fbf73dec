#!/bin/sh
test_description='gomote through schedule serve: create, use, destroy'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-schedule.sh"
. "$TEST_DIRECTORY/helper/lib-gomote.sh"

# Until schedule serve has the gomote API (/buildlet/create, /list and
# X-Buildlet-Proxy) every test but the setup is skipped (COORD).

test_expect_success 'setup: schedule serve with a static buildlet' '
	start_buildlet bl &&
	cat >"$BUILDFARM_DIR/config" <<-EOF &&
	[hosttype "st"]
		pool = static
		buildlet = $url
	[hosttype "cmd"]
		pool = command
		create = $ENV_LOCAL/create %n
		destroy = $ENV_LOCAL/destroy %n
	[builder "linux-st"]
		hosttype = st
		env = GOFLAGS=-short
	[builder "windows-cmd"]
		hosttype = cmd
	[builder "linux-st-race"]
		hosttype = st
		env = GO_RACE=1
		env = GOFLAGS=-race
	EOF
	start_daemon serve schedule serve -l 127.0.0.1:0 &&
	daemon_port serve >/dev/null &&
	gomote_user alice &&
	gomote_user bob &&
	GOMOTE_COORDINATOR=$(addr) &&
	export GOMOTE_COORDINATOR
'

test_expect_success COORD 'create without a builder: the builders, host types' '
	gomote -user alice create >out &&
	printf "linux-st\tst\nlinux-st-race\tst\nwindows-cmd\tcmd\n" >expect &&
	test_cmp expect out &&
	test_expect_code 100 gomote -user alice create linux-st windows-cmd \
	    2>err &&
	grep "^usage: gomote" err
'

test_expect_success COORD 'create: the instance'"'"'s name on stdout; the exact name wins' '
	gomote -user alice create linux-st >name &&
	echo user-alice-linux-st-0 >expect &&
	test_cmp expect name
'

test_expect_success COORD 'create: an ambiguous prefix is 100, naming the builders' '
	test_expect_code 100 gomote -user alice create linux >out 2>err &&
	test_must_be_empty out &&
	echo "gomote: builder '"'"'linux'"'"' is ambiguous: linux-st, linux-st-race" \
	    >expect &&
	test_cmp expect err
'

test_expect_success COORD 'list: name, builder, host type, expiry; -j' '
	gomote -user alice list >out &&
	grep "^user-alice-linux-st-0	linux-st	st	expires in [0-9][0-9]*[smh]$" out &&
	gomote -user alice list -j >out &&
	grep "^{.*\"Name\": *\"user-alice-linux-st-0\"" out &&
	gomote -user bob list >out &&
	test_must_be_empty out
'

test_expect_success COORD 'run through the proxy: output, exit code, builder env' '
	i=user-alice-linux-st-0 &&
	test_expect_code 3 gomote -user alice run $i /bin/sh -c \
	    "echo \$GO_BUILDER_NAME; exit 3" >out &&
	echo linux-st >expect &&
	test_cmp expect out &&
	test_expect_code 137 gomote -user alice run $i /bin/sh -c "kill -9 \$\$"
'

test_expect_success COORD 'run -builderenv: that builder'"'"'s env, GO_BUILDER_NAME, then -e' '
	i=user-alice-linux-st-0 &&
	cmd="echo \$GO_BUILDER_NAME \$GO_RACE \$GOFLAGS" &&
	gomote -user alice run -builderenv linux-st-race $i /bin/sh -c "$cmd" \
	    >out &&
	echo "linux-st-race 1 -race" >expect &&
	test_cmp expect out &&
	gomote -user alice run -builderenv linux-st-race -e GOFLAGS=-v $i \
	    /bin/sh -c "$cmd" >out &&
	echo "linux-st-race 1 -v" >expect &&
	test_cmp expect out &&
	gomote -user alice run -builderenv linux-st $i /bin/sh -c "$cmd" >out &&
	echo "linux-st -short" >expect &&
	test_cmp expect out &&
	gomote -user alice run $i /bin/sh -c "$cmd" >out &&
	echo "linux-st" >expect &&
	test_cmp expect out
'

test_expect_success COORD 'run -builderenv: another host type or no such builder: 100' '
	i=user-alice-linux-st-0 &&
	test_expect_code 100 gomote -user alice run -builderenv windows-cmd \
	    $i /bin/true 2>err &&
	echo "gomote: -builderenv windows-cmd: host type cmd, but $i is of host type st" \
	    >expect &&
	test_cmp expect err &&
	test_expect_code 100 gomote -user alice run -builderenv linux-st-r \
	    $i /bin/true 2>err &&
	echo "gomote: no builder '"'"'linux-st-r'"'"' on the coordinator" >expect &&
	test_cmp expect err
'

test_expect_success COORD 'run -builderenv in direct mode: GO_BUILDER_NAME only, no coordinator' '
	GOMOTE_COORDINATOR=http://127.0.0.1:1 gomote run \
	    -builderenv linux-st-race linux-st@127.0.0.1:$port /bin/sh -c \
	    "echo \$GO_BUILDER_NAME \$GO_RACE" >out &&
	echo linux-st-race >expect &&
	test_cmp expect out
'

test_expect_success COORD 'put, puttar, ls, gettar, push, rm through the proxy' '
	i=user-alice-linux-st-0 &&
	echo f >f &&
	gomote -user alice put $i f &&
	test_cmp f "$wd/f" &&
	mkdir -p tree/d && echo t >tree/d/t &&
	tar -C tree -czf t.tgz d &&
	gomote -user alice puttar -dir pt $i t.tgz &&
	test_cmp tree/d/t "$wd/pt/d/t" &&
	gomote -user alice ls -R $i pt >out &&
	grep "	d/t	2	" out &&
	gomote -user alice gettar -dir pt $i | tar -tzf - >out &&
	grep "^d/t$" out &&
	gomote -user alice push -dir tree -dest pushed $i &&
	test_cmp tree/d/t "$wd/pushed/d/t" &&
	gomote -user alice rm $i pt pushed f &&
	test_path_is_missing "$wd/pt"
'

test_expect_success COORD 'another user'"'"'s token cannot touch it: 100' '
	test_expect_code 100 gomote -user bob run user-alice-linux-st-0 \
	    /bin/true 2>err &&
	grep "401" err
'

test_expect_success COORD 'a wrong token: 100, saying so' '
	echo 00 >"$HOME/.config/gomote/user-carol.token" &&
	test_expect_code 100 gomote -user carol list 2>err &&
	grep "401.*(is the token of user-carol right?)" err
'

test_expect_success COORD 'an unknown builder: 100' '
	test_expect_code 100 gomote -user alice create nope 2>err &&
	echo "gomote: no builder '"'"'nope'"'"' on the coordinator" >expect &&
	test_cmp expect err
'

test_expect_success COORD 'create -hold of a result with no machine held: 100' '
	h=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef &&
	test_expect_code 100 gomote -user alice create -hold $h 2>err &&
	grep "no machine is held for that result" err
'

test_expect_success COORD 'destroy; then the instance is said to be gone' '
	gomote -user alice destroy user-alice-linux-st-0 &&
	test_expect_code 100 gomote -user alice ping user-alice-linux-st-0 \
	    2>err &&
	grep "instance user-alice-linux-st-0 does not exist: it expired or was destroyed" err &&
	gomote -user alice list >out &&
	test_must_be_empty out
'

test_expect_success COORD 'create: a unique prefix' '
	gomote -user alice create linux-st-r >name &&
	echo user-alice-linux-st-race-0 >expect &&
	test_cmp expect name &&
	gomote -user alice destroy user-alice-linux-st-race-0
'

test_expect_success COORD 'create waits for a busy machine, telling so' '
	gomote -user alice create linux-st >name &&
	start_daemon bobcreate gomote -user bob create linux-st >bob.name &&
	test_wait_until "grep \"^gomote: create: waiting\" bobcreate.log" &&
	test_must_be_empty bob.name &&
	gomote -user alice destroy "$(cat name)" &&
	test_wait_until "test -s bob.name" &&
	echo user-bob-linux-st-0 >expect &&
	test_cmp expect bob.name &&
	gomote -user bob destroy user-bob-linux-st-0
'

test_expect_success 'stop' '
	stop_daemon serve &&
	stop_daemon bl
'

test_done
