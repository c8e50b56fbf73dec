#!/bin/sh
test_description='gomote in direct mode against the original buildlet'"'"'s wire format'
. ./test-lib.sh

test_expect_success 'setup: the fixture buildlet' '
	mkdir fx &&
	start_daemon fx fixture-buildlet "$PWD/fx" pw >fx.port &&
	test_wait_until "test -s fx.port" &&
	inst=linux-amd64@127.0.0.1:$(cat fx.port) &&
	BUILDLET_PASSWORD=pw &&
	export BUILDLET_PASSWORD
'

test_expect_success 'run: chunks as they come, "exit status 3" is 3' '
	test_expect_code 3 gomote run $inst tick >out &&
	printf "tick 1\ntick 2\n" >expect &&
	test_cmp expect out &&
	gomote run $inst ok &&
	test_expect_code 137 gomote run $inst killed &&
	test_expect_code 127 gomote run $inst nonexist 2>err &&
	grep "^gomote: nonexist: fork/exec /workdir/nonexist: no such file or directory$" err
'

test_expect_success 'run: the form the original client sent' '
	gomote run -e A=1 $inst ok &&
	grep "^POST /exec" fx/requests.log &&
	grep "cmd=ok&debug=false&dir=&env=GO_BUILDER_NAME%3Dlinux-amd64&env=A%3D1&mode=" \
	    fx/requests.log
'

test_expect_success 'run: no trailer or a cut stream is 111' '
	test_expect_code 111 gomote run $inst old 2>err &&
	grep "Process-State" err &&
	test_expect_code 111 gomote run $inst cut >out 2>err &&
	echo "tick 1" >expect &&
	test_cmp expect out
'

test_expect_success 'ls: the original'"'"'s lines, a missing dir is 111' '
	gomote ls -R -d $inst >out &&
	cat >expect <<-\EOF &&
	drwxr-xr-x	src/
	-rw-r--r--	src/all.bash	4096	2017-07-22T18:04:05Z	3da541559918a808c2402bba5012f6c60b27661c
	Lrwxrwxrwx	src/link
	EOF
	test_cmp expect out &&
	test_expect_code 111 gomote ls $inst missing 2>err &&
	grep "Walk error: lstat /workdir/missing" err
'

test_expect_success 'ping, put, puttar, gettar, rm, destroy' '
	gomote ping $inst &&
	echo x >f &&
	gomote put $inst f &&
	gomote puttar $inst f &&
	grep "^chunked" fx/requests.log &&
	gomote gettar $inst >g.tgz &&
	gzip -t g.tgz &&
	test_expect_code 111 gomote gettar -dir missing $inst >/dev/null &&
	gomote rm $inst a b &&
	gomote destroy $inst &&
	grep "^POST /halt" fx/requests.log
'

test_expect_success 'a wrong password: 100' '
	BUILDLET_PASSWORD=no test_expect_code 100 gomote ping $inst 2>err &&
	grep "invalid password" err
'

test_expect_success 'stop' '
	stop_daemon fx
'

test_done
