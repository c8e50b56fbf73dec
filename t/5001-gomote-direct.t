#!/bin/sh
test_description='gomote in direct mode against a real buildlet'
. ./test-lib.sh
. "$TEST_DIRECTORY/helper/lib-buildlet.sh"
. "$TEST_DIRECTORY/helper/lib-gomote.sh"

test_expect_success 'setup: a buildlet with a password' '
	gomote_direct bl -halt-cmd "touch $PWD/halted"
'

test_expect_success 'ping: silent, 0; a wrong password: 100' '
	gomote ping $inst >out 2>err &&
	test_must_be_empty out &&
	test_must_be_empty err &&
	BUILDLET_PASSWORD=wrong test_expect_code 100 gomote ping $inst 2>err &&
	grep "403" err
'

test_expect_success 'run: output as produced, the remote exit code' '
	gomote run $inst /bin/sh -c "echo out; echo err >&2" >out 2>err &&
	printf "out\nerr\n" >expect &&
	test_cmp expect out &&
	test_must_be_empty err &&
	test_expect_code 3 gomote run $inst /bin/sh -c "echo three; exit 3" \
	    >out &&
	echo three >expect &&
	test_cmp expect out
'

test_expect_success 'run: a signal is 128+N' '
	test_expect_code 137 gomote run $inst /bin/sh -c "kill -9 \$\$" &&
	test_expect_code 143 gomote run $inst /bin/sh -c "kill -15 \$\$"
'

test_expect_success 'run: a command that cannot start is 127 and says why' '
	test_expect_code 127 gomote run $inst nosuchcmd 2>err &&
	grep "^gomote: nosuchcmd: fork/exec .*no such file or directory" err
'

test_expect_success 'run: GO_BUILDER_NAME, -e, -path, -dir, -debug, -builderenv' '
	mkdir -p "$wd/sub" &&
	gomote run -e A=1 -e GO_BUILDER_NAME=mine $inst /bin/sh -c \
	    "echo \$A \$GO_BUILDER_NAME" >out &&
	echo "1 mine" >expect &&
	test_cmp expect out &&
	gomote run $inst /usr/bin/env >out &&
	grep "^GO_BUILDER_NAME=linux-amd64$" out &&
	gomote run -builderenv other $inst /usr/bin/env >out &&
	grep "^GO_BUILDER_NAME=other$" out &&
	gomote run -path EMPTY $inst /usr/bin/env >out &&
	test_grep ! "^PATH=" out &&
	gomote run -path "/x,\$WORKDIR/bin" $inst /usr/bin/env >out &&
	grep "^PATH=/x:$wd/bin$" out &&
	gomote run -dir sub $inst /bin/pwd >out &&
	echo "$wd/sub" >expect &&
	test_cmp expect out &&
	gomote run -debug $inst /bin/true >out &&
	grep "^:: Running /bin/true with args" out
'

test_expect_success 'run -system: a relative command is looked up in PATH' '
	gomote run -system $inst echo sys >out &&
	echo sys >expect &&
	test_cmp expect out
'

test_expect_success 'put: a file, its mode, a destination; stdin wants a dest' '
	printf "hello\n" >f &&
	chmod 750 f &&
	gomote put $inst f &&
	test_cmp f "$wd/f" &&
	echo "-rwxr-x---" >expect &&
	stat -c %A "$wd/f" | sed "s/^-rwxr-x---.*/-rwxr-x---/" >actual &&
	test_cmp expect actual &&
	gomote put -mode 600 $inst f a/b/g &&
	test_cmp f "$wd/a/b/g" &&
	test "$(stat -c %a "$wd/a/b/g")" = 600 &&
	echo stdin | gomote put $inst - in &&
	echo stdin >expect &&
	test_cmp expect "$wd/in" &&
	test_expect_code 100 gomote put $inst - </dev/null 2>err &&
	grep "give dest" err &&
	test_expect_code 100 gomote put $inst nonexist 2>err &&
	grep "nonexist" err
'

test_expect_success 'puttar: a file, stdin, -dir, -url' '
	mkdir -p tree/d &&
	echo one >tree/one &&
	echo two >tree/d/two &&
	tar -C tree -czf t.tgz one d &&
	gomote puttar $inst t.tgz &&
	test_cmp tree/one "$wd/one" &&
	gomote puttar -dir pt $inst - <t.tgz &&
	test_cmp tree/d/two "$wd/pt/d/two" &&
	gomote puttar -dir pt2 $inst <t.tgz &&
	test_cmp tree/d/two "$wd/pt2/d/two" &&
	echo notgz >bad &&
	test_expect_code 100 gomote puttar $inst bad 2>err &&
	grep "400" err
'

test_expect_success 'gettar: the tree as a .tar.gz on stdout' '
	gomote gettar -dir pt $inst >got.tgz &&
	mkdir got &&
	tar -C got -xzf got.tgz &&
	test_cmp tree/d/two got/d/two &&
	test_expect_code 100 gomote gettar -dir ../x $inst >/dev/null 2>err
'

test_expect_success 'ls: the buildlet'"'"'s lines; -R, -d, -skip' '
	gomote ls $inst pt >out &&
	printf "drwxr-xr-x\td/\n" >expect &&
	grep -v "	one	" out >actual &&
	test_cmp expect actual &&
	gomote ls -R -d $inst pt >out &&
	sum=$(sha1sum <tree/d/two | cut -d" " -f1) &&
	grep "^-rw-r--r--	d/two	4	[-0-9T:]*Z	$sum$" out &&
	gomote ls -R -skip d $inst pt >out &&
	test_grep ! "d/two" out &&
	test_expect_code 111 gomote ls $inst nonexist 2>err &&
	grep "Walk error" err
'

test_expect_success 'rm: paths, recursively' '
	gomote rm $inst pt one &&
	test_path_is_missing "$wd/pt" &&
	test_path_is_missing "$wd/one" &&
	test_path_is_file "$wd/in" &&
	test_expect_code 100 gomote rm $inst /etc 2>err
'

test_expect_success 'destroy: POST /halt' '
	gomote destroy $inst &&
	test_wait_until "test -f halted" &&
	test_wait_until "! test_pid_alive_ $(cat bl.pid)"
'

test_done
